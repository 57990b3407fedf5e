"""Exercises of practice notebook 07 (constrained belief updates, paper b): Mess3 at several
``(x, α)``, RRXOR and seeded random HMMs; the references are the package's functions."""

import copy
from functools import reduce

import numpy as np

from .. import processes
from ..attention import decay_rate
from ..beliefs import belief_trajectories
from ..constrained import constrained_update, heads_needed
from ..hmm import HMM
from ._core import Exercise, Known, Mistake, as_float, close, describe_shapes
from .ch01 import random_hmms

__all__ = ["EXERCISES", "check_constrained_update", "check_fit_decay_rate",
           "check_heads_needed", "check_ov_vectors", "check_propagated_update",
           "check_spectral_projectors"]


def _complex_list(values, decimals: int) -> str:
    """[1, -0.5+0.866i, 0]: largest modulus first (LAPACK's order is CPU-dependent), no -0."""
    zs = sorted(np.asarray(values, dtype=complex).ravel(),
                key=lambda z: (-round(abs(z), 9), -round(z.real, 9), -round(z.imag, 9)))
    parts = [[round(float(v), decimals) + 0.0 for v in (z.real, z.imag)] for z in zs]
    return "[" + ", ".join(f"{re:g}" if im == 0 else f"{re:g}{im:+g}i" for re, im in parts) + "]"


_mp = np.linalg.matrix_power


def _mess3(points=((0.15, 0.6), (0.5, 0.2), (0.05, 0.85))):
    return [(f"Mess3(x={x}, α={a})", processes.mess3(x, a)) for x, a in points]


def _close(a, b):
    return np.allclose(a, b, atol=1e-7)


def _test_spectral_projectors(fn):
    # random HMMs first: for a symmetric T (Mess3) eig(T.T) gives r_k again, not l_k
    for name, hmm in random_hmms(701, 4) + _mess3() + [("RRXOR", processes.rrxor())]:
        T, label = hmm.transition_matrix, f"For the net matrix of {name}"

        def need(ok, text, label=label):
            if not ok:
                raise Mistake(f"{label}: {text}")

        S, answer, ref = len(T), fn(T.copy()), np.linalg.eigvals(T)
        need(isinstance(answer, tuple) and len(answer) == 2,
             f"return a pair (eigenvalues, projectors), got {type(answer).__name__}.")
        values, projs = np.asarray(answer[0]), np.asarray(answer[1])
        need(values.shape == (S,) and projs.shape == (S, S, S), f"eigenvalues "
             f"{describe_shapes(values.shape, (S,))}; projectors "
             f"{describe_shapes(projs.shape, (S, S, S))} (one S × S per eigenvalue).")
        need(np.abs(ref.imag).max() < 1e-9 or np.abs(np.imag(values)).max() > 1e-9,
             f"T has complex eigenvalues {_complex_list(ref, 3)} but yours are real: you dropped "
             "the imaginary parts. Keep them (RRXOR's e^(±2πi/3) is what breaks the ansatz).")
        need(np.allclose(np.sort_complex(np.round(values, 9)), np.sort_complex(np.round(ref, 9)),
                         rtol=1e-6, atol=1e-7),                   # complex: not `close`
             f"expected eigenvalues {_complex_list(ref, 4)}, got {_complex_list(values, 4)}.")
        need(close(np.abs(values), np.sort(np.abs(ref))[::-1], atol=1e-7), f"eigenvalues "
             f"{_complex_list(values, 4)} are not sorted by decreasing modulus; sort them (and "
             "the projectors with them).")
        for k, (P, lam) in enumerate(zip(projs, values)):
            eigen, idempotent, trace = _close(T @ P, lam * P), _close(P @ P, P), np.trace(P)
            need(eigen or not _close(T @ P.T, lam * P.T), f"projector {k} is the transpose of "
                 "the right one: P_k = r_k l_k, a column of V times a row of V⁻¹.")
            owner = [mu for mu in values if np.abs(P).max() > 1e-9 and _close(T @ P, mu * P)]
            need(eigen, f"projector {k} is not an eigen-projector of eigenvalue "
                 f"{_complex_list([lam], 4)[1:-1]}: T P ≠ λP" + (
                     f"; it is one of {_complex_list(owner[:1], 4)[1:-1]}: you sorted the "
                     "eigenvalues but not the columns of V with them (V[:, order])"
                     if owner else "") + ".")
            need(idempotent or not np.allclose(P, P.T, atol=1e-9) or np.allclose(T, T.T),
                 f"projector {k} is symmetric but not idempotent (P P ≠ P): you used r_k r_kᵀ. "
                 "For a non-symmetric T use the left eigenvector l_k, a row of V⁻¹: P_k = "
                 "outer(V[:, k], inv(V)[k]).")
            multiple = abs(trace) > 1e-12 and _close(P @ P, np.trace(P @ P) / trace * P)
            need(idempotent, f"projector {k} is not idempotent" + (  # never quote LAPACK's scale
                ": P P is a multiple of P, so the eigenvectors are not scaled to each other. "
                "Scale the left eigenvector so that l_k · r_k = 1" if multiple else
                " (P P ≠ P): build it as r_k l_k with l_k · r_k = 1") + " (the rows of V⁻¹ are).")
        need(_close(projs.sum(0), np.eye(S)), "the projectors do not add up to the identity" + (
            ", and each is symmetric: you used r_k r_kᵀ (the eigenvectors of a non-symmetric T "
            "or of a repeated eigenvalue need not be orthogonal)"
            if all(np.allclose(P, P.T, atol=1e-9) for P in projs) else "")
            + "; take the left eigenvectors l_k as the rows of V⁻¹.")
    return ("eigenvalues sorted by modulus, and projectors that are idempotent, add up to I and "
            "rebuild T, on Mess3, RRXOR (complex) and random HMMs.")


