"""Checkers for practice notebook 08 (in-context learning as belief updating over worlds).

Same design as :mod:`beliefcourse.checks.ch06`: each checker calls the learner's function on
seeded cases built so that every typical mistake gives a *different* answer, compares with a
reference, and names the mistake that matches.

| checker | learner function |
|---|---|
| :func:`check_meta_belief` | ``meta_belief(tokens, Ts, weights) -> (K,)`` |
| :func:`check_incontext_gap` | ``incontext_gap(meta, comp_preds) -> float`` |
| :func:`check_chernoff_information` | ``chernoff_information(p, q) -> float`` |
| :func:`check_decay_exponent` | ``decay_exponent(t, gap) -> float`` |
| :func:`check_knowing_time` | ``knowing_time(meta, components, threshold) -> int or None`` |
"""

from __future__ import annotations

import math

import numpy as np

from ._core import Case, Mistake, as_array, as_float, describe_shapes, judge, run

__all__ = ["check_chernoff_information", "check_decay_exponent", "check_incontext_gap",
           "check_knowing_time", "check_meta_belief"]


# ---------------------------------------------------------------------------- 8.1 meta-belief
def _stationary(T):
    M = np.asarray(T, float).sum(axis=0)
    vals, vecs = np.linalg.eig(M.T)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return v / v.sum()


def _meta(tokens, Ts, weights, *, prior=True, start="stationary", normalise=True,
          transpose=False, iid=False, skip_first=False, raw_product=False):
    """P(k | tokens) and what typical mistakes give instead."""
    tokens = list(tokens)[1:] if skip_first else list(tokens)
    logs = []
    for T in Ts:
        T = np.asarray(T, float)
        S = T.shape[1]
        b = _stationary(T) if start == "stationary" else np.full(S, 1.0 / S)
        if iid:
            emit = b @ T.sum(axis=2).T
            logs.append(sum(math.log(emit[x]) for x in tokens))
            continue
        if raw_product:
            v = b.copy()
            for x in tokens:
                v = v @ (T[x].T if transpose else T[x])
            logs.append(v.sum())
            continue
        total = 0.0
        for x in tokens:
            v = b @ (T[x].T if transpose else T[x])
            p = v.sum()
            total += math.log(p)
            b = v / p
        logs.append(total)
    w = np.asarray(weights, float) if prior else np.ones(len(Ts))
    if raw_product:
        un = w * np.array(logs)
        with np.errstate(invalid="ignore", divide="ignore"):
            return un / un.sum()
    logs = np.log(w) + np.array(logs)
    un = np.exp(logs - logs.max())
    if not normalise:
        return np.exp(logs)
    return un / un.sum()


def _random_hmm(rng, X, S):
    T = rng.random((X, S, S)) ** 3 + 0.02
    return T / T.sum(axis=(0, 2), keepdims=True)


def _meta_cases():
    from .. import processes

    rng = np.random.default_rng(81)
    A, B, C = _random_hmm(rng, 3, 2), _random_hmm(rng, 3, 3), _random_hmm(rng, 3, 4)
    m1, m2 = processes.mess3(0.05, 0.85).T, processes.mess3(0.15, 0.6).T
    long_tokens = processes.mess3(0.05, 0.85).sample(1, 1000, seed=8)[0][0]
    return [("two random HMMs (2 and 3 states), weights (0.3, 0.7), 6 tokens",
             rng.integers(0, 3, 6), [A, B], np.array([0.3, 0.7])),
            ("three random HMMs (2, 3, 4 states), weights (0.5, 0.2, 0.3), 9 tokens",
             rng.integers(0, 3, 9), [A, B, C], np.array([0.5, 0.2, 0.3])),
            ("Mess3(0.05, 0.85) and Mess3(0.15, 0.6), weights (0.4, 0.6), 1,000 tokens",
             long_tokens, [m1, m2], np.array([0.4, 0.6]))]


