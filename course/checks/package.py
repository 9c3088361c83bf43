"""Checks for module 02, from notebook to package: one public function per exercise.

02.1 check_refactoring           a notebook function moved into the participant's own package, tested with pytest
02.2 check_ph_validation         one validation rule: check_ph(frame) raises DataValidationError
02.3 check_metrics_test          a unit test that must catch planted bugs in a metrics function
02.4 check_random_forest_params  a params dict the command line accepts for a random forest

Each judge calls the participant's code case by case, so a wrong answer gets a sentence naming the
case that failed, not a traceback; 02.1 runs the participant's own test files with pytest, in processes of
their own, once as written and once per planted bug. The reference results let the notebook go on when an
answer is wrong.
"""

import ast
import inspect
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import yaml
from numpy.typing import ArrayLike

from course.checks import first_line, one_number, solved, verdict
from workshop_lib import config, data, evaluate
from workshop_lib.params import MODELS, ParamsError, validate_params

# --- 02.1 a notebook function moved into a package of your own, with its tests ----------------------------------

PACKAGE, MODULE, FUNCTION = "wine_tools", "leakage", "count_seen"
TESTS_FOLDER = "tests"
PYTEST_TIMEOUT_SECONDS = 180  # the participant's tests load the red wines; on a busy laptop that takes seconds


def reference_count_seen(train: pd.DataFrame, test: pd.DataFrame) -> int:
    """How many rows of `test` have an exact twin (equal in every column) among the rows of `train`."""
    in_training = set(train.itertuples(index=False, name=None))
    return sum(row in in_training for row in test.itertuples(index=False, name=None))


def _frame(rows: list[tuple], index: list[int] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["alcohol", "pH", "quality"], index=index)


def _count_seen_cases() -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(what the case is, train, test): the cases a correct count_seen must get right, each a bug's give-away."""
    train = _frame([(9.4, 3.51, 5), (9.8, 3.20, 5), (12.8, 3.16, 7)])
    red = data.load_wine("red")
    from sklearn.model_selection import train_test_split

    raw_train, raw_test = train_test_split(red, test_size=0.2, random_state=42)
    return [
        ("a test wine equal to a training wine, under another row label", train, _frame([(12.8, 3.16, 7)], [7])),
        ("test wines under the same row labels as training wines, none equal", train, _frame([(10.0, 3.3, 6)] * 2)),
        ("a test wine whose twin sits twice in training", pd.concat([train, train.tail(1)]), _frame([(12.8, 3.16, 7)])),
        ("a test wine that differs from a training wine in the last column only", train, _frame([(9.4, 3.51, 6)])),
        ("no test wine at all", train, train.head(0)),
        ("the red wines split before their duplicates are removed", raw_train, raw_test),
    ]


# Planted bugs: pytest plugins that replace one function before the participant's tests are collected, in a
# process of its own (what the participant wrote is never touched). {name: (what it does, in plain words, code)}
_BUGGY_COUNT_SEEN = (
    f"import {PACKAGE}.{MODULE} as _module\n\n\ndef _buggy(train, test):\n    {{}}\n\n\n_module.{FUNCTION} = _buggy\n"
)
PLANTED_COUNT_SEEN_BUGS = {
    "labels": (
        "count_seen compares the row labels (the index) instead of the values",
        _BUGGY_COUNT_SEEN.format("return int(test.index.isin(train.index).sum())"),
    ),
    "never": (
        "count_seen never finds a twin (it always returns 0)",
        _BUGGY_COUNT_SEEN.format("return 0"),
    ),
    "twice": (
        "count_seen counts a test wine once per twin it has in training (a wine that sits twice in training "
        "counts twice: an inner merge)",
        _BUGGY_COUNT_SEEN.format("return len(test.merge(train, how='inner'))"),
    ),
}
PLANTED_SPLIT_BUG = (
    "workshop_lib's data.split splits first and never removes the duplicates (module 01's PoC mistake)",
    "from sklearn.model_selection import train_test_split\n\nfrom workshop_lib import data as _data\n\n\n"
    "def _leaky_split(frame, test_size=0.2, seed=42):\n"
    "    return train_test_split(frame[_data.FEATURES], frame[_data.TARGET], test_size=test_size, random_state=seed)\n"
    "\n\n_data.split = _leaky_split\n",
)
PLANTED_BUGS_02_1 = {**PLANTED_COUNT_SEEN_BUGS, "split": PLANTED_SPLIT_BUG}
BUG_HINTS = {
    "labels": "build test frames whose row labels also occur in the training frame, with other values",
    "never": "a unit test needs a test wine that does have a twin, and the number you expect",
    "twice": "the function is meant for splits that still hold duplicates: put one training wine in twice",
    "split": "an integration test runs the real pieces together: the red wines through data.load_wine and "
    "data.split, then count_seen on the split",
}


