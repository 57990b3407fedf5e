"""Checkers of practice notebook 03: each planted mistake gets its own diagnosis, and
garbage never passes.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``). Solutions passing, stubs "not implemented" and determinism:
test_checks_exercises.py."""

import itertools
import signal
import threading
import time
from collections import deque

import numpy as np
import pytest
from exercise_utils import Planted, assert_diagnosis, assert_planted, planted_id

from beliefcourse.checks import ch03


# ---------------------------------------------------------------------------- 3.1 build_msp
def msp_variant(T, pi, max_depth=20, atol=1e-9, *, dedup="tol", normalise=True,
                zero_children=False, column=False, depth_limit=True):
    """The exercise's breadth-first search with one switch per planted mistake."""
    X = T.shape[0]
    beliefs, successors, queue = [np.asarray(pi, float)], [[-1] * X], deque([(0, 0)])
    while queue:
        k, depth = queue.popleft()
        if depth_limit and depth >= max_depth:
            continue
        for x in range(X):
            joint = T[x] @ beliefs[k] if column else beliefs[k] @ T[x]
            p = joint.sum()
            if p <= 0 and not zero_children:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                child = joint / p if normalise else joint
            match = []
            if dedup == "tol":
                match = np.flatnonzero(np.all(np.abs(np.array(beliefs) - child) <= atol, axis=1))
            elif dedup == "exact":
                match = [i for i, b in enumerate(beliefs) if np.array_equal(b, child)]
            if len(match):
                successors[k][x] = int(match[0])
            else:
                beliefs.append(child)
                successors.append([-1] * X)
                successors[k][x] = len(beliefs) - 1
                queue.append((len(beliefs) - 1, depth + 1))
    return np.array(beliefs), np.array(successors)


def _msp(loose_atol=None, **switches):
    def build_msp(T, pi, max_depth=20, atol=1e-9):
        return msp_variant(T, pi, max_depth, atol if loose_atol is None else loose_atol,
                           **switches)
    return build_msp


def _msp_reversed(T, pi, max_depth=20, atol=1e-9):
    b, s = msp_variant(T, pi, max_depth)
    return b[::-1], s


# ---------------------------------------------------------------------------- 3.2 recurrent
def _on_cycle(succ):
    reach = ch03._reachability(succ)
    return np.array([any(reach[j, k] for j in succ[k] if j >= 0) for k in range(len(succ))])


def _incoming(succ):
    out = np.zeros(len(succ), bool)
    for k, row in enumerate(succ):
        for j in row:
            if j >= 0 and j != k:
                out[j] = True
    return out


def _backwards(succ):
    reach = ch03._reachability(succ)
    return np.array([np.all(~reach[:, k] | reach[k, :]) for k in range(len(succ))])


# ---------------------------------------------------------------------------- 3.3 h_mu
def _rate_parts(T, beliefs, successors):
    _, p = ch03._msp_chain(T, beliefs, successors)
    q = np.einsum("ki,xij->kx", beliefs, T)
    h = np.array([ch03._entropy(row) for row in q])
    return p, h


def _rate_recurrent_equal(T, b, s):
    _, h = _rate_parts(T, b, s)
    return float(h[ch03.reference_recurrent(s)].mean())


def _rate_hidden_state(T, b, s):
    per_state = np.array([ch03._entropy(T[:, i, :].sum(-1)) for i in range(T.shape[1])])
    return float(b[0] @ per_state)


def _rate_state_entropy(T, b, s):
    p, _ = _rate_parts(T, b, s)
    return float(p @ np.array([ch03._entropy(row) for row in b]))


# ---------------------------------------------------------------------------- 3.4 chaos game
def chaos_variant(T, pi, n_points, seed=None, burn_in=100, *, draw="bayes", normalise=True,
                  drop_burn_in=True, use_seed=True):
    rng = np.random.default_rng(seed if use_seed else None)
    eta = np.asarray(pi, float)
    freq = np.einsum("i,xij->x", pi, T)
    out = []
    for _ in range(burn_in + n_points):
        probs = np.einsum("i,xij->x", eta, T)
        if draw == "bayes":
            x = rng.choice(len(probs), p=probs / probs.sum())
        elif draw == "uniform":
            x = rng.integers(len(probs))
        elif draw == "frequencies":
            x = rng.choice(len(freq), p=freq)
        else:
            x = int(np.argmax(probs))
        with np.errstate(invalid="ignore", divide="ignore"):
            joint = eta @ T[x]
            eta = joint / joint.sum() if normalise else joint
        out.append(eta)
    out = np.array(out)
    return out[burn_in:] if drop_burn_in else out[:n_points]


