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
# # Practice 07 · Constrained belief updates
#
# *Six exercises, about 100 minutes in all. Read chapter 07 first; each exercise names the
# section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 7.1 | eigenvalues and spectral projectors of T | ★★☆ | 20 min |
# | 7.2 | the constrained update with one decay rate | ★☆☆ | 15 min |
# | 7.3 | how many heads the spectrum asks for | ★★☆ | 15 min |
# | 7.4 | the OV vectors of a trained model | ★★☆ | 20 min |
# | 7.5 | the decay rate of attention | ★☆☆ | 10 min |
# | 7.6 | the general update with T^(d−s), and why it fails for RRXOR | ★★★ | 20 min |
#
# **How this notebook works.** Fill in each function between the markers, run the cell, then
# run the checker below it. The checker calls your function on many inputs, compares with a
# reference, and when they disagree names the most likely mistake. Cells that use your
# functions print a note until the functions exist, so the notebook always runs to the end.
#
# **Conventions** (chapter 07, section 1). `T` is either the labelled matrices `T[x, i, j] =
# P(emit x, go to j | in i)`, shape `(X, S, S)`, or the net matrix `T.sum(0)`, shape `(S, S)`
# — each exercise says which. Distributions are row vectors. Tokens are $x_1 \dots x_L$; $d$
# counts positions, and the token at $s \le d$ lies $d - s$ steps back.

# %%
import numpy as np
import torch

from beliefcourse import checkpoints, constrained, processes
from beliefcourse.attention import attention_by_distance
from beliefcourse.beliefs import belief_trajectories
from beliefcourse.checks import ch07 as checks
from beliefcourse.data import ExactData
from beliefcourse.enumerate import all_sequences

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ---
# ### Exercise 7.1 — Spectral projectors ★★☆, ~20 min
#
# *Practises chapter 07, section 1.*
#
# **You will:** write $T = \sum_k \lambda_k P_k$ for any diagonalisable net matrix, the
# decomposition the whole chapter rests on.
#
# Write `spectral_projectors(T)` for a net matrix `T` of shape `(S, S)`. Return
# `(eigenvalues, projectors)`: `eigenvalues` of shape `(S,)` sorted by **decreasing modulus**,
# and `projectors` of shape `(S, S, S)`, `projectors[k]` $= P_k = r_k\, l_k$, the outer product
# of the right eigenvector $r_k$ (a column, $T r_k = \lambda_k r_k$) and the left eigenvector
# $l_k$ (a row, $l_k T = \lambda_k l_k$) scaled so that $l_k r_k = 1$. Then $P_k P_k = P_k$,
# $\sum_k P_k = I$ and $\sum_k \lambda_k P_k = T$. Keep complex eigenvalues complex.
#
# <details><summary>Hint 1 — both eigenvectors from one call</summary>
#
# `values, V = np.linalg.eig(T)` gives the right eigenvectors as the columns of `V`. The rows
# of `np.linalg.inv(V)` are left eigenvectors, already scaled so that `inv(V) @ V = I`.
# </details>
#
# <details><summary>Hint 2 — sorting</summary>
#
# `order = np.argsort(-np.abs(values), kind="stable")`; reorder `values` and the *columns* of
# `V` with it before inverting.
# </details>

# %%
def spectral_projectors(T):
    """Eigenvalues (sorted by decreasing modulus) and rank-one spectral projectors of T.

    Parameters
    ----------
    T : ndarray, shape (S, S), diagonalisable

    Returns
    -------
    eigenvalues : ndarray, shape (S,)
    projectors : ndarray, shape (S, S, S); projectors[k] = outer(r_k, l_k) with l_k r_k = 1
    """
    ### BEGIN SOLUTION
    values, V = np.linalg.eig(T)
    order = np.argsort(-np.abs(values), kind="stable")
    values, V = values[order], V[:, order]
    W = np.linalg.inv(V)
    return values, np.einsum("ik,kj->kij", V, W)
    ### END SOLUTION


