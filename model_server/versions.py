"""The numbered version folders of a model's base path, in one place: <base path>/<version>/saved_model.pb.

TF Serving (and this package's server) lists the base path's children and keeps those whose name is a
number; it serves the highest by default. Everything that writes or reads those folders (an export, the
continuous-improvement cycle, a course reset, the server's own poll) goes through these functions, so
they agree on what a version is:

- a version folder's name is ASCII digits only, compared as a number: "10" comes after "2";
- anything else (files, "latest", hidden temporary folders such as ".export-3-...") is not a version;
- a version appears in one rename, complete, or not at all: `publish` writes into a hidden temporary
  folder beside the version and renames it into place, so a server polling the base path never sees a
  half-written model;
- `withdraw` makes a version invisible in one rename too, then deletes it.

Standard library only: this module is part of model_server's client API and imports nothing else.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Prefixes of the hidden folders publish and withdraw use; a crash may leave one behind, never a version.
STAGING_PREFIXES = (".export-", ".replaced-", ".withdrawn-")


class VersionNotFoundError(FileNotFoundError):
    """The base path has no such version folder."""


class VersionExistsError(FileExistsError):
    """A version folder of that number exists already and was not to be replaced."""


def is_version_name(name: str) -> bool:
    """True for a folder name TF Serving reads as a version: ASCII digits only ("²" or "1.0" are not)."""
    return name.isascii() and name.isdigit()


def is_staging_name(name: str) -> bool:
    """True for the hidden temporary folders of publish and withdraw (left over only after a crash)."""
    return name.startswith(STAGING_PREFIXES)


def check_version(version: Any) -> int:
    """`version` as an int if it is a whole number from 1 up; ValueError (naming it) otherwise."""
    if isinstance(version, bool) or not hasattr(version, "__index__") or int(version) < 1:
        raise ValueError(
            f"a version is a whole number from 1 up (TF Serving reads the folder name as a number), got {version!r}"
        )
    return int(version)


def version_path(base_path: str | Path, version: int) -> Path:
    """<base_path>/<version>: where a server looks for one version."""
    return Path(base_path) / str(check_version(version))


def list_versions(base_path: str | Path) -> dict[int, Path]:
    """{number: folder} of the numbered folders in base_path, oldest first; {} if base_path is missing.

    Sorted as numbers, not as text (as text "10" would come before "2"). Only folders count.
    """
    base = Path(base_path)
    if not base.is_dir():
        return {}
    found = {int(child.name): child for child in base.iterdir() if is_version_name(child.name) and child.is_dir()}
    return dict(sorted(found.items()))


def latest_version(base_path: str | Path) -> int | None:
    """The highest version in base_path (what a server serves by default), or None if there is none."""
    return max(list_versions(base_path), default=None)


def next_version(base_path: str | Path) -> int:
    """One more than the highest version in base_path: 1 for an empty or missing one."""
    return (latest_version(base_path) or 0) + 1


def publish(
    base_path: str | Path, version: int, source: str | Path | Callable[[Path], Any], replace: bool = False
) -> Path:
    """Make <base_path>/<version> appear complete, in one rename; the version folder.

    source: a folder to copy (e.g. a SavedModel), or a function that writes the version's files into the
    folder it is given. Either way the files go to a hidden temporary folder beside the version first;
    only when they are all written is that folder renamed to the version number, so a server never sees
    half a model. On any failure the temporary folder is removed and nothing new is visible.
    An existing version is replaced only with replace=True (the old one is kept until the new one is in).
    """
    base = Path(base_path)
    target = version_path(base, version)
    if target.exists() and not replace:
        raise VersionExistsError(
            f"{target} exists already: a published version is not overwritten "
            "(publish another number, or pass replace=True)"
        )
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIXES[0]}{target.name}-", dir=base))
    try:
        if callable(source):
            source(staging)
        else:
            shutil.copytree(source, staging, dirs_exist_ok=True)
        if target.exists():
            old = base / f"{STAGING_PREFIXES[1]}{target.name}-{uuid.uuid4().hex[:8]}"
            target.rename(old)
            try:
                staging.rename(target)
            except OSError:
                old.rename(target)  # put the previous version back rather than leave none
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # only still there when something failed
    return target


def withdraw(base_path: str | Path, version: int) -> None:
    """Take a version away: at once invisible to a server (one rename), then deleted.

    A server then falls back to the highest remaining version. VersionNotFoundError if there is none.
    """
    target = version_path(base_path, version)
    if not target.is_dir():
        raise VersionNotFoundError(
            f"cannot withdraw version {int(version)}: {target} does not exist "
            f"(versions in {Path(base_path)}: {list(list_versions(base_path)) or 'none'})"
        )
    hidden = Path(base_path) / f"{STAGING_PREFIXES[2]}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    target.rename(hidden)
    shutil.rmtree(hidden, ignore_errors=True)
