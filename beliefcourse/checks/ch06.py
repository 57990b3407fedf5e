"""Exercises of practice notebook 06 (beyond the next token, beyond transformers)."""

import itertools
import math
from functools import partial, reduce

import numpy as np
import torch

from .. import processes
from ..hmm import HMM
from ..probing import futures
from ..steering import steering_move as _move
from ._core import Exercise, as_float, close


def _future_cases():
    rng, mess3, rrxor = np.random.default_rng(6), processes.mess3(), processes.rrxor()
    T3 = (lambda T: T / T.sum(axis=(0, 2), keepdims=True))(rng.random((2, 3, 3)) ** 2)
    return [("For Mess3, a random belief, k = 2", (mess3.T, rng.dirichlet(np.ones(3)), 2)),
            ("For RRXOR, a random belief, k = 3", (rrxor.T, rng.dirichlet(np.ones(5)), 3)),
            ("For a random 2-token HMM, k = 3", (T3, rng.dirichlet(np.ones(3)), 3)),
            ("For Mess3, a corner belief, k = 1", (mess3.T, np.eye(3)[1], 1))]


def _words(T, b, k):                    # P(word | b) for every word, itertools.product order
    return np.array([reduce(lambda v, x: v @ T[x], w, np.asarray(b, float)).sum()
                     for w in itertools.product(range(len(T)), repeat=k)])


check_future_distribution = Exercise(
    name="future_distribution", signature="future_distribution(T, belief, k) -> (X**k,)",
    cases=_future_cases, process_first=1,
    reference=lambda T, b, k: futures.future_distributions(HMM(T), b, k), mistakes=[
        ("returns log-probabilities", lambda T, b, k: np.log(_words(T, b, k)), "You returned "
         "log-probabilities: return P(word) itself.", "", lambda c: any(
             close(e ** np.asarray(c.got, float), c.expected) for e in (np.e, 2, 10))),
        ("normalises the state vector after every token", lambda T, b, k: _words(T, b, k) / (
            np.repeat(_words(T, b, k - 1), len(T))), "You normalised after each token: keep "
         "b T^(x_1)...T^(x_k) unnormalised."),
        ("numbers words with the last token most significant", lambda T, b, k: _words(
            T, b, k).reshape((len(T),) * k).T.ravel(), "Right entries in the wrong order: the "
         "FIRST token is the most significant."),
        ("multiplies by T[x] transposed", lambda T, b, k: _words(T.transpose(0, 2, 1), b, k),
         "You multiplied by T[x] transposed: a row vector of beliefs is updated as b @ T[x]."),
        ("starts from another belief", lambda T, b, k: _words(T, HMM(T).stationary(), k),
         "You started from another belief (pi, or b advanced one step): start from the given "
         "one.", "", lambda c: (lambda T, b, k: any(close(c.got, _words(T, v, k)) for v in (
             HMM(T).stationary(), b @ T.sum(0))))(*c.args)),
        ("treats the tokens as independent given the belief", lambda T, b, k: reduce(
            np.multiply.outer, [b @ T.sum(2).T] * k).ravel(), "You multiplied next-token "
         "probabilities, as if the tokens were independent: carry b T^(x_1) ... forward.")],
    advice="P(x_1..x_k | b) = b T^(x_1) ... T^(x_k) 1, one entry per word: shape (X**k,).",
    summary="Right on 4 cases (Mess3, RRXOR, a random HMM; k = 1 to 3).")


def _ceiling_cases():
    rng, out = np.random.default_rng(60), []
    for n, n_classes, n_points, k in [(12, 4, 40, 0), (9, 3, 30, 1)]:   # repeated points
        bel, nxt = rng.dirichlet(np.ones(4), size=n), rng.dirichlet(np.ones(3), size=n_classes)
        pick = np.r_[np.arange(n), rng.integers(0, n, n_points - n)]    # k: and float noise
        out.append((f"For {n} beliefs in {n_classes} classes" + ", rows equal up to 1e-14" * k,
                    (bel[pick], nxt[pick % n_classes] * rng.normal(1, 1e-14 * k, (n_points, 1)))))
    nxt = np.array([[.5, .5], [.7, .3], [.3, .7]])[[0, 0, 1, 1, 2, 2, 0, 1]]  # dN ties 2 pairs
    return out + [("For 8 points whose next-token distances tie (0.5 to 0.7 and 0.5 to 0.3)",
                   (rng.dirichlet(np.ones(3), size=8), nxt))]


