"""requirements.txt (the direct pins, with their reasons) and requirements.lock (everything, with hashes).

The lock is what set-up installs; `make lock` makes it from requirements.txt with uv's universal
resolution, so one file serves Linux and macOS and every supported Python, its markers choosing per
machine. These functions read both files and compare them with what an environment holds, for the
doctor and the tests: a package that drifted in by hand or a lock older than its pins is found here.
"""

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from workshop_lib import config

LOCK_FILE = config.REPO_ROOT / "requirements.lock"
# In .venv but not the lock's business: the course's own editable package.
NOT_LOCKED = {"workshop-lib"}
_LOCKED_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


@dataclass(frozen=True)
class Locked:
    name: str  # canonical: lower case, '-' for '_' and '.'
    version: str
    marker: str | None  # e.g. "python_full_version < '3.12'": the platforms and Pythons this pin is for
    via: tuple[str, ...]  # who needs it: other locked packages, or "-r requirements.txt"


def pinned_requirements(path: Path = config.REQUIREMENTS_FILE) -> dict[str, str]:
    """The `name==version` lines of requirements.txt (comments and blank lines skipped)."""
    pins = {}
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        if not match:
            raise ValueError(f"{path}:{number}: '{line}' is not pinned as name==version")
        pins[match[1]] = match[2]
    return pins


def read_lock(path: Path = LOCK_FILE) -> list[Locked]:
    """Every pin of a uv/pip-compile lock, with its marker and its `# via` lines."""
    entries: list[Locked] = []
    current: dict | None = None
    in_via = False
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line and not line[0].isspace() and not line.startswith("#"):
            match = _LOCKED_LINE.match(line)
            if not match:
                raise ValueError(f"{path}:{number}: '{line}' is not a pin of the form name==version [; marker]")
            current = {"name": canonicalize_name(match[1]), "version": match[2], "marker": match[3], "via": []}
            entries.append(current)  # type: ignore[arg-type]
            in_via = False
            continue
        text = line.strip()
        if current is None or not text.startswith("#"):
            continue
        comment = text.lstrip("#").strip()
        if comment.startswith("via"):
            rest = comment[3:].strip()
            in_via = not rest
            if rest:
                current["via"].append(rest)
        elif in_via and comment:
            current["via"].append(comment)
    return [Locked(e["name"], e["version"], e["marker"], tuple(e["via"])) for e in entries]  # type: ignore[index]


def locked_for_this_python(path: Path = LOCK_FILE) -> dict[str, str]:
    """What the lock installs on this machine and Python: the pins whose marker holds here."""
    return {
        entry.name: entry.version
        for entry in read_lock(path)
        if entry.marker is None or Marker(entry.marker).evaluate()
    }


def installed_packages() -> dict[str, str]:
    """Every distribution this Python sees (the running .venv), canonical name -> version."""
    return {canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}


def differences_from_lock(path: Path = LOCK_FILE, installed: dict[str, str] | None = None) -> list[str]:
    """What differs between this environment and the lock, one phrase each; empty when they agree."""
    wanted = locked_for_this_python(path)
    have = installed_packages() if installed is None else installed
    problems = [
        f"{name} missing (the lock names {version})" for name, version in sorted(wanted.items()) if name not in have
    ]
    problems += [
        f"{name} {have[name]} (the lock names {version})"
        for name, version in sorted(wanted.items())
        if name in have and have[name] != version
    ]
    problems += [
        f"{name} {version} (not in the lock)"
        for name, version in sorted(have.items())
        if name not in wanted and name not in NOT_LOCKED
    ]
    return problems


def not_locked(path: Path = LOCK_FILE) -> list[str]:
    """Installed packages the lock does not name for this Python: what a pip set-up removes (uv's sync does)."""
    wanted = locked_for_this_python(path)
    return sorted(name for name in installed_packages() if name not in wanted and name not in NOT_LOCKED)


def disagreements_with_requirements(requirements: Path = config.REQUIREMENTS_FILE, lock: Path = LOCK_FILE) -> list[str]:
    """Where the lock no longer follows requirements.txt: a pin it lacks or has at another version,
    or a package nothing in requirements.txt needs any more. Empty when `make lock` is not needed."""
    entries = read_lock(lock)
    pins = {canonicalize_name(name): version for name, version in pinned_requirements(requirements).items()}
    versions: dict[str, set[str]] = {}
    for entry in entries:
        versions.setdefault(entry.name, set()).add(entry.version)
    problems = [
        f"{name}=={version} is in requirements.txt but not in the lock"
        for name, version in pins.items()
        if name not in versions
    ]
    problems += [
        f"{name}: requirements.txt pins {version}, the lock has {', '.join(sorted(versions[name]))}"
        for name, version in pins.items()
        if name in versions and versions[name] != {version}
    ]
    # Walk the `# via` lines from requirements.txt's own entries: anything not reached is left over.
    needed_by: dict[str, set[str]] = {}
    for entry in entries:
        needed_by.setdefault(entry.name, set()).update(
            canonicalize_name(v) if not v.startswith("-r") else v for v in entry.via
        )
    reached = {name for name in pins if name in versions}
    changed = True
    while changed:
        new = {name for name, parents in needed_by.items() if name not in reached and parents & reached}
        reached |= new
        changed = bool(new)
    problems += [
        f"{name} is in the lock but nothing in requirements.txt needs it"
        for name in sorted(versions)
        if name not in reached
    ]
    return problems


if __name__ == "__main__":  # tools/setup.sh: `python -m course.lockfile --not-locked`
    import sys

    if sys.argv[1:] != ["--not-locked"]:
        sys.exit("usage: python -m course.lockfile --not-locked")
    print("\n".join(not_locked()))
