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
# # 02 · Bayesian belief updating: what an ideal observer knows
#
# *Reading time ≈ 60 minutes; running time ≈ 3 seconds (measured, CPU on one thread).
# Prerequisites: chapter 01 (labelled transition matrices, $\pi$, $P(x_{1:L}) = \pi
# T^{(x_1)}\cdots T^{(x_L)}\mathbf 1$); Bayes' rule; logarithms. Entropy, cross-entropy, KL
# divergence and block entropy are introduced in section 4 — no prior information theory
# needed.*
#
# Chapter 01 ended with an observer who sees only tokens and asks which hidden state the
# process is in. Its answer is not a state but a probability distribution over states — a
# **belief**. This chapter derives how a belief changes when a token arrives, follows beliefs
# through sequences, and shows that the belief is *all* an observer needs: it fixes the
# probability of every possible future. That makes it the natural thing for a next-token
# predictor to compute, and the thing we will look for inside a transformer.
#
# **After this chapter you will be able to**
#
# 1. derive the update $\eta' = \eta T^{(x)} / (\eta T^{(x)}\mathbf 1)$ from Bayes' rule,
#    naming the assumption each step uses;
# 2. compute belief trajectories and draw them in the probability simplex;
# 3. compute the entropy of a distribution, the cross-entropy and KL divergence between two,
#    and the block entropy of a process, and say what each measures;
# 4. measure *synchronisation* with the average state uncertainty, and explain why Z1R's
#    observer becomes certain after three tokens while Mess3's never does;
# 5. compute from a belief the next-token distribution and the probability of any future word,
#    and explain why a belief carries more than its next-token prediction;
# 6. compute the myopic entropy $h(L)$, the lowest cross-entropy any predictor can achieve with
#    $L-1$ tokens of context, and match it to the positions of a transformer's context window;
# 7. compute the entropy rate $h_\mu$, exactly for Z1R and as a limit for Mess3.
#
# Practice: `exercises/02_belief_updating.ipynb`.

# %%
import textwrap

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import beliefs, information, msp, plotting, processes
from beliefcourse.enumerate import all_sequences
from beliefcourse.hmm import HMM

np.set_printoptions(precision=4, suppress=True)
z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()

# %% [markdown]
# ## 1. The observer's problem
#
# Write $s_t$ for the hidden state after $t$ tokens ($s_0 \sim \pi$ is where the process
# starts, and $x_t$ is emitted on the transition $s_{t-1} \to s_t$). After seeing
# $x_{1:t} = x_1 \dots x_t$, the observer's **belief** is the row vector
#
# $$
# \eta_t(i) \;=\; P\big(s_t = i \;\big|\; x_{1:t}\big), \qquad i = 1, \dots, n_\text{states}.
# $$
#
# Before any token the only knowledge is that the process is stationary, so $\eta_0 = \pi$.
# The computational-mechanics literature calls $\eta$ a **mixed state**, and the papers write
# it $\eta$; we use "belief" and "mixed state" interchangeably. Chapter 01 computed beliefs by
# brute force, summing over all $n_\text{states}^{t+1}$ hidden paths. We now want a recursion:
# the belief after $t+1$ tokens from the belief after $t$.

# %% [markdown]
# ## 2. Deriving the update from Bayes' rule
#
# Suppose we hold $\eta = \eta_t$ and the token $x_{t+1} = x$ arrives. Three steps.
#
# **Step 1 — joint over the next state and the token.** By the rule of total probability over
# the current state $i$,
#
# $$
# P(s_{t+1} = j,\ x_{t+1} = x \mid x_{1:t})
# = \sum_i P(s_t = i \mid x_{1:t})\; P(x_{t+1} = x,\ s_{t+1} = j \mid s_t = i,\ x_{1:t}).
# $$
#
# The HMM's defining property is that, *given the current hidden state*, the next token and
# state do not depend on anything earlier — in particular not on $x_{1:t}$. So the second
# factor is $T^{(x)}_{ij}$, and
#
# $$
# P(s_{t+1} = j,\ x_{t+1} = x \mid x_{1:t})
# = \sum_i \eta_i\, T^{(x)}_{ij} = \big(\eta\, T^{(x)}\big)_j .
# $$
#
# **Step 2 — marginalise over the next state** to get the probability of the token itself:
#
# $$
# P(x_{t+1} = x \mid x_{1:t}) = \sum_j \big(\eta\, T^{(x)}\big)_j = \eta\, T^{(x)}\, \mathbf 1 .
# $$
#
# **Step 3 — condition on the token** (the definition of conditional probability, i.e. Bayes'
# rule): divide the joint by the marginal,
#
# $$
# \boxed{\;\eta_{t+1} \;=\; \frac{\eta_t\, T^{(x)}}{\eta_t\, T^{(x)}\, \mathbf 1}\;}
# \qquad\text{when } \eta_t\, T^{(x)}\, \mathbf 1 > 0 .
# $$
#
# If the denominator is zero, the token was impossible given everything seen so far and there
# is nothing to update — `beliefs.update` raises an error rather than return NaN.
#
# Two remarks. First, the labelled matrix $T^{(x)}$ of the *observed* token does the work:
# using the net matrix $T$ would give $\eta T$, the prediction of the next state when the token
# is *not* seen. Second, chaining unnormalised steps gives $\pi T^{(x_1)} \cdots T^{(x_t)}$,
# whose sum is $P(x_{1:t})$ by chapter 01: the normalisations along the way multiply to exactly
# that probability. Normalising at every step is the same answer, kept at a sensible scale.
#
# A worked example with Z1R. Its prior is uniform; suppose the first token is `0`:

# %%
pi = z1r.stationary()
joint = pi @ z1r.T[0]                      # P(s_1 = j, x_1 = 0), step 1
p_token = joint.sum()                      # P(x_1 = 0), step 2
print("eta_0          =", pi)
print("eta_0 T^(0)    =", joint, "  (joint over the next state)")
print(f"P(x_1 = 0)     = {p_token:.4f}")
print("eta_1          =", joint / p_token, "  (step 3)")
print("beliefs.update =", beliefs.update(pi, z1r, 0))

# %% [markdown]
# In words: a `0` comes either from $S_0$ (probability ⅓, leading to $S_1$) or from $S_R$
# flipping a `0` (probability ⅓ · ½, leading to $S_0$); $S_1$ cannot emit `0`. Normalised, the
# process is now in $S_1$ with probability ⅔ and in $S_0$ with ⅓. If a `1` follows, only the
# $S_1$ branch survives and the belief becomes certain:

# %%
eta = beliefs.update(pi, z1r, 0)
print("after 01:", beliefs.update(eta, z1r, 1))

# %% [markdown]
# > **Question.** What is Z1R's belief after a single `1`, and why is it not certainty of
# > $S_R$, even though $S_1$ always emits `1`?
# >
# > <details><summary>Answer</summary>
# >
# > A `1` comes from $S_1$ (probability ⅓, moving to $S_R$) or from $S_R$ flipping a `1`
# > (probability ⅓ · ½, moving to $S_0$). Normalised: $(\tfrac13, 0, \tfrac23)$ over
# > $(S_0, S_1, S_R)$. The random bit can imitate the forced one.
# > </details>
#
# **Try it.** The widget below runs this update, one click per token, on Mess3 (chapter 01's
# three-state process). Each point of the triangle is a belief over Mess3's states A, B, C —
# a corner is certainty, the centre is the uniform prior (section 3 says more). Click a
# token and the belief moves; the bars are the next-token distribution
# $\eta\, T^{(x)}\mathbf 1$ of step 2; the shaded triangles show where each token can send
# *any* belief (after an `A` the belief always lies in the `A` triangle). Click `A` three
# times, then `B`: how far does one contrary token move a confident belief? `random` draws
# tokens from the process itself.

# %% tags=["nbval-ignore-output"]
from beliefcourse.widgets import belief_update_widget

belief_update_widget()

# %% [markdown]
# `beliefs.belief_trajectories(hmm, tokens)` runs the update along whole sequences. It returns
# shape `(n_sequences, L + 1, n_states)` with the course's convention: **index $t$ holds the
# belief after the first $t$ tokens, so index 0 is the prior $\pi$.** The convention matters
# later: a transformer at position $p$ has read $p+1$ tokens, so its target belief is index
# $p + 1$.

# %%
tokens = np.array([1, 1, 0, 1, 0, 0])
trajectory = beliefs.belief_trajectories(z1r, tokens)[0]
for t, eta in enumerate(trajectory):
    seen = "".join(map(str, tokens[:t])) or "(none)"
    print(f"t = {t}  seen {seen:7s} eta = {eta}")

# %% [markdown]
# ## 3. Beliefs live in a simplex
#
# A belief over three states is a point $(\eta_1, \eta_2, \eta_3)$ with non-negative entries
# summing to 1 — a point of the **2-simplex**, a triangle. Its corners are certainty about one
# state, its centre is the uniform belief, and the closer a point is to a corner, the more
# confident the observer. We draw each belief at the matching position in the triangle and
# colour it by reading the belief as an RGB colour (red = first state, green = second, blue =
# third) — the colouring used in every simplex plot of the course.
#
# Below, left: one Z1R trajectory. It starts at the centre, moves to an edge, and reaches a
# corner within three tokens (this one after two: the word `01` can only be the forced `0`
# followed by the forced `1`); from then on it hops between corners forever. Middle: a Mess3
# trajectory of 12 tokens (steps that land close together share one label, such as 5–8).
# It wanders through the interior, pulled towards the corner of the
# token just seen, and never reaches a corner. Right: where *every* Mess3 observer can be after
# at most 7 tokens — the beliefs along all $3^7 = 2187$ words, 3,280 distinct points (every
# prefix leads somewhere new). Z1R's observer only ever visits 7 points of its triangle;
# Mess3's visits a set that keeps growing with every token.

