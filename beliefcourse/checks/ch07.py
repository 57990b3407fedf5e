"""Exercises of practice notebook 07 (constrained belief updates, paper b)."""

import copy
from functools import partial, reduce

import numpy as np
import torch

from .. import beliefs, constrained, mechanism, processes
from ..attention import decay_rate
from ..hmm import HMM
from ..model import TransformerConfig, build_model
from ._core import Exercise, Known, Mistake, as_float, as_tuple, close, describe_shapes
from .ch01 import random_hmms

_mp, _inv, _close = np.linalg.matrix_power, np.linalg.inv, partial(np.allclose, atol=1e-7)


def _zs(values, decimals: int = 4) -> str:
    """1, -0.5+0.866i, 0: largest modulus first (LAPACK's order is CPU-dependent), no -0."""
    zs = np.round(np.asarray(values, dtype=complex).ravel(), decimals) + 0
    return ", ".join(f"{z.real:g}" if z.imag == 0 else f"{z.real:g}{z.imag:+g}i" for z in sorted(
        zs, key=lambda z: (-abs(z), -z.real, -z.imag)))


_MESS3 = [(f"Mess3(x={x}, α={a})", processes.mess3(x, a)) for x, a in ((0.15, 0.6), (0.5, 0.2),
                                                                          (0.05, 0.85))]


def _test_spectral_projectors(fn):
    def need(ok, text):
        if not ok:
            raise Mistake(f"{label}: {text}")
    # random HMMs first: for a symmetric T (Mess3) eig(T.T) gives r_k again, not l_k
    for name, hmm in random_hmms(701, 4) + _MESS3 + [("RRXOR", processes.rrxor())]:
        T, label = hmm.transition_matrix, f"For the net matrix of {name}"
        S, ref = len(T), np.linalg.eigvals(T)
        values, projs = map(np.asarray, as_tuple(fn(T.copy()), label, "(eigenvalues, projectors)"))
        need(values.shape == (S,) and projs.shape == (S, S, S), "eigenvalues " + describe_shapes(
            values.shape, (S,)) + f"; projectors {describe_shapes(projs.shape, (S, S, S))}.")
        need(np.abs(ref.imag).max() < 1e-9 or np.abs(np.imag(values)).max() > 1e-9, f"T has "
             f"complex eigenvalues [{_zs(ref, 3)}]: you dropped the imaginary parts.")
        same = _zs(values, 6) == _zs(ref, 6)                    # sorted, rounded, complex
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
            multiple = abs(np.trace(P)) > 1e-12 and _close(P @ P, np.trace(P @ P) / np.trace(P) * P)
            need(_close(P @ P, P), f"projector {k} is not idempotent" + (  # no LAPACK scale
                ": P P is a multiple of P. Scale l_k so that" if multiple else
                " (P P ≠ P): build it as r_k l_k with") + " l_k · r_k = 1 (rows of V⁻¹ are).")
        need(_close(projs.sum(0), np.eye(S)), "the projectors do not add up to the identity: "
             "take the left eigenvectors l_k as the rows of inv(V).")
    return "sorted eigenvalues, idempotent projectors adding up to I, on Mess3, RRXOR, random HMMs."


def _projectors(T, order="desc", kind="inverse", real=False):
    values, V = np.linalg.eig(T)
    idx = np.argsort(-np.abs(values), kind="stable") if order == "desc" else range(len(T))
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
    test=_test_spectral_projectors, mistakes=[
        (m, partial(_projectors, **kw), None, c) for m, kw, c in [
            ("uses the right eigenvector twice (r r^T)", {"kind": "right twice"}, r"r_k r_kᵀ"),
            ("left eigenvectors not scaled so that l.r = 1", {"kind": "unscaled"},
             r"multiple of P.*l_k · r_k = 1"),
            ("returns the transposed projectors", {"kind": "transposed"}, "the transpose of"),
            ("keeps numpy's eigenvalue order", {"order": "none"}, r"not sorted by\s+decreasing"),
            ("drops the imaginary parts", {"real": True}, "dropped the imaginary parts")]])


def _token_cases(seed, nets, rates=None):
    rng, out = np.random.default_rng(seed), []
    for k, (name, hmm) in enumerate(nets):
        tokens, rate = hmm.sample(1, 6, seed=rng)[0][0], () if rates is None else (rates[k],)
        out.append((f"For {name}, tokens {tokens.tolist()}" + "".join(
            f", rate {r:+.2f}" for r in rate), (hmm.T, hmm.stationary(), tokens, *rate)))
    return out


def _update(T, pi, tokens, rate=None, normalise=False):
    return constrained.constrained_update(HMM(T), tokens, rate, normalise)


