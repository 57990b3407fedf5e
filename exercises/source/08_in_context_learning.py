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
# # Practice 08 · In-context learning as belief updating over worlds
#
# *Five exercises, about an hour and a quarter in all. Read chapter 08 first; each exercise
# names the section it practises.*
#
# | exercise | you write | difficulty | time |
# |---|---|---|---|
# | 8.1 | the meta-belief $P(k \mid \text{context})$, without underflow | ★★☆ | 20 min |
# | 8.2 | the in-context gap at one context | ★☆☆ | 10 min |
# | 8.3 | the Chernoff information of two distributions | ★★☆ | 15 min |
# | 8.4 | a power-law exponent on log–log axes | ★☆☆ | 10 min |
# | 8.5 | when does a predictor "know" its world? | ★★☆ | 20 min |
#
# Together they are chapter 08's argument in five pieces: the Bayes filter over worlds (8.1),
# what not knowing the world costs per token (8.2), how fast two worlds are told apart (8.3),
# how fast a continuous family is learned (8.4), and the test the chapter applies to the
# network's residual stream (8.5).
#
# **How this notebook works.** Fill in each function between the markers, run it, then run
# its checker. Cells that apply your functions to the chapter's mixtures print a note until
# the functions exist, so the notebook always runs to the end.

# %%
import numpy as np

from beliefcourse import incontext, processes
from beliefcourse.checks import ch08 as checks
from beliefcourse.mixture import mixture, parameter_grid

np.set_printoptions(precision=4, suppress=True)
worlds = [processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)]
mix = mixture(worlds, [0.5, 0.5])
print(mix)

# %% [markdown]
# ---
# ### Exercise 8.1 — The meta-belief ★★☆, ~20 min
#
# *Practises chapter 08, section 1.*
#
# **You will:** compute the probability of each world given a context, the quantity the Bayes
# predictor needs and the network must carry.
#
# Write `meta_belief(Ts, weights, tokens)` (the process first, as in every exercise): `Ts` a
# list of $K$ arrays `T_k[x, i, j] = P(emit x, go to j | in i)` (the worlds may have different
# numbers of states), `weights` the prior $w$, `tokens` a 1-D int array $x_1 \dots x_t$. Each
# world's sequences start from its own stationary distribution $\pi_k$. Return
#
# $$
# P(k \mid x_{1:t}) = \frac{w_k P_k(x_{1:t})}{\sum_j w_j P_j(x_{1:t})}, \qquad
# P_k(x_{1:t}) = \pi_k T_k^{(x_1)} \cdots T_k^{(x_t)} \mathbf 1 .
# $$
#
# The checker includes a context of 1,000 tokens.
#
# <details><summary>Hint 1 — the stationary distribution</summary>
#
# $\pi_k$ is the left eigenvector of `T_k.sum(axis=0)` with eigenvalue 1, normalised to sum 1
# (`np.linalg.eig(M.T)`).
# </details>
#
# <details><summary>Hint 2 — underflow</summary>
#
# $P_k(x_{1:t})$ of 1,000 tokens is about $e^{-900}$: below the smallest float. Carry a normalised
# belief, add $\ln$ of each step's normaliser to a running log-likelihood, and finish with a
# softmax of $\ln w_k + \ln P_k(x_{1:t})$ (subtract the maximum before `np.exp`).
# </details>

# %%
def meta_belief(Ts, weights, tokens):
    """P(k | tokens) for each world k, shape (K,)."""
    ### BEGIN SOLUTION
    logs = []
    for T in Ts:
        T = np.asarray(T, dtype=float)
        vals, vecs = np.linalg.eig(T.sum(axis=0).T)
        b = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
        b = b / b.sum()
        total = 0.0
        for x in tokens:
            v = b @ T[x]
            total += np.log(v.sum())
            b = v / v.sum()
        logs.append(total)
    a = np.log(np.asarray(weights, dtype=float)) + np.array(logs)
    p = np.exp(a - a.max())
    return p / p.sum()
    ### END SOLUTION


