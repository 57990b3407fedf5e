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
# # 06 · Beyond the next token, beyond transformers
#
# *Reading time ≈ 120 minutes; running time ≈ 57 seconds (measured, CPU on one thread).
# Prerequisites: chapter 02 (beliefs fix the whole future), chapter 03 (RRXOR's 36 MSP states,
# fractal dimension), chapters 05 and 05b (probes, held-out splits, controls; 05b's within-class
# part).*
#
# Chapters 05 and 05b leave three open questions. A belief holds everything the past says about the
# *whole future*: does the network store that, or only what the next token needs? Is the
# geometry a property of transformers, or of any good predictor? And is a linear read-out
# evidence that the network *uses* the geometry, or only that it can be found there? This
# chapter answers each with an experiment held out over sequences, beside the untrained
# network and the input-only baseline, and against the best score the process allows.
#
# **After this chapter you will be able to**
#
# 1. compute the distribution of the next $k$ tokens from a belief, and the best any
#    next-token-only representation can score on it (the *next-token ceiling*);
# 2. run the distance test of the paper's Fig. 7D with its exact ceiling, and say whether a
#    network beats what the next token alone allows — and why that alone is a weak bar;
# 3. train a GRU and an LSTM with the course's CLI, and compare their hidden states with the
#    transformer's residual stream under the same probes and controls;
# 4. move an activation along the probed geometry and measure whether the prediction follows,
#    against a random move of the same length, a move towards a wrong target, activation
#    patching and the untrained network — explain why the probe's own direction is a weak
#    one to move along, and design the experiment (on RRXOR) that can tell the use of a belief
#    from the use of a next-token prediction;
# 5. say whether beliefs or log-beliefs are the more linear in the residual stream, and
#    estimate the fractal dimension of the probed points over training.
#
# Practice: `exercises/06_beyond_the_next_token.ipynb` (the next $k$ tokens, the distance
# test's ceiling, the steering move, a GRU step that matches `torch.nn.GRU`, a sign test for
# steering against its control).
#
# The models: the shipped transformers of chapters 04–05 and, new here, a GRU and an LSTM per
# process, trained by the package's CLI on the same data (exact soft targets, AdamW, cosine
# schedule; section 2 shows the commands).

# %%
import copy
import io

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import binomtest

from beliefcourse import checkpoints, information, msp, plotting, probing, processes, steering
from beliefcourse.data import ExactData
from beliefcourse.model import build_model, param_count
from beliefcourse.probing import futures
from beliefcourse.train import PRESETS, train
from beliefcourse.widgets import steering_widget

np.set_printoptions(precision=4, suppress=True)
mess3, rrxor = processes.mess3(), processes.rrxor()
mdata, rdata = ExactData(mess3, n_ctx=10), ExactData(rrxor, n_ctx=10)
ARCHS = ("transformer", "GRU", "LSTM")
NAMES = {("mess3", "transformer"): "mess3", ("mess3", "GRU"): "mess3-gru",
         ("mess3", "LSTM"): "mess3-lstm", ("rrxor", "transformer"): "rrxor",
         ("rrxor", "GRU"): "rrxor-gru", ("rrxor", "LSTM"): "rrxor-lstm"}
models, records = {}, {}
print(f"{'process':8s} {'architecture':12s} {'parameters':>10s} {'tokens':>11s} {'of budget':>11s} "
      f"{'rel. loss':>9s} {'minutes':>7s}")
for (proc, arch), name in NAMES.items():
    models[proc, arch], records[proc, arch] = checkpoints.load(name)
    rec = records[proc, arch]
    print(f"{proc:8s} {arch:12s} {param_count(models[proc, arch]):10,} {rec['tokens_seen']:11,} "
          f"{rec['train_config']['n_tokens']:11,} {rec['relative_loss']:9.5f} "
          f"{rec['wall_seconds'] / 60:7.1f}")


def final_hook(model):
    """The top of the stack: the transformer's last residual stream, an RNN's top hidden state."""
    return steering.steerable_hooks(model)[-1]


def untrained(model, seed=0):
    """The same architecture, freshly initialised: the control for "the architecture alone"."""
    return build_model(model.cfg, seed=seed).eval()


def float64_copy(net):
    """A float64 copy of a network. Used where a result must not depend on the last bits of
    the CPU's float32 arithmetic: RRXOR's small probes (a least-squares fit on nearly collinear
    features amplifies them) and the steering runs (whose win counts would flip)."""
    return copy.deepcopy(net).double().eval()


# %% [markdown]
# Every model predicts within 0.1 % of the Bayes-optimal loss (relative loss ≤ 1.001; this
# loss is exact, over all contexts of length 10). What follows uses samples, stated at each
# step: probes on 8,000 of Mess3's 59,049 contexts or an 80/20 split of RRXOR's 436, 200,000
# pairs for the distance test, 300 pairs for steering on Mess3 and 200 on RRXOR, 3,000
# contexts for emergence. The GRU and LSTM of a process have about the same number of
# parameters as each other, but fewer than its transformer: 113k and 115k against 143k on
# Mess3, and 199k and 203k against 663k on RRXOR, whose transformer is the paper's wide one
# (3.3 times more). The comparisons below are therefore not at equal size. The GRU runs were stopped before the end of their
# budget, on a shared CPU, once past the target; their last checkpoint is the one used.
#
# ## 1. The whole future, not the next token
#
# A belief $\eta$ determines the distribution of every future word (chapter 02). For the next
# $k$ tokens,
#
# $$
# P(x_1 \dots x_k \mid \eta) = \eta\, T^{(x_1)} T^{(x_2)} \cdots T^{(x_k)} \mathbf 1 ,
# $$
#
# which is *linear* in $\eta$ (Shai et al. 2024, eq. 2). The next-token distribution is the
# case $k = 1$: $P(x \mid \eta) = \eta\, T^{(x)} \mathbf 1$. So a representation from which
# the belief can be read linearly also gives every future linearly. The converse is the
# question: a representation built only for the next token need not hold more.
#
# **What a next-token-only representation can score.** Group the points by their next-token
# distribution (a *class*). A representation that is a function of the next-token distribution
# gives every point of a class the same vector, so any read-out gives every point of a class
# the same prediction; the best such prediction of a target $y$ is its class mean
# $\bar y_c$, and the course's one R² (chapter 05: $1 - \sum_i w_i \lVert y_i - \hat y_i
# \rVert^2 / \sum_i w_i \lVert y_i - \bar y_w \rVert^2$) of that predictor is the
#
# $$
# \text{next-token ceiling} = 1 - \frac{\sum_i w_i \lVert y_i - \bar y_{c(i)} \rVert^2}
#                                     {\sum_i w_i \lVert y_i - \bar y_w \rVert^2} ,
# $$
#
# the fraction of the target's variance *between* classes (`probing.futures.class_ceiling`;
# unweighted, $w_i = 1$, below). A representation that scores above it holds more than the
# next-token distribution. That is a low bar: anything that knows the current token or the
# position already clears it, because neither is a function of the next-token distribution.
# So the ceiling says what is *possible* for a next-token-only representation; the evidence
# that training put more there has to come from the trained network against its untrained
# twin.
#
# Mess3 cannot tell the two apart, and it is worth seeing why before using RRXOR: its matrix
# of emission probabilities $P(x \mid s)$ is invertible, so the next-token distribution
# $\eta M$ determines $\eta$, linearly.

# %%
emit = mess3.T.sum(axis=2).T                    # (S, X): P(next token | hidden state)
print("Mess3: P(next token x | state s) =\n", emit, f"\ndeterminant {np.linalg.det(emit):.3f}")
m_classes, m_n = futures.next_token_classes(mdata.next_token_probs)
r_classes, r_n = futures.next_token_classes(rdata.next_token_probs)
print(f"distinct next-token distributions at positions 0-9: Mess3 {m_n:,} "
      f"(of {len(np.unique(mdata.beliefs.reshape(-1, 3).round(6), axis=0)):,} beliefs), "
      f"RRXOR {r_n} (of {len(np.unique(rdata.beliefs.reshape(-1, 5).round(6), axis=0))} beliefs)")

# %% [markdown]
# On Mess3 every belief has its own next-token distribution (up to rounding), and the map
# between them is linear and invertible: every next-token ceiling is 1, and "holds the belief"
# and "holds the next token" are the same linear claim. This is the negative control of the
# question: on Mess3 no experiment can separate them (section 2 measures this). RRXOR can:
# 35 beliefs share 11 next-token distributions. (Chapter 03 counted 36 states of RRXOR's
# mixed-state presentation; the 36th is the initial belief $\pi$, before any token, which is
# not one of the probed points.) Its targets, with their ceilings:

# %%
r_targets = {"belief": rdata.beliefs}
r_targets.update({f"next {k}": futures.future_distributions(rrxor, rdata.beliefs, k)
                  for k in (1, 2, 3, 4)})
r_targets["within-class"] = futures.within_class(rdata.beliefs, r_classes)
r_ceiling = {name: futures.class_ceiling(y, r_classes) for name, y in r_targets.items()}
print(f"{'target':13s} {'dim':>4s} {'next-token ceiling (R²)':>24s}")
for name, y in r_targets.items():
    print(f"{name:13s} {y.shape[-1]:4d} {round(r_ceiling[name], 3) + 0.0:24.3f}")

