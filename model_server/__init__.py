"""A model server that speaks TensorFlow Serving's REST and gRPC APIs, and a client for either.

For machines where the real TensorFlow Serving (a Docker image) cannot run. It is started like
tensorflow_model_server, reads the same model folders (base_path/<version>/saved_model.pb), the same
models.config and monitoring.config, and answers with TF Serving's JSON shapes, error messages and
status codes. model_server/README.md says what it covers, how it differs and how fast it is.

    python -m model_server --rest_api_port=8501 --port=8500 --model_name=wine --model_base_path=$PWD/models/wine

The client API, what code outside this package may import: ServingClient and ServingError (for any
TF Serving), LocalModelServer (this server in a child process), free_port, and the numbered version
folders of a model's base path (model_server.versions).
"""

from model_server.client import DEFAULT_GRPC_PORT, DEFAULT_REST_URL, ServingClient, ServingError
from model_server.local import LocalModelServer, free_port

__all__ = ["DEFAULT_GRPC_PORT", "DEFAULT_REST_URL", "LocalModelServer", "ServingClient", "ServingError", "free_port"]
