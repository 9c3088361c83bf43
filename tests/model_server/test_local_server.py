"""The local model server against the course's own models: REST and gRPC, versions and labels,
errors with TF Serving's codes and messages, metrics, the client's messages and the server log.

One server for the whole module, started from a models.config and a monitoring.config written
here (model "lin": version 1 is y = 0.5x + 2, version 2 is y = 0.5x + 3, labels stable -> 1 and
canary -> 2; model "pair": two named inputs and outputs), read through --volume as in Docker.
"""

import http.client
import json
import re
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from loopback import answers_on, other_reachable_addresses
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from model_server import ServingClient, ServingError
from model_server.local import free_port

MODELS_CONFIG = """
model_config_list {
  config {
    name: "lin"
    base_path: "/models/lin"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config {
    name: "pair"
    base_path: "/models/pair"
    model_platform: "tensorflow"
  }
}
"""
METRICS_PATH = "/monitoring/test/metrics"
MONITORING_CONFIG = f'prometheus_config {{ enable: true path: "{METRICS_PATH}" }}\n'


@pytest.fixture(scope="module")
def server(model_store, tmp_path_factory, start_server):
    folder = tmp_path_factory.mktemp("config")
    (folder / "models.config").write_text(MODELS_CONFIG)
    (folder / "monitoring.config").write_text(MONITORING_CONFIG)
    server = start_server(
        model_config_file=folder / "models.config",
        monitoring_config_file=folder / "monitoring.config",
        volumes={model_store: "/models"},
        model_config_file_poll_wait_seconds=1,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server):
    client = server.client("lin")
    yield client
    client.close()


def raw(server, method: str, path: str, body: bytes | str | None = None) -> tuple[int, str, dict | str]:
    """(HTTP status, Content-Type, parsed body) of one request, bodies sent exactly as given."""
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_api_port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        payload = response.read().decode()
        kind = response.getheader("Content-Type", "")
        return response.status, kind, json.loads(payload) if kind.startswith("application/json") else payload
    finally:
        connection.close()


def line(x: float, version: int) -> float:
    return 0.5 * x + (2.0 if version == 1 else 3.0)


# ---------------------------------------------------------------- status, versions, labels


def test_status_lists_both_versions_newest_first(client):
    ok = {"error_code": "OK", "error_message": ""}
    assert client.status() == {
        "model_version_status": [
            {"version": "2", "state": "AVAILABLE", "status": ok},
            {"version": "1", "state": "AVAILABLE", "status": ok},
        ]
    }
    assert client.status(version=1)["model_version_status"][0]["version"] == "1"
    assert client.status(label="canary")["model_version_status"][0]["version"] == "2"


@pytest.mark.parametrize(
    "version, label, served", [(None, None, 2), (1, None, 1), (2, None, 2), (None, "stable", 1), (None, "canary", 2)]
)
def test_versions_and_labels_resolve_as_models_config_says(client, version, label, served):
    assert client.predict([[1.0], [4.0]], version=version, label=label) == [[line(1, served)], [line(4, served)]]


def test_row_and_columnar_formats(client):
    assert client.predict([[1.0], [2.0]], version=1) == [[2.5], [3.0]]
    assert client.predict(inputs=[[1.0], [2.0]], version=1) == [[2.5], [3.0]]
    assert client.predict(inputs={"x": [[1.0]]}, version=1) == [[2.5]]
    assert client.predict([{"x": [1.0]}], version=1) == [[2.5]]


