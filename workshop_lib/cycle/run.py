"""A run of the cycle and its report: the ten steps in order, each timed and recorded; a planned stop or a
failure skips the rest and puts the project back on main as it was.
"""

import functools
import io
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from model_server import versions
from workshop_lib import data, dvc_project
from workshop_lib.cycle import steps
from workshop_lib.cycle.folders import (
    CANDIDATE,
    DATA_FILE,
    METRIC,
    METRICS_FILE,
    MODEL_NAME,
    PREPARED,
    SMOKE_WINES,
    Cycle,
    CycleError,
    describe_error,
)
from workshop_lib.params import apply_overrides, check_overrides, validate_cycle_params

if TYPE_CHECKING:
    import numpy as np

    from workshop_lib.serving import ServingClient

# Outcomes of a step, and decisions of a run.
OK, STOPPED, REFUSED, FAILED, SKIPPED, NOTHING_NEW = "ok", "stopped", "refused", "failed", "skipped", "nothing new"
PROMOTED = "promoted"
STEPS = (
    "validate",
    "add data",
    "retrain",
    "evaluate",
    "quality gate",
    "export",
    "server pick-up",
    "smoke test",
    "baseline",
    "record",
)


class _Stop(Exception):
    """A planned end of a run: a bad batch, nothing new, a refused candidate."""

    def __init__(self, outcome: str, decision: str, message: str):
        super().__init__(message)
        self.outcome, self.decision = outcome, decision


@dataclass(repr=False)
class Step:
    """What one step did: its name, its outcome (ok, stopped, refused, failed, skipped), a detail, its time."""

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
    rollback_error: str = (
        ""  # after a failure: why putting things back failed too ("" if it worked, or none was needed)
    )

    @property
    def promoted(self) -> bool:
        """True if a new version serves now."""
        return self.decision == PROMOTED

    @property
    def finished(self) -> bool:
        """True once a decision is made: the remaining steps are skipped."""
        return bool(self.decision)

    def table(self) -> pd.DataFrame:
        """The steps as a table (step, outcome, seconds, detail), for a notebook."""
        return pd.DataFrame(
            [
                {"step": s.name, "outcome": s.outcome, "seconds": round(s.seconds, 1), "detail": s.detail}
                for s in self.steps
            ]
        ).set_index("step")

    def summary(self) -> str:
        """One line without numbers that change between machines: what a log or a checked output shows."""
        versions = _version_name(self.version_before)
        if self.promoted:
            versions += f" -> version {self.version_after}"
        line = f"run {self.run} ({self.batch}): {self.decision or 'running'}; served: {versions}"
        return line + ("; the rollback failed: " + self.rollback_error if self.rollback_error else "")

    def __str__(self) -> str:
        width = max(len(name) for name in STEPS)
        lines = [self.summary(), f"  {'step':<{width}}  {'outcome':<11}  {'time':>6}  detail"]
        for step in self.steps:
            lines.append(f"  {step.name:<{width}}  {step.outcome:<11}  {step.seconds:5.1f}s  {step.detail}")
        return "\n".join(lines)

    __repr__ = __str__


def _version_name(version: int | None) -> str:
    return "nothing" if version is None else f"version {version}"


def _step(name: str) -> Callable[[Callable[..., str]], Callable[..., Step]]:
    """Run one step: time it, record its outcome; a planned stop or an error ends the run and restores main."""

    def wrap(method: Callable[..., str]) -> Callable[..., Step]:
        @functools.wraps(method)
        def run(self: "CycleRun", *args: Any, **kwargs: Any) -> Step:
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
                    outcome, detail = FAILED, describe_error(error)
                    self.report.decision, self.report.reason = FAILED, f"{name}: {describe_error(error)}"
                    self._undo(name)  # a rollback that fails too is said in report.reason and report.rollback_error
                step = Step(name, outcome, detail or "", time.perf_counter() - started)
            self.report.steps.append(step)
            return step

        return run

    return wrap