# %%
checks.check_spectral_projectors(spectral_projectors)

# %% [markdown]
# For Mess3 at paper (b)'s grid point $(x, \alpha) = (0.15, 0.6)$: the eigenvalues, $\zeta$,
# and the sum of the two projectors of $\zeta$ — which should be $I - \mathbf 1\pi$.

# %%
mess3 = processes.mess3(0.15, 0.6)
try:
    values, P = spectral_projectors(mess3.transition_matrix)
    print("eigenvalues:", np.round(values.real, 4), "  ζ = 1 − 3x =", 1 - 3 * 0.15)
    print("P_2 + P_3 = I − 1π:", np.allclose((P[1] + P[2]).real,
                                             np.eye(3) - np.ones((3, 3)) / 3))
except NotImplementedError:
    print("(finish Exercise 7.1 to see Mess3's spectrum)")

# %% [markdown]
# ---
# ### Exercise 7.2 — The constrained update ★☆☆, ~15 min
#
# *Practises chapter 07, section 1.*
#
# **You will:** compute what one attention layer can compute: each token's own update of the
# prior, decayed with its distance and added up.
#
# Write `constrained_update(T, pi, tokens, rate)` for labelled matrices `T` `(X, S, S)`, the
# stationary `pi` `(S,)`, tokens `(L,)` and a number `rate`. Return `r` of shape `(L, S)`,
# row `d − 1` being
# $$ r_d = \pi + \sum_{s=1}^{d} \text{rate}^{\,d-s}\, u_{x_s}, \qquad
#    u_x = \pi^{(x)} - \pi, \qquad \pi^{(x)} = \frac{\pi T^{(x)}}{\pi T^{(x)} \mathbf 1}. $$
#
# <details><summary>Hint — a recursion</summary>
#
# $r_d - \pi = \text{rate}\,(r_{d-1} - \pi) + u_{x_d}$: a linear iterated function system.
# </details>

# %%
def constrained_update(T, pi, tokens, rate):
    """The constrained update r after each prefix of ``tokens``.

    Parameters
    ----------
    T : ndarray, shape (X, S, S)
    pi : ndarray, shape (S,)
    tokens : int array, shape (L,)
    rate : float

    Returns
    -------
    ndarray, shape (L, S); row d - 1 = pi + sum_{s <= d} rate**(d - s) * u[tokens[s - 1]]
    """
    ### BEGIN SOLUTION
    post = np.einsum("s,zst->zt", pi, T)
    u = post / post.sum(axis=1, keepdims=True) - pi
    dev = np.zeros_like(pi, dtype=float)
    out = []
    for x in tokens:
        dev = rate * dev + u[x]
        out.append(pi + dev)
    return np.array(out)
    ### END SOLUTION


# %%
checks.check_constrained_update(constrained_update)

# %% [markdown]
# Beside the exact belief, for one sequence at (0.15, 0.6): the two agree at the first token
# and then drift apart — the gap the MLP must close.

# %%
tokens = np.array([0, 1, 1, 2, 0, 0, 2, 1])
try:
    r = constrained_update(mess3.T, mess3.stationary(), tokens, 1 - 3 * 0.15)
    eta = belief_trajectories(mess3, tokens)[0, 1:]
    print("r  :", r.round(3).tolist())
    print("eta:", eta.round(3).tolist())
except NotImplementedError:
    print("(finish Exercise 7.2 to compare r with the exact belief)")

# %% [markdown]
# > **Question (predict, then run the next cell).** At Mess3(1/3, 0.6) the hop parameter makes
# > $\zeta = 0$, so the constrained update with rate $\zeta$ keeps only the last token's update,
# > $r_d = \pi^{(x_d)}$. How far is that from the exact belief?
# >
# > <details><summary>Answer</summary>
# >
# > Nowhere: they are equal (the difference is rounding). With $\zeta = 0$ the hidden chain
# > forgets its state at every step, so the exact belief, too, depends on the last token only:
# > it is $\pi^{(x_d)}$. On the Mess3 family the MLP has something to correct only when
# > $\zeta \ne 0$.
# > </details>

