"""Checks for module 04, the model as an artifact: one public function per exercise.

04.1 check_keras_model     build_wine_model(x_train): named raw inputs, every measurement clipped to the training
                           wines' range and scaled by an adapted Normalization inside, output "quality"
04.2 check_version_export  a SavedModel in <base path>/<version number>/, the layout TF Serving needs
04.3 check_onnx_parity     ONNX scores of the white wines from onnxruntime, their max abs difference from the
                           SavedModel, and the decision: does parity hold at the tolerance

The judges look at what the participant built (the model's layers, the folder, the ONNX file) and
say what is missing in the words TF Serving or the tolerance would use; the clipping of 04.1 is judged by
behaviour (glitched wines against the training extremes), so any way of writing it that exports is right.
The reference results let the notebook go on when an answer is wrong.
"""

import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from course.checks import first_line, one_number, solved, verdict
from model_server import versions
from workshop_lib import data, export

if TYPE_CHECKING:
    import keras

# How far the Normalization layer may put the training wines from mean 0 and standard deviation 1.
# adapt() computes in float32, good to about 1e-6; adapting on other wines than the training ones
# (all wines, the test wines) shifts the means by 1e-2 or more.
NORMALIZED_MEAN_TOLERANCE = 1e-3
NORMALIZED_STD_TOLERANCE = 1e-2

# Two scores of the clipping probes count as the same within this many quality points. A clipped glitch goes
# through the same float32 arithmetic as the training extreme (or meets a bound the participant scaled to the
# Normalization's units, a few float32 steps away: about 1e-6); a measurement that is not clipped moves an
# untrained model's score by hundredths of a point or more.
CLIP_TOLERANCE = 1e-4
# A bound this share of a column's training range inside its min or max clips wines the training set holds.
NARROW_SHARE = 0.02
CLIP_PROBE_WINES = 100  # training wines the clipping is probed on, one measurement at a time


# --- 04.1 the Keras model with the preprocessing inside ----------------------------------------------


def _input_names(model: "keras.Model") -> list[str]:
    return [tensor.name for tensor in model.inputs]


