"""Exercises of practice notebook 02 (Bayesian belief updating); the process comes first."""

import contextlib
from functools import partial

import numpy as np

from .. import beliefs, information, processes
from ..beliefs import belief_trajectories
from ..enumerate import all_sequences
from ..hmm import HMM
from ._core import Exercise, Mistake, as_float, fmt
from .ch01 import random_hmms


def _safe(v):                      # raises ValueError for an impossible token, as asked
    if v.sum() <= 0:
        raise ValueError("token has probability zero")
    return v / v.sum()


def _next(T, eta):
    return np.einsum("i,xij->x", eta, T)


def _token_cases(seed, words, sampled, n_random, lengths, max_states=5):
    """Given words ``(process, word)``, sampled ``(name, process, length)``, random HMMs'."""
    z1r, rrxor, rng = processes.z1r(), processes.rrxor(), np.random.default_rng(seed)

    def draw(hmm, length):
        return hmm.sample(1, length, seed=int(rng.integers(1 << 30)))[0][0].tolist()

    cases = [(f"{name}, tokens {''.join(map(str, w))}", {"Z1R": z1r, "RRXOR": rrxor}[name], w)
             for name, w in words] + [(f"{name}, {n} sampled tokens", h, draw(h, n))
                                      for name, h, n in sampled]
    for name, hmm in random_hmms(seed + 1, n_random, max_states=max_states):
        toks = draw(hmm, int(rng.integers(*lengths)))
        cases.append((f"{name}, tokens {toks}", hmm, toks))
    return [(f"For {name}", (h.T, h.stationary(), w)) for name, h, w in cases]


# ---------------------------------------------------------------------------- 2.1 update
def _belief_cases(seed):
    """(label, (T, belief, x)), P(x | belief) > 0: course processes, then random HMMs."""
    rng = np.random.default_rng(seed)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    cases = [("Z1R, prior pi", z1r.T, z1r.stationary(), 0),
             ("Z1R, belief (1/3, 2/3, 0)", z1r.T, np.array([1 / 3, 2 / 3, 0]), 1),
             ("Mess3, prior pi", mess3.T, mess3.stationary(), 0),
             ("Mess3, belief (0.7, 0.2, 0.1)", mess3.T, np.array([0.7, 0.2, 0.1]), 2),
             ("RRXOR, prior pi", rrxor.T, rrxor.stationary(), 1),
             ("RRXOR, certain of state S", rrxor.T, np.eye(5)[0], 0)]
    for name, hmm in random_hmms(seed + 1, 6):
        belief = rng.dirichlet(np.ones(hmm.n_states))
        x = rng.choice(hmm.n_tokens, p=_next(hmm.T, belief) / _next(hmm.T, belief).sum())
        cases.append((f"{name}, belief {fmt(belief)}", hmm.T, belief, int(x)))
    return [(f"For {name}, token {x}", (T, b, x)) for name, T, b, x in cases]


def _update_extra(fn, summary):
    belief = np.array([0.7, 0.2, 0.1])
    check_update.call(lambda T, b, x: fn(T, belief, x), (processes.mess3().T, None, 2), "For Mess3")
    if not np.array_equal(belief, [0.7, 0.2, 0.1]):
        raise Mistake("Your function changed its `belief` argument in place: return a new array.")
    label = "For Z1R, certain of S0, token 1 (a token of probability zero)"
    with contextlib.suppress(ValueError), np.errstate(all="ignore"):
        got = check_update.call(fn, (processes.z1r().T, np.eye(3)[0], 1), label)
        raise Mistake(f"{label} you returned {fmt(got)}: raise a ValueError there (`if p == 0: "
                      "raise ValueError(...)`).")
    return summary


