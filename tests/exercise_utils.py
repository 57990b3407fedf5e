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
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

__all__ = ["REPO_ROOT", "load_exercise_namespace", "load_namespace", "load_solution_namespace"]


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
