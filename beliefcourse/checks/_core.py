"""The checker framework: the registry's records (:class:`Exercise`, :class:`Known`), the
verdict every checker returns, and the comparisons that write the diagnoses.

An exercise is *declared* (``check_stationary = Exercise(name="stationary", cases=...,
reference=..., mistakes=(...))``); the record is the checker. :func:`loop` copies each case's
inputs, calls the learner's function, converts, compares with the reference, and names the
known mistake that explains every wrong case (:func:`judge`). Outcomes (:class:`CheckResult`):
``"passed"``; ``"failed"`` for a :class:`Mistake`; ``"not_implemented"`` for a stub (naming an
unfinished helper it calls); ``"error"`` for any other exception, reported with the learner's
line. A learner never sees a traceback.
"""

from __future__ import annotations

import contextlib
import copy
import html
import inspect
import itertools
import os
import re
import signal
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ._notebook import broken_definition

__all__ = ["Case", "CheckResult", "Exercise", "Known", "Mistake", "as_array", "as_float",
           "as_tuple", "check", "close", "describe_difference", "describe_shapes", "fmt", "judge",
           "loop", "magnitude", "nearest_known", "num", "run_checks", "time_limit"]

# Plain words, not emoji: every font has them (emoji need a colour-emoji font).
_ICONS = {"passed": "PASSED", "failed": "WRONG", "not_implemented": "TO DO", "error": "ERROR"}
_COLOURS = {"passed": "#e6f4ea", "failed": "#fce8e6", "not_implemented": "#fef7e0",
            "error": "#fce8e6"}


class Mistake(Exception):
    """Raised inside a checker's test with the diagnosis the learner should read."""


@dataclass(frozen=True)
class CheckResult:
    """A checker's verdict: ``name`` of the exercise, ``status`` (see module docstring) and the
    ``message`` the learner reads. Truthy exactly when the check passed."""

    name: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        return f"{_ICONS[self.status]} {self.name}: {self.message}"

    def _repr_html_(self) -> str:
        text = html.escape(self.message).replace("\n", "<br>")
        return (f'<div style="background:{_COLOURS[self.status]};padding:6px 10px;'
                f'border-radius:4px;font-family:monospace;white-space:pre-wrap">'
                f"{_ICONS[self.status]} <b>{html.escape(self.name)}</b>: {text}</div>")


# ---------------------------------------------------------------------------- whose frame
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple({os.path.abspath(p) for p in (
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
    sysconfig.get_paths()["platlib"], sys.prefix, sys.base_prefix)} - {"/"})


def _source_file(fn):
    with contextlib.suppress(TypeError):
        return inspect.getsourcefile(fn)


def _is_learner_frame(frame, learner_file) -> bool:
    """True for a frame of the learner's code: their function's file, or any file outside this
    package, the standard library and installed packages (another cell, their own module)."""
    name = frame.filename
    if learner_file is not None and name == learner_file:
        return True
    if name.startswith("<frozen") or name.startswith(_PACKAGE_DIR + os.sep):
        return False
    path = os.path.abspath(name) if not name.startswith("<") else name
    return not any(path.startswith(d + os.sep) for d in _LIBRARY_DIRS)


def _learner_frames(exc: BaseException, fn, body=None) -> list:
    """The traceback's frames in the learner's code (never the checker ``body``'s own)."""
    learner_file = _source_file(fn)
    own = (_source_file(body), getattr(body, "__name__", None)) if body is not None else None
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if _is_learner_frame(f, learner_file) and (f.filename, f.name) != own]


def _where(frame) -> str:
    return f"in `{frame.name}`, line {frame.lineno}: `{(frame.line or '').strip()}`"


def _fn_name(fn, default: str) -> str:
    name = getattr(fn, "__name__", default)
    return "your function" if name == "<lambda>" else f"`{name}`"


