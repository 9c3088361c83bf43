"""Flags, config files and version policies, checked without starting a model server."""

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from google.protobuf import text_format

from model_server import LocalModelServer, ServingError, configs
from model_server.manager import aspired_versions, discover_versions, validate_config
from workshop_lib.config import MODELS_DIR


def test_flags_have_tf_serving_defaults():
    args = configs.build_parser().parse_args([])
    assert (args.port, args.rest_api_port, args.model_name, args.model_base_path) == (8500, 0, "default", "")
    assert (args.file_system_poll_wait_seconds, args.model_config_file_poll_wait_seconds) == (1, 0)
    assert args.allow_version_labels_for_unavailable_models is False


def test_flags_are_parsed_like_tf_serving():
    args = configs.build_parser().parse_args(
        [
            "--rest_api_port=8501",
            "--port",
            "8500",
            "--model_config_file=/models/models.config",
            "--model_config_file_poll_wait_seconds=30",
            "--allow_version_labels_for_unavailable_models=true",
            "--enable_batching",
            "--volume=models:/models",
        ]
    )
    assert args.rest_api_port == 8501 and args.model_config_file_poll_wait_seconds == 30
    assert args.allow_version_labels_for_unavailable_models is True and args.enable_batching is True
    assert args.volume == [("models", "/models")]
    with pytest.raises(SystemExit):
        configs.build_parser().parse_args(["--no_such_flag=1"])


def test_the_repository_configs_parse_and_map_to_the_host(tmp_path):
    config = configs.read_model_config(MODELS_DIR / "models.config")
    wine = {model.name: model for model in config.model_config_list.config}["wine"]
    assert wine.base_path.startswith("/models/")
    mapped = configs.map_volumes(config, {str(tmp_path): "/models"})
    mapped_wine = {model.name: model for model in mapped.model_config_list.config}["wine"]
    assert mapped_wine.base_path == str(tmp_path / wine.base_path[len("/models/") :])
    assert wine.base_path.startswith("/models/")  # the original is untouched
    validate_config(mapped)
    monitoring = configs.read_monitoring_config(MODELS_DIR / "monitoring.config")
    assert configs.prometheus_path(monitoring) == "/monitoring/prometheus/metrics"


def test_monitoring_config_uses_tf_serving_schema():
    monitoring = configs.monitoring_config_class()
    assert (
        configs.prometheus_path(text_format.Parse("prometheus_config { enable: true }", monitoring()))
        == configs.DEFAULT_PROMETHEUS_PATH
    )
    assert configs.prometheus_path(text_format.Parse("prometheus_config { enable: false }", monitoring())) is None
    with pytest.raises(text_format.ParseError):
        text_format.Parse("prometheus_config { enabled: true }", monitoring())


@pytest.mark.parametrize(
    "policy, expected",
    [
        ("", {3}),
        ("model_version_policy { latest { num_versions: 2 } }", {2, 3}),
        ("model_version_policy { all {} }", {1, 2, 3}),
        ("model_version_policy { specific { versions: 1 versions: 2 versions: 7 } }", {1, 2}),
    ],
)
def test_version_policies(policy, expected):
    config = configs.parse_model_config(
        f'model_config_list {{ config {{ name: "m" base_path: "/m" model_platform: "tensorflow" {policy} }} }}'
    )
    assert aspired_versions(config.model_config_list.config[0], {1, 2, 3}) == expected


def test_version_folders_are_numbered_savedmodel_folders(tmp_path):
    assert discover_versions(str(tmp_path / "missing")) is None
    for name in ("00000123", "7", "notes", "8"):
        (tmp_path / name).mkdir()
    for name in ("00000123", "7", "notes"):
        (tmp_path / name / "saved_model.pb").write_bytes(b"")
    assert set(discover_versions(str(tmp_path))) == {123, 7}  # 8 has no saved_model.pb yet


@pytest.mark.parametrize(
    "text, complaint",
    [
        (
            'config { name: "m" base_path: "/a" model_platform: "tensorflow" } '
            'config { name: "m" base_path: "/b" model_platform: "tensorflow" }',
            "multiple times",
        ),
        ('config { name: "m" base_path: "/a" model_platform: "onnx" }', "unsupported platform"),
        ('config { name: "m" model_platform: "tensorflow" }', "no base_path"),
    ],
)
def test_invalid_configs_are_refused(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        validate_config(configs.parse_model_config(f"model_config_list {{ {text} }}"))


def test_bad_command_line_fails_in_one_line(tmp_path):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "m" basepath: "/m" } }')
    for args in ([f"--model_config_file={config}"], [f"--model_config_file={tmp_path / 'missing.config'}"], []):
        done = subprocess.run([sys.executable, "-m", "model_server", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_local_server_that_cannot_start_says_why(tmp_path):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "m" base_path: "/m" model_platform: "tensorflow" } }')
    (tmp_path / "monitoring.config").write_text("prometheus_config { enabled: true }")
    server = LocalModelServer(model_config_file=config, monitoring_config_file=tmp_path / "monitoring.config")
    with pytest.raises(ServingError) as caught:
        server.start()
    message = str(caught.value)
    assert message.startswith("The local model server stopped (exit code 1)")
    assert "error: " in message and "enabled" in message  # the tail of the server's log
    assert not server.running


def test_server_stops_when_the_process_that_started_it_dies(tmp_path):
    """A killed notebook kernel must not leave its model server behind."""
    script = (
        "from model_server import LocalModelServer\n"
        f"server = LocalModelServer(model_base_path={str(tmp_path / 'nothing')!r}, model_name='m').start(wait=False)\n"
        "print(server.process.pid, server.log_path, flush=True)\n"
        "import time; time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid, log_path = parent.stdout.readline().split()
    assert psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE  # the server runs
    parent.kill()  # as a kernel restart does: no atexit, no cleanup
    parent.wait(timeout=30)
    parent.stdout.close()
    deadline = time.monotonic() + 60
    try:
        while psutil.pid_exists(int(pid)) and psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the server outlived its parent"
            time.sleep(0.1)
    except psutil.NoSuchProcess:
        pass
    finally:
        Path(log_path).unlink(missing_ok=True)
