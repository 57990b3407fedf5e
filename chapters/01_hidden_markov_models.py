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
# # 01 · Hidden Markov models: where the tokens come from
#
# *Reading time ≈ 60 minutes; running time ≈ 3 seconds (measured, CPU on one thread).
# Prerequisites: chapter 00; NumPy (indexing, `@`, `einsum` helps but is not required);
# conditional probability and the rule of total probability.*
#
# A transformer trained on next-token prediction sees nothing but token sequences. To ask
# what it has learned *about the world that produced them*, we need a world we can write down
# exactly. In this course that world is a **hidden Markov model** (HMM): a machine that walks
# between hidden states and emits a token at every step. We see the tokens, never the states.
#
# **After this chapter you will be able to**
#
# 1. read and write an HMM as a set of *labelled transition matrices* $T^{(x)}$ and explain
#    each entry;
# 2. compute the stationary distribution $\pi$ and say why every sequence starts from it;
# 3. sample sequences, and compute the exact probability of any sequence as a product of
#    matrices, $P(x_{1:L}) = \pi\, T^{(x_1)} \cdots T^{(x_L)}\, \mathbf 1$;
# 4. describe the five processes of the course — Z1R, Mess3, RRXOR, the even process and the
#    golden-mean process — and recognise their fingerprints in sampled data;
# 5. explain why the hidden state cannot be read off the tokens, which is the problem that
#    chapter 02 solves.
#
# The practice notebook `exercises/01_hidden_markov_models.ipynb` has you implement each of
# these pieces yourself.

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import plotting, processes
from beliefcourse.enumerate import all_sequences

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. A process you can describe in one line: zero, one, random
#
# Shai et al. (2024) explain their ideas with a small process called **Z1R**, for
# *zero–one–random*. It has three hidden states, $S_0$, $S_1$ and $S_R$, and cycles through
# them forever:
#
# * in $S_0$ it emits `0` and moves to $S_1$;
# * in $S_1$ it emits `1` and moves to $S_R$;
# * in $S_R$ it emits `0` or `1` with probability ½ each, and moves to $S_0$.
#
# So its output looks like `…01R01R01R…`, with each `R` a fair coin flip. Every kind of HMM
# we meet is specified by saying, for each state, *which token it can emit and where it goes
# next, with what probability*. Collect those numbers in one array per token:
#
# $$
# T^{(x)}_{ij} \;=\; P\big(\text{emit } x,\ \text{go to state } j \;\big|\; \text{in state } i\big).
# $$
#
# These are the **labelled transition matrices**, the notation of both papers. Rows are the
# state we are in, columns the state we go to, and the label $x$ is the token emitted *on the
# way*. (This is an *edge-emitting* HMM: tokens sit on transitions, not on states. It
# generates the same processes as the state-emitting HMMs of many textbooks, often with fewer
# states, and it makes every formula below a plain matrix product.) In code, the course stores them as one array
# `T[x, i, j]` of shape `(n_tokens, n_states, n_states)`.

# %%
z1r = processes.z1r()          # p = P(S_R emits 0) = 0.5
print(z1r)

# %% [markdown]
# Read the first matrix row by row. From $S_0$ (row 0) the process emits `0` and goes to
# $S_1$ with probability 1; from $S_1$ (row 1) it cannot emit `0` at all; from $S_R$ (row 2)
# it emits `0` and goes to $S_0$ with probability ½. The other ½ of $S_R$'s probability sits in
# $T^{(1)}$.
#
# A state diagram shows the same information as a picture: one arrow for each pair of states
# $i \to j$ that some token connects, labelled with one "token: probability" line per token.

# %%
fig, ax = plt.subplots(figsize=(4.6, 4.0))
plotting.plot_hmm(z1r, ax=ax)
ax.set_title("Z1R: zero, one, random")
plt.show()

# %% [markdown]
# ### The net transition matrix, and the one rule every HMM obeys
#
# From any state, *something* must happen: some token is emitted and some state is entered.
# Summing over both gives 1. In matrix language, the **net transition matrix**
#
# $$T = \sum_x T^{(x)}, \qquad T_{ij} = P(\text{go to } j \mid \text{in } i),$$
#
# is *row-stochastic*: its rows sum to 1. `HMM` refuses arrays that break this rule, with a
# message saying which row is wrong. $T$ alone is an ordinary Markov chain on the hidden
# states — it forgets which token was emitted.

# %%
print("net transition matrix T = T^(0) + T^(1):")
print(z1r.transition_matrix)
print("row sums:", z1r.transition_matrix.sum(axis=1))

