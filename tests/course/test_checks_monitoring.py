"""The checks of module 06 are not vacuous: right answers pass, typical mistakes get "not quite" and a hint.

For every exercise: the solution's way and other right ways (np.searchsorted or pd.cut for the bins,
epsilon added instead of clipped, a right join from the labels, a vectorised or standard-library
bootstrap) -> "correct"; the usual mistakes (PSI arguments swapped or
without epsilon, an inner join, a decision on the difference of the means) -> "not quite" with what
is wrong; the placeholder `...` -> "not solved yet" and the reference result. No model server needed.
"""

import math
import random
import statistics

import numpy as np
import pandas as pd
import pytest
from verdicts import assert_not_quite, verdict_of

from course.checks import monitoring as checks
from workshop_lib import data, monitoring
from workshop_lib.monitoring import simulation

# --- 06.1 psi --------------------------------------------------------------------------------------------


def solution_psi(reference, current, bins=10, epsilon=1e-4):
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(reference, edges)[0] / len(reference)
    actual = np.histogram(current, edges)[0] / len(current)
    expected, actual = np.maximum(expected, epsilon), np.maximum(actual, epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def without_epsilon(reference, current, bins=10, epsilon=1e-4):
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(reference, edges)[0] / len(reference)
    actual = np.histogram(current, edges)[0] / len(current)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def test_psi_solution_and_reference_are_correct(capsys):
    assert checks.check_psi(solution_psi) is solution_psi
    assert verdict_of(capsys, "06.1")[0] == "correct"
    checks.check_psi(monitoring.psi)
    assert verdict_of(capsys, "06.1")[0] == "correct"


def psi_with_searchsorted(reference, current, bins=10, epsilon=1e-4):
    """Only the inner edges, each value placed with np.searchsorted and counted with np.bincount; a numpy float back."""
    inner = np.quantile(reference, np.arange(1, bins) / bins)

    def shares(values):
        counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=bins)
        return np.clip(counts / len(values), epsilon, None)

    expected, actual = shares(np.asarray(reference)), shares(np.asarray(current))
    return np.sum((actual - expected) * np.log(actual / expected))


def psi_with_pandas_and_a_loop(reference, current, bins=10, epsilon=1e-4):
    """pandas' quantile and cut (bins closed on the left, like np.histogram's), then a loop over the bins."""
    edges = np.array(pd.Series(reference).quantile([i / bins for i in range(bins + 1)]))
    edges[0], edges[-1] = -np.inf, np.inf
    expected, actual = (
        pd.cut(pd.Series(values), edges, right=False).value_counts(normalize=True, sort=False)
        for values in (reference, current)
    )
    total = 0.0
    for share_expected, share_actual in zip(expected, actual, strict=True):
        share_expected, share_actual = max(share_expected, epsilon), max(share_actual, epsilon)
        total += (share_actual - share_expected) * math.log(share_actual / share_expected)
    return total


def psi_adding_epsilon(reference, current, bins=10, epsilon=1e-4):
    """epsilon added to every share instead of clipping at it: another common recipe, the same PSI to 1e-4."""
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(reference, edges)[0] / len(reference) + epsilon
    actual = np.histogram(current, edges)[0] / len(current) + epsilon
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@pytest.mark.parametrize("function", [psi_with_searchsorted, psi_with_pandas_and_a_loop, psi_adding_epsilon])
def test_psi_with_searchsorted_pandas_or_added_epsilon_is_correct(capsys, function):
    assert checks.check_psi(function) is function
    assert verdict_of(capsys, "06.1")[0] == "correct"


def test_psi_not_solved_gives_the_reference(capsys):
    assert checks.check_psi(...) is monitoring.psi
    assert verdict_of(capsys, "06.1")[0] == "not solved yet"

    def stub(reference, current, bins=10, epsilon=1e-4):
        return ...

    assert checks.check_psi(stub) is monitoring.psi
    assert verdict_of(capsys, "06.1")[0] == "not solved yet"


