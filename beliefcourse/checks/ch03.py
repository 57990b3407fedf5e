"""Exercises of practice notebook 03 (the mixed-state presentation and its fractals). An MSP is
``beliefs`` (K, S), row 0 the start belief, and ``successors`` (K, X) of ints, -1 where a token
is impossible or a state was left unexpanded at ``max_depth``."""

import itertools
from collections import deque
from functools import partial, reduce

import numpy as np

from .. import information, processes
from ..hmm import HMM, graph_closed_classes
from ..msp import mixed_state_presentation
from ._core import Exercise, Mistake, as_array, as_float, as_tuple, fmt, magnitude, nearest_known


def _msp(T, max_depth=1_000):  # the package's MSP of T from pi: (beliefs, successors, depths, msp)
    m = mixed_state_presentation(HMM(T), max_depth=max_depth, warn=False)
    (src, tok, dst, _), successors = m.edges, -np.ones((len(m), T.shape[0]), dtype=int)
    successors[src, tok] = dst
    return np.array(m.beliefs), successors, np.array(m.depths), m


def random_unifilar_hmm(rng, n_states, n_tokens, p_edge=0.6):
    """A random unifilar HMM, irreducible by a cycle 0 -> 1 -> ... -> 0 on random tokens."""
    T = np.zeros((n_tokens, n_states, n_states))
    for i in range(n_states):
        forced = int(rng.integers(n_tokens))
        for x in range(n_tokens):
            if x == forced or rng.random() < p_edge:
                T[x, i, (i + 1) % n_states if x == forced else int(rng.integers(n_states))] = \
                    rng.uniform(0.2, 1.0)
        T[:, i, :] /= T[:, i, :].sum()
    return HMM(T)


def finite_msp_cases(seed, n_random):
    """(name, hmm) whose MSP from pi is finite and complete within depth 12."""
    cases = [("Z1R", processes.z1r()), ("Z1R (p = 0.3)", processes.z1r(0.3)), ("RRXOR",
             processes.rrxor()), ("the even process (p = 0.3)", processes.even_process(0.3)),
             ("the golden-mean process (p = 0.3)", processes.golden_mean(0.3))]
    rng = np.random.default_rng(seed)
    while len(cases) < 5 + n_random:
        hmm = random_unifilar_hmm(rng, int(rng.integers(3, 6)), int(rng.integers(2, 4)))
        _, _, depths, m = _msp(hmm.T, max_depth=12)
        if m.complete and depths.max() < 10 and 5 <= len(depths) <= 60:
            cases.append((f"random unifilar HMM {len(cases) - 4} ({hmm.n_states} states, "
                          f"{hmm.n_tokens} tokens)", hmm))
    return cases


# ---------------------------------------------------------------------------- 3.1 build_msp
def msp_variant(T, pi, max_depth=20, atol=1e-9, *, deeper=0, tol=None, zero=False,
                column=False, stack=False, reverse=False):
    beliefs, successors, queue = [np.asarray(pi, float)], [[-1] * len(T)], deque([(0, 0)])
    atol, max_depth = atol if tol is None else tol, max_depth + deeper
    while queue:
        k, depth = queue.pop() if stack else queue.popleft()
        for x in range(len(T)) if depth < max_depth else ():
            joint = T[x] @ beliefs[k] if column else beliefs[k] @ T[x]
            if joint.sum() <= 0 and not zero:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                child = joint / joint.sum()
            found = np.flatnonzero(np.all(np.abs(np.array(beliefs) - child) <= atol, axis=1))
            if not len(found):
                beliefs.append(child)
                successors.append([-1] * len(T))
                queue.append((len(beliefs) - 1, depth + 1))
            successors[k][x] = int(found[0]) if len(found) else len(beliefs) - 1
    return np.array(beliefs)[::-1 if reverse else 1], np.array(successors)


def _match(got, ref):          # for each row of got, the index of the row of ref within 1e-7, or -1
    d = np.abs(np.asarray(got, float)[:, None] - np.asarray(ref, float)[None]).max(axis=2)
    return np.where(d.min(axis=1) <= 1e-7, d.argmin(axis=1), -1)