# %% [markdown]
# `next k` is the distribution over the $2^k$ words of the next $k$ tokens; `within-class` is
# chapter 05b's target, the belief minus the mean belief of its next-token class — what the
# next token does not reveal (its ceiling is 0 by construction). Knowing only the next token
# explains less than half of the variance of the belief, and about half of the next two or
# three tokens' distribution.
#
# Now the networks. For each architecture we take the top of the stack — the transformer's
# last residual stream `blocks.3.hook_resid_post`, an RNN's top hidden state
# `gru.1.hook_hidden` / `lstm.1.hook_hidden` — trained and freshly initialised, plus the
# input-only baseline of chapter 05 (one-hot token history and position). Each target gets its
# own affine probe on the *same* features, fitted on 80 % of the 436 contexts and scored on
# the other 20 % (chapter 05b's RRXOR convention).

# %%
def representations(proc, data):
    """{label: features (N, L, D)}: each architecture's top layer, trained and untrained."""
    reps = {}
    for arch in ARCHS:
        model = models[proc, arch]
        for label, net in (("trained", model), ("untrained", untrained(model))):
            reps[f"{arch}, {label}"] = probing.collect_activations(float64_copy(net),
                                                                   data.inputs, final_hook(net))
    return reps


r_reps = representations("rrxor", rdata)
r_reps["input only"] = probing.input_only_features(rdata.inputs, 2)
r_scores = {label: {t: probing.evaluate(x, y, rdata.probs, train_fraction=0.8, seed=0
                                        ).held_out.r2 for t, y in r_targets.items()}
            for label, x in r_reps.items()}
r_split = probing.evaluate(r_reps["input only"], rdata.beliefs, rdata.probs, train_fraction=0.8,
                           seed=0)                  # the split every RRXOR probe uses
print(f"{len(rdata)} contexts: fit on {len(r_split.train_idx)}, scored on "
      f"{len(r_split.test_idx)}")
print(f"{'held-out R², fit on 80 %':22s} {'dim':>4s}" + "".join(f"{t:>13s}" for t in r_targets))
for label, x in r_reps.items():           # untrained rows to 2 decimals: see below
    digits = 2 if "untrained" in label else 3
    print(f"{label:22s} {x.shape[-1]:4d}" + "".join(
        f"{r_scores[label][t]:{13 - 3 + digits}.{digits}f}{' ' * (3 - digits)}"
        for t in r_targets))
print(f"{'next-token ceiling':22s} {'':4s}"
      + "".join(f"{round(r_ceiling[t], 3) + 0.0:13.3f}" for t in r_targets))


def condition_number(x, rows):
    """Largest over smallest singular value of the centred features of the fit set."""
    flat = x[rows].reshape(-1, x.shape[-1]).astype(np.float64)
    sv = np.linalg.svd(flat - flat.mean(0), compute_uv=False)
    return sv[0] / sv[-1]


print("condition number of the fit set's features: " + ", ".join(
    f"{label} {condition_number(x, r_split.train_idx):.0e}" for label, x in r_reps.items()
    if label != "input only"))

# %%
fig, ax = plt.subplots(figsize=(9, 4.4))
names = list(r_targets)
for k, arch in enumerate(ARCHS):
    ax.plot(names, [r_scores[f"{arch}, trained"][t] for t in names], "o-", color=f"C{k}",
            label=f"{arch}, trained")
    ax.plot(names, [r_scores[f"{arch}, untrained"][t] for t in names], ":", color=f"C{k}",
            alpha=0.7, label=f"{arch}, untrained")
ax.plot(names, [r_scores["input only"][t] for t in names], "s--", color="0.5", label="input only")
ax.plot(names, [r_ceiling[t] for t in names], "k_", ms=26, mew=2.5,
        label="next-token ceiling")
ax.set_xticks(range(len(names)), [f"{t}\nceiling {round(r_ceiling[t], 3) + 0.0:.3f}"
                                  for t in names], fontsize=9)
