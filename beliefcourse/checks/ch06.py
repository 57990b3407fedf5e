"""Checkers for practice notebook 06 (beyond the next token, beyond transformers).

Same design as :mod:`beliefcourse.checks.ch05`: each checker calls the learner's function on
seeded cases built so that every typical mistake gives a *different* answer, compares with a
reference, and names the mistake that matches.

| checker | learner function |
|---|---|
| :func:`check_future_distribution` | ``future_distribution(belief, T, k) -> (X**k,)`` |
| :func:`check_next_token_ceiling` | ``next_token_ceiling(beliefs, next_probs) -> float`` |
| :func:`check_steering_move` | ``steering_move(W, readout, target) -> (..., D)`` |
| :func:`check_gru_step` | ``gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> h'`` |
| :func:`check_sign_test` | ``sign_test(kl_steered, kl_control) -> p-value`` |
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._core import Case, Mistake, as_array, as_float, describe_shapes, judge, run

__all__ = ["check_future_distribution", "check_gru_step", "check_next_token_ceiling",
           "check_sign_test", "check_steering_move"]


# ---------------------------------------------------------------------------- 6.1 futures
def _future(belief, T, k, *, normalise=False, transpose=False, reverse=False, iid=False,
            start=None):
    """P(x_1..x_k | belief) and the values typical mistakes give."""
    X = T.shape[0]
    b0 = np.asarray(belief if start is None else start, dtype=float)
    out = []
    for word in itertools.product(range(X), repeat=k):
        if reverse:
            word = word[::-1]
        v, p = b0, 1.0
        for x in word:
            M = T[x].T if transpose else T[x]
            if iid:
                p *= (b0 @ M).sum()
                continue
            w = v @ M
            if normalise:
                p, v = w.sum(), w / max(w.sum(), 1e-300)
            else:
                v = w
        out.append(p if (iid or normalise) else v.sum())
    return np.array(out)


def _future_cases():
    from .. import processes

    rng = np.random.default_rng(6)
    mess3, rrxor = processes.mess3(), processes.rrxor()
    T3 = rng.random((2, 3, 3)) ** 2
    T3 /= T3.sum(axis=(0, 2), keepdims=True)
    return [("Mess3, a random belief, k = 2", rng.dirichlet(np.ones(3)), mess3.T, 2, mess3),
            ("RRXOR, a random belief, k = 3", rng.dirichlet(np.ones(5)), rrxor.T, 3, rrxor),
            ("a random 2-token HMM, k = 3", rng.dirichlet(np.ones(3)), T3, 3, None),
            ("Mess3, a corner belief, k = 1", np.eye(3)[1], mess3.T, 1, mess3)]


def _test_future_distribution(fn):
    cases = []
    for label, belief, T, k, hmm in _future_cases():
        T = np.asarray(T, dtype=float)
        got = as_array(fn(belief.copy(), T.copy(), k), f"future_distribution ({label})")
        want = _future(belief, T, k)
        X, S = T.shape[0], T.shape[1]
        if got.shape != want.shape:
            if got.shape == (X ** k, S):
                hint = ("You returned one entry per (word, final state): sum over the final "
                        "state (multiply by the all-ones vector) to get P(word).")
            elif got.shape == (X,) and k > 1:
                hint = ("You returned a distribution over single tokens. The exercise asks for "
                        "the joint distribution of all k tokens: one entry per word of length "
                        "k, X**k in all.")
            else:
                hint = "Return one probability per word of length k: shape (X**k,)."
            raise Mistake(f"For {label}: {describe_shapes(got.shape, want.shape)}. {hint}")
        pi = hmm.stationary() if hmm is not None else None
        cases.append(Case(f"For {label}", got, want, variants=[
            ("normalise", _future(belief, T, k, normalise=True),
             "You normalised the state vector after each token, so each entry is the "
             "probability of the *last* token given the others, not of the whole word. Keep "
             "the unnormalised product b T^(x_1) ... T^(x_k) and sum it at the end."),
            ("reverse", _future(belief, T, k, reverse=True),
             "The entries are right but in the wrong order: number the words with the FIRST "
             "token most significant, w = x_1 X^(k-1) + ... + x_k (itertools.product order)."),
            ("transpose", _future(belief, T, k, transpose=True),
             "You multiplied by T[x] transposed: with T[x, i, j] = P(emit x, go to j | in i), "
             "a row vector of beliefs is updated as b @ T[x]."),
            ("iid", _future(belief, T, k, iid=True),
             "You multiplied next-token probabilities all taken from the same belief, as if "
             "the tokens were independent. Each token changes the state distribution: carry "
             "the vector b T^(x_1) ... forward."),
            ("stationary", _future(belief, T, k, start=pi) if pi is not None else None,
             "You started from the stationary distribution pi instead of the given belief."),
        ], advice="P(x_1..x_k | b) = b T^(x_1) ... T^(x_k) 1."))
    judge(cases)
    return ("Right on 4 cases (Mess3, RRXOR, a random HMM; k = 1 to 3): the joint "
            "distribution of the next k tokens, words in itertools.product order.")


def check_future_distribution(future_distribution):
    """Check ``future_distribution(belief, T, k) -> (X**k,)`` (exercise 6.1)."""
    return run("future_distribution", _test_future_distribution, future_distribution)


# ---------------------------------------------------------------------------- 6.2 ceiling
def _pairs(beliefs, next_probs, *, self_pairs=False, unique=False, squared=False):
    b, p = np.asarray(beliefs, float), np.asarray(next_probs, float)
    if unique:
        _, idx = np.unique(b.round(9), axis=0, return_index=True)
        b, p = b[np.sort(idx)], p[np.sort(idx)]
    n = len(b)
    i, j = np.where(np.ones((n, n), bool) if self_pairs else ~np.eye(n, dtype=bool))
    dB = np.linalg.norm(b[i] - b[j], axis=1)
    dN = np.linalg.norm(p[i] - p[j], axis=1)
    if squared:
        dB, dN = dB ** 2, dN ** 2
    _, cls = np.unique(p.round(9), axis=0, return_inverse=True)
    cls = cls.reshape(-1)
    key = np.minimum(cls[i], cls[j]) * n + np.maximum(cls[i], cls[j])
    return dB, dN, key


def _eta2(dB, key):
    _, inv = np.unique(key, return_inverse=True)
    means = np.bincount(inv, weights=dB) / np.bincount(inv)
    return float(((means[inv] - dB.mean()) ** 2).sum() / ((dB - dB.mean()) ** 2).sum())


def _ceiling(beliefs, next_probs, mode="right"):
    if mode == "by distance":
        dB, dN, _ = _pairs(beliefs, next_probs)
        return _eta2(dB, np.round(dN, 9))
    if mode == "correlation":
        dB, dN, _ = _pairs(beliefs, next_probs)
        return float(np.corrcoef(dB, dN)[0, 1] ** 2)
    kw = {"self pairs": {"self_pairs": True}, "unique": {"unique": True},
          "squared": {"squared": True}}.get(mode, {})
    dB, _, key = _pairs(beliefs, next_probs, **kw)
    value = _eta2(dB, key)
    return 1 - value if mode == "within" else value


def _ceiling_cases():
    rng = np.random.default_rng(60)
    out = []
    # classes: beliefs sharing a next-token distribution; repeated points
    for label, n_beliefs, n_classes, n_points in [("12 beliefs in 4 classes", 12, 4, 40),
                                                  ("9 beliefs in 3 classes", 9, 3, 30)]:
        bel = rng.dirichlet(np.ones(4), size=n_beliefs)
        cls = np.arange(n_beliefs) % n_classes
        nxt = rng.dirichlet(np.ones(3), size=n_classes)[cls]
        pick = np.concatenate([np.arange(n_beliefs), rng.integers(0, n_beliefs,
                                                                  n_points - n_beliefs)])
        out.append((label, bel[pick], nxt[pick]))
    # two class pairs at the same next-token distance: E[dB | dN] differs from E[dB | pair]
    nxt = np.array([[0.5, 0.5], [0.7, 0.3], [0.3, 0.7]])[[0, 0, 1, 1, 2, 2, 0, 1]]
    bel = rng.dirichlet(np.ones(3), size=8)
    out.append(("8 points whose next-token distances tie (0.5 to 0.7 and 0.5 to 0.3)", bel, nxt))
    return out


def _test_next_token_ceiling(fn):
    cases = []
    for label, bel, nxt in _ceiling_cases():
        got = as_float(fn(bel.copy(), nxt.copy()), f"next_token_ceiling ({label})")
        want = _ceiling(bel, nxt)
        variant = {m: _ceiling(bel, nxt, m) for m in
                   ("correlation", "self pairs", "unique", "squared", "within", "by distance")}
        cases.append(Case(f"For {label}", got, want, variants=[
            ("correlation", variant["correlation"],
             "You returned the squared correlation of belief and next-token distances: the "
             "score of a representation whose distances *are* the next-token distances. The "
             "ceiling is over every function of the next token: average the belief distances "
             "within each pair of next-token distributions and take the variance of those "
             "averages over the total variance."),
            ("by distance", variant["by distance"],
             "You grouped the pairs by their next-token *distance*. A representation that "
             "only knows the next token can still place each pair of next-token "
             "distributions at its own distance: group by the (unordered) pair of "
             "distributions, not by how far apart they are."),
            ("self pairs", variant["self pairs"],
             "You included each point paired with itself (i = j). The distance test samples "
             "pairs of distinct points; leave out the diagonal."),
            ("unique", variant["unique"],
             "You counted each distinct belief once. The test samples points, and a belief "
             "that occurs at many points appears in many pairs: keep every point."),
            ("squared", variant["squared"],
             "You used squared distances; the test correlates Euclidean distances."),
            ("within", variant["within"],
             "You returned the *unexplained* fraction (within-group over total). The ceiling "
             "is the explained fraction: between-group variance over total variance."),
        ], advice=("Over all ordered pairs i != j: R² = Var(E[dB | pair of next-token "
                   "distributions]) / Var(dB).")))
    judge(cases)
    return ("Right on 3 cases: the fraction of the variance of belief distances that the pair "
            "of next-token distributions explains, over all pairs of distinct points.")


def check_next_token_ceiling(next_token_ceiling):
    """Check ``next_token_ceiling(beliefs, next_probs) -> float`` (exercise 6.2)."""
    return run("next_token_ceiling", _test_next_token_ceiling, next_token_ceiling)


# ---------------------------------------------------------------------------- 6.3 steering
def _steer_cases():
    rng = np.random.default_rng(63)
    # first, a probe whose third singular value is 1e-9 of the first (zero but for the fit's
    # rounding) and a readout that sums to one only up to 1e-7: a full-rank pseudo-inverse
    # turns that tiny mismatch into a long move the probe cannot see
    ones = np.ones((3, 1)) / np.sqrt(3)
    U = np.roll(np.linalg.qr(np.concatenate([ones, rng.normal(size=(3, 2))], axis=1))[0], -1,
                axis=1)
    V = np.linalg.qr(rng.normal(size=(8, 3)))[0]
    W = (U * np.array([2.0, 0.8, 2e-9])) @ V.T
    b, b2 = rng.dirichlet(np.ones(3), size=2)
    out = [("a 3-state probe on 8 features whose third singular value is 1e-9 of the first, "
            "one pair", W, b + 1e-7 / 3, b2)]
    for label, S, D, batch in [("a 3-state probe on 8 features, one pair", 3, 8, None),
                               ("a 5-state probe on 12 features, 4 pairs", 5, 12, 4)]:
        W = rng.normal(size=(S, D))
        W -= W.mean(axis=0)                       # a simplex probe: rows sum to zero
        shape = (S,) if batch is None else (batch, S)
        b, b2 = rng.dirichlet(np.ones(S), size=2 * (batch or 1)).reshape(2, *shape)
        out.append((label, W, b, b2))
    return out


def _test_steering_move(fn):
    from .. import steering

    for label, W, b, b2 in _steer_cases():
        got = as_array(fn(W.copy(), b.copy(), b2.copy()), f"steering_move ({label})")
        want = steering.steering_move(W, b, b2)
        if got.shape != want.shape:
            hint = ("Your move lives in belief space; it must live in activation space (D "
                    "features): multiply (target - readout) by the pseudo-inverse of W, "
                    "(b' - bhat) @ W_pinv.T." if got.shape[-1:] == (W.shape[0],) else
                    "Return one move of D features per pair.")
            raise Mistake(f"For {label}: {describe_shapes(got.shape, want.shape)}. {hint}")
        if np.allclose(got, want, atol=1e-9):
            continue
        moved = got @ W.T
        flat_got, flat_want = got.reshape(-1, W.shape[1]), want.reshape(-1, W.shape[1])
        scale = np.linalg.norm(flat_want, axis=1).max()
        full = (b2 - b) @ np.linalg.pinv(W).T
        if np.allclose(got, -want, atol=1e-9):
            why = ("Your move has the wrong sign: it moves the reading from the target back "
                   "past the readout. Use target - readout.")
        elif np.allclose(got, (b2 - b) @ W, atol=1e-9):
            why = ("You multiplied by W itself (its transpose), not its pseudo-inverse. W^T "
                   "points the right way only if W's rows are orthonormal; the probe would "
                   "then read a different change than target - readout.")
        elif np.linalg.norm(flat_got, axis=1).max() > 10 * scale and np.allclose(
                got, full, rtol=1e-6, atol=1e-6 * np.abs(full).max()):
            why = ("You inverted every singular value of W, the smallest too: it is 1e-9 of "
                   "the largest, zero but for rounding (a probe fitted to beliefs, which sum "
                   "to one, has rank S - 1). Its inverse multiplies a rounding-size part of "
                   "target - readout into a move far longer than needed, along a direction "
                   "the probe barely reads. Use the pseudo-inverse at rank S - 1: drop "
                   "singular values below 1e-8 of the largest (np.linalg.svd, or "
                   "np.linalg.pinv(W, rcond=1e-8)).")
        elif np.allclose(moved, b2 - b, atol=1e-6):
            why = ("Your move makes the probe read the target (W @ move = target - readout), "
                   "but it is longer than it needs to be: it has a component the probe "
                   "cannot see. The pseudo-inverse gives the shortest such move.")
        elif np.allclose(np.linalg.norm(flat_got, axis=1), 1) and np.allclose(
                flat_got / np.linalg.norm(flat_got, axis=1, keepdims=True),
                flat_want / np.linalg.norm(flat_want, axis=1, keepdims=True), atol=1e-8):
            why = ("Your move points the right way but has length 1. The length matters: "
                   "it is what turns the readout into the target; do not normalise it.")
        else:
            why = ("The move is delta = W_pinv (target - readout), with W_pinv the "
                   "pseudo-inverse of W at rank S - 1; as rows, (target - readout) @ "
                   "W_pinv.T.")
        length = np.linalg.norm(flat_got, axis=1).max()
        size = (f"your move is {length:.2g} long where {scale:.2g} suffices. "
                if not 0.5 * scale <= length <= 2 * scale else "")
        raise Mistake(f"For {label}: {size}{why}")
    return ("Right on 3 cases: the shortest move that makes the probe read the target, with "
            "W's rounding-size singular value dropped (one pair and a batch).")


def check_steering_move(steering_move):
    """Check ``steering_move(W, readout, target) -> move`` (exercise 6.3)."""
    return run("steering_move", _test_steering_move, steering_move)


# ---------------------------------------------------------------------------- 6.4 GRU cell
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gru(x, h, w_ih, w_hh, b_ih, b_hh, mode="right"):
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    d = h.shape[-1]
    order = (1, 0, 2) if mode == "gate order" else (0, 1, 2)
    (ri, zi, ni), (rh, zh, nh) = ([g[..., k * d:(k + 1) * d] for k in order] for g in (gi, gh))
    if mode == "no hidden bias":
        rh, zh, nh = (h @ w_hh.T)[..., :d], (h @ w_hh.T)[..., d:2 * d], (h @ w_hh.T)[..., 2 * d:]
    r, z = _sigmoid(ri + rh), _sigmoid(zi + zh)
    if mode == "reset before matmul":
        nh = (r * h) @ w_hh[2 * d:].T + b_hh[2 * d:]
        n = np.tanh(ni + nh)
    elif mode == "no reset":
        n = np.tanh(ni + nh)
    elif mode == "sigmoid candidate":
        n = _sigmoid(ni + r * nh)
    else:
        n = np.tanh(ni + r * nh)
    if mode == "swapped update":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


def _gru_cases():
    import torch

    out = []
    for label, d_in, d, batch, seed in [("input 3, hidden 4, batch 5", 3, 4, 5, 64),
                                        ("input 2, hidden 6, batch 3", 2, 6, 3, 65)]:
        torch.manual_seed(seed)
        gru = torch.nn.GRU(d_in, d, batch_first=True).double()
        with torch.no_grad():
            for p in gru.parameters():
                p.uniform_(-1.0, 1.0)             # wide weights: every gate matters
            x = torch.randn(batch, 1, d_in, dtype=torch.float64)
            h = torch.randn(1, batch, d, dtype=torch.float64)
            _, h_next = gru(x, h)
        params = [getattr(gru, n).detach().numpy().copy() for n in
                  ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
        out.append((label, x[:, 0].numpy().copy(), h[0].numpy().copy(), params,
                    h_next[0].numpy().copy()))
    return out


_GRU_MISTAKES = {
    "swapped update": "You swapped the update gate's roles. In torch.nn.GRU, z is how much of "
                      "the OLD state is kept: h' = (1 - z) * n + z * h.",
    "reset before matmul": "You applied the reset gate to h before the matrix product, "
                           "W_hn (r * h) + b_hn (the variant of Cho et al. 2014). "
                           "torch.nn.GRU multiplies r into the product and its bias: "
                           "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).",
    "gate order": "You read the gates in the order z, r, n. torch.nn.GRU stacks its weight "
                  "rows as r (reset), z (update), n (new): rows 0:d, d:2d, 2d:3d.",
    "no reset": "You left out the reset gate: the candidate is n = tanh(W_in x + b_in "
                "+ r * (W_hn h + b_hn)).",
    "sigmoid candidate": "The candidate state n uses tanh, not the sigmoid (only r and z are "
                         "sigmoids).",
    "no hidden bias": "You left out bias_hh: torch.nn.GRU adds both biases, b_ih to the input "
                      "part and b_hh to the hidden part.",
}


def _test_gru_step(fn):
    cases = []
    for label, x, h, (w_ih, w_hh, b_ih, b_hh), want in _gru_cases():
        got = as_array(fn(x.copy(), h.copy(), w_ih.copy(), w_hh.copy(), b_ih.copy(),
                          b_hh.copy()), f"gru_step ({label})")
        if not np.allclose(_gru(x, h, w_ih, w_hh, b_ih, b_hh), want, atol=1e-10):
            raise RuntimeError("the reference GRU step disagrees with torch.nn.GRU")
        cases.append(Case(f"For {label}", got, want, variants=[
            (mode, _gru(x, h, w_ih, w_hh, b_ih, b_hh, mode), text)
            for mode, text in _GRU_MISTAKES.items()],
            advice=("r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz "
                    "+ W_hz h + b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), "
                    "h' = (1 - z) * n + z * h.")))
    judge(cases)
    return "Your GRU step matches torch.nn.GRU on 2 cases (random weights, batches)."


def check_gru_step(gru_step):
    """Check ``gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> h'`` (exercise 6.4)."""
    return run("gru_step", _test_gru_step, gru_step)


