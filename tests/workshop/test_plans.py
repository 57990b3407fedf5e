"""Workshop plans that survive a real room (``instructors/plans.yml``): practice blocks leave
slack over the exercises' own estimates, plans longer than the taster do each practised
chapter's core exercises, and ``./course printout`` gives each block its slide numbers."""

from __future__ import annotations

import math

import pytest
import yaml
from conftest import REPO_ROOT

from beliefcourse.workshop import printout
from beliefcourse.workshop.catalog import chapters
from beliefcourse.workshop.guide import exercises, read_notes

PLANS = yaml.safe_load((REPO_ROOT / "instructors" / "plans.yml").read_text())["plans"]
CHAPTERS = {ch.number: ch for ch in chapters()}
TASTER = "90-minute taster"


def _blocks(plan):
    return [b for day in plan["days"] for b in day["blocks"]]


def _minutes(number: str) -> dict[str, int]:
    return {e.function: e.minutes for e in exercises(CHAPTERS[number].exercise_notebook)}


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p["name"])
def test_practice_blocks_leave_slack_for_a_room(plan):
    """At least 5 minutes and 10 % over the exercises' estimates (a room is slower than the
    author: questions, a typo, a neighbour's laptop)."""
    for block in _blocks(plan):
        if block.get("exercises"):
            estimate = sum(_minutes(block["chapter"])[fn] for fn in block["exercises"])
            need = estimate + max(5, math.ceil(0.1 * estimate))
            assert block["minutes"] >= need, (f"{plan['name']}, chapter {block['chapter']}: "
                                              f"{block['minutes']} min for {estimate} min of "
                                              f"exercises; give it {need}")


@pytest.mark.parametrize("plan", [p for p in PLANS if p["name"] != TASTER],
                         ids=lambda p: p["name"])
def test_practice_keeps_the_core_exercises(plan):
    for block in _blocks(plan):
        if block.get("exercises"):
            core = read_notes(REPO_ROOT / "instructors" / "chapters" /
                              f"{block['chapter']}.md")[0]["core"]
            missing = set(core) - set(block["exercises"])
            assert not missing, f"{plan['name']}, chapter {block['chapter']} drops {missing}"


def test_section_numbers():
    assert printout.section_numbers("Sections 1, 3, 4 and 7: the MSP") == [1, 3, 4, 7]
    assert printout.section_numbers("Sections 2–3: derive") == [2, 3]
    assert printout.section_numbers("Section 9.") == [9]
    assert printout.section_numbers("Walk-through.") == []


def test_printout_gives_each_block_its_slides(tmp_path):
    assert printout.main(out_dir=tmp_path) == 0
    assert len(list(tmp_path.glob("*.html"))) == len(PLANS)
    half = next(p for p in PLANS if p["name"] == "Half day")
    page = (tmp_path / "half-day.html").read_text()
    titles = printout.slide_titles(CHAPTERS["05"].notebook)
    block = next(b for b in _blocks(half) if b.get("chapter") == "05")
    shown = printout.block_slides(block, CHAPTERS)
    assert shown in page
    firsts = [int(r.split("–")[0]) for r in shown.split("slides ")[1].split(", ")]
    assert [titles[k - 1].split(".")[0] for k in firsts] == ["## 3", "## 5"]
    assert "1.3 Mess3 from its factorisation (~15 min)" in page
    for plan in PLANS:             # one page: a row per block, no more
        text = (tmp_path / f"{printout._slug(plan['name'])}.html").read_text()
        assert text.count("<tr>") == len(_blocks(plan)) + 1
