"""The cycle's record and its scheduled form: the history of runs from git, the papermill job notebook,
and the command line of the project's DVC stage (python -m workshop_lib.cycle split).
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml

from workshop_lib import data, params
from workshop_lib.cycle import steps
from workshop_lib.cycle.folders import METRIC, METRICS_FILE, Cycle, describe_error


def history(cycle: Cycle) -> pd.DataFrame:
    """Every run that reached the gate, from the project's git history: batch, decision, MAEs, release tag.

    The audit trail comes for free: each run committed its metrics.json on its branch, and each
    release is a tag on main.
    """
    project = cycle.project
    branches = project.git("branch", "--list", "cycle/*", "--format=%(refname:short)", show=False).output.split()
    rows = []
    for branch in sorted(branches, key=lambda name: int(name.split("/")[1].split("-")[0])):
        shown = project.git("show", f"{branch}:{METRICS_FILE}", show=False, check=False)
        if shown.returncode != 0:
            continue  # the run failed before its gate
        record = json.loads(shown.output)
        if record.get("branch") != branch:
            continue  # metrics.json inherited from main: the run stopped before its gate
        tags = project.git("tag", "--points-at", branch, show=False).output.split()
        against = record["production_version"]
        rows.append(
            {
                "run": record["run"],
                "batch": record["batch"],
                "branch": branch,
                "decision": record["decision"],
                "candidate MAE": record["candidate"][METRIC],
                "production MAE": record["production"][METRIC],
                "against": "mean baseline" if against is None else f"version {against}",
                "released as": ", ".join(tags),
            }
        )
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


JOB_NOTEBOOK_CELLS = [
    (
        "markdown",
        "# The continuous-improvement cycle, as a job\n\n"
        "A scheduler runs this notebook with papermill, one run per new batch:\n\n"
        "    papermill cycle_job.ipynb runs/<date>_<batch>.ipynb -p batch <batch.csv> -p folder <cycle folder> "
        "-p server_url http://localhost:8501\n\n"
        "The executed copy in runs/ is the run's report. A bad batch or a failed step fails the job "
        "(papermill exits with an error), so the scheduler can alert someone; a refused candidate does not.",
    ),
    (
        "parameters",
        "# Parameters: papermill replaces them with -p NAME VALUE.\n"
        'batch = ""  # the new wines, a CSV file\n'
        'folder = ""  # the cycle\'s folder (workshop_lib.cycle.create made it)\n'
        'server_url = ""  # REST address of the model server that watches the base path; empty: start one',
    ),
    (
        "code",
        "from workshop_lib import cycle\n\n"
        "report = cycle.run_cycle(folder, batch, server_url=server_url or None)\n"
        "print(report)",
    ),
    (
        "code",
        "if report.decision in (cycle.STOPPED, cycle.FAILED):\n"
        '    raise RuntimeError(f"the cycle did not finish: {report.reason}")  # the job fails: someone gets told',
    ),
]


def write_job_notebook(path: Path) -> Path:
    """Write the job notebook that papermill runs for each batch (JOB_NOTEBOOK_CELLS)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = []
    for kind, source in JOB_NOTEBOOK_CELLS:
        if kind == "markdown":
            cells.append(new_markdown_cell(source))
        else:
            cells.append(new_code_cell(source, metadata={"tags": ["parameters"]} if kind == "parameters" else {}))
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (workshop)", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def main(argv: list[str] | None = None) -> int:
    """The `split` stage of the cycle's pipeline."""
    parser = argparse.ArgumentParser(prog="python -m workshop_lib.cycle", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    split = commands.add_parser("split", help="remove duplicates; write train.csv and test.csv, a stable split by hash")
    split.add_argument("--params", required=True, type=Path, help="params.yaml with split.test_share")
    split.add_argument("--data", required=True, type=Path, help="the data file (data/wine.csv)")
    split.add_argument("--out", required=True, type=Path, help="folder for train.csv and test.csv")
    args = parser.parse_args(argv)
    try:
        settings = yaml.safe_load(args.params.read_text(encoding="utf-8"))
        if not isinstance(settings, dict):
            raise ValueError(f"{args.params}: expected a mapping of sections (split:, train:, gate:)")
        params.check(settings, params.rules_for("cycle", ("split",)), str(args.params))
        test_share = settings["split"]["test_share"]
        train, test = steps.stable_split(data.load_wine(args.data), test_share)
    except (OSError, KeyError, TypeError, ValueError) as error:
        print(f"error: {describe_error(error)}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    train.to_csv(args.out / "train.csv", index=False)
    test.to_csv(args.out / "test.csv", index=False)
    print(f"split {args.data}: {len(train)} wines to train, {len(test)} held out (stable by hash) in {args.out}")
    return 0
