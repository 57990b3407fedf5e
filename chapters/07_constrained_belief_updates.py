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
# # 07 · Constrained belief updates: what one attention layer computes
#
# *Reading time ≈ 90 minutes; running time ≈ 20 seconds (measured, CPU on one thread).
# Prerequisites: chapter 02 (Bayes' rule on beliefs), chapter 03 (the belief fractal), chapters
# 05 and 05b (probes, the course's R², and 05b's first look at attention by distance);
# eigenvalues and eigenvectors.*
#
# Chapter 05 found the belief inside the residual stream. Piotrowski, Riechers, Filan and Shai
# (2025, "paper (b)") asked *how* a transformer builds it. Bayes' rule is a recurrence — a
# product of matrices, one per token — but attention can only form a weighted **sum** over
# positions. Their answer: the first attention layer performs a *constrained* update in which
# every past token updates the prior on its own, the updates decay with distance at a rate set
# by the spectrum of the hidden chain, and they are added up. Later layers (here: the MLP)
# close the gap to exact Bayes. From the transition matrix alone this predicts the attention
# pattern, the OV vectors, and even the number of heads. (A head's **OV circuit** is the part
# that decides *what* it writes: the attended position's stream multiplied by the value
# matrix $W_V$ and then the output matrix $W_O$. Its QK part, queries against keys, decides
# *where* to look. An OV vector is what the OV circuit writes for one token at one position.)
#
# You will derive the update in numpy, map where it is good and where it is not over all of
# Mess3(x, α)'s parameter square, and then test each prediction on one-layer transformers
# trained on the paper's own grid of parameters — including a test that tells two candidate
# decay rates apart.
#
# > **For readers of the paper.** Paper (b)'s quantitative figures were not readable in our
# > copy, so where this chapter compares numbers, it compares them with the authors' notebook
# > (their code), not with the paper's figures.
#
# **After this chapter you will be able to**
#
# 1. derive the constrained update from the spectral decomposition of $T$ and say what the
#    softmax normalisation changes;
# 2. compute, for any Mess3(x, α), how well it can explain the belief (R²), the decay rate
#    $\zeta$ the paper predicts and the rate $r^*$ that actually fits best;
# 3. predict the number of heads from the signs of the eigenvalues, and say why the ansatz has
#    nothing to offer for RRXOR;
# 4. extract a trained model's OV vectors, decompose its `resid_mid` exactly, and fit its
#    attention decay with an uncertainty;
# 5. decide, with a control, which rate a trained layer follows.
#
# Practice: `exercises/07_constrained_belief_updates.ipynb` (spectral projectors, the update,
# heads from the spectrum, OV vectors, the decay fit, the general update and RRXOR).

# %%
import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import checkpoints, constrained, grid, mechanism, plotting, processes
from beliefcourse.attention import attention_by_distance
from beliefcourse.beliefs import belief_trajectories
from beliefcourse.data import ExactData
from beliefcourse.model import build_model
from beliefcourse.train import PRESETS, train

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. A product, and a sum
#
# Write $x_1 x_2 \dots$ for the tokens, as in every chapter (paper (b) writes them $z$). The exact
# belief after $d$ tokens is a normalised product (chapter 02),
#
# $$ \eta_d = \frac{\pi\, T^{(x_1)} \cdots T^{(x_d)}}{\pi\, T^{(x_1)} \cdots T^{(x_d)} \mathbf 1} . $$
#
# An attention head at position $d$ outputs $\sum_{s \le d} a_{ds}\, v(x_s)$: a weighted sum of
# something each key computes *from its own token alone*. So let each token act alone. Token
# $x_s$, seen from the prior, gives the one-step posterior
# $\pi^{(x)} = \pi T^{(x)} / (\pi T^{(x)} \mathbf 1)$; its news is the deviation
# $u_x = \pi^{(x)} - \pi$ (a row vector summing to 0). With no further observations the hidden
# chain carries that deviation forward by the net matrix $T = \sum_x T^{(x)}$: after $d - s$
# steps it is $u_{x_s} T^{d-s}$. Adding every token's carried-forward news gives the
# **constrained update**
#
# $$ r_d = \pi + \sum_{s=1}^{d} u_{x_s}\, T^{\,d-s} . $$
#
# **Spectral form.** If $T$ is diagonalisable, $T = \sum_k \lambda_k P_k$ with projectors
# $P_k = r_k l_k$ (right eigenvector times left eigenvector, $l_k r_k = 1$), so
# $T^n = \sum_k \lambda_k^n P_k$. The eigenvalue $\lambda_1 = 1$ has $P_1 = \mathbf 1 \pi$, and
# $u_x \mathbf 1 \pi = 0$ because $u_x$ sums to zero. Hence
#
# $$ r_d = \pi + \sum_{k \ge 2} \sum_{s=1}^{d} \lambda_k^{\,d-s}\, u_{x_s} P_k : $$
#
# one geometric decay per eigenvalue, each with its own output direction $u_x P_k$.
# For Mess3(x, α), $T = \zeta I + (1 - \zeta)\mathbf 1\pi$ with ζ = 1 − 3x (a double eigenvalue,
# $P_2 = I - \mathbf 1\pi$), so $u_x P_2 = u_x$ and
#
# $$ r_d = \pi + \sum_{s=1}^{d} \zeta^{\,d-s}\, u_{x_s}, \qquad
#    u_A = \frac{3\alpha - 1}{6}\,(2, -1, -1) . $$
#
# That is what one head can compute: attention $a_{ds} \propto \zeta^{d-s}$ and an OV circuit
# that writes (an affine image of) $u_{x_s}$. Three consequences: the OV images of A, B, C are
# 120° apart (they are $u_A, u_B, u_C$); they point towards their own vertex if $\alpha > 1/3$
# and away from it if $\alpha < 1/3$; and for Mess3(x, α) with x > 1/3, $\zeta < 0$: the weights alternate in
# sign — a softmax head cannot do that alone (section 4).
#
# **The normalisation.** Softmax weights sum to 1, so one head outputs
# $\sum_s \zeta^{d-s} u_{x_s} / N_d$ with $N_d = \sum_{k<d} |\zeta|^k$: the same sum, scaled by
# a factor that depends on the position. We carry both versions (`normalise=True`).
#
# `beliefcourse.constrained` implements all of this; first the pieces at paper (b)'s grid point
# Mess3(0.15, 0.6).

# %%
hmm = processes.mess3(0.15, 0.6)
spec = constrained.spectrum(hmm)
u = constrained.token_updates(hmm)
print("eigenvalues of T:", spec.eigenvalues.real.round(4) + 0, " multiplicities:", spec.multiplicities)
print("P_1 = 1π:", np.allclose(spec.projectors[0].real, np.full((3, 3), 1 / 3)),
      "  P_2 = I − 1π:", np.allclose(spec.projectors[1].real, np.eye(3) - 1 / 3))
print("u_A =", u[0].round(4), "  (3α − 1)/6 · (2, −1, −1) =",
      ((3 * 0.6 - 1) / 6 * np.array([2, -1, -1])).round(4))

