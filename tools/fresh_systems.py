"""Follow the README on fresh Debian systems, as an ordinary user: the proof that set-up works.

A green CI on a development machine hides missing install steps (a library the machine happens to
have). For each system this builds a root file system with debootstrap (Debian's packages only, no
Docker), creates the ordinary user `learner`, runs the README's apt line as root, clones this
repository (its committed HEAD) into the user's home and then, as that user: `make lab` (time until
it prints its URL; the token opens the lab, no token gets 403), `make doctor` and `make test`.

    make fresh-systems                  # Debian 12 (Python 3.11) and 13 (Python 3.13), the whole suite
    make fresh-systems SUITE=ci         # what .ci/run does: the set-up-sensitive part of the suite

It needs root and debootstrap (the systems live in /var/tmp/course-fresh-systems, removed at the end
unless --keep); without them it says so in one line and exits 0. Any failure on a fresh system exits 1.
The report is printed and written to build/fresh-systems/report.md; every command's output is in
build/fresh-systems/<system>/.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "build" / "fresh-systems"
MIRROR = "http://deb.debian.org/debian"
SYSTEMS = {"bookworm": "Debian 12 (bookworm)", "trixie": "Debian 13 (trixie)"}
USER = "learner"
# In CI: the tests that depend on how the machine was set up (packages, lock, Python, browser, lab,
# TensorFlow and ONNX in a notebook); the command without SUITE=ci runs `make test`, all of it.
CI_TESTS = [
    "tests/test_requirements.py",
    "tests/test_supported_pythons.py",
    "tests/course/test_doctor.py",
    "tests/test_make_lab.py",
    "tests/test_browser.py",
    "tests/model_server/test_tf_serving_conformance.py",
    "tests/test_notebooks.py::test_exercise_notebook_runs_twice_in_a_row_with_the_same_result[solutions/04_model_export.ipynb]",
]
LAB_START_TIMEOUT = 1200  # the first `make lab` installs the whole lock


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(command: list[str], logfile: Path, timeout: float, check: bool = True) -> subprocess.CompletedProcess:
    """Run a host command, its output into logfile; on failure raise with the output's last lines."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if check and done.returncode != 0:
        tail = "".join(logfile.read_text(encoding="utf-8", errors="replace").splitlines(True)[-30:])
        raise RuntimeError(f"`{' '.join(command)}` exited {done.returncode}:\n{tail}")
    return done


def readme_apt_line() -> str:
    """The README's apt line, exactly as a participant copies it."""
    match = re.search(r"^(sudo apt[^\n#]*?)\s*(?:#.*)?$", (REPO / "README.md").read_text(encoding="utf-8"), re.M)
    if not match:
        raise SystemExit("README.md has no line starting with `sudo apt`: nothing to follow")
    return match.group(1)


def as_root_noninteractive(line: str) -> str:
    """The README's line as a root shell runs it: no sudo, no questions."""
    return (
        line.replace("sudo ", "")
        .replace("apt install", "apt-get install -y -q")
        .replace("apt update", "apt-get update -q")
    )


