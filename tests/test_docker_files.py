"""Dockerfile, docker-compose.yml, the dev container and TF Serving's configs, checked without a Docker engine.

A typo in these files only shows up when a participant runs `docker compose up` (or opens the
course in VS Code or Codespaces) at the workshop, so each property is checked here: pinned images
of a supported Python, the lock installed with its hashes, ports on 127.0.0.1 only, mounts that
exist, docker-compose.yml valid against the Compose Specification's schema, a dev container that
agrees with the Dockerfile, configs that parse with TF Serving's own protobuf schemas, and module 06's
Prometheus and Grafana: pinned images, configs mounted read-only from monitoring/, scrape targets and
URLs that name compose services on ports they listen on (tests/test_monitoring_stack.py checks the
files themselves). Every check
is a function returning a list of problems, so the tests can also feed it broken input and see it
complain.
"""

import copy
import json
import posixpath
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from google.protobuf import text_format
from schemas import schema_check
from tensorflow_serving.config import model_server_config_pb2

from course import doctor
from model_server.configs import monitoring_config_class
from workshop_lib.config import REPO_ROOT
from workshop_lib.monitoring.series import (  # the scrape jobs of the contract with monitoring/
    MODEL_SERVER_JOB,
    MODEL_SERVER_METRICS_PATH,
    MONITORING_JOB,
    MONITORING_METRICS_PATH,
    MONITORING_PORT,
)

# The packages pyproject.toml installs; the image must copy each before `pip install -e .`.
COURSE_PACKAGES = ("workshop_lib", "model_server", "course")

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
DEVCONTAINER = REPO_ROOT / ".devcontainer" / "devcontainer.json"
JUPYTER_CONFIG_DIR = REPO_ROOT / "jupyter-config"
SERVING_REST_PORT, SERVING_GRPC_PORT, LAB_PORT = 8501, 8500, 8888
PROMETHEUS_PORT, GRAFANA_PORT = 9090, 3000
# Module 06's monitoring stack: services whose configs come from monitoring/, mounted read-only.
MONITORING_SERVICES = ("prometheus", "grafana")
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"


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


def dockerfile_last(text: str, keyword: str) -> str | None:
    """The arguments of the last instruction with this keyword (the one in force), or None."""
    found = [args for kw, args in dockerfile_instructions(text) if kw == keyword]
    return found[-1] if found else None


def dockerfile_env(text: str) -> dict[str, str]:
    """Every variable the Dockerfile's ENV instructions set: `ENV A=1 B="x y"` or the old `ENV A 1`."""
    env = {}
    for kw, args in dockerfile_instructions(text):
        if kw != "ENV":
            continue
        words = shlex.split(args)
        if words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
        else:
            env.update(word.split("=", 1) for word in words)
    return env


def dockerfile_python(text: str) -> tuple[int, int] | None:
    """(3, 13) from `FROM python:3.13.9-slim-trixie`; None when the first FROM is no pinned python image."""
    froms = [args.split() for kw, args in dockerfile_instructions(text) if kw == "FROM"]
    image = next((word for word in froms[0] if not word.startswith("--")), "") if froms else ""
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.\d+-slim(-[a-z]+)?", image)
    return (int(match[1]), int(match[2])) if match else None


def exposed_ports(text: str) -> set[int]:
    """The ports of the Dockerfile's EXPOSE instructions (`8888` or `8888/tcp`)."""
    return {
        int(word.split("/")[0]) for kw, args in dockerfile_instructions(text) if kw == "EXPOSE" for word in args.split()
    }


def dockerfile_user(text: str) -> str | None:
    """The user the container runs as: the last USER, without a :group."""
    user = dockerfile_last(text, "USER")
    return user.split(":")[0] if user else None


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
    return (REPO_ROOT / source / container_path[len(target) :].lstrip("/")).resolve()


def command_flags(command) -> dict[str, str]:
    """`--name=value` words of a compose `command` (list or string) as {name: value}."""
    words = command.split() if isinstance(command, str) else command
    return dict(word[2:].split("=", 1) for word in words if word.startswith("--") and "=" in word)


def tensorflow_minor(requirements_text: str) -> str:
    """'2.20' from the `tensorflow==2.20.0` line of requirements.txt."""
    match = re.search(r"^tensorflow==(\d+\.\d+)\.", requirements_text, re.MULTILINE)
    assert match, "requirements.txt has no tensorflow==X.Y.Z line"
    return match[1]


