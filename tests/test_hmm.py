"""Unit and property tests for beliefcourse.hmm.HMM (validation, stationarity, sampling,
probabilities)."""

import itertools
import warnings

import numpy as np
import pytest
from hmm_strategies import hmm_strategy
from hypothesis import given, settings
from hypothesis import strategies as st

from beliefcourse import processes
from beliefcourse.hmm import (
    HMM,
    REDUCIBLE_TOL,
    ReducibleChainWarning,
    closed_classes,
    gth_stationary,
)

SETTINGS = settings(max_examples=25, deadline=None)


hmms = hmm_strategy(max_states=4)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad, err, match", [
    (np.array([[["a"]]]), TypeError, "numeric"),
    ([[[1.0, 0.0], [0.0]]], (TypeError, ValueError), None),
    (np.ones((1, 2, 2), dtype=complex) / 2, TypeError, "real"),
    (np.ones((2, 2)) / 2, ValueError, "shape"),
    (np.ones((1, 2, 3)) / 3, ValueError, "shape"),
    (np.zeros((0, 2, 2)), ValueError, "shape"),
    (np.array([[[np.nan, 1.0], [0.5, 0.5]]]), ValueError, "not finite"),
    (np.array([[[1.5, -0.5], [0.5, 0.5]]]), ValueError, "negative"),
])
def test_malformed_T_rejected(bad, err, match):
    with pytest.raises(err, match=match):
        HMM(bad)


def test_row_not_summing_to_one_names_the_row():
    T = np.array([[[0.5, 0.5], [0.2, 0.2]]])
    with pytest.raises(ValueError, match=r"row 1 of T.sum\(0\) sums to 0.4"):
        HMM(T)


def test_names_length_checked():
    with pytest.raises(ValueError, match="state_names has 1 entries, expected 2"):
        HMM(processes.golden_mean().T, state_names=["A"])
    with pytest.raises(ValueError, match="token_names"):
        HMM(processes.golden_mean().T, token_names=["0", "1", "2"])


def test_T_is_read_only_and_float():
    hmm = HMM(np.ones((1, 2, 2), dtype=int) * np.array([[[1, 0], [0, 1]]]))
    assert hmm.T.dtype == np.float64
    with pytest.raises(ValueError):
        hmm.T[0, 0, 0] = 0.5


def test_repr_shows_names_and_matrices():
    text = repr(processes.z1r())
    assert "HMM(n_states=3, n_tokens=2" in text
    assert "S0" in text and "SR" in text and "T['0']" in text


# ---------------------------------------------------------------------------- stationary
@pytest.mark.filterwarnings("ignore::beliefcourse.hmm.ReducibleChainWarning")
@SETTINGS
@given(hmms)
def test_stationary_is_a_fixed_point(hmm):
    pi = hmm.stationary()
    assert pi.shape == (hmm.n_states,)
    assert np.all(pi >= 0) and np.isclose(pi.sum(), 1.0)
    np.testing.assert_allclose(pi @ hmm.transition_matrix, pi, atol=1e-9)


def _two_state(a, b):
    """Leave state 0 with probability a, state 1 with b: pi = (b, a) / (a + b) exactly."""
    return HMM(np.array([[[1 - a, a], [b, 1 - b]]]))


def _stationary_and_warnings(hmm):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pi = hmm.stationary()
    return pi, [w for w in caught if issubclass(w.category, ReducibleChainWarning)]


@pytest.mark.parametrize("a, b", [(0.3, 0.1), (1e-9, 3e-9), (1e-12, 3e-13), (4e-14, 1e-13)])
def test_weakly_coupled_chain_is_accurate_to_every_digit(a, b):
    """Above the reducibility line, pi is correct to a small *relative* error in every entry,
    however weak the coupling (a linear solve loses up to 4 digits at 1e-13)."""
    pi, caught = _stationary_and_warnings(_two_state(a, b))
    assert not caught
    np.testing.assert_allclose(pi, np.array([b, a]) / (a + b), rtol=1e-14, atol=0)


@pytest.mark.parametrize("a, b", [(1e-15, 3e-15), (1e-300, 1e-17), (5e-15, 1e-14)])
def test_numerically_reducible_chain_warns_but_answers(a, b):
    """Below the line (a coupling under REDUCIBLE_TOL) a warning names the classes; pi is still
    the exact answer for the matrix as given."""
    pi, caught = _stationary_and_warnings(_two_state(a, b))
    assert len(caught) == 1 and "numerically reducible" in str(caught[0].message)
    assert "{0}" in str(caught[0].message)
    np.testing.assert_allclose(pi, np.array([b, a]) / (a + b), rtol=1e-14, atol=0)


