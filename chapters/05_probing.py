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
# # 05 · Probing the residual stream
#
# *Reading time ≈ 75 minutes; running time ≈ 35 seconds (measured, CPU on one thread).
# Prerequisites: chapter 03 (the Mess3 fractal), chapter 04 (the model, its hooks, the shipped
# checkpoints); NumPy; a first meeting with least squares (section 1 refreshes it).*
#
# Chapter 04 showed that a small transformer trained on Mess3 predicts the next token almost
# exactly as well as Bayes' rule allows. The Bayes-optimal predictor carries a belief — a point
# in the simplex — and chapter 03 showed that the set of those beliefs is a fractal. Does the
# transformer carry the belief too? Shai et al. (2024) answered with one affine regression from
# the residual stream to the belief, and a picture: the fractal, reappearing inside the
# network.
#
# This chapter reproduces that picture, and then asks what a sceptical reader should ask before
# believing it: is the score held out, split the right way? What do three controls score —
# shuffled targets, the same network untrained, and no network at all? How does the picture
# change over training and through the layers?
#
# **After this chapter you will be able to**
#
# 1. fit an affine probe by least squares and say what its $R^2$ measures;
# 2. collect residual-stream activations for every input, line them up with the exact beliefs,
#    and draw the probe's output in the simplex beside the theoretical fractal;
# 3. report held-out scores, split over *sequences*, unweighted and probability-weighted — and
#    say where even that split leaks;
# 4. run the three controls and say, with a number, how much better than each the trained
#    network is;
# 5. follow the geometry over training and through the layers.
#
# Chapter 05b continues with the paper's second process, RRXOR, where probes have more features
# than inputs, and with what the first attention layer computes.
#
# Boxes marked **For readers of the paper** compare with Shai et al.'s figures and the authors'
# code; you can skip them.
#
# Practice: `exercises/05_probing.ipynb`, exercises 5.1–5.5 (the probe by least squares, the
# split, the shuffle control, a decision rule, the truly new held-out points).

# %%
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import checkpoints, plotting, probing, processes
from beliefcourse.data import ExactData

np.set_printoptions(precision=4, suppress=True)
mess3 = processes.mess3()
data = ExactData(mess3, n_ctx=10)
model, record = checkpoints.load("mess3")                 # the final shipped checkpoint
print(f"model: {record['name']} after {record['tokens_seen']:,} tokens, "
      f"relative loss {record['relative_loss']:.5f}")

# %% [markdown]
# ## 1. What a probe can and cannot show
#
# Write $r_p(x_{1:10}) \in \mathbb R^{64}$ for the residual stream at position $p$ when the
# model reads the context $x_{1:10} = x_1 \dots x_{10}$, and $\eta_{p+1}(x_{1:10})$ for the
# belief after its first $p + 1$ tokens (chapter 04's alignment). The claim to test is that
# there is **one** affine map $A(r) = r W + b$, the same for all contexts and positions, with
#
# $$
# A\big(r_p(x_{1:10})\big) \approx \eta_{p+1}(x_{1:10}) \quad\text{for every context }
# x_{1:10} \text{ and position } p .
# $$
#
# Why affine? Because the rest of the network reads the stream through linear maps (after a
# LayerNorm), so information that is linearly available is information the network can use
# directly; and because the Bayes-optimal next-token distribution is itself linear in the
# belief, $P(x \mid \eta) = \eta T^{(x)} \mathbf 1$. An affine probe also cannot *create*
# structure: it moves every activation by the same matrix. If the probed points form the
# fractal, then the activations, seen along three directions of the 64, already had that
# shape.
#
# But a probe shows that information is *present*, not that the network *uses* it (chapter 06
# tests use by steering); and "present" is relative. Beliefs are a function of the tokens, so
# some of their variance can be read off almost any function of the tokens — including an
# untrained network's. That is what the controls of section 5 measure.
#
# ### A least-squares refresher
#
# A probe is a linear regression with several outputs. Given points $i = 1, \dots, n$ with
# features $r_i \in \mathbb R^{D}$ (a row), targets $y_i \in \mathbb R^{S}$ and weights
# $w_i > 0$, least squares picks the $W$ ($D \times S$) and $b$ ($1 \times S$) that minimise
#
# $$
# \sum_i w_i \,\lVert y_i - r_i W - b \rVert^2 .
# $$
#
# Append a constant 1 to every feature row, $\tilde r_i = (r_i, 1)$, and stack the rows into
# $\tilde R$ ($n \times (D + 1)$), and the targets likewise into $Y$ ($n \times S$): the
# minimiser $\theta$ ($W$ with the row $b$ stacked under it, $(D + 1) \times S$) solves the
# *normal equations* $\tilde R^\top \Omega \tilde R\, \theta = \tilde R^\top \Omega Y$ with
# $\Omega = \operatorname{diag}(w)$ — one ordinary regression per target coordinate, all on the
# same features. If $\tilde R$ has rank $D + 1$ the solution is unique; otherwise many maps
# fit equally well and the course's `probing.AffineProbe` (scikit-learn underneath) returns the
# one of smallest norm. A weight $w_i = k$ counts like $k$ copies of the point.
#
# How good is a fit? Two scores, used throughout, each with one definition. With true beliefs
# $\eta_i \in \mathbb R^S$ and probe outputs $\hat\eta_i$:
#
# $$
# \text{MSE} = \frac{\sum_i w_i \lVert \eta_i - \hat\eta_i \rVert^2}{S \sum_i w_i},
# \qquad
# R^2 = 1 - \frac{\sum_i w_i \lVert \eta_i - \hat\eta_i \rVert^2}
#               {\sum_i w_i \lVert \eta_i - \bar\eta \rVert^2},
# \qquad \bar\eta = \frac{\sum_i w_i \eta_i}{\sum_i w_i}.
# $$
#
# The MSE is the squared error per belief coordinate. $R^2$ is the share of the beliefs' total
# variance that the probe explains: total squared error over total variance, **pooled over the
# coordinates** — equivalently $1 - \text{MSE} / \text{Var}$, with Var the variance of the
# true beliefs averaged over the $S$ coordinates. Predicting the mean belief everywhere scores
# $R^2 = 0$, a perfect probe 1. `probing.r2` computes exactly this, and every $R^2$ in the
# course is this one. (scikit-learn's `r2_score` instead averages a separate $R^2$ per
# coordinate; chapter 05b shows a case where the two differ.) A toy check, with three targets
# that depend on two of five features plus noise:

