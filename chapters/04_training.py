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
# # 04 · Training a small transformer on a hidden Markov process
#
# *Reading time ≈ 75 minutes; running time ≈ 52 seconds (measured, CPU on one thread).
# Prerequisites: chapter 02 (beliefs, the myopic entropy $h(L)$ and the table that lines up
# transformer positions with beliefs); basic PyTorch (tensors, `nn.Module`, an optimizer step).
# Chapter 03 helps but is not needed until chapter 05.*
#
# Chapters 01–03 were about an *ideal* observer: given the tokens so far, Bayes' rule gives
# the belief over hidden states, and the belief gives the best possible prediction of the next
# token. Now we train a *real* predictor — a four-layer transformer, the architecture of Shai
# et al. (2024) — on nothing but next-token prediction, and hold it to that ideal. This chapter
# builds the model from its parts, builds the data so that the validation loss is **exact**,
# trains a small model live, and then loads the course's fully trained checkpoints. By the end
# we will know that the transformer predicts almost exactly as well as Bayes' rule allows.
# Chapter 05 then opens it up and asks *how*: does its residual stream contain the belief?
#
# **After this chapter you will be able to**
#
# 1. name every part of a decoder-only transformer — embeddings, attention, MLP, LayerNorm,
#    unembedding — give the shape of what each produces, write one attention head in six
#    lines, and read the package's fused attention and block code;
# 2. explain why the *residual stream* is the place to look for what a transformer represents,
#    and verify that it is the sum of everything the layers write;
# 3. build the exact data distribution (every context with its probability — the paper
#    listed every 11-token window), compute an exact validation loss, and explain why a
#    sampled estimate could not resolve the numbers we care about;
# 4. explain why *soft* (expected) targets give the same gradient on average as sampled next
#    tokens, with less noise — and measure the difference;
# 5. train a model and read its loss **per position** against the optimum $h(p+2)$; say what a
#    relative loss of 1.0002 means in nats and as a KL divergence;
# 6. load the shipped checkpoints, read their training history, and compare their budget with
#    the paper's 629 million tokens of SGD.
#
# Practice: `exercises/04_training.ipynb` (causal attention, a causality test, relative loss,
# the exact loss, a training step).

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import torch

from beliefcourse import checkpoints, information, processes
from beliefcourse.data import ExactData
from beliefcourse.model import (Attention, Block, Transformer, TransformerConfig, build_model,
                                param_count)
from beliefcourse.train import PRESETS, train

np.set_printoptions(precision=4, suppress=True)
mess3 = processes.mess3()                      # x = 0.05, alpha = 0.85: the paper's Mess3

# %% [markdown]
# ## 1. The task, and the best anyone can do
#
# The transformer reads a context of $n_\text{ctx} = 10$ tokens $x_1 \dots x_{10}$ drawn from
# Mess3, started from its stationary distribution. At every position it outputs a distribution
# over the next token. Chapter 02 fixed the alignment, and we repeat it because everything below
# depends on it:
#
# | position $p$ (0-based) | has read | predicts | Bayes' belief there | least possible loss |
# |---|---|---|---|---|
# | 0 | $x_1$ | $x_2$ | $\eta_1$ (after 1 token) | $h(2)$ |
# | $p$ | $x_1 \dots x_{p+1}$ | $x_{p+2}$ | $\eta_{p+1}$ | $h(p+2)$ |
# | 9 | $x_1 \dots x_{10}$ | $x_{11}$ | $\eta_{10}$ | $h(11)$ |
#
# The loss is cross-entropy in nats. By Gibbs' inequality (chapter 02, section 6) no predictor
# can have expected loss below $h(p+2)$ at position $p$, and the predictor that attains it
# outputs $P(x \mid \eta_{p+1}) = \eta_{p+1} T^{(x)} \mathbf 1$ — it runs Bayes' rule. These ten
# numbers are our yardstick:

# %%
floor = information.myopic_entropy(mess3, np.arange(2, 12))      # h(p + 2) for p = 0..9, nats
for p, h in enumerate(floor):
    print(f"position {p}: reads x_1..x_{p + 1:<2d} predicts x_{p + 2:<2d} "
          f"least loss h({p + 2:2d}) = {h:.4f} nats")
print(f"mean over positions: {floor.mean():.4f} nats (entropy rate {information.entropy_rate(mess3):.4f})")

# %% [markdown]
# Early positions have less context, so even a perfect predictor loses more there: one token
# of Mess3 context leaves 0.8577 nats of uncertainty, ten tokens leave 0.7935. A model's loss
# must therefore be judged **per position**, against its own floor.

# %% [markdown]
# ## 2. The model, part by part
#
# The paper used TransformerLens's `HookedTransformer` with 4 layers, a residual stream of
# width $d_\text{model} = 64$, one attention head of size 8, an MLP of width 256, ReLU,
# LayerNorm before each sublayer ("pre-LN"), learned absolute position embeddings and no
# beginning-of-sequence token (an extra, fixed first token that some models prepend to every
# input). `beliefcourse.model` re-implements exactly that in one short,
# readable file, with TransformerLens's parameter and hook names, so that code written for one
# reads the same for the other.

# %%
cfg = TransformerConfig()                      # the defaults are the paper's Mess3 model


def show(text, indent=4):
    """Print a long line wrapped at 90 characters, breaking only between words."""
    print(textwrap.fill(str(text), 90, subsequent_indent=" " * indent, break_long_words=False,
                        break_on_hyphens=False))


show(cfg)
untrained = build_model(cfg, seed=0)
print(f"parameters: {param_count(untrained):,}")
for name, module in [("embed (W_E)", untrained.embed), ("pos_embed (W_pos)", untrained.pos_embed),
                     ("one block", untrained.blocks[0]), ("ln_final", untrained.ln_final),
                     ("unembed (W_U, b_U)", untrained.unembed)]:
    print(f"  {name:20s} {param_count(module):7,}")
print(f"  {'4 blocks':20s} {4 * param_count(untrained.blocks[0]):7,}")

