"""Shared fixtures: where executed notebooks go (build/), a running lab, and small local HTTP servers.

The suite runs in a random order (pytest-randomly) and in parallel (pytest-xdist, `make test`):
every worker gets its own workspace and models folders under build/, so two notebooks that write
the same lesson folder never run into each other; tests that share a module-scoped fixture are kept
on one worker (xdist groups, `--dist loadgroup`). nbval runs inside the lesson tests
(tests/test_notebooks.py), one lesson per nbval run, its cells in order.
"""

import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import lab_server
import pytest

from workshop_lib.config import REPO_ROOT

# WORKSHOP_TEST_BUILD: another folder for it all, so two test runs on one checkout (two people, two
# terminals) do not empty each other's folders. Ports are still shared: run the heavy tests one at a time.
BUILD_DIR = Path(os.environ.get("WORKSHOP_TEST_BUILD") or REPO_ROOT / "build").resolve()
EXECUTED_DIR = BUILD_DIR / "executed"
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under xdist; None in a plain run

# Lessons write their files and exported models into build/ during tests, not into the participant's
# workspace/ and models/; notebook kernels started by the tests inherit this. One pair of folders per
# xdist worker (their last names stay workspace/ and models/, as the notebooks print them).
WORKER_DIR = BUILD_DIR / "workers" / WORKER if WORKER else BUILD_DIR
os.environ["WORKSHOP_WORKSPACE"] = str(WORKER_DIR / "workspace")
os.environ["WORKSHOP_MODELS"] = str(WORKER_DIR / "models")

# The expensive ones go first: a worker that started one of them last would make the whole run wait
# for it. The order within each of the two classes stays pytest-randomly's (and its seed replays it).
HEAVY = (
    "tests/test_notebooks.py::test_lesson_runs_twice",
    "tests/test_notebooks.py::test_exercise_notebook_runs_twice",
    "tests/pipeline/",
    "tests/test_browser.py",
    "tests/model/",
    "tests/course/test_checks_pipeline.py",
)


def pytest_configure(config):
    """Once per run, in the controller under xdist (never in a worker, which would delete what the other
    worker just wrote): empty workspace and models folders, and an empty build/executed/ if notebooks run."""
    runs_notebooks = any(
        Path(arg.split("::")[0]).resolve() in (REPO_ROOT / "tests", REPO_ROOT / "tests" / "test_notebooks.py")
        for arg in config.args
    )
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        # Every run starts with empty workspace and models folders: a model a former run exported (with
        # other code or settings) must not stand in for the one this run's notebooks export.
        for folder in (BUILD_DIR / "workers", BUILD_DIR / "workspace", BUILD_DIR / "models"):
            shutil.rmtree(folder, ignore_errors=True)
        if runs_notebooks:
            shutil.rmtree(EXECUTED_DIR, ignore_errors=True)
    EXECUTED_DIR.mkdir(parents=True, exist_ok=True)


# Lesson 00 checks whether port 8888 is free or JupyterLab's; the lab tests start a JupyterLab there.
PORT_8888_GROUP = "port-8888"
LESSON_00 = "tests/test_notebooks.py::test_lesson_runs_twice_in_a_row_and_gives_its_committed_outputs[notebooks/00"


def _group(item) -> str | None:
    """The xdist group an item must share with others, or None (it can run on any worker)."""
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    if item.nodeid.startswith(LESSON_00) or "lab" in getattr(fixtureinfo, "names_closure", ()):
        return PORT_8888_GROUP
    path = Path(str(item.path))
    try:
        relative = path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        relative = str(path)
    for name in getattr(fixtureinfo, "names_closure", ()):
        for definition in fixtureinfo.name2fixturedefs.get(name, ()):
            if definition.scope in ("module", "class"):  # set up once: its tests go to one worker
                return f"module:{relative}"
            if definition.scope == "package":
                return f"package:{definition.baseid}"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Before pytest-xdist names the groups (--dist loadgroup): mark what must stay together."""
    for item in items:
        group = _group(item)
        if group and not any(True for _ in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session):
    """After pytest-randomly's shuffle, before an xdist worker reports its collection: the heavy ones first
    (a stable sort, so the order within each class stays the seed's)."""
    session.items.sort(key=lambda item: 0 if item.nodeid.startswith(HEAVY) else 1)


@pytest.fixture(scope="session")
def executed_dir() -> Path:
    """build/executed/: each test run starts it empty (pytest_configure); CI prints its path at the end."""
    EXECUTED_DIR.mkdir(parents=True, exist_ok=True)
    return EXECUTED_DIR


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> lab_server.Lab:
    """One JupyterLab, started with `make lab`'s command and settings, per worker that needs one."""
    yield from lab_server.run_lab(tmp_path_factory.mktemp("jupyterlab"))


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    """The `prometheus` the real-Prometheus tests start: they skip, saying so, where there is none, and
    fail instead where WORKSHOP_REQUIRE_PROMETHEUS=1 (CI installs Debian's prometheus: it must run them)."""
    from workshop_lib.monitoring import prometheus

    binary = prometheus.prometheus_binary()
    if binary is None:
        reason = "no prometheus on PATH (nor PROMETHEUS_BIN): install Debian/Ubuntu or Homebrew `prometheus`"
        if os.environ.get("WORKSHOP_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(f"WORKSHOP_REQUIRE_PROMETHEUS=1 but {reason}")
        pytest.skip(reason)
    return binary


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
