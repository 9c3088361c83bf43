"""Checks for module 03, reproducible training with DVC: one public function per exercise.

03.1 check_evaluate_stage    an evaluate stage in the project's real dvc.yaml, run and recorded in dvc.lock
03.2 check_experiment_grid   one `dvc exp run` per l1_ratio at alpha 1, each with metrics
03.3 check_best_experiment   the best experiment's name by the stated rule (lowest MAE, then higher R²)
03.4 check_restored_data     the data of an old release in a file outside the project, the project untouched

The checks read what DVC and git really wrote (dvc.yaml, dvc.lock, metrics.json, `dvc exp show`,
`git status`, `dvc status`), so any way of solving an exercise that leaves the project right passes.
When an answer is not right, the reference puts the project in the state the next exercise needs.
"""

import hashlib
import json
import math
import os
import posixpath
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from course.checks import NotSolved, verdict
from workshop_lib import dvc_project

# What the evaluate stage must read and write, as paths relative to the project (as in dvc.yaml).
EVALUATE_DEPS = ("models/model.joblib", "data/prepared/validation.csv")
METRICS_FILE = "metrics.json"
METRIC_KEYS = ("mae", "r2")
GRID_ALPHA = 1.0
RESTORED_NAME = "wine-{tag}.csv"  # where the reference of 03.4 writes the old data: project.folder / this
MAX_LISTED = 8  # experiments named in one message


def _norm(path: object) -> str:
    return posixpath.normpath(str(path).strip())


def _paths(entries: object) -> set[str]:
    """The paths of a dvc.yaml list (deps, outs, metrics, plots): each entry is a path or {path: options}."""
    if not isinstance(entries, list):
        return set()
    found = set()
    for entry in entries:
        if isinstance(entry, dict):
            found |= {_norm(key) for key in entry}
        elif isinstance(entry, str):
            found.add(_norm(entry))
    return found


def _covered(path: str, deps: set[str]) -> bool:
    """A dependency on a folder (data/prepared) covers the files in it (data/prepared/validation.csv)."""
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def _read_yaml(path: Path) -> tuple[dict | None, str | None]:
    """(content, None) or (None, why the file cannot be read)."""
    if not path.is_file():
        return {}, None
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return None, f"{path.name} is not valid YAML ({' '.join(str(error).split())[:160]})"
    return (content if isinstance(content, dict) else {}), None


def _status_changes(project: dvc_project.Project, *targets: str) -> dict:
    """`dvc status --json` as a dict: empty when the workspace matches dvc.lock and the .dvc files."""
    result = project.dvc("status", "--json", *targets, show=False, check=False)
    try:
        changes = json.loads(result.output.strip().splitlines()[-1]) if result.output.strip() else {}
    except (json.JSONDecodeError, IndexError):
        changes = {"dvc status": result.output.strip().splitlines()[-1:]}
    if result.returncode != 0 and not changes:
        changes = {"dvc status": f"exit code {result.returncode}"}
    return changes if isinstance(changes, dict) else {"dvc status": changes}


def _describe_changes(changes: dict) -> str:
    """dvc status --json in words: 'evaluate: changed deps (params.yaml modified), changed command'."""
    parts = []
    for name, entries in changes.items():
        said = []
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict):
                said += [
                    f"{kind} ({', '.join(f'{path} {how}' for path, how in paths.items())})"
                    if isinstance(paths, dict)
                    else f"{kind} {paths}"
                    for kind, paths in entry.items()
                ]
            else:
                said.append(str(entry))
        parts.append(f"{name}: {', '.join(said)}")
    return "; ".join(parts)


# --- 03.1 the evaluate stage -------------------------------------------------------------------------


