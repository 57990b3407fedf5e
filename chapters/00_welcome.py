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
# # 00 · Welcome: what does a transformer know about a world it cannot see?
#
# *Reading time ≈ 35 minutes; running time ≈ 23 seconds (measured, CPU on one thread).
# Prerequisites: none for this chapter; the course's list is below, under "How the course is
# organised".*
#
# A language model is trained to do one thing: predict the next token. Yet to predict well it
# must, at least implicitly, keep track of *what is going on* in the process that produced the
# text so far — which hidden situation we are in, and how uncertain we are about it. This course
# asks a precise version of that question and answers it with mathematics you can compute and
# an experiment you can run on a laptop:
#
# > If the data come from a hidden Markov model, the optimal predictor must carry a **belief**
# > — a probability distribution over the hidden states — and update it by Bayes' rule after
# > every token. The set of all beliefs the predictor can be in has a geometry, sometimes a
# > fractal one. **Does a transformer trained on next-token prediction represent that geometry
# > in its residual stream?**
#
# Shai et al. (NeurIPS 2024) found that it does, *linearly*. Piotrowski et al. (2025) then
# showed that attention carries out a constrained, parallel version of the belief update, which
# later layers refine. By the end of chapter 05 you will have
# derived the prediction, trained the transformer, found the geometry — and checked it against
# the controls that could have fooled us.

# %% [markdown]
# ## Why it matters
#
# Interpretability research tries to say *what* a network computes from *how* its activations
# are arranged. The hard part is usually knowing what the right answer is: for text, nobody
# can write down the hidden state of the world that produced it. Here we can. The data come
# from a small hidden Markov model whose ideal predictor we can compute exactly, so every
# claim about the network can be checked against ground truth — and every way of fooling
# ourselves (a probe that is too flexible, structure that was already in the input tokens, a
# network that has not learned anything) can be measured rather than argued about. It is a
# laboratory for a question that matters far beyond toy processes: do next-token predictors
# build internal models of the world they cannot see?

# %% [markdown]
# ## The picture this course is about
#
# Below are three triangles. Each point is a probability distribution over the three hidden
# states A, B, C of a process called *Mess3* (chapter 01), or a network's estimate of one,
# drawn in the probability simplex: the
# corners are certainty about one state, the centre is complete ignorance, and the colour of a
# point is its belief read as red–green–blue.
#
# * **Left — theory.** The beliefs an ideal Bayesian observer of Mess3 visits while it reads
#   a long stream of tokens. Nobody designed this fractal: it follows from Bayes' rule applied
#   to the process (chapter 03).
# * **Middle — a trained transformer.** For each of the 59,049 possible 10-token inputs, we
#   take the transformer's 64-dimensional *residual stream* — the vector each position carries
#   from layer to layer — after its last layer, at every position, and map all of them to the plane with *one* affine map, fitted by least
#   squares to the true beliefs (chapter 05). Each point is coloured by the *true* belief at
#   that position, so a point in the wrong place shows up as a wrong colour.
# * **Right — the same network before training**, probed in exactly the same way.
#
# The cell below computes the theory from scratch and the two networks from checkpoints that
# ship with the course (it takes under a minute).

# %%
import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import checkpoints, msp, plotting, probing, processes
from beliefcourse.data import ExactData

mess3 = processes.mess3()                      # Mess3(x=0.05, α=0.85), as in the paper
theory = msp.chaos_game(mess3, 150_000, seed=0)

data = ExactData(mess3, n_ctx=10)              # all 3^10 inputs, their beliefs, exactly
true_beliefs = data.beliefs.reshape(-1, 3)     # one row per (sequence, position)

probed = {}
for label, tokens_seen in [("trained", None), ("untrained", 0)]:
    model, record = checkpoints.load("mess3", tokens=tokens_seen)   # None = final checkpoint
    hook = f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
    acts = probing.collect_activations(model, data.inputs, hook).reshape(-1, model.cfg.d_model)
    probed[label] = probing.AffineProbe().fit(acts, true_beliefs).predict(acts)

colors = plotting.belief_colors(true_beliefs)
fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
plotting.plot_simplex(theory, ax=axes[0], s=0.4, labels=mess3.state_names,
                      title="Theory: an ideal observer's beliefs")
