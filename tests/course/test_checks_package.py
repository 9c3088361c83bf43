"""The checks of module 02 are not vacuous: right answers pass, wrong ones get "not quite" and a hint.

For every exercise: the reference answer -> "correct"; typical mistakes -> "not quite" with what is
wrong and the hint; the placeholder `...` (or a function that returns `...`) -> "not solved yet";
an answer that crashes -> "not quite", never an exception out of the check.
"""

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from verdicts import assert_not_quite, verdict_of

from course.checks import package as checks
from workshop_lib import data, evaluate


def returns_placeholder(*args):
    return ...


def crashes(*args):
    raise RuntimeError("boom")


# --- 02.1 rmse ------------------------------------------------------------------------------------


def test_rmse_reference_is_correct(capsys):
    assert checks.check_rmse(checks.reference_rmse) is checks.reference_rmse
    assert verdict_of(capsys, "02.1")[0] == "correct"


def test_rmse_numpy_solution_is_correct(capsys):
    def rmse(y_true, y_pred):
        return np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2))

    assert checks.check_rmse(rmse) is rmse
    assert verdict_of(capsys, "02.1")[0] == "correct"


@pytest.mark.parametrize("answer", [..., returns_placeholder], ids=["placeholder", "function returning ..."])
def test_rmse_not_solved(capsys, answer):
    assert checks.check_rmse(answer) is checks.reference_rmse
    assert verdict_of(capsys, "02.1")[0] == "not solved yet"


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (lambda t, p: np.mean((np.asarray(t) - np.asarray(p)) ** 2), ["square root is missing"]),
        (lambda t, p: np.mean(np.abs(np.asarray(t) - np.asarray(p))), ["mean absolute error"]),
        (lambda t, p: np.sqrt(np.sum((np.asarray(t) - np.asarray(p)) ** 2)), ["divide by the number of wines"]),
        (lambda t, p: math.sqrt(sum((a - b) ** 2 for a, b in zip(t, p)) / len(t)) + 1, ["expected 1.2910"]),
        (
            lambda t, p: float(np.sqrt(np.mean((t - p) ** 2))),
            ["with plain lists raised TypeError"],
        ),  # works for arrays, not for lists
        (lambda t, p: np.sqrt((np.asarray(t) - np.asarray(p)) ** 2), ["one number"]),
        (lambda t, p: "1.29", ["one number"]),
        (lambda t, p: None, ["not a number"]),
        (crashes, ["raised RuntimeError: boom"]),
        (42, ["not a function"]),
    ],
    ids=["no-sqrt", "mae", "sum", "off-by-one", "lists", "array", "string", "none", "crash", "not-callable"],
)
def test_rmse_wrong_answers(capsys, answer, fragments):
    assert checks.check_rmse(answer) is checks.reference_rmse
    assert_not_quite(capsys, "02.1", *fragments)


# --- 02.2 check_ph --------------------------------------------------------------------------------


def test_check_ph_reference_is_correct(capsys):
    assert checks.check_ph_validation(checks.reference_check_ph) is checks.reference_check_ph
    assert verdict_of(capsys, "02.2")[0] == "correct"


@pytest.mark.parametrize("answer", [..., returns_placeholder], ids=["placeholder", "function returning ..."])
def test_check_ph_not_solved(capsys, answer):
    assert checks.check_ph_validation(answer) is checks.reference_check_ph
    assert verdict_of(capsys, "02.2")[0] == "not solved yet"


def never_raises(frame):
    return frame


def raises_value_error(frame):
    if ((frame["pH"] < 0) | (frame["pH"] > 14)).any():
        raise ValueError("pH out of range")
    return frame


def no_column_name(frame):
    bad = frame.index[(frame["pH"] < 0) | (frame["pH"] > 14)]
    if len(bad):
        raise data.DataValidationError(f"bad values in rows {list(bad)}")
    return frame


def no_rows(frame):
    if ((frame["pH"] < 0) | (frame["pH"] > 14)).any():
        raise data.DataValidationError("column 'pH' is out of range")
    return frame


def first_row_only(frame):
    bad = frame.index[(frame["pH"] < 0) | (frame["pH"] > 14)]
    if len(bad):
        raise data.DataValidationError(f"column 'pH' is out of range in row {bad[0]}")
    return frame


def excludes_the_ends(frame):
    bad = frame.index[(frame["pH"] <= 0) | (frame["pH"] >= 14)]
    if len(bad):
        raise data.DataValidationError(f"column 'pH' is out of range in rows {list(bad)}")
    return frame


def returns_nothing(frame):
    checks.reference_check_ph(frame)


def returns_a_copy_without_ph(frame):
    checks.reference_check_ph(frame)
    return frame.drop(columns="pH")


