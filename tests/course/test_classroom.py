"""`make reset` and `make checkpoint`, run on a temporary copy of the course (its own git repository),
never on this one.

Reset: what a participant changed is in backups/ with their content, the originals come back byte for byte,
notebooks they created stay, generated workspaces, model versions and stale server logs go, the committed model
configs stay, a second reset has nothing to do, and a running JupyterLab stops it before it touches anything.
Checkpoint: the wine model versions a module needs are exported once and then kept, an earlier attempt moves to
backups/, changed data is saved and restored, an unknown module is refused with the list of modules.
"""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

from course import classroom, exercises
from workshop_lib import data
from workshop_lib.config import REPO_ROOT

COURSE_PARTS = [
    "notebooks",
    "exercises",
    "solutions",
    "data/wine-quality",
    "models/README.md",
    "models/models.config",
    "models/monitoring.config",
    ".gitignore",
]
LESSON = "notebooks/03_reproducible_training_dvc.ipynb"
EXERCISE = "exercises/05_serving.ipynb"
OWN_NOTEBOOK = "notebooks/my_notes.ipynb"


def git(folder: Path, *args: str) -> str:
    """git in a temporary course only (never in the real one)."""
    assert REPO_ROOT.resolve() not in [Path(folder).resolve(), *Path(folder).resolve().parents]
    command = [
        "git",
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.org",
        "-c",
        "commit.gpgsign=false",
        "-C",
        str(folder),
        *args,
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A course folder made of this repository's notebooks, data and model configs, committed to its own git."""
    course = tmp_path_factory.mktemp("template") / "course"
    for part in COURSE_PARTS:
        source, target = REPO_ROOT / part, course / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            shutil.copy2(source, target)
    git(course, "init", "-q")
    git(course, "add", "-A")
    git(course, "commit", "-q", "-m", "the course as shipped")
    return course


@pytest.fixture
def course(template, tmp_path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "course", symlinks=True))


@pytest.fixture
def places(course, tmp_path) -> dict:
    """Where reset looks besides the course folder, all inside tmp_path, and no running processes: the tests
    that are about running processes scan the real ones (processes=None)."""
    (tmp_path / "tmp").mkdir()
    return {
        "workspace": course / "workspace",
        "models": course / "models",
        "temp_dir": tmp_path / "tmp",
        "processes": [],
    }


