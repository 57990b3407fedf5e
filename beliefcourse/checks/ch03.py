"""Checkers for practice notebook 03 (the mixed-state presentation and its fractals).

Same design as :mod:`beliefcourse.checks.ch01`: each checker runs the learner's function on the
course's processes (Z1R, RRXOR, Mess3, even and golden-mean processes), hand-made edge cases
and seeded random machines, compares with a reference computed here, and when they disagree
recomputes what each typical mistake would return to name the one that matches.

| checker | learner function |
|---|---|
| :func:`check_msp` | ``build_msp(T, pi, max_depth, atol) -> (beliefs, successors)`` |
| :func:`check_recurrent` | ``recurrent_states(successors) -> bool mask`` |
| :func:`check_msp_entropy_rate` | ``msp_entropy_rate(T, beliefs, successors) -> nats`` |
| :func:`check_chaos_game` | ``chaos_game(T, pi, n_points, seed, burn_in) -> (n, S)`` |
| :func:`check_box_counting` | ``box_counting_dimension(points, epsilons) -> slope`` |
| :func:`check_next_token_classes` | ``next_token_classes(beliefs, T, atol) -> labels`` |
| :func:`check_distinguishing_word` | ``shortest_distinguishing_word(eta1, eta2, T, ...)`` |

An MSP is two arrays: ``beliefs`` (K, S) with row 0 the start belief, and ``successors``
(K, X) of ints, ``-1`` where a token is impossible or a state was left unexpanded at
``max_depth``. The references below are small, exact implementations of the same
specification; :mod:`beliefcourse.msp` is the package's fast version.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
import time
from collections import deque

import numpy as np

from .. import processes
from ..hmm import HMM
from ._core import Mistake, as_array, as_float, fmt, magnitude, run

__all__ = [
    "check_box_counting",
    "check_chaos_game",
    "check_distinguishing_word",
    "check_msp",
    "check_msp_entropy_rate",
    "check_next_token_classes",
    "check_recurrent",
]

LN2 = float(np.log(2.0))
MATCH_ATOL = 1e-7          # how close a learner's belief must be to a reference belief


# ---------------------------------------------------------------------------- references
def reference_msp(T, pi, max_depth=20, atol=1e-9, *, dedup="tol", normalise=True,
                  column=False):
    """Breadth-first MSP as specified in Exercise 3.1; keyword switches produce the variants
    that typical mistakes give (``dedup="exact"`` / ``"none"``, no normalisation, the column
    convention). Returns ``(beliefs, successors, depths)``."""
    T = np.asarray(T, dtype=float)
    X = T.shape[0]
    beliefs = [np.asarray(pi, dtype=float)]
    depths = [0]
    successors = [[-1] * X]
    index = {}
    if dedup == "exact":
        index[beliefs[0].tobytes()] = 0
    queue = deque([0])
    while queue:
        k = queue.popleft()
        if depths[k] >= max_depth:
            continue
        for x in range(X):
            joint = T[x] @ beliefs[k] if column else beliefs[k] @ T[x]
            p = joint.sum()
            if p <= 0:
                continue
            child = joint / p if normalise else joint
            j = None
            if dedup == "tol":
                hits = np.flatnonzero(np.all(np.abs(np.array(beliefs) - child) <= atol, axis=1))
                j = int(hits[0]) if len(hits) else None
            elif dedup == "exact":
                j = index.get(child.tobytes())
            if j is None:
                beliefs.append(child)
                depths.append(depths[k] + 1)
                successors.append([-1] * X)
                j = len(beliefs) - 1
                if dedup == "exact":
                    index[child.tobytes()] = j
                queue.append(j)
            successors[k][x] = j
    return np.array(beliefs), np.array(successors, dtype=int), np.array(depths)


def reference_recurrent(successors):
    """True for states k such that every state reachable from k reaches k back."""
    succ = np.asarray(successors)
    reach = _reachability(succ)
    return np.array([bool(np.all(reach[reach[k], k])) for k in range(len(succ))])


def _reachability(succ):
    K = len(succ)
    reach = np.eye(K, dtype=bool)
    for k in range(K):
        stack = [k]
        while stack:
            i = stack.pop()
            for j in succ[i]:
                if j >= 0 and not reach[k, j]:
                    reach[k, j] = True
                    stack.append(int(j))
    return reach


def _entropy(q, base=np.e):
    q = np.asarray(q, dtype=float)
    q = q[q > 0]
    return float(-(q * np.log(q)).sum() / np.log(base))


def _msp_chain(T, beliefs, successors):
    """The MSP's transition matrix W and its stationary distribution p."""
    next_token = np.einsum("ki,xij->kx", beliefs, T)
    K = len(beliefs)
    W = np.zeros((K, K))
    for k in range(K):
        for x, j in enumerate(successors[k]):
            if j >= 0:
                W[k, j] += next_token[k, x]
    A = np.vstack([W.T - np.eye(K), np.ones((1, K))])
    b = np.zeros(K + 1)
    b[-1] = 1.0
    p, *_ = np.linalg.lstsq(A, b, rcond=None)
    return W, np.clip(p, 0, None) / np.clip(p, 0, None).sum()


def reference_entropy_rate(T, beliefs, successors):
    """sum_k p_k H[P(. | eta_k)] in nats, p stationary on the MSP chain."""
    _, p = _msp_chain(T, beliefs, successors)
    next_token = np.einsum("ki,xij->kx", beliefs, T)
    return float(p @ np.array([_entropy(q) for q in next_token]))


def reference_chaos_game(T, pi, n_points, seed=None, burn_in=100):
    """The chaos game of Exercise 3.4 (one chain, tokens drawn from P(x | eta))."""
    rng = np.random.default_rng(seed)
    eta = np.asarray(pi, dtype=float)
    out = np.empty((n_points, len(eta)))
    u = rng.random(burn_in + n_points)
    for t in range(burn_in + n_points):
        probs = np.einsum("i,xij->x", eta, T)
        x = min(int(np.searchsorted(np.cumsum(probs) / probs.sum(), u[t], side="right")),
                len(probs) - 1)
        joint = eta @ T[x]
        eta = joint / joint.sum()
        if t >= burn_in:
            out[t - burn_in] = eta
    return out