plotting.plot_simplex(probed["trained"], colors=colors, ax=axes[1], s=0.05,
                      labels=mess3.state_names, title="Trained transformer, affine probe")
plotting.plot_simplex(probed["untrained"], colors=colors, ax=axes[2], s=0.05,
                      labels=mess3.state_names, title="Same network before training")
for ax in axes:                                # one scale for all three panels
    ax.set_xlim(min(a.get_xlim()[0] for a in axes), max(a.get_xlim()[1] for a in axes))
    ax.set_ylim(min(a.get_ylim()[0] for a in axes), max(a.get_ylim()[1] for a in axes))
fig.tight_layout()
plt.show()

# %% [markdown]
# > **Question (predict, then run the next cell).** The right-hand network was never trained:
# > its weights are random. Will its probe's R² be near 0 (it knows nothing about the belief),
# > or well above 0? And how many times larger than the trained network's will its error be?
# >
# > <details><summary>Answer</summary>
# >
# > Well above 0: the cell prints R² 0.869 for the untrained network. A random network still
# > passes the recent tokens through to its last layer, and the recent tokens alone say a lot
# > about the belief, so a linear read-out recovers much of it. The error is what separates
# > the two networks: the untrained one's is 71 times the trained one's. This is why the
# > course never judges a probe by its R² alone (chapter 05's controls).
# > </details>

# %%
trained_record = checkpoints.record("mess3")
print(f"points probed: {len(true_beliefs):,} ({data.inputs.shape[0]:,} sequences x "
      f"{data.inputs.shape[1]} positions)")
print(f"trained on {trained_record['tokens_seen'] / 1e6:.1f} M tokens; loss / optimal loss = "
      f"{trained_record['relative_loss']:.4f}")
for label, predicted in probed.items():
    print(f"{label:>9}: probe MSE {probing.mse(true_beliefs, predicted):.1e}, "
          f"R² {probing.r2(true_beliefs, predicted):.3f}  (in-sample, unweighted)")
ratio = probing.mse(true_beliefs, probed["untrained"]) / probing.mse(true_beliefs, probed["trained"])
print(f"untrained MSE / trained MSE: {ratio:.0f}")

# %% [markdown]
# One affine map, fitted once, turns a cloud of 64-dimensional vectors into the fractal that
# Bayes' rule predicts, down to its small triangles; before training, the same kind of map
# finds only a blur. That this works at all is the surprise. *Why* it must work, and what it
# does and does not prove, is what the chapters are for.
#
# Notice the numbers too. The untrained network's R² is far from zero: a random network
# still passes information about the recent tokens through, and the recent tokens already say
# a lot about the belief. R² alone would flatter it; its error (MSE), 71 times the trained
# network's, and the picture tell the real story. (MSE is the mean squared error per belief
# coordinate; R² is the share of the beliefs' variance the probe explains; "in-sample,
# unweighted" means scored on the points it was fitted to, each counted once. Chapter 05
# defines them properly.) Chapter 05 asks all the
# sceptic's questions properly — held-out sequences, a probe of the raw input tokens, shuffled
# targets — because a claim without those controls is not a claim.