def _projectors(T, order="desc", kind="inverse", real=False):
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


check_spectral_projectors = Exercise(
    name="spectral_projectors", signature="spectral_projectors(T) -> (values (S,), P (S, S, S))",
    test=_test_spectral_projectors, mistakes=tuple(
        Known(m, lambda T, kw=kw: _projectors(T, **kw), None, cause=c) for m, kw, c in [
            ("uses the right eigenvector twice (r r^T)", {"kind": "right twice"}, r"r_k r_kᵀ"),
            ("left eigenvectors not scaled so that l.r = 1", {"kind": "unscaled"},
             r"multiple of P.*l_k · r_k = 1"),
            ("returns the transposed projectors", {"kind": "transposed"}, "transpose of the right"),
            ("keeps numpy's eigenvalue order", {"order": "none"}, r"not sorted by\s+decreasing"),
            ("sorts by increasing modulus", {"order": "asc"}, r"not sorted by\s+decreasing"),
            ("drops the imaginary parts", {"real": True}, "dropped the imaginary parts")]) + (
        Known("returns only the projectors", lambda T: _projectors(T)[1], None,
              cause=r"pair \(eigenvalues, projectors\)"),))


def _update_cases():
    rng, cases = np.random.default_rng(703), []
    for (name, hmm), x in zip(_mess3() + random_hmms(702, 3), (0.15, 0.5, 0.05, 0, 0, 0)):
        tokens = hmm.sample(1, 6 if x else 5, seed=rng)[0][0]
        rate = 1 - 3 * x if x else float(rng.uniform(-0.8, 0.8))
        cases.append((f"For {name}, tokens {tokens.tolist()}, rate " + (
            f"ζ = {rate:+.2f}" if x else f"{rate:.3f}"), (hmm.T, hmm.stationary(), tokens, rate)))
    return cases


def _weighted(weight, normalise=True, column=False):
    """``(T, pi, tokens[, rate]) -> r``, r_d = pi + sum_{s <= d} weight(u_(x_s), d - s, rate,
    T.sum(0), pi, s) for d = 1..L: an update built from the tokens' separate updates u."""
    def update(T, pi, tokens, rate=None):
        post = np.einsum("xst,t->xs" if column else "s,xst->xt", *((T, pi) if column else (pi, T)))
        u = (post / post.sum(1, keepdims=True) if normalise else post) - pi
        return pi + np.array([sum(weight(u[tokens[s - 1]], d - s, rate, T.sum(0), pi, s)
                                  for s in range(1, d + 1)) for d in range(1, len(tokens) + 1)])
    return update


def _exact(T, pi, tokens, *rate):
    return belief_trajectories(HMM(T), np.asarray(tokens)[None], prior=pi)[0, 1:]


