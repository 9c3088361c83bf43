"""A client for TF Serving's REST and gRPC APIs: status, metadata, predict, classify, regress, metrics.

It talks to any TensorFlow Serving (the Docker one, or the local fallback of this package) and
turns every failure into a ServingError with one clear line: a server that does not answer is
named with the command that starts one; a model, version or label the server does not know comes
with TF Serving's own message. The REST side needs only the standard library (one keep-alive
connection per client); the gRPC side imports TensorFlow and grpcio when first used.
"""

import http.client
import json
import os
import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    import grpc
    import pandas as pd
    from google.protobuf.message import Message
    from numpy.typing import ArrayLike
    from tensorflow_serving.apis.model_pb2 import ModelSpec

    from model_server.local import LocalModelServer

DEFAULT_REST_URL = "http://localhost:8501"
DEFAULT_GRPC_PORT = 8500
START_HINT = (
    "Start one: `docker run -p 8501:8501 -p 8500:8500 tensorflow/serving`, or without Docker "
    "`python -m model_server --rest_api_port=8501 --port=8500 --model_name=NAME "
    "--model_base_path=/absolute/path/to/models/NAME`."
)


def default_url() -> str:
    """The REST address of TensorFlow Serving: TF_SERVING_URL, else localhost:8501 (TF Serving's port)."""
    return os.environ.get("TF_SERVING_URL", DEFAULT_REST_URL).rstrip("/")


