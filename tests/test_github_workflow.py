""".github/workflows/test.yml and upgrade-probe.yml, checked without a GitHub runner (this project's own CI has none).

The workflow runs `make test` on Linux and on macOS arm64 with the oldest and the newest supported
Python. Nothing here runs it: the file is validated against GitHub's workflow schema as vendored by
check-jsonschema (offline), and its matrix is compared with course/doctor.py's SUPPORTED_PYTHONS,
so a typo or a forgotten Python shows up in `make test` rather than on GitHub's side. upgrade-probe.yml
runs `make upgrade-probe` every week: its schedule, Pythons, make target and report are checked the same way.
"""

import itertools
import re
import shlex

import pytest
import yaml
from schemas import schema_check

from course import doctor
from workshop_lib.config import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "test.yml"
PROBE_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "upgrade-probe.yml"
GITHUB_WORKFLOWS = "vendor.github-workflows"  # the workflow schema check-jsonschema vendors
# The Google Chrome that GitHub's runner images have preinstalled, per OS.
CHROME = {"linux": "/usr/bin/google-chrome", "macos": "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"}


def triggers(workflow: dict) -> dict:
    """The `on:` mapping. YAML 1.1 (PyYAML) reads the bare key `on` as True."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def matrix_combinations(matrix: dict) -> list[dict]:
    """The jobs a strategy.matrix makes, with GitHub's rules for `include` (and `exclude`).

    An include entry is added to every combination whose original values it does not change; one
    that fits none becomes a combination of its own.
    """
    axes = {key: values for key, values in matrix.items() if key not in {"include", "exclude"}}
    combinations = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
    combinations = [
        combo
        for combo in combinations
        if not any(all(combo.get(k) == v for k, v in ex.items()) for ex in matrix.get("exclude", []))
    ]
    originals = [dict(combo) for combo in combinations]
    for entry in matrix.get("include", []):
        fitting = [
            i
            for i, original in enumerate(originals)
            if all(original[k] == v for k, v in entry.items() if k in original)
        ]
        if fitting:
            for i in fitting:
                combinations[i].update(entry)
        else:
            combinations.append(dict(entry))
    return combinations


def runner_os(label: str) -> str | None:
    """'linux' or 'macos' for a GitHub-hosted runner label."""
    return "linux" if label.startswith("ubuntu-") else "macos" if label.startswith("macos-") else None


def is_macos_arm64(label: str) -> bool:
    """macos-14 and later (and their -xlarge) are Apple Silicon; macos-13 and every -large are Intel."""
    if label == "macos-latest":
        return True
    match = re.fullmatch(r"macos-(\d+)(-xlarge)?", label)
    return bool(match) and int(match[1]) >= 14


def python_label(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    (job,) = workflow["jobs"].values()
    return job


# ---------------------------------------------------------------- the workflow file


def test_workflow_follows_githubs_schema():
    status, output = schema_check(GITHUB_WORKFLOWS, WORKFLOW)
    assert status == 0, output


def test_workflow_says_it_is_checked_statically():
    comment = "".join(
        itertools.takewhile(
            lambda line: line.startswith("#"), WORKFLOW.read_text(encoding="utf-8").splitlines(keepends=True)
        )
    )
    assert "tests/test_github_workflow.py" in comment and "no GitHub runner" in comment, comment


def test_runs_on_push_and_pull_request_with_read_only_token(workflow, job):
    assert {"push", "pull_request"} <= set(triggers(workflow))
    assert workflow["permissions"] == {"contents": "read"}
    assert job["timeout-minutes"] == 60
    assert job["strategy"]["fail-fast"] is False


def test_matrix_pythons_are_the_oldest_and_newest_supported(job):
    pythons = job["strategy"]["matrix"]["python"]
    # Strings: unquoted, YAML would read 3.10 as the float 3.1.
    assert all(isinstance(python, str) for python in pythons), pythons
    assert pythons == [python_label(min(doctor.SUPPORTED_PYTHONS)), python_label(max(doctor.SUPPORTED_PYTHONS))]


def test_matrix_has_linux_and_macos_arm64(job):
    runners = job["strategy"]["matrix"]["os"]
    assert job["runs-on"] == "${{ matrix.os }}"
    assert any(runner_os(label) == "linux" for label in runners), runners
    assert any(is_macos_arm64(label) for label in runners), runners
    # TensorFlow 2.20 has no macOS x86-64 wheels: an Intel runner could only fail.
    assert all(is_macos_arm64(label) for label in runners if runner_os(label) == "macos"), runners


def test_every_job_gets_the_preinstalled_chrome(job):
    """include adds a browser to the jobs of its OS, and no job of its own."""
    matrix = job["strategy"]["matrix"]
    combinations = matrix_combinations(matrix)
    assert len(combinations) == len(matrix["os"]) * len(matrix["python"]), combinations
    for combo in combinations:
        assert combo.get("browser") == CHROME[runner_os(combo["os"])], combo


def test_steps_set_up_python_and_run_make_test(job):
    steps = job["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"], uses
    setup_python = steps[1]
    assert setup_python.get("id") == "py"
    assert setup_python["with"]["python-version"] == "${{ matrix.python }}"

    linux_only = [step for step in steps if "libatomic1" in step.get("run", "")]
    assert len(linux_only) == 1 and re.fullmatch(r"runner\.os == 'Linux'", linux_only[0].get("if", "")), linux_only
    assert "sudo apt-get update" in linux_only[0]["run"]

    runs = [step for step in steps if "run" in step and step not in linux_only]
    assert len(runs) == 1, runs
    (make_test,) = runs
    assert "if" not in make_test
    words = shlex.split(make_test["run"])
    assert words == ["make", "test", "PYTHON=${{ steps.py.outputs.python-path }}"], words
    assert make_test["env"]["WORKSHOP_BROWSER"] == "${{ matrix.browser }}"


def test_make_test_is_what_this_projects_ci_runs():
    """The same command as .ci/run, so GitHub and this project's CI test the same thing."""
    lines = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert "make test" in lines


