"""Models are built as Pipelines from the parameters, and a saved model predicts exactly like the live one."""

import json

import joblib
import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import ElasticNet
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from workshop_lib import data, train

TRAIN_PARAMS = {
    "baseline": {"model": "baseline"},
    "elasticnet": {"model": "elasticnet", "alpha": 0.1, "l1_ratio": 0.5},
    "random_forest": {"model": "random_forest", "n_estimators": 10, "max_depth": 4},
}


@pytest.fixture(scope="module")
def red_split():
    return data.split(data.load_wine("red"), test_size=0.2, seed=42)


@pytest.mark.parametrize("name", sorted(TRAIN_PARAMS))
def test_build_model_gives_a_fresh_unfitted_pipeline(name):
    model = train.build_model(TRAIN_PARAMS[name])
    assert isinstance(model, Pipeline)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_baseline_predicts_the_training_mean():
    assert isinstance(train.build_model(TRAIN_PARAMS["baseline"])[-1], DummyRegressor)


def test_elasticnet_scales_inside_the_pipeline_and_takes_its_parameters():
    """The scaler is part of the model: fitted on training rows only, applied the same way at serving time."""
    model = train.build_model({**TRAIN_PARAMS["elasticnet"], "seed": 7})
    scaler, regressor = (step for _, step in model.steps)
    assert isinstance(scaler, StandardScaler) and isinstance(regressor, ElasticNet)
    assert (regressor.alpha, regressor.l1_ratio, regressor.random_state) == (0.1, 0.5, 7)


def test_random_forest_takes_its_parameters_and_the_seed():
    forest = train.build_model({**TRAIN_PARAMS["random_forest"], "seed": 7})[-1]
    assert isinstance(forest, RandomForestRegressor)
    assert (forest.n_estimators, forest.max_depth, forest.random_state) == (10, 4, 7)


def test_two_builds_are_independent_objects():
    first, second = (train.build_model(TRAIN_PARAMS["elasticnet"]) for _ in range(2))
    assert first[-1] is not second[-1]


def test_unknown_model_name_is_refused():
    with pytest.raises(ValueError, match="unknown model 'xgboost'"):
        train.build_model({"model": "xgboost"})


def test_train_and_evaluate_scores_on_the_held_out_wines():
    settings = {"data": {"source": "red", "test_size": 0.2, "seed": 42}, "train": TRAIN_PARAMS["elasticnet"]}
    model, metrics, predictions = train.train_and_evaluate(settings)
    check_is_fitted(model)
    assert {"mae", "rmse", "r2", "mse"} <= set(metrics)
    assert (metrics["n_train"], metrics["n_test"]) == (1087, 272)  # 1359 unique red wines, 20 % held out
    assert list(predictions.columns) == ["actual", "predicted"] and len(predictions) == metrics["n_test"]
    assert metrics["mae"] == pytest.approx((predictions["actual"] - predictions["predicted"]).abs().mean())


def test_save_writes_a_model_that_predicts_identically_and_the_metrics(red_split, tmp_path):
    x_train, x_test, y_train, _ = red_split
    model = train.build_model(TRAIN_PARAMS["elasticnet"]).fit(x_train, y_train)
    metrics = {"mae": 0.5, "rmse": 0.6, "r2": 0.4, "mse": 0.36, "n_train": 1087, "n_test": 272}
    model_path, metrics_path = tmp_path / "out" / "model.joblib", tmp_path / "metrics" / "metrics.json"

    train.save(model, metrics, model_path, metrics_path)  # creates the missing folders

    reloaded = joblib.load(model_path)
    np.testing.assert_array_equal(reloaded.predict(x_test), model.predict(x_test))
    assert json.loads(metrics_path.read_text()) == metrics
