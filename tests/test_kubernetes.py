"""deploy/kubernetes/: the wine model's TF Serving on Kubernetes, checked without a cluster or the network.

Two kinds of checks. Every manifest validates against the JSON schemas of Kubernetes KUBERNETES_VERSION, strict
(an unknown field is an error, as `kubectl apply --validate=strict` makes it), with kubernetes-validate, which
bundles the schemas per Kubernetes version (pinned in requirements.txt). And the course's own consistency: the
image, flags and ports of docker-compose.yml's `serving` service, the configs of models/ byte for byte, the
model name and base path of models.config, the probes, labels and selectors, the init container's pins, and each
region differing from the base only where a region should.

kubectl's kustomize is not needed: render() builds the same objects for the subset of kustomize the folder uses
(resources, namespace, and patches that are partial resources of mappings and scalars; anything else is refused,
so the two cannot drift apart silently). Every check is a function returning a list of problems, and each is
also fed a copy with a planted mistake, to show it is not vacuous.
"""

import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2
from test_docker_files import COMPOSE_FILE, command_flags, models_config_problems, port_mapping

from workshop_lib.config import REPO_ROOT
from workshop_lib.monitoring.series import MODEL_SERVER_METRICS_PATH

KUBERNETES_VERSION = "1.34.0"  # the schemas every manifest must pass (a version the managed clouds offered in 2026)
DEPLOY_DIR = REPO_ROOT / "deploy" / "kubernetes"
BASE = DEPLOY_DIR / "base"
REGIONS = sorted(path.parent for path in (DEPLOY_DIR / "regions").glob("*/kustomization.yaml"))
VARIANTS = [BASE, *REGIONS]
MODELS_CONFIG = REPO_ROOT / "models" / "models.config"
MONITORING_CONFIG = REPO_ROOT / "models" / "monitoring.config"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
DOCKERFILE = REPO_ROOT / "Dockerfile"
NAME = "wine-serving"  # the Deployment, Service, HPA and ConfigMap (wine-serving-config)
CONFIG_MAP = "wine-serving-config"
SERVING_CONTAINER, INIT_CONTAINER = "tensorflow-serving", "pull-models"
KUSTOMIZE_SUBSET = {"apiVersion", "kind", "resources", "namespace", "patches"}
CLUSTER_SCOPED = {"Namespace"}
MIN_REPLICAS = 2
# What a region may change: its namespace, its models.config, its scaling. Everything else is the base's.
REGION_FIELDS = {
    ("ConfigMap", ("data", "models.config")),
    ("HorizontalPodAutoscaler", ("spec", "minReplicas")),
    ("HorizontalPodAutoscaler", ("spec", "maxReplicas")),
    ("Deployment", ("spec", "replicas")),
}


# ---------------------------------------------------------------- rendering (kustomize's subset)


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def merge(target: dict, patch: dict, where: str = "") -> None:
    """A patch of mappings and scalars into target: what kustomize's strategic merge does for those."""
    for key, value in patch.items():
        if isinstance(value, list):
            raise ValueError(f"patch {where}{key}: lists are outside the subset render() follows")
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value, f"{where}{key}.")
        else:
            target[key] = copy.deepcopy(value)


