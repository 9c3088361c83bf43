"""The set-up of the continuous-improvement cycle: its names, its folders, and how one is created.

Everything else in workshop_lib.cycle works on a Cycle (the folders of one set-up) made here.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workshop_lib import config, dvc_project, params

LESSON = "07_continuous_improvement"
MODEL_NAME = "wine"  # export.MODEL_NAME
DATA_FILE = dvc_project.DATA_FILE
PREPARED = "data/prepared"
CANDIDATE = "models/savedmodel"
METRICS_FILE = "metrics.json"
SERIES_FILE = "series.prom"  # in folder/monitoring: the latest run's drift and predictions as Prometheus series
METRIC = "mae"  # the gate's metric: mean absolute error in quality points, lower is better
MARGIN = 0.01  # promote only if the candidate's MAE is lower by at least this much
REGION_TOLERANCE = 0.03  # ... and no region's MAE is higher by more than this (about one standard error on 279 reds)
REGIONS = ("red", "white")  # the slices the gate checks one by one: the course's two data files
EPOCHS = 20  # module 04 trains 40; half is enough for the cycle's comparisons and twice as fast
SMOKE_WINES = 50  # held-out wines sent through the server in the smoke test
PICK_UP_TIMEOUT = 60.0  # seconds the server may take to load a new version

PIPELINE = """\
# The cycle's pipeline: `dvc repro` splits the data again whenever data/wine.csv changes.
# The Keras model is trained by the cycle right after it (see workshop_lib/cycle/__init__.py) \
and versioned with `dvc add`.
# Paths are relative to this folder; workshop_lib/ is the project's copy of the code the stage runs.
stages:
  split:
    cmd: python -m workshop_lib.cycle split --params params.yaml --data {data} --out {prepared}
    deps:
      - {data}
      - workshop_lib/cycle/steps.py
      - workshop_lib/data.py
    params:
      - split
    outs:
      - {prepared}
"""


class CycleError(RuntimeError):
    """The cycle cannot run here (no project, a project with uncommitted changes, ...)."""


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder).resolve())
        served = Path(self.served).resolve() if self.served else self.folder / "served" / MODEL_NAME
        object.__setattr__(self, "served", served)

    @property
    def project(self) -> dvc_project.Project:
        """The team's repository (git + DVC) of this set-up."""
        return dvc_project.Project(self.folder)

    @property
    def monitoring(self) -> Path:
        """Where the drift reference of the version in production lives (module 06)."""
        return self.folder / "monitoring"

    @property
    def baseline_file(self) -> Path:
        """The drift reference of the version in production."""
        return self.monitoring / "baseline.json"

    @property
    def series_file(self) -> Path:
        """The latest run's batch drift and predictions in Prometheus's text format (monitoring.series)."""
        return self.monitoring / SERIES_FILE

    @property
    def runs_log(self) -> Path:
        """One line per run, also for a run that stopped or found nothing new: where run numbers come from."""
        return self.folder / "runs.log"

    def claim_run_number(self, batch: str) -> int:
        """The next run number, logged at once: no two runs share a number, whatever they decide.

        A run that changes nothing leaves no branch, so counting the cycle/* branches would give its
        number again to the next run. Branches still count, for a set-up made before this log.
        """
        logged = self.runs_log.read_text(encoding="utf-8").splitlines() if self.runs_log.exists() else []
        branches = self.project.git("branch", "--list", "cycle/*", "--format=%(refname:short)", show=False).output
        number = max(len(logged), len(branches.split())) + 1
        with self.runs_log.open("a", encoding="utf-8") as log:
            log.write(f"run {number}\t{batch}\t{datetime.now(UTC).isoformat(timespec='seconds')}\n")
        return number

    def released_versions(self) -> list[int]:
        """The versions ever released (tags v<N> on main), withdrawn ones included: numbers never reused."""
        tags = self.project.git("tag", "--list", "v*", show=False).output.split()
        return sorted(int(tag[1:]) for tag in tags if tag[1:].isdigit())

    def exists(self) -> bool:
        """True once create() has made the project here: a run needs it."""
        return (self.project.path / "dvc.yaml").is_file() and (self.project.path / ".git").is_dir()


def default_folder() -> Path:
    """The lesson's cycle folder, which the command line uses when no --folder is given."""
    return config.workspace_dir(LESSON) / "lesson"


def create(
    folder: Path,
    epochs: int = EPOCHS,
    margin: float = MARGIN,
    served: Path | None = None,
    show: bool = False,
    region_tolerance: float = REGION_TOLERANCE,
) -> Cycle:
    """(Re)create a cycle set-up in `folder`: the project with the red wines (the proof of concept's data),
    the cycle's pipeline and params, and an empty served base path. Nothing is trained yet."""
    project = dvc_project.create_project(folder, stages=("prepare",), data_version="red", show=show)
    project.dvc("config", "core.autostage", "true", show=show)  # DVC stages what it changes; every run commits it all
    dvc_project.write_yaml(project.path / "params.yaml", default_params(epochs, margin, region_tolerance))
    (project.path / "dvc.yaml").write_text(pipeline_yaml(), encoding="utf-8")
    # The pipeline's outputs stay out of git from the start, so a run that ends on main leaves a clean tree.
    (project.path / ".gitignore").write_text(f"{dvc_project.GITIGNORE}/{PREPARED}\n/{CANDIDATE}\n", encoding="utf-8")
    project.commit(
        "The continuous-improvement cycle: stable split stage, Keras training params, quality gate", show=show
    )
    cycle = Cycle(folder, served)
    cycle.served.mkdir(parents=True, exist_ok=True)
    cycle.monitoring.mkdir(parents=True, exist_ok=True)
    return cycle


def default_params(epochs: int = EPOCHS, margin: float = MARGIN, region_tolerance: float = REGION_TOLERANCE) -> dict:
    """The project's params.yaml: the split, module 04's Keras settings with `epochs`, the gate's margin and
    region tolerance.

    Checked against params.RULES at once, so a bad epochs or margin fails here, not in the first run.
    """
    from workshop_lib import export

    settings = {
        "split": {"test_share": 0.2},
        "train": {
            "epochs": int(epochs),
            "batch_size": export.BATCH_SIZE,
            "learning_rate": export.LEARNING_RATE,
            "hidden_units": export.HIDDEN_UNITS,
            "seed": export.SEED,
        },
        "gate": {"margin": float(margin), "region_tolerance": float(region_tolerance)},
    }
    return params.validate_cycle_params(settings, "default_params")


def pipeline_yaml() -> str:
    """The project's dvc.yaml: the stable split as a stage, tracking the code it runs."""
    return PIPELINE.format(data=DATA_FILE, prepared=PREPARED)


def describe_error(error: BaseException) -> str:
    """The "<Type>: <first line>" of an error: what a step's record and the command line's one error line show."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")
