"""The building blocks of the cycle, each usable on its own: the stable split, training and scoring a
candidate, the quality gate, the version folders, and talking to the model server.

A run (workshop_lib.cycle.run) calls them in order; the lesson calls some of them by hand.
"""

import functools
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model_server import versions
from workshop_lib import data, params
from workshop_lib.cycle.folders import (
    MARGIN,
    METRIC,
    MODEL_NAME,
    PICK_UP_TIMEOUT,
    REGION_TOLERANCE,
    REGIONS,
    Cycle,
    CycleError,
)

if TYPE_CHECKING:
    import keras

    from workshop_lib.serving import LocalModelServer, ServingClient

# workshop_lib.export (scikit-learn, TensorFlow) is imported inside the functions that need it: the split
# stage and a batch that fails validation finish in about a second, without loading either.


def stable_split(frame: pd.DataFrame, test_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duplicates removed, then (train, test), each wine's side fixed by a hash of its values.

    Unlike a shuffled split, adding wines never moves a wine from one side to the other: the wines
    held out today are held out in every later cycle, so no version is graded on wines it learned from.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be between 0 and 1, got {test_share}")
    unique = data.drop_duplicates(frame[list(data.SCHEMA)])
    digest = pd.util.hash_pandas_object(unique, index=False).to_numpy()
    in_test = (digest % 10_000) < round(test_share * 10_000)
    return unique[~in_test].reset_index(drop=True), unique[in_test].reset_index(drop=True)


def train_candidate(train: pd.DataFrame, settings: dict) -> "keras.Model":
    """Module 04's Keras model (preprocessing inside), trained on the training wines with the train params."""
    from workshop_lib import export

    return export.fit_keras_model(
        train[data.FEATURES],
        train[data.TARGET],
        epochs=int(settings["epochs"]),
        batch_size=int(settings["batch_size"]),
        seed=int(settings["seed"]),
        hidden_units=int(settings["hidden_units"]),
        learning_rate=float(settings["learning_rate"]),
    )


def predict_saved_model(saved_model_dir: Path, wines: pd.DataFrame) -> "np.ndarray":
    """Scores from a SavedModel's signature: the files that get served, not a Keras object in memory."""
    from workshop_lib import export

    return export.predict_signature(export.load_signature(saved_model_dir), wines)


@functools.cache
def _wines_of_region(region: str) -> frozenset:
    return frozenset(data.load_wine(region)[list(data.SCHEMA)].itertuples(index=False, name=None))


def regions_of(wines: pd.DataFrame) -> list[str]:
    """Each wine's region: "red" or "white" (REGIONS), or "other" for a wine in neither file.

    The schema has no region column, so a wine's region is the course's data file it comes from. A team's
    data would carry the column (region, customer, lab) and the gate would read it from there.
    """
    rows = wines[list(data.SCHEMA)].itertuples(index=False, name=None)
    return [next((region for region in REGIONS if row in _wines_of_region(region)), "other") for row in rows]


def metrics_of(y_true: Sequence[float], y_pred: Sequence[float], regions: Sequence[str] | None = None) -> dict:
    """MAE, RMSE and R² of the predictions, with the number of wines, and with `regions` (one per wine)
    also mae_<region> and n_<region> for each of REGIONS: what the gate compares."""
    from workshop_lib import evaluate

    metrics = evaluate.regression_metrics(y_true, y_pred) | {"n_test": int(len(y_true))}
    if regions is not None:
        errors = np.abs(np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float))
        regions = np.asarray(list(regions))
        if len(regions) != len(errors):
            raise ValueError(f"{len(regions)} regions for {len(errors)} wines: one region per wine")
        for region in REGIONS:
            chosen = errors[regions == region]
            metrics[f"n_{region}"] = int(len(chosen))
            metrics[f"{METRIC}_{region}"] = float(chosen.mean()) if len(chosen) else None
    return metrics