# %% [markdown]
# ## 2. The stationary distribution, and where sequences start
#
# If we knew only that the process has been running for a long time, which state would we
# expect it to be in? A distribution over states is a row vector $\mu$; one step of the chain
# turns it into $\mu T$, because $P(s'=j) = \sum_i P(s=i)\,P(j \mid i)$. The distribution that
# one step leaves unchanged,
#
# $$\pi\, T = \pi, \qquad \textstyle\sum_i \pi_i = 1,$$
#
# is the **stationary distribution**: a left eigenvector of $T$ with eigenvalue 1 (a row
# vector $v$ with $vT = \lambda v$; equivalently, an ordinary eigenvector of $T^\top$),
# normalised to sum to 1. For every process in this course it is unique.
#
# **Convention.** Every sequence in this course starts with the hidden state drawn from $\pi$.
# That makes the token process *stationary*: the statistics of a window of tokens do not
# depend on where the window starts. It is also what a model sees when it reads a random
# window of a very long text — there is no "beginning of the world" token (both papers use no
# BOS token either).
#
# Z1R spends one step in each of its three states per cycle, so $\pi$ should be uniform:

# %%
pi = z1r.stationary()
print("pi         =", pi)
print("pi T == pi:", np.allclose(pi @ z1r.transition_matrix, pi))

# %% [markdown]
# `HMM.stationary` solves the linear system $\pi(T - I) = 0,\ \pi\mathbf 1 = 1$. You will
# compute $\pi$ yourself from an eigendecomposition in Exercise 1.1. Another way to see it:
# start anywhere and apply $T$ repeatedly. For Z1R that does **not** converge — it just
# rotates the three states, because the chain is periodic — which is one more reason to start
# from $\pi$ rather than hope to forget the initial state.

# %%
mu = np.array([1.0, 0.0, 0.0])                       # certain to be in S_0
for step in range(4):
    print(f"after {step} steps: {mu}")
    mu = mu @ z1r.transition_matrix

# %% [markdown]
# > **Question.** The golden-mean process (section 7) has states $A$ and $B$: from $A$ it
# > emits `1` with probability $p$ and moves to $B$, or emits `0` and stays; from $B$ it
# > emits `0` and returns to $A$. What is its stationary distribution?
# >
# > <details><summary>Answer</summary>
# >
# > Balance the flow between the two states: $\pi_A\, p = \pi_B \cdot 1$, so
# > $\pi \propto (1, p)$ and $\pi = (1, p)/(1 + p)$. For $p = 1/2$ that is $(2/3, 1/3)$.
# > </details>

# %% [markdown]
# ## 3. Sampling: the generative story
#
# To sample from an HMM, follow its definition:
#
# 1. draw the initial state $s_0 \sim \pi$;
# 2. at each step $t = 1, 2, \dots$, in state $i = s_{t-1}$, draw a **pair** (token $x_t$,
#    next state $s_t$) from the joint distribution $T^{(x)}_{ij}$ — for fixed $i$ these
#    $n_\text{tokens} \times n_\text{states}$ numbers sum to 1;
# 3. repeat.
#
# Token and next state must be drawn *together*: in general they are correlated (in Z1R, state
# $S_R$ emitting `0` or `1` both lead to $S_0$, but in RRXOR below the token decides where we
# go). Drawing them independently from their marginals would produce a different process.
# `HMM.sample(n_sequences, length, seed)` returns the tokens and also, because we are the
# omniscient author of this world, the hidden states: `states[:, 0]` is $s_0$ and
# `states[:, t]` the state entered on emitting `tokens[:, t - 1]`.

# %%
def show_tape(hmm, tokens, states):
    """Print hidden states above the tokens they emit (extra code: only for display)."""
    width = max(len(name) for name in hmm.state_names + hmm.token_names) + 1
    top = "".join(f"{hmm.state_names[s]:>{width}}" for s in states[:-1])
    bottom = "".join(f"{hmm.token_names[x]:>{width}}" for x in tokens)
    print("state :" + top)
    print("token :" + bottom)


tokens, states = z1r.sample(n_sequences=1, length=18, seed=0)
show_tape(z1r, tokens[0], states[0])

# %% [markdown]
# Each token is printed under the state the process was in when it emitted it. (For Mess3,
# below, we align each token with the state it leads *into*, because that is the state a Mess3
# token reports.) The learner's view — and the transformer's — is only the bottom row.

