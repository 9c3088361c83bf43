"""Loading the wine data: good files load, and every kind of bad file stops with a message you can act on.

A DataValidationError names the file, the column and the first bad lines of the file (line 1 is
the header), so a participant can open the CSV and go straight to the problem.
"""

import pandas as pd
import pytest

from workshop_lib import data
from workshop_lib.config import WINE_DATA_DIR

RED_CSV = WINE_DATA_DIR / "winequality-red.csv"


@pytest.fixture
def sample() -> pd.DataFrame:
    """The first five red wines: a small, valid frame to break in one place per test."""
    return pd.read_csv(RED_CSV, nrows=5)


def write(frame: pd.DataFrame, path):
    frame.to_csv(path, index=False)
    return path


def load_error(source) -> str:
    """The message of the DataValidationError that loading `source` must raise."""
    with pytest.raises(data.DataValidationError) as raised:
        data.load_wine(source)
    return str(raised.value)


# --- what loads ---------------------------------------------------------------------------------


def test_data_validation_error_is_a_value_error():
    """Callers that already catch ValueError (bad input) also catch bad data."""
    assert issubclass(data.DataValidationError, ValueError)


@pytest.mark.parametrize("name", ["red", "white"])
def test_load_by_name_gives_the_schema_columns_as_numbers(name):
    frame = data.load_wine(name)
    assert list(frame.columns) == data.FEATURES + [data.TARGET]
    assert all(pd.api.types.is_float_dtype(frame[c]) for c in data.FEATURES)
    assert pd.api.types.is_integer_dtype(frame[data.TARGET])
    assert list(frame.index[:3]) == [0, 1, 2]  # a plain 0..n-1 index, not the file's line numbers


def test_load_by_path_equals_load_by_name():
    by_name = data.load_wine("red")
    pd.testing.assert_frame_equal(data.load_wine(RED_CSV), by_name)
    pd.testing.assert_frame_equal(data.load_wine(str(RED_CSV)), by_name)


def test_a_file_with_the_columns_in_another_order_loads_in_schema_order(sample, tmp_path):
    path = write(sample[list(reversed(sample.columns))], tmp_path / "reordered.csv")
    frame = data.load_wine(path)
    assert list(frame.columns) == list(data.SCHEMA)
    assert frame["alcohol"].tolist() == sample["alcohol"].tolist()


# --- what does not load, and what the message says ----------------------------------------------


def test_missing_column_names_the_file_and_the_column(sample, tmp_path):
    path = write(sample.drop(columns="pH"), tmp_path / "no_ph.csv")
    message = load_error(path)
    assert "no_ph.csv" in message and "missing column" in message and "'pH'" in message


def test_extra_column_names_the_file_and_the_column(sample, tmp_path):
    path = write(sample.assign(colour="red"), tmp_path / "extra.csv")
    message = load_error(path)
    assert "extra.csv" in message and "unexpected column" in message and "'colour'" in message


def test_non_numeric_value_names_the_column_the_line_and_the_value(sample, tmp_path):
    sample = sample.astype({"fixed acidity": object})
    sample.loc[2, "fixed acidity"] = "seven"  # data row 2 is line 4 of the file (line 1 is the header)
    message = load_error(write(sample, tmp_path / "words.csv"))
    assert "words.csv" in message
    assert "'fixed acidity'" in message and "non-numeric" in message
    assert "lines 4" in message and "'seven'" in message


def test_decimal_comma_is_reported_as_non_numeric(tmp_path):
    """A spreadsheet saved with a German locale writes 3,51 (quoted): not a number to pandas."""
    text = RED_CSV.read_text().splitlines()
    header, row = text[0], text[1].split(",")
    row[8] = '"3,51"'
    (tmp_path / "comma.csv").write_text(header + "\n" + ",".join(row) + "\n")
    message = load_error(tmp_path / "comma.csv")
    assert "'pH'" in message and "non-numeric" in message and "lines 2" in message


def test_value_outside_the_physical_range_names_column_lines_and_values(sample, tmp_path):
    sample.loc[[1, 3], "pH"] = [15, 15.2]  # pH runs from 0 to 14
    message = load_error(write(sample, tmp_path / "ph.csv"))
    assert "ph.csv" in message
    assert "'pH'" in message and "outside [0, 14]" in message
    assert "lines 3, 5" in message and "15.0, 15.2" in message


def test_only_the_first_bad_lines_are_listed(tmp_path):
    frame = pd.read_csv(RED_CSV, nrows=8).assign(alcohol=99.0)
    message = load_error(write(frame, tmp_path / "strong.csv"))
    assert f"lines 2, 3, 4, 5, 6 and {8 - data.MAX_BAD_ROWS_SHOWN} more" in message


def test_missing_value_names_the_column_and_the_line(sample, tmp_path):
    sample.loc[1, "alcohol"] = None  # written as an empty field
    message = load_error(write(sample, tmp_path / "gap.csv"))
    assert "gap.csv" in message and "'alcohol'" in message and "missing values" in message and "lines 3" in message


