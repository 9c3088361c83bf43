"""Checks for module 03, reproducible training with DVC: one public function per exercise.

03.1 check_evaluate_stage    an evaluate stage in the project's real dvc.yaml, run and recorded in dvc.lock
03.2 check_experiment_grid   one experiment per alpha at l1_ratio 0.5 (the lesson's grid turned round), with metrics
03.3 check_best_experiment   the team's rule (at most 2 false alarms per 100 wines, then the lowest MAE) decided, and
                             the winner applied and committed on main
03.4 check_fair_comparison   the old release's model scored on the current validation wines, the lower MAE named,
                             the project back on main and clean

The checks read what DVC and git really wrote (dvc.yaml, dvc.lock, metrics.json, `dvc exp show --all-commits`,
`git show`, `git status`, `dvc status`, DVC's cache), never which helper ran a command: `!dvc ...` in the
notebook, a terminal or `project.dvc(...)` get the same verdict. When an answer is not right, the reference puts the
project in the state the next exercise needs.
"""

import hashlib
import io
import json
import math
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import yaml

from course.checks import NotSolved, solved, verdict
from workshop_lib import data, dvc_project, train

# What the evaluate stage must read and write, as paths relative to the project (as in dvc.yaml).
EVALUATE_DEPS = ("models/model.joblib", "data/prepared/validation.csv")
METRICS_FILE = "metrics.json"
METRIC_KEYS = ("mae", "r2")
GRID_L1_RATIO = 0.5  # 03.2: the committed l1_ratio; the grid varies alpha
MAX_FALSE_ALARMS = 2.0  # 03.3: the team's limit, false "good wine" calls per 100 validation wines
FAIR_NAME = "{old}-on-{new}-wines.json"  # where the reference of 03.4 writes its metrics: project.folder / this
TOLERANCE = 1e-6  # metrics computed twice from the same model and wines agree far closer than this
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


# --- the experiments, as `dvc exp show` lists them ---------------------------------------------------


def all_experiments(project: dvc_project.Project) -> pd.DataFrame:
    """`dvc exp show --csv --all-commits` as a table: the experiments of every commit, so a check still finds them
    after the participant committed a winner (plain `dvc exp show` lists only the experiments of HEAD)."""
    output = project.dvc("exp", "show", "--csv", "--all-commits", show=False).output
    if not output.strip():
        return pd.DataFrame({"Experiment": pd.Series(dtype=object)})
    return pd.read_csv(io.StringIO(output), na_values=["!", "-"])


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table:
        return pd.Series(np.nan, index=table.index, dtype=float)
    return pd.to_numeric(table[name], errors="coerce")


