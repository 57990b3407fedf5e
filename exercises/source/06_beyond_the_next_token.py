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
# # Practice 06 · Beyond the next token, beyond transformers
#
# *Five exercises, about two hours in all. Read chapter 06 first; each exercise names the
# section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 6.1 | the distribution of the next $k$ tokens after a belief | ★☆☆ | 15 min |
# | 6.2 | the next-token ceiling of the distance test, exactly | ★★★ | 35 min |
# | 6.3 | the steering move along a probe | ★★☆ | 15 min |
# | 6.4 | one step of a GRU, matching `torch.nn.GRU` | ★★☆ | 25 min |
# | 6.5 | a sign test: does steering beat its random control? | ★★☆ | 20 min |
#
# Together they are the pieces of chapter 06's three questions: what a belief knows that the
# next token does not (6.1, 6.2), whether a recurrent network is the same kind of machine
# (6.4), and whether moving along the probed geometry changes what the network predicts, by
# more than chance (6.3, 6.5).
#
# **How this notebook works.** Fill in each function between the markers, run it, then run
# its checker. Cells that apply your functions to the shipped networks print a note until the
# functions exist, so the notebook always runs to the end.

# %%
import math

import numpy as np
import torch

from beliefcourse import checkpoints, probing, processes, steering
from beliefcourse.checks import ch06 as checks
from beliefcourse.data import ExactData
from beliefcourse.probing import futures

np.set_printoptions(precision=4, suppress=True)
mess3, rrxor = processes.mess3(), processes.rrxor()
rdata = ExactData(rrxor, n_ctx=10)
print(f"RRXOR: {len(rdata)} contexts of 10 tokens; beliefs {rdata.beliefs.shape}")

# %% [markdown]
# ---
# ### Exercise 6.1 — The next $k$ tokens ★☆☆, ~15 min
#
# *Practises chapter 06, section 1.*
#
# **You will:** compute what a belief predicts about the whole next word, not just the next
# token.
#
# Write `future_distribution(T, belief, k)` (the process first, as in every exercise) for a
# belief of shape `(S,)` and `T[x, i, j] = P(emit x, go to j | in i)`. Return the array of
# shape `(X**k,)` whose entry for the word $x_1 \dots x_k$ is
#
# $$
# P(x_1 \dots x_k \mid \eta) = \eta\, T^{(x_1)} T^{(x_2)} \cdots T^{(x_k)} \mathbf 1 ,
# $$
#
# with the words in `itertools.product(range(X), repeat=k)` order (the first token most
# significant). For $k = 1$ it is the next-token distribution.
#
# <details><summary>Hint 1</summary>
#
# Loop over `itertools.product(range(X), repeat=k)`; for each word start from `belief` and
# multiply by `T[x]` token by token (`v = v @ T[x]`), then sum the final vector.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Do **not** normalise along the way: the normalised vector is the updated belief, and its
# sum would be the probability of the last token given the others — a conditional, not the
# joint probability of the word.
# </details>

# %%
def future_distribution(T, belief, k):
    """P(x_1..x_k | belief) for every word of length k, shape (X**k,), first token most
    significant."""
    ### BEGIN SOLUTION
    import itertools

    out = []
    for word in itertools.product(range(T.shape[0]), repeat=k):
        v = np.asarray(belief, dtype=float)
        for x in word:
            v = v @ T[x]
        out.append(v.sum())
    return np.array(out)
    ### END SOLUTION


# %%
checks.check_future_distribution(future_distribution)

# %% [markdown]
# On RRXOR: the best any representation can do on the next-two-token distribution if it
# holds only the next-token distribution. Points that share a next-token distribution form a
# class; the best predictor that sees only the class is the class mean (chapter 06,
# section 1), and its R² is the ceiling.

# %%
try:
    last = rdata.beliefs[:, -1]                               # beliefs after 10 tokens
    two = np.stack([future_distribution(rrxor.T, b, 2) for b in last])
    classes, n_classes = futures.next_token_classes(rdata.next_token_probs[:, -1])
    print(f"{n_classes} next-token classes among the {len(last)} contexts")
    print(f"next-two-token distribution: next-token-only ceiling R² = "
          f"{futures.class_ceiling(two, classes):.3f}")
    print(f"the belief itself:           next-token-only ceiling R² = "
          f"{futures.class_ceiling(last, classes):.3f}")
