"""What we expect of the models on the red wines, beyond "it trains": better than guessing, stable, sensible.

All on the course's split: red wines, duplicates removed, test_size 0.2, seed 42 (1087 train / 272 test).
"""

import numpy as np
import pandas as pd
import pytest

from workshop_lib import data, evaluate, train

SEED, TEST_SIZE = 42, 0.2
ELASTICNET = {"model": "elasticnet", "alpha": 0.1, "l1_ratio": 0.5}
RANDOM_FOREST = {"model": "random_forest", "n_estimators": 100, "max_depth": None}
BASELINE = {"model": "baseline"}

# A model must beat "always predict the training mean" (MAE 0.70) by at least a tenth of a quality
# point: scores are whole numbers from 3 to 8, so less than that is noise a taster would not notice,
# and a model that only ties the baseline has learnt nothing. ElasticNet (MAE 0.52) and the random
# forest (0.47) clear it comfortably, so the test fails on a real regression, not on the split's luck.
MIN_MAE_GAIN_OVER_BASELINE = 0.1


@pytest.fixture(scope="module")
def red_split():
    return data.split(data.load_wine("red"), test_size=TEST_SIZE, seed=SEED)


def fit(train_params: dict, x_train, y_train):
    return train.build_model({**train_params, "seed": SEED}).fit(x_train, y_train)


@pytest.fixture(scope="module")
def fitted(red_split):
    """One fit per model for the whole module (the forest is the slow one)."""
    x_train, _, y_train, _ = red_split
    return {
        name: fit(params, x_train, y_train)
        for name, params in {"baseline": BASELINE, "elasticnet": ELASTICNET, "random_forest": RANDOM_FOREST}.items()
    }


# --- better than guessing --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["elasticnet", "random_forest"])
def test_model_beats_the_baseline_by_the_margin(name, fitted, red_split):
    _, x_test, _, y_test = red_split
    baseline = evaluate.regression_metrics(y_test, fitted["baseline"].predict(x_test))
    model = evaluate.regression_metrics(y_test, fitted[name].predict(x_test))
    assert model["mae"] <= baseline["mae"] - MIN_MAE_GAIN_OVER_BASELINE, (model, baseline)
    assert model["r2"] > baseline["r2"]


def test_the_baseline_explains_nothing(fitted, red_split):
    """Sanity of the yardstick: the mean of the training scores has R² of about zero on new wines."""
    _, x_test, _, y_test = red_split
    assert abs(evaluate.regression_metrics(y_test, fitted["baseline"].predict(x_test))["r2"]) < 0.05


# --- invariance and determinism --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["elasticnet", "random_forest"])
def test_the_order_of_the_wines_to_predict_does_not_change_any_prediction(name, fitted, red_split):
    """Each wine is scored on its own: a batch in another order gets the same score per wine."""
    _, x_test, _, _ = red_split
    shuffled = x_test.sample(frac=1, random_state=0)
    expected = pd.Series(fitted[name].predict(x_test), index=x_test.index)
    got = pd.Series(fitted[name].predict(shuffled), index=shuffled.index)
    assert not shuffled.index.equals(x_test.index)
    np.testing.assert_allclose(got.loc[x_test.index], expected, rtol=0, atol=1e-12)


def test_the_order_of_the_training_rows_does_not_change_elasticnet(fitted, red_split):
    """ElasticNet minimises one convex loss: the row order of the training data cannot matter."""
    x_train, x_test, y_train, _ = red_split
    order = np.random.default_rng(0).permutation(len(x_train))
    permuted = fit(ELASTICNET, x_train.iloc[order], y_train.iloc[order])
    np.testing.assert_allclose(permuted.predict(x_test), fitted["elasticnet"].predict(x_test), rtol=0, atol=1e-8)


@pytest.mark.parametrize(
    "name, params", [("elasticnet", ELASTICNET), ("random_forest", RANDOM_FOREST)], ids=["elasticnet", "random_forest"]
)
def test_training_twice_with_the_same_seed_gives_identical_predictions(name, params, fitted, red_split):
    """Reproducible: the same data, parameters and seed give the same model, so a metric can be trusted."""
    x_train, x_test, y_train, _ = red_split
    again = fit(params, x_train, y_train)
    np.testing.assert_array_equal(again.predict(x_test), fitted[name].predict(x_test))


# --- domain knowledge ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "feature, direction",
    [
        (
            "alcohol",
            +1,
        ),  # riper grapes, fuller body; in these data the measurement most correlated with quality (+0.48)
        ("volatile acidity", -1),  # mostly acetic acid: at high levels the wine tastes of vinegar (-0.39)
    ],
    ids=["more_alcohol_scores_higher", "more_volatile_acidity_scores_lower"],
)
def test_elasticnet_moves_quality_the_way_winemakers_expect(feature, direction, fitted, red_split):
    """With every other measurement at its median, predicted quality follows the feature in the expected direction."""
    x_train, _, _, _ = red_split
    values = np.linspace(x_train[feature].quantile(0.05), x_train[feature].quantile(0.95), 10)
    wines = pd.DataFrame([x_train.median()] * len(values)).assign(**{feature: values})
    steps = np.diff(fitted["elasticnet"].predict(wines[data.FEATURES]))
    assert (direction * steps > 0).all(), steps


# --- the spreadsheet of the original talk ----------------------------------------------------------

L1_RATIOS = [1, 0.5, 0.2, 0]  # from lasso towards ridge, at alpha = 1


def spreadsheet_row(l1_ratio: float) -> dict:
    settings = {
        "data": {"source": "red", "test_size": TEST_SIZE, "seed": SEED},
        "train": {"model": "elasticnet", "alpha": 1.0, "l1_ratio": l1_ratio},
    }
    model, metrics, _ = train.train_and_evaluate(settings, frame=data.load_wine("red"))
    return metrics | {"coefficients": model[-1].coef_}


@pytest.fixture(scope="module")
def spreadsheet():
    return [spreadsheet_row(l1_ratio) for l1_ratio in L1_RATIOS]


def test_spreadsheet_trend_less_l1_means_lower_mae_and_higher_r2(spreadsheet):
    """The talk's hand-kept table (alpha=1): as l1_ratio goes 1 -> 0.5 -> 0.2 -> 0, MAE never rises, R² never falls."""
    maes = [row["mae"] for row in spreadsheet]
    r2s = [row["r2"] for row in spreadsheet]
    assert all(later <= earlier for earlier, later in zip(maes, maes[1:])), maes
    assert all(later >= earlier for earlier, later in zip(r2s, r2s[1:])), r2s
    assert maes[-1] < maes[0] - MIN_MAE_GAIN_OVER_BASELINE  # and the trend is not flat


def test_a_strong_lasso_drops_every_feature_and_is_the_baseline(spreadsheet, fitted, red_split):
    """alpha=1, l1_ratio=1 on standardised features zeroes every coefficient: it predicts the mean."""
    _, x_test, _, y_test = red_split
    assert not spreadsheet[0]["coefficients"].any()
    baseline = evaluate.regression_metrics(y_test, fitted["baseline"].predict(x_test))
    assert spreadsheet[0]["mae"] == pytest.approx(baseline["mae"])
