"""tools/upgrade_probe.py, hermetically: no network, no install, no notebook run.

The real probe (`make upgrade-probe`) takes half an hour and needs PyPI; here its parts are checked on
small inputs, and a whole run goes through a fake runner in a copy of the course's requirement files,
so that the promise that matters most, that it never writes requirements.txt or the lock, is tested.
"""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import doctor
from workshop_lib.config import REPO_ROOT

spec = importlib.util.spec_from_file_location("upgrade_probe", REPO_ROOT / "tools" / "upgrade_probe.py")
probe_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe_tool)


# ---------------------------------------------------------------- requirements.txt and uv's answers


def test_reads_the_pins_in_order_without_comments(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# why\npandas==3.1.1\n\ntensorflow==2.20.0  # the serving image\nPyYAML==6.0.4\n")
    assert list(probe_tool.read_pins(requirements).items()) == [
        ("pandas", "3.1.1"),
        ("tensorflow", "2.20.0"),
        ("PyYAML", "6.0.4"),
    ]


def test_the_real_requirements_are_read_with_tensorflow_among_them():
    pins = probe_tool.read_pins(REPO_ROOT / "requirements.txt")
    assert pins["tensorflow"].startswith("2.") and len(pins) > 30


@pytest.mark.parametrize("text, complaint", [("numpy>=2\n", "requirements.txt:1: 'numpy>=2'"), ("# only\n", "no name")])
def test_an_unpinned_or_empty_requirements_file_is_bad_usage(tmp_path, text, complaint):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(text)
    with pytest.raises(probe_tool.UsageError, match=complaint):
        probe_tool.read_pins(requirements)


def test_what_an_install_changed_is_read_from_uvs_output():
    output = (
        "Resolved 20 packages\nInstalled 2 packages in 3s\n - h5py==3.16.0\n + h5py==3.14.0\n + TensorFlow==2.21.0\n"
    )
    assert probe_tool.installed_by(output) == [("h5py", "3.14.0"), ("tensorflow", "2.21.0")]


def test_compiled_output_is_read_with_canonical_names():
    text = "# header\nPyYAML==6.0.4\ntensorflow_serving_api==2.21.0\nnumpy==2.4.6 ; python_version >= '3.11'\n"
    assert probe_tool.parse_compiled(text) == {"pyyaml": "6.0.4", "tensorflow-serving-api": "2.21.0", "numpy": "2.4.6"}


def test_supported_pythons_are_doctors():
    assert probe_tool.supported_pythons(REPO_ROOT) == list(doctor.SUPPORTED_PYTHONS)


def test_an_unsupported_python_is_bad_usage_naming_the_supported_ones():
    with pytest.raises(probe_tool.UsageError, match=r"Python 3\.10 is not supported: .*3\.11, 3\.12, 3\.13"):
        probe_tool.check_supported("3.10", [(3, 11), (3, 12), (3, 13)])
    probe_tool.check_supported("3.12", [(3, 11), (3, 12), (3, 13)])


def test_bad_usage_exits_2_with_a_message(capsys):
    assert probe_tool.main(["--python", "3.9"]) == 2
    assert "Python 3.9 is not supported" in capsys.readouterr().err
    assert probe_tool.main(["--attribute-minutes", "-1"]) == 2
    assert "--attribute-minutes must be 0 or more" in capsys.readouterr().err


# ---------------------------------------------------------------- held back by the resolver


def test_held_back_names_the_package_whose_requirement_excludes_the_newest():
    requirements = [
        ("tensorflow", "numpy<2.5,>=1.26"),
        ("pandas", "numpy>=1.26"),
        ("keras", "protobuf"),
        ("broken", "this is not a requirement"),
    ]
    assert probe_tool.held_back("numpy", "2.5.0", requirements) == ["tensorflow needs numpy<2.5,>=1.26"]
    assert probe_tool.held_back("NumPy", "2.4.9", requirements) == []


def test_a_held_package_says_so_in_the_table():
    row = probe_tool.Row("numpy", "2.4.6", "2.5.0", "2.4.8", held_by=["tensorflow needs numpy<2.5"])
    assert row.status() == "held at 2.4.8 by the resolver (tensorflow needs numpy<2.5); upgraded"
    at_pin = probe_tool.Row("numpy", "2.4.6", "2.5.0", "2.4.6")
    assert at_pin.status() == "held at 2.4.6 by the resolver; same as the pin"


def test_statuses_of_the_other_rows():
    Row = probe_tool.Row
    assert Row("pandas", "3.1.1", "3.1.1", "3.1.1").status() == "up to date"
    assert Row("tensorflow", "2.20.0", "2.21.0", "2.21.0", outcome="passes alone").status() == "passes alone"
    assert Row("tensorflow", "2.20.0", "2.21.0", "2.21.0").status() == "upgraded"
    breaks = Row("tensorflow", "2.20.0", "2.21.0", "2.21.0", breaks=["a", "b", "c"])
    assert breaks.status() == "breaks a, b and 1 more"
    assert Row("x", "1", "2", None).status() == "not installed (no resolution)"


def test_indirect_dependencies_below_the_lock_are_found_but_not_direct_ones():
    resolved = {"h5py": "3.14.0", "soupsieve": "4.2", "tensorflow": "2.19.0", "werkzeug": "3.1.9", "new-one": "1"}
    locked = {"h5py": "3.16.0", "soupsieve": "4.1.3", "tensorflow": "2.20.0", "werkzeug": "3.1.9"}
    assert probe_tool.below_the_lock(resolved, locked, {"tensorflow"}) == ["h5py"]


def test_the_lock_is_read_for_the_python_probed(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "contourpy==1.3.3 ; python_full_version < '3.12' \\\n    --hash=sha256:aa\n"
        "contourpy==1.4.0 ; python_full_version >= '3.12' \\\n    --hash=sha256:bb\n"
        "numpy==2.4.6 \\\n    --hash=sha256:cc\n"
    )
    assert probe_tool.locked_versions(lock, "3.11") == {"contourpy": "1.3.3", "numpy": "2.4.6"}
    assert probe_tool.locked_versions(lock, "3.13") == {"contourpy": "1.4.0", "numpy": "2.4.6"}


# ---------------------------------------------------------------- the report


def test_the_table_has_one_row_per_package_and_the_failures_below():
    rows = [
        probe_tool.Row("pandas", "3.1.1", "3.1.1", "3.1.1"),
        probe_tool.Row("tensorflow", "2.20.0", "2.21.0", "2.21.0", breaks=["notebooks/04_model_export.ipynb"]),
    ]
    sections = [("First failures", ["unit tests: passed", "notebooks/04_model_export.ipynb: cell 7: ValueError: x|y"])]
    report = probe_tool.render(rows, sections, "## Upgrade probe")
    lines = report.splitlines()
    assert lines[:4] == [
        "## Upgrade probe",
        "",
        "| package | pinned | newest | status / what failed first |",
        "|---|---|---|---|",
    ]
    assert lines[4] == "| pandas | 3.1.1 | 3.1.1 | up to date |"
    assert lines[5] == "| tensorflow | 2.20.0 | 2.21.0 | breaks notebooks/04_model_export.ipynb |"
    assert "**First failures**" in lines
    assert "- notebooks/04_model_export.ipynb: cell 7: ValueError: x|y" in lines


def test_a_bar_in_a_status_cannot_break_the_table():
    row = probe_tool.Row("x", "1", "2", "1", held_by=["y needs x|z"])
    line = probe_tool.render([row], [], "#").splitlines()[-1]
    assert line.count("|") == 5, line


# ---------------------------------------------------------------- first failures


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" tests="4">
<testcase classname="tests.code.test_train" name="test_ok" file="tests/code/test_train.py" time="0.1"/>
<testcase classname="tests.model.test_export.TestOnnx" name="test_same[wine]" file="tests/model/test_export.py"
 time="3.5"><failure message="AssertionError: predictions differ&#10;assert 0.1 == 0.2">long traceback</failure>
</testcase>
<testcase classname="tests.test_x" name="test_skipped" file="tests/test_x.py" time="0"><skipped/></testcase>
<testcase classname="tests.course.test_doctor" name="test_a" file="tests/course/test_doctor.py" time="1.0">
<error message="failed on setup with &quot;ImportError: cannot import name 'x'&quot;">trace</error></testcase>
</testsuite></testsuites>
"""


def test_junit_failures_give_node_ids_and_the_first_line_of_the_message(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    failures = probe_tool.junit_failures(junit)
    assert [(f.item, f.detail, f.seconds) for f in failures] == [
        ("tests/model/test_export.py::TestOnnx::test_same[wine]", "AssertionError: predictions differ", 3.5),
        ("tests/course/test_doctor.py::test_a", "failed on setup with \"ImportError: cannot import name 'x'\"", 1.0),
    ]


ASSERT_JUNIT = """<testsuites><testsuite>
<testcase classname="tests.model_server.test_local_server" name="test_log"
 file="tests/model_server/test_local_server.py" time="4">
<failure message="AssertionError: 2026-12-06 21:43:19.609: I model_server] Reading model config file">
    def test_log(server):
&gt;       assert not re.search(r"absl", log), log
E       AssertionError: 2026-12-06 21:43:19.609: I model_server] Reading model config file

