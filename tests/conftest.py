"""Shared fixtures: where executed notebooks go (build/), a running `make lab`, and small local HTTP servers."""

import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

import lab_server
from workshop_lib.config import REPO_ROOT

BUILD_DIR = REPO_ROOT / "build"
EXECUTED_DIR = BUILD_DIR / "executed"

# Lessons write their files and exported models into build/ during tests, not into the participant's
# workspace/ and models/; notebook kernels started by the tests inherit this.
os.environ["WORKSHOP_WORKSPACE"] = str(BUILD_DIR / "workspace")
os.environ["WORKSHOP_MODELS"] = str(BUILD_DIR / "models")


@pytest.fixture(scope="session")
def executed_dir() -> Path:
    """build/executed/: each test run starts it empty; CI prints its path at the end."""
    shutil.rmtree(EXECUTED_DIR, ignore_errors=True)
    EXECUTED_DIR.mkdir(parents=True)
    return EXECUTED_DIR


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> lab_server.Lab:
    """One JupyterLab started by `make lab` for every test that needs it (starting one takes seconds)."""
    yield from lab_server.run_lab(tmp_path_factory.mktemp("jupyterlab"))


def pytest_terminal_summary(terminalreporter):
    if EXECUTED_DIR.is_dir() and any(EXECUTED_DIR.rglob("*.ipynb")):
        terminalreporter.write_sep("-", f"executed notebooks: {EXECUTED_DIR}")


@pytest.fixture
def json_server():
    """Start an HTTP server on a free localhost port that answers every GET with (status, body)."""
    servers = []

    def start(status: int, body) -> str:
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
