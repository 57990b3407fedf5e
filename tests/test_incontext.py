"""Tests for beliefcourse.incontext: the in-context loss curve of a mixture and its fits.

Independent checks: the exact curve (component-wise enumeration of contexts) is compared
with brute force over the *block* HMM's words (``enumerate.all_sequences`` from the prior):
block-entropy differences for the Bayes loss, and the posterior entropy of the component for
the mutual information, ``I(K; X_1..X_L) = H(w) - E[H(K | X_1..X_L)]``. Both sides are sums
of at most 3**8 = 6561 positive terms of size <= 1, so rounding stays below 1e-13; 1e-12 is
used. Component myopic entropies come from ``information.myopic_entropy`` with beliefs
merged only when they agree to 1e-14 (their entropies then differ by < 1e-12).
"""

import numpy as np
import pytest

from beliefcourse import information, processes
from beliefcourse.hmm import HMM
from beliefcourse.incontext import (
    DecayFit,
    InContextCurve,
    exponential_rate,
    incontext_loss,
    power_law_exponent,
    sampled_incontext_loss,
)
from beliefcourse.mixture import mixture, parameter_grid

ATOL = 1e-12


def coin(p):
    """An i.i.d. binary process as a one-state HMM (token 0 with probability p)."""
    return HMM(np.array([[[p]], [[1 - p]]]))


def entropy(p, axis=-1):
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=axis)


@pytest.fixture(scope="module")
def two_mess3():
    return mixture([processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)], [0.3, 0.7])


@pytest.fixture(scope="module")
def exact8(two_mess3):
    return incontext_loss(two_mess3, 8)


def test_bayes_loss_is_the_mixtures_myopic_entropy(two_mess3, exact8):
    block = [0.0]
    for L in range(1, 9):
        words = two_mess3.all_sequences(L)
        block.append(float(entropy(words.probs)))
    np.testing.assert_allclose(exact8.bayes, np.diff(block), atol=ATOL)


def test_oracle_is_the_weighted_component_entropies(two_mess3, exact8):
    for k, comp in enumerate(two_mess3.components):
        h = information.myopic_entropy(comp, np.arange(1, 9), atol=1e-14)
        np.testing.assert_allclose(exact8.per_component[k], h, atol=ATOL)
    np.testing.assert_allclose(exact8.oracle, two_mess3.weights @ exact8.per_component,
                               atol=ATOL)
    np.testing.assert_allclose(exact8.gap, exact8.bayes - exact8.oracle, atol=ATOL)


def test_gaps_sum_to_the_mutual_information(two_mess3, exact8):
    """sum_t gap(t) = I(K; X_1..X_8) = H(w) - E[H(K | X_1..X_8)], by the posterior entropy."""
    words = two_mess3.all_sequences(8)
    meta = two_mess3.meta_belief(words.beliefs[:, -1])
    mi = float(entropy(two_mess3.weights) - words.probs @ entropy(meta))
    assert exact8.information[-1] == pytest.approx(mi, abs=ATOL)
    assert exact8.prior_entropy == pytest.approx(float(entropy(two_mess3.weights)))
    assert 0 < exact8.information[-1] < exact8.prior_entropy
    assert np.all(exact8.gap >= 0) and np.all(np.diff(exact8.information) >= 0)


def test_first_token_tells_nothing_for_mess3():
    """Every Mess3 emits each token with probability 1/3 at stationarity, so gap(1) = 0."""
    for x in (0.02, 0.15, 0.4):
        for alpha in (0.1, 0.6, 0.95):
            hmm = processes.mess3(x, alpha)
            np.testing.assert_allclose(hmm.stationary() @ hmm.T.sum(axis=2).T, 1 / 3,
                                       atol=ATOL)
    curve = incontext_loss(mixture([processes.mess3(0.05, 0.85), processes.mess3(0.3, 0.4),
                                    processes.mess3(0.1, 0.2)]), 3)
    assert curve.gap[0] < ATOL and curve.gap[1] > 1e-3


def test_one_component_has_no_gap():
    curve = incontext_loss(mixture([processes.mess3()]), 6)
    np.testing.assert_array_equal(curve.gap, 0.0)
    np.testing.assert_allclose(curve.bayes, curve.oracle, atol=ATOL)


def test_exact_curve_limits_and_errors(two_mess3):
    with pytest.raises(ValueError, match="max_contexts"):
        incontext_loss(two_mess3, 8, max_contexts=100)
    with pytest.raises(TypeError, match="expected a Mixture"):
        incontext_loss(processes.mess3(), 4)
    with pytest.raises(ValueError, match="length must be >= 1"):
        incontext_loss(two_mess3, 0)


def test_sampled_curve_agrees_with_exact(two_mess3, exact8):
    """|sampled - exact| <= 4 standard errors (+ 1e-12 where the error is 0: positions 1 and
    2 of a Mess3 mixture have the same value on every context, by symmetry). 24
    comparisons at 4 sd give a false alarm with probability ~1.5e-3 under the CLT (n=3000
    independent sequences); the seed is fixed."""
    s = sampled_incontext_loss(two_mess3, 3000, 8, seed=5)
    assert s.n_sequences == 3000 and s.per_component is None
    for name in ("bayes", "oracle", "gap"):
        diff = np.abs(getattr(s, name) - getattr(exact8, name))
        assert np.all(diff <= 4 * getattr(s, name + "_se") + ATOL), name
    assert np.all(s.gap_se[2:] < 0.1 * s.gap[2:])


