"""The ONNX export in a worker process, so that a server's other threads keep running meanwhile.

PyTorch's TorchScript-based ONNX exporter holds Python's global interpreter lock through long C++
passes, and so do `import onnx` (which a process's first export does) and ONNX Runtime's
quantization: while one session's network was exported, every other session of the server stood
still. Measured with benchmarks/bench_export_stall.py (2 cores; a thread waking every millisecond
beside the build; the longest it waited): the first export of a process 0.76 s, V4 Conv-L 0.22 s,
V4 Hybrid-L 0.25-0.29 s, V4 Conv-L's INT8 runner 1.9 s; with the worker, 20 ms or less for each.
A teacher's first slider move on a just-started server waited 0.7-1.2 s for the warm-up's first
export.

Here the export runs in one worker process per server, `python -m mobilenet_core.isolate`,
started on first use (a process of its own: a fork of a process with threads could inherit a
lock another thread held, and multiprocessing's spawn would re-run the caller's main script).
The module goes to it in two parts: its structure, pickled with every weight replaced by an empty
tensor (kilobytes), and the weights, copied once into one block of shared memory. The worker puts
the weights back as views of that block and runs the job. The caller waits on the pipe with the
lock released. A worker that dies or fails leaves the caller to do the work itself
(`IsolationError`); the next call starts a new worker.

The cost is the asking student's: a build takes longer in the worker (V4 Conv-L 1.8 s -> 3.3 s:
one thread, a lower priority, the copy), while the rest of the class goes on.

The worker is shared by every thread of the process; concurrent calls queue for it (their exports
held the lock anyway, so they never ran side by side). Its memory: torch and onnx imported, and
the module of the job it runs (RSS measured in the README)."""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
from multiprocessing import shared_memory
from pathlib import Path

import torch
from torch import nn


class IsolationError(RuntimeError):
    """The worker could not export (it died, could not start, or the export failed there)."""


def _tensors(module: nn.Module) -> list[tuple[nn.Module, str, torch.Tensor, bool]]:
    """Every parameter and buffer as (owner, attribute, tensor, is_parameter), each tensor once."""
    out, seen = [], set()
    for owner in module.modules():
        for name, p in owner.named_parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                out.append((owner, name, p, True))
        for name, b in owner.named_buffers(recurse=False):
            if b is not None and id(b) not in seen:
                seen.add(id(b))
                out.append((owner, name, b, False))
    return out


