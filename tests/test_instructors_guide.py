"""docs/instructors.md agrees with the course it describes.

An instructor runs the day from this guide, so a schedule that no longer matches the opening deck,
a `make` target that was renamed or a notebook that moved is a failure on the day. Each check is a
function that returns a list of problems, so the tests can also feed it broken input and see it
complain.
"""

import re
from pathlib import Path

import nbformat
import pytest

from workshop_lib.config import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "instructors.md"
OPENING = REPO_ROOT / "slides" / "opening.md"
MAKEFILE = REPO_ROOT / "Makefile"

MODULES = ["opening", "00", "01", "02", "03", "04", "05", "06", "07", "wrap-up"]
BREAKS = ("break", "lunch")
# Built, generated or personal folders: they do not exist in a fresh clone, by design.
NOT_IN_A_CLONE = ("build/", "backups/", "workspace/", "models/wine", ".venv")
COURSE_FOLDERS = {
    "slides",
    "notebooks",
    "exercises",
    "solutions",
    "tools",
    "docs",
    "tests",
    "data",
    "models",
    "workshop_lib",
    "build",
    "backups",
    "workspace",
    ".ci",
    ".venv",
}
PLACEHOLDER = re.compile(r"[<>*…]|\.\.\.|\bNN\b|NN_|\b0N_")


# ---------------------------------------------------------------- parsing helpers


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every pipe table in `text`: a list of rows, each a list of stripped cells (separator row dropped)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def module_key(label: str) -> str | None:
    """'03 reproducible training' -> '03'; 'opening' -> 'opening'; 'closing' or 'wrap-up' -> 'wrap-up'."""
    label = label.strip().lower()
    if match := re.match(r"(\d\d)\b", label):
        return match.group(1)
    if label.startswith("opening"):
        return "opening"
    if label.startswith(("wrap-up", "wrap up", "closing")):
        return "wrap-up"
    return None


