"""Checkers for practice notebook 01 (hidden Markov models).

Each ``check_<thing>(fn)`` calls the learner's function on the course's processes (Z1R, Mess3,
RRXOR, golden mean, even process), on edge cases (impossible words, the empty word, extreme
parameters) and on random HMMs from a seeded generator, and compares with the package's
reference. When answers are wrong it recomputes, for every case, what each *typical mistake*
would have returned (transposed matrices, a forgotten normalisation, the net matrix instead of
a labelled one, ...) and names the mistake that explains **all** the wrong answers — a single
case can be ambiguous (on a uniform belief several bugs agree), the set of cases is not.

| checker | learner function |
|---|---|
| :func:`check_stationary` | ``stationary(T) -> pi`` |
| :func:`check_sequence_probability` | ``sequence_probability(T, pi, tokens) -> float`` |
| :func:`check_mess3_matrices` | ``mess3_matrices(x, alpha) -> T`` |
| :func:`check_sample` | ``sample(T, pi, length, rng) -> (tokens, states)`` |
| :func:`check_bigram_probabilities` | ``bigram_probabilities(T, pi) -> B`` |
| :func:`check_same_token_probability` | ``same_token_probability(T, pi, lag) -> float`` |

The comparison machinery (:class:`~beliefcourse.checks._core.Mistake`, ``Case``, ``judge``,
...) lives in :mod:`beliefcourse.checks._core`; the random and course HMMs of the first section
(:func:`random_hmm`, :func:`random_hmms`, :func:`course_hmms`) are shared with later chapters.
"""

from __future__ import annotations

import numpy as np

from .. import processes
from ..hmm import HMM
from ._core import Case, Mistake, as_array, as_float, fmt, judge, run

__all__ = [
    "check_bigram_probabilities",
    "check_mess3_matrices",
    "check_same_token_probability",
    "check_sample",
    "check_sequence_probability",
    "check_stationary",
]


# ---------------------------------------------------------------------------- shared helpers
def random_hmm(rng: np.random.Generator, n_states: int, n_tokens: int,
               sparsity: float = 0.3) -> HMM:
    """A random irreducible HMM with a non-uniform stationary distribution.

    Each row is a Dirichlet draw over (token, next state) pairs with a fraction ``sparsity``
    of the pairs set to zero; a cycle 0 -> 1 -> ... -> 0 (on a random token per step) is kept,
    so the chain is irreducible and ``pi`` is unique.
    """
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
    """The course's processes (golden mean and even process at p = 0.3, so pi is not
    uniform)."""
    return [
        ("Z1R", processes.z1r()),
        ("Mess3", processes.mess3()),
        ("RRXOR", processes.rrxor()),
        ("the golden-mean process (p = 0.3)", processes.golden_mean(0.3)),
        ("the even process (p = 0.3)", processes.even_process(0.3)),
    ]


