"""This machine's measurements are kept once per server, with the time they were taken, for every
session (app.measured). Before, the Roofline view cached them under a per-session counter: a
session's "Measure again" could get another session's old measurement back as new."""

from __future__ import annotations

import threading
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.measured import HOST, Measurements

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "main.py")


def test_a_class_asking_at_once_measures_once_and_measure_again_replaces_it_for_everyone():
    table, calls, start = Measurements(max_items=2), [], threading.Event()

    def measure():
        calls.append(1)
        return len(calls)

    results = []

    def ask():
        start.wait()
        results.append(table.get("peaks", measure))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and {r.value for r in results} == {1}
    again = table.get("peaks", measure, again=True)
    assert again.value == 2 and again.at >= results[0].at
    assert table.get("peaks", measure).value == 2  # the new one, for everyone
    table.get("a", measure)
    table.get("b", measure)
    assert table.peek("peaks") is None  # bounded: the oldest goes


def open_roofline() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.query_params["model"] = "v3_small"
    at.run()
    at.switch_page("views/roofline.py").run()
    return at


def test_a_second_session_sees_the_first_ones_measurement_and_when_it_was_taken():
    first = open_roofline()
    first.button(key="roofline_measure_layers").click().run()
    assert first.radio(key="roofline_mode").value == "measured" and not first.exception
    taken = HOST.peek(("layers", "v3_small", 1.0, 224))
    assert taken is not None

    second = open_roofline()  # another session: the layer times are there, with their time
    assert second.button(key="roofline_measure_layers").disabled
    assert second.radio(key="roofline_mode").value == "measured"
    assert any("Measured on this server at" in c.value for c in second.caption)

    second.button(key="roofline_remeasure").click().run()  # again, for everyone
    assert HOST.peek(("layers", "v3_small", 1.0, 224)) is not taken
    first.run()
    assert not first.exception and not second.exception