def test_several_outputs_are_named(server):
    pair = server.client("pair")
    assert pair.predict([{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]) == [
        {"product": 2.0, "sum": 3.0},
        {"product": 12.0, "sum": 7.0},
    ]
    assert pair.predict(inputs={"a": [1.0, 3.0], "b": [2.0, 4.0]}) == {"product": [2.0, 12.0], "sum": [3.0, 7.0]}
    outputs = pair.grpc_predict({"a": [1.0, 3.0], "b": [2.0, 4.0]})
    assert {name: value.tolist() for name, value in outputs.items()} == {"product": [2.0, 12.0], "sum": [3.0, 7.0]}
    only_sum = pair.grpc_predict({"a": [1.0], "b": [2.0]}, output_filter=["sum"])
    assert list(only_sum) == ["sum"]


@pytest.mark.parametrize("rows", [1, 100])
@pytest.mark.parametrize("version, label", [(None, None), (1, None), (None, "canary")])
def test_rest_and_grpc_return_the_same_numbers(client, rows, version, label):
    x = np.linspace(-3, 3, rows, dtype=np.float32).reshape(rows, 1)
    rest = np.array(client.predict(x, version=version, label=label), dtype=np.float32)
    (grpc_result,) = client.grpc_predict(x, version=version, label=label).values()
    np.testing.assert_array_equal(rest, grpc_result)
    served = 1 if version == 1 else 2
    np.testing.assert_allclose(rest, 0.5 * x + (2.0 if served == 1 else 3.0), rtol=1e-6)


def test_metadata_has_tf_serving_shape(client):
    metadata = client.metadata(version=1)
    assert metadata["model_spec"] == {"name": "lin", "signature_name": "", "version": "1"}
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    x = signature["inputs"]["x"]
    assert x["dtype"] == "DT_FLOAT"
    assert x["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}, {"size": "1", "name": ""}], "unknown_rank": False}
    assert client.grpc_metadata(version=1) == metadata
    assert client.metadata(label="canary")["model_spec"]["version"] == "2"


def test_grpc_status_is_the_rest_status(client):
    assert client.grpc_status() == client.status()
    assert client.grpc_status(label="stable") == client.status(version=1)


# ---------------------------------------------------------------- errors: codes and bodies

BAD_REQUESTS = [
    # (method, path, body, HTTP status, start of TF Serving's message)
    ("POST", "/v1/models/lin:predict", '{"instances": [1.0', 400, "JSON Parse error"),
    ("POST", "/v1/models/lin:predict", "", 400, "JSON Parse error: The document is empty"),
    ("POST", "/v1/models/lin:predict", "[1.0]", 400, "JSON Value: [1.0] Is not object"),
    ("POST", "/v1/models/lin:predict", '{"instances": [[1.0]], "inputs": [[1.0]]}', 400, "JSON Value: "),
    ("POST", "/v1/models/lin:predict", '{"rows": [[1.0]]}', 400, "Missing 'inputs' or 'instances' key"),
    ("POST", "/v1/models/lin:predict", '{"instances": []}', 400, "JSON Value: "),
    (
        "POST",
        "/v1/models/lin:predict",
        '{"instances": [["a"]]}',
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "a" Type: String is not of expected type: float',
    ),
    (
        "POST",
        "/v1/models/lin:predict",
        '{"instances": [[true]]}',
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        "JSON Value: true Type: True is not of expected type: float",
    ),
    (
        "POST",
        "/v1/models/lin:predict",
        '{"instances": [[1.0], [1.0, 2.0]]}',
        400,
        "Failed to process element: 1 of 'instances' list. "
        "Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2",
    ),
    (
        "POST",
        "/v1/models/lin:predict",
        '{"inputs": [[1.0], [1.0, 2.0]]}',
        400,
        "Encountered list at unexpected size: 2 at level: 1 expected size: 1",
    ),
    ("POST", "/v1/models/lin/versions/1:predict", '{"instances": [[1.0, 2.0]]}', 400, ""),  # MatMul: [1,2] x [1,1]
    (
        "POST",
        "/v1/models/lin:predict",
        '{"signature_name": "nope", "instances": [[1.0]]}',
        400,
        'Serving signature name: "nope" not found in signature def',
    ),
    ("POST", "/v1/models/lin:predict", '{"signature_name": 7, "instances": [[1.0]]}', 400, "JSON Value: "),
    (
        "POST",
        "/v1/models/pair:predict",
        '{"instances": [1.0]}',
        400,
        "instances is a plain list, but expecting list of objects as multiple input tensors required",
    ),
    ("POST", "/v1/models/pair:predict", '{"inputs": {"a": [1.0]}}', 400, "Missing named input: b in 'inputs' object."),
    ("POST", "/v1/models/nope:predict", '{"instances": [[1.0]]}', 404, "Servable not found for request: Latest(nope)"),
    (
        "POST",
        "/v1/models/lin/versions/7:predict",
        '{"instances": [[1.0]]}',
        404,
        "Servable not found for request: Specific(lin, 7)",
    ),
    (
        "POST",
        "/v1/models/lin/labels/nope:predict",
        '{"instances": [[1.0]]}',
        400,
        "Unrecognized servable version label: nope",
    ),
    (
        "POST",
        "/v1/models/lin:regress",
        '{"examples": [{"x": 1.0}]}',
        400,
        "Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict",
    ),
    (
        "POST",
        "/v1/models/lin:classify",
        '{"examples": [{"x": 1.0}]}',
        400,
        "Expected classification signature method_name to be tensorflow/serving/classify.",
    ),
    ("GET", "/v1/models/nope", None, 404, "Could not find any versions of model nope"),
    ("GET", "/v1/models/lin/versions/7", None, 404, "Could not find version 7 of model lin"),
    ("GET", "/v1/models/lin/labels/nope", None, 400, "Unrecognized servable version label: nope"),
    ("GET", "/v1/models/nope/metadata", None, 404, "Servable not found for request: Latest(nope)"),
    ("GET", "/v1/models", None, 400, "Missing model name in request."),
    ("GET", "/v1/models/lin:predict", None, 400, "Malformed request: GET /v1/models/lin:predict"),
    ("PUT", "/v1/models/lin", "{}", 400, "Malformed request: PUT /v1/models/lin"),
]


@pytest.mark.parametrize(
    "method, path, body, status, message", BAD_REQUESTS, ids=[f"{m} {p} {b}"[:60] for m, p, b, *_ in BAD_REQUESTS]
)
def test_bad_requests_get_tf_serving_errors(server, method, path, body, status, message):
    code, kind, answer = raw(server, method, path, body)
    assert (code, kind) == (status, "application/json")
    assert set(answer) == {"error"} and answer["error"].startswith(message), answer


def test_unknown_paths_are_404(server):
    assert raw(server, "GET", "/nothing/here")[0] == 404


def test_server_keeps_serving_after_bad_requests(server, client):
    for method, path, body, *_ in BAD_REQUESTS:
        raw(server, method, path, body)
    assert server.running
    assert client.predict([[2.0]], version=1) == [[3.0]]


def grpc_request(model="lin", **spec) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], np.float32)))
    return request


