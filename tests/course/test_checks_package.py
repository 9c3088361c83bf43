"""The checks of module 02 are not vacuous: right answers pass, wrong ones get "not quite" and a hint.

For every exercise: the reference answer -> "correct"; typical mistakes -> "not quite" with what is
wrong and the hint; the placeholder `...` (or a function that returns `...`) -> "not solved yet";
an answer that crashes -> "not quite", never an exception out of the check.
"""

import importlib
import math
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from verdicts import assert_not_quite, verdict_of

from course.checks import package as checks
from workshop_lib import data, evaluate


def returns_placeholder(*args):
    return ...


def crashes(*args):
    raise RuntimeError("boom")


# --- 02.1 a function moved into the participant's own package, tested with pytest -------------------------------

SOLUTION_MODULE = '''"""Checks of a train/test split."""
import pandas as pd


def count_seen(train: pd.DataFrame, test: pd.DataFrame) -> int:
    """How many rows of `test` have an exact twin among the rows of `train`."""
    known = set(train.itertuples(index=False, name=None))
    return sum(1 for wine in test.itertuples(index=False, name=None) if wine in known)
'''
SOLUTION_TESTS = """import pandas as pd

from wine_tools.leakage import count_seen
from workshop_lib import data


def test_count_seen_on_wines_built_by_hand():
    train = pd.DataFrame({"alcohol": [9.4, 9.4, 11.0], "quality": [5, 5, 6]})
    test = pd.DataFrame({"alcohol": [9.4, 12.5, 11.0], "quality": [5, 7, 7]})
    assert count_seen(train, test) == 1


def test_count_seen_through_workshop_lib():
    x_train, x_test, y_train, y_test = data.split(data.load_wine("red"))
    assert count_seen(x_train.assign(quality=y_train), x_test.assign(quality=y_test)) == 0
"""
UNIT_TEST_ONLY = SOLUTION_TESTS.split("\n\ndef test_count_seen_through_workshop_lib")[0] + "\n"
INTEGRATION_TEST_ONLY = SOLUTION_TESTS.replace(
    SOLUTION_TESTS[
        SOLUTION_TESTS.index("def test_count_seen_on") : SOLUTION_TESTS.index("def test_count_seen_through")
    ],
    "",
)
# What the exercise notebook's %%writefile cells write while unsolved (the generator's stubs).
STUB_MODULE = '''import pandas as pd

# YOUR CODE HERE (replace the ... below)
def count_seen(train: pd.DataFrame, test: pd.DataFrame) -> int:
    """How many rows of `test` have an exact twin (equal in every column) among the rows of `train`."""
    return ...
'''
STUB_TESTS = """from wine_tools.leakage import count_seen

# YOUR CODE HERE (replace the ... below)
def test_count_seen_on_wines_built_by_hand():
    return ...

def test_count_seen_through_workshop_lib():
    return ...
"""


