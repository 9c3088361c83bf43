"""Checks for module 05, serving the model: one public function per exercise.

05.1 check_batch_request  the input names read from the metadata, a batch's JSON body in either format, and the
                          scores read from the answer
05.2 check_canary_grpc    a gRPC PredictRequest (official stubs) for the label canary, its scores and the version
                          that answered
05.3 check_latency        milliseconds of one-row REST calls, and their p50 and p95

The judges ask the running model server (the notebook's `client`) for the right answer and compare,
so they work against docker-compose's TF Serving and the local server alike. A wrong answer gets a
sentence in TF Serving's terms; the reference results let the notebook go on.
"""

import math
import time
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from course.checks import solved, verdict
from model_server import ServingClient
from workshop_lib import data, export

# Predictions of the same wines by the same version agree to float32 rounding (JSON prints about 7
# significant digits); two versions of the model differ by tenths of a quality point.
SAME_PREDICTION_TOLERANCE = 1e-4
# Lab values in a body may have gone through float32 (export.as_inputs): about 7 significant digits.
SAME_VALUE_RELATIVE_TOLERANCE = 1e-5
# One REST call over localhost takes a fraction of a millisecond to a few milliseconds; timings this
# many times off the check's own measurement are in another unit, or did not time the call at all.
UNIT_FACTOR = 100
REFERENCE_CALLS = 20


def instances(frame: pd.DataFrame) -> list[dict[str, float]]:
    """The wines of a frame in TF Serving's row format: one {input name: value} object per wine."""
    return [
        {export.INPUT_NAMES[feature]: float(row[feature]) for feature in data.FEATURES} for _, row in frame.iterrows()
    ]


def predict_path(client: ServingClient, version: int | None = None, label: str | None = None) -> str:
    """/v1/models/<model>[/versions/<v> | /labels/<l>]:predict on the client's model."""
    return client.path(version=version, label=label, suffix=":predict")


def _answer_of(client: ServingClient, body: dict, version: int | None = None, label: str | None = None) -> list[float]:
    return [float(value) for value in client.request("POST", predict_path(client, version, label), body)["predictions"]]


def _numbers(values: Any, name: str, expected_length: int, each: str = "wine") -> tuple[np.ndarray | None, str | None]:
    """values as a float array of expected_length (one number per `each`), or what is wrong with them in one
    sentence."""
    if isinstance(values, dict):
        if "predictions" in values:
            return None, (
                f"{name} is the whole answer, a dict with the key 'predictions': read its entry, answer['predictions']"
            )
        if "outputs" in values:
            return None, f"{name} is the whole answer of a columnar request: this exercise reads 'predictions'"
        return None, f"{name} is a dict with keys {sorted(values)[:5]}: it should be the list of predicted scores"
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        return None, f"{name} should be a list of numbers, one per {each}, got a {type(values).__name__}"
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None, f"{name} should hold numbers only, one per {each}"
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        return None, f"{name} has the shape {array.shape}: it should be one number per {each}"
    if len(array) != expected_length:
        return None, f"{name} holds {len(array)} numbers for {expected_length} {each}s"
    if not np.all(np.isfinite(array)):
        return None, f"{name} holds NaN or infinity"
    return array, None


def _same(a: ArrayLike, b: ArrayLike) -> bool:
    return bool(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))) <= SAME_PREDICTION_TOLERANCE)


# --- 05.1 a batch from a program without the course's client ----------------------------------------------

RAW_NAMES = [feature for feature in data.FEATURES if export.INPUT_NAMES[feature] != feature]


def served_scores(client: ServingClient, body: dict) -> list[float]:
    """The newest version's scores for a body in either format ('instances' answers 'predictions', 'inputs'
    answers 'outputs')."""
    answer = client.request("POST", predict_path(client), body)
    scores = answer["predictions"] if "predictions" in answer else answer["outputs"]
    if isinstance(scores, dict):
        scores = scores[export.OUTPUT]
    return [float(value) for value in np.asarray(scores, dtype=float).reshape(-1)]


def _signature_inputs(client: ServingClient) -> list[str]:
    signature = client.metadata()["metadata"]["signature_def"]["signature_def"]["serving_default"]
    return sorted(signature["inputs"])


