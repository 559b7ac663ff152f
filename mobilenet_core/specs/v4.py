"""MobileNetV4: Qin et al., "MobileNetV4: Universal Models for the Mobile Ecosystem",
arXiv:2404.10518, Tables 11-15 (Conv-S/M/L, Hybrid-M/L).

Built from UIB blocks (ExtraDW / IB / ConvNeXt-like / FFN by their two optional depthwise
kernels), FusedIB, and in the hybrids Mobile MQA with layer scale. Every model ends with a
1x1 conv to 960, global pooling, a 1x1 conv to 1280 (no bias) + BN + act, and the classifier.
Width: the stem stays fixed below alpha 1, the 1280 head never scales (timm's convention; its
conv_small_035 / _050 checkpoints need it).
"""

from .blocks import Activation, Generation, Head, conv, fused_ib, mqa, uib

_HEAD = Head(features=1280, before_pool=False, norm=True, bias=False)

V4_CONV_SMALL = Generation(
    name="v4_conv_small",
    title="MobileNetV4-Conv-S",
    paper="arXiv:2404.10518",
    family="V4",
    year=2024,
    base_resolution=224,
    activation=Activation.RELU,
    stem=conv(32, kernel=3, stride=2),  # 112 x 112
    stages=(
        (conv(32, kernel=3, stride=2), conv(32, kernel=1)),  # 56
        (conv(96, kernel=3, stride=2), conv(64, kernel=1)),  # 28
        (  # 14
            uib(96, expand=3, start=5, mid=5, stride=2),  # ExtraDW
            *[uib(96, expand=2, mid=3)] * 4,  # IB
            uib(96, expand=4, start=3),  # ConvNeXt
        ),
        (  # 7
            uib(128, expand=6, start=3, mid=3, stride=2),  # ExtraDW
            uib(128, expand=4, start=5, mid=5),  # ExtraDW
            uib(128, expand=4, mid=5),  # IB
            uib(128, expand=3, mid=5),  # IB
            *[uib(128, expand=4, mid=3)] * 2,  # IB
        ),
        (conv(960, kernel=1),),  # 7
    ),
    head=_HEAD,
    stem_fixed_below=1.0,
)

V4_CONV_MEDIUM = Generation(
    name="v4_conv_medium",
    title="MobileNetV4-Conv-M",
    paper="arXiv:2404.10518",
    family="V4",
    year=2024,
    base_resolution=256,
    activation=Activation.RELU,
    stem=conv(32, kernel=3, stride=2),  # 128 x 128
    stages=(
        (fused_ib(48, expand=4, stride=2),),  # 64
        (uib(80, expand=4, start=3, mid=5, stride=2), uib(80, expand=2, start=3, mid=3)),  # 32
        (  # 16
            uib(160, expand=6, start=3, mid=5, stride=2),  # ExtraDW
            *[uib(160, expand=4, start=3, mid=3)] * 2,  # ExtraDW
            uib(160, expand=4, start=3, mid=5),  # ExtraDW
            uib(160, expand=4, start=3, mid=3),  # ExtraDW
            uib(160, expand=4, start=3),  # ConvNeXt
            uib(160, expand=2),  # FFN
            uib(160, expand=4, start=3),  # ConvNeXt
        ),
        (  # 8
            uib(256, expand=6, start=5, mid=5, stride=2),  # ExtraDW
            uib(256, expand=4, start=5, mid=5),  # ExtraDW
            *[uib(256, expand=4, start=3, mid=5)] * 2,  # ExtraDW
            uib(256, expand=4),  # FFN
            uib(256, expand=4, start=3),  # ConvNeXt
            uib(256, expand=2, start=3, mid=5),  # ExtraDW
            uib(256, expand=4, start=5, mid=5),  # ExtraDW
            *[uib(256, expand=4)] * 2,  # FFN
            uib(256, expand=2, start=5),  # ConvNeXt
        ),
        (conv(960, kernel=1),),  # 8
    ),
    head=_HEAD,
    stem_fixed_below=1.0,
)

V4_CONV_LARGE = Generation(
    name="v4_conv_large",
    title="MobileNetV4-Conv-L",
    paper="arXiv:2404.10518",
    family="V4",
    year=2024,
    base_resolution=384,
    activation=Activation.RELU,
    stem=conv(24, kernel=3, stride=2),  # 192 x 192
    stages=(
        (fused_ib(48, expand=4, stride=2),),  # 96
        (uib(96, expand=4, start=3, mid=5, stride=2), uib(96, expand=4, start=3, mid=3)),  # 48
        (  # 24
            uib(192, expand=4, start=3, mid=5, stride=2),  # ExtraDW
            *[uib(192, expand=4, start=3, mid=3)] * 3,  # ExtraDW
            uib(192, expand=4, start=3, mid=5),  # ExtraDW
            *[uib(192, expand=4, start=5, mid=3)] * 5,  # ExtraDW
            uib(192, expand=4, start=3),  # ConvNeXt
        ),
        (  # 12
            uib(512, expand=4, start=5, mid=5, stride=2),  # ExtraDW
            *[uib(512, expand=4, start=5, mid=5)] * 3,  # ExtraDW
            uib(512, expand=4, start=5),  # ConvNeXt
            uib(512, expand=4, start=5, mid=3),  # ExtraDW
            *[uib(512, expand=4, start=5)] * 2,  # ConvNeXt
            uib(512, expand=4, start=5, mid=3),  # ExtraDW
            uib(512, expand=4, start=5, mid=5),  # ExtraDW
            *[uib(512, expand=4, start=5)] * 3,  # ConvNeXt
        ),
        (conv(960, kernel=1),),  # 12
    ),
    head=_HEAD,
    stem_fixed_below=1.0,
)

