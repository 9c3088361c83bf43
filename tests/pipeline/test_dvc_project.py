"""Module 03's promise, tested with the real DVC and a real git repository.

The pipeline reproduces its metrics; a clone plus `dvc pull` gives the same data and model; a
second `dvc repro` runs nothing; bad params stop a stage with one line and DVC records no output;
an older release comes back with `git checkout` + `dvc checkout`; the course's own git is untouched.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from workshop_lib import data, dvc_project, train
from workshop_lib.config import REPO_ROOT

# Metrics of two runs of the same pipeline on the same data must agree to this (they are in fact
# bit-identical on one machine; the tolerance leaves room for another BLAS on another machine).
TOLERANCE = 1e-9
RED_SHA256 = data.expected_files()["winequality-red.csv"].sha256


def _git(repo, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def _state(repo) -> dict:
    """Everything of a repository a stray `git add`, commit, tag or config would change."""
    return {
        "head": _git(repo, "rev-parse", "HEAD"),
        "refs": _git(repo, "show-ref"),
        "status": _git(repo, "status", "--porcelain", "--untracked-files=all"),
        "index": _git(repo, "ls-files", "--stage"),
        "config": (Path(repo) / ".git" / "config").read_text(),
    }


@pytest.fixture(scope="module")
def course_stand_in(tmp_path_factory):
    """A throwaway git repository standing in for the course: its .gitignore, one commit, and the
    project where a lesson puts it (config.workspace_dir: workspace/03_reproducible_training_dvc/)."""
    course = tmp_path_factory.mktemp("course")
    _git(course, "init", "--quiet", "--initial-branch=main")
    for key, value in (("user.name", "Course"), ("user.email", "course@workshop.invalid"), ("commit.gpgsign", "false")):
        _git(course, "config", key, value)
    shutil.copy(REPO_ROOT / ".gitignore", course / ".gitignore")
    (course / "README.md").write_text("stands in for the course repository\n")
    _git(course, "add", "--all")
    _git(course, "commit", "--quiet", "-m", "the course")
    return course, _state(course)


@pytest.fixture(scope="module")
def project(course_stand_in):
    """A project with the full pipeline reproduced, committed, tagged v1.0 and pushed, inside the stand-in."""
    course, _ = course_stand_in
    project = dvc_project.create_project(course / "workspace" / "03_reproducible_training_dvc", show=False)
    project.dvc("repro", show=False)
    project.commit("Pipeline on the red wines", show=False)
    project.git("tag", "v1.0", show=False)
    project.dvc("push", "--quiet", show=False)
    return project


def lock(project) -> dict:
    path = project.path / "dvc.lock"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def test_the_project_has_its_own_git_and_leaves_the_course_repository_alone(project, course_stand_in):
    """The project sits inside a course checkout (as workspace/ does), yet every git command of the lesson
    went to the project's own repository: the stand-in's commits, refs, index, config and status are as
    before, and the course's .gitignore keeps the whole workspace out of it."""
    course, before = course_stand_in
    top = project.git("rev-parse", "--show-toplevel", show=False).output
    assert top == str(project.path) and project.path.is_relative_to(course)
    assert _state(course) == before
    assert _git(course, "status", "--porcelain", "--ignored").splitlines() == ["!! workspace/"]
    assert project.git("status", "--porcelain", show=False).output == ""
    assert project.git("log", "--format=%s", show=False).output.splitlines()[-1].startswith("Track the red wines")


def test_the_data_is_the_course_file_byte_for_byte_and_tracked_by_dvc(project):
    assert data.sha256_of(project.path / dvc_project.DATA_FILE) == RED_SHA256
    assert "wine.csv" in (project.path / "data" / ".gitignore").read_text()  # contents in DVC, not in git
    tracked = project.git("ls-files", show=False).output.splitlines()
    assert "data/wine.csv.dvc" in tracked and "data/wine.csv" not in tracked