def _chaos(**switches):
    def chaos_game(T, pi, n_points, seed=None, burn_in=100):
        return chaos_variant(T, pi, n_points, seed, burn_in, **switches)
    return chaos_game


# ---------------------------------------------------------------------------- 3.5 box counting
def _fit(x, y):
    return float(np.polyfit(x, y, 1)[0])


# ---------------------------------------------------------------------------- 3.6 classes, words
def _words(n_tokens, lengths):
    for L in lengths:
        yield from itertools.product(range(n_tokens), repeat=L)


def _differs(e1, e2, T, w, atol=1e-9):
    return abs(ch03.word_probability(e1, T, w) - ch03.word_probability(e2, T, w)) > atol


def _word_single_tokens(e1, e2, T, max_length=6, atol=1e-9):
    return next((w for w in _words(T.shape[0], [1]) if _differs(e1, e2, T, w)), None)


def _word_length(e1, e2, T, max_length=6, atol=1e-9):
    w = ch03.reference_distinguishing_length(e1, e2, T, max_length)
    return w


def _word_column(e1, e2, T, max_length=6, atol=1e-9):
    return next((w for w in _words(T.shape[0], range(1, max_length + 1))
                 if _differs(e1, e2, T.transpose(0, 2, 1), w)), None)


def _box_multiplied(points, eps):
    counts = [len(np.unique(np.floor(np.asarray(points) * e).astype(int), axis=0)) for e in eps]
    return _fit(np.log(1 / np.asarray(eps)), np.log(counts))


def _word_longest_first(e1, e2, T, max_length=6, atol=1e-9):
    return next((w for w in _words(T.shape[0], range(max_length, 0, -1))
                 if _differs(e1, e2, T, w)), None)


def _word_beliefs_after(e1, e2, T, max_length=6, atol=1e-9):
    for w in _words(T.shape[0], range(1, max_length + 1)):
        v1, v2 = np.asarray(e1, float), np.asarray(e2, float)
        for x in w:
            v1, v2 = v1 @ T[x], v2 @ T[x]
        if v1.sum() > 0 and v2.sum() > 0 and not np.allclose(v1 / v1.sum(), v2 / v2.sum()):
            return w
    return None


