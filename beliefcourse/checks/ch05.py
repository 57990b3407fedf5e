"""Exercises of practice notebook 05 (probing the residual stream)."""

from __future__ import annotations

import copy
import math
from functools import partial
from itertools import product

import numpy as np
from scipy.special import softmax

from ..probing import AffineProbe, new_prefix_points
from ._core import Exercise, Mistake, as_array, as_float, as_tuple, close, magnitude, nearest_known


def _solve(X, Y, w=None, *, intercept=True, root=True, scale_y=True, inv=False):
    """Least squares on [X, 1] with rows scaled by sqrt(w), and its typical mistakes."""
    A = np.hstack([X, np.ones((len(X), 1))]) if intercept else X
    if w is not None:
        s = (np.sqrt(w) if root else w)[:, None]
        A, Y = A * s, (Y * s if scale_y else Y)
    sol = np.linalg.inv(A.T @ A) @ A.T @ Y if inv else np.linalg.lstsq(A, Y, rcond=None)[0]
    return (sol[:-1], sol[-1]) if intercept else (sol, np.zeros(Y.shape[1]))


def _sklearn(X, Y, w=None, transpose=True):
    probe = AffineProbe().fit(X, Y, sample_weight=w)
    return probe.coef_.T if transpose else probe.coef_, probe.intercept_


def _probe_out(value, what):
    W, b = (as_array(x, what).astype(float) for x in as_tuple(value, what, "(W, b)"))
    if W.ndim != 2 or W.shape[1] != b.size:
        raise Mistake(f"{what}: W should have shape (D, S) and b (S,); got {W.shape} and {b.shape}"
                      + (": W is transposed; use coef_.T." if W.shape[:1] == (b.size,) else "."))
    return np.vstack([W, b.reshape(-1)])


def _probe_cases():
    rng, out = np.random.default_rng(55), []
    for label, n, D, S, weighted in [("random data, no weights", 120, 4, 3, False),
                                     ("random data, with weights", 150, 6, 3, True),
                                     ("a single target coordinate, with weights", 80, 3, 1, True)]:
        X = rng.normal(1.0, 1.0, (n, D))
        Y = X @ rng.normal(0, 0.5, (D, S)) + rng.normal(2.0, 1.0, S) + rng.normal(0, 0.3, (n, S))
        out.append((label, X, Y, rng.gamma(0.5, 1.0, n) if weighted else None))
    X = rng.normal(0.5, 1.0, (100, 5))
    out.append(("collinear features (column 5 = 2 x column 0), with weights",
                np.hstack([X, X[:, :1] * 2.0]), rng.normal(1.0, 1.0, (100, 3)),
                rng.gamma(1.0, 1.0, 100)))
    return [(f"For {label} (X {X.shape}, Y {Y.shape}; rows: W, then b)", (X, Y, w))
            for label, X, Y, w in out]


check_fit_affine_probe = Exercise(
    name="fit_affine_probe", signature="fit_affine_probe(X, Y, weights=None) -> (W, b)",
    cases=_probe_cases, reference=lambda X, Y, w: _probe_out(_sklearn(X, Y, w), ""),
    convert=_probe_out, deterministic=True,
    advice="Solve least squares on [X, 1], the rows of both sides scaled by sqrt(w) (lstsq).",
    summary="Equals LinearRegression on {n} data sets: weights or none, one target, collinear X.",
    mistakes=(
        ("no intercept", partial(_solve, intercept=False), "No intercept: append ones to X."),
        ("ignores weights", lambda X, Y, w=None: _solve(X, Y), "You ignored w: weight by sqrt(w)."),
        ("scales rows by w", partial(_solve, root=False), "Scale the rows by sqrt(w), not w."),
        ("scales X, not Y", partial(_solve, scale_y=False), "You left Y unscaled: scale it too."),
        ("returns coef_ as W", partial(_sklearn, transpose=False), None, r"transposed.*coef_\.T"),
        ("inverts X^T X", partial(_solve, inv=True), "You inverted X^T X, singular for collinear "
         "features: use np.linalg.lstsq(A, Y, rcond=None).", "", None, np.linalg.LinAlgError)))


