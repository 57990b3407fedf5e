"""Tests for beliefcourse.probing.metrics: MSE and the course's pooled R², both weightings."""

from __future__ import annotations

import numpy as np
import pytest
from probing_helpers import planted

from beliefcourse import probing


def test_weighted_metrics_match_hand_computation():
    y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    p = np.array([[0.8, 0.1], [0.1, 0.7], [0.5, 0.5]])
    w = np.array([1.0, 2.0, 5.0])
    sq = (y - p) ** 2
    assert probing.mse(y, p) == pytest.approx(sq.mean())
    assert probing.mse(y, p, w) == pytest.approx((w[:, None] * sq).sum() / (2 * w.sum()))
    # R² = 1 - sum_i w_i ||y_i - yhat_i||^2 / sum_i w_i ||y_i - ybar_w||^2
    ybar = (w[:, None] * y).sum(0) / w.sum()
    want = 1 - (w[:, None] * sq).sum() / (w[:, None] * (y - ybar) ** 2).sum()
    assert probing.r2(y, p, w) == pytest.approx(want)
    assert probing.r2(y, p) == pytest.approx(1 - sq.sum() / ((y - y.mean(0)) ** 2).sum())


def test_r2_is_pooled_not_the_average_of_per_coordinate_r2():
    """Coordinates of unequal variance: the two definitions differ, the package pools."""
    rng = np.random.default_rng(0)
    y = np.column_stack([rng.normal(0, 10.0, 500), rng.normal(0, 0.1, 500)])
    p = y + rng.normal(0, 1.0, y.shape)         # the same error size on both coordinates
    pooled = 1 - ((y - p) ** 2).sum() / ((y - y.mean(0)) ** 2).sum()
    per_coordinate = 1 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    assert pooled > 0.97 and per_coordinate.mean() < -40    # the definitions disagree here
    assert probing.r2(y, p) == pytest.approx(pooled, rel=1e-12)
    assert probing.r2(y, p) != pytest.approx(per_coordinate.mean(), abs=1.0)
    # R² = 1 - MSE / Var, with Var the variance averaged over coordinates
    assert probing.r2(y, p) == pytest.approx(1 - probing.mse(y, p) / y.var(axis=0).mean())
    # AffineProbe.score and Scores use the same R²
    X = p[:, :1]
    est = probing.AffineProbe().fit(X, y)
    assert est.score(X, y) == pytest.approx(probing.r2(y, est.predict(X)), rel=1e-12)
    s = probing.Scores.of(y[None], p[None], np.ones(1))
    assert s.r2 == pytest.approx(pooled) and s.r2_weighted == pytest.approx(pooled)


def test_r2_one_dimensional_targets_and_constant_targets():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    p = np.array([0.1, 0.9, 2.2, 2.9])
    assert probing.r2(y, p) == pytest.approx(1 - ((y - p) ** 2).sum() / ((y - 1.5) ** 2).sum())
    assert probing.r2(y[:, None], p[:, None]) == pytest.approx(probing.r2(y, p))
    with pytest.raises(ValueError, match="constant"):
        probing.r2(np.ones((4, 2)), np.zeros((4, 2)))


def test_per_sequence_weights_broadcast_over_positions():
    X, y, *_ , probs = planted(noise=0.3)
    pred = probing.AffineProbe().fit(X, y).predict(X)
    per_point = np.repeat(probs[:, None], y.shape[1], axis=1)
    assert probing.mse(y, pred, probs) == pytest.approx(probing.mse(y, pred, per_point))
    assert probing.r2(y, pred, probs) == pytest.approx(probing.r2(y, pred, per_point))


def test_metric_errors():
    y = np.zeros((4, 3))
    with pytest.raises(ValueError, match="shape"):
        probing.mse(y, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        probing.r2(y, np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="non-negative"):
        probing.mse(y, y, sample_weight=-np.ones(4))