tests/model_server/test_local_server.py:411: AssertionError</failure></testcase>
</testsuite></testsuites>
"""


def test_a_failed_assert_is_shown_by_its_statement_not_by_its_message(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(ASSERT_JUNIT)
    (failure,) = probe_tool.junit_failures(junit)
    assert failure.item == "tests/model_server/test_local_server.py::test_log"
    assert (
        failure.detail
        == 'AssertionError at tests/model_server/test_local_server.py:411: assert not re.search(r"absl", log), log'
    )


def failed_notebook():
    """What papermill writes for a notebook whose fourth own cell raised (its banners and injected cell too)."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("An Exception was encountered", metadata={"tags": ["papermill-error-cell-tag"]}),
            new_markdown_cell("# Lesson"),
            new_code_cell("epochs = 40", metadata={"tags": ["parameters"]}),
            new_code_cell("epochs = 5", metadata={"tags": ["injected-parameters"]}),
            new_code_cell("import tensorflow", outputs=[new_output("stream", name="stdout", text="ok\n")]),
            new_markdown_cell("Execution using papermill failed", metadata={"tags": ["papermill-error-cell-tag"]}),
            new_code_cell(
                "model.export()",
                outputs=[
                    new_output(
                        "error",
                        ename="ValueError",
                        evalue="\x1b[0;31mUnknown layer: 'Dense'\x1b[0m\nsecond line",
                        traceback=[],
                    )
                ],
            ),
            new_code_cell("later()", outputs=[new_output("error", ename="NameError", evalue="model", traceback=[])]),
        ]
    )
    return json.loads(json.dumps(nb))


