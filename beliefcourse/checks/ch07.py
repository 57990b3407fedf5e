"""Exercises of practice notebook 07 (constrained belief updates, paper b): Mess3 at several
``(x, α)``, RRXOR and seeded random HMMs, the package's references (:mod:`beliefcourse.constrained`,
:mod:`beliefcourse.mechanism`, :mod:`beliefcourse.attention`) and the known mistakes."""

from __future__ import annotations

from functools import reduce

import numpy as np

from .. import processes
from ..attention import decay_rate
from ..beliefs import belief_trajectories
from ..constrained import constrained_update, heads_needed
from ..hmm import HMM
from ._core import Exercise, Known, Mistake, as_float, close, describe_shapes, loop
from .ch01 import random_hmms

__all__ = ["EXERCISES", "check_constrained_update", "check_fit_decay_rate",
           "check_heads_needed", "check_ov_vectors", "check_propagated_update",
           "check_spectral_projectors"]


def _complex_list(values, decimals: int) -> str:
    """Eigenvalues for a message, largest modulus first (LAPACK's order changes with the CPU's
    kernels), no signed zeros: [1, -0.5+0.866i, -0.5-0.866i, 0]."""
    zs = sorted(np.asarray(values, dtype=complex).ravel(),
                key=lambda z: (-round(abs(z), 9), -round(z.real, 9), -round(z.imag, 9)))
    parts = [[round(float(v), decimals) + 0.0 for v in (z.real, z.imag)] for z in zs]
    return "[" + ", ".join(f"{re:g}" if im == 0 else f"{re:g}{im:+g}i" for re, im in parts) + "]"


def _mess3(points=((0.15, 0.6), (0.5, 0.2), (0.05, 0.85))):
    return [(f"Mess3(x={x}, α={a})", processes.mess3(x, a)) for x, a in points]


# ---------------------------------------------------------------------------- 7.1 projectors
def _projector_matrices():
    """(label, T) for net matrices, all diagonalisable, some non-symmetric, one complex."""
    hmms = _mess3() + [("RRXOR", processes.rrxor())] + random_hmms(701, 4)
    return [(f"For the net matrix of {name}", hmm.transition_matrix) for name, hmm in hmms]


