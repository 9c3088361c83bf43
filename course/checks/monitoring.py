"""Checks for module 06, monitoring and feedback: one public function per exercise.

06.1 check_psi              psi(reference, current, bins=10, epsilon=1e-4): the population stability index
     check_psi_action       the PSI of a repaired sensor's batch, and what to do about it (none, watch, stop)
06.2 check_drifting         the PSI of every feature of a batch, and the features that drift (PSI > 0.25)
06.3 check_server_record    a client's complaint replayed with requests: the statuses received, the errors the
                            server counted between two scrapes of its metrics page, whose fault it is
06.4 check_post_evaluation  the prediction log left-joined with late labels, and the MAE per version in hindsight
06.5 check_ab_decision      decide(stable_errors, canary_errors, ...) -> (decision, low, high) from a bootstrap
                            interval

The judges compare with workshop_lib.monitoring, the reference implementation, and recognise the
usual mistakes by recomputing them: arguments swapped, no epsilon for empty bins, closed outer bins,
an inner join, a decision on the difference of the means without its interval.
"""

import json
import math
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from course.checks import first_line, one_number, solved, verdict
from workshop_lib import data, monitoring
from workshop_lib.monitoring.technical import REQUEST_COUNT

# Two PSI implementations that follow the recipe agree to rounding; adding epsilon to every share
# instead of clipping at it moves the result by about epsilon / share, 1e-3 relative with ten bins
# (1.1e-3 on the shifted case). The typical mistakes are 10 % or more off. Anything further is another formula.
PSI_RELATIVE_TOLERANCE = 3e-3
PSI_ABSOLUTE_TOLERANCE = 1e-6


def _close(got: float, expected: float) -> bool:
    return math.isclose(got, expected, rel_tol=PSI_RELATIVE_TOLERANCE, abs_tol=PSI_ABSOLUTE_TOLERANCE)


# --- 06.1 the population stability index --------------------------------------------------------------


