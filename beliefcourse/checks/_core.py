"""The verdict every checker returns, and the wrapper that turns a test into one.

A checker is ``check_<thing>(learner_fn) -> CheckResult``. The test body calls the learner's
function on cases and either returns a one-line success summary or raises ``AssertionError``
with a diagnosis. :func:`run_checks` converts every outcome into a :class:`CheckResult`:

| outcome | ``status`` | truthy |
|---|---|---|
| the body returned | ``"passed"`` | yes |
| ``AssertionError`` (a wrong answer) | ``"failed"`` | no |
| ``NotImplementedError`` (an untouched stub) | ``"not_implemented"`` | no |
| any other exception in the learner's code | ``"error"`` | no |

A learner never sees a traceback from a checker: a crash is reported as the exception's type,
message and the line of the learner's code where it happened.
"""

from __future__ import annotations

import html
import inspect
import traceback
from dataclasses import dataclass

__all__ = ["CheckResult", "run_checks"]

_ICONS = {"passed": "✅", "failed": "❌", "not_implemented": "⏳", "error": "💥"}
_COLOURS = {"passed": "#e6f4ea", "failed": "#fce8e6", "not_implemented": "#fef7e0",
            "error": "#fce8e6"}


@dataclass(frozen=True)
class CheckResult:
    """A checker's verdict: ``name`` of the exercise, ``status`` (see module docstring) and the
    ``message`` the learner reads. Truthy exactly when the check passed."""

    name: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == "passed"

    @property
    def passed(self) -> bool:
        return bool(self)

    def __repr__(self) -> str:
        return f"{_ICONS[self.status]} {self.name}: {self.message}"

    def _repr_html_(self) -> str:
        text = html.escape(self.message).replace("\n", "<br>")
        return (f'<div style="background:{_COLOURS[self.status]};padding:6px 10px;'
                f'border-radius:4px;font-family:monospace;white-space:pre-wrap">'
                f"{_ICONS[self.status]} <b>{html.escape(self.name)}</b>: {text}</div>")


def _learner_line(exc: BaseException, fn) -> str:
    """'line N of your `fn`: source' for the deepest frame inside the learner's function."""
    try:
        filename = inspect.getsourcefile(fn)
    except TypeError:
        filename = None
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (in `{frame.name}`, line {frame.lineno}: `{(frame.line or '').strip()}`)"


def run_checks(name: str, fn, body) -> CheckResult:
    """Run ``body(fn)`` and turn its outcome into a :class:`CheckResult` named ``name``."""
    if not callable(fn):
        return CheckResult(name, "error",
                           f"expected a function, got {type(fn).__name__}. Pass the function "
                           "itself (`check(my_function)`), not the result of calling it.")
    try:
        summary = body(fn)
    except NotImplementedError:
        return CheckResult(name, "not_implemented",
                           f"not implemented yet: replace `raise NotImplementedError()` in "
                           f"`{getattr(fn, '__name__', name)}` with your code, then run this "
                           "cell again.")
    except AssertionError as failure:
        return CheckResult(name, "failed", str(failure) or "a case gave the wrong answer.")
    except Exception as exc:  # the learner's code crashed: report it, don't raise
        return CheckResult(name, "error",
                           f"your code raised {type(exc).__name__}: {exc}"
                           f"{_learner_line(exc, fn)}.")
    return CheckResult(name, "passed", summary or "all cases agree with the reference.")
