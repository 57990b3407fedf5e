"""Exercises of practice notebook 01 (hidden Markov models), declared for the registry.
:func:`random_hmm`, :func:`random_hmms` and :func:`course_hmms` are shared with later chapters."""

from __future__ import annotations

import contextlib

import numpy as np

from .. import processes
from ..enumerate import all_sequences
from ..hmm import HMM
from ._core import Exercise, Known, Mistake, as_array, as_float, close, fmt, magnitude

__all__ = ["EXERCISES", "check_bigram_probabilities", "check_mess3_matrices",
           "check_same_token_probability", "check_sample", "check_sequence_probability",
           "check_stationary", "course_hmms", "knowns", "random_hmm", "random_hmms"]


def random_hmm(rng: np.random.Generator, n_states: int, n_tokens: int,
               sparsity: float = 0.3) -> HMM:
    """A random irreducible HMM with a non-uniform pi: Dirichlet rows over (token, next state),
    a fraction ``sparsity`` set to zero, a cycle 0 -> 1 -> ... -> 0 kept (pi unique)."""
    joint = rng.dirichlet(np.full(n_tokens * n_states, 0.7), size=n_states)
    joint = joint.reshape(n_states, n_tokens, n_states)
    joint *= rng.random(joint.shape) >= sparsity
    for i in range(n_states):
        joint[i, rng.integers(n_tokens), (i + 1) % n_states] += 0.2
    return HMM((joint / joint.sum(axis=(1, 2), keepdims=True)).transpose(1, 0, 2))


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


def knowns(*rows) -> tuple:
    """Known mistakes from rows ``(mistake, wrong, diagnosis[, cause[, recognise]])``."""
    return tuple(Known(*row) for row in rows)


# ---------------------------------------------------------------------------- 1.1 stationary
def _eig(M, row=False, real=True, scale=np.sum, pick=lambda w: np.argmin(np.abs(w - 1))):
    """M's eigenvector (a column; by mistake a row) for the eigenvalue nearest 1, / scale."""
    w, v = np.linalg.eig(M)
    vec = (v.T if row else v)[:, pick(w)]
    vec = np.real(vec) if real else vec
    with np.errstate(divide="ignore", invalid="ignore"):
        return vec / scale(vec)


def _stationary_vector(value, what):
    arr = as_array(value, what)
    if np.iscomplexobj(arr):
        raise Mistake(f"{what}: you returned complex numbers ({fmt(arr.real)}); `np.linalg.eig` "
                      "returns complex eigenvectors even when they are real: return `np.real(v)`."
                      if np.allclose(arr.imag, 0) else f"{what}: your vector has non-zero "
                      "imaginary parts: it belongs to an eigenvalue other than 1. Select the "
                      "column whose eigenvalue is closest to 1.")
    if not np.all(np.isfinite(arr)):
        raise Mistake(f"{what}: your vector contains NaN or inf ({fmt(arr)}): a division by a zero "
                      "sum? Only the eigenvector of eigenvalue 1 has a non-zero sum: take the "
                      "*column* `v[:, k]` (not a row) whose eigenvalue is closest to 1.")
    return arr


def _stationary_advice(case):
    got, net = np.asarray(case.got, float).ravel(), case.args[0].sum(0)
    residual = (f" (max |pi T - pi| = {magnitude(float(np.abs(got @ net - got).max()))}, "
                f"and your entries sum to {got.sum():.6g})" if got.shape == (len(net),) else "")
    return (f"Your vector does not satisfy pi T = pi{residual}. Use the transpose of the net "
            "matrix T.sum(axis=0) and the eigenvalue closest to 1 (agree to about 1e-6).")