except NotImplementedError:
    print("(finish Exercise 6.1 to compute the RRXOR ceilings)")

# %% [markdown]
# ---
# ### Exercise 6.2 — The next-token ceiling of the distance test ★★★, ~35 min
#
# *Practises chapter 06, section 1 (the distance test).*
#
# **You will:** compute, exactly, how much of the variation of belief distances a
# representation could reproduce if it knew only the next token.
#
# The distance test draws pairs of distinct points $i \ne j$ and asks how well the distance
# between two representations tracks the distance between their beliefs, $d_B(i, j)$, by the
# R² of a straight-line fit. A representation that is a function of the next-token
# distribution gives every pair of points with the same *pair of next-token distributions*
# the same distance. So the best it can do is the fraction of the variance of $d_B$ explained
# by that pair:
#
# $$
# \text{ceiling} = \frac{\operatorname{Var}\big(\mathbb E[d_B \mid \{P_i, P_j\}]\big)}
#                       {\operatorname{Var}(d_B)} ,
# $$
#
# over all **ordered** pairs $(i, j)$, $i \ne j$, of the points given (each point counts,
# repeats included), with $\{P_i, P_j\}$ the unordered pair of their next-token
# distributions and $d_B$ the Euclidean distance.
#
# Write `next_token_ceiling(beliefs, next_probs)` for `beliefs (M, S)` and
# `next_probs (M, X)`; return the ceiling as a float.
#
# <details><summary>Hint 1 — classes</summary>
#
# `np.unique(next_probs.round(9), axis=0, return_inverse=True)` labels each point with its
# next-token class $c_i$. The pair's label is `(min(c_i, c_j), max(c_i, c_j))`.
# </details>
#
# <details><summary>Hint 2 — the variance decomposition</summary>
#
# With all pairs in arrays `i, j = np.where(~np.eye(M, dtype=bool))`, compute `dB`, a group
# label per pair, the mean of `dB` in each group, and then
# `((group_mean[label] - dB.mean())**2).sum() / ((dB - dB.mean())**2).sum()`.
# </details>
#
# <details><summary>Hint 3 — why not the correlation?</summary>
#
# The squared correlation of $d_B$ with the next-token distance $d_N$ is the score of one
# particular representation: the one whose distances *are* $d_N$. A representation can place
# each pair of next-token distributions at any distance it likes, so the ceiling groups by the
# pair, not by $d_N$.
# </details>

# %%
def next_token_ceiling(beliefs, next_probs):
    """Fraction of the variance of belief distances (over ordered pairs of distinct points)
    explained by the unordered pair of next-token distributions."""
    ### BEGIN SOLUTION
    b = np.asarray(beliefs, dtype=float)
    p = np.asarray(next_probs, dtype=float)
    _, cls = np.unique(p.round(9), axis=0, return_inverse=True)
    cls = cls.reshape(-1)
    i, j = np.where(~np.eye(len(b), dtype=bool))
    dB = np.linalg.norm(b[i] - b[j], axis=1)
    lo, hi = np.minimum(cls[i], cls[j]), np.maximum(cls[i], cls[j])
    _, group = np.unique(lo * (cls.max() + 1) + hi, return_inverse=True)
    means = np.bincount(group, weights=dB) / np.bincount(group)
    return float(((means[group] - dB.mean()) ** 2).sum() / ((dB - dB.mean()) ** 2).sum())
    ### END SOLUTION


# %%
checks.check_next_token_ceiling(next_token_ceiling)

# %% [markdown]
# > **Question (predict, then run the next cell).** On RRXOR, which is larger: the ceiling you
# > just wrote (any function of the next token) or the squared correlation of belief distances
# > with next-token distances? Could the correlation ever be the larger one?
# >
# > <details><summary>Answer</summary>
# >
# > The ceiling, and always. The correlation version scores one particular representation, the
# > one whose distances are the next-token distances (fitted by a straight line); the ceiling
# > is the best score of *any* representation that sees only the next token, that one
# > included (a straight line in the next-token distance is a function of the pair).
# > </details>

