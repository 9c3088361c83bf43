"""The metrics on numbers small enough to check by hand, and plots that a reader can understand."""

import math

import matplotlib

matplotlib.use("Agg")  # no window: tests run headless

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workshop_lib import evaluate  # noqa: E402

# Four wines. Errors (actual - predicted): -1, 0, 2, -1.
ACTUAL = [3, 5, 7, 5]
PREDICTED = [4, 5, 5, 6]
# By hand: MAE = (1 + 0 + 2 + 1) / 4 = 1.0; MSE = (1 + 0 + 4 + 1) / 4 = 1.5; RMSE = sqrt(1.5);
# mean actual = 5, total sum of squares = 4 + 0 + 4 + 0 = 8, residual sum of squares = 6, R² = 1 - 6/8.
BY_HAND = {"mae": 1.0, "mse": 1.5, "rmse": math.sqrt(1.5), "r2": 0.25}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_regression_metrics_match_the_hand_computation():
    metrics = evaluate.regression_metrics(ACTUAL, PREDICTED)
    assert set(metrics) == set(BY_HAND)
    for name, value in BY_HAND.items():
        assert metrics[name] == pytest.approx(value), name


def test_metrics_are_plain_floats_for_json():
    metrics = evaluate.regression_metrics(pd.Series(ACTUAL), np.array(PREDICTED))
    assert all(type(value) is float for value in metrics.values())


def test_a_perfect_prediction():
    assert evaluate.regression_metrics(ACTUAL, ACTUAL) == {"mae": 0.0, "rmse": 0.0, "r2": 1.0, "mse": 0.0}


def test_predicting_the_mean_explains_nothing():
    metrics = evaluate.regression_metrics(ACTUAL, [5.0] * 4)
    assert metrics["r2"] == pytest.approx(0.0)
    assert metrics["mae"] == pytest.approx(1.0)


@pytest.mark.parametrize("y_true, y_pred", [([5, 6, 7], [5, 6]), ([], []), ([5], [])])
def test_length_mismatch_or_empty_input_is_refused(y_true, y_pred):
    with pytest.raises(ValueError, match="non-empty and the same length"):
        evaluate.regression_metrics(y_true, y_pred)


@pytest.mark.parametrize("plot", [evaluate.plot_predicted_vs_actual, evaluate.plot_residuals])
def test_plots_have_a_title_and_labelled_axes(plot):
    ax = plot(ACTUAL, PREDICTED)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize("plot", [evaluate.plot_predicted_vs_actual, evaluate.plot_residuals])
def test_plots_draw_into_a_given_axes_with_the_given_title(plot):
    _, given = plt.subplots()
    ax = plot(np.array(ACTUAL), np.array(PREDICTED), title="ElasticNet on red", ax=given)
    assert ax is given
    assert ax.get_title() == "ElasticNet on red"


def test_predicted_vs_actual_draws_every_wine_and_the_diagonal():
    ax = evaluate.plot_predicted_vs_actual(ACTUAL, PREDICTED)
    assert len(ax.collections[0].get_offsets()) == len(ACTUAL)
    assert [line.get_label() for line in ax.get_lines()] == ["perfect prediction"]


def test_residuals_have_one_box_per_observed_score():
    ax = evaluate.plot_residuals(ACTUAL, PREDICTED)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["3", "5", "7"]


def test_good_wine_flags_count_per_100_wines_by_hand():
    # Five wines: two good (7, 8). Flagged (predicted >= 6.5): the 8, and an ordinary 5 predicted 6.6.
    flags = evaluate.good_wine_flags([7, 8, 5, 6, 5], [6.4, 7.1, 6.6, 6.0, 5.2])
    assert flags == pytest.approx(
        {"good_found_per_100": 20.0, "good_missed_per_100": 20.0, "false_alarms_per_100": 20.0}
    )


def test_good_wine_flags_flag_at_the_threshold_and_not_below():
    assert evaluate.good_wine_flags([7, 7], [6.5, 6.49])["good_found_per_100"] == pytest.approx(50.0)


def test_good_wine_flags_refuse_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        evaluate.good_wine_flags([7, 5], [7.0])