# %% [markdown]
# Almost all parameters sit in the four blocks, and within a block most sit in the MLP
# ($2 \times 64 \times 256$ weights). The pieces, in the order the data meets them, with
# $B$ sequences of length $L$:
#
# 1. **Token embedding** $W_E$ `(3, 64)`: token $x$ becomes the row $W_E[x]$. Output `(B, L, 64)`.
# 2. **Position embedding** $W_\text{pos}$ `(10, 64)`: position $p$ adds the row $W_\text{pos}[p]$.
#    Without it, attention (a weighted sum) would be blind to order, apart from what the causal
#    mask itself reveals, such as how many positions a query can see. The sum of the two is the
#    initial **residual stream**, `blocks.0.hook_resid_pre`.
# 3. Four **blocks**, each: LayerNorm → attention → *add* to the stream; LayerNorm → MLP →
#    *add* to the stream.
# 4. **Final LayerNorm** and **unembedding** $W_U$ `(64, 3)` plus bias: logits `(B, L, 3)`,
#    whose softmax at position $p$ is the predicted distribution of $x_{p+2}$.
#
# The same list as a picture. The thick line is the residual stream: each sublayer reads a
# LayerNorm'd copy of it and **adds** its output back; every tensor on the stream has the shape
# `(B, L, 64)`. The labels under the ⊕ signs are the hook names chapter 05 reads out.

# %%
from beliefcourse.plotting_diagrams import plot_transformer_diagram

plot_transformer_diagram(cfg, title="The paper's transformer as a residual stream "
                         "(B sequences of L ≤ 10 tokens)")
plt.show()

# %% [markdown]
# That list *is* the forward pass. Here it is in the package (the `record` calls only store
# intermediate tensors when we ask for them; ignore them for now):

# %%
print(inspect.getsource(Transformer._run))

# %% [markdown]
# Notice what is *not* there: no recurrence, nothing that carries state from one position to
# the next. Every position is processed by the same weights in parallel, and the only place
# where one position can learn about another is inside `block(...)` — in attention.
#
# ### Attention
#
# Attention is the only place where information moves *between* positions. We first write one
# head out in full, with the weights of the first layer of the course's trained model (the
# shipped checkpoint of section 5), and then compare it with the package's version. For one
# sequence of $L$ positions, with $h$ the `(L, 64)` LayerNorm'd stream the layer reads:
#
# * Three linear maps give every position a query $q_p = h_p W_Q + b_Q$ ("what am I looking
#   for?"), a key $k_s$ ("what do I offer?") and a value $v_s$ ("what do I pass on?"), each of
#   size $d_\text{head} = 8$.
# * The score of query position $p$ for key position $s$ is $q_p \cdot k_s / \sqrt{d_\text{head}}$.
#   The $\sqrt{d_\text{head}}$ keeps the scores' scale independent of the head size: a dot
#   product of two random $d$-vectors with unit-variance entries has variance $d$.
# * **The causal mask** sets every score with $s > p$ to $-\infty$: position $p$ may only look
#   at positions $0 \dots p$. Without it the model could read the very token it is asked to
#   predict.
# * `softmax(dim=-1)` normalises over the **keys** $s$, so each row of the pattern — one query
#   position — is a probability distribution over the positions it may read.
# * The output at $p$ is $\sum_s \text{pattern}_{ps}\, v_s$, mapped back to width 64 by $W_O$.
#
# In code, one line per bullet. Two things the code does that the bullets do not say: PyTorch's
# `nn.Linear` stores its weight as `(out, in)`, so the code's `W_Q` is `(8, 64)` and $h_p W_Q$
# above is `h @ W_Q.T`; and `run_with_cache(tokens, names)` runs the model once and returns the
# logits together with `cache`, a dictionary from each requested hook name to the tensor
# recorded there (batch first, so `[0]` picks our one sequence).

# %%
trained, _ = checkpoints.load("mess3")         # the shipped, fully trained model (section 5)


def one_head_attention(h, attn, d_head):
    """One attention head written out: h (L, d_model) -> (pattern (L, L), output (L, d_model))."""
    W_Q, W_K, W_V = attn.qkv.weight.split(d_head)          # each (d_head, d_model)
    b_Q, b_K, b_V = attn.qkv.bias.split(d_head)
    L = h.shape[0]
    Q, K, V = h @ W_Q.T + b_Q, h @ W_K.T + b_K, h @ W_V.T + b_V         # (L, d_head) each
    scores = Q @ K.T / d_head ** 0.5                                     # (L, L): [query p, key s]
    future = torch.ones(L, L, dtype=torch.bool).triu(1)                  # s > p
    pattern = scores.masked_fill(future, float("-inf")).softmax(dim=-1)  # rows sum to 1
    return pattern, pattern @ V @ attn.out.weight.T + attn.out.bias      # (L, d_model)


tokens = torch.tensor([[0, 1, 1, 2, 0, 0, 1, 2, 2, 1]])     # one context: A B B C A A B C C B
names = ["blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern", "blocks.0.hook_attn_out"]
with torch.no_grad():
    _, cache = trained.run_with_cache(tokens, names)
    h = trained.blocks[0].ln1(cache["blocks.0.hook_resid_pre"][0])     # what layer 0 reads
    pattern, attn_out = one_head_attention(h, trained.blocks[0].attn, cfg.d_head)
print("h:", tuple(h.shape), " pattern:", tuple(pattern.shape), " output:", tuple(attn_out.shape))
print("pattern = the model's blocks.0.attn.hook_pattern (to within 1e-5):",
      bool((pattern - cache["blocks.0.attn.hook_pattern"][0, 0]).abs().max() < 1e-5))
print("output  = the model's blocks.0.hook_attn_out     (to within 1e-5):",
      bool((attn_out - cache["blocks.0.hook_attn_out"][0]).abs().max() < 1e-5))

# %% [markdown]
# The package computes exactly this, for a batch of sequences and any number of heads at once:

# %%
print(inspect.getsource(Attention))

