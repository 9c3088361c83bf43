"""The take-home rubric is not vacuous: a finished project is judged done, every criterion accepts other right
ways, and typical mistakes are named.

One project is built once per module, the long way a participant would (a DVC experiment of a family the
course does not have, a Keras candidate exported as version 2, the shadow scores, the gate), then copied
into each test's own folder, so a test changes only its copy. Models train for a few epochs: the rubric
judges files, versions and what a real model server answers, not how good a model is.
"""

import json
import shutil

import keras
import numpy as np
import pandas as pd
import pytest

from course.checks import CORRECT, NOT_SOLVED, WRONG
from course.checks import take_home as checks
from workshop_lib import cycle, data, export

pytestmark = pytest.mark.xdist_group("take_home")  # one worker builds the project once

BOOSTING = """    if name == "boosting":
        from sklearn.ensemble import GradientBoostingRegressor

        return make_pipeline(GradientBoostingRegressor(n_estimators=50, random_state=seed))
"""


def add_family(home, name="boosting", code=BOOSTING):
    """Teach the project's own copy of workshop_lib a model family, as a participant would in the editor."""
    train = home.project / "workshop_lib" / "train.py"
    train.write_text(
        train.read_text().replace('    raise ValueError(f"unknown model', code + '    raise ValueError(f"unknown model')
    )
    params = home.project / "workshop_lib" / "params.py"
    params.write_text(params.read_text().replace('"random_forest")', f'"random_forest", "{name}")', 1))


def wide_net(train, epochs=3, seed=1):
    """A candidate of another design than version 1: two hidden layers, the scaling adapted inside."""
    keras.utils.set_random_seed(seed)
    inputs = {name: keras.Input(shape=(), dtype="float32", name=name) for name in export.INPUTS}
    columns = keras.layers.Concatenate()([keras.layers.Reshape((1,))(inputs[name]) for name in export.INPUTS])
    scale = keras.layers.Normalization()
    scale.adapt(train[data.FEATURES].to_numpy("float32"))
    hidden = keras.layers.Dense(16, activation="tanh")(keras.layers.Dense(32, activation="relu")(scale(columns)))
    model = keras.Model(inputs, {"quality": keras.layers.Reshape(())(keras.layers.Dense(1)(hidden))})
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(export.as_inputs(train), {"quality": train[data.TARGET].to_numpy("float32")}, epochs=epochs, verbose=0)
    return model


def shadow_scores(home, version):
    wines = pd.read_csv(home.shadow_wines)
    return export.predict_signature(export.load_signature(home.base_path / str(version)), wines)


def write_shadow(home, candidate=2):
    wines = pd.read_csv(home.shadow_wines)
    shadow = pd.DataFrame(
        {"request_id": wines["request_id"], "stable": shadow_scores(home, 1), "canary": shadow_scores(home, candidate)}
    )
    shadow.to_csv(home.shadow, index=False)
    return shadow


def write_gate(home):
    candidate, production, promote, reason = checks.reference_gate(home)
    home.gate.write_text(
        json.dumps({"candidate": candidate, "production": production, "promote": promote, "reason": reason})
    )
    return promote


def config_text(versions, labels):
    policy = " ".join(f"versions: {number}" for number in versions)
    blocks = "".join(f'    version_labels {{ key: "{key}" value: {value} }}\n' for key, value in labels.items())
    return (
        'model_config_list {\n  config {\n    name: "wine"\n    base_path: "/models/wine"\n'
        f'    model_platform: "tensorflow"\n    model_version_policy {{ specific {{ {policy} }} }}\n{blocks}  }}\n}}\n'
    )


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory):
    """The project as prepare() hands it over: nothing done yet."""
    return checks.prepare(tmp_path_factory.mktemp("take-home") / "handed-over", epochs=2)


@pytest.fixture(scope="module")
def finished(handed_over, tmp_path_factory):
    """The project with every step done (the decision is whatever the gate says)."""
    home = checks.Home(tmp_path_factory.mktemp("take-home") / "finished")
    shutil.copytree(handed_over.folder, home.folder)
    add_family(home)
    for name, model in (("boosting", "boosting"), ("net", "elasticnet")):
        home.dvc.dvc("exp", "run", "--quiet", "--name", name, "--set-param", f"train.model={model}", show=False)
    export.export_savedmodel(wide_net(pd.read_csv(home.train_wines)), 2, home.base_path)
    write_shadow(home)
    promote = write_gate(home)
    labels = {"stable": 2} if promote else {"stable": 1}
    home.models_config.write_text(config_text([1, 2], labels))
    return home


