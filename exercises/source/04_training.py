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
# # Practice 04 · Training a small transformer
#
# *Five exercises, about 90 minutes in all. Read chapter 04 first; each exercise names the
# section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 4.1 | causal scaled dot-product attention | ★★☆ | 20 min |
# | 4.2 | a causality test: which positions react to which tokens | ★★☆ | 15 min |
# | 4.3 | relative loss per position, against the right myopic entropy | ★☆☆ | 10 min |
# | 4.4 | the exact expected loss from next-token distributions | ★★☆ | 20 min |
# | 4.5 | one training step | ★★☆ | 15 min |
#
# At the end you put the last three together: train a small transformer with *your* training
# step and judge it with *your* exact loss and relative loss.
#
# **How this notebook works.** Fill in each function between the markers, run the cell, then
# run the checker below it. The checker calls your function on many inputs, compares with a
# reference, and when they disagree names the most likely mistake. Hints are folded. Cells that
# use your functions print a note until the functions exist, so the notebook always runs to the
# end.
#
# **Conventions** (chapter 04, section 1). A model reads $n_\text{ctx}$ tokens; position $p$
# (0-based) has read $x_1 \dots x_{p+1}$ and predicts $x_{p+2}$; its least possible expected
# loss is the myopic entropy $h(p+2)$. Losses are in **nats**.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from beliefcourse import information, processes
from beliefcourse.checks import ch04 as checks
from beliefcourse.data import ExactData
from beliefcourse.model import TransformerConfig, build_model

np.set_printoptions(precision=4, suppress=True)
mess3 = processes.mess3()

# %% [markdown]
# ---
# ### Exercise 4.1 — Causal attention ★★☆, ~20 min
#
# *Practises chapter 04, section 2.*
#
# **You will:** write the one operation that moves information between positions, and make
# sure it cannot see the future.
#
# Write `causal_attention(q, k, v)`. The inputs are queries, keys and values for a batch of
# sequences and heads, each of shape `(B, H, L, d_head)`. Return `(z, pattern)`:
#
# * `pattern` of shape `(B, H, L, L)`: entry `[b, h, p, s]` is how much query position `p`
#   attends to key position `s`,
#   $$\text{pattern}_{ps} = \operatorname{softmax}_s\!\Big(\frac{q_p \cdot k_s}{\sqrt{d_\text{head}}}\Big)
#   \quad\text{over } s \le p, \qquad \text{pattern}_{ps} = 0 \text{ for } s > p;$$
# * `z` of shape `(B, H, L, d_head)`: $z_p = \sum_s \text{pattern}_{ps}\, v_s$.
#
# Use torch. Each row of the pattern is a probability distribution over the positions that
# query may read.
#
# <details><summary>Hint 1 — the scores</summary>
#
# `q @ k.transpose(-1, -2)` has shape `(B, H, L, L)` with entry `[p, s]` $= q_p \cdot k_s$.
# Divide by `math.sqrt(d_head)` (or `d_head ** 0.5`), where `d_head = q.shape[-1]`.
# </details>
#
# <details><summary>Hint 2 — the mask</summary>
#
# `torch.ones(L, L, dtype=torch.bool).triu(1)` is `True` exactly where $s > p$. Fill those
# scores with `float("-inf")` **before** the softmax (`scores.masked_fill(mask, float("-inf"))`):
# $e^{-\infty} = 0$. Filling with 0 is not the same — $e^0 = 1$.
# </details>
#
# <details><summary>Hint 3 — the axis</summary>
#
# The softmax runs over the *keys*, the last axis: `scores.softmax(dim=-1)`. Then each row sums
# to 1.
# </details>

# %%
import math


def causal_attention(q, k, v):
    """Causal scaled dot-product attention.

    Parameters
    ----------
    q, k, v : torch.Tensor, shape (B, H, L, d_head)

    Returns
    -------
    z : torch.Tensor, shape (B, H, L, d_head)
        z[b, h, p] = sum over s <= p of pattern[b, h, p, s] * v[b, h, s].
    pattern : torch.Tensor, shape (B, H, L, L)
        Softmax over keys s <= p of q_p . k_s / sqrt(d_head); zero for s > p.
    """
    ### BEGIN SOLUTION
    L, d_head = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(d_head)
    future = torch.ones(L, L, dtype=torch.bool, device=q.device).triu(1)
    pattern = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
    return pattern @ v, pattern
    ### END SOLUTION