def dockerfile_problems(text: str, supported=doctor.SUPPORTED_PYTHONS) -> list[str]:
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
    python = dockerfile_python(text)
    if python is None:
        problems.append(f"FROM {image!r}: want a pinned python:3.<minor>.<patch>-slim image")
    elif python not in supported:
        problems.append(
            f"FROM {image!r}: Python {python[0]}.{python[1]} is not in doctor.SUPPORTED_PYTHONS "
            f"({doctor.SUPPORTED_RANGE})"
        )

    users = [args.split(":")[0] for kw, args in instructions if kw == "USER"]
    if not users:
        problems.append("no USER: the lab would run as root")
    elif users[-1] in {"root", "0"}:
        problems.append(f"last USER is {users[-1]!r}: the lab would run as root")

    def missing_flags(index: int, *flags: str) -> list[str]:
        words = instructions[index][1].split()
        return [flag for flag in flags if flag not in words]

    # Exactly what `make install` (tools/setup.sh) installs: the lock, every hash checked, no resolving.
    copy_lock = first(copies("requirements.lock"))
    install_lock = first(runs(r"pip install\b.*-r requirements\.lock"))
    copied = {package: first(copies(package, f"./{package}")) for package in COURSE_PACKAGES}
    copy_package = copied["workshop_lib"]
    if missing := [package for package, index in copied.items() if index is None and package != "workshop_lib"]:
        problems.append(f"{', '.join(missing)} not copied before pip install -e .: the editable install would miss it")
    if copy_lock is None or install_lock is None:
        problems.append("requirements.lock is not copied and installed with pip install -r requirements.lock")
    else:
        if missing := missing_flags(install_lock, "--require-hashes", "--no-deps"):
            problems.append(
                f"requirements.lock is installed without {' '.join(missing)}: "
                "the image would not hold exactly what the lock names"
            )
        if copy_package is not None and max(copy_lock, install_lock) > copy_package:
            problems.append(
                "requirements are installed after workshop_lib is copied: every code change would re-install them"
            )
    if first(runs(r"pip install\b.*-r requirements\.txt")) is not None:
        problems.append("requirements.txt is installed: pip would resolve on the day; install requirements.lock")
    install_package = first(runs(r"pip install\b.*-e \.(\s|$)"))
    if copy_package is None or install_package is None:
        problems.append("workshop_lib is not copied and installed with pip install -e .")
    elif missing := missing_flags(install_package, "--no-deps", "--no-build-isolation"):
        problems.append(f"pip install -e . without {' '.join(missing)}: it would fetch packages the lock does not pin")

    # The course's JupyterLab settings, read from the course folder (bind-mounted at WORKDIR).
    config_path = dockerfile_env(text).get("JUPYTER_CONFIG_PATH")
    want_config_path = f"{(dockerfile_last(text, 'WORKDIR') or '').rstrip('/')}/jupyter-config"
    if config_path != want_config_path:
        problems.append(
            f"ENV JUPYTER_CONFIG_PATH={config_path!r}: want {want_config_path!r} "
            "(the course's jupyter-config/ in the WORKDIR)"
        )

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
    """The lab must find the model server and Prometheus by service name and take its token from the environment."""
    env = environment(compose["services"]["lab"])
    problems = []
    url = urlsplit(env.get("TF_SERVING_URL", ""))
    if url.hostname != "serving" or url.port != SERVING_REST_PORT:
        problems.append(f"TF_SERVING_URL={env.get('TF_SERVING_URL')!r}: want host 'serving', port {SERVING_REST_PORT}")
    url = urlsplit(env.get("PROMETHEUS_URL", ""))
    if url.hostname != "prometheus" or url.port != PROMETHEUS_PORT:
        problems.append(f"PROMETHEUS_URL={env.get('PROMETHEUS_URL')!r}: want host 'prometheus', port {PROMETHEUS_PORT}")
    if not re.fullmatch(r"\$\{JUPYTER_TOKEN:-[^}]+\}", env.get("JUPYTER_TOKEN", "")):
        problems.append(f"JUPYTER_TOKEN={env.get('JUPYTER_TOKEN')!r}: want ${{JUPYTER_TOKEN:-<default>}}")
    return problems


PINNED_TAG = re.compile(r"v?\d+\.\d+\.\d+")


def image_problems(compose: dict) -> list[str]:
    """Images pulled from a registry must name a release (`v2.53.4`, `11.6.0`): no `latest`, no missing tag.

    An unpinned image changes under the course between the dry run and the workshop. A service that is
    built here (`build:`) names its own image and is exempt.
    """
    problems = []
    for name, service in compose.get("services", {}).items():
        image = service.get("image", "")
        if "build" in service or "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]  # a registry host may carry a port: registry:5000/prom/prometheus
        tag = last.partition(":")[2]
        if not PINNED_TAG.fullmatch(tag):
            problems.append(f"{name}: image {image!r} is not pinned to a release (want a tag such as v1.2.3)")
    return problems


