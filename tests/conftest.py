"""Test-wide settings: no test may reach the network. The app downloads published weights on
first use; the suite turns that off (the download itself is tested against servers on
127.0.0.1 that the tests start). Measured latencies go to a temporary shared directory."""

import os
import tempfile

os.environ["MOBILENET_EXPLORER_OFFLINE"] = "1"
# measured latencies are kept in a file the server processes share: a fresh one per test run
os.environ["MOBILENET_EXPLORER_SHARED_DIR"] = tempfile.mkdtemp(prefix="mobilenet-explorer-tests-")
