"""Load the functions of a generated practice notebook without running its other cells.

The checker tests need the learner-facing functions of ``solutions/NN_slug.py`` (the reference
answers) and ``exercises/NN_slug.py`` (the untouched stubs). Executing those files top to
bottom would also draw every figure, run every checker cell and, in later chapters, train
models. Instead we parse the file with :mod:`ast` and execute only the *definitions*:

* ``import`` and ``from ... import ...`` statements;
* ``def`` / ``async def`` / ``class`` definitions (decorators included);
* simple constant assignments whose right-hand side is a literal (numbers, strings, tuples,
  lists, dicts, sets of literals, ``None``, booleans, unary minus), e.g. ``N_TOKENS = 3`` —
  nothing that calls a function or reads another name.

Everything else (function calls, plotting, checker cells, loops, ``if`` blocks) is dropped.
The result is a fresh ``dict`` namespace, so tests can look functions up by name::

    from exercise_utils import load_exercise_namespace, load_solution_namespace

    sol = load_solution_namespace("solutions/02_belief_updating.py")
    stub = load_exercise_namespace("exercises/02_belief_updating.py")
    assert checks.check_update(sol["update"])
    assert not checks.check_update(stub["update"])

(``tests/`` has no ``__init__.py``, so pytest puts ``tests/`` itself on ``sys.path`` and the
module imports as plain ``exercise_utils``.) A path may be relative to the repository root
(as above) or absolute. ``exercises/NN_slug.py`` and ``solutions/NN_slug.py`` are not files
in the repository: their text is generated from ``exercises/source/NN_slug.py`` on the fly,
exactly as ``tools/notebooks.py build`` makes the notebooks. Functions keep that path and
their line numbers in tracebacks (the code is compiled with ``filename`` set to the path),
which makes failing tests easy to follow. Module-level names a function reads at call time
(``np``, ``itertools``, an earlier helper function) are available, since imports and
definitions are all kept.

Planted mistakes. Each ``tests/test_checks_chNN.py`` holds a module-level list ``PLANTED`` of
:class:`Planted` records, one per plausible wrong answer, and a parametrized test that runs
each through its checker with :func:`assert_planted`::

    PLANTED = [
        Planted("update", "forgets to normalise the belief",
                lambda belief, T, x: belief @ T[x], r"not normalised"),
        ...
    ]

    @pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
    def test_planted_mistake(planted):
        assert_planted(ch02, planted)

``function`` is the exercise function's name (the checker is found as in
``tests/test_checks_exercises.py``: ``check_<function>`` unless :data:`CHECKER_NAMES` says
otherwise), ``mistake`` a short description of the error, ``fn`` the wrong implementation and
``cause`` a regular expression (``re.search``, ``re.DOTALL``) that the verdict must match: the
diagnosis of *that* mistake, not just any failure. :func:`load_planted` returns a chapter's
list (the instructors' guide reads it).
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

__all__ = ["CHECKER_NAMES", "REPO_ROOT", "Planted", "assert_diagnosis", "assert_planted",
           "checker_name", "find_checker", "load_exercise_namespace", "load_namespace",
           "load_planted", "load_solution_namespace", "planted_counts", "planted_id"]

# exercise functions whose checker is not check_<function>
CHECKER_NAMES = {"build_msp": "check_msp", "recurrent_states": "check_recurrent",
                 "box_counting_dimension": "check_box_counting",
                 "shortest_distinguishing_word": "check_distinguishing_word"}


def _is_literal(node: ast.AST) -> bool:
    """True for expressions that ``ast.literal_eval`` accepts (no names, no calls)."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _keep(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign):
        return (all(isinstance(t, ast.Name) for t in node.targets)
                and _is_literal(node.value))
    if isinstance(node, ast.AnnAssign):
        return (isinstance(node.target, ast.Name) and node.value is not None
                and _is_literal(node.value))
    return False


_PRACTICE_KINDS = {"exercises": "exercise", "solutions": "solution"}


