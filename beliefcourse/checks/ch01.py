"""Exercises of practice notebook 01 (hidden Markov models), declared for the registry: cases
(the course's processes, edge cases, seeded random HMMs), the package's reference and the known
mistakes; ``sample`` is judged statistically by its own test. :func:`random_hmm`,
:func:`random_hmms` and :func:`course_hmms` are shared with later chapters."""

from __future__ import annotations

import contextlib

import numpy as np

from .. import processes
from ..enumerate import all_sequences
from ..hmm import HMM
from ._core import Exercise, Known, Mistake, as_array, as_float, close, fmt, magnitude

__all__ = ["EXERCISES", "check_bigram_probabilities", "check_mess3_matrices",
           "check_same_token_probability", "check_sample", "check_sequence_probability",
           "check_stationary", "course_hmms", "random_hmm", "random_hmms"]


# ---------------------------------------------------------------------------- shared helpers
def random_hmm(rng: np.random.Generator, n_states: int, n_tokens: int,
               sparsity: float = 0.3) -> HMM:
    """A random irreducible HMM with a non-uniform pi: Dirichlet rows over (token, next state),
    a fraction ``sparsity`` set to zero, a cycle 0 -> 1 -> ... -> 0 kept (pi unique)."""
    joint = rng.dirichlet(np.full(n_tokens * n_states, 0.7), size=n_states)
    joint = joint.reshape(n_states, n_tokens, n_states)
    joint *= rng.random(joint.shape) >= sparsity
    for i in range(n_states):
        joint[i, rng.integers(n_tokens), (i + 1) % n_states] += 0.2
    joint /= joint.sum(axis=(1, 2), keepdims=True)
    return HMM(joint.transpose(1, 0, 2))


def random_hmms(seed: int, n: int, max_states: int = 5, max_tokens: int = 3
                ) -> list[tuple[str, HMM]]:
    """``n`` named random HMMs from one seeded generator."""
    rng = np.random.default_rng(seed)
    return [(f"random HMM {k + 1}", random_hmm(rng, int(rng.integers(2, max_states + 1)),
                                               int(rng.integers(2, max_tokens + 1))))
            for k in range(n)]


def course_hmms() -> list[tuple[str, HMM]]:
    """The course's processes (golden mean and even process at p = 0.3: pi not uniform)."""
    return [("Z1R", processes.z1r()), ("Mess3", processes.mess3()), ("RRXOR", processes.rrxor()),
            ("the golden-mean process (p = 0.3)", processes.golden_mean(0.3)),
            ("the even process (p = 0.3)", processes.even_process(0.3))]


# ---------------------------------------------------------------------------- 1.1 stationary
def _eig(M, row=False, real=True, scale=np.sum):
    """The eigenvector of ``M`` (a column, or by mistake a row) for the eigenvalue closest to
    1, divided by ``scale`` of it."""
    w, v = np.linalg.eig(M)
    vec = v[np.argmin(np.abs(w - 1))] if row else v[:, np.argmin(np.abs(w - 1))]
    vec = np.real(vec) if real else vec
    return vec / scale(vec)


def _stationary_vector(value, what):
    arr = as_array(value, what)
    if np.iscomplexobj(arr):
        if np.allclose(arr.imag, 0):
            raise Mistake(f"{what}: your function returned complex numbers ({fmt(arr.real)}). "
                          "`np.linalg.eig` returns complex eigenvectors even when they are "
                          "real; return `np.real(v)`.")
        raise Mistake(f"{what}: your vector has non-zero imaginary parts: you picked an "
                      "eigenvector of an eigenvalue other than 1. Select the column whose "
                      "eigenvalue is closest to 1.")
    if not np.all(np.isfinite(arr)):
        raise Mistake(f"{what}: your vector contains NaN or inf ({fmt(arr)}). Did you divide "
                      "by a sum that is zero? The eigenvectors of `np.linalg.eig` are the "
                      "*columns* `eigenvectors[:, k]`, not the rows.")
    return arr


