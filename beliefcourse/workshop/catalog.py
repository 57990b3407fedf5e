"""What the course contains, found by globbing: chapters, practice notebooks, checker calls.

Nothing here is a list to maintain: a new ``chapters/NN_slug.ipynb`` (with, optionally,
``exercises/NN_slug.ipynb`` and ``solutions/NN_slug.ipynb``) is picked up by every workshop
tool; a chapter inserted between two others takes a letter after its number
(``05b_slug``). ``root`` is the course folder (the one holding ``chapters/``); it defaults
to :data:`beliefcourse.workshop.notebooks.ROOT` (``$BELIEFCOURSE_COURSE``, else the course
folder the working directory is in, else the checkout this package is installed from), so
an installed package works on any copy of the course.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .notebooks import ROOT, course_notebooks

_STEM = re.compile(r"^(\d\d[a-z]?)_([a-z0-9_]+)$")
_NUMBER = re.compile(r"^(\d+)([a-z]?)$")
_H1 = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_NUMBER_PREFIX = re.compile(r"^\d\d\s*[·.:-]\s*")
# `checks.check_update(update)` or `check_update(update)` in a practice notebook's code cell
_CHECK_CALL = re.compile(r"\bcheck_(\w+)\(\s*([A-Za-z_]\w*)\s*\)")


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``number`` ("03"), ``slug`` ("mixed_state_presentation"), ``root``."""

    number: str
    slug: str
    root: Path = ROOT

    @property
    def stem(self) -> str:
        return f"{self.number}_{self.slug}"

    @property
    def notebook(self) -> Path:
        return self.root / "chapters" / f"{self.stem}.ipynb"

    @property
    def exercise_notebook(self) -> Path | None:
        path = self.root / "exercises" / f"{self.stem}.ipynb"
        return path if path.exists() else None

    @property
    def solution_notebook(self) -> Path | None:
        path = self.root / "solutions" / f"{self.stem}.ipynb"
        return path if path.exists() else None

    @property
    def title(self) -> str:
        """The chapter's H1 without its number, e.g. "Hidden Markov models: where ..."."""
        return notebook_title(read_notebook(self.notebook), default=self.slug.replace("_", " "))


def read_notebook(path: Path) -> dict:
    """A notebook as plain JSON (``nbformat`` is not needed to read titles and sources)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def notebook_title(nb: dict, default: str = "") -> str:
    """The first markdown H1 of ``nb``, without a leading "NN ·" chapter number."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            m = _H1.search(cell_source(cell))
            if m:
                return _NUMBER_PREFIX.sub("", m.group(1).strip())
    return default


def split_stem(stem: str) -> tuple[str, str]:
    """``"03_mixed_state_presentation"`` -> ``("03", "mixed_state_presentation")``,
    ``"05b_x"`` -> ``("05b", "x")``; ValueError for a name that is not ``NN_slug``."""
    m = _STEM.match(stem)
    if not m:
        raise ValueError(f"{stem!r} is not a chapter name of the form NN_slug "
                         "(two digits, optionally a letter, underscore, lower-case words)")
    return m.group(1), m.group(2)


def chapter_number(number: str | int) -> str:
    """A chapter number as the file names write it: ``5``, ``"5"`` or ``"05"`` -> ``"05"``,
    ``"5b"`` -> ``"05b"``; ValueError otherwise."""
    m = _NUMBER.match(str(number).strip().lower())
    if isinstance(number, bool) or not m:
        raise ValueError(f"chapter number must be an integer like 05 (or 05b), got {number!r}")
    return f"{int(m.group(1)):02d}{m.group(2)}"


def chapters(root: Path = ROOT) -> list[Chapter]:
    """Every ``chapters/NN_slug.ipynb`` under ``root``, in order."""
    return [Chapter(*split_stem(path.stem), root=Path(root))
            for path in course_notebooks(root, ("chapters",)) if _STEM.match(path.stem)]


def find_chapter(number: str | int, root: Path = ROOT) -> Chapter:
    """The chapter numbered ``number`` (``5``, ``"5"``, ``"05"``, ``"05b"``); ValueError
    naming the chapters that exist otherwise."""
    want = chapter_number(number)
    found = chapters(root)
    for ch in found:
        if ch.number == want:
            return ch
    raise ValueError(f"no chapter {want}; the chapters are "
                     f"{', '.join(c.number for c in found) or 'none'}")


def checker_calls(nb: dict) -> list[tuple[str, str]]:
    """``(checker, function)`` for each call of a registered exercise's checker
    (``check_update(update)``, :func:`beliefcourse.checks.exercises`) in ``nb``'s code cells,
    in order: a practice notebook's exercises."""
    from .. import checks

    registered = {(ex.checker, ex.name) for ex in checks.exercises()}
    calls = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for m in _CHECK_CALL.finditer(cell_source(cell)):
            call = (f"check_{m.group(1)}", m.group(2))
            if call in registered and call not in calls:
                calls.append(call)
    return calls