def box_counts(points, epsilons, *, flatten=False):
    """N(eps): occupied boxes of the grid floor(points / eps) (or, with ``flatten``, the
    distinct *numbers* in that array — the ``np.unique`` without ``axis=0`` mistake)."""
    points = np.asarray(points, dtype=float)
    out = []
    for eps in epsilons:
        boxes = np.floor(points / eps).astype(np.int64)
        out.append(len(np.unique(boxes)) if flatten else len(np.unique(boxes, axis=0)))
    return np.array(out, dtype=float)


def reference_box_dimension(points, epsilons):
    """Least-squares slope of log N(eps) against log(1/eps)."""
    eps = np.asarray(epsilons, dtype=float)
    return float(np.polyfit(np.log(1 / eps), np.log(box_counts(points, eps)), 1)[0])


def word_probability(eta, T, word):
    """P(w | eta) = eta T^(w_1) ... T^(w_L) 1."""
    v = np.asarray(eta, dtype=float)
    for x in word:
        v = v @ T[x]
    return float(v.sum())


def reference_distinguishing_length(eta1, eta2, T, max_length=6, atol=1e-9):
    """Length of the shortest distinguishing word, or None."""
    for L in range(1, max_length + 1):
        for w in itertools.product(range(T.shape[0]), repeat=L):
            if abs(word_probability(eta1, T, w) - word_probability(eta2, T, w)) > atol:
                return L
    return None


def _partition(labels):
    """Canonical form of a labelling: same[i, j] = labels[i] == labels[j]."""
    labels = np.asarray(labels)
    return labels[:, None] == labels[None, :]


def _group(vectors, atol, exact=False):
    """Labels grouping rows of ``vectors`` that agree within atol (or exactly)."""
    labels = np.empty(len(vectors), dtype=int)
    reps = []
    for k, v in enumerate(vectors):
        for label, r in enumerate(reps):
            if (np.array_equal(v, r) if exact else np.allclose(v, r, rtol=0, atol=atol)):
                labels[k] = label
                break
        else:
            labels[k] = len(reps)
            reps.append(v)
    return labels


# ---------------------------------------------------------------------------- test machines
def random_unifilar_hmm(rng, n_states, n_tokens, p_edge=0.6):
    """A random unifilar HMM: from each state each token leads to at most one next state.

    A cycle 0 -> 1 -> ... -> 0 on random tokens keeps it irreducible."""
    T = np.zeros((n_tokens, n_states, n_states))
    for i in range(n_states):
        forced = int(rng.integers(n_tokens))
        for x in range(n_tokens):
            if x == forced:
                T[x, i, (i + 1) % n_states] = rng.uniform(0.2, 1.0)
            elif rng.random() < p_edge:
                T[x, i, int(rng.integers(n_states))] = rng.uniform(0.2, 1.0)
        T[:, i, :] /= T[:, i, :].sum()
    return HMM(T)


def finite_msp_cases(seed, n_random):
    """(name, hmm, pi) whose MSP (from pi) is finite and complete within depth 12."""
    cases = [
        ("Z1R", processes.z1r(), None),
        ("Z1R (p = 0.3)", processes.z1r(0.3), None),
        ("RRXOR", processes.rrxor(), None),
        ("the even process (p = 0.3)", processes.even_process(0.3), None),
        ("the golden-mean process (p = 0.3)", processes.golden_mean(0.3), None),
        ("Z1R started certain of S0", processes.z1r(), np.array([1.0, 0.0, 0.0])),
    ]
    rng = np.random.default_rng(seed)
    found = 0
    while found < n_random:
        hmm = random_unifilar_hmm(rng, int(rng.integers(3, 6)), int(rng.integers(2, 4)))
        _, _, depths = reference_msp(hmm.T, hmm.stationary(), max_depth=12)
        if depths.max() < 10 and 5 <= len(depths) <= 60:
            found += 1
            cases.append((f"random unifilar HMM {found} ({hmm.n_states} states, "
                          f"{hmm.n_tokens} tokens)", hmm, None))
    return [(name, hmm, hmm.stationary() if pi is None else pi) for name, hmm, pi in cases]


# ---------------------------------------------------------------------------- time limit
#: Seconds a learner's ``build_msp`` (one call) may run before the checker gives up.
BUILD_TIME_LIMIT = 20.0
#: Seconds a learner's ``chaos_game`` (one call) may run.
CHAOS_TIME_LIMIT = 30.0


class _OutOfTime(BaseException):
    """Raised by the alarm handler inside the learner's code.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that a learner's ``except
    Exception:`` cannot swallow it; :func:`_time_limit` turns it into a :class:`Mistake`."""


def _alarm_available() -> bool:
    """True where ``SIGALRM`` can interrupt this code: POSIX, the main thread, and no other
    real-time interval timer running (pytest-timeout's signal method, an enclosing
    ``_time_limit``) — we never cancel a timer we did not start."""
    if not hasattr(signal, "SIGALRM") or not hasattr(signal, "setitimer"):
        return False                                        # Windows
    if threading.current_thread() is not threading.main_thread():
        return False                                        # signals go to the main thread
    try:
        return signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    except (OSError, ValueError):  # pragma: no cover - exotic platforms
        return False


@contextlib.contextmanager
def _time_limit(seconds, message):
    """Raise :class:`Mistake` with ``message`` if the block runs longer than ``seconds``.

    In the main thread on POSIX (a Jupyter kernel runs cells there, and so do pytest and
    pytest-xdist's workers) a ``SIGALRM`` interval timer interrupts the block, so even an
    endless loop ends with a verdict. Where signals cannot be used (Windows, a worker thread,
    another timer already running) the block runs to its end and is judged on the time it
    took: the same verdict for a slow function, no protection against an endless one. The
    previous ``SIGALRM`` handler is always restored.
    """
    start = time.perf_counter()
    previous = None
    armed = False
    inside = [True]          # the handler only interrupts the block, never the clean-up

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


