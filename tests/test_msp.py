"""Tests for beliefcourse.msp: mixed-state presentations and the chaos game."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from beliefcourse import beliefs, msp, processes
from beliefcourse.enumerate import all_sequences
from beliefcourse.hmm import HMM

SETTINGS = settings(max_examples=20, deadline=None)


def random_unifilar_hmm(seed, n_states, n_tokens):
    """Each (state, token) has one successor: the MSP's recurrent part is (a quotient of)
    the HMM itself, so the MSP is usually finite."""
    rng = np.random.default_rng(seed)
    emit = rng.random((n_states, n_tokens)) + 0.05
    emit /= emit.sum(axis=1, keepdims=True)
    succ = rng.integers(0, n_states, (n_states, n_tokens))
    T = np.zeros((n_tokens, n_states, n_states))
    for i in range(n_states):
        for x in range(n_tokens):
            T[x, i, succ[i, x]] = emit[i, x]
    return HMM(T)


unifilar = st.builds(random_unifilar_hmm, st.integers(0, 2**32 - 1), st.integers(1, 4),
                     st.integers(2, 3))


def quiet_msp(hmm, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return msp.mixed_state_presentation(hmm, **kw)


# ---------------------------------------------------------------------------- counts
def test_z1r_has_seven_states():
    """pi, (1/3, 2/3, 0), (1/3, 0, 2/3), (1/2, 1/2, 0) and the three corners."""
    m = msp.mixed_state_presentation(processes.z1r())
    assert len(m) == 7 and m.complete
    np.testing.assert_allclose(m.beliefs[0], np.full(3, 1 / 3))
    assert m.depths[0] == 0 and list(np.bincount(m.depths)) == [1, 2, 4]
    rec = m.recurrent_mask()
    assert rec.sum() == 3
    np.testing.assert_allclose(np.sort(m.beliefs[rec], axis=0)[::-1].sum(0), 1.0)
    assert set(map(tuple, m.beliefs[rec].round(12))) == {(1, 0, 0), (0, 1, 0), (0, 0, 1)}


def test_rrxor_has_36_states():
    m = msp.mixed_state_presentation(processes.rrxor())
    assert len(m) == 36 and m.complete
    assert m.recurrent_mask().sum() == 5
    counts = [len(b) for b in msp.beliefs_by_depth(processes.rrxor(), max_depth=8)]
    assert counts == [1, 3, 7, 15, 27, 34, 36, 36, 36]


def test_mess3_counts_are_all_distinct_words():
    """Mess3's matrices are invertible, so no two words share a belief:
    1 + 3 + ... + 3^L = (3^(L+1) - 1) / 2 beliefs with at most L tokens."""
    counts = [len(b) for b in msp.beliefs_by_depth(processes.mess3(), max_depth=7)]
    assert counts == [(3 ** (L + 1) - 1) // 2 for L in range(8)]


def test_beliefs_by_depth_is_cumulative_and_validated():
    by_depth = msp.beliefs_by_depth(processes.z1r(), max_depth=4)
    assert [len(b) for b in by_depth] == [1, 3, 7, 7, 7]
    assert len(msp.beliefs_by_depth(processes.z1r(), max_depth=0)) == 1
    with pytest.raises(ValueError, match="max_states"):
        msp.beliefs_by_depth(processes.mess3(), max_depth=8, max_states=1000)
    with pytest.raises(ValueError, match="max_depth must be >= 0"):
        msp.beliefs_by_depth(processes.z1r(), max_depth=-1)


# ---------------------------------------------------------------------------- structure
@pytest.mark.parametrize("name", ["z1r", "rrxor", "even_process", "golden_mean"])
def test_transitions_are_bayes_updates(name):
    hmm = processes.get(name)
    m = msp.mixed_state_presentation(hmm)
    T = m.T
    assert T.shape == (hmm.n_tokens, len(m), len(m))
    np.testing.assert_allclose(T.sum(axis=(0, 2)), 1.0)
    assert np.all((T > 0).sum(axis=2) <= 1)                     # unifilar
    nxt = beliefs.next_token_distribution(m.beliefs, hmm)
    for x in range(hmm.n_tokens):
        for k in np.flatnonzero(T[x].sum(axis=1) > 0):
            j = int(np.argmax(T[x, k]))
            assert np.isclose(T[x, k, j], nxt[k, x])
            np.testing.assert_allclose(m.beliefs[j], beliefs.update(m.beliefs[k], hmm, x),
                                       atol=1e-9)


@pytest.mark.parametrize("name, L", [("z1r", 7), ("rrxor", 8)])
def test_as_hmm_reproduces_word_probabilities(name, L):
    hmm = processes.get(name)
    m = msp.mixed_state_presentation(hmm)
    a = all_sequences(hmm, L)
    b = all_sequences(m.as_hmm(), L, prior=m.start)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    np.testing.assert_allclose(a.probs, b.probs, atol=1e-12)


@SETTINGS
@given(unifilar)
def test_as_hmm_property_on_random_unifilar_hmms(hmm):
    m = quiet_msp(hmm, max_states=500)
    assume(m.complete)
    a = all_sequences(hmm, 5)
    b = all_sequences(m.as_hmm(), 5, prior=m.start)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    np.testing.assert_allclose(a.probs, b.probs, atol=1e-10)
    p = m.stationary()
    np.testing.assert_allclose(p @ m.T.sum(0), p, atol=1e-10)
    assert np.all(p[~m.recurrent_mask()] == 0)
    # expectations over words equal expectations over the MSP state distribution
    for L in (1, 3):
        words = all_sequences(hmm, L)
        np.testing.assert_allclose(m.state_distribution(L) @ m.beliefs,
                                   words.probs @ words.beliefs[:, -1], atol=1e-10)


def test_recurrent_part_and_stationary():
    m = msp.mixed_state_presentation(processes.z1r())
    p = m.stationary()
    assert np.isclose(p.sum(), 1) and np.all(p[~m.recurrent_mask()] == 0)
    rec = m.recurrent()
    assert len(rec) == 3
    np.testing.assert_allclose(rec.stationary(), np.full(3, 1 / 3))
    np.testing.assert_allclose(rec.T.sum(axis=(0, 2)), 1.0)     # closed
    sub = rec.as_hmm()
    np.testing.assert_allclose(sub.stationary(), np.full(3, 1 / 3))
    assert "RecurrentPart(3" in repr(rec)
    assert "7 states" in repr(m) and "complete" in repr(m)


def test_infinite_msp_stops_with_a_clear_message():
    with pytest.warns(UserWarning, match="not complete.*max_states=100"):
        m = msp.mixed_state_presentation(processes.mess3(), max_states=100)
    assert not m.complete and len(m) == 40 and m.max_depth == 3       # whole levels only
    assert "incomplete" in repr(m)
    for method in (m.as_hmm, m.recurrent_mask, m.stationary, m.recurrent):
        with pytest.raises(ValueError, match="complete.*chaos_game"):
            method()
    m2 = msp.mixed_state_presentation(processes.mess3(), max_depth=2, warn=False)
    assert not m2.complete and len(m2) == 13


def test_msp_argument_errors():
    with pytest.raises(TypeError, match="HMM"):
        msp.mixed_state_presentation(processes.z1r().T)
    with pytest.raises(ValueError, match="max_states must be >= 1"):
        msp.mixed_state_presentation(processes.z1r(), max_states=0)
    with pytest.raises(ValueError, match="atol"):
        msp.mixed_state_presentation(processes.z1r(), atol=0.5)


# ---------------------------------------------------------------------------- chaos game
def test_chaos_game_on_simplex_and_reproducible():
    mess3 = processes.mess3()
    a = msp.chaos_game(mess3, 6_000, seed=1)
    b = msp.chaos_game(mess3, 6_000, seed=1)
    c = msp.chaos_game(mess3, 6_000, seed=2)
    assert a.shape == (6_000, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(1), 1.0, atol=1e-12)
    # the Blackwell measure averages to pi (beliefs are conditional state probabilities)
    np.testing.assert_allclose(a.mean(0), np.full(3, 1 / 3), atol=0.03)
    assert msp.chaos_game(mess3, 7, seed=0, n_chains=3).shape == (7, 3)


def test_chaos_game_of_a_synchronising_process_sits_on_its_recurrent_beliefs():
    pts = msp.chaos_game(processes.z1r(), 3_000, seed=0, burn_in=20)
    assert set(map(tuple, pts.round(9))) == {(1, 0, 0), (0, 1, 0), (0, 0, 1)}


@SETTINGS
@given(unifilar, st.integers(0, 100))
def test_chaos_game_points_are_valid_beliefs(hmm, seed):
    pts = msp.chaos_game(hmm, 500, seed=seed, burn_in=10)
    assert np.all(np.isfinite(pts)) and np.all(pts >= 0)
    np.testing.assert_allclose(pts.sum(1), 1.0, atol=1e-12)


def test_chaos_game_errors():
    with pytest.raises(ValueError, match="n_points must be >= 1"):
        msp.chaos_game(processes.mess3(), 0)
    with pytest.raises(TypeError, match="n_points must be an integer"):
        msp.chaos_game(processes.mess3(), 1e5)
    with pytest.raises(TypeError, match="HMM"):
        msp.chaos_game("mess3", 10)