def _test_spectral_projectors(fn):
    for label, T in _projector_matrices():
        S, answer, ref = len(T), fn(T.copy()), np.linalg.eigvals(T)
        if not isinstance(answer, tuple) or len(answer) != 2:
            raise Mistake(f"{label}: return a pair (eigenvalues, projectors), got "
                          f"{type(answer).__name__}.")
        values, projs = np.asarray(answer[0]), np.asarray(answer[1])
        if values.shape != (S,) or projs.shape != (S, S, S):
            raise Mistake(f"{label}: eigenvalues {describe_shapes(values.shape, (S,))}; projectors "
                          f"{describe_shapes(projs.shape, (S, S, S))} (one S × S per eigenvalue).")
        if np.abs(ref.imag).max() > 1e-9 and np.abs(np.imag(values)).max() < 1e-9:
            raise Mistake(f"{label}: T has complex eigenvalues {_complex_list(ref, 3)} but yours "
                          "are real: you dropped the imaginary parts. Keep them complex "
                          "(RRXOR's e^(±2πi/3) is exactly what breaks the ansatz).")
        if not np.allclose(np.sort_complex(np.round(values, 9)),       # complex: not `close`
                           np.sort_complex(np.round(ref, 9)), rtol=1e-6, atol=1e-7):
            raise Mistake(f"{label}: expected eigenvalues {_complex_list(ref, 4)}, got "
                          f"{_complex_list(values, 4)}.")
        if not close(np.abs(values), np.sort(np.abs(ref))[::-1], atol=1e-7):
            raise Mistake(f"{label}: eigenvalues {_complex_list(values, 4)} are not sorted by "
                          "decreasing modulus; sort them (and the projectors with them), e.g. "
                          "order = np.argsort(-np.abs(values)).")
        for k, (P, lam) in enumerate(zip(projs, values)):
            where = f"{label}: projector {k}"
            if np.allclose(T @ P.T, lam * P.T, atol=1e-7) and not np.allclose(T @ P, lam * P,
                                                                               atol=1e-7):
                raise Mistake(f"{where} is the transpose of the right one. P_k = r_k l_k is a "
                              "column (right eigenvector, a column of V) times a row (left "
                              "eigenvector, a row of V⁻¹), so that T P_k = λ_k P_k.")
            if not np.allclose(T @ P, lam * P, atol=1e-7):
                raise Mistake(f"{where} is not an eigen-projector of eigenvalue "
                              f"{_complex_list([lam], 4)[1:-1]}: T P ≠ λP.")
            if np.allclose(P @ P, P, atol=1e-7):
                continue
            if np.allclose(P, P.T, atol=1e-9) and not np.allclose(T, T.T):
                raise Mistake(f"{where} is symmetric but not idempotent (P P ≠ P): you used "
                              "r_k r_kᵀ. For a non-symmetric T use the left eigenvector l_k, a "
                              "row of V⁻¹: P_k = outer(V[:, k], inv(V)[k]).")
            c = np.trace(P @ P) / np.trace(P) if abs(np.trace(P)) > 1e-12 else np.nan
            # the factor c is LAPACK's arbitrary eigenvector scale: never quote it
            raise Mistake(f"{where} is not idempotent" + (
                ": P P is a multiple of P, not P itself, so the eigenvectors are not scaled to "
                "each other. Scale the left eigenvector so that l_k · r_k = 1"
                if np.isfinite(c) and np.allclose(P @ P, c * P, atol=1e-7) else
                " (P P ≠ P): build it as r_k l_k with l_k · r_k = 1") + " — the rows of V⁻¹ "
                "are already scaled that way.")
        if not np.allclose(projs.sum(0), np.eye(S), atol=1e-7):
            symmetric = all(np.allclose(P, P.T, atol=1e-9) for P in projs)
            raise Mistake(f"{label}: the projectors do not add up to the identity" + (
                ", and each is symmetric: you used r_k r_kᵀ. Eigenvectors of a repeated "
                "eigenvalue need not be orthogonal" if symmetric else "") + "; take the left "
                "eigenvectors l_k as the rows of V⁻¹: P_k = outer(V[:, k], inv(V)[k]).")
        if not np.allclose(np.einsum("k,kij->ij", values, projs), T, atol=1e-7):
            raise Mistake(f"{label}: Σ λ_k P_k does not give back T.")
    return ("eigenvalues sorted by modulus, and projectors that are idempotent, add up to I and "
            "rebuild T, on Mess3, RRXOR (complex) and random HMMs.")


def _projectors(order="desc", kind="inverse", real=False):
    """A spectral decomposition with one known mistake."""
    def fn(T):
        values, V = np.linalg.eig(T)
        idx = {"desc": np.argsort(-np.abs(values), kind="stable"),
               "asc": np.argsort(np.abs(values), kind="stable")}.get(order, range(len(T)))
        values, V = values[idx], V[:, idx]
        W = V.T if kind == "right twice" else np.linalg.inv(V)
        if kind == "unscaled":              # left eigenvectors from eig(T.T), unit norm
            lv, L = np.linalg.eig(T.T)
            W = np.array([L[:, np.argmin(np.abs(lv - v))] for v in values])
        P = np.einsum("ik,kj->kij", V, W)
        P = P.transpose(0, 2, 1) if kind == "transposed" else P
        return (values.real, P.real) if real else (values, P)
    return fn


check_spectral_projectors = Exercise(
    name="spectral_projectors", signature="spectral_projectors(T) -> (values (S,), P (S, S, S))",
    test=_test_spectral_projectors, mistakes=(
        Known("uses the right eigenvector twice (r r^T)", _projectors(kind="right twice"), None,
              cause=r"r_k r_kᵀ"),
        Known("left eigenvectors not scaled so that l.r = 1", _projectors(kind="unscaled"), None,
              cause=r"multiple of P.*l_k · r_k = 1"),
        Known("returns the transposed projectors", _projectors(kind="transposed"), None,
              cause=r"transpose of the right one"),
        Known("keeps numpy's eigenvalue order", _projectors(order="none"), None,
              cause=r"not sorted by\s+decreasing modulus"),
        Known("sorts by increasing modulus", _projectors(order="asc"), None,
              cause=r"not sorted by\s+decreasing modulus"),
        Known("drops the imaginary parts", _projectors(real=True), None,
              cause=r"dropped the imaginary parts"),
        Known("returns only the projectors", lambda T: _projectors()(T)[1], None,
              cause=r"pair \(eigenvalues, projectors\)"),
    ))


