"""Exercises are generated from the solutions: what the generator keeps, what it replaces, what it refuses.

The placeholders must keep an unsolved exercise running top to bottom (its checks then say "not
solved yet"), so several tests here execute the generated code, not only read it.
"""

import ast
import inspect
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import exercises
from course.exercises import (
    BEGIN,
    END,
    PROMPT,
    PROMPT_COMMANDS,
    PROMPT_NO_PLACEHOLDER,
    ExerciseMarkupError,
    strip_solutions,
)


def cell(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def run(code: str, **names) -> dict:
    """Execute generated code with `names` predefined; return its namespace."""
    namespace = dict(names)
    exec(compile(code, "<exercise>", "exec"), namespace)  # noqa: S102 - our own generated test code
    return namespace


# --- assignment blocks ---------------------------------------------------------------------------


def test_an_assignment_block_becomes_a_prompt_and_placeholders():
    solution = cell(f"""
        red = load()
        {BEGIN}
        unique = red.drop_duplicates()
        n_duplicates = len(red) - len(unique)
        {END}
        check(unique, n_duplicates)
        """)
    assert strip_solutions(solution) == cell(f"""
        red = load()
        {PROMPT}
        unique = ...
        n_duplicates = ...
        check(unique, n_duplicates)
        """)


def test_code_outside_the_markers_is_kept_exactly():
    source = "import pandas as pd\n\n# a comment\nframe = pd.DataFrame()  # keep me"
    assert strip_solutions(source) == source


def test_several_blocks_in_one_cell_are_each_replaced():
    solution = cell(f"""
        {BEGIN}
        a = 1
        {END}
        print(a)
        {BEGIN}
        b = a + 1
        {END}
        """)
    assert strip_solutions(solution) == f"{PROMPT}\na = ...\nprint(a)\n{PROMPT}\nb = ..."


# Each case: a solution cell, and the names the unsolved exercise must still define as `...`.
RUNNABLE = {
    "assignments": (
        f"""
        {BEGIN}
        share = 0.2
        count: int = 3
        count += 1
        {END}
        """,
        ["share", "count"],
    ),
    "tuple_unpacking": (
        f"""
        {BEGIN}
        x_train, x_test, y_train, y_test = split(red)
        {END}
        """,
        ["x_train", "x_test", "y_train", "y_test"],
    ),
    "names_bound_in_a_loop_or_branch": (
        f"""
        {BEGIN}
        total = 0
        for score in scores:
            total += score
        if total > 10:
            verdict = "high"
        else:
            verdict = "low"
        {END}
        """,
        ["total", "verdict"],
    ),
    "function_definition": (
        f"""
        {BEGIN}
        def count_duplicates(frame, keep="first"):
            \"\"\"How many rows repeat an earlier row.\"\"\"
            return int(frame.duplicated(keep=keep).sum())
        {END}
        """,
        ["count_duplicates"],
    ),
    "one_line_function": (
        f"""
        {BEGIN}
        def double(x): return 2 * x
        {END}
        """,
        ["double"],
    ),
}


@pytest.mark.parametrize("case", sorted(RUNNABLE))
def test_the_unsolved_exercise_still_runs_and_defines_every_name(case):
    """An exercise whose placeholders crash (or leave a name undefined) stops the notebook before its check."""
    solution, names = RUNNABLE[case]
    exercise = strip_solutions(cell(solution))
    namespace = run(exercise)  # the solution's inputs (split, red, scores) are not needed any more
    for name in names:
        value = namespace[name]
        if callable(value):  # a placeholder function: call it with dummy arguments
            required = [p for p in inspect.signature(value).parameters.values() if p.default is p.empty]
            value = value(*[None] * len(required))
        assert value is Ellipsis, f"{name} in:\n{exercise}"


# --- shell commands: participants use dvc, git and curl themselves ----------------------------------


def test_a_block_of_shell_commands_becomes_a_bare_prompt():
    solution = cell(f"""
        project = "wine"
        {BEGIN}
        !cd {{project}} && dvc exp run -S train.alpha=0.1
        !git -C {{project}} tag v2
        {END}
        check(project)
        """)
    assert strip_solutions(solution) == f'project = "wine"\n{PROMPT_NO_PLACEHOLDER}\ncheck(project)'


def test_names_assigned_next_to_shell_commands_get_placeholders():
    solution = cell(f"""
        {BEGIN}
        lines = !dvc exp show --csv
        !git status
        best = lines[1]
        {END}
        """)
    exercise = strip_solutions(solution)
    assert exercise == f"{PROMPT}\nlines = ...\nbest = ..."
    assert run(exercise)["best"] is Ellipsis


def test_a_block_in_a_bash_cell_becomes_a_commands_prompt():
    solution = f"%%bash\ncd wine\n{BEGIN}\ndvc exp run -S train.alpha=0.1\ngit tag v2\n{END}\ngit log --oneline"
    assert strip_solutions(solution) == f"%%bash\ncd wine\n{PROMPT_COMMANDS}\ngit log --oneline"


# --- blocks inside a function body ---------------------------------------------------------------


def test_an_indented_block_that_returns_becomes_return_placeholder():
    solution = cell(f'''
        def count_duplicates(frame):
            """How many rows repeat an earlier row."""
            {BEGIN}
            duplicated = frame.duplicated()
            return int(duplicated.sum())
            {END}
        ''')
    exercise = strip_solutions(solution)
    assert exercise == cell(f'''
        def count_duplicates(frame):
            """How many rows repeat an earlier row."""
            {PROMPT}
            return ...
        ''')
    assert run(exercise)["count_duplicates"](None) is Ellipsis


def test_an_indented_block_without_return_keeps_its_indentation():
    solution = cell(f"""
        def clean(frame):
            {BEGIN}
            frame = frame.dropna()
            {END}
            return frame
        """)
    exercise = strip_solutions(solution)
    assert exercise == f"def clean(frame):\n    {PROMPT}\n    frame = ...\n    return frame"
    assert run(exercise)["clean"](None) is Ellipsis


# --- function definitions ------------------------------------------------------------------------

FUNCTION_SOLUTION = cell(f'''
    {BEGIN}
    def good_share(frame: "pd.DataFrame", threshold: int = 7) -> float:
        """The share of wines scored `threshold` or more.

        A wine is 'good' from 7 on (features.GOOD_WINE_THRESHOLD).
        """
        good = frame["quality"] >= threshold
        return float(good.mean())
    {END}
    share = good_share(red)
    ''')


def test_a_function_keeps_its_signature_and_docstring_and_returns_placeholder():
    exercise = strip_solutions(FUNCTION_SOLUTION)
    solved_def = ast.parse(textwrap.dedent(FUNCTION_SOLUTION.split(BEGIN)[1].split(END)[0])).body[0]
    tree = ast.parse(exercise)
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
    assert function.name == "good_share"
    assert ast.unparse(function.args) == ast.unparse(solved_def.args)
    assert ast.unparse(function.returns) == ast.unparse(solved_def.returns)
    assert ast.get_docstring(function) == ast.get_docstring(solved_def)
    assert ast.unparse(function.body[-1]) == "return ..."
    assert len(function.body) == 2  # docstring and `return ...`: the solution's body is gone
    assert "frame.mean" not in exercise and ">= threshold" not in exercise
    assert exercise.startswith(PROMPT) and exercise.endswith("share = good_share(red)")


def test_the_placeholder_function_returns_the_placeholder():
    namespace = run(strip_solutions(FUNCTION_SOLUTION), red=None)
    assert namespace["good_share"](None) is Ellipsis and namespace["share"] is Ellipsis


def test_a_function_without_docstring_gets_only_return_placeholder():
    exercise = strip_solutions(
        cell(f"""
        {BEGIN}
        def double(x):
            return 2 * x
        {END}
        """)
    )
    assert exercise == f"{PROMPT}\ndef double(x):\n    return ..."


# --- markup errors name the cell and the line ----------------------------------------------------

WHERE = "solutions/01_exploration.ipynb, cell 4"


def markup_error(source: str) -> str:
    with pytest.raises(ExerciseMarkupError) as raised:
        strip_solutions(source, WHERE)
    return str(raised.value)


def test_markup_error_is_a_value_error():
    assert issubclass(ExerciseMarkupError, ValueError)


def test_end_without_begin_names_the_line():
    message = markup_error(f"x = 1\n{END}")
    assert message.startswith(f"{WHERE}, line 2:") and "without" in message


def test_begin_inside_a_block_names_the_line():
    message = markup_error(f"{BEGIN}\nx = 1\n{BEGIN}\ny = 2\n{END}")
    assert message.startswith(f"{WHERE}, line 3:") and "inside another" in message


def test_begin_without_end_names_the_line_of_the_begin():
    message = markup_error(f"red = load()\n{BEGIN}\nunique = red.drop_duplicates()\n")
    assert message.startswith(f"{WHERE}, line 2:") and f"without {END}" in message


def test_a_block_that_does_not_parse_names_its_line_in_the_cell():
    """The block's own line 2 is line 4 of the cell: the message points into the cell the author sees."""
    message = markup_error(f"red = load()\n{BEGIN}\nunique = red.drop_duplicates()\nn = len(red -\n{END}")
    assert message.startswith(f"{WHERE}, line 4:") and "does not parse" in message


def test_a_block_that_only_parses_with_the_code_around_it_is_refused():
    """An `else:` branch alone is no statement: the exercise would not run."""
    message = markup_error(f"if ok:\n    x = 1\n{BEGIN}\nelse:\n    x = 2\n{END}")
    assert WHERE in message and "does not parse" in message


# --- whole notebooks -----------------------------------------------------------------------------


def solution_notebook() -> nbformat.NotebookNode:
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (workshop)", "language": "python"},
            "papermill": {"duration": 1.0},
        }
    )
    nb.cells = [
        new_markdown_cell("# 01 · Demo\n\nFind the duplicates."),
        new_code_cell("# parameters\nSEED = 42", metadata={"tags": ["parameters"]}, execution_count=1),
        new_code_cell(
            f"{BEGIN}\nanswer = 6 * 7\n{END}\nprint(answer)",
            execution_count=2,
            outputs=[new_output("stream", name="stdout", text="42\n")],
        ),
        new_code_cell(
            "print('done')",
            execution_count=3,
            outputs=[new_output("stream", name="stdout", text="done\n")],
            metadata={"execution": {"iopub.status.busy": "2026-01-01T00:00:00"}},
        ),
    ]
    return nb


