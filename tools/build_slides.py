"""Build every Markdown deck in slides/ into one self-contained reveal.js HTML file (`make slides`).

Why one file per deck, with everything inlined: an instructor must be able to present from a laptop
with no network, from a USB stick or from JupyterLab's file server, and a file that loads nothing
cannot break on a missing font, a CDN or a relative path. reveal.js (slides/vendor/reveal.js, MIT)
renders the Markdown in the browser with its own Markdown plugin, so the decks keep reveal.js's
conventions (`---` between slides, `Note:` before the speaker notes) and stay plain files that
diff well. Diagrams from slides/diagrams/ are inlined as data: URIs.

    python tools/build_slides.py                  # every deck into build/slides/
    python tools/build_slides.py --out DIR opening 05_serving
"""

import argparse
import base64
import html
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SLIDES_DIR = REPO_ROOT / "slides"
REVEAL_DIR = SLIDES_DIR / "vendor" / "reveal.js"
DEFAULT_OUT = REPO_ROOT / "build" / "slides"

STYLES = ["reset.css", "reveal.css", "theme/white.css"]
SCRIPTS = ["reveal.js", "plugin/markdown.js", "plugin/notes.js"]
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)")

# The decks are written for 1280x720 and carry tables and text diagrams: a smaller base font than
# reveal.js's default keeps a full slide on screen; code blocks keep their line breaks (diagrams).
COURSE_CSS = """
.reveal { font-size: 30px; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }
.reveal h1 { font-size: 2.1em; } .reveal h2 { font-size: 1.45em; } .reveal h3 { font-size: 1.15em; }
.reveal table { font-size: 0.72em; } .reveal pre { font-size: 0.5em; width: 100%; box-shadow: none; }
.reveal pre code { max-height: 560px; line-height: 1.25; background: #f6f6f4; padding: 0.6em; }
.reveal p code, .reveal li code, .reveal td code { font-size: 0.85em; background: #f0f0ec; padding: 0 0.15em; }
.reveal img { display: block; max-height: 520px; margin: 0.3em auto; border: none; box-shadow: none; background: none; }
.reveal .slides section { text-align: left; } .reveal .slides section h1 { text-align: center; }
.reveal .slide-number { font-size: 14px; }
"""


class SlideError(ValueError):
    """A deck that cannot be built as it is: the message names the deck and what to fix."""


def decks() -> list[Path]:
    """The decks in presenting order: opening, 00-07, the take-home project, closing (README.md is not a deck)."""
    found = {path.stem: path for path in SLIDES_DIR.glob("*.md") if path.name != "README.md"}
    order = lambda stem: (0 if stem == "opening" else 2 if stem == "closing" else 1, stem)  # noqa: E731
    return [found[stem] for stem in sorted(found, key=order)]


def deck_title(markdown: str, deck: Path) -> str:
    """The deck's `#` heading, which becomes the page title."""
    match = re.search(r"^# (.+)$", markdown, flags=re.MULTILINE)
    if not match:
        raise SlideError(f"{deck.name}: no '# Title' heading; a deck starts with its title (see slides/README.md)")
    return match.group(1).strip()


def inline_images(markdown: str, deck: Path) -> str:
    """Replace every image path by a data: URI, so the built page requests nothing."""

    def data_uri(match: re.Match) -> str:
        src = match.group("src")
        if re.match(r"^[a-z]+:", src):
            raise SlideError(
                f"{deck.name}: image {src!r} is not a file in the repository; the slides must work "
                "offline, so put the drawing into slides/diagrams/ and use a relative path"
            )
        path = (deck.parent / src).resolve()
        if not path.is_file():
            raise SlideError(f"{deck.name}: image {src!r} not found (looked for {path})")
        mime = IMAGE_TYPES.get(path.suffix.lower())
        if mime is None:
            raise SlideError(f"{deck.name}: image {src!r} has type {path.suffix!r}; use one of {sorted(IMAGE_TYPES)}")
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{match.group('alt')}](data:{mime};base64,{encoded})"

    return IMAGE.sub(data_uri, markdown)


def render(deck: Path) -> str:
    """The whole HTML page of one deck."""
    markdown = deck.read_text(encoding="utf-8").replace("\r\n", "\n")
    title = deck_title(markdown, deck)
    body = html.escape(inline_images(markdown, deck), quote=False)  # the textarea gives back the exact Markdown
    styles = "\n".join((REVEAL_DIR / name).read_text(encoding="utf-8") for name in STYLES) + COURSE_CSS
    scripts = "\n".join((REVEAL_DIR / name).read_text(encoding="utf-8") for name in SCRIPTS)
    if "</script" in scripts.lower():
        raise SlideError("a vendored reveal.js file contains '</script', which would end the inlined script early")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tools/build_slides.py from slides/{deck.name}">
<title>{html.escape(title)}</title>
<style>
{styles}
</style>
</head>
<body>
<div class="reveal"><div class="slides">
<section data-markdown data-separator="^\\r?\\n---\\r?\\n$" data-separator-notes="^Note:">
<textarea data-template>
{body}
</textarea>
</section>
</div></div>
<script>
{scripts}
</script>
<script>
Reveal.initialize({{ hash: true, slideNumber: "c/t", width: 1280, height: 720, margin: 0.04,
                     transition: "none", plugins: [RevealMarkdown, RevealNotes] }});
</script>
</body>
</html>
"""


def render_index(built: list[tuple[str, str]]) -> str:
    """A plain page that links every deck, for the browser tab an instructor keeps open."""
    items = "\n".join(
        f'<li><a href="{html.escape(name)}.html">{html.escape(title)}</a> <small>({html.escape(name)})</small></li>'
        for name, title in built
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slides: Data Science in Practice</title>
<style>body {{ font-family: sans-serif; max-width: 46em; margin: 3em auto; line-height: 1.6; }}</style></head>
<body><h1>Data Science in Practice: the slides</h1>
<p>Open a deck, then press <b>F</b> for full screen, <b>S</b> for the speaker view with the notes,
<b>Esc</b> for the overview of all slides.</p>
<ol>
{items}
</ol></body></html>
"""


def build(out_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Write build/slides/<deck>.html for the chosen decks (all by default) and an index.html."""
    available = decks()
    if names:
        by_name = {deck.stem: deck for deck in available}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise SlideError(f"no deck named {', '.join(unknown)}; the decks are: {', '.join(by_name)}")
        available = [by_name[name] for name in names]
    out_dir.mkdir(parents=True, exist_ok=True)
    written, titles = [], []
    for deck in available:
        page = render(deck)
        target = out_dir / f"{deck.stem}.html"
        target.write_text(page, encoding="utf-8")
        written.append(target)
        titles.append((deck.stem, deck_title(deck.read_text(encoding="utf-8"), deck)))
    if not names:
        (out_dir / "index.html").write_text(render_index(titles), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decks", nargs="*", help="deck names (file names without .md); default: every deck")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/slides)")
    args = parser.parse_args(argv)
    try:
        written = build(args.out, args.decks)
    except SlideError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(
            f"built {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
            f" ({path.stat().st_size // 1024} KB)"
        )
    print(f"Open {args.out / 'index.html'} in a browser: it works offline. F: full screen, S: speaker notes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
