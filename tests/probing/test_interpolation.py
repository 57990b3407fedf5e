"""Tests for beliefcourse.probing.interpolation: affine rank, repeated hooks, blind ridge."""

from __future__ import annotations

import numpy as np
import pytest

from beliefcourse import probing


def test_affine_rank_counts_distinct_rows_and_the_constant():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 20)).astype(np.float32)
    assert probing.affine_rank(x) == 5                           # 5 points, 21 columns
    assert probing.affine_rank(np.concatenate([x, x, x])) == 5   # copies add no rank
    low = rng.normal(size=(50, 3)) @ rng.normal(size=(3, 8))     # rank 3, plus the constant
    assert probing.affine_rank(low) == 4
    assert probing.affine_rank(low[None]) == 4                   # any leading shape


def test_full_affine_rank_means_any_targets_are_fitted_exactly():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 10))
    assert probing.affine_rank(x) == 6
    y = rng.normal(size=(6, 3))                                  # arbitrary targets
    fit = probing.AffineProbe().fit(x, y)
    np.testing.assert_allclose(fit.predict(x), y, atol=1e-8)


def test_repeated_hooks_pairs_each_copy_with_its_first_original():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    pairs = probing.repeated_hooks({"pre": a, "mid": b, "post": a.copy(), "next": a.copy()})
    assert pairs == [("post", "pre"), ("next", "pre")]
    assert probing.repeated_hooks({"x": a, "y": b}) == []
    with pytest.raises(TypeError, match="dict"):
        probing.repeated_hooks([a, b])


def test_ridge_alpha_by_grouped_cv_prefers_a_penalty_when_features_outnumber_points():
    rng = np.random.default_rng(2)
    n, length, d = 40, 3, 200
    signal = rng.normal(size=(n, length, 2))
    x = np.concatenate([signal, rng.normal(size=(n, length, d))], axis=-1)
    y = signal @ rng.normal(size=(2, 3)) + 0.3 * rng.normal(size=(n, length, 3))
    fit = np.arange(30)
    alpha = probing.ridge_alpha_by_grouped_cv(x, y, fit, [0.0, 1.0, 10.0, 100.0])
    assert alpha > 0
    # the held-out sequences are never looked at: changing them changes nothing
    y2 = y.copy()
    y2[30:] = 1e6
    assert probing.ridge_alpha_by_grouped_cv(x, y2, fit, [0.0, 1.0, 10.0, 100.0]) == alpha
    # plenty of data, no noise features: least squares wins (ties go to the first alpha)
    assert probing.ridge_alpha_by_grouped_cv(signal, signal @ np.ones((2, 3)), fit,
                                             [0.0, 10.0]) == 0.0


def test_ridge_alpha_by_grouped_cv_rejects_bad_input():
    x, y = np.zeros((10, 2, 3)), np.zeros((10, 2, 1))
    with pytest.raises(ValueError, match="share N and L"):
        probing.ridge_alpha_by_grouped_cv(x, y[:5], np.arange(5), [0.0])
    with pytest.raises(ValueError, match="alphas"):
        probing.ridge_alpha_by_grouped_cv(x, y, np.arange(10), [-1.0])
    with pytest.raises(ValueError, match="n_splits"):
        probing.ridge_alpha_by_grouped_cv(x, y, np.arange(3), [0.0])