@pytest.fixture
def package(tmp_path, monkeypatch):
    """make(module, tests) -> (count_seen as the notebook imports it, folder): a participant's package in tmp_path.

    `module` is the text of wine_tools/leakage.py (None: no file), `tests` {file name: text} in tests/."""

    def make(module: str | None, tests: dict[str, str]):
        folder = tmp_path / "exercise"
        (folder / "wine_tools").mkdir(parents=True)
        (folder / "tests").mkdir()
        (folder / "wine_tools" / "__init__.py").write_text("", encoding="utf-8")
        if module is not None:
            (folder / "wine_tools" / "leakage.py").write_text(module, encoding="utf-8")
        for name, text in tests.items():
            (folder / "tests" / name).write_text(text, encoding="utf-8")
        for name in [name for name in sys.modules if name == "wine_tools" or name.startswith("wine_tools.")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.syspath_prepend(str(folder))
        function = checks.reference_count_seen
        if module is not None and "return ..." not in module:
            try:
                function = importlib.import_module("wine_tools.leakage").count_seen
            except (AttributeError, SyntaxError):  # the module the participant wrote does not import
                pass
        return function, folder

    yield make
    for name in [name for name in sys.modules if name == "wine_tools" or name.startswith("wine_tools.")]:
        del sys.modules[name]


def snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_refactoring_reference_solution_is_correct_and_leaves_the_files_as_they_were(capsys, package):
    count_seen, folder = package(SOLUTION_MODULE, {"test_leakage.py": SOLUTION_TESTS})
    before = snapshot(folder)
    assert checks.check_refactoring(count_seen, folder) is count_seen
    assert verdict_of(capsys, "02.1")[0] == "correct"
    assert snapshot(folder) == before  # no cache, no bytecode, no planted bug left behind


ALTERNATIVE_MODULE = '''import pandas as pd


def count_seen(train, test):
    """Rows of test with an exact twin in train: a MultiIndex compares whole rows."""
    in_training = pd.MultiIndex.from_frame(train.drop_duplicates())
    return int(pd.MultiIndex.from_frame(test).isin(in_training).sum())
'''
ALTERNATIVE_TESTS = """import pandas as pd
import pytest

import wine_tools.leakage as leakage
from workshop_lib import data

TRAIN = pd.DataFrame({"pH": [3.2, 3.2, 3.5], "alcohol": [10.0, 10.0, 12.0]}, index=[0, 1, 2])


@pytest.mark.parametrize(
    "rows, expected",
    [([(3.2, 10.0)], 1), ([(3.5, 11.0), (3.3, 9.0)], 0), ([(3.5, 12.0), (3.2, 10.0)], 2)],
)
def test_by_hand(rows, expected):
    test = pd.DataFrame(rows, columns=["pH", "alcohol"])
    assert leakage.count_seen(TRAIN, test) == expected


@pytest.fixture(scope="module")
def parts():
    return data.split_with_validation(data.load_wine("red"))


class TestThePackagesSplit:
    def test_validation_and_test_wines_are_new(self, parts):
        x_train, x_val, x_test, y_train, y_val, y_test = parts
        train = x_train.assign(quality=y_train)
        assert leakage.count_seen(train, x_val.assign(quality=y_val)) == 0
        assert leakage.count_seen(train, x_test.assign(quality=y_test)) == 0
"""


def test_refactoring_written_another_way_is_correct(capsys, package):
    """Another module (a MultiIndex), parametrized tests, a fixture, a class, another file name, another split."""
    count_seen, folder = package(ALTERNATIVE_MODULE, {"test_split_checks.py": ALTERNATIVE_TESTS})
    assert checks.check_refactoring(count_seen, folder) is count_seen
    assert verdict_of(capsys, "02.1")[0] == "correct"


def test_refactoring_with_the_integration_test_on_the_leaky_split_is_correct(capsys, package):
    """An integration test may equally prove that count_seen finds the twins of module 01's leaky split."""
    leaky = (
        SOLUTION_TESTS
        + """

def test_a_split_before_de_duplicating_leaks():
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(data.load_wine("red"), test_size=0.2, random_state=42)
    assert count_seen(train, test) > 0
"""
    )
    count_seen, folder = package(SOLUTION_MODULE, {"test_leakage.py": leaky})
    assert checks.check_refactoring(count_seen, folder) is count_seen
    assert verdict_of(capsys, "02.1")[0] == "correct"


@pytest.mark.parametrize(
    "module, tests",
    [(STUB_MODULE, {"test_leakage.py": STUB_TESTS}), (None, {})],
    ids=["the exercise's stubs", "nothing written"],
)
def test_refactoring_not_solved(capsys, package, module, tests):
    count_seen, folder = package(module, tests)
    assert checks.check_refactoring(count_seen, folder) is checks.reference_count_seen
    assert verdict_of(capsys, "02.1")[0] == "not solved yet"


def test_refactoring_placeholder_folder_is_not_solved(capsys):
    assert checks.check_refactoring(checks.reference_count_seen, ...) is checks.reference_count_seen
    assert verdict_of(capsys, "02.1")[0] == "not solved yet"


ALWAYS_PASSES = """from wine_tools.leakage import count_seen
import pandas as pd


def test_returns_a_count():
    frame = pd.DataFrame({"a": [1, 2]})
    assert count_seen(frame, frame) >= 0


def test_runs():
    assert True
"""
ONLY_IMPORTS = "from wine_tools.leakage import count_seen\nfrom workshop_lib import data\n"
INDEX_MODULE = SOLUTION_MODULE.replace(
    "    known = set(train.itertuples(index=False, name=None))\n"
    "    return sum(1 for wine in test.itertuples(index=False, name=None) if wine in known)\n",
    "    return int(test.index.isin(train.index).sum())\n",
)


@pytest.mark.parametrize(
    "module, tests, fragments",
    [
        (SOLUTION_MODULE, {"test_leakage.py": ALWAYS_PASSES}, ["pass with 4 of the 4 planted bugs", "row labels"]),
        (SOLUTION_MODULE, {"test_leakage.py": ONLY_IMPORTS}, ["holds no test"]),
        (
            SOLUTION_MODULE,
            {"test_leakage.py": UNIT_TEST_ONLY},
            ["pass with 1 of the 4", "data.split splits first", "integration test"],
        ),
        (
            SOLUTION_MODULE,
            {"test_leakage.py": INTEGRATION_TEST_ONLY},
            ["pass with 3 of the 4", "row labels", "always returns 0", "sits twice in training"],
        ),
        (
            SOLUTION_MODULE,
            {"test_leakage.py": SOLUTION_TESTS.replace("== 1", "== 2")},
            ["fail on your own module", "test_count_seen_on_wines_built_by_hand", "assert 1 == 2"],
        ),
        (
            SOLUTION_MODULE,
            {"test_leakage.py": SOLUTION_TESTS.replace("from wine_tools", "from my_wine")},
            ["could not collect your tests", "No module named 'my_wine'"],
        ),
        (
            INDEX_MODULE,
            {"test_leakage.py": ALWAYS_PASSES},
            ["your module's count_seen gives 0 for a test wine equal to a training wine, under another row label"],
        ),
        (None, {"test_leakage.py": SOLUTION_TESTS}, ["there is no wine_tools/leakage.py"]),
        (
            SOLUTION_MODULE.replace("    known = set(", "    assert len(test), 'no test wines'\n    known = set("),
            {"test_leakage.py": SOLUTION_TESTS},
            ["raised AssertionError: no test wines for no test wine at all"],
        ),
        (
            SOLUTION_MODULE.replace("def count_seen", "def seen_count"),
            {"test_leakage.py": SOLUTION_TESTS},
            ["defines no count_seen"],
        ),
        (SOLUTION_MODULE, {"test_leakage.py": STUB_TESTS}, ["still only return ..."]),
        (SOLUTION_MODULE, {}, ["no test file"]),
        (SOLUTION_MODULE + "\ndef broken(:\n", {"test_leakage.py": SOLUTION_TESTS}, ["does not parse"]),
    ],
    ids=[
        "always-passes",
        "only-imports",
        "unit-only",
        "integration-only",
        "fails-on-own-module",
        "import-error",
        "wrong-module",
        "no-module",
        "crashes",
        "renamed",
        "stub-tests",
        "no-tests",
        "syntax-error",
    ],
)
def test_refactoring_wrong_answers(capsys, package, module, tests, fragments):
    count_seen, folder = package(module, tests)
    before = snapshot(folder)
    assert checks.check_refactoring(count_seen, folder) is checks.reference_count_seen
    assert_not_quite(capsys, "02.1", *fragments)
    assert snapshot(folder) == before


def test_refactoring_function_still_in_the_notebook(capsys, package):
    _, folder = package(SOLUTION_MODULE, {"test_leakage.py": SOLUTION_TESTS})

    def count_seen(train, test):  # the notebook's own copy: its __module__ is not wine_tools.leakage
        return checks.reference_count_seen(train, test)

    assert checks.check_refactoring(count_seen, folder) is checks.reference_count_seen
    assert_not_quite(capsys, "02.1", "still the notebook's own function", "import it from wine_tools.leakage")


def test_refactoring_one_test_catching_everything_is_not_enough(capsys, package):
    """One test is not a unit test and an integration test: the check asks for both."""
    one = SOLUTION_TESTS.replace("\n\ndef test_count_seen_through_workshop_lib():\n", "\n")
    count_seen, folder = package(SOLUTION_MODULE, {"test_leakage.py": one})
    assert checks.check_refactoring(count_seen, folder) is checks.reference_count_seen
    assert_not_quite(capsys, "02.1", "ran only one test")


# --- 02.2 check_ph --------------------------------------------------------------------------------


def test_check_ph_reference_is_correct(capsys):
    assert checks.check_ph_validation(checks.reference_check_ph) is checks.reference_check_ph
    assert verdict_of(capsys, "02.2")[0] == "correct"


@pytest.mark.parametrize("answer", [..., returns_placeholder], ids=["placeholder", "function returning ..."])
def test_check_ph_not_solved(capsys, answer):
    assert checks.check_ph_validation(answer) is checks.reference_check_ph
    assert verdict_of(capsys, "02.2")[0] == "not solved yet"


def never_raises(frame):
    return frame


def raises_value_error(frame):
    if ((frame["pH"] < 0) | (frame["pH"] > 14)).any():
        raise ValueError("pH out of range")
    return frame


def no_column_name(frame):
    bad = frame.index[(frame["pH"] < 0) | (frame["pH"] > 14)]
    if len(bad):
        raise data.DataValidationError(f"bad values in rows {list(bad)}")
    return frame


def no_rows(frame):
    if ((frame["pH"] < 0) | (frame["pH"] > 14)).any():
        raise data.DataValidationError("column 'pH' is out of range")
    return frame


def first_row_only(frame):
    bad = frame.index[(frame["pH"] < 0) | (frame["pH"] > 14)]
    if len(bad):
        raise data.DataValidationError(f"column 'pH' is out of range in row {bad[0]}")
    return frame


def excludes_the_ends(frame):
    bad = frame.index[(frame["pH"] <= 0) | (frame["pH"] >= 14)]
    if len(bad):
        raise data.DataValidationError(f"column 'pH' is out of range in rows {list(bad)}")
    return frame


def returns_nothing(frame):
    checks.reference_check_ph(frame)


def returns_a_copy_without_ph(frame):
    checks.reference_check_ph(frame)
    return frame.drop(columns="pH")


def checks_only_high_values(frame):
    bad = frame.index[frame["pH"] > 14]
    if len(bad):
        raise data.DataValidationError(f"column 'pH' is out of range in rows {list(bad)}")
    return frame


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (never_raises, ["did not raise", "pH 15 in row 104"]),
        (checks_only_high_values, ["pH -1 in row 107", "did not raise"]),
        (raises_value_error, ["raised ValueError", "expected data.DataValidationError"]),
        (no_column_name, ["does not name the column 'pH'"]),
        (no_rows, ["does not name row(s) [104]"]),
        (first_row_only, ["does not name row(s) [107]"]),
        (excludes_the_ends, ["exactly 14", "must pass"]),
        (returns_nothing, ["returned None"]),
        (returns_a_copy_without_ph, ["return the frame unchanged"]),
        (crashes, ["raised RuntimeError: boom", "must pass"]),
        ("pH", ["not a function"]),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else None,
)
def test_check_ph_wrong_answers(capsys, answer, fragments):
    assert checks.check_ph_validation(answer) is checks.reference_check_ph
    assert_not_quite(capsys, "02.2", *fragments)