def _ansatz(T, pi, tokens, rate=None, shift=0, add_pi=False, normalise=True, column=False,
            by_position=False, net=None, labelled=None):
    """The update with one known mistake; rate None: propagate with T^(d − s) (or T[x])."""
    post = T @ pi if column else pi @ T                        # (X, S): pi T^(x) per token
    u = (post / post.sum(1, keepdims=True) if normalise else post) - (0 if add_pi else pi)
    M = {"T": T.sum(0).T, "mean": T.mean(0)}.get(net, T.sum(0))
    def carry(s, d):
        n = (s if by_position else d - s) + shift
        if labelled:
            return reduce(np.matmul, [T[tokens[s]]] * n if labelled == "own" else [
                T[x] for x in tokens[s + 1:d + 1]], np.eye(len(pi)))
        return _mp(M, n) if rate is None else rate ** n * np.eye(len(pi))
    return pi + np.array([sum(u[tokens[s]] @ carry(s, d) for s in range(d + 1))
                          for d in range(len(tokens))])


_BOTH = [("weights by position", partial(_ansatz, by_position=True), "Your weights follow the "
          "position s, not the distance: token s gets rate^(d − s) (or T^(d − s))."),
         ("adds pi^(x) instead of u_x", partial(_ansatz, add_pi=True),
          "You added π^(x) itself: each token contributes u_x = π^(x) − π."),
         ("exponent off by one", partial(_ansatz, shift=1),
          "Off by one in the exponent: the current token (s = d) has weight rate^0 = 1 (T^0 = I)."),
         ("computes exact Bayes", lambda T, pi, tokens, *rate: beliefs.belief_trajectories(
             HMM(T), tokens[None], prior=pi)[0, 1:], "You computed the exact belief (Bayes' rule "
          "step by step); the constrained update adds each token's *separate* update.")]


check_constrained_update = Exercise(
    name="constrained_update", signature="constrained_update(T, pi, tokens, rate) -> r (L, S)",
    cases=lambda: _token_cases(703, _MESS3 + random_hmms(702, 3), (.55, -.5, .85, .6, -.4, .3)),
    process_first=0, reference=_update, mistakes=[
        ("starts with the prior", lambda T, pi, t, r: np.vstack([pi, _update(T, pi, t, r)]),
         "Your rows start with the prior π, shifted by one position: row d − 1 is r after d "
         "tokens.", "", lambda c: close(np.asarray(c.got)[1:], c.expected[:len(c.got) - 1])),
        ("forgets to normalise pi T^(x)", partial(_ansatz, normalise=False),
         "You did not normalise π T^(x): divide it by the token's probability π T^(x) 1."),
        ("column product T[x] @ pi", partial(_ansatz, column=True),
         "You computed T[x] @ π, a column product: π^(x) multiplies the row vector, pi @ T[x]."),
        ("returns r - pi", lambda T, pi, t, r: _update(T, pi, t, r) - pi,
         "You returned the deviations r_d − π: add π back."),
        ("divides by the softmax normaliser", partial(_update, normalise=True),
         "You divided by Σ_k |rate|^k, the softmax normaliser: here it is the plain sum.")] + _BOTH,
    advice="Check u_x = π^(x) − π and the weight rate^(d − s).",
    summary="r_d = π + Σ_s rate^(d−s) u_(x_s) on Mess3 (ζ > 0 and ζ < 0) and random HMMs.")


def _heads_cases():
    nets = _MESS3 + [("Mess3(x=1/3, α=0.6) (no memory)", processes.mess3(1 / 3, 0.6))]
    out = [(f"For the net matrix of {n}", (h.transition_matrix,)) for n, h in nets]
    for k, v in enumerate([(1, .6, .2), (1, .5, -.3, 0), (1, -.4, -.4, .7), (1, .8, .8, .8, -.5)]):
        V = np.eye(len(v)) + 0.3 * np.random.default_rng(k + 1).normal(size=(len(v),) * 2)
        V[:, 0] = 1.0                                   # rows sum to 1
        out.append((f"For a matrix with eigenvalues {list(v)}", (V @ np.diag(v) @ _inv(V),)))
    return out