# ---------------------------------------------------------------------------- stationary
def _test_stationary(fn):
    hmms = course_hmms() + random_hmms(seed=101, n=6, max_states=6)
    cases = []
    for name, hmm in hmms:
        S = hmm.n_states
        expected = np.asarray(hmm.stationary())
        got = as_array(fn(hmm.T.copy()), f"stationary(T) for {name}")
        if np.iscomplexobj(got):
            if np.allclose(got.imag, 0):
                raise Mistake(f"For {name} your function returned complex numbers "
                              f"({fmt(got)}). `np.linalg.eig` returns complex eigenvectors even "
                              "when they are real; return `np.real(v)`.")
            raise Mistake(f"For {name} your vector has non-zero imaginary parts ({fmt(got)}): "
                          "you picked an eigenvector of an eigenvalue other than 1. Select "
                          "the column whose eigenvalue is closest to 1.")
        if got.shape != (S,):
            hint = (" Return a 1-D array: `v.ravel()`, or index a single column."
                    if got.size == S else "")
            raise Mistake(f"For {name} ({S} states) expected shape ({S},), got shape "
                          f"{got.shape}.{hint}")
        if not np.all(np.isfinite(got)):
            raise Mistake(f"For {name} your vector contains NaN or inf: {fmt(got)}. Did you "
                          "divide by a sum that is zero? The eigenvectors of `np.linalg.eig` "
                          "are the *columns* `eigenvectors[:, k]`, not the rows.")
        total = got.sum()
        net = hmm.transition_matrix
        uniform = np.full(S, 1.0 / S)
        w, vecs = np.linalg.eig(net.T)
        row = np.real(vecs[np.argmin(np.abs(w - 1))])
        one_token = _left_eigenvector(hmm.T[0])
        variants = [
            ("row of eig", row / row.sum() if abs(row.sum()) > 1e-12 else None,
             "You took a *row* of the eigenvector matrix. `np.linalg.eig` returns the "
             "eigenvectors as its *columns*: use `eigenvectors[:, k]`, not "
             "`eigenvectors[k]`."),
            ("one token", one_token,
             "You used a single token's matrix T[0] instead of the net matrix: the chain of "
             "hidden states moves with T.sum(axis=0), summed over every token."),
            ("unnormalised", expected * total if abs(total - 1) > 1e-6 else None,
             f"Your vector is not normalised: it points in the right direction but sums to "
             f"{total:.4g}, not 1. Eigenvectors come back with arbitrary length and sign; a "
             "distribution sums to 1: divide by the sum."),
            ("right eigenvector", uniform,
             "You returned the uniform vector: the *right* eigenvector of the net matrix "
             "(T 1 = 1, because rows sum to 1). pi is a *left* eigenvector, pi T = pi: "
             "decompose `net.T`, not `net`. (On Z1R and Mess3 both are uniform, which hides "
             "this bug.)"),
        ]
        cases.append(Case(f"For {name}", got, expected, variants,
                          advice=f"Your vector does not satisfy pi T = pi (pi T - pi = "
                                 f"{fmt(got @ net - got)}). Use the net matrix T.sum(axis=0), "
                                 "its transpose, and the eigenvalue closest to 1."))
    judge(cases)
    return (f"Correct on {len(hmms)} HMMs (Z1R, Mess3, RRXOR, golden mean, even process and "
            "random HMMs with non-uniform pi).")


def _left_eigenvector(M):
    """The left eigenvector of ``M`` for its eigenvalue of largest real part, summing to 1
    (None if it sums to 0)."""
    w, v = np.linalg.eig(M.T)
    vec = np.real(v[:, np.argmax(np.real(w))])
    return vec / vec.sum() if abs(vec.sum()) > 1e-12 else None


def check_stationary(stationary):
    """Check ``stationary(T) -> pi``: the left eigenvector of ``T.sum(0)`` with eigenvalue 1."""
    return run("stationary", _test_stationary, stationary)


# ---------------------------------------------------------------------------- P(word)
def _word_prob(T, pi, word, *, transpose=False, reverse=False):
    v = np.asarray(pi, dtype=float)
    for x in (list(word)[::-1] if reverse else list(word)):
        v = T[x] @ v if transpose else v @ T[x]
    return float(v.sum())


def _sequence_inputs(seed):
    rng = np.random.default_rng(seed)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    inputs = [
        ("Z1R, word 011", z1r.T, z1r.stationary(), [0, 1, 1]),
        ("Z1R, word 000 (impossible)", z1r.T, z1r.stationary(), [0, 0, 0]),
        ("Z1R, the empty word", z1r.T, z1r.stationary(), []),
        ("Z1R, word 0110110", z1r.T, z1r.stationary(), [0, 1, 1, 0, 1, 1, 0]),
        ("RRXOR, word 0110", rrxor.T, rrxor.stationary(), [0, 1, 1, 0]),
        ("RRXOR, word 1110 (impossible)", rrxor.T, rrxor.stationary(), [1, 1, 1, 0]),
    ]
    for L in (1, 3, 8):
        word = rng.integers(0, 3, L).tolist()
        inputs.append((f"Mess3, word {''.join('ABC'[x] for x in word)}", mess3.T,
                       mess3.stationary(), word))
    for name, hmm in random_hmms(seed + 1, 5, max_states=4):
        pi = rng.dirichlet(np.ones(hmm.n_states))        # deliberately not stationary
        word = rng.integers(0, hmm.n_tokens, int(rng.integers(2, 6))).tolist()
        inputs.append((f"{name} with a non-stationary pi, word {word}", hmm.T, pi, word))
    return inputs


