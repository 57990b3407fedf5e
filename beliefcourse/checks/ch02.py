"""Checkers for practice notebook 02 (Bayesian belief updating).

Same design as :mod:`beliefcourse.checks.ch01`: each checker runs the learner's function on the
course's processes, on edge cases (certain beliefs, tokens of zero probability, L = 0 or 1) and
on seeded random HMMs, compares with the package's reference, and when answers are wrong names
the typical mistake that explains all of them.

| checker | learner function |
|---|---|
| :func:`check_update` | ``update(belief, T, token) -> belief'`` |
| :func:`check_next_token_distribution` | ``next_token_distribution(belief, T) -> probs`` |
| :func:`check_belief_trajectory` | ``belief_trajectory(T, pi, tokens) -> (L + 1, S)`` |
| :func:`check_state_uncertainty` | ``state_uncertainty(T, pi, L) -> bits`` |
| :func:`check_myopic_entropy` | ``myopic_entropy(T, pi, L) -> nats`` |
| :func:`check_ideal_losses` | ``ideal_losses(T, pi, tokens) -> (n,)`` nats per model position |
"""

from __future__ import annotations

import numpy as np

from .. import processes
from ..enumerate import all_sequences
from ._core import Case, Mistake, as_array, as_float, close, describe_shapes, fmt, judge, run
from .ch01 import random_hmms

__all__ = [
    "check_belief_trajectory",
    "check_ideal_losses",
    "check_myopic_entropy",
    "check_next_token_distribution",
    "check_state_uncertainty",
    "check_update",
]

LN2 = float(np.log(2.0))


def _normalise(v):
    total = v.sum()
    return v / total if total > 0 else np.full_like(v, np.nan)


def _entropy(p, base=np.e):
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / np.log(base))


def _belief_inputs(seed):
    """(label, T, belief, token) with P(token | belief) > 0: the course's processes at
    uniform, skewed and certain beliefs, then random HMMs at random beliefs."""
    rng = np.random.default_rng(seed)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    inputs = [
        ("Z1R, prior pi, token 0", z1r.T, z1r.stationary(), 0),
        ("Z1R, belief (1/3, 2/3, 0), token 1", z1r.T, np.array([1 / 3, 2 / 3, 0]), 1),
        ("Mess3, prior pi, token A", mess3.T, mess3.stationary(), 0),
        ("Mess3, belief (0.7, 0.2, 0.1), token C", mess3.T, np.array([0.7, 0.2, 0.1]), 2),
        ("RRXOR, prior pi, token 1", rrxor.T, rrxor.stationary(), 1),
        ("RRXOR, certain of state S, token 0", rrxor.T, np.eye(5)[0], 0),
    ]
    for name, hmm in random_hmms(seed + 1, 6):
        belief = rng.dirichlet(np.ones(hmm.n_states))
        probs = np.einsum("i,xij->x", belief, hmm.T)
        token = int(rng.choice(hmm.n_tokens, p=probs / probs.sum()))
        inputs.append((f"{name}, belief {fmt(belief)}, token {token}", hmm.T, belief, token))
    return inputs