ax.set_ylabel("held-out R² (fit on 80 %)")
ax.set_ylim(-0.1, 1.02)
ax.legend(frameon=False, fontsize=9, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.2))
ax.set_title("RRXOR: what the top layer holds, target by target", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read each column against the ceiling row and against the untrained rows. On the belief,
# the trained transformer's top layer scores 0.755 held out, where nothing that knows only
# the next token can exceed 0.467; the GRU reaches 0.991 and the LSTM 0.992. On the
# within-class part, whose ceiling is 0, they score 0.607 (transformer), 0.980 (GRU) and
# 0.984 (LSTM).
#
# Beating the ceiling alone proves little, as warned above: random features clear it too.
# The untrained GRU and LSTM score 0.59 and 0.60 on the next two tokens (ceiling 0.504) and
# 0.57 on the next three (0.460), reach the ceiling on the belief (0.47 against 0.467), and on
# the within-class part every untrained network (0.33 to 0.46) and the input-only baseline
# (0.273) are above its ceiling of 0: the current token and the position are not functions
# of the next-token distribution. The evidence is the gap between trained and untrained:
# within-class 0.980 against 0.46 for the GRU, 0.984 against 0.45 for the LSTM, 0.607
# against 0.33 for the transformer, and similar gaps on the belief. (The untrained rows are
# printed to two decimals: the untrained GRU's and LSTM's features are nearly collinear —
# condition numbers 9e+07 and 4e+07, against 2e+02 to 1e+03 for the others — and the
# least-squares fit then moves their scores in the fourth decimal from one BLAS library to
# another.) So
# the answer to "does the network store more than the next token needs?" is yes, for every
# architecture, held out, with the same features for every target; the transformer's top
# layer much less so than the recurrent states.
#
# Two cautions. The ceiling is a population number (the class means are the best possible
# predictor, computed on all points), while the networks' scores are held out, which
# typically lowers them; the comparison is conservative. (These held-out numbers rest on 88
# test contexts and one split; section 2 shows how little they move across three splits.)
# And "holds more than the next token" is not "holds the whole belief": the transformer's
# top layer leaves a quarter of the belief's variance unexplained (chapter 05b found the rest
# spread over earlier layers).
#
# ### The distance test, with its ceiling
#
# The paper's Fig. 7D makes the same point with distances: over pairs of points, the
# distance between the network's representations should track the distance between their
# beliefs better than the distance between their next-token distributions. Its numbers
# (0.95 against belief distance, 0.31 against next-token distance) are squared Pearson
# correlations $r^2$ over pairs of *probe outputs*, where the probe reads all 12 residual-stream
# hooks concatenated (1,536 dimensions) and is fitted and scored on the same points (the
# authors' `Figure7.ipynb`). We write $r^2$ here, to keep it apart from the course's R². Two
# things are missing to read them: held-out points, and the ceiling — how well belief distances
# can be tracked by anything that knows only the next token.
#
# The ceiling, exactly. Over all ordered pairs $(i, j)$, $i \ne j$, of the 4,360 points (the
# test samples such pairs uniformly), let $d_B$ be the belief distance. A representation that
# is a function of the next-token distribution gives the same distance to every pair with
# the same *pair* of next-token distributions $\{P_i, P_j\}$, so the $r^2$ of a straight line
# from $d_B$ to its distances is at most the squared correlation of $d_B$ with *some*
# function of that pair, which is at most the correlation ratio (usually written $\eta^2$; we
# write $\kappa^2$, since $\eta$ is the belief)
#
# $$
# \kappa^2 = \frac{\operatorname{Var}\big(\mathbb E[d_B \mid \{P_i, P_j\}]\big)}
#                 {\operatorname{Var}(d_B)} ,
# $$
#
# the fraction of the variance of belief distances that the next-token pair explains
# (`probing.futures.next_token_distance_ceiling`, computed over all pairs at once from the 35
# distinct beliefs and their counts). A second reference number is the $r^2$ between belief
# distances and next-token distances themselves (`isometric` below): it is what a *perfect*
# belief representation scores in the test's other column, against next-token distances. The
# paper's 0.31 is a network's score in that column, so it is to be read against this number.

# %%
ceil = futures.next_token_distance_ceiling(rdata.beliefs, rdata.next_token_probs)
print(f"RRXOR, all {ceil.n_points:,} points ({ceil.n_beliefs} beliefs, {ceil.n_classes} "
      f"next-token classes), every ordered pair of distinct points:\n"
      f"  distances equal to the next-token distances:   r² {ceil.isometric:.3f}\n"
      f"  any function of the next-token distribution:   r² {ceil.any_function:.3f} "
      "(the ceiling)")
print(f"\n{'distance test, 200,000 pairs':24s} {'raw activations':>24s} "
      f"{'probe output, held out':>26s}")
print(f"{'':24s} {'r² belief':>12s}{'r² next':>12s} {'r² belief':>13s}{'r² next':>13s}")
distance = {}
for label, x in r_reps.items():
    raw = probing.belief_distance_test(x, rdata.beliefs, rdata.next_token_probs, seed=0)
    res = probing.evaluate(x, rdata.beliefs, rdata.probs, train_fraction=0.8, seed=0)
    held = res.test_idx
    out = probing.belief_distance_test(res.predictions[held], rdata.beliefs[held],
                                       rdata.next_token_probs[held], seed=0)
    distance[label] = (raw, out)
    print(f"{label:24s} {raw.r2_belief:12.3f}{raw.r2_next_token:12.3f} "
          f"{out.r2_belief:13.3f}{out.r2_next_token:13.3f}")

# %% [markdown]
# Two reference numbers, for two columns. Against belief distances, nothing that knows only
# the next token can score above the ceiling 0.450. Against next-token distances, a perfect
# belief representation scores 0.285; the paper's 0.31 is close to it. Now the networks:
#
# * **Probe outputs, held out** (the paper's way, but on points the probe never saw, and from
#   the top layer only, not the paper's 12 hooks concatenated — two reasons for the gap
#   between our 0.597 and the paper's 0.95): the transformer's 0.597, the GRU's 0.981 and the
#   LSTM's 0.984 all beat 0.450, and the untrained networks (0.19 to 0.35) and the input-only
#   baseline (0.08) do not. Against next-token distances the GRU (0.278) and the LSTM (0.277)
#   stay near the 0.285 of a perfect belief representation; the transformer's probe output
#   (0.470) leans towards next-token distances, as its lower belief score suggests.
# * **Raw activations** (no probe at all, so nothing was fitted to the beliefs): no network's
#   raw distances track belief distances well ($r^2$ 0.27 to 0.35, all below the ceiling), and
#   the transformer's raw top layer tracks *next-token* distances better (0.561) than belief
#   distances (0.277). Its residual stream is not an isometric copy of the belief simplex: the
#   belief is there as a linear *image*, among directions of larger variance that carry the
#   next token. The distance test on raw activations asks for more than linear readability,
#   and none of these networks passes it.
#
# **What the distance test cannot tell apart.** The ceiling 0.450 is for a representation that
# holds the next token and nothing more. The same two computations with the distribution of
# the next $k$ tokens in place of the next token's give the ceilings of a $k$-token
# look-ahead: the $r^2$ of its own distances against belief distances, and the most any
# function of it can reach.

# %%
print(f"{'a representation holding only':36s} {'its own distances':>18s} {'any function':>13s}")
k_ceiling = {}
for k in (1, 2, 3, 4):
    k_ceiling[k] = futures.next_token_distance_ceiling(
        rdata.beliefs, futures.future_distributions(rrxor, rdata.beliefs, k))
    print(f"{f'the next {k} tokens distribution':36s} {k_ceiling[k].isometric:18.3f} "
          f"{k_ceiling[k].any_function:13.3f}")
print("measured, probe outputs held out, r² against belief distances: " + ", ".join(
    f"{arch} {distance[f'{arch}, trained'][1].r2_belief:.3f}" for arch in ARCHS))

# %% [markdown]
# Distances between the distributions of the next two and three tokens already explain
# $r^2$ 0.705 and 0.908 of the variance of belief distances, and some function of the next
# three tokens' distribution explains all of it (1.000; on RRXOR the next three tokens'
# distribution fixes the belief). The GRU's 0.981 and the LSTM's 0.984 are above what a
# next-token representation allows, and above the plain distances of a three-token
# look-ahead, but below what a three-token look-ahead allows. So the distance test can say
# "more than the next token"; it cannot tell "the whole future" from "the next three tokens".
# Section 3 comes back to this with an intervention.
#
# ## 2. Beyond transformers
#
# A recurrent network reads one token at a time and carries a state $h_t$ from one token to
# the next: $h_t = f(h_{t-1}, x_t)$. The course's GRU and LSTM (`beliefcourse.model`) stack two
# such layers on a token embedding and read the prediction from the top layer's state
# through a LayerNorm and a linear unembedding, exactly like the transformer's end. One GRU
# step (`torch.nn.GRU`; exercise 6.4 writes it) is
#
# $$
# \begin{aligned}
# r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \quad
# z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}), \\
# n &= \tanh\big(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\big), \quad
# h' = (1 - z) \odot n + z \odot h ,
# \end{aligned}
# $$
#
# and an LSTM carries a second vector, the cell state $c$, beside $h$ (Hochreiter &
# Schmidhuber 1997). There is a structural reason to expect beliefs here: an optimal
# recurrent predictor must carry, in its state, a sufficient statistic of the past for the
# *whole* future, and the belief is the minimal one (chapter 02). The transformer has no such
# constraint at its top layer: it recomputes from the context at every position, and its last
# layer is read only by the unembedding. Whether the statistic is *linearly* readable is the
# empirical question.
#
# Mess3 first, with chapter 05's protocol on a random 8,000 of the 59,049 contexts: fit on
# 20 %, score on the rest, the same split for every row.

# %%
rng = np.random.default_rng(0)
subset = np.sort(rng.choice(len(mdata), size=8_000, replace=False))
m_in, m_b, m_p = mdata.inputs[subset], mdata.beliefs[subset], mdata.probs[subset]
m_acts = {}                       # (arch, "trained" | "untrained") -> {hook: features}
for arch in ARCHS:
    for net_label, net in (("trained", models["mess3", arch]),
                           ("untrained", untrained(models["mess3", arch]))):
        hooks = steering.steerable_hooks(net)
        x = probing.collect_activations(net, m_in, hooks)
        width = x.shape[-1] // len(hooks)
        m_acts[arch, net_label] = {h: x[..., k * width:(k + 1) * width]
                                   for k, h in enumerate(hooks)}
m_res = {f"{arch}, {net}": probing.evaluate(m_acts[arch, net][final_hook(models["mess3", arch])],
                                            m_b, m_p, train_fraction=0.2, seed=0)
         for arch in ARCHS for net in ("trained", "untrained")}
m_res["input only"] = probing.evaluate(probing.input_only_features(m_in, 3), m_b, m_p,
                                       train_fraction=0.2, seed=0)
print(f"Mess3, {len(subset):,} contexts; held-out, fit on 20 %")
print(f"{'representation':22s} {'dim':>4s} {'MSE':>9s} {'R²':>8s} {'R² (prob.-weighted)':>20s}")
for label, res in m_res.items():
    s = res.held_out
    print(f"{label:22s} {res.n_features:4d} {s.mse:9.2e} {s.r2:8.4f} {s.r2_weighted:20.4f}")
print("training divided the held-out MSE by: " + ", ".join(
    f"{arch} {m_res[f'{arch}, untrained'].held_out.mse / m_res[f'{arch}, trained'].held_out.mse:.0f}"
    for arch in ARCHS))

# %% [markdown]
# Section 1's negative control, measured. On Mess3 the same top layers (and their untrained
# twins, and the input-only baseline) are probed for the belief, the next-token distribution
# and the next $k$ tokens' distribution, with the same split; below them, the next-token
# ceiling of each target on these points.

# %%
m_future = {"belief": m_b, **{f"next {k}": futures.future_distributions(mess3, m_b, k)
                              for k in (1, 2, 3, 4)}}
m_reps = {f"{arch}, {net}": m_acts[arch, net][final_hook(models["mess3", arch])]
          for arch in ARCHS for net in ("trained", "untrained")}
m_reps["input only"] = probing.input_only_features(m_in, 3)
print(f"{'Mess3 held-out R², fit on 20 %':30s}" + "".join(f"{t:>10s}" for t in m_future))
for label, x in m_reps.items():
    print(f"{label:30s}" + "".join(
        f"{probing.evaluate(x, y, m_p, train_fraction=0.2, seed=0).held_out.r2:10.4f}"
        for y in m_future.values()))
m_sub_classes = m_classes[subset]
m_ceiling = {t: futures.class_ceiling(y, m_sub_classes) for t, y in m_future.items()}
print(f"{'next-token ceiling':30s}" + "".join(f"{c:10.6f}" for c in m_ceiling.values()))
print("1 - ceiling below 1e-12 for every target (rounding only):",
      all(1 - c < 1e-12 for c in m_ceiling.values()))
print(f"these {m_b.shape[0] * m_b.shape[1]:,} points: "
      f"{len(np.unique(m_b.reshape(-1, 3).round(6), axis=0)):,} distinct beliefs, "
      f"{len(np.unique(m_sub_classes)):,} next-token classes (both rounded to 6 decimals); "
      f"largest coordinate difference between a belief and its class mean "
      f"{np.abs(futures.within_class(m_b, m_sub_classes)).max():.1e}")

# %%
fig, axes = plt.subplots(1, 4, figsize=(12.5, 3.5))
test = m_res["transformer, trained"].test_idx           # the same held-out 80 % for every row
colors = plotting.belief_colors(m_b[test].reshape(-1, 3))
for ax, label in zip(axes, ["transformer, trained", "GRU, trained", "LSTM, trained",
                            "GRU, untrained"]):
    plotting.plot_simplex(m_res[label].predictions[test].reshape(-1, 3), colors=colors, ax=ax,
                          s=0.15, title=f"{label}, held-out points\n"
                                        f"held-out MSE {m_res[label].held_out.mse:.1e}")
fig.tight_layout()
plt.show()

# %% [markdown]
# Every row scores the same on every target to four decimals: with the invertible map
# between belief and next token (and Mess3's symmetry under permuting its states) there is
# nothing for the comparison to find. The next-token ceiling prints as 1 for every target,
# and 1 minus it is 2e-15. It is not exactly 1 by counting: rounded to 6 decimals, the
# 80,000 points have 22,847 distinct beliefs but 22,797 next-token classes (87,621 and
# 87,306 over all contexts, section 1), because the map from belief to next-token
# distribution shrinks distances and so merges some beliefs that differ in the sixth
# decimal. Within a class a belief's coordinates differ from the class mean by at most
# 1.0e-06, which leaves the ceiling at 1 to rounding error. RRXOR was the test; this is the
# check that the test is not built to find differences everywhere.
#
# Both recurrent networks carry Mess3's belief, held out, far better than the input-only
# baseline. But look at their untrained twins: an untrained GRU's top state already gives R²
# 0.984 (MSE 1.78e-03), against 0.853 for the untrained transformer. A random recurrent network
# is an echo-state *reservoir* (Jaeger 2001): a contracting random function of the whole
# history, in which any fading-memory function of the past — and Mess3's belief forgets its
# past geometrically (chapter 05b, section 5) — is nearly linear. Training divides the
# held-out MSE by 3 (GRU) and 2 (LSTM), the transformer's by 80. So the trained GRU's
# picture says little on its own: compare it with the rightmost panel, its untrained twin.
# For an RNN the controls carry the argument, and the transformer's trained stream is still
# the most precise. (The panels show only the held-out points, the 80 % the probe did not
# see.)
#
# ### RRXOR: does the state keep beliefs apart that predict the same next token?
#
# Chapter 05b measured the *within-class* part of RRXOR's belief — what distinguishes beliefs
# that share a next-token distribution — in the transformer, held out. The recurrent argument
# above says an optimal RNN must keep those beliefs apart in its state: two of them predict
# the same next token but different futures, and the state is all that reaches the future.
# The transformer's top layer is under no such obligation. Per architecture, trained and
# untrained, fit on 80 %: the top layer, and for the RNNs the *whole* carried state (both
# layers' $h$, and for the LSTM both layers' $c$ too).

# %%
def carried_state(model):
    """Every hook an RNN carries to the next token (its h, and an LSTM's c), all layers."""
    return [h for h in model.hook_names if h.startswith(("gru.", "lstm."))]


within = {}
print(f"{'within-class R², held out (fit on 80 %)':44s} {'trained':>8s} {'untrained':>10s}")
for arch in ARCHS:
    model = models["rrxor", arch]
    sets = [("top layer", [final_hook(model)])]
    if arch == "transformer":
        sets.append(("all four layers", steering.steerable_hooks(model)))
    else:
        sets.append(("whole carried state", carried_state(model)))
    for label, hooks in sets:
        row = []
        for net in (model, untrained(model)):
            x = probing.collect_activations(float64_copy(net), rdata.inputs, hooks)
            row.append(probing.evaluate(x, r_targets["within-class"], rdata.probs,
                                        train_fraction=0.8, seed=0).held_out.r2)
        within[arch, label] = row
        print(f"{f'{arch}, {label} ({x.shape[-1]})':44s} {row[0]:8.3f} {row[1]:9.2f}")

# %% [markdown]
# These held-out scores rest on one split of 436 contexts (88 held out). Three splits show
# how much they move, for the trained top layers (split 0 is the one used everywhere above):

# %%
print(f"{'held-out R², top layer, splits 0, 1, 2':40s}{'belief':>21s}{'within-class':>21s}")
for arch in ARCHS:
    x = r_reps[f"{arch}, trained"]
    cols = [[probing.evaluate(x, r_targets[t], rdata.probs, train_fraction=0.8, seed=seed
                              ).held_out.r2 for seed in (0, 1, 2)]
            for t in ("belief", "within-class")]
    print(f"{arch + ', trained':40s}" + "".join(f"{'  '.join(f'{v:.3f}' for v in c):>21s}"
                                               for c in cols))

# %% [markdown]
# The recurrent prediction holds. The GRU's top state separates beliefs that share a
# next-token distribution almost perfectly (0.980, and 0.991 for its whole carried state),
# the LSTM too (0.984 at the top, 0.996 with both layers and the cell states). The
# transformer's top layer, under no obligation to carry anything forward, scores 0.607; all
# four of its layers together, the fairer match for an RNN's whole carried state, reach
# 0.839, still below either RNN's top layer alone, with more features (512). Every trained
# network is far above its untrained twin, and the untrained numbers are not small (0.33 to
# 0.57): what the current token and position already give, as in chapter 05. Across the
# three splits the transformer's top-layer scores move by at most 0.013 (within-class 0.607
# to 0.620) and the recurrent networks' by at most 0.001, far less than the gaps between
# architectures.
#
# ### Emergence, side by side
#
# Each run saved log-spaced checkpoints from the untrained network to the end. For each we
# probe the top layer on 3,000 of the 8,000 Mess3 contexts above, drawn at random with a
# fixed seed, the same for every checkpoint (fit on 20 %). Chapter 03's
# information dimension of the probed points (in the plane of the simplex) comes from the
# same fits; section 4 reads it.

# %%
em = np.sort(np.random.default_rng(1).choice(subset, size=3_000, replace=False))
em_in, em_b, em_p = mdata.inputs[em], mdata.beliefs[em], mdata.probs[em]


def dimension(points):
    """Chapter 03's information dimension of 3-vectors placed in the simplex's plane."""
    return information.information_dimension(plotting.simplex_coordinates(points.reshape(-1, 3)))


emergence = {}
for arch in ARCHS:
    rows = []
    for n_tokens in checkpoints.tokens(NAMES["mess3", arch]):
        model, rec = checkpoints.load(NAMES["mess3", arch], n_tokens)
        res = probing.evaluate(probing.collect_activations(model, em_in, final_hook(model)),
                               em_b, em_p, train_fraction=0.2, seed=0)
        rows.append((n_tokens, rec["relative_loss"], res.held_out.mse,
                     dimension(res.predictions).slope))
    emergence[arch] = np.array(rows)
    print(f"{arch:11s} held-out MSE by tokens seen: "
          + ", ".join(f"{int(t):,}: {m:.1e}" for t, _, m, _ in rows))
em_input = probing.evaluate(probing.input_only_features(em_in, 3), em_b, em_p,
                            train_fraction=0.2, seed=0).held_out.mse
print(f"input only: {em_input:.1e}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.9))
for k, arch in enumerate(ARCHS):
    e = emergence[arch]
    axes[0].loglog(e[1:, 0], e[1:, 2], "o-", color=f"C{k}", label=arch)
    axes[0].axhline(e[0, 2], color=f"C{k}", ls=":", lw=1)
    axes[1].loglog(e[1:, 1] - 1, e[1:, 2], "o-", color=f"C{k}", label=arch)
axes[0].axhline(em_input, color="0.5", ls="--", label="input only")
axes[0].set_xlabel("training tokens (dotted: each untrained network)")
axes[0].set_ylabel("held-out probe MSE")
axes[0].legend(frameon=False, fontsize=9)
axes[1].set_xlabel("relative loss - 1")
axes[1].set_ylabel("held-out probe MSE")
axes[1].set_title("same loss, same geometry?", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The untrained networks start at very different places (dotted lines): the recurrent ones
# below the input-only baseline before any training (1.8e-03 and 2.7e-03 against 6.2e-03),
# the transformer far above it (1.5e-02). Training lowers every architecture's error, and in
# each the probe error falls as the loss falls (right). The end points are not a race between
# architectures: the three runs saw different numbers of tokens (the first table: 20,480,000,
# 2,938,880 and 5,120,000) with different numbers of parameters, so their final errors are
# not compared here; `bench/time_to_fractal_rnn.py` (below) races a GRU and a transformer to
# the same targets in one process.
#
# `bench/time_to_fractal_rnn.py` measures the same race with the clock: it trains the GRU and
# the transformer presets side by side in one process, alternating steps, and reports the
# tokens and seconds each needs to reach a held-out probe MSE and relative-loss target (run it
# yourself; timings depend on the machine).
#
# **Training these models yourself.** The shipped checkpoints came from the CLI, which
# records the configuration, seed and command in each checkpoint's JSON:
#
# ```
# python -m beliefcourse train mess3-gru --out runs/mess3-gru
# python -m beliefcourse train mess3-lstm --out runs/mess3-lstm
# python -m beliefcourse train rrxor-gru --out runs/rrxor-gru
# python -m beliefcourse train rrxor-lstm --out runs/rrxor-lstm
# ```
#
# A short live run of the RRXOR GRU, the same preset cut to 307,200 tokens (60 steps):

# %%
live = train(PRESETS["rrxor-gru"].replace(n_tokens=307_200, eval_every=20, n_checkpoints=1),
             progress=False)
for entry in live.history:
    print(f"{entry['tokens']:>8,} tokens: relative loss {entry['relative_loss']:.4f}")

# %% [markdown]
# ## 3. Is the geometry used? Steering
#
# A probe shows that the belief can be *read* from an activation. It does not show that the
# network *reads* it. The test is to intervene: change the activation so that it encodes a
# different belief $\eta'$, run the rest of the network, and see whether the prediction becomes
# the one $\eta'$ makes, $P(x \mid \eta') = \eta' T^{(x)} \mathbf 1$. If the network computes its
# prediction from the belief geometry, it will follow; if the geometry is a by-product that
# the downstream computation ignores, it will not. Neither paper steers: Shai et al. (2024)
# probe, and Piotrowski et al. (2025) explain the attention mechanism. The experiments below
# are the course's; steering Mess3's beliefs in a transformer has been done before by others
# (an ARENA capstone project, danibalcells/belief-state-transformers, 2026, which decodes
# beliefs with an autoencoder). The wrong-target and patching controls below, and the RRXOR
# experiment at the end of the section, were asked for by the course's scientific review;
# both controls are common practice in interpretability.
#
# **Which move?** The probe reads $\hat\eta = W a + c$ with $W$ of shape $(S, D)$. The smallest
# change of $a$ that makes the probe read $\eta'$ is
#
# $$
# \delta_\text{probe} = W^{+} (\eta' - \hat\eta) ,
# $$
#
# with $W^+$ the pseudo-inverse of $W$ *at its true rank* (exercise 6.3). Beliefs sum to one,
# so the probe's columns sum to zero and $W$ has rank $S - 1$: its last singular value is
# rounding noise, about $10^{-15}$ of the first, not 0. `np.linalg.pinv`'s default cut-off
# ($10^{-15}$ of the first) can keep it, and inverting it adds a long component the probe
# cannot see and whose size depends on the CPU's arithmetic. `steering.steering_move`
# computes $W^+$ by a truncated SVD that drops singular values below $10^{-8}$ of the first
# (`steering.probe_pinv`): the move then lies in $W$'s row space, and the probe reads $\eta'$
# exactly.
#
# But a least-squares probe is a *filter*: its weights are chosen to cancel noise, and they
# can be large along directions in which the activations barely vary. Haufe et al. (2014) made
# this point for brain decoding: the weights of a decoder are not where the signal lives. The
# direction in which activations *actually move* when the belief moves is the *pattern*: the
# affine regression of the activations on the beliefs, $a \approx A \eta + a_0$ ($A$ of shape
# $(D, S)$), fitted on the same points. Its move is
#
# $$
# \delta_\text{pattern} = A (\eta' - \eta) .
# $$
#
# Both are tested. The protocol (`steering.steering_experiment`): 300 held-out Mess3 contexts
# $\eta$, each paired with the belief $\eta'$ of another random held-out context; the move is added
# at the last position of one layer, the rest of the model runs on the edited activation, and
# we record $\mathrm{KL}(P(\cdot \mid \eta') \,\Vert\, \text{model})$ in nats. Four controls, each
# able to fail:
#
# * the same network *unsteered* (where the move starts);
# * a *random* direction of the same length as each move;
# * a pattern move of the same length towards a *wrong* target (the belief of a third random
#   held-out context): if any large move along the belief directions lowered the KL, this
#   would do as well as the right one;
# * *activation patching*: the activation is replaced by the one the network itself computes
#   at the same layer and position for the target's context. This is what full control of
#   that one activation looks like, the reference for the moves (patching is the standard
#   causal intervention of interpretability, e.g. Meng et al. 2022, "causal tracing");
#
# and the same recipe in the untrained network, which refits the probe and the pattern on the
# untrained network's own activations (applying the trained network's move there would mean
# nothing): it asks whether *any* network of this architecture, read the same way, follows
# the move. The steered runs are computed in float64 (a copy of each network), so that the
# counts of wins below do not depend on the last bits of the CPU's arithmetic.

# %%
held = m_res["transformer, trained"].test_idx               # the same split for every model
ctx, tgt = rng.choice(held, size=(2, 300))
wrong = rng.choice(held, size=300)                          # a third context: the wrong target
b_ctx, b_tgt, b_wrong = m_b[ctx, -1], m_b[tgt, -1], m_b[wrong, -1]
steer, probe_svd, probe_error = {}, [], []
for (arch, net_label), acts in m_acts.items():
    net = models["mess3", arch] if net_label == "trained" else untrained(models["mess3", arch])
    net64 = float64_copy(net)
    for hook, x in acts.items():
        res = probing.evaluate(x, m_b, m_p, train_fraction=0.2, seed=0)
        W = res.probe.coef_
        probe_svd.append(np.linalg.svd(W, compute_uv=False))
        pattern = probing.AffineProbe().fit(m_b[res.train_idx], x[res.train_idx]).coef_
        right = steering.pattern_move(pattern, b_ctx, b_tgt)
        wrong_move = steering.pattern_move(pattern, b_ctx, b_wrong)
        wrong_move *= (np.linalg.norm(right, axis=1)
                       / np.linalg.norm(wrong_move, axis=1))[:, None]
        moves = {"probe": steering.steering_move(W, res.predictions[ctx, -1], b_tgt),
                 "pattern": right, "wrong": wrong_move,
                 "patch": x[tgt, -1].astype(np.float64) - x[ctx, -1]}
        probe_error.append(np.abs(moves["probe"] @ W.T
                                  - (b_tgt - res.predictions[ctx, -1])).max())
        for how, move in moves.items():
            steer[arch, net_label, hook, how] = steering.steering_experiment(
                net64, mess3, m_in[ctx], b_ctx, b_tgt, hook, move, seed=0)
svd = np.array(probe_svd)
print(f"{len(svd)} probes: second singular value {svd[:, 1].min() / svd[0, 0]:.2f} of the "
      f"first or more; the third below 1e-14 of the first in every probe: "
      f"{bool((svd[:, 2] / svd[:, 0] < 1e-14).all())}")
print(f"after the probe move every probe reads η′ to within 1e-12: "
      f"{bool(max(probe_error) < 1e-12)}\n")
print(f"{'medians over 300 pairs':33s} {'KL(P(.|η′) ‖ model), nats':^62s}  {'‖δ‖ / ‖a‖':^15s}")
print(f"{'':33s} {'unsteered':>9s} {'probe':>7s} {'random':>7s} {'pattern':>8s} {'random':>7s}"
      f" {'wrong':>7s} {'patch':>8s}  {'probe':>7s} {'pattern':>7s}")
for (arch, net_label), acts in m_acts.items():
    for hook in acts:
        p, q, w, c = (steer[arch, net_label, hook, how].medians()
                      for how in ("probe", "pattern", "wrong", "patch"))
        print(f"{arch + ', ' + net_label + ', ' + hook.split('.hook')[0]:33s} "
              f"{p['unsteered']:9.4f} {p['steered']:7.4f} {p['random']:7.4f} "
              f"{q['steered']:8.4f} {q['random']:7.4f} {w['steered']:7.4f} {c['steered']:8.1e}"
              f"  {p['move_norm'] / p['activation_norm']:7.3f} "
              f"{q['move_norm'] / q['activation_norm']:7.3f}")

# %% [markdown]
# The distribution over pairs, at the top layer of each trained network (and the
# transformer's untrained twin):

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 4.0), sharey=True)
panels = [(arch, "trained") for arch in ARCHS] + [("transformer", "untrained")]
for ax, (arch, net_label) in zip(axes, panels):
    hook = final_hook(models["mess3", arch])
    runs = {how: steer[arch, net_label, hook, how] for how in ("probe", "pattern", "wrong",
                                                                 "patch")}
    for values, label, style in [(runs["probe"].unsteered, "unsteered", "k-"),
                                 (runs["probe"].steered, "probe move", "C0-"),
                                 (runs["probe"].random, "random, probe's length", "C0:"),
                                 (runs["pattern"].steered, "pattern move", "C3-"),
                                 (runs["pattern"].random, "random, pattern's length", "C3:"),
                                 (runs["wrong"].steered, "pattern, wrong target", "C1--"),
                                 (runs["patch"].steered, "patched (full control)", "C2-")]:
        ax.plot(np.sort(values), np.linspace(0, 1, len(values)), style, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("KL(P(.|η′) ‖ model), nats")
    ax.set_title(f"{arch}, {net_label}", fontsize=10)
axes[0].set_ylabel("fraction of pairs")
fig.legend(*axes[0].get_legend_handles_labels(), frameon=False, fontsize=10, ncol=4,
           loc="lower center")
fig.tight_layout(rect=(0, 0.16, 1, 1))
plt.show()

# %% [markdown]
# And at every layer of each trained network: the pattern's move (solid) and the probe's
# (dashed), one colour per layer, beside the unsteered network (black):

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 4.6), sharey=True)
for ax, arch in zip(axes, ARCHS):
    hooks = list(m_acts[arch, "trained"])
    for k, hook in enumerate(hooks):
        layer = hook.split(".hook")[0]
        for how, style in (("pattern", "-"), ("probe", "--")):
            values = steer[arch, "trained", hook, how].steered
            ax.plot(np.sort(values), np.linspace(0, 1, len(values)), style, color=f"C{k}",
                    label=f"{layer}, {how}")
    unsteered = steer[arch, "trained", hooks[0], "pattern"].unsteered
    ax.plot(np.sort(unsteered), np.linspace(0, 1, len(unsteered)), "k-", label="unsteered")
    ax.set_xscale("log")
    ax.set_xlabel("KL(P(.|η′) ‖ model), nats")
    ax.set_title(f"{arch}, trained, every layer", fontsize=10)
    ax.legend(frameon=False, fontsize=8, ncol=2, loc="upper center",
              bbox_to_anchor=(0.5, -0.2))