# ---------------------------------------------------------------------------- 3.1 MSP
def _call_build(fn, T, pi, max_depth, name):
    limit = BUILD_TIME_LIMIT
    with _time_limit(limit, f"For {name} with max_depth = {max_depth} your function ran for "
                            f"more than {limit:g} seconds. Does the search stop at max_depth "
                            "(expand only states at depth < max_depth), and does it "
                            "de-duplicate, so that a finite MSP runs dry?"):
        out = fn(T.copy(), pi.copy(), max_depth=max_depth, atol=1e-9)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"For {name} your function returned {type(out).__name__}; return a "
                      "pair `(beliefs, successors)`.")
    beliefs = as_array(out[0], f"beliefs for {name}").astype(float)
    successors = as_array(out[1], f"successors for {name}")
    return beliefs, successors


def _match(got, ref):
    """For each learner row, the index of the reference row within MATCH_ATOL, or -1."""
    d = np.abs(got[:, None, :] - ref[None, :, :]).max(axis=2)
    idx = np.argmin(d, axis=1)
    return np.where(d[np.arange(len(got)), idx] <= MATCH_ATOL, idx, -1)


def _check_one_msp(fn, name, hmm, pi, max_depth):
    T = hmm.T
    X, S = T.shape[0], T.shape[1]
    ref_b, ref_s, ref_d = reference_msp(T, pi, max_depth)
    got_b, got_s = _call_build(fn, T, pi, max_depth, name)
    K = len(ref_b)
    if got_b.ndim != 2 or got_b.shape[1] != S:
        raise Mistake(f"For {name} `beliefs` should have shape (K, {S}) — one row per MSP "
                      f"state — got {got_b.shape}.")
    if got_s.shape != (len(got_b), X):
        raise Mistake(f"For {name} `successors` should have shape (K, {X}) = "
                      f"({len(got_b)}, {X}) — one row per belief, one column per token — "
                      f"got {got_s.shape}.")
    if not np.all(np.isfinite(got_b)):
        raise Mistake(f"For {name} some beliefs contain NaN or inf: you created a child for "
                      "a token of probability zero (0 / 0). When eta T^(x) 1 = 0 the token is "
                      "impossible: create no child and leave successors[k, x] = -1.")
    if not np.allclose(got_b[0], pi, atol=1e-9):
        raise Mistake(f"For {name} row 0 of `beliefs` should be the start belief pi = "
                      f"{fmt(pi)}, got {fmt(got_b[0])}.")
    sums = got_b.sum(axis=1)
    if not np.allclose(sums, 1, atol=1e-6):
        k = int(np.argmax(np.abs(sums - 1)))
        if np.any(np.all(np.abs(got_b) <= 1e-12, axis=1)):
            raise Mistake(f"For {name} some beliefs are all zeros: children of impossible "
                          "tokens. When eta T^(x) 1 = 0, create no child and set "
                          "successors[k, x] = -1.")
        raise Mistake(f"For {name} belief {k} sums to {sums[k]:.4g}, not 1 ({fmt(got_b[k])}): "
                      "you forgot to normalise. The child is eta T^(x) divided by its sum "
                      "P(x | eta) = eta T^(x) 1.")
    m = _match(got_b, ref_b)
    if np.any(m < 0):
        k = int(np.flatnonzero(m < 0)[0])
        col, _, _ = reference_msp(T, pi, max_depth, column=True)
        if len(_match(got_b, col)) and np.all(_match(got_b, col) >= 0):
            raise Mistake(f"For {name} your beliefs are those of `T[x] @ eta` (the column "
                          "convention). Rows of T[x] are the current state: the child is "
                          "`eta @ T[x]`, normalised.")
        raise Mistake(f"For {name} belief {k} of yours, {fmt(got_b[k])}, is not reachable "
                      "from pi by Bayes updates. Each child must be eta T^(x) / (eta T^(x) 1) "
                      "for a parent eta already in the list.")
    if len(got_b) > K:
        tree, _, _ = reference_msp(T, pi, max_depth, dedup="none")
        exact, _, _ = reference_msp(T, pi, max_depth, dedup="exact")
        if len(got_b) == len(tree) and len(tree) != len(exact):
            raise Mistake(f"For {name} you returned {len(got_b)} beliefs but there are only "
                          f"{K} distinct ones: {len(got_b)} is the number of possible words "
                          f"of length <= {max_depth}, one node per word. You did not "
                          "de-duplicate: before appending a child, look for an equal belief "
                          "already in the list and point to it instead.")
        if len(got_b) == len(exact):
            raise Mistake(f"For {name} you returned {len(got_b)} beliefs but only {K} are "
                          "distinct: beliefs reached along different paths agree to about "
                          "1e-16 but are not bit-for-bit equal, so `==` (or a dict of raw "
                          "tuples) keeps both. Compare with a tolerance: all entries within "
                          "atol (np.allclose(..., rtol=0, atol=atol)).")
        dup = [int(i) for i in np.flatnonzero(np.bincount(m, minlength=K) > 1)]
        rows = np.flatnonzero(m == dup[0])[:2]
        raise Mistake(f"For {name} you returned {len(got_b)} beliefs but only {K} are "
                      f"distinct: rows {rows[0]} and {rows[1]} are the same belief "
                      f"{fmt(ref_b[dup[0]])}. De-duplicate with a tolerance (all entries "
                      "within atol).")
    if len(got_b) < K or len(set(m.tolist())) < K:
        for depth in (max_depth - 1, max_depth + 1):
            alt, _, _ = reference_msp(T, pi, depth)
            if len(alt) == len(got_b) and np.all(_match(got_b, alt) >= 0):
                raise Mistake(f"For {name} with max_depth = {max_depth} you returned the "
                              f"MSP for max_depth = {depth}. Expand exactly the states at "
                              "depth < max_depth (pi has depth 0, its children depth 1, ...).")
        if len(set(m.tolist())) < len(got_b):
            raise Mistake(f"For {name} you merged beliefs that differ: two of your rows "
                          "match the same reference belief. Compare every entry, with the "
                          "tolerance atol.")
        missing = sorted(set(range(K)) - set(m.tolist()))
        raise Mistake(f"For {name} you found {len(got_b)} beliefs; there are {K}. For example "
                      f"{fmt(ref_b[missing[0]])} (reached with {ref_d[missing[0]]} tokens) is "
                      "missing. Did you merge distinct beliefs (tolerance too loose, or "
                      "comparing only part of the vector), or stop the search early?")
    # same states: now the edges
    probs = np.einsum("ki,xij->kx", got_b, T)
    for k in range(len(got_b)):
        for x in range(X):
            want = ref_s[m[k], x]
            have = int(got_s[k, x])
            if probs[k, x] <= 0 and have != -1:
                raise Mistake(f"For {name}, from belief {fmt(got_b[k])} token {x} is "
                              f"impossible (P = 0), but successors[{k}, {x}] = {have}. Use "
                              "-1 for impossible tokens.")
            if want == -1 and have != -1:
                raise Mistake(f"For {name}, belief {fmt(got_b[k])} is reached with "
                              f"{ref_d[m[k]]} = max_depth tokens and must not be expanded, "
                              f"but successors[{k}, {x}] = {have}.")
            if want >= 0 and (have < 0 or have >= len(got_b) or m[have] != want):
                shown = fmt(got_b[have]) if 0 <= have < len(got_b) else str(have)
                raise Mistake(f"For {name}, from belief {k} ({fmt(got_b[k])}) token {x} "
                              f"leads to {fmt(ref_b[want])}, but successors[{k}, {x}] points "
                              f"to {shown}. Store the row index of the child (the existing "
                              "row when the child was already known).")
    return K


