"""Exercises of practice notebook 01 (HMMs); random_hmm(s) and course_hmms serve later chapters."""

from functools import partial

import numpy as np

from .. import processes
from ..hmm import HMM
from ._core import Exercise, Mistake, as_array, as_float, as_tuple, close, fmt, magnitude


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


def _start(pi, uniform=False):
    return np.full(len(pi), 1 / len(pi)) if uniform else np.asarray(pi, dtype=float)


_UNIFORM = "You started from the uniform distribution instead of `pi`."


# ---------------------------------------------------------------------------- 1.1 stationary
def _eig(T, M=lambda T: T.sum(0).T, row=False, real=True, scale=np.sum, pick=None):
    w, v = np.linalg.eig(M(T))
    vec = (v.T if row else v)[:, pick(w) if pick else np.argmin(np.abs(w - 1))]
    vec = np.real(vec) if real else vec
    with np.errstate(divide="ignore", invalid="ignore"):
        return vec / scale(vec)


def _stationary_vector(value, what):
    arr = as_array(value, what)
    if np.iscomplexobj(arr) or not np.all(np.isfinite(arr)):
        why = ("is complex (use `np.real(v)`)" if np.iscomplexobj(arr) else "has inf or NaN: you "
               "divided by a sum of 0 (an eigenvector of an eigenvalue other than 1 sums to 0)")
        raise Mistake(f"{what}: you returned {fmt(arr.real)}, which {why}; take the "
                      "*column* `v[:, k]` whose eigenvalue is closest to 1, real, over its sum.")
    return arr


def _stationary_advice(case):
    got, net = np.asarray(case.got, float), case.args[0].sum(0)
    if got.shape != (len(net),):
        return "Return a 1-D array of length S: `v.ravel()`, or index a single column."
    return (f"Your vector does not satisfy pi T = pi (max |pi T - pi| = "
            f"{magnitude(float(np.abs(got @ net - got).max()))}): take the eigenvector of net.T "
            "(net = T.sum(0)) of the eigenvalue closest to 1, or iterate until converged (1e-6).")


check_stationary = Exercise(
    name="stationary", signature="stationary(T) -> pi", convert=_stationary_vector,
    cases=lambda: [(f"For {name}", (hmm.T,))
                   for name, hmm in course_hmms() + random_hmms(seed=101, n=6, max_states=6)],
    reference=lambda T: HMM(T).stationary(), advice=_stationary_advice, mistakes=(
        ("returns the eigenvector without normalising it", partial(_eig, scale=np.ones_like),
         lambda c: f"Your vector is not normalised (|sum| = {abs(np.sum(c.got)):.4g}): divide it "
         "by its sum.", "not normalised", lambda c: close(c.got, c.expected * np.sum(c.got))),
        ("takes the right eigenvector", partial(_eig, M=lambda T: T.sum(0)), "You took the "
         "*right* eigenvector of the net matrix (uniform); pi is a *left* one: decompose `net.T`."),
        ("returns np.linalg.eig's complex vector", partial(_eig, real=False), None, r"np\.real"),
        *[(f"uses T[0]{how}", partial(_eig, M=lambda T: T[0].T, **kw), "You used T[0]; the "
           "states move with the net matrix T.sum(0).") for how, kw in [
            ("", {}), (" and its largest eigenvalue", {"pick": lambda w: np.argmax(np.abs(w))})]],
        ("takes the smallest eigenvalue's vector", partial(_eig, pick=lambda w: np.argmin(w.real)),
         "You took the smallest eigenvalue; pi's eigenvalue is 1.", "closest to 1|eigenvalue is 1"),
        ("takes a row of the eigenvector matrix", partial(_eig, row=True), "You took a *row* of "
         "the eigenvector matrix; eig returns eigenvectors as *columns*: `v[:, k]`.")),
    summary="Correct on {n} HMMs: Z1R, Mess3, RRXOR, golden mean, even process, random HMMs.")


# ---------------------------------------------------------------------------- 1.2 P(word)
def _word(*, column=False, end=False, norm=False, uniform=False, cut=slice(None), net=False,
          log=False):
    def prob(T, pi, word):              # sequence_probability, with the mistakes named
        v = _start(pi, uniform)
        for x in list(word)[cut]:
            M = T.sum(0) if net else T[x]
            v = M @ v if column else v @ M
            v = v / v.sum() if norm and v.sum() > 0 else v
        return v if end else (np.log(v.sum()) if v.sum() > 0 else 0.0) if log else v.sum()
    return prob


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
    arr = as_array(value, what)            # NaN passes: "normalises at each step" names it
    return float("nan") if arr.size == 1 and np.isnan(arr.ravel()[0]) else as_float(arr, what)


