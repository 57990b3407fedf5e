"""Tests for beliefcourse.enumerate.all_sequences (exact enumeration of words)."""

import itertools

import numpy as np
import pytest
from hmm_strategies import hmm_strategy
from hypothesis import given, settings
from hypothesis import strategies as st

from beliefcourse import beliefs, processes
from beliefcourse.enumerate import all_sequences

SETTINGS = settings(max_examples=25, deadline=None)


hmms = hmm_strategy(max_states=4)


@SETTINGS
@given(hmms, st.integers(1, 5))
def test_probabilities_sum_to_one_and_match_hmm(hmm, L):
    seqs = all_sequences(hmm, L)
    assert len(seqs) == len(seqs.probs) and seqs.length == L
    assert np.isclose(seqs.probs.sum(), 1.0)
    assert np.all(seqs.probs > 0)
    np.testing.assert_allclose(seqs.probs, hmm.probability(seqs.tokens), rtol=1e-9)
    # every word missing from the list is impossible
    listed = {tuple(w) for w in seqs.tokens}
    for w in itertools.product(range(hmm.n_tokens), repeat=L):
        if w not in listed:
            assert hmm.probability(np.array(w)) == 0.0


@SETTINGS
@given(hmms, st.integers(1, 4))
def test_beliefs_match_trajectories(hmm, L):
    seqs = all_sequences(hmm, L)
    np.testing.assert_allclose(seqs.beliefs, beliefs.belief_trajectories(hmm, seqs.tokens),
                               atol=1e-12)


def test_known_counts_and_order():
    z = all_sequences(processes.z1r(), 3)
    assert len(z) == 6                                  # one per (phase, random bit)
    m = all_sequences(processes.mess3(), 6)
    assert len(m) == 3 ** 6
    order = np.lexsort(m.tokens.T[::-1])
    np.testing.assert_array_equal(order, np.arange(len(m)))   # lexicographic


def test_prior_argument():
    z1r = processes.z1r()
    seqs = all_sequences(z1r, 3, prior=[1.0, 0, 0])           # from S0: 0, 1, random
    np.testing.assert_array_equal(seqs.tokens, [[0, 1, 0], [0, 1, 1]])
    np.testing.assert_allclose(seqs.probs, [0.5, 0.5])


def test_errors():
    mess3 = processes.mess3()
    with pytest.raises(ValueError, match="length must be >= 1"):
        all_sequences(mess3, 0)
    with pytest.raises(TypeError, match="integer"):
        all_sequences(mess3, 2.0)
    with pytest.raises(TypeError, match="HMM"):
        all_sequences(mess3.T, 2)
    with pytest.raises(ValueError, match="max_sequences"):
        all_sequences(mess3, 12, max_sequences=1000)
