"""Exercises of practice notebook 06 (beyond the next token, beyond transformers): seeded cases
on which every known mistake gives a different answer, the package's reference, the mistakes."""

from __future__ import annotations

import itertools
import math
from functools import reduce

import numpy as np

from .. import processes, steering
from ..hmm import HMM
from ..probing import futures
from ._core import Exercise, Known, as_float, close

__all__ = ["EXERCISES", "check_future_distribution", "check_gru_step",
           "check_next_token_ceiling", "check_sign_test", "check_steering_move"]


# ---------------------------------------------------------------------------- 6.1 futures
def _future_cases():
    rng = np.random.default_rng(6)
    mess3, rrxor = processes.mess3(), processes.rrxor()
    T3 = rng.random((2, 3, 3)) ** 2
    T3 /= T3.sum(axis=(0, 2), keepdims=True)
    return [("For Mess3, a random belief, k = 2", (rng.dirichlet(np.ones(3)), mess3.T, 2)),
            ("For RRXOR, a random belief, k = 3", (rng.dirichlet(np.ones(5)), rrxor.T, 3)),
            ("For a random 2-token HMM, k = 3", (rng.dirichlet(np.ones(3)), T3, 3)),
            ("For Mess3, a corner belief, k = 1", (np.eye(3)[1], mess3.T, 1))]


def _future(belief, T, k):
    return futures.future_distributions(HMM(T), belief, k)


def _vector(v, word):
    return v


def _words(b, T, k, value):
    """``value(b T^(x_1)..T^(x_k), word)`` for every word, itertools.product order."""
    return np.array([value(reduce(lambda v, x: v @ T[x], w, np.asarray(b, float)), w)
                     for w in itertools.product(range(len(T)), repeat=k)])


check_future_distribution = Exercise(
    name="future_distribution", signature="future_distribution(belief, T, k) -> (X**k,)",
    cases=_future_cases, reference=_future, mistakes=(
        Known("forgets to sum over the final state", lambda b, T, k: _words(b, T, k, _vector),
              "You returned one entry per (word, final state): sum over the final state to get "
              "P(word)."),
        Known("returns the distribution of single tokens",
              lambda b, T, k: b @ np.linalg.matrix_power(T.sum(0), k - 1) @ T.sum(2).T,
              "You returned a distribution over single tokens. The exercise asks for the joint "
              "distribution of all k tokens: X**k entries, one per word.",
              recognise=lambda c: c.args[2] > 1 and np.shape(c.got) == (len(c.args[1]),)),
        Known("returns log-probabilities", lambda b, T, k: np.log(_future(b, T, k)),
              "You returned log-probabilities (their exp is right): return P(word) itself.",
              recognise=lambda c: any(close(base ** np.asarray(c.got, float), c.expected)
                                      for base in (np.e, 2, 10))),
        Known("normalises the state vector after every token",
              lambda b, T, k: _words(b, T, k, lambda v, w: v.sum()) / np.repeat(
                  _future(b, T, k - 1) if k > 1 else np.ones(1), len(T)),
              "You normalised the state vector after each token, so each entry is P(last token "
              "| the others), not P(word). Sum the unnormalised b T^(x_1) ... T^(x_k) at the end."),
        Known("numbers words with the last token most significant",
              lambda b, T, k: _future(b, T, k).reshape((len(T),) * k).T.ravel(),
              "The entries are right but in the wrong order: number the words with the FIRST "
              "token most significant, w = x_1 X^(k-1) + ... + x_k (itertools.product order)."),
        Known("multiplies by T[x] transposed",
              lambda b, T, k: _words(b, T.transpose(0, 2, 1), k, lambda v, w: v.sum()),
              "You multiplied by T[x] transposed: with T[x, i, j] = P(emit x, go to j | in i), a "
              "row vector of beliefs is updated as b @ T[x]."),
        Known("treats the tokens as independent given the belief",
              lambda b, T, k: _words(b, T, k, lambda v, w: np.prod([(b @ T[x]).sum() for x in w])),
              "You multiplied next-token probabilities all taken from the same belief, as if the "
              "tokens were independent. Carry the vector b T^(x_1) ... forward."),
        Known("starts from the stationary distribution",
              lambda b, T, k: _future(HMM(T).stationary(), T, k),
              "You started from the stationary distribution pi instead of the given belief."),
        Known("takes one step of the chain before the word",
              lambda b, T, k: _future(b @ T.sum(0), T, k),
              "You advanced the belief one step (b @ sum_x T[x]) before the word: that is the "
              "distribution of tokens 2 to k + 1. The word starts now."),
    ),
    advice=lambda c: ("Return one probability per word of length k: shape (X**k,)."
                      if np.shape(c.got) != np.shape(c.expected) else
                      "P(x_1..x_k | b) = b T^(x_1) ... T^(x_k) 1."),
    summary="Right on 4 cases (Mess3, RRXOR, a random HMM; k = 1 to 3).")


