"""The checks of module 01 say "correct" to right answers, "not quite" (with a hint) to wrong ones and
"not solved yet" to the placeholder; they never raise, and they always hand back something usable."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import ElasticNet
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.checks import exploration
from workshop_lib.config import WINE_DATA_DIR


@pytest.fixture(scope="module")
def red() -> pd.DataFrame:
    return pd.read_csv(WINE_DATA_DIR / "winequality-red.csv")


@pytest.fixture(scope="module")
def split(red):
    """(X_train, y_train, X_test, y_test) of the distinct red wines."""
    unique = red.drop_duplicates()
    x_train, x_test, y_train, y_test = train_test_split(
        unique.drop(columns="quality"), unique["quality"], test_size=0.2, random_state=42
    )
    return x_train, y_train, x_test, y_test


@pytest.fixture(scope="module")
def good_wine():
    """Truth and flags like the notebook's: 10 good wines of 80, the model flags 4 (3 of them good)."""
    truth = np.array([1] * 10 + [0] * 70)
    flags = np.array([1, 1, 1] + [0] * 7 + [1] + [0] * 69)
    return truth, flags


def verdict_of(capsys) -> str:
    return capsys.readouterr().out


def assert_correct(out: str, exercise: str):
    assert f"Exercise {exercise} — correct" in out, out


def assert_not_quite(out: str, exercise: str, *words: str):
    assert f"Exercise {exercise} — not quite" in out, out
    assert "Hint:" in out and "reference result" in out, out
    for word in words:
        assert word in out, f"{word!r} not in {out!r}"


def assert_not_solved(out: str, exercise: str):
    assert f"Exercise {exercise} — not solved yet" in out, out


# 01.1 -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def white() -> pd.DataFrame:
    return pd.read_csv(WINE_DATA_DIR / "winequality-white.csv")


@pytest.fixture(scope="module")
def leaky_white(white):
    """(train, test, predictions): the colleague's split of 01.1, duplicates still in, and both models' predictions."""
    train, test = train_test_split(white, test_size=0.2, random_state=42)
    x_train, y_train = train.drop(columns="quality"), train["quality"]
    models = {
        "forest": RandomForestRegressor(n_estimators=30, random_state=42, n_jobs=1),
        "elasticnet": make_pipeline(StandardScaler(), ElasticNet(alpha=0.1, l1_ratio=0.5, random_state=42)),
    }
    predictions = {
        name: model.fit(x_train, y_train).predict(test.drop(columns="quality")) for name, model in models.items()
    }
    return train, test, predictions


def twins_by_merge(train, test) -> int:
    """Another way to count: a left merge on every column, with the training wines made unique first."""
    merged = test.merge(train.drop_duplicates(), how="left", indicator=True)
    return int((merged["_merge"] == "both").sum())


def test_twins_reference_is_correct(leaky_white, capsys):
    train, test, predictions = leaky_white
    count = int(pd.MultiIndex.from_frame(test).isin(pd.MultiIndex.from_frame(train)).sum())
    assert exploration.check_twins(count, "forest", *leaky_white) == (count, "forest")
    out = verdict_of(capsys)
    assert_correct(out, "01.1")
    assert f"{count} of {len(test)} test wines" in out


@pytest.mark.parametrize("flattered", ["random forest", "The Forest", "RandomForestRegressor"])
def test_twins_counted_another_way_and_named_freely_is_correct(leaky_white, capsys, flattered):
    train, test, _ = leaky_white
    assert exploration.check_twins(np.int64(twins_by_merge(train, test)), flattered, *leaky_white)[1] == flattered
    assert_correct(verdict_of(capsys), "01.1")


@pytest.mark.parametrize("answer", [(..., ...), (286, ...), (..., "forest")], ids=["both", "flattered", "n_twins"])
def test_twins_placeholder_is_not_solved(leaky_white, capsys, answer):
    n_twins, flattered = exploration.check_twins(*answer, *leaky_white)
    assert_not_solved(verdict_of(capsys), "01.1")
    assert flattered == "forest" and n_twins == twins_by_merge(*leaky_white[:2])


def wrong_counts(train, test) -> dict[str, int]:
    return {
        "whole set": int(pd.concat([train, test]).duplicated().sum()),
        "inside test": int(test.duplicated().sum()),
        "other way round": twins_by_merge(test, train),
    }


@pytest.mark.parametrize(
    "which, words",
    [
        ("whole set", ["both sides of the split"]),
        ("inside test", ["repeat another test wine"]),
        ("other way round", ["the other way round"]),
    ],
)
def test_twins_wrong_counts_are_explained(leaky_white, capsys, which, words):
    count = wrong_counts(*leaky_white[:2])[which]
    exploration.check_twins(count, "forest", *leaky_white)
    assert_not_quite(verdict_of(capsys), "01.1", f"n_twins is {count}", *words)


