"""Which versions of which models are loaded: TF Serving's ServerCore and file-system source, small.

Every poll lists the numbered folders under each model's base_path, asks the version policy which
ones should be served (latest: the newest, the default; all; specific: the listed ones), loads new
ones first and only then unloads the ones no longer wanted, so a model never goes dark while a
new version replaces the old one; a version that fails to load leaves the old one serving (it is
retried a few times, then whenever its saved_model.pb changes). Version labels map to numbers
when a request arrives. Loading and unloading happen in one thread at a time; requests only
read, under a lock.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tensorflow_serving.config.model_server_config_pb2 import ModelConfig

from model_server import status, versions
from model_server.configs import ModelServerConfig
from model_server.status import invalid, not_found

if TYPE_CHECKING:
    from model_server.servable import Servable

log = logging.getLogger("model_server")

MAX_LOAD_ATTEMPTS = 5  # TF Serving's --max_num_load_retries default


@dataclass
class VersionState:
    """A version's ModelVersionStatus: state (LOADING, AVAILABLE, END) and its status."""

    state: str
    error_code: str = "OK"
    error_message: str = ""


@dataclass
class Model:
    config: object  # a tensorflow.serving.ModelConfig
    servables: dict = field(default_factory=dict)  # version -> Servable
    states: dict = field(default_factory=dict)  # version -> VersionState
    failures: dict = field(default_factory=dict)  # version -> (attempts, saved_model.pb stamp)
    announced: str = ""  # the last "nothing to serve" message logged, so it is logged once


def servable_id(name: str, version: int) -> str:
    return f"{{name: {name} version: {version}}}"


def discover_versions(base_path: str) -> dict[int, Path] | None:
    """Numbered folders holding a SavedModel, by version number; None if base_path is missing.

    A folder whose saved_model.pb is not written yet is left for a later poll.
    """
    if not Path(base_path).is_dir():
        return None
    return {
        number: folder
        for number, folder in versions.list_versions(base_path).items()
        if (folder / "saved_model.pb").is_file() or (folder / "saved_model.pbtxt").is_file()
    }


def aspired_versions(model_config: ModelConfig, present: set[int]) -> set[int]:
    """The versions the model's version policy wants served, among those on disk."""
    policy = model_config.model_version_policy
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(present)
    if choice == "specific":
        return set(policy.specific.versions) & present
    count = policy.latest.num_versions if choice == "latest" and policy.latest.num_versions > 0 else 1
    return set(sorted(present)[-count:])


def validate_config(config: ModelServerConfig) -> None:
    """Refuse what tensorflow_model_server refuses (ServerCore::ReloadConfig and its validation)."""
    if config.WhichOneof("config") == "custom_model_config":
        raise ValueError("ModelServer does not yet support custom model config.")
    names = set()
    for model in config.model_config_list.config:
        if model.name in names:
            raise ValueError(f"Illegal to list model {model.name} multiple times in config list")
        names.add(model.name)
        if not model.base_path:
            raise ValueError(f"Model {model.name} has no base_path")
        if model.model_platform not in {"tensorflow", ""} or (not model.model_platform and model.model_type != 1):
            raise ValueError(
                f"Model {model.name} requests unsupported platform {model.model_platform or '(none)'}; "
                'this server serves model_platform: "tensorflow"'
            )


