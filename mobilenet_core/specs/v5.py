"""MobileNetV5: the vision encoder of Google's Gemma 3n (2025). It has no paper of its own; the
architecture is timm's `mobilenetv5_base` and `mobilenetv5_300m` (timm/models/mobilenetv5.py,
timm 1.0.31), whose 300M model carries the published `gemma3n` weights.

What it brings to the family: RMS norm instead of batch norm (no running statistics: nothing to
fold), GELU (tanh approximation), V4's FusedIB ("er") and UIB ("uir") blocks with layer scale on
UIB and attention, Mobile MQA over a whole stage, and a multi-scale fusion adapter (MSFA) that
merges the last two stages into a 16 x 16 x 2048 map. `base` has a 1000-class classifier on the
pooled 2048 features; `300m` is the encoder: its output is that 2048-d vector.
Width: timm's channel multiplier rounds every block width to a multiple of 8 and keeps the stem
at 64 below 1; the MSFA's 2048 and the attention heads never scale.
"""

from .blocks import Activation, Generation, Head, conv, fused_ib, mqa, msfa, uib


def _stem_and_early_stages(stage2_width: int):
    """Stages 0 and 1, shared by both models (timm's "Stage 0: 128x128 in", "Stage 1: 256x256 in")."""
    return (
        (fused_ib(128, expand=4, stride=2), *[fused_ib(128, expand=4)] * 2),  # 1/4
        (
            uib(256, expand=6, start=3, mid=5, stride=2),  # ExtraDW, 1/8
            *[uib(256, expand=4, start=a) for a in (5, 3, 5, 3)],  # ConvNeXt
        ),
    )


def _attention_pairs(width: int, heads: int, key_dim: int, pairs: int, kv_stride: int = 1):
    """`pairs` x (Mobile MQA, FFN x 2): V5's attention stages alternate the two."""
    pair = (mqa(width, heads=heads, key_dim=key_dim, kv_stride=kv_stride), uib(width, expand=2))
    return tuple(block for _ in range(pairs) for block in pair)


V5_BASE = Generation(
    name="v5_base",
    title="MobileNetV5-Base",
    paper="Gemma 3n (2025); timm mobilenetv5_base",
    family="V5",
    year=2025,
    base_resolution=256,
    activation=Activation.GELU_TANH,
    stem=conv(64, kernel=3, stride=2),  # 128 x 128
    stages=(
        *_stem_and_early_stages(256),  # 64, 32
        (  # 16
            uib(512, expand=6, start=5, mid=5, stride=2),  # ExtraDW
            *[uib(512, expand=4, start=5)] * 2,  # ConvNeXt
            uib(512, expand=1),  # FFN
            *_attention_pairs(512, heads=8, key_dim=64, pairs=6),
        ),
        (  # 8
            uib(1024, expand=6, start=5, mid=5, stride=2),  # ExtraDW
            *_attention_pairs(1024, heads=16, key_dim=64, pairs=7),
        ),
        (msfa(2048, expand=2, inputs=2, output_size=16),),  # stages 2 and 3 fused at 16 x 16
    ),
    head=Head(features=0, num_classes=1000),
    stem_fixed_below=1.0,
    head_width_rule="none",
    layer_scale=True,
    norm="rms",
    stem_bias=True,
)

V5_300M = Generation(
    name="v5_300m",
    title="MobileNetV5-300M",
    paper="Gemma 3n (2025); timm mobilenetv5_300m",
    family="V5",
    year=2025,
    base_resolution=768,
    activation=Activation.GELU_TANH,
    stem=conv(64, kernel=3, stride=2),  # 384 x 384
    stages=(
        *_stem_and_early_stages(256),  # 192, 96
        (  # 48: keys and values downsampled to 24 x 24
            uib(640, expand=6, start=5, mid=5, stride=2),  # ExtraDW
            *[uib(640, expand=4, start=5)] * 7,  # ConvNeXt
            uib(640, expand=1),  # FFN
            *_attention_pairs(640, heads=12, key_dim=64, pairs=14, kv_stride=2),
        ),
        (  # 24
            uib(1280, expand=6, start=5, mid=5, stride=2),  # ExtraDW
            *_attention_pairs(1280, heads=16, key_dim=96, pairs=19),
        ),
        (msfa(2048, expand=2, inputs=2, output_size=16),),  # stages 2 and 3 fused, pooled to 16 x 16
    ),
    head=Head(features=0, num_classes=0),  # the encoder: pooled 2048-d features, no classifier
    stem_fixed_below=1.0,
    head_width_rule="none",
    layer_scale=True,
    norm="rms",
    stem_bias=True,
)
