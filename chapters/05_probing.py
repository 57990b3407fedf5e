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
# *Reading time ≈ 90 minutes. Prerequisites: chapter 03 (the Mess3 fractal; RRXOR's 36
# beliefs), chapter 04 (the model, its hooks, the shipped checkpoints); linear least squares.*
#
# Chapter 04 showed that a small transformer trained on Mess3 predicts the next token almost
# exactly as well as Bayes' rule allows. The Bayes-optimal predictor works by carrying a
# belief — a point in the simplex — and chapter 03 showed that the set of those beliefs is a
# fractal. Does the transformer carry the belief too? Shai et al. (2024) answered with one
# affine regression from the residual stream to the belief, and a picture: the fractal,
# reappearing inside the network.
#
# This chapter reproduces that picture, and then does what a sceptical reader should demand
# before believing it: held-out scores, split the right way; three controls — shuffled
# targets, the same network untrained, and a baseline with no network at all; the picture over
# training and across layers; and the second process of the paper, where the evidence is
# weaker than it looks.
#
# **After this chapter you will be able to**
#
# 1. collect residual-stream activations for every input and line them up with the exact
#    beliefs;
# 2. fit an affine probe, draw its output in the simplex beside the theoretical fractal, and
#    report MSE and R², unweighted and probability-weighted, in-sample and held-out;
# 3. explain why the held-out split must be over *sequences* — and where even that leaks;
# 4. run the three controls and say, with a number, how much better than each the trained
#    network is;
# 5. follow the geometry over training and through the layers;
# 6. explain why RRXOR's belief geometry might be spread over layers, and why a probe on 1,536
#    concatenated features needs held-out evaluation, regularisation chosen without the test
#    set, and a same-size control;
# 7. measure how far back the first attention layer looks, and test a published quantitative
#    prediction (Piotrowski et al. 2025) against it.
#
# Practice: `exercises/05_probing.ipynb` (the probe by least squares, the split, the shuffle
# control, a decision rule, finding the truly new held-out points, and a ridge penalty chosen
# by grouped cross-validation).

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
# Write $r_p(x) \in \mathbb R^{64}$ for the residual stream at position $p$ when the model reads
# the context $x = x_1 \dots x_{10}$, and $\eta_{p+1}(x)$ for the belief after its first $p + 1$
# tokens (chapter 04's alignment). The claim to test is that there is **one** affine map
# $A(r) = r W + b$, the same for all contexts and positions, with
#
# $$
# A\big(r_p(x)\big) \approx \eta_{p+1}(x) \quad\text{for every context } x \text{ and position } p .
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
# But a probe shows that information is *present*, not that the network *uses* it; and
# "present" is relative. Beliefs are a function of the tokens, so some of their variance can be
# read off almost any function of the tokens — including an untrained network's. That is what
# the controls in section 5 measure.

# %% [markdown]
# ## 2. Activations for every input
#
# All $3^{10} = 59{,}049$ contexts, every position: 590,490 points. `probing.collect_activations`
# runs the model in batches under `torch.no_grad()` and returns the hooked activations as one
# array. We take the representation the authors' code probes for Mess3 — the final residual
# stream before the final LayerNorm, `blocks.3.hook_resid_post` — and, for section 7, the one
# after it.

# %%
final, after_ln = "blocks.3.hook_resid_post", "ln_final.hook_normalized"
acts = probing.collect_activations(model, data.inputs, [final, after_ln])     # (N, 10, 128)
X_final, X_ln = acts[..., :64], acts[..., 64:]
Y = data.beliefs                                                              # (N, 10, 3)
print("activations", X_final.shape, " beliefs", Y.shape, " points", f"{Y.shape[0] * Y.shape[1]:,}")

# %% [markdown]
# `data.beliefs[n, p]` is the belief after the first $p + 1$ tokens of context $n$ — the target
# of position $p$. Getting this alignment wrong by one is the most common bug in reproductions,
# and it does not announce itself: the probe then learns the belief *before* the latest token,
# which the stream also approximates quite well, so the numbers look only somewhat worse. (Try
# it: fit `Y[:, :-1]` against `X_final[:, 1:]`.)
#
# ## 3. The probe, and the picture
#
# The probe of the authors' figure notebooks: ordinary least squares with an intercept, fitted
# to all points at once, every point counting equally, scored on the same points.
#
# Many of the 590,490 points are duplicates. A prefix of $p + 1$ tokens starts $3^{9-p}$ of the
# contexts, and all those copies have the same activation (the model is causal: position $p$
# sees only the prefix) and the same belief. Least squares on $k$ identical points is least
# squares on one point with weight $k$, so we fit each distinct prefix once, weighted by its
# number of copies: the same probe, several times faster. (Weights are what `sample_weight`
# does; section 4 uses them for probabilities.)

# %%
# point (n, p) is the first occurrence of its prefix if every later token of context n is 0
later_nonzero = np.flip(np.logical_or.accumulate(np.flip(data.inputs != 0, 1), 1), 1)
first = np.zeros(data.inputs.shape, dtype=bool)
first[:, :-1] = ~later_nonzero[:, 1:]
first[:, -1] = True
copies = np.broadcast_to(3 ** (data.n_ctx - 1 - np.arange(data.n_ctx)), first.shape)
print(f"distinct prefixes: {first.sum():,}; their copies add up to {copies[first].sum():,} points")
paper_probe = probing.AffineProbe().fit(X_final[first], Y[first], sample_weight=copies[first])
Y_hat = paper_probe.predict(X_final)                                          # (N, 10, 3)
print(f"in-sample MSE {probing.mse(Y, Y_hat):.2e}, R² {probing.r2(Y, Y_hat):.4f}, "
      f"root-mean-square error per coordinate {np.sqrt(probing.mse(Y, Y_hat)):.3f}")
print(f"probe: W {paper_probe.coef_.T.shape}, b {paper_probe.intercept_.round(3)}")

# %% [markdown]
# Two scores, used throughout, each with one definition. For points $i$ with weights $w_i$
# (all equal unless we say *probability-weighted*, section 4), true beliefs
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
# $R^2 = 0$, a perfect probe 1, a probe worse than the mean below 0. `probing.r2` computes
# exactly this, and every $R^2$ in the course is this one. (scikit-learn's `r2_score` instead
# averages a separate $R^2$ per coordinate. The two agree when all coordinates vary equally, as
# Mess3's do by symmetry; section 8 meets targets where they do not, and shows the difference.)
#
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
# This picture is the paper's headline (its Fig. 6). For their final checkpoint the authors'
# Figure 6 notebook prints an in-sample MSE of $3.9 \times 10^{-4}$; ours is about half that, for a model that is also closer to the optimal loss (chapter 04). Before believing
# it, four questions. Is the number honest (held out, and weighted the way we care about)? What
# does *no* structure score? What does a network that learned nothing score? And what does the
# input alone give?

