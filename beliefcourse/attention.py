"""Attention as a function of distance, and how far back the exact belief looks.

Piotrowski et al. (2025) predict that in a model trained on Mess3 the first attention layer
weights the token ``d`` steps back roughly like ``zeta**d`` with ``zeta = 1 - 3x``, the
non-trivial eigenvalue of the hidden chain. This module measures the quantities needed to
test that on a trained model, over every input with its exact probability:

* :func:`attention_by_distance` — the probability-weighted mean attention weight from query
  position ``p`` to key position ``p - d``, and the attention-weighted size of what that key
  writes through the OV circuit, ``a[p, p-d] * ||v_{p-d} W_O||``;
* :func:`belief_sensitivity_by_distance` — how much the *exact* belief at the last position
  moves when the token ``d`` steps back is changed (a model-free yardstick);
* :func:`decay_rate` — the per-step factor of a log-linear fit.

Position convention as everywhere in the course: position ``p`` (0-based) has read tokens
``x_1..x_{p+1}``; distance ``d = 0`` is the query's own token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class DistanceProfile:
    """Output of :func:`attention_by_distance` (``n = n_ctx``; entries with ``d > p`` are NaN).

    attention : float64 ``(n, n)``
        ``attention[p, d]`` = mean over inputs (weighted) of the attention from query ``p``
        to key ``p - d``. Each row sums to 1 over ``d = 0..p``.
    contribution : float64 ``(n, n)``
        ``contribution[p, d]`` = weighted mean of ``attention * ||v_{p-d} W_O||``, the norm of
        what key ``p - d`` adds to the residual stream at ``p`` (before the output bias).
    """

    attention: np.ndarray
    contribution: np.ndarray


def attention_by_distance(model, inputs, weights, layer: int = 0, head: int = 0,
                          batch_size: int = 8192) -> DistanceProfile:
    """Mean attention and OV contribution of one head as a function of query–key distance.

    Parameters
    ----------
    model : beliefcourse.model.Transformer
    inputs : int array ``(N, n)``
        Token sequences (e.g. ``ExactData.inputs``).
    weights : float array ``(N,)``
        Non-negative weights (e.g. ``ExactData.probs``); normalised here.
    layer, head : int
        Which attention head.

    Returns
    -------
    DistanceProfile with ``(n, n)`` arrays indexed ``[query position p, distance d]``.
    """
    inputs = torch.from_numpy(np.array(inputs, dtype=np.int64))
    w = torch.from_numpy(np.array(weights, dtype=np.float64))
    if inputs.ndim != 2 or w.shape != (inputs.shape[0],):
        raise ValueError(f"inputs must be (N, n) and weights (N,); got {tuple(inputs.shape)} "
                         f"and {tuple(w.shape)}")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    cfg = model.cfg
    if not 0 <= layer < cfg.n_layers or not 0 <= head < cfg.n_heads:
        raise ValueError(f"layer must be in 0..{cfg.n_layers - 1} and head in "
                         f"0..{cfg.n_heads - 1}; got layer={layer}, head={head}")
    w = w / w.sum()
    n, H, dh = inputs.shape[1], cfg.n_heads, cfg.d_head
    block = model.blocks[layer]
    W_O = block.attn.out.weight[:, head * dh:(head + 1) * dh]          # (d_model, d_head)
    att = torch.zeros(n, n, dtype=torch.float64)                        # [query, key]
    con = torch.zeros(n, n, dtype=torch.float64)
    hooks = [f"blocks.{layer}.hook_resid_pre", f"blocks.{layer}.attn.hook_pattern"]
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            tok, wb = inputs[start:start + batch_size], w[start:start + batch_size]
            _, cache = model.run_with_cache(tok, hooks)
            pattern = cache[hooks[1]][:, head].double()                 # (B, n, n)
            v = block.attn.qkv(block.ln1(cache[hooks[0]])).view(*tok.shape, 3, H, dh)[:, :, 2, head]
            ov_norm = (v @ W_O.T).norm(dim=-1).double()                 # (B, n): per key
            att += torch.einsum("b,bqk->qk", wb, pattern)
            con += torch.einsum("b,bqk,bk->qk", wb, pattern, ov_norm)
    attention = np.full((n, n), np.nan)
    contribution = np.full((n, n), np.nan)
    for p in range(n):
        keys = np.arange(p, -1, -1)                                     # d = 0..p
        attention[p, :p + 1] = att[p, keys].numpy()
        contribution[p, :p + 1] = con[p, keys].numpy()
    return DistanceProfile(attention, contribution)


def belief_sensitivity_by_distance(inputs, beliefs, probs, n_tokens: int) -> np.ndarray:
    """How much the exact final belief depends on the token ``d`` steps back.

    ``inputs (N, n)`` must be *every* sequence in lexicographic order (as in
    ``ExactData.inputs`` for a process where every sequence has positive probability, e.g.
    Mess3), ``beliefs (N, S)`` the belief after the last token, ``probs (N,)``. Returns
    ``s (n,)`` with ``s[d]`` = expected L1 change of the belief when token ``n - d`` is
    replaced by a different one (averaged over the ``n_tokens - 1`` alternatives).
    """
    inputs = np.asarray(inputs)
    N, n = inputs.shape
    place = n_tokens ** np.arange(n - 1, -1, -1)
    if N != n_tokens ** n or not np.array_equal(inputs @ place, np.arange(N)):
        raise ValueError("inputs must be all n_tokens**n sequences in lexicographic order")
    beliefs, probs = np.asarray(beliefs), np.asarray(probs)
    out = np.zeros(n)
    for d in range(n):
        j = n - 1 - d
        for shift in range(1, n_tokens):
            other = np.arange(N) + (((inputs[:, j] + shift) % n_tokens) - inputs[:, j]) * place[j]
            out[d] += probs @ np.abs(beliefs[other] - beliefs).sum(1)
    return out / (n_tokens - 1) / probs.sum()


def decay_rate(values, distances) -> float:
    """Per-step factor ``r`` of the least-squares fit ``log values[i] = c + log(r) * d_i``."""
    values, distances = np.asarray(values, float), np.asarray(distances, float)
    if values.shape != distances.shape or values.size < 2 or (values <= 0).any():
        raise ValueError("need at least two positive values, one per distance")
    return float(np.exp(np.polyfit(distances, np.log(values), 1)[0]))
