"""Published weights for a whole class at once: one download per file however many sessions and
server processes ask, resume after a dropped connection, and typed errors (no server path, no
errno) for the ways a download goes wrong. Everything is served from 127.0.0.1; the tests wait
on events and on what the processes print, never on sleeps."""

from __future__ import annotations

import errno
import hashlib
import http.server
import json
import os
import queue
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import test_predict
from test_predict import _RangeHandler, checkpoint_bytes

import mobilenet_core.weights as weights
from mobilenet_core import CheckpointError
from mobilenet_core.registry import get_weights
from mobilenet_core.weights import cached_file, download, ensure_weights, partial_file

ROOT = Path(__file__).resolve().parent.parent
NAME = "mobilenetv3_small_050.lamb_in1k"
torch_home = test_predict.torch_home  # the fixture: TORCH_HOME (the cache) in a temporary folder
WAIT_S = 120  # bound on any wait for another thread or process; a pass takes seconds
CHUNK = 1 << 16  # as the library reads: a waiting caller sees the first chunk on disk


class _ClassroomHandler(_RangeHandler):
    """test_predict's handler with a class's bad days: every body pauses after its first chunk
    until `gate` is set (a slow server, released by the test); the first `drops` bodies are cut
    after `drop_after` bytes; Range can be ignored and Content-Length left out."""

    files: dict[str, bytes] = {}
    requests: list[str] = []
    declared: dict[str, str] = {}
    sent: list[int] = []  # body bytes of each GET
    gate: threading.Event | None = None
    drops = 0
    drop_after = 0
    ignore_range = False
    no_length = False
    guard = threading.Lock()

    def do_GET(self):  # noqa: N802 - http.server's naming
        cls = type(self)
        data = self.files.get(self.path)
        with cls.guard:
            cls.requests.append(self.headers.get("Range") or "")
            drop = cls.drops > 0
            cls.drops -= drop
        if data is None:
            self.send_error(404)
            return
        start = 0
        if (rng := self.headers.get("Range")) and not cls.ignore_range:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        if not cls.no_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        end = min(len(body), cls.drop_after) if drop else len(body)
        sent = 0
        try:
            while sent < end:
                piece = body[sent : min(sent + CHUNK, end)]
                self.wfile.write(piece)
                self.wfile.flush()
                sent += len(piece)
                if cls.gate is not None:
                    cls.gate.wait(WAIT_S)
        finally:
            with cls.guard:
                cls.sent.append(sent)


@pytest.fixture
def server():
    _ClassroomHandler.files, _ClassroomHandler.requests, _ClassroomHandler.sent = {}, [], []
    _ClassroomHandler.declared, _ClassroomHandler.gate = {}, None
    _ClassroomHandler.drops = _ClassroomHandler.drop_after = 0
    _ClassroomHandler.ignore_range = _ClassroomHandler.no_length = False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClassroomHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    if _ClassroomHandler.gate is not None:
        _ClassroomHandler.gate.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def data() -> bytes:
    return checkpoint_bytes("timm_mobilenetv3_small_050", ".safetensors")  # about 6 MB


def served(server: str, data: bytes, path: str = "/w.safetensors"):
    """The V3-Small 0.5 entry, its file served at `path`, its digest known."""
    _ClassroomHandler.files[path] = data
    return replace(get_weights(NAME), url=server + path, sha256=hashlib.sha256(data).hexdigest())


def cache_listing(torch_home: Path) -> list[str]:
    folder = torch_home / "hub" / "checkpoints"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def assert_in_users_words(error: CheckpointError, torch_home: Path) -> None:
    text = str(error)
    for leak in ("Errno", "errno", str(torch_home), "/hub/checkpoints", "No space left", "Traceback"):
        assert leak not in text, (leak, text)


# --- a whole class at once ------------------------------------------------------------------------

CHILD = """
import hashlib, json, sys
from dataclasses import replace
from mobilenet_core.registry import get_weights
from mobilenet_core.weights import ensure_weights

spec = json.loads(sys.argv[1])
entry = replace(get_weights(spec["name"]), url=spec["url"], sha256=spec["sha256"])
print("ready", flush=True)
sys.stdin.readline()
said = []

def progress(done, total):
    if done and not said:
        said.append(done)
        print("progress", done, total, flush=True)

path = ensure_weights(entry, progress)
print("done", hashlib.sha256(path.read_bytes()).hexdigest(), flush=True)
"""


