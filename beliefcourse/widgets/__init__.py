"""Interactive widgets of the course (ipywidgets 8).

Every builder returns an :class:`ipywidgets.VBox` whose logic runs without a browser: set
``w.controls[name].value`` and read ``w.image.value`` (PNG bytes), ``w.status.value`` (one
line of text) and any numbers the widget documents (a button: ``w.controls[name].click()``).

Belief updating (chapter 02), in :mod:`.belief_update`:

* :func:`belief_update_widget` — click a token, watch the belief move in the simplex over the
  shaded images ``f_x(Δ)`` of each token's update.

Theory (chapters 01 and 03), in :mod:`.theory`:

* :func:`mess3_explorer` — Mess3 for any ``(x, alpha)``: matrices, a sample, token statistics.
* :func:`fractal_explorer` — the chaos-game fractal of Mess3 for any ``(x, alpha)``, with
  ``h_mu`` and the Lyapunov dimension.

Training (chapters 04 and 05), in :mod:`.training`:

* :func:`training_widget` — loss per position over a run's checkpoints.
* :func:`emergence_widget` — the probed belief geometry over a run's checkpoints.

Steering (chapter 06), in :mod:`.steering`:

* :func:`steering_widget` — choose a target belief, watch the model's prediction follow.

Constrained belief updates (chapter 07), in :mod:`.constrained`:

* :func:`constrained_update_explorer` — the constrained update beside the exact belief for any
  ``(x, alpha)``, with the predicted attention, heads and R².

In-context learning (chapter 08), in :mod:`.incontext`:

* :func:`mixture_explorer` — two Mess3 worlds and a weight: the exact in-context loss curve
  and the joint belief geometry.

Importing this package imports neither ipywidgets nor matplotlib nor torch; the builders do.
"""

from .belief_update import belief_update_widget
from .constrained import constrained_update_explorer
from .incontext import mixture_explorer
from .steering import steering_widget
from .theory import fractal_explorer, mess3_explorer
from .training import emergence_widget, training_widget

__all__ = ["belief_update_widget", "constrained_update_explorer", "emergence_widget",
           "fractal_explorer", "mess3_explorer", "mixture_explorer", "steering_widget",
           "training_widget"]
