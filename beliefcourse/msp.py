"""Mixed-state presentations (MSPs): the machine whose states are an observer's beliefs.

Starting from the stationary prior ``pi``, every token ``x`` of positive probability moves a
belief ``eta`` to ``f_x(eta) = eta T[x] / (eta T[x] 1)`` with probability
``P(x | eta) = eta T[x] 1``. The distinct beliefs reachable this way, with these labelled
edges, form the *mixed-state presentation*: a unifilar HMM over beliefs that generates the
same process as the original HMM.

* :func:`mixed_state_presentation` builds it breadth-first, de-duplicating beliefs up to a
  tolerance, and stops at a cap (``max_states``, ``max_depth``) when the MSP is infinite
  (non-unifilar processes such as Mess3 never close).
* :func:`beliefs_by_depth` lists the distinct beliefs reachable with at most ``L`` tokens
  (cumulative), for ``L = 0 .. max_depth``, without building transition matrices.
* :func:`chaos_game` samples the long-run (Blackwell) measure of an infinite MSP by running
  many observers in parallel on sampled token streams: a place-dependent iterated function
  system.

Two beliefs are treated as equal when they agree after rounding to a grid of spacing
``atol`` (default ``1e-9``): two paths to the same belief rarely agree to the last bit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .hmm import HMM, _positive_int, graph_closed_classes, gth_stationary

DEFAULT_ATOL = 1e-9


def _check_hmm(hmm) -> HMM:
    if not isinstance(hmm, HMM):
        raise TypeError(f"hmm must be a beliefcourse.hmm.HMM, got {type(hmm).__name__}")
    return hmm


def _check_atol(atol) -> float:
    if isinstance(atol, bool) or not isinstance(atol, (int, float, np.integer, np.floating)):
        raise TypeError(f"atol must be a number, got {type(atol).__name__}")
    atol = float(atol)
    if not (np.isfinite(atol) and 1e-15 <= atol <= 1e-2):
        raise ValueError(f"atol must lie in [1e-15, 1e-2], got {atol:g}")
    return atol


def _belief_keys(beliefs: np.ndarray, atol: float) -> np.ndarray:
    """Integer grid coordinates used to compare beliefs up to ``atol``, shape ``(N, S)``."""
    return np.round(beliefs / atol).astype(np.int64)


def _children(beliefs: np.ndarray, T: np.ndarray):
    """All positive-probability children of a batch of beliefs.

    Returns ``(parent, token, prob, child)``: ``parent``, ``token`` int arrays ``(M,)``,
    ``prob = P(token | belief[parent])`` ``(M,)``, ``child`` the updated beliefs ``(M, S)``.
    """
    n, S = beliefs.shape
    X = T.shape[0]
    unnorm = np.einsum("ni,xij->nxj", beliefs, T).reshape(n * X, S)
    step = unnorm.sum(axis=1)
    keep = step > 0
    idx = np.flatnonzero(keep)
    parent, token = np.divmod(idx, X)
    child = unnorm[idx] / step[idx, None]
    return parent, token, step[idx], child


@dataclass
class _Exploration:
    beliefs: np.ndarray          # (K, S)
    depths: np.ndarray           # (K,)
    parent: np.ndarray           # (E,) edges: parent --token--> child with prob
    token: np.ndarray
    child: np.ndarray
    prob: np.ndarray
    complete: bool
    last_depth: int              # deepest level whose states were all added
    stop_reason: str


def _explore(hmm: HMM, max_depth: int, max_states: int, atol: float,
             raise_on_cap: bool = False) -> _Exploration:
    """Breadth-first search over beliefs from ``pi``, adding whole depth levels at a time.

    A level is added only if the total stays within ``max_states``; states of the deepest
    level kept are expanded (their edges recorded) only if their children are all known or
    also kept. ``complete`` is True when the frontier ran dry.
    """
    T = hmm.T
    pi = hmm.stationary()
    beliefs = [pi[None, :]]
    depths = [np.zeros(1, dtype=np.int64)]
    index: dict[bytes, int] = {_belief_keys(pi[None, :], atol)[0].tobytes(): 0}
    n_states = 1
    edges_p, edges_x, edges_c, edges_w = [], [], [], []
    frontier = np.array([0])
    frontier_beliefs = pi[None, :]
    complete = False
    reason = ""
    depth = 0
    while True:
        if len(frontier) == 0:
            complete = True
            break
        if depth >= max_depth:
            reason = f"max_depth={max_depth} reached"
            break
        parent, token, prob, child = _children(frontier_beliefs, T)
        keys = _belief_keys(child, atol)
        uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        ids = np.empty(len(uniq), dtype=np.int64)
        new_rows = []
        next_id = n_states
        for u in range(len(uniq)):
            kb = uniq[u].tobytes()
            found = index.get(kb)
            if found is None:
                ids[u] = next_id
                new_rows.append(u)
                next_id += 1
            else:
                ids[u] = found
        n_new = len(new_rows)
        if n_states + n_new > max_states:
            reason = (f"max_states={max_states:,} reached: depth {depth + 1} would add "
                      f"{n_new:,} new beliefs to the {n_states:,} found so far")
            if raise_on_cap:
                raise ValueError(f"more than {max_states:,} distinct beliefs by depth "
                                 f"{depth + 1} ({n_states + n_new:,}); use a smaller depth "
                                 "or raise max_states")
            break
        # commit this level
        new_rows = np.asarray(new_rows, dtype=np.int64)
        for u in new_rows:
            index[uniq[u].tobytes()] = int(ids[u])
        edges_p.append(frontier[parent])
        edges_x.append(token)
        edges_c.append(ids[inverse])
        edges_w.append(prob)
        new_beliefs = child[first[new_rows]] if n_new else np.zeros((0, hmm.n_states))
        beliefs.append(new_beliefs)
        depths.append(np.full(n_new, depth + 1, dtype=np.int64))
        frontier = ids[new_rows] if n_new else np.zeros(0, dtype=np.int64)
        frontier_beliefs = new_beliefs
        n_states += n_new
        depth += 1
    def cat(parts, dt):
        return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dtype=dt)

    return _Exploration(
        beliefs=np.concatenate(beliefs), depths=np.concatenate(depths),
        parent=cat(edges_p, np.int64), token=cat(edges_x, np.int64),
        child=cat(edges_c, np.int64), prob=cat(edges_w, np.float64),
        complete=complete, last_depth=depth, stop_reason=reason)


@dataclass(frozen=True, eq=False)
class RecurrentPart:
    """The recurrent (closed) part of a finite mixed-state presentation.

    Attributes
    ----------
    beliefs : float array, shape (R, n_states)
        The recurrent beliefs.
    indices : int array, shape (R,)
        Their indices in the full MSP.
    T : float array, shape (n_tokens, R, R)
        Labelled transitions among them (rows of ``T.sum(0)`` sum to 1: the set is closed).
    weights : float array, shape (R,)
        Long-run probability of each recurrent belief from the MSP's start (sums to 1).
    token_names : tuple of str
    """

    beliefs: np.ndarray
    indices: np.ndarray
    T: np.ndarray
    weights: np.ndarray
    token_names: tuple

    def __len__(self) -> int:
        return len(self.indices)

    def stationary(self) -> np.ndarray:
        """Long-run distribution over the recurrent beliefs, shape ``(R,)`` (a copy)."""
        return self.weights.copy()

    def as_hmm(self) -> HMM:
        """The recurrent part as an :class:`~beliefcourse.hmm.HMM` (for a synchronising
        process, the process's own minimal unifilar machine)."""
        names = [f"m{k}" for k in self.indices]
        return HMM(self.T, state_names=names, token_names=self.token_names)

    def __repr__(self) -> str:
        return f"RecurrentPart({len(self)} recurrent beliefs of an MSP, indices={self.indices})"


@dataclass(frozen=True, eq=False)
class MixedStatePresentation:
    """The mixed-state presentation of an HMM, explored breadth-first from ``pi``.

    Attributes
    ----------
    hmm : HMM
        The process it presents.
    beliefs : float array, shape (K, n_states)
        Distinct beliefs in order of discovery; index 0 is the stationary prior ``pi``.
    depths : int array, shape (K,)
        Number of tokens after which each belief is first reached (0 for ``pi``).
    edges : tuple of arrays ``(source, token, target, prob)``, each shape (E,)
        Labelled transitions ``source --token--> target`` with ``prob = P(token | source)``.
    complete : bool
        True if the search ran dry (the MSP is finite and fully built); False if it stopped
        at a cap, in which case the deepest level's states have no outgoing edges.
    atol : float
        Beliefs closer than this (after rounding to a grid of this spacing) are one state.
    stop_reason : str
        Why an incomplete search stopped ('' when complete).
    """

    hmm: HMM
    beliefs: np.ndarray
    depths: np.ndarray
    edges: tuple
    complete: bool
    atol: float
    stop_reason: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ basic facts
    def __len__(self) -> int:
        return len(self.beliefs)

    @property
    def n_states(self) -> int:
        """Number of MSP states ``K``."""
        return len(self.beliefs)

    @property
    def max_depth(self) -> int:
        """Depth of the deepest belief found."""
        return int(self.depths.max())

    @property
    def start(self) -> np.ndarray:
        """One-hot start distribution over MSP states (state 0 = ``pi``), shape ``(K,)``.

        Pass it as ``prior=`` to the methods of :meth:`as_hmm`'s result.
        """
        e = np.zeros(self.n_states)
        e[0] = 1.0
        return e

    @property
    def T(self) -> np.ndarray:
        """Labelled transitions over MSP states, shape ``(n_tokens, K, K)`` (dense).

        ``T[x, k, j] = P(x | beliefs[k])`` if ``j`` is the belief after ``x``, else 0. Each
        row has at most one nonzero entry per token (the MSP is unifilar). For an incomplete
        MSP the rows of the deepest level are zero. Memory: ``8 * n_tokens * K**2`` bytes.
        """
        if "T" not in self._cache:
            src, tok, dst, prob = self.edges
            T = np.zeros((self.hmm.n_tokens, self.n_states, self.n_states))
            T[tok, src, dst] = prob
            T.setflags(write=False)
            self._cache["T"] = T
        return self._cache["T"]

    def next_token_distributions(self) -> np.ndarray:
        """``P(x | beliefs[k])`` for every state, shape ``(K, n_tokens)``."""
        return np.einsum("ki,xij->kx", self.beliefs, self.hmm.T)

    def _require_complete(self, what: str) -> None:
        if not self.complete:
            raise ValueError(
                f"{what} needs a complete (finite) mixed-state presentation, but the search "
                f"stopped early ({self.stop_reason}) with {self.n_states:,} states. The MSP "
                "may be infinite (non-unifilar processes such as Mess3 never close): use "
                "msp.chaos_game for its recurrent set, or raise max_states / max_depth.")

    # ------------------------------------------------------------------ structure
    def _classes(self) -> list[np.ndarray]:
        if "classes" not in self._cache:
            src, _, dst, _ = self.edges
            self._cache["classes"] = graph_closed_classes(self.n_states, src, dst)
        return self._cache["classes"]

    def recurrent_mask(self) -> np.ndarray:
        """Boolean mask over MSP states, shape ``(K,)``: True for recurrent states.

        A state is recurrent if every state reachable from it can reach it back (it lies in
        a closed communicating class); the others are transient (synchronisation states).
        Raises ``ValueError`` for an incomplete MSP (the classification would be wrong).
        """
        self._require_complete("recurrent_mask()")
        mask = np.zeros(self.n_states, dtype=bool)
        for c in self._classes():
            mask[c] = True
        return mask

    def stationary(self) -> np.ndarray:
        """Long-run distribution over MSP states when started in state 0, shape ``(K,)``.

        Zero on transient states. With one closed class it is that class's stationary
        distribution; with several (a non-ergodic process) each class is weighted by the
        probability of ending up in it from ``pi``.
        """
        self._require_complete("stationary()")
        if "stationary" in self._cache:
            return self._cache["stationary"].copy()
        P = self.T.sum(axis=0)
        K = self.n_states
        classes = self._classes()
        out = np.zeros(K)
        if len(classes) == 1:
            absorb = [1.0]
        else:
            rec = np.zeros(K, dtype=bool)
            for c in classes:
                rec[c] = True
            trans = np.flatnonzero(~rec)
            absorb = []
            for c in classes:
                if rec[0]:
                    absorb.append(1.0 if 0 in c else 0.0)
                    continue
                # absorption probabilities a = (I - Q)^-1 R 1_c over transient states
                Q = P[np.ix_(trans, trans)]
                r = P[np.ix_(trans, c)].sum(axis=1)
                a = np.linalg.solve(np.eye(len(trans)) - Q, r)
                absorb.append(float(a[np.flatnonzero(trans == 0)[0]]))
        for c, a in zip(classes, absorb):
            if a > 0:
                out[c] = a * gth_stationary(P[np.ix_(c, c)])
        out /= out.sum()
        self._cache["stationary"] = out
        return out.copy()

    def recurrent(self) -> RecurrentPart:
        """The recurrent part: its beliefs, transitions among them and long-run weights."""
        mask = self.recurrent_mask()
        idx = np.flatnonzero(mask)
        T = self.T[:, idx][:, :, idx].copy()
        return RecurrentPart(beliefs=self.beliefs[idx].copy(), indices=idx, T=T,
                             weights=self.stationary()[idx],
                             token_names=tuple(self.hmm.token_names))

    def state_distribution(self, length: int) -> np.ndarray:
        """Distribution over MSP states after exactly ``length`` tokens from state 0, ``(K,)``.

        Needs the MSP to be built at least to depth ``length - 1`` (always true when
        ``complete``). Summing ``f(beliefs)`` against it gives exact expectations over words.
        """
        length = _positive_int(length, "length", allow_zero=True)
        if not self.complete and length > self.max_depth:
            raise ValueError(f"this incomplete MSP only covers words of up to "
                             f"{self.max_depth} tokens; asked for {length}")
        p = self.start
        P = self.T.sum(axis=0)
        for _ in range(length):
            p = p @ P
        return p

    def as_hmm(self) -> HMM:
        """The MSP as an :class:`~beliefcourse.hmm.HMM` over its ``K`` states.

        State 0 is the start (``pi``): sequences from the original process are reproduced
        with ``prior=msp.start``, e.g. ``all_sequences(msp.as_hmm(), L, prior=msp.start)``.
        (Without a prior, ``HMM`` starts from its own stationary distribution, which lives on
        the recurrent states.) Raises ``ValueError`` for an incomplete MSP, whose deepest
        states have no outgoing transitions.
        """
        self._require_complete("as_hmm()")
        names = [f"m{k}" for k in range(self.n_states)]
        return HMM(self.T, state_names=names, token_names=self.hmm.token_names)

    def __repr__(self) -> str:
        status = "complete" if self.complete else f"incomplete: {self.stop_reason}"
        return (f"MixedStatePresentation({self.n_states} states over {self.hmm.n_states} "
                f"hidden states, depths 0..{self.max_depth}, {status}, atol={self.atol:g})")


def mixed_state_presentation(hmm: HMM, max_states: int = 2_000, max_depth: int = 1_000,
                             atol: float = DEFAULT_ATOL, warn: bool = True
                             ) -> MixedStatePresentation:
    """Build the mixed-state presentation of ``hmm`` breadth-first from ``pi``.

    Parameters
    ----------
    hmm : HMM
    max_states : int, default 2000
        Stop before a depth level would take the number of states above this. The dense
        ``.T`` needs ``8 * n_tokens * K**2`` bytes, hence the modest default.
    max_depth : int, default 1000
        Stop after this many levels.
    atol : float, default 1e-9
        Beliefs that agree on a grid of this spacing are the same state.
    warn : bool
        Emit a ``UserWarning`` when a cap stops the search (``.complete`` is then False).

    Returns
    -------
    MixedStatePresentation
        Z1R gives 7 states, RRXOR 36; Mess3 never completes.
    """
    _check_hmm(hmm)
    max_states = _positive_int(max_states, "max_states")
    max_depth = _positive_int(max_depth, "max_depth")
    atol = _check_atol(atol)
    ex = _explore(hmm, max_depth, max_states, atol)
    if not ex.complete and warn:
        warnings.warn(f"mixed-state presentation not complete: {ex.stop_reason}; kept "
                      f"{len(ex.beliefs):,} states (all beliefs up to depth {ex.last_depth}). "
                      "The MSP may be infinite (Mess3's is): use msp.chaos_game to sample its "
                      "recurrent set.", UserWarning, stacklevel=2)
    for a in (ex.beliefs, ex.depths, ex.parent, ex.token, ex.child, ex.prob):
        a.setflags(write=False)
    return MixedStatePresentation(hmm=hmm, beliefs=ex.beliefs, depths=ex.depths,
                                  edges=(ex.parent, ex.token, ex.child, ex.prob),
                                  complete=ex.complete, atol=atol, stop_reason=ex.stop_reason)


def beliefs_by_depth(hmm: HMM, max_depth: int = 9, atol: float = DEFAULT_ATOL,
                     max_states: int = 2_000_000) -> list[np.ndarray]:
    """Distinct beliefs reachable with **at most** ``L`` tokens, for ``L = 0 .. max_depth``.

    Returns a list of ``max_depth + 1`` arrays; entry ``L`` has shape ``(n_L, n_states)``
    and holds the beliefs of every word of length ``<= L`` (cumulative; entry 0 is
    ``[pi]``), de-duplicated up to ``atol``. For Mess3 ``n_L = (3**(L+1) - 1) / 2``; for a
    finite MSP the counts level off (Z1R at 7, RRXOR at 36). Raises ``ValueError`` if more
    than ``max_states`` beliefs would be needed.
    """
    _check_hmm(hmm)
    max_depth = _positive_int(max_depth, "max_depth", allow_zero=True)
    max_states = _positive_int(max_states, "max_states")
    atol = _check_atol(atol)
    if max_depth == 0:
        return [hmm.stationary()[None, :]]
    ex = _explore(hmm, max_depth, max_states, atol, raise_on_cap=True)
    return [ex.beliefs[ex.depths <= L].copy() for L in range(max_depth + 1)]


def _draw_tokens(probs: np.ndarray, rng) -> np.ndarray:
    """One token per row of ``probs`` (n, X) (rows need not be normalised)."""
    n, X = probs.shape
    u = rng.random(n) * probs.sum(axis=1)
    c = probs[:, 0].copy()
    tok = (u >= c).astype(np.intp)
    for x in range(1, X - 1):
        c += probs[:, x]
        tok += u >= c
    bad = probs[np.arange(n), tok] <= 0            # rounding at a zero-probability token
    if bad.any():
        tok[bad] = np.argmax(probs[bad], axis=1)
    return tok


def chaos_game(hmm: HMM, n_points: int, seed=0, n_chains: int | None = None,
               burn_in: int = 200, prior=None) -> np.ndarray:
    """Sample beliefs from the long-run (Blackwell) measure of the MSP: the chaos game.

    ``n_chains`` observers start at ``prior`` (default ``pi``) and run in parallel. At each
    step every observer draws a token from ``P(x | eta)`` and moves to ``f_x(eta)`` — the
    place-dependent iterated function system of the belief maps, i.e. an optimal observer
    reading a sample of the process. After ``burn_in`` steps (the start is forgotten
    geometrically fast) each step records one belief per chain.

    Parameters
    ----------
    hmm : HMM
    n_points : int >= 1
    seed : anything ``numpy.random.default_rng`` accepts; same seed, same points.
    n_chains : int, optional
        Parallel observers; default ``min(n_points, 4096)``. Points of one chain are
        correlated; many chains make the sample close to independent draws.
    burn_in : int >= 0, default 200
    prior : array_like (n_states,), optional

    Returns
    -------
    float array, shape (n_points, n_states)
        Beliefs on the simplex (rows non-negative, summing to 1), ordered step-major:
        rows ``k * n_chains .. (k+1) * n_chains - 1`` are step ``burn_in + k + 1``.
    """
    _check_hmm(hmm)
    n_points = _positive_int(n_points, "n_points")
    burn_in = _positive_int(burn_in, "burn_in", allow_zero=True)
    if n_chains is None:
        n_chains = min(n_points, 4096)
    n_chains = _positive_int(n_chains, "n_chains")
    rng = np.random.default_rng(seed)
    T = hmm.T
    S = hmm.n_states
    eta = hmm._prior(hmm.stationary() if prior is None else prior, n_chains)
    n_steps = -(-n_points // n_chains)
    out = np.empty((n_steps * n_chains, S))
    emit = T.sum(axis=2).T                              # (S, X): P(x | state i)
    rows = np.arange(n_chains)
    for step in range(burn_in + n_steps):
        tok = _draw_tokens(eta @ emit, rng)
        nxt = np.matmul(eta, T)[tok, rows]               # (n, S): eta T[x_n] per chain
        eta = nxt / nxt.sum(axis=1, keepdims=True)
        if step >= burn_in:
            k = step - burn_in
            out[k * n_chains:(k + 1) * n_chains] = eta
    return out[:n_points]
