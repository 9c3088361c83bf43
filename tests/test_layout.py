"""The three packages and the one direction of their imports: course -> workshop_lib -> model_server.

workshop_lib is the wine product a team would ship (module 02 shows participants only this).
model_server is the TF-Serving-compatible server; it may become its own distribution, so it imports
neither of the others. course is the machinery (doctor, checks, exercises, classroom, notebook runner).
workshop_lib may use the server only through its client API; nothing imports the tests.
"""

import ast
from pathlib import Path

import pytest

from workshop_lib.config import REPO_ROOT

PACKAGES = ("workshop_lib", "model_server", "course")
# What each package (and tools/) may import of the others: a module name, or "name.*" for all of it.
# workshop_lib's only way to the server is its client API: what model_server/__init__.py exports, and versions.
ALLOWED = {
    "model_server": [],
    "workshop_lib": ["model_server", "model_server.versions"],
    "course": ["workshop_lib.*", "model_server.*"],
    "tools": ["workshop_lib.*", "model_server.*", "course.*"],
}
TEST_HELPERS = {"tests", "conftest", "lab_server", "verdicts", "schemas", "loopback"}
MACHINERY = ("doctor", "classroom", "exercises", "checks", "notebooks", "lockfile")


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (`from a.b import c` gives a.b and a.b.c)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def wrong_arrows(root: Path) -> list[str]:
    """Every import that runs against the allowed direction, as 'file: module'."""
    problems = []
    for place, allowed in ALLOWED.items():
        for path in sorted((root / place).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            for name in sorted(imports_of(path)):
                top = name.split(".")[0]
                if top in TEST_HELPERS:
                    problems.append(f"{where}: {name} (nothing imports the tests)")
                elif top in PACKAGES and top != place and not _allowed(name, allowed, root):
                    problems.append(f"{where}: {name}")
    return problems


def _allowed(name: str, patterns: list[str], root: Path) -> bool:
    for pattern in patterns:
        if pattern.endswith(".*") and (name == pattern[:-2] or name.startswith(pattern[:-1])):
            return True
        if name == pattern:
            return True
        # `from model_server import ServingClient` also reads as model_server.ServingClient: a name
        # of an allowed module is allowed, a submodule (model_server.rest) is not.
        if name.rpartition(".")[0] == pattern and not _is_module(root, name):
            return True
    return False


def _is_module(root: Path, name: str) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or path.is_dir()


def test_imports_run_in_one_direction():
    assert wrong_arrows(REPO_ROOT) == []


def test_a_wrong_arrow_is_caught(tmp_path):
    """The check itself can fail: a product module importing the server's internals or the machinery."""
    for package in PACKAGES + ("tools",):
        (tmp_path / package).mkdir()
    (tmp_path / "model_server" / "__init__.py").write_text("from model_server.client import ServingClient\n")
    (tmp_path / "workshop_lib" / "train.py").write_text(
        "from model_server import ServingClient\nfrom model_server.rest import RestApi\nfrom course import doctor\n"
    )
    (tmp_path / "model_server" / "rest.py").write_text("import workshop_lib.config\n")
    (tmp_path / "workshop_lib" / "serving.py").write_text("from model_server import ServingClient, rest, versions\n")
    (tmp_path / "course" / "doctor.py").write_text("from verdicts import verdict_of\nimport workshop_lib\n")
    assert wrong_arrows(tmp_path) == [
        "model_server/rest.py: workshop_lib.config",
        "workshop_lib/serving.py: model_server.rest",
        "workshop_lib/train.py: course",
        "workshop_lib/train.py: course.doctor",
        "workshop_lib/train.py: model_server.rest",
        "workshop_lib/train.py: model_server.rest.RestApi",
        "course/doctor.py: verdicts (nothing imports the tests)",
        "course/doctor.py: verdicts.verdict_of (nothing imports the tests)",
    ]


@pytest.mark.parametrize("name", MACHINERY)
def test_the_product_package_holds_no_course_machinery(name):
    assert not (REPO_ROOT / "workshop_lib" / f"{name}.py").exists()
    assert not (REPO_ROOT / "workshop_lib" / name).exists()


def test_the_packages_are_the_ones_pyproject_installs():
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'include = ["workshop_lib*", "model_server*", "course*"]' in text
