"""workshop_lib.monitoring.series and the Prometheus client, without a Prometheus: the page the job
publishes, read back with the course's parser, and the client's answers and errors from fake servers.

The real Prometheus (scraping, PromQL, the drift alert) is tests/pipeline/test_prometheus.py.
"""

import math
import urllib.request

import pandas as pd
import pytest

from model_server import ServingError, free_port
from workshop_lib import monitoring
from workshop_lib.monitoring import prometheus, series

REPORT = pd.DataFrame(
    {"psi": [3.2, 0.01], "ks_statistic": [0.61, 0.03], "status": ["drift", "stable"]},
    index=pd.Index(["free sulfur dioxide", "pH"], name="feature"),
)
SCORES = [3.9, 4.0, 5.5, 6.5, 7.2, 8.5]


def values(page: str) -> dict:
    """{(metric, label value or None): value} of a page."""
    frame = monitoring.parse_prometheus(page)
    labels = [c for c in frame.columns if c not in ("metric", "value")]
    return {
        (row["metric"], next((row[c] for c in labels if isinstance(row[c], str)), None)): row["value"]
        for _, row in frame.iterrows()
    }


def test_the_page_reads_back_as_what_was_recorded():
    job = monitoring.MonitoringSeries()
    job.record_drift(REPORT, at=1_700_000_000)
    job.record_predictions(SCORES, reference_predictions=[5, 5, 6, 6, 6, 7])
    job.record_hindsight(2, 0.55)
    page = values(job.text())
    assert page[("wine_input_psi", "free_sulfur_dioxide")] == 3.2  # the model's input names
    assert page[("wine_input_ks_statistic", "ph")] == 0.03
    assert page[("wine_batch_wines", None)] == 6
    assert page[("wine_good_wines_flagged_per_100", None)] == 50.0  # 6.5, 7.2, 8.5: >= evaluate.FLAG_FROM
    assert page[("wine_prediction_psi", None)] == pytest.approx(monitoring.psi([5, 5, 6, 6, 6, 7], SCORES))
    assert page[("wine_mae_in_hindsight", "2")] == 0.55
    assert page[("wine_last_batch_timestamp_seconds", None)] > 1_700_000_000  # record_predictions came later
    # The histogram of the batch: cumulative buckets 4, 5, 6, 7, 8, +Inf (le: "less or equal").
    buckets = {le: v for (metric, le), v in page.items() if metric == "wine_predicted_quality_bucket"}
    assert buckets == {"4.0": 2, "5.0": 2, "6.0": 3, "7.0": 4, "8.0": 5, "+Inf": 6}
    assert page[("wine_predicted_quality_count", None)] == 6
    assert page[("wine_predicted_quality_sum", None)] == pytest.approx(sum(SCORES))
    assert {metric for metric, _ in page} <= series.sample_names()


def test_only_what_was_recorded_is_published_and_each_batch_replaces_the_last():
    job = monitoring.MonitoringSeries()
    assert job.text() == ""  # a gauge never set would claim 0
    job.record_drift(REPORT)
    job.record_drift(REPORT.loc[["pH"]].assign(psi=0.3))
    page = values(job.text())
    assert [key for key in page if key[0] == "wine_input_psi"] == [("wine_input_psi", "ph")]
    assert page[("wine_input_psi", "ph")] == 0.3
    job.record_predictions([5.0])
    job.record_predictions([6.0, 7.0])  # the latest batch's histogram, not a running total
    assert values(job.text())[("wine_predicted_quality_count", None)] == 2
    with pytest.raises(ValueError, match="at least one wine"):
        job.record_predictions([])


def test_two_jobs_in_one_process_do_not_share_series():
    first, second = monitoring.MonitoringSeries(), monitoring.MonitoringSeries()
    first.record_hindsight(1, 0.6)
    assert "wine_mae_in_hindsight" in first.text() and second.text() == ""