@pytest.mark.parametrize(
    "flattered, words",
    [
        ("both", ["for the ElasticNet", "which model does memorising help"]),
        ("elasticnet", ["the ElasticNet is", "the random forest"]),
        ("neither", ["for the forest"]),
        ("the split", ['answer "forest"']),
        (True, ["a model's name"]),
    ],
)
def test_twins_wrong_decisions_are_explained(leaky_white, capsys, flattered, words):
    count = twins_by_merge(*leaky_white[:2])
    assert exploration.check_twins(count, flattered, *leaky_white) == (count, "forest")
    assert_not_quite(verdict_of(capsys), "01.1", *words)


@pytest.mark.parametrize("answer", ["286", None, [286], True, float("nan")])
def test_twins_wrong_types_are_not_quite(leaky_white, capsys, answer):
    exploration.check_twins(answer, "forest", *leaky_white)
    assert_not_quite(verdict_of(capsys), "01.1", "n_twins")


# 01.2 -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regions(red, white, split):
    """The arguments of check_region_baseline after the answer: the white split and the red model's scores."""
    x_train, y_train, x_test, y_test = split
    unique = white.drop_duplicates()
    _, wx_test, wy_train, wy_test = train_test_split(
        unique.drop(columns="quality"), unique["quality"], test_size=0.2, random_state=42
    )
    model = make_pipeline(StandardScaler(), ElasticNet(alpha=0.1, l1_ratio=0.5, random_state=42)).fit(x_train, y_train)
    red_model_red = mean_absolute_error(y_test, model.predict(x_test))
    red_model_white = mean_absolute_error(wy_test, model.predict(wx_test))
    red_baseline_red = mean_absolute_error(y_test, np.full(len(y_test), y_train.mean()))
    return wy_train, wy_test, y_train, red_model_white, red_model_red, red_baseline_red


def test_region_baseline_median_is_correct(regions, capsys):
    wy_train, wy_test = regions[:2]
    answer = float(np.mean(np.abs(wy_test - np.median(wy_train))))
    assert exploration.check_region_baseline(answer, True, *regions) == (answer, True)
    assert_correct(verdict_of(capsys), "01.2")


def test_region_baseline_with_a_dummy_regressor_is_correct(regions, capsys):
    """The mean baseline, the lesson's tool, written another way: a DummyRegressor and sklearn's MAE."""
    wy_train, wy_test = regions[:2]
    dummy = DummyRegressor().fit(np.zeros((len(wy_train), 1)), wy_train)
    answer = mean_absolute_error(wy_test, dummy.predict(np.zeros((len(wy_test), 1))))
    assert exploration.check_region_baseline(answer, np.True_, *regions)[0] == answer
    assert_correct(verdict_of(capsys), "01.2")


@pytest.mark.parametrize("answer", [(..., ...), (0.65, ...), (..., True)], ids=["both", "retrain", "baseline"])
def test_region_baseline_placeholder_is_not_solved(regions, capsys, answer):
    if answer[0] == 0.65:  # a right baseline, the decision still open
        answer = (float(np.mean(np.abs(regions[1] - regions[0].mean()))), ...)
    baseline, retrain = exploration.check_region_baseline(*answer, *regions)
    assert_not_solved(verdict_of(capsys), "01.2")
    assert retrain is True and 0.6 < baseline < 0.8


def wrong_baselines(wy_train, wy_test, y_train, red_model_white, *_) -> dict[str, float]:
    def constant(fitted_on, scored_on):
        return mean_absolute_error(scored_on, np.full(len(scored_on), np.mean(fitted_on)))

    return {
        "red": constant(y_train, wy_test),
        "test": constant(wy_test, wy_test),
        "train": constant(wy_train, wy_train),
        "mse": mean_squared_error(wy_test, np.full(len(wy_test), np.mean(wy_train))),
        "model": red_model_white,
        "made up": 0.5,
    }


@pytest.mark.parametrize(
    "which, words",
    [
        ("red", ["baseline of the red wines"]),
        ("test", ["fitted on the white test wines"]),
        ("train", ["scored on the white training wines"]),
        ("mse", ["mean squared error"]),
        ("model", ["the red model's MAE"]),
        ("made up", ["not the MAE of a constant"]),
    ],
)
def test_region_baseline_wrong_numbers_are_explained(regions, capsys, which, words):
    exploration.check_region_baseline(wrong_baselines(*regions)[which], True, *regions)
    assert_not_quite(verdict_of(capsys), "01.2", *words)


@pytest.mark.parametrize(
    "retrain, words", [(False, ["is that still a model worth shipping"]), ("yes", ["True or False"])]
)
def test_region_baseline_wrong_decisions_are_explained(regions, capsys, retrain, words):
    wy_train, wy_test = regions[:2]
    answer = float(np.mean(np.abs(wy_test - wy_train.mean())))
    assert exploration.check_region_baseline(answer, retrain, *regions)[1] is True
    assert_not_quite(verdict_of(capsys), "01.2", *words)


# 01.3 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", [recall_score, f1_score])
def test_good_wine_recall_or_f1_is_correct(good_wine, capsys, metric):
    answer = metric(*good_wine)
    assert exploration.check_good_wine_metric(answer, *good_wine) == answer
    assert_correct(verdict_of(capsys), "01.3")