def test_the_pipeline_metrics_equal_the_one_shot_training(project):
    """The staged pipeline computes exactly what module 02's single `train` call computes."""
    settings = {**project.params(), "data": {**project.params()["data"], "source": "red"}}
    _, expected, _ = train.train_and_evaluate(settings)
    metrics = project.metrics()
    for name in ("mae", "rmse", "r2", "mse", "good_found_per_100", "false_alarms_per_100"):
        assert metrics[name] == pytest.approx(expected[name], abs=TOLERANCE), name
    assert metrics["n_wines"] == expected["n_validation"]  # the stage scores the validation wines


def test_a_second_repro_with_nothing_changed_runs_nothing(project):
    result = project.dvc("repro", show=False)
    assert "Data and pipelines are up to date." in result.output
    assert "Running stage" not in result.output


def test_a_forced_rerun_reproduces_the_same_metrics(project):
    before = project.metrics()
    result = project.dvc("repro", "--force", show=False)
    assert result.output.count("Running stage") == 3
    after = project.metrics()
    assert after.keys() == before.keys()
    for name, value in before.items():
        assert after[name] == pytest.approx(value, abs=TOLERANCE), name
    assert project.git("status", "--porcelain", show=False).output == ""  # same outputs, same hashes in dvc.lock


def test_a_clone_plus_dvc_pull_gives_identical_data_and_model(project, tmp_path):
    clone = project.clone(tmp_path / "colleague", show=False)
    for path in (
        dvc_project.DATA_FILE,
        "models/model.joblib",
        "data/prepared/train.csv",
        "data/prepared/validation.csv",
        "data/prepared/test.csv",
    ):
        assert (clone.path / path).read_bytes() == (project.path / path).read_bytes(), path
    assert clone.data_hash() == project.data_hash()
    assert "Data and pipelines are up to date." in clone.dvc("status", show=False).output


def test_a_moved_project_runs_its_own_code_and_has_nothing_to_redo(project, tmp_path):
    """Moved to another folder at another depth (as to another machine), the project is up to date: every
    path dvc.yaml and dvc.lock name is inside it, and its stages run the project's own copy of the code."""
    moved = dvc_project.Project(tmp_path / "another" / "machine")
    shutil.copytree(project.path, moved.path, symlinks=True)
    for name in ("dvc.yaml", "dvc.lock"):
        text = (moved.path / name).read_text(encoding="utf-8")
        assert str(REPO_ROOT) not in text and str(project.folder) not in text, name
    recorded = [dep["path"] for stage in lock(moved)["stages"].values() for dep in stage["deps"]]
    assert "workshop_lib/train.py" in recorded
    assert not [path for path in recorded if Path(path).is_absolute() or path.startswith("..")]
    assert "Data and pipelines are up to date." in moved.dvc("status", show=False).output
    own_code = moved.path / "workshop_lib" / "train.py"
    own_code.write_text(own_code.read_text(encoding="utf-8") + '\nraise SystemExit("the project\'s train.py ran")\n')
    assert "modified:           workshop_lib/train.py" in moved.dvc("status", show=False).output
    rerun = moved.dvc("repro", show=False, check=False)
    assert rerun.returncode != 0 and "the project's train.py ran" in rerun.output


def test_deleted_data_and_cache_come_back_from_the_remote(tmp_path):
    project = dvc_project.create_project(tmp_path / "wine", stages=("prepare",), show=False)
    (project.path / dvc_project.DATA_FILE).unlink()
    shutil.rmtree(project.path / ".dvc" / "cache")
    project.dvc("pull", "data/wine.csv.dvc", show=False)  # the pipeline never ran: only the data is in the remote
    assert data.sha256_of(project.path / dvc_project.DATA_FILE) == RED_SHA256


