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
# *Reading time ≈ 110 minutes, about 20 of them in optional subsections; running time ≈ 8
# seconds (measured, CPU on one thread). Subsections that begin with **Optional — skip if short
# on time** go beyond what chapters 04–05 need; their cells still run, so Run All works either
# way. Prerequisites: chapter 02 (the update $\eta' = \eta T^{(x)}/(\eta T^{(x)}\mathbf 1)$, the
# next-token distribution $P(x\mid\eta) = \eta T^{(x)}\mathbf 1$, entropy, synchronisation, the
# entropy rate $h_\mu$); a logarithm plot does not scare you.*
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
# 3. explain when an MSP is finite — why Z1R's is and Mess3's is not, and why
#    non-unifilarity alone does not decide it — and sample an infinite one with the
#    *chaos game* of an iterated function system;
# 4. show, with RRXOR, that beliefs carry more than the next-token distribution:
#    36 beliefs, 11 next-token predictions;
# 5. state the prediction that chapters 04 and 05 test on a transformer;
# 6. measure a fractal's dimension by box counting and by the information dimension, say why
#    they differ and how far each estimate can be trusted (optional: the Lyapunov dimension
#    $h_\mu/|\lambda_1|$ from the dynamics).
#
# Practice: `exercises/03_mixed_state_presentation.ipynb` (six exercises, about 90 minutes).

# %%
import itertools
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import information, msp, plotting, processes
from beliefcourse.enumerate import all_sequences
from beliefcourse.hmm import HMM

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
# diagram (left; $m_k$ is MSP state $k$ of the table above). The same seven states are also
# *points of the simplex* (right): each MSP state is a belief, and the arrows of the diagram
# become jumps between points.

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
# distinct beliefs reachable with at most $L$ tokens (chapter 02, section 4 drew the first
# seven levels):
#
# > **Question (predict, then run the cell).** Z1R has 6 words of length 3 and Mess3 has 27.
# > How many *new* beliefs does each observer reach at $L = 3$, beyond those of $L \le 2$?
# >
# > <details><summary>Answer</summary>
# >
# > Z1R: none. Every word of length 3 synchronises (chapter 02), so it ends at a corner, and
# > all three corners were already reached by words of length 2 (`00`, `01`, `11`); the
# > count stays at 7. Mess3: all 27 — each word of length 3 ends at a belief of its own, so
# > the count goes from 13 to 40.
# > </details>

# %%
depth_counts = {}
for name, hmm in [("Z1R", z1r), ("RRXOR", rrxor), ("Mess3", mess3)]:
    by_depth = msp.beliefs_by_depth(hmm, max_depth=10)          # beliefs within 1e-9 merged
    depth_counts[name] = np.array([len(b) for b in by_depth])
coarse = [len(b) for b in msp.beliefs_by_depth(mess3, max_depth=10, atol=1e-5)]
print(f"{'L':>2}  {'Z1R':>5}  {'RRXOR':>5}  {'Mess3':>6}  {'(3^(L+1) - 1)/2':>16}  "
      f"{'Mess3, merged at 1e-5':>21}")
for L in range(11):
    print(f"{L:2d}  {depth_counts['Z1R'][L]:5d}  {depth_counts['RRXOR'][L]:5d}  "
          f"{depth_counts['Mess3'][L]:6d}  {(3 ** (L + 1) - 1) // 2:16d}  {coarse[L]:21d}")

# %% [markdown]
# Z1R stops at 7 and RRXOR at 36, but Mess3's count is $1 + 3 + 9 + \dots + 3^L =
# (3^{L+1}-1)/2$: **every** word leads to a different belief — 88,573 of them within ten
# tokens. The last column is a warning about tolerances: a search that treats beliefs closer
# than $10^{-5}$ (about five decimals) as one — and, once two merge, follows only one of them
# further — loses some from $L = 7$ on and reports a few thousand fewer. That is a statement
# about rounding, not about Mess3: the beliefs that "collide" there differ by less than
# $10^{-5}$ but they are different.
#
# Why the difference between the processes? In Z1R different pasts *merge* into the same
# belief all the time. One way for that to happen is a single update that maps two different
# beliefs to the same one: $\eta_1 T^{(x)} \propto \eta_2 T^{(x)}$ with $\eta_1 \ne \eta_2$,
# possible only when $T^{(x)}$ is **singular**. Z1R's matrices are: $T^{(0)}T^{(1)}$ even has
# rank 1, so *every* belief that allows the word `01` is mapped to the same point, certainty
# of $S_R$ — a *synchronising word*. Mess3's matrices are invertible, so no update ever makes
# the observer forget which of two beliefs it held:

# %%
for name, hmm in [("Z1R", z1r), ("Mess3", mess3)]:
    ranks = [int(np.linalg.matrix_rank(hmm.T[x])) for x in range(hmm.n_tokens)]
    print(f"{name}: ranks of T^(x) = {ranks}; rank of T^(0) T^(1) = "
          f"{np.linalg.matrix_rank(hmm.T[0] @ hmm.T[1])}")