# %% [markdown]
# ## 4. The probability of a sequence is a product of matrices
#
# What is the probability that the process emits a particular word $x_1 x_2 \dots x_L$? By the
# rule of total probability, sum over every hidden path $s_0, s_1, \dots, s_L$ that could
# have produced it. Along one path, the Markov property makes the probability a product:
#
# $$
# P(x_{1:L}) \;=\; \sum_{s_0,\dots,s_L} \pi_{s_0}\, T^{(x_1)}_{s_0 s_1}\, T^{(x_2)}_{s_1 s_2}
# \cdots T^{(x_L)}_{s_{L-1} s_L}.
# $$
#
# The sums over $s_0, \dots, s_{L-1}$ are exactly the sums of matrix multiplication, and the
# last sum over $s_L$ is a product with the all-ones column vector $\mathbf 1$:
#
# $$
# \boxed{P(x_{1:L}) \;=\; \pi\, T^{(x_1)} T^{(x_2)} \cdots T^{(x_L)}\, \mathbf 1.}
# $$
#
# The number of hidden paths grows like $n_\text{states}^{L+1}$, but the matrix product costs
# only $L$ vector–matrix multiplications. (This is the *forward algorithm*.) Let us check the
# formula against a brute-force sum over paths for one word:

# %%
word = [0, 1, 1]
T = z1r.T
by_matrices = pi @ T[word[0]] @ T[word[1]] @ T[word[2]] @ np.ones(3)

n_states = z1r.n_states
by_paths = 0.0
for path in itertools.product(range(n_states), repeat=len(word) + 1):
    p = pi[path[0]]
    for t, x in enumerate(word):
        p *= T[x, path[t], path[t + 1]]
    by_paths += p

print(f"P(011) by matrix product: {by_matrices:.4f}")
print(f"P(011) by summing {n_states ** (len(word) + 1)} hidden paths: {by_paths:.4f}")
print(f"HMM.probability:          {z1r.probability(word):.4f}")

# %% [markdown]
# For Z1R, $P(011) = 1/6$: it happens only when the word starts in $S_0$ (probability ⅓) and
# the random bit comes out `1` (probability ½).
#
# Some words are impossible. Z1R can never emit `000` or `111`: between any two random bits
# there is always a forced `0` and a forced `1`. Of the $2^L$ binary words only a few have
# positive probability, and `beliefcourse.enumerate.all_sequences` lists exactly those, with
# their probabilities (it grows the words one token at a time and drops the impossible ones).
#
# > **Question (predict, then run the next cell).** How many of the $2^6 = 64$ binary words of
# > length 6 can Z1R emit?
# >
# > <details><summary>Answer</summary>
# >
# > 12. A window of 6 tokens covers two full cycles, so it holds exactly two random bits
# > ($2^2 = 4$ choices), and the window can start at any of the 3 phases of the cycle:
# > $3 \times 4 = 12$ words, and no two of them are the same word. In general the count is
# > $3 \cdot 2^{L/3}$ when $L$ is a multiple of 3 — the printed 6, 12, 48 and 768.
# > </details>

# %%
words3 = all_sequences(z1r, 3)
for w, p in zip(words3.tokens, words3.probs):
    print("".join(map(str, w)), f"{p:.4f}")
print(f"total probability: {words3.probs.sum():.4f}")
for L in (3, 6, 12, 24):
    print(f"length {L:2d}: {len(all_sequences(z1r, L)):4d} possible words out of {2 ** L:10,d}")

# %% [markdown]
# The count of possible words doubles every three steps — one fresh random bit per cycle — so
# it grows like $2^{L/3}$ rather than $2^L$. The exponent, ⅓ bit of genuine randomness per
# token, is Z1R's *entropy rate*, which chapter 02 computes properly. (It equals the growth
# rate of the count only because the random bit is fair, so all possible words are equally
# likely; with a biased bit the count grows just as fast but the entropy rate is lower.) The rest of the
# sequence is determined, once you know where in the cycle you are: the theme of the whole
# course.