def test_make_exercise_clears_outputs_and_execution_counts():
    exercise = exercises.make_exercise(solution_notebook(), "solutions/01_demo.ipynb")
    code_cells = [c for c in exercise.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)
    assert all("execution" not in c.metadata for c in exercise.cells)
    assert "papermill" not in exercise.metadata
    assert exercise.metadata.kernelspec.display_name == "Python 3 (workshop)"


def test_make_exercise_strips_solutions_and_leaves_other_cells_unchanged():
    solution = solution_notebook()
    exercise = exercises.make_exercise(solution, "solutions/01_demo.ipynb")
    assert exercise.cells[2].source == f"{PROMPT}\nanswer = ...\nprint(answer)"
    for index in (0, 1, 3):
        assert exercise.cells[index].source == solution.cells[index].source
    assert exercise.cells[1].metadata["tags"] == ["parameters"]
    assert [c.id for c in exercise.cells] == [c.id for c in solution.cells]


def test_make_exercise_leaves_the_solution_untouched():
    solution = solution_notebook()
    before = nbformat.writes(solution)
    exercises.make_exercise(solution, "solutions/01_demo.ipynb")
    assert nbformat.writes(solution) == before


def test_make_exercise_names_the_notebook_and_cell_of_a_markup_error():
    solution = solution_notebook()
    solution.cells[3].source = f"print('done')\n{END}"
    with pytest.raises(ExerciseMarkupError, match=r"^solutions/01_demo\.ipynb, cell 3, line 2:"):
        exercises.make_exercise(solution, "solutions/01_demo.ipynb")