def checks_only_high_values(frame):
    bad = frame.index[frame["pH"] > 14]
    if len(bad):
        raise data.DataValidationError(f"column 'pH' is out of range in rows {list(bad)}")
    return frame


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (never_raises, ["did not raise", "pH 15 in row 104"]),
        (checks_only_high_values, ["pH -1 in row 107", "did not raise"]),
        (raises_value_error, ["raised ValueError", "expected data.DataValidationError"]),
        (no_column_name, ["does not name the column 'pH'"]),
        (no_rows, ["does not name row(s) [104]"]),
        (first_row_only, ["does not name row(s) [107]"]),
        (excludes_the_ends, ["exactly 14", "must pass"]),
        (returns_nothing, ["returned None"]),
        (returns_a_copy_without_ph, ["return the frame unchanged"]),
        (crashes, ["raised RuntimeError: boom", "must pass"]),
        ("pH", ["not a function"]),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else None,
)
def test_check_ph_wrong_answers(capsys, answer, fragments):
    assert checks.check_ph_validation(answer) is checks.reference_check_ph
    assert_not_quite(capsys, "02.2", *fragments)


def test_reference_check_ph_names_the_column_and_rows():
    frame = pd.DataFrame({"pH": [3.2, 15.0, 3.4, -1.0]}, index=[10, 11, 12, 13])
    with pytest.raises(data.DataValidationError, match=r"'pH'.*\[11, 13\]"):
        checks.reference_check_ph(frame)
    assert checks.reference_check_ph(frame.iloc[[0, 2]]) is not None


# --- 02.3 a unit test that catches planted bugs ------------------------------------------------------


def test_metrics_test_reference_is_correct(capsys):
    assert checks.check_metrics_test(checks.reference_metrics_test) is checks.reference_metrics_test
    assert verdict_of(capsys, "02.3")[0] == "correct"


def test_a_property_based_test_is_correct_too(capsys):
    def test_regression_metrics(metrics_function):
        perfect = metrics_function([5, 6, 7], [5, 6, 7])
        assert perfect["mae"] == 0 and perfect["rmse"] == 0 and perfect["r2"] == 1
        off = metrics_function([4, 6, 8], [5, 7, 9])  # always one point too high
        assert off["mae"] == pytest.approx(1)
        assert off["r2"] < 1
        mixed = metrics_function([5, 6, 7], [7, 6, 5])
        assert mixed["rmse"] == pytest.approx(math.sqrt(mixed["mse"]))

    checks.check_metrics_test(test_regression_metrics)
    assert verdict_of(capsys, "02.3")[0] == "correct"


@pytest.mark.parametrize("answer", [..., returns_placeholder], ids=["placeholder", "function returning ..."])
def test_metrics_test_not_solved(capsys, answer):
    assert checks.check_metrics_test(answer) is checks.reference_metrics_test
    assert verdict_of(capsys, "02.3")[0] == "not solved yet"


def only_perfect_predictions(metrics_function):
    metrics = metrics_function([5, 6, 7], [5, 6, 7])
    assert metrics["mae"] == 0 and metrics["rmse"] == 0 and metrics["r2"] == 1


def unit_errors(metrics_function):
    metrics = metrics_function([5, 6, 7], [6, 7, 8])  # every error is 1: MSE = RMSE, and MAE without abs is -1
    assert metrics["mae"] == pytest.approx(1)
    assert metrics["rmse"] == pytest.approx(1)


def wrong_expectation(metrics_function):
    assert metrics_function([5, 6, 7], [6, 6, 5])["mae"] == pytest.approx(2)


def crashes_on_correct(metrics_function):
    return metrics_function([5, 6, 7], [6, 6, 5])["MAE"]


def crashes_on_buggy(metrics_function):
    metrics = metrics_function([5, 6, 7], [6, 6, 5])
    if metrics["rmse"] == metrics["mse"]:
        raise KeyError("rmse")
    assert metrics["mae"] == pytest.approx(1)
    assert metrics["r2"] == pytest.approx(-1.5)


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (
            only_perfect_predictions,
            [
                "passes for 3 of the 3 buggy versions",
                "MAE without abs()",
                "RMSE without the square root",
                "squared correlation",
            ],
        ),
        (unit_errors, ["passes for 2 of the 3", "RMSE without the square root", "squared correlation"]),
        (wrong_expectation, ["fails for the correct regression_metrics"]),
        (crashes_on_correct, ["crashed for the correct regression_metrics with KeyError"]),
        (crashes_on_buggy, ["crashed instead of failing an assert", "RMSE without the square root"]),
        ("test", ["not a function"]),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else None,
)
def test_metrics_test_wrong_answers(capsys, answer, fragments):
    assert checks.check_metrics_test(answer) is checks.reference_metrics_test
    out = assert_not_quite(capsys, "02.3", *fragments)
    assert "pytest.approx" in out  # the hint


def test_every_planted_bug_differs_from_the_correct_metrics():
    correct = evaluate.regression_metrics([5, 6, 7], [6, 6, 5])
    for bug, buggy in checks.PLANTED_BUGS.items():
        assert buggy([5, 6, 7], [6, 6, 5]) != correct, bug


# --- 02.4 random-forest parameters -----------------------------------------------------------------


def rf_params(**train) -> dict:
    params = {
        "data": {"source": "red", "test_size": 0.2, "seed": 42},
        "train": {"model": "random_forest", "n_estimators": 100, "max_depth": 8},
    }
    params["train"].update(train)
    return params


