# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Practice 05 · Probing the residual stream
#
# *Six exercises, about two hours in all. Read chapter 05 first (and chapter 05b before
# Exercise 5.6); each exercise names the section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 5.1 | the affine probe by (weighted) least squares, matching scikit-learn | ★★☆ | 20 min |
# | 5.2 | a held-out split over **sequences** | ★☆☆ | 10 min |
# | 5.3 | the shuffle control | ★★☆ | 15 min |
# | 5.4 | a verdict: does a probe beat its strongest baseline? | ★★☆ | 15 min |
# | 5.5 | which held-out points are *really* new (prefixes never seen in the fit set) | ★★★ | 30 min |
# | 5.6 | a ridge penalty chosen by cross-validation over sequences, without peeking | ★★★ | 25 min |
#
# Together they are the machinery that turns "the probe found a fractal" into a claim you can
# defend: a fit you understand, an honest split, a control that shows what chance looks like,
# a decision rule that compares with the strongest alternative rather than the weakest, and a
# regularised probe whose penalty never saw the test set.
#
# **How this notebook works.** Fill in each function between the markers, run it, then run
# its checker. Cells that apply your functions to the shipped transformer print a note until
# the functions exist, so the notebook always runs to the end.
#
# **Shapes.** $N$ sequences of $L$ positions give $N L$ points. Features `X` are `(N, L, D)` or
# flattened `(N L, D)`; targets (beliefs) `Y` are `(N, L, S)` or `(N L, S)`. Flattening with
# `reshape(-1, ...)` puts point $(n, p)$ at row $n L + p$.

# %%
import numpy as np
from sklearn.linear_model import LinearRegression

from beliefcourse import checkpoints, probing, processes
from beliefcourse.checks import ch05 as checks
from beliefcourse.data import ExactData

np.set_printoptions(precision=4, suppress=True)

# The shipped Mess3 transformer and its final-layer activations on 6,000 random sequences
# (a subset keeps this notebook fast; chapter 05 uses all 59,049).
model, record = checkpoints.load("mess3")
data = ExactData(processes.mess3(), n_ctx=model.cfg.n_ctx)
subset = np.sort(np.random.default_rng(0).choice(len(data), size=6000, replace=False))
tokens, beliefs, seq_probs = data.inputs[subset], data.beliefs[subset], data.probs[subset]
acts = probing.collect_activations(model, tokens, "blocks.3.hook_resid_post")
print("activations", acts.shape, " beliefs", beliefs.shape)

# %% [markdown]
# ---
# ### Exercise 5.1 — The affine probe ★★☆, ~20 min
#
# *Practises chapter 05, section 3 (and section 1's least-squares refresher).*
#
# **You will:** fit the probe of the authors' code (adamimos/epsilon-transformers) yourself — an
# affine map from activations to beliefs — by weighted least squares, and check that it agrees
# with scikit-learn.
#
# Write `fit_affine_probe(X, Y, weights=None)` for `X` of shape `(n, D)` and `Y` of shape
# `(n, S)`. Return `(W, b)` with `W` of shape `(D, S)` and `b` of shape `(S,)` minimising
#
# $$
# \sum_{i=1}^{n} w_i \,\big\| Y_i - (X_i W + b) \big\|^2 ,
# $$
#
# with $w_i = 1$ when `weights` is `None`. Predictions are `X @ W + b`.
#
# <details><summary>Hint 1 — the intercept</summary>
#
# Append a column of ones to `X`: with $\tilde X = [X, \mathbf 1]$ the affine problem is the
# linear problem $\min \|Y - \tilde X \tilde W\|^2$, and the last row of $\tilde W$ is `b`.
# </details>
#
# <details><summary>Hint 2 — the weights</summary>
#
# $\sum_i w_i \|r_i\|^2 = \sum_i \|\sqrt{w_i}\, r_i\|^2$: multiply each row of $\tilde X$ **and**
# of $Y$ by $\sqrt{w_i}$, then solve the unweighted problem.
# </details>
#
# <details><summary>Hint 3 — the solver</summary>
#
# Use `np.linalg.lstsq(A, B, rcond=None)`. Do not invert $\tilde X^\top \tilde X$: activations
# can have (nearly) collinear features, and then that matrix is singular. `lstsq` returns the
# minimum-norm solution, as scikit-learn does. (When features are collinear, $W$ is not unique
# — only the predictions are; the checker compares predictions.)
# </details>

