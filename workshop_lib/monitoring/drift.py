"""What goes into the model: schema checks of a batch, and drift of its inputs against the training data.

Two different questions, two different tools:
- **Schema** (data.SCHEMA, the same rules module 02 enforces on files): can these values exist at all?
  A density of 997 (kg/m³ sent where g/cm³ is expected) cannot; the batch is rejected before the model
  sees it.
- **Drift**: are these possible values still *like the ones the model learned from*? An alcohol of
  0 % vol passes the schema (0 is a possible value) but a whole batch of them is a broken sensor, and
  white wines sent to a red-wine model are real wines, just not the ones it knows.

Drift is measured per feature, the current batch against a reference (the training wines of the
version in production), two ways:
- the **population stability index** (PSI): cut the reference into `bins` bins of equal size (its
  quantiles), count which share of the current batch falls in each bin, and add up
  (current share - reference share) * ln(current share / reference share). 0 means the same
  distribution. Rules of thumb from credit scoring, where the PSI comes from: below 0.1 stable,
  0.1 to 0.25 worth watching, above 0.25 a real shift. Small batches give a PSI above 0 by chance alone
  (about bins / batch size), so judge batches of a few hundred rows, not of ten.
- the **two-sample Kolmogorov-Smirnov test** (scipy.stats.ks_2samp): the largest gap between the two
  cumulative distributions (the statistic, 0 to 1) and the p-value of "both samples come from the same
  distribution". With thousands of rows the p-value of any tiny, harmless difference is small, so a
  small p-value says "different", not "different enough to matter": read the statistic (or the PSI)
  for the size of the shift.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn
    from matplotlib.figure import Figure

from workshop_lib import data

PSI_WATCH = 0.1  # below: stable
PSI_DRIFT = 0.25  # above: drift; in between: watch
EPSILON = 1e-4  # the share given to an empty bin: ln(0) would make the PSI infinite
BINS = 10
KS_ALPHA = 0.01  # the KS test flags a feature when its p-value is below this

STABLE, WATCH, DRIFT = "stable", "watch", "drift"


# --- schema --------------------------------------------------------------------------------------------


def check_batch(batch: pd.DataFrame, source: str = "batch") -> pd.DataFrame:
    """The batch's measurements validated against data.SCHEMA; DataValidationError names column and rows.

    A batch of requests has no `quality` yet (the tasters score it weeks later), so only the
    measurements are checked: with data.validate_wine, the rules every file passes in module 02.
    """
    measurements = batch[[column for column in batch.columns if column != data.TARGET]]
    placeholder = measurements.assign(**{data.TARGET: 0})  # validate_wine wants every SCHEMA column
    return data.validate_wine(placeholder, source=source)[data.FEATURES]


def schema_report(batch: pd.DataFrame) -> pd.DataFrame:
    """Every measurement against its allowed range in data.SCHEMA: observed range, rows outside, missing.

    check_batch stops at the first broken column; this table shows all of them at once, for the report
    that goes back to the lab.
    """
    rows = []
    for feature in data.FEATURES:
        low, high = data.SCHEMA[feature]
        if feature not in batch.columns:
            rows.append(
                {
                    "feature": feature,
                    "allowed": f"[{low:g}, {high:g}]",
                    "min": np.nan,
                    "max": np.nan,
                    "missing": len(batch),
                    "outside": 0,
                    "ok": False,
                }
            )
            continue
        values = pd.to_numeric(batch[feature], errors="coerce")
        outside = int(((values < low) | (values > high)).sum())
        missing = int(values.isna().sum())
        rows.append(
            {
                "feature": feature,
                "allowed": f"[{low:g}, {high:g}]",
                "min": values.min(),
                "max": values.max(),
                "missing": missing,
                "outside": outside,
                "ok": outside == 0 and missing == 0,
            }
        )
    return pd.DataFrame(rows).set_index("feature")


# --- drift ---------------------------------------------------------------------------------------------


def quantile_edges(reference: ArrayLike, bins: int = BINS) -> np.ndarray:
    """The inner edges that cut the reference into `bins` bins of (about) equal size; ties merge bins."""
    values = np.asarray(reference, dtype=float)
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def bin_shares(values: ArrayLike, inner_edges: np.ndarray) -> np.ndarray:
    """The share of `values` in each bin; the outer bins are open, so every value lands in one."""
    values = np.asarray(values, dtype=float)
    counts = np.bincount(np.searchsorted(inner_edges, values, side="right"), minlength=len(inner_edges) + 1)
    return counts / len(values)


def psi(reference: ArrayLike, current: ArrayLike, bins: int = BINS, epsilon: float = EPSILON) -> float:
    """Population stability index of `current` against `reference` (bins from the reference's quantiles).

    The order matters: the reference defines the bins. Empty bins count as `epsilon`, so that a batch
    with no values in a bin (a sensor stuck at 0) gives a large number, not infinity.
    """
    reference, current = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    if len(reference) == 0 or len(current) == 0:
        raise ValueError("psi needs values in both the reference and the current sample")
    edges = quantile_edges(reference, bins)
    expected = np.maximum(bin_shares(reference, edges), epsilon)
    actual = np.maximum(bin_shares(current, edges), epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_status(value: float) -> str:
    """'stable' (< 0.1), 'watch' (0.1 to 0.25) or 'drift' (> 0.25)."""
    return DRIFT if value > PSI_DRIFT else WATCH if value >= PSI_WATCH else STABLE


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str] | None = None,
    bins: int = BINS,
    alpha: float = KS_ALPHA,
) -> pd.DataFrame:
    """Per feature: PSI and its status, the KS statistic, p-value and flag, and both means.

    `reference`: the training wines of the version in production (or a saved baseline);
    `current`: the batch to judge. Features default to data.FEATURES.
    """
    rows = []
    for feature in features or data.FEATURES:
        before, now = reference[feature].dropna(), current[feature].dropna()
        score = psi(before, now, bins)
        ks = stats.ks_2samp(before, now)
        rows.append(
            {
                "feature": feature,
                "psi": score,
                "status": psi_status(score),
                "ks_statistic": float(ks.statistic),
                "ks_pvalue": float(ks.pvalue),
                "ks_flag": bool(ks.pvalue < alpha),
                "reference_mean": float(before.mean()),
                "current_mean": float(now.mean()),
            }
        )
    return pd.DataFrame(rows).set_index("feature")


def drifting_features(report: pd.DataFrame) -> list[str]:
    """The features whose PSI says drift (> 0.25), the largest first."""
    return report.loc[report["status"] == DRIFT].sort_values("psi", ascending=False).index.tolist()


STATUS_COLOURS = {STABLE: "tab:green", WATCH: "tab:orange", DRIFT: "tab:red"}


def plot_drift(
    reports: dict[str, pd.DataFrame], title: str = "Input drift against the training wines (PSI)"
) -> "Figure":
    """One panel per batch: the PSI of every feature, coloured by status, with the 0.1 and 0.25 lines.

    The x axis is logarithmic (a stuck sensor scores near 10, a stable feature near 0.01); values are
    shown from 0.001 up.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(reports), figsize=(3.3 * len(reports) + 1.2, 3.6), sharey=True, squeeze=False)
    for ax, (name, report) in zip(axes[0], reports.items()):
        values = report["psi"].clip(lower=1e-3)
        ax.barh(report.index, values, color=[STATUS_COLOURS[s] for s in report["status"]])
        for threshold in (PSI_WATCH, PSI_DRIFT):
            ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlim(1e-3, max(20.0, float(values.max()) * 1.5))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("PSI (log scale)")
    axes[0][0].invert_yaxis()
    axes[0][0].set_ylabel("feature")
    fig.suptitle(title + "; dashed: 0.1 watch, 0.25 drift", fontsize=11)
    fig.tight_layout()
    return fig


# --- the baseline: the reference, kept with the model version it belongs to ---------------------------


def save_baseline(reference: pd.DataFrame, path: str | Path, **info: object) -> Path:
    """Write the reference measurements (data.FEATURES) and a few facts (e.g. model_version=1) as JSON.

    Drift is always "against what the model in production learned from": when a new version is
    promoted, its training wines become the new baseline.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "info": {**info, "rows": len(reference)},
        "features": {feature: reference[feature].astype(float).tolist() for feature in data.FEATURES},
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load_baseline(path: str | Path) -> pd.DataFrame:
    """The reference measurements saved by save_baseline; the facts are in `.attrs["info"]`."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    frame = pd.DataFrame(document["features"])[data.FEATURES]
    frame.attrs["info"] = document.get("info", {})
    return frame
