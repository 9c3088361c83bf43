"""The monitoring stack's files in monitoring/: Prometheus's configs, the alert rules and their unit tests, Grafana.

promtool (Prometheus's own checker, from Debian/Ubuntu's or Homebrew's `prometheus` package) checks the
configs and the rules and runs the rules' unit tests for real. Without promtool those tests skip and say
so; with WORKSHOP_REQUIRE_PROMETHEUS=1 (CI) they fail instead. The rest is static: every query of the
dashboard and of the alert rules names only series the model server or the monitoring job publishes
(model_server/metrics.py, workshop_lib.monitoring.series.METRICS), with labels those series have, and the
dashboard uses the provisioned data source. Each check returns a list of problems, so the tests also plant
a mistake and see it found.
"""

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from model_server import metrics as server_metrics
from workshop_lib.config import REPO_ROOT
from workshop_lib.monitoring import drift, series

MONITORING = REPO_ROOT / "monitoring"
PROMETHEUS_CONFIG = MONITORING / "prometheus.yml"
PROMETHEUS_LOCAL_CONFIG = MONITORING / "prometheus-local.yml"
ALERTS = MONITORING / "alerts.yml"
ALERTS_TEST = MONITORING / "alerts_test.yml"
GRAFANA = MONITORING / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "dashboards.yml"
DASHBOARD = GRAFANA / "dashboards" / "wine.json"

REQUIRE_PROMETHEUS = "WORKSHOP_REQUIRE_PROMETHEUS"
SEVERITIES = {"critical", "warning"}  # critical pages someone now; warning goes to the team's channel
DRIFT_ALERTS = {"PredictionDistributionShifted", "InputDrift"}

# The model server's series (TF Serving's names, model_server/metrics.py): type and labels.
SERVER_SERIES = {
    server_metrics.REQUEST_COUNT: ("counter", ("model_name", "status")),
    server_metrics.REQUEST_LATENCY: ("histogram", ("model_name", "API", "entrypoint")),
    server_metrics.RUNTIME_LATENCY: ("histogram", ("model_name", "API", "runtime")),
    "up": ("gauge", ()),  # Prometheus's own, per target
}
TARGET_LABELS = {"job", "instance"}  # Prometheus adds them to every scraped series


# The monitoring job's (workshop_lib.monitoring.series, the contract with this folder).
JOB_SERIES = {name: (metric.type, metric.labels) for name, metric in series.METRICS.items()}


def series_labels(kinds: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, set[str]]:
    """Every series name Prometheus holds for these metrics (a histogram's _bucket, _sum, _count), with its labels."""
    published = {}
    for name, (kind, labels) in kinds.items():
        base = set(labels) | TARGET_LABELS
        if kind == "histogram":
            published |= {f"{name}_bucket": base | {"le"}, f"{name}_sum": base, f"{name}_count": base}
        else:
            published[name] = base
    return published


PUBLISHED = series_labels(SERVER_SERIES) | series_labels(JOB_SERIES)


# ---------------------------------------------------------------- promtool


def promtool() -> str:
    """promtool's path; skips (or fails, with WORKSHOP_REQUIRE_PROMETHEUS=1) where it is not installed."""
    found = shutil.which("promtool")
    if found:
        return found
    reason = (
        "promtool is not installed (it comes with Prometheus: Debian/Ubuntu `sudo apt install prometheus`, "
        "macOS `brew install prometheus`), so the monitoring configs and alert rules are not checked here"
    )
    if os.environ.get(REQUIRE_PROMETHEUS) == "1":
        pytest.fail(f"{reason}; {REQUIRE_PROMETHEUS}=1 requires it")
    pytest.skip(reason)


