"""Dockerfile, docker-compose.yml and TF Serving's configs, checked without a Docker engine.

A typo in these files only shows up when a participant runs `docker compose up` at the workshop,
so each property is checked here: pinned images, ports on 127.0.0.1 only, mounts that exist,
configs that parse with TF Serving's own protobuf schemas. Every check is a function returning a
list of problems, so the tests can also feed it broken input and see it complain.
"""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from workshop_lib.config import REPO_ROOT
from workshop_lib.serving.configs import monitoring_config_class

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
SERVING_REST_PORT, SERVING_GRPC_PORT, LAB_PORT = 8501, 8500, 8888


# ---------------------------------------------------------------- parsing helpers


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction; comment lines dropped, `\\` continuations joined."""
    instructions, current = [], ""
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue  # Docker drops comment lines, even inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            keyword, _, args = current.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(args.split())))
        current = ""
    return instructions


def cmd_words(args: str) -> list[str]:
    """CMD/ENTRYPOINT arguments as words: JSON (exec) form or shell form."""
    return json.loads(args) if args.startswith("[") else args.split()


def copy_sources(args: str) -> list[str]:
    """The source paths of a COPY/ADD (flags such as --chown and the destination left out)."""
    words = [word for word in cmd_words(args) if not word.startswith("--")]
    return [word.rstrip("/") or "/" for word in words[:-1]]


def port_mapping(entry) -> tuple[str | None, int, int]:
    """(host IP, host port, container port) of a compose `ports` entry, short or long syntax."""
    if isinstance(entry, dict):
        return entry.get("host_ip"), int(entry.get("published", 0)), int(entry["target"])
    parts = str(entry).split("/")[0].split(":")  # "/tcp" or "/udp" does not matter here
    if len(parts) == 3:
        return parts[0], int(parts[1]), int(parts[2])
    if len(parts) == 2:
        return None, int(parts[0]), int(parts[1])
    return None, 0, int(parts[0])  # a bare container port: Docker picks a random host port


def environment(service: dict) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of KEY=value."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def bind_mount(container_path: str, volumes: list[str]) -> tuple[str, str] | None:
    """(host source, container target) of the volume that holds a path inside the container."""
    for volume in volumes:
        source, target = volume.split(":")[:2]
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return source, target
    return None


def container_to_host(container_path: str, volumes: list[str]) -> Path | None:
    """Where a path inside the container lives in the repo, through the service's bind mounts."""
    mount = bind_mount(container_path, volumes)
    if mount is None:
        return None
    source, target = mount
    return (REPO_ROOT / source / container_path[len(target):].lstrip("/")).resolve()


def command_flags(command) -> dict[str, str]:
    """`--name=value` words of a compose `command` (list or string) as {name: value}."""
    words = command.split() if isinstance(command, str) else command
    return dict(word[2:].split("=", 1) for word in words if word.startswith("--") and "=" in word)


def tensorflow_minor(requirements_text: str) -> str:
    """'2.20' from the `tensorflow==2.20.0` line of requirements.txt."""
    match = re.search(r"^tensorflow==(\d+\.\d+)\.", requirements_text, re.MULTILINE)
    assert match, "requirements.txt has no tensorflow==X.Y.Z line"
    return match[1]


def dockerfile_problems(text: str) -> list[str]:
    """What is wrong with a Dockerfile for this course (empty list: nothing)."""
    instructions = dockerfile_instructions(text)
    problems = []

    def first(predicate) -> int | None:
        """Index of the first instruction for which predicate(keyword, args) holds."""
        return next((i for i, (kw, args) in enumerate(instructions) if predicate(kw, args)), None)

    def copies(*names):  # `COPY . .` copies everything, so it counts too
        return lambda kw, args: kw in {"COPY", "ADD"} and bool({".", *names} & set(copy_sources(args)))

    def runs(pattern):
        return lambda kw, args: kw == "RUN" and re.search(pattern, args) is not None

    froms = [args.split() for kw, args in instructions if kw == "FROM"]
    image = next((word for word in froms[0] if not word.startswith("--")), "") if froms else ""
    if not re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?", image):
        problems.append(f"FROM {image!r}: want a pinned python:3.11.<patch>-slim image")

    users = [args.split(":")[0] for kw, args in instructions if kw == "USER"]
    if not users:
        problems.append("no USER: the lab would run as root")
    elif users[-1] in {"root", "0"}:
        problems.append(f"last USER is {users[-1]!r}: the lab would run as root")

    copy_requirements = first(copies("requirements.txt"))
    install_requirements = first(runs(r"pip install\b.*-r requirements\.txt"))
    copy_package = first(copies("workshop_lib", "./workshop_lib"))
    if copy_requirements is None or install_requirements is None:
        problems.append("requirements.txt is not copied and installed with pip install -r")
    elif copy_package is not None and max(copy_requirements, install_requirements) > copy_package:
        problems.append("requirements are installed after workshop_lib is copied: "
                        "every code change would re-install them")
    if copy_package is None or first(runs(r"pip install\b.*-e \.(\s|$)")) is None:
        problems.append("workshop_lib is not copied and installed with pip install -e .")

    if not any(kw == "HEALTHCHECK" and not args.upper().startswith("NONE") for kw, args in instructions):
        problems.append("no HEALTHCHECK")

    cmds = [cmd_words(args) for kw, args in instructions if kw == "CMD"]
    if not cmds or cmds[-1][:2] != ["jupyter", "lab"] or "--port=8888" not in cmds[-1]:
        problems.append(f"CMD {cmds[-1] if cmds else None} does not run `jupyter lab --port=8888`")

    kernel = [args for kw, args in instructions if kw == "RUN" and "ipykernel install" in args]
    if not kernel or "--env TF_CPP_MIN_LOG_LEVEL 3" not in kernel[0]:
        problems.append("the kernel is not registered with --env TF_CPP_MIN_LOG_LEVEL 3")
    return problems