# %%
def fit_affine_probe(X, Y, weights=None):
    """Weighted least-squares affine map X -> Y.

    Parameters
    ----------
    X : ndarray, shape (n, D)
    Y : ndarray, shape (n, S)
    weights : ndarray, shape (n,), optional
        Non-negative point weights; None means all 1.

    Returns
    -------
    W : ndarray, shape (D, S)
    b : ndarray, shape (S,)
        Minimise sum_i w_i ||Y_i - (X_i @ W + b)||^2.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    A = np.hstack([X, np.ones((len(X), 1))])
    if weights is not None:
        root = np.sqrt(np.asarray(weights, dtype=float))[:, None]
        A, Y = A * root, Y * root
    solution, *_ = np.linalg.lstsq(A, Y, rcond=None)
    return solution[:-1], solution[-1]
    ### END SOLUTION


# %%
checks.check_fit_affine_probe(fit_affine_probe)

# %% [markdown]
# Your probe on the transformer's residual stream, against scikit-learn's `LinearRegression`
# (unweighted, as in the authors' code, and weighted by each sequence's probability):

# %%
try:
    X = acts.reshape(-1, acts.shape[-1]).astype(np.float64)   # float64, as scikit-learn fits
    Y = beliefs.reshape(-1, 3)
    w_points = np.repeat(seq_probs, tokens.shape[1])           # point (n, p) gets P(sequence n)
    for label, w in [("unweighted", None), ("probability-weighted", w_points)]:
        W, b = fit_affine_probe(X, Y, w)
        reference = LinearRegression().fit(X, Y, sample_weight=w)
        mine = X @ W + b
        same = np.abs(mine - reference.predict(X)).max() < 1e-9     # float rounding only
        print(f"{label:21s} MSE {probing.mse(Y, mine):.3e}; same predictions as "
              f"scikit-learn's (to 1e-9): {same}")
except NotImplementedError:
    print("(finish Exercise 5.1 to fit your probe to the transformer)")

# %% [markdown]
# ---
# ### Exercise 5.2 — A held-out split over sequences ★☆☆, ~10 min
#
# *Practises chapter 05, section 4.*
#
# **You will:** split the $N L$ points into a fit set and a test set so that no sequence
# contributes to both — and randomly, not by the order of the data.
#
# Write `split_points(n_sequences, n_positions, train_fraction, seed)` returning
# `(train_points, test_points)`: sorted integer arrays of *flat point indices* (point $(n, p)$ is
# index $n L + p$, as in `reshape(-1, ...)`). Choose `floor(train_fraction * n_sequences)`
# sequences at random (with `np.random.default_rng(seed)`) for the fit set; **all** $L$ points of
# a sequence go to the same side. The authors' code cross-validates its Mess3 probe this way,
# fitting on 20 % of the sequences and testing on the other 80 %.
#
# <details><summary>Hint 1</summary>
#
# Permute the *sequence* indices, take the first `n_train` as fit sequences, then expand each
# sequence $n$ to its points $nL, nL+1, \dots, nL+L-1$:
# `(seqs[:, None] * n_positions + np.arange(n_positions)).ravel()`.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Why not just permute the points? Then most sequences put some positions on each side, and a
# test point's prefix — its activation and its belief — has already been fitted at the same
# sequence's other positions. `ExactData` also lists sequences in lexicographic order, so "the
# first 20 %" would be the sequences starting with one token: random, please.
# </details>

# %%
def split_points(n_sequences, n_positions, train_fraction, seed):
    """Fit/test split of N * L points, grouped by sequence.

    Returns
    -------
    train_points, test_points : sorted int arrays of flat indices n * n_positions + p
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    n_train = int(np.floor(train_fraction * n_sequences))
    seqs = rng.permutation(n_sequences)
    expand = lambda s: np.sort((s[:, None] * n_positions + np.arange(n_positions)).ravel())
    return expand(seqs[:n_train]), expand(seqs[n_train:])
    ### END SOLUTION


