"""Checkers of practice notebook 05: each planted mistake gets its own diagnosis, and
garbage never passes.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``).
Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import numpy as np
import pytest
from exercise_utils import Planted, assert_planted, planted_id
from sklearn.linear_model import LinearRegression

from beliefcourse.checks import ch05


# ---------------------------------------------------------------------------- affine probe
def _solve(X, Y, w=None, *, intercept=True, root=True, scale_y=True):
    A = np.hstack([X, np.ones((len(X), 1))]) if intercept else X
    if w is not None:
        s = (np.sqrt(w) if root else w)[:, None]
        A = A * s
        Y = Y * s if scale_y else Y
    sol = np.linalg.lstsq(A, Y, rcond=None)[0]
    return (sol[:-1], sol[-1]) if intercept else (sol, np.zeros(Y.shape[1]))


def _normal_equations(X, Y, w=None):
    A = np.hstack([X, np.ones((len(X), 1))])
    W = np.ones(len(X)) if w is None else w
    sol = np.linalg.inv(A.T @ (A * W[:, None])) @ A.T @ (Y * W[:, None])
    return sol[:-1], sol[-1]


def _sklearn_untransposed(X, Y, w=None):
    reg = LinearRegression().fit(X, Y, sample_weight=w)
    return reg.coef_, reg.intercept_


PROBE = [
    Planted("fit_affine_probe", "fits without an intercept",
            lambda X, Y, w=None: _solve(X, Y, w, intercept=False), r"without an intercept"),
    Planted("fit_affine_probe", "ignores the weights", lambda X, Y, w=None: _solve(X, Y, None),
            r"ignores the weights"),
    Planted("fit_affine_probe", "scales the rows by w, not sqrt(w)",
            lambda X, Y, w=None: _solve(X, Y, w, root=False),
            r"multiplied the rows by w_i.*sqrt\(w_i\)"),
    Planted("fit_affine_probe", "scales X but not Y",
            lambda X, Y, w=None: _solve(X, Y, w, scale_y=False), r"but not the rows of Y"),
    Planted("fit_affine_probe", "returns scikit-learn's coef_ untransposed",
            _sklearn_untransposed, r"transposed.*coef_\.T"),
    Planted("fit_affine_probe", "inverts X^T X (fails on collinear features)",
            _normal_equations, r"lstsq"),
    Planted("fit_affine_probe", "returns the augmented solution, not (W, b)",
            lambda X, Y, w=None: np.zeros((X.shape[1] + 1, Y.shape[1])), r"pair \(W, b\)"),
]


def test_probe_sklearn_passes():
    def sk(X, Y, w=None):
        reg = LinearRegression().fit(X, Y, sample_weight=w)
        return reg.coef_.T, reg.intercept_
    assert ch05.check_fit_affine_probe(sk)


# ---------------------------------------------------------------------------- split
def _by_sequence(N, L, frac, rng_or_seed, *, order="seq", first=False, flip=False):
    n_train = int(np.floor((1 - frac if flip else frac) * N))
    seqs = np.arange(N) if first else np.random.default_rng(rng_or_seed).permutation(N)
    if order == "seq":
        def expand(s):
            return np.sort((s[:, None] * L + np.arange(L)).ravel())
    else:
        def expand(s):
            return np.sort((np.arange(L)[None, :] * N + s[:, None]).ravel())
    return expand(seqs[:n_train]), expand(seqs[n_train:])


def _by_point(N, L, frac, seed):
    perm = np.random.default_rng(seed).permutation(N * L)
    n = int(frac * N * L)
    return np.sort(perm[:n]), np.sort(perm[n:])


def _global_rng(N, L, frac, seed):
    seqs = np.random.permutation(N)
    n = int(frac * N)
    def expand(s):
        return np.sort((s[:, None] * L + np.arange(L)).ravel())
    return expand(seqs[:n]), expand(seqs[n:])


def _sequence_indices(N, L, frac, seed):
    perm = np.random.default_rng(seed).permutation(N)
    n = int(frac * N)
    return np.sort(perm[:n]), np.sort(perm[n:])


SPLIT = [
    Planted("split_points", "splits points, not sequences", _by_point,
            r"appears in both train and test"),
    Planted("split_points", "fits on the test share",
            lambda N, L, f, s: _by_sequence(N, L, f, s, flip=True), r"wrong way round.*20 %"),
    Planted("split_points", "fits on the first sequences",
            lambda N, L, f, s: _by_sequence(N, L, f, s, first=True), r"lexicographic.*random"),
    Planted("split_points", "flattens position-major (p * N + n)",
            lambda N, L, f, s: _by_sequence(N, L, f, s, order="pos"),
            r"flattening order.*n \* L \+ p"),
    Planted("split_points", "draws from the global generator", _global_rng,
            r"same seed.*default_rng\(seed\)"),
    Planted("split_points", "returns sequence indices", _sequence_indices,
            r"sequence indices.*\*point\* indices"),
    Planted("split_points", "returns boolean masks",
            lambda N, L, f, s: tuple(np.isin(np.arange(N * L), x)
                                     for x in _by_sequence(N, L, f, s)), r"boolean mask"),
]


# ---------------------------------------------------------------------------- shuffle control
def _mse(Xtr, Yfit, Xte, Yte):
    return float(np.mean((Yte - LinearRegression().fit(Xtr, Yfit).predict(Xte)) ** 2))


def _shuffle_in_sample(X_train, Y_train, X_test, Y_test, rng):
    shuffled = Y_train[rng.permutation(len(Y_train))]
    reg = LinearRegression().fit(X_train, shuffled)
    return float(np.mean((shuffled - reg.predict(X_train)) ** 2))


def _shuffle_in_sample_true_targets(X_train, Y_train, X_test, Y_test, rng):
    shuffled = Y_train[rng.permutation(len(Y_train))]
    reg = LinearRegression().fit(X_train, shuffled)
    return float(np.mean((Y_train - reg.predict(X_train)) ** 2))


SHUFFLE = [
    Planted("shuffle_control", "scores the shuffled probe in-sample", _shuffle_in_sample,
            r"in-sample, on the points it was fitted to"),
    Planted("shuffle_control", "scores on the training points against the true targets",
            _shuffle_in_sample_true_targets, r"in-sample, on the points it was fitted to"),
    Planted("shuffle_control", "does not shuffle at all",
            lambda a, b, c, d, rng: _mse(a, b, c, d), r"pairing.*survived"),
    Planted("shuffle_control", "shuffles X and Y together",
            lambda a, b, c, d, rng: (lambda p: _mse(a[p], b[p], c, d))(rng.permutation(len(a))),
            r"pairing"),
    Planted("shuffle_control", "permutes the coordinates, not the rows",
            lambda a, b, c, d, rng: _mse(a, b[:, [2, 0, 1]], c, d), r"\*coordinates\*.*rows"),
    Planted("shuffle_control", "fits random targets",
            lambda a, b, c, d, rng: _mse(a, rng.random(b.shape), c, d), r"\*random\* targets"),
    Planted("shuffle_control", "draws from the global generator",
            lambda a, b, c, d, rng: _mse(a, b[np.random.permutation(len(b))], c, d),
            r"reproducible"),
    Planted("shuffle_control", "returns a negative number", lambda a, b, c, d, rng: -0.1,
            r"cannot be negative"),
]


# ---------------------------------------------------------------------------- verdict
def _verdict(key="held_out", pick=min, invert=False, strict=False):
    def fn(trained, baselines, factor=2.0):
        name = pick(baselines, key=lambda k: baselines[k][key])
        ratio = baselines[name]["held_out"] / trained["held_out"]
        ratio = 1 / ratio if invert else ratio
        return name, ratio, (ratio > factor) if strict else (ratio >= factor)
    return fn


VERDICT = [
    Planted("beats_baselines", "ranks baselines by in-sample MSE", _verdict(key="in_sample"),
            r"in-sample.*held-out"),
    Planted("beats_baselines", "compares with the weakest baseline", _verdict(pick=max),
            r"\*weakest\*"),
    Planted("beats_baselines", "inverts the ratio", _verdict(invert=True), r"inverted"),
    Planted("beats_baselines", "uses ratio > factor", _verdict(strict=True),
            r"ratio >= factor"),
    Planted("beats_baselines", "divides by the trained probe's in-sample MSE",
            lambda t, b, f=2.0: (lambda n: (n, b[n]["held_out"] / t["in_sample"],
                                            b[n]["held_out"] / t["in_sample"] >= f))(
                min(b, key=lambda k: b[k]["held_out"])), r"trained probe's \*in-sample\* MSE"),
    Planted("beats_baselines", "returns 'yes' instead of a bool",
            lambda t, b, f=2.0: (lambda n: (n, b[n]["held_out"] / t["held_out"], "yes"))(
                min(b, key=lambda k: b[k]["held_out"])), r"True or False"),
]


# ---------------------------------------------------------------------------- novel prefixes
def _novel(tokens, train, test, shift=1):
    tokens = np.asarray(tokens)
    out = np.zeros((len(test), tokens.shape[1]), dtype=bool)
    for p in range(tokens.shape[1]):
        seen = {tuple(r[:p + shift]) for r in tokens[train]}
        for i, s in enumerate(test):
            out[i, p] = tuple(tokens[s, :p + shift]) not in seen
    return out


def _whole(tokens, train, test):
    seen = {tuple(r) for r in tokens[train]}
    v = np.array([tuple(tokens[s]) not in seen for s in test])
    return np.tile(v[:, None], (1, tokens.shape[1]))


NOVEL = [
    Planted("novel_prefix_mask", "compares p tokens (off by one)",
            lambda t, tr, te: _novel(t, tr, te, shift=0), r"Off by one.*p tokens"),
    Planted("novel_prefix_mask", "compares p + 2 tokens (off by one)",
            lambda t, tr, te: _novel(t, tr, te, shift=2), r"Off by one.*p \+ 2"),
    Planted("novel_prefix_mask", "inverts the mask", lambda t, tr, te: ~_novel(t, tr, te),
            r"inverted"),
    Planted("novel_prefix_mask", "compares whole sequences", _whole, r"whole sequences"),
    Planted("novel_prefix_mask", "compares with the test sequences",
            lambda t, tr, te: _novel(t, te, te), r"not with the test sequences"),
    Planted("novel_prefix_mask", "uses rows 0..len(train) instead of train_seqs",
            lambda t, tr, te: _novel(t, np.arange(len(tr)), te), r"tokens\[train_seqs\]"),
    Planted("novel_prefix_mask", "drops the last position",
            lambda t, tr, te: _novel(t, tr, te)[:, :-1], r"expected shape"),
]


# ---------------------------------------------------------------------------- ridge penalty
def _ridge_cv(*, fold_rule="group", score_on="val", fit_on="rest", intercept=True, pick=np.argmin,
              return_index=False, sign=1.0, shuffle=False, keep_shape=True):
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.model_selection import GroupKFold

    def fn(X, Y, groups, alphas, n_folds=5):
        n = len(X)
        if fold_rule == "group":
            fold = np.unique(groups, return_inverse=True)[1].reshape(-1) % n_folds
            if shuffle:       # groups dealt to folds at random: grouped, but not the rule
                ids = np.unique(groups, return_inverse=True)[1].reshape(-1)
                fold = np.random.default_rng().permutation(ids.max() + 1)[ids] % n_folds
            splits = [(fold != k, fold == k) for k in range(n_folds)]
        elif fold_rule == "point":
            fold = np.arange(n) % n_folds
            splits = [(fold != k, fold == k) for k in range(n_folds)]
        else:
            splits = list(GroupKFold(n_splits=n_folds).split(X, Y, groups))
        cv = []
        for a in alphas:
            errs = []
            for fit, val in splits:
                src = slice(None) if fit_on == "all" else fit
                dst = fit if score_on == "fit" else val
                est = (LinearRegression(fit_intercept=intercept) if a == 0
                       else Ridge(alpha=a, fit_intercept=intercept))
                pred = est.fit(X[src], Y[src]).predict(X[dst])
                if keep_shape:       # Ridge flattens a one-column target's predictions
                    pred = pred.reshape(Y[dst].shape)
                errs.append(np.mean((Y[dst] - pred) ** 2))
            cv.append(np.mean(errs))
        cv = sign * np.array(cv)
        i = int(pick(cv))
        return (i if return_index else float(alphas[i])), cv
    return fn


def _ridge_with_probe(X, Y, groups, alphas, n_folds=5):
    """The exercise's solution written against an estimator whose predictions keep the
    target's shape, (n, 1) for a one-column target, at every alpha."""
    from sklearn.linear_model import LinearRegression, Ridge

    fold = np.unique(groups, return_inverse=True)[1].reshape(-1) % n_folds
    cv = np.zeros(len(alphas))
    for j, a in enumerate(alphas):
        errors = []
        for k in range(n_folds):
            val = fold == k
            est = LinearRegression() if a == 0 else Ridge(alpha=a)
            pred = est.fit(X[~val], Y[~val]).predict(X[val]).reshape(Y[val].shape)
            assert pred.shape == Y[val].shape
            errors.append(np.mean((Y[val] - pred) ** 2))
        cv[j] = np.mean(errors)
    return float(alphas[np.argmin(cv)]), cv


