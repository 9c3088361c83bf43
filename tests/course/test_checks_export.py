"""The checks of module 04 are not vacuous: right answers pass, wrong ones get "not quite" and a hint.

For every exercise: the reference answer and other right ways (keras.ops and a Normalization given its
mean and variance, adapt on a tf.data.Dataset, the clip written with keras.ops.clip, keras.ops.minimum/maximum,
after the Normalization on scaled bounds or in a layer of one's own, model.export to a str path, onnxruntime fed by
output name and tf.saved_model.load used directly) -> "correct"; typical mistakes -> "not quite" with what is
wrong and the hint; the placeholder `...` (or a function that returns `...`) -> "not solved yet".
The models here are untrained (or trained for one epoch): the checks look at structure, layout, clipping behaviour
and parity, not at how well a model predicts.
"""

import os

import keras
import numpy as np
import onnxruntime
import pytest
import tensorflow as tf
from verdicts import assert_not_quite, verdict_of

from course.checks import export as checks
from workshop_lib import data, export


@pytest.fixture(scope="module")
def red_split():
    return data.split(data.load_wine("red"), test_size=0.2, seed=42)


@pytest.fixture(scope="module")
def x_train(red_split):
    return red_split[0]


# --- 04.1 the model with the preprocessing inside ----------------------------------------------------


def _columns(inputs, names):
    return keras.layers.Concatenate()([keras.layers.Reshape((1,))(inputs[name]) for name in names])


def _named_inputs(names=export.INPUTS, shape=()):
    return {name: keras.Input(shape=shape, dtype="float32", name=name) for name in names}


def _head(features):
    return {"quality": keras.layers.Reshape(())(keras.layers.Dense(1)(features))}


def without_normalization(x_train):
    inputs = _named_inputs()
    return keras.Model(inputs, _head(_columns(inputs, export.INPUTS)))


def never_adapted(x_train):
    inputs = _named_inputs()
    return keras.Model(inputs, _head(keras.layers.Normalization()(_columns(inputs, export.INPUTS))))


def adapted_on_all_wines(x_train):
    inputs = _named_inputs()
    normalization = keras.layers.Normalization()
    normalization.adapt(data.load_wine("red")[data.FEATURES].to_numpy("float32"))
    return keras.Model(inputs, _head(normalization(_columns(inputs, export.INPUTS))))


def columns_in_another_order(x_train):
    inputs = _named_inputs()
    normalization = keras.layers.Normalization()
    normalization.adapt(x_train[data.FEATURES].to_numpy("float32"))
    return keras.Model(inputs, _head(normalization(_columns(inputs, sorted(export.INPUTS)))))


def unnamed_output(x_train):
    model = export.build_keras_model(x_train)
    return keras.Model(model.inputs, model.output["quality"])


def one_input_for_all(x_train):
    inputs = keras.Input(shape=(len(data.FEATURES),))
    normalization = keras.layers.Normalization()
    normalization.adapt(x_train[data.FEATURES].to_numpy("float32"))
    return keras.Model(inputs, {"quality": keras.layers.Dense(1)(normalization(inputs))})


def capital_ph(x_train):
    names = ["pH" if name == "ph" else name for name in export.INPUTS]
    inputs = _named_inputs(names)
    return keras.Model(inputs, _head(_columns(inputs, names)))


def column_shaped_inputs(x_train):
    inputs = _named_inputs(shape=(1,))
    return keras.Model(inputs, _head(keras.layers.Concatenate()(list(inputs.values()))))


def output_of_shape_n_by_1(x_train):
    model = export.build_keras_model(x_train)
    return keras.Model(model.inputs, {"quality": model.get_layer("score").output})


def crashes(x_train):
    raise RuntimeError("boom")


def returns_placeholder(x_train):
    return ...


def test_keras_model_reference_is_correct(capsys, x_train):
    reference = checks.reference_wine_model
    assert checks.check_keras_model(reference, x_train) is reference
    assert verdict_of(capsys, "04.1")[0] == "correct"


