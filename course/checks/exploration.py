"""Checks for the exercises of module 01 (solutions/01_exploration.ipynb): one function per exercise.

Each check takes the participant's answer and everything it needs to judge it (the data, the split,
the predictions), prints a verdict and returns what the notebook goes on with: the answer when it
is right, else the reference result.
"""

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.dummy import DummyRegressor
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
)

from course.checks import one_number, solved, verdict

TOLERANCE = 1e-6


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE


# ---------------------------------------------------------------------------------------- 01.1


def check_duplicates(n_duplicates: Any, unique: Any, red: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """Exercise 01.1: the number of rows that repeat an earlier row, and red without them.

    Returns (n_duplicates, unique): the participant's when right, else the reference.
    """
    expected = red.drop_duplicates().reset_index(drop=True)
    expected_count = int(red.duplicated().sum())

    def judge(answer: Any) -> str | None:
        n_duplicates, unique = (solved(part) for part in answer)
        count, problem = one_number(n_duplicates, "n_duplicates")
        if problem:
            return problem
        if count == int(red.duplicated(keep=False).sum()) and count != expected_count:
            return (
                f"n_duplicates is {count:.0f}: that counts every copy, including the first one of each group; "
                f"count only the rows that repeat an earlier row"
            )
        if count != expected_count:
            return f"n_duplicates is {count:g}, but that is not the number of rows that repeat an earlier row"
        if not isinstance(unique, pd.DataFrame):
            return f"unique should be a DataFrame, got a {type(unique).__name__}"
        if list(unique.columns) != list(red.columns):
            return "unique should keep all the columns of red, in the same order"
        if len(unique) == len(red):
            return "unique still has every row of red: no duplicate was removed (did you assign the result?)"
        if len(unique) == len(red.drop_duplicates(keep=False)):
            return (
                "unique has no copy at all of the duplicated wines: keep the first copy of each, drop only the repeats"
            )
        if len(unique) != len(expected):
            return f"unique has {len(unique)} rows; without the repeats red has {len(expected)}"
        ours = unique.reset_index(drop=True)
        if not ours.equals(expected):
            by_value = list(red.columns)
            same_rows = (
                ours.sort_values(by_value)
                .reset_index(drop=True)
                .equals(expected.sort_values(by_value).reset_index(drop=True))
            )
            if not same_rows:
                return (
                    "unique has the right number of rows but not the same rows (or values) as red without its repeats"
                )
        return None

    return verdict(
        "01.1",
        (n_duplicates, unique),
        judge,
        hint="red.duplicated() is True for each row that repeats an earlier one, and summing True/False counts "
        "the Trues; a DataFrame method of a similar name drops those rows and keeps the first copy.",
        reference=lambda: (expected_count, expected),
        success=f"{expected_count} repeated rows removed, {len(expected)} distinct wines left.",
    )


# ---------------------------------------------------------------------------------------- 01.2


def _baseline_mae(y_fit: pd.Series | np.ndarray, y_test: pd.Series | np.ndarray, strategy: str = "mean") -> float:
    dummy = DummyRegressor(strategy=strategy).fit(np.zeros((len(y_fit), 1)), y_fit)
    return float(mean_absolute_error(y_test, dummy.predict(np.zeros((len(y_test), 1)))))


def check_baseline_mae(baseline_mae: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any) -> Any:
    """Exercise 01.2: the MAE on the held-out rows of a baseline that always predicts the training mean."""
    reference = _baseline_mae(y_train, y_test)

    def judge(answer: Any) -> str | None:
        value, problem = one_number(answer, "baseline_mae")
        if problem:
            return problem
        if _close(value, reference):
            return None
        if _close(value, _baseline_mae(y_test, y_test)):
            return (
                f"{value:.4f} is the MAE of a baseline fitted on the test rows; "
                "the baseline may learn only from the training rows"
            )
        if _close(value, _baseline_mae(y_train, y_train)):
            return f"{value:.4f} is the MAE on the training rows; score it on the held-out test rows"
        if _close(value, _baseline_mae(y_train, y_test, "median")):
            return f'{value:.4f} is the MAE of a median baseline; use DummyRegressor(strategy="mean")'
        mean_prediction = np.full(len(y_test), float(np.mean(y_train)))
        if _close(value, float(mean_squared_error(y_test, mean_prediction))):
            return f"{value:.4f} is the mean squared error; the exercise asks for the mean absolute error"
        if _close(value, math.sqrt(mean_squared_error(y_test, mean_prediction))):
            return f"{value:.4f} is the RMSE; the exercise asks for the mean absolute error"
        return f"baseline_mae is {value:.4f}, which is not the MAE of the mean baseline on the test rows"

    return verdict(
        "01.2",
        baseline_mae,
        judge,
        hint="fit on X_train and y_train only, predict X_test, and compare those predictions with y_test.",
        reference=lambda: reference,
        success=f"the mean baseline is off by {reference:.3f} quality points on average. "
        "Every model must beat this number.",
    )


# ---------------------------------------------------------------------------------------- 01.3


def check_good_wine_metric(score: Any, y_true: Any, y_pred: Any) -> Any:
    """Exercise 01.3: a score of the 'good wine' class that always answering 'not good' cannot game (recall or F1)."""
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    recall = float(recall_score(y_true, y_pred, zero_division=0))
    f1 = float(f1_score(y_true, y_pred, zero_division=0))
    accuracy = float(accuracy_score(y_true, y_pred))
    always_not_good = float(accuracy_score(y_true, np.zeros_like(y_true)))

    def judge(answer: Any) -> str | None:
        value, problem = one_number(answer, "score")
        if problem:
            return problem
        if _close(value, recall) or _close(value, f1):
            return None
        if _close(value, accuracy):
            return (
                f"{value:.3f} is the accuracy, and accuracy rewards ignoring the good wines: a model that "
                f"always says 'not good' already gets {always_not_good:.3f} here"
            )
        if _close(value, float(balanced_accuracy_score(y_true, y_pred))):
            return (
                "that is the balanced accuracy; it gives 0.5, not 0, to always saying 'not good'. "
                "Choose a score of the good-wine class itself"
            )
        if _close(value, float(precision_score(y_true, y_pred, zero_division=0))):
            return (
                f"{value:.3f} is the precision (of the wines flagged good, the share that are good); it ignores "
                f"the good wines the model missed, so flagging one sure wine would score perfectly "
                f"(or is it recall with its arguments swapped? The truth comes first)"
            )
        negative = [
            float(metric(y_true, y_pred, pos_label=0, zero_division=0))
            for metric in (recall_score, f1_score, precision_score)
        ]
        if any(_close(value, other) for other in negative):
            return f"{value:.3f} is a score of the 'not good' class (label 0); score the good wines (label 1)"
        return f"score is {value:.4f}, which is neither the recall nor the F1 score of the good wines"

    found = int(((y_true == 1) & (y_pred == 1)).sum())
    return verdict(
        "01.3",
        score,
        judge,
        hint="which metrics give 0 to a model that flags no wine at all? Of those, take one that also counts the good "
        "wines the model missed. Metric functions take the truth first: metric(good_test, good_flagged).",
        reference=lambda: f1,
        success=f"the model finds {found} of {int(y_true.sum())} good wines (recall {recall:.3f}, "
        f"F1 {f1:.3f}), although its accuracy, {accuracy:.3f}, looks fine.",
    )


# ---------------------------------------------------------------------------------------- 01.4


def _reference_rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error: the square root of the mean of the squared errors."""
    errors = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean(errors**2)))


def check_rmse(rmse: Any, y_true: Any, y_pred: Any) -> Any:
    """Exercise 01.4: `rmse(y_true, y_pred)` written by hand; it must agree with scikit-learn."""
    cases = [
        ("y_true [3, 5], y_pred [4, 7]", np.array([3, 5]), np.array([4.0, 7.0])),
        ("the model's test predictions", y_true, y_pred),
    ]

    def judge(answer: Any) -> str | None:
        if not callable(answer):
            return f"rmse should be a function rmse(y_true, y_pred), got a {type(answer).__name__}"
        for label, truth, predicted in cases:
            value, problem = one_number(solved(answer(truth, predicted)), f"rmse({label})")
            if problem:
                return problem
            expected = _reference_rmse(truth, predicted)
            if _close(value, expected):
                continue
            errors = np.asarray(truth, dtype=float) - np.asarray(predicted, dtype=float)
            if _close(value, expected**2):
                return f"for {label} it returns {value:.4f}, the mean squared error: take the square root at the end"
            if _close(value, float(np.mean(np.abs(errors)))):
                return f"for {label} it returns {value:.4f}, the mean absolute error: square the errors, not abs()"
            if _close(value, float(np.sqrt(np.sum(errors**2)))):
                return f"for {label} it returns {value:.4f}: that is the square root of the sum; take the mean first"
            return f"for {label} it returns {value:.4f}, expected {expected:.4f}"
        return None

    return verdict(
        "01.4",
        rmse,
        judge,
        hint="turn both inputs into numpy arrays (np.asarray), subtract, square, average, then take the square root.",
        reference=lambda: _reference_rmse,
        success="your RMSE agrees with scikit-learn's. It is never below the MAE: large errors weigh more.",
    )
