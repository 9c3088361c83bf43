"""Drift and business numbers as Prometheus series: what the monitoring job publishes for Prometheus to scrape.

A drift report in a notebook is read once; a series in Prometheus is read every few seconds by an alert
rule and a dashboard. The monitoring job of module 06 (and the cycle of module 07) computes PSI, KS, the
prediction distribution and the business metric anyway; MonitoringSeries turns each result into the
series of METRICS, in a registry of its own, and either serves them over HTTP (a long-running job that
Prometheus scrapes, job `wine-monitoring`) or writes them to a textfile (a batch job that ends before
the next scrape; node_exporter's textfile collector, or any web server, publishes the file).

    series = MonitoringSeries()
    series.record_drift(monitoring.drift_report(baseline, batch))
    series.record_predictions(scores, reference_scores)
    port = series.serve()            # http://127.0.0.1:<port>/metrics, until series.stop()
    series.write_textfile(path)      # or: the same page as a file

Every number is the latest batch's, not a running total: a batch job starts from nothing each time, and
an alert on "the latest batch drifted" is the question module 06 asks. The series appear once something
was recorded (a gauge that was never set would say 0, which is a claim, not an absence).
"""

import math
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from prometheus_client import CollectorRegistry, generate_latest, start_http_server, write_to_textfile
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from model_server import ServingClient, ServingError
from workshop_lib import evaluate
from workshop_lib.export import INPUT_NAMES
from workshop_lib.monitoring.drift import psi
from workshop_lib.monitoring.feedback import CANARY, STABLE

# The scrape jobs of the course's Prometheus configs (monitoring/prometheus.yml, prometheus.LocalPrometheus).
MODEL_SERVER_JOB = "model-server"
MODEL_SERVER_METRICS_PATH = "/monitoring/prometheus/metrics"  # TF Serving's and the local server's page
MONITORING_JOB = "wine-monitoring"
MONITORING_METRICS_PATH = "/metrics"
MONITORING_PORT = 9464  # the monitoring job's port inside docker compose; locally any free port


class Series(NamedTuple):
    """One metric the monitoring job publishes: its Prometheus type, its labels, what it means."""

    type: str
    labels: tuple[str, ...]
    help: str


# The contract with monitoring/ (alert rules, Grafana dashboard): change a name here and there together.
# `feature` is the model's input name (export.INPUTS: fixed_acidity, ph, alcohol, ...).
METRICS: dict[str, Series] = {
    "wine_input_psi": Series("gauge", ("feature",), "PSI of the latest batch against the production baseline"),
    "wine_input_ks_statistic": Series("gauge", ("feature",), "Kolmogorov-Smirnov statistic, latest batch vs baseline"),
    "wine_prediction_psi": Series("gauge", (), "PSI of the latest batch's predictions against the reference's"),
    "wine_predicted_quality": Series("histogram", (), "Predicted quality scores of the latest batch"),
    "wine_batch_wines": Series("gauge", (), "Wines in the latest batch"),
    "wine_good_wines_flagged_per_100": Series("gauge", (), "Wines predicted good (>= FLAG_FROM) per 100 in the batch"),
    "wine_mae_in_hindsight": Series("gauge", ("version",), "MAE of a model version once the tasting results arrived"),
    "wine_served_version": Series("gauge", ("label",), "The model version each label names on the server"),
    "wine_last_batch_timestamp_seconds": Series("gauge", (), "When the latest batch was judged (Unix time)"),
}
QUALITY_BUCKETS: tuple[float, ...] = (4.0, 5.0, 6.0, 7.0, 8.0)  # wine_predicted_quality's upper bounds; +Inf last


def sample_names() -> set[str]:
    """Every sample name on the page: the metrics, and a histogram's _bucket, _sum and _count."""
    names = set()
    for name, series in METRICS.items():
        names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"} if series.type == "histogram" else {name}
    return names


def _seconds(moment: datetime | pd.Timestamp | float | None) -> float:
    if moment is None:
        return time.time()
    if isinstance(moment, (int, float)):
        return float(moment)
    stamp = pd.Timestamp(moment)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp()


def label_version(client: ServingClient, label: str) -> int | None:
    """The version `label` names on the server (its status API, as PredictionLogger resolves it), or None."""
    try:
        entries = client.status(label=label)["model_version_status"]
    except ServingError:  # the label is not assigned (404), or the model not loaded
        return None
    available = [int(entry["version"]) for entry in entries if entry.get("state") == "AVAILABLE"]
    return max(available) if available else None


