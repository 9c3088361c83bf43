"""Prediction logging: every answer of the model server written down with the question that was asked.

The feedback channel production systems forget. Without a record of the inputs, the prediction, the
version that answered, when, and under which id, there is nothing to join the tasting results with
when they arrive weeks later, no record of what the model actually saw to measure drift on, and no
way to tell in hindsight which version was right.

The log is written on the client side, so it works the same against docker compose's TensorFlow
Serving and the course's local server: JSON lines, one line per wine, appended to a file.

    logger = PredictionLogger(client, workspace / "predictions.jsonl")
    scores = logger.predict(wines, label="stable", request_ids=ids, timestamps=times)
    log = read_log(workspace / "predictions.jsonl")   # one row per prediction, measurements as columns
"""

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from model_server import ServingClient
from workshop_lib import data
from workshop_lib.export import INPUT_NAMES

LOG_COLUMNS = ["request_id", "timestamp", "model", "version", "label", "prediction", "latency_ms"]
FEATURE_OF_INPUT = {name: feature for feature, name in INPUT_NAMES.items()}


def _utc(moment: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """A pandas Timestamp in UTC; a naive time is taken to be UTC already."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class PredictionLogger:
    """Predict through a ServingClient and append one JSON line per wine to `path`.

    `clock` gives the time of a request when `timestamps` are not passed (default: now, in UTC); a
    simulation passes its own timestamps instead, so the log is the same on every run.
    """

    def __init__(self, client: ServingClient, path: str | Path, clock: Callable[[], datetime] | None = None):
        self.client, self.path = client, Path(path)
        self.clock = clock or (lambda: datetime.now(UTC))

    def answering_version(self, version: int | None = None, label: str | None = None) -> int:
        """The version that answers a request for `version` or `label` (neither: the newest AVAILABLE one).

        A label is resolved with the server's status API (GET /v1/models/<model>/labels/<label>), which
        TF Serving and the local server both have.
        """
        if version is not None and label is not None:
            raise ValueError("give a version or a label, not both")
        if version is not None:
            return int(version)
        entries = self.client.status(label=label)["model_version_status"]
        available = [int(entry["version"]) for entry in entries if entry["state"] == "AVAILABLE"]
        if not available:
            raise RuntimeError(
                f"no AVAILABLE version of {self.client.model_name} answers "
                f"{'label ' + repr(label) if label else 'a request without a version'}"
            )
        return max(available)

    def predict(
        self,
        wines: pd.DataFrame,
        *,
        version: int | None = None,
        label: str | None = None,
        request_ids: Sequence[str] | None = None,
        timestamps: Sequence[datetime | str] | None = None,
    ) -> np.ndarray:
        """Predict the wines in one request and log each of them; returns the predicted scores.

        wines: a frame with the lab's columns (data.FEATURES; other columns are not sent).
        version / label: which model version to ask (neither: the newest). The label is resolved to a
          version first and the request goes to that version, so the log always names the version that
          really answered, even if someone moves the label in between.
        request_ids: one id per wine (the id the lab quotes again with the tasting result); default: random.
        timestamps: one time per wine, or one for all; default: clock().
        """
        missing = [feature for feature in data.FEATURES if feature not in wines.columns]
        if missing:
            raise KeyError(f"the wines lack the measurement(s) {missing}")
        n = len(wines)
        ids = [uuid.uuid4().hex for _ in range(n)] if request_ids is None else [str(i) for i in request_ids]
        if timestamps is None:
            timestamps = self.clock()
        if isinstance(timestamps, (str, datetime, pd.Timestamp)):
            times = [_utc(timestamps)] * n
        else:
            times = [_utc(moment) for moment in timestamps]
        if len(ids) != n or len(times) != n:
            raise ValueError(f"{n} wines need {n} request ids and timestamps, got {len(ids)} and {len(times)}")
        answered_by = self.answering_version(version, label)
        rows = [
            {INPUT_NAMES[feature]: float(value) for feature, value in row.items()}
            for row in wines[data.FEATURES].to_dict("records")
        ]
        started = time.perf_counter()
        predictions = np.asarray(self.client.predict(rows, version=answered_by), dtype=float).reshape(-1)
        latency_ms = (time.perf_counter() - started) * 1e3
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as log:
            for request_id, moment, inputs, prediction in zip(ids, times, rows, predictions):
                record = {
                    "request_id": request_id,
                    "timestamp": moment.isoformat(),
                    "model": self.client.model_name,
                    "version": answered_by,
                    "label": label,
                    "inputs": inputs,
                    "prediction": float(prediction),
                    "latency_ms": round(latency_ms, 3),
                }
                log.write(json.dumps(record) + "\n")
        return predictions


def read_log(path: str | Path) -> pd.DataFrame:
    """The prediction log as a frame: one row per prediction, the measurements under the lab's names."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no prediction log here (PredictionLogger writes it on the first prediction)")
    records = []
    with open(path, encoding="utf-8") as log:
        for number, line in enumerate(log, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                inputs = record.pop("inputs")
            except (ValueError, KeyError) as error:
                raise ValueError(f"{path}, line {number}: not a prediction log record ({error})") from None
            record.update({FEATURE_OF_INPUT.get(name, name): value for name, value in inputs.items()})
            records.append(record)
    frame = pd.DataFrame(records, columns=None if records else LOG_COLUMNS + data.FEATURES)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["version"] = frame["version"].astype(int)
    return frame[LOG_COLUMNS + [c for c in frame.columns if c not in LOG_COLUMNS]]
