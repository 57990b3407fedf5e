"""README.md and chapter 00 state one list of prerequisites, word for word.

The list is the bulleted list that follows the line naming the prerequisites in README's
"For whom" paragraph and in chapter 00's "How the course is organised" cell; the sentence
after it (what is *not* assumed, and which chapter teaches it) must agree too.
"""

import re

from conftest import REPO_ROOT


def _prerequisites(text: str) -> tuple[list[str], str]:
    """(bullets, the "Not assumed" paragraph) after the first line mentioning prerequisites."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(r"\*\*.*[Pp]rerequisites", line))
    bullets, i = [], start + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        if lines[i].startswith("* "):
            bullets.append(lines[i][2:].strip())
        else:                                  # a continuation line of the current bullet
            bullets[-1] += " " + lines[i].strip()
        i += 1
    rest = []
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        rest.append(lines[i].strip())
        i += 1
    not_assumed = " ".join(rest)
    not_assumed = not_assumed[:not_assumed.index("list above.") + len("list above.")]
    return bullets, not_assumed


def _chapter00_markdown() -> str:
    source = (REPO_ROOT / "chapters" / "00_welcome.py").read_text(encoding="utf-8")
    return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                     for line in source.splitlines())


def test_readme_and_chapter_00_list_the_same_prerequisites():
    readme = _prerequisites((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    chapter = _prerequisites(_chapter00_markdown())
    assert len(readme[0]) >= 4, f"README's prerequisite list looks truncated: {readme[0]}"
    assert readme[0] == chapter[0], ("README.md and chapters/00_welcome.py list different "
                                     f"prerequisites:\nREADME: {readme[0]}\n00:     {chapter[0]}")
    assert readme[1] == chapter[1], ("the 'Not assumed' sentences differ:\n"
                                     f"README: {readme[1]}\n00:     {chapter[1]}")


def test_the_list_names_the_refreshers():
    bullets, not_assumed = _prerequisites((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    text = " ".join(bullets)
    for needed in ("NumPy", "Bayes' rule", "eigenvectors", "PyTorch", "least squares"):
        assert needed in text, needed
    assert "chapter 05" in text and "chapter 02" in not_assumed
