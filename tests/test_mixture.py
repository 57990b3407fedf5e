"""Tests for beliefcourse.mixture: non-ergodic mixtures and the joint belief's two readings.

Tolerances: the joint belief is computed two ways (the block HMM's forward pass and the
component-wise filter with a log-space meta-belief); both renormalise every step, so over L
steps they agree to ~L machine epsilons (1e-12 leaves a factor of 100 over L <= 50).
"""

import numpy as np
import pytest

from beliefcourse import beliefs, processes
from beliefcourse.hmm import HMM
from beliefcourse.mixture import Mixture, mixture, parameter_grid

ATOL = 1e-12


def coin(p):
    """An i.i.d. binary process as a one-state HMM (token 0 with probability p)."""
    return HMM(np.array([[[p]], [[1 - p]]]), token_names=["0", "1"])


@pytest.fixture(scope="module")
def two_mess3():
    return mixture([processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)], [0.3, 0.7])


def test_block_structure_and_prior(two_mess3):
    mix = two_mess3
    a, b = mix.components
    assert mix.n_components == 2 and mix.n_states == 6 and mix.n_tokens == 3
    np.testing.assert_array_equal(mix.hmm.T[:, :3, :3], a.T)
    np.testing.assert_array_equal(mix.hmm.T[:, 3:, 3:], b.T)
    assert not mix.hmm.T[:, :3, 3:].any() and not mix.hmm.T[:, 3:, :3].any()
    np.testing.assert_allclose(mix.prior, np.r_[0.3 * a.stationary(), 0.7 * b.stationary()])
    assert mix.hmm.state_names[:4] == ("0:A", "0:B", "0:C", "1:A")
    np.testing.assert_array_equal(mix.component_of_state, [0, 0, 0, 1, 1, 1])
    assert "2 components" in repr(mix)


def test_components_of_different_sizes():
    mix = mixture([processes.z1r(), processes.golden_mean(0.4)], [0.5, 0.5])
    assert mix.n_states == 5
    tokens, _, _ = mix.sample(20, 12, seed=0)
    f = mix.filter(tokens)
    np.testing.assert_allclose(f.joint(), beliefs.belief_trajectories(mix.hmm, tokens,
                                                                      prior=mix.prior),
                               atol=ATOL)
    assert not f.within[:, :, 1, 2].any()            # golden mean's padded third state


@pytest.mark.parametrize("components, weights, error, match", [
    ([], None, ValueError, "at least one component"),
    (processes.mess3(), None, TypeError, "list or tuple of HMMs"),
    ([processes.mess3(), "mess3"], None, TypeError, "component 1 must be an HMM"),
    ([processes.mess3(), processes.z1r()], None, ValueError, "3 tokens, component 1 has 2"),
    ([coin(0.5), HMM(coin(0.5).T, token_names=["H", "T"])], None, ValueError,
     "names its tokens"),
    ([coin(0.2), coin(0.6)], [0.5, 0.6], ValueError, "sum to 1"),
    ([coin(0.2), coin(0.6)], [1.0, 0.0], ValueError, "positive"),
    ([coin(0.2), coin(0.6)], [1.0], ValueError, r"shape \(2,\)"),
    ([coin(0.2), coin(0.6)], ["a", "b"], TypeError, "numeric"),
])
def test_validation(components, weights, error, match):
    with pytest.raises(error, match=match):
        mixture(components, weights)


def test_non_ergodic_component_is_refused():
    T = np.zeros((2, 2, 2))
    T[0, 0, 0] = T[1, 1, 1] = 1.0                    # two absorbing states
    with pytest.raises(ValueError, match="non-ergodic"):
        mixture([HMM(T), coin(0.5)])


def test_weights_default_uniform_and_renormalised():
    mix = mixture([coin(0.2), coin(0.6), coin(0.9)])
    np.testing.assert_array_equal(mix.weights, np.full(3, 1 / 3))
    assert mixture([coin(0.2), coin(0.6)], [0.3, 0.7 + 1e-9]).weights.sum() == 1.0
    assert isinstance(mix, Mixture)


def test_sample_stays_in_one_component(two_mess3):
    tokens, states, comps = two_mess3.sample(4000, 30, seed=1)
    assert tokens.shape == (4000, 30) and states.shape == (4000, 31)
    np.testing.assert_array_equal(two_mess3.component_of_state[states],
                                  np.repeat(comps[:, None], 31, axis=1))
    # binomial: P(component 1) = 0.7, sd = sqrt(0.21 / 4000) = 0.0072; 5 sd
    assert abs(comps.mean() - 0.7) < 5 * np.sqrt(0.21 / 4000)
    again = two_mess3.sample(4000, 30, seed=1)
    np.testing.assert_array_equal(again[0], tokens)


