"""In-context learning as belief updating over worlds: the loss curve of a mixture.

For a :class:`~beliefcourse.mixture.Mixture` with component ``K`` and tokens ``X_1, X_2, ..``
(nats throughout; position ``t`` is the token predicted, from the ``t - 1`` before it):

* **Bayes loss** ``bayes(t) = H(X_t | X_<t)``: the best loss of a predictor that must infer the
  component from the context: the myopic entropy of the mixture process.
* **Oracle loss** ``oracle(t) = H(X_t | X_<t, K) = sum_k w_k h_k(t)``, with ``h_k`` component
  ``k``'s own myopic entropy: the best loss of a predictor told the component.
* **Gap** ``gap(t) = bayes(t) - oracle(t) = I(K; X_t | X_<t) >= 0``: what not knowing the
  world costs at position ``t``; it is what in-context learning removes.

The gaps add up to the information the context carries about the component. By the chain
rule of entropy ``H(X_1..X_L) = sum_t H(X_t | X_<t) = sum_t bayes(t)`` and likewise, given
``K``, ``H(X_1..X_L | K) = sum_t oracle(t) = sum_k w_k sum_t h_k(t)``. Subtracting::

    sum_{t=1}^{L} gap(t) = H(X_1..X_L) - H(X_1..X_L | K) = I(K; X_1..X_L)
                         = H(K) - H(K | X_1..X_L) <= H(K) = H(w).

So the total in-context improvement is bounded by the entropy of the weights, and it reaches
``H(w)`` exactly when a long context identifies the component. Each gap is computed here
as ``sum_u P(u) sum_k m_k(u) KL(P_k(. | u) || P(. | u))`` (a sum of non-negative terms, so a
gap of 1e-10 keeps its digits), which equals ``I(K; X_t | X_<t)`` because the Bayes
predictor is the meta-belief average ``P(. | u) = sum_k m_k(u) P_k(. | u)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hmm import _positive_int
from .mixture import Mixture


def _entropy_rows(P: np.ndarray) -> np.ndarray:
    return -(P * np.log(np.where(P > 0, P, 1.0))).sum(axis=-1)


def _kl_to_mixture(comp_pred: np.ndarray, mix_pred: np.ndarray) -> np.ndarray:
    """``KL(P_k || P)`` for each component, comp_pred (..., K, X), mix_pred (..., X)."""
    ratio = np.where(comp_pred > 0, comp_pred, 1.0) / np.where(mix_pred > 0, mix_pred, 1.0)[
        ..., None, :]
    return np.maximum((comp_pred * np.log(ratio)).sum(axis=-1), 0.0)   # KL >= 0: clip rounding


def _check_mixture(mix) -> Mixture:
    if not isinstance(mix, Mixture):
        raise TypeError(f"expected a Mixture (beliefcourse.mixture.mixture), got "
                        f"{type(mix).__name__}")
    return mix


@dataclass(frozen=True, eq=False)
class InContextCurve:
    """Per-position losses of a mixture, in nats; arrays of shape ``(L,)`` over ``positions``.

    Attributes
    ----------
    positions : int array, ``1 .. L``: the token predicted (from the ``t - 1`` before it).
    bayes, oracle, gap : float arrays
        ``H(X_t | X_<t)``, ``H(X_t | X_<t, K)`` and their difference ``I(K; X_t | X_<t)``.
    weights : float array (K,)
    method : str
        ``"exact enumeration"`` or how the sampled estimate was made.
    per_component : float array (K, L) or None
        Each component's own myopic entropy ``h_k(t)`` (exact curves only).
    bayes_se, oracle_se, gap_se : float arrays or None
        Standard errors of the mean over sampled sequences (sampled curves only).
    n_sequences : int or None
        Sequences averaged (sampled curves only).
    """

    positions: np.ndarray
    bayes: np.ndarray
    oracle: np.ndarray
    gap: np.ndarray
    weights: np.ndarray
    method: str
    per_component: np.ndarray | None = None
    bayes_se: np.ndarray | None = None
    oracle_se: np.ndarray | None = None
    gap_se: np.ndarray | None = None
    n_sequences: int | None = None

    @property
    def information(self) -> np.ndarray:
        """``I(K; X_1..X_t)`` for ``t = 1 .. L``: the running sum of the gaps."""
        return np.cumsum(self.gap)

    @property
    def prior_entropy(self) -> float:
        """``H(w)``, the most the context can ever tell about the component."""
        return float(_entropy_rows(self.weights))


def _context_levels(mix: Mixture, max_depth: int, max_contexts: int, what: str):
    """Yield ``(depth, eta (N, K, S_max), joint (N, K))`` for ``depth = 0 .. max_depth``:
    every context ``u`` of ``depth`` tokens with positive probability, each component's belief
    after it and ``joint[n, k] = P(K = k, u) = w_k P_k(u)``. Breadth-first; raises
    ``ValueError`` if a level would hold more than ``max_contexts`` contexts."""
    K, X, S = mix.n_components, mix.n_tokens, mix._pi.shape[1]
    flat = mix._T.transpose(0, 2, 1, 3).reshape(K, S, X * S)  # flat[k, i, x*S + j]
    eta = mix._pi[None].copy()
    joint = np.asarray(mix.weights)[None].copy()
    for depth in range(max_depth + 1):
        yield depth, eta, joint
        if depth == max_depth:
            return
        if len(joint) * X > max_contexts:
            raise ValueError(f"{what} needs every context of {max_depth} tokens, but at "
                             f"{depth + 1} tokens there are already {len(joint) * X:,} "
                             f"(max_contexts={max_contexts:,}); use a shorter length, "
                             "sampled_incontext_loss, or raise max_contexts")
        nxt = np.stack([eta[:, k] @ flat[k] for k in range(K)], axis=1)   # (N, K, X*S)
        nxt = nxt.reshape(-1, K, X, S).transpose(0, 2, 1, 3).reshape(-1, K, S)
        p = nxt.sum(axis=2)                                  # (N*X, K): P_k(x | u)
        alive = p > 0
        eta = np.where(alive[..., None], nxt / np.where(alive, p, 1.0)[..., None], 0.0)
        joint = (joint[:, None, :] * p.reshape(-1, X, K)).reshape(-1, K)
        keep = joint.sum(axis=1) > 0
        eta, joint = eta[keep], joint[keep]


def incontext_loss(mix: Mixture, length: int, max_contexts: int = 2_000_000
                   ) -> InContextCurve:
    """The exact in-context loss curve for positions ``1 .. length``, by enumeration.

    Every context of ``0 .. length - 1`` tokens is expanded breadth-first, carrying each
    component's belief and the joint probability ``P(k, u) = w_k P_k(u)``; the Bayes and
    oracle losses and the gap are the ``P(u)``-weighted averages described in the module
    docstring. Cost: ``n_tokens ** (length - 1)`` contexts (a two-component Mess3 mixture
    at length 13 has 531,441: seconds). Raises ``ValueError`` beyond ``max_contexts``.
    """
    mix = _check_mixture(mix)
    length = _positive_int(length, "length")
    max_contexts = _positive_int(max_contexts, "max_contexts")
    w = np.asarray(mix.weights)
    bayes, oracle, gap = np.empty(length), np.empty(length), np.empty(length)
    per_comp = np.empty((mix.n_components, length))
    for depth, eta, joint in _context_levels(mix, length - 1, max_contexts,
                                             f"incontext_loss(length={length})"):
        comp_pred = np.einsum("nki,kxi->nkx", eta, mix._emit)
        p_u = joint.sum(axis=1)
        mix_pred = np.einsum("nk,nkx->nx", joint / p_u[:, None], comp_pred)
        h_comp = joint * _entropy_rows(comp_pred)            # (N, K)
        bayes[depth] = p_u @ _entropy_rows(mix_pred)
        per_comp[:, depth] = h_comp.sum(axis=0) / w
        oracle[depth] = float(h_comp.sum())
        gap[depth] = float((joint * _kl_to_mixture(comp_pred, mix_pred)).sum())
    return InContextCurve(positions=np.arange(1, length + 1), bayes=bayes, oracle=oracle,
                          gap=gap, weights=w.copy(), method="exact enumeration",
                          per_component=per_comp)


def sampled_incontext_loss(mix: Mixture, n_sequences: int, length: int, seed=None
                           ) -> InContextCurve:
    """The in-context loss curve estimated on ``n_sequences`` sampled contexts, with errors.

    Samples sequences of ``length - 1`` tokens from the mixture (a component per sequence)
    and runs the exact Bayes filter over all components along each. At every context the
    three quantities are computed *exactly given the context*: ``H(P(. | u))``,
    ``sum_k m_k H(P_k(. | u))`` and ``sum_k m_k KL(P_k(. | u) || P(. | u))``. Their means over
    sequences are unbiased for ``bayes(t)``, ``oracle(t)`` and ``gap(t)``, with less variance
    than averaging realised log-losses (the next token and the component are integrated
    out, Rao-Blackwell), and every per-sequence gap is non-negative, so ``gap`` can go on log
    axes. ``*_se`` are standard errors of the mean over sequences (sequences independent;
    positions of one sequence are correlated, so the errors are per position). Where a
    finite mixture's gap is set by rare ambiguous contexts (late positions) the mean rests
    on few sequences and the error bar is itself uncertain: trust ``gap_se / gap`` only
    while it is well below 1.
    """
    mix = _check_mixture(mix)
    n_sequences = _positive_int(n_sequences, "n_sequences")
    length = _positive_int(length, "length")
    if n_sequences < 2:
        raise ValueError("n_sequences must be >= 2 to estimate a standard error")
    tokens, _, _ = mix.sample(n_sequences, length - 1, seed=seed)
    values = np.empty((3, length, n_sequences))
    for t, (meta, eta, _) in enumerate(mix.filter_steps(tokens)):
        comp_pred = np.einsum("nki,kxi->nkx", eta, mix._emit)
        mix_pred = np.einsum("nk,nkx->nx", meta, comp_pred)
        values[0, t] = _entropy_rows(mix_pred)
        values[1, t] = (meta * _entropy_rows(comp_pred)).sum(axis=1)
        values[2, t] = (meta * _kl_to_mixture(comp_pred, mix_pred)).sum(axis=1)
    mean = values.mean(axis=2)
    se = values.std(axis=2, ddof=1) / np.sqrt(n_sequences)
    return InContextCurve(positions=np.arange(1, length + 1), bayes=mean[0], oracle=mean[1],
                          gap=mean[2], weights=np.asarray(mix.weights).copy(),
                          method=f"mean over {n_sequences:,} sampled contexts (Rao-Blackwell)",
                          bayes_se=se[0], oracle_se=se[1], gap_se=se[2],
                          n_sequences=n_sequences)


# ---------------------------------------------------------------------------- how fast
@dataclass(frozen=True, eq=False)
class DecayFit:
    """A fit to ``ln gap(t)``: ``gap ~ prefactor * t**-power * exp(-rate t)``
    (``kind="exponential"``) or ``gap ~ prefactor * t**-exponent * exp(correction / t)``
    (``kind="power law"``).

    Attributes
    ----------
    kind : str
    value : float
        The rate per token (exponential) or the exponent (power law).
    interval : (float, float)
        Its ``confidence`` interval from the fit's residuals (see :func:`exponential_rate`).
    prefactor : float
    power : float
        The fixed power of ``t`` divided out before an exponential fit (0 for power laws).
    positions, values : float arrays
        The points fitted (``values`` = the gaps).
    correction : float
        The ``b`` of a power law's ``exp(b / t) ~ 1 + b/t`` finite-context term (else 0).
    """

    kind: str
    value: float
    interval: tuple
    prefactor: float
    power: float
    positions: np.ndarray
    values: np.ndarray
    correction: float = 0.0

    def __float__(self) -> float:
        return float(self.value)

    def __format__(self, spec: str) -> str:
        return format(float(self.value), spec)

    def predict(self, t) -> np.ndarray:
        """The fitted curve at positions ``t``."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "power law":
            return self.prefactor * t ** -self.value * np.exp(self.correction / t)
        return self.prefactor * t ** -self.power * np.exp(-self.value * t)

    def __repr__(self) -> str:
        lo, hi = self.interval
        return (f"DecayFit({self.kind}: {self.value:.4g} in [{lo:.4g}, {hi:.4g}], fitted on "
                f"t = {self.positions[0]:g}..{self.positions[-1]:g})")


