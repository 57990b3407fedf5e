"""Probe metrics: MSE and THE R² of the course, unweighted or probability-weighted.

One definition of each, used everywhere in the course (package, chapters, exercises):

* ``mse = sum_i w_i ||y_i - yhat_i||^2 / (S sum_i w_i)``: the mean over points *and* the
  ``S`` belief coordinates of the squared error (the paper's MSE);
* ``r2 = 1 - sum_i w_i ||y_i - yhat_i||^2 / sum_i w_i ||y_i - ybar_w||^2`` with ``ybar_w =
  sum_i w_i y_i / sum_i w_i``: total residual over total target variance, **pooled over
  coordinates**, i.e. ``R² = 1 - MSE / Var`` with ``Var`` the mean (over coordinates) variance
  of the targets. This is *not* scikit-learn's ``r2_score``, which averages per-coordinate
  R² uniformly and so lets a coordinate of tiny variance count as much as a large one.

``w`` are point weights, uniform by default (*unweighted*: every ``(sequence, position)``
point counts once, the convention of the authors' code) or, for ``(N, L, S)`` data, one per
sequence such as ``probs`` (*weighted*: point ``(n, p)`` gets ``P(sequence n)``, which
summed over the sequences sharing its prefix is the prefix probability).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SIGNIFICANT_DIGITS = 6          # rounding of numbers in the to_dict() records


def _point_weights(sample_weight, lead_shape: tuple[int, ...]) -> np.ndarray | None:
    """Flatten ``sample_weight`` to one weight per point, shape ``(prod(lead_shape),)``.

    Accepts one weight per point (shape ``lead_shape``) or, for ``(N, L, ...)`` data, one per
    sequence (shape ``(N,)``), broadcast over positions.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != lead_shape:
        if len(lead_shape) == 2 and w.shape == lead_shape[:1]:
            w = np.broadcast_to(w[:, None], lead_shape)
        else:
            raise ValueError(f"sample_weight has shape {w.shape}; expected one weight per "
                             f"point {lead_shape}" + (f" or per sequence {lead_shape[:1]}"
                                                      if len(lead_shape) == 2 else ""))
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("sample_weight must be finite and non-negative, and the weights "
                         "must not all be zero")
    return w.reshape(-1)


def _targets_2d(y, y_pred) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    y = np.asarray(y, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y.shape != y_pred.shape:
        raise ValueError(f"y has shape {y.shape} but y_pred has shape {y_pred.shape}")
    if y.ndim < 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty array of targets, got shape {y.shape}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(y_pred))):
        raise ValueError("y and y_pred must be finite")
    lead = y.shape[:-1] if y.ndim >= 2 else y.shape
    width = y.shape[-1] if y.ndim >= 2 else 1
    return y.reshape(-1, width), y_pred.reshape(-1, width), lead


def _weighted_sums(y, y_pred, sample_weight) -> tuple[float, float, float, int]:
    """``(sum_i w_i ||y_i - yhat_i||^2, sum_i w_i ||y_i - ybar_w||^2, sum_i w_i, S)``."""
    y2, p2, lead = _targets_2d(y, y_pred)
    w = _point_weights(sample_weight, lead)
    w = np.ones(len(y2)) if w is None else w
    ybar = w @ y2 / w.sum()
    residual = float(w @ ((y2 - p2) ** 2).sum(axis=1))
    total = float(w @ ((y2 - ybar) ** 2).sum(axis=1))
    return residual, total, float(w.sum()), y2.shape[1]


def mse(y, y_pred, sample_weight=None) -> float:
    """Mean squared error over points **and** coordinates (the paper's MSE).

    ``mse = sum_i w_i ||y_i - yhat_i||^2 / (S sum_i w_i)``. ``y`` and ``y_pred`` have shape
    ``(..., S)``: ``(n_points, S)`` or ``(N, L, S)`` (the last axis is always the coordinates;
    a 1-D ``y`` is one coordinate). ``sample_weight=None`` weights every point equally
    (*unweighted*); otherwise one weight per point, or for ``(N, L, S)`` data one per sequence
    (e.g. ``probs``, which gives the prefix-probability weighting).
    """
    residual, _, w_sum, width = _weighted_sums(y, y_pred, sample_weight)
    return residual / (width * w_sum)


def r2(y, y_pred, sample_weight=None) -> float:
    """THE R² of the course: total residual over total target variance, pooled over coordinates.

    ``R² = 1 - sum_i w_i ||y_i - yhat_i||^2 / sum_i w_i ||y_i - ybar_w||^2`` with
    ``ybar_w = sum_i w_i y_i / sum_i w_i`` and ``||.||`` the Euclidean norm over the ``S``
    coordinates; equivalently ``1 - MSE / Var`` with ``Var`` the (weighted) variance of the
    targets averaged over coordinates. Not scikit-learn's ``r2_score`` (a uniform average of
    per-coordinate R²); the two differ when coordinates have unequal variance. Shapes and
    ``sample_weight`` as in :func:`mse`. Raises ValueError when the targets do not vary
    (R² is undefined).
    """
    residual, total, _, _ = _weighted_sums(y, y_pred, sample_weight)
    if total <= 0:
        raise ValueError("R² is undefined: the targets are constant (zero total variance)")
    return 1.0 - residual / total


@dataclass(frozen=True)
class Scores:
    """Probe metrics on one set of points.

    ``mse`` / ``r2`` weight every ``(sequence, position)`` point equally (*unweighted*, the
    convention of the authors' code); ``mse_weighted`` / ``r2_weighted`` weight point ``(n, p)`` by
    ``P(sequence n)``, which equals weighting by the probability of its prefix. MSE is the
    mean over points and belief coordinates (:func:`mse`); R² is pooled over coordinates,
    ``1 - total residual / total variance`` (:func:`r2`).
    """

    mse: float
    r2: float
    mse_weighted: float
    r2_weighted: float
    n_points: int

    @classmethod
    def of(cls, y, y_pred, probs) -> Scores:
        """Scores of predictions ``y_pred`` against ``y`` (both (n, L, S)), ``probs (n,)``."""
        return cls(mse=mse(y, y_pred), r2=r2(y, y_pred),
                   mse_weighted=mse(y, y_pred, probs), r2_weighted=r2(y, y_pred, probs),
                   n_points=int(np.prod(y.shape[:-1])))

    def to_dict(self) -> dict:
        return {"mse": _round(self.mse), "r2": _round(self.r2),
                "mse_weighted": _round(self.mse_weighted),
                "r2_weighted": _round(self.r2_weighted), "n_points": self.n_points}


def _round(x: float) -> float:
    return float(f"{x:.{_SIGNIFICANT_DIGITS}g}")
