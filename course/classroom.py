"""The instructor's kit: `make reset` puts the course folder back as shipped, `make checkpoint MODULE=NN`
gives a participant who fell behind the state a module starts from.

Both keep whatever a participant wrote: a changed course file is first saved to
backups/<YYYY-mm-dd_HHMMSS>/<its path> (exercises.backup, the same layout `make exercises` uses), then
restored from git. Neither touches git history: a restore is `git checkout HEAD -- <file>`.

Every function takes the course folder and the other locations as parameters (defaults: workshop_lib.config),
so the tests run them on a temporary copy of the course.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from course import exercises
from model_server import versions
from workshop_lib import config, data

# Course files that reset restores from git (notebooks and the data, the serving configs beside the models).
RESTORED = ("notebooks", "exercises", "solutions", "data", "models")
NOTEBOOK_FOLDERS = ("notebooks", "exercises", "solutions")
# JupyterLab's copies for "Revert to checkpoint": <folder>/.ipynb_checkpoints/<stem>-checkpoint<ext>
CHECKPOINTS = ".ipynb_checkpoints"
SERVER_LOGS = "model-server-*.log"  # serving.LocalModelServer's log in the temp folder
LESSON_FOLDER = re.compile(r"^\d\d_")  # config.workspace_dir("NN_name"): what a lesson creates in the workspace
TAKE_HOME_FOLDER = "08_take_home_project"  # hours of a participant's own work after the day: never removed
GIT_TIMEOUT = 120.0  # seconds one git command may take: a status or checkout of the course takes well under one


@dataclass(frozen=True)
class Module:
    """What a module starts from: its notebooks' name, the versions of models/wine/ it needs from module 04, and
    what it reads (completes "Module NN ...")."""

    name: str
    models: tuple[int, ...]
    reads: str


# What each module reads that an earlier module wrote, checked in notebooks/, solutions/ and exercises/ (and by
# tests/code/test_classroom.py): every lesson and exercise reads the course data (data/wine-quality/) and works in
# its own workspace folder, workspace/<name>/, which it (re)creates; no module reads another module's workspace.
# The only thing that crosses modules is the wine model module 04 exports to models/wine/1 and models/wine/2.
MODULES = {
    "00": Module("00_setup_check", (), "checks the machine and the data's checksums"),
    "01": Module("01_exploration", (), "reads the red wines"),
    "02": Module("02_notebook_to_package", (), "reads the red wines and writes its own files"),
    "03": Module("03_reproducible_training_dvc", (), "copies the red and white wines into a DVC project it creates"),
    "04": Module("04_model_export", (), "reads the wines, then trains and exports versions 1 and 2 of the wine model"),
    "05": Module("05_serving", (1, 2), "serves versions 1 and 2 of the wine model, which module 04 exported"),
    "06": Module(
        "06_monitoring_feedback",
        (1, 2),
        "serves versions 1 and 2 of the wine model, which module 04 exported (its drift baseline comes from the data)",
    ),
    # 07 does not read models/wine, but whoever arrives there has versions 1 and 2 from modules 04-06, and docker
    # compose's TF Serving serves them (without them it keeps logging that it found no version).
    "07": Module(
        "07_continuous_improvement",
        (1, 2),
        "trains and serves its own versions from the wines; versions 1 "
        "and 2 of module 04 stay in models/wine/ as modules 05 and 06 "
        "left them",
    ),
}


class ClassroomError(RuntimeError):
    """The command cannot go on safely; the message says why and what to do."""


class UnknownModule(ValueError):
    """A module number the course does not have."""


def module_number(module: str | int) -> str:
    """ "05", "5" or 5 -> "05"; anything else is an UnknownModule that lists the modules."""
    text = str(module).strip()
    number = f"{int(text):02d}" if text.isdigit() else text
    if number not in MODULES:
        raise UnknownModule(
            f"unknown module {text!r}: choose one of {', '.join(MODULES)} (for example: make checkpoint MODULE=05)"
        )
    return number


def default_workspace(root: Path) -> Path:
    """WORKSHOP_WORKSPACE, or the course's workspace/ (config.workspace_dir without creating anything)."""
    return Path(os.environ.get("WORKSHOP_WORKSPACE", Path(root) / "workspace"))