# ---------------------------------------------------------------------------- 6.2 ceiling
def _ceiling_cases():
    rng = np.random.default_rng(60)
    out = []
    # classes: beliefs sharing a next-token distribution; repeated points
    for label, n_beliefs, n_classes, n_points in [("12 beliefs in 4 classes", 12, 4, 40),
                                                  ("9 beliefs in 3 classes", 9, 3, 30)]:
        bel = rng.dirichlet(np.ones(4), size=n_beliefs)
        nxt = rng.dirichlet(np.ones(3), size=n_classes)[np.arange(n_beliefs) % n_classes]
        pick = np.concatenate([np.arange(n_beliefs),
                               rng.integers(0, n_beliefs, n_points - n_beliefs)])
        out.append((f"For {label}", (bel[pick], nxt[pick])))
    # two class pairs at the same next-token distance: E[dB | dN] differs from E[dB | pair]
    nxt = np.array([[0.5, 0.5], [0.7, 0.3], [0.3, 0.7]])[[0, 0, 1, 1, 2, 2, 0, 1]]
    out.append(("For 8 points whose next-token distances tie (0.5 to 0.7 and 0.5 to 0.3)",
                (rng.dirichlet(np.ones(3), size=8), nxt)))
    return out


def _eta2(b, p, key="pair", self_pairs=False, unique=False, power=1, weighted="pairs"):
    """The grouped-variance ceiling, with the known mistakes' switches."""
    if unique:
        keep = np.sort(np.unique(b.round(9), axis=0, return_index=True)[1])
        b, p = b[keep], p[keep]
    cls = np.unique(p.round(9), axis=0, return_inverse=True)[1].reshape(-1)
    i, j = np.where(~np.eye(len(b), dtype=bool) | self_pairs)
    dB = np.linalg.norm(b[i] - b[j], axis=1) ** power
    dN = np.linalg.norm(p[i] - p[j], axis=1)
    if key == "correlation":
        return float(np.corrcoef(dB, dN)[0, 1] ** 2)
    group = {"pair": np.minimum(cls[i], cls[j]) * len(b) + np.maximum(cls[i], cls[j]),
             "distance": dN.round(9), "one class": cls[i]}[key]
    inv = np.unique(group, return_inverse=True)[1].reshape(-1)
    means = np.bincount(inv, weights=dB) / np.bincount(inv)
    if weighted != "pairs":                           # every group counted once
        centre = means.mean() if weighted == "groups" else dB.mean()
        return float(((means - centre) ** 2).mean() / np.var(dB))
    return float(((means[inv] - dB.mean()) ** 2).sum() / ((dB - dB.mean()) ** 2).sum())


check_next_token_ceiling = Exercise(
    name="next_token_ceiling", signature="next_token_ceiling(beliefs, next_probs) -> float",
    cases=_ceiling_cases, convert=as_float,
    reference=lambda b, p: futures.next_token_distance_ceiling(b, p).any_function, mistakes=(
        Known("returns the squared correlation of the distances",
              lambda b, p: _eta2(b, p, key="correlation"),
              "You returned the squared correlation of belief and next-token distances: the "
              "score of ONE representation, whose distances are the next-token distances. The "
              "ceiling is over every function of the next token: group by the pair."),
        Known("groups pairs by next-token distance, not by the pair",
              lambda b, p: _eta2(b, p, key="distance"),
              "You grouped the pairs by their next-token *distance*. A representation can place "
              "each pair of next-token distributions at its own distance: group by the pair."),
        Known("groups pairs by one point's class only", lambda b, p: _eta2(b, p, key="one class"),
              "You grouped each pair (i, j) by the class of one point only. A distance belongs "
              "to both points: group by the unordered pair (min(c_i, c_j), max(c_i, c_j))."),
        Known("averages the group means with equal weights",
              lambda b, p: _eta2(b, p, weighted="groups"),
              "You counted every group once in the variance of the group means. Each pair "
              "counts: take group_mean[label] for every pair, then its variance.",
              recognise=lambda c: any(close(c.got, _eta2(*c.args, weighted=w))
                                      for w in ("groups", "centred"))),
        Known("includes each point paired with itself", lambda b, p: _eta2(b, p, self_pairs=True),
              "You included each point paired with itself (i = j). The distance test samples "
              "pairs of distinct points; leave out the diagonal."),
        Known("counts each distinct belief once", lambda b, p: _eta2(b, p, unique=True),
              "You counted each distinct belief once. A belief at many points is in many "
              "pairs: keep every point."),
        Known("uses squared distances", lambda b, p: _eta2(b, p, power=2),
              "You used squared distances; the test correlates Euclidean distances."),
        Known("returns the unexplained fraction", lambda b, p: 1 - _eta2(b, p),
              "You returned the *unexplained* fraction (within-group over total); the ceiling "
              "is the explained one."),
    ),
    advice="Over all ordered pairs i != j: R² = Var(E[dB | pair of next-token "
           "distributions]) / Var(dB).",
    summary="Right on 3 cases, repeated points and tied next-token distances included.")


