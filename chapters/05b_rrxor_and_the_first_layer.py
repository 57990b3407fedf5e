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
# # 05b · RRXOR, and what the first layer computes
#
# *Reading time ≈ 65 minutes; running time ≈ 22 seconds (measured, CPU on one thread).
# Prerequisites: chapter 05 (the probe, $R^2$, held-out splits over sequences, new prefixes, the
# three controls); chapter 03 (RRXOR's 36 beliefs); chapter 01 (Mess3's memory $\zeta$). Ridge
# regression and cross-validation are explained where they are used. This chapter is closer to
# research than chapter 05: its claims are weaker, and it says how much weaker.*
#
# Chapter 05 found Mess3's belief fractal in the final residual stream, held out and far
# ahead of three controls. This chapter takes the same tools to two harder questions. First,
# the paper's second process, RRXOR: its beliefs are said to be spread over the layers rather
# than held by the last one. With only a few hundred distinct inputs and 1,536 features, a
# probe can fit *anything*, and we have to find out how much of the published contrast
# survives held-out evaluation. Second, back on Mess3: how far back does the first attention
# layer look, and does it match a published quantitative prediction?
#
# **After this chapter you will be able to**
#
# 1. say when a least-squares probe can interpolate (affine rank against distinct inputs) and
#    why its in-sample score then proves nothing;
# 2. choose a ridge penalty by cross-validation grouped by sequence, without looking at the
#    held-out set, and compare representations of equal dimension held out and on new inputs;
# 3. split a belief into what the next token reveals and the rest, probe both layer by layer,
#    and explain why pooled and per-coordinate $R^2$ disagree;
# 4. measure how far back the first attention layer looks and test Piotrowski et al.'s (2025)
#    prediction against it;
# 5. answer, with this chapter's numbers, two questions readers asked of the paper.
#
# Practice: `exercises/05_probing.ipynb`, exercise 5.6 (a ridge penalty chosen by grouped
# cross-validation).

# %%
import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import attention, checkpoints, probing, processes
from beliefcourse.data import ExactData
from beliefcourse.model import build_model
from beliefcourse.probing import futures

np.set_printoptions(precision=4, suppress=True)
rrxor = processes.rrxor()
rdata = ExactData(rrxor, n_ctx=10)
rmodel, rrecord = checkpoints.load("rrxor")
print(f"RRXOR: {len(rdata)} possible contexts of 10 tokens; model after "
      f"{rrecord['tokens_seen']:,} tokens, relative loss {rrecord['relative_loss']:.5f}")

# %% [markdown]
# ## 1. RRXOR: more features than inputs
#
# RRXOR (chapter 03) emits two random bits, then their XOR, and repeats. Its beliefs live in a
# 4-simplex (5 hidden states), and there are only 36 of them; 35 occur as targets at positions
# 0–9 (the 36th is the prior $\pi$). The next-token distribution takes only 11 distinct values
# over those beliefs. The paper reports that the final layer does *not* carry the full belief
# geometry, but all layers concatenated do. We check both claims with held-out scores and a
# control of the same dimension.

# %%
flat_b = rdata.beliefs.reshape(-1, 5)
classes, n_classes = futures.next_token_classes(rdata.next_token_probs)
print(f"distinct prefixes: {probing.distinct_prefixes(rdata.inputs).n_distinct:,}")
print(f"distinct beliefs at positions 0-9: {len(np.unique(flat_b.round(6), axis=0))}; "
      f"distinct next-token distributions: {n_classes}")

# %% [markdown]
# 436 contexts of 10 tokens but only 1,046 distinct prefixes. We collect every residual hook
# (`resid_pre`, `resid_mid`, `resid_post` of 4 blocks, 128 dimensions each) and `ln_final`
# once, for the trained network and for the same architecture untrained, and keep each hook's
# activations under its name.