class MonitoringSeries:
    """The monitoring job's series (METRICS) in a registry of its own.

    Its own CollectorRegistry, never prometheus_client's global one: two jobs (or two tests) in one
    process do not see each other's numbers. The instance is the registry's collector: it keeps the
    latest values and turns them into metric families when scraped.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._values: dict[str, dict[tuple[str, ...], float]] = {}
        self._predictions: np.ndarray | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self.registry.register(self)

    # --- what module 06 computes, as series ------------------------------------------------------------

    def _set(self, name: str, value: float, *labels: str) -> None:
        self._values.setdefault(name, {})[tuple(labels)] = float(value)

    def record_drift(self, report: pd.DataFrame, at: datetime | float | None = None) -> None:
        """A drift_report frame (index: feature; columns psi, ks_statistic) as wine_input_psi/_ks_statistic.

        The features are labelled with the model's input names (alcohol, fixed_acidity, ph); features
        of an earlier batch that this report lacks disappear. `at`: when the batch was judged (default now).
        """
        with self._lock:
            self._values["wine_input_psi"], self._values["wine_input_ks_statistic"] = {}, {}
            for feature, row in report.iterrows():
                name = INPUT_NAMES.get(str(feature), str(feature))
                self._set("wine_input_psi", row["psi"], name)
                self._set("wine_input_ks_statistic", row["ks_statistic"], name)
            self._set("wine_last_batch_timestamp_seconds", _seconds(at))

    def record_predictions(
        self,
        predictions: ArrayLike,
        reference_predictions: ArrayLike | None = None,
        at: datetime | float | None = None,
    ) -> None:
        """The latest batch's predicted scores: their histogram, the batch size, the business metric.

        wine_good_wines_flagged_per_100: the share of wines the model flags as good (evaluate.FLAG_FROM),
        the number the sales team plans with. With `reference_predictions` (the predictions on the
        baseline wines), also wine_prediction_psi: a shifted prediction distribution, before any label.
        """
        scores = np.asarray(predictions, dtype=float).reshape(-1)
        if len(scores) == 0:
            raise ValueError("record_predictions needs the predictions of at least one wine")
        with self._lock:
            self._predictions = scores
            self._set("wine_batch_wines", len(scores))
            self._set("wine_good_wines_flagged_per_100", 100.0 * float(np.mean(scores >= evaluate.FLAG_FROM)))
            if reference_predictions is not None:
                self._set("wine_prediction_psi", psi(reference_predictions, scores))
            self._set("wine_last_batch_timestamp_seconds", _seconds(at))

    def record_hindsight(self, version: int | str, mae: float) -> None:
        """The MAE of `version` once the tasting results arrived (feedback.evaluate_in_hindsight)."""
        with self._lock:
            self._set("wine_mae_in_hindsight", mae, str(int(version)))

    def record_versions(self, client: ServingClient, labels: Iterable[str] = (STABLE, CANARY)) -> dict[str, int | None]:
        """Ask the server which version each label names; a label it does not know has no series.

        Returns {label: version or None}: a dashboard shows the version beside the drift it may cause.
        """
        found = {label: label_version(client, label) for label in labels}
        with self._lock:
            self._values["wine_served_version"] = {}
            for label, version in found.items():
                if version is not None:
                    self._set("wine_served_version", version, label)
        return found

    # --- the registry's collector ----------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        """The metric families for a scrape: only what was recorded (prometheus_client calls this)."""
        with self._lock:
            values = {name: dict(samples) for name, samples in self._values.items()}
            predictions = self._predictions
        for name, series in METRICS.items():
            if series.type == "histogram":
                if name == "wine_predicted_quality" and predictions is not None:
                    yield self._quality_histogram(name, series, predictions)
                continue
            samples = values.get(name)
            if not samples:
                continue
            family = GaugeMetricFamily(name, series.help, labels=list(series.labels))
            for labels, value in sorted(samples.items()):
                family.add_metric(list(labels), value)
            yield family

    @staticmethod
    def _quality_histogram(name: str, series: Series, predictions: np.ndarray) -> HistogramMetricFamily:
        bounds = [*QUALITY_BUCKETS, math.inf]
        cumulative = [float(np.sum(predictions <= bound)) for bound in bounds]
        buckets = [("+Inf" if math.isinf(b) else str(b), c) for b, c in zip(bounds, cumulative)]
        return HistogramMetricFamily(name, series.help, buckets=buckets, sum_value=float(predictions.sum()))

    # --- publishing ------------------------------------------------------------------------------------

    def text(self) -> str:
        """The page Prometheus would scrape, as text (the exposition format)."""
        return generate_latest(self.registry).decode("utf-8")

    def serve(self, port: int = 0, addr: str = "127.0.0.1") -> int:
        """Serve the series at http://addr:port/metrics in a background thread; returns the port.

        port 0 takes a free one (tests, a laptop); docker compose's job uses MONITORING_PORT. Loopback by
        default: the page is for the Prometheus next to it, not for the network. stop() ends it.
        """
        if self._server is not None:
            raise RuntimeError(f"already serving on port {self.port}")
        self._server, self._thread = start_http_server(port, addr=addr, registry=self.registry)
        return self.port

    @property
    def port(self) -> int | None:
        """The port serve() listens on, or None."""
        return None if self._server is None else int(self._server.server_port)

    def stop(self) -> None:
        """Stop serving (nothing happens if serve() was not called)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server, self._thread = None, None

    def __enter__(self) -> "MonitoringSeries":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def write_textfile(self, path: str | Path) -> Path:
        """Write the page to `path` (atomically: a reader never sees half a file), for batch jobs.

        A job that ends before the next scrape (module 07's cycle) cannot be scraped; its file can be,
        by node_exporter's textfile collector (a `.prom` file in its folder) or a static web server.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)
        return path
