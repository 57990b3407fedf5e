"""Exercises of practice notebook 07 (constrained belief updates, paper b)."""

import copy
from functools import partial, reduce

import numpy as np
import torch

from .. import processes
from ..attention import decay_rate
from ..beliefs import belief_trajectories
from ..constrained import constrained_update, heads_needed
from ..hmm import HMM
from ..mechanism import ov_vectors
from ..model import TransformerConfig, build_model
from ._core import Exercise, Known, Mistake, as_float, as_tuple, close, describe_shapes
from .ch01 import random_hmms

__all__ = ["EXERCISES", "check_constrained_update", "check_fit_decay_rate", "check_heads_needed",
           "check_ov_vectors", "check_propagated_update", "check_spectral_projectors"]

_mp, _inv, _close = np.linalg.matrix_power, np.linalg.inv, partial(np.allclose, atol=1e-7)


def _zs(values, decimals: int = 4) -> str:
    """1, -0.5+0.866i, 0: largest modulus first (LAPACK's order is CPU-dependent), no -0."""
    zs = np.round(np.asarray(values, dtype=complex).ravel(), decimals) + 0
    return ", ".join(f"{z.real:g}" if z.imag == 0 else f"{z.real:g}{z.imag:+g}i" for z in sorted(
        zs, key=lambda z: (-abs(z), -z.real, -z.imag)))


def _mess3(points=((0.15, 0.6), (0.5, 0.2), (0.05, 0.85))):
    return [(f"Mess3(x={x}, α={a})", processes.mess3(x, a)) for x, a in points]


def _need(label, ok, text):
    if not ok:
        raise Mistake(f"{label}: {text}")


def _test_spectral_projectors(fn):
    # random HMMs first: for a symmetric T (Mess3) eig(T.T) gives r_k again, not l_k
    for name, hmm in random_hmms(701, 4) + _mess3() + [("RRXOR", processes.rrxor())]:
        T, label = hmm.transition_matrix, f"For the net matrix of {name}"
        S, ref, need = len(T), np.linalg.eigvals(T), partial(_need, label)
        values, projs = map(np.asarray, as_tuple(fn(T.copy()), label, "(eigenvalues, projectors)"))
        need(values.shape == (S,) and projs.shape == (S, S, S), "eigenvalues "
             f"{describe_shapes(values.shape, (S,))}; projectors "
             f"{describe_shapes(projs.shape, (S, S, S))}.")
        need(np.abs(ref.imag).max() < 1e-9 or np.abs(np.imag(values)).max() > 1e-9, f"T has "
             f"complex eigenvalues [{_zs(ref, 3)}]: you dropped the imaginary parts.")
        same = np.allclose(np.sort_complex(np.round(values, 9)), np.sort_complex(np.round(ref, 9)),
                           atol=1e-7)                             # complex: not `close`
        need(same and close(np.abs(values), np.sort(np.abs(ref))[::-1], atol=1e-7), f"eigenvalues "
             f"[{_zs(values)}] are not sorted by decreasing modulus." if same else
             f"expected eigenvalues [{_zs(ref)}], got [{_zs(values)}].")
        need(_close(T, T.T) or not _close(projs, projs.transpose(0, 2, 1)), "your projectors "
             "are symmetric, r_k r_kᵀ: use the left eigenvectors l_k, the rows of inv(V).")
        for k, (P, lam) in enumerate(zip(projs, values)):
            owner = [mu for mu in values if np.abs(P).max() > 1e-9 and _close(T @ P, mu * P)]
            need(_close(T @ P, lam * P), f"projector {k} is not an eigen-projector of {_zs([lam])}"
                 + (": it is the transpose of r_k l_k, a column of V times a row of V⁻¹" if _close(
                     T @ P.T, lam * P.T) else f"; it is one of {_zs(owner[:1])}: reorder the "
                    "columns of V with the eigenvalues (V[:, order])" if owner else "") + ".")
            trace = np.trace(P)
            multiple = abs(trace) > 1e-12 and _close(P @ P, np.trace(P @ P) / trace * P)
            need(_close(P @ P, P), f"projector {k} is not idempotent" + (  # no LAPACK scale
                ": P P is a multiple of P. Scale l_k so that" if multiple else
                " (P P ≠ P): build it as r_k l_k with") + " l_k · r_k = 1 (rows of V⁻¹ are).")
        need(_close(projs.sum(0), np.eye(S)), "the projectors do not add up to the identity: "
             "take the left eigenvectors l_k as the rows of inv(V).")
    return ("eigenvalues sorted by modulus, and projectors that are idempotent, add up to I and "
            "rebuild T, on Mess3, RRXOR (complex) and random HMMs.")