# %% [markdown]
# ## 5. Mess3: the process of the paper
#
# The fractal in chapter 00 belongs to **Mess3** (Marzen & Crutchfield, 2017), the main
# process of Shai et al. (2024). It has three hidden states $A, B, C$ and three tokens, also
# called $A, B, C$. Two parameters control it, and we write the process **Mess3(x, α)**:
#
# * x — how often the hidden state **jumps**: from any state it moves to each of the two
#   others with probability x, and stays with probability 1 − 2x. (x is the papers' name for
#   this *hop parameter*, and we keep it. It is not a token: a token is always $x$ or $x_t$ in
#   this course, and the hop parameter appears only with Mess3 — in "Mess3(x, α)", in
#   `processes.mess3(x=..., alpha=...)`, and in the move matrix $M$ below, where no token
#   appears.)
# * α — how **honestly** a state reports itself: the state just entered emits its own
#   token with probability α and each other token with probability β = (1 − α)/2.
#
# A step is "move, then the new state emits". The labelled matrices therefore **factorise**
# into a move matrix $M$ and an emission matrix $E$:
#
# $$
# T^{(x)}_{ij} \;=\; \underbrace{M_{ij}}_{\text{move } i \to j}\;
# \underbrace{E_{jx}}_{\text{state } j \text{ emits } x} .
# $$
#
# For Mess3(x, α), with rows and columns in the order $A, B, C$ (rows of $M$: from state $i$,
# columns: to state $j$; rows of $E$: state $j$, columns: token),
#
# $$
# M = \begin{pmatrix} 1-2x & x & x\\ x & 1-2x & x\\ x & x & 1-2x \end{pmatrix},
# \qquad
# E = \begin{pmatrix} \alpha & \beta & \beta\\ \beta & \alpha & \beta\\ \beta & \beta & \alpha \end{pmatrix}.
# $$
#
# The paper uses Mess3(0.05, 0.85), the defaults of `processes.mess3()`. (The authors'
# libraries default to Mess3(0.15, 0.6): a different process, with a different fractal. Watch
# for that when you read their code.) With $y = 1 - 2x$, the first matrix is
#
# $$
# T^{(A)} = \begin{pmatrix} \alpha y & \beta x & \beta x\\ \alpha x & \beta y & \beta x\\
# \alpha x & \beta x & \beta y \end{pmatrix},
# $$
#
# and $T^{(B)}, T^{(C)}$ move the $\alpha$ column. Exercise 1.3 has you build all three from
# the factorisation.

# %%
x, alpha = 0.05, 0.85                  # paper (a)'s values (also the defaults)
mess3 = processes.mess3(x=x, alpha=alpha)
print(f"T^(A)[0, 0] = alpha*y = {mess3.T[0, 0, 0]:.4f},  T^(A)[0, 1] = beta*x = {mess3.T[0, 0, 1]:.5f}")
print(f"T^(A)[1, 0] = alpha*x = {mess3.T[0, 1, 0]:.4f},  T^(A)[1, 1] = beta*y = {mess3.T[0, 1, 1]:.4f}")
print("stationary distribution:", mess3.stationary())

# %% [markdown]
# As a picture, the three labelled matrices side by side (colour on a log scale: the entries
# span more than two orders of magnitude). In $T^{(x)}$ the column of the state named $x$ is
# bright — emitting token $x$ is most likely on entering the state of the same name — and its
# brightest entry, $M_{ii} E_{ii} = 0.95 \times 0.85 = 0.765$, is "stay in that state and
# report it honestly". The three matrices are
# the same up to renaming states and tokens together: Mess3 treats $A$, $B$, $C$ alike.

# %%
from matplotlib.colors import LogNorm

fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.3), constrained_layout=True)
for k, ax in enumerate(axes):
    image = ax.imshow(mess3.T[k], norm=LogNorm(vmin=2e-3, vmax=1), cmap="viridis")
    for i, j in itertools.product(range(3), range(3)):
        value = mess3.T[k, i, j]
        ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=9,
                color="black" if value > 0.1 else "white")
    ax.set_xticks(range(3), ["A", "B", "C"])
    ax.set_yticks(range(3), ["A", "B", "C"])
    ax.set_xlabel("to state j")
    ax.set_title(f"$T^{{({'ABC'[k]})}}$: emit {'ABC'[k]}")
axes[0].set_ylabel("from state i")
fig.colorbar(image, ax=axes, shrink=0.8, label="probability")
plt.show()

# %% [markdown]
# The state diagram draws the same 27 numbers as arrows (rounded to two significant digits).
# Between two states there are two arrows, one each way; each label sits beside its arrow,
# nearer the state the arrow *leaves*. (So the label "A: 0.042" beside $B$ belongs to the
# arrow $B \to A$: hop to $A$ with probability 0.05, then emit `A` with probability 0.85.)

# %%
fig, ax = plt.subplots(figsize=(6.4, 5.8))
plotting.plot_hmm(mess3, ax=ax, precision=2)
ax.set_title("Mess3 (x = 0.05, α = 0.85)")
plt.show()

# %% [markdown]
# The diagram is busy — every state connects to every state with every token — which is
# exactly why Mess3 is interesting: no token ever rules a state out, so an observer can never
# be certain which state the process is in.
#
# ### What the net matrix's eigenvalues say about the data
#
# Summing the factorised form over the tokens removes the emission factor (each row of $E$
# sums to 1), so the net matrix is the move matrix: $T = M = (1-3x)\,I + x\,J$, where $J$ is
# the all-ones matrix. $J$ has eigenvalues 3 (eigenvector $\mathbf 1$) and 0 (twice), so $T$
# has eigenvalues $1$ and
# $\zeta = 1 - 3x$ (twice). The second eigenvalue is a **memory**: after $k$ steps, whatever we
# knew about the hidden state has faded by a factor $\zeta^k$.