# %%
memoryless = processes.mess3(1 / 3, 0.6)
r0 = constrained.constrained_update(memoryless, tokens, 0.0)
gap = np.abs(r0 - belief_trajectories(memoryless, tokens)[0, 1:]).max()
print("largest |r - η| at Mess3(1/3, 0.6):", "below 1e-12" if gap < 1e-12 else f"{gap:.3f}")

# %% [markdown]
# ---
# ### Exercise 7.3 — How many heads? ★★☆, ~15 min
#
# *Practises chapter 07, section 3.*
#
# **You will:** predict from the spectrum alone how many softmax heads the constrained update
# needs.
#
# Write `heads_needed(T)` for a net matrix `T` `(S, S)`. A softmax head has positive weights;
# under the ansatz each eigenvalue $\lambda \ne 1$ asks for weights $\lambda^{d-s}$. Count, over
# the **distinct** eigenvalues other than 1: one head for each positive $\lambda$, two for each
# negative one (even and odd distances with opposite OV signs), none for $\lambda = 0$ (it acts
# only at distance 0, the current token, which the residual stream already holds). If any
# eigenvalue is complex, `raise ValueError(...)`: no positive pattern produces an oscillation.
# Treat values within `1e-9` as equal.

# %%
def heads_needed(T):
    """Heads the constrained update needs for net matrix ``T`` (S, S); ValueError if complex."""
    ### BEGIN SOLUTION
    values = np.linalg.eigvals(T)
    rest = values[np.abs(values - 1) > 1e-9]
    if np.any(np.abs(rest.imag) > 1e-9):
        raise ValueError("complex eigenvalues: the constrained update has no head for them")
    distinct = np.unique(np.round(rest.real, 9))
    distinct = distinct[np.abs(distinct) > 1e-9]
    return int(sum(1 if v > 0 else 2 for v in distinct))
    ### END SOLUTION


# %%
checks.check_heads_needed(heads_needed)

# %% [markdown]
# > **Question (predict, then run the next cell).** How many heads do Mess3(0.15, 0.6),
# > Mess3(0.5, 0.6) and RRXOR ask for? (Mess3's net matrix has eigenvalues $1, \zeta, \zeta$
# > with $\zeta = 1 - 3x$; RRXOR's are $1$, $e^{\pm 2\pi i/3}$ and $0$.)
# >
# > <details><summary>Answer</summary>
# >
# > One, two, and none that work. At $x = 0.15$, $\zeta = 0.55 > 0$: one head, however many
# > directions the double eigenvalue spans. At $x = 0.5$, $\zeta = -0.5$: two heads, one for the
# > even and one for the odd distances. RRXOR's complex pair asks for weights that rotate with
# > distance, which no positive attention pattern makes: the count is an error, not a number.
# > These are the grid's one- and two-head models of chapter 07.
# > </details>

# %%
for name, hmm in [("Mess3(0.15, 0.6)", processes.mess3(0.15, 0.6)),
                  ("Mess3(0.5, 0.6)", processes.mess3(0.5, 0.6)), ("RRXOR", processes.rrxor())]:
    try:
        print(f"{name:16s} heads needed: {constrained.heads_needed(hmm)}")
    except ValueError:
        print(f"{name:16s} heads needed: none work (complex eigenvalues)")