def test_reference_check_ph_names_the_column_and_rows():
    frame = pd.DataFrame({"pH": [3.2, 15.0, 3.4, -1.0]}, index=[10, 11, 12, 13])
    with pytest.raises(data.DataValidationError, match=r"'pH'.*\[11, 13\]"):
        checks.reference_check_ph(frame)
    assert checks.reference_check_ph(frame.iloc[[0, 2]]) is not None


# --- 02.3 a unit test that catches planted bugs ------------------------------------------------------


def test_metrics_test_reference_is_correct(capsys):
    assert checks.check_metrics_test(checks.reference_metrics_test) is checks.reference_metrics_test
    assert verdict_of(capsys, "02.3")[0] == "correct"


def test_a_property_based_test_is_correct_too(capsys):
    def test_regression_metrics(metrics_function):
        perfect = metrics_function([5, 6, 7], [5, 6, 7])
        assert perfect["mae"] == 0 and perfect["rmse"] == 0 and perfect["r2"] == 1
        off = metrics_function([4, 6, 8], [5, 7, 9])  # always one point too high
        assert off["mae"] == pytest.approx(1)
        assert off["r2"] < 1
        mixed = metrics_function([5, 6, 7], [7, 6, 5])
        assert mixed["rmse"] == pytest.approx(math.sqrt(mixed["mse"]))

    checks.check_metrics_test(test_regression_metrics)
    assert verdict_of(capsys, "02.3")[0] == "correct"


