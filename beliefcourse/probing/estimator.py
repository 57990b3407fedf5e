"""The affine probe: a scikit-learn regressor from activations to beliefs."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.utils.validation import check_is_fitted, validate_data

from .metrics import _point_weights, r2

_PREDICT_CHUNK = 65_536          # rows per chunk when predicting, to bound float64 copies


class AffineProbe(RegressorMixin, BaseEstimator):
    """Affine map ``activations -> beliefs``: ``yhat = X @ coef_.T + intercept_``.

    Ordinary least squares (:class:`sklearn.linear_model.LinearRegression`, minimum-norm
    solution when features are collinear) or, for ``alpha > 0``, ridge regression
    (:class:`sklearn.linear_model.Ridge`). Fitting is done in float64.

    ``X`` is ``(n_points, D)`` or ``(N, L, D)``; the latter is flattened to ``N * L`` points.
    ``y`` matches: ``(n_points, S)`` / ``(N, L, S)``, or without the last axis for a single
    target. ``sample_weight`` is one weight per point or, for 3-D data, one per sequence
    (broadcast over positions). :meth:`predict` returns the leading shape of ``X`` followed by
    the shape of one fitted target: ``(..., S)`` for a 2-D (or ``(N, L, S)``) target, even
    when ``S == 1``, and no trailing axis for a 1-D (or ``(N, L)``) target, for every
    ``alpha``. :meth:`score` is the course's R² (:func:`~beliefcourse.probing.metrics.r2`,
    pooled over coordinates).

    Attributes
    ----------
    coef_ : array, shape (S, D) for a 2-D target (also when S == 1), (D,) for a 1-D target
    intercept_ : array of shape (S,), or a float for a 1-D target; zero when
        ``fit_intercept=False``
    n_features_in_ : int
    """

    def __init__(self, fit_intercept: bool = True, alpha: float = 0.0):
        self.fit_intercept = fit_intercept
        self.alpha = alpha

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None) -> AffineProbe:
        """Fit by (weighted) least squares; see the class docstring for shapes."""
        if not isinstance(self.alpha, (int, float, np.integer, np.floating)) or not (
                np.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if y is None:
            raise ValueError("AffineProbe requires y to be passed, but the target y is None")
        X, y, lead = _flatten_points(X, y)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        w = _point_weights(sample_weight, lead or (len(X),))
        if self.alpha == 0:
            est = LinearRegression(fit_intercept=self.fit_intercept)
        else:
            est = Ridge(alpha=float(self.alpha), fit_intercept=self.fit_intercept)
        est.fit(X, y, sample_weight=w)
        # scikit-learn's Ridge drops the target axis of a (n, 1) target; keep y's shape
        if y.ndim == 2:
            self.coef_ = np.reshape(est.coef_, (y.shape[1], X.shape[1]))
            self.intercept_ = np.broadcast_to(np.asarray(est.intercept_, dtype=np.float64),
                                              (y.shape[1],)).copy()
        else:
            self.coef_ = np.reshape(est.coef_, (X.shape[1],))
            self.intercept_ = float(np.ravel(est.intercept_)[0]) if np.ndim(
                est.intercept_) else float(est.intercept_)
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets (float64): shape ``X.shape[:-1] + (S,)`` for a 2-D target,
        ``X.shape[:-1]`` for a 1-D one (the shape of the target the probe was fitted on)."""
        check_is_fitted(self, "coef_")
        X, _, lead = _flatten_points(X)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        coef = np.atleast_2d(self.coef_)
        out = np.empty((X.shape[0], coef.shape[0]))
        for start in range(0, X.shape[0], _PREDICT_CHUNK):
            chunk = X[start:start + _PREDICT_CHUNK].astype(np.float64, copy=False)
            out[start:start + len(chunk)] = chunk @ coef.T
        out += self.intercept_
        if np.ndim(self.coef_) == 1:
            out = out[:, 0]
        return out.reshape(*lead, *out.shape[1:]) if lead else out

    def score(self, X, y, sample_weight=None) -> float:
        """The course's R² of the predictions, pooled over coordinates (see :func:`r2`).

        ``X``, ``y`` and ``sample_weight`` as in :meth:`fit`; ``(N, L, ...)`` data is scored
        over its ``N * L`` points.
        """
        X, y, lead = _flatten_points(X, y)
        w = _point_weights(sample_weight, lead or (len(X),))
        return r2(y, self.predict(X), w)


def _flatten_points(X, y=None):
    """Flatten ``(N, L, D)`` features (and matching targets) to points.

    Returns ``(X, y, lead)`` with ``lead = (N, L)`` for 3-D ``X``; anything else is passed
    through unchanged with ``lead = None`` for scikit-learn's own validation.
    """
    if getattr(X, "ndim", None) != 3:
        return X, y, None
    X = np.asarray(X)
    lead = X.shape[:-1]
    if y is not None:
        y = np.asarray(y)
        if y.shape[:2] != lead or y.ndim not in (2, 3):
            raise ValueError(f"y has shape {y.shape}; for X of shape {X.shape} it must be "
                             f"{lead + ('S',)} (or {lead} for a single target)")
        y = y.reshape(-1, y.shape[-1]) if y.ndim == 3 else y.reshape(-1)
    return X.reshape(-1, X.shape[-1]), y, lead
