"""The slide decks follow slides/README.md, so `make slides` can build them and an instructor can rely on them.

Fast and without a browser: the decks are split into slides the way reveal.js's Markdown plugin
splits them (the build's data-separator and data-separator-notes), and every diagram is checked
as XML, because the build inlines it into a self-contained HTML file that must work offline.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workshop_lib.config import REPO_ROOT

SLIDES = REPO_ROOT / "slides"
DIAGRAMS = SLIDES / "diagrams"
NOTEBOOKS = REPO_ROOT / "notebooks"

SVG_NS = "http://www.w3.org/2000/svg"
# The separators the build hands to reveal.js: data-separator="^\n---\n$", data-separator-notes="^Note:".
SLIDE_SEPARATOR = re.compile(r"^\n---\n$", re.MULTILINE)
NOTES_SEPARATOR = re.compile(r"^Note:", re.MULTILINE)
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]*)[^)]*\)")
TIMING = re.compile(r"\b\d{1,2}:\d\d\b|\bminutes?\b|\bseconds?\b", re.IGNORECASE)
EXTERNAL_URL = re.compile(r"\b(?:https?:)?//[\w.-]+\.\w", re.IGNORECASE)

MODULE_NOTEBOOKS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
MODULE_DECKS = [SLIDES / f"{notebook.stem}.md" for notebook in MODULE_NOTEBOOKS]
OPENING, CLOSING = SLIDES / "opening.md", SLIDES / "closing.md"
TAKE_HOME = SLIDES / "take_home_project.md"  # the take-home project's deck, after the day (not a module of it)
ALL_DECKS = [OPENING, *MODULE_DECKS, TAKE_HOME, CLOSING]
DIAGRAM_FILES = sorted(DIAGRAMS.glob("*.svg"))
EXPECTED_DIAGRAMS = ["data_science_cycle.svg", "ml_system.svg", "pipelines.svg", "serving_architecture.svg"]


def split_slides(text: str) -> list[str]:
    """The deck's slides, in the order reveal.js shows them."""
    return SLIDE_SEPARATOR.split(text)


def outside_code(slide: str) -> list[str]:
    """The slide's lines outside fenced code blocks: a `# comment` in a bash block is not a heading."""
    lines, fenced = [], False
    for line in slide.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def where(deck: Path, number: int | None = None) -> str:
    name = f"slides/{deck.name}"
    return f"{name}, slide {number}" if number else name


def deck_problems(deck: Path) -> list[str]:
    """Every way the deck breaks the format of slides/README.md, one line each."""
    text = deck.read_text(encoding="utf-8")
    problems = []
    if not text.startswith("# "):
        problems.append(f"{where(deck)}: must start with its `# ` title heading (no front matter, no blank line)")
    for number, slide in enumerate(split_slides(text), start=1):
        here = where(deck, number)
        content = [line for line in outside_code(slide) if line.strip()]
        first = content[0] if content else ""
        if number == 1 and not first.startswith("# "):
            problems.append(f"{here}: the title slide must start with a single `# ` heading, found {first!r}")
        if number > 1 and not first.startswith("## "):
            problems.append(f"{here}: must start with a `## ` heading, found {first!r}")
        if number > 1 and any(line.startswith("# ") for line in content):
            problems.append(f"{here}: only the title slide has a `# ` heading")
        if any(line.strip() == "---" for line in content):
            problems.append(f"{here}: a `---` line needs a blank line above and below it to separate slides")
        fences = sum(line.lstrip().startswith("```") for line in slide.splitlines())
        if fences % 2:
            problems.append(f"{here}: a code block is not closed, or a `---` separator cuts it in two")
        parts = NOTES_SEPARATOR.split(slide)
        if len(parts) > 2:
            problems.append(f"{here}: more than one `Note:` line; the notes run from one `Note:` to the next `---`")
        notes = parts[1].strip() if len(parts) == 2 else ""
        if not notes:
            problems.append(f"{here}: no speaker notes (a line `Note:` and the notes below it)")
        elif not TIMING.search(notes):
            problems.append(f"{here}: the notes give no timing hint (for example `3:00-5:00.` or `About 2 minutes.`)")
    return problems