def test_good_wine_accuracy_is_rejected_with_the_reason(good_wine, capsys):
    result = exploration.check_good_wine_metric(accuracy_score(*good_wine), *good_wine)
    out = verdict_of(capsys)
    assert_not_quite(out, "01.3", "accuracy", "always says 'not good'", "0.875")
    assert result == pytest.approx(f1_score(*good_wine))


def test_good_wine_precision_is_explained(good_wine, capsys):
    exploration.check_good_wine_metric(precision_score(*good_wine), *good_wine)
    assert_not_quite(verdict_of(capsys), "01.3", "precision", "missed")


def test_good_wine_score_of_the_wrong_class_is_explained(good_wine, capsys):
    exploration.check_good_wine_metric(recall_score(*good_wine, pos_label=0), *good_wine)
    assert_not_quite(verdict_of(capsys), "01.3", "'not good' class")


def test_good_wine_placeholder_is_not_solved(good_wine, capsys):
    result = exploration.check_good_wine_metric(..., *good_wine)
    assert_not_solved(verdict_of(capsys), "01.3")
    assert result == pytest.approx(f1_score(*good_wine))


@pytest.mark.parametrize("answer", ["recall", {"recall": 0.3}, np.array([0.3, 0.4])])
def test_good_wine_wrong_types_are_not_quite(good_wine, capsys, answer):
    result = exploration.check_good_wine_metric(answer, *good_wine)
    assert_not_quite(verdict_of(capsys), "01.3")
    assert result == pytest.approx(f1_score(*good_wine))


# 01.4 -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    truth = pd.Series(rng.integers(3, 9, size=50), index=rng.permutation(50))  # a shuffled index, like y_test
    return truth, truth.to_numpy() + rng.normal(0, 0.7, size=50)


def correct_rmse(y_true, y_pred):
    errors = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean(errors**2)))


def test_rmse_correct_function_is_returned(predictions, capsys):
    assert exploration.check_rmse(correct_rmse, *predictions) is correct_rmse
    assert_correct(verdict_of(capsys), "01.4")


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda t, p: float(np.mean((np.asarray(t) - p) ** 2)), ["mean squared error", "square root"]),
        (lambda t, p: float(np.mean(np.abs(np.asarray(t) - p))), ["mean absolute error"]),
        (lambda t, p: float(np.sqrt(np.sum((np.asarray(t) - p) ** 2))), ["sum"]),
        (lambda t, p: 1.0, ["expected"]),
    ],
)
def test_rmse_wrong_functions_are_explained_and_replaced(predictions, capsys, wrong, words):
    result = exploration.check_rmse(wrong, *predictions)
    assert_not_quite(verdict_of(capsys), "01.4", *words)
    assert result(*predictions) == pytest.approx(correct_rmse(*predictions))


def test_rmse_placeholder_function_is_not_solved(predictions, capsys):
    def rmse(y_true, y_pred):
        return ...

    result = exploration.check_rmse(rmse, *predictions)
    assert_not_solved(verdict_of(capsys), "01.4")
    assert result(*predictions) == pytest.approx(correct_rmse(*predictions))


def test_rmse_placeholder_is_not_solved(predictions, capsys):
    exploration.check_rmse(..., *predictions)
    assert_not_solved(verdict_of(capsys), "01.4")


@pytest.mark.parametrize("answer", ["rmse", 0.66, lambda t, p: "0.66", lambda t, p: 1 / 0])
def test_rmse_wrong_types_and_crashes_are_not_quite(predictions, capsys, answer):
    result = exploration.check_rmse(answer, *predictions)
    assert_not_quite(verdict_of(capsys), "01.4")
    assert callable(result)


# Alternative correct answers: written another way than the solution notebook, they must get "correct" too.


def test_good_wine_recall_counted_with_numpy_is_correct(good_wine, capsys):
    truth, flags = good_wine
    found = np.sum((truth == 1) & (flags == 1))
    answer = found / np.sum(truth == 1)  # recall by hand: the good wines found, of all the good wines
    assert exploration.check_good_wine_metric(answer, truth, flags) == answer
    assert_correct(verdict_of(capsys), "01.3")


def test_good_wine_f1_from_precision_and_recall_is_correct(good_wine, capsys):
    precision, recall = precision_score(*good_wine), recall_score(*good_wine)
    answer = 2 * precision * recall / (precision + recall)  # the harmonic mean, in another order of steps
    exploration.check_good_wine_metric(answer, *good_wine)
    assert_correct(verdict_of(capsys), "01.3")


def test_rmse_with_a_plain_python_loop_is_correct(predictions, capsys):
    def rmse(y_true, y_pred):
        squared = [(float(truth) - float(predicted)) ** 2 for truth, predicted in zip(y_true, y_pred)]
        return math.sqrt(sum(squared) / len(squared))

    assert exploration.check_rmse(rmse, *predictions) is rmse
    assert_correct(verdict_of(capsys), "01.4")


def test_rmse_with_sklearn_mean_squared_error_is_correct(predictions, capsys):
    def rmse(y_true, y_pred):
        return mean_squared_error(y_true, y_pred) ** 0.5  # a numpy float64, not a float

    assert exploration.check_rmse(rmse, *predictions) is rmse
    assert_correct(verdict_of(capsys), "01.4")
