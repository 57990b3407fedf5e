"""Checkers for practice notebook 05 (probing the residual stream).

Same design as :mod:`beliefcourse.checks.ch01`: each checker calls the learner's function on
seeded synthetic data built so that every typical mistake gives a *different* answer, compares
with a reference, and names the mistake that matches.

| checker | learner function |
|---|---|
| :func:`check_fit_affine_probe` | ``fit_affine_probe(X, Y, weights=None) -> (W, b)`` |
| :func:`check_split_points` | ``split_points(n_sequences, n_positions, train_fraction, seed)`` |
| :func:`check_shuffle_control` | ``shuffle_control(X_train, Y_train, X_test, Y_test, rng)`` |
| :func:`check_beats_baselines` | ``beats_baselines(trained, baselines, factor)`` |
| :func:`check_novel_prefix_mask` | ``novel_prefix_mask(tokens, train_seqs, test_seqs)`` |
| :func:`check_choose_ridge_alpha` | ``choose_ridge_alpha(X, Y, groups, alphas, n_folds=5)`` |
"""

from __future__ import annotations

import math

import numpy as np

from ._core import Mistake, as_array, as_float, describe_difference, fmt, magnitude, run

__all__ = [
    "check_beats_baselines",
    "check_choose_ridge_alpha",
    "check_fit_affine_probe",
    "check_novel_prefix_mask",
    "check_shuffle_control",
    "check_split_points",
]


# ---------------------------------------------------------------------------- affine probe
def _lstsq(X, Y, w=None, intercept=True, root=True):
    A = np.hstack([X, np.ones((len(X), 1))]) if intercept else X
    if w is not None:
        s = (np.sqrt(w) if root else w)[:, None]
        A, Y = A * s, Y * s
    sol = np.linalg.lstsq(A, Y, rcond=None)[0]
    return (sol[:-1], sol[-1]) if intercept else (sol, np.zeros(Y.shape[1]))


def _probe_inputs(seed):
    rng = np.random.default_rng(seed)
    out = []
    # beliefs-like targets with non-zero means, features with non-zero means
    for label, n, D, S, weighted in [("random data, no weights", 120, 4, 3, False),
                                     ("random data, with weights", 150, 6, 3, True),
                                     ("a single target coordinate, with weights", 80, 3, 1, True)]:
        X = rng.normal(1.0, 1.0, (n, D))
        Y = X @ rng.normal(0, 0.5, (D, S)) + rng.normal(2.0, 1.0, S) + rng.normal(0, 0.3, (n, S))
        w = rng.gamma(0.5, 1.0, n) if weighted else None
        out.append((label, X, Y, w))
    # collinear features: a duplicated column, as activations can have
    X = rng.normal(0.5, 1.0, (100, 5))
    X = np.hstack([X, X[:, :1] * 2.0])
    Y = rng.normal(1.0, 1.0, (100, 3))
    out.append(("collinear features (column 5 = 2 x column 0), with weights", X, Y,
                rng.gamma(1.0, 1.0, 100)))
    return out