def _not_implemented(name: str, fn, exc: NotImplementedError) -> CheckResult:
    """The verdict for a stub, or for an unfinished function it calls (named, with the line)."""
    frames = traceback.extract_tb(exc.__traceback__)
    raiser = frames[-1].name if frames else None
    if raiser and raiser != getattr(fn, "__name__", None) and raiser != "<module>" \
            and len(frames) > 1:
        learner_file = _source_file(fn)
        callers = [f for f in frames[:-1] if _is_learner_frame(f, learner_file)]
        outer = (f"`{callers[-1].name}`" if callers and callers[-1].name != "<lambda>"
                 else _fn_name(fn, name))
        line = f" (line {callers[-1].lineno}: `{(callers[-1].line or '').strip()}`)" \
            if callers else ""
        helper = "a function" if raiser == "<lambda>" else f"`{raiser}`"
        return CheckResult(name, "not_implemented",
                           f"{outer} calls {helper}{line}, which is not implemented yet. "
                           f"Finish {helper} first (replace its `raise "
                           "NotImplementedError()` and run its checker), then run this cell "
                           "again.")
    return CheckResult(name, "not_implemented",
                       f"not implemented yet: replace `raise NotImplementedError()` in "
                       f"{_fn_name(fn, name)} with your code, then run this cell again.")


def _crash(name: str, fn, exc: Exception, body=None) -> CheckResult:
    """The verdict for an exception that is not a :class:`Mistake`."""
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    mine = _learner_frames(exc, fn, body)
    if mine:
        hint = (" This is an error in your code (your own `assert` failed), not the "
                "checker's verdict." if isinstance(exc, AssertionError) else "")
        return CheckResult(name, "error", f"your code raised {what} ({_where(mine[-1])}).{hint}")
    return CheckResult(name, "error",
                       f"checking your function's result raised {what}. The checker could "
                       "not use what your function returned: check its type and shape against "
                       "the exercise.")


def run_checks(name: str, fn, body) -> CheckResult:
    """Run ``body(fn)`` and turn its outcome into a :class:`CheckResult` named ``name``."""
    if not callable(fn):
        return CheckResult(name, "error",
                           f"expected a function, got {type(fn).__name__}. Pass the function "
                           "itself (`check(my_function)`), not the result of calling it.")
    if stale := broken_definition(getattr(fn, "__name__", "")):
        return CheckResult(name, "error", stale)
    try:
        summary = body(fn)
    except Mistake as mistake:
        return CheckResult(name, "failed", str(mistake) or "a case gave the wrong answer.")
    except NotImplementedError as exc:
        return _not_implemented(name, fn, exc)
    except Exception as exc:  # the learner's code crashed: report it, don't raise
        return _crash(name, fn, exc, body)
    return CheckResult(name, "passed", summary or "all cases agree with the reference.")


# ---------------------------------------------------------------------------- return values
def fmt(arr) -> str:
    """A short, rounded array for verdicts (never a signed zero: ``-1e-9`` shows as ``0.``)."""
    text = np.array2string(np.asarray(arr), precision=4, suppress_small=True,
                           separator=", ", threshold=40)
    return _SIGNED_ZERO.sub(r" \1", text)


_SIGNED_ZERO = re.compile(r"-(0\.0*)(?=[,\]\s]|$)")
NOISE_FLOOR = 1e-12


def magnitude(x: float, spec: str = ".2e") -> str:
    """``x`` with ``spec``, or ``"below 1e-12"`` for floating-point noise (which varies by CPU)."""
    return f"below {NOISE_FLOOR:.0e}" if abs(x) < NOISE_FLOOR else f"{x:{spec}}"


def num(x, spec: str = ".6g") -> str:
    """``x`` with ``spec``; ``0`` for either signed zero, ``"0 (below 1e-12)"`` for noise."""
    x = float(x)
    if x == 0 or not np.isfinite(x):
        return "0" if x == 0 else f"{x}"
    return f"0 (below {NOISE_FLOOR:.0e})" if abs(x) < NOISE_FLOOR else f"{x:{spec}}"


