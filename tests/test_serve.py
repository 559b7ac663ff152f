"""A class on one machine: scripts/serve.sh --replicas 2 behind nginx (installed by setup.sh).
Two students classify a photo each (uploads need session affinity), a replica dies, and a new
student still gets a working app. Traffic stays on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from appdriver import CHROMIUM, FLAGS, ROOT  # noqa: E402
from load import PHOTO, classify_in_page  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port_block(count: int) -> int:
    """A port P with P .. P + count - 1 all free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count >= 65535:
            continue
        try:
            sockets = []
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of ports")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def replica_pid(port: int) -> int:
    """The Streamlit process itself (its command line starts with the venv's python), not the
    supervising shell, whose command line names the same port."""
    pattern = f"^[^ ]*python[^ ]* .*streamlit run .*--server.port {port}( |$)"
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split()]
    assert pids, f"no replica on {port}"
    return pids[0]


@pytest.fixture
def class_server(tmp_path):
    port = free_port_block(3)
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "serve.sh"), "--replicas", "2", "--port", str(port), "--host",
         "127.0.0.1", "--dir", str(tmp_path / "run")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline and not healthy(url):
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.5)
    assert healthy(url), "the class server did not come up"
    yield url, port, tmp_path / "run"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    assert not healthy(url)


def test_two_replicas_keep_sessions_together_and_survive_a_dead_replica(class_server):
    from playwright.sync_api import sync_playwright

    url, port, run = class_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        students = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
        for context in students:  # an upload reaches the replica of the session: the top-5 shows
            page = context.new_page()
            assert len(classify_in_page(page, url, "v3_small", 0.6)) == 5
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            assert cookies.get("mne_replica")  # the affinity key nginx set
        killed = replica_pid(port + 1)
        os.kill(killed, signal.SIGKILL)
        time.sleep(0.5)
        newcomer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        assert len(classify_in_page(newcomer, url, "v2", 0.5)) == 5  # served by the live replica
        deadline = time.time() + 90  # and the dead one is started again by its supervisor
        while time.time() < deadline and not healthy(f"http://127.0.0.1:{port + 1}"):
            time.sleep(0.5)
        assert healthy(f"http://127.0.0.1:{port + 1}") and replica_pid(port + 1) != killed
        browser.close()
    assert "restarting" in (run / "replica1.log").read_text()
    assert PHOTO.exists()