def opening_minutes(text: str) -> dict[str, int]:
    """Minutes per block from the opening deck's "The day" slide: {'opening': 20, '00': 10, ...}."""
    slide = re.search(r"^## The day\s*$(.*?)(?=^---\s*$|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    if not slide:
        raise ValueError("slides/opening.md has no '## The day' slide")
    for table in markdown_tables(slide.group(1)):
        header = [cell.lower() for cell in table[0]]
        if header[:2] != ["nn", "module"]:
            continue
        minutes = {}
        for row in table[1:]:
            key = row[0] or module_key(row[1])
            found = re.search(r"(\d+)\s*min", row[-1])
            if key is None or not found:
                raise ValueError(f"slides/opening.md, 'The day': cannot read the row {row}")
            minutes[key] = int(found.group(1))
        return minutes
    raise ValueError("slides/opening.md, 'The day': no table with the columns NN | module | about")


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def guide_schedule(text: str) -> list[dict]:
    """The guide's schedule table: one dict per row with time span, block, minutes, presenting, hands-on."""
    for table in markdown_tables(text):
        header = [cell.lower() for cell in table[0]]
        if {"time", "block", "minutes", "presenting", "hands-on"} <= set(header):
            rows = []
            for cells in table[1:]:
                row = dict(zip(header, cells))
                span = re.fullmatch(r"(\d\d:\d\d)\s*-\s*(\d\d:\d\d)", row["time"])
                if not span:
                    raise ValueError(f"schedule row {cells}: time must read like 09:00-09:20")
                rows.append(
                    {
                        "start": _clock(span.group(1)),
                        "end": _clock(span.group(2)),
                        "block": row["block"],
                        "minutes": row["minutes"],
                        "presenting": row["presenting"],
                        "hands-on": row["hands-on"],
                    }
                )
            return rows
    raise ValueError(
        "docs/instructors.md has no schedule table with the columns time | block | minutes | presenting | hands-on"
    )


def schedule_problems(schedule: list[dict], expected: dict[str, int]) -> list[str]:
    """Where the guide's schedule disagrees with the opening deck, or with its own clock."""
    problems, modules = [], []
    for previous, row in zip([None] + schedule, schedule):
        block = row["block"]
        if previous and row["start"] != previous["end"]:
            problems.append(
                f"schedule: '{block}' starts at {row['start'] // 60:02d}:{row['start'] % 60:02d}, "
                f"but '{previous['block']}' before it ends at {previous['end'] // 60:02d}:{previous['end'] % 60:02d}"
            )
        if not row["minutes"].isdigit() or row["end"] - row["start"] != int(row["minutes"]):
            problems.append(
                f"schedule: '{block}' lasts {row['end'] - row['start']} min by its clock times "
                f"but says {row['minutes']!r} minutes"
            )
        if block.lower().startswith(BREAKS):
            continue
        key = module_key(block)
        if key is None:
            problems.append(f"schedule: '{block}' is neither a module (opening, 00-07, wrap-up) nor a break")
            continue
        modules.append(key)
        if not (row["presenting"].isdigit() and row["hands-on"].isdigit()):
            problems.append(
                f"module {key}: presenting {row['presenting']!r} and hands-on {row['hands-on']!r} "
                "must both be whole minutes"
            )
            continue
        split = int(row["presenting"]) + int(row["hands-on"])
        if key in expected and split != expected[key]:
            problems.append(
                f"module {key}: the guide says {row['presenting']} presenting + {row['hands-on']} "
                f"hands-on = {split} min, slides/opening.md's 'The day' says {expected[key]} min"
            )
        if key in expected and row["minutes"].isdigit() and int(row["minutes"]) != expected[key]:
            problems.append(
                f"module {key}: the guide's minutes column says {row['minutes']}, "
                f"slides/opening.md's 'The day' says {expected[key]} min"
            )
    if modules != list(expected):
        problems.append(f"schedule: the blocks are {modules}, slides/opening.md's 'The day' has {list(expected)}")
    return problems


# ---------------------------------------------------------------- minutes of each module, wherever stated

LESSON_TIME = re.compile(
    r"\*\*Time:\*\*\s*(?P<total>\d+) minutes\s*\((?:about\s+)?(?P<presenting>\d+)\s[^,]*,\s*(?P<hands_on>\d+) hands-on"
)
DECK_TIME = re.compile(r"·\s*(?P<total>\d+) minutes\s*\((?P<presenting>\d+)\s[^,]*,\s*(?P<hands_on>\d+) hands-on\)")
EXERCISES_TIME = re.compile(r"\*\*Time:\*\*\s*(?:about\s+)?(?P<hands_on>\d+) minutes hands-on")
EXERCISE_HEADING = re.compile(r"^## Exercise (?P<number>\d\d\.\d+)\b(?P<rest>.*)$", re.MULTILINE)
EXERCISE_MINUTES = re.compile(r"\((?P<low>\d+)(?:\s*[–-]\s*(?P<high>\d+))?\s*minutes")


def stated_minutes(pattern: re.Pattern, text: str) -> dict[str, int] | None:
    """{'total': 55, 'presenting': 35, 'hands_on': 20} from a **Time:** line or a title slide, or None."""
    found = pattern.search(text)
    return {name: int(value) for name, value in found.groupdict().items()} if found else None


def first_cell(notebook: Path) -> str:
    return nbformat.read(notebook, as_version=4).cells[0].source


def exercise_headings(text: str) -> list[dict]:
    """Each `## Exercise NN.K ... (N minutes)` heading: its number, minutes (low, high) and whether it is optional."""
    exercises = []
    for heading in EXERCISE_HEADING.finditer(text):
        minutes = EXERCISE_MINUTES.search(heading["rest"])
        exercises.append(
            {
                "number": heading["number"],
                "low": int(minutes["low"]) if minutes else None,
                "high": int(minutes["high"] or minutes["low"]) if minutes else None,
                "optional": bool(re.search(r"optional|if you have time", heading["rest"], re.IGNORECASE)),
            }
        )
    return exercises


def minutes_problems(key: str, row: dict, lesson: str, deck: str, exercises: str | None) -> list[str]:
    """Where a module's lesson notebook, deck title slide or exercise notebook disagrees with the guide's row.

    `exercises` is the text of the exercise notebook's markdown (None for a module without one): its
    **Time:** line must be the hands-on minutes, and the minutes of its exercises that are not optional
    must add up to them (a range like 5-10 counts when the hands-on time lies within the sums).
    """
    problems = []
    expected = {"total": int(row["minutes"]), "presenting": int(row["presenting"]), "hands_on": int(row["hands-on"])}
    for where, pattern, text in (
        ("the lesson notebook's **Time:** line", LESSON_TIME, lesson),
        ("the deck's title slide", DECK_TIME, deck),
    ):
        stated = stated_minutes(pattern, text)
        if stated is None:
            problems.append(f"module {key}: {where} does not say 'N minutes (X presenting ..., Y hands-on'")
        elif stated != expected:
            problems.append(
                f"module {key}: {where} says {stated['total']} minutes ({stated['presenting']} presenting, "
                f"{stated['hands_on']} hands-on), the guide {expected['total']} ({expected['presenting']}, "
                f"{expected['hands_on']})"
            )
        elif stated["presenting"] + stated["hands_on"] != stated["total"]:
            problems.append(
                f"module {key}: {where}: {stated['presenting']} + {stated['hands_on']} is not {stated['total']}"
            )
    if exercises is None:
        return problems
    stated = stated_minutes(EXERCISES_TIME, exercises)
    if stated is None:
        problems.append(f"module {key}: the exercise notebook does not say '**Time:** N minutes hands-on'")
    elif stated["hands_on"] != expected["hands_on"]:
        problems.append(
            f"module {key}: the exercise notebook says {stated['hands_on']} minutes hands-on, "
            f"the guide {expected['hands_on']}"
        )
    headings = exercise_headings(exercises)
    untimed = [heading["number"] for heading in headings if heading["low"] is None]
    if untimed:
        problems.append(f"module {key}: exercises {untimed} give no minutes in their heading")
    counted = [heading for heading in headings if not heading["optional"] and heading["low"] is not None]
    low, high = sum(h["low"] for h in counted), sum(h["high"] for h in counted)
    if not counted or not low <= expected["hands_on"] <= high:
        sums = f"{low}" if low == high else f"{low}-{high}"
        problems.append(
            f"module {key}: the exercises that are not optional add up to {sums} minutes, "
            f"the hands-on time is {expected['hands_on']}: mark one optional or re-time them"
        )
    return problems


def module_files(key: str) -> tuple[Path, Path, Path | None]:
    """The lesson notebook, the deck and the exercise notebook (None if the module has none) of module `key`."""
    (lesson,) = sorted((REPO_ROOT / "notebooks").glob(f"{key}_*.ipynb"))
    exercises = REPO_ROOT / "exercises" / lesson.name
    return lesson, REPO_ROOT / "slides" / f"{lesson.stem}.md", exercises if exercises.is_file() else None


def markdown_of(notebook: Path) -> str:
    return "\n\n".join(
        cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "markdown"
    )


def code_spans(text: str) -> list[str]:
    """The contents of fenced code blocks and of `inline code`, where commands and paths are written."""
    fences = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return fences + re.findall(r"`([^`\n]+)`", prose)


def make_targets_mentioned(text: str) -> set[str]:
    """Targets of every `make ...` command in code: `make lab LAB_PORT=8889` -> {'lab'}."""
    targets = set()
    for span in code_spans(text):
        for command in re.findall(r"(?:^|[\s;&|(])make((?:[ \t]+[^\s;&|)#]+)+)", span):
            targets |= {word for word in command.split() if "=" not in word and not word.startswith("-")}
    return targets


def makefile_targets(text: str) -> set[str]:
    """Rule names of a Makefile (not variables, not special targets like .PHONY)."""
    targets = set()
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_-][A-Za-z0-9_.-]*(?:[ \t]+[A-Za-z0-9_-][A-Za-z0-9_.-]*)*)[ \t]*:(?!=)", line)
        if match:
            targets |= set(match.group(1).split())
    return targets