def _unnormalised(case):
    got = np.asarray(case.got, float)
    return (got.shape == case.expected.shape and abs(got.sum() - 1) > 1e-6
            and bool(np.allclose(got, case.expected * got.sum(), atol=1e-9)))


def _stationary_advice(case):
    got, net = np.asarray(case.got, float).ravel(), case.args[0].sum(0)
    residual = (f" (max |pi T - pi| = {magnitude(float(np.abs(got @ net - got).max()))}, "
                f"and your entries sum to {got.sum():.6g})" if got.shape == (len(net),) else "")
    return (f"Your vector does not satisfy pi T = pi{residual}. Use the net matrix "
            "T.sum(axis=0), its transpose, and the eigenvalue closest to 1; an iterative or "
            "approximate answer must agree to about 1e-6.")


check_stationary = Exercise(
    name="stationary", signature="stationary(T) -> pi",
    cases=lambda: [(f"For {name}", (hmm.T,))
                   for name, hmm in course_hmms() + random_hmms(seed=101, n=6, max_states=6)],
    reference=lambda T: HMM(T).stationary(), convert=_stationary_vector,
    mistakes=(
        Known("returns the eigenvector without normalising it",
              lambda T: _eig(T.sum(0).T, scale=lambda v: 1),
              lambda c: (f"Your vector is not normalised: it points in the right direction but "
                         f"sums to {np.sum(c.got):.4g}, not 1. Eigenvectors come back with "
                         "arbitrary length and sign; a distribution sums to 1: divide by the "
                         "sum."), cause="not normalised", recognise=_unnormalised),
        Known("divides by the Euclidean norm, not the sum",
              lambda T: _eig(T.sum(0).T, scale=np.linalg.norm), None,
              cause=r"not normalised.*divide by the sum"),
        Known("takes the right eigenvector (decomposes net, not net.T)",
              lambda T: _eig(T.sum(0)),
              "You returned the uniform vector: the *right* eigenvector of the net matrix "
              "(T 1 = 1, because rows sum to 1). pi is a *left* eigenvector, pi T = pi: "
              "decompose `net.T`, not `net`. (On Z1R and Mess3 both are uniform, which hides "
              "this bug.)"),
        Known("returns np.linalg.eig's complex vector", lambda T: _eig(T.sum(0).T, real=False),
              None, cause=r"np\.real"),
        Known("uses T[0] instead of the net matrix", lambda T: _eig(T[0].T),
              "You used a single token's matrix T[0] instead of the net matrix: the chain of "
              "hidden states moves with T.sum(axis=0), summed over every token."),
        Known("returns a column vector (S, 1)", lambda T: HMM(T).stationary()[:, None],
              "Return a 1-D array: `v.ravel()`, or index a single column."),
        Known("takes a row of the eigenvector matrix, not a column",
              lambda T: _eig(T.sum(0).T, row=True),
              "You took a *row* of the eigenvector matrix. `np.linalg.eig` returns the "
              "eigenvectors as its *columns*: use `eigenvectors[:, k]`, not "
              "`eigenvectors[k]`."),
    ),
    advice=_stationary_advice,
    summary=lambda n: (f"Correct on {n} HMMs (Z1R, Mess3, RRXOR, golden mean, even process and "
                       "random HMMs with non-uniform pi)."))


# ---------------------------------------------------------------------------- 1.2 P(word)
def _word_prob(T, pi, word, *, transpose=False, end=False):
    v = np.asarray(pi, dtype=float)
    for x in word:
        v = T[x] @ v if transpose else v @ T[x]
    return v if end else float(v.sum())


def _sequence_cases():
    rng = np.random.default_rng(202)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    cases = [("Z1R, word 011", z1r, [0, 1, 1]), ("Z1R, word 000 (impossible)", z1r, [0, 0, 0]),
             ("Z1R, the empty word", z1r, []), ("Z1R, word 0110110", z1r, [0, 1, 1, 0, 1, 1, 0]),
             ("RRXOR, word 0110", rrxor, [0, 1, 1, 0]),
             ("RRXOR, word 1110 (impossible)", rrxor, [1, 1, 1, 0])]
    cases = [(f"For {name}", (h.T, h.stationary(), w)) for name, h, w in cases]
    for L in (1, 3, 8):
        word = rng.integers(0, 3, L).tolist()
        cases.append((f"For Mess3, word {''.join('ABC'[x] for x in word)}",
                      (mess3.T, mess3.stationary(), word)))
    for name, hmm in random_hmms(203, 5, max_states=4):
        pi = rng.dirichlet(np.ones(hmm.n_states))        # deliberately not stationary
        word = rng.integers(0, hmm.n_tokens, int(rng.integers(2, 6))).tolist()
        cases.append((f"For {name} with a non-stationary pi, word {word}", (hmm.T, pi, word)))
    return cases