# %% [markdown]
# Invertibility alone does not forbid every merge: two words that end in *different* tokens
# could still land on the same point, since the images $f_A(\Delta)$ and $f_B(\Delta)$ of the
# simplex $\Delta$ (the set of all beliefs, the whole triangle) overlap. That would take an
# exact coincidence, and the table shows none happens
# within ten tokens. So Mess3's observer never forgets which of two pasts it has seen; the
# MSP is unifilar by construction, and for Mess3 it pays for that with infinitely many
# states.
#
# ### When is the set of beliefs finite?
#
# It is tempting to blame the difference between Z1R and Mess3 on synchronisation, but that
# is not the cause. Two properties of the *presentation* — the HMM we start from — matter.
#
# * **Unifilarity.** An HMM is *unifilar* if from each state each token leads to at most one
#   next state: every $T^{(x)}$ has at most one non-zero entry per row. Then an observer who
#   is certain stays certain (a corner of the simplex is mapped to a corner).
# * **Exact or asymptotic synchronisation** (Travers & Crutchfield 2010). A unifilar
#   observer either *can* become certain after finitely many tokens — some word of positive
#   probability, a *synchronising word*, leads to a corner; then, with probability 1, the
#   observer becomes certain at a finite time — or it never can, and (when different states
#   predict different futures) its uncertainty only shrinks towards 0.
#
# Three cases follow.
#
# 1. *Unifilar and exactly synchronising* (Z1R, RRXOR): with probability 1 the observer
#    reaches a corner and from then on moves among corners, so the MSP's recurrent states
#    are at most the $n$ corners. Only the beliefs held *before* synchronising remain to
#    count; for Z1R and RRXOR they are finitely many (for Z1R every word of length 3
#    synchronises; RRXOR's never-synchronising words, such as `000…`, lead round a short
#    cycle of beliefs), so the whole set is finite.
# 2. *Unifilar but only asymptotically synchronising*: no belief is ever a corner, yet the
#    uncertainty goes to 0, so the beliefs come ever closer to the corners without reaching
#    them: infinitely many, all transient, piling up only at the corners.
# 3. *Non-unifilar* (Mess3): one token from a *known* state can lead to any of three states,
#    so even certainty would be lost at the next step, and nothing holds the observer's
#    **long-run beliefs** at the corners. Mess3's pile up on an infinite set inside the
#    triangle — the *attractor* of the next subsection, chapter 00's fractal. Its MSP states
#    are all transient too, as in case 2: every word leads to a belief of its own, so the
#    MSP is a tree in which no belief is visited twice (checked below). What differs from
#    case 2 is *where* the beliefs pile up: at the corners there, on the attractor here.
#
# **Non-unifilarity is necessary for case 3, not sufficient.** Two members of the Mess3
# family are just as non-unifilar as Mess3(0.05, 0.85), yet have finitely many beliefs:
#
# * In Mess3(1/3, 0.85) the hidden chain jumps to a uniformly random state at every step,
#   whatever the current one (the net matrix of Mess3(x, α), $(1 - 3x)I + xJ$, is $J/3$). The
#   past says nothing about the next state beyond what the last token says: every
#   $T^{(x)}$ has rank 1, every word that ends in `A` leads to the same belief, and the MSP
#   has 4 states — $\pi$ and one per last token.
# * In Mess3(0.05, 1/3) every state emits every token with probability ⅓, so a token is no
#   evidence at all: every $f_x$ is the same map $\eta \mapsto \eta T$, which keeps $\pi$
#   where it is. One belief.
#
# What Mess3(0.05, 0.85) has in addition is that **no two words lead to the same belief**.
# That needs invertible maps $f_x$ (no single update merges two beliefs — Mess3(1/3, 0.85)
# fails here), but invertibility is not enough: different words must also never land on
# exactly the same point. Mess3(0.05, 1/3) fails there: its maps are invertible, but all
# three are one map, and $\pi$ is its fixed point, so every word leads back to $\pi$. For
# Mess3(0.05, 0.85) the table above finds no such coincidence within ten tokens.
#
# Mess3's failure to synchronise is another consequence of the same mixing, not the cause of
# its infinitely many beliefs; case 2 shows a process can fail to synchronise exactly and
# still have all its long-run beliefs at the corners.
#
# For case 2 we need an example. Take two states $A$, $B$ and tokens 0, 1: state $A$ emits 0
# with probability $a$ and stays, or emits 1 and moves to $B$; state $B$ emits 0 with
# probability $b$ and stays, or emits 1 and moves to $A$. It is unifilar (token 0 keeps the
# state, token 1 swaps it). Two observers who started in $A$ and in $B$ follow opposite
# paths, and each token multiplies the odds between them by one of $a/b$, $b/a$,
# $(1-a)/(1-b)$, $(1-b)/(1-a)$ — never by 0 or $\infty$ when $0 < a, b < 1$. So no word
# ever makes the observer certain: it synchronises only asymptotically. With $a \ne b$ the
# two states predict different futures, so the odds drift and the uncertainty still goes to
# 0. We use $a = 0.8$, $b = 0.4$ and call it the *asymmetric flip*.
#
# The cell checks every claim above by computation, on these four processes and on the two
# finite members of the Mess3 family: unifilarity from the matrices, whether any belief
# within 14 tokens is a corner (exact synchronisation), how many distinct beliefs words of
# length $\le L$ reach, the recurrent beliefs where the set is finite, and $U(10)$.

# %%
a, b = 0.8, 0.4
T_flip = np.zeros((2, 2, 2))
T_flip[0, 0, 0], T_flip[1, 0, 1] = a, 1 - a     # A: 0 -> stay (a), 1 -> B
T_flip[0, 1, 1], T_flip[1, 1, 0] = b, 1 - b     # B: 0 -> stay (b), 1 -> A
flip = HMM(T_flip, state_names=["A", "B"], token_names=["0", "1"])


def is_unifilar(hmm):
    """At most one next state for every (state, token): one non-zero per row of T^(x)."""
    return bool(np.all((hmm.T > 0).sum(axis=2) <= 1))


DEPTH = 14
U10 = {}
for name, hmm in [("Z1R", z1r), ("RRXOR", rrxor), ("asymmetric flip", flip),
                  ("Mess3", mess3), ("Mess3(1/3, 0.85)", processes.mess3(x=1 / 3, alpha=0.85)),
                  ("Mess3(0.05, 1/3)", processes.mess3(x=0.05, alpha=1 / 3))]:
    # breadth-first over beliefs, stopping before a level would pass 3,000 beliefs
    m = msp.mixed_state_presentation(hmm, max_states=3_000, max_depth=DEPTH, warn=False)
    depth_reached = DEPTH if m.complete else m.max_depth
    counts = [f"{L}: {int((m.depths <= L).sum()):,}" for L in range(2, depth_reached + 1, 2)]
    surest = m.beliefs.max(axis=1).max()      # the largest probability any belief gives a state
    U10[name] = information.state_uncertainty(hmm, [10], unit="bits")[0]
    print(f"{name}: unifilar {is_unifilar(hmm)}; largest belief in a state within "
          f"{depth_reached} tokens {surest:.6f} (a corner: {bool(surest > 1 - 1e-12)}); "
          f"U(10) = {U10[name]:.3f} bits")
    print("    distinct beliefs within L tokens, L =", ", ".join(counts))
    print("    " + (f"complete: {m.n_states} belief{'s' * (m.n_states > 1)}, "
                    f"{len(m.recurrent())} of them recurrent"
                    if m.complete else "not complete: the next level would pass 3,000 beliefs"
                    if m.max_depth < DEPTH else f"not complete: still growing at L = {DEPTH}"))
for name, hmm in [("Mess3(1/3, 0.85)", processes.mess3(x=1 / 3, alpha=0.85)),
                  ("Mess3(0.05, 1/3)", processes.mess3(x=0.05, alpha=1 / 3)), ("Mess3", mess3)]:
    print(f"{name}: ranks of T^(A), T^(B), T^(C) = "
          f"{[int(np.linalg.matrix_rank(T)) for T in hmm.T]}; every state emits every token "
          f"with probability 1/3: {bool(np.allclose(hmm.T.sum(axis=2), 1 / 3))}")
tree = msp.mixed_state_presentation(mess3, max_states=3_000, max_depth=6, warn=False)
src, _, dst, _ = tree.edges
n_words = sum(3 ** L for L in range(7))
is_tree = bool(np.all(tree.depths[dst] == tree.depths[src] + 1) and len(set(dst)) == len(dst))
print(f"Mess3's MSP to depth 6: {tree.n_states:,} beliefs for {n_words:,} words of length <= 6; "
      f"every edge enters a new belief one level deeper (a tree): {is_tree}")
print("asymmetric flip, U(L) for L = 0, 4, ..., 20 [bits]:",
      information.state_uncertainty(flip, np.arange(0, 21, 4), unit="bits").round(3))