# %%
checks.check_split_points(split_points)

# %% [markdown]
# ---
# ### Exercise 5.3 — The shuffle control ★★☆, ~15 min
#
# *Practises chapter 05, section 5.*
#
# **You will:** measure what a probe scores when there is *nothing* to find: the same features,
# the same targets, the pairing between them destroyed.
#
# Write `shuffle_control(X_train, Y_train, X_test, Y_test, rng)`:
#
# 1. permute the **rows** of `Y_train` with `rng.permutation` (a shuffled copy: every target
#    still occurs exactly once, now attached to the wrong activation);
# 2. fit an affine probe from `X_train` to the shuffled targets (your `fit_affine_probe`, or
#    `LinearRegression`);
# 3. return its MSE on the **true** held-out targets: the mean over points and coordinates of
#    `(Y_test - prediction) ** 2`, as a float.
#
# Use the `rng` you are given, so that the control is reproducible.
#
# <details><summary>Hint 1</summary>
#
# `Y_train[rng.permutation(len(Y_train))]` permutes points (rows). `rng.permutation(Y_train)`
# does the same. Permuting the *columns* would swap belief coordinates, which is a different —
# and wrong — control.
# </details>
#
# <details><summary>Hint 2</summary>
#
# What should you get? A probe fitted to unrelated targets learns (almost) nothing but their
# mean, so its MSE is close to the variance of the targets — for Mess3 beliefs about 0.11.
# </details>

# %%
def shuffle_control(X_train, Y_train, X_test, Y_test, rng):
    """Held-out MSE of an affine probe fitted to row-permuted training targets."""
    ### BEGIN SOLUTION
    shuffled = Y_train[rng.permutation(len(Y_train))]
    reg = LinearRegression().fit(X_train, shuffled)
    return float(np.mean((Y_test - reg.predict(X_test)) ** 2))
    ### END SOLUTION


# %%
checks.check_shuffle_control(shuffle_control)

# %% [markdown]
# Both on the transformer: the real probe and the shuffle control, on your split.

# %%
try:
    train, test = split_points(len(tokens), tokens.shape[1], 0.2, seed=0)
    X, Y = acts.reshape(-1, acts.shape[-1]), beliefs.reshape(-1, 3)
    W, b = fit_affine_probe(X[train], Y[train])
    real = float(np.mean((Y[test] - (X[test] @ W + b)) ** 2))
    control = shuffle_control(X[train], Y[train], X[test], Y[test], np.random.default_rng(1))
    print(f"held-out MSE, real probe:       {real:.2e}")
    print(f"held-out MSE, shuffled targets: {control:.3f}   (variance of the beliefs: "
          f"{Y[test].var(0).mean():.3f})")
    print(f"ratio: {control / real:.0f}")
except NotImplementedError:
    print("(finish Exercises 5.1-5.3 to run the probe and its shuffle control)")

# %% [markdown]
# ---
# ### Exercise 5.4 — Does the probe beat its baseline? ★★☆, ~15 min
#
# *Practises chapter 05, sections 5–6.*
#
# **You will:** turn a table of numbers into a decision, the way a careful reviewer would.
#
# Write `beats_baselines(trained, baselines, factor=2.0)`. `trained` is a dict
# `{"in_sample": mse, "held_out": mse}` for the probe on the trained network; `baselines` maps
# a baseline's name (e.g. `"shuffled"`, `"untrained"`, `"input only"`) to a dict of the same
# form. Return `(name, ratio, beats)`:
#
# * `name` — the **strongest** baseline: the one with the lowest held-out MSE;
# * `ratio` — that baseline's held-out MSE divided by the trained probe's held-out MSE (how
#   many times smaller the trained probe's error is);
# * `beats` — `True` if `ratio >= factor`.
#
# Held-out numbers only: an in-sample MSE rewards a probe for memorising its fit set.
#
# <details><summary>Hint</summary>
#
# `min(baselines, key=lambda k: baselines[k]["held_out"])`. A baseline that everybody beats (the
# shuffle control) proves little; the claim is only as strong as the margin over the
# *strongest* alternative.
# </details>

