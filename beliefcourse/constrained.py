"""The constrained belief update of Piotrowski et al. (2025), in numpy.

Exact filtering is a recurrence, ``eta_d ∝ eta_{d-1} T^(z_d)``. One attention layer cannot
run a recurrence: it can only *add up* what each past token contributes, with weights that
depend on the distance. Paper (b)'s ansatz lets every token act alone: condition once on
token ``z_s`` starting from the stationary ``pi``, let the hidden chain run ``d - s`` steps
without observations, and add the deviations from ``pi``:

    r_d = pi + sum_{s=1..d} (pi^(z_s) T^(d-s) - pi) = pi + sum_s u_{z_s} T^(d-s),

with ``pi^(z) = pi T^(z) / (pi T^(z) 1)`` (Bayes from ``pi``), ``u_z = pi^(z) - pi`` and
``T = sum_z T^(z)``. With the spectral decomposition ``T = 1 pi + sum_k lambda_k P_k``
(:func:`spectrum`), ``u_z T^n = sum_k lambda_k^n u_z P_k`` because ``u_z 1 = 0``. For Mess3,
``T = zeta I + (1 - zeta) 1 pi`` with ``zeta = 1 - 3x``, so ``u_z T^n = zeta^n u_z`` and

    r_d = pi + sum_s zeta^(d-s) u_{z_s}:

a weighted sum over positions with geometrically decaying weights — exactly what an
attention head can compute (attention ∝ |zeta|^(d-s), OV vector ∝ u_z). Written as a
recursion, ``r_d - pi = (r_{d-1} - pi) T + u_{z_d}``: a *linear* iterated function system,
while exact Bayes is a projective (normalised) one.

Everything here works on the prefix tree of all words up to length ``L``
(:func:`prefix_tree`): level ``d`` holds the ``X**d`` words of length ``d`` in lexicographic
order. "All positions of all length-L words, each counted once" (the authors' convention)
is the tree with node weights = number of positive-probability length-``L`` continuations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hmm import HMM

_TOL = 1e-9


# ---------------------------------------------------------------------------- spectrum
@dataclass(frozen=True)
class Spectrum:
    """Spectral decomposition ``T = sum_k eigenvalues[k] * projectors[k]``.

    eigenvalues : complex ``(K,)``, distinct, sorted by decreasing modulus (then real part);
        ``eigenvalues[0] = 1`` for a stochastic matrix of an ergodic chain.
    projectors : complex ``(K, S, S)``; ``P_k P_l = delta_kl P_k``, ``sum_k P_k = I``.
    multiplicities : int ``(K,)``, the rank of each projector.
    """

    eigenvalues: np.ndarray
    projectors: np.ndarray
    multiplicities: np.ndarray

    @property
    def is_real(self) -> bool:
        """True when every eigenvalue is real."""
        return bool(np.all(np.abs(self.eigenvalues.imag) < 1e-9))


def _net_matrix(hmm_or_T) -> np.ndarray:
    if isinstance(hmm_or_T, HMM):
        return hmm_or_T.transition_matrix
    T = np.asarray(hmm_or_T, dtype=np.float64)
    if T.ndim == 3:
        T = T.sum(axis=0)
    if T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ValueError(f"need an HMM, labelled matrices (X, S, S) or a square net matrix; "
                         f"got shape {T.shape}")
    return T


def spectrum(hmm_or_T, tol: float = 1e-8) -> Spectrum:
    """Eigenvalues and spectral projectors of the net transition matrix ``T = sum_z T^(z)``.

    Accepts an :class:`~beliefcourse.hmm.HMM`, labelled matrices ``(X, S, S)`` or ``T (S, S)``.
    Eigenvalues closer than ``tol`` are merged into one projector (Mess3's double ``zeta``).
    ``P_k = sum_{i in k} r_i l_i`` with right eigenvectors ``r_i`` (columns of ``V``) and left
    eigenvectors ``l_i`` (rows of ``V^-1``). Raises ``ValueError`` if ``T`` is not
    diagonalisable (then projectors do not exist; nilpotent parts need Jordan blocks).
    """
    T = _net_matrix(hmm_or_T)
    values, V = np.linalg.eig(T)
    if np.linalg.cond(V) > 1e10:
        raise ValueError("T is not diagonalisable (its eigenvectors are linearly dependent); "
                         "spectral projectors do not exist")
    W = np.linalg.inv(V)
    groups: list[list[int]] = []
    # sort by modulus, then real part, then imaginary part, each rounded so that rounding noise
    # (RRXOR's |e^(2 pi i/3)| = 1 - 1e-16 on one CPU, 1 + 1e-16 on another) cannot reorder ties
    key = np.round(np.abs(values), 9), np.round(values.real, 9), np.round(values.imag, 9)
    for i in np.lexsort((-key[2], -key[1], -key[0])):
        for g in groups:
            if abs(values[g[0]] - values[i]) < tol:
                g.append(i)
                break
        else:
            groups.append([i])
    eig = np.array([values[g].mean() for g in groups])
    proj = np.array([V[:, g] @ W[g, :] for g in groups])
    return Spectrum(eigenvalues=eig, projectors=proj,
                    multiplicities=np.array([len(g) for g in groups]))


def zeta(hmm_or_T) -> complex | float:
    """The sub-leading eigenvalue of ``T``: the largest in modulus after the eigenvalue 1.

    Returned as a float when it is real (``1 - 3x`` for Mess3), else as a complex number.
    """
    eig = spectrum(hmm_or_T).eigenvalues
    rest = eig[np.abs(eig - 1) > 1e-9]
    if rest.size == 0:
        raise ValueError("T has no eigenvalue other than 1")
    value = rest[0]
    return float(value.real) if abs(value.imag) < 1e-9 else complex(value)


def heads_needed(hmm_or_T) -> int:
    """Softmax heads the constrained update needs, read off the spectrum of ``T``.

    A head's attention weights are positive and (for this ansatz) decay geometrically with
    distance, so each distinct non-zero eigenvalue ``lambda`` with ``|lambda| < 1`` needs
    one head if ``lambda > 0`` (weights ``lambda^n``) and two if ``lambda < 0`` (``|lambda|^n``
    on even distances with one OV sign, on odd distances with the other). Eigenvalue 0 only
    affects distance 0, which the residual stream already carries. Raises ``ValueError`` for
    complex eigenvalues (oscillating weights: the ansatz has no head for them) and for
    other eigenvalues of modulus 1 (no decay: the chain is periodic or not ergodic).
    """
    eig = spectrum(hmm_or_T).eigenvalues
    eig = eig[np.abs(eig - 1) > 1e-9]
    if np.any(np.abs(eig.imag) > 1e-9):
        raise ValueError(f"T has complex eigenvalues {np.round(eig[np.abs(eig.imag) > 1e-9], 4)}"
                         ": their contribution oscillates with distance and no positive, "
                         "geometrically decaying attention pattern can produce it")
    eig = eig.real
    if np.any(np.abs(np.abs(eig) - 1) < 1e-9):
        raise ValueError("T has another eigenvalue of modulus 1: the chain never forgets, so "
                         "there is no decay for attention to follow")
    nonzero = eig[np.abs(eig) > 1e-9]
    return int(np.sum(np.where(nonzero > 0, 1, 2)))


# ---------------------------------------------------------------------------- one-token updates
def stationary(hmm: HMM) -> np.ndarray:
    """``pi (S,)`` of the HMM (validated)."""
    if not isinstance(hmm, HMM):
        raise TypeError(f"hmm must be a beliefcourse.hmm.HMM, got {type(hmm).__name__}")
    return hmm.stationary()


def token_updates(hmm: HMM) -> np.ndarray:
    """``u (X, S)``: ``u[z] = pi^(z) - pi``, the Bayes update of ``pi`` on token ``z`` minus ``pi``.

    ``pi^(z) = pi T^(z) / (pi T^(z) 1)``. Each row sums to 0. For Mess3,
    ``u[A] = (3 alpha - 1) / 6 * (2, -1, -1)``: towards A's vertex if ``alpha > 1/3``, away
    from it if ``alpha < 1/3``. Tokens of probability 0 under ``pi`` raise ``ValueError``.
    """
    pi = stationary(hmm)
    post = np.einsum("s,zst->zt", pi, hmm.T)
    norm = post.sum(axis=1, keepdims=True)
    if np.any(norm <= 0):
        raise ValueError("a token has probability 0 from pi; its update is undefined")
    return post / norm - pi


def constrained_update(hmm: HMM, tokens, rate: float | None = None,
                       normalise: bool = False) -> np.ndarray:
    """The constrained update ``r`` after each prefix of ``tokens``.

    Parameters
    ----------
    hmm : HMM
    tokens : int array ``(N, L)`` or ``(L,)``
    rate : float, optional
        ``None`` propagates deviations with ``T^(d-s)`` (the general ansatz); a number uses
        ``rate^(d-s)`` (for Mess3, ``rate = zeta`` gives the same ``r``).
    normalise : bool
        Divide the summed deviations at position ``d`` by ``N_d = sum_{k<d} |rate|^k``, as a
        softmax head must (its weights sum to 1). Needs a numeric ``rate``.

    Returns
    -------
    r : ``(N, L, S)`` (or ``(L, S)``); ``r[:, d-1]`` is ``r`` after the first ``d`` tokens,
    aligned with ``belief_trajectories(hmm, tokens)[:, 1:]``.
    """
    tokens = np.asarray(tokens)
    single = tokens.ndim == 1
    tokens = np.atleast_2d(tokens)
    hmm.check_tokens(tokens)
    if normalise and rate is None:
        raise ValueError("normalise=True needs a numeric rate (the softmax normalisation "
                         "N_d = sum_k |rate|^k)")
    u = token_updates(hmm)
    pi = hmm.stationary()
    N, L = tokens.shape
    step = hmm.transition_matrix if rate is None else float(rate) * np.eye(hmm.n_states)
    dev = np.zeros((N, hmm.n_states))
    out = np.empty((N, L, hmm.n_states))
    for d in range(L):
        dev = dev @ step + u[tokens[:, d]]
        out[:, d] = dev
    if normalise:
        out /= np.cumsum(np.abs(float(rate)) ** np.arange(L))[None, :, None]
    out += pi
    return out[0] if single else out


# ---------------------------------------------------------------------------- prefix tree
@dataclass(frozen=True)
class PrefixTree:
    """Every word of length ``1..L`` (level ``d`` in lexicographic order), flattened.

    depth : int ``(M,)`` word length of each node; tokens of a node are implied by its index.
    probs : ``(M,)`` word probability. beliefs : ``(M, S)`` exact belief after the word
    (``pi`` where the probability is 0). words : ``(M,)`` weight = number of positive-
    probability length-``L`` words that extend it ("every position of every word once").
    last_token : int ``(M,)``. parent : int ``(M,)`` index of the node without the last token
    (``-1`` at depth 1).
    """

    hmm: HMM
    L: int
    depth: np.ndarray
    probs: np.ndarray
    beliefs: np.ndarray
    words: np.ndarray
    last_token: np.ndarray
    parent: np.ndarray

    def weights(self, weighting: str = "words") -> np.ndarray:
        """Node weights: ``"words"`` (each position of each length-L word once, the authors'
        convention) or ``"prob"`` (prefix probability, i.e. the process's own weighting)."""
        if weighting == "words":
            return self.words
        if weighting == "prob":
            return self.probs
        raise ValueError(f"weighting must be 'words' or 'prob', got {weighting!r}")


def prefix_tree(hmm: HMM, L: int = 10) -> PrefixTree:
    """Build the :class:`PrefixTree` of all words up to length ``L`` (``X + ... + X**L`` nodes)."""
    if not isinstance(hmm, HMM):
        raise TypeError(f"hmm must be a beliefcourse.hmm.HMM, got {type(hmm).__name__}")
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or not 1 <= L <= 14:
        raise ValueError(f"L must be an integer in 1..14 (3**14 words is plenty), got {L!r}")
    X = hmm.n_tokens
    pi = hmm.stationary()
    depth, probs, beliefs, last, parent = [], [], [], [], []
    vec = pi[None, :]                                      # unnormalised forward vectors
    offset_prev = -1
    offset = 0
    for d in range(1, L + 1):
        vec = np.einsum("ns,zst->nzt", vec, hmm.T).reshape(-1, hmm.n_states)
        p = vec.sum(axis=1)
        safe = np.where(p > 0, p, 1.0)
        bel = np.where((p > 0)[:, None], vec / safe[:, None], pi)
        n = len(p)
        depth.append(np.full(n, d))
        probs.append(p)
        beliefs.append(bel)
        last.append(np.tile(np.arange(X), n // X))
        parent.append(np.full(n, -1) if d == 1 else offset_prev + np.arange(n) // X)
        offset_prev, offset = offset, offset + n
    depth, probs = np.concatenate(depth), np.concatenate(probs)
    # words: a level-L node counts 1 if positive; a parent counts the sum of its children
    words = np.zeros_like(probs)
    starts = np.concatenate([[0], np.cumsum([X ** d for d in range(1, L + 1)])])
    level = (probs[starts[L - 1]:starts[L]] > 0).astype(float)
    words[starts[L - 1]:starts[L]] = level
    for d in range(L - 1, 0, -1):
        level = level.reshape(-1, X).sum(axis=1)
        words[starts[d - 1]:starts[d]] = level
    return PrefixTree(hmm=hmm, L=L, depth=depth, probs=probs,
                      beliefs=np.concatenate(beliefs), words=words,
                      last_token=np.concatenate(last), parent=np.concatenate(parent))


def tree_update(tree: PrefixTree, rate: float | None = None,
                normalise: bool = False) -> np.ndarray:
    """:func:`constrained_update` at every node of ``tree``: ``r (M, S)``."""
    if normalise and rate is None:
        raise ValueError("normalise=True needs a numeric rate")
    hmm = tree.hmm
    u = token_updates(hmm)
    step = hmm.transition_matrix if rate is None else float(rate) * np.eye(hmm.n_states)
    dev = np.zeros((len(tree.depth), hmm.n_states))
    X = hmm.n_tokens
    start = 0
    for d in range(1, tree.L + 1):
        n = X ** d
        sl = slice(start, start + n)
        prev = dev[tree.parent[sl]] @ step if d > 1 else 0.0
        dev[sl] = prev + u[tree.last_token[sl]]
        start += n
    if normalise:
        dev /= np.cumsum(np.abs(float(rate)) ** np.arange(tree.L))[tree.depth - 1][:, None]
    return dev + hmm.stationary()


def affine_fit(features, targets, weights=None) -> tuple[np.ndarray, float]:
    """Best (weighted least-squares) affine map ``features (M, D) -> targets (M, S)``, in-sample.

    Returns ``(predictions (M, S), R²)`` with THE R² of the course
    (:func:`beliefcourse.probing.r2`, pooled over coordinates, weights ``weights``).
    Zero-weight points do not count in the fit or the score (they still get predictions).
    Solved by the normal equations with a pseudo-inverse, so collinear features (``r`` sums
    to 1) are fine.
    """
    from .probing.metrics import r2

    X = np.asarray(features, dtype=np.float64)
    Y = np.asarray(targets, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"features must be (M, D) and targets (M, S); got {X.shape}, {Y.shape}")
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(X),) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be (M,), non-negative, with a positive sum")
    A = np.hstack([X, np.ones((len(X), 1))])
    Aw = A * w[:, None]
    coef = np.linalg.pinv(Aw.T @ A, rcond=1e-12, hermitian=True) @ (Aw.T @ Y)
    pred = A @ coef
    keep = w > 0
    return pred, r2(Y[keep], pred[keep], sample_weight=w[keep])


def affine_fit_r2(features, targets, weights=None) -> float:
    """R² of :func:`affine_fit` (the best affine map ``features -> targets``)."""
    return affine_fit(features, targets, weights)[1]


def update_r2(tree: PrefixTree, rate: float | None = None, normalise: bool = False,
              weighting: str = "words", per_position: bool = False) -> float:
    """R² of the best affine map from the constrained update ``r`` to the exact belief ``eta``
    over every node of ``tree`` (every position of every length-L word).

    ``per_position=True`` fits a separate affine map at each word length (position) and pools
    the residuals: THE R² with every node's residual from its own position's map, against the
    variance of ``eta`` about its overall mean. (A per-position scale is then free, so
    ``normalise`` changes nothing.)
    """
    from .probing.metrics import r2

    feats = tree_update(tree, rate, normalise)
    w = tree.weights(weighting)
    if not per_position:
        return affine_fit_r2(feats, tree.beliefs, w)
    pred = np.empty_like(tree.beliefs)
    for d in range(1, tree.L + 1):
        at = tree.depth == d
        pred[at] = affine_fit(feats[at], tree.beliefs[at], w[at])[0]
    keep = w > 0
    return r2(tree.beliefs[keep], pred[keep], sample_weight=w[keep])


@dataclass(frozen=True)
class RateFit:
    """Best single decay rate: ``rate`` (r*) maximises ``r2``; ``rates``/``r2s`` is the scan."""

    rate: float
    r2: float
    rates: np.ndarray
    r2s: np.ndarray


def best_rate(tree: PrefixTree, normalise: bool = False, weighting: str = "words",
              n_grid: int = 21, n_refine: int = 14, per_position: bool = False,
              bounds: tuple[float, float] = (-0.99, 0.99)) -> RateFit:
    """r*: the scalar rate in ``[-0.99, 0.99]`` whose constrained update fits ``eta`` best
    (R² of :func:`update_r2` with the same ``normalise``, ``weighting``, ``per_position``).

    A grid of ``n_grid`` rates over ``bounds``, then ``n_refine`` golden-section steps around
    the best one. r* depends on these conventions (chapter 07 quotes the band they span).
    """
    lo_b, hi_b = (float(b) for b in bounds)
    if not -1 < lo_b < hi_b < 1:
        raise ValueError(f"bounds must satisfy -1 < low < high < 1, got {bounds}")
    rates = np.linspace(lo_b, hi_b, n_grid)
    r2s = np.array([update_r2(tree, r, normalise, weighting, per_position) for r in rates])
    i = int(np.argmax(r2s))
    lo, hi = rates[max(i - 1, 0)], rates[min(i + 1, n_grid - 1)]
    g = (np.sqrt(5) - 1) / 2
    f = {}

    def score(r):
        if r not in f:
            f[r] = update_r2(tree, r, normalise, weighting, per_position)
        return f[r]

    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    for _ in range(n_refine):
        if score(a) > score(b):
            hi, b = b, a
            a = hi - g * (hi - lo)
        else:
            lo, a = a, b
            b = lo + g * (hi - lo)
    best = max([rates[i], a, b], key=score)
    return RateFit(rate=float(best), r2=float(score(best)), rates=rates, r2s=r2s)


# ---------------------------------------------------------------------------- maps
@dataclass(frozen=True)
class ParameterMaps:
    """Analytic maps over Mess3's ``(x, alpha)`` square (arrays ``(len(alphas), len(xs))``).

    zeta = 1 - 3x; r2_zeta = R²(r with rate zeta -> eta); rate_star = r*; r2_star = its R²;
    orientation = sign(3 alpha - 1) (+1: u_z points to z's vertex).
    """

    xs: np.ndarray
    alphas: np.ndarray
    zeta: np.ndarray
    r2_zeta: np.ndarray
    rate_star: np.ndarray
    r2_star: np.ndarray
    orientation: np.ndarray


def mess3_maps(xs, alphas, L: int = 8, normalise: bool = False,
               weighting: str = "words") -> ParameterMaps:
    """Compute :class:`ParameterMaps` on the grid ``xs × alphas`` with words up to length ``L``.

    Points with ``alpha = 1/3`` (no information in tokens) or ``x = 1/3`` (no memory) give
    NaN R² (r is constant); ``x = 0`` is not ergodic and is rejected.
    """
    from .processes import mess3

    xs, alphas = np.asarray(xs, float), np.asarray(alphas, float)
    if np.any(xs <= 0) or np.any(xs > 0.5) or np.any(alphas < 0) or np.any(alphas > 1):
        raise ValueError("need 0 < x <= 1/2 (x = 0 is not ergodic) and 0 <= alpha <= 1")
    shape = (len(alphas), len(xs))
    out = {k: np.full(shape, np.nan) for k in ("r2_zeta", "rate_star", "r2_star")}
    for i, a in enumerate(alphas):
        for j, x in enumerate(xs):
            if abs(3 * a - 1) < 1e-9 or abs(3 * x - 1) < 1e-9:
                continue
            tree = prefix_tree(mess3(x, a), L)
            out["r2_zeta"][i, j] = update_r2(tree, 1 - 3 * x, normalise, weighting)
            fit = best_rate(tree, normalise, weighting, n_grid=21, n_refine=12)
            out["rate_star"][i, j], out["r2_star"][i, j] = fit.rate, fit.r2
    X, A = np.meshgrid(xs, alphas)
    return ParameterMaps(xs=xs, alphas=alphas, zeta=1 - 3 * X, orientation=np.sign(3 * A - 1),
                         **out)
