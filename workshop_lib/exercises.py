"""Generate the exercise notebooks from the solution notebooks: one source, never two copies to keep in sync.

In a solution notebook, code that participants must write sits between `### BEGIN SOLUTION` and
`### END SOLUTION` (nbgrader's markers; indented blocks inside a function work too). In the
exercise, each block becomes a "your code here" prompt plus placeholders that keep the notebook
running: every name the block assigns is set to `...`; a block that returns becomes `return ...`; a
function it defines keeps its signature and docstring and returns `...`. The checks in
workshop_lib.checks read `...` as "not solved yet".

`make exercises` (python -m workshop_lib.exercises) rewrites exercises/ from solutions/;
`--check` only reports which exercises are out of date (tests use it).
"""

import argparse
import ast
import shutil
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import nbformat

from workshop_lib.config import REPO_ROOT

BACKUP_DIR = REPO_ROOT / "backups"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PROMPT = "# YOUR CODE HERE (replace the ... below)"


class ExerciseMarkupError(ValueError):
    """The markers in a solution cell are unbalanced or enclose code that does not parse."""


def _placeholder(block: list[str], indent: str, where: str) -> list[str]:
    source = textwrap.dedent("\n".join(block))
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ExerciseMarkupError(f"{where}: the solution block does not parse on its own ({error.msg}, line {error.lineno})") from None
    lines = [PROMPT]
    if any(isinstance(node, ast.Return) for node in tree.body):
        return [indent + PROMPT, indent + "return ..."]  # the end of a function body: its locals need no placeholder
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines += [f"{ast.unparse(target)} = ..." for target in targets]
        elif isinstance(node, ast.Return):
            lines.append("return ...")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            header = source.splitlines()[node.lineno - 1: node.body[0].lineno - 1]
            docstring = ast.get_docstring(node)
            body = [f'    """{docstring}"""'] if docstring else []
            lines += [*[h for h in header if not h.lstrip().startswith("@")], *body, "    return ...", ""]
    while lines[-1] == "":
        lines.pop()
    return [indent + line if line else line for line in lines]


def strip_solutions(source: str, where: str = "cell") -> str:
    """The exercise version of one code cell's source."""
    out, block, indent = [], None, ""
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise ExerciseMarkupError(f"{where}, line {number}: {BEGIN} inside another solution block")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif marker == END:
            if block is None:
                raise ExerciseMarkupError(f"{where}, line {number}: {END} without {BEGIN}")
            out += _placeholder(block, indent, where)
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ExerciseMarkupError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise notebook: solutions stripped, outputs and execution counts cleared."""
    exercise = nbformat.from_dict(solution)
    for index, cell in enumerate(exercise.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{name}, cell {index}")
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    exercise.metadata.pop("papermill", None)
    return exercise


def exercise_path(solution_path: Path) -> Path:
    return REPO_ROOT / "exercises" / solution_path.name


def render(solution_path: Path) -> str:
    name = f"solutions/{solution_path.name}"
    exercise = make_exercise(nbformat.read(solution_path, as_version=4), name)
    return nbformat.writes(exercise) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop_lib.exercises", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report exercises that differ from their solution")
    args = parser.parse_args(argv)
    stale = []
    for solution in sorted((REPO_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        try:
            text = render(solution)
        except ExerciseMarkupError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        target = exercise_path(solution)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not args.check:
            if target.is_file():  # it may hold a participant's work: keep a copy before replacing it
                backup = BACKUP_DIR / datetime.now().strftime("%Y-%m-%d_%H%M%S") / "exercises" / target.name
                backup.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, backup)
                print(f"saved the previous {target.name} to {backup.relative_to(REPO_ROOT)}")
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(REPO_ROOT)}")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(REPO_ROOT)) for p in stale)
        print(f"out of date: {names}. Run `make exercises` (never edit exercises/ by hand).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
