"""`python -m model_server`: start the model server the way tensorflow_model_server starts.

Order as in TF Serving: read the flags and config files, load the models that are already on
disk, then open the gRPC and REST ports, then keep polling for new versions (and, with
--model_config_file_poll_wait_seconds, for config changes). SIGTERM or Ctrl+C stops it cleanly.
The log has one line per start-up event and per version loaded or unloaded, nothing per request.
"""

import faulthandler
import logging
import os
import signal
import sys
import threading
import time

from model_server import configs

log = logging.getLogger("model_server")

# Set by LocalModelServer: the server stops when that process is gone (e.g. a killed notebook kernel).
PARENT_PID_VARIABLE = "MODEL_SERVER_PARENT_PID"


def _setup_logging():
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s.%(msecs)03d: %(levelname).1s model_server] %(message)s", datefmt="%Y-%m-%d %H:%M:%S"
        )
    )
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _watch_parent():
    """Stop when the process that started us has gone: its child must not outlive a killed kernel.

    Started first thing, so this works during the slow start-up too: SIGTERM ends the process
    there, and once the server runs it stops it cleanly.
    """
    parent = os.environ.get(PARENT_PID_VARIABLE, "")
    if not parent.isdigit():
        return

    def watch():
        while os.getppid() == int(parent):
            time.sleep(0.5)
        log.info("The process that started this server (pid %s) has gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported
    args = configs.build_parser().parse_args(argv)
    _setup_logging()
    faulthandler.enable()  # a crash in TensorFlow's C++ leaves a Python traceback in the log
    _watch_parent()
    try:
        config = configs.server_config(args)
        monitoring = (
            configs.read_monitoring_config(args.monitoring_config_file) if args.monitoring_config_file else None
        )
    except Exception as error:  # a missing file or a typo in a config: one line, not a traceback
        print(f"error: {error}".strip(), file=sys.stderr)
        return 1
    if args.model_config_file:
        log.info("Reading model config file %s", args.model_config_file)
    else:
        log.info(
            "Building single TensorFlow model file config:  model_name: %s model_base_path: %s",
            args.model_name,
            args.model_base_path,
        )

    import tensorflow as tf  # slow (seconds): only after the flags are known to be good

    tf.get_logger().setLevel("ERROR")  # the TF1 loader's deprecation warning, once per load
    from model_server.grpc_api import start_grpc_server
    from model_server.manager import ModelManager, Poller
    from model_server.metrics import Metrics
    from model_server.rest import RestApi, RestServer

    metrics = Metrics()
    try:
        manager = ModelManager(
            config,
            [tag for tag in args.saved_model_tags.split(",") if tag],
            runtime_observer=metrics.record_runtime_latency,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    manager.poll()  # what is on disk now is loaded before the ports open

    grpc_server = rest_server = None
    try:
        if args.port:
            grpc_server = start_grpc_server(args.host, args.port, manager, metrics)
            log.info("Running gRPC ModelServer at %s:%d ...", args.host, args.port)
        if args.rest_api_port and args.rest_api_port == args.port:
            log.error(
                "--rest_api_port cannot be same as --port. Please use a different port for HTTP/REST API. "
                "Skipped exporting HTTP/REST API."
            )
        elif args.rest_api_port:
            metrics_path = configs.prometheus_path(monitoring)
            rest_server = RestServer(args.host, args.rest_api_port, RestApi(manager, metrics), metrics_path).start()
            log.info("Exporting HTTP/REST API at:%s:%d ...", args.host, args.rest_api_port)
            if metrics_path:
                log.info("Prometheus metrics at http://%s:%d%s", args.host, args.rest_api_port, metrics_path)
    except OSError as error:
        log.error("%s", error)
        if grpc_server:
            grpc_server.stop(None)
        return 1

    def read_config():
        return configs.server_config(args)

    poller = Poller(
        manager,
        args.file_system_poll_wait_seconds,
        args.model_config_file_poll_wait_seconds if args.model_config_file else 0,
        read_config,
        initial_config=config,
    )
    poller.start()

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("Received %s: stopping", signal.Signals(signum).name)  # in the log: who ended the server
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    while not stop.wait(0.5):
        pass

    poller.stop()
    if rest_server:
        rest_server.stop()
    if grpc_server:
        grpc_server.stop(grace=0.2).wait()
    manager.close()
    log.info("Server stopped")
    return 0