def _probability(value, what):
    arr = as_array(value, what)
    if arr.ndim == 1 and arr.size > 1:
        raise Mistake(f"{what}: you returned a vector of length {arr.size} ({fmt(arr)}) "
                      "instead of one number. Entry j of that vector is P(word, end in state "
                      "j); sum it (the product with 1) to get P(word).")
    return float("nan") if arr.size == 1 and np.isnan(arr.ravel()[0]) else as_float(arr, what)


def _normalised_each_step(T, pi, word):
    v = np.asarray(pi, dtype=float)
    for x in word:
        v = v @ T[x]
        v = v / v.sum() if v.sum() > 0 else v
    return float(v.sum())


def _normalises(case):
    """1 on every possible word (or NaN, or the last step's normaliser): a normalised vector."""
    T, pi, word = case.args
    last = (_word_prob(T, pi, word) / _word_prob(T, pi, word[:-1])
            if word and _word_prob(T, pi, word[:-1]) > 0 else None)
    return bool(np.isnan(case.got) or (case.expected > 0 and close(case.got, 1.0))
                or (last is not None and close(case.got, last)))


check_sequence_probability = Exercise(
    name="sequence_probability", signature="sequence_probability(T, pi, tokens) -> float",
    cases=_sequence_cases, convert=_probability,
    reference=lambda T, pi, word: HMM(T).probability(np.asarray(word, int), prior=pi),
    mistakes=(
        Known("normalises the vector at each step", _normalised_each_step,
              "You normalised the vector at each step (a belief update). The probability of "
              "the word is the product of those normalisers, P(x_1) P(x_2 | x_1) ...: keep "
              "the unnormalised vector pi T^(x_1) ... T^(x_L) and return its sum.",
              recognise=_normalises),
        Known("multiplies column vectors, T[x] @ v",
              lambda T, pi, w: _word_prob(T, pi, w, transpose=True),
              "You multiplied with the matrices on the left (`T[x] @ v`), treating them as "
              "column-stochastic. In this course rows are the current state, T[x, i, j] = "
              "P(emit x, go to j | in i), so the row vector multiplies from the left: "
              "`v = v @ T[x]`."),
        Known("multiplies the matrices in reverse order",
              lambda T, pi, w: _word_prob(T, pi, w[::-1]),
              "You multiplied the matrices in reverse order. The first token's matrix comes "
              "first: pi T^(x_1) T^(x_2) ... T^(x_L) 1."),
        Known("starts from the uniform distribution",
              lambda T, pi, w: _word_prob(T, np.full(len(pi), 1 / len(pi)), w),
              "You started from the uniform distribution instead of the `pi` argument."),
        Known("starts from the all-ones vector (forgets the prior)",
              lambda T, pi, w: _word_prob(T, np.ones(len(pi)), w),
              "You started from the all-ones vector instead of `pi`: the initial state is "
              "drawn from pi, so the product starts with pi."),
        Known("uses the net matrix at every step",
              lambda T, pi, w: float(np.sum(pi @ np.linalg.matrix_power(T.sum(0), len(w)))),
              "You used the net matrix T.sum(0) at every step, which forgets which token was "
              "emitted. Use `T[x]` for token x."),
        Known("drops the last token", lambda T, pi, w: _word_prob(T, pi, w[:-1]),
              "You left out the last token's matrix."),
        Known("drops the first token", lambda T, pi, w: _word_prob(T, pi, w[1:]),
              "You left out the first token's matrix."),
        Known("returns the log-probability",
              lambda T, pi, w: np.log(_word_prob(T, pi, w)) if _word_prob(T, pi, w) > 0 else 0.0,
              "You returned the natural log of the probability; return the probability "
              "itself."),
        Known("returns the end vector without summing it",
              lambda T, pi, w: _word_prob(T, pi, w, end=True), None, cause="sum it"),
    ),
    advice="Carry a row vector: start with pi, do `v = v @ T[x]` for each token in order, "
           "return `v.sum()`.",
    summary=lambda n: (f"Correct on {n} words: impossible words, the empty word, Z1R, RRXOR, "
                       "Mess3 and random HMMs with a non-stationary pi."))