def default_models(root: Path) -> Path:
    """WORKSHOP_MODELS, or the course's models/: the parent of config.model_dir("wine")."""
    return Path(os.environ.get("WORKSHOP_MODELS", Path(root) / "models"))


def _shown(path: Path, root: Path) -> str:
    """A path as the participant knows it: relative to the course folder when inside it; folders end in /."""
    path = Path(path)
    try:
        text = path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        text = str(path)
    return text + "/" if path.is_dir() and not text.endswith("/") else text


class _Backups:
    """One backup folder per command run, created only when something is saved."""

    def __init__(self, root: Path, backup_dir: Path | None):
        self.root, self.folder, self.stamp = root, Path(backup_dir or root / "backups"), None

    def save(self, path: Path, move: bool = False) -> Path:
        self.stamp = self.stamp or exercises.backup_stamp(self.folder)
        return exercises.backup(path, self.stamp, root=self.root, backup_dir=self.folder, move=move)

    @property
    def used(self) -> Path | None:
        return self.folder / self.stamp if self.stamp else None


# --- processes that would undo a reset --------------------------------------------------------------------

JUPYTER_SCRIPTS = {"jupyter-lab", "jupyter-server", "jupyter-notebook", "jupyter-nbclassic"}
JUPYTER_SUBCOMMANDS = {"lab", "server", "notebook", "nbclassic"}
JUPYTER_MODULES = {"jupyterlab", "jupyter_server", "notebook", "nbclassic"}
ROOT_OPTIONS = {"serverapp.root_dir", "serverapp.notebook_dir", "notebookapp.notebook_dir", "notebook_dir", "root_dir"}


@dataclass(frozen=True)
class Blocker:
    """A running process that uses the course folder, and how the participant stops it."""

    pid: int
    what: str
    where: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what} is running {self.where}: {self.fix}"


def jupyter_root(cmdline: list[str] | None, cwd: str | None) -> Path | None:
    """The folder a Jupyter server serves (--ServerApp.root_dir, --notebook-dir, else its working folder);
    None when the command line is no Jupyter server or its folder cannot be known."""
    tokens = list(cmdline or [])
    names = [os.path.basename(token) for token in tokens]
    pairs = list(zip(tokens, tokens[1:]))
    if not (
        JUPYTER_SCRIPTS & set(names)
        or any(os.path.basename(a) == "jupyter" and b in JUPYTER_SUBCOMMANDS for a, b in pairs)
        or any(a == "-m" and b in JUPYTER_MODULES for a, b in pairs)
    ):
        return None
    folder = None
    for index, token in enumerate(tokens):
        option, has_value, value = token.partition("=")
        if option.startswith("--") and option[2:].replace("-", "_").lower() in ROOT_OPTIONS:
            folder = value if has_value else (tokens[index + 1] if index + 1 < len(tokens) else None)
    if folder is None:
        folder = cwd
    elif not os.path.isabs(folder):
        folder = os.path.join(cwd, folder) if cwd else None
    return Path(folder).resolve() if folder else None


def is_model_server(cmdline: list[str] | None) -> bool:
    """`python -m model_server ...` (the course's server) or a native tensorflow_model_server."""
    tokens = list(cmdline or [])
    return "tensorflow_model_server" in {os.path.basename(token) for token in tokens} or any(
        a == "-m" and b.startswith("model_server") for a, b in zip(tokens, tokens[1:])
    )


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _mentions(token: str, folders: list[Path], cwd: str | None) -> bool:
    """Does a command-line argument name a path inside one of the folders (--model_base_path=..., --volume=a:b)?"""
    for part in re.split(r"[=:,]", token):
        if part and (os.path.isabs(part) or (cwd and "/" in part)):
            path = Path(os.path.join(cwd or "/", part)).resolve()
            if any(_inside(path, folder) for folder in folders):
                return True
    return False


