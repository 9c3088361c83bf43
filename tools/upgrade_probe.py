"""`make upgrade-probe`: would the course still work with the newest release of every direct dependency?

The 2020 workshop this course grows from rotted because nobody ran it against new releases. This probe
does, in a scratch venv under build/upgrade-probe/ (never .venv): it asks uv for the newest release of
every `name==version` line of requirements.txt (for one supported Python), installs the newest set the
resolver allows, the course's package as tools/setup.sh does, then runs ruff, the fast part of tests/
(not the notebook or server tests) and every notebook of notebooks/ and solutions/ with the CI
parameters. When something fails, it reruns just that on top of the pins with one upgrade at a time, so
the table says which upgrade breaks what. It never writes requirements.txt or requirements.lock: all it
writes is under build/upgrade-probe/, and it checks both files' bytes before and after.

Usage: python tools/upgrade_probe.py [--python 3.13] [--only tests|notebooks] [--attribute-minutes N]
Exit status: 0 all passed, 1 something failed (the table says what), 2 bad usage.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from course import lockfile, notebooks

REPO_ROOT = Path(__file__).resolve().parent.parent
PROBE_DIR = Path("build") / "upgrade-probe"  # relative to the repository; everything the probe writes is in it
PROTECTED = ("requirements.txt", "requirements.lock")
NOTEBOOK_FOLDERS = ("notebooks", "solutions")
# The fast part of tests/: no notebook runs (tests/test_notebooks.py's papermill and nbval runs), no JupyterLab.
TEST_MARKERS = "not notebooks and not server"
# Tests that check that the venv is exactly the lock: in an upgraded venv they fail by design.
EXPECTED_TO_DIFFER = (
    "tests/test_requirements.py::test_this_venv_holds_exactly_what_the_lock_names",
    "tests/course/test_doctor.py::test_this_machine_is_ready",
    "tests/course/test_doctor.py::test_cli_prints_the_table_and_exits_zero_here",
)
TESTS_TIMEOUT_SECONDS = 3600
NOTEBOOK_TIMEOUT_SECONDS = 900  # a whole notebook, as tests/test_notebooks.py allows a lesson
TEST_START_SECONDS = 20  # pytest's start with two xdist workers
INSTALL_SECONDS = 30  # about what one upgrade and the restore of the pins take, for the attribution estimate
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class UsageError(Exception):
    """Bad usage: exit status 2, with a message that names what is wrong."""


# ---------------------------------------------------------------- pure parts (tests/test_upgrade_probe.py)


def read_pins(path: Path) -> dict[str, str]:
    """requirements.txt's `name==version` lines, in file order (course.lockfile reads them); else bad usage."""
    try:
        pins = lockfile.pinned_requirements(path)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not pins:
        raise UsageError(f"{path}: no name==version line")
    return pins


def parse_compiled(text: str) -> dict[str, str]:
    """`uv pip compile` output: canonical name -> version."""
    return {canonicalize_name(name): version for name, version in _PIN.findall(text)}


def held_back(name: str, newest: str, requirements: list[tuple[str, str]]) -> list[str]:
    """Who keeps `name` below `newest`: the installed packages whose requirement on it excludes that release.

    `requirements`: (installed package, requirement string) pairs whose markers hold in the scratch venv.
    """
    found = []
    for owner, text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == canonicalize_name(name) and not requirement.specifier.contains(
            newest, prereleases=True
        ):
            found.append(f"{owner} needs {requirement.name}{requirement.specifier}")
    return sorted(set(found))


def locked_versions(lock: Path, python: str) -> dict[str, str]:
    """What requirements.lock installs for Python X.Y on this platform (its markers evaluated for that Python)."""
    from course import lockfile

    environment = {"python_version": python, "python_full_version": f"{python}.0"}
    return {
        entry.name: entry.version
        for entry in lockfile.read_lock(lock)
        if entry.marker is None or Marker(entry.marker).evaluate(environment)
    }


def below_the_lock(resolved: dict[str, str], locked: dict[str, str], direct: set[str]) -> list[str]:
    """Indirect dependencies the newest set installs at an older version than the lock's: something holds them."""
    older = []
    for name, version in sorted(resolved.items()):
        if name in direct or name not in locked:
            continue
        try:
            if Version(version) < Version(locked[name]):
                older.append(name)
        except InvalidVersion:
            continue
    return older


