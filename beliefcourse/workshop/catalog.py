"""What the course contains, found by globbing: chapters, practice notebooks, checker calls.

Nothing here is a list to maintain: a new ``chapters/NN_slug.ipynb`` (with, optionally,
``exercises/NN_slug.ipynb`` and ``solutions/NN_slug.ipynb``) is picked up by every workshop
tool. ``root`` is the course checkout (the folder holding ``chapters/``); it defaults to the
checkout this package was installed from (the course installs itself editable).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_STEM = re.compile(r"^(\d\d)_([a-z0-9_]+)$")
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
    """``"03_mixed_state_presentation"`` -> ``("03", "mixed_state_presentation")``;
    ValueError for a name that is not ``NN_slug``."""
    m = _STEM.match(stem)
    if not m:
        raise ValueError(f"{stem!r} is not a chapter name of the form NN_slug "
                         "(two digits, underscore, lower-case words)")
    return m.group(1), m.group(2)


def chapters(root: Path = ROOT) -> list[Chapter]:
    """Every ``chapters/NN_slug.ipynb`` under ``root``, in order."""
    out = []
    for path in sorted((Path(root) / "chapters").glob("*.ipynb")):
        if _STEM.match(path.stem):
            out.append(Chapter(*split_stem(path.stem), root=Path(root)))
    return out


def find_chapter(number: str | int, root: Path = ROOT) -> Chapter:
    """The chapter numbered ``number`` (``5``, ``"5"`` or ``"05"``); ValueError naming the
    chapters that exist otherwise."""
    try:
        want = f"{int(number):02d}"
    except (TypeError, ValueError):
        raise ValueError(f"chapter number must be an integer like 05, got {number!r}") from None
    found = chapters(root)
    for ch in found:
        if ch.number == want:
            return ch
    raise ValueError(f"no chapter {want}; the chapters are "
                     f"{', '.join(c.number for c in found) or 'none'}")


def checker_calls(nb: dict) -> list[tuple[str, str]]:
    """``(checker, function)`` for each ``check_<thing>(function)`` call in ``nb``'s code
    cells, in order: ``[("check_update", "update"), ...]``. These are a practice notebook's
    exercises."""
    calls = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for m in _CHECK_CALL.finditer(cell_source(cell)):
            call = (f"check_{m.group(1)}", m.group(2))
            if call not in calls:
                calls.append(call)
    return calls