def _test_msp(fn):
    checked = []
    for name, hmm, pi in finite_msp_cases(seed=301, n_random=4):
        checked.append(_check_one_msp(fn, name, hmm, pi, max_depth=12))
    z1r, mess3 = processes.z1r(), processes.mess3()
    _check_one_msp(fn, "Z1R", z1r, z1r.stationary(), max_depth=2)
    _check_one_msp(fn, "Mess3", mess3, mess3.stationary(), max_depth=4)
    return (f"Correct on {len(checked)} finite MSPs (Z1R: {checked[0]} states, RRXOR: "
            f"{checked[2]}, the even and golden-mean processes, random unifilar HMMs) and on "
            "the depth limit (Z1R at max_depth 2, Mess3's infinite MSP at max_depth 4: "
            "121 beliefs).")


def check_msp(build_msp):
    """Check ``build_msp(T, pi, max_depth, atol) -> (beliefs, successors)``."""
    return run("build_msp", _test_msp, build_msp)


# ---------------------------------------------------------------------------- 3.2 recurrent
def _graph_cases(seed):
    cases = []
    for name, hmm, pi in finite_msp_cases(seed=302, n_random=3):
        _, succ, _ = reference_msp(hmm.T, pi, max_depth=12)
        cases.append((f"the MSP of {name}", succ))
    cases += [
        ("a 3-state graph whose transient states 0 and 1 form a cycle",
         np.array([[1, -1], [0, 2], [2, -1]])),
        ("a graph with two recurrent classes {1} and {2, 3}",
         np.array([[1, 2], [1, -1], [3, -1], [2, -1]])),
        ("a single state with a self-loop", np.array([[0, -1]])),
        ("a 4-cycle (every state recurrent)", np.array([[1, -1], [2, -1], [3, -1], [0, -1]])),
    ]
    rng = np.random.default_rng(seed)
    for k in range(4):
        K = int(rng.integers(6, 14))
        succ = rng.integers(0, K, size=(K, 2))
        succ[rng.random((K, 2)) < 0.3] = -1
        succ[:, 0] = np.where(succ[:, 0] < 0, rng.integers(0, K, K), succ[:, 0])
        cases.append((f"random graph {k + 1} ({K} states)", succ))
    return cases


def _recurrent_variants(succ):
    K = len(succ)
    reach = _reachability(succ)
    incoming = np.zeros(K, dtype=bool)
    for k in range(K):
        for j in succ[k]:
            if j >= 0 and j != k:
                incoming[j] = True
    on_cycle = np.array([any(reach[j, k] for j in succ[k] if j >= 0) for k in range(K)])
    self_loop = np.array([k in succ[k] for k in range(K)])
    ref = reference_recurrent(succ)
    backwards = np.array([np.all(~reach[:, k] | reach[k, :]) for k in range(K)])
    return [
        (backwards, "You checked the reachability the wrong way round: you required that k "
                    "reaches every state that reaches k. Recurrence is the converse: every "
                    "state reachable *from* k must reach k (reach[k, j] implies "
                    "reach[j, k])."),
        (~ref, "Your mask is inverted: it marks the transient states. Return True for the "
               "recurrent ones."),
        (on_cycle, "You marked every state that can return to itself. That is not enough: a "
                   "state on a cycle is still transient if some edge leads to a region with "
                   "no way back. Require that *every* state reachable from k reaches k."),
        (incoming, "You marked states with an incoming edge from another state. Transient "
                   "states have incoming edges too; what matters is whether every state "
                   "reachable from k can come back to k."),
        (self_loop, "You marked states with a self-loop. Recurrence is about returning from "
                    "everywhere you can go, through any path."),
        (reach[0], "You marked the states reachable from state 0. Everything in an MSP is "
                   "reachable from the start; recurrence asks whether you can come *back*."),
    ]


def _test_recurrent(fn):
    cases = _graph_cases(seed=303)
    for name, succ in cases:
        expected = reference_recurrent(succ)
        got = as_array(fn(succ.copy()), f"recurrent_states for {name}")
        K = len(succ)
        if got.shape != (K,):
            if got.ndim == 1 and got.size == expected.sum() and np.issubdtype(
                    got.dtype, np.integer) and set(got.tolist()) == set(
                    np.flatnonzero(expected).tolist()):
                raise Mistake(f"For {name} you returned the indices of the recurrent states "
                              f"({got.tolist()}); return a boolean mask of shape ({K},), e.g. "
                              "`mask = np.zeros(K, bool); mask[indices] = True`.")
            raise Mistake(f"For {name} ({K} states) expected a boolean mask of shape ({K},), "
                          f"got shape {got.shape}.")
        if got.dtype != bool and not np.all(np.isin(got, (0, 1))):
            raise Mistake(f"For {name} expected True/False values, got {fmt(got)}.")
        got = got.astype(bool)
        if np.array_equal(got, expected):
            continue
        for value, diagnosis in _recurrent_variants(succ):
            if np.array_equal(got, value):
                raise Mistake(f"For {name}: {diagnosis}")
        k = int(np.flatnonzero(got != expected)[0])
        raise Mistake(f"For {name}: state {k} is {'recurrent' if expected[k] else 'transient'}"
                      f" but you marked it {'recurrent' if got[k] else 'transient'}. State k "
                      "is recurrent exactly when every state reachable from k can reach k.")
    return (f"Correct on {len(cases)} graphs: the MSPs of Z1R, RRXOR and other processes, "
            "transient cycles, several recurrent classes, and random graphs.")