def participant_edit(path: Path, text: str) -> bytes:
    """Add a code cell to a notebook, as a participant would; return the new bytes."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(text))
    nbformat.write(notebook, path)
    return path.read_bytes()


def backed_up(course: Path) -> dict[str, bytes]:
    return {
        path.relative_to(course / "backups").as_posix(): path.read_bytes()
        for path in sorted((course / "backups").rglob("*"))
        if path.is_file()
    }


# --- reset ------------------------------------------------------------------------------------------------


@pytest.fixture
def used_course(course, places, template):
    """The course after a day of class: edited notebooks, an own notebook, workspaces, exported models, logs."""
    edits = {
        EXERCISE: participant_edit(course / EXERCISE, "answer = 42  # my solution"),
        LESSON: participant_edit(course / LESSON, "print('my experiment')"),
    }
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("my notes")]), course / OWN_NOTEBOOK)
    checkpoints = course / "notebooks" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    shutil.copy2(template / LESSON, checkpoints / "03_reproducible_training_dvc-checkpoint.ipynb")
    older = participant_edit(checkpoints / "03_reproducible_training_dvc-checkpoint.ipynb", "print('first try')")
    shutil.copy2(course / OWN_NOTEBOOK, checkpoints / "my_notes-checkpoint.ipynb")
    (course / "exercises" / ".ipynb_checkpoints").mkdir()
    shutil.copy2(
        template / "exercises/01_exploration.ipynb",
        course / "exercises/.ipynb_checkpoints/01_exploration-checkpoint.ipynb",
    )
    workspace = places["workspace"]
    (workspace / "05_serving").mkdir(parents=True)
    (workspace / "05_serving" / "white_scored.csv").write_text("quality\n6\n")
    cache = workspace / "03_reproducible_training_dvc" / "lesson" / "project" / ".dvc" / "cache" / "files"
    cache.mkdir(parents=True)
    (cache / "ab12").write_text("data")
    (cache / "ab12").chmod(0o444)  # DVC marks its cache read-only
    (workspace / "notes.txt").write_text("not from a lesson")
    (workspace / "08_take_home_project" / "my-project").mkdir(parents=True)
    (workspace / "08_take_home_project" / "my-project" / "gate.json").write_text("{}")
    for version in ("1", "2", ".export-3-abc"):
        (course / "models" / "wine" / version / "variables").mkdir(parents=True)
        (course / "models" / "wine" / version / "saved_model.pb").write_bytes(b"model")
    stale = places["temp_dir"] / "model-server-dead.log"
    stale.write_text("a server that was killed\n")
    return {"edits": edits, "older_checkpoint": older, "stale_log": stale}


def test_reset_saves_changed_notebooks_restores_them_and_removes_generated_files(course, places, template, used_course):
    committed_configs = {
        name: (course / "models" / name).read_bytes() for name in ("README.md", "models.config", "monitoring.config")
    }
    in_use = places["temp_dir"] / "model-server-running.log"
    with open(in_use, "w") as log:  # a running server's log: this process holds it open
        log.write("serving\n")
        log.flush()
        report = classroom.reset(course, **places)

    # The participant's work is in one dated backup folder, exactly what they changed, with their content.
    folders = list((course / "backups").iterdir())
    assert len(folders) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\d_\d{6}", folders[0].name)
    stamp = folders[0].name
    assert backed_up(course) == {
        f"{stamp}/{EXERCISE}": used_course["edits"][EXERCISE],
        f"{stamp}/{LESSON}": used_course["edits"][LESSON],
        f"{stamp}/notebooks/.ipynb_checkpoints/03_reproducible_training_dvc-checkpoint.ipynb": used_course[
            "older_checkpoint"
        ],
    }
    # The originals are back, byte for byte; git sees a clean course.
    for name in (EXERCISE, LESSON):
        assert (course / name).read_bytes() == (template / name).read_bytes()
    assert git(course, "status", "--porcelain", "--untracked-files=no") == ""
    # The participant's own notebook and its checkpoint stay; course checkpoints go.
    assert (course / OWN_NOTEBOOK).is_file()
    assert (course / "notebooks/.ipynb_checkpoints/my_notes-checkpoint.ipynb").is_file()
    assert not (course / "notebooks/.ipynb_checkpoints/03_reproducible_training_dvc-checkpoint.ipynb").exists()
    assert not (course / "exercises/.ipynb_checkpoints").exists()
    # Generated files are gone; what a lesson did not make stays.
    assert sorted(p.name for p in places["workspace"].iterdir()) == ["08_take_home_project", "notes.txt"]
    assert (places["workspace"] / "08_take_home_project" / "my-project" / "gate.json").read_text() == "{}"
    assert not (course / "models" / "wine").exists()
    assert {name: (course / "models" / name).read_bytes() for name in committed_configs} == committed_configs
    assert not used_course["stale_log"].exists() and in_use.is_file()

    summary = str(report)
    assert f"Saved your versions first (nothing you wrote is lost), to backups/{stamp}/:" in summary
    assert f"  {EXERCISE}\n" in summary and f"  {LESSON}\n" in summary
    assert "  workspace/05_serving/  (files a lesson wrote)" in summary
    assert "  models/wine/1/  (an exported model version)" in summary
    assert f"  {used_course['stale_log']}  (a model server's log left behind)" in summary
    assert f"  {OWN_NOTEBOOK}  (not a course file)" in summary
    assert "  workspace/notes.txt  (in the workspace, but not made by a lesson)" in summary
    assert "  workspace/08_take_home_project/  (your take-home project: delete it yourself" in summary
    assert str(in_use) not in summary
    assert not report.nothing_done


def test_a_second_reset_has_nothing_to_do(course, places, used_course):
    classroom.reset(course, **places)
    before = backed_up(course)
    report = classroom.reset(course, **places)
    assert report.nothing_done
    assert "Nothing to do" in str(report) and f"  {OWN_NOTEBOOK}  (not a course file)" in str(report)
    assert backed_up(course) == before  # no new backup folder


def test_reset_on_a_fresh_course_has_nothing_to_do_and_creates_nothing(course, places):
    report = classroom.reset(course, **places)
    assert report.nothing_done and report.kept == []
    assert not (course / "backups").exists() and not places["workspace"].exists()


def test_reset_brings_back_a_deleted_notebook(course, places, template):
    (course / "notebooks/06_monitoring_feedback.ipynb").unlink()
    report = classroom.reset(course, **places)
    assert (course / "notebooks/06_monitoring_feedback.ipynb").read_bytes() == (
        template / "notebooks/06_monitoring_feedback.ipynb"
    ).read_bytes()
    assert "  notebooks/06_monitoring_feedback.ipynb  (it had been deleted)" in str(report)
    assert not (course / "backups").exists()  # nothing of the participant's to save


def test_reset_restores_changed_data_and_leaves_other_changed_files_listed(course, places, template):
    red = course / "data/wine-quality/winequality-red.csv"
    red.write_text(red.read_text() + "7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4,5\n")
    (course / ".gitignore").write_text("my change\n")
    report = classroom.reset(course, **places)
    assert data.checksum_problems(course / "data/wine-quality") == []
    assert (course / ".gitignore").read_text() == "my change\n"  # not a notebook or data: left alone, but named
    assert "Left as they are (not notebooks or data; `git diff` shows the changes): .gitignore" in str(report)


def test_without_git_exercises_are_regenerated_and_lessons_stay(template, tmp_path):
    course = Path(shutil.copytree(template, tmp_path / "zip", ignore=shutil.ignore_patterns(".git")))
    mine = participant_edit(course / EXERCISE, "answer = 42")
    lesson = participant_edit(course / LESSON, "print('mine')")
    (tmp_path / "tmp").mkdir()
    report = classroom.reset(
        course, workspace=course / "workspace", models=course / "models", temp_dir=tmp_path / "tmp", processes=[]
    )
    assert (course / EXERCISE).read_text(encoding="utf-8") == exercises.render(course / "solutions/05_serving.ipynb")
    assert [content for name, content in backed_up(course).items() if name.endswith(EXERCISE)] == [mine]
    assert (course / LESSON).read_bytes() == lesson  # cannot be restored without git: left as it is, and said so
    assert "not a git checkout" in str(report) and "cannot be restored without git" in str(report)


def test_a_git_folder_without_a_commit_is_refused_before_anything_changes(tmp_path):
    course = tmp_path / "course"
    (course / "workspace" / "05_serving").mkdir(parents=True)
    git(course, "init", "-q")
    with pytest.raises(classroom.ClassroomError, match="cannot restore from git, nothing changed: .*fatal:"):
        classroom.reset(
            course, workspace=course / "workspace", models=course / "models", temp_dir=tmp_path, processes=[]
        )
    assert (course / "workspace" / "05_serving").is_dir()


def start_fake_jupyter(args: list[str], cwd: Path) -> subprocess.Popen:
    """A harmless process whose command line looks like JupyterLab's
    (python .../jupyter-lab --ServerApp.root_dir=...)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "/venv/bin/jupyter-lab", *args], cwd=cwd
    )
    deadline = time.monotonic() + 10
    while "/venv/bin/jupyter-lab" not in psutil.Process(process.pid).cmdline():
        assert time.monotonic() < deadline, "the fake JupyterLab did not start"
        time.sleep(0.05)
    return process


