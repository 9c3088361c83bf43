"""A real Prometheus against the local model server and the monitoring job: PromQL agrees with the course.

One module-scoped set-up: the local model server (an untrained wine-shaped model as versions 1 and 2,
labels stable and canary, Prometheus metrics on), the monitoring job's series served on a free port,
and the system's `prometheus` (LocalPrometheus: both jobs every second, the repository's alert rules,
monitoring/alerts.yml). Skipped where there is no prometheus binary, failed instead under
WORKSHOP_REQUIRE_PROMETHEUS=1 (the prometheus_binary fixture, tests/conftest.py).
"""

import time

import numpy as np
import pytest
from served_models import two_versions

from workshop_lib import data, export, monitoring
from workshop_lib.monitoring import prometheus as promql
from workshop_lib.monitoring import simulation
from workshop_lib.monitoring.series import MODEL_SERVER_JOB, MONITORING_JOB
from workshop_lib.serving import LocalModelServer, ServingError


@pytest.fixture(scope="module")
def stack(prometheus_binary, tmp_path_factory):
    root = tmp_path_factory.mktemp("prometheus_stack")
    models_config, monitoring_config = two_versions(root)
    series = monitoring.MonitoringSeries()
    series.serve()
    with (
        LocalModelServer(model_config_file=models_config, monitoring_config_file=monitoring_config) as server,
        promql.LocalPrometheus(server.client("wine"), series, binary=prometheus_binary) as prometheus,  # alerts.yml
    ):
        client = server.client("wine")
        print(f"LocalPrometheus ready in {prometheus.ready_seconds:.2f} s")
        yield client, series, prometheus.client()
        client.close()
    series.stop()


@pytest.fixture(scope="module")
def reference():
    return simulation.training_wines(1)[data.FEATURES]


def test_promql_counts_and_latency_agree_with_the_two_scrapes(stack):
    client, _, prometheus = stack
    started = time.monotonic()
    start = prometheus.wait_for_scrape(MODEL_SERVER_JOB)  # a scrape after everything before this test
    print(f"first model-server scrape {time.monotonic() - started:.2f} s after asking")
    before = monitoring.parse_prometheus(client.metrics())
    rows = data.load_wine("red").head(5)[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")
    failed = 0
    for i in range(40):
        if i % 8 == 7:  # a version that is not served: NOT_FOUND, counted, not timed
            with pytest.raises(ServingError):
                client.predict(rows, version=9)
            failed += 1
        else:
            client.predict(rows, label="stable" if i % 2 else "canary")
    after = monitoring.parse_prometheus(client.metrics())
    end = prometheus.wait_for_scrape(MODEL_SERVER_JOB)  # a scrape that saw every request

    increase = monitoring.metrics_increase(before, after)
    course = monitoring.request_counts(increase).sort_values(["model_name", "status"]).reset_index(drop=True)
    counted = promql.requests_between(prometheus, start, end)
    assert counted.to_dict("list") == course.to_dict("list")
    assert counted.set_index("status")["requests"].to_dict() == {"NOT_FOUND": failed, "OK": 40 - failed}

    assert promql.error_ratio(prometheus, start, end) == pytest.approx(failed / 40, abs=1e-12)

    buckets = monitoring.latency_buckets(increase, API="predict", entrypoint="REST")
    for q in (0.5, 0.95, 0.99):
        ours = monitoring.histogram_quantile(buckets, q)
        theirs = promql.latency_quantile(prometheus, q, start, end)
        print(f"p{round(q * 100)}: two scrapes {ours:.4f} ms, PromQL {theirs:.4f} ms")
        assert theirs == pytest.approx(ours, rel=1e-9)

    # A second window, now that the series exist: still the same integers; increase() (printed for
    # comparison) extrapolates, and over the first window it said nothing: its series were born inside it.
    before, start = after, end
    for i in range(16):
        try:
            client.predict(rows, version=9 if i % 8 == 7 else 1)
        except ServingError:
            pass
    after, end = monitoring.parse_prometheus(client.metrics()), prometheus.wait_for_scrape(MODEL_SERVER_JOB)
    course = monitoring.request_counts(monitoring.metrics_increase(before, after))
    counted = promql.requests_between(prometheus, start, end)
    assert counted.to_dict("list") == course.sort_values(["model_name", "status"]).to_dict("list")
    assert counted.set_index("status")["requests"].to_dict() == {"NOT_FOUND": 2, "OK": 14}
    window = f"{round((end - start) * 1000)}ms"
    extrapolated = prometheus.query(
        f'sum by (status) (increase(:tensorflow:serving:request_count{{job="{MODEL_SERVER_JOB}"}}[{window}]))', time=end
    )
    print(f"increase(...[{window}]):", dict(zip(extrapolated.get("status", []), extrapolated["value"].round(3))))


def test_the_drift_alert_fires_on_lab_d_and_not_on_a_normal_batch(stack, reference):
    client, series, prometheus = stack
    rules = prometheus.alert_rules()
    drift_rules = rules.loc[rules["query"].str.contains("wine_input_psi"), "alertname"].tolist()
    assert len(drift_rules) == 1, f"one alert rule on wine_input_psi, not {drift_rules}"
    alert = drift_rules[0]

    normal = simulation.unseen_wines("red", (1,))
    lab_d = normal.rename(
        columns={"free sulfur dioxide": "total sulfur dioxide", "total sulfur dioxide": "free sulfur dioxide"}
    )
    lab_d["pH"] = lab_d["pH"] + 0.06  # as exercise 06.2 makes lab D's batch
    reference_scores = np.asarray(client.predict(reference.head(300).rename(columns=export.INPUT_NAMES)), dtype=float)

    def publish(batch):
        report = monitoring.drift_report(reference, batch)
        series.record_drift(report)
        scores = np.asarray(client.predict(batch[data.FEATURES].rename(columns=export.INPUT_NAMES)), dtype=float)
        series.record_predictions(scores, reference_scores)
        series.record_versions(client)
        return report, prometheus.wait_for_scrape(MONITORING_JOB)

    report, scraped = publish(normal)
    assert monitoring.drifting_features(report) == []
    assert prometheus.wait_for_alert(alert, "inactive", after=scraped) == "inactive"
    assert prometheus.query_value("wine_batch_wines", time=scraped) == len(normal)
    assert prometheus.query_value('wine_predicted_quality_bucket{le="+Inf"}', time=scraped) == len(normal)
    versions = prometheus.query("wine_served_version", time=scraped)
    assert dict(zip(versions["label"], versions["value"])) == {"canary": 2.0, "stable": 1.0}

    report, scraped = publish(lab_d)
    assert set(monitoring.drifting_features(report)) >= {"free sulfur dioxide", "total sulfur dioxide"}
    assert prometheus.wait_for_alert(alert, "firing", after=scraped) == "firing"
    firing = prometheus.alerts().query("alertname == @alert and state == 'firing'")
    assert set(firing["feature"]) == {export.INPUT_NAMES[f] for f in monitoring.drifting_features(report)}
    psi = prometheus.query("wine_input_psi", time=scraped).set_index("feature")["value"]
    assert psi["total_sulfur_dioxide"] == pytest.approx(report.loc["total sulfur dioxide", "psi"], rel=1e-12)

    _, scraped = publish(normal)  # the next batch is fine again: the alert resolves
    assert prometheus.wait_for_alert(alert, "inactive", after=scraped) == "inactive"