def test_ridge_reference_passes():
    assert ch05.check_choose_ridge_alpha(_ridge_cv())


def test_ridge_correct_answer_with_one_target_passes():
    """A correct answer whose predictions have the target's shape (n, 1) used to be rejected:
    the reference broadcast Ridge's (n,) predictions against (n, 1) targets."""
    result = ch05.check_choose_ridge_alpha(_ridge_with_probe)
    assert result, result.message


def test_ridge_reference_is_exact_for_one_target():
    X, Y, groups = ch05._ridge_data(3, S=1)
    alphas = ch05._RIDGE_ALPHAS
    ref = ch05._ridge_cv_ref(X, Y, groups, alphas, 5)
    np.testing.assert_allclose(ref, _ridge_with_probe(X, Y, groups, alphas)[1], rtol=1e-10)
    assert np.all(ref < np.mean((Y - Y.mean()) ** 2) * 1.5)


RIDGE = [
    Planted("choose_ridge_alpha", "folds over points, not sequences",
            _ridge_cv(fold_rule="point"), r"split the points.*by sequence"),
    Planted("choose_ridge_alpha", "scores in-sample", _ridge_cv(score_on="fit"), r"in-sample"),
    Planted("choose_ridge_alpha", "fits on all the points", _ridge_cv(fit_on="all"),
            r"fitted on all the points"),
    Planted("choose_ridge_alpha", "fits without an intercept", _ridge_cv(intercept=False),
            r"no intercept"),
    Planted("choose_ridge_alpha", "picks the largest error", _ridge_cv(pick=np.argmax),
            r"\*largest\* error"),
    Planted("choose_ridge_alpha", "returns the index of the best alpha",
            _ridge_cv(return_index=True), r"index of the best penalty"),
    Planted("choose_ridge_alpha", "returns scikit-learn's negated scores",
            _ridge_cv(sign=-1.0, pick=np.argmax), r"neg_mean_squared_error"),
    Planted("choose_ridge_alpha", "deals groups to folds at random", _ridge_cv(shuffle=True),
            r"folds must be deterministic"),
    Planted("choose_ridge_alpha", "returns only the alpha", lambda X, Y, g, a, n_folds=5: 1.0,
            r"pair \(best_alpha, cv_mse\)"),
    Planted("choose_ridge_alpha", "subtracts (n,) predictions from (n, 1) targets",
            _ridge_cv(keep_shape=False), r"broadcasts to an n x n matrix"),
    Planted("choose_ridge_alpha", "averages over the alphas",
            lambda X, Y, g, a, n_folds=5: (1.0, np.zeros(3)), r"one number per alpha"),
]