def _check_one_msp(fn, name, hmm, max_depth):
    T, pi, X = hmm.T, hmm.stationary(), hmm.n_tokens
    (ref_b, ref_s, ref_d, _), args = _msp(T, max_depth), (T, pi, max_depth, 1e-9)
    K, label = len(ref_b), f"For {name} with max_depth = {max_depth}"
    out = as_tuple(check_build_msp.call(fn, args, label), label, "(beliefs, successors)")
    b = as_array(out[0], f"{label}, `beliefs`").astype(float)
    s = as_array(out[1], f"{label}, `successors`")
    if b.shape[1:] != (len(pi),) or s.shape != (len(b), X):
        raise Mistake(f"{label}: shapes {b.shape}, {s.shape}; expected (K, {len(pi)}), (K, {X}).")
    if not np.all(np.isfinite(b)) or np.any(np.all(np.abs(b) <= 1e-12, axis=1)):
        raise Mistake(f"{label} some beliefs are NaN or zero: you expanded a token of "
                      "probability zero (eta T^(x) 1 = 0); it gets no child: successors = -1.")
    if not np.allclose(b[0], pi, atol=1e-9):
        raise Mistake(f"{label} row 0 is {fmt(b[0])}, not the start belief pi = {fmt(pi)}.")
    m = _match(b, ref_b)
    if np.all(m >= 0) and len(set(m.tolist())) == len(m) and np.any(np.diff(ref_d[m]) < 0):
        k = int(np.flatnonzero(np.diff(ref_d[m]) < 0)[0])
        raise Mistake(f"{label} row {k + 1} ({ref_d[m[k + 1]]} tokens deep) comes after row {k} "
                      f"({ref_d[m[k]]} deep): your rows are not in breadth-first order. Take "
                      "states from the front of the queue, `popleft()`, not `pop()`.")
    if len(b) != K or np.any(m < 0) or len(set(m.tolist())) < K:
        known = nearest_known(check_build_msp, args, lambda o: np.shape(o[0]) == b.shape and min(
            _match(b, o[0]).min(), _match(o[0], b).min()) >= 0)
        raise Mistake(f"{label} you returned {len(b)} beliefs; the MSP has {K}. " + (known or (
            f"{fmt(b[m < 0][0])} is not reachable from pi: a child is eta T^(x) normalised by "
            "eta T^(x) 1." if np.any(m < 0) else "Too many: de-duplicate within atol." if len(
                b) > K else "Too few: did you merge distinct beliefs or stop early?")))
    for k, x in itertools.product(range(len(b)), range(X)):      # same states: now the edges
        want, have, at = ref_s[m[k], x], int(s[k, x]), f"successors[{k}, {x}] = {s[k, x]}"
        if want == -1 and have != -1:
            raise Mistake(f"{label}, {at}, but belief {fmt(b[k])} " + (
                f"cannot emit token {x} (P = 0): use -1." if ref_d[m[k]] < max_depth else
                f"is max_depth = {max_depth} tokens deep and must not be expanded."))
        if want >= 0 and (have < 0 or have >= len(b) or m[have] != want):
            raise Mistake(f"{label}, {at}, but token {x} leads from belief {k} ({fmt(b[k])}) to "
                          f"{fmt(ref_b[want])}: store that belief's row index.")
    return K


def _test_build_msp(fn):
    sizes = [_check_one_msp(fn, name, hmm, 12) for name, hmm in finite_msp_cases(301, 4)]
    _check_one_msp(fn, "Z1R", processes.z1r(), 2)
    _check_one_msp(fn, "Mess3", processes.mess3(), 4)
    args, label = (*((m3 := processes.mess3()).T, m3.stationary()), 4, 0.03), "Mess3, atol 0.03"
    got = len(as_tuple(check_build_msp.call(fn, args, label), label, "(beliefs, successors)")[0])
    if got != (want := len(msp_variant(*args)[0])):
        raise Mistake(f"For Mess3 with max_depth = 4 and atol = 0.03 you returned {got} beliefs, "
                      f"not {want}: you ignored `atol` (a child within atol of a belief is it).")
    return (f"Correct on {len(sizes)} finite MSPs (Z1R: {sizes[0]} states, RRXOR: {sizes[2]}, "
            "random unifilar HMMs) and at max_depth 2 and 4 (Mess3's infinite MSP: 121 beliefs).")


check_build_msp = Exercise(
    name="build_msp", signature="build_msp(T, pi, max_depth, atol) -> (beliefs, successors)",
    test=_test_build_msp, time_limit=20.0, mistakes=(
        ("never de-duplicates beliefs", partial(msp_variant, tol=-1), "You did not de-"
         "duplicate (one node per word): point to an equal belief already in the list."),
        ("compares beliefs bit for bit", partial(msp_variant, tol=0), "You compared with `==`; "
         "beliefs reached along different paths agree to 1e-16, not bit for bit: use atol."),
        ("multiplies column vectors", partial(msp_variant, column=True), "You computed "
         "`T[x] @ eta` (column convention); rows are the current state: `eta @ T[x]`."),
        ("expands one level too deep", partial(msp_variant, deeper=1), None, "not be expanded"),
        ("searches depth-first", partial(msp_variant, stack=True), None, "breadth-first order"),
        ("keeps zero-probability children", partial(msp_variant, zero=True), None, "NaN or zero"),
        ("does not put the prior in row 0", partial(msp_variant, reverse=True), None, "row 0")))