# ---------------------------------------------------------------------------- update
def _test_update(fn):
    inputs = _belief_inputs(seed=211)
    cases = []
    for name, T, belief, token in inputs:
        S = T.shape[1]
        belief_in = belief.copy()
        got = as_array(fn(belief_in, T.copy(), token), f"update for {name}")
        if not np.array_equal(belief_in, belief):
            raise Mistake(f"For {name} your function changed the `belief` array it was given "
                          "(in place). Compute a new array instead: the caller may still need "
                          "the old belief.")
        Tx = T[token]
        joint = belief @ Tx
        next_token = np.einsum("i,xij->x", belief, T)
        if got.shape != (S,):
            if close(got, next_token):
                raise Mistake(f"For {name} you returned the next-token distribution "
                              "P(x | eta), one entry per token, instead of the updated belief "
                              "over the hidden states.")
            raise Mistake(f"For {name} expected a belief of shape ({S},) — one entry per "
                          f"hidden state — got shape {got.shape}.")
        if not np.all(np.isfinite(got)):
            raise Mistake(f"For {name} your belief contains NaN or inf ({fmt(got)}), although "
                          "the token is possible here.")
        variants = [
            ("unnormalised", joint,
             f"Your belief is not normalised (it sums to {got.sum():.4g}): divide eta T^(x) "
             "by its sum eta T^(x) 1, the probability of the token."),
            ("net matrix", belief @ T.sum(0),
             "You used the net matrix T.sum(0) instead of T[token]: that is the belief about "
             "the next state when the token is *not* observed. Use the labelled matrix of the "
             "token you saw."),
            ("transposed", _normalise(Tx @ belief),
             "You multiplied the matrix by a column vector (`T[token] @ belief`), which sums "
             "over the destination state. Rows are the current state (T[x, i, j] = P(emit x, "
             "go to j | in i)), so the belief multiplies from the left: "
             "`belief @ T[token]`."),
            ("transposed, unnormalised", Tx @ belief,
             "You computed `T[token] @ belief` (column convention) and did not normalise. Use "
             "`belief @ T[token]`, then divide by its sum."),
            ("no move", _normalise(belief * Tx.sum(1)),
             "You reweighted the *current* state by how likely it is to emit the token, but "
             "did not move it forward to the next state. Multiply by the whole matrix, "
             "`belief @ T[token]`, then normalise."),
        ]
        cases.append(Case(f"For {name}", got, _normalise(joint), variants,
                          advice="Compute `belief @ T[token]` and divide it by its sum."))
    judge(cases)
    # impossible tokens: Bayes' rule is undefined and the function must say so
    z1r, rrxor = processes.z1r(), processes.rrxor()
    impossible = [("Z1R, certain of S0, token 1", z1r.T, np.eye(3)[0], 1),
                  ("RRXOR, certain of state T, token 0", rrxor.T, np.eye(5)[3], 0)]
    for name, T, belief, token in impossible:
        try:
            with np.errstate(all="ignore"):
                got = fn(belief.copy(), T.copy(), token)
        except ValueError:
            continue
        except ZeroDivisionError:
            raise Mistake(f"For {name} — a token of probability zero — your function raised "
                          "ZeroDivisionError. Check the probability eta T^(x) 1 first and "
                          "raise a ValueError that says the token is impossible.") from None
        arr = np.asarray(got, dtype=float) if got is not None else np.array([])
        shown = "None" if got is None else ("NaN" if np.any(np.isnan(arr)) else fmt(arr))
        raise Mistake(f"Possible tokens are handled correctly, but for {name} — a token of "
                      f"probability zero — your function returned {shown}. Bayes' rule is "
                      "undefined there: raise a ValueError (`if p == 0: raise "
                      "ValueError(...)`) so that an impossible input cannot travel on "
                      "silently.")
    return (f"Correct on {len(inputs)} updates (Z1R, Mess3, RRXOR, certain and random beliefs, "
            "random HMMs), and tokens of probability zero raise ValueError.")


def check_update(update):
    """Check ``update(belief, T, token) -> eta T^(x) / (eta T^(x) 1)``."""
    return run("update", _test_update, update)


