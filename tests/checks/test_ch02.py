"""Checkers of practice notebook 02: each planted mistake gets its own diagnosis.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``). Solutions passing, stubs "not implemented" and determinism:
test_checks_exercises.py."""

import itertools

import numpy as np
import pytest
from exercise_utils import Planted, assert_planted, planted_id

from beliefcourse.checks import ch02


def _safe(v):
    """Normalise, raising ValueError for a zero vector (so only the planted bug differs)."""
    s = v.sum()
    if s <= 0:
        raise ValueError("impossible token")
    return v / s


# ---------------------------------------------------------------------------- update
def _update_unnormalised(belief, T, x):
    out = belief @ T[x]
    if out.sum() <= 0:
        raise ValueError("impossible")
    return out


def _update_nan(belief, T, x):
    with np.errstate(invalid="ignore", divide="ignore"):
        v = belief @ T[x]
        return v / v.sum()


def _update_zero_division(belief, T, x):
    v = [float(a) for a in belief @ T[x]]
    total = sum(v)
    return np.array([a / total for a in v])


def _update_in_place(belief, T, x):
    v = _safe(belief @ T[x])
    belief[:] = v
    return belief


# ---------------------------------------------------------------------------- trajectories
def _trajectory(T, pi, tokens, step=lambda b, T, x: _safe(b @ T[x])):
    rows = [np.asarray(pi, float)]
    for x in tokens:
        rows.append(step(rows[-1], T, x))
    return np.array(rows)


def _trajectory_shifted(T, pi, w):
    traj = _trajectory(T, pi, w)
    return np.vstack([traj[1:], traj[-1:]])


# ---------------------------------------------------------------------------- enumeration
def _words(T, pi, L):
    """(P(w), unnormalised vector pi T^(w)) for every word of length L."""
    for word in itertools.product(range(T.shape[0]), repeat=L):
        v = np.asarray(pi, float)
        for x in word:
            v = v @ T[x]
        yield v.sum(), v


def _entropy(p, log):
    p = p[p > 0]
    return float(-(p * log(p)).sum())


def _uncertainty(T, pi, L, log=np.log2, weighted=True, length=None):
    L = L if length is None else length(L)
    terms = [(p, _entropy(v / p, log)) for p, v in _words(T, pi, L) if p > 0]
    if weighted:
        return sum(p * h for p, h in terms)
    return float(np.mean([h for _, h in terms]))


def _uncertainty_of_average(T, pi, L):
    mean = sum(v for p, v in _words(T, pi, L) if p > 0)
    return _entropy(mean, np.log2)


def _uncertainty_naive_log(T, pi, L):
    total = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, v in _words(T, pi, L):
            if p > 0:
                eta = v / p
                total += p * -(eta * np.log2(eta)).sum()
    return total


def _myopic(T, pi, L, log=np.log, context=lambda L: L - 1, of="next", weighted=True):
    terms = []
    for p, v in _words(T, pi, context(L)):
        if p > 0:
            if of == "next":
                q = np.array([v @ T[x] @ np.ones(T.shape[1]) for x in range(T.shape[0])]) / p
            else:
                q = v / p
            terms.append((p, _entropy(q, log)))
    if weighted:
        return sum(p * h for p, h in terms)
    return float(np.mean([h for _, h in terms]))


def _block_entropy(T, pi, L):
    return sum(-p * np.log(p) for p, _ in _words(T, pi, L) if p > 0)


# ---------------------------------------------------------------------------- position losses
def _ideal(T, pi, tokens, belief=1, target=1, n_extra=0, log=np.log, step=None):
    """Losses -log P(tokens[p + target] | row p + belief) for n + n_extra positions."""
    traj = _trajectory(T, pi, tokens) if step is None else _trajectory(T, pi, tokens, step)
    probs = np.einsum("ni,xij->nx", traj, T)
    n = len(tokens) - 1 + n_extra
    with np.errstate(divide="ignore"):
        return np.array([-log(probs[p + belief, tokens[p + target]]) for p in range(n)])


def _prefix_vector(T, pi, word):
    v = np.asarray(pi, float)
    for x in word:
        v = v @ T[x]
    return v


def _ideal_joint(T, pi, w):
    return np.array([-np.log(sum(_prefix_vector(T, pi, w[:p + 2]))) for p in range(len(w) - 1)])