# ---------------------------------------------------------------------------- 1.3 Mess3
def _mess3(x, alpha, *, spec="ij,jk->kij", beta=None, stay=None, swap=False):
    beta = (1 - alpha) / 2 if beta is None else beta
    stay = 1 - 2 * x if stay is None else stay
    own, other = (beta, alpha) if swap else (alpha, beta)
    move = np.full((3, 3), x) + (stay - x) * np.eye(3)            # move[i, j] = P(j | i)
    emit = np.full((3, 3), other) + (own - other) * np.eye(3)     # emit[j, x] = P(x | j)
    return np.einsum(spec, move, emit)


def _mess3_advice(case):
    got, expected = np.asarray(case.got, float), case.expected
    if got.shape != expected.shape:
        return "T has shape (3, 3, 3): (token, from-state, to-state)."
    x, i, j = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
    advice = (f"Entry T[{x}, {i}, {j}] should be P(go to {'ABC'[j]} | in {'ABC'[i]}) * "
              f"P(emit {'ABC'[x]} | {'ABC'[j]}) = {expected[x, i, j]:.6g}, yours is "
              f"{got[x, i, j]:.6g}.")
    if not np.allclose(got.sum(axis=(0, 2)), 1):
        advice += (f" Also, the rows of T.sum(axis=0) sum to {fmt(got.sum(axis=(0, 2)))}, not "
                   "1: from every state the probabilities of all (token, next state) pairs "
                   "must add up to 1.")
    return advice


check_mess3_matrices = Exercise(
    name="mess3_matrices", signature="mess3_matrices(x, alpha) -> T",
    cases=lambda: [(f"For x = {x:g}, alpha = {a:.4g}", (x, a)) for x, a in
                   [(0.05, 0.85), (0.15, 0.6), (0.5, 0.6), (0.1, 0.2), (0.0, 1.0), (0.3, 1 / 3)]],
    reference=lambda x, alpha: processes.mess3(x=x, alpha=alpha).T,
    mistakes=(
        # the move matrix is symmetric, so this is also every T[x] transposed
        Known("emits from the state it leaves", lambda x, a: _mess3(x, a, spec="ij,ik->kij"),
              "The token is emitted by the state you move *into* (j), not the state you leave "
              "(i): T[x, i, j] = P(j | i) P(x | j). (For Mess3 this is the same as having "
              "transposed each T[x]: rows must be the state we are in, columns the state we "
              "go to.)"),
        Known("transposes every T[x]", lambda x, a: _mess3(x, a, spec="ij,jk->kji"), None,
              cause="transposed"),
        Known("puts the token on the last axis", lambda x, a: _mess3(x, a, spec="ij,jk->ijk"),
              "Your numbers are right but the axes are in the wrong order: axis 0 must be the "
              "token, T[x, i, j] (try `np.einsum(\"ij,jk->kij\", move, emit)`)."),
        Known("off-token probability 1 - alpha, not halved", lambda x, a: _mess3(x, a, beta=1 - a),
              "The off-token emission probability is beta = (1 - alpha) / 2, shared by the two "
              "other tokens, not 1 - alpha."),
        Known("swaps alpha and beta in the emissions", lambda x, a: _mess3(x, a, swap=True),
              "You swapped the emission probabilities: a state emits its *own* token with "
              "probability alpha and each of the two others with beta = (1 - alpha) / 2."),
        Known("stays with probability 1 - x", lambda x, a: _mess3(x, a, stay=1 - x),
              "The probability of staying is 1 - 2x (the chain jumps to each of the two other "
              "states with probability x), not 1 - x."),
    ),
    advice=_mess3_advice,
    summary=lambda n: (f"Correct for {n} parameter settings, including the paper's (0.05, 0.85), "
                       "the libraries' default (0.15, 0.6), and the extremes x = 0, 0.5 and "
                       "alpha = 1/3, 1."))