# %%
rng = np.random.default_rng(0)
r_toy = rng.normal(size=(200, 5))                            # 200 points, 5 features
y_toy = r_toy[:, :2] @ np.array([[1.0, 0, -1], [0, 1, -1]]) / 3 + 1 / 3 \
    + 0.05 * rng.normal(size=(200, 3))                       # 3 targets
toy = probing.AffineProbe().fit(r_toy, y_toy)
y_fit = toy.predict(r_toy)
by_hand = 1 - ((y_toy - y_fit) ** 2).sum() / ((y_toy - y_toy.mean(0)) ** 2).sum()
print(f"W {toy.coef_.T.shape}, b {toy.intercept_.shape}; R² {probing.r2(y_toy, y_fit):.4f} "
      f"(by hand {by_hand:.4f}), MSE {probing.mse(y_toy, y_fit):.2e}")
mean_only = np.broadcast_to(y_toy.mean(0), y_toy.shape)
r2_mean = probing.r2(y_toy, mean_only)
print(f"predicting the mean: |R²| {'below 1e-12' if abs(r2_mean) < 1e-12 else r2_mean}")

# %% [markdown]
# > **Question.** Can a least-squares probe score a negative $R^2$ on the points it was fitted
# > to? And on held-out points?
# >
# > <details><summary>Answer</summary>
# >
# > Not on its own fit points (when they are scored with the weights they were fitted with):
# > the constant map $W = 0$, $b = \bar\eta$ is one of the affine maps least squares chooses
# > from, and it scores 0, so the best one scores at least 0. On held-out points, yes: a map
# > fitted elsewhere can do worse than the held-out points' own mean. Chapter 05b meets one,
# > with more features than fitted points.
# > </details>

# %% [markdown]
# ## 2. Activations for every input
#
# All $3^{10} = 59{,}049$ contexts, every position: 590,490 points. `probing.collect_activations`
# runs the model in batches under `torch.no_grad()` and returns the hooked activations as one
# array. We take the final residual stream before the final LayerNorm,
# `blocks.3.hook_resid_post` (the representation the paper probes for Mess3), and, for section
# 7, the one after it.

# %%
final, after_ln = "blocks.3.hook_resid_post", "ln_final.hook_normalized"
acts = probing.collect_activations(model, data.inputs, [final, after_ln])     # (N, 10, 128)
X_final, X_ln = acts[..., :64], acts[..., 64:]
Y = data.beliefs                                                              # (N, 10, 3)
print("activations", X_final.shape, " beliefs", Y.shape, " points", f"{Y.shape[0] * Y.shape[1]:,}")

# %% [markdown]
# `data.beliefs[n, p]` is the belief after the first $p + 1$ tokens of context $n$ — the target
# of position $p$. Getting this alignment wrong by one is the most common bug in
# reproductions.
#
# > **Question.** Pair each position's activation with the belief one token *earlier* — the
# > belief before the latest token — and fit the same probe (`Y[:, :-1]` against
# > `X_final[:, 1:]`). Guess before running the next cell: does $R^2$ collapse towards 0, or
# > stay high?
# >
# > <details><summary>Answer</summary>
# >
# > It stays high — 0.984 against 0.998 — while the error grows 8.5 times. The stream at
# > position $p$ has read every token the previous belief depends on, so an affine map can
# > approximate that belief too. A shifted alignment does not announce itself with a bad
# > $R^2$; compare the MSE with the aligned probe's, and check the alignment against the data's
# > documentation (`beliefcourse.data`).
# > </details>
#
# The cell uses `probing.evaluate(features, targets, probs, train_fraction=...)`, the function
# behind every score in this chapter: it fits an affine probe and scores it, unweighted and
# probability-weighted. With `train_fraction=1.0` it fits on all points and the scores on those
# same points are in `.in_sample`; section 4 explains the held-out split it makes otherwise.

# %%
aligned = probing.evaluate(X_final, Y, data.probs, train_fraction=1.0).in_sample
shifted = probing.evaluate(X_final[:, 1:], Y[:, :-1], data.probs, train_fraction=1.0).in_sample
for label, s in [("aligned (belief after p + 1 tokens)", aligned),
                 ("shifted by one (belief after p tokens)", shifted)]:
    print(f"{label:40s} R² {s.r2:.3f}, MSE {s.mse:.1e}")
print(f"the shifted probe's error is {shifted.mse / aligned.mse:.1f} times larger")

# %% [markdown]
# ## 3. The probe, and the picture
#
# The first probe: ordinary least squares with an intercept, fitted to all points at once,
# every point counting equally, scored on the same points. (Section 4 holds points out.)
#
# Many of the 590,490 points are duplicates. A prefix of $p + 1$ tokens starts $3^{9-p}$ of the
# contexts, and all those copies have the same activation (the model is causal: position $p$
# sees only the prefix) and the same belief. Least squares on $k$ identical points is least
# squares on one point with weight $k$, so we fit each distinct prefix once, weighted by its
# number of copies: the same probe, several times faster. `probing.distinct_prefixes` marks the
# first occurrence of every prefix and counts its copies.