check_constrained_update = Exercise(
    name="constrained_update", signature="constrained_update(T, pi, tokens, rate) -> r (L, S)",
    cases=_update_cases, process_first=0,
    reference=lambda T, pi, tokens, rate: constrained_update(HMM(T), tokens, rate), mistakes=(
        Known("returns the prior as an extra first row",
              lambda T, pi, t, r: np.vstack([pi, constrained_update(HMM(T), t, r)]),
              "You returned L + 1 rows including the prior; return r after 1, 2, …, L tokens.",
              recognise=lambda c: np.shape(c.got)[0] == len(c.args[2]) + 1 and close(
                  np.asarray(c.got)[1:], c.expected)),
        Known("shifts the rows by one position",
              lambda T, pi, t, r: np.vstack([pi, constrained_update(HMM(T), t, r)[:-1]]),
              "Your rows are shifted by one position: row d − 1 is r_d, after the first d tokens, "
              "the d-th included (weight rate^0 = 1); yours starts with the prior π."),
        Known("adds pi^(x) instead of u_x", _weighted(lambda u, n, r, M, pi, s: r ** n * (u + pi)),
              "You added π^(x) itself: each token contributes u_x = π^(x) − π."),
        Known("exponent off by one", _weighted(lambda u, n, r, *_: r ** (n + 1) * u),
              "Off by one in the exponent: the current token (s = d) has weight rate^0 = 1."),
        Known("weights by position, not distance", _weighted(lambda u, n, r, M, pi, s: r ** (
            s - 1) * u), "The weights decay with the wrong index: rate^(d − s), the distance "
              "back from the current position d, not rate^(s − 1)."),
        Known("forgets to normalise pi T^(x)", _weighted(lambda u, n, r, *_: r ** n * u, False),
              "π^(x) = π T^(x) / (π T^(x) 1): divide by the probability of the token."),
        Known("returns r - pi", lambda T, pi, t, r: constrained_update(HMM(T), t, r) - pi,
              "You returned the deviations r_d − π: add π back, r_d = π + Σ_s rate^(d−s) u_(x_s)."),
        Known("pi^(x) from the column product T[x] @ pi", _weighted(
            lambda u, n, r, *_: r ** n * u, column=True), "You computed T[x] @ π, a column "
              "product: π^(x) = π T^(x) / (π T^(x) 1) multiplies the row vector, pi @ T[x]."),
        Known("computes exact Bayes instead", _exact, "That is the exact belief (Bayes' rule "
              "step by step); the constrained update adds each token's *separate* update."),
        Known("divides by the softmax normaliser",
              lambda T, pi, t, r: constrained_update(HMM(T), t, r, normalise=True),
              "You divided by Σ_k |rate|^k (the softmax normalisation); here it is the plain sum."),
    ),
    advice="Check u_x = π^(x) − π and the weight rate^(d − s).",
    summary="r_d = π + Σ_s rate^(d−s) u_(x_s) on Mess3 (ζ > 0 and ζ < 0) and random HMMs.")


def _with_spectrum(values, seed):
    """A real matrix with rows summing to 1 and the given real eigenvalues (values[0] = 1)."""
    V = np.eye(len(values)) + 0.3 * np.random.default_rng(seed).normal(size=(len(values),) * 2)
    V[:, 0] = 1.0
    return V @ np.diag(values) @ np.linalg.inv(V)


def _heads_cases():
    nets = _mess3() + [("Mess3(x=1/3, α=0.6) (no memory)", processes.mess3(1 / 3, 0.6))]
    return [(f"For the net matrix of {n}", (h.transition_matrix,)) for n, h in nets] + [
        (f"For a matrix with eigenvalues {list(v)}", (_with_spectrum(v, k),)) for k, v in
        enumerate([(1, 0.6, 0.2), (1, 0.5, -0.3, 0.0), (1, -0.4, -0.4, 0.7),
                   (1, 0.8, 0.8, 0.8, -0.5)], 1)]


def _heads(T, count_one=False, ignore_sign=False, multiplicity=False, zero=0,
           allow_complex=False):
    """A head count with one known mistake (zero: the heads counted for λ = 0)."""
    values = np.linalg.eigvals(T)
    rest = values if count_one else values[np.abs(values - 1) > 1e-9]
    if np.any(np.abs(rest.imag) > 1e-9) and not allow_complex:
        raise ValueError("complex")
    vals = rest.real if multiplicity else np.unique(np.round(rest.real, 9))
    nonzero = vals[np.abs(vals) > 1e-9]
    heads = len(nonzero) if ignore_sign else int(sum(1 if v > 0 else 2 for v in nonzero))
    return heads + (zero if len(nonzero) < len(vals) else 0)


