"""The checks of module 07 are not vacuous: right answers pass, wrong ones get "not quite" and a hint.

For every exercise: the reference answer -> "correct"; typical mistakes -> "not quite", naming the
case that went wrong; the placeholder `...` (or a function that returns `...`) -> "not solved yet",
and the check hands back the cycle's own function. The smoke test is checked against a real local
model server that serves an untrained wine model: the checks look at requests and answers, not at
how good a model is.
"""

import json
import math
import os
import urllib.error
import urllib.request

import numpy as np
import pytest
from verdicts import assert_not_quite, verdict_of

from course.checks import cycle as checks
from workshop_lib import cycle, data, export
from workshop_lib.serving import LocalModelServer, ServingError

# --- 07.1 the quality gate ---------------------------------------------------------------------------------


def gate_without_margin(candidate, production, margin):
    return candidate["mae"] < production["mae"], "lower"


def gate_with_reversed_sign(candidate, production, margin):
    return candidate["mae"] - production["mae"] >= margin, "reversed"


def gate_that_crashes_without_mae(candidate, production, margin):
    if candidate["n_test"] != production["n_test"]:
        return False, "different test sets"
    return production["mae"] - candidate["mae"] >= margin, "by the margin"


def gate_blind_to_test_sets(candidate, production, margin):
    if candidate.get("mae") is None or production.get("mae") is None or math.isnan(candidate["mae"]):
        return False, "missing"
    return production["mae"] - candidate["mae"] >= margin, "by the margin"


def gate_with_fixed_margin(candidate, production, margin):
    return cycle.quality_gate(candidate, production, 0.01)


def gate_with_strict_comparison(candidate, production, margin):
    promote, reason = cycle.quality_gate(candidate, production, margin)
    gain = production.get("mae", math.nan) - candidate.get("mae", math.nan)
    return promote and gain > margin, reason


def gate_returning_a_bool(candidate, production, margin):
    return cycle.quality_gate(candidate, production, margin)[0]


def gate_without_reason(candidate, production, margin):
    return cycle.quality_gate(candidate, production, margin)[0], ""


def gate_returning_strings(candidate, production, margin):
    promote, reason = cycle.quality_gate(candidate, production, margin)
    return ("yes" if promote else "no"), reason


def test_quality_gate_reference_is_correct(capsys):
    assert checks.check_quality_gate(cycle.quality_gate) is cycle.quality_gate
    assert verdict_of(capsys, "07.1")[0] == "correct"


@pytest.mark.parametrize(
    "answer",
    [..., lambda c, p, m: ..., lambda c, p, m: (..., "reason")],
    ids=["placeholder", "function returning ...", "decision still ..."],
)
def test_quality_gate_not_solved(capsys, answer):
    assert checks.check_quality_gate(answer) is cycle.quality_gate
    assert verdict_of(capsys, "07.1")[0] == "not solved yet"


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (gate_without_margin, ["'better, but by less than the margin'", "it should keep production"]),
        (gate_with_reversed_sign, ["'better by more than the margin'", "it should promote the candidate"]),
        (
            gate_that_crashes_without_mae,
            ["'no MAE for the candidate (its evaluation failed)'", "raised KeyError", "not crash"],
        ),
        (gate_blind_to_test_sets, ["'different test sets: n_test 800 for the candidate, 1000 for production'"]),
        (gate_with_fixed_margin, ["margin of 0.1"]),
        (gate_returning_a_bool, ["return a pair (promote, reason)"]),
        (gate_without_reason, ["give a sentence that says why"]),
        (gate_returning_strings, ["make it True (promote) or False"]),
        (0.01, ["not a function"]),
    ],
    ids=["no-margin", "reversed", "crash", "test-sets", "fixed-margin", "bool", "no-reason", "strings", "not-callable"],
)
def test_quality_gate_wrong_answers(capsys, answer, fragments):
    assert checks.check_quality_gate(answer) is cycle.quality_gate
    assert_not_quite(capsys, "07.1", *fragments)


def test_a_strict_comparison_is_accepted(capsys):
    """'At least the margin' is the rule, but no case sits on the boundary, where float rounding would decide."""
    assert checks.check_quality_gate(gate_with_strict_comparison) is gate_with_strict_comparison
    assert verdict_of(capsys, "07.1")[0] == "correct"


def test_the_reference_gate_decides_the_cases_as_the_check_expects():
    for case, candidate, production, margin, promote in checks.GATE_CASES:
        decision, reason = cycle.quality_gate(candidate, production, margin)
        assert decision is promote, case
        assert reason


# --- 07.2 the next version number ---------------------------------------------------------------------------


def next_by_text(base_path):
    if not base_path.exists():
        return 1
    names = [child.name for child in base_path.iterdir() if child.name.isdigit()]
    return int(max(names, default="0")) + 1


def next_by_count(base_path):
    return len(list(base_path.iterdir())) + 1 if base_path.exists() else 1