# %% [markdown]
# The differences are bookkeeping. `self.qkv` stacks $W_Q, W_K, W_V$ (for all $H$ heads) into
# one `(3 H d_head, 64)` matrix, so one matrix product gives all three; `.view(B, L, 3, H,
# d_head).permute(2, 0, 3, 1, 4)` cuts the result into `q`, `k`, `v` of shape
# `(B, H, L, d_head)`; the mask `future` is built once, as a buffer; and the heads' outputs are
# concatenated before $W_O$. With $H = 1$ it is the function above, line for line.
#
# ### What the trained model's first layer attends to
#
# > **Question (predict, then run the next cell).** Row $p$ of the pattern says how position
# > $p$ spreads its attention over positions $0 \dots p$. What must row 0 be, whatever the
# > weights? And will layer 0's pattern change much if the context changes from
# > `ABBCAABCCB` to `AAAAAAAAAA`?
# >
# > <details><summary>Answer</summary>
# >
# > Row 0 is $(1, 0, \dots, 0)$ for every model: position 0 may read only itself, and a
# > softmax over one score is 1. The two patterns below are almost the same (the printed
# > difference): the first layer attends by *position*, not by token — it puts the most weight
# > on the token just before the current one, less and less on older ones, and little on the
# > current token itself. Chapter 05b measures how fast that weight decays with distance, and
# > chapter 07 explains it.
# > </details>

# %%
constant = torch.zeros(1, 10, dtype=torch.long)              # A A A A A A A A A A
with torch.no_grad():
    patterns = [trained.run_with_cache(t, "blocks.0.attn.hook_pattern")[1]
                ["blocks.0.attn.hook_pattern"][0, 0].numpy() for t in (tokens, constant)]

fig, axes = plt.subplots(1, 2, figsize=(10, 4.3), constrained_layout=True)
for ax, pat, label in zip(axes, patterns, ["ABBCAABCCB", "AAAAAAAAAA"]):
    image = ax.imshow(pat, cmap="Blues", vmin=0, vmax=1)
    for p, s in zip(*np.nonzero(pat >= 0.18)):
        ax.text(s, p, f"{pat[p, s]:.2f}", ha="center", va="center", fontsize=8,
                color="white" if pat[p, s] > 0.6 else "black")
    ax.set_xticks(range(10), [f"{s}\n{label[s]}" for s in range(10)])
    ax.set_yticks(range(10))
    ax.set(xlabel="key position s (and its token)", ylabel="query position p",
           title=f"context {label}")
fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
fig.suptitle("Attention pattern of layer 0 of the trained model", fontsize=11)
plt.show()
print(f"largest difference between the two patterns: {np.abs(patterns[0] - patterns[1]).max():.2f}")
print("row 9 (context ABBCAABCCB), keys 9, 8, 7, 6:", patterns[0][9, [9, 8, 7, 6]].round(2))

# %% [markdown]
# The mask is easy to get wrong and easy to test: change a *later* token and nothing at
# earlier positions may change.
#
# > **Question (predict, then run the next cell).** The next cell changes $x_7$, the token at
# > position 6, and compares the untrained model's logits before and after. At which positions
# > can the logits change?
# >
# > <details><summary>Answer</summary>
# >
# > At positions 6, 7, 8 and 9 only: position 6 is the first to read $x_7$, and the causal
# > mask hides it from positions 0–5 in every layer. (Positions 6–9 *may* change; a model
# > could in principle ignore $x_7$, but an untrained one does not.)
# > </details>

# %%
tokens = torch.tensor([[0, 1, 1, 2, 0, 0, 1, 2, 2, 1]])
changed = tokens.clone()
changed[0, 6] = 0                              # change x_7, seen first by position 6
with torch.no_grad():
    diff = (untrained(tokens) - untrained(changed)).abs().amax(-1)[0]
print("largest change of the logits at each position:", diff.numpy().round(4))
print("positions 0-5 unchanged:", bool((diff[:6] == 0).all()))

# %% [markdown]
# Positions 0–5 are untouched to the last bit; from position 6 on, everything may change.
# Exercise 4.1 asks you to write attention yourself; Exercise 4.2 turns this test into a tool
# that checks any model, and shows what a leak looks like.
#
# ### The MLP and the block
#
# The MLP acts on each position separately: $64 \to 256 \to \text{ReLU} \to 64$. A block wraps
# attention and MLP in LayerNorms and residual additions:

# %%
print(inspect.getsource(Block))

# %% [markdown]
# The two lines to notice are `resid = resid + attn_out` and `resid = resid + mlp_out`. A
# block never *replaces* the residual stream; it reads a normalised copy and **adds** its
# output. LayerNorm subtracts the mean over the 64 features and divides by their standard
# deviation (then applies a learned scale and shift); it is applied to what a sublayer
# *reads*, never to the stream itself — except once, at the very end, before the unembedding.
#
# ### Why the residual stream is the place to look
#
# Unrolling the additions, the final residual stream at position $p$ is a plain sum
#
# $$
# r_p = \underbrace{W_E[x_{p+1}] + W_\text{pos}[p]}_{\text{embeddings}}
#     + \sum_{\ell=0}^{3} \big(\text{attn}_\ell(\cdot)_p + \text{mlp}_\ell(\cdot)_p\big),
# $$
#
# and the prediction at $p$ is computed from $r_p$ alone: $\text{logits}_p =
# \text{LN}(r_p)\, W_U + b_U$ (rows times matrices, as everywhere in the course). Everything the model knows about $x_1 \dots x_{p+1}$ that affects its
# prediction must therefore be in $r_p$; and everything one layer passes to the next at that
# position passes *through* the stream (Elhage et al., 2021, call it the model's
# communication channel). If the network computes something like a belief, the residual
# stream is where it has to be. The additive structure is not a metaphor — the cache lets us
# check it to float precision:

# %%
hooks = ["hook_embed", "hook_pos_embed", "blocks.3.hook_resid_post"]
hooks += [f"blocks.{l}.hook_{part}_out" for l in range(4) for part in ("attn", "mlp")]
with torch.no_grad():
    logits, cache = untrained.run_with_cache(tokens, hooks)
total = sum(cache[h] for h in hooks if h != "blocks.3.hook_resid_post")
for name in ["hook_embed", "blocks.0.hook_attn_out", "blocks.3.hook_resid_post"]:
    print(f"{name:26s} shape {tuple(cache[name].shape)}")
print("resid_post of the last block = embeddings + all attention and MLP outputs:",
      torch.allclose(total, cache["blocks.3.hook_resid_post"], atol=1e-5))

# %% [markdown]
# Two remarks that chapter 05 will need. First, 64 dimensions is far more than the 2 numbers
# a Mess3 belief needs (three probabilities summing to one), so the stream has room for a
# belief and much else. Second, the final LayerNorm is *not* linear (it divides by a norm), so
# a linear read-out of the stream before it and after it are different questions; chapter 05
# asks both. The hook names you can read out are:

# %%
show(", ".join(untrained.hook_names))

# %% [markdown]
# ## 3. The data: every context, with its exact probability
#
# A language model is usually trained on a fixed corpus and validated on a held-out sample.
# Shai et al. did something better, which the small size of the problem allows: they
# **enumerated** every possible context with its exact probability. Mess3 can emit any token
# from any state, so all $3^{10} = 59{,}049$ ten-token contexts are possible.
# `ExactData` lists them, with the quantities the alignment table names:

# %%
data = ExactData(mess3, n_ctx=10)
print(data)
print("inputs          ", data.inputs.shape, "  e.g.", data.inputs[1234])
print("probs           ", data.probs.shape, f"  sum = {data.probs.sum():.12f}")
print("beliefs         ", data.beliefs.shape, "  position p holds the belief after p + 1 tokens")
print("next_token_probs", data.next_token_probs.shape, " P(x_{p+2} | x_1..x_{p+1})")
print("optimal_loss    ", data.optimal_loss.round(4))
print("same as h(p + 2) from section 1:", np.allclose(data.optimal_loss, floor))

# %% [markdown]
# ### An exact validation loss
#
# For a model $q$, the expected loss at position $p$ is
#
# $$
# \mathcal L_p(q) = \sum_{x_{1:10}} P(x_{1:10}) \sum_x P(x \mid x_{1:p+1})\,\big(-\ln q_p(x \mid x_{1:p+1})\big),
# $$
#
# a finite sum: one forward pass over the 59,049 contexts, weighted by their probabilities and
# by the exact next-token distributions. `data.exact_loss(model)` computes it. (The paper summed
# over all $3^{11}$ *eleven*-token windows instead, inputs and targets shifted by one. The two
# sums are equal — the model is causal, so summing over the tokens it has not read just
# marginalises them away — and ours needs a third of the forward passes. Here is the check on
# 5-token contexts, where both are instant:)

# %%
small = ExactData(mess3, n_ctx=5)
windows, window_probs = small.windows()        # all 3^6 six-token windows
with torch.no_grad():
    logq = untrained(torch.from_numpy(windows[:, :-1])).double().log_softmax(-1).numpy()
targets = windows[:, 1:]
window_loss = -(window_probs[:, None] * np.take_along_axis(logq, targets[..., None], -1)[..., 0]).sum(0)
print(f"{len(windows)} windows of 6 tokens: loss per position", window_loss.round(6))
print(f"{len(small)} contexts, exact targets:  loss per position", small.exact_loss(untrained).round(6))

# %% [markdown]
# Why insist on exactness? Because the numbers we want to resolve are tiny. The paper's model
# ended 0.02 % above the optimum (a *relative loss* — loss divided by its floor — of 1.0002;
# section 4 looks at it closely). Estimating a loss from sampled tokens has a standard error
# of $\sigma/\sqrt{n}$, where $\sigma$ is the standard deviation of the per-token loss. Even for
# the *optimal* predictor that spread is large — an unlikely token costs many nats — and we
# can compute it exactly:

# %%
p_next = data.next_token_probs                                   # (N, 10, 3)
surprise = -np.log(p_next)                                       # loss of the optimal predictor
second_moment = np.einsum("n,npx,npx->p", data.probs, p_next, surprise ** 2)
sigma = np.sqrt(second_moment - data.optimal_loss ** 2).mean()
target_se = 0.0002 * data.optimal_loss.mean()                    # resolve a relative loss of 1.0002
print(f"std of the per-token loss of the optimal predictor: {sigma:.3f} nats")
print(f"tokens needed for a standard error of 0.02 % of the loss: {(sigma / target_se) ** 2:.1e}")

# %% [markdown]
# Twenty million validation tokens just to bring the standard error down to the size of the
# gap we want to see — and that assumes independent tokens, which tokens of one sequence are
# not. (A *paired* estimate, the model's loss minus the Bayes predictor's on the same tokens,
# is far less noisy; but it needs the Bayes predictor, and once we have that we may as well
# sum exactly.) The exact sum costs one forward pass over 59,049 contexts — a few seconds —
# and has no error at all. It is the best idea in the paper's code base, and it is what lets
# this chapter talk about the fifth decimal of a loss.
#
# ### Training batches, and soft targets
#
# Training still uses random batches. `data.sample_batch(B)` draws $B$ contexts i.i.d. with
# probability $P(x_{1:10})$ and returns the next tokens as targets — statistically the same as
# sampling fresh sequences from the process, which is what the paper did. Every batch is new
# data; there is no fixed training set to overfit.
#
# But we know more than one sampled next token: we know the whole distribution
# $P(\cdot \mid x_{1:p+1})$. With `targets="expected"` each position's target is that
# distribution, and the loss term becomes
#
# $$
# \sum_x P(x \mid x_{1:p+1})\,\big(-\ln q_p(x)\big)
# = \mathbb E\big[-\ln q_p(X_{p+2}) \,\big|\, x_{1:p+1}\big],
# $$
#
# the conditional expectation of the sampled term given what the position has read. Its
# expectation over contexts is the same, so the two kinds of batch give the same expected loss
# and the same expected gradient. It has *smaller* variance: for any random variables $Y$ and
# $C$, $\mathrm{Var}(Y) = \mathbb E[\mathrm{Var}(Y \mid C)] + \mathrm{Var}(\mathbb E[Y \mid C])
# \ge \mathrm{Var}(\mathbb E[Y \mid C])$ (the law of total variance; here $Y$ is the sampled
# term and $C$ the context). Replacing a random variable by its conditional expectation is
# called Rao–Blackwellisation: the noise of drawing $x_{p+2}$ is gone. Both kinds of batch,
# side by side:

# %%
gen = torch.Generator().manual_seed(0)
x, y_sampled = data.sample_batch(2, gen, targets="sampled")
gen = torch.Generator().manual_seed(0)
_, y_soft = data.sample_batch(2, gen, targets="expected")
print("inputs           ", x[0].tolist())
print("sampled targets  ", y_sampled[0].tolist(), " (the input shifted left, plus one new token)")
print("expected targets (first 3 positions):")
print(y_soft[0, :3].numpy().round(3))

