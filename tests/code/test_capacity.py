"""The capacity model of lesson 05: the arithmetic from figures given here, the load run against a real server.

What is asserted is behaviour (which run the plan takes, how many replicas it asks for, that a run counts
answers, errors and the server's CPU), not speed: the figures are in `make bench` and lesson 05.
"""

import math

import pytest
import yaml
from served_models import two_versions

from model_server import LocalModelServer, ServingClient, ServingError
from workshop_lib import capacity, data, export
from workshop_lib.config import REPO_ROOT


def run(clients=4, requests=2000, seconds=1.0, p99=5.0, errors=0, cpu=None, rows=1) -> capacity.LoadRun:
    return capacity.LoadRun(clients, rows, seconds, requests, errors, p99 / 3, p99 / 2, p99, cpu)


def test_the_plan_takes_the_best_throughput_within_the_budget():
    runs = [run(1, 1000, p99=1), run(4, 1800, p99=8), run(16, 2000, p99=80)]
    plan = capacity.plan(runs, target_rps=2000, latency_budget_ms=50)
    assert plan.within_budget is runs[1]  # 16 clients answer more, but their p99 breaks the budget
    assert plan.replica_rps == pytest.approx(1800 * 0.7)
    assert plan.replicas == math.ceil(2000 / 1260) + 1 == 3


def test_a_run_with_errors_is_no_capacity():
    runs = [run(1, 1000, p99=1), run(4, 3000, p99=2, errors=1)]
    assert capacity.plan(runs, target_rps=2000, latency_budget_ms=50).within_budget is runs[0]


def test_headroom_and_spare_are_the_teams_choices():
    runs = [run(4, 1000, p99=5)]
    assert capacity.plan(runs, target_rps=1000, latency_budget_ms=50, utilization=1.0, spare=0).replicas == 1
    assert capacity.plan(runs, target_rps=1001, latency_budget_ms=50, utilization=1.0, spare=0).replicas == 2
    assert capacity.plan(runs, target_rps=1000, latency_budget_ms=50, utilization=0.5, spare=2).replicas == 4


def test_no_run_within_the_budget_says_so_instead_of_a_number():
    plan = capacity.plan([run(1, 1000, p99=60)], target_rps=2000, latency_budget_ms=50)
    assert plan.replicas is None and plan.replica_rps is None and plan.server_cores is None
    assert "cannot meet the budget" in plan.summary()


def test_the_summary_names_the_measured_figures():
    plan = capacity.plan([run(4, 1800, p99=8, cpu=0.9)], target_rps=2000, latency_budget_ms=50)
    summary = plan.summary()
    assert "1,800 requests/s with 4 clients at p99 8.0 ms" in summary
    assert "2 replicas, plus 1 spare = 3" in summary
    assert plan.server_cores == pytest.approx(2000 * 0.5 / 1000)  # 0.9 s of CPU for 1,800 requests
    assert "0.50 ms of server CPU per request is 1.0 cores" in summary


@pytest.mark.parametrize(
    "options, wrong",
    [
        ({"target_rps": 0, "latency_budget_ms": 50}, "target_rps"),
        ({"target_rps": 100, "latency_budget_ms": -1}, "latency_budget_ms"),
        ({"target_rps": 100, "latency_budget_ms": 50, "utilization": 1.5}, "utilization"),
        ({"target_rps": 100, "latency_budget_ms": 50, "spare": -1}, "spare"),
    ],
)
def test_bad_plan_arguments_are_named(options, wrong):
    with pytest.raises(ValueError, match=wrong):
        capacity.plan([run()], **options)


def test_the_headroom_is_the_autoscalers_cpu_target():
    hpa = yaml.safe_load((REPO_ROOT / "deploy" / "kubernetes" / "base" / "hpa.yaml").read_text())
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["target"]["averageUtilization"] == round(capacity.HPA_CPU_TARGET * 100)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    models_config, _ = two_versions(tmp_path_factory.mktemp("capacity"))
    with LocalModelServer(model_config_file=models_config, timeout=90) as server:
        yield server


@pytest.fixture(scope="module")
def wine_rows() -> list[dict]:
    return data.load_wine("white").head(5)[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")


def clients_of(server: LocalModelServer, model: str = "wine"):
    return lambda: ServingClient(server.rest_url, model, server.grpc_target, timeout=30)


def test_a_load_run_counts_answers_latency_and_the_servers_cpu(server, wine_rows):
    result = capacity.measure_load(
        clients_of(server), wine_rows, clients=3, seconds=0.5, server_pid=server.process.pid, label="canary"
    )
    assert result.clients == 3 and result.rows_per_request == 5
    assert result.requests > 3 and result.errors == 0
    assert result.seconds >= 0.5
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.rows_per_second == pytest.approx(5 * result.rps)
    assert result.server_cpu_seconds > 0 and result.cpu_ms_per_request > 0
    assert result.row()["errors"] == 0


def test_without_the_servers_process_there_is_no_cpu_figure(server, wine_rows):
    result = capacity.measure_load(clients_of(server), wine_rows[:1], clients=1, seconds=0.2)
    assert result.requests > 0
    assert result.server_cpu_seconds is None and result.cpu_ms_per_request is None


def test_a_server_that_cannot_answer_raises_its_own_error(server, wine_rows):
    # TF Serving's own message, not a hang or a table of zeros
    with pytest.raises(ServingError, match=r"Specific\(wine, 7\)"):
        capacity.measure_load(clients_of(server), wine_rows, clients=2, seconds=0.2, version=7)


def test_bad_load_arguments_are_named(server, wine_rows):
    with pytest.raises(ValueError, match="clients=0"):
        capacity.measure_load(clients_of(server), wine_rows, clients=0, seconds=1)


def test_errors_under_load_are_counted_not_timed(server, wine_rows):
    """The warm-up request succeeds; afterwards every request is refused: all errors, no latencies."""
    answered = []

    class FlakyClient(ServingClient):
        def predict(self, *args, **kwargs):
            if answered:
                return super().predict(*args, version=7)  # NOT_FOUND from the real server
            answered.append(True)
            return super().predict(*args, **kwargs)

    result = capacity.measure_load(
        lambda: FlakyClient(server.rest_url, "wine", server.grpc_target), wine_rows, clients=1, seconds=0.3
    )
    assert result.requests == 0 and result.errors > 0
    assert math.isnan(result.p99_ms)
    assert capacity.plan([result], target_rps=10, latency_budget_ms=50).replicas is None
