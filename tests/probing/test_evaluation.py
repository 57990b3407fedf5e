"""Tests for beliefcourse.probing.evaluation: held-out scoring and the shuffled control."""

from __future__ import annotations

import numpy as np
import pytest
from probing_helpers import planted

from beliefcourse import probing, processes
from beliefcourse.data import ExactData


def test_evaluate_keeps_sequences_whole_and_reports_both_weightings():
    X, y, W, b, probs = planted(noise=0.2)
    res = probing.evaluate(X, y, probs, train_fraction=0.25, seed=3)
    assert len(res.train_idx) == 100 and len(res.test_idx) == 300
    assert res.in_sample.n_points == 100 * 5 and res.held_out.n_points == 300 * 5
    # the probe saw only the fit-set sequences: refitting on them alone gives the same map
    ref = probing.AffineProbe().fit(X[res.train_idx], y[res.train_idx])
    np.testing.assert_allclose(res.probe.coef_, ref.coef_)
    pred = res.predictions
    assert pred.shape == y.shape
    t = res.test_idx
    assert res.held_out.mse == pytest.approx(probing.mse(y[t], pred[t]))
    assert res.held_out.r2_weighted == pytest.approx(probing.r2(y[t], pred[t], probs[t]))
    assert res.held_out.r2 > 0.95


def test_weighted_fit_uses_probabilities():
    X, y, W, b, probs = planted(noise=1.0)
    plain = probing.evaluate(X, y, probs, train_fraction=1.0)
    weighted = probing.evaluate(X, y, probs, train_fraction=1.0, weighted_fit=True)
    assert plain.held_out is None and weighted.weighted_fit
    # each fit is optimal for its own weighting
    assert weighted.in_sample.mse_weighted <= plain.in_sample.mse_weighted
    assert plain.in_sample.mse <= weighted.in_sample.mse


def test_evaluate_shape_errors():
    X, y, *_, probs = planted()
    with pytest.raises(ValueError, match="disagree"):
        probing.evaluate(X[:, :4], y, probs)
    with pytest.raises(ValueError, match="probs"):
        probing.evaluate(X, y, probs[:-1])
    with pytest.raises(ValueError, match=r"\(N, L, D\)"):
        probing.evaluate(X[:, 0], y, probs)


# ---------------------------------------------------------------------------- controls
def test_shuffle_control_scores_chance():
    X, y, *_, probs = planted(n=2000, noise=0.1)
    real = probing.evaluate(X, y, probs, seed=0)
    res = probing.shuffle_control(X, y, probs, seed=0)
    np.testing.assert_array_equal(res.train_idx, real.train_idx)       # same split
    t = res.test_idx
    assert abs(res.held_out.r2) < 0.02
    variance = y[t].reshape(-1, 3).var(axis=0).mean()
    assert res.held_out.mse == pytest.approx(variance, rel=0.03)


def test_shuffle_control_on_mess3_beliefs_matches_paper_baseline():
    data = ExactData(processes.mess3(), 8)
    feats = probing.input_only_features(data.inputs, 3)
    res = probing.shuffle_control(feats, data.beliefs, data.probs)
    # predicting the mean belief: held-out MSE = the beliefs' variance, 0.111 unweighted
    assert res.held_out.mse == pytest.approx(0.111, abs=0.005)
    assert abs(res.held_out.r2) < 0.03
