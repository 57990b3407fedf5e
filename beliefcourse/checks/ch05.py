"""Exercises of practice notebook 05 (probing the residual stream), for the registry; split_points,
shuffle_control (random) and beats_baselines (a name and a decision) have tests of their own."""

from __future__ import annotations

import copy
import math
from functools import partial
from itertools import product

import numpy as np

from ..probing import AffineProbe, new_prefix_points
from ._core import Exercise, Known, Mistake, as_array, as_float, close, magnitude

__all__ = ["EXERCISES", "check_beats_baselines", "check_choose_ridge_alpha",
           "check_fit_affine_probe", "check_novel_prefix_mask", "check_shuffle_control",
           "check_split_points"]


def _tuple(value, what, names):
    n = names.count(",") + 1
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise Mistake(f"{what}: return a {'pair' if n == 2 else 'triple'} {names}, got "
                      f"{type(value).__name__}.")
    return value


class _Careful(Exercise):
    """Calls the function twice (the answer must not change); explains numpy's LinAlgError."""

    def call(self, fn, args, label):
        try:
            out, again = (Exercise.call(self, fn, args, label) for _ in range(2))
        except np.linalg.LinAlgError as err:
            raise Mistake(f"{label}: numpy raised LinAlgError ({err}): with collinear features "
                          "X^T X is singular. Use np.linalg.lstsq(A, Y, rcond=None).") from None
        if not close(self.convert(out, label), self.convert(again, label)):
            raise Mistake(f"{label}: two calls on the same input gave different answers: `"
                          f"{self.name}` must be deterministic" + (": the folds must be "
                          "deterministic, the i-th of np.unique(groups) goes to fold i % n_folds."
                          if "groups" in self.signature else "."))
        return out


# ---------------------------------------------------------------------------- 5.1 affine probe
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
    """``(W, b)`` as one array: the rows of W, then b."""
    W, b = (as_array(x, what).astype(float) for x in _tuple(value, what, "(W, b)"))
    b = b.reshape(-1)
    if W.ndim == 2 and W.shape[0] == len(b) != W.shape[1]:
        raise Mistake(f"{what}: W has shape {W.shape}, transposed: it should be (D, S) so that "
                      "predictions are X @ W + b (scikit-learn's coef_ is (S, D); use coef_.T).")
    if W.ndim != 2 or W.shape[1] != len(b):
        raise Mistake(f"{what}: W should have shape (D, S) and b (S,); got {W.shape} and "
                      f"{b.shape}.")
    return np.vstack([W, b])


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


check_fit_affine_probe = _Careful(
    name="fit_affine_probe", signature="fit_affine_probe(X, Y, weights=None) -> (W, b)",
    cases=_probe_cases, reference=lambda X, Y, w: _probe_out(_sklearn(X, Y, w), ""),
    convert=_probe_out,
    advice="Solve least squares on [X, 1] with the rows of both sides scaled by sqrt(w) "
           "(np.linalg.lstsq); it must agree with LinearRegression().fit(X, Y, sample_weight=w).",
    summary="Your probe equals scikit-learn's LinearRegression on 4 data sets: with and without "
            "weights, a single target, and collinear features (the minimum-norm solution).",
    mistakes=(
        Known("fits without an intercept", partial(_solve, intercept=False), "You fitted no "
              "intercept (b = 0): append a column of ones to X; the solution's last row is b."),
        Known("ignores the weights", lambda X, Y, w=None: _solve(X, Y), "Your fit ignores the "
              "weights: scale the rows of [X, 1] and of Y by sqrt(w_i) before solving."),
        Known("scales the rows by w, not sqrt(w)", partial(_solve, root=False), "You multiplied "
              "the rows by w_i: w_i ||r_i||^2 = ||sqrt(w_i) r_i||^2, so scale by sqrt(w_i)."),
        Known("scales X but not Y", partial(_solve, scale_y=False), "You scaled the rows of X by "
              "sqrt(w_i) but not those of Y: scale both, so every residual is scaled."),
        Known("returns scikit-learn's coef_ untransposed", partial(_sklearn, transpose=False),
              None, r"transposed.*coef_\.T"),
        Known("inverts X^T X (fails on collinear features)", partial(_solve, inv=True), None,
              r"LinAlgError.*lstsq"),
        Known("returns the augmented solution, not (W, b)",
              lambda X, Y, w=None: np.vstack(_solve(X, Y, w)), None, r"pair \(W, b\)"),
    ))


