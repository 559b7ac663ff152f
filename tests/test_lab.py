"""The design lab: edited block tables round-trip through JSON and links, build, count exactly,
and an invalid edit is explained while the last valid architecture stays."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import mobilenet_core as mc
from drawn import drawn_charts
from mobilenet_core.api import build_generation, count_generation
from mobilenet_core.lab import (
    from_json,
    from_url_token,
    generation_from_rows,
    generation_rows,
    to_json,
    to_url_token,
)
from mobilenet_core.sweep import SweepPoint

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


@pytest.mark.parametrize("model", mc.list_models())
def test_unedited_tables_reproduce_the_model_exactly(model):
    generation = mc.get_generation(model)
    rebuilt = generation_from_rows(generation, generation_rows(generation))
    report, original = count_generation(rebuilt, 0.75, 160), mc.count(model, 0.75, 160)
    assert (report.params, report.macs) == (original.params, original.macs)


@pytest.mark.parametrize("model", mc.list_models())
def test_rows_round_trip_is_lossless_field_by_field(model):
    """Totals can hide a lost field (V1 rows used to gain residuals and lose the pointwise ReLU
    while the params matched): compare every spec of every stage."""
    generation = mc.get_generation(model)
    rebuilt = generation_from_rows(generation, generation_rows(generation))
    assert len(rebuilt.stages) == len(generation.stages)
    for s, (got, want) in enumerate(zip(rebuilt.stages, generation.stages)):
        assert len(got) == len(want), f"stage {s}"
        for i, (a, b) in enumerate(zip(got, want)):
            assert a == b, f"{model} stage {s} block {i}: {a} != {b}"
    # and through JSON, as a saved file or a link carries it
    name, rows = from_json(to_json(model, generation_rows(generation)))
    assert generation_from_rows(generation, rows).stages == generation.stages


def test_v1_rows_keep_the_pointwise_relu_and_no_residual():
    rows = generation_rows(mc.get_generation("v1"))
    assert all(r["residual"] is False and r["pw_act"] is True for r in rows)
    module = build_generation(generation_from_rows(mc.get_generation("v1"), rows), 1.0, 224)
    block = module.blocks[3][1]
    assert not block.has_skip and isinstance(block.act2, torch.nn.ReLU6)


def test_activation_column_is_used_for_uib_and_fused_ib_rows():
    base = mc.get_generation("v4_conv_medium")
    rows = generation_rows(base)
    kinds = {r["type"] for r in rows}
    assert {"uib", "fused_ib"} <= kinds
    for row in rows:
        if row["type"] in ("uib", "fused_ib"):
            row["activation"] = "hard_swish"
    edited = generation_from_rows(base, rows)
    module = build_generation(edited, 1.0, 224)
    uib = next(b for stage in module.blocks for b in stage if type(b).__name__ == "UIBBlock")
    assert isinstance(uib.pw_exp.act, torch.nn.Hardswish)
    fused = next(b for stage in module.blocks for b in stage if type(b).__name__ == "FusedIBBlock")
    assert isinstance(fused.act, torch.nn.Hardswish)


def test_edited_spec_round_trips_through_json_and_a_link_and_builds():
    base = mc.get_generation("v4_conv_small")
    rows = generation_rows(base)
    rows[3].update(start=5, mid=0)  # ExtraDW -> ConvNeXt-like
    rows[5]["expand"] = 3.0
    rows.append(dict(rows[-2]))  # one more block in the last stage... of the same kind
    generation = generation_from_rows(base, rows)
    for name, loaded in (
        from_json(to_json("v4_conv_small", rows)),
        from_url_token(to_url_token("v4_conv_small", rows)),
    ):
        assert name == "v4_conv_small"
        again = generation_from_rows(base, loaded)
        assert count_generation(again).macs == count_generation(generation).macs
    module = build_generation(generation, 1.0, 160)
    report = count_generation(generation, 1.0, 160)
    assert sum(p.numel() for p in module.parameters()) == report.params
    with torch.inference_mode():
        assert module(torch.randn(1, 3, 160, 160)).shape == (1, 1000)


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"out": 0}, "'out' must be between 1 and 4096"),
        ({"stride": 3}, "'stride' must be between 1 and 2"),
        ({"type": "lstm"}, "type must be one of"),
        ({"kernel": 4}, "must be odd"),
        ({"out": None}, "'out' is empty"),
    ],
)
def test_invalid_rows_are_explained(edit, message):
    base = mc.get_generation("v2")
    rows = generation_rows(base)
    rows[2].update(edit)
    with pytest.raises(mc.ConfigError, match=f"row 2: .*{message}"):
        generation_from_rows(base, rows)


def _open(view: str, query: dict) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"views/{view}.py").run()
    return at


def _lab(query: dict) -> AppTest:
    return _open("lab", query)


def _editor_key(at: AppTest) -> str:
    return f"lab_editor_{at.session_state['lab_editor_version']}"


def _bars(at: AppTest) -> list[int]:
    import json

    return json.loads(drawn_charts(at)[0].spec)["data"][0]["y"]


def test_app_edit_updates_counts_and_invalid_edit_keeps_the_last_valid_one():
    at = _lab({"model": "v2", "alpha": "1.0", "resolution": "224"})
    assert not at.exception
    assert at.metric[1].value == f"{mc.count('v2').macs:,}"
    key = _editor_key(at)
    at.session_state[key] = {"edited_rows": {4: {"expand": 4.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    rows = generation_rows(mc.get_generation("v2"))
    rows[4]["expand"] = 4.0
    expected = count_generation(generation_from_rows(mc.get_generation("v2"), rows), 1.0, 224)
    assert at.metric[1].value == f"{expected.macs:,}" and not at.error
    assert sum(_bars(at)) == expected.macs and len(_bars(at)) == len(expected.blocks)
    at.radio(key="lab_chart_of").set_value("params").run()
    assert sum(_bars(at)) == expected.params
    edited = at.session_state["lab_valid"]  # what the editor produced, as the app keeps it
    name, loaded = from_json(to_json("v2", edited))
    module = build_generation(generation_from_rows(mc.get_generation(name), loaded), 1.0, 224)
    assert sum(p.numel() for p in module.parameters()) == expected.params
    at.session_state[key] = {"edited_rows": {4: {"expand": 4.0}, 0: {"stride": 3}}, "added_rows": [],
                             "deleted_rows": []}  # fmt: skip
    at.run()
    assert any("Row 0: “stride” must be between 1 and 2" in e.value for e in at.error)
    assert at.metric[1].value == f"{expected.macs:,}"  # the last valid architecture stays
    assert not at.exception


def test_a_stride_on_a_1_px_map_is_explained():
    from mobilenet_core.lab import check_resolution

    base = mc.get_generation("v1")
    rows = generation_rows(base)
    rows.append({**rows[-1], "repeats": 1, "stride": 2})  # at 32 px input it sees a 1 x 1 map
    report = count_generation(generation_from_rows(base, rows), 1.0, 32)
    with pytest.raises(mc.ConfigError, match=f"row {len(rows) - 1}: stride 2 .*already 1 px"):
        check_resolution(report, rows)


def test_repeats_follow_the_papers_tables_and_build_that_many_blocks():
    rows = generation_rows(mc.get_generation("v2"))
    # Sandler et al. 2018, Table 2: n = 1, 2, 3, 4, 3, 3, 1 with the stride on the first block
    assert [(r["out"], r["repeats"], r["stride"]) for r in rows] == [
        (16, 1, 1), (24, 2, 2), (32, 3, 2), (64, 4, 2), (96, 3, 1), (160, 3, 2), (320, 1, 1)]  # fmt: skip
    base = mc.get_generation("v2")
    rows[3]["repeats"] = 6  # two more 64-wide blocks, stride 1, residual
    report = count_generation(generation_from_rows(base, rows), 1.0, 224)
    original = mc.count("v2")
    assert len(report.blocks) == len(original.blocks) + 2
    added = [b for b in report.blocks if b.out_channels == 64]
    assert [b.stride for b in added] == [2, 1, 1, 1, 1, 1] and all(b.residual for b in added[1:])
    assert report.macs - original.macs == 2 * added[-1].macs
    rows[3]["repeats"] = 0
    with pytest.raises(mc.ConfigError, match="row 3: 'repeats' must be between 1 and 32"):
        generation_from_rows(base, rows)


def test_app_opens_an_architecture_from_a_link():
    rows = generation_rows(mc.get_generation("v3_small"))
    rows[1]["out"] = 32
    at = _lab({"model": "v3_small", "lab": to_url_token("v3_small", rows)})
    expected = count_generation(generation_from_rows(mc.get_generation("v3_small"), rows))
    assert at.metric[0].value == f"{expected.params:,}" and not at.exception
    broken = _lab({"lab": "not-a-valid-token"})
    assert any("could not be used" in w.value for w in broken.warning) and not broken.exception


def test_sweep_numbers_equal_count_and_the_front_is_not_dominated():
    from mobilenet_core.sweep import pareto_front, sweep, with_latency

    points = sweep(["v2", "v4_conv_large"], [0.35, 1.0, 1.4], [96, 224, 600])
    assert {(p.model, p.resolution) for p in points} >= {("v2", 96), ("v4_conv_large", 600)}
    assert ("v2", 600) not in {(p.model, p.resolution) for p in points}  # outside V2's range: skipped
    for p in points:
        report = mc.count(p.model, p.alpha, p.resolution)
        assert (p.params, p.macs) == (report.params, report.macs)
    assert next(p for p in points if (p.model, p.alpha, p.resolution) == ("v2", 1.4, 224)).top1 == 75.0
    front = pareto_front(points, "macs", "top1")
    for p in front:
        assert not any(q.macs <= p.macs and q.top1 > p.top1 for q in points if q.top1 is not None)
    timed = with_latency([p for p in points if p.model == "v2" and p.alpha == 0.35], runs=2, warmup=1)
    assert all(p.latency_ms > 0 for p in timed)


def test_tradeoffs_view_plots_the_pareto_front_of_the_chosen_cost():
    import json

    from mobilenet_core.sweep import pareto_front, sweep

    at = _open("tradeoffs", {"model": "v2"})
    assert not at.exception and not at.error
    assert len(drawn_charts(at)) == 1
    points = sweep(["v2"], [0.35, 0.5, 0.75, 1.0, 1.4], [96, 128, 160, 192, 224])  # the defaults
    for cost in ("macs", "params"):
        at.radio(key="sweep_x").set_value(cost).run()
        traces = json.loads(drawn_charts(at)[0].spec)["data"]
        front = next(tr for tr in traces if tr["name"] == "Pareto front")
        expected = pareto_front(points, cost, "top1")
        assert front["x"] == [getattr(p, cost) / 1e6 for p in expected]
        assert front["y"] == [p.top1 for p in expected]


def test_latency_job_runs_in_the_background_reports_progress_and_can_be_cancelled():
    from mobilenet_core.sweep import LatencyJob, sweep

    points = sweep(["v3_small"], [0.5, 0.75], [96, 128])
    seen = []
    job = LatencyJob(points, runs=2, warmup=1, on_point=seen.append)
    assert (job.state, job.done, job.total) == ("queued", 0, 4)
    assert job.start().wait(120) and job.state == "done" and job.error is None
    assert set(job.measured) == {(p.model, p.alpha, p.resolution) for p in points}
    assert all(ms > 0 for ms in job.measured.values()) and len(seen) == 4
    assert [(p.params, p.macs) for p in sorted(seen, key=lambda p: (p.alpha, p.resolution))] == [
        (p.params, p.macs) for p in sorted(points, key=lambda p: (p.alpha, p.resolution))]  # fmt: skip

    with LatencyJob._machine:  # another measurement holds the machine: the job waits its turn
        waiting = LatencyJob(points, runs=2, warmup=1).start()
        assert not waiting.wait(0.3) and waiting.state == "queued"
        waiting.cancel()
    assert waiting.wait(30) and waiting.state == "cancelled" and waiting.done == 0

    broken = LatencyJob([SweepPoint("v2", 1.0, 0, 0, 0, None)], runs=1, warmup=0).start()
    assert broken.wait(60) and broken.state == "failed" and broken.error


def test_tradeoffs_measures_latency_in_a_background_job_and_shows_it():
    from app import jobs

    at = _open("tradeoffs", {"model": "v3_small"})
    at.multiselect(key="sweep_alphas").set_value([0.5]).run()
    at.multiselect(key="sweep_resolutions").set_value([96, 128]).run()
    at.radio(key="sweep_x").set_value("latency_ms").run()
    for key in [k for k in jobs.LATENCY if k[0] == "v3_small" and k[1] == 0.5]:
        del jobs.LATENCY[key]  # measured by an earlier test in this process
    at.run()
    from mobilenet_core.sweep import LatencyJob

    with LatencyJob._machine:  # another measurement is running: this one shows that it waits
        at.button(key="sweep_measure").click().run()
        waiting = jobs.get(at.session_state["sweep_job"])
        assert (
            waiting.state == "queued"
            and "Waiting for another measurement" in at.get("progress")[0].proto.text
        )
        at.button(key="sweep_cancel").click().run()
    assert waiting.wait(30) and waiting.state == "cancelled"
    at.run()
    at.run()
    at.button(key="sweep_measure").click().run()  # offered again after the cancel
    job = jobs.get(at.session_state["sweep_job"])
    assert job is not None and job.total == 2
    assert job.wait(120) and job.state == "done"
    at.run()  # the progress fragment sees the job end and redraws the page
    at.run()
    table = at.dataframe[0].value
    latency = table.iloc[:, 6]
    assert len(table) == 2 and latency.notna().all() and (latency > 0).all()
    assert not {"sweep_measure", "sweep_cancel"} & {b.key for b in at.button}  # nothing left to measure
    assert any("2 of 2 configurations" in c.value for c in at.caption) and not at.exception and not at.error
    assert len(drawn_charts(at)) == 2  # accuracy against latency, and latency against MACs
    per_gmac = sorted(table.iloc[:, 6] / (table["MACs"] / 1e9))  # ms per 10^9 MACs
    assert any(f"between {per_gmac[0]:.1f} and {per_gmac[-1]:.1f} ms" in c.value for c in at.caption)


def test_roofline_points_follow_the_counter_and_depthwise_is_memory_bound():
    from mobilenet_core.latency import host_device, roofline_points
    from mobilenet_core.measure import MachinePeaks, measure_peaks

    machine = MachinePeaks(flops_per_s=200e9, bytes_per_s=50e9, threads=2, method="fixed for the test")
    report = mc.count("v2")
    points = roofline_points(report, host_device(200e9, 50e9, machine.method))
    assert sum(p.flops for p in points) == 2 * report.macs  # every MAC is placed
    dw = [p for p in points if p.kind == "dwconv"]
    pw = [p for p in points if p.kind == "pwconv"]
    assert max(p.intensity for p in dw) < min(machine.ridge, min(p.intensity for p in pw) * 2)
    assert all(p.bound == "memory" for p in dw)
    dw_time = sum(p.estimated_ms for p in dw) / sum(p.estimated_ms for p in points)
    dw_macs = sum(p.flops for p in dw) / sum(p.flops for p in points)
    assert dw_time > dw_macs  # the MobileNetV4 paper's point: more time than their MACs suggest
    measured = measure_peaks(0.05)
    assert measured.flops_per_s > 1e8 and measured.bytes_per_s > 1e8 and measured.ridge > 0


def test_every_layer_is_timed_in_real_forward_passes():
    from mobilenet_core.latency import host_device, roofline_points
    from mobilenet_core.measure import measure_layer_times
    from reference import steady

    machine = host_device(200e9, 50e9, "fixed for the test")
    for model, resolution in (("v2", 224), ("v4_hybrid_medium", 256)):
        report = mc.count(model, 1.0, resolution)
        module = mc.build(model, 1.0, resolution)
        times = steady(
            lambda: measure_layer_times(module, report, runs=5, warmup=1),  # noqa: B023
            lambda t: 0.3 < t.coverage < 1.5,
        )
        layers = [layer.name for layer in report.layers if layer.macs]
        assert set(times.ms) == set(layers) and all(times.ms[name] > 0 for name in layers)
        assert 0.3 < times.coverage < 1.5  # the layers are most of a pass, and not counted twice
        points = roofline_points(report, machine, times.ms)
        assert all(p.measured_ms == times.ms[p.name] for p in points)
    assert any(p.kind == "attention" and p.measured_ms > 0 for p in points)  # Q K^T and A V too
    report = mc.count("v2")
    module = mc.build("v2")

    def shares(times):
        points = roofline_points(report, machine, times.ms)
        dw = [p for p in points if p.kind == "dwconv"]
        time_share = sum(p.measured_ms for p in dw) / sum(p.measured_ms for p in points)
        mac_share = sum(p.flops for p in dw) / sum(p.flops for p in points)
        return time_share, mac_share

    times = steady(
        lambda: measure_layer_times(module, report, runs=10), lambda t: shares(t)[0] > 1.5 * shares(t)[1]
    )
    time_share, mac_share = shares(times)
    # measured, not modelled: depthwise layers take a larger share of the time than of the MACs
    # (here about 28% of the time for 7% of the MACs)
    assert time_share > 1.5 * mac_share


def test_roofline_view_renders_and_measures_every_layer():
    at = _open("roofline", {"model": "v4_hybrid_medium"})
    assert not at.exception and not at.error
    roofline_charts = [c for c in drawn_charts(at) if c.key == "roofline_chart"]  # (+ the device chart)
    assert len(roofline_charts) == 1 and "share of measured time" not in at.table[0].value.columns
    at.button(key="roofline_measure_layers").click().run()
    table = at.table[0].value
    shares = table["share of measured time"].str.rstrip("%").astype(float)
    assert set(table["layer kind"]) >= {"dwconv", "pwconv", "attention"} and abs(shares.sum() - 100) < 0.5
    assert at.radio(key="roofline_mode").value == "measured"
    assert len([c for c in drawn_charts(at) if c.key == "roofline_chart"]) == 1
    assert any("forward hooks" in c.value for c in at.caption) and not at.exception


def test_block_anatomy_follows_the_edited_architecture():
    at = _lab({"model": "v2", "alpha": "1.0", "resolution": "224"})
    at.session_state[_editor_key(at)] = {"edited_rows": {1: {"expand": 3.0}}, "added_rows": [],
                                         "deleted_rows": []}  # fmt: skip
    at.run()
    at.button(key="lab_to_anatomy").click().run()
    at.switch_page("views/anatomy.py").run()  # AppTest does not follow a script's switch_page
    assert at.radio[0].value == "lab" and "MobileNetV2 (edited)" in at.title[0].value
    at.selectbox(key="anatomy_block").set_value("blocks.1.1").run()
    # the first 1x1 expansion: 24 channels to t * 24 = 72 (edited t = 3), not 144 as in the paper
    assert "24 \\cdot 72 \\cdot 56^2 = 5,419,008" in at.latex[0].value
    at.radio[0].set_value("model").run()
    assert "24 \\cdot 144 \\cdot 56^2 = 10,838,016" in at.latex[0].value and not at.exception


def test_block_anatomy_counts_uib_variants_of_an_edited_block():
    rows = generation_rows(mc.get_generation("v4_conv_small"))
    rows[5]["expand"] = 2.0  # the four-fold UIB group of stage 3
    edited = count_generation(generation_from_rows(mc.get_generation("v4_conv_small"), rows))
    at = _lab({"model": "v4_conv_small", "lab": to_url_token("v4_conv_small", rows)})
    at.switch_page("views/anatomy.py").run()
    at.radio[0].set_value("lab").run()
    block = next(b for b in edited.blocks if b.kind == "uib" and b.expanded_channels == 2 * b.in_channels)
    at.selectbox(key="anatomy_block").set_value(block.name).run()
    table = at.table[0].value
    mine = table[table.iloc[:, 0].str.endswith("◀")]
    assert mine.iloc[0, 2] == f"{block.params:,}" and mine.iloc[0, 3] == f"{block.macs:,}"
    assert not at.exception


def test_lab_benchmark_measures_the_edited_network_and_each_block():
    import json

    rows = generation_rows(mc.get_generation("v3_small"))
    rows[2]["repeats"] = 2
    at = _lab({"model": "v3_small", "lab": to_url_token("v3_small", rows)})
    at.button(key="lab_benchmark").click().run()
    assert not at.exception
    edited = count_generation(generation_from_rows(mc.get_generation("v3_small"), rows))
    assert any(f"Built: {edited.params:,} parameters" in s.value for s in at.success)
    chart = next(c for c in drawn_charts(at) if "share of measured time" in c.spec)
    macs, time_share = json.loads(chart.spec)["data"]
    assert macs["x"] == time_share["x"] and len(macs["x"]) == len(edited.blocks)
    assert abs(sum(macs["y"]) - 1) < 1e-9 and abs(sum(time_share["y"]) - 1) < 1e-9
    assert all(t > 0 for t in time_share["y"])
    at.run()  # the result stays on screen for the same architecture
    assert any("Built:" in s.value for s in at.success)


def test_lab_on_another_base_outside_its_resolution_range_does_not_crash():
    # V4 Conv-L at 512 px selected, V2 (at most 448 px) as the lab's base
    rows = generation_rows(mc.get_generation("v2"))
    at = _lab({"model": "v4_conv_large", "resolution": "512", "lab": to_url_token("v2", rows)})
    assert not at.exception
    expected = count_generation(mc.get_generation("v2"), 1.0, 448)  # the nearest size V2 allows
    assert at.metric[1].value == f"{expected.macs:,}"
    assert any("448 px" in c.value for c in at.caption)


def test_block_anatomy_of_a_lab_architecture_uses_the_lab_generations_base_resolution():
    rows = generation_rows(mc.get_generation("v2"))
    at = _lab({"model": "v4_conv_large", "resolution": "384", "lab": to_url_token("v2", rows)})
    at.switch_page("views/anatomy.py").run()
    at.radio[0].set_value("lab").run()
    assert not at.exception
    # rho = 384 / 224 (V2's base), not 384 / 384 (the selection's)
    predicted = next(x.value for x in at.latex if r"\alpha^2 \rho^2 =" in x.value)
    assert "1.71^2" in predicted, predicted
