"""Exercises are problems, not replays: no solution copies a lesson cell, and from module 02 on participants use the
real tools (dvc, git, requests, gRPC stubs, onnxruntime, pytest) themselves.

"Copy" is measured on tokens, so re-spacing or new comments do not hide one: a solution region is a copy when one
code cell of a lesson (any module's), or another exercise's solution, holds an unbroken run of at least half of
the region's tokens, or at least half of its lines. Short regions (a one-line answer) are judged by the other
measure only when they have enough tokens to mean something.
"""

import difflib
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

from course.exercises import BEGIN, END
from workshop_lib.config import REPO_ROOT

SOLUTIONS = sorted((REPO_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COPY_SHARE = 0.5  # half of a region found in one place is a copy
MIN_TOKENS = 12  # below this, a shared run is a common idiom (`len(frame)`), not a copied solution
MIN_LINE = 8  # characters: shorter lines (`)`, `else:`) say nothing
# Using a tool as at work, in a solution region (the participant writes it): shell commands, or the library itself.
REAL_TOOL = re.compile(
    r"^\s*(?:\w+\s*=\s*)?!\s*(?:cd [^&]+&&\s*)?(?:dvc|git|curl|pytest)\b"  # !dvc exp run, out = !git tag
    r'|^\s*!.*(?:python|\{sys\.executable\}"?) -m pytest\b'  # !cd folder && "{sys.executable}" -m pytest
    r"|^\s*(?:dvc|git|curl|pytest|python -m pytest)\s"  # a %%bash cell
    r"|\brequests\.(?:get|post|Session)\b"
    r"|\bprediction_service_pb2_grpc\b|\bgrpc\.insecure_channel\b"
    r"|\bonnxruntime\.InferenceSession\b|\bort\.InferenceSession\b"
    r"|\bpytest\.main\b",
    re.MULTILINE,
)


def solution_regions(notebook: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, text) of every block between the solution markers, but the concept questions' answers (the same
    `answers = {1: "b", ...}` in every module, by design)."""
    regions = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "concepts.check_answers" in cell.source:
            continue
        block = None
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                block = []
            elif line.strip() == END and block is not None:
                regions.append((index, "\n".join(block)))
                block = None
            elif block is not None:
                block.append(line)
    return regions


def code_tokens(source: str) -> list[str]:
    """The code's tokens without comments, blank lines or indentation; shell lines split on white space."""
    kept = []
    for line in source.splitlines():
        if line.lstrip().startswith(("!", "%")):
            kept += line.split()
            continue
        try:
            kept += [
                token.string
                for token in tokenize.generate_tokens(io.StringIO(line + "\n").readline)
                if token.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING, tokenize.OP)
            ]
        except (tokenize.TokenError, IndentationError, SyntaxError):  # a line of a bracket spanning lines
            kept += line.split()
    return kept


def significant_lines(source: str) -> list[str]:
    lines = (re.sub(r"\s+", "", re.sub(r"#.*", "", line)) for line in source.splitlines())
    return [line for line in lines if len(line) >= MIN_LINE and not line.startswith(("import", "from"))]


def copied_share(region: str, other: str) -> float:
    """The larger of: the longest unbroken run of the region's tokens found in `other`, and its lines found there,
    each as a share of the region."""
    mine, theirs = code_tokens(region), code_tokens(other)
    run = 0.0
    if len(mine) >= MIN_TOKENS:
        match = difflib.SequenceMatcher(None, mine, theirs, autojunk=False)
        run = match.find_longest_match(0, len(mine), 0, len(theirs)).size / len(mine)
    lines, other_lines = significant_lines(region), set(significant_lines(other))
    line_share = sum(line in other_lines for line in lines) / len(lines) if len(lines) >= 2 else 0.0
    return max(run, line_share)


