"""A faster CPU inference path: batch norm folded into the convolution before it, weights in
channels-last layout, no autograd. Logits equal the eager model's within float rounding."""

from __future__ import annotations

import copy
import os
import tempfile

import torch
from torch import nn

from . import isolate
from .blocktypes import REGISTRY
from .layers import ConvNormAct, MultiQueryAttention2d
from .modules import MobileNet

# (conv, norm) attribute pairs per module class, in the order the forward pass uses them: the
# block types' own pairs (their records), plus the network's stem and head and the shared brick.
# Only batch norm folds; an RMS norm (V5) depends on the activations and stays.
_PAIRS: dict[type, tuple[tuple[str, str], ...]] = {
    MobileNet: (("conv_stem", "bn1"), ("conv_head", "bn2"), ("conv_head", "norm_head")),
    ConvNormAct: (("conv", "bn"),),
    **{t.module: t.fold for t in REGISTRY.values() if t.fold},
}


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One conv equal to conv then bn (eval statistics): w' = w g / s, b' = (b - mu) g / s + beta."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, conv.groups, bias=True, dtype=conv.weight.dtype)  # fmt: skip
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """A copy of `module` with every conv + BN pair merged into one conv (BN becomes Identity)."""
    folded = copy.deepcopy(module).eval()
    for sub in list(folded.modules()):
        for conv_name, bn_name in _PAIRS.get(type(sub), ()):
            conv, bn = getattr(sub, conv_name, None), getattr(sub, bn_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(sub, conv_name, fold_conv_bn(conv, bn))
                setattr(sub, bn_name, nn.Identity())
        if isinstance(sub, MultiQueryAttention2d):
            for branch in (sub.key, sub.value):
                if hasattr(branch, "down_conv") and isinstance(branch.norm, nn.BatchNorm2d):
                    branch.down_conv = fold_conv_bn(branch.down_conv, branch.norm)
                    branch.norm = nn.Identity()
    return folded


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class _BlockTaps(nn.Module):
    """The folded network for export, returning its logits and then every block's output, so
    that the ONNX graph has each block's output as a graph output ("blocks.S.I"): one ONNX Runtime
    pass gives the logits, or a block's feature maps, at the fast path's cost. The hooks that
    collect the outputs live on the runner's private folded copy, only while it is exported
    (a context manager); nothing is ever registered on a shared module.

    Cost, measured (one thread, 2026-12-01): the logits as fast as from the plain export (V2
    9.9 / 10.6 ms); Classify's feature maps of the middle block from this pass against the eager
    pass to that block, CPU ms: V2 17 / 35, V3-Large 14 / 28, V4 Conv-S 9 / 16, V4 Hybrid-M 42 / 84.
    The block outputs are kept to the end of a run: 2.2 MiB more at most per run for V2, 15 MiB
    for V4 Hybrid-L at 384 px."""

    def __init__(self, net: MobileNet):
        super().__init__()
        self.net = net
        self.names = tuple(f"blocks.{s}.{i}" for s, stage in enumerate(net.blocks) for i in range(len(stage)))
        self._seen: list[torch.Tensor] = []
        self._handles: list = []

    def __enter__(self) -> _BlockTaps:
        for stage in self.net.blocks:
            for block in stage:
                self._handles.append(block.register_forward_hook(lambda _m, _a, out: self._seen.append(out)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._seen.clear()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        self._seen.clear()
        logits = self.net(x)
        return (logits, *self._seen)


def _export(folded: nn.Module, resolution: int, dynamic_size: bool, block_taps: bool,
            path: str | None = None) -> tuple[bytes | None, tuple]:  # fmt: skip
    """(ONNX bytes, the block outputs it also gives) of a folded network: FastModel's export, run
    here or in the export worker (mobilenet_core.isolate). With `path` the bytes are written there
    and None stands in their place: the worker's answer stays small (V4 Hybrid-L's 151 MB would
    otherwise be unpickled here, with the interpreter lock held)."""
    from .export import export_onnx

    if block_taps and isinstance(folded, MobileNet) and not dynamic_size:
        with _BlockTaps(folded) as taps:
            outputs = ("logits", *taps.names)
            data, names = export_onnx(taps, resolution=resolution, outputs=outputs), taps.names
    else:
        data, names = export_onnx(folded, resolution=resolution, dynamic_size=dynamic_size), ()
    if path is None:
        return data, names
    with open(path, "wb") as f:
        f.write(data)
    return None, names


def session_options(threads: int = 0):
    """ONNX Runtime's options for a runner's session (FastModel, Int8Model): `threads` for a run
    (0: torch's count), one for the graph. No arena: activation buffers go back after each run
    instead of staying reserved per cached session (several GB across a classroom's worth of
    configurations)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    return options


class FastModel(nn.Module):
    """Fast CPU inference of a built model; call it like the eager module.

    backend "onnxruntime" (the default when installed): the BN-folded network exported to ONNX
    and run by an ONNX Runtime session (thread-safe, 2-4x faster than eager PyTorch here);
    backend "torchscript": the folded network traced, frozen and optimised by TorchScript
    (oneDNN convolutions); either falls back to the folded eager module in channels-last layout.

    block_taps: the ONNX session also gives every block's output (`block_output`: the app's
    feature maps); off by default, so that latency measurements run the plain export.
    isolated: the ONNX export runs in a worker process (mobilenet_core.isolate), for a server:
    in this process it holds the interpreter lock and stops every other thread (0.9 s for a
    process's first export, 0.3 s for V4 Hybrid-L: benchmarks/bench_export_stall.py).
    """

    def __init__(
        self,
        module: nn.Module,
        resolution: int | None = None,
        backend: str = "auto",
        threads: int = 0,
        dynamic_size: bool = False,
        block_taps: bool = False,
        isolated: bool = False,
    ):
        super().__init__()
        self.model_name = getattr(module, "model_name", None)
        self.block_names: tuple[str, ...] = ()  # the blocks whose outputs the ONNX session gives
        self.resolution = resolution or getattr(module, "resolution", 224)
        if backend == "auto" and not any(isinstance(m, nn.BatchNorm2d) for m in module.modules()):
            # Nothing to fold (V5's RMS norm): measured on V5-Base at 256 px, ONNX Runtime runs
            # in 0.33 s against eager's 0.37 s, but its export takes 4.5 s and its session holds
            # ~790 MB more. The module runs as it is, sharing its weights (no copy).
            self.backend, self.session, self.net, self.session_bytes = "eager", None, module, 0
            return
        folded = fold_batchnorm(module)
        for p in folded.parameters():
            p.requires_grad_(False)
        if backend == "auto":
            backend = "onnxruntime" if onnxruntime_available() else "torchscript"
        self.backend, self.session, self.net, self.session_bytes = backend, None, folded, 0
        try:
            if backend == "onnxruntime":
                self._init_onnxruntime(folded, threads, dynamic_size, block_taps, isolated)
            elif backend == "torchscript":
                self._init_torchscript(folded)
            else:
                raise ValueError(f"unknown backend {backend!r}")
        except Exception:  # noqa: BLE001 - the eager fallback is exact too
            self.backend, self.session = "eager-folded", None
            self.net = folded.to(memory_format=torch.channels_last)

    def _init_onnxruntime(
        self, folded: nn.Module, threads: int, dynamic_size: bool = False, block_taps: bool = False,
        isolated: bool = False,
    ) -> None:  # fmt: skip
        import onnxruntime

        options = session_options(threads)
        job, cpu = (self.resolution, dynamic_size, block_taps), ["CPUExecutionProvider"]
        if isolated:  # the file comes back from the worker (or is written here when it cannot)
            with tempfile.TemporaryDirectory(prefix="mobilenet-export-") as tmp:
                path = os.path.join(tmp, "model.onnx")
                _, self.block_names = isolate.run_or_here(_export, folded, *job, path)
                size = os.path.getsize(path)
                self.session = onnxruntime.InferenceSession(path, options, providers=cpu)
        else:
            model, self.block_names = _export(folded, *job)
            size = len(model)
            self.session = onnxruntime.InferenceSession(model, options, providers=cpu)
        # The session keeps the initializers and pre-packed copies of the conv weights: measured
        # here as about 2.5x the exported file (V4 Hybrid-L: 369 MB for a 151 MB model).
        self.session_bytes = int(2.5 * size)
        self.net = None

    def _init_torchscript(self, folded: nn.Module) -> None:
        import warnings

        example = torch.randn(1, 3, self.resolution, self.resolution)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(folded, example, check_trace=False)
            self.net = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            self.net(example)  # the first call compiles; keep it out of the user's latency

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.session is not None:
            out = self.session.run(["logits"], {"image": x.detach().cpu().contiguous().numpy()})[0]
            return torch.from_numpy(out)
        if self.backend == "eager-folded":
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)

    def _tap(self, name: str) -> str | None:
        """The graph output for block `name` ("blocks.S.I", or "blocks.S" for a stage's last
        block); None when this runner has none (another backend, a dynamic-size export)."""
        parts = name.split(".")
        if len(parts) == 2 and self.block_names:
            stage = [b for b in self.block_names if b.startswith(name + ".")]
            name = stage[-1] if stage else name
        return name if self.session is not None and name in self.block_names else None

    @torch.inference_mode()
    def block_output(self, x: torch.Tensor, name: str) -> torch.Tensor | None:
        """The output of block `name` for input `x`, from the fast pass (a graph output of the
        ONNX session); None when this runner has none: the caller reads the eager module."""
        tap = self._tap(name)
        if tap is None:
            return None
        out = self.session.run([tap], {"image": x.detach().cpu().contiguous().numpy()})[0]
        return torch.from_numpy(out)

    @torch.inference_mode()
    def forward_with_block(self, x: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The logits and block `name`'s output (None as in block_output) from one pass. ONNX
        Runtime runs the whole graph whatever outputs are asked for (V2: 7.3 ms for the logits,
        for the first block's output or for all of them), so a block's output asked for later
        costs a second pass; asked for with the logits, it costs nothing."""
        tap = self._tap(name)
        if tap is None:
            return self.forward(x), None
        logits, out = self.session.run(["logits", tap], {"image": x.detach().cpu().contiguous().numpy()})
        return torch.from_numpy(logits), torch.from_numpy(out)
