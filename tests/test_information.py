"""Tests for beliefcourse.information: entropies, rates, complexity, dimensions.

Closed forms used below (nats unless stated; H2(p) = -p ln p - (1-p) ln(1-p)):

* Z1R: once synchronised the observer cycles S0 -> S1 -> SR with probability 1/3 each; only
  SR is uncertain (a fair coin), so h_mu = ln(2) / 3. The causal states are the three
  corners, uniform, so C_mu = log2(3) bits; E = C_mu because Z1R synchronises in 3 tokens
  and is periodic-with-noise (E = sum of h(L) - h_mu = (ln3 - ln2/3) + (.. ) = log2 3 bits).
* RRXOR: two of three tokens are fair coins, the third determined: h_mu = (2/3) ln 2; the
  causal states are the 5 pure states with pi = (2,1,1,1,1)/6: C_mu = H[pi] = 2.2516 bits.
* Even process: unifilar with pi = (1, 1-p)/(2-p); only E is uncertain, with H2(p):
  h_mu = H2(p) / (2 - p).
* Golden mean: unifilar with pi = (1, p)/(1+p); only A is uncertain: h_mu = H2(p) / (1 + p).
* Mess3(0.05, 0.85): myopic entropies in bits (exact enumeration; chapter 02) 1.5850, 1.2374,
  1.1734, 1.1514, 1.1466, 1.1452, 1.1448, 1.1447, ...; the mean of h(2..11) is 0.8025 nats;
  h_mu = 1.1447 bits; U(L) -> 0.438 bits; E ~ 0.571 bits.
"""

import numpy as np
import pytest
from hmm_strategies import hmm_strategy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from beliefcourse import information, msp, processes
from beliefcourse.hmm import HMM, closed_classes

SETTINGS = settings(max_examples=15, deadline=None)
LN2 = np.log(2)


hmms = hmm_strategy(max_states=3)


def H2(p):
    return -sum(q * np.log(q) for q in (p, 1 - p) if q > 0)


# ---------------------------------------------------------------------------- entropy(p)
def test_entropy_of_distributions():
    assert np.isclose(information.entropy([0.25] * 4), np.log(4))
    assert np.isclose(information.entropy([0.5, 0.5, 0.0], unit="bits"), 1.0)
    assert information.entropy([1.0, 0.0]) == 0.0
    batch = information.entropy(np.array([[1, 0], [0.5, 0.5]]), unit="bits")
    np.testing.assert_allclose(batch, [0, 1])
    assert isinstance(information.entropy([0.3, 0.7]), float)


@pytest.mark.parametrize("p, err, match", [
    ([0.5, 0.6], ValueError, "sum to 1"),
    ([1.5, -0.5], ValueError, "negative"),
    ([np.nan, 1.0], ValueError, "NaN"),
    (["a", "b"], TypeError, "numeric"),
    ([], ValueError, "at least one"),
])
def test_entropy_errors(p, err, match):
    with pytest.raises(err, match=match):
        information.entropy(p)


def test_unit_errors():
    with pytest.raises(ValueError, match="'nats' or 'bits'"):
        information.entropy([1.0], unit="bit")
    with pytest.raises(ValueError, match="'nats' or 'bits'"):
        information.myopic_entropy(processes.z1r(), 2, unit="dits")


# ---------------------------------------------------------------------------- exact values
def test_z1r():
    z1r = processes.z1r()
    rate = information.entropy_rate(z1r)
    assert np.isclose(rate.value, LN2 / 3, atol=1e-14) and rate.error == 0
    assert "exact" in rate.method
    h = information.myopic_entropy(z1r, np.arange(1, 8))
    np.testing.assert_allclose(h[3:], LN2 / 3, atol=1e-14)     # synchronised after 3 tokens
    assert np.all(h[:3] > LN2 / 3 + 1e-3)
    assert np.isclose(information.statistical_complexity(z1r), np.log2(3))
    assert np.isclose(information.excess_entropy(z1r, unit="bits"), np.log2(3))
    np.testing.assert_allclose(information.state_uncertainty(z1r, [0, 3, 4, 10]),
                               [np.log(3), 0, 0, 0], atol=1e-12)


def test_rrxor():
    rrxor = processes.rrxor()
    assert np.isclose(information.entropy_rate(rrxor, unit="bits"), 2 / 3)
    c = information.statistical_complexity(rrxor)
    assert np.isclose(c, information.entropy(np.array([2, 1, 1, 1, 1]) / 6, unit="bits"))
    assert np.isclose(c, 2.2516, atol=5e-5)
    e = information.excess_entropy(rrxor, unit="bits")
    assert np.isclose(e, c, atol=1e-9)
    assert np.isclose(information.state_uncertainty(rrxor, 10, unit="bits"), 0.30, atol=0.01)


