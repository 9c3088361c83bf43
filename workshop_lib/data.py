"""The course data: the wine-quality files, and proof that they are the files we think they are.

The expected sha256 values live in one place, the data set's README (data/wine-quality/README.md),
next to the attribution that must travel with the files.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from workshop_lib.config import WINE_DATA_DIR

WINE_FILES = {"red": "winequality-red.csv", "white": "winequality-white.csv"}

_TABLE_ROW = re.compile(r"^\|\s*(?P<file>[\w.-]+\.csv)\s*\|\s*(?P<rows>\d+)\s*\|\s*(?P<sha>[0-9a-f]{64})\s*\|")


@dataclass(frozen=True)
class ExpectedFile:
    name: str
    rows: int
    sha256: str


def expected_files(data_dir: Path = WINE_DATA_DIR) -> dict[str, ExpectedFile]:
    """Read the file table (name, rows, sha256) from the data set's README."""
    readme = Path(data_dir) / "README.md"
    if not readme.is_file():
        raise FileNotFoundError(f"{readme} is missing: it holds the data's checksums and attribution.")
    found = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = _TABLE_ROW.match(line)
        if match:
            found[match["file"]] = ExpectedFile(match["file"], int(match["rows"]), match["sha"])
    if not found:
        raise ValueError(f"{readme} has no table of '| file | rows | sha256 |' rows.")
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_problems(data_dir: Path = WINE_DATA_DIR) -> list[str]:
    """One plain sentence per data file that is missing or differs from the README; empty when all is well."""
    problems = []
    for name, expected in expected_files(data_dir).items():
        path = Path(data_dir) / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif (actual := sha256_of(path)) != expected.sha256:
            problems.append(f"{path} has sha256 {actual[:12]}..., expected {expected.sha256[:12]}...")
    return problems