def _eta2(b, p, key="pair", self_pairs=False, unique=False, power=1, weighted="pairs", exact=0):
    keep = np.sort(np.unique(b.round(9), axis=0, return_index=True)[1]) if unique else slice(None)
    b, p = b[keep], p[keep]
    cls = np.unique(p if exact else p.round(9), axis=0, return_inverse=True)[1].reshape(-1)
    i, j = np.where(~np.eye(len(b), dtype=bool) | self_pairs)
    dB, dN = np.linalg.norm(b[i] - b[j], axis=1) ** power, np.linalg.norm(p[i] - p[j], axis=1)
    group = {"pair": np.minimum(cls[i], cls[j]) * len(b) + np.maximum(cls[i], cls[j]),
             "dN": dN.round(9), "one": cls[i]}[key]
    inv = np.unique(group, return_inverse=True)[1].reshape(-1)
    means = np.bincount(inv, weights=dB) / np.bincount(inv)
    fit = means[inv] if weighted == "pairs" else means    # or every group counted once
    return float(((fit - (means if weighted == "groups" else dB).mean()) ** 2).mean() / dB.var())


check_next_token_ceiling = Exercise(
    name="next_token_ceiling", signature="next_token_ceiling(beliefs, next_probs) -> float",
    cases=_ceiling_cases, convert=as_float,
    reference=lambda b, p: futures.next_token_distance_ceiling(b, p).any_function, mistakes=[
        ("returns the squared correlation of the distances", lambda b, p: futures.
         next_token_distance_ceiling(b, p).isometric, "You returned the squared correlation: it "
         "scores one representation; the ceiling is over every function of the next token."),
        ("returns the unexplained fraction", lambda b, p: 1 - _eta2(b, p),
         "You returned the *unexplained* fraction (within-group / total): return 1 minus it.")] + [
        (m, partial(_eta2, **kws[0]), d, "", lambda c, kws=kws: any(
            close(c.got, _eta2(*c.args, **kw)) for kw in kws)) for m, d, *kws in [
            ("groups pairs by next-token distance or one point's class", "Group each pair by its "
             "unordered pair of next-token classes, not by their distance or one point's class.",
             {"key": "dN"}, {"key": "one"}),
            ("includes each point paired with itself", "You included each point paired with "
             "itself (i = j): leave out the diagonal.", {"self_pairs": True}),
            ("counts each distinct belief once", "You counted each distinct belief once; a "
             "repeated belief is in many pairs.", {"unique": True}),
            ("uses squared distances", "You used squared, not Euclidean, distances.", {"power": 2}),
            ("classes by exact float equality", "Your classes split next-token rows that differ "
             "by float noise: round them (.round(9)) before np.unique.", {"exact": 1}),
            ("averages the group means with equal weights", "You counted every group once; each "
             "pair counts: take group_mean[label] for every pair.", {"weighted": "groups"},
             {"weighted": "centred"})]],
    advice="Over ordered pairs i != j: R² = Var(E[dB | pair of next-token classes]) / Var(dB).",
    summary="Right on 3 cases, repeated points and tied next-token distances included.")


def _steer_cases():
    rng = np.random.default_rng(63)
    # sigma_3 = 1e-9 sigma_1 (rounding), a readout summing to 1 + 1e-7: inverting sigma_3 moves far
    U = np.roll(np.linalg.qr(np.c_[np.ones(3) / np.sqrt(3), rng.normal(size=(3, 2))])[0], -1, 1)
    W = (U * np.array([2.0, 0.8, 2e-9])) @ np.linalg.qr(rng.normal(size=(8, 3)))[0].T
    b, b2 = rng.dirichlet(np.ones(3), size=2)     # at scale 1000, 2e-6 is small only relatively
    out = [(f"For a probe on 8 features with singular values {2 * c:g}, {0.8 * c:g}, {2e-9 * c:g}",
            (c * W, b + 1e-7 / 3, b2)) for c in (1, 1000)]
    return out + [("For a full-rank 5-state probe on 12 features, 4 pairs", (  # keep every sigma
        rng.normal(size=(5, 12)), *rng.dirichlet(np.ones(5), size=(2, 4))))]