# %%
ceilings = futures.next_token_distance_ceiling(rdata.beliefs, rdata.next_token_probs)
print(f"RRXOR: ceiling over any function of the next token {ceilings.any_function:.3f}; "
      f"squared correlation with next-token distances {ceilings.isometric:.3f}")

# %% [markdown]
# On 600 random RRXOR points, against the package's exact computation over all 4,360:

# %%
try:
    pick = np.random.default_rng(0).choice(rdata.beliefs.reshape(-1, 5).shape[0], 600,
                                           replace=False)
    mine = next_token_ceiling(rdata.beliefs.reshape(-1, 5)[pick],
                              rdata.next_token_probs.reshape(-1, 2)[pick])
    exact = futures.next_token_distance_ceiling(rdata.beliefs, rdata.next_token_probs)
    print(f"your ceiling on 600 points: {mine:.3f}; the package, all points: "
          f"{exact.any_function:.3f} (the correlation version: {exact.isometric:.3f})")
except NotImplementedError:
    print("(finish Exercise 6.2 to compute RRXOR's ceiling)")

# %% [markdown]
# ---
# ### Exercise 6.3 — The steering move ★★☆, ~15 min
#
# *Practises chapter 06, section 3.*
#
# **You will:** move an activation so that a probe reads a belief you choose, with the
# smallest possible move.
#
# A probe reads $\hat b = W a + c$ with `W` of shape `(S, D)`. Write
# `steering_move(W, readout, target)` returning $\delta$ with $W\delta = b' - \hat b$ and
# $\lVert\delta\rVert$ as small as possible:
#
# $$
# \delta = W^{+} (b' - \hat b) ,
# $$
#
# $W^+$ the Moore–Penrose pseudo-inverse *at the rank $W$ really has*. A probe fitted to
# beliefs, which sum to one, has columns that sum to zero, so $W$ has rank $S - 1$; its last
# singular value comes out of the fit as rounding noise (about $10^{-15}$ of the first), not
# as 0. Treat every singular value below $10^{-8}$ of the largest as zero. `readout` and
# `target` have shape `(S,)` or `(M, S)`; return `(D,)` or `(M, D)`.
#
# <details><summary>Hint 1</summary>
#
# `U, sigma, Vt = np.linalg.svd(W, full_matrices=False)`; keep the singular values with
# `sigma >= 1e-8 * sigma[0]`; then $W^+ = V_r \operatorname{diag}(1/\sigma_r) U_r^\top$, shape
# `(D, S)`. For row vectors: `(target - readout) @ W_pinv.T`. (`np.linalg.pinv(W, rcond=1e-8)`
# computes the same; its default cut-off, $10^{-15}$, can keep the rounding noise.)
# </details>
#
# <details><summary>Hint 2 — why the pseudo-inverse and not W itself?</summary>
#
# $W^\top$ points along the probe's rows, but moving by $W^\top v$ changes the reading by
# $W W^\top v$, which is $v$ only if the rows are orthonormal. The pseudo-inverse corrects
# for that (for a $W$ of full row rank it is $W^\top (W W^\top)^{-1}$), and any other
# solution adds a component the probe cannot see.
# </details>
#
# <details><summary>Hint 3 — why drop a singular value of 1e-15?</summary>
#
# Inverting it multiplies whatever part of $b' - \hat b$ lies along its direction (rounding,
# since both sum to one) by $10^{15}$: the move gains a long component the probe cannot see,
# and its length then depends on the last bits of the CPU's arithmetic.
# </details>

# %%
def steering_move(W, readout, target):
    """The minimum-norm move delta with W @ delta = target - readout (row-wise), W's
    singular values below 1e-8 of the largest treated as zero."""
    ### BEGIN SOLUTION
    U, sigma, Vt = np.linalg.svd(np.asarray(W, float), full_matrices=False)
    keep = sigma >= 1e-8 * sigma[0]
    W_pinv = (Vt[keep].T / sigma[keep]) @ U[:, keep].T          # (D, S), rank S - 1
    return (np.asarray(target, float) - np.asarray(readout, float)) @ W_pinv.T
    ### END SOLUTION


# %%
checks.check_steering_move(steering_move)