check_sequence_probability = Exercise(
    name="sequence_probability", signature="sequence_probability(T, pi, tokens) -> float",
    cases=_sequence_cases, convert=_probability,
    reference=lambda T, pi, word: HMM(T).probability(np.asarray(word, int), prior=pi), mistakes=(
        ("normalises the vector at each step", _word(norm=True), "You normalised the vector at "
         "each step (a belief update): sum the unnormalised pi T^(x_1) ... T^(x_L).", "",
         lambda c: bool(np.isnan(c.got) or (c.expected > 0 and close(c.got, 1.0)) or (
             c.args[2] and close(c.got, c.expected / max(_word()(*c.args[:2], c.args[2][:-1]),
                                                         1e-300))))),  # 1, NaN, last normaliser
        ("multiplies column vectors, T[x] @ v", _word(column=True), "You multiplied `T[x] @ v` "
         "(column convention); rows are the current state: `v = v @ T[x]`."),
        ("multiplies the matrices in reverse order", _word(cut=slice(None, None, -1)),
         "You multiplied the matrices in reverse order: x_1's comes first."),
        ("crashes on the empty word", lambda T, pi, w: (w[0], _word()(T, pi, w))[1], "The empty "
         "word has no tokens[0]: start from v = pi (its probability is 1).", "", None, IndexError),
        ("starts from the uniform distribution", _word(uniform=True), _UNIFORM),
        ("uses the net matrix", _word(net=True), "You used the net matrix T.sum(0), not T[x]."),
        ("drops the last token", _word(cut=slice(-1)), "You left out the last token's matrix."),
        ("returns 0 for the empty word", lambda T, pi, w: _word()(T, pi, w) if w else 0.0,
         "The empty word has probability 1 (no tokens: v = pi, which sums to 1), not 0."),
        ("returns the log-probability", _word(log=True), "You returned the log-probability."),
        ("returns the end vector without summing it", _word(end=True), None, "single number")),
    advice="Start with v = pi, do `v = v @ T[x]` for each token in order, return `v.sum()`.",
    summary="Correct on {n} words (impossible, empty; random HMMs with a non-stationary pi).")


# ---------------------------------------------------------------------------- 1.3 Mess3
def _mess3(x, alpha, *, spec="ij,jk->kij", beta=None, stay=None, swap=False):
    beta = (1 - alpha) / 2 if beta is None else beta
    own, other = (beta, alpha) if swap else (alpha, beta)
    move = np.full((3, 3), x) + ((1 - 2 * x if stay is None else stay) - x) * np.eye(3)
    emit = np.full((3, 3), other) + (own - other) * np.eye(3)     # emit[j, x] = P(x | j)
    return np.einsum(spec, move, emit)


check_mess3_matrices = Exercise(
    name="mess3_matrices", signature="mess3_matrices(x, alpha) -> T",
    cases=lambda: [(f"For x = {x:g}, alpha = {a:.4g}", (x, a)) for x, a in
                   [(0.05, 0.85), (0.15, 0.6), (0.5, 0.6), (0.1, 0.2), (0.0, 1.0), (0.3, 1 / 3)]],
    reference=lambda x, alpha: processes.mess3(x=x, alpha=alpha).T,
    mistakes=(     # the move matrix is symmetric: emitting from i = transposing each T[x]
        ("emits from the state it leaves", partial(_mess3, spec="ij,ik->kij"), "You emitted from "
         "the state you leave: the token comes from the state you move *into*, P(j | i) P(x | j)."),
        ("puts the token on the last axis", partial(_mess3, spec="ij,jk->ijk"),
         "You put the token on the last axis: axis 0 is the token, T[x, i, j]."),
        ("off-token probability 1 - alpha, not halved", lambda x, a: _mess3(x, a, beta=1 - a),
         "You gave each other token 1 - alpha: it is beta = (1 - alpha) / 2."),
        ("swaps x and alpha", lambda x, a: _mess3(a, x), "You swapped x and alpha: x is the "
         "probability of each jump, alpha that of a state emitting its own token."),
        ("swaps alpha and beta in the emissions", partial(_mess3, swap=True), "You swapped the "
         "emissions: a state emits its own token with alpha, each other one with beta."),
        ("puts alpha + beta on the diagonal", lambda x, a: _mess3(x, (1 + a) / 2, beta=(1 - a) / 2),
         "Your own-token probability is alpha + beta (full(beta) + alpha I): it is alpha."),
        ("stays with probability 1 - x", lambda x, a: _mess3(x, a, stay=1 - x),
         "You stayed with probability 1 - x: it is 1 - 2x (each of two jumps has x).")),
    advice="T[x, i, j] = P(go to j | in i) * P(emit x | j), the token on axis 0.",
    summary="Correct for {n} settings: the paper's (0.05, 0.85), x = 0, 0.5, alpha = 1/3, 1.")