def images(deck: Path) -> list[tuple[int, str, str]]:
    """(slide number, alt text, path) of every Markdown image in the deck."""
    found = []
    for number, slide in enumerate(split_slides(deck.read_text(encoding="utf-8")), start=1):
        for match in IMAGE.finditer("\n".join(outside_code(slide))):
            found.append((number, match["alt"], match["path"]))
    return found


def test_there_is_a_deck_for_the_opening_every_module_the_take_home_project_and_the_closing():
    assert MODULE_NOTEBOOKS, "no lesson notebooks found in notebooks/"
    missing = [where(deck) for deck in ALL_DECKS if not deck.is_file()]
    assert not missing, f"missing slide decks: {', '.join(missing)}"
    known = {deck.name for deck in ALL_DECKS} | {"README.md"}
    strays = sorted(path.name for path in SLIDES.glob("*.md") if path.name not in known)
    assert not strays, (
        f"slides/{strays[0]} is not a known deck: name a module's deck like its notebook (NN_slug.md); "
        "the others are opening.md, take_home_project.md and closing.md"
    )


@pytest.mark.parametrize("deck", ALL_DECKS, ids=lambda deck: deck.stem)
def test_deck_follows_the_slide_format(deck):
    problems = deck_problems(deck)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("deck", MODULE_DECKS, ids=lambda deck: deck.stem)
def test_module_deck_has_the_shape_of_every_module(deck):
    slides = split_slides(deck.read_text(encoding="utf-8"))
    number = deck.stem[:2]
    title = slides[0]
    assert title.startswith(f"# {number} · "), f"{where(deck, 1)}: the title must start with '# {number} · '"
    assert "**Objectives**" in title, f"{where(deck, 1)}: the title slide must list the module's **Objectives**"
    notebook = f"notebooks/{deck.stem}.ipynb"
    assert notebook in title, f"{where(deck, 1)}: the title slide must name {notebook}"
    headings = [slide.strip().splitlines()[0] for slide in slides[1:]]
    assert "## Your turn" in headings, f"{where(deck)}: no '## Your turn' slide with the exercise"
    assert headings[-1] == "## Key points", (
        f"{where(deck, len(slides))}: the last slide must be '## Key points', found {headings[-1]!r}"
    )


@pytest.mark.parametrize("deck", ALL_DECKS, ids=lambda deck: deck.stem)
def test_every_image_is_one_of_our_diagrams(deck):
    problems = []
    for number, alt, path in images(deck):
        here = where(deck, number)
        if not path.startswith("diagrams/") or not path.endswith(".svg"):
            problems.append(f"{here}: image {path!r} must be one of our SVGs, written as diagrams/NAME.svg")
        elif not (SLIDES / path).is_file():
            problems.append(f"{here}: image {path!r} does not exist under slides/")
        if not alt.strip():
            problems.append(f"{here}: image {path!r} needs an alt text that says what it shows")
    assert not problems, "\n".join(problems)


def test_the_issue_diagrams_exist():
    missing = [name for name in EXPECTED_DIAGRAMS if not (DIAGRAMS / name).is_file()]
    assert not missing, f"missing diagrams in slides/diagrams/: {', '.join(missing)}"