def _test_sequence_probability(fn):
    inputs = _sequence_inputs(seed=202)
    cases = []
    for name, T, pi, word in inputs:
        S = T.shape[1]
        raw = fn(T.copy(), pi.copy(), list(word))
        arr = np.asarray(raw) if raw is not None else None
        if arr is not None and arr.shape == (S,) and S > 1:
            raise Mistake(f"For {name} you returned a vector of length {S} ({fmt(arr)}) "
                          "instead of one number. Entry j of that vector is P(word, end in "
                          "state j); sum it — the product with 1 — to get P(word).")
        got = as_float(raw, f"sequence_probability for {name}")
        expected = _word_prob(T, pi, word)
        variants = [
            ("transposed", _word_prob(T, pi, word, transpose=True),
             "You multiplied with the matrices on the left (`T[x] @ v`), treating them as "
             "column-stochastic. In this course rows are the current state, T[x, i, j] = "
             "P(emit x, go to j | in i), so the row vector multiplies from the left: "
             "`v = v @ T[x]`."),
            ("reversed", _word_prob(T, pi, word, reverse=True),
             "You multiplied the matrices in reverse order. The first token's matrix comes "
             "first: pi T^(x1) T^(x2) ... T^(xL) 1."),
            ("uniform start", _word_prob(T, np.full(S, 1.0 / S), word),
             "You started from the uniform distribution instead of the `pi` argument."),
            ("ones start", _word_prob(T, np.ones(S), word),
             "You started from the all-ones vector instead of `pi`: the initial state is "
             "drawn from pi, so the product starts with pi."),
            ("net matrix", float(pi @ np.linalg.matrix_power(T.sum(0), len(word)) @ np.ones(S)),
             "You used the net matrix T.sum(0) at every step, which forgets which token was "
             "emitted. Use `T[x]` for token x."),
            ("drop last", _word_prob(T, pi, word[:-1]) if word else None,
             "You left out the last token's matrix."),
            ("drop first", _word_prob(T, pi, word[1:]) if word else None,
             "You left out the first token's matrix."),
            ("log", float(np.log(expected)) if expected > 0 else None,
             "You returned the natural log of the probability; return the probability "
             "itself."),
        ]
        cases.append(Case(f"For {name}", got, expected, variants,
                          advice="Carry a row vector: start with pi, do `v = v @ T[x]` for "
                                 "each token in order, return `v.sum()`."))
    judge(cases)
    return (f"Correct on {len(inputs)} words: impossible words, the empty word, Z1R, RRXOR, "
            "Mess3 and random HMMs with a non-stationary pi.")


def check_sequence_probability(sequence_probability):
    """Check ``sequence_probability(T, pi, tokens) -> pi T^(x1) ... T^(xL) 1``."""
    return run("sequence_probability", _test_sequence_probability, sequence_probability)


# ---------------------------------------------------------------------------- Mess3
def _mess3(x, alpha, *, spec="ij,jk->kij", beta=None, stay=None, swap=False):
    beta = (1 - alpha) / 2 if beta is None else beta
    stay = 1 - 2 * x if stay is None else stay
    own, other = (beta, alpha) if swap else (alpha, beta)
    move = np.full((3, 3), x) + (stay - x) * np.eye(3)            # move[i, j] = P(j | i)
    emit = np.full((3, 3), other) + (own - other) * np.eye(3)     # emit[j, k] = P(k | j)
    return np.einsum(spec, move, emit)


