"""`make outputs`: re-run every lesson notebook top to bottom, in place, from a fresh kernel.

Committed outputs must come from a real run of the current code; this is that run. Each notebook
runs in its own folder (notebooks/), as it does for a participant, with its own default parameters.
Usage: python tools/run_lessons.py [notebooks/NN_slug.ipynb ...]
"""

import sys
from pathlib import Path

import nbclient
import nbformat

from course import notebooks


def run_in_place(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=notebooks.KERNEL_NAME,
        timeout=notebooks.CELL_TIMEOUT_SECONDS,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or notebooks.course_notebooks("notebooks")
    for path in paths:
        print(f"running {notebooks.relative_name(path)} ...", flush=True)
        try:
            run_in_place(path)
        except nbclient.exceptions.CellExecutionError as error:
            print(f"{notebooks.relative_name(path)} failed; it was not changed.\n{error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