def _test_split_points(fn):
    def split(seed):
        out = as_tuple(fn(N, L, frac, seed), label, "(train_points, test_points)")
        for name, x in zip(("train_points", "test_points"), out):
            arr = as_array(x, f"{label}: {name}")
            if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer) and np.any(arr % 1):
                raise Mistake(f"{label}: {name} should hold integer point indices, not {arr.dtype} "
                              "(np.flatnonzero turns a boolean mask into indices).")
            yield arr.astype(np.int64).reshape(-1)
    settings = [(100, 10, 0.2, 0), (59, 7, 0.2, 3), (40, 5, 0.5, 11), (1000, 10, 0.2, 1)]
    for N, L, frac, seed in settings:
        label = f"For split_points({N}, {L}, {frac}, seed={seed})"
        train, test = split(seed)
        both, n_train = np.concatenate([train, test]), math.floor(frac * N)
        shared = np.intersect1d(tr_seq := np.unique(train // L), te_seq := np.unique(test // L))
        if both.min() < 0 or both.max() >= N * L:
            why = f"point indices lie in 0..N*L-1 = 0..{N * L - 1}: n * n_positions + p."
        elif len(np.intersect1d(train, test)):
            why = f"point {np.intersect1d(train, test)[0]} is in both the fit and the test set."
        elif len(missing := np.setdiff1d(np.arange(N * L), both)):
            why = ("you returned sequence indices; return *point* indices n * n_positions + p."
                   if len(both) == N else f"{len(missing)} of the N*L points are in neither set.")
        elif len(shared) and not len(np.intersect1d(train % N, test % N)):
            why = "you flattened p * N + n; reshape(-1) puts point (n, p) at n * n_positions + p."
        elif len(shared):
            why = f"sequence {shared[0]} is in both sets: split the *sequences*, not the points."
        elif len(np.unique(both)) < len(both):
            why = "a point is listed twice: draw sequences without replacement (rng.permutation)."
        elif len(tr_seq) != n_train:
            why = f"you fit {len(tr_seq)} sequences, not floor({frac} * {N}) = {n_train}" + (
                ": train_fraction is the share *fitted*." if len(te_seq) == n_train else ".")
        elif np.array_equal(tr_seq, np.arange(n_train)) and N >= 40:
            why = f"you fit the first {n_train} sequences: draw at random, default_rng(seed)."
        elif not (np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)):
            why = "return sorted index arrays (np.sort)."
        elif any(np.array_equal(next(split(s)), train) != (s == seed) for s in (seed, seed + 1)):
            why = "your split ignores the seed (same seed, same split): use default_rng(seed)."
        else:
            continue
        raise Mistake(f"{label}: {why}")
    return "Disjoint, complete, by sequence, the right share, random, reproducible: 4 settings."


def _by_sequence(N, L, frac, seed, *, pos_major=0, first=0, flip=0, glob=0, out="points"):
    """A split of the sequences as point indices, and its typical mistakes."""
    n_train = math.floor((1 - frac if flip else frac) * N)
    rng = np.random.default_rng(np.random.randint(2**31) if glob else seed)
    seqs = np.arange(N) if first else rng.permutation(N)
    sides = [(np.arange(L)[None] * N + s[:, None] if pos_major else s[:, None] * L + np.arange(L))
             .ravel() for s in (seqs[:n_train], seqs[n_train:])]
    return tuple({"points": np.sort(p), "seqs": np.unique(p // L),
                  "mask": np.isin(np.arange(N * L), p)}[out] for p in sides)


check_split_points = Exercise(
    name="split_points", test=_test_split_points,
    signature="split_points(n_sequences, n_positions, train_fraction, seed) -> (train, test)",
    mistakes=(
        ("splits points", lambda N, L, f, s: _by_sequence(N * L, 1, f, s), None, r"\*sequences\*"),
        ("fits the test share", partial(_by_sequence, flip=True), None, r"share \*fitted\*"),
        ("fits the first sequences", partial(_by_sequence, first=True), None, r"first \d"),
        ("flattens p * N + n", partial(_by_sequence, pos_major=True), None, r"p \* N \+ n"),
        ("uses np.random", partial(_by_sequence, glob=True), None, r"same seed.*default_rng\(seed"),
        ("returns sequence indices", partial(_by_sequence, out="seqs"), None, r"\*point\* ind"),
        ("returns boolean masks", partial(_by_sequence, out="mask"), None, r"boolean mask")))


def _shuffle_case(fn, seed, means, sharpness, n_train, D, spread, centre=0, n_test=3000):
    """Beliefs near ``means``, affine in the features (no constant one if ``centre``)."""
    X = (rng := np.random.default_rng(seed)).normal(0, 1, (n_train + n_test, D))
    Y = softmax(sharpness * X @ rng.normal(0, 0.6, (D, 3)) + np.log(means), axis=1)
    X = np.hstack([X, (Y - centre * Y.mean(0)) @ rng.normal(0, 1, (3, 3))])
    Xtr, Ytr, Xte, Yte = X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]
    label = f"On beliefs near {means} that the features fix, {n_train} points, {D + 3} features"

    def mse(X_train, Y_fit, X_test, Y_test, icpt=True):
        return float(np.mean((Y_test - AffineProbe(icpt).fit(X_train, Y_fit).predict(X_test)) ** 2))

    def run(order=slice(None), seed=0):
        args = (Xtr, Ytr, Xte[order], Yte[order], np.random.default_rng(seed))
        return as_float(check_shuffle_control.call(fn, args, label), "shuffle_control")
    got, real, chance = run(), mse(Xtr, Ytr, Xte, Yte), float(np.mean((Yte - Ytr.mean(0)) ** 2))
    rng = np.random.default_rng(123)
    refs = [mse(Xtr, Ytr[rng.permutation(n_train)], Xte, Yte) for _ in range(20 + 20 * (D > 6))]
    lo, hi = min(refs) * (1 - spread), max(refs) * (1 + spread)
    if got < 0:
        why = f"an MSE cannot be negative; you returned {got:.4g}."
    elif got <= max(10 * real, 1e-6):
        why = (f"your MSE, {magnitude(got)}, is as small as the real probe's: the pairing "
               "survived. Permute the targets only (not X and Y together).")
    elif got != run() or lo <= got <= hi and got == run(seed=1):
        why = ("the MSE must be reproducible from the `rng` argument and change with it: draw "
               "the permutation from `rng`, not from np.random or a generator of your own.")
    elif not math.isclose(moved := run(np.random.default_rng(seed).permutation(len(Yte))), got,
                          rel_tol=1e-5):                  # float32 sums differ by about 1e-6
        why = (f"listing the test points in another order changed your MSE ({got:.6f} to "
               f"{moved:.6f}): permute the rows of Y_train only, never Y_test (nor X_test).")
    elif lo <= got <= hi:
        return f"{got:.4f} (beliefs' variance {chance:.4f}, real probe {magnitude(real, '.0e')})"
    else:
        if lo <= got ** 2 <= hi:
            why = "its square root (an RMSE): return the MSE itself."
        elif centre and abs(got / mse(Xtr, Ytr[::-1], Xte, Yte, False) - 1) < 0.05:
            why = "what a fit without an intercept gives: fit an *affine* probe, X @ W + b."
        elif lo <= got / Ytr.shape[1] <= hi:
            why = "summed over the coordinates: take the mean over points *and* coordinates."
        elif any(abs(got / mse(Xtr, np.roll(Ytr, k, 1), Xte, Yte) - 1) < 0.05 for k in (1, 2)):
            why = "what permuting the *coordinates* (columns) gives: permute the rows."
        elif got < lo and n_train < Xtr.shape[1] * 3:
            why = (f"too small: you scored in-sample, where {n_train} points and {Xtr.shape[1]} "
                   "features memorise even shuffled targets. Score on X_test against Y_test.")
        elif any(abs(got - float(np.mean((Yte - c) ** 2))) < 0.1 * got for c in (0.5, 1 / 3)):
            why = "as if you fitted *random* targets: permute the real ones instead."
        else:
            why = ("not a shuffled probe's held-out error. Fit on X_train with row-permuted "
                   "Y_train; score on X_test against the true Y_test.")
        why = (f"a shuffled probe scored on the held-out points gets {lo:.4f} to {hi:.4f} (the "
               f"beliefs' variance is {chance:.4f}); you returned {got:.4f}, {why}")
    raise Mistake(f"{label}: {why}")


def _test_shuffle_control(fn):
    cases = [(8, (0.6, 0.3, 0.1), 1.0, 3000, 6, 0.03), (9, (0.15, 0.15, 0.7), 2.5, 3000, 6, 0.03),
             (10, (0.5, 0.3, 0.2), 1.5, 60, 40, 0.1), (12, (0.5, 0.2, 0.3), 1.0, 3000, 6, 0.03, 1)]
    return ("Your shuffle control scores " + "; ".join([_shuffle_case(fn, *c) for c in cases][:3])
            + ", reproducibly from the rng (the last data set has few points, many features).")


def _shuffled(fit=lambda a, b, p: (a, b[p]), score=lambda *a: a[2:4], draw=None, probe=AffineProbe):
    """A probe fitted on ``fit(X_train, Y_train, perm)``, scored on ``score(..., perm)``."""
    def shuffle_control(X_train, Y_train, X_test, Y_test, rng):
        p = (draw or rng.permutation)(len(Y_train))
        X, Y = score(X_train, Y_train, X_test, Y_test, p)
        return float(np.mean((Y - probe().fit(*fit(X_train, Y_train, p)).predict(X)) ** 2))
    return shuffle_control


check_shuffle_control = Exercise(
    name="shuffle_control", test=_test_shuffle_control, untouched=True,
    signature="shuffle_control(X_train, Y_train, X_test, Y_test, rng) -> mse", mistakes=(
        ("scores in-sample", _shuffled(score=lambda a, b, c, d, p: (a, b[p])), None, "in-sample"),
        ("shuffles X and Y together", _shuffled(fit=lambda a, b, p: (a[p], b[p])), None, "pairing"),
        ("permutes columns", _shuffled(fit=lambda a, b, p: (a, b[:, [2, 0, 1]])), None, "column"),
        ("fits random targets", _shuffled(fit=lambda a, b, p: (
            a, np.random.default_rng(p[0]).random(b.shape))), None, r"\*random\* targets"),
        ("draws from np.random", _shuffled(draw=np.random.permutation), None, "reproducible"),
        ("in place", _shuffled(fit=lambda a, b, p: (a, np.copyto(b, b[p]) or b)), None, "place"),
        ("no intercept", _shuffled(probe=partial(AffineProbe, False)), None, "without an interc"),
        ("returns a negative number", lambda *args: -0.1, None, r"cannot be negative"),
        ("returns the RMSE", lambda *a: math.sqrt(_shuffled()(*a)), None, r"RMSE"),
        ("sums over the coordinates", lambda *a: 3 * _shuffled()(*a), None, r"summed over"),
        ("scores against a permuted Y_test", _shuffled(score=lambda a, b, c, d, p: (
            c, d[np.random.default_rng(p[0]).permutation(len(d))])), None, r"another order")))


def _m(in_sample, held_out):
    return {"in_sample": in_sample, "held_out": held_out}


_FINAL = {"shuffled": _m(0.110, 0.111), "untrained": _m(0.0163, 0.0164),
          "input only": _m(0.0061, 0.0062)}
_VERDICTS = [  # (label, trained, baselines, factor)
    ("a well-trained Mess3 model (numbers like the paper's)", _m(3.9e-4, 4.0e-4), _FINAL, 20.0),
    ("an early checkpoint", _m(0.0080, 0.0084), _FINAL, 2.0),
    ("a 1536-feature probe that interpolates its fit set", _m(1e-5, 0.03), {"shuffled": _m(
        0.02, 0.16), "untrained": _m(2e-5, 0.05), "final layer alone": _m(0.01, 0.012)}, 1.5),
    ("a probe that beats the untrained net by exactly the factor", _m(0.004, 0.005),
     {"untrained": _m(0.01, 0.010), "shuffled": _m(0.1, 0.11)}, 2.0)]


def _test_beats_baselines(fn):
    def same(a, b):
        return a[0] == b[0] and a[2] == b[2] and math.isclose(a[1], b[1], rel_tol=1e-3)
    for label, *args in _VERDICTS:
        label, answer = f"For {label} (factor {args[2]})", _verdict()(*args)
        name, ratio, beats = as_tuple(fn(*copy.deepcopy(args)), label, "(name, ratio, beats)")
        if not isinstance(name, str) or not isinstance(beats, (bool, np.bool_)):
            raise Mistake(f"{label}: name is a key of `baselines` (such as {answer[0]!r}), beats "
                          f"True or False; you returned {name!r} and {beats!r}.")
        got = (name, as_float(ratio, f"{label}: ratio"), bool(beats))
        if not same(got, answer):
            why = nearest_known(check_beats_baselines, args, partial(same, got)) or (
                "Strongest: lowest held-out MSE; ratio: baseline / yours; beats: ratio >= factor.")
            raise Mistake(f"{label}: expected {answer[0]!r}, ratio {answer[1]:.4g}, beats "
                          f"{answer[2]}; you returned {name!r}, ratio {got[1]:.4g}, beats "
                          f"{got[2]}. {why}")
    return "Right on 4 cases: the strongest baseline, the ratio, the decision at the factor."


def _verdict(key="held_out", pick=min, invert=False, strict=False, over="held_out", say=None,
             num="held_out", give=lambda baselines, name: name):
    def beats_baselines(trained, baselines, factor=2.0):
        name = pick(baselines, key=lambda k: baselines[k][key])
        ratio = (baselines[name][num] / trained[over]) ** (-1 if invert else 1)
        return give(baselines, name), ratio, say or (ratio > factor if strict else ratio >= factor)
    return beats_baselines


check_beats_baselines = Exercise(
    name="beats_baselines", test=_test_beats_baselines,
    signature="beats_baselines(trained, baselines, factor=2.0) -> (name, ratio, beats)", mistakes=(
        ("ranks in-sample", _verdict(key="in_sample"), "Rank by held-out MSE, not in-sample."),
        ("picks the weakest", _verdict(pick=max), "You took the weakest: use lowest held-out MSE."),
        ("inverts the ratio", _verdict(invert=True), "Your ratio is inverted: baseline / trained."),
        ("uses ratio > factor", _verdict(strict=True), "You used ratio > factor; use >= factor."),
        ("divides by in-sample", _verdict(over="in_sample"), "You divided by the in-sample MSE."),
        ("in-sample ratio", _verdict(over="in_sample", num="in_sample"), "You used in-sample MSE."),
        ("returns 'yes'", _verdict(say="yes"), None, r"True or False"),
        ("returns the baseline's dict", _verdict(give=lambda b, n: b[n]), None, "key of `baseli")))


def _novel(tokens, train, test, shift=1, start=lambda p: 0):
    """``mask[i, p]``: no training sequence has test sequence i's tokens start(p):p + shift."""
    out = np.zeros((len(test), tokens.shape[1]), dtype=bool)
    for p in range(tokens.shape[1]):
        seen = {tuple(r[start(p):p + shift]) for r in tokens[train]}
        out[:, p] = [tuple(tokens[s, start(p):p + shift]) not in seen for s in test]
    return out


def _coded(tokens, train, test, base):
    codes = np.cumsum(tokens * float(base) ** np.arange(tokens.shape[1])[::-1], 1)
    return (codes[test][:, None] != codes[train][None]).all(1)


def _novel_cases():
    rng, out = np.random.default_rng(31), []
    for label, (N, L, X), n_fit in [
            ("200 random sequences of 6 tokens over 3 symbols, 20 % fitted", (200, 6, 3), 40),
            ("64 random binary sequences, half fitted", (64, 8, 2), 32),
            ("12 random sequences of 5 tokens over 4 symbols, 3 fitted", (12, 5, 4), 3)]:
        tokens, perm = rng.integers(0, X, (N, L)), rng.permutation(N)
        out.append((f"For {label}", (tokens, np.sort(perm[:n_fit]), np.sort(perm[n_fit:]))))
    perm = rng.permutation(81)
    return out + [("For all 81 sequences of 4 tokens, test indices unsorted",
                   (np.array(list(product(range(3), repeat=4))), np.sort(perm[:20]), perm[20:]))]


def _novel_advice(case):
    if np.shape(case.got) != np.shape(case.expected):
        return "Return one row per test sequence and one column per position."
    tokens, _, test = case.args
    i, p = np.argwhere(case.got != case.expected)[0]
    return (f"Test sequence {test[i]} at position {p} has prefix {tokens[test[i], :p + 1].tolist()}"
            f", which {'starts no' if case.expected[i, p] else 'starts some'} training sequence.")


check_novel_prefix_mask = Exercise(
    name="novel_prefix_mask", cases=_novel_cases, advice=_novel_advice,
    signature="novel_prefix_mask(tokens, train_seqs, test_seqs) -> bool (n_test, L)",
    reference=lambda tokens, train, test: new_prefix_points(tokens, train, test)[test],
    summary="Correct on {n} token sets, one with 3 sequences fitted, one with unsorted test_seqs.",
    mistakes=(
        ("compares p tokens", partial(_novel, shift=0), "Off by one: compare p + 1 tokens."),
        ("inverts the mask", lambda t, tr, te: ~_novel(t, tr, te), "Inverted: True marks *new*."),
        ("compares whole sequences", lambda t, tr, te: _novel(t, tr, te, t.shape[1]),
         "Compare each position's prefix tokens[s, :p + 1], not whole sequences."),
        ("compares the token at p", partial(_novel, start=lambda p: p),
         "Compare the whole prefix tokens[s, :p + 1], not only the token at position p."),
        ("codes in base max(tokens)", lambda t, tr, te: _coded(t, tr, te, max(int(t.max()), 1)),
         "Your prefix codes collide: use base V = tokens.max() + 1 (or tuples of tokens)."),
        ("sums tokens", lambda t, tr, te: _coded(t, tr, te, 1), "Token sums collide: use tuples."),
        ("compares suffixes", partial(_novel, shift=99, start=lambda p: p), "Compare prefixes, not "
         "suffixes: tokens[s, :p + 1]."),
        ("compares row i with row i", lambda t, tr, te: np.cumsum(t[te] != t[tr][np.arange(len(
            te)) % len(tr)], 1) > 0, "Compare with *every* training sequence, not only the i-th."),
        ("compares with test sequences", lambda t, tr, te: _novel(t, te, te),
         "Compare with the *training* sequences, tokens[train_seqs], not the test ones."),
        ("uses rows 0..len(train)", lambda t, tr, te: _novel(t, np.arange(len(tr)), te),
         "The training sequences are tokens[train_seqs], not rows 0..len(train_seqs) - 1."),
        ("drops the last position", lambda t, tr, te: _novel(t, tr, te)[:, :-1],
         "Your mask has one column too few: positions run from 0 to L - 1.")))


_RIDGE_ALPHAS = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0])