def _test_mess3_matrices(fn):
    params = [(0.05, 0.85), (0.15, 0.6), (0.5, 0.6), (0.1, 0.2), (0.0, 1.0), (0.3, 1 / 3)]
    cases = []
    for x, alpha in params:
        label = f"For x = {x:g}, alpha = {alpha:.4g}"
        got = as_array(fn(x, alpha), f"mess3_matrices({x:g}, {alpha:.4g})")
        if got.shape != (3, 3, 3):
            raise Mistake(f"{label} expected shape (3, 3, 3) — (token, from-state, to-state) "
                          f"— got {got.shape}.")
        expected = processes.mess3(x=x, alpha=alpha).T
        variants = [
            # Because the move matrix is symmetric, this is also every T[k] transposed.
            ("emitted by old state", _mess3(x, alpha, spec="ij,ik->kij"),
             "The token is emitted by the state you move *into* (j), not the state you leave "
             "(i): T[k, i, j] = P(j | i) P(k | j). (For Mess3 this is the same as having "
             "transposed each T[k]: rows must be the state we are in, columns the state we "
             "go to.)"),
            ("axis order", _mess3(x, alpha, spec="ij,jk->ijk"),
             "Your numbers are right but the axes are in the wrong order: axis 0 must be the "
             "token, T[k, i, j] (try `np.einsum(\"ij,jk->kij\", move, emit)`)."),
            ("beta", _mess3(x, alpha, beta=1 - alpha),
             "The off-token emission probability is beta = (1 - alpha) / 2, shared by the two "
             "other tokens — not 1 - alpha."),
            ("swapped emission", _mess3(x, alpha, swap=True),
             "You swapped the emission probabilities: a state emits its *own* token with "
             "probability alpha and each of the two others with beta = (1 - alpha) / 2."),
            ("stay", _mess3(x, alpha, stay=1 - x),
             "The probability of staying is 1 - 2x (the chain jumps to each of the two other "
             "states with probability x), not 1 - x."),
        ]
        k, i, j = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        row_sums = got.sum(axis=(0, 2))
        advice = (f"Entry T[{k}, {i}, {j}] should be P(go to {'ABC'[j]} | in {'ABC'[i]}) * "
                  f"P(emit {'ABC'[k]} | {'ABC'[j]}) = {expected[k, i, j]:.6g}, yours is "
                  f"{got[k, i, j]:.6g}.")
        if not np.allclose(row_sums, 1):
            advice += (f" Also, the rows of T.sum(axis=0) sum to {fmt(row_sums)}, not 1: from "
                       "every state the probabilities of all (token, next state) pairs must "
                       "add up to 1.")
        cases.append(Case(label, got, expected, variants, advice=advice))
    judge(cases)
    return (f"Correct for {len(params)} parameter settings, including the paper's "
            "(0.05, 0.85), the libraries' default (0.15, 0.6), and the extremes x = 0, 0.5 "
            "and alpha = 1/3, 1.")


def check_mess3_matrices(mess3_matrices):
    """Check ``mess3_matrices(x, alpha)`` against :func:`beliefcourse.processes.mess3`."""
    return run("mess3_matrices", _test_mess3_matrices, mess3_matrices)


# ---------------------------------------------------------------------------- sampling
def _call_sample(fn, T, pi, length, seed, name):
    out = fn(T.copy(), pi.copy(), length, np.random.default_rng(seed))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"For {name} your sampler returned {type(out).__name__}; return a "
                      "pair `(tokens, states)`.")
    tokens = as_array(out[0], "your sampler's tokens")
    states = as_array(out[1], "your sampler's states")
    if tokens.shape != (length,) or states.shape != (length + 1,):
        hint = ""
        if states.shape == (length,):
            hint = (" `states` must include the initial state s_0, so it has one more entry "
                    "than `tokens`.")
        raise Mistake(f"For {name} with length {length}: expected tokens of shape ({length},) "
                      f"and states of shape ({length + 1},), got {tokens.shape} and "
                      f"{states.shape}.{hint}")
    for arr, what in ((tokens, "tokens"), (states, "states")):
        if arr.size and not np.all(np.mod(arr, 1) == 0):
            raise Mistake(f"For {name} your {what} are not whole numbers: {fmt(arr[:8])}.")
    n_tokens, n_states = T.shape[0], T.shape[1]
    tokens, states = tokens.astype(int), states.astype(int)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= n_tokens):
        raise Mistake(f"For {name} a token is out of range 0..{n_tokens - 1}.")
    if states.min() < 0 or states.max() >= n_states:
        raise Mistake(f"For {name} a state is out of range 0..{n_states - 1}.")
    return tokens, states