# ---------------------------------------------------------------------------- 3.2 recurrent
def _reach(succ):                     # reach[k, j]: j is reachable from k (k itself included)
    succ, A = np.asarray(succ), np.eye(len(succ))
    A[np.nonzero(succ >= 0)[0], succ[succ >= 0]] = 1
    return np.linalg.matrix_power(A, len(A)) > 0


def _recurrent(succ):
    succ, mask = np.asarray(succ), np.zeros(len(succ), dtype=bool)
    src, tok = np.nonzero(succ >= 0)
    mask[np.concatenate(graph_closed_classes(len(succ), src, succ[src, tok]))] = True
    return mask


def _graph_cases():
    cases = [(f"For the MSP of {name}", (_msp(hmm.T, 12)[1],))
             for name, hmm in finite_msp_cases(302, 3)]
    cases += [(f"For {name}", (np.array(s),)) for name, s in [
        ("a 3-state graph whose transient states 0 and 1 form a cycle", [[1, -1], [0, 2], [2, -1]]),
        ("a graph with two recurrent classes {1} and {2, 3}", [[1, 2], [1, -1], [3, -1], [2, -1]]),
        ("a single state with a self-loop", [[0, -1]]),
        ("a 4-cycle (every state recurrent)", [[1, -1], [2, -1], [3, -1], [0, -1]])]]
    rng = np.random.default_rng(303)                          # token 1 impossible w.p. 0.3
    return cases + [(f"For random graph {k + 1} ({K} states)", (np.where(
        rng.random((K, 2)) < [0, 0.3], -1, rng.integers(0, K, (K, 2))),))
        for k, K in enumerate(rng.integers(6, 14, size=4))]


check_recurrent_states = Exercise(
    name="recurrent_states", signature="recurrent_states(successors) -> bool mask",
    cases=_graph_cases, reference=_recurrent, advice="State k is recurrent exactly when every "
    "state reachable from k can reach k.",
    convert=lambda v, what: as_array(v, what).astype(bool), mistakes=(
        ("checks reachability the wrong way round", lambda s: np.all(
            ~_reach(s) | _reach(s).T, axis=0), "You checked reachability the wrong way round: "
         "every state reachable *from* k must reach k."),
        ("inverts the mask", lambda s: ~_recurrent(s), "Your mask marks the transient states."),
        ("marks states that lie on some cycle", lambda s: np.array([any(
            _reach(s)[j, k] for j in s[k] if j >= 0) for k in range(len(s))]), "You marked every "
         "state on a cycle; one is transient if some edge leads where there is no way back."),
        ("marks states with an incoming edge", lambda s: np.isin(np.arange(len(s)), s),
         "You marked states with an incoming edge; transient states have them too."),
        ("reads -1 as the last state", lambda s: _recurrent(np.where(s < 0, len(s) - 1, s)),
         "You followed -1 entries as edges to the last state; -1 means no edge: skip them."),
        ("checks one step only", lambda s: np.array([all(j == k or k in s[j] for j in s[k] if
                                                         j >= 0) for k in range(len(s))]),
         "You checked one step only: use the transitive closure (all states reachable)."),
        ("marks the states reachable from every state", lambda s: _reach(s).all(0), "You marked "
         "the states reachable from every state; with two closed classes there are none."),
        ("marks the states reachable from state 0", lambda s: _reach(s)[0], "You marked the "
         "states reachable from state 0; recurrence asks whether you can come *back*."),
        ("returns indices, not a mask", lambda s: np.flatnonzero(_recurrent(s)), "You returned "
         "indices; return a boolean mask of shape (K,).")),
    summary="Correct on {n} graphs: the MSPs of Z1R, RRXOR and other processes, transient "
            "cycles, several recurrent classes, and random graphs.")


# ---------------------------------------------------------------------------- 3.3 h_mu
def _rate(T, b, s, weights="stationary", of="next"):
    p = mixed_state_presentation(HMM(T), warn=False).stationary()
    h = information.entropy(_next(T, b) if of == "next" else b)
    return float((p if weights == "stationary" else np.full(len(b), 1 / len(b))) @ h)


def _equal_token_rate(T, b, s):
    W = np.array([np.bincount(r[r >= 0], minlength=len(s)) / (r >= 0).sum() for r in s])
    return float(HMM(W[None]).stationary() @ information.entropy(_next(T, b)))