def _test_meta_belief(fn):
    cases = []
    for label, tokens, Ts, w in _meta_cases():
        got = as_array(fn(np.array(tokens), [T.copy() for T in Ts], w.copy()),
                       f"meta_belief ({label})")
        want = _meta(tokens, Ts, w)
        if got.shape != want.shape:
            raise Mistake(f"For {label}: {describe_shapes(got.shape, want.shape)}. Return one "
                          "probability per component, shape (K,).")
        if not np.all(np.isfinite(got)):
            raise Mistake(f"For {label}: your meta-belief has NaN or inf entries ({got}). The "
                          "probability of a long context underflows to 0 (1,000 tokens: about "
                          "e^-900, below the smallest float), and 0/0 is NaN: normalise the "
                          "belief after every token and add up the logarithms of the "
                          "normalisers, then take the softmax of ln w_k + ln P_k(tokens).")
        cases.append(Case(f"For {label}", got, want, variants=[
            ("noprior", _meta(tokens, Ts, w, prior=False),
             "You left out the prior: multiply each component's likelihood by its weight w_k "
             "(P(k | u) is proportional to w_k P_k(u), not to P_k(u))."),
            ("uniform start", _meta(tokens, Ts, w, start="uniform"),
             "Each component starts from the uniform distribution over its states. A "
             "component's sequences start from its stationary distribution pi_k (the left "
             "eigenvector of sum_x T[x] with eigenvalue 1)."),
            ("unnormalised", _meta(tokens, Ts, w, normalise=False),
             "You returned w_k P_k(u), which does not sum to 1: normalise over the components "
             "(divide by sum_j w_j P_j(u))."),
            ("transpose", _meta(tokens, Ts, w, transpose=True),
             "You multiplied by T[x] transposed: with T[x, i, j] = P(emit x, go to j | in i) "
             "the belief row vector is updated as b @ T[x]."),
            ("iid", _meta(tokens, Ts, w, iid=True),
             "You multiplied the stationary token probabilities, as if each component emitted "
             "independent tokens. The likelihood of a word under an HMM carries the state "
             "forward: P_k(u) = pi_k T[u_1] ... T[u_t] 1."),
            ("skip first", _meta(tokens, Ts, w, skip_first=True),
             "You skipped the first token: the likelihood includes P_k(u_1) (from pi_k)."),
        ], advice="P(k | u) = w_k P_k(u) / sum_j w_j P_j(u), with P_k(u) = pi_k T_k[u_1] ... "
                  "T_k[u_t] 1, computed with a normalised belief and summed logarithms."))
    judge(cases)
    return ("Right on 3 cases (random HMMs with different state counts, two Mess3 worlds over "
            "1,000 tokens): the meta-belief P(k | context), without underflow.")


def check_meta_belief(meta_belief):
    """Check ``meta_belief(tokens, Ts, weights) -> (K,)`` (exercise 8.1)."""
    return run("meta_belief", _test_meta_belief, meta_belief)