# ---------------------------------------------------------------------------- next token
def _test_next_token_distribution(fn):
    inputs = _belief_inputs(seed=212)
    cases = []
    for name, T, belief, _ in inputs:
        name = name.rsplit(", token", 1)[0]
        X = T.shape[0]
        got = as_array(fn(belief.copy(), T.copy()), f"next_token_distribution for {name}")
        if got.shape != (X,):
            if close(got, belief @ T.sum(0)):
                raise Mistake(f"For {name} you returned eta T, the distribution of the next "
                              "*state*. The exercise asks for one probability per token: "
                              "eta T^(x) 1 for each x.")
            if close(got, np.einsum("i,xij->xj", belief, T)):
                raise Mistake(f"For {name} you returned the matrix eta T^(x) of shape "
                              f"{got.shape}, one row per token and one column per next state. "
                              "P(x | eta) also sums over the next state: eta T^(x) 1 "
                              "(`.sum(-1)`).")
            raise Mistake(f"For {name} ({X} tokens): "
                          f"{describe_shapes(got.shape, (X,))}.")
        S = T.shape[1]
        variants = [
            ("ignores belief", np.einsum("i,xij->x", np.full(S, 1 / S), T),
             "You ignored the belief: your answer weights every hidden state equally. "
             "Weight state i by eta_i: P(x | eta) = sum over i of eta_i T[x, i, :].sum()."),
            ("transposed", np.einsum("j,xij->x", belief, T),
             "You summed the belief against the destination state (the column convention, "
             "`T[x] @ belief`). Rows are the current state: P(x | eta) = sum over i, j of "
             "eta_i T[x, i, j]."),
            ("argmax", T[:, np.argmax(belief), :].sum(-1),
             "You used only the most likely state's row. Average over the belief: the sum "
             "over i of eta_i P(x | state i)."),
            ("uniform", np.full(X, 1 / X), "You returned the uniform distribution."),
        ]
        cases.append(Case(f"For {name}", got, np.einsum("i,xij->x", belief, T), variants,
                          advice="Compute `belief @ T[x] @ ones` for each token x (or "
                                 "`np.einsum(\"i,xij->x\", belief, T)`)."))
    judge(cases)
    return f"Correct on {len(inputs)} beliefs from Z1R, Mess3, RRXOR and random HMMs."


def check_next_token_distribution(next_token_distribution):
    """Check ``next_token_distribution(belief, T) -> [eta T^(x) 1 for each x]``."""
    return run("next_token_distribution", _test_next_token_distribution,
               next_token_distribution)


# ---------------------------------------------------------------------------- trajectories
def _trajectory(T, pi, tokens, *, transpose=False, normalise=True, net=False):
    rows = [np.asarray(pi, dtype=float)]
    for x in tokens:
        M = T.sum(0) if net else T[x]
        v = M @ rows[-1] if transpose else rows[-1] @ M
        rows.append(_normalise(v) if normalise else v)
    return np.array(rows)


def _trajectory_inputs(seed):
    rng = np.random.default_rng(seed)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    inputs = [
        ("Z1R, tokens 110110", z1r, [1, 1, 0, 1, 1, 0]),
        ("Z1R, a single token 0", z1r, [0]),
        ("RRXOR, tokens 0110", rrxor, [0, 1, 1, 0]),
    ]
    toks, _ = mess3.sample(1, 12, seed=int(rng.integers(1 << 30)))
    inputs.append(("Mess3, 12 sampled tokens", mess3, toks[0].tolist()))
    for name, hmm in random_hmms(seed + 1, 4):
        toks, _ = hmm.sample(1, int(rng.integers(3, 9)), seed=int(rng.integers(1 << 30)))
        inputs.append((f"{name}, tokens {toks[0].tolist()}", hmm, toks[0].tolist()))
    return inputs


