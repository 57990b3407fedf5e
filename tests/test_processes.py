"""Tests for beliefcourse.processes: the example HMMs, their parameters and the registry."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beliefcourse import processes
from beliefcourse.hmm import HMM, REDUCIBLE_TOL, ReducibleChainWarning

SETTINGS = settings(max_examples=20, deadline=None)


@pytest.mark.parametrize("name, shape", [
    ("z1r", (2, 3, 3)), ("mess3", (3, 3, 3)), ("rrxor", (2, 5, 5)),
    ("even_process", (2, 2, 2)), ("golden_mean", (2, 2, 2)),
])
def test_factories_build_valid_hmms(name, shape):
    hmm = processes.get(name)
    assert isinstance(hmm, HMM)
    assert hmm.T.shape == shape
    np.testing.assert_allclose(hmm.transition_matrix.sum(axis=1), 1.0)


def test_mess3_matrix_matches_the_paper():
    """T^(A) for x = 0.05, alpha = 0.85 as the authors' code prints it (epsilon-transformers,
    examples/Figure6.ipynb, the notebook behind paper (a)'s Mess3 figure)."""
    TA = processes.mess3().T[0]
    expected = [[0.765, 0.00375, 0.00375], [0.0425, 0.0675, 0.00375],
                [0.0425, 0.00375, 0.0675]]
    np.testing.assert_allclose(TA, expected, atol=1e-12)


@SETTINGS
@given(st.floats(0.0, 0.5), st.floats(0.0, 1.0))
def test_mess3_stationary_uniform_and_eigenvalue(x, alpha):
    """T = (1 - 3x) I + x J: J has eigenvalues 3, 0, 0, so T has 1 and 1 - 3x (twice);
    T is doubly stochastic, so pi is uniform."""
    hmm = processes.mess3(x, alpha)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pi = hmm.stationary()
    # however weakly the states are coupled (x -> 0), pi is uniform to every digit
    np.testing.assert_allclose(pi, np.full(3, 1 / 3), rtol=1e-13, atol=0)
    # below the reducibility line (x = 0, or a coupling at rounding level) a warning says so
    if x < REDUCIBLE_TOL / 2:
        assert any(issubclass(w.category, ReducibleChainWarning) for w in caught)
    elif x > 2 * REDUCIBLE_TOL:
        assert not caught
    eig = np.sort(np.linalg.eigvals(hmm.transition_matrix).real)
    np.testing.assert_allclose(eig, np.sort([1.0, 1 - 3 * x, 1 - 3 * x]), atol=1e-9)


@SETTINGS
@given(st.floats(0.01, 1.0))
def test_even_process_stationary(p):
    """pi_E = pi_E p + pi_O and pi_O = pi_E (1 - p) give pi = (1, 1 - p) / (2 - p)."""
    np.testing.assert_allclose(processes.even_process(p).stationary(),
                               np.array([1, 1 - p]) / (2 - p), atol=1e-9)


@SETTINGS
@given(st.floats(0.0, 0.99))
def test_golden_mean_stationary(p):
    """pi_B = p pi_A and pi_A + pi_B = 1 give pi = (1, p) / (1 + p)."""
    np.testing.assert_allclose(processes.golden_mean(p).stationary(),
                               np.array([1, p]) / (1 + p), atol=1e-9)


def test_rrxor_and_z1r_stationary():
    np.testing.assert_allclose(processes.rrxor().stationary(), np.array([2, 1, 1, 1, 1]) / 6)
    np.testing.assert_allclose(processes.z1r(0.3).stationary(), np.full(3, 1 / 3))


@pytest.mark.parametrize("factory, kwargs, err, match", [
    (processes.z1r, {"p": 1.5}, ValueError, r"p must lie in \[0, 1\]"),
    (processes.z1r, {"p": "a"}, TypeError, "number"),
    (processes.z1r, {"p": True}, TypeError, "number"),
    (processes.mess3, {"x": 0.6}, ValueError, r"x must lie in \[0, 0.5\]"),
    (processes.mess3, {"alpha": -0.1}, ValueError, "alpha"),
    (processes.mess3, {"x": float("nan")}, ValueError, "x must lie"),
    (processes.rrxor, {"p2": 2}, ValueError, "p2"),
    (processes.even_process, {"p": 0.0}, ValueError, r"\(0, 1\]"),
    (processes.golden_mean, {"p": 1.0}, ValueError, r"\[0, 1\)"),
])
def test_parameter_errors(factory, kwargs, err, match):
    with pytest.raises(err, match=match):
        factory(**kwargs)


def test_registry():
    assert processes.available() == ["even_process", "golden_mean", "mess3", "rrxor", "z1r"]
    hmm = processes.get("Mess3", x=0.15, alpha=0.6)
    np.testing.assert_allclose(hmm.T, processes.mess3(0.15, 0.6).T)
    assert processes.get("even-process").n_states == 2


def test_get_errors_list_valid_names_and_parameters():
    with pytest.raises(ValueError, match="available: even_process, golden_mean, mess3"):
        processes.get("mess4")
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['y'\]; valid: \['x', 'alpha'\]"):
        processes.get("mess3", y=0.1)