check_msp_entropy_rate = Exercise(
    name="msp_entropy_rate", signature="msp_entropy_rate(T, beliefs, successors) -> nats",
    cases=lambda: [(f"For {name}", (h.T,) + tuple(_msp(h.T)[:2])) for name, h in finite_msp_cases(
        304, 3) + [("an i.i.d. chain emitting from the state it leaves (MSP: one belief)", HMM(
            np.einsum("ix,j->xij", [[0.9, 0.1], [0.2, 0.8]], [0.3, 0.7])))]],
    reference=lambda T, b, s: float(information.entropy_rate(HMM(T))), convert=as_float, mistakes=(
        ("averages the entropy given the hidden state", lambda T, b, s: float(
            b[0] @ information.entropy(T.sum(-1).T)), "You averaged over the *hidden states*, "
         "which an observer does not know: use the MSP's beliefs."),
        ("measures in bits", lambda T, b, s: _rate(T, b, s) / np.log(2), "You used bits; use ln."),
        ("weights the states equally", lambda T, b, s: _rate(T, b, s, "equal"), "You weighted "
         "the states equally (as W p = p does); use the stationary p W = p (eig of W.T)."),
        ("gives each possible token equal probability in W", _equal_token_rate, "Your W gives "
         "each possible token the same probability; weight edges by P(x | eta_k)."),
        ("returns the first token's entropy h(1)", lambda T, b, s: float(information.entropy(
            np.einsum("i,xij->x", b[0], T))), "You returned the first token's entropy h(1); "
         "weight by the stationary p."),
        ("takes the entropy of the beliefs", lambda T, b, s: _rate(T, b, s, of="beliefs"),
         "You averaged the entropy of the *beliefs*, not of the next-token distributions.")),
    advice="Build W[k, successors[k, x]] += P(x | eta_k) (+=: two tokens may lead to the same "
           "belief, and every row of W sums to 1), its stationary p (p W = p, sum 1), and return "
           "sum_k p_k H[P(. | eta_k)] in nats.",
    summary="Correct on {n} MSPs, e.g. Z1R (ln(2)/3 = 0.2310 nats) and RRXOR (2 ln(2)/3 = "
            "0.4621 nats).")


# ---------------------------------------------------------------------------- 3.4 chaos game
def _call_chaos(fn, hmm, n, seed, burn_in, name):
    got = as_array(check_chaos_game.call(fn, (hmm.T, hmm.stationary(), n, seed, burn_in),
                                         f"For {name}"), f"`chaos_game` for {name}")
    if got.shape != (n, hmm.n_states):
        raise Mistake(f"For {name} with n_points = {n} and burn_in = {burn_in}: expected shape "
                      f"({n}, {hmm.n_states}), got {got.shape}.")
    return got.astype(float)


def _skewed_diagnosis(fn):
    """What is wrong with ``fn``'s token draws on a skewed HMM (every token possible), or None."""
    stay = 0.5 * np.eye(3) + 0.5 * np.tile([0.2, 0.3, 0.5], (3, 1))       # pi stay = pi
    hmm = HMM(np.einsum("ij,jx->xij", stay, [[.9, .08, .02], [.1, .85, .05], [.7, .05, .25]]))
    cloud, pi = _call_chaos(fn, hmm, 20_000, 3, 100, "a skewed 3-state HMM"), hmm.stationary()
    if np.max(np.abs(cloud.mean(axis=0) - pi)) > 0.04:
        return (f"For a skewed 3-state HMM your points average {fmt(cloud.mean(axis=0))}, not pi = "
                f"{fmt(pi)}: you drew tokens uniformly, not with probability eta T^(x) 1.")
    residual = cloud[1:] - cloud[:-1] @ hmm.T.sum(0)      # E[eta' | eta] = eta T
    if np.abs((residual[:, :, None] * cloud[:-1, None, :]).mean(axis=0)).max() > 0.015:
        return ("For a skewed 3-state HMM your next point, given eta, does not average to eta T: "
                "you drew from fixed frequencies: use eta T^(x) 1 for the *current* belief.")