def check_recurrent(recurrent_states):
    """Check ``recurrent_states(successors) -> bool mask``."""
    return run("recurrent_states", _test_recurrent, recurrent_states)


# ---------------------------------------------------------------------------- 3.3 h_mu
def _entropy_rate_variants(T, beliefs, successors, expected):
    _, p = _msp_chain(T, beliefs, successors)
    next_token = np.einsum("ki,xij->kx", beliefs, T)
    h_next = np.array([_entropy(q) for q in next_token])
    h_state = np.array([_entropy(b) for b in beliefs])
    rec = reference_recurrent(successors)
    per_state = np.array([_entropy(T[:, i, :].sum(-1)) for i in range(T.shape[1])])
    return [
        (float(beliefs[0] @ per_state),
         "You averaged the entropy of the token given the *hidden state*, "
         "sum_i pi_i H[P(x | state i)]. An observer does not know the hidden state: average "
         "the entropy of P(x | eta_k) over the MSP's beliefs, weighted by the MSP chain's "
         "stationary distribution."),
        (expected / LN2, "You computed in bits. Entropy rates are in nats here (np.log); "
                         "your value is the nats value divided by ln 2."),
        (float(h_next.mean()), "You averaged over MSP states with equal weight. Weight each "
                               "state by the stationary probability p_k of the MSP's chain "
                               "(transient states get 0)."),
        (float(h_next[rec].mean()), "You averaged over the recurrent states with equal weight. "
                                    "Weight them by the stationary distribution p of the "
                                    "MSP's chain: they are not visited equally often."),
        (float(h_next[0]), "You returned the entropy of the first token, H[P(. | pi)] = h(1). "
                           "The entropy rate is the long-run average: weight by the "
                           "stationary distribution p of the MSP's chain."),
        (float(p @ h_state), "You averaged the entropy of the *beliefs* (state uncertainty). "
                             "The entropy rate averages the entropy of the next-token "
                             "distribution P(. | eta_k) = eta_k T^(x) 1."),
    ]


def _test_msp_entropy_rate(fn):
    cases = finite_msp_cases(seed=304, n_random=3)
    for name, hmm, pi in cases:
        b, s, _ = reference_msp(hmm.T, pi, max_depth=12)
        expected = reference_entropy_rate(hmm.T, b, s)
        got = as_float(fn(hmm.T.copy(), b.copy(), s.copy()), f"msp_entropy_rate for {name}")
        if np.isclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        for value, diagnosis in _entropy_rate_variants(hmm.T, b, s, expected):
            if np.isclose(got, value, rtol=1e-6, atol=1e-9):
                raise Mistake(f"For {name}: expected {expected:.6f} nats, got {got:.6f}. "
                              f"{diagnosis}")
        raise Mistake(f"For {name}: expected {expected:.6f} nats, got {got:.6f}. Build the "
                      "MSP's transition matrix W[k, successors[k, x]] += P(x | eta_k), find "
                      "its stationary distribution p (p W = p, sum 1), and return "
                      "sum_k p_k H[P(. | eta_k)] in nats.")
    return (f"Correct on {len(cases)} MSPs, e.g. Z1R (ln(2)/3 = 0.2310 nats) and RRXOR "
            "(2 ln(2)/3 = 0.4621 nats).")


def check_msp_entropy_rate(msp_entropy_rate):
    """Check ``msp_entropy_rate(T, beliefs, successors) -> h_mu`` in nats."""
    return run("msp_entropy_rate", _test_msp_entropy_rate, msp_entropy_rate)


# ---------------------------------------------------------------------------- 3.4 chaos game
def skewed_hmm():
    """A 3-state non-unifilar HMM with lopsided token frequencies, every token possible from
    every state, and pi = (0.2, 0.3, 0.5). Drawing tokens uniformly moves the chaos game's
    mean belief far from pi; drawing them from the fixed stationary frequencies keeps the
    mean but breaks the one-step law E[eta' | eta] = eta T."""
    pi = np.array([0.2, 0.3, 0.5])
    stay = 0.5 * np.eye(3) + 0.5 * np.tile(pi, (3, 1))         # pi stay = pi
    emit = np.array([[0.90, 0.08, 0.02],
                     [0.10, 0.85, 0.05],
                     [0.70, 0.05, 0.25]])                        # emit[j, x] = P(x | j)
    return HMM(np.einsum("ij,jx->xij", stay, emit))


def _call_chaos(fn, T, pi, n, seed, burn_in, name):
    limit = CHAOS_TIME_LIMIT
    with _time_limit(limit, f"For {name} your chaos game ran for more than {limit:g} "
                            f"seconds for {n} points."):
        got = as_array(fn(T.copy(), pi.copy(), n, seed=seed, burn_in=burn_in),
                       f"chaos_game for {name}")
    S = T.shape[1]
    if got.shape != (n, S):
        if got.shape == (n + burn_in, S):
            raise Mistake(f"For {name} with n_points = {n} and burn_in = {burn_in} you "
                          f"returned {n + burn_in} rows: drop the first burn_in beliefs and "
                          "return exactly n_points.")
        raise Mistake(f"For {name} expected shape ({n}, {S}), got {got.shape}.")
    return got.astype(float)


