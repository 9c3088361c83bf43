"""The doctor's checks: each can pass, each can fail, and a failure always names its fix."""

import os
import socket
import subprocess
import sys

from course import doctor
from workshop_lib.config import REPO_ROOT


def test_this_machine_is_ready():
    """`make test` runs here, so every check that does not depend on other programs must pass."""
    results = doctor.run_checks(check_ports=False, tf_serving_url="http://127.0.0.1:9")
    failed = [r for r in results if r.status == doctor.FAIL]
    assert failed == [], doctor.format_table(results)


def test_a_venv_that_differs_from_the_lock_fails_with_the_set_up_fix(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("pandas==0.0.1 \\\n    --hash=sha256:00\n    # via -r requirements.txt\nno-such-package-xyz==1.0\n")
    result = doctor.check_packages(lock)
    assert result.status == doctor.FAIL
    assert "pandas" in result.detail and "the lock names 0.0.1" in result.detail
    assert "no-such-package-xyz missing" in result.detail
    assert "make lab" in result.fix


def test_absent_tf_serving_is_information_not_failure():
    result = doctor.check_tf_serving("http://127.0.0.1:9")
    assert result.status == doctor.INFO
    assert "http://127.0.0.1:9" in result.detail


def test_tf_serving_without_the_model_yet_passes(json_server):
    url = json_server(404, {"error": "Servable not found for request: Latest(wine)"})
    result = doctor.check_tf_serving(url)
    assert result.status == doctor.PASS and "not loaded yet" in result.detail


def test_tf_serving_with_the_model_lists_its_versions(json_server):
    url = json_server(200, {"model_version_status": [{"version": "1", "state": "AVAILABLE"}]})
    assert "v1 AVAILABLE" in doctor.check_tf_serving(url).detail


def test_something_else_at_the_tf_serving_url_is_a_warning(json_server):
    url = json_server(200, "<html>a web page</html>")
    result = doctor.check_tf_serving(url)
    assert result.status == doctor.WARN and "TF_SERVING_URL" in result.fix


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_free_port_passes():
    assert doctor.check_port(_free_port(), "a test").status == doctor.PASS


def test_port_used_by_another_program_fails_with_how_to_find_it():
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        result = doctor.check_port(blocker.getsockname()[1], "a test")
    assert result.status == doctor.FAIL
    assert "lsof" in result.fix and "netstat" in result.fix


def test_port_used_by_jupyter_passes(json_server):
    url = json_server(200, {"version": "2.21.1"})
    assert doctor.check_port(int(url.rsplit(":", 1)[1])).detail == "in use by JupyterLab"


def test_table_shows_marks_and_the_fix_of_each_failure():
    results = [
        doctor.CheckResult("Python", doctor.PASS, "3.11.7"),
        doctor.CheckResult("Disk", doctor.FAIL, "0.5 GiB free", "free some disk space"),
    ]
    table = doctor.format_table(results)
    assert "✔ pass  Python" in table and "✘ FAIL  Disk" in table
    assert "How to fix:\n  Disk: free some disk space" in table
    assert doctor.summary(results).startswith("Not ready: 1 check(s) failed (Disk)")
    assert doctor.summary(results[:1]) == "Ready for the workshop: no check failed."


def test_cli_prints_the_table_and_exits_zero_here():
    done = subprocess.run(
        [sys.executable, "-m", "course", "doctor", "--skip-ports"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        env={**os.environ, "TF_SERVING_URL": "http://127.0.0.1:9"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Wine data" in done.stdout and "Ready for the workshop" in done.stdout


def test_cli_rejects_an_unknown_command_with_usage():
    done = subprocess.run([sys.executable, "-m", "course", "bogus"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "usage:" in done.stderr and "invalid choice: 'bogus'" in done.stderr


def test_memory_and_disk_thresholds():
    assert doctor.check_memory(min_gib=10**6, comfortable_gib=10**7).status == doctor.FAIL
    low = doctor.check_disk(min_gib=0, comfortable_gib=10**6)
    assert low.status == doctor.WARN and "comfortable" in low.detail and "disk space" in low.fix
    assert doctor.check_disk(min_gib=0, comfortable_gib=0).status == doctor.PASS
