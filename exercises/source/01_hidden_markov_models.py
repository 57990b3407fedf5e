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
# # Practice 01 · Hidden Markov models
#
# *Six exercises, about 75 minutes in all. Read chapter 01 first; each exercise names the
# section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 1.1 | the stationary distribution $\pi$ | ★☆☆ | 10 min |
# | 1.2 | the probability of a word, $\pi T^{(x_1)}\cdots T^{(x_L)}\mathbf 1$ | ★☆☆ | 10 min |
# | 1.3 | Mess3's matrices from its factorisation | ★★☆ | 15 min |
# | 1.4 | a sampler that walks the hidden states | ★★☆ | 15 min |
# | 1.5 | exact bigram probabilities, compared with sampled counts | ★★☆ | 10 min |
# | 1.6 | the lagged-agreement curve and its decay rate $\zeta = 1 - 3x$ | ★★★ | 15 min |
#
# **How this notebook works.** Each exercise gives you a function with its signature and a
# docstring that fixes shapes and conventions. Replace `raise NotImplementedError()` with your
# code, run the cell, then run the checker cell below it. The checker calls your function on
# many inputs — the course's processes, edge cases, and random HMMs — compares with a reference
# implementation and, when something is off, tells you the most likely mistake. Hints are
# folded under **Hint**; open them only when stuck. Cells that *use* your functions (plots,
# comparisons) print a short note until the function is implemented.
#
# **Conventions** (as in the chapter): `T[x, i, j]` $= T^{(x)}_{ij} = P(\text{emit } x,
# \text{go to } j \mid \text{in } i)$, shape `(n_tokens, n_states, n_states)`; beliefs and
# distributions over states are 1-D arrays (row vectors $\eta$, $\pi$); tokens are integers
# `0 … n_tokens - 1`.

# %%
import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import processes
from beliefcourse.checks import ch01 as checks

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ---
# ### Exercise 1.1 — The stationary distribution ★☆☆, ~10 min
#
# *Practises chapter 01, section 2.*
#
# **You will:** turn the definition $\pi T = \pi$, $\pi\mathbf 1 = 1$ into code, and meet the
# left-versus-right eigenvector distinction that trips up most first attempts.
#
# Write `stationary(T)`, which returns the stationary distribution of the hidden chain. The
# argument `T` is the 3-D array of labelled matrices, so first form the net transition matrix
# $T = \sum_x T^{(x)}$ (`T.sum(axis=0)`). Use an eigendecomposition (`np.linalg.eig`):
# $\pi$ is the eigenvector for the eigenvalue closest to 1, made real and normalised so that
# its entries sum to 1.
#
# <details><summary>Hint 1</summary>
#
# `np.linalg.eig(A)` returns *right* eigenvectors, columns $v$ with $Av = \lambda v$. A row
# vector with $\pi T = \pi$ is a right eigenvector of the transpose: $T^\top \pi^\top =
# \pi^\top$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Eigenvectors come back with arbitrary scale and sign, and as complex numbers. `np.real(v)`
# and then `v / v.sum()` fix both the sign and the scale in one go.
# </details>

# %%
def stationary(T):
    """Stationary distribution of the hidden chain of an HMM.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
        Labelled transition matrices, T[x, i, j] = P(emit x, go to j | in i).

    Returns
    -------
    pi : ndarray, shape (n_states,)
        Non-negative, sums to 1, and pi @ T.sum(axis=0) == pi.
    """
    ### BEGIN SOLUTION
    net = T.sum(axis=0)
    eigenvalues, eigenvectors = np.linalg.eig(net.T)
    v = np.real(eigenvectors[:, np.argmin(np.abs(eigenvalues - 1))])
    return v / v.sum()
    ### END SOLUTION


# %%
checks.check_stationary(stationary)

# %% [markdown]
# ---
# ### Exercise 1.2 — The probability of a word ★☆☆, ~10 min
#
# *Practises chapter 01, section 4.*
#
# **You will:** compute $P(x_{1:L}) = \pi\, T^{(x_1)} T^{(x_2)} \cdots T^{(x_L)}\, \mathbf 1$
# with $L$ vector–matrix products instead of a sum over $n_\text{states}^{L+1}$ hidden paths.
#
# Write `sequence_probability(T, pi, tokens)`. Carry a row vector through the word: start
# with $\pi$, multiply by $T^{(x)}$ for each token **in the order the tokens occur**, and
# finally sum the entries (that is the product with $\mathbf 1$). An empty word has
# probability 1; an impossible word has probability 0.
#
# <details><summary>Hint</summary>
#
# A row vector times a matrix is `v @ M` with a 1-D `v`. After the loop, entry `j` of the
# vector is $P(x_{1:L},\ s_L = j)$: the probability of the word *and* of ending in state $j$.
# </details>

