"""Module 07: the continuous-improvement cycle. One command takes a new batch of wines to a served,
smoke-tested model version, or stops and says why.

    python -m workshop_lib cycle --batch new_wines.csv [--folder DIR] [--server URL] [--set train.epochs=5]

The steps, in order. A step that stops the run leaves everything before it as it was:

    validate        the batch against data.SCHEMA; a corrupt batch stops here, before anything is touched
    add data        a branch cycle/<run>-<batch> in the project; the new wines appended; `dvc add` versions the data
    retrain         `dvc repro` (the stable split), then the Keras model of module 04 on the training wines
    evaluate        the candidate and the version in production on the same held-out wines
    quality gate    promote only if the MAE is lower by at least the margin (params.yaml: gate.margin, 0.01)
    export          the evaluated SavedModel copied to <served>/<next number>, atomically
    server pick-up  the model server (polling the base path) reports the new version AVAILABLE
    smoke test      predictions through the server's REST API equal the in-process ones (export.PARITY_TOLERANCE)
    baseline        the training wines saved as the reference for drift checks (module 06)
    record          the branch merged into main, tagged v<N>, data and model pushed to the DVC remote

Design choices, and why:

- **Where the model is trained.** The project's DVC pipeline has one stage, `split`. The Keras model is
  trained by the cycle, in its own process, right after `dvc repro`, and the SavedModel it writes is
  versioned with `dvc add models/savedmodel`. A `train` stage would do the same in a new process, and every
  process that trains pays TensorFlow's import (about 4 s) again, while the cycle needs TensorFlow anyway
  to evaluate and smoke-test. The record is complete all the same: each cycle's commit pins the data
  (data/wine.csv.dvc), the split (dvc.lock), the params, the model (models/savedmodel.dvc) and the metrics
  and decision (metrics.json). On a build server with a GPU you would make training a stage again.
- **A stable split.** Module 03's split shuffles the whole file, so after new wines arrive, wines the model in
  production trained on land in the new test set and flatter it. Here each wine's side is fixed by a hash
  of its values: a held-out wine stays held out in every later cycle, and the test set only grows.
- **Production** is the newest numbered folder in the served base path: what TF Serving serves by default.
  Before the first version there is none, and the first candidate must beat the mean baseline (always
  predict the average score) by the margin.
- **A branch per run.** Candidate data, model and metrics are committed on cycle/<run>-<batch>. Only a
  promoted and smoke-tested run reaches main. A refused run stays on its branch (and in the DVC remote) for
  the post-mortem, and it is never the base of the next run.
- **The served artifact is the evaluated one.** The export copies the SavedModel the gate judged. It does not
  export a second time. The copy goes to a hidden folder first and is renamed into place, as in
  export.export_savedmodel, so the server never sees half a model. A failed smoke test removes the
  version again, and the server goes back to the previous one.

The served base path defaults to <folder>/served/wine, never models/wine: running the cycle in the
course leaves module 05's versions alone.
"""

import argparse
import functools
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from workshop_lib import config, data, dvc_project

# workshop_lib.export (scikit-learn, TensorFlow) is imported inside the functions that need it: the split
# stage and a batch that fails validation finish in about a second, without loading either.

LESSON = "07_continuous_improvement"
MODEL_NAME = "wine"  # export.MODEL_NAME
DATA_FILE = dvc_project.DATA_FILE
PREPARED = "data/prepared"
CANDIDATE = "models/savedmodel"
METRICS_FILE = "metrics.json"
METRIC = "mae"  # the gate's metric: mean absolute error in quality points, lower is better
MARGIN = 0.01  # promote only if the candidate's MAE is lower by at least this much
EPOCHS = 20  # module 04 trains 40; half is enough for the cycle's comparisons and twice as fast
SMOKE_WINES = 50  # held-out wines sent through the server in the smoke test
PICK_UP_TIMEOUT = 60.0  # seconds the server may take to load a new version
PARAM_KEYS = {"split": ("test_share",), "train": ("epochs", "batch_size", "learning_rate", "hidden_units", "seed"),
              "gate": ("margin",)}

PIPELINE = """\
# The cycle's pipeline: `dvc repro` splits the data again whenever data/wine.csv changes.
# The Keras model is trained by the cycle right after it (see workshop_lib/cycle.py) and versioned with `dvc add`.
vars:
  - code: {code}  # the course's package, which the stage runs
stages:
  split:
    cmd: python -m workshop_lib.cycle split --params params.yaml --data {data} --out {prepared}
    deps:
      - {data}
      - ${{code}}/cycle.py
      - ${{code}}/data.py
    params:
      - split
    outs:
      - {prepared}
"""