def test_the_lessons_model_does_not_clip(capsys, x_train):
    """The lesson's model keeps the contract but not the new requirement: 04.1 is no repeat of the lesson."""
    assert checks.check_keras_model(export.build_keras_model, x_train) is checks.reference_wine_model
    assert_not_quite(capsys, "04.1", "no clipping of fixed acidity at the training max 15.9")


def built_with_a_list_and_keras_ops(x_train):
    """Inputs in a list, stacked with keras.ops.stack and clipped with keras.ops.clip on float64 bounds; a
    Normalization given the training means and variances instead of adapted; the score squeezed with
    keras.ops.squeeze; another hidden layer (tanh, which saturates: the probes must still see the clip)."""
    inputs = [keras.Input(shape=(), name=name) for name in export.INPUTS]
    values = x_train[data.FEATURES].to_numpy("float64")
    measurements = keras.ops.clip(keras.ops.stack(inputs, axis=-1), values.min(axis=0), values.max(axis=0))
    normalization = keras.layers.Normalization(mean=values.mean(axis=0), variance=values.var(axis=0))
    hidden = keras.layers.Dense(16, activation="tanh")(normalization(measurements))
    return keras.Model(inputs=inputs, outputs={"quality": keras.ops.squeeze(keras.layers.Dense(1)(hidden), axis=-1)})


def adapted_on_a_dataset_of_columns(x_train):
    """The inputs made in a loop over the columns and clipped one by one with keras.ops.minimum/maximum on pandas'
    bounds, adapted on a tf.data.Dataset in batches, another hidden layer."""
    inputs, clipped = {}, []
    for feature in data.FEATURES:
        name = export.INPUT_NAMES[feature]
        inputs[name] = keras.Input(shape=(), dtype="float32", name=name)
        low, high = float(x_train[feature].min()), float(x_train[feature].max())
        clipped.append(keras.layers.Reshape((1,))(keras.ops.maximum(keras.ops.minimum(inputs[name], high), low)))
    measurements = keras.layers.Concatenate(axis=-1)(clipped)
    normalization = keras.layers.Normalization(axis=-1)
    normalization.adapt(tf.data.Dataset.from_tensor_slices(x_train[data.FEATURES].to_numpy("float32")).batch(128))
    score = keras.layers.Dense(1)(keras.layers.Dense(8, activation="relu")(normalization(measurements)))
    return keras.Model(inputs, {"quality": keras.layers.Reshape(())(score)})


def clipped_after_the_normalization(x_train):
    """The clip after the Normalization, on the training bounds scaled the way the layer scales (its own mean and
    variance, ddof=0): behaviourally the same model."""
    inputs = _named_inputs()
    normalization = keras.layers.Normalization()
    normalization.adapt(x_train[data.FEATURES].to_numpy("float32"))
    mean, std = np.ravel(normalization.mean), np.sqrt(np.ravel(normalization.variance))
    low, high = ((x_train[data.FEATURES].agg(bound).to_numpy() - mean) / std for bound in ("min", "max"))
    scaled = normalization(_columns(inputs, export.INPUTS))
    return keras.Model(inputs, _head(keras.layers.Dense(32, activation="relu")(keras.ops.clip(scaled, low, high))))