# ---------------------------------------------------------------------------- 8.2 gap
def _kl(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    m = p > 0
    return float((p[m] * np.log(p[m] / q[m])).sum())


def _gap(meta, preds, mode="right"):
    meta, preds = np.asarray(meta, float), np.asarray(preds, float)
    K = len(meta)
    mix = (np.full(K, 1.0 / K) if mode == "uniform mixture" else meta) @ preds
    if mode == "reversed":
        return float(sum(m * _kl(mix, p) for m, p in zip(meta, preds)))
    weights = np.full(K, 1.0 / K) if mode == "unweighted" else meta
    value = float(sum(m * _kl(p, mix) for m, p in zip(weights, preds)))
    if mode == "bits":
        return value / math.log(2)
    if mode == "sign":
        return -value
    return value


def _gap_cases():
    rng = np.random.default_rng(82)
    return [("meta (0.2, 0.8), two next-token distributions over 3 tokens",
             np.array([0.2, 0.8]), rng.dirichlet(np.ones(3), 2)),
            ("meta (0.5, 0.3, 0.2), three distributions over 4 tokens",
             np.array([0.5, 0.3, 0.2]), rng.dirichlet(np.ones(4), 3)),
            ("meta (0.05, 0.15, 0.3, 0.5), four distributions over 3 tokens",
             np.array([0.05, 0.15, 0.3, 0.5]), rng.dirichlet(np.ones(3) * 0.7, 4))]


def _test_incontext_gap(fn):
    cases = []
    for label, meta, preds in _gap_cases():
        got = as_float(fn(meta.copy(), preds.copy()), f"incontext_gap ({label})")
        cases.append(Case(f"For {label}", got, _gap(meta, preds), variants=[
            ("reversed", _gap(meta, preds, "reversed"),
             "You computed KL(P || P_k), the divergences the wrong way round. The gap is "
             "sum_k m_k KL(P_k || P): the expected extra loss of predicting with the mixture P "
             "when the world is k."),
            ("unweighted", _gap(meta, preds, "unweighted"),
             "You averaged the divergences with equal weights. Weight each world by its "
             "meta-belief m_k."),
            ("uniform mixture", _gap(meta, preds, "uniform mixture"),
             "Your Bayes predictor P is the plain average of the worlds' predictions. It is "
             "the meta-belief average P = sum_k m_k P_k."),
            ("bits", _gap(meta, preds, "bits"),
             "You answered in bits (log base 2). The course works in nats: use np.log."),
            ("sign", _gap(meta, preds, "sign"),
             "Wrong sign: the gap is the Bayes loss minus the oracle loss, which is never "
             "negative (a mutual information)."),
        ], advice="gap = sum_k m_k KL(P_k || P) with P = sum_k m_k P_k (equivalently "
                  "H(P) - sum_k m_k H(P_k)), in nats.", unit=" nats"))
    judge(cases)
    return ("Right on 3 cases (2 to 4 worlds): the in-context gap I(K; next token | context) "
            "at one context, in nats.")


def check_incontext_gap(incontext_gap):
    """Check ``incontext_gap(meta, comp_preds) -> float`` (exercise 8.2)."""
    return run("incontext_gap", _test_incontext_gap, incontext_gap)


# ---------------------------------------------------------------------------- 8.3 Chernoff
def _log_z(lam, p, q):
    return float(np.log((p ** lam * q ** (1 - lam)).sum()))


def _chernoff(p, q, mode="right"):
    from scipy.optimize import minimize_scalar

    p, q = np.asarray(p, float), np.asarray(q, float)
    if mode == "half":
        return -_log_z(0.5, p, q)
    if mode == "kl":
        return _kl(p, q)
    res = minimize_scalar(lambda lam: _log_z(lam, p, q), bounds=(0, 1), method="bounded",
                          options={"xatol": 1e-12})
    value = -float(res.fun)
    if mode == "sign":
        return -value
    if mode == "bits":
        return value / math.log(2)
    if mode == "lambda":
        return float(res.x)
    return value


def _chernoff_cases():
    return [("p = (0.7, 0.2, 0.1), q = (0.1, 0.3, 0.6)",
             np.array([0.7, 0.2, 0.1]), np.array([0.1, 0.3, 0.6])),
            ("p = (0.9, 0.1), q = (0.4, 0.6)", np.array([0.9, 0.1]), np.array([0.4, 0.6])),
            ("p = (0.5, 0.25, 0.2, 0.05), q = (0.05, 0.15, 0.3, 0.5)",
             np.array([0.5, 0.25, 0.2, 0.05]), np.array([0.05, 0.15, 0.3, 0.5]))]


def _test_chernoff_information(fn):
    cases = []
    for label, p, q in _chernoff_cases():
        got = as_float(fn(p.copy(), q.copy()), f"chernoff_information ({label})")
        lam = _chernoff(p, q, "lambda")
        if abs(got - lam) < 1e-3 and abs(got - _chernoff(p, q)) > 1e-3:
            raise Mistake(f"For {label}: expected {_chernoff(p, q):.6g} nats, got {got:.6g}, "
                          f"the minimising lam ({lam:.4f}). You returned the minimising lam, "
                          "not the value -ln sum p^lam q^(1-lam) there.")
        if got == 0.0:
            raise Mistake(f"For {label}: you returned 0. ln sum_x p^lam q^(1-lam) is 0 at "
                          "lam = 0 and lam = 1 and negative in between (it is convex): you "
                          "took its maximum over lam. Chernoff information is minus its "
                          "MINIMUM.")
        cases.append(Case(f"For {label}", got, _chernoff(p, q), variants=[
            ("half", _chernoff(p, q, "half"),
             "You fixed lam = 1/2 (the Bhattacharyya distance). Chernoff information "
             "minimises over lam in [0, 1]; for asymmetric pairs the best lam is not 1/2."),
            ("kl", _chernoff(p, q, "kl"),
             "You returned KL(p || q). That is the rate of a typical sequence's evidence; the "
             "Chernoff information -min_lam ln sum p^lam q^(1-lam) is smaller."),
            ("sign", _chernoff(p, q, "sign"),
             "Wrong sign: Chernoff information is MINUS the minimum of ln sum p^lam q^(1-lam), "
             "a positive number."),
            ("bits", _chernoff(p, q, "bits"),
             "You answered in bits (log base 2). The course works in nats: use np.log."),
        ], advice="C(p, q) = -min over lam in [0, 1] of ln sum_x p(x)^lam q(x)^(1-lam) "
                  "(scipy.optimize.minimize_scalar with bounds=(0, 1), method='bounded', "
                  "or a fine grid of lam).", unit=" nats"))
    judge(cases)
    return ("Right on 3 cases: the Chernoff information, -min_lam ln sum p^lam q^(1-lam), "
            "in nats.")


def check_chernoff_information(chernoff_information):
    """Check ``chernoff_information(p, q) -> float`` (exercise 8.3)."""
    return run("chernoff_information", _test_chernoff_information, chernoff_information)


# ---------------------------------------------------------------------------- 8.4 exponent
def _slope(x, y):
    return float(np.polyfit(x, y, 1)[0])


def _exponent(t, gap, mode="right"):
    t, gap = np.asarray(t, float), np.asarray(gap, float)
    if mode == "slope":
        return _slope(np.log(t), np.log(gap))
    if mode == "exponential":
        return -_slope(t, np.log(gap))
    if mode == "swapped":
        return -_slope(np.log(gap), np.log(t))
    if mode == "linear gap":
        return -_slope(np.log(t), gap)
    if mode == "mixed bases":
        return -_slope(np.log(t), np.log10(gap))
    return -_slope(np.log(t), np.log(gap))


def _exponent_cases():
    rng = np.random.default_rng(84)
    t1 = np.arange(8, 41, dtype=float)
    t2 = np.arange(4, 20, dtype=float)
    t3 = np.arange(10, 65, 3, dtype=float)
    return [("gap = 0.5 / t with 3 % noise, t = 8..40", t1,
             0.5 / t1 * np.exp(rng.normal(0, 0.03, len(t1)))),
            ("gap = 2 t^-1.5 with 10 % noise, t = 4..19", t2,
             2 * t2 ** -1.5 * np.exp(rng.normal(0, 0.1, len(t2)))),
            ("gap = 0.1 exp(-0.05 t), t = 10..64 in steps of 3", t3, 0.1 * np.exp(-0.05 * t3))]


def _test_decay_exponent(fn):
    cases = []
    for label, t, gap in _exponent_cases():
        got = as_float(fn(t.copy(), gap.copy()), f"decay_exponent ({label})")
        cases.append(Case(f"For {label}", got, _exponent(t, gap), variants=[
            ("slope", _exponent(t, gap, "slope"),
             "Wrong sign: you returned the slope of ln gap against ln t. The exponent a of "
             "gap ~ t^-a is minus that slope (positive for a decaying gap)."),
            ("exponential", _exponent(t, gap, "exponential"),
             "You fitted ln gap against t (not ln t): that is the rate of an EXPONENTIAL decay. "
             "A power law is a straight line on log-log axes: regress ln gap on ln t."),
            ("swapped", _exponent(t, gap, "swapped"),
             "You regressed ln t on ln gap (the axes swapped): least squares is not symmetric "
             "in x and y. Regress ln gap (y) on ln t (x)."),
            ("linear gap", _exponent(t, gap, "linear gap"),
             "You regressed the gap itself on ln t: take the logarithm of the gap too."),
            ("mixed bases", _exponent(t, gap, "mixed bases"),
             "You mixed logarithm bases (log10 of the gap, ln of t): the slope is then off by "
             "a factor ln 10. Use the same logarithm on both axes."),
        ], advice="Fit ln gap = c - a ln t by least squares (np.polyfit(np.log(t), "
                  "np.log(gap), 1)) and return a."))
    judge(cases)
    return ("Right on 3 cases (two power laws with noise, one exponential decay): the "
            "least-squares exponent of gap ~ t^-a on log-log axes.")


def check_decay_exponent(decay_exponent):
    """Check ``decay_exponent(t, gap) -> float`` (exercise 8.4)."""
    return run("decay_exponent", _test_decay_exponent, decay_exponent)


# ---------------------------------------------------------------------------- 8.5 knowing
def _knowing(meta, comps, threshold, mode="right"):
    meta, comps = np.asarray(meta, float), np.asarray(comps)
    if mode == "confidence":
        share = meta.max(axis=-1).mean(axis=0)
    elif mode == "world 0":
        share = (meta.argmax(-1) == 0).mean(axis=0)
    elif mode == "averaged":
        avg = np.stack([meta[comps == k].mean(axis=0) for k in range(meta.shape[-1])])
        share = np.array([(avg[:, p].argmax(-1) == np.arange(len(avg))).mean()
                          for p in range(meta.shape[1])])
    else:
        share = (meta.argmax(-1) == comps[:, None]).mean(axis=0)
    hit = np.flatnonzero(share > threshold if mode == "strict" else share >= threshold)
    if not len(hit):
        return None
    return int(hit[0]) + (0 if mode == "zero-based" else 1)


def _knowing_cases():
    """Meta-beliefs (N, L, K) of sequences whose evidence grows with the position; one case
    with a share exactly at the threshold (counted as reached)."""
    rng = np.random.default_rng(85)
    out = []
    for label, N, L, K, thr, strength in (
            ("40 sequences, 12 positions, 2 worlds, threshold 0.75", 40, 12, 2, 0.75, 0.35),
            ("60 sequences, 10 positions, 3 worlds, threshold 0.8", 60, 10, 3, 0.8, 0.9)):
        comps = rng.integers(0, K, N)
        evidence = np.cumsum(rng.normal(0, 1, (N, L, K)), axis=1)
        evidence[np.arange(N), :, comps] += strength * np.arange(1, L + 1)
        meta = np.exp(evidence - evidence.max(-1, keepdims=True))
        out.append((label, meta / meta.sum(-1, keepdims=True), comps, thr))
    # exactly 3 of 4 right at position 2 (share 0.75 = threshold), 4 of 4 from position 3
    meta = np.full((4, 5, 2), 0.5)
    comps = np.array([0, 1, 0, 1])
    for n, c in enumerate(comps):
        meta[n, :, c] = [0.55, 0.7 if n < 3 else 0.4, 0.9, 0.95, 0.97]
        meta[n, :, 1 - c] = 1 - meta[n, :, c]
    meta[:, 0] = [[0.6, 0.4]] * 4          # position 0: everyone says world 0 (half right)
    out.append(("4 sequences whose share right is exactly 0.75 after 2 tokens, threshold 0.75",
                meta, comps, 0.75))
    return out


def _test_knowing_time(fn):
    cases = []
    for label, meta, comps, thr in _knowing_cases():
        got = fn(meta.copy(), comps.copy(), thr)
        got = 0.0 if got is None else as_float(got, f"knowing_time ({label})")
        want = float(_knowing(meta, comps, thr) or 0)

        def v(mode, meta=meta, comps=comps, thr=thr):     # None (never) is shown as 0
            return float(_knowing(meta, comps, thr, mode) or 0)

        cases.append(Case(f"For {label} (0 stands for None, never reached)", got, want, variants=[
            ("zero-based", v("zero-based"),
             "Off by one: you returned the 0-based position. Position p has read p + 1 "
             "tokens; return the number of tokens read."),
            ("confidence", v("confidence"),
             "You measured how confident the meta-belief is (its largest entry), not whether it "
             "names the RIGHT world: compare argmax with the true component."),
            ("world 0", v("world 0"),
             "You compared the argmax with world 0 for every sequence. Compare it with each "
             "sequence's own component."),
            ("averaged", v("averaged"),
             "You averaged the meta-beliefs over sequences before taking the argmax. Decide "
             "per sequence (argmax of its own meta-belief), then average the hits."),
            ("strict", v("strict"),
             "You required the share to EXCEED the threshold; reaching it (>=) counts."),
        ], advice="share[p] = mean over sequences of (argmax_k meta[n, p, k] == components[n]); "
                  "return the first p + 1 with share[p] >= threshold, or None."))
    judge(cases)
    return ("Right on 3 cases: the first number of tokens after which the meta-belief names "
            "the true world in at least the threshold share of sequences.")


def check_knowing_time(knowing_time):
    """Check ``knowing_time(meta, components, threshold) -> int or None`` (exercise 8.5)."""
    return run("knowing_time", _test_knowing_time, knowing_time)
