"""Checkers for practice notebook 07 (constrained belief updates, paper b).

Each checker runs the learner's function on Mess3 at several ``(x, alpha)``, on RRXOR and on
seeded random cases, compares with the package's reference (:mod:`beliefcourse.constrained`,
:mod:`beliefcourse.mechanism`) and names the typical mistake that explains the wrong answers.

| checker | learner function |
|---|---|
| :func:`check_spectral_projectors` | ``spectral_projectors(T) -> (values (S,), P (S, S, S))`` |
| :func:`check_constrained_update` | ``constrained_update(T, pi, tokens, rate) -> r (L, S)`` |
| :func:`check_propagated_update` | ``propagated_update(T, pi, tokens) -> r (L, S)`` (``T^(d-s)``) |
| :func:`check_heads_needed` | ``heads_needed(T_net) -> int`` (``ValueError`` if complex) |
| :func:`check_fit_decay_rate` | ``fit_decay_rate(attention, distances) -> rate`` |
| :func:`check_ov_vectors` | ``ov_vectors(model) -> (H, n_ctx, X, D)`` |
"""

from __future__ import annotations

import numpy as np

from .. import processes
from ..beliefs import belief_trajectories
from ..hmm import HMM
from ._core import (
    Case,
    Mistake,
    as_array,
    as_float,
    close,
    describe_difference,
    describe_shapes,
    judge,
    run,
)
from .ch01 import random_hmms

__all__ = ["check_constrained_update", "check_fit_decay_rate", "check_heads_needed",
           "check_ov_vectors", "check_propagated_update", "check_spectral_projectors"]



def _complex_list(values, decimals: int) -> str:
    """Eigenvalues rounded for a message, largest modulus first (LAPACK's order changes with
    the CPU's kernels), with no signed zeros: [1, -0.5+0.866i, -0.5-0.866i, 0]."""
    zs = sorted(np.asarray(values, dtype=complex).ravel(),
                key=lambda z: (-round(abs(z), 9), -round(z.real, 9), -round(z.imag, 9)))
    out = []
    for z in zs:
        re, im = (round(float(v), decimals) + 0.0 for v in (z.real, z.imag))
        out.append(f"{re:g}" if im == 0 else f"{re:g}{im:+g}i")
    return "[" + ", ".join(out) + "]"

def _mess3_cases():
    return [(f"Mess3(x={x}, α={a})", processes.mess3(x, a))
            for x, a in [(0.15, 0.6), (0.5, 0.2), (0.05, 0.85)]]


# ---------------------------------------------------------------------------- projectors
def _reference_spectrum(T):
    values, V = np.linalg.eig(T)
    order = np.lexsort((-values.real, -np.abs(values)))
    W = np.linalg.inv(V)
    return values[order], V[:, order], W[order]


def _projector_matrices():
    """(label, T) for net matrices, all diagonalisable, some non-symmetric, one complex."""
    out = [(f"the net matrix of {name}", hmm.transition_matrix) for name, hmm in _mess3_cases()]
    out.append(("the net matrix of RRXOR", processes.rrxor().transition_matrix))
    for name, hmm in random_hmms(701, 4):
        out.append((f"the net matrix of {name}", hmm.transition_matrix))
    return out


