"""One wake-up of the server's event loop for a burst of messages, not one per message.

Every element a script run draws is a message the script thread hands to the server's asyncio
event loop with `call_soon_threadsafe` (Streamlit 1.67), and the loop, handling it, calls it again
to signal that a message is queued. asyncio writes a byte into the loop's self-pipe on every such
call, so a page of 45 elements costs some 90 `send` system calls, each waking the loop's thread
(the script thread's wake it and take the GIL from the script to read one byte and run one
callback). py-spy on a served app put 15 % of the server's CPU in `_write_to_self` while a student
moved α (issue 24). A byte already unread in the pipe wakes the loop as well as ninety do: the
later ones are only cost.

`coalesce_wakeups(loop)` writes the byte only when none is pending: a flag set by the write and
cleared by the loop once it has read the pipe. Why no wake-up is lost (the callback is always
appended to the loop's ready queue before the flag is read):
- the loop blocks in `select` only when its ready queue is empty, and a callback queued after it
  looked finds the flag either clear (so it writes) or set by a write whose byte the loop has not
  read yet (the flag is cleared after each read), and that byte wakes it;
- a callback queued while the loop is awake is in the queue when it next looks, whatever the flag;
- a write that fails for a full pipe leaves unread bytes behind it; one that raises (a signal
  handler's exception on the main thread) clears the flag again.
Two threads that both find the flag clear both write: one wake-up too many, never one too few.
aioca's and zuvloop's `call_soon_threadsafe` coalesce the same way.

Measured: `benchmarks/bench_rerun.py <worktree of the tree before> --rounds 3 --reruns 8`, two
runs: a rerun's server CPU 1.05-1.28x lower on every row in each run (Overview 16-17.5 -> 15.0
core-ms, Compare 26-29 -> 22-24, a new photo's upload 55-60 -> 52.5); py-spy: `_write_to_self`
15 % -> 4 % of the server's CPU while α moves. Ctrl+C still stops the server: Streamlit's handler
schedules the stop through `call_soon_threadsafe` like any callback. Signals a loop handles itself
(`add_signal_handler`) write their bytes from Python's C handler, past this, and are still read.

It replaces two private methods of one loop object (not the class), so it installs only on a
Python it was tested on (TESTED_PYTHONS) whose selector loop still has them; on any other it
logs and does nothing: the server works as before, with one wake-up per message. Installed once
per process, on the loop's own thread, by the first run of the app (app/main.py imports this).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from asyncio.selector_events import BaseSelectorEventLoop

TESTED_PYTHONS = ((3, 11),)
_log = logging.getLogger(__name__)


def compatible(loop: asyncio.AbstractEventLoop, version: tuple[int, int] | None = None) -> bool:
    """Whether `loop` is the kind of loop this was written for (asyncio's selector loop, with a
    self-pipe it reads through `_process_self_data`), on a tested Python."""
    version = version or sys.version_info[:2]
    return (
        version in TESTED_PYTHONS
        and isinstance(loop, BaseSelectorEventLoop)
        and all(hasattr(loop, name) for name in ("_write_to_self", "_process_self_data", "_ready", "_csock"))
    )


def coalesce_wakeups(loop: asyncio.AbstractEventLoop) -> bool:
    """Make `loop` write its self-pipe's byte only when none is pending. Call it on the loop's own
    thread (or before the loop runs). Idempotent; returns whether the loop coalesces."""
    if getattr(loop, "_coalesces_wakeups", False):
        return True
    if not compatible(loop):
        _log.warning("not an asyncio selector loop on a tested Python (%s): one wake-up per message",
                     ", ".join(f"{major}.{minor}" for major, minor in TESTED_PYTHONS))  # fmt: skip
        return False
    write, process = loop._write_to_self, loop._process_self_data
    loop._wake_pending = False

    def process_and_rearm(data: bytes) -> None:
        loop._wake_pending = False  # after a read: a byte written from now on is still unread
        process(data)

    def write_once() -> None:
        if loop._wake_pending:
            return  # a byte the loop has not read yet will wake it
        loop._wake_pending = True
        try:
            write()
        except BaseException:  # no byte went out: the next call must write one
            loop._wake_pending = False
            raise

    # the reader first: a flag set by the new writer is always cleared by a read
    loop._process_self_data = process_and_rearm
    loop._write_to_self = write_once
    loop._coalesces_wakeups = True
    return True


def install_on_server(runtime=None) -> None:
    """Coalesce the wake-ups of the Streamlit server's loop (`runtime`'s, by default the running
    server's), once per process. Nothing under AppTest or in a bare `python`: no server runs."""
    if runtime is None:
        from streamlit.runtime import Runtime

        if "streamlit.web.bootstrap" not in sys.modules or not Runtime.exists():
            return
        runtime = Runtime.instance()
    try:
        loop = runtime._get_async_objs().eventloop
        if not getattr(loop, "_coalesces_wakeups", False):
            loop.call_soon_threadsafe(coalesce_wakeups, loop)
    except Exception:  # noqa: BLE001 - a runtime not started or already stopped: the app runs as before
        _log.warning("the server's event loop was not reachable: one wake-up per message", exc_info=True)


install_on_server()