def test_psi_mistakes_are_named(capsys):
    mistakes = [
        (
            lambda reference, current, bins=10, epsilon=1e-4: solution_psi(current, reference, bins, epsilon),
            "the arguments are swapped",
        ),
        (without_epsilon, "ln(0) is minus infinity"),
        (
            lambda reference, current, bins=10, epsilon=1e-4: checks._closed_edges_psi(
                reference, current, bins, epsilon
            ),
            "-np.inf",
        ),
        (
            lambda reference, current, bins=10, epsilon=1e-4: checks._equal_width_psi(
                reference, current, bins, epsilon
            ),
            "equal width",
        ),
        (
            lambda reference, current, bins=10, epsilon=1e-4: checks._one_sided_psi(reference, current, bins, epsilon),
            "one half of the formula",
        ),
        (
            lambda reference, current, bins=10, epsilon=1e-4: solution_psi(reference, current),
            "ignores its bins argument",
        ),
        (lambda reference, current, bins=10, epsilon=1e-4: [solution_psi(reference, current, bins)], "not one number"),
        (lambda reference, current, bins=10, epsilon=1e-4: 1 / 0, "ZeroDivisionError"),
        (0.25, "not a function"),
    ]
    for function, fragment in mistakes:
        assert checks.check_psi(function) is monitoring.psi
        assert_not_quite(capsys, "06.1", fragment)


# --- 06.2 the drifting features -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference():
    return simulation.training_wines(1)[data.FEATURES]


@pytest.fixture(scope="module")
def lab_d():
    wines = simulation.unseen_wines("red", (1,)).rename(
        columns={"free sulfur dioxide": "total sulfur dioxide", "total sulfur dioxide": "free sulfur dioxide"}
    )
    return wines.assign(pH=wines["pH"] + 0.06)


def test_drifting_solution_is_correct(capsys, reference, lab_d):
    scores = pd.Series({feature: solution_psi(reference[feature], lab_d[feature]) for feature in data.FEATURES})
    drifting = scores[scores > 0.25].index.tolist()
    assert sorted(drifting) == ["free sulfur dioxide", "total sulfur dioxide"]
    assert checks.check_drifting(scores, drifting, reference, lab_d)[1] == drifting
    assert verdict_of(capsys, "06.2")[0] == "correct"
    checks.check_drifting(scores.to_dict(), drifting[::-1], reference, lab_d)  # a dict, and any order
    assert verdict_of(capsys, "06.2")[0] == "correct"


def test_drifting_with_dataframe_apply_and_an_index_is_correct(capsys, reference, lab_d):
    scores = reference.apply(lambda column: psi_with_searchsorted(column, lab_d[column.name]))
    drifting = scores.index[scores.gt(0.25)]  # a pandas Index, not a list
    checks.check_drifting(scores, drifting, reference, lab_d)
    assert verdict_of(capsys, "06.2")[0] == "correct"


def test_drifting_with_a_loop_and_a_set_is_correct(capsys, reference, lab_d):
    scores, drifting = {}, set()
    for feature in reversed(data.FEATURES):
        scores[feature] = monitoring.psi(reference[feature].to_numpy(), lab_d[feature].to_numpy())
        if scores[feature] > 0.25:
            drifting.add(feature)
    checks.check_drifting(scores, drifting, reference, lab_d)
    assert verdict_of(capsys, "06.2")[0] == "correct"


def test_drifting_not_solved_gives_the_reference(capsys, reference, lab_d):
    scores, drifting = checks.check_drifting(..., ..., reference, lab_d)
    assert verdict_of(capsys, "06.2")[0] == "not solved yet"
    assert list(scores.index) == data.FEATURES
    assert sorted(drifting) == ["free sulfur dioxide", "total sulfur dioxide"]


def test_drifting_mistakes_are_named(capsys, reference, lab_d):
    right = pd.Series({feature: monitoring.psi(reference[feature], lab_d[feature]) for feature in data.FEATURES})
    swapped = pd.Series({feature: monitoring.psi(lab_d[feature], reference[feature]) for feature in data.FEATURES})
    drifting = right[right > 0.25].index.tolist()
    cases = [
        (swapped, drifting, "the arguments are swapped"),
        (right, right[right > 0.1].index.tolist(), "that is 'watch', not drift"),
        (right, drifting[:1], "it misses"),
        (right, data.FEATURES, "it should not hold"),
        (right.drop("pH"), drifting, "lacks the feature(s) ['pH']"),
        (right.to_numpy(), drifting, "make it a pandas Series"),
        (right, "total sulfur dioxide", "make it a list"),
    ]
    for scores, chosen, fragment in cases:
        checks.check_drifting(scores, chosen, reference, lab_d)
        assert_not_quite(capsys, "06.2", fragment)