check_update = Exercise(
    name="update", signature="update(T, belief, x) -> belief'", after=_update_extra,
    process_first=0, cases=lambda: _belief_cases(211),
    reference=lambda T, b, x: beliefs.update(b, HMM(T), x), mistakes=(
        ("forgets to normalise the belief", lambda T, b, x: b @ T[x], lambda c: "Your belief is "
         f"not normalised (it sums to {np.sum(c.got):.4g}): divide by its sum.", "not normalised"),
        ("uses the net matrix T.sum(0)", lambda T, b, x: _safe(b @ T.sum(0)), "You used the net "
         "matrix T.sum(0), which ignores the token: use T[x]."),
        ("multiplies a column vector, T[x] @ b", lambda T, b, x: _safe(T[x] @ b), "You computed "
         "`T[x] @ belief` (column convention); rows are the current state: `belief @ T[x]`."),
        ("reweights by the token's likelihood without moving", lambda T, b, x: _safe(
            b * T[x].sum(1)), "You reweighted the state but did not move it: `belief @ T[x]`."),
        ("returns the next-token distribution", lambda T, b, x: _next(T, b), "You returned the "
         "next-token distribution P(x | eta), not the belief over the hidden states."),
        ("returns NaN for an impossible token", lambda T, b, x: (b @ T[x]) / (b @ T[x]).sum(),
         None, r"probability zero.*ValueError"),
        ("divides by zero", lambda T, b, x: [a / sum(v) for v in [(b @ T[x]).tolist()] for a in v],
         "Raise a ValueError when P(x) = 0.", "ZeroDivisionError", None, ZeroDivisionError),
        ("overwrites the belief in place", lambda T, b, x: np.copyto(b, _safe(b @ T[x])) or b,
         None, "in place")),
    advice="Compute `belief @ T[x]` and divide it by its sum.",
    summary="Correct on {n} updates, and tokens of probability zero raise ValueError.")


# ---------------------------------------------------------------------------- 2.2 next token
check_next_token_distribution = Exercise(
    name="next_token_distribution", signature="next_token_distribution(T, belief) -> probs",
    process_first=0, cases=lambda: [(c[:c.rindex(",")], a[:2]) for c, a in _belief_cases(212)],
    reference=lambda T, b: beliefs.next_token_distribution(b, HMM(T)), mistakes=(
        ("ignores the belief (every state weighted equally)", lambda T, b: T.sum(
            axis=(1, 2)) / T.shape[1], "You ignored the belief: weight state i by eta_i."),
        ("reads T with the column convention", lambda T, b: np.einsum("j,xij->x", b, T),
         "You weighted the destination state (column convention): sum_ij eta_i T[x, i, j]."),
        ("sums only the diagonal T[x, i, i]", lambda T, b: np.einsum("i,xii->x", b, T), "You "
         "summed only T[x, i, i] (einsum 'i,xii->x'): the next state j can be any."),
        ("uses only the most likely state", lambda T, b: T[:, np.argmax(b), :].sum(-1),
         "You used only the most likely state's row; average over the belief."),
        ("returns the uniform distribution", lambda T, b: np.full(T.shape[0], 1 / T.shape[0]),
         "You returned the uniform distribution: use eta T^(x) 1."),
        ("returns the next-state distribution", lambda T, b: b @ T.sum(0), "You returned eta T, "
         "the next *state*'s distribution; return one probability per token, eta T^(x) 1."),
        ("returns log-probabilities", lambda T, b: np.ma.log(_next(T, b)).filled(-np.inf),
         "You returned log-probabilities; return the probabilities, eta T^(x) 1.")),
    advice="Compute `belief @ T[x] @ ones` for each token x.",
    summary="Correct on {n} beliefs from Z1R, Mess3, RRXOR and random HMMs.")


# ---------------------------------------------------------------------------- 2.3 trajectories
def _trajectory(T, pi, tokens, how="", shift=0):
    """The beliefs after 0..L tokens; mistakes: ``how`` (net, column, unnormalised), ``shift``."""
    rows = [np.asarray(pi, dtype=float)]
    for x in tokens:
        v = T[x] @ rows[-1] if how == "column" else rows[-1] @ (T.sum(0) if how == "net" else T[x])
        rows.append(v if how in ("net", "unnormalised") else _safe(v))
    return np.array(rows)[np.clip(np.arange(len(rows)) + shift, 0, len(tokens))]


