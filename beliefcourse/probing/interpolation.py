"""When a probe can fit anything: affine rank, repeated hooks, and a penalty chosen blind.

A least-squares probe whose features, with a constant, have full rank on the fitted points
reproduces *any* targets there (chapter 05b: RRXOR's 1,536 concatenated features against a few
hundred distinct prefixes). Three tools:

* :func:`affine_rank` — the rank of ``[features, 1]`` over the distinct rows;
* :func:`repeated_hooks` — hooks whose activations equal an earlier hook's (the residual stream
  leaving block ``l`` is the one entering block ``l + 1``), which add features but no rank;
* :func:`ridge_alpha_by_grouped_cv` — a ridge penalty chosen by cross-validation inside the fit
  sequences, folds grouped by sequence, so the held-out set is never looked at.
"""

from __future__ import annotations

import numpy as np

from ._validate import positive_int


def affine_rank(features, rtol: float = 1e-7) -> int:
    """Rank of ``[features, 1]`` over the distinct rows of ``features (..., D)``.

    Repeated rows (shared prefixes) add no rank, so each distinct row is used once. Singular
    values below ``rtol`` times the largest count as rounding noise; the default suits float32
    activations (relative precision about 6e-8). A probe with an intercept can interpolate any
    targets on a set of points exactly when this rank equals their number of distinct rows.
    """
    x = np.asarray(features)
    if x.ndim < 2 or x.shape[-1] < 1:
        raise ValueError(f"features must have shape (..., D) with D >= 1, got {x.shape}")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must lie in (0, 1), got {rtol}")
    rows = np.unique(x.reshape(-1, x.shape[-1]), axis=0).astype(np.float64)
    s = np.linalg.svd(np.hstack([rows, np.ones((len(rows), 1))]), compute_uv=False)
    return int((s > rtol * s[0]).sum())


def repeated_hooks(features_by_hook: dict) -> list[tuple[str, str]]:
    """Pairs ``(hook, earlier_hook)`` whose activations are identical, in the dict's order.

    ``features_by_hook`` maps hook names to arrays of one shape (from
    :func:`~beliefcourse.probing.collect_activations`, one hook at a time). Each hook is paired
    with the first earlier hook it equals exactly; a hook equal to none is left out.
    """
    if not isinstance(features_by_hook, dict) or not features_by_hook:
        raise TypeError("features_by_hook must be a non-empty dict {hook name: array}")
    names = list(features_by_hook)
    arrays = [np.asarray(features_by_hook[h]) for h in names]
    pairs = []
    for i, (name, a) in enumerate(zip(names, arrays)):
        for earlier, b in zip(names[:i], arrays[:i]):
            if a.shape == b.shape and np.array_equal(a, b):
                pairs.append((name, earlier))
                break
    return pairs


def ridge_alpha_by_grouped_cv(features, targets, fit_seqs, alphas, n_splits: int = 5) -> float:
    """The ridge penalty (from ``alphas``) with the lowest cross-validated MSE on the fit
    sequences alone.

    ``features (N, L, D)``, ``targets (N, L, S)``; ``fit_seqs`` the fit set's sequence
    indices. Folds are grouped by sequence (scikit-learn's ``GroupKFold``), so a sequence's
    positions never sit on both sides of a fold; the sequences outside ``fit_seqs`` are never
    looked at. Ties go to the first of ``alphas``. ``alpha = 0`` is ordinary least squares.
    """
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from .estimator import AffineProbe

    x, y = np.asarray(features), np.asarray(targets)
    if x.ndim != 3 or y.ndim != 3 or x.shape[:2] != y.shape[:2]:
        raise ValueError(f"features (N, L, D) and targets (N, L, S) must share N and L, got "
                         f"{x.shape} and {y.shape}")
    seqs = np.asarray(fit_seqs)
    if seqs.ndim != 1 or not np.issubdtype(seqs.dtype, np.integer):
        raise TypeError("fit_seqs must be a 1-D array of sequence indices")
    k = positive_int(n_splits, "n_splits")
    if k < 2 or len(np.unique(seqs)) < k:
        raise ValueError(f"n_splits={n_splits} needs at least 2 folds and as many fit "
                         f"sequences; got {len(np.unique(seqs))} sequences")
    grid = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if grid.size == 0 or (grid < 0).any() or not np.isfinite(grid).all():
        raise ValueError(f"alphas must be a non-empty list of finite penalties >= 0, got {alphas}")
    search = GridSearchCV(AffineProbe(), {"alpha": list(grid)}, cv=GroupKFold(n_splits=k),
                          scoring="neg_mean_squared_error", refit=False)
    search.fit(x[seqs].reshape(-1, x.shape[-1]), y[seqs].reshape(-1, y.shape[-1]),
               groups=np.repeat(seqs, x.shape[1]))
    return float(search.best_params_["alpha"])