def as_array(value, what: str) -> np.ndarray:
    """The learner's return value as a real ndarray, or a :class:`Mistake` saying what came
    back instead. Torch tensors are converted (detached, on the CPU)."""
    if value is None:
        raise Mistake(f"{what} returned None: did you forget the `return` statement?")
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise Mistake(f"{what} returned something that is not an array ({exc}).") from exc
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise Mistake(f"{what} returned {type(value).__name__} of dtype {arr.dtype}; expected "
                      "numbers.")
    return arr


def as_float(value, what: str) -> float:
    """The learner's return value as a Python float (a 0-d or one-element array is fine)."""
    arr = as_array(value, what)
    if arr.size != 1:
        raise Mistake(f"{what} should return a single number, got an array of shape "
                      f"{arr.shape}.")
    if np.iscomplexobj(arr):
        raise Mistake(f"{what} returned a complex number ({arr.item()}); return a real one.")
    out = float(arr.reshape(()))
    if np.isnan(out):
        raise Mistake(f"{what} returned NaN.")
    return out


def as_tuple(value, what: str, names: str) -> tuple:
    """The learner's tuple ``names`` (e.g. ``"(W, b)"``), or a :class:`Mistake` saying what
    came back instead."""
    n = names.count(",") + 1
    if not isinstance(value, (tuple, list)) or len(value) != n:
        got = (f"{type(value).__name__} of length {len(value)}"
               if isinstance(value, (tuple, list)) else type(value).__name__)
        kind = {2: "pair", 3: "triple"}.get(n, f"tuple of {n}")
        raise Mistake(f"{what}: return a {kind} {names}, got {got}.")
    return tuple(value)


