"""Checks for module 02, from notebook to package: one public function per exercise.

02.1 check_rmse                  a notebook cell turned into a function: rmse(y_true, y_pred)
02.2 check_ph_validation         one validation rule: check_ph(frame) raises DataValidationError
02.3 check_metrics_test          a unit test that must catch planted bugs in a metrics function
02.4 check_random_forest_params  a params dict the command line accepts for a random forest

Each judge calls the participant's code case by case, so a wrong answer gets a sentence naming the
case that failed, not a traceback. The reference results let the notebook go on when an answer is wrong.
"""

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import yaml
from numpy.typing import ArrayLike

from course.checks import first_line, solved, verdict
from workshop_lib import data, evaluate
from workshop_lib.params import MODELS, ParamsError, validate_params

# --- 02.1 rmse --------------------------------------------------------------------------------------


def reference_rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, in quality points: large errors count more than in the MAE."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


# (what the case is, y_true, y_pred): arrays first, so "works for arrays but not for lists" is reported as such.
RMSE_CASES = [
    ("NumPy arrays", np.array([5.0, 6.0, 7.0]), np.array([6.0, 6.0, 5.0])),
    ("plain lists", [5, 6, 7], [6, 6, 5]),
    ("pandas Series", pd.Series([3, 8]), pd.Series([4.5, 6.0])),
    ("a perfect prediction", [5, 6, 7], [5, 6, 7]),
    ("a single wine", [6], [4]),
]


def _describe_rmse_mistake(got: float, y_true: ArrayLike, y_pred: ArrayLike) -> str:
    errors = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    known = {
        "the mean squared error: the square root is missing": np.mean(errors**2),
        "the mean absolute error, not the root mean squared error": np.mean(np.abs(errors)),
        "the square root of the sum of squared errors: divide by the number of wines before the root": np.sqrt(
            np.sum(errors**2)
        ),
    }
    for meaning, value in known.items():
        if math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12):
            return f", which is {meaning}"
    return ""


def _judge_rmse(answer: Any) -> str | None:
    if not callable(answer):
        return f"rmse is a {type(answer).__name__}, not a function: define it with def rmse(y_true, y_pred):"
    for what, y_true, y_pred in RMSE_CASES:
        shown = f"rmse({list(np.asarray(y_true).tolist())}, {list(np.asarray(y_pred).tolist())}) with {what}"
        try:
            got = answer(y_true.copy(), y_pred.copy())
        except Exception as error:  # noqa: BLE001 - a participant's function may fail in any way
            return f"{shown} raised {first_line(error)}"
        got = solved(got)
        if isinstance(got, (str, bytes, bool)) or np.ndim(got) != 0:
            return f"{shown} returned {got!r}, not one number: reduce the errors to a single value"
        try:
            got = float(got)
        except (TypeError, ValueError):
            return f"{shown} returned {got!r}, which is not a number"
        expected = reference_rmse(y_true, y_pred)
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            return f"{shown} returned {got:.4f}, expected {expected:.4f}{_describe_rmse_mistake(got, y_true, y_pred)}"
    return None


def check_rmse(answer: Any) -> Any:
    """Exercise 02.1: rmse(y_true, y_pred) for lists, arrays and Series; the reference function if wrong."""
    return verdict(
        "02.1",
        answer,
        _judge_rmse,
        hint="turn both inputs into arrays first, y_true = np.asarray(y_true, dtype=float) (lists cannot be "
        "subtracted), then square the errors, take their mean and its square root, and return float(...).",
        reference=lambda: reference_rmse,
        success="rmse works for lists, NumPy arrays and pandas Series, and returns one number.",
    )


# --- 02.2 check_ph ----------------------------------------------------------------------------------

PH_LOW, PH_HIGH = data.SCHEMA["pH"]