def svg_problems(svg: Path) -> list[str]:
    """Why the diagram is not a standalone SVG that the build can inline and show offline."""
    name = f"slides/diagrams/{svg.name}"
    text = svg.read_text(encoding="utf-8")
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as error:
        return [f"{name}: not well-formed XML: {error}"]
    problems = []
    if root.tag != f"{{{SVG_NS}}}svg":
        problems.append(f'{name}: the root element must be <svg xmlns="{SVG_NS}">, found {root.tag!r}')
    view_box = root.get("viewBox", "").replace(",", " ").split()
    if len(view_box) != 4:
        problems.append(f'{name}: needs a viewBox="x y width height" so it scales to the slide')
    if not root.get("width") or not root.get("height"):
        problems.append(f"{name}: needs width and height attributes")
    title = root.find(f"{{{SVG_NS}}}title")
    if title is None or not (title.text or "").strip():
        problems.append(f"{name}: needs a non-empty <title> as its first child, for screen readers")
    for element in root.iter():
        tag = element.tag.split("}")[-1]
        if tag in {"image", "script", "foreignObject"}:
            problems.append(f"{name}: <{tag}> is not allowed: draw it, do not embed or script it")
        for attribute, value in element.attrib.items():
            if attribute.split("}")[-1] in {"href", "src"} and not value.startswith("#"):
                problems.append(f"{name}: <{tag} {attribute}={value!r}> points outside the file")
    without_namespaces = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", text)
    if EXTERNAL_URL.search(without_namespaces) or "@import" in text or "@font-face" in text:
        problems.append(f"{name}: contains an external reference (a URL, @import or @font-face): it must work offline")
    for url in re.findall(r"url\(([^)]*)\)", text):
        if not url.strip("'\" ").startswith("#"):
            problems.append(f"{name}: url({url}) points outside the file")
    generic = {"sans-serif", "serif", "monospace"}
    for family in re.findall(r'font-family\s*[:=]\s*"?([^;"}]+)', text):
        if family.split(",")[-1].strip().strip("'\"") not in generic:
            problems.append(f"{name}: font-family {family.strip()!r} must end with sans-serif, serif or monospace")
    if len(view_box) == 4:
        scale = 960 / float(view_box[2])
        for size in re.findall(r'font-size\s*[:=]\s*"?([\d.]+)', text):
            if float(size) * scale < 16:
                problems.append(
                    f"{name}: font-size {size} is too small to read on a slide (at least 16 for a 960-wide drawing)"
                )
    return problems


@pytest.mark.parametrize("svg", DIAGRAM_FILES, ids=lambda svg: svg.stem)
def test_diagram_is_a_standalone_svg(svg):
    problems = svg_problems(svg)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("svg", DIAGRAM_FILES, ids=lambda svg: svg.stem)
def test_every_diagram_is_used_by_a_deck(svg):
    reference = f"diagrams/{svg.name}"
    used_by = [deck for deck in ALL_DECKS if deck.is_file() and any(path == reference for *_, path in images(deck))]
    assert used_by, f"slides/diagrams/{svg.name} is not shown in any deck: use it or remove it"


OPENING_TOPICS = {
    "introductions": ["Who is here", "your name", "your role"],
    "why software engineering matters": ["software engineering", "software problems"],
    "the data-science cycle": ["diagrams/data_science_cycle.svg"],
    "ML systems are complex (Sculley)": ["Sculley", "diagrams/ml_system.svg", "technical debt"],
    "the goal of an ML system": [
        "Automated value from data",
        "science part",
        "engineering part",
        "continuous improvement cycle",
    ],
    "the practice example": [
        "churn",
        "recommender",
        "in R",
        "existing infrastructure",
        "cloud rules",
        "skills",
        "flexibility",
    ],
    "the technical challenges": [
        "experiment tracking",
        "reproducibility",
        "scaling",
        "local infrastructure",
        "monitoring",
        "many components",
        "few standards",
        "integration",
        "data protection",
    ],
    "PoC, MVP, professional system": ["proof of concept", "MVP", "professional system"],
    "deployment overview": ["ONNX", "runtimes", "batch vs online", "scheduling", "feedback"],
    "how the day runs": ["## The day", "wrap-up"],
}


@pytest.mark.parametrize("topic", OPENING_TOPICS)
def test_opening_covers_the_topic(topic):
    text = OPENING.read_text(encoding="utf-8").lower()
    missing = [word for word in OPENING_TOPICS[topic] if word.lower() not in text]
    assert not missing, f"slides/opening.md no longer covers {topic}: {', '.join(repr(w) for w in missing)} not found"


CLOSING_TOPICS = {
    "what we built": ["## What we built today"],
    "habits to take home": ["## Habits to take home"],
    "what to do on Monday": ["Monday", "checklist"],
    "what the course left out": ["left out", "data protection"],
    "the take-home project": ["take-home project", "slides/take_home_project.md", "08_take_home_project.ipynb"],
    "where to read next": ["Sculley", "DVC documentation", "TensorFlow Serving documentation", "Made With ML"],
    "feedback round": ["## Feedback round"],
}