def experiment_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The experiments of `dvc exp show`: rows with a name (the workspace and commit rows have none)."""
    if "Experiment" not in table:
        return table.iloc[0:0]
    return table[table["Experiment"].notna() & (table["Experiment"].astype(str).str.strip() != "")]


def _elasticnet(table: pd.DataFrame) -> pd.Series:
    if "train.model" not in table:
        return pd.Series(True, index=table.index)
    return table["train.model"].fillna("elasticnet").astype(str) == "elasticnet"


def _close(series: pd.Series, value: float) -> np.ndarray:
    return np.isclose(series, float(value), rtol=0, atol=1e-9)


# --- 03.2 the experiment grid, turned round: alpha varies, l1_ratio stays -------------------------------


def _grid_problems(table: pd.DataFrame, alphas: Sequence[float]) -> tuple[list[float], list[str]]:
    """(the alphas without a usable experiment, one reason for each)."""
    experiments = experiment_rows(table)
    alpha, ratio = _column(experiments, "train.alpha"), _column(experiments, "train.l1_ratio")
    has_metrics = _column(experiments, "mae").notna() & _column(experiments, "false_alarms_per_100").notna()
    elasticnet = _elasticnet(experiments)
    missing, reasons = [], []
    for value in alphas:
        same_alpha = _close(alpha, value) & elasticnet
        in_grid = same_alpha & _close(ratio, GRID_L1_RATIO)
        if (in_grid & has_metrics).any():
            continue
        missing.append(value)
        if in_grid.any():
            names = ", ".join(repr(name) for name in experiments.loc[in_grid, "Experiment"])
            reasons.append(f"{names} (alpha {value:g}) has no metrics: was it only queued? dvc exp run --run-all")
        elif same_alpha.any():
            ratios = ", ".join(f"{r:g}" for r in sorted(set(ratio[same_alpha].dropna())))
            reasons.append(f"alpha {value:g} ran only with l1_ratio {ratios or 'unknown'}, not {GRID_L1_RATIO:g}")
        else:
            reasons.append(f"alpha {value:g} has no experiment")
    return missing, reasons


def _describe_experiments(table: pd.DataFrame) -> str:
    experiments = experiment_rows(table)
    alpha, ratio = _column(experiments, "train.alpha"), _column(experiments, "train.l1_ratio")
    shown = [f"{name} (alpha {a:g}, l1_ratio {r:g})" for name, a, r in zip(experiments["Experiment"], alpha, ratio)]
    more = f" and {len(shown) - MAX_LISTED} more" if len(shown) > MAX_LISTED else ""
    return ", ".join(shown[:MAX_LISTED]) + more


def _judge_experiment_grid(project: dvc_project.Project, alphas: Sequence[float]) -> str | None:
    table = all_experiments(project)
    if experiment_rows(table).empty:
        raise NotSolved
    missing, reasons = _grid_problems(table, alphas)
    if missing:
        return f"the grid is not complete: {'; '.join(reasons)}. The experiments so far: {_describe_experiments(table)}"
    return None


def experiment_name(alpha: float) -> str:
    """The name the reference gives an experiment: alpha-0.03 (names must be valid git branch names)."""
    return f"alpha-{float(alpha):g}"


def reference_experiment_grid(project: dvc_project.Project, alphas: Sequence[float]) -> dvc_project.Project:
    """Run the experiments the grid still misses, one `dvc exp run -S` each; keep the participant's ones."""
    table = all_experiments(project)
    missing, _ = _grid_problems(table, alphas)
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
            f"train.alpha={float(value):g}",
            "--set-param",
            f"train.l1_ratio={GRID_L1_RATIO:g}",
            show=False,
        )
        print(f"   $ {result.command}")
    return project


def check_experiment_grid(project: dvc_project.Project, alphas: Iterable[float]) -> dvc_project.Project:
    """Exercise 03.2: `dvc exp show` lists an experiment with metrics for each alpha, at l1_ratio 0.5."""
    alphas = list(alphas)

    def judge(answer: dvc_project.Project) -> str | None:
        return _judge_experiment_grid(answer, alphas)

    return verdict(
        "03.2",
        project,
        judge,
        hint="the lesson's grid held alpha at 1 and varied l1_ratio; here it is the other way round: one "
        "`dvc exp run` per value of alphas, each changing only train.alpha for that run (-S), while l1_ratio stays "
        f"at {GRID_L1_RATIO:g}. `dvc exp show` lists what DVC recorded.",
        reference=lambda: reference_experiment_grid(project, alphas),
        success=f"one experiment with metrics for each of the {len(alphas)} values of alpha at l1_ratio "
        f"{GRID_L1_RATIO:g}, each recorded with its params, metrics and data hash.",
    )


# --- 03.3 the team's rule, decided and adopted ----------------------------------------------------------


def _candidates(table: pd.DataFrame) -> pd.DataFrame:
    """Experiments with metrics, one row per name (the same experiment is listed once per commit it shows under)."""
    experiments = experiment_rows(table).assign(
        mae=lambda t: _column(t, "mae"),
        false_alarms=lambda t: _column(t, "false_alarms_per_100"),
        alpha=lambda t: _column(t, "train.alpha"),
        Experiment=lambda t: t["Experiment"].astype(str),
    )
    experiments = experiments[experiments["mae"].notna() & experiments["false_alarms"].notna()]
    return experiments.drop_duplicates("Experiment")


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """The experiments within the false-alarm limit, best first: lowest MAE, then the larger alpha (simpler)."""
    candidates = _candidates(table)
    allowed = candidates[candidates["false_alarms"] <= MAX_FALSE_ALARMS + 1e-9]
    return allowed.sort_values(["mae", "alpha"], ascending=[True, False], kind="stable")