# Outcomes of a step, and decisions of a run.
OK, STOPPED, REFUSED, FAILED, SKIPPED, NOTHING_NEW = "ok", "stopped", "refused", "failed", "skipped", "nothing new"
PROMOTED = "promoted"
STEPS = ("validate", "add data", "retrain", "evaluate", "quality gate", "export", "server pick-up", "smoke test",
         "baseline", "record")


class CycleError(RuntimeError):
    """The cycle cannot run here (no project, a project with uncommitted changes, ...)."""


class _Stop(Exception):
    """A planned end of a run: a bad batch, nothing new, a refused candidate."""

    def __init__(self, outcome: str, decision: str, message: str):
        super().__init__(message)
        self.outcome, self.decision = outcome, decision


# --- the folders of one cycle set-up --------------------------------------------------------------------

@dataclass(frozen=True)
class Cycle:
    """Where one continuous-improvement set-up lives.

        folder/project     the team's repository: git + DVC (module 03's layout), params.yaml, dvc.yaml
        folder/remote      the DVC remote
        folder/served/wine the model server's base path (served, unless given)
        folder/monitoring  the drift reference of the version in production
    """

    folder: Path
    served: Path | None = None

    def __post_init__(self):
        object.__setattr__(self, "folder", Path(self.folder).resolve())
        served = Path(self.served).resolve() if self.served else self.folder / "served" / MODEL_NAME
        object.__setattr__(self, "served", served)

    @property
    def project(self) -> dvc_project.Project:
        return dvc_project.Project(self.folder)

    @property
    def monitoring(self) -> Path:
        return self.folder / "monitoring"

    @property
    def baseline_file(self) -> Path:
        return self.monitoring / "baseline.json"

    def exists(self) -> bool:
        return (self.project.path / "dvc.yaml").is_file() and (self.project.path / ".git").is_dir()


def default_folder() -> Path:
    """The lesson's cycle folder, which the command line uses when no --folder is given."""
    return config.workspace_dir(LESSON) / "lesson"


def create(folder: Path, epochs: int = EPOCHS, margin: float = MARGIN, served: Path | None = None,
           show: bool = False) -> Cycle:
    """(Re)create a cycle set-up in `folder`: the project with the red wines (the proof of concept's data),
    the cycle's pipeline and params, and an empty served base path. Nothing is trained yet."""
    project = dvc_project.create_project(folder, stages=("prepare",), data_version="red", show=show)
    project.dvc("config", "core.autostage", "true", show=show)  # DVC stages what it changes; every run commits it all
    dvc_project.write_yaml(project.path / "params.yaml", default_params(epochs, margin))
    (project.path / "dvc.yaml").write_text(pipeline_yaml(), encoding="utf-8")
    # The pipeline's outputs stay out of git from the start, so a run that ends on main leaves a clean tree.
    (project.path / ".gitignore").write_text(f"/{PREPARED}\n/{CANDIDATE}\n", encoding="utf-8")
    project.commit("The continuous-improvement cycle: stable split stage, Keras training params, quality gate",
                   show=show)
    cycle = Cycle(folder, served)
    cycle.served.mkdir(parents=True, exist_ok=True)
    cycle.monitoring.mkdir(parents=True, exist_ok=True)
    return cycle


def default_params(epochs: int = EPOCHS, margin: float = MARGIN) -> dict:
    """The project's params.yaml: the split, module 04's Keras settings with `epochs`, the gate's margin."""
    from workshop_lib import export

    return {"split": {"test_share": 0.2},
            "train": {"epochs": int(epochs), "batch_size": export.BATCH_SIZE, "learning_rate": export.LEARNING_RATE,
                      "hidden_units": export.HIDDEN_UNITS, "seed": export.SEED},
            "gate": {"margin": float(margin)}}


def pipeline_yaml() -> str:
    return PIPELINE.format(code=config.REPO_ROOT / "workshop_lib", data=DATA_FILE, prepared=PREPARED)


# --- the pieces of the cycle ----------------------------------------------------------------------------