@pytest.fixture
def project(finished, tmp_path):
    """This test's own copy of the finished project."""
    home = checks.Home(tmp_path / "project")
    shutil.copytree(finished.folder, home.folder)
    return home


def status(home, exercise):
    return checks.judge(home, exercise)


def assert_wrong(home, exercise, *fragments):
    result = status(home, exercise)
    assert result.status == WRONG, result
    assert result.hint, result
    for fragment in fragments:
        assert fragment in result.message, result
    return result


# --- the whole project ------------------------------------------------------------------------------------------


def test_a_finished_project_is_done_on_every_criterion(finished, capsys):
    table = checks.rubric(finished)
    assert list(table["status"]) == ["done"] * 5, table.to_string()
    assert "5 of 5 criteria done" in capsys.readouterr().out
    assert "boosting" in table.loc[0, "what the rubric saw"]


def test_a_handed_over_project_is_missing_everything_and_says_what(handed_over, capsys):
    results = [status(handed_over, exercise) for exercise, *_ in checks.CRITERIA]
    assert [result.status for result in results] == [NOT_SOLVED] * 5, results
    assert "dvc exp run" in results[0].message
    assert "only version 1" in results[1].message
    assert "shadow.csv" in results[2].message
    table = checks.rubric(handed_over)
    assert list(table["status"]) == ["missing"] * 5
    assert "0 of 5 criteria done" in capsys.readouterr().out


def test_prepare_again_keeps_what_the_participant_made(project, capsys):
    before = {path: path.read_bytes() for path in (project.shadow, project.gate, project.models_config)}
    checks.prepare(project.folder, epochs=2)
    assert "nothing was changed" in capsys.readouterr().out
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(checks.versions.list_versions(project.base_path)) == [1, 2]


def test_the_shadow_wines_are_held_out_from_the_training_wines_and_carry_no_score(handed_over):
    train, shadow = pd.read_csv(handed_over.train_wines), pd.read_csv(handed_over.shadow_wines)
    assert data.TARGET not in shadow
    assert set(shadow["region"]) == {"red", "white"}
    assert not train.merge(shadow, on=data.FEATURES).shape[0], "a shadow wine is also a training wine"
    assert len(pd.read_csv(handed_over.labels)) == len(shadow)


# --- 08.1 the experiment ----------------------------------------------------------------------------------------


def test_another_family_under_another_name_next_to_the_forest_is_right(handed_over, tmp_path):
    home = checks.Home(tmp_path / "project")
    shutil.copytree(handed_over.folder, home.folder)
    neighbours = """    if name == "nearest_neighbours":
        from sklearn.neighbors import KNeighborsRegressor

        return make_pipeline(features.scaler(), KNeighborsRegressor(n_neighbors=15))
"""
    add_family(home, "nearest_neighbours", neighbours)
    home.dvc.dvc("exp", "run", "--quiet", "--set-param", "train.model=nearest_neighbours", show=False)  # unnamed
    home.dvc.dvc("exp", "run", "--quiet", "--set-param", "train.model=random_forest", "-S", "train.n_estimators=20")
    result = status(home, "08.1")
    assert result.status == CORRECT, result
    assert "nearest_neighbours" in result.message and "random_forest" in result.message


def test_only_course_families_are_named(handed_over, tmp_path):
    home = checks.Home(tmp_path / "project")
    shutil.copytree(handed_over.folder, home.folder)
    home.dvc.dvc("exp", "run", "--quiet", "--set-param", "train.model=random_forest", "-S", "train.n_estimators=20")
    assert_wrong(home, "08.1", "only the course's model families (random_forest)", "gradient boosting")


def test_a_new_family_alone_is_not_a_comparison(handed_over, tmp_path):
    home = checks.Home(tmp_path / "project")
    shutil.copytree(handed_over.folder, home.folder)
    add_family(home)
    home.dvc.dvc("exp", "run", "--quiet", "--set-param", "train.model=boosting", show=False)
    assert_wrong(home, "08.1", "boosting has no experiment of a course model beside it")


