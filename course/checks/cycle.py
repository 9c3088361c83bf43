"""Checks for module 07, the continuous-improvement cycle: one public function per exercise.

07.1 check_quality_gate  quality_gate(candidate_metrics, production_metrics, margin) -> (promote, reason)
07.2 check_next_version  next_version(base_path) -> the number of the next version to export
07.3 check_smoke_test    smoke_test(client, version, wines, expected) -> a list of problems, [] if it passes

Each judge runs the participant's function on a table of cases and names the first case that goes
wrong. The smoke test is checked against the notebook's running model server. The reference functions
are workshop_lib.cycle's own, so the cycle runs on when an answer is not right yet.
"""

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from course.checks import first_line, solved, verdict
from model_server import ServingClient
from workshop_lib import cycle

# --- 07.1 the quality gate --------------------------------------------------------------------------------


def _metrics(mae: float | None, n_test: int = 1000) -> dict:
    """A metrics dict as the cycle's evaluate step writes it (MAE, RMSE, R², MSE, n_test)."""
    metrics = {"rmse": 0.75, "r2": 0.3, "mse": 0.5625, "n_test": n_test}
    if mae is not None:
        metrics["mae"] = mae
    return metrics


# (case, candidate metrics, production metrics, margin, promote?)
GATE_CASES = [
    ("better by more than the margin", _metrics(0.55), _metrics(0.60), 0.01, True),
    ("better, but by less than the margin", _metrics(0.595), _metrics(0.60), 0.01, False),
    ("exactly as good as production", _metrics(0.60), _metrics(0.60), 0.01, False),
    ("worse than production", _metrics(0.65), _metrics(0.60), 0.01, False),
    ("better by 0.05 with a margin of 0.1 (the margin is an argument)", _metrics(0.55), _metrics(0.60), 0.1, False),
    ("better by 0.01 with a margin of 0 (any improvement counts)", _metrics(0.59), _metrics(0.60), 0.0, True),
    ("no MAE for the candidate (its evaluation failed)", _metrics(None), _metrics(0.60), 0.01, False),
    ("a NaN as the candidate MAE", _metrics(float("nan")), _metrics(0.60), 0.01, False),
    ("no MAE for production", _metrics(0.55), _metrics(None), 0.01, False),
    (
        "different test sets: n_test 800 for the candidate, 1000 for production",
        _metrics(0.50, 800),
        _metrics(0.60, 1000),
        0.01,
        False,
    ),
]


def _shown(metrics: dict) -> str:
    return "{" + ", ".join(f"{key!r}: {metrics[key]!r}" for key in ("mae", "n_test") if key in metrics) + "}"


def _judge_gate(answer: Any) -> str | None:
    if not callable(answer):
        return (
            f"quality_gate is a {type(answer).__name__}, not a function: "
            "def quality_gate(candidate_metrics, production_metrics, margin):"
        )
    for case, candidate, production, margin, promote in GATE_CASES:
        called = (
            f"for the case '{case}' (candidate {_shown(candidate)}, production {_shown(production)}, margin {margin})"
        )
        try:
            result = answer(dict(candidate), dict(production), margin)
        except Exception as error:  # noqa: BLE001 - a participant's function may fail in any way
            return f"{called} your gate raised {first_line(error)}: a gate must refuse with a reason, not crash"
        result = solved(result)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return f"{called} your gate returned {result!r}: return a pair (promote, reason), e.g. (False, 'worse')"
        decision, reason = result
        solved(decision)
        if not isinstance(decision, (bool, np.bool_)):
            return f"{called} the decision is {decision!r}: make it True (promote) or False (keep production)"
        if not isinstance(reason, str) or not reason.strip():
            return f"{called} the reason is {reason!r}: give a sentence that says why, for the report"
        if bool(decision) != promote:
            said = "promote" if decision else "keep production"
            should = "promote the candidate" if promote else "keep production"
            return f"{called} your gate says {said}; it should {should}"
    return None


def check_quality_gate(answer: Any) -> Any:
    """Exercise 07.1: the gate decides every case of GATE_CASES right; the cycle's own gate if not."""
    return verdict(
        "07.1",
        answer,
        _judge_gate,
        hint="ask first whether the two results can be compared at all (both measured, on the same test wines): "
        "if not, the answer is no, with the reason; only then whether the candidate's error is lower by the margin "
        "you were given (lower is better).",
        reference=lambda: cycle.quality_gate,
        success=f"your gate decides all {len(GATE_CASES)} cases right, and gives a reason for each.",
    )


# --- 07.2 the next version number ---------------------------------------------------------------------------