def _skewed_diagnosis(fn):
    """What is wrong with the token draws of ``fn`` on :func:`skewed_hmm`, or None."""
    hmm = skewed_hmm()
    cloud = _call_chaos(fn, hmm.T, hmm.stationary(), 20_000, 3, 100, "a skewed 3-state HMM")
    if not np.all(np.isfinite(cloud)) or not np.allclose(cloud.sum(axis=1), 1, atol=1e-6):
        return None
    mean = cloud.mean(axis=0)
    expected = hmm.stationary()
    if np.max(np.abs(mean - expected)) > 0.04:
        return (f"With pi = {fmt(expected)} and lopsided token frequencies, your points "
                f"average {fmt(mean)}; along a sequence sampled from the process the belief "
                "averages to pi (it is the conditional probability of the state). Your tokens "
                "do not follow the process: draw x with probability eta T^(x) 1 from the "
                "current belief, not uniformly.")
    # Bayes' rule averages out: E[eta' | eta] = sum_x P(x | eta) f_x(eta) = eta T.
    residual = cloud[1:] - cloud[:-1] @ hmm.T.sum(0)
    if np.abs((residual[:, :, None] * cloud[:-1, None, :]).mean(axis=0)).max() > 0.015:
        return ("Your points have the right average, but consecutive points do not follow the "
                "process: with tokens drawn from P(x | eta), the next belief averages to eta T "
                "given the current one, and yours does not. You drew tokens from fixed "
                "frequencies; recompute the token probabilities eta T^(x) 1 from the "
                "*current* belief at every step.")
    return None


def _test_chaos_game(fn):
    z1r = processes.z1r()
    T, pi = z1r.T, z1r.stationary()
    got = _call_chaos(fn, T, pi, 3000, 1, 20, "Z1R")
    if np.any(~np.isfinite(got)):
        # which wrong law drew the impossible token? ask a process where every token is
        # possible, so the learner's function runs without NaN there
        why = _skewed_diagnosis(fn) or ("Draw each token with probability P(x | eta) = "
                                        "eta T^(x) 1 for the *current* belief.")
        raise Mistake("For Z1R your points contain NaN: you drew a token of probability zero "
                      "(e.g. a 0 from state S0's successor S1) and divided 0 by 0. " + why)
    sums = got.sum(axis=1)
    if not np.allclose(sums, 1, atol=1e-6):
        worst = sums[np.argmax(np.abs(sums - 1))]
        raise Mistake(f"For Z1R your points sum to values like {magnitude(worst, '.4g')}, not 1: "
                      "normalise after each update, eta T^(x) / (eta T^(x) 1).")
    corner = np.isclose(got.max(axis=1), 1, atol=1e-9)
    if not np.all(corner):
        t = int(np.flatnonzero(~corner)[0])
        raise Mistake(f"For Z1R with burn_in = 20, point {t} is {fmt(got[t])}, but an "
                      "observer of Z1R is certain of the state after 3 tokens, so every "
                      "point after the burn-in should be a corner of the simplex. Discard the "
                      "first burn_in beliefs (and start from pi).")
    freq = np.bincount(got.argmax(axis=1), minlength=3) / len(got)
    if np.max(np.abs(freq - 1 / 3)) > 0.05:
        raise Mistake(f"For Z1R the three corners should each hold about 1/3 of the points; "
                      f"you have {fmt(freq)}. Sample tokens from P(x | eta).")
    transitions = got[:-1].argmax(axis=1), got[1:].argmax(axis=1)
    if np.any((transitions[1] - transitions[0]) % 3 != 1):
        raise Mistake("For Z1R consecutive points should go S0 -> S1 -> SR -> S0 ...; yours "
                      "do not. Row t + 1 must be the update of row t by one token.")
    mess3 = processes.mess3()
    a = _call_chaos(fn, mess3.T, mess3.stationary(), 2000, 1, 50, "Mess3")
    b = _call_chaos(fn, mess3.T, mess3.stationary(), 2000, 2, 50, "Mess3")
    if len(np.unique(a.round(9), axis=0)) < 100:
        raise Mistake(f"For Mess3 your 2000 points take only "
                      f"{len(np.unique(a.round(9), axis=0))} distinct values; the chaos game "
                      "visits a new belief almost every step. Draw a random token at every "
                      "step (not the most likely one) and update the belief you carry.")
    again = _call_chaos(fn, mess3.T, mess3.stationary(), 2000, 1, 50, "Mess3")
    if not np.array_equal(again, a):
        raise Mistake("Calling your function twice with the same seed gave different points. "
                      "Create the generator from the argument, `rng = "
                      "np.random.default_rng(seed)`, and draw every token from it.")
    if np.array_equal(a, b):
        raise Mistake("Seeds 1 and 2 gave identical Mess3 points: your function ignores "
                      "`seed`. Use `rng = np.random.default_rng(seed)`.")
    why = _skewed_diagnosis(fn)
    if why:
        raise Mistake(f"For a skewed 3-state HMM (every token possible from every state): {why}")
    return ("Correct: valid beliefs, burn-in discarded, reproducible with a seed, Z1R's "
            "corners in cycle order, and the right long-run average on a skewed HMM.")


def check_chaos_game(chaos_game):
    """Check ``chaos_game(T, pi, n_points, seed, burn_in) -> (n_points, n_states)``."""
    return run("chaos_game", _test_chaos_game, chaos_game)


# ---------------------------------------------------------------------------- 3.5 box counting
def _box_cases():
    rng = np.random.default_rng(305)
    t = rng.random(20_000)
    segment = np.stack([0.1 + 0.8 * t, 0.2 + 0.5 * t], axis=1)
    square = rng.random((20_000, 2))
    digits = np.array(list(itertools.product((0, 2), repeat=10)), dtype=float)
    cantor = (digits @ (3.0 ** -np.arange(1, 11)))[:, None] + 1e-9
    sierpinski = np.zeros((3 ** 8, 2))
    corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])
    for n, word in enumerate(itertools.product(range(3), repeat=8)):
        sierpinski[n] = (corners[list(word)] * (0.5 ** np.arange(1, 9))[:, None]).sum(0)
    return [
        ("20,000 points on a line segment in the plane (D = 1)", segment,
         np.geomspace(0.1, 0.002, 8), 1.0),
        ("20,000 uniform points in the unit square (D = 2)", square,
         np.geomspace(0.2, 0.02, 6), 2.0),
        ("the middle-thirds Cantor set, 1,024 points (D = log 2 / log 3 = 0.631)", cantor,
         3.0 ** -np.arange(1, 8), np.log(2) / np.log(3)),
        ("a Sierpinski triangle, 6,561 points (D = log 3 / log 2 = 1.585)", sierpinski,
         2.0 ** -np.arange(2, 8), np.log(3) / np.log(2)),
    ]


