"""The exercise registry (``beliefcourse.checks.exercises()``): every known mistake of every
exercise, run through its checker, gets a failing verdict that names *its* cause; every
exercise declares at least five; the records are well formed.

Hand-written wrong answers that the registry does not list live beside each chapter's other
checker tests (``test_chNN.py``), so that these tests do not merely re-run the registry
against itself."""

import re
from importlib import import_module

import pytest

from beliefcourse import checks


def _declared():
    """``(exercise, known)`` pairs, chapter by chapter (a chapter not yet declaring its
    exercises is reported by :func:`test_every_chapter_declares_its_exercises`)."""
    pairs = []
    for n in checks.CHAPTERS:
        for ex in getattr(import_module(f"beliefcourse.checks.ch{n}"), "EXERCISES", ()):
            pairs += [(n, ex, k) for k in ex.mistakes]
    return pairs


KNOWN = _declared()


@pytest.mark.parametrize("chapter, exercise, known", KNOWN,
                         ids=[f"{n}-{ex.name}: {k.mistake}" for n, ex, k in KNOWN])
def test_known_mistake_is_named(chapter, exercise, known):
    result = exercise(known.wrong)
    assert result.status in ("failed", "error"), (
        f"the checker said {result.status!r} to {known.mistake!r}:\n{result.message}")
    assert re.search(known.cause, result.message, re.DOTALL), (
        f"the verdict on {known.mistake!r} does not name its cause {known.cause!r}:\n"
        f"{result.message}")


@pytest.mark.parametrize("chapter", checks.CHAPTERS)
def test_every_chapter_declares_its_exercises(chapter):
    module = import_module(f"beliefcourse.checks.ch{chapter}")
    declared = getattr(module, "EXERCISES", None)
    assert declared, f"beliefcourse.checks.ch{chapter} has no EXERCISES"
    for ex in declared:
        assert isinstance(ex, checks.Exercise)
        assert getattr(module, ex.checker) is ex, f"{ex.checker} is not the module's checker"
        assert len(ex.mistakes) >= 5, f"{ex.name}: fewer than five known mistakes"
        assert len({k.mistake for k in ex.mistakes}) == len(ex.mistakes), ex.name
    checkers = {name for name in dir(module) if name.startswith("check_")}
    assert checkers == {ex.checker for ex in declared}, "a checker outside EXERCISES"


def test_function_names_are_unique_across_the_course():
    names = [ex.name for n in checks.CHAPTERS
             for ex in getattr(import_module(f"beliefcourse.checks.ch{n}"), "EXERCISES", ())]
    assert len(names) == len(set(names))


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="chapters with exercises: 01"):
        checks.exercises("09")
