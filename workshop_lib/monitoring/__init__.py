"""Module 06: monitoring and feedback for the served wine model.

- log: PredictionLogger writes every prediction (inputs, score, version, time, request id) as JSON lines;
  read_log reads them back as a frame.
- technical: the model server's Prometheus metrics (requests, errors, latency) and its CPU and memory.
- drift: schema checks of a batch (data.SCHEMA) and input drift per feature (PSI, KS) against a baseline.
- feedback: late ground truth joined with the log, evaluation in hindsight, and comparing two versions: in
  shadow mode (paired, on the same wines) or in an A/B test (split traffic), with the sample size each needs.
- series: the monitoring job's drift and business numbers as Prometheus series (MonitoringSeries, METRICS),
  served for Prometheus to scrape or written to a textfile.
- prometheus: a real Prometheus (PROMETHEUS_URL, or the system's binary as LocalPrometheus), its HTTP API
  (PrometheusClient) and PromQL for module 06's numbers (requests_between, error_ratio, latency_quantile).
- simulation: seeded wine deliveries and tasting results for the lessons (import it on its own).

The names most callers need are importable from here: `from workshop_lib import monitoring`, then
monitoring.psi, monitoring.drift_report, monitoring.PredictionLogger, ...
"""

from workshop_lib.monitoring.drift import (
    BINS,
    EPSILON,
    PSI_DRIFT,
    PSI_WATCH,
    check_batch,
    drift_report,
    drifting_features,
    load_baseline,
    plot_drift,
    psi,
    psi_status,
    save_baseline,
    schema_report,
)
from workshop_lib.monitoring.feedback import (
    CANARY,
    CANARY_BETTER,
    STABLE,
    STABLE_BETTER,
    UNDECIDED,
    ABDecision,
    ab_decision,
    ab_sample_size,
    assign_variant,
    bootstrap_differences,
    evaluate_in_hindsight,
    join_ground_truth,
    match_counts,
    pair_errors,
    paired_decision,
    paired_sample_size,
)
from workshop_lib.monitoring.log import PredictionLogger, read_log
from workshop_lib.monitoring.prometheus import (
    LocalPrometheus,
    PrometheusClient,
    PrometheusError,
    error_ratio,
    find_prometheus,
    latency_quantile,
    requests_between,
    serve_series,
)
from workshop_lib.monitoring.series import METRICS, MODEL_SERVER_JOB, MONITORING_JOB, MonitoringSeries
from workshop_lib.monitoring.technical import (
    histogram_quantile,
    latency_buckets,
    latency_summary,
    metrics_increase,
    parse_prometheus,
    process_usage,
    request_counts,
    server_process,
)

__all__ = [
    # drift and schema
    "BINS",
    "EPSILON",
    "PSI_DRIFT",
    "PSI_WATCH",
    "check_batch",
    "drift_report",
    "drifting_features",
    "load_baseline",
    "plot_drift",
    "psi",
    "psi_status",
    "save_baseline",
    "schema_report",
    # feedback: late labels, shadow comparisons and A/B tests
    "CANARY",
    "CANARY_BETTER",
    "STABLE",
    "STABLE_BETTER",
    "UNDECIDED",
    "ABDecision",
    "ab_decision",
    "ab_sample_size",
    "assign_variant",
    "bootstrap_differences",
    "evaluate_in_hindsight",
    "join_ground_truth",
    "match_counts",
    "pair_errors",
    "paired_decision",
    "paired_sample_size",
    # the prediction log
    "PredictionLogger",
    "read_log",
    # a real Prometheus and PromQL
    "LocalPrometheus",
    "serve_series",
    "MODEL_SERVER_JOB",
    "MONITORING_JOB",
    "PrometheusClient",
    "PrometheusError",
    "error_ratio",
    "find_prometheus",
    "latency_quantile",
    "requests_between",
    # drift and business numbers as Prometheus series
    "METRICS",
    "MonitoringSeries",
    # technical monitoring
    "histogram_quantile",
    "latency_buckets",
    "latency_summary",
    "metrics_increase",
    "parse_prometheus",
    "process_usage",
    "request_counts",
    "server_process",
]