def test_filter_agrees_with_block_hmm_and_components(two_mess3):
    mix = two_mess3
    tokens, _, _ = mix.sample(50, 40, seed=2)
    f = mix.filter(tokens)
    joint = beliefs.belief_trajectories(mix.hmm, tokens, prior=mix.prior)
    np.testing.assert_allclose(f.joint(), joint, atol=ATOL)
    np.testing.assert_allclose(mix.beliefs(tokens), joint, atol=ATOL)
    for k, comp in enumerate(mix.components):
        np.testing.assert_allclose(f.within[:, :, k], beliefs.belief_trajectories(comp, tokens),
                                   atol=ATOL)
        np.testing.assert_allclose(f.log_likelihood[:, -1, k], comp.log_probability(tokens),
                                   rtol=1e-12)
    # Bayes' rule for the component, from the components' own likelihoods
    logpost = np.log(mix.weights) + f.log_likelihood
    post = np.exp(logpost - logpost.max(-1, keepdims=True))
    np.testing.assert_allclose(f.meta, post / post.sum(-1, keepdims=True), atol=ATOL)
    np.testing.assert_allclose(f.predictive, beliefs.next_token_distribution(joint, mix.hmm),
                               atol=ATOL)


def test_readings_of_the_joint(two_mess3):
    mix = two_mess3
    tokens, _, _ = mix.sample(30, 20, seed=3)
    f = mix.filter(tokens)
    joint = f.joint()
    np.testing.assert_allclose(mix.meta_belief(joint), f.meta, atol=ATOL)
    for k, w in enumerate(mix.within_beliefs(joint)):
        np.testing.assert_allclose(w, f.within[:, :, k], atol=1e-10)
    with pytest.raises(ValueError, match="last dimension 6"):
        mix.meta_belief(np.ones(3) / 3)
    with pytest.raises(ValueError, match="sum to 1"):
        mix.within_beliefs(np.ones(6))
    with pytest.raises(ValueError, match="non-negative"):
        mix.meta_belief(np.r_[-0.5, 1.5, 0, 0, 0, 0])


def test_joint_msp_lies_in_the_5_simplex_with_faces_and_interior(two_mess3):
    """The joint beliefs of every word (up to 8 tokens) are points of the 5-simplex whose
    block k is m_k times component k's own belief; the start is inside; long contexts from
    one component reach that component's face, where the joint is its own belief."""
    mix = two_mess3
    words = mix.all_sequences(8)
    b = words.beliefs                                            # (N, 9, 6)
    assert b.shape[-1] == 6 and b.min() >= 0
    np.testing.assert_allclose(b.sum(-1), 1.0, atol=ATOL)
    meta = mix.meta_belief(b)
    for k, comp in enumerate(mix.components):
        own = beliefs.belief_trajectories(comp, words.tokens)
        block = b[..., mix.offsets[k]:mix.offsets[k + 1]]
        np.testing.assert_allclose(block, meta[..., k, None] * own, atol=ATOL)
    np.testing.assert_allclose(b[:, 0], np.broadcast_to(mix.prior, (len(b), 6)))
    assert mix.prior.min() > 0                                   # t = 0: interior point
    assert meta[:, 1].max() < 0.99                               # one token decides nothing
    for k, comp in enumerate(mix.components):
        tokens, _ = comp.sample(5, 600, seed=10 + k)
        f = mix.filter(tokens)
        assert f.meta[:, -1, k].min() > 1 - 1e-9
        face = np.zeros((5, 6))
        face[:, mix.offsets[k]:mix.offsets[k + 1]] = beliefs.belief_trajectories(comp,
                                                                                tokens)[:, -1]
        np.testing.assert_allclose(f.joint()[:, -1], face, atol=1e-9)


def test_ruled_out_component_and_impossible_sequence():
    mix = mixture([processes.golden_mean(0.5), processes.even_process(0.5)])
    f = mix.filter(np.array([[0, 1, 1, 0]]))                      # '11' impossible for golden
    assert f.meta[0, 3, 0] == 0 and f.meta[0, 3, 1] == 1
    assert not f.within[0, 3:, 0].any() and np.isfinite(f.joint()).all()
    assert not mix.within_beliefs(f.joint()[0, 3])[0].any()
    with pytest.raises(ValueError, match="sequence 0 is impossible.*position 5"):
        mix.filter(np.array([[0, 1, 1, 0, 1, 0]]))               # and '010' for even


def test_long_context_no_underflow(two_mess3):
    tokens, _, comps = two_mess3.sample(3, 5000, seed=4)
    with np.errstate(over="raise", invalid="raise"):       # underflow to 0 is the answer
        f = two_mess3.filter(tokens)
    assert np.isfinite(f.meta).all() and np.isfinite(f.log_likelihood).all()
    np.testing.assert_array_equal(f.meta[:, -1].argmax(-1), comps)


def test_parameter_grid():
    mix, values = parameter_grid(coin, 0.2, 0.8, 6)
    np.testing.assert_allclose(values, [0.25, 0.35, 0.45, 0.55, 0.65, 0.75])
    np.testing.assert_allclose(mix.weights, np.full(6, 1 / 6))
    assert mix.components[2].T[0, 0, 0] == pytest.approx(0.45)
    with pytest.raises(TypeError, match="callable"):
        parameter_grid(0.5, 0.2, 0.8, 6)
    with pytest.raises(ValueError, match="low < high"):
        parameter_grid(coin, 0.8, 0.2, 6)
    with pytest.raises(ValueError, match="n_grid must be >= 1"):
        parameter_grid(coin, 0.2, 0.8, 0)
