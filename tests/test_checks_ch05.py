"""Checkers of practice notebook 05: each planted mistake gets its own diagnosis, and
garbage never passes.

Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import numpy as np
import pytest
from exercise_utils import assert_diagnosis
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


@pytest.mark.parametrize("planted, phrases", [
    (lambda X, Y, w=None: _solve(X, Y, w, intercept=False), ["without an intercept"]),
    (lambda X, Y, w=None: _solve(X, Y, None), ["ignores the weights"]),
    (lambda X, Y, w=None: _solve(X, Y, w, root=False), ["sqrt(w_i)", "multiplied the rows by w_i"]),
    (lambda X, Y, w=None: _solve(X, Y, w, scale_y=False), ["but not the rows of Y"]),
    (lambda X, Y, w=None: (LinearRegression().fit(X, Y, sample_weight=w).coef_,
                           LinearRegression().fit(X, Y, sample_weight=w).intercept_),
     ["transposed", "coef_.T"]),
    (_normal_equations, ["lstsq"]),
    (lambda X, Y, w=None: np.zeros((X.shape[1] + 1, Y.shape[1])), ["pair (W, b)"]),
])
def test_probe_mistakes(planted, phrases):
    assert_diagnosis(ch05.check_fit_affine_probe(planted), *phrases)


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


@pytest.mark.parametrize("planted, phrases", [
    (_by_point, ["appears in both train and test"]),
    (lambda N, L, f, s: _by_sequence(N, L, f, s, flip=True), ["wrong way round", "20 %"]),
    (lambda N, L, f, s: _by_sequence(N, L, f, s, first=True), ["lexicographic", "random"]),
    (lambda N, L, f, s: _by_sequence(N, L, f, s, order="pos"), ["flattening order", "n * L + p"]),
    (_global_rng, ["same seed", "default_rng(seed)"]),
    (_sequence_indices, ["sequence indices", "*point* indices"]),
    (lambda N, L, f, s: tuple(np.isin(np.arange(N * L), x) for x in _by_sequence(N, L, f, s)),
     ["boolean mask"]),
])
def test_split_mistakes(planted, phrases):
    assert_diagnosis(ch05.check_split_points(planted), *phrases)


# ---------------------------------------------------------------------------- shuffle control
def _mse(Xtr, Yfit, Xte, Yte):
    return float(np.mean((Yte - LinearRegression().fit(Xtr, Yfit).predict(Xte)) ** 2))


@pytest.mark.parametrize("planted, phrases", [
    (lambda a, b, c, d, rng: _mse(a, b, c, d), ["pairing", "survived"]),
    (lambda a, b, c, d, rng: (lambda p: _mse(a[p], b[p], c, d))(rng.permutation(len(a))),
     ["pairing"]),
    (lambda a, b, c, d, rng: _mse(a, b[:, [2, 0, 1]], c, d), ["*coordinates*", "rows"]),
    (lambda a, b, c, d, rng: _mse(a, rng.random(b.shape), c, d), ["*random* targets"]),
    (lambda a, b, c, d, rng: _mse(a, b[np.random.permutation(len(b))], c, d), ["reproducible"]),
    (lambda a, b, c, d, rng: -0.1, ["cannot be negative"]),
])
def test_shuffle_mistakes(planted, phrases):
    assert_diagnosis(ch05.check_shuffle_control(planted), *phrases)


# ---------------------------------------------------------------------------- verdict
def _verdict(key="held_out", pick=min, invert=False, strict=False):
    def fn(trained, baselines, factor=2.0):
        name = pick(baselines, key=lambda k: baselines[k][key])
        ratio = baselines[name]["held_out"] / trained["held_out"]
        ratio = 1 / ratio if invert else ratio
        return name, ratio, (ratio > factor) if strict else (ratio >= factor)
    return fn


@pytest.mark.parametrize("planted, phrases", [
    (_verdict(key="in_sample"), ["in-sample", "held-out"]),
    (_verdict(pick=max), ["*weakest*"]),
    (_verdict(invert=True), ["inverted"]),
    (_verdict(strict=True), ["ratio >= factor"]),
    (lambda t, b, f=2.0: (lambda n: (n, b[n]["held_out"] / t["held_out"], "yes"))(
        min(b, key=lambda k: b[k]["held_out"])), ["True or False"]),
])
def test_verdict_mistakes(planted, phrases):
    assert_diagnosis(ch05.check_beats_baselines(planted), *phrases)


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


@pytest.mark.parametrize("planted, phrases", [
    (lambda t, tr, te: _novel(t, tr, te, shift=0), ["Off by one", "p tokens"]),
    (lambda t, tr, te: _novel(t, tr, te, shift=2), ["Off by one", "p + 2"]),
    (lambda t, tr, te: ~_novel(t, tr, te), ["inverted"]),
    (_whole, ["whole sequences"]),
    (lambda t, tr, te: _novel(t, tr, te)[:, :-1], ["expected shape"]),
])
def test_novel_mistakes(planted, phrases):
    assert_diagnosis(ch05.check_novel_prefix_mask(planted), *phrases)


# ---------------------------------------------------------------------------- ridge penalty
def _ridge_cv(*, fold_rule="group", score_on="val", fit_on="rest", intercept=True, pick=np.argmin,
              return_index=False, sign=1.0, shuffle=False):
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
                errs.append(np.mean((Y[dst] - pred) ** 2))
            cv.append(np.mean(errs))
        cv = sign * np.array(cv)
        i = int(pick(cv))
        return (i if return_index else float(alphas[i])), cv
    return fn


def test_ridge_reference_passes():
    assert ch05.check_choose_ridge_alpha(_ridge_cv())


@pytest.mark.parametrize("planted, phrases", [
    (_ridge_cv(fold_rule="point"), ["split the points", "by sequence"]),
    (_ridge_cv(score_on="fit"), ["in-sample"]),
    (_ridge_cv(fit_on="all"), ["fitted on all the points"]),
    (_ridge_cv(intercept=False), ["no intercept"]),
    (_ridge_cv(pick=np.argmax), ["*largest* error"]),
    (_ridge_cv(return_index=True), ["index of the best penalty"]),
    (_ridge_cv(sign=-1.0, pick=np.argmax), ["neg_mean_squared_error"]),
    (_ridge_cv(shuffle=True), ["cv_mse should be"]),
    (lambda X, Y, g, a, n_folds=5: 1.0, ["pair (best_alpha, cv_mse)"]),
    (lambda X, Y, g, a, n_folds=5: (1.0, np.zeros(3)), ["one number per alpha"]),
])
def test_ridge_mistakes(planted, phrases):
    assert_diagnosis(ch05.check_choose_ridge_alpha(planted), *phrases)


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
