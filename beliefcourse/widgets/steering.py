"""Steer a model's activation towards a belief you choose, and watch its prediction (chapter 06).

:func:`steering_widget` shows one context of a 3-state process (Mess3). Choose a target
belief ``b'`` with two sliders (the third coordinate is ``1 - a - b``); the widget moves the
activation at a hook by the pattern's move ``A (b' - b)`` or the probe's move
``W^+ (b' - bhat)`` (:mod:`beliefcourse.steering`), runs the rest of the model, and draws the
model's next-token distribution beside the one ``b'`` predicts and the unsteered one.

The logic runs without a browser: set ``w.controls[name].value`` (``"context"``, ``"a"``,
``"b"``, ``"move"``) and read ``w.image.value`` (PNG), ``w.status.value`` and ``w.result``
(a dict with ``target``, ``bayes``, ``steered``, ``unsteered``, ``kl_steered`` and
``kl_unsteered``).
"""

from __future__ import annotations

import numpy as np

from ._common import _assemble, _close, _figure

__all__ = ["steering_widget"]


def _target(a: float, b: float) -> np.ndarray:
    """The belief ``(a, b, 1 - a - b)``, projected onto the simplex if it falls outside."""
    v = np.array([a, b, 1.0 - a - b], dtype=float)
    if v.min() < 0:
        v = np.clip(v, 0, None)
        v /= v.sum()
    return v


def steering_widget(model, hmm, hook: str, contexts, beliefs, probe, pattern,
                    background=None, start: int = 0):
    """Pick a target belief; see whether the model's next-token prediction follows.

    Parameters
    ----------
    model : a course model; hmm : a 3-state process (e.g. Mess3)
    hook : str
        Where to steer (:func:`beliefcourse.steering.steerable_hooks`).
    contexts : int array (M, L)
        Contexts to choose from; the last position is steered.
    beliefs : array (M, 3)
        Their true beliefs at the last position.
    probe : fitted :class:`~beliefcourse.probing.AffineProbe` on ``hook``'s activations
    pattern : array (D, 3)
        The regression of the activations on the beliefs (``A``).
    background : array (K, 3), optional
        Beliefs drawn faintly in the simplex (e.g. the fractal).
    start : int
        Index of the context shown first.
    """
    import ipywidgets as widgets
    import torch

    from .. import plotting, steering
    from ..probing import collect_activations

    ctx = np.asarray(contexts)
    bel = np.asarray(beliefs, dtype=float)
    if hmm.n_states != 3 or bel.ndim != 2 or bel.shape != (len(ctx), 3) or ctx.ndim != 2:
        raise ValueError("steering_widget needs a 3-state process, contexts (M, L) and their "
                         f"beliefs (M, 3); got {hmm.n_states} states, contexts {ctx.shape}, "
                         f"beliefs {bel.shape}")
    if not 0 <= start < len(ctx):
        raise ValueError(f"start must index one of the {len(ctx)} contexts, got {start}")
    acts = collect_activations(model, ctx, hook)[:, -1]
    readouts = probe.predict(acts)
    emit = np.asarray(hmm.T, dtype=float).sum(axis=2).T
    names = hmm.token_names if getattr(hmm, "token_names", None) else [
        str(x) for x in range(hmm.n_tokens)]

    def predict(i, move):
        batch = torch.as_tensor(ctx[i:i + 1].copy()).long()

        def edit(a):
            a = a.clone()
            a[:, -1] += torch.as_tensor(move, dtype=a.dtype, device=a.device)
            return a

        logits = steering.run_from_hook(model, batch, hook, edit)[0, -1]
        return logits.double().softmax(-1).cpu().numpy()

    slider = dict(min=0.0, max=1.0, step=0.01, continuous_update=False,
                  style={"description_width": "initial"})
    controls = {
        "context": widgets.IntSlider(value=start, min=0, max=len(ctx) - 1,
                                     description="context", continuous_update=False),
        "a": widgets.FloatSlider(value=0.2, description="b′ state A", **slider),
        "b": widgets.FloatSlider(value=0.2, description="b′ state B", **slider),
        "move": widgets.Dropdown(options=["pattern", "probe"], value="pattern",
                                 description="move"),
    }
    image, status = widgets.Image(format="png"), widgets.Label()

    def frame(context, a, b, move):
        i = int(context)
        target = _target(a, b)
        if move == "pattern":
            delta = steering.pattern_move(pattern, bel[i], target)
        else:
            delta = steering.steering_move(probe.coef_, readouts[i], target)
        steered, unsteered, bayes = predict(i, delta), predict(i, np.zeros_like(delta)), \
            target @ emit
        kl = steering.kl_divergence(bayes, steered), steering.kl_divergence(bayes, unsteered)
        result = {"target": target, "bayes": bayes, "steered": steered,
                  "unsteered": unsteered, "kl_steered": float(kl[0]),
                  "kl_unsteered": float(kl[1])}
        fig = _figure((10, 4.2))
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
        cloud = np.eye(3) if background is None else np.asarray(background)
        plotting.plot_simplex(cloud, ax=ax1, s=1.5 if background is not None else 0,
                              colors="0.55", labels=hmm.state_names)
        xy = plotting.simplex_coordinates(np.stack([bel[i], target]))
        ax1.plot(*xy.T, "-", color="0.3", lw=1)
        ax1.plot(*xy[0], "o", color="C0", ms=9, label="b: the context's belief")
        ax1.plot(*xy[1], "*", color="C3", ms=14, label="b′: the target")
        ax1.legend(frameon=False, fontsize=9, loc="upper right")
        x = np.arange(len(bayes))
        for k, (label, q, colour) in enumerate([("P(x | b′), Bayes", bayes, "C3"),
                                               ("model, steered", steered, "C2"),
                                               ("model, unsteered", unsteered, "0.6")]):
            ax2.bar(x + (k - 1) * 0.27, q, width=0.27, color=colour, label=label)
        ax2.set_xticks(x, names)
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("next-token probability")
        ax2.legend(frameon=False, fontsize=9)
        fig.tight_layout()
        text = (f"context {i}: KL(Bayes at b′ ‖ model) = {kl[0]:.4f} nats steered "
                f"({move} move), {kl[1]:.4f} unsteered")
        return _close(fig, dpi=90, tight=True), text, {"result": result}

    return _assemble([widgets.HBox([controls["context"], controls["move"]]),
                      widgets.HBox([controls["a"], controls["b"]]), status, image],
                     controls, image, status, frame, result=None)