# ---------------------------------------------------------------------------- 5.2 split
def _split(fn, N, L, frac, seed, label):
    out = _tuple(fn(N, L, frac, seed), label, "(train_points, test_points)")
    for i, name in enumerate(("train_points", "test_points")):
        arr = as_array(out[i], f"{label}: {name}")
        if arr.dtype == bool:
            raise Mistake(f"{label}: {name} is a boolean mask; return integer point indices "
                          "(np.flatnonzero(mask) converts).")
        if not np.issubdtype(arr.dtype, np.integer) and np.any(np.mod(arr, 1) != 0):
            raise Mistake(f"{label}: {name} should hold integer point indices, not {arr.dtype}.")
        yield arr.astype(np.int64).reshape(-1)


def _test_split_points(fn):
    settings = [(100, 10, 0.2, 0), (59, 7, 0.2, 3), (40, 5, 0.5, 11), (1000, 10, 0.2, 1)]
    for N, L, frac, seed in settings:
        label = f"For split_points({N}, {L}, {frac}, seed={seed})"
        train, test = _split(fn, N, L, frac, seed, label)
        both, n_train = np.concatenate([train, test]), math.floor(frac * N)
        seq_train, seq_test = np.unique(train // L), np.unique(test // L)
        if both.min() < 0 or both.max() >= N * L:
            why = f"point indices lie in 0..N*L-1 = 0..{N * L - 1}: n * n_positions + p."
        elif len(np.intersect1d(train, test)):
            why = f"point {np.intersect1d(train, test)[0]} is in both the fit and the test set."
        elif len(missing := np.setdiff1d(np.arange(N * L), both)):
            why = ("you returned sequence indices; return *point* indices n * n_positions + p."
                   if len(both) == N else f"the two sets should cover all N*L = {N * L} points; "
                   f"{len(missing)} are missing (e.g. {missing[0]}).")
        elif len(shared := np.intersect1d(seq_train, seq_test)) and not len(
                np.intersect1d(train % N, test % N)):
            why = ("your split groups a sequence's points in the wrong flattening order, p * N + "
                   "n: reshape(-1, ...) of an (N, L, ...) array puts point (n, p) at n * L + p.")
        elif len(shared):
            why = (f"sequence {shared[0]} appears in both train and test. Split the *sequences*: "
                   "else the fit set contains the test point's prefix, activation and belief.")
        elif len(seq_train) != n_train:
            why = (f"the fit set should have floor({frac} * {N}) = {n_train} sequences, yours "
                   f"has {len(seq_train)}." + (" The wrong way round: train_fraction is the "
                   "share *fitted* (the paper fits 20 % and tests 80 %)."
                   if len(seq_test) == n_train else ""))
        elif np.array_equal(seq_train, np.arange(n_train)) and N >= 40:
            why = (f"your fit set is the first {n_train} sequences, in lexicographic order (they "
                   "share their first tokens): draw at random, np.random.default_rng(seed).")
        elif not (np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)):
            why = "return sorted index arrays (np.sort)."
        elif not np.array_equal(next(_split(fn, N, L, frac, seed, label)), train):
            why = ("the same seed gave different splits: use np.random.default_rng(seed), not "
                   "the global np.random.")
        elif np.array_equal(next(_split(fn, N, L, frac, seed + 1000, label)), train):
            why = f"seed {seed} and seed {seed + 1000} gave the same split; use the seed."
        else:
            continue
        raise Mistake(f"{label}: {why}")
    return ("Disjoint, complete, grouped by sequence, the right share fitted, random and "
            f"reproducible on {len(settings)} settings.")


def _by_sequence(N, L, frac, seed, *, pos_major=False, first=False, flip=False, out=None):
    """A split of the sequences as point indices, and its typical mistakes."""
    n_train = math.floor((1 - frac if flip else frac) * N)
    seqs = np.arange(N) if first else np.random.default_rng(seed).permutation(N)
    return tuple((out or np.sort)((np.arange(L)[None] * N + s[:, None] if pos_major
                                   else s[:, None] * L + np.arange(L)).ravel())
                 for s in (seqs[:n_train], seqs[n_train:]))


