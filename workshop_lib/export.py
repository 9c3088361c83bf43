"""Module 04: the model as an artifact. A Keras model with its preprocessing inside, exported as numbered
SavedModel versions for TF Serving, converted to ONNX, and checked for parity across all of them.

The point of the module: a served model should take the raw lab measurements, by name, and return
the quality score. If the client has to know the scaling (means, standard deviations, column order),
every client is one forgotten step away from training/serving skew: silently wrong predictions.
So the scaling lives inside the model (a Normalization layer adapted on the training wines), and a
parity test proves that Keras, the SavedModel and ONNX give the same number for the same raw wine.

Layout TF Serving needs: <base path>/<version>/saved_model.pb, with a numeric version folder; the
base path for the course is config.model_dir("wine"), which docker-compose mounts into TF Serving.
"""

import contextlib
import importlib.metadata
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model_server import versions
from workshop_lib import config, data, evaluate, train

if TYPE_CHECKING:  # only for the type hints: importing them costs seconds
    import keras
    import onnxruntime
    from sklearn.pipeline import Pipeline

# One input per lab measurement, named in lower-case snake case: "fixed acidity" -> "fixed_acidity",
# "pH" -> "ph". Plain names survive every format (tf2onnx lower-cases input names, so "pH" would turn
# into "ph" in ONNX anyway) and every client: REST JSON keys, gRPC input names, ONNX feeds.
INPUT_NAMES: dict[str, str] = {feature: feature.lower().replace(" ", "_") for feature in data.FEATURES}
INPUTS: list[str] = list(INPUT_NAMES.values())
OUTPUT = "quality"
MODEL_NAME = "wine"
SIGNATURE = "serving_default"

# Training settings of the course's Keras model: about 3 s on 2 cores for the red wines, MAE about 0.51.
EPOCHS, BATCH_SIZE, LEARNING_RATE, HIDDEN_UNITS, SEED = 40, 64, 0.01, 32, 42
ONNX_OPSET = 17
# Seconds a command-line tool may take before it is stopped: saved_model_cli starts TensorFlow (about 5 s),
# tf2onnx converts the course's small model in about 10 s on 2 cores; both limits leave room for a slow machine.
TOOL_TIMEOUT, CONVERT_TIMEOUT = 120.0, 300.0

# How close two runtimes must agree on the same raw wine, in quality points. The model computes in
# float32, which resolves a score of about 6 to roughly 5e-7; Keras, TensorFlow's graph runtime and
# onnxruntime add up the same numbers in different orders, so a few such steps of difference
# (about 1e-6) are expected and harmless. A real skew bug (scaling forgotten, columns swapped, stale
# means) moves predictions by tenths of a point or more. 1e-4 is a hundred times above the rounding
# noise and a thousand times below a difference a taster could notice (scores are whole numbers).
PARITY_TOLERANCE = 1e-4

# The data update of module 03: version 1 learns from the red wines, version 2 from red and white.
VERSION_SOURCES = {1: ("red",), 2: ("red", "white")}
ELASTICNET = {"model": "elasticnet", "alpha": 0.1, "l1_ratio": 0.5}


# --- data in the model's format ----------------------------------------------------------------------


