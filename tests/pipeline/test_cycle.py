"""Module 07's promise, tested with a real DVC project, real training and a real model server.

The cycle promotes a better model and refuses a worse one; what the server answers with changes
only on a promotion; a corrupt batch stops before training and a failed smoke test is rolled back,
with nothing lost (the batch file, the project's main branch, the served versions); running a batch
twice changes nothing; the command line ends a bad batch in one "error:" line.

The tests share one cycle set-up, built once by module-scoped fixtures like the first weeks of the story:
the first version (red wines), then a batch of white wines promoted to version 2. Every test starts from
that state and needs no other test to have run: each run a test makes is one that must leave the project
and the served versions as they were (refused, stopped, failed, nothing new), and the test says so with a
snapshot before and after. What the first two runs left is recorded by their fixtures at the time.
"""

import json
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from workshop_lib import cycle, data, export

# Enough training for the first version to beat the mean baseline clearly, and fast (about 1 s per run).
EPOCHS = 15
WHITE_ROWS = 600  # white wines per batch: small batches, quick runs


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return cycle.create(tmp_path_factory.mktemp("cycle") / "winery", epochs=EPOCHS)


@pytest.fixture(scope="module")
def client(setup):
    server = cycle.start_server(setup)
    yield server.client()
    server.stop()


@pytest.fixture(scope="module")
def batches(setup):
    """white_1.csv and white_2.csv: new wines; broken.csv: a density meter that reports kg/m³."""
    white = data.load_wine("white")
    folder = setup.folder / "incoming"
    folder.mkdir()
    paths = {}
    for number in (1, 2):
        paths[f"white_{number}"] = folder / f"white_{number}.csv"
        white.iloc[(number - 1) * WHITE_ROWS : number * WHITE_ROWS].to_csv(paths[f"white_{number}"], index=False)
    broken = white.iloc[2 * WHITE_ROWS : 2 * WHITE_ROWS + 100].copy()
    broken["density"] = (broken["density"] * 1000).round(2)
    paths["broken"] = folder / "broken.csv"
    broken.to_csv(paths["broken"], index=False)
    return paths


@pytest.fixture(scope="module")
def first(setup, client) -> dict:
    """The first run (no batch: the red wines), and what it left, recorded right after it."""
    report = cycle.run_cycle(setup, client=client)
    return {
        "report": report,
        "serving": cycle.serving_version(client),
        "tags": setup.project.git("tag", show=False).output.split(),
        "wines": data.load_wine(setup.project.path / "data/wine.csv"),
    }


@pytest.fixture(scope="module")
def second(first, setup, client, batches) -> dict:
    """The white wines of white_1.csv promoted to version 2: the state every other test starts from."""
    report = cycle.run_cycle(setup, batches["white_1"], client=client)
    project = setup.project
    return {
        "report": report,
        "serving": wait_until_serving(client, 2),
        "branch": project.git("branch", "--show-current", show=False).output,
        "status": project.git("status", "--porcelain", show=False).output,
        "tags": project.git("tag", show=False).output.split(),
        "metrics": json.loads((project.path / cycle.METRICS_FILE).read_text()),
        "baseline": json.loads(setup.baseline_file.read_text()),
        "series": setup.series_file.read_text(),
    }


@pytest.fixture
def promoted(second, setup, client):
    """Versions 1 and 2 exist and 2 serves: checked before each test, so a broken state is reported where it is."""
    assert second["report"].promoted, second["report"]
    assert wait_until_serving(client, 2) == 2
    assert setup.project.git("branch", "--show-current", show=False).output == "main"
    return second


def snapshot(setup, client, batch=None) -> dict:
    """Everything a stopped or failed run must leave as it was."""
    project = setup.project
    return {
        "batch file": data.sha256_of(batch) if batch else None,
        "branch": project.git("branch", "--show-current", show=False).output,
        "main": project.git("rev-parse", "main", show=False).output,
        "working tree": project.git("status", "--porcelain", show=False).output,
        "data": project.data_hash(),
        "tags": project.git("tag", show=False).output,
        "version folders": sorted(path.name for path in setup.served.iterdir()),
        "answering version": cycle.serving_version(client),
        "baseline": setup.baseline_file.read_text() if setup.baseline_file.exists() else None,
    }


