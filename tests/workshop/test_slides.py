"""``./course slides``: every chapter's deck builds, opens with its title, carries every stored
figure of the chapter, has no empty slide and loads nothing from the network."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import nbformat
import pytest

from beliefcourse.workshop import slides
from beliefcourse.workshop.catalog import chapters
from beliefcourse.workshop.stored import freeze_widgets, image_outputs

CHAPTERS = chapters()


class Sections(HTMLParser):
    """The deck's innermost <section> elements (one per slide), with their text and images."""

    def __init__(self):
        super().__init__()
        self.stack, self.leaves, self.refs = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            if self.stack:
                self.stack[-1]["has_child"] = True
            self.stack.append({"text": "", "images": 0, "has_child": False})
        elif self.stack and tag == "img":
            for s in self.stack:
                s["images"] += 1
        if tag in ("script", "link", "img") and (attrs.get("src") or attrs.get("href")):
            self.refs.append(attrs.get("src") or attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "section" and self.stack:
            s = self.stack.pop()
            if not s["has_child"]:
                self.leaves.append(s)

    def handle_data(self, data):
        for s in self.stack:
            s["text"] += data


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    return {ch.number: slides.build_deck(ch, out) for ch in CHAPTERS}


def test_every_chapter_has_a_deck(decks):
    assert len(CHAPTERS) >= 6
    assert set(decks) == {ch.number for ch in CHAPTERS}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_deck_title_figures_no_empty_slides(decks, chapter):
    html = decks[chapter.number].read_text(encoding="utf-8")
    parser = Sections()
    parser.feed(html)
    leaves = parser.leaves
    assert len(leaves) >= 3, "a deck needs more than a title"
    assert chapter.title.split(":")[0] in " ".join(leaves[0]["text"].split()), leaves[0]["text"]
    empty = [i for i, s in enumerate(leaves) if not s["text"].strip() and not s["images"]]
    assert not empty, f"empty slides at positions {empty}"

    nb = nbformat.read(chapter.notebook, as_version=4)
    freeze_widgets(nb)
    stored = sum(len(image_outputs(c)) for c in nb.cells if c.cell_type == "code")
    assert sum(s["images"] for s in leaves) == stored, "every stored figure is on a slide"

    remote = [r for r in parser.refs if r.startswith(("http:", "https:", "//"))]
    assert not remote, f"the deck loads from the network: {remote}"
    for ref in parser.refs:
        if not ref.startswith(("data:", "#")):
            local = decks[chapter.number].parent / ref.split("?")[0]
            assert local.exists(), f"missing asset {ref}"


def test_rule_and_override():
    heading = nbformat.v4.new_markdown_cell("## 2. A section\n\nFirst paragraph.\n\nProse.\n\n"
                                            "- a point\n- another\n\n$$x = 1$$")
    prose = nbformat.v4.new_markdown_cell("Only prose here.")
    figure = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})])
    code = nbformat.v4.new_code_cell("x = 1")
    forced = nbformat.v4.new_markdown_cell("Keep all of this prose.")
    forced.metadata["slideshow"] = {"slide_type": "slide"}
    nb = nbformat.v4.new_notebook(cells=[heading, prose, figure, code, forced])
    deck = slides.deck_notebook(copy.deepcopy(nb))
    kinds = [c.metadata["slideshow"]["slide_type"] for c in deck.cells]
    assert kinds == ["slide", "notes", "notes", "subslide", "skip", "slide"]
    assert deck.cells[0].source == ("## 2. A section\n\nFirst paragraph.\n\n- a point\n- another"
                                    "\n\n$$x = 1$$")
    assert deck.cells[1].source == "Prose."                     # left out: the speaker notes
    assert deck.cells[2].source == "Only prose here."
    assert "course-remove-input" in deck.cells[3].metadata["tags"]
    assert deck.cells[5].source == "Keep all of this prose."


def test_unknown_chapter_is_an_error(capsys, tmp_path):
    assert slides.main(["42"], tmp_path) == 2
    assert "no chapter 42" in capsys.readouterr().out


# ------------------------------------------------ headings, long slides, notes (issue 20)
def _deck(chapter):
    return slides.deck_notebook(nbformat.read(chapter.notebook, as_version=4))


