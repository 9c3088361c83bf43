"""`make lab` as a participant uses it: the real JupyterLab, token on, localhost only, notebook 00 runs in it.

The server is started with the README's command (tests/lab_server.py; the `lab` fixture in
conftest.py), and notebook 00 runs cell by cell in a kernel of that server, over the same websocket
the browser uses. tests/test_browser.py drives the same lab through its real user interface.
"""

import asyncio
import json
import socket
import urllib.request
import uuid

import nbformat
import psutil
import pytest
from tornado.websocket import websocket_connect

from lab_server import get as _get
from course import notebooks
from workshop_lib.config import REPO_ROOT

pytestmark = pytest.mark.server
NOTEBOOK = "notebooks/00_setup_check.ipynb"


def _post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_make_lab_tells_where_to_open_it(lab):
    assert "Open the http://localhost:" in lab.printed


def test_the_token_is_required(lab):
    base, token = lab.base, lab.token
    assert _get(f"{base}/api/contents/{NOTEBOOK}")[0] == 403
    status, body = _get(f"{base}/api/contents/{NOTEBOOK}", token)
    assert status == 200 and json.loads(body)["name"] == "00_setup_check.ipynb"


def test_jupyterlab_page_is_served(lab):
    base, token = lab.base, lab.token
    status, body = _get(f"{base}/lab?token={token}")
    assert status == 200 and b"JupyterLab" in body


def test_it_listens_on_localhost_only(lab):
    base = lab.base
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
    base, token = lab.base, lab.token
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