@dataclass(frozen=True)
class Failure:
    item: str  # what to rerun: a pytest node id, a notebook's path, "ruff check" or "ruff format"
    detail: str  # one line: where and what
    seconds: float = 0.0  # what it took (a failed test's own time, from the junit XML)


def junit_failures(path: Path) -> list[Failure]:
    """The failed and errored tests of a pytest junit XML (junit_family=xunit1: it names each test's file)."""
    failures = []
    for case in ET.parse(path).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        failures.append(Failure(node_id(case), junit_detail(problem), float(case.get("time") or 0)))
    return failures


def junit_detail(problem: ET.Element) -> str:
    """One line for a failed test: its message's first line; for a failed assert, the assert statement and
    where it is (an assert's message may be a whole log, whose first line says nothing)."""
    message = first_line(problem.get("message") or problem.text or problem.tag)
    text = problem.text or ""
    statements = re.findall(r"^>\s+(.+)$", text, re.M)
    located = re.findall(r"^(\S+\.py:\d+): (\w+)$", text, re.M)
    if statements and located and located[-1][1] == "AssertionError":
        return f"AssertionError at {located[-1][0]}: {statements[-1].strip()}"
    return message


def node_id(case: ET.Element) -> str:
    """tests/a/test_b.py::TestC::test_d[x] from a junit testcase's file, classname and name."""
    classname, name, file = case.get("classname", ""), case.get("name", ""), case.get("file")
    if not file:
        return f"{classname}::{name}"
    module = file.removesuffix(".py").replace("/", ".")
    classes = classname[len(module) + 1 :].split(".") if classname.startswith(module + ".") else []
    return "::".join([file, *classes, name])


def first_line(text: str) -> str:
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def own_cells(nb: dict):
    """(number, cell) of the notebook's own cells, from 1 as committed: papermill's injected parameters cell and
    its error banners are not counted, so a reported cell number is the one a maintainer finds in the file."""
    number = 0
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        number += 1
        yield number, cell


def notebook_failure(nb: dict) -> tuple[int, str] | None:
    """(cell number, 'ErrorType: first line') of an executed notebook's first error, or None."""
    for number, cell in own_cells(nb):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = first_line(output.get("evalue", ""))
                return number, f"{output.get('ename', 'Error')}: {message}" if message else output.get("ename", "Error")
    return None


def stream_text(output: dict) -> str:
    """The text of a stream output ('' for any other), whether one string or, as on disk, a list of lines."""
    if output.get("output_type") != "stream":
        return ""
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def tf_log_output(nb: dict) -> tuple[int, str] | None:
    """(cell number, the line) of the first TensorFlow C++ log line in a notebook's outputs, or None.

    The course's kernel silences them (TF_CPP_MIN_LOG_LEVEL=3): participants must not see them, and
    tests/test_notebooks.py fails a notebook that shows any.
    """
    for number, cell in own_cells(nb):
        for output in cell.get("outputs", []):
            text = stream_text(output)
            match = notebooks.TF_LOG_LINE.search(text)
            if match:
                line = text[match.start() :].splitlines()[0]
                return number, line[:100] + ("..." if len(line) > 100 else "")
    return None


def wrong_verdicts(nb: dict, pattern: str, correct: str) -> list[tuple[int, str]]:
    """(cell number, text) of every exercise check in a solution that does not say `correct`."""
    found = []
    for number, cell in own_cells(nb):
        for output in cell.get("outputs", []):
            for exercise, status in re.findall(pattern, stream_text(output)):
                if status != correct:
                    found.append((number, f"check {exercise} says '{status}'"))
    return found