def _start_child(entry, torch_home: Path):
    """A separate server process (a replica of scripts/serve.sh) that asks for `entry` when told
    to; its lines arrive on the returned queue."""
    spec = json.dumps({"name": entry.name, "url": entry.url, "sha256": entry.sha256})
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, spec],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TORCH_HOME": str(torch_home)},
    )
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.split() or [""])
        lines.put(["exited"])  # the process is gone: nothing more to wait for

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def _expect(lines: queue.Queue, word: str, process) -> list[str]:
    try:
        line = lines.get(timeout=WAIT_S)
    except queue.Empty:
        process.kill()
        pytest.fail(f"a server process said nothing for {WAIT_S} s: {process.stderr.read()[-2000:]}")
    if line[0] != word:
        process.kill()
        pytest.fail(f"expected {word!r}, got {line}: {process.stderr.read()[-2000:]}")
    return line


@pytest.mark.parametrize("dropped", [False, True], ids=["intact", "dropped_once"])
def test_twelve_sessions_and_two_processes_get_one_download(server, torch_home, data, dropped):
    """12 threads (sessions of one replica) and 2 processes (two more replicas) ask for one
    checkpoint while the server is slow: the body is held after its first chunk until every
    one of them has seen that chunk's progress. All get the intact file, and the server sends
    it once (twice in two pieces when the connection drops once: the holder resumes)."""
    entry = served(server, data)
    _ClassroomHandler.gate = gate = threading.Event()
    if dropped:
        _ClassroomHandler.drops, _ClassroomHandler.drop_after = 1, len(data) // 2
    children = [_start_child(entry, torch_home) for _ in range(2)]
    for process, lines in children:
        _expect(lines, "ready", process)  # torch imported: the processes ask as fast as the threads

    seen = [threading.Event() for _ in range(12)]
    results: dict[int, object] = {}

    def session(i: int) -> None:
        def progress(done, total):
            if done:
                seen[i].set()

        try:
            results[i] = ensure_weights(entry, progress)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=session, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for process, _ in children:
        process.stdin.write("go\n")
        process.stdin.flush()
    everyone_saw_progress = all(event.wait(WAIT_S) for event in seen)
    for process, lines in children:
        _expect(lines, "progress", process)
    gate.set()  # the slow server goes on
    for thread in threads:
        thread.join(WAIT_S)
    digests = []
    for process, lines in children:
        line = lines.get(timeout=WAIT_S)
        digests.append(line[1] if line[0] == "done" else process.stderr.read().strip().splitlines()[-1:])
        process.wait(WAIT_S)

    got = sum(results.get(i) == cached_file(entry) for i in range(12)) + digests.count(entry.sha256)
    summary = (
        f"{got} of 14 got the file; {len(_ClassroomHandler.requests)} GETs, "
        f"{sum(_ClassroomHandler.sent)} body bytes for a {len(data)}-byte file; "
        f"failures: {[r for r in results.values() if isinstance(r, Exception)][:2]} {digests}"
    )
    assert everyone_saw_progress and got == 14, summary
    assert cached_file(entry).read_bytes() == data
    if dropped:  # the holder resumed where the connection dropped: two pieces, one file's bytes
        assert _ClassroomHandler.requests == ["", f"bytes={len(data) // 2}-"], summary
    else:
        assert _ClassroomHandler.requests == [""], summary
    assert sum(_ClassroomHandler.sent) == len(data), summary
    assert cache_listing(torch_home) == [entry.filename]  # no lock, part or temporary file left


