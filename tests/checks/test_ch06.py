"""Checkers of practice notebook 06: each planted mistake gets its own diagnosis.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``). Solutions passing, stubs "not implemented" and determinism:
test_checks_exercises.py."""

import itertools
import math

import numpy as np
import pytest
from exercise_utils import Planted, assert_planted, planted_id

from beliefcourse import steering
from beliefcourse.checks import ch06


# ---------------------------------------------------------------------------- 6.1
def _future(belief, T, k, *, normalise=False, transpose=False, order=None, iid=False):
    out = []
    for word in itertools.product(range(T.shape[0]), repeat=k):
        word = word[::-1] if order == "reversed" else word
        v, p = np.asarray(belief, float), 1.0
        for x in word:
            M = T[x].T if transpose else T[x]
            if iid:
                p *= (np.asarray(belief) @ M).sum()
            elif normalise:
                w = v @ M
                p, v = w.sum(), w / w.sum()
            else:
                v = v @ M
        out.append(p if (iid or normalise) else v.sum())
    return np.array(out)


def _future_states(belief, T, k):
    rows = []
    for word in itertools.product(range(T.shape[0]), repeat=k):
        v = np.asarray(belief, float)
        for x in word:
            v = v @ T[x]
        rows.append(v)
    return np.array(rows)


def _last_token(belief, T, k):
    v = np.asarray(belief, float)
    M = T.sum(axis=0)
    for _ in range(k - 1):
        v = v @ M
    return v @ T.sum(axis=2).T


FUTURE = [
    Planted("future_distribution", "normalises the state vector after every token",
            lambda b, T, k: _future(b, T, k, normalise=True), r"normalised the state vector"),
    Planted("future_distribution", "numbers words with the last token most significant",
            lambda b, T, k: _future(b, T, k, order="reversed"), r"wrong order"),
    Planted("future_distribution", "multiplies by T[x] transposed",
            lambda b, T, k: _future(b, T, k, transpose=True), r"transposed"),
    Planted("future_distribution", "treats the tokens as independent given the belief",
            lambda b, T, k: _future(b, T, k, iid=True), r"as if the tokens were independent"),
    Planted("future_distribution", "forgets to sum over the final state",
            _future_states, r"sum over the final state"),
    Planted("future_distribution", "returns the distribution of the k-th token alone",
            _last_token, r"distribution over single tokens"),
]


def test_future_reference_variants_pass():
    def by_matrix_power(belief, T, k):
        v = np.asarray(belief, float)[None]
        for _ in range(k):
            v = np.einsum("ws,xst->wxt", v, T).reshape(-1, T.shape[1])
        return v.sum(-1)
    assert ch06.check_future_distribution(by_matrix_power)


# ---------------------------------------------------------------------------- 6.2
def _pairs(b, p, self_pairs=False):
    n = len(b)
    i, j = np.where(np.ones((n, n), bool) if self_pairs else ~np.eye(n, dtype=bool))
    return i, j, np.linalg.norm(b[i] - b[j], axis=1), np.linalg.norm(p[i] - p[j], axis=1)


def _grouped(dB, keys):
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    means = np.bincount(inv, weights=dB) / np.bincount(inv)
    return ((means[inv] - dB.mean()) ** 2).sum() / ((dB - dB.mean()) ** 2).sum()


def _ceiling(beliefs, next_probs, self_pairs=False, squared=False, within=False, unique=False):
    b, p = np.asarray(beliefs, float), np.asarray(next_probs, float)
    if unique:
        _, idx = np.unique(b.round(9), axis=0, return_index=True)
        b, p = b[np.sort(idx)], p[np.sort(idx)]
    _, cls = np.unique(p.round(9), axis=0, return_inverse=True)
    cls = cls.reshape(-1)
    i, j, dB, _ = _pairs(b, p, self_pairs)
    if squared:
        dB = dB ** 2
    value = _grouped(dB, np.stack([np.minimum(cls[i], cls[j]), np.maximum(cls[i], cls[j])], 1))
    return 1 - value if within else value


def _correlation(beliefs, next_probs):
    _, _, dB, dN = _pairs(np.asarray(beliefs), np.asarray(next_probs))
    return np.corrcoef(dB, dN)[0, 1] ** 2


def _by_distance(beliefs, next_probs):
    _, _, dB, dN = _pairs(np.asarray(beliefs), np.asarray(next_probs))
    return _grouped(dB, dN.round(9)[:, None])


CEILING = [
    Planted("next_token_ceiling", "returns the squared correlation of the distances",
            _correlation, r"squared correlation"),
    Planted("next_token_ceiling", "groups pairs by next-token distance, not by the pair",
            _by_distance, r"next-token \*distance\*"),
    Planted("next_token_ceiling", "includes each point paired with itself",
            lambda b, p: _ceiling(b, p, self_pairs=True), r"paired with itself"),
    Planted("next_token_ceiling", "counts each distinct belief once",
            lambda b, p: _ceiling(b, p, unique=True), r"each distinct belief once"),
    Planted("next_token_ceiling", "uses squared distances",
            lambda b, p: _ceiling(b, p, squared=True), r"squared distances"),
    Planted("next_token_ceiling", "returns the unexplained fraction",
            lambda b, p: _ceiling(b, p, within=True), r"\*unexplained\* fraction"),
]


def test_ceiling_matches_the_package():
    from beliefcourse.probing import futures
    for _, b, p in ch06._ceiling_cases():
        assert _ceiling(b, p) == pytest.approx(
            futures.next_token_distance_ceiling(b, p).any_function)


# ---------------------------------------------------------------------------- 6.3
def _pinv_move(W, b, b2):
    return steering.steering_move(W, b, b2)


def _full_rank_pinv(W, b, b2):
    return (b2 - b) @ np.linalg.pinv(W).T


