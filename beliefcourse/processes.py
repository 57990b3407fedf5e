"""The course's example processes, each an :class:`~beliefcourse.hmm.HMM`.

All follow ``T[x, i, j] = P(emit x, go to j | in i)``. Look one up by name with
``get("mess3", x=0.15, alpha=0.6)``; ``available()`` lists the names.
"""

from __future__ import annotations

import inspect

import numpy as np

from .hmm import HMM


def _check_prob(name: str, value, low: float = 0.0, high: float = 1.0,
                open_low: bool = False, open_high: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    lo_ok = value > low if open_low else value >= low
    hi_ok = value < high if open_high else value <= high
    if not (np.isfinite(value) and lo_ok and hi_ok):
        lb = "(" if open_low else "["
        rb = ")" if open_high else "]"
        raise ValueError(f"{name} must lie in {lb}{low:g}, {high:g}{rb}, got {value:g}")
    return value


def z1r(p: float = 0.5) -> HMM:
    """Zero-One-Random: emits 0, then 1, then a random bit, and repeats.

    States ``S0, S1, SR``; tokens ``0, 1``. ``p = P(SR emits 0)`` (the epsilon-transformers
    convention; simplexity's ``zero_one_random`` uses ``1 - p``; they agree at 0.5)::

        T[0] = [[0, 1, 0], [0, 0, 0], [p, 0, 0]]
        T[1] = [[0, 0, 0], [0, 0, 1], [1-p, 0, 0]]
    """
    p = _check_prob("p", p)
    T = np.zeros((2, 3, 3))
    T[0, 0, 1] = 1.0
    T[1, 1, 2] = 1.0
    T[0, 2, 0] = p
    T[1, 2, 0] = 1.0 - p
    return HMM(T, state_names=["S0", "S1", "SR"], token_names=["0", "1"])


def mess3(x: float = 0.05, alpha: float = 0.85) -> HMM:
    """Mess3 (Marzen & Crutchfield 2017): 3 states ``A, B, C`` and 3 tokens ``A, B, C``.

    With ``beta = (1 - alpha) / 2`` and ``y = 1 - 2x``::

        T[A] = [[alpha*y, beta*x, beta*x], [alpha*x, beta*y, beta*x], [alpha*x, beta*x, beta*y]]

    and ``T[B]``, ``T[C]`` by moving the ``alpha`` column. Equivalently
    ``T[k, i, j] = P(j | i) P(k | j)``: the hidden chain stays put with probability
    ``1 - 2x``, and the new state emits its own token with probability ``alpha``.
    The net matrix is ``(1 - 3x) I + x J`` with eigenvalues 1 and ``1 - 3x`` (twice).

    Defaults are paper (a)'s values (x=0.05, alpha=0.85). Note: epsilon-transformers,
    simplexity's tests and the factored-representations code default to (0.15, 0.6).
    """
    x = _check_prob("x", x, 0.0, 0.5)
    alpha = _check_prob("alpha", alpha)
    beta = (1.0 - alpha) / 2.0
    stay = np.full((3, 3), x) + np.eye(3) * (1.0 - 3.0 * x)      # P(j | i)
    emit = np.full((3, 3), beta) + np.eye(3) * (alpha - beta)    # emit[j, k] = P(k | j)
    T = np.einsum("ij,jk->kij", stay, emit)
    return HMM(T, state_names=["A", "B", "C"], token_names=["A", "B", "C"])


def rrxor(p1: float = 0.5, p2: float = 0.5) -> HMM:
    """Random-Random-XOR: a random bit, another random bit, then their XOR; repeat.

    States ``S, 0, 1, T, F``; tokens ``0, 1``. ``p1 = P(first bit is 0)``,
    ``p2 = P(second bit is 0)``. From ``S`` the first bit b1 leads to state ``b1``; from
    state ``b1`` the second bit b2 leads to ``T`` if ``b1 xor b2 = 1`` else ``F``; ``T`` emits
    1 and ``F`` emits 0, both returning to ``S``. Stationary ``pi = (2, 1, 1, 1, 1) / 6``
    for p1 = p2 = 0.5.
    """
    p1 = _check_prob("p1", p1)
    p2 = _check_prob("p2", p2)
    S, Z, O, Tr, F = range(5)
    T = np.zeros((2, 5, 5))
    T[0, S, Z] = p1
    T[1, S, O] = 1.0 - p1
    T[0, Z, F] = p2
    T[1, Z, Tr] = 1.0 - p2
    T[0, O, Tr] = p2
    T[1, O, F] = 1.0 - p2
    T[1, Tr, S] = 1.0
    T[0, F, S] = 1.0
    return HMM(T, state_names=["S", "0", "1", "T", "F"], token_names=["0", "1"])


def even_process(p: float = 0.5) -> HMM:
    """The even process: 1s come in blocks of even length.

    States ``E, O``; tokens ``0, 1``. In ``E`` emit 0 with probability ``p`` and stay, or
    emit 1 with probability ``1 - p`` and go to ``O``; ``O`` emits 1 and returns to ``E``.
    Stationary ``pi = (1, 1 - p) / (2 - p)``; entropy rate ``pi_E H(p)``. ``p`` must lie in
    (0, 1]: with p = 0 the process is the periodic ...1111... on a single cycle.
    """
    p = _check_prob("p", p, open_low=True)
    T = np.zeros((2, 2, 2))
    T[0, 0, 0] = p
    T[1, 0, 1] = 1.0 - p
    T[1, 1, 0] = 1.0
    return HMM(T, state_names=["E", "O"], token_names=["0", "1"])


def golden_mean(p: float = 0.5) -> HMM:
    """The golden-mean process: no two 1s in a row.

    States ``A, B``; tokens ``0, 1``. In ``A`` emit 1 with probability ``p`` and go to ``B``,
    or emit 0 and stay; ``B`` emits 0 and returns to ``A``. Stationary
    ``pi = (1, p) / (1 + p)``; entropy rate ``pi_A H(p)``; Markov order 1.
    """
    p = _check_prob("p", p, open_high=True)
    T = np.zeros((2, 2, 2))
    T[0, 0, 0] = 1.0 - p
    T[1, 0, 1] = p
    T[0, 1, 0] = 1.0
    return HMM(T, state_names=["A", "B"], token_names=["0", "1"])


_REGISTRY = {
    "z1r": z1r,
    "mess3": mess3,
    "rrxor": rrxor,
    "even_process": even_process,
    "golden_mean": golden_mean,
}


def available() -> list[str]:
    """Names accepted by :func:`get`."""
    return sorted(_REGISTRY)


def get(name: str, **params) -> HMM:
    """Build a process by name, e.g. ``get("mess3", x=0.15, alpha=0.6)``.

    Raises ``ValueError`` listing the valid names for an unknown name, and ``TypeError``
    listing the valid parameters for an unknown keyword.
    """
    key = str(name).lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"unknown process {name!r}; available: {', '.join(available())}")
    factory = _REGISTRY[key]
    valid = list(inspect.signature(factory).parameters)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise TypeError(f"{key}() got unknown parameter(s) {unknown}; valid: {valid}")
    return factory(**params)
