"""The checks of module 03 are not vacuous: right answers pass, wrong ones get "not quite" and a hint.

The checks read a real DVC project, so these tests build one (git + DVC, prepare and train stages)
once per module and give each test that changes it a copy of its own folder (a copy takes a fraction
of a second; a fresh project and `dvc repro` take seconds). The judges' messages for unusual tables
are tested on small hand-made tables and a stand-in project that records commands instead of running them.
"""

import json
import math
import shlex
import shutil

import dvc.api
import numpy as np
import pandas as pd
import pytest
import yaml
from verdicts import assert_not_quite, verdict_of

from course.checks import pipeline as checks
from workshop_lib import dvc_project

EVALUATE_COMMAND = (
    "python -m workshop_lib evaluate --model models/model.joblib --data data/prepared/validation.csv "
    "--metrics metrics.json --predictions eval/predictions.csv"
)
GRID = [0.5, 0.0]  # 0.5 at alpha 1.0 repeats the committed run: DVC's run cache answers it in a second
CI_GRID = [1.0, 0.0]  # the grid of the notebooks' CI runs, for the hand-made tables


def copy_of(project: dvc_project.Project, folder) -> dvc_project.Project:
    """A project of one's own: the folder copied (git history, DVC cache, experiments and all)."""
    shutil.copytree(project.folder, folder, symlinks=True)
    return dvc_project.Project(folder)


def add_evaluate_stage(project: dvc_project.Project) -> None:
    """03.1 solved the way the notebook shows: dvc stage add, then dvc repro."""
    project.dvc(
        "stage",
        "add",
        "--force",
        "--name",
        "evaluate",
        "--deps",
        "models/model.joblib",
        "--deps",
        "data/prepared/validation.csv",
        "--metrics-no-cache",
        "metrics.json",
        "--plots-no-cache",
        "eval/predictions.csv",
        EVALUATE_COMMAND,
        show=False,
    )
    project.dvc("repro", show=False)


