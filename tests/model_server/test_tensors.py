"""TF Serving's JSON formats and metrics page, checked without a server."""

import json

import numpy as np
import pytest
from tensorflow.core.protobuf import meta_graph_pb2

from model_server import tensors
from model_server.metrics import Metrics
from model_server.status import ServingStatus

FLOAT, STRING, INT32 = 1, 7, 3  # DT_FLOAT, DT_STRING, DT_INT32


def infos(**dtypes) -> dict:
    return {name: meta_graph_pb2.TensorInfo(dtype=dtype) for name, dtype in dtypes.items()}


def parse(document, **dtypes):
    return tensors.parse_predict_request(json.dumps(document).encode(), lambda name: infos(**dtypes))


def error_of(call) -> str:
    with pytest.raises(ServingStatus) as caught:
        call()
    assert caught.value.code == "INVALID_ARGUMENT"
    return caught.value.message


def test_rows_are_batched_along_a_new_first_dimension():
    name, row, inputs = parse({"instances": [[1, 2], [3.5, 4]]}, x=FLOAT)
    assert (name, row) == ("", True)
    assert inputs["x"].dtype == np.float32 and inputs["x"].tolist() == [[1.0, 2.0], [3.5, 4.0]]
    _, _, inputs = parse({"instances": [{"a": 1, "b": "s"}, {"a": 2, "b": {"b64": "aGk="}}]}, a=INT32, b=STRING)
    assert inputs["a"].tolist() == [1, 2] and inputs["b"].tolist() == [b"s", b"hi"]


def test_columns_are_whole_tensors():
    name, row, inputs = parse({"signature_name": "sig", "inputs": 3.0}, x=FLOAT)
    assert (name, row, inputs["x"].shape) == ("sig", False, ())
    _, _, inputs = parse({"inputs": {"a": [1, 2], "b": ["u", "v"]}}, a=INT32, b=STRING)
    assert inputs["b"].tolist() == [b"u", b"v"]


@pytest.mark.parametrize(
    "document, message",
    [
        (
            {"instances": [1.5]},
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON Value: 1.5 Type: Number is not of expected type: int32",
        ),
        ({"instances": [1, True]}, "JSON Value: true Type: True is not of expected type: int32"),
        ({"inputs": [[1], [2, 3]]}, "Encountered list at unexpected size: 2 at level: 1 expected size: 1"),
        ({"inputs": [[1], 2]}, "JSON Value: 2 found at incorrect level: 2 in the JSON DOM. Expected at level: 2"),
        ({"inputs": [1, [2]]}, "Encountered list at unexpected level: 1 expected < 1"),
        ({"inputs": [2**40]}, "JSON Value: 1099511627776 Type: Number is not of expected type: int32"),
    ],
)
def test_values_must_match_the_signature(document, message):
    assert message in error_of(lambda: parse(document, x=INT32))


def test_floats_must_be_lossless():
    assert "without loss of precision" in error_of(lambda: parse({"inputs": [2**25]}, x=FLOAT))
    assert parse({"inputs": [2**24 - 1]}, x=FLOAT)[2]["x"].tolist() == [2**24 - 1]


def test_replies_follow_the_request_format():
    one = {"y": np.array([[2.5], [0.1]], np.float32)}
    assert tensors.predict_reply(one, True) == {"predictions": [[2.5], [0.1]]}  # float32 as written: 0.1
    assert tensors.predict_reply(one, False) == {"outputs": [[2.5], [0.1]]}
    two = {"a": np.array([1, 2], np.int64), "b_bytes": np.array([b"hi", b"yo"], object)}
    assert tensors.predict_reply(two, True) == {
        "predictions": [{"a": 1, "b_bytes": {"b64": "aGk="}}, {"a": 2, "b_bytes": {"b64": "eW8="}}]
    }
    assert tensors.predict_reply(two, False) == {
        "outputs": {"a": [1, 2], "b_bytes": [{"b64": "aGk="}, {"b64": "eW8="}]}
    }
    mixed = {"a": np.zeros(2), "b": np.zeros(3)}
    assert (
        error_of(lambda: tensors.predict_reply(mixed, True))
        == "Tensor name: b has inconsistent batch size: 3 expecting: 2"
    )


def test_examples_become_tf_examples():
    name, examples = tensors.parse_examples_request(
        json.dumps(
            {"signature_name": "r", "context": {"c": "k"}, "examples": [{"x": 1.0, "n": [1, 2], "s": "t"}]}
        ).encode(),
        "regress",
    )
    assert name == "r" and len(examples) == 1
    example = tensors.make_example({"x": 1.0, "n": [1, 2], "s": "t"})
    assert list(example.features.feature["x"].float_list.value) == [1.0]
    assert list(example.features.feature["n"].int64_list.value) == [1, 2]
    assert (
        error_of(lambda: tensors.make_example({"x": [1.0, "a"]}))
        == "Unexpected element type in feature: x expecting type: float"
    )


def test_metrics_page_has_tf_serving_names_and_buckets():
    metrics = Metrics()
    metrics.record_request("wine", "OK")
    metrics.record_request("wine", "OK")
    metrics.record_request_latency("wine", "predict", "REST", 15.0)
    page = metrics.render()
    assert ':tensorflow:serving:request_count{model_name="wine",status="OK"} 2' in page
    assert (
        ':tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="10"} 0'
        in page
    )
    assert (
        ':tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="18"} 1'
        in page
    )
    assert (
        ':tensorflow:serving:request_latency_bucket{model_name="wine",API="predict",entrypoint="REST",le="+Inf"} 1'
        in page
    )
    assert ':tensorflow:serving:request_latency_sum{model_name="wine",API="predict",entrypoint="REST"} 15' in page
