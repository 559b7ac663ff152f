"""MobileNetV2: Sandler et al., arXiv:1801.04381, Table 2.

Inverted residuals with linear bottlenecks, ReLU6. Width rules follow timm (checkpoints at
alpha 0.35 ... 1.4): the stem scales, the 1280 head conv is kept at 1280 below alpha 1 (so
small models keep a rich final representation, paper Sec. 5.1) and scaled above it.
"""

from .blocks import Activation, Generation, Head, conv, ds, ir

V2 = Generation(
    name="v2",
    title="MobileNetV2",
    paper="arXiv:1801.04381",
    family="V2",
    year=2018,
    base_resolution=224,
    activation=Activation.RELU6,
    stem=conv(32, kernel=3, stride=2),  # 112 x 112
    stages=(
        (ds(16),),  # 112 (t = 1: no expansion conv)
        (ir(24, expand=6, stride=2), ir(24, expand=6)),  # 56
        (ir(32, expand=6, stride=2), *[ir(32, expand=6)] * 2),  # 28
        (ir(64, expand=6, stride=2), *[ir(64, expand=6)] * 3),  # 14
        tuple([ir(96, expand=6)] * 3),  # 14
        (ir(160, expand=6, stride=2), *[ir(160, expand=6)] * 2),  # 7
        (ir(320, expand=6),),  # 7
    ),
    head=Head(features=1280, before_pool=True),
    head_width_rule="at_least_base",
)