def test_a_failed_notebook_gives_its_own_cell_number_and_the_error():
    assert probe_tool.notebook_failure(failed_notebook()) == (4, "ValueError: Unknown layer: 'Dense'")


def test_a_notebook_without_error_has_no_failure():
    nb = json.loads(json.dumps(new_notebook(cells=[new_code_cell("1", outputs=[])])))
    assert probe_tool.notebook_failure(nb) is None


def test_tensorflow_log_lines_in_a_notebook_are_found_with_their_cell():
    absl = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796593565.156394   21879 port.cc:153] oneDNN custom operations are on.\n"
    )
    nb = json.loads(
        json.dumps(
            new_notebook(
                cells=[
                    new_code_cell("print('TensorFlow 2.21.0')", outputs=[new_output("stream", text="I0000 fine\n")]),
                    new_code_cell("import tensorflow", outputs=[new_output("stream", name="stderr", text=absl)]),
                ]
            )
        )
    )
    number, line = probe_tool.tf_log_output(nb)
    assert number == 2 and line.startswith("WARNING: All log messages before absl::InitializeLog()"), line
    old_style = "2026-11-26 23:58:48.026887: E external/local_xla/xla/stream_executor/cuda/cuda_platform.cc:51] x\n"
    nb["cells"][1]["outputs"][0]["text"] = "ok\n" + old_style
    assert probe_tool.tf_log_output(nb) == (2, old_style.strip())
    nb["cells"][1]["outputs"][0]["text"] = "oneDNN is mentioned in a lesson's own text\n"
    assert probe_tool.tf_log_output(nb) is None