axes[0].set_ylabel("fraction of pairs")
fig.tight_layout()
plt.show()

# %% [markdown]
# Beating chance, pair by pair. If a move were no better than its control, it would win each
# pair with probability 1/2; the one-sided sign test (exercise 6.5) gives the p-value of the
# observed wins (ties, which do not occur here, would be dropped). Three comparisons at every
# layer: the probe's move against a random move of its length, the pattern's move against a
# random move of its length, and the pattern's move against the same-length move towards the
# wrong target; and the median of the ratio control KL / steered KL for the probe's move:

# %%
def sign_test(steered, control):
    """Wins of steering over its control (smaller KL), and the one-sided sign-test p."""
    wins, n = int((steered < control).sum()), int((steered != control).sum())
    return wins, binomtest(wins, n, 0.5, alternative="greater").pvalue


print(f"{'300 pairs':33s} {'probe vs random':>26s} {'pattern vs random':>20s} "
      f"{'pattern vs wrong':>20s}")
print(f"{'':33s} {'wins':>5s} {'p':>8s} {'ratio':>6s}    {'wins':>5s} {'p':>8s}     "
      f"{'wins':>5s} {'p':>8s}")
sign = {}
for (arch, net_label), acts in m_acts.items():
    for hook in acts:
        p, q, w = (steer[arch, net_label, hook, how] for how in ("probe", "pattern", "wrong"))
        sign[arch, net_label, hook] = row = (sign_test(p.steered, p.random),
                                             sign_test(q.steered, q.random),
                                             sign_test(q.steered, w.steered))
        print(f"{arch + ', ' + net_label + ', ' + hook.split('.hook')[0]:33s} "
              f"{row[0][0]:5d} {row[0][1]:8.0e} {np.median(p.random / p.steered):6.2f}    "
              f"{row[1][0]:5d} {row[1][1]:8.0e}     {row[2][0]:5d} {row[2][1]:8.0e}")