# %%
zeta = 1 - 3 * x
eigenvalues = np.sort(np.linalg.eigvals(mess3.transition_matrix).real)[::-1]
print("eigenvalues of T:", eigenvalues)
print(f"zeta = 1 - 3x = {zeta:.2f}")

# %% [markdown]
# > **Question.** For which hop parameter x of Mess3(x, α) does the hidden chain have no
# > memory at all, and what do the tokens look like then?
# >
# > <details><summary>Answer</summary>
# >
# > x = 1/3: then $\zeta = 0$ and $T = J/3$, so the next state is uniform whatever the
# > current one. The hidden states are independent and uniform, and so are the tokens — for
# > every $\alpha$.
# > </details>
#
# That memory is visible in the tokens themselves. The probability that the token $k$ steps
# later equals today's token is
#
# $$
# P(x_{t+k} = x_t) \;=\; \tfrac13 + \big(\alpha^2 + 2\beta^2 - \tfrac13\big)\,\zeta^{\,k}
# $$
#
# — a geometric decay towards chance, at exactly the rate $\zeta$.
#
# <details><summary>Derivation</summary>
#
# $x_t$ is emitted by the state $s_t$ entered at step $t$, and $x_{t+k}$ by $s_{t+k}$; given the
# two states, the two emissions are independent. Since $T = \zeta I + (1-\zeta)J/3$ and $J/3$
# is a projection ($(J/3)^2 = J/3$), $T^k = \zeta^k I + (1-\zeta^k)J/3$, so
# $P(s_{t+k} = s_t) = \tfrac13 + \tfrac23\zeta^k$. Two tokens from the same state agree with
# probability $q = \alpha^2 + 2\beta^2$, from different states with $r = 2\alpha\beta + \beta^2$,
# and $q + 2r = (\alpha + 2\beta)^2 = 1$. Hence
# $P = q\,(\tfrac13 + \tfrac23\zeta^k) + r\,(\tfrac23 - \tfrac23\zeta^k)
# = \tfrac13 + \tfrac23(q - r)\,\zeta^k$, and $\tfrac23(q - r) = q - \tfrac13$.
# Exercise 1.6 computes the same quantity for *any* HMM from its matrices.
# </details>
#
# Let us sample and see — first
# a strip of hidden states above the tokens they emitted, coloured red, green, blue for
# $A, B, C$ (the same colours the simplex plots use), then the lagged agreement measured
# from 400 sequences of length 200.

# %%
rgb = np.eye(3)                                  # A -> red, B -> green, C -> blue
tokens, states = mess3.sample(n_sequences=400, length=200, seed=1)

fig, axes = plt.subplots(2, 1, figsize=(9, 2.2), sharex=True, constrained_layout=True)
axes[0].imshow(rgb[states[0, 1:121]][None], aspect="auto",
               extent=(0.5, 120.5, 0, 1))              # state entered at step t ...
axes[1].imshow(rgb[tokens[0, :120]][None], aspect="auto",
               extent=(0.5, 120.5, 0, 1))              # ... and the token it emitted
for ax, label in zip(axes, ["hidden state", "token"]):
    ax.set_yticks([0.5], [label])
axes[1].set_xlabel("time step t")
handles = [plt.Rectangle((0, 0), 1, 1, color=rgb[k]) for k in range(3)]
fig.legend(handles, ["A", "B", "C"], ncol=3, frameon=False, loc="outside upper right",
           fontsize=9)
fig.suptitle("Mess3: long stays in one state; tokens mostly, but not always, honest",
             x=0.02, ha="left", fontsize=11)
plt.show()

# %%
lags = np.arange(1, 21)
empirical = np.array([(tokens[:, k:] == tokens[:, :-k]).mean() for k in lags])
beta = (1 - alpha) / 2
exact = 1 / 3 + (alpha**2 + 2 * beta**2 - 1 / 3) * zeta**lags

fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.plot(lags, exact, "-", color="0.3", label=r"exact: $\frac{1}{3} + (\alpha^2 + 2\beta^2 - \frac{1}{3})\,\zeta^k$")
ax.plot(lags, empirical, "o", ms=4, color="C3", label="measured (400 sequences × 200 tokens)")
ax.axhline(1 / 3, ls=":", color="0.5", label="chance (1/3)")
ax.set_ylim(0.3, 0.7)
ax.set_xlabel("lag k")
ax.set_ylabel(r"$P(x_{t+k} = x_t)$")
ax.set_xticks([1, 5, 10, 15, 20])
ax.legend(frameon=False, fontsize=8)
plt.show()
print(f"lag 1: exact {exact[0]:.3f}, measured {empirical[0]:.3f}")
print(f"lag 20: exact {exact[-1]:.3f}, measured {empirical[-1]:.3f}")

