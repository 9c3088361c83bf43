"""The course data is exactly the published data set, with its attribution."""

import hashlib
import shutil

import pandas as pd
import pytest

from workshop_lib import data
from workshop_lib.config import WINE_DATA_DIR

EXPECTED = data.expected_files()


def test_readme_lists_both_wine_files():
    assert set(EXPECTED) == set(data.WINE_FILES.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_sha256_matches_the_readme(name):
    assert hashlib.sha256((WINE_DATA_DIR / name).read_bytes()).hexdigest() == EXPECTED[name].sha256


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_has_the_documented_rows_and_columns(name):
    frame = pd.read_csv(WINE_DATA_DIR / name)
    assert len(frame) == EXPECTED[name].rows
    assert frame.shape[1] == 12 and frame.columns[-1] == "quality"


def test_attribution_travels_with_the_data():
    readme = (WINE_DATA_DIR / "README.md").read_text()
    for required in ("CC BY 4.0", "Cortez", "10.24432/C56S3T"):
        assert required in readme


def test_checksum_problems_is_empty_for_the_real_data():
    assert data.checksum_problems() == []


def test_checksum_problems_names_a_changed_and_a_missing_file(tmp_path):
    shutil.copy(WINE_DATA_DIR / "README.md", tmp_path / "README.md")
    red = (WINE_DATA_DIR / "winequality-red.csv").read_bytes()
    (tmp_path / "winequality-red.csv").write_bytes(red.replace(b"7.4", b"7.5", 1))
    problems = data.checksum_problems(tmp_path)
    assert len(problems) == 2
    assert any("winequality-red.csv has sha256" in p for p in problems)
    assert any("winequality-white.csv is missing" in p for p in problems)


def test_a_readme_without_the_table_is_reported(tmp_path):
    (tmp_path / "README.md").write_text("# no table here\n")
    with pytest.raises(ValueError, match="no table"):
        data.expected_files(tmp_path)
    with pytest.raises(FileNotFoundError, match="README.md is missing"):
        data.expected_files(tmp_path / "elsewhere")