@pytest.mark.parametrize("answer", [..., returns_placeholder], ids=["placeholder", "function returning ..."])
def test_metrics_test_not_solved(capsys, answer):
    assert checks.check_metrics_test(answer) is checks.reference_metrics_test
    assert verdict_of(capsys, "02.3")[0] == "not solved yet"


def only_perfect_predictions(metrics_function):
    metrics = metrics_function([5, 6, 7], [5, 6, 7])
    assert metrics["mae"] == 0 and metrics["rmse"] == 0 and metrics["r2"] == 1


def unit_errors(metrics_function):
    metrics = metrics_function([5, 6, 7], [6, 7, 8])  # every error is 1: MSE = RMSE, and MAE without abs is -1
    assert metrics["mae"] == pytest.approx(1)
    assert metrics["rmse"] == pytest.approx(1)


def wrong_expectation(metrics_function):
    assert metrics_function([5, 6, 7], [6, 6, 5])["mae"] == pytest.approx(2)


def crashes_on_correct(metrics_function):
    return metrics_function([5, 6, 7], [6, 6, 5])["MAE"]


def crashes_on_buggy(metrics_function):
    metrics = metrics_function([5, 6, 7], [6, 6, 5])
    if metrics["rmse"] == metrics["mse"]:
        raise KeyError("rmse")
    assert metrics["mae"] == pytest.approx(1)
    assert metrics["r2"] == pytest.approx(-1.5)


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (
            only_perfect_predictions,
            [
                "passes for 3 of the 3 buggy versions",
                "MAE without abs()",
                "RMSE without the square root",
                "squared correlation",
            ],
        ),
        (unit_errors, ["passes for 2 of the 3", "RMSE without the square root", "squared correlation"]),
        (wrong_expectation, ["fails for the correct regression_metrics"]),
        (crashes_on_correct, ["crashed for the correct regression_metrics with KeyError"]),
        (crashes_on_buggy, ["crashed instead of failing an assert", "RMSE without the square root"]),
        ("test", ["not a function"]),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else None,
)
def test_metrics_test_wrong_answers(capsys, answer, fragments):
    assert checks.check_metrics_test(answer) is checks.reference_metrics_test
    out = assert_not_quite(capsys, "02.3", *fragments)
    assert "pytest.approx" in out  # the hint