def test_a_failed_download_is_one_failure_for_the_class_not_one_each(server, torch_home, data):
    """The connection drops every time: the holder gives up after its attempts, and the six
    sessions that waited for it get its typed error instead of trying six times more."""
    entry = served(server, data)
    _ClassroomHandler.gate = gate = threading.Event()
    quarter = len(data) // 4
    _ClassroomHandler.drops, _ClassroomHandler.drop_after = 99, quarter  # each attempt gets a quarter
    seen = [threading.Event() for _ in range(6)]
    errors: dict[int, object] = {}

    def session(i: int) -> None:
        try:
            ensure_weights(entry, lambda done, total: done and seen[i].set())
        except CheckpointError as exc:
            errors[i] = exc

    threads = [threading.Thread(target=session, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    assert all(event.wait(WAIT_S) for event in seen)
    gate.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert {errors[i].code for i in range(6)} == {"interrupted"}
    assert len(_ClassroomHandler.requests) == weights._ATTEMPTS  # one holder's attempts, nobody else's
    assert not cached_file(entry).exists()
    assert_in_users_words(errors[0], torch_home)
    # the part is kept, and a later request continues it
    assert cache_listing(torch_home) == [partial_file(entry).name]
    _ClassroomHandler.drops = 0
    assert ensure_weights(entry).read_bytes() == data
    assert _ClassroomHandler.requests[-1] == f"bytes={weights._ATTEMPTS * quarter}-"
    assert cache_listing(torch_home) == [entry.filename]


# --- resume, restart, and the typed errors ----------------------------------------------------------


def test_a_dropped_connection_is_resumed_where_it_stopped(server, torch_home, data):
    entry = served(server, data)
    _ClassroomHandler.drops, _ClassroomHandler.drop_after = 1, len(data) // 3
    seen = []
    path = download(entry, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == data
    assert _ClassroomHandler.requests == ["", f"bytes={len(data) // 3}-"]
    assert _ClassroomHandler.sent == [len(data) // 3, len(data) - len(data) // 3]
    assert seen[-1] == (len(data), len(data)) and all(total == len(data) for _, total in seen)


def test_a_server_that_ignores_range_restarts_from_zero(server, torch_home, data):
    """It answers 200 with the whole file to a Range request: the part is rewritten, not appended to."""
    entry = served(server, data)
    _ClassroomHandler.ignore_range = True
    part = partial_file(entry)
    part.parent.mkdir(parents=True)
    part.write_bytes(data[: len(data) // 3])
    assert download(entry).read_bytes() == data
    assert _ClassroomHandler.requests == [f"bytes={len(data) // 3}-"] and _ClassroomHandler.sent == [
        len(data)
    ]
    assert cache_listing(torch_home) == [entry.filename]


def test_a_part_that_is_not_the_start_of_the_file_is_downloaded_again(server, torch_home, data):
    """A part left by an old version that wrote it from many sessions at once: the resumed file
    fails its digest, and one download from zero follows."""
    entry = served(server, data)
    part = partial_file(entry)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 1000)
    assert download(entry).read_bytes() == data
    assert _ClassroomHandler.requests == ["bytes=1000-", ""]


def test_no_content_length_is_checked_by_the_digest(server, torch_home, data):
    entry = served(server, data)
    _ClassroomHandler.no_length = True
    totals = set()
    assert download(entry, progress=lambda done, total: totals.add(total)).read_bytes() == data
    assert totals == {None}
    # without a length, a cut body cannot be told from the end: the digest catches it
    cut = served(server, data, "/cut.safetensors")
    cut = replace(cut, filename="cut_" + cut.filename)
    _ClassroomHandler.drops, _ClassroomHandler.drop_after = 1, len(data) // 2
    with pytest.raises(CheckpointError) as caught:
        download(cut)
    assert caught.value.code == "corrupt" and not cached_file(cut).exists()
    assert not partial_file(cut).exists()
    assert_in_users_words(caught.value, torch_home)


@pytest.mark.parametrize("source", ["server", "mirror"])
def test_a_full_disk_is_a_typed_error_and_leaves_nothing(
    server, torch_home, data, tmp_path, monkeypatch, source
):
    entry = served(server, data)
    if source == "mirror":
        mirror = tmp_path / "usb"
        mirror.mkdir()
        (mirror / entry.filename).write_bytes(data)
        monkeypatch.setenv(weights.MIRROR_ENV, str(mirror))
    written = []

    def full(out, chunk):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device", str(out.name))
        written.append(len(chunk))
        out.write(chunk)

    monkeypatch.setattr(weights, "_write_chunk", full)
    with pytest.raises(CheckpointError) as caught:
        download(entry)
    assert caught.value.code == "disk_full" and "disk space" in str(caught.value)
    assert_in_users_words(caught.value, torch_home)
    assert cache_listing(torch_home) == []  # no final file, no part, no temporary file, no lock


def test_an_unreachable_server_and_an_http_error_say_so_without_a_path(server, torch_home, data):
    entry = served(server, data)
    with pytest.raises(CheckpointError) as caught:
        download(replace(entry, url=server + "/missing.safetensors"))
    assert caught.value.code == "server" and "HTTP 404" in str(caught.value)
    with pytest.raises(CheckpointError) as caught:
        download(replace(entry, url="http://127.0.0.1:9/w.safetensors"))
    assert caught.value.code == "offline" and "--untrained" in str(caught.value)
    assert_in_users_words(caught.value, torch_home)
    assert cache_listing(torch_home) == []


# --- mirrors and fetching ahead of class ------------------------------------------------------------


def test_hf_endpoint_and_the_torchvision_setting_change_the_url(monkeypatch):
    timm = get_weights(NAME)
    tv = get_weights("tv_mobilenet_v3_small.IMAGENET1K_V1")
    monkeypatch.delenv(weights.HF_ENDPOINT_ENV, raising=False)
    monkeypatch.delenv(weights.TORCHVISION_URL_ENV, raising=False)
    assert (weights.source_url(timm), weights.source_url(tv)) == (timm.url, tv.url)
    monkeypatch.setenv(weights.HF_ENDPOINT_ENV, "https://hf-mirror.example/")
    monkeypatch.setenv(weights.TORCHVISION_URL_ENV, "http://10.0.0.5:8000/tv")
    assert weights.source_url(timm) == f"https://hf-mirror.example/timm/{NAME}/resolve/main/model.safetensors"
    assert weights.source_url(tv) == "http://10.0.0.5:8000/tv/mobilenet_v3_small-047dcff4.pth"


def test_downloads_go_to_the_mirror_servers(server, torch_home, data, monkeypatch):
    # timm's file through HF_ENDPOINT, checked against the digest the (mirrored) Hub declares
    path = f"/timm/{NAME}/resolve/main/model.safetensors"
    _ClassroomHandler.files[path] = data
    _ClassroomHandler.declared[path] = hashlib.sha256(data).hexdigest()
    monkeypatch.setenv(weights.HF_ENDPOINT_ENV, server)
    assert ensure_weights(get_weights(NAME)).read_bytes() == data
    # torchvision's through MOBILENET_EXPLORER_TORCHVISION_URL, checked against its name's digest
    pth = checkpoint_bytes("tv_mobilenet_v3_small")
    prefix = hashlib.sha256(pth).hexdigest()[:8]
    name = f"mobilenet_v3_small-{prefix}.pth"
    tv = replace(
        get_weights("tv_mobilenet_v3_small.IMAGENET1K_V1"),
        url=f"https://download.pytorch.org/models/{name}",
        filename=name,
        sha256_prefix=prefix,
    )
    _ClassroomHandler.files[f"/models/{name}"] = pth
    monkeypatch.setenv(weights.TORCHVISION_URL_ENV, server + "/models")
    assert ensure_weights(tv).read_bytes() == pth
    assert _ClassroomHandler.requests == ["", ""]


def test_a_local_folder_mirror_is_used_and_a_corrupt_copy_refused(torch_home, data, tmp_path, monkeypatch):
    entry = replace(
        get_weights(NAME), url="http://127.0.0.1:9/nowhere", sha256=hashlib.sha256(data).hexdigest()
    )
    mirror = tmp_path / "usb"
    mirror.mkdir()
    monkeypatch.setenv(weights.MIRROR_ENV, str(mirror))
    (mirror / entry.filename).write_bytes(data[:-4] + b"evil")
    with pytest.raises(CheckpointError) as caught:
        ensure_weights(entry)
    assert caught.value.code == "mirror_corrupt" and weights.MIRROR_ENV in str(caught.value)
    assert str(mirror) not in str(caught.value) and cache_listing(torch_home) == []
    (mirror / entry.filename).write_bytes(data)
    seen = []
    assert ensure_weights(entry, lambda done, total: seen.append((done, total))).read_bytes() == data
    assert seen[-1] == (len(data), len(data))  # no network: the unreachable URL was never needed
    # a timm file with no digest in the registry: the digest file beside it in the mirror is checked
    unknown = replace(get_weights("mobilenetv3_small_075.lamb_in1k"), url="http://127.0.0.1:9/nowhere")
    (mirror / unknown.filename).write_bytes(data)
    (mirror / (unknown.filename + ".sha256")).write_text("0" * 64 + "\n")
    with pytest.raises(CheckpointError, match="damaged"):
        ensure_weights(unknown)
    (mirror / (unknown.filename + ".sha256")).write_text(hashlib.sha256(data).hexdigest() + "\n")
    path = ensure_weights(unknown)
    assert path.with_name(path.name + ".sha256").read_text().strip() == hashlib.sha256(data).hexdigest()


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mobilenet_core", *args],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_cli_downloads_ahead_of_class_and_lists_the_cache(server, torch_home, data):
    path = f"/timm/{NAME}/resolve/main/model.safetensors"
    _ClassroomHandler.files[path] = data
    _ClassroomHandler.declared[path] = hashlib.sha256(data).hexdigest()
    env = {"TORCH_HOME": str(torch_home), weights.HF_ENDPOINT_ENV: server}
    result = cli("weights", "download", NAME, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"{weights.HF_ENDPOINT_ENV}={server}" in lines
    assert lines[2].startswith("1 of 1 checkpoints to fetch, about ")  # the total before any byte
    assert "100%" in result.stderr  # the progress bar
    listing = cli("weights", "list", env=env)
    row = next(line for line in listing.stdout.splitlines() if line.startswith(f"timm/{NAME} "))
    assert f"cached {len(data) / 1e6:.1f} MB" in row
    assert "1 of 21 cached" in listing.stdout
    # --all prints the total first; unreachable servers give one error line each, no traceback
    closed = {
        weights.HF_ENDPOINT_ENV: "http://127.0.0.1:9",
        weights.TORCHVISION_URL_ENV: "http://127.0.0.1:9",
    }
    result = cli("weights", "download", "--all", env={**env, **closed})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "20 of 21 checkpoints to fetch, about" in result.stdout.splitlines()[3]
    assert (
        result.stderr.count("error: ") == 20 and "20 of 21 checkpoints could not be fetched" in result.stderr
    )