def test_reducibility_line_is_reducible_tol():
    """Both couplings just above the line: no warning; just below: a warning. One tiny
    coupling alone is harmless (one class is closed; pi ~ (1, a/b) is well conditioned)."""
    a = REDUCIBLE_TOL
    assert not _stationary_and_warnings(_two_state(2 * a, 2 * a))[1]
    assert _stationary_and_warnings(_two_state(a / 2, a / 2))[1]
    pi, caught = _stationary_and_warnings(_two_state(a / 2, 0.5))
    assert not caught
    np.testing.assert_allclose(pi, np.array([0.5, a / 2]) / (0.5 + a / 2), rtol=1e-14, atol=0)


def test_reducible_chain_warns_and_returns_least_norm_solution():
    """Two closed classes {0, 1} and {2}, plus a transient state 3: pi is not unique. The
    least-norm stationary distribution is returned (what a least-squares solve gives)."""
    P = np.array([[0.5, 0.5, 0, 0], [0.2, 0.8, 0, 0], [0, 0, 1, 0], [0.1, 0, 0.3, 0.6]])
    pi, caught = _stationary_and_warnings(HMM(P[None]))
    assert len(caught) == 1 and "closed classes {0, 1}, {2}" in str(caught[0].message)
    A = np.vstack([P.T - np.eye(4), np.ones((1, 4))])
    lstsq, *_ = np.linalg.lstsq(A, np.r_[np.zeros(4), 1.0], rcond=None)
    np.testing.assert_allclose(pi, lstsq, atol=1e-12)
    np.testing.assert_allclose(pi @ P, pi, atol=1e-15)
    assert pi[3] == 0.0


def test_transient_states_get_exactly_zero():
    """A state the chain leaves for good has stationary probability 0, not round-off."""
    P = np.array([[0.9, 0.1, 0.0], [0.0, 0.3, 0.7], [0.0, 0.6, 0.4]])
    pi, caught = _stationary_and_warnings(HMM(P[None]))
    assert not caught and pi[0] == 0.0
    np.testing.assert_allclose(pi[1:], np.array([6, 7]) / 13, rtol=1e-14)


def test_closed_classes_and_gth_directly():
    P = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.5]])
    assert [list(c) for c in closed_classes(P)] == [[0, 1]]
    np.testing.assert_allclose(gth_stationary(P[:2, :2]), [0.5, 0.5])  # periodic is fine


@SETTINGS
@given(hmms)
def test_stationary_matches_an_eigenvector_when_unique(hmm):
    pi, caught = _stationary_and_warnings(hmm)
    if caught:
        return  # several closed classes: covered by the reducible-chain tests above
    vals, vecs = np.linalg.eig(hmm.transition_matrix.T)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    np.testing.assert_allclose(pi, v / v.sum(), atol=1e-10)


def test_stationary_known_values():
    np.testing.assert_allclose(processes.rrxor().stationary(), np.array([2, 1, 1, 1, 1]) / 6)
    np.testing.assert_allclose(processes.z1r().stationary(), np.full(3, 1 / 3))


# ---------------------------------------------------------------------------- tokens
def test_check_tokens_errors():
    hmm = processes.z1r()
    with pytest.raises(TypeError, match="astype"):
        hmm.check_tokens([0.0, 1.0])
    with pytest.raises(TypeError, match="integers"):
        hmm.check_tokens(["a"])
    with pytest.raises(TypeError, match="ragged"):
        hmm.check_tokens([[0, 1], [0]])
    with pytest.raises(ValueError, match=r"token 2 out of range.*0..1"):
        hmm.check_tokens([0, 2])
    with pytest.raises(ValueError, match="out of range"):
        hmm.check_tokens([-1])
    with pytest.raises(ValueError, match="shape"):
        hmm.check_tokens(np.zeros((1, 1, 1), dtype=int))
    with pytest.raises(ValueError, match="length >= 2"):
        hmm.check_tokens([0], min_length=2)
    arr, was_1d = hmm.check_tokens([0, 1, 1])
    assert arr.shape == (1, 3) and arr.dtype == np.int64 and was_1d


