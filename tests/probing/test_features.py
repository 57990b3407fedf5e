"""Tests for beliefcourse.probing.features: the token-history baseline."""

from __future__ import annotations

import numpy as np
import pytest

from beliefcourse import probing, processes
from beliefcourse.data import ExactData


@pytest.fixture(scope="module")
def tiny_data():
    """Every Mess3 sequence of length 6 (729), beliefs aligned to positions."""
    return ExactData(processes.mess3(), 6)


def test_input_only_features_one_hot():
    tokens = np.array([[0, 2, 1], [1, 1, 0]])
    f = probing.input_only_features(tokens, n_tokens=3, n_lags=2)
    assert f.shape == (2, 3, 2 * 3 + 3) and f.dtype == np.float32
    for n in range(2):
        for p in range(3):
            want = np.zeros(9)
            for lag in range(2):
                if p - lag >= 0:
                    want[3 * lag + tokens[n, p - lag]] = 1
            want[6 + p] = 1
            np.testing.assert_array_equal(f[n, p], want)
    full = probing.input_only_features(tokens, 3)
    assert full.shape == (2, 3, 3 * 3 + 3)
    assert full[:, :, :9].sum() == tokens.size * (tokens.shape[1] + 1) / 2   # one per lag seen
    assert probing.input_only_features(tokens, 3, n_lags=5).shape == (2, 3, 18)


def test_input_only_features_errors():
    with pytest.raises(ValueError, match="0..1"):
        probing.input_only_features(np.array([[0, 2]]), 2)
    with pytest.raises(TypeError):
        probing.input_only_features(np.array([[0.0, 1.0]]), 2)
    with pytest.raises(ValueError, match="shape"):
        probing.input_only_features(np.array([0, 1]), 2)


def test_input_only_baseline_on_mess3(tiny_data):
    one = probing.evaluate(probing.input_only_features(tiny_data.inputs, 3, 1),
                         tiny_data.beliefs, tiny_data.probs)
    full = probing.evaluate(probing.input_only_features(tiny_data.inputs, 3),
                          tiny_data.beliefs, tiny_data.probs)
    # at length 6: the current token alone explains ~3/4 of the variance, the full history ~0.95
    assert 0.70 < one.held_out.r2 < 0.78
    assert 0.93 < full.held_out.r2 < 0.96