def _ridge(mode="group", intercept=True, pick=np.argmin, index=False, sign=1, err=np.mean, pool=0):
    """The exercise's rule (``mode="group"``) and its typical mistakes (the other modes)."""
    def choose_ridge_alpha(X, Y, groups, alphas, n_folds=5):
        ids, n = np.unique(groups, return_inverse=True)[1].reshape(-1), len(X)
        fold = {"point": np.arange(n), "id": groups, "random": np.random.default_rng().permutation(
            ids.max() + 1)[ids]}.get(mode, ids) % n_folds

        def mse(a, k):
            fit, val = (fold != k, fold == k)[::-1 if mode == "swap" else 1]
            val = fit if mode == "insample" else val
            pred = AffineProbe(alpha=a, fit_intercept=intercept).fit(X[fit], Y[fit]).predict(X[val])
            if mode == "broadcast" and Y.shape[1] == 1 and a > 0:
                pred = pred.reshape(-1)                  # (n, 1) targets minus (n,)
            return err((Y[val] - pred) ** 2)
        size = [np.mean(fold == k) if pool else 1 / n_folds for k in range(n_folds)]
        cv = sign * np.array([sum(mse(a, k) * size[k] for k in range(n_folds)) for a in alphas])
        return (int(pick(cv)) if index else float(alphas[int(pick(cv))])), cv
    return choose_ridge_alpha


