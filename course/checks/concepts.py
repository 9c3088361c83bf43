"""Concept questions: the ideas code cannot show (why validation before test, when shadow mode is enough, ...).

Every module's questions live in concepts.yaml, one place for the question, its choices, the right answer
and the two sentences that explain it. The exercise notebook prints them with `show(module)` and the
participant answers in a dict, {1: "b", 2: 0.05, ...}; `check_answers(exercise, module, answers)` judges all
of them in one verdict and explains every right answer, so a lucky guess still teaches something.
A choice is a letter; a number is accepted within the question's tolerance.
"""

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from course.checks import NotSolved, one_number, verdict


@dataclass(frozen=True)
class Question:
    text: str
    answer: str | float  # a choice's letter, or a number
    explanation: str  # why that is the answer: two sentences
    choices: dict[str, str] = field(default_factory=dict)  # {"a": ..., "b": ...}; empty: the answer is a number
    tolerance: float = 0.0  # for a number: how far from `answer` still counts as right
    why_not: dict[str, str] = field(default_factory=dict)  # for a tempting wrong choice: what it misses


QUESTIONS_FILE = Path(__file__).with_name("concepts.yaml")


def _load(path: Path = QUESTIONS_FILE) -> dict[str, list[Question]]:
    """{module: its questions}, read from concepts.yaml; a question with a bad field fails here, naming it."""
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = {}
    for module, entries in table.items():
        questions[str(module)] = []
        for number, entry in enumerate(entries, start=1):
            question = Question(**entry)
            where = f"{path.name}: module {module}, question {number}"
            if question.choices and question.answer not in question.choices:
                raise ValueError(f"{where}: the answer {question.answer!r} is not one of its choices")
            if not question.choices and isinstance(question.answer, str):
                raise ValueError(f"{where}: a question without choices needs a number as its answer")
            if set(question.why_not) - set(question.choices):
                raise ValueError(f"{where}: why_not names a choice it does not have")
            questions[str(module)].append(question)
    return questions


QUESTIONS = _load()


def show(module: str) -> None:
    """Print the module's questions, numbered, with their choices."""
    for number, question in enumerate(QUESTIONS[module], start=1):
        print(textwrap.fill(f"{number}. {question.text}", 110, subsequent_indent="   "))
        for letter, choice in question.choices.items():
            print(textwrap.fill(f"({letter}) {choice}", 110, initial_indent="   ", subsequent_indent="       "))
        if not question.choices:
            print("   (a number)")
        print()


def _problem(question: Question, answer: Any) -> str | None:
    """None if `answer` is right, else what is wrong with it."""
    if question.choices:
        letter = str(answer).strip().strip("()").lower() if isinstance(answer, str) else None
        if letter not in question.choices:
            return f"answer with one of the letters {', '.join(question.choices)}, not {answer!r}"
        if letter != question.answer:
            return question.why_not.get(letter, f"({letter}) is not the answer")
        return None
    value, problem = one_number(answer, "the answer")
    if problem:
        return problem
    if not math.isclose(value, float(question.answer), abs_tol=question.tolerance, rel_tol=0):
        return f"{value:g} is not the answer"
    return None


def check_answers(exercise: str, module: str, answers: Any) -> Any:
    """Exercise NN.K: every concept question of `module`, judged in one verdict; below it, the explanation of
    each right answer. "not solved yet" while every answer is still `...`."""
    questions = QUESTIONS[module]
    numbers = range(1, len(questions) + 1)
    right: list[int] = []

    def judge(given: Any) -> str | None:
        if not isinstance(given, dict):
            return f"answers should be a dict {{question number: answer}}, got a {type(given).__name__}"
        unknown = sorted(set(given) - set(numbers), key=str)
        if unknown:
            return f"there are questions 1 to {len(questions)}; answers has {unknown}"
        open_ = [n for n in numbers if given.get(n, ...) is Ellipsis]
        if len(open_) == len(questions):
            raise NotSolved
        problems = []
        for number in numbers:
            if number in open_:
                problems.append(f"question {number}: not answered yet")
                continue
            problem = _problem(questions[number - 1], given[number])
            if problem:
                problems.append(f"question {number}: {problem}")
            else:
                right.append(number)
        return f"{len(right)} of {len(questions)} right; " + "; ".join(problems) if problems else None

    result = verdict(
        exercise,
        answers,
        judge,
        "the lesson's key points answer every question; the ones you got right are explained below the verdict",
        success=f"all {len(questions)} right",
    )
    for number in right:
        print(textwrap.fill(f"{number}. {questions[number - 1].explanation}", 110, subsequent_indent="   "))
    return result