check_stationary = Exercise(
    name="stationary", signature="stationary(T) -> pi", convert=_stationary_vector,
    cases=lambda: [(f"For {name}", (hmm.T,))
                   for name, hmm in course_hmms() + random_hmms(seed=101, n=6, max_states=6)],
    reference=lambda T: HMM(T).stationary(), advice=_stationary_advice, mistakes=knowns(
        ("returns the eigenvector without normalising it", lambda T: _eig(
            T.sum(0).T, scale=np.ones_like), lambda c: "Your vector is not normalised: it sums to "
         f"{np.sum(c.got):.4g}, not 1 (eigenvectors have any length and sign): divide by the "
         "sum.", "not normalised", lambda c: np.shape(c.got) == c.expected.shape and abs(
             np.sum(c.got) - 1) > 1e-6 and close(c.got, c.expected * np.sum(c.got))),
        ("divides by the Euclidean norm, not the sum", lambda T: _eig(
            T.sum(0).T, scale=np.linalg.norm), None, r"not normalised.*by the sum"),
        ("takes the right eigenvector (decomposes net, not net.T)", lambda T: _eig(T.sum(0)),
         "You returned the *right* eigenvector of the net matrix (uniform: rows sum to 1). pi is "
         "a *left* eigenvector, pi T = pi: decompose `net.T`. (Z1R and Mess3 hide this bug.)"),
        ("returns np.linalg.eig's complex vector", lambda T: _eig(T.sum(0).T, real=False), None,
         r"np\.real"),
        ("uses T[0] instead of the net matrix", lambda T: _eig(T[0].T), "You used one token's "
         "matrix T[0]: the hidden states move with the net matrix T.sum(axis=0)."),
        ("uses T[0] and its largest eigenvalue", lambda T: _eig(T[0].T, pick=lambda w: np.argmax(
            np.abs(w))), "You used one token's matrix T[0]: the hidden states move with the net "
         "matrix T.sum(axis=0)."),
        ("takes the smallest eigenvalue's vector", lambda T: _eig(
            T.sum(0).T, pick=lambda w: np.argmin(w.real)), "You took the eigenvector of the "
         "smallest eigenvalue (np.argsort sorts in ascending order); pi's eigenvalue is 1, "
         "the largest: np.argmin(np.abs(w - 1)).",
         "closest to 1|eigenvalue is 1"),
        ("returns a column vector (S, 1)", lambda T: HMM(T).stationary()[:, None],
         "Return a 1-D array: `v.ravel()`, or index a single column."),
        ("takes a row of the eigenvector matrix, not a column", lambda T: _eig(
            T.sum(0).T, row=True), "You took a *row* of the eigenvector matrix; `np.linalg.eig` "
         "returns eigenvectors as *columns*: `v[:, k]`, not `v[k]`.")),
    summary=lambda n: (f"Correct on {n} HMMs (Z1R, Mess3, RRXOR, golden mean, even process and "
                       "random HMMs with non-uniform pi)."))


# ---------------------------------------------------------------------------- 1.2 P(word)
def _word_prob(T, pi, word, *, transpose=False, end=False, norm=False):
    v = np.asarray(pi, dtype=float)
    for x in word:
        v = T[x] @ v if transpose else v @ T[x]
        v = v / v.sum() if norm and v.sum() > 0 else v
    return v if end else float(v.sum())


def _sequence_cases():
    rng = np.random.default_rng(202)
    z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()
    cases = [(f"For {name}", (h.T, h.stationary(), w)) for name, h, w in [
        ("Z1R, word 011", z1r, [0, 1, 1]), ("Z1R, word 000 (impossible)", z1r, [0, 0, 0]),
        ("Z1R, the empty word", z1r, []), ("Z1R, word 0110110", z1r, [0, 1, 1, 0, 1, 1, 0]),
        ("RRXOR, word 0110", rrxor, [0, 1, 1, 0]),
        ("RRXOR, word 1110 (impossible)", rrxor, [1, 1, 1, 0])]]
    cases += [(f"For Mess3, word {''.join('ABC'[x] for x in w)}", (mess3.T, mess3.stationary(), w))
              for w in (rng.integers(0, 3, L).tolist() for L in (1, 3, 8))]
    for name, hmm in random_hmms(203, 5, max_states=4):
        pi = rng.dirichlet(np.ones(hmm.n_states))        # deliberately not stationary
        word = rng.integers(0, hmm.n_tokens, int(rng.integers(2, 6))).tolist()
        cases.append((f"For {name} with a non-stationary pi, word {word}", (hmm.T, pi, word)))
    return cases


