"""Prometheus metrics with TF Serving's names, labels and buckets, in the text exposition format.

From tensorflow_serving/servables/tensorflow/util.cc and util/prometheus_exporter.cc:
- :tensorflow:serving:request_count{model_name, status}: counter, status is the canonical code
  name (OK, INVALID_ARGUMENT, NOT_FOUND, ...); counted for predict, classify and regress.
- :tensorflow:serving:request_latency{model_name, API, entrypoint}: histogram in microseconds of
  successful requests, API "predict"/"classify"/"regress" with entrypoint "REST",
  "Predict"/"Classify"/"Regress" with entrypoint "GRPC".
- :tensorflow:serving:runtime_latency{model_name, API, runtime}: histogram in microseconds of the
  TensorFlow session run alone, runtime "TF1" (the session-based runtime).
Latency buckets are TF's Exponential(10, 1.8, 33): 10 us up to about 20 minutes, then +Inf.
Hand-written so that the server needs no Prometheus client library.
"""

import threading

BUCKETS = [10 * 1.8**i for i in range(33)]
REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
RUNTIME_LATENCY = ":tensorflow:serving:runtime_latency"


def _number(value: float) -> str:
    """absl::StrCat of a double: %g with six significant digits."""
    return f"{value:g}"


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return ",".join(f'{name}="{value}"' for name, value in zip(names, escaped))


class Histogram:
    """Counts per bucket; a value falls in the first bucket whose limit is above it (TF's Histogram)."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.sum = 0.0

    def add(self, value: float) -> None:
        index = next((i for i, limit in enumerate(BUCKETS) if value < limit), len(BUCKETS))
        self.counts[index] += 1
        self.sum += value


class Metrics:
    """The server's request metrics; thread-safe, rendered on each scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request_count: dict[tuple, int] = {}
        self._request_latency: dict[tuple, Histogram] = {}
        self._runtime_latency: dict[tuple, Histogram] = {}

    def record_request(self, model_name: str, status: str) -> None:
        with self._lock:
            key = (model_name, status)
            self._request_count[key] = self._request_count.get(key, 0) + 1

    def record_request_latency(self, model_name: str, api: str, entrypoint: str, micros: float) -> None:
        with self._lock:
            self._request_latency.setdefault((model_name, api, entrypoint), Histogram()).add(micros)

    def record_runtime_latency(self, model_name: str, api: str, micros: float) -> None:
        with self._lock:
            self._runtime_latency.setdefault((model_name, api, "TF1"), Histogram()).add(micros)

    def render(self) -> str:
        """The metrics page (TYPE lines, no HELP lines, sorted by TF's metric names, as TF Serving)."""
        with self._lock:
            lines = [f"# TYPE {REQUEST_COUNT} counter"]
            names = ("model_name", "status")
            lines += [
                f"{REQUEST_COUNT}{{{_labels(names, key)}}} {count}"
                for key, count in sorted(self._request_count.items())
            ]
            lines += self._histogram(REQUEST_LATENCY, ("model_name", "API", "entrypoint"), self._request_latency)
            lines += self._histogram(RUNTIME_LATENCY, ("model_name", "API", "runtime"), self._runtime_latency)
        return "\n".join(lines) + "\n"

    @staticmethod
    def _histogram(name: str, label_names: tuple, series: dict) -> list[str]:
        lines = [f"# TYPE {name} histogram"]
        for key, histogram in sorted(series.items()):
            labels = _labels(label_names, key)
            cumulative = 0
            for limit, count in zip([*map(_number, BUCKETS), "+Inf"], histogram.counts):
                cumulative += count
                lines.append(f'{name}_bucket{{{labels},le="{limit}"}} {cumulative}')
            lines.append(f"{name}_sum{{{labels}}} {_number(histogram.sum)}")
            lines.append(f"{name}_count{{{labels}}} {cumulative}")
        return lines