@pytest.mark.parametrize(
    "change, code, message",
    [
        (
            lambda r: setattr(r.model_spec, "name", "nope"),
            grpc.StatusCode.NOT_FOUND,
            "Servable not found for request: Latest(nope)",
        ),
        (
            lambda r: r.model_spec.version.__setattr__("value", 7),
            grpc.StatusCode.NOT_FOUND,
            "Servable not found for request: Specific(lin, 7)",
        ),
        (
            lambda r: setattr(r.model_spec, "version_label", "nope"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "Unrecognized servable version label: nope",
        ),
        (
            lambda r: r.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]]))),
            grpc.StatusCode.INVALID_ARGUMENT,
            "Expects arg[0] to be float but double is provided",
        ),
        (
            lambda r: r.inputs["z"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], np.float32))),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input size does not match signature: 2!=1",
        ),
        (
            lambda r: r.output_filter.append("nope"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "output tensor alias not found in signature: nope",
        ),
        (
            lambda r: setattr(r.model_spec, "signature_name", "nope"),
            grpc.StatusCode.FAILED_PRECONDITION,
            'Serving signature key "nope" not found.',
        ),
    ],
)
def test_grpc_errors_have_tf_serving_codes(server, change, code, message):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_target))
    request = grpc_request()
    change(request)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(request, timeout=10)
    assert caught.value.code() == code
    assert caught.value.details().startswith(message)
    assert stub.Predict(grpc_request(), timeout=10).model_spec.version.value == 2  # and it keeps serving


# ---------------------------------------------------------------- metrics


def request_count(metrics: str, model: str, status: str) -> int:
    found = re.search(
        rf'^:tensorflow:serving:request_count\{{model_name="{model}",status="{status}"\}} (\d+)$', metrics, re.MULTILINE
    )
    return int(found[1]) if found else 0


def test_metrics_count_requests(server, client):
    before = client.metrics(METRICS_PATH)
    for _ in range(3):
        client.predict([[1.0]])
    client.grpc_predict([[1.0]])
    with pytest.raises(ServingError):
        client.predict([[1.0]], model="nope")
    after = client.metrics(METRICS_PATH)
    assert request_count(after, "lin", "OK") == request_count(before, "lin", "OK") + 4
    assert request_count(after, "nope", "NOT_FOUND") == request_count(before, "nope", "NOT_FOUND") + 1
    assert "# TYPE :tensorflow:serving:request_count counter" in after
    assert "# TYPE :tensorflow:serving:request_latency histogram" in after
    assert re.search(
        r':tensorflow:serving:request_latency_bucket\{model_name="lin",API="predict",'
        r'entrypoint="REST",le="\+Inf"\} [1-9]',
        after,
    )
    assert ':tensorflow:serving:request_latency_count{model_name="lin",API="Predict",entrypoint="GRPC"}' in after
    assert ':tensorflow:serving:runtime_latency_count{model_name="lin",API="Predict",runtime="TF1"}' in after