# %% [markdown]
# The cases side by side. Z1R and RRXOR are unifilar and reach corners; their sets are
# complete at 7 and 36 beliefs, of which only the 3 and 5 corners are recurrent. The
# asymmetric flip is unifilar too, but its surest belief within 14 tokens is 0.99998, not a
# corner: it never synchronises exactly. Its uncertainty still falls towards 0 (0.087 bits
# at $L = 20$) and every token adds 4 new beliefs, creeping towards the corners — an
# infinite set, but with no long-run beliefs away from the corners. Mess3 is not unifilar:
# its uncertainty levels off at 0.438 bits, every word of length $\le 6$ gives its own belief
# (1,093 of them, $(3^7 - 1)/2$, joined as a tree), and the set would pass 3,000 beliefs at
# the next token. Mess3(1/3, 0.85) and Mess3(0.05, 1/3) are not unifilar either, but their
# MSPs close at 4 and 1 beliefs: rank-1 maps in the first, three identical maps in the
# second.
#
# ### The maps $f_x$ shrink the simplex: an iterated function system
#
# Each $f_x$ maps the simplex $\Delta$ into itself, and it *shrinks* it: its image
# $f_x(\Delta)$ is a smaller triangle (chapter 02's widget shades the three), and two
# observers who hold different beliefs and read the same tokens end up with ever closer
# beliefs. Maps that bring every pair of points closer are called *contractions*; the
# optional subsection below measures how much one Mess3 update contracts.
#
# A finite family of contractions applied in random order is an **iterated function
# system** (IFS). Its theory (Hutchinson 1981; Barnsley 1988) says that there is a unique
# non-empty compact (closed and bounded) set $\mathcal A$ with
#
# $$\mathcal A = f_A(\mathcal A) \,\cup\, f_B(\mathcal A) \,\cup\, f_C(\mathcal A),$$
#
# the *attractor*, and that it is typically a fractal: a union of shrunken, distorted copies
# of itself. The beliefs an observer holds in the long run approach $\mathcal A$
# (exponentially fast) and fill it densely. You can see the equation above in the beliefs
# after all $3^8 = 6561$ words of length 8 (by then the start $\pi$ is largely forgotten).
# Colour each belief by the **last** token of its word: the words ending in $x$ give $f_x$
# applied to the set of depth 7 — three copies (left). Colour by
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
                      labels=mess3.state_names,
                      title="by the last two tokens: 9 copies\n(colours arbitrary)")
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
# ### How much does one update contract? Hilbert's metric and Birkhoff's theorem
#
# **Optional — skip if short on time.**
#
# For a matrix with positive entries "shrinks" can be made precise with Hilbert's
# projective metric on the simplex,
# $d_H(\eta, \nu) = \ln \max_i \frac{\eta_i}{\nu_i} - \ln \min_i \frac{\eta_i}{\nu_i}$: the
# map $\eta \mapsto \eta M / (\eta M \mathbf 1)$ multiplies Hilbert distances by at most
# $\tanh(\Theta(M)/4)$, with $\Theta(M) = \max_{i,j,k,l} \ln \frac{M_{ik} M_{jl}}{M_{il}
# M_{jk}}$ (Birkhoff's theorem; Seneta 1981, ch. 3). For Mess3, and for two other values of
# $\alpha$:

# %%
def birkhoff_coefficient(M):
    """tanh(Theta / 4), Theta the projective diameter of a positive matrix."""
    log_ratio = (np.log(M)[:, None, :, None] + np.log(M)[None, :, None, :]
                 - np.log(M)[:, None, None, :] - np.log(M)[None, :, :, None])
    return float(np.tanh(log_ratio.max() / 4))


def hilbert_distance(eta, nu):
    """d_H(eta, nu) = ln max_i(eta_i / nu_i) - ln min_i(eta_i / nu_i), row by row."""
    log_ratio = np.log(eta) - np.log(nu)
    return log_ratio.max(axis=-1) - log_ratio.min(axis=-1)


for alpha in (0.6, 0.85, 0.95):
    coefficients = [birkhoff_coefficient(T) for T in processes.mess3(x=0.05, alpha=alpha).T]
    print(f"Mess3(0.05, {alpha}): f_A, f_B, f_C contract Hilbert distances by at most "
          + ", ".join(f"{c:.4f}" for c in coefficients))
print(f"(1 - 3x) / (1 - x) at x = 0.05: {(1 - 3 * 0.05) / (1 - 0.05):.4f};  17/19 = {17 / 19:.4f}")

# T^(x) = M D_x: the hidden chain's move M, then the new state's emission, a diagonal matrix
M = mess3.transition_matrix
D = [np.diag(T.sum(axis=0)) for T in mess3.T]          # D_x[j, j] = P(x | state j)
print("T^(x) = M D_x for every token:", all(np.allclose(T, M @ Dx) for T, Dx in zip(mess3.T, D)))
print(f"Birkhoff coefficient of M alone: {birkhoff_coefficient(M):.4f}")
rng = np.random.default_rng(1)
eta, nu = rng.dirichlet(np.ones(3), size=(2, 1000))
scaled = [(v @ D[0]) / (v @ D[0]).sum(axis=1, keepdims=True) for v in (eta, nu)]
change = np.abs(hilbert_distance(*scaled) - hilbert_distance(eta, nu)).max()
print(f"multiplying 1,000 pairs of beliefs by D_A and renormalising changes their Hilbert "
      f"distance by less than 1e-12: {bool(change < 1e-12)}")

# %% [markdown]
# All three maps, at every $\alpha$, have the same coefficient: for Mess3(x, α) it is
# $(1 - 3x)/(1 - x)$, 17/19 = 0.8947 at the paper's parameters, **independent of α**.
# The reason is in the structure of $T^{(x)} = M D_x$: first the hidden chain moves ($M$,
# which stays with probability $1 - 2x$), then the new state emits ($D_x$, the diagonal
# matrix of $P(x \mid j)$). Multiplying two beliefs by the same diagonal matrix multiplies
# $\eta_j$ and $\nu_j$ by the same factor, so every ratio $\eta_j/\nu_j$ is unchanged, and
# renormalising divides them all by one constant, which cancels in $d_H$. Evidence moves
# beliefs, but in Hilbert's metric it never brings two of them closer; all the contraction
# comes from the chain's mixing, $M$, whose coefficient is
# $\tanh\big(\tfrac12 \ln\tfrac{1-2x}{x}\big) = \tfrac{1 - 3x}{1 - x}$.
#
# 0.8947 per step is a weak guarantee; section 7 (optional part) shows that typical steps
# contract far more.

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
# `msp.chaos_game` runs 10,000 such observers side by side, each for 200 burn-in tokens and
# then 20 recorded ones, so the 200,000 points below come from 10,000 independent sequences.
#
# After a short burn-in the points land on the attractor, and they land there with a definite
# frequency — the stationary distribution of the MSP viewed as a Markov chain on beliefs,
# called the **Blackwell measure** $\mu_B$ (after Blackwell 1957, who studied the entropy of
# functions of Markov chains this way; *measure* is the mathematicians' word for a
# probability distribution over a set that may be infinite, like this one). It is what "how
# often an optimal predictor holds this
# belief" means for an infinite MSP.

