"""Every practice notebook against the exercise registry: each reference solution passes, each
untouched stub is reported "not implemented yet" (no traceback), verdicts are deterministic
(stored notebook outputs stay valid under nbval), and the notebook's checker calls are exactly
its registered exercises. Known mistakes: tests/checks/test_registry.py.
"""

import re
from importlib import import_module

import pytest
from exercise_utils import REPO_ROOT, load_exercise_namespace, load_solution_namespace

from beliefcourse import checks

NOTEBOOKS = {p.stem[:2]: p.name
             for p in sorted((REPO_ROOT / "exercises" / "source").glob("*.py"))}


def _declared(chapter):
    module = import_module(f"beliefcourse.checks.ch{chapter}")
    return list(getattr(module, "EXERCISES", ()))


CASES = [(NOTEBOOKS[n], ex) for n in checks.CHAPTERS for ex in _declared(n)]
IDS = [f"{nb[:2]}-{ex.name}" for nb, ex in CASES]


@pytest.fixture(scope="module")
def namespaces():
    """Loaded on first use: {("solutions" | "exercises", notebook): namespace}."""
    cache = {}

    def get(kind, notebook):
        if (kind, notebook) not in cache:
            load = load_solution_namespace if kind == "solutions" else load_exercise_namespace
            cache[kind, notebook] = load(f"{kind}/{notebook}")
        return cache[kind, notebook]
    return get


@pytest.mark.parametrize("notebook, exercise", CASES, ids=IDS)
def test_solution_passes(namespaces, notebook, exercise):
    result = exercise(namespaces("solutions", notebook)[exercise.name])
    assert result, result.message
    assert result.status == "passed"


@pytest.mark.parametrize("notebook, exercise", CASES, ids=IDS)
def test_stub_is_not_implemented(namespaces, notebook, exercise):
    result = exercise(namespaces("exercises", notebook)[exercise.name])
    assert not result
    assert result.status == "not_implemented"
    assert "not implemented yet" in result.message.lower()
    assert "Traceback" not in result.message


@pytest.mark.parametrize("notebook, exercise", CASES, ids=IDS)
def test_verdicts_are_deterministic(namespaces, notebook, exercise):
    solution = namespaces("solutions", notebook)[exercise.name]
    assert exercise(solution).message == exercise(solution).message


@pytest.mark.parametrize("chapter", checks.CHAPTERS)
def test_every_exercise_is_registered(chapter):
    """Each practice notebook's checker calls are exactly its registered exercises, in order."""
    text = (REPO_ROOT / "exercises" / "source" / NOTEBOOKS[chapter]).read_text()
    calls = re.findall(r"\b(check_\w+)\(\s*(\w+)\s*\)", text)
    declared = [(ex.checker, ex.name) for ex in _declared(chapter)]
    assert list(dict.fromkeys(calls)) == declared
