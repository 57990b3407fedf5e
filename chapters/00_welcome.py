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
# *Reading time ≈ 15 minutes. Prerequisites: Python and NumPy; probability at the level of
# Bayes' rule. No prior knowledge of hidden Markov models or transformers is assumed.*
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
# explained how attention heads build the beliefs. By the end of chapter 05 you will have
# derived the prediction, trained the transformer, found the geometry — and checked it against
# the controls that could have fooled us.

# %% [markdown]
# ## The picture this course is about
#
# Below are two triangles. Each point is a probability distribution over the three hidden
# states of a process called *Mess3* (chapter 01), drawn in the probability simplex: the
# corners are certainty about one state, the centre is complete ignorance, and the colour of a
# point is its belief read as red–green–blue.
#
# * **Left — theory.** Every belief an ideal Bayesian observer of Mess3 can hold. Nobody
#   designed this fractal: it follows from Bayes' rule applied to the process (chapter 03).
# * **Right — a trained transformer.** For each of the 59,049 possible 10-token inputs, we
#   take the transformer's 64-dimensional residual-stream activation at every position and map
#   it to the plane with *one* affine map, fitted by least squares (chapter 05). Each point is
#   coloured by the *true* belief at that position.
#
# The cell below computes both from scratch (theory) and from a small checkpoint that ships
# with the course (the network).

# %%
import matplotlib.pyplot as plt
import numpy as np

from beliefcourse import checkpoints, msp, plotting, processes, probe
from beliefcourse.data import ExactData

mess3 = processes.mess3()                      # x = 0.05, α = 0.85, as in the paper
theory = msp.chaos_game(mess3, 200_000, seed=0)

model, record = checkpoints.load("mess3")     # the final shipped checkpoint
data = ExactData(mess3, n_ctx=model.cfg.n_ctx)
hook = f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
acts = probe.collect_activations(model, data.inputs, hook)
fitted = probe.AffineProbe().fit(acts, data.beliefs)
predicted = fitted.predict(acts).reshape(data.beliefs.shape)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
plotting.plot_simplex(theory, ax=axes[0], s=0.2, title="Theory: Bayesian beliefs of Mess3")
plotting.plot_simplex(predicted.reshape(-1, 3), colors=plotting.belief_colors(data.beliefs.reshape(-1, 3)),
                      ax=axes[1], s=0.2, title="Transformer: affine map of the residual stream")
fig.tight_layout()
plt.show()

# %%
y_true = data.beliefs.reshape(-1, 3)
y_pred = predicted.reshape(-1, 3)
print(f"points probed: {len(y_true):,} ({len(data.inputs):,} sequences x {data.inputs.shape[1]} positions)")
print(f"in-sample probe MSE (unweighted, as in the paper): {probe.mse(y_true, y_pred):.2e}")
print(f"trained on {record['tokens_seen'] / 1e6:.1f} M tokens; mean relative loss {record['relative_loss']:.4f}")

# %% [markdown]
# One affine map, fitted once, turns a cloud of 64-dimensional vectors into the fractal that
# Bayes' rule predicts. That this works at all is the surprise. *Why* it must work — and what
# it does and does not prove — is what the chapters are for. In particular, chapter 05 asks
# the sceptic's questions: how well does an **untrained** network of the same shape do? How
# well does a linear map of the raw **input tokens** do? A claim without those controls is not
# a claim.

# %% [markdown]
# ## How the course is organised
#
# | chapter | what you learn | time | needs |
# |---|---|---|---|
# | 00 Welcome | the question, the picture, how to use the course | 15 min | — |
# | 01 Hidden Markov models | processes as labelled transition matrices; Z1R, Mess3, RRXOR; sampling; stationarity | 60 min | 00 |
# | 02 Bayesian belief updating | η' = ηT^(x)/(ηT^(x)1); synchronisation; next-token prediction; myopic entropy, the yardstick | 75 min | 01 |
# | 03 The mixed-state presentation | beliefs as a machine of their own; the Mess3 fractal; RRXOR's 36 beliefs; fractal dimension | 75 min | 02 |
# | 04 Training a small transformer | the model from its parts; exact data and exact loss; training to the optimum | 75 min | 02 |
# | 05 Probing the residual stream | affine probes, held-out evaluation, controls; the fractal inside the network | 90 min | 03, 04 |
#
# Each of chapters 01–05 has a practice notebook in `exercises/` (with a completed version in
# `solutions/`). Every exercise states its objectives and a time estimate, offers hints you can
# unfold, and ends with a **checker** that runs your code against the reference on many inputs
# and tells you what is probably wrong when it is.

# %% [markdown]
# ## Working in JupyterLab
#
# * Run a cell with **Shift + Enter**; run everything with *Run → Run All Cells*.
# * If things get strange, *Kernel → Restart Kernel and Run All Cells* gives you a clean state.
#   Every notebook in this course runs top to bottom in a fresh kernel in a couple of minutes
#   on a laptop CPU; nothing needs a GPU or the internet.
# * The notebooks are paired with plain-text `.py` files (via jupytext); saving one updates the
#   other. Work on copies if you want to keep your own notes through course updates.
#
# The next cell tells you what you are running on.

# %%
import sys

import torch

import beliefcourse
from beliefcourse.devices import pick_device

print(f"Python {sys.version_info.major}.{sys.version_info.minor}: ok" if sys.version_info >= (3, 10)
      else "Python is older than 3.10: please upgrade")
print(f"beliefcourse {beliefcourse.__version__}, torch {torch.__version__.split('+')[0]}")
print(f"training and probing will run on: {pick_device()}")

# %% [markdown]
# Interactive widgets are part of several chapters. Move the slider below: if the number next
# to it changes, widgets work in your JupyterLab. (If you see text like `IntSlider(value=3)`
# instead of a slider, the `ipywidgets` front end is missing: re-run `./course lab`, which
# installs it.)

# %%
# NBVAL_IGNORE_OUTPUT
import ipywidgets as widgets

widgets.IntSlider(value=3, min=0, max=10, description="try me")

# %% [markdown]
# ## How exercises are checked
#
# Here is the pattern you will meet in every practice notebook. A function is left for you to
# write; a checker then compares it with the reference. This one expects the stationary
# distribution π of an HMM — the left eigenvector of the net transition matrix with eigenvalue
# 1 — and is given a deliberately wrong attempt that forgets to normalise:

# %%
from beliefcourse import checks


def stationary(T):
    """Stationary distribution of the HMM with labelled matrices T[x, i, j]; shape (n_states,)."""
    net = T.sum(axis=0)
    eigenvalues, eigenvectors = np.linalg.eig(net.T)
    return np.real(eigenvectors[:, np.argmin(np.abs(eigenvalues - 1))])   # not normalised!


checks.check_stationary(stationary)

# %% [markdown]
# The verdict names the likely mistake. Fix it (divide by the sum) and the checker passes:

# %%
def stationary(T):
    """Stationary distribution of the HMM with labelled matrices T[x, i, j]; shape (n_states,)."""
    net = T.sum(axis=0)
    eigenvalues, eigenvectors = np.linalg.eig(net.T)
    v = np.real(eigenvectors[:, np.argmin(np.abs(eigenvalues - 1))])
    return v / v.sum()


checks.check_stationary(stationary)

# %% [markdown]
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
# Next: **chapter 01**, where we meet the processes that generate our data.
