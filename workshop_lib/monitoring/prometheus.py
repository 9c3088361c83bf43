"""Prometheus, as teams run it: a server that scrapes the model server and the monitoring job, PromQL, alerts.

technical.py reads the model server's metrics page by hand and subtracts two scrapes; that is what
Prometheus does for a living, every few seconds, for every target, with the history kept. Here:
- PrometheusClient: Prometheus's HTTP API (/api/v1/query, /api/v1/alerts, /api/v1/rules,
  /api/v1/targets, /-/ready); answers as pandas frames or numbers, errors as PrometheusError with the
  query and Prometheus's own message.
- LocalPrometheus: the `prometheus` binary of the system's packages (Debian/Ubuntu `prometheus`, Homebrew
  `prometheus`) started on a free loopback port with a generated config: the jobs `model-server` and
  `wine-monitoring` (series.py), scraped every second, the repository's alert rules (monitoring/alerts.yml).
- find_prometheus: PROMETHEUS_URL (docker compose sets it), else a LocalPrometheus, else None and why.
- PromQL for the numbers module 06 computes from two scrapes: requests per status, error ratio, latency
  quantiles, over the same window, so that both can be shown side by side.

    prometheus, why = find_prometheus(client, series)
    print(why)
    start = prometheus.wait_for_scrape(MODEL_SERVER_JOB)      # a scrape before the traffic
    ...                                                       # requests
    end = prometheus.wait_for_scrape(MODEL_SERVER_JOB)        # a scrape that saw all of them
    requests_between(prometheus, start, end)                  # model_name, status, requests
    latency_quantile(prometheus, 0.99, start, end)            # ms
"""

import atexit
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from model_server import ServingClient, free_port
from workshop_lib import config
from workshop_lib.monitoring.series import (
    MODEL_SERVER_JOB,
    MODEL_SERVER_METRICS_PATH,
    MONITORING_JOB,
    MONITORING_METRICS_PATH,
    MONITORING_PORT,
    MonitoringSeries,
)
from workshop_lib.monitoring.technical import REQUEST_COUNT, REQUEST_LATENCY

RULES = config.REPO_ROOT / "monitoring" / "alerts.yml"  # the course's alert rules (promtool-tested there)
URL_VARIABLE = "PROMETHEUS_URL"  # docker compose: http://prometheus:9090
BINARY_VARIABLE = "PROMETHEUS_BIN"  # another prometheus binary than the one on PATH
INSTALL_HINT = "install Debian/Ubuntu `prometheus` or Homebrew `prometheus`, or set PROMETHEUS_URL"
LOG_TAIL_LINES = 15
SCRAPE_MARGIN = 0.01  # s: Prometheus aligns a scrape's timestamp to its schedule by up to 2 ms

Moment = float | datetime | pd.Timestamp | str