def _test_spectral_projectors(fn):
    for label, T in _projector_matrices():
        S = len(T)
        answer = fn(T.copy())
        if not isinstance(answer, tuple) or len(answer) != 2:
            raise Mistake(f"For {label}: return a pair (eigenvalues, projectors), got "
                          f"{type(answer).__name__}.")
        values = np.asarray(answer[0])
        projs = np.asarray(answer[1])
        if values.shape != (S,) or projs.shape != (S, S, S):
            raise Mistake(f"For {label}: eigenvalues {describe_shapes(values.shape, (S,))}; "
                          f"projectors {describe_shapes(projs.shape, (S, S, S))} (one S × S "
                          "projector per eigenvalue).")
        ref, _, _ = _reference_spectrum(T)
        if np.iscomplexobj(ref) and np.abs(ref.imag).max() > 1e-9 and (
                not np.iscomplexobj(values) or np.abs(values.imag).max() < 1e-9):
            raise Mistake(f"For {label}: T has complex eigenvalues {_complex_list(ref, 3)} but "
                          "yours "
                          "are real: you dropped the imaginary parts. Keep them complex "
                          "(RRXOR's e^(±2πi/3) is exactly what breaks the ansatz).")
        if not np.allclose(np.sort_complex(np.round(values, 9)),
                           np.sort_complex(np.round(ref, 9)), rtol=1e-6, atol=1e-7):
            raise Mistake(f"For {label}: expected eigenvalues {_complex_list(ref, 4)}, got "
                          f"{np.round(values, 4)}.")
        if not close(np.abs(values), np.abs(ref), rtol=1e-6, atol=1e-7):
            raise Mistake(f"For {label}: eigenvalues {np.round(values, 4)} are not sorted by "
                          "decreasing modulus; sort them (and the projectors with them), e.g. "
                          "order = np.argsort(-np.abs(values)).")
        eye = np.eye(S)
        for k in range(S):
            P, lam = projs[k], values[k]
            if not np.allclose(T @ P, lam * P, atol=1e-7):
                if np.allclose(T @ P.T, lam * P.T, atol=1e-7):
                    raise Mistake(f"For {label}: projector {k} is the transpose of the right one. "
                                  "P_k = r_k l_k is a column (right eigenvector r_k, a column of "
                                  "V) times a row (left eigenvector l_k, a row of V⁻¹), so that "
                                  "T P_k = λ_k P_k.")
                raise Mistake(f"For {label}: projector {k} is not an eigen-projector of "
                              f"eigenvalue {np.round(lam, 4)}: T P ≠ λP.")
            if not np.allclose(P @ P, P, atol=1e-7):
                if np.allclose(P, P.T, atol=1e-9) and not np.allclose(T, T.T):
                    raise Mistake(f"For {label}: projector {k} is symmetric but not idempotent "
                                  "(P P ≠ P): you used r_k r_kᵀ. For a non-symmetric T use the "
                                  "left eigenvector l_k, a row of V⁻¹: P_k = outer(V[:, k], "
                                  "inv(V)[k]).")
                c = np.trace(P @ P) / np.trace(P) if abs(np.trace(P)) > 1e-12 else np.nan
                if np.isfinite(c) and np.allclose(P @ P, c * P, atol=1e-7):
                    # the factor c is LAPACK's arbitrary eigenvector scale: never quote it
                    raise Mistake(f"For {label}: projector {k} is not idempotent: P P is a "
                                  "multiple of P, not P itself, so the eigenvectors are not "
                                  "scaled to each other. Scale the left eigenvector so that "
                                  "l_k · r_k = 1 — the rows of V⁻¹ are already scaled that "
                                  "way.")
                raise Mistake(f"For {label}: projector {k} is not idempotent (P P ≠ P): build "
                              "it as r_k l_k with l_k · r_k = 1 — the rows of V⁻¹ are already "
                              "scaled that way.")
        if not np.allclose(projs.sum(0), eye, atol=1e-7):
            if all(np.allclose(P, P.T, atol=1e-9) for P in projs):
                raise Mistake(f"For {label}: the projectors do not add up to the identity, and "
                              "each is symmetric: you used r_k r_kᵀ. Eigenvectors of a repeated "
                              "eigenvalue need not be orthogonal; use the left eigenvector l_k, "
                              "a row of V⁻¹: P_k = outer(V[:, k], inv(V)[k]).")
            raise Mistake(f"For {label}: the projectors do not add up to the identity; take the "
                          "left eigenvectors as the rows of V⁻¹.")
        if not np.allclose(np.einsum("k,kij->ij", values, projs), T, atol=1e-7):
            raise Mistake(f"For {label}: Σ λ_k P_k does not give back T.")
    return ("eigenvalues sorted by modulus, and projectors that are idempotent, add up to I and "
            "rebuild T, on Mess3, RRXOR (complex) and random HMMs.")


