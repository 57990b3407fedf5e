"""The "no network" baseline: features computed from the raw token history alone."""

from __future__ import annotations

import numpy as np

from ._validate import positive_int


def input_only_features(tokens, n_tokens: int, n_lags: int | None = None) -> np.ndarray:
    """One-hot token history plus a one-hot position: the "no network" baseline.

    At position ``p`` the features are ``[onehot(x at p), onehot(x at p - 1), ...,
    onehot(x at p - n_lags + 1), onehot(p)]``; lags reaching before the first token are all
    zeros. An affine probe on these features predicts the belief as one offset per position
    plus one vector per (lag, token) pair, summed over the lags: a map that is additive in
    the tokens, shared by all positions except for the offset. The belief is not additive in
    the history, so this is a baseline to beat, not the best any readout could do without a
    network; a network's probe must beat it to show the network computed something.

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
    n_tokens = positive_int(n_tokens, "n_tokens")
    if tok.min() < 0 or tok.max() >= n_tokens:
        raise ValueError(f"tokens must lie in 0..{n_tokens - 1}, found {tok.min()}..{tok.max()}")
    n, length = tok.shape
    n_lags = length if n_lags is None else positive_int(n_lags, "n_lags")
    feats = np.zeros((n, length, n_lags * n_tokens + length), dtype=np.float32)
    seq = np.arange(n)[:, None]
    for lag in range(min(n_lags, length)):
        pos = np.arange(lag, length)
        feats[seq, pos[None, :], lag * n_tokens + tok[:, pos - lag]] = 1.0
    feats[:, np.arange(length), n_lags * n_tokens + np.arange(length)] = 1.0
    return feats
