"""Capacity of one server and of two replicas, with simulated students that speak Streamlit's own
protocol (protobuf messages over the websocket, the HTTP upload the browser does), so that a
hundred sessions need no browser each.

    .venv/bin/python benchmarks/load_protocol.py [--sessions 10 30 60 120] [--think 1 3]

Every student: opens the app (V2, English), moves alpha three times, switches to Charts and to
Compare, opens Classify, picks the untrained network, uploads a photo with the same PUT the
browser sends, and reads the top-5. Think time between steps; students start over the first
10 s. The top-5 each student is shown must equal the library's serial computation (a
mismatch counts as an error). Traffic goes to 127.0.0.1 only; every run is bounded in time.

Prints, for one replica (`streamlit run`) and for `scripts/serve.sh --replicas 2` (nginx) in the
same run: per action p50 / p95 / max latency (ms), errors, the servers' CPU (% of one core) and
peak RSS; then the memory after every session closed and Streamlit's disconnected-session TTL
(2 min) has passed, and the peak when the largest class comes again (memory reused, not leaked).

Server CPU time per student action, in core-ms (utime + stime of the server processes, from
/proc/<pid>/stat, before and after): per action, measured on one student visiting alone after the
warm-up visit, once the server's own warm-up thread is done (nothing else runs on the server), and
per level, all the server's CPU time divided by the actions the students completed. What a CPU
four times slower pays is four times that.

    --replicas 1        one replica only (skip serve.sh)
    --root DIR          run the server from another checkout (a baseline: `git worktree add`)
    --env VAR=VALUE     an environment variable for the servers (e.g. a setting switched off)
    --distinct-photos   every upload is a photo no one uploaded before (the cat's pixels, with a
                        numbered text chunk in its PNG): a class of different photos, where the
                        server's results shared for a photo the class has in common do not help

    --published         the class with published weights (issue 21), on serve.sh --replicas 2:
                        every student opens the app on one of V2, V3-Large, V4 Conv-S and V4
                        Hybrid-L (spread over the class), opens Classify, which downloads the
                        model's default published checkpoint (through a mirror on 127.0.0.1 that
                        serves generated files in the published layout: published_mirror.py), and
                        uploads the photo: top-5 and Grad-CAM from those weights. Each level starts
                        the replicas on a new, empty weights cache (TORCH_HOME), so the class's
                        downloads and first builds are part of it ("empty cache"), then the same
                        class comes again to the same replicas ("again": warm, as the untrained
                        rows are measured), then one student per model alone (server CPU per
                        action and model). The mirror counts GETs and bytes per file. The untrained
                        visit above runs on its own replicas at the same level just before, for a
                        ratio on the same machine at the same load.
    --models M...       with --published: some of the four (e.g. --models v2 for a quick look)
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from appdriver import ROOT, wait_healthy  # noqa: E402
from bench_browser import TreeServer  # noqa: E402

sys.path.insert(0, str(ROOT))
PHOTO = ROOT / "assets" / "samples" / "chelsea_cat.png"
DISTINCT_PHOTOS = False  # --distinct-photos: photo() gives a new file (same pixels) each time
_photos = itertools.count()
_photo_lock = threading.Lock()
_photo_dir: list[Path] = []  # made on the first distinct photo, removed at exit


def photo(distinct: bool | None = None) -> Path:
    """The photo a student uploads: the cat, or with `distinct` (default: DISTINCT_PHOTOS) a copy no
    one uploaded before (a tEXt chunk with a number before the PNG's IEND: other bytes, the same
    pixels and top-5)."""
    if not (DISTINCT_PHOTOS if distinct is None else distinct):
        return PHOTO
    with _photo_lock:
        number = next(_photos)
        if not _photo_dir:
            _photo_dir.append(Path(tempfile.mkdtemp(prefix="mne_load_photos_")))
            atexit.register(shutil.rmtree, _photo_dir[0], ignore_errors=True)
    data = PHOTO.read_bytes()
    end = data.rindex(b"IEND") - 4  # the IEND chunk's length field
    body = b"tEXt" + b"student\0" + str(number).encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    path = _photo_dir[0] / f"cat_{number}.png"
    path.write_bytes(data[:end] + chunk + data[end:])
    return path


RUN_LIMIT_S = 240  # a run that takes longer is stopped and its unfinished students count as errors
TTL_S = 120  # Streamlit keeps a disconnected session this long (MemorySessionStorage)


def _words() -> dict[str, str]:
    import tomllib

    return tomllib.loads((ROOT / "app" / "locales" / "en.toml").read_text(encoding="utf-8"))["ui"]


WORDS = _words()  # the widgets are found by their English labels, as a user would find them
# the sync client wants a `with` block; each simulated student closes its connection in visit()
warnings.filterwarnings("ignore", message="connect\\(\\) must be used as a context manager")


# --- the protocol ------------------------------------------------------------------------------------


class Student:
    """One browser's worth of protocol: cookies, the websocket, widget ids read from the deltas."""

    def __init__(self, base: str):
        self.host, self.port = base.removeprefix("http://").split(":")
        self.cookies: dict[str, str] = {}
        self.widgets: dict[str, tuple[str, str]] = {}  # label -> (element type, widget id)
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.session_id = ""
        self.states: dict[str, object] = {}  # widget id -> value we set (sent on every rerun)
        self.fragments: dict[str, str] = {}  # widget id -> the fragment it is drawn in ("" for none)
        self.fragment = ""  # the fragment of the widget set last: the browser reruns that fragment
        self.page_hash = ""
        self.query = ""  # the address's query string: the browser sends it with every rerun
        self.elements: list = []

    def _http(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        conn.request(method, path, body=body, headers=head)
        response = conn.getresponse()
        data = response.read()
        self._keep_cookies(value for name, value in response.getheaders() if name.lower() == "set-cookie")
        conn.close()
        return response.status, data

    def _keep_cookies(self, set_cookies) -> None:
        for value in set_cookies:
            key, _, rest = value.partition("=")
            self.cookies[key.strip()] = rest.split(";")[0]

    def connect(self) -> None:
        from websockets.sync.client import connect

        status, _ = self._http("GET", "/")  # the page
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        self._http("GET", "/_stcore/health")  # as the browser does first: it sets the XSRF cookie
        xsrf = self.cookies.get("_streamlit_xsrf", "")
        self.ws = connect(
            f"ws://{self.host}:{self.port}/_stcore/stream",
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                                "Origin": f"http://{self.host}:{self.port}"},
            max_size=2**26, open_timeout=30,
        )  # fmt: skip
        self._keep_cookies(self.ws.response.headers.get_all("Set-Cookie"))  # behind serve.sh: the affinity

    def close(self) -> None:
        self.ws.close()

    def _send(self, msg) -> None:
        self.ws.send(msg.SerializeToString())

    def rerun(self, query: str | None = None, page: str | None = None, timeout: float = 120) -> None:
        """Run the script with our widget states; returns when the run has finished. Without
        `query`, the query string the app last put in the address, as a browser sends it; on
        another `page`, its app-wide parameters only, as the app's links keep them."""
        from urllib.parse import parse_qsl, urlencode

        from streamlit.proto.BackMsg_pb2 import BackMsg

        from app.navigation import APP_PARAMS

        if page is not None:
            self.page_hash = self.pages.get(page, "")
            if query is None:
                self.query = urlencode([(k, v) for k, v in parse_qsl(self.query) if k in APP_PARAMS])
        if query is not None:
            self.query = query
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        if page is None and query is None and self.fragment:  # as the browser asks for a widget in a fragment
            state.fragment_id = self.fragment
        self.fragment = ""
        for wid, value in self.states.items():
            w = state.widget_states.widgets.add()
            w.id = wid
            if isinstance(value, bool):
                w.bool_value = value
            elif isinstance(value, float):
                w.double_array_value.data.append(value)
            else:  # an uploader state proto
                w.file_uploader_state_value.CopyFrom(value)
        self._send(msg)
        self._receive_until_finished(timeout)

    def _receive_until_finished(self, timeout: float) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        deadline = time.time() + timeout
        self.elements = []
        while True:
            raw = self.ws.recv(timeout=max(deadline - time.time(), 0.01))
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
                self.pages.update({p.url_pathname: p.page_script_hash for p in msg.new_session.app_pages})
            elif kind == "page_info_changed":  # the browser puts it in its address
                self.query = msg.page_info_changed.query_string
            elif kind == "navigation":
                self.pages.update({p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages})
                if msg.navigation.page_script_hash:
                    self.page_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                etype = element.WhichOneof("type")
                self.elements.append((etype, element))
                inner = getattr(element, etype, None)
                if inner is not None and hasattr(inner, "id") and hasattr(inner, "label") and inner.id:
                    self.widgets[inner.label] = (etype, inner.id)
                    self.fragments[inner.id] = msg.delta.fragment_id
            elif kind == "script_finished":
                if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return

    def set(self, label: str, value) -> None:
        wid = self.widgets[label][1]
        self.states[wid] = value
        self.fragment = self.fragments.get(wid, "")

    def ask_upload_urls(self, name: str) -> str:
        """Send the browser's "where do I upload this file" request; returns its id (the answer,
        a file_urls_response, carries it)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.file_names.append(name)
        request.file_urls_request.session_id = self.session_id
        self._send(request)
        return request.file_urls_request.request_id

    def upload(self, label: str, path: Path) -> None:
        """The browser's upload: ask for URLs, PUT the file, then rerun with the uploader's state."""
        from streamlit.proto.Common_pb2 import FileUploaderState
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.ask_upload_urls(path.name)
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(self.ws.recv(timeout=60))
            if msg.WhichOneof("type") == "file_urls_response":
                urls = msg.file_urls_response.file_urls[0]
                break
        data = path.read_bytes()
        boundary = uuid.uuid4().hex
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
                "Content-Type: image/png\r\n\r\n")  # fmt: skip
        body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status, answer = self._http("PUT", urls.upload_url, body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": self.cookies.get("_streamlit_xsrf", ""),
        })  # fmt: skip
        if status != 204 and status != 200:
            raise RuntimeError(f"upload answered {status}: {answer[:200]!r}")
        state = FileUploaderState()
        info = state.uploaded_file_info.add()
        info.name, info.size, info.file_id = path.name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.set(label, state)
        self.rerun()

    def top5_shown(self) -> list[int]:
        """The class indices of the top-5 chart, best first."""
        for etype, element in self.elements:
            # a chart: app.chart's element (the figure's JSON in its data), or st.plotly_chart's
            # (a baseline revision before app.chart)
            if etype == "bidi_component" and element.bidi_component.component_name == "mobilenet_chart":
                spec = element.bidi_component.json
            elif etype == "plotly_chart":
                spec = element.plotly_chart.spec
            else:
                continue
            found = [int(i) for i in re.findall(r"\(#(\d+)\)", spec)]
            if len(found) >= 5:
                return found[:5][::-1]  # the chart draws the best class on top (last)
        return []

    def said(self) -> str:
        """What the last run showed, briefly: element types, and the text of alerts and exceptions."""
        words = []
        for etype, element in self.elements:
            if etype == "alert":
                words.append(f"alert: {element.alert.body[:80]}")
            elif etype == "exception":
                words.append(f"exception: {element.exception.type} {element.exception.message[:80]}")
            else:
                words.append(etype)
        return ", ".join(words)[:400] or "nothing"

    def cam_shown(self) -> bool:
        """Whether the page shows a Grad-CAM picture (an image captioned as one)."""
        return any(
            etype == "imgs" and any(img.caption == WORDS["grad_cam"] for img in element.imgs.imgs)
            for etype, element in self.elements
        )


# --- one student's visit -------------------------------------------------------------------------------


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # server CPU s per action (alone)
    shown: list[tuple[str, list[int]]] = field(default_factory=list)  # (model, top-5 shown) per student
    by_model: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # model -> action -> s
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(action, []).append(seconds)

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def add_cpu(self, action: str, seconds: float) -> None:
        with self.lock:
            self.cpu.setdefault(action, []).append(seconds)

    @property
    def actions(self) -> int:
        return sum(len(v) for v in self.times.values())


def expected_top5() -> list[int]:
    """The library's serial answer for the untrained V2 at alpha 1, 224 px, on the photo."""
    import mobilenet_core as mc
    from mobilenet_core.predict import classify, load_image
    from mobilenet_core.registry import default_preprocess

    module = mc.build("v2", 1.0, 224)
    prediction = classify(module, load_image(PHOTO), default_preprocess(224), k=5)
    return [c.index for c in prediction.top]


