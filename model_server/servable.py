"""One loaded model version, run the way TF Serving runs it.

TF Serving loads a SavedModel with the session-based TF1 loader: the MetaGraph tagged "serve" goes
into a Session with its own Graph, and a request runs the tensor names its SignatureDef lists. This
works for TF1-era SavedModels (TF Serving's half_plus_two test models, where tf.saved_model.load
fails) as well as for Keras 3 `model.export()` and tf.saved_model.save output. Predict, classify,
regress and metadata follow tensorflow_serving/servables/tensorflow (predict_util, classifier,
regressor, get_model_metadata_impl), including their error messages.
"""

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from model_server.status import ServingStatus, invalid

PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
DEFAULT_SIGNATURE = "serving_default"

_first_load = threading.Lock()
_loaded_once = False


@contextlib.contextmanager
def _quiet_native_stderr():
    """Hide what TF's C++ side writes to stderr while the first model of the process loads.

    Whatever TF_CPP_MIN_LOG_LEVEL says, the first graph run prints two INFO lines through absl
    ("All log messages before absl::InitializeLog() ...", "MLIR V1 optimization pass is not
    enabled"). Load errors still surface: they are Python exceptions, logged by the manager.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in {"", "0"}:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_unchecked(session: tf.compat.v1.Session, feeds: dict, fetches: list) -> list[np.ndarray]:
    """Session.run without its Python check of fed shapes: the one private TensorFlow API used here.

    TF Serving calls the C++ Session::Run, which feeds any tensor of the right dtype, whatever the
    static shape of the tensor it replaces; e.g. its documentation sends a [3] tensor to
    half_plus_two, whose input x:0 is [?, 1]. Session.run refuses that in Python before the C++
    side runs. No public API skips the check: relaxing the Placeholder shapes does not help when
    the fed tensor is no Placeholder (half_plus_two's x:0 is an Identity of its ParseExample, used
    by its classify and regress signatures too). So this calls what Session.run ends in.
    test_servable.py names these two attributes: a TensorFlow that drops them fails it clearly.
    feeds maps tf.Tensor to numpy arrays, fetches is a list of tf.Tensor.
    """
    return session._call_tf_sessionrun(
        None,
        {tensor._as_tf_output(): value for tensor, value in feeds.items()},
        [tensor._as_tf_output() for tensor in fetches],
        [],
        None,
    )


# The graph runs in the thread that asks (the event loop, a gRPC worker), not handed to TensorFlow's
# inter-op pool and waited for: for a model of this size the hand-over costs more than the model
# (tools/bench_serving.py: a one-row session run 26 us instead of 86-110 us). Large tensors still
# use the intra-op pool (a big matrix product is split across the cores).
SESSION_CONFIG = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=-1)


def dtype_name(dtype: object) -> str:
    """TF's name of a numpy dtype, e.g. DT_FLOAT, as TF Serving's messages write it."""
    return types_pb2.DataType.Name(tf.as_dtype(dtype).as_datatype_enum)


class Servable:
    """A SavedModel version in its own Graph and Session, with its signatures ready to run."""

    def __init__(
        self,
        name: str,
        version: int,
        path: str,
        tags: Iterable[str] = ("serve",),
        runtime_observer: Callable[[str, str, float], None] | None = None,
    ) -> None:
        global _loaded_once
        self.name, self.version, self.path = name, version, str(path)
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph, config=SESSION_CONFIG)
        with _first_load:
            quiet = _quiet_native_stderr() if not _loaded_once else contextlib.nullcontext()
            with quiet:
                meta_graph = tf.compat.v1.saved_model.loader.load(self.session, list(tags), self.path)
            _loaded_once = True
        self.signatures = dict(meta_graph.signature_def)
        self._runtime_observer = runtime_observer
        # Resolve every signature tensor once: requests then only look names up in a dict.
        self._tensors = {}
        for signature in self.signatures.values():
            for info in [*signature.inputs.values(), *signature.outputs.values()]:
                if info.name and info.name not in self._tensors:
                    try:
                        self._tensors[info.name] = self.graph.get_tensor_by_name(info.name)
                    except (KeyError, ValueError):
                        pass  # e.g. the NoOp of __saved_model_init_op: not a tensor, never fed or fetched

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ running the graph

    def run(self, api: str, feeds: dict[str, np.ndarray], fetches: list[str]) -> list[np.ndarray]:
        """Run the session on tensor names, as TF Serving's C++ Session::Run would (run_unchecked).

        Errors are tf.errors.OpError with a canonical code.
        """
        start = time.perf_counter()
        try:
            feed_dict = {self._tensor(name): value for name, value in feeds.items()}
            results = run_unchecked(self.session, feed_dict, [self._tensor(name) for name in fetches])
        finally:
            if self._runtime_observer is not None:
                self._runtime_observer(self.name, api, (time.perf_counter() - start) * 1e6)
        return results

    def _tensor(self, name: str):
        try:
            return self._tensors[name]
        except KeyError:
            raise ServingStatus("FAILED_PRECONDITION", f"Tensor {name} is not in the model's graph") from None

    # ------------------------------------------------------------------ TF Serving's APIs

    def signature_inputs(self, signature_name: str) -> dict:
        """The input TensorInfos of a signature (what the REST API needs to read JSON into tensors)."""
        name = signature_name or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise invalid(f'Serving signature name: "{name}" not found in signature def')
        return dict(self.signatures[name].inputs)

    def predict(
        self, signature_name: str, inputs: dict[str, np.ndarray], output_filter: Iterable[str] = ()
    ) -> tuple[str, dict]:
        """Run a signature on named input arrays; returns (signature name, {output alias: array})."""
        name = signature_name or DEFAULT_SIGNATURE
        signature = self.signatures.get(name)
        if signature is None:
            raise ServingStatus("FAILED_PRECONDITION", f'Serving signature key "{name}" not found.')
        if signature.method_name not in {PREDICT_METHOD, CLASSIFY_METHOD, REGRESS_METHOD}:
            raise ServingStatus(
                "FAILED_PRECONDITION",
                "Expected prediction signature method_name to be one of {"
                f"{PREDICT_METHOD}, {CLASSIFY_METHOD}, {REGRESS_METHOD}}}. Was: {signature.method_name}",
            )
        sent, expected = set(inputs), set(signature.inputs)
        if sent != expected:
            raise invalid(
                f"input size does not match signature: {len(sent)}!={len(expected)} "
                f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
                f"Sent extra: {{{','.join(sorted(sent - expected))}}}. "
                f"Missing but required: {{{','.join(sorted(expected - sent))}}}."
            )
        aliases = list(output_filter) or sorted(signature.outputs)
        for alias in aliases:
            if alias not in signature.outputs:
                raise invalid(
                    f"output tensor alias not found in signature: {alias} Outputs expected to be "
                    f"in the set {{{','.join(sorted(signature.outputs))}}}."
                )
        if len(set(aliases)) != len(aliases):
            raise invalid(f"duplicate output tensor alias in output_filter: {','.join(aliases)}")
        feeds = {signature.inputs[alias].name: value for alias, value in inputs.items()}
        results = self.run("Predict", feeds, [signature.outputs[alias].name for alias in aliases])
        return name, dict(zip(aliases, results))

    def _example_signature(self, signature_name: str, method: str, kind: str):
        name = signature_name or DEFAULT_SIGNATURE
        signature = self.signatures.get(name)
        if signature is None:
            raise invalid(f"No signature was found with the name: {name}")
        if signature.method_name != method:
            raise invalid(f"Expected {kind} signature method_name to be {method}. Was: {signature.method_name}")
        if len(signature.inputs) != 1:
            raise invalid("Expected one input Tensor.")
        if "inputs" not in signature.inputs:
            raise ServingStatus("FAILED_PRECONDITION", f"No {kind} inputs found in SignatureDef: {name}")
        return name, signature

    @staticmethod
    def _examples_tensor(examples: list[bytes]) -> np.ndarray:
        if not examples:
            raise invalid("Input is empty.")
        tensor = np.empty(len(examples), dtype=object)
        tensor[:] = examples
        return tensor

    def regress(self, signature_name: str, examples: list[bytes]) -> tuple[str, np.ndarray]:
        """Regression on serialized tf.Examples: one float32 per example (regressor.cc)."""
        name, signature = self._example_signature(signature_name, REGRESS_METHOD, "regression")
        if len(signature.outputs) != 1:
            raise invalid("Expected one output Tensor.")
        if "outputs" not in signature.outputs:
            raise ServingStatus("FAILED_PRECONDITION", f"No regression outputs found in SignatureDef: {name}")
        tensor = self._examples_tensor(examples)
        (output,) = self.run("Regress", {signature.inputs["inputs"].name: tensor}, [signature.outputs["outputs"].name])
        if not (output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)):
            raise invalid(
                f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] "
                f"but got {list(output.shape)}"
            )
        if output.shape[0] != len(examples):
            raise invalid(f"Input batch size did not match output batch size: {len(examples)} vs. {output.shape[0]}")
        if output.dtype != np.float32:
            raise invalid(f"Expected output Tensor of DT_FLOAT.  Got: {dtype_name(output.dtype)}")
        return name, output.reshape(-1)

    def classify(self, signature_name: str, examples: list[bytes]) -> tuple[str, list[list[str]], np.ndarray]:
        """Classification on serialized tf.Examples (classifier.cc).

        Returns (signature name, class labels per example, float32 scores [examples, classes]);
        labels are "" when the signature has no classes output, scores 0 when it has no scores.
        """
        name, signature = self._example_signature(signature_name, CLASSIFY_METHOD, "classification")
        wanted = [alias for alias in ("classes", "scores") if alias in signature.outputs]
        if not wanted:
            raise invalid(f"Expected classification signature outputs to contain classes or scores: {name}")
        tensor = self._examples_tensor(examples)
        results = dict(
            zip(
                wanted,
                self.run(
                    "Classify",
                    {signature.inputs["inputs"].name: tensor},
                    [signature.outputs[alias].name for alias in wanted],
                ),
            )
        )
        for value in results.values():
            if value.ndim != 2 or value.shape[0] != len(examples):
                raise invalid(f"Expected Tensor shape: [{len(examples)} num_classes] but got {list(value.shape)}")
        classes, scores = results.get("classes"), results.get("scores")
        if classes is not None and scores is not None and classes.shape != scores.shape:
            raise invalid(
                f"Tensors class and score should match in shape, but had shapes: "
                f"{list(classes.shape)} and {list(scores.shape)}"
            )
        shape = (classes if classes is not None else scores).shape
        if classes is None:
            labels = [[""] * shape[1] for _ in range(shape[0])]
        else:
            labels = [
                [c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c) for c in row] for row in classes
            ]
        scores = np.zeros(shape, np.float32) if scores is None else scores.astype(np.float32, copy=False)
        return name, labels, scores

    def signature_def_map(self) -> get_model_metadata_pb2.SignatureDefMap:
        """All signatures as TF Serving's SignatureDefMap (the "signature_def" metadata field)."""
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in self.signatures.items():
            signature_map.signature_def[key].CopyFrom(signature)
        return signature_map