# %%
checks.check_causal_attention(causal_attention)

# %% [markdown]
# Your function inside the real model. The cell below runs an (untrained) paper-size
# transformer twice: once as it is, and once with every block's attention computed by *your*
# `causal_attention` from the block's own query, key and value weights. If your attention is
# right, the logits agree to float precision; and the chapter's causality test — change token
# $x_7$ and see which positions move — passes.

# %%
def run_with_my_attention(model, tokens, attention):
    """The model's logits, with every block's attention computed by ``attention(q, k, v)``."""
    resid = model.embed(tokens) + model.pos_embed.weight[: tokens.shape[1]]
    for block in model.blocks:
        attn = block.attn
        x = block.ln1(resid)
        B, L, _ = x.shape
        q, k, v = attn.qkv(x).view(B, L, 3, attn.n_heads, attn.d_head).permute(2, 0, 3, 1, 4)
        z, _ = attention(q, k, v)                                   # (B, H, L, d_head)
        resid = resid + attn.out(z.transpose(1, 2).reshape(B, L, attn.n_heads * attn.d_head))
        resid = resid + block.mlp(block.ln2(resid))
    return model.unembed(model.ln_final(resid))


model = build_model(TransformerConfig(), seed=0)
tokens = torch.tensor([[0, 1, 1, 2, 0, 0, 1, 2, 2, 1]])
changed = tokens.clone()
changed[0, 6] = 0                                                   # change x_7
try:
    with torch.no_grad():
        mine = run_with_my_attention(model, tokens, causal_attention)
        moved = (run_with_my_attention(model, changed, causal_attention) - mine).abs().amax(-1)[0]
        print("same logits as the model's own attention:",
              torch.allclose(mine, model(tokens), atol=1e-5))
        print("largest change at each position after changing x_7:", moved.numpy().round(4))
        print("positions 0-5 unchanged (causal):", bool((moved[:6] < 1e-6).all()))
except NotImplementedError:
    print("(finish Exercise 4.1 to run the model with your attention)")

# %% [markdown]
# ---
# ### Exercise 4.2 — A causality test ★★☆, ~15 min
#
# *Practises chapter 04, section 2.*
#
# **You will:** write the test that would have caught a broken mask — for any model, not just
# for an attention function — and see what a leak looks like.
#
# A causal model's output at position $p$ depends on tokens $x_1 \dots x_{p+1}$ only (positions
# $0 \dots p$). Measure it. Write `influence(model, tokens)`:
#
# * `tokens`: one sequence, an int64 tensor of shape `(L,)`;
# * for every position $t$ and every token value $v \ne$ `tokens[t]` (values `0 .. d_vocab - 1`,
#   `d_vocab = model.cfg.d_vocab`), replace `tokens[t]` by $v$, run the model, and compare its
#   logits with those on the original tokens;
# * return a NumPy array of shape `(L, L)`: `influence[t, p]` is the largest absolute change,
#   over the values $v$ and over the `d_vocab` logits, of the logits at position $p$.
#
# A causal model has `influence[t, p] == 0` for every $p < t$: the matrix is zero below the
# diagonal.
#
# <details><summary>Hint 1 — one forward pass</summary>
#
# The model wants a batch: `model(x[None])[0]` gives the logits of one sequence, shape
# `(L, d_vocab)`. Wrap everything in `with torch.no_grad():`.
# </details>
#
# <details><summary>Hint 2 — the loop</summary>
#
# Compute `base = model(tokens[None])[0]` once. For each `t` and `v`: `x = tokens.clone()`
# (never change `tokens` itself), `x[t] = v`, then `(model(x[None])[0] - base).abs().amax(-1)`
# is the change at every position, shape `(L,)`. Keep the elementwise maximum over `v` in row
# `t`.
# </details>

# %%
def influence(model, tokens):
    """How much each token moves each position's logits.

    Parameters
    ----------
    model : a beliefcourse Transformer (``model.cfg.d_vocab`` token values)
    tokens : torch.Tensor, int64, shape (L,)

    Returns
    -------
    ndarray, shape (L, L)
        influence[t, p] = max over v != tokens[t] of max_x |logits'[p, x] - logits[p, x]|,
        where logits' are computed with tokens[t] replaced by v.
    """
    ### BEGIN SOLUTION
    L, V = len(tokens), model.cfg.d_vocab
    out = np.zeros((L, L))
    with torch.no_grad():
        base = model(tokens[None])[0]
        for t in range(L):
            for v in range(V):
                if v == int(tokens[t]):
                    continue
                x = tokens.clone()
                x[t] = v
                change = (model(x[None])[0] - base).abs().amax(-1)
                out[t] = np.maximum(out[t], change.double().numpy())
    return out
    ### END SOLUTION


