"""``./course book``: the learners' edition (the default) leaves the instructors' guide out;
the instructors' edition builds offline from the stored notebooks, with every chapter,
practice notebook and instructors' page, every figure and every internal link; a
headless Chromium renders a chapter (math typeset, figures loaded) and the search finds it."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from conftest import chromium_page

from beliefcourse.workshop import book
from beliefcourse.workshop.catalog import ROOT, chapters
from beliefcourse.workshop.stored import freeze_widgets, image_outputs

CHAPTERS = chapters()


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids, self.remote = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        ref = attrs.get("href") if tag in ("a", "link") else attrs.get("src")
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "a" and ref:
            self.links.append(ref)
        if tag in ("script", "link", "img") and ref and ref.startswith(("http:", "https:",
                                                                         "//")):
            self.remote.append(ref)


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    return book.build(tmp_path_factory.mktemp("book"), instructors=True).parent


def test_learners_edition_has_no_instructors_guide(tmp_path):
    """The default edition is the one to publish: no discussion answers, no diagnoses."""
    src = book.stage(tmp_path / "learners")
    assert not (src / "instructors").exists()
    index = (src / "index.md").read_text()
    assert "instructors/" not in index and "For instructors" not in index
    assert all("Answer" not in p.read_text(errors="ignore") for p in src.rglob("*.md"))
    src = book.stage(tmp_path / "instructors", instructors=True)
    assert (src / "instructors" / "logistics.md").exists()
    assert "For instructors" in (src / "index.md").read_text()
    assert book.default_out() != book.default_out(instructors=True)


@pytest.mark.slow
def test_every_page_exists(html):
    assert (html / "index.html").exists() and (html / "search.html").exists()
    for ch in CHAPTERS:
        assert (html / "chapters" / f"{ch.stem}.html").exists(), ch.stem
        if ch.exercise_notebook:
            assert (html / "exercises" / f"{ch.stem}.html").exists(), ch.stem
    for page in [*book.INSTRUCTOR_PAGES,
                 *(f"guide/{p.name}" for p in (ROOT / "instructors" / "guide").glob("*.md"))]:
        assert (html / "instructors" / page.replace(".md", ".html")).exists(), page


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_chapter_page_has_every_figure_and_math(html, chapter):
    page = html / "chapters" / f"{chapter.stem}.html"
    parsed = parse(page)
    nb = nbformat.read(chapter.notebook, as_version=4)
    freeze_widgets(nb)
    stored = sum(len(image_outputs(c)) for c in nb.cells if c.cell_type == "code")
    assert len(parsed.images) >= stored
    for src in parsed.images:
        if not src.startswith("data:"):
            assert (page.parent / unquote(src)).exists(), f"missing figure {src}"
    text = page.read_text(encoding="utf-8")
    assert 'class="math' in text, "no math in the chapter"
    assert chapter.title.split(":")[0] in text


@pytest.mark.slow
def test_every_internal_link_resolves(html):
    pages = sorted(p.resolve() for p in html.rglob("*.html"))
    ids = {p: parse(p).ids for p in pages}
    broken = []
    for page in pages:
        parsed = parse(page)
        assert not parsed.remote, f"{page.name} loads from the network: {parsed.remote}"
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("mailto:", "//")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(html)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and \
                    unquote(parts.fragment) not in ids[target]:
                broken.append(f"{page.relative_to(html)} -> {link} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


@pytest.mark.slow
def test_chapters_link_to_each_other(html):
    text = (html / "chapters" / f"{CHAPTERS[2].stem}.html").read_text(encoding="utf-8")
    assert f'href="{CHAPTERS[1].stem}.html"' in text


@pytest.mark.slow
def test_widgets_show_their_stored_image(html):
    ch03 = next(c for c in CHAPTERS if c.number == "03")
    text = (html / "chapters" / f"{ch03.stem}.html").read_text(encoding="utf-8")
    assert "interactive widget" in text
    assert "jupyter-widgets" not in text and "widget-view" not in text


def test_link_chapters_rule():
    stems = {"01": "01_hmm", "03": "03_msp"}
    text = ("as in chapter 01, and chapters 03\n# chapter 01 heading\n`chapter 01` "
            "[chapter 03](03_msp.ipynb) chapter 09")
    assert book.link_chapters(text, stems, "../chapters/").split("\n") == [
        "as in [chapter 01](../chapters/01_hmm.ipynb), and "
        "[chapters 03](../chapters/03_msp.ipynb)",
        "# chapter 01 heading",
        "`chapter 01` [chapter 03](03_msp.ipynb) chapter 09"]


@pytest.mark.slow
@pytest.mark.browser
def test_browser_reads_a_chapter_and_searches(html, chromium_executable, artifacts_dir):
    """Serve the book over HTTP (as GitHub Pages would), open chapter 03: MathJax typesets
    its math and every figure loads; the search page finds the chapter."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ch03 = next(c for c in CHAPTERS if c.number == "03")
    try:
        with chromium_page(chromium_executable, 1300, 1000, 60_000) as page:
            remote = []
            page.on("request", lambda r: remote.append(r.url)
                    if not r.url.startswith((base, "data:", "about:")) else None)
            page.goto(f"{base}/chapters/{ch03.stem}.html")
            page.wait_for_function(  # MathJax 2 replaces each formula by a .MathJax span
                "() => document.querySelectorAll('span.MathJax').length > 20")
            n_math_errors = page.locator(".MathJax_Error, merror").count()
            page.wait_for_function("""() => [...document.images].every(
                                          i => i.complete && i.naturalWidth > 0)""")
            n_images = page.evaluate("document.images.length")
            page.screenshot(path=str(artifacts_dir / "book_chapter03.png"))
            page.goto(f"{base}/search.html?q=fractal")
            page.wait_for_selector("#search-results li a")
            hits = page.locator("#search-results li a").all_inner_texts()
    finally:
        server.shutdown()
    assert n_images >= 5
    assert n_math_errors == 0
    assert any(re.search(r"mixed-state", h, re.I) for h in hits), hits
    assert not remote, f"the book fetched from outside: {remote[:5]}"
