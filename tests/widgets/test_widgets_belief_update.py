"""The belief-update widget (chapter 02) runs without a browser: clicks are Bayes' updates."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from beliefcourse import beliefs, processes, widgets  # noqa: E402
from beliefcourse.widgets.belief_update import belief_update_widget, token_images  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
# The widget applies beliefs.update once per click; belief_trajectories runs hmm.forward. Both
# normalise after every step, so they differ by a few roundings per step: 1e-12 is generous
# for the at most 40 steps below.
ATOL = 1e-12


def _png(w) -> bytes:
    data = bytes(w.image.value)
    assert data.startswith(PNG)
    return data


def test_exported_and_default_is_mess3():
    assert widgets.belief_update_widget is belief_update_widget
    assert "belief_update_widget" in widgets.__all__
    w = belief_update_widget()
    ref = processes.mess3(x=0.05, alpha=0.85)
    np.testing.assert_array_equal(w.hmm.T, ref.T)
    assert set(w.controls) == {"A", "B", "C", "random", "reset"}
    assert w.tokens == [] and w.path.shape == (1, 3)
    np.testing.assert_allclose(w.belief, ref.stationary(), atol=ATOL)
    np.testing.assert_allclose(w.next_token_probs, [1 / 3] * 3, atol=ATOL)
    _png(w)


def test_clicks_are_the_package_belief_update():
    w = belief_update_widget()
    word = "ABBCAC"
    pictures = {_png(w)}
    for name in word:
        w.controls[name].click()
        pictures.add(_png(w))
    assert len(pictures) == len(word) + 1               # every click redraws
    tokens = [w.hmm.token_names.index(n) for n in word]
    assert w.tokens == tokens
    expected = beliefs.belief_trajectories(w.hmm, np.array(tokens))[0]
    np.testing.assert_allclose(w.path, expected, atol=ATOL)
    np.testing.assert_allclose(w.belief, expected[-1], atol=ATOL)
    np.testing.assert_allclose(w.next_token_probs,
                               beliefs.next_token_distribution(expected[-1], w.hmm), atol=ATOL)
    assert "ABBCAC" in w.status.value and f"{expected[-1][0]:.3f}" in w.status.value


def test_step_by_name_or_index_and_reset():
    w = belief_update_widget()
    w.step("C")
    w.step(0)
    assert w.tokens == [2, 0]
    first = _png(w)
    w.controls["reset"].click()
    assert w.tokens == [] and w.path.shape == (1, 3)
    np.testing.assert_allclose(w.belief, w.hmm.stationary(), atol=ATOL)
    assert _png(w) != first
    assert "(none)" in w.status.value


def test_random_token_samples_from_the_prediction_and_reset_repeats_it():
    w = belief_update_widget(seed=7)
    for _ in range(12):
        w.controls["random"].click()
    word = list(w.tokens)
    assert len(word) == 12 and set(word) == {0, 1, 2}
    np.testing.assert_allclose(w.path, beliefs.belief_trajectories(w.hmm, np.array(word))[0],
                               atol=ATOL)
    w.reset()
    for _ in range(12):
        w.random_step()
    assert w.tokens == word                              # reset restarts the dice
    other = belief_update_widget(seed=8)
    for _ in range(12):
        other.random_step()
    assert other.tokens != word


def test_images_are_where_every_update_lands():
    """f_x(Δ) is the triangle of the normalised rows of T^(x); updates of random beliefs fall
    inside it (barycentric coordinates >= 0 up to rounding)."""
    hmm = processes.mess3(x=0.05, alpha=0.85)
    images = token_images(hmm)
    rng = np.random.default_rng(0)
    etas = rng.dirichlet([0.3, 0.3, 0.3], size=500)
    for x, name in enumerate(hmm.token_names):
        corners = images[name]
        np.testing.assert_allclose(corners, hmm.T[x] / hmm.T[x].sum(1, keepdims=True),
                                   atol=1e-15)
        after = beliefs.update(etas, hmm, np.full(len(etas), x))
        weights = np.linalg.solve(corners.T, after.T).T  # after = weights @ corners
        assert weights.min() > -1e-9
        np.testing.assert_allclose(weights.sum(1), 1, atol=1e-9)


def test_other_three_state_process_and_impossible_tokens():
    """Z1R (states S0, S1, SR; tokens 0, 1): from S0 the next token is certainly 0."""
    z1r = processes.z1r(0.5)
    w = belief_update_widget(z1r, prior=[1.0, 0.0, 0.0])
    assert set(w.controls) == {"0", "1", "random", "reset"}
    assert w.controls["1"].disabled and not w.controls["0"].disabled
    with pytest.raises(ValueError, match="probability zero"):
        w.step("1")
    assert w.tokens == []
    w.controls["0"].click()                              # S0 -> S1, which emits 1
    assert w.controls["0"].disabled and not w.controls["1"].disabled
    np.testing.assert_allclose(w.belief, [0, 1, 0], atol=ATOL)
    images = token_images(z1r)
    assert all(len(c) <= 3 for c in images.values())
    for _ in range(10):
        w.random_step()
    np.testing.assert_allclose(
        w.path, beliefs.belief_trajectories(z1r, np.array(w.tokens),
                                            prior=np.array([1.0, 0, 0]))[0], atol=ATOL)


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="3 hidden states.*2-simplex"):
        belief_update_widget(processes.rrxor(0.5, 0.5))
    with pytest.raises(ValueError, match="3 hidden states"):
        belief_update_widget(processes.golden_mean(0.5))
    with pytest.raises(TypeError, match="HMM"):
        belief_update_widget("mess3")
    with pytest.raises(TypeError, match="HMM"):
        belief_update_widget(processes.mess3().T)
    with pytest.raises(ValueError, match="shape"):
        belief_update_widget(prior=[0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        belief_update_widget(prior=[0.5, 0.6, 0.1])
    w = belief_update_widget()
    with pytest.raises(ValueError, match="unknown token"):
        w.step("D")
    with pytest.raises(ValueError, match="0..2"):
        w.step(3)
    with pytest.raises(TypeError, match="token"):
        w.step(1.0)
    assert w.tokens == []
