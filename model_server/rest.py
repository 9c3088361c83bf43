"""TF Serving's REST API on tornado's HTTP server.

Routes (case-insensitive, as in tensorflow_serving/model_servers/http_rest_api_util.cc):
  GET  /v1/models/{name}[/versions/{v}|/labels/{l}]            model status
  GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata   signatures
  POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict|:classify|:regress
  GET  <monitoring path>                                        Prometheus metrics, if enabled
Errors are {"error": "<message>"} with the HTTP status TF Serving maps the error code to.

Tornado's HTTP/1.1 server rather than http.server: it reads chunked bodies, keeps connections open
(keep-alive), holds stalled or hung-up clients on one event loop without a thread each, listens
with a large backlog and answers malformed HTTP with a 400, all without HTTP code of our own.
Requests are answered on the event loop's thread as they complete (see _Request.finish); answers
leave in one write. No per-request logging.
"""

import asyncio
import json
import logging
import re
import threading
import time
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from tornado import httputil, netutil
from tornado.httpserver import HTTPServer

from model_server import protos, status, tensors
from model_server.metrics import Metrics
from model_server.status import invalid

if TYPE_CHECKING:
    from model_server.manager import ModelManager

log = logging.getLogger("model_server")
LISTEN_BACKLOG = 1024  # http.server's 5 refused most of a burst of connections; the kernel caps it (somaxconn)
# Seconds an idle keep-alive connection is kept. A body that stops coming has no timeout of its
# own (tornado's costs a timer per request, 5 % of the throughput): it holds only its socket.
IDLE_TIMEOUT = 300
MAX_BODY_SIZE = 100 * 2**20  # tornado's default, stated: a larger body is a 400 before it is read
API_PATH = re.compile(r"/v1/.*", re.IGNORECASE)
PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.IGNORECASE
)
STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.IGNORECASE
)


def _version(text: str | None) -> int | None:
    if not text:
        return None
    if int(text) > 2**63 - 1:  # TF Serving parses it as an int64
        raise invalid(f"Failed to convert version: {text} to numeric.")
    return int(text)


class RestApi:
    """Answers one REST request: (HTTP status, JSON document)."""

    def __init__(self, manager: "ModelManager", metrics: Metrics) -> None:
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

    def _prediction(self, match: re.Match[str], body: bytes) -> dict:
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

    def _run(self, method: str, name: str, version: int | None, label: str | None, body: bytes) -> dict:
        if method == "predict":
            chosen = []

            # The model is looked up after the JSON parsed, as in TF Serving.
            def input_infos(signature_name: str) -> dict:
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
        return {
            "results": [
                [[label, score] for label, score in zip(row_labels, row_scores)]
                for row_labels, row_scores in zip(labels, score_rows)
            ]
        }


class _Request(httputil.HTTPMessageDelegate):
    """One request on a connection: tornado hands over the head, then the body (already de-chunked)."""

    def __init__(self, server: "RestServer", connection: httputil.HTTPConnection):
        self.server, self.connection = server, connection
        self.start_line: httputil.RequestStartLine | None = None
        self.chunks: list[bytes] = []

    def headers_received(self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> None:
        self.start_line = start_line

    def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def finish(self) -> None:
        """The whole request is in: answer it, right here on the event loop.

        Inline rather than on a worker thread: a hop to a thread pool and back costs about as much
        as a small model's whole predict (measured with tools/bench_serving.py: 16 clients got
        about 40 % fewer requests/s than http.server had), and Python runs one thread at a time. The
        price: a slow predict holds up the other connections' requests (not their connecting or
        sending) until it is done.
        """
        method, path = self.start_line.method, urlsplit(self.start_line.path).path
        server = self.server
        try:
            if server.metrics_path and path == server.metrics_path:
                code, kind, payload = 200, "text/plain; version=0.0.4", server.api.metrics.render().encode()
            elif API_PATH.fullmatch(path):
                code, document = server.api.handle(method, path, b"".join(self.chunks))
                kind, payload = "application/json", json.dumps(document).encode()
            else:
                code, kind, payload = 404, "text/plain", b"Not Found\n"
        except Exception as error:  # a bug, not a bad request: still an answer, and one log line
            log.warning("REST request %s %s failed: %s: %s", method, path, type(error).__name__, error)
            document = {"error": f"{type(error).__name__}: {error}"}
            code, kind, payload = 500, "application/json", json.dumps(document).encode()
        headers = httputil.HTTPHeaders({"Content-Type": kind, "Content-Length": str(len(payload))})
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:  # 499, TF Serving's CANCELLED, has no standard phrase
            reason = ""
        # headers and body in one write; tornado turns Nagle's algorithm off once the answer is complete
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", code, reason), headers, None if method == "HEAD" else payload
        )
        self.connection.finish()  # on a connection the client already closed this writes nothing


class RestServer(httputil.HTTPServerConnectionDelegate):
    """The REST port: tornado's HTTP/1.1 server on an event loop in a thread of its own.

    Tornado reads the requests (keep-alive, chunked bodies, a stalled client costs nothing but its
    socket, malformed HTTP gets tornado's bare 400); RestApi answers each one as soon as it is in.
    The port is bound in __init__, so a port in use fails there, in the caller's thread.
    """

    def __init__(self, host: str, port: int, api: RestApi, metrics_path: str | None):
        self.api, self.metrics_path = api, metrics_path
        # SO_REUSEADDR (a port whose last server just stopped is free); room for a burst of connections
        self.sockets = netutil.bind_sockets(port, address=host, backlog=LISTEN_BACKLOG)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()

    @property
    def server_address(self) -> tuple[str, int]:
        return self.sockets[0].getsockname()[:2]

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        """A delegate for the next request on a connection (tornado asks once per request)."""
        return _Request(self, request_conn)

    def start(self) -> "RestServer":
        """Serve in a daemon thread; returns once the event loop accepts connections."""
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), name="rest-loop", daemon=True)
        self._thread.start()
        self._started.wait(timeout=30)
        return self

    async def _serve(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        server = HTTPServer(self, idle_connection_timeout=IDLE_TIMEOUT, max_body_size=MAX_BODY_SIZE)
        server.add_sockets(self.sockets)
        self._started.set()
        await self._stopping.wait()
        server.stop()  # no new connections, then close the open ones
        try:
            await asyncio.wait_for(server.close_all_connections(), timeout=5)
        except TimeoutError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """Close the port and every open connection; returns once the event loop has ended."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=timeout)
        for sock in self.sockets:
            sock.close()