def test_the_table_names_every_series_once_with_its_type():
    assert set(monitoring.METRICS) == {
        "wine_input_psi",
        "wine_input_ks_statistic",
        "wine_prediction_psi",
        "wine_predicted_quality",
        "wine_batch_wines",
        "wine_good_wines_flagged_per_100",
        "wine_mae_in_hindsight",
        "wine_served_version",
        "wine_last_batch_timestamp_seconds",
    }
    assert {name for name, s in monitoring.METRICS.items() if s.type != "gauge"} == {"wine_predicted_quality"}
    assert monitoring.METRICS["wine_input_psi"].labels == ("feature",)
    assert "wine_predicted_quality_bucket" in series.sample_names()


class FakeServer:
    """status(label=...) as ServingClient: stable names version 1; canary is not assigned."""

    def status(self, label=None):
        if label == "stable":
            return {"model_version_status": [{"version": "1", "state": "AVAILABLE"}]}
        raise ServingError(f"Unknown label {label}", status=404)


def test_served_versions_come_from_the_labels_the_server_knows():
    job = monitoring.MonitoringSeries()
    assert job.record_versions(FakeServer()) == {"stable": 1, "canary": None}
    assert values(job.text()) == {("wine_served_version", "stable"): 1.0}


def test_served_over_http_and_written_as_a_textfile(tmp_path):
    job = monitoring.MonitoringSeries()
    job.record_drift(REPORT)
    with job:
        port = job.serve()
        with pytest.raises(RuntimeError, match="already serving"):
            job.serve()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            served = answer.read().decode()
    assert job.port is None
    assert values(served) == values(job.text())
    path = job.write_textfile(tmp_path / "textfile" / "wine.prom")
    assert values(path.read_text()) == values(job.text())


# --- the Prometheus client ---------------------------------------------------------------------------


def test_query_answers_become_frames_and_numbers(json_server):
    vector = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"status": "OK"}, "value": [1700000000.5, "38"]},
                {"metric": {"status": "NOT_FOUND"}, "value": [1700000000.5, "NaN"]},
            ],
        },
    }
    client = prometheus.PrometheusClient(json_server(200, vector))
    frame = client.query("sum by (status) (x)", time=1700000000.5)
    assert frame.columns.tolist() == ["status", "timestamp", "value"] and frame.attrs["query"].startswith("sum")
    assert frame["value"].iloc[0] == 38.0 and math.isnan(frame["value"].iloc[1])
    with pytest.raises(prometheus.PrometheusError, match="answers 2 series, not one number"):
        client.query_value("sum by (status) (x)")
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1700000000, "0.125"]}}
    assert prometheus.PrometheusClient(json_server(200, scalar)).query_value("1/8") == 0.125
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    assert math.isnan(prometheus.PrometheusClient(json_server(200, empty)).query_value("nothing"))


def test_errors_name_the_query_and_prometheus_s_reason(json_server):
    refused = {"status": "error", "errorType": "bad_data", "error": "1:5: parse error: unclosed left parenthesis"}
    client = prometheus.PrometheusClient(json_server(400, refused))
    with pytest.raises(prometheus.PrometheusError, match=r"refused the query 'sum\(': bad_data: 1:5: parse error"):
        client.query("sum(")
    proxy = prometheus.PrometheusClient(json_server(502, "<html>Bad Gateway</html>"))
    with pytest.raises(prometheus.PrometheusError, match="refused the alerts: HTTP 502: <html>Bad Gateway"):
        proxy.alerts()
    nobody = prometheus.PrometheusClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(prometheus.PrometheusError, match=r"does not answer .*asked for the query 'up'"):
        nobody.query("up")
    assert not nobody.ready()


