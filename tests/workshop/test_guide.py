"""The instructors' guide: generated pages are up to date, plans add up, and each chapter's
teaching notes name exactly the exercises its practice notebook checks."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO_ROOT

from beliefcourse.workshop import guide
from beliefcourse.workshop.catalog import chapters

CHAPTERS = chapters()
PLANS = yaml.safe_load((REPO_ROOT / guide.PLANS_IN).read_text(encoding="utf-8"))


@pytest.mark.slow
def test_generated_guide_is_up_to_date():
    """Regenerates every page (running each planted mistake through its checker) and
    compares; run `./course guide` and commit if this fails."""
    stale = guide.stale()
    assert not stale, f"stale guide pages (run ./course guide): {stale}"


@pytest.mark.parametrize("plan", PLANS["plans"], ids=lambda p: p["name"])
def test_plan_adds_up(plan):
    for day, stated, total in guide.plan_totals(plan):
        assert total == stated, f"{plan['name']}, {day}: blocks add up to {total}, not {stated}"


def test_the_four_plans():
    lengths = {p["name"]: sum(d["minutes"] for d in p["days"]) for p in PLANS["plans"]}
    assert lengths == {"90-minute taster": 90, "Half day": 210, "Full day": 390,
                       "Two days": 780}


@pytest.mark.parametrize("plan", PLANS["plans"], ids=lambda p: p["name"])
def test_plan_names_real_chapters_and_exercises(plan):
    by_number = {ch.number: ch for ch in CHAPTERS}
    for day in plan["days"]:
        for block in day["blocks"]:
            number = block.get("chapter")
            if number is None:
                assert not block.get("exercises")
                continue
            assert re.fullmatch(r"\d\d[a-z]?", number), number
            if number not in by_number:      # a chapter still being written
                assert not block.get("exercises"), f"exercises of missing chapter {number}"
                continue
            ch = by_number[number]
            names = {e.function for e in guide.exercises(ch.exercise_notebook)} \
                if ch.exercise_notebook else set()
            assert set(block.get("exercises", [])) <= names, (number, block)


def test_two_day_plan_covers_every_chapter():
    two_days = next(p for p in PLANS["plans"] if p["name"] == "Two days")
    named = {b.get("chapter") for d in two_days["days"] for b in d["blocks"]}
    assert {ch.number for ch in CHAPTERS} <= named


def test_plans_render_with_clock_times():
    text = guide.render_plans(PLANS, CHAPTERS)
    assert "| 0:00 | 0:10 | 10 |" in text
    assert "| 1:25 | 1:30 | 5 |" in text                 # the taster ends at 90 minutes


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if (
    REPO_ROOT / guide.NOTES_DIR / f"{c.number}.md").exists()], ids=lambda c: c.stem)
def test_notes_classify_every_exercise_once(chapter):
    meta, body = guide.read_notes(REPO_ROOT / guide.NOTES_DIR / f"{chapter.number}.md")
    core, optional = meta.get("core", []), meta.get("optional", [])
    names = [e.function for e in guide.exercises(chapter.exercise_notebook)] \
        if chapter.exercise_notebook else []
    assert sorted(core + optional) == sorted(names), "core + optional = the exercises"
    assert "## Discussion questions" in body and "*Answer:*" in body
    assert "## When a machine is too slow" in body


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c.exercise_notebook],
                         ids=lambda c: c.stem)
def test_every_checked_exercise_has_a_heading(chapter):
    """The guide reads title, difficulty and minutes from `### Exercise N.M — Title ★★☆,
    ~10 min`; every checker call of the notebook must be found under such a heading."""
    from beliefcourse.workshop.catalog import checker_calls, read_notebook

    found = [(e.checker, e.function) for e in guide.exercises(chapter.exercise_notebook)]
    assert found == checker_calls(read_notebook(chapter.exercise_notebook))


def test_chapter_facts_are_read_from_the_chapter():
    ch02 = next(c for c in CHAPTERS if c.number == "02")
    facts = guide.chapter_facts(ch02)
    assert facts["reading"] == 60
    assert facts["prerequisites"].startswith("chapter 01")
    assert facts["objectives"].startswith("1. derive the update")


def test_diagnosis_sentence():
    msg = "For Z1R: expected [1, 0], got [2, 0]. Your belief is not normalised: divide. More."
    assert guide.diagnosis_sentence(msg, r"not normalised") == \
        "… Your belief is not normalised: divide."
    msg = "For pi [0.5, 0. ] and q [1. , 0.5]: you stopped at length 1. Try longer words."
    assert guide.diagnosis_sentence(msg, r"stopped") == msg.split(" Try")[0]
    assert guide.diagnosis_sentence("Line one.\nLine two.", r"absent") == "Line one."


def test_template_documents_the_format():
    text = (REPO_ROOT / guide.NOTES_DIR / "TEMPLATE.md").read_text(encoding="utf-8")
    meta, body = guide.read_notes(REPO_ROOT / guide.NOTES_DIR / "TEMPLATE.md")
    assert meta == {"core": [], "optional": []}
    assert "./course guide" in text and "## Discussion questions" in body


def test_guide_check_reports_a_stale_page(capsys, tmp_path, monkeypatch):
    """The staleness check can fail: a page that differs from what would be generated, a
    missing one, and a left-over page of a chapter that no longer exists."""
    (tmp_path / guide.GUIDE_DIR).mkdir(parents=True)
    edited = tmp_path / guide.OVERVIEW
    edited.write_text("hand edit\n", encoding="utf-8")
    (tmp_path / guide.GUIDE_DIR / "99_gone.md").write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(guide, "generate", lambda root: {
        edited: "generated\n", tmp_path / guide.PLANS_OUT: "plans\n"})
    assert guide.main(check=True, root=tmp_path) == 1
    out = capsys.readouterr().out
    assert "stale instructors/chapters.md" in out and "stale instructors/plans.md" in out
    assert "99_gone.md (no such chapter)" in out
    assert guide.main(root=tmp_path) == 0                  # regenerating fixes all three
    assert guide.main(check=True, root=tmp_path) == 0
    assert not (tmp_path / guide.GUIDE_DIR / "99_gone.md").exists()


@pytest.mark.parametrize("stored, fresh, same", [
    ("you returned 7.09e-31, as small as 6.1e-31", "you returned 6.00e-31, as small as 9e-31",
     True),                                    # both floating-point noise
    ("relative loss 1.0123", "relative loss 1.0124", True),   # one unit of the last digit
    ("relative loss 1.0123", "relative loss 1.0125", False),  # a number that moved
    ("wins 1,427 of 2,000", "wins 1,428 of 2,000", True),
    ("P P = 0.254 P", "P P = 0.197 P", False),
    ("scale the left eigenvector", "scale the right eigenvector", False),  # a changed message
    ("0.5 and 3", "0.5 and 3 and 4", False),
])
def test_staleness_compares_numbers_with_a_tolerance(stored, fresh, same):
    assert guide.same_text(stored, fresh) is same


def test_guide_quotes_no_signed_zero_or_noise_digits():
    """The guide quotes checkers' messages: they must not print what another CPU would print
    differently (the rule of tests/course/test_stored_outputs.py)."""
    from conftest import fragile_numbers

    pages = sorted((REPO_ROOT / guide.GUIDE_DIR).glob("*.md"))
    bad = {p.name: fragile_numbers(p.read_text(encoding="utf-8")) for p in pages}
    assert pages and not any(bad.values()), {k: v for k, v in bad.items() if v}