# %% [markdown]
# How much less noise? We measure the gradient of the batch loss on 40 batches of 64 contexts,
# with both kinds of target, and compare the batch-to-batch variance of the 40 gradients
# (the mean squared distance from their average). We do it twice: at the untrained network,
# and at the course's fully trained network (section 5 introduces the shipped checkpoints;
# here we only need a model near the optimum).
#
# > **Question (predict, then run the next cell).** At which of the two networks will soft
# > targets help more: the untrained one or the trained one? Guess the ratio of the two
# > variances at each, to within a factor of ten.
# >
# > <details><summary>Answer</summary>
# >
# > At the trained one, by far: the printed ratio is about 2 at the untrained network and tens
# > of thousands at the trained one. Near the optimum the soft-target gradient of each context
# > is nearly zero, while a sampled target still pushes towards whichever token came next. The
# > paragraph after the cell explains it.
# > </details>

# %%
from beliefcourse.train import batch_loss    # mean cross-entropy; handles both kinds of target

# `trained`, the final shipped checkpoint, was loaded in section 2


def gradient(model, inputs, targets):
    model.zero_grad()
    batch_loss(model(inputs), targets).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


for label, net in [("untrained", untrained), ("trained", trained)]:
    variance = {}
    for kind in ("sampled", "expected"):
        gen = torch.Generator().manual_seed(1)
        g = torch.stack([gradient(net, *data.sample_batch(64, gen, targets=kind))
                         for _ in range(40)])
        variance[kind] = (g - g.mean(0)).pow(2).sum(1).mean().item()
    print(f"{label:9s} network: gradient variance {variance['sampled']:.2e} (sampled targets), "
          f"{variance['expected']:.2e} (expected targets), ratio "
          f"{variance['sampled'] / variance['expected']:.2g}")

# %% [markdown]
# At the untrained network the soft targets cut the variance by about half: most of the noise
# there comes from *which contexts* were drawn, and both kinds of batch share that. At the
# trained network the difference is dramatic — a factor of tens of thousands. Near the optimum the model's prediction $q_p$ is close to
# $P(\cdot \mid x_{1:p+1})$, so the soft-target gradient of every single context is close to
# zero; the sampled-target gradient is not — it pushes towards whichever token happened to
# come next, and only the average of many such pushes vanishes. Fine-tuning the last digits of
# the loss is exactly the regime where that noise hurts. The course's presets therefore train
# on expected targets (the `mess3-paper-sgd` preset keeps the paper's sampled targets, for
# comparison). What soft targets do *not* change: the minimum of the expected loss is still
# $h(p+2)$, reached by the same Bayes-optimal predictor — the training loss just never goes to
# zero.

# %% [markdown]
# ## 4. Training, live
#
# The package's `train` runs the loop you would write yourself — sample a batch, forward,
# loss, backward, optimizer step — plus a learning-rate schedule, exact evaluation and
# checkpoints. Its heart is six lines (Exercise 4.5 has you write them):
#
# ```python
# inputs, targets = data.sample_batch(config.batch_size, generator, config.targets)
# loss = batch_loss(model(inputs), targets)      # mean cross-entropy over batch and positions
# optimizer.zero_grad(set_to_none=True)
# loss.backward()
# optimizer.step()
# scheduler.step()
# ```
#
# For a live run we use the preset `mess3-tiny`, lengthened to 2,000 steps: the same data, a
# smaller transformer (2 layers, $d_\text{model} = 32$, about 13 times fewer parameters), AdamW with
# a short warm-up and a cosine decay of the learning rate, 256 contexts per step, soft
# targets, seed 0. We ask for an exact evaluation every 100 steps so that we can watch the
# loss fall; `train` also evaluates at the preset's log-spaced checkpoint steps (4, 31 and 250
# here), which is why those appear in the list printed below. It takes about a minute on one CPU core; nothing is written to disk.

# %%
tiny = PRESETS["mess3-tiny"].replace(n_tokens=5_120_000, eval_every=100)
show(f"{tiny.name}: {tiny.model}")
n_tiny, n_paper = (param_count(build_model(c, seed=0)) for c in (tiny.model, PRESETS["mess3"].model))
print(f"parameters: {n_tiny:,} ({n_paper / n_tiny:.1f} times fewer than the paper's {n_paper:,})")
print(f"optimizer {tiny.optimizer}, lr {tiny.lr}, {tiny.schedule} schedule, batch {tiny.batch_size}, "
      f"{tiny.targets} targets, {tiny.n_steps:,} steps = {tiny.n_tokens:,} tokens, seed {tiny.seed}")

# %% tags=["nbval-ignore-output"]
threads = torch.get_num_threads()
torch.set_num_threads(1)       # the last digits of a run depend on the thread count: pin it so
live = train(tiny)             # that your numbers match the printed ones
torch.set_num_threads(threads)

# %% [markdown]
# The bar's postfix shows the training loss and the latest exact relative loss. The numbers,
# from the run's history (one entry per evaluation):

# %%
first, last = live.history[0], live.history[-1]
print(f"untrained:          loss {first['val_loss']:.4f} nats, relative loss {first['relative_loss']:.3f}")
print(f"after {last['step']:,} steps: loss {last['val_loss']:.4f} nats, relative loss {last['relative_loss']:.5f}")
print(f"optimum:            loss {data.optimal_loss.mean():.4f} nats, relative loss 1")
print("relative loss per position:", np.round(last["relative_loss_per_position"], 5))

# %% [markdown]
# ### Reading the loss per position
#
# The **relative loss** at position $p$ is the model's exact loss there divided by its floor,
# $\mathcal L_p / h(p+2)$ — the myopic entropy of chapter 02; the number quoted for a model is
# the mean over the ten positions. 1 is perfect, and nothing can be below it. Below, left: the
# loss at each position at four moments of training, with the floor as a dashed line. Middle:
# the same as relative loss − 1, the distance to the optimum, on a log scale. Right: that
# distance for four positions over the whole run.
#
# > **Question (predict, then run the next cell).** Which positions will come closest to
# > their floor first: the early ones (little context) or the late ones (much context)? And
# > which positions will have the *highest raw loss* at the end?
# >
# > <details><summary>Answer</summary>
# >
# > The early positions are solved first (position 0 only has to learn three next-token
# > distributions, one per token), and they also keep the highest raw loss, because their
# > floor $h(p+2)$ is the highest. Both show in the figure; the list printed under it gives the
# > first evaluation within $10^{-4}$ of the optimum for each position.
# > </details>

