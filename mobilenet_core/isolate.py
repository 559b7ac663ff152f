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
The module goes to it in two parts: its structure, pickled with each weight as a reference
(kilobytes), and the weights, copied once into one block of shared memory. The module is only
read (the INT8 runner hands over the module every session reads). The block's pages are reserved
before the copy, so a /dev/shm too small for it fails the call instead of killing the server with
SIGBUS. The worker rebuilds the module on views of that block, runs the job and pickles its answer
before the block is unmapped. The caller waits on the pipe with the lock released. Anything that
stops an exchange (a dead worker, an interrupt, a garbled answer) kills that worker, so no answer
is ever read by another call; the worker's descriptor 1 points at stderr, so a library's chatter
cannot garble the protocol. A worker that fails leaves the caller to do the job itself
(`IsolationError`; in-process exports are serialised by mobilenet_core.export.EXPORT_LOCK); the next
call starts a new worker (run_or_here does both). The roofline's measurement of the machine's
peaks runs in the worker too (mobilenet_core.measure_peaks, isolated=True: it imports onnx); an
export asked for meanwhile waits for it (a few seconds, once per server or when asked again).

The cost is the asking student's: a build takes longer in the worker (V4 Conv-L 1.8 s -> 3.3 s:
one thread, a lower priority, the copy), while the rest of the class goes on.

The worker is shared by every thread of the process; concurrent calls queue for it (their exports
held the lock anyway, so they never ran side by side). Its memory: torch and onnx imported, and
the module of the job it runs (RSS measured in the README)."""

from __future__ import annotations

import gc
import importlib
import io
import logging
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

from mobilenet_core.cache import seconds_from_env


class IsolationError(RuntimeError):
    """The worker could not export (it died, could not start, or the export failed there)."""


def _tensors(module: nn.Module) -> list[torch.Tensor]:
    """Every parameter and buffer of `module`, each tensor once (tied weights are one tensor)."""
    out, seen = [], set()
    for owner in module.modules():
        tensors = [*owner._parameters.values(), *owner._buffers.values()]  # noqa: SLF001 - module's own
        for tensor in tensors:
            if tensor is not None and id(tensor) not in seen:
                seen.add(id(tensor))
                out.append(tensor)
    return out


class _Weightless(pickle.Pickler):
    """Pickles a module with each parameter and buffer as a reference (its index in the layout):
    the module itself is only read, never changed (a shared module may be read by other sessions
    meanwhile)."""

    def __init__(self, file, index: dict[int, int]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.index = index

    def persistent_id(self, obj):
        if isinstance(obj, torch.Tensor):
            i = self.index.get(id(obj))
            if i is not None:
                return i
        return None


class _Rebuilt(pickle.Unpickler):
    def __init__(self, file, tensors: list[torch.Tensor]):
        super().__init__(file)
        self.tensors = tensors

    def persistent_load(self, pid):
        return self.tensors[pid]


def _reserve(block: shared_memory.SharedMemory, size: int) -> None:
    """Make the block's pages real now: a tmpfs too small for it (Docker's 64 MB /dev/shm) then
    fails here with an OSError, instead of killing the process with SIGBUS on the first write."""
    if hasattr(os, "posix_fallocate") and size:
        os.posix_fallocate(block._fd, 0, size)  # noqa: SLF001 - the block's own descriptor


def split(module: nn.Module) -> tuple[bytes, shared_memory.SharedMemory, list[tuple]]:
    """(structure, shared block, layout): the module pickled without its weights, the weights in one
    new block of shared memory, and each tensor's (dtype, shape, byte offset, is a parameter,
    requires grad). The module is only read. The caller closes and unlinks the block."""
    tensors = _tensors(module)
    layout, offset = [], 0
    for tensor in tensors:
        offset = -(-offset // 64) * 64  # aligned for every dtype
        layout.append((str(tensor.dtype).removeprefix("torch."), tuple(tensor.shape), offset,
                       isinstance(tensor, nn.Parameter), tensor.requires_grad))  # fmt: skip
        offset += tensor.numel() * tensor.element_size()
    block = shared_memory.SharedMemory(create=True, size=max(offset, 1))
    try:
        _reserve(block, offset)
        for tensor, (_, _, start, _, _) in zip(tensors, layout):
            if tensor.numel():
                view = torch.frombuffer(block.buf, dtype=tensor.dtype, count=tensor.numel(), offset=start)
                view.view(tensor.shape).copy_(tensor.detach())
                del view
        file = io.BytesIO()
        _Weightless(file, {id(t): i for i, t in enumerate(tensors)}).dump(module)
    except BaseException:
        block.close()
        block.unlink()
        raise
    return file.getvalue(), block, layout


def join(structure: bytes, buffer, layout) -> nn.Module:
    """The module from split's parts; its weights are views of `buffer`. torch.frombuffer keeps no
    hold on the buffer: it must stay mapped while the module is used."""
    tensors = []
    for dtype, shape, start, is_parameter, requires_grad in layout:
        dt, count = getattr(torch, dtype), 1
        for size in shape:
            count *= size
        tensor = (torch.frombuffer(buffer, dtype=dt, count=count, offset=start).view(shape) if count
                  else torch.empty(shape, dtype=dt))  # fmt: skip
        tensors.append(nn.Parameter(tensor, requires_grad=requires_grad) if is_parameter else tensor)
    return _Rebuilt(io.BytesIO(structure), tensors).load()


class _Worker:
    """One `python -m mobilenet_core.isolate` process and its pipes. Requests and answers are
    length-prefixed pickles between this process and its own child, nothing else."""

    def __init__(self):
        root = str(Path(__file__).resolve().parent.parent)  # where mobilenet_core is importable from
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        # a session of its own: Ctrl+C on the server does not kill a job midway; the worker ends
        # when the server closes its pipe
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mobilenet_core.isolate"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, cwd=root, start_new_session=True,
        )  # fmt: skip

    def call(self, request: tuple):
        try:
            _send(self.proc.stdin, request)
            answer = _receive(self.proc.stdout)  # a blocking read: the lock is released meanwhile
            ok, value = answer
        except BaseException as exc:
            # whatever stopped the exchange (a dead worker, an interrupt, a garbled answer), the
            # pipe may be out of step: this worker is done, its answer never read by another call
            self.kill()
            if isinstance(exc, Exception):
                raise IsolationError(f"the export worker stopped ({type(exc).__name__})") from exc
            raise
        if not ok:
            raise IsolationError(f"the export failed in the worker: {value}")
        return value

    def kill(self) -> None:
        self.proc.kill()
        self.stop()

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
IDLE_S = seconds_from_env("MOBILENET_EXPLORER_EXPORT_IDLE_S", 600.0)
_WORKER: _Worker | None = None
# One request at a time: one worker for every thread of the process, and one shared block of
# weights at a time (a queue of callers each holding a copy would fill /dev/shm)
_WORKER_LOCK = threading.Lock()
_MAGIC = b"MNX1"


def _send(pipe, obj) -> None:
    _send_bytes(pipe, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _send_bytes(pipe, data: bytes) -> None:
    pipe.write(_MAGIC + struct.pack("<Q", len(data)))
    pipe.write(data)
    pipe.flush()


def _receive(pipe):
    head = pipe.read(12)
    if len(head) < 12:
        raise EOFError("the pipe closed")
    if head[:4] != _MAGIC:
        raise ValueError("the pipe is out of step")
    (size,) = struct.unpack("<Q", head[4:])
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError("the pipe closed")
    return pickle.loads(data)


def run(job, module: nn.Module, *args):
    """`job(module, *args)` in the worker, on a copy of `module` made there; returns its result.
    `job` is a module-level function (the worker imports it by name). `module` is only read.
    Raises IsolationError when the worker could not run it; the caller then runs it itself."""
    global _WORKER
    with _WORKER_LOCK:
        try:
            structure, block, layout = split(module)
        except Exception as exc:  # noqa: BLE001 - e.g. no room in /dev/shm, a module that cannot be pickled
            raise IsolationError(f"the module could not be handed over: {type(exc).__name__}: {exc}") from exc
        request = (sys.path, job.__module__, job.__qualname__, structure, block.name, layout, args)
        try:
            for attempt in (1, 2):  # a worker that had just ended (idle) is replaced once
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
                        raise  # the job failed there and the worker goes on; or a new one failed too
                    _WORKER = None
        finally:
            block.close()
            block.unlink()


def run_or_here(job, module: nn.Module, *args):
    """`job(module, *args)`, in the worker (run) when it can, else here, the failure logged: the
    same result either way; only who waits for it differs."""
    try:
        return run(job, module, *args)
    except IsolationError:
        logging.getLogger(__name__).warning("%s in this process instead", job.__qualname__, exc_info=True)
        return job(module, *args)


def _attach(name: str) -> shared_memory.SharedMemory:
    """The caller's block, left to the caller: Python before 3.13 registers an attached block with
    this process's resource tracker, which would unlink it (and warn) when the worker ends."""
    block = shared_memory.SharedMemory(name=name)
    if os.name == "posix":
        from multiprocessing import resource_tracker

        resource_tracker.unregister(block._name, "shared_memory")  # noqa: SLF001 - its registered name
    return block


