"""``./course printout [PLAN ...]``: one printable page per workshop plan.

Each page is the plan's timetable (from ``instructors/plans.yml``, as in ``plans.md``) with,
per block, the slide numbers to show (the numbers reveal.js prints in the corner of the
deck of ``./course slides``) and, for practice, the exercises with their numbers and the
exercises' own minutes. A block that names sections ("Sections 3 and 5") gets the slides of
those sections; a walk-through of a whole chapter gets the whole deck.

Pages go to ``build/printouts/<plan>.html`` (plain HTML with print styles: open and print,
one A4 or Letter page each).
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from .catalog import ROOT, chapters

OUT = Path("build") / "printouts"
_SECTIONS = re.compile(r"\b[Ss]ections?\s+([\d\s,–-]+(?:\s*and\s*\d+)?)")
_NUMBERED = re.compile(r"^#{1,2}\s+(\d+)\.\s")
_TOP = re.compile(r"^#{1,2}\s")


@functools.cache
def slide_titles(notebook: Path) -> tuple[str, ...]:
    """The title line of every slide of a chapter's deck, in reveal.js's order: slide ``k``
    (as reveal.js numbers it, from 1) is ``titles[k - 1]`` ("" for a figure's slide)."""
    import nbformat

    from .slides import deck_notebook

    deck = deck_notebook(nbformat.read(notebook, as_version=4))
    titles = []
    for i, cell in enumerate(deck.cells):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        if kind in ("slide", "subslide") or (i == 0 and kind != "skip"):
            first = cell.source.split("\n")[0].strip() if cell.cell_type == "markdown" else ""
            titles.append(first)
    return tuple(titles)


def section_numbers(what: str) -> list[int]:
    """The section numbers a block names: "Sections 1, 3, 4 and 7" -> [1, 3, 4, 7],
    "Sections 2–3" -> [2, 3], "Section 9" -> [9]."""
    m = _SECTIONS.search(what)
    if not m:
        return []
    out = []
    for part in re.split(r",|\band\b", m.group(1)):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        if len(bounds) == 2:
            out += list(range(bounds[0], bounds[1] + 1))
        elif bounds:
            out.append(bounds[0])
    return out


def section_slides(titles: tuple[str, ...], number: int) -> tuple[int, int]:
    """First and last slide (1-based) of section ``number``: from its "## N." slide to the
    slide before the next top-level heading."""
    starts = [k for k, t in enumerate(titles) if (m := _NUMBERED.match(t))
              and int(m.group(1)) == number and not t.endswith("(continued)")]
    if not starts:
        raise ValueError(f"no slide titled '## {number}. ...'")
    first = starts[0]
    last = next((k - 1 for k in range(first + 1, len(titles))
                 if _TOP.match(titles[k]) and not titles[k].endswith("(continued)")),
                len(titles) - 1)
    return first + 1, last + 1


def _ranges(pairs: list[tuple[int, int]]) -> str:
    return ", ".join(f"{a}–{b}" if b > a else f"{a}" for a, b in pairs)


def block_slides(block: dict, chs: dict) -> str:
    """What to show for ``block``: "slides 12–18, 25–31 of 05", or "" (no chapter, practice)."""
    number = block.get("chapter")
    if not number or number not in chs or block.get("exercises"):
        return ""
    titles = slide_titles(chs[number].notebook)
    sections = section_numbers(block["what"])
    if not sections:
        return f"deck {number}: slides 1–{len(titles)}"
    return f"deck {number}: slides " + _ranges([section_slides(titles, n) for n in sections])


def block_exercises(block: dict, chs: dict) -> str:
    from .guide import exercises

    wanted = block.get("exercises") or []
    if not wanted:
        return ""
    ch = chs.get(block.get("chapter"))
    known = {e.function: e for e in exercises(ch.exercise_notebook)} if ch and \
        ch.exercise_notebook else {}
    shown = []
    for fn in wanted:
        e = known.get(fn)
        shown.append(f"{e.number} {e.title} (~{e.minutes} min)" if e else fn)
    return "; ".join(shown)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def render(plan: dict, chs: dict) -> str:
    """One plan as a printable HTML page."""
    rows = []
    for day in plan["days"]:
        rows.append(f'<tr class="day"><th colspan="5">{html.escape(day["name"])} '
                    f'({_clock(day["minutes"])} h)</th></tr>')
        t = 0
        for block in day["blocks"]:
            ch = chs.get(block.get("chapter"))
            what = html.escape(block["what"].strip())
            if ch:
                what = f"<b>{ch.number} · {html.escape(ch.title)}</b><br>{what}"
            show = block_slides(block, chs) or html.escape(block_exercises(block, chs))
            rows.append(f"<tr><td>{_clock(t)}</td><td>{block['minutes']}</td><td>{what}</td>"
                        f"<td>{show}</td></tr>")
            t += block["minutes"]
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(plan['name'])}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font: 10pt/1.3 sans-serif; margin: 0 auto; max-width: 190mm; }}
h1 {{ font-size: 14pt; margin: 0 0 2mm; }}
p {{ margin: 0 0 3mm; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #bbb; padding: 1.2mm 1.5mm; vertical-align: top;
          text-align: left; }}
tr.day th {{ background: #eee; }}
</style></head><body>
<h1>{html.escape(plan['name'])}</h1>
<p>{html.escape(' '.join(plan.get('summary', '').split()))} Slides: <code>./course slides</code>
(slide numbers as the deck shows them, bottom right); exercises: the practice notebooks.</p>
<table><tr><th>start</th><th>min</th><th>what</th><th>show / do</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""


def main(names: list[str] | None = None, out_dir: Path | None = None,
         root: Path = ROOT) -> int:
    import yaml

    plans = yaml.safe_load((Path(root) / "instructors" / "plans.yml").read_text("utf-8"))
    chs = {ch.number: ch for ch in chapters(root)}
    out_dir = Path(out_dir) if out_dir else Path(root) / OUT
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = [p for p in plans["plans"] if not names or _slug(p["name"]) in map(_slug, names)]
    if not selected:
        print(f"printout: no plan named {', '.join(names or [])}; plans: "
              + ", ".join(_slug(p["name"]) for p in plans["plans"]))
        return 2
    for plan in selected:
        path = out_dir / f"{_slug(plan['name'])}.html"
        path.write_text(render(plan, chs), encoding="utf-8")
        print(f"printout: {path}")
    return 0