def render(folder: Path) -> list[dict]:
    """The objects `kubectl kustomize folder` prints, for the subset of kustomize deploy/kubernetes/ uses."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - KUSTOMIZE_SUBSET
    if unknown:
        raise ValueError(f"{folder}/kustomization.yaml: {sorted(unknown)} are outside the subset render() follows")
    resources = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        resources += render(path) if path.is_dir() else load_documents(path)
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise ValueError(f"patch {entry}: only `path:` patches are in the subset render() follows")
        for patch in load_documents(folder / entry["path"]):
            targets = [r for r in resources if key(r) == key(patch)]
            if len(targets) != 1:
                raise ValueError(f"patch {entry['path']}: {key(patch)} matches {len(targets)} resources")
            merge(targets[0], patch)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


def key(resource: dict) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


def find(resources: list[dict], kind: str, name: str = NAME) -> dict:
    found = [r for r in resources if key(r) == (kind, name)]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def container(deployment: dict, name: str, init: bool = False) -> dict:
    containers = deployment["spec"]["template"]["spec"]["initContainers" if init else "containers"]
    return next(c for c in containers if c["name"] == name)


def compose_serving() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]["serving"]


def parse_models_config(text: str):
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


# ---------------------------------------------------------------- the checks


def schema_problems(resources: list[dict], version: str = KUBERNETES_VERSION) -> list[str]:
    """Each object against the strict schemas of one Kubernetes version (unknown fields rejected)."""
    problems = []
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            path = ".".join(str(part) for part in getattr(error, "path", []))
            problems.append(f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}: {path} {error}")
    return problems


def port_numbers(container: dict) -> dict[str, int]:
    return {port["name"]: port["containerPort"] for port in container.get("ports", [])}


def resolve(port, container: dict) -> int | None:
    """A probe's or Service's port (a number or a container port's name) as a number."""
    return port if isinstance(port, int) else port_numbers(container).get(port)


def serving_problems(resources: list[dict], serving: dict) -> list[str]:
    """Image, flags and ports as compose's `serving`; the Service reaches those ports; probes ask for the model."""
    deployment, service = find(resources, "Deployment"), find(resources, "Service")
    tfs, problems = container(deployment, SERVING_CONTAINER), []
    if tfs["image"] != serving["image"]:
        problems.append(f"image {tfs['image']!r}: compose's serving runs {serving['image']!r}")
    if tfs.get("args") != serving["command"]:
        problems.append(f"args {tfs.get('args')}: compose's serving command is {serving['command']}")
    compose_ports = {port_mapping(entry)[2] for entry in serving["ports"]}
    if set(port_numbers(tfs).values()) != compose_ports:
        problems.append(f"container ports {sorted(port_numbers(tfs).values())}: compose has {sorted(compose_ports)}")
    if service["spec"].get("type", "ClusterIP") != "ClusterIP":
        problems.append(f"Service type {service['spec']['type']}: want ClusterIP")
    targets = {resolve(port["targetPort"], tfs) for port in service["spec"]["ports"]}
    if targets != compose_ports or {port["port"] for port in service["spec"]["ports"]} != compose_ports:
        problems.append(f"Service ports {service['spec']['ports']}: want {sorted(compose_ports)} to the container")
    served = parse_models_config(config_map(resources)["models.config"])
    models = {model.name for model in served.model_config_list.config}
    for probe in ("readinessProbe", "livenessProbe"):
        get = tfs.get(probe, {}).get("httpGet", {})
        name = get.get("path", "").removeprefix("/v1/models/")
        if name not in models or resolve(get.get("port"), tfs) != 8501:
            problems.append(f"{probe} {get}: want the REST model status of {sorted(models)} on 8501")
    for part in ("requests", "limits"):
        for c in deployment["spec"]["template"]["spec"]["containers"] + deployment["spec"]["template"]["spec"].get(
            "initContainers", []
        ):
            if set(c.get("resources", {}).get(part, {})) != {"cpu", "memory"}:
                problems.append(f"container {c['name']}: no cpu and memory {part}")
    return problems


def config_map(resources: list[dict]) -> dict[str, str]:
    return find(resources, "ConfigMap", CONFIG_MAP)["data"]


def config_problems(resources: list[dict], base: bool) -> list[str]:
    """The ConfigMap holds models/'s files byte for byte (a region: its own models.config, same model)."""
    data, problems = config_map(resources), []
    if data.get("monitoring.config") != MONITORING_CONFIG.read_text(encoding="utf-8"):
        problems.append("monitoring.config differs from models/monitoring.config")
    if base and data.get("models.config") != MODELS_CONFIG.read_text(encoding="utf-8"):
        problems.append("models.config differs from models/models.config")
    problems += models_config_problems(data["models.config"])
    ours, course = parse_models_config(data["models.config"]), parse_models_config(MODELS_CONFIG.read_text())
    for config in (ours, course):  # what a region may choose: the versions it serves and their labels
        for model in config.model_config_list.config:
            model.ClearField("version_labels")
            model.ClearField("model_version_policy")
    if ours != course:
        problems.append(f"models.config serves another model than models/models.config: {ours}")
    return problems


def mount(container: dict, path: str) -> dict | None:
    return next((m for m in container.get("volumeMounts", []) if m["mountPath"] == path), None)


def volume_problems(resources: list[dict]) -> list[str]:
    """The flags' config files come from the ConfigMap; base_path is the volume the init container fills."""
    deployment, problems = find(resources, "Deployment"), []
    pod = deployment["spec"]["template"]["spec"]
    tfs, init = container(deployment, SERVING_CONTAINER), container(deployment, INIT_CONTAINER, init=True)
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    flags = command_flags(tfs["args"])
    for flag, file in (("model_config_file", "models.config"), ("monitoring_config_file", "monitoring.config")):
        found = mount(tfs, flags.get(flag, ""))
        source = volumes.get(found["name"], {}) if found else {}
        if not found or source.get("configMap", {}).get("name") != CONFIG_MAP or found.get("subPath") != file:
            problems.append(f"--{flag}={flags.get(flag)}: not {file} of ConfigMap {CONFIG_MAP}")
    for model in parse_models_config(config_map(resources)["models.config"]).model_config_list.config:
        served, pulled = mount(tfs, model.base_path), mount(init, model.base_path)
        if not served or not pulled or served["name"] != pulled["name"]:
            problems.append(f"base_path {model.base_path}: not the volume the init container {INIT_CONTAINER} fills")
        elif "emptyDir" not in volumes.get(served["name"], {}):
            problems.append(f"base_path {model.base_path}: volume {served['name']} is no emptyDir")
        if f"/v1/models/{model.name}" != tfs["readinessProbe"]["httpGet"]["path"]:
            problems.append(f"model {model.name!r} is not the one the probes ask for")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    path, monitoring = annotations.get("prometheus.io/path"), MONITORING_CONFIG.read_text(encoding="utf-8")
    if path != MODEL_SERVER_METRICS_PATH or MODEL_SERVER_METRICS_PATH not in monitoring:
        problems.append(f"prometheus.io/path {path!r}: want {MODEL_SERVER_METRICS_PATH} (monitoring/prometheus.yml)")
    if annotations.get("prometheus.io/port") != str(port_numbers(tfs).get("rest")):
        problems.append(f"prometheus.io/port {annotations.get('prometheus.io/port')!r}: want the REST port")
    return problems


def init_problems(resources: list[dict]) -> list[str]:
    """The init container: a pinned python image (the Dockerfile's) and dvc at requirements.txt's pin."""
    init, problems = container(find(resources, "Deployment"), INIT_CONTAINER, init=True), []
    base_image = re.search(r"^FROM\s+(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)[1]
    if not re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-[a-z]+)?", init["image"]) or init["image"] != base_image:
        problems.append(f"init image {init['image']!r}: want the Dockerfile's pinned {base_image!r}")
    dvc_pin = re.search(r"^dvc==(\S+)", REQUIREMENTS.read_text(encoding="utf-8"), re.MULTILINE)[1]
    installs = re.findall(r"dvc(?:\[[a-z0-9,]+\])?==([\w.]+)", " ".join(init["command"]))
    if installs != [dvc_pin]:
        problems.append(f"init container installs dvc {installs}: requirements.txt pins {dvc_pin}")
    if "dvc get" not in " ".join(init["command"]) and "dvc pull" not in " ".join(init["command"]):
        problems.append("init container does not pull the model with dvc")
    return problems


def label_problems(resources: list[dict]) -> list[str]:
    """Selectors pick the Deployment's pods; the HPA scales that Deployment, never below two replicas."""
    deployment, service, hpa = (find(resources, kind) for kind in ("Deployment", "Service", "HorizontalPodAutoscaler"))
    pod_labels, problems = deployment["spec"]["template"]["metadata"]["labels"], []
    for where, selector in (
        ("Deployment selector", deployment["spec"]["selector"]["matchLabels"]),
        ("Service selector", service["spec"]["selector"]),
    ):
        if not selector or any(pod_labels.get(k) != v for k, v in selector.items()):
            problems.append(f"{where} {selector} does not match the pod labels {pod_labels}")
    target = hpa["spec"]["scaleTargetRef"]
    if (target["apiVersion"], target["kind"], target["name"]) != (
        deployment["apiVersion"],
        "Deployment",
        deployment["metadata"]["name"],
    ):
        problems.append(f"HPA scales {target}, not Deployment {deployment['metadata']['name']}")
    if hpa["spec"].get("minReplicas", 1) < MIN_REPLICAS or deployment["spec"].get("replicas", 1) < MIN_REPLICAS:
        problems.append(f"fewer than {MIN_REPLICAS} replicas")
    if [m.get("resource", {}).get("name") for m in hpa["spec"].get("metrics", [])] != ["cpu"]:
        problems.append(f"HPA metrics {hpa['spec'].get('metrics')}: want CPU")
    namespaces = {r["metadata"].get("namespace") for r in resources if r["kind"] not in CLUSTER_SCOPED}
    if len(namespaces) != 1:
        problems.append(f"objects in several namespaces: {namespaces}")
    return problems


def region_problems(base: list[dict], region: list[dict]) -> list[str]:
    """A region is the base in its own namespace, changed only in REGION_FIELDS."""
    problems = []
    namespaces = [r for r in region if r["kind"] == "Namespace"]
    if len(namespaces) != 1 or any(
        r["metadata"].get("namespace") != namespaces[0]["metadata"]["name"] for r in region if r["kind"] != "Namespace"
    ):
        return [f"a region needs one Namespace holding all its objects (found {len(namespaces)})"]

    def comparable(resources: list[dict]) -> dict:
        out = {}
        for resource in resources:
            if resource["kind"] in CLUSTER_SCOPED:
                continue
            resource = copy.deepcopy(resource)
            resource["metadata"].pop("namespace", None)
            for kind, (parent, field) in REGION_FIELDS:
                if resource["kind"] == kind:
                    resource.get(parent, {}).pop(field, None)
            out[key(resource)] = resource
        return out

    ours, theirs = comparable(region), comparable(base)
    if set(ours) != set(theirs):
        problems.append(f"objects {sorted(set(ours) ^ set(theirs))} differ from the base's")
    for name in sorted(set(ours) & set(theirs)):
        if ours[name] != theirs[name]:
            problems.append(f"{name[0]}/{name[1]} differs from the base beyond namespace, models.config and scaling")
    return problems


# ---------------------------------------------------------------- the repository's manifests


def variant_id(folder: Path) -> str:
    return folder.relative_to(DEPLOY_DIR).as_posix()


def test_there_is_a_base_and_two_regions():
    assert len(REGIONS) >= 2, REGIONS


@pytest.mark.parametrize("folder", VARIANTS, ids=variant_id)
def test_manifests_validate_against_the_kubernetes_schemas(folder):
    resources = render(folder)
    assert {r["kind"] for r in resources} >= {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"}
    assert schema_problems(resources) == []


def test_every_yaml_file_is_rendered_or_a_kustomization():
    """No manifest lies in the folder without being part of a variant (and so unchecked)."""
    rendered = {BASE / name for name in yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]}
    for region in REGIONS:
        kustomization = yaml.safe_load((region / "kustomization.yaml").read_text())
        rendered |= {region / entry for entry in kustomization["resources"]}
        rendered |= {region / entry["path"] for entry in kustomization["patches"]}
    files = {path for path in DEPLOY_DIR.rglob("*.yaml") if path.name != "kustomization.yaml"}
    assert files <= rendered, sorted(files - rendered)


@pytest.mark.parametrize("folder", VARIANTS, ids=variant_id)
def test_serving_agrees_with_compose(folder):
    assert serving_problems(render(folder), compose_serving()) == []


@pytest.mark.parametrize("folder", VARIANTS, ids=variant_id)
def test_configs_are_the_files_of_models(folder):
    assert config_problems(render(folder), base=folder == BASE) == []


@pytest.mark.parametrize("folder", VARIANTS, ids=variant_id)
def test_volumes_model_and_metrics_agree(folder):
    assert volume_problems(render(folder)) == []


@pytest.mark.parametrize("folder", VARIANTS, ids=variant_id)
def test_init_container_pins(folder):
    assert init_problems(render(folder)) == []


@pytest.mark.parametrize("folder", VARIANTS, ids=variant_id)
def test_labels_and_selectors_match(folder):
    assert label_problems(render(folder)) == []


@pytest.mark.parametrize("region", REGIONS, ids=variant_id)
def test_a_region_differs_from_the_base_only_where_it_should(region):
    assert region_problems(render(BASE), render(region)) == []


def test_regions_are_independent():
    """Each region its own namespace; at least two regions differ in labels or scaling (else why regions)."""
    rendered = [render(region) for region in REGIONS]
    namespaces = [find(resources, "Deployment")["metadata"]["namespace"] for resources in rendered]
    assert len(set(namespaces)) == len(REGIONS), namespaces
    choices = {(config_map(r)["models.config"], str(find(r, "HorizontalPodAutoscaler")["spec"])) for r in rendered}
    assert len(choices) > 1


# ---------------------------------------------------------------- planted mistakes: no check is vacuous


def _at(path: str, value):
    """A change to a copy of the rendered base: the value at `Kind:field:0:field` (list items by index)."""

    def change(resources: list[dict]) -> None:
        kind, *parents, last = path.split(":")
        node = next(r for r in resources if r["kind"] == kind)
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return change


POD = "Deployment:spec:template:spec"
TFS = f"{POD}:containers:0"
INIT = f"{POD}:initContainers:0"


@pytest.mark.parametrize(
    "change, check, complaint",
    [
        (_at(f"{TFS}:imagePulPolicy", "Always"), schema_problems, "imagePulPolicy"),
        (_at("Service:spec:ports:0:port", "8501"), schema_problems, "8501"),
        (_at("HorizontalPodAutoscaler:spec:targetCPU", 70), schema_problems, "targetCPU"),
        (_at(f"{TFS}:image", "tensorflow/serving:2.21.0"), serving_problems, "compose's serving runs"),
        (_at(f"{TFS}:ports:0:containerPort", 8080), serving_problems, "container ports"),
        (_at("Service:spec:ports:0:targetPort", 8080), serving_problems, "Service ports"),
        (_at(f"{TFS}:args:0", "--model_config_file=/models/other.config"), serving_problems, "args"),
        (_at(f"{TFS}:readinessProbe:httpGet:path", "/v1/models/beer"), serving_problems, "readinessProbe"),
        (_at(f"{TFS}:livenessProbe:httpGet:port", "grpc"), serving_problems, "livenessProbe"),
        (_at(f"{TFS}:resources", {"requests": {"cpu": "1"}}), serving_problems, "memory requests"),
        (_at("ConfigMap:data:monitoring.config", "prometheus_config {}\n"), config_problems, "monitoring.config"),
        (
            _at("ConfigMap:data:models.config", MODELS_CONFIG.read_text().replace("value: 1", "value: 2")),
            config_problems,
            "models.config differs",
        ),
        (
            _at("ConfigMap:data:models.config", MODELS_CONFIG.read_text() + "\n"),
            config_problems,
            "models.config differs",
        ),
        (_at(f"{TFS}:volumeMounts:0:subPath", "monitoring.config"), volume_problems, "--model_config_file"),
        (_at(f"{TFS}:volumeMounts:2:mountPath", "/models/beer"), volume_problems, "base_path /models/wine"),
        (_at(f"{POD}:volumes:1", {"name": "models", "hostPath": {"path": "/srv"}}), volume_problems, "no emptyDir"),
        (_at(f"{INIT}:volumeMounts:0:mountPath", "/tmp/wine"), volume_problems, "init container"),
        (
            _at("Deployment:spec:template:metadata:annotations:prometheus.io/path", "/metrics"),
            volume_problems,
            "prometheus.io/path",
        ),
        (
            _at("Deployment:spec:template:metadata:annotations:prometheus.io/port", "8500"),
            volume_problems,
            "prometheus.io/port",
        ),
        (_at(f"{INIT}:image", "python:3.13-slim"), init_problems, "init image"),
        (_at(f"{INIT}:command:2", 'pip install "dvc==3.0.0"\ndvc get repo models/savedmodel'), init_problems, "3.0.0"),
        (_at("Service:spec:selector", {"app.kubernetes.io/name": "wine"}), label_problems, "Service selector"),
        (
            _at("Deployment:spec:selector:matchLabels", {"app.kubernetes.io/name": "other"}),
            label_problems,
            "Deployment selector",
        ),
        (_at("HorizontalPodAutoscaler:spec:scaleTargetRef:name", "wine"), label_problems, "HPA scales"),
        (_at("HorizontalPodAutoscaler:spec:minReplicas", 1), label_problems, "fewer than 2"),
        (_at("Deployment:spec:replicas", 1), label_problems, "fewer than 2"),
    ],
)
def test_planted_mistakes_are_found(change, check, complaint):
    resources = render(BASE)
    args = (compose_serving(),) if check is serving_problems else (True,) if check is config_problems else ()
    assert check(resources, *args) == []
    change(resources)
    problems = check(resources, *args)
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize(
    "change, complaint",
    [
        (_at(f"{TFS}:image", "tensorflow/serving:2.21.0"), "Deployment/wine-serving differs"),
        (_at(f"{TFS}:readinessProbe:periodSeconds", 60), "Deployment/wine-serving differs"),
        (_at("ConfigMap:data:monitoring.config", ""), "ConfigMap/wine-serving-config differs"),
        (_at("Service:metadata:namespace", "wine-elsewhere"), "one Namespace holding all"),
    ],
)
def test_a_region_that_changes_more_than_it_may_is_caught(change, complaint):
    base, region = render(BASE), render(REGIONS[0])
    change(region)
    problems = region_problems(base, region)
    assert any(complaint in problem for problem in problems), problems


def test_a_region_serving_another_model_is_caught():
    region = render(REGIONS[0])
    wrong = config_map(region)["models.config"].replace('"/models/wine"', '"/models/wine2"')
    find(region, "ConfigMap", CONFIG_MAP)["data"]["models.config"] = wrong
    assert any("another model" in problem for problem in config_problems(region, base=False))


def test_render_refuses_what_it_does_not_follow(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: [a.yaml]\ncommonLabels: {team: wine}\n")
    with pytest.raises(ValueError, match="commonLabels"):
        render(tmp_path)
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n")
    (tmp_path / "patch.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: [1]}\n")
    (tmp_path / "kustomization.yaml").write_text("resources: [a.yaml]\npatches: [{path: patch.yaml}]\n")
    with pytest.raises(ValueError, match="lists"):
        render(tmp_path)
    (tmp_path / "patch.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '2'}\n")
    (tmp_path / "kustomization.yaml").write_text("resources: [a.yaml]\nnamespace: n\npatches: [{path: patch.yaml}]\n")
    assert render(tmp_path) == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"x": "2"}}
    ]
