"""Checks that end every exercise: a verdict in plain words, never a traceback.

Each module has its own file of checks (exploration.py for 01, package.py for 02, ...), all built
on `verdict()` here. A check:
- says "not solved yet" while the participant's answer is still the placeholder `...`;
- says "correct", or "not quite" with what is wrong and one hint;
- returns the value the notebook goes on with: the participant's answer when it is right, else
  the reference result, with a visible note, so one stuck exercise does not block the next cells.

The printed line always starts with "Exercise NN.K — <status>", which the tests read.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

CORRECT, WRONG, NOT_SOLVED = "correct", "not quite", "not solved yet"
MARKS = {CORRECT: "✔", WRONG: "✘", NOT_SOLVED: "…"}
VERDICT_PATTERN = r"Exercise (\d{2}\.\d+) — (correct|not quite|not solved yet)"


class NotSolved(Exception):
    """Raised inside a judge when it meets the placeholder `...`."""


def solved(value: Any) -> Any:
    """`value`, unless it is still the exercise's placeholder `...` (then NotSolved)."""
    if value is Ellipsis:
        raise NotSolved
    return value


def first_line(error: BaseException) -> str:
    """The "<Type>: <first line of the message>" of an error: how a check names, in one line, an error that a
    participant's code raised."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def one_number(value: Any, what: str, many: str | None = None, unit: str = "number") -> tuple[float | None, str | None]:
    """(value as a float, None), or (None, why it is not one finite number), naming the answer `what`.

    A bool is refused (True would pass as 1), a 0-d array is unwrapped. many: what to say when the answer
    holds several values (e.g. "reduce the differences to the largest one"); without it, it is "not one number".
    unit: what the number counts ("number", "number of milliseconds"), for the messages.
    """
    if isinstance(value, (bool, np.bool_)):
        return None, f"{what} should be a {unit}, not {value!r} (a bool)"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if many is not None and (isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "to_numpy")):
        return None, f"{what} holds {np.size(value)} values: {many}"
    if not isinstance(value, Real):
        return None, f"{what} should be one {unit}, got a {type(value).__name__}"
    if not math.isfinite(float(value)):
        return None, f"{what} should be a finite {unit}, got {value}"
    return float(value), None


@dataclass(frozen=True)
class Verdict:
    exercise: str
    status: str
    message: str = ""
    hint: str = ""

    def __str__(self) -> str:
        head = f"{MARKS[self.status]} Exercise {self.exercise} — {self.status}"
        lines = [f"{head}: {self.message}" if self.message else f"{head}."]
        if self.status != CORRECT and self.hint:
            lines.append(f"   Hint: {self.hint}")
        return "\n".join(lines)


def verdict(
    exercise: str,
    answer: Any,
    judge: Callable[[Any], str | None],
    hint: str,
    reference: Callable[[], Any] | None = None,
    success: str = "",
) -> Any:
    """Judge `answer` and print the verdict; return the answer if right, else the reference result.

    `judge(answer)` returns None when the answer is right, or one sentence saying what is wrong;
    it may call `solved()` on anything that could still be a placeholder. Any error raised while
    judging (a participant's function that crashes, a value of the wrong type) becomes a
    "not quite" that names the error, not a traceback.
    """
    try:
        problem = judge(solved(answer))
    except NotSolved:
        result = Verdict(exercise, NOT_SOLVED, "replace the ... with your code, then run the cell again", hint)
    except Exception as error:  # noqa: BLE001 - a participant's answer may fail in any way; say how, plainly
        result = Verdict(exercise, WRONG, f"checking your answer raised {first_line(error)}", hint)
    else:
        result = Verdict(exercise, WRONG, problem, hint) if problem else Verdict(exercise, CORRECT, success)
    print(result)
    if result.status == CORRECT:
        return answer
    if reference is None:
        return answer
    print("   The notebook goes on with the reference result, so the next cells still run.")
    return reference()