class ModelManager:
    """Loads, serves and unloads model versions as the config and the model folders say."""

    def __init__(
        self,
        config: ModelServerConfig,
        tags: Iterable[str] = ("serve",),
        runtime_observer: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, Model] = {}
        self._tags = tuple(tags)
        self._runtime_observer = runtime_observer
        self.apply_config(config)

    # ------------------------------------------------------------------ configuration and polling

    def apply_config(self, config: ModelServerConfig) -> None:
        """Take a (new) model list: add models, drop removed ones, update policies and labels."""
        validate_config(config)
        wanted = {model.name: model for model in config.model_config_list.config}
        dropped = []
        with self._lock:
            for name in list(self._models):
                if name not in wanted:
                    dropped.append(self._models.pop(name))
            for name, model_config in wanted.items():
                model = self._models.get(name)
                if model is None:
                    self._models[name] = Model(model_config)
                    log.info("Adding model: %s from %s", name, model_config.base_path)
                    continue
                if model.config.base_path != model_config.base_path:
                    dropped.append(Model(model.config, model.servables))  # reload from the new path
                    model.servables, model.states, model.failures = {}, {}, {}
                model.config = model_config
        for model in dropped:
            for version in list(model.servables):
                self._unload(model, version)

    def poll(self) -> None:
        """One pass over every model's folder: load and unload as the version policy says."""
        with self._lock:
            models = list(self._models.items())
        for name, model in models:
            present = discover_versions(model.config.base_path)
            if present is None:
                self._announce(
                    model,
                    f"File system polling: base path {model.config.base_path} for servable "
                    f"{name} does not exist yet; waiting for it",
                )
                continue
            if not present:
                self._announce(
                    model,
                    f"No versions of servable {name} found under base path "
                    f"{model.config.base_path}. Did you forget to name your leaf directory "
                    "as a number (eg. '/1/')?",
                )
            wanted = aspired_versions(model.config, set(present))
            for version in sorted(wanted - set(model.servables)):
                self._load(model, version, present[version])
            stale = sorted(set(model.servables) - wanted)
            if stale and wanted and not wanted & set(model.servables):
                stale = stale[:-1]  # availability first: keep the newest old version until a wanted one loads
            for version in stale:
                self._unload(model, version)

    def _announce(self, model: Model, message: str):
        if model.announced != message:
            model.announced = message
            log.warning(message)

    def _load(self, model: Model, version: int, path: Path):
        from model_server.servable import Servable  # imports TensorFlow

        name = model.config.name
        stamp = _stamp(path)
        attempts, last_stamp = model.failures.get(version, (0, None))
        if attempts and (attempts >= MAX_LOAD_ATTEMPTS and stamp == last_stamp):
            return  # given up until the folder changes
        with self._lock:
            model.states[version] = VersionState("LOADING")
        start = time.perf_counter()
        try:
            servable = Servable(name, version, str(path), self._tags, self._runtime_observer)
        except Exception as error:  # a broken SavedModel must not stop the server
            failure = status.from_exception(error)
            with self._lock:
                model.failures[version] = (attempts + 1, stamp)
                model.states[version] = VersionState("END", failure.code, failure.message)
            log.error(
                "Loading servable version %s failed: %s: %s",
                servable_id(name, version),
                failure.code,
                failure.message.splitlines()[0] if failure.message else "",
            )
            return
        with self._lock:
            model.servables[version] = servable
            model.states[version] = VersionState("AVAILABLE")
            model.failures.pop(version, None)
            model.announced = ""
        log.info(
            "Successfully loaded servable version %s from %s in %.1f s",
            servable_id(name, version),
            path,
            time.perf_counter() - start,
        )

    def _unload(self, model: Model, version: int):
        name = model.config.name
        with self._lock:
            servable = model.servables.pop(version)
            model.states[version] = VersionState("END")
        # The session is not closed here: a request may still be running on it. It closes when
        # the last reference goes (tf.compat.v1.Session.__del__).
        del servable
        log.info("Unloaded servable version %s", servable_id(name, version))

    def close(self) -> None:
        with self._lock:
            for model in self._models.values():
                for servable in model.servables.values():
                    servable.close()
                model.servables.clear()

    # ------------------------------------------------------------------ answering requests

    def _label_version(self, name: str, label: str) -> int:
        model = self._models.get(name)
        labels = dict(model.config.version_labels) if model else {}
        if label not in labels:
            raise invalid(f"Unrecognized servable version label: {label}")
        return labels[label]

    def servable(self, name: str, version: int | None = None, label: str | None = None) -> "Servable":
        """The servable a request names: a version, a label's version, or the newest loaded one."""
        if not name:
            raise invalid("ModelSpec has no name specified.")
        with self._lock:
            if label:
                version = self._label_version(name, label)
            model = self._models.get(name)
            if version is not None:
                servable = model.servables.get(version) if model else None
                if servable is None:
                    raise not_found(f"Servable not found for request: Specific({name}, {version})")
                return servable
            if model and model.servables:
                return model.servables[max(model.servables)]
            raise not_found(f"Servable not found for request: Latest({name})")

    def version_states(
        self, name: str, version: int | None = None, label: str | None = None
    ) -> list[tuple[int, VersionState]]:
        """[(version, VersionState)], newest first, as GetModelStatus reports them."""
        if not name:
            raise invalid("Missing model name in request.")
        with self._lock:
            if label:
                version = self._label_version(name, label)
            model = self._models.get(name)
            states = dict(model.states) if model else {}
        if version is not None:
            if version not in states:
                raise not_found(f"Could not find version {version} of model {name}")
            return [(version, states[version])]
        if not states:
            raise not_found(f"Could not find any versions of model {name}")
        return sorted(states.items(), reverse=True)

    def model_names(self) -> list[str]:
        with self._lock:
            return sorted(self._models)


def _stamp(path: Path):
    """When the version's saved_model.pb last changed: a retry is worth it only after that."""
    for name in ("saved_model.pb", "saved_model.pbtxt"):
        try:
            return (path / name).stat().st_mtime_ns
        except OSError:
            continue
    return None


class Poller(threading.Thread):
    """--file_system_poll_wait_seconds and --model_config_file_poll_wait_seconds, in one thread."""

    def __init__(
        self,
        manager: ModelManager,
        fs_seconds: float,
        config_seconds: float = 0,
        read_config: Callable[[], ModelServerConfig] | None = None,
        initial_config: ModelServerConfig | None = None,
    ) -> None:
        super().__init__(name="model-poller", daemon=True)
        self.manager, self.fs_seconds, self.config_seconds = manager, fs_seconds, config_seconds
        self.read_config = read_config
        self.stopped = threading.Event()
        self._last_config = initial_config.SerializeToString(deterministic=True) if initial_config else None

    def run(self) -> None:
        next_fs = time.monotonic() + self.fs_seconds
        next_config = time.monotonic() + self.config_seconds
        while not self.stopped.wait(0.1):
            now = time.monotonic()
            try:
                if self.config_seconds > 0 and self.read_config and now >= next_config:
                    next_config = now + self.config_seconds
                    self._reload_config()
                if self.fs_seconds > 0 and now >= next_fs:
                    next_fs = now + self.fs_seconds
                    self.manager.poll()
            except Exception:  # keep polling whatever happens in one pass
                log.exception("Polling the model folders failed")

    def _reload_config(self):
        try:
            config = self.read_config()
        except Exception as error:
            log.error("Reading the model config file failed, keeping the current one: %s", error)
            return
        text = config.SerializeToString(deterministic=True)
        if text == self._last_config:
            return
        self._last_config = text
        log.info("Model config file changed: reloading")
        try:
            self.manager.apply_config(config)
        except ValueError as error:
            log.error("The new model config is not valid, keeping the current one: %s", error)
            return
        self.manager.poll()

    def stop(self) -> None:
        self.stopped.set()