def _probability(value, what):
    arr = as_array(value, what)
    if arr.ndim == 1 and arr.size > 1:
        raise Mistake(f"{what}: you returned a vector of length {arr.size} ({fmt(arr)}), not one "
                      "number. Entry j is P(word, end in state j): sum it to get P(word).")
    return float("nan") if arr.size == 1 and np.isnan(arr.ravel()[0]) else as_float(arr, what)


def _normalises(case):
    """1 on every possible word (or NaN, or the last step's normaliser): a normalised vector."""
    T, pi, w = case.args
    last = _word_prob(T, pi, w) / _word_prob(T, pi, w[:-1]) if w and _word_prob(
        T, pi, w[:-1]) > 0 else None
    return bool(np.isnan(case.got) or (case.expected > 0 and close(case.got, 1.0))
                or (last is not None and close(case.got, last)))


check_sequence_probability = Exercise(
    name="sequence_probability", signature="sequence_probability(T, pi, tokens) -> float",
    cases=_sequence_cases, convert=_probability,
    reference=lambda T, pi, word: HMM(T).probability(np.asarray(word, int), prior=pi),
    mistakes=knowns(
        ("normalises the vector at each step", lambda T, pi, w: _word_prob(T, pi, w, norm=True),
         "You normalised the vector at each step (a belief update); P(word) is the product of "
         "those normalisers: return the sum of the unnormalised pi T^(x_1) ... T^(x_L).", "",
         _normalises),
        ("multiplies column vectors, T[x] @ v", lambda T, pi, w: _word_prob(
            T, pi, w, transpose=True), "You multiplied `T[x] @ v` (column convention). Rows are "
         "the current state, T[x, i, j] = P(emit x, go to j | in i): `v = v @ T[x]`."),
        ("multiplies the matrices in reverse order", lambda T, pi, w: _word_prob(T, pi, w[::-1]),
         "You multiplied the matrices in reverse order: pi T^(x_1) ... T^(x_L) 1, x_1's first."),
        ("starts from the uniform distribution", lambda T, pi, w: _word_prob(
            T, np.full(len(pi), 1 / len(pi)), w), "You started from the uniform distribution "
         "instead of the `pi` argument."),
        ("starts from the all-ones vector (forgets the prior)", lambda T, pi, w: _word_prob(
            T, np.ones(len(pi)), w), "You started from the all-ones vector: the first state is "
         "drawn from pi, so start with pi."),
        ("uses the net matrix at every step", lambda T, pi, w: float(np.sum(
            pi @ np.linalg.matrix_power(T.sum(0), len(w)))), "You used the net matrix T.sum(0), "
         "which forgets the tokens: use `T[x]` for token x."),
        ("drops the last token", lambda T, pi, w: _word_prob(T, pi, w[:-1]),
         "You left out the last token's matrix."),
        ("drops the first token", lambda T, pi, w: _word_prob(T, pi, w[1:]),
         "You left out the first token's matrix."),
        ("returns the log-probability", lambda T, pi, w: (lambda p: np.log(p) if p > 0 else 0.0)(
            _word_prob(T, pi, w)), "You returned the natural log of the probability; return the "
         "probability itself."),
        ("returns the end vector without summing it",
         lambda T, pi, w: _word_prob(T, pi, w, end=True), None, "sum it")),
    advice="Carry a row vector: start with pi, do `v = v @ T[x]` for each token in order, "
           "return `v.sum()`.",
    summary=lambda n: (f"Correct on {n} words: impossible words, the empty word, Z1R, RRXOR, "
                       "Mess3 and random HMMs with a non-stationary pi."))


# ---------------------------------------------------------------------------- 1.3 Mess3
def _mess3(x, alpha, *, spec="ij,jk->kij", beta=None, stay=None, swap=False):
    beta = (1 - alpha) / 2 if beta is None else beta
    own, other = (beta, alpha) if swap else (alpha, beta)
    move = np.full((3, 3), x) + ((1 - 2 * x if stay is None else stay) - x) * np.eye(3)
    emit = np.full((3, 3), other) + (own - other) * np.eye(3)     # emit[j, x] = P(x | j)
    return np.einsum(spec, move, emit)