class FreshSystem:
    """One debootstrapped Debian with /proc, /sys and /dev mounted, the user made, the course cloned."""

    def __init__(self, suite: str, folder: Path):
        self.suite, self.root, self.out = suite, folder / suite, OUT / suite
        self.mounted: list[Path] = []

    def as_user(self, command: str) -> list[str]:
        """`command` in ~/course as the ordinary user, in a login shell with only a user's environment."""
        return [
            "chroot",
            f"--userspec={USER}:{USER}",
            str(self.root),
            "/usr/bin/env",
            "-i",
            f"HOME=/home/{USER}",
            f"USER={USER}",
            f"LOGNAME={USER}",
            "SHELL=/bin/bash",
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "LANG=C.UTF-8",
            "TERM=dumb",
            "/bin/bash",
            "-lc",
            f"cd ~/course && {command}",
        ]

    def chroot(self, command: str, logfile: str, timeout: float, user: bool = False, check: bool = True):
        if user:
            return run(self.as_user(command), self.out / logfile, timeout, check)
        inner = [
            "/usr/bin/env",
            "-i",
            "HOME=/root",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "DEBIAN_FRONTEND=noninteractive",
            "/bin/sh",
            "-c",
            command,
        ]
        return run(["chroot", str(self.root), *inner], self.out / logfile, timeout, check)

    def build(self) -> float:
        shutil.rmtree(self.out, ignore_errors=True)
        self.remove()
        started = time.monotonic()
        run(["debootstrap", self.suite, str(self.root), MIRROR], self.out / "debootstrap.log", 1800)
        (self.root / "etc/apt/sources.list").write_text(
            f"deb {MIRROR} {self.suite} main\ndeb {MIRROR} {self.suite}-updates main\n"
            f"deb http://deb.debian.org/debian-security {self.suite}-security main\n"
        )
        self.copy_network_settings()
        for kind, target in (("proc", "proc"), ("sysfs", "sys")):
            self.mount(["-t", kind, kind], target)
        self.mount(["--rbind", "/dev"], "dev")
        run(["mount", "--make-rslave", str(self.root / "dev")], self.out / "mount.log", 60)
        self.chroot(f"useradd --create-home --shell /bin/bash {USER}", "user.log", 60)
        return time.monotonic() - started

    def copy_network_settings(self):
        """The host's resolver and CA bundle (this machine reaches the registries through a proxy CA)."""
        for name in ("etc/resolv.conf", "etc/ssl/certs/ca-certificates.crt"):
            target = self.root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            shutil.copyfile(Path("/") / name, target)

    def mount(self, options: list[str], target: str):
        run(["mount", *options, str(self.root / target)], self.out / "mount.log", 60)
        self.mounted.append(self.root / target)

    def clone_course(self):
        home = self.root / "home" / USER
        run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(home / "course")], self.out / "clone.log", 300)
        uid, gid = (int(field) for field in self.passwd_entry()[2:4])
        for path in [home, *home.rglob("*")]:
            os.lchown(path, uid, gid)

    def passwd_entry(self) -> list[str]:
        for line in (self.root / "etc/passwd").read_text().splitlines():
            if line.startswith(f"{USER}:"):
                return line.split(":")
        raise RuntimeError(f"no user {USER} in {self.root}/etc/passwd")

    def kill_processes(self):
        """Everything still running inside this root (a lab, kernels, a browser) before unmounting."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if Path(os.readlink(proc / "root")).resolve() == self.root.resolve():
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue

    def unmount(self):
        self.kill_processes()
        for target in reversed(self.mounted):
            subprocess.run(["umount", "-R", "--lazy", str(target)], capture_output=True, timeout=60)
        self.mounted.clear()

    def remove(self):
        if not self.root.exists():
            return
        still = [line for line in Path("/proc/mounts").read_text().splitlines() if f" {self.root}/" in line]
        if still:
            raise RuntimeError(f"{self.root} still has mounts, not removing it: {still[:3]}")
        run(["rm", "-rf", "--one-file-system", str(self.root)], self.out / "remove.log", 600)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def try_make_lab(system: FreshSystem, report: dict):
    """`make lab` as the user: its URL with a token, the time it took (set-up included), 403 without token."""
    port = free_port()
    logfile = system.out / "make-lab.log"
    command = system.as_user(f"make lab LAB_PORT={port}")
    started = time.monotonic()
    with logfile.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        url = None
        try:
            for line in process.stdout:
                out.write(line)
                out.flush()
                found = re.search(rf"http://localhost:{port}/lab/tree/notebooks\?token=\w+", line)
                if found:
                    url = found.group(0)
                    break
                if time.monotonic() - started > LAB_START_TIMEOUT:
                    break
            report["setup_seconds"] = time.monotonic() - started
            if not url:
                raise RuntimeError(f"`make lab` printed no URL with a token; see {logfile}")
            report["lab_url"] = url
            token = url.split("token=")[1]
            base = f"http://localhost:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    http_status(f"{base}/api")
                    break
                except (urllib.error.URLError, ConnectionError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            report["without_token"] = http_status(f"{base}/api/contents/notebooks")
            report["with_token"] = http_status(f"{base}/api/contents/notebooks?token={token}")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    if report["without_token"] != 403 or report["with_token"] != 200:
        raise RuntimeError(
            f"the lab answered {report['without_token']} without its token and "
            f"{report['with_token']} with it (expected 403 and 200)"
        )


def summary_line(text: str) -> str:
    lines = re.findall(r"^=+ (.*(?:passed|failed|error|skipped|no tests ran).* in [\d.]+s.*?) =+$", text, re.M)
    return " | ".join(lines) if lines else "(no pytest summary)"


def follow_the_readme(suite: str, folder: Path, tests: str, keep: bool) -> dict:
    system = FreshSystem(suite, folder)
    report = {"system": SYSTEMS[suite], "ok": False}
    try:
        log(f"{suite}: debootstrap into {system.root}")
        report["debootstrap_seconds"] = system.build()
        line = readme_apt_line()
        log(f"{suite}: the README's apt line, as root: {line}")
        started = time.monotonic()
        system.chroot(as_root_noninteractive(line), "apt.log", 1800)
        report["apt_seconds"] = time.monotonic() - started
        system.copy_network_settings()  # ca-certificates' postinst rewrote the bundle
        system.chroot("python3 --version", "python.log", 60)
        report["python"] = (system.out / "python.log").read_text().splitlines()[-1]
        system.clone_course()
        log(f"{suite}: make lab, as {USER}")
        try_make_lab(system, report)
        log(
            f"{suite}: lab at {report['lab_url']} after {report['setup_seconds']:.0f} s; "
            f"{report['without_token']} without its token"
        )
        doctor = system.chroot("make doctor", "make-doctor.log", 600, user=True, check=False)
        report["doctor"] = (system.out / "make-doctor.log").read_text().split("\n", 1)[1].rstrip()
        report["doctor_ok"] = doctor.returncode == 0
        command = (
            "make test"
            if tests == "all"
            else "make install && .venv/bin/python -m pytest -p no:cacheprovider "
            + " ".join(f"'{t}'" for t in CI_TESTS)
        )
        report["test_command"] = command
        log(f"{suite}: {command}")
        started = time.monotonic()
        done = system.chroot(command, "make-test.log", 4 * 3600, user=True, check=False)
        report["test_seconds"] = time.monotonic() - started
        report["test_summary"] = summary_line((system.out / "make-test.log").read_text(errors="replace"))
        report["ok"] = done.returncode == 0 and report["doctor_ok"]
        if done.returncode != 0:
            report["error"] = f"the tests failed; see {system.out / 'make-test.log'}"
        elif not report["doctor_ok"]:
            report["error"] = "`make doctor` reported a failed check"
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as error:
        report["error"] = str(error)
    finally:
        system.unmount()
        if not keep:
            system.remove()
    return report


def format_report(reports: list[dict], tests: str) -> str:
    lines = [
        "# The README followed on fresh systems",
        "",
        f"Suite: {'all of `make test`' if tests == 'all' else 'the CI part: ' + ', '.join(CI_TESTS)}",
        "",
    ]
    for r in reports:
        lines += [f"## {r['system']}: {'passed' if r['ok'] else 'FAILED'}", ""]
        for key, label in (
            ("python", "Python"),
            ("debootstrap_seconds", "debootstrap"),
            ("apt_seconds", "README's apt line"),
            ("setup_seconds", "`make lab` until its URL (set-up included)"),
            ("lab_url", "lab URL"),
            ("without_token", "HTTP status without the token"),
            ("with_token", "with the token"),
            ("test_command", "tests run"),
            ("test_seconds", "tests took"),
            ("test_summary", "test summary"),
            ("error", "error"),
        ):
            if key in r:
                value = f"{r[key]:.0f} s" if key.endswith("seconds") else r[key]
                lines.append(f"- {label}: {value}")
        if "doctor" in r:
            lines += ["", "`make doctor`:", "", "```", r["doctor"], "```"]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--systems", default="bookworm,trixie", help="comma-separated Debian suites (default: %(default)s)"
    )
    parser.add_argument("--tests", choices=["all", "ci"], default="all", help="all of `make test`, or the CI part")
    parser.add_argument("--folder", type=Path, default=Path("/var/tmp/course-fresh-systems"))
    parser.add_argument("--keep", action="store_true", help="keep the root file systems (for a look inside)")
    args = parser.parse_args()
    # A stopped run still unmounts and removes its systems (the `finally` below runs on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        print("fresh systems: not run here (needs root and debootstrap: `apt install debootstrap`)")
        return 0
    suites = args.systems.split(",")
    unknown = [s for s in suites if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
    if subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, timeout=60
    ).stdout.strip():
        log("note: uncommitted changes are not followed; the fresh systems get the committed HEAD")
    args.folder.mkdir(parents=True, exist_ok=True)
    reports = [follow_the_readme(suite, args.folder, args.tests, args.keep) for suite in suites]
    text = format_report(reports, args.tests)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
