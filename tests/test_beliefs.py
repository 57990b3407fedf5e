"""Tests for beliefcourse.beliefs: Bayes updates against brute-force posteriors."""

import itertools

import numpy as np
import pytest
from hmm_strategies import hmm_strategy
from hypothesis import given, settings
from hypothesis import strategies as st

from beliefcourse import beliefs, processes

SETTINGS = settings(max_examples=25, deadline=None)


hmms = hmm_strategy(max_states=3)


def brute_force_posterior(hmm, tokens):
    """P(s_t = j | x_1..t) by summing pi(s_0) prod_k T[x_k, s_{k-1}, s_k] over all hidden
    paths s_0..s_t: no recursion, no normalisation until the end. None if P(x) = 0."""
    S = hmm.n_states
    pi = hmm.stationary()
    joint = np.zeros(S)
    for path in itertools.product(range(S), repeat=len(tokens) + 1):
        w = pi[path[0]]
        for k, x in enumerate(tokens):
            w *= hmm.T[x, path[k], path[k + 1]]
        joint[path[-1]] += w
    return None if joint.sum() == 0 else joint / joint.sum()


@SETTINGS
@given(hmms, st.integers(0, 10**6), st.integers(1, 4))
def test_recursive_update_equals_brute_force(hmm, seed, L):
    tokens, _ = hmm.sample(1, L, seed=seed)
    traj = beliefs.belief_trajectories(hmm, tokens)[0]
    for t in range(L + 1):
        np.testing.assert_allclose(traj[t], brute_force_posterior(hmm, tokens[0, :t]),
                                   atol=1e-10)


@SETTINGS
@given(hmms, st.integers(0, 10**6))
def test_beliefs_stay_on_the_simplex(hmm, seed):
    tokens, _ = hmm.sample(10, 30, seed=seed)
    traj = beliefs.belief_trajectories(hmm, tokens)
    assert traj.shape == (10, 31, hmm.n_states)
    assert np.all(traj >= -1e-15)
    np.testing.assert_allclose(traj.sum(-1), 1.0, atol=1e-12)
    nxt = beliefs.next_token_distribution(traj, hmm)
    assert nxt.shape == (10, 31, hmm.n_tokens)
    np.testing.assert_allclose(nxt.sum(-1), 1.0, atol=1e-12)


def test_update_worked_example():
    """Z1R from uniform: a 0 comes from S0 (to S1) or from SR (to S0): (1/3, 2/3, 0)."""
    z1r = processes.z1r()
    np.testing.assert_allclose(beliefs.update(z1r.stationary(), z1r, 0), [1 / 3, 2 / 3, 0])
    batch = beliefs.update(np.tile(z1r.stationary(), (2, 1)), z1r, np.array([0, 1]))
    np.testing.assert_allclose(batch[1], [1 / 3, 0, 2 / 3])


def test_update_errors():
    z1r = processes.z1r()
    with pytest.raises(ValueError, match="probability zero"):
        beliefs.update([1.0, 0.0, 0.0], z1r, 1)          # S0 must emit 0
    with pytest.raises(TypeError, match="integer"):
        beliefs.update(z1r.stationary(), z1r, 0.0)
    with pytest.raises(ValueError, match="out of range"):
        beliefs.update(z1r.stationary(), z1r, 2)
    with pytest.raises(ValueError, match="last dimension 3"):
        beliefs.update([0.5, 0.5], z1r, 0)
    with pytest.raises(ValueError, match="non-negative"):
        beliefs.update([1.5, -0.5, 0.0], z1r, 0)
    with pytest.raises(ValueError, match="sum to 1"):
        beliefs.next_token_distribution([0.5, 0.5, 0.5], z1r)


def test_trajectory_prior_and_impossible_sequence():
    z1r = processes.z1r()
    traj = beliefs.belief_trajectories(z1r, [1, 0], prior=[0, 0, 1.0])
    np.testing.assert_allclose(traj[0, 0], [0, 0, 1])
    np.testing.assert_allclose(traj[0, 1], [1, 0, 0])           # SR --1--> S0
    np.testing.assert_allclose(traj[0, 2], [0, 1, 0])           # S0 --0--> S1
    with pytest.raises(ValueError, match="sequence 1 is impossible: token 0 at position 2"):
        beliefs.belief_trajectories(z1r, [[0, 1, 1], [0, 0, 0]])


def test_100k_token_trajectory_has_no_nan():
    mess3 = processes.mess3()
    tokens = np.random.default_rng(1).integers(0, 3, 100_000)
    traj = beliefs.belief_trajectories(mess3, tokens)
    assert traj.shape == (1, 100_001, 3)
    assert np.all(np.isfinite(traj))
    np.testing.assert_allclose(traj.sum(-1), 1.0, atol=1e-9)