# %%
checks.check_influence(influence)

# %% [markdown]
# Now look at what a leak does. `checks.leaky_model(model)` returns a copy of a model with
# the causal mask removed from every block. Left: the untrained paper-size transformer; right:
# its leaky copy. Row $t$ shows which positions react when token $t$ changes.

# %%
if checks.check_influence(influence):
    tokens = torch.tensor([0, 1, 1, 2, 0, 0, 1, 2, 2, 1])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, (label, net) in zip(axes, [("causal", model), ("mask removed", checks.leaky_model(model))]):
        matrix = influence(net, tokens)
        below = np.tril(matrix, -1).max()
        im = ax.imshow(matrix, cmap="viridis")
        ax.set_title(f"{label}: largest entry below the diagonal {below:.2g}", fontsize=9)
        ax.set_xlabel("position p whose logits change")
        ax.set_ylabel("position t of the changed token")
        fig.colorbar(im, ax=ax, shrink=0.8)
        print(f"{label:12s}: causal = {below < 1e-6}")
    fig.tight_layout()
    plt.show()
else:
    print("(pass the check of Exercise 4.2 to see the two influence matrices)")

# %% [markdown]
# > **Question.** `checks.leaky_model(model, 1)` lets every attention layer read *one*
# > position ahead: position $p$ may also read $p + 1$. The model has 4 layers. Predict: when
# > the token at position $t$ changes, which earlier positions $p < t$ can react? Then run the
# > cell below.
# >
# > <details><summary>Answer</summary>
# >
# > Every $p \ge t - 4$. Each layer carries information one position back, and the layers
# > compound: in layer 2, position $p$ reads what layer 1 wrote at $p + 1$, which had read
# > $p + 2$, and so on. A one-position leak in every layer is a four-position leak for the
# > model. The reaction shrinks with the distance (the printed sizes) but is never exactly zero
# > up to $t - 4$, and is exactly zero from $t - 5$ on. A test that looked only one position
# > back would find a small leak; the influence matrix shows how deep it goes.
# > </details>

# %%
if checks.check_influence(influence):
    peek = influence(checks.leaky_model(model, 1), tokens)
    print(f"a model of {model.cfg.n_layers} layers, each reading one position ahead:")
    for d in range(1, 7):
        back = np.diag(peek, -d)                          # influence[t, t - d] for every t
        print(f"  position t - {d}: " + (f"moves, by up to {back.max():.0e}" if (back > 0).all()
                                         else "never moves" if (back == 0).all()
                                         else "moves for some t"))
else:
    print("(pass the check of Exercise 4.2 to test the model that peeks one token ahead)")

# %% [markdown]
# Why test this directly? Trained on sampled next tokens, a model that can read the future
# learns to *copy* the next token from its input: its training loss falls far below $h(p+2)$,
# and the model is useless at generation time, when the future does not exist yet. The
# chapter's exact loss does catch a model that copies: it scores the prediction against the
# whole next-token *distribution*, and a model sure of the token it peeked at pays for the
# others. But a leaky model trained on soft targets has nothing to copy towards and can sit at
# the floor while still reading the future, and the exact loss equals the paper's loss over
# 11-token windows only for causal models. So causality is worth a test of its own, run on the
# model itself.

# %% [markdown]
# ---
# ### Exercise 4.3 — Relative loss per position ★☆☆, ~10 min
#
# *Practises chapter 04, sections 1 and 4.*
#
# **You will:** compare a model's loss at each position with the least loss possible *there*
# — the number that tells you how close to Bayes-optimal a model is.
#
# Write `relative_loss(loss, h)`:
#
# * `loss`, shape `(n_ctx,)`: the model's exact expected loss at positions $p = 0 \dots n_\text{ctx}-1$;
# * `h`, shape `(n_ctx + 1,)`: myopic entropies **starting at $h(1)$**, i.e. `h[0]` $= h(1)$,
#   `h[1]` $= h(2)$, …, `h[n_ctx]` $= h(n_\text{ctx}+1)$ — what
#   `information.myopic_entropy(hmm, np.arange(1, n_ctx + 2))` returns;
# * return, shape `(n_ctx,)`, the loss at each position divided by the least possible loss at
#   that position.
#
# <details><summary>Hint</summary>
#
# Position $p$ predicts $x_{p+2}$ from $p + 1$ tokens, so its floor is $h(p+2)$ — and $h(p+2)$
# sits at index $p + 1$ of `h`. Write the index arithmetic out for $p = 0$ before slicing.
# </details>