# ---------------------------------------------------------------------------- 6.3 steering
def _steer_cases():
    rng = np.random.default_rng(63)
    # a probe whose 3rd singular value is 1e-9 of the 1st (rounding) and a readout that sums
    # to one up to 1e-7: a full-rank pseudo-inverse makes that a long move the probe can't see
    ones = np.ones((3, 1)) / np.sqrt(3)
    U = np.roll(np.linalg.qr(np.concatenate([ones, rng.normal(size=(3, 2))], axis=1))[0], -1,
                axis=1)
    W = (U * np.array([2.0, 0.8, 2e-9])) @ np.linalg.qr(rng.normal(size=(8, 3)))[0].T
    b, b2 = rng.dirichlet(np.ones(3), size=2)
    out = [("For a 3-state probe on 8 features whose third singular value is 1e-9 of the "
            "first, one pair", (W, b + 1e-7 / 3, b2))]
    for label, S, D, batch in [("a 3-state probe on 8 features, one pair", 3, 8, None),
                               ("a 5-state probe on 12 features, 4 pairs", 5, 12, 4)]:
        W = rng.normal(size=(S, D))
        W -= W.mean(axis=0)                       # a simplex probe: rows sum to zero
        shape = (S,) if batch is None else (batch, S)
        b, b2 = rng.dirichlet(np.ones(S), size=2 * (batch or 1)).reshape(2, *shape)
        out.append((f"For {label}", (W, b, b2)))
    return out


def _full_rank(c):
    full = (c.args[2] - c.args[1]) @ np.linalg.pinv(c.args[0]).T
    return bool(np.abs(full).max() > 10 * np.abs(c.expected).max()) and close(
        c.got, full, atol=1e-6 * np.abs(full).max())


def _not_shortest(W, b, b2):
    """A solution of W delta = b2 - b that uses the first S + 1 features only."""
    sol = np.linalg.lstsq(W[:, :len(W) + 1], (b2 - b).T, rcond=None)[0].T
    return np.concatenate([sol, np.zeros(sol.shape[:-1] + (W.shape[1] - len(W) - 1,))], -1)


