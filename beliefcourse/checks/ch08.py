"""Exercises of practice notebook 08 (in-context learning as belief updating over worlds)."""

from functools import partial

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import softmax

from .. import distinguish, mixture, processes
from ..hmm import HMM
from ..information import entropy
from ._core import Exercise, as_float, close


def _meta_cases():
    rng = np.random.default_rng(81)
    A, B, C = ((lambda T: T / T.sum(axis=(0, 2), keepdims=True))(
        rng.random((3, S, S)) ** 3 + 0.02) for S in (2, 3, 4))
    m1, m2 = processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)
    return [("For two random HMMs (2 and 3 states), weights (0.3, 0.7), 6 tokens",
             ([A, B], np.array([0.3, 0.7]), rng.integers(0, 3, 6))),
            ("For three random HMMs (2, 3, 4 states), weights (0.5, 0.2, 0.3), 9 tokens",
             ([A, B, C], np.array([0.5, 0.2, 0.3]), rng.integers(0, 3, 9))),
            ("For Mess3(0.05, 0.85) and Mess3(0.15, 0.6), weights (0.4, 0.6), 1,000 tokens",
             ([m1.T, m2.T], np.array([0.4, 0.6]), m1.sample(1, 1000, seed=8)[0][0]))]


@np.errstate(all="ignore")
def _meta(Ts, weights, tokens, prior=True, uniform=False, normalise=True, transpose=False,
          iid=False, skip_first=False, carry=True, logs_out=False, stable=True):
    logs = []
    for T in Ts:
        b, total = np.full(len(T[0]), 1 / len(T[0])) if uniform else HMM(T).stationary(), 0.0
        for x in tokens[1:] if skip_first else tokens:
            v = b @ T.sum(2).T if iid else b @ (T[x].T if transpose else T[x])
            total += np.log(v[x] if iid else v.sum())
            b = b if iid else v / v.sum() if carry else v
        logs.append(total)
    a = (np.log(weights) if prior else 0) + np.array(logs)
    e = np.exp(a - a.max() * stable)          # stable=False: exp(a) / sum exp(a) underflows
    return a if logs_out else e / e.sum() if normalise else np.exp(a)


check_meta_belief = Exercise(
    name="meta_belief", signature="meta_belief(Ts, weights, tokens) -> (K,)",
    cases=_meta_cases, process_first=0, reference=lambda Ts, w, tokens: mixture.mixture(
        [HMM(T) for T in Ts], w).filter(np.asarray(tokens)[None]).meta[0, -1], mistakes=[
        ("multiplies raw probabilities (underflows on 1,000 tokens)", partial(_meta, stable=False),
         "Your meta-belief has NaN or inf entries: P_k of 1,000 tokens underflows. Sum logs and "
         "subtract the maximum before exp.", "", lambda c: not np.isfinite(c.got).all()),
        ("returns the log-posterior", partial(_meta, logs_out=True), "You returned logarithms "
         "(ln w_k + ln P_k(u), up to a constant): exponentiate and normalise.", "",
         lambda c: close(softmax(c.got), c.expected)),
        ("returns w_k P_k(u) without normalising", partial(_meta, normalise=False),
         "You returned w_k P_k(u), which does not sum to 1: divide by sum_j w_j P_j(u)."),
        ("never normalises the carried belief", partial(_meta, carry=False), "You carried the "
         "unnormalised vector while summing its normalisers' logs: divide v by v.sum().", "",
         lambda c: np.allclose(c.got, _meta(*c.args, carry=False), equal_nan=True)),
        ("leaves out the prior weights", partial(_meta, prior=False),
         "You left out the prior: P(k | u) is proportional to w_k P_k(u), not to P_k(u)."),
        ("starts each world from the uniform distribution", partial(_meta, uniform=True),
         "You started from the uniform distribution: start each world from its stationary pi_k."),
        ("multiplies by T[x] transposed", partial(_meta, transpose=True),
         "You multiplied by T[x] transposed: the belief row vector is updated as b @ T[x]."),
        ("treats tokens as independent draws from pi_k's emissions", partial(_meta, iid=True),
         "You treated the tokens as independent: carry the state, P_k(u) = pi_k T[u_1] ... 1."),
        ("skips the first token", partial(_meta, skip_first=True),
         "You skipped the first token: the likelihood includes P_k(u_1) (from pi_k).")],
    advice="P(k | u) = w_k P_k(u) / sum_j w_j P_j(u), P_k(u) = pi_k T_k[u_1] ... 1, in logs.",
    summary="Right on 3 cases (random HMMs, two Mess3 worlds over 1,000 tokens), no underflow.")