PLANTED = [
    # update(belief, T, token)
    Planted("update", "forgets to normalise the belief", _update_unnormalised,
            r"not normalised"),
    Planted("update", "uses the net matrix T.sum(0)", lambda b, T, x: _safe(b @ T.sum(0)),
            r"net matrix"),
    Planted("update", "multiplies a column vector, T[x] @ b", lambda b, T, x: _safe(T[x] @ b),
            r"column vector"),
    Planted("update", "reweights by the token's likelihood without moving",
            lambda b, T, x: _safe(b * T[x].sum(1)), r"did not move it forward"),
    Planted("update", "returns NaN for an impossible token", _update_nan,
            r"probability zero.*ValueError"),
    Planted("update", "divides by zero for an impossible token", _update_zero_division,
            r"ZeroDivisionError"),
    Planted("update", "overwrites the belief in place", _update_in_place, r"in place"),
    # next_token_distribution(belief, T)
    Planted("next_token_distribution", "reads T with the column convention",
            lambda b, T: np.einsum("j,xij->x", b, T), r"column convention"),
    Planted("next_token_distribution", "returns the next-state distribution",
            lambda b, T: b @ T.sum(0), r"next \*state\*"),
    Planted("next_token_distribution", "returns the uniform distribution",
            lambda b, T: np.full(T.shape[0], 1 / T.shape[0]), r"uniform distribution"),
    Planted("next_token_distribution", "forgets to sum over the next state",
            lambda b, T: np.einsum("i,xij->xj", b, T), r"also sums over the next state"),
    Planted("next_token_distribution", "ignores the belief (every state weighted equally)",
            lambda b, T: T.sum(axis=(1, 2)) / T.shape[1], r"ignored the belief"),
    Planted("next_token_distribution", "uses only the most likely state",
            lambda b, T: T[:, np.argmax(b), :].sum(-1), r"most likely state"),
    # belief_trajectory(T, pi, tokens)
    Planted("belief_trajectory", "leaves out the prior", lambda T, pi, w: _trajectory(T, pi, w)[1:],
            r"Row 0 must be the prior"),
    Planted("belief_trajectory", "stops one token early",
            lambda T, pi, w: _trajectory(T, pi, w)[:-1], r"not the last one"),
    Planted("belief_trajectory", "shifts the rows by one", _trajectory_shifted,
            r"shifted by one"),
    Planted("belief_trajectory", "forgets to normalise",
            lambda T, pi, w: _trajectory(T, pi, w, step=lambda b, T, x: b @ T[x]),
            r"not normalised"),
    Planted("belief_trajectory", "returns one column per time step",
            lambda T, pi, w: _trajectory(T, pi, w).T, r"the transpose.*one row per time step"),
    Planted("belief_trajectory", "uses the net matrix",
            lambda T, pi, w: _trajectory(T, pi, w, step=lambda b, T, x: b @ T.sum(0)),
            r"net matrix"),
    Planted("belief_trajectory", "multiplies column vectors",
            lambda T, pi, w: _trajectory(T, pi, w, step=lambda b, T, x: _safe(T[x] @ b)),
            r"column convention"),
    # state_uncertainty(T, pi, L)
    Planted("state_uncertainty", "uses the natural log",
            lambda T, pi, L: _uncertainty(T, pi, L, log=np.log), r"natural log"),
    Planted("state_uncertainty", "averages over words with equal weight",
            lambda T, pi, L: _uncertainty(T, pi, L, weighted=False), r"equal weight"),
    Planted("state_uncertainty", "uses words of length L + 1",
            lambda T, pi, L: _uncertainty(T, pi, L, length=lambda L: L + 1),
            r"number of tokens seen"),
    Planted("state_uncertainty", "uses words of length L - 1",
            lambda T, pi, L: _uncertainty(T, pi, L, length=lambda L: max(L - 1, 0)),
            r"This is U\(\d+\): L is the number of tokens seen"),
    Planted("state_uncertainty", "takes the entropy of the average belief",
            _uncertainty_of_average, r"\*average\* belief"),
    Planted("state_uncertainty", "lets 0 log 0 become NaN", _uncertainty_naive_log,
            r"0 log 0 = 0"),
    # myopic_entropy(T, pi, L)
    Planted("myopic_entropy", "measures in bits",
            lambda T, pi, L: _myopic(T, pi, L, log=np.log2), r"in bits"),
    Planted("myopic_entropy", "conditions on L tokens",
            lambda T, pi, L: _myopic(T, pi, L, context=lambda L: L),
            r"context has L - 1 tokens"),
    Planted("myopic_entropy", "takes the entropy of the belief, not of the next token",
            lambda T, pi, L: _myopic(T, pi, L, of="belief"), r"state uncertainty"),
    Planted("myopic_entropy", "averages over contexts with equal weight",
            lambda T, pi, L: _myopic(T, pi, L, weighted=False), r"equal weight"),
    Planted("myopic_entropy", "returns the block entropy H(L)", _block_entropy,
            r"block entropy"),
    Planted("myopic_entropy", "returns the block entropy per token H(L) / L",
            lambda T, pi, L: _block_entropy(T, pi, L) / L, r"block entropy per token"),
    # ideal_losses(T, pi, tokens)
    Planted("ideal_losses", "predicts from the belief one token behind",
            lambda T, pi, w: _ideal(T, pi, w, belief=0), r"lags one token behind"),
    Planted("ideal_losses", "predicts the token it just read",
            lambda T, pi, w: _ideal(T, pi, w, belief=0, target=0), r"just read"),
    Planted("ideal_losses", "also scores the first token",
            lambda T, pi, w: _ideal(T, pi, w, belief=0, target=0, n_extra=1), r"predicts x_1"),
    Planted("ideal_losses", "uses a belief that has seen the target",
            lambda T, pi, w: _ideal(T, pi, w, belief=2), r"one token ahead"),
    Planted("ideal_losses", "measures in bits",
            lambda T, pi, w: _ideal(T, pi, w, log=np.log2), r"nats"),
    Planted("ideal_losses", "scores the probability of the whole prefix", _ideal_joint,
            r"whole prefix"),
    Planted("ideal_losses", "uses net-matrix beliefs",
            lambda T, pi, w: _ideal(T, pi, w, step=lambda b, T, x: b @ T.sum(0)),
            r"never took the tokens"),
    Planted("ideal_losses", "uses column-convention beliefs",
            lambda T, pi, w: _ideal(T, pi, w, step=lambda b, T, x: _safe(T[x] @ b)),
            r"column convention"),
]


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch02, planted)


