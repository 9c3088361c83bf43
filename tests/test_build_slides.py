"""tools/build_slides.py without a browser: what goes into a built deck, and the messages for a broken one.

tests/test_browser.py opens the real built decks in Chromium; these tests pin down the parts a
browser cannot tell apart from a working page (the exact Markdown, the inlined drawings) and the
errors an author gets.
"""

import html
import importlib.util
import re
import subprocess
import sys

import pytest

from workshop_lib.config import REPO_ROOT

SCRIPT = REPO_ROOT / "tools" / "build_slides.py"
spec = importlib.util.spec_from_file_location("build_slides", SCRIPT)
build_slides = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_slides)


def _deck(tmp_path, text: str, name: str = "99_broken"):
    folder = tmp_path / "slides"
    (folder / "diagrams").mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_page_carries_the_exact_markdown_and_nothing_to_fetch():
    deck = REPO_ROOT / "slides" / "opening.md"
    page = build_slides.render(deck)
    template = re.search(r"<textarea data-template>\n(.*)\n</textarea>", page, flags=re.DOTALL).group(1)
    markdown = deck.read_text(encoding="utf-8")
    assert html.unescape(template) == build_slides.inline_images(markdown, deck)
    assert "data:image/svg+xml;base64," in template  # the opening's drawings are inside the page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page would load something from a server"
    assert not re.search(r"@import|url\((['\"])?https?:", page)


def test_every_deck_is_built_in_presenting_order(tmp_path):
    written = build_slides.build(tmp_path)
    names = [path.stem for path in written]
    assert names[0] == "opening" and names[-1] == "closing"
    modules = sorted(path.stem for path in (REPO_ROOT / "notebooks").glob("0[0-7]_*.ipynb"))
    assert names[1:-1] == [*modules, "take_home_project"]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}.html"' in index for name in names)


def test_an_image_from_the_internet_is_refused(tmp_path):
    deck = _deck(tmp_path, "# Broken\n\n---\n\n## A slide\n\n![cat](https://example.org/cat.svg)\n")
    with pytest.raises(build_slides.SlideError, match=r"99_broken.md: image 'https://example.org/cat.svg'.*offline"):
        build_slides.render(deck)


def test_a_missing_image_is_named(tmp_path):
    deck = _deck(tmp_path, "# Broken\n\n![flow](diagrams/nowhere.svg)\n")
    with pytest.raises(build_slides.SlideError, match=r"99_broken.md: image 'diagrams/nowhere.svg' not found"):
        build_slides.render(deck)


def test_a_deck_without_a_title_is_named(tmp_path):
    deck = _deck(tmp_path, "## Only a slide\n")
    with pytest.raises(build_slides.SlideError, match=r"99_broken.md: no '# Title' heading"):
        build_slides.render(deck)


def test_the_command_names_an_unknown_deck(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "08_nothing"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no deck named 08_nothing; the decks are: opening, 00_setup_check")
    assert list(tmp_path.iterdir()) == []


def test_make_slides_runs_this_script_into_build_slides():
    """tests/test_browser.py builds the decks with the script itself; `make slides` must run that same script."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^slides:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE).group(1).split()
    assert recipe == ["$(VPY)", "tools/build_slides.py"]
    assert build_slides.DEFAULT_OUT == REPO_ROOT / "build" / "slides"