def _mess3_advice(case):
    got, want = np.asarray(case.got, float), case.expected
    if got.shape != want.shape:
        return "T has shape (3, 3, 3): (token, from-state, to-state)."
    x, i, j = np.unravel_index(np.argmax(np.abs(got - want)), got.shape)
    rows, (X, I, J) = got.sum(axis=(0, 2)), ("ABC"[x], "ABC"[i], "ABC"[j])
    return (f"Entry T[{x}, {i}, {j}] should be P(go to {J} | in {I}) * P(emit {X} | {J}) = "
            f"{want[x, i, j]:.6g}, yours is {got[x, i, j]:.6g}." + (
                "" if np.allclose(rows, 1) else f" Also, the rows of T.sum(axis=0) sum to "
                f"{fmt(rows)}, not 1: from every state all (token, next state) pairs add to 1."))


check_mess3_matrices = Exercise(
    name="mess3_matrices", signature="mess3_matrices(x, alpha) -> T", advice=_mess3_advice,
    cases=lambda: [(f"For x = {x:g}, alpha = {a:.4g}", (x, a)) for x, a in
                   [(0.05, 0.85), (0.15, 0.6), (0.5, 0.6), (0.1, 0.2), (0.0, 1.0), (0.3, 1 / 3)]],
    reference=lambda x, alpha: processes.mess3(x=x, alpha=alpha).T,
    mistakes=knowns(     # the move matrix is symmetric: emitting from i = transposing each T[x]
        ("emits from the state it leaves", lambda x, a: _mess3(x, a, spec="ij,ik->kij"),
         "The token is emitted by the state you move *into* (j), not the one you leave (i): "
         "T[x, i, j] = P(j | i) P(x | j). (For Mess3 this equals transposing each T[x].)"),
        ("transposes every T[x]", lambda x, a: _mess3(x, a, spec="ij,jk->kji"), None,
         "transposing"),
        ("puts the token on the last axis", lambda x, a: _mess3(x, a, spec="ij,jk->ijk"),
         "Your numbers are right but the axes are not: axis 0 must be the token, T[x, i, j] "
         "(try `np.einsum(\"ij,jk->kij\", move, emit)`)."),
        ("off-token probability 1 - alpha, not halved", lambda x, a: _mess3(x, a, beta=1 - a),
         "The off-token emission probability is beta = (1 - alpha) / 2, not 1 - alpha."),
        ("swaps x and alpha", lambda x, a: _mess3(a, x), "You swapped x and alpha: x is the "
         "probability of jumping to each other state (the move matrix), alpha that of a state "
         "emitting its own token."),
        ("swaps alpha and beta in the emissions", lambda x, a: _mess3(x, a, swap=True),
         "You swapped the emissions: a state emits its *own* token with probability alpha, each "
         "other one with beta = (1 - alpha) / 2."),
        ("stays with probability 1 - x", lambda x, a: _mess3(x, a, stay=1 - x),
         "The probability of staying is 1 - 2x (a jump to each other state has x), not 1 - x.")),
    summary=lambda n: (f"Correct for {n} parameter settings, including the paper's (0.05, 0.85) "
                       "and the extremes x = 0, 0.5 and alpha = 1/3, 1."))


