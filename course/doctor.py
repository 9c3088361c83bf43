"""Is this machine ready for the workshop? The checks behind notebook 00 and `make doctor`.

Every check answers with a status and, when something is wrong, one concrete fix, because a
participant at 9 a.m. needs "run this" rather than a traceback. A missing TF Serving endpoint is
information, not a failure: the serving module brings a local server for machines without Docker.
"""

import json
import platform
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from course import lockfile
from workshop_lib import config, data

PASS, WARN, FAIL, INFO = "pass", "warn", "FAIL", "info"
MARKS = {PASS: "✔", WARN: "!", FAIL: "✘", INFO: "i"}
GIB = 1024**3
PORTS = {8888: "JupyterLab", 8500: "TF Serving gRPC", 8501: "TF Serving REST"}
SETUP_FIX = "run `make clean`, then `make lab` from the course folder: it rebuilds .venv from requirements.lock"
# The Pythons TensorFlow 2.20 has wheels for, and pyproject.toml's requires-python (a test keeps them equal).
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
SUPPORTED_RANGE = "3.11 to 3.13"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str
    fix: str = ""


def check_python() -> CheckResult:
    version = platform.python_version()
    if sys.version_info[:2] in SUPPORTED_PYTHONS:
        return CheckResult("Python", PASS, f"{version} at {config.shown(Path(sys.executable))}")
    return CheckResult(
        "Python",
        FAIL,
        f"{version}, the course needs {SUPPORTED_RANGE}",
        f"install Python {SUPPORTED_RANGE}, delete .venv and run `make lab` again (it finds the newest on PATH)",
    )


def check_packages(lock: Path = lockfile.LOCK_FILE) -> CheckResult:
    """This Python holds exactly what the lock names for it: no package missing, changed or extra."""
    problems = lockfile.differences_from_lock(lock)
    if problems:
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        return CheckResult("Packages", FAIL, shown, SETUP_FIX)
    return CheckResult(
        "Packages",
        PASS,
        f"exactly the {len(lockfile.locked_for_this_python(lock))} packages requirements.lock names for this Python",
    )


def check_kernel() -> CheckResult:
    """The notebooks' kernel must be this Python, with TensorFlow's C++ log noise switched off."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    fix = "run `make install` from the course folder: it registers the course's kernel in .venv"
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return CheckResult("Notebook kernel", FAIL, "no 'python3' kernel is registered", fix)
    kernel_python = spec.argv[0]
    same_python = (
        kernel_python in {"python", "python3"} or Path(kernel_python).resolve() == Path(sys.executable).resolve()
    )
    if not same_python:
        return CheckResult("Notebook kernel", FAIL, f"'python3' runs {kernel_python}, not {sys.executable}", fix)
    if spec.env.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        return CheckResult("Notebook kernel", WARN, "TensorFlow's C++ log lines are not silenced", fix)
    return CheckResult("Notebook kernel", PASS, "'python3' is this Python, TensorFlow log noise silenced")


def check_data() -> CheckResult:
    try:
        problems = data.checksum_problems()
    except (OSError, ValueError) as error:
        problems = [str(error)]
    fix = "restore the data from git: `git checkout -- data/`"
    if problems:
        return CheckResult("Wine data", FAIL, "; ".join(problems), fix)
    return CheckResult("Wine data", PASS, "red and white files present, sha256 as in data/wine-quality/README.md")


def _version_of(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout.strip() else None


def check_git() -> CheckResult:
    version = _version_of(["git", "--version"]) if shutil.which("git") else None
    if version:
        return CheckResult("git", PASS, version)
    return CheckResult(
        "git",
        FAIL,
        "git is not installed or not on PATH",
        "install git (Debian/Ubuntu: `sudo apt install git`; macOS: `xcode-select --install`)",
    )


def check_dvc() -> CheckResult:
    version = _version_of([sys.executable, "-m", "dvc", "--version"])
    if version:
        return CheckResult("DVC", PASS, f"dvc {version}")
    return CheckResult("DVC", FAIL, "`python -m dvc --version` did not answer", SETUP_FIX)


def _cpu_flags() -> str | None:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        return cpuinfo.read_text(errors="replace").lower()
    if sys.platform == "darwin":
        return _version_of(["sysctl", "-n", "machdep.cpu.features", "machdep.cpu.leaf7_features"])
    return None


def check_cpu() -> CheckResult:
    machine = platform.machine().lower()
    if machine in {"arm64", "aarch64"}:
        return CheckResult(
            "CPU",
            WARN,
            f"{machine}: TensorFlow runs natively, but there is no arm64 tensorflow/serving image",
            "use the no-Docker path (README, 'Apple Silicon and other ARM machines'); `make lab` works as it is",
        )
    flags = _cpu_flags()
    if flags is None:
        return CheckResult("CPU", INFO, f"{machine}: could not read the CPU flags to check AVX")
    if re.search(r"\bavx\b|avx1\.0", flags):
        return CheckResult("CPU", PASS, f"{machine} with AVX")
    return CheckResult(
        "CPU",
        FAIL,
        f"{machine} without AVX: TensorFlow's wheels need AVX",
        "use a machine (or a cloud notebook) with a CPU from 2011 or later",
    )


def _room(name: str, free_gib: float, detail: str, min_gib: float, comfortable_gib: float, fix: str) -> CheckResult:
    """FAIL below the minimum, WARN below what is comfortable, PASS above."""
    if free_gib < min_gib:
        return CheckResult(name, FAIL, detail, fix)
    if free_gib < comfortable_gib:
        return CheckResult(name, WARN, f"{detail}; {comfortable_gib:.0f} GiB would be comfortable", fix)
    return CheckResult(name, PASS, detail)


def check_memory(min_gib: float = 2, comfortable_gib: float = 4) -> CheckResult:
    available = psutil.virtual_memory().available / GIB
    return _room(
        "Memory",
        available,
        f"{available:.1f} GiB available",
        min_gib,
        comfortable_gib,
        "close other programs (browser tabs, IDEs); Docker Desktop: give it 4 GiB or more",
    )


def check_disk(min_gib: float = 2, comfortable_gib: float = 5) -> CheckResult:
    free = shutil.disk_usage(config.REPO_ROOT).free / GIB
    return _room(
        "Disk",
        free,
        f"{free:.1f} GiB free in the course folder",
        min_gib,
        comfortable_gib,
        "free some disk space: models, DVC caches and Docker images need room",
    )


def _get_json(url: str, timeout: float = 2.0) -> tuple[int, object] | None:
    """(status, parsed body) of a GET, also for HTTP errors; None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, OSError, ValueError):
        return None
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _is_jupyter(port: int) -> bool:
    answer = _get_json(f"http://127.0.0.1:{port}/api")
    return bool(answer and isinstance(answer[1], dict) and "version" in answer[1])