def reference_best_experiment(table: pd.DataFrame) -> str | None:
    """The winner by the team's rule (None when no experiment meets the limit)."""
    ranked = _ranked(table)
    return None if ranked.empty else str(ranked["Experiment"].iloc[0])


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def _judge_decision(best: Any, table: pd.DataFrame) -> str | None:
    """None when `best` is a winner by the rule, else what is wrong with the decision."""
    candidates, ranked = _candidates(table), _ranked(table)
    if candidates.empty:
        return "dvc exp show lists no experiments with metrics: run the experiment grid (03.2) first"
    if ranked.empty:
        return f"no experiment raises at most {MAX_FALSE_ALARMS:g} false alarms per 100 wines: run the grid (03.2)"
    example = str(candidates["Experiment"].iloc[0])  # any name: a type error should not give the answer away
    if isinstance(best, float) and math.isnan(best):
        return (
            "best is NaN: that is the Experiment of a workspace or commit row (they have no name); keep only the "
            "rows of experiments"
        )
    if isinstance(best, (pd.Series, pd.DataFrame)):
        return f"best is a pandas {type(best).__name__}: give the experiment's name only, a str such as {example!r}"
    if not isinstance(best, str):
        kind = type(best).__name__
        article = "an" if kind[0] in "aeiou" else "a"
        return f"best is {article} {kind}, not an experiment's name: give a str such as {example!r}"
    top = ranked.iloc[0]
    winners = ranked[[_same(m, top["mae"]) and _same(a, top["alpha"]) for m, a in zip(ranked["mae"], ranked["alpha"])]]
    if best in set(winners["Experiment"]):
        return None
    if best not in set(candidates["Experiment"]):
        revs = set(table["rev"].astype(str)) if "rev" in table else set()
        if best in revs:
            return f"{best!r} is a workspace or commit row, not an experiment: choose among the named experiments"
        listed = ", ".join(repr(name) for name in candidates["Experiment"][:MAX_LISTED])
        return f"there is no experiment named {best!r} in dvc exp show; its experiments are {listed}"
    row = candidates[candidates["Experiment"] == best].iloc[0]
    winner = str(top["Experiment"])
    if row["false_alarms"] > MAX_FALSE_ALARMS + 1e-9:
        lowest = " has the lowest MAE of all, but it" if _same(row["mae"], candidates["mae"].min()) else ""
        return (
            f"{best!r}{lowest} raises {row['false_alarms']:.2f} false alarms per 100 wines, over the team's limit of "
            f"{MAX_FALSE_ALARMS:g}: the rule first drops such runs, then takes the lowest MAE of the rest"
        )
    if _same(row["mae"], top["mae"]):
        return (
            f"{best!r} ties with {winner!r} on MAE; on a tie the larger alpha (the simpler model) wins: "
            f"{winner!r} has alpha {top['alpha']:g}"
        )
    return (
        f"{best!r} is within the limit, but {winner!r} is too and has a lower MAE ({top['mae']:.4f} against "
        f"{row['mae']:.4f})"
    )


def _params_at(project: dvc_project.Project, rev: str) -> dict | None:
    """params.yaml as committed in `rev` (`git show rev:params.yaml`), or None."""
    shown = project.git("show", f"{rev}:params.yaml", show=False, check=False)
    if shown.returncode != 0:
        return None
    try:
        params = yaml.safe_load(shown.output)
    except yaml.YAMLError:
        return None
    return params if isinstance(params, dict) else None


def _train_params(params: dict | None) -> tuple:
    train_section = (params or {}).get("train") or {}
    return tuple(train_section.get(key) for key in ("model", "alpha", "l1_ratio"))