def stepper(results: Results, rng: random.Random, think: tuple[float, float], deadline: float,
            cpu_of: list[int] | None = None, around=None, model: str | None = None):  # fmt: skip
    """One student's `step(action, fn)`: runs fn (through `around` when given), records its time
    (also per model when `model` is given) and, with `cpu_of` (server pids), the server CPU it
    took; then the student thinks for a while."""

    def step(action: str, fn) -> None:
        if time.time() > deadline:
            raise TimeoutError("the run's time limit")
        cpu = sum(cpu_seconds(p) for p in cpu_of) if cpu_of else 0.0
        start = time.perf_counter()
        fn() if around is None else around(action, fn)
        took = time.perf_counter() - start
        results.add(action, took)
        if model is not None:
            with results.lock:
                results.by_model.setdefault(model, {}).setdefault(action, []).append(took)
        if cpu_of:
            time.sleep(0.3)  # the run's last messages leave the server's event loop
            results.add_cpu(action, sum(cpu_seconds(p) for p in cpu_of) - cpu)
        time.sleep(rng.uniform(*think))

    return step


def visit(base: str, results: Results, expected: list[int], think: tuple[float, float], seed: int,
          deadline: float, cpu_of: list[int] | None = None, around=None) -> None:  # fmt: skip
    """One student's visit; with `cpu_of` (server pids), each action's server CPU time is recorded
    too (in results.cpu), which is only meaningful for a student alone on the server. `around`,
    when given, runs each action: around(action, fn) (bench_app.py's profiler)."""
    rng = random.Random(seed)
    student = Student(base)
    step = stepper(results, rng, think, deadline, cpu_of, around)
    try:
        student.connect()
        step("open", lambda: student.rerun("model=v2&lang=en"))
        for alpha in rng.sample([0.5, 0.75, 1.4, 0.35], 3):
            student.set(WORDS["alpha"], alpha)
            step("move alpha", student.rerun)
        student.set(WORDS["alpha"], 1.0)
        step("view Charts", lambda: student.rerun(page="charts"))
        step("view Compare", lambda: student.rerun(page="compare"))
        step("open Classify", lambda: student.rerun(page="classify"))
        student.set(WORDS["use_untrained"], True)
        step("untrained network", student.rerun)
        step("upload photo", lambda: student.upload(WORDS["upload_images"], photo()))
        shown = student.top5_shown()
        if shown != expected:
            results.fail(f"top-5 {shown} differs from the serial {expected}")
    except Exception as exc:  # noqa: BLE001 - every failure is counted and the run goes on
        results.fail(f"{type(exc).__name__}: {str(exc)[:120]}")
    finally:
        try:
            student.close()
        except Exception:  # noqa: BLE001
            pass


