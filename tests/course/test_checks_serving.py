"""The checks of module 05 are not vacuous: right answers pass, wrong ones get "not quite" and a hint.

For every exercise: the reference answer and other right ways (requests or urllib, the columnar or the row
format, a gRPC request built by keywords, statistics or pandas for the percentiles) -> "correct"; typical mistakes ->
"not quite" with what is wrong and the hint; the placeholder `...` -> "not solved yet". One local
model server, started once for the module, serves two untrained wine-shaped models (different seeds,
so different answers) as versions 1 and 2 with the course's labels: the checks look at requests and
answers, not at how well a model predicts.
"""

import json
import statistics
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest
import requests
from verdicts import assert_not_quite, verdict_of

from course.checks import serving as checks
from model_server import LocalModelServer
from workshop_lib import data, export

MODELS_CONFIG = """
model_config_list {{
  config {{
    name: "wine"
    base_path: "{base_path}"
    model_platform: "tensorflow"
    model_version_policy {{ specific {{ versions: 1 versions: 2 }} }}
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
}}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A client of a local server with the course's models.config layout: wine versions 1 and 2, stable and canary."""
    root = tmp_path_factory.mktemp("serving_checks")
    wines = data.load_wine("red").head(200)
    for version in (1, 2):
        export.export_savedmodel(export.build_keras_model(wines, seed=version), version, root / "wine")
    config_file = root / "models.config"
    config_file.write_text(MODELS_CONFIG.format(base_path=(root / "wine").as_posix()), encoding="utf-8")
    server = LocalModelServer(model_config_file=config_file, timeout=90).start()
    yield server.client("wine")
    server.stop()


@pytest.fixture(scope="module")
def batch():
    return data.load_wine("white").iloc[20:25]


@pytest.fixture(scope="module")
def body(batch):
    return {"instances": checks.instances(batch)}


def answer_of(client, body, **spec):
    return client.request("POST", checks.predict_path(client, **spec), body)["predictions"]


# --- 05.1 a batch from a program without the course's client ----------------------------------------------


@pytest.fixture(scope="module")
def input_names(client):
    return sorted(
        requests.get(f"{client.url}/v1/models/wine/metadata", timeout=30).json()["metadata"]["signature_def"][
            "signature_def"
        ]["serving_default"]["inputs"]
    )


def columnar(batch):
    renamed = batch.rename(columns=export.INPUT_NAMES)
    return {"inputs": {name: renamed[name].tolist() for name in export.INPUTS}}


def test_batch_request_columnar_with_requests_is_correct(capsys, client, batch, input_names):
    body = columnar(batch)
    predictions = requests.post(f"{client.url}/v1/models/wine:predict", json=body, timeout=30).json()["outputs"]
    answer = checks.check_batch_request(input_names, body, predictions, batch, client)
    assert answer == (input_names, body, predictions)
    assert verdict_of(capsys, "05.1")[0] == "correct"


