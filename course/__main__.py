"""The course's own commands: `python -m course <command>` (behind make doctor, make reset, make checkpoint).

`doctor` checks that this machine is ready for the workshop. `reset` and `checkpoint` are the
instructor's kit (course.classroom). The wine product's commands are `python -m workshop_lib`.
"""

import argparse
import sys

from course import doctor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("doctor", help="check that this machine is ready for the workshop")
    check.add_argument("--skip-ports", action="store_true", help="do not check ports 8888, 8500 and 8501")
    commands.add_parser(
        "reset",
        help="save changed notebooks to backups/<date>/, restore the course's originals, remove "
        "the workspace, the models the lessons exported and leftover server logs",
        description="Put the course folder back as shipped. Every notebook you changed is saved to "
        "backups/<date>/ first; notebooks you created stay. Stop JupyterLab first.",
    )
    point = commands.add_parser(
        "checkpoint",
        help="get the state a module starts from: the data, the exported models it needs, an empty workspace folder",
    )
    point.add_argument("module", help="the module's number, 00 to 07 (5 works as well as 05)")
    return parser


def _fail(error: Exception) -> int:
    """One line on stderr and exit code 1: what a participant needs, not a traceback."""
    print(f"error: {error}", file=sys.stderr)
    return 1


def run_reset(args: argparse.Namespace) -> int:
    """The summary on stdout; a refusal (JupyterLab or a model server still running) is one error and exit code 1."""
    from course import classroom

    try:
        report = classroom.reset()
    except classroom.ClassroomError as error:
        return _fail(error)
    print(report)
    return 0


def run_checkpoint(args: argparse.Namespace) -> int:
    """An unknown module is a usage error (exit code 2, the modules listed); a problem on the way is exit code 1."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log lines are not the summary
    from course import classroom

    try:
        number = classroom.module_number(args.module)
    except classroom.UnknownModule as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        report = classroom.checkpoint(number, progress=lambda message: print(message, flush=True))
    except classroom.ClassroomError as error:
        return _fail(error)
    print(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        return doctor.main(check_ports=not args.skip_ports)
    return {"reset": run_reset, "checkpoint": run_checkpoint}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