def _fit_points(curve: InContextCurve, fit_range):
    if not isinstance(curve, InContextCurve):
        raise TypeError(f"curve must be an InContextCurve (incontext_loss or "
                        f"sampled_incontext_loss), got {type(curve).__name__}")
    t = curve.positions.astype(np.float64)
    if fit_range is None:
        mask = t > (t[0] + t[-1]) / 2
    elif np.shape(fit_range) == (2,):
        lo, hi = fit_range
        mask = (t >= lo) & (t <= hi)
    else:
        raise ValueError(f"fit_range must be (t_min, t_max) or None, got {fit_range!r}")
    if mask.sum() < 4:
        raise ValueError(f"need at least 4 positions to fit, fit_range {fit_range} holds "
                         f"{int(mask.sum())} of t = {int(t[0])}..{int(t[-1])}")
    gap = curve.gap[mask]
    if np.any(gap <= 0):
        bad = t[mask][np.argmax(gap <= 0)]
        raise ValueError(f"gap(t = {bad:g}) = {gap[np.argmax(gap <= 0)]:.3g} is not positive: "
                         "a log-scale fit needs positive gaps; start fit_range later")
    sigma = None
    if curve.gap_se is not None:
        sigma = np.maximum(curve.gap_se[mask] / gap, 1e-12)   # error of ln gap
    return t[mask], gap, sigma


