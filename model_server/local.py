"""Start the local model server from a notebook or a script.

LocalModelServer runs `python -m model_server` as a child process on free ports, waits
until its models are AVAILABLE (or fails with the end of the server's log), and stops it on exit,
at interpreter exit, and by itself when the process that started it dies (a restarted kernel).
"""

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from model_server.client import ServingClient, ServingError
from model_server.configs import read_model_config
from model_server.server import PARENT_PID_VARIABLE

LOG_TAIL_LINES = 15


def free_port(wanted: int = 0) -> int:
    """`wanted` if nobody listens on it, else (or for 0) a TCP port the OS picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The REST server binds with SO_REUSEADDR too: a port whose last server just stopped (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalModelServer:
    """`python -m model_server` in a child process, for as long as you need it.

        with LocalModelServer(model_base_path="models/wine", model_name="wine") as server:
            server.client().predict([[7.4, 0.7, ...]])

    Give model_base_path (+ model_name) or model_config_file, as to tensorflow_model_server;
    volumes={host_dir: container_dir} reads a config written for Docker (base_path /models/wine)
    from a host folder, as docker-compose's volume does.
    """

    def __init__(
        self,
        model_base_path: str | Path | None = None,
        model_name: str = "default",
        *,
        model_config_file: str | Path | None = None,
        monitoring_config_file: str | Path | None = None,
        volumes: dict | None = None,
        file_system_poll_wait_seconds: int = 1,
        model_config_file_poll_wait_seconds: int = 0,
        rest_api_port: int = 0,
        port: int = 0,
        timeout: float = 120.0,
        extra_args: Iterable[str] = (),
    ) -> None:
        if (model_base_path is None) == (model_config_file is None):
            raise ValueError("give model_base_path (and model_name) or model_config_file")
        self.model_base_path = Path(model_base_path).resolve() if model_base_path is not None else None
        self.model_config_file = Path(model_config_file).resolve() if model_config_file is not None else None
        self.model_name = model_name
        self.monitoring_config_file = monitoring_config_file
        self.volumes = {str(Path(host).resolve()): container for host, container in (volumes or {}).items()}
        self.file_system_poll_wait_seconds = file_system_poll_wait_seconds
        self.model_config_file_poll_wait_seconds = model_config_file_poll_wait_seconds
        self.rest_api_port, self.port = rest_api_port, port
        self.timeout, self.extra_args = timeout, list(extra_args)
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._log_file = None

    # ------------------------------------------------------------------ addresses

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_api_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, model_name: str | None = None, timeout: float = 10.0) -> ServingClient:
        """A client for this server (it keeps the server referenced, so it keeps running)."""
        return ServingClient(self.rest_url, model_name or self.model_names()[0], self.grpc_target, timeout, server=self)

    def model_names(self) -> list[str]:
        if self.model_config_file is None:
            return [self.model_name]
        return [model.name for model in read_model_config(self.model_config_file).model_config_list.config]

    def command(self) -> list[str]:
        """The command line of the server process."""
        args = [
            sys.executable,
            "-m",
            "model_server",
            f"--rest_api_port={self.rest_api_port}",
            f"--port={self.port}",
            f"--file_system_poll_wait_seconds={self.file_system_poll_wait_seconds}",
        ]
        if self.model_config_file is not None:
            args += [
                f"--model_config_file={self.model_config_file}",
                f"--model_config_file_poll_wait_seconds={self.model_config_file_poll_wait_seconds}",
            ]
        else:
            args += [f"--model_name={self.model_name}", f"--model_base_path={self.model_base_path}"]
        if self.monitoring_config_file is not None:
            args.append(f"--monitoring_config_file={Path(self.monitoring_config_file).resolve()}")
        args += [f"--volume={host}:{container}" for host, container in self.volumes.items()]
        return args + self.extra_args

    # ------------------------------------------------------------------ life cycle

    def start(self, wait: bool = True) -> "LocalModelServer":
        """Start the server; with wait, return once every model has a version AVAILABLE."""
        if self.running:
            return self
        self.rest_api_port = self.rest_api_port or free_port()
        self.port = self.port or free_port()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
        env[PARENT_PID_VARIABLE] = str(os.getpid())
        handle, name = tempfile.mkstemp(prefix="model-server-", suffix=".log")
        self.log_path, self._log_file = Path(name), os.fdopen(handle, "wb")
        # A session of its own: interrupting the notebook kernel (SIGINT to its process group)
        # does not stop the server; stop(), atexit or the parent watch do.
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        atexit.register(self.stop)
        if wait:
            self.wait_until_available()
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Everything the server has logged so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _failure(self, message: str) -> ServingError:
        tail = [line for line in self.log().splitlines() if line.strip()][-LOG_TAIL_LINES:]
        details = "\n".join(f"    {line}" for line in tail) or "    (nothing logged)"
        return ServingError(f"{message}\n  Last lines of the server log:\n{details}", target=self.rest_url)

    def stopped_error(self) -> ServingError:
        """Why this server no longer answers: its exit code (or signal) and the end of its log."""
        code = self.process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        return self._failure(f"The local model server (process {self.process.pid}) has stopped ({how}).")

    def wait_until_available(self, timeout: float | None = None) -> None:
        """Block until every configured model has an AVAILABLE version; ServingError otherwise."""
        timeout = self.timeout if timeout is None else timeout
        names = self.model_names()
        probe = ServingClient(self.rest_url, names[0], self.grpc_target, timeout=2.0)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if not self.running:
                    code = self.process.returncode if self.process else None
                    error = self._failure(
                        f"The local model server stopped (exit code {code}) before its models were available."
                    )
                    self.stop()
                    raise error
                waiting = [name for name in names if not probe.is_available(name)]
                if not waiting:
                    return
                missing = self._nothing_to_serve(waiting)
                if missing:
                    error = self._failure(
                        f"The local model server has nothing to serve for {missing}: export a "
                        "model version into its base path first (a numbered folder, e.g. 1/)."
                    )
                    self.stop()
                    raise error
                if time.monotonic() > deadline:
                    error = self._failure(
                        f"The local model server did not make {waiting} AVAILABLE within {timeout:g} s."
                    )
                    self.stop()
                    raise error
                time.sleep(0.2)
        finally:
            probe.close()

    def _nothing_to_serve(self, waiting: list[str]) -> list[str]:
        """Models the server already reported it has no version for, once its ports are open."""
        log = self.log()
        if "Exporting HTTP/REST API" not in log:
            return []
        return [
            name
            for name in waiting
            if f"No versions of servable {name} found" in log or f"servable {name} does not exist" in log
        ]

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its log."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> "LocalModelServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalModelServer {state} rest_url={self.rest_url} grpc_target={self.grpc_target}>"