def test_every_planted_bug_differs_from_the_correct_metrics():
    correct = evaluate.regression_metrics([5, 6, 7], [6, 6, 5])
    for bug, buggy in checks.PLANTED_BUGS.items():
        assert buggy([5, 6, 7], [6, 6, 5]) != correct, bug


# --- 02.4 random-forest parameters -----------------------------------------------------------------


def rf_params(**train) -> dict:
    params = {
        "data": {"source": "red", "test_size": 0.2, "seed": 42},
        "train": {"model": "random_forest", "n_estimators": 100, "max_depth": 8},
    }
    params["train"].update(train)
    return params


def test_rf_params_reference_is_correct(capsys):
    answer = rf_params()
    assert checks.check_random_forest_params(answer) is answer
    assert verdict_of(capsys, "02.4")[0] == "correct"


def test_rf_params_not_solved(capsys):
    assert checks.check_random_forest_params(...) == checks.REFERENCE_RF_PARAMS
    assert verdict_of(capsys, "02.4")[0] == "not solved yet"


class ExplodingDict(dict):
    def get(self, *args):
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (rf_params(n_estimators="200"), ["'train.n_estimators' must be a whole number >= 1, got '200'"]),
        (rf_params(n_estimators=200.0), ["'train.n_estimators' must be a whole number"]),
        (rf_params(max_depth=0), ["'train.max_depth'"]),
        (
            {"data": {"source": "red", "test_size": 0.2, "seed": 42}, "train": {"model": "random_forest"}},
            ["missing key 'train.n_estimators'"],
        ),
        (rf_params(model="randomforest"), ["'train.model' must be one of baseline, elasticnet, random_forest"]),
        (
            {
                "data": {"source": "red", "test_size": 0.2, "seed": 42},
                "train": {"model": "elasticnet", "alpha": 1, "l1_ratio": 0.5},
            },
            ["asks for a random forest"],
        ),
        (rf_params(n_estimators=5000), ["5000 trees take long"]),
        (rf_params(n_estimators=np.int64(100)), ["'train.n_estimators' must be a whole number"]),
        ("model: random_forest", ["write a dict"]),
        (ExplodingDict(), ["RuntimeError: boom"]),
    ],
    ids=["string", "float", "depth-0", "missing", "typo", "elasticnet", "too-many", "numpy-int", "yaml-text", "crash"],
)
def test_rf_params_wrong_answers(capsys, answer, fragments):
    assert checks.check_random_forest_params(answer) == checks.REFERENCE_RF_PARAMS
    out = assert_not_quite(capsys, "02.4", *fragments)
    assert "random_forest" in out  # the hint