# ---------------------------------------------------------------------------- 1.4 sampling
def _call_sample(fn, T, pi, length, seed, name):
    out = check_sample.call(fn, (T, pi, length, np.random.default_rng(seed)), f"For {name}")
    tokens, states = (as_array(a, f"For {name} your sampler").astype(int)
                      for a in as_tuple(out, f"For {name} your sampler", "(tokens, states)"))
    if tokens.shape != (length,) or states.shape != (length + 1,):
        raise Mistake(f"For {name}: expected tokens of shape ({length},) and states ({length + 1},)"
                      f" with the initial state s_0, got {tokens.shape} and {states.shape}.")
    (X, S), prev, to = T.shape[:2], states[:-1], states[1:]
    fits = [bool(tk.size and min(tk.min(), nx.min(), prev.min()) >= 0 and tk.max() < X
                 and max(nx.max(), prev.max()) < S and np.all(T[tk, prev, nx] > 0))
            for tk, nx in ((tokens, to), (to, tokens))]      # every step possible; read swapped
    if fits[1] and not fits[0]:
        raise Mistake(f"For {name} your tokens fit as next states and your states as tokens: you "
                      "stored them the wrong way round.")
    if np.any((tokens < 0) | (tokens >= X)) or np.any((states < 0) | (states >= S)):
        raise Mistake(f"For {name} ({X} tokens, {S} states) a token or state is out of range: "
                      "decode the flat index k of T[:, i, :] with `divmod(k, n_states)`.")
    return tokens, states


def _check_steps(hmm, name, tokens, states):    # steps as frequent as T says, else nearest mistake
    T, pi, sn, tn = hmm.T, hmm.stationary(), hmm.state_names, hmm.token_names
    X, S = T.shape[:2]

    def law(tk, st):                 # counts of the steps (state, token, next state)
        return np.bincount((st[:-1] * X + tk) * S + st[1:], minlength=S * X * S).reshape(S, X, S)

    def tv(c):                       # total variation between the step laws
        return float(np.abs(c / c.sum() - counts / counts.sum()).sum() / 2)

    counts, p = law(tokens, states), T.transpose(1, 0, 2)
    visits, expected = counts.sum(axis=(1, 2)), counts.sum(axis=(1, 2), keepdims=True) * p
    z = np.abs(np.where(p > 0, (counts - expected) / np.sqrt(expected * (1 - p) + 1e-12),
                        np.where(counts > 0, np.inf, 0.0)))          # an impossible step: inf
    if z.max() <= 5.5:
        return
    i, x, j = np.unravel_index(np.argmax(z), z.shape)
    near = {"Draw each (token, next state) pair from T[:, states[t], :].": min(tv(expected), 0.1)}
    near |= {k.diagnosis: tv(law(*k.wrong(T, pi, len(tokens), np.random.default_rng(2))))
             for k in check_sample.mistakes if k.diagnosis}
    raise Mistake(f"For {name}, from state {sn[i]} the step (token {tn[x]}, next state {sn[j]}) "
                  f"made {counts[i, x, j] / visits[i]:.1%} of your steps from {sn[i]}, but its "
                  f"probability is T[{x}, {i}, {j}] = {p[i, x, j]:.1%}. {min(near, key=near.get)}")