def repository_paths(text: str, root: Path = REPO_ROOT) -> set[str]:
    """Code spans that name a file or folder of the repository: `slides/opening.md`, `docker-compose.yml`.

    A span with a slash counts when its first folder is one of the course's (or exists at the top of
    the repository), so an image name like `tensorflow/serving` is not taken for a path.
    """
    folders = COURSE_FOLDERS | {entry.name for entry in root.iterdir() if entry.is_dir()}
    paths = set()
    for span in code_spans(text):
        span = span.strip()
        if not span or re.search(r"[\s:\\=%~]", span) or span.startswith(("/", "-")):
            continue  # commands, URLs, options, absolute and home paths
        if (
            "/" in span
            and span.split("/", 1)[0] in folders
            or re.fullmatch(r"[\w.-]+\.(md|ya?ml|txt|toml|ipynb|py|cfg|config|csv|html)", span)
            or span in {"Dockerfile", "Makefile", "LICENSE"}
        ):
            paths.add(span)
    return paths


def path_problems(paths: set[str], root: Path) -> list[str]:
    """Paths that should be in a fresh clone but are not (built outputs and placeholders are skipped)."""
    problems = []
    for path in sorted(paths):
        if path.startswith(NOT_IN_A_CLONE) or PLACEHOLDER.search(path):
            continue
        if not (root / path).exists():
            problems.append(f"docs/instructors.md names `{path}`, which does not exist in the repository")
    return problems


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file: '## After the day, and X' -> 'after-the-day-and-x'."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.MULTILINE):
        plain = re.sub(r"[`*_]", "", heading).lower()
        anchors.add(re.sub(r"[^\w\- ]", "", plain).replace(" ", "-"))
    return anchors


