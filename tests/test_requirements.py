"""requirements.txt: every direct dependency pinned with ==, nothing the course does not import."""

import ast
import sys
from importlib import metadata

import pytest

from course import lockfile
from workshop_lib.config import REPO_ROOT

PINS = lockfile.pinned_requirements()
CORE = [
    "jupyterlab",
    "nbval",
    "papermill",
    "pandas",
    "scikit-learn",
    "dvc",
    "tensorflow",
    "tensorflow-serving-api",
    "matplotlib",
    "pytest",
]


def test_core_packages_are_pinned():
    assert [name for name in CORE if name not in PINS] == []


def test_tensorflow_is_2_20_and_serving_api_matches_it():
    assert PINS["tensorflow"].startswith("2.20.")
    assert PINS["tensorflow-serving-api"].split(".")[:2] == PINS["tensorflow"].split(".")[:2]


def test_unpinned_line_is_rejected_with_its_line_number(tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text("pandas==3.1.1\nnumpy>=2\n")
    with pytest.raises(ValueError, match=r"requirements.txt:2: 'numpy>=2' is not pinned"):
        lockfile.pinned_requirements(bad)


def _third_party_imports(folder) -> set[str]:
    names = set()
    local = {path.stem for path in folder.rglob("*.py")}  # e.g. tests/code/verdicts.py, imported as `verdicts`
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {
        n
        for n in names
        if n not in sys.stdlib_module_names and n not in {"workshop_lib", "model_server", "course", "tests"} | local
    }


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


@pytest.mark.parametrize("folder", ["workshop_lib", "model_server", "course", "tests", "tools"])
def test_every_imported_package_is_a_pinned_requirement(folder):
    """What the course's code imports must be pinned itself, not arrive by chance with another package."""
    distributions = metadata.packages_distributions()
    pinned = {_normalise(name) for name in PINS}
    missing = {
        module: distributions.get(module, ["?"])
        for module in _third_party_imports(REPO_ROOT / folder)
        if not pinned & {_normalise(d) for d in distributions.get(module, [module])}
    }
    assert missing == {}, f"imported in {folder}/ but not pinned in requirements.txt: {missing}"


# The lock: what set-up installs. These tests fail when it falls behind requirements.txt or when .venv
# holds anything it does not name (a package installed by hand, a version changed since set-up).

LOCK_EXAMPLE = """\
pandas==3.1.1 \\
    --hash=sha256:aa
    # via -r requirements.txt
numpy==2.4.6 ; python_full_version >= '3.11' \\
    --hash=sha256:bb
    # via
    #   -r requirements.txt
    #   pandas
tzdata==2025.2 \\
    --hash=sha256:cc
    # via pandas
left-over==1.0 \\
    --hash=sha256:dd
    # via some-removed-package
"""


def test_the_lock_follows_requirements_txt():
    assert lockfile.disagreements_with_requirements() == [], "run `make lock`, then `make test`"


def test_this_venv_holds_exactly_what_the_lock_names():
    assert lockfile.differences_from_lock() == [], "run `make clean`, then `make install`"


def test_every_pin_of_the_lock_has_hashes():
    lines = (REPO_ROOT / "requirements.lock").read_text().splitlines()
    pins = [(line, after) for line, after in zip(lines, lines[1:]) if line[:1].isalnum()]
    assert len(pins) == len(lockfile.read_lock()) > 150
    assert [line for line, after in pins if not after.startswith("    --hash=sha256:")] == []


def test_a_lock_behind_requirements_txt_is_caught(tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas==3.2.0\nnumpy==2.4.6\nscipy==1.17.1\n")
    (tmp_path / "requirements.lock").write_text(LOCK_EXAMPLE)
    problems = lockfile.disagreements_with_requirements(tmp_path / "requirements.txt", tmp_path / "requirements.lock")
    assert problems == [
        "scipy==1.17.1 is in requirements.txt but not in the lock",
        "pandas: requirements.txt pins 3.2.0, the lock has 3.1.1",
        "left-over is in the lock but nothing in requirements.txt needs it",
    ]


def test_a_venv_with_an_extra_a_missing_and_a_changed_package_is_caught(tmp_path):
    (tmp_path / "requirements.lock").write_text(LOCK_EXAMPLE)
    installed = {"pandas": "3.1.0", "tzdata": "2025.2", "left-over": "1.0", "requests": "2.0", "workshop-lib": "0.1.0"}
    assert lockfile.differences_from_lock(tmp_path / "requirements.lock", installed) == [
        "numpy missing (the lock names 2.4.6)",
        "pandas 3.1.0 (the lock names 3.1.1)",
        "requests 2.0 (not in the lock)",
    ]


def test_a_marker_limits_a_pin_to_the_pythons_it_names(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "contourpy==1.3.3 ; python_full_version < '3.12' \\\n    --hash=sha256:aa\n"
        "contourpy==1.4.0 ; python_full_version >= '3.12' \\\n    --hash=sha256:bb\n"
    )
    assert lockfile.locked_for_this_python(lock) == {"contourpy": "1.3.3" if sys.version_info < (3, 12) else "1.4.0"}
