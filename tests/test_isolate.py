"""The ONNX export in a worker process (mobilenet_core.isolate): the same runner as an export here,
in another process, safe from several threads at once, and an export here when the worker fails."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from torch import nn

import mobilenet_core as mc
from mobilenet_core import isolate
from mobilenet_core.fast import FastModel, fold_batchnorm


@pytest.fixture(autouse=True)
def own_worker():
    """Each test starts and stops its own worker: a test that kills one leaves no trace."""
    isolate.shutdown()
    yield
    isolate.shutdown()


def job_pid(module: nn.Module) -> int:
    return os.getpid()


def job_sum(module: nn.Module, scale: float) -> float:
    return scale * float(sum(t.double().sum() for t in module.state_dict().values()))


def job_fails(module: nn.Module) -> None:
    raise ValueError("no export for this one")


def job_writes_to_descriptor_1(module: nn.Module) -> int:
    os.write(1, b"a library's chatter on stdout\n")
    print("and a print")
    return os.getpid()


def job_waits(module: nn.Module, started: str) -> int:
    Path(started).touch()
    time.sleep(1.0)
    return 1


@pytest.fixture
def no_fallback(caplog):
    """Fails a test whose runner was built in this process after all (the fallback hides it)."""
    with caplog.at_level(logging.WARNING):
        yield
    assert "in this process instead" not in caplog.text


def small(model: str = "v3_small") -> nn.Module:
    return mc.build(model, 0.5, 96).eval()


def test_split_and_join_give_the_same_weights_and_leave_the_module_as_it_was():
    module = fold_batchnorm(small())
    before = {k: (v.data_ptr(), v.clone()) for k, v in module.state_dict().items()}
    structure, block, layout = isolate.split(module)
    try:
        copy = isolate.join(structure, block.buf, layout)
        assert len(structure) < 200_000  # the structure alone: no weights in the pickle
        assert type(copy) is type(module)
        for key, value in module.state_dict().items():
            assert torch.equal(copy.state_dict()[key], value), key
            assert value.data_ptr() == before[key][0] and torch.equal(value, before[key][1]), key
        x = torch.randn(2, 3, 96, 96)
        with torch.no_grad():
            assert torch.equal(copy(x), module(x))
        del copy
    finally:
        import gc

        gc.collect()
        block.close()
        block.unlink()


def test_the_job_runs_in_another_process_on_the_same_weights():
    module = small()
    assert isolate.run(job_pid, module) != os.getpid()
    expected = job_sum(module, 2.0)
    assert isolate.run(job_sum, module, 2.0) == pytest.approx(expected, rel=1e-12)


def test_an_isolated_runner_equals_one_exported_here(no_fallback):
    module = small("v2")
    here = FastModel(module, block_taps=True)
    there = FastModel(module, block_taps=True, isolated=True)
    assert there.backend == here.backend == "onnxruntime"
    assert there.block_names == here.block_names and len(there.block_names) > 10
    x = torch.randn(3, 3, 96, 96)
    assert torch.equal(there(x), here(x))
    logits, block = there.forward_with_block(x, "blocks.3")
    assert torch.equal(logits, here(x)) and torch.equal(block, here.block_output(x, "blocks.3"))


def test_a_failing_job_says_why_and_the_worker_goes_on():
    with pytest.raises(isolate.IsolationError, match="no export for this one"):
        isolate.run(job_fails, small())
    assert isolate.run(job_pid, small()) != os.getpid()


def test_a_worker_that_died_is_replaced_and_the_runner_is_built_anyway(monkeypatch):
    module = small()
    isolate.run(job_pid, module)
    isolate._WORKER.proc.kill()  # noqa: SLF001 - the worker dies between two exports
    isolate._WORKER.proc.wait()  # noqa: SLF001
    assert isolate.run(job_pid, module) != os.getpid()  # a new worker

    def broken(*args, **kwargs):
        raise isolate.IsolationError("the export worker stopped")

    monkeypatch.setattr(isolate, "run", broken)
    runner = FastModel(module, isolated=True)  # exported here instead
    x = torch.randn(1, 3, 96, 96)
    assert runner.backend == "onnxruntime"
    assert torch.equal(runner(x), FastModel(module)(x))


def test_a_job_the_worker_cannot_run_is_run_here_and_said_in_the_log(monkeypatch, caplog):
    module = small()
    assert isolate.run_or_here(job_pid, module) != os.getpid()  # the worker, when it can

    def broken(*args, **kwargs):
        raise isolate.IsolationError("the export worker stopped")

    monkeypatch.setattr(isolate, "run", broken)
    with caplog.at_level(logging.WARNING):
        assert isolate.run_or_here(job_pid, module) == os.getpid()
        assert isolate.run_or_here(job_sum, module, 2.0) == pytest.approx(job_sum(module, 2.0), rel=1e-12)
    assert "job_pid in this process instead" in caplog.text


def test_threads_exporting_at_once_each_get_their_own_runner(no_fallback):
    modules = {name: small(name) for name in ("v2", "v3_small", "v3_large", "v1")}
    runners, errors = {}, []

    def build(name):
        try:
            runners[name] = FastModel(modules[name], isolated=True)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(n,)) for n in modules]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    x = torch.randn(2, 3, 96, 96)
    for name, module in modules.items():
        assert torch.equal(runners[name](x), FastModel(module)(x)), name


def test_the_worker_leaves_no_shared_memory_behind():
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm to look at")
    before = set(os.listdir("/dev/shm"))
    for _ in range(3):
        isolate.run(job_pid, small())
    with pytest.raises(isolate.IsolationError):
        isolate.run(job_fails, small())
    isolate.shutdown()
    assert set(os.listdir("/dev/shm")) - before == set()


def test_an_isolated_int8_runner_equals_one_quantized_here(no_fallback):
    from mobilenet_core.quantize import Int8Model

    module = small("v2")
    calibration = [torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    here = Int8Model(module, calibration)
    there = Int8Model(module, calibration, isolated=True)
    x = torch.randn(2, 3, 96, 96)
    assert torch.equal(there(x), here(x))


def test_an_idle_worker_ends_and_the_next_job_starts_another(monkeypatch):
    monkeypatch.setenv("MOBILENET_EXPLORER_EXPORT_IDLE_S", "0.2")  # read by the worker at its start
    first = isolate.run(job_pid, small())
    isolate._WORKER.proc.wait(timeout=120)  # noqa: SLF001 - it ends by itself, idle
    second = isolate.run(job_pid, small())
    assert second not in (first, os.getpid())


def test_a_typo_in_the_idle_setting_is_said_and_the_worker_still_starts(monkeypatch, caplog):
    from mobilenet_core.cache import seconds_from_env

    for raw, expected in (("", 600.0), (" 0.2 ", 0.2), ("30", 30.0)):
        monkeypatch.setenv("MOBILENET_EXPLORER_EXPORT_IDLE_S", raw)
        assert seconds_from_env("MOBILENET_EXPLORER_EXPORT_IDLE_S", 600.0) == expected
    assert not caplog.text
    for wrong in ("ten minutes", "-1", "nan", "inf"):
        monkeypatch.setenv("MOBILENET_EXPLORER_EXPORT_IDLE_S", wrong)
        assert seconds_from_env("MOBILENET_EXPLORER_EXPORT_IDLE_S", 600.0) == 600.0
        assert "MOBILENET_EXPLORER_EXPORT_IDLE_S" in caplog.text  # said in the server log
    # the worker reads it when it starts: a typo there used to end it at import, every export failed
    started = subprocess.run(
        [sys.executable, "-c", "import mobilenet_core.isolate as i; print(i.IDLE_S)"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MOBILENET_EXPLORER_EXPORT_IDLE_S": "ten minutes"},
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "600.0"


def test_a_module_read_by_other_threads_is_never_changed_by_its_handing_over():
    """The INT8 runner hands over the module every session reads (Grad-CAM, feature maps)."""
    module = small("v2")
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        expected = module(x)
    stop, errors, outputs = threading.Event(), [], []

    def read():
        while not stop.is_set():
            try:
                with torch.no_grad():
                    outputs.append(torch.equal(module(x), expected))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(20):
            _, block, _ = isolate.split(module)
            block.close()
            block.unlink()
    finally:
        stop.set()
        reader.join()
    assert not errors and outputs and all(outputs)


def test_what_a_job_writes_to_stdout_does_not_garble_the_answer():
    module = small()
    assert isolate.run(job_writes_to_descriptor_1, module) != os.getpid()
    assert isolate.run(job_sum, module, 1.0) == pytest.approx(job_sum(module, 1.0), rel=1e-12)


def test_a_worker_that_ended_just_before_a_request_is_replaced(monkeypatch):
    module = small()
    first = isolate.run(job_pid, module)
    worker = isolate._WORKER  # noqa: SLF001
    worker.proc.kill()
    worker.proc.wait()
    real_poll, calls = worker.proc.poll, []

    def poll():  # the check before the request still sees it alive: it ended just after
        calls.append(1)
        return None if len(calls) == 1 else real_poll()

    monkeypatch.setattr(worker.proc, "poll", poll)
    second = isolate.run(job_pid, module)
    assert second not in (first, os.getpid()) and isolate._WORKER is not worker  # noqa: SLF001


def test_the_machines_peaks_are_measured_in_the_worker_with_the_callers_threads(monkeypatch, no_fallback):
    from mobilenet_core import measure

    def here(*args, **kwargs):
        raise AssertionError("measured in this process")

    # measured here, this would fail; the worker imports the module afresh, with its own function
    monkeypatch.setattr(measure, "_onnxruntime_kernels", here)
    peaks = measure.measure_peaks(0.05, threads=1, isolated=True)
    assert peaks.threads == 1 and "1 threads" in peaks.method
    assert peaks.flops_per_s > 1e8 and any("onnxruntime" in name for name, _ in peaks.kernels)


def test_a_worker_whose_server_ended_during_a_job_ends_quietly(tmp_path):
    """The server stopped (its end of the pipes closed) while the worker ran a job: the answer has
    no reader. The worker ends, without a traceback in the log it shares with the server."""
    module = small()
    structure, block, layout = isolate.split(module)
    started = tmp_path / "started"
    root = str(Path(isolate.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    worker = subprocess.Popen([sys.executable, "-m", "mobilenet_core.isolate"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=root)  # fmt: skip
    try:
        request = (sys.path, __name__, job_waits.__qualname__, structure, block.name, layout, (str(started),))
        isolate._send(worker.stdin, request)  # noqa: SLF001
        while not started.exists():  # the job is running
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.02)
        worker.stdout.close()  # the server is gone
        worker.stdin.close()
        log = worker.stderr.read().decode()  # until the worker ends
        assert worker.wait() == 0 and "Traceback" not in log and "BrokenPipe" not in log, log
    finally:
        worker.kill()
        worker.wait()
        block.close()
        block.unlink()
