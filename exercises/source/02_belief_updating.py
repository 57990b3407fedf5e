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
# # Practice 02 · Bayesian belief updating
#
# *Six exercises, about 85 minutes in all. Read chapter 02 first; each exercise names the
# section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 2.1 | the belief update $\eta' = \eta T^{(x)} / (\eta T^{(x)}\mathbf 1)$ | ★☆☆ | 10 min |
# | 2.2 | the next-token distribution $P(x \mid \eta) = \eta T^{(x)}\mathbf 1$ | ★☆☆ | 5 min |
# | 2.3 | belief trajectories, prior at index 0 | ★★☆ | 10 min |
# | 2.4 | average state uncertainty, and Z1R's synchronisation | ★★☆ | 20 min |
# | 2.5 | myopic entropy $h(L)$ — the best loss a transformer can reach | ★★★ | 25 min |
# | 2.6 | the ideal predictor's loss per model position — chapter 04's yardstick | ★★☆ | 15 min |
#
# **How this notebook works.** As in practice 01: fill in each function, run it, run the
# checker below it. The checker compares your function with a reference on the course's
# processes, edge cases and random HMMs, and names the most likely mistake when they disagree.
# Hints are folded; cells that use your functions print a note until the functions exist.
#
# **Conventions.** `T[x, i, j]` $= P(\text{emit } x, \text{go to } j \mid \text{in } i)$;
# a belief $\eta$ is a 1-D array over hidden states that sums to 1 (a row vector); entropies
# are in **bits** when we talk about uncertainty over states (Exercise 2.4) and in **nats**
# when we compare with a cross-entropy loss (Exercises 2.5 and 2.6), as in the chapter.
# Every function takes the process first, as in practice 01: `update(T, belief, x)`,
# `next_token_distribution(T, belief)`, `belief_trajectory(T, pi, tokens)`.

# %%
import itertools  # itertools.product(range(n_tokens), repeat=L) lists all words of length L

import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import information, processes
from beliefcourse.beliefs import belief_trajectories
from beliefcourse.checks import ch02 as checks

np.set_printoptions(precision=4, suppress=True)
z1r, mess3, rrxor = processes.z1r(), processes.mess3(), processes.rrxor()

# %% [markdown]
# ---
# ### Exercise 2.1 — The belief update ★☆☆, ~10 min
#
# *Practises chapter 02, section 2.*
#
# **You will:** implement Bayes' rule for an HMM in three steps — joint, marginal, condition —
# and decide what to do when the observation is impossible.
#
# Write `update(T, belief, x)` returning
#
# $$\eta' = \frac{\eta\, T^{(x)}}{\eta\, T^{(x)}\,\mathbf 1}.$$
#
# The numerator is the joint probability of (token $x$, next state $j$) given the past, the
# denominator its sum over $j$ — the probability of $x$. If that probability is zero the
# observation is impossible under `belief` and Bayes' rule is undefined: raise a `ValueError`
# saying so, rather than returning NaN.
#
# <details><summary>Hint 1</summary>
#
# `belief @ T[x]` is the row vector $\eta T^{(x)}$. Use the labelled matrix of the token
# that was seen — not the net matrix `T.sum(0)`, which would forget the observation.
# </details>
#
# <details><summary>Hint 2</summary>
#
# `T[x] @ belief` is a different computation: it treats `belief` as a column vector and
# sums over the *destination* state. With `T[x, i, j]` and $i$ the current state, the belief
# multiplies from the left.
# </details>

# %%
def update(T, belief, x):
    """One step of Bayesian belief updating.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    belief : ndarray, shape (n_states,)
        eta = P(current hidden state | tokens so far); non-negative, sums to 1.
    x : int
        The token just observed.

    Returns
    -------
    ndarray, shape (n_states,)
        eta' = eta T^(x) / (eta T^(x) 1), the belief after seeing token `x`.

    Raises
    ------
    ValueError
        If `x` has probability zero under `belief`.
    """
    ### BEGIN SOLUTION
    unnormalised = belief @ T[x]
    p = unnormalised.sum()
    if p <= 0:
        raise ValueError(f"token {x} has probability zero under this belief")
    return unnormalised / p
    ### END SOLUTION


# %%
checks.check_update(update)

# %% [markdown]
# The chapter's first worked example: from Z1R's prior $\pi = (\tfrac13, \tfrac13, \tfrac13)$,
# a `0` should give $(\tfrac13, \tfrac23, 0)$, and then a `1` should give certainty of $S_R$.

