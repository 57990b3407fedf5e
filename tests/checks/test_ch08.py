"""Checkers of practice notebook 08: each planted mistake gets its own diagnosis.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``). Solutions passing, stubs "not implemented" and determinism:
test_checks_exercises.py."""

import numpy as np
import pytest
from exercise_utils import Planted, assert_planted, planted_id

from beliefcourse.checks import ch08
from beliefcourse.hmm import HMM
from beliefcourse.mixture import mixture


def _stat(T):
    M = T.sum(0)
    vals, vecs = np.linalg.eig(M.T)
    v = np.real(vecs[:, np.argmin(abs(vals - 1))])
    return v / v.sum()


# ---------------------------------------------------------------------------- 8.1
def _meta(tokens, Ts, w, *, prior=True, uniform=False, norm=True, transpose=False,
          skip=False, iid=False, raw=False):
    logs = []
    toks = list(tokens)[1:] if skip else list(tokens)
    for T in Ts:
        b = np.full(T.shape[1], 1 / T.shape[1]) if uniform else _stat(T)
        if raw:
            for x in toks:
                b = b @ T[x]
            logs.append(np.log(b.sum()) if b.sum() > 0 else -np.inf)
            continue
        if iid:
            e = b @ T.sum(2).T
            logs.append(sum(np.log(e[x]) for x in toks))
            continue
        s = 0.0
        for x in toks:
            v = b @ (T[x].T if transpose else T[x])
            s += np.log(v.sum())
            b = v / v.sum()
        logs.append(s)
    lw = np.log(w) if prior else np.zeros(len(Ts))
    a = lw + np.array(logs)
    if raw:
        p = np.exp(a)
        return p / p.sum()
    if not norm:
        return np.exp(a)
    return np.exp(a - a.max()) / np.exp(a - a.max()).sum()


META = [
    Planted("meta_belief", "leaves out the prior weights",
            lambda u, Ts, w: _meta(u, Ts, w, prior=False), r"left out the prior"),
    Planted("meta_belief", "starts each world from the uniform distribution",
            lambda u, Ts, w: _meta(u, Ts, w, uniform=True), r"stationary distribution pi_k"),
    Planted("meta_belief", "returns w_k P_k(u) without normalising",
            lambda u, Ts, w: _meta(u, Ts, w, norm=False), r"does not sum to 1"),
    Planted("meta_belief", "multiplies by T[x] transposed",
            lambda u, Ts, w: _meta(u, Ts, w, transpose=True), r"transposed"),
    Planted("meta_belief", "skips the first token",
            lambda u, Ts, w: _meta(u, Ts, w, skip=True), r"skipped the first token"),
    Planted("meta_belief", "treats tokens as independent draws from pi_k's emissions",
            lambda u, Ts, w: _meta(u, Ts, w, iid=True), r"independent tokens"),
    Planted("meta_belief", "multiplies raw probabilities (underflows on 1,000 tokens)",
            lambda u, Ts, w: _meta(u, Ts, w, raw=True), r"underflow"),
]


def test_meta_reference_agrees_with_the_package():
    rng = np.random.default_rng(0)
    Ts = [ch08._random_hmm(rng, 3, 2), ch08._random_hmm(rng, 3, 3)]
    u = rng.integers(0, 3, 7)
    mix = mixture([HMM(T) for T in Ts], [0.3, 0.7])
    np.testing.assert_allclose(ch08._meta(u, Ts, [0.3, 0.7]), mix.filter(u[None]).meta[0, -1],
                               atol=1e-12)


# ---------------------------------------------------------------------------- 8.2
def _kl(p, q):
    return float((p * np.log(p / q)).sum())


def _gap(m, P, *, reverse=False, equal=False, uniform=False, bits=False, sign=False):
    mix = (np.full(len(m), 1 / len(m)) if uniform else m) @ P
    wts = np.full(len(m), 1 / len(m)) if equal else m
    val = sum(wk * (_kl(mix, p) if reverse else _kl(p, mix)) for wk, p in zip(wts, P))
    return -val if sign else val / np.log(2) if bits else val


GAP = [
    Planted("incontext_gap", "KL the wrong way round",
            lambda m, P: _gap(m, P, reverse=True), r"wrong way round"),
    Planted("incontext_gap", "averages over worlds with equal weights",
            lambda m, P: _gap(m, P, equal=True), r"equal weights"),
    Planted("incontext_gap", "Bayes predictor = plain average of the worlds",
            lambda m, P: _gap(m, P, uniform=True), r"plain average"),
    Planted("incontext_gap", "answers in bits", lambda m, P: _gap(m, P, bits=True), r"bits"),
    Planted("incontext_gap", "oracle minus Bayes (negative)",
            lambda m, P: _gap(m, P, sign=True), r"Wrong sign"),
]


