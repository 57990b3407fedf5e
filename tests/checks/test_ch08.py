"""Checkers of practice notebook 08 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): hand-written wrong answers the registry does not list, other correct
answers, garbage."""

import re

import numpy as np
import pytest
from scipy.special import rel_entr, xlogy

from beliefcourse.checks import ch08
from beliefcourse.hmm import HMM


def _likelihoods(Ts, tokens):
    """w-weighted P_k(tokens), multiplied out step by step (0/0 on long contexts)."""
    out = []
    for T in Ts:
        v = HMM(T).stationary()
        for x in tokens:
            v = v @ T[x]
        out.append(v.sum())
    return np.array(out)


def _raw_meta(Ts, w, u):
    with np.errstate(invalid="ignore"):
        return w * _likelihoods(Ts, u) / (w * _likelihoods(Ts, u)).sum()


def _log_likelihoods(Ts, tokens):
    out = []
    for T in Ts:
        v, total = HMM(T).stationary(), 0.0
        for x in tokens:
            v = v @ T[x]
            total, v = total + np.log(v.sum()), v / v.sum()
        out.append(total)
    return np.array(out)


def _grid(p, q):
    lams = np.linspace(0, 1, 200_001)
    vals = np.log((p[None] ** lams[:, None] * q[None] ** (1 - lams[:, None])).sum(1))
    return lams[vals.argmin()], -vals.min()


@pytest.mark.parametrize("check, fn, cause", [
    (ch08.check_meta_belief, _raw_meta, "underflows"),
    (ch08.check_meta_belief, lambda Ts, w, u: np.exp(np.log(w) + _log_likelihoods(Ts, u)),
     "does not sum to 1"),
    (ch08.check_incontext_gap, lambda m, P: sum(mk * rel_entr(p, m @ P).sum()
                                                for mk, p in zip(m, P)) / np.log(2), "bits"),
    (ch08.check_incontext_gap, lambda m, P: -(m @ P * np.log(m @ P)).sum() + sum(
        mk * (p * np.log(p)).sum() for mk, p in zip(m, P)), "0 log 0 counts as 0"),
    (ch08.check_chernoff_information, lambda p, q: _grid(p, q)[0], "minimising lam"),
    (ch08.check_decay_exponent, lambda t, g: np.polyfit(np.log(t), np.log(g), 1)[0],
     "Wrong sign"),
    (ch08.check_knowing_time, lambda m, c, thr: next(
        (p for p in range(m.shape[1]) if (m[:, p].argmax(-1) == c).mean() >= thr), None),
     "Off by one"),
])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hand_written_mistake_is_named(check, fn, cause):
    result = check(fn)
    assert not result and re.search(cause, result.message), result.message


def test_other_correct_answers_pass():
    def by_entropies(m, P):
        def h(p):
            return -xlogy(p, p).sum()
        return h(m @ P) - sum(mk * h(p) for mk, p in zip(m, P))

    def by_lstsq(t, g):
        A = np.stack([np.ones_like(t), np.log(t)], 1)
        return -np.linalg.lstsq(A, np.log(g), rcond=None)[0][1]

    assert ch08.check_incontext_gap(by_entropies)
    assert ch08.check_chernoff_information(lambda p, q: _grid(p, q)[1])
    assert ch08.check_decay_exponent(by_lstsq)
