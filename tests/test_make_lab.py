"""`make lab` as a participant uses it: the real JupyterLab, token on, localhost only, notebook 00 runs in it.

The server is started with the Makefile's `lab` command, run directly (tests/lab_server.py; the `lab`
fixture in conftest.py; the first tests here check that the two command lines agree), and notebook
00 runs cell by cell in a kernel of that server, over the same websocket the browser uses.
tests/test_browser.py drives the same lab through its real user interface.
"""

import asyncio
import json
import os
import re
import shlex
import urllib.request
import uuid

import lab_server
import nbformat
import pytest
from lab_server import get as _get
from loopback import answers_on, other_reachable_addresses
from tornado.websocket import websocket_connect

from course import notebooks
from workshop_lib.config import REPO_ROOT

pytestmark = pytest.mark.server
NOTEBOOK = "notebooks/00_setup_check.ipynb"


def _post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


MAKEFILE = REPO_ROOT / "Makefile"


def _recipe(target: str) -> list[str]:
    """The recipe lines of a Makefile target, continuation lines joined."""
    text = MAKEFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, flags=re.MULTILINE)
    assert match, f"the Makefile has no {target} target"
    return [line.strip() for line in match.group(1).splitlines()]


def _expand(line: str, port: int) -> str:
    allow_root = "--allow-root" if os.getuid() == 0 else ""
    return (
        line.replace("$(if $(filter 0,$(shell id -u)),--allow-root,)", allow_root)
        .replace("$(VENV)", ".venv")
        .replace("$(LAB_PORT)", str(port))
        .replace("$(CURDIR)", str(REPO_ROOT))
    )


def test_the_tests_start_the_lab_with_the_makefiles_command():
    jupyter = [line for line in _recipe("lab") if "jupyter lab" in line]
    assert len(jupyter) == 1, _recipe("lab")
    words = shlex.split(_expand(jupyter[0], 4321))
    words[0] = str(REPO_ROOT / words[0])
    assert words == lab_server.lab_command(4321)


def test_the_tests_give_the_lab_the_makefiles_environment():
    exported = dict(re.findall(r"^export (\w+) := (.*)$", MAKEFILE.read_text(encoding="utf-8"), flags=re.MULTILINE))
    environment = lab_server.lab_environment()
    assert exported["JUPYTER_PREFER_ENV_PATH"] == environment["JUPYTER_PREFER_ENV_PATH"]
    assert _expand(exported["JUPYTER_CONFIG_PATH"], 0) == environment["JUPYTER_CONFIG_PATH"]
    assert (
        _expand(exported["PATH"], 0).split(":")[0]
        == environment["PATH"].split(os.pathsep)[0]
        == str(REPO_ROOT / ".venv" / "bin")
    )


def test_make_lab_tells_where_to_open_it(lab):
    """`make lab` says which address to open; JupyterLab then prints that address with the token."""
    said = [line for line in _recipe("lab") if line.startswith("@echo")]
    assert said and "Open the http://localhost:$(LAB_PORT)/lab/tree/notebooks?token=..." in said[0]
    assert f"{lab.base}/lab/tree/notebooks?token={lab.token}" in lab.printed


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
    """Not on this machine's other addresses (tests/loopback.py says how every host has one to try)."""
    port = int(lab.base.rsplit(":", 1)[1])
    reachable = other_reachable_addresses()
    assert reachable, "no address besides 127.0.0.1 reaches a listener on all interfaces: nothing to check against"
    assert answers_on("127.0.0.1", port), "JupyterLab does not answer on localhost itself"
    answering = [address for address in reachable if answers_on(address, port)]
    assert answering == [], f"JupyterLab answers on {answering} (port {port}), not only on localhost"


def test_the_doctor_sees_the_lab_it_runs_in(lab):
    """Notebook 00's port check on a port a lab holds: not a conflict, the course's own JupyterLab."""
    from course import doctor

    result = doctor.check_port(int(lab.base.rsplit(":", 1)[1]), "JupyterLab")
    assert (result.status, result.detail) == (doctor.PASS, "in use by JupyterLab"), result


async def _run_cells(ws_url: str, cells: list[str]) -> list[dict]:
    """Send each cell as an execute_request; collect the iopub outputs per cell, as the browser does."""
    connection = await websocket_connect(ws_url)
    session, results = uuid.uuid4().hex, []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            header = {
                "msg_id": msg_id,
                "username": "test",
                "session": session,
                "msg_type": "execute_request",
                "version": "5.3",
                "date": "",
            }
            content = {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            }
            await connection.write_message(
                json.dumps(
                    {
                        "header": header,
                        "parent_header": {},
                        "metadata": {},
                        "content": content,
                        "channel": "shell",
                        "buffers": [],
                    }
                )
            )
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
    session = _post(
        f"{base}/api/sessions", token, {"path": NOTEBOOK, "type": "notebook", "name": "", "kernel": {"name": "python3"}}
    )
    nb = nbformat.read(REPO_ROOT / NOTEBOOK, as_version=4)
    parameters = notebooks.ci_parameters(REPO_ROOT / NOTEBOOK)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        is_parameters = "parameters" in cell.metadata.get("tags", [])
        # Like papermill: the CI values follow the defaults (ports depend on what else this machine runs).
        cells.append(
            cell.source + "".join(f"\n{k} = {v!r}" for k, v in parameters.items()) if is_parameters else cell.source
        )
    ws_url = f"{base.replace('http', 'ws')}/api/kernels/{session['kernel']['id']}/channels?token={token}"
    results = asyncio.run(_run_cells(ws_url, cells))
    assert [r["errors"] for r in results if r["errors"]] == []
    text = "".join(r["text"] for r in results)
    assert "Ready for the workshop: no check failed." in text
    assert "TensorFlow 2.20" in text