def test_gap_entropy_identity_passes():
    def by_entropies(m, P):
        def h(p):
            return -(p * np.log(p)).sum()
        return h(m @ P) - sum(mk * h(p) for mk, p in zip(m, P))
    assert ch08.check_incontext_gap(by_entropies)


# ---------------------------------------------------------------------------- 8.3
def _logz(lam, p, q):
    return np.log((p ** lam * q ** (1 - lam)).sum())


def _grid_min(p, q):
    lams = np.linspace(0, 1, 200_001)
    vals = np.log((p[None] ** lams[:, None] * q[None] ** (1 - lams[:, None])).sum(1))
    return lams[vals.argmin()], vals.min()


CHERNOFF = [
    Planted("chernoff_information", "lambda fixed at 1/2 (Bhattacharyya)",
            lambda p, q: -_logz(0.5, p, q), r"Bhattacharyya"),
    Planted("chernoff_information", "returns KL(p || q)", lambda p, q: _kl(p, q),
            r"KL\(p \|\| q\)"),
    Planted("chernoff_information", "forgets the minus sign",
            lambda p, q: _grid_min(p, q)[1], r"Wrong sign"),
    Planted("chernoff_information", "answers in bits",
            lambda p, q: -_grid_min(p, q)[1] / np.log(2), r"bits"),
    Planted("chernoff_information", "returns the minimising lambda",
            lambda p, q: _grid_min(p, q)[0], r"minimising lam"),
    Planted("chernoff_information", "maximises over lambda (returns 0)",
            lambda p, q: -max(_logz(0.0, p, q), _logz(1.0, p, q)), r"MINIMUM"),
]


def test_chernoff_grid_solution_passes():
    assert ch08.check_chernoff_information(lambda p, q: -_grid_min(p, q)[1])


# ---------------------------------------------------------------------------- 8.4
def _fit(x, y):
    return np.polyfit(x, y, 1)[0]


EXPONENT = [
    Planted("decay_exponent", "returns the slope (negative)",
            lambda t, g: _fit(np.log(t), np.log(g)), r"Wrong sign"),
    Planted("decay_exponent", "fits ln gap against t (an exponential rate)",
            lambda t, g: -_fit(t, np.log(g)), r"EXPONENTIAL"),
    Planted("decay_exponent", "regresses ln t on ln gap",
            lambda t, g: -_fit(np.log(g), np.log(t)), r"axes swapped"),
    Planted("decay_exponent", "regresses the gap itself on ln t",
            lambda t, g: -_fit(np.log(t), g), r"logarithm of the gap"),
    Planted("decay_exponent", "log10 of the gap against ln t",
            lambda t, g: -_fit(np.log(t), np.log10(g)), r"bases"),
]


def test_exponent_lstsq_solution_passes():
    def by_lstsq(t, g):
        A = np.stack([np.ones_like(t), np.log(t)], 1)
        return -np.linalg.lstsq(A, np.log(g), rcond=None)[0][1]
    assert ch08.check_decay_exponent(by_lstsq)


# ---------------------------------------------------------------------------- 8.5
def _first(share, thr, strict=False, zero=False):
    hit = np.flatnonzero(share > thr if strict else share >= thr)
    return None if not len(hit) else int(hit[0]) + (0 if zero else 1)


def _right(meta, comps):
    return (meta.argmax(-1) == comps[:, None]).mean(0)


def _averaged(meta, comps, thr):
    K = meta.shape[-1]
    avg = np.stack([meta[comps == k].mean(0) for k in range(K)])     # (K, L, K)
    share = (avg.argmax(-1) == np.arange(K)[:, None]).mean(0)
    return _first(share, thr)


KNOWING = [
    Planted("knowing_time", "returns the 0-based position",
            lambda m, c, thr: _first(_right(m, c), thr, zero=True), r"Off by one"),
    Planted("knowing_time", "uses the meta-belief's confidence",
            lambda m, c, thr: _first(m.max(-1).mean(0), thr), r"confident"),
    Planted("knowing_time", "compares with world 0 for every sequence",
            lambda m, c, thr: _first((m.argmax(-1) == 0).mean(0), thr), r"world 0"),
    Planted("knowing_time", "averages meta-beliefs over sequences first",
            _averaged, r"averaged the meta-beliefs"),
    Planted("knowing_time", "requires the share to exceed the threshold",
            lambda m, c, thr: _first(_right(m, c), thr, strict=True), r"EXCEED"),
]

PLANTED = META + GAP + CHERNOFF + EXPONENT + KNOWING


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch08, planted)