def visit_published(base: str, results: Results, published, think: tuple[float, float], seed: int,
                    deadline: float, cpu_of: list[int] | None = None) -> None:  # fmt: skip
    """A student of the class with published weights: opens the app on `published.model`, opens
    Classify (which downloads the default published checkpoint on first use, or waits for the
    download another session started, and loads it), uploads the photo and reads the top-5 and
    Grad-CAM. The top-5 must be the library's serial answer with that file."""
    student = Student(base)
    step = stepper(results, random.Random(seed), think, deadline, cpu_of, model=published.model)
    try:
        student.connect()
        step("open", lambda: student.rerun(f"model={published.model}&lang=en"))
        step("Classify: published weights", lambda: student.rerun(page="classify"))
        if WORDS["upload_images"] not in student.widgets:
            raise RuntimeError(f"Classify showed no photo drop zone: {student.said()}")
        step("upload: top-5, Grad-CAM", lambda: student.upload(WORDS["upload_images"], photo()))
        shown = student.top5_shown()
        with results.lock:
            results.shown.append((published.model, shown))
        if shown != published.top5:
            what = "the untrained network's" if shown == published.untrained_top5 else "not the serial one"
            results.fail(f"{published.model}: top-5 {shown} is {what} ({published.top5})")
        if not student.cam_shown():
            results.fail(f"{published.model}: no Grad-CAM shown")
    except Exception as exc:  # noqa: BLE001 - every failure is counted and the run goes on
        results.fail(f"{type(exc).__name__}: {str(exc)[:120]}")
    finally:
        try:
            student.close()
        except Exception:  # noqa: BLE001
            pass