# %% [markdown]
# Each token taken alone is uniformly distributed — the stationary distribution is uniform and
# the emission rule is symmetric — so single-token counts reveal nothing. The structure lives
# in the *correlations*, and they decay at the rate set by the hidden chain. Chapter 04's
# transformer will have to exploit exactly these correlations, and the follow-up paper
# (Piotrowski et al., 2025) finds $\zeta$ again, as the rate at which attention decays with
# distance.
#
# ### Try it: the Mess3 explorer
#
# The widget below rebuilds Mess3(x, α) for any hop parameter and α (move the sliders, then
# let go).
# It shows one sampled strip of hidden states above the tokens they emitted, the lagged
# agreement $P(x_{t+k} = x_t)$ — exact, and measured in 2,000 sampled sequences — the three labelled
# matrices with the net matrix, and a status line with $\zeta$, the lag-1 agreement, the token
# frequencies and the mean length of a run of equal tokens (1.5 if tokens were independent
# and uniform). The same seed is used at every setting, so what changes comes from the
# parameters, not the dice. **Things to try:**
#
# * Set $\alpha = 1/3$: every state emits every token with probability ⅓. The curve drops to
#   chance and the runs shrink to 1.5, although the hidden chain is as sticky as before: the
#   tokens have stopped saying anything about it.
# * Push the hop parameter towards $1/3$: $\zeta \to 0$, the net matrix becomes $J/3$ and
#   the chain forgets
#   in one step.
# * Take the hop parameter above $1/3$, where $\zeta$ is negative: the state now tends to
#   *change*. The
#   curve oscillates around chance and runs get shorter than 1.5.
# * Take $\alpha = 0$, where a token is evidence *against* its own state. Does the curve fall
#   below chance? Compare with $\alpha = 2/3$.
#
# > **Question.** Why do $\alpha = 0$ and $\alpha = 2/3$ give exactly the same curve?
# >
# > <details><summary>Answer</summary>
# >
# > Substitute $\beta = (1-\alpha)/2$: the amplitude is
# > $\alpha^2 + 2\beta^2 - \tfrac13 = \tfrac16(3\alpha - 1)^2 = \tfrac23(\alpha - \beta)^2$.
# > Agreement depends only on how *different* a state's own token is from the others, not on
# > the sign of the difference ($3\alpha - 1 = \mp 1$ for the two values). At $\alpha = 0$,
# > two tokens emitted by the same state are each one of the *other* two tokens, so they agree
# > half the time — above chance, because the state is sticky.
# > </details>

# %% tags=["nbval-ignore-output"]
from beliefcourse import widgets

widgets.mess3_explorer()

# %% [markdown]
# ## 6. RRXOR: structure you cannot see in pairs
#
# The second process of the paper is **RRXOR**, *random–random–XOR*: emit a random bit $b_1$,
# another random bit $b_2$, then $b_1 \oplus b_2$, and repeat. It needs five hidden states:
# a start state $S$, states $0$ and $1$ remembering $b_1$, and states $T$ ("the XOR will be
# 1") and $F$ ("the XOR will be 0"). Here, unlike Z1R, the emitted token decides where the
# process goes next — which is why sampling must draw the token and the next state jointly.

# %%
rrxor = processes.rrxor()

# Only for the drawing: S in the middle, the first bit's states above and below it, the
# XOR states left and right, so that no two arrows cross. States: S, 0, 1, T, F.
fig, ax = plt.subplots(figsize=(5.4, 4.6))
plotting.plot_hmm(rrxor, ax=ax, positions=[(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0)])
ax.set_title("RRXOR: random, random, XOR")
plt.show()
print("stationary distribution over (S, 0, 1, T, F):", rrxor.stationary())

# %% [markdown]
# $S$ is visited once per 3-step cycle and the four other states share the remaining two steps,
# hence $\pi = (2, 1, 1, 1, 1)/6$.
#
# What do RRXOR's data look like? Every single bit is a fair coin, and — less obviously —
# so is every *pair* of consecutive bits: $(b_1, b_2)$ is uniform, and so are
# $(b_2, b_1\oplus b_2)$ and $(b_1 \oplus b_2, b_1')$. The exact probabilities, enumerated:

# %%
for L in (1, 2, 3):
    words = all_sequences(rrxor, L)
    print(f"length {L}: " + "  ".join(f"{''.join(map(str, w))}:{p:.3f}"
                                      for w, p in zip(words.tokens, words.probs)))

