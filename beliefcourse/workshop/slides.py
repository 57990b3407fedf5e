"""``./course slides [NN ...]``: a reveal.js deck per chapter, derived from the chapter itself.

No second source: the deck is the chapter's stored notebook with a slide type given to each
cell by a rule (:func:`slide_type`), then converted by nbconvert's reveal.js exporter.

* every heading starts a slide, also one in the middle of a cell (the cell is split there
  first, :func:`split_at_headings`): ``#`` or ``##`` a new slide, ``###`` and deeper a
  sub-slide below. It shows the heading, its first paragraph, and any lists and display
  equations;
* other markdown: its lists and display equations join the current slide; plain prose is
  left off the slide;
* what a slide leaves out of the chapter's prose becomes its speaker notes (reveal.js's
  ``s`` key), so the deck carries the whole text;
* a slide longer than :data:`SLIDE_LINES` estimated lines continues on a sub-slide titled
  "<heading> (continued)" (:func:`fit_slides`), split between paragraphs or list items;
* a code cell whose stored output has a figure: a sub-slide with the figure only (no code),
  widgets shown as the image they stored (:mod:`.stored`); other code cells are skipped.

A cell that sets ``slideshow.slide_type`` itself (in the jupytext header:
``# %% slideshow={"slide_type": "skip"}``) keeps it and its whole content: the override.

Decks go to ``build/slides/NN_slug.slides.html``; reveal.js (from the ``sphinx-revealjs``
package) and MathJax (from ``jupyter-server-mathjax``) are copied beside them into
``_assets/``, so a deck opens offline from a USB stick.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .catalog import Chapter, chapters, find_chapter
from .stored import freeze_widgets, image_outputs

ASSETS = "_assets"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"

_HEADING = re.compile(r"^(#{1,6})\s+\S")
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.DOTALL)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def _is_list(paragraph: str) -> bool:
    return bool(_LIST_ITEM.match(paragraph))


def slide_text(source: str) -> str:
    """What a markdown cell shows on a slide: its heading and first paragraph (if it opens
    with a heading), then its lists and display equations."""
    paras = _paragraphs(source)
    keep = []
    rest = paras
    if paras and _HEADING.match(paras[0]):
        lines = paras[0].splitlines()
        keep.append(lines[0])
        first = "\n".join(lines[1:]).strip()
        rest = paras[1:]
        if not first and rest and not _is_list(rest[0]):
            first, rest = rest[0], rest[1:]
        if first:
            keep.append(first)
    for p in rest:
        if _is_list(p) or _DISPLAY_MATH.search(p):
            keep.append(p)
    return "\n\n".join(keep)


def slide_type(cell) -> str:
    """The rule's slide type of ``cell``: "slide", "subslide", "-" (same slide) or "skip"."""
    if cell["cell_type"] == "markdown":
        text = cell["source"].lstrip()
        m = _HEADING.match(text)
        if m:
            return "slide" if len(m.group(1)) <= 2 else "subslide"
        return "-" if slide_text(cell["source"]) else "skip"
    if cell["cell_type"] == "code" and image_outputs(cell):
        return "subslide"
    return "skip"


# How much fits on a 960×700 slide: lines of about LINE_CHARS characters (a heading or a
# display equation counts two). Measured on chapter 05's "5. Three controls", which
# overflowed at about 15 such lines.
SLIDE_LINES = 12
LINE_CHARS = 70


def _fence_lines(text: str) -> list[bool]:
    """For each line of ``text``: is it inside a fenced code block or display math?"""
    inside, fenced, math = [], False, False
    for line in text.split("\n"):
        stripped = line.strip()
        starts_fence = stripped.startswith(("```", "~~~"))
        toggles_math = stripped.count("$$") % 2 == 1
        inside.append(fenced or math or starts_fence)
        if starts_fence:
            fenced = not fenced
        elif not fenced and toggles_math:
            math = not math
    return inside


