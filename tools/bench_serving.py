"""Latency of the local model server: REST and gRPC predict against prediction in-process.

    python tools/bench_serving.py                       # a small Keras model, built on the fly
    python tools/bench_serving.py --model_base_path models/wine --model_name wine

Starts `python -m model_server` on free ports (LocalModelServer), sends one-row and
100-row predict requests through model_server's client (REST on a keep-alive connection,
gRPC on one channel), and times the same model called in this process through its SavedModel
signature. Prints median and 95th percentile per path and how many times slower than in-process
each one is: what a network hop, JSON or protobuf, and the server cost. Target: a one-row REST
predict under 5 ms (median) on a 2-core machine. Then throughput under load: 1 to 16 client
threads (--clients), each on its own keep-alive connection, send one-row REST predicts for a few
seconds (--seconds), and 16 clients with 100-row requests; printed are requests/s, wines/s, p50 and
p99 latency, the errors and the server's CPU time per request, then lesson 05's capacity model: the
replicas a target load needs (--target_rps, default 2000) at a p99 budget (--budget_ms, default 50),
from workshop_lib.capacity. The clients run in this process, so on a small machine they share its
cores with the server: the figures are what one machine does end to end. Figures, not a test: a busy
machine changes them.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from model_server import LocalModelServer  # noqa: E402
from workshop_lib import capacity  # noqa: E402

TARGET_MS = 5.0


def build_model(base_path: Path, features: int = 11) -> Path:
    """A small regression network like the course's wine model (11 inputs, one output), version 1."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(features,), name="features")
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="quality")(hidden))
    model.export(str(base_path / "1"), verbose=False)
    return base_path


def timings(call, repeats: int, warmup: int = 20) -> list[float]:
    """Wall times of `call` in milliseconds, after a few untimed warm-up calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model_base_path",
        type=Path,
        help="a model folder with numbered versions (default: build a small Keras model in a temporary folder)",
    )
    parser.add_argument("--model_name", default="bench")
    parser.add_argument("--repeats", type=int, default=300, help="timed requests per row (default 300)")
    parser.add_argument(
        "--clients", default="1,2,4,8,16", help="concurrent REST clients per load run (default 1,2,4,8,16)"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each load run (default 3)")
    parser.add_argument("--target_rps", type=float, default=2000, help="load to plan replicas for (default 2000)")
    parser.add_argument("--budget_ms", type=float, default=50, help="p99 latency budget of the plan (default 50)")
    args = parser.parse_args()

    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    with tempfile.TemporaryDirectory() as scratch:
        base_path = args.model_base_path or build_model(Path(scratch) / args.model_name)
        newest = max((p for p in Path(base_path).iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        signature = tf.saved_model.load(str(newest)).signatures["serving_default"]
        specs = signature.structured_input_signature[1]  # input name -> TensorSpec
        described = ", ".join(f"{name} {spec.dtype.name} {[None, *spec.shape[1:]]}" for name, spec in specs.items())
        print(
            f"model {args.model_name} version {newest.name}: inputs {described}; starting the local server ...",
            flush=True,
        )
        with LocalModelServer(model_base_path=base_path, model_name=args.model_name) as server:
            client = server.client(args.model_name)
            results = []
            random = np.random.default_rng(0)
            for rows in (1, 100):
                arrays = {
                    name: random.normal(size=[rows, *[size or 1 for size in spec.shape[1:]]]).astype(
                        spec.dtype.as_numpy_dtype
                    )
                    for name, spec in specs.items()
                }
                tensors = {name: tf.constant(array) for name, array in arrays.items()}
                if len(arrays) == 1:  # row format: a plain list per row, or one object per row
                    instances = next(iter(arrays.values())).tolist()
                else:
                    instances = [{name: array[i].tolist() for name, array in arrays.items()} for i in range(rows)]
                paths = [
                    ("in-process (SavedModel signature)", lambda tensors=tensors: signature(**tensors)),
                    ("REST predict (JSON, keep-alive)", lambda instances=instances: client.predict(instances)),
                    ("gRPC Predict (TensorProto)", lambda arrays=arrays: client.grpc_predict(arrays)),
                ]
                baseline = None
                for name, call in paths:
                    times = timings(call, args.repeats)
                    median = statistics.median(times)
                    baseline = baseline or median
                    results.append((name, rows, median, p95(times), median / baseline))
            client.close()
            one_row = next(iter(arrays.values()))[:1].tolist() if len(arrays) == 1 else instances[:1]

            def new_client():
                return server.client(args.model_name, timeout=30)

            pid = server.process.pid
            clients = [int(n) for n in args.clients.split(",")]
            loads = [
                capacity.measure_load(new_client, one_row, clients=n, seconds=args.seconds, server_pid=pid)
                for n in clients
            ]
            batched = capacity.measure_load(
                new_client, instances, clients=max(clients), seconds=args.seconds, server_pid=pid
            )

    print(f"\n{'path':36} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'x in-process':>13}")
    for name, rows, median, high, ratio in results:
        print(f"{name:36} {rows:5d} {median:8.3f} {high:8.3f} {ratio:13.1f}")
    rest_one_row = next(median for name, rows, median, *_ in results if name.startswith("REST") and rows == 1)
    verdict = "met" if rest_one_row < TARGET_MS else "NOT met"
    print(
        f"\nTarget: one-row REST predict p50 under {TARGET_MS:g} ms: {verdict} ({rest_one_row:.2f} ms) "
        f"on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, TensorFlow {tf.__version__}."
    )
    print(f"\nREST predict under load ({args.seconds:g} s per run, one keep-alive connection per client):")
    print(
        f"{'clients':>7} {'rows':>5} {'requests':>9} {'req/s':>8} {'wines/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'server CPU ms/req':>18}"
    )
    for run in [*loads, batched]:
        cpu = run.cpu_ms_per_request
        print(
            f"{run.clients:7d} {run.rows_per_request:5d} {run.requests:9d} {run.rps:8.0f} {run.rows_per_second:9.0f} "
            f"{run.p50_ms:8.3f} {run.p99_ms:8.3f} {run.errors:7d} {'-' if cpu is None else f'{cpu:.3f}':>18}"
        )
    plan = capacity.plan(loads, target_rps=args.target_rps, latency_budget_ms=args.budget_ms)
    print(f"\nCapacity (lesson 05's model, one-row requests): {plan.summary()}")
    return 0 if not any(run.errors for run in [*loads, batched]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