PLANTED = [
    # build_msp(T, pi, max_depth=20, atol=1e-9)
    Planted("build_msp", "never de-duplicates beliefs", _msp(dedup="none"),
            r"did not de-duplicate"),
    Planted("build_msp", "compares beliefs bit for bit", _msp(dedup="exact"),
            r"bit-for-bit.*tolerance"),
    Planted("build_msp", "forgets to normalise", _msp(normalise=False), r"forgot to normalise"),
    Planted("build_msp", "keeps children of probability zero", _msp(zero_children=True),
            r"probability zero"),
    Planted("build_msp", "multiplies column vectors", _msp(column=True), r"column convention"),
    Planted("build_msp", "ignores the depth limit", _msp(depth_limit=False),
            r"must not be expanded"),
    Planted("build_msp", "uses a loose tolerance that merges states", _msp(loose_atol=0.2),
            r"merge"),
    Planted("build_msp", "does not put the prior in row 0", _msp_reversed, r"row 0"),
    # recurrent_states(successors)
    Planted("recurrent_states", "inverts the mask",
            lambda s: ~ch03.reference_recurrent(s), r"inverted"),
    Planted("recurrent_states", "marks states that lie on some cycle", _on_cycle,
            r"can return to itself"),
    Planted("recurrent_states", "marks states with an incoming edge", _incoming,
            r"incoming edge"),
    Planted("recurrent_states", "returns indices, not a mask",
            lambda s: np.flatnonzero(ch03.reference_recurrent(s)), r"boolean mask"),
    Planted("recurrent_states", "marks states with a self-loop",
            lambda s: np.array([k in s[k] for k in range(len(s))]), r"self-loop"),
    Planted("recurrent_states", "checks reachability the wrong way round", _backwards,
            r"wrong way round"),
    # msp_entropy_rate(T, beliefs, successors)
    Planted("msp_entropy_rate", "measures in bits",
            lambda T, b, s: ch03.reference_entropy_rate(T, b, s) / np.log(2), r"bits"),
    Planted("msp_entropy_rate", "weights the states equally",
            lambda T, b, s: _rate_parts(T, b, s)[1].mean(), r"equal weight"),
    Planted("msp_entropy_rate", "returns the first token's entropy h(1)",
            lambda T, b, s: _rate_parts(T, b, s)[1][0], r"h\(1\)"),
    Planted("msp_entropy_rate", "takes the entropy of the beliefs", _rate_state_entropy,
            r"\*beliefs\*"),
    Planted("msp_entropy_rate", "weights the recurrent states equally", _rate_recurrent_equal,
            r"recurrent states with equal weight"),
    Planted("msp_entropy_rate", "averages the entropy given the hidden state",
            _rate_hidden_state, r"given the \*hidden state\*"),
    # chaos_game(T, pi, n_points, seed=None, burn_in=100)
    Planted("chaos_game", "draws tokens uniformly", _chaos(draw="uniform"),
            r"probability zero.*not uniformly"),
    Planted("chaos_game", "draws tokens from the fixed frequencies", _chaos(draw="frequencies"),
            r"fixed frequencies.*\*current\* belief"),
    Planted("chaos_game", "always takes the most likely token", _chaos(draw="argmax"),
            r"not the most likely"),
    Planted("chaos_game", "forgets to normalise", _chaos(normalise=False), r"normalise"),
    Planted("chaos_game", "keeps the burn-in points", _chaos(drop_burn_in=False), r"burn_in"),
    Planted("chaos_game", "ignores the seed", _chaos(use_seed=False), r"same seed"),
    # box_counting_dimension(points, eps)
    Planted("box_counting_dimension", "fits log N against log eps (wrong sign)",
            lambda p, e: _fit(np.log(e), np.log(ch03.box_counts(p, e))), r"wrong sign"),
    Planted("box_counting_dimension", "fits the counts, not their logs",
            lambda p, e: _fit(np.log(1 / np.asarray(e)), ch03.box_counts(p, e)), r"fit log N"),
    Planted("box_counting_dimension", "mixes log bases",
            lambda p, e: _fit(np.log10(1 / np.asarray(e)), np.log(ch03.box_counts(p, e))),
            r"bases"),
    Planted("box_counting_dimension", "np.unique without axis=0 (counts coordinates)",
            lambda p, e: _fit(np.log(1 / np.asarray(e)),
                              np.log(ch03.box_counts(p, e, flatten=True))), r"axis=0"),
    Planted("box_counting_dimension", "returns the intercept, not the slope",
            lambda p, e: float(np.polyfit(np.log(1 / np.asarray(e)),
                                          np.log(ch03.box_counts(p, e)), 1)[1]), r"intercept"),
    Planted("box_counting_dimension", "multiplies the points by eps", _box_multiplied,
            r"multiplied the points by eps"),
    # next_token_classes(beliefs, T, atol=1e-9)
    Planted("next_token_classes", "groups by belief",
            lambda b, T, atol=1e-9: np.arange(len(b)), r"\*beliefs\*"),
    Planted("next_token_classes", "groups by the most likely token",
            lambda b, T, atol=1e-9: np.einsum("ki,xij->kx", b, T).argmax(1), r"most likely"),
    Planted("next_token_classes", "groups by the next-state distribution",
            lambda b, T, atol=1e-9: ch03._group(b @ T.sum(0), atol), r"next \*state\*"),
    Planted("next_token_classes", "compares distributions with exact equality",
            lambda b, T, atol=1e-9: ch03._group(np.einsum("ki,xij->kx", b, T), atol, exact=True),
            r"exact equality"),
    Planted("next_token_classes", "compares only the probability of token 0",
            lambda b, T, atol=1e-9: ch03._group(np.einsum("ki,xij->kx", b, T)[:, :1], atol),
            r"only the probability of token 0"),
    Planted("next_token_classes", "computes P(x | eta) with the column convention",
            lambda b, T, atol=1e-9: ch03._group(np.einsum("kj,xij->kx", b, T), atol),
            r"column convention"),
    # shortest_distinguishing_word(e1, e2, T, max_length=6, atol=1e-9)
    Planted("shortest_distinguishing_word", "searches the longest words first",
            _word_longest_first, r"increasing"),
    Planted("shortest_distinguishing_word", "compares the beliefs after the word",
            _word_beliefs_after, r"does not distinguish"),
    Planted("shortest_distinguishing_word", "returns the empty word",
            lambda e1, e2, T, max_length=6, atol=1e-9: None if np.allclose(e1, e2) else (),
            r"empty word"),
    Planted("shortest_distinguishing_word", "tries single tokens only", _word_single_tokens,
            r"stop at length 1"),
    Planted("shortest_distinguishing_word", "returns the length, not the word", _word_length,
            r"return a tuple of token indices"),
    Planted("shortest_distinguishing_word", "computes word probabilities column-wise",
            _word_column, r"column convention"),
]


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch03, planted)


