"""Explorer for a two-world Mess3 mixture (chapter 08): slide each world's ``(x, alpha)`` and
the weight of world 0; see the exact in-context loss curve and the joint belief geometry.

:func:`mixture_explorer` returns an :class:`ipywidgets.VBox` driven without a browser: set
``w.controls[name].value`` (``"x0"``, ``"alpha0"``, ``"x1"``, ``"alpha1"``, ``"w0"``) and read
``w.image.value`` (PNG), ``w.status.value`` (one line) and ``w.stats`` (the numbers).
"""

from __future__ import annotations

from ._common import _assemble, _close, _figure, _image, _positive_int
from .theory import STEP

__all__ = ["mixture_explorer"]


def mixture_explorer(x0: float = 0.05, alpha0: float = 0.85, x1: float = 0.15,
                     alpha1: float = 0.6, w0: float = 0.5, length: int = 9,
                     n_samples: int = 400, seed: int = 0):
    """Two Mess3 worlds; each redraw computes the exact in-context curve to ``length`` tokens
    (enumeration, 3^(length-1) contexts) and the joint beliefs of ``n_samples`` sampled
    sequences (seeded, so only the sliders change the picture).

    Left: Bayes loss, oracle loss and the gap ``I(K; X_t | X_<t)`` per position. Right: joint
    beliefs over (world, state) drawn with :func:`beliefcourse.mixture.joint_layout` (world
    0's triangle on the left, world 1's on the right) after 1, 3 and ``length - 1`` tokens,
    coloured by the world each sequence came from.

    ``w.stats``: ``information`` (``sum_t gap(t) = I(K; X_1..X_length)``, nats),
    ``prior_entropy`` (``H(w)``), ``gap`` (the list), ``on_faces`` (the share of sampled
    contexts of ``length - 1`` tokens whose meta-belief exceeds 0.9 for some world) and
    ``seconds`` (the redraw's compute time).
    """
    import time

    import ipywidgets as widgets

    from .. import incontext, processes
    from ..mixture import joint_layout, mixture
    from ..plotting import plot_joint_beliefs

    length = _positive_int(length, "length")
    n_samples = _positive_int(n_samples, "n_samples")
    if length < 4 or length > 12:
        raise ValueError(f"length must lie in 4..12 (exact enumeration), got {length}")
    values = {"x0": x0, "alpha0": alpha0, "x1": x1, "alpha1": alpha1}
    for k in (0, 1):
        processes.mess3(values[f"x{k}"], values[f"alpha{k}"])       # validates
    if not 0 < w0 < 1:
        raise ValueError(f"w0 must lie strictly between 0 and 1, got {w0}")
    common = dict(step=STEP, readout_format=".3f", continuous_update=False,
                  style={"description_width": "initial"}, layout=widgets.Layout(width="48%"))
    controls = {
        "x0": widgets.FloatSlider(value=x0, min=0.01, max=0.5, description="world 0: x", **common),
        "alpha0": widgets.FloatSlider(value=alpha0, min=0.0, max=1.0, description="world 0: α",
                                      **common),
        "x1": widgets.FloatSlider(value=x1, min=0.01, max=0.5, description="world 1: x", **common),
        "alpha1": widgets.FloatSlider(value=alpha1, min=0.0, max=1.0, description="world 1: α",
                                      **common),
        "w0": widgets.FloatSlider(value=w0, min=0.05, max=0.95, description="weight of world 0",
                                  **common),
    }
    figsize = (10.2, 3.7)
    image = _image(figsize)
    status = widgets.Label()

    def frame(**values):
        start = time.perf_counter()
        v = {k: float(value) for k, value in values.items()}
        mix = mixture([processes.mess3(v["x0"], v["alpha0"]),
                       processes.mess3(v["x1"], v["alpha1"])], [v["w0"], 1 - v["w0"]])
        curve = incontext.incontext_loss(mix, length)
        tokens, _, comps = mix.sample(n_samples, length - 1, seed=seed)
        joint = mix.filter(tokens).joint()                     # (n, length, 6)
        layout = joint_layout([3, 3])
        fig = _figure(figsize)
        ax1, ax2 = fig.subplots(1, 2)
        t = curve.positions
        ax1.plot(t, curve.bayes, "o-", ms=3, label="Bayes (world inferred)")
        ax1.plot(t, curve.oracle, "s--", ms=3, label="oracle (world known)")
        ax1.set_xlabel("position t (token predicted)")
        ax1.set_ylabel("loss per token (nats)")
        axg = ax1.twinx()
        axg.bar(t, curve.gap, color="C2", alpha=0.35, label="gap")
        axg.set_ylabel("gap I(K; X_t | X_<t) (nats)", color="C2")
        ax1.legend(frameon=False, fontsize=9, loc="upper right")
        ax1.set_title(f"in-context loss: Σ gap = {curve.information[-1]:.3f} ≤ "
                      f"H(w) = {curve.prior_entropy:.3f}", fontsize=10)
        for depth, size in ((1, 4), (3, 4), (length - 1, 6)):
            plot_joint_beliefs(joint[:, depth], comps, layout, [3, 3], ax=ax2, s=size,
                               alpha=0.25 + 0.6 * depth / (length - 1))
        ax2.set_title(f"joint belief after 1, 3, {length - 1} tokens (faint → solid);\n"
                      "colour = the world the sequence came from", fontsize=10)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.14, top=0.86, wspace=0.35)
        on_faces = float((mix.filter(tokens).meta[:, -1].max(axis=1) > 0.9).mean())
        png = _close(fig)
        stats = {"information": float(curve.information[-1]),
                 "prior_entropy": curve.prior_entropy, "gap": curve.gap.tolist(),
                 "on_faces": on_faces, "seconds": time.perf_counter() - start}
        text = (f"I(K; X_1..X_{length}) = {curve.information[-1]:.3f} nats of "
                f"H(w) = {curve.prior_entropy:.3f}; after {length - 1} tokens "
                f"{on_faces:.0%} of sampled contexts are > 90 % sure of their world")
        return png, text, {"stats": stats}

    return _assemble([widgets.HBox([controls["x0"], controls["x1"]]),
                      widgets.HBox([controls["alpha0"], controls["alpha1"]]),
                      controls["w0"], status, image], controls, image, status, frame, stats={})