# %%
steps = np.array([h["step"] for h in live.history])
loss_pp = np.array([h["val_loss_per_position"] for h in live.history])        # (evals, 10)
rel_pp = loss_pp / data.optimal_loss                                           # = data.relative_loss
show(f"evaluated at steps: {steps.tolist()}")
shown = [int(np.searchsorted(steps, s)) for s in (25, 100, 400, 2000)]
colors = plt.cm.viridis(np.linspace(0, 0.85, len(shown)))

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
for c, i in zip(colors, shown):
    axes[0].plot(range(10), loss_pp[i], "o-", ms=3, color=c, label=f"step {steps[i]}")
    axes[1].semilogy(range(10), rel_pp[i] - 1, "o-", ms=3, color=c, label=f"step {steps[i]}")
axes[0].plot(range(10), data.optimal_loss, "k--", lw=1.5, label="optimum h(p+2)")
axes[0].set_ylim(0.78, 0.90)
axes[0].set_title(f"loss per position (untrained: {loss_pp[0].mean():.2f} nats, off the chart)",
                  fontsize=9)
axes[0].set_xlabel("position p")
axes[0].set_ylabel("exact loss [nats]")
axes[0].legend(frameon=False, fontsize=8)
axes[1].set_title("distance to the optimum, per position", fontsize=9)
axes[1].set_xlabel("position p")
axes[1].set_ylabel("relative loss - 1")
for p in (0, 1, 3, 9):
    axes[2].semilogy(steps[1:], rel_pp[1:, p] - 1, "o-", ms=3, label=f"position {p}")
axes[2].axhline(1e-4, color="0.6", lw=0.8, ls=":")
axes[2].set_title("distance to the optimum, during training", fontsize=9)
axes[2].set_xlabel("training step")
axes[2].set_ylabel("relative loss - 1")
axes[2].legend(frameon=False, fontsize=8)
fig.tight_layout()
plt.show()
within = [next((int(s) for s, r in zip(steps, rel_pp[:, p]) if r - 1 < 1e-4), None)
          for p in range(10)]
print("first evaluation within 1e-4 of the optimum, per position:", within)

# %% [markdown]
# Three things to read off.
#
# * **Early positions have the higher loss, and that is not the model's fault.** Position 0 has
#   one token of context and its floor is $h(2) = 0.858$ nats; position 9 has ten and its floor
#   is $h(11) = 0.794$. The raw losses keep that ordering all through training, and the
#   trained model's loss at position 0 is *higher* than its loss at position 9 although
#   position 0 is the one it predicts perfectly. Raw losses are never compared across
#   positions; relative losses are.
# * **Early positions are *solved* first.** Position 0 only has to learn a lookup table of
#   three next-token distributions, position 1 one of nine; they come within $10^{-4}$ of the
#   optimum after a few hundred steps (the printed list; `None` means not yet). Late
#   positions must combine up to ten tokens with the right weights, through attention, and
#   their excess shrinks more slowly: at the end of the run the remaining excess sits at the
#   *late* positions, although their raw loss is the lowest.
# * **A tiny model gets very close.** Two thousand steps of a 2-layer model reach a mean
#   relative loss of about 1.0002 — the value the paper's 4-layer model reached after 629
#   million tokens of SGD (section 5 explains the difference). The shipped checkpoints get
#   closer still.
#
# ### What "relative loss 1.0002" means
#
# Cross-entropy splits into entropy plus a KL divergence:
# $\mathbb E_{X \sim P}[-\ln q(X)] = H[P] + \mathrm{KL}(P \,\|\, q)$. At position $p$,
# $P = P(\cdot \mid x_{1:p+1})$, and averaged over contexts the entropy term is exactly the
# floor $h(p+2)$, so
#
# $$
# \text{relative loss}_p - 1 = \frac{\mathbb E_{x_{1:p+1}}\big[\mathrm{KL}\big(P(\cdot \mid x_{1:p+1}) \,\|\, q_p\big)\big]}{h(p+2)} .
# $$
#
# The excess is the model's average KL divergence from the Bayes-optimal prediction, in units
# of the floor. A relative loss of 1.0002 at a floor of 0.80 nats is an average KL of 0.00016
# nats. How wrong are the probabilities, then? For small errors a second-order expansion gives
# $\mathrm{KL}(P \,\|\, q) \approx \tfrac12 \sum_x P(x)\,\big(q(x)/P(x) - 1\big)^2$: the
# root-mean-square *relative* error of the predicted probabilities is about
# $\sqrt{2\,\mathrm{KL}}$, here $\sqrt{0.00032} \approx 1.8\,\%$ — on a probability of one
# third, about 0.006. Close to Bayes, but not identical to it. Both statements checked on the
# live model, whose KL divergences we can compute context by context. (The live run's own
# numbers differ in their second digit from one CPU to another — training amplifies the last
# bits of every product — so we plot them and print only what does not depend on the
# machine: the identity, and the ratio of the two error estimates.)

# %%
with torch.no_grad():
    logq = live.model(torch.tensor(data.inputs)).double().log_softmax(-1).numpy()
kl = (p_next * (np.log(p_next) - logq)).sum(-1)                     # (N, 10): KL(P || q_p)
mean_kl = data.probs @ kl                                            # per position
excess = data.exact_loss(live.model) - data.optimal_loss
gap = np.max(np.abs(mean_kl - excess))          # float32 logits: agreement to ~1e-7 nats
print(f"mean KL = exact loss - optimum at every position (largest difference below 1e-6 "
      f"nats: {gap < 1e-6})")
rel_err = np.exp(logq) / p_next - 1                                  # q(x) / P(x) - 1
rms = np.sqrt(np.einsum("n,npx,npx->", data.probs, p_next, rel_err ** 2) / data.n_ctx)
print(f"rms relative error / sqrt(2 x mean KL) = {rms / np.sqrt(2 * mean_kl.mean()):.1f}")
print(f"relative loss 1.0002 at a floor of 0.80 nats: mean KL {0.0002 * 0.80:.5f} nats, "
      f"rms relative error about {np.sqrt(2 * 0.0002 * 0.80):.1%}")
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.semilogy(range(10), excess, "o-", label="exact loss − optimum")
ax.semilogy(range(10), mean_kl, "x", ms=9, color="k", label="mean KL(P ‖ q)")
ax.set(xlabel="position p", ylabel="nats", title="The excess loss is a KL divergence")
ax.legend()
_ = fig.tight_layout()