def _test_fit_affine_probe(fn):
    from sklearn.linear_model import LinearRegression

    for label, X, Y, w in _probe_inputs(55):
        label = f"For {label} (X {X.shape}, Y {Y.shape})"
        try:
            out = fn(X.copy(), Y.copy(), None if w is None else w.copy())
        except np.linalg.LinAlgError as err:
            raise Mistake(f"{label}: numpy raised LinAlgError ({err}). With collinear features "
                          "X^T X is singular and cannot be inverted; solve the least-squares "
                          "problem with np.linalg.lstsq(A, Y, rcond=None) instead.") from None
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Mistake(f"{label}: return a pair (W, b), got {type(out).__name__}.")
        W = as_array(out[0], f"{label}: W").astype(float)
        b = as_array(out[1], f"{label}: b").astype(float)
        n, D = X.shape
        S = Y.shape[1]
        if W.shape != (D, S):
            if W.shape == (S, D):
                raise Mistake(f"{label}: W should have shape (D, S) = {(D, S)} so that "
                              f"predictions are X @ W + b; yours is {(S, D)}, transposed "
                              "(scikit-learn's coef_ has that shape; use coef_.T).")
            if W.shape == (D + 1, S):
                raise Mistake(f"{label}: W has D + 1 = {D + 1} rows: split the intercept "
                              "(the last row of the augmented solution) off into b.")
            raise Mistake(f"{label}: W should have shape (D, S) = {(D, S)}, got {W.shape}.")
        if b.reshape(-1).shape != (S,):
            raise Mistake(f"{label}: b should have shape (S,) = ({S},), got {b.shape}.")
        pred = X @ W + b.reshape(-1)
        ref = LinearRegression().fit(X, Y, sample_weight=w).predict(X)
        if not np.all(np.isfinite(pred)):
            raise Mistake(f"{label}: your predictions contain NaN or inf.")
        if np.allclose(pred, ref, atol=1e-6):
            continue
        def predict(Wb, X=X):
            return X @ Wb[0] + Wb[1]

        checks = [
            ("no intercept", predict(_lstsq(X, Y, w, intercept=False)),
             "You fitted a linear map without an intercept (b = 0). Beliefs are not centred: "
             "append a column of ones to X, and the last row of the solution is b."),
            ("weights ignored", predict(_lstsq(X, Y, None)) if w is not None else None,
             "Your fit ignores the weights. Multiply each row of [X, 1] and of Y by "
             "sqrt(w_i) before solving."),
            ("w not sqrt", predict(_lstsq(X, Y, w, root=False)) if w is not None else None,
             "You multiplied the rows by w_i; weighted least squares minimises "
             "sum_i w_i ||r_i||^2 = sum_i ||sqrt(w_i) r_i||^2, so multiply by sqrt(w_i)."),
        ]
        if w is not None:
            A = np.hstack([X, np.ones((n, 1))]) * np.sqrt(w)[:, None]
            sol = np.linalg.lstsq(A, Y, rcond=None)[0]
            checks.append(("X only", predict((sol[:-1], sol[-1])),
                           "You scaled the rows of X by sqrt(w_i) but not the rows of Y; "
                           "scale both, so that every residual is multiplied by sqrt(w_i)."))
        for _, value, why in checks:
            if value is not None and np.allclose(pred, value, atol=1e-6):
                raise Mistake(f"{label}: your predictions differ from scikit-learn's "
                              f"LinearRegression(...).fit(X, Y, sample_weight=w). {why}")
        if "collinear" in label:
            raise Mistake(f"{label}: your predictions differ from scikit-learn's (largest "
                          f"difference {np.abs(pred - ref).max():.3g}). The features are "
                          "collinear, so X^T X is singular: inverting it (or solve()) gives "
                          "garbage. Use np.linalg.lstsq(A, Y, rcond=None).")
        raise Mistake(f"{label}: your predictions differ from scikit-learn's "
                      f"LinearRegression(...).fit(X, Y, sample_weight=w) (predictions, "
                      f"{describe_difference(pred, ref)}). Solve least squares on [X, 1] "
                      "with rows scaled by sqrt(w).")
    return ("Your predictions equal scikit-learn's LinearRegression on 4 data sets: with and "
            "without weights, a single target, and collinear features.")


def check_fit_affine_probe(fit_affine_probe):
    """Check ``fit_affine_probe(X, Y, weights=None) -> (W, b)`` (Exercise 5.1)."""
    return run("fit_affine_probe", _test_fit_affine_probe, fit_affine_probe)


# ---------------------------------------------------------------------------- split
def _int_indices(value, what):
    arr = as_array(value, what)
    if arr.dtype == bool:
        raise Mistake(f"{what} is a boolean mask; return integer point indices "
                      "(np.flatnonzero(mask) converts).")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise Mistake(f"{what} should hold integer point indices, got dtype {arr.dtype}.")
    return arr.reshape(-1)