# ---------------------------------------------------------------------------- 7.2 update
def _update_cases():
    rng = np.random.default_rng(703)
    cases = []
    for x, a in [(0.15, 0.6), (0.5, 0.2), (0.05, 0.85)]:
        hmm = processes.mess3(x, a)
        tokens = hmm.sample(1, 6, seed=rng)[0][0]
        cases.append((f"For Mess3(x={x}, α={a}), tokens {tokens.tolist()}, rate ζ = "
                      f"{1 - 3 * x:+.2f}", (hmm.T, hmm.stationary(), tokens, 1 - 3 * x)))
    for name, hmm in random_hmms(702, 3):
        tokens, rate = hmm.sample(1, 5, seed=rng)[0][0], float(rng.uniform(-0.8, 0.8))
        cases.append((f"For {name}, tokens {tokens.tolist()}, rate {rate:.3f}",
                      (hmm.T, hmm.stationary(), tokens, rate)))
    return cases


def _sum_updates(T, pi, tokens, weight, u=None):
    """pi + sum_{s <= d} weight(d, s, u_s) for d = 1..L, u_s the update of token s."""
    post = np.einsum("s,xst->xt", pi, T)
    u = post / post.sum(1, keepdims=True) - pi if u is None else u
    L = len(tokens)
    return pi + np.array([sum(weight(d, s, u[tokens[s - 1]]) for s in range(1, d + 1))
                          for d in range(1, L + 1)])


def _exact(T, pi, tokens):
    return belief_trajectories(HMM(T), np.asarray(tokens)[None], prior=pi)[0, 1:]


check_constrained_update = Exercise(
    name="constrained_update", signature="constrained_update(T, pi, tokens, rate) -> r (L, S)",
    cases=_update_cases,
    reference=lambda T, pi, tokens, rate: constrained_update(HMM(T), tokens, rate), mistakes=(
        Known("returns the prior as an extra first row",
              lambda T, pi, t, r: np.vstack([pi, constrained_update(HMM(T), t, r)]),
              "You returned L + 1 rows including the prior; return r after 1, 2, …, L tokens "
              "(L rows).", recognise=lambda c: np.shape(c.got)[0] == len(c.args[2]) + 1 and close(
                  np.asarray(c.got)[1:], c.expected)),
        Known("shifts the rows by one position",
              lambda T, pi, t, r: np.vstack([pi, constrained_update(HMM(T), t, r)[:-1]]),
              "Your rows are shifted by one position: row d − 1 is r_d, after the first d tokens, "
              "the d-th included (weight rate^0 = 1); yours starts with the prior π."),
        Known("adds pi^(x) instead of u_x",
              lambda T, pi, t, r: _sum_updates(T, pi, t, lambda d, s, u: r ** (d - s) * (u + pi)),
              "You added π^(x) itself: each token contributes its deviation u_x = π^(x) − π."),
        Known("exponent off by one",
              lambda T, pi, t, r: _sum_updates(T, pi, t, lambda d, s, u: r ** (d - s + 1) * u),
              "Off by one in the exponent: the current token (s = d) has weight rate^0 = 1, the "
              "token k steps back rate^k."),
        Known("weights by position, not distance",
              lambda T, pi, t, r: _sum_updates(T, pi, t, lambda d, s, u: r ** (s - 1) * u),
              "The weights decay with the wrong index: a token's weight is rate^(d − s), its "
              "distance back from the current position d, not rate^(s − 1)."),
        Known("forgets to normalise pi T^(x)",
              lambda T, pi, t, r: _sum_updates(T, pi, t, lambda d, s, u: r ** (d - s) * u,
                                               np.einsum("s,xst->xt", pi, T) - pi),
              "π^(x) = π T^(x) / (π T^(x) 1): divide by the probability of the token."),
        Known("computes exact Bayes instead", lambda T, pi, t, r: _exact(T, pi, t),
              "That is the exact belief (Bayes' rule step by step, a recurrence). The "
              "constrained update adds each token's *separate* update."),
        Known("divides by the softmax normaliser",
              lambda T, pi, t, r: constrained_update(HMM(T), t, r, normalise=True),
              "You divided by Σ_k |rate|^k (the softmax normalisation). The update asked for "
              "here is the plain sum."),
    ),
    advice="Check u_x = π^(x) − π and the weight rate^(d − s).",
    summary="r_d = π + Σ_s rate^(d−s) u_(x_s) on Mess3 (ζ > 0 and ζ < 0) and random HMMs.")