# %%
prefixes = probing.distinct_prefixes(data.inputs)
first, copies = prefixes.first, prefixes.copies                     # (N, 10) each
print(f"distinct prefixes: {prefixes.n_distinct:,}; their copies add up to "
      f"{copies[first].sum():,} points")
print("copies of a prefix of length 1, 2, ..., 10:", copies[0])

# %%
paper_probe = probing.AffineProbe().fit(X_final[first], Y[first], sample_weight=copies[first])
Y_hat = paper_probe.predict(X_final)                                          # (N, 10, 3)
print(f"in-sample MSE {probing.mse(Y, Y_hat):.2e}, R² {probing.r2(Y, Y_hat):.4f}, "
      f"root-mean-square error per coordinate {np.sqrt(probing.mse(Y, Y_hat)):.3f}")
print(f"probe: W {paper_probe.coef_.T.shape}, b {paper_probe.intercept_.round(3)}")

# %% [markdown]
# An MSE of $2 \times 10^{-4}$ means a typical error of about $0.014$ per belief coordinate. To
# draw it, every point goes into the triangle at the position of its belief (the course's
# simplex projection) and keeps the colour of its **true** belief: red, green and blue for
# certainty of A, B and C. We draw each of the 88,572 distinct prefixes once.

# %%
colors = plotting.belief_colors(Y[first])


def same_window(axes, margin=0.15):
    """Give every simplex panel the same window, so that panels can be compared."""
    corners = plotting.simplex_coordinates(np.eye(3))
    lo, hi = corners.min(0), corners.max(0)
    pad = margin * (hi - lo).max()
    for ax in np.ravel(axes):
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)


fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
plotting.plot_simplex(Y[first], colors=colors, ax=axes[0], s=0.4,
                      title="Bayes: the belief after each prefix")
plotting.plot_simplex(Y_hat[first], colors=colors, ax=axes[1], s=0.4,
                      title="Transformer: affine probe of the residual stream")
