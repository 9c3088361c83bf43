"""A local model server that speaks TensorFlow Serving's API, and a client for either server.

`docker compose up` runs the real TensorFlow Serving (tensorflow/serving:2.20.0). Where Docker is
missing or cannot run it (Apple Silicon: no arm64 image), this package is the fallback. It is
started like tensorflow_model_server:

    python -m workshop_lib.serving --rest_api_port=8501 --port=8500 \\
        --model_name=wine --model_base_path=$PWD/models/wine
    python -m workshop_lib.serving --rest_api_port=8501 --port=8500 \\
        --model_config_file=models/models.config --monitoring_config_file=models/monitoring.config \\
        --model_config_file_poll_wait_seconds=30 --volume=models:/models

and reads the same model folders (base_path/<version>/saved_model.pb), the same models.config
(version policy latest/all/specific, version labels) and monitoring.config, parsed with TF
Serving's own protobuf schemas. It loads SavedModels the way TF Serving does (the session-based
TF1 loader), serves the newest version by default and picks up new version folders while it runs.

Covered: REST status, metadata, predict (row "instances" and columnar "inputs"), classify and
regress, with TF Serving's JSON shapes, error messages and HTTP status codes; gRPC
PredictionService Predict, Classify, Regress, GetModelMetadata and ModelService.GetModelStatus;
Prometheus metrics :tensorflow:serving:request_count, request_latency and runtime_latency.
Not covered: request batching (--enable_batching), model warm-up files, MultiInference, model
config reload over gRPC (HandleReloadConfigRequest), TFLite, custom platforms, SSL, file
systems other than local folders, and TF Serving's other Prometheus metrics. It listens on
127.0.0.1 unless --host says otherwise (TF Serving listens on all interfaces).

In a notebook:

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

from workshop_lib.serving.client import ServingClient, ServingError
from workshop_lib.serving.local import LocalModelServer, connect

__all__ = ["LocalModelServer", "ServingClient", "ServingError", "connect"]
