"""Paper (b)'s mechanism inside a trained model's first attention layer.

In layer 0 the residual stream before attention is ``W_E[z_k] + W_pos[k]``, so what head
``h`` writes from key ``k`` depends only on ``(k, z_k)``: the **OV vector**

    OV[h, k, z] = (LN1(W_E[z] + W_pos[k]) W_V^h + b_V^h) W_O^h          (d_model,)

and ``resid_mid`` decomposes exactly into embedding plus attention-weighted OV vectors,

    resid_mid[p] = W_E[z_p] + W_pos[p] + b_O + sum_h sum_{k<=p} A^h[p, k] OV[h, k, z_k].

The constrained update (:mod:`beliefcourse.constrained`) predicts ``A^h[p, k] ∝ |zeta|^(p-k)``
and ``OV[h, k, z] - mean_z OV[h, k, z]`` along the image of ``u_z``: three directions 120°
apart. Functions here measure those things. Shapes: ``N`` sequences, ``L`` positions,
``H`` heads, ``X`` tokens, ``D = d_model``. Positions as everywhere in the course (position
``p`` has read ``p + 1`` tokens; distance ``d = p - k``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch


def _transformer(model):
    from .model import Transformer

    if not isinstance(model, Transformer):
        raise TypeError(f"model must be a beliefcourse Transformer, got {type(model).__name__}")
    return model


def _head_slices(model, head: int):
    cfg = model.cfg
    H, dh = cfg.n_heads, cfg.d_head
    if not 0 <= head < H:
        raise ValueError(f"head must be in 0..{H - 1}, got {head}")
    v = slice(2 * H * dh + head * dh, 2 * H * dh + (head + 1) * dh)
    return v, slice(head * dh, (head + 1) * dh)


def ov_vectors(model) -> np.ndarray:
    """``OV (H, n_ctx, X, D)``: what each head of layer 0 writes from a key at position ``k``
    holding token ``z`` (before the attention weight; the output bias ``b_O`` is not included,
    it is added once per position). float64."""
    model = _transformer(model)
    blk = model.blocks[0]
    with torch.no_grad():
        pre = (model.embed.weight[None, :, :] + model.pos_embed.weight[:, None, :]).double()
        ln = blk.ln1
        x = pre if isinstance(ln, torch.nn.Identity) else torch.nn.functional.layer_norm(
            pre, ln.normalized_shape, ln.weight.double(), ln.bias.double(), ln.eps)
        qkv_w, qkv_b = blk.attn.qkv.weight.double(), blk.attn.qkv.bias.double()
        out_w = blk.attn.out.weight.double()
        heads = []
        for h in range(model.cfg.n_heads):
            vs, os = _head_slices(model, h)
            v = x @ qkv_w[vs].T + qkv_b[vs]                       # (n_ctx, X, d_head)
            heads.append(v @ out_w[:, os].T)                       # (n_ctx, X, D)
    return torch.stack(heads).numpy()


def centred(ov: np.ndarray) -> np.ndarray:
    """OV vectors minus their mean over tokens (per head and position): the token-dependent part,
    which the theory puts along ``u_z`` (the ``u_z`` sum to zero)."""
    ov = np.asarray(ov, dtype=np.float64)
    return ov - ov.mean(axis=-2, keepdims=True)


def ov_angles(ov: np.ndarray) -> np.ndarray:
    """Angles in degrees between the centred OV vectors of every pair of tokens.

    ``ov (H, n_ctx, X, D)`` -> ``(H, X, X)``, averaged over positions (the prediction for
    Mess3: 120° between every pair).
    """
    c = centred(ov)
    unit = c / np.linalg.norm(c, axis=-1, keepdims=True)
    cos = np.einsum("hpxd,hpyd->hpxy", unit, unit).clip(-1, 1)
    return np.degrees(np.arccos(cos)).mean(axis=1)


def angle_deviation(vectors: np.ndarray) -> np.ndarray:
    """Mean ``|angle - 120°|`` over token pairs and positions of the token-centred vectors.

    ``vectors (H, n_ctx, 3, D)`` (OV vectors, or OV vectors read out into belief space) ->
    ``(H,)`` degrees. Three centred vectors always have angles summing to 360°, so their mean
    angle is 120° whatever they are; the deviation is what measures the symmetry (0 when the
    three have equal norms)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 4 or vectors.shape[2] != 3:
        raise ValueError(f"need vectors of shape (H, n_ctx, 3, D), got {vectors.shape}")
    c = centred(vectors)
    unit = c / np.linalg.norm(c, axis=-1, keepdims=True)
    cos = np.einsum("hpxd,hpyd->hpxy", unit, unit).clip(-1, 1)
    ang = np.degrees(np.arccos(cos))
    iu = np.triu_indices(3, 1)
    return np.abs(ang[:, :, iu[0], iu[1]] - 120).mean(axis=(1, 2))


