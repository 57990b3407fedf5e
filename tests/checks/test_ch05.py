"""Checkers of practice notebook 05 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): hand-written wrong answers the registry does not list, other correct
answers, garbage, and the ridge reference."""

import re

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge

from beliefcourse.checks import ch05
from beliefcourse.probing import AffineProbe


def _shuffle(X_train, Y_train, X_test, Y_test, rng, *, test_order=None):
    shuffled = Y_train.copy()
    rng.shuffle(shuffled)
    reg = LinearRegression().fit(X_train, shuffled)
    X = X_test if test_order is None else X_test[test_order(rng, len(X_test))]
    return float(np.mean((Y_test - reg.predict(X)) ** 2))


def _ridge(estimator):
    """The exercise's rule with ``estimator(alpha)``, predictions reshaped to the target's."""
    def choose_ridge_alpha(X, Y, groups, alphas, n_folds=5):
        fold = np.unique(groups, return_inverse=True)[1].reshape(-1) % n_folds
        cv = np.zeros(len(alphas))
        for j, a in enumerate(alphas):
            errors = []
            for k in range(n_folds):
                val = fold == k
                pred = estimator(a).fit(X[~val], Y[~val]).predict(X[val])
                errors.append(np.mean((Y[val] - pred.reshape(Y[val].shape)) ** 2))
            cv[j] = np.mean(errors)
        return float(alphas[np.argmin(cv)]), cv
    return choose_ridge_alpha


# ---------------------------------------------------------------------------- wrong, by hand
@pytest.mark.parametrize("name, wrong, cause", [
    # scoring against the wrong rows: the predictions of X_test permuted, not Y_test
    ("shuffle_control", lambda *a: _shuffle(*a, test_order=lambda rng, n: rng.permutation(n)),
     r"another order.*never Y_test \(nor X_test\)"),
    ("shuffle_control", lambda a, b, c, d, rng: _shuffle(a, b, c, d, np.random.default_rng(
        rng.integers(1))), r"change with it"),   # rng.integers(1) is 0
    ("fit_affine_probe", lambda X, Y, w=None: (np.linalg.lstsq(
        np.hstack([X, np.ones((len(X), 1))]), Y, rcond=None)[0], np.zeros(Y.shape[1])),
     r"expected shape"),
    ("novel_prefix_mask", lambda t, tr, te: np.stack(
        [[tuple(t[s, :p + 1]) not in {tuple(r[:p + 1]) for r in t} for p in range(t.shape[1])]
         for s in te]), r"\*training\* sequences"),
    ("beats_baselines", lambda t, b, f=2.0: (sorted(b)[-1], 1.0, True),
     r"Strongest: lowest held-out"),
    ("split_points", lambda N, L, f, s: (np.arange(int(f * N) * L), np.arange(int(f * N) * L,
                                                                          N * L)),
     r"first \d+ sequences"),
    ("split_points", lambda *a: _split_choice(*a, replace=True), r"listed twice.*replacement"),
])
def test_hand_written_mistakes_are_diagnosed(name, wrong, cause):
    result = getattr(ch05, f"check_{name}")(wrong)
    assert result.status == "failed" and re.search(cause, result.message), result.message


# ---------------------------------------------------------------------------- other correct answers
def _probe_pinv(X, Y, w=None):
    A = np.hstack([X, np.ones((len(X), 1))])
    s = np.ones(len(X)) if w is None else np.sqrt(w)
    sol = np.linalg.pinv(A * s[:, None]) @ (Y * s[:, None])
    return sol[:-1], sol[-1]


def _split_choice(N, L, frac, seed, replace=False):
    fit = np.random.default_rng(seed).choice(N, size=int(np.floor(frac * N)), replace=replace)
    points = np.arange(N * L).reshape(N, L)
    return np.sort(points[fit].ravel()), np.sort(points[~np.isin(np.arange(N), fit)].ravel())


@pytest.mark.parametrize("name, correct", [
    ("fit_affine_probe", _probe_pinv),
    ("fit_affine_probe", lambda X, Y, w=None: (lambda r: (r.coef_.T, r.intercept_))(
        LinearRegression().fit(X, Y, sample_weight=w))),
    ("split_points", _split_choice),
    ("shuffle_control", _shuffle),
    ("shuffle_control", lambda a, b, c, d, rng: (rng.random(), _shuffle(a, b, c, d, rng))[1]),
    ("choose_ridge_alpha", _ridge(lambda a: AffineProbe(alpha=a))),
    ("choose_ridge_alpha", _ridge(lambda a: LinearRegression() if a == 0 else Ridge(alpha=a))),
])
def test_other_correct_answers_pass(name, correct):
    result = getattr(ch05, f"check_{name}")(correct)
    assert result, result.message


def test_ridge_reference_is_exact_for_one_target():
    X, Y, groups = ch05._ridge_data(3, S=1)
    ref = ch05._ridge()(X, Y, groups, ch05._RIDGE_ALPHAS)[1]
    by_hand = _ridge(lambda a: LinearRegression() if a == 0 else Ridge(alpha=a))
    np.testing.assert_allclose(ref, by_hand(X, Y, groups, ch05._RIDGE_ALPHAS)[1], rtol=1e-10)
    assert np.all(ref < np.mean((Y - Y.mean()) ** 2) * 1.5)


# ---------------------------------------------------------------------------- garbage
