"""Conformance with TensorFlow Serving's own test models and documented answers.

half_plus_two and half_plus_three are TF1-era SavedModels from the tensorflow/serving repository
(a copy in tests/model_server/testdata/tfserving, Apache License 2.0, see its README.md);
half_plus_two_model_metadata.json there is the metadata TF Serving itself returns.
"""

import json

import numpy as np
import pytest

MODELS_CONFIG = """
model_config_list {{
  config {{ name: "half_plus_two" base_path: "{root}/half_plus_two" model_platform: "tensorflow" }}
  config {{ name: "half_plus_three" base_path: "{root}/half_plus_three" model_platform: "tensorflow" }}
}}
"""


@pytest.fixture(scope="module")
def server(tf_serving_testdata, tmp_path_factory, start_server):
    config_file = tmp_path_factory.mktemp("conformance") / "models.config"
    config_file.write_text(MODELS_CONFIG.format(root=tf_serving_testdata))
    server = start_server(model_config_file=config_file)
    yield server
    server.stop()


def post(client, path: str, document: dict) -> dict:
    return client.request("POST", path, document)


def test_status(server):
    assert server.client("half_plus_two").status() == {
        "model_version_status": [
            {"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        ]
    }


@pytest.mark.parametrize("model, expected", [("half_plus_two", [2.5, 3.0, 4.5]), ("half_plus_three", [3.5, 4.0, 5.5])])
def test_predict_as_documented(server, model, expected):
    client = server.client(model)
    assert post(client, f"/v1/models/{model}:predict", {"instances": [1.0, 2.0, 5.0]}) == {"predictions": expected}
    assert post(client, f"/v1/models/{model}/versions/123:predict", {"inputs": [1.0, 2.0, 5.0]}) == {
        "outputs": expected
    }
    np.testing.assert_array_equal(client.grpc_predict([1.0, 2.0, 5.0])["y"], np.array(expected, np.float32))


def test_regress_as_documented(server):
    client = server.client("half_plus_three")
    document = {"signature_name": "tensorflow/serving/regress", "examples": [{"x": 1.0}, {"x": 2.0}]}
    assert post(client, "/v1/models/half_plus_three:regress", document) == {"results": [3.5, 4.0]}


def test_classify_and_regress_signatures_of_half_plus_two(server):
    client = server.client("half_plus_two")
    examples = [{"x": 1.0}, {"x": 2.0}]
    assert client.classify(examples, signature_name="classify_x_to_y") == [[["", 2.5]], [["", 3.0]]]
    assert client.regress(examples, signature_name="regress_x_to_y") == [2.5, 3.0]
    assert client.regress(examples, signature_name="regress_x_to_y2") == [3.5, 4.0]  # y2 = 0.5x + 3


def test_metadata_is_tf_serving_s(server, tf_serving_testdata):
    reference = json.loads((tf_serving_testdata / "half_plus_two_model_metadata.json").read_text())
    client = server.client("half_plus_two")
    metadata = client.metadata()
    assert metadata["metadata"] == reference["metadata"]
    # TF Serving's reference was recorded for a model served under the name "default"
    assert metadata["model_spec"] == {**reference["model_spec"], "name": "half_plus_two"}
    assert client.grpc_metadata() == metadata
