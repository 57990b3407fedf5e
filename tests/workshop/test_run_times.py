"""Run times in one place (issue 17): ``instructors/timings.json`` is the one measurement,
in one unit (CPU seconds of a one-thread kernel); README's "Notebook run times" section is
generated from it (:func:`beliefcourse.workshop.timings.readme_paragraph`), and the guide and
``./course doctor`` read the same file. On failure the message prints the text to paste."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO_ROOT

from beliefcourse.workshop import timings
from beliefcourse.workshop.catalog import chapters

HEADING = "## Notebook run times\n\n"


def _readme_section() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in readme
    return readme.split(HEADING, 1)[1].split("\n## ", 1)[0].rstrip("\n") + "\n"


def test_readme_run_times_are_generated_from_the_timings_file():
    """The whole section, so no second measurement (a wall time, another date) can sit in it."""
    paragraph = timings.readme_paragraph(timings.read())
    assert _readme_section() == paragraph, (
        "README.md's 'Notebook run times' section is not the timings file's; replace it "
        "with:\n\n" + paragraph)


def test_the_timings_file_is_one_measurement_in_one_unit():
    data = timings.read()
    assert "CPU seconds" in data["what"] and "one thread" in data["what"]
    assert data["machine"]["threads"] == 1 and data["machine"]["date"]
    assert "CPU seconds" in data["benchmark"]["what"]      # the doctor's scale, same unit
    measured = data["notebooks"]
    for ch in chapters():
        assert f"chapters/{ch.stem}.ipynb" in measured, ch.stem
        if ch.solution_notebook:
            assert f"solutions/{ch.stem}.ipynb" in measured, ch.stem
    assert all(0 < v < 120 for v in measured.values()), "the course's two-minute rule"


def test_paragraph_quotes_every_chapter(tmp_path):
    data = {"notebooks": {"chapters/00_a.ipynb": 10.26, "chapters/05_b.ipynb": 79.3,
                          "solutions/05_b.ipynb": 15.1},
            "machine": {"date": "2026-01-02", "cpus": 2, "processor": "x86_64",
                        "python": "3.11.7", "load": 0.1}}
    text = " ".join(timings.readme_paragraph(data).split())
    assert "00 10 s, 05 79 s" in text and "at most 15 s each" in text
    assert "load average 0.1" in text and "2026-01-02" in text


_STATED = re.compile(r"Reading time\s+≈\s+(\d+)\s+minutes.*?running time\s+≈\s+(\d+)\s+"
                     r"(seconds|minutes?)", re.DOTALL)


@pytest.mark.parametrize("chapter", chapters(), ids=lambda ch: ch.stem)
def test_each_chapter_states_its_measured_times(chapter):
    """The opening line's reading time follows the one rule (timings.reading_minutes, within
    15 % or 5 minutes: a few edits need no new title) and its running time is the measured
    one (within 35 % or 3 s: re-measuring on another day moves it a little)."""
    notebook = REPO_ROOT / "chapters" / f"{chapter.stem}.ipynb"
    opening = "".join(json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"])
    stated = _STATED.search(opening)
    assert stated, (f"{chapter.stem}: the title cell must say 'Reading time ≈ N minutes; "
                    "running time ≈ S seconds'")
    rule, words, code = timings.reading_minutes(notebook)
    reading = int(stated.group(1))
    assert abs(reading - rule) <= max(5, 0.15 * rule), (
        f"{chapter.stem} states {reading} min of reading; the rule gives {rule:.0f} "
        f"({words} words at {timings.WORDS_PER_MINUTE}/min, {code} lines of code at "
        f"{timings.CODE_LINES_PER_MINUTE}/min)")
    run_s = int(stated.group(2)) * (60 if stated.group(3).startswith("minute") else 1)
    measured = timings.read()["notebooks"][f"chapters/{chapter.stem}.ipynb"]
    assert abs(run_s - measured) <= max(3, 0.35 * measured), (
        f"{chapter.stem} states {run_s} s of running; instructors/timings.json has {measured}")


def test_chapter_00s_table_quotes_each_chapters_reading_time():
    """Chapter 00's table of chapters repeats each chapter's stated reading time, and its
    stated totals are the sums of the table's columns."""
    text = (REPO_ROOT / "chapters" / "00_welcome.py").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^# \| (\d\d[a-z]?) [^|]+\|[^|]+\| (\d+) min[^|]*\|", text, re.M))
    practice = re.findall(r"^# \| \d\d[a-z]? [^|]+\|[^|]+\|[^|]+\| (\d+) min", text, re.M)
    for chapter in chapters():
        opening = (REPO_ROOT / "chapters" / f"{chapter.stem}.py").read_text(encoding="utf-8")
        stated = re.search(r"Reading time\s+≈\s+(\d+)\s+minutes", opening).group(1)
        assert rows.get(chapter.number) == stated, (chapter.number, rows.get(chapter.number))
    reading_h = sum(map(int, rows.values())) / 60
    total_h = reading_h + sum(map(int, practice)) / 60
    quarters = {"¼": 0.25, "½": 0.5, "¾": 0.75, "": 0.0}
    said = re.search(r"about (\d+)([¼½¾]?) hours with all the practice notebooks,\s*#\s*"
                     r"(\d+)([¼½¾]?) without them", text)
    assert said, "chapter 00 no longer states the course's total time"
    assert abs(int(said.group(1)) + quarters[said.group(2)] - total_h) <= 0.25, total_h
    assert abs(int(said.group(3)) + quarters[said.group(4)] - reading_h) <= 0.25, reading_h