def ov_plane_fraction(ov: np.ndarray) -> np.ndarray:
    """Per head, the fraction of the centred OV vectors' squared norm (all positions and tokens)
    in their top two principal directions: 1 when they lie in one plane, as predicted."""
    c = centred(ov)
    out = []
    for h in range(c.shape[0]):
        s = np.linalg.svd(c[h].reshape(-1, c.shape[-1]), compute_uv=False) ** 2
        out.append(s[:2].sum() / s.sum())
    return np.array(out)


@dataclass
class ResidMidDecomposition:
    """``resid_mid = embedding + heads.sum(2) + bias``, all float64.

    embedding : ``(N, L, D)`` ``W_E[z_p] + W_pos[p]``; heads : ``(N, L, H, D)`` per head
    ``sum_k A[p, k] OV[h, k, z_k]``; bias : ``(D,)`` ``b_O``; resid_mid : ``(N, L, D)`` the
    model's own ``blocks.0.hook_resid_mid``; attention : ``(N, H, L, L)``.
    """

    embedding: np.ndarray
    heads: np.ndarray
    bias: np.ndarray
    resid_mid: np.ndarray
    attention: np.ndarray

    @property
    def max_error(self) -> float:
        """Largest absolute difference between the sum of the parts and ``resid_mid``."""
        total = self.embedding + self.heads.sum(axis=2) + self.bias
        return float(np.abs(total - self.resid_mid).max())


def decompose_resid_mid(model, tokens) -> ResidMidDecomposition:
    """Split layer 0's ``resid_mid`` into embedding + per-head attention × OV + ``b_O``.

    The model is run in float64 (a copy), ``tokens`` int ``(N, L)``; the attention pattern
    and ``resid_mid`` come from the model's own hooks, the OV vectors from
    :func:`ov_vectors`, so a small :attr:`~ResidMidDecomposition.max_error` checks both.
    """
    model = _transformer(model)
    m64 = copy.deepcopy(model).double().eval()
    tok = torch.from_numpy(np.array(tokens, dtype=np.int64))
    hooks = ["blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern", "blocks.0.hook_resid_mid"]
    with torch.no_grad():
        _, cache = m64.run_with_cache(tok, hooks)
    ov = ov_vectors(m64)                                                 # (H, L, X, D)
    attn = cache[hooks[1]].numpy()                                       # (N, H, Lq, Lk)
    L = tok.shape[1]
    pos = np.arange(L)
    per_key = ov[:, pos[None, :], tok.numpy(), :]                        # (H, N, L, D)
    heads = np.einsum("nhqk,hnkd->nqhd", attn, per_key)
    return ResidMidDecomposition(embedding=cache[hooks[0]].numpy(), heads=heads,
                                 bias=m64.blocks[0].attn.out.bias.detach().numpy(),
                                 resid_mid=cache[hooks[2]].numpy(), attention=attn)


def explained_variance(features, k: int = 3) -> float:
    """Fraction of the variance of ``features (..., D)`` (all points pooled, unweighted) in its
    first ``k`` principal components."""
    f = np.asarray(features, dtype=np.float64)
    f = f.reshape(-1, f.shape[-1])
    f = f - f.mean(axis=0)
    s = np.linalg.svd(f, compute_uv=False) ** 2
    return float(s[:k].sum() / s.sum())


# ---------------------------------------------------------------------------- decay fits
@dataclass(frozen=True)
class DecayFit:
    """Fitted per-step decay ``rate`` of attention with distance, and its 95 % interval.

    ``log A[p, d] = c_p + d log(rate)`` by least squares over the used points (one intercept
    per query position); ``low``/``high`` = ``exp(slope ± 1.96 se)``. With ``parity`` the fit
    uses only even or odd distances and ``rate`` is still per *one* step (the square root of
    the two-step ratio). ``n_points`` points were used.
    """

    rate: float
    low: float
    high: float
    n_points: int
    parity: str | None

    def contains(self, value: float) -> bool:
        """Is ``|value|`` inside the 95 % interval?"""
        return self.low <= abs(value) <= self.high