# ---------------------------------------------------------------------------- 1.4 sampling
def _call_sample(fn, T, pi, length, seed, name):
    out = check_sample.call(fn, (T, pi, length, np.random.default_rng(seed)), f"For {name}")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"For {name} your sampler returned {type(out).__name__}; return a pair "
                      "`(tokens, states)`.")
    tokens, states = (as_array(a, f"your sampler's {w}") for a, w in zip(out, ("tokens", "states")))
    if tokens.shape != (length,) or states.shape != (length + 1,):
        hint = (" `states` must include the initial state s_0, so it has one more entry than "
                "`tokens`." if states.shape == (length,) else "")
        raise Mistake(f"For {name} with length {length}: expected tokens of shape ({length},) "
                      f"and states of shape ({length + 1},), got {tokens.shape} and "
                      f"{states.shape}.{hint}")
    for arr, what in ((tokens, "tokens"), (states, "states")):
        if arr.size and not np.all(np.mod(arr, 1) == 0):
            raise Mistake(f"For {name} your {what} are not whole numbers: {fmt(arr[:8])}.")
    X, S = T.shape[0], T.shape[1]
    tokens, states = tokens.astype(int), states.astype(int)
    valid = (not tokens.size or (tokens.min() >= 0 and tokens.max() < X)) and \
        states.min() >= 0 and states.max() < S and np.all(T[tokens, states[:-1], states[1:]] > 0)
    if X != S and not valid and tokens.size and states.min() >= 0 and states.max() < S:
        x, j = np.divmod(tokens * X + states[1:], S)      # undo divmod(k, X), redo (k, S)
        if np.all(x < X) and np.all(T[x, states[:-1], j] > 0):
            raise Mistake(f"For {name} ({X} tokens, {S} states) your steps decode the flat "
                          "index of T[:, i, :].ravel() with `divmod(k, n_tokens)`. That table "
                          "has n_states columns, so k = x * n_states + j: use "
                          "`divmod(k, n_states)`.")
    for arr, what, n in ((tokens, "token", X), (states, "state", S)):
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise Mistake(f"For {name} a {what} is out of range 0..{n - 1}.")
    return tokens, states


def _step_law(T, tokens, states):
    """Counts of the steps (state, token, next state), shape (S, X, S)."""
    return np.histogramdd(np.c_[states[:-1], tokens, states[1:]],
                          bins=[np.arange(n + 1) - 0.5 for n in T.transpose(1, 0, 2).shape])[0]


def _check_steps(fn, hmm, name, tokens, states):
    """Every step possible and each (token, next state) as frequent as T says (|z| <= 5.5);
    otherwise the known mistake whose own samples (same process, length and seed) are nearest."""
    T, counts = hmm.T, _step_law(hmm.T, tokens, states)
    p, visits = T.transpose(1, 0, 2), counts.sum(axis=(1, 2))
    expected = visits[:, None, None] * p
    z = np.where(p > 0, (counts - expected) / np.sqrt(expected * (1 - p) + 1e-12), 0.0)
    impossible = np.argwhere((p == 0) & (counts > 0))
    if not len(impossible) and np.max(np.abs(z)) <= 5.5:
        return
    sn, tn = hmm.state_names, hmm.token_names
    i, x, j = impossible[0] if len(impossible) else np.unravel_index(np.argmax(np.abs(z)), z.shape)
    detail = (f"For {name}, from state {sn[i]} the step (token {tn[x]}, next state {sn[j]}) "
              f"made {counts[i, x, j] / visits[i]:.1%} of your steps from {sn[i]}, but its "
              f"probability is T[{x}, {i}, {j}] = {p[i, x, j]:.1%}.")

    def distance(c):                 # visit-weighted total variation between step laws
        rows = c / np.maximum(c.sum(axis=(1, 2), keepdims=True), 1)
        mine = counts / np.maximum(visits[:, None, None], 1)
        return float(visits @ np.abs(rows - mine).sum(axis=(1, 2)) / visits.sum() / 2)

    best, gap = None, distance(expected)
    for k in check_sample.mistakes:
        if k.diagnosis is not None:
            with contextlib.suppress(Exception):
                tk, st = k.wrong(T, hmm.stationary(), len(tokens), np.random.default_rng(2))
                if distance(_step_law(T, np.asarray(tk), np.asarray(st))) < min(gap, 0.1):
                    best, gap = k, distance(_step_law(T, np.asarray(tk), np.asarray(st)))
    raise Mistake(f"{detail} " + (best.diagnosis if best else "Draw each (token, next state) "
                                  "pair with probabilities T[:, states[t], :]."))