def _test_chaos_game(fn):
    got = _call_chaos(fn, z1r := processes.z1r(), 3000, 1, 20, "Z1R")
    sums, corner = got.sum(axis=1), np.isclose(got.max(axis=1), 1, atol=1e-9)
    if np.any(~np.isfinite(got)):
        raise Mistake("For Z1R your points contain NaN: you drew a token of probability zero. "
                      + (_skewed_diagnosis(fn) or "Draw x with probability eta T^(x) 1."))
    if not np.allclose(sums, 1, atol=1e-6):
        raise Mistake(f"For Z1R you did not normalise (a point sums to "
                      f"{magnitude(sums[np.argmax(np.abs(sums - 1))], '.4g')}): divide after "
                      "each update, eta T^(x) / (eta T^(x) 1).")
    if np.allclose(_call_chaos(fn, z1r, 5, 1, 0, "Z1R")[0], z1r.stationary(), atol=1e-9):
        raise Mistake("For Z1R with burn_in = 0 your first point is pi: you recorded each belief "
                      "*before* its update. Row t is the belief after burn_in + t + 1 tokens.")
    if not np.all(corner):
        raise Mistake(_skewed_diagnosis(fn) or "For Z1R with burn_in = 20 you kept the burn-in "
                      f"beliefs: discard them (your {fmt(got[~corner][0])} is no corner).")
    if np.any((got[1:].argmax(axis=1) - got[:-1].argmax(axis=1)) % 3 != 1):
        raise Mistake("For Z1R consecutive points should go S0 -> S1 -> SR -> S0 ...: row t + 1 "
                      "must be the update of row t by one sampled token.")
    was = np.random.get_state()[1].tobytes(), np.random.get_state()[2]
    a, b, again = (_call_chaos(fn, processes.mess3(), 2000, s, 50, "Mess3") for s in (1, 2, 1))
    if (np.random.get_state()[1].tobytes(), np.random.get_state()[2]) != was:
        raise Mistake("You changed NumPy's global random state (np.random.seed, np."
                      "random.choice): draw from a local `rng = np.random.default_rng(seed)`.")
    if len(np.unique(a.round(9), axis=0)) < 100:
        raise Mistake("For Mess3 your 2000 points take fewer than 100 values: you took the most "
                      "likely token; draw a random one at every step.")
    if not np.array_equal(again, a) or np.array_equal(a, b):
        raise Mistake("The same seed gave different points, or seeds 1 and 2 the same: you ignored "
                      "`seed`; draw every token from `rng = np.random.default_rng(seed)`.")
    if why := _skewed_diagnosis(fn):
        raise Mistake(why)
    return ("Correct: beliefs recorded after each update, burn-in discarded, reproducible with a "
            "seed, Z1R's corners in cycle order, the right average on a skewed HMM.")


def chaos_variant(T, pi, n_points, seed=None, burn_in=100, *, draw="bayes", normalise=True,
                  drop_burn_in=True, use_seed=True, before=False):
    rng, eta, out = (np.random.default_rng(seed if use_seed else None) if use_seed != "global"
                     else np.random.seed(seed) or np.random), np.asarray(pi, float), []
    for _ in range(burn_in + n_points):
        probs = np.einsum("i,xij->x", eta, T)
        x = (rng.choice(len(probs), p=probs / probs.sum()) if draw == "bayes" else
             rng.integers(len(probs)) if draw == "uniform" else
             rng.choice(len(T), p=pi @ T.sum(2).T) if draw == "frequencies" else
             int(np.argmax(probs)))
        out += [eta] if before else []
        with np.errstate(invalid="ignore", divide="ignore"):
            eta = eta @ T[x] / ((eta @ T[x]).sum() if normalise else 1.0)
        out += [] if before else [eta]
    return np.array(out)[burn_in:] if drop_burn_in else np.array(out)[:n_points]


check_chaos_game = Exercise(
    name="chaos_game", signature="chaos_game(T, pi, n_points, seed, burn_in) -> (n_points, S)",
    test=_test_chaos_game, time_limit=30.0, mistakes=(
        ("draws tokens uniformly", partial(chaos_variant, draw="uniform"), None, "uniformly"),
        ("draws from fixed frequencies", partial(chaos_variant, draw="frequencies"), None,
         r"fixed frequencies.*\*current\*"),
        ("takes the most likely token", partial(chaos_variant, draw="argmax"), None, "most likely"),
        ("forgets to normalise", partial(chaos_variant, normalise=False), None, "normalise"),
        ("keeps the burn-in points", partial(chaos_variant, drop_burn_in=False), None, "burn_in"),
        ("ignores the seed", partial(chaos_variant, use_seed=False), None, "same seed"),
        ("seeds NumPy's global state", partial(chaos_variant, use_seed="global"), None, "global"),
        ("records beliefs too early", partial(chaos_variant, before=True), None, r"\*before\*")))