# %%
z1r_tokens, _ = z1r.sample(n_sequences=1, length=9, seed=3)
z1r_path = beliefs.belief_trajectories(z1r, z1r_tokens)[0]
mess3_tokens, _ = mess3.sample(n_sequences=1, length=12, seed=1)
mess3_path = beliefs.belief_trajectories(mess3, mess3_tokens)[0]
all_mess3 = all_sequences(mess3, 7).beliefs.reshape(-1, 3)        # every prefix of length <= 7
first_corner = int(np.argmax(z1r_path.max(axis=1) > 1 - 1e-12))


def label_steps(ax, path, min_gap=0.1):
    """Step numbers beside a path's points. Steps whose points lie within min_gap of a point
    of an existing group join it and share one label ("10–12"), written to the right of the
    group's rightmost point, so labels never sit on top of each other."""
    xy = plotting.simplex_coordinates(path)
    groups = []                                   # lists of steps
    for t, point in enumerate(xy):
        near = [g for g in groups if np.linalg.norm(xy[g] - point, axis=1).min() < min_gap]
        if near:
            near[0].append(t)
        else:
            groups.append([t])
    for steps in groups:
        runs = [[steps[0]]]                       # consecutive steps written as "5–8"
        for t in steps[1:]:
            if t == runs[-1][-1] + 1:
                runs[-1].append(t)
            else:
                runs.append([t])
        text = ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)
        rightmost = xy[steps][np.argmax(xy[steps, 0])]
        ax.annotate(text, rightmost, xytext=(6, 4), textcoords="offset points", fontsize=9)


fig, axes = plt.subplots(1, 3, figsize=(12.5, 4.2))
plotting.plot_belief_path(z1r_path, ax=axes[0], labels=z1r.state_names,
                          title=f"Z1R: certain after {first_corner} tokens")
plotting.plot_belief_path(mess3_path, ax=axes[1], labels=mess3.state_names, number_steps=False,
                          title="Mess3: never certain")
label_steps(axes[1], mess3_path)
plotting.plot_simplex(all_mess3, ax=axes[2], s=2, labels=mess3.state_names,
                      title="Mess3: every belief after ≤ 7 tokens")
fig.tight_layout()
plt.show()
print("Z1R tokens:  ", "".join(map(str, z1r_tokens[0])),
      f"  (a corner after {first_corner} tokens)")
print("Mess3 tokens:", "".join(mess3.token_names[x] for x in mess3_tokens[0]))
print("distinct Mess3 beliefs after <= 7 tokens:", len(np.unique(all_mess3.round(10), axis=0)))
print(f"Mess3 path: its most certain belief puts {mess3_path.max():.3f} on one state (never 1)")

# %% [markdown]
# Each step moves the belief towards the corner of the token just seen — with $\alpha = 0.85$
# a token is good evidence for its state — and between steps the hidden chain's jumps pull it
# back towards the centre. That tug of war keeps Mess3's beliefs inside the triangle. The set
# of *all* points this process can visit is the fractal of chapter 00, the subject of chapter 03.

# %% [markdown]
# ## 4. Measuring uncertainty: an information-theory primer, then synchronisation
#
# The rest of the chapter measures uncertainty — the observer's about the hidden state, a
# predictor's about the next token — with four quantities from information theory. This
# primer (about ten minutes) says what each one means and computes one example of each with
# the package's `beliefcourse.information`. Cover & Thomas (2006, ch. 2) is the standard
# longer treatment.
#
# **Entropy: how uncertain is one distribution?** For a distribution $p$ over a finite set,
#
# $$
# H[p] = -\sum_i p_i \log p_i \qquad (0 \log 0 = 0).
# $$
#
# $-\log p_i$ is the *surprise* of outcome $i$ (rare outcomes surprise more), so $H$ is the
# average surprise. With $\log_2$ it is measured in **bits**: roughly the number of yes/no
# questions needed, on average, to find out the outcome. It is 0 for a certain outcome and
# largest, $\log_2 n$, for the uniform distribution over $n$ outcomes. With the natural
# logarithm the unit is the **nat** (1 bit = $\ln 2$ nats). Example: Z1R's belief
# after a `0` was $(\tfrac13, \tfrac23, 0)$ — less than one question's worth of doubt.

# %%
eta_after_0 = beliefs.update(z1r.stationary(), z1r, 0)
print("belief after a 0:", eta_after_0)
print(f"H = {information.entropy(eta_after_0, unit='bits'):.3f} bits "
      f"(uniform over 3 states: {information.entropy(np.ones(3) / 3, unit='bits'):.3f} bits)")

# %% [markdown]
# **Cross-entropy: the cost of predicting with the wrong distribution.** If outcomes come
# from $p$ but you predict with $q$, your average surprise is
#
# $$
# H(p, q) = -\sum_i p_i \log q_i .
# $$
#
# This is exactly what a language model's training loss measures: $p$ is the process's
# next-token distribution, $q$ the model's output, and the loss is $-\ln q(x)$ averaged over
# the tokens $x$ that actually come (in nats, as PyTorch's `cross_entropy` reports it).
#
# **KL divergence: the excess cost.** The difference
#
# $$
# \mathrm{KL}(p \,\|\, q) = H(p, q) - H[p] = \sum_i p_i \log \frac{p_i}{q_i} \;\ge\; 0,
# $$
#
# with equality exactly when $q = p$ (*Gibbs' inequality*): nobody predicts $p$'s outcomes
# better, on average, than $p$ itself. Example: after Mess3 emits `A`, the next token is `A`
# with probability 0.674 (the state tends to persist and to emit its own token). Compare
# the true distribution with two guesses, a uniform one and an over-confident "repeat the
# last token":

