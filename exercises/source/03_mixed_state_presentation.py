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
# # Practice 03 · The mixed-state presentation and its fractals
#
# *Six exercises, about 90 minutes in all. Read chapter 03 first; each exercise names the
# section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 3.1 | the MSP, breadth-first, with de-duplication | ★★☆ | 20 min |
# | 3.2 | transient and recurrent states of a finite machine | ★★☆ | 10 min |
# | 3.3 | the entropy rate from a finite MSP | ★★☆ | 10 min |
# | 3.4 | the chaos game | ★★☆ | 15 min |
# | 3.5 | a box-counting dimension (fit the slope) | ★★☆ | 15 min |
# | 3.6 | beliefs that agree on the next token but not on the future | ★★★ | 20 min |
#
# **How this notebook works.** As in practices 01 and 02: fill in each function, run it, run
# the checker below it. The checker compares your function with a reference on the course's
# processes, edge cases and random machines, and names the most likely mistake when they
# disagree. Hints are folded. The cells after a checker use your functions to reproduce the
# chapter's results; until your function passes its check they print a note instead.
#
# **Conventions.** `T[x, i, j]` $= P(\text{emit } x, \text{go to } j \mid \text{in } i)$;
# a belief $\eta$ is a 1-D array over hidden states that sums to 1; the belief update is
# $f_x(\eta) = \eta T^{(x)} / (\eta T^{(x)}\mathbf 1)$ and $P(x \mid \eta) = \eta T^{(x)}\mathbf
# 1$; entropies are in **nats**. An MSP is stored as two arrays: `beliefs`, shape
# `(K, n_states)`, one row per MSP state with row 0 the prior $\pi$; and `successors`, shape
# `(K, n_tokens)`, integers, where `successors[k, x]` is the row of $f_x(\eta_k)$, or `-1`
# when token `x` is impossible from $\eta_k$.

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import msp, plotting, processes
from beliefcourse.checks import ch03 as checks

np.set_printoptions(precision=4, suppress=True)
z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()

# %% [markdown]
# ---
# ### Exercise 3.1 — Build the mixed-state presentation ★★☆, ~20 min
#
# *Practises chapter 03, section 1.*
#
# **You will:** enumerate every belief an observer can reach from $\pi$ — the states of the
# MSP — by breadth-first search, and learn why comparing beliefs needs a tolerance.
#
# Write `build_msp(T, pi, max_depth, atol)`. Keep a list of beliefs (start: `[pi]`) and a
# queue of states to expand. To expand state $k$ with belief $\eta_k$, for each token $x$:
#
# 1. compute $P(x \mid \eta_k) = \eta_k T^{(x)}\mathbf 1$; if it is 0, the token is impossible:
#    set `successors[k, x] = -1` and create nothing;
# 2. otherwise compute the child $f_x(\eta_k) = \eta_k T^{(x)} / P(x\mid\eta_k)$;
# 3. if the child equals a belief already in the list (every entry within `atol`), point to
#    that row; otherwise append it as a new state (one token deeper than $k$) and queue it.
#
# Expand only states found at depth `< max_depth` (the prior has depth 0); rows of states at
# depth `max_depth` stay `-1`. For Z1R and RRXOR the search runs dry long before that — every
# child is already known — and the MSP is complete; for Mess3 it never does.
#
# <details><summary>Hint 1</summary>
#
# A `collections.deque` of `(index, depth)` pairs is the queue; `successors` can be a list of
# rows, each `[-1] * n_tokens`, filled in as you expand, and turned into an array at the end.
# </details>
#
# <details><summary>Hint 2</summary>
#
# To find a known belief: `np.flatnonzero(np.all(np.abs(np.array(beliefs) - child) <= atol,
# axis=1))` gives the matching rows (at most one). Do **not** use `==` or `child in list`:
# two paths to the same belief usually differ in the last bits of their floats.
# </details>
#
# <details><summary>Hint 3</summary>
#
# For RRXOR, comparing with `==` (or using raw float tuples as dictionary keys) finds spurious
# "different" beliefs beyond the true 36, because two paths to the same belief can differ
# in the last bit. Without any de-duplication you get a tree with one
# node per possible word, which never runs dry. The checker recognises both.
# </details>