def _test_sample(fn):
    rng = np.random.default_rng(404)
    hmms = [("Z1R (p = 0.3)", processes.z1r(0.3)), ("RRXOR", processes.rrxor()),
            ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
            ("a random 4-state HMM", random_hmm(rng, n_states=4, n_tokens=3, sparsity=0.5))]
    length = 3000
    for name, hmm in hmms:
        T, pi = hmm.T, hmm.stationary()
        _call_sample(fn, T, pi, 0, 1, name)                       # shapes at length 0
        tokens, states = _call_sample(fn, T, pi, length, 2, name)
        _check_steps(fn, hmm, name, tokens, states)
    hmm = random_hmm(rng, n_states=4, n_tokens=2)                 # s_0 must follow pi
    T, pi, n = hmm.T, hmm.stationary(), 600
    first = np.array([_call_sample(fn, T, pi, 1, 1000 + k, "a random HMM")[1][0]
                      for k in range(n)])
    freq = np.bincount(first, minlength=4) / n
    if np.max(np.abs(freq - pi) / np.sqrt(pi * (1 - pi) / n)) > 5.5:
        always = f" Your initial state was always {first[0]}." if np.all(first == first[0]) else ""
        raise Mistake(f"The initial state s_0 must be drawn from `pi` = {fmt(pi)}; over {n} "
                      f"samples yours had frequencies {fmt(freq)}.{always}")
    name, hmm = hmms[2]                          # the rng argument: the only randomness
    a, b = (_call_sample(fn, hmm.T, hmm.stationary(), 50, 7, name) for _ in range(2))
    if not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])):
        raise Mistake("Your samples are statistically right, but two calls with identically "
                      "seeded generators gave different sequences: draw every random number "
                      "from the `rng` argument (e.g. `rng.choice`), not from `np.random`.")
    return (f"Your sampler makes only possible steps, with the right frequencies, on "
            f"{len(hmms)} processes ({length} steps each); s_0 follows pi; and a seed "
            "reproduces the sample.")


def _sampler(step, first=None, with_s0=True, own_rng=None):
    """A wrong sampler drawing each (token, next state) with ``step(T, i, rng)``."""
    def sample(T, pi, length, rng):
        rng = own_rng if own_rng is not None else rng
        tokens, states = np.zeros(length, int), np.zeros(length + 1, int)
        states[0] = rng.choice(T.shape[1], p=pi) if first is None else first
        for t in range(length):
            tokens[t], states[t + 1] = step(T, states[t], rng)
        return (tokens, states) if with_s0 else (tokens, states[1:])
    return sample


def _joint(T, i, rng, n=None):
    return divmod(rng.choice(T.shape[0] * T.shape[1], p=T[:, i, :].ravel()), n or T.shape[1])