def running_processes() -> list[dict]:
    """pid, cmdline and cwd of every process this user can see (cwd is None where the system does not say)."""
    import psutil

    return [process.info for process in psutil.process_iter(["pid", "cmdline", "cwd"])]


def blockers(root: Path, workspace: Path, models: Path, processes: list[dict] | None = None) -> list[Blocker]:
    """The JupyterLab servers and model servers that use this course folder, its workspace or its models.

    A JupyterLab on the course folder (or on a folder around it) must stop first: its autosave would write the
    notebooks it has open back over the restored ones. A model server must stop too: reset removes the versions it
    serves, and the server is the participant's own process (started in a terminal), which a reset should not kill.
    Servers that notebooks start stop with their kernel, so after JupyterLab only those remain.
    """
    root, folders = Path(root).resolve(), [Path(p).resolve() for p in (root, workspace, models)]
    found = []
    for info in running_processes() if processes is None else processes:
        cmdline, cwd = info.get("cmdline") or [], info.get("cwd")
        served = jupyter_root(cmdline, cwd)
        if served is not None and (_inside(served, root) or _inside(root, served)):
            found.append(
                Blocker(
                    info["pid"],
                    "JupyterLab",
                    f"on {served} (process {info['pid']})",
                    "stop JupyterLab first (Ctrl+C in its terminal), then run `make reset` again from a "
                    "terminal outside JupyterLab; otherwise its autosave writes the open notebooks back "
                    "over the restored ones",
                )
            )
        elif is_model_server(cmdline) and (
            (cwd and _inside(Path(cwd).resolve(), root)) or any(_mentions(token, folders, cwd) for token in cmdline)
        ):
            command = " ".join(cmdline)
            command = command if len(command) <= 160 else command[:157] + "..."
            found.append(
                Blocker(
                    info["pid"],
                    "a model server",
                    f"(process {info['pid']}: {command})",
                    f"stop it first (Ctrl+C in its terminal, or `kill {info['pid']}`): reset removes "
                    "the model versions it serves",
                )
            )
    return found