def stable_split(frame: pd.DataFrame, test_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duplicates removed, then (train, test), each wine's side fixed by a hash of its values.

    Unlike a shuffled split, adding wines never moves a wine from one side to the other: the wines
    held out today are held out in every later cycle, so no version is graded on wines it learned from.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be between 0 and 1, got {test_share}")
    unique = data.drop_duplicates(frame[list(data.SCHEMA)])
    digest = pd.util.hash_pandas_object(unique, index=False).to_numpy()
    in_test = (digest % 10_000) < round(test_share * 10_000)
    return unique[~in_test].reset_index(drop=True), unique[in_test].reset_index(drop=True)


def train_candidate(train: pd.DataFrame, settings: dict):
    """Module 04's Keras model (preprocessing inside), trained on the training wines with the train params."""
    from workshop_lib import export

    return export.fit_keras_model(train[data.FEATURES], train[data.TARGET], epochs=int(settings["epochs"]),
                                  batch_size=int(settings["batch_size"]), seed=int(settings["seed"]),
                                  hidden_units=int(settings["hidden_units"]),
                                  learning_rate=float(settings["learning_rate"]))


def predict_saved_model(saved_model_dir: Path, wines: pd.DataFrame):
    """Scores from a SavedModel's signature: the files that get served, not a Keras object in memory."""
    from workshop_lib import export

    return export.predict_signature(export.load_signature(saved_model_dir), wines)


def metrics_of(y_true, y_pred) -> dict:
    from workshop_lib import evaluate

    return evaluate.regression_metrics(y_true, y_pred) | {"n_test": int(len(y_true))}


def baseline_metrics(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """The bar before any version exists: always predict the training wines' average score."""
    return metrics_of(test[data.TARGET], [float(train[data.TARGET].mean())] * len(test))


def quality_gate(candidate_metrics: dict, production_metrics: dict, margin: float = MARGIN) -> tuple[bool, str]:
    """(promote, reason): promote only if the candidate's MAE is lower than production's by at least `margin`,
    measured on the same held-out wines. A missing metric or a different test set is a refusal, not a crash."""
    values = {}
    for name, metrics in (("candidate", candidate_metrics), ("production", production_metrics)):
        for key in (METRIC, "n_test"):
            value = (metrics or {}).get(key)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return False, f"the {name} has no {key}: nothing to compare, so production stays"
        values[name] = metrics[METRIC]
    if candidate_metrics["n_test"] != production_metrics["n_test"]:
        return False, (f"different test sets ({candidate_metrics['n_test']} vs {production_metrics['n_test']} wines): "
                       "the numbers are not comparable")
    candidate, production = values["candidate"], values["production"]
    gain = production - candidate
    if gain >= margin:
        return True, f"MAE {candidate:.3f} vs {production:.3f}: lower by {gain:.3f}, at least the margin {margin:g}"
    if gain > 0:
        return False, f"MAE {candidate:.3f} vs {production:.3f}: lower by only {gain:.3f}, less than the margin {margin:g}"
    return False, f"MAE {candidate:.3f} vs {production:.3f}: not better than production"


def production_version(base_path: Path) -> int | None:
    """The newest numbered version folder in the base path (what the server serves), or None."""
    base = Path(base_path)
    if not base.is_dir():
        return None
    numbers = [int(child.name) for child in base.iterdir() if child.is_dir() and child.name.isdigit()]
    return max(numbers, default=None)


def next_version(base_path: Path) -> int:
    """One more than the highest version in the base path: 1 for an empty or missing one.

    Numbers, not names: "10" sorts before "2" as text. Hidden export folders (.export-3-...) do not count.
    """
    return (production_version(base_path) or 0) + 1


def publish(saved_model_dir: Path, base_path: Path, version: int) -> Path:
    """Copy a SavedModel to <base_path>/<version>: into a hidden folder first, then one rename."""
    base = Path(base_path)
    target = base / str(int(version))
    if target.exists():
        raise FileExistsError(f"{target} exists already: versions are never overwritten by the cycle")
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".export-{version}-", dir=base))
    try:
        shutil.copytree(saved_model_dir, staging, dirs_exist_ok=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # only left over when the copy failed
    return target


def withdraw(base_path: Path, version: int) -> None:
    """Take a version away from the server (after a failed smoke test): it falls back to the previous one."""
    target = Path(base_path) / str(int(version))
    if target.exists():
        hidden = Path(base_path) / f".withdrawn-{version}-{os.getpid()}"
        target.rename(hidden)  # at once invisible to the server
        shutil.rmtree(hidden, ignore_errors=True)


def version_states(client) -> dict[int, str]:
    """{version: state} as the server reports them, e.g. {1: "END", 2: "AVAILABLE"}."""
    from workshop_lib.serving import ServingError

    try:
        entries = client.status()["model_version_status"]
    except ServingError:
        return {}
    return dict(sorted((int(entry["version"]), entry["state"]) for entry in entries))


def serving_version(client) -> int | None:
    """The version the server answers with when a client names none: the newest AVAILABLE one."""
    available = [version for version, state in version_states(client).items() if state == "AVAILABLE"]
    return max(available, default=None)


def wait_for_version(client, version: int, timeout: float = PICK_UP_TIMEOUT) -> float:
    """Seconds until the server reports `version` AVAILABLE; CycleError if it fails to load or takes too long."""
    from workshop_lib.serving import ServingError

    started = time.monotonic()
    while True:
        try:
            entry = client.status(version=version)["model_version_status"][0]
            if entry["state"] == "AVAILABLE":
                return time.monotonic() - started
            if entry["state"] == "END" and entry.get("status", {}).get("error_code", "OK") != "OK":
                raise CycleError(f"the server could not load version {version}: {entry['status'].get('error_message', '')}")
        except ServingError:
            pass  # not known to the server yet: it has not polled the folder since the export
        if time.monotonic() - started > timeout:
            raise CycleError(f"the server did not make version {version} AVAILABLE within {timeout:g} s: "
                             "does it watch this base path?")
        time.sleep(0.2)


def smoke_test(client, version: int, wines: pd.DataFrame, expected) -> list[str]:
    """What is wrong with `version` as served, as sentences; [] if it passes.

    1. the server reports the version AVAILABLE; 2. its REST predictions for `wines` equal `expected`
    (the in-process predictions of the same SavedModel) within export.PARITY_TOLERANCE. A server error
    is a problem to report, not a crash.
    """
    from workshop_lib import export
    from workshop_lib.serving import ServingError

    try:
        state = client.status(version=version)["model_version_status"][0]["state"]
    except ServingError as error:
        return [f"the server does not report version {version}: {error}"]
    if state != "AVAILABLE":
        return [f"version {version} is {state}, not AVAILABLE"]
    rows = wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")
    try:
        served = client.predict(rows, version=version)
    except ServingError as error:
        return [f"a REST prediction with version {version} failed: {error}"]
    difference = export.max_abs_difference(served, expected)
    if difference > export.PARITY_TOLERANCE:
        return [f"REST predictions of version {version} differ from the in-process ones by up to {difference:.2g} "
                f"quality points (tolerance {export.PARITY_TOLERANCE:g})"]
    return []


def save_baseline(train: pd.DataFrame, path: Path, **info) -> Path:
    """The training wines' measurements as the drift reference, in module 06's format (monitoring.save_baseline)."""
    from workshop_lib.monitoring import drift

    return drift.save_baseline(train[data.FEATURES], path, **info)


def start_server(cycle: Cycle, wait: bool = False):
    """A local model server on the cycle's base path, polling it every second, like TF Serving would.

    Without wait it may start before any version exists: it loads each version as it appears.
    """
    from workshop_lib.serving import LocalModelServer

    cycle.served.mkdir(parents=True, exist_ok=True)
    return LocalModelServer(model_base_path=cycle.served, model_name=MODEL_NAME, file_system_poll_wait_seconds=1,
                            timeout=PICK_UP_TIMEOUT).start(wait=wait)


def parse_overrides(pairs: list[str]) -> dict:
    """["train.epochs=5", "gate.margin=0.02"] -> {"train.epochs": 5, "gate.margin": 0.02} (values read as YAML)."""
    changes = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or name not in PARAM_KEYS.get(section, ()):
            known = ", ".join(f"{s}.{k}" for s, keys in PARAM_KEYS.items() for k in keys)
            raise ValueError(f"--set {pair!r}: use KEY=VALUE with one of the keys {known}")
        changes[key.strip()] = yaml.safe_load(value)
    return changes


def _check_params(params: dict) -> None:
    """The params the cycle reads, with their types: a typo in params.yaml stops a run with one clear line."""
    train = params.get("train", {})
    for key, low in (("epochs", 1), ("batch_size", 1), ("hidden_units", 1), ("seed", 0)):
        value = train.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"params.yaml: 'train.{key}' must be a whole number >= {low}, got {value!r}")
    for section, key in (("train", "learning_rate"), ("gate", "margin")):
        value = params.get(section, {}).get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"params.yaml: '{section}.{key}' must be a number >= 0, got {value!r}")