# ---------------------------------------------------------------------------- 1.4 sampling
def _call_sample(fn, T, pi, length, seed, name):
    """The learner's (tokens, states), validated (``divmod(k, n_tokens)`` decoding named)."""
    out = check_sample.call(fn, (T, pi, length, np.random.default_rng(seed)), f"For {name}")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"For {name} your sampler returned {type(out).__name__}; return a pair "
                      "`(tokens, states)`.")
    tokens, states = (as_array(a, f"your sampler's {w}") for a, w in zip(out, ("tokens", "states")))
    if tokens.shape != (length,) or states.shape != (length + 1,):
        raise Mistake(f"For {name} with length {length}: expected tokens of shape ({length},) and "
                      f"states of shape ({length + 1},), got {tokens.shape} and {states.shape}."
                      + (" `states` must include the initial state s_0, one more entry than "
                         "`tokens`." if states.shape == (length,) else ""))
    for arr, what in ((tokens, "tokens"), (states, "states")):
        if arr.size and not np.all(np.mod(arr, 1) == 0):
            raise Mistake(f"For {name} your {what} are not whole numbers: {fmt(arr[:8])}.")
    (X, S), tokens, states = T.shape[:2], tokens.astype(int), states.astype(int)
    s_ok = states.min() >= 0 and states.max() < S
    if X != S and tokens.size and s_ok and not (tokens.min() >= 0 and tokens.max() < X and np.all(
            T[tokens, states[:-1], states[1:]] > 0)):
        x, j = np.divmod(tokens * X + states[1:], S)      # undo divmod(k, X), redo (k, S)
        if np.all(x < X) and np.all(T[x, states[:-1], j] > 0):
            raise Mistake(f"For {name} ({X} tokens, {S} states) your steps decode the flat index "
                          "of T[:, i, :].ravel() with `divmod(k, n_tokens)`. That table has "
                          "n_states columns, so k = x * n_states + j: use `divmod(k, n_states)`.")
    def possible(tk, to):            # every step (states[t], token tk[t], next state to[t])
        return bool(tk.size and min(tk.min(), to.min()) >= 0 and tk.max() < X and to.max() < S
                    and s_ok and np.all(T[tk, states[:-1], to] > 0))
    if not possible(tokens, states[1:]) and possible(states[1:], tokens):
        raise Mistake(f"For {name} your tokens fit as next states and your states as tokens: you "
                      "stored them the wrong way round. `divmod(k, n_states)` returns (token, "
                      "next state).")
    for arr, what, n in ((tokens, "token", X), (states, "state", S)):
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise Mistake(f"For {name} a {what} is out of range 0..{n - 1}.")
    return tokens, states


def _step_law(T, tokens, states):
    """Counts of the steps (state, token, next state), shape (S, X, S)."""
    (X, S), s = T.shape[:2], np.asarray(states, int)
    return np.bincount((s[:-1] * X + tokens) * S + s[1:], minlength=S * X * S).reshape(S, X, S)


def _check_steps(hmm, name, tokens, states):
    """Steps possible and as frequent as T says (|z| <= 5.5), else name the nearest mistake."""
    T, counts = hmm.T, _step_law(hmm.T, tokens, states)
    p, visits = T.transpose(1, 0, 2), counts.sum(axis=(1, 2))
    expected = visits[:, None, None] * p
    z = np.where(p > 0, (counts - expected) / np.sqrt(expected * (1 - p) + 1e-12), 0.0)
    impossible = np.argwhere((p == 0) & (counts > 0))
    if not len(impossible) and np.max(np.abs(z)) <= 5.5:
        return
    sn, tn = hmm.state_names, hmm.token_names
    i, x, j = impossible[0] if len(impossible) else np.unravel_index(np.argmax(np.abs(z)), z.shape)

    def distance(c):                 # visit-weighted total variation between step laws
        rows = c / np.maximum(c.sum(axis=(1, 2), keepdims=True), 1)
        mine = counts / np.maximum(visits[:, None, None], 1)
        return float(visits @ np.abs(rows - mine).sum(axis=(1, 2)) / visits.sum() / 2)

    best, gap = None, min(distance(expected), 0.1)
    for k in (k for k in check_sample.mistakes if k.diagnosis is not None):
        with contextlib.suppress(Exception):
            tk, st = k.wrong(T, hmm.stationary(), len(tokens), np.random.default_rng(2))
            d = distance(_step_law(T, np.asarray(tk), np.asarray(st)))
            best, gap = (k, d) if d < gap else (best, gap)
    raise Mistake(f"For {name}, from state {sn[i]} the step (token {tn[x]}, next state {sn[j]}) "
                  f"made {counts[i, x, j] / visits[i]:.1%} of your steps from {sn[i]}, but its "
                  f"probability is T[{x}, {i}, {j}] = {p[i, x, j]:.1%}. " + (
                      best.diagnosis if best else "Draw each (token, next state) pair with "
                      "probabilities T[:, states[t], :]."))


