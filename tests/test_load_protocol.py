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
