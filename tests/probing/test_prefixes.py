"""Tests for beliefcourse.probing.prefixes: shared prefixes, fitted once; new held-out points."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from beliefcourse import probing


def all_words(n_tokens, length):
    return np.array(list(itertools.product(range(n_tokens), repeat=length)))


def test_prefix_ids_label_equal_prefixes_equally():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 3, size=(200, 5))
    ids = probing.prefix_ids(tokens)
    assert ids.shape == tokens.shape and ids.dtype == np.int64
    for p in range(5):
        same = ids[:, p][:, None] == ids[:, p][None, :]
        equal = (tokens[:, None, :p + 1] == tokens[None, :, :p + 1]).all(-1)
        np.testing.assert_array_equal(same, equal)


def test_distinct_prefixes_of_all_words_counts_copies_exactly():
    tokens = all_words(3, 5)                                     # 243 words, lexicographic
    dp = probing.distinct_prefixes(tokens)
    assert dp.n_distinct == 3 + 9 + 27 + 81 + 243
    np.testing.assert_array_equal(dp.copies[0], 3 ** (4 - np.arange(5)))
    assert dp.copies[dp.first].sum() == tokens.size
    # in lexicographic order, (n, p) is a first occurrence iff every later token is 0
    later_zero = np.flip(np.logical_and.accumulate(np.flip(tokens == 0, 1), 1), 1)
    expected = np.ones(tokens.shape, dtype=bool)
    expected[:, :-1] = later_zero[:, 1:]
    np.testing.assert_array_equal(dp.first, expected)


def test_weighted_fit_on_distinct_prefixes_equals_fit_on_every_point():
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 2, size=(300, 6))
    ids = probing.prefix_ids(tokens)
    table = rng.normal(size=(ids.max() + 1, 6, 4))               # features depend on the prefix
    X = table[ids, np.arange(6)]
    noise = rng.normal(size=(ids.max() + 1, 6, 3))[ids, np.arange(6)]      # also per prefix
    Y = X[..., :2] @ rng.normal(size=(2, 3)) + 0.1 * noise
    dp = probing.distinct_prefixes(tokens)
    once = probing.AffineProbe().fit(X[dp.first], Y[dp.first], sample_weight=dp.copies[dp.first])
    every = probing.AffineProbe().fit(X, Y)
    np.testing.assert_allclose(once.coef_, every.coef_, atol=1e-9)
    np.testing.assert_allclose(once.intercept_, every.intercept_, atol=1e-9)


def test_new_prefix_points_against_brute_force():
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, 3, size=(120, 6))
    train, test = probing.split_sequences(len(tokens), 0.2, seed=0)
    mask = probing.new_prefix_points(tokens, train, test)
    assert mask.shape == tokens.shape and not mask[train].any()
    for n in test:
        for p in range(6):
            seen = (tokens[train, :p + 1] == tokens[n, :p + 1]).all(-1).any()
            assert mask[n, p] == (not seen)
    assert mask[test, -1].mean() > mask[test, 0].mean()          # long prefixes are the new ones


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="tokens"):
        probing.prefix_ids(np.zeros(5, dtype=int))
    with pytest.raises(TypeError, match="integers"):
        probing.distinct_prefixes(np.zeros((2, 3)))
    tokens = np.zeros((4, 3), dtype=int)
    with pytest.raises(ValueError, match="overlap"):
        probing.new_prefix_points(tokens, np.array([0, 1]), np.array([1, 2]))
    with pytest.raises(ValueError, match="index"):
        probing.new_prefix_points(tokens, np.array([0]), np.array([7]))
