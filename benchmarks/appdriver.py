"""Shared by the browser tests and the benchmarks: a real `streamlit run` server on 127.0.0.1
and small helpers to read what Debian's chromium shows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]  # fmt: skip
# The sidebar's α slider, found by its widget key (not as the sidebar's first range input: under
# load that was once the resolution's), and the value shown on its thumb
ALPHA = '[data-testid="stSidebar"] .st-key-alpha'
ALPHA_THUMB = f'{ALPHA} input[type="range"]'
ALPHA_SHOWN = f'{ALPHA} [data-testid="stSliderThumbValue"]'


def wait_healthy(url: str, seconds: float = 120) -> None:
    """Until `url`/_stcore/health answers; RuntimeError after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"no server answered at {url}")


class Server:
    def __init__(self, env: dict | None = None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        wait_healthy(self.url)

    def memory_mib(self) -> tuple[float, float]:
        """(current RSS, peak RSS) of the server process, MiB."""
        values = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
        return values["VmRSS"], values["VmHWM"]

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err.decode(errors="replace")


def metric(page, label: str) -> str:
    """The value shown by the st.metric labelled `label`."""
    return (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text=label)
        .first.locator('[data-testid="stMetricValue"]')
        .inner_text()
    )


def wait(predicate, timeout: float = 60.0):
    """Poll `predicate` until it returns something true; TimeoutError after `timeout` s."""
    deadline = time.time() + timeout
    value = error = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - elements re-render while we look
            error = exc
        time.sleep(0.05)
    # what the page last showed, so that a failure in CI says which state never came
    raise TimeoutError(f"timed out after {timeout:g} s: last value {value!r}, last error {error!r}"[:2000])


def idle(page, seconds: float = 60) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=seconds * 1000)  # fmt: skip