def _closed_edges_psi(
    reference: ArrayLike, current: ArrayLike, bins: int = monitoring.BINS, epsilon: float = monitoring.EPSILON
) -> float:
    """A typical mistake: np.histogram with the reference's min and max as outer edges drops values beyond them."""
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1))
    shares = [np.histogram(values, edges)[0] / len(values) for values in (reference, current)]
    expected, actual = (np.maximum(share, epsilon) for share in shares)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _equal_width_psi(
    reference: ArrayLike, current: ArrayLike, bins: int = monitoring.BINS, epsilon: float = monitoring.EPSILON
) -> float:
    """A typical mistake: bins of equal width between the reference's min and max instead of its quantiles."""
    inner = np.linspace(np.min(reference), np.max(reference), bins + 1)[1:-1]
    expected = np.maximum(monitoring.drift.bin_shares(reference, inner), epsilon)
    actual = np.maximum(monitoring.drift.bin_shares(current, inner), epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _one_sided_psi(
    reference: ArrayLike, current: ArrayLike, bins: int = monitoring.BINS, epsilon: float = monitoring.EPSILON
) -> float:
    """A typical mistake: sum(actual * ln(actual / expected)), the Kullback-Leibler divergence, half of the PSI."""
    inner = monitoring.drift.quantile_edges(reference, bins)
    expected = np.maximum(monitoring.drift.bin_shares(reference, inner), epsilon)
    actual = np.maximum(monitoring.drift.bin_shares(current, inner), epsilon)
    return float(np.sum(actual * np.log(actual / expected)))


def psi_cases() -> list[tuple[str, np.ndarray, np.ndarray, dict]]:
    """(what the case is, reference, current, keyword arguments): continuous values, so no ties to argue about."""
    rng = np.random.default_rng(6)
    reference = rng.normal(0.0, 1.0, 2000)
    return [
        ("the same sample twice", reference, reference.copy(), {}),
        ("a current sample shifted by half a standard deviation", reference, rng.normal(0.5, 1.0, 800), {}),
        ("a current sample twice as spread out", reference, rng.normal(0.0, 2.0, 800), {}),
        ("a current sample above the reference's maximum, all of it", reference, rng.uniform(5.0, 6.0, 300), {}),
        ("a shifted current sample, with bins=5", reference, rng.normal(0.5, 1.0, 800), {"bins": 5}),
    ]


def _describe_psi_mistake(answer: Any, got: float, reference: np.ndarray, current: np.ndarray, options: dict) -> str:
    bins = options.get("bins", monitoring.BINS)
    if math.isinf(got) or math.isnan(got):
        return (
            f" ({got}): a bin of the current sample is empty and ln(0) is minus infinity; clip both shares at "
            "epsilon first, np.maximum(shares, epsilon)"
        )
    known = {
        "the bins come from the current sample: the arguments are swapped, "
        "the reference defines the bins": monitoring.psi(current, reference, bins),
        "the outer bins are closed: values beyond the reference's minimum or maximum fall out of np.histogram's bins. "
        "Set the first edge to -np.inf and the last to np.inf": _closed_edges_psi(reference, current, bins),
        "the bins have equal width; the PSI uses the reference's quantiles, "
        "so that each holds a tenth of it": _equal_width_psi(reference, current, bins),
        "that is sum(actual * ln(actual / expected)), one half of the formula; the PSI multiplies by "
        "(actual - expected)": _one_sided_psi(reference, current, bins),
    }
    if bins != monitoring.BINS:
        known["your function ignores its bins argument: cut the reference into `bins` bins"] = monitoring.psi(
            reference, current, monitoring.BINS
        )
    for meaning, value in known.items():
        if _close(got, value):
            return f": {meaning}"
    return ""


def _judge_psi(answer: Any) -> str | None:
    if not callable(answer):
        return (
            f"psi is a {type(answer).__name__}, not a function: define it with "
            "def psi(reference, current, bins=10, epsilon=1e-4):"
        )
    for what, reference, current, options in psi_cases():
        shown = f"for {what}"
        try:
            with np.errstate(all="ignore"):
                got = answer(reference.copy(), current.copy(), **options)
        except Exception as error:  # noqa: BLE001 - a participant's function may fail in any way
            return f"{shown} psi raised {first_line(error)}"
        got = solved(got)
        if isinstance(got, (str, bytes, bool)) or np.ndim(got) != 0:
            return f"{shown} psi returned {got!r}, not one number: add up the terms of all bins"
        got = float(got)
        expected = monitoring.psi(reference, current, **options)
        if not _close(got, expected):
            return (
                f"{shown} psi returned {got:.4f}, expected {expected:.4f}"
                f"{_describe_psi_mistake(answer, got, reference, current, options)}"
            )
    return None


def check_psi(answer: Any) -> Any:
    """Exercise 06.1: psi(reference, current, bins, epsilon) against monitoring.psi; the reference function if wrong."""
    return verdict(
        "06.1",
        answer,
        _judge_psi,
        hint="the reference's quantiles make bins that each hold the same share of it; open the two outer bins so "
        "that nothing falls outside; compare the two samples' shares bin by bin, none below epsilon; "
        "each bin adds (difference of the shares) x ln(ratio of the shares).",
        reference=lambda: monitoring.psi,
        success="the same PSI as the reference on all cases: no drift gives 0, empty bins stay finite, "
        "values beyond the reference's range are counted, and the reference defines the bins.",
    )


ACTIONS = {"none": "stable", "watch": "watch", "stop the batch": "drift"}


def expected_action(value: float) -> str:
    """What the lesson's thresholds say to do about a PSI: below 0.1 nothing, up to 0.25 watch, above it stop."""
    return "stop the batch" if value > monitoring.PSI_DRIFT else "watch" if value >= monitoring.PSI_WATCH else "none"


def _judge_psi_action(answer: tuple[Any, Any], reference: pd.Series, batch: pd.Series) -> str | None:
    value, action = (solved(part) for part in answer)
    number, problem = one_number(value, "repaired_psi")
    if problem:
        return problem
    expected = monitoring.psi(reference, batch)
    if not _close(number, expected):
        if _close(number, monitoring.psi(batch, reference)):
            return (
                f"repaired_psi is {number:.3f}, expected {expected:.3f}: the arguments are swapped, the training "
                "wines define the bins"
            )
        return f"repaired_psi is {number:.3f}; the PSI of the repaired wines' alcohol is {expected:.3f}"
    if action not in ACTIONS:
        return f"action is {action!r}: answer one of {list(ACTIONS)}"
    right = expected_action(expected)
    if action != right:
        return (
            f"a PSI of {expected:.3f} reads '{ACTIONS[right]}' in the lesson's table, so the action is {right!r}, "
            f"not {action!r}: a calibration to check while the wines are still scored"
            if right == "watch"
            else f"a PSI of {expected:.3f} reads '{ACTIONS[right]}': the action is {right!r}, not {action!r}"
        )
    return None


def check_psi_action(repaired_psi: Any, action: Any, reference: pd.Series, batch: pd.Series) -> Any:
    """Exercise 06.1, its decision: the PSI of a batch the lesson did not show, and what to do about it."""

    def reference_answer():
        value = monitoring.psi(reference, batch)
        return value, expected_action(value)

    return verdict(
        "06.1",
        (repaired_psi, action),
        lambda answer: _judge_psi_action(answer, reference, batch),
        hint="your psi, the training wines first; then read the number with the lesson's table of thresholds "
        "(stable, watch, drift), and say what each reading asks you to do.",
        reference=reference_answer,
        success="the shift of a re-calibrated sensor measured, and read with the lesson's thresholds.",
    )


# --- 06.2 the drifting features of a batch ------------------------------------------------------------


def _scores_series(scores: Any) -> tuple[pd.Series | None, str | None]:
    if isinstance(scores, dict):
        scores = pd.Series(scores, dtype=object)
    if not isinstance(scores, pd.Series):
        return None, (
            f"scores is a {type(scores).__name__}: make it a pandas Series (or a dict) with one PSI per "
            "feature, indexed by the feature names"
        )
    missing = [feature for feature in data.FEATURES if feature not in scores.index]
    unexpected = [name for name in scores.index if name not in data.FEATURES]
    if missing:
        return None, f"scores lacks the feature(s) {missing}: one PSI for each of data.FEATURES"
    if unexpected:
        return None, f"scores has entries that are not features: {unexpected[:3]}; quality is the target, not an input"
    try:
        return scores[data.FEATURES].astype(float), None
    except (TypeError, ValueError):
        return None, "scores should hold numbers only, one PSI per feature"


def reference_scores(reference: pd.DataFrame, batch: pd.DataFrame) -> pd.Series:
    return pd.Series({feature: monitoring.psi(reference[feature], batch[feature]) for feature in data.FEATURES})


def _judge_drifting(answer: tuple[Any, Any], reference: pd.DataFrame, batch: pd.DataFrame) -> str | None:
    scores, drifting = answer
    scores, drifting = solved(scores), solved(drifting)
    scores, problem = _scores_series(scores)
    if problem:
        return problem
    expected = reference_scores(reference, batch)
    swapped = pd.Series({feature: monitoring.psi(batch[feature], reference[feature]) for feature in data.FEATURES})
    for feature in data.FEATURES:
        if not _close(scores[feature], expected[feature]):
            if _close(scores[feature], swapped[feature]):
                return (
                    f"the PSI of {feature!r} is {scores[feature]:.3f}, expected {expected[feature]:.3f}: the arguments "
                    "are swapped; psi(reference[feature], batch[feature]), the training wines define the bins"
                )
            return (
                f"the PSI of {feature!r} is {scores[feature]:.3f}, expected {expected[feature]:.3f}: compute "
                "psi(reference[feature], batch[feature]) for each feature"
            )
    if isinstance(drifting, str) or not hasattr(drifting, "__iter__"):
        return f"drifting is a {type(drifting).__name__}: make it a list of feature names"
    drifting = list(drifting)
    right = set(expected.index[expected > monitoring.PSI_DRIFT])
    watch = set(expected.index[(expected >= monitoring.PSI_WATCH) & (expected <= monitoring.PSI_DRIFT)])
    chosen = set(drifting)
    if chosen == right:
        return None
    if chosen == right | watch:
        return (
            f"drifting also holds {sorted(watch)}, whose PSI lies between 0.1 and 0.25: that is 'watch', not drift; "
            "keep the features above 0.25"
        )
    missing, extra = sorted(right - chosen), sorted(chosen - right)
    return (
        f"drifting should hold the features with a PSI above {monitoring.PSI_DRIFT}"
        + (f"; it misses {missing}" if missing else "")
        + (f"; it should not hold {extra}" if extra else "")
    )


def check_drifting(scores: Any, drifting: Any, reference: pd.DataFrame, batch: pd.DataFrame) -> Any:
    """Exercise 06.2: (scores, drifting) for a batch against the training wines; the reference pair if wrong."""

    def reference_answer():
        expected = reference_scores(reference, batch)
        return expected, expected.index[expected > monitoring.PSI_DRIFT].tolist()

    return verdict(
        "06.2",
        (scores, drifting),
        lambda answer: _judge_drifting(answer, reference, batch),
        hint="one PSI per feature, the training wines as the reference (they define the bins), then keep the "
        "features above the drift threshold; between 0.1 and 0.25 is only 'watch'.",
        reference=reference_answer,
        success="one PSI per feature, the training wines as the reference, and the features above 0.25 picked.",
    )


# --- 06.3 what the server recorded ---------------------------------------------------------------------------

FAULTS = ("client", "service")


def complaint_requests(wines: pd.DataFrame, model: str = "wine") -> list[dict]:
    """The reserve-line app's requests of one afternoon, as its own log has them: {"path", "body"} per request.

    Six are fine (one to three wines each); two send alcohol with a decimal comma, as the app's German locale
    formats it ("12,5"); two ask for a label "production" that models.config never defined.
    """
    rows = wines[data.FEATURES].rename(columns=_input_names()).head(20)
    records = json.loads(rows.to_json(orient="records"))
    stable, unknown = f"/v1/models/{model}/labels/stable:predict", f"/v1/models/{model}/labels/production:predict"
    sizes = [1, 3, 2, 1, 2, 3, 2, 1, 3, 2]
    calls, start = [], 0
    for number, size in enumerate(sizes):
        instances = [dict(record) for record in records[start : start + size]]
        start += size
        path = unknown if number in (4, 8) else stable
        if number in (2, 6):
            for instance in instances:
                instance["alcohol"] = f"{instance['alcohol']:.1f}".replace(".", ",")
        calls.append({"path": path, "body": {"instances": instances}})
    return calls


def _input_names() -> dict:
    from workshop_lib import export  # TensorFlow is imported by export only when this exercise needs its names

    return export.INPUT_NAMES


def _replay(url: str, calls: list[dict]) -> list[int]:
    """The HTTP status of every call, posted with the standard library (the check's own replay)."""
    statuses = []
    for call in calls:
        request = urllib.request.Request(
            url + call["path"], data=json.dumps(call["body"]).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                statuses.append(answer.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def failed_requests(page: str) -> int:
    """The requests a scrape of the metrics page counts with a status other than OK (0 before the first request)."""
    frame = monitoring.parse_prometheus(page)
    if "status" not in frame.columns:
        return 0
    return int(frame.loc[(frame["metric"] == REQUEST_COUNT) & (frame["status"] != "OK"), "value"].sum())


def _not_ok(url: str) -> int:
    with urllib.request.urlopen(url + "/monitoring/prometheus/metrics", timeout=30) as answer:
        return failed_requests(answer.read().decode())


def server_record(url: str, calls: list[dict]) -> tuple[list[int], int, int, str]:
    """(statuses, errors the server counted for the calls, its error total before them, whose fault): the calls
    replayed by the check between two scrapes of the metrics page."""
    before = _not_ok(url)
    statuses = _replay(url, calls)
    counted = _not_ok(url) - before
    return statuses, counted, before, "service" if any(status >= 500 for status in statuses) else "client"


def _judge_server_record(answer: tuple[Any, Any, Any], url: str, calls: list[dict]) -> str | None:
    statuses, errors_counted, fault = (solved(part) for part in answer)
    if isinstance(statuses, (str, bytes)) or not hasattr(statuses, "__len__"):
        return f"statuses is a {type(statuses).__name__}: make it a list with the HTTP status code of each request"
    statuses = list(statuses)
    if len(statuses) != len(calls):
        return f"statuses has {len(statuses)} entries for the {len(calls)} requests of the complaint: one per request"
    if any(hasattr(status, "status_code") for status in statuses):
        return "statuses holds response objects: keep their status codes (response.status_code), numbers"
    expected, counted, total_before, responsible = server_record(url, calls)
    got = [int(status) if isinstance(status, (int, np.integer)) else status for status in statuses]
    if got != expected:
        first = next(number for number, (mine, real) in enumerate(zip(got, expected)) if mine != real)
        return (
            f"request {first + 1} answered {expected[first]} to the check, your statuses say {got[first]!r}: post each "
            "request's body to the server address plus its path, and keep what the server answered"
        )
    number, problem = one_number(errors_counted, "errors_counted")
    if problem:
        return problem
    instances = sum(len(call["body"]["instances"]) for call, status in zip(calls, expected) if status >= 400)
    if number != counted:
        if total_before > 0 and number >= total_before:  # the total at their second scrape, or later
            return (
                f"errors_counted is {number:g}, but the complaint's requests were {counted} of them: the counters "
                "count from the server's start, so what your requests did is the difference between a scrape taken "
                "before them and one taken after"
            )
        if number == instances:
            return (
                f"errors_counted is {number:g}, the wines in the failed requests; the server counts requests "
                f"({counted}), whatever the number of wines each carries"
            )
        if number == 0:
            return (
                "errors_counted is 0, yet the server counted failed requests: read the request_count lines whose "
                "status is not OK"
            )
        return f"errors_counted is {number:g}; between your two scrapes the server counted {counted} failed requests"
    if fault not in FAULTS:
        return f"fault is {fault!r}: answer 'client' or 'service'"
    if fault != responsible:
        return (
            f"fault is {fault!r}, but every failure is a 4xx status: the server understood the request and refused "
            "it (a value it cannot read, a label nobody defined), so the fix is in the client; 5xx or timeouts "
            "would be the service's"
            if responsible == "client"
            else f"fault is {fault!r}, but the server answered with a 5xx status: that failure is the service's"
        )
    return None


def check_server_record(statuses: Any, errors_counted: Any, fault: Any, client: Any, calls: list[dict]) -> Any:
    """Exercise 06.3: the complaint replayed against the live server, the failures it counted, whose fault they
    are. Returns the triple the notebook goes on with."""
    url = client.url

    def reference_answer():
        statuses_, counted, _, responsible = server_record(url, calls)
        return statuses_, counted, responsible

    return verdict(
        "06.3",
        (statuses, errors_counted, fault),
        lambda answer: _judge_server_record(answer, url, calls),
        hint="the metrics page is plain text, one line per series; its request counters grow from the server's "
        "start, so only two readings around your replay say what your requests did. Whose fault a failure is, "
        "the class of its HTTP status says.",
        reference=reference_answer,
        success="the complaint replayed as the app sent it, the server's own count of the failures between two "
        "scrapes, and the right address for the fix.",
    )


# --- 06.4 the post-evaluation join --------------------------------------------------------------------


def reference_post_evaluation(log: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    joined = log.merge(labels, on="request_id", how="left")
    joined["abs_error"] = (joined["prediction"] - joined[data.TARGET]).abs()
    per_version = joined.groupby("version").agg(
        predictions=("request_id", "size"), labelled=(data.TARGET, "count"), mae=("abs_error", "mean")
    )
    return joined, per_version


def _judge_post_evaluation(answer: tuple[Any, Any], log: pd.DataFrame, labels: pd.DataFrame) -> str | None:
    joined, per_version = answer
    joined, per_version = solved(joined), solved(per_version)
    if not isinstance(joined, pd.DataFrame):
        return f"joined is a {type(joined).__name__}: merge the log with the labels, log.merge(labels, ...)"
    inner = int(log["request_id"].isin(labels["request_id"]).sum())
    orphans = int((~labels["request_id"].isin(log["request_id"])).sum())
    if len(joined) == inner and inner < len(log):
        return (
            f"joined has {len(joined)} rows, one per *labelled* prediction: an inner join silently drops the "
            f"{len(log) - inner} predictions whose label has not arrived; use how='left' from the log"
        )
    if len(joined) == len(log) + orphans and orphans:
        return (
            f"joined has {len(joined)} rows: {orphans} labels without a prediction became rows of their own "
            "(an outer or right join); a left join from the log keeps exactly one row per prediction"
        )
    if len(joined) != len(log):
        return f"joined has {len(joined)} rows, the log {len(log)}: a left join keeps one row per prediction"
    if data.TARGET not in joined.columns or "prediction" not in joined.columns:
        return (
            f"joined needs the log's 'prediction' and the labels' '{data.TARGET}' columns; "
            f"it has {list(joined.columns)[:8]}"
        )
    if not isinstance(per_version, pd.DataFrame):
        return f"per_version is a {type(per_version).__name__}: group the joined log by 'version' into a DataFrame"
    needed = [c for c in ("predictions", "labelled", "mae") if c not in per_version.columns]
    if needed:
        return f"per_version lacks the column(s) {needed}; it has {list(per_version.columns)}"
    _, expected = reference_post_evaluation(log, labels)
    try:
        versions = [int(version) for version in per_version.index]
    except (TypeError, ValueError):
        return f"per_version should have one row per model version (the index 1, 2), not {list(per_version.index)[:4]}"
    if sorted(versions) != sorted(expected.index.astype(int)):
        return f"per_version has the versions {versions}, the log {sorted(expected.index.astype(int))}"
    got = per_version.set_axis(versions).sort_index()
    errors = joined.assign(_e=joined["prediction"] - joined[data.TARGET]).groupby("version")["_e"]
    for version, row in expected.iterrows():
        mine = got.loc[int(version)]
        if int(mine["predictions"]) != int(row["predictions"]):
            if int(mine["predictions"]) == int(row["labelled"]):
                return (
                    f"version {version}: predictions {int(mine['predictions'])} counts only the labelled ones; count "
                    f"every prediction ({int(row['predictions'])}), with 'size' rather than 'count'"
                )
            return (
                f"version {version}: predictions is {int(mine['predictions'])}, the log has {int(row['predictions'])}"
            )
        if int(mine["labelled"]) != int(row["labelled"]):
            return (
                f"version {version}: labelled is {int(mine['labelled'])}, expected {int(row['labelled'])}: count the "
                f"non-missing '{data.TARGET}' values ('count' skips NaN, 'size' does not)"
            )
        mae = float(mine["mae"])
        if not math.isclose(mae, row["mae"], rel_tol=1e-6, abs_tol=1e-9):
            hints = {
                "the mean error without abs(): over- and underestimates cancel out": errors.mean().loc[version],
                "the unlabelled predictions count as error 0 (fillna(0)): "
                "the MAE must cover the labelled ones only": row["mae"] * row["labelled"] / row["predictions"],
            }
            meaning = next((f": {text}" for text, value in hints.items() if math.isclose(mae, value, rel_tol=1e-6)), "")
            return f"version {version}: mae is {mae:.4f}, expected {row['mae']:.4f}{meaning}"
    return None


def check_post_evaluation(joined: Any, per_version: Any, log: pd.DataFrame, labels: pd.DataFrame) -> Any:
    """Exercise 06.4: (joined, per_version) from the log and the labels; the reference pair if wrong."""
    return verdict(
        "06.4",
        (joined, per_version),
        lambda answer: _judge_post_evaluation(answer, log, labels),
        hint="the log is the table to keep whole: a join that keeps every row of the log and only those; then per "
        "version, count every prediction, count the labelled ones, and average the absolute error over those only.",
        reference=lambda: reference_post_evaluation(log, labels),
        success="every prediction kept (the unlabelled ones too), and the MAE per version over the labelled ones.",
    )


# --- 06.5 the A/B decision ----------------------------------------------------------------------------


def reference_decide(stable_errors: Any, canary_errors: Any, n_resamples: int = 2000, seed: int = 42) -> Any:
    """(decision, low, high): the 95 % bootstrap interval of mean(canary) - mean(stable) decides."""
    result = monitoring.ab_decision(stable_errors, canary_errors, n_resamples=n_resamples, seed=seed, min_per_arm=0)
    return result.decision, result.low, result.high


def ab_cases(stable_errors: Any, canary_errors: Any) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(what the case is, stable errors, canary errors): the notebook's outcomes and planted ones with a clear
    answer."""
    rng = np.random.default_rng(2)
    better, worse = np.abs(rng.normal(0, 0.6, 400)), np.abs(rng.normal(0, 0.8, 400))
    small = np.random.default_rng(5)
    return [
        ("the notebook's A/B outcomes", np.asarray(stable_errors, dtype=float), np.asarray(canary_errors, dtype=float)),
        (
            "12 outcomes each, the canary's mean error lower by 0.1",
            np.abs(small.normal(0, 0.8, 12)),
            np.abs(small.normal(0, 0.7, 12)),
        ),
        ("400 outcomes each, the canary planted worse", better, worse),
        ("400 outcomes each, the same error distribution", better, np.abs(rng.normal(0, 0.6, 400))),
    ]


def _judge_decide(answer: Any, stable_errors: ArrayLike, canary_errors: ArrayLike) -> str | None:
    if not callable(answer):
        return (
            f"decide is a {type(answer).__name__}, not a function: "
            "def decide(stable_errors, canary_errors, n_resamples=2000, seed=42):"
        )
    allowed = (monitoring.CANARY_BETTER, monitoring.STABLE_BETTER, monitoring.UNDECIDED)
    for what, stable, canary in ab_cases(stable_errors, canary_errors):
        shown = f"for {what}"
        try:
            result = answer(stable.copy(), canary.copy())
        except Exception as error:  # noqa: BLE001
            return f"{shown} decide raised {first_line(error)}"
        result = solved(result)
        if not isinstance(result, tuple) or len(result) != 3:
            return f"{shown} decide returned {type(result).__name__} {result!r:.60}, not a tuple (decision, low, high)"
        decision, low, high = result
        if decision not in allowed:
            return f"{shown} the decision is {decision!r}; it should be one of {list(allowed)}"
        try:
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            return f"{shown} low and high should be numbers, the ends of the interval"
        _, ref_low, ref_high = reference_decide(stable, canary)
        width = ref_high - ref_low
        difference = canary.mean() - stable.mean()
        tolerance = 0.15 * width + 1e-3  # another set of resamples moves the ends a little
        if (
            math.isclose(low, -ref_high, abs_tol=tolerance)
            and math.isclose(high, -ref_low, abs_tol=tolerance)
            and not math.isclose(low, ref_low, abs_tol=tolerance)
        ):
            return (
                f"{shown} your interval [{low:+.3f}, {high:+.3f}] is the mirror image of the expected one: "
                "compute canary - stable"
            )
        if not (math.isclose(low, ref_low, abs_tol=tolerance) and math.isclose(high, ref_high, abs_tol=tolerance)):
            return (
                f"{shown} your interval is [{low:+.3f}, {high:+.3f}], "
                f"expected about [{ref_low:+.3f}, {ref_high:+.3f}]: "
                "the 2.5th and 97.5th percentiles of n_resamples differences of the means, each arm resampled "
                "with replacement"
            )
        # The decision must follow the participant's own interval (which matches the reference's within the
        # resampling noise), so an interval that ends right at 0 cannot make a right answer wrong.
        follows = (
            monitoring.CANARY_BETTER if high < 0 else monitoring.STABLE_BETTER if low > 0 else monitoring.UNDECIDED
        )
        if decision != follows:
            if follows == monitoring.UNDECIDED and decision == (
                monitoring.CANARY_BETTER if difference < 0 else monitoring.STABLE_BETTER
            ):
                return (
                    f"{shown} decide says {decision!r} because the means differ by {difference:+.3f}, but the interval "
                    f"[{low:+.3f}, {high:+.3f}] contains 0: the data cannot tell the versions apart, "
                    f"{monitoring.UNDECIDED!r}"
                )
            return (
                f"{shown} decide says {decision!r} for the interval [{low:+.3f}, {high:+.3f}]; "
                "entirely below 0 means the "
                f"canary errs less ({monitoring.CANARY_BETTER!r}), entirely above 0 the stable version "
                f"({monitoring.STABLE_BETTER!r}), and an interval that contains 0 {monitoring.UNDECIDED!r}"
            )
    return None


def check_ab_decision(answer: Any, stable_errors: Any, canary_errors: Any) -> Any:
    """Exercise 06.5: decide(stable_errors, canary_errors) on the notebook's and planted outcomes; the reference if
    wrong."""
    return verdict(
        "06.5",
        answer,
        lambda function: _judge_decide(function, stable_errors, canary_errors),
        hint="resample each group from itself, with replacement and at its own size, many times; the middle 95 % "
        "of the differences canary - stable is the interval; an interval that contains 0 cannot tell the versions "
        "apart, however different the two means look.",
        reference=lambda: reference_decide,
        success="the decision follows the interval, not the difference of the means: a canary mean lower by 0.1 "
        "from 12 outcomes per version is not enough to decide.",
    )
