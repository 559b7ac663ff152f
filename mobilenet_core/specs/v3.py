"""MobileNetV3-Large and -Small: Howard et al., arXiv:1905.02244, Tables 1 and 2.

SE (squeeze width = expanded / 4, rounded to 8) and hard-swish in the later stages. The
expansion is written as a ratio of the block's input width (the paper's "exp size" / input),
so that it follows alpha: 200 / 80 = 2.5, 184 / 80 = 2.3, 88 / 24 = 3.67 (88.08 rounds to 88).
The stem stays at 16 below alpha 0.75; the head (1280 / 1024) never scales (timm's convention,
which its mobilenetv3_large_075 / small_050 / small_075 checkpoints need).
"""

from .blocks import Activation, Generation, Head, conv, ds, ir

RE, HS = Activation.RELU, Activation.HARD_SWISH

V3_LARGE = Generation(
    name="v3_large",
    title="MobileNetV3-Large",
    paper="arXiv:1905.02244",
    family="V3",
    year=2019,
    base_resolution=224,
    activation=HS,
    stem=conv(16, kernel=3, stride=2),  # 112 x 112
    stages=(
        (ds(16, activation=RE),),  # 112
        (ir(24, expand=4, stride=2, activation=RE), ir(24, expand=3, activation=RE)),  # 56
        (  # 28
            ir(40, expand=3, kernel=5, stride=2, se=True, activation=RE),
            *[ir(40, expand=3, kernel=5, se=True, activation=RE)] * 2,
        ),
        (ir(80, expand=6, stride=2), ir(80, expand=2.5), *[ir(80, expand=2.3)] * 2),  # 14
        tuple([ir(112, expand=6, se=True)] * 2),  # 14
        (ir(160, expand=6, kernel=5, stride=2, se=True), *[ir(160, expand=6, kernel=5, se=True)] * 2),  # 7
        (conv(960, kernel=1),),  # 7
    ),
    head=Head(features=1280, before_pool=False, norm=False, bias=True),
    stem_fixed_below=0.75,
    head_width_rule="fixed",
)

V3_SMALL = Generation(
    name="v3_small",
    title="MobileNetV3-Small",
    paper="arXiv:1905.02244",
    family="V3",
    year=2019,
    base_resolution=224,
    activation=HS,
    stem=conv(16, kernel=3, stride=2),  # 112 x 112
    stages=(
        (ds(16, stride=2, se=True, activation=RE),),  # 56
        (ir(24, expand=4.5, stride=2, activation=RE), ir(24, expand=3.67, activation=RE)),  # 28
        (ir(40, expand=4, kernel=5, stride=2, se=True), *[ir(40, expand=6, kernel=5, se=True)] * 2),  # 14
        tuple([ir(48, expand=3, kernel=5, se=True)] * 2),  # 14
        (ir(96, expand=6, kernel=5, stride=2, se=True), *[ir(96, expand=6, kernel=5, se=True)] * 2),  # 7
        (conv(576, kernel=1),),  # 7
    ),
    head=Head(features=1024, before_pool=False, norm=False, bias=True),
    stem_fixed_below=0.75,
    head_width_rule="fixed",
)