# %%
def beats_baselines(trained, baselines, factor=2.0):
    """(strongest baseline name, its held-out MSE / trained held-out MSE, ratio >= factor)."""
    ### BEGIN SOLUTION
    name = min(baselines, key=lambda k: baselines[k]["held_out"])
    ratio = baselines[name]["held_out"] / trained["held_out"]
    return name, float(ratio), bool(ratio >= factor)
    ### END SOLUTION


# %%
checks.check_beats_baselines(beats_baselines)

# %% [markdown]
# Now on real numbers: the shipped checkpoints' records carry the probe metrics written by
# `python -m beliefcourse probe mess3 --all --write` — the trained network and its controls at
# the final layer, held-out over sequences. Which checkpoints beat their strongest baseline by
# a factor of 2?

# %%
def report_rows(rec):
    """{kind: {"in_sample": mse, "held_out": mse}} for the final-layer rows of a record."""
    rows = {}
    for row in rec["probe"]["rows"]:
        if row["kind"] == "input only" or row["label"].startswith("final layer"):
            rows[row["kind"]] = {"in_sample": row["in_sample"]["mse"],
                                 "held_out": row["held_out"]["mse"]}
    return rows


try:
    judged = 0
    for n_tokens in checkpoints.tokens("mess3"):
        rec = checkpoints.record("mess3", n_tokens)
        if not rec.get("probe"):
            continue
        judged += 1
        rows = report_rows(rec)
        trained = rows.pop("trained")
        name, ratio, beats = beats_baselines(trained, rows)
        print(f"{n_tokens:>12,} tokens: held-out MSE {trained['held_out']:.2e}; strongest baseline "
              f"{name!r}, ratio {ratio:6.2f} -> {'beats it' if beats else 'does not beat it'}")
    if not judged:
        print("(these records carry no probe metrics; add them with "
              "`python -m beliefcourse probe mess3 --all --write`)")
except NotImplementedError:
    print("(finish Exercise 5.4 to judge the shipped checkpoints)")

# %% [markdown]
# ---
# ### Exercise 5.5 — Which held-out points are new? ★★★, ~30 min
#
# *Practises chapter 05, section 4 ("Where even a sequence split leaks").*
#
# **You will:** find the weak spot of splitting by sequence, and fix it.
#
# Splitting over sequences keeps one sequence's positions together, but different sequences
# share **prefixes**: every sequence starting with `A, B` has the same first two tokens, hence
# (the model is causal) the same activation and the same belief at positions 0 and 1. With
# 20 % of 59,049 sequences in the fit set, every short prefix is in the fit set many times
# over, and a "held-out" point at position 1 is not new at all. Only long prefixes are.
#
# Write `novel_prefix_mask(tokens, train_seqs, test_seqs)`:
#
# * `tokens`: int array `(N, L)`; `train_seqs`, `test_seqs`: sequence indices;
# * return a boolean array of shape `(len(test_seqs), L)` whose entry `[i, p]` is `True` if the
#   prefix `tokens[test_seqs[i], :p + 1]` (the $p + 1$ tokens position $p$ has read) is **not**
#   the prefix of any training sequence, i.e. differs from `tokens[t, :p + 1]` for every `t`
#   in `train_seqs`.
#
# <details><summary>Hint 1</summary>
#
# Build, for each position `p`, the set of training prefixes: `{tuple(row[:p + 1]) for row in
# tokens[train_seqs]}`. Then look up each test prefix. Fine for this size; Hint 2 is faster.
# </details>
#
# <details><summary>Hint 2 — vectorised</summary>
#
# Encode a prefix as one integer, e.g. in base `V = tokens.max() + 1`: `codes[:, p] =
# codes[:, p - 1] * V + tokens[:, p]`. Prefixes of the same length are equal exactly when
# their codes are; then `~np.isin(test_codes[:, p], train_codes[:, p])` per position.
# </details>
#
# <details><summary>Hint 3</summary>
#
# Position $p$ has read $p + 1$ tokens, `tokens[:, :p + 1]` — not `tokens[:, :p]`. And a
# prefix is "seen" if *any* training sequence starts with it, not only the one at the same row.
# </details>