# --- a run and its report ---------------------------------------------------------------------------------

@dataclass(repr=False)
class Step:
    name: str
    outcome: str
    detail: str = ""
    seconds: float = 0.0

    def __repr__(self) -> str:  # what a notebook cell shows: no timing, so it reads the same on every run
        return f"{self.name}: {self.outcome}" + (f" · {self.detail}" if self.detail else "")


@dataclass(repr=False)
class CycleReport:
    """What one run did, step by step, and what it decided."""

    batch: str
    run: int = 0
    branch: str = ""
    steps: list[Step] = field(default_factory=list)
    decision: str = ""  # promoted, refused, stopped, nothing new, failed ("" while running)
    reason: str = ""
    version_before: int | None = None
    version_after: int | None = None
    candidate: dict | None = None
    production: dict | None = None

    @property
    def promoted(self) -> bool:
        return self.decision == PROMOTED

    @property
    def finished(self) -> bool:
        return bool(self.decision)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"step": s.name, "outcome": s.outcome, "seconds": round(s.seconds, 1), "detail": s.detail}
                             for s in self.steps]).set_index("step")

    def summary(self) -> str:
        """One line without numbers that change between machines: what a log or a checked output shows."""
        versions = _version_name(self.version_before)
        if self.promoted:
            versions += f" -> version {self.version_after}"
        return f"run {self.run} ({self.batch}): {self.decision or 'running'}; served: {versions}"

    def __str__(self) -> str:
        width = max(len(name) for name in STEPS)
        lines = [self.summary(), f"  {'step':<{width}}  {'outcome':<11}  {'time':>6}  detail"]
        for step in self.steps:
            lines.append(f"  {step.name:<{width}}  {step.outcome:<11}  {step.seconds:5.1f}s  {step.detail}")
        return "\n".join(lines)

    __repr__ = __str__