def _is_tf_serving(rest_port: int) -> bool:
    answer = _get_json(f"http://127.0.0.1:{rest_port}/v1/models/wine")
    return bool(answer and isinstance(answer[1], dict) and {"error", "model_version_status"} & answer[1].keys())


def check_port(port: int, purpose: str | None = None) -> CheckResult:
    """A course port must be free, or used by the service it is meant for (e.g. this very JupyterLab)."""
    purpose = purpose or PORTS.get(port, "the course")
    name = f"Port {port}"
    if not _port_in_use(port):
        return CheckResult(name, PASS, f"free for {purpose}")
    if _is_jupyter(port):
        return CheckResult(name, PASS, "in use by JupyterLab")
    # TF Serving's gRPC port cannot be asked over HTTP; its REST port (8501) speaks for it.
    if _is_tf_serving(8501 if port == 8500 else port):
        return CheckResult(name, PASS, "in use by a TF Serving model server")
    finder = f"`lsof -i :{port}` (macOS/Linux) or `netstat -ano | findstr :{port}` (Windows)"
    other = (
        "or start the lab on another port: `make lab LAB_PORT=8889`"
        if port == 8888
        else "or change the host port in docker-compose.yml and set TF_SERVING_URL to match"
    )
    return CheckResult(
        name, FAIL, f"used by another program, needed for {purpose}", f"find it with {finder} and stop it, {other}"
    )


def check_tf_serving(url: str | None = None) -> CheckResult:
    url = url or config.tf_serving_url()
    answer = _get_json(f"{url}/v1/models/wine")
    if answer is None:
        return CheckResult(
            "TF Serving",
            INFO,
            f"nothing answers at {url} (TF_SERVING_URL); fine before module 05",
            "module 05 starts a server: `docker compose up serving`, or the local one without Docker",
        )
    status, body = answer
    if isinstance(body, dict) and "model_version_status" in body:
        versions = ", ".join(f"v{v['version']} {v['state']}" for v in body["model_version_status"])
        return CheckResult("TF Serving", PASS, f"{url} serves 'wine': {versions}")
    if isinstance(body, dict) and "error" in body:
        return CheckResult(
            "TF Serving", PASS, f"{url} answers (HTTP {status}); model 'wine' not loaded yet: {body['error']}"
        )
    return CheckResult(
        "TF Serving",
        WARN,
        f"{url} answers HTTP {status}, but not like TF Serving",
        "check TF_SERVING_URL: it should be the REST address of the model server, e.g. http://localhost:8501",
    )


def run_checks(check_ports: bool = True, tf_serving_url: str | None = None) -> list[CheckResult]:
    checks = [
        check_python,
        check_packages,
        check_kernel,
        check_data,
        check_git,
        check_dvc,
        check_cpu,
        check_memory,
        check_disk,
    ]
    results = [check() for check in checks]
    if check_ports:
        results += [check_port(port) for port in PORTS]
    results.append(check_tf_serving(tf_serving_url))
    return results


def format_table(results: list[CheckResult]) -> str:
    """A plain-text table (it reads the same in a terminal and a notebook), then the fixes."""
    width = max(len(r.name) for r in results)
    lines = [f"  {MARKS[r.status]} {r.status:<4}  {r.name:<{width}}  {r.detail}" for r in results]
    fixes = [f"  {r.name}: {r.fix}" for r in results if r.fix and r.status in (FAIL, WARN)]
    if fixes:
        lines += ["", "How to fix:"] + fixes
    return "\n".join(lines)


def summary(results: list[CheckResult]) -> str:
    failed = [r.name for r in results if r.status == FAIL]
    if not failed:
        return "Ready for the workshop: no check failed."
    return (
        f"Not ready: {len(failed)} check(s) failed ({', '.join(failed)}). "
        "Apply the fixes above, then run the checks again."
    )


def main(check_ports: bool = True) -> int:
    results = run_checks(check_ports=check_ports)
    print(format_table(results))
    print()
    print(summary(results))
    return 1 if any(r.status == FAIL for r in results) else 0