def _test_sample(fn):
    rng = np.random.default_rng(404)
    hmms = [("Z1R (p = 0.3)", processes.z1r(0.3)), ("RRXOR", processes.rrxor()),
            ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
            ("a random 4-state HMM", random_hmm(rng, n_states=4, n_tokens=3, sparsity=0.5))]
    for name, hmm in hmms:
        _call_sample(fn, hmm.T, hmm.stationary(), 0, 1, name)                # shapes at length 0
        _check_steps(hmm, name, *_call_sample(fn, hmm.T, hmm.stationary(), 3000, 2, name))
    hmm, n = random_hmm(rng, n_states=4, n_tokens=2), 600                    # s_0 must follow pi
    pi = hmm.stationary()
    first = np.array([_call_sample(fn, hmm.T, pi, 1, 1000 + k, "a random HMM")[1][0]
                      for k in range(n)])
    freq = np.bincount(first, minlength=4) / n
    if np.max(np.abs(freq - pi) / np.sqrt(pi * (1 - pi) / n)) > 5.5:
        raise Mistake(f"The initial state s_0 must be drawn from `pi` = {fmt(pi)}; yours had "
                      f"frequencies {fmt(freq)}" + (f" (always {first[0]})." if np.all(
                          first == first[0]) else "."))
    name, hmm = hmms[2]                          # the rng argument: the only randomness
    a, b = (_call_sample(fn, hmm.T, hmm.stationary(), 50, 7, name) for _ in range(2))
    if not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])):
        raise Mistake("Identically seeded generators gave different samples: draw every random "
                      "number from the `rng` argument (`rng.choice`), not from `np.random`.")
    return (f"Only possible steps, with the right frequencies, on {len(hmms)} processes (3000 "
            "steps each); s_0 follows pi; a seed reproduces the sample.")


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


def _draw(rng, p):
    return rng.choice(len(p), p=p)