@pytest.mark.parametrize("topic", CLOSING_TOPICS)
def test_closing_covers_the_topic(topic):
    text = CLOSING.read_text(encoding="utf-8").lower()
    missing = [word for word in CLOSING_TOPICS[topic] if word.lower() not in text]
    assert not missing, f"slides/closing.md no longer covers {topic}: {', '.join(repr(w) for w in missing)} not found"


def test_closing_names_every_module_and_needs_no_network():
    slides = split_slides(CLOSING.read_text(encoding="utf-8"))
    built = next((s for s in slides if s.strip().startswith("## What we built today")), "")
    missing = [nb.stem[:2] for nb in MODULE_NOTEBOOKS if f"| {nb.stem[:2]} |" not in built]
    assert not missing, f"slides/closing.md, 'What we built today': no line for module(s) {', '.join(missing)}"
    for number, slide in enumerate(slides, start=1):
        assert not re.search(r"https?://", slide), (
            f"{where(CLOSING, number)}: name the reading by its title; a link needs the network"
        )


# The checks above are only worth something if they fail on broken input: these prove that they do.


def test_format_check_names_deck_and_slide_of_each_mistake(tmp_path):
    deck = tmp_path / "09_broken.md"
    deck.write_text(
        "# 09 · Broken\n\nNote:\n0:00-1:00. Fine.\n\n---\n\n"
        "A slide without a heading\n\nNote:\nAbout 1 minute.\n\n---\n\n"
        "## No notes here\n\n- a point\n\n---\n\n"
        "## Notes without time\n\nNote:\nSay something.\n\n---\n\n"
        "## No blank line before the separator\n\n- a point\n---\n## Glued\n\nNote:\nAbout 1 minute.\n\n---\n\n"
        "## A cut code block\n\n```\nsome code\n\n---\n\nmore code\n```\n\nNote:\nAbout 1 minute.\n",
        encoding="utf-8",
    )
    problems = "\n".join(deck_problems(deck))
    assert "09_broken.md, slide 2: must start with a `## ` heading" in problems
    assert "slide 3: no speaker notes" in problems
    assert "slide 4: the notes give no timing hint" in problems
    assert "slide 5: a `---` line needs a blank line above and below it" in problems
    assert "slide 6: a code block is not closed" in problems
    assert "slide 7: a code block is not closed" in problems
    assert "slide 1:" not in problems


def test_image_check_finds_images_outside_code_only(tmp_path):
    deck = tmp_path / "deck.md"
    deck.write_text(
        "# Deck\n\n![](diagrams/missing.svg)\n\n```\n![not an image](http://example.org/x.png)\n```\n\n"
        "Note:\nAbout 1 minute.\n\n---\n\n"
        "## Two\n\n![a photo](https://example.org/photo.jpg)\n\nNote:\nAbout 1 minute.\n",
        encoding="utf-8",
    )
    assert images(deck) == [(1, "", "diagrams/missing.svg"), (2, "a photo", "https://example.org/photo.jpg")]


def test_svg_check_catches_what_would_break_offline_slides(tmp_path):
    svg = tmp_path / "bad.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="960">'
        '<style>@import url("https://fonts.example.org/a.css"); text { font-family: Fancy; font-size: 12px }</style>'
        '<image xlink:href="https://example.org/logo.png"/><script>alert(1)</script></svg>',
        encoding="utf-8",
    )
    problems = "\n".join(svg_problems(svg))
    for expected in [
        "needs a viewBox",
        "needs width and height",
        "needs a non-empty <title>",
        "<image> is not allowed",
        "<script> is not allowed",
        "points outside the file",
        "external reference",
        "font-family 'Fancy'",
    ]:
        assert expected in problems, f"the check missed: {expected}"
    small = tmp_path / "small.svg"
    small.write_text(
        f'<svg xmlns="{SVG_NS}" width="960" height="540" viewBox="0 0 960 540"><title>t</title>'
        '<text font-family="sans-serif" font-size="14">tiny</text></svg>',
        encoding="utf-8",
    )
    too_small = [p for p in svg_problems(small) if "font-size 14 is too small" in p]
    assert too_small, "a 14 px label on a 960-wide drawing passed"
    assert not svg_problems(DIAGRAMS / "ml_system.svg"), "a good diagram must pass"
