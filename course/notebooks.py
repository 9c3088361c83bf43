"""Notebooks as jobs: run a course notebook with papermill, with parameters, in a scratch directory.

CI, `make bench` and `make outputs` all run notebooks through here, so they run them the same way.
The small CI parameters of every notebook live in one file, course/notebook_parameters.yaml.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import papermill
import yaml
from jupyter_client.manager import AsyncKernelManager
from nbclient.util import run_sync

from workshop_lib.config import REPO_ROOT

NOTEBOOK_DIRS = ("notebooks", "exercises", "solutions")
CI_PARAMETERS_FILE = Path(__file__).with_name("notebook_parameters.yaml")
CELL_TIMEOUT_SECONDS = 600
KERNEL_NAME = "python3"  # the course's kernel, registered in .venv by tools/setup.sh
# TensorFlow's C++ log lines, which the course's kernel silences (TF_CPP_MIN_LOG_LEVEL=3) and no notebook may show:
# absl's "I0000 00:00:1796593565.156394   21879 port.cc:153] ...", its "WARNING: All log messages before
# absl::InitializeLog() ..." (both from TensorFlow 2.21 on), and the older "2026-11-26 23:58:48.026887: E ...".
TF_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d{2}:\d{2}:[\d.]+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl::InitializeLog"
    r"|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: [IWEF] )",
    re.M,
)


def course_notebooks(*dirs: str) -> list[Path]:
    """The numbered notebooks (NN_slug.ipynb) in the given course folders, in course order."""
    found = []
    for folder in dirs or NOTEBOOK_DIRS:
        found += sorted((REPO_ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
    return found


def relative_name(notebook: Path) -> str:
    return Path(notebook).resolve().relative_to(REPO_ROOT).as_posix()


def ci_parameters(notebook: Path, parameters_file: Path = CI_PARAMETERS_FILE) -> dict:
    """The small parameters CI runs this notebook with ({} when it needs none)."""
    table = yaml.safe_load(Path(parameters_file).read_text(encoding="utf-8")) or {}
    return dict(table.get(relative_name(notebook)) or {})


def parameters_cell(notebook: Path) -> nbformat.NotebookNode | None:
    """The code cell tagged `parameters` (papermill's convention), or None."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell
    return None


def execute(
    notebook: Path,
    output: Path,
    parameters: dict | None = None,
    cwd: Path | None = None,
    progress_bar: bool = False,
    kernel: AsyncKernelManager | None = None,
) -> nbformat.NotebookNode:
    """Run a notebook top to bottom into `output`; a failing cell raises papermill's PapermillExecutionError.

    With `kernel` (from one_kernel()), the notebook runs in that kernel and leaves it
    running, so a second call is a second "Run All" in the same kernel, as a participant would do it.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if cwd is not None:
        Path(cwd).mkdir(parents=True, exist_ok=True)
    return papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters or {},
        kernel_name=KERNEL_NAME,
        cwd=str(cwd) if cwd else None,
        progress_bar=progress_bar,
        execution_timeout=CELL_TIMEOUT_SECONDS,
        **({"km": kernel} if kernel is not None else {}),
    )


@contextmanager
def one_kernel() -> Iterator[AsyncKernelManager]:
    """The course kernel for several execute() calls in a row (the first starts it); shut down at the end."""
    kernel = AsyncKernelManager(kernel_name=KERNEL_NAME)
    try:
        yield kernel
    finally:
        if kernel.has_kernel:
            run_sync(kernel.shutdown_kernel)(now=True)