def test_metrics_live_at_the_monitoring_config_path_only(server, client):
    with pytest.raises(ServingError, match="monitoring.config"):
        client.metrics()  # the default path: this server's monitoring.config chose another


# ---------------------------------------------------------------- the client's messages


def test_client_reports_tf_serving_message_for_unknown_model(client):
    with pytest.raises(ServingError) as caught:
        client.status(model="nope")
    error = caught.value
    assert str(error).startswith("Could not find any versions of model nope (HTTP 404")
    assert (error.status, error.code) == (404, "NOT_FOUND")
    assert error._render_traceback_() == [f"ServingError: {error}"]
    with pytest.raises(ServingError, match=r"^Servable not found for request: Specific\(lin, 9\) \(gRPC NOT_FOUND"):
        client.grpc_predict({"x": [[1.0]]}, version=9)


def test_client_names_the_url_and_how_to_start_a_server_when_nothing_answers():
    url = f"http://127.0.0.1:{free_port()}"
    nobody = ServingClient(url, grpc_target=f"127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(ServingError) as caught:
        nobody.predict([[1.0]])
    message = str(caught.value)
    assert f"No model server answers at {url}" in message
    assert "docker run" in message and "tensorflow/serving" in message and "python -m model_server" in message
    assert "\n" not in message
    with pytest.raises(ServingError, match=r"No model server answers gRPC at 127\.0\.0\.1:\d+ .*docker run"):
        nobody.grpc_status()


# ---------------------------------------------------------------- the log


def test_log_has_start_up_events_and_nothing_per_request(server, client):
    log = server.log()
    for event in (
        "Successfully loaded servable version {name: lin version: 1}",
        "Successfully loaded servable version {name: lin version: 2}",
        "Successfully loaded servable version {name: pair version: 1}",
        f"Running gRPC ModelServer at 127.0.0.1:{server.port}",
        f"Exporting HTTP/REST API at:127.0.0.1:{server.rest_api_port}",
        f"Prometheus metrics at http://127.0.0.1:{server.rest_api_port}{METRICS_PATH}",
    ):
        assert sum(event in line for line in log.splitlines()) == 1, event
    assert not re.search(r"cuda|oneDNN|absl|mlir|deprecated", log, re.IGNORECASE), log
    lines = len(server.log().splitlines())
    client.predict([[1.0]])
    client.grpc_predict([[1.0]])
    raw(server, "POST", "/v1/models/lin:predict", "{")
    assert len(server.log().splitlines()) == lines


def test_config_file_changes_are_picked_up(model_store, tmp_path, start_server):
    """--model_config_file_poll_wait_seconds: moving a label needs no restart. A server and config of its
    own: the module's server must keep its labels whatever the order of the tests."""
    (tmp_path / "models.config").write_text(MODELS_CONFIG)
    server = start_server(
        model_config_file=tmp_path / "models.config",
        volumes={model_store: "/models"},
        model_config_file_poll_wait_seconds=1,
    )
    client = server.client("lin")
    server.model_config_file.write_text(MODELS_CONFIG.replace('key: "stable" value: 1', 'key: "stable" value: 2'))
    deadline = time.monotonic() + 60
    while client.status(label="stable")["model_version_status"][0]["version"] != "2":
        assert time.monotonic() < deadline, "the new label never arrived"
        time.sleep(0.1)
    assert client.predict([[1.0]], label="stable") == [[3.5]]
    assert "Model config file changed: reloading" in server.log()
    assert client.predict([[1.0]], version=1) == [[2.5]]  # version 1 is still served
    client.close()
    server.stop()


def test_it_listens_on_localhost_only(server):
    """Both ports, REST and gRPC, only on 127.0.0.1 (TF Serving listens on all interfaces)."""
    reachable = other_reachable_addresses()
    assert reachable, "no address besides 127.0.0.1 reaches a listener on all interfaces: nothing to check against"
    for port in (server.rest_api_port, server.port):
        assert answers_on("127.0.0.1", port), f"the server does not answer on 127.0.0.1:{port}"
        answering = [address for address in reachable if answers_on(address, port)]
        assert answering == [], f"the server answers on {answering} (port {port}), not only on localhost"