check_sample = Exercise(
    name="sample", signature="sample(T, pi, length, rng) -> (tokens, states)", test=_test_sample,
    time_limit=60.0,
    mistakes=(
        Known("draws the token and the next state independently", _sampler(
            lambda T, i, rng: (rng.choice(T.shape[0], p=T[:, i, :].sum(1)),
                               rng.choice(T.shape[1], p=T.sum(0)[i]))),
              "Your steps fit a process in which the token and the next state are drawn "
              "separately. Draw the *pair* (token, next state) from the joint table "
              "T[:, states[t], :] (e.g. flatten it and use `divmod`)."),
        Known("draws the next state, then a token from the new state's row", _sampler(
            lambda T, i, rng: (lambda j: (rng.choice(T.shape[0], p=T[:, j, :].sum(-1)), j))(
                rng.choice(T.shape[1], p=T.sum(0)[i]))),
              "Your tokens fit the *new* state: you drew the next state j, then a token from "
              "its row T[:, j, :]. In this course a step emits as it moves: draw the *pair* "
              "(token, next state) from the current state's table T[:, states[t], :]."),
        Known("never moves the hidden state", _sampler(
            lambda T, i, rng: (rng.choice(T.shape[0], p=T[:, i, :].sum(1)), i)),
              "Your hidden state never changes: after drawing a step, store the new state in "
              "states[t + 1] and draw the next step from that state's row."),
        Known("reads the matrices column-wise", _sampler(
            lambda T, i, rng: divmod(rng.choice(T.shape[0] * T.shape[1], p=(
                T[:, :, i] / T[:, :, i].sum()).ravel()), T.shape[1])),
              "Your steps fit the columns of T: you are reading the matrices column-wise. "
              "Rows are the current state: T[x, i, j] = P(emit x, go to j | in i)."),
        Known("decodes the joint draw with divmod(k, n_tokens)", _sampler(
            lambda T, i, rng: _joint(T, i, rng, T.shape[0])), None, cause=r"divmod\(k, n_states\)"),
        Known("always starts in state 0", _sampler(_joint, first=0), None,
              cause=r"drawn from `pi`.*always 0"),
        Known("leaves the initial state out of `states`", _sampler(_joint, with_s0=False), None,
              cause="initial state s_0"),
        Known("draws from a global generator, not `rng`",
              _sampler(_joint, own_rng=np.random.default_rng(12345)), None,
              cause="`rng` argument"),
    ))


# ---------------------------------------------------------------------------- 1.5 bigrams
def _bigrams(T, pi):
    return np.einsum("i,aij,bjk->ab", pi, T, T)


def _bigram_reference(T, pi):
    words = all_sequences(HMM(T), 2, prior=pi)
    B = np.zeros((T.shape[0], T.shape[0]))
    B[words.tokens[:, 0], words.tokens[:, 1]] = words.probs
    return B


check_bigram_probabilities = Exercise(
    name="bigram_probabilities", signature="bigram_probabilities(T, pi) -> B",
    cases=lambda: [(f"For {name}", (h.T, h.stationary()))
                   for name, h in course_hmms()[:3] + random_hmms(seed=505, n=4)],
    reference=_bigram_reference,
    mistakes=(
        Known("transposes B", lambda T, pi: _bigrams(T, pi).T,
              "Your matrix is transposed: B[a, b] = P(x_1 = a, x_2 = b) = pi T^(a) T^(b) 1, "
              "with the first token as the row and its matrix first in the product."),
        Known("multiplies the single-token probabilities",
              lambda T, pi: np.outer(*[np.einsum("i,aij->a", pi, T)] * 2),
              "You multiplied the single-token probabilities, P(a) P(b), which assumes "
              "consecutive tokens are independent. They are not: use pi T^(a) T^(b) 1."),
        Known("returns the conditional P(x_2 | x_1)",
              lambda T, pi: _bigrams(T, pi) / _bigrams(T, pi).sum(1, keepdims=True),
              "Each row sums to 1: you computed the conditional P(x_2 = b | x_1 = a). The "
              "exercise asks for the joint P(x_1 = a, x_2 = b), whose entries together sum "
              "to 1."),
        Known("starts from the uniform distribution",
              lambda T, pi: _bigrams(T, np.full(len(pi), 1 / len(pi))),
              "You started from the uniform distribution instead of `pi`."),
        Known("starts from the all-ones vector", lambda T, pi: _bigrams(T, np.ones(len(pi))),
              "You started from the all-ones vector instead of `pi` (your entries sum to the "
              "number of states): the first state is drawn from pi."),
        Known("uses the net matrix for the second token",
              lambda T, pi: np.einsum("i,aij,jk->a", pi, T, T.sum(0))[:, None].repeat(len(T), 1),
              "Every row of yours is constant, P(x_1 = a) in every column: the second factor "
              "was the net matrix T.sum(0), which forgets the second token. Use T^(b) for "
              "token b."),
    ),
    advice=lambda c: (f"Compute B[a, b] = pi @ T[a] @ T[b] @ 1; all entries together sum to 1 "
                      f"(yours sum to {np.sum(c.got):.4g})."),
    summary=lambda n: f"Correct on {n} HMMs, including asymmetric random ones.")