def _box_variants(points, eps, expected):
    x = np.log(1 / eps)
    N = box_counts(points, eps)
    times = np.array([len(np.unique(np.floor(points * e).astype(np.int64), axis=0))
                      for e in eps])
    return [
        (float(np.polyfit(x, np.log(N), 1)[1]),
         "You returned the intercept of the fitted line (np.polyfit(...)[1]); the dimension "
         "is its slope, np.polyfit(...)[0]."),
        (float(np.polyfit(x, np.log(times), 1)[0]),
         "You multiplied the points by eps; the box index of a point is floor(point / eps) "
         "(boxes of side eps), so divide."),
        (-expected, "Your slope has the wrong sign: you fitted log N against log(eps). N "
                    "grows as eps shrinks, so fit against log(1/eps) (or negate the slope)."),
        (float(np.polyfit(x, N, 1)[0]), "You fitted the counts N(eps) themselves. The power "
                                        "law N = C eps^(-D) is a straight line only on "
                                        "log-log axes: fit log N."),
        (float(np.polyfit(np.log10(1 / eps), np.log(N), 1)[0]),
         "You mixed logarithm bases (log10 on one axis, ln on the other), which scales the "
         "slope by ln 10 = 2.30. Use the same log on both axes."),
        (float(np.polyfit(np.log(1 / eps), np.log10(N), 1)[0]),
         "You mixed logarithm bases (ln on one axis, log10 on the other), which scales the "
         "slope by 1 / ln 10. Use the same log on both axes."),
        (float(np.polyfit(1 / eps, np.log(N), 1)[0]),
         "You fitted against 1/eps rather than log(1/eps)."),
        (float(np.polyfit(np.log(1 / eps), np.log(box_counts(points, eps, flatten=True)),
                          1)[0]),
         "You counted distinct *numbers* in the array of box indices, not distinct boxes: "
         "`np.unique(boxes)` flattens the array. Use `np.unique(boxes, axis=0)` to count "
         "distinct rows."),
    ]


def _test_box_counting(fn):
    cases = _box_cases()
    for name, points, eps, true_d in cases:
        expected = reference_box_dimension(points, eps)
        got = as_float(fn(points.copy(), eps.copy()), f"box_counting_dimension for {name}")
        if abs(got - expected) <= 0.05:
            continue
        for value, diagnosis in _box_variants(points, eps, expected):
            if np.isclose(got, value, rtol=1e-6, atol=1e-9):
                raise Mistake(f"For {name}: expected a slope near {expected:.3f}, got "
                              f"{got:.3f}. {diagnosis}")
        raise Mistake(f"For {name}: expected a slope near {expected:.3f} (the set's "
                      f"dimension is {true_d:.3f}), got {got:.3f}. For each eps count the "
                      "occupied boxes, len(np.unique(np.floor(points / eps).astype(int), "
                      "axis=0)), then fit a line to (log(1/eps), log N) and return its slope.")
    return (f"Correct on {len(cases)} sets of known dimension: a segment (1), a square (2), "
            "the Cantor set (0.631) and the Sierpinski triangle (1.585).")


def check_box_counting(box_counting_dimension):
    """Check ``box_counting_dimension(points, epsilons) -> slope``."""
    return run("box_counting_dimension", _test_box_counting, box_counting_dimension)


# ---------------------------------------------------------------------------- 3.6 classes
def _class_cases():
    rrxor, z1r, mess3 = processes.rrxor(), processes.z1r(), processes.mess3()
    rng = np.random.default_rng(306)
    b_rr, _, _ = reference_msp(rrxor.T, rrxor.stationary())
    b_z, _, _ = reference_msp(z1r.T, z1r.stationary())
    b_m, _, _ = reference_msp(mess3.T, mess3.stationary(), max_depth=2)
    order = rng.permutation(len(b_rr))
    return [
        ("RRXOR's 36 MSP beliefs", rrxor, b_rr),
        ("RRXOR's MSP beliefs in shuffled order", rrxor, b_rr[order]),
        ("Z1R's 7 MSP beliefs", z1r, b_z),
        ("Mess3's 13 beliefs within two tokens", mess3, b_m),
    ]


def _class_variants(beliefs, T, atol):
    next_token = np.einsum("ki,xij->kx", beliefs, T)
    return [
        (_group(beliefs, atol), "You grouped the *beliefs*, so every MSP state got its own "
                                "label. Group by the next-token distribution "
                                "P(x | eta) = eta T^(x) 1: different beliefs can share it."),
        (_group(next_token, atol, exact=True),
         "You compared next-token distributions with exact equality; some that agree to "
         "1e-16 differ in the last bits. Compare with the tolerance atol."),
        (_group(np.einsum("kj,xij->kx", beliefs, T), atol),
         "You computed the next-token distributions with the column convention "
         "(`T[x] @ eta`). Rows of T[x] are the current state: P(x | eta) = eta T^(x) 1."),
        (_group(next_token[:, :1], atol),
         "You compared only the probability of token 0. With two tokens that fixes the "
         "distribution; with more it does not: compare the whole next-token distribution."),
        (next_token.argmax(axis=1), "You grouped by the most likely next token. Two beliefs "
                                    "belong together only if their whole next-token "
                                    "distributions agree."),
        (_group(beliefs @ T.sum(0), atol),
         "You grouped by the distribution of the next *state*, eta T. Use the next *token*: "
         "eta T^(x) 1 for each x."),
    ]


