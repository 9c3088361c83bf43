"""A real DVC project for module 03: its own git repository, a local DVC remote, a three-stage pipeline.

The project lives in a lesson's workspace folder (config.workspace_dir), never in the course
repository: it gets its own `git init`, so nothing a lesson does touches the course's git history.
Every command runs as a real `git` or `dvc` process in the project folder, printed the way a
participant would type it in a terminal.

    folder/
      project/   the team's ML repository: git + DVC, params.yaml, dvc.yaml, data/wine.csv.dvc
      project/workshop_lib/  the pipeline's code, a copy of the course's package: the stages run it
      remote/    the DVC remote (a plain folder standing in for S3, GCS, a NAS ...)
      dvc-site-cache/  DVC's own bookkeeping, kept here instead of /var/tmp
"""

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from workshop_lib import config, data

MARKER = ".workshop-project"  # only a folder holding this file is ever deleted by create_project
DATA_FILE = "data/wine.csv"
# Data versions of the story: the red wines of the proof of concept, then the white wines arrive.
DATA_VERSIONS = {"red": ("red",), "red+white": ("red", "white")}
STAGES = ("prepare", "train", "evaluate")
GITIGNORE = "__pycache__/\n"  # Python's bytecode of the stages' code stays out of git
COMMAND_TIMEOUT = 600.0  # seconds a git or dvc command may take: `dvc repro` trains a model in some lessons

PARAMS = {
    "data": {"source": DATA_FILE, "test_size": 0.2, "validation_size": 0.2, "seed": 42},
    # the keys of both models of module 01, so an experiment can switch with -S train.model=random_forest
    "train": {"model": "elasticnet", "alpha": 1.0, "l1_ratio": 0.5, "n_estimators": 200, "max_depth": None},
}

# The pipeline as a participant would write it. Paths appear once, here; the commands take them
# as arguments. evaluate scores the validation wines: experiments are compared there, and the test
# wines are scored once, for the chosen model (module 03 adds that stage with `dvc stage add`).
# Every path is inside the project, so it runs wherever the folder is moved or cloned: the stages
# run the project's own copy of workshop_lib (`python -m` in the project folder finds it first), and
# editing that code reruns the stage.
STAGE_YAML = {
    "prepare": """\
  prepare:
    cmd: python -m workshop_lib prepare --params params.yaml --out data/prepared
    deps:
      - ${data.source}
      - workshop_lib/data.py
    params:
      - data
    outs:
      - data/prepared
""",
    "train": """\
  train:
    cmd: python -m workshop_lib fit --params params.yaml --data data/prepared/train.csv --model models/model.joblib
    deps:
      - data/prepared/train.csv
      - workshop_lib/train.py
    params:
      - data.seed
      - train
    outs:
      - models/model.joblib
""",
    "evaluate": """\
  evaluate:
    cmd: >-
      python -m workshop_lib evaluate --model models/model.joblib --data data/prepared/validation.csv
      --metrics metrics.json --predictions eval/predictions.csv --plot eval/predicted_vs_actual.png
    deps:
      - models/model.joblib
      - data/prepared/validation.csv
      - workshop_lib/evaluate.py
    metrics:
      - metrics.json:
          cache: false
    plots:
      - eval/predictions.csv:
          cache: false
          template: scatter
          x: actual
          y: predicted
      - eval/predicted_vs_actual.png:
          cache: false
""",
}


class CommandFailed(RuntimeError):
    """A git or dvc command exited with an error; the message holds the command and its last output lines."""


class CommandTimeout(CommandFailed):
    """A git or dvc command ran longer than its timeout and was stopped; the message names the command."""


@dataclass(frozen=True)
class Result:
    command: str
    returncode: int
    output: str


