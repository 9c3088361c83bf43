"""The concept questions: every right answer (in any spelling) is "correct", every wrong choice is named, and the
questions file cannot hold a question whose answer is not one of its choices."""

import pytest
from verdicts import assert_not_quite, verdict_of

from course.checks import concepts

MODULES = sorted(concepts.QUESTIONS)


def right_answers(module: str) -> dict:
    return {number: question.answer for number, question in enumerate(concepts.QUESTIONS[module], start=1)}


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_three_to_five_questions_with_explanations(module):
    questions = concepts.QUESTIONS[module]
    assert 3 <= len(questions) <= 5
    for question in questions:
        assert question.explanation.count(". ") >= 1, question.text  # two sentences, as the file promises


@pytest.mark.parametrize("module", MODULES)
def test_the_right_answers_are_correct_and_explained(module, capsys):
    answers = right_answers(module)
    assert concepts.check_answers(f"{module}.9", module, answers) is answers
    status, out = verdict_of(capsys, f"{module}.9")
    assert status == "correct"
    for question in concepts.QUESTIONS[module]:
        assert question.explanation[:40] in out.replace("\n   ", " ")


@pytest.mark.parametrize("module", MODULES)
def test_the_right_answers_written_another_way_are_correct(module, capsys):
    """ "(B)", " b" for a letter; a number within the tolerance, or as an int or a numpy float."""
    import numpy as np

    answers = {}
    for number, question in enumerate(concepts.QUESTIONS[module], start=1):
        if question.choices:
            answers[number] = f"({question.answer.upper()})" if number % 2 else f" {question.answer}"
        else:
            answers[number] = np.float64(question.answer + question.tolerance / 2)
    concepts.check_answers(f"{module}.9", module, answers)
    assert verdict_of(capsys, f"{module}.9")[0] == "correct"


@pytest.mark.parametrize("module", MODULES)
def test_every_wrong_choice_is_named(module, capsys):
    for number, question in enumerate(concepts.QUESTIONS[module], start=1):
        wrong = [letter for letter in question.choices if letter != question.answer] or [None]
        for letter in wrong:
            answers = right_answers(module)
            answers[number] = letter if letter else float(question.answer) + question.tolerance + 1
            concepts.check_answers(f"{module}.9", module, answers)
            out = assert_not_quite(capsys, f"{module}.9", f"question {number}:")
            if letter in question.why_not:
                assert question.why_not[letter][:30] in out.replace("\n   ", " ")


def test_unanswered_and_malformed_answers(capsys):
    module = MODULES[0]
    count = len(concepts.QUESTIONS[module])
    concepts.check_answers("01.9", module, dict.fromkeys(range(1, count + 1), ...))
    assert verdict_of(capsys, "01.9")[0] == "not solved yet"
    concepts.check_answers("01.9", module, ...)
    assert verdict_of(capsys, "01.9")[0] == "not solved yet"
    partly = right_answers(module) | {count: ...}
    concepts.check_answers("01.9", module, partly)
    assert_not_quite(capsys, "01.9", f"{count - 1} of {count} right", f"question {count}: not answered yet")
    concepts.check_answers("01.9", module, [1, 2])
    assert_not_quite(capsys, "01.9", "should be a dict")
    concepts.check_answers("01.9", module, right_answers(module) | {count + 1: "a"})
    assert_not_quite(capsys, "01.9", f"there are questions 1 to {count}")
    concepts.check_answers("01.9", module, right_answers(module) | {1: "z"})
    assert_not_quite(capsys, "01.9", "question 1: answer with one of the letters")


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("answer: d", "is not one of its choices"),
        ("answer: b\n    why_not: {z: no}", "why_not names a choice"),
    ],
)
def test_a_broken_questions_file_is_refused(tmp_path, entry, problem):
    path = tmp_path / "concepts.yaml"
    path.write_text(
        f'"01":\n  - text: Q?\n    choices: {{a: one, b: two}}\n    explanation: A. B.\n    {entry}\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match=problem):
        concepts._load(path)
    path.write_text('"01":\n  - text: Q?\n    answer: x\n    explanation: A. B.\n', encoding="utf-8")
    with pytest.raises(ValueError, match="needs a number"):
        concepts._load(path)


def test_every_modules_exercise_notebook_asks_its_own_questions():
    """Modules 01 to 07: the solution notebook shows and checks its module's questions under an exercise heading."""
    import re

    import nbformat

    from workshop_lib.config import REPO_ROOT

    assert MODULES == ["01", "02", "03", "04", "05", "06", "07"]
    for module in MODULES:
        (solution,) = (REPO_ROOT / "solutions").glob(f"{module}_*.ipynb")
        sources = [cell.source for cell in nbformat.read(solution, as_version=4).cells]
        text = "\n".join(sources)
        assert f'concepts.show("{module}")' in text, solution.name
        called = re.findall(rf'concepts\.check_answers\("({module}\.\d)", "{module}", answers\)', text)
        assert len(called) == 1, solution.name
        heading = rf"## Exercise {re.escape(called[0])} · Concept questions \(\d+ minutes\)"
        assert re.search(heading, text), solution.name