# %% [markdown]
# What the tables say, move by move.
#
# * **The probe's move works a little, in the trained transformer only.** With the rank-2
#   pseudo-inverse the probe reads $\eta'$ exactly after the move (first lines above), and the
#   move is short: 0.13 to 0.15 of the activation's norm. In the trained transformer it beats a
#   random move of the same length at every layer, in 231 to 296 of 300 pairs (p from 7e-22
#   to 2e-82), but the effect is small: the median KL goes from 0.2820 to 0.2058 at the top
#   layer and 0.2635 at the bottom, and the random move's KL is only 1.03 to 1.35 times the
#   steered one. The untrained transformer does not follow it (134 to 153 wins, p ≥ 0.4). In
#   the recurrent networks the probe's move is tiny (0.005 to 0.008 of the norm) and changes
#   the KL in the third or fourth decimal; its wins there (144 to 236) measure consistency, not
#   size. The probe's weights are a filter: a move that makes the probe read $\eta'$ is not a
#   move that makes the network hold $\eta'$.
# * **The pattern's move works, and it is large.** In every trained network, at every layer,
#   moving by $A (\eta' - \eta)$ takes the median KL from 0.28–0.30 nats (unsteered) to 0.0033 to
#   0.0114, and wins against the random move of the same length in 290 to 299 of 300 pairs.
#   The untrained networks' predictions do not follow (transformer 0.72 to 0.75 against 0.7750
#   unsteered; GRU 0.4243 and 0.4274 against 0.4162; LSTM 0.9655 and 0.9556 against 0.9621).
#   But the move is 0.55 to 0.81 of the activation's own norm: at the top layer, right before
#   the final LayerNorm and the unembedding, replacing much of the activation by the typical
#   activation of contexts whose belief is $\eta'$ is close to tautological. The earlier layers,
#   where the rest of the network still has to process the edited activation, are the
#   informative ones: `blocks.0` to `blocks.2` (0.0037 to 0.0061), `gru.0` (0.0086) and
#   `lstm.0` (0.0114).
# * **Direction, not size.** The move of the same length towards the wrong target leaves the
#   KL to $\eta'$ at 0.12 to 0.15, and the right target wins against it in 264 to 278 of 300
#   pairs in every trained network: the prediction goes where the move points in belief space,
#   not merely somewhere new.
# * **Against full control.** Patching in the target context's own activation brings the
#   transformer's top layer to a KL of 2.7e-05 and its first layer to 1.8e-03 (the other
#   positions still hold the first context, which the layers above read through attention);
#   the recurrent networks' top states to 2.9e-04 (GRU) and 4.6e-04 (LSTM), their first
#   layers to 2.3e-02 and 2.0e-02 (the second layer's state still holds the first context).
#   At the first layer the pattern's move, built from the three coordinates of a belief, does
#   about as well as full control: the transformer's 0.0061 against 1.8e-03, and in the
#   recurrent networks better than patching (0.0086 and 0.0114 against 2.3e-02 and 2.0e-02),
#   since it changes only the belief's directions, not everything else that distinguishes the
#   target's context.
#
# So the trained networks follow their belief geometry when it is moved along the directions
# it occupies, and they follow the *target*. But on Mess3 this cannot say whether the network
# uses the belief or only its next-token prediction: the two determine each other linearly,
# and the outcome measured is the next token. The last experiment of this section asks that
# question where it can be answered.
#
# **Try it.** Choose a target belief with the sliders (the widget calls it b′, our
# $\eta'$; the third coordinate is $1 - a - b$) and a context; the widget moves the
# transformer's final residual stream by the pattern's (or the probe's) move and shows the
# model's prediction beside the one Bayes' rule gives at $\eta'$. The figure under it is the
# widget's starting view, for readers without a running kernel. The widget refits the probe
# and the pattern on the same split as the table above (`train_fraction=0.2, seed=0`), so
# its moves are the table's moves.

