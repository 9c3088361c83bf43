"""Command line of the course: `python -m workshop_lib <command>`.

Later modules add commands here (training, evaluation) that DVC stages call.
"""

import argparse
import sys

from workshop_lib import doctor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workshop_lib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("doctor", help="check that this machine is ready for the workshop")
    check.add_argument("--skip-ports", action="store_true", help="do not check ports 8888, 8500 and 8501")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        return doctor.main(check_ports=not args.skip_ports)
    return 2


if __name__ == "__main__":
    sys.exit(main())