# %%
def build_msp(T, pi, max_depth=20, atol=1e-9):
    """Breadth-first enumeration of the mixed-state presentation.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The start belief (the stationary distribution).
    max_depth : int
        Expand only states reached with fewer than max_depth tokens.
    atol : float
        Two beliefs are the same MSP state if all their entries differ by at most atol.

    Returns
    -------
    beliefs : ndarray, shape (K, n_states)
        Distinct beliefs in order of discovery; row 0 is pi.
    successors : ndarray of int, shape (K, n_tokens)
        successors[k, x] = row of the belief after token x from beliefs[k];
        -1 if P(x | beliefs[k]) = 0 or if state k (at depth max_depth) was not expanded.
    """
    ### BEGIN SOLUTION
    from collections import deque

    n_tokens = T.shape[0]
    beliefs = [np.asarray(pi, dtype=float)]
    successors = [[-1] * n_tokens]
    queue = deque([(0, 0)])
    while queue:
        k, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for x in range(n_tokens):
            joint = beliefs[k] @ T[x]
            p = joint.sum()
            if p <= 0:
                continue
            child = joint / p
            match = np.flatnonzero(np.all(np.abs(np.array(beliefs) - child) <= atol, axis=1))
            if len(match):
                successors[k][x] = int(match[0])
            else:
                beliefs.append(child)
                successors.append([-1] * n_tokens)
                successors[k][x] = len(beliefs) - 1
                queue.append((len(beliefs) - 1, depth + 1))
    return np.array(beliefs), np.array(successors, dtype=int)
    ### END SOLUTION


# %%
check_31 = checks.check_build_msp(build_msp)
check_31

# %% [markdown]
# Your MSPs of the chapter's three processes. Z1R and RRXOR run dry; Mess3 fills every level
# of the tree — $1 + 3 + 9 + \dots + 3^5 = 364$ beliefs within five tokens — and would go on
# forever.

# %%
if check_31:
    for name, hmm, depth in [("Z1R", z1r, 20), ("RRXOR", rrxor, 20), ("Mess3", mess3, 5)]:
        b, succ = build_msp(hmm.T, hmm.stationary(), max_depth=depth)
        print(f"{name:6s} max_depth {depth:2d}: {len(b):4d} beliefs")
    b, _ = build_msp(z1r.T, z1r.stationary())
    fig, ax = plt.subplots(figsize=(4, 3.6))
    plotting.plot_simplex(b, ax=ax, s=60, labels=z1r.state_names, title="your Z1R MSP")
    plt.show()
else:
    print("(pass the check of Exercise 3.1 to see your MSPs)")

# %% [markdown]
# ---
# ### Exercise 3.2 — Transient or recurrent? ★★☆, ~10 min
#
# *Practises chapter 03, section 2.*
#
# **You will:** separate the states an observer passes through while it synchronises from
# the states it keeps visiting forever — a pure graph question.
#
# Write `recurrent_states(successors)` returning a boolean array, `True` for recurrent states.
# Think of `successors` as a directed graph: an edge $k \to$ `successors[k, x]` for every entry
# that is not `-1`. A state $k$ is **recurrent** if every state reachable from $k$ can reach
# $k$ back; otherwise it is **transient** — the walk can leave it never to return.
#
# <details><summary>Hint 1</summary>
#
# First compute, for each state, the set of states reachable from it (including itself):
# a depth-first or breadth-first search from each state, or repeated boolean matrix products
# of the adjacency matrix until nothing changes.
# </details>
#
# <details><summary>Hint 2</summary>
#
# With `reach[i, j] = True` when $j$ is reachable from $i$, state $k$ is recurrent when
# `reach[j, k]` holds for every $j$ with `reach[k, j]`. Lying on a cycle is not enough: a
# state on a cycle is still transient if an edge leads off the cycle to a region with no way
# back.
# </details>

# %%
def recurrent_states(successors):
    """Recurrent states of the directed graph k -> successors[k, x] (entries -1 ignored).

    Parameters
    ----------
    successors : ndarray of int, shape (K, n_tokens)

    Returns
    -------
    ndarray of bool, shape (K,)
        True where every state reachable from k can reach k back.
    """
    ### BEGIN SOLUTION
    succ = np.asarray(successors)
    K = len(succ)
    reach = np.eye(K, dtype=bool)
    for k in range(K):
        stack = [k]
        while stack:
            i = stack.pop()
            for j in succ[i]:
                if j >= 0 and not reach[k, j]:
                    reach[k, j] = True
                    stack.append(j)
    return np.array([bool(np.all(reach[reach[k], k])) for k in range(K)])
    ### END SOLUTION


