"""Feedback: ground truth that arrives late, evaluation in hindsight, and comparisons of two versions.

The tasters score a wine two to six weeks after the lab measured it. By then the model has answered,
and the only way to learn whether it was right is to find its answer again: the prediction log,
joined with the tasting results by request id. Always a *left* join from the log: an inner join
silently drops every prediction whose label has not arrived (or got lost), and the evaluation then
looks at the wines that happened to come back, not at the traffic.

Two versions are compared in one of two ways, and the first is the better one whenever it is possible:
- **Shadow mode** (paired): the candidate (the canary) scores every request next to the stable version;
  its answer is logged but never used. A predicted score does not change what the tasters give, so both
  answers can be judged on every wine, and the per-wine difference of absolute errors (canary - stable)
  cancels what makes a wine hard for both. paired_decision reads a t interval of its mean.
- **A/B test** (independent groups): each request goes to one version only. Needed when the answer
  changes what happens next (a price, which wines get tasted), so that only one outcome per wine
  exists. ab_decision reads a bootstrap interval of the difference of the two mean absolute errors.
Either way: an interval entirely below 0: the canary is better; entirely above 0: the stable version is;
containing 0: the data cannot tell them apart yet, however different the two means look.
paired_sample_size and ab_sample_size say how many wines each needs before it can tell.
"""

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

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
    """The answer of ab_decision and of paired_decision: which version errs less, and the interval it rests on."""

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
    return _verdict(interval, difference, float(low), float(high), n_stable, n_canary)


def _verdict(interval: str, difference: float, low: float, high: float, n_stable: int, n_canary: int) -> ABDecision:
    """The decision an interval of canary - stable supports: one rule for the A/B test and the shadow comparison."""
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
    return ABDecision(decision, reason, difference, low, high, n_stable, n_canary)


# --- shadow mode: both versions score the same wines ------------------------------------------------------


def pair_errors(stable: pd.DataFrame, canary: pd.DataFrame, on: str = "request_id") -> pd.DataFrame:
    """The labelled wines both versions scored, one row each: `on`, stable_error, canary_error, difference.

    stable, canary: join_ground_truth of the production log and of the shadow log. The pairs are found by
    request id; difference = canary_error - stable_error, negative where the canary was closer.
    """
    columns = [on, "abs_error"]
    pairs = stable.loc[stable["labelled"], columns].merge(
        canary.loc[canary["labelled"], columns], on=on, suffixes=("_stable", "_canary"), validate="one_to_one"
    )
    pairs = pairs.rename(columns={"abs_error_stable": "stable_error", "abs_error_canary": "canary_error"})
    pairs["difference"] = pairs["canary_error"] - pairs["stable_error"]
    return pairs


def paired_decision(
    stable_errors: ArrayLike, canary_errors: ArrayLike, confidence: float = 0.95, min_pairs: int = MIN_PER_ARM
) -> ABDecision:
    """Decide between two versions that scored the same wines, from a t interval of the mean per-wine difference.

    Element i of both arrays is the same wine. The interval is mean(d) ± t · sd(d) / √n for
    d = canary - stable (scipy.stats.ttest_rel, the paired t-test): its width depends on how much the
    *difference* varies from wine to wine, not on how much the errors do, which is why far fewer wines
    decide. The same words as ab_decision; n_stable and n_canary are both the number of pairs.
    """
    stable, canary = np.asarray(stable_errors, dtype=float), np.asarray(canary_errors, dtype=float)
    if stable.shape != canary.shape:
        raise ValueError(
            f"a paired comparison needs one error of each version per wine, got {len(stable)} and {len(canary)}"
        )
    n = len(stable)
    difference = float((canary - stable).mean()) if n else float("nan")
    if n < max(min_pairs, 2):
        return ABDecision(
            UNDECIDED,
            f"only {n} wines scored by both versions and tasted so far; wait for at least "
            f"{max(min_pairs, 2)} before reading an interval",
            difference,
            float("nan"),
            float("nan"),
            n,
            n,
        )
    low, high = stats.ttest_rel(canary, stable).confidence_interval(confidence)
    interval = (
        f"the {confidence:.0%} interval of the mean per-wine difference of absolute errors, canary - stable, is "
        f"[{low:+.3f}, {high:+.3f}] ({n} wines scored by both)"
    )
    return _verdict(interval, difference, float(low), float(high), n, n)


# --- how many wines: plan the comparison before it starts ----------------------------------------------------


def _z_squared(alpha: float, power: float) -> float:
    """(z_{α/2} + z_β)²: two-sided test at level alpha, the chance `power` of detecting the difference."""
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) ** 2)


def paired_sample_size(sd_difference: float, delta: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Wines both versions must score (and the tasters score) to detect a mean difference of `delta`.

    n ≈ (z_{α/2} + z_β)² · σ_d² / δ², with σ_d the standard deviation of the per-wine differences.
    """
    return math.ceil(_z_squared(alpha, power) * sd_difference**2 / delta**2)


def ab_sample_size(sd_error: float, delta: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Wines *per version* an A/B test needs to detect a difference of `delta` in the mean absolute error.

    n ≈ (z_{α/2} + z_β)² · 2σ² / δ², with σ the standard deviation of the errors themselves: two
    independent groups, each mean with its own noise. A 50/50 split needs twice this many wines in all.
    """
    return math.ceil(_z_squared(alpha, power) * 2 * sd_error**2 / delta**2)
