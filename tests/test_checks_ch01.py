"""Checkers of practice notebook 01: each planted mistake gets its own diagnosis.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``). Solutions passing, stubs "not implemented" and determinism:
test_checks_exercises.py."""

import itertools

import numpy as np
import pytest
from exercise_utils import Planted, assert_planted, planted_id

from beliefcourse.checks import ch01


# ---------------------------------------------------------------------------- stationary
def _eigvec_one(M):
    w, v = np.linalg.eig(M)
    return np.real(v[:, np.argmin(np.abs(w - 1))])


def _right_eigenvector(T):
    v = _eigvec_one(T.sum(0))
    return v / v.sum()


def _complex_eigenvector(T):
    w, v = np.linalg.eig(T.sum(0).T)
    v = v[:, np.argmin(np.abs(w - 1))]
    return v / v.sum()


def _row_of_eigenvector_matrix(T):
    w, v = np.linalg.eig(T.sum(0).T)
    row = np.real(v[np.argmin(np.abs(w - 1))])
    return row / row.sum()


def _one_token_matrix(T):
    w, v = np.linalg.eig(T[0].T)
    vec = np.real(v[:, np.argmax(np.real(w))])
    return vec / vec.sum()


def _normalised(T):
    v = _eigvec_one(T.sum(0).T)
    return v / v.sum()


# ---------------------------------------------------------------------------- P(word)
def _prob(T, pi, tokens, step=lambda v, T, x: v @ T[x]):
    v = np.asarray(pi, float)
    for x in tokens:
        v = step(v, T, x)
    return float(v.sum())


def _end_vector(T, pi, w):
    v = np.asarray(pi, float)
    for x in w:
        v = v @ T[x]
    return v


def _log_prob(T, pi, w):
    p = _prob(T, pi, w)
    return np.log(p) if p > 0 else 0.0


# ---------------------------------------------------------------------------- Mess3
def _mess3(x, alpha, stay=None, beta=None, spec="ij,jk->kij"):
    beta = (1 - alpha) / 2 if beta is None else beta
    move = np.full((3, 3), x) + ((1 - 3 * x) if stay is None else stay) * np.eye(3)
    emit = np.full((3, 3), beta) + (alpha - beta) * np.eye(3)
    return np.einsum(spec, move, emit)


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


def _independent_step(T, i, rng):
    x = rng.choice(T.shape[0], p=T[:, i, :].sum(1))
    j = rng.choice(T.shape[1], p=T.sum(0)[i])
    return x, j


def _emit_from_new_state(T, i, rng):
    j = rng.choice(T.shape[1], p=T.sum(0)[i])
    x = rng.choice(T.shape[0], p=T[:, j, :].sum(-1))
    return x, j


def _frozen_step(T, i, rng):
    x = rng.choice(T.shape[0], p=T[:, i, :].sum(1))
    return x, i


def _column_step(T, i, rng):
    col = T[:, :, i]
    k = rng.choice(col.size, p=(col / col.sum()).ravel())
    return divmod(k, T.shape[1])


_GLOBAL_RNG = np.random.default_rng(12345)


def _global_rng_sampler(T, pi, length, rng):
    return _sampler(_joint_step)(T, pi, length, _GLOBAL_RNG)


# ---------------------------------------------------------------------------- bigrams
def _bigrams(T, pi):
    return np.einsum("i,aij,bjk->ab", pi, T, T)


def _independent_bigrams(T, pi):
    p = np.einsum("i,aij->a", pi, T)
    return np.outer(p, p)


def _conditional_bigrams(T, pi):
    B = _bigrams(T, pi)
    return B / B.sum(1, keepdims=True)


# ---------------------------------------------------------------------------- lagged agreement
def _same(T, pi, power):
    between = np.linalg.matrix_power(T.sum(0), power)
    return float(sum(pi @ T[a] @ between @ T[a] @ np.ones(T.shape[1]) for a in range(len(T))))


def _run_of_equal(T, pi, k):
    ones = np.ones(T.shape[1])
    return float(sum(pi @ np.linalg.matrix_power(T[a], k + 1) @ ones for a in range(len(T))))


def _net_at_the_end(T, pi, k):
    between = np.linalg.matrix_power(T.sum(0), k - 1)
    return float(sum(pi @ T[a] @ between @ T.sum(0) @ np.ones(T.shape[1])
                     for a in range(len(T))))