class PrometheusError(Exception):
    """Prometheus answered with an error, or did not answer: one line with the query and the reason."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this line instead of a traceback
        return [f"PrometheusError: {self}"]


def _seconds(moment: Moment) -> float:
    """Unix seconds from a float, a datetime (naive: UTC) or a timestamp string."""
    if isinstance(moment, (int, float)):
        return float(moment)
    stamp = pd.Timestamp(moment)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp()


def _value(text: str) -> float:
    return float(text)  # Prometheus sends numbers as strings: "1", "0.25", "NaN", "+Inf"


class PrometheusClient:
    """Prometheus's HTTP API at `url` (standard library only). `server`: the LocalPrometheus behind it, kept alive."""

    def __init__(self, url: str, timeout: float = 10.0, server: "LocalPrometheus | None" = None):
        self.url, self.timeout, self.server = url.rstrip("/"), timeout, server

    def __repr__(self) -> str:
        return f"<PrometheusClient {self.url}>"

    def _get(self, path: str, params: dict | None = None, what: str | None = None) -> Any:
        """GET an API path; the `data` of Prometheus's {"status": "success", "data": ...} envelope."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        what = what or path
        try:
            with urllib.request.urlopen(self.url + path + query, timeout=self.timeout) as answer:
                body = answer.read()
        except urllib.error.HTTPError as error:  # 400 bad_data, 422 execution, 503 unavailable: a JSON error
            body = error.read()
            try:
                document = json.loads(body)
                reason = f"{document.get('errorType', 'error')}: {document.get('error', '')}"
            except ValueError:
                reason = f"HTTP {error.code}: {body[:200].decode('utf-8', 'replace').strip()}"
            raise PrometheusError(f"Prometheus at {self.url} refused {what}: {reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PrometheusError(f"Prometheus at {self.url} does not answer ({reason}); asked for {what}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise PrometheusError(f"Prometheus at {self.url} answered {what} with something other than JSON") from None
        if document.get("status") != "success":
            raise PrometheusError(
                f"Prometheus at {self.url} refused {what}: {document.get('errorType')}: {document.get('error')}"
            )
        return document.get("data")

    def ready(self) -> bool:
        """True once Prometheus has loaded its config and storage (GET /-/ready answers 200)."""
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=self.timeout) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    # --- PromQL -------------------------------------------------------------------------------------

    def query(self, promql: str, time: Moment | None = None) -> pd.DataFrame:
        """An instant query: one row per series, a column per label, `value` (and `timestamp`, Unix s).

        `time`: the moment to evaluate at (default: now); a selector there reads each series' latest sample
        at or before it (within Prometheus's 5 minute look-back). A scalar answer is one row without labels.
        """
        params = {"query": promql}
        if time is not None:
            params["time"] = f"{_seconds(time):.3f}"
        data = self._get("/api/v1/query", params, what=f"the query {promql!r}")
        kind, result = data["resultType"], data["result"]
        if kind in ("scalar", "string"):
            rows = [{"timestamp": float(result[0]), "value": _value(result[1]) if kind == "scalar" else result[1]}]
        elif kind == "vector":
            rows = [
                {**item["metric"], "timestamp": float(item["value"][0]), "value": _value(item["value"][1])}
                for item in result
            ]
        else:  # matrix: a range selector, one row per sample
            rows = [
                {**item["metric"], "timestamp": float(stamp), "value": _value(value)}
                for item in result
                for stamp, value in item["values"]
            ]
        frame = pd.DataFrame(rows, columns=None if rows else ["timestamp", "value"])
        labels = sorted(column for column in frame.columns if column not in ("timestamp", "value"))
        frame = frame[[*labels, "timestamp", "value"]]
        frame.attrs["query"] = promql
        return frame

    def query_value(self, promql: str, time: Moment | None = None) -> float:
        """The one number a query answers (a scalar or a single series); NaN when it answers no series."""
        frame = self.query(promql, time)
        if len(frame) > 1:
            raise PrometheusError(f"the query {promql!r} answers {len(frame)} series, not one number: aggregate it")
        return math.nan if frame.empty else float(frame["value"].iloc[0])

    # --- alerts and targets -------------------------------------------------------------------------

    def alerts(self) -> pd.DataFrame:
        """Alerts pending or firing now: alertname, state, their labels, value, active_at (inactive ones are absent)."""
        rows = [
            {
                **alert["labels"],
                "state": alert["state"],
                "value": _value(alert["value"]) if alert.get("value") is not None else math.nan,
                "active_at": pd.Timestamp(alert["activeAt"]) if alert.get("activeAt") else pd.NaT,
            }
            for alert in self._get("/api/v1/alerts", what="the alerts")["alerts"]
        ]
        frame = pd.DataFrame(rows, columns=None if rows else ["alertname", "state", "value", "active_at"])
        labels = sorted(
            column for column in frame.columns if column not in ("alertname", "state", "value", "active_at")
        )
        return frame[["alertname", "state", *labels, "value", "active_at"]]

    def alert_rules(self) -> pd.DataFrame:
        """Every alert rule Prometheus loaded: group, alertname, state (inactive, pending, firing), query, health,
        alerts firing, last_evaluation (a rule not evaluated since a change still shows the old state)."""
        rows = [
            {
                "group": group["name"],
                "alertname": rule["name"],
                "state": rule.get("state", "inactive"),
                "query": rule["query"],
                "health": rule.get("health"),
                "firing": sum(alert["state"] == "firing" for alert in rule.get("alerts", [])),
                "last_evaluation": pd.Timestamp(rule["lastEvaluation"]) if rule.get("lastEvaluation") else pd.NaT,
                "interval": float(group.get("interval") or 0),
            }
            for group in self._get("/api/v1/rules", {"type": "alert"}, what="the alert rules")["groups"]
            for rule in group["rules"]
        ]
        columns = ["group", "alertname", "state", "query", "health", "firing", "last_evaluation", "interval"]
        return pd.DataFrame(rows, columns=columns)

    def alert_state(self, alertname: str, evaluated_after: Moment | None = None) -> str | None:
        """'inactive', 'pending' or 'firing'; None while the rule was not evaluated after `evaluated_after`.

        PrometheusError if no loaded rule has that name.
        """
        rules = self.alert_rules()
        chosen = rules.loc[rules["alertname"] == alertname]
        if chosen.empty:
            raise PrometheusError(
                f"Prometheus at {self.url} has no alert rule {alertname!r} (loaded: {sorted(rules['alertname'])})"
            )
        if evaluated_after is not None:
            # A group's evaluation reads the data at its scheduled moment, which can lie up to one interval
            # before lastEvaluation (the wall clock when it ran): only a run one interval later surely saw it.
            moment = pd.Timestamp(_seconds(evaluated_after), unit="s", tz="UTC")
            started = chosen["last_evaluation"] - pd.to_timedelta(chosen["interval"], unit="s")
            if chosen["last_evaluation"].isna().any() or (started <= moment).any():
                return None
        order = ["inactive", "pending", "firing"]
        return max(chosen["state"], key=order.index)

    def targets(self) -> pd.DataFrame:
        """The active scrape targets: job, instance, health (up, down, unknown), last_scrape, last_error, scrape_url."""
        rows = [
            {
                "job": target["labels"].get("job", target.get("scrapePool")),
                "instance": target["labels"].get("instance"),
                "health": target["health"],
                "last_scrape": pd.Timestamp(target["lastScrape"]),
                "last_error": target.get("lastError", ""),
                "scrape_url": target.get("scrapeUrl"),
            }
            for target in self._get("/api/v1/targets", {"state": "active"}, what="the targets")["activeTargets"]
        ]
        return pd.DataFrame(rows, columns=["job", "instance", "health", "last_scrape", "last_error", "scrape_url"])

    # --- waiting for Prometheus ---------------------------------------------------------------------

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.server is not None and not self.server.running:
                raise self.server.stopped_error()
            if time.monotonic() > deadline:
                raise PrometheusError(f"Prometheus at {self.url} was not ready within {timeout:g} s")
            time.sleep(0.1)

    def wait_for_scrape(self, job: str, after: Moment | None = None, timeout: float = 30.0) -> float:
        """Wait until every target of `job` was scraped (and up) after `after` (default: now); its Unix time.

        A query evaluated at the returned moment sees everything that happened before `after`: the
        samples are stored with the scrape's start time, and `timestamp(up)` only shows a scrape once its
        samples are committed. Pass the returned moment as `start`/`end` of the PromQL helpers below.
        """
        after = (time.time() if after is None else _seconds(after)) + SCRAPE_MARGIN
        deadline, promql = time.monotonic() + timeout, f'timestamp(up{{job="{job}"}})'
        while True:
            scraped = self.query(promql)
            if not scraped.empty and (scraped["value"] > after).all():
                up = self.query(f'up{{job="{job}"}}')
                if (up["value"] == 1).all():
                    return float(scraped["value"].max())
            if self.server is not None and not self.server.running:
                raise self.server.stopped_error()
            if time.monotonic() > deadline:
                targets = self.targets()
                targets = targets.loc[targets["job"] == job]
                state = "; ".join(
                    f"{t.instance} {t.health}{': ' + t.last_error if t.last_error else ''}"
                    for t in targets.itertuples()
                )
                raise PrometheusError(
                    f"Prometheus at {self.url} did not scrape job {job!r} within {timeout:g} s "
                    f"({state or 'no such target: is the job in its config?'})"
                )
            time.sleep(0.1)

    def wait_for_alert(
        self, alertname: str, state: str = "firing", after: Moment | None = None, timeout: float = 30.0
    ) -> str:
        """Wait until the alert is in `state` (inactive, pending, firing) in an evaluation after `after`.

        `after`: e.g. the moment wait_for_scrape returned, so that "inactive" means "evaluated on the new
        numbers and quiet", not "not evaluated yet". Returns the state; PrometheusError on timeout.
        """
        deadline = time.monotonic() + timeout
        while (now := self.alert_state(alertname, after)) != state:
            if self.server is not None and not self.server.running:
                raise self.server.stopped_error()
            if time.monotonic() > deadline:
                raise PrometheusError(
                    f"the alert {alertname!r} is {now or 'not evaluated yet'}, not {state}, after {timeout:g} s"
                )
            time.sleep(0.1)
        return now

    def state_after(self, alertname: str, after: Moment, timeout: float = 30.0) -> str:
        """The alert's state in the first evaluation after `after` (a scrape's moment): the answer to "did the
        new numbers make it fire?", whichever it is. PrometheusError if no evaluation comes within `timeout`."""
        deadline = time.monotonic() + timeout
        while (state := self.alert_state(alertname, after)) is None:
            if self.server is not None and not self.server.running:
                raise self.server.stopped_error()
            if time.monotonic() > deadline:
                raise PrometheusError(f"the rule {alertname!r} was not evaluated within {timeout:g} s after {after}")
            time.sleep(0.1)
        return state

    def close(self) -> None:
        """Stop the LocalPrometheus behind this client, if there is one (a remote Prometheus is left alone)."""
        if self.server is not None:
            self.server.stop()