# --- 06.4 the post-evaluation join ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_and_labels():
    rng = np.random.default_rng(0)
    log = pd.DataFrame(
        {
            "request_id": [f"r-{i:03d}" for i in range(60)],
            "version": [1] * 35 + [2] * 25,
            "label": ["stable"] * 35 + ["canary"] * 25,
            "prediction": rng.uniform(4.5, 7.0, 60),
        }
    )
    labelled = log.sample(40, random_state=1)["request_id"]
    labels = pd.DataFrame(
        {
            "request_id": [*labelled, "lost-1", "lost-2"],
            "quality": rng.integers(4, 8, 42),
            "tasted_at": pd.Timestamp("2025-10-01", tz="UTC"),
        }
    )
    return log, labels


def solution_post_evaluation(log, labels):
    joined = log.merge(labels, on="request_id", how="left")
    errors = (joined["prediction"] - joined["quality"]).abs()
    per_version = (
        joined.assign(abs_error=errors)
        .groupby("version")
        .agg(predictions=("request_id", "size"), labelled=("quality", "count"), mae=("abs_error", "mean"))
    )
    return joined, per_version


def test_post_evaluation_solution_is_correct(capsys, log_and_labels):
    joined, per_version = solution_post_evaluation(*log_and_labels)
    result = checks.check_post_evaluation(joined, per_version, *log_and_labels)
    assert result[0] is joined
    assert verdict_of(capsys, "06.4")[0] == "correct"
    table = monitoring.evaluate_in_hindsight(monitoring.join_ground_truth(*log_and_labels))
    checks.check_post_evaluation(monitoring.join_ground_truth(*log_and_labels), table, *log_and_labels)
    assert verdict_of(capsys, "06.4")[0] == "correct"


