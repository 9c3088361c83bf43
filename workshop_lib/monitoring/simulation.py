"""Simulated traffic for the monitoring lessons: wine deliveries over weeks, and tasting results weeks later.

Everything is seeded and every timestamp is computed, so a lesson that simulates two months of
traffic shows the same log, the same drift and the same decisions on every run. The wines come from
the course data, chosen so that the models are judged on wines they did not learn from:
unseen_wines("red", versions=(1,)) are red wines version 1 never trained on.
"""

import numpy as np
import pandas as pd

from workshop_lib import data, export

START = pd.Timestamp("2025-09-01 08:00", tz="UTC")  # a Monday in the harvest season: week 1 of the simulation


def training_wines(version: int) -> pd.DataFrame:
    """The wines (measurements and quality) a served version trained on: module 04's split for that version."""
    x_train, _, y_train, _ = data.split(
        export.load_frame(export.VERSION_SOURCES[version]), test_size=0.2, seed=export.SEED
    )
    return x_train.assign(**{data.TARGET: y_train}).reset_index(drop=True)


def unseen_wines(source: str, versions: tuple[int, ...] = (1,)) -> pd.DataFrame:
    """The wines of `source` ("red", "white") that none of `versions` trained on, duplicates removed."""
    wines = data.drop_duplicates(data.load_wine(source))
    seen = pd.concat([training_wines(version) for version in versions], ignore_index=True)
    key = data.FEATURES + [data.TARGET]
    known = pd.MultiIndex.from_frame(seen[key])
    return wines.loc[~pd.MultiIndex.from_frame(wines[key]).isin(known)].reset_index(drop=True)


def deliveries(wines: pd.DataFrame, n: int, start: pd.Timestamp, days: float, seed: int, prefix: str) -> pd.DataFrame:
    """`n` deliveries drawn from `wines` (with replacement only if n is larger), spread evenly over `days`.

    Columns: request_id ("<prefix>-0001", ...), timestamp (to the minute), the measurements and the
    quality the tasters will give (which the model server never sees).
    """
    chosen = wines.sample(n, replace=n > len(wines), random_state=seed).reset_index(drop=True)
    step = pd.Timedelta(days=days) / n
    times = [(pd.Timestamp(start) + step * (i + 0.5)).floor("min") for i in range(n)]
    ids = [f"{prefix}-{i:04d}" for i in range(1, n + 1)]
    return pd.concat(
        [pd.DataFrame({"request_id": ids, "timestamp": times}), chosen[data.FEATURES + [data.TARGET]]], axis=1
    )


def tasting_results(delivered: pd.DataFrame, seed: int, min_days: int = 14, max_days: int = 42) -> pd.DataFrame:
    """The tasters' scores, each arriving min_days to max_days after its delivery: request_id, quality, tasted_at."""
    rng = np.random.default_rng(seed)
    delays = pd.to_timedelta(rng.integers(min_days * 24, max_days * 24 + 1, len(delivered)), unit="h")
    return pd.DataFrame(
        {
            "request_id": delivered["request_id"].to_numpy(),
            data.TARGET: delivered[data.TARGET].to_numpy(),
            "tasted_at": (delivered["timestamp"] + delays).to_numpy(),
        }
    )


def known_by(labels: pd.DataFrame, moment: str | pd.Timestamp) -> pd.DataFrame:
    """The tasting results that have arrived by `moment`."""
    return labels.loc[labels["tasted_at"] <= pd.Timestamp(moment)].reset_index(drop=True)