def test_rf_reference_is_a_fresh_copy(capsys):
    first = checks.check_random_forest_params(...)
    first["train"]["n_estimators"] = 1
    assert checks.REFERENCE_RF_PARAMS["train"]["n_estimators"] == 200
    capsys.readouterr()


# --- alternative correct answers: written another way than the solution notebook, they get "correct" too ------------


def test_check_ph_with_between_and_a_row_list_is_correct(capsys):
    def check_ph(frame):
        inside = frame["pH"].between(0, 14)  # both ends included
        if not inside.all():
            rows = ", ".join(str(row) for row in frame.index[~inside])
            raise data.DataValidationError(f"pH out of range [0, 14] at rows {rows}")
        return frame

    assert checks.check_ph_validation(check_ph) is check_ph
    assert verdict_of(capsys, "02.2")[0] == "correct"


def test_check_ph_with_a_loop_over_the_rows_is_correct(capsys):
    def check_ph(frame):
        bad = [index for index, value in frame["pH"].items() if not 0 <= value <= 14]
        if bad:
            raise data.DataValidationError(f"column 'pH': bad values in rows {bad}")
        return frame

    assert checks.check_ph_validation(check_ph) is check_ph
    assert verdict_of(capsys, "02.2")[0] == "correct"


def test_metrics_test_against_sklearn_is_correct(capsys):
    def test_regression_metrics(metrics_function):
        y_true, y_pred = [3, 5, 6, 8], [4, 5, 4, 9]  # errors in both directions
        metrics = metrics_function(y_true, y_pred)
        assert metrics["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred))
        assert metrics["rmse"] == pytest.approx(mean_squared_error(y_true, y_pred) ** 0.5)
        assert metrics["r2"] == pytest.approx(r2_score(y_true, y_pred))

    checks.check_metrics_test(test_regression_metrics)
    assert verdict_of(capsys, "02.3")[0] == "correct"


def test_rf_params_read_from_yaml_text_is_correct(capsys):
    answer = yaml.safe_load(
        "train:\n  max_depth: null\n  n_estimators: 300\n  model: random_forest\n"
        "data:\n  seed: 42\n  test_size: 0.2\n  source: red\n"
    )  # the sections and keys in another order, no depth limit
    assert checks.check_random_forest_params(answer) is answer
    assert verdict_of(capsys, "02.4")[0] == "correct"