def test_msp_reference_variant_passes():
    assert ch03.check_msp(msp_variant)


def test_chaos_reference_variant_passes():
    assert ch03.check_chaos_game(chaos_variant)


def test_box_shifted_grid_is_accepted():
    def shifted(points, eps):
        points = np.asarray(points) - np.asarray(points).min(axis=0)
        return ch03.reference_box_dimension(points, eps)
    assert ch03.check_box_counting(shifted)


# ---------------------------------------------------------------------------- garbage
@pytest.mark.parametrize("checker, garbage", [
    ("check_msp", lambda T, pi, max_depth=20, atol=1e-9: (
        np.eye(T.shape[1]), -np.ones((T.shape[1], T.shape[0]), int))),
    ("check_msp", lambda T, pi, max_depth=20, atol=1e-9: None),
    ("check_recurrent", lambda s: np.ones(len(s), bool)),
    ("check_recurrent", lambda s: np.zeros(len(s), bool)),
    ("check_msp_entropy_rate", lambda T, b, s: np.log(T.shape[0])),
    ("check_chaos_game", lambda T, pi, n, seed=None, burn_in=100: np.tile(pi, (n, 1))),
    ("check_chaos_game", lambda T, pi, n, seed=None, burn_in=100: np.random.default_rng(
        seed).dirichlet(np.ones(T.shape[1]), n)),
    ("check_box_counting", lambda p, e: 1.0),
    ("check_box_counting", lambda p, e: float(np.asarray(p).shape[1])),
    ("check_next_token_classes", lambda b, T, atol=1e-9: np.zeros(len(b), int)),
    ("check_distinguishing_word", lambda e1, e2, T, max_length=6, atol=1e-9: None),
    ("check_distinguishing_word", lambda e1, e2, T, max_length=6, atol=1e-9: (0,)),
])
def test_garbage_fails(checker, garbage):
    assert not getattr(ch03, checker)(garbage)


# ---------------------------------------------------------------------------- time limits
# The checkers stop a learner's function that runs too long with SIGALRM where they can (the
# main thread on POSIX: Jupyter kernels, pytest, pytest-xdist workers) and fall back to
# judging the elapsed time elsewhere (a worker thread, Windows, another timer already set).
ALARM = ch03._alarm_available()


def _slow_build(seconds):
    def build(T, pi, max_depth=20, atol=1e-9):
        time.sleep(seconds)
        return msp_variant(T, pi, max_depth)
    return build


@pytest.mark.skipif(not ALARM, reason="SIGALRM unusable here (not the main thread, or Windows)")
def test_time_limit_interrupts_an_endless_loop(monkeypatch):
    monkeypatch.setattr(ch03, "BUILD_TIME_LIMIT", 0.3)

    def endless(T, pi, max_depth=20, atol=1e-9):
        while True:
            try:
                time.sleep(0.01)
            except Exception:          # a learner's catch-all must not swallow the timeout
                pass

    start = time.perf_counter()
    result = ch03.check_msp(endless)
    assert time.perf_counter() - start < 5
    assert_diagnosis(result, "more than 0.3 seconds", "de-duplicate")
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0       # no timer left behind


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="POSIX only")
def test_time_limit_restores_handler_and_outer_timer(monkeypatch):
    monkeypatch.setattr(ch03, "CHAOS_TIME_LIMIT", 0.2)
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)               # someone else's timer
        result = ch03.check_chaos_game(lambda *a, **k: (time.sleep(0.4), chaos_variant(
            *a, **k))[1])
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        handler = signal.getsignal(signal.SIGALRM)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 20 < remaining <= 30, "the checker cancelled a timer it did not start"
    assert handler is not previous and not fired
    assert_diagnosis(result, "more than 0.2 seconds")       # judged on the elapsed time


def test_time_limit_in_a_worker_thread(monkeypatch):
    monkeypatch.setattr(ch03, "BUILD_TIME_LIMIT", 0.2)
    results = {}

    def work():
        results["slow"] = ch03.check_msp(_slow_build(0.3))
        results["fast"] = ch03.check_msp(msp_variant)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert_diagnosis(results["slow"], "more than 0.2 seconds")
    assert results["fast"], results["fast"].message


def test_time_limit_leaves_no_handler_behind():
    before = signal.getsignal(signal.SIGALRM) if hasattr(signal, "SIGALRM") else None
    assert ch03.check_msp(msp_variant)
    if hasattr(signal, "SIGALRM"):
        assert signal.getsignal(signal.SIGALRM) == before
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