def _test_split_points(fn):
    settings = [(100, 10, 0.2, 0), (59, 7, 0.2, 3), (40, 5, 0.5, 11), (1000, 10, 0.2, 1)]
    for N, L, frac, seed in settings:
        label = f"For split_points({N}, {L}, {frac}, seed={seed})"
        out = fn(N, L, frac, seed)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Mistake(f"{label}: return a pair (train_points, test_points), got "
                          f"{type(out).__name__}.")
        train = _int_indices(out[0], f"{label}: train_points")
        test = _int_indices(out[1], f"{label}: test_points")
        if len(train) and (train.min() < 0 or train.max() >= N * L) or \
                len(test) and (test.min() < 0 or test.max() >= N * L):
            raise Mistake(f"{label}: point indices must lie in 0..N*L-1 = 0..{N * L - 1}; "
                          "return flat point indices n * n_positions + p, not sequence "
                          "indices.")
        both = np.intersect1d(train, test)
        if len(both):
            raise Mistake(f"{label}: point {both[0]} is in both the fit set and the test set.")
        if len(np.union1d(train, test)) != N * L:
            missing = np.setdiff1d(np.arange(N * L), np.union1d(train, test))
            if len(train) + len(test) == N and len(missing):
                raise Mistake(f"{label}: you returned sequence indices; return *point* indices "
                              "n * n_positions + p for every position p of each sequence.")
            raise Mistake(f"{label}: together the two sets should cover all N*L = {N * L} "
                          f"points; {len(missing)} are missing (e.g. point {missing[0]}).")
        seq_train, seq_test = np.unique(train // L), np.unique(test // L)
        shared = np.intersect1d(seq_train, seq_test)
        if len(shared):
            s = int(shared[0])
            pos_train = sorted(int(i % L) for i in train if i // L == s)
            # a position-major layout also mixes sequences: tell the two apart
            alt_train, alt_test = np.unique(train % N), np.unique(test % N)
            if not len(np.intersect1d(alt_train, alt_test)) and N != L:
                raise Mistake(f"{label}: your split groups the points of a sequence, but in "
                              "the wrong flattening order: you used index p * N + n. "
                              "reshape(-1, ...) of an (N, L, ...) array puts point (n, p) at "
                              "n * L + p.")
            raise Mistake(f"{label}: sequence {s} appears in both train and test (positions "
                          f"{pos_train} in the fit set, the rest in the test set). Split the "
                          "*sequences*, then take all their points: otherwise the fit set "
                          "already contains the test point's prefix, activation and belief.")
        n_train = math.floor(frac * N)
        if len(seq_train) != n_train:
            if len(seq_test) == n_train:
                raise Mistake(f"{label}: you put {len(seq_train)} of {N} sequences in the fit "
                              f"set and {len(seq_test)} in the test set: the wrong way round. "
                              f"train_fraction is the share that is *fitted* (the paper fits on "
                              "20 % and tests on 80 %).")
            raise Mistake(f"{label}: the fit set should have floor({frac} * {N}) = {n_train} "
                          f"sequences, yours has {len(seq_train)}.")
        if np.array_equal(seq_train, np.arange(n_train)) and N >= 40:
            raise Mistake(f"{label}: your fit set is the first {n_train} sequences. Sequences are "
                          "listed in lexicographic order (ExactData), so those all start with "
                          "the same tokens: choose them at random with "
                          "np.random.default_rng(seed).permutation.")
        if not (np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)):
            raise Mistake(f"{label}: return sorted index arrays (np.sort).")
        again = fn(N, L, frac, seed)
        if not np.array_equal(_int_indices(again[0], "train"), train):
            raise Mistake(f"{label}: two calls with the same seed gave different splits; draw "
                          "with np.random.default_rng(seed), not the global np.random.")
        other = fn(N, L, frac, seed + 1000)
        if np.array_equal(_int_indices(other[0], "train"), train):
            raise Mistake(f"{label}: seed {seed} and seed {seed + 1000} gave the same split; "
                          "use the seed.")
    return ("Disjoint, complete, grouped by sequence, the right share fitted, random and "
            f"reproducible on {len(settings)} settings.")


def check_split_points(split_points):
    """Check ``split_points(n_sequences, n_positions, train_fraction, seed)`` (Exercise 5.2)."""
    return run("split_points", _test_split_points, split_points)


# ---------------------------------------------------------------------------- shuffle control
def _shuffle_data(seed, means, sharpness, n_train=3000, n_test=3000, D=6):
    """Belief-like targets (non-negative, summing to 1, coordinate means about ``means``)
    that are an exact affine function of the features the probe sees."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n_train + n_test, D))
    logits = sharpness * X @ rng.normal(0, 0.6, (D, 3)) + np.log(means)
    Y = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    # append an invertible linear mix of Y to the features, so Y is affine in them and a real
    # probe is perfect
    X = np.hstack([X, Y @ rng.normal(0, 1, (3, 3))])
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]


def _mse_after(X_train, Y_fit, X_test, Y_test):
    from sklearn.linear_model import LinearRegression

    pred = LinearRegression().fit(X_train, Y_fit).predict(X_test)
    return float(np.mean((Y_test - pred) ** 2))


def _shuffled_fits(Xtr, Ytr, Xte, Yte, n, seed=123):
    """For ``n`` row permutations of ``Ytr``: (held-out MSE, in-sample MSE against the
    permuted targets) of a least-squares probe fitted to them."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(seed)
    held, insample = [], []
    for _ in range(n):
        shuffled = Ytr[rng.permutation(len(Ytr))]
        reg = LinearRegression().fit(Xtr, shuffled)
        held.append(float(np.mean((Yte - reg.predict(Xte)) ** 2)))
        insample.append(float(np.mean((shuffled - reg.predict(Xtr)) ** 2)))
    return np.array(held), np.array(insample)


# (seed, coordinate means, sharpness, training points, noise features, spread of the band)
_SHUFFLE_CASES = [(8, (0.6, 0.3, 0.1), 1.0, 3000, 6, 0.03),
                  (9, (0.15, 0.15, 0.7), 2.5, 3000, 6, 0.03),
                  # many features, few points: in-sample a shuffled probe looks good
                  (10, (0.5, 0.3, 0.2), 1.5, 60, 40, 0.1)]


def _test_shuffle_control(fn):
    summaries = []
    for seed, means, sharpness, n_train, D, spread in _SHUFFLE_CASES:
        Xtr, Ytr, Xte, Yte = _shuffle_data(seed, means, sharpness, n_train=n_train, D=D)
        label = (f"On synthetic beliefs (coordinate means near {means}) that the features "
                 f"determine exactly, {n_train} training points and {Xtr.shape[1]} features")
        got = as_float(fn(Xtr.copy(), Ytr.copy(), Xte.copy(), Yte.copy(),
                          np.random.default_rng(0)), "shuffle_control")
        again = as_float(fn(Xtr.copy(), Ytr.copy(), Xte.copy(), Yte.copy(),
                            np.random.default_rng(0)), "shuffle_control")
        real = _mse_after(Xtr, Ytr, Xte, Yte)
        chance = float(np.mean((Yte - Ytr.mean(0)) ** 2))
        refs, insample = _shuffled_fits(Xtr, Ytr, Xte, Yte, 20 if n_train > 1000 else 40)
        lo, hi = refs.min() * (1 - spread), refs.max() * (1 + spread)
        if got < 0:
            raise Mistake(f"{label}: an MSE cannot be negative; you returned {got:.4g}.")
        if got <= max(10 * real, 1e-6):
            raise Mistake(f"{label}: your MSE is {magnitude(got)}, as small as the real "
                          f"probe's ({magnitude(real)}): the pairing of activations and "
                          "targets survived. Permute the targets only (not X and Y "
                          "together), and fit to the permuted targets.")
        col = _mse_after(Xtr, Ytr[:, [1, 2, 0]], Xte, Yte)
        col2 = _mse_after(Xtr, Ytr[:, [2, 0, 1]], Xte, Yte)
        if min(abs(got - col) / col, abs(got - col2) / col2) < 0.05 and not lo <= got <= hi:
            raise Mistake(f"{label}: you returned {got:.4f}, what permuting the belief "
                          f"*coordinates* (columns) gives. Permute the points (rows): "
                          "Y_train[rng.permutation(len(Y_train))].")
        if got < lo and n_train < Xtr.shape[1] * 3:
            raise Mistake(f"{label}: you returned {got:.4f}, while a shuffled probe scored on "
                          f"held-out points gets {lo:.3f} to {hi:.3f} (the beliefs' variance "
                          f"is {chance:.4f}). You scored it in-sample, on the points it was "
                          f"fitted to (against the shuffled targets that gives "
                          f"{insample.min():.3f} to {insample.max():.3f}): with "
                          f"{Xtr.shape[1]} features and {n_train} points a probe memorises "
                          "even shuffled targets. Score on X_test against the true Y_test.")
        if not lo <= got <= hi:
            noise = [float(np.mean((Yte - c) ** 2)) for c in (0.5, 1 / 3)]
            if any(abs(got - v) < 0.1 * v for v in noise):
                raise Mistake(f"{label}: you returned {got:.4f}. It looks as if you fitted to "
                              "*random* targets rather than permuted ones: their mean differs "
                              "from the beliefs' mean, which inflates the error. A permutation "
                              "keeps the targets' distribution and only breaks their pairing "
                              "with X.")
            raise Mistake(f"{label}: expected a held-out MSE between {lo:.4f} and {hi:.4f} "
                          f"(the variance of the beliefs is {chance:.4f}), got {got:.4f}. Fit "
                          "on X_train with row-permuted Y_train; score on X_test against the "
                          "true Y_test (not in-sample).")
        if got != again:
            raise Mistake(f"{label}: two calls with the same rng seed gave {got:.6f} and "
                          f"{again:.6f}. Draw the permutation from the `rng` argument "
                          "(rng.permutation), not from np.random, so the control is "
                          "reproducible.")
        real_text = f"{real:.0e}" if real > 1e-12 else "0"      # exact fit: float noise only
        summaries.append(f"{got:.4f} (beliefs' variance {chance:.4f}, real probe {real_text})")
    return ("Your shuffle control scores " + "; ".join(summaries)
            + f" on {len(_SHUFFLE_CASES)} synthetic data sets (the last with more features "
            "than a shuffled probe can fit without memorising), reproducibly from the given "
            "rng.")


def check_shuffle_control(shuffle_control):
    """Check ``shuffle_control(X_train, Y_train, X_test, Y_test, rng) -> mse`` (Exercise 5.3)."""
    return run("shuffle_control", _test_shuffle_control, shuffle_control)


# ---------------------------------------------------------------------------- verdict
def _verdict_cases():
    return [
        # (label, trained, baselines, factor, expected)
        ("a well-trained Mess3 model (numbers like the paper's)",
         {"in_sample": 3.9e-4, "held_out": 4.0e-4},
         {"shuffled": {"in_sample": 0.110, "held_out": 0.111},
          "untrained": {"in_sample": 0.0163, "held_out": 0.0164},
          "input only": {"in_sample": 0.0061, "held_out": 0.0062}}, 2.0,
         ("input only", 15.5, True)),
        ("an early checkpoint",
         {"in_sample": 0.0080, "held_out": 0.0084},
         {"shuffled": {"in_sample": 0.110, "held_out": 0.111},
          "untrained": {"in_sample": 0.0163, "held_out": 0.0164},
          "input only": {"in_sample": 0.0061, "held_out": 0.0062}}, 2.0,
         ("input only", 0.0062 / 0.0084, False)),
        ("a 1536-feature concatenation that interpolates its fit set",
         {"in_sample": 1.0e-5, "held_out": 0.030},
         {"shuffled": {"in_sample": 0.02, "held_out": 0.16},
          "untrained": {"in_sample": 2.0e-5, "held_out": 0.050},
          "final layer alone": {"in_sample": 0.010, "held_out": 0.012}}, 1.5,
         ("final layer alone", 0.4, False)),
        ("a probe that beats the untrained net by exactly the factor",
         {"in_sample": 0.004, "held_out": 0.005},
         {"untrained": {"in_sample": 0.01, "held_out": 0.010},
          "shuffled": {"in_sample": 0.1, "held_out": 0.11}}, 2.0,
         ("untrained", 2.0, True)),
    ]


def _test_beats_baselines(fn):
    import copy

    for label, trained, baselines, factor, (name, ratio, beats) in _verdict_cases():
        label = f"For {label} (factor {factor})"
        out = fn(copy.deepcopy(trained), copy.deepcopy(baselines), factor)
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise Mistake(f"{label}: return a triple (name, ratio, beats), got "
                          f"{type(out).__name__}.")
        got_name, got_ratio, got_beats = out
        got_ratio = as_float(got_ratio, f"{label}: ratio")
        if got_name != name:
            insample = min(baselines, key=lambda k: baselines[k]["in_sample"])
            weakest = max(baselines, key=lambda k: baselines[k]["held_out"])
            if got_name == insample:
                why = ("You ranked the baselines by their in-sample MSE. In-sample numbers "
                       "reward memorising the fit set (a 1536-feature probe on a few hundred "
                       "sequences fits them exactly); rank by held-out MSE.")
            elif got_name == weakest:
                why = ("You picked the *weakest* baseline (highest MSE). A claim is only as "
                       "strong as its margin over the strongest alternative: take the lowest "
                       "held-out MSE.")
            else:
                why = "The strongest baseline has the lowest held-out MSE."
            raise Mistake(f"{label}: the strongest baseline is {name!r}, you returned "
                          f"{got_name!r}. {why}")
        if not math.isclose(got_ratio, ratio, rel_tol=1e-3):
            b, t = baselines[name], trained
            if math.isclose(got_ratio, 1 / ratio, rel_tol=1e-3):
                why = ("Your ratio is inverted: divide the baseline's MSE by the trained "
                       "probe's, so that larger means the trained probe is better.")
            elif math.isclose(got_ratio, b["in_sample"] / t["in_sample"], rel_tol=1e-3):
                why = "You used in-sample MSEs; use the held-out ones."
            elif math.isclose(got_ratio, b["held_out"] / t["in_sample"], rel_tol=1e-3):
                why = ("You divided by the trained probe's *in-sample* MSE: compare like with "
                       "like, held-out over held-out.")
            else:
                why = "ratio = baseline held-out MSE / trained held-out MSE."
            raise Mistake(f"{label}: expected ratio {ratio:.4g}, got {got_ratio:.4g}. {why}")
        if bool(got_beats) is not beats or not isinstance(got_beats, (bool, np.bool_)):
            if not isinstance(got_beats, (bool, np.bool_)):
                raise Mistake(f"{label}: beats should be True or False, got {got_beats!r}.")
            why = (" At exactly the factor the rule says ratio >= factor, so it beats it."
                   if math.isclose(ratio, factor) else "")
            raise Mistake(f"{label}: with ratio {ratio:.4g} and factor {factor}, beats should "
                          f"be {beats}.{why}")
    return ("Right on 4 cases: the strongest baseline by held-out MSE, the ratio the right way "
            "up, and the decision at the factor's edge.")


def check_beats_baselines(beats_baselines):
    """Check ``beats_baselines(trained, baselines, factor) -> (name, ratio, beats)`` (5.4)."""
    return run("beats_baselines", _test_beats_baselines, beats_baselines)


# ---------------------------------------------------------------------------- novel prefixes
def _novel_ref(tokens, train, test, shift=1, same_row=False):
    tokens = np.asarray(tokens)
    L = tokens.shape[1]
    out = np.zeros((len(test), L), dtype=bool)
    for p in range(L):
        k = p + shift
        seen = {tuple(r[:k]) for r in tokens[train]}
        for i, s in enumerate(test):
            out[i, p] = tuple(tokens[s, :k]) not in seen
    return out


def _novel_inputs(seed):
    rng = np.random.default_rng(seed)
    out = []
    toks = rng.integers(0, 3, (200, 6))
    perm = rng.permutation(200)
    out.append(("200 random sequences of 6 tokens over 3 symbols, 20 % fitted", toks,
                np.sort(perm[:40]), np.sort(perm[40:])))
    toks = rng.integers(0, 2, (64, 8))
    perm = rng.permutation(64)
    out.append(("64 random binary sequences, half fitted", toks, np.sort(perm[:32]),
                np.sort(perm[32:])))
    # all 3^4 sequences in lexicographic order, test in a non-sorted order
    grid = np.array(np.meshgrid(*[range(3)] * 4, indexing="ij")).reshape(4, -1).T
    perm = rng.permutation(81)
    out.append(("all 81 sequences of 4 tokens, test indices unsorted", grid, np.sort(perm[:20]),
                perm[20:]))
    return out


def _test_novel_prefix_mask(fn):
    for label, toks, train, test in _novel_inputs(31):
        label = f"For {label}"
        got = as_array(fn(toks.copy(), train.copy(), test.copy()), f"novel_prefix_mask {label}")
        expected = _novel_ref(toks, train, test)
        if got.shape != expected.shape:
            raise Mistake(f"{label}: expected shape (len(test_seqs), L) = {expected.shape}, "
                          f"got {got.shape}.")
        if got.dtype != bool:
            if np.isin(got, [0, 1]).all():
                got = got.astype(bool)
            else:
                raise Mistake(f"{label}: return a boolean array, got dtype {got.dtype}.")
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            why = "Your mask is inverted: True should mark the prefixes that are *new*."
        elif np.array_equal(got[:, 1:], expected[:, :-1]) or np.array_equal(
                got, _novel_ref(toks, train, test, shift=0)):
            why = ("Off by one: position p has read p + 1 tokens, tokens[:, :p + 1]; you "
                   "compared p tokens.")
        elif np.array_equal(got, _novel_ref(toks, train, test, shift=2)):
            why = ("Off by one: position p has read p + 1 tokens, tokens[:, :p + 1]; you "
                   "compared p + 2.")
        elif np.array_equal(got, _novel_ref(toks, np.arange(len(train)), test)):
            why = ("You compared against the first len(train_seqs) sequences, rows "
                   "0..len(train_seqs) - 1; the training sequences are the rows listed in "
                   "train_seqs: tokens[train_seqs].")
        elif not got.any() and np.array_equal(got, _novel_ref(toks, test, test)):
            why = ("You marked no prefix as new: every test prefix occurs in the set you "
                   "compared against. Compare with the *training* sequences, "
                   "tokens[train_seqs], not with the test sequences (or all of them).")
        elif np.array_equal(got, np.tile(expected[:, -1:], (1, expected.shape[1]))):
            why = ("You compared whole sequences; compare each position's prefix: a short "
                   "prefix is usually shared with some training sequence even when the whole "
                   "sequence is not.")
        else:
            i, p = np.argwhere(got != expected)[0]
            prefix = toks[test[i], :p + 1]
            why = (f"Test sequence {test[i]} at position {p} has prefix {prefix.tolist()}, "
                   f"which {'starts no' if expected[i, p] else 'starts some'} training "
                   "sequence.")
        raise Mistake(f"{label}: your mask differs from the reference. {why}")
    return ("Correct on 3 token sets (random ternary, binary, and all 81 four-token sequences "
            "with unsorted test indices).")


def check_novel_prefix_mask(novel_prefix_mask):
    """Check ``novel_prefix_mask(tokens, train_seqs, test_seqs) -> bool (n_test, L)`` (5.5)."""
    return run("novel_prefix_mask", _test_novel_prefix_mask, novel_prefix_mask)


# ---------------------------------------------------------------------------- ridge penalty
_RIDGE_ALPHAS = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0])