class TrainingRange(keras.layers.Layer):
    """A layer of one's own that holds the bounds as constants."""

    def __init__(self, low, high, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = np.asarray(low, "float32"), np.asarray(high, "float32")

    def call(self, measurements):
        return keras.ops.minimum(keras.ops.maximum(measurements, self.low), self.high)


def clipped_by_a_layer_of_its_own(x_train):
    inputs = _named_inputs()
    values = x_train[data.FEATURES].to_numpy("float32")
    normalization = keras.layers.Normalization()
    normalization.adapt(values)
    clipped = TrainingRange(values.min(axis=0), values.max(axis=0))(_columns(inputs, export.INPUTS))
    return keras.Model(inputs, _head(keras.layers.Dense(8, activation="relu")(normalization(clipped))))


@pytest.mark.parametrize(
    "answer",
    [
        built_with_a_list_and_keras_ops,
        adapted_on_a_dataset_of_columns,
        clipped_after_the_normalization,
        clipped_by_a_layer_of_its_own,
    ],
)
def test_keras_model_written_another_way_is_correct(capsys, x_train, answer):
    assert checks.check_keras_model(answer, x_train) is answer
    assert verdict_of(capsys, "04.1")[0] == "correct"


def _clipped_between(low, high, after_normalization=False):
    """A builder like the reference, with the given bounds (None: no clip at that end)."""

    def build(x_train):
        inputs = _named_inputs()
        measurements = _columns(inputs, export.INPUTS)
        normalization = keras.layers.Normalization()
        normalization.adapt(x_train[data.FEATURES].to_numpy("float32"))
        if after_normalization:
            measurements = normalization(measurements)
        if low is not None:
            measurements = keras.ops.maximum(measurements, low(x_train))
        if high is not None:
            measurements = keras.ops.minimum(measurements, high(x_train))
        if not after_normalization:
            measurements = normalization(measurements)
        return keras.Model(inputs, _head(keras.layers.Dense(32, activation="relu")(measurements)))

    return build


def _bound(frame_of, how):
    return lambda x_train: frame_of(x_train)[data.FEATURES].agg(how).to_numpy("float32")


def _quantile(share):
    return lambda x_train: x_train[data.FEATURES].quantile(share).to_numpy("float32")


def _scaled(bound):
    """Bounds in the Normalization's units: (bound - training mean) / training standard deviation (ddof=0)."""

    def scaled(x_train):
        values = x_train[data.FEATURES].to_numpy("float64")
        return ((bound(x_train) - values.mean(axis=0)) / values.std(axis=0)).astype("float32")

    return scaled


def training(x_train):
    return x_train


def all_red(x_train):
    return data.load_wine("red")


def held_out_wines(x_train):
    return data.split(data.load_wine("red"), test_size=0.2, seed=42)[1]


def clipped_in_a_lambda_layer(x_train):
    """Works for serving (the SavedModel traces the bounds in), but the bounds are notebook variables: rejected,
    as concept question 3 of 04.4 says why."""
    inputs = _named_inputs()
    values = x_train[data.FEATURES].to_numpy("float32")
    low, high = values.min(axis=0), values.max(axis=0)
    clipped = keras.layers.Lambda(lambda x: keras.ops.clip(x, low, high))(_columns(inputs, export.INPUTS))
    normalization = keras.layers.Normalization()
    normalization.adapt(values)
    return keras.Model(inputs, _head(keras.layers.Dense(32, activation="relu")(normalization(clipped))))


def clipped_quality(x_train):
    """Clips the score instead of the measurements: an untrained model's scores all land on the bound."""
    model = export.build_keras_model(x_train)
    return keras.Model(model.inputs, {"quality": keras.ops.clip(model.output["quality"], 3.0, 8.0)})


def ignores_alcohol(x_train):
    """Clips correctly but never lets alcohol reach the Dense layer: a score that does not depend on a measurement
    cannot show whether it is clipped."""
    inputs = _named_inputs()
    values = x_train[data.FEATURES].to_numpy("float32")
    clipped = keras.ops.clip(_columns(inputs, export.INPUTS), values.min(axis=0), values.max(axis=0))
    normalization = keras.layers.Normalization()
    normalization.adapt(values)
    return keras.Model(inputs, _head(normalization(clipped)[:, :-1]))  # alcohol is the last column


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (_clipped_between(None, None), ["no clipping of fixed acidity at the training max 15.9", "10x"]),
        (_clipped_between(None, _bound(training, "max")), ["no clipping of fixed acidity at the training min 4.6"]),
        (_clipped_between(_bound(training, "min"), None), ["no clipping of fixed acidity at the training max 15.9"]),
        (
            _clipped_between(_bound(all_red, "min"), _bound(all_red, "max")),
            ["clips pH, but above the training max 3.9", "x_train only"],
        ),
        (
            _clipped_between(_bound(all_red, "min"), _bound(training, "max")),
            ["clips volatile acidity, but below the training min 0.16", "x_train only"],
        ),
        (
            _clipped_between(_bound(held_out_wines, "min"), _bound(held_out_wines, "max")),
            ["reach the Normalization changed: fixed acidity", "between 5 and 15.6", "between 4.6 and 15.9"],
        ),
        (
            _clipped_between(_quantile(0.01), _quantile(0.99)),
            ["reach the Normalization changed: fixed acidity", "no training wine is changed"],
        ),
        (
            _clipped_between(_scaled(_quantile(0.01)), _scaled(_quantile(0.99)), after_normalization=True),
            ["clips fixed acidity inside the training range", "training max 15.9"],
        ),
        (
            _clipped_between(_bound(training, "min"), _bound(training, "max"), after_normalization=True),
            ["the score stays the same while fixed acidity moves", "scale the bounds"],
        ),
        (clipped_in_a_lambda_layer, ["Lambda layer", "safe mode"]),
        (clipped_quality, ["the score stays the same while fixed acidity moves"]),
        (ignores_alcohol, ["the score stays the same while alcohol moves"]),
    ],
    ids=[
        "no-clipping",
        "top-only",
        "bottom-only",
        "all-red-max",
        "all-red-min",
        "test-wines",
        "percentiles",
        "scaled-percentiles-after-normalization",
        "raw-bounds-after-normalization",
        "lambda",
        "clipped-score",
        "ignores-alcohol",
    ],
)
def test_keras_model_wrong_clipping(capsys, x_train, answer, fragments):
    assert checks.check_keras_model(answer, x_train) is checks.reference_wine_model
    assert_not_quite(capsys, "04.1", *fragments)