def _judge_input_names(names: Any, client: ServingClient) -> str | None:
    if isinstance(names, (str, bytes, dict)) or not hasattr(names, "__iter__"):
        return f"input_names should be a list of the signature's input names, got a {type(names).__name__}"
    names = [str(name) for name in names]
    wanted = _signature_inputs(client)
    if sorted(names) == wanted:
        return None
    if set(names) & set(RAW_NAMES):
        return (
            "input_names holds the CSV's column names: the server's metadata names the inputs the model takes, "
            "read them from the signature's 'inputs'"
        )
    if data.TARGET in names or export.OUTPUT in names:
        return "input_names holds 'quality': that is the signature's output, not one of its inputs"
    return f"input_names has {len(names)} names, but the signature's inputs are {len(wanted)} others: {wanted[:3]}..."


def _judge_columns(columns: Any, batch: pd.DataFrame) -> str | None:
    if not isinstance(columns, dict):
        return f"body['inputs'] is a {type(columns).__name__}: in the columnar format it maps each input name to a list"
    keys = set(columns)
    raw = sorted(keys & set(RAW_NAMES))
    if raw:
        return (
            f"body['inputs'] uses the CSV's column names ({', '.join(repr(n) for n in raw[:3])}, ...): use the inputs"
        )
    if data.TARGET in keys:
        return "body['inputs'] carries 'quality': it is what the model predicts, not one of its inputs"
    missing = sorted(set(export.INPUTS) - keys)
    if missing or keys - set(export.INPUTS):
        return f"body['inputs'] should have exactly the keys {export.INPUTS}; missing {missing}"
    for feature, name in export.INPUT_NAMES.items():
        values = columns[name]
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != len(batch):
            return f"body['inputs'][{name!r}] should be a list with one value per wine, {len(batch)} values"
        try:
            sent = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            return f"body['inputs'][{name!r}] should hold numbers only"
        if not np.allclose(sent, batch[feature].to_numpy(dtype=float), rtol=SAME_VALUE_RELATIVE_TOLERANCE, atol=1e-9):
            return f"body['inputs'][{name!r}] does not hold the batch's {feature!r} values in the wines' order"
    return None


def _judge_instances(rows: Any, batch: pd.DataFrame) -> str | None:
    if not isinstance(rows, list):
        return (
            f"body['instances'] is a {type(rows).__name__}: make it a list with one object per wine "
            "(DataFrame.to_dict('records') gives that list)"
        )
    if len(rows) != len(batch):
        return (
            f"body['instances'] holds {len(rows)} entries for the {len(batch)} wines of the batch: one object per wine"
        )
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            return (
                f"instance {position} is a {type(row).__name__}, not an object: the model has 11 named inputs, so "
                "each wine is an object {input name: value}, and TF Serving matches the values by name"
            )
        keys = set(row)
        raw = sorted(keys & set(RAW_NAMES))
        if raw:
            return (
                f"the instances use the CSV's column names ({', '.join(repr(name) for name in raw[:3])}, ...); "
                "the model's "
                f"inputs are named {export.INPUTS[:3]}..., so rename with batch.rename(columns=export.INPUT_NAMES)"
            )
        if data.TARGET in keys:
            return (
                "the instances carry 'quality': it is what the model predicts, not one of its inputs; send the 11 "
                "measurements only"
            )
        missing, unexpected = sorted(set(export.INPUTS) - keys), sorted(keys - set(export.INPUTS))
        if missing or unexpected:
            return f"instance {position} should have exactly the keys {export.INPUTS}; missing {missing}" + (
                f", unexpected {unexpected}" if unexpected else ""
            )
        wine = batch.iloc[position]
        for feature, name in export.INPUT_NAMES.items():
            value = row[name]
            if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
                return f"instance {position} has {name} = {value!r}: send numbers, not {type(value).__name__}"
            if not math.isclose(
                float(value), float(wine[feature]), rel_tol=SAME_VALUE_RELATIVE_TOLERANCE, abs_tol=1e-9
            ):
                return (
                    f"instance {position} has {name} = {float(value):g}, but wine {position} of the batch has "
                    f"{float(wine[feature]):g}: send the batch's wines, in their order"
                )
    return None


