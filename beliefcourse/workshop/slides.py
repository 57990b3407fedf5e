"""``./course slides [NN ...]``: a reveal.js deck per chapter, derived from the chapter itself.

No second source: the deck is the chapter's stored notebook with a slide type given to each
cell by a rule (:func:`slide_type`), then converted by nbconvert's reveal.js exporter.

* markdown opening with ``#`` or ``##``: a new slide; ``###`` and deeper: a sub-slide below.
  It shows the heading, its first paragraph, and any lists and display equations;
* other markdown: its lists and display equations join the current slide; plain prose is
  skipped (it is for reading, not for projecting);
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


def deck_notebook(nb):
    """Shape ``nb`` (a copy; changed in place) into the deck: slide types, trimmed text, code
    hidden, figures only. Returns it."""
    freeze_widgets(nb)
    for cell in nb.cells:
        override = cell.metadata.get("slideshow", {}).get("slide_type")
        if override:
            continue
        kind = slide_type(cell)
        cell.metadata["slideshow"] = {"slide_type": kind}
        if kind == "skip":
            continue
        if cell.cell_type == "markdown":
            cell.source = slide_text(cell.source)
        else:
            cell.outputs = image_outputs(cell)
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "course-remove-input"]
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