def _as_count(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise Mistake(f"{what}: return an int (the number of heads), got "
                      f"{type(value).__name__} {value!r}.")
    return int(value)


def _rrxor_rejected(fn, summary):
    try:
        got = fn(processes.rrxor().transition_matrix)
    except ValueError:
        return summary
    raise Mistake(f"For RRXOR you returned {got!r}, but its net matrix has complex eigenvalues "
                  "e^(±2πi/3): no positive attention pattern makes their oscillation. Raise "
                  "ValueError there.")


check_heads_needed = Exercise(
    name="heads_needed", signature="heads_needed(T_net) -> int", cases=_heads_cases,
    convert=_as_count, reference=heads_needed, after=_rrxor_rejected, mistakes=(
        Known("counts the eigenvalue 0", lambda T: _heads(T, zero=1),
              "You counted the eigenvalue 0: it acts only at distance 0 (0^0 = 1), the current "
              "token, which the residual stream already holds; it needs no head.",
              recognise=lambda c: bool(np.any(np.abs(np.linalg.eigvals(c.args[0])) < 1e-9)
                                       and c.got - c.expected in (1, 2))),
        Known("counts the eigenvalue 1", lambda T: _heads(T, count_one=True),
              "You counted the eigenvalue 1: the stationary part 1π, in every update; no head."),
        Known("one head per eigenvalue whatever its sign", lambda T: _heads(T, ignore_sign=True),
              "A negative eigenvalue λ gives weights λ^n of alternating sign; softmax weights "
              "are positive, so it needs two heads (even and odd distances, opposite OV signs)."),
        Known("counts repeated eigenvalues separately", lambda T: _heads(T, multiplicity=True),
              "Count *distinct* eigenvalues: a repeated one (Mess3's double ζ) has one projector "
              "and one decay rate, so one head pattern serves all its directions."),
        Known("returns a count for complex spectra", lambda T: _heads(T, allow_complex=True),
              None, cause=r"Raise ValueError"),
        Known("returns a float", lambda T: 1.0, None, cause=r"return an int"),
    ),
    advice="Count the distinct non-zero eigenvalues other than 1: one head if positive, two if "
           "negative.",
    summary="one head per positive and two per negative distinct eigenvalue; RRXOR rejected.")


def _ov_cases():
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


def _ov(model, ln="sum", bias_v=True, add_bo=False, pos=True, block=2, transpose_o=False,
        interleave=False, wo=True, shift=0):
    import torch

    blk, H, dh = (m := copy.deepcopy(model).double()).blocks[0], m.cfg.n_heads, m.cfg.d_head
    with torch.no_grad():
        E, norm = m.embed.weight[None], blk.ln1 if ln else None
        P = torch.roll(m.pos_embed.weight, shift, 0)[:, None]
        x = norm(E) + norm(P) if ln == "parts" else (norm or (lambda v: v))(
            E + P if pos else E.expand(P.shape[0], -1, -1))
        W, bias, Wo, out = blk.attn.qkv.weight, blk.attn.qkv.bias, blk.attn.out.weight, []
        for h in range(H):
            rows = (np.arange(dh) * H + h) if interleave else np.arange(h * dh, (h + 1) * dh)
            v = x @ W[block * H * dh + rows].T + (bias[block * H * dh + rows] if bias_v else 0)
            rows = np.arange(h * dh, (h + 1) * dh) if interleave == "v" else rows
            o = v @ (Wo[rows, :].T if transpose_o else Wo[:, rows]).T if wo else v
            out.append(o + blk.attn.out.bias if add_bo else o)
    return torch.stack(out).numpy()


def _ov_reference(model):
    from ..mechanism import ov_vectors

    return ov_vectors(model)


check_ov_vectors = Exercise(
    name="ov_vectors", signature="ov_vectors(model) -> (H, n_ctx, X, D)", cases=_ov_cases,
    reference=_ov_reference, rtol=1e-4, atol=1e-5,      # float32 answers are fine
    mistakes=tuple(Known(m, lambda model, kw=kw: _ov(model, **kw), d, recognise=lambda c, kw=kw:
                         close(c.got, _ov(*c.args, **kw), rtol=1e-4, atol=1e-5)) for m, kw, d in [
        ("skips ln1", {"ln": None}, "You skipped the first LayerNorm: the attention reads "
         "ln1(W_E + W_pos), so apply model.blocks[0].ln1 before W_V."),
        ("applies ln1 to W_E and W_pos separately", {"ln": "parts"}, "You applied the "
         "LayerNorm to W_E and W_pos separately; it is not linear: apply ln1(W_E[x] + W_pos[k])."),
        ("forgets b_V", {"bias_v": False},
         "The value bias b_V is missing: v = ln1(W_E + W_pos) W_V + b_V."),
        ("adds b_O to every OV vector", {"add_bo": True}, "You added b_O to every OV vector; "
         "it is added once per position, not once per key: leave it out here."),
        ("ignores the position embedding", {"pos": False}, "You used the token embedding alone; "
         "the key at position k holds W_E[x] + W_pos[k], so the OV vector depends on k too."),
        ("takes the key block of qkv", {"block": 1}, "You took the key rows of the fused qkv "
         "matrix [q | k | v]: head h's value rows start at 2·H·d_head + h·d_head."),
        ("forgets W_O", {"wo": False}, "You returned the value vectors ln1(W_E + W_pos) W_V + "
         "b_V (d_head features): multiply each head's by its columns of W_O to get d_model."),
        ("uses W_pos[k - 1]", {"shift": 1}, "Your OV vector at position k uses W_pos[k − 1] (the "
         "position embedding shifted by one): the key at position k holds W_E[x] + W_pos[k]."),
        ("reads the heads interleaved", {"interleave": True}, "You read the heads interleaved "
         "(features h, h + H, ...); head h owns rows h·d_head:(h+1)·d_head of the value block, "
         "and the same columns of W_O."),
        ("reads the value rows interleaved", {"interleave": "v"}, "You read the value rows "
         "interleaved (features h, h + H, ...); head h owns rows h·d_head:(h+1)·d_head of the "
         "value block, the block its columns of W_O expect."),
        ("slices W_O by rows", {"transpose_o": True}, "Wrong slice of W_O, of shape (d_model, "
         "H·d_head): head h's columns are [:, h·d_head:(h+1)·d_head].")]) + (
        Known("returns (positions, heads, ...)", lambda m: _ov(m).transpose(1, 0, 2, 3),
              "You put the positions before the heads: return (heads, positions, tokens, "
              "d_model)."),),
    advice="OV[h, k, x] = (ln1(W_E[x] + W_pos[k]) W_V^h + b_V^h) W_O^h, shape (heads, "
           "positions, tokens, d_model).",
    summary="(ln1(W_E + W_pos) W_V + b_V) W_O for each head, position and token.")


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


def _ratios(c):
    (a, d), out = c.args, c.got
    return any(close(out, np.mean(v)) for v in (
        a[d[1:]] / a[d[:-1]], (a[d[1:]] / a[d[:-1]]) ** (1 / np.diff(d)), a[d[:-1] + 1] / a[d[:-1]],
        a[d + 1] / a[d]))


def _linear(c):
    (m, c0), out = np.polyfit(c.args[1], c.args[0][c.args[1]], 1), c.got
    return any(close(out, v) for v in (np.exp(m), m, 1 + m, -m, 1 + m / c0))


check_fit_decay_rate = Exercise(
    name="fit_decay_rate", signature="fit_decay_rate(attention (n,), distances (k,)) -> float",
    cases=_decay_cases, reference=lambda a, d: decay_rate(a[d], d), convert=as_float,
    mistakes=tuple(Known(*k) for k in [
        ("fits the attention on a linear scale", lambda a, d: np.exp(np.polyfit(d, a[d], 1)[0]),
         "You fitted the attention itself with a straight line; geometric decay is a straight "
         "line in log(attention): fit log a_d = c + d log r.", "", _linear),
        ("returns the slope, not the rate", lambda a, d: np.polyfit(d, np.log(a[d]), 1)[0],
         "You returned the slope log r; return the rate r = exp(slope)."),
        ("uses the first entries, not the given distances", lambda a, d: decay_rate(a[:len(d)], d),
         "You used the first entries of the attention: index attention[distances]."),
        ("indexes attention[d - 1]", lambda a, d: decay_rate(a[d - 1], d), "You read attention"
         "[d − 1]: the profile starts at distance 0, so distance d is attention[d]."),
        ("ignores the distances given", lambda a, d: decay_rate(a, np.arange(len(a))),
         "You fitted every entry and ignored `distances` (distance 0 is set apart; a head may "
         "attend to even distances only).", "", lambda c: any(close(c.got, decay_rate(
             c.args[0][k:], np.arange(k, len(c.args[0])))) for k in (0, 1))),
        ("uses one ratio", lambda a, d: a[d[1]] / a[d[0]], "You used one ratio of neighbouring "
         "values, at the mercy of noise: fit all the given distances by least squares."),
        ("averages the ratios", lambda a, d: np.mean(a[d[1:]] / a[d[:-1]]), "You averaged the "
         "ratios of neighbouring values: fit log a_d = c + d log r by least squares.", "", _ratios),
        ("uses the two endpoints only", lambda a, d: (a[d[-1]] / a[d[0]]) ** (1 / (d[-1] - d[0])),
         "You used only the first and last distances: fit all of them by least squares."),
        ("fits the reversed profile", lambda a, d: decay_rate(a[::-1][d], d),
         "You reversed the profile: attention[d] is already the weight d steps back."),
        ("regresses distance on log attention", lambda a, d: np.exp(
            1 / np.polyfit(np.log(a[d]), d, 1)[0]),
         "You regressed distance on log attention; regress log attention on distance."),
        ("fits log10 but undoes it with exp", lambda a, d: np.exp(
            np.polyfit(d, np.log10(a[d]), 1)[0]),
         "You mixed logarithms, log10 for the fit and exp to undo it: use np.log with np.exp.")]),
    advice="Fit log(attention[distances]) = c + distances · log r by least squares and "
           "return r.",
    summary="the least-squares log-linear rate, on clean, noisy and even-distance profiles.")


def _propagated_cases():
    rng = np.random.default_rng(704)
    rr = processes.rrxor()
    out = [("For RRXOR, tokens [0, 1, 1, 0, 1, 0]",
            (rr.T, rr.stationary(), np.array([0, 1, 1, 0, 1, 0])))]
    for name, hmm in _mess3()[:2] + random_hmms(705, 3):
        tokens = hmm.sample(1, 5, seed=rng)[0][0]
        out.append((f"For {name}, tokens {tokens.tolist()}", (hmm.T, hmm.stationary(), tokens)))
    return out


def _second(T):
    return sorted(np.linalg.eigvals(T.sum(0)), key=lambda z: -abs(z))[1]


def _labelled(T, pi, t, own=False):
    """Deviations carried by labelled matrices: the later tokens' (or the token's own)."""
    return _weighted(lambda u, n, r, M, pi, s: reduce(
        np.matmul, [T[t[s - 1]]] * n if own else [T[x] for x in t[s:s + n]], u))(T, pi, t)


check_propagated_update = Exercise(
    name="propagated_update", signature="propagated_update(T, pi, tokens) -> r (L, S)",
    cases=_propagated_cases, process_first=0,
    reference=lambda T, pi, tokens: constrained_update(HMM(T), tokens), mistakes=(
        Known("uses the second eigenvalue as a scalar rate", lambda T, pi, t: constrained_update(
            HMM(T), t, _second(T).real), recognise=lambda c: any(close(c.got, constrained_update(
                HMM(c.args[0]), c.args[2], f(_second(c.args[0])))) for f in (np.real, abs)),
              diagnosis="You replaced T^(d−s) by (second eigenvalue)^(d−s), right only when T = "
              "ζI + (1−ζ)1π (Mess3): propagate with the matrix power, u_x @ matrix_power(T, "
              "d − s)."),
        Known("propagates with the labelled matrices T[x]", _labelled, recognise=lambda c: any(
            close(c.got, _labelled(*c.args, own=own)) for own in (False, True)), diagnosis=
              "You propagated with the labelled matrix T[x] of a token. The deviations are "
              "carried by the net matrix T.sum(0), whatever the later tokens are."),
        Known("propagates with the transpose", _weighted(lambda u, n, r, M, *_: u @ _mp(M, n).T),
              "u_x is a row vector: propagate it as u_x @ T^n, not T^n @ u_x."),
        Known("propagates the current token too", _weighted(lambda u, n, r, M, *_: u @ _mp(
            M, n + 1)), "Off by one: the current token is not propagated (T^0 = I)."),
        Known("adds pi^(x) instead of u_x", _weighted(lambda u, n, r, M, pi, s: (u + pi) @ _mp(
            M, n)), "You propagated π^(x) and added it: each token contributes only its "
              "deviation u_x = π^(x) − π."),
        Known("computes exact Bayes instead", _exact, "That is the exact belief (a recurrence); "
              "the constrained update sums each token's separate, propagated update."),
    ),
    advice="r_d = π + Σ_s u_(x_s) T^(d−s), with T = Σ_x T^(x).",
    summary="r_d = π + Σ_s u_(x_s) T^(d−s) on RRXOR, Mess3 and random HMMs.")


EXERCISES = (check_spectral_projectors, check_constrained_update, check_heads_needed,
             check_ov_vectors, check_fit_decay_rate, check_propagated_update)
