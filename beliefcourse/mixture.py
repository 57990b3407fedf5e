"""Non-ergodic mixtures of HMMs: one component per sequence, chosen at its start.

A mixture of components ``H_1 .. H_K`` (HMMs over one vocabulary) with weights ``w`` draws the
component ``K = k`` with probability ``w_k`` once per sequence, then runs ``H_k`` from its own
stationary distribution ``pi_k``. As one HMM (``Mixture.hmm``) it has block-diagonal labelled
transition matrices ``T[x] = diag(T_1[x], .., T_K[x])`` (blocks in component order, the
package's convention ``T[x, i, j] = P(emit x, go to j | in i)``) and starts from

    prior = (w_1 pi_1, .., w_K pi_K).

Its hidden chain is reducible (the blocks never reach each other), so ``mix.hmm.stationary()``
is *not* the start distribution (the package warns ``ReducibleChainWarning``): pass
``prior=mix.prior`` to anything that takes a prior, or use the methods here, which do.

The joint belief over (component, state) after a context ``u`` factorises block by block::

    joint(u) = (m_1(u) eta_1(u), .., m_K(u) eta_K(u)),
    m_k(u) = P(K = k | u) = w_k P_k(u) / sum_j w_j P_j(u),

where ``m(u)`` is the **meta-belief** (a point of the (K-1)-simplex) and ``eta_k(u)`` is component
``k``'s own belief, ``belief_trajectories(H_k, u)``: the **within-component belief**. Summing a
block of the joint gives ``m_k``; normalising the block gives ``eta_k``. When ``m_k = 1`` the
joint lies on the face of block ``k`` and equals ``eta_k`` there; before the context has told
the components apart it lies inside the simplex.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .enumerate import SequenceSet, all_sequences
from .hmm import HMM, ReducibleChainWarning, _positive_int

WEIGHT_SUM_ATOL = 1e-8


def _check_components(components) -> tuple[HMM, ...]:
    if isinstance(components, HMM) or not isinstance(components, Sequence):
        raise TypeError("components must be a list or tuple of HMMs (one per component), got "
                        f"{type(components).__name__}")
    components = tuple(components)
    if not components:
        raise ValueError("a mixture needs at least one component; got an empty list")
    for k, c in enumerate(components):
        if not isinstance(c, HMM):
            raise TypeError(f"component {k} must be an HMM, got {type(c).__name__}")
    first = components[0]
    for k, c in enumerate(components[1:], start=1):
        if c.n_tokens != first.n_tokens:
            raise ValueError(f"components must share one vocabulary: component 0 has "
                             f"{first.n_tokens} tokens, component {k} has {c.n_tokens}")
        if c.token_names != first.token_names:
            raise ValueError(f"components must share one vocabulary: component 0 names its "
                             f"tokens {list(first.token_names)}, component {k} "
                             f"{list(c.token_names)}; rename them with "
                             "HMM(c.T, token_names=...) if they mean the same tokens")
    return components


def _check_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights)
    if w.dtype == object or w.dtype == bool or not np.issubdtype(w.dtype, np.number) \
            or np.iscomplexobj(w):
        raise TypeError(f"weights must be a real numeric array, got {weights!r}")
    w = w.astype(np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), one per component; got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"weights must be finite and positive (a component of weight 0 never "
                         f"occurs: drop it); got {w.tolist()}")
    if abs(w.sum() - 1.0) > WEIGHT_SUM_ATOL:
        raise ValueError(f"weights must sum to 1 (within {WEIGHT_SUM_ATOL:g}); they sum to "
                         f"{w.sum():.10g}. Divide by their sum if they are relative weights")
    return w / w.sum()


def _stationary_or_raise(c: HMM, k: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReducibleChainWarning)
        try:
            return c.stationary()
        except ReducibleChainWarning as err:
            raise ValueError(f"component {k} is itself non-ergodic ({err}); give each of its "
                             "closed classes as a separate component") from None


class Mixture:
    """A non-ergodic mixture of HMMs (see the module docstring); build it with :func:`mixture`.

    Attributes
    ----------
    components : tuple of HMM, length K
    weights : float array (K,)
        ``P(K = k)``; positive, sums to 1.
    hmm : HMM
        The block-diagonal HMM over ``n_states = sum_k S_k`` states named ``"k:name"``.
    prior : float array (n_states,)
        The start distribution ``(w_1 pi_1, .., w_K pi_K)``.
    offsets : int array (K + 1,)
        Block ``k`` is states ``offsets[k]:offsets[k + 1]``.
    component_of_state : int array (n_states,)
        The component each joint state belongs to.
    """

    def __init__(self, components, weights=None):
        self.components = _check_components(components)
        K = len(self.components)
        self.weights = _check_weights(weights, K)
        pis = [_stationary_or_raise(c, k) for k, c in enumerate(self.components)]
        sizes = np.array([c.n_states for c in self.components])
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.component_of_state = np.repeat(np.arange(K), sizes)
        X, S = self.components[0].n_tokens, int(sizes.max())
        self._T = np.zeros((K, X, S, S))            # components padded to S states
        self._pi = np.zeros((K, S))
        T = np.zeros((X, self.offsets[-1], self.offsets[-1]))
        for k, (c, pi) in enumerate(zip(self.components, pis)):
            a, b = self.offsets[k], self.offsets[k + 1]
            T[:, a:b, a:b] = c.T
            self._T[k, :, :c.n_states, :c.n_states] = c.T
            self._pi[k, :c.n_states] = pi
        self._emit = self._T.sum(axis=3)             # (K, X, S): P(x | state i of component k)
        names = [f"{k}:{s}" for k, c in enumerate(self.components) for s in c.state_names]
        self.hmm = HMM(T, state_names=names, token_names=self.components[0].token_names)
        self.prior = np.concatenate([w * pi for w, pi in zip(self.weights, pis)])
        for a in (self.weights, self.prior, self.offsets, self.component_of_state):
            a.setflags(write=False)

    @property
    def n_components(self) -> int:
        return len(self.components)

    @property
    def n_states(self) -> int:
        return self.hmm.n_states

    @property
    def n_tokens(self) -> int:
        return self.hmm.n_tokens

    def __repr__(self) -> str:
        w = ", ".join(f"{v:.3g}" for v in self.weights)
        return (f"Mixture({self.n_components} components, {self.n_states} joint states, "
                f"{self.n_tokens} tokens, weights=[{w}])")

    # ------------------------------------------------------------------ sampling
    def sample(self, n_sequences: int, length: int, seed=None):
        """Draw a component per sequence (``P(k) = w_k``), then run it from ``pi_k``.

        Returns ``(tokens, states, components)``: ``tokens`` int64 ``(n, length)``,
        ``states`` int64 ``(n, length + 1)`` in joint numbering (``states[:, 0]`` the start
        state), ``components`` int64 ``(n,)``. Equivalent to sampling the block HMM from
        ``prior``, which is how it is done.
        """
        tokens, states = self.hmm.sample(n_sequences, length, seed=seed, prior=self.prior)
        return tokens, states, self.component_of_state[states[:, 0]]

    def all_sequences(self, length: int, max_sequences: int = 5_000_000) -> SequenceSet:
        """Every positive-probability word of ``length`` tokens with its joint beliefs
        (``enumerate.all_sequences`` of the block HMM from ``prior``)."""
        return all_sequences(self.hmm, length, prior=self.prior, max_sequences=max_sequences)

    # ------------------------------------------------------------------ filtering
    def filter_steps(self, tokens):
        """Yield the exact Bayes filter along a batch, one context length at a time.

        For ``t = 0 .. L`` yields ``(meta (n, K), within (n, K, S_max), log_likelihood
        (n, K))`` after the first ``t`` tokens; ``S_max`` is the largest component's state
        count (smaller components padded with zeros) and ``log_likelihood[:, k] = ln
        P_k(x_1..x_t)``. Each component is filtered on its own and the meta-belief is
        computed in log space, so nothing underflows however long the context. A component
        that cannot have produced the context gets meta-belief 0 and within-belief all zeros.
        Raises ``ValueError`` naming the first sequence that no component can produce.
        """
        arr, _ = self.hmm.check_tokens(tokens)
        n, L = arr.shape
        logw = np.log(self.weights)
        eta = np.broadcast_to(self._pi, (n,) + self._pi.shape).copy()
        loglik = np.zeros((n, self.n_components))
        for t in range(L + 1):
            logpost = logw + loglik
            top = logpost.max(axis=1, keepdims=True)
            if np.any(top == -np.inf):
                i = int(np.flatnonzero(top[:, 0] == -np.inf)[0])
                raise ValueError(f"sequence {i} is impossible: token {arr[i, t - 1]} at "
                                 f"position {t - 1} has probability zero under every "
                                 "component")
            meta = np.exp(logpost - top)
            yield meta / meta.sum(axis=1, keepdims=True), eta, loglik
            if t == L:
                return
            nxt = np.einsum("nki,knij->nkj", eta, self._T[:, arr[:, t]])
            p = nxt.sum(axis=2)
            alive = p > 0
            eta = np.where(alive[..., None], nxt / np.where(alive, p, 1.0)[..., None], 0.0)
            with np.errstate(divide="ignore"):
                loglik = loglik + np.log(p)

    def filter(self, tokens) -> MixtureFilter:
        """The exact Bayes filter along a batch of sequences, stored (see :meth:`filter_steps`;
        memory ``8 n (L+1) K (S_max + X)`` bytes: stream with ``filter_steps`` for large K)."""
        meta, within, loglik = (np.stack(a, axis=1) for a in zip(*self.filter_steps(tokens)))
        comp_pred = np.einsum("ntki,kxi->ntkx", within, self._emit)
        return MixtureFilter(meta=meta, within=within, log_likelihood=loglik,
                             component_predictive=comp_pred,
                             predictive=np.einsum("ntk,ntkx->ntx", meta, comp_pred),
                             offsets=np.asarray(self.offsets))

    def beliefs(self, tokens) -> np.ndarray:
        """Joint beliefs over (component, state), shape ``(n, L + 1, n_states)``; index ``t``
        is the belief after the first ``t`` tokens (index 0 = ``prior``)."""
        return self.filter(tokens).joint()

    # ------------------------------------------------------------------ readings of a joint belief
    def _check_joint(self, joint) -> np.ndarray:
        """A joint belief is a belief of the block HMM (one entry per (component, state))."""
        from .beliefs import _as_belief

        return _as_belief(joint, self.hmm)

    def meta_belief(self, joint) -> np.ndarray:
        """``P(k | context)``: each block's total; ``joint`` ``(..., n_states)`` -> ``(..., K)``."""
        arr = self._check_joint(joint)
        return np.stack([arr[..., a:b].sum(-1) for a, b in zip(self.offsets, self.offsets[1:])],
                        axis=-1)

    def within_beliefs(self, joint) -> list[np.ndarray]:
        """``P(state | k, context)`` for each component: a list of K arrays ``(..., S_k)``.

        Each block divided by its total; a block of total 0 (the context rules the component
        out) gives all zeros. Accurate while the block's total is a normal float (above
        ~1e-300); :meth:`filter` computes the within-beliefs directly at any length.
        """
        arr = self._check_joint(joint)
        out = []
        for a, b in zip(self.offsets, self.offsets[1:]):
            block = arr[..., a:b]
            total = block.sum(-1, keepdims=True)
            out.append(np.where(total > 0, block / np.where(total > 0, total, 1.0), 0.0))
        return out


