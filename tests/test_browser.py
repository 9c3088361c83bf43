"""The course in a real browser: headless Chromium (Debian's package) driven by Playwright.

What a participant and an instructor do, click by click: open the lab's address with its token, open
notebook 00, choose Kernel → Restart Kernel and Run All Cells, read the check table; a browser
without the token gets the login page; every deck tools/build_slides.py (`make slides`) builds opens, renders its slides
with their speaker notes and loads nothing from outside this machine. Screenshots go to
build/browser/ for a person to look at.

The browser is Chromium from the system (README: `sudo apt install chromium`), never one that
Playwright downloads. WORKSHOP_BROWSER=/path/to/chrome picks another Chromium-based browser.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from lab_server import get
from playwright.sync_api import Page, sync_playwright

from workshop_lib.config import REPO_ROOT

pytestmark = pytest.mark.server
NOTEBOOK = "notebooks/00_setup_check.ipynb"
SCREENSHOTS = REPO_ROOT / "build" / "browser"
# The decks built for the test: under build/ (JupyterLab serves them from there), one folder per xdist
# worker, never build/slides/ itself, where an instructor's `make slides` puts them.
SLIDES_OUT = REPO_ROOT / "build" / "test-slides" / os.environ.get("PYTEST_XDIST_WORKER", "main")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# The flags a closed network needs: without the background-networking ones Chromium keeps trying to
# reach Google's services; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
RUN_ALL_TIMEOUT_MS = 240_000  # notebook 00 imports TensorFlow: seconds alone, minutes on a loaded machine
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def find_browser() -> str:
    chosen = os.environ.get("WORKSHOP_BROWSER")
    if chosen:
        if not Path(chosen).is_file():
            pytest.fail(f"WORKSHOP_BROWSER={chosen}: no such file")
        return chosen
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    pytest.fail(
        "No Chromium found for the browser tests. Install it as the README says "
        "(Debian/Ubuntu: `sudo apt install chromium`), or set WORKSHOP_BROWSER=/path/to/chrome."
    )


@pytest.fixture(scope="module")
def browser():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_browser(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """Everything a page printed to its console as an error, and every request it made."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))

    def leaving_this_machine(self) -> list[str]:
        outside = []
        for url in self.requests:
            parts = urlparse(url)
            if parts.scheme in ("data", "blob", "about", "file"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                outside.append(url)
        return outside


def _code_cells(path: Path) -> int:
    return sum(cell.cell_type == "code" for cell in nbformat.read(path, as_version=4).cells)


def test_notebook_00_runs_all_cells_through_the_jupyterlab_ui(lab, browser):
    committed = (REPO_ROOT / NOTEBOOK).read_bytes()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = Watch(page)
    page.goto(f"{lab.base}/lab/tree/{NOTEBOOK}?token={lab.token}")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    notebook.locator(".jp-Cell").first.wait_for(timeout=120_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)

    # The README's way: menu Kernel → Restart Kernel and Run All Cells…, then confirm the restart.
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel and Run All Cells").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()

    code_cells = _code_cells(REPO_ROOT / NOTEBOOK)
    prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt")
    page.wait_for_function(
        """([selector, count]) => {
             const prompts = [...document.querySelectorAll(selector)].map(p => p.textContent.trim());
             return prompts.length === count && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
           }""",
        arg=[".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt", code_cells],
        timeout=RUN_ALL_TIMEOUT_MS,
    )
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
    numbers = [int(re.search(r"\d+", text).group()) for text in prompts.all_text_contents()]
    assert numbers == list(range(1, code_cells + 1)), f"cells ran out of order after a restart: {numbers}"

    # stderr and tracebacks are both rendered with this MIME type in JupyterLab
    errors = notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, "notebook 00 shows error output:\n" + "\n".join(errors.all_inner_texts())
    outputs = "\n".join(notebook.locator(".jp-OutputArea-output").all_inner_texts())
    table = page.locator(".jp-OutputArea-output", has_text="Wine data").first
    table.scroll_into_view_if_needed()
    for check in ("Python", "Packages", "Notebook kernel", "Wine data", "git", "DVC", "CPU", "Memory", "Disk"):
        assert re.search(rf"^\s*\S (pass|warn|info|FAIL)\s+{re.escape(check)}\s", outputs, flags=re.MULTILINE), (
            f"the check table has no row {check!r}:\n{outputs}"
        )
    assert "Ready for the workshop: no check failed." in outputs, outputs
    for port in (8888, 8500, 8501):  # the course's ports: free, or used by the course's own services
        assert re.search(rf"^\s*\S pass\s+Port {port}\s+(free for|in use by)", outputs, flags=re.MULTILINE), outputs
    assert "TensorFlow 2.20" in outputs
    page.screenshot(path=SCREENSHOTS / "lab_00_setup_check.png")
    # JupyterLab's own console messages are not checked: a kernel restart right after opening logs a
    # harmless "Could not restore the debugger state" error. What the participant sees is checked above.
    assert watch.leaving_this_machine() == [], f"requests left localhost: {watch.leaving_this_machine()}"
    page.close()
    assert (REPO_ROOT / NOTEBOOK).read_bytes() == committed, "running notebook 00 in the browser changed the file"


def test_the_lab_opens_on_the_notebooks_folder_and_asks_nothing_of_the_internet(lab, browser):
    """What a participant first sees: the lesson notebooks, no pop-up about "official Jupyter news"."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = Watch(page)
    page.goto(f"{lab.base}/?token={lab.token}")  # the address `make lab` prints, without its path
    listing = page.locator(".jp-DirListing-content")
    listing.locator(".jp-DirListing-item", has_text="00_setup_check.ipynb").wait_for(timeout=120_000)
    assert urlparse(page.url).path == "/lab/tree/notebooks", f"the lab opened on {page.url}"
    page.locator(".jp-Notebook-ExecutionIndicator, .jp-FileBrowser").first.wait_for()
    page.wait_for_timeout(5_000)  # JupyterLab asks about news a moment after it has started
    toasts = page.locator(".Toastify__toast")
    page.screenshot(path=SCREENSHOTS / "lab_first_view.png")
    assert toasts.count() == 0, f"the lab shows a notification: {toasts.all_inner_texts()}"
    assert watch.leaving_this_machine() == [], f"requests left localhost: {watch.leaving_this_machine()}"
    page.close()
    # The server side: the page tells JupyterLab that news are off (no feed is fetched for it).
    page_html = get(f"{lab.base}/lab/tree/notebooks", lab.token)[1].decode()
    config = json.loads(
        re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page_html, re.S).group(1)
    )
    assert config["news"] == {"disabled": True}


def test_a_browser_without_the_token_gets_the_login_page(lab, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{lab.base}/lab/tree/{NOTEBOOK}")
    assert urlparse(page.url).path == "/login", f"without a token the lab opened {page.url}"
    page.locator("#password_input").wait_for()
    page.screenshot(path=SCREENSHOTS / "lab_login_without_token.png")
    assert context.request.get(f"{lab.base}/api/contents/{NOTEBOOK}").status == 403
    assert get(f"{lab.base}/api/contents/{NOTEBOOK}")[0] == 403  # outside any browser too
    context.close()


@pytest.fixture(scope="module")
def built_slides() -> list[Path]:
    """What `make slides` runs, as an instructor does the day before (the script, not make: see lab_server)."""
    shutil.rmtree(SLIDES_OUT, ignore_errors=True)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "build_slides.py"), "--out", str(SLIDES_OUT)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"tools/build_slides.py failed:\n{result.stdout}\n{result.stderr}"
    decks = sorted(path.stem for path in (REPO_ROOT / "slides").glob("*.md") if path.name != "README.md")
    built = [SLIDES_OUT / f"{deck}.html" for deck in decks]
    assert all(path.is_file() for path in built), f"tools/build_slides.py did not build every deck:\n{result.stdout}"
    return built


def _slides_in(deck: str) -> int:
    text = (REPO_ROOT / "slides" / f"{deck}.md").read_text(encoding="utf-8")
    return len(re.findall(r"^\r?\n---\r?\n$", text, flags=re.MULTILINE)) + 1


@pytest.mark.parametrize("how", ["file", "lab"])
def test_every_built_deck_renders_offline(lab, browser, built_slides, how):
    """Each deck from a file (a USB stick) and from JupyterLab's file server (Open in New Browser Tab)."""
    for path in built_slides:
        deck = path.stem
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        watch = Watch(page)
        url = (
            path.as_uri()
            if how == "file"
            else f"{lab.base}/files/{SLIDES_OUT.relative_to(REPO_ROOT).as_posix()}/{path.name}?token={lab.token}"
        )
        page.goto(url)
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
        expected = _slides_in(deck)
        assert page.evaluate("Reveal.getTotalSlides()") == expected, f"{deck}: not every slide was rendered"
        title = re.search(
            r"^# (.+)$", (REPO_ROOT / "slides" / f"{deck}.md").read_text(encoding="utf-8"), flags=re.MULTILINE
        ).group(1)
        assert page.locator(".reveal .slides section h1").first.inner_text().strip() == title.strip().replace("`", "")
        empty = page.evaluate("Reveal.getSlides().map((s, i) => s.innerText.trim() ? -1 : i + 1).filter(i => i > 0)")
        assert empty == [], f"{deck}: slides {empty} are empty"
        if deck[:2].isdigit():
            without_notes = page.evaluate(
                "Reveal.getSlides().map((s, i) => s.querySelector('aside.notes') ? -1 : i + 1).filter(i => i > 0)"
            )
            assert without_notes == [], f"{deck}: slides {without_notes} have no speaker notes"
        broken = page.evaluate(
            "[...document.querySelectorAll('.reveal img')]"
            ".filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.alt)"
        )
        assert broken == [], f"{deck}: images that did not load: {broken}"
        for index in range(expected):  # visit every slide, as a talk does
            page.evaluate(f"Reveal.slide({index})")
            if index == 0 or page.locator(".reveal .slides section.present img").count():
                page.screenshot(path=SCREENSHOTS / f"slides_{how}_{deck}_{index + 1:02d}.png")
        assert watch.errors == [], f"{deck}: console errors {watch.errors}"
        assert watch.leaving_this_machine() == [], f"{deck}: requests left this machine: {watch.leaving_this_machine()}"
        page.close()
