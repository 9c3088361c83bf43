"""Parameters from a YAML file (params.yaml), checked before any work starts.

A typo in params.yaml should stop a run in its first second with the key's name, not after
training with a silent default. DVC stages (module 03) read the same file.

One table, RULES, says every key the course reads: its type, the values it allows and what that
means in words. The scikit-learn pipeline of modules 02-03 (`train`, the DVC stages) and the
continuous-improvement cycle of module 07 (its params.yaml and `--set KEY=VALUE`) are both checked
against it, so a key is checked the same way wherever it is read, with the same one-line message:

    params.yaml: 'train.epochs' must be a whole number >= 1, got 0
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MODELS = ("baseline", "elasticnet", "random_forest")
NUMBER = (int, float)


@dataclass(frozen=True)
class Rule:
    """One key: where it is used, which types it takes, which values pass, and that in words."""

    section: str
    key: str
    types: type | tuple[type, ...]
    valid: Callable[[Any], bool]
    meaning: str
    used_by: str  # "pipeline" (every model), a model name of MODELS, or "cycle"
    required: bool = True  # an optional key may be left out; when present, it is checked like the others

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    def problem(self, value: Any) -> str | None:
        """None if `value` passes; else "'section.key' must be <meaning>, got <value>"."""
        if isinstance(value, bool) or not isinstance(value, self.types) or not self.valid(value):
            return f"'{self.name}' must be {self.meaning}, got {value!r}"
        return None


RULES: tuple[Rule, ...] = (
    # modules 02-03: the scikit-learn pipeline (python -m workshop_lib train, the DVC stages)
    Rule("data", "source", str, lambda v: bool(v), "'red', 'white' or the path of a CSV file", "pipeline"),
    Rule("data", "test_size", NUMBER, lambda v: 0 < v < 1, "a number between 0 and 1", "pipeline"),
    Rule(
        "data",
        "validation_size",
        NUMBER,
        lambda v: 0 <= v < 1,
        "a number from 0 (no validation wines) to below 1",
        "pipeline",
        required=False,
    ),
    Rule("data", "seed", int, lambda v: v >= 0, "a whole number >= 0", "pipeline"),
    Rule("train", "model", str, lambda v: v in MODELS, f"one of {', '.join(MODELS)}", "pipeline"),
    Rule("train", "alpha", NUMBER, lambda v: v >= 0, "a number >= 0", "elasticnet"),
    Rule("train", "l1_ratio", NUMBER, lambda v: 0 <= v <= 1, "a number between 0 and 1", "elasticnet"),
    Rule("train", "n_estimators", int, lambda v: v >= 1, "a whole number >= 1", "random_forest"),
    Rule(
        "train",
        "max_depth",
        (int, type(None)),
        lambda v: v is None or v >= 1,
        "a whole number >= 1, or null",
        "random_forest",
    ),
    # module 07: the continuous-improvement cycle (its stable split, module 04's Keras model, the quality gate)
    Rule("split", "test_share", NUMBER, lambda v: 0 < v < 1, "a number between 0 and 1", "cycle"),
    Rule("train", "epochs", int, lambda v: v >= 1, "a whole number >= 1", "cycle"),
    Rule("train", "batch_size", int, lambda v: v >= 1, "a whole number >= 1", "cycle"),
    Rule("train", "learning_rate", NUMBER, lambda v: v > 0, "a number > 0", "cycle"),
    Rule("train", "hidden_units", int, lambda v: v >= 1, "a whole number >= 1", "cycle"),
    Rule("train", "seed", int, lambda v: v >= 0, "a whole number >= 0", "cycle"),
    Rule("gate", "margin", NUMBER, lambda v: v >= 0, "a number >= 0 (quality points of MAE)", "cycle"),
    Rule(
        "gate",
        "region_tolerance",
        NUMBER,
        lambda v: v >= 0,
        "a number >= 0 (quality points of MAE a region may lose)",
        "cycle",
        required=False,
    ),
)


def rules_for(used_by: str, sections: Iterable[str] | None = None) -> tuple[Rule, ...]:
    """The rules of one user of params ("pipeline", a model name, "cycle"), optionally of some sections only."""
    wanted = None if sections is None else set(sections)
    return tuple(rule for rule in RULES if rule.used_by == used_by and (wanted is None or rule.section in wanted))


def _by_key(rules: Iterable[Rule]) -> dict[tuple[str, str], tuple]:
    return {(rule.section, rule.key): (rule.types, rule.valid, rule.meaning) for rule in rules}


# The same table seen the way earlier code read it: (section, key) -> (types, check, meaning).
COMMON = _by_key(rules_for("pipeline"))
PER_MODEL = {model: _by_key(rules_for(model)) for model in MODELS}
CYCLE_KEYS: tuple[str, ...] = tuple(rule.name for rule in rules_for("cycle"))


class ParamsError(ValueError):
    """A parameter is missing or has the wrong type or value; the message names the key."""


def check(params: dict, rules: Iterable[Rule], source: str = "params") -> None:
    """ParamsError for the first rule `params` breaks: "<source>: missing key ..." or
    "<source>: '<key>' must be ..."."""
    for rule in rules:
        block = params.get(rule.section)
        if not rule.required and isinstance(block, dict) and rule.key not in block:
            continue
        if not isinstance(block, dict) or rule.key not in block:
            raise ParamsError(f"{source}: missing key '{rule.name}' ({rule.meaning})")
        problem = rule.problem(block[rule.key])
        if problem:
            raise ParamsError(f"{source}: {problem}")


def _mapping(params: Any, source: str, sections: Iterable[str]) -> dict:
    if not isinstance(params, dict):
        raise ParamsError(
            f"{source}: expected a mapping of sections ({', '.join(f'{s}:' for s in sections)}), "
            f"got {type(params).__name__}"
        )
    return params


SECTIONS = ("data", "train")
CYCLE_SECTIONS = ("split", "train", "gate")


def validate_params(params: Any, source: str = "params", sections: tuple[str, ...] = SECTIONS) -> dict:
    """Check the given sections; a pipeline stage checks only the section it reads (DVC tracks just that one)."""
    params = _mapping(params, source, SECTIONS)
    check(params, rules_for("pipeline", sections), source)
    if "data" in sections:
        shares = params["data"]["test_size"] + params["data"].get("validation_size", 0)
        if shares >= 1:
            raise ParamsError(
                f"{source}: 'data.test_size' + 'data.validation_size' must leave wines to train on (below 1), "
                f"got {shares:g}"
            )
    if "train" in sections:
        check(params, rules_for(params["train"]["model"], sections), source)
    return params


def validate_cycle_params(params: Any, source: str = "params.yaml") -> dict:
    """Check the keys the continuous-improvement cycle reads (split, Keras training, gate) before a run
    changes anything."""
    params = _mapping(params, source, CYCLE_SECTIONS)
    check(params, rules_for("cycle"), source)
    return params


def load_params(path: str | Path, sections: tuple[str, ...] = SECTIONS) -> dict:
    """Read and validate a params YAML file; ParamsError names the file and the key at fault."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such parameters file")
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    return validate_params(params, str(path), sections)


