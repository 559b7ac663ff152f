"""The protocol-level load generator (benchmarks/load_protocol.py) against a real server, small:
three simulated students do the whole visit (open, alpha, views, untrained network, upload) with
no error, and each is shown the top-5 the library computes serially. Guards the benchmark's
client against changes of the app (labels, pages) and of Streamlit's protocol."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import load_protocol as lp  # noqa: E402
from appdriver import Server  # noqa: E402


def test_three_protocol_students_complete_the_visit_and_see_the_serial_top5():
    server = Server(env={"MOBILENET_EXPLORER_OFFLINE": "1"})
    try:
        expected = lp.expected_top5()
        level = lp.run_level(server.url, [server.proc.pid], 3, (0.05, 0.1), expected)
    finally:
        log = server.stop()
    results = level["results"]
    assert not results.errors and level["unfinished"] == 0, results.errors
    actions = ["open", "move alpha", "view Charts", "view Compare", "open Classify", "untrained network",
               "upload photo"]  # fmt: skip
    assert list(results.times) == actions
    assert [len(results.times[a]) for a in actions] == [3, 9, 3, 3, 3, 3, 3]
    assert level["peak_rss"] > 0 and level["cpu"] > 0
    assert "Traceback" not in log, log[-2000:]


def test_two_students_classify_with_published_weights_downloaded_once_through_the_mirror(tmp_path):
    """The --published mode at its smallest: two students on V2, an empty weights cache, the
    checkpoint served in timm's layout by the benchmark's mirror on 127.0.0.1 (HF_ENDPOINT), whose
    declared SHA-256 the app checks. Each student is shown the top-5 of the downloaded weights (not
    the untrained network's) and a Grad-CAM, and the mirror sent the file once."""
    import published_mirror as pm

    files = pm.generate(tmp_path / "mirror", ["v2"])
    published = files["v2"]
    assert published.top5 != published.untrained_top5  # told apart from the untrained network's
    home = tmp_path / "home"  # an empty weights cache
    with pm.Mirror(files) as mirror:
        env = {"MOBILENET_EXPLORER_OFFLINE": "0", "HF_ENDPOINT": mirror.url, "TORCH_HOME": str(home)}
        server = Server(env=env)
        try:
            level = lp.run_level(server.url, [server.proc.pid], 2, (0.05, 0.1),
                                 visitor=lp.published_visitor(files, ["v2"]))  # fmt: skip
        finally:
            log = server.stop()
    results = level["results"]
    assert not results.errors and level["unfinished"] == 0, results.errors
    assert results.shown == [("v2", published.top5)] * 2
    assert mirror.gets == {published.url_path: 1}
    assert mirror.bytes == {published.url_path: published.path.stat().st_size}
    cached = home / "hub" / "checkpoints" / published.path.name
    assert cached.read_bytes() == published.path.read_bytes()
    assert "Traceback" not in log, log[-2000:]


def test_a_servers_cpu_counts_its_child_processes(tmp_path):
    """The export worker (mobilenet_core.isolate) works for the server in a process of its own: the
    server's CPU per action must count it, while it runs and after it ended."""
    import subprocess
    import time

    done = tmp_path / "done"
    burn = (
        "import time, pathlib\n"
        "while time.process_time() < 0.5: pass\n"
        f"pathlib.Path({str(done)!r}).write_text('1')\n"
        "time.sleep(600)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"]
    )
    try:
        while not done.exists():  # the child has used its 0.5 s of CPU
            assert server.poll() is None
            time.sleep(0.05)
        assert lp.cpu_seconds(server.pid) >= 0.45
    finally:
        subprocess.run(["pkill", "-P", str(server.pid)])
        server.wait()