# --- servers and their processes ----------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time of a server and of its child processes (the export worker, mobilenet_core.isolate;
    Graphviz's dot): the live ones through /proc's children lists, the ended ones through the
    server's cutime and cstime."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a child that ended meanwhile: counted in its parent's cutime once reaped
        return 0.0
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(c) for c in task.read_text().split()]
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(c) for c in children)


def wait_quiet(pids: list[int], limit_s: float = 300.0) -> float:
    """Wait until the servers are idle: under 20 core-ms over a whole second (the app's own
    warm-up thread, started by the first session, builds networks and figures for a minute or
    more; its CPU is not a student's). Returns the seconds waited; gives up after `limit_s`."""
    start = time.time()
    before = sum(cpu_seconds(p) for p in pids)
    while time.time() - start < limit_s:
        time.sleep(1.0)
        now = sum(cpu_seconds(p) for p in pids)
        if now - before < 0.02:
            break
        before = now
    return time.time() - start


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def replica_pids(ports: list[int]) -> list[int]:
    pids = []
    for port in ports:
        pattern = f"^[^ ]*python[^ ]* .*streamlit run .*--server.port {port}( |$)"
        out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in out[:1]]
    return pids


class Replicas:
    """scripts/serve.sh --replicas N behind nginx, on a free block of ports."""

    def __init__(self, count: int, rundir: Path, root: Path = ROOT, env: dict | None = None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        self.port, self.count = base, count
        self.proc = subprocess.Popen(
            ["bash", str(root / "scripts" / "serve.sh"), "--replicas", str(count), "--port", str(base),
             "--host", "127.0.0.1", "--dir", str(rundir)],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{base}"
        wait_healthy(self.url)
        self.pids = replica_pids([base + 1 + i for i in range(count)])

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def run_level(
    url: str, pids: list[int], sessions: int, think: tuple[float, float], expected: list[int] | None = None,
    visitor=None,
) -> dict:  # fmt: skip
    """`sessions` students arriving over 10 s. Each runs visit(), or visitor(url, results, think,
    seed, deadline) when given (e.g. a published-weights visit)."""
    visitor = visitor or (lambda url, results, think, i, deadline: visit(url, results, expected, think, i,
                                                                         deadline))  # fmt: skip
    results = Results()
    cpu0 = sum(cpu_seconds(p) for p in pids)
    peak = [sum(rss_mib(p) for p in pids)]
    each = [rss_mib(p) for p in pids]  # peak RSS per replica
    start = time.time()
    deadline = start + RUN_LIMIT_S
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            now = [rss_mib(p) for p in pids]
            peak[0] = max(peak[0], sum(now))
            each[:] = [max(a, b) for a, b in zip(each, now)]
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = []
    for i in range(sessions):
        th = threading.Thread(target=visitor, args=(url, results, think, i, deadline), daemon=True)
        th.start()
        threads.append(th)
        time.sleep(10 / sessions)  # everyone arrives within the first 10 s
    for th in threads:
        th.join(timeout=max(deadline - time.time(), 0) + 5)
    wall = time.time() - start
    stop.set()
    unfinished = sum(th.is_alive() for th in threads)
    cpu_s = sum(cpu_seconds(p) for p in pids) - cpu0
    return {"results": results, "cpu": cpu_s / wall * 100, "cpu_s": cpu_s, "peak_rss": peak[0], "wall": wall,
            "unfinished": unfinished, "peak_each": each}  # fmt: skip


def alone(url: str, pids: list[int], expected: list[int], visits: int = 3) -> Results:
    """Students one after the other, alone on the server: each action's server CPU time (the
    kernel counts it in 10 ms ticks, hence the mean of a few visits)."""
    results = Results()
    for seed in range(visits):
        visit(url, results, expected, (0.2, 0.3), seed, time.time() + RUN_LIMIT_S, cpu_of=pids)
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(name: str, sessions: int, level: dict) -> tuple[float, int]:
    results: Results = level["results"]
    everything = [t for v in results.times.values() for t in v]
    errors = len(results.errors) + level["unfinished"]
    p95 = percentile(everything, 0.95) if everything else float("inf")
    per_action = level["cpu_s"] / max(results.actions, 1) * 1000
    print(f"\n{name}, {sessions} sessions: {level['wall']:.0f} s, errors {errors}, server CPU "
          f"{level['cpu']:.0f} % of one core, {per_action:.0f} core-ms per action, peak RSS "
          f"{level['peak_rss']:.0f} MiB, p95 of all actions {p95 * 1000:.0f} ms")  # fmt: skip
    print(f"  {'action':<28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'core-ms alone':>14}")
    for action, values in results.times.items():
        cpu = level.get("alone", {}).get(action)
        print(f"  {action:<28} {len(values):>4} {statistics.median(values) * 1000:>8.0f} "
              f"{percentile(values, 0.95) * 1000:>8.0f} {max(values) * 1000:>8.0f} "
              f"{'' if cpu is None else f'{cpu * 1000:.0f}':>14}")  # fmt: skip
    for model, actions in results.by_model.items():
        print(f"  {model}: " + "; ".join(
            f"{action} p50 {statistics.median(v) * 1000:,.0f} / p95 {percentile(v, 0.95) * 1000:,.0f} ms"
            for action, v in actions.items()))  # fmt: skip
    for e in sorted(set(results.errors))[:5]:
        print(f"  error x{results.errors.count(e)}: {e}")
    return p95, errors, per_action


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 30, 60, 120])
    parser.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0], metavar=("MIN", "MAX"))
    parser.add_argument("--no-memory", action="store_true", help="skip the 2-minute memory-release check")
    parser.add_argument("--replicas", type=int, nargs="+", choices=[1, 2], default=[1, 2])
    parser.add_argument("--root", type=Path, help="the checkout the servers run (default: this one)")
    parser.add_argument("--env", nargs="+", default=[], metavar="VAR=VALUE", help="for the servers")
    parser.add_argument("--published", action="store_true", help="the class with published weights")
    parser.add_argument("--distinct-photos", action="store_true", help="each upload new to the server")
    parser.add_argument("--models", nargs="+", help="with --published: a subset of the four models")
    args = parser.parse_args()
    global DISTINCT_PHOTOS
    DISTINCT_PHOTOS = args.distinct_photos
    if args.published:
        run_published(args)
        return
    think = (args.think[0], args.think[1])
    expected = expected_top5()
    env = {"MOBILENET_EXPLORER_OFFLINE": "1", **dict(e.split("=", 1) for e in args.env)}
    os.environ.update(env)
    root = (args.root or ROOT).resolve()
    load = os.getloadavg()
    print(f"server tree {root}, env {env}; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")  # fmt: skip
    held = {}
    names = {1: "1 replica", 2: "2 replicas (serve.sh)"}
    summary = []
    for name in (names[n] for n in args.replicas):
        if name == "1 replica":
            server = TreeServer(root, env)
            url, pids = server.url, [server.proc.pid]
        else:
            import tempfile

            rundir = Path(tempfile.mkdtemp(prefix="mne_load_"))
            server = Replicas(2, rundir, root)
            url, pids = server.url, server.pids
        # one visit first, not counted: the first build of each network and its ONNX runner, and
        # the first draw of each page, happen once per server, not once per student
        run_level(url, pids, 2, (0.2, 0.5), expected)
        waited = wait_quiet(pids)
        baseline = sum(rss_mib(p) for p in pids)
        print(
            f"\n=== {name}: {url}, {len(pids)} process(es), RSS after a warm-up visit {baseline:.0f} MiB "
            f"(the server was busy {waited:.0f} s more: its own warm-up)"
        )
        solo = alone(url, pids, expected)
        cpu_alone = {action: statistics.mean(v) for action, v in solo.cpu.items()}
        total_alone = sum(cpu_alone.values()) / max(len(cpu_alone), 1) * 1000
        print("one student alone: server CPU per action (core-ms) "
              + ", ".join(f"{a} {v * 1000:.0f}" for a, v in cpu_alone.items())
              + f"; mean {total_alone:.0f}")  # fmt: skip
        best = 0
        for sessions in args.sessions:
            level = run_level(url, pids, sessions, think, expected)
            level["alone"] = cpu_alone
            p95, errors, per_action = report(name, sessions, level)
            summary.append(f"| {name} | {sessions} | {p95 * 1000:.0f} ms | {errors} | {per_action:.0f} |")
            first_peak = level["peak_rss"]
            if p95 < 1.0 and errors == 0:
                best = sessions
        held[name] = best
        if name == "1 replica" and not args.no_memory:
            closed = sum(rss_mib(p) for p in pids)
            time.sleep(TTL_S + 5)
            probe = Student(url)  # a new session makes the session store drop expired ones
            probe.connect()
            probe.rerun("model=v2&lang=en")
            probe.close()
            time.sleep(2)
            after = sum(rss_mib(p) for p in pids)
            # freed memory stays with the allocator (RSS does not fall), so the test of release is
            # reuse: the same class again must not grow the server by another class's worth
            again = run_level(url, pids, max(args.sessions), think, expected)
            print(
                f"memory, the same {max(args.sessions)} sessions again: peak {again['peak_rss']:.0f} MiB "
                f"(first time {first_peak:.0f} MiB), errors {len(again['results'].errors)}"
            )
            print(f"\nmemory: {baseline:.0f} MiB after the warm-up, {closed:.0f} MiB when every session "
                  f"had closed, {after:.0f} MiB after the {TTL_S} s disconnected-session TTL")  # fmt: skip
        server.stop()
    print("\n| server | sessions | p95 (all actions) | errors | server core-ms per action |")
    print("|---|---|---|---|---|")
    print("\n".join(summary))
    one, two = held.get("1 replica"), held.get("2 replicas (serve.sh)")
    print(
        f"\nlargest count with p95 < 1 s and no errors: 1 replica {one}, 2 replicas {two}"
        + (f" ({two / one:.1f}x)" if one and two is not None else "")
    )
    load = os.getloadavg()
    print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(json.dumps({"held": held}))