@SETTINGS
@given(st.floats(0.02, 0.98))
def test_even_and_golden_mean_entropy_rates(p):
    even = information.entropy_rate(processes.even_process(p))
    golden = information.entropy_rate(processes.golden_mean(p))
    assert np.isclose(even.value, H2(p) / (2 - p), atol=1e-12)
    assert np.isclose(golden.value, H2(p) / (1 + p), atol=1e-12)


def test_statistical_complexity_merges_equivalent_states():
    """Split the golden mean's state A into two copies: a bigger HMM, the same process and
    the same causal states, so the same C_mu = H[(1, p)/(1+p)]."""
    p = 0.3
    T = np.zeros((2, 3, 3))
    for i in (0, 1):                 # A1, A2 (copies of A) -> emit 0 to A1 or A2, 1 to B
        T[0, i, 0] = T[0, i, 1] = (1 - p) / 2
        T[1, i, 2] = p
    T[0, 2, 0] = 1.0                 # B -> 0 -> A1
    split = HMM(T)
    expected = information.entropy(np.array([1, p]) / (1 + p), unit="bits")
    assert np.isclose(information.statistical_complexity(processes.golden_mean(p)), expected)
    assert np.isclose(information.statistical_complexity(split), expected)


def test_mess3_published_numbers():
    mess3 = processes.mess3()
    h_bits = information.myopic_entropy(mess3, np.arange(1, 12), unit="bits")
    published = [1.5850, 1.2374, 1.1734, 1.1514, 1.1466, 1.1452, 1.1448, 1.1447, 1.1447,
                 1.1447, 1.1447]
    np.testing.assert_allclose(h_bits, published, atol=6e-5)
    floor = information.myopic_entropy(mess3, np.arange(2, 12))
    assert round(float(floor.mean()), 4) == 0.8025
    rate = information.entropy_rate(mess3)
    assert np.isclose(rate / LN2, 1.1447, atol=5e-5)
    assert 0 < rate.error < 1e-5
    assert h_bits[-1] * LN2 >= rate.value - rate.error
    U = information.state_uncertainty(mess3, np.arange(10), unit="bits")
    np.testing.assert_allclose(U, [1.585, 0.760, 0.524, 0.460, 0.444, 0.440, 0.439, 0.438,
                                   0.438, 0.438], atol=6e-4)
    e = information.excess_entropy(mess3, unit="bits")
    assert np.isclose(e.value, 0.571, atol=1e-3) and e.error < 1e-4
    with pytest.raises(ValueError, match="infinite"):
        information.statistical_complexity(mess3, max_states=200)


def test_estimate_behaves_like_a_float():
    rate = information.entropy_rate(processes.z1r())
    assert f"{rate:.4f}" == f"{np.log(2) / 3:.4f}"
    assert float(rate) == rate.value
    np.testing.assert_allclose(np.array([1.0, 2.0]) - rate, [1 - rate.value, 2 - rate.value])
    assert isinstance(np.array([1.0]) - rate, np.ndarray)
    assert "Estimate(value=0.2310490602" in repr(rate) and "exact" in repr(rate)
    assert "nats" in str(rate)


# ---------------------------------------------------------------------------- properties
@SETTINGS
@given(hmms)
def test_myopic_entropy_non_increasing_and_above_rate(hmm):
    """h(L) is non-increasing (conditioning on one more token cannot raise the entropy).

    The tolerance comes from an error analysis, not from what a machine happened to show.
    With the default ``atol`` the computation merges beliefs that agree to 1e-9, an
    approximation whose error (of order atol times |log p|) is not a rounding error; so the
    property is tested with the smallest ``atol`` (1e-15), where only beliefs equal up to
    rounding are merged and h(L) is the exact sum up to floating-point error. Each h(L) is a
    weighted sum over the beliefs after L - 1 tokens of the next token's entropy. Read in
    unnormalised form (weight x belief = pi T(w)), every step is a product with a matrix whose
    entries are at most 1, so the weighted beliefs carry a relative error of at most
    (L - 1)(S + 2) u (u = 2**-53, S states, normalisation included); the entropy of X next-token
    probabilities adds (X + 2) u relative to its value, and h(L) <= ln X. A difference of two
    neighbours can therefore be off by at most 2 (L (S + 2) + X + 2) u ln(max(X, e)), doubled
    again for the summation over beliefs (pairwise in numpy). Observed on 3,000 random HMMs:
    at most 7.8e-16, well inside it (the bound is ~5e-14 for S = X = 3, L = 8).
    """
    assume(len(closed_classes(hmm.transition_matrix)) == 1)    # h_mu: one ergodic process
    L = np.arange(1, 9)
    h = information.myopic_entropy(hmm, L, atol=1e-15)
    u = np.finfo(float).eps / 2
    S, X = hmm.n_states, hmm.n_tokens
    bound = 4 * (L[1:] * (S + 2) + X + 2) * u * np.log(max(X, np.e))
    assert np.all(np.diff(h) <= bound)
    assert np.isclose(information.myopic_entropy(hmm, 1),
                      information.entropy(hmm.stationary() @ hmm.T.sum(axis=2).T))
    rate = information.entropy_rate(hmm, n_points=0, max_support=20_000)
    assert h[-1] >= rate.value - rate.error - 1e-9
    assert rate.value >= -1e-12