PLANTED = [
    # stationary(T)
    Planted("stationary", "returns the eigenvector without normalising it",
            lambda T: _eigvec_one(T.sum(0).T), r"not normalised.*sums to.*divide by the sum"),
    Planted("stationary", "takes the right eigenvector (decomposes net, not net.T)",
            _right_eigenvector, r"\*right\*.*net\.T"),
    Planted("stationary", "returns np.linalg.eig's complex vector",
            _complex_eigenvector, r"np\.real"),
    Planted("stationary", "divides by the Euclidean norm, not the sum",
            lambda T: _eigvec_one(T.sum(0).T) / np.linalg.norm(_eigvec_one(T.sum(0).T)),
            r"not normalised.*divide by the sum"),
    Planted("stationary", "uses T[0] instead of the net matrix", _one_token_matrix,
            r"single token's matrix T\[0\]"),
    Planted("stationary", "returns a column vector (S, 1)",
            lambda T: _normalised(T)[:, None], r"1-D array"),
    Planted("stationary", "takes a row of the eigenvector matrix, not a column",
            _row_of_eigenvector_matrix, r"\*row\* of the eigenvector matrix"),
    # sequence_probability(T, pi, tokens)
    Planted("sequence_probability", "multiplies column vectors, T[x] @ v",
            lambda T, pi, w: _prob(T, pi, w, lambda v, T, x: T[x] @ v), r"column"),
    Planted("sequence_probability", "uses the net matrix at every step",
            lambda T, pi, w: _prob(T, pi, w, lambda v, T, x: v @ T.sum(0)), r"net matrix"),
    Planted("sequence_probability", "multiplies the matrices in reverse order",
            lambda T, pi, w: _prob(T, pi, w[::-1]), r"reverse order"),
    Planted("sequence_probability", "starts from the all-ones vector (forgets the prior)",
            lambda T, pi, w: _prob(T, np.ones(len(pi)), w), r"all-ones"),
    Planted("sequence_probability", "returns the end vector without summing it",
            _end_vector, r"sum it"),
    Planted("sequence_probability", "drops the last token",
            lambda T, pi, w: _prob(T, pi, list(w)[:-1]), r"last token"),
    Planted("sequence_probability", "returns the log-probability",
            _log_prob, r"natural log"),
    Planted("sequence_probability", "starts from the uniform distribution",
            lambda T, pi, w: _prob(T, np.full(len(pi), 1 / len(pi)), w),
            r"uniform distribution"),
    # mess3_matrices(x, alpha)
    Planted("mess3_matrices", "emits from the state it leaves",
            lambda x, a: _mess3(x, a, spec="ij,ik->kij"), r"move \*into\*"),
    Planted("mess3_matrices", "puts the token on the last axis",
            lambda x, a: _mess3(x, a, spec="ij,jk->ijk"), r"axis 0 must be the token"),
    Planted("mess3_matrices", "off-token probability 1 - alpha, not halved",
            lambda x, a: _mess3(x, a, beta=1 - a), r"\(1 - alpha\) / 2"),
    Planted("mess3_matrices", "swaps alpha and beta in the emissions",
            lambda x, a: np.einsum("ij,jk->kij", np.full((3, 3), x) + (1 - 3 * x) * np.eye(3),
                                   np.full((3, 3), a) + ((1 - a) / 2 - a) * np.eye(3)),
            r"swapped the emission probabilities"),
    Planted("mess3_matrices", "stays with probability 1 - x",
            lambda x, a: _mess3(x, a, stay=1 - 2 * x), r"1 - 2x"),
    Planted("mess3_matrices", "transposes every T[k]",
            lambda x, a: _mess3(x, a, spec="ij,jk->kji"), r"transposed"),
    # sample(T, pi, length, rng)
    Planted("sample", "draws the token and the next state independently",
            _sampler(_independent_step), r"separately"),
    Planted("sample", "draws the next state, then a token from the new state's row",
            _sampler(_emit_from_new_state), r"\*new\* state"),
    Planted("sample", "never moves the hidden state",
            _sampler(_frozen_step), r"never changes"),
    Planted("sample", "reads the matrices column-wise",
            _sampler(_column_step), r"column-wise"),
    Planted("sample", "always starts in state 0",
            _sampler(_joint_step, first=0), r"drawn from `pi`.*always 0"),
    Planted("sample", "leaves the initial state out of `states`",
            _sampler(_joint_step, states_include_s0=False), r"initial state s_0"),
    Planted("sample", "draws from a global generator, not `rng`",
            _global_rng_sampler, r"`rng` argument"),
    # bigram_probabilities(T, pi)
    Planted("bigram_probabilities", "transposes B",
            lambda T, pi: _bigrams(T, pi).T, r"transposed"),
    Planted("bigram_probabilities", "multiplies the single-token probabilities",
            _independent_bigrams, r"independent"),
    Planted("bigram_probabilities", "returns the conditional P(x_2 | x_1)",
            _conditional_bigrams, r"conditional"),
    Planted("bigram_probabilities", "starts from the all-ones vector",
            lambda T, pi: _bigrams(T, np.ones(len(pi))), r"all-ones vector"),
    Planted("bigram_probabilities", "uses the net matrix for the second token",
            lambda T, pi: np.einsum("i,aij,jk->a", pi, T, T.sum(0))[:, None].repeat(len(T), 1),
            r"second factor was the net matrix"),
    Planted("bigram_probabilities", "starts from the uniform distribution",
            lambda T, pi: _bigrams(T, np.full(len(pi), 1 / len(pi))), r"uniform distribution"),
    # same_token_probability(T, pi, lag)
    Planted("same_token_probability", "net matrix to the power k (off by one)",
            lambda T, pi, k: _same(T, pi, k), r"k - 1 tokens"),
    Planted("same_token_probability", "asks for k + 1 consecutive equal tokens",
            _run_of_equal, r"\*consecutive\*"),
    Planted("same_token_probability", "starts from the uniform distribution",
            lambda T, pi, k: _same(T, np.full(len(pi), 1 / len(pi)), k - 1),
            r"uniform distribution"),
    Planted("same_token_probability", "counts only token 0",
            lambda T, pi, k: float(pi @ T[0] @ np.linalg.matrix_power(T.sum(0), k - 1) @ T[0]
                                   @ np.ones(T.shape[1])), r"only token 0"),
    Planted("same_token_probability", "uses the net matrix for the second token",
            _net_at_the_end, r"Both ends"),
    Planted("same_token_probability", "net matrix to the power k - 2 (off by one)",
            lambda T, pi, k: _same(T, pi, max(k - 2, 0)), r"lag \d+: use the net matrix"),
]


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch01, planted)


