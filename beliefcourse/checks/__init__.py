"""Checkers for the practice notebooks: ``check_<thing>(your_function) -> CheckResult``.

Each ``beliefcourse.checks.chNN`` declares its exercises (:class:`~._core.Exercise` records) in
``EXERCISES``, in notebook order; :func:`exercises` is the course's one list (the planted-mistake
tests, the instructors' guide and ``./course progress`` read it).
"""

from importlib import import_module

from . import _notebook
from ._core import CheckResult, Exercise, Known, check, run_checks

_notebook.install()         # in a notebook: "your cell has a syntax error", not a NameError

#: the practice notebooks' chapter numbers, in course order
CHAPTERS = ("01", "02", "03", "04", "05", "06", "07", "08")


def exercises(chapter: str | None = None) -> list[Exercise]:
    """Every exercise of the course, or of one chapter (``"01"``), in notebook order."""
    if chapter is not None and chapter not in CHAPTERS:
        raise ValueError(f"no practice notebook for chapter {chapter!r}; chapters with "
                         f"exercises: {', '.join(CHAPTERS)}")
    numbers = CHAPTERS if chapter is None else (chapter,)
    return [ex for n in numbers for ex in import_module(f"{__name__}.ch{n}").EXERCISES]


def __getattr__(name: str):
    """Any chapter's ``check_<thing>`` is reached from here (``checks.check_stationary``)."""
    if name.startswith("check_"):
        for n in CHAPTERS:
            module = import_module(f"{__name__}.ch{n}")
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def find(function: str) -> Exercise:
    """The exercise whose learner function is called ``function`` (``"update"``)."""
    for ex in exercises():
        if ex.name == function:
            return ex
    raise KeyError(f"no exercise has a function called {function!r}")


__all__ = ["CHAPTERS", "CheckResult", "Exercise", "Known", "check", "exercises", "find",
           "run_checks"]
