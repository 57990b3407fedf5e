"""Checkers of practice notebook 07: each planted mistake gets its own diagnosis, and garbage
never passes.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``).
Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import numpy as np
import pytest
import torch
from exercise_utils import Planted, assert_planted, planted_id

from beliefcourse.checks import ch07


# ---------------------------------------------------------------------------- projectors
def _projectors(order="desc", kind="inverse", real=False):
    def fn(T):
        values, V = np.linalg.eig(T)
        if order == "desc":
            idx = np.argsort(-np.abs(values), kind="stable")
        elif order == "asc":
            idx = np.argsort(np.abs(values), kind="stable")
        else:
            idx = np.arange(len(values))
        values, V = values[idx], V[:, idx]
        if kind == "inverse":
            W = np.linalg.inv(V)
        elif kind == "right_twice":
            W = V.T
        else:                                   # left eigenvectors from eig(T.T), unit norm
            lv, L = np.linalg.eig(T.T)
            W = np.array([L[:, np.argmin(np.abs(lv - v))] for v in values])
        if kind == "transposed":
            W = np.linalg.inv(V)
        P = np.einsum("ik,kj->kij", V, W)
        if kind == "transposed":
            P = P.transpose(0, 2, 1)
        if real:
            return values.real, P.real
        return values, P
    return fn


PROJECTORS = [
    Planted("spectral_projectors", "uses the right eigenvector twice (r r^T)",
            _projectors(kind="right_twice"), r"r_k r_kᵀ|left eigenvector"),
    Planted("spectral_projectors", "left eigenvectors not scaled so that l.r = 1",
            _projectors(kind="unscaled_left"), r"l_k · r_k = 1"),
    Planted("spectral_projectors", "returns the transposed projectors",
            _projectors(kind="transposed"), r"transpose"),
    Planted("spectral_projectors", "keeps numpy's eigenvalue order", _projectors(order="none"),
            r"not sorted by\s+decreasing modulus"),
    Planted("spectral_projectors", "sorts by increasing modulus", _projectors(order="asc"),
            r"not sorted by\s+decreasing modulus"),
    Planted("spectral_projectors", "drops the imaginary parts", _projectors(real=True),
            r"dropped the imaginary parts"),
    Planted("spectral_projectors", "returns only the projectors",
            lambda T: _projectors()(T)[1], r"pair \(eigenvalues, projectors\)"),
]


# ---------------------------------------------------------------------------- constrained update
def _update(subtract=True, shift=0, reverse=False, normalise_post=True, exact=False,
            softmax=False, prior_row=False):
    def fn(T, pi, tokens, rate):
        post = np.einsum("s,zst->zt", pi, T)
        if normalise_post:
            post = post / post.sum(1, keepdims=True)
        u = post - pi if subtract else post
        L = len(tokens)
        out = np.zeros((L, len(pi)))
        belief = pi.copy()
        for d in range(1, L + 1):
            if exact:
                belief = belief @ T[tokens[d - 1]]
                out[d - 1] = belief / belief.sum()
                continue
            for s in range(1, d + 1):
                k = (s - 1) if reverse else (d - s + shift)
                out[d - 1] += rate ** k * u[tokens[s - 1]]
            if softmax:
                out[d - 1] /= np.sum(np.abs(rate) ** np.arange(d))
            out[d - 1] += pi
        return np.vstack([pi, out]) if prior_row else out
    return fn


UPDATE = [
    Planted("constrained_update", "adds pi^(z) instead of u_z", _update(subtract=False),
            r"added π\^\(z\) itself"),
    Planted("constrained_update", "exponent off by one", _update(shift=1), r"Off by one"),
    Planted("constrained_update", "weights by position, not distance", _update(reverse=True),
            r"decay with the wrong index"),
    Planted("constrained_update", "forgets to normalise pi T^(z)",
            _update(normalise_post=False), r"divide by the probability"),
    Planted("constrained_update", "computes exact Bayes instead", _update(exact=True),
            r"exact belief"),
    Planted("constrained_update", "divides by the softmax normaliser", _update(softmax=True),
            r"softmax normalisation"),
    Planted("constrained_update", "returns the prior as an extra first row",
            _update(prior_row=True), r"including the\s+prior"),
]


# ---------------------------------------------------------------------------- propagated update
def _propagated(mode="ok"):
    def fn(T, pi, tokens):
        post = np.einsum("s,zst->zt", pi, T)
        u = post / post.sum(1, keepdims=True) - pi
        M = T.sum(0)
        if mode == "scalar":
            eig = np.linalg.eigvals(M)
            zeta = eig[np.argsort(-np.abs(eig))][1].real
            M = zeta * np.eye(len(pi))
        if mode == "transpose":
            M = M.T
        if mode == "no_subtract":
            u = u + pi
        belief, dev, out = pi.copy(), np.zeros_like(pi), []
        for z in tokens:
            if mode == "exact":
                belief = belief @ T[z]
                belief = belief / belief.sum()
                out.append(belief)
                continue
            dev = (dev + u[z]) @ M if mode == "off_by_one" else dev @ M + u[z]
            out.append(pi + dev)
        return np.array(out)
    return fn


PROPAGATED = [
    Planted("propagated_update", "uses the second eigenvalue as a scalar rate",
            _propagated("scalar"), r"replaced T\^\(d−s\) by \(second eigenvalue\)"),
    Planted("propagated_update", "propagates with the transpose", _propagated("transpose"),
            r"uses the transpose"),
    Planted("propagated_update", "propagates the current token too", _propagated("off_by_one"),
            r"Off by one"),
    Planted("propagated_update", "adds pi^(z) instead of u_z", _propagated("no_subtract"),
            r"only its deviation"),
    Planted("propagated_update", "computes exact Bayes instead", _propagated("exact"),
            r"exact belief"),
]


# ---------------------------------------------------------------------------- heads
def _heads(count_one=False, ignore_sign=False, multiplicity=False, count_zero=False,
           allow_complex=False):
    def fn(T):
        values = np.linalg.eigvals(T)
        rest = values if count_one else values[np.abs(values - 1) > 1e-9]
        if np.any(np.abs(rest.imag) > 1e-9) and not allow_complex:
            raise ValueError("complex")
        rest = rest.real
        vals = rest if multiplicity else np.unique(np.round(rest, 9))
        if not count_zero:
            vals = vals[np.abs(vals) > 1e-9]
        if ignore_sign:
            return len(vals)
        return int(sum(1 if v > 0 else 2 for v in vals))
    return fn


HEADS = [
    Planted("heads_needed", "counts the eigenvalue 1", _heads(count_one=True),
            r"counted the eigenvalue 1"),
    Planted("heads_needed", "one head per eigenvalue whatever its sign",
            _heads(ignore_sign=True), r"needs two heads"),
    Planted("heads_needed", "counts repeated eigenvalues separately", _heads(multiplicity=True),
            r"\*distinct\* eigenvalues"),
    Planted("heads_needed", "counts the eigenvalue 0", _heads(count_zero=True),
            r"eigenvalue 0 contributes only at distance 0"),
    Planted("heads_needed", "returns a count for complex spectra", _heads(allow_complex=True),
            r"Raise ValueError"),
    Planted("heads_needed", "returns a float", lambda T: 1.0, r"return an int"),
]


# ---------------------------------------------------------------------------- decay fit
DECAY = [
    Planted("fit_decay_rate", "fits the attention on a linear scale",
            lambda a, d: float(np.exp(np.polyfit(d, a[d], 1)[0])), r"straight line in log"),
    Planted("fit_decay_rate", "returns the slope, not the rate",
            lambda a, d: float(np.polyfit(d, np.log(a[d]), 1)[0]), r"returned the slope"),
    Planted("fit_decay_rate", "uses the first entries, not the given distances",
            lambda a, d: float(np.exp(np.polyfit(d, np.log(a[:len(d)]), 1)[0])),
            r"index attention\[distances\]"),
    Planted("fit_decay_rate", "uses one ratio", lambda a, d: float(a[d[1]] / a[d[0]]),
            r"one ratio"),
    Planted("fit_decay_rate", "regresses distance on log attention",
            lambda a, d: float(np.exp(1 / np.polyfit(np.log(a[d]), d, 1)[0])),
            r"regressed distance on log attention"),
    Planted("fit_decay_rate", "fits log10 but undoes it with exp",
            lambda a, d: float(np.exp(np.polyfit(d, np.log10(a[d]), 1)[0])), r"mixed logarithms"),
]


# ---------------------------------------------------------------------------- OV vectors
def _ov(ln=True, bias_v=True, add_bo=False, pos=True, block=2, transpose_o=False):
    def fn(model):
        blk = model.blocks[0]
        H, dh = model.cfg.n_heads, model.cfg.d_head
        with torch.no_grad():
            E = model.embed.weight[None, :, :]
            P = model.pos_embed.weight[:, None, :]
            x = E + P if pos else E.expand(P.shape[0], -1, -1)
            if ln:
                x = blk.ln1(x)
            out = []
            for h in range(H):
                rows = slice(block * H * dh + h * dh, block * H * dh + (h + 1) * dh)
                v = x @ blk.attn.qkv.weight[rows].T
                if bias_v:
                    v = v + blk.attn.qkv.bias[rows]
                Wo = (blk.attn.out.weight[h * dh:(h + 1) * dh, :].T if transpose_o
                      else blk.attn.out.weight[:, h * dh:(h + 1) * dh])
                o = v @ Wo.T
                out.append(o + blk.attn.out.bias if add_bo else o)
        return torch.stack(out).numpy()
    return fn


OV = [
    Planted("ov_vectors", "skips ln1", _ov(ln=False), r"skipped the first LayerNorm"),
    Planted("ov_vectors", "forgets b_V", _ov(bias_v=False), r"value bias b_V is missing"),
    Planted("ov_vectors", "adds b_O to every OV vector", _ov(add_bo=True), r"added b_O"),
    Planted("ov_vectors", "ignores the position embedding", _ov(pos=False),
            r"token embedding alone"),
    Planted("ov_vectors", "takes the key block of qkv", _ov(block=1), r"key rows"),
    Planted("ov_vectors", "slices W_O by rows", _ov(transpose_o=True), r"Wrong slice of W_O"),
    Planted("ov_vectors", "returns (positions, heads, ...)",
            lambda m: _ov()(m).transpose(1, 0, 2, 3), r"expected shape"),
]

PLANTED = PROJECTORS + UPDATE + PROPAGATED + HEADS + DECAY + OV


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch07, planted)


# ---------------------------------------------------------------------------- garbage
@pytest.mark.parametrize("name, garbage", [
    ("spectral_projectors", lambda T: (np.ones(len(T)), np.stack([np.eye(len(T))] * len(T)))),
    ("constrained_update", lambda T, pi, tokens, rate: np.tile(pi, (len(tokens), 1))),
    ("propagated_update", lambda T, pi, tokens: np.tile(pi, (len(tokens), 1))),
    ("heads_needed", lambda T: 1),
    ("fit_decay_rate", lambda a, d: 0.5),
    ("ov_vectors", lambda m: np.zeros((2, 6, 3, 16))),
])
def test_garbage_fails(name, garbage):
    assert not getattr(ch07, f"check_{name}")(garbage)


def test_unscaled_projector_verdict_quotes_no_arbitrary_factor():
    """The factor c in P P = c P is LAPACK's eigenvector scale (machine-dependent): the
    diagnosis names the cause without quoting it."""
    import re

    verdict = str(ch07.check_spectral_projectors(_projectors(kind="unscaled_left")))
    assert "multiple of P" in verdict and "l_k · r_k = 1" in verdict
    assert not re.search(r"P P = [-\d.]", verdict)
