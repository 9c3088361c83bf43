"""Feedback: ground truth that arrives late, evaluation in hindsight, and A/B tests between two versions.

The tasters score a wine two to six weeks after the lab measured it. By then the model has answered,
and the only way to learn whether it was right is to find its answer again: the prediction log,
joined with the tasting results by request id. Always a *left* join from the log: an inner join
silently drops every prediction whose label has not arrived (or got lost), and the evaluation then
looks at the wines that happened to come back, not at the traffic.

An A/B test sends part of the traffic to a second version (the canary) and compares the outcomes.
Here the outcome is the absolute error once the tasting result is in, and the decision rests on a
bootstrap confidence interval of the difference in mean absolute error, canary minus stable:
entirely below 0: the canary is better; entirely above 0: the stable version is; containing 0: the
data cannot tell them apart yet, however different the two means look.
"""

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from workshop_lib import data

# --- delayed ground truth ------------------------------------------------------------------------------


def match_counts(log: pd.DataFrame, labels: pd.DataFrame, on: str = "request_id") -> dict[str, int]:
    """How the log and the labels match: predictions, labels, matched, predictions still unlabelled,
    labels without a prediction (a logging gap: the model answered, but nobody wrote it down)."""
    logged, labelled = set(log[on]), set(labels[on])
    return {
        "predictions": len(log),
        "labels": len(labels),
        "matched": int(log[on].isin(labelled).sum()),
        "unlabelled predictions": int((~log[on].isin(labelled)).sum()),
        "labels without a prediction": int((~labels[on].isin(logged)).sum()),
    }


def join_ground_truth(
    log: pd.DataFrame, labels: pd.DataFrame, on: str = "request_id", target: str = data.TARGET
) -> pd.DataFrame:
    """Every prediction of the log with its label where one has arrived (a left join; NaN otherwise).

    Adds `labelled` (True where the label is in) and `abs_error` (|prediction - label|, NaN if unlabelled).
    A request id twice in the log or in the labels is an error: the join would count a wine twice.
    """
    for name, frame in (("log", log), ("labels", labels)):
        repeated = frame.loc[frame[on].duplicated(), on]
        if len(repeated):
            raise ValueError(
                f"the {name} has {len(repeated)} repeated {on}(s), e.g. {repeated.iloc[0]!r}: "
                "each prediction and each label needs its own id"
            )
    columns = [on, target] + [c for c in labels.columns if c not in (on, target) and c not in log.columns]
    joined = log.merge(labels[columns], on=on, how="left", validate="one_to_one")
    joined["labelled"] = joined[target].notna()
    joined["abs_error"] = (joined["prediction"] - joined[target]).abs()
    return joined


def evaluate_in_hindsight(
    joined: pd.DataFrame, by: str | list[str] = "version", target: str = data.TARGET
) -> pd.DataFrame:
    """Per version (or any column of the joined log): predictions, labelled, unlabelled, MAE, mean scores.

    The MAE covers the labelled predictions only, so read it together with how many those are.
    """
    groups = joined.groupby(by)
    table = pd.DataFrame({"predictions": groups.size(), "labelled": groups["labelled"].sum().astype(int)})
    table["unlabelled"] = table["predictions"] - table["labelled"]
    table["mae"] = groups["abs_error"].mean()
    table["mean_predicted"] = groups["prediction"].mean()
    table["mean_actual"] = groups[target].mean()
    return table


# --- A/B tests -----------------------------------------------------------------------------------------

STABLE, CANARY = "stable", "canary"
CANARY_BETTER, STABLE_BETTER, UNDECIDED = "canary better", "stable better", "not enough data to decide"
MIN_PER_ARM = 20  # below this many outcomes per arm a bootstrap interval is too rough to act on


def assign_variant(request_id: str, canary_share: float = 0.5, salt: str = "wine-ab") -> str:
    """'canary' for a share of the request ids, 'stable' for the rest: from a hash, so the same id always
    gets the same variant, on any machine, without storing anything. A new `salt` makes a new split."""
    digest = hashlib.sha256(f"{salt}:{request_id}".encode()).hexdigest()
    return CANARY if int(digest[:15], 16) / 16**15 < canary_share else STABLE


def bootstrap_differences(stable: ArrayLike, canary: ArrayLike, n_resamples: int = 2000, seed: int = 42) -> np.ndarray:
    """Resampled differences of the mean, canary - stable: each arm drawn with replacement, n_resamples times."""
    stable, canary = np.asarray(stable, dtype=float), np.asarray(canary, dtype=float)
    rng = np.random.default_rng(seed)
    stable_means = stable[rng.integers(0, len(stable), (n_resamples, len(stable)))].mean(axis=1)
    canary_means = canary[rng.integers(0, len(canary), (n_resamples, len(canary)))].mean(axis=1)
    return canary_means - stable_means


@dataclass(frozen=True)
class ABDecision:
    decision: str  # "canary better", "stable better" or "not enough data to decide"
    reason: str
    difference: float  # mean absolute error, canary - stable (negative: the canary errs less)
    low: float  # the confidence interval of the difference (NaN when there were too few outcomes)
    high: float
    n_stable: int
    n_canary: int

    def __str__(self) -> str:
        return f"{self.decision}: {self.reason}"


def ab_decision(
    stable_errors: ArrayLike,
    canary_errors: ArrayLike,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 42,
    min_per_arm: int = MIN_PER_ARM,
) -> ABDecision:
    """Decide an A/B test on absolute errors with a percentile bootstrap interval of the difference.

    Lower error is better. The decision says which version is better only if the whole interval of
    mean(canary) - mean(stable) lies on one side of 0; otherwise, or with fewer than `min_per_arm`
    outcomes in an arm, "not enough data to decide", with the reason.
    """
    stable, canary = np.asarray(stable_errors, dtype=float), np.asarray(canary_errors, dtype=float)
    n_stable, n_canary = len(stable), len(canary)
    difference = float(canary.mean() - stable.mean()) if n_stable and n_canary else float("nan")
    if min(n_stable, n_canary) < min_per_arm:
        return ABDecision(
            UNDECIDED,
            f"only {n_stable} stable and {n_canary} canary outcomes so far; wait for at "
            f"least {min_per_arm} per version before reading an interval",
            difference,
            float("nan"),
            float("nan"),
            n_stable,
            n_canary,
        )
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(bootstrap_differences(stable, canary, n_resamples, seed), [tail, 100 - tail])
    interval = (
        f"the {confidence:.0%} interval of the mean absolute error, canary - stable, is "
        f"[{low:+.3f}, {high:+.3f}] ({n_stable} stable, {n_canary} canary outcomes)"
    )
    if high < 0:
        decision, reason = CANARY_BETTER, f"{interval}: entirely below 0, the canary errs less"
    elif low > 0:
        decision, reason = STABLE_BETTER, f"{interval}: entirely above 0, the stable version errs less"
    else:
        decision, reason = (
            UNDECIDED,
            (
                f"{interval}: it contains 0, so either version may be the better one; "
                f"the observed difference of {difference:+.3f} may be chance"
            ),
        )
    return ABDecision(decision, reason, difference, float(low), float(high), n_stable, n_canary)