def next_counting_versions(base_path):
    if not base_path.exists():
        return 1
    return len([child for child in base_path.iterdir() if child.name.isdigit()]) + 1


def next_skipping_hidden_folders_only(base_path):
    if not base_path.exists():
        return 1
    return max((int(child.name) for child in base_path.iterdir() if not child.name.startswith(".")), default=0) + 1


def next_with_servable_versions(base_path):
    return max(export.servable_versions(base_path)) + 1  # raises for an empty or missing base path


def next_as_text(base_path):
    return str(cycle.next_version(base_path))


def test_next_version_reference_is_correct(capsys):
    assert checks.check_next_version(cycle.next_version) is cycle.next_version
    assert verdict_of(capsys, "07.2")[0] == "correct"


@pytest.mark.parametrize("answer", [..., lambda base_path: ...], ids=["placeholder", "function returning ..."])
def test_next_version_not_solved(capsys, answer):
    assert checks.check_next_version(answer) is cycle.next_version
    assert verdict_of(capsys, "07.2")[0] == "not solved yet"


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (next_by_text, ["versions 1, 2 and 10", "returned 3; the next version is 11"]),
        (next_by_count, ["versions 1, 2 and 10", "returned 4; the next version is 11"]),
        (next_counting_versions, ["versions 1, 2 and 10", "returned 4; the next version is 11"]),
        (next_skipping_hidden_folders_only, ["a folder 'latest'", "raised ValueError"]),
        (next_with_servable_versions, ["a base path that does not exist yet", "raised NoServableVersion"]),
        (next_as_text, ["returned '1', not a whole number"]),
        (lambda base_path: True, ["not a whole number"]),
        ("2", ["not a function"]),
    ],
    ids=["text-max", "count", "count-versions", "latest", "servable-versions", "str", "bool", "not-callable"],
)
def test_next_version_wrong_answers(capsys, answer, fragments):
    assert checks.check_next_version(answer) is cycle.next_version
    assert_not_quite(capsys, "07.2", *fragments)


# --- 07.3 the smoke test -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A base path with one untrained wine model as version 1, and a server on it."""
    base = tmp_path_factory.mktemp("smoke") / "wine"
    export.export_savedmodel(export.build_keras_model(data.load_wine("red").head(200)), 1, base)
    server = LocalModelServer(model_base_path=base, model_name="wine", timeout=90).start()
    yield base, server.client()
    server.stop()


@pytest.fixture(scope="module")
def wines():
    return data.load_wine("white").tail(10)


def smoke_that_always_passes(client, version, wines, expected):
    return []


def smoke_with_exact_comparison(client, version, wines, expected):
    rows = wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")
    try:
        served = client.predict(rows, version=version)
    except ServingError as error:
        return [str(error)]
    return [] if list(np.asarray(served, dtype=float)) == list(np.asarray(expected, dtype=float)) else ["differs"]


def smoke_that_lets_errors_through(client, version, wines, expected):
    rows = wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")
    difference = export.max_abs_difference(client.predict(rows, version=version), expected)
    return [] if difference <= export.PARITY_TOLERANCE else ["differs"]


def smoke_that_checks_status_only(client, version, wines, expected):
    try:
        state = client.status(version=version)["model_version_status"][0]["state"]
    except ServingError as error:
        return [str(error)]
    return [] if state == "AVAILABLE" else [state]


def smoke_returning_a_bool(client, version, wines, expected):
    return not cycle.smoke_test(client, version, wines, expected)


def test_smoke_test_reference_is_correct(capsys, served, wines):
    base, client = served
    assert checks.check_smoke_test(cycle.smoke_test, client, 1, wines, base) is cycle.smoke_test
    assert verdict_of(capsys, "07.3")[0] == "correct"


@pytest.mark.parametrize(
    "answer", [..., lambda client, version, wines, expected: ...], ids=["placeholder", "function returning ..."]
)
def test_smoke_test_not_solved(capsys, served, wines, answer):
    base, client = served
    assert checks.check_smoke_test(answer, client, 1, wines, base) is cycle.smoke_test
    assert verdict_of(capsys, "07.3")[0] == "not solved yet"


@pytest.mark.parametrize(
    "answer, fragments",
    [
        (smoke_that_always_passes, ["0.01 off (a skewed export)", "it should report the problem"]),
        (smoke_with_exact_comparison, ["version 1 as exported (the same predictions)", "it should pass"]),
        (smoke_that_lets_errors_through, ["version 99, which the server does not have", "raised ServingError"]),
        (smoke_that_checks_status_only, ["0.01 off (a skewed export)"]),
        (smoke_returning_a_bool, ["return a list of problems"]),
        ([], ["not a function"]),
    ],
    ids=["always-passes", "exact", "errors-through", "status-only", "bool", "not-callable"],
)
def test_smoke_test_wrong_answers(capsys, served, wines, answer, fragments):
    base, client = served
    assert checks.check_smoke_test(answer, client, 1, wines, base) is cycle.smoke_test
    assert_not_quite(capsys, "07.3", *fragments)