def link_problems(markdown: str, here: Path) -> list[str]:
    """Relative links whose file or #anchor does not exist (web links are not followed)."""
    problems = []
    for target in re.findall(r"\]\(([^)\s]+)\)", markdown):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (here.parent / file).resolve() if file else here
        if not path.exists():
            problems.append(f"link to {target}: {file} does not exist")
        elif anchor and path.suffix == ".md" and anchor not in heading_anchors(path.read_text(encoding="utf-8")):
            problems.append(f"link to {target}: {path.name} has no heading with the anchor #{anchor}")
    return problems


# ---------------------------------------------------------------- the guide itself


@pytest.fixture(scope="module")
def guide() -> str:
    assert GUIDE.is_file(), "docs/instructors.md is missing"
    return GUIDE.read_text(encoding="utf-8")


def test_opening_deck_has_every_block_of_the_day():
    assert list(opening_minutes(OPENING.read_text(encoding="utf-8"))) == MODULES


def test_schedule_matches_the_opening_deck(guide):
    problems = schedule_problems(guide_schedule(guide), opening_minutes(OPENING.read_text(encoding="utf-8")))
    assert not problems, "\n".join(problems)


def test_schedule_has_breaks_with_clock_times(guide):
    breaks = [row for row in guide_schedule(guide) if row["block"].lower().startswith(BREAKS)]
    assert any(row["block"].lower().startswith("lunch") for row in breaks), "the schedule has no lunch break"
    assert len(breaks) >= 3, (
        f"the schedule has {len(breaks)} breaks; a 7-hour day needs a morning, lunch and afternoon break"
    )


def test_every_make_target_in_the_guide_exists(guide):
    mentioned = make_targets_mentioned(guide)
    assert {"doctor", "test", "slides", "reset", "checkpoint", "lab"} <= mentioned
    missing = mentioned - makefile_targets(MAKEFILE.read_text(encoding="utf-8"))
    assert not missing, f"docs/instructors.md uses make targets the Makefile does not have: {sorted(missing)}"


def test_every_repository_path_in_the_guide_exists(guide):
    problems = path_problems(repository_paths(guide), REPO_ROOT)
    assert not problems, "\n".join(problems)


def test_guide_names_every_deck_lesson_exercise_and_solution(guide):
    """Where each module's material lives: a renamed or new file must show up in the guide."""
    files = [
        path
        for folder in ("slides", "notebooks", "exercises", "solutions")
        for path in sorted((REPO_ROOT / folder).glob("*.*"))
        if path.suffix in {".md", ".ipynb"} and path.name != "README.md" and "vendor" not in path.parts
    ]
    assert len(files) >= 30
    mentioned = repository_paths(guide)
    missing = [
        path.relative_to(REPO_ROOT).as_posix()
        for path in files
        if path.relative_to(REPO_ROOT).as_posix() not in mentioned
    ]
    assert not missing, f"docs/instructors.md does not say where these live: {missing}"


def test_links_in_the_guide_lead_somewhere(guide):
    problems = link_problems(guide, GUIDE)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", [key for key in MODULES if key.isdigit()])
def test_each_module_states_the_guides_minutes_and_its_exercises_add_up(guide, key):
    """The lesson's **Time:** line, the deck's title slide and the exercise minutes all say what the schedule says."""
    rows = {
        module_key(row["block"]): row for row in guide_schedule(guide) if not row["block"].lower().startswith(BREAKS)
    }
    lesson, deck, exercises = module_files(key)
    problems = minutes_problems(
        key,
        rows[key],
        first_cell(lesson),
        split_deck_title(deck.read_text(encoding="utf-8")),
        markdown_of(exercises) if exercises else None,
    )
    assert not problems, "\n".join(problems)