def _projectors(T, order="desc", kind="inverse", real=False, only=False):
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
    return P if only else (values.real, P.real) if real else (values, P)


check_spectral_projectors = Exercise(
    name="spectral_projectors", signature="spectral_projectors(T) -> (values (S,), P (S, S, S))",
    test=_test_spectral_projectors, mistakes=[
        (m, partial(_projectors, **kw), None, c) for m, kw, c in [
            ("uses the right eigenvector twice (r r^T)", {"kind": "right twice"}, r"r_k r_kᵀ"),
            ("left eigenvectors not scaled so that l.r = 1", {"kind": "unscaled"},
             r"multiple of P.*l_k · r_k = 1"),
            ("returns the transposed projectors", {"kind": "transposed"}, "the transpose of"),
            ("keeps numpy's eigenvalue order", {"order": "none"}, r"not sorted by\s+decreasing"),
            ("drops the imaginary parts", {"real": True}, "dropped the imaginary parts"),
            ("returns only the projectors", {"only": True}, r"pair \(eigenvalues, projectors\)")]])


def _token_cases(seed, nets, rates=None):
    """(label, (T, pi, tokens[, rate])) for each process: 6 sampled tokens."""
    rng, out = np.random.default_rng(seed), []
    for k, (name, hmm) in enumerate(nets):
        tokens, rate = hmm.sample(1, 6, seed=rng)[0][0], () if rates is None else (rates[k],)
        out.append((f"For {name}, tokens {tokens.tolist()}" + "".join(
            f", rate {r:+.2f}" for r in rate), (hmm.T, hmm.stationary(), tokens, *rate)))
    return out


def _update(T, pi, tokens, rate=None, normalise=False):
    return constrained_update(HMM(T), tokens, rate, normalise)


def _ansatz(T, pi, tokens, rate=None, shift=0, add_pi=False, normalise=True, column=False,
            by_position=False, transpose=False):
    """The update with one known mistake; rate None propagates with the net matrix T^(d − s)."""
    post = T @ pi if column else pi @ T                        # (X, S): pi T^(x) per token
    u = (post / post.sum(1, keepdims=True) if normalise else post) - (0 if add_pi else pi)
    M = T.sum(0).T if transpose else T.sum(0)
    step = partial(_mp, M) if rate is None else (lambda n: rate ** n * np.eye(len(pi)))
    return pi + np.array([sum(u[tokens[s]] @ step((s if by_position else d - s) + shift)
                              for s in range(d + 1)) for d in range(len(tokens))])


_BOTH = [("adds pi^(x) instead of u_x", partial(_ansatz, add_pi=True),
          "You added π^(x) itself: each token contributes u_x = π^(x) − π."),
         ("exponent off by one", partial(_ansatz, shift=1),
          "Off by one in the exponent: the current token (s = d) has weight rate^0 = 1 (T^0 = I)."),
         ("computes exact Bayes", lambda T, pi, tokens, *rate: belief_trajectories(
             HMM(T), tokens[None], prior=pi)[0, 1:], "That is the exact belief (Bayes' rule step "
          "by step); the constrained update adds each token's *separate* update.")]