def _test_sample(fn):
    rng = np.random.default_rng(404)
    hmms = [("Z1R (p = 0.3)", processes.z1r(0.3)), ("RRXOR", processes.rrxor()),
            ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
            ("a random 4-state HMM", random_hmm(rng, n_states=4, n_tokens=3, sparsity=0.5))]
    for name, hmm in hmms:
        _call_sample(fn, hmm.T, hmm.stationary(), 0, 1, name)                # shapes at length 0
        _check_steps(hmm, name, *_call_sample(fn, hmm.T, hmm.stationary(), 3000, 2, name))
    n, pi, hmm = 600, np.r_[.7, .1, .1, .1], random_hmm(rng, n_states=4, n_tokens=2)
    a, b, c = (np.hstack(_call_sample(fn, hmm.T, pi, 50, k, "a random HMM")) for k in (7, 7, 8))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        raise Mistake("Seed 7 twice gave different samples, or seeds 7 and 8 the same: draw every "
                      "random number from the `rng` argument (not np.random, not a new generator).")
    first = np.array([_call_sample(fn, hmm.T, pi, 1, k, "a random HMM")[1][0] for k in range(n)])
    freq = np.bincount(first, minlength=4) / n
    if np.max(np.abs(freq - pi) / np.sqrt(pi * (1 - pi) / n)) > 5.5:
        raise Mistake(f"The initial state s_0 must be drawn from `pi` = {fmt(pi)}; yours had "
                      f"frequencies {fmt(freq)}" + (f" (always {first[0]})." if np.ptp(first) == 0
                                                    else "."))
    return "Right step frequencies on 4 processes (3000 steps each); s_0 follows pi; seeds repeat."


def _step(T, i, rng, how):       # one (token, next state) drawn from state i, "joint" is right
    (X, S), table = T.shape[:2], T[:, :, i] / T[:, :, i].sum() if how == "columns" else T[:, i]
    table = table.T if how == "state-major" else table
    if how in ("joint", "divmod X", "swap", "columns", "state-major"):
        x, j = divmod(rng.choice(X * S, p=table.ravel()), X if how == "divmod X" else S)
        return (j, x) if how == "swap" else (x, j)
    j = i if how == "stay" else rng.choice(S, p=T.sum(0)[i])
    return rng.choice(X, p=T[:, j if how == "new" else i].sum(1)), j


def _sampler(how="joint", first=None, with_s0=True, own_rng=None):      # a (wrong) sampler
    def sample(T, pi, length, rng):
        rng = own_rng or rng
        tokens, states = np.zeros(length, int), np.zeros(length + 1, int)
        states[0] = rng.choice(T.shape[1], p=pi) if first is None else first
        for t in range(length):
            tokens[t], states[t + 1] = _step(T, states[t], rng, how)
        return (tokens, states) if with_s0 else (tokens, states[1:])
    return sample


check_sample = Exercise(
    name="sample", signature="sample(T, pi, length, rng) -> (tokens, states)", test=_test_sample,
    time_limit=60.0, mistakes=(
        ("draws the token and the next state independently", _sampler("independent"), "You drew "
         "the token and next state separately: draw the *pair* from the joint T[:, states[t], :]."),
        ("draws a token from the new state's row", _sampler("new"), "Your tokens fit the *new* "
         "state: draw the pair (token, next state) from the current T[:, states[t], :]."),
        ("never moves the hidden state", _sampler("stay"), "Your hidden state never changes: "
         "store the new state in states[t + 1] and step from it."),
        ("reads the matrices column-wise", _sampler("columns"), "Your steps fit the columns of "
         "T; rows are the current state: T[x, i, j] = P(emit x, go to j | in i)."),
        ("flattens state-major, decodes token-major", _sampler("state-major"), "You flattened "
         "T[:, i, :].T (state-major) but decoded k token-major: ravel T[:, i, :], divmod(k, S)."),
        ("decodes the joint draw with divmod(k, n_tokens)", _sampler("divmod X"), None,
         r"divmod\(k, n_states\)"),
        ("always starts in state 0", _sampler(first=0), None, r"drawn from `pi`.*always 0"),
        ("swaps the token and the next state", _sampler("swap"), None, "the wrong way round"),
        ("leaves the initial state out of `states`", _sampler(with_s0=False), None, "s_0"),
        ("draws from a global generator, not `rng`", _sampler(
            own_rng=np.random.default_rng(12345)), None, "`rng` argument")))


# ---------------------------------------------------------------------------- 1.5 bigrams
def _bigrams(T, pi, uniform=False, transpose=False):
    B = np.einsum("i,aij,bjk->ab", _start(pi, uniform), T, T)
    return B.T if transpose else B