# %%
top = final_hook(models["mess3", "transformer"])
top_res = probing.evaluate(m_acts["transformer", "trained"][top], m_b, m_p,
                           train_fraction=0.2, seed=0)
top_pattern = probing.AffineProbe().fit(m_b[top_res.train_idx],
                                        m_acts["transformer", "trained"][top][top_res.train_idx]
                                        ).coef_
widget = steering_widget(models["mess3", "transformer"], mess3, top, m_in[held[:40]],
                         m_b[held[:40], -1], top_res.probe, top_pattern,
                         background=m_b[:, -1])

# %% tags=["nbval-ignore-output"]
widget

# %%
fig = plt.figure(figsize=(9.3, 4.3))
ax = fig.add_axes((0, 0, 1, 0.93))
ax.imshow(plt.imread(io.BytesIO(widget.image.value)))
ax.axis("off")
ax.set_title(widget.status.value, fontsize=10)
plt.show()

# %% [markdown]
# ### Beyond the next token: steering RRXOR's future
#
# On Mess3 the belief and the next-token distribution determine each other linearly
# (section 1), and the outcome measured above is the next token: a network that held and
# used only its next-token prediction would pass every test so far. RRXOR can tell the two
# apart (this experiment was proposed by the course's scientific review). Take two contexts
# whose beliefs $\eta$ and $\eta'$ differ but predict the same next token. Move the first
# context's state towards $\eta'$, then let the model read on. If the network uses only what
# the next token needs, nothing should change. If it uses the belief, the prediction of the
# next token must *not* move (both beliefs agree on it), while its predictions two and three
# tokens ahead must move towards $\eta'$'s.
#
# The protocol. Contexts are the first 8 tokens of RRXOR's held-out contexts (the 88 of the
# 80/20 split of section 1); the move is made at position 7, the last one, at one layer; then
# every continuation of two tokens is appended and the model's predictions along it give its
# distribution of the next 1, 2 and 3 tokens (`steering.steered_futures`). In a recurrent
# network the moved state is *carried*: the layer's recurrence continues from it
# (`steering.run_with_state_move`; for the LSTM the layer's state is its $h$ and $c$ together).
# In a transformer the later positions can read the moved position only through attention in
# the layers above. Pairs: 200 drawn at random from the ordered pairs of held-out contexts
# whose beliefs at position 7 differ but share a next-token distribution
# (`steering.within_class_pairs`). Moves: the pattern's (fitted on the 80 %), a random move of
# the same length, and patching the layer's state from the target's context. We score each by
# the total-variation distance $\tfrac12 \sum_w |q(w) - P(w \mid \eta')|$ between the model's
# distribution of the next $k$ tokens and the one $\eta'$ gives: 0 means the prediction is
# exactly $\eta'$'s. Only the trained networks are run (the question is what a good predictor
# does with its state); the random move of the same length is the control, and patching the
# reference for full control of that state.

# %%
P_STEER = 7                                                  # steer after 8 tokens
r_fit, r_test = r_split.train_idx, r_split.test_idx
r_b = rdata.beliefs[r_test, P_STEER]
r_cls, _ = futures.next_token_classes(rdata.next_token_probs[r_test, P_STEER])
pairs = steering.within_class_pairs(r_b, r_cls, 200, seed=0)
i_ctx, i_tgt = r_test[pairs[:, 0]], r_test[pairs[:, 1]]
b_i, b_j = rdata.beliefs[i_ctx, P_STEER], rdata.beliefs[i_tgt, P_STEER]
prefix = rdata.inputs[i_ctx, :P_STEER + 1]
exact = {k: (futures.future_distributions(rrxor, b_i, k),
             futures.future_distributions(rrxor, b_j, k)) for k in (1, 2, 3)}