def _linear_fit(A, y, sigma, confidence):
    """Weighted least squares ``y ~ A @ coef``; returns ``(coef, half-width of coef[1]'s
    confidence interval)``."""
    from scipy import stats

    wts = np.ones(len(y)) if sigma is None else 1.0 / sigma ** 2
    cov = np.linalg.inv(A.T @ (A * wts[:, None]))
    coef = cov @ (A.T @ (wts * y))
    dof = len(y) - A.shape[1]
    scale = (wts * (y - A @ coef) ** 2).sum() / dof if dof > 0 else 0.0
    if sigma is not None:
        scale = max(scale, 1.0)
    half = stats.t.ppf(0.5 + confidence / 2, max(dof, 1)) * np.sqrt(cov[1, 1] * scale)
    return coef, float(half)


def _check_confidence(confidence) -> float:
    if not (isinstance(confidence, float) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    return confidence


def exponential_rate(curve: InContextCurve, fit_range=None, power: float = 0.0,
                     confidence: float = 0.95) -> DecayFit:
    """Rate of exponential decay of the gap: fit ``ln gap(t) + power ln t = c - rate t``.

    For a finite mixture of distinguishable components the gap is the price of the
    contexts that still look like two worlds; their probability falls like
    ``exp(-C t)``, ``C`` the smallest Chernoff information rate between two components
    (:func:`beliefcourse.distinguish.chernoff_rate`), with a ``t**-1/2`` prefactor as in
    the Bayes error of a hypothesis test: pass ``power=0.5`` to divide it out (``power=0``
    fits the local slope, which is ``C + 1/(2t)``).

    ``fit_range=(t_min, t_max)`` (default: the later half of the positions) must hold at
    least 4 positions with positive gaps. The interval is the slope's ``confidence``
    t-interval: for an exact curve it measures how far the points are from a straight line
    (curvature, not noise); for a sampled curve the fit is weighted by the gaps' standard
    errors and the interval is widened by the residuals when they exceed them.
    """
    confidence = _check_confidence(confidence)
    t, gap, sigma = _fit_points(curve, fit_range)
    A = np.stack([np.ones_like(t), t], axis=1)
    coef, half = _linear_fit(A, np.log(gap) + power * np.log(t), sigma, confidence)
    return DecayFit("exponential", -coef[1], (-coef[1] - half, -coef[1] + half),
                    float(np.exp(coef[0])), float(power), t, gap)


def power_law_exponent(curve: InContextCurve, fit_range=None, correction: bool = True,
                       confidence: float = 0.95) -> DecayFit:
    """Exponent ``a`` of ``gap(t) ~ prefactor * t**-a``, fitted to ``ln gap(t)``.

    A smooth ``d``-parameter family with a positive prior density has
    ``I(theta; X_1..X_L) = (d/2) ln L + c + O(1/L)`` (Rissanen 1986; Clarke & Barron 1990),
    so ``gap(t) = (d/2) / t * (1 + b/t + O(1/t**2))``: ``a = 1``, ``prefactor = d/2``. At short
    contexts the ``b/t`` term bends the log-log line (a plain fit over t = 5..14 of a coin
    family reads 0.8): ``correction=True`` (default) fits ``ln gap = c - a ln t + b/t`` and
    reads 0.95 there; ``correction=False`` fits the straight line. Same ``fit_range`` and
    interval as :func:`exponential_rate`.
    """
    confidence = _check_confidence(confidence)
    t, gap, sigma = _fit_points(curve, fit_range)
    columns = [np.ones_like(t), np.log(t)] + ([1.0 / t] if correction else [])
    coef, half = _linear_fit(np.stack(columns, axis=1), np.log(gap), sigma, confidence)
    b = float(coef[2]) if correction else 0.0
    return DecayFit("power law", -coef[1], (-coef[1] - half, -coef[1] + half),
                    float(np.exp(coef[0])), 0.0, t, gap, b)