def wait_until_serving(client, version, timeout=30.0) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = cycle.version_states(client)
        if states.get(version) == "AVAILABLE" and [v for v, s in states.items() if s == "AVAILABLE"] == [version]:
            return version
        time.sleep(0.2)
    return cycle.serving_version(client)


def outcomes(report) -> dict[str, str]:
    return {step.name: step.outcome for step in report.steps}


def rows(frame) -> set[tuple]:
    return set(frame[list(data.SCHEMA)].itertuples(index=False, name=None))


def test_the_split_is_stable_when_wines_are_added():
    """Yesterday's held-out wines stay held out, so no version is ever graded on wines it learned from."""
    red, white = data.load_wine("red"), data.load_wine("white")
    train_before, test_before = cycle.stable_split(red)
    train_after, test_after = cycle.stable_split(pd.concat([red, white.head(1000)], ignore_index=True))
    assert rows(test_before) <= rows(test_after) and rows(train_before) <= rows(train_after)
    assert not rows(train_after) & rows(test_after)
    assert 0.15 < len(test_after) / (len(train_after) + len(test_after)) < 0.25
    assert cycle.MODEL_NAME == export.MODEL_NAME


def test_the_first_version_must_beat_the_mean_baseline(first):
    report = first["report"]
    assert report.promoted, report
    assert report.version_before is None and report.version_after == 1
    assert report.production == cycle.baseline_metrics(*cycle.stable_split(first["wines"]))
    assert report.candidate["mae"] <= report.production["mae"] - cycle.MARGIN
    assert first["serving"] == 1
    assert first["tags"] == ["v1"]


def test_a_better_candidate_is_promoted_and_served(second):
    report = second["report"]
    assert report.promoted, report
    assert list(outcomes(report).values()) == [cycle.OK] * len(cycle.STEPS)
    assert (report.version_before, report.version_after) == (1, 2)
    assert report.candidate["n_test"] == report.production["n_test"]  # the same held-out wines
    assert second["serving"] == 2
    assert second["branch"] == "main" and second["status"] == ""
    assert second["tags"] == ["v1", "v2"]
    assert second["metrics"]["decision"] == "promote"
    assert second["baseline"]["info"]["model_version"] == 2


def test_the_run_publishes_the_batch_drift_and_the_predictions_as_series(second):
    """monitoring/series.prom: what Prometheus's alert rules read, for the batch the run judged."""
    from prometheus_client.parser import text_string_to_metric_families

    from workshop_lib import export
    from workshop_lib.monitoring import drift

    families = {family.name: family for family in text_string_to_metric_families(second["series"])}
    psi = {sample.labels["feature"]: sample.value for sample in families["wine_input_psi"].samples}
    assert sorted(psi) == sorted(export.INPUTS)
    assert max(psi.values()) > drift.PSI_DRIFT  # white wines against version 1's red training wines
    counts = [sample.value for sample in families["wine_predicted_quality"].samples if sample.name.endswith("_count")]
    assert counts == [second["report"].candidate["n_test"]]  # the candidate's predictions of the held-out wines
    assert families["wine_prediction_psi"].samples[0].value >= 0  # against version 1's on the same wines


def test_a_worse_candidate_is_refused_and_clients_see_no_change(promoted, setup, client, batches):
    before = snapshot(setup, client)
    worse = cycle.run_cycle(setup, batches["white_2"], client=client, params={"train.epochs": 1})  # planted
    assert worse.decision == cycle.REFUSED, worse
    assert worse.candidate["mae"] > worse.production["mae"]
    steps = outcomes(worse)
    assert steps["quality gate"] == cycle.REFUSED
    assert [steps[name] for name in cycle.STEPS[5:]] == [cycle.SKIPPED] * 5  # nothing exported
    assert snapshot(setup, client) == before
    # The evidence stays on the run's branch: the params that caused it and the gate's record.
    project = setup.project
    assert "epochs: 1" in project.git("show", f"{worse.branch}:params.yaml", show=False).output
    assert json.loads(project.git("show", f"{worse.branch}:metrics.json", show=False).output)["decision"] == "refuse"