# %%
after_ln = "ln_final.hook_normalized"
r_hooks_all = probing.layer_hooks(rmodel) + [after_ln]     # the 12 residual hooks, then ln_final
nets = {"trained": rmodel, "untrained": build_model(rmodel.cfg, seed=0)}
by_hook = {}
for net, m in nets.items():
    stacked = probing.collect_activations(m, rdata.inputs, r_hooks_all)      # (436, 10, 13 * 128)
    by_hook[net] = dict(zip(r_hooks_all, np.split(stacked, len(r_hooks_all), axis=-1)))
concat_hooks = probing.layer_hooks(rmodel)
representations = {"final layer": ["blocks.3.hook_resid_post"],
                   "all 12 residual hooks": concat_hooks}


def features(net, rep):
    """The activations of representation `rep` (hooks concatenated) of network `net`."""
    return np.concatenate([by_hook[net][h] for h in representations[rep]], axis=-1)


print(f"concatenation: {features('trained', 'all 12 residual hooks').shape[-1]:,} features")

# %% [markdown]
# Three of the 12 hooks repeat another: the residual stream leaving block $l$ is the one
# entering block $l + 1$. `probing.repeated_hooks` finds them:

# %%
repeats = probing.repeated_hooks({h: by_hook["trained"][h] for h in concat_hooks})
for hook, original in repeats:
    print(f"{hook} = {original}")
print(f"distinct features: {128 * (len(concat_hooks) - len(repeats)):,}")

# %% [markdown]
# Stack the fitted points' features, each row with a 1 appended, into a matrix
# $[\,\text{features}, 1\,]$, one row per *distinct* point. If those rows are linearly
# independent (the matrix's rank equals the number of distinct points), the equations
# "probe output = target" have an exact solution for *any* targets, and least squares finds
# one — possible only with at least as many features as distinct points. The **affine rank**,
# the rank of that matrix, says how close we are (`probing.affine_rank`, by singular value
# decomposition). The held-out split of chapter 05 fits on 20 % of the contexts:

# %%
train20, test20 = probing.split_sequences(len(rdata), 0.2, seed=0)
n_fit_prefixes = probing.distinct_prefixes(rdata.inputs[train20]).n_distinct
print(f"fit on 20 %: {len(train20)} contexts, {n_fit_prefixes} distinct prefixes")
for net in nets:
    x = features(net, "all 12 residual hooks")
    print(f"affine rank of the concatenation, {net:9s}: {probing.affine_rank(x[train20])} on the "
          f"fit set ({n_fit_prefixes} prefixes), {probing.affine_rank(x)} on all 1,046 prefixes")

# %% [markdown]
# On the fit set the rank equals the number of distinct prefixes: least squares can fit *any*
# targets there exactly. On all 1,046 prefixes the rank is about 760: not enough to
# interpolate, but enough to fit most of any target.
#
# > **Question.** So what will the *untrained* network's concatenation score in-sample — fitted
# > and scored on all contexts, as in the paper's figure — when its final layer alone scores
# > 0.36? Guess before the next section.
# >
# > <details><summary>Answer</summary>
# >
# > About 0.89: with a rank of about 760 against 1,046 points, least squares fits most of any
# > target, whatever the features mean. A network that learned nothing comes close to the
# > trained network's 0.985. In-sample, the dimension does the work.
# > </details>

# %% [markdown]
# ## 2. In-sample and held out
#
# Ordinary least squares, for the final layer and the concatenation, trained and untrained,
# scored three ways: in-sample on all contexts; held out, fitting on 20 %; and held out,
# fitting on 80 % (every row uses the same seeded split of its size).

# %%
cases = [(rep, net) for rep in representations for net in nets]
ols = {(rep, net, frac): probing.evaluate(features(net, rep), rdata.beliefs, rdata.probs,
                                        train_fraction=frac, seed=0)
       for rep, net in cases for frac in (1.0, 0.2, 0.8)}
ols_r2 = {(rep, net): [ols[rep, net, 1.0].in_sample.r2, ols[rep, net, 0.2].held_out.r2,
                       ols[rep, net, 0.8].held_out.r2] for rep, net in cases}