check_constrained_update = Exercise(
    name="constrained_update", signature="constrained_update(T, pi, tokens, rate) -> r (L, S)",
    cases=lambda: _token_cases(703, _mess3() + random_hmms(702, 3), (.55, -.5, .85, .6, -.4, .3)),
    process_first=0, reference=_update, mistakes=[
        ("starts with the prior", lambda T, pi, t, r: np.vstack([pi, _update(T, pi, t, r)]),
         "Your rows start with the prior π, shifted by one position: row d − 1 is r after d "
         "tokens.", "", lambda c: close(np.asarray(c.got)[1:], c.expected[:len(c.got) - 1])),
        ("weights by position", partial(_ansatz, by_position=True),
         "Your weights decay with the position, rate^(s − 1), not the distance, rate^(d − s)."),
        ("forgets to normalise pi T^(x)", partial(_ansatz, normalise=False),
         "π^(x) = π T^(x) / (π T^(x) 1): divide by the probability of the token."),
        ("returns r - pi", lambda T, pi, t, r: _update(T, pi, t, r) - pi,
         "You returned the deviations r_d − π: add π back."),
        ("column product T[x] @ pi", partial(_ansatz, column=True),
         "You computed T[x] @ π, a column product: π^(x) multiplies the row vector, pi @ T[x]."),
        ("divides by the softmax normaliser", partial(_update, normalise=True),
         "You divided by Σ_k |rate|^k, the softmax normaliser: here it is the plain sum.")] + _BOTH,
    advice="Check u_x = π^(x) − π and the weight rate^(d − s).",
    summary="r_d = π + Σ_s rate^(d−s) u_(x_s) on Mess3 (ζ > 0 and ζ < 0) and random HMMs.")


def _heads_cases():
    nets = _mess3() + [("Mess3(x=1/3, α=0.6) (no memory)", processes.mess3(1 / 3, 0.6))]
    out = [(f"For the net matrix of {n}", (h.transition_matrix,)) for n, h in nets]
    for k, v in enumerate([(1, .6, .2), (1, .5, -.3, 0), (1, -.4, -.4, .7), (1, .8, .8, .8, -.5)]):
        V = np.eye(len(v)) + 0.3 * np.random.default_rng(k + 1).normal(size=(len(v),) * 2)
        V[:, 0] = 1.0                                   # rows sum to 1
        out.append((f"For a matrix with eigenvalues {list(v)}", (V @ np.diag(v) @ _inv(V),)))
    return out


def _heads(T, one=False, signed=True, distinct=True, zero=0):
    """A head count with one known mistake (from the real parts: complex spectra pass)."""
    v = np.linalg.eigvals(T).real
    v = v[(np.abs(v - 1) > 1e-9) | one]
    v = np.unique(v.round(9)) if distinct else v
    return int(np.where(v > 1e-9, 1, np.where(v < -1e-9, 1 + signed, zero)).sum())


def _as_count(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise Mistake(f"{what}: return an int (the number of heads), got {value!r}.")
    return int(value)


def _rrxor_rejected(fn, summary):
    try:
        got = fn(processes.rrxor().transition_matrix)
    except ValueError:
        return summary
    raise Mistake(f"For RRXOR you returned {got!r}, but its eigenvalues e^(±2πi/3) are complex: "
                  "no positive attention pattern oscillates. Raise ValueError there.")


check_heads_needed = Exercise(
    name="heads_needed", signature="heads_needed(T_net) -> int", cases=_heads_cases,
    convert=_as_count, reference=heads_needed, after=_rrxor_rejected, mistakes=[
        ("counts the eigenvalue 0", partial(_heads, zero=1), "You counted the eigenvalue 0: it "
         "acts only at distance 0, the current token, already in the residual stream.", "",
         lambda c: c.got - c.expected in (1, 2) and min(abs(np.linalg.eigvals(c.args[0]))) < 1e-9),
        ("counts the eigenvalue 1", partial(_heads, one=True),
         "You counted the eigenvalue 1: the stationary part 1π of every update needs no head."),
        ("one head per negative eigenvalue", partial(_heads, signed=False), "A negative λ needs "
         "two heads (even and odd distances): λ^n alternates in sign, softmax weights don't."),
        ("counts repeated eigenvalues separately", partial(_heads, distinct=False),
         "Count *distinct* eigenvalues: a repeated one has one decay rate, so one head pattern."),
        ("returns a count for complex spectra", _heads, None, "Raise ValueError"),
        ("returns a float", lambda T: 1.0, None, "return an int")],
    advice="Count the distinct non-zero eigenvalues other than 1: one head if positive, two if "
           "negative.",
    summary="one head per positive and two per negative distinct eigenvalue; RRXOR rejected.")


def _ov_cases():
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
        interleave=False, wo=True, shift=0, axes=(0, 1, 2, 3)):
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
    return torch.stack(out).numpy().transpose(axes)