# ---------------------------------------------------------------------------- 7.3 heads
def _with_spectrum(values, seed):
    """A real matrix with rows summing to 1 and the given real eigenvalues (values[0] = 1)."""
    V = np.eye(len(values)) + 0.3 * np.random.default_rng(seed).normal(size=(len(values),) * 2)
    V[:, 0] = 1.0
    return V @ np.diag(values) @ np.linalg.inv(V)


def _heads_cases():
    return [(f"For the net matrix of {name}", (hmm.transition_matrix,)) for name, hmm in _mess3()
            ] + [("For the net matrix of Mess3(x=1/3, α=0.6) (no memory)",
                  (processes.mess3(1 / 3, 0.6).transition_matrix,))] + [
        (f"For a matrix with eigenvalues {list(v)}", (_with_spectrum(v, k),)) for k, v in
        enumerate([(1, 0.6, 0.2), (1, 0.5, -0.3, 0.0), (1, -0.4, -0.4, 0.7),
                   (1, 0.8, 0.8, 0.8, -0.5)], 1)]


def _heads(count_one=False, ignore_sign=False, multiplicity=False, zero=None,
           allow_complex=False):
    """A head count with one known mistake (zero: the heads counted for λ = 0)."""
    def fn(T):
        values = np.linalg.eigvals(T)
        rest = values if count_one else values[np.abs(values - 1) > 1e-9]
        if np.any(np.abs(rest.imag) > 1e-9) and not allow_complex:
            raise ValueError("complex")
        vals = rest.real if multiplicity else np.unique(np.round(rest.real, 9))
        nonzero = vals[np.abs(vals) > 1e-9]
        heads = len(nonzero) if ignore_sign else int(sum(1 if v > 0 else 2 for v in nonzero))
        return heads + (zero if zero and len(nonzero) < len(vals) else 0)
    return fn


def _as_count(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise Mistake(f"{what}: return an int (the number of heads), got "
                      f"{type(value).__name__} {value!r}.")
    return int(value)


def _test_heads_needed(fn):
    summary = loop(check_heads_needed, fn)
    try:
        got = fn(processes.rrxor().transition_matrix)
    except ValueError:
        return summary
    raise Mistake(f"For RRXOR you returned {got!r}, but its net matrix has complex eigenvalues "
                  "e^(±2πi/3): no positive attention pattern makes their oscillation. Raise "
                  "ValueError there.")


check_heads_needed = Exercise(
    name="heads_needed", signature="heads_needed(T_net) -> int", cases=_heads_cases,
    convert=_as_count, reference=heads_needed, test=_test_heads_needed, mistakes=(
        Known("counts the eigenvalue 0", _heads(zero=1),
              "You counted the eigenvalue 0. It contributes only at distance 0 (0^0 = 1), i.e. the "
              "current token, which the residual stream already holds: it needs no head.",
              recognise=lambda c: bool(np.any(np.abs(np.linalg.eigvals(c.args[0])) < 1e-9)
                                       and c.got - c.expected in (1, 2))),
        Known("counts the eigenvalue 1", _heads(count_one=True),
              "You counted the eigenvalue 1: it is the stationary part 1π, which every update "
              "shares; it needs no head."),
        Known("one head per eigenvalue whatever its sign", _heads(ignore_sign=True),
              "A negative eigenvalue λ gives weights λ^n that alternate in sign; softmax weights "
              "are positive, so it needs two heads (even and odd distances, opposite OV signs)."),
        Known("counts repeated eigenvalues separately", _heads(multiplicity=True),
              "Count *distinct* eigenvalues: a repeated eigenvalue (Mess3's double ζ) has one "
              "projector and one decay rate, so one head pattern serves all its directions."),
        Known("returns a count for complex spectra", _heads(allow_complex=True), None,
              cause=r"Raise ValueError"),
        Known("returns a float", lambda T: 1.0, None, cause=r"return an int"),
    ),
    advice="Count the distinct non-zero eigenvalues other than 1: one head if positive, two if "
           "negative.",
    summary="one head per positive and two per negative distinct eigenvalue; RRXOR rejected.")


# ---------------------------------------------------------------------------- 7.4 OV vectors
def _ov_cases():
    """A small two-head model with random biases and LayerNorm parameters (seeded)."""
    import torch

    from ..model import TransformerConfig, build_model

    model = build_model(TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=8, d_mlp=32,
                                          n_ctx=6), seed=707)
    gen = torch.Generator().manual_seed(708)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln" in name:
                p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return [("For a 2-head model with random biases (n_ctx 6, vocabulary 3, d_model 16)",
             (model.eval(),))]