def test_notebooks_failing_the_same_way_are_rerun_through_the_quickest():
    Failure = probe_tool.Failure
    failures = [
        Failure("notebooks/04_model_export.ipynb", "notebooks/04_model_export.ipynb: cell 3: TensorFlow C++ log lines"),
        Failure("solutions/05_serving.ipynb", "solutions/05_serving.ipynb: cell 9: TensorFlow C++ log lines"),
        Failure(
            "solutions/06_monitoring_feedback.ipynb", "solutions/06_monitoring_feedback.ipynb: cell 2: KeyError: x"
        ),
        Failure("tests/a.py::test_b", "AssertionError", 1.0),
        Failure("tests/a.py::test_c", "AssertionError", 1.0),
    ]
    seconds = {"notebooks/04_model_export.ipynb": 50, "solutions/05_serving.ipynb": 20}
    assert probe_tool.same_failures(failures, seconds) == {
        "solutions/05_serving.ipynb": ["notebooks/04_model_export.ipynb", "solutions/05_serving.ipynb"],
        "solutions/06_monitoring_feedback.ipynb": ["solutions/06_monitoring_feedback.ipynb"],
        "tests/a.py::test_b": ["tests/a.py::test_b"],
        "tests/a.py::test_c": ["tests/a.py::test_c"],
    }


def test_a_solution_check_that_is_not_correct_is_a_failure():
    from course.checks import CORRECT, VERDICT_PATTERN

    text = "Exercise 04.1 — correct\nExercise 04.2 — not quite: the shapes differ\n"
    nb = json.loads(
        json.dumps(
            new_notebook(
                cells=[new_markdown_cell("x"), new_code_cell("check()", outputs=[new_output("stream", text=text)])]
            )
        )
    )
    assert probe_tool.wrong_verdicts(nb, VERDICT_PATTERN, CORRECT) == [(2, "check 04.2 says 'not quite'")]


# ---------------------------------------------------------------- a whole run, with a fake runner


NEWEST = "tensorflow==2.21.0\ntensorflow-serving-api==2.21.0\nnumpy==2.5.0\npandas==3.1.1\n"
RESOLVED = "tensorflow==2.21.0\ntensorflow-serving-api==2.21.0\nnumpy==2.4.9\npandas==3.1.1\nsetuptools==84\n"
PINS = "tensorflow==2.20.0\ntensorflow-serving-api==2.20.0\nnumpy==2.4.6\npandas==3.1.1\n"
BROKEN_TEST = "tests/model/test_export.py::test_saved_model_loads"