# --- PromQL for module 06's numbers --------------------------------------------------------------------


def _selector(metric: str, **labels: str | None) -> str:
    matchers = ",".join(f'{name}="{value}"' for name, value in labels.items() if value is not None)
    return f"{metric}{{{matchers}}}"


def between(selector: str, start: Moment, end: Moment, by: Iterable[str] = ()) -> str:
    """PromQL for how much a counter grew from `start` to `end`: its value at end minus its value at start.

    Why not increase(selector[window])? Two reasons it can differ from the course's two scrapes:
    - increase() extrapolates the growth between the first and the last sample inside the window to the
      window's edges (a window that does not start and end on a scrape turns 40 requests into 41.3, and
      each histogram bucket gets its own factor, which moves a quantile);
    - a series born inside the window (the first NOT_FOUND, or every series of a freshly started server)
      has a single sample there, and increase() gives nothing for it.
    Two instant values read with the @ modifier are exactly the two scrapes technical.metrics_increase
    subtracts, and a series missing at `start` counts from 0 (`or ... * 0`), as it does there: the same
    integers. Dashboards and alerts still use rate()/increase(): over minutes, the difference is noise.
    """
    group = f"sum by ({', '.join(by)}) " if by else "sum "
    at_end = f"{group}({selector} @ {_seconds(end):.3f})"
    at_start = f"{group}({selector} @ {_seconds(start):.3f})"
    return f"{at_end} - ({at_start} or {at_end} * 0)"


