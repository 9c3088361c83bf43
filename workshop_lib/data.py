"""The course data: load the wine files, validate them, and prove they are the files we think they are.

Module 01 reads the CSV with a bare `pd.read_csv`; module 02 moves loading here, where bad input
stops with a DataValidationError that names the file, the column and the first bad rows, instead of
a model quietly trained on garbage. The expected sha256 values live in one place, the data set's
README (data/wine-quality/README.md), next to the attribution that must travel with the files.
"""

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workshop_lib.config import WINE_DATA_DIR

WINE_FILES = {"red": "winequality-red.csv", "white": "winequality-white.csv"}
TARGET = "quality"

# The schema, in one place: every column with the physically possible range of its values (lab units,
# e.g. g/dm³ and mg/dm³). Generous bounds: they catch a broken sensor or a unit mix-up, not rare wines.
SCHEMA: dict[str, tuple[float, float]] = {
    "fixed acidity": (0, 20),
    "volatile acidity": (0, 2),
    "citric acid": (0, 2),
    "residual sugar": (0, 100),
    "chlorides": (0, 1),
    "free sulfur dioxide": (0, 400),
    "total sulfur dioxide": (0, 600),
    "density": (0.9, 1.1),
    "pH": (0, 14),
    "sulphates": (0, 3),
    "alcohol": (0, 25),
    TARGET: (0, 10),
}
FEATURES = [column for column in SCHEMA if column != TARGET]
MAX_BAD_ROWS_SHOWN = 5


class DataValidationError(ValueError):
    """The data does not match the schema; the message names the file, the column and the bad rows."""


def load_wine(source: str | Path = "red") -> pd.DataFrame:
    """Load the red or white wines (`"red"`, `"white"`) or a CSV file with the same columns, validated."""
    path = _resolve(source)
    with open(path, "rb") as handle:
        if b"\x00" in handle.read(4096):
            raise DataValidationError(f"{path}: a binary file, not a CSV text file (an Excel file? save it as CSV)")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataValidationError(f"{path}: not a readable CSV file ({str(error).splitlines()[0]})") from None
    # Number the rows as the file's lines (line 1 is the header), so messages point into the file.
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    return validate_wine(frame, source=str(path)).reset_index(drop=True)


def _resolve(source: str | Path) -> Path:
    if isinstance(source, str) and source in WINE_FILES:
        return WINE_DATA_DIR / WINE_FILES[source]
    path = Path(source)
    if not path.is_file():
        raise DataValidationError(f"{source!s}: no such file (use 'red', 'white' or the path of a CSV file)")
    return path


def _rows(index: pd.Index) -> str:
    """'lines 5, 9' for a file (see load_wine), 'rows 3, 7' for a data frame's index."""
    shown = ", ".join(str(i) for i in list(index)[:MAX_BAD_ROWS_SHOWN])
    more = f" and {len(index) - MAX_BAD_ROWS_SHOWN} more" if len(index) > MAX_BAD_ROWS_SHOWN else ""
    return f"{'lines' if index.name == 'line' else 'rows'} {shown}{more}"


def validate_wine(frame: pd.DataFrame, source: str = "data frame") -> pd.DataFrame:
    """Check columns, types and ranges against SCHEMA; return the frame with numeric dtypes."""
    if frame.empty:
        raise DataValidationError(f"{source}: no rows of data")
    missing = [c for c in SCHEMA if c not in frame.columns]
    extra = [c for c in frame.columns if c not in SCHEMA]
    if missing:
        raise DataValidationError(f"{source}: missing column(s) {missing}" + (f"; unexpected {extra}" if extra else ""))
    if extra:
        raise DataValidationError(f"{source}: unexpected column(s) {extra}")
    frame = frame[list(SCHEMA)].copy()
    for column, (low, high) in SCHEMA.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        not_numeric = values.isna() & frame[column].notna()
        if not_numeric.any():
            examples = frame.loc[not_numeric, column].head(MAX_BAD_ROWS_SHOWN).tolist()
            raise DataValidationError(
                f"{source}: column '{column}' has non-numeric values in {_rows(frame.index[not_numeric])}: {examples}"
            )
        if values.isna().any():
            raise DataValidationError(
                f"{source}: column '{column}' has missing values in {_rows(frame.index[values.isna()])}"
            )
        outside = (values < low) | (values > high)
        if outside.any():
            examples = values[outside].head(MAX_BAD_ROWS_SHOWN).tolist()
            raise DataValidationError(
                f"{source}: column '{column}' has values outside [{low}, {high}] in "
                f"{_rows(frame.index[outside])}: {examples}"
            )
        frame[column] = values
    if (frame[TARGET] % 1 != 0).any():
        raise DataValidationError(
            f"{source}: column '{TARGET}' must hold whole scores, see {_rows(frame.index[frame[TARGET] % 1 != 0])}"
        )
    frame[TARGET] = frame[TARGET].astype(int)
    return frame