# %%
checks.check_meta_belief(meta_belief)

# %% [markdown]
# On sequences of the chapter's two Mess3 worlds: how often does the meta-belief name the
# right world after 4, 16 and 64 tokens?

# %%
try:
    tokens, _, comps = mix.sample(200, 64, seed=1)
    for t in (4, 16, 64):
        Ts = [w.T for w in worlds]
        right = np.mean([meta_belief(Ts, mix.weights, u[:t]).argmax() == c
                         for u, c in zip(tokens, comps)])
        print(f"after {t:2d} tokens: the meta-belief names the right world in {right:.0%} "
              "of 200 sequences")
except NotImplementedError:
    print("(finish Exercise 8.1 to watch the meta-belief)")

# %% [markdown]
# ---
# ### Exercise 8.2 — The in-context gap at one context ★☆☆, ~10 min
#
# *Practises chapter 08, section 2.*
#
# **You will:** compute what not knowing the world costs the Bayes predictor at one context.
#
# Given the meta-belief `meta` $(K,)$ and each world's next-token prediction `comp_preds`
# $(K, X)$ at the same context, the Bayes predictor is $P = \sum_k m_k P_k$ and the oracle
# (told the world) predicts $P_k$. Write `incontext_gap(meta, comp_preds)`: the expected extra
# loss of the Bayes predictor over the oracle, in nats,
#
# $$
# \operatorname{gap} = \sum_k m_k \, \mathrm{KL}(P_k \,\|\, P) .
# $$
#
# <details><summary>Hint</summary>
#
# It equals $H(P) - \sum_k m_k H(P_k)$: the mutual information between the world and the next
# token, given the context. Either form passes. A world may give a token probability 0:
# $0 \log 0$ counts as 0 (its limit), so leave those terms out.
# </details>

# %%
def incontext_gap(meta, comp_preds):
    """sum_k meta_k KL(P_k || P), P = sum_k meta_k P_k, in nats."""
    ### BEGIN SOLUTION
    meta, comp_preds = np.asarray(meta, float), np.asarray(comp_preds, float)
    P = meta @ comp_preds
    return float(sum(m * np.sum(p[p > 0] * np.log(p[p > 0] / P[p > 0]))   # 0 log 0 = 0
                     for m, p in zip(meta, comp_preds)))
    ### END SOLUTION


# %%
checks.check_incontext_gap(incontext_gap)

# %% [markdown]
# > **Question (predict, then run the next cell).** Two worlds, meta-belief $(0.5, 0.5)$. In
# > case A they predict $(0.9, 0.1)$ and $(0.1, 0.9)$, in case B $(0.6, 0.4)$ and $(0.4, 0.6)$.
# > Which gap is larger, and can any pair of predictions push it above $\ln 2 = 0.693$ nats?
# >
# > <details><summary>Answer</summary>
# >
# > Case A, by far: the next token says a lot about the world there, so not knowing the world
# > costs a lot. No pair can exceed $\ln 2$: the gap is the mutual information between the
# > world and the next token, at most the entropy of the meta-belief, $\ln 2$ for two equally
# > likely worlds. Predictions that name the world outright reach it.
# > </details>

# %%
from beliefcourse.information import entropy

for case, preds in [("A", [[0.9, 0.1], [0.1, 0.9]]), ("B", [[0.6, 0.4], [0.4, 0.6]]),
                    ("certain", [[1.0, 0.0], [0.0, 1.0]])]:
    P, m = np.array(preds), np.array([0.5, 0.5])
    print(f"case {case:8s} gap = {entropy(m @ P) - m @ entropy(P):.3f} nats")

# %% [markdown]
# Averaged over sampled contexts, your gap is the chapter's in-context gap curve. Against the
# package's exact enumeration (positions 2, 4 and 8):

