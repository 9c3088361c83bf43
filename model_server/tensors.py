"""TF Serving's JSON formats: request bodies into numpy arrays and tf.Examples, outputs back into JSON.

Follows tensorflow_serving/util/json_tensor.cc: "instances" (row format, one element per example,
batched along a new first dimension) or "inputs" (columnar, whole tensors), never both; values
must match the signature's dtype exactly (no bool for a float, no 1.5 for an int); strings may
be {"b64": "..."}; replies are {"predictions": [...]} for row requests and {"outputs": ...} for
columnar ones, with one entry per output name when the signature has several outputs. Error
messages are TF Serving's, so a client sees the same text from either server.

The common case (a rectangular list of numbers) goes through one np.asarray; only odd or broken
input takes the slow path that walks the JSON the way json_tensor.cc does, to find the right message.
"""

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import types_pb2

from model_server.status import ServingStatus, invalid

DT = types_pb2.DataType
NUMPY_DTYPE = {
    DT.Value("DT_FLOAT"): np.float32,
    DT.Value("DT_DOUBLE"): np.float64,
    DT.Value("DT_INT32"): np.int32,
    DT.Value("DT_INT16"): np.int16,
    DT.Value("DT_INT8"): np.int8,
    DT.Value("DT_UINT8"): np.uint8,
    DT.Value("DT_INT64"): np.int64,
    DT.Value("DT_BOOL"): np.bool_,
    DT.Value("DT_UINT32"): np.uint32,
    DT.Value("DT_UINT64"): np.uint64,
    DT.Value("DT_STRING"): object,
}
FLOATS = {DT.Value("DT_FLOAT"), DT.Value("DT_DOUBLE")}
INT32_LIKE = {DT.Value("DT_INT32"), DT.Value("DT_INT16"), DT.Value("DT_INT8"), DT.Value("DT_UINT8")}
STRING, BOOL = DT.Value("DT_STRING"), DT.Value("DT_BOOL")
INT32_RANGE, INT64_RANGE = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)
UINT32_RANGE, UINT64_RANGE = (0, 2**32 - 1), (0, 2**64 - 1)
# Largest integer each float type holds exactly, and its largest finite value (IsLosslessDecimal).
LOSSLESS = {
    DT.Value("DT_FLOAT"): (2**24 - 1, float(np.finfo(np.float32).max)),
    DT.Value("DT_DOUBLE"): (2**53 - 1, float(np.finfo(np.float64).max)),
}
MAX_ECHO = 200  # characters of the request quoted back in an error message
MAX_RANK = 64  # numpy's limit on dimensions (TF's own is 254): deeper lists are a 400, not a crash


def type_string(dtype: int) -> str:
    """TF's DataTypeString: DT_FLOAT -> float."""
    return DT.Name(dtype)[3:].lower()


def json_text(value: Any) -> str:
    """A JSON value as text for an error message (shortened: a request can be large)."""
    try:
        text = json.dumps(value, separators=(",", ":"))
    except RecursionError:  # nested deeper than Python recurses: the message names no value
        return "(nested too deeply to show)"
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "..."


def json_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")


def is_b64(value: Any) -> bool:
    """{"b64": "<base64>"} is how JSON carries binary strings."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _type_error(value: Any, dtype: int) -> ServingStatus:
    return invalid(
        f"JSON Value: {json_text(value)} Type: {json_type(value)} is not of expected type: {type_string(dtype)}"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _in(value: Any, bounds: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def scalar(value: Any, dtype: int) -> Any:
    """One JSON value as an element of a `dtype` tensor, or TF Serving's error (AddValueToTensor)."""
    if dtype == STRING:
        if isinstance(value, str):
            return value.encode("utf-8")
        if is_b64(value):
            try:
                return base64.b64decode(value["b64"], validate=True)
            except ValueError:
                raise invalid("Unable to base64 decode") from None
        if isinstance(value, dict):
            raise invalid(f"JSON Value: {json_text(value)} not formatted correctly for base64 data")
        raise _type_error(value, dtype)
    if dtype in FLOATS:
        if not _is_number(value):
            raise _type_error(value, dtype)
        max_int, max_value = LOSSLESS[dtype]
        lossy = (
            abs(value) > max_int
            if isinstance(value, int)
            else (abs(value) > max_value and value == value and abs(value) != float("inf"))
        )
        if lossy:
            target = "float" if dtype == DT.Value("DT_FLOAT") else "double"
            raise invalid(f"Cannot convert JSON value: {json_text(value)} to {target} without loss of precision.")
        return value
    if dtype == BOOL:
        if not isinstance(value, bool):
            raise _type_error(value, dtype)
        return value
    bounds = {
        DT.Value("DT_INT64"): INT64_RANGE,
        DT.Value("DT_UINT32"): UINT32_RANGE,
        DT.Value("DT_UINT64"): UINT64_RANGE,
    }.get(dtype, INT32_RANGE if dtype in INT32_LIKE else None)
    if bounds is None:
        raise ServingStatus(
            "UNIMPLEMENTED", f"Conversion of JSON Value: {json_text(value)} to type: {type_string(dtype)}"
        )
    if not _in(value, bounds):
        raise _type_error(value, dtype)
    return value


