"""Command line of the wine product: `python -m workshop_lib <command>`.

`train` does everything in one run (module 02). `prepare`, `fit` and `evaluate` are the same steps
one at a time, for the stages of a DVC pipeline (module 03): each stage reruns only when its own
inputs change. Every command takes its paths as arguments, so dvc.yaml is the one place they live.
`cycle` runs module 07's continuous-improvement cycle on a new batch of wines (workshop_lib.cycle), and
`withdraw` takes a release that failed in production off the server.
The course's own commands (doctor, reset, checkpoint) are `python -m course`.
"""

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workshop_lib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model from a params file; write the model and its metrics")
    train.add_argument("--params", required=True, type=Path, help="YAML file with data: and train: sections")
    train.add_argument("--model", required=True, type=Path, help="where to write the fitted model (joblib)")
    train.add_argument("--metrics", required=True, type=Path, help="where to write the held-out metrics (JSON)")
    train.add_argument("--predictions", type=Path, help="optional CSV of held-out actual and predicted scores")
    prepare = commands.add_parser(
        "prepare",
        help="validate the data file, remove duplicates, split into train.csv, test.csv "
        "(and validation.csv if data.validation_size is set)",
    )
    prepare.add_argument(
        "--params",
        required=True,
        type=Path,
        help="YAML file with a data: section (source, test_size, seed, optional validation_size)",
    )
    prepare.add_argument("--out", required=True, type=Path, help="folder for train.csv, validation.csv and test.csv")
    fit = commands.add_parser("fit", help="fit the model of the train: section on a prepared train.csv")
    fit.add_argument("--params", required=True, type=Path, help="YAML file with data: and train: sections")
    fit.add_argument("--data", required=True, type=Path, help="the training wines (a CSV written by prepare)")
    fit.add_argument("--model", required=True, type=Path, help="where to write the fitted model (joblib)")
    score = commands.add_parser(
        "evaluate", help="score a fitted model on held-out wines; write metrics, predictions and a plot"
    )
    score.add_argument("--model", required=True, type=Path, help="a model written by fit or train")
    score.add_argument("--data", required=True, type=Path, help="the held-out wines (a CSV written by prepare)")
    score.add_argument("--metrics", required=True, type=Path, help="where to write the metrics (JSON)")
    score.add_argument("--predictions", type=Path, help="optional CSV of actual and predicted scores (for dvc plots)")
    score.add_argument("--plot", type=Path, help="optional PNG of predicted against actual quality")
    cycle = commands.add_parser(
        "cycle",
        help="the continuous-improvement cycle for a new batch: validate, retrain, "
        "gate, export, smoke-test (module 07)",
    )
    cycle.add_argument("--batch", required=True, type=Path, help="the new wines (a CSV file with the course's columns)")
    cycle.add_argument(
        "--folder",
        type=Path,
        help="the cycle's folder (project, served models, monitoring); "
        "default workspace/07_continuous_improvement/lesson",
    )
    cycle.add_argument("--served", type=Path, help="the model server's base path; default FOLDER/served/wine")
    cycle.add_argument(
        "--server",
        help="REST address of the model server that watches the base path, e.g. "
        "http://localhost:8501; default: a local server started for the smoke test",
    )
    cycle.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a parameter for this run, e.g. --set train.epochs=5 --set gate.margin=0.02",
    )
    withdraw = commands.add_parser(
        "withdraw", help="take the version in production off the server; the previous one serves again (module 07)"
    )
    withdraw.add_argument("--reason", required=True, help="why: it goes into the record (tag v<N>-withdrawn)")
    withdraw.add_argument(
        "--folder", type=Path, help="the cycle's folder; default workspace/07_continuous_improvement/lesson"
    )
    withdraw.add_argument("--served", type=Path, help="the model server's base path; default FOLDER/served/wine")
    withdraw.add_argument(
        "--server", help="REST address of the server, to wait until it answers with the previous version"
    )
    return parser


def _fail(error: Exception) -> int:
    """One line on stderr and exit code 1: what a pipeline log and a participant need, not a traceback."""
    print(f"error: {error}", file=sys.stderr)
    return 1


