"""The instructors' discussion answers (``instructors/chapters/NN.md``) against the chapters
they teach: every decimal number or thousands-separated count an answer quotes must be
printed or written in that chapter, or in a chapter the answer cites ("chapter 05"); and
the answers a dry run found wrong stay fixed."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import REPO_ROOT

from beliefcourse.workshop.catalog import chapters

NOTES = REPO_ROOT / "instructors" / "chapters"
CHAPTERS = {ch.number: ch for ch in chapters()}
_NUMBER = re.compile(r"(?<![\w.,{])(?:\d+\.\d+|\d{1,3}(?:,\d{3})+)(?![\w}])")


def chapter_text(number: str) -> str:
    """A chapter's markdown, code and stored text outputs, with LaTeX's ``{,}`` and the
    typographic minus made plain."""
    nb = nbformat.read(CHAPTERS[number].notebook, as_version=4)
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts).replace("{,}", ",").replace("−", "-")


def answers(number: str) -> list[str]:
    body = (NOTES / f"{number}.md").read_text(encoding="utf-8")
    section = body.split("## Discussion questions", 1)[1].split("\n## ", 1)[0]
    return [a.split("\n\n")[0] for a in re.split(r"\*Answer:\*", section)[1:]]


@pytest.mark.parametrize("number", sorted(n for n in CHAPTERS if (NOTES / f"{n}.md").exists()))
def test_numbers_in_answers_come_from_the_chapters(number):
    for answer in answers(number):
        cited = {number, *re.findall(r"chapters? (\d\d)", answer)}
        text = "\n".join(chapter_text(n) for n in sorted(cited) if n in CHAPTERS)
        for quoted in _NUMBER.findall(answer.replace("−", "-")):
            assert quoted in text, (f"chapter {number}'s answer quotes {quoted}, which "
                                    f"chapter(s) {sorted(cited)} do not print:\n{answer}")


def test_answers_found_wrong_in_a_dry_run_stay_fixed():
    z1r = answers("02")[1]
    assert "only one state" not in z1r and "$S_0$ or\n   $S_R$" in z1r
    closes = answers("03")[0]
    assert "unifilar" in closes and "exactly synchronising" in closes
    assert "asymmetric flip" in closes
