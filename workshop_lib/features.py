"""Preprocessing that travels with the model.

Scaling lives inside the sklearn Pipeline (see train.py), so it is fitted on the training rows
only and applied identically at prediction time: no leakage, no training/serving skew.
"""

import pandas as pd
from sklearn.preprocessing import StandardScaler

from workshop_lib.data import TARGET

GOOD_WINE_THRESHOLD = 7


def scaler() -> StandardScaler:
    return StandardScaler()


def is_good_wine(quality: pd.Series) -> pd.Series:
    """The binary view of the task: a score of 7 or more is a 'good wine' (about 14 % of the reds)."""
    return (quality >= GOOD_WINE_THRESHOLD).astype(int).rename(f"good_{TARGET}")