# ---------------------------------------------------------------------------- 1.6 lag agreement
def _same_token(T, pi, power, *, second=None, tokens=None):
    """sum over a in ``tokens`` of pi T^(a) net^power T^(a) 1 (``second`` replaces the last)."""
    between = np.linalg.matrix_power(T.sum(0), power)
    return float(sum(pi @ T[a] @ between @ (T[a] if second is None else second)
                     @ np.ones(T.shape[1]) for a in (tokens or range(T.shape[0]))))


def _lag_cases():
    hmms = [("Mess3", processes.mess3()),
            ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
            ("Z1R", processes.z1r()), ("RRXOR", processes.rrxor())] + random_hmms(seed=606, n=4)
    return [(f"For {name} at lag {lag}", (h.T, h.stationary(), lag))
            for name, h in hmms for lag in (1, 2, 3, 7)]


check_same_token_probability = Exercise(
    name="same_token_probability", signature="same_token_probability(T, pi, lag) -> float",
    cases=_lag_cases, convert=as_float,
    reference=lambda T, pi, lag: _same_token(T, pi, lag - 1),
    mistakes=(
        Known("net matrix to the power k (off by one)", lambda T, pi, k: _same_token(T, pi, k),
              lambda c: (f"This is the value for lag {c.args[2] + 1}: between x_t and x_(t+k) "
                         "there are k - 1 tokens, so the net matrix appears to the power "
                         "k - 1."), cause="k - 1 tokens"),
        Known("net matrix to the power k - 2 (off by one)",
              lambda T, pi, k: _same_token(T, pi, max(k - 2, 0)),
              lambda c: (f"This is the value for lag {c.args[2] - 1}: use the net matrix to the "
                         "power k - 1."), cause=r"lag \d+: use the net matrix"),
        Known("asks for k + 1 consecutive equal tokens",
              lambda T, pi, k: float(sum(pi @ np.linalg.matrix_power(T[a], k + 1) @ np.ones(len(pi))
                                         for a in range(len(T)))),
              "You computed the probability that k + 1 *consecutive* tokens are all equal. The "
              "tokens in between can be anything: summing over them replaces each T^(x) by the "
              "net matrix T."),
        Known("starts from the uniform distribution",
              lambda T, pi, k: _same_token(T, np.full(len(pi), 1 / len(pi)), k - 1),
              "You used the uniform distribution instead of `pi`."),
        Known("counts only token 0",
              lambda T, pi, k: _same_token(T, pi, k - 1, tokens=[0]),
              "You counted only token 0 at both ends: sum over every token a, "
              "P(x_t = x_(t+k)) = sum_a P(x_t = a, x_(t+k) = a)."),
        Known("uses the net matrix for the second token",
              lambda T, pi, k: _same_token(T, pi, k - 1, second=T.sum(0)),
              "You used the net matrix in place of the second T^(a); the sum over a is then 1. "
              "Both ends of the gap must emit a."),
    ),
    advice="Compute the sum over tokens a of pi @ T[a] @ matrix_power(net, lag - 1) @ T[a] @ 1.",
    summary=lambda n: (f"Correct on {n} (process, lag) pairs: Mess3 with two parameter settings, "
                       "the periodic Z1R and RRXOR, and random HMMs."))

EXERCISES = (check_stationary, check_sequence_probability, check_mess3_matrices, check_sample,
             check_bigram_probabilities, check_same_token_probability)
