"""Many users at once against a real `streamlit run` server (benchmarks/load.py), and the
server's memory after a tour of every model: bounded, in counts and in time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_eight_concurrent_sessions_and_memory_after_every_model():
    from load import run

    report = run(sessions=8, steps=2, memory=True)
    print(f"\nwall {report['wall_seconds']:.1f} s, RSS after load {report['rss_after_load_mib']:.0f} MiB, "
          f"after {report['visited']} configurations {report['rss_after_visits_mib']:.0f} MiB, "
          f"peak {report['peak_rss_mib']:.0f} MiB")  # fmt: skip
    assert "Traceback" not in report["server_stderr"], report["server_stderr"][-2000:]
    for entry in report["sessions"]:
        assert entry["errors"] == [], (entry, report["server_stderr"][-3000:])
        assert entry["top5"] == entry["serial_top5"], entry  # concurrent results equal serial ones
    import mobilenet_core as mc

    classifiers = [m for m in mc.list_models() if mc.get_generation(m).head.num_classes]
    assert report["visited"] == 3 * len(classifiers)
    assert report["rss_after_visits_mib"] < 2048
