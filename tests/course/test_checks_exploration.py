"""The checks of module 01 say "correct" to right answers, "not quite" (with a hint) to wrong ones and
"not solved yet" to the placeholder; they never raise, and they always hand back something usable."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
)
from sklearn.model_selection import train_test_split

from course.checks import exploration
from workshop_lib.config import WINE_DATA_DIR


@pytest.fixture(scope="module")
def red() -> pd.DataFrame:
    return pd.read_csv(WINE_DATA_DIR / "winequality-red.csv")


@pytest.fixture(scope="module")
def split(red):
    """(X_train, y_train, X_test, y_test): the order check_baseline_mae takes them in."""
    unique = red.drop_duplicates()
    x_train, x_test, y_train, y_test = train_test_split(
        unique.drop(columns="quality"), unique["quality"], test_size=0.2, random_state=42
    )
    return x_train, y_train, x_test, y_test


@pytest.fixture(scope="module")
def good_wine():
    """Truth and flags like the notebook's: 10 good wines of 80, the model flags 4 (3 of them good)."""
    truth = np.array([1] * 10 + [0] * 70)
    flags = np.array([1, 1, 1] + [0] * 7 + [1] + [0] * 69)
    return truth, flags


def verdict_of(capsys) -> str:
    return capsys.readouterr().out


def assert_correct(out: str, exercise: str):
    assert f"Exercise {exercise} — correct" in out, out


def assert_not_quite(out: str, exercise: str, *words: str):
    assert f"Exercise {exercise} — not quite" in out, out
    assert "Hint:" in out and "reference result" in out, out
    for word in words:
        assert word in out, f"{word!r} not in {out!r}"


def assert_not_solved(out: str, exercise: str):
    assert f"Exercise {exercise} — not solved yet" in out, out


# 01.1 -------------------------------------------------------------------------------------------


def test_duplicates_correct_answer_is_returned(red, capsys):
    unique = red.drop_duplicates()
    count, frame = exploration.check_duplicates(red.duplicated().sum(), unique, red)
    assert_correct(verdict_of(capsys), "01.1")
    assert count == 240 and frame is unique


def test_duplicates_in_another_order_are_still_correct(red, capsys):
    unique = red.drop_duplicates().sort_values("alcohol")
    exploration.check_duplicates(240, unique, red)
    assert_correct(verdict_of(capsys), "01.1")


def test_duplicates_counting_every_copy_is_explained(red, capsys):
    count, frame = exploration.check_duplicates(460, red.drop_duplicates(), red)
    assert_not_quite(verdict_of(capsys), "01.1", "every copy")
    assert count == 240 and frame.equals(red.drop_duplicates().reset_index(drop=True))


def test_duplicates_dropping_every_copy_is_explained(red, capsys):
    exploration.check_duplicates(240, red.drop_duplicates(keep=False), red)
    assert_not_quite(verdict_of(capsys), "01.1", "keep the first copy")


def test_duplicates_not_removed_is_explained(red, capsys):
    exploration.check_duplicates(240, red, red)
    assert_not_quite(verdict_of(capsys), "01.1", "no duplicate was removed")


def test_duplicates_placeholder_is_not_solved(red, capsys):
    count, frame = exploration.check_duplicates(..., ..., red)
    assert_not_solved(verdict_of(capsys), "01.1")
    assert count == 240 and len(frame) == 1359


@pytest.mark.parametrize("answer", [("240", None), (240, "a frame"), (240, [1, 2])])
def test_duplicates_wrong_types_are_not_quite(red, capsys, answer):
    count, frame = exploration.check_duplicates(*answer, red)
    assert_not_quite(verdict_of(capsys), "01.1")
    assert count == 240 and len(frame) == 1359


# 01.2 -------------------------------------------------------------------------------------------


def reference_baseline_mae(split) -> float:
    x_train, y_train, x_test, y_test = split
    return mean_absolute_error(y_test, DummyRegressor().fit(x_train, y_train).predict(x_test))