def port_problems(compose: dict) -> list[str]:
    """Published ports that are not bound to 127.0.0.1 (they would be open to the whole network)."""
    problems = []
    for name, service in compose.get("services", {}).items():
        for entry in service.get("ports", []):
            host_ip, _, _ = port_mapping(entry)
            if host_ip != "127.0.0.1":
                problems.append(f"{name}: port {entry!r} is not bound to 127.0.0.1")
    return problems


def volume_problems(compose: dict) -> list[str]:
    """Bind-mount sources that do not exist in the repo (Docker would create empty root-owned dirs)."""
    problems = []
    for name, service in compose.get("services", {}).items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not (REPO_ROOT / source).exists():
                problems.append(f"{name}: volume source {source!r} does not exist in the repo")
    return problems


def lab_environment_problems(compose: dict) -> list[str]:
    """The lab must find the model server by service name and take its token from the environment."""
    env = environment(compose["services"]["lab"])
    problems = []
    url = urlsplit(env.get("TF_SERVING_URL", ""))
    if url.hostname != "serving" or url.port != SERVING_REST_PORT:
        problems.append(f"TF_SERVING_URL={env.get('TF_SERVING_URL')!r}: want host 'serving', port {SERVING_REST_PORT}")
    if not re.fullmatch(r"\$\{JUPYTER_TOKEN:-[^}]+\}", env.get("JUPYTER_TOKEN", "")):
        problems.append(f"JUPYTER_TOKEN={env.get('JUPYTER_TOKEN')!r}: want ${{JUPYTER_TOKEN:-<default>}}")
    return problems


def models_config_problems(text: str, mount_point: str = "/models") -> list[str]:
    """models.config: parses as a ModelServerConfig, serves 'wine' from under the mount, labels valid."""
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())  # raises on typos
    models = {model.name: model for model in config.model_config_list.config}
    if "wine" not in models:
        return [f"no model 'wine' (models: {sorted(models)})"]
    wine, problems = models["wine"], []
    if not wine.base_path.startswith(mount_point.rstrip("/") + "/"):
        problems.append(f"base_path {wine.base_path!r} is not under the mount point {mount_point}")
    versions = set(wine.model_version_policy.specific.versions)
    for label, version in wine.version_labels.items():
        if version not in versions:
            problems.append(f"label {label!r} -> {version}, which is not among the served "
                            f"versions {sorted(versions)}")
    return problems


def monitoring_config_problems(text: str) -> list[str]:
    """monitoring.config: parses as a MonitoringConfig and turns Prometheus on at the usual path."""
    prometheus = text_format.Parse(text, monitoring_config_class()()).prometheus_config
    if not prometheus.enable or prometheus.path != "/monitoring/prometheus/metrics":
        return [f"prometheus enable={prometheus.enable} path={prometheus.path!r}"]
    return []


# ---------------------------------------------------------------- the repository's files


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def published(service: dict) -> set[int]:
    return {port_mapping(entry)[2] for entry in service.get("ports", [])}


def test_compose_has_lab_and_serving(compose):
    assert "version" not in compose, "the top-level `version:` key is obsolete in Compose v2"
    assert {"lab", "serving"} <= set(compose["services"])


def test_serving_image_matches_the_tensorflow_pin(compose):
    """A SavedModel loads only in the same or a newer TensorFlow: keep the two minors equal."""
    minor = tensorflow_minor(REQUIREMENTS.read_text(encoding="utf-8"))
    image = compose["services"]["serving"]["image"]
    assert re.fullmatch(rf"tensorflow/serving:{re.escape(minor)}\.\d+", image), \
        f"{image} does not match tensorflow=={minor}.* in requirements.txt"


def test_ports_are_published_on_localhost_only(compose):
    assert port_problems(compose) == []
    assert LAB_PORT in published(compose["services"]["lab"])
    assert {SERVING_REST_PORT, SERVING_GRPC_PORT} <= published(compose["services"]["serving"])


def test_volume_sources_exist(compose):
    assert volume_problems(compose) == []