def _is_placeholder_function(node: ast.AST) -> bool:
    """A function the exercise generator left: only its docstring and `return ...` (or `...`)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = [
        statement
        for statement in node.body
        if not (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
    ]
    if not body:
        return True
    if len(body) != 1:
        return False
    value = body[0].value if isinstance(body[0], (ast.Return, ast.Expr)) else None
    return isinstance(value, ast.Constant) and value.value is Ellipsis


def _functions(path: Path) -> tuple[dict[str, ast.AST] | None, str | None]:
    """({name: function node} of a Python file's top level, None), or (None, why it cannot be read)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except SyntaxError as error:
        return None, f"{path.name} does not parse: {error.msg} on line {error.lineno}"
    except (OSError, UnicodeDecodeError) as error:
        return None, f"{path.name} cannot be read ({first_line(error)})"
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.ImportFrom, ast.Import)):  # count_seen = ..., or imported from a helper
            names = [alias.asname or alias.name for alias in getattr(node, "names", [])]
            names += [target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)]
            found.update(dict.fromkeys(names, node))
    return found, None


def _test_files(folder: Path) -> list[Path]:
    return sorted((folder / TESTS_FOLDER).glob("test_*.py")) + sorted((folder / TESTS_FOLDER).glob("*_test.py"))


def _run_pytest(folder: Path, plugin: str | None = None) -> subprocess.Popen:
    """pytest on the participant's tests folder, in a process of its own, with their package importable.

    `plugin` is the code of a planted bug, loaded (-p) before the tests are collected. The run writes nothing
    into the participant's folders: no cache, no bytecode; its own config, so no other project's settings apply.
    """
    scratch = Path(tempfile.mkdtemp(prefix="course-02.1-"))
    (scratch / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-c",
        str(scratch / "pytest.ini"),
        "--rootdir",
        str(folder),
        "--junitxml",
        str(scratch / "report.xml"),
        "-o",
        "junit_family=xunit1",
    ]
    if plugin is not None:
        (scratch / "planted_bug.py").write_text(plugin, encoding="utf-8")
        command += ["-p", "planted_bug"]
    command.append(str(folder / TESTS_FOLDER))
    paths = [str(scratch), str(folder), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in paths if path), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    process.scratch = scratch  # type: ignore[attr-defined]
    return process


@dataclass
class _PytestRun:
    exit_code: int | None  # None: timed out
    passed: list[str]
    failed: dict[str, str]  # test -> the first line of what went wrong
    output: str