class FakeRunner:
    """Answers the probe's commands as uv, pytest and the notebook runner would, running nothing.

    With TensorFlow 2.21 installed (all newest, or tensorflow alone on the pins) one test and one
    notebook fail; with the pins everything passes.
    """

    def __init__(self, sabotage=None):
        self.commands = []
        self.tensorflow = {}  # venv -> TensorFlow version in it
        self.sabotage = sabotage

    def run(self, name, cmd, env=None, cwd=None, timeout=None):
        self.commands.append(cmd)
        if self.sabotage:
            self.sabotage(cmd)
        if "compile" in cmd:
            return probe_tool.Done(0, NEWEST if "--no-deps" in cmd else RESOLVED, 0.1)
        if cmd[1:3] == ["pip", "sync"] or cmd[1:3] == ["pip", "install"]:
            venv = Path(cmd[cmd.index("--python") + 1]).parent.parent
            if cmd[1] == "pip" and cmd[2] == "sync":
                self.tensorflow[venv] = "2.20.0" if cmd[-1].endswith("requirements.lock") else "2.21.0"
            if "tensorflow==2.21.0" in cmd or "tensorflow-serving-api==2.21.0" in cmd:
                self.tensorflow[venv] = "2.21.0"
                # What uv prints: the serving API 2.21 needs TensorFlow 2.21.
                changes = " - tensorflow==2.20.0\n + tensorflow==2.21.0\n"
                changes += " + tensorflow-serving-api==2.21.0\n" if "tensorflow-serving-api==2.21.0" in cmd else ""
                return probe_tool.Done(0, "Installed 2 packages in 1s\n" + changes, 1)
            return probe_tool.Done(0, "", 1)
        if "-c" in cmd:  # the requirements of the installed packages
            return probe_tool.Done(0, json.dumps([["tensorflow", "numpy<2.5,>=1.26"]]), 0.5)
        venv = Path(cmd[0]).parent.parent
        new = self.tensorflow.get(venv) == "2.21.0"
        if "pytest" in cmd:
            junit = Path(next(arg.split("=", 1)[1] for arg in cmd if arg.startswith("--junitxml=")))
            junit.parent.mkdir(parents=True, exist_ok=True)
            case = '<testcase classname="tests.model.test_export" name="test_saved_model_loads" '
            case += 'file="tests/model/test_export.py" time="2">'
            case += '<failure message="OSError: SavedModel file does not exist">x</failure>' if new else ""
            case += "</testcase>"
            junit.write_text(f"<testsuites><testsuite>{case}</testsuite></testsuites>")
            return probe_tool.Done(1 if new else 0, "", 30)
        if "--run-notebook" in cmd:
            notebook = cmd[cmd.index("--run-notebook") + 1]
            result = Path(cmd[cmd.index("--result") + 1])
            result.parent.mkdir(parents=True, exist_ok=True)
            failure = "cell 12: TypeError: bad" if new and notebook != "notebooks/01_exploration.ipynb" else None
            result.write_text(json.dumps({"notebook": notebook, "failure": failure}))
            return probe_tool.Done(0, "", 40)
        return probe_tool.Done(0, "", 0.1)  # uv venv, ruff, the kernel


@pytest.fixture
def course_copy(tmp_path):
    """A small course: its requirements, a copy of the lock, two notebooks (never run: the runner is fake)."""
    (tmp_path / "requirements.txt").write_text(PINS)
    shutil.copy(REPO_ROOT / "requirements.lock", tmp_path / "requirements.lock")
    for notebook in ("notebooks/01_exploration.ipynb", "notebooks/04_model_export.ipynb", "solutions/05_serving.ipynb"):
        (tmp_path / notebook).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / notebook).write_text("{}")
    return tmp_path


def files_and_bytes(folder):
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def run_probe(repo, runner, attribute_minutes=30):
    probe = probe_tool.Probe(repo, sys.executable, runner=runner, uv="uv")
    return probe, probe.main("3.11", attribute_minutes)


def test_a_whole_run_attributes_each_failure_to_the_upgrade_that_causes_it(course_copy, capsys):
    _, code = run_probe(course_copy, FakeRunner())
    out = capsys.readouterr().out
    assert code == 1
    assert "| tensorflow | 2.20.0 | 2.21.0 | breaks notebooks/04_model_export.ipynb, solutions/05_serving.ipynb" in out
    tensorflow = "| tensorflow | 2.20.0 | 2.21.0 | breaks notebooks/04_model_export.ipynb, solutions/05_serving.ipynb"
    assert tensorflow + " and 1 more |" in out  # the test is the one more; TensorFlow pulls in nothing else
    serving_api = "| tensorflow-serving-api | 2.20.0 | 2.21.0 | breaks notebooks/04_model_export.ipynb, "
    serving_api += "solutions/05_serving.ipynb and 1 more; with tensorflow 2.21.0, which it pulls in |"
    assert serving_api in out
    assert "| numpy | 2.4.6 | 2.5.0 | held at 2.4.9 by the resolver (tensorflow needs numpy<2.5,>=1.26); passes" in out
    assert "| pandas | 3.1.1 | 3.1.1 | up to date |" in out
    assert f"- unit tests: {BROKEN_TEST}: OSError: SavedModel file does not exist" in out
    assert "- notebooks/04_model_export.ipynb: cell 12: TypeError: bad" in out
    assert "- notebooks/01_exploration.ipynb: passed" in out
    assert "- solutions/05_serving.ipynb: cell 12: TypeError: bad" in out
    assert "- 2 notebooks fail the same way: rerun as notebooks/04_model_export.ipynb" in out
    assert "- setuptools 84.2.1 -> 84" in out  # indirect, below the lock's version
    assert (course_copy / "build" / "upgrade-probe" / "report.md").read_text() in out


