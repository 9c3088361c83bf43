"""New versions are picked up while the server runs, as with --file_system_poll_wait_seconds.

The server is started with TF Serving's single-model flags (--model_name, --model_base_path),
so the latest version policy applies: a new version folder replaces the served one, and a
broken one is reported in the status without taking the model down. Each test has a server and a
base path of its own, so they pass in any order.
"""

import time

import pytest

from model_server import ServingError

POLL_TIMEOUT = 60  # generous: a loaded machine may be slow; a working server needs about a second


@pytest.fixture
def hot(model_store, tmp_path_factory, start_server, copy_version):
    base_path = tmp_path_factory.mktemp("hot") / "hot"
    base_path.mkdir()
    copy_version(model_store / "lin" / "1", base_path, 1)
    server = start_server(model_base_path=base_path, model_name="hot", file_system_poll_wait_seconds=1)
    yield server, base_path
    server.stop()


def states(client) -> dict[str, str]:
    return {entry["version"]: entry["state"] for entry in client.status()["model_version_status"]}


def wait_for(condition, what: str):
    deadline = time.monotonic() + POLL_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what} after {POLL_TIMEOUT} s")
        time.sleep(0.1)


def test_serves_the_only_version(hot):
    server, _ = hot
    client = server.client()
    assert client.model_name == "hot"
    assert states(client) == {"1": "AVAILABLE"}
    assert client.predict([[1.0]]) == [[2.5]]


def test_picks_up_a_new_version_without_restart(hot, model_store, copy_version):
    server, base_path = hot
    client = server.client()
    copy_version(model_store / "lin" / "2", base_path, 2)
    wait_for(lambda: states(client) == {"2": "AVAILABLE", "1": "END"}, "version 2 to replace version 1")
    assert client.predict([[1.0]]) == [[3.5]]
    with pytest.raises(ServingError, match=r"Servable not found for request: Specific\(hot, 1\)"):
        client.predict([[1.0]], version=1)
    assert "Unloaded servable version {name: hot version: 1}" in server.log()


def test_a_broken_version_is_reported_and_the_model_stays_up(hot):
    server, base_path = hot
    client = server.client()
    broken = base_path / ".staging-3"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    broken.rename(base_path / "3")
    wait_for(lambda: "3" in states(client) and states(client)["3"] == "END", "version 3 to fail")
    version_3 = client.status(version=3)["model_version_status"][0]
    assert version_3["status"]["error_code"] != "OK" and version_3["status"]["error_message"]
    assert states(client)["1"] == "AVAILABLE"
    assert client.predict([[1.0]]) == [[2.5]]
    assert "Loading servable version {name: hot version: 3} failed" in server.log()