# ---------------------------------------------------------------------------- garbage, helpers
@pytest.mark.parametrize("name, garbage", [
    ("update", lambda b, T, x: np.full(T.shape[1], 1 / T.shape[1])),
    ("belief_trajectory", lambda T, pi, w: np.full((len(w) + 1, T.shape[1]), 1 / T.shape[1])),
    ("state_uncertainty", lambda T, pi, L: float(np.log2(T.shape[1]))),
    ("myopic_entropy", lambda T, pi, L: float(np.log(T.shape[0]))),
    ("ideal_losses", lambda T, pi, w: np.full(len(w) - 1, np.log(T.shape[0]))),
])
def test_garbage_fails(name, garbage):
    assert not getattr(ch02, f"check_{name}")(garbage)


def test_ideal_losses_names_an_unfinished_earlier_exercise():
    def belief_trajectory(T, pi, tokens):
        raise NotImplementedError()

    def ideal_losses(T, pi, tokens):
        return belief_trajectory(T, pi, tokens)[1:, 0]

    result = ch02.check_ideal_losses(ideal_losses)
    assert result.status == "not_implemented"
    assert "`ideal_losses` calls `belief_trajectory`" in result.message
    assert "which is not implemented yet" in result.message


# ---------------------------------------------------------------------------- other correct answers
def _update_loops(belief, T, x):
    S = T.shape[1]
    out = [sum(belief[i] * T[x, i, j] for i in range(S)) for j in range(S)]
    total = sum(out)
    if total == 0:
        raise ValueError("token has probability zero")
    return [v / total for v in out]


@pytest.mark.parametrize("name, correct", [
    ("update", _update_loops),
    ("next_token_distribution", lambda b, T: [float(b @ T[x] @ np.ones(T.shape[1]))
                                              for x in range(T.shape[0])]),
    ("belief_trajectory", lambda T, pi, w: _trajectory(T, pi, w).tolist()),
])
def test_other_correct_answers_pass(name, correct):
    result = getattr(ch02, f"check_{name}")(correct)
    assert result, result.message