tokens = np.array([0, 1, 1, 2, 0, 0, 2, 1])
r = constrained.constrained_update(hmm, tokens, rate=1 - 3 * 0.15)
eta = belief_trajectories(hmm, tokens)[0, 1:]
print("general T^(d−s) form equals the ζ form:",
      np.allclose(constrained.constrained_update(hmm, tokens), r))
print("d  r_d                      η_d")
for d in range(len(tokens)):
    print(f"{d + 1}  {r[d].round(3)}   {eta[d].round(3)}")

# %% [markdown]
# At $d = 1$ the two agree exactly (one Bayes step from the prior). After that $r$ keeps
# accumulating evidence linearly, while Bayes saturates: a belief can never leave the simplex,
# but $r$ can.
#
# ## 2. Two fractals: a linear IFS beside a projective one
#
# Written as a recursion, $r_d - \pi = \zeta\,(r_{d-1} - \pi) + u_{x_d}$: three affine maps
# $v \mapsto \zeta v + u_x$, applied in the order of the tokens — a **linear** iterated function
# system (a chaos game) contracting by $|\zeta|$. Exact Bayes applies
# $\eta \mapsto \eta T^{(x)} / \eta T^{(x)} \mathbf 1$, a *projective* map. Both generate fractals;
# they are not the same fractal. Below, every word of length 9 at two points: the exact belief,
# and $r$ put into the simplex by the best affine map $r \to \eta$ (fitted over every position of
# every word; colours are the true belief).

