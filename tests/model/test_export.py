"""The exported model keeps its contract: same predictions everywhere, named inputs and output, TF Serving's layout.

Parity is the training/serving-skew test: the same raw red test wines must get the same quality score
from the Keras model in memory, from the exported SavedModel's signature and from onnxruntime, within
export.PARITY_TOLERANCE. The Keras model trains for a few epochs only: parity and layout do not depend
on how well it learnt, and the whole file stays well under a minute.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from workshop_lib import data, export

EPOCHS = 3


@pytest.fixture(scope="module")
def red_split():
    return data.split(data.load_wine("red"), test_size=0.2, seed=42)


@pytest.fixture(scope="module")
def keras_model(red_split):
    x_train, _, y_train, _ = red_split
    return export.fit_keras_model(x_train, y_train, epochs=EPOCHS)


@pytest.fixture(scope="module")
def base_path(tmp_path_factory):
    return tmp_path_factory.mktemp("models") / "wine"


@pytest.fixture(scope="module")
def version_1(keras_model, base_path):
    return export.export_savedmodel(keras_model, 1, base_path)


@pytest.fixture(scope="module")
def keras_onnx(version_1, tmp_path_factory):
    return export.savedmodel_to_onnx(version_1, tmp_path_factory.mktemp("onnx") / "wine.onnx")


@pytest.fixture(scope="module")
def pipeline(red_split):
    x_train, _, y_train, _ = red_split
    return export.fit_sklearn_model(x_train, y_train)


# --- parity: the training/serving-skew test ---------------------------------------------------------


def test_keras_savedmodel_and_onnx_give_the_same_prediction(keras_model, version_1, keras_onnx, red_split):
    _, x_test, _, _ = red_split
    in_memory = export.predict_keras(keras_model, x_test)
    savedmodel = export.predict_signature(export.load_signature(version_1), x_test)
    onnx = export.predict_onnx(keras_onnx, x_test)
    assert in_memory.shape == savedmodel.shape == onnx.shape == (len(x_test),)
    assert export.max_abs_difference(in_memory, savedmodel) <= export.PARITY_TOLERANCE
    assert export.max_abs_difference(in_memory, onnx) <= export.PARITY_TOLERANCE
    assert export.max_abs_difference(savedmodel, onnx) <= export.PARITY_TOLERANCE


def test_sklearn_pipeline_and_its_onnx_give_the_same_prediction(pipeline, red_split, tmp_path):
    _, x_test, _, _ = red_split
    onnx = export.predict_onnx(export.sklearn_to_onnx(pipeline, tmp_path / "elasticnet.onnx"), x_test)
    assert export.max_abs_difference(pipeline.predict(x_test), onnx) <= export.PARITY_TOLERANCE


def test_the_tolerance_catches_a_forgotten_scaling(pipeline, red_split):
    """Not vacuous: a model fed raw values instead of scaled ones is far outside the tolerance."""
    _, x_test, _, _ = red_split
    forgot_scaling = pipeline[-1].predict(x_test.to_numpy())
    assert export.max_abs_difference(pipeline.predict(x_test), forgot_scaling) > 1000 * export.PARITY_TOLERANCE


def test_parity_table_flags_differences():
    table = export.parity_table({"a": np.array([5.0, 6.0]), "b": np.array([5.0, 6.00001]), "c": np.array([5.0, 6.5])})
    assert table["within tolerance"].tolist() == [True, False]
    assert table.loc["c", "max abs difference"] == pytest.approx(0.5)


# --- the contract: named inputs, named output ---------------------------------------------------------


def test_input_names_are_the_features_in_snake_case():
    assert export.INPUTS[0] == "fixed_acidity" and "ph" in export.INPUTS and export.INPUTS[-1] == "alcohol"
    assert len(export.INPUTS) == len(data.FEATURES) == len(set(export.INPUTS))
    assert all(name.isidentifier() and name == name.lower() for name in export.INPUTS)


def test_the_normalization_inside_holds_the_training_means(keras_model, red_split):
    x_train, _, _, _ = red_split
    normalization = export.normalization_layer(keras_model)
    assert normalization is not None
    np.testing.assert_allclose(np.ravel(normalization.mean), x_train[data.FEATURES].mean().to_numpy(), rtol=1e-5)


def test_savedmodel_signature_has_named_inputs_and_the_quality_output(version_1):
    signature = export.signature(version_1)
    assert signature["method"] == "tensorflow/serving/predict"
    assert signature["inputs"] == {name: ("DT_FLOAT", (-1,)) for name in sorted(export.INPUTS)}
    assert signature["outputs"] == {"quality": ("DT_FLOAT", (-1,))}


def test_onnx_keeps_the_names(keras_onnx):
    names = export.onnx_io(export.onnx_session(keras_onnx))
    assert sorted(names["inputs"]) == sorted(export.INPUTS)
    assert names["outputs"] == ["quality"]


# --- versions, as TF Serving reads them ---------------------------------------------------------------


def test_versions_are_numbered_folders(keras_model, version_1, base_path):
    export.export_savedmodel(keras_model, 2, base_path)
    assert version_1 == base_path / "1"
    assert list(export.servable_versions(base_path)) == [1, 2]
    assert export.layout_problem(base_path) is None
    assert [p.name for p in base_path.iterdir() if p.name.startswith(".")] == [], (
        "a temporary export folder was left behind"
    )


def test_reexport_replaces_the_version_cleanly(keras_model, tmp_path):
    base = tmp_path / "wine"
    first = export.export_savedmodel(keras_model, 3, base)
    (first / "stale.txt").write_text("from the previous export")
    again = export.export_savedmodel(keras_model, 3, base)
    assert again == first and (again / "saved_model.pb").is_file()
    assert not (again / "stale.txt").exists(), "the old version's files survived the re-export"
    assert sorted(p.name for p in base.iterdir()) == ["3"]


def test_a_failed_export_leaves_no_version_behind(tmp_path):
    class BrokenModel:
        def export(self, path, verbose=False):
            (Path(path) / "saved_model.pb").write_bytes(b"half written")
            raise RuntimeError("disk full")

    base = tmp_path / "wine"
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_savedmodel(BrokenModel(), 1, base)
    assert list(base.iterdir()) == []


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True])
def test_a_version_is_a_positive_whole_number(version, tmp_path):
    with pytest.raises(ValueError, match="version"):
        export.version_dir(version, tmp_path)


def test_a_savedmodel_without_version_folder_gives_tf_servings_message(keras_model, tmp_path):
    base = tmp_path / "wine"
    export.write_savedmodel(keras_model, base)  # straight into the base path
    (base / "latest").mkdir()  # names that are not numbers do not count
    with pytest.raises(export.NoServableVersion, match=r"No versions of servable wine found under base path"):
        export.servable_versions(base)
    problem = export.layout_problem(base)
    assert problem.startswith(
        f"No versions of servable wine found under base path {base}. "
        "Did you forget to name your leaf directory as a number (eg. '/1/')?"
    )
    assert f"Fix: the SavedModel sits directly in {base}" in problem


def test_a_missing_base_path_gives_tf_servings_message(tmp_path):
    problem = export.layout_problem(tmp_path / "nowhere")
    assert problem.startswith(f"Could not find base path {tmp_path / 'nowhere'} for servable wine")
    assert "Fix:" in problem


def test_a_hung_tool_is_stopped_with_a_message_naming_it(tmp_path, monkeypatch):
    """saved_model_cli and tf2onnx run with a timeout: a hung one ends in an error that names the command."""
    seen = []

    def hung(command, **options):
        seen.append(options["timeout"])
        raise subprocess.TimeoutExpired(command, options["timeout"])

    monkeypatch.setattr(export.subprocess, "run", hung)
    with pytest.raises(export.ToolTimeout, match=r"`saved_model_cli show --dir .* did not finish within 120 s"):
        export.saved_model_cli_show(tmp_path)
    with pytest.raises(export.ToolTimeout, match=r"tf2onnx\.convert .* did not finish within 300 s"):
        export.savedmodel_to_onnx(tmp_path, tmp_path / "wine.onnx")
    assert seen == [export.TOOL_TIMEOUT, export.CONVERT_TIMEOUT]


def test_the_layout_message_names_paths_inside_the_course_relative_to_it(keras_model, tmp_path, monkeypatch):
    """What a notebook prints shows no folder of the machine it ran on (committed outputs travel)."""
    from workshop_lib import config

    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    base = tmp_path / "workspace" / "wine"
    export.write_savedmodel(keras_model, base)
    problem = export.layout_problem(base)
    assert str(tmp_path) not in problem
    assert (
        "under base path workspace/wine." in problem and "Move it into a numbered folder, workspace/wine/1/" in problem
    )