check_steering_move = Exercise(
    name="steering_move", signature="steering_move(W, readout, target) -> (..., D)",
    cases=_steer_cases, reference=steering.steering_move, mistakes=(
        Known("returns the change of belief, not a move in activation space",
              lambda W, b, b2: b2 - b,
              "Your move lives in belief space; it must live in activation space (D features): "
              "multiply (target - readout) by the pseudo-inverse of W, (b' - bhat) @ W_pinv.T.",
              recognise=lambda c: np.shape(c.got)[-1:] == (len(c.args[0]),)),
        Known("flips the sign", lambda W, b, b2: steering.steering_move(W, b2, b),
              "Your move has the wrong sign: it moves the reading from the target back past "
              "the readout. Use target - readout."),
        Known("uses W's transpose instead of its pseudo-inverse", lambda W, b, b2: (b2 - b) @ W,
              "You multiplied by W itself (its transpose), not its pseudo-inverse: the probe "
              "then reads W W^T (target - readout), which is right only for orthonormal rows."),
        Known("scales W's transpose by its Frobenius or row norms",
              lambda W, b, b2: (b2 - b) @ W / (W ** 2).sum(),
              "You divided W^T by W's squared norm (the whole matrix's or each row's). That "
              "inverts W only if its rows are orthogonal and of one length; a probe's rows are "
              "neither. The pseudo-inverse undoes W W^T as a matrix: W^T (W W^T)^+.",
              recognise=lambda c: any(close(c.got, m) for m in (
                  (c.args[2] - c.args[1]) @ c.args[0] / (c.args[0] ** 2).sum(),
                  (c.args[2] - c.args[1]) / (c.args[0] ** 2).sum(1) @ c.args[0]))),
        Known("forgets the readout", lambda W, b, b2: steering.steering_move(W, 0 * b, b2),
              "You moved by W_pinv target, leaving out the readout: the probe then reads "
              "readout + target, not target. The move is W_pinv (target - readout)."),
        Known("inverts W's rounding-size singular value (np.linalg.pinv)",
              lambda W, b, b2: (b2 - b) @ np.linalg.pinv(W).T,
              "You inverted every singular value of W, the smallest too: it is 1e-9 of the "
              "largest, zero but for rounding (a probe fitted to beliefs has rank S - 1), and "
              "its inverse blows rounding up into a long move the probe barely reads. Drop "
              "singular values below 1e-8 of the largest (np.linalg.pinv(W, rcond=1e-8)).",
              recognise=_full_rank),
        Known("a valid move that is not the shortest", _not_shortest,
              "Your move makes the probe read the target, but it is longer than it needs to be: "
              "it has a component the probe cannot see. The pseudo-inverse gives the shortest.",
              recognise=lambda c: np.shape(c.got) == np.shape(c.expected) and close(
                  np.asarray(c.got) @ c.args[0].T, c.args[2] - c.args[1], atol=1e-6)),
        Known("normalises the move to length 1", lambda W, b, b2: (lambda d: d / np.linalg.norm(
            d, axis=-1, keepdims=True))(steering.steering_move(W, b, b2)),
              "Your move points the right way but has length 1: do not normalise it."),
    ),
    advice="delta = W_pinv (target - readout), W_pinv the pseudo-inverse of W at rank S - 1; "
           "as rows, (target - readout) @ W_pinv.T: D features per pair.",
    summary="Right on 3 cases: the shortest move that makes the probe read the target.")


# ---------------------------------------------------------------------------- 6.4 GRU cell
def _gru_cases():
    rng = np.random.default_rng(64)
    return [(f"For input {i}, hidden {d}, batch {n}", (
        rng.normal(size=(n, i)), rng.normal(size=(n, d)),       # wide weights: every gate matters
        *(rng.uniform(-1, 1, s) for s in ((3 * d, i), (3 * d, d), (3 * d,), (3 * d,)))))
        for i, d, n in [(3, 4, 5), (2, 6, 3)]]


def _gru_torch(x, h, *weights):
    import torch

    cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
    with torch.no_grad():
        for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), weights):
            p.copy_(torch.as_tensor(v))
        return cell(torch.as_tensor(x), torch.as_tensor(h)).numpy()


def _gru(mode):
    """A GRU step with one known mistake."""
    def step(x, h, w_ih, w_hh, b_ih, b_hh):
        def sig(v):
            return 1 / (1 + np.exp(-v))

        d, hw = h.shape[-1], h @ w_hh.T
        gi, gh = x @ w_ih.T + b_ih, hw + (0 if mode == "no hidden bias" else b_hh)
        order = (1, 0, 2) if mode == "gate order" else (0, 1, 2)
        (ri, zi, ni), (rh, zh, nh) = ([g[:, k * d:(k + 1) * d] for k in order] for g in (gi, gh))
        r, z = sig(ri + rh), sig(zi + zh)
        inner = {"reset before matmul": (r * h) @ w_hh[2 * d:].T + b_hh[2 * d:],
                 "no reset": nh, "b_hn outside": r * hw[:, 2 * d:] + b_hh[2 * d:]}
        n = (sig if mode == "sigmoid candidate" else np.tanh)(ni + inner.get(mode, r * nh))
        return z * n + (1 - z) * h if mode == "swapped update" else (1 - z) * n + z * h
    return step