# --- course files and git --------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    """Run git in the course folder (never anything that changes history); its error as a ClassroomError."""
    env = {key: value for key, value in os.environ.items() if key not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        result = subprocess.run(
            ["git", "--literal-pathspecs", "-C", str(root), *args],
            capture_output=True,
            encoding="utf-8",
            errors="surrogateescape",
            env=env,
            check=False,
            timeout=GIT_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise ClassroomError(
            f"`git {' '.join(args)}` did not finish within {GIT_TIMEOUT:g} s in {root} and was "
            "stopped: is another git running there (a .git/index.lock)? Run the command again"
        ) from None
    except FileNotFoundError:
        raise ClassroomError(
            f"{root} is a git checkout, but git is not installed: install git "
            "(Debian/Ubuntu: sudo apt install git) and run the command again"
        ) from None
    if result.returncode != 0:  # git's own reason ("fatal: ..."), not the hint lines after it
        lines = [line for line in result.stderr.splitlines() if line.strip()] or ["(no message)"]
        reason = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[-1])
        raise ClassroomError(f"git {args[0]} failed in {root}: {reason}")
    return result.stdout


def is_git_checkout(root: Path) -> bool:
    """A git checkout with a commit to restore from; False for a zip download (no .git)."""
    if not (Path(root) / ".git").exists():
        return False
    try:
        _git(root, "rev-parse", "--verify", "HEAD^{commit}")
    except ClassroomError as error:
        raise ClassroomError(f"cannot restore from git, nothing changed: {error}") from None
    return True


def committed_files(root: Path, folders: Sequence[str]) -> set[str]:
    """Paths (relative, with /) of the files in HEAD under the folders."""
    return set(filter(None, _git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", *folders).split("\0")))


def changed_files(root: Path, folders: Sequence[str]) -> list[str]:
    """Committed files under the folders that differ from HEAD or are missing (staged or not)."""
    entries = _git(root, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=no", "--", *folders)
    committed = committed_files(root, folders)
    return sorted(entry[3:] for entry in entries.split("\0") if entry[3:] in committed)


def restore_from_git(root: Path, folders: Sequence[str], backups: "_Backups") -> list[tuple[str, Path | None]]:
    """Save each changed course file under the folders to backups/, then restore it from HEAD.

    Returns (path, backup or None for a file that had been deleted), in path order.
    """
    changed = changed_files(root, folders)
    if not changed:
        return []
    saved = [(name, backups.save(root / name) if (root / name).is_file() else None) for name in changed]
    _git(root, "checkout", "HEAD", "--", *changed)
    return saved


def _course_notebook_names(root: Path, git: bool) -> set[str]:
    if git:
        return committed_files(root, NOTEBOOK_FOLDERS)
    return {f"exercises/{solution.name}" for solution in (root / "solutions").glob("[0-9][0-9]_*.ipynb")}


def _files(folder: Path):
    """Every file under a folder except hidden ones (.ipynb_checkpoints/, macOS's .DS_Store)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
            yield path


# --- reset -------------------------------------------------------------------------------------------------


@dataclass
class ResetReport:
    """What reset did, for the summary it prints (and for the tests)."""

    root: Path
    backup_folder: Path | None = None
    saved: list[tuple[Path, Path]] = field(default_factory=list)  # (course file, its copy in backups/)
    restored: list[tuple[Path, str]] = field(default_factory=list)  # (course file, note)
    removed: list[tuple[Path, str]] = field(default_factory=list)  # (path, what it was)
    kept: list[tuple[Path, str]] = field(default_factory=list)  # (path, why it stays)
    notes: list[str] = field(default_factory=list)
    labels: dict[Path, str] = field(default_factory=dict, repr=False)

    def add(self, kind: str, path: Path, note: str = "") -> None:
        """Record an entry of `restored`, `removed` or `kept`, named as it is now (a removed folder ends in /)."""
        getattr(self, kind).append((path, note))
        self.labels[path] = _shown(path, self.root)

    @property
    def nothing_done(self) -> bool:
        return not (self.saved or self.restored or self.removed)

    def __str__(self) -> str:
        show = lambda path: self.labels.get(path) or _shown(path, self.root)  # noqa: E731
        lines = [f"make reset in {self.root}"]
        if self.nothing_done:
            lines.append(
                "Nothing to do: every course notebook is as shipped, and there is no workspace, exported "
                "model or server log to remove."
            )
        if self.saved:
            lines.append(f"Saved your versions first (nothing you wrote is lost), to {show(self.backup_folder)}:")
            lines += [f"  {show(original)}" for original, _ in self.saved]
        if self.restored:
            lines.append("Restored to the course's version:")
            lines += [f"  {show(path)}{f'  ({note})' if note else ''}" for path, note in self.restored]
        if self.removed:
            lines.append("Removed:")
            lines += [f"  {show(path)}  ({what})" for path, what in self.removed]
        if self.kept:
            lines.append("Kept:")
            lines += [f"  {show(path)}  ({why})" for path, why in self.kept]
        lines += self.notes
        return "\n".join(lines)


def reset(
    root: Path | None = None,
    workspace: Path | None = None,
    models: Path | None = None,
    temp_dir: Path | None = None,
    backup_dir: Path | None = None,
    processes: list[dict] | None = None,
) -> ResetReport:
    """Put the course folder back as shipped; everything a participant changed goes to backups/ first.

    1. refuses (ClassroomError) while a JupyterLab or a model server uses the course (see blockers);
    2. course files (notebooks/, exercises/, solutions/, data/, the configs in models/) that differ from git's HEAD
       are saved to backups/<stamp>/ and restored; without git (a zip download) exercises/ is regenerated from
       solutions/ instead, and lessons and solutions stay as they are;
    3. notebooks a participant created stay where they are and are listed;
    4. JupyterLab's checkpoints of restored notebooks are removed (saved first if they differ from the original):
       "Revert to checkpoint" would otherwise bring the old version back. A participant notebook keeps its own;
    5. removes the lessons' workspace folders (workspace/NN_*/, but not the take-home project), the model versions
       under models/<name>/ and model server logs no process has open. Anything else there was not made by a
       lesson: it stays and is listed.
    """
    root = Path(root or config.REPO_ROOT).resolve()
    workspace = Path(workspace or default_workspace(root))
    models = Path(models or default_models(root))
    found = blockers(root, workspace, models, processes)
    if len(found) == 1:
        raise ClassroomError(f"make reset changed nothing: {found[0]}")
    if found:
        raise ClassroomError("make reset changed nothing:\n" + "\n".join(f"  - {blocker}" for blocker in found))
    report, backups = ResetReport(root), _Backups(root, backup_dir)
    git = is_git_checkout(root)
    if git:
        for name, saved in restore_from_git(root, RESTORED, backups):
            if saved:
                report.saved.append((root / name, saved))
            report.add("restored", root / name, "" if saved else "it had been deleted")
        others = changed_files(root, ["."])
        if others:
            report.notes.append(
                "Left as they are (not notebooks or data; `git diff` shows the changes): " + ", ".join(others)
            )
    else:
        _regenerate_exercises(root, backups, report)
        report.notes.append(
            "This folder is not a git checkout (a zip download?): exercises/ was regenerated from "
            "solutions/, but notebooks/ and solutions/ cannot be restored without git. Download the "
            "course again for fresh copies of them."
        )
    course = _course_notebook_names(root, git)
    for folder in NOTEBOOK_FOLDERS:
        if git and (root / folder).is_dir():  # without git there is no telling which files are the course's
            for path in _files(root / folder):
                if path.relative_to(root).as_posix() not in course:
                    report.add("kept", path, "not a course file")
        _clear_checkpoints(root / folder, root, course, backups, report)
    _remove_workspace(workspace, report)
    _remove_model_versions(models, report)
    _remove_server_logs(Path(temp_dir or tempfile.gettempdir()), report)
    report.backup_folder = backups.used
    return report


def _regenerate_exercises(root: Path, backups: _Backups, report: ResetReport) -> None:
    """Without git, the exercises' original is what `make exercises` generates from solutions/."""
    for solution in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        target = root / "exercises" / solution.name
        text = exercises.render(solution)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        if target.is_file():
            report.saved.append((target, backups.save(target)))
        target.write_text(text, encoding="utf-8")
        report.add("restored", target, "generated from solutions/")


def _clear_checkpoints(folder: Path, root: Path, course: set[str], backups: _Backups, report: ResetReport) -> None:
    checkpoints = folder / CHECKPOINTS
    if not checkpoints.is_dir():
        return
    for copy in sorted(checkpoints.iterdir()):
        stem, _, suffix = copy.name.rpartition("-checkpoint")
        original = folder / (stem + suffix)
        if not stem or not copy.is_file() or original.relative_to(root).as_posix() not in course:
            continue  # the checkpoint of a participant's own notebook stays with it
        if not original.is_file() or copy.read_bytes() != original.read_bytes():
            report.saved.append((copy, backups.save(copy)))
        report.add("removed", copy, "JupyterLab's checkpoint of a course notebook")
        copy.unlink()
    if not any(checkpoints.iterdir()):
        checkpoints.rmdir()


def _rmtree(path: Path) -> None:
    """shutil.rmtree that also removes read-only files (DVC's cache marks its files read-only)."""

    def writable_then_retry(
        function: Callable[[str], object], name: str, _: tuple[type[BaseException], BaseException, TracebackType]
    ) -> None:
        os.chmod(name, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        function(name)

    shutil.rmtree(path, onerror=writable_then_retry)


def _remove_workspace(workspace: Path, report: ResetReport) -> None:
    if not workspace.is_dir():
        return
    for entry in sorted(workspace.iterdir()):
        if entry.name == TAKE_HOME_FOLDER:
            report.add("kept", entry, "your take-home project: delete it yourself to start it again")
        elif entry.is_dir() and LESSON_FOLDER.match(entry.name):
            report.add("removed", entry, "files a lesson wrote")
            _rmtree(entry)
        else:
            report.add("kept", entry, "in the workspace, but not made by a lesson")
    if not any(workspace.iterdir()):
        workspace.rmdir()


def _remove_model_versions(models: Path, report: ResetReport) -> None:
    """The numbered versions (and export leftovers) under models/<name>/; files in models/ are the course's configs."""
    if not models.is_dir():
        return
    for base in sorted(path for path in models.iterdir() if path.is_dir()):
        for entry in sorted(base.iterdir()):
            # a version, or the hidden temporary folder of a publish that crashed (model_server.versions)
            if entry.is_dir() and (versions.is_version_name(entry.name) or versions.is_staging_name(entry.name)):
                report.add("removed", entry, "an exported model version")
                _rmtree(entry)
            else:
                report.add("kept", entry, "not a model version")
        if not any(base.iterdir()):
            base.rmdir()


def _open_files() -> set[str]:
    import psutil

    paths = set()
    for process in psutil.process_iter():
        try:
            paths.update(item.path for item in process.open_files())
        except (psutil.Error, OSError):
            pass
    return paths


def _remove_server_logs(temp_dir: Path, report: ResetReport) -> None:
    """Logs of model servers that stopped without cleaning up (a killed kernel); a running server's log stays."""
    logs = sorted(
        path
        for path in temp_dir.glob(SERVER_LOGS)
        if path.is_file() and (not hasattr(os, "getuid") or path.stat().st_uid == os.getuid())
    )
    in_use = _open_files() if logs else set()
    for log in logs:
        if str(log) in in_use or str(log.resolve()) in in_use:
            continue
        report.add("removed", log, "a model server's log left behind")
        log.unlink(missing_ok=True)


# --- checkpoint --------------------------------------------------------------------------------------------


@dataclass
class CheckpointReport:
    """What checkpoint found and did, and where the participant goes next."""

    root: Path
    number: str
    lines: list[str] = field(default_factory=list)
    models: dict[int, str] = field(default_factory=dict)  # version -> "kept" or "exported"
    moved_workspace: Path | None = None
    restored: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join([f"make checkpoint MODULE={self.number} in {self.root}", *self.lines])


def checkpoint(
    module: str | int,
    root: Path | None = None,
    data_dir: Path | None = None,
    workspace: Path | None = None,
    models: Path | None = None,
    backup_dir: Path | None = None,
    progress: Callable[[str], object] | None = None,
) -> CheckpointReport:
    """Bring the course folder to the state module `module` starts from (see MODULES), keeping what is there.

    Data: files that differ from git's HEAD are saved to backups/ and restored, then checked against their
    checksums. Models: missing versions are trained and exported with module 04's recipe (which reads the data
    from config.WINE_DATA_DIR, as the lessons do); existing ones are kept, with no retraining. Workspace: the
    module's own folder may hold an earlier attempt; it moves to backups/, so the module starts from an empty folder
    as it would in class (earlier modules' folders stay: no module reads them). Notebooks are not touched: a
    participant's exercise in progress stays. `progress` (e.g. print) hears about the slow steps.
    """
    number = module_number(module)
    spec = MODULES[number]
    root = Path(root or config.REPO_ROOT).resolve()
    data_dir = Path(data_dir or root / config.WINE_DATA_DIR.relative_to(config.REPO_ROOT))
    workspace = Path(workspace or default_workspace(root))
    base = Path(models or default_models(root)) / "wine"
    report, backups = CheckpointReport(root, number), _Backups(root, backup_dir)
    say = progress or (lambda message: None)
    git = is_git_checkout(root)

    # The data, and the serving configs next to the models, as shipped.
    folders = [data_dir.resolve()] + ([root / "models"] if spec.models else [])
    restored = []
    if git:
        names = [folder.relative_to(root).as_posix() for folder in folders if _inside(folder, root)]
        for name, saved in restore_from_git(root, names, backups):
            report.restored.append(root / name)
            restored.append(
                f"Restored {name} from git: "
                + (
                    f"it differed from the course's version (yours is in {_shown(saved, root)})."
                    if saved
                    else "it was missing."
                )
            )
    problems = data.checksum_problems(data_dir)
    if problems:
        fix = (
            "restore them with `git checkout HEAD -- data/`"
            if git
            else "this folder is not a git checkout: download the course again for the original files"
        )
        raise ClassroomError(f"the course data is not as shipped ({'; '.join(problems)}): {fix}")
    report.lines += [
        *restored,
        f"Data: {_shown(data_dir, root)} matches its checksums ({len(data.expected_files(data_dir))} files).",
    ]

    # The wine model of module 04, when the module needs it.
    report.lines.insert(0, f"Module {number} {spec.reads}.")
    if spec.models:
        report.lines.append(f"Models ({_shown(base, root).rstrip('/')}/):")
        for version in spec.models:
            report.lines.append(_ensure_version(version, base, root, report, say))

    # The module's own workspace folder.
    own = workspace / spec.name
    label = _shown(own, root).rstrip("/") + "/"
    if own.is_dir() and any(own.iterdir()):
        report.moved_workspace = backups.save(own, move=True)
        report.lines.append(
            f"Workspace: {label} held an earlier attempt: moved to "
            f"{_shown(report.moved_workspace, root)}, so the module starts from an empty folder."
        )
    else:
        report.lines.append(f"Workspace: {label} is empty or not there yet; the notebook creates it.")

    has = "the course data" + (
        f" and versions {' and '.join(map(str, spec.models))} of the wine model in {_shown(base, root)}"
        if spec.models
        else ""
    )
    report.lines.append(f"You now have what module {number} starts from: {has}.")
    lesson, exercise = root / "notebooks" / f"{spec.name}.ipynb", root / "exercises" / f"{spec.name}.ipynb"
    step = f"Next: open {_shown(lesson, root)} (the lesson)"
    if exercise.is_file():
        step += f", then {_shown(exercise, root)} (the exercises)"
    report.lines.append(step + ".")
    return report


def _ensure_version(
    version: int, base: Path, root: Path, report: CheckpointReport, say: Callable[[str], object]
) -> str:
    """Keep an exported version; train and export a missing one with module 04's recipe (as lessons 05 and 06 do)."""
    from workshop_lib import export

    folder = export.version_dir(version, base)
    if (folder / "saved_model.pb").is_file():
        report.models[version] = "kept"
        return f"  {_shown(folder, root)}: kept, already exported."
    say(f"version {version} of the wine model is missing: training it with module 04's recipe ...")
    started = time.monotonic()
    model, metrics, _ = export.train_version(version)
    export.export_savedmodel(model, version, base)
    report.models[version] = "exported"
    return (
        f"  {_shown(folder, root)}: exported now with module 04's recipe (trained on {metrics['trained_on']}, "
        f"MAE {metrics['mae']:.3f} on {metrics['n_test']} held-out wines, {time.monotonic() - started:.0f} s)."
    )