def _gap_cases():
    rng = np.random.default_rng(82)
    return [(f"For meta {m}, {len(m)} next-token distributions over {X} tokens",
             (np.array(m), rng.dirichlet(np.ones(X) * a, len(m)))) for m, X, a in [
        ((0.2, 0.8), 3, 1), ((0.5, 0.3, 0.2), 4, 1), ((0.05, 0.15, 0.3, 0.5), 3, 0.7)]] + [(
        "For meta (0.3, 0.7), 2 worlds over 3 tokens, one giving token 2 probability 0",
        (np.array([0.3, 0.7]), np.array([[0.6, 0.4, 0.0], [0.2, 0.3, 0.5]])))]


def _number(value, what):               # as_float, but a NaN is compared (a Known names it)
    return np.nan if isinstance(value, float) and np.isnan(value) else as_float(value, what)


@np.errstate(divide="ignore", invalid="ignore")
def _wrong_gap(m, P, reverse=False, equal=False, uniform=False, zero=0.0):  # gap + a mistake
    even = np.full(len(m), 1 / len(m))
    mix = (even if uniform else m) @ P
    a, b = (mix, P) if reverse else (P, mix)
    kl = np.where(a > 0, a * np.log(np.where(a > 0, a, 1) / b), zero).sum(-1)
    return float((even if equal else m) @ kl)


check_incontext_gap = Exercise(
    name="incontext_gap", signature="incontext_gap(meta, comp_preds) -> float", convert=_number,
    cases=_gap_cases, reference=lambda m, P: float(entropy(m @ P) - m @ entropy(P)), mistakes=[
        ("0 log 0 gives NaN", partial(_wrong_gap, zero=np.nan), "You returned NaN: 0 log 0 counts "
         "as 0, so leave out the terms where p = 0.", "", lambda c: np.isnan(c.got)),
        ("returns H(P) only", lambda m, P: float(entropy(m @ P)), "You returned H(P), the Bayes "
         "predictor's entropy alone: subtract the oracle's loss sum_k m_k H(P_k)."),
        ("KL the wrong way round", partial(_wrong_gap, reverse=True),
         "You computed KL(P || P_k), the wrong way round: the gap is sum_k m_k KL(P_k || P)."),
        ("weighs the worlds equally", partial(_wrong_gap, equal=True), "You weighed the worlds "
         "equally; weight each by its m_k, in the average and in P = sum_k m_k P_k.", "", lambda c:
         any(close(c.got, _wrong_gap(*c.args, equal=e, uniform=u)) for e, u in ((1, 0), (0, 1)))),
        ("answers in bits", lambda m, P: _wrong_gap(m, P) / np.log(2),
         "You answered in bits (log base 2). The course works in nats: use np.log."),
        ("oracle minus Bayes (negative)", lambda m, P: -_wrong_gap(m, P),
         "Wrong sign: the gap is the Bayes loss minus the oracle loss, never negative.")],
    advice="gap = sum_k m_k KL(P_k || P), P = sum_k m_k P_k (= H(P) - sum_k m_k H(P_k)), in nats.",
    summary="Right on 4 cases (2 to 4 worlds, a zero probability included), in nats.")


def _chernoff(p, q):                    # the Chernoff rate of two i.i.d. processes
    return float(distinguish.chernoff_rate(HMM(p[:, None, None]), HMM(q[:, None, None]), 1))


def _minimiser(p, q):
    return minimize_scalar(lambda lam: np.log((p ** lam * q ** (1 - lam)).sum()),
                           bounds=(0, 1), method="bounded", options={"xatol": 1e-12}).x