check_steering_move = Exercise(
    name="steering_move", signature="steering_move(W, readout, target) -> (..., D)",
    cases=_steer_cases, reference=_move, untouched=True, mistakes=[
        ("flips the sign", lambda W, b, b2: -_move(W, b, b2), "Wrong sign: use target - readout."),
        ("uses W^T, perhaps scaled, for W's pseudo-inverse", lambda W, b, b2: (b2 - b) @ W,
         "You used W^T (perhaps divided by a norm of W), not W's pseudo-inverse.", "", lambda c: (
             lambda W, b, b2: any(close(c.got, (b2 - b) @ (W / n)) for n in (
                 1, (W ** 2).sum(), (W ** 2).sum(1, keepdims=True))))(*c.args)),
        ("forgets the readout", lambda W, b, b2: _move(W, 0 * b, b2),
         "You moved by W_pinv target, leaving out the readout: use W_pinv (target - readout)."),
        ("an absolute cut-off", lambda W, *b: _move(W, *b, 1e-8 / np.linalg.norm(W, 2)),
         "Your cut-off is absolute (sigma >= 1e-8): make it relative, 1e-8 * sigma[0]."),
        ("drops the last singular value", lambda W, *b: _move(W, *b, 1.01 / np.linalg.cond(W)),
         "You dropped the last singular value, but this W has full rank: keep it."),
        ("inverts a rounding-size singular value", lambda W, b, b2: (b2 - b) @ np.linalg.pinv(W).T,
         "You inverted a rounding-size singular value: use np.linalg.pinv(W, rcond=1e-8)."),
        ("a valid move that is not the shortest", lambda W, b, b2: _move(W, b, b2) + (np.eye(
            W.shape[1]) - np.linalg.pinv(W, 1e-8) @ W)[0], "Your move has a component the probe "
         "cannot see: the pseudo-inverse gives the shortest.", "", lambda c: np.shape(c.got) ==
         np.shape(c.expected) and close(c.got @ c.args[0].T, c.args[2] - c.args[1], atol=1e-6)),
        ("normalises the move to length 1", lambda W, b, b2: _move(W, b, b2) / np.linalg.norm(
            _move(W, b, b2), axis=-1, keepdims=True), "Your move has length 1: do not normalise.")],
    advice="delta = (target - readout) @ W_pinv.T, W_pinv the pseudo-inverse of W at rank S - 1.",
    summary="Right on 3 cases: the shortest move that makes the probe read the target.")


def _gru_cases():
    rng = np.random.default_rng(64)
    return [(f"For input {i}, hidden {d}, batch {n}", (
        rng.normal(size=(n, i)), rng.normal(size=(n, d)),       # wide weights: every gate matters
        *(rng.uniform(-1, 1, s) for s in ((3 * d, i), (3 * d, d), (3 * d,), (3 * d,)))))
        for i, d, n in [(3, 4, 5), (2, 6, 3)]]


def _gru(x, h, w_ih, w_hh, b_ih, b_hh, mode):
    d, hw, sig = h.shape[-1], h @ w_hh.T, lambda v: 1 / (1 + np.exp(-v))
    gi, gh = x @ w_ih.T + b_ih, hw + (0 if mode == "no b_hh" else b_hh)
    (ri, zi, ni), (rh, zh, nh) = ((g[:, 0::3], g[:, 1::3], g[:, 2::3]) if mode == "every 3rd"
                                  else np.split(g, 3, axis=1) for g in (gi, gh))
    r, z = (sig(ri + rh), sig(zi + zh))[::1 - 2 * (mode == "zrn")]
    inner = {"cho": (r * h) @ w_hh[2 * d:].T + b_hh[2 * d:], "no r": nh,
             "b_hn out": r * hw[:, 2 * d:] + b_hh[2 * d:]}.get(mode, r * nh)
    n = (sig if mode == "sigmoid" else np.tanh)(ni + inner)
    return z * n + (1 - z) * h if mode == "swap" else (1 - z) * n + z * h


def _gru_torch(x, h, *weights):         # the reference: torch.nn.GRUCell with these weights
    cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
    cell.load_state_dict(dict(zip(dict(cell.named_parameters()), map(torch.as_tensor, weights))))
    return cell(torch.as_tensor(x), torch.as_tensor(h)).detach().numpy()