class CycleRun:
    """One run of the cycle. run.execute() does every step; the lesson calls them one by one:

        run = CycleRun(cycle, batch="white_1.csv", client=client)
        run.validate(); run.add_data(); run.retrain(); run.evaluate(); run.apply_gate(); run.export_version(); ...

    Each step returns its Step (name, outcome, detail, seconds) and records it in run.report. After a
    stop (bad batch, nothing new, refused) or a failure, the remaining steps are skipped, and the project
    is back on main as it was. With show, the git and dvc commands are printed as they run.
    """

    def __init__(
        self,
        cycle: Cycle,
        batch: Path | str | None = None,
        client: "ServingClient | None" = None,
        params: dict | None = None,
        gate: Callable[[dict, dict, float], tuple] | None = None,
        show: bool = False,
    ):
        self.cycle, self.client, self.show = cycle, client, show
        self.batch_path = Path(batch) if batch is not None else None
        self.overrides = dict(params or {})
        self.gate = gate or steps.quality_gate
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
            for method in (
                self.validate,
                self.add_data,
                self.retrain,
                self.evaluate,
                self.apply_gate,
                self.export_version,
                self.server_pick_up,
                self.run_smoke_test,
                self.update_baseline,
                self.record,
            ):
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
        self.report.version_before = steps.production_version(self.cycle.served)
        if self.cycle.exists():
            self.report.run = self.cycle.claim_run_number(self.report.batch)
        if self.batch_path is not None:  # the batch first, before anything else is looked at
            try:
                self.batch = data.load_wine(self.batch_path)
            except data.DataValidationError as error:
                raise _Stop(STOPPED, STOPPED, f"{error}; nothing was changed") from None
        if not self.cycle.exists():
            raise CycleError(
                f"{self.cycle.folder} holds no cycle project: create one with workshop_lib.cycle.create(folder)"
            )
        current = data.load_wine(self.project.path / DATA_FILE)
        if self.batch is None:
            return f"no new batch: the project's {DATA_FILE} ({len(current)} wines) passes the schema"
        known = set(current.itertuples(index=False, name=None))
        self._is_new = [row not in known for row in self.batch.itertuples(index=False, name=None)]
        self.new_wines = sum(self._is_new)
        if self.new_wines == 0:
            raise _Stop(
                NOTHING_NEW,
                NOTHING_NEW,
                f"all {len(self.batch)} wines of {self.batch_path.name} are in the data already: nothing to do",
            )
        return f"{len(self.batch)} wines pass the schema; {self.new_wines} are new"

    @_step("add data")
    def add_data(self) -> str:
        project, show = self.project, self.show
        branch_now = project.git("branch", "--show-current", show=False).output
        if branch_now != "main" or project.git("status", "--porcelain", show=False).output:
            raise CycleError(
                f"the project must be on main with no uncommitted changes (it is on {branch_now!r}): "
                "commit or discard the changes first"
            )
        if self.overrides:  # checked before anything changes
            check_overrides(self.overrides, "cycle")
            validate_cycle_params(apply_overrides(project.params(), self.overrides), "params.yaml")
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
        return (
            f"branch {self.report.branch}; {DATA_FILE}: {rows_before} -> {rows_before + self.new_wines} rows, "
            f"md5 {before[:7]} -> {project.data_hash()[:7]}"
        )

    @_step("retrain")
    def retrain(self) -> str:
        project = self.project
        validate_cycle_params(project.params(), "params.yaml")
        project.dvc("repro", show=self.show)
        self.train = data.load_wine(project.path / PREPARED / "train.csv")
        self.test = data.load_wine(project.path / PREPARED / "test.csv")
        settings = project.params()["train"]
        model = steps.train_candidate(self.train, settings)
        shutil.rmtree(self.candidate_dir, ignore_errors=True)
        from workshop_lib import export

        export.write_savedmodel(model, self.candidate_dir)
        project.dvc("add", "--quiet", CANDIDATE, show=self.show)
        return f"{len(self.train)} training wines, {settings['epochs']} epochs; SavedModel in {CANDIDATE} (dvc add)"

    @_step("evaluate")
    def evaluate(self) -> str:
        self.candidate_predictions = steps.predict_saved_model(self.candidate_dir, self.test)
        regions = steps.regions_of(self.test)
        self.report.candidate = steps.metrics_of(self.test[data.TARGET], self.candidate_predictions, regions)
        current = self.report.version_before
        if current is None:
            self.report.production = steps.baseline_metrics(self.train, self.test)
            against = "the mean baseline (no version in production yet)"
        else:
            served = steps.predict_saved_model(self.cycle.served / str(current), self.test)
            self.report.production = steps.metrics_of(self.test[data.TARGET], served, regions)
            against = f"version {current}"
        self._write_series(None if current is None else served)
        return (
            f"{len(self.test)} held-out wines: candidate MAE {self.report.candidate[METRIC]:.3f}, "
            f"{against} MAE {self.report.production[METRIC]:.3f}"
        )

    def _write_series(self, served_predictions: "np.ndarray | None") -> None:
        """The batch's drift against production's baseline and the candidate's predictions (against
        production's on the same wines) as Prometheus series, in monitoring/series.prom. The cycle is a batch
        job that ends before any scrape: node_exporter's textfile collector, or any web server, publishes the
        file, and the alert rules of monitoring/alerts.yml (InputDrift, PredictionDistributionShifted) apply."""
        from workshop_lib.monitoring import drift
        from workshop_lib.monitoring.series import MonitoringSeries

        series = MonitoringSeries()
        if self.batch is not None and self.cycle.baseline_file.is_file():
            series.record_drift(drift.drift_report(drift.load_baseline(self.cycle.baseline_file), self.batch))
        series.record_predictions(self.candidate_predictions, served_predictions)
        series.write_textfile(self.cycle.series_file)

    @_step("quality gate")
    def apply_gate(self) -> str:
        project = self.project
        settings = project.params()["gate"]
        margin = float(settings["margin"])
        own_gate = self.gate is not steps.quality_gate  # exercise 07.1's takes (candidate, production, margin)
        tolerance = None if own_gate else settings.get("region_tolerance")  # None too in a project made before it
        compared = (self.report.candidate, self.report.production, margin)
        promote, reason = self.gate(*compared) if own_gate else self.gate(*compared, tolerance)
        promote = bool(promote)
        record = {
            "run": self.report.run,
            "batch": self.report.batch,
            "branch": self.report.branch,
            "decision": "promote" if promote else "refuse",
            "reason": reason,
            "margin": margin,
            "region_tolerance": tolerance,
            "production_version": self.report.version_before,
            "candidate": self.report.candidate,
            "production": self.report.production,
        }
        (project.path / METRICS_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        project.commit(
            f"Cycle run {self.report.run} ({self.report.batch}): {'promote' if promote else 'refuse'}: {reason}",
            show=self.show,
        )
        if not promote:
            project.dvc("push", "--quiet", show=self.show)  # the refused candidate, kept for the post-mortem
            self._back_to_main()
            raise _Stop(
                REFUSED,
                REFUSED,
                f"{reason}; {_version_name(self.report.version_before)} stays, "
                f"the candidate stays on branch {self.report.branch}",
            )
        return f"promote: {reason}"

    @_step("export")
    def export_version(self) -> str:
        # One more than any folder and any release: a withdrawn version's number is not given to another model.
        self.version = max([steps.next_version(self.cycle.served), *(v + 1 for v in self.cycle.released_versions())])
        self._published = steps.publish(self.candidate_dir, self.cycle.served, self.version)
        return (
            f"version {self.version}: {self.cycle.served.name}/{self.version}/ "
            "(copied to a hidden folder, then renamed)"
        )

    @_step("server pick-up")
    def server_pick_up(self) -> str:
        if self.client is None:
            self._server = steps.start_server(self.cycle)
            self.client = self._server.client()
        seconds = steps.wait_for_version(self.client, self.version)
        return f"version {self.version} AVAILABLE after {seconds:.1f} s"

    @_step("smoke test")
    def run_smoke_test(self) -> str:
        from workshop_lib import export

        wines = self.test.head(SMOKE_WINES)
        problems = steps.smoke_test(self.client, self.version, wines, self.candidate_predictions[: len(wines)])
        if problems:
            raise CycleError("; ".join(problems))
        return f"{len(wines)} REST predictions equal the in-process ones within {export.PARITY_TOLERANCE:g}"

    @_step("baseline")
    def update_baseline(self) -> str:
        info = {"model_version": self.version, "data_md5": self.project.data_hash(), "run": self.report.run}
        steps.save_baseline(self.train, self.cycle.monitoring / f"baseline_v{self.version}.json", **info)
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
        project.dvc(
            "checkout", "--quiet", "--force", show=self.show, check=False
        )  # fails only before the first version

    def _undo(self, failed_step: str) -> None:
        """After a failure: the new version withdrawn from the server, the project back on main.

        Each part is tried even if an earlier one failed. A part that fails is not hidden: the report's
        reason says the rollback failed and why (report.rollback_error), because then the served versions
        or the project are not as they were, and someone has to look.
        """
        problems = []
        if self._published is not None and failed_step != "record":
            try:
                steps.withdraw(self.cycle.served, self.version)
                self._published = None
            except Exception as error:  # noqa: BLE001 - said in the report below
                problems.append(f"version {self.version} is still in {self.cycle.served} ({describe_error(error)})")
        if self.report.branch and failed_step != "record":
            try:
                self.project.git("reset", "--quiet", "--hard", show=False)
                self._back_to_main()
                ahead = self.project.git("rev-list", "--count", f"main..{self.report.branch}", show=False).output
                if ahead == "0":  # nothing was committed on it: no trace worth keeping
                    self.project.git("branch", "--quiet", "-D", self.report.branch, show=False)
            except Exception as error:  # noqa: BLE001 - said in the report below
                problems.append(f"the project may still be on branch {self.report.branch} ({describe_error(error)})")
        if problems:
            self.report.rollback_error = "; ".join(problems)
            self.report.reason += f"; the rollback failed: {self.report.rollback_error}"


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


def withdraw_release(
    cycle: Cycle | Path, reason: str, client: "ServingClient | None" = None, show: bool = False
) -> str:
    """Take the version in production off the server after it failed in production; the previous one serves.

    Its folder goes (one rename, so requests keep being answered: the server loads the previous version
    before it lets go of this one), module 06's drift reference goes back to the previous version's, and
    the release tag v<N> gets a companion tag v<N>-withdrawn with `reason`. Nothing is deleted from the
    record: the model stays in git and the DVC remote for the post-mortem, and its number is never reused.
    """
    if not isinstance(cycle, Cycle):
        cycle = Cycle(cycle)
    if not reason or not reason.strip():
        raise ValueError("say why the version is withdrawn: the reason goes into the record")
    current = steps.production_version(cycle.served)
    if current is None:
        raise CycleError(f"no version is served from {cycle.served}: nothing to withdraw")
    previous = max((v for v in versions.list_versions(cycle.served) if v != current), default=None)
    if previous is None:
        raise CycleError(
            f"version {current} is the only version in {cycle.served}: withdrawing it would leave the server "
            "with no model; release a replacement first"
        )
    steps.withdraw(cycle.served, current)
    waited = f" after {steps.wait_until_serving(client, previous):.1f} s" if client is not None else ""
    reference = cycle.monitoring / f"baseline_v{previous}.json"
    if reference.is_file():
        shutil.copyfile(reference, cycle.baseline_file)
    record = ""
    if current in cycle.released_versions():
        cycle.project.git("tag", "-a", f"v{current}-withdrawn", "-m", reason.strip(), f"v{current}", show=show)
        record = f"; tag v{current}-withdrawn"
    return (
        f"version {current} withdrawn ({reason.strip()}): version {previous} serves again{waited}; "
        f"drift reference back to version {previous}{record}"
    )


def run_cycle(
    cycle: Cycle | Path,
    batch: Path | str | None = None,
    client: "ServingClient | None" = None,
    server_url: str | None = None,
    params: dict | None = None,
    gate: Callable[[dict, dict, float], tuple] | None = None,
    show: bool = False,
) -> CycleReport:
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