def split(module: nn.Module) -> tuple[bytes, shared_memory.SharedMemory, list[tuple[str, tuple, int]]]:
    """(structure, shared block, layout): the module pickled without its weights, the weights in one
    new block of shared memory, and each tensor's (dtype, shape, byte offset) in _tensors' order.
    The module is left as it was. The caller closes and unlinks the block."""
    entries = _tensors(module)
    layout, offset = [], 0
    for _, _, tensor, _ in entries:
        offset = -(-offset // 64) * 64  # aligned for every dtype
        layout.append((str(tensor.dtype).removeprefix("torch."), tuple(tensor.shape), offset))
        offset += tensor.numel() * tensor.element_size()
    block = shared_memory.SharedMemory(create=True, size=max(offset, 1))
    try:
        for (_, _, tensor, _), (_, _, start) in zip(entries, layout):
            if tensor.numel():
                view = torch.frombuffer(block.buf, dtype=tensor.dtype, count=tensor.numel(), offset=start)
                view.view(tensor.shape).copy_(tensor.detach())
                del view  # no export of the block's buffer may outlive this function
        originals = [t.data for _, _, t, _ in entries]
        try:
            for _, _, tensor, _ in entries:
                tensor.data = torch.empty(0, dtype=tensor.dtype)
            structure = pickle.dumps(module, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for (_, _, tensor, _), data in zip(entries, originals):
                tensor.data = data
    except BaseException:
        block.close()
        block.unlink()
        raise
    return structure, block, layout


def join(structure: bytes, buffer, layout) -> nn.Module:
    """The module from split's parts; its weights are views of `buffer` (kept alive by them)."""
    module = pickle.loads(structure)
    for (_, _, tensor, _), (dtype, shape, start) in zip(_tensors(module), layout):
        count = 1
        for size in shape:
            count *= size
        dt = getattr(torch, dtype)
        if count:
            tensor.data = torch.frombuffer(buffer, dtype=dt, count=count, offset=start).view(shape)
        else:
            tensor.data = torch.empty(shape, dtype=dt)
    return module


class _Worker:
    """One `python -m mobilenet_core.isolate` process and its pipes. Requests and answers are
    length-prefixed pickles between this process and its own child, nothing else."""

    def __init__(self):
        root = str(Path(__file__).resolve().parent.parent)  # where mobilenet_core is importable from
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mobilenet_core.isolate"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, cwd=root,
        )  # fmt: skip

    def call(self, request: tuple):
        try:
            _send(self.proc.stdin, request)
            answer = _receive(self.proc.stdout)  # a blocking read: the lock is released meanwhile
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            self.stop()
            raise IsolationError("the export worker stopped") from exc
        ok, value = answer
        if not ok:
            raise IsolationError(f"the export failed in the worker: {value}")
        return value

    def stop(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# A worker with nothing to do for this long ends (its 0.3-0.4 GB go back); the next export starts
# another, 2-3 s of the asking student's wait and nobody else's
IDLE_S = float(os.environ.get("MOBILENET_EXPLORER_EXPORT_IDLE_S", "600"))
_WORKER: _Worker | None = None
_WORKER_LOCK = threading.Lock()  # one request at a time: one worker for every thread of the process


def _send(pipe, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(struct.pack("<Q", len(data)))
    pipe.write(data)
    pipe.flush()


def _receive(pipe):
    head = pipe.read(8)
    if len(head) < 8:
        raise EOFError("the pipe closed")
    (size,) = struct.unpack("<Q", head)
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError("the pipe closed")
    return pickle.loads(data)


def run(job, module: nn.Module, *args):
    """`job(module, *args)` in the worker, on a copy of `module` made there; returns its result.
    `job` is a module-level function (the worker imports it by name). Raises IsolationError when
    the worker could not run it; the caller then runs it itself."""
    global _WORKER
    structure, block, layout = split(module)
    request = (sys.path, job.__module__, job.__qualname__, structure, block.name, layout, args)
    try:
        with _WORKER_LOCK:
            for attempt in (1, 2):  # a worker that had ended (idle, or killed) is replaced once
                if _WORKER is None or _WORKER.proc.poll() is not None:
                    try:
                        _WORKER = _Worker()
                    except OSError as exc:
                        raise IsolationError("the export worker could not start") from exc
                worker = _WORKER
                try:
                    return worker.call(request)
                except IsolationError:
                    if worker.proc.poll() is None or attempt == 2:
                        raise  # the job failed there, the worker goes on; or a new one died too
                    _WORKER = None
    finally:
        block.close()
        block.unlink()


def _attach(name: str) -> shared_memory.SharedMemory:
    """The caller's block, left to the caller: Python before 3.13 registers an attached block with
    this process's resource tracker, which would unlink it (and warn) when the worker ends."""
    block = shared_memory.SharedMemory(name=name)
    if os.name == "posix":
        from multiprocessing import resource_tracker

        resource_tracker.unregister(block._name, "shared_memory")  # noqa: SLF001 - its registered name
    return block


def _serve() -> None:
    """The worker's loop: each request's job on the module rebuilt from shared memory."""
    torch.set_num_threads(1)  # the export is one thread's work; the other core serves the class
    try:  # behind the sessions (Linux: the worker's own priority)
        os.nice(5)
    except OSError:
        pass
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a print from a job must not break the protocol
    while True:
        if os.name == "posix" and not select.select([stdin], [], [], IDLE_S)[0]:
            return  # its memory back to the machine; the next export starts a new worker
        try:
            request = _receive(stdin)
        except EOFError:
            return
        path, module_name, qualname, structure, name, layout, args = request
        sys.path[:] = path  # the job is found where the caller found it
        block = _attach(name)
        try:
            job = importlib.import_module(module_name)
            for part in qualname.split("."):
                job = getattr(job, part)
            module = join(structure, block.buf, layout)
            answer = (True, job(module, *args))
        except Exception as exc:  # noqa: BLE001 - told to the caller, which exports itself
            answer = (False, f"{type(exc).__name__}: {exc}")
        finally:
            module = None
            gc.collect()  # the views of the block go before it closes
            try:
                block.close()
            except BufferError:
                pass
        _send(stdout, answer)


def shutdown() -> None:
    """Stop the worker (tests; it also ends by itself when this process's end closes its pipe)."""
    global _WORKER
    with _WORKER_LOCK:
        worker, _WORKER = _WORKER, None
    if worker is not None:
        worker.stop()


if __name__ == "__main__":
    _serve()