# %%
check_32 = checks.check_recurrent_states(recurrent_states)
check_32

# %% [markdown]
# Z1R's and RRXOR's recurrent states are the corners of their simplices: once synchronised,
# the observer is certain of the hidden state and stays certain.

# %%
if check_31 and check_32:
    for name, hmm in [("Z1R", z1r), ("RRXOR", rrxor)]:
        b, succ = build_msp(hmm.T, hmm.stationary())
        rec = recurrent_states(succ)
        print(f"{name}: {rec.sum()} recurrent, {(~rec).sum()} transient; recurrent beliefs:")
        print(b[rec])
else:
    print("(pass the checks of Exercises 3.1 and 3.2 to classify the states)")

# %% [markdown]
# > **Question (predict, then run the cell).** Mess3's MSP never closes. After how many tokens
# > does the number of distinct beliefs reachable from $\pi$ first exceed 1,000?
# >
# > <details><summary>Answer</summary>
# >
# > After 6 tokens: every word leads to its own belief (Mess3's MSP is a tree), so with at most
# > $L$ tokens there are $1 + 3 + \dots + 3^L = (3^{L+1} - 1)/2$ beliefs: 364 for $L = 5$ and
# > 1,093 for $L = 6$. No belief is ever reached twice, which is why `build_msp` must stop at
# > `max_depth` for Mess3.
# > </details>

# %%
print("distinct beliefs within L tokens:",
      {L: len(b) for L, b in enumerate(msp.beliefs_by_depth(mess3, max_depth=7))})

# %% [markdown]
# ---
# ### Exercise 3.3 — The entropy rate from a finite MSP ★★☆, ~10 min
#
# *Practises chapter 03, section 2.*
#
# **You will:** use the MSP as what it is — a Markov chain over beliefs — and read the entropy
# rate off its stationary distribution.
#
# Write `msp_entropy_rate(T, beliefs, successors)` returning, in nats,
#
# $$
# h_\mu = \sum_k p_k\, H\big[P(\cdot \mid \eta_k)\big],
# \qquad P(x \mid \eta_k) = \eta_k T^{(x)} \mathbf 1 ,
# $$
#
# where $p$ is the stationary distribution of the chain that moves from state $k$ to
# `successors[k, x]` with probability $P(x \mid \eta_k)$: $p W = p$, $\sum_k p_k = 1$, with
# $W_{k k'} = \sum_{x:\ \text{successors}[k,x] = k'} P(x \mid \eta_k)$. The transient states
# get $p_k = 0$ automatically. You may assume the MSP is complete (no unexpanded states).
#
# <details><summary>Hint 1</summary>
#
# Build `W` with a loop over `k` and `x`, adding `P(x | eta_k)` to `W[k, successors[k, x]]`.
# Every row of `W` sums to 1. Then solve for $p$ as in Exercise 1.1 (left eigenvector for the
# eigenvalue 1) or with `np.linalg.lstsq` on the stacked system $[W^\top - I;\ \mathbf 1^\top]
# \, p^\top = [0;\ 1]$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Weight by $p$, not by the start belief or uniformly over states: the transient states are
# visited only once, at the start, and contribute nothing in the long run. And it is the
# entropy of the next-**token** distribution, in nats — not the entropy of the belief.
# </details>

# %%
def msp_entropy_rate(T, beliefs, successors):
    """Entropy rate (nats per token) from a complete, finite MSP.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    beliefs : ndarray, shape (K, n_states)
    successors : ndarray of int, shape (K, n_tokens); -1 marks impossible tokens

    Returns
    -------
    float
        sum over MSP states k of p_k H[P(. | beliefs[k])], p the stationary distribution of
        the MSP's Markov chain, H in nats.
    """
    ### BEGIN SOLUTION
    beliefs = np.asarray(beliefs, dtype=float)
    K = len(beliefs)
    next_token = np.einsum("ki,xij->kx", beliefs, T)
    W = np.zeros((K, K))
    for k in range(K):
        for x, j in enumerate(successors[k]):
            if j >= 0:
                W[k, j] += next_token[k, x]
    A = np.vstack([W.T - np.eye(K), np.ones((1, K))])
    b = np.zeros(K + 1)
    b[-1] = 1.0
    p, *_ = np.linalg.lstsq(A, b, rcond=None)
    entropies = [-(q[q > 0] * np.log(q[q > 0])).sum() for q in next_token]
    return float(p @ np.array(entropies))
    ### END SOLUTION


