"""Build and train the course's models, always as Pipelines with the preprocessing inside."""

import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import ElasticNet
from sklearn.pipeline import Pipeline, make_pipeline

from workshop_lib import data, evaluate, features, params


def build_model(train_params: dict) -> Pipeline:
    """A fresh, unfitted Pipeline from the `train` section of the parameters.

    The keys each model needs, and the values they allow, are params.RULES (load_params checks them first).
    """
    name = train_params["model"]
    seed = train_params.get("seed", 42)
    if name == "baseline":
        return make_pipeline(DummyRegressor(strategy="mean"))
    if name == "elasticnet":
        return make_pipeline(
            features.scaler(),
            ElasticNet(alpha=train_params["alpha"], l1_ratio=train_params["l1_ratio"], random_state=seed),
        )
    if name == "random_forest":
        return make_pipeline(
            RandomForestRegressor(
                n_estimators=train_params["n_estimators"],
                max_depth=train_params["max_depth"],
                random_state=seed,
                n_jobs=1,
            )
        )
    raise ValueError(f"unknown model {name!r}: use {', '.join(params.MODELS[:-1])} or {params.MODELS[-1]}")


def fit(settings: dict, x_train: pd.DataFrame, y_train: pd.Series) -> Pipeline:
    """Build the model that settings["train"] describes and fit it (the seed comes from settings["data"])."""
    model = build_model({**settings["train"], "seed": settings["data"]["seed"]})
    return model.fit(x_train, y_train)


def score(model: Pipeline, x_test: pd.DataFrame, y_test: pd.Series) -> tuple[dict, pd.DataFrame]:
    """Held-out metrics (MAE & co. and the business view: good wines found per 100) and the predictions."""
    predicted = model.predict(x_test)
    metrics = evaluate.regression_metrics(y_test, predicted) | evaluate.good_wine_flags(y_test, predicted)
    return metrics, pd.DataFrame({"actual": y_test.to_numpy(), "predicted": predicted})


def train_and_evaluate(settings: dict, frame: pd.DataFrame | None = None) -> tuple[Pipeline, dict, pd.DataFrame]:
    """Load (or take) the data, split it, fit, and score on the held-out rows: all stages in one call.

    The held-out rows are the validation wines when settings["data"] has a validation_size (choosing
    between settings), else the test wines. Returns the fitted model, the metrics (with n_train and
    n_validation or n_test) and the held-out predictions (actual, predicted).
    Module 03 runs the same steps as separate DVC stages (prepare, train, evaluate).
    """
    frame = data.load_wine(settings["data"]["source"]) if frame is None else frame
    parts = data.split_parts(frame, settings["data"])
    held_out = "validation" if "validation" in parts else "test"
    (x_train, y_train), (x_held, y_held) = parts["train"], parts[held_out]
    model = fit(settings, x_train, y_train)
    metrics, predictions = score(model, x_held, y_held)
    return model, metrics | {"n_train": len(x_train), f"n_{held_out}": len(x_held)}, predictions


def save(model: Pipeline, metrics: dict, model_path: Path, metrics_path: Path) -> None:
    """The model (joblib) and its metrics (JSON) where the DVC stage declares its outputs; missing folders are made."""
    for path in (model_path, metrics_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)
    Path(metrics_path).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