def reference_check_ph(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame unchanged if every pH lies in [0, 14]; else a DataValidationError naming 'pH' and the bad rows."""
    outside = (frame["pH"] < PH_LOW) | (frame["pH"] > PH_HIGH)
    if outside.any():
        bad = frame.index[outside]
        raise data.DataValidationError(
            f"column 'pH' has values outside [{PH_LOW}, {PH_HIGH}] in rows {list(bad)}: {frame.loc[bad, 'pH'].tolist()}"
        )
    return frame


def _ph_frames() -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, pd.DataFrame, list[int]]]]:
    """A good frame (rows 100-109 of the red wines), one with pH exactly 0 and 14, and bad ones with their bad rows."""
    good = data.load_wine("red").iloc[100:110].copy()
    edges = good.copy()
    edges.loc[102, "pH"], edges.loc[105, "pH"] = float(PH_HIGH), float(PH_LOW)
    bad = []
    for what, changes in (
        ("pH 15 in row 104", {104: 15.0}),
        ("pH -1 in row 107", {107: -1.0}),
        ("pH 15 in row 104 and -1 in row 107", {104: 15.0, 107: -1.0}),
    ):
        frame = good.copy()
        for row, value in changes.items():
            frame.loc[row, "pH"] = value
        bad.append((what, frame, list(changes)))
    return good, edges, bad


def _judge_ph(answer: Any) -> str | None:
    if not callable(answer):
        return f"check_ph is a {type(answer).__name__}, not a function: define it with def check_ph(frame):"
    good, edges, bad = _ph_frames()
    for what, frame in (
        ("a frame whose pH values all lie between 0 and 14", good),
        ("a frame with a pH of exactly 0 and exactly 14 (the range includes its ends)", edges),
    ):
        try:
            result = answer(frame.copy())
        except Exception as error:  # noqa: BLE001
            return f"for {what} it raised {first_line(error)}; a good frame must pass"
        result = solved(result)
        if result is None:
            return f"for {what} it returned None: return the frame, so that frame = check_ph(frame) works"
        if not isinstance(result, pd.DataFrame) or not result.equals(frame):
            return (
                f"for {what} it returned a {type(result).__name__} that differs from the frame: "
                "return the frame unchanged"
            )
    for what, frame, rows in bad:
        try:
            result = answer(frame.copy())
        except data.DataValidationError as error:
            message = str(error)
            if "pH" not in message:
                return f"for a frame with {what} the message does not name the column 'pH': {message!r}"
            missing = [row for row in rows if str(row) not in message]
            if missing:
                return (
                    f"for a frame with {what} the message does not name row(s) {missing}: {message!r}; "
                    "name every bad row's index"
                )
        except Exception as error:  # noqa: BLE001
            return (
                f"for a frame with {what} it raised {first_line(error)}, expected data.DataValidationError "
                "(the error callers catch for bad data)"
            )
        else:
            solved(result)
            return f"for a frame with {what} it did not raise: it should raise data.DataValidationError"
    return None


def check_ph_validation(answer: Any) -> Any:
    """Exercise 02.2: check_ph(frame) passes good frames and rejects pH outside [0, 14]; the reference if wrong."""
    return verdict(
        "02.2",
        answer,
        _judge_ph,
        hint="build a mask of the bad rows, outside = (frame['pH'] < 0) | (frame['pH'] > 14); if outside.any(), "
        "raise data.DataValidationError(f\"column 'pH' ... in rows {list(frame.index[outside])}\"); "
        "otherwise return frame.",
        reference=lambda: reference_check_ph,
        success="good frames pass unchanged (0 and 14 included); pH 15 and -1 stop with a DataValidationError "
        "that names 'pH' and the bad rows.",
    )


# --- 02.3 a unit test that catches planted bugs ------------------------------------------------------


def _mae_without_abs(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    metrics = evaluate.regression_metrics(y_true, y_pred)
    metrics["mae"] = float(np.mean(np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)))
    return metrics


def _rmse_without_sqrt(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    metrics = evaluate.regression_metrics(y_true, y_pred)
    metrics["rmse"] = metrics["mse"]
    return metrics


def _r2_as_squared_correlation(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    metrics = evaluate.regression_metrics(y_true, y_pred)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        metrics["r2"] = float(np.corrcoef(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))[0, 1] ** 2)
    return metrics


PLANTED_BUGS = {
    "MAE without abs() (errors of opposite sign cancel out)": _mae_without_abs,
    "RMSE without the square root (it returns the MSE)": _rmse_without_sqrt,
    "R² computed as the squared correlation "
    "(blind to a model that is always off by the same amount)": _r2_as_squared_correlation,
}


def _approx(expected: float):
    """pytest.approx, imported only when a test runs: the checks must not need pytest at import time."""
    import pytest

    return pytest.approx(expected)


def reference_metrics_test(metrics_function: Any) -> None:
    """One hand-computed case with errors in both directions catches all three planted bugs."""
    metrics = metrics_function([5, 6, 7], [6, 6, 5])  # errors -1, 0, +2
    assert metrics["mae"] == _approx(1.0)
    assert metrics["mse"] == _approx(5 / 3)
    assert metrics["rmse"] == _approx(math.sqrt(5 / 3))
    assert metrics["r2"] == _approx(1 - 5 / 2)  # squared errors 5, spread around the mean 2


def _judge_metrics_test(answer: Any) -> str | None:
    if not callable(answer):
        return f"your test is a {type(answer).__name__}, not a function: def test_regression_metrics(metrics_function):"
    try:
        result = answer(evaluate.regression_metrics)
    except AssertionError as error:
        detail = f" ({str(error).splitlines()[0]})" if str(error).strip() else ""
        return (
            f"your test fails for the correct regression_metrics{detail}: a test must pass when the code is right; "
            "check the values you expect"
        )
    except Exception as error:  # noqa: BLE001
        return f"your test crashed for the correct regression_metrics with {first_line(error)}"
    solved(result)
    uncaught, crashed = [], []
    for bug, buggy in PLANTED_BUGS.items():
        try:
            answer(buggy)
        except AssertionError:
            continue
        except Exception as error:  # noqa: BLE001
            crashed.append(f"{bug}: {first_line(error)}")
        else:
            uncaught.append(bug)
    if uncaught:
        return (
            f"your test passes for {len(uncaught)} of the {len(PLANTED_BUGS)} buggy versions, so it would not "
            f"catch: {'; '.join(uncaught)}"
        )
    if crashed:
        return f"your test crashed instead of failing an assert for: {'; '.join(crashed)}"
    return None


def check_metrics_test(answer: Any) -> Any:
    """Exercise 02.3: the participant's test passes for regression_metrics and fails for every planted bug."""
    return verdict(
        "02.3",
        answer,
        _judge_metrics_test,
        hint="compute one small case by hand with errors in both directions, e.g. y_true [5, 6, 7] and "
        "y_pred [6, 6, 5] (errors -1, 0, +2): MAE 1, MSE 5/3, RMSE √(5/3), R² 1 - 5/2 = -1.5; "
        "assert each with pytest.approx.",
        reference=lambda: reference_metrics_test,
        success=f"your test passes for the correct regression_metrics and fails for all "
        f"{len(PLANTED_BUGS)} planted bugs.",
    )


# --- 02.4 random-forest parameters --------------------------------------------------------------------

MAX_TREES = 500
REFERENCE_RF_PARAMS = {
    "data": {"source": "red", "test_size": 0.2, "seed": 42},
    "train": {"model": "random_forest", "n_estimators": 200, "max_depth": None},
}


def _judge_rf_params(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"rf_params is a {type(answer).__name__}: write a dict with two sections, 'data' and 'train'"
    try:
        validate_params(answer, "rf_params")
    except ParamsError as error:
        return str(error)
    model = answer["train"]["model"]
    if model != "random_forest":
        return f"'train.model' is {model!r}: this exercise asks for a random forest, 'random_forest'"
    if answer["train"]["n_estimators"] > MAX_TREES:
        return (
            f"{answer['train']['n_estimators']} trees take long to train here: use {MAX_TREES} or fewer "
            "(100 to 300 is plenty for 1,087 wines)"
        )
    try:
        round_trip = yaml.safe_load(yaml.safe_dump(answer))
    except yaml.YAMLError as error:
        return f"rf_params cannot be written to a YAML file ({' '.join(str(error).split())})"
    if round_trip != answer:
        return "rf_params changes when written to YAML and read back: use plain str, int, float and None values"
    return None


def check_random_forest_params(answer: Any) -> Any:
    """Exercise 02.4: a params dict that `python -m workshop_lib train` accepts for a random forest."""
    return verdict(
        "02.4",
        answer,
        _judge_rf_params,
        hint="keep the data section of the lesson's params dict; the train section needs 'model' "
        f"(one of {', '.join(MODELS)}), 'n_estimators' (a whole number such as 200, not '200' or 200.0) "
        "and 'max_depth' (a whole number, or None for no limit).",
        reference=lambda: {section: dict(values) for section, values in REFERENCE_RF_PARAMS.items()},
        success="the command line accepts these parameters for a random forest.",
    )