def _judge_batch_request(answer: tuple[Any, Any, Any], batch: pd.DataFrame, client: ServingClient) -> str | None:
    input_names, body, predictions = (solved(part) for part in answer)
    problem = _judge_input_names(input_names, client)
    if problem:
        return problem
    if not isinstance(body, dict):
        return f"body is a {type(body).__name__}: make it a dict, which becomes the JSON object of the request"
    if "instances" in body and "inputs" in body:
        return (
            "body has both 'instances' and 'inputs'; TF Serving refuses that with \"expecting only one of 'inputs' "
            "or 'instances' keys\": choose one format"
        )
    if "inputs" in body:
        problem = _judge_columns(body["inputs"], batch)
    elif "instances" in body:
        problem = _judge_instances(body["instances"], batch)
    else:
        return f"body has the keys {sorted(body)}: a predict body is {{'inputs': {{...}}}} or {{'instances': [...]}}"
    if problem:
        return problem
    if isinstance(predictions, dict) and "error" in predictions:
        return (
            f"predictions is the server's error answer ({str(predictions['error'])[:80]}): check the model name and "
            "the path, /v1/models/<model>:predict"
        )
    if isinstance(predictions, dict) and "outputs" in predictions:
        return "predictions is the whole answer of a columnar request: read its entry, answer['outputs']"
    served, problem = _numbers(predictions, "predictions", len(batch))
    if problem:
        return problem
    if _same(served, served_scores(client, body)):
        return None
    if data.TARGET in batch and _same(served, batch[data.TARGET].to_numpy(dtype=float)):
        return "predictions are the tasters' scores from the batch: read them from the server's answer"
    if _same(served, _answer_of(client, {"instances": instances(batch)}, version=1)):
        return (
            f"predictions are version 1's answer; post to {predict_path(client)}, without a version, "
            "which the newest version answers"
        )
    return f"predictions differ from what {predict_path(client)} answers for this body: read them from the answer"


def check_batch_request(
    input_names: Any, body: Any, predictions: Any, batch: pd.DataFrame, client: ServingClient
) -> tuple[list[str], dict, Any]:
    """Exercise 05.1: the signature's input names read from the metadata, a predict body in either format, and its
    scores; the reference triple if wrong."""

    def reference():
        reference_body = {"instances": instances(batch)}
        return _signature_inputs(client), reference_body, served_scores(client, reference_body)

    return verdict(
        "05.1",
        (input_names, body, predictions),
        lambda answer: _judge_batch_request(answer, batch, client),
        hint="the server describes its own contract: the metadata's signature lists the inputs it takes. A batch "
        "goes as rows or as columns, and the answer's key follows the format you chose.",
        reference=reference,
        success=f"the {len(export.INPUTS)} input names came from the server itself, and one score per wine came "
        "back: a program in any language can do the same with HTTP and JSON.",
    )


# --- 05.2 the canary over gRPC ------------------------------------------------------------------------------


def canary_version(client: ServingClient) -> int:
    """The version the label canary points at, as the server resolves it (REST metadata)."""
    return int(client.metadata(label="canary")["model_spec"]["version"])


def _judge_canary_request(request: Any, client: ServingClient) -> str | None:
    """What is wrong with the PredictRequest sent, in one sentence, or None."""
    spec = getattr(request, "model_spec", None)
    if spec is None or not hasattr(request, "inputs"):
        return (
            f"canary_request is a {type(request).__name__}: it should be the predict_pb2.PredictRequest "
            "you sent with the gRPC stub"
        )
    if spec.name != client.model_name:
        return (
            f"the request asks for the model {spec.name!r}; the server serves {client.model_name!r} "
            "(gRPC answers NOT_FOUND for an unknown name): set model_spec.name"
        )
    which = spec.WhichOneof("version_choice")
    if which == "version":
        number = spec.version.value
        if number == canary_version(client):
            return (
                f"the request asks for version {number} by its number; this exercise asks for the label. "
                "A label keeps clients unchanged when the team points canary at another version"
            )
        return f"the request asks for version {number}; the canary is the version the label canary names"
    if which == "version_label" and spec.version_label != "canary":
        return f"the request asks for the label {spec.version_label!r}; the new version carries the label 'canary'"
    if which is None:
        return (
            "the request names no version or label, so the newest version answers: that is the canary today only "
            "by coincidence. ModelSpec has a field for a label"
        )
    missing = sorted(set(export.INPUTS) - set(request.inputs))
    if missing:
        return f"the request has no tensor for the inputs {missing[:3]}: the signature needs all {len(export.INPUTS)}"
    return None