check_gru_step = Exercise(
    name="gru_step", signature="gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> h'",
    cases=_gru_cases, reference=_gru_torch, untouched=True, mistakes=[("updates h in place",
        lambda x, h, *w: np.copyto(h, _gru(x, h, *w, "")) or h, None, "changed `h` in place")] + [
        (m, partial(_gru, mode=mode), *more) for m, mode, *more in [
            ("swaps the update gate's roles", "swap", "You swapped z, 1 - z: z keeps the OLD h."),
            ("misplaces or forgets the reset gate (Cho et al., b_hn outside)", "cho", "Misplaced "
             "reset gate (on h first, b_hn outside it, or none): use r * (W_hn h + b_hn).", "",
             lambda c: any(close(c.got, _gru(*c.args, m)) for m in ("cho", "b_hn out", "no r"))),
            ("reads the gates as z, r, n", "zrn", "You read z, r, n: torch.nn.GRU stacks r, z, n."),
            ("takes every third column for a gate", "every 3rd", "You took every third column (0::3"
             ", 1::3, 2::3): the gates are stacked in blocks of d columns, [r | z | n]."),
            ("a sigmoid for the candidate", "sigmoid", "The candidate n uses tanh, not a sigmoid."),
            ("forgets bias_hh", "no b_hh", "You left out bias_hh: add b_hh to the hidden part.")]],
    advice="r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + "
           "b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.",
    summary="Your GRU step matches torch.nn.GRU on 2 cases (random weights, batches).")


def _sign_cases():
    rng = np.random.default_rng(65)
    control = rng.gamma(2.0, 0.1, 12)
    steered = control * rng.lognormal(-0.4, 0.6, 12) ** (np.arange(12) % 5 != 2)  # 2, 7 tied
    big, huge = rng.gamma(2.0, 0.1, 40), rng.gamma(2.0, 0.1, 200)
    return [("For 12 pairs, 2 of them tied", (steered, control)),
            ("For 40 pairs, no ties", (big * rng.lognormal(-0.2, 1.0, 40), big)),
            ("For 6 pairs where steering loses every time", (control[:6] * 2, control[:6])),
            ("For 200 pairs (2**200 overflows int64)", (huge * rng.lognormal(-0.4, 1, 200), huge))]


def _sign(s, c, mode="exact"):          # the exact one-sided p-value, or a known mistake
    wins, losses = int((s < c).sum()), int((s > c).sum())
    n, k = (len(s) if mode == "ties" else wins + losses), (losses if mode == "reversed" else wins)
    tail = sum(math.comb(n, j) for j in range(k + (mode == "strict"), n + 1))
    with np.errstate(all="ignore"):             # np.int64(2) ** n wraps to 0 for n >= 64
        p = np.divide(float(tail), np.int64(2) ** n) if mode == "int64" else tail / 2 ** n
    return (0.5 * math.erfc((k - n / 2) / math.sqrt(n / 2)) if mode == "normal" else
            min(1.0, 2 * p) if mode == "two-sided" else p)


check_sign_test = Exercise(
    name="sign_test", signature="sign_test(kl_steered, kl_control) -> p_value",
    cases=_sign_cases, reference=_sign, convert=as_float, mistakes=[
        (m, partial(_sign, mode=mode), *more) for m, mode, *more in [
            ("computes P(K > k)", "strict", "Off by one: the p-value is P(K >= k), not P(K > k)."),
            ("two-sided p-value", "two-sided", "You computed a two-sided p-value; the question "
             "is one-sided: does steering beat the control (smaller KL)?", "", lambda c: any(
                 close(c.got, min(1, 2 * p)) for p in (c.expected, _sign(*c.args, "reversed")))),
            ("keeps the ties in n", "ties", "You kept the tied pairs in n: n = wins + losses."),
            ("counts the losses as wins", "reversed", "A win is kl_steered < kl_control, not >."),
            ("normal approximation", "normal", "Sum exact binomials, not a normal approximation."),
            ("computes 2**n in 64-bit integers", "int64", "2**n overflowed numpy's 64-bit "
             "integers: use Python integers (int(n)) or scipy.stats.binomtest.")]],
    advice="k = #(steered < control), n = #(steered != control), p = sum_{j >= k} C(n, j) / 2**n.",
    summary="Right on 4 cases (6 to 200 pairs): the exact one-sided sign test, ties dropped.")

EXERCISES = (check_future_distribution, check_next_token_ceiling, check_steering_move,
             check_gru_step, check_sign_test)
