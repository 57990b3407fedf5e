"""Affine probes from activations to belief states, with the controls the paper lacks.

The paper's probe (Shai et al. 2024, Figs. 6-7) is one affine regression, activations ->
beliefs, fitted on every ``(sequence, position)`` point of the exactly enumerated inputs.
This module does the same and adds what turns a fit into a claim:

* **held-out scores**, with the split made over *sequences* (:func:`split_sequences`), so no
  sequence contributes points to both sides;
* **two weightings** of every metric. *Unweighted* counts each ``(sequence, position)``
  point once, i.e. uniformly over the length-``n_ctx`` sequences (the paper's convention,
  which over-counts unlikely sequences). *Weighted* gives point ``(n, p)`` the weight
  ``probs[n] = P(sequence n)``; summed over the sequences that share the prefix ``x_1..x_{p+1}``
  this is exactly ``P(x_1..x_{p+1})``, so the weighted metric is the expectation under the
  process (each position counting equally);
* **controls at the same feature dimension**: shuffled targets (:func:`shuffle_control`), a
  freshly initialised network of the same architecture (:func:`untrained_control`), and a
  linear map of the raw token history (:func:`input_only_features`).

Metrics: :func:`mse` is the mean over points *and* belief coordinates of the squared error
(the paper's number); :func:`r2` is the coefficient of determination averaged uniformly over
belief coordinates. Every reported number says which weighting and which split it uses.

Shapes: ``N`` sequences, ``L`` positions (``n_ctx``), ``D`` features, ``S`` hidden states.
``features (N, L, D)`` come from :func:`collect_activations`; ``beliefs (N, L, S)`` and
``probs (N,)`` from :class:`beliefcourse.data.ExactData`, whose position ``p`` targets the
belief after ``p + 1`` tokens (see CONTRIBUTING.md).

Typical use::

    report = probe_checkpoint("mess3")
    print(report.table())
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.utils.validation import check_is_fitted, validate_data

_PREDICT_CHUNK = 65_536          # rows per chunk when predicting, to bound float64 copies
_SIGNIFICANT_DIGITS = 6          # rounding of numbers in ProbeReport.to_dict()
_RESID_HOOK = re.compile(r"^blocks\.(\d+)\.hook_resid_(pre|mid|post)$")
_RESID_ORDER = {"pre": 0, "mid": 1, "post": 2}
_GRU_HOOK = re.compile(r"^gru\.(\d+)\.hook_hidden$")


# ---------------------------------------------------------------------------- activations
def collect_activations(model, tokens, hooks, batch_size: int = 1024, device=None
                        ) -> np.ndarray:
    """Run ``model`` over ``tokens`` and return the activations at ``hooks``.

    Parameters
    ----------
    model : torch.nn.Module
        Any course model: it has ``hook_names`` and ``run_with_cache(tokens, names=...)``
        returning ``(logits, {name: Tensor (B, L, D)})``.
    tokens : int array or LongTensor, shape (N, L)
    hooks : str or sequence of str
        Hook name(s) from ``model.hook_names``. Several hooks are concatenated along the
        feature axis in the order given.
    batch_size : int
        Sequences per forward pass. About 1024 is fastest on a CPU for the paper's models
        (the MLP's hidden activations then stay in cache); larger on a GPU.
    device : torch.device or str, optional
        Where to run; default the device of the model's parameters.

    Returns
    -------
    float32 array, shape (N, L, D_total)
        ``D_total`` is the sum of the hooks' widths. The model runs in eval mode under
        ``torch.no_grad()``; its previous train/eval mode is restored afterwards.
    """
    return _collect(model, tokens, _hook_list(model, hooks), batch_size, device)[0]


def _collect(model, tokens, names: list[str], batch_size: int, device
             ) -> tuple[np.ndarray, dict[str, slice]]:
    """:func:`collect_activations` for validated ``names``; also each hook's column span."""
    import torch

    batch_size = _positive_int(batch_size, "batch_size")
    tok = tokens if isinstance(tokens, torch.Tensor) else torch.from_numpy(np.array(tokens))
    if tok.ndim != 2 or tok.shape[0] == 0 or tok.shape[1] == 0:
        raise ValueError("tokens must have shape (n_sequences, length) with both >= 1; "
                         f"got shape {tuple(tok.shape)}")
    if tok.dtype.is_floating_point or tok.dtype.is_complex or tok.dtype == torch.bool:
        raise TypeError(f"tokens must be integers, got dtype {tok.dtype}")
    tok = tok.long()
    if device is None:
        device = next(model.parameters()).device
    n, length = tok.shape
    out, spans = None, {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                batch = tok[start:start + batch_size].to(device)
                _, cache = model.run_with_cache(batch, names=names)
                for name in names:
                    act = cache[name]
                    if act.ndim != 3 or tuple(act.shape[:2]) != tuple(batch.shape):
                        raise ValueError(f"hook {name!r} returned shape {tuple(act.shape)}; "
                                         f"expected (batch, length, d) = "
                                         f"({batch.shape[0]}, {length}, d)")
                if out is None:
                    widths = np.cumsum([0] + [cache[name].shape[-1] for name in names])
                    spans = {name: slice(a, b) for name, a, b in
                             zip(names, widths[:-1], widths[1:])}
                    out = np.empty((n, length, widths[-1]), dtype=np.float32)
                rows = slice(start, start + len(batch))
                for name in names:
                    out[rows, :, spans[name]] = cache[name].float().cpu().numpy()
    finally:
        model.train(was_training)
    return out, spans


def _select(feats: np.ndarray, spans: dict[str, slice], hooks: list[str]) -> np.ndarray:
    """Columns of ``hooks`` (in that order) from collected features; a view when contiguous."""
    cols = [spans[h] for h in hooks]
    if all(a.stop == b.start for a, b in zip(cols, cols[1:])):
        return feats[..., cols[0].start:cols[-1].stop]
    return np.concatenate([feats[..., c] for c in cols], axis=-1)


def _hook_list(model, hooks) -> list[str]:
    """Validate ``hooks`` (a name or a sequence of names) against ``model.hook_names``."""
    available = _hook_names(model)
    names = [hooks] if isinstance(hooks, str) else list(hooks)
    if not names or not all(isinstance(h, str) for h in names):
        raise TypeError("hooks must be a hook name or a non-empty sequence of hook names")
    unknown = [h for h in names if h not in available]
    if unknown:
        raise ValueError(f"unknown hook(s) {unknown}; this model has: {', '.join(available)}")
    repeated = sorted({h for h in names if names.count(h) > 1})
    if repeated:
        raise ValueError(f"hook(s) {repeated} listed more than once")
    return names


def _hook_names(model) -> list[str]:
    names = getattr(model, "hook_names", None)
    if names is None:
        raise TypeError(f"{type(model).__name__} has no hook_names; probing needs a course "
                        "model (beliefcourse.model) or one with the same hook interface")
    return list(names)


def layer_hooks(model) -> list[str]:
    """The model's residual-stream hooks in forward order.

    Transformer: ``blocks.{l}.hook_resid_{pre,mid,post}`` for every block (12 hooks for the
    paper's 4-layer models; their concatenation is what Fig. 7C probes for RRXOR).
    GRU: ``gru.{l}.hook_hidden`` for every layer.
    """
    found = []
    for h in _hook_names(model):
        if m := _RESID_HOOK.match(h):
            found.append((int(m.group(1)), _RESID_ORDER[m.group(2)], h))
        elif m := _GRU_HOOK.match(h):
            found.append((int(m.group(1)), 0, h))
    if not found:
        raise ValueError(f"{type(model).__name__} has no blocks.<l>.hook_resid_* or "
                         "gru.<l>.hook_hidden hooks")
    return [h for *_, h in sorted(found)]


def default_hook_sets(model, process_name: str) -> dict[str, list[str]]:
    """The representations the paper probes, as ``{label: [hook, ...]}``.

    * RRXOR (Fig. 7): the final layer alone (``blocks.{last}.hook_resid_post``) vs. all
      residual hooks concatenated (:func:`layer_hooks`; 12 hooks, 1536 dims for the paper's
      model).
    * Every other process (Mess3, Figs. 6 and S1): the final layer before the final LayerNorm
      (``blocks.{last}.hook_resid_post``) and after it (``ln_final.hook_normalized``).

    For a GRU the final layer is ``gru.{last}.hook_hidden``.
    """
    layers = layer_hooks(model)
    final = {"final layer (pre-LN)": [layers[-1]]}
    if str(process_name).lower() == "rrxor":
        return {**final, f"all {len(layers)} residual hooks": layers}
    return {**final, "ln_final (post-LN)": ["ln_final.hook_normalized"]}


# ---------------------------------------------------------------------------- input baseline
def input_only_features(tokens, n_tokens: int, n_lags: int | None = None) -> np.ndarray:
    """One-hot token history plus a one-hot position: the "no network" baseline.

    At position ``p`` the features are ``[onehot(x at p), onehot(x at p - 1), ...,
    onehot(x at p - n_lags + 1), onehot(p)]``; lags reaching before the first token are all
    zeros. A linear probe on these features is the best *linear-in-history* predictor of the
    belief, so a network's probe must beat it to show the network computed something.

    Parameters
    ----------
    tokens : int array, shape (N, L)
    n_tokens : int
        Vocabulary size.
    n_lags : int, optional
        Number of lags (1 = current token only). Default ``L``: the full history.

    Returns
    -------
    float32 array, shape (N, L, n_lags * n_tokens + L)
    """
    tok = np.asarray(tokens)
    if tok.ndim != 2 or tok.size == 0:
        raise ValueError(f"tokens must have shape (n_sequences, length), got {tok.shape}")
    if not np.issubdtype(tok.dtype, np.integer):
        raise TypeError(f"tokens must be integers, got dtype {tok.dtype}")
    n_tokens = _positive_int(n_tokens, "n_tokens")
    if tok.min() < 0 or tok.max() >= n_tokens:
        raise ValueError(f"tokens must lie in 0..{n_tokens - 1}, found {tok.min()}..{tok.max()}")
    n, length = tok.shape
    n_lags = length if n_lags is None else _positive_int(n_lags, "n_lags")
    feats = np.zeros((n, length, n_lags * n_tokens + length), dtype=np.float32)
    seq = np.arange(n)[:, None]
    for lag in range(min(n_lags, length)):
        pos = np.arange(lag, length)
        feats[seq, pos[None, :], lag * n_tokens + tok[:, pos - lag]] = 1.0
    feats[:, np.arange(length), n_lags * n_tokens + np.arange(length)] = 1.0
    return feats


# ---------------------------------------------------------------------------- metrics
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


def mse(y, y_pred, sample_weight=None) -> float:
    """Mean squared error, averaged over points **and** belief coordinates (the paper's MSE).

    ``y`` and ``y_pred`` have shape ``(..., S)``: ``(n_points, S)`` or ``(N, L, S)``.
    ``sample_weight=None`` weights every point equally (*unweighted*); otherwise the mean over
    points is weighted: ``sum_i w_i sum_k (y_ik - yhat_ik)^2 / (S sum_i w_i)``. Weights are
    one per point, or for ``(N, L, S)`` data one per sequence (e.g. ``probs``, which gives the
    prefix-probability weighting).
    """
    y2, p2, lead = _targets_2d(y, y_pred)
    w = _point_weights(sample_weight, lead)
    return float(mean_squared_error(y2, p2, sample_weight=w, multioutput="uniform_average"))


def r2(y, y_pred, sample_weight=None) -> float:
    """Coefficient of determination, averaged **uniformly over belief coordinates**.

    For each coordinate ``k``: ``1 - sum_i w_i (y_ik - yhat_ik)^2 / sum_i w_i (y_ik - ybar_k)^2``
    with ``ybar_k`` the (weighted) mean; then the plain mean over ``k`` (scikit-learn's
    ``multioutput="uniform_average"``; a constant coordinate scores 1 if predicted exactly,
    else 0). Shapes and ``sample_weight`` as in :func:`mse`.
    """
    y2, p2, lead = _targets_2d(y, y_pred)
    w = _point_weights(sample_weight, lead)
    return float(r2_score(y2, p2, sample_weight=w, multioutput="uniform_average"))


# ---------------------------------------------------------------------------- the probe
class AffineProbe(RegressorMixin, BaseEstimator):
    """Affine map ``activations -> beliefs``: ``yhat = X @ coef_.T + intercept_``.

    Ordinary least squares (:class:`sklearn.linear_model.LinearRegression`, minimum-norm
    solution when features are collinear) or, for ``alpha > 0``, ridge regression
    (:class:`sklearn.linear_model.Ridge`). Fitting is done in float64.

    ``X`` is ``(n_points, D)`` or ``(N, L, D)``; the latter is flattened to ``N * L`` points.
    ``y`` matches: ``(n_points, S)`` / ``(N, L, S)``, or without the last axis for a single
    target. ``sample_weight`` is one weight per point or, for 3-D data, one per sequence
    (broadcast over positions). :meth:`predict` returns the leading shape of ``X``.
    :meth:`score` is :func:`r2` (uniform average over belief coordinates).

    Attributes
    ----------
    coef_ : array, shape (S, D) (or (D,) for a single target)
    intercept_ : array, shape (S,) (or float); zero when ``fit_intercept=False``
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
        self.coef_ = est.coef_
        self.intercept_ = est.intercept_
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets, shape ``X.shape[:-1] + (S,)`` (float64)."""
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
        """R² of the predictions, uniform average over target coordinates (see :func:`r2`)."""
        return r2(y, self.predict(X), sample_weight)


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


# ---------------------------------------------------------------------------- evaluation
def split_sequences(n_sequences: int, train_fraction: float = 0.2, seed=0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Random split of **sequences** (never of points) into a fit set and a held-out set.

    All ``L`` positions of a sequence land on the same side, so prefixes shared by many
    positions of one sequence cannot leak. The paper's convention is sklearn's
    ``train_test_split(..., test_size=0.8)``: fit on 20 %, test on 80 % (for Mess3, 11,809 vs
    47,240 sequences); ``train_fraction=0.2`` reproduces those sizes,
    ``n_train = floor(train_fraction * n_sequences)``. ``train_fraction=1`` puts everything
    in the fit set (the paper's in-sample fit) and returns an empty test set.

    Returns ``(train_idx, test_idx)``, sorted int64 arrays; ``seed`` is anything
    :func:`numpy.random.default_rng` accepts.
    """
    n = _positive_int(n_sequences, "n_sequences")
    if isinstance(train_fraction, bool) or not isinstance(
            train_fraction, (int, float, np.integer, np.floating)):
        raise TypeError(f"train_fraction must be a number, got {type(train_fraction).__name__}")
    if not 0 < train_fraction <= 1:
        raise ValueError(f"train_fraction must lie in (0, 1], got {train_fraction}")
    n_train = math.floor(train_fraction * n + 1e-9)
    if n_train < 1 or (train_fraction < 1 and n_train == n):
        raise ValueError(f"train_fraction={train_fraction} of {n} sequences leaves "
                         f"{n_train} to fit and {n - n_train} to test; both must be >= 1")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:n_train]), np.sort(perm[n_train:])


@dataclass(frozen=True)
class Scores:
    """Probe metrics on one set of points.

    ``mse`` / ``r2`` weight every ``(sequence, position)`` point equally (*unweighted*, the
    paper's convention); ``mse_weighted`` / ``r2_weighted`` weight point ``(n, p)`` by
    ``P(sequence n)``, which equals weighting by the probability of its prefix. MSE is the
    mean over points and belief coordinates; R² the uniform average over coordinates.
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


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """Outcome of fitting one probe on a sequence split.

    Attributes
    ----------
    in_sample : Scores
        On the fit set (the sequences the probe was fitted on).
    held_out : Scores or None
        On the other sequences; ``None`` when ``train_fraction == 1``.
    probe : AffineProbe
        The fitted probe.
    predictions : float64 array, shape (N, L, S)
        The probe's output at every point (fit set and held-out alike), for plotting.
    train_idx, test_idx : int arrays
        Sequence indices of the two sides (:func:`split_sequences`).
    n_features : int
    weighted_fit : bool
        Whether the probe was *fitted* with probability weights (the scores report both).
    """

    in_sample: Scores
    held_out: Scores | None
    probe: AffineProbe
    predictions: np.ndarray = field(repr=False)
    train_idx: np.ndarray = field(repr=False)
    test_idx: np.ndarray = field(repr=False)
    n_features: int
    weighted_fit: bool

    def to_dict(self) -> dict:
        return {"n_features": self.n_features, "weighted_fit": self.weighted_fit,
                "held_out": self.held_out.to_dict() if self.held_out else None,
                "in_sample": self.in_sample.to_dict()}


def _check_probe_data(features, beliefs, probs):
    features = np.asarray(features)
    beliefs = np.asarray(beliefs, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    if features.ndim != 3 or beliefs.ndim != 3:
        raise ValueError("features must have shape (N, L, D) and beliefs (N, L, S); got "
                         f"{features.shape} and {beliefs.shape}")
    if features.shape[:2] != beliefs.shape[:2]:
        raise ValueError(f"features {features.shape} and beliefs {beliefs.shape} disagree on "
                         "(N, L): position p of both must refer to the same prefix")
    if probs.shape != features.shape[:1]:
        raise ValueError(f"probs must have shape (N,) = ({features.shape[0]},), "
                         f"got {probs.shape}")
    return features, beliefs, probs


def _fit_and_score(features, beliefs, probs, train_idx, test_idx, fit_targets,
                   weighted_fit: bool, alpha: float) -> ProbeResult:
    """Fit on ``fit_targets[train_idx]``; score against the true ``beliefs`` on both sides."""
    probe = AffineProbe(alpha=alpha).fit(features[train_idx], fit_targets[train_idx],
                                         probs[train_idx] if weighted_fit else None)
    pred = probe.predict(features)
    held = (Scores.of(beliefs[test_idx], pred[test_idx], probs[test_idx])
            if len(test_idx) else None)
    return ProbeResult(in_sample=Scores.of(beliefs[train_idx], pred[train_idx],
                                           probs[train_idx]),
                       held_out=held, probe=probe, predictions=pred, train_idx=train_idx,
                       test_idx=test_idx, n_features=features.shape[-1],
                       weighted_fit=bool(weighted_fit))


def evaluate(features, beliefs, probs, train_fraction: float = 0.2, seed=0, *,
             weighted_fit: bool = False, alpha: float = 0.0) -> ProbeResult:
    """Fit an :class:`AffineProbe` on a fraction of the sequences; score both sides.

    Parameters
    ----------
    features : array, shape (N, L, D)
    beliefs : array, shape (N, L, S)
        Target belief of each point (``ExactData.beliefs``).
    probs : array, shape (N,)
        ``P(sequence n)``; used for the weighted scores (point ``(n, p)`` gets weight
        ``probs[n]``, i.e. its prefix probability) and, if ``weighted_fit``, for the fit.
    train_fraction, seed
        The sequence split (:func:`split_sequences`; the paper fits on 20 %).
    weighted_fit : bool
        Fit with probability weights instead of the paper's unweighted fit.
    alpha : float
        Ridge penalty; 0 is ordinary least squares (the paper).

    Returns
    -------
    ProbeResult
        In-sample and held-out MSE and R², unweighted and weighted, plus the probe and its
        predictions at every point.
    """
    features, beliefs, probs = _check_probe_data(features, beliefs, probs)
    train_idx, test_idx = split_sequences(len(probs), train_fraction, seed)
    return _fit_and_score(features, beliefs, probs, train_idx, test_idx, beliefs,
                          weighted_fit, alpha)


def shuffle_control(features, beliefs, probs, seed=0, train_fraction: float = 0.2, *,
                    weighted_fit: bool = False, alpha: float = 0.0) -> ProbeResult:
    """Shuffled-target control: the probe on the same features, fitted to permuted beliefs.

    The belief targets are permuted across all ``N * L`` points (as in the paper), the probe is
    fitted on the fit-set sequences' features and *permuted* targets, and its predictions are
    scored against the **true** beliefs. Held-out MSE is then about the variance of the beliefs
    (≈ 0.111 unweighted for Mess3); anything a real probe scores near it is not a finding.
    With the same ``seed`` and ``train_fraction`` the split equals :func:`evaluate`'s.
    Arguments and result as in :func:`evaluate`.
    """
    features, beliefs, probs = _check_probe_data(features, beliefs, probs)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = split_sequences(len(probs), train_fraction, rng)
    flat = beliefs.reshape(-1, beliefs.shape[-1])
    shuffled = flat[rng.permutation(len(flat))].reshape(beliefs.shape)
    return _fit_and_score(features, beliefs, probs, train_idx, test_idx, shuffled,
                          weighted_fit, alpha)


def untrained_control(config, data, hooks, init_seed: int = 0, *,
                      train_fraction: float = 0.2, seed=0, weighted_fit: bool = False,
                      alpha: float = 0.0, batch_size: int = 1024, device=None) -> ProbeResult:
    """The same probe on a freshly initialised network of the same architecture.

    Builds ``beliefcourse.model.build_model(config, seed=init_seed)``, collects ``hooks`` on
    ``data.inputs`` (same hooks, so the same feature dimension as the trained model) and runs
    :func:`evaluate` with the same split arguments. An untrained paper-size Mess3 transformer
    already scores R² ≈ 0.85 at the final layer (papers.md §6), which is the bar a trained
    model has to clear. ``data`` is an :class:`~beliefcourse.data.ExactData` (or anything
    with ``inputs``, ``beliefs``, ``probs``).
    """
    from .model import build_model

    model = build_model(config, seed=init_seed)
    feats = collect_activations(model, data.inputs, hooks, batch_size, device)
    return evaluate(feats, data.beliefs, data.probs, train_fraction, seed,
                    weighted_fit=weighted_fit, alpha=alpha)


# ---------------------------------------------------------------------------- reports
@dataclass(frozen=True, eq=False)
class ProbeRow:
    """One line of a :class:`ProbeReport`: a representation under one treatment.

    ``kind`` is ``"trained"``, ``"untrained"`` (fresh initialisation, same hooks),
    ``"shuffled"`` (permuted targets, same features) or ``"input only"`` (token-history
    baseline, ``hooks == ()``).
    """

    label: str
    kind: str
    hooks: tuple[str, ...]
    result: ProbeResult

    def to_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, "hooks": list(self.hooks),
                **self.result.to_dict()}


@dataclass(frozen=True, eq=False)
class ProbeReport:
    """Probe results for several representations and their controls.

    ``rows`` are :class:`ProbeRow` objects; ``meta`` says what was probed and how (process,
    sizes, split, seeds, fit weighting). :meth:`table` renders a fixed-width text table,
    :meth:`to_dict` a JSON-able dict (numbers rounded to 6 significant digits), and
    :meth:`get` looks a row's :class:`ProbeResult` up by label and kind.
    """

    rows: list[ProbeRow]
    meta: dict

    def get(self, label: str, kind: str = "trained") -> ProbeResult:
        for row in self.rows:
            if row.label == label and row.kind == kind:
                return row.result
        have = ", ".join(f"({r.label!r}, {r.kind!r})" for r in self.rows)
        raise KeyError(f"no row ({label!r}, {kind!r}); rows: {have}")

    def to_dict(self) -> dict:
        return {"meta": _jsonable(self.meta), "rows": [row.to_dict() for row in self.rows]}

    def table(self) -> str:
        """Fixed-width text table: one row per representation, held-out then in-sample."""
        m = self.meta
        frac = m["train_fraction"]
        fit = "probability-weighted" if m["weighted_fit"] else "unweighted"
        title = "; ".join(f"{k} {m[k]}" for k in ("checkpoint", "process") if m.get(k))
        label_w = max([len("representation")] + [len(r.label) for r in self.rows])
        metrics = f"{'MSE':>9} {'R2':>7} {'MSE(p)':>9} {'R2(p)':>7}"
        width = len(metrics)
        head1 = (" " * (label_w + 19) + f"{f'held-out ({1 - frac:.0%})':^{width}}   "
                 + f"{f'in-sample (fit set, {frac:.0%})':^{width}}")
        head2 = f"{'representation':<{label_w}}  {'kind':<10}  {'dim':>4}  {metrics}   {metrics}"
        lines = [f"Affine probe -> beliefs{': ' + title if title else ''}",
                 f"{m['n_sequences']:,} sequences x {m['n_positions']} positions; {fit} fit "
                 f"on {frac:.0%} of the sequences (split seed {m['seed']}), scored on both sides",
                 "", head1, head2, "-" * len(head2)]
        for row in self.rows:
            res = row.result
            lines.append(f"{row.label:<{label_w}}  {row.kind:<10}  {res.n_features:>4}  "
                         f"{_fmt_scores(res.held_out, width)}   "
                         f"{_fmt_scores(res.in_sample, width)}")
        kinds = {row.kind for row in self.rows}
        legend = {"untrained": f"untrained: same architecture freshly initialised (seed "
                               f"{m['init_seed']}), same hooks and dimension.",
                  "shuffled": "shuffled: targets permuted across points, fit, then scored "
                              "against the true beliefs.",
                  "input only": "input only: one-hot token history (all lags) + one-hot "
                                "position, no network."}
        lines += ["",
                  "MSE: mean over points and belief coordinates. R2: uniform average over "
                  "belief coordinates.",
                  "Plain columns weight every (sequence, position) point equally (the paper); "
                  "(p) columns weight point (n, p)",
                  "by P(sequence n), i.e. by its prefix probability."]
        lines += [text for kind, text in legend.items() if kind in kinds]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _fmt_scores(s: Scores | None, width: int) -> str:
    if s is None:
        return f"{'(none)':^{width}}"
    return f"{s.mse:9.3e} {s.r2:7.4f} {s.mse_weighted:9.3e} {s.r2_weighted:7.4f}"


def compare_layers(model, data, hook_sets: dict[str, list[str]], controls: bool = True, *,
                   init_seed: int = 0, train_fraction: float = 0.2, seed=0,
                   weighted_fit: bool = False, alpha: float = 0.0, batch_size: int = 1024,
                   device=None) -> ProbeReport:
    """Probe several representations of one model, each with controls at its own dimension.

    Parameters
    ----------
    model : course model
        Must have a ``cfg`` attribute (its config) when ``controls`` is true.
    data : ExactData (or anything with ``inputs (N, L)``, ``beliefs (N, L, S)``, ``probs``)
    hook_sets : dict label -> list of hook names
        Each entry is one representation: its hooks concatenated in the given order, e.g.
        ``{"final": ["blocks.3.hook_resid_post"], "all": layer_hooks(model)}`` (the RRXOR
        comparison of Fig. 7C).
    controls : bool
        Add, for every representation, an ``"untrained"`` row (``build_model(model.cfg,
        init_seed)``, same hooks and dimension) and a ``"shuffled"`` row (same features,
        permuted targets).
    init_seed, train_fraction, seed, weighted_fit, alpha, batch_size, device
        As in :func:`untrained_control` / :func:`evaluate`; every row uses the same split.

    Returns
    -------
    ProbeReport
        Rows grouped by representation: trained, then its controls.
    """
    if not isinstance(hook_sets, dict) or not hook_sets:
        raise TypeError("hook_sets must be a non-empty dict {label: [hook, ...]}")
    sets = {label: _hook_list(model, hooks) for label, hooks in hook_sets.items()}
    if controls and not hasattr(model, "cfg"):
        raise TypeError(f"{type(model).__name__} has no cfg; the untrained control needs the "
                        "model's config (or pass controls=False)")
    beliefs, probs = np.asarray(data.beliefs), np.asarray(data.probs)
    split = {"train_fraction": train_fraction, "seed": seed, "weighted_fit": weighted_fit,
             "alpha": alpha}
    union = list(dict.fromkeys(h for hooks in sets.values() for h in hooks))
    # one forward pass per model over the union of the hooks; each set is a column selection
    feats, spans = _collect(model, data.inputs, union, batch_size, device)
    rows = {}
    for label, hooks in sets.items():
        x = _select(feats, spans, hooks)
        rows[label, "trained"] = evaluate(x, beliefs, probs, **split)
        if controls:
            rows[label, "shuffled"] = shuffle_control(x, beliefs, probs, **split)
    if controls:
        from .model import build_model

        del feats, x
        feats, spans = _collect(build_model(model.cfg, seed=init_seed), data.inputs, union,
                                batch_size, device)
        for label, hooks in sets.items():
            rows[label, "untrained"] = evaluate(_select(feats, spans, hooks), beliefs, probs,
                                                **split)
    kinds = ("trained", "shuffled", "untrained") if controls else ("trained",)
    ordered = [ProbeRow(label, kind, tuple(hooks), rows[label, kind])
               for label, hooks in sets.items() for kind in kinds]
    meta = {"n_sequences": len(probs), "n_positions": beliefs.shape[1],
            "n_belief_states": beliefs.shape[2], "hook_sets": sets,
            "init_seed": init_seed if controls else None, **split}
    return ProbeReport(rows=ordered, meta=meta)


def layer_sweep(model, data, hooks=None, controls: bool = False, **kwargs) -> ProbeReport:
    """One probe per hook, e.g. for the per-layer panel of Fig. 7E.

    ``hooks`` defaults to every hook of ``model.hook_names`` whose activation has shape
    ``(B, L, D)`` (attention patterns are skipped). A thin wrapper around
    :func:`compare_layers` with ``{hook: [hook]}``; keyword arguments (split, seeds,
    weighting) are passed on, and ``controls=True`` adds untrained and shuffled rows.
    """
    if hooks is None:
        import torch

        first = torch.tensor(np.array(data.inputs[:1]), dtype=torch.long)
        with torch.no_grad():
            _, cache = model.run_with_cache(first)
        hooks = [h for h in model.hook_names if cache[h].ndim == 3]
    else:
        hooks = _hook_list(model, hooks)
    return compare_layers(model, data, {h: [h] for h in hooks}, controls, **kwargs)


# ---------------------------------------------------------------------------- checkpoints
def probe_checkpoint(name_or_path, hook=None, controls: bool = True,
                     train_fraction: float = 0.2, seed=0, write: bool = False, *,
                     tokens: int | None = None, init_seed: int = 0) -> ProbeReport:
    """Probe a checkpoint with the paper's representations and the controls.

    Parameters
    ----------
    name_or_path : str or path
        A shipped checkpoint set (``beliefcourse.checkpoints.available()``), a directory of
        checkpoints, or a ``.pt``/``.json`` file (see ``checkpoints.resolve``).
    hook : str or list of str, optional
        Probe this one representation (hooks concatenated) instead of the defaults of
        :func:`default_hook_sets`: Mess3 and others, the final layer before and after
        ``ln_final``; RRXOR, the final layer alone and all residual hooks concatenated.
    controls : bool
        Give every representation untrained and shuffled rows (:func:`compare_layers`) and
        add an input-only row (full token history + position, :func:`input_only_features`).
    train_fraction, seed
        The sequence split (the paper: fit on 20 %); every row uses the same split.
    write : bool
        Store ``report.to_dict()`` under ``"probe"`` in the checkpoint's JSON record.
    tokens : int, optional
        For a name or directory, the checkpoint at this many training tokens (default: last).
    init_seed : int
        Initialisation seed of the untrained control.

    The process is rebuilt from the record (``processes.get(record["process"],
    **record["process_params"])``) and every input sequence of length ``n_ctx`` is
    enumerated exactly (:class:`~beliefcourse.data.ExactData`). The result is deterministic
    given ``seed`` and ``init_seed``; the record keeps 6 significant digits.
    """
    from . import checkpoints, processes
    from .data import ExactData

    path = checkpoints.resolve(name_or_path, tokens)
    model, record = checkpoints.load_file(path)
    hmm = processes.get(record["process"], **record.get("process_params", {}))
    data = ExactData(hmm, int(record["model_config"]["n_ctx"]))
    if hook is None:
        hook_sets = default_hook_sets(model, record["process"])
    else:
        names = _hook_list(model, hook)
        hook_sets = {" + ".join(names): names}
    report = compare_layers(model, data, hook_sets, controls, init_seed=init_seed,
                            train_fraction=train_fraction, seed=seed)
    rows = list(report.rows)
    if controls:
        feats = input_only_features(data.inputs, hmm.n_tokens)
        rows.append(ProbeRow("token history + position", "input only", (),
                             evaluate(feats, data.beliefs, data.probs, train_fraction, seed)))
    params = ", ".join(f"{k}={v}" for k, v in record.get("process_params", {}).items())
    meta = {"checkpoint": f"{record.get('name', path.stem)} @ {record['tokens_seen']:,} tokens",
            "process": f"{record['process']}({params})", **report.meta}
    report = ProbeReport(rows=rows, meta=meta)
    if write:
        checkpoints.update_record(path, {"probe": report.to_dict()})
    return report


# ---------------------------------------------------------------------------- distance test
@dataclass(frozen=True, eq=False)
class DistanceTest:
    """Result of :func:`belief_distance_test` (Fig. 7D).

    ``r2_belief`` / ``r2_next_token``: R² of a straight-line fit of the point distances on the
    belief distances / next-token-distribution distances (= squared Pearson correlation).
    The distance arrays (one entry per sampled pair) are kept for scatter plots.
    """

    r2_belief: float
    r2_next_token: float
    n_pairs: int
    point_distance: np.ndarray = field(repr=False)
    belief_distance: np.ndarray = field(repr=False)
    next_token_distance: np.ndarray = field(repr=False)


def belief_distance_test(points, beliefs, next_token_probs, n_pairs: int = 200_000,
                         seed=0) -> DistanceTest:
    """Do distances between representations track belief distances or next-token distances?

    Samples ``n_pairs`` random pairs of distinct points (uniformly, unweighted; the paper used
    all ≈9.5 M pairs of the 4,360 RRXOR points) and correlates the Euclidean distance between
    their ``points`` with the distance between their beliefs and between their next-token
    distributions. A representation of the belief scores ``r2_belief`` near 1 while
    ``r2_next_token`` stays at the process's ceiling (≈ 0.28 for RRXOR, whose 36 beliefs have
    only 11 distinct next-token distributions).

    ``points`` may be probe predictions (as in the paper; partly circular, since the probe was
    fitted to beliefs) or raw activations (no such circularity).

    Parameters
    ----------
    points : array, shape (N, L, D) or (M, D)
    beliefs : array, shape (N, L, S) or (M, S)
    next_token_probs : array, shape (N, L, n_tokens) or (M, n_tokens)
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in (points, beliefs, next_token_probs)]
    if len({a.shape[:-1] for a in arrays}) != 1 or arrays[0].ndim not in (2, 3):
        raise ValueError("points, beliefs and next_token_probs must share their leading "
                         f"shape (N, L) or (M,); got {[a.shape for a in arrays]}")
    pts, bel, nxt = (a.reshape(-1, a.shape[-1]) for a in arrays)
    n_pairs = _positive_int(n_pairs, "n_pairs")
    m = len(pts)
    if m < 2:
        raise ValueError("need at least 2 points to form pairs")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, m, n_pairs)
    j = (i + rng.integers(1, m, n_pairs)) % m          # uniform over points other than i
    d = [np.linalg.norm(a[i] - a[j], axis=1) for a in (pts, bel, nxt)]
    return DistanceTest(r2_belief=_r2_line(d[1], d[0], "belief"),
                        r2_next_token=_r2_line(d[2], d[0], "next-token"),
                        n_pairs=n_pairs, point_distance=d[0], belief_distance=d[1],
                        next_token_distance=d[2])


def _r2_line(x: np.ndarray, y: np.ndarray, what: str) -> float:
    """R² of the least-squares line ``y ~ a x + b`` (squared Pearson correlation)."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise ValueError(f"the sampled {what} or point distances are all equal; the "
                         "correlation is undefined")
    return float(np.corrcoef(x, y)[0, 1] ** 2)


# ---------------------------------------------------------------------------- helpers
def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _round(x: float) -> float:
    return float(f"{x:.{_SIGNIFICANT_DIGITS}g}")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, (str, int, float, bool, type(None))):
        return obj
    return repr(obj)              # e.g. a numpy Generator passed as a seed