@pytest.mark.parametrize("how", ["root_dir", "cwd"])
def test_reset_refuses_while_jupyterlab_serves_the_course_and_changes_nothing(course, places, tmp_path, how):
    mine = participant_edit(course / EXERCISE, "answer = 42")
    (places["workspace"] / "05_serving").mkdir(parents=True)
    if how == "root_dir":
        process = start_fake_jupyter(["--no-browser", f"--ServerApp.root_dir={course}"], cwd=tmp_path)
    else:
        process = start_fake_jupyter(["--no-browser"], cwd=course / "notebooks")
    try:
        with pytest.raises(classroom.ClassroomError) as refused:
            classroom.reset(course, **{**places, "processes": None})
    finally:
        process.terminate()
        process.wait(timeout=10)
    message = str(refused.value)
    served = course.resolve() if how == "root_dir" else (course / "notebooks").resolve()
    assert f"JupyterLab is running on {served} (process {process.pid})" in message
    assert "stop JupyterLab first (Ctrl+C in its terminal)" in message and "changed nothing" in message
    assert (course / EXERCISE).read_bytes() == mine
    assert (places["workspace"] / "05_serving").is_dir() and not (course / "backups").exists()


def test_a_jupyterlab_elsewhere_does_not_stop_reset(course, places, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    process = start_fake_jupyter([f"--ServerApp.root_dir={tmp_path / 'elsewhere'}"], cwd=course)
    try:
        assert classroom.reset(course, **{**places, "processes": None}).nothing_done
    finally:
        process.terminate()
        process.wait(timeout=10)


def info(pid: int, cmdline: list[str], cwd: str | None) -> dict:
    return {"pid": pid, "cmdline": cmdline, "cwd": cwd}


def test_which_processes_stop_a_reset(tmp_path):
    course, other = tmp_path / "course", tmp_path / "other"
    python = "/home/me/course/.venv/bin/python"
    processes = [
        info(
            1, [python, "/x/.venv/bin/jupyter-lab", "--no-browser", f"--ServerApp.root_dir={course}"], "/"
        ),  # make lab
        info(
            2, ["/usr/bin/python3", "/usr/bin/jupyter", "notebook", "--notebook-dir", str(tmp_path)], "/"
        ),  # around it
        info(3, [python, "-m", "jupyterlab", "--ServerApp.root_dir=course"], str(tmp_path)),  # relative to its cwd
        info(
            4, [python, "-m", "model_server", "--rest_api_port=8501", f"--model_base_path={course}/models/wine"], "/"
        ),  # a LocalModelServer
        info(
            5,
            [python, "-m", "model_server", "--model_config_file=models/models.config", "--volume=models:/models"],
            str(course),
        ),  # the README's command, in the course folder
        info(6, [python, "-m", "model_server", f"--model_base_path={tmp_path}/ws/07/lesson/served/wine"], "/"),
        # none of these:
        info(10, [python, "/x/bin/jupyter-lab", f"--ServerApp.root_dir={other}"], str(course)),
        info(11, [python, "-m", "ipykernel_launcher", "-f", "/run/kernel-1.json"], str(course / "notebooks")),
        info(12, [python, "/x/bin/jupyter-labextension", "list"], str(course)),
        info(13, [python, "/x/bin/jupyter-lab"], None),  # its folder cannot be known
        info(14, [python, "-m", "model_server", f"--model_base_path={other}/models/wine"], str(other)),
        info(15, ["vim", f"{course}/notebooks/01_exploration.ipynb"], str(course)),
    ]
    found = classroom.blockers(course, tmp_path / "ws", course / "models", processes)
    assert [(blocker.pid, blocker.what) for blocker in found] == [
        (1, "JupyterLab"),
        (2, "JupyterLab"),
        (3, "JupyterLab"),
        (4, "a model server"),
        (5, "a model server"),
        (6, "a model server"),
    ]
    assert str(found[0]).startswith(f"JupyterLab is running on {course.resolve()} (process 1): stop JupyterLab first")
    assert str(found[3]).startswith(
        "a model server is running (process 4: /home/me/course/.venv/bin/python -m model_server --rest_api_port=8501"
    )
    assert "kill 4" in str(found[3]) and "removes the model versions it serves" in str(found[3])


# --- checkpoint -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpointed(template, tmp_path_factory):
    """`checkpoint 05` on a course without models and with an earlier attempt in workspace/05_serving/ (trains once)."""
    course = Path(shutil.copytree(template, tmp_path_factory.mktemp("checkpoint") / "course"))
    workspace, models = course.parent / "workspace", course.parent / "models"
    (workspace / "05_serving").mkdir(parents=True)
    (workspace / "05_serving" / "attempt.txt").write_text("my first try")
    heard = []
    started = time.monotonic()
    report = classroom.checkpoint("05", course, workspace=workspace, models=models, progress=heard.append)
    return {
        "course": course,
        "workspace": workspace,
        "models": models,
        "report": report,
        "heard": heard,
        "seconds": time.monotonic() - started,
    }


def test_checkpoint_05_exports_versions_1_and_2_that_load_and_predict(checkpointed):
    from workshop_lib import export

    report, base = checkpointed["report"], checkpointed["models"] / "wine"
    assert report.models == {1: "exported", 2: "exported"}
    assert sorted(export.servable_versions(base)) == [1, 2] and export.layout_problem(base) is None
    wines = data.load_wine("red").head(5)
    scores = {
        version: export.predict_signature(export.load_signature(base / str(version)), wines) for version in (1, 2)
    }
    for values in scores.values():
        assert values.shape == (5,) and np.all((values > 2) & (values < 9))
    assert not np.allclose(scores[1], scores[2])  # version 2 learned from red and white wines
    assert len(checkpointed["heard"]) == 2 and "module 04's recipe" in checkpointed["heard"][0]
    assert "exported now with module 04's recipe (trained on red + white" in str(report)


def test_checkpoint_moves_an_earlier_attempt_to_backups_and_names_the_next_notebook(checkpointed):
    course, report = checkpointed["course"], checkpointed["report"]
    assert not (checkpointed["workspace"] / "05_serving").exists()
    moved = list((course / "backups").glob("*/workspace/05_serving/attempt.txt"))
    assert len(moved) == 1 and moved[0].read_text() == "my first try"
    summary = str(report)
    assert f"05_serving/ held an earlier attempt: moved to {moved[0].parent.relative_to(course).as_posix()}/" in summary
    assert summary.splitlines()[1] == "Module 05 serves versions 1 and 2 of the wine model, which module 04 exported."
    assert "Data: data/wine-quality/ matches its checksums (2 files)." in summary
    assert summary.endswith(
        "Next: open notebooks/05_serving.ipynb (the lesson), then exercises/05_serving.ipynb (the exercises)."
    )


def test_a_second_checkpoint_keeps_the_exported_versions(checkpointed):
    base = checkpointed["models"] / "wine"
    before = {version: (base / version / "saved_model.pb").stat().st_mtime_ns for version in ("1", "2")}
    heard = []
    report = classroom.checkpoint(
        "6",
        checkpointed["course"],
        workspace=checkpointed["workspace"],
        models=checkpointed["models"],
        progress=heard.append,
    )
    assert report.models == {1: "kept", 2: "kept"} and heard == []  # nothing trained
    assert {version: (base / version / "saved_model.pb").stat().st_mtime_ns for version in ("1", "2")} == before
    assert "models/wine/1/: kept, already exported." in str(report).replace(str(checkpointed["models"]), "models")
    assert "Next: open notebooks/06_monitoring_feedback.ipynb" in str(report)


def test_checkpoint_saves_and_restores_a_changed_data_file(course, tmp_path):
    red = course / "data" / "wine-quality" / "winequality-red.csv"
    shipped = red.read_bytes()
    changed = shipped.replace(b"\n", b"\r\n", 3)
    red.write_bytes(changed)
    assert data.checksum_problems(course / "data" / "wine-quality")  # the change is one a checksum sees
    report = classroom.checkpoint(
        "01",
        course,
        data_dir=course / "data" / "wine-quality",
        workspace=tmp_path / "workspace",
        models=tmp_path / "models",
    )
    assert red.read_bytes() == shipped
    saved = list((course / "backups").glob("*/data/wine-quality/winequality-red.csv"))
    assert len(saved) == 1 and saved[0].read_bytes() == changed
    assert report.restored == [red]
    assert (
        f"Restored data/wine-quality/winequality-red.csv from git: it differed from the course's version "
        f"(yours is in {saved[0].relative_to(course).as_posix()})."
    ) in str(report)
    assert report.models == {} and not (tmp_path / "models").exists()  # module 01 needs no model


def test_checkpoint_without_git_refuses_changed_data_and_says_how_to_get_it(template, tmp_path):
    course = Path(shutil.copytree(template, tmp_path / "zip", ignore=shutil.ignore_patterns(".git")))
    red = course / "data" / "wine-quality" / "winequality-red.csv"
    red.write_text("fixed acidity\n1\n")
    with pytest.raises(classroom.ClassroomError, match="not as shipped.*download the course again"):
        classroom.checkpoint("02", course, workspace=tmp_path / "workspace", models=tmp_path / "models")
    assert red.read_text() == "fixed acidity\n1\n"


@pytest.mark.parametrize("given, number", [("05", "05"), ("5", "05"), (7, "07"), (" 0 ", "00")])
def test_module_numbers(given, number):
    assert classroom.module_number(given) == number


@pytest.mark.parametrize("given", ["99", "8", "5a", "", "-1", "serving"])
def test_an_unknown_module_lists_the_modules(given):
    with pytest.raises(classroom.UnknownModule, match="choose one of 00, 01, 02, 03, 04, 05, 06, 07"):
        classroom.module_number(given)


# --- the table of what each module needs, against the notebooks -----------------------------------------


def notebook_code(path: Path) -> str:
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


def test_the_table_has_one_entry_per_lesson():
    lessons = sorted(path.stem for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert lessons == [module.name for module in classroom.MODULES.values()]
    assert all(name.startswith(number) for number, name in ((n, m.name) for n, m in classroom.MODULES.items()))


def test_no_module_reads_another_modules_workspace_and_the_served_model_is_in_the_table():
    """What the table says: each notebook works in its own workspace folder; a module that reads the wine model
    that module 04 exports (model_dir, version_dir) has its versions in the table."""
    readers = set()
    for folder in ("notebooks", "solutions", "exercises"):
        for path in (REPO_ROOT / folder).glob("[0-9][0-9]_*.ipynb"):
            code = notebook_code(path)
            assert set(re.findall(r"workspace_dir\(\"([^\"]+)\"\)", code)) <= {path.stem}, path
            if re.search(r"model_dir\(|version_dir\(", code):
                readers.add(path.stem[:2])
    assert {"05", "06"} <= readers
    assert readers - {"04"} <= {number for number, module in classroom.MODULES.items() if module.models}


# --- the shared backup function and the command line ------------------------------------------------------


def test_backup_keeps_the_course_layout_and_a_new_run_never_reuses_a_folder(tmp_path):
    (tmp_path / "exercises").mkdir()
    notebook = tmp_path / "exercises" / "05_serving.ipynb"
    notebook.write_text("mine")
    now = time.strftime(exercises.BACKUP_STAMP)
    (tmp_path / "backups" / now).mkdir(parents=True)  # an earlier run in this very second
    stamp = exercises.backup_stamp(tmp_path / "backups")
    assert stamp > now
    saved = exercises.backup(notebook, stamp, root=tmp_path, backup_dir=tmp_path / "backups")
    assert saved == tmp_path / "backups" / stamp / "exercises" / "05_serving.ipynb" and saved.read_text() == "mine"
    outside = tmp_path / "elsewhere" / "05_serving"
    outside.mkdir(parents=True)
    moved = exercises.backup(outside, stamp, root=tmp_path / "exercises", backup_dir=tmp_path / "backups", move=True)
    assert moved == tmp_path / "backups" / stamp / "elsewhere" / "05_serving" and not outside.exists()


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_checkpoint_of_an_unknown_module_exits_2_with_the_list(tmp_path):
    result = cli("checkpoint", "99", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "error: unknown module '99': choose one of 00, 01, 02, 03, 04, 05, 06, 07 "
        "(for example: make checkpoint MODULE=05)\n"
    )


def test_cli_reset_help(tmp_path):
    result = cli("reset", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "backups/<date>/" in result.stdout and "Stop JupyterLab first" in result.stdout


def test_a_hung_git_is_stopped_with_a_message_naming_the_command(tmp_path, monkeypatch):
    def hung(command, **options):
        assert options["timeout"] == classroom.GIT_TIMEOUT
        raise subprocess.TimeoutExpired(command, options["timeout"])

    monkeypatch.setattr(classroom.subprocess, "run", hung)
    with pytest.raises(classroom.ClassroomError, match=r"`git status --porcelain` did not finish within 120 s"):
        classroom._git(tmp_path, "status", "--porcelain")


def test_reset_removes_version_folders_and_crash_leftovers_only(tmp_path):
    base = tmp_path / "models" / "wine"
    for name in ("1", "10", ".export-3-abc", ".withdrawn-2-1-ab", "latest", "²"):
        (base / name).mkdir(parents=True)
    (base / "notes.txt").write_text("kept")
    report = classroom.ResetReport(tmp_path)
    classroom._remove_model_versions(tmp_path / "models", report)
    assert sorted(path.name for path in base.iterdir()) == ["latest", "notes.txt", "²"]
    assert sorted(path.name for path, _ in report.removed) == [".export-3-abc", ".withdrawn-2-1-ab", "1", "10"]