# %%
try:
    exact = incontext.incontext_loss(mix, 8)
    tokens, _, _ = mix.sample(2000, 7, seed=2)
    filt = mix.filter(tokens)
    for t in (2, 4, 8):
        mine = np.mean([incontext_gap(m, P) for m, P in
                        zip(filt.meta[:, t - 1], filt.component_predictive[:, t - 1])])
        print(f"gap at position {t}: yours (2,000 sampled contexts) {mine:.3f}, "
              f"exact {exact.gap[t - 1]:.3f} nats")
except NotImplementedError:
    print("(finish Exercise 8.2 to compare with the exact curve)")

# %% [markdown]
# ---
# ### Exercise 8.3 — Chernoff information ★★☆, ~15 min
#
# *Practises chapter 08, section 3.*
#
# **You will:** compute the rate at which the chance of confusing two worlds falls.
#
# For two distributions $p, q$ over the same outcomes, the probability that $n$ i.i.d. draws
# still look as if they could come from either falls like $e^{-n C(p, q)}$ with
#
# $$
# C(p, q) = -\min_{0 \le \lambda \le 1} \ln \sum_x p(x)^\lambda q(x)^{1-\lambda} .
# $$
#
# Write `chernoff_information(p, q)` (nats). The chapter's `distinguish.chernoff_rate` is the
# same quantity per token for two HMMs.
#
# <details><summary>Hint</summary>
#
# The function of $\lambda$ is convex, 0 at both ends. `scipy.optimize.minimize_scalar(f,
# bounds=(0, 1), method="bounded")` finds its minimum; so does a grid of 100,001 values.
# </details>

# %%
def chernoff_information(p, q):
    """-min over lam in [0, 1] of ln sum p^lam q^(1-lam), in nats."""
    ### BEGIN SOLUTION
    from scipy.optimize import minimize_scalar

    p, q = np.asarray(p, float), np.asarray(q, float)
    res = minimize_scalar(lambda lam: np.log(np.sum(p ** lam * q ** (1 - lam))),
                          bounds=(0, 1), method="bounded", options={"xatol": 1e-12})
    return float(-res.fun)
    ### END SOLUTION


# %%
checks.check_chernoff_information(chernoff_information)

# %% [markdown]
# > **Question (predict, then run the next cell).** For the mirror pair $p = (0.7, 0.3)$,
# > $q = (0.3, 0.7)$, where is the minimising $\lambda$, and how does $C(p, q)$ compare with the
# > Bhattacharyya distance $-\ln \sum_x \sqrt{p(x) q(x)}$?
# >
# > <details><summary>Answer</summary>
# >
# > At $\lambda = 1/2$, so the two are equal. Swapping $p$ and $q$ swaps $\lambda$ and
# > $1 - \lambda$, and the mirror pair is its own swap (up to relabelling the outcomes), so the
# > convex function of $\lambda$ is symmetric about $1/2$. For a pair without that symmetry the
# > minimum moves away from $1/2$ and the Bhattacharyya distance is only a lower bound.
# > </details>

# %%
p_m, q_m = np.array([0.7, 0.3]), np.array([0.3, 0.7])
lams = np.linspace(0, 1, 100_001)
log_z = np.log((p_m[None] ** lams[:, None] * q_m[None] ** (1 - lams[:, None])).sum(axis=1))
print(f"minimising lambda {lams[log_z.argmin()]:.3f}; C = {-log_z.min():.4f} nats; "
      f"Bhattacharyya {-np.log(np.sqrt(p_m * q_m).sum()):.4f} nats")

# %% [markdown]
# Two coins, $p = 0.7$ and $q = 0.4$: Chernoff information against the two KL divergences
# (it is below both).

# %%
try:
    p, q = np.array([0.7, 0.3]), np.array([0.4, 0.6])
    kl = lambda a, b: float(np.sum(a * np.log(a / b)))  # noqa: E731
    print(f"C = {chernoff_information(p, q):.4f} nats; KL(p||q) = {kl(p, q):.4f}, "
          f"KL(q||p) = {kl(q, p):.4f}")