# %% [markdown]
# **Optional: the authors' own model.** The authors published their trained checkpoints (not
# shipped with the course: their repository has no licence). `./course paper-weights` downloads
# them from a pinned commit, checks each file's SHA-256 and converts them into the course's
# model; the cell below then runs this section's probe — in-sample, every point once — on their
# final Mess3 model, to compare with their printed MSE. Without the files it says so and
# skips. The reproduction scorecard (`docs/scorecard.md`) carries this and the other checks.

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
# The authors' fit counts every (context, position) point once. Since every context has ten
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
# is not the worry here; it will be in section 8. Still, every number should be held out. The
# split has to be over **sequences**: a random split over points would scatter a context's
# ten positions over both sides — and since a position's activation depends only on its
# prefix, a test point would be a near relative of fitted points of the same context. As in
# the authors' Mess3 cross-validation (their Figure 6 notebook), we fit on 20 % of the
# sequences and test on the other 80 %.

# %%
result = probing.evaluate(X_final, Y, data.probs, train_fraction=0.2, seed=0)
weighted_fit = probing.evaluate(X_final, Y, data.probs, train_fraction=0.2, seed=0, weighted_fit=True)
rows = [("in-sample (20 % of sequences)", result.in_sample), ("held-out (80 %)", result.held_out),
        ("held-out, probability-weighted fit", weighted_fit.held_out)]
print(f"{'':32s} {'MSE':>9s} {'R²':>7s}   {'MSE (p-weighted)':>16s} {'R² (p-weighted)':>15s}")
for label, s in rows:
    print(f"{label:32s} {s.mse:9.2e} {s.r2:7.4f}   {s.mse_weighted:16.2e} {s.r2_weighted:15.4f}")
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
# ### Where even a sequence split leaks
#
# Splitting by sequence keeps a context's positions together, but *different* contexts share
# prefixes. All 6,561 contexts starting with `A, B` have the same activation and belief at
# positions 0 and 1. With 11,809 contexts in the fit set, every short prefix is in it many times
# over: a held-out point at position 3 is not new at all. We can count which held-out points
# have a prefix that never starts a fitted context (Exercise 5.5 has you write this):

# %%
def prefix_codes(tokens, n_tokens):
    """codes[n, p] identifies the prefix tokens[n, :p + 1] (base-n_tokens digits, length-tagged
    by the column it sits in)."""
    codes = np.zeros(tokens.shape, dtype=np.int64)
    acc = np.zeros(len(tokens), dtype=np.int64)
    for p in range(tokens.shape[1]):
        acc = acc * n_tokens + tokens[:, p]
        codes[:, p] = acc
    return codes


codes = prefix_codes(data.inputs, 3)
fit_codes, test_codes = codes[result.train_idx], codes[result.test_idx]
novel = np.stack([~np.isin(test_codes[:, p], fit_codes[:, p]) for p in range(10)], axis=1)
err = ((result.predictions[result.test_idx] - Y[result.test_idx]) ** 2).mean(-1)   # (n_test, 10)
print("share of held-out points whose prefix is new, by position:", novel.mean(0).round(3))
for p in (7, 8):                  # positions with both new and seen prefixes: like with like
    print(f"position {p}: held-out MSE {err[novel[:, p], p].mean():.2e} on new prefixes, "
          f"{err[~novel[:, p], p].mean():.2e} on prefixes seen in the fit set")

# %% [markdown]
# Positions 0–5 contain no new prefix at all, position 6 a handful (0.3 %), and only positions
# 7–9 many; position 9 is all new (every context is distinct). So most of the "held-out"
# points were, in effect, fitted. Where both kinds occur, the probe does as well on the new
# prefixes as on the seen ones — what a 195-parameter probe that cannot memorise should do.
# Keep the tool in mind: in section 8 there are more features than distinct prefixes, and
# then it matters.

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

# %%
controls = {
    "trained": result,
    "shuffled": probing.shuffle_control(X_final, Y, data.probs, seed=0),
    "untrained": probing.untrained_control(model.cfg, data, final, init_seed=0),
    "input only": probing.evaluate(probing.input_only_features(data.inputs, 3), Y, data.probs),
}
best = controls["trained"].held_out
print(f"{'held-out, fit on 20 %':14s} {'dim':>4s} {'MSE':>9s} {'R²':>7s} {'MSE(p)':>9s} {'R²(p)':>7s}"
      f"  {'MSE / trained':>13s}")
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
# * **Untrained** scores R² ≈ 0.85. This is the number that should temper any excitement about
#   R²: a network that has learned *nothing* already "explains" 85 % of the belief variance.
#   It is not magic either. Most of a Mess3 belief is determined by the last token or two
#   (α = 0.85 makes tokens good evidence), and a random network's final residual stream is a
#   rich random function of the recent tokens and the position. An affine read-out of that
#   recovers the coarse structure: which corner, roughly how far in.
# * **Input only** does better still, R² ≈ 0.945: the least-squares affine function of the
#   one-hot token history whose weights are shared by all positions (position enters only through the
#   intercept). It cannot do the nonlinear part of Bayes' rule — the normalisation, and the way
#   evidence is discounted by later evidence.
# * **Trained**: the MSE ratios in the last column are the honest summary. The trained network's
#   error is about 80 times smaller than the same network's untrained and about 30 times
#   smaller than the input-only baseline's. R² hides this: 0.85 → 0.998 sounds like a detail;
#   80 times less error does not.
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
# belief's *coarse* geometry is cheap;
# its *fine* geometry — the fractal — is what costs computation. The pictures show exactly that.
# Each panel shows one representation's probe, fitted on 20 % of the contexts and applied to
# every distinct prefix, coloured by the true belief:

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
for ax, (name, res) in zip(axes, [("trained", controls["trained"]),
                                  ("untrained", controls["untrained"]),
                                  ("input only", controls["input only"]),
                                  ("shuffled", controls["shuffled"])]):
    plotting.plot_simplex(res.predictions[first], colors=colors, ax=ax, s=0.3,
                          title=f"{name}: held-out MSE {res.held_out.mse:.1e}")