print(f"{'R², least squares':33s} {'in-sample':>10s} {'held out':>10s} {'held out':>10s}")
print(f"{'representation':22s} {'network':10s} {'(all)':>10s} {'fit 20 %':>10s} {'fit 80 %':>10s}")
for (rep, net), r in ols_r2.items():
    print(f"{rep:22s} {net:10s} " + " ".join(f"{v:10.3f}" for v in r))


# %%
def grouped_bars(ax, groups, series, ylabel, ylim=(-1.1, 1.15)):
    """One group of bars per entry of `groups`; `series` maps a label to one value per group.
    Bars below the window are cut at its edge; their labels give the true value."""
    width = 0.8 / len(series)
    for k, (label, values) in enumerate(series.items()):
        pos = np.arange(len(groups)) + (k - (len(series) - 1) / 2) * width
        bars = ax.bar(pos, np.maximum(values, ylim[0]), width, label=label, color=f"C{k}")
        ax.bar_label(bars, [f"{v:.2f}" for v in values], fontsize=8, padding=2)
    ax.set_xticks(np.arange(len(groups)), groups, fontsize=9)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_ylim(ylim[0] - 0.15, ylim[1])
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


fig, ax = plt.subplots(figsize=(10.5, 3.8))
grouped_bars(ax, ["in-sample (all)", "held out, fit 20 %", "held out, fit 80 %"],
             {f"{rep}, {net}": r for (rep, net), r in ols_r2.items()}, "R² (least squares)")