def post_json(url: str, body: dict) -> dict:
    """A POST with the standard library, as a participant without the course's client would write it."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_batch_request_rows_with_urllib_and_names_in_the_signature_order_is_correct(capsys, client, batch):
    """Another right way: the metadata read with urllib, names in the server's order (a dict's keys), the row
    format renamed in a loop, the scores as a numpy array."""
    with urllib.request.urlopen(f"{client.url}/v1/models/wine/metadata", timeout=30) as response:
        signature = json.load(response)["metadata"]["signature_def"]["signature_def"]["serving_default"]
    names = signature["inputs"].keys()
    rows = batch.drop(columns=data.TARGET).to_dict("records")
    body = {"instances": [{export.INPUT_NAMES[column]: value for column, value in row.items()} for row in rows]}
    predictions = np.asarray(post_json(f"{client.url}/v1/models/wine:predict", body)["predictions"])
    checks.check_batch_request(names, body, predictions, batch, client)
    assert verdict_of(capsys, "05.1")[0] == "correct"


def test_batch_request_with_float32_columns_and_the_course_client_is_correct(capsys, client, batch, input_names):
    body = {"inputs": {name: values.tolist() for name, values in export.as_inputs(batch).items()}}
    checks.check_batch_request(
        input_names, body, client.request("POST", "/v1/models/wine:predict", body)["outputs"], batch, client
    )
    assert verdict_of(capsys, "05.1")[0] == "correct"


@pytest.mark.parametrize("which", ["all", "names", "body", "predictions"])
def test_batch_request_not_solved_gives_the_reference(capsys, client, batch, body, input_names, which):
    answer = {
        "all": (..., ..., ...),
        "names": (..., body, answer_of(client, body)),
        "body": (input_names, ..., [5.0] * len(batch)),
        "predictions": (input_names, body, ...),
    }[which]
    names, reference_body, reference_predictions = checks.check_batch_request(*answer, batch, client)
    assert verdict_of(capsys, "05.1")[0] == "not solved yet"
    assert names == input_names
    assert reference_body == body
    assert reference_predictions == pytest.approx(answer_of(client, body), abs=1e-6)


def test_batch_request_wrong_names(capsys, client, batch, body):
    predictions = answer_of(client, body)
    for names, fragment in [
        (data.FEATURES, "the CSV's column names"),
        ([*export.INPUTS, "quality"], "the signature's output"),
        (export.INPUTS[:5], "has 5 names"),
        ("alcohol", "should be a list"),
    ]:
        checks.check_batch_request(names, body, predictions, batch, client)
        assert_not_quite(capsys, "05.1", fragment)


def test_batch_request_wrong_bodies(capsys, client, batch, body, input_names):
    renamed = batch.rename(columns=export.INPUT_NAMES)
    other_wines = {"instances": checks.instances(data.load_wine("white").iloc[30:35])}
    reversed_rows = columnar(batch.iloc[::-1])
    predictions = answer_of(client, body)
    cases = [
        ({"instances": body["instances"], "inputs": columnar(batch)["inputs"]}, "only one of 'inputs' or 'instances'"),
        ({"inputs": batch[data.FEATURES].to_dict("list")}, "the CSV's column names"),
        ({"inputs": renamed[[*export.INPUTS, "quality"]].to_dict("list")}, "not one of its inputs"),
        (reversed_rows, "in the wines' order"),
        ({"inputs": renamed[export.INPUTS].to_numpy().tolist()}, "maps each input name to a list"),
        ({"instances": batch.to_dict("records")}, "the CSV's column names"),
        ({"instances": renamed.to_dict("records")}, "it is what the model predicts"),
        ({"instances": renamed[export.INPUTS].to_numpy().tolist()}, "not an object"),
        ({"instances": body["instances"][:3]}, "holds 3 entries for the 5 wines"),
        ({"instances": [dict(row, ph=None) for row in body["instances"]]}, "send numbers"),
        (
            {"instances": [{k: v for k, v in row.items() if k != "alcohol"} for row in body["instances"]]},
            "missing ['alcohol']",
        ),
        (other_wines, "send the batch's wines"),
        ({"rows": body["instances"]}, "a predict body is"),
        (body["instances"], "make it a dict"),
    ]
    for wrong_body, fragment in cases:
        assert checks.check_batch_request(input_names, wrong_body, predictions, batch, client)[1] == body
        assert_not_quite(capsys, "05.1", fragment)


def test_batch_request_wrong_predictions(capsys, client, batch, body, input_names):
    answer = client.request("POST", "/v1/models/wine:predict", body)
    columnar_answer = client.request("POST", "/v1/models/wine:predict", columnar(batch))
    wrong_model = requests.post(f"{client.url}/v1/models/wines:predict", json=body, timeout=30)
    assert wrong_model.status_code == 404
    cases = [
        (body, answer, "answer['predictions']"),
        (columnar(batch), columnar_answer, "answer['outputs']"),
        (body, wrong_model.json(), "the server's error answer"),
        (body, answer_of(client, body, version=1), "version 1's answer"),
        (body, batch["quality"].tolist(), "the tasters' scores"),
        (body, answer["predictions"][:2], "holds 2 numbers for 5 wines"),
        (body, "5.5", "a list of numbers"),
        (body, [score + 0.5 for score in answer["predictions"]], "differ from what /v1/models/wine:predict answers"),
    ]
    for sent, wrong, fragment in cases:
        checks.check_batch_request(input_names, sent, wrong, batch, client)
        assert_not_quite(capsys, "05.1", fragment)


def test_canary_grpc_accepts_the_columnar_body_of_05_1(capsys, client, batch):
    scores = answer_of(client, {"instances": checks.instances(batch)}, label="canary")
    request = checks.reference_canary_request(checks.as_rows(columnar(batch)), client)
    checks.check_canary_grpc(request, scores, 2, columnar(batch), client)
    assert verdict_of(capsys, "05.2")[0] == "correct"


# --- 05.2 the canary over gRPC ------------------------------------------------------------------------------


def grpc_call(client, request):
    """Send a PredictRequest with the official stubs, as a participant would."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(client.grpc_target) as channel:
        return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)