def _ov(ln="sum", bias_v=True, add_bo=False, pos=True, block=2, transpose_o=False,
        interleave=False):
    """OV vectors with one known mistake, in float64."""
    def fn(model):
        import torch

        blk, H, dh = model.blocks[0], model.cfg.n_heads, model.cfg.d_head
        with torch.no_grad():
            E, P = model.embed.weight.double()[None], model.pos_embed.weight.double()[:, None]
            norm = (lambda v: torch.nn.functional.layer_norm(
                v, blk.ln1.normalized_shape, blk.ln1.weight.double(), blk.ln1.bias.double(),
                blk.ln1.eps)) if ln else (lambda v: v)
            x = norm(E + P if pos else E.expand(P.shape[0], -1, -1))
            x = norm(E) + norm(P) if ln == "parts" else x
            W, bias = blk.attn.qkv.weight.double(), blk.attn.qkv.bias.double()
            Wo, out = blk.attn.out.weight.double(), []
            for h in range(H):
                rows = (np.arange(dh) * H + h) if interleave else np.arange(h * dh, (h + 1) * dh)
                v = x @ W[block * H * dh + rows].T + (bias[block * H * dh + rows] if bias_v else 0)
                o = v @ (Wo[rows, :].T if transpose_o else Wo[:, rows]).T
                out.append(o + blk.attn.out.bias.double() if add_bo else o)
        return torch.stack(out).numpy()
    return fn


def _ov_reference(model):
    from ..mechanism import ov_vectors

    return ov_vectors(model)


_OV_MISTAKES = [
    ("skips ln1", _ov(ln=None), "You skipped the first LayerNorm: the attention reads "
     "ln1(W_E + W_pos), so apply model.blocks[0].ln1 before W_V."),
    ("applies ln1 to W_E and W_pos separately", _ov(ln="parts"),
     "You applied the LayerNorm to W_E and W_pos separately. LayerNorm is not linear: the "
     "residual stream holds their sum, so apply ln1(W_E[x] + W_pos[k])."),
    ("forgets b_V", _ov(bias_v=False), "The value bias b_V is missing: v = ln1(W_E + W_pos) "
     "W_V + b_V."),
    ("adds b_O to every OV vector", _ov(add_bo=True), "You added b_O to every OV vector. b_O is "
     "added once per position, not once per key: leave it out here."),
    ("ignores the position embedding", _ov(pos=False), "You used the token embedding alone. "
     "The key at position k holds W_E[x] + W_pos[k], so the OV vector depends on k as well."),
    ("takes the key block of qkv", _ov(block=1), "You took the key rows of the fused qkv "
     "matrix. Its output is [q | k | v]: the value rows of head h start at 2·H·d_head + "
     "h·d_head."),
    ("reads the heads interleaved", _ov(interleave=True), "You read the heads interleaved "
     "(features h, h + H, ...). They are head-major: head h owns rows h·d_head:(h+1)·d_head of "
     "the value block, and the same columns of W_O."),
    ("slices W_O by rows", _ov(transpose_o=True), "Wrong slice of W_O: "
     "model.blocks[0].attn.out.weight has shape (d_model, H·d_head); head h's columns are "
     "[:, h·d_head:(h+1)·d_head]."),
]

check_ov_vectors = Exercise(
    name="ov_vectors", signature="ov_vectors(model) -> (H, n_ctx, X, D)", cases=_ov_cases,
    reference=_ov_reference, rtol=1e-4, atol=1e-5,      # float32 answers are fine
    mistakes=tuple(Known(m, f, d, recognise=lambda c, f=f: close(c.got, f(*c.args), rtol=1e-4,
                                                               atol=1e-5))   # float32 answers
                   for m, f, d in _OV_MISTAKES) + (
        Known("returns (positions, heads, ...)", lambda m: _ov()(m).transpose(1, 0, 2, 3),
              "You put the positions before the heads: return (heads, positions, tokens, "
              "d_model)."),),
    advice="OV[h, k, x] = (ln1(W_E[x] + W_pos[k]) W_V^h + b_V^h) W_O^h, shape (heads, "
           "positions, tokens, d_model).",
    summary="(ln1(W_E + W_pos) W_V + b_V) W_O for each head, position and token.")