def _same_train_params(a: tuple, b: tuple) -> bool:
    if a[0] != b[0]:
        return False
    try:
        return all(math.isclose(float(x), float(y), rel_tol=0, abs_tol=1e-9) for x, y in zip(a[1:], b[1:]))
    except (TypeError, ValueError):
        return a == b


def _describe_params(params: tuple) -> str:
    return f"alpha {params[1]}, l1_ratio {params[2]}"


def _tidy_project(project: dvc_project.Project) -> str | None:
    """None when the project is on main with nothing uncommitted (git) and nothing out of date (DVC)."""
    where = _where_is_head(project)
    if where:
        return f"the project is {where}: go back with git checkout main, then dvc checkout"
    changed = project.git("status", "--porcelain", show=False).output.splitlines()
    if changed:
        files = ", ".join(line[3:] for line in changed[:MAX_LISTED])
        return f"git status shows uncommitted changes ({files})"
    changes = _status_changes(project)
    if changes:
        return (
            f"dvc status reports differences ({_describe_changes(changes)}): the workspace does not match the "
            "commit; dvc checkout (or dvc repro)"
        )
    return None


def _judge_adopted(best: str, project: dvc_project.Project, table: pd.DataFrame) -> str | None:
    """None when HEAD (on main, clean) holds the winner's parameters, else what is missing."""
    row = experiment_rows(table)
    row = row[row["Experiment"].astype(str) == best].iloc[0]
    wanted = (
        str(row.get("train.model", "elasticnet")),
        float(row["train.alpha"]),
        float(row["train.l1_ratio"]),
    )
    where = _where_is_head(project)
    if where:
        return (
            f"the decision is right, but the project is {where}: dvc exp apply and git commit on branch main "
            "(git checkout main first)"
        )
    committed = _train_params(_params_at(project, "HEAD"))
    if not _same_train_params(committed, wanted):
        in_workspace = _train_params(project.params())
        if _same_train_params(in_workspace, wanted):
            return (
                f"the decision is right and {best!r} is applied in the workspace, but not committed: HEAD still "
                f"holds {_describe_params(committed)}; git add and git commit make it the project's version"
            )
        return (
            f"the decision is right, but the project's last commit holds {_describe_params(committed)}, not "
            f"{best!r}'s {_describe_params(wanted)}: dvc exp apply {best}, then commit with git"
        )
    untidy = _tidy_project(project)
    if untidy:
        return f"the decision is right and committed, but {untidy}"
    return None


def _judge_best(best: Any, project: dvc_project.Project) -> str | None:
    table = all_experiments(project)
    return _judge_decision(best, table) or _judge_adopted(best, project, table)


def reference_best_experiment_adopted(project: dvc_project.Project) -> str | None:
    """The winner by the rule, applied with `dvc exp apply` and committed on main (as the next exercise needs)."""
    table = all_experiments(project)
    best = reference_best_experiment(table)
    if best is None:
        return None
    if _where_is_head(project):
        project.git("checkout", "--quiet", "--force", "main", show=False, check=False)
    project.dvc("exp", "apply", best, show=False)
    project.git("add", "--all", show=False)
    result = project.git("commit", "--quiet", "-m", f"Use experiment {best}: the team's rule", show=False, check=False)
    print(f"   Reference: $ dvc exp apply {best} && git commit" + ("" if result.returncode == 0 else " (nothing new)"))
    return best


def check_best_experiment(best: Any, project: dvc_project.Project) -> str | None:
    """Exercise 03.3: the winner by the team's rule, applied and committed; the reference does both if not."""
    return verdict(
        "03.3",
        best,
        lambda answer: _judge_best(answer, project),
        hint=f"the rule has two steps, in this order: drop every experiment with more than {MAX_FALSE_ALARMS:g} "
        "false alarms per 100 wines (false_alarms_per_100), then take the lowest mae of those left. The table is "
        "what `dvc exp show --csv` (or --json) prints; adopting the winner is two tools' work: DVC applies it, "
        "git commits it.",
        reference=lambda: reference_best_experiment_adopted(project),
        success=f"the lowest MAE among the experiments with at most {MAX_FALSE_ALARMS:g} false alarms per 100 "
        "wines, applied and committed on main: HEAD's params.yaml, dvc.lock and metrics.json are the winner's.",
    )