def split_deck_title(text: str) -> str:
    """The title slide of a deck: everything before its first `---` separator."""
    return re.split(r"^\n?---\n", text, maxsplit=1, flags=re.MULTILINE)[0]


# ---------------------------------------------------------------- the checks catch what they should


SCHEDULE = """
| time | block | minutes | presenting | hands-on |
|---|---|---|---|---|
| 09:00-09:20 | opening | 20 | 20 | 0 |
| 09:20-09:30 | 00 setup check | 10 | 5 | 5 |
| 09:30-09:45 | break | 15 | | |
| 09:45-10:35 | 01 exploration | 50 | 30 | 20 |
| 10:35-10:45 | wrap-up | 10 | 10 | 0 |
"""
EXPECTED = {"opening": 20, "00": 10, "01": 50, "wrap-up": 10}


def test_a_consistent_schedule_passes():
    assert schedule_problems(guide_schedule(SCHEDULE), EXPECTED) == []


def test_a_changed_split_names_the_module():
    problems = schedule_problems(guide_schedule(SCHEDULE.replace("| 50 | 30 | 20 |", "| 50 | 35 | 20 |")), EXPECTED)
    assert any(problem.startswith("module 01:") and "55 min" in problem and "50 min" in problem for problem in problems)


def test_a_changed_opening_deck_names_the_module():
    problems = schedule_problems(guide_schedule(SCHEDULE), {**EXPECTED, "00": 15})
    assert any(problem.startswith("module 00:") and "15 min" in problem for problem in problems)


def test_a_missing_or_extra_module_is_reported():
    without_00 = SCHEDULE.replace("| 09:20-09:30 | 00 setup check | 10 | 5 | 5 |\n", "")
    assert any("blocks are" in problem for problem in schedule_problems(guide_schedule(without_00), EXPECTED))
    assert any(
        "blocks are" in problem for problem in schedule_problems(guide_schedule(SCHEDULE), {**EXPECTED, "02": 60})
    )


def test_clock_times_that_do_not_add_up_are_reported():
    gap = SCHEDULE.replace("09:45-10:35", "09:50-10:35")
    problems = schedule_problems(guide_schedule(gap), EXPECTED)
    assert any("starts at 09:50" in problem for problem in problems)
    assert any("lasts 45 min" in problem for problem in problems)


def test_opening_table_is_read_from_the_day_slide():
    deck = (
        "## Other\n\n| NN | module | about |\n|---|---|---|\n| 00 | x | 99 min |\n\n---\n\n"
        "## The day\n\n| NN | module | about |\n|---|---|---|\n| | opening | 20 min |\n| 00 | setup | 10 min |\n"
        "| | wrap-up | 10 min |\n\nNote:\nAbout 1 minute.\n"
    )
    assert opening_minutes(deck) == {"opening": 20, "00": 10, "wrap-up": 10}
    with pytest.raises(ValueError, match="The day"):
        opening_minutes("## Something else\n")


def test_make_targets_are_read_from_commands_only():
    text = (
        "Make sure you run `make lab LAB_PORT=8889`; then `make checkpoint MODULE=05`.\n\n"
        "```bash\nmake doctor && make test\n```\nPlain prose: make coffee.\n"
    )
    assert make_targets_mentioned(text) == {"lab", "checkpoint", "doctor", "test"}
    makefile = "X ?= 1\nY := 2\n.PHONY: a b\na: $(STAMP)\n\techo\nb c:\n\techo\n$(STAMP): req.txt\n"
    assert makefile_targets(makefile) == {"a", "b", "c"}


def test_paths_are_checked_and_placeholders_skipped(tmp_path):
    (tmp_path / "slides").mkdir()
    (tmp_path / "slides" / "opening.md").write_text("# x\n")
    text = (
        "`slides/opening.md` `slides/gone.md` `docker-compose.yml` `build/slides/opening.html` "
        "`slides/NN_slug.md` `notebooks/0N_...` `make lab` `http://localhost:8888/lab?token=x` `/mnt/c` "
        "`tensorflow/serving`"
    )
    paths = repository_paths(text, tmp_path)
    assert paths == {
        "slides/opening.md",
        "slides/gone.md",
        "docker-compose.yml",
        "build/slides/opening.html",
        "slides/NN_slug.md",
        "notebooks/0N_...",
    }
    problems = path_problems(paths, tmp_path)
    assert [problem.split("`")[1] for problem in problems] == ["docker-compose.yml", "slides/gone.md"]


