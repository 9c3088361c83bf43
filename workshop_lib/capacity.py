"""How many model servers a target load needs: measure one server under concurrent clients, then do arithmetic.

    runs = [capacity.measure_load(lambda: serving.ServingClient(url, "wine"), rows, clients=n, seconds=3,
                                  server_pid=pid) for n in (1, 2, 4, 8)]
    plan = capacity.plan(runs, target_rps=2000, latency_budget_ms=50)
    plan.replicas  # pods to run, with headroom for the autoscaler's CPU target and one spare

The model is deliberately simple, so that every number in it can be traced to a measurement: the
throughput one server sustains while its p99 stays within the latency budget, the CPU time it spends per
request, and two choices a team makes (the utilization the autoscaler aims for, the spare pods).
Where it is weak is part of the lesson: the figures are one machine's, with the clients on the same
cores as the server, for one request shape, without TF Serving's batching.
"""

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import psutil

from model_server import ServingClient, ServingError

# The autoscaler adds pods when their CPU passes this share of their request (deploy/kubernetes/base/hpa.yaml).
HPA_CPU_TARGET = 0.70


@dataclass(frozen=True)
class LoadRun:
    """What `clients` concurrent clients got from one server in `seconds`: throughput, latency, errors, CPU."""

    clients: int
    rows_per_request: int
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_seconds: float | None  # user + system CPU time of the server process, when it runs here

    @property
    def rps(self) -> float:
        """Answered requests per second (errors not counted: a fast error is no capacity)."""
        return self.requests / self.seconds

    @property
    def rows_per_second(self) -> float:
        return self.rps * self.rows_per_request

    @property
    def cpu_ms_per_request(self) -> float | None:
        """The server's CPU milliseconds per answered request: what one request costs, whatever the cores."""
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return 1000 * self.server_cpu_seconds / self.requests

    def row(self) -> dict:
        """One line of a results table."""
        return {
            "clients": self.clients,
            "rows/request": self.rows_per_request,
            "requests": self.requests,
            "req/s": round(self.rps),
            "rows/s": round(self.rows_per_second),
            "p50 ms": round(self.p50_ms, 2),
            "p95 ms": round(self.p95_ms, 2),
            "p99 ms": round(self.p99_ms, 2),
            "errors": self.errors,
            "server CPU ms/request": None if self.cpu_ms_per_request is None else round(self.cpu_ms_per_request, 3),
        }


def measure_load(
    new_client: Callable[[], ServingClient],
    instances: list,
    *,
    clients: int,
    seconds: float,
    server_pid: int | None = None,
    **predict_options: object,
) -> LoadRun:
    """`clients` threads, each on its own client (one keep-alive connection), predicting `instances` for `seconds`.

    A closed loop: each client sends its next request as soon as the answer arrives, so the server is
    as busy as these clients can make it. Every thread counts its own answers and errors: a ServingError
    (a 4xx/5xx answer, a refused connection, a timeout) is an error, so a run shows whether the server
    holds, not only how fast it is. With server_pid, the server process's CPU time over the run is read too.
    """
    if clients < 1 or seconds <= 0:
        raise ValueError(f"need at least one client and a positive duration, not clients={clients}, seconds={seconds}")
    start_line, stop = threading.Barrier(clients + 1), threading.Event()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    failures: list[Exception] = []

    def work(index: int) -> None:
        client = new_client()
        try:
            client.predict(instances, **predict_options)  # connect and warm up before the clock starts
        except Exception as error:  # a server that cannot answer at all: the caller hears why
            failures.append(error)
            start_line.abort()
            client.close()
            return
        try:
            start_line.wait()
        except threading.BrokenBarrierError:
            client.close()
            return
        own = latencies[index]
        while not stop.is_set():
            began = time.perf_counter()
            try:
                client.predict(instances, **predict_options)
            except ServingError:
                errors[index] += 1
                continue
            own.append((time.perf_counter() - began) * 1000)
        client.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        start_line.wait(timeout=120)
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join(timeout=30)
        raise (failures[0] if failures else TimeoutError("the load clients did not get ready within 120 s")) from None
    process = psutil.Process(server_pid) if server_pid is not None else None
    cpu_before = _cpu_seconds(process)
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - began
    cpu_used = None if cpu_before is None else _cpu_seconds(process) - cpu_before
    for thread in threads:
        thread.join(timeout=60)
    times = np.array([t for own in latencies for t in own])
    p50, p95, p99 = np.percentile(times, [50, 95, 99]) if len(times) else (math.nan,) * 3
    return LoadRun(
        clients=clients,
        rows_per_request=len(instances),
        seconds=elapsed,
        requests=len(times),
        errors=sum(errors),
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        server_cpu_seconds=cpu_used,
    )