check_belief_trajectory = Exercise(
    name="belief_trajectory", signature="belief_trajectory(T, pi, tokens) -> (L + 1, S)",
    helpers=("update",), cases=lambda: _token_cases(
        213, [("Z1R", [1, 1, 0, 1, 1, 0]), ("Z1R", [0]), ("RRXOR", [0, 1, 1, 0])],
        [("Mess3", processes.mess3(), 12)], 4, (3, 9)),
    reference=lambda T, pi, w: belief_trajectories(HMM(T), np.asarray(w, int), prior=pi)[0],
    mistakes=(
        ("leaves out the prior", lambda T, pi, w: _trajectory(T, pi, w)[1:], "You left out the "
         "prior: row 0 is pi, row t the belief after the first t tokens (L + 1 rows)."),
        ("stops one token early", lambda T, pi, w: _trajectory(T, pi, w)[:-1], "You left out the "
         "belief after the last token: apply all L tokens (L + 1 rows)."),
        *[(f"shifts the rows by one token {how}", partial(_trajectory, shift=k), f"Your rows are "
           f"one token {how}: row 0 is pi, row t the update of row t - 1 by tokens[t - 1].")
          for how, k in [("behind", -1), ("ahead", 1)]],
        ("forgets to normalise", partial(_trajectory, how="unnormalised"),
         "Your beliefs are not normalised: divide by the sum after each update."),
        ("uses the net matrix", partial(_trajectory, how="net"), "You updated with the net matrix "
         "T.sum(0) instead of T[x]: the tokens never enter."),
        ("appends one array updated in place", lambda T, pi, w: _trajectory(T, pi, w)[[-1] * (
            len(w) + 1)], "Every row is the last belief: you appended one array and updated it "
         "in place; append a new array at each step."),
        ("reads the tokens in reverse order", lambda T, pi, w: _trajectory(T, pi, w[::-1]),
         "You read the tokens in reverse order; the first token comes first."),
        ("multiplies column vectors", partial(_trajectory, how="column"),
         "You multiplied `T[x] @ belief` (column convention): `belief @ T[x]`.")),
    advice="Return one row per time step: row 0 is pi, row t the update of row t - 1.",
    summary="Correct on {n} sequences (Z1R, RRXOR, Mess3, random HMMs), the prior at index 0.")


# ---------------------------------------------------------------------------- enumeration
def _words(T, pi, L):
    if L == 0:
        return np.ones(1), np.asarray(pi, dtype=float)[None]
    return (words := all_sequences(HMM(T), L, prior=pi)).probs, words.beliefs[:, -1]


def _entropy(p, log=np.log):
    p = np.asarray(p, dtype=float)[~(np.asarray(p) <= 0)]            # NaN stays NaN
    return float(-(p * log(p)).sum())


def _no_nan(value, what):
    arr = np.asarray(0.0 if value is None else value)
    if arr.size == 1 and np.issubdtype(arr.dtype, np.floating) and np.isnan(arr.ravel()[0]):
        raise Mistake(f"{what}: you returned NaN. 0 * log 0 = nan in numpy, but 0 log 0 = 0: drop "
                      "zero entries before taking logs, and skip impossible words.")
    return as_float(value, what)


def _uncertainty(T, pi, L, log=np.log2, weight=True, of=lambda T, eta: eta, shift=0, joint=False):
    probs, etas = _words(T, pi, max(L + shift, 0))
    h = [_entropy(of(T, eta * (q if joint else 1)), log) for q, eta in zip(probs, etas)]
    return float(probs @ h) if weight else float(np.mean(h))


def _enumeration_cases(seed, specs):
    return [(f"For {name} with L = {L}", (h.T, h.stationary(), L)) for name, h, Ls in specs + [
        (name, hmm, (1, 3)) for name, hmm in random_hmms(seed, 2, max_states=4)] for L in Ls]