def _square_block(W, b, b2):
    S = W.shape[0]
    # a solution of W delta = b2 - b that uses the first S + 1 features only: not minimal
    sol = np.linalg.lstsq(W[:, :S + 1], (b2 - b).T, rcond=None)[0].T
    return np.concatenate([sol, np.zeros(sol.shape[:-1] + (W.shape[1] - S - 1,))], axis=-1)


STEER = [
    Planted("steering_move", "flips the sign", lambda W, b, b2: -_pinv_move(W, b, b2),
            r"wrong sign"),
    Planted("steering_move", "uses W's transpose instead of its pseudo-inverse",
            lambda W, b, b2: (b2 - b) @ W, r"not its pseudo-inverse"),
    Planted("steering_move", "a valid move that is not the shortest", _square_block,
            r"longer than it needs to be"),
    Planted("steering_move", "normalises the move to length 1",
            lambda W, b, b2: (lambda d: d / np.linalg.norm(d, axis=-1, keepdims=True))(
                _pinv_move(W, b, b2)), r"has length 1"),
    Planted("steering_move", "returns the change of belief, not a move in activation space",
            lambda W, b, b2: b2 - b, r"lives in belief space"),
    Planted("steering_move", "inverts W's rounding-size singular value (np.linalg.pinv)",
            _full_rank_pinv, r"inverted every singular value of W"),
]


def test_steering_reference_variants_pass():
    def rank_s_minus_1(W, b, b2):
        U, sigma, Vt = np.linalg.svd(W, full_matrices=False)
        r = W.shape[0] - 1
        return (np.asarray(b2) - b) @ ((Vt[:r].T / sigma[:r]) @ U[:, :r].T).T

    def pinv_rcond(W, b, b2):
        return (np.asarray(b2) - b) @ np.linalg.pinv(W, rcond=1e-8).T
    assert ch06.check_steering_move(rank_s_minus_1)
    assert ch06.check_steering_move(pinv_rcond)


# ---------------------------------------------------------------------------- 6.4
def _gru_variant(mode):
    return lambda x, h, w_ih, w_hh, b_ih, b_hh: ch06._gru(x, h, w_ih, w_hh, b_ih, b_hh, mode)


GRU = [
    Planted("gru_step", "swaps the update gate's roles", _gru_variant("swapped update"),
            r"swapped the update gate"),
    Planted("gru_step", "applies the reset gate before the matrix product (Cho et al.)",
            _gru_variant("reset before matmul"), r"reset gate to h before the matrix product"),
    Planted("gru_step", "reads the gates in the order z, r, n", _gru_variant("gate order"),
            r"order z, r, n"),
    Planted("gru_step", "forgets the reset gate", _gru_variant("no reset"),
            r"left out the reset gate"),
    Planted("gru_step", "uses a sigmoid for the candidate", _gru_variant("sigmoid candidate"),
            r"tanh, not the sigmoid"),
    Planted("gru_step", "forgets bias_hh", _gru_variant("no hidden bias"),
            r"left out bias_hh"),
]


def test_gru_reference_matches_torch_directly():
    import torch
    for _, x, h, params, want in ch06._gru_cases():
        d_in, d = x.shape[1], h.shape[1]
        cell = torch.nn.GRUCell(d_in, d).double()
        with torch.no_grad():
            for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), params):
                p.copy_(torch.as_tensor(v))
            np.testing.assert_allclose(cell(torch.as_tensor(x), torch.as_tensor(h)).numpy(), want)


# ---------------------------------------------------------------------------- 6.5
def _tail(n, k):
    return sum(math.comb(n, j) for j in range(max(k, 0), n + 1)) / 2 ** n


def _counts(s, c):
    return int((s < c).sum()), int((s > c).sum())


def _two_sided(s, c):
    w, lo = _counts(s, c)
    n = w + lo
    return min(1.0, 2 * min(_tail(n, w), 1 - _tail(n, w + 1)))


SIGN = [
    Planted("sign_test", "computes P(K > k)",
            lambda s, c: _tail(sum(_counts(s, c)), _counts(s, c)[0] + 1), r"Off by one"),
    Planted("sign_test", "two-sided p-value", _two_sided, r"two-sided"),
    Planted("sign_test", "keeps the ties in n",
            lambda s, c: _tail(len(s), _counts(s, c)[0]), r"kept the tied pairs"),
    Planted("sign_test", "counts the losses as wins",
            lambda s, c: _tail(sum(_counts(s, c)), _counts(s, c)[1]), r"did \*worse\*"),
    Planted("sign_test", "uses the normal approximation",
            lambda s, c: 0.5 * math.erfc((_counts(s, c)[0] - sum(_counts(s, c)) / 2)
                                         / math.sqrt(sum(_counts(s, c)) / 4) / math.sqrt(2)),
            r"normal approximation"),
]


def test_sign_test_scipy_agrees():
    from scipy.stats import binomtest
    for _, s, c in ch06._sign_cases():
        w, lo = _counts(s, c)
        assert ch06._sign(s, c) == pytest.approx(
            binomtest(w, w + lo, 0.5, alternative="greater").pvalue)


PLANTED = FUTURE + CEILING + STEER + GRU + SIGN


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch06, planted)


def test_garbage_never_passes():
    for check, fn in [(ch06.check_future_distribution, lambda b, T, k: np.zeros(2 ** k)),
                      (ch06.check_next_token_ceiling, lambda b, p: 0.5),
                      (ch06.check_steering_move, lambda W, b, b2: np.zeros(W.shape[1])),
                      (ch06.check_gru_step, lambda x, h, *w: h),
                      (ch06.check_sign_test, lambda s, c: 0.05)]:
        result = check(fn)
        assert not result and "Traceback" not in result.message
