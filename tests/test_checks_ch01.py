"""Checkers of practice notebook 01: each planted mistake gets its own diagnosis.

Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import itertools

import numpy as np
from exercise_utils import assert_diagnosis

from beliefcourse.checks import ch01


# ---------------------------------------------------------------------------- stationary
def _eigvec_one(M):
    w, v = np.linalg.eig(M)
    return np.real(v[:, np.argmin(np.abs(w - 1))])


def test_stationary_unnormalised():
    assert_diagnosis(ch01.check_stationary(lambda T: _eigvec_one(T.sum(0).T)),
                     "divide by the sum")


def test_stationary_right_eigenvector():
    def right(T):
        v = _eigvec_one(T.sum(0))
        return v / v.sum()
    assert_diagnosis(ch01.check_stationary(right), "*right*", "net.T")


def test_stationary_complex():
    def complex_(T):
        w, v = np.linalg.eig(T.sum(0).T)
        v = v[:, np.argmin(np.abs(w - 1))]
        return v / v.sum()
    assert_diagnosis(ch01.check_stationary(complex_), "np.real")


def test_stationary_garbage():
    assert_diagnosis(ch01.check_stationary(lambda T: np.full(T.shape[1], 1 / T.shape[1])),
                     "uniform")
    assert not ch01.check_stationary(lambda T: np.random.default_rng(0).dirichlet(
        np.ones(T.shape[1])))


def test_stationary_crash_is_reported_not_raised():
    result = ch01.check_stationary(lambda T: T[5])
    assert not result
    assert result.status == "error"
    assert "IndexError" in result.message


# ---------------------------------------------------------------------------- P(word)
def _prob(T, pi, tokens, step):
    v = np.asarray(pi, float)
    for x in tokens:
        v = step(v, T, x)
    return float(v.sum())


def test_sequence_probability_transposed():
    assert_diagnosis(ch01.check_sequence_probability(
        lambda T, pi, w: _prob(T, pi, w, lambda v, T, x: T[x] @ v)), "column")


def test_sequence_probability_net_matrix():
    assert_diagnosis(ch01.check_sequence_probability(
        lambda T, pi, w: _prob(T, pi, w, lambda v, T, x: v @ T.sum(0))), "net matrix")


def test_sequence_probability_reversed():
    assert_diagnosis(ch01.check_sequence_probability(
        lambda T, pi, w: _prob(T, pi, w[::-1], lambda v, T, x: v @ T[x])), "reverse order")


def test_sequence_probability_ignores_pi():
    assert_diagnosis(ch01.check_sequence_probability(
        lambda T, pi, w: _prob(T, np.ones(len(pi)), w, lambda v, T, x: v @ T[x])),
        "all-ones")


def test_sequence_probability_returns_vector():
    def vector(T, pi, w):
        v = np.asarray(pi, float)
        for x in w:
            v = v @ T[x]
        return v
    assert_diagnosis(ch01.check_sequence_probability(vector), "sum it")


def test_sequence_probability_garbage():
    assert not ch01.check_sequence_probability(lambda T, pi, w: 0.5 ** len(w))


# ---------------------------------------------------------------------------- Mess3
def _mess3(x, alpha, stay=None, beta=None, spec="ij,jk->kij"):
    beta = (1 - alpha) / 2 if beta is None else beta
    move = np.full((3, 3), x) + ((1 - 3 * x) if stay is None else stay) * np.eye(3)
    emit = np.full((3, 3), beta) + (alpha - beta) * np.eye(3)
    return np.einsum(spec, move, emit)


def test_mess3_emitted_by_old_state():
    assert_diagnosis(ch01.check_mess3_matrices(lambda x, a: _mess3(x, a, spec="ij,ik->kij")),
                     "move *into*")


def test_mess3_axis_order():
    assert_diagnosis(ch01.check_mess3_matrices(lambda x, a: _mess3(x, a, spec="ij,jk->ijk")),
                     "axis 0 must be the token")


def test_mess3_beta_not_halved():
    assert_diagnosis(ch01.check_mess3_matrices(lambda x, a: _mess3(x, a, beta=1 - a)),
                     "(1 - alpha) / 2")


def test_mess3_stay_probability():
    assert_diagnosis(ch01.check_mess3_matrices(lambda x, a: _mess3(x, a, stay=1 - 2 * x)),
                     "1 - 2x")


def test_mess3_garbage():
    assert not ch01.check_mess3_matrices(lambda x, a: np.full((3, 3, 3), 1 / 9))


# ---------------------------------------------------------------------------- sampling
def _sampler(draw_step, first=None, states_include_s0=True):
    def sample(T, pi, length, rng):
        n_tokens, n_states, _ = T.shape
        tokens = np.zeros(length, dtype=int)
        states = np.zeros(length + 1, dtype=int)
        states[0] = rng.choice(n_states, p=pi) if first is None else first
        for t in range(length):
            tokens[t], states[t + 1] = draw_step(T, states[t], rng)
        return (tokens, states) if states_include_s0 else (tokens, states[1:])
    return sample


def _joint_step(T, i, rng):
    k = rng.choice(T.shape[0] * T.shape[1], p=T[:, i, :].ravel())
    return divmod(k, T.shape[1])


def test_sample_independent_token_and_state():
    def step(T, i, rng):
        x = rng.choice(T.shape[0], p=T[:, i, :].sum(1))
        j = rng.choice(T.shape[1], p=T.sum(0)[i])
        return x, j
    assert_diagnosis(ch01.check_sample(_sampler(step)), "separately")


def test_sample_state_never_moves():
    def step(T, i, rng):
        x = rng.choice(T.shape[0], p=T[:, i, :].sum(1))
        return x, i
    assert_diagnosis(ch01.check_sample(_sampler(step)), "never changes")


def test_sample_column_convention():
    def step(T, i, rng):
        col = T[:, :, i]
        k = rng.choice(col.size, p=(col / col.sum()).ravel())
        return divmod(k, T.shape[1])
    assert_diagnosis(ch01.check_sample(_sampler(step)), "column-wise")


def test_sample_initial_state_fixed():
    assert_diagnosis(ch01.check_sample(_sampler(_joint_step, first=0)),
                     "drawn from `pi`", "always 0")


def test_sample_missing_initial_state():
    assert_diagnosis(ch01.check_sample(_sampler(_joint_step, states_include_s0=False)),
                     "initial state s_0")


def test_sample_not_reproducible():
    global_rng = np.random.default_rng(12345)

    def sample(T, pi, length, rng):
        return _sampler(_joint_step)(T, pi, length, global_rng)
    assert_diagnosis(ch01.check_sample(sample), "`rng` argument")


def test_sample_garbage():
    def sample(T, pi, length, rng):
        return (rng.integers(0, T.shape[0], length), rng.integers(0, T.shape[1], length + 1))
    assert not ch01.check_sample(sample)


# ---------------------------------------------------------------------------- bigrams
def _bigrams(T, pi):
    return np.einsum("i,aij,bjk->ab", pi, T, T)


def test_bigrams_transposed():
    assert_diagnosis(ch01.check_bigram_probabilities(lambda T, pi: _bigrams(T, pi).T),
                     "transposed")


def test_bigrams_independent():
    def independent(T, pi):
        p = np.einsum("i,aij->a", pi, T)
        return np.outer(p, p)
    assert_diagnosis(ch01.check_bigram_probabilities(independent), "independent")


def test_bigrams_conditional():
    def conditional(T, pi):
        B = _bigrams(T, pi)
        return B / B.sum(1, keepdims=True)
    assert_diagnosis(ch01.check_bigram_probabilities(conditional), "conditional")


def test_bigrams_garbage():
    assert not ch01.check_bigram_probabilities(
        lambda T, pi: np.full((T.shape[0], T.shape[0]), 1 / T.shape[0] ** 2))


# ---------------------------------------------------------------------------- lagged agreement
def _same(T, pi, power):
    between = np.linalg.matrix_power(T.sum(0), power)
    return float(sum(pi @ T[a] @ between @ T[a] @ np.ones(T.shape[1]) for a in range(len(T))))


def test_same_token_off_by_one():
    assert_diagnosis(ch01.check_same_token_probability(lambda T, pi, k: _same(T, pi, k)),
                     "k - 1 tokens")


def test_same_token_consecutive_run():
    def run_of_equal(T, pi, k):
        ones = np.ones(T.shape[1])
        return float(sum(pi @ np.linalg.matrix_power(T[a], k + 1) @ ones
                         for a in range(len(T))))
    assert_diagnosis(ch01.check_same_token_probability(run_of_equal), "*consecutive*")


def test_same_token_garbage():
    assert not ch01.check_same_token_probability(lambda T, pi, k: 1 / T.shape[0])


def test_random_hmms_are_valid_and_irreducible():
    rng = np.random.default_rng(0)
    for n_states, n_tokens in itertools.product((2, 4, 6), (2, 3)):
        hmm = ch01.random_hmm(rng, n_states, n_tokens)
        pi = hmm.stationary()
        assert np.all(pi > 0)
        np.testing.assert_allclose(pi @ hmm.transition_matrix, pi, atol=1e-12)


# ---------------------------------------------------------------------------- more planted mistakes
def test_stationary_unnormalised_names_normalisation():
    """Chapter 00 shows this verdict: it must name the mistake, not only the symptom."""
    result = ch01.check_stationary(lambda T: _eigvec_one(T.sum(0).T))
    assert_diagnosis(result, "not normalised", "sums to")


def test_stationary_column_shape():
    assert_diagnosis(ch01.check_stationary(
        lambda T: (_eigvec_one(T.sum(0).T) / _eigvec_one(T.sum(0).T).sum())[:, None]),
        "1-D array")


def test_stationary_row_of_eigenvector_matrix():
    def rows(T):
        w, v = np.linalg.eig(T.sum(0).T)
        row = np.real(v[np.argmin(np.abs(w - 1))])
        return row / row.sum()
    assert not ch01.check_stationary(rows)


def test_sequence_probability_drops_last_token():
    assert_diagnosis(ch01.check_sequence_probability(
        lambda T, pi, w: _prob(T, pi, list(w)[:-1], lambda v, T, x: v @ T[x])),
        "last token")


def test_sequence_probability_log():
    def log_prob(T, pi, w):
        p = _prob(T, pi, w, lambda v, T, x: v @ T[x])
        return np.log(p) if p > 0 else 0.0
    assert_diagnosis(ch01.check_sequence_probability(log_prob), "natural log")


def test_sequence_probability_uniform_start():
    assert_diagnosis(ch01.check_sequence_probability(
        lambda T, pi, w: _prob(T, np.full(len(pi), 1 / len(pi)), w, lambda v, T, x: v @ T[x])),
        "uniform distribution")


def test_mess3_transposed():
    assert_diagnosis(ch01.check_mess3_matrices(lambda x, a: _mess3(x, a, spec="ij,jk->kji")),
                     "transposed")


def test_bigrams_uniform_start():
    assert_diagnosis(ch01.check_bigram_probabilities(
        lambda T, pi: _bigrams(T, np.full(len(pi), 1 / len(pi)))), "uniform distribution")


def test_same_token_uniform_start():
    def uniform(T, pi, k):
        return _same(T, np.full(len(pi), 1 / len(pi)), k - 1)
    assert_diagnosis(ch01.check_same_token_probability(uniform), "uniform distribution")


def test_same_token_net_matrix_at_the_end():
    def net_end(T, pi, k):
        between = np.linalg.matrix_power(T.sum(0), k - 1)
        return float(sum(pi @ T[a] @ between @ T.sum(0) @ np.ones(T.shape[1])
                         for a in range(len(T))))
    assert_diagnosis(ch01.check_same_token_probability(net_end), "Both ends")


def test_same_token_lag_minus_one():
    assert_diagnosis(ch01.check_same_token_probability(
        lambda T, pi, k: _same(T, pi, max(k - 2, 0))), "k - 1")
