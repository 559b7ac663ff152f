"""The server's messages go out when they are written, not 40 ms later.

Streamlit 1.67 binds its listening socket itself (`starlette_server._bind_socket`, to find a free
port) with `socket.socket(family=...)`, whose protocol field is 0. A socket accepted from it
inherits that 0, and asyncio turns Nagle's algorithm off (TCP_NODELAY) only on a socket whose
protocol reads IPPROTO_TCP (`base_events._set_nodelay`), so every connection to the app kept
Nagle on. The run's first messages go out at once; each later small write waits until the
browser acknowledges the data in flight, and a receiver delays its acknowledgement by up to
40 ms (Linux's delayed ACK). Same bug, other servers: uvicorn #3149 (`--workers N`).

Measured with a protocol student (no browser), one user on a quiet 2-core machine: a rerun of
Overview sent its first two messages at once and the other 43 together about 40 ms later, when the
run itself took 9 ms. `benchmarks/bench_rerun.py <worktree of 769dbc1> --rounds 3 --reruns 8`,
from the request to the run's last message: Overview 45 -> 17 ms, Classify 46 -> 16, the SE
lesson 46 -> 24, Compare 40 -> 31; the server's CPU unchanged. In Chromium
(`benchmarks/bench_browser.py`) the gain is within that benchmark's noise, perhaps hidden by the
browser's drawing; the first SE lesson in a new tab was slower with it in both of the session's
runs (README, "Nagle's algorithm on every connection"), for a reason not established.

`set_nodelay_on_open_sockets()` sets TCP_NODELAY on every TCP socket the process has open: the
listening socket, whose later connections inherit it (Linux copies it to each accepted socket:
tests/test_nodelay.py; on a system that does not, each session's first run sets it on its own
connection), and the connections already accepted. It runs on each session's first run
(app/main.py): at a class's start, a connection accepted while the first walk was going on, before
the listener had the option, is set by its own session's first run (a walk of the open
descriptors took 1.5 ms with 100 sockets open, on a busy machine).

It only sets a socket option: the Python socket made for a descriptor is detached, never closed,
and made only while no default socket timeout is set (with one, making it would switch the shared
descriptor to non-blocking; the walk is then skipped). A socket closed meanwhile is skipped, one
whose number was reused by another TCP socket gets the same harmless option, and an outgoing TCP
connection of the process (a checkpoint's download) gets it too, which changes nothing for a bulk
transfer. The descriptors are found in /dev/fd (Linux and macOS); where there is none (Windows)
it does nothing and the server works as before, with the delay. Any error is logged and the app
runs on: this is about latency, never a reason for a page to fail. Not under AppTest or a bare
`python` (no server)."""

from __future__ import annotations

import logging
import os
import socket
import stat
import sys

_log = logging.getLogger(__name__)
FD_DIRS = ("/dev/fd", "/proc/self/fd")


def tcp_nodelay(fd: int) -> bool:
    """Turn Nagle's algorithm off on descriptor `fd` if it is a TCP socket; whether it was one."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        sock = socket.socket(fileno=fd)  # another view of the same socket, not a new one
    except OSError:  # closed meanwhile, or not a socket Python can look at
        return False
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return True
    except OSError:
        return False
    finally:
        sock.detach()  # the descriptor stays open: it belongs to whoever opened it


def set_nodelay_on_open_sockets() -> int:
    """TCP_NODELAY on every TCP socket of this process; how many there were."""
    folder = next((d for d in FD_DIRS if os.path.isdir(d)), None)
    if folder is None or socket.getdefaulttimeout() is not None:
        _log.info("no descriptor folder (%s) or a default socket timeout: Nagle's algorithm stays on",
                  ", ".join(FD_DIRS))  # fmt: skip
        return 0
    fds = []
    for name in os.listdir(folder):
        if name.isdigit():
            fds.append(int(name))
    return sum(tcp_nodelay(fd) for fd in fds)


def install_on_server() -> None:
    """When a Streamlit server runs: TCP_NODELAY on its sockets (app/main.py: once per session)."""
    from streamlit.runtime import Runtime

    if "streamlit.web.bootstrap" not in sys.modules or not Runtime.exists():
        return
    try:
        count = set_nodelay_on_open_sockets()
    except Exception:  # noqa: BLE001 - a latency fix must never stop a page
        _log.warning("TCP_NODELAY could not be set: the server's messages may wait for ACKs", exc_info=True)
        return
    _log.debug("TCP_NODELAY on %d sockets", count)
