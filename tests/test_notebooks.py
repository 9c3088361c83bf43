"""Notebooks are the course: every one runs top to bottom, twice in a row, with the same result.

A lesson runs with its own parameters, first with papermill (into build/executed/), then with nbval
in the same workspace: both runs must give the committed outputs of the cells marked
NBVAL_CHECK_OUTPUT (after tests/nbval_sanitize.cfg). Exercises and solutions run twice with papermill
and their small CI parameters (course/notebook_parameters.yaml), in a scratch working directory.
"""

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from course import exercises, notebooks
from course.checks import CORRECT, NOT_SOLVED, VERDICT_PATTERN
from workshop_lib.config import REPO_ROOT

ALL_NOTEBOOKS = notebooks.course_notebooks()
LESSONS = notebooks.course_notebooks("notebooks")
EXERCISE_NOTEBOOKS = notebooks.course_notebooks("exercises", "solutions")
SOLUTIONS = notebooks.course_notebooks("solutions")
NAMES = notebooks.relative_name
MIN_EXERCISES = 3
# What every check must say: solved by the solution notebook, "not solved yet" in the untouched exercise.
EXPECTED_VERDICT = {"solutions": CORRECT, "exercises": NOT_SOLVED}
SANITIZE_FILE = REPO_ROOT / "tests" / "nbval_sanitize.cfg"
NBVAL_TIMEOUT_SECONDS = 900  # a whole lesson; the slowest (07) takes about 90 s on 2 busy cores

TF_LOG_LINE = notebooks.TF_LOG_LINE  # TensorFlow's C++ log lines: no notebook may show one


def checked_outputs(nb) -> list[str]:
    """The text outputs of the cells nbval compares (marked NBVAL_CHECK_OUTPUT)."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
            # Joined per cell: the kernel may split one print into several stream outputs.
            texts.append(
                "".join(output.get("text") or output.get("data", {}).get("text/plain", "") for output in cell.outputs)
            )
    return texts


def sanitized(texts: list[str]) -> list[str]:
    """Texts with what legitimately differs between runs masked, by nbval's own rules (tests/nbval_sanitize.cfg)."""
    rules = configparser.ConfigParser(interpolation=None)
    rules.read(SANITIZE_FILE, encoding="utf-8")
    for section in rules.sections():
        pattern, replacement = rules[section]["regex"], rules[section]["replace"]
        texts = [re.sub(pattern, replacement, text) for text in texts]
    return texts


def verdicts(nb) -> list[tuple[str, str]]:
    """(exercise id, status) of every check's verdict printed in an executed notebook."""
    text = "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )
    return re.findall(VERDICT_PATTERN, text)


def tf_log_lines(nb) -> list[str]:
    return [
        match.group(0)
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for match in TF_LOG_LINE.finditer(output.get("text", ""))
    ]