# --- the class with published weights (--published) ------------------------------------------------


def _uptime() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def published_visitor(files: dict, models: list[str]):
    """visitor for run_level: student i works with models[i % len(models)]."""

    def visitor(url, results, think, i, deadline, cpu_of=None):
        visit_published(url, results, files[models[i % len(models)]], think, i, deadline, cpu_of)

    return visitor


def run_published(args) -> None:
    """Per level: the untrained visit on fresh replicas (warmed up as usual), then the class with
    published weights on fresh replicas with an empty weights cache; the mirror's GETs."""
    import shutil
    import tempfile

    import published_mirror as pm

    think = (args.think[0], args.think[1])
    models = args.models or list(pm.MODELS)
    root = (args.root or ROOT).resolve()
    extra = dict(e.split("=", 1) for e in args.env)
    work = Path(tempfile.mkdtemp(prefix="mne_published_"))
    print(f"server tree {root}; {os.cpu_count()} cores; load average {_uptime()}; generating checkpoints")
    files = pm.generate(work / "mirror", models)
    for f in files.values():
        print(f"  {f.entry}: {f.path.stat().st_size / 1e6:.1f} MB, expected top-5 {f.top5}")
    rows = []
    try:
        with pm.Mirror(files) as mirror:
            for sessions in args.sessions:
                rows.append(_untrained_row(sessions, think, root, extra, work))
                rows += _published_row(sessions, think, root, extra, work, files, models, mirror)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n| weights | students | p95 (all actions) | errors | core-ms per action | peak RSS per replica | "
          "mirror | load average |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def _untrained_row(sessions: int, think, root: Path, extra: dict, work: Path) -> str:
    expected = expected_top5()
    load = _uptime()
    server = Replicas(2, Path(tempfile_dir(work, "run_")), root, {"MOBILENET_EXPLORER_OFFLINE": "1", **extra})
    try:
        run_level(server.url, server.pids, 2, (0.2, 0.5), expected)  # the warm-up visit, as above
        level = run_level(server.url, server.pids, sessions, think, expected)
    finally:
        server.stop()
    p95, errors, per_action = report("untrained, 2 replicas", sessions, level)
    peaks = " / ".join(f"{m:.0f}" for m in level["peak_each"])
    return (f"| untrained | {sessions} | {p95 * 1000:,.0f} ms | {errors} | {per_action:.0f} | {peaks} MiB "
            f"| - | {load} |")  # fmt: skip


