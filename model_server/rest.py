"""TF Serving's REST API on the standard library's ThreadingHTTPServer.

Routes (case-insensitive, as in tensorflow_serving/model_servers/http_rest_api_util.cc):
  GET  /v1/models/{name}[/versions/{v}|/labels/{l}]            model status
  GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata   signatures
  POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict|:classify|:regress
  GET  <monitoring path>                                        Prometheus metrics, if enabled
Errors are {"error": "<message>"} with the HTTP status TF Serving maps the error code to. Each
connection gets a thread; connections stay open between requests (HTTP/1.1 keep-alive) and
answers leave in one write with Nagle's algorithm off, which keeps a one-row predict under a
millisecond of server time. No per-request logging.
"""

import json
import logging
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from model_server import protos, status, tensors
from model_server.status import invalid

log = logging.getLogger("model_server")
API_PATH = re.compile(r"/v1/.*", re.IGNORECASE)
PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.IGNORECASE)
STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.IGNORECASE)


def _version(text: str | None) -> int | None:
    if not text:
        return None
    if int(text) > 2**63 - 1:  # TF Serving parses it as an int64
        raise invalid(f"Failed to convert version: {text} to numeric.")
    return int(text)


class RestApi:
    """Answers one REST request: (HTTP status, JSON document)."""

    def __init__(self, manager, metrics):
        self.manager, self.metrics = manager, metrics

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        try:
            if method == "POST" and (match := PREDICTION_PATH.fullmatch(path)):
                return 200, self._prediction(match, body)
            if method == "GET" and (match := STATUS_PATH.fullmatch(path)):
                name, version, label, metadata = match.groups()
                name, label = unquote(name or ""), unquote(label) if label else None
                if not name:
                    raise invalid("Missing model name in request.")
                if metadata:
                    response = protos.model_metadata(self.manager, name, _version(version), label)
                    return 200, protos.metadata_json(response)
                return 200, protos.status_json(protos.model_status(self.manager, name, _version(version), label))
            raise invalid(f"Malformed request: {method} {path}")
        except Exception as error:  # every failure becomes TF Serving's {"error": ...}; the server goes on
            failure = status.from_exception(error)
            return failure.http_status, {"error": failure.message}

    def _prediction(self, match, body: bytes) -> dict:
        name, version, label, method = match.groups()
        name, method = unquote(name), method.lower()
        label = unquote(label) if label else None
        start = time.perf_counter()
        code = "OK"
        try:
            return self._run(method, name, _version(version), label, body)
        except Exception as error:
            code = status.from_exception(error).code
            raise
        finally:
            self.metrics.record_request(name, code)
            if code == "OK":
                self.metrics.record_request_latency(name, method, "REST", (time.perf_counter() - start) * 1e6)

    def _run(self, method: str, name: str, version, label, body: bytes) -> dict:
        if method == "predict":
            chosen = []

            def input_infos(signature_name):  # the model is looked up after the JSON parsed, as in TF Serving
                chosen.append(self.manager.servable(name, version, label))
                return chosen[0].signature_inputs(signature_name)

            signature_name, row_format, inputs = tensors.parse_predict_request(body, input_infos)
            _, outputs = chosen[0].predict(signature_name, inputs)
            return tensors.predict_reply(outputs, row_format)
        signature_name, examples = tensors.parse_examples_request(body, method)
        servable = self.manager.servable(name, version, label)
        if method == "regress":
            _, values = servable.regress(signature_name, examples)
            return {"results": tensors.json_values(values)}
        _, labels, scores = servable.classify(signature_name, examples)
        score_rows = tensors.json_values(scores)
        return {"results": [[[label, score] for label, score in zip(row_labels, row_scores)]
                            for row_labels, row_scores in zip(labels, score_rows)]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: no new connection per request
    disable_nagle_algorithm = True
    server_version = "model_server"
    timeout = 300  # close idle keep-alive connections eventually

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def do_PUT(self):
        self._answer("PUT")

    def do_DELETE(self):
        self._answer("DELETE")

    def _answer(self, method: str):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(400, "application/json", b'{"error": "Bad Content-Length header"}')
            return
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        server = self.server
        if server.metrics_path and path == server.metrics_path:
            self._send(200, "text/plain; version=0.0.4", server.api.metrics.render().encode())
        elif API_PATH.fullmatch(path):
            code, document = server.api.handle(method, path, body)
            self._send(code, "application/json", json.dumps(document).encode())
        else:
            self._send(404, "text/plain", b"Not Found\n")

    def _send(self, code: int, content_type: str, payload: bytes):
        closing = "Connection: close\r\n" if self.close_connection else ""
        head = (f"HTTP/1.1 {code} {self.responses.get(code, ('',))[0]}\r\n{closing}"
                f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)  # one write: no Nagle/delayed-ACK stall

    def log_message(self, format, *args):
        pass  # nothing per request: the log is for start-up events


class RestServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, api: RestApi, metrics_path: str | None):
        self.api, self.metrics_path = api, metrics_path
        super().__init__((host, port), _Handler)

    def handle_error(self, request, client_address):
        """One log line instead of socketserver's traceback (e.g. a client that hung up mid-request)."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            log.warning("REST request from %s failed: %s: %s", client_address[0], type(error).__name__, error)
