"""Run the real app and drive it in headless Chromium: shared by tests/browser and bench/."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling out to the internet, which
# a closed classroom or CI network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def browser_missing() -> str | None:
    """Why a real browser cannot be driven here, or None when it can."""
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, app: str = "app.py", wait: bool = True,
                 log: Path | None = None) -> subprocess.Popen:
    """``streamlit run app`` on 127.0.0.1:port in its own process group (healthy on return);
    its output goes to ``log`` if given (tracebacks included), else nowhere."""
    out = subprocess.DEVNULL if log is None else open(log, "ab")  # noqa: SIM115 (the child owns it)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    if wait:
        wait_healthy(port, process)
    return process


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.02)
    stop_server(process)
    raise RuntimeError(f"the Streamlit server did not become healthy within {timeout:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


# Whether Streamlit has finished the script run. The status widget ("Running...") is never
# drawn in this app (.streamlit/config.toml sets toolbarMode = "minimal"), so the app root's
# data-test-script-state attribute is what tells.
IDLE_JS = (
    "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
    " return !!app && app.getAttribute('data-test-script-state') === 'notRunning'"
    " && !document.querySelector('[data-testid=\"stStatusWidget\"]'); }"
)


def settle(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished the current run and the charts are drawn."""
    page.wait_for_selector("h1", timeout=timeout_ms)
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)
    page.wait_for_timeout(600)  # Plotly draws after the run; give it a moment
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)  # lessons importing torch may rerun
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(400)
