"""Edge-emitting hidden Markov models given by labelled transition matrices.

Convention (both papers, and every module of this package)::

    T[x, i, j] = P(emit token x, go to state j | in state i)

so ``T`` has shape ``(n_tokens, n_states, n_states)`` and the net transition matrix
``T.sum(0)`` is row-stochastic. Sequences start from the stationary distribution ``pi``
(``pi @ T.sum(0) == pi``). Probabilities of words are products of matrices:
``P(x_1..x_L) = pi T[x_1] ... T[x_L] 1``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

ROW_SUM_ATOL = 1e-8
# Net transition probabilities below this count as "numerically zero" when deciding whether a
# chain is numerically reducible (64 machine epsilons: the rounding level of entries near 1).
REDUCIBLE_TOL = 64 * np.finfo(np.float64).eps


class ReducibleChainWarning(UserWarning):
    """The hidden chain has (numerically) several closed classes: ``pi`` is not unique or is
    ill-conditioned."""


class HMM:
    """A hidden Markov model with labelled transition matrices ``T[x, i, j]``.

    Parameters
    ----------
    T : array_like, shape (n_tokens, n_states, n_states)
        ``T[x, i, j] = P(emit x, go to j | in i)``. Finite, non-negative, and each row of
        ``T.sum(0)`` sums to 1 (within ``1e-8``).
    state_names, token_names : sequence of str, optional
        Labels used by ``repr``, plots and widgets. Default: ``"0", "1", ...``.

    Raises
    ------
    TypeError
        If ``T`` is not numeric.
    ValueError
        If ``T`` has the wrong shape, contains NaN/inf or negative entries, or a row of
        ``T.sum(0)`` does not sum to 1. The message names the offending entry or row.
    """

    def __init__(self, T, state_names: Sequence[str] | None = None,
                 token_names: Sequence[str] | None = None):
        arr = np.asarray(T)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == bool):
            raise TypeError(f"T must be a numeric array, got dtype {arr.dtype}")
        if np.iscomplexobj(arr):
            raise TypeError("T must be real, got a complex array")
        arr = arr.astype(np.float64)
        if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError("T must have shape (n_tokens, n_states, n_states) with "
                             f"n_tokens, n_states >= 1; got shape {arr.shape}")
        bad = np.argwhere(~np.isfinite(arr))
        if len(bad):
            x, i, j = bad[0]
            raise ValueError(f"T[{x}, {i}, {j}] = {arr[x, i, j]} is not finite")
        bad = np.argwhere(arr < 0)
        if len(bad):
            x, i, j = bad[0]
            raise ValueError(f"T[{x}, {i}, {j}] = {arr[x, i, j]:.6g} is negative; "
                             "entries are probabilities")
        row_sums = arr.sum(axis=(0, 2))
        off = np.flatnonzero(np.abs(row_sums - 1.0) > ROW_SUM_ATOL)
        if len(off):
            i = off[0]
            raise ValueError(f"row {i} of T.sum(0) sums to {row_sums[i]:.10g}, not 1: from "
                             f"state {i} the probabilities of all (token, next state) "
                             "pairs must add up to 1")
        self._T = arr
        self._T.setflags(write=False)
        self.state_names = self._names(state_names, arr.shape[1], "state_names")
        self.token_names = self._names(token_names, arr.shape[0], "token_names")
        self._stationary: np.ndarray | None = None

    @staticmethod
    def _names(names, n, what) -> tuple[str, ...]:
        if names is None:
            return tuple(str(k) for k in range(n))
        names = tuple(str(s) for s in names)
        if len(names) != n:
            raise ValueError(f"{what} has {len(names)} entries, expected {n}")
        return names

    # ------------------------------------------------------------------ basic facts
    @property
    def T(self) -> np.ndarray:
        """Labelled transition matrices, shape ``(n_tokens, n_states, n_states)`` (read-only)."""
        return self._T

    @property
    def n_tokens(self) -> int:
        return self._T.shape[0]

    @property
    def n_states(self) -> int:
        return self._T.shape[1]

    @property
    def transition_matrix(self) -> np.ndarray:
        """Net state-to-state matrix ``T.sum(0)``, shape ``(n_states, n_states)``."""
        return self._T.sum(axis=0)

    def stationary(self) -> np.ndarray:
        """Stationary distribution ``pi`` with ``pi @ T.sum(0) = pi``, shape ``(n_states,)``.

        Computed by the GTH state-reduction algorithm (Grassmann, Taksar & Heyman 1985) on the
        chain's closed class. GTH uses only the off-diagonal transition probabilities and never
        subtracts, so ``pi`` has a small *relative* error in every entry, however weakly the
        states are coupled (Mess3 at ``x = 1e-13`` gives ``1/3`` to ~1e-15, where a linear
        solve loses 4 digits). Transient states get exactly 0.

        A chain with several closed classes has no unique ``pi``: a
        :class:`ReducibleChainWarning` is issued and the stationary distribution of least
        Euclidean norm is returned (the closed classes' own ``pi_c`` mixed with weights
        proportional to ``1 / |pi_c|^2``). The same warning is issued, but the GTH answer
        kept, when the chain is *numerically* reducible: it would split into several closed
        classes if the net transition probabilities below ``REDUCIBLE_TOL`` were zero, so
        ``pi`` depends on probabilities at the level of rounding errors of the others.
        """
        if self._stationary is None:
            pi = stationary_distribution(self.transition_matrix, self.state_names)
            pi.setflags(write=False)
            self._stationary = pi
        return self._stationary

    # ------------------------------------------------------------------ tokens
    def check_tokens(self, tokens, *, min_length: int = 0) -> tuple[np.ndarray, bool]:
        """Validate token sequences and return them as an ``int64`` array of shape ``(n, L)``.

        Accepts one sequence (1-D) or a batch (2-D). Returns ``(array_2d, was_1d)``.
        Raises ``TypeError`` for non-integer input and ``ValueError`` for out-of-range
        tokens or sequences shorter than ``min_length``.
        """
        try:
            arr = np.asarray(tokens)
        except ValueError as err:  # numpy refuses ragged nested lists
            raise TypeError("tokens must be integers in a rectangular array; got a ragged "
                            "sequence (batch sequences must share one length)") from err
        if arr.dtype == object:
            raise TypeError("tokens must be integers; got a ragged or non-numeric sequence")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)):
                raise TypeError("tokens must be an integer array, got floats; "
                                "convert with .astype(int)")
            raise TypeError(f"tokens must be integers, got dtype {arr.dtype}")
        was_1d = arr.ndim == 1
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ValueError("tokens must have shape (length,) or (n_sequences, length); "
                             f"got shape {np.shape(tokens)}")
        if arr.shape[1] < min_length:
            raise ValueError(f"sequences must have length >= {min_length}, got {arr.shape[1]}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_tokens):
            bad = arr[(arr < 0) | (arr >= self.n_tokens)][0]
            raise ValueError(f"token {bad} out of range: this HMM has tokens "
                             f"0..{self.n_tokens - 1} ({', '.join(self.token_names)})")
        return arr, was_1d

    # ------------------------------------------------------------------ forward pass
    def forward(self, tokens, prior=None) -> tuple[np.ndarray, np.ndarray]:
        """Normalised forward (filtering) pass over a batch.

        Returns ``(beliefs, step_probs)``: ``beliefs`` has shape ``(n, L+1, n_states)`` with
        ``beliefs[:, 0] = prior`` (default ``pi``) and ``beliefs[:, t]`` the belief after the
        first ``t`` tokens; ``step_probs[:, t] = P(x_{t+1} | x_1..x_t)``, shape ``(n, L)``.
        Renormalising at every step keeps long sequences free of underflow. A step of
        probability zero leaves NaN in ``beliefs`` and 0 in ``step_probs``; callers decide
        whether that is an error.
        """
        arr, _ = self.check_tokens(tokens)
        n, L = arr.shape
        eta = self._prior(prior, n)
        beliefs = np.empty((n, L + 1, self.n_states))
        step_probs = np.empty((n, L))
        beliefs[:, 0] = eta
        T = self._T
        for t in range(L):
            # unnormalised next belief: eta @ T[x_t], batched over sequences
            nxt = np.einsum("ni,nij->nj", eta, T[arr[:, t]])
            p = nxt.sum(axis=1)
            step_probs[:, t] = p
            with np.errstate(invalid="ignore", divide="ignore"):
                eta = nxt / p[:, None]
            beliefs[:, t + 1] = eta
        return beliefs, step_probs

    def _prior(self, prior, n: int) -> np.ndarray:
        if prior is None:
            return np.broadcast_to(self.stationary(), (n, self.n_states)).copy()
        prior = np.asarray(prior, dtype=np.float64)
        if prior.shape[-1] != self.n_states:
            raise ValueError(f"prior must have {self.n_states} entries, got shape {prior.shape}")
        if np.any(prior < 0) or not np.allclose(prior.sum(-1), 1.0, atol=1e-8):
            raise ValueError("prior must be a probability vector (non-negative, sums to 1)")
        return np.broadcast_to(prior, (n, self.n_states)).copy()

    def log_probability(self, tokens, prior=None):
        """Natural log of ``P(tokens)``; a float for one sequence, shape ``(n,)`` for a batch.

        Impossible sequences give ``-inf`` (not an error: it is the right answer).
        """
        arr, was_1d = self.check_tokens(tokens)
        _, step_probs = self.forward(arr, prior)
        with np.errstate(divide="ignore"):
            logp = np.log(step_probs)
        # after an impossible step later steps are NaN; the total is -inf regardless
        logp = np.where(np.isnan(logp), -np.inf, logp)
        out = logp.sum(axis=1)
        out = np.where(np.any(step_probs == 0, axis=1), -np.inf, out)
        return float(out[0]) if was_1d else out

    def probability(self, tokens, prior=None):
        """``P(tokens)`` from the stationary start; a float or shape ``(n,)`` array.

        Computed as ``exp(log_probability)``, so it is accurate (no underflow to a wrong
        value) until the true probability itself is below ~1e-308.
        """
        logp = self.log_probability(tokens, prior)
        return float(np.exp(logp)) if np.ndim(logp) == 0 else np.exp(logp)

    # ------------------------------------------------------------------ sampling
    def lag_agreement(self, max_lag: int) -> np.ndarray:
        """Exact ``P(x_{t+k} = x_t)`` for ``k = 1..max_lag`` in the stationary process:
        ``sum_x pi T^(x) T^(k-1) T^(x) 1`` (``T`` the net matrix). For Mess3 this is
        ``1/3 + (alpha^2 + 2 beta^2 - 1/3) zeta^k`` with ``zeta = 1 - 3x``."""
        max_lag = _positive_int(max_lag, "max_lag")
        left = np.einsum("i,aij->aj", self.stationary(), self.T)   # pi T^(x), a row per token
        right = self.T.sum(axis=2)                                   # T^(x) 1
        out = np.empty(max_lag)
        for k in range(max_lag):
            out[k] = float(np.einsum("aj,aj->", left, right))
            left = left @ self.transition_matrix
        return out

    def sample(self, n_sequences: int, length: int, seed=None, prior=None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Sample ``n_sequences`` independent sequences of ``length`` tokens.

        Returns ``(tokens, states)``: ``tokens`` shape ``(n_sequences, length)`` int64;
        ``states`` shape ``(n_sequences, length + 1)`` where ``states[:, 0]`` is drawn from
        ``prior`` (default ``pi``) and ``states[:, t + 1]`` is the state entered on emitting
        ``tokens[:, t]``. Vectorised over sequences; ``seed`` is anything accepted by
        ``numpy.random.default_rng``.
        """
        n_sequences = _positive_int(n_sequences, "n_sequences")
        length = _positive_int(length, "length", allow_zero=True)
        rng = np.random.default_rng(seed)
        p0 = self._prior(prior, 1)[0]
        S, X = self.n_states, self.n_tokens
        # joint (token, next state) distribution for each current state, flattened
        joint = self._T.transpose(1, 0, 2).reshape(S, X * S)
        cdf = np.cumsum(joint, axis=1)
        cdf /= cdf[:, -1:]
        states = np.empty((n_sequences, length + 1), dtype=np.int64)
        tokens = np.empty((n_sequences, length), dtype=np.int64)
        states[:, 0] = rng.choice(S, size=n_sequences, p=p0)
        u = rng.random((n_sequences, length))
        for t in range(length):
            c = cdf[states[:, t]]
            k = (u[:, t, None] > c).sum(axis=1)
            k = np.minimum(k, X * S - 1)
            tokens[:, t], states[:, t + 1] = np.divmod(k, S)
        return tokens, states

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        lines = [f"HMM(n_states={self.n_states}, n_tokens={self.n_tokens}, "
                 f"states={list(self.state_names)}, tokens={list(self.token_names)})"]
        with np.printoptions(precision=4, suppress=True):
            for x, name in enumerate(self.token_names):
                body = np.array2string(self._T[x], prefix="    ")
                lines.append(f"  T[{name!r}] =\n    {body}")
        return "\n".join(lines)