# %%
fig, axes = plt.subplots(2, 2, figsize=(6.6, 5.6))
for row, (x, a) in enumerate([(0.15, 0.6), (0.05, 0.85)]):
    tree = constrained.prefix_tree(processes.mess3(x, a), 9)
    mapped, score = constrained.affine_fit(constrained.tree_update(tree, 1 - 3 * x),
                                           tree.beliefs, tree.words)
    last = tree.depth == 9
    colours = plotting.belief_colors(tree.beliefs[last])
    plotting.plot_simplex(tree.beliefs[last], ax=axes[row, 0], s=1, colors=colours)
    plotting.plot_simplex(mapped[last], ax=axes[row, 1], s=1, colors=colours)
    axes[row, 0].set_title(f"exact η, Mess3({x}, {a})", fontsize=10)
    axes[row, 1].set_title(f"affine image of r (ζ = {1 - 3 * x:.2f})\nR² = {score:.3f}",
                           fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# At $(0.15, 0.6)$ the linear fractal is a fair copy of the belief fractal; at paper (a)'s
# $(0.05, 0.85)$, where tokens are very informative and the chain is sticky, $r$ piles up
# evidence the belief would have saturated on, and the affine image is a poor copy.
#
# ## 3. How good is the constrained update, over the whole parameter square?
#
# **The measure.** For each process, R² of the best affine map from $r$ to $\eta$ over **every
# position of every length-10 word**, each counted once (the course's convention; the authors'
# notebook instead uses all $3^9$ length-9 inputs), with the R²
# of the course: $R^2 = 1 - \sum_i w_i \lVert \eta_i - \hat\eta_i \rVert^2 / \sum_i w_i
# \lVert \eta_i - \bar\eta_w \rVert^2$, pooled over the three coordinates. (`prefix_tree` holds
# the $3 + 9 + \dots + 3^{10}$ prefixes, weighted by how many length-10 words extend them.)
#
# **The rate.** The paper's rate is $\zeta$. But nothing forces a network to use exactly
# $\zeta$: **$r^*$** is the single rate whose update fits $\eta$ best (grid, then golden-section
# search over $[-0.99, 0.99]$, on words up to length 8 to stay fast), and $r^*_\text{norm}$ the same
# with the softmax normalisation. The R² columns are all at length 10, word-weighted as above and,
# for comparison with the trained models of section 7 (whose contexts are drawn by probability),
# probability-weighted.

# %%
points = [(0.15, 0.2), (0.15, 0.6), (0.5, 0.2), (0.5, 0.6), (0.05, 0.85), (0.25, 0.6)]
theory = {p: grid.theory(*p) for p in points}
r2_prob = {}                                   # (x, α) -> (R²(ζ), R²(r*)), probability-weighted
print("                                          R², L = 10: word-weighted | prob.-weighted")
print("(x, α)        ζ      r*      r*_norm   heads  3α−1     ζ      r*    |    ζ      r*")
for (x, a), t in theory.items():
    tree = constrained.prefix_tree(processes.mess3(x, a), 10)
    r2_star_w = constrained.update_r2(tree, t.rate_star)
    r2_prob[(x, a)] = (constrained.update_r2(tree, t.zeta, weighting="prob"),
                       constrained.update_r2(tree, t.rate_star, weighting="prob"))
    print(f"({x:.2f}, {a:.2f})  {t.zeta:+.3f}  {t.rate_star:+.3f}  {t.rate_star_norm:+.3f}    "
          f"{t.heads}    {3 * a - 1:+.1f}    {t.r2_zeta:.3f}  {r2_star_w:.3f}  |  "
          f"{r2_prob[(x, a)][0]:.3f}  {r2_prob[(x, a)][1]:.3f}")
t_a = theory[(0.05, 0.85)]
print(f"at (0.05, 0.85): ζ / r* = {t_a.zeta / t_a.rate_star:.2f};  largest |r* − ζ| at the "
      f"grid points (0.15, 0.2)…(0.5, 0.6): "
      f"{max(abs(theory[p].rate_star - theory[p].zeta) for p in points[:4]):.3f}")

# %% [markdown]
# The chapter's own code derives these values: under word weighting R² = 0.734 at (0.05, 0.85),
# 0.977 at (0.15, 0.6) and 0.964 at (0.5, 0.6); weighting each prefix by its probability gives a
# higher value at (0.05, 0.85) (0.787 instead of 0.734). Two things stand out. At paper (b)'s grid $r^*$ sits close to $\zeta$ (within 0.09),
# so the grid alone cannot tell whether a trained model follows $\zeta$ or $r^*$. At
# paper (a)'s point they differ by a factor 1.6: $\zeta = 0.85$, $r^* \approx 0.53$ — and
# chapter 05b found the first layer of the course's 4-layer model (paper (a)'s architecture,
# retrained by the course) decaying much faster than $\zeta$. That is the test of section 9.
#
# **$r^*$ is a band, not a number.** "The rate that fits best" depends on what "best" means:
# which points count (every position of every word once, or by probability), whether the
# softmax normalisation is applied, and whether one affine map serves every position or each
# position gets its own (a per-position map absorbs any per-position scale, so with it the
# normalisation changes nothing). At (0.05, 0.85), with words up to length 10:
#
# %%
tree_a = constrained.prefix_tree(processes.mess3(0.05, 0.85), 10)
band = {}
print("r* at (0.05, 0.85), L = 10        word-weighted   prob.-weighted")
for label, kw in [("one affine map", {}), ("softmax-normalised", {"normalise": True}),
                  ("an affine map per position", {"per_position": True})]:
    band[label] = [constrained.best_rate(tree_a, weighting=w, bounds=(0.3, 0.7), n_grid=9,
                                         n_refine=12, **kw).rate for w in ("words", "prob")]
    print(f"{label:30s}   {band[label][0]:.3f}           {band[label][1]:.3f}")
lo_band, hi_band = min(map(min, band.values())), max(map(max, band.values()))
print(f"band: {lo_band:.2f}–{hi_band:.2f};  ζ = 0.85 is {0.85 / hi_band:.2f}–"
      f"{0.85 / lo_band:.2f} times as large")

# %% [markdown]
# Every convention puts $r^*$ between 0.47 and 0.54, far from $\zeta = 0.85$. So section 9 can
# test $\zeta$ against the band, not one member of the band against another. Elsewhere the chapter
# quotes the word-weighted, single-map $r^*$ (the `r*` column).
#
# Now the whole square, on a coarser grid and with words up to length 6 to stay fast (the
# maps are for the shape, the table above for the numbers; the cell prints the extremes it
# quotes).

# %%
xs = np.linspace(0.03, 0.5, 9)
alphas = np.linspace(0.05, 0.95, 9)
maps = constrained.mess3_maps(xs, alphas, L=6)
fig, axes = plt.subplots(2, 2, figsize=(9, 5.9))
panels = [("R² of r (rate ζ) → η", maps.r2_zeta, "viridis"),
          ("r*, the best single rate", maps.rate_star, "coolwarm"),
          ("|r* − ζ|", np.abs(maps.rate_star - maps.zeta), "magma"),
          ("R² of r (rate r*) → η", maps.r2_star, "viridis")]
for ax, (title, values, cmap) in zip(axes.flat, panels):
    im = ax.pcolormesh(xs, alphas, values, cmap=cmap, shading="nearest")
    fig.colorbar(im, ax=ax)
    ax.axvline(1 / 3, color="w", ls="--", lw=1)
    ax.axhline(1 / 3, color="w", ls=":", lw=1)
    ax.plot([0.05, 0.15, 0.15, 0.5, 0.5], [0.85, 0.2, 0.6, 0.2, 0.6], "+", ms=8,
            color="w" if cmap == "magma" else "k")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x  (dashed: x = 1/3, ζ < 0 to the right)", fontsize=9)
    ax.set_ylabel("α  (dotted: α = 1/3)", fontsize=9)
fig.tight_layout()
plt.show()
worst = np.unravel_index(np.nanargmin(maps.r2_zeta), maps.r2_zeta.shape)
print(f"lowest R²(ζ) on this grid: {np.nanmin(maps.r2_zeta):.3f} at x = {xs[worst[1]]:.3f}, "
      f"α = {alphas[worst[0]]:.3f};  largest |r* − ζ|: "
      f"{np.nanmax(np.abs(maps.rate_star - maps.zeta)):.2f}")
print("|r*| <= |ζ| at every point:", bool(np.all(np.abs(maps.rate_star) <= np.abs(maps.zeta) + 1e-3)),
      "  sign(r*) = sign(ζ) at every point:", bool(np.all(np.sign(maps.rate_star) == np.sign(maps.zeta))))

# %% [markdown]
# Reading the maps: the constrained update is good (R² near 1) wherever either the chain
# forgets fast (x near 1/3, $|\zeta|$ small) or tokens say little (α near 1/3); it is
# poor in the corner of sticky chains and sharp tokens — small x, α far from 1/3 —
# where paper (a) chose its process (lowest R² on this grid 0.64, at x = 0.03, α = 0.95).
# The best rate $r^*$ is never larger in magnitude than $\zeta$ on this grid, and much smaller in
# that corner (by up to 0.56): forgetting faster than the chain does is the linear
# update's way of imitating Bayes' saturation. The sign of $r^*$ follows the sign of $\zeta$
# (the dashed line), and the orientation of $u_x$ flips at the dotted line. The crosses
# are the points we train on.
#
# ## 4. Heads from the spectrum, and where the ansatz has nothing to say
#
# A softmax head's weights are positive. An eigenvalue $\lambda > 0$ asks for weights
# $\lambda^{d-s}$: one head. An eigenvalue $\lambda < 0$ asks for $|\lambda|^{d-s}$ with sign
# $(-1)^{d-s}$: **two** heads, one on even and one on odd distances, writing opposite OV
# vectors. The eigenvalue 0 acts only at distance 0 (the current token, already in the
# residual stream). A complex eigenvalue asks for weights that *oscillate* — no positive
# pattern makes that. `constrained.heads_needed` reads this off the spectrum. At x = 1/3
# ($\zeta = 0$) the chain forgets everything in one step: only the current token matters, so
# no head is needed — it prints 0.

# %%
for (x, a) in [(0.15, 0.6), (0.5, 0.6), (1 / 3, 0.6)]:
    z = constrained.zeta(processes.mess3(x, a))
    z_text = f"{z:+.3f}" if abs(z) > 1e-12 else "0 (|ζ| below 1e-12)"
    print(f"Mess3({x:.3f}, {a}): ζ = {z_text} → "
          f"{constrained.heads_needed(processes.mess3(x, a))} head(s)")
rrxor = processes.rrxor()
rspec = constrained.spectrum(rrxor)
def complex_text(z):
    """``z`` to 3 decimals, with no signed zero: 1, 0, -0.5+0.866i."""
    re, im = (round(float(v), 3) + 0.0 for v in (z.real, z.imag))
    return f"{re:g}" if im == 0 else f"{re:g}{im:+g}i"


print("RRXOR eigenvalues:", ", ".join(complex_text(z) for z in rspec.eigenvalues), " moduli:",
      np.abs(rspec.eigenvalues).round(3), " multiplicities:", rspec.multiplicities)
try:
    constrained.heads_needed(rrxor)
except ValueError as err:
    print("RRXOR:", str(err)[:95], "...")
rtree = constrained.prefix_tree(rrxor, 10)
print(f"RRXOR R²(r → η), general T^(d−s) update, all positions of all length-10 words: "
      f"{constrained.update_r2(rtree, None):.3f}")

# %% [markdown]
# RRXOR's hidden chain is a 3-cycle (S → bit → bit → S), so $T$ has eigenvalues
# $e^{\pm 2\pi i/3}$ of modulus 1 besides 1 and a double 0: a token's news never decays, it
# rotates with the phase of the cycle. Worse, the belief depends on the *XOR* of two tokens,
# which no sum of separate per-token updates can express — the R² above says how little of the
# belief the general update (with the exact $T^{d-s}$, not even a single rate) explains.
# Exercise 7.6 builds this update yourself.
#
# ## 5. Explore
#
# Slide x and α: the exact belief fractal, the affine image of $r$, the attention the
# ansatz predicts (hollow points: negative weights, a second head), and the numbers of
# sections 3–4 at that point (words up to length 7).

# %% tags=["nbval-ignore-output"]
from beliefcourse.widgets.constrained import constrained_update_explorer

constrained_update_explorer(0.15, 0.6)

# %% [markdown]
# ## 6. The trained grid
#
# We trained one-layer transformers — one attention layer and an MLP, paper (b)'s
# architecture, narrowed to `d_model` 32 (heads of 16, MLP 128) so that the whole grid trains
# on a laptop CPU — on Mess3 at the paper's four points, with one and with two heads, two seeds
# each; plus one head at paper (a)'s point (0.05, 0.85) for the test of section 9, and at
# (0.25, 0.6) ($\zeta = 0.25$) as a negative control, two seeds each. AdamW, learning rate 3e-3, batch 256,
# exact next-token distributions as targets, a cosine schedule: 5.1 M tokens, or 25.6 M for two
# heads at x = 0.5, which need longer to split even and odd distances (the presets
# `grid-x{100x}-a{100α}-h{heads}` in `beliefcourse.train`). One command retrains all of them
# (finished models are skipped, so it can be interrupted and run again; `--jobs` trains several
# at once, `--scheduler` sends them to a Dask cluster; README, "Sweeps"):
#
# ```
# python -m beliefcourse.grid train --jobs 2 --out runs/grid
# python -m beliefcourse.grid train grid-x50-a60-h2 --seeds 0-7     # one preset, eight seeds
# ```
#
# The shipped final checkpoints and their records:

# %%
names = grid.grid_names()
print(f"{len(names)} shipped grid models")
print("model                 relative loss   tokens      minutes to train")
for name in names:
    rec = checkpoints.record(name)
    print(f"{name:21s} {rec['relative_loss']:.6f}      {rec['tokens_seen'] / 1e6:5.1f} M   "
          f"{rec['wall_seconds'] / 60:5.1f}")
print("x = 0.5 at the same budget, 5.12 M tokens (the two-head runs mid-schedule):")
for point in ["x50-a20", "x50-a60"]:
    for seed in (0, 1):
        losses = []
        for heads in (1, 2):
            hist = checkpoints.record(f"grid-{point}-h{heads}-s{seed}")["history"]
            losses.append(hist["relative_loss"][hist["tokens"].index(5_120_000)])
        print(f"  {point} seed {seed}: one head {losses[0]:.6f}   two heads {losses[1]:.6f}"
              f"   excess-loss ratio {(losses[0] - 1) / (losses[1] - 1):.1f}")
print("x = 0.15 (ζ > 0, one head suffices), both trained on 5.12 M tokens:")
for point in ["x15-a20", "x15-a60"]:
    for seed in (0, 1):
        rel = [checkpoints.record(f"grid-{point}-h{heads}-s{seed}")["relative_loss"]
               for heads in (1, 2)]
        print(f"  {point} seed {seed}: one head {rel[0]:.6f}   two heads {rel[1]:.6f}"
              f"   excess-loss ratio {(rel[0] - 1) / (rel[1] - 1):.2f}")

# %% [markdown]
# (Training times are wall-clock minutes on a 2-core machine shared with other jobs; the CPU
# time was a fraction of that.) All models meet the course's bar of relative loss ≤ 1.001.
# Two groups stay visibly above the rest: at (0.05, 0.85), where section 3 found the
# constrained update weakest, and the **one-head** models at x = 0.5, where $\zeta < 0$ asks
# for two heads. Their two-head siblings trained five times longer, so the final losses are not a
# fair comparison; at the same 5.12 M tokens (second table; the two-head runs were then still
# mid-schedule, at a higher learning rate, which favours the one-head runs) the two-head models
# are already 4–6.5 times closer to the optimum in excess loss — consistent with the prediction.
# The control is the same comparison where the spectrum asks for one head (x = 0.15,
# $\zeta > 0$; third table, equal budgets): there the ratio is 0.9–2.6, so a second head is
# worth at most a factor of about 2.6 when it is not needed, against 4–6.5 at x = 0.5. Two seeds
# per cell make this a hint, not a measurement of the factor.
#
# The loss says little else about the mechanism; a short live run shows why.
#
# **Loss is not a convergence test.** The cell trains the (0.15, 0.6) one-head recipe for only
# 200 steps (0.5 M tokens) and compares its attention from the last position with the shipped
# model's.

# %% tags=["nbval-ignore-output"]
short = train(PRESETS["grid-x15-a60-h1"].replace(n_tokens=512_000, eval_every=0),
              progress=False)

# %%
data15 = ExactData(hmm, 10)
shipped, _ = checkpoints.load("grid-x15-a60-h1-s0")
print(f"relative loss after 200 steps: {short.history[-1]['relative_loss']:.4f}")
for label, m in [("200 steps", short.model), ("shipped (2,000 steps)", shipped)]:
    att = attention_by_distance(m, data15.inputs, data15.probs).attention[-1]
    print(f"{label:22s} attention at d = 0..5: {att[:6].round(2)}")

# %% [markdown]
# After 200 steps the loss is already close to optimal but the attention has not yet found its
# geometric shape. Judge the mechanism by attention and OV structure, not by the loss.
#
# ## 7. Each model against the theory
#
# For every model, `grid.analyse_shipped` measures, on 1,500 contexts drawn by probability
# (fixed seed; a context drawn twice is kept once with weight 2, so the fit and held-out sets
# below never share a context):
#
# * **attention by distance** from each query $p \ge 5$ to distances $d = 1..5$ (the current
#   token, $d = 0$, is left out: it is already in the residual stream), and the **fitted rate**
#   $\hat\gamma$ of $\log a_{pd} = c_p + d \log \hat\gamma$ with a 95 % interval ($\hat\gamma$,
#   not $r$: $r$ is the update vector, $r^*$ the best rate of section 3). A head whose odd share
#   (next item) is above 0.75 (below 0.25) is fitted on odd (even) distances only, and its rate
#   is still per single step;
# * the **odd share**: at each query $p$, the share of its attention on odd distances among
#   $d \ge 1$ (the current token, $d = 0$, is neither), averaged over the queries $p \ge 4$, with
#   its range over those queries. A head decaying geometrically at rate $\gamma$ has an odd
#   share near $1/(1 + \gamma)$ (about 2/3 at the rates fitted here); a head that attends only odd distances has
#   1, only even ones 0. Two heads **split by parity** when one has an odd share ≥ 0.75 and the
#   other ≤ 0.25 ("at every query" if that holds at each query $p \ge 4$, not only on average);
# * which candidate — $|\zeta|$, $|r^*|$, $|r^*_\text{norm}|$ — is **closest** in log ratio;
# * the **OV symmetry**: the mean over token pairs and positions of |angle − 120°| between the
#   token-centred OV vectors (0 predicted; the *mean* angle of three centred vectors is always
#   120°, so only the deviation says anything), in the residual stream and after reading the
#   vectors into belief space with the probe below; and the **OV orientation**: the centred OV vector of token $x$,
#   read into belief space by the linear part of a probe `resid_mid` → η, against the direction
#   to $x$'s vertex (cosine; the theory predicts the sign of $3\alpha - 1$ for a head on even
#   distances and the opposite sign for a head on odd distances when $\zeta < 0$);
# * the **decomposition** of `resid_mid` into embedding + Σ attention × OV + $b_O$ (largest
#   error, printed as a bound: it is floating-point rounding);
# * **variance in 3 PCs** of `resid_mid`, as it is and after subtracting each position's mean
#   over contexts (which removes the position embedding's share);
# * **held-out** R² (fit on 20 % of the contexts, scored on the other 80 %) of affine maps
#   `resid_mid` → $r$ (rate $\zeta$), `resid_mid` → $r$ (rate $r^*$), `resid_mid` → η and
#   `ln_final` → η, beside the analytic R²($r \to \eta$) of section 3 under the same
#   (probability) weighting, for both rates. Fits and scores weight each context by its count.

# %%
reports = [grid.analyse_shipped(name, n_sequences=1500) for name in names]


def fmt(column, value):
    """One table cell: fixed decimals per kind of column (strings are already formatted)."""
    if isinstance(value, str):
        return value
    if column == "rel. loss":
        return f"{value:.6f}"
    if column == "decomp. err":
        return f"{value:.1e}"
    if column in ("zeta", "r*", "3α−1"):
        return f"{value:+.2f}"
    if "angle" in column:
        return f"{value:.1f}"
    return f"{value:.3f}"


columns = ["rel. loss", "zeta", "r*", "fitted rate", "odd share", "odd share range", "parity",
           "closest", "OV |angle−120°|", "OV |angle−120°| (belief)", "OV orient.", "3α−1"]
print(f"{'model':21s} " + " | ".join(columns))
for rep in reports:
    row = rep.row()
    print(f"{rep.name:21s} " + " | ".join(fmt(c, row[c]) for c in columns))

# %%
columns = ["decomp. err", "PC3 var", "PC3 var (pos.-centred)", "R² mid→r", "R² mid→r*",
           "R² mid→η", "R² post→η"]
print(f"{'model':21s} " + " | ".join(columns) + " | theory R² r→η, prob.-weighted: ζ, r*")
for rep in reports:
    row = rep.row()
    point = (rep.theory.x, rep.theory.alpha)
    print(f"{rep.name:21s} " + " | ".join(fmt(c, row[c]) for c in columns)
          + f" | {r2_prob[point][0]:.3f}, {r2_prob[point][1]:.3f}")
col = {c: np.array([rep.row()[c] for rep in reports]) for c in columns[1:]}
print(f"R² mid→r range {col['R² mid→r'].min():.3f}–{col['R² mid→r'].max():.3f};  "
      f"R² mid→r* range {col['R² mid→r*'].min():.3f}–{col['R² mid→r*'].max():.3f};  "
      f"mid→r* > mid→r in {int(np.sum(col['R² mid→r*'] > col['R² mid→r']))} "
      f"of {len(reports)};  mid→r* > mid→η in {int(np.sum(col['R² mid→r*'] > col['R² mid→η']))}"
      f" of {len(reports)}")
print("decomposition error in every model:", sorted({rep.row()["decomp. err"] for rep in reports}))
for label, keep in [("x = 0.15 and (0.05, 0.85)", lambda n: "x15" in n or "x05" in n),
                    ("x = 0.5", lambda n: "x50" in n)]:
    sel = np.array([keep(rep.name) for rep in reports])
    pc = col["PC3 var (pos.-centred)"][sel]
    print(f"PC3 var (pos.-centred), {label}: {pc.min():.3f}–{pc.max():.3f}")
post = {rep.name: rep.row()["R² post→η"] for rep in reports}
print("R² post→η below 0.99:", {n: round(v, 3) for n, v in post.items() if v < 0.99})

# %% [markdown]
# **How often do two heads split by parity?** Two seeds per point cannot say. The package ships
# the records (measurements only, no weights) of six more seeds of each two-head model at
# x = 0.5, trained with the same recipe by `python -m beliefcourse.grid train grid-x50-a60-h2
# grid-x50-a20-h2 --seeds 2-7` and measured exactly as above; the cell reads all eight seeds at
# each point and gives each rate a 95 % Clopper–Pearson interval.

# %%
from scipy.stats import binomtest

split_labels = {}
for preset in ["grid-x50-a60-h2", "grid-x50-a20-h2"]:
    recs = grid.seed_records(preset)
    print(f"{preset}: odd share per head, mean over queries ≥ 4 [range]   OV orient.   parity")
    opposite, odd_heads, odd_predicted = 0, 0, 0
    for name, rec in recs.items():
        m = rec["mechanism"]
        shares = [float(v) for v in m["odd share"].split(" / ")]
        orient = [float(v) for v in m["OV orient."].split(" / ")]
        heads_text = "   ".join(f"{a:.2f} [{b}]" for a, b in zip(shares,
                                                               m["odd share range"].split(" / ")))
        opposite += orient[0] * orient[1] < 0
        for share, cos in zip(shares, orient):
            if share >= 0.75:                  # an odd head: predicted OV sign -sign(3α − 1)
                odd_heads += 1
                odd_predicted += int(np.sign(cos) == -np.sign(m["3α−1"]))
        print(f"  seed {grid.parse_name(name)['seed']}:  {heads_text:36s} {m['OV orient.']:13s}"
              f" {m['parity']}")
    print(f"  the two heads' OV orientations have opposite signs in {opposite} of {len(recs)};"
          f" odd heads with the predicted OV sign: {odd_predicted} of {odd_heads}")
    split_labels[preset] = [rec["mechanism"]["parity"] for rec in recs.values()]


def rate(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return f"{k} of {n} ({ci.low:.2f}–{ci.high:.2f})"


print("odd share a plain geometric decay at the fitted rate would give, 1 / (1 + rate):",
      {rep.name: round(1 / (1 + rep.heads[0].fit.rate), 2) for rep in reports
       if rep.name.startswith("grid-x50-a60-h1")})
every = dict(split_labels)
every["both points"] = sum(split_labels.values(), [])
print("\n                  split (on average)       split at every query ≥ 4   an odd head")
for p, labels in every.items():
    n = len(labels)
    k_split = sum(lab.startswith("split") for lab in labels)
    k_every = labels.count("split at every query")
    k_odd = sum(lab.startswith("split") or lab == "odd head only" for lab in labels)
    print(f"{p:17s} {rate(k_split, n):24s} {rate(k_every, n):26s} {rate(k_odd, n)}")

# %% [markdown]
# **What the counts say.** The split the spectrum asks for appears only in half. At
# (0.5, 0.6), seven of eight seeds grow an **odd head** (odd share ≥ 0.75), every one with the
# predicted OV sign (opposite to $3\alpha - 1$), and in all eight the two heads' OV
# orientations have opposite signs. But the other head is never a clean **even** head: a split
# (one head ≥ 0.75, the other ≤ 0.25, averaged over queries ≥ 4) appears in 0 of 8 seeds, with
# a 95 % interval of 0–0.37 for its rate; beside an odd head, the other head attends broadly
# (odd share 0.29–0.47) and carries the other sign. At (0.5, 0.2), where tokens carry little evidence, an
# odd head appears in 4 of 8 seeds (interval 0.16–0.84) and the split again in none. Over both
# points: 0 of 16, so the rate of a clean split with this recipe is at most about 0.2 (95 %).
# One recipe was used for every seed (learning rate 3e-3, `d_model` 32, exact next-token
# targets, 25.6 M tokens); whether a longer or different recipe splits more often is open —
# it would have to be shown on the same seeds, not by picking the recipe that splits.
#
# **Reading the tables.** Decay rates first (the test is section 9). Where tokens are informative
# ($\alpha = 0.6$, 0.85) and $|\zeta| \ge 0.5$, the one-head models' attention falls geometrically
# with distance at a rate within 20 % of $r^*$ or $|\zeta|$ (0.48–0.58), and at (0.05, 0.85) it
# sits in the band of $r^*$ (section 3). Where tokens say little ($\alpha = 0.2$) and where the chain forgets fast
# ($\zeta = 0.25$) the attention is much flatter than either rate predicts (fitted rates
# 0.63–0.99). A one-head model at x = 0.5 cannot make alternating weights; at α = 0.6 it
# leans to odd distances (odd share 0.85 and 0.79, above the 0.67 and 0.63 that a plain
# geometric decay at its fitted rate would give, printed under the parity counts below) and writes OV vectors of the *opposite* orientation, the sign of
# $\zeta^1$, leaving the even half to the MLP; it ends with 6.1–6.5 times the excess loss of its
# two-head sibling at the same token count (section 6).
#
# **The one-head models at (0.5, 0.2) do not fit the picture.** Their attention is flat (fitted
# 0.92 and 0.93, against $|\zeta| = 0.5$) with no parity preference (odd share 0.59 and 0.58),
# and their OV orientation is $+0.96$ and $+0.81$, the *opposite* of the sign of
# $3\alpha - 1 = -0.4$. They also have the lowest held-out R² of the grid (`resid_mid` → η
# 0.82–0.84, `ln_final` → η 0.88).
# With weak tokens and $\zeta < 0$, one head evidently finds some other solution, close to
# optimal in loss (relative loss 1.00005); these measurements do not say which.
#
# Now the other measurements:
#
# * **The decomposition is a check of the code, not evidence.** Embedding + Σ attention × OV +
#   $b_O$ rebuilds `resid_mid` to float64 rounding (error below 1e-12) in every model; the
#   authors' notebook asserts the same at position 0, to 1e-5. But in layer 0 this holds for
#   *any* attention pattern and any weights, an untrained model's too (section 8 checks one): it
#   is an identity of the architecture, and the check only shows that `mechanism.ov_vectors`
#   and the hooks are right.
#   The evidence that the layer computes the constrained update is in the fits below: `resid_mid`
#   is better described as an affine image of $r$ (rate $r^*$) than of the belief itself, in
#   every model.
# * **OV geometry**: the orientation read into belief space has the sign of $3\alpha - 1$ in
#   every head that carries the update (even distances, or $\zeta > 0$) — towards the token's
#   vertex at $\alpha = 0.6$ and 0.85, away from it at $\alpha = 0.2$ — with cosines near ±1
#   (exceptions: the (0.5, 0.2) one-head models above, and seed 1 of the two-head model there,
#   whose heads prefer no parity). The 120°
#   symmetry holds only roughly: in belief space the deviation is 3–15° for most heads that carry
#   the update at $\alpha \ge 0.6$ (30° for the mixed head of x50-a60-h2-s0), and up to about 50°
#   for weak or idle heads; in the residual stream an untrained model deviates about as much as a
#   trained one (section 8). The angles alone are weak evidence; the orientation signs are the
#   strong part. A second head where one suffices ($\zeta > 0$) can end up partly idle: broad
#   attention and an orientation near 0.
# * **Heads split by parity only in part.** Read per query, with $d = 0$ left out, no shipped
#   two-head model at x = 0.5 has a clean even head: the head of x50-a60-h2-s0 that looks even
#   at the last query averages 0.29 and ranges 0.12–0.53 over the queries. What both shipped
#   seeds at (0.5, 0.6) do have is an **odd head** (odd share 0.91 and 0.82, well above what a
#   geometric decay gives) and OV orientations of opposite signs in the two
#   heads — the minus sign of $\zeta^{\text{odd}}$ carried by the value/output circuit, with the
#   odd head opposite to $3\alpha - 1$ as predicted. At (0.5, 0.2), where tokens are weak, one
#   seed has an odd head with the predicted sign and the other no clear parity at all. The
#   eight-seed counts above say how often each pattern appears. At x = 0.15 ($\zeta > 0$) no
#   head prefers a parity (odd shares 0.53–0.68).
# * **`resid_mid` is closer to $r$ with rate $r^*$ than with rate $\zeta$** in all 20 models
#   (held-out R² 0.837–0.985 for "mid→r*" against 0.822–0.980 for "mid→r"), most clearly at
#   (0.05, 0.85), where the two rates differ most (0.97–0.98 against 0.86–0.88); and it is
#   closer to $r$ (rate $r^*$) than to the belief η in every model ("mid→r*" above "mid→η").
# * **Does the attention layer compute $r$, and does the MLP close the gap?** The last column is
#   the analytic R²($r \to \eta$) of section 3 weighted by probability over every position of
#   length-10 contexts — the same weighting as the models' fits (the models' fits are held-out and
#   start from a 32-dimensional vector, so the comparison is approximate). At (0.05, 0.85)
#   `resid_mid` → η (0.962–0.967) is far above the update with rate $\zeta$ (0.787) and level
#   with the best single-rate update (0.962): the attention layer does about as well as the best
#   constrained update can, not better. The MLP then closes most of the remaining gap:
#   `ln_final` → η is 0.996. The same holds where the update is good and the model has the heads
#   it needs: `ln_final` → η of 0.997–0.999 for x = 0.15, α = 0.6 and for the two-head
#   models at x = 0.5. It is lower for the α = 0.2 models at x = 0.15 (0.95–0.98), the control
#   (0.98), the one-head models at (0.5, 0.6) (0.97) and the one-head models at (0.5, 0.2) (0.88).
#   A likely reason at $\alpha = 0.2$: beliefs move little from the centre, so the target
#   variance is small and a small absolute error already costs R².
# * **The variance in three PCs** of the raw `resid_mid` (0.49–0.83) is lower than the
#   0.89–0.99 of the authors' notebook: at `d_model` 32 the position embedding takes a large
#   share. Removing each position's mean brings it into or near their range for the x = 0.15
#   and (0.05, 0.85) models (0.877–0.977); the x = 0.5 models stay lower (0.701–0.921).

# %%
by_name = {rep.name: rep for rep in reports}
fig, axes = plt.subplots(1, 3, figsize=(9.3, 3.6), sharey=True)
d = np.arange(10)
for ax, name in zip(axes, ["grid-x15-a60-h1-s0", "grid-x05-a85-h1-s0", "grid-x50-a60-h2-s0"]):
    rep = by_name[name]
    t = rep.theory
    for h, head in enumerate(rep.heads):
        ax.semilogy(d, head.attention_last, "o-", ms=4, label=f"head {h}, fit {head.fit.rate:.2f}")
    for rate, style, label in [(abs(t.zeta), "--", f"|ζ|^d, ζ = {t.zeta:+.2f}"),
                               (abs(t.rate_star), ":", f"|r*|^d, r* = {t.rate_star:+.2f}")]:
        ref = rate ** d
        ax.semilogy(d[1:], (ref / ref[1:].sum())[1:] * (1 - rep.heads[0].attention_last[0]),
                    style, color="0.3", label=label)
    ax.set_title(f"{name}", fontsize=9)
    ax.set_xlabel("distance d from the last position", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
axes[0].set_ylabel("mean attention (dashed, dotted:\nscaled to head 0)", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. OV vectors
#
# The token-centred OV vectors of the two-head model at (0.5, 0.6), at the last position, each
# head's in its own plane (three centred vectors always span at most a plane): three directions
# roughly, not exactly, 120° apart. Between heads, the same token's vectors point partly
# against each other (all three cosines negative, but not −1). Read into belief space — the orientation column of section 7 — their signs are
# cleanly opposite. For the angles, compare an untrained model of the same shape: its deviation
# from 120° is of the same size.

# %%
model50, _ = checkpoints.load("grid-x50-a60-h2-s0")
ov = mechanism.centred(mechanism.ov_vectors(model50))[:, -1]         # (H, X, D)
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
for h, ax in enumerate(axes):
    _, _, vt = np.linalg.svd(ov[h], full_matrices=False)               # the head's own plane
    xy = ov[h] @ vt[:2].T                                             # (X, 2)
    for z, colour in enumerate(["C3", "C2", "C0"]):
        ax.plot([0, xy[z, 0]], [0, xy[z, 1]], "-", color=colour)
        ax.plot(*xy[z], "o", color=colour, ms=8, label=f"token {'ABC'[z]}")
    ax.set_aspect("equal")
    ax.set_title(f"head {h}: centred OV vectors in their plane", fontsize=10)
axes[0].legend(frameon=False, fontsize=8)
fig.tight_layout()
plt.show()
cos = [float(ov[0, z] @ ov[1, z] / np.linalg.norm(ov[0, z]) / np.linalg.norm(ov[1, z]))
       for z in range(3)]
print("cosine between the heads' vectors for A, B, C:", np.round(cos, 2))
trained = mechanism.ov_angles(mechanism.ov_vectors(model50))
print("trained model, angles between tokens (A-B, A-C, B-C) per head:",
      [np.round([a[0, 1], a[0, 2], a[1, 2]]).tolist() for a in trained])
untrained = build_model(PRESETS["grid-x50-a60-h2"].model, seed=0)
angles = mechanism.ov_angles(mechanism.ov_vectors(untrained))
print("untrained model, angles between tokens (A-B, A-C, B-C) per head:",
      [np.round([a[0, 1], a[0, 2], a[1, 2]]).tolist() for a in angles])
err_untrained = mechanism.decompose_resid_mid(untrained, data15.inputs[:500]).max_error
print("resid_mid decomposition of the untrained model, error below 1e-12:",
      err_untrained < 1e-12, " (an identity of layer 0, whatever the weights)")
print("mean |angle − 120°| over positions, per head: trained",
      mechanism.angle_deviation(mechanism.ov_vectors(model50)).round(1), " untrained",
      mechanism.angle_deviation(mechanism.ov_vectors(untrained)).round(1))

# %% [markdown]
# ## 9. The test that can fail, and its control
#
# At the grid points $\zeta$ and $r^*$ are close, so a fitted rate near $\zeta$ cannot tell
# them apart. At (0.05, 0.85) they differ by a factor 1.6 (section 3). If one-layer attention implements
# the paper's update with the eigenvalue, its decay should be near 0.85; if it finds the best
# linear update, near 0.53.
#
# **Criterion**: a fitted rate $\hat\gamma$ *agrees* with a predicted rate $\rho$ (one of
# $\zeta$, $r^*$, $r^*_\text{norm}$) if it is within 20 % of its magnitude
# ($|\hat\gamma / |\rho| - 1| \le 0.2$). Why not the 95 % interval? It measures the scatter of one
# model's fit, not the variation between seeds, which is larger (the two seeds at (0.15, 0.6)
# differ by more than their intervals allow); 20 % covers the scatter between those two seeds,
# but not everywhere — the cell prints the seed-to-seed ratio at each point. The threshold was
# chosen after the first models were measured, so read the verdicts as a summary and the ratios
# $\hat\gamma / |\zeta|$, $\hat\gamma / |r^*|$ and $\hat\gamma / |r^*_\text{norm}|$ as the
# evidence.
#
# **Negative control**: the models trained at (0.25, 0.6), $\zeta = 0.25$, scored against the
# (0.15, 0.6) prediction $\zeta = 0.55$. A criterion that accepted them could not reject
# anything. The cell also lists the other one-head models the same criterion would accept for
# 0.55, which shows how finely it resolves rates.

# %%
TOL = 0.2


def agrees(fitted, predicted):
    return abs(fitted / abs(predicted) - 1) <= TOL


print("model                 head  fitted  /|ζ|   /|r*|  /|r*_norm|  agrees with ζ  "
      "agrees with r*")
for rep in reports:
    t = rep.theory
    for h, head in enumerate(rep.heads):
        f = head.fit.rate
        print(f"{rep.name:21s}  {h}    {f:.3f}  {f / abs(t.zeta):.2f}   "
              f"{f / abs(t.rate_star):.2f}   {f / abs(t.rate_star_norm):.2f}        "
              f"{str(agrees(f, t.zeta)):13s}  {agrees(f, t.rate_star)}")
fits_a = [by_name[f"grid-x05-a85-h1-s{seed}"].heads[0].fit.rate for seed in (0, 1)]
print("(0.05, 0.85), seeds 0 and 1: fitted / r* under each convention of section 3")
for label, rates in band.items():
    print(f"  {label:28s} word-weighted {fits_a[0] / rates[0]:.2f}, {fits_a[1] / rates[0]:.2f}"
          f"   prob.-weighted {fits_a[0] / rates[1]:.2f}, {fits_a[1] / rates[1]:.2f}")
print(f"  fitted / ζ: {fits_a[0] / 0.85:.2f}, {fits_a[1] / 0.85:.2f}")
print("seed-to-seed ratio of the one-head fitted rates (larger / smaller):")
for point in ["x05-a85", "x15-a20", "x15-a60", "x25-a60", "x50-a20", "x50-a60"]:
    pair = [by_name[f"grid-{point}-h1-s{seed}"].heads[0].fit.rate for seed in (0, 1)]
    print(f"  {point}: {max(pair) / min(pair):.2f}")
zeta_15 = theory[(0.15, 0.6)].zeta
for rep in reports:
    if rep.name.startswith("grid-x25-a60"):
        print(f"control {rep.name}: fitted {rep.heads[0].fit.rate:.3f} against ζ(0.15, 0.6) = "
              f"{zeta_15:.2f}: agrees = {agrees(rep.heads[0].fit.rate, zeta_15)}")
print(f"one-head models elsewhere the criterion also accepts for ζ(0.15, 0.6) = {zeta_15:.2f}:",
      [rep.name for rep in reports if rep.n_heads == 1 and "x15-a60" not in rep.name
       and agrees(rep.heads[0].fit.rate, zeta_15)])

# %% [markdown]
# And the course's 4-layer model of chapter 05 (paper (a)'s architecture, retrained by the
# course, not the paper's weights), whose first layer was trained on the same process with three
# more layers after it: its layer-0 attention, fitted the same way.

# %%
deep, _ = checkpoints.load("mess3")
ctx_a = grid.sample_contexts(processes.mess3(0.05, 0.85), 1500, seed=0)
deep_att = attention_by_distance(deep, ctx_a.tokens, ctx_a.counts, layer=0).attention
deep_fit = mechanism.fit_attention_decay(deep_att)
t_a = theory[(0.05, 0.85)]
print(f"4-layer model, layer 0: fitted {deep_fit.rate:.3f} [{deep_fit.low:.3f}, "
      f"{deep_fit.high:.3f}];  ζ = {t_a.zeta:.2f}, r* = {t_a.rate_star:.3f}, "
      f"agrees with ζ: {agrees(deep_fit.rate, t_a.zeta)}, with r*: "
      f"{agrees(deep_fit.rate, t_a.rate_star)}")

# %% [markdown]
# **What the data say.** At (0.05, 0.85) both seeds' one-layer attention decays at 0.531 and
# 0.560, 0.62 and 0.66 of $\zeta = 0.85$: the criterion rejects $\zeta$, whichever convention
# defines $r^*$ — the whole band of section 3 (0.47–0.54) lies far below 0.85. Where in the band
# the rates sit depends on the convention: 1.01 and 1.06 times the word-weighted $r^*$, 0.99 and
# 1.04 times its per-position version, 1.10–1.17 times the normalised ones and 1.13 and 1.20
# times the probability-weighted one (at the edge of the 20 % criterion). So the test separates
# $\zeta$ from the band, not one convention from another. The first layer of the course's 4-layer model, trained on the same
# process with three more layers after it, decays at the same rate (0.541). Attention follows the rate that makes the
# *linear* update best approximate Bayes, not the eigenvalue of $T$; the two coincide only
# approximately, and only where the update is already good (the paper's grid, where
# $|r^* - \zeta| \le 0.09$), which is why the paper's grid could not tell them apart.
#
# The control is rejected by the (0.15, 0.6) criterion, but it is a weak control: its attention
# is nearly flat (0.91–0.92; with a chain that forgets this fast, almost everything is in the last
# token or two, and the MLP reads it from a nearly uniform mixture), so it does not follow its
# own $\zeta$ either, and it would have been rejected against almost any rate. The list under it
# is more telling: the criterion also accepts, for $\zeta(0.15, 0.6) = 0.55$, the
# (0.05, 0.85) models and the one-head (0.5, 0.6) models, whose rates are 0.50–0.58. So it
# separates 0.53 from 0.85, not 0.53 from 0.55. Nor does 20 % cover the seed scatter everywhere:
# at (0.15, 0.2) the two seeds differ by a factor 1.21.
# Flat attention also appears with weakly informative tokens ($\alpha = 0.2$): fitted
# 0.69–0.99 at x = 0.15 and 0.92–0.93 for one head at x = 0.5.
# Where the constrained update explains most of the belief *and* the decay is slow enough to
# matter, one-layer attention follows it; elsewhere the layer finds another solution with the
# same loss.
#
# The 95 % intervals come from the scatter of the fit over queries and distances of one model;
# they do not include seed-to-seed variation, which the two seeds per point show is larger.
#
# ## 10. What you learned
#
# * **A product against a sum.** Bayes' rule multiplies one matrix per token; an attention
#   layer can only add. The *constrained update* adds each token's one-step news $u_x$,
#   carried forward by the net matrix $T$; you derived it from the spectrum of $T$, and for
#   Mess3 it decays like $\zeta^{d-s}$.
# * **Predictions from $T$ alone:** attention that decays geometrically with distance, OV
#   vectors 120° apart whose orientation follows the sign of $3\alpha - 1$, and a second head,
#   split by the parity of the distance, when an eigenvalue is negative. For RRXOR, whose
#   spectrum is complex, the ansatz predicts nothing.
# * **How good a sum can be depends on the process:** close to exact where the chain forgets
#   fast or the tokens say little, poor for sticky chains with sharp tokens — the corner where
#   paper (a)'s Mess3 lives.
# * **In trained one-layer models** the mechanism shows where tokens are informative
#   ($\alpha \ge 0.6$) and the chain forgets slowly ($|\zeta| \ge 0.5$), and only in part
#   elsewhere. The decay rate is best read as $r^*$, the rate that makes a sum best imitate
#   Bayes, which equals $\zeta$ only approximately; the MLP after the attention layer closes
#   the gap to the exact belief.
# * **How to test a mechanism:** with a prediction that could fail and a control beside it
#   (the rate $\zeta$ against $r^*$; one head against two at equal training tokens).
#
# <details><summary>Each prediction on our grid, with the numbers</summary>
#
# | prediction from $T$ | where it holds on our grid | where it breaks |
# |---|---|---|
# | attention decays geometrically with distance | informative tokens ($\alpha \ge 0.6$), $|\zeta| \ge 0.5$ | $\alpha = 0.2$ or $\zeta = 0.25$: much flatter |
# | the rate is $\zeta$ | within 20 % for the one-head models and at least one head of each two-head model at (0.15, 0.6) and (0.5, 0.6), where $r^* \approx \zeta$ (the criterion cannot separate them there) | (0.05, 0.85): the rate lies in the $r^*$ band (0.47–0.54 by convention), far below $\zeta = 0.85$ |
# | OV vectors oriented by the sign of $3\alpha - 1$ | every head that carries the update | an idle second head at $\zeta > 0$; the one-head models at (0.5, 0.2) (opposite sign, flat attention) |
# | OV vectors 120° apart | roughly, for heads that carry the update (3–15° in belief space for most) | weak or idle heads (up to ~50°); in the residual stream no better than untrained |
# | $\zeta < 0$ needs two heads, split by parity, with opposite OV | opposite OV signs in all 16 two-head models at x = 0.5; an odd head with the predicted sign in 7 of 8 seeds at (0.5, 0.6), 4 of 8 at (0.5, 0.2); one head has 4–6.5 times the excess loss at equal tokens, against 0.9–2.6 where one head suffices | a clean even/odd split (averaged over queries ≥ 4, $d = 0$ left out) in 0 of 16 seeds (95 % interval 0–0.21): the even head does not form |
# | `resid_mid` is an affine image of $r$ | held-out R² 0.822–0.980 (rate $\zeta$), 0.837–0.985 (rate $r^*$); higher with $r^*$ than with $\zeta$, and higher than `resid_mid` → η, in all 20 models (the exact decomposition is only a check of the code) | weakest for the one-head models at (0.5, 0.2) |
# | the MLP closes the gap | `ln_final` → η 0.996–0.999 at (0.05, 0.85), (0.15, 0.6) and for two heads at x = 0.5 | 0.88–0.98 at α = 0.2 (one head, or x = 0.15), for one head at (0.5, 0.6) and the control |
# | any of it for RRXOR | — | complex spectrum: no decaying, positive pattern exists |
#
# The mechanism of paper (b) — geometric attention, OV vectors oriented by $3\alpha - 1$, an
# odd-distance head with the flipped sign for $\zeta < 0$ — is visible in the one-layer models
# with informative tokens ($\alpha \ge 0.6$) and a slowly forgetting chain ($|\zeta| \ge 0.5$),
# and only in part elsewhere: at $\alpha = 0.2$ and at $\zeta = 0.25$ the attention is flat,
# the one-head models at (0.5, 0.2) find another solution, and the clean even head of a full
# parity split did not form in any of 16 seeds. Its quantitative
# decay-rate prediction is best read as "the rate that makes a sum best imitate Bayes", which
# equals the eigenvalue only approximately, and only where a sum is already a good imitation.
# </details>
#
# **Next.** Both papers stop at a single process. Chapter 08 goes where neither went: when the
# training data come from several worlds, the same belief update, run over (world, state),
# explains in-context learning and its exact loss curve.
