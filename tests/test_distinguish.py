"""Tests for beliefcourse.distinguish: divergence rates, Mess3 look-alikes, grid resolution.

Closed forms: for i.i.d. processes (one-state HMMs) with token distributions p and q, the
KL rate is KL(p || q) and the Chernoff rate -min_lam ln sum_x p^lam q^(1-lam) at every
length, so the exact increments must equal them to rounding (sums of <= 2**6 terms: 1e-12;
the Chernoff minimiser is converged to 1e-10 in lam, where the objective is flat: 1e-12).
"""

import numpy as np
import pytest

from beliefcourse import processes
from beliefcourse.distinguish import (
    chernoff_rate,
    grid_error,
    grid_horizon,
    kl_rate,
    look_alike_mess3,
    matched_mess3,
)
from beliefcourse.hmm import HMM
from beliefcourse.incontext import exponential_rate, incontext_loss
from beliefcourse.mixture import mixture, parameter_grid


def coin(p):
    return HMM(np.array([[[p]], [[1 - p]]]))


def test_rates_of_iid_processes_are_exact():
    p, q = 0.3, 0.6
    kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    assert kl_rate(coin(p), coin(q), 6) == pytest.approx(kl, abs=1e-12)
    lam = np.linspace(0, 1, 100_001)
    c = -np.log(p ** lam * q ** (1 - lam) + (1 - p) ** lam * (1 - q) ** (1 - lam)).min()
    assert chernoff_rate(coin(p), coin(q), 6) == pytest.approx(c, abs=1e-9)
    assert chernoff_rate(coin(q), coin(p), 6) == pytest.approx(c, abs=1e-9)
    assert kl_rate(coin(0.5), coin(1.0), 3) == np.inf


def test_kl_rate_exact_and_monte_carlo_agree():
    """Exact increment at length 10 (converged to ~1e-5, its error) against 200 samples of
    1,000 tokens (error = 2 standard errors, ~0.003); they must agree within the sum."""
    a, b = processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)
    exact = kl_rate(a, b, 10)
    mc = kl_rate(a, b, 1000, method="monte_carlo", n_sequences=200, seed=0)
    assert exact.error < 1e-4 and mc.error < 0.01
    assert abs(exact - mc) <= exact.error + mc.error
    assert chernoff_rate(a, b, 10) < min(exact, kl_rate(b, a, 10))
    with pytest.raises(ValueError, match="'exact' or 'monte_carlo'"):
        kl_rate(a, b, method="sampled")
    with pytest.raises(ValueError, match="burn_in < length"):
        kl_rate(a, b, 50, method="monte_carlo")
    with pytest.raises(TypeError, match="q must be an HMM"):
        kl_rate(a, "mess3")


def test_gap_of_two_coins_decays_at_the_chernoff_rate():
    """gap(t) ~ A t^(-1/2) exp(-C t) for two distinguishable components. Coins 0.2 / 0.8:
    C = -ln 0.8 = 0.223. Exact to t = 18; dividing out t^(-1/2) leaves O(1/t) corrections
    to the slope (~ 1/t^2 relative to C t), about 5 % at t ~ 12: tolerance 10 %. The KL
    rate (0.83) is four times larger: it is not the rate of the mean gap."""
    p, q = coin(0.2), coin(0.8)
    curve = incontext_loss(mixture([p, q]), 18)
    fit = exponential_rate(curve, (8, 18), power=0.5)
    c = chernoff_rate(p, q, 4)
    assert c == pytest.approx(-np.log(0.8), abs=1e-9)
    assert abs(float(fit) / c - 1) < 0.1
    assert kl_rate(p, q, 4) > 3 * float(fit)


def test_look_alikes_match_one_and_two_token_statistics():
    la = look_alike_mess3(0.05, 0.85, alphas=(1.0,), length=7)
    (x0, a0), (x1, a1) = la.params
    assert (x0, a0) == (0.05, 0.85) and a1 == 1.0
    assert (3 * a1 - 1) ** 2 * (1 - 3 * x1) == pytest.approx((3 * a0 - 1) ** 2 * (1 - 3 * x0))
    pairs = [incontext_loss(mixture([c]), 2) for c in la.mixture.components]
    np.testing.assert_allclose(pairs[0].bayes, pairs[1].bayes, atol=1e-12)
    words = la.mixture.all_sequences(2)
    meta = la.mixture.meta_belief(words.beliefs)
    np.testing.assert_allclose(meta, 0.5, atol=1e-12)          # two tokens say nothing
    assert np.all(la.curve.gap[:2] < 1e-12) and la.curve.gap[2] > 5e-3
    assert la.kl_rates[0, 1] > 0.05 and la.kl_rates[1, 0] > 0.05
    assert 0 < la.chernoff_rates[0, 1] < la.kl_rates.min(where=la.kl_rates > 0, initial=1)


def test_matched_mess3_errors():
    with pytest.raises(ValueError, match=r"alpha >= 0\.8"):
        matched_mess3(0.05, 0.85, [0.6])
    with pytest.raises(ValueError, match="independent uniform"):
        matched_mess3(0.1, 1 / 3, [0.9])
    with pytest.raises(ValueError, match="alpha must lie"):
        matched_mess3(0.1, 1.5, [0.9])


def test_grid_error_estimate_matches_a_fine_grid():
    """Richardson's (4/3)|gap_4 - gap_8| against |gap_4 - gap_128| (coins on [0.05, 0.95],
    t = 2..10): the midpoint rule's error is c h^2 + O(h^4), so the estimate is off by
    O(h^2) relative, measured 2 %; tolerance 10 %."""
    est = grid_error(coin, 0.05, 0.95, 4, 10)
    coarse, _ = parameter_grid(coin, 0.05, 0.95, 4)
    fine, _ = parameter_grid(coin, 0.05, 0.95, 128)
    true = np.abs(incontext_loss(coarse, 10).gap - incontext_loss(fine, 10).gap)
    np.testing.assert_allclose(est[1:], true[1:], rtol=0.1)


def test_grid_horizon_grows_with_the_grid():
    h = [grid_horizon(parameter_grid(coin, 0.05, 0.95, n)[0], 3) for n in (4, 8, 16)]
    assert h[0] < h[1] < h[2] and h[2] > 2 * h[1]
    with pytest.raises(ValueError, match="at least 2"):
        grid_horizon(mixture([coin(0.5)]))