def check_overrides(overrides: dict[str, Any], used_by: str = "cycle", shown: dict[str, str] | None = None) -> dict:
    """ParamsError unless every {"section.key": value} names a key of `used_by`'s rules with a value it allows.

    shown: how each change was written (e.g. "train.epochs=abc" on the command line), to start the message with.
    """
    rules = {rule.name: rule for rule in rules_for(used_by)}
    for key, value in overrides.items():
        where = repr((shown or {}).get(key, key))
        if key not in rules:
            raise ParamsError(
                f"--set {where}: use KEY=VALUE with one of the keys {', '.join(rules)}"
                if shown
                else f"params change {where}: not a key the {used_by} reads; use one of {', '.join(rules)}"
            )
        problem = rules[key].problem(value)
        if problem:
            raise ParamsError(f"--set {where}: {problem}" if shown else f"params change: {problem}")
    return overrides


def parse_overrides(pairs: Iterable[str], used_by: str = "cycle") -> dict[str, Any]:
    """["train.epochs=5", "gate.margin=0.02"] -> {"train.epochs": 5, "gate.margin": 0.02}, each checked by its rule.

    Values are read as YAML (5 is a whole number, 0.02 a number, null None). An unknown key or a bad value
    is a ParamsError that starts with "--set '<pair>'", so a typo stops the command before anything runs.
    """
    known = [rule.name for rule in rules_for(used_by)]
    changes, shown = {}, {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise ParamsError(f"--set {pair!r}: use KEY=VALUE with one of the keys {', '.join(known)}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        changes[key], shown[key] = value, pair
    return check_overrides(changes, used_by, shown)


def apply_overrides(params: dict, overrides: dict[str, Any]) -> dict:
    """A copy of `params` with {"section.key": value} changes applied (what `dvc exp run -S` does to params.yaml)."""
    changed = {section: dict(block) if isinstance(block, dict) else block for section, block in params.items()}
    for dotted, value in overrides.items():
        section, key = dotted.split(".", 1)
        if not isinstance(changed.get(section), dict):
            changed[section] = {}
        changed[section][key] = value
    return changed