check_chernoff_information = Exercise(
    name="chernoff_information", signature="chernoff_information(p, q) -> float",
    cases=lambda: [(f"For p = {p}, q = {q}", (np.array(p), np.array(q))) for p, q in [
        ((0.7, 0.2, 0.1), (0.1, 0.3, 0.6)), ((0.9, 0.1), (0.4, 0.6)),
        ((0.5, 0.25, 0.2, 0.05), (0.05, 0.15, 0.3, 0.5)), ((0.6, 0.4), (0.001, 0.999))]],
    reference=_chernoff, convert=as_float, mistakes=[
        ("returns the minimising lambda", _minimiser, "You returned the minimising lam, not "
         "minus the minimum value.", "", lambda c: close(c.got, _minimiser(*c.args), atol=1e-3)),
        ("maximises over lambda (returns 0)", lambda p, q: 0.0, "You returned 0, the MAXIMUM over "
         "lam of ln sum_x p^lam q^(1-lam): take minus its minimum.", "", lambda c: c.got == 0),
        ("lam fixed at 1/2 (Bhattacharyya) or a coarse grid", lambda p, q: -np.log(np.sqrt(
            p * q).sum()), "Your value is too low: minimise over lam in [0, 1] precisely (not lam "
         "= 1/2, the Bhattacharyya distance, nor a coarse grid).", "",
         lambda c: 0.5 * c.expected < c.got < c.expected),
        ("returns KL(p || q)", lambda p, q: (p * np.log(p / q)).sum(), "You returned KL(p || q), "
         "the rate of a typical sequence's evidence; Chernoff information is smaller."),
        ("forgets the minus sign", lambda p, q: -_chernoff(p, q),
         "Wrong sign: Chernoff information is MINUS the minimum, a positive number."),
        ("answers in bits", lambda p, q: _chernoff(p, q) / np.log(2),
         "You answered in bits (log base 2). The course works in nats: use np.log.")],
    advice="C(p, q) = -min over lam in [0, 1] of ln sum_x p^lam q^(1-lam) (minimize_scalar).",
    summary="Right on 4 cases, in nats.")


def _exponent_cases():
    rng = np.random.default_rng(84)
    t1, t2, t3 = np.arange(8, 41.0), np.arange(4, 20.0), np.arange(10, 65.0, 3)
    return [("For gap = 0.5 / t with 3 % noise, t = 8..40",
             (t1, 0.5 / t1 * np.exp(rng.normal(0, 0.03, len(t1))))),
            ("For gap = 2 t^-1.5 with 10 % noise, t = 4..19",
             (t2, 2 * t2 ** -1.5 * np.exp(rng.normal(0, 0.1, len(t2))))),
            ("For gap = 0.1 exp(-0.05 t), t = 10..64, step 3", (t3, 0.1 * np.exp(-0.05 * t3)))]


def _fit(x, y, k=0):                    # np.polyfit's slope (k = 0) or intercept (k = 1)
    return np.polyfit(x, y, 1)[k]


check_decay_exponent = Exercise(
    name="decay_exponent", signature="decay_exponent(t, gap) -> float", cases=_exponent_cases,
    reference=lambda t, g: -_fit(np.log(t), np.log(g)), convert=as_float, mistakes=[
        ("returns the slope (negative)", lambda t, g: _fit(np.log(t), np.log(g)),
         "Wrong sign: the exponent a of gap ~ t^-a is MINUS the slope of ln gap on ln t."),
        ("fits the wrong variables", lambda t, g: -_fit(t, np.log(g)), "You fitted other "
         "variables (ln gap on t, the gap on ln t, or ln t on ln gap): regress ln gap on ln t.", "",
         lambda c: (lambda t, g: any(close(c.got, -_fit(x, y)) for x, y in (
             (t, np.log(g)), (np.log(t), g), (np.log(g), np.log(t)))))(*c.args)),
        ("log10 of the gap against ln t", lambda t, g: -_fit(np.log(t), np.log10(g)),
         "You mixed logarithm bases (log10 on one axis, ln on the other): use one base.", "",
         lambda c: any(close(c.got, c.expected * f) for f in (np.log(10), 1 / np.log(10)))),
        ("uses the two end points only", lambda t, g: -np.log(g[-1] / g[0]) / np.log(
            t[-1] / t[0]), "You used the two end points only: fit all points by least squares."),
        ("returns the intercept", lambda t, g: -_fit(np.log(t), np.log(g), 1),
         "You returned the fit's intercept, not its slope: np.polyfit returns [slope, "
         "intercept].", "", lambda c: close(abs(c.got), abs(_fit(*np.log(c.args), 1))))],
    advice="Fit ln gap = c - a ln t by least squares (np.polyfit(np.log(t), np.log(gap), 1)).",
    summary="Right on 3 cases (two power laws with noise, one exponential decay).")


