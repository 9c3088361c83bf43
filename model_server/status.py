"""Errors as TF Serving reports them: a canonical code (INVALID_ARGUMENT, NOT_FOUND, ...) and a message.

REST turns the code into an HTTP status with TF Serving's ToHTTPStatusCode mapping, gRPC sends it
as is; the Prometheus request counter uses its name as the `status` label.
"""

# tensorflow_serving/model_servers/http_server.cc, ToHTTPStatusCode.
HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

# The canonical codes by number (tensorflow/core/protobuf/error_codes.proto = google.rpc.Code).
CODE_NAMES = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}


class ServingStatus(Exception):
    """A failed request: `code` is a canonical code name, `message` what TF Serving would say."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)


def invalid(message: str) -> ServingStatus:
    return ServingStatus("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingStatus:
    return ServingStatus("NOT_FOUND", message)


def from_exception(error: Exception) -> ServingStatus:
    """A TensorFlow error (tf.errors.OpError carries a canonical code) or anything else as INTERNAL."""
    if isinstance(error, ServingStatus):
        return error
    code = getattr(error, "error_code", None)
    if isinstance(code, int) and code in CODE_NAMES:
        return ServingStatus(CODE_NAMES[code], getattr(error, "message", str(error)))
    return ServingStatus("INTERNAL", f"{type(error).__name__}: {error}")
