"""Models and servers for the tests of model_server.

The tests build their own SavedModels (y = 0.5x + 2 as version 1 with Keras 3's model.export,
y = 0.5x + 3 as version 2 with tf.saved_model.save, and a two-input, two-output model), so the
suite needs nothing outside the repository. TF Serving's own test models (a copy with their licence
in testdata/tfserving/) are used by the conformance tests. Servers are started once
per module (each start costs a TensorFlow import, a few seconds).
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from model_server import LocalModelServer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF_SERVING_TESTDATA = Path(__file__).parent / "testdata" / "tfserving"


def export_keras_linear(path: Path, slope: float, intercept: float):
    """y = slope * x + intercept as a Keras 3 model, exported the way the course exports models."""
    import keras

    inputs = keras.Input(shape=(1,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(1, name="y")(inputs))
    model.get_layer("y").set_weights([np.array([[slope]], np.float32), np.array([intercept], np.float32)])
    model.export(str(path), verbose=False)


def export_module_linear(path: Path, slope: float, intercept: float):
    """y = slope * x + intercept as a tf.Module saved with tf.saved_model.save (output named y)."""
    import tensorflow as tf

    class Linear(tf.Module):
        def __init__(self):
            super().__init__()
            self.slope, self.intercept = tf.Variable(slope), tf.Variable(intercept)

        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="x")], autograph=False)
        def serve(self, x):
            return {"y": self.slope * x + self.intercept}

    module = Linear()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})


def export_pair(path: Path):
    """Two named inputs (a, b) and two named outputs (sum, product): named rows and columns."""
    import tensorflow as tf

    class Pair(tf.Module):
        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.float32, name="a"), tf.TensorSpec([None], tf.float32, name="b")],
            autograph=False,
        )
        def serve(self, a, b):
            return {"sum": a + b, "product": a * b}

    module = Pair()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})


@pytest.fixture(scope="session")
def model_store(tmp_path_factory) -> Path:
    """A models/ folder as TF Serving sees it: lin/1 (0.5x+2), lin/2 (0.5x+3), pair/1, and spares."""
    root = tmp_path_factory.mktemp("models")
    export_keras_linear(root / "lin" / "1", 0.5, 2.0)
    export_module_linear(root / "lin" / "2", 0.5, 3.0)
    export_pair(root / "pair" / "1")
    return root


@pytest.fixture(scope="session")
def start_server():
    """start_server(**LocalModelServer options): a started server, stopped at the end of the session
    at the latest (module fixtures stop theirs earlier)."""
    servers = []

    def start(**options) -> LocalModelServer:
        server = LocalModelServer(timeout=90, **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def tf_serving_testdata() -> Path:
    return TF_SERVING_TESTDATA


@pytest.fixture(scope="session")
def copy_version():
    """copy_version(source, base_path, version): add a version folder the safe way, copied next to
    it and then renamed, so a poll never sees half a model."""

    def copy(source: Path, base_path: Path, version: int):
        staging = base_path / f".staging-{version}"
        shutil.copytree(source, staging)
        staging.rename(base_path / str(version))

    return copy