# --- alternative correct answers: written another way than the solution notebook, they get "correct" too ------------


def gate_with_try_and_isfinite(candidate, production, margin):
    """Every metric read first (a missing one is a KeyError, None a TypeError), then one comparison."""
    try:
        ours, theirs = float(candidate["mae"]), float(production["mae"])
    except (KeyError, TypeError, ValueError) as error:
        return False, f"a metric is missing ({error!r})"
    if not (math.isfinite(ours) and math.isfinite(theirs)):
        return False, "a metric is not a number"
    if candidate.get("n_test") != production.get("n_test"):
        return False, "not the same test set"
    promote = theirs - ours >= margin
    return promote, "better by the margin" if promote else "not better by the margin"


def test_quality_gate_with_try_and_isfinite_is_correct(capsys):
    assert checks.check_quality_gate(gate_with_try_and_isfinite) is gate_with_try_and_isfinite
    assert verdict_of(capsys, "07.1")[0] == "correct"


def next_with_listdir_and_int(base_path):
    """os.listdir, int() in a try (a name that is not a number is skipped), sorted by number."""
    versions = []
    for name in os.listdir(base_path) if os.path.isdir(base_path) else []:
        try:
            versions.append(int(name))
        except ValueError:
            continue
    return sorted(versions)[-1] + 1 if versions else 1


def test_next_version_with_listdir_and_int_is_correct(capsys):
    assert checks.check_next_version(next_with_listdir_and_int) is next_with_listdir_and_int
    assert verdict_of(capsys, "07.2")[0] == "correct"


def smoke_with_urllib(client, version, wines, expected):
    """The REST API itself with urllib (no course client calls), and np.allclose for the comparison."""
    url = f"{client.url}/v1/models/{client.model_name}/versions/{version}"
    problems = []
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            states = [entry["state"] for entry in json.load(answer)["model_version_status"]]
        if states != ["AVAILABLE"]:
            return [f"version {version} is {states}"]
        rows = json.loads(wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_json(orient="records"))
        body = json.dumps({"instances": rows}).encode()
        request = urllib.request.Request(url + ":predict", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            served = np.asarray(json.load(answer)["predictions"], dtype=float).reshape(-1)
    except urllib.error.URLError as error:  # HTTPError (404 for an unknown version) is a URLError
        return [f"the server refused: {error}"]
    if not np.allclose(served, np.asarray(expected).reshape(-1), rtol=0, atol=export.PARITY_TOLERANCE):
        problems.append("the served predictions differ from the in-process ones")
    return problems


def test_smoke_test_with_urllib_against_the_rest_api_is_correct(capsys, served, wines):
    base, client = served
    assert checks.check_smoke_test(smoke_with_urllib, client, 1, wines, base) is smoke_with_urllib
    status, out = verdict_of(capsys, "07.3")
    assert status == "correct", out


def smoke_with_requests(client, version, wines, expected):
    """The notebook's way: requests against the REST API, the status first, then the answers within the tolerance."""
    import requests

    release = f"{client.url}/v1/models/{client.model_name}/versions/{version}"
    status = requests.get(release, timeout=30)
    if status.status_code != 200:
        return [f"HTTP {status.status_code}"]
    if {entry["state"] for entry in status.json()["model_version_status"]} != {"AVAILABLE"}:
        return ["not AVAILABLE"]
    instances = json.loads(wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_json(orient="records"))
    answer = requests.post(f"{release}:predict", json={"instances": instances}, timeout=30)
    if not answer.ok:
        return [f"HTTP {answer.status_code}"]
    off = np.abs(np.ravel(answer.json()["predictions"]) - np.ravel(expected))
    return ["differs"] if off.max() > export.PARITY_TOLERANCE else []


def smoke_with_requests_that_trusts_the_answer(client, version, wines, expected):
    """A typical mistake with requests: no look at the status code, so a 404's error document raises KeyError."""
    import requests

    instances = json.loads(wines[data.FEATURES].rename(columns=export.INPUT_NAMES).to_json(orient="records"))
    url = f"{client.url}/v1/models/{client.model_name}/versions/{version}:predict"
    served = requests.post(url, json={"instances": instances}, timeout=30).json()["predictions"]
    return ["differs"] if np.abs(np.ravel(served) - np.ravel(expected)).max() > export.PARITY_TOLERANCE else []


def test_smoke_test_with_requests_is_correct(capsys, served, wines):
    base, client = served
    assert checks.check_smoke_test(smoke_with_requests, client, 1, wines, base) is smoke_with_requests
    status, out = verdict_of(capsys, "07.3")
    assert status == "correct", out


def test_smoke_test_with_requests_that_ignores_the_status_is_not_quite(capsys, served, wines):
    base, client = served
    checks.check_smoke_test(smoke_with_requests_that_trusts_the_answer, client, 1, wines, base)
    assert_not_quite(capsys, "07.3", "version 99, which the server does not have", "raised KeyError")