def test_baseline_correct_answer_is_returned(split, capsys):
    answer = reference_baseline_mae(split)
    assert exploration.check_baseline_mae(answer, *split) == answer
    assert_correct(verdict_of(capsys), "01.2")
    assert round(answer, 3) == 0.705


def test_baseline_fitted_on_the_test_rows_is_explained(split, capsys):
    x_train, y_train, x_test, y_test = split
    leaky = mean_absolute_error(y_test, np.full(len(y_test), y_test.mean()))
    result = exploration.check_baseline_mae(leaky, *split)
    assert_not_quite(verdict_of(capsys), "01.2", "test rows")
    assert result == pytest.approx(reference_baseline_mae(split))


def test_baseline_median_is_explained(split, capsys):
    x_train, y_train, x_test, y_test = split
    median = mean_absolute_error(y_test, np.full(len(y_test), y_train.median()))
    exploration.check_baseline_mae(median, *split)
    assert_not_quite(verdict_of(capsys), "01.2", "median")


def test_baseline_wrong_number_is_not_quite(split, capsys):
    result = exploration.check_baseline_mae(0.5, *split)
    assert_not_quite(verdict_of(capsys), "01.2", "0.5000")
    assert result == pytest.approx(reference_baseline_mae(split))


def test_baseline_placeholder_is_not_solved(split, capsys):
    result = exploration.check_baseline_mae(..., *split)
    assert_not_solved(verdict_of(capsys), "01.2")
    assert result == pytest.approx(reference_baseline_mae(split))


@pytest.mark.parametrize("answer", ["0.705", None, [0.705], True, float("nan")])
def test_baseline_wrong_types_are_not_quite(split, capsys, answer):
    result = exploration.check_baseline_mae(answer, *split)
    assert_not_quite(verdict_of(capsys), "01.2")
    assert result == pytest.approx(reference_baseline_mae(split))


# 01.3 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", [recall_score, f1_score])
def test_good_wine_recall_or_f1_is_correct(good_wine, capsys, metric):
    answer = metric(*good_wine)
    assert exploration.check_good_wine_metric(answer, *good_wine) == answer
    assert_correct(verdict_of(capsys), "01.3")


def test_good_wine_accuracy_is_rejected_with_the_reason(good_wine, capsys):
    result = exploration.check_good_wine_metric(accuracy_score(*good_wine), *good_wine)
    out = verdict_of(capsys)
    assert_not_quite(out, "01.3", "accuracy", "always says 'not good'", "0.875")
    assert result == pytest.approx(f1_score(*good_wine))


def test_good_wine_precision_is_explained(good_wine, capsys):
    exploration.check_good_wine_metric(precision_score(*good_wine), *good_wine)
    assert_not_quite(verdict_of(capsys), "01.3", "precision", "missed")


def test_good_wine_score_of_the_wrong_class_is_explained(good_wine, capsys):
    exploration.check_good_wine_metric(recall_score(*good_wine, pos_label=0), *good_wine)
    assert_not_quite(verdict_of(capsys), "01.3", "'not good' class")


def test_good_wine_placeholder_is_not_solved(good_wine, capsys):
    result = exploration.check_good_wine_metric(..., *good_wine)
    assert_not_solved(verdict_of(capsys), "01.3")
    assert result == pytest.approx(f1_score(*good_wine))


@pytest.mark.parametrize("answer", ["recall", {"recall": 0.3}, np.array([0.3, 0.4])])
def test_good_wine_wrong_types_are_not_quite(good_wine, capsys, answer):
    result = exploration.check_good_wine_metric(answer, *good_wine)
    assert_not_quite(verdict_of(capsys), "01.3")
    assert result == pytest.approx(f1_score(*good_wine))


# 01.4 -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    truth = pd.Series(rng.integers(3, 9, size=50), index=rng.permutation(50))  # a shuffled index, like y_test
    return truth, truth.to_numpy() + rng.normal(0, 0.7, size=50)


def correct_rmse(y_true, y_pred):
    errors = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean(errors**2)))