class ServingError(Exception):
    """A model server problem in one line: TF Serving's message, or what to do about it.

    `status` is the HTTP status (REST), `code` the canonical error code name (e.g. NOT_FOUND),
    `target` the URL or gRPC address asked. In Jupyter only the message is shown, no traceback.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None, target: str | None = None):
        super().__init__(message)
        self.status, self.code, self.target = status, code, target

    def _render_traceback_(self):  # IPython calls this instead of printing the traceback
        return [f"{type(self).__name__}: {self}"]


# HTTP statuses back to the canonical codes they come from (the first one of each in TF Serving's map).
_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _plain(value: Any):
    """numpy arrays and scalars, pandas frames and series as JSON-ready lists and numbers.

    A DataFrame becomes one object per row, {column: value}: TF Serving's row format for a model
    with named inputs (the column names must be the input names).
    """
    if hasattr(value, "columns") and hasattr(value, "to_dict"):
        return value.to_dict("records")
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ServingClient:
    """Talks to one model server about one model (others by `model=`), over REST and gRPC.

    Ask for a version by number (`version=2`) or by label (`label="canary"`), not both; neither
    means the newest version the server has loaded.
    """

    def __init__(
        self,
        url: str | None = None,
        model_name: str = "default",
        grpc_target: str | None = None,
        timeout: float = 10.0,
        server: "LocalModelServer | None" = None,
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {self.url!r}")
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname, parts.port
        if grpc_target is None:  # TF_SERVING_GRPC belongs to TF_SERVING_URL, the server asked when url is None
            grpc_target = (url is None and os.environ.get("TF_SERVING_GRPC")) or f"{parts.hostname}:{DEFAULT_GRPC_PORT}"
        self.grpc_target = grpc_target
        self.model_name, self.timeout = model_name, timeout
        self.server = server  # a LocalModelServer this client keeps running, if any
        self._lock = threading.Lock()
        self._connection = None
        self._channel = None
        self._input_dtypes = {}

    def __repr__(self) -> str:
        return f"ServingClient(url={self.url!r}, model_name={self.model_name!r}, grpc_target={self.grpc_target!r})"

    # ------------------------------------------------------------------ REST

    def path(
        self, model: str | None = None, version: int | None = None, label: str | None = None, suffix: str = ""
    ) -> str:
        """/v1/models/<model>[/versions/<version> | /labels/<label>]<suffix>."""
        if version is not None and label is not None:
            raise ValueError("give a version or a label, not both")
        path = f"/v1/models/{quote(model or self.model_name, safe='')}"
        if version is not None:
            path += f"/versions/{int(version)}"
        elif label is not None:
            path += f"/labels/{quote(str(label), safe='')}"
        return path + suffix

    def _new_connection(self):
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self.timeout)

    def _exchange(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self._lock:
            for attempt in range(2):
                reused = self._connection is not None
                connection = self._connection or self._new_connection()
                try:
                    connection.request(method, path, body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                    connection.close()
                    self._connection = None
                    if reused and attempt == 0:
                        continue  # the server closed an idle keep-alive connection: once more, fresh
                    raise self._unreachable(error) from None
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    self._connection = None
                    if isinstance(error, (TimeoutError, socket.timeout)):
                        raise ServingError(
                            f"The model server at {self.url} did not answer {method} {path} within {self.timeout:g} s.",
                            target=self.url,
                        ) from None
                    raise self._unreachable(error) from None
                self._connection = None if response.will_close else connection
                if response.will_close:
                    connection.close()
                return response.status, payload
        raise AssertionError("unreachable")

    def _unreachable(self, error: Exception) -> ServingError:
        if self.server is not None and self.server.process is not None and not self.server.running:
            return self.server.stopped_error()  # its exit code and log say more than "refused"
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return ServingError(
            f"No model server answers at {self.url} ({reason}). {START_HINT}", code="UNAVAILABLE", target=self.url
        )

    def request(self, method: str, path: str, document: Any = None) -> dict:
        """One REST call; the JSON answer, or ServingError with TF Serving's error message."""
        body = None if document is None else json.dumps(document, default=_plain).encode()
        status, payload = self._exchange(method, path, body)
        try:
            answer = json.loads(payload) if payload else {}
        except ValueError:
            if status == 200:
                raise ServingError(
                    f"{self.url} answered {method} {path} with something other than JSON: is it TensorFlow Serving?",
                    status=status,
                    target=self.url + path,
                ) from None
            answer = {"error": payload.decode("utf-8", "replace").strip()[:200]}
        if status != 200:
            message = answer.get("error") if isinstance(answer, dict) else None
            raise ServingError(
                f"{message or 'HTTP error'} (HTTP {status} from {method} {self.url}{path})",
                status=status,
                code=_HTTP_CODES.get(status),
                target=self.url + path,
            )
        return answer

    def status(self, version: int | None = None, label: str | None = None, model: str | None = None) -> dict:
        """GET /v1/models/<model>: {"model_version_status": [{"version", "state", "status"}, ...]}."""
        return self.request("GET", self.path(model, version, label))

    def metadata(self, version: int | None = None, label: str | None = None, model: str | None = None) -> dict:
        """GET .../metadata: {"model_spec": ..., "metadata": {"signature_def": ...}}."""
        return self.request("GET", self.path(model, version, label, "/metadata"))

    def predict(
        self,
        instances: "ArrayLike | pd.DataFrame | list[dict[str, Any]] | None" = None,
        *,
        inputs: "ArrayLike | dict[str, ArrayLike] | None" = None,
        version: int | None = None,
        label: str | None = None,
        signature_name: str | None = None,
        model: str | None = None,
    ) -> Any:
        """POST ...:predict with "instances" (one entry per row) or "inputs" (whole tensors).

        Returns the "predictions" list for instances, the "outputs" value for inputs. numpy arrays
        are sent as (nested) lists; a pandas DataFrame as instances is sent as one {column: value}
        object per row, for a model with one named input per column. For inputs, a dict of
        columns does the same.
        """
        if (instances is None) == (inputs is None):
            raise ValueError("give either instances (row format) or inputs (columnar format)")
        document = {"instances": instances} if inputs is None else {"inputs": inputs}
        if signature_name:
            document["signature_name"] = signature_name
        answer = self.request("POST", self.path(model, version, label, ":predict"), document)
        return answer["predictions"] if inputs is None else answer["outputs"]

    def regress(
        self,
        examples: list[dict],
        *,
        signature_name: str | None = None,
        version: int | None = None,
        label: str | None = None,
        model: str | None = None,
        context: dict | None = None,
    ) -> list:
        """POST ...:regress with tf.Example-like dicts ({"x": 1.0}); one number per example."""
        return self._examples(":regress", examples, signature_name, version, label, model, context)

    def classify(
        self,
        examples: list[dict],
        *,
        signature_name: str | None = None,
        version: int | None = None,
        label: str | None = None,
        model: str | None = None,
        context: dict | None = None,
    ) -> list:
        """POST ...:classify; per example a list of [label, score] pairs."""
        return self._examples(":classify", examples, signature_name, version, label, model, context)

    def _examples(
        self,
        suffix: str,
        examples: list[dict],
        signature_name: str | None,
        version: int | None,
        label: str | None,
        model: str | None,
        context: dict | None,
    ) -> list:
        document = {"examples": examples}
        if signature_name:
            document["signature_name"] = signature_name
        if context is not None:
            document["context"] = context
        return self.request("POST", self.path(model, version, label, suffix), document)["results"]

    def metrics(self, path: str = "/monitoring/prometheus/metrics") -> str:
        """The Prometheus metrics page (monitoring.config must turn it on)."""
        status, payload = self._exchange("GET", path, None)
        if status != 200:
            raise ServingError(
                f"No metrics at {self.url}{path} (HTTP {status}): is Prometheus enabled "
                "in monitoring.config (--monitoring_config_file)?",
                status=status,
                target=self.url + path,
            )
        return payload.decode("utf-8")

    def is_available(self, model: str | None = None) -> bool:
        """True if the server answers and has a version of the model AVAILABLE."""
        try:
            versions = self.status(model=model)["model_version_status"]
        except ServingError:
            return False
        return any(entry["state"] == "AVAILABLE" for entry in versions)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    # ------------------------------------------------------------------ gRPC

    def _stubs(self):
        import grpc
        from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

        if self._channel is None:
            self._channel = grpc.insecure_channel(
                self.grpc_target,
                options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)],
            )
        return (
            prediction_service_pb2_grpc.PredictionServiceStub(self._channel),
            model_service_pb2_grpc.ModelServiceStub(self._channel),
        )

    def _call(self, method: "grpc.UnaryUnaryMultiCallable", request: "Message", name: str):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.UNAVAILABLE:
                raise ServingError(
                    f"No model server answers gRPC at {self.grpc_target} ({error.details()}). {START_HINT}",
                    code=code.name,
                    target=self.grpc_target,
                ) from None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise ServingError(
                    f"The model server at {self.grpc_target} did not answer {name} within {self.timeout:g} s.",
                    code=code.name,
                    target=self.grpc_target,
                ) from None
            raise ServingError(
                f"{error.details()} (gRPC {code.name} from {name} at {self.grpc_target})",
                code=code.name,
                target=self.grpc_target,
            ) from None

    @staticmethod
    def _spec(spec: "ModelSpec", model: str, version: int | None, label: str | None, signature_name: str = "") -> None:
        if version is not None and label is not None:
            raise ValueError("give a version or a label, not both")
        spec.name = model
        if version is not None:
            spec.version.value = int(version)
        elif label is not None:
            spec.version_label = str(label)
        if signature_name:
            spec.signature_name = signature_name

    def grpc_status(self, version: int | None = None, label: str | None = None, model: str | None = None) -> dict:
        """ModelService.GetModelStatus, as the same dict the REST status returns."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec, model or self.model_name, version, label)
        response = self._call(self._stubs()[1].GetModelStatus, request, "GetModelStatus")
        return json_format.MessageToDict(
            response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )

    def grpc_metadata(self, version: int | None = None, label: str | None = None, model: str | None = None) -> dict:
        """PredictionService.GetModelMetadata, as the same dict the REST metadata returns."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec, model or self.model_name, version, label)
        response = self._call(self._stubs()[0].GetModelMetadata, request, "GetModelMetadata")
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)

        def to_dict(message: "Message") -> dict:
            return json_format.MessageToDict(
                message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )

        return {"model_spec": to_dict(response.model_spec), "metadata": {"signature_def": to_dict(signature_map)}}

    def _dtypes(self, model: str, version: int | None, label: str | None, signature_name: str) -> dict:
        """The signature's input dtypes (numpy), from the metadata, asked once per model spec."""
        key = (model, version, label, signature_name)
        if key not in self._input_dtypes:
            import tensorflow as tf
            from tensorflow.core.framework import types_pb2

            signatures = self.grpc_metadata(version, label, model)["metadata"]["signature_def"]["signature_def"]
            signature = signatures.get(signature_name or "serving_default")
            if signature is None:
                raise ServingError(
                    f"The model {model} has no signature {signature_name or 'serving_default'!r} "
                    f"(it has {sorted(signatures)})",
                    code="INVALID_ARGUMENT",
                    target=self.grpc_target,
                )
            self._input_dtypes[key] = {
                name: tf.as_dtype(types_pb2.DataType.Value(info["dtype"])).as_numpy_dtype
                for name, info in signature["inputs"].items()
            }
        return self._input_dtypes[key]

    def grpc_predict(
        self,
        inputs: "ArrayLike | dict[str, ArrayLike] | pd.DataFrame",
        *,
        version: int | None = None,
        label: str | None = None,
        signature_name: str = "",
        output_filter: Iterable[str] = (),
        model: str | None = None,
    ) -> dict:
        """PredictionService.Predict: {input name: array} in, {output name: numpy array} out.

        A single array (not a dict) goes to the signature's only input; a DataFrame gives one
        input per column. Values are cast to the signature's dtypes (TF Serving refuses a float64
        tensor for a float32 input).
        """
        import numpy as np
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        model = model or self.model_name
        if hasattr(inputs, "columns"):
            inputs = {column: inputs[column].to_numpy() for column in inputs.columns}
        try:
            dtypes = self._dtypes(model, version, label, signature_name)
        except ServingError as error:  # unknown model or signature: let Predict itself say so
            if error.code in {"UNAVAILABLE", "DEADLINE_EXCEEDED"} or not isinstance(inputs, dict):
                raise
            dtypes = {}
        if not isinstance(inputs, dict):
            if len(dtypes) != 1:
                raise ValueError(f"the signature has inputs {sorted(dtypes)}: pass a dict of them")
            inputs = {next(iter(dtypes)): inputs}
        request = predict_pb2.PredictRequest(output_filter=list(output_filter))
        self._spec(request.model_spec, model, version, label, signature_name)
        for name, value in inputs.items():
            value = value.to_numpy() if hasattr(value, "to_numpy") else value
            request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value, dtype=dtypes.get(name))))
        response = self._call(self._stubs()[0].Predict, request, "Predict")
        return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