# %%
p_next = beliefs.next_token_distribution(beliefs.update(mess3.stationary(), mess3, 0), mess3)
print("true next-token distribution after A:", p_next.round(3))
for name, q in [("uniform", np.ones(3) / 3), ("repeat, 0.9", np.array([0.9, 0.05, 0.05])),
                ("the truth", p_next)]:
    cross = -(p_next * np.log(q)).sum()                        # H(p, q), nats
    kl = (p_next * np.log(p_next / q)).sum()                   # KL(p || q) = H(p, q) - H[p]
    print(f"  q = {name:12s} cross-entropy {cross:.4f} nats   KL = {kl:.4f} nats")
print(f"H[p] = {information.entropy(p_next):.4f} nats")

# %% [markdown]
# The truth scores the entropy $H[p] = 0.8577$ nats and a KL of 0; every other guess pays
# its KL on top — the confident "repeat" guess less than the uniform one, but still 0.19
# nats per token. (The package computes $H$; cross-entropy and KL are one line of NumPy
# each. You will meet 0.8577 nats again in section 6, as the best loss after one token.)
#
# **Block entropy: how uncertain is a whole word?** Apply $H$ to the distribution of words
# of length $L$:
#
# $$
# H(L) = -\sum_{|w| = L} P(w) \log P(w), \qquad H(0) = 0 .
# $$
#
# It grows with $L$, and its increments are the uncertainty of the $L$-th token *given the
# $L-1$ before it*: write $\log P(wx) = \log P(w) + \log P(x \mid w)$ for a word $w$ of
# length $L-1$ followed by a token $x$, and the sum for $H(L)$ splits into $H(L-1)$ plus
# an average over the contexts $w$ (the *chain rule of entropy*):
#
# $$
# H(L) - H(L-1) = \sum_{|w| = L-1} P(w)\, H\big[P(\cdot \mid w)\big]
# \;=\; H[X_L \mid X_{1:L-1}] ,
# $$
#
# the entropy of the next-token distribution after a context $w$, averaged over the contexts.
# The right-hand side is the usual name for it, the **conditional entropy**: with $X_t$ the
# $t$-th token as a random variable, $H[X \mid Y] = \sum_y P(y)\, H[P(\cdot \mid y)]$. It is
# the quantity section 6 turns into the best loss a predictor can reach.
#
# > **Question (predict, then run the cell).** What is Z1R's block entropy $H(3)$ in bits?
# > Chapter 01 listed its words of length 3.
# >
# > <details><summary>Answer</summary>
# >
# > Six words of length 3 are possible — one for each phase of the cycle and value of the
# > random bit — and each has probability $\tfrac13 \cdot \tfrac12 = \tfrac16$. So
# > $H(3) = \log_2 6 = 2.585$ bits. The increments below fall from 1 bit (the first token is
# > a fair coin) to $\tfrac13$ bit: once the phase is known, only one token in three is random.
# > </details>

# %%
H_blocks = np.array([information.block_entropy(z1r, L, unit="bits") for L in range(5)])
print("Z1R block entropy H(L), L = 0..4 [bits]:", H_blocks.round(3))
print("increments H(L) - H(L-1), L = 1..4 [bits]:", np.diff(H_blocks).round(3))

# %% [markdown]
# ### Synchronisation
#
# How uncertain is the observer about the hidden state after $L$ tokens? For one belief,
# measure it with the entropy $H[\eta]$ in bits ($\log_2 3 = 1.585$ bits for a uniform belief
# over three states, 0 for a corner). Averaging over all words $w$ of length
# $L$, weighted by their probability, gives the **average state uncertainty**
#
# $$
# U(L) \;=\; \sum_{|w| = L} P(w)\; H\big[\eta(w)\big].
# $$
#
# A process is **synchronising** if $U(L) \to 0$: an observer of typical data eventually knows
# the hidden state (Crutchfield, Ellison, James & Mahoney, 2010). `information.state_uncertainty`
# computes $U(L)$ exactly by enumerating words (chapter 01's `all_sequences`).

# %%
lengths = np.arange(0, 11)
uncertainty = {name: information.state_uncertainty(hmm, lengths, unit="bits")
               for name, hmm in [("Z1R", z1r), ("Mess3", mess3), ("RRXOR", rrxor)]}
for name, U in uncertainty.items():
    print(f"{name:6s} U(0..10) =", np.round(U, 3))

fig, ax = plt.subplots(figsize=(5.8, 3.6))
for name, U in uncertainty.items():
    ax.plot(lengths, U, "o-", ms=4, label=name)
ax.axhline(uncertainty["Mess3"][-1], ls=":", color="C1", lw=1,
           label=f"Mess3 after 10 tokens ({uncertainty['Mess3'][-1]:.3f})")