def test_quality_must_be_a_whole_score(sample, tmp_path):
    sample["quality"] = sample["quality"].astype(float)
    sample.loc[4, "quality"] = 5.5
    message = load_error(write(sample, tmp_path / "half.csv"))
    assert "half.csv" in message and "'quality'" in message and "whole scores" in message and "lines 6" in message


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    message = load_error(tmp_path / "empty.csv")
    assert "empty.csv" in message and "empty" in message.split(":", 1)[1]


def test_header_without_rows(sample, tmp_path):
    message = load_error(write(sample.iloc[:0], tmp_path / "header_only.csv"))
    assert "header_only.csv" in message and "no rows" in message


def test_binary_file_is_not_read_as_csv(tmp_path):
    """An Excel workbook renamed to .csv: a zip archive full of NUL bytes."""
    (tmp_path / "wines.csv").write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)
    message = load_error(tmp_path / "wines.csv")
    assert "wines.csv" in message and "binary" in message


def test_a_file_pandas_cannot_parse_is_named(sample, tmp_path):
    text = sample.to_csv(index=False) + "7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4,5,1,2\n"
    (tmp_path / "ragged.csv").write_text(text)
    message = load_error(tmp_path / "ragged.csv")
    assert "ragged.csv" in message and "not a readable CSV" in message


@pytest.mark.parametrize("source", ["rose", "no/such/file.csv"])
def test_unknown_name_or_missing_path(source):
    message = load_error(source)
    assert message.startswith(f"{source}: no such file")
    assert "'red', 'white'" in message  # and says what would work


def test_a_directory_is_not_a_data_file(tmp_path):
    assert "no such file" in load_error(tmp_path)


# --- validate_wine on a data frame: same checks, row labels instead of file lines ---------------


def test_validate_wine_returns_numeric_columns_in_schema_order(sample):
    as_text = sample.astype(str)[list(reversed(sample.columns))]
    frame = data.validate_wine(as_text)
    assert list(frame.columns) == list(data.SCHEMA)
    assert frame["pH"].tolist() == sample["pH"].tolist()
    assert pd.api.types.is_integer_dtype(frame[data.TARGET])


def test_validate_wine_names_rows_by_their_index_labels(sample):
    sample.index = [10, 20, 30, 40, 50]
    sample.loc[30, "pH"] = 15
    with pytest.raises(data.DataValidationError) as raised:
        data.validate_wine(sample, source="May batch")
    message = str(raised.value)
    assert message.startswith("May batch: column 'pH'")
    assert "rows 30" in message and "lines" not in message


def test_validate_wine_missing_value_in_a_frame(sample):
    sample.loc[2, "density"] = float("nan")
    with pytest.raises(data.DataValidationError, match=r"'density' has missing values in rows 2"):
        data.validate_wine(sample)


def test_validate_wine_rejects_an_empty_frame(sample):
    with pytest.raises(data.DataValidationError, match="no rows"):
        data.validate_wine(sample.iloc[:0])


def test_validate_wine_does_not_change_the_callers_frame(sample):
    as_text = sample.astype(str)
    before = as_text.copy()
    data.validate_wine(as_text)
    pd.testing.assert_frame_equal(as_text, before)


# --- duplicates and the split --------------------------------------------------------------------


def test_drop_duplicates_keeps_one_copy_of_each_row(sample):
    doubled = pd.concat([sample, sample.iloc[[0, 0, 3]]], ignore_index=True)
    unique = data.drop_duplicates(doubled)
    assert len(unique) == len(sample.drop_duplicates())
    assert not unique.duplicated().any()
    assert list(unique.index) == list(range(len(unique)))


def test_drop_duplicates_keeps_rows_that_differ_in_the_target_only(sample):
    """Same lab values, different tasters' score: two observations, not a duplicate."""
    twin = sample.iloc[[0]].assign(quality=sample.loc[0, "quality"] + 1)
    assert len(data.drop_duplicates(pd.concat([sample, twin]))) == len(sample.drop_duplicates()) + 1


def test_split_returns_features_and_target(sample):
    twenty_wines = pd.concat([sample] * 4, ignore_index=True)
    twenty_wines["alcohol"] += twenty_wines.index * 0.1  # every row different, so none is dropped as a duplicate
    x_train, x_test, y_train, y_test = data.split(twenty_wines, test_size=0.25)
    assert list(x_train.columns) == data.FEATURES and y_train.name == data.TARGET
    assert (len(x_train), len(x_test)) == (15, 5)
    assert list(x_test.index) == list(y_test.index)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.2])
def test_split_rejects_a_test_size_outside_0_and_1(sample, test_size):
    with pytest.raises(ValueError, match="test_size"):
        data.split(sample, test_size=test_size)
