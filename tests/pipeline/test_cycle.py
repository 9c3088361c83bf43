"""Module 07's promise, tested with a real DVC project, real training and a real model server.

The cycle promotes a better model and refuses a worse one; what the server answers with changes
only on a promotion; a corrupt batch stops before training and a failed smoke test is rolled back,
with nothing lost (the batch file, the project's main branch, the served versions); running a batch
twice changes nothing; the command line ends a bad batch in one "error:" line.

The tests share one cycle set-up and run in file order, like the weeks of the story: the first
version (red wines), a batch of white wines, a planted worse candidate, a corrupt batch, ...
"""

import json
import subprocess
import sys
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
        white.iloc[(number - 1) * WHITE_ROWS: number * WHITE_ROWS].to_csv(paths[f"white_{number}"], index=False)
    broken = white.iloc[2 * WHITE_ROWS: 2 * WHITE_ROWS + 100].copy()
    broken["density"] = (broken["density"] * 1000).round(2)
    paths["broken"] = folder / "broken.csv"
    broken.to_csv(paths["broken"], index=False)
    return paths


@pytest.fixture(scope="module")
def first(setup, client):
    return cycle.run_cycle(setup, client=client)


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


def test_the_first_version_must_beat_the_mean_baseline(first, setup, client):
    assert first.promoted, first
    assert first.version_before is None and first.version_after == 1
    assert first.production == cycle.baseline_metrics(*cycle.stable_split(data.load_wine(setup.project.path / "data/wine.csv")))
    assert first.candidate["mae"] <= first.production["mae"] - cycle.MARGIN
    assert cycle.serving_version(client) == 1
    assert setup.project.git("tag", show=False).output.split() == ["v1"]


def test_a_better_candidate_is_promoted_and_served(first, setup, client, batches):
    report = cycle.run_cycle(setup, batches["white_1"], client=client)
    assert report.promoted, report
    assert list(outcomes(report).values()) == [cycle.OK] * len(cycle.STEPS)
    assert (report.version_before, report.version_after) == (1, 2)
    assert report.candidate["n_test"] == report.production["n_test"]  # the same held-out wines
    assert wait_until_serving(client, 2) == 2
    project = setup.project
    assert project.git("branch", "--show-current", show=False).output == "main"
    assert project.git("status", "--porcelain", show=False).output == ""
    assert project.git("tag", show=False).output.split() == ["v1", "v2"]
    assert json.loads((project.path / cycle.METRICS_FILE).read_text())["decision"] == "promote"
    assert json.loads(setup.baseline_file.read_text())["info"]["model_version"] == 2


def test_a_worse_candidate_is_refused_and_clients_see_no_change(setup, client, batches):
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


def test_a_corrupt_batch_stops_before_training_and_nothing_is_lost(setup, client, batches):
    before = snapshot(setup, client, batches["broken"])
    branches = setup.project.git("branch", "--list", show=False).output
    report = cycle.run_cycle(setup, batches["broken"], client=client)
    assert report.decision == cycle.STOPPED
    assert report.steps[0].name == "validate" and report.steps[0].outcome == cycle.STOPPED
    assert "'density'" in report.reason and "broken.csv" in report.reason
    assert all(step.outcome == cycle.SKIPPED for step in report.steps[1:])  # no branch, no training
    assert snapshot(setup, client, batches["broken"]) == before
    assert setup.project.git("branch", "--list", show=False).output == branches


def test_the_command_line_ends_a_bad_batch_in_one_error_line(setup, client, batches):
    before = snapshot(setup, client, batches["broken"])
    finished = subprocess.run([sys.executable, "-m", "workshop_lib", "cycle", "--batch", str(batches["broken"]),
                               "--folder", str(setup.folder), "--server", client.url],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 1
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), finished.stderr
    assert "'density'" in lines[0] and "nothing was changed" in lines[0]
    assert "Traceback" not in finished.stdout + finished.stderr
    assert snapshot(setup, client, batches["broken"]) == before


def test_the_command_line_refuses_an_unknown_parameter(setup, batches):
    finished = subprocess.run([sys.executable, "-m", "workshop_lib", "cycle", "--batch", str(batches["white_2"]),
                               "--folder", str(setup.folder), "--set", "train.speed=fast"],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 1
    assert finished.stderr.startswith("error: --set 'train.speed=fast'") and len(finished.stderr.splitlines()) == 1


def test_a_batch_already_in_the_data_changes_nothing(setup, client, batches):
    before = snapshot(setup, client, batches["white_1"])
    again = cycle.run_cycle(setup, batches["white_1"], client=client)
    assert again.decision == cycle.NOTHING_NEW
    assert snapshot(setup, client, batches["white_1"]) == before


def test_a_failed_smoke_test_withdraws_the_new_version(setup, client, batches, monkeypatch):
    """A deployment that answers wrongly is rolled back: clients go back to the version before."""
    before = snapshot(setup, client, batches["white_2"])
    monkeypatch.setattr(cycle, "smoke_test", lambda *args: ["planted: the server answers 0.3 points off"])
    failed = cycle.run_cycle(setup, batches["white_2"], client=client)
    assert failed.decision == cycle.FAILED, failed
    steps = outcomes(failed)
    assert steps["quality gate"] == cycle.OK and steps["export"] == cycle.OK and steps["smoke test"] == cycle.FAILED
    assert steps["baseline"] == steps["record"] == cycle.SKIPPED
    assert "planted" in failed.reason
    assert wait_until_serving(client, 2) == 2
    assert snapshot(setup, client, batches["white_2"]) == before