# %% [markdown]
# ## 5. The full run: the shipped checkpoints
#
# The course ships checkpoints of the paper's architecture trained much longer, made by the
# package's command line; nothing in them was edited by hand. A checkpoint is two files side
# by side: `tokens_020480000.pt`, the state dict, and `tokens_020480000.json`, its
# **record** — the configuration, the exact command, the training history and the exact loss
# per position. The number in the name is how many training tokens the model had seen.
#
# `checkpoints.list_checkpoints(directory)` lists the `.pt` files of any run directory in
# training order and `checkpoints.read_record(path)` reads one record without touching the
# weights; `checkpoints.load` rebuilds a model. The same three calls work on a directory you
# train yourself (below), so we use them on the shipped Mess3 run:

# %%
shipped = checkpoints.available()          # later chapters add sets of their own
print("shipped sets include:", [name for name in ("mess3", "rrxor") if name in shipped])
run_dir = checkpoints.DATA_DIR / "mess3"
paths = checkpoints.list_checkpoints(run_dir)
records = [checkpoints.read_record(path) for path in paths]
print(f"{len(paths)} Mess3 checkpoints in {run_dir.relative_to(checkpoints.DATA_DIR.parent)}:")
for path, rec in zip(paths, records):
    print(f"  {path.name}  tokens_seen {rec['tokens_seen']:>10,}  step {rec['step']:>5,}  "
          f"relative loss {rec['relative_loss']:.6f}")

# %% [markdown]
# Every record has the same keys. The final one, read field by field:

# %%
record = records[-1]
show("keys: " + ", ".join(sorted(record)))
config = record["train_config"]
print(f"command:    {record['command']}")
show(f"model:      {record['model_config']}", indent=12)
print(f"optimizer:  {config['optimizer']}, lr {config['lr']}, {config['schedule']} schedule, "
      f"batch {config['batch_size']}, {config['targets']} targets, seed {config['seed']}")
print(f"trained on: {record['tokens_seen']:,} tokens, {record['step']:,} steps, "
      f"{record['wall_seconds']:.0f} s with {record['num_threads']} CPU threads")
print(f"final:      loss {record['val_loss']:.5f} nats, relative loss {record['relative_loss']:.6f}")

# %% [markdown]
# Before trusting a record, recompute its headline number from the weights. (One forward pass
# over all 59,049 contexts.)

# %%
model, _ = checkpoints.load("mess3")                 # the final checkpoint; same weights as `trained`
recomputed = data.exact_loss(model)
print(f"relative loss from the record: {record['relative_loss']:.6f}")
print(f"recomputed from the weights:   {data.relative_loss(recomputed).mean():.6f}")
print("relative loss - 1 per position:",
      np.array2string(data.relative_loss(recomputed) - 1, formatter={"float": "{:.0e}".format}))

# %% [markdown]
# Position 0 is within $10^{-9}$ of its optimum, position 9 about $2 \times 10^{-5}$ away:
# the same ordering as in the live run, with five orders of magnitude between the ends.
#
# ### The training curves
#
# Two sources, two figures. Left: the final record's `history` holds the mean exact relative
# loss at every evaluation (every 500 steps and at each checkpoint); the saved checkpoints are
# marked, with the paper's final value for reference. Right: each checkpoint's record holds
# the relative loss *per position*, so the nine records give a training curve for every
# position.