@dataclass(frozen=True, eq=False)
class MixtureFilter:
    """The exact Bayes filter of a mixture along ``n`` sequences of ``L`` tokens.

    Attributes (index ``t`` = after the first ``t`` tokens, ``t = 0 .. L``)
    ----------
    meta : (n, L+1, K)
        Meta-belief ``P(k | x_1..x_t)``.
    within : (n, L+1, K, S_max)
        Within-component beliefs ``P(state | k, x_1..x_t)`` (zero-padded past ``S_k``).
    log_likelihood : (n, L+1, K)
        ``ln P_k(x_1..x_t)`` (``-inf`` where component k cannot produce the context).
    component_predictive : (n, L+1, K, X)
        ``P_k(x_{t+1} = x | x_1..x_t)``: the oracle's prediction if the component is ``k``.
    predictive : (n, L+1, X)
        The Bayes predictor ``P(x_{t+1} = x | x_1..x_t) = sum_k meta_k P_k(x | ..)``.
    offsets : int array (K+1,)
        Block boundaries of the joint state numbering.
    """

    meta: np.ndarray
    within: np.ndarray
    log_likelihood: np.ndarray
    component_predictive: np.ndarray
    predictive: np.ndarray
    offsets: np.ndarray

    def joint(self) -> np.ndarray:
        """Joint beliefs ``(n, L+1, n_states)``: block k is ``meta_k * within_k``."""
        sizes = np.diff(self.offsets)
        return np.concatenate([self.meta[..., k, None] * self.within[..., k, :s]
                               for k, s in enumerate(sizes)], axis=-1)


