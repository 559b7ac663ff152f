"""The untrained network that lessons and views run when no published weights are loaded: seeded,
and alive on real photos.

A textbook init (Kaiming fan-out, batch norm with its initial running statistics, layer scale
1e-5) kills the signal of an untrained network in eval mode: batch norm with mean 0 and variance 1
normalises nothing, a depthwise conv drawn with fan-out's std sqrt(2 / (k^2 C)) shrinks every
layer, and layer scale 1e-5 silences every block that has no skip. Measured on two real photos,
logits std 1e-10 (V2) to 1e-25 (V4 Hybrid-L): SE gates all 0.5, flat attention, noise for
feature maps. So the untrained network is made in two steps:

1. `init_weights`: weights drawn so that each layer keeps the scale of its input (fan-in, the
   gain of the ReLU family; the classifier at 1 / sqrt(fan_in)); layer scale starts at 0.5.
2. `calibrate`: a data-dependent step, run once per configuration in eval-equivalent order:
   one forward pass over the calibration photos (`mobilenet_core/data/calibration`, six real
   photos shipped with the package) with every batch norm using the batch's statistics, which
   become its running statistics. Every conv + BN output then has zero mean and unit variance on
   real photos, channel by channel, and the eval-mode network computes exactly what that pass
   computed; the classifier is scaled so that the logits have std 1 on the photos. RMS norm (V5)
   normalises by itself and needs no statistics.

What the calibration writes is cached per (network, resolution, seed), so a configuration pays
for it once per process. A checkpoint overwrites all of it (the running statistics and layer
scales are in the state dict), so counts, probes and checkpoint equivalence are untouched.

Deterministic: the photos are PNG (no JPEG decoder differences), the init is seeded and the
statistics are rounded to float16's precision, so float summation order does not change them
on another CPU or thread count (except for a value that lands exactly on a rounding boundary).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

from .layers import LayerScale2d, MultiQueryAttention2d, RmsNorm2d, SqueezeExcite

# Measured for V4 Conv-L at 384 px on 2 cores: 6 photos cost ~2.5 s, 3 photos ~1.3 s; the
# statistics of 3 and 6 photos give the same stage scales within 5 %.
CALIBRATION_PHOTOS = 6


def init_weights(module: nn.Module, generator: torch.Generator | None) -> None:
    """Variance-preserving init: conv and linear weights ~ N(0, gain^2 / fan_in) (a depthwise conv's
    fan-in is its k x k window), norms at identity, layer scale at LAYER_SCALE (not timm's 1e-5, a
    training choice that lets a deep network start as its skips; in eval mode it mutes the block)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.weight[0].numel()
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_in), generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
            m.reset_running_stats()
        elif isinstance(m, RmsNorm2d):
            nn.init.ones_(m.weight)
        elif isinstance(m, LayerScale2d):
            nn.init.constant_(m.gamma, LAYER_SCALE)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 1.0 / math.sqrt(m.in_features), generator=generator)
            nn.init.zeros_(m.bias)


@lru_cache(maxsize=8)
def calibration_photos(resolution: int) -> torch.Tensor:
    """The calibration photos as one normalised batch [N, 3, r, r] (ImageNet mean / std, the
    default recipe's resize and centre crop). Shared read-only: callers never write to it."""
    from .predict import load_image, preprocess_image
    from .preprocess import default_preprocess

    folder = resources.files("mobilenet_core") / "data" / "calibration"
    paths = sorted(p for p in folder.iterdir() if p.name.endswith(".png"))[:CALIBRATION_PHOTOS]
    recipe = default_preprocess(resolution)
    batch = torch.cat([preprocess_image(load_image(p.read_bytes(), p.name), recipe)[0] for p in paths])
    return batch


# Layer scale of the untrained network: a block with a skip adds gamma^2 to the variance of the
# residual stream (its branch starts with a norm, so it has unit scale whatever its input).
# Measured on V4 Hybrid-L, std of the stages' outputs: 1.4 2.2 8.8 13 with gamma 1, 1.4 1.1 4.4
# 6.3 with 0.5.
LAYER_SCALE = 0.5