def canary_request_built_another_way(body, **spec):
    """ModelSpec built by keywords, tensors from a DataFrame's columns: another right way to write the request."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2

    frame = pd.DataFrame(body["instances"]).astype("float32")
    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name="wine", **spec))
    for column in frame.columns:
        request.inputs[column].CopyFrom(tf.make_tensor_proto(frame[column].to_numpy(), shape=[len(frame)]))
    return request


def test_canary_grpc_reference_is_correct(capsys, client, body):
    request = checks.reference_canary_request(body, client)
    response = grpc_call(client, request)
    scores = response.outputs["quality"]
    import tensorflow as tf

    answer = (request, tf.make_ndarray(scores), response.model_spec.version.value)
    assert checks.check_canary_grpc(*answer, body, client)[2] == 2
    assert verdict_of(capsys, "05.2")[0] == "correct"


def test_canary_grpc_built_another_way_is_correct(capsys, client, body):
    request = canary_request_built_another_way(body, version_label="canary")
    response = grpc_call(client, request)
    import tensorflow as tf

    scores = tf.make_ndarray(response.outputs["quality"]).flatten().tolist()  # a plain list of floats
    checks.check_canary_grpc(request, scores, int(response.model_spec.version.value), body, client)
    assert verdict_of(capsys, "05.2")[0] == "correct"


def test_canary_grpc_not_solved_gives_the_reference(capsys, client, body):
    request, scores, version = checks.check_canary_grpc(..., ..., ..., body, client)
    assert verdict_of(capsys, "05.2")[0] == "not solved yet"
    assert request.model_spec.version_label == "canary"
    assert version == 2
    assert scores == pytest.approx(answer_of(client, body, version=2), abs=1e-6)


def test_canary_grpc_wrong_requests(capsys, client, body):
    canary = answer_of(client, body, label="canary")
    cases = [
        (canary_request_built_another_way(body, version={"value": 2}), "version 2 by its number"),
        (canary_request_built_another_way(body, version_label="stable"), "the label 'stable'"),
        (canary_request_built_another_way(body, version={"value": 1}), "asks for version 1"),
        (canary_request_built_another_way(body), "names no version or label"),
        ({"instances": body["instances"]}, "should be the predict_pb2.PredictRequest"),
    ]
    wrong_name = canary_request_built_another_way(body, version_label="canary")
    wrong_name.model_spec.name = "wines"
    cases.append((wrong_name, "serves 'wine'"))
    for request, fragment in cases:
        assert checks.check_canary_grpc(request, canary, 2, body, client)[2] == 2
        assert_not_quite(capsys, "05.2", fragment)


def test_canary_grpc_float64_is_refused_by_the_server(client, body):
    """Why the exercise says float32: the real server refuses float64 tensors for this signature."""
    import grpc

    request = canary_request_built_another_way(body, version_label="canary")
    frame = pd.DataFrame(body["instances"])
    import tensorflow as tf

    request.inputs["alcohol"].CopyFrom(tf.make_tensor_proto(frame["alcohol"].to_numpy(dtype=np.float64)))
    with pytest.raises(grpc.RpcError) as error:
        grpc_call(client, request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_canary_grpc_wrong_scores_and_versions(capsys, client, body):
    request = canary_request_built_another_way(body, version_label="canary")
    response = grpc_call(client, request)
    canary = answer_of(client, body, label="canary")
    cases = [
        (answer_of(client, body, version=1), 2, "version 1's answer (stable)"),
        ([6.0] * len(body["instances"]), 2, "differ from what the canary answers"),
        (canary[:2], 2, "holds 2 numbers for 5 wines"),
        (canary, "canary", "the text 'canary'"),
        (canary, 1, "but version 2 answered"),
        (canary, response.model_spec.version, "Int64Value"),
    ]
    for scores, version, fragment in cases:
        checks.check_canary_grpc(request, scores, version, body, client)
        assert_not_quite(capsys, "05.2", fragment)


# --- 05.3 latency -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def timings(client, body):
    """20 timings in milliseconds on the scale of this machine's REST calls, spread so that mean, median,
    p95 and max all differ."""
    typical = float(np.median(checks.reference_timings(client, {"instances": body["instances"][:1]}, 10)))
    spread = np.array(
        [1.0, 1.1, 0.9, 1.05, 0.95, 1.2, 0.8, 1.02, 0.98, 1.15, 0.85, 1.3, 0.7, 1.01, 0.99, 1.25, 0.75, 1.4, 2.0, 6.0]
    )
    return (typical * spread).tolist()


@pytest.fixture
def one_wine(body):
    return {"instances": body["instances"][:1]}


@pytest.mark.parametrize("percentiles", ["percentile", "quantile", "nearest"])
def test_latency_right_answers(capsys, client, one_wine, timings, percentiles):
    p50, p95 = {
        "percentile": lambda t: np.percentile(t, [50, 95]),
        "quantile": lambda t: (np.quantile(t, 0.5), np.quantile(t, 0.95)),
        "nearest": lambda t: np.percentile(t, [50, 95], method="nearest"),
    }[percentiles](timings)
    assert checks.check_latency(timings, p50, p95, client, one_wine, len(timings)) == (timings, p50, p95)
    assert verdict_of(capsys, "05.3")[0] == "correct"


def test_latency_measured_by_the_reference_is_correct(capsys, client, one_wine):
    measured = checks.reference_timings(client, one_wine, 30)
    checks.check_latency(measured, float(np.median(measured)), float(np.percentile(measured, 95)), client, one_wine, 30)
    assert verdict_of(capsys, "05.3")[0] == "correct"


def test_latency_timed_with_urllib_and_statistics_is_correct(capsys, client, one_wine):
    url = f"{client.url}/v1/models/wine:predict"

    def time_one_call():
        started = time.perf_counter_ns()
        post_json(url, one_wine)
        return (time.perf_counter_ns() - started) / 1e6  # nanoseconds to milliseconds

    time_one_call()  # warm-up
    timings = [time_one_call() for _ in range(30)]
    p50, p95 = statistics.median(timings), statistics.quantiles(timings, n=100)[94]  # the 'exclusive' method
    checks.check_latency(timings, p50, p95, client, one_wine, 30)
    assert verdict_of(capsys, "05.3")[0] == "correct"


def test_latency_with_pandas_quantiles_is_correct(capsys, client, one_wine, timings):
    p50, p95 = pd.Series(timings).quantile([0.5, 0.95])  # timings as an array, the percentiles from pandas
    checks.check_latency(np.asarray(timings), p50, p95, client, one_wine, len(timings))
    assert verdict_of(capsys, "05.3")[0] == "correct"


@pytest.mark.parametrize("which", ["timings", "p50", "p95"])
def test_latency_not_solved_measures_the_reference(capsys, client, one_wine, timings, which):
    answer = {"timings": ([...] * len(timings), ..., ...), "p50": (timings, ..., 1.0), "p95": (timings, 1.0, ...)}[
        which
    ]
    measured, p50, p95 = checks.check_latency(*answer, client, one_wine, len(timings))
    assert verdict_of(capsys, "05.3")[0] == "not solved yet"
    assert len(measured) == len(timings) and 0 < p50 <= p95


def test_latency_wrong_statistics(capsys, client, one_wine, timings):
    t = np.asarray(timings)
    p50, p95 = np.percentile(t, [50, 95])
    assert len({round(v, 9) for v in (t.mean(), p50, p95, t.max())}) == 4, "the fixture must separate the statistics"
    cases = [
        (p50, t.mean(), "the mean of your timings: the mean hides the slow calls"),
        (p50, t.max(), "your slowest call (the max)"),
        (t.mean(), p95, "p50 is the median"),
        (p50, np.percentile(t, 0.95), "np.percentile takes percent, 95"),
        (np.percentile(t, 0.5), p95, "np.percentile takes percent, 50"),
        (p95, p50, "can never be below the median"),
        (p50, p95 * 2, "but the 95th percentile of your timings is"),
        (p50, "fast", "one number"),
    ]
    for wrong_p50, wrong_p95, fragment in cases:
        checks.check_latency(timings, wrong_p50, wrong_p95, client, one_wine, len(timings))
        assert_not_quite(capsys, "05.3", fragment)


def test_latency_wrong_timings(capsys, client, one_wine, timings):
    t = np.asarray(timings)
    cases = [
        (t / 1000, "look like seconds"),
        (t * 1000, "look like microseconds"),
        (t * 1e-6, "time the request itself"),
        (np.cumsum(t), "the timings only grow"),
        (np.full(len(t), t[0]), "every timing is the same number"),
        (-t, "zero or negative"),
        (t[:3], "holds 3 numbers for 20 calls"),
        ("0.5 ms", "a list of milliseconds"),
    ]
    for wrong, fragment in cases:
        wrong_list = wrong if isinstance(wrong, str) else wrong.tolist()
        p50, p95 = (1.0, 2.0) if isinstance(wrong, str) else np.percentile(wrong, [50, 95])
        checks.check_latency(wrong_list, p50, p95, client, one_wine, len(t))
        assert_not_quite(capsys, "05.3", fragment)
