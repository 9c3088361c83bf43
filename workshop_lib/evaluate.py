"""How good is a model? The regression metrics of the course and the plots that show where it errs.

matplotlib is imported inside the plot functions: a pipeline stage that only computes metrics
(DVC runs one process per stage) should not pay for loading it.
"""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn
    from matplotlib.axes import Axes


def _scores_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both as float arrays; ValueError unless they are non-empty and of the same length."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"y_true and y_pred must be non-empty and the same length, got {y_true.shape} and {y_pred.shape}"
        )
    return y_true, y_pred


def regression_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """MAE (average error in quality points), RMSE (punishes large errors), R² (share of variance explained), MSE."""
    y_true, y_pred = _scores_pair(y_true, y_pred)
    mse = mean_squared_error(y_true, y_pred)
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(mse)),
        "r2": float(r2_score(y_true, y_pred)),
        "mse": float(mse),
    }


GOOD_FROM = 7  # the winery's "good wine": a tasters' score of 7 or more
FLAG_FROM = 6.5  # a wine is flagged as good when its predicted score is at least this


def good_wine_flags(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """The business view of the same predictions, per 100 wines tested: good wines the model flags
    (found), good wines it misses, and ordinary wines it flags as good (false alarms).

    Management follows these, not MAE: "of every 100 wines the lab tests, the model finds 6 of the 12
    good ones and raises 2 false alarms" is a sentence a sales team can act on.
    """
    y_true, y_pred = _scores_pair(y_true, y_pred)
    good, flagged = y_true >= GOOD_FROM, y_pred >= FLAG_FROM
    per_100 = 100 / y_true.size
    return {
        "good_found_per_100": float((good & flagged).sum() * per_100),
        "good_missed_per_100": float((good & ~flagged).sum() * per_100),
        "false_alarms_per_100": float((~good & flagged).sum() * per_100),
    }


def plot_predicted_vs_actual(
    y_true: ArrayLike, y_pred: ArrayLike, title: str = "Predicted vs actual quality", ax: "Axes | None" = None
) -> "Axes":
    """Scatter of predictions against the true scores, with the diagonal a perfect model would hit."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5, 5))[1]
    rng = np.random.default_rng(0)
    jitter = rng.uniform(-0.15, 0.15, size=len(y_true))  # scores are integers: jitter makes the crowd visible
    ax.scatter(np.asarray(y_true) + jitter, y_pred, alpha=0.4, s=12)
    low, high = float(np.min(y_true)) - 0.5, float(np.max(y_true)) + 0.5
    ax.plot([low, high], [low, high], color="grey", linestyle="--", label="perfect prediction")
    ax.set(title=title, xlabel="actual quality (jittered)", ylabel="predicted quality")
    ax.legend(loc="upper left")
    return ax


def plot_residuals(
    y_true: ArrayLike, y_pred: ArrayLike, title: str = "Residuals by actual quality", ax: "Axes | None" = None
) -> "Axes":
    """Residual (actual - predicted) per true score: a model that regresses to the mean tilts here."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 4))[1]
    residuals = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    scores = np.unique(y_true)
    ax.boxplot([residuals[np.asarray(y_true) == s] for s in scores], tick_labels=[str(s) for s in scores])
    ax.axhline(0, color="grey", linestyle="--")
    ax.set(title=title, xlabel="actual quality", ylabel="residual (actual - predicted)")
    return ax