# %%
try:
    eta = update(z1r.T, z1r.stationary(), 0)
    print("after 0: ", eta)
    print("after 01:", update(z1r.T, eta, 1))
except NotImplementedError:
    print("(finish Exercise 2.1 to run the Z1R example)")

# %% [markdown]
# > **Question (predict, then run the cell).** Mess3 emits `A` thirty times in a row. Does the
# > observer's belief in state A approach 1 as the run goes on?
# >
# > <details><summary>Answer</summary>
# >
# > No: it levels off at 0.989 after about four tokens. Each token multiplies the odds of A by
# > $\alpha / \beta$, but between tokens the state may have hopped away (probability $2x = 0.1$),
# > which pulls the belief back; the two balance at a fixed point of the update $f_A$. An
# > observer of Mess3 is never certain, however long the evidence.
# > </details>

# %%
run_of_a = belief_trajectories(mess3, np.zeros(30, dtype=int))[0]     # the package's version
print("P(state A) after t A's:", {t: round(float(run_of_a[t, 0]), 4) for t in (1, 2, 3, 5, 10, 30)})

# %% [markdown]
# ---
# ### Exercise 2.2 — What a belief predicts next ★☆☆, ~5 min
#
# *Practises chapter 02, section 5.*
#
# **You will:** turn a belief into the distribution of the next token — the quantity a
# language model outputs.
#
# Write `next_token_distribution(T, belief)` returning the vector with entries
# $P(x \mid \eta) = \eta\, T^{(x)}\, \mathbf 1$, one per token.
#
# <details><summary>Hint</summary>
#
# `belief @ T[x]` is the joint over next states; summing it gives one number per token. In one
# line: `np.einsum("i,xij->x", belief, T)`.
# </details>

# %%
def next_token_distribution(T, belief):
    """P(next token = x | belief) for every token x.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    belief : ndarray, shape (n_states,)

    Returns
    -------
    ndarray, shape (n_tokens,)
        Entry x is belief @ T[x] @ 1; the entries sum to 1.
    """
    ### BEGIN SOLUTION
    return np.einsum("i,xij->x", belief, T)
    ### END SOLUTION


# %%
checks.check_next_token_distribution(next_token_distribution)

# %% [markdown]
# ---
# ### Exercise 2.3 — Belief trajectories ★★☆, ~10 min
#
# *Practises chapter 02, sections 2–3.*
#
# **You will:** run the update along a sequence, keeping the course's indexing convention —
# the one every later chapter (and the transformer's target beliefs) depends on.
#
# Write `belief_trajectory(T, pi, tokens)` returning an array of shape `(L + 1, n_states)`
# whose row `t` is the belief after the first `t` tokens:
#
# * row 0 is the prior $\pi$ (no tokens seen yet);
# * row `t` is the update of row `t - 1` by `tokens[t - 1]`;
# * row `L` is the belief after the whole sequence.
#
# Use your `update` from Exercise 2.1.
#
# <details><summary>Hint</summary>
#
# Start a list with `pi`, append `update(T, previous, x)` for each token, and stack it with
# `np.array(...)`. The result has one more row than there are tokens.
# </details>

# %%
def belief_trajectory(T, pi, tokens):
    """Beliefs along one sequence; row t = belief after the first t tokens.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The prior: the belief before any token.
    tokens : sequence of int, length L (a possible sequence)

    Returns
    -------
    ndarray, shape (L + 1, n_states)
        Row 0 is pi; row t is the belief after tokens[0], ..., tokens[t - 1].
    """
    ### BEGIN SOLUTION
    beliefs = [np.asarray(pi, dtype=float)]
    for x in tokens:
        beliefs.append(update(T, beliefs[-1], x))
    return np.array(beliefs)
    ### END SOLUTION


# %%
checks.check_belief_trajectory(belief_trajectory)

# %% [markdown]
# Your trajectory for a sampled Mess3 sequence, next to the hidden states that generated it.
# The belief follows the hidden state with a lag and never becomes certain.