# ---------------------------------------------------------------------------- 7.5 decay fit
def _decay_cases():
    rng = np.random.default_rng(706)
    out = []
    for rate, noise, first in [(0.55, 0.0, 0.15), (0.85, 0.05, 0.3), (0.3, 0.1, 0.05),
                               (0.5, 0.2, 0.2)]:
        a = rate ** np.arange(10) * np.exp(noise * rng.normal(size=10))
        a[0] = first
        out.append((f"For attention decaying at {rate} (noise {noise}, distance 0 set apart)",
                    (a / a.sum(), np.arange(1, 6))))
    return out + [("For the same with distances 2, 4, 6 (an even head)",
                   (out[1][1][0], np.array([2, 4, 6])))]


def _fit(x, y):                                      # slope, intercept
    return np.polyfit(x, y, 1)


def _ratios(c):
    (a, d), out = c.args, c.got
    return any(close(out, np.mean(v)) for v in (
        a[d[1:]] / a[d[:-1]], (a[d[1:]] / a[d[:-1]]) ** (1 / np.diff(d)), a[d[:-1] + 1] / a[d[:-1]],
        a[d + 1] / a[d]))


def _linear(c):
    (m, c0), out = _fit(c.args[1], c.args[0][c.args[1]]), c.got
    return any(close(out, v) for v in (np.exp(m), m, 1 + m, -m, 1 + m / c0))


check_fit_decay_rate = Exercise(
    name="fit_decay_rate", signature="fit_decay_rate(attention (n,), distances (k,)) -> float",
    cases=_decay_cases, reference=lambda a, d: decay_rate(a[d], d), convert=as_float, mistakes=(
        Known("fits the attention on a linear scale", lambda a, d: np.exp(_fit(d, a[d])[0]),
              "You fitted the attention itself with a straight line; geometric decay is a "
              "straight line in log(attention): fit log a_d = c + d log r.", recognise=_linear),
        Known("returns the slope, not the rate", lambda a, d: _fit(d, np.log(a[d]))[0],
              "You returned the slope log r; return the rate r = exp(slope)."),
        Known("uses the first entries, not the given distances",
              lambda a, d: decay_rate(a[:len(d)], d),
              "You used the first entries of the attention: index attention[distances]."),
        Known("indexes attention[d - 1]", lambda a, d: decay_rate(a[d - 1], d),
              "You read attention[d − 1]: the profile starts at distance 0 (the current token), "
              "so distance d is attention[d]."),
        Known("ignores the distances given",
              lambda a, d: decay_rate(a, np.arange(len(a))),
              "You fitted every entry of the profile and ignored `distances` (distance 0 is set "
              "apart; a head may attend to even distances only): fit attention[distances].",
              recognise=lambda c: any(close(c.got, decay_rate(c.args[0][k:], np.arange(
                  k, len(c.args[0])))) for k in (0, 1))),
        Known("uses one ratio", lambda a, d: a[d[1]] / a[d[0]],
              "You used one ratio of neighbouring values; fit all the given distances by least "
              "squares (one ratio is at the mercy of noise)."),
        Known("averages the ratios", lambda a, d: np.mean(a[d[1:]] / a[d[:-1]]),
              "You averaged the ratios of neighbouring values: not the least-squares fit of "
              "log a_d = c + d log r over the given distances.", recognise=_ratios),
        Known("uses the two endpoints only",
              lambda a, d: (a[d[-1]] / a[d[0]]) ** (1 / (d[-1] - d[0])),
              "You used only the first and last distances, at the mercy of their noise: fit all "
              "the given distances by least squares."),
        Known("fits the reversed profile", lambda a, d: decay_rate(a[::-1][d], d),
              "You reversed the profile: attention[d] is already the weight d steps back."),
        Known("regresses distance on log attention",
              lambda a, d: np.exp(1 / _fit(np.log(a[d]), d)[0]),
              "You regressed distance on log attention; regress log attention on distance "
              "(np.polyfit(distances, np.log(a[distances]), 1))."),
        Known("fits log10 but undoes it with exp", lambda a, d: np.exp(_fit(d, np.log10(a[d]))[0]),
              "You mixed logarithms: log10 for the fit and exp to undo it. Use np.log with "
              "np.exp (or 10 ** slope with log10)."),
    ),
    advice="Fit log(attention[distances]) = c + distances · log r by least squares and "
           "return r.",
    summary="the least-squares log-linear rate, on clean, noisy and even-distance profiles.")


