"""Tests for beliefcourse.probing.estimator: AffineProbe (OLS and ridge), its shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from probing_helpers import planted
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from beliefcourse import probing


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_probe_recovers_planted_affine_map(fit_intercept, weighted):
    X, y, W, b, probs = planted()
    if not fit_intercept:
        y = y - b
    w = probs if weighted else None
    est = probing.AffineProbe(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.coef_, W, atol=1e-10)
    np.testing.assert_allclose(est.intercept_, b if fit_intercept else 0.0, atol=1e-10)
    pred = est.predict(X)
    assert pred.shape == y.shape
    assert est.score(X, y, w) == pytest.approx(1.0, abs=1e-12)
    assert probing.mse(y, pred, w) == pytest.approx(0.0, abs=1e-20)


def test_probe_flat_and_3d_inputs_agree():
    X, y, *_ = planted(noise=0.5)
    a = probing.AffineProbe().fit(X, y)
    b = probing.AffineProbe().fit(X.reshape(-1, X.shape[-1]), y.reshape(-1, y.shape[-1]))
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_allclose(a.predict(X).reshape(-1, 3), b.predict(X.reshape(-1, 6)))
    single = probing.AffineProbe().fit(X, y[..., 0])
    assert single.coef_.shape == (6,) and single.predict(X).shape == X.shape[:2]


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("target", ["1-D", "2-D, one column", "2-D, three columns", "(N, L, 1)"])
def test_predict_has_the_shape_of_the_fitted_target(alpha, target):
    """Predictions have the fitted target's shape for every alpha (Ridge flattens (n, 1))."""
    X, y, *_ = planted(noise=0.3)
    Xf = X.reshape(-1, X.shape[-1])
    features, y_fit = {"1-D": (Xf, y[..., 0].reshape(-1)),
                       "2-D, one column": (Xf, y[..., :1].reshape(-1, 1)),
                       "2-D, three columns": (Xf, y.reshape(-1, 3)),
                       "(N, L, 1)": (X, y[..., :1])}[target]
    est = probing.AffineProbe(alpha=alpha).fit(features, y_fit)
    pred = est.predict(features)
    assert pred.shape == y_fit.shape
    if y_fit.ndim == 1:
        assert est.coef_.shape == (6,) and np.ndim(est.intercept_) == 0
    else:
        assert est.coef_.shape == (y_fit.shape[-1], 6)
        assert est.intercept_.shape == (y_fit.shape[-1],)
    errors = y_fit - pred                       # broadcasts only if the shapes agree
    assert errors.shape == y_fit.shape
    assert est.score(features, y_fit) == pytest.approx(probing.r2(y_fit, pred))


def test_ridge_shrinks_towards_zero():
    X, y, *_ = planted(noise=0.5)
    ols = probing.AffineProbe().fit(X, y)
    ridge = probing.AffineProbe(alpha=1e4).fit(X, y)
    assert np.linalg.norm(ridge.coef_) < 0.5 * np.linalg.norm(ols.coef_)


def test_sklearn_estimator_protocol():
    est = probing.AffineProbe(fit_intercept=False, alpha=0.5)
    assert est.get_params() == {"fit_intercept": False, "alpha": 0.5}
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert not hasattr(copy, "coef_")
    assert est.set_params(alpha=0.0).alpha == 0.0
    X, y, *_ = planted()
    assert copy.fit(X, y).n_features_in_ == 6


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_passes_sklearn_check_estimator():
    check_estimator(probing.AffineProbe())
    check_estimator(probing.AffineProbe(alpha=1.0, fit_intercept=False))


def test_probe_errors():
    X, y, *_ = planted()
    with pytest.raises(NotFittedError):
        probing.AffineProbe().predict(X)
    with pytest.raises(ValueError, match="y has shape"):
        probing.AffineProbe().fit(X, y[:10])
    with pytest.raises(ValueError, match="Expected 2D array"):
        probing.AffineProbe().fit(X[0, 0], y[0, 0])
    with pytest.raises(ValueError, match="alpha"):
        probing.AffineProbe(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        probing.AffineProbe().fit(X, y, sample_weight=np.ones(7))
    with pytest.raises(ValueError):
        probing.AffineProbe().fit(np.where(X > 2, np.nan, X), y)
    fitted = probing.AffineProbe().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[..., :4])