# ---------------------------------------------------------------------------- 3.5 box counting
def _box_cases():
    t = (rng := np.random.default_rng(305)).random(20_000)
    digits = np.array(list(itertools.product((0, 2), repeat=10)), dtype=float)
    corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])
    sierpinski = np.array([(corners[list(w)] * (0.5 ** np.arange(1, 9))[:, None]).sum(0)
                           for w in itertools.product(range(3), repeat=8)])
    return [("For 20,000 points on a line segment in the plane (D = 1)",
             (np.stack([0.1 + 0.8 * t, 0.2 + 0.5 * t], axis=1), np.geomspace(0.1, 0.002, 8))),
            ("For 20,000 uniform points in the square [-0.4, 0.6)^2 around 0 (D = 2)",
             (rng.random((20_000, 2)) - 0.4, 1 / np.r_[5, 10, 20, 25, 40, 50])),
            ("For the middle-thirds Cantor set, 1,024 points (D = log 2 / log 3 = 0.631)",
             ((digits @ (3.0 ** -np.arange(1, 11)))[:, None] + 1e-9, 3.0 ** -np.arange(1, 8))),
            ("For a Sierpinski triangle, 6,561 points (D = log 3 / log 2 = 1.585)",
             (sierpinski, 2.0 ** -np.arange(2, 8))),
            ("For 300 random points in the unit square at eps = 0.5 ... 0.002 (N levels off at "
             "300, so the log-log points bend; the least-squares slope is 0.70)",
             (rng.random((300, 2)), np.geomspace(0.5, 0.002, 8)))]


def box_counts(points, eps, *, flatten=False, floor=np.floor):
    """N(eps), the occupied boxes floor(points / eps) (by mistake: flattened, or truncated)."""
    return np.array([len(np.unique(floor(np.asarray(points, float) / e).astype(np.int64),
                                   axis=None if flatten else 0)) for e in eps], float)


def _fit(x=lambda e: np.log(1 / np.asarray(e)), y=np.log, k=0, **counts):
    return lambda p, e: float(np.polyfit(x(e), y(box_counts(p, e, **counts)), 1)[k])


check_box_counting_dimension = Exercise(
    name="box_counting_dimension", signature="box_counting_dimension(points, epsilons) -> slope",
    cases=_box_cases, convert=as_float, rtol=0.0, atol=0.05,
    reference=lambda p, e: float(information.box_counting_dimension(
        p, e, fit_range=(min(e), max(e)))), mistakes=(
        ("returns the intercept, not the slope", _fit(k=1), "You returned the intercept of the "
         "fitted line; the dimension is its slope, np.polyfit(...)[0]."),
        ("fits log N against log eps (wrong sign)", _fit(x=np.log), "Your slope has the wrong "
         "sign: fit log N against log(1/eps), not log(eps)."),
        ("fits the counts, not their logs", _fit(y=lambda n: n), "You fitted N, not log N: "
         "N = C eps^(-D) is a line only on log-log axes; fit log N against log(1/eps)."),
        ("mixes log bases", _fit(x=lambda e: np.log10(1 / np.asarray(e))), "You mixed "
         "logarithm bases (log10 and ln), which scales the slope by ln 10: use one log."),
        ("np.unique without axis=0 (counts coordinates)", _fit(flatten=True), "You counted "
         "distinct numbers among the box indices, not distinct boxes: `np.unique(boxes, axis=0)`."),
        ("truncates toward zero instead of flooring", _fit(floor=np.trunc), "You truncated toward "
         "zero (`astype(int)` without np.floor), which merges the boxes on both sides of 0."),
        ("takes the slope through the two end points", _fit(x=lambda e: np.log(1 / np.asarray(
            e)[[0, -1]]), y=lambda n: np.log(n[[0, -1]])), "You took the slope through the end "
         "points; fit a least-squares line through all the points.")),
    advice="For each eps count the occupied boxes, len(np.unique(np.floor(points / eps)"
           ".astype(int), axis=0)), then fit a line to (log(1/eps), log N) and return its slope.",
    summary="Correct on {n} sets: a segment (1), a square (2), the Cantor set (0.631), the "
            "Sierpinski triangle (1.585), and a small sample whose counts level off (least "
            "squares through bending points).")


# ---------------------------------------------------------------------------- 3.6 classes, words
def _group(vectors, atol=1e-9, exact=False, last=False, rtol=0):
    """Labels grouping rows within atol (by mistake: bit for bit, or with the last class only)."""
    labels, reps = np.empty(len(vectors), dtype=int), []
    for k, v in enumerate(vectors):
        same = [r for r, u in list(enumerate(reps))[-1 if last else 0:] if (
            np.array_equal(v, u) if exact else np.allclose(v, u, rtol=rtol, atol=atol))]
        labels[k] = same[0] if same else len(reps)
        reps += [] if same else [v]
    return labels


def _class_cases():
    rrxor, z1r, mess3 = processes.rrxor(), processes.z1r(), processes.mess3()
    return [("For RRXOR's 36 MSP beliefs", (rrxor.T, b_rr := _msp(rrxor.T)[0])), (
        "For RRXOR's MSP beliefs in shuffled order", (rrxor.T, b_rr[np.random.default_rng(
            306).permutation(len(b_rr))])), ("For Z1R's 7 MSP beliefs", (z1r.T, _msp(z1r.T)[0])),
            ("For Mess3's 13 beliefs within two tokens", (mess3.T, _msp(mess3.T, 2)[0]))] + [
        (f"For 6 Mess3 beliefs {d} apart, then the first again, with atol = {a}: {n} class"
         f"{'es' * (n > 1)} (their next-token distributions differ by about as much)", (mess3.T,
            np.r_[.5, .2, .3] + np.r_[[1, -1, 0]] * float(d) * np.r_[:6, 0][:, None], float(a)))
        for d, a, n in [("2e-4", "1e-9", 6), ("2e-7", "1e-9", 6), ("2e-4", "0.001", 1)]]