def test_the_course_has_notebooks():
    assert REPO_ROOT / "notebooks" / "00_setup_check.ipynb" in LESSONS


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", LESSONS, ids=NAMES)
def test_lesson_runs_twice_in_a_row_and_gives_its_committed_outputs(lesson, executed_dir):
    """Run 1: papermill, in a scratch folder. Run 2: nbval on the committed notebook, in the same workspace
    and models folders (this worker's), so it also proves that a second "Run All" works on what the first
    one left behind. Both must match the committed outputs of the checked cells."""
    scratch = executed_dir.parent / "scratch" / "notebooks" / lesson.stem
    shutil.rmtree(scratch, ignore_errors=True)
    first = notebooks.execute(lesson, executed_dir / NAMES(lesson), cwd=scratch)
    committed = nbformat.read(lesson, as_version=4)
    assert checked_outputs(committed), f"{NAMES(lesson)} has no cell marked NBVAL_CHECK_OUTPUT"
    assert sanitized(checked_outputs(first)) == sanitized(checked_outputs(committed)), (
        f"{NAMES(lesson)}: a run of the current code gives other checked outputs than the committed ones "
        "(run `make outputs` if the change is intended)"
    )
    assert tf_log_lines(first) == [], "TensorFlow C++ log lines reached the notebook: is the course kernel registered?"
    assert verdicts(first) == [], f"a lesson printed exercise verdicts: {verdicts(first)}"
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "--exitfirst",  # the first failing cell in full: the cells after it fail only because it did
            "--nbval-lax",
            "--nbval-sanitize-with",
            str(SANITIZE_FILE),
            "--rootdir",
            str(REPO_ROOT),
            str(lesson),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=NBVAL_TIMEOUT_SECONDS,
    )
    assert second.returncode == 0, f"the nbval run of {NAMES(lesson)} failed:\n{second.stdout[-4000:]}"


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", EXERCISE_NOTEBOOKS, ids=NAMES)
def test_exercise_notebook_runs_twice_in_a_row_with_the_same_result(notebook, executed_dir):
    scratch = executed_dir.parent / "scratch" / notebook.parent.name / notebook.stem
    shutil.rmtree(scratch, ignore_errors=True)
    parameters = notebooks.ci_parameters(notebook)
    target = executed_dir / NAMES(notebook)
    with notebooks.one_kernel() as kernel:  # the second "Run All" in the same kernel, as participants do it
        first = notebooks.execute(notebook, target, parameters, cwd=scratch, kernel=kernel)
        second = notebooks.execute(notebook, target.with_suffix(".run2.ipynb"), parameters, cwd=scratch, kernel=kernel)
    assert checked_outputs(first) == checked_outputs(second), "a second 'Run All' gave different checked outputs"
    assert verdicts(first) == verdicts(second), "a second 'Run All' gave different exercise verdicts"
    assert tf_log_lines(first) == [], "TensorFlow C++ log lines reached the notebook: is the course kernel registered?"
    expected = EXPECTED_VERDICT[notebook.parent.name]
    found = verdicts(first)
    assert len({exercise for exercise, _ in found}) >= MIN_EXERCISES, (
        f"fewer than {MIN_EXERCISES} checked exercises: {found}"
    )
    assert [status for _, status in found] == [expected] * len(found), f"every check should say '{expected}': {found}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=NAMES)
def test_exercise_is_generated_from_its_solution(solution):
    """exercises/ is never edited by hand: it must be exactly what `make exercises` writes."""
    exercise = exercises.exercise_path(solution)
    assert exercise.is_file(), f"{NAMES(solution)} has no exercise: run `make exercises`"
    assert exercise.read_text(encoding="utf-8") == exercises.render(solution), (
        f"{NAMES(exercise)} differs from its solution: run `make exercises`"
    )


def test_every_exercise_has_a_solution():
    orphans = [
        NAMES(e) for e in notebooks.course_notebooks("exercises") if not (REPO_ROOT / "solutions" / e.name).is_file()
    ]
    assert orphans == []


TAKE_HOME = "08_take_home_project"  # after the day: an exercise and a solution, no lesson; its deck has no number


def test_every_module_has_a_lesson_and_slides():
    for notebook in ALL_NOTEBOOKS:
        if notebook.stem == TAKE_HOME:
            assert (REPO_ROOT / "slides" / "take_home_project.md").is_file(), "the take-home project has no deck"
            continue
        assert (REPO_ROOT / "notebooks" / notebook.name).is_file(), f"{NAMES(notebook)} has no lesson"
        assert (REPO_ROOT / "slides" / f"{notebook.stem}.md").is_file(), f"{NAMES(notebook)} has no slide deck"


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=NAMES)
def test_notebook_has_a_parameters_cell(notebook):
    assert notebooks.parameters_cell(notebook) is not None, f"{NAMES(notebook)} has no cell tagged 'parameters'"


