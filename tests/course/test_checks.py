"""verdict(): what a participant reads after an exercise, and what the notebook goes on with.

The judge here checks one tiny exercise: "the number of duplicate rows in [1, 1, 2] is 1". The
participant's answer may be right, wrong, still the placeholder `...`, or a function that crashes.
"""

import re

import pytest

from course import checks
from course.checks import verdict

HINT = "Use frame.duplicated().sum()."
REFERENCE = 1


def judge_count(answer):
    """None when right, else one sentence of what is wrong."""
    return None if answer == REFERENCE else f"you counted {answer} duplicates, but there is {REFERENCE}"


def judge_function(count_duplicates):
    """For an answer that is a function: call it, and the result may still be the placeholder."""
    return judge_count(checks.solved(count_duplicates([1, 1, 2])))


def reference():
    return REFERENCE


def lines_of(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_a_right_answer(capsys):
    returned = verdict("01.1", 1, judge_count, HINT, reference, success="one wine is there twice.")
    assert lines_of(capsys) == ["✔ Exercise 01.1 — correct: one wine is there twice."]
    assert returned == 1


def test_a_right_answer_without_success_message(capsys):
    verdict("01.1", 1, judge_count, HINT, reference)
    assert lines_of(capsys) == ["✔ Exercise 01.1 — correct."]


def test_a_right_answer_is_returned_itself_and_the_reference_is_not_computed(capsys):
    answer = [1]  # an object we can recognise by identity

    def never():
        raise AssertionError("the reference is only needed when the answer is not right")

    assert verdict("01.2", answer, lambda a: None, HINT, never) is answer


def test_a_wrong_answer_says_what_is_wrong_gives_the_hint_and_goes_on_with_the_reference(capsys):
    returned = verdict("01.1", 3, judge_count, HINT, reference)
    assert lines_of(capsys) == [
        "✘ Exercise 01.1 — not quite: you counted 3 duplicates, but there is 1",
        f"   Hint: {HINT}",
        "   The notebook goes on with the reference result, so the next cells still run.",
    ]
    assert returned == REFERENCE


def test_a_wrong_answer_without_reference_is_returned_as_it_is(capsys):
    assert verdict("01.1", 3, judge_count, HINT) == 3
    assert "reference" not in capsys.readouterr().out


def test_the_placeholder_is_not_solved_yet(capsys):
    returned = verdict("01.1", ..., judge_count, HINT, reference)
    out = lines_of(capsys)
    assert out[0] == "… Exercise 01.1 — not solved yet: replace the ... with your code, then run the cell again"
    assert out[1] == f"   Hint: {HINT}"
    assert returned == REFERENCE


def test_a_function_that_still_returns_the_placeholder_is_not_solved_yet(capsys):
    def count_duplicates(values):
        return ...

    assert verdict("01.3", count_duplicates, judge_function, HINT, reference) == REFERENCE
    assert lines_of(capsys)[0].startswith("… Exercise 01.3 — not solved yet")


def test_a_right_function(capsys):
    def count_duplicates(values):
        return len(values) - len(set(values))

    assert verdict("01.3", count_duplicates, judge_function, HINT, reference) is count_duplicates
    assert lines_of(capsys) == ["✔ Exercise 01.3 — correct."]


def test_a_crashing_answer_is_a_plain_not_quite_never_a_traceback(capsys):
    def count_duplicates(values):
        return values.duplicated().sum()  # a list has no .duplicated()

    returned = verdict("01.3", count_duplicates, judge_function, HINT, reference)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == (
        "✘ Exercise 01.3 — not quite: checking your answer raised AttributeError: "
        "'list' object has no attribute 'duplicated'"
    )
    assert lines[1] == f"   Hint: {HINT}"
    assert "Traceback" not in captured.out + captured.err
    assert returned == REFERENCE


def test_an_error_with_a_long_message_shows_its_first_line_only(capsys):
    def judge(answer):
        raise ValueError("first line\nsecond line\nthird line")

    verdict("01.4", 0, judge, HINT)
    assert lines_of(capsys)[0].endswith("raised ValueError: first line")


@pytest.mark.parametrize("answer, status", [(1, "correct"), (3, "not quite"), (..., "not solved yet")])
def test_every_verdict_line_matches_the_pattern_the_notebook_tests_read(answer, status, capsys):
    verdict("02.10", answer, judge_count, HINT, reference)
    match = re.search(checks.VERDICT_PATTERN, capsys.readouterr().out)
    assert match and match.groups() == ("02.10", status)


@pytest.mark.parametrize("answer", [1, 3, ...])
def test_the_hint_is_shown_only_when_the_answer_is_not_correct(answer, capsys):
    verdict("01.1", answer, judge_count, HINT, reference)
    assert ("Hint:" in capsys.readouterr().out) == (answer != 1)


def test_solved_passes_values_through_and_stops_at_the_placeholder():
    assert checks.solved(0) == 0 and checks.solved(None) is None
    with pytest.raises(checks.NotSolved):
        checks.solved(...)