def check_spectral_projectors(fn):
    """``spectral_projectors(T) -> (eigenvalues (S,), projectors (S, S, S))``."""
    return run("spectral_projectors", _test_spectral_projectors, fn)


# ---------------------------------------------------------------------------- constrained update
def _one_token_posteriors(T, pi, normalise=True):
    post = np.einsum("s,zst->zt", pi, T)
    return post / post.sum(1, keepdims=True) if normalise else post


def _exact(T, pi, tokens):
    """Exact beliefs after 1..L tokens from prior ``pi``."""
    return belief_trajectories(HMM(T), np.asarray(tokens)[None], prior=pi)[0, 1:]


def _weighted_sum(u, tokens, weights):
    """``out[d-1] = sum_{s<=d} weights(d, s) * u[tokens[s-1]]``."""
    L = len(tokens)
    out = np.zeros((L, u.shape[1]))
    for d in range(1, L + 1):
        for s in range(1, d + 1):
            out[d - 1] += weights(d, s) * u[tokens[s - 1]]
    return out


def _update_variants(T, pi, tokens, rate):
    """The reference and what each known mistake returns."""
    u = _one_token_posteriors(T, pi) - pi
    L = len(tokens)
    ref = pi + _weighted_sum(u, tokens, lambda d, s: rate ** (d - s))
    norm = np.cumsum(np.abs(rate) ** np.arange(L))[:, None]
    exact = _exact(T, pi, tokens)
    return ref, {
        "no_subtract": pi + _weighted_sum(u + pi, tokens, lambda d, s: rate ** (d - s)),
        "off_by_one": pi + _weighted_sum(u, tokens, lambda d, s: rate ** (d - s + 1)),
        "reversed": pi + _weighted_sum(u, tokens, lambda d, s: rate ** (s - 1)),
        "unnormalised": pi + _weighted_sum(_one_token_posteriors(T, pi, False) - pi, tokens,
                                           lambda d, s: rate ** (d - s)),
        "exact": exact,
        "softmax": pi + (ref - pi) / norm,
    }


_UPDATE_DIAGNOSES = {
    "no_subtract": "You added π^(z) itself: each token contributes its deviation u_z = π^(z) − π.",
    "off_by_one": "Off by one in the exponent: the current token (s = d) has weight rate^0 = 1, "
                  "the token k steps back rate^k.",
    "reversed": "The weights decay with the wrong index: a token's weight is rate^(d − s), its "
                "distance back from the current position d, not rate^(s − 1).",
    "unnormalised": "π^(z) = π T^(z) / (π T^(z) 1): divide by the probability of the token.",
    "exact": "That is the exact belief (Bayes' rule applied step by step, a recurrence). The "
             "constrained update adds each token's *separate* update: r_d = π + Σ_s "
             "rate^(d−s) u_{z_s}.",
    "softmax": "You divided by Σ_k |rate|^k (the softmax normalisation). The update asked for "
               "here is the plain sum; the normalised one is a separate question in the chapter.",
}