# %%
def novel_prefix_mask(tokens, train_seqs, test_seqs):
    """mask[i, p] = the first p + 1 tokens of test sequence i start no training sequence."""
    ### BEGIN SOLUTION
    tokens = np.asarray(tokens, dtype=np.int64)
    V = int(tokens.max()) + 1
    codes = np.zeros(tokens.shape, dtype=np.int64)
    acc = np.zeros(len(tokens), dtype=np.int64)
    for p in range(tokens.shape[1]):
        acc = acc * V + tokens[:, p]
        codes[:, p] = acc
    train_codes, test_codes = codes[train_seqs], codes[test_seqs]
    return np.stack([~np.isin(test_codes[:, p], train_codes[:, p])
                     for p in range(tokens.shape[1])], axis=1)
    ### END SOLUTION


# %%
checks.check_novel_prefix_mask(novel_prefix_mask)

# %% [markdown]
# How much of the "held-out" set is new, position by position, with a 20 % fit set (the split
# of the authors' Mess3 cross-validation) on all 59,049 sequences — and does the probe do worse
# on the truly new points?
#
# > **Question.** Predict before you run the cell. With 20 % of the 59,049 sequences of 10
# > tokens in the fit set, what fraction of the held-out points at position 9 have a new
# > prefix? At position 8? At position 6?
# >
# > <details><summary>Answer</summary>
# >
# > Position $p$ has read $p + 1$ tokens, and $3^{9-p}$ of the 59,049 sequences share each
# > prefix of that length. A held-out sequence's prefix is new when the *other*
# > $3^{9-p} - 1$ sequences that share it are all held out too, which happens with probability
# > about $0.8^{3^{9-p} - 1}$: 1 at position 9 (no other sequence has all ten tokens),
# > $0.8^2 = 0.64$ at position 8, $0.8^8 \approx 0.168$ at position 7, $0.8^{26} \approx 0.003$
# > at position 6, and nothing before. The cell prints this estimate, then the measured
# > fractions.
# > </details>

