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


@pytest.mark.parametrize(
    "train",
    [
        {"model": "baseline"},
        {"model": "elasticnet", "alpha": 0, "l1_ratio": 1},
        FOREST,
        {**FOREST, "max_depth": 8},
    ],
    ids=["baseline", "elasticnet", "random_forest", "random_forest_depth"],
)
def test_each_model_with_its_keys_is_valid(train, tmp_path):
    settings = {"data": GOOD["data"], "train": train}
    assert params.load_params(write_yaml(tmp_path / "params.yaml", settings)) == settings


@pytest.mark.parametrize(
    "section, key, base",
    [
        ("data", "source", GOOD),
        ("data", "test_size", GOOD),
        ("data", "seed", GOOD),
        ("train", "model", GOOD),
        ("train", "alpha", GOOD),
        ("train", "l1_ratio", GOOD),
        ("train", "n_estimators", {"data": GOOD["data"], "train": FOREST}),
        ("train", "max_depth", {"data": GOOD["data"], "train": FOREST}),
    ],
)
def test_missing_key_is_named_as_section_dot_key(section, key, base, tmp_path):
    path = write_yaml(tmp_path / "params.yaml", with_change(section, key, base=base))
    with pytest.raises(params.ParamsError) as raised:
        params.load_params(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: missing key '{section}.{key}'")


def test_missing_section_names_its_first_key():
    with pytest.raises(params.ParamsError, match=r"missing key 'train\.model'"):
        params.validate_params({"data": GOOD["data"]})


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("train", "alpha", "0.1"),  # quoted in YAML: a string, not a number
        ("train", "alpha", -1),
        ("train", "l1_ratio", 1.5),
        ("train", "model", "xgboost"),  # not one of the course's models
        ("data", "seed", 42.0),  # a seed must be a whole number
        ("data", "seed", -1),
        ("data", "test_size", 1.5),
        ("data", "test_size", True),  # YAML's `yes`/`true`: a bool is not a number here
        ("data", "source", ""),
    ],
)
def test_wrong_type_or_value_is_named(section, key, value, tmp_path):
    path = write_yaml(tmp_path / "params.yaml", with_change(section, key, value))
    with pytest.raises(params.ParamsError) as raised:
        params.load_params(path)
    assert str(raised.value).startswith(f"{path}: '{section}.{key}' must be")
    assert repr(value) in str(raised.value)  # and shows what it got


@pytest.mark.parametrize(
    "key, value",
    [("n_estimators", True), ("n_estimators", 100.0), ("n_estimators", 0), ("max_depth", 0), ("max_depth", "deep")],
)
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


# --- one table for the pipeline and the cycle ----------------------------------------------------------

CYCLE = {
    "split": {"test_share": 0.2},
    "train": {"epochs": 20, "batch_size": 64, "learning_rate": 0.01, "hidden_units": 32, "seed": 42},
    "gate": {"margin": 0.01},
}


def test_every_rule_says_what_it_allows():
    names = [rule.name for rule in params.RULES]
    assert len(names) == len(set((rule.name, rule.used_by) for rule in params.RULES))
    assert all(rule.meaning and rule.used_by in ("pipeline", "cycle", *params.MODELS) for rule in params.RULES)
    assert params.CYCLE_KEYS == (
        "split.test_share",
        "train.epochs",
        "train.batch_size",
        "train.learning_rate",
        "train.hidden_units",
        "train.seed",
        "gate.margin",
        "gate.region_tolerance",
    )


def test_the_cycles_params_are_valid():
    assert params.validate_cycle_params(copy.deepcopy(CYCLE)) == CYCLE


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("split", "test_share", 1.0),
        ("train", "epochs", 0),
        ("train", "epochs", 2.5),
        ("train", "batch_size", "64"),
        ("train", "learning_rate", 0),
        ("train", "hidden_units", True),
        ("train", "seed", -1),
        ("gate", "margin", -0.1),
        ("gate", "region_tolerance", "0.03"),
        ("gate", "region_tolerance", -0.01),
    ],
)
def test_a_bad_cycle_key_is_named(section, key, value):
    with pytest.raises(params.ParamsError) as raised:
        params.validate_cycle_params(with_change(section, key, value, base=CYCLE))
    assert str(raised.value).startswith(f"params.yaml: '{section}.{key}' must be") and repr(value) in str(raised.value)


def test_a_project_made_before_the_region_gate_has_no_tolerance_and_is_still_valid():
    assert "region_tolerance" not in CYCLE["gate"]
    assert params.validate_cycle_params(copy.deepcopy(CYCLE)) == CYCLE


def test_a_missing_cycle_key_is_named():
    with pytest.raises(params.ParamsError, match=r"^params.yaml: missing key 'gate\.margin'"):
        params.validate_cycle_params(with_change("gate", "margin", base=CYCLE))


def test_overrides_are_read_as_yaml_and_checked_by_the_same_rules():
    assert params.parse_overrides(["train.epochs=5", "gate.margin=0.02", " split.test_share =0.3"]) == {
        "train.epochs": 5,
        "gate.margin": 0.02,
        "split.test_share": 0.3,
    }
    assert params.parse_overrides([]) == {}


@pytest.mark.parametrize(
    "pair, says",
    [
        ("train.speed=fast", "use KEY=VALUE with one of the keys split.test_share, train.epochs"),
        ("train.epochs", "use KEY=VALUE"),
        ("train.alpha=0.1", "use KEY=VALUE"),  # a key of the pipeline, not of the cycle
        ("train.epochs=many", "'train.epochs' must be a whole number >= 1, got 'many'"),
        ("train.epochs=0", "'train.epochs' must be a whole number >= 1, got 0"),
        ("gate.margin=[0.1", "'gate.margin' must be a number >= 0"),  # not valid YAML: kept as the text
    ],
)
def test_a_bad_override_gets_one_line_naming_it(pair, says):
    with pytest.raises(params.ParamsError) as raised:
        params.parse_overrides(["train.epochs=3", pair])
    message = str(raised.value)
    assert message.startswith(f"--set {pair!r}: ") and says in message and "\n" not in message


def test_overrides_given_as_a_mapping_are_checked_too():
    assert params.check_overrides({"train.epochs": 3}) == {"train.epochs": 3}
    with pytest.raises(params.ParamsError, match=r"'train\.speed'.*not a key the cycle reads"):
        params.check_overrides({"train.speed": 3})
    with pytest.raises(params.ParamsError, match=r"'train\.epochs' must be a whole number >= 1, got 0"):
        params.check_overrides({"train.epochs": 0})


def test_apply_overrides_changes_a_copy():
    changed = params.apply_overrides(CYCLE, {"train.epochs": 1, "gate.margin": 0.5})
    assert changed["train"]["epochs"] == 1 and changed["gate"]["margin"] == 0.5
    assert CYCLE["train"]["epochs"] == 20  # the original is untouched


def test_validation_size_is_optional_and_checked_when_given(tmp_path):
    assert params.validate_params(GOOD) == GOOD
    assert params.validate_params(with_change("data", "validation_size", 0.2))["data"]["validation_size"] == 0.2
    with pytest.raises(params.ParamsError, match="'data.validation_size' must be a number from 0"):
        params.validate_params(with_change("data", "validation_size", 1.5))


def test_test_and_validation_shares_must_leave_wines_to_train_on():
    with pytest.raises(params.ParamsError, match=r"'data.test_size' \+ 'data.validation_size' must leave wines"):
        params.validate_params(with_change("data", "validation_size", 0.8))
