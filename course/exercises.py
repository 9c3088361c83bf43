"""Generate the exercise notebooks from the solution notebooks: one source, never two copies to keep in sync.

In a solution notebook, code that participants must write sits between `### BEGIN SOLUTION` and
`### END SOLUTION` (nbgrader's markers; indented blocks inside a function work too). In the
exercise, each block becomes a "your code here" prompt plus placeholders that keep the notebook
running: every name the block assigns is set to `...`; a block that returns becomes `return ...`; a
function it defines keeps its signature and docstring and returns `...`. The checks in
course.checks read `...` as "not solved yet".

`make exercises` (python -m course.exercises) rewrites exercises/ from solutions/;
`--check` only reports which exercises are out of date (tests use it).

Shell commands are solutions too (participants use dvc, git and curl as at work): a block may hold
IPython's `!command` lines (read as IPython reads them), and in a `%%bash` cell a block becomes a
"your commands here" comment.
"""

import argparse
import ast
import shutil
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from workshop_lib.config import REPO_ROOT

BACKUP_DIR = REPO_ROOT / "backups"
BACKUP_STAMP = "%Y-%m-%d_%H%M%S"  # backups/<stamp>/<folder>/<name>: one folder per command run
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PROMPT = "# YOUR CODE HERE (replace the ... below)"
PROMPT_NO_PLACEHOLDER = "# YOUR CODE HERE"  # a block that only runs commands assigns nothing
PROMPT_COMMANDS = "# YOUR COMMANDS HERE"  # a block in a %%bash cell


class ExerciseMarkupError(ValueError):
    """The markers in a solution cell are unbalanced or enclose code that does not parse."""


class _Assigned(ast.NodeVisitor):
    """The targets a statement assigns, in order: names (also in `a, b = ...`, loops, `with`, `if`) and,
    as written, attribute and item targets (`frame["good"] = ...`). Inner scopes (lambdas, comprehensions) are
    skipped."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    def _add(self, target: str) -> None:
        if target not in self.targets:
            self.targets.append(target)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self._add(node.id)

    def visit_Attribute(self, node: ast.Attribute | ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Store):
            self._add(ast.unparse(node))
        else:
            self.generic_visit(node)

    visit_Subscript = visit_Attribute

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self._add(node.name)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def _inner_scope(self, node: ast.AST) -> None:
        pass

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _inner_scope


def _function_stub(source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The function as written up to its body (decorators dropped), its docstring as written, then `return ...`."""
    text, first = source.splitlines(), node.body[0]
    if first.lineno == node.lineno:  # def f(x): return x
        header = [text[node.lineno - 1].encode()[: first.col_offset].decode().rstrip()]
        return [*header, " " * (node.col_offset + 4) + "return ..."]
    header = text[node.lineno - 1 : first.lineno - 1]
    body_indent = " " * first.col_offset
    docstring = []
    if ast.get_docstring(node) is not None:
        docstring = ast.get_source_segment(source, first).splitlines()
        docstring[0] = body_indent + docstring[0]
    return [*header, *docstring, body_indent + "return ..."]


def _placeholder(block: list[str], indent: str, where: str, begin_line: int, shell: bool = False) -> list[str]:
    if shell:
        return [indent + PROMPT_COMMANDS]
    source = textwrap.dedent("\n".join(block))
    if any(line.lstrip().startswith(("!", "%")) or "= !" in line for line in block):
        source = TransformerManager().transform_cell(source)  # `!dvc ...` and `out = !ls` as IPython runs them
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        line = begin_line + (error.lineno or 1)
        raise ExerciseMarkupError(
            f"{where}, line {line}: the solution block does not parse on its own ({error.msg})"
        ) from None
    if any(isinstance(node, ast.Return) for node in tree.body):
        return [indent + PROMPT, indent + "return ..."]  # the end of a function body: its locals need no placeholder
    lines = [PROMPT]
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines += [*_function_stub(source, node), ""]
        else:
            assigned = _Assigned()
            assigned.visit(node)
            lines += [f"{target} = ..." for target in assigned.targets if f"{target} = ..." not in lines]
    while lines[-1] == "":
        lines.pop()
    if lines == [PROMPT]:
        lines = [PROMPT_NO_PLACEHOLDER]
    return [indent + line if line else line for line in lines]


def strip_solutions(source: str, where: str = "cell") -> str:
    """The exercise version of one code cell's source."""
    out, block, indent, begin_line = [], None, "", 0
    shell = source.lstrip().startswith(("%%bash", "%%sh"))
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise ExerciseMarkupError(f"{where}, line {number}: {BEGIN} inside another solution block")
            block, indent, begin_line = [], line[: len(line) - len(line.lstrip())], number
        elif marker == END:
            if block is None:
                raise ExerciseMarkupError(f"{where}, line {number}: {END} without {BEGIN}")
            out += _placeholder(block, indent, where, begin_line, shell)
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ExerciseMarkupError(f"{where}, line {begin_line}: {BEGIN} without {END}")
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


def backup_stamp(backup_dir: Path | None = None) -> str:
    """The name of a new backup folder: the current second, waiting for the next one if that folder exists.

    One stamp per command run keeps one run's copies together, and a run never writes into an older
    run's folder (two runs in the same second would otherwise overwrite each other's copies).
    """
    folder = Path(backup_dir or BACKUP_DIR)
    while (folder / (stamp := datetime.now().strftime(BACKUP_STAMP))).exists():
        time.sleep(1.0 - datetime.now().microsecond / 1e6 + 0.01)
    return stamp


def backup(
    path: Path, stamp: str, root: Path | None = None, backup_dir: Path | None = None, move: bool = False
) -> Path:
    """Keep a copy of a file (or folder) that may hold a participant's work before a command replaces or removes it.

    The copy goes to backups/<stamp>/<its path in the course>, e.g.
    backups/2025-03-14_091500/exercises/05_serving.ipynb; something outside the course folder keeps its folder's
    name: backups/<stamp>/<folder>/<name>. `move` moves it there instead of copying (for a folder that is about to
    be removed anyway). Returns the backup's path.
    """
    path, root = Path(path), Path(root or REPO_ROOT)
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        relative = Path(path.parent.name) / path.name
    target = Path(backup_dir or BACKUP_DIR) / stamp / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if move:
        shutil.move(path, target)
    elif path.is_dir():
        shutil.copytree(path, target, symlinks=True)
    else:
        shutil.copy2(path, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.exercises", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report exercises that differ from their solution")
    args = parser.parse_args(argv)
    stale, stamp = [], None
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
                stamp = stamp or backup_stamp()
                saved = backup(target, stamp)
                print(f"saved the previous {target.name} to {saved.relative_to(REPO_ROOT)}")
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(REPO_ROOT)}")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(REPO_ROOT)) for p in stale)
        print(f"out of date: {names}. Run `make exercises` (never edit exercises/ by hand).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
