"""Model status and metadata as TF Serving's response messages, shared by the REST and gRPC APIs.

REST prints these messages as JSON the way TF Serving does (proto field names, default values
included), so GET /v1/models/wine returns the same {"model_version_status": [...]} document.
"""

from collections.abc import Sequence

from google.protobuf import json_format
from google.protobuf.message import Message
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from model_server.manager import ModelManager
from model_server.status import CODE_NAMES, invalid

STATE = get_model_status_pb2.ModelVersionStatus.State
CODE_NUMBERS = {name: number for number, name in CODE_NAMES.items()}
SIGNATURE_DEF = "signature_def"


def model_status(
    manager: ModelManager, name: str, version: int | None = None, label: str | None = None
) -> get_model_status_pb2.GetModelStatusResponse:
    """GetModelStatusResponse for a model, one of its versions, or a label's version."""
    response = get_model_status_pb2.GetModelStatusResponse()
    for number, state in manager.version_states(name, version, label):
        entry = response.model_version_status.add(version=number, state=STATE.Value(state.state))
        entry.status.error_code = CODE_NUMBERS.get(state.error_code, 2)
        entry.status.error_message = state.error_message
    return response


def model_metadata(
    manager: ModelManager,
    name: str,
    version: int | None = None,
    label: str | None = None,
    fields: Sequence[str] = (SIGNATURE_DEF,),
) -> get_model_metadata_pb2.GetModelMetadataResponse:
    """GetModelMetadataResponse: the model spec that answered and its signature_def map."""
    if not fields:
        raise invalid("GetModelMetadataRequest must specify at least one metadata_field")
    for field in fields:
        if field != SIGNATURE_DEF:
            raise invalid(f"Metadata field {field} is not supported")
    servable = manager.servable(name, version, label)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = servable.name
    response.model_spec.version.value = servable.version
    response.metadata[SIGNATURE_DEF].Pack(servable.signature_def_map())
    return response


def _to_dict(message: Message) -> dict:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def status_json(response: get_model_status_pb2.GetModelStatusResponse) -> dict:
    return _to_dict(response)


def metadata_json(response: get_model_metadata_pb2.GetModelMetadataResponse) -> dict:
    """TF Serving's REST metadata document: {"model_spec": ..., "metadata": {"signature_def": ...}}."""
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[SIGNATURE_DEF].Unpack(signature_map)
    return {"model_spec": _to_dict(response.model_spec), "metadata": {SIGNATURE_DEF: _to_dict(signature_map)}}