def container_ports(service: dict) -> set[int]:
    """The ports a service listens on for the other services: its published container ports and `expose`."""
    exposed = {int(str(port).split("/")[0]) for port in service.get("expose", [])}
    return {port_mapping(entry)[2] for entry in service.get("ports", [])} | exposed


def readonly_problems(compose: dict, names=MONITORING_SERVICES) -> list[str]:
    """The monitoring services read their configs from the repo and must never write there."""
    problems = []
    for name in names:
        for volume in compose.get("services", {}).get(name, {}).get("volumes", []):
            options = volume.split(":")[2] if volume.count(":") >= 2 else ""
            if "ro" not in options.split(","):
                problems.append(f"{name}: volume {volume!r} is not mounted read-only (:ro)")
    return problems


def service_url_problems(compose: dict, where: str, url: str) -> list[str]:
    """A URL used inside compose must name a service and a port that service listens on."""
    services = compose.get("services", {})
    parts = urlsplit(url if "//" in url else f"//{url}")
    if parts.hostname not in services:
        return [f"{where}: {url!r} names no compose service (services: {sorted(services)})"]
    ports = container_ports(services[parts.hostname])
    if parts.port not in ports:
        return [
            f"{where}: {url!r}: {parts.hostname} listens on {sorted(ports)} (its ports and expose), not {parts.port}"
        ]
    return []


def scrape_target_problems(compose: dict, config: dict) -> list[str]:
    """Every target of a Prometheus config is `service:port` of a compose service, on a port it listens on."""
    problems = []
    for job in config.get("scrape_configs", []):
        for static in job.get("static_configs", []):
            for target in static.get("targets", []):
                problems += service_url_problems(compose, f"scrape job {job.get('job_name')}", target)
    return problems


def prometheus_config_file(compose: dict) -> tuple[str, Path | None]:
    """(the --config.file inside the container, where it is in the repo through the mounts, or None)."""
    service = compose.get("services", {}).get("prometheus", {})
    config_path = command_flags(service.get("command", [])).get("config.file", "")
    return config_path, container_to_host(config_path, service.get("volumes", [])) if config_path else None


def prometheus_problems(compose: dict) -> list[str]:
    """Prometheus reads the course's config (not the image's example) and its rule files through its mounts,
    and scrapes compose services on ports they listen on."""
    service = compose.get("services", {}).get("prometheus")
    if service is None:
        return ["no prometheus service"]
    problems = []
    if PROMETHEUS_PORT not in container_ports(service):
        problems.append(f"prometheus: port {PROMETHEUS_PORT} is not published")
    config_path, host_file = prometheus_config_file(compose)
    if host_file is None or not host_file.is_file():
        return [*problems, f"prometheus: --config.file={config_path!r} is no file of the repo through its volumes"]
    config = yaml.safe_load(host_file.read_text(encoding="utf-8"))
    for rule_file in config.get("rule_files", []):  # relative paths are relative to the config file
        in_container = posixpath.join(posixpath.dirname(config_path), rule_file)
        on_host = container_to_host(in_container, service.get("volumes", []))
        if on_host is None or not on_host.is_file():
            problems.append(f"prometheus: rule file {rule_file!r} ({in_container}) is no file of the repo")
    return problems + scrape_target_problems(compose, config)


