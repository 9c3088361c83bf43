"""`python -m workshop_lib train`, run the way DVC runs it: a separate process in some working directory.

Good parameters write the model and its metrics; bad input ends in exactly one line "error: ..."
on stderr with exit code 1, and writes nothing (no half-finished model for a pipeline to pick up).
"""

import json
import subprocess
import sys

import joblib
import pytest
import yaml

from workshop_lib import data

GOOD = {
    "data": {"source": "red", "test_size": 0.2, "seed": 42},
    "train": {"model": "elasticnet", "alpha": 0.1, "l1_ratio": 0.5},
}


def train_cli(tmp_path, settings: dict):
    """Run the CLI in tmp_path with `settings` as params.yaml; outputs go to tmp_path/out/."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings))
    command = [
        sys.executable,
        "-m",
        "workshop_lib",
        "train",
        "--params",
        "params.yaml",
        "--model",
        "out/model.joblib",
        "--metrics",
        "out/metrics.json",
        "--predictions",
        "out/predictions.csv",
    ]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_good_params_write_model_metrics_and_predictions(tmp_path):
    result = train_cli(tmp_path, GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warnings, no noise: a clean run is quiet
    assert "trained elasticnet on 1087 wines" in result.stdout
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert {"mae", "rmse", "r2", "mse"} <= set(metrics)
    assert 0 < metrics["mae"] < 1 and metrics["n_test"] == 272
    model = joblib.load(tmp_path / "out" / "model.joblib")
    assert len(model.predict(data.load_wine("red")[data.FEATURES].head(3))) == 3
    assert (tmp_path / "out" / "predictions.csv").read_text().startswith("actual,predicted\n")


def without(section, key):
    changed = {name: dict(block) for name, block in GOOD.items()}
    del changed[section][key]
    return changed


def changed(section, key, value):
    settings = {name: dict(block) for name, block in GOOD.items()}
    settings[section][key] = value
    return settings


@pytest.mark.parametrize(
    "settings, named",
    [
        (without("train", "l1_ratio"), "'train.l1_ratio'"),
        (changed("train", "alpha", "0.1"), "'train.alpha'"),
    ],
    ids=["missing_key", "wrong_type"],
)
def test_bad_params_end_in_one_error_line_and_write_nothing(tmp_path, settings, named):
    result = train_cli(tmp_path, settings)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert named in result.stderr
    assert not (tmp_path / "out").exists()


def test_data_that_fails_validation_ends_in_one_error_line_and_writes_nothing(tmp_path):
    frame = data.load_wine("red").head(50)
    frame.loc[7, "pH"] = 15  # data row 7 is line 9 of the file
    frame.to_csv(tmp_path / "batch.csv", index=False)
    result = train_cli(tmp_path, changed("data", "source", "batch.csv"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: batch.csv: column 'pH'") and result.stderr.count("\n") == 1, result.stderr
    assert "lines 9" in result.stderr
    assert not (tmp_path / "out").exists()


def test_data_too_small_to_split_ends_in_one_error_line_not_a_traceback(tmp_path):
    """Valid rows, but three copies of one wine: after de-duplication nothing is left to train on."""
    frame = data.load_wine("red").iloc[[0, 0, 0]]
    frame.to_csv(tmp_path / "one_wine.csv", index=False)
    result = train_cli(tmp_path, changed("data", "source", "one_wine.csv"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "out").exists()