# ---------------------------------------------------------------- the checks fail on bad input


@pytest.mark.parametrize(
    "workflow, old, new, complaint",
    [
        (WORKFLOW, "    runs-on: ${{ matrix.os }}\n", "", "'runs-on' is a required property"),
        (WORKFLOW, "    steps:\n", "    step:\n", "'step' was unexpected"),
        (WORKFLOW, "    timeout-minutes: 60\n", "    timeout-minutes: an hour\n", "timeout-minutes"),
        (WORKFLOW, "permissions:\n  contents: read\n", "permissions:\n  contents: readonly\n", "readonly"),
        (PROBE_WORKFLOW, "  schedule:\n    - cron:", "  schedule:\n    cron:", "schedule"),
        (PROBE_WORKFLOW, "    runs-on: ubuntu-24.04\n", "", "'runs-on' is a required property"),
    ],
    ids=lambda value: getattr(value, "name", None),
)
def test_schema_check_rejects_a_broken_copy(tmp_path, workflow, old, new, complaint):
    """Not vacuous: the same check fails for copies with a missing key, a misspelled key, bad values."""
    text = workflow.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / workflow.name
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    status, output = schema_check(GITHUB_WORKFLOWS, broken)
    assert status == 1, output
    assert complaint in output, output


def test_matrix_combinations_follows_githubs_include_rules():
    matrix = {
        "os": ["a", "b"],
        "python": ["1", "2"],
        "include": [{"os": "a", "browser": "x"}, {"os": "c", "python": "1"}, {"python": "2", "extra": True}],
        "exclude": [{"os": "b", "python": "1"}],
    }
    assert matrix_combinations(matrix) == [
        {"os": "a", "python": "1", "browser": "x"},
        {"os": "a", "python": "2", "browser": "x", "extra": True},
        {"os": "b", "python": "2", "extra": True},
        {"os": "c", "python": "1"},
    ]


@pytest.mark.parametrize(
    "label, arm64",
    [
        ("macos-14", True),
        ("macos-15", True),
        ("macos-14-xlarge", True),
        ("macos-latest", True),
        ("macos-13", False),
        ("macos-14-large", False),
        ("ubuntu-24.04", False),
    ],
)
def test_is_macos_arm64(label, arm64):
    assert is_macos_arm64(label) is arm64


# ---------------------------------------------------------------- the scheduled upgrade probe