def _slides(deck):
    """``[(kind, [cells])]``: each slide or sub-slide with its cells (notes included)."""
    out = []
    for cell in deck.cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind in ("slide", "subslide") or not out:
            out.append((kind, []))
        if kind != "skip":
            out[-1][1].append(cell)
    return out


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_every_heading_of_the_chapter_starts_a_slide(chapter):
    """Also a heading in the middle of a cell (chapter 05's "3. The probe, and the picture")."""
    nb = nbformat.read(chapter.notebook, as_version=4)
    wanted = [h for c in nb.cells if c.cell_type == "markdown" for h in slides.headings(c.source)]
    titles = [cells[0].source.split("\n")[0].strip() for kind, cells in _slides(_deck(chapter))
              if kind in ("slide", "subslide") and cells[0].cell_type == "markdown"]
    assert [t for t in titles if not t.endswith("(continued)")] == wanted


def test_headings_mid_cell_are_split_but_not_in_code_or_math():
    text = "Intro.\n\n## 3. Next\n\nBody.\n\n```python\n# a comment\n```\n\n$$\n# x\n$$"
    assert slides.headings(text) == ["## 3. Next"]
    assert slides.split_at_headings(text)[0] == "Intro."
    assert slides.split_at_headings(text)[1].startswith("## 3. Next")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_long_slides_are_continued(chapter):
    """Every slide fits SLIDE_LINES estimated lines, unless it holds one unit (a paragraph,
    list item, table or equation) that cannot be cut; the template scales those."""
    for _kind, cells in _slides(_deck(chapter)):
        shown = [c.source for c in cells if c.cell_type == "markdown"
                 and c.metadata["slideshow"]["slide_type"] != "notes"]
        text = "\n\n".join(shown)
        if slides.estimated_lines(text) > slides.SLIDE_LINES:
            body = [p for p in re.split(r"\n\s*\n", text) if not slides.headings(p)]
            units = [u for p in body for u in re.split(r"\n(?=(?:[-*+]|\d+\.)\s)", p)]
            assert len(units) == 1, f"an overfull slide that could be split: {text[:300]}"


def test_three_controls_fit_after_the_split():
    """The slide that was cut mid-sentence in a dry run."""
    ch05 = next(c for c in CHAPTERS if c.number == "05")
    parts = [cells for _kind, cells in _slides(_deck(ch05))
             if cells and "5. Three controls" in cells[0].source]
    assert len(parts) >= 2
    assert "5. Three controls (continued)" in parts[1][0].source


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_speaker_notes_carry_the_prose_the_slides_leave_out(chapter):
    """Every paragraph of the chapter's text is on a slide or in its notes."""
    nb = nbformat.read(chapter.notebook, as_version=4)
    deck = _deck(chapter)
    assert any(c.metadata["slideshow"]["slide_type"] == "notes" for c in deck.cells)
    carried = "\n\n".join(c.source for c in deck.cells if c.cell_type == "markdown")
    carried = " ".join(carried.split())
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for para in re.split(r"\n\s*\n", cell.source):
            lines = [line for line in para.split("\n") if not slides.headings(line)]
            for line in lines:
                assert " ".join(line.split()) in carried, line


def test_decks_have_speaker_notes(decks):
    for path in decks.values():
        assert path.read_text(encoding="utf-8").count('<aside class="notes">') >= 3


def test_printout_numbers_the_slides_as_the_deck_does(decks):
    """`./course printout` counts slides without building the deck: the same count and
    titles as the HTML's slides (reveal.js numbers them in this order)."""
    from beliefcourse.workshop import printout

    for ch in CHAPTERS:
        parser = Sections()
        parser.feed(decks[ch.number].read_text(encoding="utf-8"))
        titles = printout.slide_titles(ch.notebook)
        assert len(parser.leaves) == len(titles), ch.stem
        for leaf, title in zip(parser.leaves, titles):
            words = re.sub(r"^#+\s*|[$*`\\]", "", title).split()[:2]
            assert all(w in leaf["text"] for w in words if w.isalpha()), (title, leaf["text"][:80])