def _ov_known(mistake, diagnosis, *kws):           # float32 answers are fine
    return Known(mistake, partial(_ov, **kws[0]), diagnosis, recognise=lambda c: any(
        close(c.got, _ov(*c.args, **kw), rtol=1e-4, atol=1e-5) for kw in kws))


check_ov_vectors = Exercise(
    name="ov_vectors", signature="ov_vectors(model) -> (H, n_ctx, X, D)", cases=_ov_cases,
    reference=ov_vectors, rtol=1e-4, atol=1e-5, mistakes=[_ov_known(*k) for k in [
        ("skips ln1 or applies it to W_E and W_pos separately", "Apply the LayerNorm ln1 once, to "
         "W_E[x] + W_pos[k] (not skipped, nor to each separately), before W_V.", {"ln": None},
         {"ln": "parts"}),
        ("forgets b_V", "The value bias b_V is missing: v = ln1(W_E + W_pos) W_V + b_V.",
         {"bias_v": False}),
        ("adds b_O", "You added b_O, which comes once per position, not per key: leave it out.",
         {"add_bo": True}),
        ("misses W_pos[k]", "Your vector at position k leaves out or shifts W_pos: the key there "
         "holds W_E[x] + W_pos[k].", {"shift": 1}, {"pos": False}),
        ("takes the key block of qkv", "You took the key rows of the fused qkv [q | k | v]: head "
         "h's value rows start at 2·H·d_head + h·d_head.", {"block": 1}),
        ("forgets W_O", "You returned the value vectors (d_head features): multiply each head's "
         "by its columns of W_O.", {"wo": False}),
        ("reads the heads interleaved", "You read the heads interleaved (features h, h + H, ...); "
         "head h owns rows h·d_head:(h+1)·d_head of the value block and those columns of W_O.",
         {"interleave": True}, {"interleave": "v"}),
        ("slices W_O by rows", "Wrong slice of W_O (d_model, H·d_head): head h's columns are "
         "[:, h·d_head:(h+1)·d_head].", {"transpose_o": True}),
        ("returns (positions, heads, ...)", "You put the positions before the heads: return "
         "(heads, positions, tokens, d_model).", {"axes": (1, 0, 2, 3)})]],
    advice="OV[h, k, x] = (ln1(W_E[x] + W_pos[k]) W_V^h + b_V^h) W_O^h, shape (heads, "
           "positions, tokens, d_model).",
    summary="(ln1(W_E + W_pos) W_V + b_V) W_O for each head, position and token.")


def _decay_cases():
    rng, out = np.random.default_rng(706), []
    for rate, noise, first in [(0.55, 0.0, 0.15), (0.85, 0.05, 0.3), (0.3, 0.1, 0.05),
                               (0.5, 0.2, 0.2)]:
        a = rate ** np.arange(10) * np.exp(noise * rng.normal(size=10))
        a[0] = first
        out.append((f"For attention decaying at {rate} (noise {noise}, distance 0 set apart)",
                    (a / a.sum(), np.arange(1, 6))))
    return out + [("For the same with distances 2, 4, 6 (an even head)",
                   (out[1][1][0], np.array([2, 4, 6])))]


def _linear(c):             # a straight line through the attention, read as a rate
    (m, c0), got = np.polyfit(c.args[1], c.args[0][c.args[1]], 1), c.got
    return any(close(got, v) for v in (np.exp(m), m, 1 + m, -m, 1 + m / c0))


def _entries(c):            # a fit of other entries than attention[distances]
    a, d = c.args
    return any(close(c.got, decay_rate(v, x)) for v, x in [(a[:len(d)], d), (a[d - 1], d)] + [
        (a[k:], np.arange(k, len(a))) for k in (0, 1)])


def _ratios(c):             # ratios of a few values: one, their mean, the end points
    (a, d), r = c.args, c.args[0][c.args[1][1:]] / c.args[0][c.args[1][:-1]]
    return any(close(c.got, v) for v in (r[0], r.mean(), np.mean(r ** (1 / np.diff(d))), np.mean(
        a[d[:-1] + 1] / a[d[:-1]]), np.mean(a[d + 1] / a[d]), r.prod() ** (1 / (d[-1] - d[0]))))