# What the calibration pass scales, and to what, measured on the calibration photos:
LOGITS_STD = 1.0  # the classifier's logits, per photo across the classes
# q.k / sqrt(d) per query across the keys: std 0.7 lets a head prefer a region (its best key gets
# ~5x the uniform weight) without collapsing onto one key (before: std 3-10, one-hot maps). A
# sharper softmax also makes the random hybrids more sensitive: with std 1, a change of 1e-5 in
# the input moved V4 Hybrid-L's logits by 7.8e-3 (relative), with 0.7 by 2.6e-3.
ATTENTION_LOGITS_STD = 0.7
# the SE gate's input (hard-sigmoid(z) = clip(z / 6 + 0.5)): std 1.2 spreads the gates over ~0.2-0.8,
# channel by channel and photo by photo. With the fan-in init alone: std 0.6, gates 0.4-0.6.
SE_GATE_INPUT_STD = 1.2


def _half(value: float) -> float:
    """Rounded to float16's precision: another CPU's summation order does not change it."""
    return float(torch.tensor(value).half())


def _scale_weight(module: nn.Module, spread: torch.Tensor, target: float) -> float:
    factor = _half(target / float(spread)) if float(spread) > 0 else 1.0
    module.weight.mul_(factor)
    return factor


def _se_scale(se: SqueezeExcite, h: torch.Tensor) -> float:
    z = se.conv_expand(se.act(se.conv_reduce(h.mean((2, 3), keepdim=True))))
    return _scale_weight(se.conv_expand, z.std(), SE_GATE_INPUT_STD)


def _attention_scale(attn: MultiQueryAttention2d, h: torch.Tensor) -> float:
    batch = h.shape[0]
    q = attn.query(h).reshape(batch, attn.heads, attn.key_dim, -1)  # B x heads x d x N
    k = attn.key(h).flatten(2)  # B x d x M, one head shared by every query head
    if k.shape[-1] < 2:  # one key (a 1 x 1 map at a tiny input): every head's weight is 1 anyway
        return 1.0
    logits = torch.einsum("bhdn,bdm->bhnm", q, k) * attn.key_dim**-0.5
    return _scale_weight(attn.query.proj, logits.std(dim=-1).mean(), ATTENTION_LOGITS_STD)


def _classifier_scale(classifier: nn.Linear, features: torch.Tensor) -> float:
    logits = F.linear(features, classifier.weight, classifier.bias)  # calling it would re-enter the hook
    return _scale_weight(classifier, logits.std(dim=1).mean(), LOGITS_STD)


# module type -> (the weight it scales, by name below the module; how it measures and scales)
_SCALED = {
    SqueezeExcite: ("conv_expand.weight", _se_scale),
    MultiQueryAttention2d: ("query.proj.weight", _attention_scale),
    nn.Linear: ("weight", _classifier_scale),
}
# A network without batch norm (V5) needs the photos for its scales only, which do not depend on
# the map size: they are measured at this size at most (V5-300M at 768 px: ~30 s, at 256: ~2 s).
SCALE_ONLY_RESOLUTION = 256


# A channel that hardly varies on the calibration photos (a head norm sees one pooled vector per
# photo: 6 values) would be amplified by 1 / sqrt(var), hundreds of times, and with it every
# rounding difference after it (measured: the folded V4 head then disagreed with eager at 1e-3).
# No channel's variance is taken below this share of its layer's median.
VARIANCE_FLOOR = 0.05


def _floored(var: torch.Tensor) -> torch.Tensor:
    return var.clamp_min(max(VARIANCE_FLOOR * float(var.median()), 1e-4))


