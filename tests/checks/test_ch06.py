"""Checkers of practice notebook 06 beyond the registry (test_registry.py runs its mistakes):
hand-written wrong answers it does not list, other correct answers, garbage, the old order."""

import itertools
import math

import numpy as np
import pytest

from beliefcourse.checks import ch06


def _loop_future(T, belief, k, first_step=False):
    out = []
    for word in itertools.product(range(T.shape[0]), repeat=k):
        v = np.asarray(belief, float) @ (T.sum(0) if first_step else np.eye(T.shape[1]))
        for x in word:
            v = v @ T[x]
        out.append(v.sum())
    return np.array(out)


def _pairs(b, p):
    i, j = np.where(~np.eye(len(b), dtype=bool))
    cls = np.unique(np.round(p, 9), axis=0, return_inverse=True)[1].reshape(-1)
    return cls[i], cls[j], np.linalg.norm(b[i] - b[j], axis=1)


def _ceiling_by(key, weighted=True):
    """The grouped-variance ceiling, written with dicts, grouped by ``key(ci, cj)``."""
    def next_token_ceiling(beliefs, next_probs):
        ci, cj, dB = _pairs(np.asarray(beliefs), np.asarray(next_probs))
        groups = {}
        for g, d in zip((key(a, b) for a, b in zip(ci, cj)), dB):
            groups.setdefault(g, []).append(d)
        if weighted:
            means = {g: np.mean(v) for g, v in groups.items()}
            fitted = np.array([means[key(a, b)] for a, b in zip(ci, cj)])
            return ((fitted - dB.mean()) ** 2).sum() / ((dB - dB.mean()) ** 2).sum()
        return np.var([np.mean(v) for v in groups.values()]) / np.var(dB)
    return next_token_ceiling


def _gru_b_hn_outside(x, h, w_ih, w_hh, b_ih, b_hh):
    W_ir, W_iz, W_in = np.split(w_ih, 3)
    W_hr, W_hz, W_hn = np.split(w_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = 1 / (1 + np.exp(-(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)))
    z = 1 / (1 + np.exp(-(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)))
    n = np.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T) + b_hn)
    return (1 - z) * n + z * h


@pytest.mark.parametrize("check, fn, cause", [
    (ch06.check_future_distribution, lambda T, b, k: np.log(_loop_future(T, b, k)),
     "log-probabilities"),
    (ch06.check_future_distribution, lambda T, b, k: _loop_future(T, b, k, first_step=True),
     "started from another belief"),
    (ch06.check_next_token_ceiling, _ceiling_by(lambda a, b: a), "one point's class"),
    (ch06.check_next_token_ceiling, _ceiling_by(lambda a, b: (min(a, b), max(a, b)), False),
     "counted every group once"),
    (ch06.check_steering_move, lambda W, b, b2: ((b2 - b) / (W ** 2).sum(1)) @ W,
     "divided by a norm of W"),
    (ch06.check_steering_move, lambda W, b, b2: np.asarray(b2) @ np.linalg.pinv(W, 1e-8).T,
     "leaving out the readout"),
    (ch06.check_gru_step, _gru_b_hn_outside, "b_hn outside it"),
])
def test_hand_written_mistake_is_named(check, fn, cause):
    result = check(fn)
    assert not result and cause in result.message, result.message


def test_other_correct_answers_pass():
    def by_matrix_power(T, belief, k):
        v = np.asarray(belief, float)[None]
        for _ in range(k):
            v = np.einsum("ws,xst->wxt", v, T).reshape(-1, T.shape[1])
        return v.sum(-1)

    def by_comb(s, c):
        wins, n = int((s < c).sum()), int((s != c).sum())
        return sum(math.comb(n, j) for j in range(wins, n + 1)) / 2 ** n

    assert ch06.check_future_distribution(by_matrix_power)
    assert ch06.check_steering_move(lambda W, b, b2: (b2 - b) @ np.linalg.pinv(W, rcond=1e-8).T)
    assert ch06.check_sign_test(by_comb)