def close(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Same shape and numerically equal (NaN never equals anything)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# ---------------------------------------------------------------------------- differences
def describe_shapes(got_shape, expected_shape) -> str:
    """"expected shape (3, 4), got (4, 3): ..." with what the difference looks like: a
    transpose, axes in another order, or a missing or extra axis."""
    got, want = tuple(got_shape), tuple(expected_shape)
    text = f"expected shape {want}, got {got}"
    if got == want:
        return text
    if len(got) == len(want) == 2 and got == want[::-1]:
        return text + ": the transpose (rows and columns swapped)"
    if len(got) == len(want) and sorted(got) == sorted(want):
        return text + ": the same axes in another order (a transpose or a wrong axis order)"
    if len(got) == len(want) - 1:
        for k in range(len(want)):
            if want[:k] + want[k + 1:] == got:
                extra = (" (a length-1 axis; index it or use [:, None]/reshape)"
                         if want[k] == 1 else
                         " (did you sum, average or index over it, or use the wrong axis?)")
                return text + f": axis {k} of length {want[k]} is missing{extra}"
    if len(got) == len(want) + 1:
        for k in range(len(got)):
            if got[:k] + got[k + 1:] == want:
                extra = (" (a length-1 axis; squeeze or ravel it)" if got[k] == 1 else
                         " (reduce over it, or did you keep an axis the exercise removes?)")
                return text + f": an extra axis {k} of length {got[k]}{extra}"
    if int(np.prod(got)) == int(np.prod(want)):
        return text + ": the same number of entries, arranged differently"
    return text


def describe_difference(got, expected) -> str:
    """The largest absolute difference of two arrays of one shape (the first of ties), where,
    and both values there: "largest difference 0.031 at index (2, 1): expected 0.4, got 0.431"."""
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    if got.ndim == 0:
        return (f"expected {num(expected)}, got {num(got)} (difference "
                f"{num(abs(float(got) - float(expected)), '.3g')})")
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else idx
        return (f"entry {where} is {got[idx]} (expected {num(expected[idx])}); "
                f"{int(bad.sum())} of {got.size} entries are NaN or inf")
    diff = np.abs(got - expected)
    diff[np.isnan(diff)] = 0.0
    first = np.flatnonzero(diff.ravel() >= diff.max() * (1 - 1e-9))[0]
    idx = tuple(int(i) for i in np.unravel_index(int(first), diff.shape))
    where = idx[0] if len(idx) == 1 else idx
    n_bad = int((~np.isclose(got, expected, rtol=1e-6, atol=1e-9)).sum())
    return (f"largest difference {num(diff[idx], '.3g')} at index {where}: expected "
            f"{num(expected[idx])}, got {num(got[idx])}; {n_bad} of {got.size} entries differ")


# ---------------------------------------------------------------------------- many cases
@dataclass
class Case:
    """One comparison of the learner's answer with the reference. ``variants``: ``(key,
    value, diagnosis)``, what a known mistake (``key``) returns here and what to tell."""

    label: str            # "For Z1R, word 011"
    got: object
    expected: object
    variants: list = field(default_factory=list)
    advice: object = ""   # what to do when no known mistake matches (str, or case -> str)
    args: tuple = ()      # the inputs of this case (for predicates and diagnoses)
    unit: str = ""        # appended to scalar values in messages

    def show(self) -> str:
        if np.ndim(self.expected) == 0:
            return f"expected {num(self.expected)}{self.unit}, got {num(self.got)}{self.unit}"
        got, expected = np.asarray(self.got, float), np.asarray(self.expected, float)
        if got.shape != expected.shape:
            return describe_shapes(got.shape, expected.shape)
        if expected.ndim >= 3 and expected[0].size <= 40:
            # show only the first slice along axis 0 that differs (e.g. one T[x])
            k = next(k for k in range(len(expected)) if not close(got[k], expected[k]))
            return (f"slice [{k}] should be\n{fmt(expected[k])}\nbut yours is\n"
                    f"{fmt(got[k])}\n({describe_difference(got, expected)})")
        if expected.size <= 12:
            return (f"expected {fmt(expected)}, got {fmt(got)} "
                    f"({describe_difference(got, expected)})")
        return describe_difference(got, expected)


def judge(cases: list[Case]) -> None:
    """Raise a :class:`Mistake` if any case is wrong, naming the first known mistake (in
    declaration order: specific ones first) that explains every wrong case: its value equals
    the answer, or its predicate ``value(case)`` holds; ``None`` predicts nothing there.
    Failing that: the first wrong case and the advice."""
    wrong = [c for c in cases if not close(c.got, c.expected)]
    if not wrong:
        return

    def matches(case, key):
        """True/False if mistake ``key`` predicts the learner's answer here; None if silent."""
        for k, value, _ in case.variants:
            if k == key and value is not None:
                if callable(value):
                    verdict = value(case)
                    return None if verdict is None else bool(verdict)
                return (close(case.got, value, rtol=1e-5, atol=1e-7)      # float32 answers too
                        and not close(value, case.expected, rtol=1e-5, atol=1e-7))  # right here
        return None

    keys = list(dict.fromkeys(k for c in wrong for k, _, _ in c.variants))
    for key in keys:
        verdicts = [matches(c, key) for c in wrong]
        if True in verdicts and False not in verdicts:
            first = wrong[verdicts.index(True)]
            diagnosis = next(d for k, _, d in first.variants if k == key)
            diagnosis = diagnosis(first) if callable(diagnosis) else diagnosis
            raise Mistake(f"{first.label}: {first.show()}. {diagnosis}")
    first = wrong[0]
    advice = first.advice(first) if callable(first.advice) else first.advice
    raise Mistake(f"{first.label}: {first.show()}. {advice}".rstrip())


# ---------------------------------------------------------------------------- time limit
class _OutOfTime(BaseException):
    """Raised by the alarm handler inside the learner's code. A ``BaseException`` (like
    ``KeyboardInterrupt``), so a learner's ``except Exception:`` cannot swallow it."""


def _alarm_available() -> bool:
    """True where ``SIGALRM`` can interrupt: POSIX, the main thread, and no other interval
    timer running (we never cancel a timer we did not start)."""
    if not hasattr(signal, "SIGALRM") or not hasattr(signal, "setitimer"):
        return False                                        # Windows
    if threading.current_thread() is not threading.main_thread():
        return False                                        # signals go to the main thread
    try:
        return signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    except (OSError, ValueError):  # pragma: no cover - exotic platforms
        return False


@contextlib.contextmanager
def time_limit(seconds: float, message: str):
    """Raise :class:`Mistake` with ``message`` if the block runs longer than ``seconds``: a
    ``SIGALRM`` timer interrupts it in the main thread on POSIX (Jupyter kernels, pytest);
    elsewhere it runs to its end and is judged on its time. The old handler is restored."""
    start = time.perf_counter()
    previous, armed, inside = None, False, [True]

    if _alarm_available():
        def handler(signum, frame):
            if inside[0]:
                raise _OutOfTime()

        try:
            previous = signal.signal(signal.SIGALRM, handler)
            signal.setitimer(signal.ITIMER_REAL, float(seconds))
            armed = True
        except (ValueError, OSError):   # e.g. a sub-interpreter: fall back to timing
            if previous is not None:
                signal.signal(signal.SIGALRM, previous)
            previous = None
    # signal.signal returns None for a handler installed outside Python: restore the default
    restore = previous if previous is not None else signal.SIG_DFL
    try:
        yield
        inside[0] = False
    except _OutOfTime:
        raise Mistake(message) from None
    finally:
        inside[0] = False
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, restore)
    if time.perf_counter() - start > seconds:
        raise Mistake(message)