def test_a_corrupt_batch_stops_before_training_and_nothing_is_lost(promoted, setup, client, batches):
    before = snapshot(setup, client, batches["broken"])
    branches = setup.project.git("branch", "--list", show=False).output
    report = cycle.run_cycle(setup, batches["broken"], client=client)
    assert report.decision == cycle.STOPPED
    assert report.steps[0].name == "validate" and report.steps[0].outcome == cycle.STOPPED
    assert "'density'" in report.reason and "broken.csv" in report.reason
    assert all(step.outcome == cycle.SKIPPED for step in report.steps[1:])  # no branch, no training
    assert snapshot(setup, client, batches["broken"]) == before
    assert setup.project.git("branch", "--list", show=False).output == branches
    again = cycle.run_cycle(setup, batches["broken"], client=client)  # no branch either: still a number of its own
    assert report.run > promoted["report"].run and again.run == report.run + 1
    assert setup.runs_log.read_text().splitlines()[-1].startswith(f"run {again.run}\tbroken.csv\t")


def test_the_command_line_ends_a_bad_batch_in_one_error_line(promoted, setup, client, batches):
    before = snapshot(setup, client, batches["broken"])
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "workshop_lib",
            "cycle",
            "--batch",
            str(batches["broken"]),
            "--folder",
            str(setup.folder),
            "--server",
            client.url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), finished.stderr
    assert "'density'" in lines[0] and "nothing was changed" in lines[0]
    assert "Traceback" not in finished.stdout + finished.stderr
    assert snapshot(setup, client, batches["broken"]) == before


def test_the_command_line_refuses_an_unknown_parameter(setup, batches):
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "workshop_lib",
            "cycle",
            "--batch",
            str(batches["white_2"]),
            "--folder",
            str(setup.folder),
            "--set",
            "train.speed=fast",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    assert finished.stderr.startswith("error: --set 'train.speed=fast'") and len(finished.stderr.splitlines()) == 1


def test_a_batch_already_in_the_data_changes_nothing(promoted, setup, client, batches):
    before = snapshot(setup, client, batches["white_1"])
    again = cycle.run_cycle(setup, batches["white_1"], client=client)
    assert again.decision == cycle.NOTHING_NEW
    assert snapshot(setup, client, batches["white_1"]) == before


def test_a_failed_smoke_test_withdraws_the_new_version(promoted, setup, client, batches, monkeypatch):
    """A deployment that answers wrongly is rolled back: clients go back to the version before."""
    before = snapshot(setup, client, batches["white_2"])
    # The run calls the smoke test of workshop_lib.cycle.steps; planted here, the run's step reports it.
    monkeypatch.setattr(cycle.steps, "smoke_test", lambda *args: ["planted: the server answers 0.3 points off"])
    failed = cycle.run_cycle(setup, batches["white_2"], client=client)
    assert failed.decision == cycle.FAILED, failed
    steps = outcomes(failed)
    assert steps["quality gate"] == cycle.OK and steps["export"] == cycle.OK and steps["smoke test"] == cycle.FAILED
    assert steps["baseline"] == steps["record"] == cycle.SKIPPED
    assert "planted" in failed.reason and not failed.rollback_error
    assert wait_until_serving(client, 2) == 2
    assert snapshot(setup, client, batches["white_2"]) == before


def test_a_failed_rollback_is_reported_not_hidden(promoted, setup, client, batches, monkeypatch):
    """If putting things back fails too, the report says so and why: someone has to look at the project."""
    before = snapshot(setup, client, batches["white_2"])
    monkeypatch.setattr(cycle.run, "_append_rows", _raise("planted: the data file is read-only"))
    monkeypatch.setattr(cycle.CycleRun, "_back_to_main", _raise("planted: git checkout main failed"))
    failed = cycle.run_cycle(setup, batches["white_2"], client=client)
    assert failed.decision == cycle.FAILED, failed
    assert outcomes(failed)["add data"] == cycle.FAILED
    assert failed.reason.startswith("add data: RuntimeError: planted: the data file is read-only")
    assert "the rollback failed" in failed.reason and "planted: git checkout main failed" in failed.reason
    assert failed.branch in failed.rollback_error and "rollback failed" in failed.summary()
    # The project really is left on the run's branch, as the report says; put it back by hand.
    project = setup.project
    assert project.git("branch", "--show-current", show=False).output == failed.branch
    project.git("checkout", "--quiet", "--force", "main", show=False)
    project.git("branch", "--quiet", "-D", failed.branch, show=False)
    assert snapshot(setup, client, batches["white_2"]) == before