check_bigram_probabilities = Exercise(
    name="bigram_probabilities", signature="bigram_probabilities(T, pi) -> B",
    cases=lambda: [(f"For {name}", (h.T, h.stationary()))
                   for name, h in course_hmms()[:3] + random_hmms(seed=505, n=4)],
    reference=lambda T, pi: np.array([[HMM(T).probability(np.array([a, b]), prior=pi)
                                       for b in range(len(T))] for a in range(len(T))]),
    mistakes=(
        ("transposes B", partial(_bigrams, transpose=True), "Your matrix is transposed: the "
         "first token is the row, B[a, b] = P(x_1 = a, x_2 = b)."),
        ("multiplies the single-token probabilities", lambda T, pi: np.outer(*[T.sum(2) @ pi] * 2),
         "You multiplied P(a) P(b): consecutive tokens are not independent; use pi T^(a) T^(b) 1."),
        ("returns the conditional P(x_2 | x_1)", lambda T, pi: _bigrams(T, pi) / _bigrams(
            T, pi).sum(1, keepdims=True), "You returned the conditional: return the joint."),
        ("transposes the second matrix", lambda T, pi: np.einsum("i,aij,bkj->ab", pi, T, T),
         "You transposed T^(b) (einsum 'bkj'); B[a, b] = einsum('i,aij,bjk->ab', pi, T, T)."),
        ("starts from the uniform distribution", partial(_bigrams, uniform=True), _UNIFORM),
        ("uses the net matrix for the second token", lambda T, pi: np.einsum("i,aij,jk->a", pi, T,
            T.sum(0))[:, None].repeat(len(T), 1), "You used T.sum(0), not T^(b)."),
        ("puts a net-matrix step between the tokens", lambda T, pi: np.einsum("i,aij,jk,bkl->ab",
            pi, T, T.sum(0), T), "You put a net-matrix step between the tokens (x_1 and x_3).")),
    advice=lambda c: (f"Compute B[a, b] = pi @ T[a] @ T[b] @ 1; all entries together sum to 1 "
                      f"(yours sum to {np.sum(c.got):.4g})."),
    summary="Correct on {n} HMMs, including asymmetric random ones.")


# ---------------------------------------------------------------------------- 1.6 lag agreement
def _same_token(T, pi, lag, *, shift=0, uniform=False, net_last=False, tokens=None, equal=False):
    """sum over a of pi T^(a) net^(lag - 1) T^(a) 1 (with the mistakes named)."""
    return float(sum(_start(pi, uniform) @ T[a] @ np.linalg.matrix_power(
        T[a] if equal else T.sum(0), max(lag - 1 + shift, 0)) @ (T.sum(0) if net_last else T[a])
        @ np.ones(T.shape[1]) for a in (tokens or range(len(T)))))


check_same_token_probability = Exercise(
    name="same_token_probability", signature="same_token_probability(T, pi, lag) -> float",
    cases=lambda: [(f"For {name} at lag {lag}", (h.T, h.stationary(), lag)) for name, h in [
        ("Mess3", processes.mess3()), ("Mess3 (x = 0.15, alpha = 0.6)", processes.mess3(0.15, 0.6)),
        ("Z1R", processes.z1r()), ("RRXOR", processes.rrxor())] + random_hmms(seed=606, n=4)
                   for lag in (1, 2, 3, 7)],
    convert=as_float, reference=_same_token, mistakes=(
        *[(f"net matrix to the power {n}", partial(_same_token, shift=s), lambda c, s=s: "Off by "
           f"one: yours is lag {c.args[2] + s}'s value; use the net matrix to the power lag - 1.",
           "to the power lag - 1") for n, s in [("lag", 1), ("lag - 2", -1)]],
        ("asks for lag + 1 consecutive equal tokens", partial(_same_token, equal=True),
         "You made the tokens in between equal a too: they can be anything (net matrix)."),
        ("starts from the uniform distribution", partial(_same_token, uniform=True), _UNIFORM),
        ("counts only token 0", partial(_same_token, tokens=[0]),
         "You counted only token 0: sum over every token a."),
        ("uses the net matrix for the second token", partial(_same_token, net_last=True),
         "You used the net matrix for the second T^(a): both ends must emit a."),
        ("powers net elementwise", lambda T, pi, k: float(sum(pi @ T[a] @ T.sum(0) ** (k - 1) @ T[
            a].sum(1) for a in range(len(T)))), "You took net ** (lag - 1) elementwise."),
        ("sums P(a)^2 (independent tokens)", lambda T, pi, k: float(np.sum((T.sum(2) @ pi) ** 2)),
         "You summed P(a)^2 (independent tokens); use sum_a pi T^(a) net^(lag-1) T^(a) 1.")),
    advice="Compute the sum over tokens a of pi @ T[a] @ matrix_power(net, lag - 1) @ T[a] @ 1.",
    summary="Correct on {n} (process, lag) pairs: Mess3, the periodic Z1R and RRXOR, random HMMs.")

EXERCISES = (check_stationary, check_sequence_probability, check_mess3_matrices, check_sample,
             check_bigram_probabilities, check_same_token_probability)