def _judge_keras_model(answer: Any, x_train: pd.DataFrame) -> str | None:
    import keras

    if not callable(answer):
        return (
            f"build_wine_model is a {type(answer).__name__}, not a function: "
            "define it with def build_wine_model(x_train):"
        )
    try:
        model = answer(x_train.copy())
    except Exception as error:  # noqa: BLE001 - a participant's function may fail in any way
        return f"build_wine_model(x_train) raised {first_line(error)}"
    model = solved(model)
    if not isinstance(model, keras.Model):
        return (
            f"build_wine_model returned a {type(model).__name__}, not a Keras model: "
            "return keras.Model(inputs=..., outputs=...)"
        )

    names = _input_names(model)
    if len(names) == 1 and len(model.inputs[0].shape) == 2:
        return (
            f"the model has one input of shape {tuple(model.inputs[0].shape)}: give it one named input per "
            "measurement, so that clients send values by name and cannot mix up the column order"
        )
    missing, unexpected = sorted(set(export.INPUTS) - set(names)), sorted(set(names) - set(export.INPUTS))
    if missing or unexpected:
        return f"the model's inputs should be named {export.INPUTS}; missing {missing}" + (
            f", unexpected {unexpected}" if unexpected else ""
        )
    for tensor in model.inputs:
        if tuple(tensor.shape) != (None,):
            return (
                f"input {tensor.name!r} has shape {tuple(tensor.shape)}: use keras.Input(shape=(), ...), so that one "
                "wine is one number per input"
            )

    outputs = model.output
    if not isinstance(outputs, dict) or list(outputs) != [export.OUTPUT]:
        return (
            "the model's output has no name 'quality': return keras.Model(inputs, {'quality': ...}), otherwise the "
            "serving signature calls it 'output_0'"
        )

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Normalization)]
    if not layers:
        return (
            "the model has no Normalization layer: the scaling is not inside the model, so every client would "
            "have to scale the measurements itself"
        )
    if len(layers) > 1:
        return f"the model has {len(layers)} Normalization layers: use one, on the concatenated measurements"
    normalization = layers[0]
    mean, variance = (np.ravel(np.asarray(weight)) for weight in (normalization.mean, normalization.variance))
    if mean.size == len(data.FEATURES) and np.all(mean == 0) and np.all(variance == 1):
        return "the Normalization layer was never adapted: call normalization.adapt(...) on the training wines"
    scaled = np.asarray(keras.Model(model.inputs, normalization.output)(export.as_inputs(x_train)))
    if scaled.shape != (len(x_train), len(data.FEATURES)):
        return (
            f"the Normalization layer turns {len(x_train)} wines into an array of shape {scaled.shape}, expected "
            f"({len(x_train)}, {len(data.FEATURES)}): concatenate the 11 measurements before it"
        )
    worst_mean = float(np.max(np.abs(scaled.mean(axis=0))))
    worst_std = float(np.max(np.abs(scaled.std(axis=0) - 1)))
    if worst_mean > NORMALIZED_MEAN_TOLERANCE or worst_std > NORMALIZED_STD_TOLERANCE:
        changed = _changed_before_scaling(model, normalization, x_train)
        if changed:
            return changed
        training_means = x_train[data.FEATURES].mean().to_numpy()
        if mean.size == training_means.size and np.allclose(np.sort(mean), np.sort(training_means), rtol=1e-4):
            return (
                "the Normalization layer holds the training means, but in another column order than the inputs "
                "reach it: concatenate the inputs in the order of the columns you adapted it on (data.FEATURES)"
            )
        return (
            f"after the Normalization layer the training wines have column means up to {worst_mean:.3f} away from 0 "
            f"(standard deviations up to {worst_std:.3f} away from 1): adapt it on the training wines only, "
            "with the columns in the order you concatenate the inputs"
        )

    predicted = np.asarray(model(export.as_inputs(x_train.head(5)))[export.OUTPUT])
    if predicted.shape != (5,):
        return (
            f"for 5 wines the output 'quality' has shape {predicted.shape}, expected (5,): end with "
            "keras.layers.Reshape(()) so one wine gives one number"
        )
    if not np.all(np.isfinite(predicted)):
        return "the model predicts NaN or infinity for raw measurements"
    if any(isinstance(layer, keras.layers.Lambda) for layer in model.layers):
        return (
            "the model has a Lambda layer: its bounds are notebook variables inside Python code, not part of the "
            "model's weights or config, so the .keras file cannot be loaded in safe mode; compute the clip with "
            "keras.ops on the graph's tensors, or in a layer that holds the bounds"
        )
    return _judge_clipping(model, x_train)


def _changed_before_scaling(
    model: "keras.Model", normalization: "keras.layers.Normalization", x_train: pd.DataFrame
) -> str | None:
    """What is wrong when something between the inputs and the Normalization changes training wines (a clip inside
    the training range), so that the scaled training wines are off; None if every column the Normalization
    receives is one of the training wines' columns as measured."""
    import keras

    try:
        reaching = np.asarray(keras.Model(model.inputs, normalization.input)(export.as_inputs(x_train)), np.float32)
    except Exception:  # noqa: BLE001 - a layer used twice, or not on one tensor: the other messages say enough
        return None
    raw = x_train[data.FEATURES].to_numpy(dtype=np.float32)
    if reaching.shape != raw.shape:
        return None
    for column, feature in enumerate(data.FEATURES):
        if any(np.allclose(reaching[:, column], raw[:, other], rtol=1e-6, atol=0) for other in range(raw.shape[1])):
            continue
        reached, measured = reaching[:, column], raw[:, column]
        return (
            f"the training wines reach the Normalization changed: {feature} (its column {column}) arrives between "
            f"{reached.min():g} and {reached.max():g}, but x_train measures it between {measured.min():g} and "
            f"{measured.max():g}; clip to each column's own min and max over x_train, so that no training wine "
            "is changed"
        )
    return None