# ---------------------------------------------------------------------------- 7.6 propagated
def _propagated_cases():
    rng = np.random.default_rng(704)
    rr = processes.rrxor()
    out = [("For RRXOR, tokens [0, 1, 1, 0, 1, 0]",
            (rr.T, rr.stationary(), np.array([0, 1, 1, 0, 1, 0])))]
    for name, hmm in _mess3()[:2] + random_hmms(705, 3):
        tokens = hmm.sample(1, 5, seed=rng)[0][0]
        out.append((f"For {name}, tokens {tokens.tolist()}", (hmm.T, hmm.stationary(), tokens)))
    return out


def _power(T, n):
    return np.linalg.matrix_power(T.sum(0), n)


def _zeta(T):
    eig = np.linalg.eigvals(T.sum(0))
    return eig[np.argsort(-np.abs(eig))][1].real


def _labelled(T, pi, t, own=False):
    """Deviations carried by labelled matrices: the later tokens' (or the token's own)."""
    return _sum_updates(T, pi, t, lambda d, s, u: reduce(
        np.matmul, [T[t[s - 1]]] * (d - s) if own else [T[x] for x in t[s:d]], u))


check_propagated_update = Exercise(
    name="propagated_update", signature="propagated_update(T, pi, tokens) -> r (L, S)",
    cases=_propagated_cases,
    reference=lambda T, pi, tokens: constrained_update(HMM(T), tokens), mistakes=(
        Known("uses the second eigenvalue as a scalar rate",
              lambda T, pi, t: constrained_update(HMM(T), t, _zeta(T)),
              "You replaced T^(d−s) by (second eigenvalue)^(d−s). That is only right when "
              "T = ζI + (1−ζ)1π (Mess3); in general propagate the deviation with the matrix "
              "power: u_x @ matrix_power(T, d − s)."),
        Known("propagates with the labelled matrices T[x]", _labelled, recognise=lambda c: any(
            close(c.got, _labelled(*c.args, own=own)) for own in (False, True)), diagnosis=
              "You propagated with the labelled matrix T[x] of a token. The deviations are "
              "carried by the net matrix T = Σ_x T^(x) = T.sum(0), whatever the later tokens "
              "are: u_x @ matrix_power(T.sum(0), d − s)."),
        Known("propagates with the transpose",
              lambda T, pi, t: _sum_updates(T, pi, t, lambda d, s, u: u @ _power(T, d - s).T),
              "u_x is a row vector (a distribution's deviation): propagate it as u_x @ T^n, not "
              "T^n @ u_x (that uses the transpose)."),
        Known("propagates the current token too",
              lambda T, pi, t: _sum_updates(T, pi, t, lambda d, s, u: u @ _power(T, d - s + 1)),
              "Off by one: the current token is not propagated at all (T^0 = I); a token k "
              "steps back gets T^k."),
        Known("adds pi^(x) instead of u_x",
              lambda T, pi, t: _sum_updates(T, pi, t, lambda d, s, u: (u + pi) @ _power(T, d - s)),
              "You propagated π^(x) and added it: each token contributes only its deviation "
              "u_x = π^(x) − π."),
        Known("computes exact Bayes instead", lambda T, pi, t: _exact(T, pi, t),
              "That is the exact belief (a recurrence); the constrained update sums each "
              "token's separate, propagated update."),
    ),
    advice="r_d = π + Σ_s u_(x_s) T^(d−s), with T = Σ_x T^(x).",
    summary="r_d = π + Σ_s u_(x_s) T^(d−s) on RRXOR, Mess3 and random HMMs.")


EXERCISES = (check_spectral_projectors, check_constrained_update, check_heads_needed,
             check_ov_vectors, check_fit_decay_rate, check_propagated_update)