def tv_to_target(q, k):
    """Total-variation distance from the model's next-k-token distribution to eta′'s."""
    return 0.5 * np.abs(q - exact[k][1]).sum(-1)


eligible = int(((r_cls[:, None] == r_cls[None, :])
                & (np.abs(r_b[:, None] - r_b[None, :]).max(-1) > 1e-6)).sum())
n_belief_pairs = len(np.unique(np.concatenate([b_i, b_j], 1).round(6), axis=0))
print(f"{len(r_test)} held-out contexts; {len(pairs)} pairs drawn from {eligible:,} eligible "
      f"ordered pairs ({n_belief_pairs} distinct pairs of beliefs among the 200)")
gap = {k: np.median(0.5 * np.abs(exact[k][0] - exact[k][1]).sum(-1)) for k in (1, 2, 3)}
print("exact distance between the two beliefs' predictions (median TV): "
      + ", ".join(f"next {k} token{'s' * (k > 1)} {gap[k]:.2f}" for k in (1, 2, 3)))


def layer_states(model):
    """One entry per layer: the hooks that make up its state (an LSTM's h and c)."""
    return [[h, h.replace("hidden", "cell")] if h.startswith("lstm.") else [h]
            for h in steering.steerable_hooks(model)]


future_steer = {}
for arch in ARCHS:
    model = models["rrxor", arch]
    net64 = float64_copy(model)
    for hooks in layer_states(model):
        x = probing.collect_activations(net64, rdata.inputs, hooks).astype(np.float64)
        pattern = probing.AffineProbe().fit(rdata.beliefs[r_fit], x[r_fit]).coef_
        right = steering.pattern_move(pattern, b_i, b_j)
        random_move = np.random.default_rng(0).standard_normal(right.shape)
        random_move *= (np.linalg.norm(right, axis=1)
                        / np.linalg.norm(random_move, axis=1))[:, None]
        moves = {"unsteered": np.zeros_like(right), "pattern": right, "random": random_move,
                 "patch": x[i_tgt, P_STEER] - x[i_ctx, P_STEER]}
        layer = hooks[0].split(".hook")[0]
        for how, move in moves.items():
            q = steering.steered_futures(net64, prefix, hooks, move, 3)
            future_steer[arch, layer, how] = np.stack([tv_to_target(q[k - 1], k)
                                                       for k in (1, 2, 3)])
        future_steer[arch, layer, "length"] = np.median(
            np.linalg.norm(right, axis=1) / np.linalg.norm(x[i_ctx, P_STEER], axis=1))

print(f"\n{'median TV to η′ over 200 pairs':26s} {'‖δ‖/‖a‖':>8s} "
      + "".join(f"{how:>17s}" for how in ("unsteered", "pattern", "random", "patch")))
print(f"{'next 1 | 2 | 3 tokens':26s} {'':8s}" + "   1    2    3   " * 4)
for arch in ARCHS:
    for hooks in layer_states(models["rrxor", arch]):
        layer = hooks[0].split(".hook")[0]
        print(f"{arch + ', ' + layer:26s} {future_steer[arch, layer, 'length']:8.2f}" + "".join(
            " " + " ".join(f"{np.median(v):4.2f}" for v in future_steer[arch, layer, how]) + "  "
            for how in ("unsteered", "pattern", "random", "patch")))

# %% [markdown]
# Wins, pair by pair: does the pattern's move bring the two- and three-token predictions
# closer to $\eta'$'s than a random move of the same length? (A pair's belief pair can recur
# among the 200, so the pairs are not independent; the p-values are a guide, and the
# distinct pairs of beliefs bound what they can show.)

# %%
print(f"{'pattern vs random, 200 pairs':26s} {'2 tokens: wins':>15s} {'p':>8s} "
      f"{'3 tokens: wins':>15s} {'p':>8s}")
for arch in ARCHS:
    for hooks in layer_states(models["rrxor", arch]):
        layer = hooks[0].split(".hook")[0]
        tests = [sign_test(future_steer[arch, layer, "pattern"][k],
                           future_steer[arch, layer, "random"][k]) for k in (1, 2)]
        print(f"{arch + ', ' + layer:26s}" + "".join(f" {w:15d} {p:8.0e}" for w, p in tests))
print(f"a clean sweep over {n_belief_pairs} independent pairs would have p = "
      f"{0.5 ** n_belief_pairs:.0e}")

# %% [markdown]
# The answer differs between the two kinds of network.
#
# * **The recurrent networks use the belief.** Moving a recurrent layer's carried state along
#   its pattern, towards a belief that predicts the same next token, moves the predictions two
#   and three tokens ahead most of the way to $\eta'$'s: from a median TV of 0.50 to 0.18 and
#   0.21 (GRU, first layer) and to 0.08 and 0.08 (LSTM, first layer), and at the top layer to
#   0.25 and 0.27 (GRU) and 0.40 and 0.49 (LSTM), about as far as patching the same state
#   gets (0.07 to 0.50, layer by layer). A random move of the same length leaves them where
#   they were (0.45 to 0.54); the pattern's move beats it in 188 to 196 of the 200 pairs. The top-layer moves leave the next token in
#   place (median TV 0.01 and 0.00); the first-layer moves disturb it (0.13 GRU, 0.04 LSTM),
#   as does patching that layer (0.13, 0.07), because the layer above still holds the first
#   context's state. So what these states hold beyond the next token is what the networks'
#   later predictions are computed from.
# * **The transformer shows nothing here, and the experiment says why.** At no layer does
#   moving, or even patching, position 7's residual stream move the transformer's predictions
#   two or three tokens ahead (0.49 to 0.52 against 0.50 unsteered; the wins against the
#   random move, 56 to 125 of 200, favour neither). Later positions do not take what they need
#   from the last position's stream: each recomputes its prediction from the tokens through
#   attention, so the within-class information that position 7 holds (chapter 05b; within-class
#   R² 0.607 at the top layer, section 1) is not the route by which the transformer predicts
#   further ahead. Whether the transformer's own later positions use belief geometry has to be
#   tested at those positions, where the outcome is again a next-token prediction; this
#   experiment cannot separate the two readings for a transformer, and the chapter leaves it
#   open.
#
# Sample sizes and uncertainty: 200 pairs from 88 held-out contexts, but only 26 distinct
# pairs of beliefs among them, so the sign-test p-values overstate the evidence; a clean sweep
# of 26 independent pairs (p = 1e-08) is the honest scale of the recurrent networks' result,
# which is close to a clean sweep.

# %% [markdown]
# ## 4. How the geometry is laid out
#
# ### Linear or logarithmic?
#
# A probe is affine, so "the belief is in the residual stream" really means "an affine image
# of the belief is". The network could as well hold an affine image of something else that
# determines the belief, such as the log-belief. Two facts make the question sharp:
#
# * the unembedding is affine in the final LayerNorm's output, and its output is the
#   *logits*, $\log P(x \mid \eta)$ up to a constant: an optimal network must hold the
#   next-token log-probabilities affinely at `ln_final`;
# * Bayes' update is linear in the unnormalised belief, $\eta T^{(x)}$, and its normalisation
#   is a shift in log space: $\log \eta' = \log(\eta T^{(x)}) - \log(\eta T^{(x)} \mathbf 1)$.
#
# We probe each layer of each trained Mess3 network for four targets: the belief $\eta$,
# its centred log-ratio $\operatorname{clr}(\eta) = \log\eta - \overline{\log\eta}$ (the
# log-belief with its arbitrary constant removed), the next-token distribution $p$, and its
# centred log, the logits. Held-out R² in each target's own space; for the log targets also
# after mapping the prediction back (softmax) and scoring it against $\eta$ or $p$, which puts
# all four on one scale. (Mess3's beliefs are never 0, so logs are finite; RRXOR's are, which
# is why it is left out.)

# %%
def clr(p):
    """Centred log-ratio: log p minus its mean over the last axis."""
    logp = np.log(p)
    return logp - logp.mean(-1, keepdims=True)


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


m_next = mdata.next_token_probs[subset]
pairs_lin_log = [("belief", m_b, clr(m_b)), ("next token", m_next, clr(m_next))]
print(f"{'held-out R², fit on 20 %':28s} {'η':>8s} {'clr η':>8s} {'→ η':>8s} "
      f"{'p':>8s} {'logits':>8s} {'→ p':>8s}")
lin_log = {}
for arch in ARCHS:
    for hook, x in m_acts[arch, "trained"].items():
        row = []
        for _, linear, log in pairs_lin_log:
            r_lin = probing.evaluate(x, linear, m_p, train_fraction=0.2, seed=0)
            r_log = probing.evaluate(x, log, m_p, train_fraction=0.2, seed=0)
            test = r_log.test_idx
            row += [r_lin.held_out.r2, r_log.held_out.r2,
                    probing.r2(linear[test], softmax(r_log.predictions[test]))]
        lin_log[arch, hook] = row
        print(f"{arch + ', ' + hook.split('.hook')[0]:28s}" + "".join(f"{v:9.4f}" for v in row))

