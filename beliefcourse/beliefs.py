"""Bayesian belief (mixed-state) updating.

A belief ``eta`` is a probability vector over hidden states. After seeing token ``x``,
Bayes' rule gives (papers' notation, row vectors)::

    eta' = eta T^(x) / (eta T^(x) 1)

and the next-token distribution is ``P(x | eta) = eta T^(x) 1``. Everything here is
vectorised over leading batch dimensions.
"""

from __future__ import annotations

import numpy as np

from .hmm import HMM


def _as_belief(belief, hmm: HMM) -> np.ndarray:
    eta = np.asarray(belief, dtype=np.float64)
    if eta.shape[-1:] != (hmm.n_states,):
        raise ValueError(f"belief must have last dimension {hmm.n_states} (one entry per "
                         f"hidden state), got shape {eta.shape}")
    if not np.all(np.isfinite(eta)) or np.any(eta < -1e-12):
        raise ValueError("belief must be finite and non-negative")
    if not np.allclose(eta.sum(-1), 1.0, atol=1e-6):
        raise ValueError("belief must sum to 1 over hidden states")
    return eta


def next_token_distribution(belief, hmm: HMM) -> np.ndarray:
    """``P(x | eta) = eta T^(x) 1``; shape ``belief.shape[:-1] + (n_tokens,)``."""
    eta = _as_belief(belief, hmm)
    return np.einsum("...i,xij->...x", eta, hmm.T)


def update(belief, hmm: HMM, token) -> np.ndarray:
    """One Bayes step ``eta' = eta T^(x) / (eta T^(x) 1)``.

    ``belief`` has shape ``(..., n_states)``; ``token`` is an int or an integer array that
    broadcasts against ``belief.shape[:-1]``. Raises ``ValueError`` if a token has
    probability zero under its belief (the update is undefined there).
    """
    eta = _as_belief(belief, hmm)
    tok = np.asarray(token)
    if not np.issubdtype(tok.dtype, np.integer):
        raise TypeError(f"token must be an integer, got dtype {tok.dtype}")
    if np.any((tok < 0) | (tok >= hmm.n_tokens)):
        raise ValueError(f"token out of range 0..{hmm.n_tokens - 1}")
    Tx = hmm.T[tok]                                    # (..., S, S)
    unnorm = np.einsum("...i,...ij->...j", eta, Tx)
    p = unnorm.sum(-1, keepdims=True)
    if np.any(p <= 0):
        raise ValueError("token has probability zero under this belief: the observation "
                         "is impossible, so Bayes' rule is undefined")
    return unnorm / p


def belief_trajectories(hmm: HMM, tokens, prior=None) -> np.ndarray:
    """Beliefs along each sequence, shape ``(n, L + 1, n_states)``.

    Index 0 is the prior (default: the stationary distribution ``pi``) and index ``t`` the
    belief after the first ``t`` tokens. A single 1-D sequence is treated as a batch of one.
    Renormalised every step, so a 100,000-token sequence neither underflows nor gives NaN.
    Raises ``ValueError`` naming the first impossible sequence and position.
    """
    arr, _ = hmm.check_tokens(tokens)
    beliefs, step_probs = hmm.forward(arr, prior)
    zero = np.argwhere(step_probs <= 0)
    if len(zero):
        n, t = zero[0]
        raise ValueError(f"sequence {n} is impossible: token {arr[n, t]} at position {t} "
                         f"has probability zero given the tokens before it")
    return beliefs
