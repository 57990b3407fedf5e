"""Information theory of hidden Markov processes, and fractal dimensions of belief sets.

Units: **nats** unless a function takes ``unit="bits"`` (statistical complexity defaults to
bits, as in the literature). Conventions as in :mod:`beliefcourse.hmm`; words start from the
stationary distribution ``pi``. With ``eta(w)`` the belief after word ``w``:

* block entropy      ``H(L) = -sum_{|w|=L} P(w) ln P(w)``                (``H(0) = 0``)
* myopic entropy     ``h(L) = sum_{|w|=L-1} P(w) H[P(. | eta(w))] = H(L) - H(L-1)``, ``L >= 1``:
  the best cross-entropy for token ``L`` given the ``L - 1`` before it
* entropy rate       ``h_mu = lim h(L) = integral of H[P(. | eta)] over the Blackwell measure``
* excess entropy     ``E = sum_{L>=1} (h(L) - h_mu)``
* state uncertainty  ``U(L) = sum_{|w|=L} P(w) H[eta(w)]``
* statistical complexity ``C_mu = H[causal states]`` (finite MSPs only)

Exact quantities come from enumerating the distribution of beliefs depth by depth (equal
beliefs merged, so finite MSPs stay small). Entropy rates of infinite MSPs are bracketed
between two monotone sequences (Cover & Thomas, Thm 4.5.1) and reported with that error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hmm import HMM, _positive_int, closed_classes
from .msp import (
    DEFAULT_ATOL,
    _belief_keys,
    _check_atol,
    _check_hmm,
    _draw_tokens,
    chaos_game,
)

_LN2 = float(np.log(2.0))
DEFAULT_MAX_SUPPORT = 2_000_000


# ---------------------------------------------------------------------------- helpers
def _unit_factor(unit: str) -> float:
    """Divide a value in nats by this to express it in ``unit``."""
    if unit == "nats":
        return 1.0
    if unit == "bits":
        return _LN2
    raise ValueError(f"unit must be 'nats' or 'bits', got {unit!r}")


def _check_irreducible(hmm: HMM, what: str) -> None:
    """``h_mu`` and ``E`` are limits of one stationary ergodic process: a hidden chain with
    several closed classes is a mixture of processes, whose limits depend on which one runs."""
    classes = closed_classes(hmm.transition_matrix)
    if len(classes) > 1:
        raise ValueError(f"{what} needs an irreducible hidden chain; this one has closed classes "
                         f"{', '.join(str(c.tolist()) for c in classes)} that never reach each "
                         "other (a mixture of processes): compute it for each class's own HMM")


def _entropy_rows(P: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats along the last axis (0 log 0 = 0), no validation."""
    logs = np.log(np.where(P > 0, P, 1.0))
    return -(P * logs).sum(axis=-1)


def entropy(p, unit: str = "nats", axis: int = -1):
    """Shannon entropy ``-sum p log p`` of a probability distribution.

    ``p`` may be a batch; the distribution runs along ``axis``. Returns a float for one
    distribution, else an array of shape ``p.shape`` without ``axis``. Raises ``TypeError``
    for non-numeric input and ``ValueError`` for negative or non-finite entries or entries
    not summing to 1 (within 1e-6).
    """
    arr = np.asarray(p)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"p must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError("p must be real")
    arr = arr.astype(np.float64)
    if arr.ndim == 0 or arr.shape[axis] == 0:
        raise ValueError(f"p must have at least one entry along axis {axis}, got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("p contains NaN or inf")
    if np.any(arr < 0):
        raise ValueError(f"p has a negative entry ({arr.min():.3g}); it must be a "
                         "probability distribution")
    sums = arr.sum(axis=axis)
    if not np.allclose(sums, 1.0, atol=1e-6):
        bad = float(np.ravel(sums)[np.argmax(np.abs(np.ravel(sums) - 1))])
        raise ValueError(f"p must sum to 1 along axis {axis}, got a sum of {bad:.6g}")
    out = _entropy_rows(np.moveaxis(arr, axis, -1)) / _unit_factor(unit)
    return float(out) if np.ndim(out) == 0 else out


def _lengths(values, name: str, minimum: int):
    """Validate an int or an array of ints >= minimum; returns (int64 array, was_scalar)."""
    arr = np.asarray(values)
    if arr.dtype == object or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be an integer or an array of integers, got {values!r}")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            raise TypeError(f"{name} must be integers, got floats; use .astype(int)")
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.min() < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {int(arr.min())}")
    return arr.astype(np.int64).ravel(), arr.ndim == 0


def _merge(beliefs: np.ndarray, weights: np.ndarray, atol: float):
    """Merge equal beliefs (up to atol), summing their weights."""
    if len(weights) <= 1:
        return beliefs, weights
    keys = _belief_keys(beliefs, atol)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=weights, minlength=len(first))
    return beliefs[first], w


