"""TF Serving's gRPC API: PredictionService (Predict, Classify, Regress, GetModelMetadata) and
ModelService.GetModelStatus, with the protos and stubs of tensorflow-serving-api.

Tensors travel as TensorProtos, converted with tf.make_ndarray and tf.make_tensor_proto; a failed
request ends with TF Serving's status code and message. MultiInference and
HandleReloadConfigRequest answer UNIMPLEMENTED (the generated base classes do that).
"""

import time
from collections.abc import Callable
from concurrent import futures
from typing import TYPE_CHECKING

import grpc
import tensorflow as tf
from google.protobuf.message import Message
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from model_server import protos, status, tensors
from model_server.metrics import Metrics
from model_server.status import invalid

if TYPE_CHECKING:
    from model_server.manager import ModelManager


def _spec(request: Message) -> tuple[str, int | None, str | None]:
    """(name, version, label) of a request's ModelSpec."""
    spec = request.model_spec
    choice = spec.WhichOneof("version_choice")
    return (
        spec.name,
        spec.version.value if choice == "version" else None,
        spec.version_label if choice == "version_label" else None,
    )


class _Calls:
    """Runs one call: TF Serving's errors become gRPC status codes; predictions are counted."""

    def __init__(self, manager: "ModelManager", metrics: Metrics) -> None:
        self.manager, self.metrics = manager, metrics

    def counted(
        self, api: str, request: Message, context: grpc.ServicerContext, work: Callable[[], Message]
    ) -> Message:
        start, code = time.perf_counter(), "OK"
        try:
            return work()
        except Exception as error:
            failure = status.from_exception(error)
            code = failure.code
            context.abort(getattr(grpc.StatusCode, failure.code, grpc.StatusCode.INTERNAL), failure.message)
        finally:
            self.metrics.record_request(request.model_spec.name, code)
            if code == "OK":
                self.metrics.record_request_latency(
                    request.model_spec.name, api, "GRPC", (time.perf_counter() - start) * 1e6
                )

    @staticmethod
    def plain(context: grpc.ServicerContext, work: Callable[[], Message]) -> Message:
        try:
            return work()
        except Exception as error:
            failure = status.from_exception(error)
            context.abort(getattr(grpc.StatusCode, failure.code, grpc.StatusCode.INTERNAL), failure.message)


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, calls: _Calls):
        self.calls = calls

    def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext
    ) -> predict_pb2.PredictResponse:
        def work():
            servable = self.calls.manager.servable(*_spec(request))
            inputs = {}
            for alias, proto in request.inputs.items():
                try:
                    inputs[alias] = tf.make_ndarray(proto)
                except Exception as error:
                    raise invalid(f"Failed to convert input {alias} to a tensor: {error}") from None
            signature_name, outputs = servable.predict(
                request.model_spec.signature_name, inputs, list(request.output_filter)
            )
            response = predict_pb2.PredictResponse()
            response.model_spec.name = servable.name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = signature_name
            for alias, value in outputs.items():
                response.outputs[alias].CopyFrom(tf.make_tensor_proto(value))
            return response

        return self.calls.counted("Predict", request, context, work)

    def Regress(
        self, request: regression_pb2.RegressionRequest, context: grpc.ServicerContext
    ) -> regression_pb2.RegressionResponse:
        def work():
            servable = self.calls.manager.servable(*_spec(request))
            signature_name, values = servable.regress(
                request.model_spec.signature_name, tensors.serialized_examples(request.input)
            )
            response = regression_pb2.RegressionResponse()
            response.model_spec.name, response.model_spec.signature_name = servable.name, signature_name
            response.model_spec.version.value = servable.version
            for value in values.tolist():
                response.result.regressions.add(value=value)
            return response

        return self.calls.counted("Regress", request, context, work)

    def Classify(
        self, request: classification_pb2.ClassificationRequest, context: grpc.ServicerContext
    ) -> classification_pb2.ClassificationResponse:
        def work():
            servable = self.calls.manager.servable(*_spec(request))
            signature_name, labels, scores = servable.classify(
                request.model_spec.signature_name, tensors.serialized_examples(request.input)
            )
            response = classification_pb2.ClassificationResponse()
            response.model_spec.name, response.model_spec.signature_name = servable.name, signature_name
            response.model_spec.version.value = servable.version
            for row_labels, row_scores in zip(labels, scores.tolist()):
                classification = response.result.classifications.add()
                for label, score in zip(row_labels, row_scores):
                    classification.classes.add(label=label, score=score)
            return response

        return self.calls.counted("Classify", request, context, work)

    def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest, context: grpc.ServicerContext
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        def work():
            if not request.HasField("model_spec"):
                raise invalid("Missing model_spec")
            return protos.model_metadata(self.calls.manager, *_spec(request), fields=list(request.metadata_field))

        return self.calls.plain(context, work)


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, calls: _Calls):
        self.calls = calls

    def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest, context: grpc.ServicerContext
    ) -> get_model_status_pb2.GetModelStatusResponse:
        def work():
            if not request.HasField("model_spec"):
                raise invalid("Missing ModelSpec")
            return protos.model_status(self.calls.manager, *_spec(request))

        return self.calls.plain(context, work)


def start_grpc_server(host: str, port: int, manager: "ModelManager", metrics: Metrics, workers: int = 8) -> grpc.Server:
    """Listen on host:port with both services; raises OSError if the port cannot be bound."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        options=[
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", -1),
            ("grpc.so_reuseport", 0),
        ],
    )  # a port in use is an error, as in TF Serving
    calls = _Calls(manager, metrics)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionService(calls), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(calls), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise OSError(f"could not listen on {host}:{port} for gRPC (is the port in use?)")
    server.start()
    return server
