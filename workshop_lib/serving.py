"""The wine model's server, reached from a notebook or a job: TensorFlow Serving, or the local stand-in.

`docker compose up` runs the real TensorFlow Serving (tensorflow/serving:2.20.0). Where Docker is
missing or cannot run it, the course's model server (the `model_server` package, started like
tensorflow_model_server) serves the same models.config. Either way this module hands out a client:

    from workshop_lib import serving
    client = serving.connect()            # Docker's server if there is one, else a local one
    client.status()                       # {"model_version_status": [...]}
    client.predict(wines, label="canary") # a DataFrame: one {column: value} instance per row
    client.grpc_predict(wines, version=1) # {output name: numpy array}

    with serving.LocalModelServer(model_base_path="models/wine", model_name="wine") as server:
        server.client().metadata()

Errors are ServingError, one line: TF Serving's own message, or for a server that does not
answer, its address and the command that starts one.
"""

import os
from urllib.parse import urlsplit

from model_server import DEFAULT_GRPC_PORT, LocalModelServer, ServingClient, ServingError, free_port
from workshop_lib import config

__all__ = ["LocalModelServer", "ServingClient", "ServingError", "connect"]


_shared: dict[tuple, LocalModelServer] = {}


def connect(model_name: str = "wine", *, timeout: float = 120.0, **server_options: object) -> ServingClient:
    """A client for the course's model server, starting a local one if none is there.

    1. TF_SERVING_URL is set (docker-compose sets it in the lab container): that server.
    2. Something answers like TF Serving on localhost:8501 (e.g. `docker compose up serving` next
       to a `make lab` JupyterLab): that server. Skipped when WORKSHOP_MODELS is set (test runs).
    3. Otherwise a LocalModelServer on models/models.config, with models/ (or WORKSHOP_MODELS)
       mounted at /models and the Prometheus metrics of models/monitoring.config, as in
       docker-compose, on TF Serving's ports (8501 REST, 8500 gRPC) when they are free, so that
       curl and other kernels find it where they would find Docker's. It is started once per
       kernel and reused by later calls.
    server_options go to LocalModelServer and override those defaults.
    """
    if "TF_SERVING_URL" in os.environ:
        return ServingClient(None, model_name)
    options = {
        "model_config_file": config.MODELS_DIR / "models.config",
        "monitoring_config_file": config.MODELS_DIR / "monitoring.config",
        "volumes": {config.model_dir(model_name).parent: "/models"},
        "model_config_file_poll_wait_seconds": 30,
        "timeout": timeout,
        **server_options,
    }
    key = tuple(sorted((name, repr(value)) for name, value in options.items()))
    server = _shared.get(key)
    if server is not None and server.running:
        return server.client(model_name)
    if "WORKSHOP_MODELS" in os.environ:  # a run on its own models (the tests): never someone else's server
        return _start_shared(key, options, model_name)
    nearby = ServingClient(config.DEFAULT_TF_SERVING_URL, model_name, timeout=1.0)
    try:
        nearby.status()
        nearby.timeout = 10.0
        return nearby
    except ServingError as error:
        if error.status is not None:  # it answered, only not with the model: still a TF Serving
            nearby.timeout = 10.0
            return nearby
    finally:
        nearby.close()
    return _start_shared(key, options, model_name)


def _start_shared(key: tuple, options: dict, model_name: str) -> ServingClient:
    if "WORKSHOP_MODELS" in os.environ:  # a run on its own models (parallel tests): ports nobody else picks
        ports = {"rest_api_port": free_port(), "port": free_port()}
    else:  # TF Serving's ports when free, so that curl and other kernels find it where they would find Docker's
        rest_port = urlsplit(config.DEFAULT_TF_SERVING_URL).port or 8501
        ports = {"rest_api_port": free_port(rest_port), "port": free_port(DEFAULT_GRPC_PORT)}
    server = _shared[key] = LocalModelServer(**{**ports, **options})
    server.start()
    return server.client(model_name)
