"""params.yaml is checked before any work starts: a typo stops the run at once, naming the key."""

import copy

import pytest
import yaml

from workshop_lib import params
from workshop_lib.config import REPO_ROOT

GOOD = {
    "data": {"source": "red", "test_size": 0.2, "seed": 42},
    "train": {"model": "elasticnet", "alpha": 1.0, "l1_ratio": 0.5},
}
FOREST = {"model": "random_forest", "n_estimators": 100, "max_depth": None}


def with_change(section: str, key: str, value=..., base: dict = GOOD) -> dict:
    """A copy of `base` with section.key set to `value`, or removed when no value is given."""
    changed = copy.deepcopy(base)
    if value is ...:
        del changed[section][key]
    else:
        changed[section][key] = value
    return changed


def write_yaml(path, content) -> str:
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def test_params_error_is_a_value_error():
    assert issubclass(params.ParamsError, ValueError)


def test_the_repository_params_yaml_is_valid():
    loaded = params.load_params(REPO_ROOT / "params.yaml")
    assert loaded["train"]["model"] in params.MODELS


@pytest.mark.parametrize("train", [
    {"model": "baseline"},
    {"model": "elasticnet", "alpha": 0, "l1_ratio": 1},
    FOREST,
    {**FOREST, "max_depth": 8},
], ids=["baseline", "elasticnet", "random_forest", "random_forest_depth"])
def test_each_model_with_its_keys_is_valid(train, tmp_path):
    settings = {"data": GOOD["data"], "train": train}
    assert params.load_params(write_yaml(tmp_path / "params.yaml", settings)) == settings


@pytest.mark.parametrize("section, key, base", [
    ("data", "source", GOOD),
    ("data", "test_size", GOOD),
    ("data", "seed", GOOD),
    ("train", "model", GOOD),
    ("train", "alpha", GOOD),
    ("train", "l1_ratio", GOOD),
    ("train", "n_estimators", {"data": GOOD["data"], "train": FOREST}),
    ("train", "max_depth", {"data": GOOD["data"], "train": FOREST}),
])
def test_missing_key_is_named_as_section_dot_key(section, key, base, tmp_path):
    path = write_yaml(tmp_path / "params.yaml", with_change(section, key, base=base))
    with pytest.raises(params.ParamsError) as raised:
        params.load_params(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: missing key '{section}.{key}'")


def test_missing_section_names_its_first_key():
    with pytest.raises(params.ParamsError, match=r"missing key 'train\.model'"):
        params.validate_params({"data": GOOD["data"]})


@pytest.mark.parametrize("section, key, value", [
    ("train", "alpha", "0.1"),          # quoted in YAML: a string, not a number
    ("train", "alpha", -1),
    ("train", "l1_ratio", 1.5),
    ("train", "model", "xgboost"),      # not one of the course's models
    ("data", "seed", 42.0),             # a seed must be a whole number
    ("data", "seed", -1),
    ("data", "test_size", 1.5),
    ("data", "test_size", True),        # YAML's `yes`/`true`: a bool is not a number here
    ("data", "source", ""),
])
def test_wrong_type_or_value_is_named(section, key, value, tmp_path):
    path = write_yaml(tmp_path / "params.yaml", with_change(section, key, value))
    with pytest.raises(params.ParamsError) as raised:
        params.load_params(path)
    assert str(raised.value).startswith(f"{path}: '{section}.{key}' must be")
    assert repr(value) in str(raised.value)  # and shows what it got


@pytest.mark.parametrize("key, value", [("n_estimators", True), ("n_estimators", 100.0), ("n_estimators", 0),
                                        ("max_depth", 0), ("max_depth", "deep")])
def test_random_forest_keys_are_checked(key, value):
    settings = {"data": GOOD["data"], "train": {**FOREST, key: value}}
    with pytest.raises(params.ParamsError, match=rf"'train\.{key}' must be"):
        params.validate_params(settings)


def test_keys_of_another_model_are_not_required():
    """A baseline needs no alpha: only the chosen model's keys are checked."""
    settings = {"data": GOOD["data"], "train": {"model": "baseline"}}
    assert params.validate_params(settings) is settings


def test_invalid_yaml_names_the_file(tmp_path):
    path = write_yaml(tmp_path / "params.yaml", "data:\n  source: red\n  test_size: [0.2\n")
    with pytest.raises(params.ParamsError) as raised:
        params.load_params(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: not valid YAML")
    assert "\n" not in message  # one line, fit for the CLI's one-line error


def test_missing_file(tmp_path):
    with pytest.raises(params.ParamsError, match="no such parameters file"):
        params.load_params(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize("content, kind", [("- data\n- train\n", "list"), ("just text\n", "str"), ("", "NoneType")])
def test_a_file_that_is_not_a_mapping(content, kind, tmp_path):
    path = write_yaml(tmp_path / "params.yaml", content)
    with pytest.raises(params.ParamsError, match=f"expected a mapping of sections .*got {kind}"):
        params.load_params(path)


def test_a_stage_checks_only_its_own_section():
    """The prepare stage reads data: only; DVC reruns it only when data: changes, so train: is not its business."""
    broken_train = with_change("train", "l1_ratio")
    assert params.validate_params(broken_train, sections=("data",)) is broken_train
    with pytest.raises(params.ParamsError, match="'train.l1_ratio'"):
        params.validate_params(broken_train)
    with pytest.raises(params.ParamsError, match="'data.seed'"):
        params.validate_params(with_change("data", "seed", -1), sections=("data",))