def _by(f, **how):
    return lambda T, b, atol=1e-9: _group(f(T, np.asarray(b)), **{"atol": atol, **how})


def _next(T, b):
    return np.einsum("ki,xij->kx", b, T)


check_next_token_classes = Exercise(
    name="next_token_classes", signature="next_token_classes(T, beliefs, atol) -> labels",
    cases=_class_cases, reference=lambda T, b, a=1e-9: _group(_next(T, b), a), process_first=2,
    convert=lambda v, what: (lambda a: _group(a[:, None], 0.0) if a.ndim == 1 else a)(
        as_array(v, what)), mistakes=(          # any labelling of the same groups
        ("groups by belief", lambda T, b, atol=1e-9: np.arange(len(b)), "You grouped the "
         "*beliefs*; group by the next-token distribution P(x | eta) = eta T^(x) 1."),
        ("ignores atol", lambda T, b, a=0: _group(_next(T, b)), "You ignored the `atol` argument."),
        ("compares distributions with exact equality", _by(_next, exact=True), "You compared "
         "with `==`; floats agree to 1e-16, not bit for bit: compare within atol."),
        ("uses np.allclose's defaults", _by(_next, rtol=1e-5, atol=1e-8), "You kept np.allclose's "
         "default rtol = 1e-5 (or atol = 1e-8); values 1e-7 apart differ: pass rtol=0, atol=atol."),
        ("groups by the most likely token", _by(lambda T, b: _next(T, b).argmax(1)[:, None]),
         "You grouped by the most likely next token: compare the whole distribution."),
        ("rounds the distributions to 3 decimals", _by(lambda T, b: np.round(_next(T, b), 3)),
         "You rounded (or used a loose tolerance); distributions 1e-4 apart differ: use atol."),
        ("compares with the most recent class only", _by(_next, last=True), "You compared each "
         "belief with the most recent class only: compare with every earlier class."),
        ("takes the beliefs first (the old order)", lambda beliefs, T, atol=1e-9: _group(
            _next(T, beliefs)), None, "takes the process first")),
    advice=lambda c: (f"You have {len(set(np.asarray(c.got).tolist()))} classes; there are "
                      f"{len(set(c.expected.tolist()))}: give two beliefs the same label exactly "
                      "when their next-token distributions agree within atol."),
    summary="Correct: RRXOR's 36 beliefs fall into 11 next-token classes (in any order), and "
            "Z1R's and Mess3's beliefs are grouped right too.")


def _end(T, eta, word):  # eta T^(w_1) ... T^(w_L): sum for P(w | eta), normalise for the belief
    return reduce(lambda v, x: v @ T[x], word, np.asarray(eta, float))


def _first_word(T, e1, e2, lengths, differ=None, step=1):
    """The first word on which ``differ`` holds (default: P(w | e1) != P(w | e2)), or None."""
    differ = differ or (lambda w: np.ptp([_end(T, e, w[::step]).sum() for e in (e1, e2)]) > 1e-9)
    return next((w for L in lengths for w in itertools.product(range(T.shape[0]), repeat=L)
                 if differ(w)), None)


def _word_cases():
    rrxor, mess3, eta = processes.rrxor(), processes.mess3(), np.r_[.5, .2, .3]
    labels = _group(_next(rrxor.T, b := _msp(rrxor.T)[0]))
    big = np.flatnonzero(labels == np.bincount(labels).argmax())
    return [("Mess3: nearby beliefs", mess3.T, eta, np.r_[.5, .21, .29])] + [
        (f"RRXOR beliefs {fmt(b[i])} and {fmt(b[j])}", rrxor.T, b[i], b[j])
            for i, j in [(big[0], big[1]), (big[0], big[-1]), (big[2], big[5]), (big[1], big[7])]
            ] + [("RRXOR: beliefs that differ in the next token", rrxor.T, b[0], np.eye(5)[3]),
                 ("RRXOR(0.5, 0.2): beliefs that agree on the words of length 1", processes.rrxor(
                     .5, .2).T, np.r_[1, 1, 1, 0, 0] / 3, np.r_[2, 1, 0, 1, 0] / 4),
                 ("Mess3: a belief and itself", mess3.T, eta, eta.copy())]


