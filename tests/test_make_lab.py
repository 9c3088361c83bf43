"""`make lab` as a participant uses it: the real JupyterLab, token on, localhost only, notebook 00 runs in it.

The server is started with the README's command (on a free port instead of 8888, so a lab you
have open does not get in the way), and notebook 00 runs cell by cell in a kernel of that server,
over the same websocket the browser uses.
"""

import asyncio
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
import uuid

import nbformat
import psutil
import pytest
from tornado.websocket import websocket_connect

from workshop_lib import notebooks
from workshop_lib.config import REPO_ROOT

pytestmark = pytest.mark.server
NOTEBOOK = "notebooks/00_setup_check.ipynb"
START_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    """Run `make lab LAB_PORT=<free port>`; yield (base URL, token, everything it printed so far)."""
    port = _free_port()
    process = subprocess.Popen(["make", "lab", f"LAB_PORT={port}"], cwd=REPO_ROOT, text=True,
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
            match = re.search(rf"http://localhost:{port}/lab\?token=(\w+)", printed[-1])
            token = match and match.group(1)
        assert token, f"`make lab` printed no URL with a token within {START_TIMEOUT} s:\n{''.join(printed)}"
        base = f"http://localhost:{port}"
        while _get_or_none(f"{base}/api") is None:
            assert process.poll() is None and time.monotonic() < deadline, \
                f"JupyterLab printed its URL but does not answer:\n{''.join(printed)}{_drain(lines)}"
            time.sleep(0.2)
        yield base, token, "".join(printed)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _drain(lines: queue.Queue) -> str:
    drained = []
    while not lines.empty():
        drained.append(lines.get())
    return "".join(drained)


def _get_or_none(url: str) -> tuple[int, bytes] | None:
    try:
        return _get(url)
    except urllib.error.URLError:
        return None


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_make_lab_tells_where_to_open_it(lab):
    _, _, printed = lab
    assert "Open the http://localhost:" in printed


def test_the_token_is_required(lab):
    base, token, _ = lab
    assert _get(f"{base}/api/contents/{NOTEBOOK}")[0] == 403
    status, body = _get(f"{base}/api/contents/{NOTEBOOK}", token)
    assert status == 200 and json.loads(body)["name"] == "00_setup_check.ipynb"


def test_jupyterlab_page_is_served(lab):
    base, token, _ = lab
    status, body = _get(f"{base}/lab?token={token}")
    assert status == 200 and b"JupyterLab" in body


def test_it_listens_on_localhost_only(lab):
    base, _, _ = lab
    port = int(base.rsplit(":", 1)[1])
    outside = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
               if a.family == socket.AF_INET and not a.address.startswith("127.")]
    for address in outside:
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, port)) != 0, f"JupyterLab answers on {address}:{port}"


async def _run_cells(ws_url: str, cells: list[str]) -> list[dict]:
    """Send each cell as an execute_request; collect the iopub outputs per cell, as the browser does."""
    connection = await websocket_connect(ws_url)
    session, results = uuid.uuid4().hex, []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            header = {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                      "version": "5.3", "date": ""}
            content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                       "allow_stdin": False, "stop_on_error": True}
            await connection.write_message(json.dumps({"header": header, "parent_header": {}, "metadata": {},
                                                       "content": content, "channel": "shell", "buffers": []}))
            outputs = {"text": "", "errors": []}
            while True:
                message = json.loads(await asyncio.wait_for(connection.read_message(), timeout=300))
                if message.get("parent_header", {}).get("msg_id") != msg_id or message["channel"] != "iopub":
                    continue
                kind = message["msg_type"]
                if kind == "stream":
                    outputs["text"] += message["content"]["text"]
                elif kind == "error":
                    outputs["errors"].append(f"{message['content']['ename']}: {message['content']['evalue']}")
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    break
            results.append(outputs)
    finally:
        connection.close()
    return results


def test_notebook_00_runs_in_a_kernel_of_the_lab(lab):
    base, token, _ = lab
    session = _post(f"{base}/api/sessions", token,
                    {"path": NOTEBOOK, "type": "notebook", "name": "", "kernel": {"name": "python3"}})
    nb = nbformat.read(REPO_ROOT / NOTEBOOK, as_version=4)
    parameters = notebooks.ci_parameters(REPO_ROOT / NOTEBOOK)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        is_parameters = "parameters" in cell.metadata.get("tags", [])
        # Like papermill: the CI values follow the defaults (ports depend on what else this machine runs).
        cells.append(cell.source + "".join(f"\n{k} = {v!r}" for k, v in parameters.items()) if is_parameters else cell.source)
    ws_url = f"{base.replace('http', 'ws')}/api/kernels/{session['kernel']['id']}/channels?token={token}"
    results = asyncio.run(_run_cells(ws_url, cells))
    assert [r["errors"] for r in results if r["errors"]] == []
    text = "".join(r["text"] for r in results)
    assert "Ready for the workshop: no check failed." in text
    assert "TensorFlow 2.20" in text
