"""Stored outputs print numbers a different CPU would print too (CONTRIBUTING.md, "Machine
independence").

nbval (``./course test``) re-runs every notebook under another CPU kernel set and two threads
and compares; that catches a number that moved on *this* machine. These tests catch, on any
machine, the two ways a stored output is fragile before it moves:

* a **signed zero** (``-0.000``, ``+0.000``, ``+0.j``): the sign of a quantity that is zero up
  to rounding is decided by the rounding, so another CPU prints the other sign;
* **rounding noise printed as digits**: a mantissa with an exponent between 1e-13 and 1e-17
  (rounding noise of a quantity of order one) or between 1e-26 and 1e-34 (of its square, an
  MSE of an exact fit). Such a number says only "tiny"; print a bound ("below 1e-12").
  A bound is written with a bare ``1e-NN``, which is allowed. Small numbers that are
  statistics (a sign test's p = 1.5e-88) lie outside both ranges.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO_ROOT, fragile_numbers

from beliefcourse.workshop.notebooks import course_notebooks

NOTEBOOKS = sorted(course_notebooks(REPO_ROOT))

def _texts(nb: dict):
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            parts = [out.get("text", "")] + [out.get("data", {}).get(kind, "")
                                             for kind in ("text/plain", "text/markdown")]
            for part in parts:
                yield index, "".join(part)


@pytest.mark.parametrize("text, fragile", [
    ("ζ = -0.000 → 0 heads", True),
    ("ζ = +0.000 → 0 heads", True),
    ("[ 1. +0.j  -0.5+0.866j]", True),
    ("[-0.   0.5]", True),
    ("decomposition error 8.9e-16", True),
    ("returned 7.09e-31", True),
    ("error below 1e-14", False),
    ("sign test p = 1.5e-88", False),
    ("ζ = 0.000, rate -0.25, -0.05, 2024-01-05, x-0 axis", False),
    ("mean KL 2.5e-07", False),
])
def test_the_rule(text, fragile):
    assert bool(fragile_numbers(text)) is fragile


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_signed_zero_or_noise_digits(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = [f"cell {i}: …{snippet}…" for i, text in _texts(nb) for snippet in fragile_numbers(text)]
    assert not bad, ("outputs that another CPU prints differently (print a bound such as "
                     "'below 1e-12', and no sign on a zero):\n" + "\n".join(bad))


# JupyterLab 4's output area at 1366×768 with the file browser open: 934 CSS px wide
# (tests/course/test_browser.py measures it). Matplotlib's smallest text in the course is 9 pt,
# 12.5 px in a PNG at 100 dpi; shrunk to fit it must stay 9 px, i.e. at least 72 %.
OUTPUT_WIDTH_1366 = 934
MIN_SCALE = 0.72


def _png_widths(nb: dict):
    import base64
    import struct

    for index, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            data = out.get("data", {})
            if "image/png" in data and "application/vnd.jupyter.widget-view+json" not in data:
                png = base64.b64decode("".join(data["image/png"]))
                yield index, struct.unpack(">I", png[16:20])[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_figures_are_legible_on_a_1366_screen(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    limit = OUTPUT_WIDTH_1366 / MIN_SCALE
    wide = [f"cell {i}: {w} px" for i, w in _png_widths(nb) if w > limit]
    assert not wide, (f"figures wider than {limit:.0f} px are shrunk below 72 % in JupyterLab "
                      f"at 1366×768 (9-pt text below 9 px); give them a smaller figsize: {wide}")