ax.set_xlabel("tokens seen L")
ax.set_ylabel("average state uncertainty U(L) [bits]")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# Three behaviours:
#
# * **Z1R synchronises exactly, after three tokens.** $U(1) = 0.918$ bits, $U(2) = 0.333$ and
#   $U(3) = 0$. A window of three tokens contains one full cycle — the forced `0`, the forced
#   `1` and one random bit — and chapter 01 found exactly six possible words of length 3, one
#   for each (phase, random bit) pair. So every possible length-3 word reveals the phase. Once
#   certain, always certain: from a known state each token leads to a single next state (an
#   HMM with this property is called *unifilar*).
# * **RRXOR synchronises, but slowly.** The observer must find the phase of the
#   random–random–XOR cycle, and a wrong phase is ruled out only when a triple at that phase
#   violates the XOR rule — which a wrong phase does only half the time. Uncertainty decays,
#   but it is still 0.3 bits after 10 tokens.
# * **Mess3 never synchronises.** Its uncertainty levels off at 0.438 bits and stays there.
#   Every token can be emitted from every state, and the hidden state can jump at any step
#   (Mess3(0.05, 0.85) leaves its state with probability 2 × 0.05 at every step), so no
#   amount of past makes the present state certain.
#
# > **Question.** Would Mess3 synchronise if its hidden state never switched — Mess3(0, 0.85)
# > instead of Mess3(0.05, 0.85)?
# >
# > <details><summary>Answer</summary>
# >
# > In Mess3(0, 0.85) the hidden state never changes, so evidence piles up: each token multiplies
# > the odds of its own state by $\alpha/\beta$, and the belief converges to the true corner.
# > $U(L) \to 0$, but only asymptotically — no finite word makes the observer certain, since
# > with $\alpha < 1$ every state can emit every token.
# > </details>

# %% [markdown]
# ### Finite or infinite?
#
# Synchronisation is about *how sure* the observer gets; *how many* beliefs it can ever hold
# is a different question: Z1R's observer holds only 7 and RRXOR's 36, while every word
# Mess3's observer reads (up to seven tokens, at least) leads to a belief of its own, three
# times as many with each token. Which presentations give finitely many beliefs —
# synchronisation does not decide it, and neither does unifilarity on its own — is worked
# out in chapter 03, section 3.

# %%
def distinct_beliefs(hmm, max_length):
    """Number of distinct beliefs (to 9 decimals) reached by the words of length <= L."""
    every = all_sequences(hmm, max_length).beliefs          # (words, L + 1, states)
    return [len(np.unique(every[:, :L + 1].reshape(-1, hmm.n_states).round(9), axis=0))
            for L in range(max_length + 1)]


fig, ax = plt.subplots(figsize=(5.8, 3.6))
for name, hmm in [("Z1R", z1r), ("Mess3", mess3), ("RRXOR", rrxor)]:   # colours as in the plot above
    counts = distinct_beliefs(hmm, 7)
    ax.semilogy(range(8), counts, "o-", ms=4, label=f"{name} ({counts[-1]:,} at L = 7)")
    print(f"{name:6s} distinct beliefs after <= L tokens, L = 0..7:", counts)
ax.set_xlabel("tokens seen L")
ax.set_ylabel("distinct beliefs after ≤ L tokens")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# ## 5. What a belief predicts: the next token, and the whole future
#
# Step 2 of the derivation already gave the **next-token distribution**: with belief $\eta$,
#
# $$
# P(x \mid \eta) = \eta\, T^{(x)}\, \mathbf 1 .
# $$
#
# The same argument, applied token after token, gives the probability of any future word
# $w = w_1 \dots w_k$:
#
# $$
# P(w \mid \eta) = \eta\, T^{(w_1)} T^{(w_2)} \cdots T^{(w_k)}\, \mathbf 1
# \;=\; \eta\, T^{(w)}\, \mathbf 1 ,
# $$
#
# chapter 01's formula with $\pi$ replaced by the current belief. The past enters only through
# $\eta$. Two consequences:
#
# 1. **The belief is a sufficient statistic of the past for prediction.** Two pasts that lead
#    to the same belief predict exactly the same future — every word, every horizon. An
#    optimal predictor need not remember anything else.
# 2. **It is more than the next-token distribution.** Different beliefs can agree on the next
#    token and disagree about later ones.
#
# RRXOR shows the second point sharply. Before any token, after a `0`, and after a `1`, the
# next bit is a fair coin each time. But the beliefs differ, and so do the predictions for the
# next *two* bits:

# %%
pasts = [[], [0], [1]]
for past in pasts:
    eta = (beliefs.belief_trajectories(rrxor, np.array(past))[0, -1] if past
           else rrxor.stationary())
    next_token = beliefs.next_token_distribution(eta, rrxor)
    two = {f"{a}{b}": eta @ rrxor.T[a] @ rrxor.T[b] @ np.ones(5) for a in (0, 1) for b in (0, 1)}
    shown = "".join(map(str, past)) or "(none)"
    print(f"past {shown:7s} belief {eta.round(3)}  P(next) = {next_token.round(3)}  "
          + "  ".join(f"P({k}) = {v:.3f}" for k, v in two.items()))