check_gru_step = Exercise(
    name="gru_step", signature="gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> h'",
    cases=_gru_cases, reference=_gru_torch, mistakes=(
        Known("swaps the update gate's roles", _gru("swapped update"),
              "You swapped the update gate's roles. In torch.nn.GRU, z is how much of the OLD "
              "state is kept: h' = (1 - z) * n + z * h."),
        Known("applies the reset gate before the matrix product (Cho et al.)",
              _gru("reset before matmul"),
              "You applied the reset gate to h before the matrix product, W_hn (r * h) + b_hn "
              "(the variant of Cho et al. 2014). torch.nn.GRU multiplies r into the product and "
              "its bias: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."),
        Known("adds b_hn outside the reset gate", _gru("b_hn outside"),
              "You added b_hn outside the reset gate, r * (W_hn h) + b_hn. In torch.nn.GRU the "
              "reset gate multiplies the hidden part with its bias: r * (W_hn h + b_hn)."),
        Known("reads the gates in the order z, r, n", _gru("gate order"),
              "You read the gates in the order z, r, n. torch.nn.GRU stacks its weight rows as "
              "r (reset), z (update), n (new): rows 0:d, d:2d, 2d:3d."),
        Known("forgets the reset gate", _gru("no reset"),
              "You left out the reset gate: the candidate is n = tanh(W_in x + b_in + r * "
              "(W_hn h + b_hn))."),
        Known("uses a sigmoid for the candidate", _gru("sigmoid candidate"),
              "The candidate state n uses tanh, not the sigmoid (only r and z are sigmoids)."),
        Known("forgets bias_hh", _gru("no hidden bias"),
              "You left out bias_hh: torch.nn.GRU adds both biases, b_ih to the input part and "
              "b_hh to the hidden part."),
    ),
    advice="r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + "
           "b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.",
    summary="Your GRU step matches torch.nn.GRU on 2 cases (random weights, batches).")


# ---------------------------------------------------------------------------- 6.5 sign test
def _sign_cases():
    rng = np.random.default_rng(65)
    control = rng.gamma(2.0, 0.1, 12)
    steered = control * np.exp(rng.normal(-0.4, 0.6, 12))
    steered[[2, 7]] = control[[2, 7]]             # two ties
    big_c = rng.gamma(2.0, 0.1, 40)
    big_s = big_c * np.exp(rng.normal(-0.2, 1.0, 40))
    return [("For 12 pairs, 2 of them tied", (steered, control)),
            ("For 40 pairs, no ties", (big_s, big_c)),
            ("For 6 pairs where steering loses every time", (control[:6] * 2, control[:6]))]


def _sign(s, c, mode="exact"):
    """The sign test's p-value (scipy's binomtest), or what a known mistake gives."""
    from scipy.stats import binomtest

    wins, losses = int((s < c).sum()), int((s > c).sum())
    n, k = (len(s) if mode == "ties" else wins + losses), (losses if mode == "reversed" else wins)
    if mode == "normal":
        return 0.5 * math.erfc((k - n / 2) / math.sqrt(n / 2))
    p = binomtest(k, n, 0.5, alternative="two-sided" if mode == "two-sided" else "greater")
    return p.pvalue - (mode == "strict") * math.comb(n, k) / 2 ** n


check_sign_test = Exercise(
    name="sign_test", signature="sign_test(kl_steered, kl_control) -> p_value",
    cases=_sign_cases, reference=_sign, convert=as_float, mistakes=(
        Known("computes P(K > k)", lambda s, c: _sign(s, c, "strict"),
              "Off by one: you computed P(K > k). The p-value is the probability of a result "
              "at least as extreme as the one observed, P(K >= k)."),
        Known("two-sided p-value", lambda s, c: _sign(s, c, "two-sided"),
              "You computed a two-sided p-value. The question is one-sided: does steering beat "
              "the control (smaller KL)?"),
        Known("keeps the ties in n", lambda s, c: _sign(s, c, "ties"),
              "You kept the tied pairs in n. A tie favours neither side; the sign test drops "
              "ties and counts n = wins + losses."),
        Known("counts the losses as wins", lambda s, c: _sign(s, c, "reversed"),
              "You counted the pairs where steering did *worse* (larger KL). A win is "
              "kl_steered < kl_control."),
        Known("uses the normal approximation", lambda s, c: _sign(s, c, "normal"),
              "You used the normal approximation. With a few dozen pairs it is noticeably off; "
              "sum the exact binomial probabilities (math.comb)."),
    ),
    advice="k = #(kl_steered < kl_control), n = #(kl_steered != kl_control), "
           "p = sum_{j >= k} C(n, j) / 2**n.",
    summary="Right on 3 cases: the exact one-sided sign test, ties dropped.")

EXERCISES = (check_future_distribution, check_next_token_ceiling, check_steering_move,
             check_gru_step, check_sign_test)