PLANTED = PROBE + SPLIT + SHUFFLE + VERDICT + NOVEL + RIDGE


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch05, planted)


# ---------------------------------------------------------------------------- garbage
@pytest.mark.parametrize("name, garbage", [
    ("fit_affine_probe", lambda X, Y, w=None: (np.zeros((X.shape[1], Y.shape[1])), Y.mean(0))),
    ("split_points", lambda N, L, f, s: (np.arange(N * L), np.array([], dtype=int))),
    ("shuffle_control", lambda a, b, c, d, rng: 0.11),
    ("beats_baselines", lambda t, b, f=2.0: ("shuffled", 10.0, True)),
    ("novel_prefix_mask", lambda t, tr, te: np.ones((len(te), t.shape[1]), dtype=bool)),
    ("choose_ridge_alpha", lambda X, Y, g, a, n_folds=5: (float(a[0]), np.ones(len(a)))),
])
def test_garbage_fails(name, garbage):
    assert not getattr(ch05, f"check_{name}")(garbage)


# ---------------------------------------------------------------------------- other correct answers
def _probe_pinv(X, Y, w=None):
    A = np.hstack([X, np.ones((len(X), 1))])
    s = np.ones(len(X)) if w is None else np.sqrt(w)
    sol = np.linalg.pinv(A * s[:, None]) @ (Y * s[:, None])
    return sol[:-1], sol[-1]