# %%
def sequence_probability(T, pi, tokens):
    """P(x_1 ... x_L) for an HMM started from the distribution pi.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        Distribution of the initial hidden state s_0.
    tokens : sequence of int, length L >= 0

    Returns
    -------
    float
        pi @ T[x_1] @ ... @ T[x_L] @ 1 (1.0 for an empty word).
    """
    ### BEGIN SOLUTION
    v = np.asarray(pi, dtype=float)
    for x in tokens:
        v = v @ T[x]
    return float(v.sum())
    ### END SOLUTION


# %%
checks.check_sequence_probability(sequence_probability)

# %% [markdown]
# Use your function to confirm two facts from the chapter: Z1R's words of length 3 have
# probability $1/6$ or $0$, and the probabilities of all $2^3$ words add up to 1.

# %%
z1r = processes.z1r()
try:
    words = [[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    probs = [sequence_probability(z1r.T, z1r.stationary(), w) for w in words]
    for w, p in zip(words, probs):
        print("".join(map(str, w)), f"{p:.4f}")
    print(f"sum: {sum(probs):.4f}")
except NotImplementedError:
    print("(finish Exercise 1.2 to see Z1R's word probabilities)")

# %% [markdown]
# ---
# ### Exercise 1.3 — Mess3 from its factorisation ★★☆, ~15 min
#
# *Practises chapter 01, section 5.*
#
# **You will:** build an HMM from a generative story ("move, then the new state emits"),
# and practise the index bookkeeping that every later chapter relies on.
#
# Mess3 factorises as $T^{(k)}_{ij} = P(j \mid i)\, P(k \mid j)$ with
#
# * move: $P(j \mid i) = 1 - 2x$ if $j = i$, and $x$ otherwise;
# * emit: $P(k \mid j) = \alpha$ if $k = j$, and $\beta = (1-\alpha)/2$ otherwise.
#
# Write `mess3_matrices(x, alpha)` returning the array `T[k, i, j]`. Build the two $3\times3$
# matrices first, then combine them — with broadcasting, `np.einsum`, or a loop over $k$.
#
# <details><summary>Hint 1</summary>
#
# `np.full((3, 3), x) + (1 - 3 * x) * np.eye(3)` has $1 - 2x$ on the diagonal and $x$ off it.
# </details>
#
# <details><summary>Hint 2</summary>
#
# With `move[i, j]` $= P(j\mid i)$ and `emit[j, k]` $= P(k \mid j)$, the token index $k$ must
# end up on axis 0: `np.einsum("ij,jk->kij", move, emit)`. The emitting state is $j$ — the
# state we move **into** — not $i$.
# </details>

# %%
def mess3_matrices(x, alpha):
    """Labelled transition matrices of Mess3.

    Parameters
    ----------
    x : float in [0, 0.5]
        Probability of jumping to each of the two other states.
    alpha : float in [0, 1]
        Probability that the state just entered emits its own token.

    Returns
    -------
    T : ndarray, shape (3, 3, 3)
        T[k, i, j] = P(j | i) * P(k | j); token k and states i, j ordered A, B, C.
    """
    ### BEGIN SOLUTION
    beta = (1 - alpha) / 2
    move = np.full((3, 3), x) + (1 - 3 * x) * np.eye(3)          # move[i, j] = P(j | i)
    emit = np.full((3, 3), beta) + (alpha - beta) * np.eye(3)    # emit[j, k] = P(k | j)
    return np.einsum("ij,jk->kij", move, emit)
    ### END SOLUTION


# %%
checks.check_mess3_matrices(mess3_matrices)

# %% [markdown]
# A quick look at what you built, for the paper's parameters: the chapter's numbers are
# $T^{(A)}_{00} = \alpha y = 0.765$ and $T^{(A)}_{01} = \beta x = 0.00375$, and the net matrix
# should have eigenvalues $1$ and $\zeta = 1 - 3x = 0.85$ (twice).

# %%
try:
    T_mess3 = mess3_matrices(0.05, 0.85)
    print(f"T^(A)[0, 0] = {T_mess3[0, 0, 0]:.4f}, T^(A)[0, 1] = {T_mess3[0, 0, 1]:.5f}")
    eigenvalues = np.sort(np.linalg.eigvals(T_mess3.sum(axis=0)).real)[::-1]
    print("eigenvalues of the net matrix:", eigenvalues.round(4))
except NotImplementedError:
    print("(finish Exercise 1.3 to inspect your Mess3 matrices)")

# %% [markdown]
# ---
# ### Exercise 1.4 — A sampler that walks the hidden states ★★☆, ~15 min
#
# *Practises chapter 01, section 3.*
#
# **You will:** implement the generative story of an edge-emitting HMM, and see why the token
# and the next state must be drawn *together*.
#
# Write `sample(T, pi, length, rng)`:
#
# 1. draw $s_0$ from `pi`;
# 2. for $t = 0, \dots, L-1$: in state $i = s_t$, draw the **pair** (token, next state)
#    with probabilities `T[:, i, :]` — an `(n_tokens, n_states)` table that sums to 1 —
#    and store the token as `tokens[t]` and the state as `states[t + 1]`.
#
# Use only the generator `rng` for randomness (e.g. `rng.choice(n, p=probs)`), so that the
# same seed gives the same sample. The checker runs your sampler on processes where drawing
# the token and the next state separately produces transitions that cannot happen.
#
# <details><summary>Hint 1</summary>
#
# Flatten the table: `joint = T[:, i, :].ravel()` has `n_tokens * n_states` entries, in the
# order (token 0, state 0), (token 0, state 1), … Draw one index `k` from it; then
# `divmod(k, n_states)` gives `(token, next_state)`.
# </details>
#
# <details><summary>Hint 2</summary>
#
# `states` has one more entry than `tokens`: `states[0]` is the initial state and
# `states[t + 1]` is the state entered when `tokens[t]` is emitted.
# </details>

# %%
def sample(T, pi, length, rng):
    """Sample one sequence from an HMM, with its hidden states.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        Distribution of the initial state s_0.
    length : int >= 0
        Number of tokens L.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    tokens : int ndarray, shape (L,)
        tokens[t] is the token emitted on the transition from states[t] to states[t + 1].
    states : int ndarray, shape (L + 1,)
        states[0] is s_0 ~ pi.
    """
    ### BEGIN SOLUTION
    n_tokens, n_states, _ = T.shape
    tokens = np.empty(length, dtype=int)
    states = np.empty(length + 1, dtype=int)
    states[0] = rng.choice(n_states, p=pi)
    for t in range(length):
        joint = T[:, states[t], :].ravel()      # P(token, next state | s_t), flattened
        k = rng.choice(n_tokens * n_states, p=joint)
        tokens[t], states[t + 1] = divmod(k, n_states)
    return tokens, states
    ### END SOLUTION


# %%
checks.check_sample(sample)

# %% [markdown]
# Your sampler on RRXOR: in the hidden states you should see the cycle $S \to \{0, 1\} \to
# \{T, F\} \to S$, and every token emitted from $T$ is a `1`, every token from $F$ a `0`.

# %%
rrxor = processes.rrxor()
try:
    tokens, states = sample(rrxor.T, rrxor.stationary(), 15, np.random.default_rng(0))
    print("state :", " ".join(f"{rrxor.state_names[s]:>1}" for s in states[:-1]))
    print("token :", " ".join(str(x) for x in tokens))
except NotImplementedError:
    print("(finish Exercise 1.4 to sample RRXOR)")

# %% [markdown]
# ---
# ### Exercise 1.5 — Bigram probabilities, exact and sampled ★★☆, ~10 min
#
# *Practises chapter 01, sections 4 and 6.*
#
# **You will:** compute the exact joint distribution of two consecutive tokens and compare it
# with counts from data, the way you would check a data pipeline.
#
# Write `bigram_probabilities(T, pi)` returning the matrix
# $B_{ab} = P(x_1 = a,\ x_2 = b) = \pi\, T^{(a)} T^{(b)}\, \mathbf 1$. Rows index the first
# token, columns the second; all entries together sum to 1. Because the process is stationary,
# $B$ is also the distribution of $(x_t, x_{t+1})$ for any $t$.
#
# <details><summary>Hint</summary>
#
# A double loop over `a` and `b` is fine. In one line:
# `np.einsum("i,aij,bjk->ab", pi, T, T)` sums over the states $i, j, k$ (summing over $k$ is
# the product with $\mathbf 1$).
# </details>

# %%
def bigram_probabilities(T, pi):
    """Joint distribution of two consecutive tokens of a stationary HMM.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The stationary distribution.

    Returns
    -------
    B : ndarray, shape (n_tokens, n_tokens)
        B[a, b] = P(x_1 = a, x_2 = b) = pi @ T[a] @ T[b] @ 1.
    """
    ### BEGIN SOLUTION
    return np.einsum("i,aij,bjk->ab", pi, T, T)
    ### END SOLUTION


# %%
checks.check_bigram_probabilities(bigram_probabilities)

# %% [markdown]
# Now compare with data. The cell below samples 200 sequences of 500 tokens from Mess3 and
# from RRXOR (with the course's vectorised sampler), counts consecutive pairs, and puts the
# counts next to your exact matrix. Mess3's diagonal is heavy (tokens repeat); RRXOR's pairs
# are uniform, as the chapter claimed — its structure is invisible at this order.

# %%
def empirical_bigrams(tokens, n_tokens):
    """Relative frequencies of consecutive pairs (a, b) in a batch of sequences."""
    counts = np.zeros((n_tokens, n_tokens))
    np.add.at(counts, (tokens[:, :-1].ravel(), tokens[:, 1:].ravel()), 1)
    return counts / counts.sum()


try:
    for name, hmm in [("Mess3", processes.mess3()), ("RRXOR", processes.rrxor())]:
        exact = bigram_probabilities(hmm.T, hmm.stationary())
        data, _ = hmm.sample(n_sequences=200, length=500, seed=5)
        measured = empirical_bigrams(data, hmm.n_tokens)
        print(f"{name}: exact")
        print(exact.round(3))
        print(f"{name}: measured in {data.size:,} tokens")
        print(measured.round(3))
        print(f"largest difference: {np.abs(exact - measured).max():.3f}\n")
except NotImplementedError:
    print("(finish Exercise 1.5 to compare exact and sampled bigrams)")

# %% [markdown]
# ---
# ### Exercise 1.6 — How fast does the past fade? ★★★, ~15 min
#
# *Practises chapter 01, section 5.*
#
# **You will:** derive a statistic of the data from the matrices, and connect the second
# eigenvalue of the net matrix to something you can measure in token sequences.
#
# The probability that two tokens $k \ge 1$ steps apart are equal is
#
# $$
# P(x_{t+k} = x_t) = \sum_a P(x_t = a,\ x_{t+k} = a)
# = \sum_a \pi\, T^{(a)}\, T^{\,k-1}\, T^{(a)}\, \mathbf 1 .
# $$
#
# *Why:* by stationarity the state before $x_t$ is distributed as $\pi$; $T^{(a)}$ emits
# $x_t = a$; the $k-1$ tokens in between can be anything, and summing over them replaces each
# $T^{(x)}$ by the net matrix $T$; the last $T^{(a)}$ emits $x_{t+k} = a$.
#
# Write `same_token_probability(T, pi, lag)`.
#
# <details><summary>Hint 1</summary>
#
# `np.linalg.matrix_power(net, lag - 1)`; for `lag = 1` it is the identity, and the formula
# reduces to $\sum_a \pi T^{(a)} T^{(a)} \mathbf 1$ — the sum of the diagonal (the trace) of
# Exercise 1.5's matrix.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Count the steps: between $x_t$ and $x_{t+k}$ there are $k - 1$ tokens, not $k$.
# </details>

# %%
def same_token_probability(T, pi, lag):
    """P(x_{t+lag} = x_t) for a stationary HMM.

    Parameters
    ----------
    T : ndarray, shape (n_tokens, n_states, n_states)
    pi : ndarray, shape (n_states,)
        The stationary distribution.
    lag : int >= 1

    Returns
    -------
    float
        sum over tokens a of pi @ T[a] @ net^(lag - 1) @ T[a] @ 1, net = T.sum(axis=0).
    """
    ### BEGIN SOLUTION
    net = T.sum(axis=0)
    between = np.linalg.matrix_power(net, lag - 1)
    ones = np.ones(T.shape[1])
    return float(sum(pi @ T[a] @ between @ T[a] @ ones for a in range(T.shape[0])))
    ### END SOLUTION


# %%
checks.check_same_token_probability(same_token_probability)

# %% [markdown]
# > **Question (predict, then run the cell).** In Mess3 ($x = 0.05$, $\alpha = 0.85$) a state
# > emits its own token with probability 0.85. Is the probability that two consecutive tokens
# > agree, $P(x_2 = x_1)$, closer to $\tfrac13$, to 0.85, or to something else?
# >
# > <details><summary>Answer</summary>
# >
# > About 0.674. The second token is emitted by the state entered next, which is the same state
# > with probability $1 - 2x = 0.9$; then both tokens agree with probability
# > $\alpha^2 + 2\beta^2 = 0.734$ ($\beta = 0.075$). After a hop (probability 0.1) they agree
# > with probability $2\alpha\beta + \beta^2 = 0.133$. So $0.9 \cdot 0.734 + 0.1 \cdot 0.133
# > = 0.674$: well above chance, but below $\alpha$, because even in one state only
# > $\alpha^2 + 2\beta^2$ of the token pairs agree.
# > </details>

# %%
m3 = processes.mess3(x=0.05, alpha=0.85)
B = np.einsum("i,aij,bjk->ab", m3.stationary(), m3.T, m3.T)   # B[a, b] = P(x_1 = a, x_2 = b)
print(f"Mess3: P(x_2 = x_1) = trace of the bigram matrix = {np.trace(B):.4f}")

# %% [markdown]
# For Mess3, chapter 01 quoted the closed form
# $P(x_{t+k} = x_t) = \tfrac13 + (\alpha^2 + 2\beta^2 - \tfrac13)\,\zeta^k$ with
# $\zeta = 1 - 3x$. The excess over chance, $P - \tfrac13$, should therefore fall on a straight
# line of slope $\log\zeta$ in a log plot. Check it for two parameter settings:

# %%
lags = np.arange(1, 16)
settings = [(0.05, 0.85), (0.15, 0.6)]
yours = {}                                     # (x, alpha) -> your P(x_{t+k} = x_t) for each lag
try:
    for x, alpha in settings:
        hmm = processes.mess3(x=x, alpha=alpha)
        yours[x, alpha] = np.array([same_token_probability(hmm.T, hmm.stationary(), k)
                                    for k in lags])
except NotImplementedError:
    yours = None
    print("(finish Exercise 1.6 to compare with the closed form)")

if yours is not None:
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for (x, alpha), colour in zip(settings, ["C0", "C3"]):
        beta, zeta = (1 - alpha) / 2, 1 - 3 * x
        closed = 1 / 3 + (alpha**2 + 2 * beta**2 - 1 / 3) * zeta**lags
        ax.semilogy(lags, closed - 1 / 3, "-", color=colour, alpha=0.5,
                    label=rf"closed form, $x$ = {x}, $\alpha$ = {alpha} ($\zeta$ = {zeta:.2f})")
        ax.semilogy(lags, yours[x, alpha] - 1 / 3, "o", ms=4, color=colour,
                    label="your function")
        print(f"x = {x}, alpha = {alpha}: your values match the closed form: "
              f"{np.allclose(yours[x, alpha], closed)}")
    ax.set_xlabel("lag k")
    ax.set_ylabel(r"$P(x_{t+k} = x_t) - 1/3$")
    ax.legend(frameon=False, fontsize=7)
    plt.show()

# %% [markdown]
# ---
# ## Wrap-up
#
# You have written, from scratch, every computation chapter 01 relied on: $\pi$ as a left
# eigenvector, word probabilities as matrix products, a generator built from its story, a
# sampler that respects the joint draw of token and next state, and two statistics of the data
# derived exactly from the matrices. The lagged-agreement curve is worth remembering: the
# second eigenvalue $\zeta$ of the hidden chain sets how fast the past stops mattering, and it
# reappears in the follow-up paper (Piotrowski et al., 2025) as the rate at which a trained
# transformer's attention decays with distance (chapter 05b, section 5).
#
# **Going further (no checker).**
#
# * For Z1R, $P(x_{t+k} = x_t)$ does not decay at all — it oscillates with period 3. Compute it
#   with your function and explain the pattern from the eigenvalues of Z1R's net matrix (the
#   three cube roots of unity).
# * Which Mess3 parameters make every bigram probability equal, $B_{ab} = 1/9$? Find all of them
#   and explain each in words.
#
# Next: chapter 02, *Bayesian belief updating*, and its practice notebook.