def training_bounds(x_train: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest value of each measurement among the training wines (float32, data.FEATURES order)."""
    values = x_train[data.FEATURES].to_numpy(dtype=np.float32)
    return values.min(axis=0), values.max(axis=0)


def _clipping_probes(x_train: pd.DataFrame) -> dict[str, np.ndarray]:
    """For each probe, one value per measurement: at the training bounds, a glitch beyond them (10x the max; one
    training range below the min), a value a quarter of the range beyond them, and one just inside them."""
    low, high = training_bounds(x_train)
    span = high - low
    return {
        "low": low,
        "high": high,
        "glitch_high": np.float32(10) * high,  # a decimal-point slip
        "glitch_low": low - span,  # below anything a lab can measure (negative for all but density)
        "above": high + span / 4,
        "below": low - span / 4,
        "inside_high": high - NARROW_SHARE * span,
        "inside_low": low + NARROW_SHARE * span,
    }


def _probe_scores(model: "keras.Model", x_train: pd.DataFrame, probes: dict[str, np.ndarray]) -> dict:
    """{(feature, probe): scores}: CLIP_PROBE_WINES training wines with one measurement set to the probe's value,
    scored in one batch."""
    wines = x_train[data.FEATURES].head(CLIP_PROBE_WINES).to_numpy(dtype=np.float32)
    keys, batches = [], []
    for column, feature in enumerate(data.FEATURES):
        for probe, values in probes.items():
            batch = wines.copy()
            batch[:, column] = values[column]
            keys.append((feature, probe))
            batches.append(batch)
    stacked = np.concatenate(batches)
    scores = model({name: stacked[:, column] for column, name in enumerate(export.INPUTS)})[export.OUTPUT]
    scores = np.asarray(scores, dtype=np.float64).reshape(len(keys), len(wines))
    return dict(zip(keys, scores, strict=True))


def _judge_clipping(model: "keras.Model", x_train: pd.DataFrame) -> str | None:
    """Glitched wines must score like the training extremes, per measurement, and training wines must pass
    unclipped."""
    probes = _clipping_probes(x_train)
    scores = _probe_scores(model, x_train, probes)

    def same(feature: str, a: str, b: str) -> bool:
        return float(np.max(np.abs(scores[feature, a] - scores[feature, b]))) <= CLIP_TOLERANCE

    def pair(feature: str, a: str, b: str) -> str:
        """The two scores of the probed wine where the probes differ most."""
        wine = int(np.argmax(np.abs(scores[feature, a] - scores[feature, b])))
        return f"{scores[feature, a][wine]:.3f}", f"{scores[feature, b][wine]:.3f}"

    columns = list(enumerate(data.FEATURES))
    for column, feature in columns:
        if same(feature, "low", "high"):
            return (
                f"the score stays the same while {feature} moves across the training wines' range "
                f"({probes['low'][column]:g} to {probes['high'][column]:g}): the model ignores it or clips it to one "
                "value; every measurement should reach the model, and every training value pass the clip unchanged "
                "(clipping after the Normalization? then scale the bounds the way it scales the measurements)"
            )
    for column, feature in columns:
        if not same(feature, "glitch_high", "high"):
            glitch, at_max = pair(feature, "glitch_high", "high")
            value, bound = probes["glitch_high"][column], probes["high"][column]
            if same(feature, "glitch_high", "above"):
                return (
                    f"the model clips {feature}, but above the training max {bound:g}: a wine at "
                    f"{probes['above'][column]:g} scores like a glitch at {value:g}, not like one at {bound:g}; the "
                    "bounds come from more than the training wines (the test wines, all red wines): take each "
                    "column's min and max over x_train only"
                )
            return (
                f"no clipping of {feature} at the training max {bound:g}: with {feature} at {value:g} (10x, a "
                f"decimal-point slip) a wine scores {glitch}, at {bound:g} it scores {at_max}; clip every "
                "measurement to the training wines' range inside the model, before the scaling"
            )
    for column, feature in columns:
        if not same(feature, "glitch_low", "low"):
            glitch, at_min = pair(feature, "glitch_low", "low")
            value, bound = probes["glitch_low"][column], probes["low"][column]
            if same(feature, "glitch_low", "below"):
                return (
                    f"the model clips {feature}, but below the training min {bound:g}: a wine at "
                    f"{probes['below'][column]:g} scores like a glitch at {value:g}, not like one at {bound:g}; the "
                    "bounds come from more than the training wines (the test wines, all red wines): take each "
                    "column's min and max over x_train only"
                )
            return (
                f"no clipping of {feature} at the training min {bound:g}: with {feature} at {value:g} (a reading "
                f"below anything the training wines show) a wine scores {glitch}, at {bound:g} it scores {at_min}; "
                "clip the bottom of the range as well as the top"
            )
    for column, feature in columns:
        for side, inside in (("high", "inside_high"), ("low", "inside_low")):
            if same(feature, inside, side):
                word = "max" if side == "high" else "min"
                return (
                    f"the model clips {feature} inside the training range: a wine at {probes[inside][column]:g}, a "
                    f"value the training wines reach, scores as at the training {word} {probes[side][column]:g}; "
                    "the bounds are each column's smallest and largest value in x_train (clipping after the "
                    "Normalization? then scale the bounds the way it scales the measurements)"
                )
    return None


def reference_wine_model(x_train: pd.DataFrame) -> "keras.Model":
    """04.1's reference: the raw measurements by name, each clipped to the training wines' range, scaled by a
    Normalization adapted on the training wines, one hidden layer, {"quality": score}.

    keras.ops.maximum/minimum with the bounds as constants: the clip is part of the functional graph, so it is
    exported in the SavedModel, converted by tf2onnx and kept by the .keras file (keras.ops.clip with array
    bounds exports too, but the .keras file refuses it).
    """
    import keras

    low, high = training_bounds(x_train)
    inputs = {name: keras.Input(shape=(), dtype="float32", name=name) for name in export.INPUTS}
    columns = [keras.layers.Reshape((1,), name=f"{name}_column")(inputs[name]) for name in export.INPUTS]
    measurements = keras.layers.Concatenate(name="measurements")(columns)
    clipped = keras.ops.minimum(keras.ops.maximum(measurements, low), high)
    normalization = keras.layers.Normalization(name="normalization")
    normalization.adapt(x_train[data.FEATURES].to_numpy(dtype=np.float32))
    hidden = keras.layers.Dense(export.HIDDEN_UNITS, activation="relu", name="hidden")(normalization(clipped))
    quality = keras.layers.Reshape((), name=export.OUTPUT)(keras.layers.Dense(1, name="score")(hidden))
    return keras.Model(inputs=inputs, outputs={export.OUTPUT: quality}, name="wine_quality_clipped")


def check_keras_model(answer: Any, x_train: pd.DataFrame) -> Any:
    """Exercise 04.1: build_wine_model(x_train) builds the model with its clipping and scaling inside; the reference
    (reference_wine_model) if wrong."""
    return verdict(
        "04.1",
        answer,
        lambda built: _judge_keras_model(built, x_train),
        hint="start from what a client sends (one named number per measurement) and what it gets back (one "
        "named number per wine). In between: the measurements side by side in the order you learn the scale in; "
        "then ask what the model has ever seen of each measurement. A value beyond that is a glitch, and the "
        "nearest value the training wines did show is the best the model can do with it, decided before the "
        "scale is applied and carried inside the model like the scale, learnt from the training wines only.",
        reference=lambda: reference_wine_model,
        success="eleven named raw inputs, each measurement held to the training wines' range, then scaled to mean "
        "0 and standard deviation 1 by a Normalization adapted on them, and one output named 'quality': a "
        "glitched reading scores like the training extreme, and no client needs to know the bounds.",
    )


# --- 04.2 a numbered version, as TF Serving needs it -----------------------------------------------------


def _judge_version_export(answer: Any, base_path: Path) -> str | None:
    if not isinstance(answer, (str, Path)):
        return f"version_folder is a {type(answer).__name__}: set it to the folder you exported the model to"
    folder, base = Path(answer), Path(base_path)
    if not folder.exists():
        return f"there is nothing at {folder}: run the export into that folder"
    if not (folder / "saved_model.pb").is_file():
        return f"{folder} holds no saved_model.pb: export the model into it with model.export(...)"
    if folder.resolve() == base.resolve():
        return f"TF Serving would say: {export.layout_problem(base).splitlines()[0]}"
    if folder.parent.resolve() != base.resolve():
        return (
            f"{folder} is not directly inside the base path {base}: TF Serving looks only at "
            "<base path>/<version number>/"
        )
    if not versions.is_version_name(folder.name):
        return (
            f"the folder name {folder.name!r} is not a number, so TF Serving ignores it: name the version "
            "folder by its number, 1, 2, ..."
        )
    problem = export.layout_problem(base)
    if problem:
        return problem.splitlines()[0]
    found = export.signature(folder)
    if found["method"] != "tensorflow/serving/predict":
        return f"the signature's method is {found['method']!r}, not 'tensorflow/serving/predict'"
    if sorted(found["inputs"]) != sorted(export.INPUTS):
        return f"the signature's inputs are {sorted(found['inputs'])}, expected {sorted(export.INPUTS)}"
    if list(found["outputs"]) != [export.OUTPUT]:
        return f"the signature's outputs are {list(found['outputs'])}, expected ['quality']: name the model's output"
    return None


def check_version_export(answer: Any, model: "keras.Model", base_path: Path) -> Any:
    """Exercise 04.2: the model exported as a numbered version under base_path; else the reference export
    (version 1)."""
    return verdict(
        "04.2",
        answer,
        lambda folder: _judge_version_export(folder, base_path),
        hint="the version folder goes directly inside the base path and is named by a number: "
        "version_folder = exercise_base / '1', then export.write_savedmodel(model, version_folder) "
        "(or model.export(str(version_folder), verbose=False)).",
        reference=lambda: export.export_savedmodel(model, 1, base_path),
        success="a numbered version folder with a saved_model.pb whose serving_default signature takes the "
        "eleven named measurements and returns 'quality': TF Serving can load it.",
    )


# --- 04.3 parity with ONNX on the white wines, with onnxruntime -----------------------------------------------


def _judge_onnx_parity(answer: Any, onnx_file: Any, version_folder: Path, wines: pd.DataFrame) -> str | None:
    onnx_scores, max_difference, parity_holds = answer
    onnx_file = solved(onnx_file)
    onnx_scores, max_difference, parity_holds = solved(onnx_scores), solved(max_difference), solved(parity_holds)
    if not isinstance(onnx_file, (str, Path)) or not Path(onnx_file).is_file():
        return f"onnx_file should be the path of the ONNX file you wrote, got {onnx_file!r}"
    try:
        session = export.onnx_session(onnx_file)
    except Exception as error:  # noqa: BLE001 - whatever the file is, say that onnxruntime cannot load it
        return f"onnxruntime cannot load {onnx_file}: {first_line(error)}"
    found = export.onnx_io(session)
    if sorted(found["inputs"]) != sorted(export.INPUTS) or export.OUTPUT not in found["outputs"]:
        return (
            f"the ONNX model's inputs are {found['inputs']} and outputs {found['outputs']}: convert the SavedModel "
            "of 04.2 (tf2onnx keeps the signature's names)"
        )
    onnx = export.predict_onnx(session, wines)
    savedmodel = export.predict_signature(export.load_signature(version_folder), wines)
    expected = export.max_abs_difference(savedmodel, onnx)
    if expected > 0.05:  # tenths of a quality point: another model, not float32 rounding
        return (
            f"the ONNX file and the SavedModel in {version_folder} disagree by up to {expected:.3g} quality points: "
            "convert the SavedModel of 04.2 itself, not another model"
        )
    if isinstance(onnx_scores, dict):
        return "onnx_scores is a dict: session.run returns a list with one array per output name you asked for"
    try:
        scores = np.asarray(onnx_scores, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return f"onnx_scores should be the ONNX model's scores, one number per wine, got a {type(onnx_scores).__name__}"
    if len(scores) != len(wines):
        return f"onnx_scores holds {len(scores)} numbers for the {len(wines)} white wines: one score per wine"
    if np.max(np.abs(scores - onnx)) > export.PARITY_TOLERANCE:
        if np.max(np.abs(scores - savedmodel)) <= export.PARITY_TOLERANCE:
            return "onnx_scores are the SavedModel's scores: run the ONNX file with an onnxruntime.InferenceSession"
        return (
            "onnx_scores differ from what the ONNX file answers for the white wines: feed each input by its name "
            "(session.get_inputs()), the column that carries it, in the wines' order"
        )
    value, problem = one_number(
        max_difference, "max_difference", many="reduce the differences to the largest one, np.max(np.abs(...))"
    )
    if problem:
        return problem
    if not math.isclose(value, expected, rel_tol=1e-3, abs_tol=1e-12):
        errors = np.asarray(onnx, dtype=np.float64) - np.asarray(savedmodel, dtype=np.float64)
        signed = (np.max(errors), np.max(-errors), np.min(errors), np.min(-errors))
        if any(math.isclose(value, float(candidate), rel_tol=1e-3, abs_tol=1e-12) for candidate in signed):
            return f"max_difference is {value:.3g}: take the absolute differences first"
        if math.isclose(value, float(np.mean(np.abs(errors))), rel_tol=1e-3, abs_tol=1e-12):
            return f"max_difference is {value:.3g}, the mean of the differences: parity is about the worst wine"
        if value > 0.01:
            return (
                f"max_difference is {value:.3g}, the size of an error against the tasters' scores: compare ONNX with "
                "the SavedModel on the same wines, not with quality"
            )
        return (
            f"max_difference is {value:.3g}, but ONNX and the SavedModel differ by at most {expected:.3g} on the "
            f"{len(wines)} white wines: predict the same wines with both and compare"
        )
    if not isinstance(parity_holds, (bool, np.bool_)):
        return f"parity_holds should be True or False, your decision, got a {type(parity_holds).__name__}"
    if bool(parity_holds) != (expected <= export.PARITY_TOLERANCE):
        return (
            f"parity_holds is {bool(parity_holds)}, but the largest difference {expected:.3g} is "
            f"{'within' if expected <= export.PARITY_TOLERANCE else 'above'} the tolerance "
            f"{export.PARITY_TOLERANCE:g}: the decision compares the worst wine with the stated tolerance"
        )
    return None


def _reference_parity(version_folder: Path, wines: pd.DataFrame) -> tuple[np.ndarray, float, bool]:
    """Convert the SavedModel to ONNX in a temporary folder: (ONNX scores, max abs difference, parity holds)."""
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = export.savedmodel_to_onnx(version_folder, Path(folder) / "reference.onnx")
        onnx = export.predict_onnx(onnx_file, wines)
    largest = export.max_abs_difference(export.predict_signature(export.load_signature(version_folder), wines), onnx)
    return onnx, largest, bool(largest <= export.PARITY_TOLERANCE)


def check_onnx_parity(
    onnx_scores: Any, max_difference: Any, parity_holds: Any, onnx_file: Any, version_folder: Path, wines: pd.DataFrame
) -> Any:
    """Exercise 04.3: ONNX scores of the white wines from onnxruntime, their max abs difference from the SavedModel
    and the decision at PARITY_TOLERANCE; the reference triple if wrong."""
    return verdict(
        "04.3",
        (onnx_scores, max_difference, parity_holds),
        lambda answer: _judge_onnx_parity(answer, onnx_file, version_folder, wines),
        hint="the ONNX file tells a client what to send: its inputs' names, shapes and dtypes "
        "(session.get_inputs()). Parity is about the worst wine, judged against the stated tolerance.",
        reference=lambda: _reference_parity(version_folder, wines),
        success=f"ONNX and the SavedModel agree within {export.PARITY_TOLERANCE:g} quality points on every white "
        "wine too, wines the model never saw: the runtime is no source of skew.",
    )