# %%
hist = record["history"]                             # dict of lists: tokens, val_loss, relative_loss
hist_tokens = np.array(hist["tokens"])
hist_rel = np.array(hist["relative_loss"])
ckpt_tokens = np.array([rec["tokens_seen"] for rec in records])
ckpt_rel = np.array([rec["relative_loss"] for rec in records])
ckpt_rel_pp = np.array([rec["relative_loss_per_position"] for rec in records])   # (9, 10)
print(f"history: {len(hist_tokens)} evaluations; untrained relative loss {ckpt_rel[0]:.3f} "
      "(the step-0 checkpoint, off the log axes)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 4.2))
ax1.loglog(hist_tokens[1:], hist_rel[1:] - 1, "-", color="C0", lw=1.5, label="exact validation")
ax1.loglog(ckpt_tokens[1:], ckpt_rel[1:] - 1, "o", color="C3", ms=6, label="shipped checkpoints")
ax1.axhline(0.0002, ls=":", color="0.3", label="paper's final model (1.0002)")
ax1.set_xlabel("training tokens")
ax1.set_ylabel("mean relative loss - 1")
ax1.set_title("mean over positions, from the history", fontsize=10)
ax1.legend(frameon=False, fontsize=8)
colors = plt.cm.plasma(np.linspace(0, 0.9, 10))
for p in range(10):
    ax2.loglog(ckpt_tokens[1:], ckpt_rel_pp[1:, p] - 1, "o-", ms=3, lw=1, color=colors[p],
               label=f"p = {p}")
ax2.set_xlabel("training tokens")
ax2.set_ylabel("relative loss - 1")
ax2.set_title("per position, from the nine records", fontsize=10)
ax2.legend(frameon=False, fontsize=7, ncol=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# The mean excess falls roughly as a power of the number of tokens. The bump near
# $8 \times 10^6$ tokens is a brief instability while the learning rate is still high; the
# cosine schedule's decay then takes the model to within $10^{-5}$ of the optimum. The right
# panel is the live run's story again, over three more orders of magnitude: position 0 drops
# off first and furthest, position 1 next, and the late positions, which need attention to
# combine many tokens, stay near the top all the way.
#
# ### Retraining from scratch
#
# Every shipped checkpoint can be regenerated with the command stored in its record; for the
# Mess3 set it is
#
# ```bash
# python -m beliefcourse train mess3 --out runs/mess3
# python -m beliefcourse probe mess3 --all --write     # adds the probe metrics of chapter 05
# ```
#
# `--out` is the run directory (the shipped set was written straight into
# `beliefcourse/checkpoints/data/mess3`); `--resume` continues an interrupted run bit for bit;
# `--tokens` changes the budget and `--seed` the seed; `--device` picks `cuda`, `mps` or `cpu`
# (by default the best one available). On the machine that made the shipped set it took the
# 394 seconds printed above, on two CPU threads. The same configuration on the same machine
# with the same number of threads gives identical numbers; elsewhere the last digits differ.
# To look at your own run, point the same calls at your directory:
# `checkpoints.list_checkpoints("runs/mess3")`, `checkpoints.read_record(path)`,
# `checkpoints.load_file(path)`, and `training_widget("runs/mess3")` (section 6).
#
# ### Our budget against the paper's
#
# The paper trained the same architecture with plain SGD (learning rate 0.01, batch 64
# sequences, sampled targets, no schedule) for 629,209,600 tokens, about 983,000 steps, to a
# relative loss of 1.0002. The course's preset uses AdamW, a cosine schedule and soft targets:

# %%
paper_tokens, paper_batch, paper_rel = 629_209_600, 64, 1.0002
paper_steps = paper_tokens // (paper_batch * 10)
print(f"paper:  SGD   (lr 0.01), batch {paper_batch:>3}, {paper_tokens:>11,} tokens "
      f"({paper_steps:,} steps), relative loss {paper_rel}")
print(f"course: AdamW (lr {config['lr']}), batch {config['batch_size']}, "
      f"{record['tokens_seen']:>11,} tokens ({record['step']:,} steps), "
      f"relative loss {record['relative_loss']:.6f}")
print(f"the paper used {paper_tokens / record['tokens_seen']:.0f}x as many tokens "
      f"and {paper_steps / record['step']:.0f}x as many optimizer steps")
print(f"distance to the optimum: paper {paper_rel - 1:.1e}, course {record['relative_loss'] - 1:.1e} "
      f"({(paper_rel - 1) / (record['relative_loss'] - 1):.0f}x smaller)")

# %% [markdown]
# An adaptive optimizer, a decaying learning rate, larger batches and noise-free targets get
# much closer to the optimum with a thirtieth of the data and a fraction of a percent of the
# steps. Which of the four matters most is an experiment you can run (the practice notebook
# suggests one). None of this changes *what* is learned — the optimum is the same Bayes
# predictor — only how fast we get near it. (Whether the *representation* inside is the same
# is a separate question, and chapter 05's probe is the tool for it.) The preset
# `mess3-paper-sgd` reproduces the paper's recipe, all 983,000 steps of it, for anyone with
# the patience.

# %% [markdown]
# ## 6. Watching it learn
#
# Slide through the nine shipped checkpoints (the slider is labelled by training tokens).
# Left: the exact loss at each position against its floor $h(p+2)$, with the previous
# checkpoint in grey. Middle: the distance to the optimum per position, on a log scale.
# Right: the training curve, with the selected checkpoint marked. Watch position 0 reach its
# floor first, the late positions follow, and the ordering of the middle panel flip from
# "everything is bad" to "the late positions are the last to converge". The widget reads only
# the JSON records, so it is instant; `training_widget("runs/mess3")` shows a run of your own.

# %% tags=["nbval-ignore-output"]
from beliefcourse.widgets import training_widget

training_widget("mess3")

# %% [markdown]
# ## Summary
#
# * The paper's transformer: token and position embeddings, four pre-LN blocks (attention then
#   MLP, each *added* to the residual stream), a final LayerNorm and the unembedding; 143,075
#   parameters. Causal attention lets position $p$ read positions $0 \dots p$ only.
# * One attention head is a few lines: queries, keys and values, scaled dot-product scores,
#   the causal mask, a softmax over the keys, the weighted sum of values through $W_O$. The
#   trained model's first layer attends by position — most to the token just before, less
#   and less further back — almost whatever the tokens are.
# * The residual stream at position $p$ is the sum of everything written there, and the
#   prediction is read from it alone. If the model holds a belief, that is where to look.
# * Exact data: all 59,049 contexts with their probabilities give an **exact** validation
#   loss, equal to the paper's sum over eleven-token windows. A sampled estimate would need
#   $2 \times 10^7$ tokens just to shrink its standard error to the gap between a relative
#   loss of 1.0002 and 1.
# * Soft targets $P(\cdot\mid x_{1:p+1})$ are the conditional expectation of sampled ones:
#   same expected gradient, smaller variance, same optimum.
# * Relative loss at position $p$ is $\mathcal L_p / h(p+2)$; minus one, it is the mean KL
#   divergence from Bayes' prediction in units of the floor; 1.0002 means predicted
#   probabilities off by about 2 % of their value. Early positions have the higher loss but
#   are solved first. A 2-layer model trained live for 2,000 steps reaches about 1.0002.
# * The shipped Mess3 model is within $10^{-5}$ of the Bayes optimum in relative loss
#   (section 5) — closer than the paper's 1.0002, with 31 times fewer tokens than its SGD run.
#   Checkpoint records (`list_checkpoints`, `read_record`) hold the configuration, the command
#   that made them, the history and the per-position losses.
#
# **Practice.** `exercises/04_training.ipynb`: causal attention, a causality test for any
# model, relative loss per position, the exact expected loss, and a training step — each with
# a checker.
#
# **Next:** chapter 05, *Probing the residual stream*: is the belief — the whole fractal of
# chapter 03 — linearly readable from the 64 numbers at each position? And what would we see if
# it were not?
#
# ### References
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers,
#   *Transformers Represent Belief State Geometry in their Residual Stream*, NeurIPS 2024
#   (arXiv:2405.15943) — architecture and training: their appendix and the public code
#   (`adamimos/epsilon-transformers`, branch `lucas/neurips-submission`).
# * A. Vaswani et al., *Attention Is All You Need*, NeurIPS 2017 — the transformer.
# * N. Elhage et al., *A Mathematical Framework for Transformer Circuits*, Transformer Circuits
#   Thread (2021) — the residual stream as a communication channel.
# * N. Nanda, J. Bloom, *TransformerLens* (2022) — the `HookedTransformer` the paper used, and
#   the hook names this course copies.
# * I. Loshchilov, F. Hutter, *Decoupled Weight Decay Regularization* (AdamW), ICLR 2019.
# * On Rao–Blackwellisation: G. Casella, C. P. Robert, *Rao–Blackwellisation of sampling
#   schemes*, Biometrika 83 (1996).
