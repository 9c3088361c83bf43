"""Start JupyterLab exactly as a participant does (`make lab`) for the tests that need a running lab.

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
PREFERRED_PORT = 8888  # the README's address; a free port instead when a lab of your own already runs there

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
    printed: str  # what `make lab` printed up to the moment it answered


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_port() -> int:
    if port_is_free(PREFERRED_PORT):
        return PREFERRED_PORT
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    """Run `make lab LAB_PORT=<port>` until the generator is closed; yield a Lab once it answers."""
    port = choose_port()
    env = {**os.environ, **write_settings(folder)}
    process = subprocess.Popen(["make", "lab", f"LAB_PORT={port}"], cwd=REPO_ROOT, text=True, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
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
        assert token, f"`make lab` printed no URL with a token within {START_TIMEOUT} s:\n{''.join(printed)}"
        base = f"http://localhost:{port}"
        while not _answers(f"{base}/api"):
            assert process.poll() is None and time.monotonic() < deadline, \
                f"JupyterLab printed its URL but does not answer:\n{''.join(printed)}{_drain(lines)}"
            time.sleep(0.2)
        yield Lab(base, token, "".join(printed))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _drain(lines: queue.Queue) -> str:
    drained = []
    while not lines.empty():
        drained.append(lines.get())
    return "".join(drained)