# ---------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Known:
    """A known mistake: ``wrong``, a wrong implementation, is also the planted-mistake test
    (its verdict must fail and match ``cause``, a regex; by default the diagnosis's first
    sentence). It is recognised by ``recognise(case) -> bool | None`` if given, else where a
    wrong case's answer equals what ``wrong`` returns there (``None`` or an exception: no
    prediction). ``diagnosis`` (str, or ``case -> str``) is what the learner reads; ``None``
    when ``convert`` or the exercise's ``test`` catches the mistake and says why. ``raises``:
    the mistake shows as that exception (``LinAlgError``), and the verdict is the diagnosis.
    """

    mistake: str                       # a short description: "transposes B"
    wrong: Callable
    diagnosis: object = None           # str | Callable[[Case], str] | None
    cause: str = ""
    recognise: Callable | None = None
    raises: type | None = None

    def __post_init__(self):
        if not self.cause:
            if not isinstance(self.diagnosis, str):
                raise ValueError(f"Known({self.mistake!r}): give `cause` (a regular "
                                 "expression) when the diagnosis is not a fixed string")
            first = re.split(r"(?<=[.:;!?])\s", self.diagnosis.strip(), maxsplit=1)[0]
            object.__setattr__(self, "cause", re.escape(first))
        re.compile(self.cause)          # a typo in the pattern fails at import, not later