def _test_belief_trajectory(fn):
    inputs = _trajectory_inputs(seed=213)
    cases = []
    for name, hmm, tokens in inputs:
        T, pi = hmm.T, hmm.stationary()
        L, S = len(tokens), hmm.n_states
        expected = _trajectory(T, pi, tokens)
        got = as_array(fn(T.copy(), pi.copy(), list(tokens)), f"belief_trajectory for {name}")
        if got.shape == (L, S) and close(got, expected[1:]):
            raise Mistake(f"For {name} ({L} tokens) you returned {L} beliefs, starting with "
                          "the belief after the first token. Row 0 must be the prior pi, so "
                          f"the result has L + 1 = {L + 1} rows: row t is the belief after "
                          "the first t tokens.")
        if got.shape == (L, S) and close(got, expected[:-1]):
            raise Mistake(f"For {name} you returned the prior and the beliefs after the first "
                          f"L - 1 tokens, but not the last one: apply all {L} tokens; the "
                          f"result has L + 1 = {L + 1} rows.")
        if got.shape != (L + 1, S):
            raise Mistake(f"For {name} ({L} tokens, {S} states): "
                          f"{describe_shapes(got.shape, (L + 1, S))}. Return one row per "
                          "time step: the prior, then one belief per token.")
        variants = [
            ("shifted back", np.vstack([got[:1], expected[:-1]]),
             "Your rows are shifted by one: row t holds the belief after t - 1 tokens. Row 0 "
             "is pi, and row t is the update of row t - 1 by tokens[t - 1]."),
            ("shifted forward", np.vstack([expected[1:], got[-1:]]),
             "Your rows are shifted by one: row t holds the belief after t + 1 tokens. Row 0 "
             "must be the prior pi (no tokens seen)."),
            ("unnormalised", _trajectory(T, pi, tokens, normalise=False),
             "Your beliefs are not normalised: divide by the sum after each update (the rows "
             "you return sum to the word probabilities P(x_1..x_t))."),
            ("net matrix", _trajectory(T, pi, tokens, net=True),
             "You updated with the net matrix T.sum(0) instead of T[token], so the tokens "
             "never enter."),
            ("transposed", _trajectory(T, pi, tokens, transpose=True),
             "You multiplied `T[token] @ belief` (column convention); use "
             "`belief @ T[token]`."),
        ]
        t = int(np.argmax(np.abs(got - expected).max(axis=1)))
        advice = (f"Row {t} (the belief after {t} tokens) should be {fmt(expected[t])}, yours "
                  f"is {fmt(got[t])}. Row 0 is pi; each later row is the update of the "
                  "previous row by the next token.")
        cases.append(Case(f"For {name}", got, expected, variants, advice=advice))
    judge(cases)
    return (f"Correct on {len(inputs)} sequences (Z1R, RRXOR, Mess3 and random HMMs), with "
            "the prior at index 0.")


def check_belief_trajectory(belief_trajectory):
    """Check ``belief_trajectory(T, pi, tokens)``: shape ``(L + 1, S)``, row 0 = pi."""
    return run("belief_trajectory", _test_belief_trajectory, belief_trajectory)


# ---------------------------------------------------------------------------- enumeration
def _words(hmm, pi, L):
    """(P(w), belief after w) over all possible words w of length L."""
    if L == 0:
        return np.ones(1), np.asarray(pi, dtype=float)[None]
    words = all_sequences(hmm, L, prior=pi)
    return words.probs, words.beliefs[:, -1]


def _state_uncertainty(hmm, pi, L):
    probs, etas = _words(hmm, pi, L)
    return float(sum(p * _entropy(eta, 2) for p, eta in zip(probs, etas)))


def _myopic(hmm, pi, L):
    probs, etas = _words(hmm, pi, L - 1)
    nxt = np.einsum("ni,xij->nx", etas, hmm.T)
    return float(sum(p * _entropy(q) for p, q in zip(probs, nxt)))


def _scalar_answer(fn, hmm, pi, L, name, nan_advice):
    raw = fn(hmm.T.copy(), pi.copy(), L)
    arr = np.asarray(raw) if raw is not None else None
    if (arr is not None and arr.size == 1 and np.issubdtype(arr.dtype, np.floating)
            and np.isnan(arr.reshape(()))):
        raise Mistake(f"For {name} with L = {L} you returned NaN. {nan_advice}")
    return as_float(raw, f"your function for {name}, L = {L}")


def _enumeration_hmms(seed):
    return ([("Z1R", processes.z1r(), (0, 1, 2, 3, 5)),
             ("Mess3", processes.mess3(), (0, 1, 3)),
             ("RRXOR", processes.rrxor(), (2, 5)),
             ("the even process (p = 0.3)", processes.even_process(0.3), (1, 4))]
            + [(name, hmm, (1, 3)) for name, hmm in random_hmms(seed, 2, max_states=4)])