def _version_name(version: int | None) -> str:
    return "nothing" if version is None else f"version {version}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _step(name: str):
    """Run one step: time it, record its outcome; a planned stop or an error ends the run and restores main."""
    def wrap(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs) -> Step:
            done = len(self.report.steps)
            if done >= len(STEPS) or STEPS[done] != name:
                upcoming = f"the next step is {STEPS[done]!r}" if done < len(STEPS) else "all steps have run"
                raise CycleError(f"each step runs once, in order, and {upcoming}: for another run, make a new CycleRun")
            if self.report.finished:
                step = Step(name, SKIPPED)
            else:
                started = time.perf_counter()
                try:
                    detail = method(self, *args, **kwargs)
                    outcome = OK
                except _Stop as stop:
                    outcome, detail = stop.outcome, str(stop)
                    self.report.decision, self.report.reason = stop.decision, str(stop)
                except Exception as error:  # noqa: BLE001 - any failure ends the run with a record, never half-done
                    outcome, detail = FAILED, _first_line(error)
                    self.report.decision, self.report.reason = FAILED, f"{name}: {_first_line(error)}"
                    self._undo(name)
                step = Step(name, outcome, detail or "", time.perf_counter() - started)
            self.report.steps.append(step)
            return step
        return run
    return wrap