# %% [markdown]
# ---
# ### Exercise 7.4 — OV vectors of a trained model ★★☆, ~20 min
#
# *Practises chapter 07, section 5.*
#
# **You will:** read off what each head of a trained one-layer model writes for each token.
#
# In layer 0 the residual stream at key position $k$ is $W_E[x_k] + W_\text{pos}[k]$, so what
# head $h$ writes from there depends only on $(k, x_k)$. Write `ov_vectors(model)` returning an
# array of shape `(H, n_ctx, X, d_model)`:
# $$ \text{OV}[h, k, x] = \big(\mathrm{LN}_1(W_E[x] + W_\text{pos}[k])\, W_V^h + b_V^h\big)\, W_O^h , $$
# without $b_O$ (added once per position). In this course's model, `model.blocks[0].ln1` is
# $\mathrm{LN}_1$; `model.blocks[0].attn.qkv` is one `nn.Linear` whose output is
# `[q | k | v]`, each of `H * d_head` features (head-major); `model.blocks[0].attn.out.weight`
# has shape `(d_model, H * d_head)`.
#
# <details><summary>Hint — slices</summary>
#
# Value rows of head `h`: `slice(2 * H * dh + h * dh, 2 * H * dh + (h + 1) * dh)` of
# `qkv.weight` and `qkv.bias`; output columns: `out.weight[:, h * dh:(h + 1) * dh]`. Broadcast
# `embed.weight[None, :, :] + pos_embed.weight[:, None, :]` to `(n_ctx, X, d_model)`.
# </details>

# %%
def ov_vectors(model):
    """OV vectors of layer 0, shape (H, n_ctx, X, d_model) (no b_O)."""
    ### BEGIN SOLUTION
    blk = model.blocks[0]
    H, dh = model.cfg.n_heads, model.cfg.d_head
    with torch.no_grad():
        x = blk.ln1(model.embed.weight[None, :, :] + model.pos_embed.weight[:, None, :])
        out = []
        for h in range(H):
            rows = slice(2 * H * dh + h * dh, 2 * H * dh + (h + 1) * dh)
            v = x @ blk.attn.qkv.weight[rows].T + blk.attn.qkv.bias[rows]
            out.append(v @ blk.attn.out.weight[:, h * dh:(h + 1) * dh].T)
    return torch.stack(out).numpy()
    ### END SOLUTION


# %%
checks.check_ov_vectors(ov_vectors)

# %% [markdown]
# On a shipped two-head model at (0.5, 0.6), where $\zeta = -0.5$: the token-dependent part
# of each OV vector (minus the mean over tokens) at the last position, and the cosine between
# the two heads' vectors for the same token. The theory wants them opposite (cosine −1); a
# trained model with an MLP gets only part of the way there (all three cosines negative).
# Chapter 07, section 7 reads the same vectors into belief space, where the signs are clean.

# %%
try:
    model, record = checkpoints.load("grid-x50-a60-h2-s0")
    ov = ov_vectors(model)
    c = (ov - ov.mean(axis=2, keepdims=True))[:, -1]            # (heads, tokens, d_model)
    cos = [float(c[0, x] @ c[1, x] / np.linalg.norm(c[0, x]) / np.linalg.norm(c[1, x]))
           for x in range(3)]
    print("cosine between the heads' OV vectors, tokens A, B, C:", np.round(cos, 2))
except NotImplementedError:
    print("(finish Exercise 7.4 to look at a trained model)")

# %% [markdown]
# ---
# ### Exercise 7.5 — The decay rate of attention ★☆☆, ~10 min
#
# *Practises chapter 07, section 6.*
#
# Write `fit_decay_rate(attention, distances)`: `attention` is a profile over distances
# $d = 0, 1, \dots$ (shape `(n,)`), `distances` an int array of the distances to use. Fit
# $\log a_d = c + d \log r$ by least squares over the given distances and return $r$.

# %%
def fit_decay_rate(attention, distances):
    """Per-step decay r of a log-linear least-squares fit over ``distances``."""
    ### BEGIN SOLUTION
    slope = np.polyfit(distances, np.log(attention[distances]), 1)[0]
    return float(np.exp(slope))
    ### END SOLUTION