def _knowing_cases():  # evidence grows (never enough in case 3); a share at the threshold counts
    rng, out = np.random.default_rng(85), []
    for N, L, K, thr, strength in ((40, 12, 2, .75, .35), (60, 10, 3, .8, .9), (30, 8, 3, .9, 0)):
        comps = rng.integers(0, K, N)
        evidence = np.cumsum(rng.normal(0, 1, (N, L, K)), axis=1)
        evidence[np.arange(N), :, comps] += strength * np.arange(1, L + 1)
        out.append((f"For {N} sequences, {L} positions, {K} worlds, threshold {thr}" + (
            ", never reached (None: inf)" * (not strength)), (softmax(evidence, -1), comps, thr)))
    right = np.c_[[[.6, .7], [.4, .7], [.6, .7], [.4, .4]], [[.9, .95, .97]] * 4]  # share .75 at 2
    out.append(("For 4 sequences whose share right is exactly 0.75 after 2 tokens, threshold 0.75",
                (np.stack([right, 1 - right], -1), np.zeros(4, int), 0.75)))
    return out


def _knowing(meta, comps, threshold, hits=None, strict=False, zero_based=False, axis=0,
             settled=False, never=np.inf):   # first p + 1 where the right-argmax share >= thr
    share = {"max": meta.max(-1), "0": meta.argmax(-1) == 0, "prob": meta[np.arange(len(
        comps)), :, comps]}.get(hits, meta.argmax(-1) == comps[:, None]).mean(axis)
    hit = np.flatnonzero(share > threshold if strict else share >= threshold)
    if settled:                          # the position after which the share stays there
        hit = hit[hit > np.flatnonzero(share < threshold).max(initial=-1)]
    return int(hit[0]) + (not zero_based) if len(hit) else never


check_knowing_time = Exercise(
    name="knowing_time", signature="knowing_time(meta, components, threshold) -> int or None",
    cases=_knowing_cases, reference=_knowing,
    convert=lambda v, what: np.inf if v is None else _number(v, what), mistakes=[  # None: inf
        ("returns the 0-based position", partial(_knowing, zero_based=True),
         "Off by one: you returned the 0-based position; return the number of tokens read."),
        ("averages probabilities, or uses world 0", partial(_knowing, hits="prob"), "You averaged "
         "probabilities or used world 0: count the sequences whose argmax is their OWN component.",
         "", lambda c: any(close(c.got, _knowing(*c.args, hits=h)) for h in ("max", "0", "prob"))),
        ("returns -1 when never reached", partial(_knowing, never=-1),
         "You returned a number where the share never reaches the threshold (np.argmax of "
         "all-False is 0): return None.", "You returned a number", lambda c: c.expected == np.inf),
        ("averages per sequence (over positions)", partial(_knowing, axis=1), "Your share is "
         "per sequence (axis=1): average over sequences (axis=0), one share per position."),
        ("stops at the point after which the share stays above", partial(_knowing, settled=True),
         "Return the FIRST position where the share reaches the threshold, not where it stays."),
        ("averages meta-beliefs over sequences first", lambda m, c, thr: _knowing(np.stack([
            m[c == k].mean(0) for k in np.unique(c)]), np.unique(c), thr),
         "You averaged the meta-beliefs over sequences before the argmax: decide per sequence."),
        ("requires the share to exceed the threshold", partial(_knowing, strict=True),
         "You required the share to EXCEED the threshold; reaching it (>=) counts.")],
    advice="share[p] = mean_n(argmax meta[n, p] == components[n]); first p + 1 with share >= thr.",
    summary="Right on 4 cases, a share exactly at the threshold and one never reached included.")

EXERCISES = (check_meta_belief, check_incontext_gap, check_chernoff_information,
             check_decay_exponent, check_knowing_time)