def test_ci_parameters_belong_to_existing_notebooks_and_parameters():
    table = yaml.safe_load(notebooks.CI_PARAMETERS_FILE.read_text()) or {}
    for name, parameters in table.items():
        path = REPO_ROOT / name
        assert path in ALL_NOTEBOOKS, f"{notebooks.CI_PARAMETERS_FILE.name}: {name} is not a course notebook"
        cell = notebooks.parameters_cell(path)
        assigned = set(re.findall(r"^(\w+)\s*=", cell.source, re.M))
        unknown = set(parameters or {}) - assigned
        assert not unknown, f"{name}: CI parameters {sorted(unknown)} are not in its parameters cell"


@pytest.mark.parametrize("notebook", LESSONS, ids=NAMES)
def test_lesson_is_committed_as_one_clean_run_all(notebook):
    """Committed outputs come from one top-to-bottom run: counts 1, 2, 3, ... and no errors."""
    nb = nbformat.read(notebook, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        f"{NAMES(notebook)}: not committed from a clean 'Restart and Run All' (run `make outputs`)"
    )
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{NAMES(notebook)} is committed with an error output"
    assert tf_log_lines(nb) == []


# Where a machine's own folders show in a path: this checkout, the home folder, the usual places of users,
# temporary files and installed packages on Linux, macOS and Windows.
MACHINE_PATH = re.compile(
    "|".join(
        [
            re.escape(str(REPO_ROOT)),
            re.escape(str(Path.home())) + r"(?=[/\\])",
            r"/home/\w",
            r"/Users/\w",
            r"/root/",
            r"/tmp/",
            r"/private/var/",
            r"/var/folders/",
            r"[A-Za-z]:\\+Users",
            r"site-packages",
        ]
    )
)


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=NAMES)
def test_committed_outputs_show_no_folder_of_the_authors_machine(notebook):
    """Paths in outputs are shown relative to the course (config.shown): a participant's run shows no other machine."""
    nb = nbformat.read(notebook, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if match := MACHINE_PATH.search(text):
                found.append(f"cell {index}: ...{text[max(0, match.start() - 40) : match.end() + 40]}...")
    assert not found, f"{NAMES(notebook)} shows a folder of the machine it ran on:\n" + "\n".join(found)


def test_a_machine_path_in_an_output_is_found():
    """The pattern above catches what it is for (else the test above could never fail)."""
    machine = [f"{REPO_ROOT}/workspace/03", "/home/anna/course", "/Users/anna/x", "C:\\Users\\anna", "/tmp/pytest-1/x"]
    for text in machine:
        assert MACHINE_PATH.search(text), text
    for text in ["workspace/03_reproducible_training_dvc", "models/wine/1", "data/wine.csv", "http://127.0.0.1:8501/"]:
        assert not MACHINE_PATH.search(text), text


def test_a_failing_cell_fails_the_run_with_its_error(tmp_path):
    broken = tmp_path / "99_broken.ipynb"
    nbformat.write(
        new_notebook(
            cells=[new_code_cell("x = 1"), new_code_cell("1 / 0")],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        ),
        broken,
    )
    with pytest.raises(papermill.PapermillExecutionError, match="ZeroDivisionError"):
        notebooks.execute(broken, tmp_path / "out.ipynb", cwd=tmp_path)


@pytest.mark.parametrize(
    "line, noise",
    [
        ("2026-11-26 23:58:48.026887: E external/local_xla/xla/stream_executor/cuda/cuda_platform.cc:51] failed", True),
        # TensorFlow 2.21 (found by tools/upgrade_probe.py): absl's own format, and its warning before it starts
        ("I0000 00:00:1796593432.866897   21178 cudart_stub.cc:31] Could not find cuda drivers on your machine.", True),
        ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
        ("version 1: exported (trained on red, MAE 0.507) at 00:00:12.5", False),
        ("WARNING: the model server was running before this notebook", False),
    ],
)
def test_tf_log_lines_are_recognised(line, noise):
    output = {"output_type": "stream", "name": "stderr", "text": f"first line\n{line}\n"}
    cell = {"cell_type": "code", "source": "", "metadata": {}, "execution_count": 1, "outputs": [output]}
    noisy = nbformat.from_dict({"cells": [cell]})
    assert len(tf_log_lines(noisy)) == int(noise)
