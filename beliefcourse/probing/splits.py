"""Split sequences (never points) into a fit set and a held-out set."""

from __future__ import annotations

import math

import numpy as np

from ._validate import positive_int


def split_sequences(n_sequences: int, train_fraction: float = 0.2, seed=0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Random split of **sequences** (never of points) into a fit set and a held-out set.

    All ``L`` positions of a sequence land on the same side, so prefixes shared by many
    positions of one sequence cannot leak. The authors' Mess3 cross-validation (their Figure 6
    notebook) uses sklearn's ``train_test_split(..., test_size=0.8)``: fit on 20 %, test on
    80 % (for Mess3, 11,809 vs 47,240 sequences); ``train_fraction=0.2`` reproduces those
    sizes, ``n_train = floor(train_fraction * n_sequences)``. ``train_fraction=1`` puts everything
    in the fit set (the authors' in-sample fit) and returns an empty test set.

    Returns ``(train_idx, test_idx)``, sorted int64 arrays; ``seed`` is anything
    :func:`numpy.random.default_rng` accepts.
    """
    n = positive_int(n_sequences, "n_sequences")
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