# %% [markdown]
# After a `0` the next two bits are twice as likely to be `00` or `11` as `01` or `10`;
# after a `1`, the other way round. A predictor that kept only "the next bit is 50/50" would
# lose that, and would predict worse two steps later. This is why Shai et al. look for the
# *belief* in the residual stream, and test (chapter 05) whether the network represents
# more than its next-token output requires.

# %% [markdown]
# ## 6. The best achievable loss: myopic entropy
#
# A language model is trained to minimise cross-entropy. Suppose it sees a context $w$ of
# $L - 1$ tokens and outputs a distribution $q(\cdot \mid w)$ for token $L$. Its expected loss
# is
#
# $$
# \mathbb E\big[-\ln q(x_L \mid w)\big]
# = \sum_w P(w) \sum_x P(x \mid w)\,\big(-\ln q(x \mid w)\big)
# \;\ge\; \sum_w P(w)\, H\big[P(\cdot \mid w)\big],
# $$
#
# by Gibbs' inequality (section 4: cross-entropy is at least entropy, with equality exactly when
# $q = P$). Since $P(\cdot \mid w) = P(\cdot \mid \eta(w))$, the floor is the **myopic
# entropy**
#
# $$
# h(L) \;=\; \sum_{|w| = L-1} P(w)\; H\big[P(\cdot \mid \eta(w))\big]
# \;=\; H(L) - H(L-1),
# $$
#
# where $H(L)$ is the block entropy of section 4 (the second form is the chain rule of
# entropy). No predictor — however large, however trained — can beat $h(L)$ at a context of
# $L - 1$ tokens, and the predictor that reaches it outputs $P(\cdot \mid \eta(w))$; whether
# it must also hold $\eta(w)$ itself is chapter 03's question (sections 5 and 6). We measure
# it in **nats** (natural logarithms) because that is what
# `torch.nn.functional.cross_entropy` reports; divide by $\ln 2$ for bits.
#
# For Mess3, by exact enumeration:

# %%
L_values = np.arange(1, 12)
h = information.myopic_entropy(mess3, L_values)                 # nats
for L, value in zip(L_values, h):
    print(f"h({L:2d}) = {value:.4f} nats = {value / np.log(2):.4f} bits")

block = np.array([information.block_entropy(mess3, L) for L in range(0, 6)])
print("h(L) = H(L) - H(L-1) for L = 1..5:", np.allclose(np.diff(block), h[:5]))

# %% [markdown]
# A single token is uniform, so $h(1) = \log_2 3 = 1.585$ bits. One token of context already
# buys most of the improvement (states persist, so the last token is a good guess for the
# next), and by $L \approx 8$ the floor has converged to 1.1447 bits to four decimals.
#
# > **Question.** Why can $h(L)$ never increase with $L$?
# >
# > <details><summary>Answer</summary>
# >
# > A predictor that sees $x_{1:L-1}$ may ignore $x_1$ and predict ideally from
# > $x_{2:L-1}$ alone. By stationarity, predicting $x_L$ from the $L-2$ tokens before it is
# > the same problem as predicting $x_{L-1}$ from $x_{1:L-2}$, so that predictor's expected
# > loss is $h(L-1)$. The best predictor with the whole context, whose loss is $h(L)$, does
# > at least as well: $h(L) \le h(L-1)$. More context never hurts an ideal predictor. (In
# > the primer's notation: conditioning cannot increase entropy,
# > $H[X_L \mid X_{1:L-1}] \le H[X_L \mid X_{2:L-1}]$.)
# > </details>
#
# ### The yardstick for the transformer
#
# Here is the alignment to remember, because chapters 04 and 05 use it everywhere. The
# transformer of Shai et al. reads $n_\text{ctx} = 10$ tokens $x_1 \dots x_{10}$ and, at each
# position, predicts the next one. With positions counted from 0:
#
# | position $p$ | has seen | predicts | target belief (index) | best loss |
# |---|---|---|---|---|
# | 0 | $x_1$ | $x_2$ | 1 | $h(2)$ |
# | 1 | $x_1 x_2$ | $x_3$ | 2 | $h(3)$ |
# | $p$ | $x_1 \dots x_{p+1}$ | $x_{p+2}$ | $p+1$ | $h(p+2)$ |
# | 9 | $x_1 \dots x_{10}$ | $x_{11}$ | 10 | $h(11)$ |
#
# There is no beginning-of-sequence token, so nothing predicts $x_1$, and each training
# sequence needs 11 tokens: 10 inputs and the 10 targets shifted by one. The best achievable
# training loss, averaged over the 10 positions, is the mean of $h(2), \dots, h(11)$:

# %%
positions = np.arange(10)
floor = information.myopic_entropy(mess3, positions + 2)       # h(p + 2), nats
for p, value in zip(positions, floor):
    print(f"position {p}: best loss h({p + 2}) = {value:.4f} nats")