check_state_uncertainty = Exercise(
    name="state_uncertainty", signature="state_uncertainty(T, pi, L) -> bits",
    cases=lambda: _enumeration_cases(215, [
        ("Z1R", processes.z1r(), (0, 1, 2, 3, 5)), ("Mess3", processes.mess3(), (0, 1, 3)),
        ("RRXOR", processes.rrxor(), (2, 5)),
        ("the even process (p = 0.3)", processes.even_process(0.3), (1, 4))]),
    reference=lambda T, pi, L: information.state_uncertainty(HMM(T), L, unit="bits"),
    convert=_no_nan, mistakes=(
        ("uses ln", partial(_uncertainty, log=np.log), "You used ln; U(L) is in bits: np.log2."),
        ("averages over words with equal weight", partial(_uncertainty, weight=False), "You "
         "averaged the entropies with equal weight; weight each word by its probability P(w)."),
        ("takes the entropy of the average belief", lambda T, pi, L: _entropy(pi, np.log2), "You "
         "took H[pi], the average belief's entropy: average the entropies, sum P(w) H[eta(w)]."),
        ("takes the entropy of P(w) eta(w)", partial(_uncertainty, joint=True), "You took the "
         "entropy of pi T^(w_1) ... T^(w_L) before dividing by P(w): use the belief eta(w)."),
        ("takes the entropy of the next token", partial(_uncertainty, of=_next), "You took the "
         "entropy of the next-*token* distribution; take the belief's, H[eta(w)]."),
        *[(f"uses words of length L {sign} 1", partial(_uncertainty, shift=s), lambda c, s=s:
           f"Off by one: this is U({c.args[2] + s}); enumerate words of length L (U(0) = H[pi]).",
           r"Off by one: this is U\(\d+\)") for sign, s in (("-", -1), ("+", 1))],
        ("takes the entropy of the words (block entropy)", lambda T, pi, L: _entropy(_words(
            T, pi, L)[0], np.log2), "You took the words' (block) entropy: average H[eta(w)]."),
        ("lets 0 log 0 become NaN", partial(_uncertainty, of=lambda T, e: np.where(
            e > 0, e, np.nan)), None, "0 log 0 = 0")),
    advice="Sum P(w) H[eta(w)] over the words w of length L with P(w) > 0, with H in bits.",
    summary="Correct on {n} (process, L) pairs, with L = 0 and Z1R's synchronisation at L = 3.")


# ---------------------------------------------------------------------------- 2.5 myopic entropy
def _myopic(T, pi, L, log=np.log, weight=True, shift=0):
    return _uncertainty(T, pi, L, log, weight, of=_next, shift=shift - 1)


def _block(T, pi, L, per_token=False):
    return _entropy(all_sequences(HMM(T), L, prior=pi).probs) / (L if per_token else 1)


check_myopic_entropy = Exercise(
    name="myopic_entropy", signature="myopic_entropy(T, pi, L) -> nats",
    cases=lambda: _enumeration_cases(216, [
        ("Z1R", processes.z1r(), (1, 2, 3, 4, 6)), ("Mess3", processes.mess3(), (1, 2, 4)),
        ("RRXOR", processes.rrxor(), (3, 6)),
        ("the golden-mean process (p = 0.3)", processes.golden_mean(0.3), (1, 3))]),
    reference=lambda T, pi, L: information.myopic_entropy(HMM(T), L), convert=_no_nan, mistakes=(
        ("measures in bits", partial(_myopic, log=np.log2), "You computed in bits (np.log2); "
         "the loss yardstick is in nats, like torch's cross-entropy: np.log."),
        *[(f"conditions on {n} tokens", partial(_myopic, shift=s), lambda c, s=s: f"Off by one: "
           f"this is h({c.args[2] + s}); the context has L - 1 tokens.", r"Off by one: this is "
           r"h\(\d+\); the context has L - 1 tokens") for n, s in (("L - 2", -1), ("L", 1))],
        ("takes the belief's entropy", lambda T, pi, L: _uncertainty(T, pi, L - 1, log=np.log),
         "You took the belief's entropy (state uncertainty): use the next-token distribution's."),
        ("takes the entropy of the average prediction", lambda T, pi, L: _entropy(_next(T, pi)),
         "You took the entropy of the averaged next-token distribution (h(1) at every L): average "
         "the entropies H(next token | w) instead."),
        ("averages over contexts with equal weight", partial(_myopic, weight=False), "You "
         "averaged over contexts with equal weight; weight each context w by P(w)."),
        ("returns the block entropy H(L)", _block, lambda c: f"You returned the block entropy "
         f"H({c.args[2]}); h(L) is H(L) - H(L - 1), the next token's entropy.", "block entropy"),
        ("returns the block entropy per token H(L) / L", partial(_block, per_token=True),
         "You returned the block entropy per token H(L) / L; h(L) is H(L) - H(L - 1).")),
    advice="Sum P(w) H(next token | w), in nats, over the contexts w of length L - 1.",
    summary="Correct on {n} (process, L) pairs, with h(1) and Z1R's entropy rate ln(2)/3 at L = 4.")