# %%
estimate = 0.8 ** (3.0 ** (9 - np.arange(10)) - 1)
print("estimate 0.8 ** (3 ** (9 - p) - 1), by position:            ", estimate.round(3))
try:
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data))
    train_seqs, test_seqs = np.sort(order[:len(data) // 5]), np.sort(order[len(data) // 5:])
    novel = novel_prefix_mask(data.inputs, train_seqs, test_seqs)
    print("fraction of held-out points with a new prefix, by position:", novel.mean(0).round(3))

    # the probe on the subset above, scored on the sequences of the subset that are held out
    in_test = np.isin(subset, test_seqs)
    novel_subset = novel_prefix_mask(data.inputs, train_seqs, subset[in_test])
    fit_seqs = np.isin(subset, train_seqs)
    reg = LinearRegression().fit(acts[fit_seqs].reshape(-1, 64), beliefs[fit_seqs].reshape(-1, 3))
    err = ((reg.predict(acts[in_test].reshape(-1, 64)).reshape(-1, 10, 3)
            - beliefs[in_test]) ** 2).mean(-1)                       # (n_test, 10)
    for p in (7, 8):          # the positions that have both kinds of point
        new, seen = novel_subset[:, p], ~novel_subset[:, p]
        print(f"position {p}: held-out MSE {err[new, p].mean():.2e} on {new.sum():,} new "
              f"prefixes, {err[seen, p].mean():.2e} on {seen.sum():,} seen ones")
except NotImplementedError:
    print("(finish Exercise 5.5 to find the truly new held-out points)")

# %% [markdown]
# Positions 0–5 contain no new prefix at all and position 6 almost none: nearly everything
# there was, in effect, in the fit set. At a position that has both kinds, compare like with
# like: for a 64-dimensional probe with 3 outputs the two MSEs are close — it cannot memorise.
# For a probe with more features than distinct prefixes (chapter 05b's RRXOR concatenation), it
# is the whole story (Exercise 5.6).
#
# %% [markdown]
# ---
# ### Exercise 5.6 — A ridge penalty, chosen without peeking ★★★, ~25 min
#
# *Practises chapter 05b, section 3.*
#
# **You will:** choose the penalty of a ridge probe by cross-validation *inside* the fit set,
# with folds grouped by sequence — and watch what goes wrong when the folds split points.
#
# For RRXOR, chapter 05b concatenates all 12 residual hooks: 1,536 features. Fitted on 20 % of
# the sequences — the split of the authors' Mess3 cross-validation; their RRXOR analysis was
# in-sample only — that is 87 sequences with only a few hundred distinct prefixes. Least squares
# then interpolates its fit set and does badly held out. Ridge regression minimises
# $\sum_i \lVert Y_i - (X_i W + b)\rVert^2 + \alpha \lVert W \rVert^2$ (the intercept is not
# penalised); `probing.AffineProbe(alpha=a)` fits it (`alpha=0` is ordinary least squares). The
# penalty must be chosen *without* the held-out sequences, or their score is no longer held out.
# The search below scores by MSE; the table after it also reports the held-out $R^2$, the
# course's one definition from chapter 05, section 1:
# $R^2 = 1 - \sum_i \lVert y_i - \hat y_i \rVert^2 / \sum_i \lVert y_i - \bar y \rVert^2$,
# pooled over the belief coordinates (`probing.r2`; not scikit-learn's average of per-coordinate
# $R^2$).
#
# Write `choose_ridge_alpha(X, Y, groups, alphas, n_folds=5)`:
#
# * `X` `(n, D)`, `Y` `(n, S)`: the fit set's points; `groups` `(n,)`: the sequence each point
#   belongs to (arbitrary integer ids, in any order); `alphas`: the candidate penalties;
# * **folds:** sort the distinct groups (`np.unique(groups)`); the $i$-th goes to fold
#   $i \bmod n_\text{folds}$, and every point goes to the fold of its group;
# * for each penalty and each fold $k$: fit `probing.AffineProbe(alpha=a)` on the points *outside*
#   fold $k$ and compute its MSE on fold $k$ (mean over points and coordinates);
#   `cv_mse[j]` is the mean over the folds for `alphas[j]`;
# * return `(best_alpha, cv_mse)`: the penalty with the lowest `cv_mse` (a float) and the array.
#
# <details><summary>Hint 1 — the folds</summary>
#
# `np.unique(groups, return_inverse=True)[1]` numbers the groups $0, 1, \dots$ in sorted order,
# one number per point; `% n_folds` turns that into the point's fold. Then
# `in_fold = fold == k` selects the validation points, `~in_fold` the ones to fit.
# </details>
#
# <details><summary>Hint 2 — why groups?</summary>
#
# Cross-validation is the held-out test in miniature, so it should hold out the way the test
# does: by sequence (Exercise 5.2). If the points of a sequence resemble each other and a
# sequence has points on both sides of a fold, a probe that memorises sequences (small
# $\alpha$) is rewarded for it, and the search picks too small a penalty.
# </details>
#
# <details><summary>Hint 3</summary>
#
# The loops are short: for each `a` in `alphas`, for each `k` in `range(n_folds)`, fit and
# score. `np.argmin(cv_mse)` is an *index*; return `alphas[that index]`.
# </details>

# %%
def choose_ridge_alpha(X, Y, groups, alphas, n_folds=5):
    """(penalty with the lowest grouped cross-validated MSE, cv_mse per penalty)."""
    ### BEGIN SOLUTION
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    fold = np.unique(groups, return_inverse=True)[1].reshape(-1) % n_folds
    cv_mse = np.zeros(len(alphas))
    for j, a in enumerate(alphas):
        errors = []
        for k in range(n_folds):
            val = fold == k
            fitted = probing.AffineProbe(alpha=a).fit(X[~val], Y[~val])
            errors.append(np.mean((Y[val] - fitted.predict(X[val])) ** 2))
        cv_mse[j] = np.mean(errors)
    return float(alphas[np.argmin(cv_mse)]), cv_mse
    ### END SOLUTION


# %%
checks.check_choose_ridge_alpha(choose_ridge_alpha)

# %% [markdown]
# Now on RRXOR, all 12 residual hooks concatenated, fitted on 20 % of the sequences (as the
# authors cross-validated Mess3; they scored RRXOR in-sample only). We run your search twice: with folds over sequences, and with every point its own
# "group" (numbered in random order), i.e. random folds over points. *After* choosing — never
# before — we may look at what each penalty actually scores on the held-out 80 %, to see how
# well each search predicted it.

# %%
r_model, _ = checkpoints.load("rrxor")
r_data = ExactData(processes.rrxor(), n_ctx=r_model.cfg.n_ctx)
r_acts = probing.collect_activations(r_model, r_data.inputs, probing.layer_hooks(r_model))
fit_seqs, _ = probing.split_sequences(len(r_data), train_fraction=0.2, seed=0)
X_fit = r_acts[fit_seqs].reshape(-1, r_acts.shape[-1])
Y_fit = r_data.beliefs[fit_seqs].reshape(-1, 5)
seq_of_point = np.repeat(fit_seqs, r_acts.shape[1])
grid = np.array([0.0, 0.1, 1.0, 10.0, 100.0, 1000.0])
print(f"{len(fit_seqs)} fitted sequences, {len(X_fit)} points, {X_fit.shape[1]} features")
try:
    searches = {"folds over sequences": seq_of_point,
                "folds over points": np.random.default_rng(0).permutation(len(X_fit))}
    chosen, curves = {}, {}
    for label, groups in searches.items():
        chosen[label], curves[label] = choose_ridge_alpha(X_fit, Y_fit, groups, grid)
    held = [probing.evaluate(r_acts, r_data.beliefs, r_data.probs, 0.2, seed=0, alpha=a).held_out
            for a in grid]
    print(f"{'alpha':>8s} {'CV, sequences':>14s} {'CV, points':>11s} {'held-out MSE':>13s} "
          f"{'held-out R²':>12s}")
    for j, a in enumerate(grid):
        print(f"{a:8g} {curves['folds over sequences'][j]:14.4f} "
              f"{curves['folds over points'][j]:11.4f} {held[j].mse:13.4f} {held[j].r2:12.3f}")
    for label, a in chosen.items():
        j = int(np.flatnonzero(grid == a)[0])
        print(f"{label} choose alpha {a:g}: CV MSE {curves[label][j]:.4f}, held-out MSE "
              f"{held[j].mse:.4f}, held-out R² {held[j].r2:.3f} (least squares: {held[0].r2:.3f})")
    best = grid[int(np.argmin([h.mse for h in held]))]
    print(f"the held-out set itself would choose alpha {best:g}")
except NotImplementedError:
    print("(finish Exercise 5.6 to choose the penalty for the RRXOR probe)")

# %% [markdown]
# Read the last three printed lines. Both searches choose the same penalty, and it is the one
# the held-out set itself would have chosen — found without peeking. At that penalty the
# held-out $R^2$ (pooled, chapter 05 §1) is well above that of least squares ($\alpha = 0$),
# and the cross-validated error with folds over sequences is close to the held-out error it
# predicts.
#
# Here the two kinds of folds agree, and it is worth seeing why. The points of one transformer
# sequence are not copies of each other — each position has its own, longer prefix. What
# RRXOR's points share are prefixes *across* sequences, which neither kind of fold keeps
# apart (Exercise 5.5's tool would). In the checker's data, where a sequence's points *are*
# near-duplicates, folds over points can choose a smaller penalty than folds over sequences —
# too small for data that are genuinely new. The rule that is always safe: cross-validate by
# holding out exactly the way the final test holds out.

# ---
# ## Wrap-up
#
# You can now fit a probe from first principles, split honestly, measure chance with a
# control, decide against the strongest baseline, spot held-out points that are not new, and
# regularise without letting the test set choose the penalty.
#
# **Going further (no checker).**
#
# * Fit the probe with `weights=w_points` and score it both ways. Which weighting should a
#   claim about "the process" use, and which one did the authors' code use (chapter 05,
#   section 4)?
# * Replace the shuffle control by a *Gaussian* control: targets drawn from a normal
#   distribution with the beliefs' mean and covariance. Is it a stronger or a weaker control,
#   and why?
# * Repeat Exercise 5.5's comparison for RRXOR (`checkpoints.load("rrxor")`, all residual hooks
#   concatenated). How many distinct prefixes are there, and how many features?
#
# Next: chapter 06, *Beyond the next token, beyond transformers*.
