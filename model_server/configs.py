"""TF Serving's configuration files and command-line flags, read with TF Serving's own schemas.

models.config is a ModelServerConfig and monitoring.config a MonitoringConfig, both in protobuf text
format. Parsing them with the real message classes means a typo fails here exactly as it would in
tensorflow_model_server, so the local server and the Docker one accept the same files.
This module imports protobuf only (no TensorFlow), so the notebook helper can use it cheaply.
"""

import argparse
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import Message
from tensorflow_serving.config import model_server_config_pb2

ModelServerConfig = model_server_config_pb2.ModelServerConfig
DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"  # PrometheusExporter::kPrometheusPath


def monitoring_config_class() -> type[Message]:
    """TF Serving's MonitoringConfig message class.

    tensorflow-serving-api does not ship monitoring_config_pb2, so the schema of
    tensorflow_serving/config/monitoring_config.proto (two small messages) is rebuilt here;
    text_format then rejects any field the real schema does not define.
    """
    try:
        from tensorflow_serving.config import monitoring_config_pb2

        return monitoring_config_pb2.MonitoringConfig
    except ImportError:
        pass
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/config/monitoring_config.proto", package="tensorflow.serving", syntax="proto3"
    )
    prometheus = proto.message_type.add(name="PrometheusConfig")
    prometheus.field.add(name="enable", number=1, type=field.TYPE_BOOL, label=field.LABEL_OPTIONAL)
    prometheus.field.add(name="path", number=2, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    monitoring = proto.message_type.add(name="MonitoringConfig")
    monitoring.field.add(
        name="prometheus_config",
        number=1,
        type=field.TYPE_MESSAGE,
        type_name=".tensorflow.serving.PrometheusConfig",
        label=field.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()  # a private pool: no clash if TF registers the real one
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.serving.MonitoringConfig"))


def parse_model_config(text: str) -> ModelServerConfig:
    """A models.config text as a ModelServerConfig (raises text_format.ParseError on a typo)."""
    return text_format.Parse(text, ModelServerConfig())


def read_model_config(path: str | Path) -> ModelServerConfig:
    return parse_model_config(Path(path).read_text(encoding="utf-8"))


def single_model_config(name: str, base_path: str) -> ModelServerConfig:
    """What --model_name/--model_base_path mean: one model, latest version (BuildSingleModelConfig)."""
    config = ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name, model.base_path, model.model_platform = name, base_path, "tensorflow"
    return config


def read_monitoring_config(path: str | Path) -> Message:
    """A monitoring.config file as a MonitoringConfig message."""
    return text_format.Parse(Path(path).read_text(encoding="utf-8"), monitoring_config_class()())


def prometheus_path(monitoring_config: Message | None) -> str | None:
    """The metrics path, or None when Prometheus is off (TF Serving's default: off)."""
    if monitoring_config is None or not monitoring_config.prometheus_config.enable:
        return None
    return monitoring_config.prometheus_config.path or DEFAULT_PROMETHEUS_PATH


def map_volumes(config: ModelServerConfig, volumes: dict[str, str]) -> ModelServerConfig:
    """Rewrite base paths that lie under a container path to the host folder mounted there.

    docker-compose mounts ./models at /models, so models.config says /models/wine; the local server
    reads the same file and, given the same mount (--volume=./models:/models), finds ./models/wine.
    """
    mapped = ModelServerConfig()
    mapped.CopyFrom(config)
    for model in mapped.model_config_list.config:
        for host, container in volumes.items():
            container = container.rstrip("/")
            if model.base_path == container or model.base_path.startswith(container + "/"):
                model.base_path = str(Path(host).resolve()) + model.base_path[len(container) :]
                break
    return mapped


def _bool(text: str) -> bool:
    """TF Serving's flag syntax for booleans: --flag, --flag=true, --flag=false."""
    value = str(text).lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _volume(text: str) -> tuple[str, str]:
    host, sep, container = text.rpartition(":")
    if not sep or not host or not container.startswith("/"):
        raise argparse.ArgumentTypeError(f"expected HOST_DIR:/container/path, got {text!r}")
    return host, container


def build_parser() -> argparse.ArgumentParser:
    """The flags of tensorflow_model_server that this server honours, with the same defaults."""
    parser = argparse.ArgumentParser(
        prog="python -m model_server",
        description="A local model server that speaks TensorFlow Serving's REST and gRPC API "
        "(same flags, model directories and config files as tensorflow_model_server).",
        allow_abbrev=False,
    )
    flag = parser.add_argument
    flag("--port", type=int, default=8500, help="gRPC port (default 8500; 0 turns gRPC off)")
    flag("--rest_api_port", type=int, default=0, help="REST port (default 0: REST off, as in TF Serving)")
    flag("--model_name", default="default", help="name of the model (ignored with --model_config_file)")
    flag("--model_base_path", default="", help="folder holding the numbered version folders of the model")
    flag("--model_config_file", default="", help="models.config: a ModelServerConfig in protobuf text format")
    flag(
        "--model_config_file_poll_wait_seconds",
        type=int,
        default=0,
        help="re-read --model_config_file every N seconds (default 0: read once)",
    )
    flag(
        "--file_system_poll_wait_seconds",
        type=int,
        default=1,
        help="look for new version folders every N seconds (default 1; 0: only at start-up)",
    )
    flag("--monitoring_config_file", default="", help="monitoring.config: a MonitoringConfig (Prometheus metrics)")
    flag(
        "--allow_version_labels_for_unavailable_models",
        type=_bool,
        nargs="?",
        const=True,
        default=False,
        help="accepted for compatibility: labels may always name versions that are not loaded yet",
    )
    flag("--saved_model_tags", default="serve", help="comma-separated MetaGraph tags to load (default serve)")
    for name in ("enable_batching", "flush_filesystem_caches", "enable_model_warmup"):
        flag(f"--{name}", type=_bool, nargs="?", const=True, default=False, help="accepted and ignored")
    for name in (
        "rest_api_num_threads",
        "rest_api_timeout_in_ms",
        "tensorflow_session_parallelism",
        "tensorflow_intra_op_parallelism",
        "tensorflow_inter_op_parallelism",
        "max_num_load_retries",
    ):
        flag(f"--{name}", type=int, default=None, help="accepted and ignored")
    # Not TF Serving flags: what `docker run -p 127.0.0.1:...` and `-v ./models:/models` do for the container.
    flag(
        "--host",
        default="127.0.0.1",
        help="address to listen on (not a TF Serving flag; default 127.0.0.1: this machine only)",
    )
    flag(
        "--volume",
        type=_volume,
        action="append",
        default=[],
        metavar="HOST_DIR:CONTAINER_DIR",
        help="read base paths under CONTAINER_DIR from HOST_DIR, like docker's -v (not a TF Serving flag)",
    )
    return parser


def server_config(args: argparse.Namespace) -> ModelServerConfig:
    """The ModelServerConfig the flags describe, with --volume mappings applied."""
    if args.model_config_file:
        config = read_model_config(args.model_config_file)
    elif args.model_base_path:
        config = single_model_config(args.model_name, args.model_base_path)
    else:
        raise ValueError("give --model_base_path (with --model_name) or --model_config_file")
    return map_volumes(config, dict(args.volume))