check_sample = Exercise(
    name="sample", signature="sample(T, pi, length, rng) -> (tokens, states)", test=_test_sample,
    time_limit=60.0, mistakes=knowns(
        ("draws the token and the next state independently", _sampler(lambda T, i, rng: (
            _draw(rng, T[:, i, :].sum(1)), _draw(rng, T.sum(0)[i]))), "Your steps fit a process "
         "that draws the token and the next state separately. Draw the *pair* (token, next state) "
         "from the joint table T[:, states[t], :] (e.g. flatten it and use `divmod`)."),
        ("draws the next state, then a token from the new state's row", _sampler(
            lambda T, i, rng: (lambda j: (_draw(rng, T[:, j, :].sum(-1)), j))(
                _draw(rng, T.sum(0)[i]))), "Your tokens fit the *new* state j: a step emits as it "
         "moves, so draw the *pair* (token, next state) from the current state's T[:, s_t, :]."),
        ("never moves the hidden state", _sampler(lambda T, i, rng: (
            _draw(rng, T[:, i, :].sum(1)), i)), "Your hidden state never changes: store the new "
         "state in states[t + 1] and draw the next step from that state's row."),
        ("reads the matrices column-wise", _sampler(lambda T, i, rng: divmod(_draw(rng, (
            T[:, :, i] / T[:, :, i].sum()).ravel()), T.shape[1])), "Your steps fit the columns of "
         "T: rows are the current state, T[x, i, j] = P(emit x, go to j | in i)."),
        ("decodes the joint draw with divmod(k, n_tokens)",
         _sampler(lambda T, i, rng: _joint(T, i, rng, T.shape[0])), None,
         r"divmod\(k, n_states\)"),
        ("always starts in state 0", _sampler(_joint, first=0), None,
         r"drawn from `pi`.*always 0"),
        ("swaps the token and the next state", _sampler(lambda T, i, rng: _joint(T, i, rng)[::-1]),
         None, "the wrong way round"),
        ("leaves the initial state out of `states`", _sampler(_joint, with_s0=False), None,
         "initial state s_0"),
        ("draws from a global generator, not `rng`",
         _sampler(_joint, own_rng=np.random.default_rng(12345)), None, "`rng` argument")))


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
    reference=_bigram_reference, mistakes=knowns(
        ("transposes B", lambda T, pi: _bigrams(T, pi).T, "Your matrix is transposed: B[a, b] = "
         "P(x_1 = a, x_2 = b) = pi T^(a) T^(b) 1, the first token as the row."),
        ("multiplies the single-token probabilities", lambda T, pi: np.outer(
            *[np.einsum("i,aij->a", pi, T)] * 2), "You multiplied P(a) P(b), as if consecutive "
         "tokens were independent. They are not: use pi T^(a) T^(b) 1."),
        ("returns the conditional P(x_2 | x_1)", lambda T, pi: _bigrams(T, pi) / _bigrams(
            T, pi).sum(1, keepdims=True), "Each row sums to 1: you computed the conditional "
         "P(x_2 = b | x_1 = a). Return the joint P(x_1 = a, x_2 = b) (all entries sum to 1)."),
        ("starts from the uniform distribution", lambda T, pi: _bigrams(
            T, np.full(len(pi), 1 / len(pi))), "You started from the uniform distribution "
         "instead of `pi`."),
        ("starts from the all-ones vector", lambda T, pi: _bigrams(T, np.ones(len(pi))),
         "You started from the all-ones vector instead of `pi` (your entries sum to the number "
         "of states)."),
        ("uses the net matrix for the second token", lambda T, pi: np.einsum(
            "i,aij,jk->a", pi, T, T.sum(0))[:, None].repeat(len(T), 1), "Your rows are "
         "constant: the second factor was the net matrix T.sum(0), which forgets the second "
         "token. Use T^(b) for token b."),
        ("puts a net-matrix step between the tokens", lambda T, pi: np.einsum(
            "i,aij,jk,bkl->ab", pi, T, T.sum(0), T), "You put a net-matrix step between the two "
         "tokens, which gives P(x_1 = a, x_3 = b); for consecutive tokens B[a, b] = "
         "pi T^(a) T^(b) 1.")),
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
    reference=lambda T, pi, lag: _same_token(T, pi, lag - 1), mistakes=knowns(
        ("net matrix to the power k (off by one)", lambda T, pi, k: _same_token(T, pi, k),
         lambda c: f"This is the value for lag {c.args[2] + 1}: between x_t and x_(t+k) there "
                   "are k - 1 tokens, so the net matrix appears to the power k - 1.",
         "k - 1 tokens"),
        ("net matrix to the power k - 2 (off by one)", lambda T, pi, k: _same_token(
            T, pi, max(k - 2, 0)), lambda c: f"This is the value for lag {c.args[2] - 1}: use "
         "the net matrix to the power k - 1.", r"lag \d+: use the net matrix"),
        ("asks for k + 1 consecutive equal tokens", lambda T, pi, k: float(sum(
            pi @ np.linalg.matrix_power(T[a], k + 1) @ np.ones(len(pi)) for a in range(len(T)))),
         "You computed P(k + 1 *consecutive* tokens are equal). The tokens in between can be "
         "anything: summing over them replaces each T^(x) by the net matrix."),
        ("starts from the uniform distribution", lambda T, pi, k: _same_token(
            T, np.full(len(pi), 1 / len(pi)), k - 1), "You used the uniform distribution "
         "instead of `pi`."),
        ("counts only token 0", lambda T, pi, k: _same_token(T, pi, k - 1, tokens=[0]),
         "You counted only token 0: sum over every token a, P(x_t = a, x_(t+k) = a)."),
        ("uses the net matrix for the second token", lambda T, pi, k: _same_token(
            T, pi, k - 1, second=T.sum(0)), "You used the net matrix in place of the second "
         "T^(a) (the sum over a is then 1): both ends of the gap must emit a."),
        ("sums P(a)^2 (independent tokens)", lambda T, pi, k: float(np.sum(np.einsum(
            "i,aij->a", pi, T) ** 2)), "You computed the sum of P(a)^2, as if x_t and x_(t+k) "
         "were independent; they are not: sum over a of pi T^(a) net^(k-1) T^(a) 1.")),
    advice="Compute the sum over tokens a of pi @ T[a] @ matrix_power(net, lag - 1) @ T[a] @ 1.",
    summary=lambda n: (f"Correct on {n} (process, lag) pairs: Mess3 with two parameter settings, "
                       "the periodic Z1R and RRXOR, and random HMMs."))

EXERCISES = (check_stationary, check_sequence_probability, check_mess3_matrices, check_sample,
             check_bigram_probabilities, check_same_token_probability)