check_split_points = Exercise(
    name="split_points", test=_test_split_points,
    signature="split_points(n_sequences, n_positions, train_fraction, seed) -> (train, test)",
    mistakes=(
        Known("splits points, not sequences", lambda N, L, f, s: _by_sequence(N * L, 1, f, s), None,
              r"appears in both train and test"),
        Known("fits on the test share", partial(_by_sequence, flip=True), None, "wrong way round"),
        Known("fits on the first sequences", partial(_by_sequence, first=True), None, r"first \d"),
        Known("flattens p * N + n", partial(_by_sequence, pos_major=True), None, "flattening"),
        Known("draws from the global generator", lambda N, L, f, s: _by_sequence(
            N, L, f, np.random.randint(2**31)), None, r"same seed.*default_rng\(seed\)"),
        Known("returns sequence indices", lambda N, L, f, s: _by_sequence(
            N, L, f, s, out=lambda x: np.unique(x // L)), None, r"sequence indices.*\*point\*"),
        Known("returns boolean masks", lambda N, L, f, s: _by_sequence(
            N, L, f, s, out=lambda x: np.isin(np.arange(N * L), x)), None, r"boolean mask"),
    ))


# ---------------------------------------------------------------------------- 5.3 shuffle control
def _mse(X_train, Y_fit, X_test, Y_test):
    return float(np.mean((Y_test - AffineProbe().fit(X_train, Y_fit).predict(X_test)) ** 2))


def _shuffle_case(fn, seed, means, sharpness, n_train, D, spread, n_test=3000):
    """Beliefs (coordinate means near ``means``) affine in the features: a summary or Mistake."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n_train + n_test, D))
    logits = sharpness * X @ rng.normal(0, 0.6, (D, 3)) + np.log(means)
    Y = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    X = np.hstack([X, Y @ rng.normal(0, 1, (3, 3))])    # Y is affine in the features
    Xtr, Ytr, Xte, Yte = X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]
    label = (f"On synthetic beliefs (coordinate means near {means}) that the features "
             f"determine exactly, {n_train} training points and {Xtr.shape[1]} features")
    def run(order=slice(None), seed=0):
        return as_float(fn(Xtr.copy(), Ytr.copy(), Xte[order].copy(), Yte[order].copy(),
                           np.random.default_rng(seed)), "shuffle_control")
    got, real, chance = run(), _mse(Xtr, Ytr, Xte, Yte), float(np.mean((Yte - Ytr.mean(0)) ** 2))
    rng = np.random.default_rng(123)
    perms = [rng.permutation(n_train) for _ in range(20 if n_train > 1000 else 40)]
    refs = np.array([_mse(Xtr, Ytr[p], Xte, Yte) for p in perms])
    lo, hi = refs.min() * (1 - spread), refs.max() * (1 + spread)
    if got < 0:
        why = f"an MSE cannot be negative; you returned {got:.4g}."
    elif got <= max(10 * real, 1e-6):
        why = (f"your MSE is {magnitude(got)}, as small as the real probe's ({magnitude(real)}): "
               "the pairing of activations and targets survived. Permute the targets only (not X "
               "and Y together) and fit to them.")
    elif got != run():
        why = ("two calls with the same rng seed gave different MSEs: draw from the `rng` "
               "argument (rng.permutation), not np.random, so the control is reproducible.")
    elif not math.isclose(moved := run(np.random.default_rng(seed).permutation(len(Yte))), got,
                          rel_tol=1e-5):                  # float32 sums differ by about 1e-6
        why = (f"listing the test points in another order changed your MSE from {got:.6f} to "
               f"{moved:.6f}: score each test point against its own target. Permute the rows of "
               "Y_train only, never Y_test (nor X_test).")
    elif lo <= got <= hi and got == run(seed=1):
        why = ("rngs seeded 0 and 1 gave the same MSE: draw the permutation from the `rng` "
               "argument (rng.permutation), not from a generator of your own.")
    elif lo <= got <= hi:
        return f"{got:.4f} (beliefs' variance {chance:.4f}, real probe {magnitude(real, '.0e')})"
    else:
        insample = [_mse(Xtr, Ytr[p], Xtr, Ytr[p]) for p in perms]
        if lo <= got ** 2 <= hi:
            why = "its square root (an RMSE): return the mean squared error itself."
        elif lo <= got / Ytr.shape[1] <= hi:
            why = (f"summed over the {Ytr.shape[1]} belief coordinates: the MSE is the mean over "
                   "points *and* coordinates, `np.mean((Y_test - prediction) ** 2)`.")
        elif any(abs(got / _mse(Xtr, Ytr[:, c], Xte, Yte) - 1) < 0.05
                 for c in ([1, 2, 0], [2, 0, 1])):
            why = ("what permuting the belief *coordinates* (columns) gives. Permute the rows: "
                   "Y_train[rng.permutation(len(Y_train))].")
        elif got < lo and n_train < Xtr.shape[1] * 3:
            why = (f"too small: you scored in-sample, on the points it was fitted to (that gives "
                   f"{min(insample):.3f} to {max(insample):.3f}: with {Xtr.shape[1]} features "
                   f"and {n_train} points a probe memorises even shuffled targets). Score on "
                   "X_test against the true Y_test.")
        elif any(abs(got - float(np.mean((Yte - c) ** 2))) < 0.1 * got for c in (0.5, 1 / 3)):
            why = ("as if you fitted *random* targets: their mean differs from the beliefs'. A "
                   "permutation keeps the targets' distribution and only breaks the pairing.")
        else:
            why = ("not a shuffled probe's held-out error. Fit on X_train with row-permuted "
                   "Y_train; score on X_test against the true Y_test (not in-sample).")
        why = (f"a shuffled probe scored on the held-out points gets {lo:.4f} to {hi:.4f} (the "
               f"beliefs' variance is {chance:.4f}); you returned {got:.4f}, {why}")
    raise Mistake(f"{label}: {why}")


def _test_shuffle_control(fn):
    # (seed, coordinate means, sharpness, training points, noise features, spread of the band);
    # the last: many features, few points (in-sample a shuffled probe looks good)
    summaries = [_shuffle_case(fn, *case) for case in [
        (8, (0.6, 0.3, 0.1), 1.0, 3000, 6, 0.03), (9, (0.15, 0.15, 0.7), 2.5, 3000, 6, 0.03),
        (10, (0.5, 0.3, 0.2), 1.5, 60, 40, 0.1)]]
    return ("Your shuffle control scores " + "; ".join(summaries) + f" on {len(summaries)} "
            "synthetic data sets (the last with more features than a shuffled probe can fit "
            "without memorising), reproducibly from the given rng.")


def _shuffled(fit=lambda a, b, p: (a, b[p]), score=lambda a, b, c, d, p: (c, d), draw=None):
    """A shuffle control: a probe fitted on ``fit(X_train, Y_train, perm)``, scored on
    ``score(X_train, Y_train, X_test, Y_test, perm)``; ``perm`` from ``draw`` or the rng."""
    def shuffle_control(X_train, Y_train, X_test, Y_test, rng):
        p = (draw or rng.permutation)(len(Y_train))
        X, Y = score(X_train, Y_train, X_test, Y_test, p)
        return float(np.mean((Y - AffineProbe().fit(*fit(X_train, Y_train, p)).predict(X)) ** 2))
    return shuffle_control


check_shuffle_control = Exercise(
    name="shuffle_control", test=_test_shuffle_control,
    signature="shuffle_control(X_train, Y_train, X_test, Y_test, rng) -> mse",
    mistakes=(
        Known("scores the shuffled probe in-sample",
              _shuffled(score=lambda a, b, c, d, p: (a, b[p])), None, r"in-sample, on the point"),
        Known("scores on the training points against the true targets",
              _shuffled(score=lambda a, b, c, d, p: (a, b)), None, r"in-sample, on the point"),
        Known("does not shuffle at all", _shuffled(fit=lambda a, b, p: (a, b)), None, "survived"),
        Known("shuffles X and Y together", _shuffled(fit=lambda a, b, p: (a[p], b[p])), None,
              "pairing"),
        Known("permutes the coordinates", _shuffled(fit=lambda a, b, p: (a, b[:, [2, 0, 1]])),
              None, r"\*coordinates\*"),
        Known("fits random targets", _shuffled(fit=lambda a, b, p: (
            a, np.random.default_rng(p[0]).random(b.shape))), None, r"\*random\* targets"),
        Known("draws from the global generator", _shuffled(draw=np.random.permutation), None,
              "reproducible"),
        Known("returns a negative number", lambda *args: -0.1, None, r"cannot be negative"),
        Known("draws from a generator of its own", _shuffled(
            draw=lambda n: np.random.default_rng(5).permutation(n)), None, "generator of your own"),
        Known("returns the RMSE", lambda *a: math.sqrt(_shuffled()(*a)), None, r"RMSE"),
        Known("sums over the coordinates", lambda *a: 3 * _shuffled()(*a), None, r"summed over"),
        Known("scores against a permuted Y_test", _shuffled(score=lambda a, b, c, d, p: (
            c, d[np.random.default_rng(p[0]).permutation(len(d))])), None, r"another order"),
    ))


# ---------------------------------------------------------------------------- 5.4 verdict
def _m(in_sample, held_out):
    return {"in_sample": in_sample, "held_out": held_out}


_FINAL = {"shuffled": _m(0.110, 0.111), "untrained": _m(0.0163, 0.0164),
          "input only": _m(0.0061, 0.0062)}
_VERDICTS = [  # (label, trained, baselines, factor, the answer)
    ("a well-trained Mess3 model (numbers like the paper's)", _m(3.9e-4, 4.0e-4), _FINAL, 2.0,
     ("input only", 15.5, True)),
    ("an early checkpoint", _m(0.0080, 0.0084), _FINAL, 2.0, ("input only", 0.0062 / 0.0084,
                                                                False)),
    ("a 1536-feature concatenation that interpolates its fit set", _m(1.0e-5, 0.030),
     {"shuffled": _m(0.02, 0.16), "untrained": _m(2.0e-5, 0.050),
      "final layer alone": _m(0.010, 0.012)}, 1.5, ("final layer alone", 0.4, False)),
    ("a probe that beats the untrained net by exactly the factor", _m(0.004, 0.005),
     {"untrained": _m(0.01, 0.010), "shuffled": _m(0.1, 0.11)}, 2.0, ("untrained", 2.0, True))]


def _test_beats_baselines(fn):
    def same(a, b):
        return a[0] == b[0] and math.isclose(float(a[1]), float(b[1]), rel_tol=1e-3) and (
            a[2] is b[2] or (isinstance(a[2], (bool, np.bool_)) and bool(a[2]) == b[2]))
    for label, trained, baselines, factor, answer in _VERDICTS:
        label, args = f"For {label} (factor {factor})", (trained, baselines, factor)
        out = _tuple(fn(*copy.deepcopy(args)), label, "(name, ratio, beats)")
        if not isinstance(out[0], str):
            raise Mistake(f"{label}: name should be the baseline's name, a key of `baselines` "
                          f"such as {answer[0]!r}; you returned {type(out[0]).__name__} "
                          f"{out[0]!r}: return the key, not baselines[key].")
        got = (out[0], as_float(out[1], f"{label}: ratio"), out[2])
        if not isinstance(got[2], (bool, np.bool_)):
            raise Mistake(f"{label}: beats should be True or False, got {got[2]!r}.")
        if not same(got, answer):
            why = next((k.diagnosis for k in check_beats_baselines.mistakes if k.diagnosis
                        and same(got, k.wrong(*copy.deepcopy(args)))), "The strongest baseline "
                       "has the lowest held-out MSE; ratio = its held-out MSE / the trained "
                       "probe's held-out MSE; beats = ratio >= factor.")
            raise Mistake(f"{label}: expected {answer[0]!r}, ratio {answer[1]:.4g}, beats "
                          f"{answer[2]}; you returned {got[0]!r}, ratio {got[1]:.4g}, beats "
                          f"{bool(got[2])}. {why}")
    return ("Right on 4 cases: the strongest baseline by held-out MSE, the ratio the right way "
            "up, and the decision at the factor's edge.")


def _verdict(key="held_out", pick=min, invert=False, strict=False, over="held_out",
             num="held_out", say=None):
    def beats_baselines(trained, baselines, factor=2.0):
        name = pick(baselines, key=lambda k: baselines[k][key])
        ratio = (baselines[name][num] / trained[over]) ** (-1 if invert else 1)
        return name, ratio, say or ((ratio > factor) if strict else (ratio >= factor))
    return beats_baselines


check_beats_baselines = Exercise(
    name="beats_baselines", test=_test_beats_baselines,
    signature="beats_baselines(trained, baselines, factor=2.0) -> (name, ratio, beats)",
    mistakes=(
        Known("ranks baselines by in-sample MSE", _verdict(key="in_sample"), "You ranked the "
              "baselines by in-sample MSE, which rewards memorising the fit set: use held-out."),
        Known("compares with the weakest baseline", _verdict(pick=max), "You picked the "
              "*weakest* baseline: a claim is only as strong as its margin over the strongest, the "
              "lowest held-out MSE."),
        Known("inverts the ratio", _verdict(invert=True), "Your ratio is inverted: divide the "
              "baseline's MSE by the trained probe's (larger means a better probe)."),
        Known("uses ratio > factor", _verdict(strict=True), "At exactly the factor the rule "
              "says ratio >= factor, so the probe beats the baseline."),
        Known("divides by the trained probe's in-sample MSE", _verdict(over="in_sample"),
              "You divided by the trained probe's *in-sample* MSE: held-out over held-out."),
        Known("divides the in-sample MSEs", _verdict(over="in_sample", num="in_sample"),
              "You divided the in-sample MSEs; the ratio compares held-out MSEs."),
        Known("returns 'yes' instead of a bool", _verdict(say="yes"), None, r"True or False"),
        Known("returns the baseline's dict", lambda t, b, f=2.0: (lambda n, r, d: (b[n], r, d))(
            *_verdict()(t, b, f)), None, r"key of `baselines`"),
    ))


# ---------------------------------------------------------------------------- 5.5 new prefixes
def _novel(tokens, train, test, shift=1, start=lambda p: 0):
    """``mask[i, p]``: test sequence i's tokens start(p) .. p + shift - 1 occur in no training
    sequence there (start 0: its first p + shift tokens start no training sequence)."""
    out = np.zeros((len(test), tokens.shape[1]), dtype=bool)
    for p in range(tokens.shape[1]):
        seen = {tuple(r[start(p):p + shift]) for r in tokens[train]}
        out[:, p] = [tuple(tokens[s, start(p):p + shift]) not in seen for s in test]
    return out


def _coded(tokens, train, test, base):
    """The mask with each prefix coded as a number in ``base`` (codes collide if base <= max)."""
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


def _mask(value, what):
    arr = as_array(value, what)
    if arr.dtype != bool and not np.isin(arr, [0, 1]).all():
        raise Mistake(f"{what}: return a boolean array, got dtype {arr.dtype}.")
    return arr.astype(bool)


def _novel_advice(case):
    if np.shape(case.got) != np.shape(case.expected):
        return "Return one row per test sequence and one column per position."
    tokens, _, test = case.args
    i, p = np.argwhere(case.got != case.expected)[0]
    return (f"Test sequence {test[i]} at position {p} has prefix {tokens[test[i], :p + 1].tolist()}"
            f", which {'starts no' if case.expected[i, p] else 'starts some'} training sequence.")


_OFF = "Off by one: position p has read p + 1 tokens, tokens[:, :p + 1]; you compared"
check_novel_prefix_mask = Exercise(
    name="novel_prefix_mask",
    signature="novel_prefix_mask(tokens, train_seqs, test_seqs) -> bool (n_test, L)",
    cases=_novel_cases, convert=_mask, advice=_novel_advice,
    reference=lambda tokens, train, test: new_prefix_points(tokens, train, test)[test],
    summary="Correct on 4 token sets (random ternary, binary, 4 symbols with 3 sequences fitted, "
            "and all 81 four-token sequences with unsorted test indices).",
    mistakes=(
        Known("compares p tokens (off by one)", partial(_novel, shift=0), f"{_OFF} p tokens."),
        Known("compares p + 2 tokens (off by one)", partial(_novel, shift=2), f"{_OFF} p + 2."),
        Known("inverts the mask", lambda t, tr, te: ~_novel(t, tr, te),
              "Your mask is inverted: True should mark the prefixes that are *new*."),
        Known("compares whole sequences", lambda t, tr, te: _novel(t, tr, te, t.shape[1]), "You "
              "compared whole sequences; compare each position's prefix, tokens[s, :p + 1]."),
        Known("compares only the token at p", partial(_novel, start=lambda p: p), "You compared "
              "only the token at position p: compare the whole prefix tokens[s, :p + 1], all "
              "that position p has read."),
        Known("codes prefixes in base max(tokens) (codes collide)", lambda t, tr, te: _coded(
            t, tr, te, max(int(t.max()), 1)),
              "Different prefixes got the same code: a base-V code needs V larger than every "
              "token, V = tokens.max() + 1 (or compare tuples of tokens)."),
        Known("compares with the test sequences", lambda t, tr, te: _novel(t, te, te), "You "
              "marked no prefix as new: compare with the *training* sequences, tokens[train_seqs], "
              "not with the test sequences (or all of them)."),
        Known("uses rows 0..len(train) instead of train_seqs", lambda t, tr, te: _novel(
            t, np.arange(len(tr)), te), "You compared with rows 0..len(train_seqs) - 1; the "
              "training sequences are tokens[train_seqs]."),
        Known("drops the last position", lambda t, tr, te: _novel(t, tr, te)[:, :-1],
              "Your mask has one column too few: positions run from 0 to L - 1."),
    ))


# ---------------------------------------------------------------------------- 5.6 ridge penalty
_RIDGE_ALPHAS = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0])


def _ridge(mode="group", intercept=True, pick=np.argmin, index=False, sign=1.0, err=np.mean,
           pool=False):
    """The exercise's rule (``mode="group"``) and its typical mistakes (the other modes)."""
    def choose_ridge_alpha(X, Y, groups, alphas, n_folds=5):
        ids, n = np.unique(groups, return_inverse=True)[1].reshape(-1), len(X)
        fold = {"point": np.arange(n), "blocks": np.arange(n) * n_folds // n, "id": groups,
                "random": np.random.default_rng().permutation(ids.max() + 1)[ids]}.get(
                    mode, ids) % n_folds

        def mse(a, k):
            fit, val = fold != k, fold == k
            fit, val = fold > -1 if mode == "fit_all" else fit, fit if mode == "insample" else val
            pred = AffineProbe(alpha=a, fit_intercept=intercept).fit(X[fit], Y[fit]).predict(X[val])
            if mode.startswith("broadcast") and Y.shape[1] == 1 and (a > 0 or mode[-3:] == "all"):
                pred = pred.reshape(-1)                  # (n, 1) targets minus (n,)
            return err((Y[val] - pred) ** 2)
        size = [np.mean(fold == k) if pool else 1 / n_folds for k in range(n_folds)]
        cv = sign * np.array([sum(mse(a, k) * size[k] for k in range(n_folds)) for a in alphas])
        return (int(pick(cv)) if index else float(alphas[int(pick(cv))])), cv
    return choose_ridge_alpha


def _ridge_data(seed, G=40, L=6, D=25, S=3, uneven=False):
    """Groups (sequences) of near-duplicate points sharing a target offset no linear map learns
    (``uneven``: groups of 1 to L points, so the folds differ in size)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(0, 1, (G, D))
    Yg = Z @ rng.normal(0, 0.3, (D, S)) + 1.5 + rng.normal(0, 0.5, (G, S))
    X = np.repeat(Z, L, 0) + rng.normal(0, 0.05, (G * L, D)) + 2.0
    Y = np.repeat(Yg, L, 0) + rng.normal(0, 0.02, (G * L, S))
    groups = np.repeat(rng.permutation(1000)[:G], L)        # arbitrary, unsorted group ids
    perm = rng.permutation(G * L)                           # groups are not contiguous
    if uneven:
        perm = perm[(np.arange(G * L) % L < np.repeat(rng.integers(1, L + 1, G), L))[perm]]
    return X[perm], Y[perm], groups[perm]


def _ridge_out(value, what):
    alpha, cv = _tuple(value, what, "(best_alpha, cv_mse)")
    return np.append(as_array(cv, f"{what}: cv_mse").astype(float).reshape(-1),
                     as_float(alpha, f"{what}: best_alpha"))


_BROADCAST = ("Your predictions (n,) and the targets (n, 1) have different shapes, so Y - "
              "prediction broadcasts to an n x n matrix (scikit-learn's Ridge returns (n,) for "
              "a one-column target). Reshape the predictions to Y's shape before the error.")
_POINTS = "Your folds split the points, not the sequences"
check_choose_ridge_alpha = _Careful(
    name="choose_ridge_alpha", reference=lambda *a: _ridge_out(_ridge()(*a), ""),
    signature="choose_ridge_alpha(X, Y, groups, alphas, n_folds=5) -> (alpha, cv_mse)",
    cases=lambda: [(f"For grouped data, 40 sequences of {'1 to ' * u}6 points, {S} target"
                    f"{'s' * (S > 1)}, alphas {_RIDGE_ALPHAS.tolist()} (cv_mse per alpha, then "
                    "best_alpha)", (*_ridge_data(seed, S=S, uneven=u), _RIDGE_ALPHAS.copy(), 5))
                   for seed, S, u in [(1, 3, False), (3, 1, False), (4, 2, True)]],
    convert=_ridge_out,
    advice="For each alpha and fold k: fit AffineProbe(alpha) outside fold k, MSE (mean over "
           "points and coordinates) on fold k; cv_mse: mean over folds; best_alpha: its argmin.",
    summary="Your cross-validated errors match the reference on 3 grouped data sets (one with "
            "folds of unequal size), folds grouped by sequence, and you pick the penalty with the "
            "lowest error.",
    mistakes=(
        Known("folds over points, not sequences", _ridge("point"), f"{_POINTS}: hold out by "
              "sequence, as the final test does (Exercise 5.2). A sequence's points are "
              "near-duplicates, so folds over points reward a penalty that memorises them."),
        Known("folds over blocks of points (KFold)", _ridge("blocks"), f"{_POINTS} (KFold over "
              "points): assign every point the fold of its group."),
        Known("deals groups by their id, not their rank", _ridge("id"), "Your folds use the "
              "group ids themselves (groups % n_folds): deal the groups by rank, the i-th of "
              "np.unique(groups) to fold i % n_folds."),
        Known("pools the squared errors over all points", _ridge(pool=True), "You pooled the "
              "squared errors of all folds (folds weighted by their size); cv_mse is the *mean "
              "over folds* of each fold's MSE."),
        Known("sums the squared errors", _ridge(err=np.sum), "Your errors are sums of squares; "
              "a fold's MSE is the mean over its points and coordinates (np.mean)."),
        Known("scores in-sample", _ridge("insample"), "You scored each fit on the points it was "
              "fitted to (in-sample, which favours a small penalty): fit on the other folds."),
        Known("fits on all the points", _ridge("fit_all"), "You fitted on all the points, fold k "
              "included (in-sample scores favour a small penalty): fit outside fold k only."),
        Known("fits without an intercept", _ridge(intercept=False), "Your fits have no intercept; "
              "the targets are not centred: use probing.AffineProbe(alpha=a)."),
        Known("picks the largest error", _ridge(pick=np.argmax), "Your cv_mse is right, but you "
              "took the penalty with the *largest* error: use np.argmin."),
        Known("returns the index of the best alpha", _ridge(index=True), "Your cv_mse is right, "
              "but you returned the index of the best penalty; return alphas[index]."),
        Known("returns scikit-learn's negated scores", _ridge(sign=-1.0, pick=np.argmax), "Your "
              "cv_mse is negative: scikit-learn's 'neg_mean_squared_error' is minus the MSE."),
        Known("subtracts (n,) predictions from (n, 1) targets", _ridge("broadcast"), _BROADCAST),
        Known("subtracts (n,) predictions at every alpha", _ridge("broadcast_all"), _BROADCAST),
        Known("deals groups to folds at random", _ridge("random"), None, "folds must be determ"),
        Known("returns only the alpha", lambda X, Y, g, a, n_folds=5: 1.0, None, r"pair \(best_"),
        Known("averages over the alphas", lambda X, Y, g, a, n_folds=5: (1.0, np.zeros(3)),
              "cv_mse should hold one number per alpha: average over the folds, not the alphas."),
    ))

EXERCISES = (check_fit_affine_probe, check_split_points, check_shuffle_control,
             check_beats_baselines, check_novel_prefix_mask, check_choose_ridge_alpha)