@pytest.mark.parametrize("answer", [..., returns_placeholder], ids=["placeholder", "function returning ..."])
def test_keras_model_not_solved(capsys, x_train, answer):
    assert checks.check_keras_model(answer, x_train) is checks.reference_wine_model
    assert verdict_of(capsys, "04.1")[0] == "not solved yet"


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (without_normalization, ["no Normalization layer"]),
        (never_adapted, ["never adapted"]),
        (adapted_on_all_wines, ["adapt it on the training wines only"]),
        (columns_in_another_order, ["another column order"]),
        (unnamed_output, ["output_0"]),
        (one_input_for_all, ["one named input per measurement"]),
        (capital_ph, ["missing ['ph']", "unexpected ['pH']"]),
        (column_shaped_inputs, ["shape=()"]),
        (output_of_shape_n_by_1, ["Reshape(())"]),
        (crashes, ["raised RuntimeError: boom"]),
        (lambda x_train: "a model", ["not a Keras model"]),
        (42, ["not a function"]),
    ],
    ids=[
        "no-normalization",
        "not-adapted",
        "all-wines",
        "column-order",
        "unnamed-output",
        "one-input",
        "pH",
        "column-inputs",
        "n-by-1-output",
        "crash",
        "not-a-model",
        "not-callable",
    ],
)
def test_keras_model_wrong_answers(capsys, x_train, answer, fragments):
    assert checks.check_keras_model(answer, x_train) is checks.reference_wine_model
    assert_not_quite(capsys, "04.1", *fragments)


# --- 04.2 a numbered version ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(x_train):
    return checks.reference_wine_model(x_train)  # untrained: the layout and the signature are what counts


@pytest.fixture
def base(tmp_path):
    return tmp_path / "exercise_models" / "wine"


