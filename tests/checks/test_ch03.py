"""Checkers of practice notebook 03 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): other correct answers, hand-written wrong answers, garbage, time limits."""

import dataclasses
import signal
import time

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


def test_the_old_argument_order_gets_a_clear_message():
    def shortest_distinguishing_word(eta1, eta2, T, max_length=6, atol=1e-9):
        return None
    result = ch03.check_shortest_distinguishing_word(shortest_distinguishing_word)
    assert "takes the process first: shortest_distinguishing_word(T, eta1, eta2" in result.message


# ---------------------------------------------------------------------------- garbage
@pytest.mark.parametrize("checker, garbage", [
    ("check_build_msp", lambda T, pi, max_depth=20, atol=1e-9: (
        np.eye(T.shape[1]), -np.ones((T.shape[1], T.shape[0]), int))),
    ("check_build_msp", lambda T, pi, max_depth=20, atol=1e-9: None),
    ("check_recurrent_states", lambda s: np.ones(len(s), bool)),
    ("check_recurrent_states", lambda s: np.zeros(len(s), bool)),
    ("check_msp_entropy_rate", lambda T, b, s: np.log(T.shape[0])),
    ("check_chaos_game", lambda T, pi, n, seed=None, burn_in=100: np.tile(pi, (n, 1))),
    ("check_chaos_game", lambda T, pi, n, seed=None, burn_in=100: np.random.default_rng(
        seed).dirichlet(np.ones(T.shape[1]), n)),
    ("check_box_counting_dimension", lambda p, e: 1.0),
    ("check_box_counting_dimension", lambda p, e: float(np.asarray(p).shape[1])),
    ("check_next_token_classes", lambda T, b, atol=1e-9: np.zeros(len(b), int)),
    ("check_shortest_distinguishing_word", lambda T, e1, e2, max_length=6, atol=1e-9: None),
    ("check_shortest_distinguishing_word", lambda T, e1, e2, max_length=6, atol=1e-9: (0,)),
])
def test_garbage_fails(checker, garbage):
    assert not getattr(ch03, checker)(garbage)


# ---------------------------------------------------------------------------- time limits
@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="POSIX only")
def test_an_endless_build_msp_ends_with_a_verdict(monkeypatch):
    def endless(T, pi, max_depth=20, atol=1e-9):
        while True:
            try:
                time.sleep(0.01)
            except Exception:          # a learner's catch-all must not swallow the timeout
                pass

    check = dataclasses.replace(ch03.check_build_msp, time_limit=0.3)
    monkeypatch.setattr(ch03, "check_build_msp", check)      # the test calls through it
    start = time.perf_counter()
    result = check(endless)
    assert time.perf_counter() - start < 5 and "more than 0.3 s" in result.message
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0       # no timer left behind


def test_checking_leaves_no_handler_behind():
    before = signal.getsignal(signal.SIGALRM) if hasattr(signal, "SIGALRM") else None
    assert ch03.check_build_msp(ch03.msp_variant)
    if hasattr(signal, "SIGALRM"):
        assert signal.getsignal(signal.SIGALRM) == before
