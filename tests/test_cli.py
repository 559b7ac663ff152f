"""`python -m mobilenet_core` as a user runs it."""

import json
import subprocess
import sys

import mobilenet_core as mc


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "mobilenet_core", *args], capture_output=True, text=True, timeout=120
    )


def test_list_prints_the_nine_models():
    result = run("list")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == mc.list_models()


def test_summary_table_has_blocks_and_exact_totals():
    result = run("summary", "v3_small", "--alpha", "0.75")
    assert result.returncode == 0
    out = result.stdout
    assert "blocks.4.2" in out and "head" in out
    assert "2,041,872" in out and "43,399,344" in out  # timm mobilenetv3_small_075
    assert "FLOPs = 2 × MACs" in out


def test_summary_json_matches_count():
    result = run("summary", "v4_hybrid_medium", "--rho", "0.75", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    report = mc.count("v4_hybrid_medium", rho=0.75)
    assert set(data) == {"model", "alpha", "resolution", "params", "macs", "blocks"}
    assert data["resolution"] == 192  # 0.75 x 256
    assert (data["params"], data["macs"]) == (report.params, report.macs)
    assert [b["name"] for b in data["blocks"]] == [b.name for b in report.blocks]
    assert sum(b["macs"] for b in data["blocks"]) == data["macs"]


def test_bad_values_give_one_line_errors():
    for args, needle in (
        (("summary", "v2", "--alpha", "0"), "alpha must be between 0.25 and 2.0"),
        (("summary", "v2", "--resolution", "1000"), "resolution must be between 32 and 448"),
        (("summary", "v9"), "unknown model 'v9'"),
    ):
        result = run(*args)
        assert result.returncode == 2
        assert needle in result.stderr
        assert "Traceback" not in result.stderr