@dataclass
class Row:
    name: str
    pinned: str
    newest: str
    installed: str | None  # what the all-newest venv got (None: the resolver failed)
    held_by: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)  # items this upgrade alone makes fail
    outcome: str = ""  # "passes" (everything did, all newest), "passes alone" (on the pins)
    brings: list[str] = field(default_factory=list)  # other upgraded direct dependencies its install pulled in

    def status(self) -> str:
        if self.installed is None:
            return "not installed (no resolution)"
        parts = []
        if self.installed != self.newest:
            who = f" ({'; '.join(self.held_by)})" if self.held_by else ""
            parts.append(f"held at {self.installed} by the resolver{who}")
        if self.installed == self.pinned:
            parts.append("up to date" if not parts else "same as the pin")
        elif self.breaks:
            more = f" and {len(self.breaks) - 2} more" if len(self.breaks) > 2 else ""
            parts.append("breaks " + ", ".join(self.breaks[:2]) + more)
            if self.brings:
                parts.append(f"with {', '.join(self.brings)}, which it pulls in")
        elif self.outcome:
            parts.append(self.outcome)
        else:
            parts.append("upgraded")
        return "; ".join(parts)


def render(rows: list[Row], sections: list[tuple[str, list[str]]], header: str) -> str:
    """The Markdown report: the table, then one line per first failure."""
    lines = [header, "", "| package | pinned | newest | status / what failed first |", "|---|---|---|---|"]
    lines += [f"| {r.name} | {r.pinned} | {r.newest} | {r.status().replace('|', '/')} |" for r in rows]
    for title, entries in sections:
        lines += ["", f"**{title}**", ""] + [f"- {entry}" for entry in entries]
    return "\n".join(lines) + "\n"


def checksums(repo: Path) -> dict[str, str]:
    return {
        name: hashlib.sha256((repo / name).read_bytes()).hexdigest() if (repo / name).exists() else "absent"
        for name in PROTECTED
    }


def supported_pythons(repo: Path) -> list[tuple[int, int]]:
    """course/doctor.py's SUPPORTED_PYTHONS, read as text (no import: the probe may run outside .venv)."""
    match = re.search(r"^SUPPORTED_PYTHONS = (.+)$", (repo / "course" / "doctor.py").read_text(encoding="utf-8"), re.M)
    return [(int(a), int(b)) for a, b in re.findall(r"\((\d+),\s*(\d+)\)", match[1])] if match else []


# ---------------------------------------------------------------- running things


@dataclass
class Done:
    returncode: int
    output: str
    seconds: float