def _test_distinguishing_word(fn):
    cases = _word_cases()
    for name, T, e1, e2 in cases:
        args, best = (T, e1, e2, 6, 1e-9), _first_word(T, e1, e2, range(1, 7))
        got = check_shortest_distinguishing_word.call(fn, args, f"For {name}")
        if (best is None) != (got is None):
            raise Mistake(f"For {name}: no word of length <= 6 distinguishes them: return None, "
                          f"not {got!r}." if best is None else f"For {name}: a word of length "
                          f"{len(best)} distinguishes them; you returned None." + (
                              " Did you stop at length 1? Try every length up to max_length."
                              if len(best) > 1 else ""))
        if got is not None and np.ndim(got) != 1:
            raise Mistake(f"For {name} you returned {got!r}; return a tuple of token indices "
                          "such as (0, 1).")
        word = None if got is None else tuple(int(x) for x in got)
        if word is not None and abs(_end(T, e1, word).sum() - _end(T, e2, word).sum()) <= 1e-9:
            raise Mistake(f"For {name}: your word {word} has the same probability under both "
                          "beliefs. " + (nearest_known(check_shortest_distinguishing_word, args,
                                                       lambda w, word=word: w == word) or _WORD))
        if word and len(word) > len(best):
            raise Mistake(f"For {name}: your word {word} distinguishes them, but one of length "
                          f"{len(best)} already does: search lengths in increasing order.")
    name, T, e1, e2 = cases[1]
    L = len(_first_word(T, e1, e2, range(1, 7)))
    if check_shortest_distinguishing_word.call(fn, (T, e1, e2, L, 1e-9), name) is None:
        raise Mistake(f"For {name} with max_length = {L}: the shortest distinguishing word has "
                      f"{L} tokens, but you returned None: you skipped length max_length; try "
                      "lengths 1 to max_length included.")
    if (got := check_shortest_distinguishing_word.call(fn, (T, e1, e2, 6, 1.0), name)) is not None:
        raise Mistake(f"For {name} with atol = 1 you returned {got!r}, but no probability "
                      "differs by more than 1: you ignored `atol` (|P1 - P2| > atol).")
    return (f"Correct on {len(cases)} pairs: RRXOR beliefs that agree on the next token but not "
            "on the next two or three, identical beliefs (None), and Mess3 beliefs.")


def _beliefs_after(T, e1, e2, max_length=6, atol=1e-9):
    return _first_word(T, e1, e2, range(1, max_length + 1), lambda w: min(
        _end(T, e1, w).sum(), _end(T, e2, w).sum()) > 0 and not np.allclose(
        _end(T, e1, w) / _end(T, e1, w).sum(), _end(T, e2, w) / _end(T, e2, w).sum()))


def _search(lengths=lambda n: range(1, n + 1), flip=False, then=lambda w: w, step=1):
    return lambda T, e1, e2, max_length=6, atol=1e-9: then(_first_word(
        T.transpose(0, 2, 1) if flip else T, e1, e2, lengths(max_length), step=step))


_WORD = "Compare the whole word's probability, P(w | eta) = eta T^(w_1) ... T^(w_L) 1."

check_shortest_distinguishing_word = Exercise(
    name="shortest_distinguishing_word",
    signature="shortest_distinguishing_word(T, eta1, eta2, max_length, atol) -> word",
    test=_test_distinguishing_word, time_limit=30.0, process_first=0, mistakes=(
        ("searches longest first", _search(lambda n: range(n, 0, -1)), None, "increasing"),
        ("computes word probabilities column-wise", _search(flip=True), "You used the column "
         "convention (`T[x] @ v`), whose first differing word this is; use rows: eta T^(x)."),
        ("applies the word's matrices in reversed order", _search(step=-1), "You multiplied the "
         "word's matrices in reversed order: P(w | eta) = eta T^(w_1) T^(w_2) ... T^(w_L) 1."),
        ("compares the beliefs after the word", _beliefs_after, "You compared the beliefs after "
         "the word. " + _WORD),
        ("returns ()", _search(then=lambda w: w or ()), None, r"return None, not \(\)"),
        ("tries single tokens only", _search(lambda n: [1]), None, "stop at length 1"),
        ("stops before max_length", _search(lambda n: range(1, n)), None, "max_length included"),
        ("returns the length", _search(then=lambda w: w and len(w)), None, "a tuple of token"),
        ("takes the beliefs first (the old order)", lambda eta1, eta2, T, max_length=6,
         atol=1e-9: _first_word(T, eta1, eta2, range(1, 7)), None, "takes the process first")))

EXERCISES = (check_build_msp, check_recurrent_states, check_msp_entropy_rate, check_chaos_game,
             check_box_counting_dimension, check_next_token_classes,
             check_shortest_distinguishing_word)