# %%
def relative_loss(loss, h):
    """Per-position relative loss.

    Parameters
    ----------
    loss : ndarray, shape (n_ctx,)
        Exact expected loss (nats) at positions 0..n_ctx-1.
    h : ndarray, shape (n_ctx + 1,)
        h[k] = myopic entropy h(k + 1) in nats, for k = 0..n_ctx.

    Returns
    -------
    ndarray, shape (n_ctx,)
        loss[p] / h(p + 2) for p = 0..n_ctx-1; 1 is optimal.
    """
    ### BEGIN SOLUTION
    loss, h = np.asarray(loss, dtype=float), np.asarray(h, dtype=float)
    return loss / h[1:len(loss) + 1]
    ### END SOLUTION


# %%
checks.check_relative_loss(relative_loss)

# %% [markdown]
# ---
# ### Exercise 4.4 — The exact expected loss ★★☆, ~20 min
#
# *Practises chapter 04, section 3.*
#
# **You will:** compute a model's validation loss with no sampling error at all, from its
# logits on every context and the exact next-token distributions.
#
# Write `exact_loss(logits, next_token_probs, probs)` returning, for every position $p$,
#
# $$
# \mathcal L_p = \sum_{n} P(\text{sequence } n) \sum_x P(x \mid x_{1:p+1}^{(n)})\,\big(-\ln q_p^{(n)}(x)\big),
# \qquad q_p^{(n)} = \operatorname{softmax}\big(\text{logits}[n, p]\big),
# $$
#
# where
#
# * `logits`, shape `(N, L, X)`: the model's raw outputs on all $N$ contexts (a NumPy array);
# * `next_token_probs`, shape `(N, L, X)`: the exact $P(x_{p+2} = x \mid x_{1:p+1})$;
# * `probs`, shape `(N,)`: the probability of each context (they sum to 1).
#
# Return a NumPy array of shape `(L,)`, in nats. Logits can be large (a confident model's
# logits differ by tens): compute $\ln q$ without overflow.
#
# <details><summary>Hint 1 — log-softmax</summary>
#
# $\ln \operatorname{softmax}(z)_x = z_x - \ln\sum_{x'} e^{z_{x'}}$. Subtract the maximum
# before exponentiating: $\ln\sum e^{z} = m + \ln\sum e^{z - m}$ with $m = \max z$. Or
# `scipy.special.log_softmax(logits, axis=-1)`, or `torch.log_softmax` on
# `torch.from_numpy(logits)`. `np.log(softmax)` underflows to `-inf` for very unlikely tokens.
# </details>
#
# <details><summary>Hint 2 — the weights</summary>
#
# The sum over sequences is weighted by `probs` — not a plain mean. `np.einsum("n,npx,npx->p",
# probs, next_token_probs, -log_q)` does the whole formula in one line.
# </details>

# %%
def exact_loss(logits, next_token_probs, probs):
    """Exact expected cross-entropy per position (nats).

    Parameters
    ----------
    logits : ndarray, shape (N, L, X)
    next_token_probs : ndarray, shape (N, L, X)
    probs : ndarray, shape (N,)

    Returns
    -------
    ndarray, shape (L,)
    """
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    m = z.max(axis=-1, keepdims=True)
    log_q = z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    return np.einsum("n,npx,npx->p", probs, next_token_probs, -log_q)
    ### END SOLUTION


# %%
checks.check_exact_loss(exact_loss)