@dataclass(frozen=True, eq=False)
class Exercise:
    """One exercise of a practice notebook, and its checker: ``check_x(learner_fn)``.

    ``name``: the learner's function; ``signature``: ``"stationary(T) -> pi"``. ``cases()`` ->
    ``[(label, args)]`` (label: "For Z1R, word 011"); ``reference(*args)``: the right answer, the
    package's own function wherever one exists. ``convert(value, what)``: what is compared
    (default :func:`as_array`; a :class:`Mistake` for a wrong type). ``mistakes``: the
    :class:`Known` ones (or tuples of their arguments); ``advice`` (str or ``case -> str``) when
    none matches; ``summary`` (str, ``{n}`` = number of cases, or ``n -> str``) on success.
    ``test(fn) -> summary`` replaces or wraps :func:`loop`; ``after(fn, summary)`` runs once it
    passed. ``helpers``: earlier exercises' functions this one calls (a wrong one is blamed
    first). ``process_first`` (a case index): a learner who puts the process later is told so.
    ``time_limit``: seconds per call. ``deterministic`` (True or a hint): called twice, one
    answer required. ``untouched``: an argument changed in place fails (the caller keeps it).
    ``checker``: the name the notebook calls (``check_<name>``).
    """

    name: str
    signature: str
    cases: Callable | None = None
    reference: Callable | None = None
    convert: Callable = as_array
    mistakes: tuple = ()
    advice: object = ""
    summary: object = ""
    test: Callable | None = None
    after: Callable | None = None
    helpers: tuple = ()
    process_first: int | None = None
    time_limit: float | None = None
    deterministic: object = False
    untouched: bool = False
    rtol: float = 1e-6
    atol: float = 1e-9
    checker: str = ""

    def __post_init__(self):
        object.__setattr__(self, "mistakes", tuple(
            k if isinstance(k, Known) else Known(*k) for k in self.mistakes))
        if not self.checker:
            object.__setattr__(self, "checker", f"check_{self.name}")
        if self.test is None and (self.cases is None or self.reference is None):
            raise ValueError(f"Exercise {self.name!r}: give `cases` and `reference`, or "
                             "`test`")

    @property
    def __name__(self) -> str:      # a checker reads like a function in tracebacks and docs
        return self.checker

    @cached_property
    def answers(self) -> list:
        """``[(label, args, reference answer)]``, computed once per process (learners re-run
        checkers; the planted-mistake tests run every known mistake). Never mutated: each call
        gets copies."""
        return [(label, args, self.reference(*copy.deepcopy(args)))
                for label, args in self.cases()]

    @cached_property
    def _predictions(self) -> dict:
        return {}

    def __call__(self, fn) -> CheckResult:
        return check(self, fn)

    def call(self, fn, args: tuple, label: str):
        """``fn(*args)`` on a copy of the inputs, under the time limit (twice if
        ``deterministic``); an exception a known mistake ``raises`` becomes its diagnosis."""
        limit = (time_limit(self.time_limit, f"{label}: your function ran for more than "
                            f"{self.time_limit:g} s (the reference takes well under a second). "
                            "Look for a loop that does not end, or work repeated inside a loop.")
                 if self.time_limit else contextlib.nullcontext())
        try:
            with limit:
                out = fn(*(given := copy.deepcopy(args)))
                again = fn(*copy.deepcopy(args)) if self.deterministic else out
        except tuple(k.raises for k in self.mistakes if k.raises) as err:
            known = next(k for k in self.mistakes if k.raises and isinstance(err, k.raises))
            raise Mistake(f"{label}: your code raised {type(err).__name__} ({err}). "
                          f"{known.diagnosis}") from None
        names = re.findall(r"[(,]\s*(\w+)", self.signature)        # the parameters, in order
        moved = [n for n, a, b in zip(names, given, args) if self.untouched and hasattr(a, "shape")
                 and not np.array_equal(np.asarray(a), np.asarray(b))]
        if moved:
            raise Mistake(f"{label}: you changed `{moved[0]}` in place; the caller still needs it: "
                          "work on a copy (`.copy()`, `.clone()`).")
        if self.deterministic and not close(self.convert(out, label), self.convert(again, label)):
            hint = self.deterministic if isinstance(self.deterministic, str) else ""
            raise Mistake(f"{label}: two calls on the same input gave different answers: "
                          f"`{self.name}` must be deterministic{hint}.")
        return out


def _prediction(exercise: Exercise, known: Known, index: int):
    """What ``known.wrong`` returns on case ``index``, converted as the learner's answer is
    (``None`` when it makes no prediction there); computed once per process."""
    if known.recognise is not None:
        return known.recognise
    key = (known.mistake, index)
    if key not in exercise._predictions:
        try:
            value = known.wrong(*copy.deepcopy(exercise.answers[index][1]))
            value = None if value is None else exercise.convert(value, "")
        except Exception:
            value = None
        exercise._predictions[key] = value
    return exercise._predictions[key]


def nearest_known(exercise: Exercise, args: tuple, same) -> object:
    """For an exercise's own ``test``: the diagnosis of the first declared mistake whose
    ``wrong(*args)`` satisfies ``same(value)`` (a mistake that raises makes no prediction), or
    ``None``."""
    for known in exercise.mistakes:
        if known.diagnosis is None:
            continue
        try:
            if same(known.wrong(*copy.deepcopy(args))):
                return known.diagnosis
        except Exception:
            continue
    return None


