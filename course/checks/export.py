"""Checks for module 04, the model as an artifact: one public function per exercise.

04.1 check_keras_model     build_wine_model(x_train): named raw inputs, an adapted Normalization inside, output
                           "quality"
04.2 check_version_export  a SavedModel in <base path>/<version number>/, the layout TF Serving needs
04.3 check_onnx_parity     the max abs difference between ONNX and the SavedModel on the test wines

The judges look at what the participant built (the model's layers, the folder, the ONNX file) and
say what is missing in the words TF Serving or the tolerance would use. The reference results let
the notebook go on when an answer is wrong.
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
    return None


def check_keras_model(answer: Any, x_train: pd.DataFrame) -> Any:
    """Exercise 04.1: build_wine_model(x_train) builds the model with its preprocessing inside; the reference if
    wrong."""
    return verdict(
        "04.1",
        answer,
        lambda built: _judge_keras_model(built, x_train),
        hint="one keras.Input(shape=(), dtype='float32', name=name) for each name in export.INPUTS; "
        "Reshape((1,)) each and Concatenate them; normalization = keras.layers.Normalization(), then "
        "normalization.adapt(x_train[data.FEATURES].to_numpy('float32')); Dense(32, activation='relu'), "
        "Dense(1), Reshape(()); return keras.Model(inputs, {'quality': ...}).",
        reference=lambda: export.build_keras_model,
        success="eleven named raw inputs, a Normalization layer that scales the training wines to mean 0 "
        "and standard deviation 1, and one output named 'quality', one number per wine.",
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


# --- 04.3 parity between ONNX and the SavedModel ------------------------------------------------------------


def _judge_onnx_parity(answer: Any, onnx_file: Any, version_folder: Path, x_test: pd.DataFrame) -> str | None:
    onnx_file = solved(onnx_file)
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
    savedmodel = export.predict_signature(export.load_signature(version_folder), x_test)
    onnx = export.predict_onnx(session, x_test)
    expected = export.max_abs_difference(savedmodel, onnx)
    if expected > export.PARITY_TOLERANCE:
        return (
            f"the ONNX file and the SavedModel in {version_folder} disagree by up to {expected:.3g} quality points: "
            "convert the SavedModel of 04.2 itself, not another model"
        )
    value, problem = one_number(
        answer, "max_difference", many="reduce the differences to the largest one, np.max(np.abs(...))"
    )
    if problem:
        return problem
    if math.isclose(value, expected, rel_tol=1e-3, abs_tol=1e-12):
        return None
    errors = np.asarray(onnx, dtype=np.float64) - np.asarray(savedmodel, dtype=np.float64)
    signed = (np.max(errors), np.max(-errors), np.min(errors), np.min(-errors))
    if any(math.isclose(value, float(candidate), rel_tol=1e-3, abs_tol=1e-12) for candidate in signed):
        return f"max_difference is {value:.3g}: take the absolute differences first, np.max(np.abs(a - b))"
    if math.isclose(value, float(np.mean(np.abs(errors))), rel_tol=1e-3, abs_tol=1e-12):
        return (
            f"max_difference is {value:.3g}, the mean of the differences: parity is about the worst wine, take the max"
        )
    if value > 0.01:
        return (
            f"max_difference is {value:.3g}, the size of the model's error against the true scores: compare the "
            "ONNX predictions with the SavedModel's predictions of the same wines, not with y_test"
        )
    return (
        f"max_difference is {value:.3g}, but ONNX and the SavedModel differ by at most {expected:.3g} on the "
        f"{len(x_test)} test wines: predict x_test with both and compare"
    )


def _reference_parity(version_folder: Path, x_test: pd.DataFrame) -> float:
    """Convert the SavedModel to ONNX in a temporary folder and return the max abs difference on the test wines."""
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = export.savedmodel_to_onnx(version_folder, Path(folder) / "reference.onnx")
        onnx = export.predict_onnx(onnx_file, x_test)
    return export.max_abs_difference(export.predict_signature(export.load_signature(version_folder), x_test), onnx)


def check_onnx_parity(answer: Any, onnx_file: Any, version_folder: Path, x_test: pd.DataFrame) -> Any:
    """Exercise 04.3: the max abs difference between ONNX and the SavedModel on the test wines; the reference if
    wrong."""
    return verdict(
        "04.3",
        answer,
        lambda value: _judge_onnx_parity(value, onnx_file, version_folder, x_test),
        hint="onnx_file = export.savedmodel_to_onnx(version_folder, workspace / 'exercise_wine.onnx'); predict "
        "x_test with export.predict_onnx(...) and with export.predict_signature(export.load_signature("
        "version_folder), x_test); max_difference = float(np.max(np.abs(a - b))).",
        reference=lambda: _reference_parity(version_folder, x_test),
        success=f"ONNX and the SavedModel agree within {export.PARITY_TOLERANCE:g} quality points on every "
        "test wine: no training/serving skew between the two.",
    )