def _finish(process: subprocess.Popen) -> _PytestRun:
    try:
        output, _ = process.communicate(timeout=PYTEST_TIMEOUT_SECONDS)
        exit_code = process.returncode
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        exit_code = None
    passed, failed = [], {}
    report = process.scratch / "report.xml"  # type: ignore[attr-defined]
    try:
        if report.is_file():
            for case in ElementTree.parse(report).getroot().iter("testcase"):
                name = case.get("name", "?")
                problem = next((child for child in case if child.tag in ("failure", "error")), None)
                if problem is None:
                    if not any(child.tag == "skipped" for child in case):
                        passed.append(name)
                    continue
                lines = [line.strip() for line in (problem.text or "").splitlines()]
                shown = [line[1:].strip() for line in lines if line.startswith("E ")]
                failed[name] = shown[0] if shown else (problem.get("message") or "failed").splitlines()[0]
    except ElementTree.ParseError:
        pass
    finally:
        shutil.rmtree(process.scratch, ignore_errors=True)  # type: ignore[attr-defined]
    return _PytestRun(exit_code, passed, failed, output or "")


def _first_error_line(output: str) -> str:
    errors = [line[1:].strip() for line in output.splitlines() if line.startswith("E ")]
    return errors[0] if errors else (output.strip().splitlines() or ["no output"])[-1]


def _judge_refactoring(answer: Any) -> str | None:
    function, folder = answer
    folder = Path(solved(folder))
    module_file = folder / PACKAGE / f"{MODULE}.py"
    where = config.shown(folder)
    module_functions, problem = _functions(module_file) if module_file.is_file() else ({}, None)
    module_functions = module_functions or {}
    test_files = _test_files(folder)
    tests = {}
    for path in test_files:
        found, test_problem = _functions(path)
        if test_problem:
            return f"your test file {test_problem}"
        tests.update({name: node for name, node in found.items() if name.startswith("test")})
    module_placeholder = not module_file.is_file() or _is_placeholder_function(module_functions.get(FUNCTION))
    tests_placeholder = not tests or all(_is_placeholder_function(node) for node in tests.values())
    if module_placeholder and tests_placeholder and problem is None:
        solved(...)  # nothing written yet
    if not module_file.is_file():
        return f"there is no {PACKAGE}/{MODULE}.py in {where}: the function must live in a file of your package"
    if problem:
        return f"your module {problem}"
    if FUNCTION not in module_functions:
        return f"{PACKAGE}/{MODULE}.py defines no {FUNCTION}: keep the function's name, the notebook and tests use it"
    if module_placeholder:
        return f"{FUNCTION} in {PACKAGE}/{MODULE}.py still returns ... : move the function's body into the module"
    if not test_files:
        return f"there is no test file in {where}/{TESTS_FOLDER}: pytest collects files named test_*.py"
    if not tests:
        return "your test file holds no test: pytest runs the functions whose names start with test_"
    if tests_placeholder:
        return "your tests still only return ... : write what they call and assert"
    if not callable(function):
        return f"{FUNCTION} in this notebook is a {type(function).__name__}: import the function from your package"
    if getattr(function, "__module__", None) != f"{PACKAGE}.{MODULE}":
        return (
            f"{FUNCTION} in this notebook is still the notebook's own function (from {function.__module__!r}): "
            f"import it from {PACKAGE}.{MODULE}, so the notebook and the tests run the same code"
        )
    source = inspect.getsourcefile(function)
    if source is None or Path(source).resolve() != module_file.resolve():
        return f"{FUNCTION} comes from {source}, not from the module in {where}: is another {PACKAGE} on sys.path?"
    for what, train, test in _count_seen_cases():
        try:
            got = function(train.copy(), test.copy())
        except Exception as error:  # noqa: BLE001 - the participant's function may fail in any way: say where
            return f"your module's {FUNCTION} raised {first_line(error)} for {what}"
        count, bad = one_number(solved(got), f"{FUNCTION} for {what}")
        if bad:
            return f"your module: {bad}"
        expected = reference_count_seen(train, test)
        if count != expected:
            return f"your module's {FUNCTION} gives {count:g} for {what}; expected {expected}"
    own = _finish(_run_pytest(folder))
    if own.exit_code is None:
        return f"your tests did not finish within {PYTEST_TIMEOUT_SECONDS} s: keep unit tests small and fast"
    if own.exit_code == 5 or (own.exit_code == 0 and not own.passed):
        return "pytest collected no test from your test file: name your test functions test_..."
    if own.exit_code == 2:
        return f"pytest could not collect your tests: {_first_error_line(own.output)}"
    if own.failed:
        name, why = next(iter(own.failed.items()))
        return f"your tests fail on your own module: {name}: {why}"
    if own.exit_code != 0:
        return f"pytest could not run your tests: {_first_error_line(own.output)}"
    runs = {name: _run_pytest(folder, plugin) for name, (_, plugin) in PLANTED_BUGS_02_1.items()}  # side by side
    results = {name: _finish(process) for name, process in runs.items()}
    missed = [name for name, result in results.items() if result.exit_code == 0]
    timed_out = [name for name, result in results.items() if result.exit_code is None]
    if missed:
        shown = "; ".join(f"{PLANTED_BUGS_02_1[name][0]} (to catch it: {BUG_HINTS[name]})" for name in missed)
        return f"your tests pass with {len(missed)} of the {len(PLANTED_BUGS_02_1)} planted bugs: {shown}"
    if timed_out:
        return f"your tests did not finish within {PYTEST_TIMEOUT_SECONDS} s with a planted bug: {', '.join(timed_out)}"
    if len(own.passed) < 2:
        return (
            f"pytest ran only one test ({own.passed[0]}): write a unit test (frames built by hand) and an "
            "integration test (the red wines through workshop_lib)"
        )
    return None