def test_notebooks_failing_the_same_way_rerun_once_per_upgrade(course_copy):
    runner = FakeRunner()
    run_probe(course_copy, runner)
    reruns = [cmd[cmd.index("--run-notebook") + 1] for cmd in runner.commands if "--run-notebook" in cmd]
    # All three with the newest releases; then one of the two failing the same way, with the pins and each upgrade.
    assert reruns[:3] == [
        "notebooks/01_exploration.ipynb",
        "notebooks/04_model_export.ipynb",
        "solutions/05_serving.ipynb",
    ]
    assert reruns[3:] == ["notebooks/04_model_export.ipynb"] * 4, reruns


def test_a_whole_run_never_writes_requirements_or_the_lock_and_writes_only_under_build(course_copy):
    before = files_and_bytes(course_copy)
    runner = FakeRunner()
    run_probe(course_copy, runner)
    after = files_and_bytes(course_copy)
    assert {path: after[path] for path in before} == before, "the probe changed a file of the course"
    probe_dir = course_copy / "build" / "upgrade-probe"
    assert [path for path in after if path not in before and not path.is_relative_to(probe_dir)] == []
    # Nor does any command it runs name either file as an output (uv's -o, pip's --report).
    for cmd in runner.commands:
        for option in ("-o", "--output-file", "--output"):
            if option in cmd:
                assert not cmd[cmd.index(option) + 1].endswith(("requirements.txt", "requirements.lock")), cmd
    # Only the pinned venv (attribution) installs the lock; nothing else touches it.
    assert [cmd for cmd in runner.commands if any(str(arg).endswith("requirements.lock") for arg in cmd)]


def test_a_file_write_outside_the_probes_folder_is_refused(course_copy):
    probe = probe_tool.Probe(course_copy, sys.executable, runner=FakeRunner(), uv="uv")
    with pytest.raises(RuntimeError, match="writes only under"):
        probe.write(course_copy / "requirements.txt", "pandas==0\n")
    assert (course_copy / "requirements.txt").read_text() == PINS


def test_a_lock_changed_during_the_run_is_reported_and_fails_it(course_copy, capsys):
    def change_the_lock(cmd):
        if "pytest" in cmd:
            with open(course_copy / "requirements.lock", "a") as lock:
                lock.write("# changed\n")

    _, code = run_probe(course_copy, FakeRunner(sabotage=change_the_lock), attribute_minutes=0)
    out = capsys.readouterr().out
    assert code == 1
    assert "**Changed during the run (restore them with git)**" in out and "- requirements.lock" in out


def test_attribution_is_skipped_with_a_hint_when_over_its_budget(course_copy, capsys):
    runner = FakeRunner()
    _, code = run_probe(course_copy, runner, attribute_minutes=0)
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "skipped: 3 upgrades x 2 failing items would take about" in out
    )  # the two notebooks rerun as one and "--attribute-minutes" in out
    assert not any("pinned-venv" in str(arg) for cmd in runner.commands for arg in cmd)
    assert "| tensorflow | 2.20.0 | 2.21.0 | upgraded |" in out


class PassingRunner(FakeRunner):
    """TensorFlow 2.21 breaks nothing here."""

    def run(self, name, cmd, env=None, cwd=None, timeout=None):
        done = super().run(name, cmd, env, cwd, timeout)
        self.tensorflow.clear()
        return done


def test_a_run_where_everything_passes_exits_0(course_copy, capsys):
    runner = PassingRunner()
    _, code = run_probe(course_copy, runner)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "- unit tests: passed" in out and "- notebooks/04_model_export.ipynb: passed" in out
    assert "| tensorflow | 2.20.0 | 2.21.0 | passes |" in out
    assert not any("pinned-venv" in str(arg) for cmd in runner.commands for arg in cmd), "attributed nothing failing"