def grafana_problems(compose: dict) -> list[str]:
    """Grafana's data sources and dashboards are provisioned from the repo, the data source is a compose
    service, the dashboards' folder and the home dashboard exist, and nobody anonymous may edit."""
    service = compose.get("services", {}).get("grafana")
    if service is None:
        return ["no grafana service"]
    volumes, env, problems = service.get("volumes", []), environment(service), []
    if GRAFANA_PORT not in container_ports(service):
        problems.append(f"grafana: port {GRAFANA_PORT} is not published")
    provisioned = {}
    for kind in ("datasources", "dashboards"):
        folder = container_to_host(f"{GRAFANA_PROVISIONING}/{kind}", volumes)
        files = sorted(folder.glob("*.y*ml")) if folder is not None and folder.is_dir() else []
        if not files:
            problems.append(f"grafana: no provisioning file reaches {GRAFANA_PROVISIONING}/{kind}")
        provisioned[kind] = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in files]
    for config in provisioned["datasources"]:
        for source in config.get("datasources", []):
            problems += service_url_problems(
                compose, f"grafana data source {source.get('name')}", source.get("url", "")
            )
    for config in provisioned["dashboards"]:
        for provider in config.get("providers", []):
            path = provider.get("options", {}).get("path", "")
            folder = container_to_host(path, volumes) if path else None
            if folder is None or not any(folder.glob("*.json")):
                problems.append(f"grafana: dashboard provider {provider.get('name')!r}: no dashboards at {path!r}")
    home = env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home and not ((found := container_to_host(home, volumes)) and found.is_file()):
        problems.append(f"grafana: GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH={home!r} is no file of the repo")
    if (
        env.get("GF_AUTH_ANONYMOUS_ENABLED", "false").lower() == "true"
        and env.get("GF_AUTH_ANONYMOUS_ORG_ROLE") != "Viewer"
    ):
        problems.append(f"grafana: anonymous users get role {env.get('GF_AUTH_ANONYMOUS_ORG_ROLE')!r}, want Viewer")
    if not re.fullmatch(r"\$\{[A-Z_]+:-[^}]+\}", env.get("GF_SECURITY_ADMIN_PASSWORD", "")):
        problems.append(
            f"grafana: GF_SECURITY_ADMIN_PASSWORD={env.get('GF_SECURITY_ADMIN_PASSWORD')!r}: "
            "want ${VARIABLE:-<documented default>}"
        )
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
            problems.append(f"label {label!r} -> {version}, which is not among the served versions {sorted(versions)}")
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
    assert re.fullmatch(rf"tensorflow/serving:{re.escape(minor)}\.\d+", image), (
        f"{image} does not match tensorflow=={minor}.* in requirements.txt"
    )


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


def test_compose_has_the_monitoring_stack(compose):
    assert set(MONITORING_SERVICES) <= set(compose["services"])
    assert {PROMETHEUS_PORT} <= published(compose["services"]["prometheus"])
    assert {GRAFANA_PORT} <= published(compose["services"]["grafana"])


def test_images_are_pinned(compose):
    assert image_problems(compose) == []


def test_monitoring_configs_are_mounted_read_only(compose):
    assert readonly_problems(compose) == []


def test_prometheus_reads_the_course_config_and_scrapes_compose_services(compose):
    assert prometheus_problems(compose) == []
    assert prometheus_config_file(compose)[1] == (REPO_ROOT / "monitoring" / "prometheus.yml").resolve()


