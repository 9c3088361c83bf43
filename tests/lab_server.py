"""Start JupyterLab the way `make lab` does, for the tests that need a running lab.

The command is the Makefile's `lab` recipe run directly (the venv's jupyter, the same flags and the
same environment: the venv first on PATH, JUPYTER_PREFER_ENV_PATH, JUPYTER_CONFIG_PATH), never
`make` itself, which could set up .venv in the middle of a test run. tests/test_make_lab.py checks
that this command and the Makefile's agree. Each lab gets a free port, so two xdist workers (or a
lab of your own on 8888) never collide.

Shared by tests/test_make_lab.py (HTTP and kernel websocket) and tests/test_browser.py (headless
Chromium). The lab gets its own, empty JupyterLab settings and workspaces folders so that nobody's
saved layout or settings change what the tests see; those settings switch autosave off, so a test
that runs notebook 00 in the browser never writes its outputs into the course's notebook.
"""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from workshop_lib.config import REPO_ROOT

START_TIMEOUT = 180
VENV_BIN = REPO_ROOT / ".venv" / "bin"

# JupyterLab settings for the test lab only: no autosave (the course's notebooks stay as committed),
# every cell in the page (no virtual scrolling), so the browser test can read all outputs. Everything
# else comes from the course's own settings (jupyter-config/), as a participant gets them.
TEST_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class Lab:
    base: str  # http://localhost:<port>
    token: str
    printed: str  # what JupyterLab printed up to the moment it answered


def choose_port() -> int:
    """A port nobody listens on (the OS picks it): never 8888, which a participant's own lab may hold."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lab_command(port: int) -> list[str]:
    """`make lab LAB_PORT=<port>`'s command line, without make."""
    command = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=localhost",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={REPO_ROOT}",
    ]
    return command + (["--allow-root"] if os.getuid() == 0 else [])


def lab_environment() -> dict[str, str]:
    """The variables the Makefile exports for every recipe."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_PREFER_ENV_PATH": "1",
        "JUPYTER_CONFIG_PATH": str(REPO_ROOT / "jupyter-config"),
    }


def write_settings(folder: Path) -> dict[str, str]:
    """The environment that points JupyterLab at fresh settings and workspaces folders under `folder`."""
    settings, workspaces = folder / "settings", folder / "workspaces"
    for name, values in TEST_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    workspaces.mkdir(parents=True, exist_ok=True)
    return {"JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(workspaces)}


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _answers(url: str) -> bool:
    try:
        get(url)
    except urllib.error.URLError:
        return False
    return True


def run_lab(folder: Path):
    """Run the lab on a free port until the generator is closed; yield a Lab once it answers."""
    port = choose_port()
    env = {**os.environ, **lab_environment(), **write_settings(folder)}
    process = subprocess.Popen(
        lab_command(port),
        cwd=REPO_ROOT,
        text=True,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    printed, token = [], None
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while token is None and time.monotonic() < deadline and process.poll() is None:
            try:
                printed.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            match = re.search(rf"http://localhost:{port}/lab/tree/notebooks\?token=(\w+)", printed[-1])
            token = match and match.group(1)
        assert token, f"JupyterLab printed no URL with a token within {START_TIMEOUT} s:\n{''.join(printed)}"
        base = f"http://localhost:{port}"
        while not _answers(f"{base}/api"):
            assert process.poll() is None and time.monotonic() < deadline, (
                f"JupyterLab printed its URL but does not answer:\n{''.join(printed)}{_drain(lines)}"
            )
            time.sleep(0.2)
        yield Lab(base, token, "".join(printed))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _drain(lines: queue.Queue) -> str:
    drained = []
    while not lines.empty():
        drained.append(lines.get())
    return "".join(drained)
