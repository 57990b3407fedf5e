"""Tests for beliefcourse.probing.futures: k-step futures and the next-token ceilings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from beliefcourse import probing, processes
from beliefcourse.data import ExactData
from beliefcourse.probing import futures


def brute_future(hmm, belief, k):
    """P(x_1..x_k | belief) word by word, the definition written out."""
    out = []
    for word in itertools.product(range(hmm.n_tokens), repeat=k):
        v = np.asarray(belief, dtype=float)
        for x in word:
            v = v @ hmm.T[x]
        out.append(v.sum())
    return np.array(out)


@pytest.mark.parametrize("name", ["mess3", "rrxor"])
def test_future_distributions_match_the_definition(name):
    hmm = processes.get(name)
    rng = np.random.default_rng(0)
    beliefs = rng.dirichlet(np.ones(hmm.n_states), size=(4, 2))
    for k in (1, 2, 3):
        got = futures.future_distributions(hmm, beliefs, k)
        assert got.shape == (4, 2, hmm.n_tokens ** k)
        want = np.stack([[brute_future(hmm, b, k) for b in row] for row in beliefs])
        np.testing.assert_allclose(got, want, atol=1e-12)
    # k = 1 is the next-token distribution; marginalising k = 2 over x_2 gives it back
    two = futures.future_distributions(hmm, beliefs, 2).reshape(4, 2, hmm.n_tokens, -1)
    np.testing.assert_allclose(two.sum(-1), futures.future_distributions(hmm, beliefs, 1))


def test_future_distributions_validates():
    hmm = processes.mess3()
    with pytest.raises(ValueError, match="3 states"):
        futures.future_distributions(hmm, np.ones((2, 4)) / 4, 1)
    with pytest.raises(ValueError, match=">= 1"):
        futures.future_distributions(hmm, np.ones(3) / 3, 0)
    with pytest.raises(ValueError, match="too many"):
        futures.future_distributions(hmm, np.ones(3) / 3, 9)


def test_class_ceiling_and_within_class_on_planted_classes():
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 3, size=(50, 4))
    means = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    y = means[classes]
    assert futures.class_ceiling(y, classes) == pytest.approx(1.0)
    np.testing.assert_allclose(futures.within_class(y, classes), 0, atol=1e-12)
    noisy = y + rng.normal(size=y.shape)
    within = futures.within_class(noisy, classes)
    ceiling = futures.class_ceiling(noisy, classes)
    # R² = 1 - within-class variance / total variance (THE R², pooled over coordinates)
    total = ((noisy - noisy.reshape(-1, 2).mean(0)) ** 2).sum()
    assert ceiling == pytest.approx(1 - (within ** 2).sum() / total)
    # one weight per sequence is broadcast over positions
    w = rng.random(50)
    assert futures.class_ceiling(noisy, classes, w) == pytest.approx(
        futures.class_ceiling(noisy, classes, np.repeat(w[:, None], 4, axis=1)))
    with pytest.raises(ValueError, match="leading shape"):
        futures.class_ceiling(noisy, classes[:, :2])
    with pytest.raises(TypeError, match="integer"):
        futures.class_ceiling(noisy, classes.astype(float))


def test_rrxor_next_token_ceilings():
    hmm = processes.rrxor()
    data = ExactData(hmm, 10)
    classes, n = futures.next_token_classes(data.next_token_probs)
    assert n == 11
    assert futures.class_ceiling(data.next_token_probs, classes) == pytest.approx(1.0)
    assert futures.class_ceiling(data.beliefs, classes) < 0.5
    two = futures.future_distributions(hmm, data.beliefs, 2)
    assert futures.class_ceiling(two, classes) < 0.6


def test_distance_ceiling_matches_sampled_pairs_and_bounds():
    hmm = processes.rrxor()
    data = ExactData(hmm, 10)
    c = futures.next_token_distance_ceiling(data.beliefs, data.next_token_probs)
    assert (c.n_points, c.n_beliefs, c.n_classes) == (4360, 35, 11)
    sampled = probing.belief_distance_test(data.beliefs, data.beliefs, data.next_token_probs,
                                           n_pairs=300_000, seed=1)
    assert c.isometric == pytest.approx(sampled.r2_next_token, abs=0.01)
    assert 0 < c.isometric <= c.any_function < 1
    # a representation that is a function of the next-token distribution stays below it
    classes, _ = futures.next_token_classes(data.next_token_probs)
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(11, 6))[classes]
    test = probing.belief_distance_test(codes, data.beliefs, data.next_token_probs,
                                        n_pairs=300_000, seed=2)
    assert test.r2_belief <= c.any_function + 0.01


def test_distance_ceiling_brute_force_small():
    rng = np.random.default_rng(3)
    bel = rng.dirichlet(np.ones(3), size=6)[rng.integers(0, 6, size=40)]
    nxt = np.round(bel[:, :2] * 2) / 2                      # coarse classes
    c = futures.next_token_distance_ceiling(bel, nxt)
    i, j = np.where(~np.eye(40, dtype=bool))
    dB = np.linalg.norm(bel[i] - bel[j], axis=1)
    dN = np.linalg.norm(nxt[i] - nxt[j], axis=1)
    assert c.isometric == pytest.approx(np.corrcoef(dB, dN)[0, 1] ** 2)
    _, ci = np.unique(nxt, axis=0, return_inverse=True)
    key = np.minimum(ci[i], ci[j]) * 100 + np.maximum(ci[i], ci[j])
    means = {k: dB[key == k].mean() for k in np.unique(key)}
    fitted = np.array([means[k] for k in key])
    assert c.any_function == pytest.approx(((fitted - dB.mean()) ** 2).sum()
                                           / ((dB - dB.mean()) ** 2).sum())
    with pytest.raises(ValueError, match="leading shape"):
        futures.next_token_distance_ceiling(bel, nxt[:5])