def _check_transitions(hmm, name, tokens, states):
    """Every (state, token, next state) step must have positive probability."""
    T = hmm.T
    src, dst = states[:-1], states[1:]
    bad = np.flatnonzero(T[tokens, src, dst] <= 0)
    if not len(bad):
        return
    t = bad[0]
    i, x, j = src[t], tokens[t], dst[t]
    sn, tn = hmm.state_names, hmm.token_names
    step = (f"At step {t} your sampler went from state {sn[i]} to {sn[j]} emitting token "
            f"{tn[x]}, which has probability T[{x}, {i}, {j}] = 0 in {name}.")
    if np.all(states == states[0]):
        raise Mistake(f"{step} Your hidden state never changes: after drawing a transition, "
                      "store the new state in states[t + 1] and draw the next step from that "
                      "state's row.")
    if T[x, i, :].sum() > 0 and T[:, i, j].sum() > 0:
        raise Mistake(f"{step} The token and the move are each possible on their own, but not "
                      "together: you drew the token and the next state separately. Draw the "
                      "*pair* (token, next state) from the joint table T[:, i, :] (e.g. "
                      "flatten it and use `divmod`).")
    if T[:, i, j].sum() > 0 and T[x, j, :].sum() > 0:
        raise Mistake(f"{step} The move {sn[i]} -> {sn[j]} is possible, and {tn[x]} is a token "
                      f"that the *new* state {sn[j]} emits on its next step: you drew the next "
                      "state, then a token from the new state's row T[:, j, :]. In this course "
                      "a step emits as it moves: draw the *pair* (token, next state) from the "
                      "current state's table T[:, i, :].")
    if T[x, j, i] > 0:
        raise Mistake(f"{step} The reverse step T[{x}, {j}, {i}] is possible: you are reading "
                      "the matrices column-wise. Rows are the current state: T[x, i, j] = "
                      "P(emit x, go to j | in i).")
    raise Mistake(f"{step} Each step must be drawn from row states[t] of the labelled "
                  "matrices, and the state it lands in stored as states[t + 1].")


def _check_frequencies(hmm, name, tokens, states):
    """Step frequencies must match T (|z| <= 5.5 in every cell)."""
    T = hmm.T
    src, dst = states[:-1], states[1:]
    counts = np.zeros((hmm.n_states, hmm.n_tokens, hmm.n_states))
    np.add.at(counts, (src, tokens, dst), 1)
    visits = counts.sum(axis=(1, 2))
    p = T.transpose(1, 0, 2)                                       # p[i, x, j]
    expected = visits[:, None, None] * p
    z = np.zeros_like(p)
    ok = p > 0
    z[ok] = (counts[ok] - expected[ok]) / np.sqrt(expected[ok] * (1 - p[ok]) + 1e-12)
    if np.max(np.abs(z)) <= 5.5:
        return
    i, x, j = np.unravel_index(np.argmax(np.abs(z)), z.shape)
    sn, tn = hmm.state_names, hmm.token_names
    detail = (f"From state {sn[i]} the step (token {tn[x]}, next state {sn[j]}) happened in "
              f"{counts[i, x, j] / visits[i]:.1%} of your steps from {sn[i]}, but its "
              f"probability is T[{x}, {i}, {j}] = {p[i, x, j]:.1%} ({name}, {len(tokens)} "
              "steps).")
    independent = T.sum(2).T[:, :, None] * T.sum(0)[:, None, :]   # P(x | i) P(j | i)
    seen = counts > 0
    loglik_true = np.sum(counts[seen] * np.log(np.where(p[seen] > 0, p[seen], 1e-300)))
    loglik_independent = np.sum(counts[seen] * np.log(np.maximum(independent[seen], 1e-300)))
    if loglik_independent > loglik_true:
        raise Mistake(f"{detail} Your samples fit a process in which the token and the next "
                      "state are drawn independently: draw the *pair* from the joint table "
                      "T[:, states[t], :].")
    raise Mistake(f"{detail} Draw each (token, next state) pair with probabilities "
                  "T[:, states[t], :].")