def test_a_bad_params_change_stops_before_anything_changes(promoted, setup, client, batches):
    before = snapshot(setup, client, batches["white_2"])
    branches = setup.project.git("branch", "--list", show=False).output
    report = cycle.run_cycle(setup, batches["white_2"], client=client, params={"train.epochs": 0})
    assert report.decision == cycle.FAILED and outcomes(report)["add data"] == cycle.FAILED
    assert "'train.epochs' must be a whole number >= 1, got 0" in report.reason
    assert snapshot(setup, client, batches["white_2"]) == before
    assert setup.project.git("branch", "--list", show=False).output == branches


def _raise(message: str):
    def planted(*args, **kwargs):
        raise RuntimeError(message)

    return planted


def test_a_hung_git_or_dvc_command_is_stopped_and_named(tmp_path):
    """Every git and dvc call of the cycle has a timeout; a hung one ends in an error naming the command."""
    from workshop_lib import dvc_project

    project = dvc_project.Project(tmp_path)
    project.path.mkdir()
    with pytest.raises(dvc_project.CommandTimeout, match=r"`.*time\.sleep\(5\).*` did not finish within 0.5 s"):
        project.run(sys.executable, "-c", "import time; time.sleep(5)", show=False, timeout=0.5)
    assert dvc_project.COMMAND_TIMEOUT > 0


def test_a_release_is_withdrawn_while_requests_keep_being_answered(tmp_path, batches):
    """Its own set-up (the shared one must keep version 2): v1, then v2; v2 withdrawn under load."""
    own = cycle.create(tmp_path / "winery", epochs=EPOCHS)
    server = cycle.start_server(own)
    try:
        client = server.client()
        assert cycle.run_cycle(own, client=client).promoted
        assert cycle.run_cycle(own, batches["white_1"], client=client).promoted
        assert wait_until_serving(client, 2) == 2
        rows = data.load_wine("red").head(5)[data.FEATURES].rename(columns=export.INPUT_NAMES).to_dict("records")
        answered, failed, stop = [], [], threading.Event()

        def traffic():
            while not stop.is_set():
                try:
                    answered.append(client.predict(rows))
                except Exception as error:  # noqa: BLE001 - every failure is a finding of this test
                    failed.append(error)

        sender = threading.Thread(target=traffic)
        sender.start()
        try:
            said = cycle.withdraw_release(own, "the red lab's scores got worse", client=client)
        finally:
            time.sleep(0.5)
            stop.set()
            sender.join()
        assert failed == [] and len(answered) > 0
        assert "version 2 withdrawn" in said and "version 1 serves again" in said
        assert cycle.serving_version(client) == 1
        assert sorted(path.name for path in own.served.iterdir()) == ["1"]
        assert json.loads(own.baseline_file.read_text())["info"]["model_version"] == 1
        tags = own.project.git("tag", "-n1", show=False).output
        assert "v2-withdrawn" in tags and "the red lab's scores got worse" in tags and "v2 " in tags
        # The number 2 is not given to another model: the next release is version 3.
        assert cycle.run_cycle(own, batches["white_2"], client=client).version_after == 3
        # With one version left, withdrawing it would leave the server without a model.
        cycle.withdraw(own.served, 3)
        command = [sys.executable, "-m", "workshop_lib", "withdraw", "--reason", "again", "--folder", str(own.folder)]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 1 and finished.stderr.startswith("error: version 1 is the only version")
        assert len(finished.stderr.splitlines()) == 1
        with pytest.raises(ValueError, match="say why"):
            cycle.withdraw_release(own, " ", client=client)
    finally:
        server.stop()
