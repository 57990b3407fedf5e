"""Checkers of practice notebook 02: each planted mistake gets its own diagnosis.

Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import itertools

import numpy as np
from exercise_utils import assert_diagnosis

from beliefcourse.checks import ch02


def _safe(v):
    """Normalise, raising ValueError for a zero vector (so only the planted bug differs)."""
    s = v.sum()
    if s <= 0:
        raise ValueError("impossible token")
    return v / s


# ---------------------------------------------------------------------------- update
def test_update_not_normalised():
    def update(belief, T, x):
        out = belief @ T[x]
        if out.sum() <= 0:
            raise ValueError("impossible")
        return out
    assert_diagnosis(ch02.check_update(update), "not normalised")


def test_update_net_matrix():
    assert_diagnosis(ch02.check_update(lambda b, T, x: _safe(b @ T.sum(0))), "net matrix")


def test_update_transposed():
    assert_diagnosis(ch02.check_update(lambda b, T, x: _safe(T[x] @ b)), "column vector")


def test_update_reweights_without_moving():
    assert_diagnosis(ch02.check_update(lambda b, T, x: _safe(b * T[x].sum(1))),
                     "did not move it forward")


def test_update_nan_for_impossible_token():
    def update(belief, T, x):
        with np.errstate(invalid="ignore", divide="ignore"):
            v = belief @ T[x]
            return v / v.sum()
    assert_diagnosis(ch02.check_update(update), "probability zero", "ValueError")


def test_update_zero_division():
    def update(belief, T, x):
        v = [float(a) for a in belief @ T[x]]
        total = sum(v)
        return np.array([a / total for a in v])
    assert_diagnosis(ch02.check_update(update), "ZeroDivisionError")


def test_update_in_place():
    def update(belief, T, x):
        v = _safe(belief @ T[x])
        belief[:] = v
        return belief
    assert_diagnosis(ch02.check_update(update), "in place")


def test_update_garbage():
    assert not ch02.check_update(lambda b, T, x: np.full(T.shape[1], 1 / T.shape[1]))


# ---------------------------------------------------------------------------- next token
def test_next_token_transposed():
    assert_diagnosis(ch02.check_next_token_distribution(
        lambda b, T: np.einsum("j,xij->x", b, T)), "column convention")


def test_next_token_returns_next_state():
    assert_diagnosis(ch02.check_next_token_distribution(lambda b, T: b @ T.sum(0)),
                     "next *state*")


def test_next_token_garbage():
    assert_diagnosis(ch02.check_next_token_distribution(
        lambda b, T: np.full(T.shape[0], 1 / T.shape[0])), "uniform")


# ---------------------------------------------------------------------------- trajectories
def _trajectory(T, pi, tokens, step=lambda b, T, x: _safe(b @ T[x])):
    rows = [np.asarray(pi, float)]
    for x in tokens:
        rows.append(step(rows[-1], T, x))
    return np.array(rows)


def test_trajectory_without_prior():
    assert_diagnosis(ch02.check_belief_trajectory(lambda T, pi, w: _trajectory(T, pi, w)[1:]),
                     "Row 0 must be the prior")


def test_trajectory_stops_early():
    assert_diagnosis(ch02.check_belief_trajectory(lambda T, pi, w: _trajectory(T, pi, w)[:-1]),
                     "not the last one")


def test_trajectory_shifted():
    def shifted(T, pi, w):
        traj = _trajectory(T, pi, w)
        return np.vstack([traj[1:], traj[-1:]])
    assert_diagnosis(ch02.check_belief_trajectory(shifted), "shifted by one")


def test_trajectory_not_normalised():
    assert_diagnosis(ch02.check_belief_trajectory(
        lambda T, pi, w: _trajectory(T, pi, w, step=lambda b, T, x: b @ T[x])),
        "not normalised")


def test_trajectory_net_matrix():
    assert_diagnosis(ch02.check_belief_trajectory(
        lambda T, pi, w: _trajectory(T, pi, w, step=lambda b, T, x: b @ T.sum(0))),
        "net matrix")


def test_trajectory_transposed():
    assert_diagnosis(ch02.check_belief_trajectory(
        lambda T, pi, w: _trajectory(T, pi, w, step=lambda b, T, x: _safe(T[x] @ b))),
        "column convention")


def test_trajectory_garbage():
    assert not ch02.check_belief_trajectory(
        lambda T, pi, w: np.full((len(w) + 1, T.shape[1]), 1 / T.shape[1]))


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


def test_state_uncertainty_nats():
    assert_diagnosis(ch02.check_state_uncertainty(
        lambda T, pi, L: _uncertainty(T, pi, L, log=np.log)), "natural log")


def test_state_uncertainty_unweighted():
    assert_diagnosis(ch02.check_state_uncertainty(
        lambda T, pi, L: _uncertainty(T, pi, L, weighted=False)), "equal weight")


def test_state_uncertainty_off_by_one():
    assert_diagnosis(ch02.check_state_uncertainty(
        lambda T, pi, L: _uncertainty(T, pi, L, length=lambda L: L + 1)),
        "number of tokens seen")


def test_state_uncertainty_entropy_of_average():
    def of_average(T, pi, L):
        mean = sum(v for p, v in _words(T, pi, L) if p > 0)
        return _entropy(mean, np.log2)
    assert_diagnosis(ch02.check_state_uncertainty(of_average), "*average* belief")


def test_state_uncertainty_nan_from_zero_log_zero():
    def naive(T, pi, L):
        total = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            for p, v in _words(T, pi, L):
                if p > 0:
                    eta = v / p
                    total += p * -(eta * np.log2(eta)).sum()
        return total
    assert_diagnosis(ch02.check_state_uncertainty(naive), "0 log 0 = 0")


def test_state_uncertainty_garbage():
    assert not ch02.check_state_uncertainty(lambda T, pi, L: float(np.log2(T.shape[1])))


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


def test_myopic_entropy_bits():
    assert_diagnosis(ch02.check_myopic_entropy(
        lambda T, pi, L: _myopic(T, pi, L, log=np.log2)), "in bits")


def test_myopic_entropy_context_off_by_one():
    assert_diagnosis(ch02.check_myopic_entropy(
        lambda T, pi, L: _myopic(T, pi, L, context=lambda L: L)), "context has L - 1 tokens")


def test_myopic_entropy_of_belief():
    assert_diagnosis(ch02.check_myopic_entropy(
        lambda T, pi, L: _myopic(T, pi, L, of="belief")), "state uncertainty")


def test_myopic_entropy_unweighted():
    assert_diagnosis(ch02.check_myopic_entropy(
        lambda T, pi, L: _myopic(T, pi, L, weighted=False)), "equal weight")


def test_myopic_entropy_block_entropy():
    def block(T, pi, L):
        return sum(-p * np.log(p) for p, _ in _words(T, pi, L) if p > 0)
    assert_diagnosis(ch02.check_myopic_entropy(block), "block entropy")


def test_myopic_entropy_garbage():
    assert not ch02.check_myopic_entropy(lambda T, pi, L: float(np.log(T.shape[0])))


# ---------------------------------------------------------------------------- position losses
def _ideal(T, pi, tokens, belief=1, target=1, n_extra=0, log=np.log, step=None):
    """Losses -log P(tokens[p + target] | row p + belief) for n + n_extra positions."""
    traj = _trajectory(T, pi, tokens) if step is None else _trajectory(T, pi, tokens, step)
    probs = np.einsum("ni,xij->nx", traj, T)
    n = len(tokens) - 1 + n_extra
    with np.errstate(divide="ignore"):
        return np.array([-log(probs[p + belief, tokens[p + target]]) for p in range(n)])


def test_ideal_losses_lagging_belief():
    assert_diagnosis(ch02.check_ideal_losses(lambda T, pi, w: _ideal(T, pi, w, belief=0)),
                     "lags one token behind")


def test_ideal_losses_predicts_what_it_read():
    assert_diagnosis(ch02.check_ideal_losses(
        lambda T, pi, w: _ideal(T, pi, w, belief=0, target=0)), "just read")


def test_ideal_losses_scores_first_token():
    assert_diagnosis(ch02.check_ideal_losses(
        lambda T, pi, w: _ideal(T, pi, w, belief=0, target=0, n_extra=1)), "predicts x_1")


def test_ideal_losses_belief_sees_target():
    assert_diagnosis(ch02.check_ideal_losses(lambda T, pi, w: _ideal(T, pi, w, belief=2)),
                     "one token ahead")


def test_ideal_losses_bits():
    assert_diagnosis(ch02.check_ideal_losses(lambda T, pi, w: _ideal(T, pi, w, log=np.log2)),
                     "nats")


def test_ideal_losses_joint_probability():
    def joint(T, pi, w):
        return np.array([-np.log(sum(_words_prefix(T, pi, w[:p + 2])))
                         for p in range(len(w) - 1)])
    assert_diagnosis(ch02.check_ideal_losses(joint), "whole prefix")


def _words_prefix(T, pi, word):
    v = np.asarray(pi, float)
    for x in word:
        v = v @ T[x]
    return v


def test_ideal_losses_net_matrix_beliefs():
    assert_diagnosis(ch02.check_ideal_losses(
        lambda T, pi, w: _ideal(T, pi, w, step=lambda b, T, x: b @ T.sum(0))),
        "never took the tokens")


def test_ideal_losses_transposed_beliefs():
    assert_diagnosis(ch02.check_ideal_losses(
        lambda T, pi, w: _ideal(T, pi, w, step=lambda b, T, x: _safe(T[x] @ b))),
        "column convention")


def test_ideal_losses_names_an_unfinished_earlier_exercise():
    def belief_trajectory(T, pi, tokens):
        raise NotImplementedError()

    def ideal_losses(T, pi, tokens):
        return belief_trajectory(T, pi, tokens)[1:, 0]

    result = ch02.check_ideal_losses(ideal_losses)
    assert result.status == "failed"
    assert "`belief_trajectory`, which is not implemented yet" in result.message


def test_ideal_losses_garbage():
    assert not ch02.check_ideal_losses(lambda T, pi, w: np.full(len(w) - 1, np.log(T.shape[0])))