def run_prepare(args: argparse.Namespace) -> int:
    from workshop_lib import data, params

    try:
        settings = params.load_params(args.params, sections=("data",))["data"]
        frame = data.load_wine(settings["source"])
        parts = data.split_parts(frame, settings)
    except (params.ParamsError, data.DataValidationError) as error:
        return _fail(error)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in parts.items():
        x.assign(**{data.TARGET: y}).to_csv(args.out / f"{name}.csv", index=False)
    labels = {"train": "to train", "validation": "to validate", "test": "to test"}
    counts = ", ".join(f"{len(x)} {labels[name]}" for name, (x, _) in parts.items())
    kept = sum(len(x) for x, _ in parts.values())
    print(
        f"prepared {settings['source']}: {len(frame)} wines, {len(frame) - kept} duplicates removed, "
        f"{counts} in {args.out}"
    )
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from workshop_lib import data, params

    try:
        settings = params.load_params(args.params)
        wines = data.load_wine(args.data)
    except (params.ParamsError, data.DataValidationError) as error:
        return _fail(error)
    import joblib  # scikit-learn and joblib load only once the inputs are known to be good

    from workshop_lib import train

    model = train.fit(settings, wines[data.FEATURES], wines[data.TARGET])
    args.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.model)
    print(f"fitted {settings['train']['model']} on {len(wines)} wines from {args.data}; model in {args.model}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    import json

    import joblib

    from workshop_lib import data, evaluate, train

    if not args.model.is_file():
        return _fail(FileNotFoundError(f"{args.model}: no such model file (run the fit stage first)"))
    try:
        wines = data.load_wine(args.data)
    except data.DataValidationError as error:
        return _fail(error)
    metrics, predictions = train.score(joblib.load(args.model), wines[data.FEATURES], wines[data.TARGET])
    metrics["n_wines"] = len(wines)
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    args.metrics.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if args.predictions:
        args.predictions.parent.mkdir(parents=True, exist_ok=True)
        predictions.to_csv(args.predictions, index=False)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")  # a pipeline stage has no screen
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        axes = evaluate.plot_predicted_vs_actual(predictions["actual"], predictions["predicted"])
        axes.figure.savefig(args.plot, dpi=80, bbox_inches="tight")
    print(
        f"evaluated {args.model} on the {len(wines)} wines of {args.data}: "
        f"MAE {metrics['mae']:.3f}, RMSE {metrics['rmse']:.3f}, R² {metrics['r2']:.3f}"
    )
    return 0


def run_train(args: argparse.Namespace) -> int:
    """Bad input ends in one line naming what is wrong (exit 1), never in a traceback or a half-written output."""
    from workshop_lib import data, params, train

    try:
        settings = params.load_params(args.params)
        model, metrics, predictions = train.train_and_evaluate(settings)
    except (params.ParamsError, data.DataValidationError) as error:
        return _fail(error)
    train.save(model, metrics, args.model, args.metrics)
    if args.predictions:
        args.predictions.parent.mkdir(parents=True, exist_ok=True)
        predictions.to_csv(args.predictions, index=False)
    print(
        f"trained {settings['train']['model']} on {metrics['n_train']} wines: "
        f"MAE {metrics['mae']:.3f}, RMSE {metrics['rmse']:.3f}, R² {metrics['r2']:.3f} "
        f"on {metrics.get('n_test', metrics.get('n_validation'))} held-out wines "
        f"({'validation' if 'n_validation' in metrics else 'test'})"
    )
    return 0


def run_cycle(args: argparse.Namespace) -> int:
    """The report on stdout; a bad batch, or a run that failed, ends in one "error: ..." line and exit code 1.

    A refused candidate is no error: the cycle did its job (exit code 0, the report says why).
    """
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log lines are not the report
    from workshop_lib import cycle

    try:
        overrides = cycle.parse_overrides(args.set)
    except ValueError as error:
        return _fail(error)
    folder = cycle.Cycle(args.folder or cycle.default_folder(), args.served)
    report = cycle.run_cycle(folder, args.batch, server_url=args.server, params=overrides)
    print(report)
    if report.decision in (cycle.STOPPED, cycle.FAILED):
        return _fail(report.reason)
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    """One line on stdout saying what serves now; a reason missing or nothing to fall back to: one error line."""
    from workshop_lib import cycle
    from workshop_lib.serving import ServingClient

    client = ServingClient(args.server, cycle.MODEL_NAME) if args.server else None
    try:
        print(
            cycle.withdraw_release(cycle.Cycle(args.folder or cycle.default_folder(), args.served), args.reason, client)
        )
    except (cycle.CycleError, ValueError) as error:
        return _fail(error)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "train": run_train,
        "prepare": run_prepare,
        "fit": run_fit,
        "evaluate": run_evaluate,
        "cycle": run_cycle,
        "withdraw": run_withdraw,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