def _belief_levels(hmm: HMM, start_beliefs, start_weights, max_depth: int, atol: float,
                   max_support: int, what: str, strict: bool = True):
    """Yield ``(depth, beliefs (N, S), weights (N,))`` for depth 0..max_depth.

    ``weights`` is the probability of holding each belief after ``depth`` tokens when the
    observer starts from the mixture ``start_weights`` over ``start_beliefs``. Equal beliefs
    are merged. If the support would exceed ``max_support``: raise (``strict``) or stop.
    """
    beliefs, weights = _merge(np.asarray(start_beliefs, dtype=np.float64),
                              np.asarray(start_weights, dtype=np.float64), atol)
    X = hmm.n_tokens
    for depth in range(max_depth + 1):
        yield depth, beliefs, weights
        if depth == max_depth:
            return
        if len(weights) * X > max_support:
            if strict:
                raise ValueError(f"{what} needs the belief distribution after {max_depth} "
                                 f"tokens, but at {depth + 1} tokens it already has up to "
                                 f"{len(weights) * X:,} distinct beliefs (max_support="
                                 f"{max_support:,}); ask for shorter lengths or raise "
                                 "max_support")
            return
        parent, _, prob, child = _children_of(beliefs, hmm.T)
        beliefs, weights = _merge(child, weights[parent] * prob, atol)
        keep = weights > 0
        beliefs, weights = beliefs[keep], weights[keep]


def _children_of(beliefs, T):
    from .msp import _children
    return _children(beliefs, T)


def _next_entropy(beliefs: np.ndarray, hmm: HMM) -> np.ndarray:
    """H[P(. | eta)] in nats for each belief, shape (N,)."""
    probs = beliefs @ hmm.T.sum(axis=2).T
    return _entropy_rows(np.clip(probs, 0.0, None))


def _pi_start(hmm: HMM):
    return hmm.stationary()[None, :], np.ones(1)


# ---------------------------------------------------------------------------- entropies
def myopic_entropy(hmm: HMM, L, unit: str = "nats", atol: float = DEFAULT_ATOL,
                   max_support: int = DEFAULT_MAX_SUPPORT):
    """Myopic entropy ``h(L) = H[X_L | X_1 .. X_{L-1}]``: the optimal loss at context ``L-1``.

    Exact: ``h(L) = sum_{|w| = L-1} P(w) H[P(. | eta(w))]``, computed from the distribution of
    beliefs after ``L - 1`` tokens. ``h(1)`` is the entropy of a single token.

    Parameters
    ----------
    hmm : HMM
    L : int or 1-D int array, every value >= 1
    unit : ``"nats"`` (default) or ``"bits"``
    atol : float
        Beliefs closer than this are merged (keeps finite MSPs cheap).
    max_support : int
        Refuse (``ValueError``) to track more distinct beliefs than this.

    Returns
    -------
    float for a scalar ``L``, else float array of ``L``'s shape. Non-increasing in ``L`` up
    to the error of merging beliefs that agree to ``atol`` (use ``atol=1e-15`` for the exact
    sum up to rounding).
    """
    _check_hmm(hmm)
    Ls, scalar = _lengths(L, "L", 1)
    factor = _unit_factor(unit)
    atol = _check_atol(atol)
    max_support = _positive_int(max_support, "max_support")
    need = int(Ls.max()) - 1
    per_depth = np.empty(need + 1)
    b0, w0 = _pi_start(hmm)
    for depth, b, w in _belief_levels(hmm, b0, w0, need, atol, max_support,
                                      f"myopic_entropy(h({need + 1}))"):
        per_depth[depth] = float(w @ _next_entropy(b, hmm))
    out = per_depth[Ls - 1] / factor
    return float(out[0]) if scalar else out


def state_uncertainty(hmm: HMM, lengths, unit: str = "nats", atol: float = DEFAULT_ATOL,
                      max_support: int = DEFAULT_MAX_SUPPORT):
    """Average state uncertainty ``U(L) = sum_{|w| = L} P(w) H[eta(w)]`` (synchronisation).

    ``lengths``: int or 1-D int array, values >= 0 (``U(0) = H[pi]``). Returns a float or an
    array like ``lengths``, in ``unit`` (``"nats"`` default, or ``"bits"``). ``U(L) -> 0``
    means the observer synchronises (Z1R: exactly 0 from L = 3).
    """
    _check_hmm(hmm)
    Ls, scalar = _lengths(lengths, "lengths", 0)
    factor = _unit_factor(unit)
    atol = _check_atol(atol)
    max_support = _positive_int(max_support, "max_support")
    need = int(Ls.max())
    per_depth = np.empty(need + 1)
    b0, w0 = _pi_start(hmm)
    for depth, b, w in _belief_levels(hmm, b0, w0, need, atol, max_support,
                                      "state_uncertainty"):
        per_depth[depth] = float(w @ _entropy_rows(np.clip(b, 0.0, None)))
    out = per_depth[Ls] / factor
    return float(out[0]) if scalar else out