# %%
N_CHAINS, BURN_IN = 10_000, 200         # observers side by side; tokens each forgets
cloud = msp.chaos_game(mess3, 200_000, seed=0, n_chains=N_CHAINS, burn_in=BURN_IN)
fig, ax = plt.subplots(figsize=(6.4, 5.8))
plotting.plot_simplex(cloud, ax=ax, s=0.2, labels=mess3.state_names,
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
# the attractor. (Read $\int g(\eta)\, d\mu_B(\eta)$ as "the average of $g(\eta)$ over
# beliefs $\eta$ drawn from $\mu_B$", the expectation $\mathbb E_{\eta \sim \mu_B}[g(\eta)]$;
# the chaos game estimates it by the mean over its points.) The cloud is a sample, so its
# averages carry a Monte Carlo (sampling) error; the observers are independent, so the
# spread of the per-observer averages measures it honestly.

# %%
def entropy_rows(P, base=np.e):
    """Shannon entropy of each row of P."""
    logs = np.log(np.where(P > 0, P, 1.0)) / np.log(base)
    return -(P * logs).sum(axis=1)


def mean_and_error(values, n_chains=N_CHAINS):
    """Mean of chaos-game values, and its standard error from the independent observers.

    msp.chaos_game orders its points step-major: row k * n_chains + c is observer c's k-th."""
    per_chain = values.reshape(-1, n_chains).mean(axis=0)
    return per_chain.mean(), per_chain.std(ddof=1) / np.sqrt(n_chains)


next_token = np.einsum("ni,xij->nx", cloud, mess3.T)
exact = {"U": information.state_uncertainty(mess3, [10], unit="bits")[0],
         "h": information.entropy_rate(mess3).value}
print(f"{'':34}{'chaos game':>18}  {'exact':>8}")
for k in range(3):
    m, se = mean_and_error(cloud[:, k])
    print(f"mean belief in state {mess3.state_names[k]:13}{m:11.4f} ± {se:.4f}  "
          f"{mess3.stationary()[k]:8.4f}   (pi)")
m, se = mean_and_error(entropy_rows(cloud, 2))
print(f"state uncertainty E[H(eta)] [bits]{m:11.4f} ± {se:.4f}  {exact['U']:8.4f}   (U(10))")
m, se = mean_and_error(entropy_rows(next_token))
print(f"E[H(P(.|eta))] [nats]            {m:11.4f} ± {se:.4f}  {exact['h']:8.4f}   (h_mu)")

# %% [markdown]
# Each average agrees with the exact value to within about two standard errors — what
# an honest sample should do. (The exact $U(10)$ is still creeping down in the fifth decimal;
# its limit is chapter 02's 0.438 bits.)
#
# One more count. For an infinite MSP the statistical complexity $C_\mu = H[\mu_B]$ is
# infinite: the Blackwell measure puts zero probability on every single belief, so its
# Shannon entropy diverges. A finite number
# survives if we blur the beliefs to a resolution $\varepsilon$ — and how fast it grows as
# $\varepsilon \to 0$ is a **dimension**, the subject of section 7.

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
#
# A 4-simplex does not fit on paper. The figure projects the 36 beliefs onto their first
# three *principal components* (the view Shai et al. draw). Principal component analysis
# (PCA) subtracts the mean belief and finds the orthogonal directions along which the
# points spread most — the eigenvectors of their covariance matrix, largest eigenvalue
# first; each point is then drawn at its coordinates along the first three. It is seen
# from two sides; the grey lines are the edges of the projected simplex, and the letters
# its corners. The colour of a point is its **next-token prediction**, from blue (certainly
# a `1` next) through grey (a fair coin) to red (certainly a `0`).

# %%
rr_next = np.einsum("ki,xij->kx", rr_msp.beliefs, rrxor.T)
prediction_colors = plt.get_cmap("coolwarm")(rr_next[:, 0])     # colour = P(next token = 0)
spread = np.linalg.svd(rr_msp.beliefs - rr_msp.beliefs.mean(axis=0), compute_uv=False) ** 2
fig = plt.figure(figsize=(11, 5))
for k, azim in enumerate((-60, 30)):
    ax3d = fig.add_subplot(1, 2, k + 1, projection="3d")
    plotting.plot_simplex_projection(rr_msp.beliefs, dims=3, method="pca", ax=ax3d,
                                     colors=prediction_colors, s=50, labels=rrxor.state_names,
                                     edgecolors="k", linewidths=0.4,
                                     title=f"seen from azimuth {azim}°")
    ax3d.view_init(elev=20, azim=azim)
fig.suptitle("RRXOR's 36 beliefs, first three principal components")
fig.tight_layout()
plt.show()
print(f"share of the beliefs' spread (variance) in the first three components: "
      f"{spread[:3].sum() / spread.sum():.0%}")

# %% [markdown]
# The three components keep 86 % of the beliefs' spread, so the picture loses little.
# Points of the same colour sit in different places: the beliefs keep apart situations
# that the next-token prediction lumps together.
#
# > **Question (predict, then run the cell).** Each of the 36 beliefs predicts the next bit.
# > How many *different* next-token distributions do they make between them? (Hint: think
# > about which positions of the cycle a belief can be unsure between; the colours above
# > give a rough idea, but shades 0.1 apart are hard to tell.)
# >
# > <details><summary>Answer</summary>
# >
# > Eleven. Ten of the beliefs predict a fair coin; the other 26 make ten different
# > predictions, in five mirror pairs $p$ and $1 - p$ (certainty of a `0` and of a `1`
# > among them). A
# > next-token predictor needs only 11 outputs; the beliefs keep 36 situations apart.
# > </details>

# %%
_, rr_class = np.unique(rr_next.round(9), axis=0, return_inverse=True)
rr_class = rr_class.ravel()
print(f"{len(rr_msp.beliefs)} beliefs, {rr_class.max() + 1} distinct next-token distributions:")
for c in range(rr_class.max() + 1):
    members = np.flatnonzero(rr_class == c)
    print(f"  P(next = 0, 1) = ({rr_next[members[0], 0]:.3f}, {rr_next[members[0], 1]:.3f}):"
          f" {len(members):2d} beliefs")

# %%
fig, ax2 = plt.subplots(figsize=(6, 3.8))
class_sizes = np.bincount(rr_class)
class_p0 = np.array([rr_next[rr_class == c][0, 0] for c in range(len(class_sizes))])
ax2.bar(range(len(class_sizes)), class_sizes, color=plt.get_cmap("coolwarm")(class_p0),
        edgecolor="k", lw=0.4)
ax2.set_xticks(range(len(class_sizes)), [f"{q:.3g}" for q in class_p0], rotation=60)
ax2.set_xlabel("the prediction P(next token = 0)")
ax2.set_ylabel("number of beliefs making it")
ax2.set_title(f"{len(class_sizes)} next-token predictions for {len(rr_msp.beliefs)} beliefs")
fig.tight_layout()
plt.show()

# %% [markdown]
# Eleven distinct next-token distributions for 36 beliefs: ten of the beliefs predict a fair
# coin, and the other 26 make ten predictions that come in mirror pairs, $p$ and $1 - p$.
# Judged by the
# next token alone, the beliefs in one class are interchangeable. But a belief fixes the
# probability of every future *word*, $P(w\mid\eta) = \eta T^{(w)}\mathbf 1$ (chapter 02,
# section 5), and those differ. Count the distinct prediction vectors
# $\big(P(w\mid\eta)\big)_{|w| = L}$ as the horizon $L$ grows:

# %%
def word_predictions(beliefs, hmm, L):
    """P(w | eta) = eta T^(w_1) ... T^(w_L) 1 for every belief (rows) and every word of
    length L (columns, in lexicographic order)."""
    words = itertools.product(range(hmm.n_tokens), repeat=L)
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
# of the past that predicts the **whole** future. An example pair — two beliefs with the
# same next-token distribution that disagree about the next two tokens:

# %%
fair = np.flatnonzero(rr_class == class_sizes.argmax())      # the ten (1/2, 1/2) beliefs
pair = fair[[1, 2]]
two = word_predictions(rr_msp.beliefs[pair], rrxor, 2)
for k, row in zip(pair, two):
    print(f"belief {as_fractions(rr_msp.beliefs[k])}: P(next) = {as_fractions(rr_next[k])}, "
          f"P(00, 01, 10, 11) = {as_fractions(row)}")

# %% [markdown]
# This is the sense of Shai et al.'s claim that beliefs "contain information about the whole
# future". What it implies for a network depends on the architecture, and it is worth being
# precise:
#
# * A predictor that reads tokens one at a time and carries a summary of the past forward
#   (a recurrent network, or the observer of chapter 02) **must** keep all 36 beliefs apart:
#   if it merged the two beliefs above, it would mispredict the token after next.
# * A transformer is **not** forced to. Its output at each position only has to be the
#   next-token distribution — 11 different values — and every position re-reads the whole
#   context, so nothing needs to be carried. Keeping the 36 apart somewhere inside is
#   possible, and may be useful, but it is not required by the loss.
#
# So finding RRXOR's 36-point geometry in a transformer would be evidence of something the
# training objective does not demand. Shai et al. report that they found it not in any single
# layer but in the residual streams of all layers concatenated; chapter 05b asks how much of
# that a probe with so many inputs could find in *any* network.

# %% [markdown]
# ## 6. The prediction
#
# Put the pieces together. To predict Mess3 optimally — to reach the loss floor $h(L)$ of
# chapter 02 — a predictor must output $P(\cdot\mid\eta) = \eta\, T^{(\cdot)}\mathbf 1$ at
# every position. Does that output determine the belief?
#
# > **Question (predict, then run the cell).** $P(\cdot\mid\eta) = \eta Q$, with
# > $Q_{ix} = (T^{(x)}\mathbf 1)_i$ the probability that the next token is $x$ when the
# > current state is $i$. (For Mess3 that is "move, then emit": $Q = ME$ in chapter 01's
# > notation, not $E$ alone.) Can you recover $\eta$ from the next-token distribution for
# > Mess3? For RRXOR?
# >
# > <details><summary>Answer</summary>
# >
# > Mess3: yes. $Q = ME$ is $3 \times 3$ — three states, three tokens — and invertible
# > because both factors are: the chain keeps some memory ($M$'s eigenvalues are 1 and
# > $\zeta = 0.85 \ne 0$) and each state favours its own token ($\alpha \ne 1/3$). So
# > $\eta = P(\cdot\mid\eta)\, Q^{-1}$. RRXOR: no. $Q$ is $5 \times 2$, so it has rank at
# > most 2, and five-state beliefs cannot be
# > read off two numbers — section 5's 36 beliefs make only 11 predictions.
# > </details>

# %%
emission = mess3.T.sum(axis=2).T          # emission[i, x] = P(next token x | state i)
print("P(next token | state), rows A, B, C:")
print(emission.round(4))
print(f"rank {np.linalg.matrix_rank(emission)}, condition number "
      f"{np.linalg.cond(emission):.2f}: P(. | eta) = eta @ emission can be solved for eta")
print(f"RRXOR: rank {np.linalg.matrix_rank(rrxor.T.sum(axis=2).T)} for "
      f"{rrxor.n_states} states: the next token cannot reveal the belief")

# %% [markdown]
# so an optimal Mess3 predictor carries the belief at its output, necessarily. That makes
# the question of *how* it carries it the interesting one. A transformer's output is not
# $P(\cdot\mid\eta)$ but logits, $\ln P(\cdot\mid\eta)$ up to a constant, which are not linear
# in $\eta$. Nothing forces its residual stream to hold $\eta$ in any particular coordinates.
# But **if** some affine map of the activations reproduces $\eta$, that map will draw this
# chapter's fractal. That is the hypothesis of Shai et al., and the prediction the next two
# chapters test:
#
# > **A transformer trained to the loss floor on Mess3 holds the belief linearly in its
# > residual stream: an affine probe maps its activations onto this fractal** — the same
# > self-similar lobes, the colours in the right places.
#
# For RRXOR the test is sharper, because the next token reveals so little: 36 beliefs but
# only 11 next-token predictions. A network whose residual stream separates all 36 carries
# more than its loss requires. Chapter 04 trains the transformer to the loss floor; chapter
# 05 looks for the fractal, and asks what else could have drawn it.

# %% [markdown]
# ## 7. How big is an infinite set? Fractal dimension
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
print(f"default fits: box counting {capacity.slope:.2f}, information {info_dim.slope:.2f} "
      "(how far to trust them: end of this section)")

# %% [markdown]
# Two things to keep apart before reading these numbers. First, a finite cloud saturates:
# once $\varepsilon$ is so small that most boxes hold one point or two, $N(\varepsilon)$ and
# $H_\varepsilon$ stop growing and the curves bend flat (on the left, beyond
# $\ln(1/\varepsilon) \approx 10$; $H_\varepsilon$ would follow at still smaller boxes) —
# the fitted range (blue) stops before that, where boxes still hold about ten points on
# average ($\ln N \approx 10$ on the left: some 20,000 boxes for 200,000 points). Second,
# the two dimensions are
# *different quantities*. The attractor has thin threads that the observer rarely visits;
# box counting gives them full weight and the information dimension almost none. So
# $D_0 \ge D_1$ always, and for the question "how much memory does optimal prediction need",
# $D_1$ is the relevant one. How far to trust each slope is the subject of the end of this
# section.
#
# ### The Lyapunov dimension: $d = h_\mu / |\lambda_1|$
#
# **Optional — skip if short on time.** The next three subsections (Lyapunov exponents,
# why they differ from Birkhoff's bound, and where the formula breaks) go beyond what the
# rest of the course needs; "How sure are these numbers?" in between is core.
#
# The dynamics give a third estimate, with no boxes at all. Start from the whole attractor,
# of diameter $\delta$. Since $\mathcal A = \bigcup_{|w| = n} f_w(\mathcal A)$, after $n$
# steps it is covered by its images under the words $w$ of length $n$. Each step multiplies
# a piece's size by the local stretch factor of the applied map $f_x$; averaged along a
# typical word, an image has diameter about $\delta\, e^{\lambda_1 n}$, where
# $\lambda_1 < 0$ is the largest **Lyapunov exponent** of the random product of the
# Jacobians $Df_{x_n}\cdots Df_{x_1}$ (the Jacobian $Df_x$ is the matrix of partial
# derivatives of $f_x$: how the map stretches a tiny patch around the current belief). And
# of all the words, about $e^{h_\mu n}$ typical ones
# carry almost all the probability (the Shannon–McMillan–Breiman theorem). So at resolution
# $\varepsilon = \delta e^{\lambda_1 n}$ the measure on the attractor is covered by about
# $N \approx e^{h_\mu n}$ typical pieces. Eliminating $n$:
#
# $$
# N(\varepsilon) \approx \varepsilon^{-h_\mu / |\lambda_1|}
# \quad\Longrightarrow\quad
# d_\text{Lyapunov} = \frac{h_\mu}{|\lambda_1|} \qquad (h_\mu \le |\lambda_1|).
# $$
#
# When $h_\mu > |\lambda_1|$ the pieces overlap in the first direction, the set fills it, and
# the next exponent takes over: $d = 1 + (h_\mu - |\lambda_1|)/|\lambda_2|$ — the Kaplan–Yorke
# formula with $h_\mu$ playing the part of the positive exponents, capped at the dimension of
# the simplex. This is the Lyapunov dimension of the mixed-state IFS of Jurgens & Crutchfield
# (2021), who use it to compute the statistical complexity dimension of hidden Markov
# processes. The sketch assumed that different continuations land the patch in *different*
# places. When the maps' images overlap, some continuations land on top of each other, and
# $h_\mu$ over-counts the pieces: it must be reduced by an *ambiguity rate* (Jurgens &
# Crutchfield's companion paper), and the formula over-estimates the dimension. Finally, the
# sketch counts *typical* pieces, weighted by the process, so it estimates the information
# dimension $D_1$, not $D_0$.
#
# `information.lyapunov_exponents` runs 100 independent observers and averages the logarithm
# of each step's stretch factors; the spread between observers gives a standard error.

# %%
lam, lam_err = information.lyapunov_exponents(mess3, n_steps=100_000, seed=0, n_chains=100,
                                              return_error=True)
h_mu = information.entropy_rate(mess3)
d_lyap = information.lyapunov_dimension(mess3, n_steps=100_000, seed=0, n_chains=100)
d_err = d_lyap * lam_err[0] / abs(lam[0])          # h_mu is exact; the error is lambda_1's
print(f"Lyapunov exponents  lambda_1 = {lam[0]:.3f} ± {lam_err[0]:.3f}, "
      f"lambda_2 = {lam[1]:.3f} ± {lam_err[1]:.3f} nats per token")
print(f"entropy rate        h_mu     = {h_mu:.4f} nats per token (error < {h_mu.error:.0e})")
print(f"h_mu < |lambda_1|: {h_mu < abs(lam[0])}, so d = h_mu / |lambda_1|")
print(f"Lyapunov dimension  d        = {d_lyap:.3f} ± {d_err:.3f}")

# %% [markdown]
# ### Why 0.8947 and $e^{\lambda_1}$ are so different
#
# **Optional — skip if short on time.**
#
# In section 3 (optional part), Birkhoff's theorem gave 17/19 = 0.8947 as the most by which
# one map $f_x$ can fail to shrink Hilbert distances; now $e^{\lambda_1}$ says distances
# shrink by a factor of about 0.22 per token. Both are right,
# because they answer different questions. Birkhoff's coefficient is a **worst case**: the
# most that one map can *fail* to shrink the distance between *any* two beliefs in the
# simplex, a bound that holds for every pair and every token. $\lambda_1$ is a **typical
# rate**: the long-run average of the logarithm of the stretch factor, along sequences the
# process actually produces, at the beliefs an observer actually holds. (The metric is not
# the difference: where beliefs live, Hilbert and Euclidean distances are within a constant
# factor of each other, and a constant factor does not change a per-step rate.) A direct
# check of both, with the ratio $d_H(f_x(\eta), f_x(\nu)) / d_H(\eta, \nu)$ by which one
# update shrinks a pair's distance: (a) for pairs anywhere in the simplex, many near its
# edges; (b) for observers on the attractor, each with a twin a distance $10^{-6}$ away,
# reading tokens drawn from the process (after each step the twin is put back at $10^{-6}$
# in the direction it has moved to, which is how Lyapunov exponents are measured).

# %%
def update_rows(eta, tokens):
    new = np.einsum("ni,nij->nj", eta, mess3.T[tokens])
    return new / new.sum(axis=1, keepdims=True)


rng = np.random.default_rng(0)
# (a) one step, pairs anywhere in the simplex (log-uniform, so many lie near its edges)
n_pairs = 50_000
eta, nu = np.exp(rng.uniform(-40, 0, size=(2, n_pairs, 3)))
eta, nu = eta / eta.sum(1, keepdims=True), nu / nu.sum(1, keepdims=True)
tokens = rng.integers(0, 3, n_pairs)
worst = hilbert_distance(update_rows(eta, tokens), update_rows(nu, tokens)) / hilbert_distance(eta, nu)
print(f"one step, pairs anywhere:  largest ratio {worst.max():.3f} (Birkhoff bound "
      f"{birkhoff_coefficient(mess3.T[0]):.4f}), median {np.median(worst):.3f}")

# (b) typical: 2,000 observers on the attractor, each with a twin 1e-6 away, reading the
# process's own tokens; after each step the twin is put back at distance 1e-6 (same direction)
eta = cloud[rng.choice(len(cloud), 2_000, replace=False)]
nu = eta * np.exp(1e-6 * rng.normal(size=eta.shape))
nu /= nu.sum(1, keepdims=True)
log_ratios, held = [], []                 # held: the belief each recorded step started from
for step in range(60):
    p = np.einsum("ni,xij->nx", eta, mess3.T)                  # P(x | eta) for each observer
    x = (rng.random(len(eta))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    d_before = hilbert_distance(eta, nu)
    if step >= 10:                                               # direction has lined up
        held.append(eta)
    eta, nu = update_rows(eta, x), update_rows(nu, x)
    d_after = hilbert_distance(eta, nu)
    if step >= 10:
        log_ratios.append(np.log(d_after / d_before))
    nu = eta * np.exp((np.log(nu) - np.log(eta)) * 1e-6 / d_after[:, None])
    nu /= nu.sum(1, keepdims=True)
log_ratios, held = np.concatenate(log_ratios), np.concatenate(held)
ratios = np.exp(log_ratios)
print(f"typical steps (50 x 2,000):  largest ratio {ratios.max():.3f}, median "
      f"{np.median(ratios):.3f}, geometric mean {np.exp(log_ratios.mean()):.3f}; "
      f"e^lambda_1 = {np.exp(lam[0]):.3f}")
print(f"share of typical steps with a ratio above 0.8: {(ratios > 0.8).mean():.1%}; "
      f"above 0.88: {(ratios > 0.88).mean():.1%}")
second = np.sort(held, axis=1)[:, 1]      # second-largest entry: 0 at a corner, 1/2 mid-edge
print("ratio of the step     share of steps   median second-largest entry of the belief held")
for low, high in [(0, 0.2), (0.2, 0.5), (0.5, 0.8), (0.8, 1)]:
    band = (ratios >= low) & (ratios < high)
    print(f"  {low:.1f} to {high:.1f}           {band.mean():6.1%}          "
          f"{np.median(second[band]):.3f}")

# %% [markdown]
# The worst case is real: somewhere a step shrinks a distance by only about 0.89, close to
# Birkhoff's 0.8947, and typical observers meet such steps often: 7.8 % of their steps keep
# more than 0.88 of the distance and 11.9 % more than 0.8 — not rare at all. Most
# steps contract far more: the median step keeps 0.16 of the distance, and the geometric
# mean — the long-run rate — reproduces $e^{\lambda_1}$. The table says *where* the weak
# steps happen. Steps that contract strongly start from beliefs near a corner (the
# second-largest entry is about 0.005): the observer is nearly sure of the state. Steps that
# keep more than 0.8 of the distance start from beliefs split between two states (median
# second-largest entry 0.395): the sparse threads between two corners in the chaos-game
# picture. The bound guarantees that *every* observer
# forgets its starting point at least as fast as $0.8947^n$; the typical observer forgets
# much faster, and it is the typical rate that sets the size of the pieces, and so the
# dimension.

# %% [markdown]
# ### How sure are these numbers?
#
# Three estimates of "the" dimension (the third from the optional subsection above), from
# one cloud with one choice of box sizes, are not yet a result. Two things could move them:
# the sample (another seed) and the box sizes (a different stretch of the curve). Try both.
# The figure plots the **local slope** between neighbouring box sizes: where a curve is a
# straight line, its local slope is flat, and that plateau is the dimension.

# %%
x_all = np.log(1 / info_dim.epsilons)
local_D0 = np.diff(capacity.values) / np.diff(x_all)
local_D1 = np.diff(info_dim.values) / np.diff(x_all)
mid = (x_all[1:] + x_all[:-1]) / 2

# (a) other samples: four more seeds, default fitting range
by_seed = [(capacity.slope, info_dim.slope)]
for seed in range(1, 5):
    points = plotting.simplex_coordinates(
        msp.chaos_game(mess3, 200_000, seed=seed, n_chains=N_CHAINS, burn_in=BURN_IN))
    by_seed.append((information.box_counting_dimension(points).slope,
                    information.information_dimension(points).slope))
by_seed = np.array(by_seed)

# (b) other box sizes: every window of 6 consecutive box sizes inside the default range
fitted = np.flatnonzero(info_dim.fit_mask)
by_window = np.array([
    (np.polyfit(x_all[w], capacity.values[w], 1)[0], np.polyfit(x_all[w], info_dim.values[w], 1)[0])
    for w in (fitted[i:i + 6] for i in range(len(fitted) - 5))])

print(f"{'':38}{'D0 (box counting)':>18}{'D1 (information)':>18}")
print(f"{'5 seeds, default range (mean ± s.d.)':38}"
      f"{by_seed[:, 0].mean():11.3f} ± {by_seed[:, 0].std(ddof=1):.3f}"
      f"{by_seed[:, 1].mean():11.3f} ± {by_seed[:, 1].std(ddof=1):.3f}")
print(f"{f'{len(by_window)} windows of 6 box sizes (min..max)':38}"
      f"{by_window[:, 0].min():11.2f} .. {by_window[:, 0].max():.2f}"
      f"{by_window[:, 1].min():11.2f} .. {by_window[:, 1].max():.2f}")
print(f"{'Lyapunov dimension (± s.e.)':38}{'':18}{d_lyap:11.3f} ± {d_err:.3f}")
inside = fitted[:-1]                     # local slopes between box sizes of the default range
print(f"local slopes in the default range: ln N from {local_D0[inside].max():.2f} down to "
      f"{local_D0[inside].min():.2f}; H_eps between {local_D1[inside].min():.2f} and "
      f"{local_D1[inside].max():.2f}")

fig, ax = plt.subplots(figsize=(7.5, 4))
ax.axvspan(x_all[fitted].min(), x_all[fitted].max(), color="C0", alpha=0.08,
           label="default fitting range")
ax.plot(mid, local_D0, "o-", ms=4, color="C1", label=r"local slope of $\ln N(\varepsilon)$")
ax.plot(mid, local_D1, "o-", ms=4, color="C0", label=r"local slope of $H_\varepsilon$")
ax.axhline(d_lyap, color="C3", lw=1.5, ls="--", label=f"Lyapunov dimension {d_lyap:.2f}")
ax.set_xlabel(r"$\ln(1/\varepsilon)$")
ax.set_ylabel("local slope")
ax.set_ylim(0, 2.1)
ax.legend(frameon=False, fontsize=8, loc="upper right")
ax.set_title("Mess3 (0.05, 0.85): where is the straight part?")
plt.show()

# %% [markdown]
# What the data support, stated with their uncertainty:
#
# * **$D_1$:** the seed barely matters (the spread between seeds is in the third decimal);
#   the box sizes do. The local slope of $H_\varepsilon$ oscillates around one half — the
#   self-similar structure repeats with a period, so a fit over a few octaves catches more or
#   less of a bump — and windows of six box sizes give anything from 0.46 to 0.58. An honest
#   statement is **$D_1 = 0.52 \pm 0.06$**, an error that is systematic (the choice of
#   scales), not statistical.
# * **$d_\text{Lyapunov} = 0.52$**, with a statistical error in the third decimal. It falls
#   inside the range of $D_1$: the theory's prediction $D_1 = h_\mu/|\lambda_1|$ passes this
#   check, at the precision the box method allows.
# * **$D_0$ is not determined by this sample.** The local slope of $\ln N$ never levels off:
#   it falls steadily, from 1.7 at coarse scales, where boxes see the triangle's 2-D spread,
#   to 0.3 at the fine end of the fitting range, where the rarely visited threads have too
#   few points to be seen at
#   all. The default fit's value is an average of that slide, set by where the fit starts and
#   stops; windows of six box sizes give anything from 0.40 to 1.29. More points help only
#   slowly, since the sparse threads are visited exponentially rarely. All we can claim is
#   $D_1 \le D_0 \le 2$.
#
# So Mess3's belief set at the paper's parameters has information dimension about one half: it
# is "half a curve" — much thinner than the triangle it sits in, and a long way from the
# filled 2-simplex a generic cloud of 3-state beliefs would make.
#
# ### Where the Lyapunov formula breaks
#
# **Optional — skip if short on time.**
#
# The same check at other parameters shows where the Lyapunov formula breaks. $D_1$ comes
# from 200,000 chaos-game points each, with the default fitting range:

# %%
rows = [f"{'x':>5} {'alpha':>6} {'h_mu':>7} {'lambda_1':>9} {'lambda_2':>9} "
        f"{'Lyapunov dim':>13} {'D1 (boxes)':>11}"]
for x, alpha in [(0.05, 0.85), (0.15, 0.85), (0.15, 0.6), (0.05, 0.7), (0.05, 0.6)]:
    hmm = processes.mess3(x, alpha)
    lam_xa = information.lyapunov_exponents(hmm, n_steps=50_000, seed=0)
    dim = information.lyapunov_dimension(hmm, n_steps=50_000, seed=0)
    d1 = information.information_dimension(
        plotting.simplex_coordinates(
            msp.chaos_game(hmm, 200_000, seed=0, n_chains=N_CHAINS, burn_in=BURN_IN))).slope
    rows.append(f"{x:5.2f} {alpha:6.2f} {information.entropy_rate(hmm):7.4f} "
                f"{lam_xa[0]:9.3f} {lam_xa[1]:9.3f} {dim:13.2f} {d1:11.2f}")
print("\n".join(rows))

# %% [markdown]
# Where tokens are good evidence ($\alpha = 0.85$) the Lyapunov dimension and $D_1$ agree,
# and at Mess3(0.15, 0.6) the agreement is still good. Keep the hop parameter at 0.05 and
# weaken the evidence, and a gap opens: at Mess3(0.05, 0.7) the formula is already ahead of
# the boxes, and at Mess3(0.05, 0.6) it
# hits its cap, 2, while the boxes say 1.68. There $h_\mu$ exceeds $|\lambda_1| +
# |\lambda_2|$: more typical pieces than non-overlapping pieces of that area could fit in a
# plane, so the copies must overlap, the ambiguity-rate correction is needed, and
# $h_\mu/|\lambda_1|$ alone over-states the dimension. A formula is only as good as its
# assumptions; checking it numerically is how you find out where they hold.

# %% [markdown]
# ## 8. Explore: the Mess3 family
#
# The widget below draws the chaos game of Mess3(x, α) (30,000 beliefs, coloured as RGB)
# for any parameters. Drag a slider and release it: the picture and the status line are
# redrawn for the new parameters. The status line gives $\zeta = 1 - 3x$ for Mess3(x, α)
# (chapter 01), $h_\mu$, $\lambda_1$ and the Lyapunov dimension — trust that last number
# only where the optional table of section 7 says you may. Things to look for:
#
# * **Mess3(x, 0.85) with the hop parameter down to 0.01** (the hidden state almost never switches):
#   evidence accumulates over long stretches, beliefs reach far towards the corners and
#   along the edges, and the lobes spread into long chains. Mess3(0, 0.85) never mixes —
#   the process is no longer *ergodic* (long-run averages now depend on which state it
#   started in), and the formulas of this chapter (status line included) stop applying —
#   and after its burn-in every observer is certain to within rounding (chapter 02: never
#   exactly): the picture collapses onto the three corners.
# * **Mess3(x, 0.85) with the hop parameter up towards 1/3** (the state forgets itself):
#   $\zeta \to 0$, so
#   the belief about the *next* state depends less and less on the past and more and more on
#   the last token alone. The fractal shrinks into three tight clusters, and Mess3(1/3, 0.85)
#   *is* three points, one per last token (section 3: with $\pi$, its MSP has 4 states).
#   Beyond 1/3, $\zeta < 0$: the state tends to move on, and the clusters open up again.
# * **$\alpha$ down from 0.85 towards $1/3$** (weaker evidence): the copies $f_x(\Delta)$
#   grow and overlap, and the set thickens into a lacy two-dimensional web, then a filled
#   patch that shrinks towards the centre: at $\alpha = 1/3$ a token is emitted with
#   probability ⅓ whatever the state, every $f_x$ is the same map $\eta \mapsto \eta T$, and
#   everything collapses onto $\pi$ (section 3's one-belief MSP). Just above $1/3$ the
#   status line's Lyapunov dimension reads 2 (flagged as an upper bound) for a set that is
#   shrinking to a point: the extreme case of overlapping copies.
# * **$\alpha < 1/3$:** a token is evidence *against* the state that emitted it, so the copy
#   $f_A(\mathcal A)$ sits on the side of the triangle *away* from corner A.

# %% tags=["nbval-ignore-output"]
from beliefcourse import widgets

widgets.fractal_explorer(x=0.05, alpha=0.85)

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
# * **Mess3:** no two words of up to ten tokens lead to the same belief — invertible
#   $T^{(x)}$ rule out merges in a single update — so there are $(3^{L+1}-1)/2$ beliefs
#   within $L$ tokens (88,573 within ten, if you compare with a tight tolerance), joined as
#   a tree: every MSP state is transient. The updates are contractions, an iterated function
#   system; the long-run beliefs pile up on its fractal attractor, and the observer's
#   long-run visiting frequency is the Blackwell measure. The chaos game — the observer
#   itself — samples it.
# * **Finite or infinite:** unifilar and exactly synchronising presentations (Z1R, RRXOR)
#   have finite MSPs; unifilar, asymptotically synchronising ones have infinitely many
#   beliefs piling up at the corners. Non-unifilarity is necessary for Mess3's infinite
#   attractor but not sufficient — Mess3(1/3, 0.85) has 4 beliefs and Mess3(0.05, 1/3) one;
#   what Mess3(0.05, 0.85) adds is that no two words lead to the same belief.
# * **Prediction:** an optimal Mess3 predictor carries the belief at its output (the
#   next-token map is invertible); *if* a transformer holds it linearly in its residual
#   stream, an affine probe draws this fractal. For RRXOR, separating all 36 beliefs would be
#   more than the loss requires.
# * **Dimension:** box counting $D_0$ counts boxes, the information dimension $D_1$ weighs
#   them by visits. For Mess3 at $(0.05, 0.85)$: $D_1 = 0.52 \pm 0.06$ (systematic, from the
#   choice of box sizes); $D_0$ is not pinned down by 200,000 points. Optional: the Lyapunov
#   dimension $h_\mu/|\lambda_1| = 0.518 \pm 0.002$ predicts $D_1$ from the dynamics, and
#   over-states where the maps' images overlap; Birkhoff's worst-case contraction 17/19
#   does not depend on α, and 11.9 % of typical steps keep more than 0.8 of a distance —
#   at beliefs split between two states.
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
