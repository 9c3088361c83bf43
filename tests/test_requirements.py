"""requirements.txt: every direct dependency pinned with ==, nothing the course does not import."""

import ast
import sys
from importlib import metadata

import pytest

from workshop_lib import doctor
from workshop_lib.config import REPO_ROOT

PINS = doctor.pinned_requirements()
CORE = ["jupyterlab", "nbval", "papermill", "pandas", "scikit-learn", "dvc", "tensorflow",
        "tensorflow-serving-api", "matplotlib", "pytest"]


def test_core_packages_are_pinned():
    assert [name for name in CORE if name not in PINS] == []


def test_tensorflow_is_2_20_and_serving_api_matches_it():
    assert PINS["tensorflow"].startswith("2.20.")
    assert PINS["tensorflow-serving-api"].split(".")[:2] == PINS["tensorflow"].split(".")[:2]


def test_unpinned_line_is_rejected_with_its_line_number(tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text("pandas==3.1.1\nnumpy>=2\n")
    with pytest.raises(ValueError, match=r"requirements.txt:2: 'numpy>=2' is not pinned"):
        doctor.pinned_requirements(bad)


def _third_party_imports(folder) -> set[str]:
    names = set()
    local = {path.stem for path in folder.rglob("*.py")}  # e.g. tests/code/verdicts.py, imported as `verdicts`
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in {"workshop_lib", "tests"} | local}


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


@pytest.mark.parametrize("folder", ["workshop_lib", "tests", "tools"])
def test_every_imported_package_is_a_pinned_requirement(folder):
    """What the course's code imports must be pinned itself, not arrive by chance with another package."""
    distributions = metadata.packages_distributions()
    pinned = {_normalise(name) for name in PINS}
    missing = {module: distributions.get(module, ["?"]) for module in _third_party_imports(REPO_ROOT / folder)
               if not pinned & {_normalise(d) for d in distributions.get(module, [module])}}
    assert missing == {}, f"imported in {folder}/ but not pinned in requirements.txt: {missing}"