_TABLE_ROW = re.compile(r"^\|\s*(?P<file>[\w.-]+\.csv)\s*\|\s*(?P<rows>\d+)\s*\|\s*(?P<sha>[0-9a-f]{64})\s*\|")


@dataclass(frozen=True)
class ExpectedFile:
    name: str
    rows: int
    sha256: str


def expected_files(data_dir: Path = WINE_DATA_DIR) -> dict[str, ExpectedFile]:
    """Read the file table (name, rows, sha256) from the data set's README."""
    readme = Path(data_dir) / "README.md"
    if not readme.is_file():
        raise FileNotFoundError(f"{readme} is missing: it holds the data's checksums and attribution.")
    found = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = _TABLE_ROW.match(line)
        if match:
            found[match["file"]] = ExpectedFile(match["file"], int(match["rows"]), match["sha"])
    if not found:
        raise ValueError(f"{readme} has no table of '| file | rows | sha256 |' rows.")
    return found


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def checksum_problems(data_dir: Path = WINE_DATA_DIR) -> list[str]:
    """One plain sentence per data file that is missing or differs from the README; empty when all is well."""
    problems = []
    for name, expected in expected_files(data_dir).items():
        path = Path(data_dir) / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif (actual := sha256_of(path)) != expected.sha256:
            problems.append(f"{path} has sha256 {actual[:12]}..., expected {expected.sha256[:12]}...")
    return problems


def drop_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep one copy of each exact duplicate row.

    The red wines hold 240 exact duplicates. Split before removing them and the same wine sits in
    train and test: the model is graded on wines it has already seen, and the score flatters it.
    """
    return frame.drop_duplicates().reset_index(drop=True)


def split(frame: pd.DataFrame, test_size: float = 0.2, seed: int = 42) -> list:
    """Duplicates removed, then a reproducible train/test split: (X_train, X_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    unique = drop_duplicates(frame)
    if len(unique) - math.ceil(test_size * len(unique)) < 1:  # scikit-learn rounds the test share up
        raise DataValidationError(
            f"only {len(unique)} unique wine(s): too few to hold out {test_size:g} of them "
            "for testing and still have wines to train on"
        )
    return train_test_split(unique[FEATURES], unique[TARGET], test_size=test_size, random_state=seed)


def split_with_validation(
    frame: pd.DataFrame, test_size: float = 0.2, validation_size: float = 0.2, seed: int = 42
) -> list:
    """Train, validation and test wines: (X_train, X_val, X_test, y_train, y_val, y_test).

    Models and their settings are compared on the validation wines; the test wines are scored once, for the
    model that was chosen, so their score is still an honest estimate of tomorrow's wines. The test wines are
    exactly split()'s (same sizes and seed), and train + validation are split()'s training wines.
    Both sizes are shares of the de-duplicated wines.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < validation_size < 1 or test_size + validation_size >= 1:
        raise ValueError(
            f"validation_size must be above 0 and leave wines to train on next to test_size {test_size:g}, "
            f"got {validation_size}"
        )
    x_rest, x_test, y_rest, y_test = split(frame, test_size, seed)
    n_validation = round(validation_size * (len(x_rest) + len(x_test)))
    if not 0 < n_validation < len(x_rest):
        raise DataValidationError(
            f"only {len(x_rest) + len(x_test)} unique wine(s): too few for validation_size {validation_size:g}"
        )
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=n_validation, random_state=seed)
    return x_train, x_val, x_test, y_train, y_val, y_test


def split_parts(frame: pd.DataFrame, settings: dict) -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    """{"train": (X, y), "validation": (X, y), "test": (X, y)} from a params `data` section; without a
    validation_size (or 0) there are only train and test wines, as in module 02's one-shot training."""
    if settings.get("validation_size", 0):
        x_train, x_val, x_test, y_train, y_val, y_test = split_with_validation(
            frame, settings["test_size"], settings["validation_size"], settings["seed"]
        )
        return {"train": (x_train, y_train), "validation": (x_val, y_val), "test": (x_test, y_test)}
    x_train, x_test, y_train, y_test = split(frame, settings["test_size"], settings["seed"])
    return {"train": (x_train, y_train), "test": (x_test, y_test)}