V4_HYBRID_MEDIUM = Generation(
    name="v4_hybrid_medium",
    title="MobileNetV4-Hybrid-M",
    paper="arXiv:2404.10518",
    family="V4",
    year=2024,
    base_resolution=256,
    activation=Activation.RELU,
    stem=conv(32, kernel=3, stride=2),  # 128 x 128
    stages=(
        (fused_ib(48, expand=4, stride=2),),  # 64
        (uib(80, expand=4, start=3, mid=5, stride=2), uib(80, expand=2, start=3, mid=3)),  # 32
        (  # 16: MQA with keys/values downsampled to 8 x 8
            uib(160, expand=6, start=3, mid=5, stride=2),  # ExtraDW
            uib(160, expand=2),  # FFN
            uib(160, expand=4, start=3, mid=3),  # ExtraDW
            uib(160, expand=4, start=3, mid=5),  # ExtraDW
            mqa(160, heads=4, key_dim=64, kv_stride=2),
            uib(160, expand=4, start=3, mid=3),  # ExtraDW
            mqa(160, heads=4, key_dim=64, kv_stride=2),
            uib(160, expand=4, start=3),  # ConvNeXt
            mqa(160, heads=4, key_dim=64, kv_stride=2),
            uib(160, expand=4, start=3, mid=3),  # ExtraDW
            mqa(160, heads=4, key_dim=64, kv_stride=2),
            uib(160, expand=4, start=3),  # ConvNeXt
        ),
        (  # 8
            uib(256, expand=6, start=5, mid=5, stride=2),  # ExtraDW
            uib(256, expand=4, start=5, mid=5),  # ExtraDW
            *[uib(256, expand=4, start=3, mid=5)] * 2,  # ExtraDW
            uib(256, expand=2),  # FFN
            uib(256, expand=2, start=3, mid=5),  # ExtraDW
            uib(256, expand=2),  # FFN
            uib(256, expand=4),  # FFN
            mqa(256, heads=4, key_dim=64),
            uib(256, expand=4, start=3),  # ConvNeXt
            mqa(256, heads=4, key_dim=64),
            uib(256, expand=4, start=5, mid=5),  # ExtraDW
            mqa(256, heads=4, key_dim=64),
            uib(256, expand=4, start=5),  # ConvNeXt
            mqa(256, heads=4, key_dim=64),
            uib(256, expand=4, start=5),  # ConvNeXt
        ),
        (conv(960, kernel=1),),  # 8
    ),
    head=_HEAD,
    stem_fixed_below=1.0,
    layer_scale=True,
)

V4_HYBRID_LARGE = Generation(
    name="v4_hybrid_large",
    title="MobileNetV4-Hybrid-L",
    paper="arXiv:2404.10518",
    family="V4",
    year=2024,
    base_resolution=384,
    activation=Activation.GELU,
    stem=conv(24, kernel=3, stride=2),  # 192 x 192
    stages=(
        (fused_ib(48, expand=4, stride=2),),  # 96
        (uib(96, expand=4, start=3, mid=5, stride=2), uib(96, expand=4, start=3, mid=3)),  # 48
        (  # 24: MQA with keys/values downsampled to 12 x 12
            uib(192, expand=4, start=3, mid=5, stride=2),  # ExtraDW
            *[uib(192, expand=4, start=3, mid=3)] * 3,  # ExtraDW
            uib(192, expand=4, start=3, mid=5),  # ExtraDW
            *[uib(192, expand=4, start=5, mid=3)] * 2,  # ExtraDW
            mqa(192, heads=8, key_dim=48, kv_stride=2),
            uib(192, expand=4, start=5, mid=3),  # ExtraDW
            mqa(192, heads=8, key_dim=48, kv_stride=2),
            uib(192, expand=4, start=5, mid=3),  # ExtraDW
            mqa(192, heads=8, key_dim=48, kv_stride=2),
            uib(192, expand=4, start=5, mid=3),  # ExtraDW
            mqa(192, heads=8, key_dim=48, kv_stride=2),
            uib(192, expand=4, start=3),  # ConvNeXt
        ),
        (  # 12
            *[uib(512, expand=4, start=5, mid=5, stride=s) for s in (2, 1, 1, 1)],  # ExtraDW
            uib(512, expand=4, start=5),  # ConvNeXt
            uib(512, expand=4, start=5, mid=3),  # ExtraDW
            *[uib(512, expand=4, start=5)] * 2,  # ConvNeXt
            uib(512, expand=4, start=5, mid=3),  # ExtraDW
            uib(512, expand=4, start=5, mid=5),  # ExtraDW
            mqa(512, heads=8, key_dim=64),
            uib(512, expand=4, start=5),  # ConvNeXt
            mqa(512, heads=8, key_dim=64),
            uib(512, expand=4, start=5),  # ConvNeXt
            mqa(512, heads=8, key_dim=64),
            uib(512, expand=4, start=5),  # ConvNeXt
            mqa(512, heads=8, key_dim=64),
            uib(512, expand=4, start=5),  # ConvNeXt
        ),
        (conv(960, kernel=1),),  # 12
    ),
    head=_HEAD,
    stem_fixed_below=1.0,
    layer_scale=True,
)