def calibrate(module: nn.Module, resolution: int) -> dict[str, torch.Tensor | float]:
    """Make an initialised network alive in eval mode, from one pass over the calibration photos.

    - Every batch norm's running statistics become the photos' statistics as the eval-mode
      network sees them: in the pass each BN normalises with its batch (momentum 1), so every
      layer after it sees exactly what it will see in eval mode.
    - Just before an SE unit, an attention block or the classifier runs in that pass, one weight
      of it is scaled so that what it computes has the spread above (a pre-hook: what follows
      already sees the scaled weight).

    Returns what it set: BN statistics as tensors and weight factors as floats, by state-dict
    name (`calibrated` caches this and applies it to another build of the same network)."""
    norms = {n: m for n, m in module.named_modules() if isinstance(m, nn.BatchNorm2d)}
    scaled = {n: m for n, m in module.named_modules() if type(m) in _SCALED}
    if not norms and not scaled:
        return {}
    factors: dict[str, float] = {}

    def pre_hook(name: str):
        weight, measure = _SCALED[type(scaled[name])]

        def scale(m: nn.Module, args: tuple) -> None:  # None: the module's input stays as it is
            factors[f"{name}.{weight}"] = measure(m, args[0])

        return scale

    # the module is not shared yet (build_module has not returned it), so no other pass can fire these
    hooks = [m.register_forward_pre_hook(pre_hook(n)) for n, m in scaled.items()]
    saved = {n: (m.momentum, m.training) for n, m in norms.items()}
    size = resolution if norms else min(resolution, SCALE_ONLY_RESOLUTION)
    try:
        with torch.no_grad():
            for m in norms.values():
                m.reset_running_stats()
                m.momentum = 1.0  # running statistics := this batch's
                m.train()
            module(calibration_photos(size))
    finally:
        for hook in hooks:
            hook.remove()
        for n, m in norms.items():
            m.momentum, training = saved[n]
            m.train(training)
            m.num_batches_tracked.zero_()  # as after a checkpoint of statistics, not of a training
    state: dict[str, torch.Tensor | float] = dict(factors)
    with torch.no_grad():
        for n, m in norms.items():
            m.running_mean.copy_(m.running_mean.half().float())
            m.running_var.copy_(_floored(m.running_var).half().float())
            state[f"{n}.running_mean"] = m.running_mean.clone()
            state[f"{n}.running_var"] = m.running_var.clone()
    return state


# Statistics per configuration, shared by every session of a server. Bounded LRU (a class visits
# a few dozen configurations; an entry is a few KB to a few hundred KB). The values are tensors that
# are only ever copied *from*; the table is read and changed under _LOCK, and a configuration is
# calibrated under a lock of its own, so two sessions building it at once compute it once while
# other configurations go on.
_STATISTICS: OrderedDict[tuple, dict[str, torch.Tensor | float]] = OrderedDict()
_STATISTICS_MAX = 128
_LOCK = threading.Lock()
_CALIBRATING: dict[tuple, threading.Lock] = {}


def calibrated(module: nn.Module, key: tuple, resolution: int) -> None:
    """calibrate(module, resolution), computed once per `key` (the network's identity: its
    resolved specs, resolution and seed): a second build of the same configuration copies the
    tensors instead of running the photos through it again."""
    with _LOCK:
        state = _STATISTICS.get(key)
        key_lock = _CALIBRATING.setdefault(key, threading.Lock())
    if state is None:
        with key_lock:  # one calibration per configuration; other configurations go on
            with _LOCK:
                state = _STATISTICS.get(key)
            if state is None:
                state = calibrate(module, resolution)
                with _LOCK:
                    _STATISTICS[key] = state
                    _CALIBRATING.pop(key, None)
                    while len(_STATISTICS) > _STATISTICS_MAX:
                        _STATISTICS.popitem(last=False)
                return
    with _LOCK:
        if key in _STATISTICS:
            _STATISTICS.move_to_end(key)
    own = module.state_dict()
    with torch.no_grad():
        for name, value in state.items():
            if isinstance(value, float):
                own[name].mul_(value)  # a weight's factor: the init is the same seeded draw
            else:
                own[name].copy_(value)