same_window(axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# Left: the exact beliefs of all prefixes of up to ten tokens — chapter 03's fractal, to
# depth 10. Right: one affine map of the transformer's activations, for the same prefixes,
# coloured by their *true* beliefs. The nested triangles are there, down to the second and
# third level; each sub-triangle sits where it should and has the right colour, so it is made
# of the right prefixes. The finest levels are blurred: they would need an error much smaller
# than the probe's 0.014.
#
# Before believing the picture, four questions. Is the number honest (held out, and weighted
# the way we care about)? What does *no* structure score? What does a network that learned
# nothing score? And what does the input alone give?
#
# > **For readers of the paper.** This picture is the paper's headline (its Fig. 6), and this
# > probe is the one of the authors' figure notebooks: every (context, position) point once,
# > scored in-sample. For their final checkpoint their `Figure6.ipynb` prints an in-sample MSE
# > of $3.9 \times 10^{-4}$; ours is about half that, for a model that is also closer to the
# > optimal loss (chapter 04). The authors published their trained checkpoints (not shipped
# > with the course: their repository has no licence); `./course paper-weights` downloads them
# > from a pinned commit, checks each file's SHA-256 and converts them, and the optional cell
# > below then runs this probe on their final Mess3 model. Without the files it says so and
# > skips. The reproduction scorecard (`docs/scorecard.md`) carries this and the other checks.

# %%
from beliefcourse import paper_weights

if paper_weights.is_available("mess3"):
    authors_model, _ = paper_weights.load("mess3")
    X_authors = probing.collect_activations(authors_model, data.inputs, final)
    authors_probe = probing.AffineProbe().fit(X_authors[first], Y[first],
                                              sample_weight=copies[first])
    print(f"authors' Mess3 model (629,209,600 tokens), in-sample MSE "
          f"{probing.mse(Y, authors_probe.predict(X_authors)):.2e}; published 3.86e-04")
else:
    print("skipped: the authors' weights are not on this machine (`./course paper-weights` "
          "downloads them)")

# %% [markdown]
# ## 4. Held out, and weighted
#
# ### Two weightings
#
# The fit above counts every (context, position) point once. Since every context has ten
# tokens, a one-token prefix appears in 19,683 contexts and the full contexts once each: this is
# the uniform distribution over *contexts*, not the process's own distribution. Under the
# process, `ABCABCABCA` is vanishingly rare, yet it counts as much as `AAAAAAAAAA`. The other
# natural choice weights point $(n, p)$ by the probability $P(x^{(n)})$ of its context; summed
# over the contexts that share a prefix, that is exactly the prefix's probability, so the
# weighted MSE is the expected squared error on data from the process. We report both, and say
# which is which.
#
# ### A held-out split, over sequences
#
# The probe has $64 \times 3 + 3 = 195$ parameters and 590,490 points, so in-sample overfitting
# is not the worry here (it is in chapter 05b). Still, every number should be held out. The
# split has to be over **sequences**: a random split over points would scatter a context's
# ten positions over both sides — and since a position's activation depends only on its
# prefix, a test point would be a near relative of fitted points of the same context. We fit
# on 20 % of the sequences and test on the other 80 %.

# %%
result = probing.evaluate(X_final, Y, data.probs, train_fraction=0.2, seed=0)
weighted_fit = probing.evaluate(X_final, Y, data.probs, train_fraction=0.2, seed=0,
                                weighted_fit=True)
rows = [("in-sample (20 % of sequences)", result.in_sample), ("held-out (80 %)", result.held_out),
        ("held-out, probability-weighted fit", weighted_fit.held_out)]
print(f"{'':34s} {'MSE':>9s} {'R²':>7s}   {'MSE (p-weighted)':>16s} {'R² (p-weighted)':>15s}")
for label, s in rows:
    print(f"{label:34s} {s.mse:9.2e} {s.r2:7.4f}   {s.mse_weighted:16.2e} {s.r2_weighted:15.4f}")
print(f"fit on {len(result.train_idx):,} sequences, tested on {len(result.test_idx):,}")

# %% [markdown]
# Held-out and in-sample agree to two digits (unweighted; the probability-weighted error is
# 1.69e-4 held out against 1.48e-4 in-sample): the probe generalises to contexts it never saw.
# The probability-weighted error is lower than the unweighted one: the contexts the process
# actually produces are the ones the network (trained on the process) represents best, while
# the uniform weighting gives rare, erratic contexts the same say as common ones. Fitting with
# the probability weights (last row) lowers the weighted error a little further, at the expense
# of the unweighted one — each fit is best at the criterion it minimises.
#
# > **For readers of the paper.** The authors' figure code fits and scores every point once
# > (uniform over contexts); their Mess3 cross-validation in `Figure6.ipynb` uses this 20 %/80 %
# > split over sequences.
#
# ### Where even a sequence split leaks
#
# Splitting by sequence keeps a context's positions together, but *different* contexts share
# prefixes. All 6,561 contexts starting with `A, B` have the same activation and belief at
# positions 0 and 1. With 11,809 contexts in the fit set, every short prefix is in it many times
# over; only long prefixes can be new. `probing.new_prefix_points` marks the held-out points
# whose prefix starts no fitted context (Exercise 5.5 has you write it):

# %%
novel = probing.new_prefix_points(data.inputs, result.train_idx, result.test_idx)   # (N, 10)
held = result.test_idx
err = ((result.predictions - Y) ** 2).mean(-1)                                      # (N, 10)
share_new = novel[held].mean(0)
print("share of held-out points whose prefix is new, by position:", share_new.round(3))
for p in (7, 8):                  # positions with both new and seen prefixes: like with like
    print(f"position {p}: held-out MSE {err[held][novel[held, p], p].mean():.2e} on new "
          f"prefixes, {err[held][~novel[held, p], p].mean():.2e} on prefixes seen in the fit set")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
axes[0].bar(range(10), share_new, color="C0")
axes[0].set_xlabel("position p (prefix of p + 1 tokens)")
axes[0].set_ylabel("share of held-out points")
axes[0].set_title("held-out points whose prefix is new", fontsize=10)
for label, mask, style in [("new prefixes", novel, "o-"),
                           ("prefixes seen in the fit set", ~novel, "s--")]:
    mse_p = [err[held][mask[held, p], p].mean() if mask[held, p].any() else np.nan
             for p in range(10)]
    axes[1].semilogy(range(10), mse_p, style, ms=4, label=label)
axes[1].set_xlabel("position p")
axes[1].set_ylabel("held-out MSE")
axes[1].set_title("the probe's error on both kinds", fontsize=10)
axes[1].legend(frameon=False, fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Positions 0–5 contain no new prefix at all, position 6 a handful (0.3 %), and only positions
# 7–9 many; position 9 is all new (every context is distinct). So most of the "held-out"
# points were, in effect, fitted. Where both kinds occur in numbers (positions 7 and 8), the
# probe does as well on the new prefixes as on the seen ones — what a 195-parameter probe that
# cannot memorise should do. (Position 6's new prefixes score worse in the figure, but they are
# only 0.3 % of its held-out points: too few to read.)
# In chapter 05b there are more features than distinct prefixes, and then this tool matters.

# %% [markdown]
# ## 5. Three controls
#
# A number means something only next to what it would be if the claim were false. Each control
# answers one way of being wrong, at the **same feature dimension** where that applies, with the
# same split and the same probe:
#
# 1. **Shuffled beliefs** — "any 64 numbers can be mapped onto anything". Permute the targets
#    across points, fit, score against the true beliefs.
# 2. **The same network, untrained** — "the architecture alone produces it". Freshly
#    initialised weights, same hook, same 64 dimensions.
# 3. **Input only** — "the tokens alone produce it". No network: a one-hot encoding of the
#    whole token history (10 lags × 3 tokens) plus a one-hot position, 40 features.
#
# > **Question.** The trained network scores a held-out $R^2$ of 0.998. Guess the *untrained*
# > network's $R^2$ — same architecture, same hook, random weights — before running the next
# > cell: about 0, about 0.5, or above 0.8?
# >
# > <details><summary>Answer</summary>
# >
# > About 0.85: a network that has learned nothing "explains" most of the belief variance
# > (the reading below the table says why). This is why $R^2$ alone cannot carry the claim;
# > the ratios of the errors can.
# > </details>

# %%
controls = {
    "trained": result,
    "shuffled": probing.shuffle_control(X_final, Y, data.probs, seed=0),
    "untrained": probing.untrained_control(model.cfg, data, final, init_seed=0),
    "input only": probing.evaluate(probing.input_only_features(data.inputs, 3), Y, data.probs),
}
best = controls["trained"].held_out
print(f"{'held-out, fit on 20 %':14s} {'dim':>4s} {'MSE':>9s} {'R²':>7s} {'MSE(p)':>9s} "
      f"{'R²(p)':>7s}  {'MSE / trained':>13s}")
for name, res in controls.items():
    s = res.held_out
    print(f"{name:14s} {res.n_features:4d} {s.mse:9.2e} {s.r2:7.4f} {s.mse_weighted:9.2e} "
          f"{s.r2_weighted:7.4f}  {s.mse / best.mse:13.1f}")

# %% [markdown]
# Read the table from the bottom up.
#
# * **Shuffled** scores R² ≈ 0 and an MSE of 0.11 — the variance of the beliefs, i.e. what
#   predicting their mean gives. With 195 parameters and over a hundred thousand fitted points
#   there is no room to invent structure. This control is necessary but weak: everything beats it.
# * **Untrained** scores R² ≈ 0.85. Most of a Mess3 belief is determined by the last token or
#   two (α = 0.85 makes tokens good evidence), and a random network's final residual stream is
#   a rich random function of the recent tokens and the position. An affine read-out of that
#   recovers the coarse structure: which corner, roughly how far in.
# * **Input only** does better still, R² ≈ 0.945: the least-squares affine function of the
#   one-hot token history whose weights are shared by all positions (position enters only
#   through the intercept). It cannot do the nonlinear part of Bayes' rule — the
#   normalisation, and the way evidence is discounted by later evidence.
# * **Trained**: the MSE ratios in the last column are the honest summary. The trained
#   network's error is about 80 times smaller than the same network's untrained and about 30
#   times smaller than the input-only baseline's. R² hides this: 0.85 → 0.998 sounds like a
#   detail; 80 times less error does not.
#
# How much of the belief the recent tokens explain, by number of lags — and, as the strongest
# input-only baseline we tried, one affine map of the whole history *per position* (ten probes,
# fitted on the same split):

# %%
for lags in (1, 2, 3, 10):
    r = probing.evaluate(probing.input_only_features(data.inputs, 3, n_lags=lags), Y, data.probs)
    print(f"last {lags:2d} token(s) + position, linear: held-out MSE {r.held_out.mse:.4f}, "
          f"R² {r.held_out.r2:.3f}")
X_in = probing.input_only_features(data.inputs, 3)
by_position = [probing.evaluate(X_in[:, p:p + 1], Y[:, p:p + 1], data.probs)
               for p in range(data.n_ctx)]
per_position = np.concatenate([r.predictions for r in by_position], axis=1)   # (N, 10, 3)
test = by_position[0].test_idx                                               # same split
mse_pp = probing.mse(Y[test], per_position[test])
print(f"all tokens, one map per position:     held-out MSE {mse_pp:.4f}, "
      f"R² {probing.r2(Y[test], per_position[test]):.3f}; the trained network's MSE is "
      f"{mse_pp / controls['trained'].held_out.mse:.0f} times smaller")

# %% [markdown]
# One token already gives R² 0.72 and three give 0.93; separate weights per position add a
# little (0.952 against 0.945), and the trained network is still 26 times more accurate. The
# belief's *coarse* geometry is cheap; its *fine* geometry — the fractal — is what costs
# computation. The pictures show exactly that. Each panel shows one representation's probe,
# fitted on 20 % of the contexts and applied to every distinct prefix, coloured by the true
# belief:

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for ax, (name, res) in zip(axes, [("trained", controls["trained"]),
                                  ("untrained", controls["untrained"]),
                                  ("input only", controls["input only"]),
                                  ("shuffled", controls["shuffled"])]):
    plotting.plot_simplex(res.predictions[first], colors=colors, ax=ax, s=0.3,
                          title=f"{name}: held-out MSE {res.held_out.mse:.1e}")
    ax.title.set_fontsize(10)
same_window(axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# The shuffled probe collapses to a blob at the centre: the mean belief. The untrained network
# gets the three corners roughly right — most of its R² of 0.85 — and smears everything else.
#
# ### A triangle of triangles from the tokens alone
#
# The input-only panel deserves a second look: it draws a triangle of triangles too. Is it a
# fractal — a perfectly self-similar Sierpinski gasket? Look at what the probe computes. At
# position $p$ it outputs
#
# $$
# \hat\eta_p = c_p + \sum_{d=0}^{p} V_d[x_{p+1-d}],
# $$
#
# one offset $c_p$ per position plus one fitted 3-vector $V_d[x]$ per lag $d$ and token $x$.
# The set of outputs at position $p$ is therefore a **finite** set of at most $3^{p+1}$ sums of
# per-lag vectors. Such a set is self-similar only if the lag vectors are one pattern scaled
# by one common ratio, $V_d = r^d V_0$; then it is the depth-$p$ approximation of the
# attractor of the three maps $v \mapsto r v + V_0[x]$, a gasket for $r = 1/2$. Nothing in
# least squares forces a common ratio: each lag gets its own weights. So we measure them.
# Adding a constant to a lag's three vectors changes nothing the position offsets cannot
# absorb, so we compare the vectors centred over the tokens: their size $\lVert V_d \rVert$,
# the ratio from one lag to the next, and the cosine between each lag's pattern and the
# first's. The split's 20 % leaves the smallest, oldest lags poorly pinned down, so we read the
# weights off one fit on **all** contexts:

# %%
def lag_vectors(probe, n_lags=10):
    """(lag d, token x, belief coordinate) weights of an input-only probe, centred over x."""
    V = probe.coef_.T[:3 * n_lags].reshape(n_lags, 3, 3)
    return V - V.mean(axis=1, keepdims=True)


all_contexts = probing.evaluate(X_in, Y, data.probs, train_fraction=1.0)
V = lag_vectors(all_contexts.probe)
size = np.linalg.norm(V, axis=(1, 2))
cosine = (V * V[0]).sum(axis=(1, 2)) / (size * size[0])
print("input-only probe fitted on all contexts")
print("lag d                    " + " ".join(f"{d:5d}" for d in range(10)))
print("size ‖V_d‖               " + " ".join(f"{v:5.3f}" for v in size))
print("ratio ‖V_d‖/‖V_d-1‖            " + " ".join(f"{v:5.2f}" for v in size[1:] / size[:-1]))
print("cosine(V_d, V_0)         " + " ".join(f"{v:5.3f}" for v in cosine))
older = np.cumsum(size[1:]) / size[0]                    # lags 1..d together, against lag 0
print("(‖V_1‖+...+‖V_d‖) / ‖V_0‖      " + " ".join(f"{v:5.2f}" for v in older))
for seed in (0, 1):
    V_s = lag_vectors(probing.evaluate(X_in, Y, data.probs, seed=seed).probe)
    s_s = np.linalg.norm(V_s, axis=(1, 2))
    print(f"fit on 20 % (split seed {seed}), last two ratios: "
          + ", ".join(f"{v:.2f}" for v in (s_s[1:] / s_s[:-1])[-2:]))

# %% [markdown]
# The pattern is the same at every lag (cosine 1.000 with the first): each lag's three vectors
# point to the three corners, as Mess3's symmetry under relabelling tokens and states
# suggests. But the sizes do not shrink by one ratio: by about 0.49 from lag 0 to lag 1, then
# by 0.55–0.59 from lag to lag, the last two 0.58 and 0.62. (Fitted on a 20 % split, the last
# two ratios are noise — 0.68, 0.65 for one split, 0.50, 1.08 for another.) So the picture is
# not a self-similar gasket. It is a finite set — one point per prefix, $3^{p+1}$ at position
# $p$ — of sums of per-lag corner vectors whose sizes fall roughly geometrically.
#
# The first split, by the latest token, gives three copies at half size, as in a gasket. In a
# gasket ($r = 1/2$) the copies just touch: everything older than the latest token adds up to
# at most $\lVert V_0 \rVert$ ($\tfrac12 + \tfrac14 + \dots = 1$). Here the older lags' sizes
# add up to more than $\lVert V_0 \rVert$ from the fifth token on (last row), so for long
# contexts the three first-level copies overlap, and with them the finer levels.
#
# So "the probe draws a triangle of triangles" is not evidence of anything: a linear function
# of the tokens draws one. The evidence is that the trained network's probe draws *Bayes'*
# fractal with a small error. Bayes' update is a *normalised* (projective) map,
# $\eta \mapsto \eta T^{(x)} / \eta T^{(x)} \mathbf 1$, not a sum of per-token vectors, and the
# gap between the input-only picture and the true fractal is the nonlinear work the network
# does. (Chapter 05b meets sums of per-token vectors again: Piotrowski et al. show that one
# attention layer computes something very like them, with one common ratio.)
#
# Where does the trained network's advantage come from? Position by position:

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, style in [("trained", "o-"), ("untrained", "s--"), ("input only", "^:")]:
    res = controls[name]
    mse_by_p = ((res.predictions - Y)[res.test_idx] ** 2).mean(axis=(0, 2))
    ax.semilogy(range(10), mse_by_p, style, ms=4, label=name)
    print(f"{name:10s} held-out MSE by position:",
          np.array2string(mse_by_p, formatter={"float": "{:.1e}".format}))
ax.set_xlabel("position p")
ax.set_ylabel("held-out MSE")
ax.legend(frameon=False)
fig.tight_layout()
plt.show()

# %% [markdown]
# At position 0 the belief is one of three points, a function of one token. The trained
# network gets it almost exactly and the untrained one nearly; the input-only map does not,
# because it must use the same weights for the latest token at every position (only its
# intercept depends on the position). With every further token the untrained network's error
# *grows* — more history to combine, and nothing that combines it the right way — and the
# input-only error sits at the level its shared per-lag weights allow. The trained
# network's error stays below $4 \times 10^{-4}$ at every position.

# %% [markdown]
# ## 6. Emergence over training
#
# The shipped run saved checkpoints at log-spaced token counts, from the untrained network to
# the end. For each we collect the final-layer activations and fit one probe. To keep this
# notebook fast we use a fixed random subset of 4,000 contexts (40,000 points; fit on 20 % of
# them, score on the rest), and the baselines on the same subset.
#
# > **Question.** Chapter 04 showed the loss falling fast: early checkpoints are already
# > within a few per cent of the optimal loss. Predict: is an early checkpoint whose loss is
# > within 5 % of the optimum already more belief-like (a lower probe MSE) than the input-only
# > baseline?
# >
# > <details><summary>Answer</summary>
# >
# > No. At 87,040 tokens the relative loss is 1.046, yet the probe's error is above the
# > input-only baseline's; only from 261,120 tokens on does the network beat it. A loss close
# > to optimal does not imply the belief geometry: the last few per cent of loss are where the
# > fine structure is learned.
# > </details>

# %%
rng = np.random.default_rng(0)
subset = np.sort(rng.choice(len(data), size=4_000, replace=False))
sub_in, sub_Y, sub_p = data.inputs[subset], Y[subset], data.probs[subset]
sub_first = first[subset]
counts = checkpoints.tokens("mess3")
emergence = []
for n_tokens in counts:
    m, rec = checkpoints.load("mess3", n_tokens)
    res = probing.evaluate(probing.collect_activations(m, sub_in, final), sub_Y, sub_p)
    in_record = [row["held_out"]["mse"] for row in (rec.get("probe") or {}).get("rows", [])
                 if row["kind"] == "trained" and row["hooks"] == [final]]
    emergence.append({"tokens": n_tokens, "mse": res.held_out.mse, "r2": res.held_out.r2,
                      "relative_loss": rec["relative_loss"], "result": res,
                      "full_data_mse": in_record[0] if in_record else float("nan")})
baseline_sub = {
    "input only": probing.evaluate(probing.input_only_features(sub_in, 3), sub_Y,
                                   sub_p).held_out.mse,
    "shuffled": probing.shuffle_control(probing.collect_activations(model, sub_in, final), sub_Y,
                                      sub_p).held_out.mse,
}
stored = all(np.isfinite(e["full_data_mse"]) for e in emergence)
print(f"{'tokens':>12s} {'rel. loss':>10s} {'probe MSE':>10s} {'R²':>7s}"
      + (f"   {'all 59,049 (record)':>19s}" if stored else ""))
for e in emergence:
    print(f"{e['tokens']:>12,} {e['relative_loss']:10.5f} {e['mse']:10.2e} {e['r2']:7.4f}"
          + (f"   {e['full_data_mse']:19.2e}" if stored else ""))
print(f"baselines on the same subset: input only {baseline_sub['input only']:.2e}, "
      f"shuffled {baseline_sub['shuffled']:.3f}")

# %% [markdown]
# The first row *is* an untrained control (the run's own initialisation). The last column is
# the same held-out MSE computed on all 59,049 contexts by `python -m beliefcourse probe mess3
# --all --write`, which stores it in each checkpoint's record (the column is left out for
# records without it): the subset estimate agrees with it to within 5 % at every checkpoint. Against tokens,
# with the loss beside it:

# %%
t = np.array([e["tokens"] for e in emergence], dtype=float)
mse_curve = np.array([e["mse"] for e in emergence])
rel_curve = np.array([e["relative_loss"] for e in emergence])
fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.8))
axes[0].loglog(t[1:], mse_curve[1:], "o-", color="C0", label="trained network")
axes[0].axhline(mse_curve[0], color="C1", ls="--", label="untrained (step 0)")
axes[0].axhline(baseline_sub["input only"], color="C2", ls=":", label="input only (40 features)")
axes[0].set_xlabel("training tokens")
axes[0].set_ylabel("held-out probe MSE")
axes[0].legend(frameon=False, fontsize=8)
axes[1].loglog(rel_curve[1:] - 1, mse_curve[1:], "o-", color="C0")
for e in emergence[1::2]:
    axes[1].annotate(f"{e['tokens']:,}", (e["relative_loss"] - 1, e["mse"]), fontsize=8,
                     xytext=(4, -8), textcoords="offset points")
axes[1].set_xlabel("relative loss - 1")
axes[1].set_ylabel("held-out probe MSE")
axes[1].set_title("lower loss, better geometry", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Two things to take away. The probe error falls by almost two orders of magnitude over
# training, in step with the loss (right). And the early checkpoints are *not* better than the
# baselines: at 87,040 tokens the model's loss is within 5 % of the optimum, yet its stream is
# less belief-like than a linear function of the input. Only from about 261,120 tokens on does
# the network beat the input-only baseline. Claims that the geometry "emerges early" need this
# comparison. The fractal, at every shipped checkpoint (the probe of each checkpoint's own
# final layer, fitted on 20 % of the subset, drawn for the subset's distinct prefixes and
# coloured by their true beliefs), with the target last:

# %%
sub_colors = plotting.belief_colors(sub_Y[sub_first])
fig, axes = plt.subplots(2, 5, figsize=(12, 5.5))
for ax, e in zip(axes.flat, emergence):
    plotting.plot_simplex(e["result"].predictions[sub_first], colors=sub_colors, ax=ax, s=0.8,
                          title=f"{e['tokens']:,} tokens\nheld-out MSE {e['mse']:.1e}")
plotting.plot_simplex(sub_Y[sub_first], colors=sub_colors, ax=axes.flat[-1], s=0.8,
                      title="Bayes: the exact beliefs\n(the target)")
same_window(axes)
for ax in axes.flat:
    ax.title.set_fontsize(10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Up to 87,040 tokens the picture is the untrained one: three smeared blobs near the corners.
# At 261,120 tokens the points move out to the corners and along the edges; at 778,240 the
# central hole opens; later checkpoints carve out the next level of sub-triangles. Slide
# through the checkpoints yourself (the right panel marks where you are on the error curve):
#
# > **For readers of the paper.** The right-hand plot above is in the spirit of the paper's
# > Fig. S2, here with the exact loss.

# %% tags=["nbval-ignore-output"]
from beliefcourse.widgets import emergence_widget

emergence_widget([e["tokens"] for e in emergence],
                 [e["result"].predictions[sub_first] for e in emergence], sub_Y[sub_first],
                 mse=mse_curve, relative_loss=rel_curve,
                 baselines={"untrained (step 0)": mse_curve[0],
                            "input only": baseline_sub["input only"]})

# %% [markdown]
# ## 7. Where in the network?
#
# So far we probed the last layer. What about the others? We probe every residual-stream hook
# — the embeddings (`blocks.0.hook_resid_pre`), after each attention layer (`resid_mid`) and
# after each MLP (`resid_post`) — and the output of the final LayerNorm, each against the same
# hook of the untrained network (same subset of contexts).

# %%
sweep_hooks = ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_{part}" for l in range(4)
                                             for part in ("mid", "post")] + [after_ln]
subset_data = SimpleNamespace(inputs=sub_in, beliefs=sub_Y, probs=sub_p)  # what layer_sweep reads
untrained_model, _ = checkpoints.load("mess3", tokens=0)      # the run's own initialisation
sweep = {"trained": probing.layer_sweep(model, subset_data, sweep_hooks),
         "untrained": probing.layer_sweep(untrained_model, subset_data, sweep_hooks)}
print(f"{'hook':28s} {'trained':>9s} {'untrained':>10s}   held-out MSE")
for hook in sweep_hooks:
    print(f"{hook:28s} {sweep['trained'].get(hook).held_out.mse:9.2e} "
          f"{sweep['untrained'].get(hook).held_out.mse:10.2e}")

# %%
labels = ["embed"] + [f"L{l} {part}" for l in range(4) for part in ("attn", "mlp")] + ["ln_final"]
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.semilogy(labels, [sweep["trained"].get(h).held_out.mse for h in sweep_hooks], "o-",
            label="trained")
ax.semilogy(labels, [sweep["untrained"].get(h).held_out.mse for h in sweep_hooks], "s--",
            label="untrained")
ax.axhline(baseline_sub["input only"], color="C2", ls=":", label="input only")
ax.set_ylabel("held-out probe MSE")
ax.set_xlabel("residual stream after ...")
ax.legend(frameon=False, fontsize=8)
plt.xticks(rotation=30)
fig.tight_layout()
plt.show()

# %% [markdown]
# The embedding knows only the current token and the position, so it scores exactly like the
# one-lag input baseline (0.031). The first attention layer pulls in the earlier tokens and the
# error drops fourfold; the first MLP, which can do the nonlinear part, divides it by five
# again; and every later layer improves it further, down to the last. The untrained network's
# curve is flat after the first attention layer: random layers mix information, they do not
# compute a belief.
#
# **Before and after the final LayerNorm**, on all 59,049 contexts:

# %%
ln_result = probing.evaluate(X_ln, Y, data.probs)
for label, res in [("before ln_final", result), ("after ln_final", ln_result)]:
    print(f"{label:16s} held-out MSE {res.held_out.mse:.2e}, R² {res.held_out.r2:.4f}")

# %% [markdown]
# The belief is even *more* precisely readable after the final LayerNorm: $1.3 \times 10^{-4}$
# against $2.0 \times 10^{-4}$ before it. LayerNorm divides by the norm of the centred stream,
# a nonlinear operation that an affine probe cannot imitate; evidently some variation in that
# norm is noise with respect to the belief, and dividing it out leaves cleaner geometry — which
# is the representation the unembedding reads.
#
# > **For readers of the paper.** The paper's Mess3 figures probe the last layer before the
# > final LayerNorm (Fig. 6); its Fig. S1 shows the fractal on both sides of it.

# %% [markdown]
# ## Summary: what the evidence allows us to claim
#
# * **A probe (section 1)** shows that information is linearly *present* in a representation,
#   not that the network uses it. Its $R^2$ (the course's one definition, `probing.r2`) is the
#   share of the beliefs' variance it explains, pooled over coordinates.
# * **The picture (sections 2–3).** One affine map of Mess3's final residual stream draws the
#   belief fractal down to its second and third level, with an MSE of $2 \times 10^{-4}$
#   (R² 0.998). A misaligned target scores almost as high an $R^2$; the MSE gives it away.
# * **Held out (section 4).** The fit holds on contexts never fitted, split over sequences, in
#   both weightings. Short prefixes are shared by the two sides of any sequence split; on the
#   prefixes that are genuinely new, the probe is as accurate as on the seen ones. We may claim
#   the geometry generalises; a 195-parameter probe cannot have memorised it.
# * **Controls (section 5).** Shuffled targets give R² ≈ 0 (MSE ≈ 0.11), the untrained network
#   R² ≈ 0.85, the input alone 0.945 (0.952 with one map per position). The trained network's
#   error is ~80× smaller than the untrained network's and 26–30× smaller than the input-only
#   baselines'. So the claim that survives is quantitative: the trained stream is far closer to
#   the belief than any of these. $R^2$ understates the difference; MSE ratios do not. A linear
#   map of the tokens draws a triangle of triangles too — a finite set of sums of per-lag
#   vectors, not self-similar and not Bayes' — so a picture's shape is never the evidence.
# * **Over training (section 6).** The probe error falls with the loss; early checkpoints are
#   no better than the input-only baseline, even when their loss is within 5 % of the optimum.
#   We may claim the geometry is learned late, with the last few per cent of the loss.
# * **Through the network (section 7).** The belief becomes readable layer by layer and is
#   sharpest at the end, after the final LayerNorm most of all; the untrained network's
#   curve stays flat. What this does not show: how the layers compute it (chapter 05b's first
#   layer, chapter 07), or that the network uses it (chapter 06).
#
# **Practice.** `exercises/05_probing.ipynb`, exercises 5.1–5.5: the probe by weighted least
# squares, the split over sequences, the shuffle control, a decision rule against the strongest
# baseline, and the truly new held-out points.
#
# **Next:** [`05b_rrxor_and_the_first_layer.ipynb`](05b_rrxor_and_the_first_layer.ipynb) —
# RRXOR, where a probe has more features than inputs and the evidence is weaker than it looks,
# and how far back the first attention layer looks.
#
# ### References
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers,
#   *Transformers Represent Belief State Geometry in their Residual Stream*, NeurIPS 2024
#   (arXiv:2405.15943); figure notebook `Figure6.ipynb` in `adamimos/epsilon-transformers`
#   (branch `lucas/neurips-submission`).
# * G. Alain, Y. Bengio, *Understanding intermediate layers using linear classifier probes*
#   (2016); J. Hewitt, P. Liang, *Designing and Interpreting Probes with Control Tasks*,
#   EMNLP 2019 — why a probe needs controls.
# * J. Wentworth, D. Lorell, *Why Would Belief-States Have A Fractal Structure, And Why Would
#   That Matter For Interpretability? An Explainer*, LessWrong (2024).