def _warm_up(url: str, visits: int = 6) -> None:
    """A few sessions open the app (Overview only: no weights are asked for), so that the first
    draw of the page after the replicas started is not counted, as in the untrained rows."""
    for _ in range(visits):  # a websocket without the cookie goes to the replica with fewer
        student = Student(url)
        student.connect()
        student.rerun("model=v2&lang=en")
        student.close()


def tempfile_dir(work: Path, prefix: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=prefix, dir=work)


def _published_row(sessions: int, think, root: Path, extra: dict, work: Path, files: dict, models: list[str],
                   mirror) -> list[str]:  # fmt: skip
    """The class on new replicas with an empty weights cache (its downloads and first builds are
    part of it), then the same class again on the same replicas (warm, as the untrained rows are
    measured), then one student per model alone for each action's server CPU."""
    mirror.reset()
    home = tempfile_dir(work, "torch_home_")  # an empty weights cache, shared by both replicas
    env = {**extra, "MOBILENET_EXPLORER_OFFLINE": "0", "HF_ENDPOINT": mirror.url, "TORCH_HOME": home}
    load = _uptime()
    server = Replicas(2, Path(tempfile_dir(work, "run_")), root, env)
    visitor = published_visitor(files, models)
    try:
        _warm_up(server.url)
        first = run_level(server.url, server.pids, sessions, think, visitor=visitor)
        gets, count = mirror.summary(), sum(mirror.gets.values())
        again = run_level(server.url, server.pids, sessions, think, visitor=visitor)
        count_again = sum(mirror.gets.values()) - count
        alone = {}
        for i, model in enumerate(models):
            solo = Results()
            visitor(server.url, solo, (0.2, 0.3), i, time.time() + RUN_LIMIT_S, server.pids)
            alone[model] = {action: statistics.mean(v) for action, v in solo.cpu.items()}
            print(f"  alone, {model}: " + ", ".join(f"{a} {v * 1000:.0f}" for a, v in alone[model].items())
                  + f" core-ms; errors {len(solo.errors)}")  # fmt: skip
        gets_after = mirror.summary()
    finally:
        server.stop()
    mean = {a: statistics.mean(m[a] for m in alone.values() if a in m) for a in next(iter(alone.values()))}
    rows = []
    for name, level in (("published, empty cache", first), ("published, again", again)):
        level["alone"] = mean
        p95, errors, per_action = report(f"{name}, 2 replicas", sessions, level)
        peaks = " / ".join(f"{m:.0f}" for m in level["peak_each"])
        equal = sum(top5 == files[model].top5 for model, top5 in level["results"].shown)
        print(f"  top-5 equal to the serial computation: {equal} of {sessions} students")
        mirrored = gets if level is first else f"{count_again} GETs"
        rows.append(f"| {name} | {sessions} | {p95 * 1000:,.0f} ms | {errors} | {per_action:.0f} "
                    f"| {peaks} MiB | {mirrored} | {load} |")  # fmt: skip
    print(f"  mirror after the first class: {gets}; after everything: {gets_after}")
    return rows


if __name__ == "__main__":
    main()