def _ridge_fit_predict(X_fit, Y_fit, X_val, alpha, intercept=True):
    from sklearn.linear_model import LinearRegression, Ridge

    est = (LinearRegression(fit_intercept=intercept) if alpha == 0
           else Ridge(alpha=float(alpha), fit_intercept=intercept))
    # scikit-learn's Ridge flattens a one-column target's predictions to (n,): give them the
    # target's shape, so that Y - prediction is a difference of points, not an n x n matrix
    return est.fit(X_fit, Y_fit).predict(X_val).reshape((len(X_val),) + Y_fit.shape[1:])


def _ridge_cv_ref(X, Y, groups, alphas, n_folds, mode="group", intercept=True):
    """Mean-over-folds validation MSE per alpha.

    ``mode``: "group" (the exercise's rule), "broadcast" (the rule, but predictions of a
    one-column target flattened to (n,) when alpha > 0, as scikit-learn's Ridge does, so the
    error is an n x n matrix; "broadcast_all": at every alpha),
    "point" (folds over points: the leak),
    "insample" (scored on the folds it was fitted to), "fit_all" (fitted on every point,
    scored on fold k), "groupkfold" (scikit-learn's
    GroupKFold: grouped, but another assignment of groups to folds).
    """
    if mode == "groupkfold":
        from sklearn.model_selection import GroupKFold

        splits = [(fit, val) for fit, val in GroupKFold(n_splits=n_folds).split(X, Y, groups)]
    else:
        if mode == "point":
            fold = np.arange(len(X)) % n_folds
        else:
            fold = np.unique(groups, return_inverse=True)[1].reshape(-1) % n_folds
        splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_folds)]
    out = []
    for a in alphas:
        errs = []
        for fit, val in splits:
            if mode == "insample":            # fitted and scored on the same folds
                val = fit
            src = slice(None) if mode == "fit_all" else fit
            pred = _ridge_fit_predict(X[src], Y[src], X[val], a, intercept)
            if mode.startswith("broadcast") and Y.shape[1] == 1 and (a > 0 or mode.endswith(
                    "all")):                  # (n, 1) targets minus (n,) predictions
                pred = pred.reshape(-1)
            errs.append(np.mean((Y[val] - pred) ** 2))
        out.append(np.mean(errs))
    return np.array(out)