def requests_between(
    prometheus: PrometheusClient,
    start: Moment,
    end: Moment,
    model: str | None = "wine",
    job: str | None = MODEL_SERVER_JOB,
) -> pd.DataFrame:
    """Requests per model and status from `start` to `end`: the frame technical.request_counts gives
    for the two scrapes (model_name, status, requests), computed by Prometheus (`.attrs["query"]`)."""
    promql = between(_selector(REQUEST_COUNT, job=job, model_name=model), start, end, by=("model_name", "status"))
    frame = prometheus.query(promql, time=end)
    counts = (
        frame.reindex(columns=["model_name", "status", "value"])
        .rename(columns={"value": "requests"})
        .astype({"requests": int})
        .sort_values(["model_name", "status"])
        .reset_index(drop=True)
    )
    counts.attrs["query"] = promql
    return counts


def error_ratio(
    prometheus: PrometheusClient,
    start: Moment,
    end: Moment,
    model: str | None = "wine",
    job: str | None = MODEL_SERVER_JOB,
) -> float:
    """The share of requests from `start` to `end` that did not end OK (NaN without requests)."""
    failed = _selector(REQUEST_COUNT, job=job, model_name=model).replace("}", ',status!="OK"}')
    everything = _selector(REQUEST_COUNT, job=job, model_name=model)
    promql = f"({between(failed, start, end)} or vector(0)) / ({between(everything, start, end)})"
    return prometheus.query_value(promql, time=end)