def places_to_compare() -> list[tuple[str, str]]:
    """(where, code) of every lesson code cell and every solution region."""
    places = []
    for lesson in LESSONS:
        for index, cell in enumerate(nbformat.read(lesson, as_version=4).cells):
            if cell.cell_type == "code":
                places.append((f"notebooks/{lesson.name}, cell {index}", cell.source))
    for solution in SOLUTIONS:
        for index, region in solution_regions(nbformat.read(solution, as_version=4)):
            places.append((f"solutions/{solution.name}, cell {index}", region))
    return places


def copies_in(solution: Path, places: list[tuple[str, str]]) -> list[str]:
    found = []
    for index, region in solution_regions(nbformat.read(solution, as_version=4)):
        here = f"solutions/{solution.name}, cell {index}"
        for where, code in places:
            if where != here and (share := copied_share(region, code)) >= COPY_SHARE:
                found.append(f"{here} copies {share:.0%} of {where}")
    return found


@pytest.fixture(scope="module")
def places():
    return places_to_compare()


def test_the_course_has_solutions_with_regions():
    assert len(SOLUTIONS) >= 7
    assert all(solution_regions(nbformat.read(path, as_version=4)) for path in SOLUTIONS)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem)
def test_no_solution_copies_a_lesson_cell_or_another_exercise(solution, places):
    copies = copies_in(solution, places)
    assert not copies, "an exercise that replays code already shown is no problem to solve:\n" + "\n".join(copies)


@pytest.mark.parametrize("solution", [path for path in SOLUTIONS if path.name[:2] >= "02"], ids=lambda path: path.stem)
def test_from_module_02_on_an_exercise_uses_a_real_tool(solution):
    notebook = nbformat.read(solution, as_version=4)
    used = [index for index, region in solution_regions(notebook) if REAL_TOOL.search(region)]
    tools = "dvc, git, requests, gRPC stubs, onnxruntime or pytest"
    assert used, f"solutions/{solution.name}: no exercise is done with {tools}"


# ---------------------------------------------------------------- the measures catch what they should

LESSON_CELL = """
red = data.load_red()
unique = red.drop_duplicates()
n_duplicates = len(red) - len(unique)
print(f"{n_duplicates} duplicated rows")
"""


def test_a_copied_cell_is_a_copy_even_re_spaced_and_commented():
    region = "# my answer\nunique  =  red.drop_duplicates()   # keep the first\nn_duplicates = len(red)-len(unique)\n"
    assert copied_share(region, LESSON_CELL) == 1.0


def test_another_task_with_the_same_library_is_no_copy():
    region = """
train, valid = split(red)
twins = valid.merge(train, how="inner", on=list(red.columns))
share_with_twin = len(twins.drop_duplicates()) / len(valid)
"""
    assert copied_share(region, LESSON_CELL) < COPY_SHARE


def test_shell_commands_are_compared_too():
    lesson = (
        "!cd {project} && dvc exp run -S train.alpha=0.1 -S train.l1_ratio=0.5\n!cd {project} && dvc exp show --csv"
    )
    assert copied_share(lesson, lesson + "\nprint(1)") == 1.0
    assert (
        copied_share("!cd {project} && git switch v1.0\n!cd {project} && dvc checkout --summary", lesson) < COPY_SHARE
    )


@pytest.mark.parametrize(
    ("region", "uses_a_tool"),
    [
        ("!cd {project} && dvc exp run -S train.alpha=0.1", True),
        ("tags = !git -C {project} tag --list", True),
        ("answer = requests.post(url, json=body).json()", True),
        ("stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)", True),
        ("session = onnxruntime.InferenceSession(path)", True),
        ("!python -m pytest -q my_tests/", True),
        ('!cd "{folder}" && "{sys.executable}" -m pytest -q', True),
        ("answer = project.dvc('exp', 'run')", False),
        ("answer = client.request(rows)", False),
    ],
)
def test_real_tools_are_recognised(region, uses_a_tool):
    assert bool(REAL_TOOL.search(region)) is uses_a_tool