def _ridge_data(seed, G=40, L=6, D=25, S=3):
    """Grouped data like a probe's: the points of a group (a sequence) are near-duplicates and
    share a target offset that no linear map of the features can learn, so memorising a
    group pays off only if the same group is on both sides of a fold."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(0, 1, (G, D))
    Yg = Z @ rng.normal(0, 0.3, (D, S)) + 1.5 + rng.normal(0, 0.5, (G, S))
    X = np.repeat(Z, L, 0) + rng.normal(0, 0.05, (G * L, D)) + 2.0
    Y = np.repeat(Yg, L, 0) + rng.normal(0, 0.02, (G * L, S))
    groups = np.repeat(rng.permutation(1000)[:G], L)        # arbitrary, unsorted group ids
    perm = rng.permutation(G * L)                           # groups are not contiguous
    return X[perm], Y[perm], groups[perm]


def _test_choose_ridge_alpha(fn):
    n_folds = 5
    for label, seed, S in [("grouped data, 40 sequences of 6 points, 3 targets", 1, 3),
                           ("grouped data, 40 sequences of 6 points, 1 target", 3, 1)]:
        X, Y, groups = _ridge_data(seed, S=S)
        alphas = _RIDGE_ALPHAS.copy()
        label = f"For {label}, alphas {alphas.tolist()}"
        out = fn(X.copy(), Y.copy(), groups.copy(), alphas.copy(), n_folds)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Mistake(f"{label}: return a pair (best_alpha, cv_mse), got "
                          f"{type(out).__name__}.")
        cv = as_array(out[1], f"{label}: cv_mse").astype(float).reshape(-1)
        if cv.shape != alphas.shape:
            raise Mistake(f"{label}: cv_mse should hold one number per alpha, shape "
                          f"{alphas.shape}; got shape {cv.shape}. Average over the folds, "
                          "not over the alphas.")
        again = fn(X.copy(), Y.copy(), groups.copy(), alphas.copy(), n_folds)
        if not np.array_equal(as_array(again[1], "cv_mse").astype(float).reshape(-1), cv):
            raise Mistake(f"{label}: two calls gave different cv_mse; the folds must be "
                          "deterministic: no random shuffling of the sequences, the i-th of "
                          "np.unique(groups) goes to fold i % n_folds.")
        ref = _ridge_cv_ref(X, Y, groups, alphas, n_folds)
        if not np.allclose(cv, ref, rtol=1e-6, atol=1e-9):
            diagnoses = [
                ("point", "Your folds split the points, not the sequences: points of one "
                          "sequence land on both sides of a fold. Cross-validation must hold "
                          "out the way the final test does, by sequence (Exercise 5.2). In "
                          "these data a sequence's points are near-duplicates, so folds over "
                          "points reward a small penalty that memorises sequences. Assign "
                          "every point the fold of its group."),
                ("insample", "You scored each fit on the points it was fitted to (in-sample), "
                             "which always favours the smallest penalty. Fit on the other "
                             "folds, score on fold k."),
                ("fit_all", "You fitted on all the points, fold k included, and then scored "
                            "on fold k: that is in-sample, and favours the smallest penalty. "
                            "Fit on the points outside fold k only."),
                ("broadcast", "Your predictions and the targets have different shapes: "
                              "Y has shape (n, 1) and your predictions (n,), so Y - prediction "
                              "broadcasts to an n x n matrix of every target minus every "
                              "prediction. (scikit-learn's Ridge returns (n,) for a one-column "
                              "target.) Reshape the predictions to Y's shape, "
                              "pred.reshape(Y_val.shape), before taking the error."),
                ("groupkfold", "Your folds keep each sequence together — the important part "
                               "— but assign the sequences to folds differently from the rule "
                               "asked for (the i-th of np.unique(groups) goes to fold "
                               "i % n_folds), so the numbers cannot be compared. Use that "
                               "rule."),
            ]
            diagnoses.append(("broadcast_all", dict(diagnoses)["broadcast"]))
            for mode, why in diagnoses:
                if np.allclose(cv, _ridge_cv_ref(X, Y, groups, alphas, n_folds, mode),
                               rtol=1e-6, atol=1e-9):
                    raise Mistake(f"{label}: your cv_mse differs from the reference. {why}")
            if np.allclose(cv, _ridge_cv_ref(X, Y, groups, alphas, n_folds, intercept=False),
                           rtol=1e-6, atol=1e-9):
                raise Mistake(f"{label}: your fits have no intercept. Use "
                              "probing.AffineProbe(alpha=a) (or Ridge with fit_intercept=True): "
                              "the targets are not centred.")
            if np.allclose(cv, -ref, rtol=1e-6, atol=1e-9):
                raise Mistake(f"{label}: your cv_mse is negative: scikit-learn's "
                              "'neg_mean_squared_error' scores are minus the MSE.")
            if np.allclose(cv, np.sqrt(ref), rtol=1e-6, atol=1e-9):
                raise Mistake(f"{label}: you returned root-mean-square errors; return the MSE.")
            raise Mistake(f"{label}: cv_mse should be {fmt(ref)}, got {fmt(cv)} "
                          f"({describe_difference(cv, ref)}). For each alpha "
                          "and fold k: fit AffineProbe(alpha) on the points outside fold k, "
                          "MSE (mean over points and coordinates) on fold k; then the mean "
                          "over the folds.")
        best = as_float(out[0], f"{label}: best_alpha")
        want = float(alphas[np.argmin(ref)])
        if not np.isclose(best, want):
            if np.isclose(best, float(alphas[np.argmax(ref)])):
                why = "You took the penalty with the *largest* error: use np.argmin."
            elif np.isclose(best, float(np.argmin(ref))):
                why = ("You returned the index of the best penalty; return the penalty "
                       "itself, alphas[index].")
            else:
                why = "Return the alpha whose cross-validated MSE is smallest."
            raise Mistake(f"{label}: your cv_mse is right, but best_alpha should be {want:g}, "
                          f"got {best:g}. {why}")
    return ("Your cross-validated errors match the reference on 2 grouped data sets, folds "
            "grouped by sequence, and you pick the penalty with the lowest error.")


def check_choose_ridge_alpha(choose_ridge_alpha):
    """Check ``choose_ridge_alpha(X, Y, groups, alphas, n_folds=5) -> (alpha, cv_mse)`` (5.6)."""
    return run("choose_ridge_alpha", _test_choose_ridge_alpha, choose_ridge_alpha)
