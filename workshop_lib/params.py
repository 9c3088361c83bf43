"""Parameters from a YAML file (params.yaml), checked before any work starts.

A typo in params.yaml should stop a run in its first second with the key's name, not after
training with a silent default. DVC stages (module 03) read the same file.
"""

from pathlib import Path
from typing import Any

import yaml

MODELS = ("baseline", "elasticnet", "random_forest")
NUMBER = (int, float)

# (section, key) -> (allowed types, check of the value, what the check means)
COMMON = {
    ("data", "source"): (str, lambda v: bool(v), "'red', 'white' or the path of a CSV file"),
    ("data", "test_size"): (NUMBER, lambda v: 0 < v < 1, "a number between 0 and 1"),
    ("data", "seed"): (int, lambda v: v >= 0, "a whole number >= 0"),
    ("train", "model"): (str, lambda v: v in MODELS, f"one of {', '.join(MODELS)}"),
}
PER_MODEL = {
    "baseline": {},
    "elasticnet": {
        ("train", "alpha"): (NUMBER, lambda v: v >= 0, "a number >= 0"),
        ("train", "l1_ratio"): (NUMBER, lambda v: 0 <= v <= 1, "a number between 0 and 1"),
    },
    "random_forest": {
        ("train", "n_estimators"): (int, lambda v: v >= 1, "a whole number >= 1"),
        ("train", "max_depth"): ((int, type(None)), lambda v: v is None or v >= 1, "a whole number >= 1, or null"),
    },
}


class ParamsError(ValueError):
    """A parameter is missing or has the wrong type or value; the message names the key."""


def _check(params: dict, source: str, rules: dict) -> None:
    for (section, key), (types, valid, meaning) in rules.items():
        block = params.get(section)
        if not isinstance(block, dict) or key not in block:
            raise ParamsError(f"{source}: missing key '{section}.{key}' ({meaning})")
        value = block[key]
        if isinstance(value, bool) or not isinstance(value, types) or not valid(value):
            raise ParamsError(f"{source}: '{section}.{key}' must be {meaning}, got {value!r}")


SECTIONS = ("data", "train")


def validate_params(params: Any, source: str = "params", sections: tuple[str, ...] = SECTIONS) -> dict:
    """Check the given sections; a pipeline stage checks only the section it reads (DVC tracks just that one)."""
    if not isinstance(params, dict):
        raise ParamsError(f"{source}: expected a mapping of sections (data:, train:), got {type(params).__name__}")
    _check(params, source, {key: rule for key, rule in COMMON.items() if key[0] in sections})
    if "train" in sections:
        _check(params, source, PER_MODEL[params["train"]["model"]])
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