# %% [markdown]
# ## How the course is organised
#
# | chapter | what you learn | reading | practice | needs |
# |---|---|---|---|---|
# | 00 Welcome | the question, the picture, the notation card, how to use the course | 35 min | — | — |
# | 01 Hidden Markov models | processes as labelled transition matrices $T^{(x)}$; Z1R, Mess3, RRXOR, even and golden-mean processes; sampling; the stationary distribution | 60 min | 75 min | 00 |
# | 02 Bayesian belief updating | the update $\eta' = \eta T^{(x)}/(\eta T^{(x)}\mathbf 1)$; synchronisation; an information-theory primer; next-token prediction; the myopic entropy, the yardstick for every loss | 60 min | 85 min | 01 |
# | 03 The mixed-state presentation | beliefs as a machine of their own; the Mess3 fractal; RRXOR's 36 beliefs; fractal dimension | 110 min (20 optional) | 90 min | 02 |
# | 04 Training a small transformer | the model from its parts, attention written out; exact data and exact loss; training to the optimum | 75 min | 80 min | 02 |
# | 05 Probing the residual stream | affine probes, held-out evaluation, controls; the fractal inside the network | 75 min | 115 min (with 05b) | 03, 04 |
# | 05b RRXOR, and what the first layer computes | when a probe can fit anything; ridge by grouped cross-validation; RRXOR's geometry over layers; how far back the first attention layer looks | 65 min | in 05's | 05 |
# | 06 Beyond the next token, beyond transformers | does the network store the whole future; GRU and LSTM; steering along the geometry | 120 min | 110 min | 05 |
# | 07 Constrained belief updates | what one attention layer computes (Piotrowski et al.): the spectrum of $T$ predicts attention decay, OV vectors and the number of heads, tested on a grid of models | 90 min | 100 min | 05 |
# | 08 In-context learning | beyond both papers: in-context learning as belief updating over worlds; the exact in-context loss curve; a transformer and a GRU against Bayes | 45 min | 75 min | 04, 05 |
#
# **Prerequisites** (the same list as in the README):
#
# * Python and NumPy: arrays, indexing, `@`, writing small functions.
# * Probability: conditional probability and Bayes' rule.
# * Linear algebra: matrix products, eigenvalues and eigenvectors.
# * Neural networks: you have met one before and can read basic PyTorch (tensors, `nn.Module`,
#   an optimizer step); needed from chapter 04 on.
# * Least squares: fitting a linear model by least squares; needed in chapter 05, which starts
#   with a refresher.
#
# Not assumed: information theory (entropy, cross-entropy, KL divergence), which chapter 02
# introduces in a short primer; hidden Markov models, computational mechanics, transformers and
# interpretability, which the course builds up from the list above.
#
# **Paths through it.** The whole course is about 24½ hours with all the practice notebooks,
# 12¼ without them (the sums of the table's columns; reading times are measured by one rule,
# 100 words and 10 lines of code a minute). A one-day workshop can read 01–05 together and do
# one or two exercises per chapter, leaving the rest of the practice for afterwards. Chapters
# 04–08 load trained checkpoints that ship with the course, so nobody has to wait for training.
#
# Each of chapters 01–08 has a practice notebook in `exercises/`, with a completed version in
# `solutions/`. Every exercise states what you will learn and how long it should take, offers
# hints you can unfold, and ends with a **checker** that runs your code on many inputs, compares
# it with a reference, and tells you what is probably wrong when it is.