def test_alerts_and_rules_as_frames(json_server):
    alerts = {
        "status": "success",
        "data": {
            "alerts": [
                {
                    "labels": {"alertname": "InputDrift", "feature": "ph"},
                    "state": "firing",
                    "activeAt": "2025-09-01T08:00:00Z",
                    "value": "3.2e+00",
                }
            ]
        },
    }
    frame = prometheus.PrometheusClient(json_server(200, alerts)).alerts()
    assert frame.columns.tolist() == ["alertname", "state", "feature", "value", "active_at"]
    assert frame.iloc[0]["value"] == 3.2
    rules = {
        "status": "success",
        "data": {
            "groups": [
                {
                    "name": "wine-monitoring",
                    "rules": [
                        {
                            "name": "InputDrift",
                            "state": "inactive",
                            "query": "max by (feature) (wine_input_psi) > 0.25",
                            "health": "ok",
                            "alerts": [],
                            "lastEvaluation": "2025-09-01T08:00:00Z",
                        }
                    ],
                }
            ]
        },
    }
    client = prometheus.PrometheusClient(json_server(200, rules))
    assert client.alert_state("InputDrift") == "inactive"
    assert client.alert_state("InputDrift", evaluated_after="2025-09-01T09:00:00Z") is None  # not evaluated since
    with pytest.raises(prometheus.PrometheusError, match=r"no alert rule 'Nope' \(loaded: \['InputDrift'\]\)"):
        client.alert_state("Nope")


def test_promql_between_two_moments_reads_two_instant_values():
    promql = prometheus.between('x{job="a"}', 100, 160.5, by=("status",))
    assert promql == (
        'sum by (status) (x{job="a"} @ 160.500) - (sum by (status) (x{job="a"} @ 100.000) '
        'or sum by (status) (x{job="a"} @ 160.500) * 0)'
    )


# --- finding a Prometheus ------------------------------------------------------------------------------


def test_find_prometheus_takes_the_url_of_the_environment(monkeypatch, json_server):
    url = json_server(200, "Prometheus Server is Ready.")
    monkeypatch.setenv("PROMETHEUS_URL", url)
    found = prometheus.find_prometheus("127.0.0.1:8501")
    assert found.prometheus.url == url and "(PROMETHEUS_URL)" in found.message
    monkeypatch.setenv("PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    found = prometheus.find_prometheus()
    assert found.prometheus is None and "falling back to two scrapes" in found.message


def test_without_a_binary_the_lesson_falls_back_and_says_why(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    monkeypatch.setenv("PROMETHEUS_BIN", str(tmp_path / "no-prometheus"))
    assert prometheus.prometheus_binary() is None
    found = prometheus.find_prometheus("127.0.0.1:8501")
    assert found.prometheus is None
    assert found.message == (
        "no Prometheus: install Debian/Ubuntu `prometheus` or Homebrew `prometheus`, or set PROMETHEUS_URL; "
        "falling back to two scrapes"
    )
    with pytest.raises(prometheus.PrometheusError, match="no prometheus binary: install Debian/Ubuntu"):
        prometheus.LocalPrometheus("127.0.0.1:8501", rules=False).start()


def test_the_local_config_names_the_two_jobs_and_the_rules(tmp_path):
    rules = tmp_path / "alerts.yml"
    rules.write_text("groups: []\n")
    job = monitoring.MonitoringSeries()
    with job:
        port = job.serve()
        local = prometheus.LocalPrometheus("127.0.0.1:8501", job, rules=rules, binary="prometheus")
        config = local.config()
    assert config["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    assert config["rule_files"] == [str(rules.resolve())]
    assert [
        (c["job_name"], c["metrics_path"], c["static_configs"][0]["targets"]) for c in config["scrape_configs"]
    ] == [
        ("model-server", "/monitoring/prometheus/metrics", ["127.0.0.1:8501"]),
        ("wine-monitoring", "/metrics", [f"127.0.0.1:{port}"]),
    ]
    assert "rule_files" not in prometheus.LocalPrometheus(8501, rules=False, binary="prometheus").config()
    with pytest.raises(FileNotFoundError, match="no alert rules file"):
        prometheus.LocalPrometheus(8501, rules=tmp_path / "missing.yml")
    with pytest.raises(ValueError, match="not served"):
        prometheus.LocalPrometheus(8501, monitoring.MonitoringSeries())