def run_experiment(project: dvc_project.Project, name: str, alpha: float, l1_ratio: float) -> None:
    project.dvc(
        "exp",
        "run",
        "--name",
        name,
        "--set-param",
        f"train.alpha={alpha!r}",
        "--set-param",
        f"train.l1_ratio={l1_ratio!r}",
        show=False,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dvc_project.Project:
    """The project as the exercise notebook starts it: prepare and train, run and committed."""
    project = dvc_project.create_project(
        tmp_path_factory.mktemp("pipeline") / "base", stages=("prepare", "train"), show=False
    )
    project.dvc("repro", show=False)
    project.commit("Run the pipeline: prepare and train", show=False)
    return project


@pytest.fixture(scope="module")
def evaluated(base, tmp_path_factory) -> dvc_project.Project:
    """After 03.1: the evaluate stage added with dvc stage add, run and committed."""
    project = copy_of(base, tmp_path_factory.mktemp("pipeline") / "evaluated")
    add_evaluate_stage(project)
    project.commit("Add the evaluate stage", show=False)
    return project


@pytest.fixture(scope="module")
def grid(evaluated, tmp_path_factory) -> dvc_project.Project:
    """After 03.2: experiments l1-ratio-0.5 and l1-ratio-0 at alpha 1."""
    project = copy_of(evaluated, tmp_path_factory.mktemp("pipeline") / "grid")
    for l1_ratio in GRID:
        run_experiment(project, checks.experiment_name(l1_ratio), 1.0, l1_ratio)
    return project


@pytest.fixture(scope="module")
def released(base, tmp_path_factory) -> dvc_project.Project:
    """Before 03.4: the red wines tagged v1.0, then red + white committed and tagged v2.0.

    Only the data matters to 03.4, so this project drops its pipeline: no retraining on 6,497 wines
    (the notebooks run 03.4 with the whole pipeline).
    """
    project = copy_of(base, tmp_path_factory.mktemp("pipeline") / "released")
    project.git("rm", "--quiet", "dvc.yaml", "dvc.lock", show=False)
    project.commit("Data releases only", show=False)
    project.git("tag", "v1.0", show=False)
    dvc_project.write_wine_data(project.path / dvc_project.DATA_FILE, "red+white")
    project.dvc("add", dvc_project.DATA_FILE, show=False)
    project.commit("The white wines arrive", show=False)
    project.git("tag", "v2.0", show=False)
    return project


@pytest.fixture
def no_evaluate_reference(monkeypatch):
    """Wrong answers of 03.1 without the reference's dvc repro (it has its own test); records the calls."""
    calls = []
    monkeypatch.setattr(checks, "reference_evaluate_stage", lambda project: calls.append(project) or project)
    return calls


# --- 03.1 the evaluate stage -------------------------------------------------------------------------


def write_pipeline(project: dvc_project.Project, evaluate_yaml: str) -> None:
    """dvc.yaml with the project's prepare and train stages and the given text for the third stage."""
    text = dvc_project.pipeline_yaml(("prepare", "train")) + evaluate_yaml
    (project.path / "dvc.yaml").write_text(text, encoding="utf-8")


STAGE = """\
  {name}:
    cmd: {command}
    deps:
{deps}
{declarations}
"""
MODEL_AND_TEST = "      - models/model.joblib\n      - data/prepared/validation.csv"
METRIC_AND_PLOT = """\
    metrics:
      - metrics.json:
          cache: false
    plots:
      - eval/predictions.csv:
          cache: false"""


def stage_yaml(name="evaluate", deps=MODEL_AND_TEST, declarations=METRIC_AND_PLOT) -> str:
    return STAGE.format(name=name, command=EVALUATE_COMMAND, deps=deps, declarations=declarations)


def test_evaluate_stage_untouched_is_not_solved(capsys, base, tmp_path):
    project = copy_of(base, tmp_path / "copy")
    assert checks.check_evaluate_stage(project) is project
    assert verdict_of(capsys, "03.1")[0] == "not solved yet"
    assert (project.path / "dvc.lock").is_file()
    # The reference added the course's evaluate stage and ran it: the project is ready for 03.2.
    checks.check_evaluate_stage(project)
    assert verdict_of(capsys, "03.1")[0] == "correct"
    assert set(project.metrics()) >= {"mae", "r2"}


def test_evaluate_stage_added_with_dvc_stage_add_is_correct(capsys, evaluated):
    assert checks.check_evaluate_stage(evaluated) is evaluated
    status, out = verdict_of(capsys, "03.1")
    assert status == "correct", out
    assert evaluated.metrics()["mae"] == pytest.approx(0.711, abs=1e-3)  # the baseline on the validation wines


def test_evaluate_stage_written_into_dvc_yaml_is_correct(capsys, base, tmp_path, no_evaluate_reference):
    """Editing dvc.yaml by hand works too, here with a dependency on the whole data/prepared folder."""
    project = copy_of(base, tmp_path / "copy")
    write_pipeline(
        project, stage_yaml(deps="      - data/prepared\n      - models/model.joblib\n      - workshop_lib/evaluate.py")
    )
    project.dvc("repro", show=False)
    checks.check_evaluate_stage(project)
    status, out = verdict_of(capsys, "03.1")
    assert status == "correct", out
    assert no_evaluate_reference == []


@pytest.mark.parametrize(
    "evaluate_yaml, fragments",
    [
        (stage_yaml(name="eval"), ["no stage named 'evaluate'", "prepare, train, eval"]),
        (stage_yaml(deps="      - data/prepared/validation.csv"), ["does not list models/model.joblib among its deps"]),
        (stage_yaml(deps="      - models/model.joblib"), ["does not list data/prepared/validation.csv"]),
        (
            stage_yaml(declarations="    outs:\n      - metrics.json\n    plots:\n      - eval/predictions.csv"),
            ["declared as an ordinary output (outs), not as a metric"],
        ),
        (
            stage_yaml(declarations="    plots:\n      - eval/predictions.csv:\n          cache: false"),
            ["declares no metric metrics.json"],
        ),
        (stage_yaml(declarations="    metrics:\n      - metrics.json:\n          cache: false"), ["declares no plot"]),
        (stage_yaml(), ["has not run yet; run dvc repro"]),
        (
            "  evaluate:\n    cmd: python -m workshop_lib evaluate\n    deps: [models/model.joblib\n",
            ["dvc.yaml is not valid YAML"],
        ),
        ("  evaluate:\n    deps:\n      - models/model.joblib\n", ["has no cmd"]),
    ],
    ids=[
        "named-eval",
        "no-model-dep",
        "no-test-dep",
        "metric-as-outs",
        "no-metric",
        "no-plot",
        "not-run",
        "broken-yaml",
        "no-cmd",
    ],
)
def test_evaluate_stage_wrong_answers(capsys, base, tmp_path, no_evaluate_reference, evaluate_yaml, fragments):
    project = copy_of(base, tmp_path / "copy")
    write_pipeline(project, evaluate_yaml)
    assert checks.check_evaluate_stage(project) is project
    out = assert_not_quite(capsys, "03.1", *fragments)
    assert "dvc stage add" in out  # the hint
    assert no_evaluate_reference == [project]


def test_evaluate_stage_changed_after_its_run(capsys, evaluated, tmp_path, no_evaluate_reference):
    project = copy_of(evaluated, tmp_path / "copy")
    dvc_yaml = project.path / "dvc.yaml"
    dvc_yaml.write_text(
        dvc_yaml.read_text(encoding="utf-8").replace(
            "    - models/model.joblib\n", "    - models/model.joblib\n    - workshop_lib/evaluate.py\n"
        ),
        encoding="utf-8",
    )
    checks.check_evaluate_stage(project)
    assert_not_quite(capsys, "03.1", "changed since it last ran (dvc status: evaluate: changed deps", "run dvc repro")


def test_evaluate_stage_with_other_metrics(capsys, evaluated, tmp_path, no_evaluate_reference):
    project = copy_of(evaluated, tmp_path / "copy")
    (project.path / "metrics.json").write_text(json.dumps({"accuracy": 0.9}), encoding="utf-8")
    checks.check_evaluate_stage(project)
    assert_not_quite(capsys, "03.1", "metrics.json has no 'mae' and no 'r2'")


def test_evaluate_stage_without_dvc_yaml(capsys, base, tmp_path, no_evaluate_reference):
    project = copy_of(base, tmp_path / "copy")
    (project.path / "dvc.yaml").unlink()
    checks.check_evaluate_stage(project)
    assert_not_quite(capsys, "03.1", "the project has no dvc.yaml any more")


def test_evaluate_stage_check_never_raises(capsys, no_evaluate_reference):
    checks.check_evaluate_stage("my project")
    assert_not_quite(capsys, "03.1", "raised AttributeError")


# --- 03.2 the experiment grid ------------------------------------------------------------------------


def experiments_table(*experiments) -> pd.DataFrame:
    """A table shaped like project.experiments(): the workspace and main rows, then (name, alpha, l1_ratio, mae, r2)."""
    rows = [
        {
            "Experiment": np.nan,
            "rev": "workspace",
            "typ": "baseline",
            "mae": 0.705,
            "r2": -0.006,
            "train.alpha": 1.0,
            "train.l1_ratio": 0.5,
        },
        {
            "Experiment": np.nan,
            "rev": "main",
            "typ": "baseline",
            "mae": 0.705,
            "r2": -0.006,
            "train.alpha": 1.0,
            "train.l1_ratio": 0.5,
        },
    ]
    for number, (name, alpha, l1_ratio, mae, r2) in enumerate(experiments):
        rows.append(
            {
                "Experiment": name,
                "rev": f"abc{number:04d}",
                "typ": "branch_commit",
                "mae": mae,
                "r2": r2,
                "train.alpha": alpha,
                "train.l1_ratio": l1_ratio,
            }
        )
    return pd.DataFrame(rows)


class FakeProject:
    """Stands in for a Project: experiments() returns a given table, dvc() records commands instead of running them."""

    def __init__(self, table: pd.DataFrame):
        self.table, self.commands = table, []

    def experiments(self) -> pd.DataFrame:
        return self.table

    def dvc(self, *args, **options):
        self.commands.append(args)
        return dvc_project.Result("dvc " + shlex.join(args), 0, "")


def test_experiment_grid_is_correct(capsys, grid):
    assert checks.check_experiment_grid(grid, GRID) is grid
    status, out = verdict_of(capsys, "03.2")
    assert status == "correct", out
    assert "2 values of l1_ratio" in out


def test_experiment_grid_untouched_is_not_solved(capsys, evaluated):
    fake = FakeProject(experiments_table())
    assert checks.check_experiment_grid(fake, GRID) is fake
    assert verdict_of(capsys, "03.2")[0] == "not solved yet"
    names = [args[args.index("--name") + 1] for args in fake.commands]
    assert names == ["l1-ratio-0.5", "l1-ratio-0"]  # the reference runs the whole grid
    assert all("train.alpha=1.0" in args for args in fake.commands)  # as committed: DVC's run cache can match
    # The real table of a project with commits but no experiments: not solved either.
    assert checks.experiment_rows(evaluated.experiments()).empty


def test_experiment_grid_with_a_value_missing(capsys, grid, monkeypatch):
    """The real table; the reference's `dvc exp run` is left to the exercise notebook's run (it runs them all)."""
    calls = []
    monkeypatch.setattr(checks, "reference_experiment_grid", lambda project, l1_ratios: calls.append(l1_ratios))
    checks.check_experiment_grid(grid, [*GRID, 0.2])
    assert_not_quite(capsys, "03.2", "l1_ratio 0.2 has no experiment", "l1-ratio-0.5 (alpha 1, l1_ratio 0.5)")
    assert calls == [[*GRID, 0.2]]


@pytest.mark.parametrize(
    "table, fragments, reruns",
    [
        (experiments_table(("l1-ratio-1", 1.0, 1.0, 0.705, -0.006)), ["l1_ratio 0 has no experiment"], ["l1-ratio-0"]),
        (
            experiments_table(("l1-ratio-1", 1.0, 1.0, 0.705, -0.006), ("l1-ratio-0", 0.5, 0.0, 0.52, 0.37)),
            ["l1_ratio 0 ran only with alpha 0.5, not alpha 1"],
            ["l1-ratio-0-reference"],
        ),
        (
            experiments_table(("l1-ratio-1", 1.0, 1.0, np.nan, np.nan), ("l1-ratio-0", 1.0, 0.0, 0.547, 0.321)),
            ["'l1-ratio-1' (l1_ratio 1) has no metrics"],
            ["l1-ratio-1-reference"],
        ),
        (
            experiments_table(("quick-fox", 0.1, 0.5, 0.516, 0.379)),
            ["l1_ratio 1 has no experiment; l1_ratio 0 has no experiment", "quick-fox (alpha 0.1, l1_ratio 0.5)"],
            ["l1-ratio-1", "l1-ratio-0"],
        ),
    ],
    ids=["missing-value", "wrong-alpha", "no-metrics", "other-params"],
)
def test_experiment_grid_wrong_answers(capsys, table, fragments, reruns):
    fake = FakeProject(table)
    checks.check_experiment_grid(fake, CI_GRID)
    out = assert_not_quite(capsys, "03.2", "the grid is not complete", *fragments)
    assert "train.alpha=1" in out  # the hint
    assert [args[args.index("--name") + 1] for args in fake.commands] == reruns


# --- 03.3 the best experiment ------------------------------------------------------------------------

# The spreadsheet's grid: l1_ratio 1 and 0.5 give the same all-zero model, an exact tie.
SPREADSHEET = experiments_table(
    ("l1-ratio-1", 1.0, 1.0, 0.7049, -0.0063),
    ("l1-ratio-0.5", 1.0, 0.5, 0.7049, -0.0063),
    ("l1-ratio-0.2", 1.0, 0.2, 0.6391, 0.1476),
    ("l1-ratio-0", 1.0, 0.0, 0.5467, 0.3210),
)
TIE_ON_MAE = experiments_table(
    ("steady", 1.0, 0.2, 0.55, 0.30), ("sharp", 1.0, 0.0, 0.55, 0.32), ("loose", 1.0, 1.0, 0.70, 0.00)
)


def test_best_experiment_of_a_real_grid(capsys, grid):
    table = grid.experiments()
    assert checks.check_best_experiment("l1-ratio-0", table) == "l1-ratio-0"
    assert verdict_of(capsys, "03.3")[0] == "correct"
    assert checks.reference_best_experiment(table) == "l1-ratio-0"


@pytest.mark.parametrize("table, best", [(SPREADSHEET, "l1-ratio-0"), (TIE_ON_MAE, "sharp")])
def test_best_experiment_correct(capsys, table, best):
    assert checks.check_best_experiment(best, table) == best
    assert verdict_of(capsys, "03.3")[0] == "correct"


def test_an_exact_tie_accepts_either_winner(capsys):
    table = experiments_table(
        ("twin-a", 1.0, 1.0, 0.6, 0.2), ("twin-b", 1.0, 0.5, 0.6, 0.2), ("far", 1.0, 0.0, 0.9, 0.0)
    )
    for best in ("twin-a", "twin-b"):
        assert checks.check_best_experiment(best, table) == best
        assert verdict_of(capsys, "03.3")[0] == "correct"


def test_best_experiment_not_solved(capsys):
    assert checks.check_best_experiment(..., SPREADSHEET) == "l1-ratio-0"
    assert verdict_of(capsys, "03.3")[0] == "not solved yet"


@pytest.mark.parametrize(
    "table, best, fragments",
    [
        (SPREADSHEET, "l1-ratio-1", ["has the highest MAE (0.705): the rule asks for the lowest"]),
        (SPREADSHEET, "l1-ratio-0.2", ["'l1-ratio-0.2' has MAE 0.639, but 'l1-ratio-0' has a lower one (0.547)"]),
        (SPREADSHEET, "main", ["'main' is a baseline row"]),
        (SPREADSHEET, "workspace", ["'workspace' is a baseline row"]),
        (
            SPREADSHEET,
            "l1-ratio-0.0",
            [
                "no experiment named 'l1-ratio-0.0' in the table; its experiments are 'l1-ratio-1', "
                "'l1-ratio-0.5', 'l1-ratio-0.2', 'l1-ratio-0'"
            ],
        ),
        (SPREADSHEET, math.nan, ["best is NaN"]),
        (
            SPREADSHEET,
            SPREADSHEET.iloc[5],
            ["pandas Series: give the experiment's name only, a str such as 'l1-ratio-1'"],
        ),
        (SPREADSHEET, 5, ["best is an int, not an experiment's name"]),
        (TIE_ON_MAE, "steady", ["ties with 'sharp' on MAE (0.550); on a tie the higher R² wins"]),
        (experiments_table(), "l1-ratio-0", ["no experiments with metrics"]),
    ],
    ids=["highest-mae", "middle", "main", "workspace", "typo", "nan", "series", "number", "tie", "no-experiments"],
)
def test_best_experiment_wrong_answers(capsys, table, best, fragments):
    checks.check_best_experiment(best, table)
    out = assert_not_quite(capsys, "03.3", *fragments)
    assert "ascending=[True, False]" in out  # the hint


def test_the_first_row_of_the_whole_table_is_a_baseline(capsys):
    """A typical slip: sorting the whole table, baseline rows included, takes the workspace row's NaN name."""
    table = experiments_table(("a", 1.0, 1.0, 0.70, 0.0), ("b", 1.0, 0.0, 0.60, 0.3))
    table.loc[0, "mae"] = 0.5  # the workspace row, e.g. after an uncommitted better run
    best = table.sort_values(["mae", "r2"], ascending=[True, False]).iloc[0]["Experiment"]
    assert checks.check_best_experiment(best, table) == "b"
    assert_not_quite(capsys, "03.3", "best is NaN")


# --- 03.4 an old data version, restored --------------------------------------------------------------


def test_restored_with_dvc_get_is_correct(capsys, released, tmp_path):
    project = copy_of(released, tmp_path / "copy")
    restored = project.folder / "wine-v1.0.csv"
    project.dvc("get", ".", dvc_project.DATA_FILE, "--rev", "v1.0", "-o", str(restored), show=False)
    assert checks.check_restored_data(restored, project, "v1.0") == restored
    status, out = verdict_of(capsys, "03.4")
    assert status == "correct", out
    assert checks.md5_of(restored) == "018032169ce7925061ed2afd1d831dfe"  # the red wines, as v1.0 recorded


def test_restored_by_time_travel_judged_step_by_step(capsys, released, tmp_path, monkeypatch):
    """git checkout v1.0 + dvc checkout, copy, then back: git checkout main + dvc checkout; a step left out is named."""
    monkeypatch.setattr(checks, "reference_restored_data", lambda project, tag: None)
    project = copy_of(released, tmp_path / "copy")
    restored = tmp_path / "old-wines.csv"
    project.git("checkout", "--quiet", "v1.0", show=False)
    project.dvc("checkout", show=False)
    shutil.copy(project.path / dvc_project.DATA_FILE, restored)
    checks.check_restored_data(restored, project, "v1.0")
    assert_not_quite(capsys, "03.4", "the project is still at v1.0 (a detached HEAD)", "git checkout main")
    project.git("checkout", "--quiet", "main", show=False)
    checks.check_restored_data(restored, project, "v1.0")
    assert_not_quite(
        capsys,
        "03.4",
        "dvc status reports differences (data/wine.csv.dvc: changed outs (data/wine.csv modified))",
        "run dvc checkout",
    )
    project.dvc("checkout", show=False)
    assert checks.check_restored_data(str(restored), project, "v1.0") == str(restored)
    status, out = verdict_of(capsys, "03.4")
    assert status == "correct", out


def test_restored_reference_goes_back_to_main(capsys, released, tmp_path):
    project = copy_of(released, tmp_path / "copy")
    project.git("checkout", "--quiet", "v1.0", show=False)
    # git checkout without dvc checkout: the workspace still holds the current data, and so does the copy.
    restored = checks.check_restored_data(project.path / dvc_project.DATA_FILE, project, "v1.0")
    assert_not_quite(capsys, "03.4", "wine.csv holds the current data")
    assert restored == project.folder / "wine-v1.0.csv"
    assert checks.md5_of(restored) == checks.recorded_data_hash(project, "v1.0")
    assert checks._where_is_head(project) is None  # on main again
    assert checks.md5_of(project.path / dvc_project.DATA_FILE) == checks.recorded_data_hash(project, "v2.0")


def test_restored_untouched_is_not_solved(capsys, released, tmp_path):
    project = copy_of(released, tmp_path / "copy")
    restored = checks.check_restored_data(..., project, "v1.0")
    assert verdict_of(capsys, "03.4")[0] == "not solved yet"
    assert restored == project.folder / "wine-v1.0.csv"
    assert checks.md5_of(restored) == checks.recorded_data_hash(project, "v1.0")


def test_restored_current_data_instead(capsys, released, tmp_path):
    project = copy_of(released, tmp_path / "copy")
    restored = shutil.copy(project.path / dvc_project.DATA_FILE, tmp_path / "wine-v1.0.csv")
    checks.check_restored_data(restored, project, "v1.0")
    out = assert_not_quite(capsys, "03.4", "holds the current data (main, all wines), not the data of release v1.0")
    assert "--rev" in out  # the hint


@pytest.mark.parametrize(
    "restored, fragments",
    [
        ("nowhere.csv", ["there is no file at nowhere.csv"]),
        (pd.DataFrame({"quality": [5]}), ["restored is a DataFrame: set it to the path"]),
    ],
)
def test_restored_not_a_file(capsys, released, restored, fragments):
    checks.check_restored_data(restored, FakeReleased(released), "v1.0")
    assert_not_quite(capsys, "03.4", *fragments)


class FakeReleased:
    """The released project for the judge, with a reference that only names the file (no dvc get)."""

    def __init__(self, project):
        self.project = project

    def __getattr__(self, name):
        return getattr(self.project, name)

    def dvc(self, *args, **options):
        return dvc_project.Result("dvc " + shlex.join(args), 0, "")


def test_restored_inside_the_project(capsys, released, tmp_path):
    project = copy_of(released, tmp_path / "copy")
    restored = project.path / "wine-v1.0.csv"
    project.dvc("get", ".", dvc_project.DATA_FILE, "--rev", "v1.0", "-o", str(restored), show=False)
    checks.check_restored_data(restored, project, "v1.0")
    assert_not_quite(capsys, "03.4", "inside the project's git repository")


def test_restored_but_the_project_changed(capsys, released, tmp_path):
    project = copy_of(released, tmp_path / "copy")
    restored = project.folder / "wine-v1.0.csv"
    project.dvc("get", ".", dvc_project.DATA_FILE, "--rev", "v1.0", "-o", str(restored), show=False)
    project.set_params(**{"train.l1_ratio": 0.3})
    checks.check_restored_data(restored, project, "v1.0")
    assert_not_quite(capsys, "03.4", "git status shows uncommitted changes in the project (params.yaml)")


def test_restored_without_the_release_tag(capsys, evaluated, tmp_path):
    project = copy_of(evaluated, tmp_path / "copy")
    checks.check_restored_data(tmp_path / "wine-v1.0.csv", FakeReleased(project), "v1.0")
    assert_not_quite(capsys, "03.4", "the project has no release v1.0")


# --- alternative correct answers: written another way than the solution notebook, they get "correct" too ------------


def test_evaluate_stage_added_with_yaml_safe_dump_is_correct(capsys, base, tmp_path, no_evaluate_reference):
    """The notebook's second way: dvc.yaml read with yaml.safe_load, a stage dict added, written back, then repro."""
    project = copy_of(base, tmp_path / "copy")
    dvc_yaml = project.path / "dvc.yaml"
    pipeline = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))
    pipeline["stages"]["evaluate"] = {
        "cmd": EVALUATE_COMMAND,
        "deps": ["data/prepared/validation.csv", "models/model.joblib"],  # in another order than the hint's
        "metrics": [{"metrics.json": {"cache": False}}],
        "plots": [{"eval/predictions.csv": {"cache": False}}],
    }
    dvc_yaml.write_text(yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8")
    project.dvc("repro", show=False)
    checks.check_evaluate_stage(project)
    status, out = verdict_of(capsys, "03.1")
    assert status == "correct", out
    assert no_evaluate_reference == []


def test_experiment_grid_unnamed_with_short_flags_is_correct(capsys, evaluated, tmp_path):
    """dvc exp run -S without --name (DVC picks the names), alpha written as 1, the values in another order."""
    project = copy_of(evaluated, tmp_path / "copy")
    for l1_ratio in reversed(GRID):
        project.dvc("exp", "run", "-S", f"train.l1_ratio={l1_ratio:g}", "-S", "train.alpha=1", show=False)
    assert checks.check_experiment_grid(project, GRID) is project
    status, out = verdict_of(capsys, "03.2")
    assert status == "correct", out
    assert len(checks.experiment_rows(project.experiments())) == len(GRID)


def best_by_a_loop(table):
    """min() over the experiments' rows with a key (MAE up, R² down): no sort_values."""
    rows = [row for _, row in table.iterrows() if isinstance(row["Experiment"], str)]
    return min(rows, key=lambda row: (row["mae"], -row["r2"]))["Experiment"]


def best_by_idxmin(table):
    """dropna on the names, then the lowest MAE, then among those the highest R² with idxmax."""
    experiments = table.dropna(subset=["Experiment"])
    lowest = experiments[experiments["mae"] == experiments["mae"].min()]
    return lowest.loc[lowest["r2"].idxmax(), "Experiment"]


@pytest.mark.parametrize("choose", [best_by_a_loop, best_by_idxmin], ids=["loop", "idxmin"])
@pytest.mark.parametrize("table, best", [(SPREADSHEET, "l1-ratio-0"), (TIE_ON_MAE, "sharp")], ids=["grid", "tie"])
def test_best_experiment_without_sort_values_is_correct(capsys, table, best, choose):
    answer = choose(table)
    assert answer == best
    assert checks.check_best_experiment(answer, table) == answer
    assert verdict_of(capsys, "03.3")[0] == "correct"


def test_restored_with_the_dvc_python_api_is_correct(capsys, released, tmp_path):
    """dvc.api.read of the old revision, written to a file outside the project: no dvc get, no checkout."""
    project = copy_of(released, tmp_path / "copy")
    restored = tmp_path / "red-wines-of-v1.0.csv"
    old = dvc.api.read(dvc_project.DATA_FILE, repo=str(project.path), rev="v1.0", mode="rb")
    restored.write_bytes(old)
    assert checks.check_restored_data(restored, project, "v1.0") == restored
    status, out = verdict_of(capsys, "03.4")
    assert status == "correct", out