def _heads(T, one=False, signed=True, distinct=True, zero=0):
    v = np.linalg.eigvals(T).real      # a head count with one known mistake; complex spectra pass
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
    convert=_as_count, reference=constrained.heads_needed, after=_rrxor_rejected, mistakes=[
        ("counts the eigenvalue 0", partial(_heads, zero=1), "You counted the eigenvalue 0: it "
         "acts only at distance 0, the current token, already in the residual stream."),
        ("counts the eigenvalue 1", partial(_heads, one=True),
         "You counted the eigenvalue 1: the stationary part 1π of every update needs no head."),
        ("one head per negative eigenvalue", partial(_heads, signed=False), "You gave a negative λ "
         "one head; it needs two (even and odd n): λ^n alternates in sign, softmax weights don't."),
        ("counts repeated eigenvalues separately", partial(_heads, distinct=False),
         "You counted a repeated eigenvalue twice: one decay rate needs one head pattern."),
        ("returns a count for complex spectra", _heads, None, "Raise ValueError"),
        ("raises ValueError for a real spectrum", lambda T: int("complex"), "T's eigenvalues are "
         "real up to rounding (imag ~1e-16): test |imag| > 1e-9.", "", None, ValueError),
        ("returns a float", lambda T: 1.0, None, "return an int")],
    advice="Count distinct eigenvalues other than 0 and 1: one head if positive, two if negative.",
    summary="one head per positive and two per negative distinct eigenvalue; RRXOR rejected.")


def _ov_cases():
    cfg = TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=8, d_mlp=32, n_ctx=6)
    model, gen = build_model(cfg, seed=707), torch.Generator().manual_seed(708)
    with torch.no_grad():
        for p in [p for n, p in model.named_parameters() if n.endswith("bias") or "ln" in n]:
            p.add_(0.3 * torch.randn(p.shape, generator=gen))    # random: b_V, b_O, ln1 matter
    return [("For a 2-head model with random biases (n_ctx 6, d_model 16)", (model.eval(),))]


def _ov(model, ln="sum", bias_v=True, add_bo=False, pos=True, block=2, transpose_o=False,
        interleave=False, wo=True, shift=0):
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


def _ov_known(mistake, diagnosis, *kws):           # float32 answers are fine
    return Known(mistake, partial(_ov, **kws[0]), diagnosis, recognise=lambda c: any(
        close(c.got, _ov(*c.args, **kw), rtol=1e-4, atol=1e-5) for kw in kws))


check_ov_vectors = Exercise(
    name="ov_vectors", signature="ov_vectors(model) -> (H, n_ctx, X, D)", cases=_ov_cases,
    reference=mechanism.ov_vectors, rtol=1e-4, atol=1e-5, mistakes=[_ov_known(*k) for k in [
        ("misapplies ln1 (skips it, or applies it to each part)", "You skipped ln1 or applied it "
         "to each part: apply it once, to W_E[x] + W_pos[k].", {"ln": None}, {"ln": "parts"}),
        ("forgets b_V", "You left out b_V: v = ln1(W_E + W_pos) W_V + b_V.", {"bias_v": False}),
        ("adds b_O", "You added b_O: it comes once per position, not per key.", {"add_bo": True}),
        ("misses W_pos[k]", "Your vector at position k leaves out or shifts W_pos: the key there "
         "holds W_E[x] + W_pos[k].", {"shift": 1}, {"pos": False}),
        ("reads other rows of qkv (the key block, heads interleaved)", "You read other rows of qkv "
         "[q | k | v] (the key block, or heads interleaved): head h's values are rows 2·H·d_head "
         "+ h·d_head + (0..d_head−1).", {"block": 1}, {"interleave": True}, {"interleave": "v"}),
        ("forgets W_O", "You returned the value vectors (d_head features): multiply each head's "
         "by its columns of W_O.", {"wo": False}),
        ("slices W_O by rows", "You sliced W_O (d_model, H·d_head) by rows: head h's columns are "
         "[:, h·d_head:(h+1)·d_head].", {"transpose_o": True})]],
    advice="OV[h, k, x] = (ln1(W_E[x] + W_pos[k]) W_V^h + b_V^h) W_O^h, shape (H, n_ctx, X, D).",
    summary="(ln1(W_E + W_pos) W_V + b_V) W_O for each head, position and token.")


def _decay_cases():
    rng, out = np.random.default_rng(706), []
    for rate, noise, first in [(.55, 0, .15), (.85, .05, .3), (.3, .1, .05), (.5, .2, .2)]:
        a = np.r_[first, (rate ** np.arange(10) * np.exp(noise * rng.normal(size=10)))[1:]]
        out.append((f"For attention decaying at {rate} (noise {noise}, distance 0 set apart)",
                    (a / a.sum(), np.arange(1, 6))))
    return out + [("For the same with distances 2, 4, 6 (an even head)",
                   (out[1][1][0], np.array([2, 4, 6])))]