def test_version_export_correct(capsys, model, base):
    folder = export.write_savedmodel(model, base / "1")
    assert checks.check_version_export(folder, model, base) == folder
    assert verdict_of(capsys, "04.2")[0] == "correct"


def test_version_export_with_model_export_and_a_string_path_is_correct(capsys, model, base):
    version_folder = os.path.join(str(base), "1")  # a str, as os.path gives it
    model.export(version_folder, format="tf_saved_model", verbose=False)
    assert checks.check_version_export(version_folder, model, base) == version_folder
    assert verdict_of(capsys, "04.2")[0] == "correct"


def test_version_export_not_solved_exports_the_reference(capsys, model, base):
    assert checks.check_version_export(..., model, base) == base / "1"
    assert verdict_of(capsys, "04.2")[0] == "not solved yet"
    assert (base / "1" / "saved_model.pb").is_file()


def test_version_export_straight_into_the_base_path(capsys, model, base):
    export.write_savedmodel(model, base)
    assert checks.check_version_export(base, model, base) == base / "1"
    assert_not_quite(capsys, "04.2", "TF Serving would say: No versions of servable wine found under base path")


def test_version_export_folder_named_v1(capsys, model, base):
    export.write_savedmodel(model, base / "v1")
    checks.check_version_export(base / "v1", model, base)
    assert_not_quite(capsys, "04.2", "'v1' is not a number")


def test_version_export_one_level_too_deep(capsys, model, base):
    export.write_savedmodel(model, base / "1" / "model")
    checks.check_version_export(base / "1" / "model", model, base)
    assert_not_quite(capsys, "04.2", "not directly inside the base path")


def test_version_export_with_unnamed_output(capsys, x_train, model, base):
    export.write_savedmodel(unnamed_output(x_train), base / "1")
    checks.check_version_export(base / "1", model, base)
    assert_not_quite(capsys, "04.2", "output_0")


@pytest.mark.parametrize(
    "answer, fragments",
    [
        ("nowhere", ["there is nothing at"]),
        (42, ["int"]),
    ],
    ids=["missing-folder", "not-a-path"],
)
def test_version_export_other_mistakes(capsys, model, base, answer, fragments):
    checks.check_version_export(base / answer if isinstance(answer, str) else answer, model, base)
    assert_not_quite(capsys, "04.2", *fragments)


def test_version_export_folder_without_savedmodel(capsys, model, base):
    (base / "1").mkdir(parents=True)
    checks.check_version_export(base / "1", model, base)
    assert_not_quite(capsys, "04.2", "holds no saved_model.pb")


# --- 04.3 parity with ONNX on the white wines -----------------------------------------------------------


@pytest.fixture(scope="module")
def white():
    return data.load_wine("white").head(400)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, red_split, white):
    """04.1's reference, clipped, trained for one epoch, exported as version 1 and converted to ONNX once for all
    04.3 tests: (folder, ONNX file, ONNX scores of the white wines, SavedModel scores of the same wines)."""
    x_train, _, y_train, _ = red_split
    keras.utils.set_random_seed(42)
    trained = checks.reference_wine_model(x_train)
    trained.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    trained.fit(export.as_inputs(x_train), {"quality": y_train.to_numpy("float32")}, epochs=1, verbose=0)
    folder = export.export_savedmodel(trained, 1, tmp_path_factory.mktemp("models") / "wine")
    onnx_file = export.savedmodel_to_onnx(folder, tmp_path_factory.mktemp("onnx") / "wine.onnx")
    savedmodel = export.predict_signature(export.load_signature(folder), white)
    return folder, onnx_file, export.predict_onnx(onnx_file, white), savedmodel


@pytest.fixture
def no_reference_conversion(monkeypatch):
    """Wrong answers fall back to the reference, which converts again (seconds): replaced where it is not the
    point, by a marker the tests recognise."""
    monkeypatch.setattr(checks, "_reference_parity", lambda version_folder, wines: "reference")