# %% [markdown]
# ## Notation and glossary
#
# Keep this card open beside the chapters; each term is explained properly where the last
# column says. One letter, one meaning: a **token** is always $x$ (and $x_t$ the $t$-th one).
# $\Pr(\cdot)$ and, in the chapters, $P(\cdot)$ both mean "the probability of".
#
# | symbol or term | meaning | first met |
# |---|---|---|
# | $x$, $x_t$, $x_{1:L}$ | a token; the $t$-th token; a word of $L$ tokens $x_1 \dots x_L$ | 01 |
# | $\mathcal A$ | the alphabet, the set of possible tokens: $\{A, B, C\}$ for Mess3, $\{0, 1\}$ for RRXOR | 01 |
# | $T^{(x)}$ | labelled transition matrix: $T^{(x)}_{ij} = \Pr(\text{emit } x,\ \text{go to } j \mid \text{in } i)$; in code `T[x, i, j]` | 01 |
# | $T = \sum_x T^{(x)}$ | the net transition matrix: a Markov chain on the hidden states, rows sum to 1 | 01 |
# | $\pi$ | the stationary distribution, $\pi T = \pi$; every sequence starts from it | 01 |
# | $\mathbf 1$ | the column vector of ones; $\Pr(x_{1:L}) = \pi\, T^{(x_1)} \cdots T^{(x_L)} \mathbf 1$ | 01 |
# | Mess3(x, α) | the papers' three-state process. **Here $x$ is the papers' name for the hop parameter** (the probability of jumping to each other state), not a token; α is how often a state emits its own token. In code `processes.mess3(x=0.05, alpha=0.85)`, the paper's values | 01 |
# | $\eta$ (belief) | a probability distribution over the hidden states given the tokens seen so far; Bayes' rule updates it as $\eta' = \eta T^{(x)} / (\eta T^{(x)} \mathbf 1)$, and it predicts $\Pr(x \mid \eta) = \eta T^{(x)} \mathbf 1$ | 02 |
# | simplex | the set of all beliefs over $n$ states (non-negative, summing to 1): a triangle for 3 states, drawn with one corner per state; corners are certainty, the centre the uniform belief | 02 |
# | unifilar | a presentation in which the current state and the next token fix the next state; an observer who once knows the state keeps knowing it | 02 |
# | synchronisation | the observer's uncertainty about the hidden state going to zero as tokens arrive (Z1R and RRXOR synchronise; Mess3 never does) | 02 |
# | $h(L)$ | the myopic entropy: the least possible expected loss, in nats, for predicting the $L$-th token from the $L - 1$ before it | 02 |
# | $h_\mu$ | the entropy rate, $\lim_{L \to \infty} h(L)$: the randomness per token that even the whole past cannot predict | 02 |
# | MSP | the mixed-state presentation: the machine whose states are beliefs and whose transitions are Bayes updates, one per token | 03 |
# | residual stream | the vector (64 numbers here) each position carries through the transformer; every layer reads it and *adds* its output to it | 04 |
# | hook | a named point of the forward pass whose activations we can read out, e.g. `blocks.3.hook_resid_post` | 04 |
# | probe | a map fitted from activations to a target; here an affine map to the beliefs, fitted by least squares and scored on held-out sequences | 05 |
# | R² | the course's one definition (`probing.r2`): $R^2 = 1 - \sum_i w_i \lVert y_i - \hat y_i \rVert^2 / \sum_i w_i \lVert y_i - \bar y_w \rVert^2$, pooled over coordinates; 1 is perfect, 0 is no better than predicting the mean | 05 |
# | affine rank | the rank of the (distinct) activation vectors with a 1 appended: one more than the dimension of the flat space they span. An affine probe can fit *any* targets exactly when it equals the number of points | 05b |
# | OV circuit | the part of an attention head that decides *what* it writes: the attended position's stream through the value matrix $W_V$ and output matrix $W_O$ (the QK part, queries and keys, decides *where* to look). Chapter 05b uses the name; chapter 07 studies it | 05b, 07 |
#
# Indices: $i, j$ are hidden states, $t$ a time step, $p$ a model position (0-based; position
# $p$ has read $x_1 \dots x_{p+1}$; chapter 04's section 1 lines positions up with beliefs),
# and $k$ a loop index or a number of future tokens, never a token.

# %% [markdown]
# ## Working in JupyterLab
#
# * Run a cell with **Shift + Enter**; run everything with *Run → Run All Cells*.
# * If things get strange, *Kernel → Restart Kernel and Run All Cells* gives you a clean state.
#   Every notebook in this course runs top to bottom in a fresh kernel in a couple of minutes
#   on a laptop CPU; nothing needs a GPU or the internet. (`beliefcourse.devices.pick_device()`
#   tells you whether a GPU is there to speed up training in chapter 04.)
# * Each notebook has a plain-text `.py` twin (jupytext percent format), the source the course
#   is built from; your edits in JupyterLab change only the `.ipynb`. Work in copies of the
#   practice notebooks if you want to keep your answers through course updates.
# * Folded blocks like the one below hold hints and answers. Click to open.
#
# <details><summary>Example: a folded hint</summary>
#
# Hints never give the whole answer at once; open them one at a time.
# </details>
#
# The next cell checks that your environment has what the course needs.

# %%
import sys
from importlib.metadata import PackageNotFoundError, version


def installed(package):
    """The installed version of `package`, or "" if it is missing."""
    try:
        return version(package)
    except PackageNotFoundError:
        return ""


requirements = {
    "Python 3.10 or newer": sys.version_info >= (3, 10),
    "beliefcourse (this course's package)": bool(installed("beliefcourse")),
    "numpy, scipy, matplotlib": all(installed(p) for p in ("numpy", "scipy", "matplotlib")),
    "torch": bool(installed("torch")),
    "ipywidgets 8": installed("ipywidgets").startswith("8."),
}
for what, ok in requirements.items():
    print(f"{'ok     ' if ok else 'MISSING'}  {what}")

# %% [markdown]
# Interactive widgets are part of several chapters. Move the slider below: if the number next
# to it changes, widgets work in your JupyterLab. If you see text like `IntSlider(value=3, …)`
# instead of a slider, JupyterLab cannot find the widget front end. Starting JupyterLab with
# `./course` from the course folder (see the README) sets everything up; otherwise install
# `ipywidgets` 8 into the environment that *runs JupyterLab* (not only the kernel's) and
# restart JupyterLab.