@SETTINGS
@given(hmms)
def test_block_entropy_consistent_with_myopic(hmm):
    """h(L) = H(L) - H(L-1): two independent code paths (words vs merged beliefs)."""
    H = information.block_entropy(hmm, np.arange(0, 6))
    assert H[0] == 0.0
    np.testing.assert_allclose(np.diff(H), information.myopic_entropy(hmm, np.arange(1, 6)),
                               atol=1e-8)


def test_myopic_entropy_tends_to_the_rate():
    for hmm in (processes.mess3(0.15, 0.6), processes.rrxor(), processes.even_process(0.3)):
        rate = information.entropy_rate(hmm)
        h = information.myopic_entropy(hmm, np.arange(1, 60, 4)) if hmm.n_tokens == 2 else \
            information.myopic_entropy(hmm, np.arange(1, 12))
        gaps = h - rate
        assert np.all(gaps >= -rate.error - 1e-12)
        assert gaps[-1] < 0.02 * gaps[0]


def test_length_argument_errors():
    z1r = processes.z1r()
    with pytest.raises(ValueError, match="L must be >= 1"):
        information.myopic_entropy(z1r, [0, 1])
    with pytest.raises(TypeError, match="integers"):
        information.myopic_entropy(z1r, [1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        information.block_entropy(z1r, np.ones((2, 2), dtype=int))
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        information.state_uncertainty(z1r, -1)
    with pytest.raises(ValueError, match="max_support"):
        information.myopic_entropy(processes.mess3(), 12, max_support=1000)
    with pytest.raises(ValueError, match="max_words"):
        information.block_entropy(processes.mess3(), 9, max_words=1000)
    with pytest.raises(TypeError, match="HMM"):
        information.entropy_rate(z1r.T)
    coin_or_ones = HMM(np.array([[[0.05, 0], [0, 0]], [[0.95, 0], [0, 1]]]))   # h(L) -> 0.099
    for limit in (information.entropy_rate, information.excess_entropy):
        with pytest.raises(ValueError, match=r"irreducible.*\[0\], \[1\]"):
            limit(coin_or_ones)
    assert isinstance(information.myopic_entropy(z1r, 2), float)


# ---------------------------------------------------------------------------- dimensions
def test_dimension_of_a_segment():
    t = np.random.default_rng(0).random(50_000)
    seg = np.stack([0.1 + 0.8 * t, 0.2 + 0.5 * t], axis=1)
    assert abs(information.box_counting_dimension(seg).slope - 1) < 0.05
    assert abs(information.information_dimension(seg).slope - 1) < 0.05


def test_dimension_of_a_filled_triangle():
    """N(eps) ~ A / eps^2 + c P / eps: the outline biases finite-range slopes below 2."""
    u = np.random.default_rng(1).random((200_000, 2))
    u = np.where(u.sum(1, keepdims=True) > 1, 1 - u, u)     # uniform on a triangle
    tri = u @ np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    assert abs(information.box_counting_dimension(tri).slope - 2) < 0.12
    assert abs(information.information_dimension(tri).slope - 2) < 0.12


def test_dimension_of_the_sierpinski_gasket():
    """Chaos game with three halvings: similarity dimension log 3 / log 2 = 1.585."""
    rng = np.random.default_rng(2)
    corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])
    n_chains, steps = 10_000, 12
    p = rng.random((n_chains, 2))
    pts = []
    for s in range(30 + steps):
        p = (p + corners[rng.integers(0, 3, n_chains)]) / 2
        if s >= 30:
            pts.append(p)
    pts = np.concatenate(pts)
    d = np.log(3) / np.log(2)
    box = information.box_counting_dimension(pts)
    info = information.information_dimension(pts)
    assert abs(box.slope - d) < 0.05 and abs(info.slope - d) < 0.05
    assert box.fit_mask.sum() >= 3 and box.values.shape == box.epsilons.shape
    assert np.all(np.diff(box.epsilons) < 0)
    assert f"{box:.2f}" == f"{box.slope:.2f}" and "box-counting" in repr(box)
    fixed = information.box_counting_dimension(pts, epsilons=2.0 ** -np.arange(2, 8))
    assert abs(fixed.slope - d) < 0.05