def _judge_canary_grpc(answer: tuple[Any, Any, Any], body: dict, client: ServingClient) -> str | None:
    request, scores, answered_by = answer
    request, scores, answered_by = solved(request), solved(scores), solved(answered_by)
    problem = _judge_canary_request(request, client)
    if problem:
        return problem
    served, problem = _numbers(scores, "canary_scores", len(body.get("instances", [])))
    if problem:
        return problem
    if not _same(served, _answer_of(client, body, label="canary")):
        if _same(served, _answer_of(client, body, version=1)):
            return "canary_scores are version 1's answer (stable): read them from the canary's response"
        return (
            "canary_scores differ from what the canary answers for the wines of 05.1: send the batch's wines, "
            "in their order, and read the output tensor 'quality' of the response"
        )
    if hasattr(answered_by, "value") and not isinstance(answered_by, (Real, np.integer)):
        return "answered_by is a protobuf wrapper (Int64Value): its number is in .value"
    if isinstance(answered_by, str):
        return (
            f"answered_by is the text {answered_by!r}: the exercise asks for the version number that answered, "
            "which the response's model_spec carries"
        )
    if isinstance(answered_by, (bool, np.bool_)) or not isinstance(answered_by, (Real, np.integer)):
        return f"answered_by should be a version number, got a {type(answered_by).__name__}"
    expected = canary_version(client)
    if answered_by != expected:
        return (
            f"answered_by is {answered_by}, but version {expected} answered: read it from the response "
            "(its model_spec), not from the request"
        )
    return None


def reference_canary_request(body: dict, client: ServingClient) -> Any:
    """The PredictRequest of the reference: 05.1's wines as float32 tensors, for the label canary."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = client.model_name
    request.model_spec.version_label = "canary"
    for name in export.INPUTS:
        values = np.asarray([row[name] for row in body["instances"]], dtype=np.float32)
        request.inputs[name].CopyFrom(tf.make_tensor_proto(values))
    return request


def as_rows(body: Any) -> dict:
    """A predict body in the row format, whichever format it came in (05.1 allows both)."""
    if isinstance(body, dict) and "instances" not in body and isinstance(body.get("inputs"), dict):
        columns = body["inputs"]
        length = len(next(iter(columns.values()), []))
        return {"instances": [{name: values[i] for name, values in columns.items()} for i in range(length)]}
    return body if isinstance(body, dict) else {"instances": []}


def check_canary_grpc(
    canary_request: Any, canary_scores: Any, answered_by: Any, body: dict, client: ServingClient
) -> tuple[Any, Any, int]:
    """Exercise 05.2: the gRPC PredictRequest for the label canary, its scores and the version that answered;
    the reference triple if wrong."""
    body = as_rows(body)
    return verdict(
        "05.2",
        (canary_request, canary_scores, answered_by),
        lambda answer: _judge_canary_grpc(answer, body, client),
        hint="the lesson's gRPC call asked for no version; the request's model_spec can name a label instead, "
        "and the response's model_spec says which version answered. TF Serving wants float32 tensors here.",
        reference=lambda: (
            reference_canary_request(body, client),
            _answer_of(client, body, label="canary"),
            canary_version(client),
        ),
        success="the label canary resolved to the version models.config gives it, the answer came from that "
        "version, and a client that asks by label needs no change when the label moves.",
    )


# --- 05.3 latency of one-row calls ----------------------------------------------------------------------------


def reference_timings(client: ServingClient, one_wine_body: dict, calls: int) -> list[float]:
    """Milliseconds of `calls` one-row REST predict calls, timed one by one with time.perf_counter."""
    path, timings = predict_path(client), []
    for _ in range(calls):
        started = time.perf_counter()
        client.request("POST", path, one_wine_body)
        timings.append((time.perf_counter() - started) * 1e3)
    return timings


def _one_number(value: Any, name: str) -> tuple[float | None, str | None]:
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.floating, np.integer)):
        return None, f"{name} should be one number (milliseconds), got a {type(value).__name__}"
    if not math.isfinite(float(value)):
        return None, f"{name} is {value}: it should be a finite number of milliseconds"
    return float(value), None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


# numpy's ways to compute a percentile; statistics.quantiles and pandas use some of them too. Any of them is right.
PERCENTILE_METHODS = (
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
)


def _a_percentile(value: float, timings: np.ndarray, percent: float) -> bool:
    """value is the percentile of the timings by one of numpy's methods."""
    return any(_close(value, float(np.percentile(timings, percent, method=method))) for method in PERCENTILE_METHODS)