# %% tags=["nbval-ignore-output"]
import ipywidgets as widgets

widgets.IntSlider(value=3, min=0, max=10, description="try me")

# %% [markdown]
# ## How exercises are checked
#
# Here is the pattern you will meet in every practice notebook. A function is left for you to
# write, with its signature and a docstring that fixes the conventions. A **checker** then
# calls it on many inputs and compares with the reference. It answers in one of four ways:
# **TO DO** (not implemented yet), **WRONG** (with the likely mistake), **ERROR** (your code
# crashed; with the line), **PASSED** (correct).
#
# Our example is Exercise 1.1: the stationary distribution $\pi$ of an HMM, the left
# eigenvector of its net transition matrix with eigenvalue 1, normalised to sum to 1 (chapter
# 01 explains all of that). An untouched stub first:

# %%
from beliefcourse import checks


def stationary(T):
    """Stationary distribution of the HMM with labelled matrices T[x, i, j]; shape (n_states,)."""
    # YOUR CODE HERE
    raise NotImplementedError()


checks.check_stationary(stationary)

# %% [markdown]
# Now a first attempt that finds the right eigenvector and makes its entries positive, but
# forgets that `np.linalg.eig` scales each eigenvector to length 1 (its squares sum to 1, not
# its entries).
#
# > **Question (predict, then run the next cell).** Which of the four answers will the
# > checker give — TO DO, WRONG, ERROR or PASSED — and what will it say is the matter?
# >
# > <details><summary>Answer</summary>
# >
# > WRONG: the function runs and returns a vector of the right shape, so it is neither TO DO
# > nor ERROR, but its entries do not sum to 1. The checker names exactly that ("not
# > normalised"), with the sum it found, and says to divide by it.
# > </details>

# %%
def stationary(T):
    """Stationary distribution of the HMM with labelled matrices T[x, i, j]; shape (n_states,)."""
    net = T.sum(axis=0)
    eigenvalues, eigenvectors = np.linalg.eig(net.T)
    v = np.real(eigenvectors[:, np.argmin(np.abs(eigenvalues - 1))])
    return np.abs(v)   # the sign is fixed, but the entries do not sum to 1


checks.check_stationary(stationary)

# %% [markdown]
# The verdict does not just say "wrong": it names the mistake — the vector is not normalised
# — and how to fix it. Checkers recognise the common mistakes of each exercise (a transposed
# matrix, an off-by-one, a forgotten normalisation) by computing what each mistake would have
# returned on every test case. Fix it (divide by the sum) and the checker passes:

# %%
def stationary(T):
    """Stationary distribution of the HMM with labelled matrices T[x, i, j]; shape (n_states,)."""
    net = T.sum(axis=0)
    eigenvalues, eigenvectors = np.linalg.eig(net.T)
    v = np.real(eigenvectors[:, np.argmin(np.abs(eigenvalues - 1))])
    return v / v.sum()


checks.check_stationary(stationary)

# %% [markdown]
# A checker result is truthy exactly when it passed, so practice notebooks can write
# `if checks.check_stationary(stationary): ...` to run a demo only once your code works.
#
# ## Where this comes from
#
# * A. S. Shai, S. E. Marzen, L. Teixeira, A. Gietelink Oldenziel, P. M. Riechers.
#   *Transformers Represent Belief State Geometry in their Residual Stream.* NeurIPS 2024,
#   arXiv:2405.15943.
# * M. Piotrowski, P. M. Riechers, D. Filan, A. S. Shai. *Constrained Belief Updates Explain
#   Geometric Structures in Transformer Representations.* ICML 2025, arXiv:2502.01954.
# * The mathematics of beliefs over hidden states — mixed states, their presentation and its
#   geometry — is *computational mechanics*: J. P. Crutchfield and colleagues; the chapters cite
#   the specific results where they use them.
#
# The shipped transformer follows the paper's architecture (4 layers, $d_\text{model} = 64$,
# context 10) but was trained by this course with a faster recipe (chapter 04 explains it), so
# its numbers are ours, not the paper's.
#
# Next: **chapter 01**, where we meet the processes that generate our data.