# ---------------------------------------------------------------------------- 2.6 position losses
def _losses(T, pi, tokens, belief=1, target=1, extra=0, log=np.log, how="", joint=False):
    """-log P(tokens[p + target] | row p + belief), p < n + extra (``joint``: P(tokens[:p + 2]))."""
    probs = np.einsum("ni,xij->nx", _trajectory(T, pi, tokens, how), T)
    with np.errstate(divide="ignore"):
        return np.array([-log(HMM(T).probability(np.asarray(tokens[:p + 2]), prior=pi)) if joint
                         else -log(probs[p + belief, tokens[p + target]])
                         for p in range(len(tokens) - 1 + extra)]) + 0.0


def _loss_reference(T, pi, tokens):
    traj = belief_trajectories(HMM(T), np.asarray(tokens, int), prior=pi)[0]
    return 0.0 - np.log(np.einsum("ni,xij->nx", traj[1:-1], T)[np.arange(len(tokens) - 1),
                                                                tokens[1:]])  # no -0.0


check_ideal_losses = Exercise(
    name="ideal_losses", signature="ideal_losses(T, pi, tokens) -> (n,)",
    helpers=("belief_trajectory", "next_token_distribution"), cases=lambda: _token_cases(
        217, [("Z1R", [0, 1, 1, 0, 1, 1, 0]), ("RRXOR", [0, 1, 1, 1, 0, 1])], [
            ("Mess3", processes.mess3(), 11), ("Mess3", processes.mess3(), 4),
            ("the even process (p = 0.3)", processes.even_process(0.3), 8)], 3, (3, 8), 4),
    reference=_loss_reference, mistakes=(
        *[(f"predicts from the belief one token {how}", partial(_losses, belief=b), "Your belief "
           f"is one token {how}: position p has read x_1..x_{{p+1}}, so use row p + 1.")
          for how, b in [("behind", 0), ("ahead (it has seen the target)", 2)]],
        *[(f"scores the token just read{how}", partial(_losses, belief=b, target=0), "You scored "
           "position p on tokens[p], just read; it predicts the *next* token, x_{p+2} = "
           "tokens[p + 1], from row p + 1.") for how, b in [("", 0), (" from row p + 1", 1)]],
        ("forgets the minus sign", lambda T, pi, w: -_loss_reference(T, pi, w), "You left out "
         "the minus sign: the loss is -ln P(x_{p+2} | x_1..x_{p+1}) >= 0."),
        ("also scores the first token", partial(_losses, belief=0, target=0, extra=1), "You also "
         "scored x_1, which no position predicts: n = len(tokens) - 1 losses."),
        ("measures in bits", partial(_losses, log=np.log2), "You used log2; losses are in nats."),
        ("returns the probability", lambda T, pi, w: np.exp(-_losses(T, pi, w)), "You returned "
         "the probability P(x_{p+2} | past) instead of the loss -ln P(x_{p+2} | past)."),
        ("scores the probability of the whole prefix", partial(_losses, joint=True), "You "
         "returned -ln P(x_1..x_{p+2}); the loss is conditional: -ln P(x_{p+2} | x_1..x_{p+1})."),
        ("uses column-convention beliefs", partial(_losses, how="column"), "Your beliefs were "
         "updated as `T[x] @ belief` (column convention): the update is `belief @ T[x]`."),
        ("uses net-matrix beliefs", partial(_losses, how="net"), "Your beliefs used the net "
         "matrix, which ignores the tokens: update with T[x] and predict from row p + 1.")),
    advice="Entry p is -ln(next_token_distribution(T, trajectory[p + 1])[tokens[p + 1]]) (an inf "
           "or NaN: a token got probability 0 from the wrong belief).",
    summary="Correct on {n} sequences: position p scored on x_{p+2} from the belief after x_{p+1}.")

EXERCISES = (check_update, check_next_token_distribution, check_belief_trajectory,
             check_state_uncertainty, check_myopic_entropy, check_ideal_losses)
