"""Do distances between representations track belief distances? (Shai et al. Fig. 7D)"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import positive_int


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

    Samples ``n_pairs`` random pairs of distinct points (uniformly, unweighted; the authors' Figure
    7 notebook uses all ≈9.5 M pairs of the 4,360 RRXOR points) and correlates the Euclidean
    distance between their ``points`` with the distance between their beliefs and between their
    next-token distributions. A representation of the belief scores ``r2_belief`` near 1 while
    ``r2_next_token`` stays at the process's ceiling (≈ 0.28 for RRXOR, whose 35 probed beliefs
    have only 11 distinct next-token distributions).

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
    n_pairs = positive_int(n_pairs, "n_pairs")
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