def _decay_mistake(kind):               # a recogniser: one of the values this mistake gives
    def recognise(c):
        (a, d), r = c.args, c.args[0][c.args[1][1:]] / c.args[0][c.args[1][:-1]]
        m, c0 = np.polyfit(d, a[d], 1)                  # a straight line, read as a rate
        return any(close(c.got, v) for v in {
            "linear": (np.exp(m), m, 1 + m, -m, 1 + m / c0),
            "entries": [decay_rate(v, x) for v, x in [(a[:len(d)], d), (a[d - 1], d), (
                a, np.arange(len(a))), (a[1:], np.arange(1, len(a)))]],
            "ratios": (r[0], r.mean(), r.mean() ** (1 / np.diff(d).mean()),     # + rooted by step
                       np.mean(r ** (1 / np.diff(d))), np.mean(a[d + 1] / a[d]),
                       np.mean(a[d[:-1] + 1] / a[d[:-1]]), r.prod() ** (1 / (d[-1] - d[0])))}[kind])
    return recognise


check_fit_decay_rate = Exercise(
    name="fit_decay_rate", signature="fit_decay_rate(attention (n,), distances (k,)) -> float",
    cases=_decay_cases, reference=lambda a, d: decay_rate(a[d], d), convert=as_float, mistakes=[
        ("fits the attention on a linear scale", lambda a, d: np.exp(np.polyfit(d, a[d], 1)[0]),
         "You fitted a straight line to the attention itself: fit log a_d = c + d log r.", "",
         _decay_mistake("linear")),
        ("returns the slope, not the rate", lambda a, d: np.polyfit(d, np.log(a[d]), 1)[0],
         "You returned the slope log r; return the rate r = exp(slope)."),
        ("fits other entries than attention[distances]", lambda a, d: decay_rate(a[d - 1], d),
         "You fitted other entries than attention[distances] (attention[d − 1], the first ones, "
         "or all of them): distance d is attention[d].", "", _decay_mistake("entries")),
        ("uses ratios of a few values", lambda a, d: np.mean(a[d[1:]] / a[d[:-1]]), "You used "
         "ratios of neighbouring values (one, their mean, or the end points): fit all the given "
         "distances by least squares.", "", _decay_mistake("ratios")),
        ("fits the reversed profile", lambda a, d: decay_rate(a[::-1][d], d),
         "You reversed the profile: attention[d] is already the weight d steps back."),
        ("regresses distance on log attention", lambda a, d: np.exp(1 / np.polyfit(
            np.log(a[d]), d, 1)[0]), "You regressed distance on log attention, not the reverse."),
        ("fits log10 but undoes it with exp", lambda a, d: np.exp(np.polyfit(
            d, np.log10(a[d]), 1)[0]), "You fitted log10 but undid it with exp: use np.log.")],
    advice="Fit log(attention[distances]) = c + distances · log r by least squares; return r.",
    summary="the least-squares log-linear rate, on clean, noisy and even-distance profiles.")


def _scalar_rate(T, pi, tokens, f=np.real):        # the second eigenvalue as a scalar rate
    return _update(T, pi, tokens, f(sorted(np.linalg.eigvals(T.sum(0)), key=abs)[-2]))


check_propagated_update = Exercise(
    name="propagated_update", signature="propagated_update(T, pi, tokens) -> r (L, S)",
    cases=lambda: _token_cases(704, [("RRXOR", processes.rrxor())] + _MESS3[:2] + random_hmms(
        705, 3)), process_first=0, reference=_update, mistakes=[
        ("uses the second eigenvalue as a scalar rate", _scalar_rate, "You used a scalar rate, the "
         "second eigenvalue (right only for Mess3): propagate with the matrix power T^(d−s).", "",
         lambda c: any(close(c.got, _scalar_rate(*c.args, f)) for f in (np.real, abs))),
        ("propagates with the labelled matrices T[x]", partial(_ansatz, labelled="later"), "You "
         "propagated with the labelled matrix T[x]: deviations move with the net matrix T.sum(0).",
         "", lambda c: any(close(c.got, _ansatz(*c.args, labelled=w)) for w in ("later", "own"))),
        ("averages the T^(x)", partial(_ansatz, net="mean"), "You averaged the T^(x) (T.mean(0)):"
         " the net matrix is their sum, T = Σ_x T^(x), a stochastic matrix."),
        ("propagates with the transpose", partial(_ansatz, net="T"),
         "You computed T^n @ u_x: u_x is a row vector, propagate it as u_x @ T^n.")] + _BOTH,
    advice="r_d = π + Σ_s u_(x_s) T^(d−s), with T = Σ_x T^(x).",
    summary="r_d = π + Σ_s u_(x_s) T^(d−s) on RRXOR, Mess3 and random HMMs.")

EXERCISES = (check_spectral_projectors, check_constrained_update, check_heads_needed,
             check_ov_vectors, check_fit_decay_rate, check_propagated_update)
