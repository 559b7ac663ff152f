"""Test-wide settings: no test may reach the network. The app downloads published weights on
first use; the suite turns that off (the download itself is tested against servers on
127.0.0.1 that the tests start)."""

import os

os.environ["MOBILENET_EXPLORER_OFFLINE"] = "1"