def block_entropy(hmm: HMM, L, unit: str = "nats", max_words: int = 5_000_000):
    """Block entropy ``H(L) = -sum_{|w| = L} P(w) ln P(w)`` over all words of length ``L``.

    Computed by enumerating every positive-probability word (no merging: words with the same
    belief still have different probabilities), so it is an independent check of
    :func:`myopic_entropy` via ``h(L) = H(L) - H(L-1)``. ``L``: int or 1-D int array,
    values >= 0 (``H(0) = 0``). ``ValueError`` if more than ``max_words`` words are needed.
    """
    _check_hmm(hmm)
    Ls, scalar = _lengths(L, "L", 0)
    factor = _unit_factor(unit)
    max_words = _positive_int(max_words, "max_words")
    need = int(Ls.max())
    per_len = np.zeros(need + 1)
    eta = hmm.stationary()[None, :]
    logp = np.zeros(1)
    X = hmm.n_tokens
    for t in range(1, need + 1):
        if len(logp) * X > max_words:
            raise ValueError(f"block_entropy({need}) needs more than {max_words:,} words "
                             f"(already {len(logp) * X:,} candidates at length {t}); use a "
                             "shorter length or raise max_words")
        parent, _, prob, eta = _children_of(eta, hmm.T)
        logp = logp[parent] + np.log(prob)
        per_len[t] = -float(np.exp(logp) @ logp)
    out = per_len[Ls] / factor
    return float(out[0]) if scalar else out


# ---------------------------------------------------------------------------- estimates
class Estimate(float):
    """A float with an error bar: ``value``, ``error`` (absolute, same unit) and ``method``.

    Behaves as the float ``value`` in arithmetic and formatting, so
    ``f"{entropy_rate(hmm):.4f}"`` and ``h - entropy_rate(hmm)`` both work.
    """

    def __new__(cls, value: float, error: float = 0.0, method: str = "", unit: str = "nats"):
        obj = super().__new__(cls, float(value))
        obj.error = float(error)
        obj.method = str(method)
        obj.unit = str(unit)
        return obj

    @property
    def value(self) -> float:
        return float(self)

    def __repr__(self) -> str:
        return (f"Estimate(value={float(self):.10g}, error={self.error:.2g}, "
                f"unit={self.unit!r}, method={self.method!r})")

    def __str__(self) -> str:
        return f"{float(self):.6g} ± {self.error:.2g} {self.unit}"

    def __format__(self, spec: str) -> str:
        return format(float(self), spec)

    def __reduce__(self):
        return (Estimate, (float(self), self.error, self.method, self.unit))


_RATE_CACHE: dict = {}


def _cache_key(hmm: HMM, *args):
    return (hmm.T.shape, hmm.T.tobytes(), args)


def _finite_msp(hmm: HMM, max_states: int, atol: float):
    from .msp import mixed_state_presentation
    m = mixed_state_presentation(hmm, max_states=max_states, atol=atol, warn=False)
    return m if m.complete else None