def _cpu_seconds(process: "psutil.Process | None") -> float | None:
    if process is None:
        return None
    times = process.cpu_times()
    return times.user + times.system


@dataclass(frozen=True)
class Plan:
    """The replicas a target load needs, and the measured figures the number comes from."""

    target_rps: float
    latency_budget_ms: float
    within_budget: LoadRun | None  # the run with the highest throughput whose p99 met the budget, without errors
    utilization: float
    spare: int

    @property
    def replica_rps(self) -> float | None:
        """What one replica may be given: its measured throughput at the budget, times the target utilization."""
        return None if self.within_budget is None else self.within_budget.rps * self.utilization

    @property
    def replicas(self) -> int | None:
        """Pods to run for the target: enough at the target utilization, plus the spare ones. None: no run met it."""
        if self.replica_rps is None:
            return None
        return math.ceil(self.target_rps / self.replica_rps) + self.spare

    @property
    def server_cores(self) -> float | None:
        """CPU cores the target load keeps busy in the servers alone, from the measured CPU time per request."""
        cpu_ms = None if self.within_budget is None else self.within_budget.cpu_ms_per_request
        return None if cpu_ms is None else self.target_rps * cpu_ms / 1000

    def summary(self) -> str:
        if self.within_budget is None:
            return (
                f"No run kept its p99 under {self.latency_budget_ms:g} ms without errors: this server cannot meet "
                "the budget at any measured load. Make one request cheaper (a faster server, batching) before "
                "adding replicas."
            )
        run, needed = self.within_budget, self.replicas - self.spare
        return (
            f"One server: {run.rps:,.0f} requests/s with {run.clients} client{'s' * (run.clients != 1)} "
            f"at p99 {run.p99_ms:.1f} ms "
            f"(budget {self.latency_budget_ms:g} ms). At {self.utilization:.0%} of that, "
            f"{self.replica_rps:,.0f} requests/s per replica: {self.target_rps:,.0f} requests/s need "
            f"{needed} replica{'s' * (needed != 1)}, plus {self.spare} spare = {self.replicas}."
        ) + (
            ""
            if self.server_cores is None
            else f" Cross-check: {run.cpu_ms_per_request:.2f} ms of server CPU per request is "
            f"{self.server_cores:.1f} cores busy for the target, before headroom."
        )


def plan(
    runs: Sequence[LoadRun],
    *,
    target_rps: float,
    latency_budget_ms: float,
    utilization: float = HPA_CPU_TARGET,
    spare: int = 1,
) -> Plan:
    """The replicas for `target_rps` from measured runs: the best throughput whose p99 met the budget, error-free.

    utilization: the share of that throughput one replica is given, so that the autoscaler (which adds
    pods above this CPU share) has room and a burst does not queue; spare: pods on top, so that one can
    fail or be replaced in a rollout while the others carry the load.
    """
    if target_rps <= 0 or latency_budget_ms <= 0:
        raise ValueError(f"target_rps and latency_budget_ms must be positive, not {target_rps} and {latency_budget_ms}")
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization is a share of one replica's throughput, in (0, 1], not {utilization}")
    if spare < 0:
        raise ValueError(f"spare replicas cannot be negative, not {spare}")
    fitting = [run for run in runs if run.errors == 0 and run.requests and run.p99_ms <= latency_budget_ms]
    best = max(fitting, key=lambda run: run.rps, default=None)
    return Plan(target_rps, latency_budget_ms, best, utilization, spare)