def _test_next_token_classes(fn):
    cases = _class_cases()
    for name, hmm, beliefs in cases:
        expected = _group(np.einsum("ki,xij->kx", beliefs, hmm.T), 1e-9)
        got = as_array(fn(beliefs.copy(), hmm.T.copy(), atol=1e-9),
                       f"next_token_classes for {name}")
        if got.shape != (len(beliefs),):
            raise Mistake(f"For {name} expected one label per belief, shape "
                          f"({len(beliefs)},), got {got.shape}.")
        if np.array_equal(_partition(got), _partition(expected)):
            continue
        for value, diagnosis in _class_variants(beliefs, hmm.T, 1e-9):
            if np.array_equal(_partition(got), _partition(value)):
                raise Mistake(f"For {name}: expected {len(set(expected.tolist()))} classes, "
                              f"got {len(set(np.asarray(got).tolist()))}. {diagnosis}")
        raise Mistake(f"For {name}: expected {len(set(expected.tolist()))} classes, got "
                      f"{len(set(np.asarray(got).tolist()))}. Give two beliefs the same label "
                      "exactly when their next-token distributions agree within atol.")
    return ("Correct: RRXOR's 36 beliefs fall into 11 next-token classes (in any order), "
            "and Z1R's and Mess3's beliefs are grouped right too.")


def check_next_token_classes(next_token_classes):
    """Check ``next_token_classes(beliefs, T, atol) -> labels``."""
    return run("next_token_classes", _test_next_token_classes, next_token_classes)


def _word_cases():
    rrxor, mess3 = processes.rrxor(), processes.mess3()
    b, _, _ = reference_msp(rrxor.T, rrxor.stationary())
    labels = _group(np.einsum("ki,xij->kx", b, rrxor.T), 1e-9)
    big = np.flatnonzero(labels == np.bincount(labels).argmax())
    cases = []
    for i, j in [(big[0], big[1]), (big[0], big[-1]), (big[2], big[5]), (big[1], big[7])]:
        cases.append((f"RRXOR beliefs {fmt(b[i])} and {fmt(b[j])}", rrxor, b[i], b[j]))
    cases.append(("RRXOR: a belief and itself", rrxor, b[3], b[3].copy()))
    cases.append(("RRXOR: beliefs that differ in the next token", rrxor, b[0],
                  np.eye(5)[3]))
    cases.append(("Mess3: a belief and itself", mess3,
                  np.array([0.5, 0.2, 0.3]), np.array([0.5, 0.2, 0.3])))
    cases.append(("Mess3: nearby beliefs", mess3, np.array([0.5, 0.2, 0.3]),
                  np.array([0.5, 0.21, 0.29])))
    return cases


def _first_column_word(e1, e2, T, max_length=6, atol=1e-9):
    """The first word (by length, then lexicographically) whose probabilities differ when
    computed with the column convention (``T[x] @ v``), or None."""
    for L in range(1, max_length + 1):
        for w in itertools.product(range(T.shape[0]), repeat=L):
            a, b = (word_probability(e, T.transpose(0, 2, 1), w) for e in (e1, e2))
            if abs(a - b) > atol:
                return w
    return None


def _test_distinguishing_word(fn):
    cases = _word_cases()
    same = []       # cases where the learner's word has equal probabilities under both
    for name, hmm, e1, e2 in cases:
        T = hmm.T
        expected = reference_distinguishing_length(e1, e2, T, max_length=6)
        got = fn(e1.copy(), e2.copy(), T.copy(), max_length=6, atol=1e-9)
        if expected is None:
            if got is None:
                continue
            raise Mistake(f"For {name}: no word of length <= 6 distinguishes them (they are "
                          f"the same belief), so return None; you returned {got!r}.")
        if got is None:
            longer = (" No single token does; did you stop at length 1? Try every length "
                      "up to max_length." if expected > 1 else "")
            raise Mistake(f"For {name}: a word of length {expected} distinguishes them, but "
                          f"you returned None.{longer} P(w | eta) = eta T^(w_1) ... T^(w_L) 1; "
                          "compare these numbers for every word, length by length.")
        try:
            word = tuple(int(x) for x in got)
        except (TypeError, ValueError):
            raise Mistake(f"For {name} you returned {got!r}; return a tuple of token "
                          "indices such as (0, 1).") from None
        if len(word) == 0:
            raise Mistake(f"For {name} you returned the empty word: it has probability 1 "
                          "under every belief, so it never distinguishes. Start at length 1.")
        if any(x < 0 or x >= T.shape[0] for x in word):
            raise Mistake(f"For {name} your word {word} contains tokens outside "
                          f"0..{T.shape[0] - 1}.")
        p1, p2 = word_probability(e1, T, word), word_probability(e2, T, word)
        if abs(p1 - p2) <= 1e-9:
            same.append((name, word, p1, word == _first_column_word(e1, e2, T)))
            continue
        if len(word) > expected:
            raise Mistake(f"For {name}: your word {word} distinguishes them, but a word of "
                          f"length {expected} already does. Search lengths in increasing "
                          "order and stop at the first length with a distinguishing word.")
    if same:
        # name the wrong comparison that explains every such word (one case can be ambiguous)
        name, word, p1, _ = same[0]
        head = (f"For {name}: your word {word} has the same probability {p1:.6f} under both "
                "beliefs, so it does not distinguish them.")
        if all(column for *_, column in same):
            raise Mistake(f"{head} It is the first word that differs with the column "
                          "convention (`T[x] @ v`). Rows of T[x] are the current state: "
                          "P(w | eta) = eta T^(w_1) ... T^(w_L) 1, multiplying from the left.")
        raise Mistake(f"{head} Compare P(w | eta) = eta T^(w_1) ... T^(w_L) 1 — the "
                      "probability of the whole word, not the beliefs after it.")
    return (f"Correct on {len(cases)} pairs: RRXOR beliefs that agree on the next token but "
            "not on the next two or three, identical beliefs (None), and Mess3 beliefs.")


def check_distinguishing_word(shortest_distinguishing_word):
    """Check ``shortest_distinguishing_word(eta1, eta2, T, max_length, atol)``."""
    return run("shortest_distinguishing_word", _test_distinguishing_word,
               shortest_distinguishing_word)