def _update_inputs(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for x, a in [(0.15, 0.6), (0.5, 0.2), (0.05, 0.85)]:
        hmm = processes.mess3(x, a)
        tokens = hmm.sample(1, 6, seed=rng)[0][0]
        cases.append((f"Mess3(x={x}, α={a}), tokens {tokens.tolist()}, rate ζ = {1 - 3 * x:+.2f}",
                      hmm.T, hmm.stationary(), tokens, 1 - 3 * x))
    for name, hmm in random_hmms(702, 3):
        tokens = hmm.sample(1, 5, seed=rng)[0][0]
        rate = float(rng.uniform(-0.8, 0.8))
        cases.append((f"{name}, tokens {tokens.tolist()}, rate {rate:.3f}", hmm.T,
                      hmm.stationary(), tokens, rate))
    return cases


def _test_constrained_update(fn):
    cases = []
    for label, T, pi, tokens, rate in _update_inputs(703):
        got = as_array(fn(T.copy(), pi.copy(), tokens.copy(), rate), "constrained_update")
        ref, variants = _update_variants(T, pi, tokens, rate)
        L = len(tokens)
        if got.shape == (L + 1, ref.shape[1]) and close(got[1:], ref):
            raise Mistake(f"For {label}: you returned L + 1 = {L + 1} rows including the "
                          "prior; return r after 1, 2, …, L tokens (L rows).")
        cases.append(Case(f"For {label}", got, ref,
                          [(k, v, _UPDATE_DIAGNOSES[k]) for k, v in variants.items()],
                          advice="Check u_z = π^(z) − π and the weight rate^(d − s)."))
    judge(cases)
    return "r_d = π + Σ_s rate^(d−s) u_{z_s} on Mess3 (ζ > 0 and ζ < 0) and random HMMs."


def check_constrained_update(fn):
    """``constrained_update(T, pi, tokens, rate) -> r (L, S)``."""
    return run("constrained_update", _test_constrained_update, fn)


# ---------------------------------------------------------------------------- propagated update
def _propagated_variants(T, pi, tokens):
    u = _one_token_posteriors(T, pi) - pi
    M = T.sum(0)
    powers = [np.linalg.matrix_power(M, k) for k in range(len(tokens) + 2)]
    L = len(tokens)

    def total(u_rows, power):
        out = np.zeros((L, len(pi)))
        for d in range(1, L + 1):
            for s in range(1, d + 1):
                out[d - 1] += u_rows[tokens[s - 1]] @ power(d - s)
        return out

    ref = pi + total(u, lambda n: powers[n])
    eig = np.linalg.eigvals(M)
    eig = eig[np.argsort(-np.abs(eig))]
    second = eig[1] if len(eig) > 1 else 0.0
    zeta = float(second.real)
    return ref, {
        "scalar": pi + total(u, lambda n: zeta ** n * np.eye(len(pi))),
        "transpose": pi + total(u, lambda n: powers[n].T),
        "off_by_one": pi + total(u, lambda n: powers[n + 1]),
        "no_subtract": pi + total(u + pi, lambda n: powers[n]),
        "exact": _exact(T, pi, tokens),
    }


_PROPAGATED_DIAGNOSES = {
    "scalar": "You replaced T^(d−s) by (second eigenvalue)^(d−s). That is only right when "
              "T = ζI + (1−ζ)1π (Mess3); in general propagate the deviation with the matrix "
              "power: u_z @ matrix_power(T, d − s).",
    "transpose": "u_z is a row vector (a distribution's deviation): propagate it as u_z @ T^n, "
                 "not T^n @ u_z (that uses the transpose).",
    "off_by_one": "Off by one: the current token is not propagated at all (T^0 = I); a token k "
                  "steps back gets T^k.",
    "no_subtract": "You propagated π^(z) and added it: each token contributes only its deviation "
                   "u_z = π^(z) − π.",
    "exact": "That is the exact belief (a recurrence); the constrained update sums each token's "
             "separate, propagated update.",
}


def _test_propagated_update(fn):
    rng = np.random.default_rng(704)
    inputs = []
    rr = processes.rrxor()
    inputs.append(("RRXOR, tokens [0, 1, 1, 0, 1, 0]", rr.T, rr.stationary(),
                   np.array([0, 1, 1, 0, 1, 0])))
    for name, hmm in _mess3_cases()[:2] + random_hmms(705, 3):
        tokens = hmm.sample(1, 5, seed=rng)[0][0]
        inputs.append((f"{name}, tokens {tokens.tolist()}", hmm.T, hmm.stationary(), tokens))
    cases = []
    for label, T, pi, tokens in inputs:
        got = as_array(fn(T.copy(), pi.copy(), tokens.copy()), "propagated_update")
        ref, variants = _propagated_variants(T, pi, tokens)
        cases.append(Case(f"For {label}", got, ref,
                          [(k, v, _PROPAGATED_DIAGNOSES[k]) for k, v in variants.items()],
                          advice="r_d = π + Σ_s u_{z_s} T^(d−s), with T = Σ_z T^(z)."))
    judge(cases)
    return "r_d = π + Σ_s u_{z_s} T^(d−s) on RRXOR, Mess3 and random HMMs."


def check_propagated_update(fn):
    """``propagated_update(T, pi, tokens) -> r (L, S)`` with ``T^(d-s)`` propagation."""
    return run("propagated_update", _test_propagated_update, fn)


# ---------------------------------------------------------------------------- heads
def _matrix_with_spectrum(values, seed):
    """A real matrix with rows summing to 1 and the given real eigenvalues (values[0] = 1)."""
    rng = np.random.default_rng(seed)
    S = len(values)
    V = np.eye(S) + 0.3 * rng.normal(size=(S, S))
    V[:, 0] = 1.0
    return V @ np.diag(values) @ np.linalg.inv(V)


def _heads_cases():
    cases = [(f"the net matrix of {name}", hmm.transition_matrix, 1 if x < 1 / 3 else 2)
             for (name, hmm), x in zip(_mess3_cases(), (0.15, 0.5, 0.05))]
    cases.append(("the net matrix of Mess3(x=1/3, α=0.6) (no memory)",
                  processes.mess3(1 / 3, 0.6).transition_matrix, 0))
    for values, seed in [((1, 0.6, 0.2), 1), ((1, 0.5, -0.3, 0.0), 2), ((1, -0.4, -0.4, 0.7), 3),
                         ((1, 0.8, 0.8, 0.8, -0.5), 4)]:
        T = _matrix_with_spectrum(values, seed)
        distinct = {v for v in values[1:] if v != 0}
        want = sum(1 if v > 0 else 2 for v in distinct)
        cases.append((f"a matrix with eigenvalues {list(values)}", T, want))
    return cases


def _heads_variants(T):
    eig = np.linalg.eigvals(T)
    real = eig.real
    nonunit = real[np.abs(eig - 1) > 1e-9]
    distinct = np.unique(np.round(nonunit, 9))
    nz = distinct[np.abs(distinct) > 1e-9]
    return {
        "count_one": int(np.sum(np.where(np.append(nz, 1.0) > 0, 1, 2))),
        "ignore_sign": len(nz),
        "multiplicity": int(np.sum(np.where(nonunit[np.abs(nonunit) > 1e-9] > 0, 1, 2))),
        "count_zero": int(np.sum(np.where(distinct > 1e-9, 1, 2))) if np.any(
            np.abs(distinct) <= 1e-9) else None,
    }


_HEADS_DIAGNOSES = {
    "count_one": "You counted the eigenvalue 1: it is the stationary part 1π, which every "
                 "update shares; it needs no head.",
    "ignore_sign": "A negative eigenvalue λ gives weights λ^n that alternate in sign; softmax "
                   "weights are positive, so it needs two heads (even and odd distances, "
                   "opposite OV signs).",
    "multiplicity": "Count *distinct* eigenvalues: a repeated eigenvalue (Mess3's double ζ) has "
                    "one projector and one decay rate, so one head pattern serves all its "
                    "directions.",
    "count_zero": "The eigenvalue 0 contributes only at distance 0 (0^0 = 1), i.e. the current "
                  "token, which the residual stream already holds: it needs no head.",
}


def _test_heads_needed(fn):
    cases = []
    for label, T, want in _heads_cases():
        got = fn(T.copy())
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise Mistake(f"For {label}: return an int (the number of heads), got "
                          f"{type(got).__name__} {got!r}.")
        variants = _heads_variants(T)
        cases.append(Case(f"For {label}", int(got), want,
                          [(k, v, _HEADS_DIAGNOSES[k]) for k, v in variants.items()],
                          advice="Count the distinct non-zero eigenvalues other than 1: one "
                                 "head if positive, two if negative."))
    judge(cases)
    rr = processes.rrxor().transition_matrix
    try:
        got = fn(rr.copy())
    except ValueError:
        pass
    else:
        raise Mistake(f"For RRXOR you returned {got!r}, but its net matrix has complex "
                      "eigenvalues e^(±2πi/3): their contribution oscillates with distance and no "
                      "positive attention pattern produces it. Raise ValueError there.")
    return "one head per positive and two per negative distinct eigenvalue; RRXOR rejected."


def check_heads_needed(fn):
    """``heads_needed(T_net) -> int``; ``ValueError`` for complex spectra."""
    return run("heads_needed", _test_heads_needed, fn)


# ---------------------------------------------------------------------------- decay fit
def _decay_inputs():
    rng = np.random.default_rng(706)
    out = []
    n = 10
    for rate, noise, first in [(0.55, 0.0, 0.15), (0.85, 0.05, 0.3), (0.3, 0.1, 0.05),
                               (0.5, 0.2, 0.2)]:
        d = np.arange(n)
        a = rate ** d * np.exp(noise * rng.normal(size=n))
        a[0] = first
        a = a / a.sum()
        out.append((f"attention decaying at {rate} (noise {noise}, distance 0 set apart)", a,
                    np.arange(1, 6)))
    out.append(("the same with distances 2, 4, 6 (an even head)", out[1][1], np.array([2, 4, 6])))
    return out


def _decay_variants(a, ds):
    log_fit = np.polyfit(ds, np.log(a[ds]), 1)[0]
    return np.exp(log_fit), {
        "linear": float(np.exp(np.polyfit(ds, a[ds], 1)[0])),
        "log_rate": float(log_fit),
        "from_zero": float(np.exp(np.polyfit(ds, np.log(a[:len(ds)]), 1)[0])),
        "one_ratio": float(a[ds[1]] / a[ds[0]]) if ds[1] - ds[0] == 1 else None,
        "swapped": float(np.exp(1 / np.polyfit(np.log(a[ds]), ds, 1)[0])),
        "log10": float(np.exp(np.polyfit(ds, np.log10(a[ds]), 1)[0])),
    }


_DECAY_DIAGNOSES = {
    "linear": "You fitted the attention itself with a straight line; geometric decay is a "
              "straight line in log(attention): fit log a_d = c + d log r.",
    "log_rate": "You returned the slope log r; return the rate r = exp(slope).",
    "from_zero": "You used the first entries of the attention, not the entries at the given "
                 "distances: index attention[distances].",
    "one_ratio": "You used one ratio of neighbouring values; fit all the given distances by "
                 "least squares (one ratio is at the mercy of noise).",
    "swapped": "You regressed distance on log attention; regress log attention on distance "
               "(np.polyfit(distances, np.log(a[distances]), 1)).",
    "log10": "You mixed logarithms: log10 for the fit and exp to undo it. Use np.log with "
             "np.exp (or 10 ** slope with log10).",
}


def _test_fit_decay_rate(fn):
    cases = []
    for label, a, ds in _decay_inputs():
        got = as_float(fn(a.copy(), ds.copy()), "fit_decay_rate")
        ref, variants = _decay_variants(a, ds)
        cases.append(Case(f"For {label}", got, ref,
                          [(k, v, _DECAY_DIAGNOSES[k]) for k, v in variants.items()],
                          advice="Fit log(attention[distances]) = c + distances · log r by "
                                 "least squares and return r."))
    judge(cases)
    return "the least-squares log-linear rate, on clean, noisy and even-distance profiles."


def check_fit_decay_rate(fn):
    """``fit_decay_rate(attention (n,), distances (k,)) -> float``."""
    return run("fit_decay_rate", _test_fit_decay_rate, fn)


# ---------------------------------------------------------------------------- OV vectors
def _ov_model():
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
    return model.eval()


def _ov_variants(model):
    import torch

    from ..mechanism import ov_vectors

    ref = ov_vectors(model)
    blk = model.blocks[0]
    H, dh = model.cfg.n_heads, model.cfg.d_head
    with torch.no_grad():
        E = model.embed.weight.double()
        P = model.pos_embed.weight.double()
        pre = E[None] + P[:, None]
        ln = blk.ln1
        normed = torch.nn.functional.layer_norm(pre, ln.normalized_shape, ln.weight.double(),
                                                ln.bias.double(), ln.eps)
        no_pos = torch.nn.functional.layer_norm(E[None].expand_as(pre), ln.normalized_shape,
                                                ln.weight.double(), ln.bias.double(), ln.eps)
        Wq, bq = blk.attn.qkv.weight.double(), blk.attn.qkv.bias.double()
        Wo, bo = blk.attn.out.weight.double(), blk.attn.out.bias.double()

        def table(x, block=2, bias=True, add_bo=False, transpose_o=False):
            heads = []
            for h in range(H):
                rows = slice(block * H * dh + h * dh, block * H * dh + (h + 1) * dh)
                v = x @ Wq[rows].T + (bq[rows] if bias else 0)
                wo = Wo[h * dh:(h + 1) * dh, :].T if transpose_o else Wo[:, h * dh:(h + 1) * dh]
                out = v @ wo.T
                heads.append(out + bo if add_bo else out)
            return torch.stack(heads).numpy()

        variants = {
            "no_ln": table(pre), "no_bv": table(normed, bias=False),
            "with_bo": table(normed, add_bo=True), "no_pos": table(no_pos),
            "key_block": table(normed, block=1),
            "transpose_o": table(normed, transpose_o=True),
        }
    return ref, variants


_OV_DIAGNOSES = {
    "no_ln": "You skipped the first LayerNorm: the attention reads ln1(W_E + W_pos), so apply "
             "model.blocks[0].ln1 before W_V.",
    "no_bv": "The value bias b_V is missing: v = ln1(W_E + W_pos) W_V + b_V.",
    "with_bo": "You added b_O to every OV vector. b_O is added once per position (after summing "
               "over keys and heads), not once per key: leave it out here.",
    "no_pos": "You used the token embedding alone. The key at position k holds W_E[z] + "
              "W_pos[k], so the OV vector depends on k as well.",
    "key_block": "You took the key rows of the fused qkv matrix. Its output is [q | k | v]: the "
                 "value rows of head h start at 2·H·d_head + h·d_head.",
    "transpose_o": "Wrong slice of W_O: model.blocks[0].attn.out.weight has shape (d_model, "
                   "H·d_head); head h's columns are [:, h·d_head:(h+1)·d_head].",
}


def _test_ov_vectors(fn):
    model = _ov_model()
    ref, variants = _ov_variants(model)
    got = as_array(fn(model), "ov_vectors")
    if got.shape != ref.shape:
        raise Mistake(f"For a 2-head model with n_ctx 6, vocabulary 3, d_model 16: "
                      f"{describe_shapes(got.shape, ref.shape)}; return (heads, positions, "
                      "tokens, d_model).")
    if np.allclose(got, ref, rtol=1e-4, atol=1e-5):              # float32 answers are fine
        return "(ln1(W_E + W_pos) W_V + b_V) W_O for each head, position and token."
    for key, value in variants.items():
        if np.allclose(got, value, rtol=1e-4, atol=1e-5):
            raise Mistake(f"For a 2-head model with random biases: {_OV_DIAGNOSES[key]}")
    raise Mistake("For a 2-head model with random biases: "
                  f"{describe_difference(got, ref)}. "
                  "OV[h, k, z] = (ln1(W_E[z] + W_pos[k]) W_V^h + b_V^h) W_O^h.")


def check_ov_vectors(fn):
    """``ov_vectors(model) -> (H, n_ctx, X, D)``."""
    return run("ov_vectors", _test_ov_vectors, fn)