# --- 08.2 the export ---------------------------------------------------------------------------------------------


def test_a_candidate_exported_with_model_export_as_version_5_is_right(project):
    shutil.rmtree(project.base_path / "2")
    model = wide_net(pd.read_csv(project.train_wines), seed=3)
    model.export(str(project.base_path / "5"), verbose=False)
    result = status(project, "08.2")
    assert result.status == CORRECT, result
    assert "version 5" in result.message


def test_overwriting_version_1_is_named(project):
    export.export_savedmodel(wide_net(pd.read_csv(project.train_wines).head(200), epochs=1), 1, project.base_path)
    assert_wrong(project, "08.2", "version 1 was changed")


def test_a_candidate_with_the_scaling_outside_is_named(project):
    """Trained on standardised columns, it gets the raw measurements from clients: its scores are far off."""
    train = pd.read_csv(project.train_wines)
    mean, std = train[data.FEATURES].mean(), train[data.FEATURES].std()
    scaled = train.assign(**((train[data.FEATURES] - mean) / std))
    keras.utils.set_random_seed(1)
    inputs = {name: keras.Input(shape=(), dtype="float32", name=name) for name in export.INPUTS}
    columns = keras.layers.Concatenate()([keras.layers.Reshape((1,))(inputs[name]) for name in export.INPUTS])
    quality = keras.layers.Reshape(())(keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(columns)))
    model = keras.Model(inputs, {"quality": quality})
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(export.as_inputs(scaled), {"quality": scaled[data.TARGET].to_numpy("float32")}, epochs=3, verbose=0)
    export.export_savedmodel(model, 2, project.base_path)
    assert_wrong(project, "08.2", "no better than always predicting the average", "scaling inside")


def test_a_candidate_without_the_output_name_is_named(project):
    model = wide_net(pd.read_csv(project.train_wines).head(100), epochs=1)
    export.export_savedmodel(keras.Model(model.inputs, model.output["quality"]), 2, project.base_path)
    assert_wrong(project, "08.2", "the contract's output is one score named 'quality'")


def test_a_candidate_with_one_input_for_all_measurements_is_named(project):
    inputs = keras.Input(shape=(len(data.FEATURES),), name="measurements")
    model = keras.Model(inputs, {"quality": keras.layers.Reshape(())(keras.layers.Dense(1)(inputs))})
    export.export_savedmodel(model, 2, project.base_path)
    assert_wrong(project, "08.2", "one named raw input per measurement")


# --- 08.3 the shadow ---------------------------------------------------------------------------------------------


def test_shadow_rows_in_another_order_with_more_columns_are_right(project):
    shadow = pd.read_csv(project.shadow).sample(frac=1, random_state=0)
    shadow.assign(answered_at="2026-12-03").iloc[:, ::-1].to_csv(project.shadow, index=False)
    assert status(project, "08.3").status == CORRECT


def test_stable_and_canary_swapped_are_named(project):
    shadow = pd.read_csv(project.shadow)
    shadow.rename(columns={"stable": "canary", "canary": "stable"}).to_csv(project.shadow, index=False)
    assert_wrong(project, "08.3", "the stable column holds the other version's scores")


def test_a_shadow_of_some_wines_only_is_named(project):
    pd.read_csv(project.shadow).head(100).to_csv(project.shadow, index=False)
    assert_wrong(project, "08.3", "answers 100 of the", "missing")


def test_a_shadow_without_a_canary_column_is_named(project):
    pd.read_csv(project.shadow).drop(columns=["canary"]).to_csv(project.shadow, index=False)
    assert_wrong(project, "08.3", "no column 'canary'")


def test_made_up_canary_scores_are_named(project):
    shadow = pd.read_csv(project.shadow)
    shadow.assign(canary=shadow["canary"].round(0)).to_csv(project.shadow, index=False)
    assert_wrong(project, "08.3", "the canary column is not what version 2 answers")


# --- 08.4 the gate -----------------------------------------------------------------------------------------------