@pytest.mark.parametrize(
    "section, key, value, failing_stage",
    [
        ("data", "test_size", "20%", "prepare"),
        ("train", "l1_ratio", None, "train"),  # None: the key is missing
    ],
    ids=["wrong_type", "missing_key"],
)
def test_bad_params_stop_the_stage_with_one_line_and_dvc_records_no_output(
    tmp_path, section, key, value, failing_stage
):
    project = dvc_project.create_project(tmp_path / "wine", show=False)
    params = project.params()
    if value is None:
        del params[section][key]
    else:
        params[section][key] = value
    dvc_project.write_yaml(project.path / "params.yaml", params)
    result = project.dvc("repro", check=False, show=False)
    assert result.returncode != 0
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors == [errors[0]] and f"'{section}.{key}'" in errors[0], result.output
    assert f"failed to reproduce '{failing_stage}'" in result.output
    assert failing_stage not in lock(project).get("stages", {})
    assert "evaluate" not in lock(project).get("stages", {})
    assert not (project.path / "metrics.json").exists()


def test_a_data_update_reruns_the_pipeline_and_an_old_release_comes_back(project, tmp_path):
    # A colleague's clone takes the white wines: the shared project stays on v1.0 for the other tests,
    # whatever order they run in.
    project = project.clone(tmp_path / "colleague", show=False)
    v1_hash, v1_metrics = project.data_hash(), project.metrics()
    dvc_project.write_wine_data(project.path / dvc_project.DATA_FILE, "red+white")
    assert "changed" in project.dvc("status", show=False).output
    project.dvc("add", dvc_project.DATA_FILE, show=False)
    result = project.dvc("repro", show=False)
    assert result.output.count("Running stage") == 3
    assert project.data_hash() != v1_hash and project.metrics()["n_wines"] > v1_metrics["n_wines"]
    project.commit("The white wines arrive", show=False)
    project.git("tag", "v2.0", show=False)
    diff = json.loads(project.dvc("metrics", "diff", "v1.0", "v2.0", "--json", show=False).output)
    assert diff["metrics.json"]["n_wines"]["old"] == v1_metrics["n_wines"]

    project.git("checkout", "--quiet", "v1.0", show=False)
    project.dvc("checkout", show=False)
    try:
        assert project.data_hash() == v1_hash
        assert data.sha256_of(project.path / dvc_project.DATA_FILE) == RED_SHA256
        assert project.metrics() == v1_metrics
    finally:
        project.git("checkout", "--quiet", "main", show=False)
        project.dvc("checkout", show=False)
    assert project.data_hash() != v1_hash


def test_experiments_table_has_params_metrics_data_and_code_hashes(tmp_path):
    project = dvc_project.create_project(tmp_path / "wine", show=False)
    project.dvc("exp", "run", "--name", "ridge", "--set-param", "train.l1_ratio=0", show=False)
    table = project.experiments()
    row = table[table["Experiment"] == "ridge"].iloc[0]
    assert row["train.l1_ratio"] == 0 and row["train.alpha"] == 1
    assert row["mae"] == pytest.approx(0.566, abs=0.001)  # validation MAE
    assert row["data/wine.csv"] == project.data_hash()
    code_columns = [c for c in table.columns if "workshop_lib" in c]
    assert code_columns == ["workshop_lib/data.py", "workshop_lib/evaluate.py", "workshop_lib/train.py"]
    ran = table[table["rev"] != "main"]  # main's commit never ran the pipeline: DVC shows "!", we a missing value
    assert ran[code_columns].notna().all().all() and ran["mae"].notna().all()
    assert table.loc[table["rev"] == "main", "mae"].isna().all()


def test_recreating_a_project_replaces_it_but_a_foreign_folder_is_refused(tmp_path):
    first = dvc_project.create_project(tmp_path / "wine", stages=("prepare",), show=False)
    (first.path / "scratch.txt").write_text("left over")
    again = dvc_project.create_project(tmp_path / "wine", stages=("prepare",), show=False)
    assert not (again.path / "scratch.txt").exists()

    foreign = tmp_path / "my-own-work"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="nothing was deleted"):
        dvc_project.create_project(foreign, show=False)
    assert (foreign / "notes.txt").read_text() == "precious"


def test_unknown_stage_or_data_version_is_named(tmp_path):
    with pytest.raises(ValueError, match="deploy"):
        dvc_project.pipeline_yaml(("prepare", "deploy"))
    with pytest.raises(ValueError, match="rose"):
        dvc_project.write_wine_data(tmp_path / "wine.csv", "rose")