# ---------------------------------------------------------------------------- sampling
def test_sample_reproducible_and_shaped():
    hmm = processes.mess3()
    a = hmm.sample(5, 20, seed=3)
    b = hmm.sample(5, 20, seed=3)
    c = hmm.sample(5, 20, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (5, 20) and a[1].shape == (5, 21)
    assert a[0].dtype == np.int64


def test_sample_argument_errors():
    hmm = processes.z1r()
    with pytest.raises(ValueError, match="n_sequences must be >= 1"):
        hmm.sample(0, 3)
    with pytest.raises(ValueError, match="length must be >= 0"):
        hmm.sample(1, -1)
    with pytest.raises(TypeError, match="integer"):
        hmm.sample(2.0, 3)
    with pytest.raises(TypeError, match="integer"):
        hmm.sample(True, 3)


@SETTINGS
@given(hmms, st.integers(0, 1000))
def test_sampled_paths_are_possible(hmm, seed):
    tokens, states = hmm.sample(20, 6, seed=seed)
    for t in range(6):
        assert np.all(hmm.T[tokens[:, t], states[:, t], states[:, t + 1]] > 0)


def test_empirical_frequencies_match_word_probabilities():
    """Pair frequencies of 40,000 sampled Mess3 sequences match P(x1 x2) within 5 sigma."""
    hmm = processes.mess3()
    tokens, _ = hmm.sample(40_000, 2, seed=0)
    counts = np.zeros((3, 3))
    np.add.at(counts, (tokens[:, 0], tokens[:, 1]), 1)
    words = np.array(list(itertools.product(range(3), repeat=2)))
    p = hmm.probability(words).reshape(3, 3)
    sigma = np.sqrt(p * (1 - p) / 40_000)
    assert np.all(np.abs(counts / 40_000 - p) < 5 * sigma)


# ---------------------------------------------------------------------------- probabilities
@SETTINGS
@given(hmms, st.integers(1, 4))
def test_probabilities_of_all_words_sum_to_one(hmm, L):
    words = np.array(list(itertools.product(range(hmm.n_tokens), repeat=L)))
    p = hmm.probability(words)
    assert np.isclose(p.sum(), 1.0)
    # each equals the matrix product pi T[x1] ... T[xL] 1
    for w, pw in zip(words[:5], p[:5]):
        v = hmm.stationary()
        for x in w:
            v = v @ hmm.T[x]
        assert np.isclose(v.sum(), pw, atol=1e-12)


def test_batch_equals_individual_probabilities():
    hmm = processes.mess3()
    tokens, _ = hmm.sample(7, 12, seed=1)
    batch = hmm.log_probability(tokens)
    single = np.array([hmm.log_probability(t) for t in tokens])
    np.testing.assert_allclose(batch, single)
    assert isinstance(hmm.probability(tokens[0]), float)


def test_impossible_sequence_has_probability_zero():
    hmm = processes.z1r()
    assert hmm.probability([0, 0, 0]) == 0.0
    assert hmm.log_probability([0, 0, 0]) == -np.inf


def test_long_sequence_is_stable():
    """100,000 tokens: P underflows to 0 but log P stays finite, without NaN. Every Mess3
    word is possible, so random tokens serve; log P lies between L ln(min step) and 0."""
    hmm = processes.mess3()
    tokens = np.random.default_rng(0).integers(0, 3, 100_000)
    logp = hmm.log_probability(tokens)
    assert np.isfinite(logp)
    assert 100_000 * np.log(0.05) < logp < 0      # every step has P(x | eta) >= beta
    assert np.exp(logp) == 0.0                     # which is why we work with logs


def test_forward_prior_validation():
    hmm = processes.z1r()
    with pytest.raises(ValueError, match="3 entries"):
        hmm.forward([0], prior=[0.5, 0.5])
    with pytest.raises(ValueError, match="probability vector"):
        hmm.forward([0], prior=[0.5, 0.5, 0.5])


@pytest.mark.parametrize("x, alpha", [(0.05, 0.85), (0.15, 0.6), (0.45, 0.2)])
def test_lag_agreement_matches_the_closed_form(x, alpha):
    beta = (1 - alpha) / 2
    k = np.arange(1, 11)
    closed = 1 / 3 + (alpha ** 2 + 2 * beta ** 2 - 1 / 3) * (1 - 3 * x) ** k
    np.testing.assert_allclose(processes.mess3(x, alpha).lag_agreement(10), closed,
                               atol=1e-12)
