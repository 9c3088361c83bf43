"""workshop_lib.serving.connect(): the course's way to its model server (tested here for the toy models of conftest.py).

Without TF_SERVING_URL and with nothing on localhost:8501, it starts the local server on the
repository's own models/models.config and monitoring.config, reading the versions from
WORKSHOP_MODELS as docker-compose's volume would.
"""

import pytest

from model_server.local import free_port
from workshop_lib import config
from workshop_lib.serving import connect


def test_uses_tf_serving_url_when_set(monkeypatch):
    monkeypatch.setenv("TF_SERVING_URL", "http://serving:8501/")
    monkeypatch.setenv("TF_SERVING_GRPC", "serving:8500")
    client = connect()
    assert (client.url, client.grpc_target, client.model_name, client.server) == (
        "http://serving:8501",
        "serving:8500",
        "wine",
        None,
    )


@pytest.fixture
def course_models(model_store, tmp_path, monkeypatch, copy_version):
    """models/wine/1 and 2 as modules 04 and 05 export them, in a folder of their own."""
    root = tmp_path / "models"
    (root / "wine").mkdir(parents=True)
    copy_version(model_store / "lin" / "1", root / "wine", 1)
    copy_version(model_store / "lin" / "2", root / "wine", 2)
    monkeypatch.setenv("WORKSHOP_MODELS", str(root))
    monkeypatch.delenv("TF_SERVING_URL", raising=False)
    return root


def test_starts_a_local_server_on_the_course_config(course_models, monkeypatch):
    rest_port = free_port()
    monkeypatch.setattr(config, "DEFAULT_TF_SERVING_URL", f"http://localhost:{rest_port}")  # nothing there yet
    client = connect(port=0)  # gRPC on any free port: leave 8500 alone during the tests
    try:
        assert client.server is not None and client.server.running
        # A run on its own models (WORKSHOP_MODELS, the tests) takes a port nobody else picks, not the default
        # one: two test workers would otherwise both find it free and collide.
        assert client.url.startswith("http://127.0.0.1:") and client.url != f"http://127.0.0.1:{rest_port}"
        labels = dict(config_labels())
        for label, version in labels.items():
            assert client.predict([[1.0]], label=label) == [[0.5 + (2.0 if version == 1 else 3.0)]]
        assert ':tensorflow:serving:request_count{model_name="wine",status="OK"}' in client.metrics()
        assert connect(port=0).server is client.server  # started once per kernel, then reused
    finally:
        client.server.stop()


def config_labels():
    from model_server.configs import read_model_config

    wine = {m.name: m for m in read_model_config(config.MODELS_DIR / "models.config").model_config_list.config}["wine"]
    return wine.version_labels.items()


def test_with_its_own_models_it_never_borrows_a_server_already_running(course_models, monkeypatch, json_server):
    """A test run (WORKSHOP_MODELS set) must not talk to a participant's server on localhost:8501."""
    someone_else = json_server(200, {"model_version_status": [{"version": "7", "state": "AVAILABLE"}]})
    monkeypatch.setattr(config, "DEFAULT_TF_SERVING_URL", someone_else)
    client = connect(port=0)
    try:
        assert client.server is not None and client.server.running
        assert client.url != someone_else.rstrip("/")
    finally:
        client.server.stop()
