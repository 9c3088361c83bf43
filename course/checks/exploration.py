"""Checks for the exercises of module 01 (solutions/01_exploration.ipynb): one function per exercise.

Each check takes the participant's answer and everything it needs to judge it (the data, the split,
the predictions; 01.1 and 01.2 bring in the white wines, the new region), prints a verdict and returns
what the notebook goes on with: the answer when it is right, else the reference result.
"""

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
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


def _twin_mask(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """True for each test row with an exact twin (every column equal) among the training rows."""
    in_training = set(train.itertuples(index=False, name=None))
    return np.array([row in in_training for row in test.itertuples(index=False, name=None)], dtype=bool)


MODEL_NAMES = {"forest": "the random forest", "elasticnet": "the ElasticNet"}


def _model_named(answer: str) -> str | None:
    """'forest', 'elasticnet', 'both', 'neither' from a free-text answer, or None."""
    text = answer.lower().replace(" ", "").replace("-", "").replace("_", "")
    has_forest, has_net = "forest" in text, "elastic" in text or text in ("en", "enet")
    if text in ("both", "all") or (has_forest and has_net):
        return "both"
    if text in ("neither", "none", "no", "nothing"):
        return "neither"
    return "forest" if has_forest else "elasticnet" if has_net else None


def check_twins(
    n_twins: Any, flattered: Any, train: pd.DataFrame, test: pd.DataFrame, predictions: dict[str, Any]
) -> tuple[Any, Any]:
    """Exercise 01.1: how many of a colleague's white test wines have a twin in training, and whose score they flatter.

    predictions: {"forest": ..., "elasticnet": ...}, each model's predictions for the test rows (trained on `train`).
    Returns (n_twins, flattered): the participant's when right, else the reference.
    """
    twin = _twin_mask(train, test)
    expected = int(twin.sum())
    truth = test["quality"].to_numpy()
    gaps = {
        name: float(mean_absolute_error(truth[~twin], np.asarray(p)[~twin]))
        - float(mean_absolute_error(truth[twin], np.asarray(p)[twin]))
        for name, p in predictions.items()
    }  # how much better the model looks on the twins than on new wines, in quality points
    answer_model = max(gaps, key=gaps.get) if max(gaps.values()) > 0.1 else "neither"
    counterpart = {"forest": "elasticnet", "elasticnet": "forest"}

    def judge(answer: Any) -> str | None:
        count, problem = one_number(solved(answer[0]), "n_twins")
        if problem:
            return problem
        if count != expected:
            train_twin = _twin_mask(test, train)
            known = {
                int(pd.concat([train, test]).duplicated().sum()): "the repeated rows of all the white wines, "
                "on both sides of the split; count only the test wines with a twin in training",
                int(test.duplicated().sum()): "the test wines that repeat another test wine; look for their "
                "twins in the training wines",
                int(train_twin.sum()): "the training wines with a twin among the test wines: the other way round",
                int(test.duplicated(keep=False).sum()): "the test wines in groups of identical test wines",
            }
            if int(count) in known and int(count) != expected:
                return f"n_twins is {count:g}: that is {known[int(count)]}"
            return f"n_twins is {count:g}, but that is not the number of test wines with an exact twin in training"
        flat = solved(answer[1])
        if not isinstance(flat, str):
            return f'flattered should be a model\'s name, "forest" or "elasticnet" (or "both", "neither"), got {flat!r}'
        named = _model_named(flat)
        if named is None:
            return f'flattered is {flat!r}: answer "forest", "elasticnet", "both" or "neither"'
        if named != answer_model:
            if named in counterpart and answer_model in counterpart:
                other = counterpart[named]
                return (
                    f"{MODEL_NAMES[named]} is {gaps[named]:+.2f} quality points better on the twins than on new "
                    f"wines, {MODEL_NAMES[other]} {gaps[other]:+.2f}: compare each model's MAE on the twins and "
                    "on the new wines"
                )
            return (
                f"the MAE on the new wines minus the MAE on the twins is {gaps['forest']:+.2f} for the forest and "
                f"{gaps['elasticnet']:+.2f} for the ElasticNet: which model does memorising help?"
            )
        return None

    return verdict(
        "01.1",
        (n_twins, flattered),
        judge,
        hint="a test wine is a twin when all its values, quality included, equal those of some training wine. Then "
        "score each model twice, on the twins and on the other test wines: a model that memorised its training "
        "wines is much better on their twins.",
        reference=lambda: (expected, answer_model),
        success=f"{expected} of {len(test)} test wines ({expected / len(test):.0%}) are twins of training wines. "
        f"The forest is {gaps['forest']:.2f} points better on them than on new wines, the ElasticNet "
        f"{gaps['elasticnet']:+.2f}: the leak flatters the model that memorises, and so it widens the forest's "
        "lead over the ElasticNet too: even the comparison is flattered. Remove the duplicates first, then split.",
    )


# ---------------------------------------------------------------------------------------- 01.2


def _constant_mae(fitted_on: Any, scored_on: Any, statistic: str = "mean") -> float:
    value = float(np.median(fitted_on)) if statistic == "median" else float(np.mean(fitted_on))
    return float(mean_absolute_error(scored_on, np.full(len(scored_on), value)))


def check_region_baseline(
    white_baseline_mae: Any,
    retrain: Any,
    white_y_train: Any,
    white_y_test: Any,
    red_y_train: Any,
    red_model_white_mae: float,
    red_model_red_mae: float,
    red_baseline_red_mae: float,
) -> tuple[Any, Any]:
    """Exercise 01.2: the white region's own baseline, and whether the red model is good enough there.

    Both the mean and the median of the white training scores are honest baselines (the median is the best
    constant for the MAE). Returns (white_baseline_mae, retrain).
    """
    honest = {
        "mean": _constant_mae(white_y_train, white_y_test),
        "median": _constant_mae(white_y_train, white_y_test, "median"),
    }
    red_gain = red_baseline_red_mae - red_model_red_mae

    def judge(answer: Any) -> str | None:
        value, problem = one_number(solved(answer[0]), "white_baseline_mae")
        if problem:
            return problem
        if not any(_close(value, reference) for reference in honest.values()):
            known = {
                _constant_mae(red_y_train, white_y_test): "the baseline of the red wines, scored on the white ones: "
                "the new region's baseline learns from the new region's training wines",
                _constant_mae(white_y_test, white_y_test): "a baseline fitted on the white test wines themselves",
                _constant_mae(white_y_train, white_y_train): "the baseline scored on the white training wines; score "
                "it on the white test wines",
                float(
                    mean_squared_error(white_y_test, np.full(len(white_y_test), float(np.mean(white_y_train))))
                ): "the mean squared error; the models are compared with the mean absolute error",
                red_model_white_mae: "the red model's MAE on the white wines, not a baseline's",
            }
            for reference, meaning in known.items():
                if _close(value, reference):
                    return f"{value:.4f} is {meaning}"
            return (
                f"white_baseline_mae is {value:.4f}, which is not the MAE of a constant fitted on the white "
                "training wines"
            )
        decision = solved(answer[1])
        if not isinstance(decision, (bool, np.bool_)):
            return f"retrain should be True or False, got {decision!r}"
        gain = value - red_model_white_mae
        if not decision:
            return (
                f"on the white wines the red model beats knowing nothing by {gain:.3f} quality points, on the red "
                f"wines by {red_gain:.3f}: is that still a model worth shipping to the new region?"
            )
        return None

    best = honest["mean"]
    gains = [value - red_model_white_mae for value in honest.values()]
    return verdict(
        "01.2",
        (white_baseline_mae, retrain),
        judge,
        hint="a baseline belongs to its region: it learns from that region's training wines only and is scored on "
        "the same region's test wines. Then compare what the red model gains over it with what it gains on red.",
        reference=lambda: (best, True),
        success=f"the red model beats the white wines' own baseline by only {min(gains):.3f} to {max(gains):.3f} "
        f"quality points (median or mean baseline), against {red_gain:.3f} on the red wines: the white region needs "
        "a model trained on white wines, and module 03 versions that new data.",
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
