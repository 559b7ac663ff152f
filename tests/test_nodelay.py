"""The server's connections have Nagle's algorithm off (app/nodelay.py).

Streamlit binds its own listening socket (protocol field 0); asyncio turns Nagle off only on
sockets whose protocol reads TCP, so every connection kept it on and a run's later messages
waited up to 40 ms for the browser's delayed acknowledgement. These tests use Streamlit's own
`_bind_socket` and asyncio's own server, as `streamlit run` does."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
from streamlit.web.server.starlette.starlette_server import _bind_socket

from app.nodelay import set_nodelay_on_open_sockets

pytestmark = pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="needs /dev/fd")


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def served_connection_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of the socket asyncio's server gets for a new connection to `listener`."""

    async def main() -> int:
        seen = asyncio.get_running_loop().create_future()

        class Report(asyncio.Protocol):
            def connection_made(self, transport):
                seen.set_result(nodelay(transport.get_extra_info("socket")))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Report, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        try:
            return await asyncio.wait_for(seen, 60)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def test_streamlit_s_listener_leaves_nagle_on():
    """The bug the module works around. When this fails, Streamlit (or asyncio) sets TCP_NODELAY
    itself: app/nodelay.py is no longer needed."""
    listener = _bind_socket("127.0.0.1", 0, 8)
    assert listener.proto == 0
    assert served_connection_nodelay(listener) == 0


def test_the_listener_s_connections_open_and_later_ones_get_nodelay():
    listener = _bind_socket("127.0.0.1", 0, 8)
    listener.setblocking(True)
    client = socket.create_connection(listener.getsockname()[:2])
    accepted, _ = listener.accept()  # a connection made before the app's first run
    try:
        assert nodelay(accepted) == 0
        assert set_nodelay_on_open_sockets() >= 3  # the listener, both ends of the connection
        assert nodelay(accepted) == 1
        assert nodelay(listener) == 1
        listener.setblocking(False)
        assert served_connection_nodelay(listener) == 1  # a later connection inherits it
        client.sendall(b"still open")  # the descriptors were only looked at, not closed
        assert accepted.recv(64) == b"still open"
    finally:
        client.close()
        accepted.close()
        listener.close()


def test_other_descriptors_are_left_open_and_working(tmp_path):
    left, right = socket.socketpair()  # AF_UNIX, like asyncio's self-pipe
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    read_end, write_end = os.pipe()
    file = (tmp_path / "f.txt").open("w+")
    try:
        set_nodelay_on_open_sockets()
        left.sendall(b"unix")
        assert right.recv(16) == b"unix"
        udp.sendto(b"udp", udp.getsockname())
        assert udp.recv(16) == b"udp"
        os.write(write_end, b"pipe")
        assert os.read(read_end, 16) == b"pipe"
        file.write("file")
        file.seek(0)
        assert file.read() == "file"
    finally:
        for closing in (left.close, right.close, udp.close, file.close):
            closing()
        os.close(read_end)
        os.close(write_end)


def test_nothing_is_touched_while_a_default_socket_timeout_is_set():
    """With a default timeout, making a Python socket for a descriptor would switch the shared
    descriptor to non-blocking: the walk is skipped instead."""
    listener = _bind_socket("127.0.0.1", 0, 8)
    listener.setblocking(True)
    socket.setdefaulttimeout(5)
    try:
        assert set_nodelay_on_open_sockets() == 0
        assert nodelay(listener) == 0
        assert listener.getblocking()
    finally:
        socket.setdefaulttimeout(None)
        listener.close()