def test_sampled_curve_errors(two_mess3):
    with pytest.raises(ValueError, match=">= 2"):
        sampled_incontext_loss(two_mess3, 1, 5)
    with pytest.raises(TypeError, match="expected a Mixture"):
        sampled_incontext_loss(None, 10, 5)


def synthetic(gap, se=None):
    t = np.arange(1, len(gap) + 1)
    return InContextCurve(positions=t, bayes=gap + 1.0, oracle=np.ones(len(gap)), gap=gap,
                          weights=np.array([0.5, 0.5]), method="synthetic", gap_se=se)


def test_exponential_fit_recovers_a_known_rate():
    t = np.arange(1, 41, dtype=float)
    fit = exponential_rate(synthetic(0.3 * t ** -0.5 * np.exp(-0.07 * t)), power=0.5)
    assert isinstance(fit, DecayFit) and fit.kind == "exponential"
    assert float(fit) == pytest.approx(0.07, abs=1e-12)
    assert fit.prefactor == pytest.approx(0.3, rel=1e-10)
    assert fit.interval[0] <= 0.07 <= fit.interval[1]
    np.testing.assert_allclose(fit.predict(t), 0.3 * t ** -0.5 * np.exp(-0.07 * t), rtol=1e-10)
    assert fit.positions[0] == 21                               # default: the later half
    plain = exponential_rate(synthetic(0.3 * t ** -0.5 * np.exp(-0.07 * t)), (20, 40))
    assert 0.07 < float(plain) < 0.07 + 1 / (2 * 20)            # local slope C + 1/(2t)


def test_power_law_fit_recovers_one_over_t():
    t = np.arange(1, 31, dtype=float)
    gap = 0.5 / t * np.exp(-1.2 / t)
    fit = power_law_exponent(synthetic(gap), (3, 30))
    assert float(fit) == pytest.approx(1.0, abs=1e-10)
    assert fit.correction == pytest.approx(-1.2, abs=1e-9)
    assert fit.prefactor == pytest.approx(0.5, rel=1e-9)
    np.testing.assert_allclose(fit.predict(t), gap, rtol=1e-9)
    straight = power_law_exponent(synthetic(gap), (3, 30), correction=False)
    assert float(straight) < 0.95


def test_weighted_fit_uses_standard_errors():
    rng = np.random.default_rng(0)
    t = np.arange(1, 61, dtype=float)
    truth = 0.5 / t
    se = 0.02 * truth
    noisy = truth * (1 + 0.02 * rng.standard_normal(60))
    fit = power_law_exponent(synthetic(noisy, se), (5, 60), correction=False)
    assert fit.interval[0] < 1.0 < fit.interval[1]
    assert fit.interval[1] - fit.interval[0] < 0.1


def test_fit_errors():
    t = np.arange(1, 11, dtype=float)
    with pytest.raises(ValueError, match="not positive"):
        power_law_exponent(synthetic(np.r_[0.0, 1 / t[1:]]), (1, 10))
    with pytest.raises(ValueError, match="at least 4 positions"):
        exponential_rate(synthetic(1 / t), (8, 10))
    with pytest.raises(ValueError, match="fit_range must be"):
        exponential_rate(synthetic(1 / t), 5)
    with pytest.raises(ValueError, match="confidence"):
        exponential_rate(synthetic(1 / t), confidence=95)
    with pytest.raises(TypeError, match="InContextCurve"):
        power_law_exponent(1 / t)


def test_coin_family_power_law_exponent_is_near_one():
    """A one-parameter family (coins, uniform prior on [0.05, 0.95], 8 grid points) has
    gap(t) = (1/2t)(1 + b/t + O(1/t^2)). Fitting c - a ln t + b/t over t = 5..14 leaves the
    O(1/t^2) term, which moves the slope by about its size relative to b/t: |b|/t ~ 0.1 at
    t ~ 10 (b ~ -1.2 here), so |a - 1| <= 0.1. The grid's own error at these lengths is 2 %
    (test_distinguish), far smaller. Without the correction the straight line reads 0.8."""
    mix, _ = parameter_grid(coin, 0.05, 0.95, 8)
    curve = incontext_loss(mix, 14)
    fit = power_law_exponent(curve, (5, 14))
    assert abs(float(fit) - 1.0) <= 0.1
    assert 0.35 < curve.gap[-1] * 14 < 0.5                       # -> d/2 = 1/2 from below
    assert curve.information[-1] < np.log(8)


def test_mess3_alpha_family_power_law_exponent_is_near_one():
    """Mess3(0.05, alpha), alpha uniform on [0.4, 1] as 32 grid points (grid horizon ~80
    tokens, beyond the fit), 800 sampled contexts of up to 64 tokens. The fit over t = 16..64
    (with the b/t term) has a statistical half-width of ~0.1 at 95 % and an O((b/t)^2)
    ~ 0.06 bias at t = 16 (b ~ -4 here); over seeds 0-3 it read 0.96-1.00. Tolerance 0.15."""
    mix, _ = parameter_grid(lambda a: processes.mess3(0.05, a), 0.4, 1.0, 32)
    curve = sampled_incontext_loss(mix, 800, 64, seed=0)
    fit = power_law_exponent(curve, (16, 64))
    assert abs(float(fit) - 1.0) < 0.15
    assert fit.interval[0] < 1.0 < fit.interval[1]
    assert 0.3 < curve.gap[-1] * 64 < 0.5                        # -> d/2 = 1/2 from below