def baseline_metrics(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """The bar before any version exists: always predict the training wines' average score."""
    return metrics_of(test[data.TARGET], [float(train[data.TARGET].mean())] * len(test), regions_of(test))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def quality_gate(
    candidate_metrics: dict,
    production_metrics: dict,
    margin: float = MARGIN,
    region_tolerance: float | None = REGION_TOLERANCE,
) -> tuple[bool, str]:
    """(promote, reason): promote only if the candidate's MAE is lower than production's by at least `margin`,
    measured on the same held-out wines, and no region's MAE (mae_red, mae_white) is higher than production's
    by more than `region_tolerance` (None: overall only). A better average can hide a region that got worse,
    and that region's customers see only their own wines. A missing metric or a different test set is a
    refusal, not a crash; a region without wines on either side is not compared."""
    values = {}
    for name, metrics in (("candidate", candidate_metrics), ("production", production_metrics)):
        for key in (METRIC, "n_test"):
            if _missing((metrics or {}).get(key)):
                return False, f"the {name} has no {key}: nothing to compare, so production stays"
        values[name] = metrics[METRIC]
    if candidate_metrics["n_test"] != production_metrics["n_test"]:
        return False, (
            f"different test sets ({candidate_metrics['n_test']} vs {production_metrics['n_test']} wines): "
            "the numbers are not comparable"
        )
    candidate, production = values["candidate"], values["production"]
    gain = production - candidate
    overall = f"MAE {candidate:.3f} vs {production:.3f}"
    if gain < margin:
        if gain > 0:
            return False, f"{overall}: lower by only {gain:.3f}, less than the margin {margin:g}"
        return False, f"{overall}: not better than production"
    passed = f"{overall}: lower by {gain:.3f}, at least the margin {margin:g}"
    if region_tolerance is None:
        return True, passed
    compared = []
    for region in REGIONS:
        key = f"{METRIC}_{region}"
        mine, theirs = candidate_metrics.get(key), production_metrics.get(key)
        if _missing(mine) or _missing(theirs):
            continue
        if candidate_metrics.get(f"n_{region}") != production_metrics.get(f"n_{region}"):
            return False, f"different {region} test wines: the regions are not comparable"
        if mine - theirs > region_tolerance:
            return False, (
                f"{passed}, but on the {region} wines {mine:.3f} vs {theirs:.3f}: worse by {mine - theirs:.3f}, "
                f"more than the region tolerance {region_tolerance:g}"
            )
        compared.append(f"{region} {theirs:.3f} -> {mine:.3f}")
    if not compared:
        return True, passed
    return True, f"{passed}; no region worse by more than {region_tolerance:g} ({', '.join(compared)})"


def production_version(base_path: Path) -> int | None:
    """The newest numbered version folder in the base path (what the server serves), or None."""
    return versions.latest_version(base_path)


def next_version(base_path: Path) -> int:
    """One more than the highest version in the base path: 1 for an empty or missing one.

    Numbers, not names: "10" sorts before "2" as text. Hidden export folders (.export-3-...) do not count.
    """
    return versions.next_version(base_path)


def publish(saved_model_dir: Path, base_path: Path, version: int) -> Path:
    """Copy a SavedModel to <base_path>/<version>: into a hidden folder first, then one rename.

    A version that exists already is never overwritten by the cycle (versions.VersionExistsError).
    """
    return versions.publish(base_path, version, saved_model_dir)


def withdraw(base_path: Path, version: int) -> None:
    """Take a version away from the server (after a failed smoke test): it falls back to the previous one."""
    versions.withdraw(base_path, version)


def version_states(client: "ServingClient") -> dict[int, str]:
    """{version: state} as the server reports them, e.g. {1: "END", 2: "AVAILABLE"}."""
    from workshop_lib.serving import ServingError

    try:
        entries = client.status()["model_version_status"]
    except ServingError:
        return {}
    return dict(sorted((int(entry["version"]), entry["state"]) for entry in entries))


def serving_version(client: "ServingClient") -> int | None:
    """The version the server answers with when a client names none: the newest AVAILABLE one."""
    available = [version for version, state in version_states(client).items() if state == "AVAILABLE"]
    return max(available, default=None)


def wait_for_version(client: "ServingClient", version: int, timeout: float = PICK_UP_TIMEOUT) -> float:
    """Seconds until the server reports `version` AVAILABLE; CycleError if it fails to load or takes too long."""
    from workshop_lib.serving import ServingError

    started = time.monotonic()
    while True:
        try:
            entry = client.status(version=version)["model_version_status"][0]
            if entry["state"] == "AVAILABLE":
                return time.monotonic() - started
            if entry["state"] == "END" and entry.get("status", {}).get("error_code", "OK") != "OK":
                raise CycleError(
                    f"the server could not load version {version}: {entry['status'].get('error_message', '')}"
                )
        except ServingError:
            pass  # not known to the server yet: it has not polled the folder since the export
        if time.monotonic() - started > timeout:
            raise CycleError(
                f"the server did not make version {version} AVAILABLE within {timeout:g} s: "
                "does it watch this base path?"
            )
        time.sleep(0.2)


def wait_until_serving(client: "ServingClient", version: int, timeout: float = PICK_UP_TIMEOUT) -> float:
    """Seconds until `version` is the one the server answers with (serving_version); CycleError after timeout."""
    started = time.monotonic()
    while serving_version(client) != version:
        if time.monotonic() - started > timeout:
            now = serving_version(client)
            raise CycleError(f"the server still answers with version {now}, not {version}, after {timeout:g} s")
        time.sleep(0.2)
    return time.monotonic() - started


def smoke_test(client: "ServingClient", version: int, wines: pd.DataFrame, expected: Sequence[float]) -> list[str]:
    """What is wrong with `version` as served, as sentences; [] if it passes.

    1. the server reports the version AVAILABLE; 2. its REST predictions for `wines` equal `expected`
    (the in-process predictions of the same SavedModel) within export.PARITY_TOLERANCE. A server error
    is a problem to report, not a crash.
    """
    from workshop_lib import export
    from workshop_lib.serving import ServingError

    try:
        state = client.status(version=version)["model_version_status"][0]["state"]
    except ServingError as error:
        return [f"the server does not report version {version}: {error}"]
    if state != "AVAILABLE":
        return [f"version {version} is {state}, not AVAILABLE"]
    rows = wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")
    try:
        served = client.predict(rows, version=version)
    except ServingError as error:
        return [f"a REST prediction with version {version} failed: {error}"]
    difference = export.max_abs_difference(served, expected)
    if difference > export.PARITY_TOLERANCE:
        return [
            f"REST predictions of version {version} differ from the in-process ones by up to {difference:.2g} "
            f"quality points (tolerance {export.PARITY_TOLERANCE:g})"
        ]
    return []


def save_baseline(train: pd.DataFrame, path: Path, **info: Any) -> Path:
    """The training wines' measurements as the drift reference, in module 06's format (monitoring.save_baseline)."""
    from workshop_lib.monitoring import drift

    return drift.save_baseline(train[data.FEATURES], path, **info)


def start_server(cycle: Cycle, wait: bool = False) -> "LocalModelServer":
    """A local model server on the cycle's base path, polling it every second, like TF Serving would.

    Without wait it may start before any version exists: it loads each version as it appears.
    """
    from workshop_lib.serving import LocalModelServer

    cycle.served.mkdir(parents=True, exist_ok=True)
    return LocalModelServer(
        model_base_path=cycle.served, model_name=MODEL_NAME, file_system_poll_wait_seconds=1, timeout=PICK_UP_TIMEOUT
    ).start(wait=wait)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """["train.epochs=5", "gate.margin=0.02"] -> {"train.epochs": 5, "gate.margin": 0.02}, checked by params.RULES."""
    return params.parse_overrides(pairs, "cycle")