def _test_state_uncertainty(fn):
    cases = []
    for name, hmm, lengths in _enumeration_hmms(seed=214):
        pi = hmm.stationary()
        for L in lengths:
            got = _scalar_answer(fn, hmm, pi, L, name,
                                 "A belief with a zero entry gives 0 * log 0 = 0 * (-inf) = "
                                 "nan in numpy; by convention (and as a limit) 0 log 0 = 0, "
                                 "so drop the zero entries before taking logs. Also skip "
                                 "impossible words.")
            expected = _state_uncertainty(hmm, pi, L)
            probs, etas = _words(hmm, pi, L)
            variants = [
                ("nats", expected * LN2,
                 "You used the natural log. U(L) is in bits here: use np.log2 (your value is "
                 "the bits value times ln 2)."),
                ("unweighted", float(np.mean([_entropy(eta, 2) for eta in etas])),
                 "You averaged the entropies with equal weight over the possible words. "
                 "Weight each word by its probability P(w)."),
                ("entropy of average", _entropy(probs @ etas, 2),
                 "You took the entropy of the *average* belief, which is always H[pi]. Average "
                 "the entropies instead: the sum over w of P(w) H[eta(w)]."),
                ("next token", float(sum(p * _entropy(q, 2) for p, q in
                                         zip(probs, np.einsum("ni,xij->nx", etas, hmm.T)))),
                 "You took the entropy of the next-*token* distribution. State uncertainty is "
                 "the entropy of the belief over hidden states itself, H[eta(w)]."),
                ("L - 1", _state_uncertainty(hmm, pi, L - 1) if L >= 1 else None,
                 f"This is U({L - 1}): L is the number of tokens seen, so enumerate words of "
                 "length L (and U(0) = H[pi])."),
                ("L + 1", _state_uncertainty(hmm, pi, L + 1),
                 f"This is U({L + 1}): L is the number of tokens seen, so enumerate words of "
                 "length L (and U(0) = H[pi])."),
            ]
            cases.append(Case(f"For {name} with L = {L}", got, expected, variants,
                              advice="Sum P(w) H[eta(w)] over the words w of length L with "
                                     "P(w) > 0, with H in bits.", unit=" bits"))
    judge(cases)
    return (f"Correct on {len(cases)} (process, L) pairs, including L = 0 (the prior) and "
            "Z1R's synchronisation at L = 3.")


def check_state_uncertainty(state_uncertainty):
    """Check ``state_uncertainty(T, pi, L) -> U(L)`` in bits."""
    return run("state_uncertainty", _test_state_uncertainty, state_uncertainty)


# ---------------------------------------------------------------------------- myopic entropy
def _test_myopic_entropy(fn):
    hmms = ([("Z1R", processes.z1r(), (1, 2, 3, 4, 6)),
             ("Mess3", processes.mess3(), (1, 2, 4)),
             ("RRXOR", processes.rrxor(), (3, 6)),
             ("the golden-mean process (p = 0.3)", processes.golden_mean(0.3), (1, 3))]
            + [(name, hmm, (1, 3)) for name, hmm in random_hmms(215, 2, max_states=4)])
    cases = []
    for name, hmm, lengths in hmms:
        pi = hmm.stationary()
        for L in lengths:
            got = _scalar_answer(fn, hmm, pi, L, name,
                                 "A zero probability gives 0 * log 0 = nan in numpy. Drop "
                                 "zero entries before taking logs (0 log 0 = 0), and skip "
                                 "impossible contexts.")
            expected = _myopic(hmm, pi, L)
            probs, etas = _words(hmm, pi, L - 1)
            nxt = np.einsum("ni,xij->nx", etas, hmm.T)
            block = _entropy(all_sequences(hmm, L, prior=pi).probs)
            variants = [
                ("bits", expected / LN2,
                 "You computed in bits (np.log2). The loss yardstick is in nats, like torch's "
                 "cross-entropy: use np.log (your value is the nats value divided by ln 2)."),
                ("L + 1", _myopic(hmm, pi, L + 1),
                 f"This is h({L + 1}): the context has L - 1 tokens, so enumerate words of "
                 "length L - 1 and take the entropy of the token after them."),
                ("L - 1", _myopic(hmm, pi, L - 1) if L >= 2 else None,
                 f"This is h({L - 1}): the context has L - 1 tokens (here {L - 1}), not "
                 "L - 2."),
                ("belief entropy", float(sum(p * _entropy(eta) for p, eta in zip(probs, etas))),
                 "You took the entropy of the belief over hidden states (the state "
                 "uncertainty of Exercise 2.4, in nats). Use the next-token distribution "
                 "eta T^(x) 1 instead: different states can predict the same token."),
                ("unweighted", float(np.mean([_entropy(q) for q in nxt])),
                 "You averaged over contexts with equal weight; weight each context w by "
                 "P(w)."),
                ("block entropy", block if L >= 2 else None,
                 f"This is the block entropy H({L}) of whole words of length {L}; h(L) is the "
                 "entropy of the next token given the context, H(L) - H(L - 1)."),
                ("block entropy per token", block / L if L >= 2 else None,
                 f"This is H({L}) / {L}, the block entropy per token (it approaches the "
                 "entropy rate from above, more slowly). h(L) is the entropy of the next "
                 "token given the context, H(L) - H(L - 1)."),
            ]
            cases.append(Case(f"For {name} with L = {L}", got, expected, variants,
                              advice="Sum, over contexts w of length L - 1 with P(w) > 0, "
                                     "P(w) times the entropy (in nats) of the next-token "
                                     "distribution after w.", unit=" nats"))
    judge(cases)
    return (f"Correct on {len(cases)} (process, L) pairs, including h(1) (empty context) and "
            "Z1R reaching its entropy rate ln(2)/3 at L = 4.")