def per_version_with_a_loop(joined):
    rows = {}
    for version, group in joined.groupby("version"):
        labelled = group.dropna(subset=["quality"])
        rows[version] = {
            "mae": (labelled["prediction"] - labelled["quality"]).abs().mean(),
            "labelled": len(labelled),
            "predictions": len(group),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.mark.parametrize(
    "join",
    [
        lambda log, labels: labels.merge(log, on="request_id", how="right"),
        lambda log, labels: log.join(labels.set_index("request_id"), on="request_id"),
        lambda log, labels: pd.merge(log, labels[["request_id", "quality"]], how="left"),
    ],
    ids=["right-join-from-the-labels", "join-on-an-index", "pd-merge-on-the-common-column"],
)
def test_post_evaluation_with_another_join_and_a_loop_is_correct(capsys, log_and_labels, join):
    joined = join(*log_and_labels)
    checks.check_post_evaluation(joined, per_version_with_a_loop(joined), *log_and_labels)
    assert verdict_of(capsys, "06.4")[0] == "correct"


def test_post_evaluation_not_solved_gives_the_reference(capsys, log_and_labels):
    joined, per_version = checks.check_post_evaluation(..., ..., *log_and_labels)
    assert verdict_of(capsys, "06.4")[0] == "not solved yet"
    assert len(joined) == len(log_and_labels[0])
    assert per_version["predictions"].to_dict() == {1: 35, 2: 25}


def test_post_evaluation_mistakes_are_named(capsys, log_and_labels):
    log, labels = log_and_labels
    joined, per_version = solution_post_evaluation(log, labels)
    signed = joined.assign(e=joined["prediction"] - joined["quality"]).groupby("version")["e"].mean()
    filled = joined.assign(e=(joined["prediction"] - joined["quality"]).abs().fillna(0)).groupby("version")["e"].mean()
    cases = [
        (log.merge(labels, on="request_id"), per_version, "an inner join silently drops the 20 predictions"),
        (log.merge(labels, on="request_id", how="outer"), per_version, "2 labels without a prediction"),
        (joined, per_version.assign(predictions=per_version["labelled"]), "counts only the labelled ones"),
        (joined, per_version.assign(labelled=per_version["predictions"]), "'count' skips NaN"),
        (joined, per_version.assign(mae=signed), "the mean error without abs()"),
        (joined, per_version.assign(mae=filled), "count as error 0"),
        (joined, per_version.drop(columns="labelled"), "lacks the column(s) ['labelled']"),
        (joined, per_version.reset_index(drop=True).set_axis(["one", "two"]), "one row per model version"),
        (joined.drop(columns="quality"), per_version, "'quality' columns"),
        (joined, per_version["mae"], "is a Series"),
    ]
    for wrong_joined, wrong_table, fragment in cases:
        checks.check_post_evaluation(wrong_joined, wrong_table, log, labels)
        assert_not_quite(capsys, "06.4", fragment)


# --- 06.5 the A/B decision ------------------------------------------------------------------------------------


def solution_decide(stable_errors, canary_errors, n_resamples=2000, seed=42):
    stable, canary = np.asarray(stable_errors, dtype=float), np.asarray(canary_errors, dtype=float)
    rng = np.random.default_rng(seed)
    differences = [
        rng.choice(canary, len(canary)).mean() - rng.choice(stable, len(stable)).mean() for _ in range(n_resamples)
    ]
    low, high = np.percentile(differences, [2.5, 97.5])
    if high < 0:
        return "canary better", low, high
    if low > 0:
        return "stable better", low, high
    return "not enough data to decide", low, high


@pytest.fixture(scope="module")
def outcomes():
    rng = np.random.default_rng(9)
    return np.abs(rng.normal(0, 0.85, 150)), np.abs(rng.normal(0, 0.65, 150))


def test_decide_solution_and_reference_are_correct(capsys, outcomes):
    assert checks.check_ab_decision(solution_decide, *outcomes) is solution_decide
    assert verdict_of(capsys, "06.5")[0] == "correct"
    checks.check_ab_decision(checks.reference_decide, *outcomes)
    assert verdict_of(capsys, "06.5")[0] == "correct"


def decide_vectorised(stable_errors, canary_errors, n_resamples=2000, seed=42):
    """All resamples at once, as a (n_resamples, n) matrix, and np.quantile for the ends."""
    rng = np.random.default_rng(seed)
    stable = rng.choice(stable_errors, size=(n_resamples, len(stable_errors))).mean(axis=1)
    canary = rng.choice(canary_errors, size=(n_resamples, len(canary_errors))).mean(axis=1)
    low, high = np.quantile(canary - stable, [0.025, 0.975])
    decision = "canary better" if high < 0 else "stable better" if low > 0 else "not enough data to decide"
    return decision, low, high


def decide_with_the_standard_library(stable_errors, canary_errors, n_resamples=2000, seed=42):
    """random.choices and statistics.quantiles, no numpy: other random draws, the same interval within the noise."""
    rng, stable, canary = random.Random(seed), list(stable_errors), list(canary_errors)
    differences = [
        statistics.fmean(rng.choices(canary, k=len(canary))) - statistics.fmean(rng.choices(stable, k=len(stable)))
        for _ in range(n_resamples)
    ]
    cuts = statistics.quantiles(differences, n=40)  # 39 cut points: the first is 2.5 %, the last 97.5 %
    low, high = cuts[0], cuts[-1]
    if low <= 0 <= high:
        return "not enough data to decide", low, high
    return ("canary better" if high < 0 else "stable better"), low, high


@pytest.mark.parametrize("function", [decide_vectorised, decide_with_the_standard_library])
def test_decide_vectorised_or_with_the_standard_library_is_correct(capsys, outcomes, function):
    assert checks.check_ab_decision(function, *outcomes) is function
    assert verdict_of(capsys, "06.5")[0] == "correct"


def test_decide_not_solved_gives_the_reference(capsys, outcomes):
    assert checks.check_ab_decision(..., *outcomes) is checks.reference_decide
    assert verdict_of(capsys, "06.5")[0] == "not solved yet"


def by_the_means(stable_errors, canary_errors, n_resamples=2000, seed=42):
    """Computes the interval, but decides by the difference of the means."""
    _, low, high = solution_decide(stable_errors, canary_errors, n_resamples, seed)
    better = np.mean(canary_errors) < np.mean(stable_errors)
    return ("canary better" if better else "stable better"), low, high


def mirrored(stable_errors, canary_errors, n_resamples=2000, seed=42):
    decision, low, high = solution_decide(canary_errors, stable_errors, n_resamples, seed)
    return {"canary better": "stable better", "stable better": "canary better"}.get(decision, decision), low, high


def no_bootstrap(stable_errors, canary_errors, n_resamples=2000, seed=42):
    difference = np.mean(canary_errors) - np.mean(stable_errors)
    return ("canary better" if difference < 0 else "stable better"), difference, difference


def test_decide_mistakes_are_named(capsys, outcomes):
    cases = [
        (by_the_means, "12 outcomes each", "contains 0: the data cannot tell the versions apart"),
        (mirrored, "", "mirror image"),
        (no_bootstrap, "", "the 2.5th and 97.5th percentiles"),
        (lambda s, c, n_resamples=2000, seed=42: solution_decide(s, c)[0], "", "not a tuple"),
        (lambda s, c, n_resamples=2000, seed=42: ("the canary", *solution_decide(s, c)[1:]), "", "should be one of"),
        (
            lambda s, c, n_resamples=2000, seed=42: (
                {"canary better": "stable better"}.get(solution_decide(s, c)[0], "x"),
                *solution_decide(s, c)[1:],
            ),
            "",
            "entirely below 0 means",
        ),
        ("canary better", "", "not a function"),
    ]
    for function, *fragments in cases:
        checks.check_ab_decision(function, *outcomes)
        assert_not_quite(capsys, "06.5", *[fragment for fragment in fragments if fragment])


# --- 06.3 what the server recorded: a live local model server, the complaint replayed with requests -------------


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A base path with one untrained wine model as version 1, labelled stable, and a local server on it."""
    from workshop_lib import export
    from workshop_lib.serving import LocalModelServer

    base = tmp_path_factory.mktemp("record") / "wine"
    export.export_savedmodel(export.build_keras_model(data.load_wine("red").head(200)), 1, base)
    config = base.parent / "models.config"
    config.write_text(
        f'model_config_list {{ config {{ name: "wine" base_path: "{base}" model_platform: "tensorflow" '
        "model_version_policy { specific { versions: 1 } } version_labels { key: 'stable' value: 1 } } }",
        encoding="utf-8",
    )
    monitoring_config = config.parent / "monitoring.config"
    monitoring_config.write_text(
        'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }', encoding="utf-8"
    )
    server = LocalModelServer(model_config_file=config, monitoring_config_file=monitoring_config, timeout=90).start()
    yield server.client()
    server.stop()


@pytest.fixture(scope="module")
def complaint():
    return checks.complaint_requests(simulation.unseen_wines("red", (1,)))


def failed_from_the_page(url):
    import requests

    return checks.failed_requests(requests.get(f"{url}/monitoring/prometheus/metrics", timeout=10).text)


def replay_with_requests(client, complaint):
    """The solution's way: requests for the replay and for both scrapes, the lesson's parser for the page."""
    import requests

    before = failed_from_the_page(client.url)
    statuses = [
        requests.post(client.url + call["path"], json=call["body"], timeout=30).status_code for call in complaint
    ]
    return statuses, failed_from_the_page(client.url) - before


def test_server_record_solution_is_correct(capsys, live_server, complaint):
    statuses, errors = replay_with_requests(live_server, complaint)
    assert sorted(set(statuses)) != [200]  # the complaint holds failures to find
    result = checks.check_server_record(statuses, errors, "client", live_server, complaint)
    status, out = verdict_of(capsys, "06.3")
    assert status == "correct", out
    assert result == (statuses, errors, "client")


def test_server_record_with_a_session_and_a_dataframe_diff_is_correct(capsys, live_server, complaint):
    """Another way: one requests.Session, both scrapes diffed with metrics_increase, the fault from the 4xx class."""
    import requests

    with requests.Session() as session:
        page = lambda: monitoring.parse_prometheus(session.get(live_server.url + "/monitoring/prometheus/metrics").text)  # noqa: E731
        before = page()
        statuses = tuple(
            session.post(live_server.url + call["path"], json=call["body"]).status_code for call in complaint
        )
        increase = monitoring.metrics_increase(before, page())
    counted = increase.loc[increase["metric"].str.endswith("request_count") & (increase["status"] != "OK"), "value"]
    errors = np.int64(counted.sum())
    fault = "client" if all(400 <= status < 500 for status in statuses if status != 200) else "service"
    checks.check_server_record(statuses, errors, fault, live_server, complaint)
    status, out = verdict_of(capsys, "06.3")
    assert status == "correct", out


def test_server_record_not_solved_gives_the_reference(capsys, live_server, complaint):
    statuses, errors, fault = checks.check_server_record(..., ..., ..., live_server, complaint)
    assert verdict_of(capsys, "06.3")[0] == "not solved yet"
    assert len(statuses) == len(complaint) and errors == sum(status != 200 for status in statuses)
    assert fault == "client"


def test_server_record_mistakes_are_named(capsys, live_server, complaint):
    import requests

    # A failure before the replay, so that a count from the server's start differs from the replay's own, in
    # whatever order the tests that share this server run.
    missing_version = requests.post(f"{live_server.url}/v1/models/wine/versions/99:predict", json={}, timeout=10)
    assert missing_version.status_code == 404
    statuses, errors = replay_with_requests(live_server, complaint)
    total = failed_from_the_page(live_server.url)  # since the server's start: more than this replay
    assert total > errors
    wines = sum(len(call["body"]["instances"]) for call, status in zip(complaint, statuses) if status != 200)
    assert wines != errors
    cases = [
        (statuses, total, "client", "count from the server's start"),
        (statuses, wines, "client", "the server counts requests"),
        (statuses, 0, "client", "status is not OK"),
        (statuses, errors, "service", "every failure is a 4xx status"),
        (statuses, errors, "the app", "answer 'client' or 'service'"),
        ([200] * len(complaint), errors, "client", "post each request's body"),
        (statuses[:-1], errors, "client", "one per request"),
        ("200", errors, "client", "make it a list"),
        (statuses, [errors], "client", "errors_counted should be one number"),
    ]
    for given_statuses, given_errors, fault, fragment in cases:
        checks.check_server_record(given_statuses, given_errors, fault, live_server, complaint)
        assert_not_quite(capsys, "06.3", fragment)


# --- 06.1, its decision: the repaired sensor's batch --------------------------------------------------------------


@pytest.fixture(scope="module")
def repaired():
    return simulation.unseen_wines("red", (1,))["alcohol"] - 0.2


def test_psi_action_solution_is_correct(capsys, reference, repaired):
    value = solution_psi(reference["alcohol"], repaired)
    assert checks.check_psi_action(value, "watch", reference["alcohol"], repaired) == (value, "watch")
    assert verdict_of(capsys, "06.1")[0] == "correct"


def test_psi_action_from_the_drift_report_is_correct(capsys, reference, repaired):
    """Another way: the course's drift report for the one column, its status mapped to an action."""
    batch = simulation.unseen_wines("red", (1,))[data.FEATURES].assign(alcohol=repaired)
    report = monitoring.drift_report(reference, batch)
    action = {"stable": "none", "watch": "watch", "drift": "stop the batch"}[report.loc["alcohol", "status"]]
    checks.check_psi_action(np.float32(report.loc["alcohol", "psi"]), action, reference["alcohol"], repaired)
    assert verdict_of(capsys, "06.1")[0] == "correct"


def test_psi_action_not_solved_gives_the_reference(capsys, reference, repaired):
    value, action = checks.check_psi_action(..., ..., reference["alcohol"], repaired)
    assert verdict_of(capsys, "06.1")[0] == "not solved yet"
    assert 0.1 <= value <= 0.25 and action == "watch"


def test_psi_action_mistakes_are_named(capsys, reference, repaired):
    value = monitoring.psi(reference["alcohol"], repaired)
    cases = [
        (monitoring.psi(repaired, reference["alcohol"]), "watch", "the arguments are swapped"),
        (value, "stop the batch", "a calibration to check"),
        (value, "none", "not 'none'"),
        (value, "retrain", "answer one of"),
        (0.5, "watch", "the PSI of the repaired wines' alcohol"),
        ([value], "watch", "repaired_psi should be one number"),
    ]
    for given, action, fragment in cases:
        checks.check_psi_action(given, action, reference["alcohol"], repaired)
        assert_not_quite(capsys, "06.1", fragment)