print(f"mean over the 10 positions: {floor.mean():.4f} nats")
wrong_window = information.myopic_entropy(mess3, positions + 1)   # h(1) .. h(10): off by one
print(f"(the off-by-one window h(1)..h(10) would give {wrong_window.mean():.4f} nats, "
      f"{wrong_window.mean() - floor.mean():.4f} more)")

fig, ax = plt.subplots(figsize=(5.8, 3.6))
ax.plot(L_values, h, "o-", ms=4, color="C0", label="myopic entropy h(L)")
ax.plot(positions + 2, floor, "o", ms=9, mfc="none", color="C3",
        label="the 10 positions a transformer predicts")
ax.axhline(h[-1], ls=":", color="0.4", lw=1, label=r"$h(11) \approx h_\mu$")
for p in (0, 9):
    ax.annotate(f"position {p}", (p + 2, floor[p]), xytext=(0, 14),
                textcoords="offset points", ha="center", fontsize=8, color="C3")
ax.set_xlabel("L  (context of L - 1 tokens)")
ax.set_ylabel("nats per token")
ax.set_xticks(L_values)
ax.legend(frameon=False, fontsize=8)
plt.show()

# %% [markdown]
# **0.8025 nats** is the number to beat — or rather, to reach. Two things to notice. First,
# it is the mean of $h(2), \dots, h(11)$, *not* of $h(1), \dots, h(10)$: shifting the window
# by one position gives a different floor (printed above: 0.0305 nats higher), and a model
# measured against the wrong one would seem to beat the optimum — a relative loss below 1 is
# the symptom of exactly this off-by-one. Second, it sits above the entropy rate, because
# the early positions have little context: the model at position 0 has seen a single token
# and cannot do better than $h(2)$. Shai et al.'s training code logs exactly this yardstick:
# a *relative loss*, each position's loss divided by $h(p+2)$, so that a Bayes-optimal model
# scores 1 at every position (their Mess3 model ended at 1.0002, a best validation loss of
# 0.8026 nats). Chapter 04 uses the same measure.

# %% [markdown]
# ## 7. The entropy rate
#
# As the context grows, $h(L)$ decreases to a limit, the **entropy rate**
#
# $$
# h_\mu = \lim_{L\to\infty} h(L),
# $$
#
# the irreducible randomness per token: what remains unpredictable even with the entire past.
# It is also an average over the beliefs an observer holds in the long run: $h_\mu$ is the
# average of $H[P(\cdot\mid\eta)]$, weighted by how often the observer holds each belief
# $\eta$ once the start is forgotten. For a process whose observer synchronises these
# long-run beliefs are finitely many — the *recurrent* ones, which it keeps returning to
# (chapter 03 defines them precisely) — and the average is a finite sum.
#
# **Z1R, exactly.** Z1R's observer ends up certain of the state, so its recurrent beliefs are
# the three corners of the simplex, visited with the stationary probabilities ⅓ each (the
# *mixed-state presentation* of chapter 03 makes this precise: it is a finite machine whose
# recurrent part is Z1R itself). From $S_0$ and $S_1$ the next token is certain; from $S_R$ it
# is a fair coin. So $h_\mu = \tfrac13 \ln 2$ nats $= \tfrac13$ bit, and because Z1R
# synchronises after three tokens, $h(L)$ reaches that value exactly at $L = 4$.

# %%
recurrent = msp.mixed_state_presentation(z1r).recurrent()
visits = recurrent.stationary()
# entropy of each recurrent belief's next-token distribution (+ 0.0 prints -0.0 as 0.0)
next_entropy = information.entropy(beliefs.next_token_distribution(recurrent.beliefs, z1r)) + 0.0
print("recurrent belief   visited   next-token entropy")
for eta, weight, H in zip(recurrent.beliefs, visits, next_entropy):
    print(f"  {eta.round(3)}     {weight:.3f}     {H:.4f} nats")
print(f"average, weighted by visits: {visits @ next_entropy:.4f} nats;  "
      f"ln(2)/3 = {np.log(2) / 3:.4f}")
h_mu_z1r = information.entropy_rate(z1r)
print(f"information.entropy_rate(z1r) = {h_mu_z1r:.4f} nats  [{h_mu_z1r.method}]")
print("h(1..6) of Z1R [nats]:", information.myopic_entropy(z1r, np.arange(1, 7)).round(4))

# %% [markdown]
# **Mess3, as a limit.** Mess3 never synchronises: its beliefs never settle onto a finite set
# (the right panel of section 3 keeps filling in), so there is no finite sum. But the limit
# can be pinned down from both sides. From above, $h(L)$ decreases to $h_\mu$. From below,
# $H[X_L \mid X_{1:L-1}, s_0]$ — the same quantity for an observer who is also *told* the
# starting hidden state $s_0$ — increases to $h_\mu$, because knowing $s_0$ stops mattering as $L$
# grows. `information.entropy_rate` returns an estimate that carries this bracket: it behaves
# as a float (formats with `:.4f`, subtracts from arrays) and has `.value`, `.error` (a
# guaranteed bound, same unit) and `.method` (how it was computed; the *Aitken
# extrapolation* it names is a standard way to estimate the limit of a geometrically
# converging sequence from three consecutive terms). The gaps
# $h(L) - h_\mu$ shrink by a factor of about four per token:

# %%
h_mu_mess3 = information.entropy_rate(mess3)
print(f"entropy rate of Mess3: {h_mu_mess3:.4f} nats = {h_mu_mess3 / np.log(2):.4f} bits")
print(f"  .value = {h_mu_mess3.value:.6f}, .error = {h_mu_mess3.error:.0e} nats")
print(textwrap.fill(f"  .method: {h_mu_mess3.method}", 90, subsequent_indent=" " * 4))
gaps = h - h_mu_mess3
for L in range(2, 8):
    print(f"h({L}) - h_mu = {gaps[L - 1]:.2e} nats   ratio to the previous gap: "
          f"{gaps[L - 1] / gaps[L - 2]:.2f}")

# %% [markdown]
# The gaps add up to a finite total, the **excess entropy**
# $E = \sum_{L \ge 1} \big(h(L) - h_\mu\big)$: the extra loss an observer pays while it learns
# from the context, summed over all positions — equivalently, how much information the past
# carries about the future (Crutchfield & Feldman 2003). For Mess3, `information.excess_entropy`
# gives:

# %%
E_mess3 = information.excess_entropy(mess3)
print(f"excess entropy of Mess3: E = {E_mess3:.3f} nats = {E_mess3 / np.log(2):.3f} bits")

# %% [markdown]
# ## Summary
#
# * A belief (mixed state) is $\eta_t = P(s_t \mid x_{1:t})$, starting from $\eta_0 = \pi$.
# * Bayes' rule in three steps — joint $\eta T^{(x)}$, marginal $\eta T^{(x)}\mathbf 1$,
#   condition — gives $\eta' = \eta T^{(x)}/(\eta T^{(x)}\mathbf 1)$. The step that uses the
#   HMM structure is "given the current state, the next token and state ignore the past".
# * Trajectories: index $t$ is the belief after $t$ tokens, index 0 the prior. Beliefs are
#   points of the simplex; corners are certainty.
# * Entropy $H[p]$ is average surprise; cross-entropy $H(p, q)$ is the average surprise of
#   predicting $p$'s outcomes with $q$ (a language model's loss); their difference
#   $\mathrm{KL}(p\,\|\,q) \ge 0$ is the price of the wrong $q$; block entropy $H(L)$ is the
#   entropy of words of length $L$.
# * Synchronisation: $U(L) = \sum_w P(w) H[\eta(w)]$. Z1R reaches 0 after 3 tokens; Mess3
#   levels off at 0.438 bits; RRXOR decays slowly.
# * Z1R's observer can hold only 7 beliefs and RRXOR's 36, while Mess3's reaches a new one with
#   almost every word; chapter 03 says when the set is finite.
# * A belief predicts the whole future, $P(w \mid \eta) = \eta T^{(w)}\mathbf 1$ — more than
#   the next token.
# * Myopic entropy $h(L)$ is the best achievable cross-entropy with $L-1$ tokens of context.
#   Position $p$ of a transformer predicts $x_{p+2}$ with floor $h(p+2)$; for Mess3 the mean
#   floor over 10 positions is 0.8025 nats.
# * Entropy rate $h_\mu = \lim h(L)$: $\tfrac13\ln 2$ nats for Z1R (exact); 0.7935 nats
#   = 1.1447 bits for Mess3, bracketed between two exact sequences.
#
# **Practice.** `exercises/02_belief_updating.ipynb`: six exercises (about 85 minutes) — the
# update, the next-token distribution, trajectories, state uncertainty and synchronisation,
# myopic entropy, and the ideal predictor's loss at each model position — each with a
# checker that recognises the usual mistakes (a forgotten normalisation, the net matrix, a
# transpose, an off-by-one between belief and position).
#
# **Next:** chapter 03, *The mixed-state presentation*: all the beliefs at once, as a machine
# of their own, and the fractal they form.
#
# ### References
#
# * A. S. Shai et al., *Transformers Represent Belief State Geometry in their Residual
#   Stream*, NeurIPS 2024 (arXiv:2405.15943).
# * J. P. Crutchfield, C. J. Ellison, R. G. James, J. R. Mahoney, *Synchronization and
#   control in intrinsic and designed computation: an information-theoretic analysis of
#   competing models of stochastic computation*, Chaos 20, 037105 (2010).
# * N. F. Travers, J. P. Crutchfield, *Exact synchronization for finite-state sources*,
#   arXiv:1008.4182 (2010), and its sequel *Asymptotic
#   synchronization for finite-state sources* (arXiv:1011.1581): exact vs asymptotic
#   synchronisation of unifilar presentations.
# * J. P. Crutchfield, D. P. Feldman, *Regularities unseen, randomness observed: levels of
#   entropy convergence*, Chaos 13, 25 (2003) — block and myopic entropies, $h_\mu$, excess
#   entropy.
# * T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley (2006),
#   ch. 2 (Gibbs' inequality, chain rule) and ch. 4 (entropy rates).
