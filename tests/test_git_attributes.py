""".gitattributes protects what a Windows clone (core.autocrlf=true) would break: every pattern names
files that exist, the checksummed data files are checked out byte for byte, scripts keep LF."""

import subprocess

from workshop_lib.config import REPO_ROOT

ATTRIBUTES = REPO_ROOT / ".gitattributes"


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60).stdout


def patterns() -> list[str]:
    lines = ATTRIBUTES.read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]


def test_every_pattern_matches_a_tracked_file():
    for pattern in patterns():
        assert git("ls-files", "--", f":(glob){pattern}" if "/" in pattern else pattern).strip(), (
            f".gitattributes: {pattern} matches no file in the repository (moved or renamed?)"
        )


def test_checksummed_files_are_not_text_and_scripts_keep_lf():
    data_files = git("ls-files", "--", "data/wine-quality/*.csv", "tests/model_server/testdata").split()
    assert len(data_files) > 3
    for line in git("check-attr", "text", "--", *data_files).splitlines():
        assert line.endswith(": text: unset"), line
    for line in git("check-attr", "eol", "--", "tools/setup.sh", "Makefile", ".ci/run").splitlines():
        assert line.endswith(": eol: lf"), line
