"""A class on one machine: scripts/serve.sh --replicas 2 behind nginx (installed by setup.sh).
Two students classify a photo each (uploads need session affinity), a replica dies, newcomers
still get a working app, and their uploads still reach their sessions after the dead replica is
back. Traffic stays on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from appdriver import CHROMIUM, FLAGS, ROOT, idle  # noqa: E402
from load import PATIENCE_MS, PHOTO, classify_in_page, classify_opened, drop_photo, open_classify  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# the words of the page's message for dropped files this server does not have (its start)
LOST = tomllib.loads((ROOT / "app" / "locales" / "en.toml").read_text(encoding="utf-8"))["ui"][
    "upload_lost"
].split(" {n}")[0]


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


def served_by(url: str) -> str:
    """The replica that answers a browser without the affinity cookie (nginx's X-Mne-Replica)."""
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
        return response.headers.get("X-Mne-Replica", "")


def assert_frontend_files_come_from_nginx(url: str) -> None:
    """The page's files (Streamlit's frontend, the charts' Plotly bundle) are nginx's, read from
    disk and compressed, not a replica's (no X-Mne-Replica): the same bytes as the packages'."""
    import gzip
    import re

    import streamlit

    from app.chart import BUNDLE, bundle_path

    with urllib.request.urlopen(f"{url}/", timeout=30) as response:
        entry = re.search(r'src="\.?/?(static/js/index\.[^"]+\.js)"', response.read().decode()).group(1)
    files = {
        entry: Path(streamlit.__file__).parent / "static" / entry,
        bundle_path().replace("../../", ""): BUNDLE,
    }
    for path, local in files.items():
        request = urllib.request.Request(f"{url}/{path}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            headers, body = response.headers, response.read()
        assert "X-Mne-Replica" not in headers, f"{path} came from a replica"
        assert headers["Content-Type"].startswith("text/javascript"), path  # a module script's type
        assert headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(body) == local.read_bytes(), path
    assert "immutable" in urllib.request.urlopen(f"{url}/{entry}", timeout=30).headers["Cache-Control"]


def browser_replica(context) -> str:
    return {c["name"]: c["value"] for c in context.cookies()}.get("mne_replica", "")


def test_two_replicas_keep_sessions_together_and_survive_a_dead_replica(class_server):
    from playwright.sync_api import sync_playwright

    url, port, run = class_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        laptop = {"width": 1400, "height": 1000}
        students = [browser.new_context(viewport=laptop) for _ in range(2)]
        for context in students:  # a click waits as long as the other waits, not Playwright's 30 s
            context.set_default_timeout(PATIENCE_MS)
        for context in students:  # an upload reaches the replica of the session: the top-5 shows
            page = context.new_page()
            assert len(classify_in_page(page, url, "v3_small", 0.6)) == 5
        assert_frontend_files_come_from_nginx(url)  # and the pages above were drawn from them
        # the second student's websocket went to the replica with fewer, and each cookie names its own
        assert sorted(browser_replica(c) for c in students) == ["r1", "r2"]
        orphan = next(c for c in students if browser_replica(c) == "r1")
        # replica 1 dies, and its supervisor waits (stopped) until the newcomers below have come
        supervisor = int((run / "replica1.supervisor.pid").read_text())
        os.kill(supervisor, signal.SIGSTOP)
        killed = replica_pid(port + 1)
        os.kill(killed, signal.SIGKILL)
        # two newcomers open Classify while replica 1 is down: their sessions live on replica 2
        newcomers = [browser.new_context(viewport=laptop).new_page() for _ in range(2)]
        for page in newcomers:
            page.set_default_timeout(PATIENCE_MS)
        try:
            for page in newcomers:
                open_classify(page, url, "v2", 0.5)
                assert browser_replica(page.context) == "r2"
        finally:
            os.kill(supervisor, signal.SIGCONT)
        # the student whose replica died is reconnected to the live one, and the cookie follows
        deadline = time.time() + 120
        while time.time() < deadline and browser_replica(orphan) != "r2":
            time.sleep(0.5)
        assert browser_replica(orphan) == "r2"
        # its page still lists the photo it dropped, which replica 2 never had: the page says so
        # (it showed the photo listed and nothing else), and the photo dropped again is classified
        page = orphan.pages[0]
        page.get_by_text(LOST, exact=False).wait_for(timeout=PATIENCE_MS)
        idle(page, PATIENCE_MS / 1000)  # the run is over: the old page's chart was stale until then
        assert not page.locator(".js-plotly-plot").count()  # its results went with replica 1
        page.locator(f'.st-key-images button[aria-label="Remove {PHOTO.name}"]').click()
        page.get_by_text(LOST, exact=False).wait_for(state="detached", timeout=PATIENCE_MS)
        assert len(drop_photo(page, "v3_small", 0.6)) == 5
        # the supervisor starts replica 1 again, and nginx sends new browsers to it again
        deadline, newest = time.time() + 120, ""
        while time.time() < deadline and newest != "r1":
            time.sleep(0.5)
            newest = served_by(url)
        assert newest == "r1" and replica_pid(port + 1) != killed
        # the newcomers' uploads still reach replica 2, which holds their sessions (a replica
        # chosen by a hash of a random key sent half of them to the restarted replica: HTTP 400)
        for page in newcomers:
            assert browser_replica(page.context) == "r2"
            assert len(classify_opened(page, "v2", 0.5)) == 5
        browser.close()
    assert "restarting" in (run / "replica1.log").read_text()
    assert PHOTO.exists()