# ---------------------------------------------------------------------------- garbage, crashes
@pytest.mark.parametrize("name, garbage", [
    ("stationary", lambda T: np.random.default_rng(0).dirichlet(np.ones(T.shape[1]))),
    ("sequence_probability", lambda T, pi, w: 0.5 ** len(w)),
    ("mess3_matrices", lambda x, a: np.full((3, 3, 3), 1 / 9)),
    ("sample", lambda T, pi, length, rng: (rng.integers(0, T.shape[0], length),
                                           rng.integers(0, T.shape[1], length + 1))),
    ("bigram_probabilities",
     lambda T, pi: np.full((T.shape[0], T.shape[0]), 1 / T.shape[0] ** 2)),
    ("same_token_probability", lambda T, pi, k: 1 / T.shape[0]),
])
def test_garbage_fails(name, garbage):
    assert not getattr(ch01, f"check_{name}")(garbage)


def test_stationary_crash_is_reported_not_raised():
    result = ch01.check_stationary(lambda T: T[5])
    assert not result
    assert result.status == "error"
    assert "IndexError" in result.message


def test_random_hmms_are_valid_and_irreducible():
    rng = np.random.default_rng(0)
    for n_states, n_tokens in itertools.product((2, 4, 6), (2, 3)):
        hmm = ch01.random_hmm(rng, n_states, n_tokens)
        pi = hmm.stationary()
        assert np.all(pi > 0)
        np.testing.assert_allclose(pi @ hmm.transition_matrix, pi, atol=1e-12)


# ---------------------------------------------------------------------------- other correct answers
def _stationary_solve(T):
    net = T.sum(0)
    S = len(net)
    A = np.vstack([net.T - np.eye(S), np.ones(S)])
    return np.linalg.lstsq(A, np.r_[np.zeros(S), 1.0], rcond=None)[0]


def _stationary_power(T):
    v = np.full(T.shape[1], 1 / T.shape[1])
    net = T.sum(0)
    lazy = 0.5 * (net + np.eye(len(net)))        # aperiodic, same stationary distribution
    for _ in range(20_000):
        v = v @ lazy
    return v


@pytest.mark.parametrize("name, correct", [
    ("stationary", _stationary_solve),
    ("stationary", _stationary_power),
    ("sequence_probability", lambda T, pi, w: np.linalg.multi_dot(
        [np.asarray(pi)[None, :]] + [T[x] for x in w] + [np.ones((T.shape[1], 1))]).item()),
    ("bigram_probabilities", lambda T, pi: np.array([[pi @ T[a] @ T[b] @ np.ones(T.shape[1])
                                                       for b in range(len(T))]
                                                      for a in range(len(T))])),
])
def test_other_correct_answers_pass(name, correct):
    result = getattr(ch01, f"check_{name}")(correct)
    assert result, result.message
