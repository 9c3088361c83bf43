"""The quality gate of module 07, rule by rule: the overall margin, then every region (red, white) on its own."""

import pandas as pd
import pytest

from workshop_lib import cycle, data

PRODUCTION = {"mae": 0.600, "n_test": 400, "mae_red": 0.550, "n_red": 100, "mae_white": 0.617, "n_white": 300}


def candidate(**changes) -> dict:
    return PRODUCTION | changes


def test_better_overall_and_in_every_region_is_promoted():
    promote, reason = cycle.quality_gate(candidate(mae=0.580, mae_red=0.540, mae_white=0.593), PRODUCTION, 0.01, 0.03)
    assert promote, reason
    assert "red 0.550 -> 0.540" in reason and "white 0.617 -> 0.593" in reason


def test_better_overall_but_worse_on_red_beyond_the_tolerance_is_refused():
    worse_red = candidate(mae=0.570, mae_red=0.600, mae_white=0.560)
    promote, reason = cycle.quality_gate(worse_red, PRODUCTION, 0.01, 0.03)
    assert not promote
    assert "red wines 0.600 vs 0.550: worse by 0.050" in reason and "tolerance 0.03" in reason
    # The rule is the region's: overall alone (tolerance None) it would have gone out.
    assert cycle.quality_gate(worse_red, PRODUCTION, 0.01, None)[0]


def test_a_region_may_lose_up_to_the_tolerance():
    slightly_worse = candidate(mae=0.580, mae_red=0.575, mae_white=0.582)
    assert cycle.quality_gate(slightly_worse, PRODUCTION, 0.01, 0.03)[0]
    assert not cycle.quality_gate(slightly_worse, PRODUCTION, 0.01, 0.02)[0]


def test_the_margin_is_checked_before_the_regions():
    promote, reason = cycle.quality_gate(candidate(mae=0.595, mae_red=0.9), PRODUCTION, 0.01, 0.03)
    assert not promote and "less than the margin" in reason and "red" not in reason


def test_a_region_without_wines_is_not_compared():
    """The first version: only red wines, so there is no white MAE on either side."""
    red_only = {"mae": 0.7, "n_test": 100, "mae_red": 0.7, "n_red": 100, "mae_white": None, "n_white": 0}
    promote, reason = cycle.quality_gate(red_only | {"mae": 0.6, "mae_red": 0.6}, red_only, 0.01, 0.03)
    assert promote and "white" not in reason


def test_metrics_without_regions_are_judged_overall():
    """A metrics.json written before the gate checked regions has no mae_red: the gate still decides."""
    assert cycle.quality_gate({"mae": 0.5, "n_test": 10}, {"mae": 0.6, "n_test": 10}, 0.01, 0.03)[0]


def test_each_wine_gets_the_region_of_its_file():
    red, white = data.load_wine("red").head(3), data.load_wine("white").head(2)
    odd = red.head(1).assign(alcohol=99.0)
    assert cycle.regions_of(pd.concat([red, white, odd])) == ["red"] * 3 + ["white"] * 2 + ["other"]


def test_metrics_per_region():
    metrics = cycle.metrics_of([5, 6, 7, 5], [5.5, 6, 6, 5], ["red", "red", "white", "other"])
    assert metrics["n_test"] == 4 and metrics["mae"] == pytest.approx(0.375)
    assert metrics["n_red"] == 2 and metrics["mae_red"] == pytest.approx(0.25)
    assert metrics["n_white"] == 1 and metrics["mae_white"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="3 regions for 4 wines"):
        cycle.metrics_of([5, 6, 7, 5], [5, 6, 7, 5], ["red"] * 3)