same_window(axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# The shuffled probe collapses to a blob at the centre: the mean belief. The untrained network
# gets the three corners roughly right — most of its R² of 0.85 — and smears everything else.
#
# The input-only panel deserves a second look: it draws a triangle of triangles too. Is it a
# fractal — a perfectly self-similar Sierpinski gasket? Look at what the probe computes. At
# position $p$ it outputs
#
# $$
# \hat\eta_p = c_p + \sum_{d=0}^{p} V_d[z_{p+1-d}],
# $$
#
# one offset $c_p$ per position plus one fitted 3-vector $V_d[z]$ per lag $d$ and token $z$.
# The set of outputs at position $p$ is therefore a **finite** set of at most $3^{p+1}$ sums of
# per-lag vectors. Such a set is self-similar only if the lag vectors are one pattern scaled
# by one common ratio, $V_d = r^d V_0$; then it is the depth-$p$ approximation of the
# attractor of the three maps $v \mapsto r v + V_0[z]$, a gasket for $r = 1/2$. Nothing in
# least squares forces a common ratio: each lag gets its own weights. So we measure them.
# Adding a constant to a lag's three vectors changes nothing the position offsets cannot
# absorb, so we compare the vectors centred over the tokens — their size $\lVert V_d \rVert$,
# the ratio from one lag to the next, and the cosine between each lag's pattern and the
# first's:

# %%
def lag_vectors(probe, n_lags=10):
    """(lag d, token z, belief coordinate) weights of an input-only probe, centred over z."""
    V = probe.coef_.T[:3 * n_lags].reshape(n_lags, 3, 3)
    return V - V.mean(axis=1, keepdims=True)


for label, probe_ in [("shared by all positions", controls["input only"].probe),
                      ("position 9's own map", by_position[9].probe)]:
    V = lag_vectors(probe_)
    size = np.linalg.norm(V, axis=(1, 2))
    cosine = [(V[d] * V[0]).sum() / (size[d] * size[0]) for d in range(10)]
    print(f"input-only probe, {label}:")
    print("  lag d              " + " ".join(f"{d:5d}" for d in range(10)))
    print("  size ‖V_d‖         " + " ".join(f"{v:5.3f}" for v in size))
    print("  ratio ‖V_d‖/‖V_d-1‖      " + " ".join(f"{v:5.2f}" for v in size[1:] / size[:-1]))
    print("  cosine(V_d, V_0)   " + " ".join(f"{v:5.3f}" for v in cosine))
print(f"distinct input-only outputs at position 9: "
      f"{len(np.unique(controls['input only'].predictions[:, 9].round(9), axis=0)):,} "
      f"(3^10 = {3 ** 10:,})")

# %% [markdown]
# The pattern is the same at every lag (cosines of 0.98 and above): each lag's three vectors
# point to the three corners, as Mess3's symmetry under relabelling tokens and states
# suggests. But the sizes do not shrink by one ratio: by about 0.49 from lag 0 to lag 1, then
# by 0.54–0.59 up to lag 7, and by 0.65–0.68 for the last two, smallest ones, which the fit
# pins down least well (position 9's own map: 0.47 to 0.73). So the picture is not a self-similar gasket. It is a
# finite set — one point per prefix, $3^{p+1}$ at position $p$ — of sums of per-lag corner
# vectors whose sizes fall roughly geometrically: the first split into three sub-triangles
# is a half-size one, as in a gasket, while at the finer levels the ratios above one half make
# neighbouring sub-triangles overlap. (A sum with one common ratio — a true linear iterated
# function system — is what paper (b)'s constrained update computes, with ratio $\zeta$; chapter
# 07 draws it.)
#
# So "the probe draws a triangle of triangles" is not evidence of anything: a linear function
# of the tokens draws one. The evidence is that the trained network's probe draws *Bayes'*
# fractal with a small error. Bayes' update is a *normalised* (projective) map,
# $\eta \mapsto \eta T^{(x)} / \eta T^{(x)} \mathbf 1$, not a sum of per-token vectors, and
# the gap between the input-only picture and the true fractal is the nonlinear work the network
# does. (Section 9 meets sums of per-token vectors again: Piotrowski et al. show that one
# attention layer computes something very like them.)
#
# Where does the trained network's advantage come from? Position by position:

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, style in [("trained", "o-"), ("untrained", "s--"), ("input only", "^:")]:
    res = controls[name]
    per_position = ((res.predictions - Y)[res.test_idx] ** 2).mean(axis=(0, 2))
    ax.semilogy(range(10), per_position, style, ms=4, label=name)
    print(f"{name:10s} held-out MSE by position:", np.array2string(per_position, precision=4,
                                                                    formatter={"float": "{:.1e}".format}))
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
    "input only": probing.evaluate(probing.input_only_features(sub_in, 3), sub_Y, sub_p).held_out.mse,
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
# records without it): the subset estimate agrees with it to about two digits. Against tokens,
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
    axes[1].annotate(f"{e['tokens']:,}", (e["relative_loss"] - 1, e["mse"]), fontsize=7,
                     xytext=(4, -8), textcoords="offset points")
axes[1].set_xlabel("relative loss - 1")
axes[1].set_ylabel("held-out probe MSE")
axes[1].set_title("lower loss, better geometry", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Two things to take away. The probe error falls by almost two orders of magnitude over
# training, in step with the loss (right: in the spirit of the paper's Fig. S2, here with the
# exact loss). And
# the early checkpoints are *not* better than the baselines: at 87,040 tokens the model's loss
# is within 5 % of the optimum, yet its stream is less belief-like than a linear function of
# the input. Only from about 261,120 tokens on does the network beat the input-only baseline.
# Claims that the geometry "emerges early" need this comparison. The fractal, at every shipped
# checkpoint (the probe of each checkpoint's own final layer, fitted on 20 % of the subset, drawn
# for the subset's distinct prefixes and coloured by their true beliefs), with the target last:

# %%
sub_colors = plotting.belief_colors(sub_Y[sub_first])
fig, axes = plt.subplots(2, 5, figsize=(17, 7.4))
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
# The paper's Mess3 figures probe the last layer. What about the others? We probe every residual-stream hook
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
# **Before and after the final LayerNorm** (the paper's Fig. S1), on all 59,049 contexts:

# %%
ln_result = probing.evaluate(X_ln, Y, data.probs)
for label, res in [("before ln_final (Fig. 6's choice)", result), ("after ln_final", ln_result)]:
    print(f"{label:36s} held-out MSE {res.held_out.mse:.2e}, R² {res.held_out.r2:.4f}")

# %% [markdown]
# The belief is even *more* precisely readable after the final LayerNorm: $1.3 \times 10^{-4}$
# against $2.0 \times 10^{-4}$ before it; the paper's Fig. S1 shows the fractal on both sides
# of the final LayerNorm. LayerNorm divides by the norm
# of the centred stream, a nonlinear operation that an affine probe cannot imitate; evidently
# some variation in that norm is noise with respect to the belief, and dividing it out leaves
# cleaner geometry — which is the representation the unembedding reads.

# %% [markdown]
# ## 8. RRXOR: geometry spread over layers
#
# The paper's second process is RRXOR (chapter 03): two random bits, then their XOR, repeated.
# Its beliefs live in a 4-simplex (5 hidden states), and there are only 36 of them; 35 occur as
# targets at positions 0–9 (the 36th is the prior $\pi$). The next token distribution takes only
# 11 distinct values over those beliefs — nine of the 35 (ten of the 36, counting $\pi$)
# predict a fair coin. The paper
# reports that the final layer does *not* carry the full belief geometry, but all layers
# concatenated do (its Fig. 7). We check both claims with held-out scores and a control of the
# same dimension.

# %%
rrxor = processes.rrxor()
rdata = ExactData(rrxor, n_ctx=10)
rmodel, rrecord = checkpoints.load("rrxor")
print(f"RRXOR: {len(rdata)} possible contexts of 10 tokens; model after {rrecord['tokens_seen']:,} "
      f"tokens, relative loss {rrecord['relative_loss']:.5f}")
rcodes = prefix_codes(rdata.inputs, 2)
print(f"distinct prefixes: {len(np.unique(np.concatenate([rcodes[:, p] * 16 + p for p in range(10)])))}")
flat_b = rdata.beliefs.reshape(-1, 5)
flat_next = rdata.next_token_probs.reshape(-1, 2)
print(f"distinct beliefs at positions 0-9: {len(np.unique(flat_b.round(6), axis=0))}; "
      f"distinct next-token distributions: {len(np.unique(flat_next.round(6), axis=0))}")

# %% [markdown]
# 436 contexts of 10 tokens but only 1,046 distinct prefixes — and the concatenation of the 12
# residual hooks (`resid_pre`, `mid`, `post` of 4 blocks, 128 dimensions each) has 1,536
# features. A least-squares fit whose features are linearly independent on the fitted points —
# possible only with at least as many features as distinct points — reproduces *any* targets
# there. So in-sample numbers can prove nothing here, and the untrained control must use the
# same 1,536 features; the cell below also measures how close to that we are.
#
# We collect every residual hook and `ln_final` once, for the trained network and for the same
# architecture untrained; each representation below is a selection of columns.

# %%
from sklearn.model_selection import GridSearchCV, GroupKFold

from beliefcourse.model import build_model

r_all = probing.layer_hooks(rmodel) + [after_ln]           # the 12 residual hooks, then ln_final
r_acts = {"trained": probing.collect_activations(rmodel, rdata.inputs, r_all),
          "untrained": probing.collect_activations(build_model(rmodel.cfg, seed=0),
                                                 rdata.inputs, r_all)}


def columns(acts, hooks, width=128):
    """The features of `hooks`, concatenated, from activations collected at `r_all`."""
    return np.concatenate([acts[..., width * r_all.index(h):width * (r_all.index(h) + 1)]
                           for h in hooks], axis=-1)


def new_prefix_points(res, codes):
    """Mask (N, L) of held-out points whose prefix starts no fitted context (section 4)."""
    mask = np.zeros(codes.shape, dtype=bool)
    for p in range(codes.shape[1]):
        mask[res.test_idx, p] = ~np.isin(codes[res.test_idx, p], codes[res.train_idx, p])
    return mask


representations = {"final layer": ["blocks.3.hook_resid_post"],
                   "all 12 residual hooks": probing.layer_hooks(rmodel)}
cases = [(rep, net) for rep in representations for net in ("trained", "untrained")]
ols = {(rep, net, frac): probing.evaluate(columns(r_acts[net], representations[rep]),
                                        rdata.beliefs, rdata.probs, train_fraction=frac, seed=0)
       for rep, net in cases for frac in (1.0, 0.2, 0.8)}
fit20 = ols["final layer", "trained", 0.2].train_idx       # every row uses this same split
n_fit_prefixes = len(np.unique(np.concatenate([rcodes[fit20, p] * 16 + p for p in range(10)])))
print(f"fit on 20 %: {len(fit20)} contexts, {n_fit_prefixes} distinct prefixes")
copies = sum(np.array_equal(columns(r_acts["trained"], [f"blocks.{l}.hook_resid_post"]),
                            columns(r_acts["trained"], [f"blocks.{l + 1}.hook_resid_pre"]))
             for l in range(3))
print(f"hooks that copy another (resid_post of block l = resid_pre of block l + 1): {copies}; "
      f"distinct features {128 * (12 - copies)}")


def affine_rank(features):
    """Rank of [features, 1] over all points. Repeated prefixes add no rank, so each distinct
    row is used once. Activations are float32, so singular values below 1e-7 of the largest
    count as rounding noise."""
    X = np.unique(features.reshape(-1, features.shape[-1]), axis=0).astype(np.float64)
    s = np.linalg.svd(np.hstack([X, np.ones((len(X), 1))]), compute_uv=False)
    return int((s > 1e-7 * s[0]).sum())


for net in ("trained", "untrained"):
    x = columns(r_acts[net], representations["all 12 residual hooks"])
    print(f"affine rank of the concatenation, {net:9s}: {affine_rank(x[fit20])} on the fit set "
          f"({n_fit_prefixes} prefixes), {affine_rank(x)} on all 1,046 prefixes")
print(f"{'R², ordinary least squares':38s} {'in-sample':>10s} {'held-out':>10s} {'held-out':>10s}")
print(f"{'representation':22s} {'network':9s} {'dim':>5s} {'(all)':>10s} {'fit 20 %':>10s} "
      f"{'fit 80 %':>10s}")
for rep, net in cases:
    r = [ols[rep, net, 1.0].in_sample.r2, ols[rep, net, 0.2].held_out.r2,
         ols[rep, net, 0.8].held_out.r2]
    print(f"{rep:22s} {net:9s} {ols[rep, net, 1.0].n_features:5d} "
          + " ".join(f"{v:10.3f}" for v in r))

# %% [markdown]
# Column by column.
#
# * **Why.** Three of the 12 hooks repeat another — the residual stream leaving block $l$ is
#   the one entering block $l+1$ — so there are 1,152 distinct features (we keep all 12, as
#   the authors' Figure 7 notebook does). On the 20 % fit set the concatenation's rank equals its number of
#   distinct prefixes: least squares can fit *any* targets there exactly. On all 1,046
#   prefixes the rank is about 760: not enough to interpolate, but enough to fit most of any
#   target.
# * **In-sample, as in the authors' code.** The concatenation fits the beliefs almost perfectly (R²
#   0.985) and the final layer alone does not (0.786) — the paper's Fig. 7 result, reproduced.
#   But the *untrained* network's concatenation reaches 0.889, having learned nothing.
# * **Held out, fitting on 20 %** (the split of the authors' Mess3 cross-validation — their
#   RRXOR analysis is in-sample only: 87 contexts with 392 distinct prefixes,
#   far fewer than the 1,536 features): ordinary least squares interpolates the fit set. The trained
#   concatenation falls *below* the final layer alone (0.633 against 0.710), and the untrained
#   concatenation is far worse than predicting the mean (R² −0.939).
# * **Held out, fitting on 80 %**: with four times the data the concatenation beats the final
#   layer (0.863 against 0.755), and the untrained one at the same dimension by a mile (0.069).
#
# So least squares on 1,536 features is the wrong tool for a 20 % fit set. Two honest
# remedies: fit on more (the last column), or **regularise**. Ridge regression adds
# $\lambda \lVert W \rVert^2$ to the squared error (scikit-learn calls $\lambda$ `alpha`; it
# has nothing to do with Mess3's $\alpha$); it shrinks the directions of feature space
# along which the fit set barely varies — exactly the ones an interpolating fit exploits. The
# penalty $\lambda$ has to be chosen *without* the held-out data, or the held-out score is no
# longer held out. We choose it by 5-fold cross-validation inside the 87 fit contexts, folds
# grouped by context (scikit-learn's `GroupKFold`, for the reason of section 4; short prefixes
# are still shared across folds, which favours small penalties — grouping by the first few
# tokens would be stricter), from one grid that includes $\lambda = 0$, the same for every
# row. `AffineProbe` is a scikit-learn estimator,
# so `GridSearchCV` does the search. Held-out scores are then computed once, for the chosen
# $\lambda$; we also score the held-out points whose prefix is **new** (section 4's tool) — at
# this split about a third of them.

# %%
ALPHAS = np.concatenate([[0.0], 10.0 ** np.arange(-3, 4)])


def ridge_alpha(x, y, fit_seqs):
    """The ridge penalty with the lowest 5-fold cross-validated MSE on the fit sequences alone
    (folds grouped by sequence); the held-out sequences are never looked at."""
    search = GridSearchCV(probing.AffineProbe(), {"alpha": ALPHAS}, cv=GroupKFold(n_splits=5),
                          scoring="neg_mean_squared_error", refit=False)
    search.fit(x[fit_seqs].reshape(-1, x.shape[-1]), y[fit_seqs].reshape(-1, y.shape[-1]),
               groups=np.repeat(fit_seqs, x.shape[1]))
    return float(search.best_params_["alpha"])


new20 = new_prefix_points(ols["final layer", "trained", 0.2], rcodes)
ridge = {}
for rep, net in cases:
    x = columns(r_acts[net], representations[rep])
    alpha = ridge_alpha(x, rdata.beliefs, fit20)
    ridge[rep, net] = (alpha, probing.evaluate(x, rdata.beliefs, rdata.probs, train_fraction=0.2,
                                             seed=0, alpha=alpha))
print(f"held-out, fit on 20 %: {new20.sum()} of {new20[ridge[cases[0]][1].test_idx].size} "
      "held-out points have a new prefix")
print(f"{'held-out R², fit on 20 %':33s} {'all held-out':>21s}   {'new prefixes only':>21s}")
print(f"{'representation':22s} {'network':9s} {'λ':>6s} {'OLS':>10s} {'ridge':>10s}   "
      f"{'OLS':>10s} {'ridge':>10s}")
for rep, net in cases:
    alpha, res = ridge[rep, net]
    o = ols[rep, net, 0.2]
    print(f"{rep:22s} {net:9s} {alpha:6.3g} {o.held_out.r2:10.3f} {res.held_out.r2:10.3f}   "
          f"{probing.r2(rdata.beliefs[new20], o.predictions[new20]):10.3f} "
          f"{probing.r2(rdata.beliefs[new20], res.predictions[new20]):10.3f}")
concat, final_layer = "all 12 residual hooks", "final layer"
ridge_r2 = {key: (res.held_out.r2, probing.r2(rdata.beliefs[new20], res.predictions[new20]))
            for key, (_, res) in ridge.items()}
gain = [a - b for a, b in zip(ridge_r2[concat, "trained"], ridge_r2[final_layer, "trained"])]
print(f"ridge, concatenation minus final layer (trained): {gain[0]:+.3f} on all held-out points, "
      f"{gain[1]:+.3f} on new prefixes")
print(f"ridge, concatenation, trained minus untrained: "
      f"{ridge_r2[concat, 'trained'][0] - ridge_r2[concat, 'untrained'][0]:+.3f} held out")

# %% [markdown]
# Regularised, the picture is consistent:
#
# * The trained concatenation now beats the final layer held out, even on the 20 %
#   split (0.812 against 0.732), and the untrained network's concatenation, regularised the
#   same way, reaches only 0.213: at the same 1,536 dimensions, training is worth 0.60 of R².
#   Ridge also rescues the untrained concatenation from −0.939 — the negative R² was
#   interpolation, not a property of random features.
# * On the **new prefixes** — inputs no fitted context starts with — the concatenation and the
#   final layer are about level (0.699 and 0.658), and both are far ahead of the untrained
#   network, which does no better than the mean of those points (0.000 for its final layer,
#   −0.376 for its concatenation).
#
# The honest reading. The trained network represents much of RRXOR's belief — at every
# evaluation it is far ahead of the same architecture untrained, at the same dimension, which is
# the comparison that shows something was learned. Whether *all layers together* hold more
# belief than the last layer is a different claim. With regularisation it holds on held-out
# contexts (by 0.08 of R²); on genuinely new inputs it shrinks to 0.04 — inside what a
# different split or penalty grid might move. With 1,046 distinct prefixes in the whole world,
# RRXOR cannot settle it at this precision; what it does settle is that the in-sample
# contrast behind the paper's Fig. 7 (0.985 against 0.786) overstates the difference.
#
# A picture in the spirit of the paper's Fig. 7C, drawn as the authors' Figure 7 notebook
# draws it: the 35 beliefs projected on their first two principal components (grey), and for
# each belief the average probe output of its points (red, joined to its true belief). Top: as
# in the authors' code, in-sample, ordinary least squares, trained and untrained. Bottom:
# ridge, fitted on 20 %, on the new prefixes only.

# %%
uniq, inverse = np.unique(flat_b.round(6), axis=0, return_inverse=True)
belief_id = inverse.reshape(rdata.beliefs.shape[:2])
centre = uniq.mean(0)
_, _, Vt = np.linalg.svd(uniq - centre, full_matrices=False)


def pca2(b):
    return (b - centre) @ Vt[:2].T


everywhere = np.ones(belief_id.shape, dtype=bool)
panels = [("trained, in-sample (OLS)", ols[concat, "trained", 1.0], everywhere),
          ("untrained, in-sample (OLS)", ols[concat, "untrained", 1.0], everywhere),
          ("trained, new prefixes (ridge)", ridge[concat, "trained"][1], new20),
          ("untrained, new prefixes (ridge)", ridge[concat, "untrained"][1], new20)]
fig, axes = plt.subplots(2, 2, figsize=(10, 8.4))
for ax, (title, res, mask) in zip(axes.flat, panels):
    ids = np.unique(belief_id[mask])
    truth = pca2(uniq[ids])
    means = pca2(np.stack([res.predictions[mask & (belief_id == k)].mean(0) for k in ids]))
    ax.scatter(*pca2(uniq).T, c="0.85", s=30, zorder=1)
    for t_, m_ in zip(truth, means):
        ax.plot(*np.stack([t_, m_]).T, "-", color="C3", lw=0.8, alpha=0.7, zorder=2)
    ax.scatter(*means.T, c="C3", s=12, zorder=3)
    y, yhat = rdata.beliefs[mask], res.predictions[mask]
    ax.set_title(f"{title}: R² {probing.r2(y, yhat):.3f}\n({len(ids)} beliefs, {mask.sum()} points)",
                 fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("RRXOR, all 12 residual hooks concatenated (1,536 features)", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 36 beliefs, 11 predictions: why the geometry could spread over layers
#
# Why should any layer *but* the last hold the belief better? Look at who reads what. The
# residual stream at position $p$ and layer $\ell$ is read by the later layers at position $p$
# *and*, through attention, by every later position. The final layer's stream at position $p$
# is read by nobody but the unembedding, which needs only the next-token distribution — for
# RRXOR 11 distinct values, not 36 beliefs. The belief is what later positions need (it fixes
# the whole future, chapter 02), so it has to be available in the layers that attention reads;
# at the very end, beliefs that predict the same next token may be merged. That is the
# explanation one of the authors gave for Fig. 7 in the LessWrong discussion of the paper. It is a hypothesis about our model too, and it can be tested.
#
# Split each belief into the part the next token reveals
# (the average belief of its next-token class) and the rest, the **within-class** part: what
# distinguishes beliefs that predict the same next token. If the network keeps a distinction
# only as long as something downstream needs it, the within-class part should fade towards the
# end. We probe each hook for three targets — the belief, the next-token distribution and the
# within-class part — held-out, fitting on 80 % of the contexts, for the trained and the
# untrained network.

# %%
classes = np.unique(flat_next.round(6), axis=0, return_inverse=True)[1].reshape(-1)
class_mean = np.stack([flat_b[classes == c].mean(0) for c in range(classes.max() + 1)])
within = (flat_b - class_mean[classes]).reshape(rdata.beliefs.shape)
targets = {"belief": rdata.beliefs, "next token": rdata.next_token_probs, "within-class": within}
r_hooks = ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_{part}" for l in range(4)
                                         for part in ("mid", "post")] + [after_ln]
r_labels = ["embed"] + [f"L{l} {part}" for l in range(4) for part in ("attn", "mlp")] + ["ln_final"]
r_results = {}
for net in ("trained", "untrained"):
    for hook in r_hooks:
        x = columns(r_acts[net], [hook])
        for name, target in targets.items():
            r_results[net, name, hook] = probing.evaluate(x, target, rdata.probs,
                                                          train_fraction=0.8, seed=0)
r_scores = {key: res.held_out.r2 for key, res in r_results.items()}
print(f"{'held-out R²':23s}" + "".join(f"{lab:>9s}" for lab in r_labels))
for net_label in ("trained", "untrained"):
    for name in targets:
        print(f"{net_label + ', ' + name:23s}"
              + "".join(f"{r_scores[net_label, name, h]:9.3f}" for h in r_hooks))

# %%
fig, ax = plt.subplots(figsize=(8.5, 3.8))
for k, name in enumerate(targets):
    ax.plot(r_labels, [r_scores["trained", name, h] for h in r_hooks], "o-", color=f"C{k}",
            label=f"{name} (trained)")
    ax.plot(r_labels, [r_scores["untrained", name, h] for h in r_hooks], ":", color=f"C{k}",
            alpha=0.7, label=f"{name} (untrained)")
ax.set_ylabel("held-out R² (fit on 80 %)")
ax.set_xlabel("residual stream after ...")
ax.set_ylim(-0.1, 1.02)
ax.legend(frameon=False, fontsize=7, ncol=3, loc="lower right")
plt.xticks(rotation=30)
fig.tight_layout()
plt.show()

# %% [markdown]
# Three things, in increasing order of surprise.
#
# * The trained network's stream becomes more predictive of everything, layer by layer, while
#   the untrained network's stays flat after the first MLP.
# * The next-token distribution is read out almost perfectly at the end (R² 0.98): that is what
#   the unembedding needs.
# * The **within-class** part does *not* fade at the end: it is most readable after the final
#   LayerNorm (R² 0.64), and no earlier hook reads more of it. So about a third of it (36 %)
#   is not linearly readable at any single hook — trained or not: the current token and
#   position already give 0.28, and the untrained network never gets past 0.34.
#
# This is also where the definition of $R^2$ matters. The within-class part is a 5-vector
# whose coordinates vary very unequally:

# %%
res = r_results["trained", "within-class", after_ln]
y = within[res.test_idx].reshape(-1, 5)
y_hat = res.predictions[res.test_idx].reshape(-1, 5)
variance = y.var(axis=0)
per_coordinate = 1 - ((y - y_hat) ** 2).mean(axis=0) / variance
print("variance of each coordinate:     ", np.array2string(variance, precision=4))
print("share of the total variance:     ", np.array2string(variance / variance.sum(), precision=3))
print("R² of each coordinate on its own:", np.array2string(per_coordinate, precision=3))
print(f"pooled R² (the course's definition): {probing.r2(y, y_hat):.3f};  "
      f"average of the per-coordinate R²: {per_coordinate.mean():.3f}")
print(f"share of the within-class variance not read at ln_final: {1 - probing.r2(y, y_hat):.0%}")

# %% [markdown]
# The last two coordinates carry under 2 % of the variance but are read well (0.89 each);
# averaging per-coordinate $R^2$ (scikit-learn's `r2_score`) would let them count for two
# fifths of the score and report 0.74. The pooled $R^2$ of section 3 weighs each coordinate by
# its variance: 0.64 of the within-class variance is readable at `ln_final`, 0.36 is not.
#
# So the explanation offered for Fig. 7 — the last layer lets go of distinctions the
# next token does not need — is a reasonable hypothesis, but our model does not show it. It may
# need much longer training: the authors' published RRXOR checkpoint was trained on 509 million
# tokens, about a hundred times ours, and compression of unneeded information is the kind
# of thing that happens late, if at all. Or the in-sample comparison behind Fig. 7 may owe more to interpolation than to
# compression (the tables above). Which one is a question you can now test: retrain with
# `python -m beliefcourse train rrxor --tokens ... --out runs/rrxor-long` and run this section
# on the result.

# %% [markdown]
# ## 9. How far back does the first attention layer look?
#
# Piotrowski et al. (2025) ask how attention — a weighted *sum* over positions — can compute
# a belief, which Bayes' rule builds by a *product* of matrices. Their answer for Mess3: let
# every past token update the prior on its own, let the hidden chain run on from there, and add
# the results. Since the chain's transition matrix is $T = \zeta I + (1-\zeta)\,\mathbf 1\pi$
# with $\zeta = 1 - 3x$ (chapter 01), this *constrained* update is
#
# $$ \tilde\eta_p \;=\; \pi + \sum_{d=0}^{p} \zeta^{\,d}\, u_{z_{p+1-d}}, \qquad
#    u_z = \pi^{(z)} - \pi, $$
#
# where $z_1 z_2 \dots$ are the tokens (written $z$ here, as in paper (b), because $x$ is
# Mess3's parameter), $\pi^{(z)}$ is the prior updated on the token $z$ alone and $d$ counts
# steps back from the current token. ($\mathbf 1\pi$ is the matrix whose rows are all $\pi$,
# i.e. $J/3$ in chapter 01's notation.) A softmax head computes such a sum if its weight on
# the key $d$ steps back falls like $\zeta^{d}$ and its OV circuit maps token $z$ to (an affine
# image of) $u_z$.
# For our process, $\zeta = 0.85$: the attention logit should drop by $\ln 0.85 = -0.16$ per
# step.
#
# The models in the authors' public notebook have one layer and were trained at
# $x \in \{0.15, 0.5\}$, $\alpha \in \{0.2, 0.6\}$; ours is the course's retraining of paper (a)'s four-layer model at
# $x = 0.05$, $\alpha = 0.85$. So this tests the prediction at, or beyond, the edge of the
# regime it was shown in; it is not a replication (chapter 07 does that). We measure two
# things, each a probability-weighted mean over all 59,049 inputs: the layer-0 attention weight from query
# position $p$ to key $p - d$, and the size of what that key actually writes into position
# $p$, $a_{p,p-d}\,\lVert v_{p-d} W_O \rVert$ — a small weight on a large value could still
# matter. `beliefcourse.attention.attention_by_distance` computes both; we fit
# $\log(\cdot) = c + d \log r$ over $d = 1..5$, where the weights are above about 1 %.

# %%
from beliefcourse import attention

zeta = 1 - 3 * record["process_params"]["x"]          # Mess3's second eigenvalue: 0.85
prof = attention.attention_by_distance(model, data.inputs, data.probs, layer=0)
last = data.n_ctx - 1                                 # the last query, as in (b)'s plots
a, c = prof.attention[last], prof.contribution[last]  # indexed by distance d = 0..9
fit_d = np.arange(1, 6)                               # d = 1..5
rate = {"attention": attention.decay_rate(a[fit_d], fit_d),
        "attention × ‖v W_O‖": attention.decay_rate(c[fit_d], fit_d)}
print("d                   " + " ".join(f"{d:6d}" for d in range(data.n_ctx)))
print("attention           " + " ".join(f"{v:6.3f}" for v in a))
print("attention × ‖v W_O‖ " + " ".join(f"{v:6.3f}" for v in c))
for name, r in rate.items():
    print(f"decay per step, {name:19s}: {r:.2f}   (paper (b): ζ = {zeta:.2f})")
per_query = [attention.decay_rate(prof.attention[p, fit_d], fit_d) for p in range(5, 10)]
print("attention decay fitted at each query p = 5..9:", " ".join(f"{r:.2f}" for r in per_query))
print(f"weight at d = 5 relative to d = 1: model {a[5] / a[1]:.2f}, ζ^4 = {zeta ** 4:.2f}")

# %% [markdown]
# A yardstick that needs no network: how much does the *exact* final belief move when we
# change the token $d$ steps back (L1 distance, averaged over the two alternative tokens and
# over inputs)? We measure it for our process and for one of paper (b)'s, $x = 0.15$,
# $\alpha = 0.6$, where $\zeta = 0.55$.

# %%
sens = attention.belief_sensitivity_by_distance(data.inputs, data.beliefs[:, -1], data.probs,
                                                mess3.n_tokens)
weak = ExactData(processes.mess3(x=0.15, alpha=0.6), n_ctx=10)
sens_weak = attention.belief_sensitivity_by_distance(weak.inputs, weak.beliefs[:, -1],
                                                     weak.probs, mess3.n_tokens)
for name, s, z in [("Mess3(0.05, 0.85), ours", sens, zeta),
                   ("Mess3(0.15, 0.6), paper (b)", sens_weak, 1 - 3 * 0.15)]:
    print(f"{name:28s} exact belief's sensitivity decays by "
          f"{attention.decay_rate(s[fit_d], fit_d):.2f} per step; ζ = {z:.2f}")
tc = record["train_config"]
print(f"our model: {tc['optimizer']}, lr {tc['lr']}, {tc['schedule']} schedule, "
      f"{record['tokens_seen']:,} tokens ({record['step']:,} steps of {tc['batch_size']})")

# %%
d = np.arange(data.n_ctx)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
ax.semilogy(d, a / a[1], "o-", label=f"attention (fit {rate['attention']:.2f}$^d$)")
ax.semilogy(d, c / c[1], "s-",
            label=f"attention × ‖v W_O‖ (fit {rate['attention × ‖v W_O‖']:.2f}$^d$)")
ax.semilogy(d, sens / sens[1], "^:", color="0.45",
            label=f"exact belief's sensitivity (fit "
                  f"{attention.decay_rate(sens[fit_d], fit_d):.2f}$^d$)")
ax.semilogy(d[1:], zeta ** (d[1:] - 1), "k--", label=f"paper (b): ζ$^d$, ζ = {zeta:.2f}")
ax.set_xlabel("distance d back from the last position (key 9 − d)")
ax.set_ylabel("relative to d = 1")
ax.set_title("layer-0 attention from the last position")
ax.legend(frameon=False, fontsize=8, loc="lower left")
ax = axes[1]
colors = plt.cm.viridis(np.linspace(0, 0.9, data.n_ctx))
for p in range(1, data.n_ctx):
    ax.semilogy(d[:p + 1], prof.attention[p, :p + 1], "o-", ms=3, color=colors[p],
                label=f"p = {p}")
ax.semilogy(d[1:], a[1] * zeta ** (d[1:] - 1), "k--", label="ζ$^d$")
ax.set_xlabel("distance d back from query position p (key p − d)")
ax.set_ylabel("mean attention weight")
ax.set_title("every query position")
ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Our model does not follow the prediction.** From the last position the attention falls by
# a factor of about 0.51 per step, not 0.85: five steps back the prediction leaves
# $0.85^4 \approx 0.52$ of the weight at $d = 1$, the model about 0.07. Weighting by what each
# key writes changes nothing (0.51), because $\lVert v W_O\rVert$ hardly depends on the key;
# every query from $p = 5$ on decays by 0.51–0.61 per step (the earliest, $p = 5$, the
# slowest). Two features the constrained update does not have either: the query's own token
# gets little weight (0.08; the skip connection already carries it to the residual stream),
# and the first position gets a slight bump.
#
# Why might it differ? These are hypotheses, not findings:
#
# * **The prediction is a linearisation.** It treats each token as if it were the only one
#   seen. With $\alpha = 0.85$ each token is strong evidence and newer ones overwrite older
#   ones, so the exact belief forgets faster than the hidden chain mixes: its sensitivity to a
#   token $d$ steps back falls by 0.41 per step, not 0.85 — the model's 0.51 lies between the
#   two, much nearer the belief's own memory. In paper (b)'s $(0.15, 0.6)$ process the same
#   yardstick gives 0.47 against $\zeta = 0.55$, a far smaller gap, which may be why $\zeta^d$
#   fits their models as well as the paper reports.
# * **Four layers, not one.** Later layers can correct what the first does, so layer 0 need
#   not be the one-layer solution.
# * **Training.** Ours is a short AdamW run with a cosine schedule (printed above); paper (b)'s
#   optimiser and training length are not given in the parts of paper (b) we could check and
#   probably differ; where several solutions predict equally well, which one training finds
#   can depend on them.
# * **What is compared.** We compare raw softmax weights; a position-dependent normalisation
#   (the weights must sum to 1) rescales a row but does not change its slope in $d$. Paper
#   (b)'s OV-vector and `resid_mid` decompositions, which could show the constrained update at
#   work in a form this single number misses, are reproduced in chapter 07.

# %% [markdown]
# **How far this goes, and where it goes next.** This is one model, one seed, four layers, at
# a point of the parameter space — $(x, \alpha) = (0.05, 0.85)$ — that lies outside the grid on
# which paper (b) made its claim. A mismatch here therefore does not contradict the paper: the
# paper's mechanism is about one-layer models on its own processes, and the hypotheses above
# are all differences between that setting and ours. Chapter 07
# ([`07_constrained_belief_updates.ipynb`](07_constrained_belief_updates.ipynb)) tests the
# mechanism where it was proposed: one-layer models trained across the $(x, \alpha)$ grid and
# shipped as checkpoints, their attention decay per head against $|\zeta|^d$ and against the
# rate whose constrained update fits the belief best, and the OV vectors and `resid_mid`
# geometry that this single number cannot show. It also trains one-layer models at this very
# point, $(0.05, 0.85)$, which settles the "four layers" hypothesis above: their attention,
# too, decays far faster than $\zeta$, near the best-fitting rate.

# %% [markdown]
# ## 10. The readers' questions
#
# When the paper appeared, readers of Hacker News asked two questions that this chapter can now
# answer in part.
#
# **"Can linear regression find structure that is not there?"** Not *any* structure: the
# shuffle control shows that a 195-parameter probe fitted to unrelated targets finds nothing
# (R² ≈ 0). But a probe can find structure that is there *for reasons other than the claim*:
# beliefs are functions of the tokens, and any rich function of the tokens — an untrained
# network, a one-hot history — supports an affine read-out with R² 0.85–0.95. The claim that
# survives the controls is quantitative: the trained network's residual stream is ~80× closer
# to the belief (in MSE) than an untrained one, and 26–30× closer than the affine functions
# of the input history we tried, held out. And a probe can draw a triangle of triangles from
# features that know nothing about beliefs — the input-only picture of section 5, a finite set
# of sums of per-lag vectors — so the shape of a picture is never the evidence; the error
# against the true beliefs is. Where features outnumber distinct inputs (RRXOR's
# concatenation), a probe *can* fit structure that is not there — an untrained
# network's concatenation scores R² 0.89 in-sample — which is why it must be judged held-out,
# on new inputs, with a penalty chosen without the test set, and against a same-size random
# network. (Unregularised on a small fit set, the same features score *worse* than predicting
# the mean: overfitting shows up held-out as a negative R², not as a discovery.) A commenter
# also worried that a probe might "discover" two states the network had merged. Section 8
# shows how to look: split the belief into what the next token reveals and the rest, and ask
# where the rest is readable, held-out. In our RRXOR model the rest is as readable at the end
# as anywhere (within-class R² 0.64 at `ln_final`, the most at any hook, so about a third of
# it is not linearly readable at any single hook), with no sign that it fades; and the held-out, same-dimension controls
# are what would catch a probe inventing a distinction.
#
# **"Is this specific to transformers?"** Nothing in the theory is. A *recurrent* predictor
# that is optimal at every step must carry in its state a sufficient statistic of the past for
# the whole future, and that is the belief (up to beliefs that predict identically; chapter
# 02). A transformer recomputes everything from the context at every position, so strictly its
# last layer only needs the next-token distribution; that it carries the belief anyway is what
# makes the finding interesting. Whether the information is *linearly* readable, and how
# precisely, is an empirical question for any architecture. Chapter 06
# ([`06_beyond_the_next_token.ipynb`](06_beyond_the_next_token.ipynb)) trains recurrent
# networks on the same data and runs this chapter's probes and controls on their hidden
# states; the Simplex group's later work reports the same geometry in RNNs, GRUs and LSTMs.
#
# **How does attention compute a belief at all?** Exact Bayes is a recursion; attention is a
# weighted *sum* over positions. Piotrowski et al. (2025) show, for one-layer models, that the
# first attention layer implements a constrained, parallel version of the belief update whose
# attention weights decay like $(1 - 3x)^{d}$ with distance $d$ — a sum of per-token vectors
# like the input-only probe of section 5, but with one common ratio — and that the later layers turn that intermediate geometry
# into the fractal. Section 9 found that the first layer of *our* four-layer model, at a
# process outside paper (b)'s grid, loses about half its weight per step back where the
# prediction loses 15 % (0.51 against 0.85) — nearer how fast the exact belief forgets a token.
# Chapter 07 ([`07_constrained_belief_updates.ipynb`](07_constrained_belief_updates.ipynb))
# tests the mechanism where the paper proposed it, on one-layer models across the
# $(x, \alpha)$ grid, and follows its decomposition in detail.

# %% [markdown]
# ## Summary
#
# * An affine probe from the final residual stream recovers Mess3's belief fractal: MSE
#   $2 \times 10^{-4}$, held out over sequences (the authors' notebook: $3.9 \times 10^{-4}$
#   in-sample).
# * Report both weightings — uniform over contexts (the authors' code) and by probability (the
#   process) — and say which. Split over **sequences**; even then, short prefixes are shared,
#   and only the long ones are truly new.
# * Controls: shuffled (R² ≈ 0, MSE ≈ 0.112), untrained network (R² ≈ 0.85), input only
#   (R² ≈ 0.945; 0.952 with one map per position). The trained network's MSE is ~80× and
#   26–30× smaller than the last two. R²
#   understates the difference; MSE ratios do not. A linear map of the inputs draws a triangle
#   of triangles too: a finite set of sums of per-lag vectors, not self-similar, not Bayes'.
# * Over training, the probe error falls with the loss; early checkpoints are no better than
#   the baselines, even when their loss is within 5 % of the optimum.
# * Through the network, the belief becomes readable layer by layer and is sharpest at the
#   end — after the final LayerNorm most of all.
# * RRXOR: the in-sample result of the paper's Fig. 7 (all layers concatenated ≫ final layer)
#   reproduces, but an untrained network's concatenation scores R² 0.89 in-sample too. With 1,536 features
#   and a 20 % fit set, least squares interpolates (held-out R² below the final layer's; the
#   untrained one's below zero); ridge with a penalty chosen by cross-validation inside the fit
#   set fixes that. Then the trained network beats the untrained one at the same dimension
#   everywhere, the concatenation beats the final layer held out (0.81 against 0.73), and on
#   genuinely new prefixes the two are about level. The hypothesis that the last layer drops
#   what the next token does not need is not visible in our model: the within-class part of
#   the belief is most readable at the end (pooled R² 0.64; averaging per-coordinate R² would
#   say 0.74, which is why the course uses one definition).
# * Paper (b) predicts that the first layer's attention decays like $\zeta^d$, $\zeta = 1 - 3x
#   = 0.85$. Ours decays by about 0.51 per step (attention alone and weighted by the OV output
#   alike) — closer to how fast the exact belief itself forgets an old token (0.41) than to
#   $\zeta$. One model at one point outside paper (b)'s grid does not test the paper's claim;
#   chapter 07 does, across the grid.
#
# **Practice.** `exercises/05_probing.ipynb`: the probe by weighted least squares, the split
# over sequences, the shuffle control, a decision rule against the strongest baseline, the
# truly new held-out points, and a ridge penalty chosen by grouped cross-validation.
#
# **Next:**
#
# * [`06_beyond_the_next_token.ipynb`](06_beyond_the_next_token.ipynb) — do the beliefs carry
#   the whole future, does the network use them (steering), and do recurrent networks show the
#   same geometry?
# * [`07_constrained_belief_updates.ipynb`](07_constrained_belief_updates.ipynb) — what the
#   first attention layer computes: paper (b)'s constrained update, tested across the
#   $(x, \alpha)$ grid.
#
# ### References
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers,
#   *Transformers Represent Belief State Geometry in their Residual Stream*, NeurIPS 2024
#   (arXiv:2405.15943); figure notebooks `Figure6.ipynb`, `Figure7.ipynb` in
#   `adamimos/epsilon-transformers` (branch `lucas/neurips-submission`).
# * M. Piotrowski, P. M. Riechers, D. Filan, A. S. Shai, *Constrained Belief Updates Explain
#   Geometric Structures in Transformer Representations*, ICML 2025 (arXiv:2502.01954).
# * G. Alain, Y. Bengio, *Understanding intermediate layers using linear classifier probes*
#   (2016); J. Hewitt, P. Liang, *Designing and Interpreting Probes with Control Tasks*,
#   EMNLP 2019 — why a probe needs controls.
# * J. Wentworth, D. Lorell, *Why Would Belief-States Have A Fractal Structure, And Why Would
#   That Matter For Interpretability? An Explainer*, LessWrong (2024).
# * Hacker News discussion of the LessWrong post, item 40547514 (2024) — the readers'
#   questions of section 10.