# %% [markdown]
# Only triples break the symmetry: the words with $x_3 = x_1 \oplus x_2$ (`000`, `011`,
# `101`, `110`) have probability $1/6$, the others $1/12$. A triple obeys the XOR rule
# whenever it is aligned with the cycle (probability ⅓) and by luck half the time otherwise,
# so $P(x_3 = x_1 \oplus x_2) = \tfrac13 + \tfrac23\cdot\tfrac12 = \tfrac23$.
#
# In one long sample the structure is plain to see once we try the three possible *phases*:
# cut the sequence into consecutive triples starting at offset 0, 1 or 2 and measure how often
# the third bit is the XOR of the first two. No hidden states are used here — only tokens.

# %%
tokens, _ = rrxor.sample(n_sequences=1, length=30_000, seed=2)
seq = tokens[0]
for offset in range(3):
    n_triples = (len(seq) - offset) // 3
    triples = seq[offset: offset + 3 * n_triples].reshape(-1, 3)
    holds = np.mean(triples[:, 2] == triples[:, 0] ^ triples[:, 1])
    print(f"triples starting at offset {offset}: XOR rule holds in {holds:.1%}")

# %% [markdown]
# One phase obeys the rule every time; the other two are coin flips. A reader who knew the
# phase could predict every third bit perfectly — but the phase is a hidden variable, and at
# the start of a sequence nobody knows it. Inferring it as the bits come in is the problem of
# chapter 02.
#
# > **Question.** A predictor sees only the previous token of RRXOR. Can it predict the next
# > bit better than a coin flip? What if it sees the previous two?
# >
# > <details><summary>Answer</summary>
# >
# > With one token of context, no: every pair of consecutive bits is uniform, so
# > $P(x_{t+1} \mid x_t) = \tfrac12$ whatever $x_t$ is. With two tokens, yes:
# > $P(x_3 = x_1 \oplus x_2 \mid x_1 x_2) = \tfrac23$, which is better than a coin flip.
# > Chapter 02 computes the best achievable loss for every context length.
# > </details>

# %% [markdown]
# ## 7. Two classics: the even process and the golden-mean process
#
# Two small processes from the computational-mechanics literature complete the cast. Both
# have two states and binary tokens.
#
# A process has **Markov order** $R$ if the distribution of the next token given the whole
# past depends only on the last $R$ tokens.
#
# * The **golden-mean process** never emits two `1`s in a row: after a `1` it must emit `0`.
#   Its hidden state is just "was the last token a 1?", so a single token tells you the state
#   — the process has Markov order 1.
# * The **even process** emits `1`s in blocks of *even* length. Its state is the parity of
#   the current block of `1`s, which can depend on arbitrarily old tokens: after
#   `0111111…1` you must count the `1`s to know whether another `1` is forced. No finite
#   window of past tokens always determines the state — the process has infinite Markov order,
#   although it has only two hidden states.

# %%
even = processes.even_process()
golden = processes.golden_mean()
fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
plotting.plot_hmm(golden, ax=axes[0])
axes[0].set_title("golden mean: no 11")
plotting.plot_hmm(even, ax=axes[1])
axes[1].set_title("even process: 1s in even blocks")
plt.show()

for name, hmm in [("golden mean", golden), ("even", even)]:
    tokens, _ = hmm.sample(n_sequences=1, length=48, seed=3)
    print(f"{name:12s}", "".join(map(str, tokens[0])))

# %% [markdown]
# In the even-process sample, every block of `1`s that lies wholly inside the window has even
# length. Only a block cut by the edge of the window can be odd: at the start because we
# joined the process in the middle of its life (at the stationary distribution), at the end
# because we stopped watching.

# %% [markdown]
# ## 8. The hidden state is hidden
#
# In every example so far we printed the hidden states because we generated the data. An
# observer — a statistician, or a transformer — gets only tokens. How much do the tokens say
# about the state?
#
# **Mess3.** The state just entered emits its own token with probability $\alpha$, so the
# latest token names the current state correctly only some of the time.
#
# > **Question (predict, then run the next cell).** In what fraction of steps of
# > Mess3(0.05, 0.85) does the emitted token equal the state just entered?
# >
# > <details><summary>Answer</summary>
# >
# > α = 0.85: the state just entered emits its own token with probability α, whatever
# > happened before. The sample of 20,000 steps gives 0.846, within two standard errors
# > (one is $\sqrt{0.85 \cdot 0.15 / 20000} \approx 0.0025$) of 0.85.
# > </details>

# %%
tokens, states = mess3.sample(n_sequences=200, length=100, seed=4)
print(f"fraction of steps where token == hidden state: {np.mean(tokens == states[:, 1:]):.3f}"
      f"  (alpha = {alpha})")