ax.set_title("RRXOR: least squares, final layer (128 features) against all 12 hooks (1,536)",
             fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Group by group.
#
# * **In-sample.** The concatenation fits the beliefs almost perfectly (R² 0.985) and the
#   final layer alone does not (0.786) — the paper's result, reproduced. But the *untrained*
#   network's concatenation reaches 0.889, having learned nothing.
# * **Held out, fitting on 20 %.** Ordinary least squares interpolates the fit set. The trained
#   concatenation falls *below* the final layer alone (0.633 against 0.710), and the untrained
#   concatenation is far worse than predicting the mean (R² −0.939): overfitting shows up held
#   out as a negative $R^2$.
# * **Held out, fitting on 80 %.** With four times the data the concatenation beats the final
#   layer (0.863 against 0.755), and the untrained one at the same dimension by a mile (0.069).
#
# > **For readers of the paper.** The paper's Fig. 7 contrast is in-sample: the authors'
# > `Figure7.ipynb` fits and scores every point once, with no held-out RRXOR analysis. That
# > notebook's per-layer "Concat" panel concatenates 6 hooks; the course concatenates all 12
# > residual hooks, repeats included (1,536 features, 1,152 distinct), which makes
# > interpolation easier, not harder — so the held-out numbers here are the ones to weigh.

# %% [markdown]
# ## 3. Ridge, with a penalty chosen blind
#
# So least squares on 1,536 features is the wrong tool for a 20 % fit set. Two honest
# remedies: fit on more (the last group), or **regularise**. Ridge regression adds
# $\lambda \lVert W \rVert^2$ to the squared error of section 1 of chapter 05 (scikit-learn
# calls $\lambda$ `alpha`; it has nothing to do with Mess3's $\alpha$). It shrinks the
# directions of feature space along which the fit set barely varies — exactly the ones an
# interpolating fit exploits. $\lambda = 0$ is least squares; a huge $\lambda$ predicts the
# mean.
#
# The penalty has to be chosen *without* the held-out data, or the held-out score is no longer
# held out. **Cross-validation** does that: split the 87 fit contexts into 5 folds, fit on 4,
# score on the fifth, rotate, and keep the $\lambda$ with the lowest average error. The folds
# must be grouped by context (scikit-learn's `GroupKFold`), for chapter 05's reason: a
# context's positions share prefixes. (Short prefixes are still shared across folds, which
# favours small penalties; grouping by the first few tokens would be stricter.)
# `probing.ridge_alpha_by_grouped_cv` runs this search over one grid that includes
# $\lambda = 0$, the same for every row. Held-out scores are then computed once, for the chosen
# $\lambda$; we also score the held-out points whose prefix is **new** (chapter 05's
# `probing.new_prefix_points`) — at this split about a third of them.
#
# > **Question.** Least squares gave the untrained concatenation a held-out $R^2$ of −0.939.
# > Predict: with a penalty chosen this way, does it stay below zero, rise to about zero, or
# > approach the trained concatenation?
# >
# > <details><summary>Answer</summary>
# >
# > It rises above zero, to 0.213, and stays far below the trained concatenation's 0.812. The
# > negative $R^2$ was interpolation, not a property of random features; once interpolation is
# > stopped, the same-size comparison shows what training added (0.60 of $R^2$).
# > </details>

# %%
ALPHAS = np.concatenate([[0.0], 10.0 ** np.arange(-3, 4)])
new20 = probing.new_prefix_points(rdata.inputs, train20, test20)
ridge = {}
for rep, net in cases:
    x = features(net, rep)
    lam = probing.ridge_alpha_by_grouped_cv(x, rdata.beliefs, train20, ALPHAS)
    ridge[rep, net] = (lam, probing.evaluate(x, rdata.beliefs, rdata.probs, train_fraction=0.2,
                                             seed=0, alpha=lam))
print(f"held-out, fit on 20 %: {new20.sum()} of {new20[test20].size} held-out points have a "
      "new prefix")


# %%
def r2_on(res, mask):
    """R² of a probe's predictions on the points of `mask`."""
    return probing.r2(rdata.beliefs[mask], res.predictions[mask])


scores = {(rep, net): {"OLS, all held out": ols[rep, net, 0.2].held_out.r2,
                       "ridge, all held out": ridge[rep, net][1].held_out.r2,
                       "OLS, new prefixes": r2_on(ols[rep, net, 0.2], new20),
                       "ridge, new prefixes": r2_on(ridge[rep, net][1], new20)}
          for rep, net in cases}
print(f"{'held-out R², fit on 20 %':33s} {'λ':>6s} "
      + " ".join(f"{k:>20s}" for k in scores[cases[0]]))
for rep, net in cases:
    print(f"{rep:22s} {net:10s} {ridge[rep, net][0]:6.3g} "
          + " ".join(f"{v:20.3f}" for v in scores[rep, net].values()))

# %%
fig, ax = plt.subplots(figsize=(10.5, 3.8))
grouped_bars(ax, list(scores[cases[0]]),
             {f"{rep}, {net}": list(scores[rep, net].values()) for rep, net in cases},
             "held-out R² (fit on 20 %)")
ax.set_title("RRXOR: least squares against ridge (λ by grouped cross-validation)", fontsize=10)
fig.tight_layout()
plt.show()

# %%
concat, final_layer = "all 12 residual hooks", "final layer"
gain = [scores[concat, "trained"][k] - scores[final_layer, "trained"][k]
        for k in ("ridge, all held out", "ridge, new prefixes")]
print(f"ridge, concatenation minus final layer (trained): {gain[0]:+.3f} on all held-out points, "
      f"{gain[1]:+.3f} on new prefixes")
trained_gain = (scores[concat, "trained"]["ridge, all held out"]
                - scores[concat, "untrained"]["ridge, all held out"])
print(f"ridge, concatenation, trained minus untrained: {trained_gain:+.3f} held out")

# %% [markdown]
# Regularised, the picture is consistent:
#
# * The trained concatenation now beats the final layer held out, even on the 20 % split
#   (0.812 against 0.732), and the untrained network's concatenation, regularised the same
#   way, reaches only 0.213: at the same 1,536 dimensions, training is worth 0.60 of R². Ridge
#   also rescues the untrained concatenation from −0.939 — the negative R² was interpolation,
#   not a property of random features.
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
# contrast (0.985 against 0.786) overstates the difference.
#
# A picture: the beliefs projected on their first two principal components (grey), and for
# each belief the average probe output of its points (red, joined to its true belief). Top:
# in-sample, least squares, trained and untrained. Bottom: ridge, fitted on 20 %, on the new
# prefixes only.

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
fig, axes = plt.subplots(2, 2, figsize=(9, 7.6))
for ax, (title, res, mask) in zip(axes.flat, panels):
    ids = np.unique(belief_id[mask])
    truth = pca2(uniq[ids])
    means = pca2(np.stack([res.predictions[mask & (belief_id == k)].mean(0) for k in ids]))
    ax.scatter(*pca2(uniq).T, c="0.85", s=30, zorder=1)
    for t_, m_ in zip(truth, means):
        ax.plot(*np.stack([t_, m_]).T, "-", color="C3", lw=0.8, alpha=0.7, zorder=2)
    ax.scatter(*means.T, c="C3", s=12, zorder=3)
    ax.set_title(f"{title}: R² {r2_on(res, mask):.3f}\n({len(ids)} beliefs, {mask.sum()} points)",
                 fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("RRXOR, all 12 residual hooks concatenated (1,536 features); PC1 against PC2",
             fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# The course draws PC1 against PC2 of the 35 beliefs that occur as targets. No two components
# stand out: the leading three carry similar shares of the variance, so any of their pairs is
# as fair a view as another.

# %%
with_prior = np.vstack([uniq, rrxor.stationary()])            # the 36 MSP beliefs
for label, b in [("35 target beliefs", uniq), ("36 beliefs with the prior", with_prior)]:
    variance = np.linalg.svd(b - b.mean(0), compute_uv=False) ** 2 / len(b)
    print(f"{label:26s} variance along PC1..PC4:", " ".join(f"{v:.3f}" for v in variance[:4]))

# %% [markdown]
# > **For readers of the paper.** The paper's Fig. 7C shows RRXOR's beliefs and the probe's
# > output in two principal components. The authors' `Figure7.ipynb` computes them over the 36
# > beliefs (prior included; variances 0.098, 0.086, 0.070 above) and plots **PC1 against
# > PC3**; the course plots PC1 against PC2. Either way it is a two-dimensional shadow of a
# > four-dimensional set.

# %% [markdown]
# ## 4. 36 beliefs, 11 predictions: what the last layer keeps
#
# Why should any layer *but* the last hold the belief better? Look at who reads what. The
# residual stream at position $p$ and layer $\ell$ is read by the later layers at position $p$
# *and*, through attention, by every later position. The final layer's stream at position $p$
# is read by nobody but the unembedding, which needs only the next-token distribution — for
# RRXOR 11 distinct values, not 36 beliefs. The belief is what later positions need (it fixes
# the whole future, chapter 02), so it has to be available in the layers that attention reads;
# at the very end, beliefs that predict the same next token may be merged. It is a hypothesis,
# and it can be tested.
#
# Split each belief into the part the next token reveals (the average belief of its next-token
# class) and the rest, the **within-class** part: what distinguishes beliefs that predict the
# same next token (`probing.futures.within_class`). If the network keeps a distinction only as
# long as something downstream needs it, the within-class part should fade towards the end. We
# probe each hook for three targets — the belief, the next-token distribution and the
# within-class part — held out, fitting on 80 % of the contexts, for the trained and the
# untrained network.
#
# > **Question.** Before the next cell: where do you expect the within-class part to be most
# > readable — in the middle layers, or at the end?
# >
# > <details><summary>Answer</summary>
# >
# > The hypothesis says the middle. Our model says the end: the within-class part is most
# > readable after the final LayerNorm (R² 0.64), and no earlier hook reads more of it. The
# > data do not show the last layer letting go of what the next token does not need.
# > </details>

# %%
within = futures.within_class(rdata.beliefs, classes)
targets = {"belief": rdata.beliefs, "next token": rdata.next_token_probs, "within-class": within}
r_hooks = ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_{part}" for l in range(4)
                                         for part in ("mid", "post")] + [after_ln]
r_labels = ["embed"] + [f"L{l} {part}" for l in range(4) for part in ("attn", "mlp")] + ["ln_final"]
r_results = {(net, name, hook): probing.evaluate(by_hook[net][hook], target, rdata.probs,
                                                 train_fraction=0.8, seed=0)
             for net in nets for hook in r_hooks for name, target in targets.items()}
r_scores = {key: res.held_out.r2 for key, res in r_results.items()}
print(f"{'held-out R²':23s}" + "".join(f"{lab:>9s}" for lab in r_labels))
for net in nets:
    for name in targets:
        print(f"{net + ', ' + name:23s}"
              + "".join(f"{r_scores[net, name, h]:9.3f}" for h in r_hooks))

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
ax.legend(frameon=False, fontsize=8, ncol=3, loc="lower right")
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
# ### Pooled or per-coordinate $R^2$?
#
# This is where the definition of $R^2$ matters. The within-class part is a 5-vector whose
# coordinates vary very unequally:

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
# fifths of the score and report 0.74. The pooled $R^2$ of chapter 05 weighs each coordinate by
# its variance: 0.64 of the within-class variance is readable at `ln_final`, 0.36 is not.
#
# So the hypothesis that the last layer lets go of distinctions the next token does not need is
# reasonable, but our model does not show it. It may need much longer training: compression of
# unneeded information is the kind of thing that happens late, if at all. Or the in-sample
# comparison may owe more to interpolation than to compression (sections 1–3). Which one is a
# question you can now test: retrain with
# `python -m beliefcourse train rrxor --tokens ... --out runs/rrxor-long` and run this section
# on the result.
#
# > **For readers of the paper.** The explanation tested here is the one an author gave for
# > Fig. 7 in the LessWrong discussion of the paper. The authors' published RRXOR checkpoint
# > was trained on 509 million tokens, about a hundred times ours.

# %% [markdown]
# ## 5. How far back does the first attention layer look?
#
# Back to Mess3 and its four-layer model of chapter 05. Piotrowski et al. (2025) — "paper (b)"
# from here on, Shai et al. (2024) being "paper (a)" — ask how
# attention — a weighted *sum* over positions — can compute a belief, which Bayes' rule builds
# by a *product* of matrices. Their answer for Mess3: let every past token update the prior on
# its own, let the hidden chain run on from there, and add the results. Since the chain's
# transition matrix is $T = \zeta I + (1-\zeta)\,\mathbf 1\pi$, with $\zeta = 1 - 3x$ for
# Mess3(x, α) (chapter 01), this *constrained* update is
#
# $$ \tilde\eta_p \;=\; \pi + \sum_{d=0}^{p} \zeta^{\,d}\, u_{x_{p+1-d}}, \qquad
#    u_{x} = \pi^{(x)} - \pi, $$
#
# where $x_1 x_2 \dots$ are the tokens, $\pi^{(x)}$ is the prior updated on the token $x$ alone
# and $d$ counts steps back from the current token. ($\mathbf 1\pi$ is the matrix whose rows
# are all $\pi$, i.e. $J/3$ in chapter 01's notation.) It is a sum of per-token vectors, like
# chapter 05's input-only probe, but with one common ratio $\zeta$. A softmax head computes
# such a sum if its weight on the key $d$ steps back falls like $\zeta^{d}$ and its OV circuit
# (the map from what a key position holds to what attention writes, $W_V W_O$; chapter 07
# studies it) maps token $x$ to (an affine image of) $u_x$. For our process, $\zeta = 0.85$:
# the attention logit should drop by $\ln 0.85 = -0.16$ per step.
#
# Ours is the course's retraining of paper (a)'s four-layer model at Mess3(0.05, 0.85), outside
# the one-layer setting and the parameter grid where paper (b) showed the mechanism; so this
# tests the prediction at, or beyond, the edge of its regime, and is not a replication
# (chapter 07 does that). We measure two things, each a probability-weighted mean over all
# 59,049 inputs: the layer-0 attention weight $a_{p,p-d}$ from query position $p$ to key
# $p - d$ (row $p$ of chapter 04's pattern), and the size of what that key actually writes
# into position $p$, $a_{p,p-d}\,\lVert v_{p-d} W_O
# \rVert$ — a small weight on a large value could still matter.
# `attention.attention_by_distance` computes both; we fit $\log(\cdot) = c + d \log r$ over
# $d = 1..5$, where the weights are above about 1 %.
#
# > **Question.** Exact Bayes is *not* a sum with one common ratio. Guess: does our model's
# > first-layer attention fall off more slowly than $\zeta^d$, about like it, or faster?
# >
# > <details><summary>Answer</summary>
# >
# > Faster: about 0.51 per step against 0.85, nearer to how fast the exact belief itself
# > forgets an old token (0.41). The cells below measure both.
# > </details>

# %%
mess3 = processes.mess3()
data = ExactData(mess3, n_ctx=10)
model, record = checkpoints.load("mess3")
zeta = 1 - 3 * record["process_params"]["x"]          # Mess3's second eigenvalue: 0.85
prof = attention.attention_by_distance(model, data.inputs, data.probs, layer=0)
last = data.n_ctx - 1                                 # the last query
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
# over inputs)? We measure it for our process and for one of paper (b)'s, Mess3(0.15, 0.6),
# where $\zeta = 0.55$.

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
ax.set_title("layer-0 attention from the last position", fontsize=10)
ax.legend(frameon=False, fontsize=8, loc="lower left")
ax = axes[1]
colors = plt.cm.viridis(np.linspace(0, 0.9, data.n_ctx))
for p in range(1, data.n_ctx):
    ax.semilogy(d[:p + 1], prof.attention[p, :p + 1], "o-", ms=3, color=colors[p],
                label=f"p = {p}")
ax.semilogy(d[1:], a[1] * zeta ** (d[1:] - 1), "k--", label="ζ$^d$")
ax.set_xlabel("distance d back from query position p (key p − d)")
ax.set_ylabel("mean attention weight")
ax.set_title("every query position", fontsize=10)
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
#   two, much nearer the belief's own memory. In paper (b)'s Mess3(0.15, 0.6) the same
#   yardstick gives 0.47 against $\zeta = 0.55$, a far smaller gap.
# * **Four layers, not one.** Later layers can correct what the first does, so layer 0 need
#   not be the one-layer solution.
# * **Training.** Ours is a short AdamW run with a cosine schedule (printed above); where
#   several solutions predict equally well, which one training finds can depend on it.
# * **What is compared.** We compare raw softmax weights; a position-dependent normalisation
#   (the weights must sum to 1) rescales a row but does not change its slope in $d$.
#
# **How far this goes.** One model, one seed, four layers, at a point outside the grid on which
# paper (b) made its claim: a mismatch here does not contradict the paper. Chapter 07
# ([`07_constrained_belief_updates.ipynb`](07_constrained_belief_updates.ipynb)) tests the
# mechanism where it was proposed — one-layer models across the grid, their attention decay
# per head against $|\zeta|^d$ and against the rate whose constrained update fits the belief
# best, and the OV vectors and `resid_mid` geometry this single number cannot show. It also
# trains one-layer models at this very point, Mess3(0.05, 0.85), which settles the "four
# layers" hypothesis: their attention, too, decays far faster than $\zeta$, near the
# best-fitting rate.
#
# > **For readers of the paper.** The models in paper (b)'s public notebook have one layer and
# > were trained on Mess3(x, α) with x ∈ {0.15, 0.5}, α ∈ {0.2, 0.6}; paper (b)'s optimiser and
# > training length are not given in the parts we could check. Its OV-vector and `resid_mid`
# > decompositions are reproduced in chapter 07.

# %% [markdown]
# ## 6. The readers' questions
#
# When the paper appeared, readers of Hacker News asked two questions that chapters 05 and 05b
# can now answer in part.
#
# **"Can linear regression find structure that is not there?"** Not *any* structure: the
# shuffle control shows that a 195-parameter probe fitted to unrelated targets finds nothing
# (R² ≈ 0). But a probe can find structure that is there *for reasons other than the claim*:
# beliefs are functions of the tokens, and any rich function of the tokens — an untrained
# network, a one-hot history — supports an affine read-out with R² 0.85–0.95. The claim that
# survives the controls is quantitative: the trained network's residual stream is ~80× closer
# to the belief (in MSE) than an untrained one, and 26–30× closer than the affine functions
# of the input history we tried, held out. A probe can draw a triangle of triangles from
# features that know nothing about beliefs (chapter 05's input-only picture), so the shape of
# a picture is never the evidence; the error against the true beliefs is. Where features
# outnumber distinct inputs (section 1), a probe *can* fit structure that is not there — an
# untrained network's concatenation scores R² 0.89 in-sample — which is why it must be judged
# held out, on new inputs, with a penalty chosen without the test set, and against a same-size
# random network. A commenter also worried that a probe might "discover" two states the
# network had merged. Section 4 shows how to look: split the belief into what the next token
# reveals and the rest, and ask where the rest is readable, held out.
#
# **"Is this specific to transformers?"** Nothing in the theory is. A *recurrent* predictor
# that is optimal at every step must carry in its state a sufficient statistic of the past for
# the whole future, and that is the belief (up to beliefs that predict identically; chapter
# 02). A transformer recomputes everything from the context at every position, so strictly its
# last layer only needs the next-token distribution; that it carries the belief anyway is what
# makes the finding interesting. Chapter 06
# ([`06_beyond_the_next_token.ipynb`](06_beyond_the_next_token.ipynb)) trains recurrent
# networks on the same data and runs these probes and controls on their hidden states.

# %% [markdown]
# ## Summary: what the evidence allows us to claim
#
# * **More features than inputs (section 1).** RRXOR has 1,046 distinct prefixes; all 12
#   residual hooks give 1,536 features (1,152 distinct). On a 20 % fit set their affine rank
#   equals the number of distinct prefixes, so least squares can fit any targets there. An
#   in-sample score of such a probe is no evidence.
# * **In-sample against held out (section 2).** The in-sample contrast (all hooks 0.985
#   against the final layer's 0.786) reproduces, but the untrained network's concatenation
#   scores 0.889 in-sample too. Held out with a 20 % fit, least squares interpolates and the
#   concatenation falls below the final layer.
# * **Ridge, chosen blind (section 3).** With a penalty chosen by cross-validation grouped by
#   sequence, the trained network beats the untrained one at the same dimension everywhere, and
#   the concatenation beats the final layer held out (0.81 against 0.73); on genuinely new
#   prefixes the two are about level. We may claim the trained network represents much of
#   RRXOR's belief; not that the layers together hold clearly more of it than the last.
# * **What the last layer keeps (section 4).** The within-class part of the belief is most
#   readable at the end (pooled R² 0.64; averaging per-coordinate R² would say 0.74, which is
#   why the course has one definition). The hypothesis that the last layer drops what the next
#   token does not need is not visible in our model.
# * **The first layer (section 5).** Paper (b) predicts that the first layer's attention decays
#   like $\zeta^d$, $\zeta = 0.85$. Ours decays by about 0.51 per step — closer to how fast the
#   exact belief forgets an old token (0.41). One four-layer model at one point outside paper
#   (b)'s grid does not test the paper's claim; chapter 07 does, across the grid.
#
# **Practice.** `exercises/05_probing.ipynb`, exercise 5.6: a ridge penalty chosen by grouped
# cross-validation.
#
# **Next:**
#
# * [`06_beyond_the_next_token.ipynb`](06_beyond_the_next_token.ipynb) — do the beliefs carry
#   the whole future, does the network use them (steering), and do recurrent networks show the
#   same geometry?
# * [`07_constrained_belief_updates.ipynb`](07_constrained_belief_updates.ipynb) — what the
#   first attention layer computes: paper (b)'s constrained update, tested across the grid.
#
# ### References
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers,
#   *Transformers Represent Belief State Geometry in their Residual Stream*, NeurIPS 2024
#   (arXiv:2405.15943); figure notebook `Figure7.ipynb` in `adamimos/epsilon-transformers`
#   (branch `lucas/neurips-submission`).
# * M. Piotrowski, P. M. Riechers, D. Filan, A. S. Shai, *Constrained Belief Updates Explain
#   Geometric Structures in Transformer Representations*, ICML 2025 (arXiv:2502.01954).
# * Hacker News discussion of the LessWrong post, item 40547514 (2024) — the readers'
#   questions of section 6.