def _read(path) -> tuple[Path, str]:
    """``(path, text)``. ``exercises/NN_slug.py`` and ``solutions/NN_slug.py`` are not stored
    (only their notebooks are): their text is what tools/notebooks.py makes of
    ``exercises/source/NN_slug.py``."""
    p = Path(path)
    if not p.is_absolute():
        p = REPO_ROOT / p
    kind = _PRACTICE_KINDS.get(p.parent.name)
    if kind and p.suffix == ".py" and p.parent.parent == REPO_ROOT:
        from beliefcourse.workshop import notebooks

        source = REPO_ROOT / notebooks.SOURCE_DIR / p.name
        if not source.exists():
            raise FileNotFoundError(f"{source} does not exist")
        return p, notebooks.practice_text(source, kind, REPO_ROOT)
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist")
    return p, p.read_text(encoding="utf-8")


def load_namespace(path) -> dict:
    """Parse ``path`` and execute only its imports, definitions and literal constants.

    Returns the resulting namespace (a fresh ``dict``; ``__name__`` is set to the file's stem
    so that classes and functions have a sensible ``__module__``). Raises ``FileNotFoundError``
    if the file is missing and ``SyntaxError`` if it does not parse.
    """
    p, source = _read(path)
    tree = ast.parse(source, filename=str(p))
    tree.body = [node for node in tree.body if _keep(node)]
    code = compile(tree, filename=str(p), mode="exec")
    namespace: dict = {"__name__": f"course_{p.stem}", "__file__": str(p)}
    exec(code, namespace)
    return namespace


def load_solution_namespace(path) -> dict:
    """Definitions from a generated solution file, e.g. ``solutions/01_hidden_markov_models.py``.

    The functions there are the reference answers: every checker must pass them.
    """
    return load_namespace(path)


def load_exercise_namespace(path) -> dict:
    """Definitions from a generated exercise file, e.g. ``exercises/01_hidden_markov_models.py``.

    The functions there are the untouched stubs (their bodies ``raise
    NotImplementedError()``): every checker must report them as not implemented yet.
    """
    return load_namespace(path)


def assert_diagnosis(result, *phrases) -> None:
    """Assert that a checker rejected a planted mistake and its verdict names each phrase."""
    assert not result, "a planted mistake passed the checker"
    for phrase in phrases:
        assert phrase in result.message, f"expected {phrase!r} in the verdict:\n{result.message}"


# ---------------------------------------------------------------------------- planted mistakes
def checker_name(function: str) -> str:
    """The name of the checker of exercise function ``function`` (``check_<function>`` unless
    :data:`CHECKER_NAMES` says otherwise)."""
    return CHECKER_NAMES.get(function, f"check_{function}")


def find_checker(module, function: str):
    """The checker of exercise function ``function`` in checker module ``module``."""
    return getattr(module, checker_name(function))


@dataclass(frozen=True)
class Planted:
    """A plausible wrong answer to an exercise and the diagnosis its checker must give.

    ``function``: the exercise function's name; ``mistake``: a short description ("forgets
    to normalise the belief"); ``fn``: the wrong implementation; ``cause``: a regular
    expression the checker's message must match (``re.search`` with ``re.DOTALL``).
    """

    function: str
    mistake: str
    fn: Callable
    cause: str

    def __post_init__(self):
        re.compile(self.cause)          # a typo in the pattern fails at import, not later


def planted_id(planted: Planted) -> str:
    """A readable pytest id: ``"update: forgets to normalise the belief"``."""
    return f"{planted.function}: {planted.mistake}"


def assert_planted(module, planted: Planted):
    """Run ``planted.fn`` through its checker in ``module``: the verdict must be a failure
    (``"failed"``, or ``"error"`` for a mistake that crashes) whose message matches
    ``planted.cause``. Returns the :class:`~beliefcourse.checks.CheckResult`."""
    result = find_checker(module, planted.function)(planted.fn)
    where = f"planted mistake {planted_id(planted)!r}"
    assert result.status in ("failed", "error"), (
        f"{where}: the checker said {result.status!r}, expected a failure:\n{result.message}")
    assert re.search(planted.cause, result.message, re.DOTALL), (
        f"{where}: the verdict does not name the cause {planted.cause!r}:\n{result.message}")
    return result


def load_planted(chapter: str) -> list:
    """The ``PLANTED`` list of ``tests/test_checks_ch<chapter>.py`` (``chapter`` = ``"01"``)."""
    tests = str(REPO_ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return list(importlib.import_module(f"test_checks_ch{chapter}").PLANTED)


def planted_counts(planted: list) -> Counter:
    """How many planted mistakes each exercise function has."""
    return Counter(p.function for p in planted)