def _answer(request) -> bytes:
    """The pickled answer to one request: (True, the job's result) or (False, why not). Pickled
    before the block is unmapped: the module's tensors are views of it."""
    path, module_name, qualname, structure, name, layout, args = request
    sys.path[:] = path  # the job is found where the caller found it
    block = None
    try:
        block = _attach(name)
        job = importlib.import_module(module_name)
        for part in qualname.split("."):
            job = getattr(job, part)
        module = join(structure, block.buf, layout)
        result = job(module, *args)
        return pickle.dumps((True, result), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - told to the caller, which then does the job itself
        return pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
    finally:
        module = result = None
        gc.collect()
        if block is not None:
            block.close()


def _serve() -> None:
    """The worker's loop: each request's job on the module rebuilt from shared memory."""
    torch.set_num_threads(1)  # the export is one thread's work; the other core serves the class
    try:  # behind the sessions (Linux: the worker's own priority)
        os.nice(5)
    except OSError:
        pass
    stdin = sys.stdin.buffer
    # the answers go through a copy of descriptor 1; descriptor 1 itself now points at stderr, so
    # that anything a job or a library writes there cannot garble the protocol
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    while True:
        if os.name == "posix" and not select.select([stdin], [], [], IDLE_S)[0]:
            return  # its memory back to the machine; the next export starts a new worker
        try:
            request = _receive(stdin)
        except EOFError:
            return
        try:
            _send_bytes(answers, _answer(request))
        except BrokenPipeError:  # the server ended while the job ran: no one waits for the answer
            return


def shutdown() -> None:
    """Stop the worker (tests; it also ends by itself when this process's end closes its pipe)."""
    global _WORKER
    with _WORKER_LOCK:
        worker, _WORKER = _WORKER, None
    if worker is not None:
        worker.stop()


if __name__ == "__main__":
    _serve()
