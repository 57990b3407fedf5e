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
# # 03 · The mixed-state presentation: the geometry of everything an observer can believe
#
# *Reading time ≈ 75 minutes. Prerequisites: chapter 02 (the update
# $\eta' = \eta T^{(x)}/(\eta T^{(x)}\mathbf 1)$, the next-token distribution
# $P(x\mid\eta) = \eta T^{(x)}\mathbf 1$, synchronisation, the entropy rate $h_\mu$); a
# logarithm plot does not scare you.*
#
# Chapter 02 followed one observer along one sequence. This chapter collects **all** the
# beliefs an observer can ever hold, and finds that they form a machine of their own — the
# *mixed-state presentation* (MSP) — with a shape. For Z1R the shape is seven points. For
# RRXOR it is 36 points in four dimensions. For Mess3 it is an infinite, self-similar set: the
# fractal of chapter 00. That shape is what Shai et al. (2024) went looking for inside a
# transformer, so we study it closely here: how to compute it, why it is finite or infinite,
# what it knows that the next-token distribution does not, and how big a fractal is.
#
# **After this chapter you will be able to**
#
# 1. define the MSP of an HMM — states are the beliefs reachable from $\pi$, edges
#    $\eta \xrightarrow{x} \eta'$ carry probability $\eta T^{(x)}\mathbf 1$ — and prove that it
#    generates the same process;
# 2. build it breadth-first, draw it as a graph and in the simplex, and split it into
#    transient and recurrent states;
# 3. explain why Z1R's MSP is finite and Mess3's is infinite, and sample the infinite one with
#    the *chaos game* of an iterated function system;
# 4. show, with RRXOR, that beliefs carry more than the next-token distribution:
#    36 beliefs, 11 next-token predictions;
# 5. measure a fractal's dimension three ways — box counting, information dimension and
#    the Lyapunov dimension $h_\mu/|\lambda_1|$ — and say why they differ;
# 6. state the prediction that chapters 04 and 05 test on a transformer.
#
# Practice: `exercises/03_mixed_state_presentation.ipynb` (six exercises, about 90 minutes).

# %%
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import information, msp, plotting, processes
from beliefcourse.enumerate import all_sequences

np.set_printoptions(precision=4, suppress=True)
z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()


def as_fractions(v):
    """A belief written with small fractions, e.g. (1/3, 2/3, 0)."""
    return "(" + ", ".join(str(Fraction(float(a)).limit_denominator(100)) for a in v) + ")"


# %% [markdown]
# ## 1. Beliefs as the states of a new machine
#
# Look again at the update of chapter 02,
#
# $$
# f_x(\eta) \;=\; \frac{\eta\, T^{(x)}}{\eta\, T^{(x)}\,\mathbf 1},
# \qquad P(x \mid \eta) = \eta\, T^{(x)}\,\mathbf 1 .
# $$
#
# The next belief depends on the current belief and the token — nothing else. So the belief
# behaves like the state of a machine: from state $\eta$ the machine emits $x$ with
# probability $P(x\mid\eta)$ and moves to $f_x(\eta)$. Collecting every state this machine can
# reach gives the **mixed-state presentation** (Crutchfield, Riechers & Ellison 2016):
#
# * **states:** the beliefs $\eta(w)$ reached by words $w$ with $P(w) > 0$, where $\eta(w)$ is
#   the belief after reading $w$ from $\pi$ — including the empty word, $\eta(\varnothing) = \pi$;
# * **start state:** $\pi$;
# * **edges:** $\eta \xrightarrow{\;x\;} f_x(\eta)$ with probability $P(x\mid\eta)$, for every
#   token with $P(x\mid\eta) > 0$.
#
# The name: a belief is a *mixture* of the hidden states (the corners of the simplex, the
# *pure* states), and the MSP *presents* the process with these mixtures as states. Two
# properties make it special.
#
# **It is unifilar.** From each state, each token leads to exactly one next state — by
# construction, because $f_x(\eta)$ is a function. The hidden state of the MSP can therefore be
# read off the tokens: an observer who starts at $\pi$ always knows which MSP state it is in.
#
# **It generates the same process.** Start the MSP at $\pi$ and multiply the edge
# probabilities along the path of a word $w = w_1 \dots w_L$:
#
# $$
# \prod_{t=1}^{L} P(w_t \mid \eta_{t-1})
# = \prod_{t=1}^{L} \frac{\pi T^{(w_1)}\cdots T^{(w_t)}\mathbf 1}
#                        {\pi T^{(w_1)}\cdots T^{(w_{t-1})}\mathbf 1}
# = \pi\, T^{(w_1)} \cdots T^{(w_L)}\, \mathbf 1 = P(w),
# $$
#
# because $\eta_{t-1} = \pi T^{(w_{1:t-1})} / (\pi T^{(w_{1:t-1})}\mathbf 1)$ (chapter 02) and
# the product telescopes. So the MSP is a second HMM for the same tokens — one whose states
# are exactly what an optimal predictor must keep track of.
#
# `msp.mixed_state_presentation` builds it breadth-first from $\pi$: expand a belief, create
# its children $f_x(\eta)$ for the possible tokens, and keep a child only if it is not
# already known (up to a tolerance — two paths to the same belief rarely agree to the last
# bit). For Z1R:

# %%
z1r_msp = msp.mixed_state_presentation(z1r)
recurrent = z1r_msp.recurrent_mask()
print(f"Z1R: {len(z1r_msp.beliefs)} MSP states, search complete: {z1r_msp.complete}")
print(f"{'state':>5}  {'depth':>5}  {'belief over (S0, S1, SR)':26}  {'after 0':>7}  {'after 1':>7}  kind")
for k, (eta, depth) in enumerate(zip(z1r_msp.beliefs, z1r_msp.depths)):
    nxt = [f"{int(np.argmax(z1r_msp.T[x, k])) if z1r_msp.T[x, k].sum() > 0 else '-':>7}"
           for x in range(z1r.n_tokens)]
    kind = "recurrent" if recurrent[k] else "transient"
    print(f"{k:5d}  {depth:5d}  {as_fractions(eta):26}  {nxt[0]}  {nxt[1]}  {kind}")

# %% [markdown]
# Seven states. The prior $\pi$ (state 0) has two children: a `0` gives
# $(\tfrac13, \tfrac23, 0)$ — the worked example of chapter 02 — and a `1` gives
# $(\tfrac13, 0, \tfrac23)$: a `1` comes from $S_1$ (leading to $S_R$) or from a coin flip in
# $S_R$ (leading to $S_0$). After two tokens the observer is certain in three of the four
# cases; only `10` leaves it torn, at $(\tfrac12, \tfrac12, 0)$ (state 5): the `1` was either
# the forced one or a coin flip, and the `0` that followed fits both. The next token settles
# it. So every path reaches a corner after at most three tokens, and the corners only
# lead to each other.

# %% [markdown]
# ## 2. Z1R's MSP, drawn two ways
#
# The MSP is an HMM, so `as_hmm()` turns it into one and `plotting.plot_hmm` draws its state
# diagram (left). The same seven states are also *points of the simplex* (right): each MSP
# state is a belief, and the arrows of the diagram become jumps between points.

# %%
z1r_msp_hmm = z1r_msp.as_hmm()
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
plotting.plot_hmm(z1r_msp_hmm, ax=axes[0])
axes[0].set_title("Z1R's MSP as a machine")
plotting.plot_simplex(z1r_msp.beliefs, ax=axes[1], s=80, labels=z1r.state_names,
                      title="the same 7 states in the simplex")
xy = plotting.simplex_coordinates(z1r_msp.beliefs)
for k in range(len(xy)):
    for x in range(z1r.n_tokens):
        if z1r_msp.T[x, k].sum() > 0:
            j = int(np.argmax(z1r_msp.T[x, k]))
            if j != k:
                axes[1].annotate("", xy=xy[j], xytext=xy[k],
                                 arrowprops=dict(arrowstyle="->", color=f"C{x}", lw=1.2,
                                                 shrinkA=6, shrinkB=6,
                                                 connectionstyle="arc3,rad=0.12"))
    axes[1].annotate(str(k), xy[k], xytext=(6, 6), textcoords="offset points", fontsize=9)
