"""Test-wide settings: no test may reach the network. The app downloads published weights on
first use; the suite turns that off (the download itself is tested against servers on
127.0.0.1 that the tests start). Measured latencies go to a temporary shared directory."""

import os
import tempfile

os.environ["MOBILENET_EXPLORER_OFFLINE"] = "1"
# measured latencies are kept in a file the server processes share: a fresh one per test run
os.environ["MOBILENET_EXPLORER_SHARED_DIR"] = tempfile.mkdtemp(prefix="mobilenet-explorer-tests-")

import pytest  # noqa: E402

# The fast tier for development, `pytest -m "not slow"` (measured: 5 min 51 s, against 17 min 15 s
# for the whole suite, both on a loaded 2-core machine): everything but what drives a browser or a server, the
# sweeps over every model and lesson, and the heavy builds (V5-300M, random configurations, every
# range extreme). CI runs all of it.
SLOW_FILES = {"test_lessons_app.py", "test_v5.py", "test_concurrency.py", "test_load_protocol.py"}
SLOW_TESTS = {
    "test_random_configurations_build_run_and_count_exactly",
    "test_torchinfo_figure_predicted_exactly",
    "test_extremes_of_the_ranges_build_and_count",
    "test_folded_fast_path_matches_for_every_block_type",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        heavy = item.originalname in SLOW_TESTS or "v5_300m" in item.name
        if item.get_closest_marker("browser") or item.path.name in SLOW_FILES or heavy:
            item.add_marker(pytest.mark.slow)
