"""app.wakeups: the server's event loop wakes once per burst of messages and never misses one.

The loops here are real asyncio selector loops running on a thread of their own, with other
threads handing them callbacks, as the script threads of a class hand the server's loop their
messages. Each wait is on the callbacks' own state (an Event); HANG_S only bounds a run that would
otherwise never end: a lost wake-up leaves the loop asleep for good."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from app.wakeups import TESTED_PYTHONS, coalesce_wakeups, compatible, install_on_server

HANG_S = 300
pytestmark = pytest.mark.skipif(sys.version_info[:2] not in TESTED_PYTHONS,
                                reason="installs only on the Pythons it was tested on")  # fmt: skip


@contextmanager
def running(loop):
    """Run `loop` on a thread; at the end stop it by a byte written past the coalescing (so that a
    broken version still ends) and close it."""
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        loop._csock.send(b"\0")
        thread.join(HANG_S)
        if not thread.is_alive():
            loop.close()


def counting(loop) -> list[int]:
    """Count the bytes written into `loop`'s self-pipe (wraps the write before coalescing)."""
    writes = [0]
    write = loop._write_to_self

    def counted():
        writes[0] += 1
        write()

    loop._write_to_self = counted
    return writes


def test_a_burst_from_other_threads_runs_every_callback_with_fewer_wakeups():
    loop = asyncio.SelectorEventLoop()
    writes = counting(loop)
    assert coalesce_wakeups(loop)
    threads, per_thread = 4, 5000
    ran, done = [0], threading.Event()

    def callback():
        ran[0] += 1  # on the loop's thread only
        if ran[0] == threads * per_thread:
            done.set()

    def burst():
        for _ in range(per_thread):
            loop.call_soon_threadsafe(callback)

    with running(loop):
        senders = [threading.Thread(target=burst) for _ in range(threads)]
        for s in senders:
            s.start()
        for s in senders:
            s.join()
        assert done.wait(HANG_S), f"{ran[0]} of {threads * per_thread} callbacks ran: a wake-up was lost"
    assert writes[0] < threads * per_thread / 2, "the bytes were not coalesced"


def test_an_idle_loop_is_woken_by_each_callback_handed_to_it():
    """The loop sleeps in select between callbacks: each one must still wake it (a flag left set
    would leave every later one waiting forever)."""
    loop = asyncio.SelectorEventLoop()
    assert coalesce_wakeups(loop)
    ran = threading.Event()
    with running(loop):
        for i in range(2000):
            ran.clear()
            loop.call_soon_threadsafe(ran.set)
            assert ran.wait(HANG_S), f"callback {i} never ran: a wake-up was lost"


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_signals_still_reach_the_loop():
    """A loop's own signal handlers write their bytes into the same pipe from C: still read and
    handled. (Signal handlers belong to the main thread: this loop runs there.)"""
    loop = asyncio.SelectorEventLoop()
    assert coalesce_wakeups(loop)
    got = threading.Event()

    async def main():
        loop.add_signal_handler(signal.SIGUSR1, got.set)
        loop.call_soon_threadsafe(lambda: None)  # the flag set, then cleared by a read
        await asyncio.sleep(0.01)
        os.kill(os.getpid(), signal.SIGUSR1)
        while not got.is_set():
            await asyncio.sleep(0.01)  # the loop's own timer: it ends even if the signal is lost
        loop.remove_signal_handler(signal.SIGUSR1)

    try:
        loop.run_until_complete(asyncio.wait_for(main(), HANG_S))
    finally:
        loop.close()
    assert got.is_set()


def test_installing_is_idempotent_and_refuses_other_loops_and_pythons(caplog):
    loop = asyncio.SelectorEventLoop()
    try:
        assert coalesce_wakeups(loop)
        write = loop._write_to_self
        assert coalesce_wakeups(loop)
        assert loop._write_to_self is write  # not wrapped twice
        assert not compatible(loop, version=(3, 99))
    finally:
        loop.close()

    class NotASelectorLoop(asyncio.AbstractEventLoop):
        pass

    other = NotASelectorLoop()
    assert not coalesce_wakeups(other)
    assert "_write_to_self" not in vars(other)
    assert "one wake-up per message" in caplog.text


def test_the_server_loop_is_coalesced_from_a_script_thread_and_an_unstarted_one_is_left(caplog):
    """The app's first run installs it on the server's running loop, from the script's thread."""
    loop = asyncio.SelectorEventLoop()
    with running(loop):
        install_on_server(SimpleNamespace(_get_async_objs=lambda: SimpleNamespace(eventloop=loop)))
        installed = threading.Event()
        loop.call_soon_threadsafe(installed.set)  # after the install, which was queued first
        assert installed.wait(HANG_S)
        assert loop._coalesces_wakeups

    def not_started():
        raise RuntimeError("Runtime hasn't started yet!")

    install_on_server(SimpleNamespace(_get_async_objs=not_started))  # no exception into the app
    assert "one wake-up per message" in caplog.text
