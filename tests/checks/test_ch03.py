"""Checkers of practice notebook 03 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): other correct answers, hand-written wrong answers, garbage, time limits."""

import numpy as np
import pytest

from beliefcourse.checks import ch03


@pytest.mark.parametrize("checker, correct", [
    ("check_build_msp", ch03.msp_variant),
    ("check_chaos_game", ch03.chaos_variant),
    ("check_box_counting_dimension", lambda p, e: np.polyfit(
        np.log(1 / np.asarray(e)), np.log(ch03.box_counts(np.asarray(p) - np.min(p, 0), e)), 1)[0]),
    ("check_next_token_classes", lambda T, b, atol=1e-9: 7 - ch03._group(
        np.einsum("ki,xij->kx", b, T), atol)),               # any labelling of the same groups
])
def test_other_correct_answers_pass(checker, correct):
    result = getattr(ch03, checker)(correct)
    assert result, result.message


def test_a_chaos_game_recording_before_each_update_is_caught():
    def chaos_game(T, pi, n_points, seed=None, burn_in=100):
        rng, eta, points = np.random.default_rng(seed), np.asarray(pi, float), []
        for _ in range(burn_in + n_points):
            points.append(eta)
            probs = np.einsum("i,xij->x", eta, T)
            x = rng.choice(len(probs), p=probs / probs.sum())
            eta = eta @ T[x] / (eta @ T[x]).sum()
        return np.array(points[burn_in:])
    result = ch03.check_chaos_game(chaos_game)
    assert "*before* its update" in result.message, result.message


def test_uniform_draws_restarting_at_pi_and_ignored_atols_are_named():
    def chaos_game(T, pi, n_points, seed=None, burn_in=100):   # an impossible token: restart
        rng, eta, points = np.random.default_rng(seed), np.asarray(pi, float), []
        for _ in range(burn_in + n_points):
            v = eta @ T[rng.integers(len(T))]
            points.append(eta := v / v.sum() if v.sum() > 0 else np.asarray(pi, float))
        return np.array(points[burn_in:])
    assert "uniformly" in (result := ch03.check_chaos_game(chaos_game)).message, result.message
    result = ch03.check_shortest_distinguishing_word(lambda T, e1, e2, max_length=6, atol=1e-9:
                                                     ch03._first_word(T, e1, e2, range(1, 7)))
    assert "ignored `atol`" in result.message, result.message
    result = ch03.check_build_msp(lambda T, pi, max_depth=20, atol=1e-9: ch03.msp_variant(
        T, pi, max_depth))                                   # the default tolerance, always
    assert "atol = 0.03 you returned 121 beliefs, not 64" in result.message, result.message