# --- the command: --check, and regenerating without losing a participant's work ------------------


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A course folder with one solution and its exercise folder, standing in for the real repository."""
    monkeypatch.setattr(exercises, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(exercises, "BACKUP_DIR", tmp_path / "backups")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    nbformat.write(solution_notebook(), tmp_path / "solutions" / "01_demo.ipynb")
    return tmp_path


def test_exercise_path_mirrors_the_solution(repo):
    assert exercises.exercise_path(repo / "solutions" / "01_demo.ipynb") == repo / "exercises" / "01_demo.ipynb"


def test_check_fails_and_names_a_missing_exercise(repo, capsys):
    assert exercises.main(["--check"]) == 1
    assert "exercises/01_demo.ipynb" in capsys.readouterr().err
    assert not (repo / "exercises" / "01_demo.ipynb").exists()  # --check writes nothing


def test_check_fails_and_names_an_out_of_date_exercise_without_touching_it(repo, capsys):
    stale = repo / "exercises" / "01_demo.ipynb"
    stale.write_text("an older version\n")
    assert exercises.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "out of date: exercises/01_demo.ipynb" in err and "make exercises" in err
    assert stale.read_text() == "an older version\n"
    assert not (repo / "backups").exists()


def test_check_passes_when_the_exercise_is_generated(repo, capsys):
    assert exercises.main([]) == 0
    assert "wrote exercises/01_demo.ipynb" in capsys.readouterr().out
    assert exercises.main(["--check"]) == 0
    generated = nbformat.read(repo / "exercises" / "01_demo.ipynb", as_version=4)
    assert generated.cells[2].source.startswith(PROMPT)


def test_regenerating_backs_up_a_changed_exercise_first(repo, capsys):
    """A participant may have worked in exercises/: regenerating keeps their notebook in backups/."""
    target = repo / "exercises" / "01_demo.ipynb"
    participant = nbformat.writes(solution_notebook()).replace("6 * 7", "41 + 1")
    target.write_text(participant)

    assert exercises.main([]) == 0

    backups = list((repo / "backups").glob("*/exercises/01_demo.ipynb"))
    assert len(backups) == 1 and backups[0].read_text() == participant
    assert "saved the previous 01_demo.ipynb to backups/" in capsys.readouterr().out
    assert target.read_text() == exercises.render(repo / "solutions" / "01_demo.ipynb")


def test_regenerating_an_up_to_date_exercise_changes_nothing(repo, capsys):
    exercises.main([])
    target = repo / "exercises" / "01_demo.ipynb"
    stamp = target.stat().st_mtime_ns
    capsys.readouterr()
    assert exercises.main([]) == 0
    assert capsys.readouterr().out == ""
    assert target.stat().st_mtime_ns == stamp
    assert not (repo / "backups").exists()


def test_a_markup_error_stops_the_command_with_one_line(repo, capsys):
    broken = solution_notebook()
    broken.cells[2].source = f"{BEGIN}\nanswer = 42"
    nbformat.write(broken, repo / "solutions" / "01_demo.ipynb")
    assert exercises.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: solutions/01_demo.ipynb, cell 2") and err.count("\n") == 1
    assert not (repo / "exercises" / "01_demo.ipynb").exists()


def test_a_block_that_assigns_nothing_gets_a_prompt_without_a_placeholder():
    source = "### BEGIN SOLUTION\nproject.dvc('repro')\n### END SOLUTION"
    assert exercises.strip_solutions(source) == "# YOUR CODE HERE"