def test_serving_configs_exist_and_parse(compose):
    serving = compose["services"]["serving"]
    flags = command_flags(serving["command"])
    models_file = container_to_host(flags["model_config_file"], serving["volumes"])
    monitoring_file = container_to_host(flags["monitoring_config_file"], serving["volumes"])
    assert models_file is not None and models_file.is_file(), flags["model_config_file"]
    assert monitoring_file is not None and monitoring_file.is_file(), flags["monitoring_config_file"]
    mount_point = bind_mount(flags["model_config_file"], serving["volumes"])[1]
    assert models_config_problems(models_file.read_text(encoding="utf-8"), mount_point) == []
    assert monitoring_config_problems(monitoring_file.read_text(encoding="utf-8")) == []


def test_lab_reaches_serving_by_service_name(compose):
    assert lab_environment_problems(compose) == []
    assert SERVING_REST_PORT in published(compose["services"]["serving"])


def test_dockerfile():
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_dockerignore_excludes_the_venv():
    """A .venv in the build context would be sent to the builder: hundreds of MB for nothing."""
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert ".venv" in patterns


# ---------------------------------------------------------------- the checks fail on bad input

GOOD_DOCKERFILE = """\
FROM python:3.11.14-slim-bookworm
WORKDIR /app
COPY requirements.txt ./
RUN pip install \\
    -r requirements.txt
COPY pyproject.toml ./
COPY workshop_lib/ ./workshop_lib/
RUN pip install --no-deps -e .
RUN python -m ipykernel install --sys-prefix --name python3 --env TF_CPP_MIN_LOG_LEVEL 3
USER learner
HEALTHCHECK CMD python -c "print()"
CMD ["jupyter", "lab", "--port=8888"]
"""


def test_dockerfile_instructions_joins_continuations_and_skips_comments():
    text = "# a comment\nRUN apt-get update \\\n    # inside\n    && apt-get install git\n"
    assert dockerfile_instructions(text) == [("RUN", "apt-get update && apt-get install git")]


@pytest.mark.parametrize("change, complaint", [
    (("FROM python:3.11.14-slim-bookworm", "FROM python:latest"), "FROM"),
    (("FROM python:3.11.14-slim-bookworm", "FROM python:3.11-slim"), "FROM"),
    (("USER learner", "USER learner\nUSER root"), "root"),
    (("USER learner", "USER 0:0"), "root"),
    (("COPY workshop_lib/ ./workshop_lib/\n", ""), "pip install -e"),
    (("COPY requirements.txt ./\nRUN pip install \\\n    -r requirements.txt\n", ""), "requirements.txt"),
    (("COPY requirements.txt ./\n", "COPY . ./\n"), "after workshop_lib"),
    (("WORKDIR /app\n", "WORKDIR /app\nCOPY workshop_lib/ ./workshop_lib/\n"), "after workshop_lib"),
    (("HEALTHCHECK", "#HEALTHCHECK"), "HEALTHCHECK"),
    (('"--port=8888"', '"--port=9999"'), "jupyter lab"),
    ((" --env TF_CPP_MIN_LOG_LEVEL 3", ""), "TF_CPP_MIN_LOG_LEVEL"),
])
def test_dockerfile_problems_are_found(change, complaint):
    assert dockerfile_problems(GOOD_DOCKERFILE) == []
    problems = dockerfile_problems(GOOD_DOCKERFILE.replace(*change))
    assert any(complaint in problem for problem in problems), problems


def test_compose_problems_are_found():
    bad = yaml.safe_load("""
services:
  lab:
    ports: ["8888:8888", "0.0.0.0:8889:8889", "127.0.0.1:8890:8890"]
    volumes: ["./no-such-folder:/data"]
    environment: ["TF_SERVING_URL=http://localhost:8501", "JUPYTER_TOKEN=secret"]
""")
    assert len(port_problems(bad)) == 2
    assert volume_problems(bad) == ["lab: volume source './no-such-folder' does not exist in the repo"]
    assert len(lab_environment_problems(bad)) == 2


def test_serving_config_problems_are_found():
    good = 'model_config_list { config { name: "wine" base_path: "/models/wine" model_platform: "tensorflow" ' \
           'model_version_policy { specific { versions: 1 } } version_labels { key: "stable" value: 1 } } }'
    assert models_config_problems(good) == []
    with pytest.raises(text_format.ParseError):
        models_config_problems(good.replace("base_path", "basepath"))
    assert "not under the mount point" in models_config_problems(good.replace('"/models/wine"', '"/srv/wine"'))[0]
    assert "not among the served versions" in models_config_problems(good.replace("value: 1", "value: 3"))[0]
    assert "no model 'wine'" in models_config_problems(good.replace('"wine"', '"beer"'))[0]
    with pytest.raises(text_format.ParseError):
        monitoring_config_problems("prometheus_config { enabled: true }")
    assert monitoring_config_problems('prometheus_config { enable: false path: "/monitoring/prometheus/metrics" }')