# %% [markdown]
# The two kinds of network differ, and in a readable way.
#
# * **Transformer.** From the second layer on the belief is more linear than the log-belief
#   (0.998 against 0.992 at the last layer), and the next-token *logits* are the most linear
#   target of all at the end (0.9994): the unembedding reads logits, so the last layers must
#   hold them affinely, and for Mess3 the next-token distribution is itself an affine function
#   of the belief, so both fit well.
# * **GRU and LSTM.** The log-belief is the more linear at every layer (GRU 0.999 against
#   0.995, LSTM 0.998 against 0.991): the recurrent state looks more like a log-belief than
#   a belief. A possible reason, which this chapter does not test: the update
#   $h' = (1 - z)\,n + z\,h$ adds $\tanh$ candidates to the state, i.e. accumulates evidence
#   additively, and Bayes' rule is additive in log space up to the normalisation.
#
# Mapping the log-probe back through softmax ($\to \eta$, $\to p$) changes little: the
# comparison is not an artefact of scoring in log space.
#
# ### The dimension of the probed points
#
# Chapter 03 estimated the information dimension $D_1$ of Mess3's belief fractal from
# chaos-game points, and its Lyapunov dimension from the dynamics. What are these numbers for
# the *probed* points, over training? Two references, since the probed points are not the
# attractor: they are the beliefs after 1 to 10 tokens of 3,000 contexts, a finite set.

# %%
cloud = msp.chaos_game(mess3, 100_000, seed=0)
d_attractor = dimension(cloud).slope
d_lyapunov = float(information.lyapunov_dimension(mess3, n_steps=20_000, seed=0))
d_exact = dimension(em_b).slope
print(f"information dimension D1: attractor (100,000 chaos-game points) {d_attractor:.2f}, "
      f"Lyapunov dimension {d_lyapunov:.2f}")
print(f"the exact beliefs of the 30,000 probed points (same estimator): {d_exact:.2f}")
for arch in ARCHS:
    e = emergence[arch]
    print(f"{arch:11s} probed points, by tokens seen: "
          + ", ".join(f"{int(t):,}: {d:.2f}" for t, _, _, d in e))

# %%
fig, ax = plt.subplots(figsize=(8.6, 3.8))
for k, arch in enumerate(ARCHS):
    e = emergence[arch]
    ax.semilogx(e[1:, 0], e[1:, 3], "o-", color=f"C{k}", label=f"{arch} (probe output)")
ax.axhline(d_exact, color="k", ls="--", label="exact beliefs of the same points")
ax.axhline(d_attractor, color="k", ls=":", label="the attractor (chapter 03)")
ax.set_xlabel("training tokens")
ax.set_ylabel("information dimension $D_1$")
ax.legend(frameon=False, fontsize=9, loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.tight_layout()
plt.show()

# %% [markdown]
# Three numbers to keep apart. The attractor's information dimension (0.53) and its Lyapunov
# dimension (0.51) describe the infinite fractal of chapter 03. The exact beliefs of the
# probed points — at most ten tokens deep — give 1.11 with the same estimator: a finite,
# shallow sample of the fractal looks more filled in at the box sizes the estimator can use.
# That is the number the probe can hope to reach. The probed points start near 1.5 (a
# smeared cloud), and the estimate falls with training towards the exact beliefs' value
# without reaching it (1.31 for the final transformer, 1.37 for the GRU and for the LSTM):
# the probe's error fills every box smaller than itself. The dimension of probed
# points therefore measures the probe's noise as much as the network's geometry, and only
# the comparison with the exact beliefs of the same points makes it readable.
#
# ## What you learned
#
# * **A belief fixes the whole future; a next-token prediction does not.** You computed the
#   distribution of the next $k$ tokens from a belief, and the exact *next-token ceiling*: the
#   best any representation that knows only the next-token distribution can score. On RRXOR,
#   where 35 beliefs share 11 next-token distributions, the trained networks hold more than
#   the next token — but beating the ceiling alone is a weak bar, since untrained networks and
#   the input-only baseline clear it on some targets.
# * **The distance test** (the paper's Fig. 7D), with its exact ceiling, says "more than the
#   next token", not "the whole future": on RRXOR the next three tokens already explain the
#   belief distances.
# * **Not only transformers.** A GRU and an LSTM trained on the same data carry the belief
#   linearly too. But a random recurrent network already carries much of Mess3's belief (it
#   is a good *reservoir*), so for them the untrained control matters even more.
# * **Found is not used.** A probe shows that the belief can be read out; steering — moving an
#   activation and watching the prediction — tests whether the network uses it. It needs its
#   controls (a random move of the same length, a move towards a wrong target, the untrained
#   network), and the probe's own direction is a weak one to move along.
# * **Beyond the next token, in use:** on RRXOR the recurrent networks use what their state
#   holds beyond the next token. In a transformer, which recomputes every position from the
#   tokens, the same experiment cannot tell.
# * **Layout:** linear in beliefs in the transformer's later layers, closer to log-beliefs in
#   the recurrent states.
#
# <details><summary>The same points with the numbers of this chapter</summary>
#
# * **More than the next token.** On RRXOR, where 35 beliefs share 11 next-token
#   distributions, every trained network holds, held out, far more of the belief, of the
#   next two to four tokens and of the within-class part than its untrained twin. Beating the
#   next-token ceiling (computed exactly) is not the evidence: untrained networks and the
#   input-only baseline clear it on some targets too, because they know the current token and
#   position. The distance test agrees on held-out probe outputs (against the exact ceiling
#   0.450 for belief distances; a perfect belief representation scores 0.285 against
#   next-token distances, near the paper's 0.31) and fails on raw activations for every
#   network.
# * **Not specific to transformers.** A GRU and an LSTM trained on the same data carry the
#   belief linearly too, and on RRXOR they keep beliefs that share a next token apart better
#   than the transformer's top layer, and better than its four layers together — as a
#   recurrent predictor must. But a random RNN is
#   already a good reservoir for Mess3's belief: the untrained control matters more for RNNs.
# * **Used, along the right directions.** Moving an activation along the *pattern* of the
#   belief makes every trained Mess3 network predict what the new belief predicts (median KL
#   down from 0.28–0.30 nats to 0.0033–0.0114; a random move of the same length and a move
#   towards a wrong target do not; the untrained networks do not follow). The move is large
#   (0.55 to 0.81 of the activation's norm), so the top layer's result is close to
#   tautological; the earlier layers carry the evidence. The probe's own move, computed at
#   the probe's true rank, works a little in the trained transformer (231 to 296 wins of 300
#   against a random move, KL 0.2820 down to 0.2058–0.2635) and not in the untrained one.
# * **Beyond the next token, in the recurrent networks.** On RRXOR, moving a GRU's or LSTM's
#   carried state towards a belief with the same next-token prediction moves its two- and
#   three-token predictions most of the way to that belief's: the networks use what their
#   state holds beyond the next token. The transformer's later predictions do not move even
#   when the last position's stream is patched: each position recomputes from the tokens, so
#   this experiment cannot tell belief use from next-token use in a transformer.
# * **The distance test** says "more than the next token", not "the whole future": on RRXOR
#   the next three tokens' distribution explains belief distances fully.
# * **Laid out** linearly in beliefs in the transformer's later layers and closer to
#   log-beliefs in the recurrent states; the dimension of probed points falls with training
#   towards that of the exact beliefs, inflated by probe noise.
# </details>

# %% [markdown]
# ### References
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers,
#   *Transformers Represent Belief State Geometry in their Residual Stream*, NeurIPS 2024
#   (arXiv:2405.15943) — eq. 2 (the future from the belief) and Fig. 7D (the distance test).
# * P. M. Riechers, T. J. Elliott, A. S. Shai, *Neural networks leverage nominally quantum and
#   post-quantum representations* (arXiv:2507.07432, 2025) — belief geometry in transformers
#   and recurrent networks.
# * S. Haufe, F. Meinecke, K. Görgen, S. Dähne, J.-D. Haynes, B. Blankertz, F. Bießmann,
#   *On the interpretation of weight vectors of linear models in multivariate neuroimaging*,
#   NeuroImage 87 (2014) — filters and patterns.
# * K. Cho et al., *Learning Phrase Representations using RNN Encoder–Decoder for Statistical
#   Machine Translation*, EMNLP 2014 (the GRU); S. Hochreiter, J. Schmidhuber, *Long
#   Short-Term Memory*, Neural Computation 9 (1997).
# * H. Jaeger, *The "echo state" approach to analysing and training recurrent neural
#   networks*, GMD Report 148 (2001) — random recurrent networks as reservoirs.
# * J. Hewitt, P. Liang, *Designing and Interpreting Probes with Control Tasks*, EMNLP 2019.
# * K. Meng, D. Bau, A. Andonian, Y. Belinkov, *Locating and Editing Factual Associations in
#   GPT*, NeurIPS 2022 — activation patching ("causal tracing"), the full-control reference
#   of section 3.
# * danibalcells, *belief-state-transformers* (GitHub, an ARENA capstone project, 2026) —
#   an earlier steering experiment on Mess3 beliefs in a transformer.
