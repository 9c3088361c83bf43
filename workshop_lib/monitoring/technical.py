"""Technical monitoring: does the service work, how fast, at what cost? Read from the model server itself.

TensorFlow Serving (and the course's local server, with the same names) publishes Prometheus metrics
at /monitoring/prometheus/metrics: a plain-text page of counters and histograms that a Prometheus
server would scrape every few seconds. Here prometheus_client's parser turns one scrape into a DataFrame:
- :tensorflow:serving:request_count{model_name, status}: requests answered, by outcome (OK, NOT_FOUND, ...);
- :tensorflow:serving:request_latency{model_name, API, entrypoint}: a histogram of the time the server
  spent on each successful request, in microseconds (buckets `le` = "less or equal").
Counters and histograms only grow, from the server's start; the difference of two scrapes is what
happened in between (metrics_increase). CPU time and memory come from the server's process (psutil).
"""

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from prometheus_client.parser import text_fd_to_metric_families

from model_server import ServingClient

if TYPE_CHECKING:  # psutil is imported when a process is looked at
    import psutil

# TF Serving's metric names (tensorflow_serving/servables/tensorflow/util.cc); the local server uses the same.
REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"


def _number(text: str) -> float:
    """A sample value: a decimal number, or +Inf, -Inf, NaN (Python's float() reads all of them)."""
    return float(text)


class _NumberedLines:
    """The page's lines for the library's parser, counting them: an error names the line it stopped at."""

    def __init__(self, text: str):
        self.lines, self.number, self.line = text.splitlines(), 0, ""

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self.lines, start=1):
            self.number, self.line = number, line
            yield line


def parse_prometheus(text: str) -> pd.DataFrame:
    """Prometheus's text format as a frame: one row per sample, columns metric, value and one per label.

    Read with prometheus_client's parser (the library the Prometheus project maintains for Python), not
    with regular expressions of our own: escaped label values, +Inf, NaN and timestamps are its job.
    Metric names stay as they are on the page: the library calls a counter `x` declared as `# TYPE x
    counter` "x_total" (the OpenMetrics name); here it is `x` again, the name PromQL queries.
    Comment lines (# TYPE, # HELP) give no rows; a line that is not a sample raises ValueError naming it.
    """
    counters = {  # counters declared without _total: the library appends it to their samples
        parts[2]
        for parts in (line.split() for line in text.splitlines() if line.lstrip().startswith("#"))
        if len(parts) >= 4 and parts[1] == "TYPE" and parts[3] == "counter" and not parts[2].endswith("_total")
    }
    lines, rows = _NumberedLines(text), []
    try:
        for family in text_fd_to_metric_families(lines):
            renamed = family.type == "counter" and family.name in counters
            for sample in family.samples:
                name = family.name if renamed and sample.name == family.name + "_total" else sample.name
                rows.append({"metric": name, "value": float(sample.value), **sample.labels})
    except ValueError as error:
        reason = f" ({error})" if str(error) else ""
        raise ValueError(
            f"line {lines.number} is not a Prometheus sample: {lines.line.strip()[:80]!r}{reason}"
        ) from None
    frame = pd.DataFrame(rows, columns=None if rows else ["metric", "value"])
    labels = sorted(column for column in frame.columns if column not in ("metric", "value"))
    return frame[["metric", *labels, "value"]]


def _series_key(frame: pd.DataFrame) -> list[str]:
    return [column for column in frame.columns if column != "value"]