# %%
try:
    tokens, states = mess3.sample(n_sequences=1, length=60, seed=7)
    traj = belief_trajectory(mess3.T, mess3.stationary(), tokens[0])
    fig, ax = plt.subplots(figsize=(8, 2.6))
    for s, colour in zip(range(3), ["tab:red", "tab:green", "tab:blue"]):
        ax.plot(traj[:, s], color=colour, label=f"P(state {mess3.state_names[s]})")
        ax.fill_between(np.arange(61), 0, 1, where=states[0] == s, step="mid",
                        color=colour, alpha=0.12, lw=0)
    ax.set_xlabel("tokens seen t (shaded: the true hidden state)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, 1.2))
    plt.show()
    print("final belief:", traj[-1].round(3),
          " true final state:", mess3.state_names[states[0, -1]])
except NotImplementedError:
    print("(finish Exercises 2.1 and 2.3 to draw a Mess3 belief trajectory)")

# %% [markdown]
# ---
# ### Exercise 2.4 — Synchronisation ★★☆, ~20 min
#
# *Practises chapter 02, section 4.*
#
# **You will:** measure how uncertain an ideal observer remains about the hidden state after
# $L$ tokens, on average, and see Z1R synchronise while Mess3 does not.
#
# Write `state_uncertainty(T, pi, L)` returning, in **bits**,
#
# $$
# U(L) = \sum_{w \,\in\, \mathcal A^L,\ P(w) > 0} P(w)\; H\big[\eta(w)\big],
# \qquad H[\eta] = -\sum_i \eta_i \log_2 \eta_i ,
# $$
#
# where $\eta(w)$ is the belief after the word $w$ (starting from `pi`). Enumerate all words
# with `itertools.product(range(n_tokens), repeat=L)`; skip the impossible ones. $U(0)$ is the
# entropy of the prior.
#
# <details><summary>Hint 1</summary>
#
# Carry the *unnormalised* vector $v = \pi T^{(w_1)}\cdots T^{(w_L)}$: its sum is $P(w)$ and
# $v / P(w)$ is $\eta(w)$ — one loop gives you both.
# </details>
#
# <details><summary>Hint 2</summary>
#
# $0 \log 0 = 0$ by convention (the limit), but `0 * np.log2(0)` is `nan`. Keep only the
# positive entries before taking logs.
# </details>
#
# <details><summary>Hint 3</summary>
#
# Weight by $P(w)$: a plain average over the possible words counts rare words as much as
# common ones. And average the entropies — the entropy of the averaged belief is just
# $H[\pi]$.
# </details>

# %%
def state_uncertainty(T, pi, L):
    """Average entropy (bits) of the belief after L tokens.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The prior (belief before any token).
    L : int >= 0
        Number of tokens seen.

    Returns
    -------
    float
        U(L) = sum over words w of length L with P(w) > 0 of P(w) * H[belief after w],
        H in bits.
    """
    ### BEGIN SOLUTION
    total = 0.0
    for word in itertools.product(range(T.shape[0]), repeat=L):
        v = np.asarray(pi, dtype=float)
        for x in word:
            v = v @ T[x]
        p_word = v.sum()
        if p_word > 0:
            eta = v[v > 0] / p_word
            total += p_word * -(eta * np.log2(eta)).sum()
    return float(total)
    ### END SOLUTION


# %%
checks.check_state_uncertainty(state_uncertainty)

# %% [markdown]
# Now the chapter's claim, computed with your function: Z1R's uncertainty reaches exactly 0
# after three tokens; Mess3's levels off near 0.438 bits and stays there; RRXOR's falls to 0,
# but slowly.

# %%
try:
    lengths = np.arange(0, 8)
    curves = {name: [state_uncertainty(hmm.T, hmm.stationary(), L) for L in lengths]
              for name, hmm in [("Z1R", z1r), ("Mess3", mess3), ("RRXOR", rrxor)]}
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, U in curves.items():
        ax.plot(lengths, U, "o-", ms=4, label=name)
        print(f"{name:6s} U(L), L = 0..7:", np.round(U, 3))
    ax.set_xlabel("tokens seen L")
    ax.set_ylabel("U(L) [bits]")
    ax.legend(frameon=False)
    plt.show()
except NotImplementedError:
    print("(finish Exercise 2.4 to plot synchronisation curves)")

# %% [markdown]
# ---
# ### Exercise 2.5 — Myopic entropy: the best achievable loss ★★★, ~25 min
#
# *Practises chapter 02, sections 6–7.*
#
# **You will:** compute the lowest cross-entropy *any* predictor can reach when predicting
# token $L$ from the $L-1$ tokens before it — the yardstick chapter 04 holds the transformer
# to.
#
# Write `myopic_entropy(T, pi, L)` returning, in **nats**,
#
# $$
# h(L) = \sum_{w \,\in\, \mathcal A^{L-1},\ P(w) > 0} P(w)\; H\big[P(\,\cdot \mid \eta(w))\big],
# \qquad H[q] = -\sum_x q_x \ln q_x ,
# $$
#
# the entropy of the **next-token distribution** $P(x \mid \eta(w)) = \eta(w)\,T^{(x)}\mathbf 1$
# after a context $w$ of $L - 1$ tokens, averaged over contexts. So $h(1)$ is the entropy of a
# single token (empty context).
#
# <details><summary>Hint 1</summary>
#
# The context has $L - 1$ tokens, not $L$: `itertools.product(range(n_tokens), repeat=L - 1)`.
# </details>
#
# <details><summary>Hint 2</summary>
#
# With the unnormalised $v = \pi T^{(w)}$, the numbers $v\,T^{(x)}\mathbf 1$ are the joint
# probabilities $P(w, x)$; their sum is $P(w)$ and dividing gives $P(x \mid w)$.
# </details>
#
# <details><summary>Hint 3</summary>
#
# Not the entropy of the belief: two different states can predict the same token, so
# $H[\eta]$ and $H[P(\cdot\mid\eta)]$ differ. And `np.log`, not `np.log2` — losses are in nats.
# </details>

# %%
def myopic_entropy(T, pi, L):
    """h(L): entropy (nats) of token L given the L - 1 tokens before it.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The stationary distribution (belief before any token).
    L : int >= 1

    Returns
    -------
    float
        sum over contexts w of length L - 1 with P(w) > 0 of
        P(w) * H[next-token distribution after w], H in nats.
    """
    ### BEGIN SOLUTION
    ones = np.ones(T.shape[1])
    total = 0.0
    for context in itertools.product(range(T.shape[0]), repeat=L - 1):
        v = np.asarray(pi, dtype=float)
        for x in context:
            v = v @ T[x]
        joint = np.array([v @ T[x] @ ones for x in range(T.shape[0])])   # P(context, x)
        p_context = joint.sum()
        if p_context > 0:
            q = joint[joint > 0] / p_context
            total += p_context * -(q * np.log(q)).sum()
    return float(total)
    ### END SOLUTION


# %%
checks.check_myopic_entropy(myopic_entropy)

# %% [markdown]
# The yardstick for chapter 04. A transformer reading 10 Mess3 tokens predicts, at position
# $p = 0, \dots, 9$, the token $x_{p+2}$ from the $p + 1$ tokens before it, so its best possible
# loss there is $h(p + 2)$. Your function gives the first six positions below; positions 6–9
# lie within 0.0001 nats of position 5's value, because $h(L)$ has all but converged to the
# entropy rate.

# %%
try:
    for p in range(6):
        h = myopic_entropy(mess3.T, mess3.stationary(), p + 2)
        seen = "x_1" if p == 0 else f"x_1..x_{p + 1}"
        print(f"position {p}: sees {seen:8s} predicts x_{p + 2}, "
              f"best loss h({p + 2}) = {h:.4f} nats = {h / np.log(2):.4f} bits")
except NotImplementedError:
    print("(finish Exercise 2.5 to compute the transformer's yardstick)")

# %% [markdown]
# ---
# ### Exercise 2.6 — The ideal predictor's loss, position by position ★★☆, ~15 min
#
# *Practises chapter 02, section 6 (the yardstick table).*
#
# **You will:** score the Bayes-optimal predictor on one training sequence exactly the way a
# transformer is scored in chapter 04 — which forces you to get the position ↔ belief ↔ target
# alignment right. An off-by-one here is the most common silent bug of the whole course: the
# numbers look plausible and are wrong.
#
# A training sequence has $n_\text{ctx} + 1$ tokens $x_1 \dots x_{n+1}$ (0-based:
# `tokens[0]` is $x_1$). The model reads $x_1 \dots x_n$; **position $p$** ($0 \le p < n$) has
# read $x_1 \dots x_{p+1}$, holds the belief $\eta_{p+1}$ (row $p + 1$ of your trajectory) and
# is scored on the next token $x_{p+2}$ = `tokens[p + 1]`. Nothing predicts $x_1$: there is no
# beginning-of-sequence token.
#
# Write `ideal_losses(T, pi, tokens)` returning an array of length $n$ whose entry $p$ is
#
# $$
# \ell_p = -\ln P\big(x_{p+2} \mid x_1 \dots x_{p+1}\big)
#        = -\ln\big(\eta_{p+1}\, T^{(x_{p+2})}\, \mathbf 1\big)
# $$
#
# in nats — the cross-entropy of a perfect model at that position. Use your
# `belief_trajectory` and `next_token_distribution`. Averaged over sequences, $\ell_p$ is
# exactly the floor $h(p + 2)$ of Exercise 2.5; the cell after the checker tests that claim by
# sampling.
#
# <details><summary>Hint 1</summary>
#
# Write the table out for $n = 2$ before you code: `tokens = [x1, x2, x3]`; position 0 uses
# row 1 of the trajectory and scores `tokens[1]`; position 1 uses row 2 and scores
# `tokens[2]`. Row 0 (the prior) predicts $x_1$, which no position is asked to do.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The result has one entry fewer than `tokens`. If yours has as many, you scored $x_1$ too;
# if the first entry is $-\ln P(x_1)$ under $\pi$, your beliefs lag one token behind.
# </details>

# %%
def ideal_losses(T, pi, tokens):
    """Per-position cross-entropy (nats) of the Bayes-optimal predictor on one sequence.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The stationary distribution (belief before any token).
    tokens : sequence of int, length n + 1
        x_1 .. x_{n+1}: the n model inputs x_1 .. x_n followed by the last target.

    Returns
    -------
    ndarray, shape (n,)
        Entry p = -ln P(x_{p+2} | x_1 .. x_{p+1}), the loss at model position p.
    """
    ### BEGIN SOLUTION
    trajectory = belief_trajectory(T, pi, tokens)          # row t: belief after t tokens
    losses = []
    for p in range(len(tokens) - 1):
        probs = next_token_distribution(T, trajectory[p + 1])   # position p has read p + 1 tokens
        losses.append(-np.log(probs[tokens[p + 1]]))            # ... and predicts x_{p+2}
    return np.array(losses)
    ### END SOLUTION


# %%
checks.check_ideal_losses(ideal_losses)

# %% [markdown]
# Now the claim of chapter 02 by sampling: 10,000 Mess3 training sequences of 11 tokens, the
# ideal predictor's loss at each of the 10 positions averaged over them, against the exact
# floors $h(p + 2)$. The sample mean over all positions should land within a few thousandths
# of **0.8025 nats**, the number a trained transformer is held to in chapter 04.

# %%
try:
    sampled, _ = mess3.sample(n_sequences=10_000, length=11, seed=0)
    losses = np.array([ideal_losses(mess3.T, mess3.stationary(), seq) for seq in sampled])
    mean, sem = losses.mean(0), losses.std(0, ddof=1) / np.sqrt(len(losses))
    floor = information.myopic_entropy(mess3, np.arange(2, 12))        # h(p + 2), exact
    for p in range(10):
        print(f"position {p}: sampled {mean[p]:.3f} ± {sem[p]:.3f}   exact h({p + 2}) = "
              f"{floor[p]:.4f} nats")
    print(f"mean over positions: sampled {losses.mean():.3f}, exact {floor.mean():.4f} nats")

    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.errorbar(np.arange(10), mean, yerr=2 * sem, fmt="o", ms=4, capsize=3,
                label="ideal predictor, 10,000 sampled sequences (±2 s.e.)")
    ax.plot(np.arange(10), floor, "s-", ms=4, color="C3", mfc="none", label="exact floor h(p + 2)")
    ax.set_xlabel("model position p")
    ax.set_ylabel("loss [nats]")
    ax.set_xticks(range(10))
    ax.legend(frameon=False, fontsize=8)
    plt.show()
except NotImplementedError:
    print("(finish Exercises 2.1–2.3 and 2.6 to score the ideal predictor)")

# %% [markdown]
# ---
# ## Wrap-up
#
# You have implemented the whole machinery of an ideal observer: Bayes' rule for an HMM,
# predictions from beliefs, trajectories with the index-0-is-the-prior convention, the
# average uncertainty that tells whether an observer synchronises, the myopic entropy that
# bounds every predictor's loss, and the position-by-position loss of the ideal predictor that
# a transformer will be compared with.
#
# **Going further (no checker).**
#
# * Show numerically that $h(L) = H(L) - H(L-1)$, where $H(L) = -\sum_{|w| = L} P(w)\ln P(w)$
#   is the block entropy. Why is this the same quantity? (Chain rule of entropy.)
# * For Z1R, $h(L)$ equals the entropy rate $\tfrac13 \ln 2$ from $L = 4$ on. Explain the "4"
#   using Exercise 2.4's result.
# * `update` divides by $P(x \mid \eta)$ at every step. Run 10,000 Mess3 tokens through a
#   version that never normalises and watch what happens to the vector — then explain why the
#   course's `belief_trajectories` renormalises every step.
#
# Next: chapter 03, *The mixed-state presentation*: the set of all beliefs, and its fractal.