PROBE_REPORT = "build/upgrade-probe/report.md"  # where tools/upgrade_probe.py writes its table


@pytest.fixture(scope="module")
def probe_workflow() -> dict:
    return yaml.safe_load(PROBE_WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def probe_job(probe_workflow) -> dict:
    (job,) = probe_workflow["jobs"].values()
    return job


def make_targets() -> set[str]:
    """The Makefile's targets that are .PHONY and listed by `make help`."""
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    phony = set(re.search(r"^\.PHONY:(.*)$", text, re.M)[1].split())
    defined = set(re.findall(r"^([a-z][a-z-]*):", text, re.M))
    helped = set(re.findall(r'@echo "make ([a-z-]+)', text))
    return phony & defined & helped


def test_probe_workflow_follows_githubs_schema():
    status, output = schema_check(GITHUB_WORKFLOWS, PROBE_WORKFLOW)
    assert status == 0, output


def test_probe_workflow_says_it_is_checked_statically():
    text = PROBE_WORKFLOW.read_text(encoding="utf-8")
    comment = "".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines(keepends=True)))
    assert "tests/test_github_workflow.py" in comment and "no GitHub runner" in comment, comment


def test_probe_runs_weekly_and_by_hand_with_a_read_only_token(probe_workflow, probe_job):
    on = triggers(probe_workflow)
    assert set(on) == {"schedule", "workflow_dispatch"}, on
    (entry,) = on["schedule"]
    minute, hour, day_of_month, month, day_of_week = entry["cron"].split()
    assert (day_of_month, month) == ("*", "*") and re.fullmatch(r"[0-6]", day_of_week), entry["cron"]
    assert re.fullmatch(r"\d+", minute) and re.fullmatch(r"\d+", hour), entry["cron"]
    assert probe_workflow["permissions"] == {"contents": "read"}
    assert probe_job["strategy"]["fail-fast"] is False
    assert 60 <= probe_job["timeout-minutes"] <= 360  # the probe takes 30-40 minutes; GitHub stops a job at 6 h


def test_probe_runs_on_ubuntu_with_the_newest_and_oldest_supported_python(probe_job):
    assert probe_job["runs-on"] == "ubuntu-24.04"
    pythons = probe_job["strategy"]["matrix"]["python"]
    assert all(isinstance(python, str) for python in pythons), pythons
    assert python_label(max(doctor.SUPPORTED_PYTHONS)) in pythons, pythons
    assert set(pythons) <= {python_label(version) for version in doctor.SUPPORTED_PYTHONS}, pythons


def test_probe_steps_install_what_the_notebooks_need_and_run_the_make_target(probe_job):
    steps = probe_job["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"], uses
    assert steps[1].get("id") == "py" and steps[1]["with"]["python-version"] == "${{ matrix.python }}"
    (system,) = [step for step in steps if "apt-get install" in step.get("run", "")]
    assert {"libatomic1", "prometheus"} <= set(shlex.split(system["run"])), system["run"]
    (probe,) = [step for step in steps if "make" in shlex.split(step.get("run", ""))]
    words = shlex.split(probe["run"])
    assert words == ["make", "upgrade-probe", "PYTHON=${{ steps.py.outputs.python-path }}"], words
    assert "upgrade-probe" in make_targets()
    assert "if" not in probe


def test_probe_table_goes_to_the_summary_and_an_artifact_even_when_it_fails(probe_job):
    steps = probe_job["steps"]
    (summary,) = [step for step in steps if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert summary["if"] == "always()" and f"cat {PROBE_REPORT} >>" in summary["run"], summary
    (upload,) = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()"
    assert PROBE_REPORT in upload["with"]["path"].split()
    assert "${{ matrix.python }}" in upload["with"]["name"]  # one artifact per job: names must differ
    tool = (REPO_ROOT / "tools" / "upgrade_probe.py").read_text(encoding="utf-8")
    assert 'PROBE_DIR = Path("build") / "upgrade-probe"' in tool and '"report.md"' in tool


def test_make_targets_finds_only_listed_phony_targets():
    targets = make_targets()
    assert {"test", "lock", "upgrade-probe"} <= targets
    assert "upgrade-probes" not in targets and "$(STAMP)" not in targets