check_fit_decay_rate = Exercise(
    name="fit_decay_rate", signature="fit_decay_rate(attention (n,), distances (k,)) -> float",
    cases=_decay_cases, reference=lambda a, d: decay_rate(a[d], d), convert=as_float, mistakes=[
        ("fits the attention on a linear scale", lambda a, d: np.exp(np.polyfit(d, a[d], 1)[0]),
         "You fitted a straight line to the attention itself: fit log a_d = c + d log r.", "",
         _linear),
        ("returns the slope, not the rate", lambda a, d: np.polyfit(d, np.log(a[d]), 1)[0],
         "You returned the slope log r; return the rate r = exp(slope)."),
        ("fits other entries than attention[distances]", lambda a, d: decay_rate(a[d - 1], d),
         "You fitted other entries than attention[distances] (attention[d − 1], the first ones, "
         "or all of them): distance d is attention[d].", "", _entries),
        ("uses ratios of a few values", lambda a, d: np.mean(a[d[1:]] / a[d[:-1]]), "You used "
         "ratios of neighbouring values (one, their mean, or the end points): fit all the given "
         "distances by least squares.", "", _ratios),
        ("fits the reversed profile", lambda a, d: decay_rate(a[::-1][d], d),
         "You reversed the profile: attention[d] is already the weight d steps back."),
        ("regresses distance on log attention", lambda a, d: np.exp(
            1 / np.polyfit(np.log(a[d]), d, 1)[0]),
         "You regressed distance on log attention; regress log attention on distance."),
        ("fits log10 but undoes it with exp", lambda a, d: np.exp(
            np.polyfit(d, np.log10(a[d]), 1)[0]),
         "You mixed logarithms, log10 for the fit and exp to undo it: use np.log with np.exp.")],
    advice="Fit log(attention[distances]) = c + distances · log r by least squares and "
           "return r.",
    summary="the least-squares log-linear rate, on clean, noisy and even-distance profiles.")


def _scalar_rate(T, pi, tokens, f=np.real):        # the second eigenvalue as a scalar rate
    return _update(T, pi, tokens, f(sorted(np.linalg.eigvals(T.sum(0)), key=abs)[-2]))


def _labelled(T, pi, t, own=False):
    """Deviations carried by labelled matrices: the later tokens' (or the token's own)."""
    u = pi @ T / (pi @ T).sum(1, keepdims=True) - pi
    return pi + np.array([sum(reduce(np.matmul, [T[t[s]]] * (d - s) if own else [
        T[x] for x in t[s + 1:d + 1]], u[t[s]]) for s in range(d + 1)) for d in range(len(t))])


check_propagated_update = Exercise(
    name="propagated_update", signature="propagated_update(T, pi, tokens) -> r (L, S)",
    cases=lambda: _token_cases(704, [("RRXOR", processes.rrxor())] + _mess3()[:2] + random_hmms(
        705, 3)), process_first=0, reference=_update, mistakes=[
        ("uses the second eigenvalue as a scalar rate", _scalar_rate, "You replaced T^(d−s) by "
         "a scalar rate, the second eigenvalue (right only for Mess3): use the matrix power "
         "T^(d−s).", "", lambda c: any(close(c.got, _scalar_rate(*c.args, f)) for f in (
             np.real, abs))),
        ("propagates with the labelled matrices T[x]", _labelled, "You propagated with the "
         "labelled matrix T[x]: deviations move with the net matrix T.sum(0).", "", lambda c: any(
             close(c.got, _labelled(*c.args, own=own)) for own in (False, True))),
        ("propagates with the transpose", partial(_ansatz, transpose=True),
         "u_x is a row vector: propagate it as u_x @ T^n, not T^n @ u_x.")] + _BOTH,
    advice="r_d = π + Σ_s u_(x_s) T^(d−s), with T = Σ_x T^(x).",
    summary="r_d = π + Σ_s u_(x_s) T^(d−s) on RRXOR, Mess3 and random HMMs.")


EXERCISES = (check_spectral_projectors, check_constrained_update, check_heads_needed,
             check_ov_vectors, check_fit_decay_rate, check_propagated_update)
