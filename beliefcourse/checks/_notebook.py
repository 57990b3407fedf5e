"""What a checker knows of the learner's cell history (in IPython; elsewhere nothing).

A cell defining an exercise function with a syntax error leaves it undefined ("name 'update'
is not defined": :func:`install` names the syntax error instead), or leaves an older version
defined (:func:`broken_definition` lets the checker say so instead of judging stale code).
"""

from __future__ import annotations

import re

__all__ = ["broken_definition", "install"]


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _latest_definition(shell, name: str) -> str | None:
    """The text of the latest input cell that defines ``def name(`` (``None`` if none)."""
    pattern = re.compile(rf"^\s*def\s+{re.escape(name)}\s*\(", re.MULTILINE)
    for cell in reversed(shell.user_ns.get("In", [])):
        if isinstance(cell, str) and pattern.search(cell):
            return cell
    return None


def _syntax_error(shell, cell: str) -> SyntaxError | None:
    try:
        compile(shell.transform_cell(cell), "<cell>", "exec")
    except SyntaxError as exc:
        return exc
    return None


def _describe(name: str, error: SyntaxError) -> str:
    where = f"line {error.lineno}" if error.lineno else "somewhere"
    text = f": `{error.text.strip()}`" if error.text and error.text.strip() else ""
    return (f"the cell that defines `{name}` has a {type(error).__name__} ({error.msg}) at "
            f"{where}{text}. Fix that line and run that cell again")


def broken_definition(name: str) -> str | None:
    """If the learner's latest cell defining ``name`` does not compile, the diagnosis (the
    function the checker received is an older version); else ``None``."""
    shell = _shell()
    if shell is None or not name.isidentifier():
        return None
    cell = _latest_definition(shell, name)
    error = _syntax_error(shell, cell) if cell is not None else None
    if error is None:
        return None
    return (f"{_describe(name, error)[0].upper()}{_describe(name, error)[1:]}: until it runs, "
            f"the checker would judge an older `{name}`.")


def _on_name_error(shell, etype, value, tb, tb_offset=None):
    """IPython's ``NameError`` handler: an exercise function whose cell has a syntax error (or
    never ran) is named as such; any other ``NameError`` gets the usual traceback."""
    from . import find

    name = getattr(value, "name", None)
    message = None
    try:
        find(name)
        is_exercise = True
    except Exception:               # not an exercise (or the registry cannot load): as usual
        is_exercise = False
    if is_exercise:
        cell = _latest_definition(shell, name)
        error = _syntax_error(shell, cell) if cell is not None else None
        if error is not None:
            message = f"`{name}` is not defined because {_describe(name, error)}, then this one."
        elif cell is None:
            message = (f"`{name}` is not defined yet: run the cell that defines it (it starts "
                       f"with `def {name}(`), then this one.")
    if message is None:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    else:
        stb = [f"NameError: {message}"]
    shell._showtraceback(etype, value, stb)
    return stb


def install() -> None:
    """In IPython, route ``NameError`` through :func:`_on_name_error` (no-op elsewhere)."""
    shell = _shell()
    if shell is not None and not shell.custom_exceptions:
        shell.set_custom_exc((NameError,), _on_name_error)