def _ridge_data(seed, G=40, L=6, D=25, S=3, uneven=False):
    """Groups of near-duplicate points with a target offset no linear map learns (uneven: 1-L)."""
    Z = (rng := np.random.default_rng(seed)).normal(0, 1, (G, D))
    Yg = Z @ rng.normal(0, 0.3, (D, S)) + 1.5 + rng.normal(0, 0.5, (G, S))
    X = np.repeat(Z, L, 0) + rng.normal(0, 0.05, (G * L, D)) + 2.0
    Y = np.repeat(Yg, L, 0) + rng.normal(0, 0.02, (G * L, S))
    groups = np.repeat(rng.permutation(1000)[:G], L)        # arbitrary, unsorted group ids
    perm = rng.permutation(G * L)                           # groups are not contiguous
    if uneven:
        perm = perm[(np.arange(G * L) % L < np.repeat(rng.integers(1, L + 1, G), L))[perm]]
    return X[perm], Y[perm], groups[perm]


def _ridge_out(value, what):
    alpha, cv = as_tuple(value, what, "(best_alpha, cv_mse)")
    return np.append(as_array(cv, f"{what}: cv_mse").astype(float).reshape(-1),
                     as_float(alpha, f"{what}: best_alpha"))


check_choose_ridge_alpha = Exercise(
    name="choose_ridge_alpha", reference=lambda *a: _ridge_out(_ridge()(*a), ""),
    signature="choose_ridge_alpha(X, Y, groups, alphas, n_folds=5) -> (alpha, cv_mse)",
    cases=lambda: [(f"For grouped data, 40 sequences of {'1 to ' * u}6 points, {S} target"
                    f"{'s' * (S > 1)}, alphas {_RIDGE_ALPHAS.tolist()} (cv_mse per alpha, then "
                    "best_alpha)", (*_ridge_data(seed, S=S, uneven=u), _RIDGE_ALPHAS.copy(), 5))
                   for seed, S, u in [(1, 3, False), (3, 1, False), (4, 2, True)]],
    convert=_ridge_out, deterministic=": the i-th of np.unique(groups) goes to fold i % n_folds",
    advice="Fold i % n_folds holds sequence np.unique(groups)[i]. For each alpha and fold k: fit "
           "AffineProbe(alpha) off fold k, MSE on it; cv_mse: mean over folds; best_alpha: argmin.",
    summary="cv_mse and best_alpha right on {n} grouped data sets, one with unequal folds.",
    mistakes=(
        ("folds over points", _ridge("point"), "Your folds split points: deal whole sequences."),
        ("deals groups by id", _ridge("id"),
         "You dealt folds by group id: np.unique(groups)[i] goes to fold i % n_folds."),
        ("pools the errors", _ridge(pool=True), "You pooled all points: average the fold MSEs."),
        ("sums the squared errors", _ridge(err=np.sum), "A fold's MSE is a mean, not a sum."),
        ("sums over coordinates", _ridge(err=lambda e: e.sum(-1).mean()), "You summed over the "
         "coordinates: a fold's MSE is the mean over points *and* coordinates."),
        ("fits on fold k", _ridge("swap"), "You fitted on fold k, scored the rest: swap them."),
        ("scores in-sample", _ridge("insample"), "You scored in-sample: score on held-out fold k."),
        ("fits no intercept", _ridge(intercept=False), "No intercept: use AffineProbe(alpha=a)."),
        ("picks the largest error", _ridge(pick=np.argmax), "You took the largest error: argmin."),
        ("returns the index", _ridge(index=True), "Return alphas[index], not the index."),
        ("negates the MSE", _ridge(sign=-1.0, pick=np.argmax), "cv_mse is the MSE, not minus it."),
        ("subtracts (n,) from (n, 1)", _ridge("broadcast"), "Your (n,) predictions minus the "
         "(n, 1) targets broadcast to n x n (Ridge returns (n,)): reshape them to Y's shape.", "",
         lambda c: c.args[1].shape[1] == 1 and close(c.got[1:-1], _ridge_out(_ridge(  # alpha > 0
             "broadcast")(*c.args), "")[1:-1])),
        ("deals groups at random", _ridge("random"), None, "must be determ"),
        ("averages over alphas", lambda *a, **k: (1, [0] * 3), "You averaged over the alphas.")))

EXERCISES = (check_fit_affine_probe, check_split_points, check_shuffle_control,
             check_beats_baselines, check_novel_prefix_mask, check_choose_ridge_alpha)