def check_myopic_entropy(myopic_entropy):
    """Check ``myopic_entropy(T, pi, L) -> h(L)`` in nats."""
    return run("myopic_entropy", _test_myopic_entropy, myopic_entropy)


# ---------------------------------------------------------------------------- position losses
def _losses(T, pi, tokens, *, belief_index=1, target_index=1, n=None, log=np.log,
            transpose=False):
    """Entry p = -log P(tokens[p + target_index] | trajectory row p + belief_index), for
    p = 0 .. n - 1 (default n = len(tokens) - 1, the number of model positions).

    The reference is belief_index = target_index = 1; other offsets are the off-by-one
    mistakes. A zero probability gives inf, as it would in the learner's code.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        traj = _trajectory(T, pi, tokens, transpose=transpose)   # rows 0 .. len(tokens)
        n = len(tokens) - 1 if n is None else n
        probs = np.einsum("ni,xij->nx", traj, T)
        return np.array([-log(probs[p + belief_index, tokens[p + target_index]])
                         for p in range(n)]) + 0.0                # + 0.0: no "-0." in messages


def _loss_inputs(seed):
    rng = np.random.default_rng(seed)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    inputs = [("Z1R, tokens 0110110", z1r, [0, 1, 1, 0, 1, 1, 0]),
              ("RRXOR, tokens 011101", rrxor, [0, 1, 1, 1, 0, 1])]
    for name, hmm, length in [("Mess3", mess3, 11), ("Mess3", mess3, 4),
                              ("the even process (p = 0.3)", processes.even_process(0.3), 8)]:
        toks, _ = hmm.sample(1, length, seed=int(rng.integers(1 << 30)))
        inputs.append((f"{name}, {length} sampled tokens", hmm, toks[0].tolist()))
    for name, hmm in random_hmms(seed + 1, 3, max_states=4):
        toks, _ = hmm.sample(1, int(rng.integers(3, 8)), seed=int(rng.integers(1 << 30)))
        inputs.append((f"{name}, tokens {toks[0].tolist()}", hmm, toks[0].tolist()))
    return inputs


def _test_ideal_losses(fn):
    inputs = _loss_inputs(seed=216)
    cases = []
    for name, hmm, tokens in inputs:
        T, pi = hmm.T, hmm.stationary()
        n = len(tokens) - 1
        expected = _losses(T, pi, tokens)
        with np.errstate(divide="ignore", invalid="ignore"):
            got = as_array(fn(T.copy(), pi.copy(), list(tokens)),
                           f"ideal_losses for {name}")
        scored_all = _losses(T, pi, tokens, belief_index=0, target_index=0, n=n + 1)
        if got.shape == (n + 1,) and close(got, scored_all):
            raise Mistake(f"For {name} ({n + 1} tokens, so {n} model positions) you returned "
                          f"{n + 1} losses, the first being -ln P(x_1) under pi. No position "
                          "predicts x_1 (there is no beginning-of-sequence token): position p "
                          "has read x_1..x_{p+1} and is scored on x_{p+2}, so there are n = "
                          f"{n} losses.")
        if got.shape != (n,):
            raise Mistake(f"For {name} ({n + 1} tokens) expected {n} losses — one per model "
                          f"position, the inputs being x_1..x_{n} — got shape {got.shape}.")
        ones = np.ones(hmm.n_states)
        joint = np.array([-np.log(np.linalg.multi_dot([pi, *[T[x] for x in tokens[:p + 2]],
                                                       ones])) for p in range(n)])
        prior_probs = np.einsum("i,xij->x", pi, T)
        variants = [
            ("lagging belief", _losses(T, pi, tokens, belief_index=0),
             "Your belief lags one token behind: at position p you used row p of the "
             "trajectory (the belief *before* x_{p+1}). Position p has read x_1..x_{p+1}, so "
             "its belief is row p + 1 — row 0, the prior, belongs to no position."),
            ("predicts what it read", _losses(T, pi, tokens, belief_index=0, target_index=0),
             "You scored each position on the token it has just read: entry p is "
             "-ln P(x_{p+1} | x_1..x_p). Position p predicts the *next* token x_{p+2} = "
             "tokens[p + 1] from the belief after x_1..x_{p+1} (row p + 1)."),
            ("sees its target", _losses(T, pi, tokens, belief_index=2),
             "Your belief is one token ahead: at position p you used the belief after x_{p+2}, "
             "the very token being predicted. A causal model cannot see its target; use row "
             "p + 1 of the trajectory."),
            ("bits", expected / LN2,
             "You used log base 2. Losses are in nats, like torch's cross-entropy: use np.log."),
            ("probability", np.exp(-expected),
             "You returned the probability P(x_{p+2} | past) instead of the loss "
             "-ln P(x_{p+2} | past)."),
            ("joint", joint,
             "You returned -ln P(x_1..x_{p+2}), the loss of the whole prefix. The loss at "
             "position p is conditional on the past: -ln P(x_{p+2} | x_1..x_{p+1}), the "
             "probability of one token under the normalised belief."),
            ("transposed", _losses(T, pi, tokens, transpose=True),
             "The positions and targets are right, but the beliefs are not: they were "
             "updated as `T[token] @ belief` (column convention). Rows of T[x] are the current "
             "state, so the update is `belief @ T[token]` — see the checker of Exercise 2.3."),
            ("prior", np.array([-np.log(prior_probs[x]) for x in tokens[1:]]) + 0.0,
             "Every entry is -ln P(x) under the prior pi: your beliefs never took the tokens "
             "into account. Update along the sequence (your belief_trajectory) and predict "
             "from row p + 1."),
        ]
        advice = ("Entry p should be -ln P(x_{p+2} | x_1..x_{p+1}) = "
                  "-ln(next_token_distribution(trajectory[p + 1], T)[tokens[p + 1]]).")
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            advice = ("Your losses contain inf or NaN, so some token was given probability 0 — "
                      "a sign of the wrong belief being used. " + advice)
        cases.append(Case(f"For {name}", got, expected, variants, advice=advice))
    judge(cases)
    return (f"Correct on {len(inputs)} sequences (Z1R, RRXOR, Mess3, the even process and "
            "random HMMs): position p is scored on x_{p+2} with the belief after x_1..x_{p+1}.")


def check_ideal_losses(ideal_losses):
    """Check ``ideal_losses(T, pi, tokens)``: entry ``p`` is ``-ln P(x_{p+2} | x_1..x_{p+1})``
    for the ``n = len(tokens) - 1`` model positions."""
    return run("ideal_losses", _test_ideal_losses, ideal_losses)