axes[1].plot([], [], color="C0", label="token 0")
axes[1].plot([], [], color="C1", label="token 1")
axes[1].legend(frameon=False, loc="upper right", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Check the second property numerically: the MSP, started in its state 0, gives every word
# the same probability as Z1R itself.

# %%
start = np.eye(len(z1r_msp.beliefs))[0]
from_z1r = all_sequences(z1r, 6)
from_msp = all_sequences(z1r_msp_hmm, 6, prior=start)
print(f"words of length 6: {len(from_z1r)} from Z1R, {len(from_msp)} from its MSP")
print("same words:", np.array_equal(from_z1r.tokens, from_msp.tokens))
print(f"largest difference in probability: {np.abs(from_z1r.probs - from_msp.probs).max():.1e}")

# %% [markdown]
# ### Transient and recurrent states
#
# Read the MSP as a Markov chain on its states. A state is **recurrent** if every state
# reachable from it can reach it back, and **transient** otherwise: the chain passes through
# it and, sooner or later, leaves for good. In the MSP the transient states are the beliefs of
# an observer that is still *synchronising* — still narrowing down the hidden state — and the
# recurrent states are what it cycles through afterwards. For Z1R the transient states are
# the prior and the three edge points; the recurrent ones are the corners, certainty: the
# observer synchronises (chapter 02: after at most three tokens) and never loses it. Its
# recurrent part is Z1R itself — once synchronised, the MSP *is* the original machine.
#
# The MSP's stationary distribution puts all its weight on the recurrent states. Two numbers
# follow from it. The entropy rate is the average uncertainty of the next token over that
# distribution (chapter 02, section 7),
#
# $$h_\mu = \sum_\eta p(\eta)\, H\big[P(\cdot\mid\eta)\big],$$
#
# and the **statistical complexity** is the entropy of the distribution itself,
#
# $$C_\mu = H[p] = -\sum_\eta p(\eta) \log_2 p(\eta),$$
#
# the number of bits an optimal predictor must store about the past, on average (for these
# processes the recurrent MSP states are the *causal states* of computational mechanics).

# %%
p = z1r_msp.stationary()
print("stationary distribution over the 7 MSP states:", p.round(4))
print(f"entropy rate          h_mu = {information.entropy_rate(z1r).value:.4f} nats"
      f"  (ln(2)/3 = {np.log(2) / 3:.4f})")
print(f"statistical complexity C_mu = {information.statistical_complexity(z1r):.4f} bits"
      f"  (log2(3) = {np.log2(3):.4f})")

# %% [markdown]
# ## 3. Mess3: a machine with infinitely many states
#
# Run the same search on Mess3 and it never runs dry. `msp.beliefs_by_depth` lists the
# distinct beliefs reachable with at most $L$ tokens:

# %%
depth_counts = {}
for name, hmm in [("Z1R", z1r), ("RRXOR", rrxor), ("Mess3", mess3)]:
    by_depth = msp.beliefs_by_depth(hmm, max_depth=9)
    depth_counts[name] = np.array([len(b) for b in by_depth])
print(f"{'L':>2}  {'Z1R':>5}  {'RRXOR':>5}  {'Mess3':>6}  {'(3^(L+1) - 1)/2':>16}")
for L in range(10):
    print(f"{L:2d}  {depth_counts['Z1R'][L]:5d}  {depth_counts['RRXOR'][L]:5d}  "
          f"{depth_counts['Mess3'][L]:6d}  {(3 ** (L + 1) - 1) // 2:16d}")

fig, ax = plt.subplots(figsize=(5.8, 3.6))
for name, counts in depth_counts.items():
    ax.semilogy(np.arange(len(counts)), counts, "o-", ms=4, label=name)
ax.set_xlabel("word length L")
ax.set_ylabel("distinct beliefs after ≤ L tokens")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# Z1R stops at 7 and RRXOR at 36, but Mess3's count is $1 + 3 + 9 + \dots + 3^L =
# (3^{L+1}-1)/2$: **every** word leads to a different belief. (At depth 10 the same holds —
# 88,573 distinct beliefs — if beliefs are compared to $10^{-9}$; compared to five decimals
# some collide, which is a statement about rounding, not about Mess3.)
#
# Why the difference? Beliefs can only *merge* — two different pasts leading to the same
# belief, as they do all the time in Z1R — if some update maps two different beliefs to the
# same one. For a single token that needs $\eta_1 T^{(x)} \propto \eta_2 T^{(x)}$ with
# $\eta_1 \ne \eta_2$, which is possible only when $T^{(x)}$ is **singular**. Z1R's matrices
# are: $T^{(0)}T^{(1)}$ has rank 1, so *every* belief that allows the word `01` is mapped to
# the same point, certainty of $S_R$ — a synchronising word. Mess3's matrices are invertible,
# so no token ever makes the observer forget which of two beliefs it held:

# %%
for name, hmm in [("Z1R", z1r), ("Mess3", mess3)]:
    ranks = [int(np.linalg.matrix_rank(hmm.T[x])) for x in range(hmm.n_tokens)]
    print(f"{name}: ranks of T^(x) = {ranks}; rank of T^(0) T^(1) = "
          f"{np.linalg.matrix_rank(hmm.T[0] @ hmm.T[1])}")

# %% [markdown]
# This is the mark of a **non-unifilar** HMM: in Mess3, from a known state, a token can lead
# to any of the three states, so certainty is never reached and never kept (chapter 02: the
# state uncertainty levels off at 0.438 bits). The MSP is unifilar by construction, and it
# pays for it with infinitely many states.
#
# ### The maps $f_x$ are contractions: an iterated function system
#
# Each $f_x$ maps the simplex into itself, and it *shrinks* it. For a matrix with positive
# entries this can be made precise: in Hilbert's projective metric on the simplex, $\eta
# \mapsto \eta M / (\eta M \mathbf 1)$ contracts distances by at least the factor
# $\tanh(\Delta(M)/4)$, with $\Delta(M) = \max_{i,j,k,l} \ln \frac{M_{ik} M_{jl}}{M_{il}
# M_{jk}}$ (Birkhoff's theorem; Seneta 1981, ch. 3). For Mess3:

# %%
def birkhoff_coefficient(M):
    """tanh(Delta / 4), Delta the projective diameter of a positive matrix."""
    log_ratio = (np.log(M)[:, None, :, None] + np.log(M)[None, :, None, :]
                 - np.log(M)[:, None, None, :] - np.log(M)[None, :, :, None])
    return float(np.tanh(log_ratio.max() / 4))


for x, token in enumerate(mess3.token_names):
    print(f"f_{token}: contracts Hilbert distances by a factor of at most "
          f"{birkhoff_coefficient(mess3.T[x]):.3f}")

# %% [markdown]
# A finite family of contractions applied in random order is an **iterated function
# system** (IFS). Its theory (Hutchinson 1981; Barnsley 1988) says that there is a unique
# compact set $\mathcal A$ with
#
# $$\mathcal A = f_A(\mathcal A) \,\cup\, f_B(\mathcal A) \,\cup\, f_C(\mathcal A),$$
#
# the *attractor*, and that it is typically a fractal: a union of shrunken, distorted copies
# of itself. Mess3's recurrent beliefs are (densely) this set. You can see the equation above
# in the beliefs after all $3^8 = 6561$ words of length 8 (by then the start $\pi$ is
# forgotten to within $10^{-4}$). Colour each belief by the **last** token of its word: the
# words ending in $x$ give $f_x$ applied to the set of depth 7 — three copies (left). Colour by
# the last *two* tokens: nine copies of copies (middle). Zoom into the red copy: it looks like
# the whole (right).

# %%
words8 = all_sequences(mess3, 8)
depth8 = words8.beliefs[:, -1]
xy8 = plotting.simplex_coordinates(depth8)
last = words8.tokens[:, -1]
last_two = 3 * words8.tokens[:, -2] + words8.tokens[:, -1]
copy_colors = plt.get_cmap("tab10")

fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
plotting.plot_simplex(depth8, colors=np.array(["tab:red", "tab:green", "tab:blue"])[last],
                      ax=axes[0], s=1, labels=mess3.state_names,
                      title="coloured by the last token: 3 copies")
plotting.plot_simplex(depth8, colors=copy_colors(last_two % 10), ax=axes[1], s=1,
                      labels=mess3.state_names, title="by the last two tokens: 9 copies")
in_copy = last == 0
axes[2].scatter(xy8[in_copy, 0], xy8[in_copy, 1], s=1,
                c=plotting.belief_colors(depth8[in_copy]))
axes[2].set_aspect("equal")
axes[2].set_title("zoom: the copy f_A(set), a small Mess3 fractal")
axes[2].set_xticks([])
axes[2].set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. The chaos game and the Blackwell measure
#
# Enumerating words stops being practical beyond a dozen tokens ($3^{12} \approx 531{,}000$).
# The IFS offers a better way to see the attractor, Barnsley's **chaos game**: start anywhere,
# and repeatedly apply a randomly chosen map. Here the choice is not uniform: at belief $\eta$
# the map $f_x$ is chosen with probability $P(x\mid\eta)$ — the maps' probabilities depend on
# the current point (a *place-dependent* IFS). But that is exactly what an observer does when
# it reads a long sequence sampled from Mess3: each token is drawn from the process, and the
# belief moves by the corresponding map. **The chaos game is the observer.**
#
# After a short burn-in the points land on the attractor, and they land there with a definite
# frequency — the stationary distribution of the MSP viewed as a Markov chain on beliefs,
# called the **Blackwell measure** $\mu_B$ (after Blackwell 1957, who studied the entropy of
# functions of Markov chains this way). It is what "how often an optimal predictor holds this
# belief" means for an infinite MSP.

# %%
cloud = msp.chaos_game(mess3, 200_000, seed=0)
fig, ax = plt.subplots(figsize=(6.4, 5.8))
plotting.plot_simplex(cloud, ax=ax, s=0.05, labels=mess3.state_names,
                      title="Mess3 (x = 0.05, α = 0.85): 200,000 beliefs of the chaos game")
plt.show()

# %% [markdown]
# Every point is a belief an optimal predictor holds at some moment; its colour is the belief
# read as RGB. Three large lobes, one per state, each made of three smaller lobes, and so on;
# dense clusters near the corners (the hidden state tends to persist, and $\alpha = 0.85$
# makes tokens good evidence for it) and sparse threads where the observer is torn between two
# states.
#
# Averages over the Blackwell measure are averages over a long sequence, so the cloud
# reproduces chapter 02's numbers. The mean belief is $\pi$ (a belief is a conditional
# probability of the state, so it averages to the unconditional one); the mean entropy of the
# belief is the limiting state uncertainty; and the mean entropy of the next-token
# distribution is the entropy rate,
#
# $$h_\mu = \int H\big[P(\cdot\mid\eta)\big]\, d\mu_B(\eta)$$
#
# — the formula of section 2 with the sum over recurrent states replaced by an integral over
# the attractor.

# %%
def entropy_rows(P, base=np.e):
    """Shannon entropy of each row of P."""
    logs = np.log(np.where(P > 0, P, 1.0)) / np.log(base)
    return -(P * logs).sum(axis=1)


next_token = np.einsum("ni,xij->nx", cloud, mess3.T)
print("mean belief:", cloud.mean(axis=0).round(3), "  pi:", mess3.stationary().round(3))
print(f"mean state uncertainty  E[H(eta)]        = {entropy_rows(cloud, 2).mean():.3f} bits")
print(f"mean next-token entropy E[H(P(.|eta))]   = {entropy_rows(next_token).mean():.4f} nats")
print(f"entropy rate from chapter 02             = {information.entropy_rate(mess3).value:.4f} nats")

# %% [markdown]
# One more count. For an infinite MSP the statistical complexity $C_\mu = H[\mu_B]$ is
# infinite: the Blackwell measure spreads over infinitely many points. A finite number
# survives if we blur the beliefs to a resolution $\varepsilon$ — and how fast it grows as
# $\varepsilon \to 0$ is a **dimension**, the subject of section 6.

# %% [markdown]
# ## 5. RRXOR: 36 beliefs, and what they know beyond the next token
#
# RRXOR has five hidden states, so its beliefs live in a 4-simplex — a four-dimensional object
# we can only draw in projection. Its MSP is finite:

# %%
rr_msp = msp.mixed_state_presentation(rrxor)
rr_recurrent = rr_msp.recurrent_mask()
print(f"RRXOR: {len(rr_msp.beliefs)} MSP states ({rr_recurrent.sum()} recurrent, "
      f"{(~rr_recurrent).sum()} transient); search complete: {rr_msp.complete}")
print("new beliefs per depth:", np.bincount(rr_msp.depths))
print("recurrent beliefs (over S, 0, 1, T, F):")
print(rr_msp.beliefs[rr_recurrent])
print(f"C_mu = {information.statistical_complexity(rrxor):.4f} bits")

# %% [markdown]
# All 36 beliefs appear within six tokens; the five recurrent ones are the corners — RRXOR
# synchronises, and once synchronised it is its own MSP, with $C_\mu = H[\pi] = 2.2516$ bits.
# The figure below shows the 36 beliefs projected onto their first three principal
# components (the projection Shai et al. use for their RRXOR figure). Colour is by
# **next-token distribution** — and there are far fewer colours than points.

# %%
rr_next = np.einsum("ki,xij->kx", rr_msp.beliefs, rrxor.T)
_, rr_class = np.unique(rr_next.round(9), axis=0, return_inverse=True)
rr_class = rr_class.ravel()
print(f"{len(rr_msp.beliefs)} beliefs, {rr_class.max() + 1} distinct next-token distributions:")
for c in range(rr_class.max() + 1):
    members = np.flatnonzero(rr_class == c)
    print(f"  P(next = 0, 1) = ({rr_next[members[0], 0]:.3f}, {rr_next[members[0], 1]:.3f}):"
          f" {len(members):2d} beliefs")

# %%
fig = plt.figure(figsize=(11, 4.8))
ax3d = fig.add_subplot(1, 2, 1, projection="3d")
plotting.plot_simplex_projection(rr_msp.beliefs, dims=3, method="pca", ax=ax3d,
                                 colors=plt.get_cmap("tab20")(rr_class), s=40,
                                 title="RRXOR's 36 beliefs (PCA), coloured by prediction")
ax2 = fig.add_subplot(1, 2, 2)
class_sizes = np.bincount(rr_class)
class_p0 = [rr_next[rr_class == c][0, 0] for c in range(len(class_sizes))]
ax2.bar(range(len(class_sizes)), class_sizes, color=plt.get_cmap("tab20")(np.arange(len(class_sizes))))
ax2.set_xticks(range(len(class_sizes)), [f"{q:.2f}" for q in class_p0], rotation=60)
ax2.set_xlabel("the class's prediction P(next token = 0)")
ax2.set_ylabel("number of beliefs")
ax2.set_title("11 next-token predictions for 36 beliefs")
fig.tight_layout()
plt.show()

# %% [markdown]
# Eleven distinct next-token distributions for 36 beliefs; ten of the beliefs predict a fair
# coin, and most of the others share their prediction with a mirror image. If a network only needed its next-token output, it could merge all of those. But a
# belief fixes the probability of every future *word*, $P(w\mid\eta) = \eta T^{(w)}\mathbf 1$
# (chapter 02, section 5), and those differ. Count the distinct prediction vectors
# $\big(P(w\mid\eta)\big)_{|w| = L}$ as the horizon $L$ grows:

# %%
def word_predictions(beliefs, hmm, L):
    """P(w | eta) for every belief (rows) and every word of length L (columns)."""
    words = all_sequences(hmm, L, prior=np.full(hmm.n_states, 1 / hmm.n_states)).tokens
    cols = []
    for w in words:
        v = beliefs
        for x in w:
            v = v @ hmm.T[x]
        cols.append(v.sum(axis=1))
    return np.stack(cols, axis=1)


for L in range(1, 5):
    predictions = word_predictions(rr_msp.beliefs, rrxor, L)
    n_distinct = len(np.unique(predictions.round(9), axis=0))
    print(f"horizon L = {L}: {n_distinct:2d} distinct prediction vectors among 36 beliefs")

# %% [markdown]
# By three tokens ahead every belief is distinguishable: the belief is the smallest summary
# of the past that predicts the **whole** future, and RRXOR's optimal predictor needs all 36.
# An example pair — two beliefs with the same next-token distribution that disagree about
# the next two tokens:

# %%
fair = np.flatnonzero(rr_class == class_sizes.argmax())      # the ten (1/2, 1/2) beliefs
pair = fair[[1, 2]]
two = word_predictions(rr_msp.beliefs[pair], rrxor, 2)
for k, row in zip(pair, two):
    print(f"belief {as_fractions(rr_msp.beliefs[k])}: P(next) = {as_fractions(rr_next[k])}, "
          f"P(00, 01, 10, 11) = {as_fractions(row)}")

# %% [markdown]
# This is paper (a)'s claim that "beliefs contain information about the whole future", and
# it shapes what to expect inside a network: a layer right before the unembedding may
# legitimately merge beliefs with equal next-token distributions, while earlier layers must
# keep them apart. Shai et al. found RRXOR's full 36-point geometry only when they
# concatenated the residual streams of all layers (chapter 05).

# %% [markdown]
# ## 6. How big is an infinite set? Fractal dimension
#
# A finite MSP is measured by counting (7, 36) and by its entropy $C_\mu$. For Mess3 both are
# infinite; the right size is a **dimension**. Cover the attractor with boxes of side
# $\varepsilon$. A smooth curve needs $N(\varepsilon) \propto \varepsilon^{-1}$ boxes, a
# filled triangle $\varepsilon^{-2}$; a fractal needs $\varepsilon^{-D}$ with a $D$ that need
# not be an integer. Three versions:
#
# * **Box-counting (capacity) dimension** $D_0 = \lim_{\varepsilon\to 0} \dfrac{\log
#   N(\varepsilon)}{\log(1/\varepsilon)}$ — counts every occupied box equally.
# * **Information dimension** $D_1 = \lim_{\varepsilon\to 0} \dfrac{H_\varepsilon}{\log
#   (1/\varepsilon)}$ with $H_\varepsilon = -\sum_i p_i \log p_i$, $p_i$ the fraction of
#   the cloud in box $i$ — weights boxes by how often the observer visits them. This is the
#   rate at which the coarse-grained statistical complexity $C_\mu(\varepsilon) \approx D_1
#   \log(1/\varepsilon)$ diverges; Jurgens & Crutchfield (2021) call it the *statistical
#   complexity dimension*.
# * **Lyapunov dimension**, from the dynamics instead of the points (below).
#
# In practice we fit the slope of $\log N(\varepsilon)$ and of $H_\varepsilon$ against
# $\log(1/\varepsilon)$ over a range of box sizes. Here on the 200,000 chaos-game points,
# placed in the plane with the triangle's coordinates:

# %%
plane = plotting.simplex_coordinates(cloud)
capacity = information.box_counting_dimension(plane)
info_dim = information.information_dimension(plane)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, fit, ylabel in [(axes[0], capacity, r"$\ln N(\varepsilon)$"),
                        (axes[1], info_dim, r"$H_\varepsilon$ [nats]")]:
    x_all = np.log(1 / fit.epsilons)
    ax.plot(x_all, fit.values, "o", color="0.6", label="all box sizes")
    ax.plot(x_all[fit.fit_mask], fit.values[fit.fit_mask], "o", color="C0",
            label="fitted range")
    xs = x_all[fit.fit_mask]
    ax.plot(xs, fit.intercept + fit.slope * xs, "-", color="C3",
            label=f"slope = {fit.slope:.2f}")
    ax.set_xlabel(r"$\ln(1/\varepsilon)$")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
axes[0].set_title("box counting")
axes[1].set_title("information dimension")
fig.tight_layout()
plt.show()
print(f"box-counting dimension D0 ≈ {capacity.slope:.2f}")
print(f"information dimension  D1 ≈ {info_dim.slope:.2f}")

# %% [markdown]
# Two honest caveats before reading these numbers. First, a finite cloud saturates: once
# $\varepsilon$ is so small that most boxes hold one point, $N(\varepsilon)$ stops growing
# and both curves bend flat — the fitted range must stop before that. Second, the two
# dimensions are *different quantities*. The attractor has thin threads that the observer
# rarely visits; box counting gives them full weight and the information dimension almost
# none. So $D_0 > D_1$ is expected, and for the question "how much memory does optimal
# prediction need", $D_1$ is the relevant one.
#
# ### The Lyapunov dimension: $d = h_\mu / |\lambda_1|$
#
# The dynamics give a third estimate, with no boxes at all. Follow a tiny patch of beliefs of
# diameter $\delta$ through the chaos game. Each step multiplies its size by the local
# stretch factor of the applied map $f_x$; averaged along the sequence, the patch shrinks like
# $\delta\, e^{\lambda_1 n}$ after $n$ steps, where $\lambda_1 < 0$ is the largest **Lyapunov
# exponent** of the random product of the Jacobians $Df_{x_n}\cdots Df_{x_1}$. Meanwhile the
# process creates about $e^{h_\mu n}$ typical continuations in $n$ steps (the
# Shannon–McMillan–Breiman theorem), and each lands the patch somewhere else on the attractor.
# After $n$ steps the attractor is covered, at resolution $\varepsilon = \delta e^{\lambda_1
# n}$, by about $N \approx e^{h_\mu n}$ typical pieces. Eliminating $n$:
#
# $$
# N(\varepsilon) \approx \varepsilon^{-h_\mu / |\lambda_1|}
# \quad\Longrightarrow\quad
# d_\text{Lyapunov} = \frac{h_\mu}{|\lambda_1|} \qquad (h_\mu \le |\lambda_1|).
# $$
#
# When $h_\mu > |\lambda_1|$ the pieces overlap in the first direction, the set fills it, and
# the next exponent takes over: $d = 1 + (h_\mu - |\lambda_1|)/|\lambda_2|$ — the Kaplan–Yorke
# formula with $h_\mu$ playing the part of the positive exponents. This is the Lyapunov
# dimension of the mixed-state IFS of Jurgens & Crutchfield (2021), who use it to compute the
# statistical complexity dimension of hidden Markov processes; a companion paper shows that
# when the maps' images overlap, $h_\mu$ must be reduced by an *ambiguity rate*. The sketch
# above counts *typical* pieces, weighted by the process, so it estimates the information
# dimension $D_1$, not $D_0$.

# %%
lyap = information.lyapunov_exponents(mess3, n_steps=100_000, seed=0)
h_mu = information.entropy_rate(mess3).value
d_lyap = information.lyapunov_dimension(mess3, n_steps=100_000, seed=0)
print(f"Lyapunov exponents    lambda = ({lyap[0]:.3f}, {lyap[1]:.3f}) nats per token")
print(f"entropy rate          h_mu   = {h_mu:.4f} nats per token")
print(f"h_mu / |lambda_1|            = {h_mu / abs(lyap[0]):.2f}")
print(f"Lyapunov dimension           = {d_lyap:.2f}")
print(f"information dimension D1     ≈ {info_dim.slope:.2f}   box counting D0 ≈ {capacity.slope:.2f}")

# %% [markdown]
# The Lyapunov dimension and the information dimension agree at about one half: Mess3's
# belief set, at the paper's parameters, is "half a curve" — much thinner than the triangle it
# sits in, and a long way from the filled 2-simplex a generic cloud of 3-state beliefs would
# make. The box-counting dimension is larger, for the reason above.

# %% [markdown]
# ## 7. Explore: the Mess3 family
#
# The widget draws the chaos game of Mess3 for any $(x, \alpha)$. Move the sliders and watch
# the attractor change. Things to look for:
#
# * **$x \to 0$:** the hidden state almost never switches, so evidence piles up and the
#   observer grows nearly certain: the points rush to the corners and the lobes shrink into
#   sharp, sparse clusters separated by wide gaps. (At $x = 0$ exactly the process never
#   mixes and the set collapses onto the corners and the edges leading to them.)
# * **$x$ larger:** the state switches often, each token's evidence is soon out of date, and
#   the beliefs stay near the centre; the lobes overlap and the cloud thickens.
# * **$\alpha \to 1/3$:** a token is emitted with probability ⅓ whatever the state, so it
#   carries no evidence: every $f_x$ becomes the same map $\eta \mapsto \eta T$, and the
#   whole set collapses onto the centre $\pi$.
# * **$\alpha < 1/3$:** a token is now evidence *against* its own state. The copy $f_A(\mathcal
#   A)$ moves away from corner A, and the colours (the beliefs) flip to the opposite sides.
#
# The panel prints the dimension estimate for the current parameters as well.

# %%
# NBVAL_IGNORE_OUTPUT
from beliefcourse import widgets

widgets.fractal_explorer()

# %% [markdown]
# The same comparison without sliders, for a few settings — the dimension grows as the
# tokens become less informative and the hidden state less persistent:

# %%
print(f"{'x':>5} {'alpha':>6} {'h_mu [nats]':>12} {'lambda_1':>9} {'Lyapunov dim':>13}")
for x, alpha in [(0.05, 0.85), (0.05, 0.6), (0.15, 0.85), (0.15, 0.6)]:
    hmm = processes.mess3(x, alpha)
    lam = information.lyapunov_exponents(hmm, n_steps=50_000, seed=0)
    rate = information.entropy_rate(hmm).value
    dim = information.lyapunov_dimension(hmm, n_steps=50_000, seed=0)
    print(f"{x:5.2f} {alpha:6.2f} {rate:12.4f} {lam[0]:9.3f} {dim:13.2f}")

# %% [markdown]
# ## 8. The prediction
#
# Put the pieces together. To predict Mess3 optimally — to reach the loss floor $h(L)$ of
# chapter 02 — a predictor must output $P(\cdot\mid\eta)$, and since the beliefs along
# different pasts are all different and predict different futures, it must in effect know
# $\eta$ itself: the belief is the minimal sufficient statistic of the past. Nothing forces
# a network to store $\eta$ in any particular coordinates. But if it stores it *linearly* —
# some affine map of its activations reproduces $\eta$ — then that map will draw this
# fractal. That is the hypothesis of Shai et al.:
#
# > **If a transformer predicts Mess3 optimally, it must carry the belief; so a linear map of
# > its residual stream should show this fractal** — with dimension about ½, the same
# > self-similar lobes, and the colours in the right places.
#
# For RRXOR the prediction is sharper still: somewhere in the network all 36 beliefs must be
# kept apart, even though they make only 11 different next-token predictions. Chapter 04 trains
# the transformer to the loss floor; chapter 05 looks for the fractal, and asks what else
# could have drawn it.

# %% [markdown]
# ## Summary
#
# * The **mixed-state presentation** is the machine whose states are the beliefs reachable
#   from $\pi$, with edges $\eta \xrightarrow{x} f_x(\eta)$ of probability $\eta T^{(x)}
#   \mathbf 1$. It is unifilar and generates the same process.
# * Build it breadth-first with de-duplication *up to a tolerance*. Transient states belong to
#   synchronisation; recurrent states are what an optimal predictor cycles through; the
#   stationary distribution on them gives $h_\mu$ and $C_\mu$.
# * **Z1R:** 7 states (4 transient, 3 recurrent corners). **RRXOR:** 36 states in a
#   4-simplex, 5 recurrent; only 11 distinct next-token distributions, but every belief is
#   distinguished by its predictions three tokens ahead.
# * **Mess3:** invertible $T^{(x)}$ mean beliefs never merge: $(3^{L+1}-1)/2$ beliefs within
#   $L$ tokens. The updates are contractions, an iterated function system; the recurrent
#   beliefs fill its fractal attractor, and the observer's long-run visiting frequency is the
#   Blackwell measure. The chaos game samples it.
# * **Dimension:** box counting $D_0$ counts boxes, the information dimension $D_1$ weighs
#   them by visits, and the Lyapunov dimension $h_\mu/|\lambda_1|$ predicts $D_1$ from the
#   dynamics: about 0.5 for Mess3 at $(0.05, 0.85)$.
# * **Prediction:** an optimal transformer must carry the belief; if linearly, a linear map of
#   its residual stream shows this fractal.
#
# **Practice.** `exercises/03_mixed_state_presentation.ipynb`: build the MSP breadth-first,
# classify transient and recurrent states, compute $h_\mu$ from a finite MSP, implement the
# chaos game, estimate a dimension by box counting, and find beliefs that agree on the next
# token but not on the future — each with a checker.
#
# **Next:** chapter 04, *Training a small transformer*.
#
# ### References
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers,
#   *Transformers Represent Belief State Geometry in their Residual Stream*, NeurIPS 2024
#   (arXiv:2405.15943).
# * M. Piotrowski, P. M. Riechers, D. Filan, A. S. Shai, *Constrained Belief Updates Explain
#   Geometric Structures in Transformer Representations*, ICML 2025 (arXiv:2502.01954).
# * J. P. Crutchfield, P. M. Riechers, C. J. Ellison, *Exact complexity: the spectral
#   decomposition of intrinsic computation*, Phys. Lett. A 380, 998 (2016) — the MSP.
# * A. M. Jurgens, J. P. Crutchfield, *Divergent predictive states: the statistical complexity
#   dimension of stationary, ergodic hidden Markov processes*, Chaos 31, 083114 (2021)
#   (arXiv:2102.10487); and *Ambiguity rate of hidden Markov processes*, Phys. Rev. E 104,
#   064107 (2021) (arXiv:2105.07294).
# * S. E. Marzen, J. P. Crutchfield, *Nearly maximally predictive features and their
#   dimensions*, Phys. Rev. E 95, 051301 (2017) — Mess3.
# * D. Blackwell, *The entropy of functions of finite-state Markov chains*, Trans. First Prague
#   Conf. Information Theory (1957).
# * J. E. Hutchinson, *Fractals and self-similarity*, Indiana Univ. Math. J. 30, 713 (1981);
#   M. F. Barnsley, *Fractals Everywhere*, Academic Press (1988) — IFS and the chaos game.
# * J. D. Farmer, E. Ott, J. A. Yorke, *The dimension of chaotic attractors*, Physica D 7, 153
#   (1983) — capacity vs information vs Lyapunov dimension.
# * E. Seneta, *Non-negative Matrices and Markov Chains*, 2nd ed., Springer (1981), ch. 3 —
#   Birkhoff's contraction coefficient.
