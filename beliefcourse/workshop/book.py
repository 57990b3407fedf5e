"""``./course book``: the whole course as a static HTML book, built offline.

Tool: Sphinx with MyST-NB and sphinx-book-theme, the engine of Jupyter Book 1, called
directly (Jupyter Book 2 downloads its theme at build time, which an offline room cannot).
The build stages a source folder and runs Sphinx on it:

* ``chapters/*.ipynb`` as stored (outputs and figures; never executed), with each widget
  replaced by the image it stored (:mod:`.stored`) and each plain "chapter NN" in the prose
  turned into a link to that chapter;
* ``exercises/*.ipynb`` with their outputs cleared (the tasks; the solutions stay in the
  repository);
* only in the instructors' edition (``./course book --instructors``): ``instructors/`` (the
  guide's Markdown pages, with the discussion answers and each checker's diagnosis per
  mistake). The default, learners' edition leaves it out: it is the one to publish;
* ``index.md`` (generated: the README's introduction and the tables of contents) and the
  configuration in ``book_config/conf.py``; MathJax is copied into ``_static/``.

The HTML lands in ``OUT/html/`` (default ``build/book/html/index.html``; the instructors'
edition: ``build/book-instructors/html/index.html``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from .catalog import ROOT, chapters
from .stored import freeze_widgets

CONFIG_DIR = Path(__file__).resolve().parent / "book_config"
INSTRUCTOR_PAGES = ("README.md", "chapters.md", "plans.md", "logistics.md")
_CHAPTER_MENTION = re.compile(r"(?<![\[\w/])(chapters?\s+)(\d\d)\b(?!\]|\.ipynb)")


def link_chapters(text: str, stems: dict[str, str], prefix: str) -> str:
    """Turn "chapter 03" into ``[chapter 03](PREFIX03_slug.ipynb)`` outside headings, code
    spans, math and existing links (only for chapters in ``stems``: number -> stem)."""
    out = []
    in_fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence or line.lstrip().startswith("#") or "$$" in line:
            out.append(line)
            continue

        def repl(m, line=line):
            before = line[: m.start()]
            if before.count("`") % 2 or before.count("$") % 2 or m.group(2) not in stems:
                return m.group(0)
            return f"[{m.group(1)}{m.group(2)}]({prefix}{stems[m.group(2)]}.ipynb)"
        out.append(_CHAPTER_MENTION.sub(repl, line))
    return "\n".join(out)


def _readme_intro(root: Path) -> str:
    text = (root / "README.md").read_text(encoding="utf-8")
    intro = text.split("\n## ", 1)[0]
    return re.sub(r"^# .*\n", "", intro).strip()


def _toctree(caption: str, entries: list[str]) -> str:
    body = "\n".join(entries)
    return f"```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n{body}\n```\n"


def stage(src: Path, root: Path = ROOT, instructors: bool = False) -> Path:
    """Write the book's source folder ``src`` (emptied first) from the course at ``root``:
    the learners' edition, or with ``instructors`` the instructors' guide too."""
    import nbformat

    root, src = Path(root), Path(src)
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    shutil.copy(CONFIG_DIR / "conf.py", src / "conf.py")
    import jupyter_server_mathjax
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static",
                    src / "_static" / "mathjax")

    chs = chapters(root)
    stems = {ch.number: ch.stem for ch in chs}
    chapter_pages, exercise_pages = [], []
    for ch in chs:
        nb = nbformat.read(ch.notebook, as_version=4)
        freeze_widgets(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = link_chapters(cell.source, stems, "")
        (src / "chapters").mkdir(exist_ok=True)
        nbformat.write(nb, src / "chapters" / ch.notebook.name)
        chapter_pages.append(f"chapters/{ch.stem}")
        if ch.exercise_notebook:
            ex = nbformat.read(ch.exercise_notebook, as_version=4)
            for cell in ex.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
                    cell.metadata.pop("tags", None)
                else:
                    cell.source = link_chapters(cell.source, stems, "../chapters/")
            ex.metadata.pop("widgets", None)
            (src / "exercises").mkdir(exist_ok=True)
            nbformat.write(ex, src / "exercises" / ch.exercise_notebook.name)
            exercise_pages.append(f"exercises/{ch.stem}")

    reproduction_pages = []
    if (root / "docs" / "scorecard.md").is_file():            # ./course scorecard
        shutil.copy(root / "docs" / "scorecard.md", src / "scorecard.md")
        reproduction_pages.append("scorecard")
    instructor_pages = []
    guide = root / "instructors"
    for name in INSTRUCTOR_PAGES if instructors else ():
        if (guide / name).exists():
            (src / "instructors").mkdir(exist_ok=True)
            shutil.copy(guide / name, src / "instructors" / name)
            instructor_pages.append(f"instructors/{Path(name).stem}")
    for page in sorted((guide / "guide").glob("*.md")) if instructors else ():
        (src / "instructors" / "guide").mkdir(parents=True, exist_ok=True)
        shutil.copy(page, src / "instructors" / "guide" / page.name)
        instructor_pages.append(f"instructors/guide/{page.stem}")

    index = ["# Belief-state geometry in transformers", "", _readme_intro(root), "",
             "Read the chapters in order; each practice notebook follows its chapter. This book "
             "shows the notebooks with their stored outputs: to run them, install the course "
             "(`./course`, see the README).", "",
             _toctree("Chapters", chapter_pages)]
    if exercise_pages:
        index.append(_toctree("Practice notebooks", exercise_pages))
    if reproduction_pages:
        index.append(_toctree("Reproduction", reproduction_pages))
    if instructor_pages:
        index.append(_toctree("For instructors", instructor_pages))
    (src / "index.md").write_text("\n".join(index), encoding="utf-8")
    return src


def default_out(instructors: bool = False) -> Path:
    return ROOT / "build" / ("book-instructors" if instructors else "book")


def build(out: Path | None = None, root: Path = ROOT, quiet: bool = True,
          instructors: bool = False) -> Path:
    """Stage the sources in ``out/_source`` and build the HTML in ``out/html``; return the
    path of ``index.html``. The learners' edition, or with ``instructors`` the instructors'
    one (default ``out``: ``build/book`` or ``build/book-instructors``). Raises
    ``RuntimeError`` with Sphinx's output if it fails or warns (a warning is a broken link, a
    missing figure or bad markup)."""
    out = Path(out) if out is not None else default_out(instructors)
    src = stage(out / "_source", root, instructors)
    html = out / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-E",
           "-d", str(out / "doctrees"), str(src), str(html)]
    if quiet:
        cmd.insert(3, "-q")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sphinx-build failed:\n{result.stdout[-4000:]}\n"
                           f"{result.stderr[-4000:]}")
    return html / "index.html"
