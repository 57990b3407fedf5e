"""Checkers of practice notebook 07 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): hand-written wrong answers the registry does not list, garbage, and what a
verdict may quote."""

import re

import numpy as np
import pytest
import torch

from beliefcourse.checks import ch07


def _heads_counting_zero(T):
    """Counts λ = 0 as a positive eigenvalue (>= instead of >), the student simulation's 7.3."""
    values = np.linalg.eigvals(T)
    rest = values[np.abs(values - 1) > 1e-9]
    if np.any(np.abs(rest.imag) > 1e-9):
        raise ValueError("complex")
    return int(sum(1 if v >= 0 else 2 for v in np.unique(np.round(rest.real, 9))))


def _update_from_previous(T, pi, tokens, rate):
    """r_d computed before token d is added: the rows shifted by one position."""
    post = np.einsum("s,xst->xt", pi, T)
    u = post / post.sum(1, keepdims=True) - pi
    dev, out = np.zeros_like(pi), []
    for x in tokens:
        out.append(pi + dev)
        dev = rate * dev + u[x]
    return np.array(out)


def _ov_float32(parts=False, interleave=False):
    def ov_vectors(model):
        blk, H, dh = model.blocks[0], model.cfg.n_heads, model.cfg.d_head
        with torch.no_grad():
            E, P = model.embed.weight[None], model.pos_embed.weight[:, None]
            x = blk.ln1(E) + blk.ln1(P) if parts else blk.ln1(E + P)
            heads = []
            for h in range(H):
                idx = torch.arange(h, H * dh, H) if interleave else h * dh + torch.arange(dh)
                rows = 2 * H * dh + idx
                v = x @ blk.attn.qkv.weight[rows].T + blk.attn.qkv.bias[rows]
                heads.append(v @ blk.attn.out.weight[:, idx].T)
        return torch.stack(heads).numpy()
    return ov_vectors


def _propagate_by_token(T, pi, tokens):
    """u_(x_s) carried by the token's own matrix power T[x_s]^(d - s)."""
    post = np.einsum("s,xst->xt", pi, T)
    u = post / post.sum(1, keepdims=True) - pi
    return np.array([pi + sum(u[tokens[s]] @ np.linalg.matrix_power(T[tokens[s]], d - s)
                              for s in range(d + 1)) for d in range(len(tokens))])


@pytest.mark.parametrize("check, fn, cause", [
    (ch07.check_heads_needed, _heads_counting_zero, "You counted the eigenvalue 0"),
    (ch07.check_constrained_update, _update_from_previous, "shifted by one position"),
    (ch07.check_ov_vectors, _ov_float32(parts=True), "or applied it to each part"),
    (ch07.check_ov_vectors, _ov_float32(interleave=True), "or heads interleaved"),
    (ch07.check_fit_decay_rate,
     lambda a, d: 1 + np.polyfit(d, a[d], 1)[0], "straight line to the attention itself"),
    (ch07.check_fit_decay_rate,
     lambda a, d: np.exp(np.polyfit(d, np.log(a[d - 1]), 1)[0]), "attention[d − 1]"),
    (ch07.check_fit_decay_rate,
     lambda a, d: float(np.mean([a[k + 1] / a[k] for k in d[:-1]])),
     "ratios of neighbouring values"),
    (ch07.check_fit_decay_rate,
     lambda a, d: np.exp(np.polyfit(np.arange(len(a)), np.log(a), 1)[0]),
     "other entries than attention[distances]"),
    (ch07.check_propagated_update, _propagate_by_token, "labelled matrix T[x]"),
])
def test_hand_written_mistake_is_named(check, fn, cause):
    result = check(fn)
    assert not result and cause in result.message, result.message


def test_heads_counting_one_is_still_named():
    def counting_one(T):
        distinct = np.unique(np.round(np.linalg.eigvals(T).real, 9))
        return int(sum(1 if v > 0 else 2 for v in distinct[np.abs(distinct) > 1e-9]))
    assert "counted the eigenvalue 1" in ch07.check_heads_needed(counting_one).message


def test_unscaled_projector_verdict_quotes_no_arbitrary_factor():
    """The factor c in P P = c P is LAPACK's eigenvector scale (machine-dependent): the
    diagnosis names the cause without quoting it."""
    verdict = str(ch07.check_spectral_projectors(lambda T: ch07._projectors(T, kind="unscaled")))
    assert "multiple of P" in verdict and "l_k · r_k = 1" in verdict
    assert not re.search(r"P P = [-\d.]", verdict)