except NotImplementedError:
    print("(finish Exercise 8.3 to compare the rates)")

# %% [markdown]
# ---
# ### Exercise 8.4 — A power-law exponent ★☆☆, ~10 min
#
# *Practises chapter 08, section 3.*
#
# **You will:** measure how fast a gap decays on log–log axes.
#
# Write `decay_exponent(t, gap)`: fit $\ln \mathrm{gap} = c - a \ln t$ by least squares and
# return $a$. For a one-parameter family the theory says $a = 1$ (with prefactor $1/2$).
#
# <details><summary>Hint</summary>
#
# `np.polyfit(np.log(t), np.log(gap), 1)` returns `[slope, intercept]`.
# </details>

# %%
def decay_exponent(t, gap):
    """a in gap ~ t**-a, fitted on log-log axes by least squares."""
    ### BEGIN SOLUTION
    slope, _ = np.polyfit(np.log(t), np.log(gap), 1)
    return float(-slope)
    ### END SOLUTION


# %%
checks.check_decay_exponent(decay_exponent)

# %% [markdown]
# On the Mess3 α-family (α uniform on [0.4, 1], 32 grid worlds), 400 sampled contexts up to
# 48 tokens, fitted over $t = 16..48$. Expect a little below 1: at these lengths the gap is
# $(1/2)/t$ times $(1 + b/t)$ with $b < 0$, which bends the log–log line; the chapter's
# `incontext.power_law_exponent` fits the $b/t$ term too and reads 1 within its interval.

# %%
try:
    family, _ = parameter_grid(lambda a: processes.mess3(0.05, a), 0.4, 1.0, 32)
    curve = incontext.sampled_incontext_loss(family, 400, 48, seed=3)
    t = curve.positions[15:]
    print(f"your exponent: {decay_exponent(t, curve.gap[15:]):.1f} (theory 1 for d = 1)")
except NotImplementedError:
    print("(finish Exercise 8.4 to measure the family's exponent)")

# %% [markdown]
# ---
# ### Exercise 8.5 — When does a predictor know its world? ★★☆, ~20 min
#
# *Practises chapter 08, section 5.*
#
# **You will:** write the test the chapter applies to the probed meta-belief.
#
# `meta` has shape $(N, L, K)$: a meta-belief for each of $N$ sequences after each of $L$
# positions (position $p$ has read $p + 1$ tokens), exact or read from a network by a probe.
# `components` $(N,)$ says which world each sequence came from. Write
# `knowing_time(meta, components, threshold)`: the share of sequences whose meta-belief's
# argmax is their own world, per position, and the first number of tokens read at which that
# share reaches `threshold` (`>=`); `None` if it never does.
#
# <details><summary>Hint</summary>
#
# `(meta.argmax(-1) == components[:, None]).mean(axis=0)` is the share per position;
# `np.flatnonzero(share >= threshold)` finds where it is reached.
# </details>

# %%
def knowing_time(meta, components, threshold):
    """First number of tokens read at which argmax(meta) names the true world in at least
    `threshold` of the sequences; None if never."""
    ### BEGIN SOLUTION
    share = (np.asarray(meta).argmax(-1) == np.asarray(components)[:, None]).mean(axis=0)
    hit = np.flatnonzero(share >= threshold)
    return int(hit[0]) + 1 if len(hit) else None
    ### END SOLUTION


# %%
checks.check_knowing_time(knowing_time)

# %% [markdown]
# The exact Bayes filter on 1,000 sequences of the two worlds: when does it know?

# %%
try:
    tokens, _, comps = mix.sample(1000, 48, seed=4)
    meta = mix.filter(tokens).meta[:, 1:]
    for thr in (0.75, 0.9):
        print(f"Bayes names the right world in {thr:.0%} of sequences after "
              f"{knowing_time(meta, comps, thr)} tokens")
except NotImplementedError:
    print("(finish Exercise 8.5 to time the Bayes filter)")