def latency_quantile(
    prometheus: PrometheusClient,
    q: float,
    start: Moment,
    end: Moment,
    model: str | None = "wine",
    api: str | None = "predict",
    entrypoint: str | None = "REST",
    job: str | None = MODEL_SERVER_JOB,
) -> float:
    """The q-quantile (0.99: p99) of the latency of successful requests from `start` to `end`, in ms.

    PromQL's histogram_quantile over the buckets' growth in the window (between(), not increase(): the
    same buckets technical.histogram_quantile reads, so the same interpolation gives the same number).
    The server's histogram counts microseconds; /1000 gives the course's milliseconds.
    """
    selector = _selector(f"{REQUEST_LATENCY}_bucket", job=job, model_name=model, API=api, entrypoint=entrypoint)
    promql = f"histogram_quantile({q:g}, {between(selector, start, end, by=('le',))}) / 1000"
    return prometheus.query_value(promql, time=end)


# --- a Prometheus of our own ---------------------------------------------------------------------------

# The watch: a second, tiny process that stops Prometheus when the process that started it (a notebook
# kernel) dies without stopping it, as the model server does for itself (PARENT_PID_VARIABLE).
_WATCH = """
import os, shutil, signal, sys, time
parent, child, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
while os.getppid() == parent:  # once the parent dies, this process is someone else's child
    time.sleep(1)
    if not alive(child):  # Prometheus was stopped: nothing to watch
        sys.exit()
os.kill(child, signal.SIGTERM)
for _ in range(100):
    if not alive(child):
        break
    time.sleep(0.1)
shutil.rmtree(folder, ignore_errors=True)  # its storage, config and log
"""


def prometheus_binary() -> str | None:
    """The prometheus executable: PROMETHEUS_BIN, else `prometheus` on PATH; None if there is none."""
    wanted = os.environ.get(BINARY_VARIABLE)
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else shutil.which(wanted)
    return shutil.which("prometheus")


def _target(where: "str | ServingClient | MonitoringSeries | int") -> str:
    """host:port of a scrape target from a ServingClient, a serving MonitoringSeries, a port or 'host:port'."""
    if isinstance(where, ServingClient):
        parts = urllib.parse.urlsplit(where.url)
        return f"{parts.hostname}:{parts.port or 80}"
    if isinstance(where, MonitoringSeries):
        if where.port is None:
            raise ValueError("the MonitoringSeries is not served: call series.serve() first")
        return f"127.0.0.1:{where.port}"
    if isinstance(where, int):
        return f"127.0.0.1:{where}"
    return str(where).removeprefix("http://").rstrip("/")