@pytest.mark.parametrize("pts, err, match", [
    (np.zeros(100), ValueError, "shape"),
    (np.zeros((100, 4)), ValueError, "shape"),
    (np.zeros((5, 2)), ValueError, "at least 10"),
    (np.ones((100, 2)), ValueError, "identical"),
    (np.full((100, 2), np.nan), ValueError, "NaN"),
    (np.array([["a", "b"]] * 20), TypeError, "numeric"),
])
def test_dimension_errors(pts, err, match):
    with pytest.raises(err, match=match):
        information.box_counting_dimension(pts)


def test_mess3_dimensions():
    """Information dimension and Lyapunov dimension agree near 0.5 (chapter 03, where both are
    derived); box counting is larger (the measure is uneven)."""
    from beliefcourse.msp import chaos_game

    mess3 = processes.mess3()
    cloud = chaos_game(mess3, 100_000, seed=0)
    xy = np.stack([cloud[:, 1] + cloud[:, 2] / 2, cloud[:, 2] * np.sqrt(3) / 2], axis=1)
    d1 = information.information_dimension(xy).slope
    d0 = information.box_counting_dimension(xy).slope
    assert 0.4 < d1 < 0.62 and d0 > d1
    lam, err = information.lyapunov_exponents(mess3, n_steps=20_000, seed=0, return_error=True)
    assert lam.shape == (2,) and lam[0] >= lam[1]
    np.testing.assert_allclose(lam, [-1.524, -1.758], atol=0.08)
    assert np.all(err < 0.05)
    np.testing.assert_array_equal(lam, information.lyapunov_exponents(mess3, 20_000, seed=0))
    d = information.lyapunov_dimension(mess3, n_steps=20_000, seed=0)
    assert abs(d - 0.52) < 0.05 and abs(d - d1) < 0.1


def test_lyapunov_edge_cases():
    z1r = processes.z1r()                    # synchronising: directions collapse
    lam = information.lyapunov_exponents(z1r, n_steps=2_000)
    assert np.all(lam == -np.inf)
    assert information.lyapunov_dimension(z1r, n_steps=2_000) == 0.0
    # alpha = 1/3: every token is uninformative, all maps coincide, beliefs sit at pi
    assert information.lyapunov_dimension(processes.mess3(0.1, 1 / 3), n_steps=2_000) == 0.0
    one_state = HMM(np.array([[[0.4]], [[0.6]]]))
    with pytest.raises(ValueError, match="at least 2 hidden states"):
        information.lyapunov_exponents(one_state)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        information.lyapunov_exponents(processes.mess3(), n_steps=0)


def test_msp_and_information_agree_on_finite_processes():
    """h_mu from the MSP's stationary distribution equals the limit of h(L)."""
    rrxor = processes.rrxor()
    m = msp.mixed_state_presentation(rrxor)
    nxt = m.next_token_distributions()
    h_mu = float(m.stationary() @ information.entropy(nxt))
    assert np.isclose(h_mu, information.entropy_rate(rrxor).value)


def test_kaplan_yorke_is_the_formula_of_lyapunov_dimension():
    hmm = processes.mess3(0.15, 0.6)
    lam = information.lyapunov_exponents(hmm, n_steps=2000, seed=0)
    h = information.entropy_rate(hmm).value
    assert information.kaplan_yorke(h, lam) == pytest.approx(
        information.lyapunov_dimension(hmm, n_steps=2000, seed=0), abs=1e-9)
    assert information.kaplan_yorke(0.5, [-1.0, -2.0]) == 0.5
    assert information.kaplan_yorke(1.5, [-1.0, -2.0]) == 1.25
    assert information.kaplan_yorke(5.0, [-1.0, -2.0]) == 2.0
    assert information.kaplan_yorke(0.3, [-np.inf, -np.inf]) == 0.0
