"""Command line of the course: `python -m workshop_lib <command>`.

Later modules add commands here (training, evaluation) that DVC stages call.
"""

import argparse
import sys

from pathlib import Path

from workshop_lib import doctor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workshop_lib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("doctor", help="check that this machine is ready for the workshop")
    check.add_argument("--skip-ports", action="store_true", help="do not check ports 8888, 8500 and 8501")
    train = commands.add_parser("train", help="train a model from a params file; write the model and its metrics")
    train.add_argument("--params", required=True, type=Path, help="YAML file with data: and train: sections")
    train.add_argument("--model", required=True, type=Path, help="where to write the fitted model (joblib)")
    train.add_argument("--metrics", required=True, type=Path, help="where to write the held-out metrics (JSON)")
    train.add_argument("--predictions", type=Path, help="optional CSV of held-out actual and predicted scores")
    return parser


def run_train(args: argparse.Namespace) -> int:
    """Bad input ends in one line naming what is wrong (exit 1), never in a traceback or a half-written output."""
    from workshop_lib import data, params, train

    try:
        settings = params.load_params(args.params)
        model, metrics, predictions = train.train_and_evaluate(settings)
    except (params.ParamsError, data.DataValidationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    train.save(model, metrics, args.model, args.metrics)
    if args.predictions:
        args.predictions.parent.mkdir(parents=True, exist_ok=True)
        predictions.to_csv(args.predictions, index=False)
    print(f"trained {settings['train']['model']} on {metrics['n_train']} wines: "
          f"MAE {metrics['mae']:.3f}, RMSE {metrics['rmse']:.3f}, R² {metrics['r2']:.3f} on {metrics['n_test']} held-out wines")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        return doctor.main(check_ports=not args.skip_ports)
    if args.command == "train":
        return run_train(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