class LocalPrometheus:
    """The system's `prometheus` in a child process on 127.0.0.1, scraping the course's two jobs every second.

        with LocalPrometheus(model_server=client, monitoring=series) as prometheus:
            prometheus.client().query("up")

    model_server / monitoring: the targets (a ServingClient, a serving MonitoringSeries, a port or
    'host:port'); None leaves a job out. rules: an alert rules file (default monitoring/alerts.yml when
    it exists; False: none). Its storage lives in a temporary folder, removed on stop().
    """

    def __init__(
        self,
        model_server: "str | ServingClient | int | None" = None,
        monitoring: "str | MonitoringSeries | int | None" = None,
        *,
        rules: str | Path | bool | None = None,
        interval: str = "1s",
        port: int = 0,
        binary: str | None = None,
        timeout: float = 60.0,
        extra_args: Iterable[str] = (),
    ) -> None:
        self.targets = {
            MODEL_SERVER_JOB: (MODEL_SERVER_METRICS_PATH, None if model_server is None else _target(model_server)),
            MONITORING_JOB: (MONITORING_METRICS_PATH, None if monitoring is None else _target(monitoring)),
        }
        if rules is None:
            rules = RULES if RULES.is_file() else False
        self.rules = None if rules is False else Path(rules).resolve()
        if self.rules is not None and not self.rules.is_file():
            raise FileNotFoundError(f"{self.rules}: no alert rules file here")
        self.interval, self.port, self.timeout, self.extra_args = interval, port, timeout, list(extra_args)
        self.binary = binary or prometheus_binary()
        self.process: subprocess.Popen | None = None
        self.directory: Path | None = None
        self.log_path: Path | None = None
        self.ready_seconds: float | None = None  # how long the last start took until /-/ready
        self._log_file = None
        self._watch: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 10.0) -> PrometheusClient:
        """A client for this Prometheus (it keeps the server referenced, so it keeps running)."""
        return PrometheusClient(self.url, timeout, server=self)

    def config(self) -> dict:
        """The prometheus.yml this server runs with (as monitoring/prometheus-local.yml, every second)."""
        interval = self.interval  # scrape_timeout may not be longer than the interval (its default is 10 s)
        document: dict = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval}
        }
        if self.rules is not None:
            document["rule_files"] = [str(self.rules)]
        document["scrape_configs"] = [
            {"job_name": job, "metrics_path": path, "static_configs": [{"targets": [target]}]}
            for job, (path, target) in self.targets.items()
            if target is not None
        ]
        return document

    def command(self, config_file: Path, storage: Path) -> list[str]:
        return [
            str(self.binary),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={storage}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
            *self.extra_args,
        ]

    # --- life cycle ---------------------------------------------------------------------------------

    def start(self, wait: bool = True) -> "LocalPrometheus":
        """Start Prometheus; with wait, return once it answers /-/ready."""
        if self.running:
            return self
        if not self.binary:
            raise PrometheusError(f"no prometheus binary: {INSTALL_HINT}")
        started = time.monotonic()
        self.port = self.port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="prometheus-"))
        config_file = self.directory / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(self.config(), sort_keys=False), encoding="utf-8")
        self.log_path = self.directory / "prometheus.log"
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command(config_file, self.directory / "data"),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,  # an interrupted kernel (SIGINT to its group) does not stop it
        )
        self._watch = subprocess.Popen(
            [sys.executable, "-c", _WATCH, str(os.getpid()), str(self.process.pid), str(self.directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        atexit.register(self.stop)
        if wait:
            try:
                self.client().wait_until_ready(self.timeout)
            except PrometheusError as error:
                failure = error  # a stopped Prometheus: the error says why, with its log
                if self.running:
                    failure = self._failure(f"Prometheus on {self.url} was not ready within {self.timeout:g} s.")
                self.stop()
                raise failure from None
            self.ready_seconds = time.monotonic() - started
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Everything Prometheus has logged so far (warnings and errors: --log.level=warn)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _failure(self, message: str) -> PrometheusError:
        tail = [line for line in self.log().splitlines() if line.strip()][-LOG_TAIL_LINES:]
        details = "\n".join(f"    {line}" for line in tail) or "    (nothing logged)"
        return PrometheusError(f"{message}\n  Last lines of Prometheus's log:\n{details}")

    def stopped_error(self) -> PrometheusError:
        """Why this Prometheus no longer answers: its exit code (or signal) and the end of its log."""
        code = self.process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        return self._failure(f"Prometheus (process {self.process.pid}) has stopped ({how}).")

    def stop(self) -> None:
        """Stop Prometheus (SIGTERM, then SIGKILL after 10 s) and remove its config, storage and log."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._watch is not None and self._watch.poll() is None:
            self._watch.terminate()
            self._watch.wait()
        self._watch = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        atexit.unregister(self.stop)

    def __enter__(self) -> "LocalPrometheus":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalPrometheus {state} url={self.url}>"


ADDRESS_VARIABLE = "WINE_MONITORING_ADDR"  # docker compose: 0.0.0.0, so Prometheus's container reaches the lab's


def serve_series(series: MonitoringSeries) -> int:
    """Serve the monitoring job's series where the Prometheus of find_prometheus will look; the port.

    With PROMETHEUS_URL, that Prometheus has its own config (monitoring/prometheus.yml: the lab's port
    MONITORING_PORT; prometheus-local.yml: 127.0.0.1:MONITORING_PORT), so the port is fixed and the address is
    WINE_MONITORING_ADDR (compose sets 0.0.0.0; otherwise loopback). Without it, a free loopback port, which
    find_prometheus hands to the LocalPrometheus it starts.
    """
    if os.environ.get(URL_VARIABLE):
        return series.serve(MONITORING_PORT, addr=os.environ.get(ADDRESS_VARIABLE, "127.0.0.1"))
    return series.serve()


class Found(NamedTuple):
    """What find_prometheus found: a client (or None) and one line that says which Prometheus, or why none."""

    prometheus: PrometheusClient | None
    message: str


def find_prometheus(
    model_server: "str | ServingClient | int | None" = None,
    monitoring: "str | MonitoringSeries | int | None" = None,
    *,
    rules: str | Path | bool | None = None,
) -> Found:
    """The Prometheus the lesson queries, and one line saying which (print it).

    1. PROMETHEUS_URL (docker compose sets it): that server, with its own config (monitoring/prometheus.yml);
       the targets given here are ignored.
    2. A `prometheus` binary (PROMETHEUS_BIN or PATH): a LocalPrometheus scraping the given targets.
    3. None: module 06 falls back to its two scrapes, and the message says so.
    """
    url = os.environ.get(URL_VARIABLE)
    if url:
        prometheus = PrometheusClient(url)
        if not prometheus.ready():
            return Found(None, f"PROMETHEUS_URL={url} does not answer /-/ready; falling back to two scrapes")
        return Found(prometheus, f"Prometheus at {url} (PROMETHEUS_URL), scraping what its config names")
    if prometheus_binary() is None:
        return Found(None, f"no Prometheus: {INSTALL_HINT}; falling back to two scrapes")
    server = LocalPrometheus(model_server, monitoring, rules=rules).start()
    jobs = ", ".join(f"{job} at {target}" for job, (_, target) in server.targets.items() if target)
    return Found(
        server.client(),
        f"a local Prometheus on {server.url} (ready in {server.ready_seconds:.1f} s), scraping {jobs or 'nothing'}",
    )