def _test_sample(fn):
    rng = np.random.default_rng(404)
    hmms = [("Z1R (p = 0.3)", processes.z1r(0.3)),
            ("RRXOR", processes.rrxor()),
            ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
            ("a random 4-state HMM", random_hmm(rng, n_states=4, n_tokens=3, sparsity=0.5))]
    length = 3000
    for name, hmm in hmms:
        T, pi = hmm.T, hmm.stationary()
        _call_sample(fn, T, pi, 0, 1, name)                       # shapes at length 0
        tokens, states = _call_sample(fn, T, pi, length, 2, name)
        _check_transitions(hmm, name, tokens, states)
        _check_frequencies(hmm, name, tokens, states)
    # the initial state must follow pi
    hmm = random_hmm(rng, n_states=4, n_tokens=2)
    T, pi = hmm.T, hmm.stationary()
    n = 600
    first = np.array([_call_sample(fn, T, pi, 1, 1000 + k, "a random HMM")[1][0]
                      for k in range(n)])
    freq = np.bincount(first, minlength=4) / n
    if np.max(np.abs(freq - pi) / np.sqrt(pi * (1 - pi) / n)) > 5.5:
        always = (f" Your initial state was always {first[0]}."
                  if np.all(first == first[0]) else "")
        raise Mistake(f"The initial state s_0 must be drawn from `pi` = {fmt(pi)}; over {n} "
                      f"samples yours had frequencies {fmt(freq)}.{always}")
    # the rng argument must be the only source of randomness
    name, hmm = hmms[2]
    a = _call_sample(fn, hmm.T, hmm.stationary(), 50, 7, name)
    b = _call_sample(fn, hmm.T, hmm.stationary(), 50, 7, name)
    if not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])):
        raise Mistake("Your samples are statistically right, but two calls with identically "
                      "seeded generators gave different sequences: draw every random number "
                      "from the `rng` argument (e.g. `rng.choice`), not from `np.random`.")
    return (f"Your sampler makes only possible steps, with the right frequencies, on "
            f"{len(hmms)} processes ({length} steps each); s_0 follows pi; and a seed "
            "reproduces the sample.")


def check_sample(sample):
    """Check ``sample(T, pi, length, rng) -> (tokens, states)`` statistically.

    The learner's sampler runs on seeded generators, so the verdict is reproducible.
    """
    return run("sample", _test_sample, sample)


# ---------------------------------------------------------------------------- bigrams
def _bigrams(T, pi):
    return np.einsum("i,aij,bjk->ab", pi, T, T)


def _test_bigram_probabilities(fn):
    hmms = course_hmms()[:3] + random_hmms(seed=505, n=4)
    cases = []
    for name, hmm in hmms:
        T, pi = hmm.T, hmm.stationary()
        X = hmm.n_tokens
        got = as_array(fn(T.copy(), pi.copy()), f"bigram_probabilities for {name}")
        if got.shape != (X, X):
            raise Mistake(f"For {name} ({X} tokens) expected shape ({X}, {X}), got "
                          f"{got.shape}.")
        expected = _bigrams(T, pi)
        unigram = expected.sum(axis=1)
        variants = [
            ("transposed", expected.T,
             "Your matrix is transposed: B[a, b] = P(x_1 = a, x_2 = b) = pi T^(a) T^(b) 1, "
             "with the first token as the row and its matrix first in the product."),
            ("independent", np.outer(unigram, unigram),
             "You multiplied the single-token probabilities, P(a) P(b), which assumes "
             "consecutive tokens are independent. They are not: use pi T^(a) T^(b) 1."),
            ("conditional", expected / unigram[:, None],
             "Each row sums to 1: you computed the conditional P(x_2 = b | x_1 = a). The "
             "exercise asks for the joint P(x_1 = a, x_2 = b), whose entries together sum "
             "to 1."),
            ("uniform start", _bigrams(T, np.full(hmm.n_states, 1 / hmm.n_states)),
             "You started from the uniform distribution instead of `pi`."),
            ("ones start", _bigrams(T, np.ones(hmm.n_states)),
             "You started from the all-ones vector instead of `pi` (your entries sum to the "
             "number of states): the first state is drawn from pi."),
            ("net second", np.einsum("i,aij,jk->a", pi, T, T.sum(0))[:, None].repeat(X, 1)
             if X > 1 else None,
             "Every row of yours is constant, P(x_1 = a) in every column: the second factor "
             "was the net matrix T.sum(0), which forgets the second token. Use T^(b) for "
             "token b."),
        ]
        cases.append(Case(f"For {name}", got, expected, variants,
                          advice=f"Compute B[a, b] = pi @ T[a] @ T[b] @ 1; all entries "
                                 f"together sum to 1 (yours sum to {got.sum():.4g})."))
    judge(cases)
    return f"Correct on {len(hmms)} HMMs, including asymmetric random ones."