def as_inputs(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Raw measurements as the model takes them: one float32 array per named input, one value per wine."""
    missing = [feature for feature in data.FEATURES if feature not in frame.columns]
    if missing:
        raise KeyError(f"the frame lacks the measurement(s) {missing}; it needs all of {data.FEATURES}")
    return {name: frame[feature].to_numpy(dtype=np.float32) for feature, name in INPUT_NAMES.items()}


def load_frame(sources: tuple[str, ...] = ("red",)) -> pd.DataFrame:
    """The wines of one or more sources in one frame, e.g. ("red", "white") for version 2."""
    return pd.concat([data.load_wine(source) for source in sources], ignore_index=True)


# --- the Keras model with its preprocessing inside ------------------------------------------------------


def build_keras_model(
    x_train: pd.DataFrame, hidden_units: int = HIDDEN_UNITS, learning_rate: float = LEARNING_RATE, seed: int = SEED
) -> "keras.Model":
    """A compiled Keras model that takes raw measurements by name and returns {"quality": score}.

    The Normalization layer learns the means and variances of the *training* wines (adapt), so they
    are saved with the weights: whoever calls the model sends lab values as measured, nothing else.
    """
    import keras

    keras.utils.set_random_seed(seed)
    inputs = {name: keras.Input(shape=(), dtype="float32", name=name) for name in INPUTS}
    columns = [keras.layers.Reshape((1,), name=f"{name}_column")(inputs[name]) for name in INPUTS]
    measurements = keras.layers.Concatenate(name="measurements")(columns)
    normalization = keras.layers.Normalization(name="normalization")
    normalization.adapt(x_train[data.FEATURES].to_numpy(dtype=np.float32))
    hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(normalization(measurements))
    score = keras.layers.Dense(1, name="score")(hidden)
    quality = keras.layers.Reshape((), name=OUTPUT)(score)  # one number per wine, not a 1-element list
    model = keras.Model(inputs=inputs, outputs={OUTPUT: quality}, name="wine_quality")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mae"])
    return model


def fit_keras_model(
    x_train: pd.DataFrame,
    y_train: pd.Series,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    seed: int = SEED,
    **model_options: Any,
) -> "keras.Model":
    """Build (with the seed fixed) and train the Keras model; the same data and seed give the same weights."""
    model = build_keras_model(x_train, seed=seed, **model_options)
    model.fit(
        as_inputs(x_train),
        {OUTPUT: y_train.to_numpy(dtype=np.float32)},
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
    )
    return model


def predict_keras(model: "keras.Model", frame: pd.DataFrame) -> np.ndarray:
    """Quality scores of the wines in `frame`, in-process (the notebook's view of the model)."""
    return np.asarray(model.predict(as_inputs(frame), verbose=0)[OUTPUT], dtype=np.float32)


def normalization_layer(model: "keras.Model") -> "keras.layers.Normalization | None":
    """The model's Normalization layer, or None: what a check looks at to see the preprocessing is inside."""
    import keras

    return next((layer for layer in model.layers if isinstance(layer, keras.layers.Normalization)), None)


def train_version(version: int, epochs: int = EPOCHS, seed: int = SEED) -> tuple["keras.Model", dict, tuple]:
    """Train the Keras model for a served version: (model, metrics on its held-out wines, the split).

    Same split as modules 01-03 (duplicates removed first, test_size 0.2, seed 42), so the numbers compare.
    """
    sources = VERSION_SOURCES[version]
    x_train, x_test, y_train, y_test = data.split(load_frame(sources), test_size=0.2, seed=seed)
    model = fit_keras_model(x_train, y_train, epochs=epochs, seed=seed)
    metrics = evaluate.regression_metrics(y_test, predict_keras(model, x_test))
    metrics |= {"n_train": len(x_train), "n_test": len(x_test), "trained_on": " + ".join(sources)}
    return model, metrics, (x_train, x_test, y_train, y_test)


def fit_sklearn_model(x_train: pd.DataFrame, y_train: pd.Series, train_params: dict | None = None) -> "Pipeline":
    """The scikit-learn pipeline of module 02 (scaler inside), to convert to ONNX as well."""
    return train.build_model({**(train_params or ELASTICNET), "seed": SEED}).fit(x_train, y_train)


# --- SavedModel versions, the way TF Serving reads them ---------------------------------------------------


def version_dir(version: int, base_path: Path | None = None) -> Path:
    """<base path>/<version>: where TF Serving looks for one version (base path: config.model_dir("wine"))."""
    return versions.version_path(base_path or config.model_dir(MODEL_NAME), version)


def export_savedmodel(model: "keras.Model", version: int, base_path: Path | None = None) -> Path:
    """Write the model as SavedModel version `version` under base_path (default config.model_dir("wine")).

    model_server.versions.publish writes it into a hidden temporary folder next to the version folder and
    renames it into place only when complete: a server polling the base path never sees a half-written
    version (TF Serving ignores folders whose name is not a number). An existing version of that number
    is replaced.
    """
    return versions.publish(
        base_path or config.model_dir(MODEL_NAME), version, lambda folder: write_savedmodel(model, folder), replace=True
    )


def write_savedmodel(model: "keras.Model", folder: Path) -> Path:
    """model.export(folder) as it is, without a version folder and without TensorFlow's INFO log lines."""
    with _quiet_tensorflow_log():
        model.export(str(folder), verbose=False)
    return Path(folder)


@contextlib.contextmanager
def _quiet_tensorflow_log():
    """Hide TensorFlow's Python INFO log ("Assets written to: ...") for the duration: notebooks show
    results, not logs."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class NoServableVersion(FileNotFoundError):
    """TF Serving would find nothing to serve under the base path; the message is TF Serving's own."""


def servable_versions(base_path: Path, name: str = MODEL_NAME) -> dict[int, Path]:
    """The versions TF Serving would find under base_path: {number: folder}, oldest first.

    TF Serving lists the base path's children and keeps those whose name parses as a number; it
    serves the highest by default. Anything else in the folder (files, "latest", ".export-...") is
    ignored. With no numbered folder it logs a warning and serves nothing, so here that is an error.
    """
    base = Path(base_path)
    if not base.is_dir():
        raise NoServableVersion(
            f"Could not find base path {base} for servable {name} with error NOT_FOUND: {base} not found"
        )
    found = versions.list_versions(base)
    if not found:
        raise NoServableVersion(
            f"No versions of servable {name} found under base path {base}. "
            f"Did you forget to name your leaf directory as a number (eg. '/1/')?"
        )
    return found


def layout_problem(base_path: Path, name: str = MODEL_NAME) -> str | None:
    """None if TF Serving can serve base_path; else TF Serving's message and the fix, in plain words."""
    base = Path(base_path)
    shown = config.shown(base)  # relative to the course folder where it is inside: the message names no machine
    try:
        found = servable_versions(base, name)
    except NoServableVersion as error:
        if (base / "saved_model.pb").is_file():
            fix = (
                f"the SavedModel sits directly in {shown}. Move it into a numbered folder, {shown}/1/, "
                "or export with export_savedmodel(model, version=1, base_path=...)."
            )
        elif base.is_dir():
            fix = f"export a version into a numbered folder: {shown}/1/saved_model.pb."
        else:
            fix = (
                "check --model_base_path (or base_path in models.config): "
                "it must be the folder that holds the versions."
            )
        return f"{str(error).replace(str(base), shown)}\nFix: {fix}"
    broken = [config.shown(folder) for folder in found.values() if not (folder / "saved_model.pb").is_file()]
    if broken:
        return f"version folder(s) without a saved_model.pb: {broken}. Fix: export the model into them again."
    return None


def signature(saved_model_dir: Path, name: str = SIGNATURE) -> dict:
    """The serving signature as TF Serving reads it from saved_model.pb: method, inputs and outputs.

    {"method": ..., "inputs": {name: (dtype, shape)}, "outputs": {name: (dtype, shape)}}; -1 in a
    shape means "any number", e.g. any number of wines in one request.
    """
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((Path(saved_model_dir) / "saved_model.pb").read_bytes())
    signatures = saved_model.meta_graphs[0].signature_def
    if name not in signatures:
        raise KeyError(f"{saved_model_dir} has no signature {name!r}; it has {sorted(signatures)}")
    found = signatures[name]

    def tensors(infos: Any) -> dict[str, tuple[str, tuple[int, ...]]]:
        return {
            key: (types_pb2.DataType.Name(info.dtype), tuple(d.size for d in info.tensor_shape.dim))
            for key, info in sorted(infos.items())
        }

    return {"method": found.method_name, "inputs": tensors(found.inputs), "outputs": tensors(found.outputs)}


def _tool_environment() -> dict[str, str]:
    """The environment for the course's command-line tools: this Python's bin folder first, TF's C++ log quiet."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


class ToolTimeout(RuntimeError):
    """A command-line tool (saved_model_cli, tf2onnx) ran longer than its timeout and was stopped."""


def _run_tool(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run a course tool with its output captured; a hung tool ends in ToolTimeout naming the command.

    Without a timeout a tool that hangs (a locked file, a stuck TensorFlow start) would hang the notebook
    cell or the test run with it, and nobody would know which command to look at.
    """
    try:
        return subprocess.run(
            command, capture_output=True, text=True, env=_tool_environment(), check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        shown = " ".join(Path(command[0]).name if i == 0 else part for i, part in enumerate(command))
        raise ToolTimeout(f"`{shown}` did not finish within {timeout:g} s and was stopped") from None


def saved_model_cli_show(saved_model_dir: Path, signature_name: str = SIGNATURE) -> str:
    """What `saved_model_cli show --dir DIR --tag_set serve --signature_def NAME` prints (TF's log lines dropped)."""
    result = _run_tool(
        [
            "saved_model_cli",
            "show",
            "--dir",
            str(saved_model_dir),
            "--tag_set",
            "serve",
            "--signature_def",
            signature_name,
        ],
        timeout=TOOL_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"saved_model_cli failed for {saved_model_dir}:\n{_tail(result.stderr)}")
    return result.stdout


def load_signature(saved_model_dir: Path, name: str = SIGNATURE) -> Any:
    """The SavedModel's serving function, loaded as TF Serving loads it: no Keras, no Python code of ours."""
    import tensorflow as tf

    return tf.saved_model.load(str(saved_model_dir)).signatures[name]


def predict_signature(serving_function: Any, frame: pd.DataFrame) -> np.ndarray:
    """Quality scores through a SavedModel signature: named float32 tensors in, the "quality" tensor out."""
    import tensorflow as tf

    outputs = serving_function(**{name: tf.constant(values) for name, values in as_inputs(frame).items()})
    return outputs[OUTPUT].numpy().reshape(-1)


# --- ONNX ---------------------------------------------------------------------------------------------


def sklearn_to_onnx(pipeline: "Pipeline", onnx_path: Path) -> Path:
    """Convert a fitted scikit-learn pipeline (scaler inside) to ONNX with the same named inputs and output.

    Each measurement is an input of shape [wines, 1]; skl2onnx concatenates them in the order of
    data.FEATURES, the column order the pipeline was trained with.
    """
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    onnx_model = to_onnx(
        pipeline,
        initial_types=[(name, FloatTensorType([None, 1])) for name in INPUTS],
        final_types=[(OUTPUT, FloatTensorType([None, 1]))],
        target_opset=ONNX_OPSET,
    )
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    onnx_path.write_bytes(onnx_model.SerializeToString())
    return onnx_path


def savedmodel_to_onnx(saved_model_dir: Path, onnx_path: Path, opset: int = ONNX_OPSET) -> Path:
    """Convert an exported SavedModel to ONNX with tf2onnx's command line (it keeps the signature's names).

    The command line, not tf2onnx's Python API: from_function fails on a loaded signature
    ("'_WrapperFunction' object has no attribute 'get_concrete_function'"). Its INFO log goes to stderr,
    which is captured and shown only if the conversion fails.
    """
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    result = _run_tool(
        [
            sys.executable,
            "-m",
            "tf2onnx.convert",
            "--saved-model",
            str(saved_model_dir),
            "--output",
            str(onnx_path),
            "--opset",
            str(opset),
        ],
        timeout=CONVERT_TIMEOUT,
    )
    if result.returncode != 0 or not onnx_path.is_file():
        raise RuntimeError(f"tf2onnx could not convert {saved_model_dir}:\n{_tail(result.stderr)}")
    return onnx_path


def onnx_session(onnx_path: Path) -> "onnxruntime.InferenceSession":
    """An onnxruntime session on the CPU: the whole runtime an ONNX model needs to predict."""
    import onnxruntime

    return onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])


def onnx_io(session: "onnxruntime.InferenceSession") -> dict[str, list]:
    """The names of an ONNX model's inputs and outputs (in the model's order)."""
    return {"inputs": [i.name for i in session.get_inputs()], "outputs": [o.name for o in session.get_outputs()]}


def predict_onnx(session: "onnxruntime.InferenceSession | str | Path", frame: pd.DataFrame) -> np.ndarray:
    """Quality scores from an onnxruntime session; a path works too. Inputs are fed by name, in their rank."""
    if isinstance(session, (str, Path)):
        session = onnx_session(session)
    values = as_inputs(frame)
    feed = {}
    for tensor in session.get_inputs():
        if tensor.name not in values:
            raise KeyError(f"the ONNX model wants an input {tensor.name!r}; the course's inputs are {INPUTS}")
        feed[tensor.name] = values[tensor.name].reshape(-1, *([1] * (len(tensor.shape) - 1)))
    return session.run([OUTPUT], feed)[0].reshape(-1)


# --- parity: the training/serving-skew test -----------------------------------------------------------


def max_abs_difference(a: Any, b: Any) -> float:
    """The largest difference between two sets of predictions of the same wines, in quality points."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"the predictions cover different numbers of wines: {a.size} and {b.size}")
    return float(np.max(np.abs(a - b)))


def parity_table(predictions: dict[str, np.ndarray], tolerance: float = PARITY_TOLERANCE) -> pd.DataFrame:
    """Every runtime against the first one: the max abs difference and whether it is within the tolerance."""
    (reference_name, reference), *others = predictions.items()
    rows = [
        {
            "runtime": name,
            "compared with": reference_name,
            "max abs difference": max_abs_difference(reference, values),
            "within tolerance": max_abs_difference(reference, values) <= tolerance,
        }
        for name, values in others
    ]
    return pd.DataFrame(rows).set_index("runtime")


# --- artifacts and runtimes -----------------------------------------------------------------------------


def size_on_disk(path: Path) -> int:
    """Bytes of a file, or of every file in a folder (a SavedModel is a folder)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def installed_size(distribution: str) -> int:
    """Bytes an installed package takes (from its install record): what a serving image must carry."""
    files = importlib.metadata.distribution(distribution).files or []
    return sum(file.size or 0 for file in files)


def _tail(text: str, lines: int = 15) -> str:
    """The last lines of a tool's output: its error, without the pages of log before it."""
    return "\n".join(text.strip().splitlines()[-lines:])