def dense_shape(value: Any) -> list[int]:
    """The shape a nested list claims, read along its first elements (GetDenseTensorShape)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _fill(value: Any, level: int, shape: list[int], dtype: int, out: list):
    """Check a nested list against `shape` and collect its elements (FillTensorProto)."""
    if not isinstance(value, list):
        if level != len(shape):
            raise invalid(
                f"JSON Value: {json_text(value)} found at incorrect level: {level + 1} "
                f"in the JSON DOM. Expected at level: {len(shape)}"
            )
        if isinstance(value, dict) and not is_b64(value) and dtype != STRING:
            raise _type_error(value, dtype)
        out.append(scalar(value, dtype))
        return
    if level >= len(shape):
        raise invalid(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
    if len(value) != shape[level]:
        raise invalid(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected size: {shape[level]}"
        )
    for item in value:
        _fill(item, level + 1, shape, dtype, out)


def _exact_array(value: Any, dtype: int) -> np.ndarray:
    shape = dense_shape(value)
    if len(shape) > MAX_RANK:  # before _fill, which recurses once per level
        raise invalid(
            f"JSON Value: {json_text(value)} is a list nested {len(shape)} levels deep: "
            f"more than the {MAX_RANK} dimensions a tensor can have here"
        )
    elements = []
    _fill(value, 0, shape, dtype, elements)
    array = np.empty(len(elements), dtype=NUMPY_DTYPE[dtype])
    array[:] = elements
    return array.reshape(shape)


def _fast_array(value: Any, dtype: int) -> np.ndarray | None:
    """np.asarray when that gives exactly what TF Serving accepts; None sends the value the slow way."""
    if dtype == STRING or dtype not in NUMPY_DTYPE:
        return None
    try:
        array = np.asarray(value)
    except (ValueError, OverflowError, TypeError):
        return None  # ragged lists or huge integers
    kind = array.dtype.kind
    if array.size == 0 or (dtype == BOOL) != (kind == "b"):
        return None
    if dtype in FLOATS:
        if kind not in "iuf":
            return None
        max_int, max_value = LOSSLESS[dtype]
        if kind in "iu" and np.abs(array).max() > max_int:
            return None
        if kind == "f" and dtype != DT.Value("DT_DOUBLE"):
            finite = array[np.isfinite(array)]
            if finite.size and np.abs(finite).max() > max_value:
                return None
    elif dtype != BOOL:
        if kind not in "iu":
            return None
        info = np.iinfo(NUMPY_DTYPE[dtype]) if dtype not in INT32_LIKE else np.iinfo(np.int32)
        if array.min() < info.min or array.max() > info.max:
            return None
    return array.astype(NUMPY_DTYPE[dtype], copy=False)


def to_array(value: Any, dtype: int, exact: bool = False) -> np.ndarray:
    """A JSON value (scalar or nested lists) as a tensor of the signature's dtype.

    exact=True skips the np.asarray shortcut: needed when the body holds true/false, because
    np.asarray([1.5, True]) quietly makes 1.0 of the True that TF Serving rejects.
    """
    array = None if exact else _fast_array(value, dtype)
    return array if array is not None else _exact_array(value, dtype)


# ---------------------------------------------------------------------- predict requests


def parse_json(body: bytes) -> dict:
    """The request body as a JSON object, or TF Serving's parse error (ParseJson)."""
    if not body.strip():
        raise invalid("JSON Parse error: The document is empty")
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        message, offset = getattr(error, "msg", str(error)), getattr(error, "pos", 0)
        raise invalid(f"JSON Parse error: {message} at offset: {offset}") from None
    except RecursionError:  # json.loads recurses once per nesting level
        raise invalid("JSON Parse error: The document is nested too deeply") from None
    if not isinstance(document, dict):
        raise invalid(f"JSON Value: {json_text(document)} Is not object")
    return document


def signature_name_of(document: dict) -> str:
    name = document.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid(
            f"JSON Value: {json_text(document)} not formatted correctly. 'signature_name' key must be a string value."
        )
    return name


def _shape_text(shape: Iterable[int]) -> str:
    return "[" + ",".join(str(size) for size in shape) + "]"