# --- 03.4 a fair comparison: the old release's model on today's validation wines -------------------------


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


def _cached(project: dvc_project.Project, md5: str) -> Path:
    """Where DVC's cache keeps the content with this md5 (DVC 3: .dvc/cache/files/md5/ab/cdef...)."""
    return project.path / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def _locked_outs(project: dvc_project.Project, rev: str) -> dict[str, str]:
    """{path: md5} of every stage output that dvc.lock records in `rev` (`git show rev:dvc.lock`)."""
    shown = project.git("show", f"{rev}:dvc.lock", show=False, check=False)
    if shown.returncode != 0:
        return {}
    lock = yaml.safe_load(shown.output) or {}
    return {
        _norm(out["path"]): out["md5"]
        for stage in (lock.get("stages") or {}).values()
        for out in stage.get("outs") or []
        if isinstance(out, dict) and "md5" in out
    }


def release_model_path(project: dvc_project.Project, rev: str) -> Path:
    """The model file of release `rev` in DVC's cache (the md5 its dvc.lock records)."""
    md5 = _locked_outs(project, rev).get("models/model.joblib")
    if md5 is None:
        raise LookupError(f"{rev}'s dvc.lock records no models/model.joblib")
    return _cached(project, md5)


def release_validation_path(project: dvc_project.Project, rev: str) -> Path:
    """The validation wines of release `rev` in DVC's cache: data/prepared is a folder, its .dir entry lists files."""
    md5 = _locked_outs(project, rev).get("data/prepared")
    if md5 is None:
        raise LookupError(f"{rev}'s dvc.lock records no data/prepared")
    listing = json.loads(_cached(project, md5).read_text(encoding="utf-8"))
    entry = next(item for item in listing if item["relpath"] == "validation.csv")
    return _cached(project, entry["md5"])


def fair_metrics(project: dvc_project.Project, model_rev: str, wines_rev: str) -> dict:
    """The metrics of `model_rev`'s model on `wines_rev`'s validation wines, computed as the evaluate stage does."""
    wines = data.load_wine(release_validation_path(project, wines_rev))
    model = joblib.load(release_model_path(project, model_rev))
    metrics, _ = train.score(model, wines[data.FEATURES], wines[data.TARGET])
    metrics["n_wines"] = len(wines)
    return metrics


def _committed_metrics(project: dvc_project.Project, rev: str) -> dict:
    shown = project.git("show", f"{rev}:{METRICS_FILE}", show=False, check=False)
    return json.loads(shown.output) if shown.returncode == 0 else {}


def _read_answer_metrics(answer: Any) -> tuple[dict | None, str | None]:
    """(metrics, None) from a dict or the path of a JSON file, or (None, what is wrong)."""
    if isinstance(answer, Mapping):
        metrics = dict(answer)
    elif isinstance(answer, (str, os.PathLike)):
        path = Path(answer)
        if path.is_dir():
            return None, f"{path} is a folder: give the path of the metrics file itself"
        if not path.is_file():
            return None, f"there is no file at {path}: the evaluate command writes it (--metrics PATH)"
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            return None, f"{path.name} is not valid JSON ({error.msg}, line {error.lineno})"
    else:
        return None, (
            f"fair is a {type(answer).__name__}: give the path of the metrics file you wrote (or the metrics as a dict)"
        )
    if not isinstance(metrics, dict) or not isinstance(metrics.get("mae"), (int, float)):
        return None, "the metrics hold no number 'mae': write them with the course's evaluate command"
    return metrics, None