def mixture(components, weights=None) -> Mixture:
    """A non-ergodic mixture of ``components`` (HMMs sharing one vocabulary).

    ``weights`` (K,) are the component probabilities: positive, summing to 1 within 1e-8
    (then renormalised exactly); default uniform. Each component must be ergodic (one closed
    class), so that ``pi_k`` is defined. Raises ``TypeError`` for non-HMM components or
    non-numeric weights and ``ValueError`` for an empty list, different vocabularies, bad
    weights or a non-ergodic component.
    """
    return Mixture(components, weights)


def parameter_grid(factory, low: float, high: float, n_grid: int):
    """A one-parameter family with a uniform prior on ``[low, high]``, as a finite mixture.

    The components are ``factory(v)`` at the midpoints ``v_k = low + (k + 1/2)(high - low) /
    n_grid`` of ``n_grid`` equal cells, with equal weights: the midpoint rule for the
    family's posterior integrals (``distinguish.grid_horizon`` says for how long it is
    faithful). Returns ``(Mixture, values (n_grid,))``. E.g.
    ``parameter_grid(lambda a: processes.mess3(0.05, a), 0.4, 0.9, 16)``.
    """
    if not callable(factory):
        raise TypeError(f"factory must be a callable value -> HMM, got {type(factory).__name__}")
    n_grid = _positive_int(n_grid, "n_grid")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"need finite low < high, got low={low!r}, high={high!r}")
    values = low + (np.arange(n_grid) + 0.5) * (high - low) / n_grid
    return Mixture([factory(float(v)) for v in values]), values


def joint_layout(sizes, spread: float = 1.8) -> np.ndarray:
    """Vertices for drawing joint beliefs in the plane: ``(n_states, 2)``.

    Component ``k``'s states are the corners of a regular polygon of radius 1 (a triangle
    for Mess3) centred ``spread`` from the origin in direction ``2 pi k / K`` (left and
    right for two components). A joint belief is drawn at ``joint @ layout``: on face ``k``
    (``m_k = 1``) it lies inside polygon ``k``, where component ``k``'s own belief simplex
    is; a context that has not told the worlds apart lies between the polygons.
    """
    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"sizes must be positive state counts, got {sizes}")
    K = len(sizes)
    out = []
    for k, s in enumerate(sizes):
        angle = np.pi + 2 * np.pi * k / K
        centre = spread * np.array([np.cos(angle), np.sin(angle)]) if K > 1 else np.zeros(2)
        corners = np.pi / 2 + 2 * np.pi * np.arange(s) / s
        out.append(centre + np.stack([np.cos(corners), np.sin(corners)], axis=1)
                   if s > 1 else centre[None])
    return np.concatenate(out)
