"""`prepare`, `fit` and `evaluate`: the one-shot `train` command split into the stages a DVC pipeline runs.

Run one after the other they must give exactly the metrics of `train`; each fails alone with one
"error:" line and writes nothing, so a pipeline never records a half-made output.
"""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from workshop_lib import data
from workshop_lib.config import WINE_DATA_DIR

SETTINGS = {
    "data": {"source": str(WINE_DATA_DIR / data.WINE_FILES["red"]), "test_size": 0.2, "seed": 42},
    "train": {"model": "elasticnet", "alpha": 0.1, "l1_ratio": 0.5},
}


def cli(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "workshop_lib", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def assert_one_error_line(result, *named):
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for text in named:
        assert text in result.stderr


@pytest.fixture(scope="module")
def stages_run(tmp_path_factory):
    """prepare -> fit -> evaluate in one folder, as dvc repro would run them."""
    folder = tmp_path_factory.mktemp("stages")
    (folder / "params.yaml").write_text(yaml.safe_dump(SETTINGS))
    runs = [
        cli(folder, "prepare", "--params", "params.yaml", "--out", "prepared"),
        cli(folder, "fit", "--params", "params.yaml", "--data", "prepared/train.csv", "--model", "model.joblib"),
        cli(
            folder,
            "evaluate",
            "--model",
            "model.joblib",
            "--data",
            "prepared/test.csv",
            "--metrics",
            "metrics.json",
            "--predictions",
            "eval/predictions.csv",
            "--plot",
            "eval/plot.png",
        ),
    ]
    return folder, runs


def test_each_stage_succeeds_quietly(stages_run):
    _, runs = stages_run
    for run in runs:
        assert run.returncode == 0 and run.stderr == "", run.stderr
    assert "1599 wines, 240 duplicates removed, 1087 to train, 272 to test" in runs[0].stdout


def test_prepare_writes_a_split_without_duplicates_or_overlap(stages_run):
    folder, _ = stages_run
    train, test = (pd.read_csv(folder / "prepared" / f"{name}.csv") for name in ("train", "test"))
    assert list(train.columns) == list(data.SCHEMA) == list(test.columns)
    assert (len(train), len(test)) == (1087, 272)
    assert not train.duplicated().any() and train.merge(test, how="inner").empty


def test_the_stages_give_the_metrics_of_the_one_shot_train_command(stages_run, tmp_path):
    folder, _ = stages_run
    staged = json.loads((folder / "metrics.json").read_text())
    one_shot = cli(
        folder,
        "train",
        "--params",
        "params.yaml",
        "--model",
        str(tmp_path / "m.joblib"),
        "--metrics",
        str(tmp_path / "metrics.json"),
    )
    assert one_shot.returncode == 0, one_shot.stderr
    expected = json.loads((tmp_path / "metrics.json").read_text())
    for name in ("mae", "rmse", "r2", "mse", "good_found_per_100", "false_alarms_per_100"):
        assert staged[name] == pytest.approx(expected[name], abs=1e-12), name
    assert staged["n_wines"] == expected["n_test"]


def test_evaluate_writes_predictions_for_dvc_plots_and_a_png(stages_run):
    folder, _ = stages_run
    predictions = pd.read_csv(folder / "eval" / "predictions.csv")
    assert list(predictions.columns) == ["actual", "predicted"] and len(predictions) == 272
    assert (folder / "eval" / "plot.png").read_bytes().startswith(b"\x89PNG")


def test_prepare_checks_only_the_data_section(tmp_path):
    """A broken train: section is the train stage's business; prepare must not fail on it."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"data": SETTINGS["data"], "train": {"model": "nonsense"}}))
    result = cli(tmp_path, "prepare", "--params", "params.yaml", "--out", "prepared")
    assert result.returncode == 0, result.stderr


def test_prepare_with_a_wrong_type_fails_in_one_line_and_writes_nothing(tmp_path):
    bad = {"data": {**SETTINGS["data"], "test_size": "20%"}, "train": SETTINGS["train"]}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    assert_one_error_line(cli(tmp_path, "prepare", "--params", "params.yaml", "--out", "prepared"), "'data.test_size'")
    assert not (tmp_path / "prepared").exists()


def test_fit_with_a_missing_key_fails_in_one_line_and_writes_nothing(stages_run, tmp_path):
    folder, _ = stages_run
    bad = {"data": SETTINGS["data"], "train": {"model": "elasticnet", "alpha": 0.1}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    result = cli(
        tmp_path,
        "fit",
        "--params",
        "params.yaml",
        "--data",
        str(folder / "prepared" / "train.csv"),
        "--model",
        "model.joblib",
    )
    assert_one_error_line(result, "'train.l1_ratio'")
    assert not (tmp_path / "model.joblib").exists()


def test_evaluate_without_a_model_says_which_stage_to_run(stages_run, tmp_path):
    folder, _ = stages_run
    result = cli(
        tmp_path,
        "evaluate",
        "--model",
        "missing.joblib",
        "--data",
        str(folder / "prepared" / "test.csv"),
        "--metrics",
        "metrics.json",
    )
    assert_one_error_line(result, "missing.joblib", "fit stage")
    assert not (tmp_path / "metrics.json").exists()


def test_prepare_with_a_validation_size_writes_three_disjoint_parts_and_keeps_the_test_wines(tmp_path):
    """Settings are chosen on validation.csv; test.csv stays the same wines as without validation."""
    settings = {**SETTINGS, "data": {**SETTINGS["data"], "validation_size": 0.2}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings))
    result = cli(tmp_path, "prepare", "--params", "params.yaml", "--out", "prepared")
    assert result.returncode == 0, result.stderr
    assert "815 to train, 272 to validate, 272 to test" in result.stdout
    train, validation, test = (pd.read_csv(tmp_path / "prepared" / f"{n}.csv") for n in ("train", "validation", "test"))
    assert train.merge(validation).empty and train.merge(test).empty and validation.merge(test).empty
    _, x_test, _, _ = data.split(data.load_wine("red"), 0.2, 42)
    assert sorted(map(tuple, test[data.FEATURES].to_numpy())) == sorted(map(tuple, x_test.to_numpy()))


def test_prepare_refuses_a_validation_size_that_leaves_nothing_to_train_on(tmp_path):
    settings = {**SETTINGS, "data": {**SETTINGS["data"], "validation_size": 0.8}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings))
    result = cli(tmp_path, "prepare", "--params", "params.yaml", "--out", "prepared")
    assert result.returncode == 1 and "validation_size" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "prepared").exists()