def loop(exercise: Exercise, fn) -> str:
    """The default test: every case against the reference, then :func:`judge`."""
    cases = []
    for label, args, expected in exercise.answers:
        got = exercise.convert(exercise.call(fn, args, label),
                               f"`{exercise.name}` {label[:1].lower()}{label[1:]}")
        cases.append(Case(label, got, expected, advice=exercise.advice, args=args))
    wrong = [i for i, c in enumerate(cases)
             if not close(c.got, c.expected, rtol=exercise.rtol, atol=exercise.atol)]
    for i in wrong:
        cases[i].variants = [(k.mistake, _prediction(exercise, k, i), k.diagnosis)
                             for k in exercise.mistakes if k.diagnosis is not None]
    judge([cases[i] for i in wrong])
    summary = exercise.summary or "all {n} cases agree with the reference."
    return summary(len(cases)) if callable(summary) else summary.replace("{n}", str(len(cases)))


_PROCESS_NAMES = {"T", "t", "M", "Ts", "matrices", "transitions", "hmm", "process"}


def _process_first(exercise: Exercise, fn) -> None:
    """A :class:`Mistake` if ``fn`` takes the process later than first: a parameter named like
    the process (``T``) comes later, or it fails in the exercise's order and gives the right
    answer with the first two arguments swapped."""
    order = exercise.signature.split(" ->")[0]
    told = f"`{exercise.name}` takes the process first: {order}. Your function "
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    if names and names[0] not in _PROCESS_NAMES and any(n in _PROCESS_NAMES for n in names[1:]):
        raise Mistake(f"{told}is defined as ({', '.join(names)}): put T first, e.g. "
                      f"`def {order}`, and call it that way everywhere.")
    if exercise.cases is None or exercise.reference is None:
        return
    _, args, expected = exercise.answers[exercise.process_first]
    try:
        with np.errstate(all="ignore"):
            exercise.call(fn, args, "")
    except NotImplementedError:
        raise
    except Exception:
        for perm in itertools.permutations(range(len(args))):
            try:
                moved = exercise.call(fn, tuple(args[i] for i in perm), "")
                right = perm != tuple(range(len(args))) and close(
                    exercise.convert(moved, ""), expected)
            except Exception:
                right = False
            if right:
                how = ("with the belief first" if perm[:2] == (1, 0) and list(perm[2:]) == list(
                    range(2, len(args))) else "with its arguments in another order")
                raise Mistake(f"{told}works when called {how} and fails with T first: put T "
                              f"first, `def {order}`.") from None


def _calls(fn, name: str) -> bool:
    """True if ``fn``'s code reads the global ``name`` (nested code objects included)."""
    codes = [getattr(fn, "__code__", None)]
    while codes:
        code = codes.pop()
        if code is not None and name in code.co_names:
            return True
        codes += [c for c in getattr(code, "co_consts", ()) if inspect.iscode(c)]
    return False


def _judged(exercise: Exercise, fn, whole: bool = True) -> str:
    """The body of :func:`check`: order check, test or loop, then (``whole``) ``after``, and a
    failure caused by a wrong helper of the learner's blamed on that helper. A helper itself is
    judged without ``after``: only on what the exercise that calls it needs."""
    if exercise.process_first is not None:
        _process_first(exercise, fn)
    try:
        summary = exercise.test(fn) if exercise.test else loop(exercise, fn)
    except NotImplementedError:
        raise
    except Exception:
        if whole:
            from . import find
            for name in exercise.helpers:
                helper = getattr(fn, "__globals__", {}).get(name)
                if callable(helper) and _calls(fn, name):
                    earlier = find(name)
                    verdict = run_checks(name, helper,
                                         lambda h, ex=earlier: _judged(ex, h, whole=False))
                    if verdict.status in ("failed", "error"):
                        raise Mistake(f"your `{name}` is wrong; fix it first ({exercise.name} "
                                      f"calls it). Its checker says: {verdict.message}") from None
        raise
    return exercise.after(fn, summary) if exercise.after and whole else summary


def check(exercise: Exercise, fn) -> CheckResult:
    """Run ``exercise`` on the learner's function ``fn``: the verdict."""
    return run_checks(exercise.name, fn, lambda f: _judged(exercise, f))