def _stack(elements: list, dtype: int, exact: bool, where: str) -> np.ndarray:
    """Batch the per-instance values of one input into a tensor [len(elements), ...]."""
    array = None if exact else _fast_array(elements, dtype)
    if array is not None:
        return array
    first_shape, parts = None, []
    for index, element in enumerate(elements):
        try:
            part = _exact_array(element, dtype)
            if first_shape is not None and part.size != int(np.prod(first_shape)):
                raise invalid(f"Expecting tensor size: {int(np.prod(first_shape))} but got: {part.size}")
            if first_shape is not None and list(part.shape) != list(first_shape):
                raise invalid(f"Expecting shape {_shape_text(first_shape)} but got: {_shape_text(part.shape)}")
        except ServingStatus as error:
            raise invalid(
                f"Failed to process element: {index}{where} of 'instances' list. Error: {error.code}: {error.message}"
            ) from None
        first_shape = part.shape if first_shape is None else first_shape
        parts.append(part)
    return np.stack(parts)


def instances_to_tensors(instances: list, input_infos: dict, exact: bool = False) -> dict[str, np.ndarray]:
    """The row format: a list with one element per example (FillTensorMapFromInstancesList)."""

    def is_object(value: Any) -> bool:
        return isinstance(value, dict) and not is_b64(value)

    if not isinstance(instances[0], dict) and len(input_infos) > 1:
        raise invalid(
            "instances is a plain list, but expecting list of objects as multiple input "
            "tensors required as per tensorinfo_map"
        )
    if not is_object(instances[0]):
        for index, element in enumerate(instances):
            if is_object(element):
                raise invalid(f"Expecting value/list but got object at item {index} of input list")
        name = next(iter(input_infos))
        return {name: _stack(instances, input_infos[name].dtype, exact, "")}
    columns = {name: [] for name in input_infos}
    for index, element in enumerate(instances):
        if not is_object(element):
            raise invalid(f"Expecting object but got list at item {index} of input list")
        for key in element:
            if key not in columns:
                raise invalid(
                    f"Failed to process element: {index} key: {key} of 'instances' list. "
                    f"Error: INVALID_ARGUMENT: JSON object: does not have named input: {key}"
                )
        if set(element) != set(columns):
            raise invalid(
                f"Failed to process element: {index} of 'instances' list. JSON object: "
                f"{json_text(element)} must only have keys: {','.join(sorted(columns))}"
            )
        for key, value in element.items():
            columns[key].append(value)
    return {name: _stack(values, input_infos[name].dtype, exact, f" key: {name}") for name, values in columns.items()}