def closed_classes(P: np.ndarray, tol: float = 0.0) -> list[np.ndarray]:
    """Closed communicating classes of the chain ``P`` (shape ``(n, n)``), counting only
    transitions ``P[i, j] > tol``; each class is a sorted index array. States in no closed
    class are transient."""
    rows, cols = np.nonzero(P > tol)
    return graph_closed_classes(P.shape[0], rows, cols)


def graph_closed_classes(n: int, rows: np.ndarray, cols: np.ndarray) -> list[np.ndarray]:
    """Closed classes (strongly connected components with no edge leaving them) of the
    directed graph on ``n`` nodes with edges ``rows[k] -> cols[k]``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    n_comp, label = connected_components(graph, directed=True, connection="strong")
    closed = np.ones(n_comp, dtype=bool)
    cross = label[rows] != label[cols]
    closed[np.unique(label[rows[cross]])] = False
    return sorted((np.flatnonzero(label == c) for c in np.flatnonzero(closed)),
                  key=lambda members: members[0])


def gth_stationary(P: np.ndarray) -> np.ndarray:
    """Stationary distribution of an irreducible stochastic matrix ``P`` (shape ``(n, n)``)
    by GTH state reduction: censor the last state, fold its transitions into the others
    (``P[i, j] += P[i, n] P[n, j] / s_n`` with ``s_n = sum_{j<n} P[n, j]``), repeat, then
    back-substitute. Only off-diagonal entries are read and nothing is subtracted, so every
    entry of the result has a small relative error."""
    A = np.array(P, dtype=np.float64)
    n = A.shape[0]
    for k in range(n - 1, 0, -1):
        s = A[k, :k].sum()
        A[:k, k] /= s
        A[:k, :k] += np.outer(A[:k, k], A[k, :k])
    x = np.zeros(n)
    x[0] = 1.0
    for j in range(1, n):
        x[j] = x[:j] @ A[:j, j]
    return x / x.sum()


def stationary_distribution(P: np.ndarray, state_names=None) -> np.ndarray:
    """``pi`` with ``pi @ P = pi`` for a row-stochastic ``P`` (see :meth:`HMM.stationary`)."""
    n = P.shape[0]
    names = list(state_names) if state_names is not None else [str(i) for i in range(n)]
    classes = closed_classes(P)

    def label(members):
        return "{" + ", ".join(names[i] for i in members) + "}"

    pi = np.zeros(n)
    if len(classes) > 1:
        parts = [gth_stationary(P[np.ix_(c, c)]) for c in classes]
        weights = np.array([1.0 / (p @ p) for p in parts])
        for c, p, w in zip(classes, parts, weights / weights.sum()):
            pi[c] = w * p
        warnings.warn(f"the hidden chain is reducible: closed classes "
                      f"{', '.join(label(c) for c in classes)} never reach each other, so its "
                      "stationary distribution is not unique; returning the one of least norm",
                      ReducibleChainWarning, stacklevel=3)
        return pi
    (members,) = classes
    pi[members] = gth_stationary(P[np.ix_(members, members)])
    weak = closed_classes(P, REDUCIBLE_TOL)
    if len(weak) > 1:
        warnings.warn(f"the hidden chain is numerically reducible: closed classes "
                      f"{', '.join(label(c) for c in weak)} are linked only by transition "
                      f"probabilities below {REDUCIBLE_TOL:.1e}, so pi depends on numbers at "
                      "the level of rounding errors (it is exact for the matrix as given)",
                      ReducibleChainWarning, stacklevel=3)
    return pi


def _positive_int(value, name: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else ">= 1"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)
