"""The real wine data: it matches the schema, and its duplicates are a leakage trap that split() avoids.

240 red and 937 white rows are exact copies of another row. Split the raw file and the same wine
lands in train and test: the model is graded on wines it has already seen. The tests below show the
trap is real for the naive split and closed for data.split().
"""

import math

import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from workshop_lib import data

# From data/wine-quality/README.md, checked on the files.
ROWS = {"red": 1599, "white": 4898}
EXACT_DUPLICATES = {"red": 240, "white": 937}
SEED, OTHER_SEED, TEST_SIZE = 42, 7, 0.2


@pytest.fixture(scope="module", params=["red", "white"])
def wines(request) -> tuple[str, pd.DataFrame]:
    return request.param, data.load_wine(request.param)


def rows(x: pd.DataFrame, y: pd.Series) -> set[tuple]:
    """Each wine as one hashable row: its features and its score."""
    return set(x.assign(**{data.TARGET: y}).itertuples(index=False, name=None))


def test_the_files_match_the_schema(wines):
    name, frame = wines
    assert len(frame) == ROWS[name]
    assert list(frame.columns) == list(data.SCHEMA)
    for column, (low, high) in data.SCHEMA.items():
        assert frame[column].between(low, high).all(), column
    assert frame.notna().all().all()


def test_quality_scores_are_whole_numbers_seen_in_practice(wines):
    _, frame = wines
    assert set(frame[data.TARGET]) <= set(range(3, 10))


def test_red_quality_matches_the_documented_facts():
    red = data.load_wine("red")
    assert round(red[data.TARGET].mean(), 3) == 5.636
    counts = red[data.TARGET].value_counts()
    assert (counts[5], counts[6], counts[8], counts[3]) == (681, 638, 18, 10)


def test_the_documented_number_of_exact_duplicates(wines):
    name, frame = wines
    assert frame.duplicated().sum() == EXACT_DUPLICATES[name]
    assert len(data.drop_duplicates(frame)) == ROWS[name] - EXACT_DUPLICATES[name]


def test_a_naive_split_of_the_raw_data_leaks_wines_into_the_test_set(wines):
    """The trap is real: without de-duplication, some test wines are also training wines (62 of 320 red ones)."""
    _, frame = wines
    x_train, x_test, y_train, y_test = train_test_split(
        frame[data.FEATURES], frame[data.TARGET], test_size=TEST_SIZE, random_state=SEED
    )
    leaked = rows(x_test, y_test) & rows(x_train, y_train)
    assert len(leaked) > 10


def test_split_leaves_no_wine_in_both_train_and_test(wines):
    _, frame = wines
    x_train, x_test, y_train, y_test = data.split(frame, TEST_SIZE, SEED)
    assert rows(x_test, y_test).isdisjoint(rows(x_train, y_train))


def test_split_is_disjoint_and_covers_every_unique_wine(wines):
    _, frame = wines
    unique = data.drop_duplicates(frame)
    x_train, x_test, y_train, y_test = data.split(frame, TEST_SIZE, SEED)
    assert set(x_train.index).isdisjoint(x_test.index)
    assert sorted([*x_train.index, *x_test.index]) == list(range(len(unique)))
    assert len(x_test) == math.ceil(TEST_SIZE * len(unique))  # scikit-learn rounds the test share up
    assert rows(x_train, y_train) | rows(x_test, y_test) == rows(unique[data.FEATURES], unique[data.TARGET])
    assert x_train.index.equals(y_train.index) and x_test.index.equals(y_test.index)


def test_split_is_reproducible_for_a_seed_and_differs_for_another(wines):
    _, frame = wines
    first, again, other = (data.split(frame, TEST_SIZE, seed) for seed in (SEED, SEED, OTHER_SEED))
    for part, part_again in zip(first, again):
        pd.testing.assert_index_equal(part.index, part_again.index)
    assert not first[1].index.equals(other[1].index)
    assert len(first[1]) == len(other[1])