# %% [markdown]
# ---
# ### Exercise 4.5 — One training step ★★☆, ~15 min
#
# *Practises chapter 04, sections 3 and 4.*
#
# **You will:** write the heart of every training loop, for both kinds of target the chapter
# uses.
#
# Write `training_step(model, optimizer, inputs, targets)` that does one optimizer update on
# the batch and returns the batch loss (computed *before* the update) as a Python `float`.
#
# * `inputs`: int64 tensor `(B, L)`; `model(inputs)` gives logits `(B, L, X)`.
# * `targets`: either int64 `(B, L)` — the sampled next tokens — or float `(B, L, X)` — the
#   next-token distributions (soft targets). Check `targets.is_floating_point()`.
# * The loss is the cross-entropy in nats, **averaged** over the batch and the positions.
#
# <details><summary>Hint 1 — the loss for both kinds</summary>
#
# Write `log_q = model(inputs).log_softmax(-1)`. Sampled targets: `-log_q.gather(-1,
# targets[..., None]).mean()` (or `F.cross_entropy` on flattened tensors). Soft targets:
# `-(targets * log_q).sum(-1).mean()` — sum over tokens, mean over batch and positions.
# </details>
#
# <details><summary>Hint 2 — the order</summary>
#
# Gradients *accumulate* in `.grad` until you clear them: `optimizer.zero_grad()`, then
# `loss.backward()`, then `optimizer.step()`. Return `loss.item()` — returning the tensor
# itself keeps the whole computation graph alive.
# </details>

# %%
def training_step(model, optimizer, inputs, targets):
    """One optimizer step on one batch; returns the batch's mean loss (nats) as a float."""
    ### BEGIN SOLUTION
    log_q = model(inputs).log_softmax(-1)
    if targets.is_floating_point():
        loss = -(targets * log_q).sum(-1).mean()
    else:
        loss = -log_q.gather(-1, targets[..., None]).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


# %%
checks.check_training_step(training_step)

# %% [markdown]
# ---
# ## Putting it together
#
# Train a small transformer on Mess3 with your `training_step` (AdamW, soft targets, 600 steps
# of 256 contexts — about 15 seconds), then judge it with your `exact_loss` and
# `relative_loss`. The package's `ExactData` provides the contexts, their probabilities and
# the exact next-token distributions; `information.myopic_entropy` the floor.

# %%
ready = [checks.check_training_step(training_step), checks.check_exact_loss(exact_loss),
         checks.check_relative_loss(relative_loss)]
if all(ready):
    data = ExactData(mess3, n_ctx=10)
    h = information.myopic_entropy(mess3, np.arange(1, 12))       # h(1) .. h(11)
    model = build_model(TransformerConfig(n_layers=2, d_model=32, d_mlp=64), seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)            # the last digits depend on the thread count: pin it
    try:
        losses = [training_step(model, optimizer, *data.sample_batch(256, gen, targets="expected"))
                  for _ in range(600)]
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        logits = model(torch.tensor(data.inputs)).double().numpy()
    rel = relative_loss(exact_loss(logits, data.next_token_probs, data.probs), h)
    print("relative loss per position:", rel.round(4))
    print(f"mean relative loss: {rel.mean():.4f}")
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(losses, lw=0.8)
    ax.axhline(data.optimal_loss.mean(), color="k", ls="--", lw=1, label="optimum (mean of h(p+2))")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (soft targets) [nats]")
    ax.set_ylim(0.75, 1.2)
    ax.legend(frameon=False)
    plt.show()
else:
    print("(pass the checks of Exercises 4.3-4.5 to train and evaluate your own transformer)")

# %% [markdown]
# With soft targets the training loss is itself an unbiased estimate of the exact loss, and
# it settles on the dashed line — the optimum — rather than at zero.
#
# ---
# ## Wrap-up
#
# You have written the parts of the pipeline that decide whether a number can be trusted: the
# mask that keeps the model honest and the test that proves it does, the exact loss that
# leaves no sampling error, the per-position comparison with the right floor, and the update
# itself.
#
# **Going further (no checker).**
#
# * Replace soft targets by `targets="sampled"` in the last cell, keep everything else, and
#   compare the final relative loss. Then halve the learning rate. Which change matters more,
#   and why (chapter 04, section 3)?
# * Remove the position embedding (set `model.pos_embed.weight` to zero and freeze it with
#   `requires_grad_(False)`) and train again. Which positions suffer, and why can a causal
#   transformer still tell *some* positions apart without it? (Hint: what does position 0's
#   attention pattern look like?)
# * Train the paper's recipe for 20,000 steps (`PRESETS["mess3-paper-sgd"]` with
#   `n_tokens=12_800_000`) and compare its relative loss with the AdamW preset at the same
#   number of tokens.
#
# Next: chapter 05, *Probing the residual stream*.
