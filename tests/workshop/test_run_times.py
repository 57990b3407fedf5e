"""Run times in one place (issue 17): ``instructors/timings.json`` is the one measurement,
in one unit (CPU seconds of a one-thread kernel); README's "Notebook run times" section is
generated from it (:func:`beliefcourse.workshop.timings.readme_paragraph`), and the guide and
``./course doctor`` read the same file. On failure the message prints the text to paste."""

from __future__ import annotations

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