def run_promtool(*args: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool(), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("config", [PROMETHEUS_CONFIG, PROMETHEUS_LOCAL_CONFIG], ids=lambda path: path.name)
def test_promtool_checks_the_prometheus_config(config):
    result = run_promtool("check", "config", config.relative_to(REPO_ROOT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_checks_the_alert_rules():
    result = run_promtool("check", "rules", ALERTS.relative_to(REPO_ROOT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout + result.stderr


def test_promtool_runs_the_alert_rules_unit_tests():
    result = run_promtool("test", "rules", ALERTS_TEST.relative_to(REPO_ROOT))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_tests_fail_when_a_threshold_moves(tmp_path):
    """Not vacuous: the error ratio's budget moved from 5 % to 7 % makes the 6 % case fail."""
    text = ALERTS.read_text(encoding="utf-8")
    assert text.count("> 0.05\n") == 1
    (tmp_path / ALERTS.name).write_text(text.replace("> 0.05\n", "> 0.07\n"), encoding="utf-8")
    shutil.copy(ALERTS_TEST, tmp_path / ALERTS_TEST.name)
    result = run_promtool("test", "rules", ALERTS_TEST.name, cwd=tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "ModelErrorRatioHigh" in result.stdout + result.stderr


# ---------------------------------------------------------------- the rules, statically


def alert_rules(path: Path = ALERTS) -> dict[str, dict]:
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def test_the_alerts_are_the_ones_a_team_pages_on():
    assert set(alert_rules()) == {
        "ModelNotAvailable",
        "ModelErrorRatioHigh",
        "ModelLatencyP99High",
        *DRIFT_ALERTS,
    }


@pytest.mark.parametrize("name", sorted(alert_rules()))
def test_every_alert_has_for_severity_and_annotations_with_its_value(name):
    rule = alert_rules()[name]
    assert "for" in rule, f"{name}: no `for`"
    assert rule.get("labels", {}).get("severity") in SEVERITIES, rule.get("labels")
    annotations = rule.get("annotations", {})
    assert {"summary", "description"} <= set(annotations), annotations
    assert "$value" in annotations["description"], f"{name}: the description does not say the value"


def test_the_drift_alerts_use_the_course_threshold_and_fire_at_once():
    """PSI above drift.PSI_DRIFT (0.25) is drift; a batch is judged once, so no waiting (`for: 0m`)."""
    rules = alert_rules()
    for name in DRIFT_ALERTS:
        threshold = re.search(r">\s*([\d.]+)\s*$", rules[name]["expr"].strip())
        assert threshold and float(threshold[1]) == drift.PSI_DRIFT, rules[name]["expr"]
        assert rules[name]["for"] in {"0m", "0s", 0}, rules[name]["for"]
    assert "by (feature)" in rules["InputDrift"]["expr"], "the input drift alert must name the feature"


def test_every_alert_fires_in_one_unit_test_and_stays_silent_in_another():
    tests = yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))
    assert tests["rule_files"] == [ALERTS.name]
    cases = [case for test in tests["tests"] for case in test.get("alert_rule_test", [])]
    for name in alert_rules():
        outcomes = {bool(case.get("exp_alerts")) for case in cases if case["alertname"] == name}
        assert outcomes == {True, False}, (
            f"{name}: fires in a case {True in outcomes}, silent in one {False in outcomes}"
        )


# ---------------------------------------------------------------- the queries name published series

GROUPING = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)"
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}
KEYWORDS |= {"inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: not functions, keywords, labels, strings or durations."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals (label values)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries, with $__rate_interval
    text = re.sub(GROUPING, "", text)  # by (le), on (job), ...
    names = set()
    # A name starts with a letter, `_` or `:`, never right after a digit (1e3, 5m) or a `$` (a variable).
    for match in re.finditer(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        name, call = match.groups()
        if not call and name.lower() not in KEYWORDS:
            names.add(name)
    return names


def query_problems(expr: str, published: dict[str, set[str]] = PUBLISHED) -> list[str]:
    """Series the course does not publish, and `by (...)` labels none of the selected series carry."""
    names = metric_names(expr)
    if not names:
        return [f"{expr!r} selects no series"]
    problems = [
        f"{expr!r}: {name} is published by neither the model server nor the job"
        for name in sorted(names)
        if name not in published
    ]
    labels = set().union(*(published.get(name, set()) for name in names))
    for grouping in re.findall(r"\bby\s*\(([^)]*)\)", expr):
        for label in filter(None, (word.strip() for word in grouping.split(","))):
            if label not in labels:
                problems.append(f"{expr!r}: no selected series has the label {label!r} (they have {sorted(labels)})")
    return problems


def rules_problems(rules: dict[str, dict]) -> list[str]:
    return [f"{name}: {problem}" for name, rule in rules.items() for problem in query_problems(rule["expr"])]


def provisioned_datasources() -> dict[str, dict]:
    config = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))
    return {source["uid"]: source for source in config["datasources"]}


def dashboard_problems(dashboard: dict, datasource_uids: set[str]) -> list[str]:
    """What Grafana 10/11 would not show: a malformed panel, an unknown data source, a query of no series."""
    problems = []
    for key in ("uid", "title", "schemaVersion", "panels"):
        if key not in dashboard:
            problems.append(f"the dashboard has no {key!r}")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard.get("schemaVersion", 0) < 36:
        problems.append(f"schemaVersion {dashboard.get('schemaVersion')!r}: want Grafana 10's 36 or newer")
    ids, cells = set(), {}
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        if not panel.get("type"):
            problems.append(f"panel {title!r} has no type")
        if panel.get("id") in ids:
            problems.append(f"panel {title!r}: id {panel.get('id')} is used twice")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(key), int) for key in "xywh") or grid["x"] + grid["w"] > 24:
            problems.append(f"panel {title!r}: gridPos {grid} is not within Grafana's 24 columns")
        else:
            for cell in (
                (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
            ):
                if cell in cells:
                    problems.append(f"panel {title!r} overlaps {cells[cell]!r} at {cell}")
                    break
                cells[cell] = title
        if panel.get("type") == "row":
            continue
        if not panel.get("targets"):
            problems.append(f"panel {title!r} has no query")
        sources = [panel.get("datasource")] + [target.get("datasource") for target in panel.get("targets", [])]
        for source in sources:
            if (
                not isinstance(source, dict)
                or source.get("type") != "prometheus"
                or source.get("uid") not in datasource_uids
            ):
                problems.append(
                    f"panel {title!r}: data source {source!r} is not the provisioned {sorted(datasource_uids)}"
                )
        for target in panel.get("targets", []):
            problems += [f"panel {title!r}: {problem}" for problem in query_problems(target.get("expr", ""))]
    return problems


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def test_the_job_s_series_are_the_ones_its_page_holds():
    """The names the checks accept for the job are its page's own (series.sample_names)."""
    assert set(series_labels(JOB_SERIES)) == series.sample_names()


def test_the_alert_rules_name_only_published_series():
    assert rules_problems(alert_rules()) == []


def test_the_dashboard_queries_only_published_series_from_the_provisioned_data_source(dashboard):
    assert dashboard_problems(dashboard, set(provisioned_datasources())) == []


def test_the_dashboard_shows_what_module_06_monitors(dashboard):
    """Requests by status, errors, latency quantiles, versions served, drift per feature, predictions, business."""
    exprs = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", []))
    for wanted in (
        "by (status) (rate(:tensorflow:serving:request_count",
        'status!="OK"',
        "histogram_quantile(0.5,",
        "histogram_quantile(0.95,",
        "histogram_quantile(0.99,",
        "by (label) (wine_served_version)",
        "by (feature) (wine_input_psi)",
        "wine_prediction_psi",
        "wine_predicted_quality_bucket",
        "wine_good_wines_flagged_per_100",
    ):
        assert wanted in exprs, wanted


@pytest.mark.parametrize(
    "expr, names",
    [
        (
            "histogram_quantile(0.99, sum by (le) "
            '(rate(:tensorflow:serving:request_latency_bucket{API="predict"}[5m]))) / 1e3',
            {":tensorflow:serving:request_latency_bucket"},
        ),
        ('sum(rate(a{status!="OK"}[$__rate_interval])) / sum(rate(a[$__rate_interval])) > bool 0.05', {"a"}),
        (
            'max by (feature) (wine_input_psi{feature=~"alc.*"}) > 0.25 and on (job) up offset 5m',
            {"wine_input_psi", "up"},
        ),
        ('label_replace(b, "x", "$1", "y", "(.*)")', {"b"}),
        ("max(c) * 1000", {"c"}),
    ],
)
def test_metric_names_finds_the_selected_series(expr, names):
    assert metric_names(expr) == names


@pytest.mark.parametrize(
    "expr, complaint",
    [
        ("rate(:tensorflow:serving:request_total[5m])", ":tensorflow:serving:request_total is published by neither"),
        ('wine_input_drift{feature="alcohol"} > 0.25', "wine_input_drift is published by neither"),
        ("wine_predicted_quality > 6", "wine_predicted_quality is published by neither"),  # a histogram: _bucket
        ("max by (features) (wine_input_psi)", "the label 'features'"),
        ("sum by (le) (wine_batch_wines)", "the label 'le'"),
        ("1 + 1", "selects no series"),
    ],
)
def test_an_unknown_series_or_label_is_found(expr, complaint):
    problems = query_problems(expr)
    assert any(complaint in problem for problem in problems), problems


def test_a_planted_mistake_in_the_dashboard_or_the_rules_is_found(dashboard):
    """Not vacuous: the same checks on the repository's files, each with one mistake planted."""
    uids = set(provisioned_datasources())
    bad = copy.deepcopy(dashboard)
    panel = next(panel for panel in bad["panels"] if panel.get("targets"))
    panel["targets"][0]["expr"] = "sum(rate(tensorflow_serving_requests_total[5m]))"
    assert any("tensorflow_serving_requests_total" in problem for problem in dashboard_problems(bad, uids))

    bad = copy.deepcopy(dashboard)
    next(panel for panel in bad["panels"] if panel.get("targets"))["datasource"] = {"type": "prometheus", "uid": "prom"}
    assert any("data source" in problem for problem in dashboard_problems(bad, uids))
    assert any("data source" in problem for problem in dashboard_problems(dashboard, {"another-uid"}))

    bad = copy.deepcopy(dashboard)
    bad["panels"].append({**copy.deepcopy(bad["panels"][1]), "id": 999})
    assert any("overlaps" in problem for problem in dashboard_problems(bad, uids))

    rules = copy.deepcopy(alert_rules())
    rules["InputDrift"]["expr"] = "max by (feature) (wine_feature_psi) > 0.25"
    assert rules_problems(rules) == [
        "InputDrift: 'max by (feature) (wine_feature_psi) > 0.25': wine_feature_psi is published by neither "
        "the model server nor the job",
        "InputDrift: 'max by (feature) (wine_feature_psi) > 0.25': no selected series has the label 'feature' "
        "(they have [])",
    ]


# ---------------------------------------------------------------- the files agree with each other


def without_targets(config: dict) -> dict:
    config = copy.deepcopy(config)
    for job in config["scrape_configs"]:
        job.pop("static_configs")
    return config


def test_the_local_config_differs_from_compose_s_in_its_targets_only():
    """prometheus-local.yml: the same intervals, rules, jobs and paths; each target on 127.0.0.1, same port."""
    compose = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    local = yaml.safe_load(PROMETHEUS_LOCAL_CONFIG.read_text(encoding="utf-8"))
    assert without_targets(local) == without_targets(compose)
    for compose_job, local_job in zip(compose["scrape_configs"], local["scrape_configs"]):
        compose_targets = [t for static in compose_job["static_configs"] for t in static["targets"]]
        local_targets = [t for static in local_job["static_configs"] for t in static["targets"]]
        assert local_targets == [f"127.0.0.1:{target.rsplit(':', 1)[1]}" for target in compose_targets]


def test_the_datasource_is_the_compose_prometheus_at_its_scrape_interval():
    (source,) = provisioned_datasources().values()
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert source["access"] == "proxy", "the browser cannot resolve the compose service name"
    scrape_interval = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))["global"]["scrape_interval"]
    assert source["jsonData"]["timeInterval"] == scrape_interval, "$__rate_interval is computed from it"


def test_the_dashboard_provider_reads_files():
    (provider,) = yaml.safe_load(DASHBOARD_PROVIDERS.read_text(encoding="utf-8"))["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    assert provider["allowUiUpdates"] is False, "the dashboard is code: changed in the repository, not in Grafana"
