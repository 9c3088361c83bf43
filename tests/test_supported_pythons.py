"""Which Pythons the course supports: said in one place (course/doctor.py), checked everywhere.

doctor.SUPPORTED_PYTHONS (the Pythons TensorFlow 2.20 has wheels for) must agree with pyproject.toml's
requires-python, tools/setup.sh's SUPPORTED list and search order, the Dockerfile's image and what the
README and the instructor's guide tell people. The second half runs setup.sh's interpreter discovery
(`sh tools/setup.sh --which-python`) against fake interpreters: small sh scripts that answer
setup.sh's version question like a real Python would.
"""

import platform
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from course import doctor
from workshop_lib.config import REPO_ROOT

SETUP_SH = REPO_ROOT / "tools" / "setup.sh"
PYPROJECT = REPO_ROOT / "pyproject.toml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "instructors.md"]
CANDIDATE_MINORS = [(3, minor) for minor in range(8, 16)]  # 3.8 .. 3.15
SH = "/bin/sh"


def label(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


OLDEST, NEWEST = label(min(doctor.SUPPORTED_PYTHONS)), label(max(doctor.SUPPORTED_PYTHONS))


# ---------------------------------------------------------------- one place of truth


def admitted_minors(requires_python: str) -> set[tuple[int, int]]:
    """The minors among 3.8..3.15 whose releases the specifier admits (each one wholly, or not at all)."""
    spec = SpecifierSet(requires_python)
    admitted = set()
    for version in CANDIDATE_MINORS:
        releases = [f"{label(version)}.{patch}" for patch in (0, 1, 5, 12, 30)]
        contained = {spec.contains(release) for release in releases}
        assert len(contained) == 1, f"requires-python {requires_python!r} admits only some {label(version)}.x releases"
        if contained == {True}:
            admitted.add(version)
    return admitted


def setup_sh_supported(text: str) -> list[str]:
    """The versions of setup.sh's `SUPPORTED="3.13 3.12 3.11"` line, in its order."""
    match = re.search(r'^SUPPORTED="([^"]*)"', text, re.MULTILINE)
    assert match, 'tools/setup.sh has no SUPPORTED="..." line'
    return match[1].split()


def setup_sh_search_order(text: str) -> list[str]:
    """The names setup.sh's `for name in python3.13 ... python3; do` loop looks up on PATH."""
    match = re.search(r"^\s*for name in ([^;]*); do", text, re.MULTILINE)
    assert match, "tools/setup.sh has no `for name in ...; do` loop over interpreter names"
    return match[1].split()


def single_version_phrases(text: str) -> list[str]:
    """Phrases that speak of one supported Python as if it were the only one ("You need Python 3.11,")."""
    minor = "|".join(re.escape(label(version)) for version in doctor.SUPPORTED_PYTHONS)
    patterns = [
        rf"\bPython (?:{minor}) only\b",
        rf"\bonly (?:on |with )?Python (?:{minor})\b(?! to)",
        rf"\bis not Python (?:{minor})\b",
        rf"\b[Yy]ou need Python (?:{minor})\b(?! to| or|,\s*3\.)",
        rf"\bPython (?:{minor}),(?!\s*3\.\d)",  # "Python 3.11, git and make"; a list "3.11, 3.12 or 3.13" is fine
    ]
    return [line.strip() for line in text.splitlines() if any(re.search(p, line) for p in patterns)]


def test_supported_range_names_the_oldest_and_newest():
    assert doctor.SUPPORTED_RANGE == f"{OLDEST} to {NEWEST}"
    minors = sorted(minor for _, minor in doctor.SUPPORTED_PYTHONS)
    assert minors == list(range(minors[0], minors[-1] + 1)), "SUPPORTED_PYTHONS has a gap"


def test_pyproject_requires_python_admits_exactly_the_supported():
    requires_python = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["requires-python"]
    assert admitted_minors(requires_python) == set(doctor.SUPPORTED_PYTHONS), requires_python


def test_setup_sh_supports_and_searches_the_same():
    text = SETUP_SH.read_text(encoding="utf-8")
    supported = setup_sh_supported(text)
    assert set(supported) == {label(version) for version in doctor.SUPPORTED_PYTHONS}, supported
    newest_first = [label(version) for version in sorted(doctor.SUPPORTED_PYTHONS, reverse=True)]
    assert setup_sh_search_order(text)[:4] == [f"python{version}" for version in newest_first] + ["python3"]


def test_dockerfile_image_is_a_supported_python():
    match = re.search(r"^FROM\s+python:(\d+)\.(\d+)\.", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "the Dockerfile has no FROM python:X.Y.Z... line"
    assert (int(match[1]), int(match[2])) in doctor.SUPPORTED_PYTHONS, match[0]


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_docs_name_the_supported_range(doc):
    text = doc.read_text(encoding="utf-8")
    assert doctor.SUPPORTED_RANGE in text, f"{doc.name} never says Python {doctor.SUPPORTED_RANGE}"
    assert single_version_phrases(text) == [], f"{doc.name} speaks of a single Python version"


@pytest.mark.parametrize(
    "line, flagged",
    [
        ("You need Python 3.11, pip, git and make;", True),
        ("- **`… is not Python 3.11`.** Install Python 3.11", True),
        ("the README's Start here: Python 3.11, git and make, then", True),
        ("The course runs on Python 3.11 only.", True),
        ("You need Python 3.11 to 3.13, pip, git and make;", False),
        ("Python 3.11, 3.12 or 3.13 work; 3.14 does not.", False),
        ("TensorFlow has no packages for Python 3.14, so", False),  # not a supported one: no claim of "only"
    ],
)
def test_single_version_phrases(line, flagged):
    assert bool(single_version_phrases(line)) is flagged


# ---------------------------------------------------------------- the doctor


@pytest.mark.parametrize("version", [(3, 10, 14), (3, 14, 0)])
def test_doctor_fails_an_unsupported_python_and_names_the_range(monkeypatch, version):
    monkeypatch.setattr(sys, "version_info", (*version, "final", 0))
    monkeypatch.setattr(platform, "python_version", lambda: ".".join(map(str, version)))
    result = doctor.check_python()
    assert result.status == doctor.FAIL
    assert ".".join(map(str, version)) in result.detail
    assert doctor.SUPPORTED_RANGE in result.fix and "3.11 to 3.13" in result.fix, result.fix


@pytest.mark.parametrize("version", sorted(doctor.SUPPORTED_PYTHONS))
def test_doctor_passes_every_supported_python(monkeypatch, version):
    monkeypatch.setattr(sys, "version_info", (*version, 4, "final", 0))
    monkeypatch.setattr(platform, "python_version", lambda: f"{label(version)}.4")
    assert doctor.check_python().status == doctor.PASS


# ---------------------------------------------------------------- setup.sh finds an interpreter

# A fake interpreter answers `X -c '<code>'` (how setup.sh's version_of asks) with its version, like
# `python3.13 -c 'import sys; print("%d.%d" % sys.version_info[:2])'`, and fails for anything else.
FAKE_PYTHON = """\
#!/bin/sh
if [ "$1" = "-c" ]; then
    echo {version}
    exit 0
fi
exit 2
"""


@pytest.fixture
def fakes(tmp_path):
    """make(name, version) puts a fake interpreter in a bin/ that is, with a cat, all of PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # setup.sh prints its advice with `cat <<EOF`; the only real program it needs here. In its own
    # folder, so that no real python on the system's PATH can be found.
    tools_dir = tmp_path / "tools"
    tools_dir.mkdir()
    (tools_dir / "cat").symlink_to(next(Path(d) / "cat" for d in ("/bin", "/usr/bin") if (Path(d) / "cat").exists()))

    def make(name: str, version: str) -> Path:
        path = bin_dir / name
        path.write_text(FAKE_PYTHON.format(version=version), encoding="utf-8")
        path.chmod(0o755)
        return path

    make.bin_dir, make.path = bin_dir, f"{bin_dir}:{tools_dir}"
    return make


def which_python(fakes, python: Path | None = None) -> subprocess.CompletedProcess:
    """`sh tools/setup.sh --which-python` with only the fakes (and cat) on PATH; PYTHON=python if given."""
    env = {"PATH": fakes.path}
    if python is not None:
        env["PYTHON"] = str(python)
    return subprocess.run(
        [SH, str(SETUP_SH), "--which-python"],
        env=env,
        cwd=fakes.bin_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_fake_interpreter_answers_like_python(fakes):
    fake = fakes("python3.13", "3.13")
    done = subprocess.run(
        [str(fake), "-c", 'import sys; print("%d.%d" % sys.version_info[:2])'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (0, "3.13\n")
    assert subprocess.run([str(fake), "--version"], capture_output=True, timeout=30).returncode != 0


def test_the_newest_supported_python_is_chosen(fakes):
    fakes("python3.11", "3.11")
    newest = fakes("python3.13", "3.13")
    fakes("python3", "3.11")
    done = which_python(fakes)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{newest}\n", "")


def test_the_newest_wins_even_under_a_plain_name(fakes):
    fakes("python3.11", "3.11")
    python3 = fakes("python3", "3.13")
    done = which_python(fakes)
    assert (done.returncode, done.stdout) == (0, f"{python3}\n"), done.stderr


def test_python3_is_taken_when_it_is_the_only_supported_one(fakes):
    fakes("python3.14", "3.14")
    python3 = fakes("python3", "3.12")
    done = which_python(fakes)
    assert (done.returncode, done.stdout) == (0, f"{python3}\n"), done.stderr


def test_only_unsupported_pythons_are_named_with_their_versions_and_the_fixes(fakes):
    fakes("python3.14", "3.14")
    python3 = fakes("python3", "3.14")
    fakes("python3.10", "3.10")
    done = which_python(fakes)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert f"{python3} is Python 3.14" in done.stderr, done.stderr
    assert f"{fakes.bin_dir}/python3.10 is Python 3.10" in done.stderr, done.stderr
    for command in [
        "uv python install 3.13",
        "brew install python@3.13",
        "sudo apt install python3",
        "https://www.python.org/downloads/",
    ]:
        assert command in done.stderr, f"{command!r} missing from:\n{done.stderr}"


def test_an_old_python3_is_named_with_its_version(fakes):
    python3 = fakes("python3", "3.10")
    done = which_python(fakes)
    assert done.returncode == 1
    assert f"{python3} is Python 3.10" in done.stderr, done.stderr


def test_an_unsupported_python_given_as_python_is_refused(fakes):
    given = fakes("python3.14", "3.14")
    fakes("python3.13", "3.13")  # a supported one on PATH does not replace the one asked for
    done = which_python(fakes, python=given)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"PYTHON={given} is Python 3.14" in done.stderr, done.stderr


def test_python_that_does_not_run_is_refused(fakes):
    done = which_python(fakes, python=fakes.bin_dir / "no-such-python")
    assert done.returncode == 1
    assert "does not run as a Python" in done.stderr, done.stderr


def test_python_is_taken_even_when_a_newer_one_is_on_path(fakes):
    given = fakes("python3.12", "3.12")
    fakes("python3.13", "3.13")
    done = which_python(fakes, python=given)
    assert (done.returncode, done.stdout) == (0, f"{given}\n"), done.stderr


def test_no_python_on_path(fakes):
    done = which_python(fakes)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no python3 on PATH" in done.stderr, done.stderr