def check_refactoring(count_seen: Any, folder: Any) -> Any:
    """Exercise 02.1: count_seen moved into the participant's package, imported back, and tested with pytest.

    The tests must pass on the participant's module and fail on each planted bug (three in count_seen, one in
    workshop_lib's split, each planted in a pytest run of its own). Returns the function the notebook goes on with.
    """
    result = verdict(
        "02.1",
        (count_seen, folder),
        _judge_refactoring,
        hint="a test is worth what it catches: choose small frames where a wrong count_seen would give another "
        "number than the right one (what makes rows look alike, what makes one count twice?), and let one "
        "integration test run the package's own loading and split.",
        reference=lambda: reference_count_seen,
        success=f"{FUNCTION} lives in {PACKAGE}/{MODULE}.py, the notebook imports it, and your tests pass on it and "
        f"fail on all {len(PLANTED_BUGS_02_1)} planted bugs.",
    )
    return result[0] if isinstance(result, tuple) else result


# --- 02.2 check_ph ----------------------------------------------------------------------------------

PH_LOW, PH_HIGH = data.SCHEMA["pH"]


def reference_check_ph(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame unchanged if every pH lies in [0, 14]; else a DataValidationError naming 'pH' and the bad rows."""
    outside = (frame["pH"] < PH_LOW) | (frame["pH"] > PH_HIGH)
    if outside.any():
        bad = frame.index[outside]
        raise data.DataValidationError(
            f"column 'pH' has values outside [{PH_LOW}, {PH_HIGH}] in rows {list(bad)}: {frame.loc[bad, 'pH'].tolist()}"
        )
    return frame


def _ph_frames() -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, pd.DataFrame, list[int]]]]:
    """A good frame (rows 100-109 of the red wines), one with pH exactly 0 and 14, and bad ones with their bad rows."""
    good = data.load_wine("red").iloc[100:110].copy()
    edges = good.copy()
    edges.loc[102, "pH"], edges.loc[105, "pH"] = float(PH_HIGH), float(PH_LOW)
    bad = []
    for what, changes in (
        ("pH 15 in row 104", {104: 15.0}),
        ("pH -1 in row 107", {107: -1.0}),
        ("pH 15 in row 104 and -1 in row 107", {104: 15.0, 107: -1.0}),
    ):
        frame = good.copy()
        for row, value in changes.items():
            frame.loc[row, "pH"] = value
        bad.append((what, frame, list(changes)))
    return good, edges, bad


def _judge_ph(answer: Any) -> str | None:
    if not callable(answer):
        return f"check_ph is a {type(answer).__name__}, not a function: define it with def check_ph(frame):"
    good, edges, bad = _ph_frames()
    for what, frame in (
        ("a frame whose pH values all lie between 0 and 14", good),
        ("a frame with a pH of exactly 0 and exactly 14 (the range includes its ends)", edges),
    ):
        try:
            result = answer(frame.copy())
        except Exception as error:  # noqa: BLE001
            return f"for {what} it raised {first_line(error)}; a good frame must pass"
        result = solved(result)
        if result is None:
            return f"for {what} it returned None: return the frame, so that frame = check_ph(frame) works"
        if not isinstance(result, pd.DataFrame) or not result.equals(frame):
            return (
                f"for {what} it returned a {type(result).__name__} that differs from the frame: "
                "return the frame unchanged"
            )
    for what, frame, rows in bad:
        try:
            result = answer(frame.copy())
        except data.DataValidationError as error:
            message = str(error)
            if "pH" not in message:
                return f"for a frame with {what} the message does not name the column 'pH': {message!r}"
            missing = [row for row in rows if str(row) not in message]
            if missing:
                return (
                    f"for a frame with {what} the message does not name row(s) {missing}: {message!r}; "
                    "name every bad row's index"
                )
        except Exception as error:  # noqa: BLE001
            return (
                f"for a frame with {what} it raised {first_line(error)}, expected data.DataValidationError "
                "(the error callers catch for bad data)"
            )
        else:
            solved(result)
            return f"for a frame with {what} it did not raise: it should raise data.DataValidationError"
    return None


def check_ph_validation(answer: Any) -> Any:
    """Exercise 02.2: check_ph(frame) passes good frames and rejects pH outside [0, 14]; the reference if wrong."""
    return verdict(
        "02.2",
        answer,
        _judge_ph,
        hint="build a mask of the bad rows, outside = (frame['pH'] < 0) | (frame['pH'] > 14); if outside.any(), "
        "raise data.DataValidationError(f\"column 'pH' ... in rows {list(frame.index[outside])}\"); "
        "otherwise return frame.",
        reference=lambda: reference_check_ph,
        success="good frames pass unchanged (0 and 14 included); pH 15 and -1 stop with a DataValidationError "
        "that names 'pH' and the bad rows.",
    )


# --- 02.3 a unit test that catches planted bugs ------------------------------------------------------


def _mae_without_abs(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    metrics = evaluate.regression_metrics(y_true, y_pred)
    metrics["mae"] = float(np.mean(np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)))
    return metrics


def _rmse_without_sqrt(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    metrics = evaluate.regression_metrics(y_true, y_pred)
    metrics["rmse"] = metrics["mse"]
    return metrics


def _r2_as_squared_correlation(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    metrics = evaluate.regression_metrics(y_true, y_pred)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        metrics["r2"] = float(np.corrcoef(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))[0, 1] ** 2)
    return metrics


PLANTED_BUGS = {
    "MAE without abs() (errors of opposite sign cancel out)": _mae_without_abs,
    "RMSE without the square root (it returns the MSE)": _rmse_without_sqrt,
    "R² computed as the squared correlation "
    "(blind to a model that is always off by the same amount)": _r2_as_squared_correlation,
}


def _approx(expected: float):
    """pytest.approx, imported only when a test runs: the checks must not need pytest at import time."""
    import pytest

    return pytest.approx(expected)


def reference_metrics_test(metrics_function: Any) -> None:
    """One hand-computed case with errors in both directions catches all three planted bugs."""
    metrics = metrics_function([5, 6, 7], [6, 6, 5])  # errors -1, 0, +2
    assert metrics["mae"] == _approx(1.0)
    assert metrics["mse"] == _approx(5 / 3)
    assert metrics["rmse"] == _approx(math.sqrt(5 / 3))
    assert metrics["r2"] == _approx(1 - 5 / 2)  # squared errors 5, spread around the mean 2


def _judge_metrics_test(answer: Any) -> str | None:
    if not callable(answer):
        return f"your test is a {type(answer).__name__}, not a function: def test_regression_metrics(metrics_function):"
    try:
        result = answer(evaluate.regression_metrics)
    except AssertionError as error:
        detail = f" ({str(error).splitlines()[0]})" if str(error).strip() else ""
        return (
            f"your test fails for the correct regression_metrics{detail}: a test must pass when the code is right; "
            "check the values you expect"
        )
    except Exception as error:  # noqa: BLE001
        return f"your test crashed for the correct regression_metrics with {first_line(error)}"
    solved(result)
    uncaught, crashed = [], []
    for bug, buggy in PLANTED_BUGS.items():
        try:
            answer(buggy)
        except AssertionError:
            continue
        except Exception as error:  # noqa: BLE001
            crashed.append(f"{bug}: {first_line(error)}")
        else:
            uncaught.append(bug)
    if uncaught:
        return (
            f"your test passes for {len(uncaught)} of the {len(PLANTED_BUGS)} buggy versions, so it would not "
            f"catch: {'; '.join(uncaught)}"
        )
    if crashed:
        return f"your test crashed instead of failing an assert for: {'; '.join(crashed)}"
    return None


def check_metrics_test(answer: Any) -> Any:
    """Exercise 02.3: the participant's test passes for regression_metrics and fails for every planted bug."""
    return verdict(
        "02.3",
        answer,
        _judge_metrics_test,
        hint="a perfect prediction hides every bug (all errors are 0): work out by hand a small case whose errors "
        "differ in size and in sign, so a missing abs() or square root changes the number, and assert every "
        "metric of it with pytest.approx.",
        reference=lambda: reference_metrics_test,
        success=f"your test passes for the correct regression_metrics and fails for all "
        f"{len(PLANTED_BUGS)} planted bugs.",
    )


# --- 02.4 random-forest parameters --------------------------------------------------------------------

MAX_TREES = 500
REFERENCE_RF_PARAMS = {
    "data": {"source": "red", "test_size": 0.2, "seed": 42},
    "train": {"model": "random_forest", "n_estimators": 200, "max_depth": None},
}


def _judge_rf_params(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"rf_params is a {type(answer).__name__}: write a dict with two sections, 'data' and 'train'"
    try:
        validate_params(answer, "rf_params")
    except ParamsError as error:
        return str(error)
    model = answer["train"]["model"]
    if model != "random_forest":
        return f"'train.model' is {model!r}: this exercise asks for a random forest, 'random_forest'"
    if answer["train"]["n_estimators"] > MAX_TREES:
        return (
            f"{answer['train']['n_estimators']} trees take long to train here: use {MAX_TREES} or fewer "
            "(100 to 300 is plenty for 1,087 wines)"
        )
    try:
        round_trip = yaml.safe_load(yaml.safe_dump(answer))
    except yaml.YAMLError as error:
        return f"rf_params cannot be written to a YAML file ({' '.join(str(error).split())})"
    if round_trip != answer:
        return "rf_params changes when written to YAML and read back: use plain str, int, float and None values"
    return None


def check_random_forest_params(answer: Any) -> Any:
    """Exercise 02.4: a params dict that `python -m workshop_lib train` accepts for a random forest."""
    return verdict(
        "02.4",
        answer,
        _judge_rf_params,
        hint="keep the data section of the lesson's params dict; the train section needs 'model' "
        f"(one of {', '.join(MODELS)}), 'n_estimators' (a whole number such as 200, not '200' or 200.0) "
        "and 'max_depth' (a whole number, or None for no limit).",
        reference=lambda: {section: dict(values) for section, values in REFERENCE_RF_PARAMS.items()},
        success="the command line accepts these parameters for a random forest.",
    )