@dataclass(frozen=True)
class Project:
    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / "project"

    @property
    def remote(self) -> Path:
        return self.folder / "remote"

    def environment(self) -> dict:
        """`python` in a stage means the kernel's own Python; DVC sends no usage data and keeps its cache here."""
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["DVC_NO_ANALYTICS"] = "1"
        env["DVC_SITE_CACHE_DIR"] = str(self.folder / "dvc-site-cache")
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.pop("PYTHONSAFEPATH", None)  # `python -m workshop_lib` must find the project's own copy first
        for forced in ("FORCE_COLOR", "CLICOLOR_FORCE"):  # Jupyter kernels set these: DVC would draw spinners
            env.pop(forced, None)
        return env

    def run(self, *command: str, check: bool = True, show: bool = True, timeout: float | None = None) -> Result:
        """Run a command in the project folder; print it as `$ command` with its output.

        Every command has a timeout (COMMAND_TIMEOUT unless given): a git or dvc that waits for a lock or a
        network remote would otherwise hang the lesson's cell, or the cycle, without saying which command.
        """
        timeout = COMMAND_TIMEOUT if timeout is None else timeout
        line = shlex.join(command)
        if command[0] == "dvc":  # the dvc of this Python, whatever the PATH says
            command = (sys.executable, "-m", "dvc", *command[1:])
        try:
            completed = subprocess.run(
                command,
                cwd=self.path,
                env=self.environment(),
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as expired:
            tail = "\n".join((expired.output or "").splitlines()[-5:]) if isinstance(expired.output, str) else ""
            raise CommandTimeout(
                f"`{line}` did not finish within {timeout:g} s and was stopped" + (f":\n{tail}" if tail else "")
            ) from None
        output = completed.stdout.strip("\n")
        if show:
            # Paths inside the course folder are shown relative to it: the output names no folder of this machine.
            shown = f"$ {line}" + (f"\n{output}" if output else "")
            print(shown.replace(f"{config.REPO_ROOT}/", ""))
        if check and completed.returncode != 0:
            tail = "\n".join(output.splitlines()[-5:])
            raise CommandFailed(f"`{line}` failed with exit code {completed.returncode}:\n{tail}")
        return Result(line, completed.returncode, output)

    def dvc(self, *args: str, **options: Any) -> Result:
        """`dvc ARGS` in the project, with the dvc of this Python."""
        return self.run("dvc", *args, **options)

    def git(self, *args: str, **options: Any) -> Result:
        """`git ARGS` in the project."""
        return self.run("git", *args, **options)

    def commit(self, message: str, show: bool = True) -> Result:
        """Stage everything (DVC's .gitignore files keep the data out of git) and commit; a clean tree is no error."""
        self.git("add", "--all", show=show)
        if not self.git("status", "--porcelain", show=False).output:
            if show:
                print("nothing to commit: the working tree is clean")
            return Result("git commit", 0, "nothing to commit")
        return self.git("commit", "--quiet", "-m", message, show=show)

    def params(self) -> dict:
        """params.yaml as it is now (not validated: each reader checks the keys it needs, see workshop_lib.params)."""
        return yaml.safe_load((self.path / "params.yaml").read_text(encoding="utf-8"))

    def set_params(self, **changes: Any) -> None:
        """set_params(**{"train.alpha": 0.5}): change keys of params.yaml, like `dvc exp run -S`."""
        params = self.params()
        for dotted, value in changes.items():
            section, key = dotted.split(".")
            params.setdefault(section, {})[key] = value
        write_yaml(self.path / "params.yaml", params)

    def metrics(self) -> dict:
        """metrics.json of the last evaluate stage."""
        return json.loads((self.path / "metrics.json").read_text(encoding="utf-8"))

    def data_hash(self, dvc_file: str = DATA_FILE + ".dvc") -> str:
        """The md5 that a .dvc file records for its data: the data version git keeps."""
        return yaml.safe_load((self.path / dvc_file).read_text(encoding="utf-8"))["outs"][0]["md5"]

    def clone(self, folder: Path, show: bool = True) -> "Project":
        """A colleague's copy in `folder`: `git clone` brings code and metadata, `dvc pull` the data and models."""
        other = Project(_fresh_folder(folder))
        self.git("clone", "--quiet", str(self.path), str(other.path), show=show)
        other.configure_git()
        other.dvc("pull", "--quiet", show=show)
        return other

    def configure_git(self) -> None:
        """A local identity, so commits work on a machine where git has none configured."""
        for key, value in (
            ("user.name", "Workshop participant"),
            ("user.email", "participant@workshop.invalid"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ):
            self.git("config", key, value, show=False)

    def experiments(self) -> pd.DataFrame:
        """`dvc exp show` as a table: one row per commit and experiment, with params, metrics and data hashes.

        DVC writes "!" for a value a row lacks (a commit whose pipeline never ran) and "-" for one
        that does not apply: both become missing values, so metric columns stay numeric.
        """
        output = self.dvc("exp", "show", "--csv", show=False).output
        return pd.read_csv(io.StringIO(output), na_values=["!", "-"])


def write_yaml(path: Path, content: dict) -> None:
    """YAML in the order given (not sorted), so params.yaml reads as a participant wrote it."""
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")


def write_wine_data(path: Path, version: str) -> Path:
    """Write one data version: the course's red CSV byte for byte, or red followed by the white wines."""
    if version not in DATA_VERSIONS:
        raise ValueError(f"unknown data version {version!r}: use one of {', '.join(DATA_VERSIONS)}")
    parts = [(config.WINE_DATA_DIR / data.WINE_FILES[colour]).read_bytes() for colour in DATA_VERSIONS[version]]
    body = parts[0] + b"".join(part.split(b"\n", 1)[1] for part in parts[1:])  # one header line
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def pipeline_yaml(stages: tuple[str, ...] = STAGES) -> str:
    """dvc.yaml with the given stages of STAGE_YAML, in order."""
    unknown = [s for s in stages if s not in STAGE_YAML]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}: the pipeline has {', '.join(STAGE_YAML)}")
    return (
        "# The pipeline: `dvc repro` runs the stages whose dependencies or params changed.\n"
        "# Paths are relative to this folder: the project runs wherever it is moved or cloned.\n"
        "stages:\n" + "".join(STAGE_YAML[s] for s in stages)
    )


def copy_code(project_path: Path) -> Path:
    """The course's workshop_lib, copied into the project as the code its stages run.

    A team's ML repository holds its pipeline's code; a pipeline that names a folder outside the
    repository breaks when the project is moved or cloned to another machine.
    """
    source = Path(__file__).resolve().parent
    target = project_path / "workshop_lib"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def _fresh_folder(folder: Path) -> Path:
    """An empty `folder` with the marker file. A folder left by an earlier run (it has the marker) is
    deleted; any other non-empty folder is refused, so a wrong path never costs anyone their files."""
    folder = Path(folder).resolve()
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise FileExistsError(
            f"{folder} exists and was not made by workshop_lib.dvc_project: choose an empty "
            "or new folder (nothing was deleted)"
        )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by workshop_lib.dvc_project; deleted when the lesson runs again\n")
    return folder


def create_project(
    folder: Path, stages: tuple[str, ...] = STAGES, data_version: str = "red", show: bool = True
) -> Project:
    """(Re)create the project in `folder`: git + DVC, the data tracked by DVC and pushed, one commit."""
    project = Project(_fresh_folder(folder))
    project.path.mkdir()
    project.remote.mkdir()
    project.git("init", "--quiet", "--initial-branch=main", show=show)
    project.configure_git()
    project.dvc("init", "--quiet", show=show)
    project.dvc("config", "core.analytics", "false", show=False)
    project.dvc("remote", "add", "--default", "storage", str(project.remote), show=show)
    write_wine_data(project.path / DATA_FILE, data_version)
    project.dvc("add", DATA_FILE, show=show)
    write_yaml(project.path / "params.yaml", PARAMS)
    copy_code(project.path)
    (project.path / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (project.path / "dvc.yaml").write_text(pipeline_yaml(stages), encoding="utf-8")
    project.commit(f"Track the {data_version} wines with DVC; pipeline {' -> '.join(stages)}", show=show)
    project.dvc("push", "--quiet", show=show)
    return project