# ---------------------------------------------------------------------------- 6.5 sign test
def _binom_tail(n, k):
    """P(K >= k) for K ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, j) for j in range(max(k, 0), n + 1)) / 2 ** n


def _sign(steered, control, mode="right"):
    s, c = np.asarray(steered, float), np.asarray(control, float)
    wins, losses = int((s < c).sum()), int((s > c).sum())
    n = wins + losses
    if mode == "ties kept":
        n = len(s)
    if mode == "reversed":
        wins = losses
    if mode == "strict":
        return _binom_tail(n, wins + 1)
    if mode == "normal":
        z = (wins - n / 2) / math.sqrt(n / 4)
        return 0.5 * math.erfc(z / math.sqrt(2))
    p = _binom_tail(n, wins)
    if mode == "two-sided":
        return min(1.0, 2 * min(p, 1 - _binom_tail(n, wins + 1)))
    return p


def _sign_cases():
    rng = np.random.default_rng(65)
    control = rng.gamma(2.0, 0.1, 12)
    steered = control * np.exp(rng.normal(-0.4, 0.6, 12))
    steered[[2, 7]] = control[[2, 7]]             # two ties
    big_c = rng.gamma(2.0, 0.1, 40)
    big_s = big_c * np.exp(rng.normal(-0.2, 1.0, 40))
    return [("12 pairs, 2 of them tied", steered, control),
            ("40 pairs, no ties", big_s, big_c),
            ("6 pairs where steering loses every time", control[:6] * 2, control[:6])]


def _test_sign_test(fn):
    cases = []
    for label, s, c in _sign_cases():
        got = as_float(fn(s.copy(), c.copy()), f"sign_test ({label})")
        cases.append(Case(f"For {label}", got, _sign(s, c), variants=[
            ("strict", _sign(s, c, "strict"),
             "Off by one: you computed P(K > k). The p-value is the probability of a result "
             "at least as extreme as the one observed, P(K >= k)."),
            ("two-sided", _sign(s, c, "two-sided"),
             "You computed a two-sided p-value. The question is one-sided: does steering "
             "beat the control (smaller KL)?"),
            ("ties kept", _sign(s, c, "ties kept"),
             "You kept the tied pairs in n. A tie favours neither side; the sign test drops "
             "ties and counts n = wins + losses."),
            ("reversed", _sign(s, c, "reversed"),
             "You counted the pairs where steering did *worse* (larger KL). A win is "
             "kl_steered < kl_control."),
            ("normal", _sign(s, c, "normal"),
             "You used the normal approximation. With a few dozen pairs it is noticeably off; "
             "sum the exact binomial probabilities (math.comb)."),
        ], advice=("k = #(kl_steered < kl_control), n = #(kl_steered != kl_control), "
                   "p = sum_{j >= k} C(n, j) / 2**n.")))
    judge(cases)
    return ("Right on 3 cases: the exact one-sided sign test, ties dropped, wins counted the "
            "right way.")


def check_sign_test(sign_test):
    """Check ``sign_test(kl_steered, kl_control) -> p_value`` (exercise 6.5)."""
    return run("sign_test", _test_sign_test, sign_test)