def _judge_latency(answer: tuple[Any, Any, Any], client: ServingClient, one_wine_body: dict, calls: int) -> str | None:
    timings, p50, p95 = answer
    timings = solved(timings)
    if isinstance(timings, (str, bytes, dict)) or not hasattr(timings, "__len__"):
        return f"timings should be a list of milliseconds, one per call, got a {type(timings).__name__}"
    for timing in timings:
        solved(timing)
    p50, p95 = solved(p50), solved(p95)
    values, problem = _numbers(timings, "timings", calls, each="call")
    if problem:
        return problem
    if np.any(values <= 0):
        return (
            "timings holds zero or negative durations: take time.perf_counter() before the call and subtract it after"
        )
    if calls > 2 and np.all(values == values[0]):
        return "every timing is the same number: time each call on its own, inside time_one_call"
    if calls >= 5 and np.all(np.diff(values) > 0) and values[-1] > 3 * values[0]:
        return (
            "the timings only grow, call after call: they add up all calls so far. Take started = "
            "time.perf_counter() inside time_one_call, just before the request"
        )
    reference = float(np.median(reference_timings(client, one_wine_body, REFERENCE_CALLS)))
    typical = float(np.median(values))
    if typical < reference / UNIT_FACTOR:
        if reference / UNIT_FACTOR <= typical * 1e3 <= reference * UNIT_FACTOR:
            return (
                f"your median timing is {typical:.3g}, and one REST call takes about {reference:.2g} ms here: these "
                "look like seconds; multiply by 1000 for milliseconds"
            )
        return (
            f"your median timing is {typical:.3g} ms, far below the {reference:.2g} ms a REST call takes here: time "
            "the request itself, between the two time.perf_counter() readings"
        )
    if typical > reference * UNIT_FACTOR:
        if reference / UNIT_FACTOR <= typical / 1e3 <= reference * UNIT_FACTOR:
            return (
                f"your median timing is {typical:.3g}, and one REST call takes about {reference:.2g} ms here: these "
                "look like microseconds; time.perf_counter() counts seconds, times 1000 is milliseconds"
            )
        return (
            f"your median timing is {typical:.3g} ms, far above the {reference:.2g} ms a one-row REST call takes "
            "here: time one call for one wine, nothing else"
        )
    p50, problem = _one_number(p50, "p50")
    if problem:
        return problem
    p95, problem = _one_number(p95, "p95")
    if problem:
        return problem
    mean, slowest = float(np.mean(values)), float(np.max(values))
    median, percentile_95 = float(np.percentile(values, 50)), float(np.percentile(values, 95))
    for name, value, percent in (("p50", p50, 50), ("p95", p95, 95)):
        fraction = float(np.percentile(values, percent / 100))
        if not _close(value, float(np.percentile(values, percent))) and _close(value, fraction):
            return (
                f"{name} looks like np.percentile(timings, {percent / 100:g}): np.percentile takes percent, {percent} "
                f"(np.quantile takes {percent / 100:g})"
            )
    if p95 < p50:
        return f"p95 ({p95:.3g} ms) is below p50 ({p50:.3g} ms): the 95th percentile can never be below the median"
    if not _close(p50, median):
        if _close(p50, mean):
            return f"p50 is {p50:.3g} ms, the mean of your timings: p50 is the median, np.percentile(timings, 50)"
        if not _a_percentile(p50, values, 50):  # numpy's other methods are right too
            return f"p50 is {p50:.3g} ms, but the median of your timings is {median:.3g} ms"
    if not _close(p95, percentile_95):
        if _close(p95, slowest):
            return (
                f"p95 is {p95:.3g} ms, your slowest call (the max): p95 leaves out the slowest 5 % of the calls, "
                "np.percentile(timings, 95)"
            )
        if _close(p95, mean):
            return (
                f"p95 is {p95:.3g} ms, the mean of your timings: the mean hides the slow calls; p95 is the time "
                "95 % of the calls stay under, np.percentile(timings, 95)"
            )
        if not _a_percentile(p95, values, 95):
            return f"p95 is {p95:.3g} ms, but the 95th percentile of your timings is {percentile_95:.3g} ms"
    return None


def check_latency(
    timings: Any, p50: Any, p95: Any, client: ServingClient, one_wine_body: dict, calls: int
) -> tuple[Any, Any, Any]:
    """Exercise 05.3: timings (ms) of `calls` one-row REST calls and their p50 and p95; measured anew if wrong."""

    def reference():
        measured = reference_timings(client, one_wine_body, calls)
        return measured, float(np.percentile(measured, 50)), float(np.percentile(measured, 95))

    return verdict(
        "05.3",
        (timings, p50, p95),
        lambda answer: _judge_latency(answer, client, one_wine_body, calls),
        hint="in time_one_call: started = time.perf_counter(), then the request, then return "
        "(time.perf_counter() - started) * 1000; afterwards p50, p95 = np.percentile(timings, [50, 95]).",
        reference=reference,
        success="p50 and p95 are the median and the 95th percentile of your own timings: half of the calls "
        "were faster than p50, and one in twenty was slower than p95.",
    )
