"""MobileNetV1: Howard et al., "MobileNets", arXiv:1704.04861, Table 1.

Thirteen depthwise separable blocks (ReLU6 after both convs, no residuals), no head conv:
the pooled 1024 x alpha features go straight to the classifier. Stage layout follows timm,
whose published checkpoints (mobilenetv1_100, mobilenetv1_125) load into this model.
"""

from .blocks import Activation, Generation, Head, conv, ds


def _dsa(out: int, stride: int = 1):
    # V1's block: activation after the pointwise conv too, and never a residual.
    return ds(out, stride=stride, pointwise_activation=True, residual=False)


V1 = Generation(
    name="v1",
    title="MobileNetV1",
    paper="arXiv:1704.04861",
    family="V1",
    year=2017,
    base_resolution=224,
    activation=Activation.RELU6,
    stem=conv(32, kernel=3, stride=2),  # 112 x 112
    stages=(
        (_dsa(64),),  # 112
        (_dsa(128, stride=2), _dsa(128)),  # 56
        (_dsa(256, stride=2), _dsa(256)),  # 28
        (_dsa(512, stride=2), *[_dsa(512)] * 5),  # 14
        (_dsa(1024, stride=2), _dsa(1024)),  # 7 (the paper's table prints s2 on the last row; it is s1)
    ),
    head=Head(features=0),
    head_width_rule="none",
)
