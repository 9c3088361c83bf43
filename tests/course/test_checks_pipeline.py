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
import subprocess

import dvc.api
import dvc.repo
import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from verdicts import assert_not_quite, verdict_of

from course.checks import pipeline as checks
from workshop_lib import data, dvc_project, train

EVALUATE_COMMAND = (
    "python -m workshop_lib evaluate --model models/model.joblib --data data/prepared/validation.csv "
    "--metrics metrics.json --predictions eval/predictions.csv"
)
GRID = [0.1, 0.01]  # 03.2's alphas at l1_ratio 0.5, as the notebooks' CI runs them
WINNER = "alpha-0.1"  # 0.01 has the lower MAE but 2.94 false alarms per 100 wines, over the limit of 2


def shell(project: dvc_project.Project, command: str, capture: bool = False) -> str:
    """A command as a participant types it after `!` (or in a terminal): {path} is the project folder."""
    completed = subprocess.run(
        command.format(path=shlex.quote(str(project.path))),
        shell=True,
        env=project.environment(),
        cwd=project.folder,
        text=True,
        capture_output=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


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
    """After 03.2: experiments alpha-0.1 and alpha-0.01 at l1_ratio 0.5, run with the shell command."""
    project = copy_of(evaluated, tmp_path_factory.mktemp("pipeline") / "grid")
    for alpha in GRID:
        shell(project, f"dvc --cd {{path}} exp run --quiet --name alpha-{alpha} --set-param train.alpha={alpha}")
    return project


@pytest.fixture(scope="module")
def adopted(grid, tmp_path_factory) -> dvc_project.Project:
    """After 03.3: the winner of the team's rule applied and committed on main."""
    project = copy_of(grid, tmp_path_factory.mktemp("pipeline") / "adopted")
    shell(
        project, f"dvc --cd {{path}} exp apply {WINNER} && git -C {{path}} add --all && git -C {{path}} commit -qm won"
    )
    return project


@pytest.fixture(scope="module")
def released(adopted, tmp_path_factory) -> dvc_project.Project:
    """Before 03.4, as the notebook's story cell leaves it: v1.0 tagged, red + white retrained, committed, v2.0."""
    project = copy_of(adopted, tmp_path_factory.mktemp("pipeline") / "released")
    project.git("tag", "v1.0", show=False)
    dvc_project.write_wine_data(project.path / dvc_project.DATA_FILE, "red+white")
    project.dvc("add", dvc_project.DATA_FILE, show=False)
    project.dvc("repro", show=False)
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


# --- 03.2 the experiment grid, turned round ---------------------------------------------------------


def experiments_table(*experiments) -> pd.DataFrame:
    """A table shaped like `dvc exp show --csv`: the workspace and main rows, then
    (name, alpha, l1_ratio, mae, false_alarms_per_100)."""
    rows = [
        {"Experiment": np.nan, "rev": rev, "typ": "baseline", "mae": 0.7106, "false_alarms_per_100": 0.0}
        | {"train.model": "elasticnet", "train.alpha": 1.0, "train.l1_ratio": 0.5}
        for rev in ("workspace", "main")
    ]
    for number, (name, alpha, l1_ratio, mae, false_alarms) in enumerate(experiments):
        rows.append(
            {"Experiment": name, "rev": f"abc{number:04d}", "typ": "branch_commit", "mae": mae}
            | {"false_alarms_per_100": false_alarms, "train.model": "elasticnet"}
            | {"train.alpha": alpha, "train.l1_ratio": l1_ratio}
        )
    return pd.DataFrame(rows)


class FakeProject:
    """Stands in for a Project: `dvc exp show --csv` answers a given table, other dvc commands are recorded."""

    def __init__(self, table: pd.DataFrame):
        self.table, self.commands = table, []

    def dvc(self, *args, **options):
        if args[:2] == ("exp", "show"):
            return dvc_project.Result("dvc exp show", 0, self.table.to_csv(index=False))
        self.commands.append(args)
        return dvc_project.Result("dvc " + shlex.join(args), 0, "")


def test_experiment_grid_run_with_the_shell_command_is_correct(capsys, grid):
    assert checks.check_experiment_grid(grid, GRID) is grid
    status, out = verdict_of(capsys, "03.2")
    assert status == "correct", out
    assert "2 values of alpha" in out


def test_experiment_grid_unnamed_in_another_order_is_correct(capsys, evaluated, tmp_path):
    """Without --name (DVC picks the names), -S for both keys, the values in another order, via project.dvc."""
    project = copy_of(evaluated, tmp_path / "copy")
    for alpha in reversed(GRID):
        project.dvc("exp", "run", "-S", "train.l1_ratio=0.5", "-S", f"train.alpha={alpha:g}", show=False)
    assert checks.check_experiment_grid(project, GRID) is project
    status, out = verdict_of(capsys, "03.2")
    assert status == "correct", out
    assert len(checks.experiment_rows(checks.all_experiments(project))) == len(GRID)


def test_experiment_grid_untouched_is_not_solved(capsys, evaluated):
    fake = FakeProject(experiments_table())
    assert checks.check_experiment_grid(fake, GRID) is fake
    assert verdict_of(capsys, "03.2")[0] == "not solved yet"
    assert [args[args.index("--name") + 1] for args in fake.commands] == ["alpha-0.1", "alpha-0.01"]
    assert all("train.l1_ratio=0.5" in args for args in fake.commands)
    # The real table of a project with commits but no experiments: not solved either.
    assert checks.experiment_rows(checks.all_experiments(evaluated)).empty


@pytest.mark.parametrize(
    "table, fragments, reruns",
    [
        (  # the lesson's grid again: l1_ratio varied at alpha 1
            experiments_table(("l1-1", 1.0, 1.0, 0.71, 0.0), ("l1-0", 1.0, 0.0, 0.566, 0.0)),
            ["alpha 0.1 has no experiment; alpha 0.01 has no experiment", "l1-0 (alpha 1, l1_ratio 0)"],
            ["alpha-0.1", "alpha-0.01"],
        ),
        (
            experiments_table(("alpha-0.1", 0.1, 0.5, 0.55, 0.7), ("alpha-0.01", 0.01, 0.0, 0.54, 2.9)),
            ["alpha 0.01 ran only with l1_ratio 0, not 0.5"],
            ["alpha-0.01-reference"],
        ),
        (  # queued, never run: no metrics
            experiments_table(("alpha-0.1", 0.1, 0.5, 0.55, 0.7), ("alpha-0.01", 0.01, 0.5, np.nan, np.nan)),
            ["'alpha-0.01' (alpha 0.01) has no metrics: was it only queued?"],
            ["alpha-0.01-reference"],
        ),
    ],
    ids=["lesson-grid", "wrong-l1-ratio", "queued-only"],
)
def test_experiment_grid_wrong_answers(capsys, table, fragments, reruns):
    fake = FakeProject(table)
    checks.check_experiment_grid(fake, GRID)
    out = assert_not_quite(capsys, "03.2", "the grid is not complete", *fragments)
    assert "the other way round" in out  # the hint
    assert [args[args.index("--name") + 1] for args in fake.commands] == reruns


# --- 03.3 the team's rule, decided and adopted ------------------------------------------------------

# The real grid's numbers (alpha 0.3 ... 0.01 at l1_ratio 0.5): the lowest MAE raises too many false alarms.
FULL_GRID = experiments_table(
    ("alpha-0.3", 0.3, 0.5, 0.6031, 0.0),
    ("alpha-0.1", 0.1, 0.5, 0.5516, 0.7353),
    ("alpha-0.03", 0.03, 0.5, 0.5386, 1.4706),
    ("alpha-0.01", 0.01, 0.5, 0.5364, 2.9412),
)
TIE_ON_MAE = experiments_table(("plain", 0.3, 0.5, 0.55, 1.0), ("fancy", 0.1, 0.5, 0.55, 1.0))


def test_best_experiment_decided_and_committed_is_correct(capsys, adopted):
    """The solution's way: `dvc exp show --csv` read with pandas, dvc exp apply, git add + commit (fixture)."""
    assert checks.check_best_experiment(WINNER, adopted) == WINNER
    status, out = verdict_of(capsys, "03.3")
    assert status == "correct", out


def test_best_experiment_from_json_and_the_python_api_is_correct(capsys, grid, tmp_path):
    """`dvc exp show --json` parsed by hand, the winner by min() over dicts, applied with dvc.repo.Repo, commit -a."""
    project = copy_of(grid, tmp_path / "copy")
    listed = json.loads(shell(project, "dvc --cd {path} exp show --json", capture=True))
    runs = []
    for commit in listed:
        for exp in commit.get("experiments") or []:
            for rev in exp["revs"]:
                values = rev["data"]["metrics"]["metrics.json"]["data"]
                alpha = rev["data"]["params"]["params.yaml"]["data"]["train"]["alpha"]
                runs.append({"name": rev["name"], "alpha": alpha, **values})
    best = min((run for run in runs if run["false_alarms_per_100"] <= 2), key=lambda run: (run["mae"], -run["alpha"]))
    best = best["name"]
    assert best == WINNER
    with dvc.repo.Repo(str(project.path)) as repo:
        repo.experiments.apply(best)
    shell(project, "git -C {path} commit --quiet --all -m 'the team rule'")
    assert checks.check_best_experiment(best, project) == best
    status, out = verdict_of(capsys, "03.3")
    assert status == "correct", out


def test_best_experiment_not_solved_applies_and_commits_the_winner(capsys, grid, tmp_path):
    project = copy_of(grid, tmp_path / "copy")
    assert checks.check_best_experiment(..., project) == WINNER
    assert verdict_of(capsys, "03.3")[0] == "not solved yet"
    assert project.params()["train"]["alpha"] == 0.1
    assert checks._tidy_project(project) is None
    checks.check_best_experiment(WINNER, project)
    assert verdict_of(capsys, "03.3")[0] == "correct"


def test_best_by_the_lowest_mae_only_is_not_quite(capsys, grid, tmp_path):
    """The lesson's rule instead of the team's: the lowest MAE, over the false-alarm limit; the reference adopts."""
    project = copy_of(grid, tmp_path / "copy")
    assert checks.check_best_experiment("alpha-0.01", project) == WINNER
    assert_not_quite(capsys, "03.3", "'alpha-0.01' has the lowest MAE of all, but it raises 2.94 false alarms")
    assert project.params()["train"]["alpha"] == 0.1


def test_best_applied_but_not_committed(capsys, grid, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "reference_best_experiment_adopted", lambda project: None)
    project = copy_of(grid, tmp_path / "copy")
    shell(project, f"dvc --cd {{path}} exp apply {WINNER}")
    checks.check_best_experiment(WINNER, project)
    assert_not_quite(capsys, "03.3", "applied in the workspace, but not committed: HEAD still holds alpha 1.0")


def test_best_decided_but_never_applied(capsys, grid, monkeypatch):
    monkeypatch.setattr(checks, "reference_best_experiment_adopted", lambda project: None)
    checks.check_best_experiment(WINNER, grid)
    assert_not_quite(capsys, "03.3", "the project's last commit holds alpha 1.0", f"dvc exp apply {WINNER}")


def test_best_committed_on_a_detached_head(capsys, grid, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "reference_best_experiment_adopted", lambda project: None)
    project = copy_of(grid, tmp_path / "copy")
    shell(project, "git -C {path} switch --quiet --detach HEAD")
    checks.check_best_experiment(WINNER, project)
    assert_not_quite(capsys, "03.3", "(a detached HEAD)", "git checkout main")


@pytest.mark.parametrize(
    "table, best, fragments",
    [
        (FULL_GRID, "alpha-0.01", ["has the lowest MAE of all, but it raises 2.94 false alarms per 100 wines"]),
        (FULL_GRID, "alpha-0.1", ["'alpha-0.1' is within the limit, but 'alpha-0.03' is too and has a lower MAE"]),
        (FULL_GRID, "main", ["'main' is a workspace or commit row"]),
        (FULL_GRID, "alpha-0.030", ["no experiment named 'alpha-0.030'"]),
        (FULL_GRID, math.nan, ["best is NaN"]),
        (FULL_GRID, FULL_GRID.iloc[3], ["pandas Series: give the experiment's name only"]),
        (FULL_GRID, 3, ["best is an int"]),
        (TIE_ON_MAE, "fancy", ["ties with 'plain' on MAE; on a tie the larger alpha"]),
        (experiments_table(), "alpha-0.1", ["lists no experiments with metrics"]),
        (experiments_table(("noisy", 0.01, 0.5, 0.53, 3.0)), "noisy", ["no experiment raises at most 2"]),
    ],
    ids=["lowest-mae", "middle", "main", "typo", "nan", "series", "number", "tie", "none", "none-allowed"],
)
def test_best_experiment_wrong_decisions(capsys, table, best, fragments, monkeypatch):
    monkeypatch.setattr(checks, "reference_best_experiment_adopted", lambda project: None)
    checks.check_best_experiment(best, FakeProject(table))
    out = assert_not_quite(capsys, "03.3", *fragments)
    assert "drop every experiment with more than 2" in out  # the hint


def test_the_reference_rule_on_the_full_grid():
    assert checks.reference_best_experiment(FULL_GRID) == "alpha-0.03"
    assert checks.reference_best_experiment(TIE_ON_MAE) == "plain"


# --- 03.4 a fair comparison with an old release --------------------------------------------------------


def old_model_by_time_travel(project, outside, *, dvc_checkout=True, back=True, back_dvc=True):
    """git switch to v1.0 (+ dvc checkout), copy the model, back to main (+ dvc checkout): a step can be left out."""
    shell(project, "git -C {path} switch --quiet --detach v1.0")
    if dvc_checkout:
        shell(project, "dvc --cd {path} checkout --quiet")
    shutil.copy(project.path / "models" / "model.joblib", outside)
    if back:
        shell(project, "git -C {path} switch --quiet main")
    if back_dvc:
        shell(project, "dvc --cd {path} checkout --quiet")


def evaluate_cli(project, model, wines, metrics) -> None:
    shell(project, f"python -m workshop_lib evaluate --model {model} --data {wines} --metrics {metrics}")


def winner_of(project, fair) -> str:
    return "v1.0" if json.loads(fair.read_text())["mae"] < project.metrics()["mae"] else "v2.0"


@pytest.fixture
def fresh_release(released, tmp_path):
    return copy_of(released, tmp_path / "copy")


def test_fair_comparison_by_time_travel_is_correct(capsys, fresh_release, tmp_path):
    project, model, fair = fresh_release, tmp_path / "old.joblib", tmp_path / "fair.json"
    old_model_by_time_travel(project, model)
    evaluate_cli(project, model, project.path / "data/prepared/validation.csv", fair)
    winner = winner_of(project, fair)
    assert checks.check_fair_comparison((fair, winner), project) == (fair, winner)
    status, out = verdict_of(capsys, "03.4")
    assert status == "correct", out
    assert json.loads(fair.read_text())["n_wines"] == project.metrics()["n_wines"] > 1000  # red and white


def test_fair_comparison_with_dvc_api_and_a_dict_is_correct(capsys, released):
    """dvc.api.open of the old model (the project never moves), scored in Python: the metrics given as a dict."""
    with dvc.api.open("models/model.joblib", repo=str(released.path), rev="v1.0", mode="rb") as handle:
        model = joblib.load(handle)
    wines = data.load_wine(released.path / "data/prepared/validation.csv")
    metrics, _ = train.score(model, wines[data.FEATURES], wines[data.TARGET])
    winner = "v1.0" if metrics["mae"] < released.metrics()["mae"] else "v2.0"
    assert checks.check_fair_comparison((metrics, winner), released) == (metrics, winner)
    status, out = verdict_of(capsys, "03.4")
    assert status == "correct", out


def test_fair_comparison_not_solved_gives_the_reference(capsys, fresh_release):
    fair, winner = checks.check_fair_comparison((..., ...), fresh_release)
    assert verdict_of(capsys, "03.4")[0] == "not solved yet"
    assert fair == fresh_release.folder / "v1.0-on-v2.0-wines.json"
    assert checks.check_fair_comparison((fair, winner), fresh_release) == (fair, winner)
    assert verdict_of(capsys, "03.4")[0] == "correct"


def test_fair_comparison_forgot_dvc_checkout(capsys, fresh_release, tmp_path):
    """git switch v1.0 without dvc checkout: the workspace still holds v2.0's model, and that is what was scored."""
    project, model, fair = fresh_release, tmp_path / "old.joblib", tmp_path / "fair.json"
    old_model_by_time_travel(project, model, dvc_checkout=False)
    evaluate_cli(project, model, project.path / "data/prepared/validation.csv", fair)
    answer = checks.check_fair_comparison((fair, "v2.0"), project)
    assert_not_quite(capsys, "03.4", "the model you scored is v2.0's own", "dvc checkout puts v1.0's model")
    assert answer[0] == project.folder / "v1.0-on-v2.0-wines.json"  # the reference


def test_fair_comparison_left_the_head_detached(capsys, fresh_release, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "reference_fair_comparison", lambda project, old, new: None)
    project, model, fair = fresh_release, tmp_path / "old.joblib", tmp_path / "fair.json"
    old_model_by_time_travel(project, model, back=False, back_dvc=False)
    main_wines = tmp_path / "validation.csv"
    shell(project, f"dvc --cd {{path}} get . data/prepared/validation.csv --rev main -o {main_wines}")
    evaluate_cli(project, model, main_wines, fair)
    checks.check_fair_comparison((fair, winner_of_main(project, fair)), project)
    assert_not_quite(capsys, "03.4", "the comparison is right, but the project is at v1.0 (a detached HEAD)")


def winner_of_main(project, fair) -> str:
    main = json.loads(project.git("show", "main:metrics.json", show=False).output)
    return "v1.0" if json.loads(fair.read_text())["mae"] < main["mae"] else "v2.0"


def test_fair_comparison_back_on_main_without_dvc_checkout(capsys, fresh_release, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "reference_fair_comparison", lambda project, old, new: None)
    project, model = fresh_release, tmp_path / "old.joblib"
    old_model_by_time_travel(project, model, back_dvc=False)
    fair = checks.fair_metrics(project, "v1.0", "v2.0")
    winner = "v1.0" if fair["mae"] < project.metrics()["mae"] else "v2.0"  # metrics.json is in git: main's
    checks.check_fair_comparison((fair, winner), project)
    assert_not_quite(capsys, "03.4", "dvc status reports differences", "models/model.joblib modified", "dvc checkout")


def test_fair_comparison_on_the_old_wines_and_the_wrong_winner(capsys, released, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "reference_fair_comparison", lambda project, old, new: None)
    own = json.loads(released.git("show", "v1.0:metrics.json", show=False).output)
    checks.check_fair_comparison((own, "v1.0"), released)
    assert_not_quite(capsys, "03.4", "on 272 wines, v1.0's own validation wines", "the same wines")
    fair = checks.fair_metrics(released, "v1.0", "v2.0")
    right = "v1.0" if fair["mae"] < released.metrics()["mae"] else "v2.0"
    wrong = "v2.0" if right == "v1.0" else "v1.0"
    checks.check_fair_comparison((fair, wrong), released)
    assert_not_quite(capsys, "03.4", "the lower one wins")
    checks.check_fair_comparison((fair, "v3.0"), released)
    assert_not_quite(capsys, "03.4", "winner is 'v3.0'")


def test_fair_comparison_file_inside_the_project(capsys, fresh_release, monkeypatch):
    monkeypatch.setattr(checks, "reference_fair_comparison", lambda project, old, new: None)
    project = fresh_release
    fair = project.path / "fair.json"
    fair.write_text(json.dumps(checks.fair_metrics(project, "v1.0", "v2.0")))
    checks.check_fair_comparison((fair, winner_of(project, fair)), project)
    assert_not_quite(capsys, "03.4", "git status shows uncommitted changes (fair.json)")


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (("nowhere.json", "v2.0"), ["there is no file at nowhere.json"]),
        ((..., "v2.0"), ["fair is still ..."]),
        ((pd.DataFrame({"mae": [0.5]}), "v2.0"), ["fair is a DataFrame"]),
        (({"accuracy": 0.9}, "v2.0"), ["no number 'mae'"]),
        ("v2.0", ["the check takes (fair, winner)"]),
    ],
    ids=["no-file", "half-done", "dataframe", "no-mae", "not-a-pair"],
)
def test_fair_comparison_malformed_answers(capsys, released, answer, fragments, monkeypatch):
    monkeypatch.setattr(checks, "reference_fair_comparison", lambda project, old, new: None)
    checks.check_fair_comparison(answer, released)
    assert_not_quite(capsys, "03.4", *fragments)


def test_fair_comparison_without_the_releases(capsys, evaluated, monkeypatch):
    monkeypatch.setattr(checks, "reference_fair_comparison", lambda project, old, new: None)
    checks.check_fair_comparison(({"mae": 0.5}, "v2.0"), evaluated)
    assert_not_quite(capsys, "03.4", "the project has no releases v1.0 and v2.0")


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