# %%
check_33 = checks.check_msp_entropy_rate(msp_entropy_rate)
check_33

# %% [markdown]
# Chapter 02 found $\tfrac13 \ln 2 = 0.2310$ nats for Z1R; RRXOR emits two fair bits and one
# determined bit per cycle, so $\tfrac23 \ln 2 = 0.4621$ nats.

# %%
if check_31 and check_33:
    for name, hmm in [("Z1R", z1r), ("RRXOR", rrxor)]:
        b, succ = build_msp(hmm.T, hmm.stationary())
        print(f"{name}: h_mu = {msp_entropy_rate(hmm.T, b, succ):.4f} nats")
else:
    print("(pass the checks of Exercises 3.1 and 3.3 to compute the entropy rates)")

# %% [markdown]
# ---
# ### Exercise 3.4 — The chaos game ★★☆, ~15 min
#
# *Practises chapter 03, section 4.*
#
# **You will:** sample Mess3's infinite MSP the way the chapter does — run the observer on
# an endless stream of tokens and record where its belief goes.
#
# Write `chaos_game(T, pi, n_points, seed, burn_in)`. With `rng = np.random.default_rng(seed)`,
# start at $\eta = \pi$ and repeat `burn_in + n_points` times: draw a token $x$ with
# probabilities $P(x \mid \eta) = \eta T^{(x)}\mathbf 1$, then move to $\eta \leftarrow
# f_x(\eta)$. Return the last `n_points` beliefs (the first `burn_in` are transient: the
# observer has not yet forgotten where it started).
#
# <details><summary>Hint 1</summary>
#
# `rng.choice(n_tokens, p=probs)` draws one token. Recompute `probs` from the *current*
# belief at every step: the probabilities depend on where you are (a place-dependent
# iterated function system).
# </details>
#
# <details><summary>Hint 2</summary>
#
# Drawing tokens uniformly, or from the stationary token frequencies, gives sequences the
# process would never produce (in Z1R, two `0`s after a `0`). The checker spots both.
# </details>