# (case, what the base path holds: None = no base path, else folder names, next version)
VERSION_CASES = [
    ("a base path that does not exist yet", None, 1),
    ("an empty base path", [], 1),
    ("versions 1 and 2", ["1", "2"], 3),
    ("versions 1, 2 and 10 (compare numbers, not text: as text '10' comes before '2')", ["1", "2", "10"], 11),
    ("versions 1 and 3 (a gap: version 2 was deleted)", ["1", "3"], 4),
    (
        "versions 1 and 2, an unfinished export '.export-3-k2x9' and a folder 'latest'",
        ["1", "2", ".export-3-k2x9", "latest"],
        3,
    ),
]


def _judge_next_version(answer: Any) -> str | None:
    if not callable(answer):
        return f"next_version is a {type(answer).__name__}, not a function: def next_version(base_path):"
    root = Path(tempfile.mkdtemp(prefix="check-07-2-"))
    try:
        for number, (case, folders, expected) in enumerate(VERSION_CASES):
            base = root / f"case{number}" / "wine"
            if folders is not None:
                base.mkdir(parents=True)
                for name in folders:
                    (base / name).mkdir()
            try:
                result = answer(base)
            except Exception as error:  # noqa: BLE001
                return f"for {case} your function raised {first_line(error)}; the next version is {expected}"
            result = solved(result)
            if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, np.integer)):
                return f"for {case} your function returned {result!r}, not a whole number: return an int"
            if result != expected:
                return f"for {case} your function returned {result}; the next version is {expected}"
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return None


def check_next_version(answer: Any) -> Any:
    """Exercise 07.2: next_version(base_path) for every layout of VERSION_CASES; the cycle's own if not."""
    return verdict(
        "07.2",
        answer,
        _judge_next_version,
        hint="a base path that is not there yet holds no version; of the folders that are there, only those named "
        "by a number are versions, and the highest of them is found by comparing numbers, not names.",
        reference=lambda: cycle.next_version,
        success="numbers compared as numbers, gaps and unfinished exports handled, 1 for a new base path.",
    )


# --- 07.3 the smoke test ---------------------------------------------------------------------------------

SKEW = 0.01  # a skewed export: every prediction off by a hundredth of a quality point
NOISE = 1e-6  # float rounding: far below export.PARITY_TOLERANCE
MISSING_VERSION = 99


def _judge_smoke_test(
    answer: Any, client: ServingClient, version: int, wines: pd.DataFrame, expected: np.ndarray
) -> str | None:
    if not callable(answer):
        return (
            f"smoke_test is a {type(answer).__name__}, not a function: "
            "def smoke_test(client, version, wines, expected):"
        )
    cases = [
        (f"version {version} as exported (the same predictions)", version, expected, True),
        (
            f"version {version} with predictions {NOISE:g} off (float rounding, within the tolerance)",
            version,
            expected + NOISE,
            True,
        ),
        (f"version {version} with predictions {SKEW:g} off (a skewed export)", version, expected + SKEW, False),
        (f"version {MISSING_VERSION}, which the server does not have", MISSING_VERSION, expected, False),
    ]
    for case, asked, predictions, passes in cases:
        try:
            result = answer(client, asked, wines.copy(), np.array(predictions, dtype=float))
        except Exception as error:  # noqa: BLE001
            return (
                f"for {case} your smoke test raised {first_line(error)}: catch the server's error and report it "
                "as a problem in the list"
            )
        result = solved(result)
        if not isinstance(result, (list, tuple)) or not all(isinstance(problem, str) for problem in result):
            return (
                f"for {case} your smoke test returned {result!r}: return a list of problems (strings), [] if it passes"
            )
        if passes and result:
            return f"for {case} your smoke test reports {list(result)}; it should pass and return []"
        if not passes and not result:
            return f"for {case} your smoke test returned []; it should report the problem"
    return None


def check_smoke_test(answer: Any, client: ServingClient, version: int, wines: pd.DataFrame, served: Path) -> Any:
    """Exercise 07.3: the smoke test passes the served version and catches a skew and a missing version.

    `served` is the base path the server watches: the check computes the in-process predictions of
    <served>/<version> itself.
    """
    expected = np.asarray(cycle.predict_saved_model(Path(served) / str(version), wines), dtype=float)
    return verdict(
        "07.3",
        answer,
        lambda function: _judge_smoke_test(function, client, version, wines, expected),
        hint="a release is fine when the server reports that very version AVAILABLE and its answers for the "
        "wines agree with the artifact's own within a tolerance, not exactly; any HTTP error status on the way "
        "(a version it does not have) is a problem to put in the list, not an exception to let through.",
        reference=lambda: cycle.smoke_test,
        success="it passes the served version, tolerates float rounding, and catches a skewed export and "
        "a version the server does not have.",
    )