def test_rf_params_reference_is_correct(capsys):
    answer = rf_params()
    assert checks.check_random_forest_params(answer) is answer
    assert verdict_of(capsys, "02.4")[0] == "correct"


def test_rf_params_not_solved(capsys):
    assert checks.check_random_forest_params(...) == checks.REFERENCE_RF_PARAMS
    assert verdict_of(capsys, "02.4")[0] == "not solved yet"


class ExplodingDict(dict):
    def get(self, *args):
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (rf_params(n_estimators="200"), ["'train.n_estimators' must be a whole number >= 1, got '200'"]),
        (rf_params(n_estimators=200.0), ["'train.n_estimators' must be a whole number"]),
        (rf_params(max_depth=0), ["'train.max_depth'"]),
        (
            {"data": {"source": "red", "test_size": 0.2, "seed": 42}, "train": {"model": "random_forest"}},
            ["missing key 'train.n_estimators'"],
        ),
        (rf_params(model="randomforest"), ["'train.model' must be one of baseline, elasticnet, random_forest"]),
        (
            {
                "data": {"source": "red", "test_size": 0.2, "seed": 42},
                "train": {"model": "elasticnet", "alpha": 1, "l1_ratio": 0.5},
            },
            ["asks for a random forest"],
        ),
        (rf_params(n_estimators=5000), ["5000 trees take long"]),
        (rf_params(n_estimators=np.int64(100)), ["'train.n_estimators' must be a whole number"]),
        ("model: random_forest", ["write a dict"]),
        (ExplodingDict(), ["RuntimeError: boom"]),
    ],
    ids=["string", "float", "depth-0", "missing", "typo", "elasticnet", "too-many", "numpy-int", "yaml-text", "crash"],
)
def test_rf_params_wrong_answers(capsys, answer, fragments):
    assert checks.check_random_forest_params(answer) == checks.REFERENCE_RF_PARAMS
    out = assert_not_quite(capsys, "02.4", *fragments)
    assert "random_forest" in out  # the hint


def test_rf_reference_is_a_fresh_copy(capsys):
    first = checks.check_random_forest_params(...)
    first["train"]["n_estimators"] = 1
    assert checks.REFERENCE_RF_PARAMS["train"]["n_estimators"] == 200
    capsys.readouterr()


# --- alternative correct answers: written another way than the solution notebook, they get "correct" too ------------


def test_rmse_with_a_plain_python_loop_is_correct(capsys):
    def rmse(y_true, y_pred):
        total = 0.0
        for truth, predicted in zip(y_true, y_pred):  # a Series iterates over its values, like a list
            total += (truth - predicted) ** 2
        return math.sqrt(total / len(y_true))

    assert checks.check_rmse(rmse) is rmse
    assert verdict_of(capsys, "02.1")[0] == "correct"


def test_rmse_with_sklearn_mean_squared_error_is_correct(capsys):
    def rmse(y_true, y_pred):
        return float(mean_squared_error(y_true, y_pred) ** 0.5)

    assert checks.check_rmse(rmse) is rmse
    assert verdict_of(capsys, "02.1")[0] == "correct"


def test_check_ph_with_between_and_a_row_list_is_correct(capsys):
    def check_ph(frame):
        inside = frame["pH"].between(0, 14)  # both ends included
        if not inside.all():
            rows = ", ".join(str(row) for row in frame.index[~inside])
            raise data.DataValidationError(f"pH out of range [0, 14] at rows {rows}")
        return frame

    assert checks.check_ph_validation(check_ph) is check_ph
    assert verdict_of(capsys, "02.2")[0] == "correct"


def test_check_ph_with_a_loop_over_the_rows_is_correct(capsys):
    def check_ph(frame):
        bad = [index for index, value in frame["pH"].items() if not 0 <= value <= 14]
        if bad:
            raise data.DataValidationError(f"column 'pH': bad values in rows {bad}")
        return frame

    assert checks.check_ph_validation(check_ph) is check_ph
    assert verdict_of(capsys, "02.2")[0] == "correct"


def test_metrics_test_against_sklearn_is_correct(capsys):
    def test_regression_metrics(metrics_function):
        y_true, y_pred = [3, 5, 6, 8], [4, 5, 4, 9]  # errors in both directions
        metrics = metrics_function(y_true, y_pred)
        assert metrics["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred))
        assert metrics["rmse"] == pytest.approx(mean_squared_error(y_true, y_pred) ** 0.5)
        assert metrics["r2"] == pytest.approx(r2_score(y_true, y_pred))

    checks.check_metrics_test(test_regression_metrics)
    assert verdict_of(capsys, "02.3")[0] == "correct"


def test_rf_params_read_from_yaml_text_is_correct(capsys):
    answer = yaml.safe_load(
        "train:\n  max_depth: null\n  n_estimators: 300\n  model: random_forest\n"
        "data:\n  seed: 42\n  test_size: 0.2\n  source: red\n"
    )  # the sections and keys in another order, no depth limit
    assert checks.check_random_forest_params(answer) is answer
    assert verdict_of(capsys, "02.4")[0] == "correct"