# %%
checks.check_fit_decay_rate(fit_decay_rate)

# %% [markdown]
# On the shipped one-head model at (0.15, 0.6): the mean attention from the last position,
# fitted over $d = 1..5$, against $\zeta = 0.55$.

# %%
try:
    model, record = checkpoints.load("grid-x15-a60-h1-s0")
    data = ExactData(processes.mess3(0.15, 0.6), 10)
    att = attention_by_distance(model, data.inputs, data.probs).attention[-1]
    print(f"fitted rate {fit_decay_rate(att, np.arange(1, 6)):.3f}   ζ = 0.55")
except NotImplementedError:
    print("(finish Exercise 7.5 to fit a trained model's attention)")

# %% [markdown]
# ---
# ### Exercise 7.6 — The general update, and RRXOR ★★★, ~20 min
#
# *Practises chapter 07, section 4.*
#
# In general a token's deviation is carried forward by the matrix power, not by one number:
# $$ r_d = \pi + \sum_{s=1}^{d} u_{x_s}\, T^{\,d-s}, \qquad T = \textstyle\sum_x T^{(x)} . $$
# Write `propagated_update(T, pi, tokens)` (labelled `T` `(X, S, S)`) returning `(L, S)`. For
# Mess3 it equals Exercise 7.2 with rate $\zeta$.

# %%
def propagated_update(T, pi, tokens):
    """r_d = pi + sum_s u[tokens[s-1]] @ T_net^(d-s), shape (L, S)."""
    ### BEGIN SOLUTION
    post = np.einsum("s,zst->zt", pi, T)
    u = post / post.sum(axis=1, keepdims=True) - pi
    M = T.sum(axis=0)
    dev = np.zeros_like(pi, dtype=float)
    out = []
    for x in tokens:
        dev = dev @ M + u[x]
        out.append(pi + dev)
    return np.array(out)
    ### END SOLUTION


# %%
checks.check_propagated_update(propagated_update)

# %% [markdown]
# Now the failure. RRXOR's net matrix has eigenvalues $1$, $e^{\pm 2\pi i/3}$ and $0$: the
# hidden chain is a 3-cycle that never forgets its phase, so $T^{d-s}$ does not decay. The cell
# below measures how well $r$ (your function, over every prefix of every length-8 word) maps to
# the exact belief, with the best affine map, for RRXOR and for Mess3(0.15, 0.6).

# %%
def update_r2(hmm, L=8):
    """R² of the best affine map from your r to the exact belief, all positions of all words."""
    seqs = all_sequences(hmm, L)                       # every positive-probability word
    r = np.array([propagated_update(hmm.T, hmm.stationary(), w) for w in seqs.tokens])
    eta = seqs.beliefs[:, 1:]
    S = hmm.n_states
    return constrained.affine_fit(r.reshape(-1, S), eta.reshape(-1, S))[1]


try:
    for name, hmm in [("Mess3(0.15, 0.6)", mess3), ("RRXOR", processes.rrxor())]:
        print(f"{name:17s} R²(r → η) = {update_r2(hmm):.3f}")
except NotImplementedError:
    print("(finish Exercise 7.6 to compare the two processes)")

# %% [markdown]
# **Question (no checker).** Explain the two numbers from the spectra: why does summing
# separately propagated updates capture Mess3's belief but not RRXOR's? (Think about what a
# single token tells you in RRXOR — about the phase of the 3-cycle — and whether adding
# evidence can express "the XOR of the last two bits".)
#
# ---
# ## Wrap-up
#
# From $T$ alone you can now predict the attention decay ($|\zeta|$, or the better-fitting
# $r^*$ of chapter 07), the OV geometry (three directions along $u_x$) and the number of heads
# (the signs of the eigenvalues) — and you can measure each in a trained model.
#
# Back to chapter 07, section 7, for where the ansatz holds and where it breaks on the grid.
