"""``./course slides``: every chapter's deck builds, opens with its title, carries every stored
figure of the chapter, has no empty slide and loads nothing from the network."""

from __future__ import annotations

import copy
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
    assert kinds == ["slide", "skip", "subslide", "skip", "slide"]
    assert deck.cells[0].source == ("## 2. A section\n\nFirst paragraph.\n\n- a point\n- another"
                                    "\n\n$$x = 1$$")
    assert "course-remove-input" in deck.cells[2].metadata["tags"]
    assert deck.cells[4].source == "Keep all of this prose."


def test_unknown_chapter_is_an_error(capsys, tmp_path):
    assert slides.main(["42"], tmp_path) == 2
    assert "no chapter 42" in capsys.readouterr().out