def solved_with_onnxruntime(onnx_file, white):
    """The solution's way: a session fed by input name, from the renamed columns."""
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    measurements = white[data.FEATURES].rename(columns=export.INPUT_NAMES)
    feed = {tensor.name: measurements[tensor.name].to_numpy(np.float32) for tensor in session.get_inputs()}
    return session.run([export.OUTPUT], feed)[0].reshape(-1)


def test_parity_correct(capsys, exported, white):
    folder, onnx_file, _, savedmodel = exported
    scores = solved_with_onnxruntime(onnx_file, white)
    largest = float(np.max(np.abs(scores - savedmodel)))
    answer = checks.check_onnx_parity(scores, largest, largest <= export.PARITY_TOLERANCE, onnx_file, folder, white)
    assert answer[1] == largest
    assert verdict_of(capsys, "04.3")[0] == "correct"


def test_parity_run_by_output_name_and_tf_saved_model_load_is_correct(capsys, exported, white):
    """Another right way: inputs matched to the CSV's columns by a loop, shaped as the session says, all outputs
    asked for (None) and picked by name, the SavedModel loaded with tf.saved_model.load, the largest difference
    taken in a loop (a numpy float32 comes back) and the decision a numpy bool."""
    folder, onnx_file, _, _ = exported
    column_of = {name: feature for feature, name in export.INPUT_NAMES.items()}
    session = onnxruntime.InferenceSession(str(onnx_file))
    feeds = {
        i.name: white[column_of[i.name]].to_numpy(np.float32).reshape(-1, *([1] * (len(i.shape) - 1)))
        for i in session.get_inputs()
    }
    names = [output.name for output in session.get_outputs()]
    scores = dict(zip(names, session.run(None, feeds), strict=True))["quality"]
    serving = tf.saved_model.load(str(folder)).signatures["serving_default"]
    savedmodel = serving(**{name: tf.constant(values) for name, values in feeds.items()})["quality"].numpy()
    largest = max(abs(a - b) for a, b in zip(scores.reshape(-1), savedmodel.reshape(-1), strict=True))
    decision = np.less_equal(largest, export.PARITY_TOLERANCE)
    checks.check_onnx_parity(scores.tolist(), largest, decision, str(onnx_file), folder, white)
    assert verdict_of(capsys, "04.3")[0] == "correct"


def test_parity_not_solved_computes_the_reference(capsys, exported, white):
    folder, _, onnx, savedmodel = exported
    scores, largest, holds = checks.check_onnx_parity(..., ..., ..., ..., folder, white)
    assert verdict_of(capsys, "04.3")[0] == "not solved yet"
    assert largest == pytest.approx(float(np.max(np.abs(onnx - savedmodel))), rel=1e-6, abs=1e-12)
    assert holds is True
    assert np.allclose(scores, onnx)


def test_parity_onnx_file_not_solved(capsys, exported, white, no_reference_conversion):
    folder, _, onnx, _ = exported
    checks.check_onnx_parity(onnx, 0.0, True, ..., folder, white)
    assert verdict_of(capsys, "04.3")[0] == "not solved yet"


def test_parity_wrong_scores(capsys, exported, white, no_reference_conversion):
    folder, onnx_file, onnx, savedmodel = exported
    largest = float(np.max(np.abs(onnx - savedmodel)))
    reversed_columns = white[data.FEATURES[::-1]].to_numpy(np.float32)  # the columns in the wrong order
    session = onnxruntime.InferenceSession(str(onnx_file))
    wrong_order = session.run([export.OUTPUT], {name: reversed_columns[:, i] for i, name in enumerate(export.INPUTS)})[
        0
    ]
    red = export.predict_onnx(onnx_file, data.load_wine("red").head(len(white)))
    cases = [
        (wrong_order, "feed each input by its name"),
        (red, "feed each input by its name"),
        (onnx[:10], "holds 10 numbers for the 400 white wines"),
        ({"quality": onnx}, "session.run returns a list"),
        (savedmodel + 2 * export.PARITY_TOLERANCE, "feed each input by its name"),
    ]
    for scores, fragment in cases:
        assert checks.check_onnx_parity(scores, largest, True, onnx_file, folder, white) == "reference"
        assert_not_quite(capsys, "04.3", fragment)