def _rate_nats(hmm: HMM, tol: float, max_support: int, max_msp_states: int, atol: float,
               n_points: int, seed):
    """(value, error, method, upper h(L) sequence) of the entropy rate in nats."""
    key = _cache_key(hmm, tol, max_support, max_msp_states, atol, n_points, repr(seed))
    if key in _RATE_CACHE:
        return _RATE_CACHE[key]
    m = _finite_msp(hmm, max_msp_states, atol)
    if m is not None:
        p = m.stationary()
        value = float(p @ _next_entropy(m.beliefs, hmm))
        n_rec = int((p > 0).sum())
        result = (value, 0.0, f"exact: finite MSP ({m.n_states} states, {n_rec} recurrent)",
                  None)
    else:
        # Bracket: h(L) from pi decreases to h_mu; H[X_L | X_<L, S_0] increases to it.
        pi = hmm.stationary()
        S = hmm.n_states
        up_gen = _belief_levels(hmm, pi[None, :], np.ones(1), 10_000, atol, max_support,
                                "entropy_rate", strict=False)
        lo_gen = _belief_levels(hmm, np.eye(S), pi, 10_000, atol, max_support,
                                "entropy_rate", strict=False)
        uppers, lowers, lower, upper = [], [], -np.inf, np.inf
        depth = -1
        for (level, bu, wu), (_, bl, wl) in zip(up_gen, lo_gen):
            depth = level
            upper = min(upper, float(wu @ _next_entropy(bu, hmm)))
            lower = max(lower, float(wl @ _next_entropy(bl, hmm)))
            uppers.append(upper)
            lowers.append(lower)
            if upper - lower <= tol:
                break
        lower = min(lower, upper)
        value = 0.5 * (upper + lower)
        # both sequences converge geometrically: extrapolate each (Aitken) and, if the two
        # extrapolations fall inside the bracket, use their mean; the error stays a bound
        ext = [_aitken(seq) for seq in (uppers, lowers)]
        if all(e is not None and lower <= e <= upper for e in ext):
            value = 0.5 * (ext[0] + ext[1])
        error = max(value - lower, upper - value)
        method = (f"exact bracket from belief distributions after {depth} tokens "
                  f"(H[X_L | past, S_0] <= h_mu <= h(L), L = {depth + 1}), "
                  "Aitken-extrapolated; error = distance to the far end of the bracket")
        if error > 1e-4 and n_points > 0:
            # Monte Carlo over the Blackwell measure (chaos game), kept inside the bracket
            n_chains = min(n_points, 1_000)
            cloud = chaos_game(hmm, n_points, seed=seed, n_chains=n_chains)
            g = _next_entropy(cloud, hmm)
            per_chain = g[: (len(g) // n_chains) * n_chains].reshape(-1, n_chains).mean(0)
            se = 2.0 * float(per_chain.std(ddof=1) / np.sqrt(n_chains))
            if se < error:
                value = float(np.clip(g.mean(), lower, upper))
                error = se
                method = (f"Blackwell measure, chaos game ({n_points:,} points; error = 2 "
                          f"standard errors), inside the exact bracket [{lower:.6g}, "
                          f"{upper:.6g}] after {depth} tokens")
        result = (value, error, method, np.array(uppers))
    if len(_RATE_CACHE) > 64:
        _RATE_CACHE.clear()
    _RATE_CACHE[key] = result
    return result


def _aitken(seq):
    """Aitken's delta-squared extrapolation of the last three terms, or None."""
    if len(seq) < 3:
        return None
    a, b, c = seq[-3:]
    d1, d2 = b - a, c - b
    if d1 == 0 or d2 == 0 or not 0 < d2 / d1 < 1:
        return None
    return c - d2 * d2 / (d2 - d1)


def entropy_rate(hmm: HMM, unit: str = "nats", tol: float = 1e-10,
                 max_support: int = 300_000, max_msp_states: int = 2_000,
                 atol: float = DEFAULT_ATOL, n_points: int = 400_000, seed=0) -> Estimate:
    """Entropy rate ``h_mu = lim h(L)``, the irreducible randomness per token.

    * **Finite MSP** (Z1R, RRXOR, even, golden mean): exact,
      ``h_mu = sum_k p_k H[P(. | eta_k)]`` over the MSP's stationary distribution ``p``;
      ``error = 0``.
    * **Infinite MSP** (Mess3): ``h_mu`` is the integral of ``H[P(. | eta)]`` over the
      Blackwell measure. Two exact sequences bracket it: ``h(L)`` (beliefs started at
      ``pi``) decreases to ``h_mu`` and ``H[X_L | X_<L, S_0]`` (started at the hidden
      states) increases to it. Depth grows until the bracket is narrower than ``tol`` or
      the belief support passes ``max_support``. The value is the mean of the two
      sequences' Aitken extrapolations (or the midpoint), and ``error`` its distance to the
      far end of the bracket: a guaranteed bound. If that is still above 1e-4, a chaos-game average
      over ``n_points`` Blackwell samples replaces it when its error (2 standard errors) is
      smaller.

    Returns an :class:`Estimate` (a float with ``.value``, ``.error``, ``.method``).
    Results are cached per transition tensor. A reducible hidden chain (several closed
    classes: a mixture of processes) raises ``ValueError``.
    """
    _check_hmm(hmm)
    _check_irreducible(hmm, "entropy_rate")
    factor = _unit_factor(unit)
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    max_support = _positive_int(max_support, "max_support")
    max_msp_states = _positive_int(max_msp_states, "max_msp_states")
    n_points = _positive_int(n_points, "n_points", allow_zero=True)
    atol = _check_atol(atol)
    value, error, method, _ = _rate_nats(hmm, float(tol), max_support, max_msp_states, atol,
                                         n_points, seed)
    return Estimate(value / factor, error / factor, method, unit)


def excess_entropy(hmm: HMM, unit: str = "nats", tol: float = 1e-12,
                   max_length: int = 100_000, atol: float = DEFAULT_ATOL,
                   max_support: int = 300_000) -> Estimate:
    """Excess entropy ``E = sum_{L >= 1} (h(L) - h_mu) = I[past; future]``.

    Finite MSP: the terms ``h(L) = p_{L-1} . g`` are iterated on the MSP (``p_n`` its state
    distribution after ``n`` tokens, ``g`` the next-token entropies) until they fall below
    ``tol`` (or ``max_length`` terms); exact to that tolerance. Otherwise the terms come from
    exact belief distributions up to the depth :func:`entropy_rate` reached, plus a geometric
    tail; the error adds the tail and ``L`` times the entropy rate's error.
    Z1R: ``log2 3`` bits; RRXOR: ``H[pi] = 2.2516`` bits. Returns an :class:`Estimate`.
    """
    _check_hmm(hmm)
    _check_irreducible(hmm, "excess_entropy")
    factor = _unit_factor(unit)
    max_length = _positive_int(max_length, "max_length")
    atol = _check_atol(atol)
    m = _finite_msp(hmm, 2_000, atol)
    if m is not None:
        h_mu = float(m.stationary() @ _next_entropy(m.beliefs, hmm))
        g = _next_entropy(m.beliefs, hmm)
        P = m.T.sum(axis=0)
        p = m.start
        total, n = 0.0, 0
        gap = np.inf
        while n < max_length:
            gap = float(p @ g) - h_mu
            total += gap
            n += 1
            if abs(gap) < tol and n > m.max_depth + 1:
                break
            p = p @ P
        err = abs(gap) * 10 if n >= max_length else 0.0
        return Estimate(total / factor, err / factor,
                        f"finite MSP: sum of h(L) - h_mu for L = 1..{n}", unit)
    rate = entropy_rate(hmm, max_support=max_support, atol=atol)
    _, _, _, uppers = _rate_nats(hmm, 1e-10, max_support, 2_000, atol, 400_000, 0)
    gaps = np.asarray(uppers) - float(rate)
    total = float(gaps.sum())
    tail = 0.0
    if len(gaps) >= 2 and gaps[-2] > 0 and 0 < gaps[-1] < gaps[-2]:
        r = gaps[-1] / gaps[-2]
        tail = gaps[-1] * r / (1 - r)
    error = abs(tail) + len(gaps) * rate.error
    return Estimate((total + tail) / factor, error / factor,
                    f"sum of exact h(L) - h_mu for L = 1..{len(gaps)} plus a geometric tail",
                    unit)


def _minimal_classes(T: np.ndarray, next_probs: np.ndarray, decimals: int = 9) -> np.ndarray:
    """Merge states of a unifilar machine that predict the same future (Moore refinement).

    ``T``: (X, K, K) with at most one target per (token, state). Returns class labels (K,).
    """
    X, K, _ = T.shape
    succ = np.full((K, X), -1, dtype=np.int64)
    for x in range(X):
        has = T[x].sum(axis=1) > 0
        succ[has, x] = np.argmax(T[x][has], axis=1)
    _, label = np.unique(np.round(next_probs, decimals), axis=0, return_inverse=True)
    label = label.ravel()
    while True:
        sig = np.concatenate([label[:, None],
                              np.where(succ >= 0, label[np.maximum(succ, 0)], -1)], axis=1)
        _, new = np.unique(sig, axis=0, return_inverse=True)
        new = new.ravel()
        if new.max() == label.max():
            return new
        label = new


def statistical_complexity(hmm: HMM, unit: str = "bits", max_states: int = 2_000,
                           atol: float = DEFAULT_ATOL) -> float:
    """Statistical complexity ``C_mu = H[causal states]``, in **bits** by default.

    The causal states are the recurrent MSP states, with states that predict identical
    futures merged (so a non-minimal HMM gives the same ``C_mu`` as its minimal one);
    ``C_mu`` is the entropy of their stationary distribution. Z1R: ``log2 3``; RRXOR:
    2.2516 bits. Raises ``ValueError`` when the MSP does not close within ``max_states``
    (e.g. Mess3, whose ``C_mu`` is infinite: use :func:`information_dimension` instead).
    """
    _check_hmm(hmm)
    factor = _unit_factor(unit)
    max_states = _positive_int(max_states, "max_states")
    atol = _check_atol(atol)
    m = _finite_msp(hmm, max_states, atol)
    if m is None:
        raise ValueError(f"the mixed-state presentation did not close within {max_states:,} "
                         "states, so C_mu is infinite or out of reach (non-unifilar processes "
                         "such as Mess3 have infinitely many recurrent beliefs). Measure the "
                         "belief set with information_dimension or lyapunov_dimension, or "
                         "raise max_states")
    rec = m.recurrent()
    labels = _minimal_classes(rec.T, rec.beliefs @ hmm.T.sum(axis=2).T)
    weights = np.bincount(labels, weights=rec.weights)
    return float(_entropy_rows(weights) / factor)


# ---------------------------------------------------------------------------- dimensions
@dataclass(frozen=True, eq=False)
class DimensionFit:
    """A straight-line fit ``values ~ intercept + slope * ln(1/epsilons)``.

    Attributes
    ----------
    slope : float
        The dimension estimate.
    intercept : float
    epsilons : float array (n,)
        Box sizes, in the points' units (decreasing).
    values : float array (n,)
        ``ln N(eps)`` (box counting) or ``H_eps`` in nats (information dimension).
    fit_mask : bool array (n,)
        The box sizes used in the fit.
    kind : str
    """

    slope: float
    intercept: float
    epsilons: np.ndarray
    values: np.ndarray
    fit_mask: np.ndarray
    kind: str

    def __float__(self) -> float:
        return float(self.slope)

    def __format__(self, spec: str) -> str:
        return format(float(self.slope), spec)

    def __repr__(self) -> str:
        eps = self.epsilons[self.fit_mask]
        return (f"DimensionFit({self.kind}: slope={self.slope:.4f}, fitted over "
                f"eps in [{eps.min():.3g}, {eps.max():.3g}], {int(self.fit_mask.sum())} of "
                f"{len(self.epsilons)} box sizes)")


def _check_points(points) -> np.ndarray:
    arr = np.asarray(points)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)):
        raise TypeError(f"points must be a numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or not 1 <= arr.shape[1] <= 3:
        raise ValueError("points must have shape (n_points, d) with d = 1, 2 or 3 (e.g. "
                         "plotting.simplex_coordinates(beliefs)); got shape "
                         f"{np.shape(points)}")
    if len(arr) < 10:
        raise ValueError(f"need at least 10 points to estimate a dimension, got {len(arr)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("points contain NaN or inf")
    if np.ptp(arr, axis=0).max() <= 0:
        raise ValueError("all points are identical: the dimension is 0 and no box sizes "
                         "can be chosen")
    return arr


def _spread_bits(v: np.ndarray, d: int, bits: int) -> np.ndarray:
    out = np.zeros_like(v)
    for b in range(bits):
        out |= ((v >> b) & 1) << (d * b)
    return out


def _box_stats(points: np.ndarray, epsilons, min_occupancy: float, fit_range):
    """Box counts and entropies on a dyadic grid (or given box sizes)."""
    n, d = points.shape
    lo = points.min(axis=0)
    extent = float(np.ptp(points, axis=0).max())
    if epsilons is None:
        bits = min(20, 62 // d)
        u = (points - lo) / extent
        idx = np.minimum((u * 2 ** bits).astype(np.int64), 2 ** bits - 1)
        code = np.zeros(n, dtype=np.int64)
        for k in range(d):
            code |= _spread_bits(idx[:, k], d, bits) << k
        code.sort()
        levels = np.arange(0, bits + 1)
        eps = extent * 2.0 ** -levels
        counts, ents = [], []
        for level in levels:
            c = code >> (d * (bits - level))
            starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            occ = np.diff(np.r_[starts, n]) / n
            counts.append(len(starts))
            ents.append(float(-(occ * np.log(occ)).sum()))
            if len(starts) == n and level >= 4:       # every point alone: finer adds nothing
                eps = eps[: len(counts)]
                break
    else:
        eps = np.asarray(epsilons, dtype=np.float64)
        if eps.ndim != 1 or len(eps) < 2 or not np.all(np.isfinite(eps)) or np.any(eps <= 0):
            raise ValueError("epsilons must be a 1-D array of at least 2 positive box sizes")
        eps = np.sort(eps)[::-1]
        counts, ents = [], []
        for e in eps:
            keys = np.floor((points - lo) / e).astype(np.int64)
            span = int(keys.max()) + 1
            if span ** d < 2 ** 62:
                flat = keys @ (span ** np.arange(d, dtype=np.int64))
                _, cnt = np.unique(flat, return_counts=True)
            else:
                _, cnt = np.unique(keys, axis=0, return_counts=True)
            occ = cnt / n
            counts.append(len(cnt))
            ents.append(float(-(occ * np.log(occ)).sum()))
    counts = np.asarray(counts, dtype=np.float64)
    if fit_range is not None:
        a, b = sorted(float(v) for v in fit_range)
        mask = (eps >= a * (1 - 1e-12)) & (eps <= b * (1 + 1e-12))
    else:
        mask = (eps <= extent / 8 * (1 + 1e-12)) & (counts * min_occupancy <= n)
    if mask.sum() < 2:
        raise ValueError(f"only {int(mask.sum())} box size(s) in the fitting range: use more "
                         "points, a lower min_occupancy, or an explicit fit_range/epsilons")
    return eps, counts, np.asarray(ents), mask


def _fit(eps, values, mask, kind) -> DimensionFit:
    x = np.log(1.0 / eps)
    slope, intercept = np.polyfit(x[mask], values[mask], 1)
    return DimensionFit(float(slope), float(intercept), eps, values, mask, kind)


def box_counting_dimension(points, epsilons=None, fit_range=None,
                           min_occupancy: float = 10.0) -> DimensionFit:
    """Box-counting (capacity) dimension ``D0`` of a point cloud.

    Counts occupied boxes ``N(eps)`` on dyadic grids (``eps = extent * 2**-k``, the grid
    anchored at the cloud's lower corner) and fits ``ln N`` against ``ln(1/eps)``.

    Parameters
    ----------
    points : float array, shape (n_points, d), d in {1, 2, 3}
        E.g. ``plotting.simplex_coordinates(beliefs)`` for 3-state beliefs.
    epsilons : 1-D array, optional
        Box sizes to use instead of the dyadic ones.
    fit_range : (eps_min, eps_max), optional
        Box sizes to fit. Default: ``eps <= extent / 8`` (the coarsest grids mostly see the
        set's outline) and ``N(eps) <= n / min_occupancy`` (stop before a finite cloud
        saturates, when boxes hold a point or two). Finite ranges bias slopes: a filled
        triangle has ``N ~ A / eps**2 + c P / eps`` and reads about 1.9 at 10^5 points.

    Returns a :class:`DimensionFit` (``.slope`` is the estimate).
    """
    pts = _check_points(points)
    eps, counts, _, mask = _box_stats(pts, epsilons, float(min_occupancy), fit_range)
    return _fit(eps, np.log(counts), mask, "box-counting dimension")


def information_dimension(points, epsilons=None, fit_range=None,
                          min_occupancy: float = 10.0) -> DimensionFit:
    """Information dimension ``D1``: slope of the box entropy ``H_eps`` vs ``ln(1/eps)``.

    ``H_eps = -sum_i p_i ln p_i`` (nats) with ``p_i`` the fraction of points in box ``i``;
    boxes are weighted by how often they are visited, so rarely visited threads count
    little (``D1 <= D0``). Same parameters as :func:`box_counting_dimension`.
    """
    pts = _check_points(points)
    eps, _, ents, mask = _box_stats(pts, epsilons, float(min_occupancy), fit_range)
    return _fit(eps, ents, mask, "information dimension")


def _lyapunov_run(hmm: HMM, n_steps: int, seed, n_chains: int, burn_in: int):
    S = hmm.n_states
    k = S - 1
    rng = np.random.default_rng(seed)
    T = hmm.T
    emit = T.sum(axis=2).T
    steps = -(-n_steps // n_chains)
    eta = hmm._prior(hmm.stationary(), n_chains)
    # orthonormal basis of the tangent space {v : sum v = 0}, rows
    basis = np.linalg.qr(np.eye(S)[:, :k] - 1.0 / S)[0].T        # (k, S)
    V = np.broadcast_to(basis, (n_chains, k, S)).copy()
    sums = np.zeros((n_chains, k))
    for step in range(burn_in + steps):
        tok = _draw_tokens(eta @ emit, rng)
        M = T[tok]                                                 # (n, S, S)
        unnorm = np.einsum("ni,nij->nj", eta, M)
        z = unnorm.sum(axis=1)
        new_eta = unnorm / z[:, None]
        VM = np.einsum("nks,nsj->nkj", V, M)
        V = (VM - VM.sum(axis=2, keepdims=True) * new_eta[:, None, :]) / z[:, None, None]
        eta = new_eta
        logs = np.empty((n_chains, k))
        for a in range(k):                                         # Gram-Schmidt
            for b in range(a):
                V[:, a] -= np.einsum("ns,ns->n", V[:, a], V[:, b])[:, None] * V[:, b]
            norm = np.linalg.norm(V[:, a], axis=1)
            dead = norm <= 1e-300
            with np.errstate(divide="ignore"):
                logs[:, a] = np.log(norm)
            if dead.any():                      # the map collapsed this direction: restart it
                V[dead, a] = basis[a]
                for b in range(a):
                    V[dead, a] -= np.einsum("ns,ns->n", V[dead, a], V[dead, b])[:, None] \
                        * V[dead, b]
                norm = np.where(dead, np.linalg.norm(V[:, a], axis=1), norm)
            V[:, a] /= np.maximum(norm, 1e-300)[:, None]
        if step >= burn_in:
            sums += logs
    per_chain = sums / steps
    return per_chain


def lyapunov_exponents(hmm: HMM, n_steps: int = 100_000, seed=0, n_chains: int = 100,
                       burn_in: int = 100, return_error: bool = False):
    """Lyapunov exponents of the belief maps ``f_x`` along the chaos game, in nats per token.

    The tangent dynamics of ``f_x(eta) = eta M / (eta M 1)`` (``M = T[x]``) on the simplex
    are ``v -> (v M - (v M 1) f_x(eta)) / (eta M 1)`` for ``v`` summing to 0. ``n_chains``
    observers run ``n_steps / n_chains`` steps each after ``burn_in``, re-orthonormalising
    ``n_states - 1`` tangent vectors every step (QR / Gram-Schmidt) and averaging the logs
    of the stretch factors.

    Returns a float array of shape ``(n_states - 1,)`` sorted in decreasing order
    (``lambda_1 >= lambda_2 ...``, all <= 0 for belief maps; ``-inf`` where a map collapses a
    direction, as for synchronising processes). With ``return_error=True`` also returns the
    standard errors over chains. Mess3(0.05, 0.85): about ``(-1.52, -1.76)``.
    """
    _check_hmm(hmm)
    if hmm.n_states < 2:
        raise ValueError("Lyapunov exponents need at least 2 hidden states (the simplex of "
                         "a 1-state HMM is a point)")
    n_steps = _positive_int(n_steps, "n_steps")
    n_chains = min(_positive_int(n_chains, "n_chains"), n_steps)
    burn_in = _positive_int(burn_in, "burn_in", allow_zero=True)
    per_chain = _lyapunov_run(hmm, n_steps, seed, n_chains, burn_in)
    with np.errstate(invalid="ignore"):
        lam = per_chain.mean(axis=0)
        order = np.argsort(-lam)
        lam = lam[order]
        if n_chains > 1:
            err = per_chain.std(axis=0, ddof=1)[order] / np.sqrt(n_chains)
        else:
            err = np.full_like(lam, np.inf)
    err = np.where(np.isfinite(lam), err, 0.0)
    return (lam, err) if return_error else lam


def lyapunov_dimension(hmm: HMM, n_steps: int = 100_000, seed=0, n_chains: int = 100,
                       burn_in: int = 100) -> float:
    """Lyapunov (Kaplan-Yorke-type) dimension of the belief set, with ``h_mu`` as the
    expansion: ``d = k + (h_mu + lambda_1 + ... + lambda_k) / |lambda_{k+1}|``, ``k`` the
    largest index with ``h_mu + lambda_1 + ... + lambda_k >= 0`` (capped at
    ``n_states - 1``). For ``h_mu <= |lambda_1|`` this is ``h_mu / |lambda_1|``. Estimates
    the information dimension of the Blackwell measure (Jurgens & Crutchfield 2021);
    Mess3(0.05, 0.85): about 0.52. A finite MSP (a synchronising process, or Mess3 with
    alpha = 1/3 where all maps coincide) gives 0. The formula ignores overlaps between the
    maps' images (the "ambiguity rate"), so it can overestimate when they overlap.
    """
    lam = lyapunov_exponents(hmm, n_steps=n_steps, seed=seed, n_chains=n_chains,
                             burn_in=burn_in)
    if _finite_msp(hmm, 2_000, DEFAULT_ATOL) is not None:
        return 0.0              # finitely many beliefs (e.g. alpha = 1/3: all maps coincide)
    return kaplan_yorke(float(entropy_rate(hmm)), lam)


def kaplan_yorke(h_mu: float, exponents) -> float:
    """The Kaplan-Yorke formula :func:`lyapunov_dimension` applies, for any ``h_mu`` (nats)
    and exponents sorted in decreasing order: ``d = k + (h_mu + lambda_1 + ... +
    lambda_k) / |lambda_{k+1}|`` with ``k`` the largest index where the partial sum stays
    ``>= 0``, capped at the number of exponents (an exponent of ``-inf`` gives ``k``).
    Chapter 03's widget passes an ``h_mu`` of looser tolerance than
    :func:`lyapunov_dimension` computes."""
    total = float(h_mu)
    for k, value in enumerate(exponents):
        if total + value < 0:
            return float(k) if not np.isfinite(value) else float(k + total / abs(value))
        total += value
    return float(len(exponents))
