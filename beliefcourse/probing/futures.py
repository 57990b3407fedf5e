"""What does a belief know beyond the next token? Future targets and next-token ceilings.

A belief ``eta`` fixes the distribution of the whole future: the probability of the next ``k``
tokens ``x_1..x_k`` is ``eta T^(x_1) ... T^(x_k) 1`` (Shai et al. 2024, eq. 2), linear in
``eta``. The next-token distribution is the case ``k = 1``. Several beliefs can share a
next-token distribution (RRXOR: the 35 beliefs after 1 to 10 tokens share 11 next-token
distributions), so a representation that holds only the next token can explain only part of
what the belief explains. This module computes the targets and that part, exactly:

* :func:`future_distributions` — the distribution of the next ``k`` tokens, ``(..., X**k)``;
* :func:`next_token_classes` — which points share a next-token distribution;
* :func:`class_ceiling` — THE R² (:func:`~beliefcourse.probing.metrics.r2`) of the best
  predictor that sees only the class: its class mean. No function of the next-token
  distribution can score higher on that target;
* :func:`within_class` — the part of a target its class does not reveal;
* :func:`next_token_distance_ceiling` — for the distance test
  (:func:`~beliefcourse.probing.distances.belief_distance_test`): how much of the variance of
  belief distances the next-token distributions can explain, over all pairs of points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import positive_int
from .metrics import _point_weights, r2

_MAX_UNIQUE = 6_000       # distinct beliefs for the exact all-pairs ceiling (U x U matrices)


def future_distributions(hmm, beliefs, k: int) -> np.ndarray:
    """Distribution of the next ``k`` tokens after each belief.

    ``out[..., w] = P(x_1..x_k = w | eta) = eta T^(x_1) ... T^(x_k) 1`` with the word ``w``
    numbered in base ``X = hmm.n_tokens``, first token most significant
    (``w = x_1 X^(k-1) + ... + x_k``). ``beliefs`` has shape ``(..., S)``; the result
    ``(..., X**k)`` sums to 1 over its last axis. ``k = 1`` is the next-token distribution.
    """
    k = positive_int(k, "k")
    T = np.asarray(hmm.T, dtype=np.float64)
    b = np.asarray(beliefs, dtype=np.float64)
    if b.ndim < 1 or b.shape[-1] != T.shape[1]:
        raise ValueError(f"beliefs must have shape (..., {T.shape[1]}) for this HMM's "
                         f"{T.shape[1]} states, got {b.shape}")
    if T.shape[0] ** k > 4096:
        raise ValueError(f"{T.shape[0]}**{k} = {T.shape[0] ** k} words is too many; use k "
                         "with n_tokens**k <= 4096")
    lead = b.shape[:-1]
    v = b.reshape(-1, 1, T.shape[1])                               # (M, words, S)
    for _ in range(k):
        v = np.einsum("mws,xst->mwxt", v, T).reshape(len(v), -1, T.shape[1])
    return v.sum(-1).reshape(*lead, -1)


def next_token_classes(next_token_probs, decimals: int = 6) -> tuple[np.ndarray, int]:
    """Label the points by their next-token distribution (rounded to ``decimals``).

    ``next_token_probs (..., X)`` -> ``(classes (...) int, n_classes)``; points with equal
    labels predict the same next token. RRXOR at n_ctx 10: 11 classes.
    """
    p = np.asarray(next_token_probs, dtype=np.float64)
    if p.ndim < 2:
        raise ValueError(f"next_token_probs must have shape (..., n_tokens), got {p.shape}")
    _, labels = np.unique(p.reshape(-1, p.shape[-1]).round(decimals), axis=0,
                          return_inverse=True)
    labels = labels.reshape(p.shape[:-1])
    return labels, int(labels.max()) + 1


def _class_means(targets, classes, sample_weight):
    y = np.asarray(targets, dtype=np.float64)
    c = np.asarray(classes)
    if y.ndim < 2 or c.shape != y.shape[:-1]:
        raise ValueError(f"targets (..., D) and classes (...) must share their leading shape; "
                         f"got {y.shape} and {c.shape}")
    if not np.issubdtype(c.dtype, np.integer) or c.min() < 0:
        raise TypeError("classes must be non-negative integer labels (next_token_classes)")
    w = _point_weights(sample_weight, c.shape)
    w = np.ones(c.size) if w is None else w
    flat_y, flat_c = y.reshape(-1, y.shape[-1]), c.reshape(-1)
    n = int(flat_c.max()) + 1
    sums = np.zeros((n, y.shape[-1]))
    np.add.at(sums, flat_c, w[:, None] * flat_y)
    mass = np.bincount(flat_c, weights=w, minlength=n)
    means = np.divide(sums, mass[:, None], out=np.zeros_like(sums), where=mass[:, None] > 0)
    return y, means[c]


def within_class(targets, classes, sample_weight=None) -> np.ndarray:
    """``targets`` minus the (weighted) mean target of their class: what the class hides.

    ``targets (..., D)``, ``classes (...)`` from :func:`next_token_classes`;
    ``sample_weight`` as in :func:`~beliefcourse.probing.metrics.r2`.
    """
    y, mean = _class_means(targets, classes, sample_weight)
    return y - mean


def class_ceiling(targets, classes, sample_weight=None) -> float:
    """THE R² of predicting each target by its class mean: the next-token-only ceiling.

    The class mean is the best predictor (least squares) among all functions of the class, so
    any representation that holds only the next-token distribution scores at most this
    (in-sample, on these points) for an affine or any other read-out of ``targets``. It is
    1 for the next-token distribution itself and below 1 for a target that beliefs sharing a
    next-token distribution disagree on.
    """
    y, mean = _class_means(targets, classes, sample_weight)
    return r2(y, mean, sample_weight)


@dataclass(frozen=True)
class DistanceCeiling:
    """Exact next-token ceilings of the distance test, over all ordered pairs of points.

    ``isometric``: R² (squared Pearson correlation) between belief distances and next-token
    distances, the score of a representation whose distances *are* the next-token distances.
    ``any_function``: the fraction of belief-distance variance explained by the pair of
    next-token distributions (the correlation ratio); no representation that is a function of
    the next-token distribution can score an R² against belief distances above it.
    """

    isometric: float
    any_function: float
    n_points: int
    n_beliefs: int
    n_classes: int


def next_token_distance_ceiling(beliefs, next_token_probs, decimals: int = 6
                                ) -> DistanceCeiling:
    """The distance test's next-token ceilings, exactly, for these points.

    :func:`~beliefcourse.probing.distances.belief_distance_test` samples ordered pairs
    ``(i, j)``, ``i != j``, of the points uniformly. Here every such pair is counted: points
    are grouped by their belief (rounded to ``decimals``), and a pair of distinct beliefs
    ``(a, b)`` gets weight ``n_a n_b``, a belief with itself ``n_a (n_a - 1)``. With the
    Euclidean distances ``dB`` between beliefs and ``dN`` between next-token distributions,
    ``isometric = corr_w(dB, dN)**2`` and ``any_function = Var_w(E_w[dB | class pair]) /
    Var_w(dB)``. ``beliefs (..., S)``, ``next_token_probs (..., X)`` with the same leading
    shape; at most 6,000 distinct beliefs (RRXOR has 35; Mess3's 88,572 nodes of the
    prefix tree at n_ctx 10 hold 87,621 beliefs distinct at 6 decimals).
    """
    b = np.asarray(beliefs, dtype=np.float64)
    p = np.asarray(next_token_probs, dtype=np.float64)
    if b.ndim < 2 or p.ndim != b.ndim or b.shape[:-1] != p.shape[:-1]:
        raise ValueError("beliefs (..., S) and next_token_probs (..., X) must share their "
                         f"leading shape; got {b.shape} and {p.shape}")
    flat_b, flat_p = b.reshape(-1, b.shape[-1]), p.reshape(-1, p.shape[-1])
    if len(flat_b) < 2:
        raise ValueError("need at least 2 points to form pairs")
    uniq, first, counts = np.unique(flat_b.round(decimals), axis=0, return_index=True,
                                    return_counts=True)
    if len(uniq) > _MAX_UNIQUE:
        raise ValueError(f"{len(uniq):,} distinct beliefs: the exact all-pairs ceiling needs "
                         f"at most {_MAX_UNIQUE:,}; estimate it on sampled pairs instead")
    bel, nxt = flat_b[first], flat_p[first]
    classes, n_classes = next_token_classes(nxt, decimals)
    w = np.outer(counts, counts).astype(np.float64) - np.diag(counts)
    dB = np.linalg.norm(bel[:, None] - bel[None], axis=-1)
    dN = np.linalg.norm(nxt[:, None] - nxt[None], axis=-1)
    total = w.sum()
    mB, mN = (w * dB).sum() / total, (w * dN).sum() / total
    var_b = (w * (dB - mB) ** 2).sum() / total
    var_n = (w * (dN - mN) ** 2).sum() / total
    if var_b <= 0 or var_n <= 0:
        raise ValueError("belief or next-token distances do not vary; the ceilings are "
                         "undefined")
    cov = (w * (dB - mB) * (dN - mN)).sum() / total
    lo, hi = np.minimum.outer(classes, classes), np.maximum.outer(classes, classes)
    pair = (lo * n_classes + hi).reshape(-1)
    mass = np.bincount(pair, weights=w.reshape(-1), minlength=n_classes ** 2)
    sums = np.bincount(pair, weights=(w * dB).reshape(-1), minlength=n_classes ** 2)
    group_mean = np.divide(sums, mass, out=np.zeros_like(sums), where=mass > 0)
    between = (w.reshape(-1) * (group_mean[pair] - mB) ** 2).sum() / total
    return DistanceCeiling(isometric=float(cov ** 2 / (var_b * var_n)),
                           any_function=float(between / var_b), n_points=len(flat_b),
                           n_beliefs=len(uniq), n_classes=n_classes)