def headings(text: str) -> list[str]:
    """The Markdown headings of ``text`` (outside code fences and display math)."""
    return [line.strip() for line, hidden in zip(text.split("\n"), _fence_lines(text))
            if not hidden and _HEADING.match(line)]


def split_at_headings(text: str) -> list[str]:
    """``text`` cut before each heading (outside fences and math): each part but perhaps the
    first starts with a heading."""
    parts, current = [], []
    for line, hidden in zip(text.split("\n"), _fence_lines(text)):
        if not hidden and _HEADING.match(line) and "\n".join(current).strip():
            parts.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if "\n".join(current).strip():
        parts.append("\n".join(current).strip("\n"))
    return parts


def left_out(source: str, shown: str) -> str:
    """The paragraphs of ``source`` that the slide text ``shown`` does not show."""
    kept = set(_paragraphs(shown))
    rest = []
    for p in _paragraphs(source):
        if p in kept:
            continue
        if _HEADING.match(p):
            body = "\n".join(p.splitlines()[1:]).strip()   # heading shown, its paragraph not
            if not body or body in shown:
                continue
            p = body
        rest.append(p)
    return "\n\n".join(rest)


def estimated_lines(text: str) -> int:
    """How many lines ``text`` takes on a slide (see :data:`SLIDE_LINES`)."""
    total = 0
    for p in _paragraphs(text):
        if _HEADING.match(p):
            total += 2
            p = "\n".join(p.splitlines()[1:])
        if _DISPLAY_MATH.search(p):
            total += 2 * len(_DISPLAY_MATH.findall(p))
            p = _DISPLAY_MATH.sub("", p)
        items = re.split(r"\n(?=\s*(?:[-*+]|\d+\.)\s)", p) if _is_list(p) else [p]
        total += sum(-(-len(" ".join(item.split())) // LINE_CHARS) for item in items if
                     item.strip())
    return total


def _chunks(text: str, budget: int) -> list[str]:
    """``text`` in pieces of at most ``budget`` estimated lines, cut between paragraphs or
    list items (a single longer item stays whole)."""
    units = []
    for p in _paragraphs(text):
        if _is_list(p):
            units += [u for u in re.split(r"\n(?=(?:[-*+]|\d+\.)\s)", p) if u.strip()]
        else:
            units.append(p)
    pieces, current = [], []
    for u in units:
        if current and estimated_lines("\n\n".join([*current, u])) > budget:
            pieces.append(current)
            current = []
        current.append(u)
    if current:
        pieces.append(current)
    return ["\n\n".join(_join_list(piece)) for piece in pieces]


def _join_list(units: list[str]) -> list[str]:
    """Consecutive list items back into one list (so Markdown keeps them one list)."""
    out = []
    for u in units:
        if out and _is_list(u) and _is_list(out[-1]) and not _HEADING.match(out[-1]):
            out[-1] += "\n" + u
        else:
            out.append(u)
    return out


def _markdown(source: str, kind: str, template=None, part: str = ""):
    """A new markdown cell of slide type ``kind``, with ``template``'s metadata and an id
    derived from its id and ``part`` (so a deck built twice is the same file)."""
    import nbformat

    cell = nbformat.v4.new_markdown_cell(source)
    if template is not None:
        cell.metadata.update({k: v for k, v in template.metadata.items() if k != "slideshow"})
        if template.get("id"):
            cell.id = f"{template.id}-{part}"[:64]
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def fit_slides(cells: list) -> list:
    """Move what overflows a slide onto sub-slides "<heading> (continued)"."""
    out, title, used = [], "", 0
    for cell in cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind in ("skip", "notes") or cell.cell_type != "markdown":
            if kind in ("slide", "subslide"):
                used = SLIDE_LINES       # a figure fills its slide
            out.append(cell)
            continue
        if kind in ("slide", "subslide"):
            found = headings(cell.source)
            title = re.sub(r"^#+\s*", "", found[0]) if found else title
            used = 0
        lines = estimated_lines(cell.source)
        if used + lines <= SLIDE_LINES:
            out.append(cell)
            used += lines
            continue
        heading = f"### {title} (continued)" if title else ""
        pieces = _chunks(cell.source, SLIDE_LINES - 2)      # 2: the continuation heading
        first_kind = kind
        if kind == "-" and (used + estimated_lines(pieces[0]) > SLIDE_LINES):
            pieces[0], first_kind = f"{heading}\n\n{pieces[0]}".strip(), "subslide"
        for i, piece in enumerate(pieces):
            if i:
                piece = f"{heading}\n\n{piece}".strip()
            out.append(_markdown(piece, first_kind if i == 0 else "subslide", cell, f"c{i}"))
            used = estimated_lines(piece) + (used if i == 0 and first_kind == "-" else 0)
    return out


def deck_notebook(nb):
    """Shape ``nb`` (a copy; changed in place) into the deck: slide types, trimmed text, the
    rest of the prose as speaker notes, long slides continued, code hidden, figures only.
    Returns it."""
    freeze_widgets(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not cell.metadata.get("slideshow"):
            parts = split_at_headings(cell.source)
            cells += [cell] if len(parts) <= 1 else [
                _markdown(part, "", cell, f"h{k}") for k, part in enumerate(parts)]
        else:
            cells.append(cell)
    out = []
    for cell in cells:
        override = cell.metadata.get("slideshow", {}).get("slide_type")
        if override:
            out.append(cell)
            continue
        kind = slide_type(cell)
        cell.metadata["slideshow"] = {"slide_type": kind}
        if cell.cell_type == "markdown":
            shown = slide_text(cell.source) if kind != "skip" else ""
            notes = left_out(cell.source, shown)
            if kind != "skip":
                cell.source = shown
                out.append(cell)
            if notes:
                out.append(_markdown(notes, "notes", cell, "n"))
            continue
        if kind != "skip":
            cell.outputs = image_outputs(cell)
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "course-remove-input"]
        out.append(cell)
    nb.cells = fit_slides(out)
    return nb


def copy_assets(out_dir: Path) -> Path:
    """Copy reveal.js and MathJax into ``out_dir/_assets`` (once); return that folder."""
    import jupyter_server_mathjax
    import sphinx_revealjs

    assets = Path(out_dir) / ASSETS
    reveal_src = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
    mathjax_src = Path(jupyter_server_mathjax.__file__).parent / "static"
    for src, dst in ((reveal_src / "dist", assets / "reveal" / "dist"),
                     (reveal_src / "plugin" / "notes", assets / "reveal" / "plugin" / "notes"),
                     (mathjax_src, assets / "mathjax")):
        if not dst.exists():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.map", "*.scss"))
    return assets


def build_deck(chapter: Chapter, out_dir: Path) -> Path:
    """Write ``out_dir/NN_slug.slides.html`` for ``chapter``; return its path."""
    import nbformat
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    nb = deck_notebook(nbformat.read(chapter.notebook, as_version=4))
    nb.metadata["title"] = f"{chapter.number} · {chapter.title}"
    exporter = SlidesExporter(extra_template_basedirs=[str(TEMPLATE_DIR)],
                              template_name="course_reveal",
                              reveal_url_prefix=f"{ASSETS}/reveal", reveal_theme="white",
                              reveal_scroll=True,
                              mathjax_url=f"{ASSETS}/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
                              exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_input_tags={"course-remove-input"}), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": chapter.stem}})
    path = out_dir / f"{chapter.stem}.slides.html"
    path.write_text(body, encoding="utf-8")
    return path


def main(numbers: list[str], out_dir: Path) -> int:
    try:
        selected = [find_chapter(n) for n in numbers] if numbers else chapters()
    except ValueError as err:
        print(f"slides: {err}")
        return 2
    for ch in selected:
        print(f"slides: {build_deck(ch, out_dir)}")
    return 0