def fit_attention_decay(attention, distances=(1, 2, 3, 4, 5), min_query: int = 5,
                        parity: str | None = None, floor: float = 1e-4) -> DecayFit:
    """Fit the decay of ``attention (n, n)`` (``[query p, distance d]``, as returned by
    :func:`beliefcourse.attention.attention_by_distance`) with distance.

    Uses queries ``p >= min_query``, the given ``distances`` (``d <= p``), only values above
    ``floor`` and, with ``parity="even"``/``"odd"``, only those distances.
    """
    A = np.asarray(attention, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"attention must be (n, n) [query, distance], got shape {A.shape}")
    if parity not in (None, "even", "odd"):
        raise ValueError(f"parity must be None, 'even' or 'odd', got {parity!r}")
    ds = [d for d in distances if parity is None or d % 2 == (parity == "odd")]
    rows, ys, queries = [], [], []
    for p in range(min_query, A.shape[0]):
        for d in ds:
            if d <= p and A[p, d] > floor:
                rows.append(d)
                ys.append(np.log(A[p, d]))
                queries.append(p)
    qs = sorted(set(queries))
    if len(ys) < len(qs) + 2:
        raise ValueError("too few attention values above the floor to fit a decay rate")
    X = np.zeros((len(ys), 1 + len(qs)))
    X[:, 0] = rows
    X[np.arange(len(ys)), 1 + np.searchsorted(qs, queries)] = 1
    y = np.array(ys)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    dof = max(len(y) - X.shape[1], 1)
    cov = resid @ resid / dof * np.linalg.pinv(X.T @ X)
    se = float(np.sqrt(max(cov[0, 0], 0.0)))
    slope = coef[0]
    return DecayFit(rate=float(np.exp(slope)), low=float(np.exp(slope - 1.96 * se)),
                    high=float(np.exp(slope + 1.96 * se)), n_points=len(y), parity=parity)


def odd_share(attention, query: int | None = None) -> float:
    """Fraction of the attention of ``query`` (default the last) on odd distances, among the
    distances ``d >= 1`` (the current token, ``d = 0``, is neither odd nor even for the parity
    split: it is already in the residual stream)."""
    A = np.asarray(attention, dtype=np.float64)
    p = A.shape[0] - 1 if query is None else query
    if not 1 <= p < A.shape[0]:
        raise ValueError(f"query must be in 1..{A.shape[0] - 1} (it needs a distance >= 1), "
                         f"got {p}")
    row = A[p, 1:p + 1]
    return float(row[0::2].sum() / row.sum())


def odd_shares(attention, min_query: int = 4) -> np.ndarray:
    """:func:`odd_share` at every query ``p >= min_query`` (``(n - min_query,)``)."""
    A = np.asarray(attention, dtype=np.float64)
    if not 1 <= min_query < A.shape[0]:
        raise ValueError(f"min_query must be in 1..{A.shape[0] - 1}, got {min_query}")
    return np.array([odd_share(A, p) for p in range(min_query, A.shape[0])])


def ov_orientation(ov: np.ndarray, readout: np.ndarray) -> np.ndarray:
    """Cosine between each token's centred OV vector read out into belief space and the
    direction ``e_z - 1/X`` towards that token's vertex; ``(H, X)``, averaged over positions.

    ``readout (D, S)`` is the linear part of an affine probe ``resid_mid -> belief`` (needs
    ``S == X``, as for Mess3). The constrained update predicts the sign of ``3 alpha - 1`` for a
    head that attends even distances and the opposite sign for one that attends odd distances
    when ``zeta < 0``.
    """
    c = centred(ov)
    W = np.asarray(readout, dtype=np.float64)
    X = c.shape[2]
    if W.shape != (c.shape[-1], X):
        raise ValueError(f"readout must be (d_model, n_tokens) = {(c.shape[-1], X)}, "
                         f"got {W.shape}")
    read = c @ W                                                         # (H, L, X, S)
    target = np.eye(X) - 1.0 / X
    cos = np.einsum("hpxs,xs->hpx", read, target) / (
        np.linalg.norm(read, axis=-1) * np.linalg.norm(target, axis=-1))
    return cos.mean(axis=1)