def _judge_evaluate_stage(project: dvc_project.Project) -> str | None:
    if not (project.path / "dvc.yaml").is_file():
        return "the project has no dvc.yaml any more: the pipeline's stages live there"
    pipeline, problem = _read_yaml(project.path / "dvc.yaml")
    if problem:
        return problem
    stages = pipeline.get("stages") if isinstance(pipeline.get("stages"), dict) else {}
    if "evaluate" not in stages:
        others = [name for name in stages if name not in ("prepare", "train")]
        if others:
            return (
                f"dvc.yaml has no stage named 'evaluate' (its stages: {', '.join(map(str, stages))}); "
                "name the new stage evaluate"
            )
        raise NotSolved
    stage = stages["evaluate"]
    if not isinstance(stage, dict) or not stage.get("cmd"):
        return "the evaluate stage in dvc.yaml has no cmd: a stage needs the command that computes the metrics"
    deps = _paths(stage.get("deps"))
    missing = [path for path in EVALUATE_DEPS if not _covered(path, deps)]
    if missing:
        return (
            f"the evaluate stage does not list {' and '.join(missing)} among its deps, so dvc repro would not "
            "rerun it when they change"
        )
    metrics = _paths(stage.get("metrics")) | _paths(pipeline.get("metrics"))
    if METRICS_FILE not in metrics:
        if METRICS_FILE in _paths(stage.get("outs")):
            return (
                f"{METRICS_FILE} is declared as an ordinary output (outs), not as a metric, so dvc metrics and "
                "dvc exp show do not read it"
            )
        return f"the evaluate stage declares no metric {METRICS_FILE}"
    plots = _paths(stage.get("plots")) | _paths(pipeline.get("plots"))
    if not plots:
        return "the evaluate stage declares no plot: add one, e.g. eval/predictions.csv (actual and predicted scores)"
    lock, problem = _read_yaml(project.path / "dvc.lock")
    if problem:
        return problem
    recorded = (lock.get("stages") or {}).get("evaluate") if isinstance(lock.get("stages"), dict) else None
    if not recorded:
        return "dvc.lock has no record of the evaluate stage: it has not run yet; run dvc repro"
    outs = {_norm(out.get("path", "")) for out in recorded.get("outs") or [] if isinstance(out, dict)}
    if METRICS_FILE not in outs:
        return (
            f"dvc.lock records no {METRICS_FILE} among the outputs of evaluate: declare it in the stage itself "
            "and run dvc repro"
        )
    metrics_path = project.path / METRICS_FILE
    if not metrics_path.is_file():
        return f"there is no {METRICS_FILE} in the project: run dvc repro, or dvc checkout if you deleted it"
    try:
        values = json.loads(metrics_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        return f"{METRICS_FILE} is not valid JSON ({error.msg}, line {error.lineno})"
    absent = [key for key in METRIC_KEYS if not isinstance(values, dict) or key not in values]
    if absent:
        return (
            f"{METRICS_FILE} has no {' and no '.join(repr(key) for key in absent)}: the stage's command must be "
            "the course's evaluate command, which writes them"
        )
    changes = _status_changes(project, "evaluate")
    if changes:
        return (
            f"the evaluate stage changed since it last ran (dvc status: {_describe_changes(changes)}): "
            "run dvc repro so that dvc.lock records the stage as it is now"
        )
    return None


def reference_evaluate_stage(project: dvc_project.Project) -> dvc_project.Project:
    """The course's evaluate stage written into dvc.yaml, then `dvc repro`: the project the next exercise needs."""
    (project.path / "dvc.yaml").write_text(dvc_project.pipeline_yaml(dvc_project.STAGES), encoding="utf-8")
    print("   Reference: dvc.yaml now has the course's evaluate stage (dvc_project.STAGE_YAML['evaluate']).")
    project.dvc("repro")
    return project


def check_evaluate_stage(project: dvc_project.Project) -> dvc_project.Project:
    """Exercise 03.1: an evaluate stage in dvc.yaml (deps, metric, plot) that has run (dvc.lock, metrics.json)."""
    return verdict(
        "03.1",
        project,
        _judge_evaluate_stage,
        hint="dvc stage add --force --name evaluate with --deps models/model.joblib --deps "
        "data/prepared/validation.csv --metrics-no-cache metrics.json --plots-no-cache eval/predictions.csv "
        "and the evaluate command, then dvc repro; the prepare and train stages in dvc.yaml show "
        "the shape.",
        reference=lambda: reference_evaluate_stage(project),
        success=f"dvc.yaml has an evaluate stage that depends on the model and the validation wines, with "
        f"{METRICS_FILE} as its metric and a plot; dvc.lock records its run.",
    )


# --- 03.2 the experiment grid ------------------------------------------------------------------------


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table:
        return pd.Series(np.nan, index=table.index, dtype=float)
    return pd.to_numeric(table[name], errors="coerce")


def experiment_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The experiments of `dvc exp show`: rows with a name (the workspace and commit rows have none)."""
    if "Experiment" not in table:
        return table.iloc[0:0]
    return table[table["Experiment"].notna() & (table["Experiment"].astype(str).str.strip() != "")]


def _grid_problems(table: pd.DataFrame, l1_ratios: Sequence[float]) -> tuple[list[float], list[str]]:
    """(the l1_ratios without a usable experiment, one reason for each)."""
    experiments = experiment_rows(table)
    ratio, alpha = _column(experiments, "train.l1_ratio"), _column(experiments, "train.alpha")
    has_metrics = _column(experiments, "mae").notna() & _column(experiments, "r2").notna()
    missing, reasons = [], []
    for value in l1_ratios:
        same_ratio = np.isclose(ratio, float(value), rtol=0, atol=1e-9)
        at_alpha = same_ratio & np.isclose(alpha, GRID_ALPHA, rtol=0, atol=1e-9)
        if (at_alpha & has_metrics).any():
            continue
        missing.append(value)
        if at_alpha.any():
            names = ", ".join(repr(name) for name in experiments.loc[at_alpha, "Experiment"])
            reasons.append(f"{names} (l1_ratio {value:g}) has no metrics")
        elif same_ratio.any():
            alphas = ", ".join(f"{a:g}" for a in sorted(set(alpha[same_ratio].dropna())))
            reasons.append(f"l1_ratio {value:g} ran only with alpha {alphas or 'unknown'}, not alpha {GRID_ALPHA:g}")
        else:
            reasons.append(f"l1_ratio {value:g} has no experiment")
    return missing, reasons


def _describe_experiments(table: pd.DataFrame) -> str:
    experiments = experiment_rows(table)
    ratio, alpha = _column(experiments, "train.l1_ratio"), _column(experiments, "train.alpha")
    shown = [f"{name} (alpha {a:g}, l1_ratio {r:g})" for name, a, r in zip(experiments["Experiment"], alpha, ratio)]
    more = f" and {len(shown) - MAX_LISTED} more" if len(shown) > MAX_LISTED else ""
    return ", ".join(shown[:MAX_LISTED]) + more


def _judge_experiment_grid(project: dvc_project.Project, l1_ratios: Sequence[float]) -> str | None:
    table = project.experiments()
    if experiment_rows(table).empty:
        raise NotSolved
    missing, reasons = _grid_problems(table, l1_ratios)
    if missing:
        return f"the grid is not complete: {'; '.join(reasons)}. The experiments so far: {_describe_experiments(table)}"
    return None


def experiment_name(l1_ratio: float) -> str:
    """The name the reference gives an experiment: l1-ratio-0.2 (names must be valid git branch names)."""
    return f"l1-ratio-{float(l1_ratio):g}"


def reference_experiment_grid(project: dvc_project.Project, l1_ratios: Sequence[float]) -> dvc_project.Project:
    """Run the experiments the grid still misses, one `dvc exp run -S` each; keep the participant's ones."""
    table = project.experiments()
    missing, _ = _grid_problems(table, l1_ratios)
    taken = set(experiment_rows(table)["Experiment"].astype(str))
    for value in missing:
        name = experiment_name(value)
        while name in taken:
            name += "-reference"
        taken.add(name)
        result = project.dvc(
            "exp",
            "run",
            "--name",
            name,
            "--set-param",
            f"train.alpha={float(GRID_ALPHA)}",
            "--set-param",
            f"train.l1_ratio={float(value):g}",
            show=False,
        )
        print(f"   $ {result.command}")
    return project


def check_experiment_grid(project: dvc_project.Project, l1_ratios: Iterable[float]) -> dvc_project.Project:
    """Exercise 03.2: `dvc exp show` lists an experiment with metrics for each l1_ratio at alpha 1."""
    l1_ratios = list(l1_ratios)

    def judge(answer: dvc_project.Project) -> str | None:
        return _judge_experiment_grid(answer, l1_ratios)

    return verdict(
        "03.2",
        project,
        judge,
        hint="loop over l1_ratios and run one experiment per value: project.dvc('exp', 'run', '-n', "
        "f'l1-ratio-{l1_ratio:g}', '-S', 'train.alpha=1.0', '-S', f'train.l1_ratio={l1_ratio}'); "
        "project.experiments() shows what DVC recorded.",
        reference=lambda: reference_experiment_grid(project, l1_ratios),
        success=f"one experiment with metrics for each of the {len(l1_ratios)} values of l1_ratio at alpha "
        f"{GRID_ALPHA:g}, each recorded with its params, metrics and data hash.",
    )


# --- 03.3 the best experiment ------------------------------------------------------------------------


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Experiments with metrics, best first: lowest MAE, then higher R²."""
    experiments = experiment_rows(table).assign(mae=lambda t: _column(t, "mae"), r2=lambda t: _column(t, "r2"))
    experiments = experiments[experiments["mae"].notna() & experiments["r2"].notna()]
    return experiments.sort_values(["mae", "r2"], ascending=[True, False], kind="stable")


def reference_best_experiment(table: pd.DataFrame) -> str | None:
    """The experiment with the lowest MAE; on a tie, the one with the higher R² (None when there is no experiment)."""
    ranked = _ranked(table)
    return None if ranked.empty else str(ranked["Experiment"].iloc[0])


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def _judge_best(best: Any, table: pd.DataFrame) -> str | None:
    ranked = _ranked(table)
    if ranked.empty:
        return "the table has no experiments with metrics: run the experiment grid (03.2) first"
    top = ranked.iloc[0]
    winners = ranked[[_same(m, top["mae"]) and _same(r, top["r2"]) for m, r in zip(ranked["mae"], ranked["r2"])]]
    winner = str(top["Experiment"])
    in_table_order = [str(name) for name in experiment_rows(table)["Experiment"] if name in set(ranked["Experiment"])]
    example = in_table_order[0]  # not the winner: a type error should not give the answer away
    if isinstance(best, float) and math.isnan(best):
        return (
            "best is NaN: that is the Experiment of a workspace or commit row (they have no name); keep only the "
            "rows of experiments before you sort"
        )
    if isinstance(best, (pd.Series, pd.DataFrame)):
        return f"best is a pandas {type(best).__name__}: give the experiment's name only, a str such as {example!r}"
    if not isinstance(best, str):
        kind = type(best).__name__
        article = "an" if kind[0] in "aeiou" else "a"
        return f"best is {article} {kind}, not an experiment's name: give a str such as {example!r}"
    if best in set(winners["Experiment"].astype(str)):
        return None
    names = set(ranked["Experiment"].astype(str))
    if best not in names:
        baselines = table[table["Experiment"].isna()] if "Experiment" in table else table.iloc[0:0]
        if "rev" in table and best in set(baselines["rev"].astype(str)):
            return (
                f"{best!r} is a baseline row (the workspace or a commit), not an experiment: choose among the rows "
                "with a name in the Experiment column"
            )
        listed = ", ".join(repr(name) for name in in_table_order[:MAX_LISTED])
        return f"there is no experiment named {best!r} in the table; its experiments are {listed}"
    row = ranked[ranked["Experiment"].astype(str) == best].iloc[0]
    if _same(row["mae"], top["mae"]):
        return (
            f"{best!r} ties with {winner!r} on MAE ({row['mae']:.3f}); on a tie the higher R² wins: "
            f"{winner!r} has R² {top['r2']:.3f}, {best!r} {row['r2']:.3f}"
        )
    if _same(row["mae"], ranked["mae"].max()):
        return f"{best!r} has the highest MAE ({row['mae']:.3f}): the rule asks for the lowest"
    return f"{best!r} has MAE {row['mae']:.3f}, but {winner!r} has a lower one ({top['mae']:.3f})"


def check_best_experiment(best: Any, table: pd.DataFrame) -> str | None:
    """Exercise 03.3: the name of the best experiment in `table` (project.experiments()); the reference if wrong."""
    return verdict(
        "03.3",
        best,
        lambda answer: _judge_best(answer, table),
        hint="keep only the experiments, table[table['Experiment'].notna()], sort them with "
        "sort_values(['mae', 'r2'], ascending=[True, False]) and take the Experiment of the first row.",
        reference=lambda: reference_best_experiment(table),
        success="the lowest MAE of the grid (and on a tie, the higher R²).",
    )


# --- 03.4 an old data version, restored ----------------------------------------------------------------


def md5_of(path: Path) -> str:
    """The md5 that DVC records for a file (`dvc add`, hash: md5)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def recorded_data_hash(
    project: dvc_project.Project, rev: str, dvc_file: str = dvc_project.DATA_FILE + ".dvc"
) -> str | None:
    """The md5 of the data that a git revision's .dvc file records (`git show rev:data/wine.csv.dvc`), or None."""
    shown = project.git("show", f"{rev}:{dvc_file}", show=False, check=False)
    if shown.returncode != 0:
        return None
    try:
        return yaml.safe_load(shown.output)["outs"][0]["md5"]
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


def _where_is_head(project: dvc_project.Project) -> str | None:
    """None when the project is on branch main, else where it is (a tag, a branch or a commit)."""
    branch = project.git("symbolic-ref", "--quiet", "--short", "HEAD", show=False, check=False)
    if branch.returncode == 0:
        return None if branch.output.strip() == "main" else f"on branch {branch.output.strip()!r}"
    tag = project.git("describe", "--tags", "--exact-match", "HEAD", show=False, check=False)
    if tag.returncode == 0:
        return f"at {tag.output.strip()} (a detached HEAD)"
    at = project.git("rev-parse", "--short", "HEAD", show=False).output.strip()
    return f"at {at} (a detached HEAD)"


def _judge_restored(restored: Any, project: dvc_project.Project, tag: str) -> str | None:
    if not isinstance(restored, (str, os.PathLike)):
        return (
            f"restored is a {type(restored).__name__}: set it to the path of the file you wrote, e.g. "
            f"project.folder / {RESTORED_NAME.format(tag=tag)!r}"
        )
    path = Path(restored)
    expected = recorded_data_hash(project, tag)
    if expected is None:
        return f"the project has no release {tag} with data/wine.csv.dvc: run the cell that tags the releases first"
    if path.is_dir():
        return f"{path} is a folder: give the path of the file itself (dvc get -o takes the file name)"
    if not path.is_file():
        return f"there is no file at {path}: write the data there (dvc get -o {path.name}), then run the check"
    found = md5_of(path)
    if found != expected:
        if found == recorded_data_hash(project, "main"):
            return (
                f"{path.name} holds the current data (main, all wines), not the data of release {tag}: "
                f"ask for the old revision ({tag})"
            )
        return (
            f"{path.name} is not the data of release {tag}: its md5 is {found}, while {tag}'s data/wine.csv.dvc "
            f"records {expected}"
        )
    where = _where_is_head(project)
    if where:
        return (
            f"the file is right, but the project is still {where}: go back with git checkout main, then "
            "dvc checkout, so that the current version is in the workspace again"
        )
    if path.resolve().is_relative_to(project.path.resolve()):
        return (
            f"the file is right, but it lies inside the project's git repository ({path}): put the copy outside, "
            f"e.g. project.folder / {RESTORED_NAME.format(tag=tag)!r}, so the project keeps no stray files"
        )
    changed = project.git("status", "--porcelain", show=False).output.splitlines()
    if changed:
        files = ", ".join(line[3:] for line in changed[:MAX_LISTED])
        return (
            f"the file is right, but git status shows uncommitted changes in the project ({files}): restoring "
            "an old version must leave the current one as it was"
        )
    changes = _status_changes(project)
    if changes:
        return (
            f"the file is right, but dvc status reports differences ({_describe_changes(changes)}): the "
            "workspace's data and outputs do not match the commit; run dvc checkout"
        )
    return None


def reference_restored_data(project: dvc_project.Project, tag: str) -> Path:
    """Back to main if needed, then `dvc get --rev tag` into project.folder: the old data, the project untouched."""
    if _where_is_head(project):
        project.git("checkout", "--quiet", "main", check=False)
        project.dvc("checkout", "--quiet", check=False)
    target = project.folder / RESTORED_NAME.format(tag=tag)
    project.dvc("get", ".", dvc_project.DATA_FILE, "--rev", tag, "--out", str(target), "--force")
    return target


def check_restored_data(restored: Any, project: dvc_project.Project, tag: str = "v1.0") -> str | os.PathLike[str]:
    """Exercise 03.4: the data of release `tag` in a file outside the project; the project back on main, clean."""
    return verdict(
        "03.4",
        restored,
        lambda answer: _judge_restored(answer, project, tag),
        hint=f"project.dvc('get', '.', 'data/wine.csv', '--rev', '{tag}', '-o', str(restored), '--force') "
        "copies the old data without touching the workspace; with git checkout + dvc checkout, "
        "go back afterwards: git checkout main, then dvc checkout.",
        reference=lambda: reference_restored_data(project, tag),
        success=f"the file holds exactly the data release {tag} records, and the project is back on main "
        "with nothing changed (git status and dvc status are clean).",
    )