def metrics_increase(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """What happened between two scrapes: after - before for every series (a series new in `after` counts from 0)."""
    key = sorted(set(_series_key(before)) | set(_series_key(after)), key=lambda c: (c != "metric", c))
    before, after = before.reindex(columns=key + ["value"]), after.reindex(columns=key + ["value"])
    merged = after.merge(before, on=key, how="left", suffixes=("", "_before"))
    merged["value"] = merged["value"] - merged["value_before"].fillna(0)
    return merged.drop(columns="value_before")


def request_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Requests per model and status (OK, NOT_FOUND, INVALID_ARGUMENT, ...) from request_count."""
    counts = frame.loc[frame["metric"] == REQUEST_COUNT, ["model_name", "status", "value"]]
    return counts.rename(columns={"value": "requests"}).astype({"requests": int}).reset_index(drop=True)


def latency_buckets(frame: pd.DataFrame, metric: str = REQUEST_LATENCY, **labels: str) -> pd.DataFrame:
    """The histogram of one series as buckets: upper bound in ms, requests in the bucket (not cumulative)."""
    rows = frame.loc[frame["metric"] == f"{metric}_bucket"]
    for name, value in labels.items():
        rows = rows.loc[rows[name] == value]
    series = rows.drop(columns=["metric", "le", "value"]).drop_duplicates()
    if len(series) != 1:
        raise ValueError(
            f"{len(series)} series of {metric} match {labels}: name the labels that pick one "
            f"(e.g. API='predict', entrypoint='REST')"
        )
    bounds = rows["le"].map(_number).to_numpy() / 1e3  # microseconds -> milliseconds
    cumulative = rows["value"].to_numpy()
    order = np.argsort(bounds)
    bounds, cumulative = bounds[order], cumulative[order]
    return pd.DataFrame({"le_ms": bounds, "requests": np.diff(cumulative, prepend=0)})


def histogram_quantile(buckets: pd.DataFrame, q: float) -> float:
    """The q-quantile (0.95 for p95) from histogram buckets, interpolated within a bucket as Prometheus does.

    A histogram only knows which bucket a request fell in, so the answer is an estimate, as exact as
    the buckets are narrow. If the quantile falls in the +Inf bucket, the highest finite bound is returned.
    """
    bounds, counts = buckets["le_ms"].to_numpy(), buckets["requests"].to_numpy()
    total = counts.sum()
    if total == 0:
        return math.nan
    rank = q * total
    cumulative = np.cumsum(counts)
    index = int(np.searchsorted(cumulative, rank, side="left"))
    if math.isinf(bounds[index]):
        return float(bounds[index - 1])
    lower = 0.0 if index == 0 else bounds[index - 1]
    below = 0.0 if index == 0 else cumulative[index - 1]
    return float(lower + (bounds[index] - lower) * (rank - below) / counts[index])


def latency_summary(frame: pd.DataFrame, metric: str = REQUEST_LATENCY) -> pd.DataFrame:
    """Per series of a latency histogram: requests, mean and the p50/p95/p99 estimates, in milliseconds."""
    counts = frame.loc[frame["metric"] == f"{metric}_count"]
    label_columns = [c for c in counts.columns if c not in ("metric", "value", "le") and counts[c].notna().any()]
    rows = []
    for _, series in counts.iterrows():
        labels = {name: series[name] for name in label_columns}
        total = series["value"]
        if total == 0:
            continue
        total_us = frame.loc[
            (frame["metric"] == f"{metric}_sum") & np.logical_and.reduce([frame[n] == v for n, v in labels.items()]),
            "value",
        ].iloc[0]
        buckets = latency_buckets(frame, metric, **labels)
        rows.append(
            {
                **labels,
                "requests": int(total),
                "mean_ms": total_us / total / 1e3,
                **{f"p{round(q * 100)}_ms": histogram_quantile(buckets, q) for q in (0.5, 0.95, 0.99)},
            }
        )
    return pd.DataFrame(rows)


# --- the server process: CPU and memory ----------------------------------------------------------------


def server_process(client: ServingClient) -> "psutil.Process | None":
    """The model server's process (psutil.Process), or None where it cannot be seen from here.

    A local server this kernel started is its child; another one on this machine is found by the port it
    listens on. TensorFlow Serving in a Docker container is another machine's process as far as psutil
    is concerned: there, `docker stats` (or cAdvisor next to Prometheus) reports CPU and memory.
    """
    import psutil

    if getattr(client, "server", None) is not None and client.server.running:
        return psutil.Process(client.server.process.pid)
    port = urlsplit(client.url).port
    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
                return psutil.Process(connection.pid)
    except (psutil.AccessDenied, PermissionError):
        pass
    return None


def process_usage(process: "psutil.Process") -> dict:
    """CPU seconds used so far (user + system), resident memory in MB and threads, of a psutil.Process."""
    with process.oneshot():
        cpu = process.cpu_times()
        return {
            "cpu_seconds": cpu.user + cpu.system,
            "memory_mb": process.memory_info().rss / 2**20,
            "threads": process.num_threads(),
        }