class CycleRun:
    """One run of the cycle. run.execute() does every step; the lesson calls them one by one:

        run = CycleRun(cycle, batch="white_1.csv", client=client)
        run.validate(); run.add_data(); run.retrain(); run.evaluate(); run.quality_gate(); ...

    Each step returns its Step (name, outcome, detail, seconds) and records it in run.report. After a
    stop (bad batch, nothing new, refused) or a failure, the remaining steps are skipped, and the project
    is back on main as it was. With show, the git and dvc commands are printed as they run.
    """

    def __init__(self, cycle: Cycle, batch: Path | str | None = None, client=None, params: dict | None = None,
                 gate: Callable[[dict, dict, float], tuple] | None = None, show: bool = False):
        self.cycle, self.client, self.show = cycle, client, show
        self.batch_path = Path(batch) if batch is not None else None
        self.overrides = dict(params or {})
        self.gate = gate or quality_gate
        self.report = CycleReport(batch=self.batch_path.name if self.batch_path else "no new batch")
        self.batch: pd.DataFrame | None = None
        self.new_wines = 0
        self.train = self.test = None
        self.candidate_predictions = None
        self.version: int | None = None
        self._server = None  # a server this run started for its smoke test
        self._published: Path | None = None

    @property
    def project(self) -> dvc_project.Project:
        return self.cycle.project

    @property
    def candidate_dir(self) -> Path:
        return self.project.path / CANDIDATE

    def execute(self) -> CycleReport:
        """Every step in order; a stop or a failure skips the rest."""
        try:
            for method in (self.validate, self.add_data, self.retrain, self.evaluate, self.quality_gate,
                           self.export, self.server_pick_up, self.smoke_test, self.update_baseline, self.record):
                method()
        finally:
            self.close()
        return self.report

    def close(self) -> None:
        """Stop a model server this run started for its smoke test."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    # --- the steps, in order -------------------------------------------------------------------------

    @_step("validate")
    def validate(self) -> str:
        self.report.version_before = production_version(self.cycle.served)
        if self.cycle.exists():
            runs = self.project.git("branch", "--list", "cycle/*", "--format=%(refname:short)", show=False).output.split()
            self.report.run = len(runs) + 1
        if self.batch_path is not None:  # the batch first, before anything else is looked at
            try:
                self.batch = data.load_wine(self.batch_path)
            except data.DataValidationError as error:
                raise _Stop(STOPPED, STOPPED, f"{error}; nothing was changed") from None
        if not self.cycle.exists():
            raise CycleError(f"{self.cycle.folder} holds no cycle project: create one with "
                             "workshop_lib.cycle.create(folder)")
        current = data.load_wine(self.project.path / DATA_FILE)
        if self.batch is None:
            return f"no new batch: the project's {DATA_FILE} ({len(current)} wines) passes the schema"
        known = set(current.itertuples(index=False, name=None))
        self._is_new = [row not in known for row in self.batch.itertuples(index=False, name=None)]
        self.new_wines = sum(self._is_new)
        if self.new_wines == 0:
            raise _Stop(NOTHING_NEW, NOTHING_NEW, f"all {len(self.batch)} wines of {self.batch_path.name} are in the "
                                                  "data already: nothing to do")
        return f"{len(self.batch)} wines pass the schema; {self.new_wines} are new"

    @_step("add data")
    def add_data(self) -> str:
        project, show = self.project, self.show
        branch_now = project.git("branch", "--show-current", show=False).output
        if branch_now != "main" or project.git("status", "--porcelain", show=False).output:
            raise CycleError(f"the project must be on main with no uncommitted changes (it is on {branch_now!r}): "
                             "commit or discard the changes first")
        if self.overrides:  # checked before anything changes
            params = project.params()
            for dotted, value in self.overrides.items():
                section, key = dotted.split(".")
                params[section][key] = value
            _check_params(params)
        stem = self.batch_path.stem if self.batch_path else "retrain"
        self.report.branch = f"cycle/{self.report.run}-{stem}"
        project.git("checkout", "--quiet", "-b", self.report.branch, show=show)
        if self.overrides:
            project.set_params(**self.overrides)
        if self.batch is None:
            return f"branch {self.report.branch}; {DATA_FILE} unchanged (md5 {project.data_hash()[:7]})"
        before = project.data_hash()
        rows_before = _append_rows(project.path / DATA_FILE, self.batch_path, self._is_new)
        project.dvc("add", "--quiet", DATA_FILE, show=show)
        return (f"branch {self.report.branch}; {DATA_FILE}: {rows_before} -> {rows_before + self.new_wines} rows, "
                f"md5 {before[:7]} -> {project.data_hash()[:7]}")

    @_step("retrain")
    def retrain(self) -> str:
        project = self.project
        _check_params(project.params())
        project.dvc("repro", show=self.show)
        self.train = data.load_wine(project.path / PREPARED / "train.csv")
        self.test = data.load_wine(project.path / PREPARED / "test.csv")
        settings = project.params()["train"]
        model = train_candidate(self.train, settings)
        shutil.rmtree(self.candidate_dir, ignore_errors=True)
        from workshop_lib import export

        export.write_savedmodel(model, self.candidate_dir)
        project.dvc("add", "--quiet", CANDIDATE, show=self.show)
        return f"{len(self.train)} training wines, {settings['epochs']} epochs; SavedModel in {CANDIDATE} (dvc add)"

    @_step("evaluate")
    def evaluate(self) -> str:
        self.candidate_predictions = predict_saved_model(self.candidate_dir, self.test)
        self.report.candidate = metrics_of(self.test[data.TARGET], self.candidate_predictions)
        current = self.report.version_before
        if current is None:
            self.report.production = baseline_metrics(self.train, self.test)
            against = "the mean baseline (no version in production yet)"
        else:
            served = predict_saved_model(self.cycle.served / str(current), self.test)
            self.report.production = metrics_of(self.test[data.TARGET], served)
            against = f"version {current}"
        return (f"{len(self.test)} held-out wines: candidate MAE {self.report.candidate[METRIC]:.3f}, "
                f"{against} MAE {self.report.production[METRIC]:.3f}")

    @_step("quality gate")
    def quality_gate(self) -> str:
        project = self.project
        margin = float(project.params()["gate"]["margin"])
        promote, reason = self.gate(self.report.candidate, self.report.production, margin)
        promote = bool(promote)
        record = {"run": self.report.run, "batch": self.report.batch, "branch": self.report.branch,
                  "decision": "promote" if promote else "refuse",
                  "reason": reason, "margin": margin, "production_version": self.report.version_before,
                  "candidate": self.report.candidate, "production": self.report.production}
        (project.path / METRICS_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        project.commit(f"Cycle run {self.report.run} ({self.report.batch}): {'promote' if promote else 'refuse'}: {reason}",
                       show=self.show)
        if not promote:
            project.dvc("push", "--quiet", show=self.show)  # the refused candidate, kept for the post-mortem
            self._back_to_main()
            raise _Stop(REFUSED, REFUSED, f"{reason}; {_version_name(self.report.version_before)} stays, "
                                          f"the candidate stays on branch {self.report.branch}")
        return f"promote: {reason}"

    @_step("export")
    def export(self) -> str:
        self.version = next_version(self.cycle.served)
        self._published = publish(self.candidate_dir, self.cycle.served, self.version)
        return f"version {self.version}: {self.cycle.served.name}/{self.version}/ (copied to a hidden folder, then renamed)"

    @_step("server pick-up")
    def server_pick_up(self) -> str:
        if self.client is None:
            self._server = start_server(self.cycle)
            self.client = self._server.client()
        seconds = wait_for_version(self.client, self.version)
        return f"version {self.version} AVAILABLE after {seconds:.1f} s"

    @_step("smoke test")
    def smoke_test(self) -> str:
        from workshop_lib import export

        wines = self.test.head(SMOKE_WINES)
        problems = smoke_test(self.client, self.version, wines, self.candidate_predictions[:len(wines)])
        if problems:
            raise CycleError("; ".join(problems))
        return f"{len(wines)} REST predictions equal the in-process ones within {export.PARITY_TOLERANCE:g}"

    @_step("baseline")
    def update_baseline(self) -> str:
        info = {"model_version": self.version, "data_md5": self.project.data_hash(), "run": self.report.run}
        save_baseline(self.train, self.cycle.monitoring / f"baseline_v{self.version}.json", **info)
        shutil.copyfile(self.cycle.monitoring / f"baseline_v{self.version}.json", self.cycle.baseline_file)
        return f"{len(self.train)} training wines are the drift reference of version {self.version}"

    @_step("record")
    def record(self) -> str:
        project, show = self.project, self.show
        project.git("checkout", "--quiet", "main", show=show)
        project.git("merge", "--quiet", "--ff-only", self.report.branch, show=show)
        project.git("tag", f"v{self.version}", show=show)
        project.dvc("push", "--quiet", show=show)
        self.report.decision, self.report.version_after = PROMOTED, self.version
        self.report.reason = f"version {self.version} serves"
        return f"main <- {self.report.branch}, tag v{self.version}, data and model pushed to the DVC remote"

    # --- putting things back ----------------------------------------------------------------------------

    def _back_to_main(self) -> None:
        """main's data, split and model back in the working tree (the branch keeps the candidate's)."""
        project = self.project
        project.git("checkout", "--quiet", "--force", "main", show=self.show)
        project.dvc("checkout", "--quiet", "--force", show=self.show, check=False)  # fails only before the first version

    def _undo(self, failed_step: str) -> None:
        """After a failure: the new version withdrawn from the server, the project back on main."""
        if self._published is not None and failed_step != "record":
            withdraw(self.cycle.served, self.version)
            self._published = None
        if self.report.branch and failed_step != "record":
            try:
                self.project.git("reset", "--quiet", "--hard", show=False)
                self._back_to_main()
                ahead = self.project.git("rev-list", "--count", f"main..{self.report.branch}", show=False).output
                if ahead == "0":  # nothing was committed on it: no trace worth keeping
                    self.project.git("branch", "--quiet", "-D", self.report.branch, show=False)
            except Exception:  # noqa: BLE001 - report the first failure, not this one
                pass


def _append_rows(path: Path, batch_path: Path, keep: list[bool]) -> int:
    """Append the batch's new lines to the data file as they are in the batch file; the old row count.

    The file is rewritten, not appended to in place: DVC may have linked it to its cache.
    """
    old = path.read_bytes()
    header, *lines = [line for line in Path(batch_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if [c.strip().strip('"') for c in header.split(",")] != list(data.SCHEMA) or len(lines) != len(keep):
        batch = data.load_wine(batch_path)  # another column order or quoting: write the values in the data's format
        buffer = io.StringIO()
        batch[list(data.SCHEMA)].to_csv(buffer, header=False, index=False, lineterminator="\n")
        lines = buffer.getvalue().splitlines()
    new = "".join(line + "\n" for line, wanted in zip(lines, keep) if wanted).encode("utf-8")
    rows = old.count(b"\n") - 1 + (0 if old.endswith(b"\n") else 1)
    path.unlink()
    path.write_bytes(old + (b"" if old.endswith(b"\n") else b"\n") + new)
    return rows


def run_cycle(cycle: Cycle | Path, batch: Path | str | None = None, client=None, server_url: str | None = None,
              params: dict | None = None, gate=None, show: bool = False) -> CycleReport:
    """The one command: every step of the cycle for one batch; the report says what happened and why.

    client: a ServingClient of the server that watches cycle.served (server_url builds one); with neither,
    a local server is started for the smoke test and stopped afterwards. params: changes for this run,
    e.g. {"train.epochs": 5}, committed on the run's branch. gate: another quality gate with the
    signature of quality_gate.
    """
    if not isinstance(cycle, Cycle):
        cycle = Cycle(cycle)
    if client is None and server_url:
        from workshop_lib.serving import ServingClient
        client = ServingClient(server_url, MODEL_NAME)
    return CycleRun(cycle, batch, client=client, params=params, gate=gate, show=show).execute()


# --- the record, and the cycle as a scheduled job ----------------------------------------------------------

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
        rows.append({"run": record["run"], "batch": record["batch"], "branch": branch, "decision": record["decision"],
                     "candidate MAE": record["candidate"][METRIC], "production MAE": record["production"][METRIC],
                     "against": "mean baseline" if against is None else f"version {against}",
                     "released as": ", ".join(tags)})
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


JOB_NOTEBOOK_CELLS = [
    ("markdown", "# The continuous-improvement cycle, as a job\n\n"
                 "A scheduler runs this notebook with papermill, one run per new batch:\n\n"
                 "    papermill cycle_job.ipynb runs/<date>_<batch>.ipynb -p batch <batch.csv> -p folder <cycle folder> "
                 "-p server_url http://localhost:8501\n\n"
                 "The executed copy in runs/ is the run's report. A bad batch or a failed step fails the job "
                 "(papermill exits with an error), so the scheduler can alert someone; a refused candidate does not."),
    ("parameters", "# Parameters: papermill replaces them with -p NAME VALUE.\n"
                   "batch = \"\"  # the new wines, a CSV file\n"
                   "folder = \"\"  # the cycle's folder (workshop_lib.cycle.create made it)\n"
                   "server_url = \"\"  # REST address of the model server that watches the base path; empty: start one"),
    ("code", "from workshop_lib import cycle\n\n"
             "report = cycle.run_cycle(folder, batch, server_url=server_url or None)\n"
             "print(report)"),
    ("code", "if report.decision in (cycle.STOPPED, cycle.FAILED):\n"
             "    raise RuntimeError(f\"the cycle did not finish: {report.reason}\")  # the job fails: someone gets told"),
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
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (workshop)", "language": "python"},
        "language_info": {"name": "python"}})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


# --- the DVC stage: python -m workshop_lib.cycle split ----------------------------------------------------

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
        test_share = yaml.safe_load(args.params.read_text(encoding="utf-8"))["split"]["test_share"]
        train, test = stable_split(data.load_wine(args.data), test_share)
    except (OSError, KeyError, TypeError, ValueError) as error:
        print(f"error: {_first_line(error)}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    train.to_csv(args.out / "train.csv", index=False)
    test.to_csv(args.out / "test.csv", index=False)
    print(f"split {args.data}: {len(train)} wines to train, {len(test)} held out (stable by hash) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
