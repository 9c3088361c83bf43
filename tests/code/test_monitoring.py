"""workshop_lib.monitoring: prediction log, metrics parser, schema and drift, late labels, version comparisons.

Most tests use the course data and small fakes, so they run in a second. One module-scoped local model
server (an untrained wine-shaped model as versions 1 and 2, labels stable and canary) checks the
logger and the metrics against the real thing.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from served_models import two_versions

from workshop_lib import data, export, monitoring
from workshop_lib.monitoring import simulation
from workshop_lib.serving import LocalModelServer

SAMPLE_METRICS = """# TYPE :tensorflow:serving:request_count counter
:tensorflow:serving:request_count{model_name="wine",status="NOT_FOUND"} 2
:tensorflow:serving:request_count{model_name="wine",status="OK"} 10
# TYPE :tensorflow:serving:request_latency histogram
:tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="100"} 0
:tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="200"} 4
:tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="400"} 9
:tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="+Inf"} 10
:tensorflow:serving:request_latency_sum{model_name="wine",API="predict",entrypoint="REST"} 3000
:tensorflow:serving:request_latency_count{model_name="wine",API="predict",entrypoint="REST"} 10
odd_metric{path="a \\"quoted\\" \\\\ value"} 1.5e3 1700000000
"""


@pytest.fixture(scope="module")
def reference():
    """The red wines version 1 trained on: the drift baseline of the lessons."""
    return simulation.training_wines(1)[data.FEATURES]


@pytest.fixture(scope="module")
def red_unseen():
    return simulation.unseen_wines("red", (1,))


# --- drift ------------------------------------------------------------------------------------------


def test_psi_of_identical_samples_is_zero():
    values = np.random.default_rng(0).normal(size=1000)
    assert monitoring.psi(values, values) == pytest.approx(0.0, abs=1e-12)


def test_psi_of_shifted_samples_is_above_the_drift_threshold():
    rng = np.random.default_rng(1)
    reference, current = rng.normal(0, 1, 2000), rng.normal(0.7, 1, 2000)  # 0.7 standard deviations
    score = monitoring.psi(reference, current)
    assert score > monitoring.PSI_DRIFT
    assert monitoring.psi_status(score) == "drift"
    assert monitoring.psi_status(0.05) == "stable" and monitoring.psi_status(0.15) == "watch"


def test_psi_stays_finite_for_empty_bins_and_counts_values_beyond_the_range():
    reference = np.random.default_rng(2).normal(size=1000)
    stuck = np.zeros(100) + 10.0  # every value above the reference's maximum: one bin holds all
    score = monitoring.psi(reference, stuck)
    assert math.isfinite(score)
    expected = (1 - 0.1) * math.log(1 / 0.1) + 9 * (monitoring.EPSILON - 0.1) * math.log(monitoring.EPSILON / 0.1)
    assert score == pytest.approx(expected, rel=1e-2)


def test_psi_takes_its_bins_from_the_reference():
    rng = np.random.default_rng(3)
    narrow, wide = rng.normal(0, 1, 2000), rng.normal(0, 2, 2000)
    assert monitoring.psi(narrow, wide) != pytest.approx(monitoring.psi(wide, narrow), rel=1e-3)


def test_red_wines_of_the_same_population_do_not_drift(reference, red_unseen):
    report = monitoring.drift_report(reference, red_unseen)
    assert monitoring.drifting_features(report) == []
    assert (report["psi"] < monitoring.PSI_WATCH).all()
    assert not report["ks_flag"].any()


def test_white_wines_against_the_red_model_drift_on_all_features_but_alcohol(reference):
    white = simulation.deliveries(
        simulation.unseen_wines("white", (1, 2)), 200, simulation.START, 7, seed=43, prefix="white"
    )
    report = monitoring.drift_report(reference, white)
    different = [feature for feature in data.FEATURES if feature != "alcohol"]
    assert report.loc[different, "ks_flag"].all()
    assert not report.loc["alcohol", "ks_flag"]
    assert report["ks_statistic"].idxmin() == "alcohol"
    assert set(monitoring.drifting_features(report)) == set(different)


def test_large_samples_make_a_small_difference_significant(reference):
    report = monitoring.drift_report(reference, data.load_wine("white"), features=["alcohol"])
    assert report.loc["alcohol", "ks_flag"]  # p far below 0.01 ...
    assert report.loc["alcohol", "ks_statistic"] < 0.15  # ... for a small gap


@pytest.mark.parametrize("feature, broken", [("alcohol", 0.0), ("sulphates", 0.5)])
def test_a_broken_sensor_is_flagged_on_exactly_its_feature(reference, red_unseen, feature, broken):
    batch = red_unseen.assign(**{feature: broken})
    report = monitoring.drift_report(reference, batch)
    assert monitoring.drifting_features(report) == [feature]
    assert report.index[report["ks_flag"]].tolist() == [feature]


def test_baseline_round_trips(tmp_path, reference):
    path = monitoring.save_baseline(reference, tmp_path / "baseline.json", model_version=1)
    loaded = monitoring.load_baseline(path)
    pd.testing.assert_frame_equal(loaded, reference.reset_index(drop=True).astype(float))
    assert loaded.attrs["info"] == {"model_version": 1, "rows": len(reference)}


def test_plot_drift_draws_one_panel_per_batch(reference, red_unseen):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = monitoring.drift_report(reference, red_unseen)
    figure = monitoring.plot_drift({"a": report, "b": report})
    assert len(figure.axes) == 2
    plt.close(figure)


# --- schema ---------------------------------------------------------------------------------------------


def test_schema_rejects_a_corrupt_batch_with_column_and_rows(red_unseen):
    batch = red_unseen.head(30).assign(density=red_unseen["density"].head(30) * 1000)
    with pytest.raises(
        data.DataValidationError, match=r"lab C: column 'density' has values outside \[0.9, 1.1\] in rows 0, 1"
    ):
        monitoring.check_batch(batch, source="lab C")
    report = monitoring.schema_report(batch)
    assert report.loc["density", "outside"] == 30 and not report.loc["density", "ok"]
    assert report.drop(index="density")["ok"].all()


def test_schema_passes_a_batch_without_quality_and_a_stuck_sensor(red_unseen):
    checked = monitoring.check_batch(red_unseen[data.FEATURES].assign(alcohol=0.0))
    assert list(checked.columns) == data.FEATURES


def test_schema_names_missing_and_unexpected_columns(red_unseen):
    with pytest.raises(data.DataValidationError, match=r"missing column\(s\) \['pH'\]"):
        monitoring.check_batch(red_unseen.drop(columns="pH"))
    with pytest.raises(data.DataValidationError, match="unexpected column"):
        monitoring.check_batch(red_unseen.assign(request_id="x"))


# --- the prediction log, with a fake client ----------------------------------------------------------------


class FakeClient:
    """Answers like a ServingClient: labels stable -> 1 and canary -> 2; version v predicts v + alcohol / 100."""

    model_name = "wine"

    def __init__(self):
        self.asked = []

    def status(self, version=None, label=None, model=None):
        versions = {"stable": [1], "canary": [2], None: [1, 2]}[label]
        return {"model_version_status": [{"version": str(v), "state": "AVAILABLE"} for v in versions]}

    def predict(self, instances, version=None, label=None):
        self.asked.append((version, label))
        return [version + row["alcohol"] / 100 for row in instances]


def test_log_round_trips(tmp_path, red_unseen):
    client, path = FakeClient(), tmp_path / "log.jsonl"
    logger = monitoring.PredictionLogger(client, path)
    wines = red_unseen.head(3)
    times = pd.date_range("2025-09-01 08:00", periods=3, freq="h", tz="UTC")
    scores = logger.predict(wines, label="canary", request_ids=["a", "b", "c"], timestamps=times)
    logger.predict(red_unseen.iloc[[3]], request_ids=["d"], timestamps="2025-09-02 10:00")  # no label: the newest
    assert client.asked == [(2, None), (2, None)]  # sent to the version the label names
    assert scores == pytest.approx(2 + wines["alcohol"].to_numpy() / 100)
    log = monitoring.read_log(path)
    assert log["request_id"].tolist() == ["a", "b", "c", "d"]
    assert log["version"].tolist() == [2, 2, 2, 2]
    assert log["label"].tolist()[:3] == ["canary"] * 3 and log["label"].isna().iloc[3]
    assert log["timestamp"].tolist()[:3] == list(times)
    assert str(log["timestamp"].iloc[3]) == "2025-09-02 10:00:00+00:00"
    pd.testing.assert_frame_equal(
        log.loc[:2, data.FEATURES].reset_index(drop=True), wines[data.FEATURES].reset_index(drop=True).astype(float)
    )
    first = json.loads(path.read_text().splitlines()[0])
    assert set(first["inputs"]) == set(export.INPUTS)


def test_log_uses_the_clock_and_random_ids_by_default(tmp_path, red_unseen):
    moment = pd.Timestamp("2030-01-01 12:00", tz="UTC")
    logger = monitoring.PredictionLogger(FakeClient(), tmp_path / "log.jsonl", clock=lambda: moment)
    logger.predict(red_unseen.head(2), version=1)
    log = monitoring.read_log(tmp_path / "log.jsonl")
    assert log["timestamp"].tolist() == [moment, moment]
    assert log["request_id"].nunique() == 2


def test_log_refuses_mismatched_ids_and_missing_measurements(tmp_path, red_unseen):
    logger = monitoring.PredictionLogger(FakeClient(), tmp_path / "log.jsonl")
    with pytest.raises(ValueError, match="3 wines need 3 request ids"):
        logger.predict(red_unseen.head(3), version=1, request_ids=["a"])
    with pytest.raises(KeyError, match="alcohol"):
        logger.predict(red_unseen.head(3).drop(columns="alcohol"), version=1)
    with pytest.raises(FileNotFoundError, match="no prediction log"):
        monitoring.read_log(tmp_path / "missing.jsonl")


# --- delayed ground truth ----------------------------------------------------------------------------------


def small_log_and_labels():
    log = pd.DataFrame(
        {"request_id": ["a", "b", "c", "d"], "version": [1, 1, 2, 2], "prediction": [5.0, 6.0, 5.5, 7.0]}
    )
    labels = pd.DataFrame({"request_id": ["a", "c", "x"], "quality": [6, 5, 4]})
    return log, labels


def test_join_keeps_every_prediction_and_counts_the_unmatched():
    log, labels = small_log_and_labels()
    assert monitoring.match_counts(log, labels) == {
        "predictions": 4,
        "labels": 3,
        "matched": 2,
        "unlabelled predictions": 2,
        "labels without a prediction": 1,
    }
    joined = monitoring.join_ground_truth(log, labels)
    assert joined["request_id"].tolist() == ["a", "b", "c", "d"]
    assert joined["labelled"].tolist() == [True, False, True, False]
    table = monitoring.evaluate_in_hindsight(joined)
    assert table.loc[1].to_dict() == pytest.approx(
        {"predictions": 2, "labelled": 1, "unlabelled": 1, "mae": 1.0, "mean_predicted": 5.5, "mean_actual": 6.0}
    )
    assert table.loc[2, "mae"] == pytest.approx(0.5)


def test_join_refuses_repeated_ids():
    log, labels = small_log_and_labels()
    with pytest.raises(ValueError, match="labels has 1 repeated request_id"):
        monitoring.join_ground_truth(log, pd.concat([labels, labels.head(1)]))


def test_tasting_results_arrive_late_and_known_by_filters():
    delivered = simulation.deliveries(simulation.unseen_wines("red", (1,)), 50, simulation.START, 7, seed=1, prefix="r")
    tasting = simulation.tasting_results(delivered, seed=1)
    delay = tasting["tasted_at"] - delivered["timestamp"]
    assert delay.min() >= pd.Timedelta(days=14) and delay.max() <= pd.Timedelta(days=42)
    assert len(simulation.known_by(tasting, simulation.START)) == 0
    assert len(simulation.known_by(tasting, simulation.START + pd.Timedelta(weeks=8))) == 50
    again = simulation.deliveries(simulation.unseen_wines("red", (1,)), 50, simulation.START, 7, seed=1, prefix="r")
    pd.testing.assert_frame_equal(delivered, again)


# --- A/B tests -------------------------------------------------------------------------------------------


def test_variants_are_deterministic_and_split_by_share():
    ids = [f"ab-{i:04d}" for i in range(4000)]
    variants = [monitoring.assign_variant(i, canary_share=0.2) for i in ids]
    assert variants == [monitoring.assign_variant(i, canary_share=0.2) for i in ids]
    assert variants.count("canary") / len(ids) == pytest.approx(0.2, abs=0.02)
    assert [monitoring.assign_variant(i, 0.2, salt="other") for i in ids] != variants


def test_ab_decision_says_not_enough_data_for_small_samples():
    rng = np.random.default_rng(4)
    tiny = monitoring.ab_decision(np.abs(rng.normal(0, 0.8, 8)), np.abs(rng.normal(0, 0.5, 8)))
    assert tiny.decision == monitoring.UNDECIDED and "only 8 stable and 8 canary" in tiny.reason
    small = monitoring.ab_decision(np.abs(rng.normal(0, 0.8, 25)), np.abs(rng.normal(0, 0.75, 25)))
    assert small.decision == monitoring.UNDECIDED and "contains 0" in small.reason
    assert small.low < 0 < small.high


def test_ab_decision_finds_a_planted_difference_in_large_samples():
    rng = np.random.default_rng(5)
    good, bad = np.abs(rng.normal(0, 0.6, 500)), np.abs(rng.normal(0, 0.8, 500))
    canary_wins = monitoring.ab_decision(bad, good, seed=1)
    assert canary_wins.decision == monitoring.CANARY_BETTER and canary_wins.high < 0
    assert canary_wins.difference == pytest.approx(good.mean() - bad.mean())
    assert monitoring.ab_decision(good, bad).decision == monitoring.STABLE_BETTER
    assert str(monitoring.ab_decision(bad, good, seed=1)) == str(canary_wins)  # seeded: the same interval


# --- shadow mode: paired comparisons, and the sample sizes ----------------------------------------------


def test_pair_errors_pairs_each_wine_with_itself_and_skips_the_unlabelled():
    labels = pd.DataFrame({"request_id": ["a", "b", "c"], "quality": [6, 5, 7]})
    production = pd.DataFrame({"request_id": ["a", "b", "c", "d"], "version": 1, "prediction": [5.0, 5.5, 6.0, 6.0]})
    shadow = pd.DataFrame({"request_id": ["c", "d", "a"], "version": 2, "prediction": [6.5, 6.0, 5.75]})  # no "b"
    pairs = monitoring.pair_errors(
        monitoring.join_ground_truth(production, labels), monitoring.join_ground_truth(shadow, labels)
    )
    assert pairs.sort_values("request_id").to_dict("list") == {
        "request_id": ["a", "c"],  # "b" has no shadow answer, "d" no label yet
        "stable_error": [1.0, 1.0],
        "canary_error": [0.25, 0.5],
        "difference": [-0.75, -0.5],
    }


def test_paired_decision_gives_the_t_interval_of_the_differences():
    stable, canary = np.zeros(3), np.array([1.0, 2.0, 3.0])  # differences 1, 2, 3: mean 2, sd 1
    result = monitoring.paired_decision(stable, canary, min_pairs=0)
    half_width = 4.302653 / math.sqrt(3)  # t(0.975, 2 degrees of freedom) * sd / sqrt(n)
    assert (result.low, result.high) == pytest.approx((2 - half_width, 2 + half_width), abs=1e-5)
    assert result.difference == 2.0 and result.n_stable == result.n_canary == 3
    assert result.decision == monitoring.UNDECIDED and "contains 0" in result.reason
    waiting = monitoring.paired_decision(stable, canary)
    assert waiting.decision == monitoring.UNDECIDED and "only 3 wines" in waiting.reason
    with pytest.raises(ValueError, match="one error of each version per wine"):
        monitoring.paired_decision(stable, canary[:2])


def test_pairs_find_a_small_difference_that_an_ab_split_of_the_same_wines_misses():
    rng = np.random.default_rng(6)
    hardness = np.abs(rng.normal(0, 0.8, 200))  # what makes a wine hard for both versions
    stable = hardness + rng.normal(0, 0.05, 200)
    canary = hardness - 0.05 + rng.normal(0, 0.05, 200)  # 0.05 better on every wine, give or take
    paired = monitoring.paired_decision(stable, canary)
    assert paired.decision == monitoring.CANARY_BETTER and paired.high < 0
    assert monitoring.paired_decision(canary, stable).decision == monitoring.STABLE_BETTER
    split = monitoring.ab_decision(stable[::2], canary[1::2])  # each wine scored by one version only
    assert split.decision == monitoring.UNDECIDED
    assert split.high - split.low > 5 * (paired.high - paired.low)


def test_sample_sizes_follow_the_formulas():
    # sigma = delta: (1.96 + 0.84)^2 = 7.85 wines paired, 2 * 7.85 per version in an A/B test (Lehr's 16).
    assert monitoring.paired_sample_size(1.0, 1.0) == 8
    assert monitoring.ab_sample_size(1.0, 1.0) == 16
    assert monitoring.ab_sample_size(0.5, 0.1) == 393  # 7.849 * 2 * 0.25 / 0.01 = 392.4
    assert monitoring.paired_sample_size(0.25, 0.1) == 50  # 7.849 * 0.0625 / 0.01 = 49.1
    assert monitoring.paired_sample_size(0.25, 0.1, power=0.9) > 50
    assert monitoring.ab_sample_size(0.5, 0.1, alpha=0.01) > 393


# --- metrics ---------------------------------------------------------------------------------------------


def test_metrics_parser_reads_a_sample_page():
    frame = monitoring.parse_prometheus(SAMPLE_METRICS)
    assert len(frame) == 9
    counts = monitoring.request_counts(frame)
    assert counts.set_index("status")["requests"].to_dict() == {"NOT_FOUND": 2, "OK": 10}
    odd = frame.loc[frame["metric"] == "odd_metric"].iloc[0]
    assert odd["path"] == 'a "quoted" \\ value' and odd["value"] == 1500.0
    buckets = monitoring.latency_buckets(frame, API="predict", entrypoint="REST")
    assert buckets["requests"].tolist() == [0, 4, 5, 1]
    assert buckets["le_ms"].iloc[-1] == math.inf
    assert monitoring.histogram_quantile(buckets, 0.5) == pytest.approx(0.2 + 0.2 * (5 - 4) / 5)
    assert monitoring.histogram_quantile(buckets, 0.99) == pytest.approx(0.4)  # in +Inf: the highest finite bound
    summary = monitoring.latency_summary(frame).iloc[0]
    assert summary["requests"] == 10 and summary["mean_ms"] == pytest.approx(0.3)


def test_metrics_increase_is_what_happened_in_between():
    before = monitoring.parse_prometheus(SAMPLE_METRICS)
    after = monitoring.parse_prometheus(
        SAMPLE_METRICS.replace('status="OK"} 10', 'status="OK"} 25')
        + ':tensorflow:serving:request_count{model_name="wine",status="INTERNAL"} 1\n'
    )
    counts = monitoring.request_counts(monitoring.metrics_increase(before, after)).set_index("status")["requests"]
    assert counts.to_dict() == {"INTERNAL": 1, "NOT_FOUND": 0, "OK": 15}
    # Histograms too: two more requests, both slower than 400 us, 2000 us in all.
    slower = (
        SAMPLE_METRICS.replace('le="+Inf"} 10', 'le="+Inf"} 12')
        .replace('entrypoint="REST"} 3000', 'entrypoint="REST"} 5000')
        .replace(
            '_count{model_name="wine",API="predict",entrypoint="REST"} 10',
            '_count{model_name="wine",API="predict",entrypoint="REST"} 12',
        )
    )
    increase = monitoring.metrics_increase(before, monitoring.parse_prometheus(slower))
    assert monitoring.latency_buckets(increase, API="predict")["requests"].tolist() == [0, 0, 0, 2]
    summary = monitoring.latency_summary(increase).iloc[0]
    assert summary["requests"] == 2 and summary["mean_ms"] == pytest.approx(1.0)


def test_metrics_parser_names_a_broken_line():
    with pytest.raises(ValueError, match="line 2 is not a Prometheus sample"):
        monitoring.parse_prometheus("ok_metric 1\nthis is not a sample\n")


def test_metrics_parser_reads_escapes_infinities_and_keeps_counter_names_as_on_the_page():
    page = (
        "# HELP :tensorflow:serving:request_count Requests.\n"
        "# TYPE :tensorflow:serving:request_count counter\n"
        ':tensorflow:serving:request_count{model_name="wine",status="OK"} 3\n'
        "# TYPE jobs_total counter\n"
        "jobs_total 4\n"
        "# TYPE temperature gauge\n"
        'temperature{room="a \\"b\\"\\nc \\\\ d"} -Inf\n'
        'temperature{room="e"} NaN 1700000000000\n'
        'latency_bucket{le="+Inf"} 7\n'
    )
    frame = monitoring.parse_prometheus(page)
    # prometheus_client calls the first counter ..._total; the page (and PromQL) does not.
    assert frame["metric"].tolist() == [
        ":tensorflow:serving:request_count",
        "jobs_total",
        "temperature",
        "temperature",
        "latency_bucket",
    ]
    assert frame.columns.tolist() == ["metric", "le", "model_name", "room", "status", "value"]
    assert frame.loc[2, "room"] == 'a "b"\nc \\ d' and frame.loc[2, "value"] == -math.inf
    assert math.isnan(frame.loc[3, "value"]) and frame.loc[4, "le"] == "+Inf"
    assert frame["value"].dtype == float and frame.loc[0, "value"] == 3.0


@pytest.mark.parametrize(
    "line", ['broken{status="OK"} many', 'broken{status="OK} 1', 'broken{a="1",a="2"} 1', "broken 1 2 3 x"]
)
def test_metrics_parser_names_the_malformed_line(line):
    with pytest.raises(ValueError, match=r"line 3 is not a Prometheus sample: 'broken"):
        monitoring.parse_prometheus(f"# TYPE ok gauge\nok 1\n{line}\nok 2\n")


# --- against a real local model server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("monitoring_server")
    models_config, monitoring_config = two_versions(root)
    with LocalModelServer(model_config_file=models_config, monitoring_config_file=monitoring_config) as server:
        client = server.client("wine")
        yield client
        client.close()


def test_logger_and_metrics_against_the_local_server(tmp_path, client, red_unseen):
    before = monitoring.parse_prometheus(client.metrics())
    logger = monitoring.PredictionLogger(client, tmp_path / "log.jsonl")
    wines = red_unseen.head(4)
    for label in ("stable", "canary"):
        logger.predict(wines, label=label, request_ids=[f"{label}-{i}" for i in range(4)], timestamps="2025-09-01")
    log = monitoring.read_log(tmp_path / "log.jsonl")
    assert log.groupby("label")["version"].first().to_dict() == {"canary": 2, "stable": 1}
    expected = client.predict(wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records"), version=2)
    assert log.loc[log["label"] == "canary", "prediction"].tolist() == pytest.approx(expected, abs=1e-6)

    increase = monitoring.metrics_increase(before, monitoring.parse_prometheus(client.metrics()))
    counts = monitoring.request_counts(increase).query("requests > 0")
    assert counts.set_index("status")["requests"].to_dict() == {"OK": 3}  # two logged requests and the check above
    assert monitoring.latency_summary(increase).iloc[0]["requests"] == 3

    process = monitoring.server_process(client)
    assert process is not None and process.pid == client.server.process.pid
    usage = monitoring.process_usage(process)
    assert usage["cpu_seconds"] > 0 and usage["memory_mb"] > 10 and usage["threads"] >= 1