def test_rmse_correct_function_is_returned(predictions, capsys):
    assert exploration.check_rmse(correct_rmse, *predictions) is correct_rmse
    assert_correct(verdict_of(capsys), "01.4")


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda t, p: float(np.mean((np.asarray(t) - p) ** 2)), ["mean squared error", "square root"]),
        (lambda t, p: float(np.mean(np.abs(np.asarray(t) - p))), ["mean absolute error"]),
        (lambda t, p: float(np.sqrt(np.sum((np.asarray(t) - p) ** 2))), ["sum"]),
        (lambda t, p: 1.0, ["expected"]),
    ],
)
def test_rmse_wrong_functions_are_explained_and_replaced(predictions, capsys, wrong, words):
    result = exploration.check_rmse(wrong, *predictions)
    assert_not_quite(verdict_of(capsys), "01.4", *words)
    assert result(*predictions) == pytest.approx(correct_rmse(*predictions))


def test_rmse_placeholder_function_is_not_solved(predictions, capsys):
    def rmse(y_true, y_pred):
        return ...

    result = exploration.check_rmse(rmse, *predictions)
    assert_not_solved(verdict_of(capsys), "01.4")
    assert result(*predictions) == pytest.approx(correct_rmse(*predictions))


def test_rmse_placeholder_is_not_solved(predictions, capsys):
    exploration.check_rmse(..., *predictions)
    assert_not_solved(verdict_of(capsys), "01.4")


@pytest.mark.parametrize("answer", ["rmse", 0.66, lambda t, p: "0.66", lambda t, p: 1 / 0])
def test_rmse_wrong_types_and_crashes_are_not_quite(predictions, capsys, answer):
    result = exploration.check_rmse(answer, *predictions)
    assert_not_quite(verdict_of(capsys), "01.4")
    assert callable(result)


# Alternative correct answers: written another way than the solution notebook, they must get "correct" too.


def test_duplicates_by_a_mask_and_a_subtraction_is_correct(red, capsys):
    unique = red[~red.duplicated()]  # a boolean mask instead of drop_duplicates
    count, frame = exploration.check_duplicates(len(red) - len(unique), unique, red)
    assert_correct(verdict_of(capsys), "01.1")
    assert count == 240 and frame is unique


def test_baseline_with_the_pandas_mean_by_hand_is_correct(split, capsys):
    x_train, y_train, x_test, y_test = split
    answer = (y_test - y_train.mean()).abs().mean()  # no DummyRegressor, no sklearn metric: a numpy float64
    assert exploration.check_baseline_mae(answer, *split) == answer
    assert_correct(verdict_of(capsys), "01.2")


def test_good_wine_recall_counted_with_numpy_is_correct(good_wine, capsys):
    truth, flags = good_wine
    found = np.sum((truth == 1) & (flags == 1))
    answer = found / np.sum(truth == 1)  # recall by hand: the good wines found, of all the good wines
    assert exploration.check_good_wine_metric(answer, truth, flags) == answer
    assert_correct(verdict_of(capsys), "01.3")


def test_good_wine_f1_from_precision_and_recall_is_correct(good_wine, capsys):
    precision, recall = precision_score(*good_wine), recall_score(*good_wine)
    answer = 2 * precision * recall / (precision + recall)  # the harmonic mean, in another order of steps
    exploration.check_good_wine_metric(answer, *good_wine)
    assert_correct(verdict_of(capsys), "01.3")


def test_rmse_with_a_plain_python_loop_is_correct(predictions, capsys):
    def rmse(y_true, y_pred):
        squared = [(float(truth) - float(predicted)) ** 2 for truth, predicted in zip(y_true, y_pred)]
        return math.sqrt(sum(squared) / len(squared))

    assert exploration.check_rmse(rmse, *predictions) is rmse
    assert_correct(verdict_of(capsys), "01.4")


def test_rmse_with_sklearn_mean_squared_error_is_correct(predictions, capsys):
    def rmse(y_true, y_pred):
        return mean_squared_error(y_true, y_pred) ** 0.5  # a numpy float64, not a float

    assert exploration.check_rmse(rmse, *predictions) is rmse
    assert_correct(verdict_of(capsys), "01.4")