def test_prometheus_scrapes_the_model_server_and_the_monitoring_job(compose):
    """The scrape jobs of the contract with the monitoring code: the model server's REST port, on the path
    models/monitoring.config turns on; the lab's monitoring job, on the port the lab exposes."""
    config = yaml.safe_load(prometheus_config_file(compose)[1].read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {MODEL_SERVER_JOB, MONITORING_JOB}

    serving = compose["services"]["serving"]
    monitoring_file = container_to_host(command_flags(serving["command"])["monitoring_config_file"], serving["volumes"])
    prometheus_path = text_format.Parse(
        monitoring_file.read_text(encoding="utf-8"), monitoring_config_class()()
    ).prometheus_config.path
    model_server = jobs[MODEL_SERVER_JOB]
    assert model_server["metrics_path"] == prometheus_path == MODEL_SERVER_METRICS_PATH
    assert [t for static in model_server["static_configs"] for t in static["targets"]] == [
        f"serving:{SERVING_REST_PORT}"
    ]

    job = jobs[MONITORING_JOB]
    assert job["metrics_path"] == MONITORING_METRICS_PATH
    assert [t for static in job["static_configs"] for t in static["targets"]] == [f"lab:{MONITORING_PORT}"]
    assert MONITORING_PORT in container_ports(compose["services"]["lab"])


def test_grafana_is_provisioned_from_the_repo(compose):
    assert grafana_problems(compose) == []


def test_dockerfile():
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_dockerignore_excludes_the_venv():
    """A .venv in the build context would be sent to the builder: hundreds of MB for nothing."""
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert ".venv" in patterns


def test_dockerignore_keeps_what_the_image_copies():
    """The lock and the package's files must reach the builder, or `docker build` stops at COPY."""
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    sources = {
        source
        for kw, args in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
        if kw == "COPY"
        for source in copy_sources(args)
    }
    assert "requirements.lock" in sources
    assert not sources & patterns, f"{sorted(sources & patterns)} are copied but excluded by .dockerignore"


def test_dockerfile_installs_the_lock_with_hashes():
    """The image holds what `make install` installs: requirements.lock, every hash checked."""
    runs = [args for kw, args in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")) if kw == "RUN"]
    installs = [args.split() for args in runs if re.search(r"pip install\b.*-r requirements\.lock", args)]
    assert len(installs) == 1, runs
    assert {"--require-hashes", "--no-deps"} <= set(installs[0])
    assert not any("requirements.txt" in args for args in runs)


def test_dockerfile_python_is_supported():
    python = dockerfile_python(DOCKERFILE.read_text(encoding="utf-8"))
    assert python is not None, "FROM is not a pinned python:3.<minor>.<patch>-slim image"
    assert python in doctor.SUPPORTED_PYTHONS, (
        f"the image's Python {python[0]}.{python[1]} is not one of doctor.SUPPORTED_PYTHONS ({doctor.SUPPORTED_RANGE})"
    )


def test_jupyter_config_path_is_the_course_settings(compose):
    """In the container JUPYTER_CONFIG_PATH reaches the repo's jupyter-config/ through the bind mount."""
    config_path = dockerfile_env(DOCKERFILE.read_text(encoding="utf-8"))["JUPYTER_CONFIG_PATH"]
    assert container_to_host(config_path, compose["services"]["lab"]["volumes"]) == JUPYTER_CONFIG_DIR.resolve()
    assert (JUPYTER_CONFIG_DIR / "jupyter_server_config.json").is_file()
    assert (JUPYTER_CONFIG_DIR / "labconfig" / "default_setting_overrides.json").is_file()


def test_compose_file_follows_the_compose_spec():
    status, output = schema_check("vendor.compose-spec", COMPOSE_FILE)
    assert status == 0, output


def test_compose_spec_check_rejects_a_broken_file(tmp_path):
    """Not vacuous: a misspelled service key (`port:`) is an error for the same check."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace("    ports:", "    port:", 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    status, output = schema_check("vendor.compose-spec", broken)
    assert status == 1, output
    assert "'port' was unexpected" in output, output


# ---------------------------------------------------------------- the dev container (VS Code, Codespaces)


def mount_options(spec: str) -> dict[str, str]:
    """`source=a,target=b,type=bind` (a --mount string, as devcontainer.json's workspaceMount) as a dict."""
    aliases = {"src": "source", "destination": "target", "dst": "target"}
    options = dict(item.split("=", 1) for item in spec.split(",") if "=" in item)
    return {aliases.get(key, key): value for key, value in options.items()}


def devcontainer_problems(config: dict, dockerfile_text: str, config_dir: Path = DEVCONTAINER.parent) -> list[str]:
    """What is wrong with a devcontainer.json for this course, given the Dockerfile (empty list: nothing)."""
    problems = []
    build = config.get("build", {})
    # Both paths are relative to the folder devcontainer.json is in.
    dockerfile = (config_dir / build.get("dockerfile", "Dockerfile")).resolve()
    context = (config_dir / build.get("context", ".")).resolve()
    if dockerfile != DOCKERFILE.resolve():
        problems.append(f"build.dockerfile {build.get('dockerfile')!r} is {dockerfile}, not the course's Dockerfile")
    if context != REPO_ROOT.resolve():
        problems.append(f"build.context {build.get('context')!r} is {context}, not the repo's root")

    forwarded = {int(str(port).rsplit(":", 1)[-1]) for port in config.get("forwardPorts", [])}
    if LAB_PORT not in forwarded:
        problems.append(f"forwardPorts {sorted(forwarded)} lacks JupyterLab's {LAB_PORT}")
    if LAB_PORT not in exposed_ports(dockerfile_text):
        problems.append(f"the Dockerfile does not EXPOSE {LAB_PORT}, the port the dev container forwards")
    label = config.get("portsAttributes", {}).get(str(LAB_PORT), {}).get("label")
    if label != "JupyterLab":
        problems.append(f"portsAttributes for {LAB_PORT}: label {label!r}, want 'JupyterLab'")

    workdir = dockerfile_last(dockerfile_text, "WORKDIR")
    if config.get("workspaceFolder") != workdir:
        problems.append(
            f"workspaceFolder {config.get('workspaceFolder')!r} is not the Dockerfile's WORKDIR {workdir!r}"
        )
    mount = mount_options(config.get("workspaceMount", ""))
    if (mount.get("type"), mount.get("source"), mount.get("target")) != ("bind", "${localWorkspaceFolder}", workdir):
        problems.append(
            f"workspaceMount {config.get('workspaceMount')!r}: want a bind mount of "
            f"${{localWorkspaceFolder}} at {workdir}"
        )

    user = dockerfile_user(dockerfile_text)
    if config.get("remoteUser") != user:
        problems.append(f"remoteUser {config.get('remoteUser')!r} is not the Dockerfile's USER {user!r}")
    token = config.get("containerEnv", {}).get("JUPYTER_TOKEN")
    if token != dockerfile_env(dockerfile_text).get("JUPYTER_TOKEN", "workshop"):
        problems.append(f"containerEnv JUPYTER_TOKEN={token!r}: want the workshop's documented token")
    # VS Code otherwise replaces the image's CMD (jupyter lab) with a sleep loop: nothing on 8888.
    if config.get("overrideCommand") is not False:
        problems.append(f"overrideCommand {config.get('overrideCommand')!r}: want false, so the CMD starts JupyterLab")
    extensions = config.get("customizations", {}).get("vscode", {}).get("extensions", [])
    if "ms-python.python" not in extensions:
        problems.append(f"customizations.vscode.extensions {extensions} lacks the Python extension ms-python.python")
    return problems


@pytest.fixture(scope="module")
def devcontainer() -> dict:
    return json.loads(DEVCONTAINER.read_text(encoding="utf-8"))  # plain JSON: a comment would fail here


def test_devcontainer_agrees_with_the_dockerfile(devcontainer):
    assert devcontainer_problems(devcontainer, DOCKERFILE.read_text(encoding="utf-8")) == []


def test_devcontainer_mounts_the_course_where_compose_does(devcontainer, compose):
    """VS Code and `docker compose up` both put the repo where the image's editable install points."""
    target = mount_options(devcontainer["workspaceMount"])["target"]
    source, _ = bind_mount(target, compose["services"]["lab"]["volumes"])
    assert (REPO_ROOT / source).resolve() == REPO_ROOT.resolve()
    assert target == devcontainer["workspaceFolder"]


# ---------------------------------------------------------------- the checks fail on bad input

GOOD_DOCKERFILE = """\
FROM python:3.13.9-slim-trixie
ENV JUPYTER_TOKEN=workshop \\
    JUPYTER_CONFIG_PATH=/home/learner/course/jupyter-config
WORKDIR /home/learner/course
COPY requirements.lock ./
RUN pip install --require-hashes \\
    --no-deps -r requirements.lock
COPY pyproject.toml ./
COPY workshop_lib/ ./workshop_lib/
COPY model_server/ ./model_server/
COPY course/ ./course/
RUN pip install --no-deps --no-build-isolation -e .
RUN python -m ipykernel install --sys-prefix --name python3 --env TF_CPP_MIN_LOG_LEVEL 3
USER learner
EXPOSE 8888/tcp
HEALTHCHECK CMD python -c "print()"
CMD ["jupyter", "lab", "--port=8888"]
"""


def test_dockerfile_instructions_joins_continuations_and_skips_comments():
    text = "# a comment\nRUN apt-get update \\\n    # inside\n    && apt-get install git\n"
    assert dockerfile_instructions(text) == [("RUN", "apt-get update && apt-get install git")]


def test_dockerfile_helpers_read_env_python_ports_and_user():
    assert dockerfile_env(GOOD_DOCKERFILE)["JUPYTER_CONFIG_PATH"] == "/home/learner/course/jupyter-config"
    assert dockerfile_env('ENV A=1 B="two words"\nENV C 3 4\n') == {"A": "1", "B": "two words", "C": "3 4"}
    assert dockerfile_python(GOOD_DOCKERFILE) == (3, 13)
    assert dockerfile_python("FROM python:3.13-slim\n") is None
    assert exposed_ports(GOOD_DOCKERFILE) == {8888}
    assert dockerfile_user("USER learner:learner\n") == "learner"


@pytest.mark.parametrize(
    "change, complaint",
    [
        (("FROM python:3.13.9-slim-trixie", "FROM python:latest"), "FROM"),
        (("FROM python:3.13.9-slim-trixie", "FROM python:3.13-slim"), "FROM"),
        (("FROM python:3.13.9-slim-trixie", "FROM python:3.14.0-slim-trixie"), "SUPPORTED_PYTHONS"),
        (("FROM python:3.13.9-slim-trixie", "FROM python:3.10.19-slim-bookworm"), "SUPPORTED_PYTHONS"),
        (("USER learner", "USER learner\nUSER root"), "root"),
        (("USER learner", "USER 0:0"), "root"),
        (("COPY workshop_lib/ ./workshop_lib/\n", ""), "pip install -e"),
        (("COPY model_server/ ./model_server/\n", ""), "model_server not copied"),
        (("--no-deps --no-build-isolation -e .", "--no-deps -e ."), "--no-build-isolation"),
        (("--no-deps --no-build-isolation -e .", "--no-build-isolation -e ."), "--no-deps"),
        (
            (
                "COPY requirements.lock ./\nRUN pip install --require-hashes \\\n    --no-deps -r requirements.lock\n",
                "",
            ),
            "requirements.lock is not copied",
        ),
        (
            (
                "COPY requirements.lock ./\nRUN pip install --require-hashes \\\n    --no-deps -r requirements.lock\n",
                "COPY requirements.txt ./\nRUN pip install -r requirements.txt\n",
            ),
            "requirements.txt is installed",
        ),
        (("RUN pip install --require-hashes \\\n", "RUN pip install \\\n"), "--require-hashes"),
        (("    --no-deps -r requirements.lock", "    -r requirements.lock"), "--no-deps"),
        (("COPY requirements.lock ./\n", "COPY . ./\n"), "after workshop_lib"),
        (
            ("WORKDIR /home/learner/course\n", "WORKDIR /home/learner/course\nCOPY workshop_lib/ ./workshop_lib/\n"),
            "after workshop_lib",
        ),
        (
            ("JUPYTER_CONFIG_PATH=/home/learner/course/jupyter-config", "JUPYTER_CONFIG_PATH=/etc/jupyter"),
            "JUPYTER_CONFIG_PATH",
        ),
        ((" \\\n    JUPYTER_CONFIG_PATH=/home/learner/course/jupyter-config", ""), "JUPYTER_CONFIG_PATH"),
        (("HEALTHCHECK", "#HEALTHCHECK"), "HEALTHCHECK"),
        (('"--port=8888"', '"--port=9999"'), "jupyter lab"),
        ((" --env TF_CPP_MIN_LOG_LEVEL 3", ""), "TF_CPP_MIN_LOG_LEVEL"),
    ],
)
def test_dockerfile_problems_are_found(change, complaint):
    assert dockerfile_problems(GOOD_DOCKERFILE) == []
    assert change[0] in GOOD_DOCKERFILE, change
    problems = dockerfile_problems(GOOD_DOCKERFILE.replace(*change))
    assert any(complaint in problem for problem in problems), problems


GOOD_DEVCONTAINER = {
    "build": {"dockerfile": "../Dockerfile", "context": ".."},
    "workspaceFolder": "/home/learner/course",
    "workspaceMount": "source=${localWorkspaceFolder},target=/home/learner/course,type=bind",
    "overrideCommand": False,
    "remoteUser": "learner",
    "containerEnv": {"JUPYTER_TOKEN": "workshop"},
    "forwardPorts": [8888],
    "portsAttributes": {"8888": {"label": "JupyterLab"}},
    "customizations": {"vscode": {"extensions": ["ms-python.python"]}},
}


def test_mount_options_reads_a_mount_string():
    assert mount_options("src=/a,dst=/b,type=bind,consistency=cached") == {
        "source": "/a",
        "target": "/b",
        "type": "bind",
        "consistency": "cached",
    }


@pytest.mark.parametrize(
    "key, value, complaint",
    [
        ("build", {"dockerfile": "Dockerfile", "context": ".."}, "build.dockerfile"),
        ("build", {"dockerfile": "../Dockerfile", "context": "."}, "build.context"),
        ("forwardPorts", [8889], "forwardPorts"),
        ("forwardPorts", None, "forwardPorts"),
        ("portsAttributes", {"8888": {"label": "Jupyter"}}, "label"),
        ("workspaceFolder", "/workspaces/course", "WORKDIR"),
        ("workspaceMount", "source=${localWorkspaceFolder},target=/workspaces/course,type=bind", "workspaceMount"),
        ("workspaceMount", "source=course-volume,target=/home/learner/course,type=volume", "workspaceMount"),
        ("remoteUser", "root", "USER"),
        ("remoteUser", None, "USER"),
        ("containerEnv", {}, "JUPYTER_TOKEN"),
        ("overrideCommand", True, "overrideCommand"),
        ("overrideCommand", None, "overrideCommand"),
        ("customizations", {"vscode": {"extensions": ["ms-toolsai.jupyter"]}}, "ms-python.python"),
    ],
)
def test_devcontainer_problems_are_found(key, value, complaint):
    assert devcontainer_problems(GOOD_DEVCONTAINER, GOOD_DOCKERFILE) == []
    bad = copy.deepcopy(GOOD_DEVCONTAINER)
    if value is None:
        del bad[key]
    else:
        bad[key] = value
    problems = devcontainer_problems(bad, GOOD_DOCKERFILE)
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize(
    "change, complaint",
    [
        (("EXPOSE 8888/tcp\n", ""), "EXPOSE"),
        (("WORKDIR /home/learner/course\n", "WORKDIR /srv/course\n"), "WORKDIR"),
        (("USER learner\n", "USER jovyan\n"), "USER"),
    ],
)
def test_devcontainer_problems_follow_the_dockerfile(change, complaint):
    problems = devcontainer_problems(GOOD_DEVCONTAINER, GOOD_DOCKERFILE.replace(*change))
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
    assert len(lab_environment_problems(bad)) == 3  # TF_SERVING_URL, PROMETHEUS_URL missing, JUPYTER_TOKEN


def _set(path: str, value):
    """A change to a copy of the compose file: the value at a path like `services.grafana.image` (None: removed)."""

    def change(compose: dict) -> None:
        *parents, key = path.split(".")
        node = compose
        for parent in parents:
            node = node[parent]
        if value is None:
            del node[key]
        else:
            node[key] = value

    return change


@pytest.mark.parametrize(
    "change, check, complaint",
    [
        (_set("services.prometheus.image", "prom/prometheus:latest"), image_problems, "not pinned"),
        (_set("services.grafana.image", "grafana/grafana"), image_problems, "not pinned"),
        (_set("services.grafana.image", "grafana/grafana:11"), image_problems, "not pinned"),
        (_set("services.prometheus.volumes", ["./monitoring:/etc/prometheus/course"]), readonly_problems, ":ro"),
        (
            _set("services.prometheus.command", ["--config.file=/etc/prometheus/prometheus.yml"]),
            prometheus_problems,
            "no file of the repo",
        ),
        (
            _set(
                "services.prometheus.volumes",
                ["./monitoring/prometheus.yml:/etc/prometheus/course/prometheus.yml:ro"],
            ),
            prometheus_problems,
            "rule file 'alerts.yml'",
        ),
        (_set("services.lab.expose", None), prometheus_problems, "lab listens on [8888]"),
        (_set("services.serving.ports", ["127.0.0.1:8500:8500"]), prometheus_problems, "serving listens on [8500]"),
        (
            _set("services.lab.environment.PROMETHEUS_URL", "http://localhost:9090"),
            lab_environment_problems,
            "PROMETHEUS",
        ),
        (_set("services.grafana.environment.GF_AUTH_ANONYMOUS_ORG_ROLE", "Editor"), grafana_problems, "Viewer"),
        (_set("services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD", "admin"), grafana_problems, "PASSWORD"),
        (_set("services.grafana.volumes", []), grafana_problems, "no provisioning file"),
        (
            _set(
                "services.grafana.volumes",
                [
                    "./monitoring/grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro",
                    "./monitoring/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro",
                ],
            ),
            grafana_problems,
            "no dashboards",
        ),
        (_set("services.prometheus", None), grafana_problems, "names no compose service"),
    ],
)
def test_monitoring_stack_problems_are_found(compose, change, check, complaint):
    assert check(compose) == []
    bad = copy.deepcopy(compose)
    change(bad)
    problems = check(bad)
    assert any(complaint in problem for problem in problems), problems


def test_a_local_prometheus_config_does_not_fit_compose(compose):
    """Not vacuous: prometheus-local.yml's targets (127.0.0.1) name no compose service."""
    config = yaml.safe_load((REPO_ROOT / "monitoring" / "prometheus-local.yml").read_text(encoding="utf-8"))
    problems = scrape_target_problems(compose, config)
    assert len(problems) == 2 and all("names no compose service" in problem for problem in problems), problems


def test_serving_config_problems_are_found():
    good = (
        'model_config_list { config { name: "wine" base_path: "/models/wine" model_platform: "tensorflow" '
        'model_version_policy { specific { versions: 1 } } version_labels { key: "stable" value: 1 } } }'
    )
    assert models_config_problems(good) == []
    with pytest.raises(text_format.ParseError):
        models_config_problems(good.replace("base_path", "basepath"))
    assert "not under the mount point" in models_config_problems(good.replace('"/models/wine"', '"/srv/wine"'))[0]
    assert "not among the served versions" in models_config_problems(good.replace("value: 1", "value: 3"))[0]
    assert "no model 'wine'" in models_config_problems(good.replace('"wine"', '"beer"'))[0]
    with pytest.raises(text_format.ParseError):
        monitoring_config_problems("prometheus_config { enabled: true }")
    assert monitoring_config_problems('prometheus_config { enable: false path: "/monitoring/prometheus/metrics" }')