def _split_choice(N, L, frac, seed):
    rng = np.random.default_rng(seed)
    fit = rng.choice(N, size=int(np.floor(frac * N)), replace=False)
    points = np.arange(N * L).reshape(N, L)
    mask = np.zeros(N, bool)
    mask[fit] = True
    return np.sort(points[mask].ravel()), np.sort(points[~mask].ravel())


def _shuffle_in_place(X_train, Y_train, X_test, Y_test, rng):
    shuffled = Y_train.copy()
    rng.shuffle(shuffled)
    reg = LinearRegression().fit(X_train, shuffled)
    return float(np.mean((Y_test - reg.predict(X_test)) ** 2))


def _shuffle_other_seed_use(X_train, Y_train, X_test, Y_test, rng):
    rng.random()                                   # another draw first: another permutation
    return _shuffle_in_place(X_train, Y_train, X_test, Y_test, rng)


@pytest.mark.parametrize("name, correct", [
    ("fit_affine_probe", _probe_pinv),
    ("split_points", _split_choice),
    ("shuffle_control", _shuffle_in_place),
    ("shuffle_control", _shuffle_other_seed_use),
])
def test_other_correct_answers_pass(name, correct):
    result = getattr(ch05, f"check_{name}")(correct)
    assert result, result.message


def test_ridge_with_the_course_probe_passes():
    """The exercise's own recipe, probing.AffineProbe(alpha=a), on a one-column target: its
    predictions keep the target's shape (n, 1) at every alpha, and the checker accepts them."""
    from beliefcourse.probing import AffineProbe

    def choose_ridge_alpha(X, Y, groups, alphas, n_folds=5):
        fold = np.unique(groups, return_inverse=True)[1].reshape(-1) % n_folds
        cv = np.zeros(len(alphas))
        for j, a in enumerate(alphas):
            errors = []
            for k in range(n_folds):
                val = fold == k
                pred = AffineProbe(alpha=a).fit(X[~val], Y[~val]).predict(X[val])
                assert pred.shape == Y[val].shape
                errors.append(np.mean((Y[val] - pred) ** 2))
            cv[j] = np.mean(errors)
        return float(alphas[np.argmin(cv)]), cv

    result = ch05.check_choose_ridge_alpha(choose_ridge_alpha)
    assert result, result.message