def check_bigram_probabilities(bigram_probabilities):
    """Check ``bigram_probabilities(T, pi) -> B[a, b] = pi T^(a) T^(b) 1``."""
    return run("bigram_probabilities", _test_bigram_probabilities, bigram_probabilities)


# ---------------------------------------------------------------------------- lagged agreement
def _same_token(T, pi, power):
    between = np.linalg.matrix_power(T.sum(0), power)
    ones = np.ones(T.shape[1])
    return float(sum(pi @ T[a] @ between @ T[a] @ ones for a in range(T.shape[0])))


def _test_same_token_probability(fn):
    hmms = [("Mess3", processes.mess3()),
            ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
            ("Z1R", processes.z1r()), ("RRXOR", processes.rrxor())]
    hmms += random_hmms(seed=606, n=4)
    cases = []
    for name, hmm in hmms:
        T, pi = hmm.T, hmm.stationary()
        S = hmm.n_states
        ones = np.ones(S)
        for lag in (1, 2, 3, 7):
            got = as_float(fn(T.copy(), pi.copy(), lag),
                           f"same_token_probability for {name}, lag {lag}")
            variants = [
                ("lag + 1", _same_token(T, pi, lag),
                 f"This is the value for lag {lag + 1}: between x_t and x_(t+k) there are "
                 "k - 1 tokens, so the net matrix appears to the power k - 1."),
                ("lag - 1", _same_token(T, pi, lag - 2) if lag >= 2 else None,
                 f"This is the value for lag {lag - 1}: use the net matrix to the power "
                 "k - 1."),
                ("consecutive", float(sum(pi @ np.linalg.matrix_power(T[a], lag + 1) @ ones
                                          for a in range(T.shape[0]))),
                 "You computed the probability that k + 1 *consecutive* tokens are all equal. "
                 "The tokens in between can be anything: summing over them replaces each "
                 "T^(x) by the net matrix T."),
                ("uniform start", _same_token(T, np.full(S, 1 / S), lag - 1),
                 "You used the uniform distribution instead of `pi`."),
                ("one token", float(pi @ T[0] @ np.linalg.matrix_power(T.sum(0), lag - 1)
                                    @ T[0] @ ones),
                 "You counted only token 0 at both ends: sum over every token a, "
                 "P(x_t = x_(t+k)) = sum_a P(x_t = a, x_(t+k) = a)."),
                ("net at the end", 1.0,
                 "You used the net matrix in place of the second T^(a); the sum over a is "
                 "then 1. Both ends of the gap must emit a."),
            ]
            cases.append(Case(f"For {name} at lag {lag}", got, _same_token(T, pi, lag - 1),
                              variants,
                              advice="Compute the sum over tokens a of "
                                     "pi @ T[a] @ matrix_power(net, lag - 1) @ T[a] @ 1."))
    judge(cases)
    return (f"Correct on {len(cases)} (process, lag) pairs — Mess3 with two parameter "
            "settings, the periodic Z1R and RRXOR, and random HMMs.")


def check_same_token_probability(same_token_probability):
    """Check ``same_token_probability(T, pi, lag) -> P(x_{t+lag} = x_t)``."""
    return run("same_token_probability", _test_same_token_probability, same_token_probability)