# %% [markdown]
# Taking the latest token at face value throws information away: older tokens carry evidence
# too, since states persist. How to weigh them is not obvious.
#
# **Z1R.** Here a short stretch of tokens can pin the state down completely — sometimes. Let us
# list every hidden path consistent with an observed word, with its probability, and compare
# the *posterior* probability of the state the process is in now. The function below is a
# brute-force sum over paths, the same sum as in section 4 but keeping the paths separate.

# %%
def current_state_posterior(hmm, word):
    """P(current hidden state | word), by summing over all hidden paths (brute force)."""
    pi, T = hmm.stationary(), hmm.T
    weight = np.zeros(hmm.n_states)
    for path in itertools.product(range(hmm.n_states), repeat=len(word) + 1):
        p = pi[path[0]]
        for t, x in enumerate(word):
            p *= T[x, path[t], path[t + 1]]
        weight[path[-1]] += p
    return weight / weight.sum()


for word in ([], [1], [0], [0, 1], [1, 1], [1, 0, 0]):
    shown = "".join(map(str, word)) or "(nothing yet)"
    posterior = current_state_posterior(z1r, word)
    print(f"after {shown:14s} P(S0, S1, SR) = {posterior.round(3)}")

# %% [markdown]
# Before any token we know only $\pi$. A `1` leaves two possibilities, $S_0$ (after a random
# `1`) and $S_R$ (after the forced `1`), with $S_R$ twice as likely: from the uniform prior, a
# forced `1` has probability ⅓ and a random `1` only ⅓ · ½; `01` forces us into $S_R$; `11` into $S_0$. Once the
# observer knows the state of Z1R it never loses it again: the hidden state moves
# $S_0 \to S_1 \to S_R \to S_0$ whatever is emitted, so knowing it once means knowing it
# forever. Mess3 is the opposite case, as the next chapter shows.
#
# The vectors we just printed — probability distributions over hidden states, given the tokens
# seen so far — are **beliefs**. Summing over all paths costs $n_\text{states}^{L+1}$ terms;
# chapter 02 shows that the same numbers follow from a one-line update applied token by token,
# derives it from Bayes' rule, and finds that for Mess3 the belief never becomes certain.
# Those beliefs are what the transformer turns out to represent.

# %% [markdown]
# ## Summary
#
# * An edge-emitting HMM is a set of labelled transition matrices,
#   $T^{(x)}_{ij} = P(\text{emit } x, \text{go to } j \mid \text{in } i)$; in code `T[x, i, j]`.
#   The net matrix $T = \sum_x T^{(x)}$ is row-stochastic.
# * The stationary distribution solves $\pi T = \pi$; all our sequences start from it, which
#   makes the token process stationary.
# * Sampling draws the *pair* (token, next state) from row $i$ of the labelled matrices.
# * $P(x_{1:L}) = \pi\, T^{(x_1)}\cdots T^{(x_L)}\mathbf 1$: a sum over exponentially many
#   hidden paths computed with $L$ matrix products.
# * Mess3(x, α) factorises as "move, then emit" (a move matrix $M$, then an emission matrix
#   $E$); its net matrix $M$ has eigenvalues $1$ and $\zeta = 1-3x$, and token correlations decay like $\zeta^k$
#   (lag $k$).
# * RRXOR looks like fair coin flips in single bits and in pairs; its XOR rule shows only in
#   triples, at a hidden phase. Golden mean and even process: order 1 versus infinite Markov
#   order with the same number of states.
# * The hidden state is not observable; what an observer can have is a belief over it.
#
# **Practice.** Open `exercises/01_hidden_markov_models.ipynb`: six exercises (about 75
# minutes in all) in which you compute $\pi$, word probabilities and bigram statistics, build
# Mess3 from its factorisation, write a sampler, and derive the lagged-agreement curve above.
# Each ends with a checker that tells you what is probably wrong.
#
# **Next:** chapter 02, *Bayesian belief updating*.
#
# ### References
#
# * A. S. Shai et al., *Transformers Represent Belief State Geometry in their Residual
#   Stream*, NeurIPS 2024 (arXiv:2405.15943), and the LessWrong post of the same title
#   (April 2024) that introduces Z1R.
# * S. E. Marzen, J. P. Crutchfield, *Nearly maximally predictive features and their
#   dimensions*, Phys. Rev. E 95, 051301 (2017) — the Mess3 process.
# * M. Piotrowski, P. M. Riechers, D. Filan, A. S. Shai, *Constrained Belief Updates Explain
#   Geometric Structures in Transformer Representations*, ICML 2025 (arXiv:2502.01954).
# * L. R. Rabiner, *A tutorial on hidden Markov models and selected applications in speech
#   recognition*, Proc. IEEE 77(2), 1989 — the forward algorithm, for state-emitting HMMs.