def inputs_to_tensors(inputs: Any, input_infos: dict, exact: bool = False) -> dict[str, np.ndarray]:
    """The columnar format: whole tensors, by name when there are several (FillTensorMapFromInputsMap)."""
    if not isinstance(inputs, dict) or is_b64(inputs):
        if len(input_infos) > 1:
            raise invalid(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map"
            )
        name, info = next(iter(input_infos.items()))
        return {name: to_array(inputs, info.dtype, exact)}
    tensors = {}
    for name, info in input_infos.items():
        if name not in inputs:
            raise invalid(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = to_array(inputs[name], info.dtype, exact)
    return tensors


def parse_predict_request(
    body: bytes, get_input_infos: Callable[[str], dict]
) -> tuple[str, bool, dict[str, np.ndarray]]:
    """(signature name, row format?, input tensors) of a :predict body (FillPredictRequestFromJson).

    get_input_infos(signature_name) returns the signature's input TensorInfos (or raises).
    """
    document = parse_json(body)
    signature_name = signature_name_of(document)
    input_infos = get_input_infos(signature_name)
    if not input_infos:
        raise invalid(f"Failed to get input map for signature: {signature_name or 'DEFAULT'}")
    exact = b"true" in body or b"false" in body
    if "instances" in document:
        if "inputs" in document:
            raise invalid(
                f"JSON Value: {json_text(document)} Not formatted correctly expecting only one of "
                "'inputs' or 'instances' keys to exist "
            )
        instances = document["instances"]
        if not isinstance(instances, list):
            raise invalid(f"JSON Value: {json_text(document)} Excepting 'instances' to be an list/array")
        if not instances:
            raise invalid(f"JSON Value: {json_text(document)} No values in 'instances' array")
        return signature_name, True, instances_to_tensors(instances, input_infos, exact)
    if "inputs" in document:
        return signature_name, False, inputs_to_tensors(document["inputs"], input_infos, exact)
    raise invalid("Missing 'inputs' or 'instances' key")


# ---------------------------------------------------------------------- replies


def json_values(array: np.ndarray, as_bytes: bool = False) -> Any:
    """A tensor as nested lists of JSON values.

    float32 goes through its shortest decimal form (0.1, not 0.10000000149011612), as TF Serving
    writes it; strings are UTF-8 text, or {"b64": ...} for outputs whose name ends in _bytes.
    """
    if array.dtype == np.float32:
        return array.astype(str).astype(np.float64).tolist()
    if array.dtype.kind == "f":
        return array.astype(np.float64).tolist()
    if array.dtype.kind in "OSU":

        def text(item: object) -> str | dict[str, str]:
            item = item if isinstance(item, bytes) else str(item).encode("utf-8")
            return {"b64": base64.b64encode(item).decode("ascii")} if as_bytes else item.decode("utf-8", "replace")

        return np.frompyfunc(text, 1, 1)(array).tolist() if array.ndim else text(array.item())
    return array.tolist()


def predict_reply(outputs: dict[str, np.ndarray], row_format: bool) -> dict:
    """{"predictions": ...} for row requests, {"outputs": ...} for columnar ones (MakeJsonFromTensors)."""
    if not outputs:
        raise invalid("Cannot convert empty tensor map to JSON")
    if not row_format:
        values = {name: json_values(array, name.endswith("_bytes")) for name, array in outputs.items()}
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    batch = 0
    for name, array in outputs.items():
        if array.ndim == 0:
            raise invalid(f"Tensor name: {name} has no shape information ")
        if array.shape[0] < 1:
            raise invalid(f"Tensor name: {name} has invalid batch size: {array.shape[0]}")
        if batch and array.shape[0] != batch:
            raise invalid(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
        batch = array.shape[0]
    values = {name: json_values(array, name.endswith("_bytes")) for name, array in outputs.items()}
    if len(values) == 1:
        return {"predictions": next(iter(values.values()))}
    return {"predictions": [{name: rows[i] for name, rows in values.items()} for i in range(batch)]}


# ---------------------------------------------------------------------- classify and regress


def _add_feature_value(feature: feature_pb2.Feature, name: str, value: Any):
    """One JSON value into a tf.train.Feature (AddValueToFeature): the first value fixes the kind."""

    def kind_error(kind: str) -> ServingStatus:
        return invalid(f"Unexpected element type in feature: {name} expecting type: {kind}")

    current = feature.WhichOneof("kind")
    existing = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}.get(current, "UNKNOWN")
    if value is None or isinstance(value, list) or (isinstance(value, dict) and not is_b64(value)):
        raise invalid(f"Feature: {name} has element with unexpected JSON type: {json_type(value)}")
    if isinstance(value, bool) or isinstance(value, int):
        if current not in (None, "int64_list"):
            raise kind_error(existing)
        if not isinstance(value, bool) and value > INT64_RANGE[1]:
            raise invalid(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(int(value))
    elif isinstance(value, float):
        if current not in (None, "float_list"):
            raise kind_error(existing)
        scalar(value, DT.Value("DT_FLOAT"))  # the lossless check
        feature.float_list.value.append(value)
    else:
        if current not in (None, "bytes_list"):
            raise kind_error(existing)
        feature.bytes_list.value.append(scalar(value, STRING))


def make_example(value: Any) -> example_pb2.Example:
    """A JSON object {"feature": value or [values]} as a tf.train.Example (MakeExampleFromJsonObject)."""
    if not isinstance(value, dict):
        raise invalid(f"Example must be JSON object but got JSON {json_type(value)}")
    example = example_pb2.Example()
    for name, content in value.items():
        feature = example.features.feature[name]
        for item in content if isinstance(content, list) else [content]:
            _add_feature_value(feature, name, item)
    return example


def parse_examples_request(body: bytes, method: str) -> tuple[str, list[bytes]]:
    """(signature name, serialized tf.Examples) of a :classify or :regress body.

    With a "context" object, each example is serialized after the context, which merges the two
    the way TF Serving's ExampleListWithContext does.
    """
    document = parse_json(body)
    signature_name = signature_name_of(document)
    context = make_example(document["context"]).SerializeToString() if "context" in document else b""
    examples = document.get("examples")
    if examples is None:
        raise invalid(
            f"JSON Value: {json_text(document)} When method is {method}, key 'examples' is expected and was not found"
        )
    if not isinstance(examples, list):
        raise invalid(f"JSON Value: {json_text(document)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise invalid(f"JSON Value: {json_text(document)} 'examples' value is an empty array")
    return signature_name, [context + make_example(example).SerializeToString() for example in examples]


def serialized_examples(input_proto: Any) -> list[bytes]:
    """The examples of a gRPC tensorflow.serving.Input, serialized (InputToSerializedExampleTensor)."""
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        return [example.SerializeToString() for example in input_proto.example_list.examples]
    if kind == "example_list_with_context":
        listed = input_proto.example_list_with_context
        context = listed.context.SerializeToString()
        return [context + example.SerializeToString() for example in listed.examples]
    return []
