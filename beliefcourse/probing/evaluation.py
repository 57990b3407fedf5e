"""Fit a probe on a sequence split and score both sides; the shuffled and untrained controls."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .activations import collect_activations
from .estimator import AffineProbe
from .metrics import Scores
from .splits import split_sequences


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
        The sequence split (:func:`split_sequences`; the authors' Mess3
        cross-validation fits on 20 %).
    weighted_fit : bool
        Fit with probability weights instead of the unweighted fit of the
        authors' code.
    alpha : float
        Ridge penalty; 0 is ordinary least squares (as in the authors' code).

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

    The belief targets are permuted across all ``N * L`` points (as in the authors' code), the probe
    is fitted on the fit-set sequences' features and *permuted* targets, and its predictions are
    scored against the **true** beliefs. Held-out MSE is then about the variance of the beliefs (≈
    0.111 unweighted for Mess3); anything a real probe scores near it is not a finding. With the
    same ``seed`` and ``train_fraction`` the split equals :func:`evaluate`'s.
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
    already scores a high R² at the final layer (chapter 05 measures it), which is the bar a
    trained model has to clear. ``data`` is an :class:`~beliefcourse.data.ExactData` (or anything
    with ``inputs``, ``beliefs``, ``probs``).
    """
    from ..model import build_model

    model = build_model(config, seed=init_seed)
    feats = collect_activations(model, data.inputs, hooks, batch_size, device)
    return evaluate(feats, data.beliefs, data.probs, train_fraction, seed,
                    weighted_fit=weighted_fit, alpha=alpha)