def _judge_fair(answer: Any, project: dvc_project.Project, old: str, new: str) -> str | None:
    if not isinstance(answer, tuple) or len(answer) != 2:
        return "the check takes (fair, winner): the metrics file of the old model and the release that wins"
    fair, winner = answer
    if fair is Ellipsis and winner is Ellipsis:
        raise NotSolved
    if fair is Ellipsis or winner is Ellipsis:
        return f"{'fair' if fair is Ellipsis else 'winner'} is still ...: the exercise asks for both"
    if recorded_data_hash(project, old) is None or recorded_data_hash(project, new) is None:
        return f"the project has no releases {old} and {new}: run the cell that tags them first"
    metrics, problem = _read_answer_metrics(solved(fair))
    if problem:
        return problem
    expected, current = fair_metrics(project, old, new), _committed_metrics(project, new)
    own = _committed_metrics(project, old)
    n_wines = metrics.get("n_wines")
    if n_wines is not None and n_wines != expected["n_wines"]:
        unfair = f", {old}'s own validation wines" if n_wines == own.get("n_wines") else ""
        return (
            f"these metrics are on {n_wines} wines{unfair}, not on the {expected['n_wines']} validation wines of "
            f"{new}: a fair comparison scores both models on the same wines, the current ones"
        )
    if not math.isclose(metrics["mae"], expected["mae"], rel_tol=0, abs_tol=TOLERANCE):
        if math.isclose(metrics["mae"], current.get("mae", math.nan), rel_tol=0, abs_tol=TOLERANCE):
            return (
                f"the model you scored is {new}'s own (its MAE equals {new}'s metrics.json): git checkout {old} brings "
                f"back dvc.lock, not the model file; dvc checkout puts {old}'s model in the workspace"
            )
        if math.isclose(metrics["mae"], own.get("mae", math.nan), rel_tol=0, abs_tol=TOLERANCE):
            return (
                f"that is {old}'s MAE on its own validation wines (its metrics.json): score {old}'s model on "
                f"{new}'s validation wines instead"
            )
        return f"the MAE {metrics['mae']:.4f} is not that of {old}'s model on {new}'s validation wines"
    lower = old if expected["mae"] < current["mae"] else new
    if winner not in (old, new):
        return f"winner is {winner!r}: name the release with the lower MAE on the same wines, {old!r} or {new!r}"
    if winner != lower:
        return (
            f"on the same {expected['n_wines']} wines {old} has MAE {expected['mae']:.4f} and {new} "
            f"{current['mae']:.4f}: the lower one wins"
        )
    untidy = _tidy_project(project)
    if untidy:
        return f"the comparison is right, but {untidy}"
    return None


def reference_fair_comparison(project: dvc_project.Project, old: str, new: str) -> tuple[Path, str]:
    """Back on main, in step with DVC; the old model scored on the current wines, written outside the project."""
    if _where_is_head(project):
        project.git("checkout", "--quiet", "--force", "main", show=False, check=False)
    if _status_changes(project):
        project.dvc("checkout", "--force", "--quiet", show=False, check=False)
    metrics = fair_metrics(project, old, new)
    target = project.folder / FAIR_NAME.format(old=old, new=new)
    target.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    current = _committed_metrics(project, new)
    print(f"   Reference: {old}'s model scored on {new}'s validation wines, metrics in {target.name}")
    return target, (old if metrics["mae"] < current["mae"] else new)


def check_fair_comparison(answer: Any, project: dvc_project.Project, old: str = "v1.0", new: str = "v2.0") -> Any:
    """Exercise 03.4: (fair, winner), the old model's metrics on the new wines and the release with the lower MAE."""
    return verdict(
        "03.4",
        answer,
        lambda given: _judge_fair(given, project, old, new),
        hint=f"the old model is in DVC's cache, and {old}'s dvc.lock names it: bring it back as the lesson brought "
        f"back {old}'s data (or fetch that one file without moving the project), keep a copy outside the project, "
        f"return to main, then score it on main's data/prepared/validation.csv with the evaluate command.",
        reference=lambda: reference_fair_comparison(project, old, new),
        success=f"{old}'s model on {new}'s validation wines, measured as the evaluate stage measures, and the project "
        "back on main with git status and dvc status clean.",
    )