class Runner:
    """Runs the probe's commands, each logged to a file of its own; the tests replace it with a fake."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.count = 0

    def run(self, name: str, cmd: list[str], env: dict | None = None, cwd: Path | None = None, timeout=None) -> Done:
        self.count += 1
        log = self.log_dir / f"{self.count:03d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)[:80]}.log"
        start = time.monotonic()
        try:
            done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as error:
            code, stdout, stderr = -1, "", f"timed out after {timeout} s\n{error.stdout or ''}{error.stderr or ''}"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(map(str, cmd))}\n{stdout}{stderr}", encoding="utf-8")
        # `uv pip compile` prints the pins on stdout and its progress on stderr: only stdout is the answer.
        answer = stdout if code == 0 and "compile" in cmd else stdout + stderr
        return Done(code, answer, time.monotonic() - start)


class Probe:
    def __init__(self, repo: Path, python: str, runner: Runner | None = None, uv: str | None = None) -> None:
        self.repo = repo.resolve()
        self.dir = self.repo / PROBE_DIR
        self.python = python  # a version ("3.13") or an interpreter's path
        self.runner = runner or Runner(self.dir / "logs")
        self.uv = uv or find_uv(self.repo)
        self.env = probe_environment(self.repo)
        self.only: str | None = None  # "tests" or "notebooks": run only those
        self.version = ""  # X.Y of the Python probed

    # Every file the probe itself writes goes through here.
    def write(self, path: Path, text: str) -> Path:
        path = Path(path).resolve()
        if not path.is_relative_to(self.dir):
            raise RuntimeError(f"the upgrade probe writes only under {self.dir}, not {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, name, cmd, **kwargs) -> Done:
        print(f"  {name} ...", flush=True)
        return self.runner.run(name, [str(c) for c in cmd], env=kwargs.pop("env", self.env), **kwargs)

    def compile(self, names_file: Path, version: str, no_deps: bool) -> Done:
        extra = ["--no-deps"] if no_deps else []
        args = ["pip", "compile", "--python-version", version, "--no-header", "--no-annotate", *extra, names_file]
        return self.run("uv pip compile" + (" --no-deps" if no_deps else ""), [self.uv, *args])

    def make_venv(self, venv: Path, requirements: Path, locked: bool) -> Done:
        """A venv set up as tools/setup.sh does: the packages, the course's package (editable), the kernel."""
        python = venv / "bin" / "python"
        sync = [self.uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", python]
        if locked:  # the lock as set-up installs it: hashes checked, its setuptools builds the one source package
            sync += ["--require-hashes", "--build-constraints", requirements]
        steps = [
            (f"uv venv {venv.name}", [self.uv, "venv", "--clear", "--quiet", "--python", self.python, venv]),
            (f"install {requirements.name} into {venv.name}", [*sync, requirements]),
            *self.project_steps(python),
        ]
        for name, cmd in steps:
            done = self.run(name, cmd)
            if done.returncode:
                break
        return done

    def project_steps(self, python: Path) -> list[tuple[str, list]]:
        """tools/setup.sh's last two steps: the course's package, editable, and the notebooks' kernel."""
        install = [self.uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "--no-build-isolation"]
        kernel = [python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"]
        kernel += ["--display-name", "Python 3 (workshop)", "--env", "TF_CPP_MIN_LOG_LEVEL", "3"]
        return [("install the course (editable)", [*install, "-e", self.repo]), ("register the kernel", kernel)]

    def venv_env(self, venv: Path, label: str) -> dict:
        """The environment of a run in `venv`: its bin first on PATH, lesson files under the probe's folder."""
        return {
            **self.env,
            "VIRTUAL_ENV": str(venv),
            "PATH": os.pathsep.join([str(venv / "bin"), self.env["PATH"]]),
            "WORKSHOP_TEST_BUILD": str(self.dir / label / "test-build"),
            "WORKSHOP_WORKSPACE": str(self.dir / label / "workspace"),
            "WORKSHOP_MODELS": str(self.dir / label / "models"),
        }

    # ------------------------------------------------------------ the three kinds of checks

    def lint(self, venv: Path, label: str) -> list[Failure]:
        failures = []
        for what in (["check", "."], ["format", "--check", "."]):
            done = self.run(f"ruff {what[0]} ({label})", [venv / "bin" / "ruff", *what], cwd=self.repo)
            if done.returncode:
                failures.append(Failure(f"ruff {what[0]}", f"ruff {what[0]}: {first_line(done.output)}"))
        return failures

    def tests(self, venv: Path, label: str, node_ids: list[str] | None = None) -> tuple[list[Failure], float]:
        junit = self.dir / label / "junit.xml"
        junit.unlink(missing_ok=True)
        cmd = [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
        cmd += ["-n", "2", "--dist", "loadgroup", "-m", TEST_MARKERS, "-o", "junit_family=xunit1"]
        cmd += [f"--junitxml={junit}"] + [f"--deselect={test}" for test in EXPECTED_TO_DIFFER]
        cmd += node_ids or ["tests"]
        done = self.run(
            f"unit tests ({label})", cmd, env=self.venv_env(venv, label), cwd=self.repo, timeout=TESTS_TIMEOUT_SECONDS
        )
        if not junit.exists():
            return [Failure("tests", f"pytest exited {done.returncode} without a report: {first_line(done.output)}")], 0
        failures = junit_failures(junit)
        if done.returncode not in (0, 1) or (done.returncode == 1 and not failures):
            failures.append(Failure("tests", f"pytest exited {done.returncode}: {last_line(done.output)}"))
        return failures, done.seconds

    def notebook(self, venv: Path, label: str, notebook: str) -> tuple[Failure | None, float]:
        """One notebook in `venv`'s kernel, executed into build/upgrade-probe/LABEL/executed/ (never in place)."""
        result = self.dir / label / "results" / (notebook.replace("/", "__") + ".json")
        result.unlink(missing_ok=True)
        cmd = [venv / "bin" / "python", Path(__file__).resolve(), "--run-notebook", notebook]
        cmd += ["--output", self.dir / label / "executed" / notebook, "--result", result]
        cmd += ["--cwd", self.dir / label / "scratch" / Path(notebook).with_suffix("")]
        done = self.run(
            f"{notebook} ({label})",
            cmd,
            env=self.venv_env(venv, label),
            cwd=self.repo,
            timeout=NOTEBOOK_TIMEOUT_SECONDS,
        )
        if not result.exists():
            return Failure(notebook, f"{notebook}: the run died ({last_line(done.output)})"), done.seconds
        outcome = json.loads(result.read_text(encoding="utf-8"))
        return (Failure(notebook, f"{notebook}: {outcome['failure']}") if outcome["failure"] else None), done.seconds

    def check(self, venv: Path, label: str, items: list[str] | None = None) -> tuple[list[Failure], dict[str, float]]:
        """Lint, tests and notebooks (or only the given items): their failures and the seconds each took."""
        failures, seconds = [], {}
        wanted = set(items) if items is not None else None
        if wanted is None or any(item.startswith("ruff") for item in wanted):
            failures += [f for f in self.lint(venv, label) if wanted is None or f.item in wanted]
        if self.only in (None, "tests"):
            tests = None if wanted is None else [item for item in wanted if "::" in item or item == "tests"]
            if wanted is None or tests:
                found, took = self.tests(venv, label, [t for t in tests or [] if t != "tests"] or None)
                failures += found
                seconds["tests"] = took
        if self.only in (None, "notebooks"):
            for notebook in self.notebooks():
                if wanted is None or notebook in wanted:
                    failure, seconds[notebook] = self.notebook(venv, label, notebook)
                    failures += [failure] if failure else []
        return failures, seconds

    def notebooks(self) -> list[str]:
        return [
            path.relative_to(self.repo).as_posix()
            for folder in NOTEBOOK_FOLDERS
            for path in sorted((self.repo / folder).glob("[0-9][0-9]_*.ipynb"))
        ]

    # ------------------------------------------------------------ the whole probe

    def main(self, version: str, attribute_minutes: float) -> int:
        """The whole probe for Python `version`: the report printed and in build/upgrade-probe/report.md."""
        before = checksums(self.repo)
        self.version = version
        shutil.rmtree(self.dir / "logs", ignore_errors=True)  # this run's logs only
        pins = read_pins(self.repo / "requirements.txt")
        started = time.monotonic()
        print(f"Upgrade probe: the newest releases of {len(pins)} direct dependencies for Python {version}.")
        names = self.write(self.dir / "direct.in", "".join(f"{name}\n" for name in pins))
        newest_done = self.compile(names, version, no_deps=True)
        if newest_done.returncode:
            raise UsageError(f"uv could not look up the newest releases: {last_line(newest_done.output)}")
        newest = parse_compiled(newest_done.output)
        resolved_done = self.compile(names, version, no_deps=False)
        resolved = parse_compiled(resolved_done.output) if resolved_done.returncode == 0 else {}
        rows = [
            Row(name, pin, newest.get(canonicalize_name(name), "?"), resolved.get(canonicalize_name(name)) or None)
            for name, pin in pins.items()
        ]
        sections: list[tuple[str, list[str]]] = []
        code = 0
        if resolved_done.returncode:
            sections.append(("The newest releases cannot be installed together", [last_line(resolved_done.output)]))
            code = 1
        else:
            code = self.probe(rows, resolved_done.output, sections, attribute_minutes)
        after = checksums(self.repo)
        if after != before:
            changed = [name for name in PROTECTED if before[name] != after[name]]
            sections.append(("Changed during the run (restore them with git)", changed))
            code = 1
        minutes = (time.monotonic() - started) / 60
        header = f"## Upgrade probe: Python {version}, {time.strftime('%Y-%m-%d')}, {minutes:.0f} min"
        report = render(rows, sections, header)
        self.write(self.dir / "report.md", report)
        print("\n" + report)
        print(f"Report: {PROBE_DIR / 'report.md'}; logs of every command: {PROBE_DIR / 'logs'}/")
        return code

    def probe(self, rows: list[Row], resolved_text: str, sections: list, attribute_minutes: float) -> int:
        newest_file = self.write(self.dir / "newest.txt", resolved_text)
        venv = self.dir / "venv"
        done = self.make_venv(venv, newest_file, locked=False)
        if done.returncode:
            sections.append(("Setting up the newest releases failed", [last_line(done.output)]))
            return 1
        held = [row for row in rows if row.installed and row.installed != row.newest]
        resolved = parse_compiled(resolved_text)
        locked = locked_versions(self.repo / "requirements.lock", self.version)
        older = below_the_lock(resolved, locked, {canonicalize_name(row.name) for row in rows})
        requirements = self.installed_requirements(venv) if held or older else []
        for row in held:
            row.held_by = held_back(row.name, row.newest, requirements)
        if older:
            lines = []
            for name in older:
                who = held_back(name, locked[name], requirements)
                lines.append(f"{name} {locked[name]} -> {resolved[name]}" + (f" ({'; '.join(who)})" if who else ""))
            sections.append(("Indirect dependencies below the lock's version (held back by the resolver)", lines))
        failures, seconds = self.check(venv, "newest")
        sections += self.failure_sections(failures)
        if not failures:
            for row in rows:
                row.outcome = "passes"
            return 0
        upgraded = [row for row in rows if row.installed and row.installed != row.pinned]
        groups = same_failures(failures, seconds)
        items = sorted(groups)
        cost = len(upgraded) * (INSTALL_SECONDS + rerun_seconds([f for f in failures if f.item in groups], seconds))
        if not upgraded:
            sections.append(("Attribution", ["no direct dependency changed: the failures come from indirect ones"]))
        elif cost / 60 > attribute_minutes:
            minutes = cost / 60
            skipped = (
                f"skipped: {len(upgraded)} upgrades x {len(items)} failing items would take about {minutes:.0f} min"
            )
            hint = f"over --attribute-minutes {attribute_minutes:g}; rerun with --attribute-minutes {minutes + 5:.0f}"
            sections.append(("Attribution", [f"{skipped} ({hint})"]))
        else:
            lines = self.attribute(upgraded, groups)
            lines += [
                f"{len(group)} notebooks fail the same way: rerun as {item}"
                for item, group in groups.items()
                if len(group) > 1
            ]
            sections.append(("Attribution (one upgrade at a time on top of the pins)", lines))
        return 1

    def failure_sections(self, failures: list[Failure]) -> list[tuple[str, list[str]]]:
        tests = [f for f in failures if "::" in f.item or f.item == "tests"]
        others = [f for f in failures if f not in tests]
        section = [f.detail for f in others if f.item.startswith("ruff")]
        if self.only in (None, "tests"):
            section.append(
                f"unit tests: {tests[0].item}: {tests[0].detail}"
                + (f" (and {len(tests) - 1} more)" if tests[1:] else "")
                if tests
                else "unit tests: passed"
            )
        if self.only in (None, "notebooks"):
            failed = {f.item: f.detail for f in others}
            section += [failed.get(notebook, f"{notebook}: passed") for notebook in self.notebooks()]
        return [("First failures", section)]

    def attribute(self, upgraded: list[Row], groups: dict[str, list[str]]) -> list[str]:
        """Rerun the failing items (one of each group) with the pins, then with one upgrade at a time on them."""
        items = sorted(groups)
        venv = self.dir / "pinned-venv"
        lock = self.repo / "requirements.lock"
        done = self.make_venv(venv, lock, locked=True)
        if done.returncode:
            return [f"setting up the pins failed: {last_line(done.output)}"]
        failing_with_pins = {f.item for f in self.check(venv, "pinned", items)[0]}
        lines = [
            f"{item}: fails with the pins too (not an upgrade's doing)"
            for rerun in sorted(failing_with_pins)
            for item in groups[rerun]
        ]
        items = [item for item in items if item not in failing_with_pins]
        explained: set[str] = set()
        for row in upgraded:
            if not items:
                break
            install = self.run(
                f"upgrade {row.name}",
                [self.uv, "pip", "install", "--python", venv / "bin" / "python", f"{row.name}=={row.installed}"],
            )
            direct = {canonicalize_name(other.name) for other in upgraded} - {canonicalize_name(row.name)}
            row.brings = [f"{name} {version}" for name, version in installed_by(install.output) if name in direct]
            if install.returncode:
                lines.append(
                    f"{row.name} {row.installed} alone cannot be installed on the pins: {last_line(install.output)}"
                )
            else:
                broken = {f.item for f in self.check(venv, f"with-{canonicalize_name(row.name)}", items)[0]}
                row.breaks, row.outcome = sorted(item for rerun in broken for item in groups[rerun]), "passes alone"
                explained |= broken
            restore = [self.uv, "pip", "sync", "--quiet", "--python", venv / "bin" / "python", "--require-hashes"]
            restore += ["--build-constraints", lock, lock]
            for name, cmd in [("restore the pins", restore)] + self.project_steps(venv / "bin" / "python"):
                if self.run(name, cmd).returncode:
                    return lines + [f"restoring the pins failed ({name}): see {PROBE_DIR / 'logs'}/"]
        lines += [
            f"{item}: no single upgrade makes it fail (a combination, or an indirect dependency)"
            for rerun in items
            if rerun not in explained
            for item in groups[rerun]
        ]
        return lines or ["every failure comes from one upgrade (see the table)"]

    def installed_requirements(self, venv: Path) -> list[tuple[str, str]]:
        """(package, requirement) of every package in `venv` whose marker holds there (extras left out)."""
        code = (
            "import json\nfrom importlib import metadata\nfrom packaging.requirements import Requirement\n"
            "out = []\nfor d in metadata.distributions():\n  for r in d.requires or []:\n"
            "    q = Requirement(r)\n    if q.marker is None or q.marker.evaluate({'extra': ''}):\n"
            "      out.append((d.metadata['Name'], r))\nprint(json.dumps(out))\n"
        )
        done = self.run("requirements of the installed packages", [venv / "bin" / "python", "-c", code])
        return [tuple(pair) for pair in json.loads(done.output)] if done.returncode == 0 else []


def same_failures(failures: list[Failure], seconds: dict[str, float]) -> dict[str, list[str]]:
    """The failures to rerun, one per way of failing: the quickest item of each group -> all the group's items.

    Notebooks that fail with the same error (whatever the cell) are one group; every test is its own.
    """
    groups: dict[str, list[Failure]] = {}
    for failure in failures:
        notebook = failure.item.endswith(".ipynb")
        key = re.sub(r"^\S+: cell \S+: ", "", failure.detail) if notebook else failure.item
        groups.setdefault(key, []).append(failure)
    return {
        min(group, key=lambda f: (seconds.get(f.item, f.seconds), f.item)).item: sorted(f.item for f in group)
        for group in groups.values()
    }


def installed_by(output: str) -> list[tuple[str, str]]:
    """(canonical name, version) of what a `uv pip install` added or changed: its ' + name==version' lines."""
    return [(canonicalize_name(name), version) for name, version in re.findall(r"^ \+ (\S+)==(\S+)", output, re.M)]


def rerun_seconds(failures: list[Failure], seconds: dict[str, float]) -> float:
    """About how long rerunning the failures takes: a notebook as long as it took, tests their own time
    plus pytest's start; a failure of the whole pytest run (no test named) the whole run."""
    items = {failure.item: failure for failure in failures}
    total = seconds.get("tests", 0) if "tests" in items else 0
    tests = [f for f in failures if "::" in f.item]
    total += (TEST_START_SECONDS + sum(f.seconds for f in tests)) if tests else 0
    return total + sum(seconds.get(item, 0) for item in items if item not in ("tests",) and "::" not in item) + 5


def last_line(text: str) -> str:
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def find_uv(repo: Path) -> str:
    """The uv requirements.txt pins, in .venv; a uv on PATH otherwise."""
    pinned = repo / ".venv" / "bin" / "uv"
    if pinned.exists():
        return str(pinned)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if (Path(folder) / "uv").is_file():
            return str(Path(folder) / "uv")
    raise UsageError("the probe needs uv: run `make install` (it puts the pinned uv into .venv)")


def probe_environment(repo: Path) -> dict:
    """This environment without .venv: its bin leaves PATH, so nothing in the scratch runs reaches it."""
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv_bin = str(repo / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    # As the Makefile sets them: the venv's kernel first, the course's JupyterLab settings; no Python downloads.
    env.update(
        UV_PYTHON_DOWNLOADS="never", JUPYTER_PREFER_ENV_PATH="1", JUPYTER_CONFIG_PATH=str(repo / "jupyter-config")
    )
    return env


def python_version(python: str, uv: str, env: dict) -> str:
    """X.Y of the Python the probe is for: a version as given, or what an interpreter's path runs."""
    if re.fullmatch(r"\d+\.\d+", python):
        found = subprocess.run([uv, "python", "find", python], capture_output=True, text=True, env=env)
        if found.returncode:
            raise UsageError(
                f"--python {python}: uv finds no Python {python} here; give its path: --python /path/to/python{python}"
            )
        return python
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
    except OSError as error:
        raise UsageError(f"--python {python}: {error.strerror}") from error
    if done.returncode:
        raise UsageError(f"--python {python} does not run as a Python")
    return done.stdout.strip()


def check_supported(version: str, supported: list[tuple[int, int]]) -> None:
    labels = [f"{a}.{b}" for a, b in supported]
    if version not in labels:
        raise UsageError(
            f"Python {version} is not supported: course/doctor.py's SUPPORTED_PYTHONS are {', '.join(labels)}"
        )


# ---------------------------------------------------------------- one notebook, inside the scratch venv


def run_notebook(notebook: str, output: Path, result: Path, cwd: Path) -> int:
    """Runs in the scratch venv's Python: execute one notebook with its CI parameters, record the first failure."""
    import nbformat
    import papermill

    from course.checks import CORRECT, VERDICT_PATTERN

    path = REPO_ROOT / notebook
    failure = None
    try:
        notebooks.execute(path, output, notebooks.ci_parameters(path), cwd=cwd)
    except papermill.PapermillExecutionError as error:
        failure = f"cell ?: {error.ename}: {first_line(str(error.evalue))}"
    except Exception as error:  # a dead kernel, a timeout: the notebook did not run through
        failure = f"{type(error).__name__}: {first_line(str(error))}"
    if output.exists():
        nb = nbformat.read(output, as_version=4)
        found = notebook_failure(nb)
        noise = tf_log_output(nb)
        if found:
            failure = f"cell {found[0]}: {found[1]}"
        elif noise:
            failure = f"cell {noise[0]}: TensorFlow C++ log lines in the output: {noise[1]}"
        elif failure is None and notebook.startswith("solutions/"):
            wrong = wrong_verdicts(nb, VERDICT_PATTERN, CORRECT)
            failure = f"cell {wrong[0][0]}: {wrong[0][1]}" if wrong else None
    result.parent.mkdir(parents=True, exist_ok=True)
    result.write_text(json.dumps({"notebook": notebook, "failure": failure}), encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", help="a supported Python version (3.13) or interpreter path; default: this one")
    parser.add_argument("--only", choices=["tests", "notebooks"], help="run only the unit tests or only the notebooks")
    parser.add_argument(
        "--attribute-minutes",
        type=float,
        default=30,
        help="rerun failures with one upgrade at a time when that takes at most this long (0: never; default 30)",
    )
    parser.add_argument("--run-notebook", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cwd", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_notebook:
        return run_notebook(args.run_notebook, args.output, args.result, args.cwd)
    try:
        if args.attribute_minutes < 0:
            raise UsageError("--attribute-minutes must be 0 or more")
        # Default: the Python behind this one (.venv's base interpreter), as tools/setup.sh would choose it.
        probe = Probe(REPO_ROOT, args.python or getattr(sys, "_base_executable", sys.executable))
        probe.only = args.only
        supported = supported_pythons(REPO_ROOT)
        if args.python and re.fullmatch(r"\d+\.\d+", args.python):
            check_supported(args.python, supported)  # before looking for it: 3.10 may exist, and is still wrong
        version = python_version(probe.python, probe.uv, probe.env)
        check_supported(version, supported)
        return probe.main(version, args.attribute_minutes)
    except UsageError as error:
        print(f"upgrade probe: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