# %%
def chaos_game(T, pi, n_points, seed=None, burn_in=100):
    """Beliefs along one long sampled sequence, after a burn-in.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
    n_points : int
    seed : anything np.random.default_rng accepts
    burn_in : int
        Number of initial updates whose beliefs are discarded.

    Returns
    -------
    ndarray, shape (n_points, n_states)
        Row t is the belief after burn_in + t + 1 tokens.
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    eta = np.asarray(pi, dtype=float)
    points = np.empty((n_points, len(eta)))
    for t in range(burn_in + n_points):
        probs = np.einsum("i,xij->x", eta, T)
        x = rng.choice(len(probs), p=probs / probs.sum())
        joint = eta @ T[x]
        eta = joint / joint.sum()
        if t >= burn_in:
            points[t - burn_in] = eta
    return points
    ### END SOLUTION


# %%
check_34 = checks.check_chaos_game(chaos_game)
check_34

# %% [markdown]
# Your chaos game on Mess3. Twenty thousand points already show the self-similar triangles.

# %%
if check_34:
    cloud = chaos_game(mess3.T, mess3.stationary(), 20_000, seed=0)
    fig, ax = plt.subplots(figsize=(4.4, 4))
    plotting.plot_simplex(cloud, ax=ax, s=0.5, labels=mess3.state_names,
                          title="your chaos game, Mess3 (0.05, 0.85)")
    plt.show()
    print("mean belief:", cloud.mean(axis=0).round(3), " (the Blackwell measure averages to pi)")
else:
    print("(pass the check of Exercise 3.4 to draw your fractal)")

# %% [markdown]
# ---
# ### Exercise 3.5 — Box counting ★★☆, ~15 min
#
# *Practises chapter 03, section 6.*
#
# **You will:** estimate the dimension of a point cloud from how the number of occupied boxes
# grows as the boxes shrink.
#
# Write `box_counting_dimension(points, epsilons)`. For each box size $\varepsilon$, cover
# space with the grid of cubes $[k_1\varepsilon, (k_1+1)\varepsilon) \times \dots$ and count
# the occupied cubes, $N(\varepsilon)$. If $N(\varepsilon) \approx C\,\varepsilon^{-D}$ then
#
# $$\log N(\varepsilon) \approx \log C + D \log(1/\varepsilon),$$
#
# so return $D$, the slope of the least-squares line through the points
# $(\log(1/\varepsilon), \log N(\varepsilon))$.
#
# <details><summary>Hint 1</summary>
#
# `np.floor(points / eps).astype(np.int64)` gives each point's box as a row of integers;
# `len(np.unique(boxes, axis=0))` counts the distinct rows. Without `axis=0`, `np.unique`
# flattens the array and counts distinct *numbers*.
# </details>
#
# <details><summary>Hint 2</summary>
#
# `np.polyfit(x, y, 1)[0]` is the slope. Both axes logarithmic, same base; $x = \log(1/\varepsilon)$
# (not $\log\varepsilon$, which flips the sign) and $y = \log N$ (not $N$).
# </details>

# %%
def box_counting_dimension(points, epsilons):
    """Slope of log N(eps) against log(1/eps).

    Parameters
    ----------
    points : ndarray, shape (n_points, d)
    epsilons : sequence of float, box sizes (> 0)

    Returns
    -------
    float
        The least-squares slope D.
    """
    ### BEGIN SOLUTION
    points = np.asarray(points, dtype=float)
    counts = [len(np.unique(np.floor(points / eps).astype(np.int64), axis=0))
              for eps in epsilons]
    return float(np.polyfit(np.log(1 / np.asarray(epsilons)), np.log(counts), 1)[0])
    ### END SOLUTION


# %%
check_35 = checks.check_box_counting_dimension(box_counting_dimension)
check_35

# %% [markdown]
# The dimension of the Mess3 cloud depends on the range of box sizes you fit — the chapter
# explains why (section 6). Try a coarse and a fine range on the same 20,000 points:

# %%
if check_34 and check_35:
    xy = plotting.simplex_coordinates(chaos_game(mess3.T, mess3.stationary(), 20_000, seed=0))
    for lo, hi in [(1e-1, 1e-2), (1e-2, 1e-3)]:
        eps = np.geomspace(lo, hi, 6)
        print(f"boxes from {lo:g} to {hi:g}: D = {box_counting_dimension(xy, eps):.2f}")
else:
    print("(pass the checks of Exercises 3.4 and 3.5 to measure the Mess3 cloud)")

# %% [markdown]
# ---
# ### Exercise 3.6 — Same next token, different future ★★★, ~20 min
#
# *Practises chapter 03, section 5.*
#
# **You will:** show that RRXOR's 36 beliefs make only 11 distinct next-token predictions,
# and find, for two beliefs that agree on the next token, the shortest future word on which
# they disagree.
#
# Write two functions.
#
# 1. `next_token_classes(T, beliefs, atol)` returns integer labels, one per belief, with
#    `labels[i] == labels[j]` exactly when the next-token distributions
#    $P(\cdot\mid\eta_i)$ and $P(\cdot\mid\eta_j)$ agree within `atol` in every entry.
# 2. `shortest_distinguishing_word(T, eta1, eta2, max_length, atol)` returns the shortest word
#    $w$ (a tuple of tokens) with $|P(w\mid\eta_1) - P(w\mid\eta_2)| > $ `atol`, where
#    $P(w\mid\eta) = \eta T^{(w_1)}\cdots T^{(w_L)}\mathbf 1$ — or `None` if no word of length
#    `<= max_length` distinguishes them.
#
# <details><summary>Hint 1</summary>
#
# For the labels, go through the beliefs in order; give belief $i$ the label of the first
# earlier belief whose next-token distribution matches (`np.allclose(..., rtol=0,
# atol=atol)`), or a new label.
# </details>
#
# <details><summary>Hint 2</summary>
#
# For the word search: `itertools.product(range(n_tokens), repeat=L)` for `L = 1, 2, ...`
# lists the words of each length; stop at the first length that contains a distinguishing
# word. The empty word has probability 1 under every belief.
# </details>

# %%
def next_token_classes(T, beliefs, atol=1e-9):
    """Group beliefs by their next-token distribution.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    beliefs : ndarray, shape (K, n_states)
    atol : float

    Returns
    -------
    ndarray of int, shape (K,)
        Equal labels exactly for beliefs whose next-token distributions agree within atol.
    """
    ### BEGIN SOLUTION
    next_token = np.einsum("ki,xij->kx", np.asarray(beliefs, dtype=float), T)
    labels = np.empty(len(next_token), dtype=int)
    representatives = []
    for k, q in enumerate(next_token):
        for label, r in enumerate(representatives):
            if np.allclose(q, r, rtol=0, atol=atol):
                labels[k] = label
                break
        else:
            labels[k] = len(representatives)
            representatives.append(q)
    return labels
    ### END SOLUTION


def shortest_distinguishing_word(T, eta1, eta2, max_length=6, atol=1e-9):
    """Shortest word w with |P(w | eta1) - P(w | eta2)| > atol, or None.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    eta1, eta2 : ndarray, shape (n_states,)
    max_length : int
    atol : float

    Returns
    -------
    tuple of int, or None
    """
    ### BEGIN SOLUTION
    ones = np.ones(T.shape[1])
    for length in range(1, max_length + 1):
        for word in itertools.product(range(T.shape[0]), repeat=length):
            v1, v2 = np.asarray(eta1, dtype=float), np.asarray(eta2, dtype=float)
            for x in word:
                v1, v2 = v1 @ T[x], v2 @ T[x]
            if abs(v1 @ ones - v2 @ ones) > atol:
                return word
    return None
    ### END SOLUTION


# %%
check_36a = checks.check_next_token_classes(next_token_classes)
check_36a

# %%
check_36b = checks.check_shortest_distinguishing_word(shortest_distinguishing_word)
check_36b

# %% [markdown]
# RRXOR, with your functions: how many next-token classes, how big they are, and — for the
# largest class, the beliefs that all predict a fair coin — how far ahead one must look to
# tell its members apart.

# %%
if check_31 and check_36a and check_36b:
    b, _ = build_msp(rrxor.T, rrxor.stationary())
    labels = next_token_classes(rrxor.T, b)
    sizes = np.bincount(labels)
    print(f"{len(b)} beliefs, {len(sizes)} next-token classes of sizes "
          f"{sorted(sizes.tolist(), reverse=True)}")
    members = np.flatnonzero(labels == np.argmax(sizes))
    lengths = [len(shortest_distinguishing_word(rrxor.T, b[i], b[j]))
               for i, j in itertools.combinations(members, 2)]
    values, counts = np.unique(lengths, return_counts=True)
    print(f"{len(lengths)} pairs in the largest class; shortest distinguishing word has")
    for value, count in zip(values, counts):
        print(f"  length {value}: {count} pairs")
else:
    print("(pass the checks of Exercises 3.1 and 3.6 to analyse RRXOR)")

# %% [markdown]
# ---
# ## Wrap-up
#
# You have built the machinery of chapter 03 from scratch: the MSP by breadth-first search
# with a tolerance, the split into transient and recurrent states, the entropy rate of a
# finite MSP, the chaos game that samples an infinite one, a box-counting dimension, and the
# evidence that beliefs carry more than the next token.
#
# **Going further (no checker).**
#
# * Run your `build_msp` on Mess3 with `max_depth = 8` and compare the number of states with
#   $(3^{9} - 1)/2$. Then set `atol = 1e-3`: how many states survive, and why is this a
#   (crude) way to measure the size of a fractal at resolution $10^{-3}$?
# * Run your `chaos_game` on Mess3 with $\alpha = 0.2$ (tokens are evidence *against* their
#   own state). Where does the cloud sit now, and why?
# * Box counting on 20,000 points saturates at small $\varepsilon$: most boxes contain one
#   point. Estimate how small $\varepsilon$ can be before that happens if the dimension is
#   about 0.5, and check it against your coarse/fine comparison above.
#
# Next: chapter 04, *Training a small transformer*.