def test_a_gate_computed_by_hand_with_pandas_is_right(project):
    scored = pd.read_csv(project.shadow).merge(pd.read_csv(project.labels)).merge(pd.read_csv(project.shadow_wines))
    gate = {}
    for name, column in (("candidate", "canary"), ("production", "stable")):
        errors = (scored[column] - scored["quality"]).abs()
        by_region = errors.groupby(scored["region"])
        metrics = {"mae": errors.mean(), "n_test": len(errors), "rmse": float(np.sqrt((errors**2).mean()))}
        for region in ("red", "white"):
            metrics |= {f"mae_{region}": by_region.mean()[region], f"n_{region}": int(by_region.size()[region])}
        gate[name] = {key: float(value) for key, value in metrics.items()}
    gate["promote"] = cycle.quality_gate(gate["candidate"], gate["production"])[0]
    project.gate.write_text(json.dumps(gate))  # no reason: the rubric judges the numbers and the decision
    assert status(project, "08.4").status == CORRECT


def test_a_gate_without_the_regions_is_named(project):
    gate = json.loads(project.gate.read_text())
    gate["candidate"] = {key: gate["candidate"][key] for key in ("mae", "n_test")}
    project.gate.write_text(json.dumps(gate))
    assert_wrong(project, "08.4", "candidate has no mae_red", "region")


def test_candidate_and_production_swapped_are_named(project):
    gate = json.loads(project.gate.read_text())
    gate["candidate"], gate["production"] = gate["production"], gate["candidate"]
    project.gate.write_text(json.dumps(gate))
    assert_wrong(project, "08.4", "swapped")


def test_the_opposite_decision_is_named_with_the_gates_reason(project):
    gate = json.loads(project.gate.read_text())
    gate["promote"] = not gate["promote"]
    project.gate.write_text(json.dumps(gate))
    assert_wrong(project, "08.4", "the course's gate says", "MAE")


@pytest.mark.parametrize(
    "text, fragment",
    [("{not json", "not JSON"), ('{"candidate": {}, "production": {}}', "no key 'promote'"), ("[1, 2]", "no key")],
)
def test_a_broken_gate_file_is_named(project, text, fragment):
    project.gate.write_text(text)
    assert_wrong(project, "08.4", fragment)
    assert_wrong(project, "08.5", fragment)  # the decision needs the gate first


# --- 08.5 the decision -------------------------------------------------------------------------------------------


def refused(project):
    """The project with a candidate the gate must refuse: trained for one epoch on 60 white wines."""
    train = pd.read_csv(project.train_wines)
    export.export_savedmodel(wide_net(train[train["region"] == "white"].head(60), epochs=1), 2, project.base_path)
    write_shadow(project)
    assert write_gate(project) is False
    return project


def test_a_refusal_with_the_canary_label_taken_off_is_right(project):
    refused(project)
    project.models_config.write_text(config_text([1, 2], {"stable": 1}))
    result = status(project, "08.5")
    assert result.status == CORRECT, result
    assert "version 1 stays 'stable'" in result.message


def test_a_refusal_that_leaves_the_canary_label_is_named(project):
    refused(project)
    project.models_config.write_text(config_text([1, 2], {"stable": 1, "canary": 2}))
    assert_wrong(project, "08.5", "'canary' still sends clients to it")


def test_a_decision_against_the_gate_is_named(project):
    promote = json.loads(project.gate.read_text())["promote"]
    project.models_config.write_text(config_text([1, 2], {"stable": 1 if promote else 2}))
    assert_wrong(project, "08.5", "'stable' names version")


def test_a_promotion_that_unloads_version_1_is_right(project):
    if not json.loads(project.gate.read_text())["promote"]:
        pytest.fail("the finished project's candidate should be promoted (it learnt from both regions)")
    project.models_config.write_text(config_text([2], {"stable": 2}))
    assert status(project, "08.5").status == CORRECT


def test_a_config_that_does_not_parse_is_named(project):
    project.models_config.write_text("model_config_list { config { name: 'wine' ")
    assert_wrong(project, "08.5", "does not parse")


def test_a_label_on_a_version_that_is_not_loaded_is_named(project):
    project.models_config.write_text(config_text([1], {"stable": 2}))
    assert_wrong(project, "08.5", "does not")
