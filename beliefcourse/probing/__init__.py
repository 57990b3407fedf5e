"""Affine probes from activations to belief states, with the controls the paper lacks.

The paper's probe (Shai et al. 2024, Figs. 6-7) is one affine regression, activations ->
beliefs, fitted on every ``(sequence, position)`` point of the exactly enumerated inputs.
This subpackage does the same and adds what turns a fit into a claim. One job per module:

* :mod:`.activations` — run a model and collect hook activations (:func:`collect_activations`,
  :func:`layer_hooks`, :func:`default_hook_sets`);
* :mod:`.features` — the token-history baseline (:func:`input_only_features`);
* :mod:`.metrics` — :func:`mse`, THE R² of the course (:func:`r2`: ``1 - sum_i w_i ||y_i -
  yhat_i||^2 / sum_i w_i ||y_i - ybar_w||^2``, pooled over coordinates) and :class:`Scores`;
* :mod:`.estimator` — the probe itself (:class:`AffineProbe`, OLS or ridge);
* :mod:`.splits` — held-out splits over *sequences*, never points (:func:`split_sequences`);
* :mod:`.evaluation` — fit on one side, score both, unweighted and probability-weighted
  (:func:`evaluate`), and the controls at the same feature dimension
  (:func:`shuffle_control`, :func:`untrained_control`); :class:`ProbeResult`;
* :mod:`.reports` — several representations with their controls (:func:`compare_layers`,
  :func:`layer_sweep`), a shipped checkpoint with its JSON record (:func:`probe_checkpoint`),
  :class:`ProbeReport`;
* :mod:`.distances` — do representation distances track belief distances? (Fig. 7D,
  :func:`belief_distance_test`);
* :mod:`.prefixes` — shared prefixes: fit each once (:func:`distinct_prefixes`,
  :func:`prefix_ids`) and find the truly new held-out points (:func:`new_prefix_points`);
* :mod:`.interpolation` — when a probe can fit anything (:func:`affine_rank`,
  :func:`repeated_hooks`) and a ridge penalty chosen blind (:func:`ridge_alpha_by_grouped_cv`).

Shapes: ``N`` sequences, ``L`` positions (``n_ctx``), ``D`` features, ``S`` hidden states.
``features (N, L, D)`` come from :func:`collect_activations`; ``beliefs (N, L, S)`` and
``probs (N,)`` from :class:`beliefcourse.data.ExactData`, whose position ``p`` targets the
belief after ``p + 1`` tokens (see CONTRIBUTING.md). Every metric comes in two weightings:
*unweighted* (each point once, as in the authors' code) and *weighted* (point ``(n, p)``
weighted by ``P(sequence n)``, i.e. its prefix probability).

Typical use::

    from beliefcourse.probing import probe_checkpoint
    print(probe_checkpoint("mess3").table())

Importing this subpackage does not import torch; functions that run a model import it.
"""

from .activations import collect_activations, default_hook_sets, layer_hooks
from .distances import DistanceTest, belief_distance_test
from .estimator import AffineProbe
from .evaluation import ProbeResult, evaluate, shuffle_control, untrained_control
from .features import input_only_features
from .interpolation import affine_rank, repeated_hooks, ridge_alpha_by_grouped_cv
from .metrics import Scores, mse, r2
from .prefixes import PrefixCopies, distinct_prefixes, new_prefix_points, prefix_ids
from .reports import ProbeReport, ProbeRow, compare_layers, layer_sweep, probe_checkpoint
from .splits import split_sequences

__all__ = [
    "AffineProbe", "DistanceTest", "PrefixCopies", "ProbeReport", "ProbeResult", "ProbeRow",
    "Scores", "affine_rank", "belief_distance_test", "collect_activations", "compare_layers",
    "default_hook_sets", "distinct_prefixes", "evaluate", "input_only_features", "layer_hooks",
    "layer_sweep", "mse", "new_prefix_points", "prefix_ids", "probe_checkpoint", "r2",
    "repeated_hooks", "ridge_alpha_by_grouped_cv", "shuffle_control", "split_sequences",
    "untrained_control",
]
