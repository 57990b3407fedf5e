"""Checkers of practice notebook 01 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): hand-written wrong answers the registry does not list, other correct
answers, garbage and crashes."""

import itertools

import numpy as np
import pytest

from beliefcourse.checks import ch01


# ---------------------------------------------------------------------------- wrong, by hand
def _normalising(last):
    """Normalises at every step without a guard (NaN on impossible words), returning the
    normalised vector's sum or the last normaliser."""
    def sequence_probability(T, pi, tokens):
        v, p = np.asarray(pi, float), 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            for x in tokens:
                v = v @ T[x]
                p = v.sum()
                v = v / p
        return p if last else v.sum()
    return sequence_probability


@pytest.mark.parametrize("last", [False, True])
def test_normalising_at_each_step_is_named(last):
    result = ch01.check_sequence_probability(_normalising(last))
    assert "normalised the vector at each step" in result.message, result.message


def test_approximate_stationary_prints_a_visible_residual():
    result = ch01.check_stationary(lambda T: (lambda p: p + np.r_[3.5e-5, -3.5e-5,
                                                                    np.zeros(len(p) - 2)])(
        ch01.HMM(T).stationary()))
    assert not result and "max |pi T - pi| = " in result.message
    assert "e-05" in result.message and "-0." not in result.message, result.message


@pytest.mark.parametrize("divide_by_X, own_rng, uniform_s0, cause", [
    (True, False, False, "divmod(k, n_states)"), (False, True, False, "seeds 7 and 8 the same"),
    (False, False, True, "drawn from `pi` = [0.7, 0.1, 0.1, 0.1]")])
def test_hand_written_samplers_are_named(divide_by_X, own_rng, uniform_s0, cause):
    def sample(T, pi, length, rng):
        X, S, _ = T.shape
        rng = np.random.default_rng(0) if own_rng else rng
        tokens, states = np.zeros(length, int), np.zeros(length + 1, int)
        states[0] = rng.integers(S) if uniform_s0 else rng.choice(S, p=pi)
        for t in range(length):
            k = int(rng.choice(X * S, p=T[:, states[t], :].reshape(-1)))
            tokens[t], states[t + 1] = divmod(k, X if divide_by_X else S)
        return tokens, states
    assert cause in (result := ch01.check_sample(sample)).message, result.message


# ---------------------------------------------------------------------------- garbage, crashes
def test_stationary_crash_is_reported_not_raised():
    result = ch01.check_stationary(lambda T: T[5])
    assert result.status == "error" and "IndexError" in result.message


def test_random_hmms_are_valid_and_irreducible():
    rng = np.random.default_rng(0)
    for n_states, n_tokens in itertools.product((2, 4, 6), (2, 3)):
        hmm = ch01.random_hmm(rng, n_states, n_tokens)
        pi = hmm.stationary()
        assert np.all(pi > 0)
        np.testing.assert_allclose(pi @ hmm.transition_matrix, pi, atol=1e-12)


# ---------------------------------------------------------------------------- other correct answers
def _stationary_solve(T):
    net, S = T.sum(0), T.shape[1]
    A = np.vstack([net.T - np.eye(S), np.ones(S)])
    return np.linalg.lstsq(A, np.r_[np.zeros(S), 1.0], rcond=None)[0]


def _stationary_power(T):
    v, lazy = np.full(T.shape[1], 1 / T.shape[1]), 0.5 * (T.sum(0) + np.eye(T.shape[1]))
    for _ in range(20_000):                      # lazy: aperiodic, same stationary distribution
        v = v @ lazy
    return v


@pytest.mark.parametrize("name, correct", [
    ("stationary", _stationary_solve),
    ("stationary", _stationary_power),
    ("sequence_probability", lambda T, pi, w: np.linalg.multi_dot(
        [np.asarray(pi)[None, :]] + [T[x] for x in w] + [np.ones((T.shape[1], 1))]).item()),
    ("bigram_probabilities", lambda T, pi: [[pi @ T[a] @ T[b] @ np.ones(T.shape[1])
                                             for b in range(len(T))] for a in range(len(T))]),
])
def test_other_correct_answers_pass(name, correct):
    result = getattr(ch01, f"check_{name}")(correct)
    assert result, result.message