# %% [markdown]
# On the shipped Mess3 transformer: steer the final residual stream of 200 held-out contexts
# towards the beliefs of 200 others, with your move, and compare the model's next-token
# distribution with the one the target belief predicts (KL in nats; `steering.steering_experiment`
# also runs a random move of the same length). Chapter 06 explains what you will see. The
# model runs in float64 (`.double()`), so that the comparisons below do not depend on the
# last bits of the CPU's arithmetic.

# %%
model, _ = checkpoints.load("mess3")
model = model.double()
mdata = ExactData(mess3, n_ctx=10)
rng = np.random.default_rng(0)
subset = np.sort(rng.choice(len(mdata), size=4000, replace=False))
hook = "blocks.3.hook_resid_post"
acts = probing.collect_activations(model, mdata.inputs[subset], hook)
fit = probing.evaluate(acts, mdata.beliefs[subset], mdata.probs[subset], seed=0)
ctx, tgt = rng.choice(fit.test_idx, size=(2, 200))
b_ctx, b_tgt = mdata.beliefs[subset][ctx, -1], mdata.beliefs[subset][tgt, -1]
try:
    moves = steering_move(fit.probe.coef_, fit.predictions[ctx, -1], b_tgt)
    probe_run = steering.steering_experiment(model, mess3, mdata.inputs[subset][ctx], b_ctx, b_tgt,
                                             hook, moves, seed=0)
    m = probe_run.medians()
    print(f"median KL to P(.|b'): unsteered {m['unsteered']:.4f}, your move {m['steered']:.4f}, "
          f"random move of the same length {m['random']:.4f}")
except NotImplementedError:
    print("(finish Exercise 6.3 to steer the transformer)")

# %% [markdown]
# ---
# ### Exercise 6.4 — One step of a GRU ★★☆, ~25 min
#
# *Practises chapter 06, section 2.*
#
# **You will:** write the update a GRU applies at every token, exactly as `torch.nn.GRU`
# computes it, and run it on the shipped GRU.
#
# `torch.nn.GRU` stores `weight_ih (3d, d_in)`, `weight_hh (3d, d)`, `bias_ih (3d,)` and
# `bias_hh (3d,)`, each the stack of three blocks in the order **r, z, n**. For input
# $x$ and state $h$:
#
# $$
# \begin{aligned}
# r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \\
# z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}), \\
# n &= \tanh\big(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\big), \\
# h' &= (1 - z) \odot n + z \odot h .
# \end{aligned}
# $$
#
# Write `gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh)` for a batch: `x (B, d_in)`,
# `h (B, d)`; return `h' (B, d)` (NumPy arrays).
#
# <details><summary>Hint</summary>
#
# Compute `gi = x @ weight_ih.T + bias_ih` and `gh = h @ weight_hh.T + bias_hh` (both
# `(B, 3d)`), split each into three blocks of `d` columns, and combine them as above. Note
# where the reset gate goes: inside the product *with* its bias, not on $h$ before it (that is
# the variant of Cho et al. 2014).
# </details>

# %%
def gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One torch.nn.GRU step: x (B, d_in), h (B, d) -> h' (B, d)."""
    ### BEGIN SOLUTION
    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    d = h.shape[-1]
    gi, gh = x @ weight_ih.T + bias_ih, h @ weight_hh.T + bias_hh
    r = sigmoid(gi[:, :d] + gh[:, :d])
    z = sigmoid(gi[:, d:2 * d] + gh[:, d:2 * d])
    n = np.tanh(gi[:, 2 * d:] + r * gh[:, 2 * d:])
    return (1 - z) * n + z * h
    ### END SOLUTION


# %%
checks.check_gru_step(gru_step)

# %% [markdown]
# Your cell, run over ten tokens with the first layer of the shipped Mess3 GRU, against the
# hidden states the model itself records:

# %%
gru_model, _ = checkpoints.load("mess3-gru")
layer = gru_model.grus[0]
weights = [getattr(layer, n).detach().double().numpy() for n in
           ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
tokens = torch.as_tensor(mdata.inputs[subset[:8]].copy())
with torch.no_grad():
    _, cache = gru_model.run_with_cache(tokens, ["hook_embed", "gru.0.hook_hidden"])
try:
    h = np.zeros((len(tokens), gru_model.cfg.d_hidden))
    mine = []
    for t in range(tokens.shape[1]):
        h = gru_step(cache["hook_embed"][:, t].double().numpy(), h, *weights)
        mine.append(h)
    diff = np.abs(np.stack(mine, 1) - cache["gru.0.hook_hidden"].double().numpy()).max()
    print(f"largest difference from the model's own hidden states: {diff:.1e}")
except NotImplementedError:
    print("(finish Exercise 6.4 to run your cell on the shipped GRU)")

# %% [markdown]
# ---
# ### Exercise 6.5 — Does steering beat its control? ★★☆, ~20 min
#
# *Practises chapter 06, section 3.*
#
# **You will:** decide from numbers, with a test that assumes nothing about their
# distribution, whether a steering move beats a random move of the same length.
#
# Each $(b, b')$ pair gives two KL divergences: after the steering move and after the random
# move. If steering were no better than chance, each pair would be a coin flip: steering
# wins ($\mathrm{KL}_\text{steered} < \mathrm{KL}_\text{control}$) with probability 1/2. The
# **sign test** counts the wins $k$ among the $n$ pairs that are not tied and returns the
# one-sided p-value
#
# $$
# p = P(K \ge k), \qquad K \sim \mathrm{Binomial}(n, 1/2), \qquad
# p = \sum_{j = k}^{n} \binom{n}{j} 2^{-n} .
# $$
#
# Write `sign_test(kl_steered, kl_control)` (two arrays of the same length) returning $p$.
#
# <details><summary>Hint</summary>
#
# `wins = (kl_steered < kl_control).sum()`, `n = (kl_steered != kl_control).sum()`, then
# `sum(math.comb(n, j) for j in range(wins, n + 1)) / 2**n`. Use Python integers
# (`int(...)`) so that `math.comb` is exact.
# </details>

# %%
def sign_test(kl_steered, kl_control):
    """One-sided exact sign test that steering gives smaller KL than the control."""
    ### BEGIN SOLUTION
    s, c = np.asarray(kl_steered, float), np.asarray(kl_control, float)
    wins, n = int((s < c).sum()), int((s != c).sum())
    return sum(math.comb(n, j) for j in range(wins, n + 1)) / 2 ** n
    ### END SOLUTION


# %%
checks.check_sign_test(sign_test)

# %% [markdown]
# > **Question (predict, then run the next cell).** With 12 pairs and no ties, how many times
# > must steering win for the sign test to reach p < 0.05? Is 9 wins out of 12 (75 %) enough?
# >
# > <details><summary>Answer</summary>
# >
# > 10 wins. Nine of twelve gives p = 0.073: a fair coin shows at least 9 heads in 12 throws
# > that often. A 75 % win rate needs more pairs before it means anything; over the 200 pairs
# > below, the same rate would be far beyond chance.
# > </details>

# %%
for wins in (9, 10, 11):
    p_value = sum(math.comb(12, j) for j in range(wins, 13)) / 2 ** 12
    print(f"{wins} wins of 12: p = {p_value:.3f}")

# %% [markdown]
# Now judge the two moves of chapter 06 on the transformer above: the probe's move (yours,
# from 6.3) and the *pattern's* move (the regression of activations on beliefs). A tiny
# p-value says the move beats chance; the median ratio says by how much. Both numbers matter.

# %%
pattern = probing.AffineProbe().fit(mdata.beliefs[subset][fit.train_idx],
                                    acts[fit.train_idx]).coef_
pattern_run = steering.steering_experiment(model, mess3, mdata.inputs[subset][ctx], b_ctx, b_tgt,
                                           hook, steering.pattern_move(pattern, b_ctx, b_tgt),
                                           seed=0)
try:
    runs = [("pattern", pattern_run)]
    try:
        runs.insert(0, ("probe", probe_run))
    except NameError:
        pass
    for name, run_ in runs:
        p = sign_test(run_.steered, run_.random)
        ratio = np.median(run_.random / run_.steered)
        print(f"{name:8s} move: wins {int((run_.steered < run_.random).sum())} of "
              f"{len(run_.steered)}, sign-test p = {p:.1e}, median KL ratio control/steered "
              f"{ratio:.1f}")
except NotImplementedError:
    print("(finish Exercise 6.5 to judge the two moves)")