def test_broken_links_are_reported(tmp_path):
    page = tmp_path / "guide.md"
    (tmp_path / "other.md").write_text("# Other\n\n## Start here: two commands\n")
    page.write_text("## After the day, and between two groups\n")
    text = (
        "[a](#after-the-day-and-between-two-groups) [b](other.md#start-here-two-commands) "
        "[c](#nowhere) [d](missing.md) [e](other.md#gone) [f](https://example.com/x#y)"
    )
    assert link_problems(text, page) == [
        "link to #nowhere: guide.md has no heading with the anchor #nowhere",
        "link to missing.md: missing.md does not exist",
        "link to other.md#gone: other.md has no heading with the anchor #gone",
    ]


ROW = {"minutes": "55", "presenting": "35", "hands-on": "20"}
LESSON = (
    "# 01 · x\n\n**Time:** 55 minutes (35 presenting and live-coding this notebook, 20 hands-on: exercises 01.1–01.3)."
)
DECK = "# 01 · x\n\nNotebook: `notebooks/01_x.ipynb` · 55 minutes (35 presenting and live-coding, 20 hands-on)\n"
EXERCISES = (
    "**Time:** 20 minutes hands-on (01.1 about 5 minutes, 01.2 about 5, 01.3 about 10; 01.4 is optional).\n\n"
    "## Exercise 01.1 · Duplicates (5 minutes)\n\n## Exercise 01.2: baseline (5 minutes)\n\n"
    "## Exercise 01.3: a metric (5–10 minutes)\n\n## Exercise 01.4 (optional) · RMSE (5 minutes, if you have time)\n"
)


def test_minutes_that_agree_pass():
    assert minutes_problems("01", ROW, LESSON, DECK, EXERCISES) == []
    assert (
        minutes_problems(
            "00",
            {"minutes": "10", "presenting": "5", "hands-on": "5"},
            "**Time:** 10 minutes (5 presenting, 5 hands-on).",
            "· 10 minutes (5 presenting, 5 hands-on)",
            None,
        )
        == []
    )


def test_a_lesson_or_deck_with_other_minutes_is_reported():
    problems = minutes_problems("01", ROW, LESSON.replace("55 minutes (35", "50 minutes (30"), DECK, EXERCISES)
    assert len(problems) == 1 and "lesson notebook" in problems[0] and "says 50 minutes" in problems[0]
    problems = minutes_problems("01", ROW, LESSON, DECK.replace("20 hands-on", "25 hands-on"), EXERCISES)
    assert len(problems) == 1 and "title slide" in problems[0]
    assert "does not say" in minutes_problems("01", ROW, "no time here", DECK, EXERCISES)[0]


def test_exercise_minutes_that_do_not_add_up_are_reported():
    counted = EXERCISES.replace("(5–10 minutes)", "(10 minutes)").replace(
        "## Exercise 01.4 (optional) · RMSE (5 minutes, if you have time)", "## Exercise 01.4 · RMSE (5 minutes)"
    )
    problems = minutes_problems("01", ROW, LESSON, DECK, counted)
    assert problems == [
        "module 01: the exercises that are not optional add up to 25 minutes, the hands-on time is 20: "
        "mark one optional or re-time them"
    ]
    too_few = EXERCISES.replace("(5–10 minutes)", "(5 minutes)")
    assert any("add up to 15 minutes" in problem for problem in minutes_problems("01", ROW, LESSON, DECK, too_few))
    wrong_total = EXERCISES.replace("**Time:** 20", "**Time:** 25")
    assert any(
        "says 25 minutes hands-on" in problem for problem in minutes_problems("01", ROW, LESSON, DECK, wrong_total)
    )
    untimed = EXERCISES.replace("Duplicates (5 minutes)", "Duplicates")
    assert any("['01.1'] give no minutes" in problem for problem in minutes_problems("01", ROW, LESSON, DECK, untimed))
