"""The one private TensorFlow API the server uses (servable.run_unchecked), checked in process.

If a TensorFlow upgrade renames Session._call_tf_sessionrun or Tensor._as_tf_output, these tests
fail with a message that says so, before any served request does.
"""

import numpy as np
import pytest
import tensorflow as tf

from model_server import servable


def test_private_tensorflow_api_still_exists():
    graph = tf.Graph()
    with graph.as_default():
        tensor = tf.compat.v1.placeholder(tf.float32, [None])
    session = tf.compat.v1.Session(graph=graph)
    try:
        for owner, name in [(session, "_call_tf_sessionrun"), (tensor, "_as_tf_output")]:
            assert callable(getattr(owner, name, None)), (
                f"TensorFlow {tf.__version__} has no {type(owner).__name__}.{name}: model_server.servable."
                "run_unchecked needs a new way to feed tensors without Session.run's shape check (see its docstring)"
            )
    finally:
        session.close()


def test_run_unchecked_feeds_a_shape_the_graph_does_not_declare():
    """As TF Serving's C++ Session::Run: x is declared [?, 1], a [3] feed still runs (half_plus_two's case)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.identity(tf.compat.v1.placeholder(tf.float32, [None, 1]), name="x")
        y = tf.add(x * 0.5, 2.0, name="y")
    with tf.compat.v1.Session(graph=graph) as session:
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            session.run(y, {x: np.array([1.0, 2.0, 5.0], np.float32)})  # why the private call is needed
        (result,) = servable.run_unchecked(session, {x: np.array([1.0, 2.0, 5.0], np.float32)}, [y])
        np.testing.assert_array_equal(result, [2.5, 3.0, 4.5])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expects arg.0. to be float but double"):
            servable.run_unchecked(session, {x: np.array([1.0])}, [y])