def test_parity_wrong_numbers_and_decisions(capsys, exported, white, no_reference_conversion):
    folder, onnx_file, onnx, savedmodel = exported
    errors = onnx.astype(np.float64) - savedmodel.astype(np.float64)
    largest = float(np.max(np.abs(errors)))
    cases = [
        (0.6, True, "not with quality"),
        (np.abs(errors), True, "reduce the differences"),
        ("0.0", True, "one number"),
        (largest * 3 + 1e-3, True, "differ by at most"),
        (largest, False, "parity_holds is False"),
        (largest, "yes", "your decision"),
    ]
    signed = [float(v) for v in (np.max(errors), np.min(errors)) if not np.isclose(v, largest, rtol=1e-3, atol=1e-12)]
    if signed:
        cases.append((signed[0], True, "take the absolute differences first"))
    mean = float(np.mean(np.abs(errors)))
    if not np.isclose(mean, largest, rtol=1e-3):
        cases.append((mean, True, "the mean of the differences"))
    for number, decision, fragment in cases:
        assert checks.check_onnx_parity(onnx, number, decision, onnx_file, folder, white) == "reference"
        assert_not_quite(capsys, "04.3", fragment)


def test_the_clip_survives_the_export_and_the_conversion(exported, red_split, white):
    """The clipped model of 04.1 goes through 04.2 and 04.3: the SavedModel and the ONNX file clip a glitch (alcohol
    10x too high) to the training max, the white wines outside the red range included, at parity."""
    folder, onnx_file, onnx, savedmodel = exported
    x_train = red_split[0]
    high = x_train["alcohol"].max()
    wines = x_train.head(20).assign(alcohol=high)
    glitched = wines.assign(alcohol=10 * high)
    serving = export.load_signature(folder)
    for predict in (
        lambda frame: export.predict_signature(serving, frame),
        lambda frame: export.predict_onnx(onnx_file, frame),
    ):
        assert np.max(np.abs(predict(glitched) - predict(wines))) <= checks.CLIP_TOLERANCE
    outside = (white[data.FEATURES] > x_train[data.FEATURES].max()).any(axis=1)
    assert outside.sum() > 10  # the white wines do test the clip
    assert export.max_abs_difference(onnx, savedmodel) <= export.PARITY_TOLERANCE


def test_parity_float64_feed_is_refused_by_onnxruntime(exported, white):
    """Why the session's input types matter: onnxruntime refuses float64 for a float input."""
    _, onnx_file, _, _ = exported
    session = onnxruntime.InferenceSession(str(onnx_file))
    measurements = white[data.FEATURES].rename(columns=export.INPUT_NAMES)
    assert session.get_inputs()[0].type == "tensor(float)"
    with pytest.raises(Exception, match="(?i)type"):
        session.run(None, {name: measurements[name].to_numpy(np.float64) for name in export.INPUTS})


def test_parity_onnx_of_another_model(capsys, exported, red_split, white, tmp_path, no_reference_conversion):
    folder, _, onnx, _ = exported
    x_train, _, y_train, _ = red_split
    other = export.sklearn_to_onnx(export.fit_sklearn_model(x_train, y_train), tmp_path / "elasticnet.onnx")
    checks.check_onnx_parity(onnx, 0.0, True, other, folder, white)
    assert_not_quite(capsys, "04.3", "disagree by up to")


def test_parity_onnx_file_missing(capsys, exported, white, tmp_path, no_reference_conversion):
    folder, _, onnx, _ = exported
    checks.check_onnx_parity(onnx, 0.0, True, tmp_path / "missing.onnx", folder, white)
    assert_not_quite(capsys, "04.3", "onnx_file should be the path")
