"""Checkpoint sliders for chapters 04 and 05.

* :func:`training_widget` — slide through the checkpoints of a training run and watch the
  exact loss at every position approach its floor ``h(p + 2)`` (chapter 04). It needs only the
  checkpoints' JSON records, so it is instant.
* :func:`emergence_widget` — slide through checkpoints and watch the probed belief geometry
  form in the simplex, beside the probe's error over training (chapter 05). It takes arrays
  the notebook has already computed (one forward pass and one probe fit per checkpoint), so
  moving the slider only redraws.

Both return an :class:`ipywidgets.VBox` whose logic runs without a browser: set
``w.slider.value`` (or ``w.controls["checkpoint"].value``) and read ``w.image.value`` (PNG
bytes) and ``w.status.value`` (a one-line summary). ``w.frame`` is the index of the checkpoint
on show.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import _assemble, _close, _figure

__all__ = ["emergence_widget", "training_widget"]


# ---------------------------------------------------------------------------- helpers
def _checkpoint_box(tokens: Sequence[int], start: int, draw):
    """A slider over the checkpoints (labelled by ``tokens``) above a status line and the
    picture: ``draw(i) -> (figure, status text)`` draws checkpoint ``i``. ``.slider``;
    ``.frame``: the checkpoint on show."""
    import ipywidgets as widgets

    slider = _slider(tokens, start, "training tokens")
    image, status = widgets.Image(format="png"), widgets.Label()

    def frame(checkpoint):
        fig, text = draw(int(checkpoint))
        return _close(fig, dpi=90, tight=True), text, {"frame": int(checkpoint)}

    return _assemble([slider, status, image], {"checkpoint": slider}, image, status, frame,
                     slider=slider, frame=None)


def _slider(tokens: Sequence[int], start: int, description: str):
    import ipywidgets as widgets

    options = [(f"{t:,}", i) for i, t in enumerate(tokens)]
    return widgets.SelectionSlider(options=options, value=start, description=description,
                                   continuous_update=False,
                                   style={"description_width": "initial"},
                                   layout=widgets.Layout(width="70%"))


def _check_index(start, n, what):
    if start is None:
        return n - 1
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not \
            -n <= start < n:
        raise ValueError(f"start must be an index into the {n} {what}, got {start!r}")
    return int(start) % n


# ---------------------------------------------------------------------------- chapter 04
def _records(source) -> list[dict]:
    """Records of every checkpoint of ``source``: a shipped name, a directory, or a list of
    record dicts (ordered by ``tokens_seen``)."""
    from .. import checkpoints

    if isinstance(source, (list, tuple)):
        recs = list(source)
        if not recs or not all(isinstance(r, dict) for r in recs):
            raise TypeError("records must be a non-empty list of checkpoint record dicts")
    elif isinstance(source, str) and source in checkpoints.available():
        recs = [checkpoints.record(source, t) for t in checkpoints.tokens(source)]
    else:
        paths = checkpoints.list_checkpoints(source)
        if not paths:
            raise FileNotFoundError(f"{source!s} is neither a shipped checkpoint name "
                                    f"({checkpoints.available()}) nor a directory of "
                                    "checkpoints")
        recs = [checkpoints.read_record(p) for p in paths]
    needed = ("tokens_seen", "val_loss_per_position", "optimal_loss", "relative_loss")
    for r in recs:
        missing = [k for k in needed if k not in r]
        if missing:
            raise ValueError(f"checkpoint record {r.get('name', '?')} lacks {missing}; records "
                             "written by beliefcourse.train have them")
    return sorted(recs, key=lambda r: r["tokens_seen"])


def training_widget(source="mess3", start: int | None = None):
    """Slide through a run's checkpoints; see the exact loss per position approach its floor.

    Parameters
    ----------
    source : str, path or list of dict
        A shipped checkpoint name (``"mess3"``), a directory written by
        ``python -m beliefcourse train``, or the checkpoint records themselves.
    start : int, optional
        Index of the checkpoint shown first (default: the last).

    Returns
    -------
    ipywidgets.VBox
        With ``.slider`` (one stop per checkpoint, labelled by tokens seen), ``.image`` (PNG),
        ``.status`` (text) and ``.controls``. Three panels: loss per position against the
        optimum ``h(p + 2)``; relative loss - 1 per position (log scale); the training curve
        from the last record's history with the checkpoint marked.
    """

    recs = _records(source)
    start = _check_index(start, len(recs), "checkpoints")
    loss = np.array([r["val_loss_per_position"] for r in recs])           # (K, n_ctx)
    optimum = np.asarray(recs[-1]["optimal_loss"], dtype=float)
    rel = loss / optimum
    excess = np.clip(rel - 1, 1e-12, None)         # exact ties with the optimum sit at 1e-12
    positions = np.arange(loss.shape[1])
    hist = recs[-1].get("history") or {}
    tokens = [r["tokens_seen"] for r in recs]
    top = float(min(max(loss.max(), optimum.max() + 0.01), optimum.max() + 0.12))
    ex_lo = 10 ** np.floor(np.log10(excess.min()) - 0.3)
    ex_hi = 10 ** np.ceil(np.log10(excess.max()))

    def frame(i):
        fig = _figure((12.5, 3.6))
        ax1, ax2, ax3 = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.1]})
        ax1.plot(positions, optimum, "k--", lw=1.3, label="optimum h(p+2)", zorder=3)
        for j, color, label, marker in ((i - 1, "0.7", "previous checkpoint", "-"),
                                        (i, "C0", f"{tokens[i]:,} tokens", "o-")):
            if j < 0:
                continue
            shown = np.minimum(loss[j], top)
            ax1.plot(positions, shown, marker, color=color, ms=5, label=label)
            clipped = loss[j] > top
            if clipped.any():
                ax1.plot(positions[clipped], shown[clipped], "^", color=color, ms=8)
        if (loss[i] > top).any():
            ax1.text(0.02, 0.90, f"^ off the chart (up to {loss[i].max():.2f} nats)",
                     transform=ax1.transAxes, fontsize=7, va="top", color="C0")
        ax1.set_ylim(optimum.min() - 0.01, top + 0.005)
        ax1.set_xlabel("position p")
        ax1.set_ylabel("exact loss [nats]")
        ax1.set_title("loss per position", fontsize=10)
        ax1.legend(frameon=False, fontsize=7)

        if i > 0:
            ax2.semilogy(positions, excess[i - 1], "-", color="0.7")
        ax2.semilogy(positions, excess[i], "o-", color="C0", ms=5)
        ax2.set_ylim(ex_lo, ex_hi)
        ax2.set_xlabel("position p")
        ax2.set_ylabel("relative loss - 1")
        ax2.set_title("distance to the optimum", fontsize=10)
        ax2.grid(alpha=0.3, which="major")

        if hist.get("tokens"):
            t = np.asarray(hist["tokens"], dtype=float)
            h_rel = np.asarray(hist["relative_loss"], dtype=float)
            keep = t > 0
            ax3.loglog(t[keep], np.clip(h_rel[keep] - 1, 1e-6, None), "-", color="C0", lw=1.2)
        ck = np.array(tokens, dtype=float)
        mean_ex = np.clip(np.array([r["relative_loss"] for r in recs]) - 1, 1e-6, None)
        ax3.loglog(ck[ck > 0], mean_ex[ck > 0], "o", color="0.6", ms=4)
        if tokens[i] > 0:
            ax3.loglog([tokens[i]], [mean_ex[i]], "o", color="C3", ms=9)
        else:
            ax3.text(0.97, 0.97, f"untrained: mean relative loss {rel[i].mean():.3f}\n"
                     "(0 tokens is off the log axis)", transform=ax3.transAxes,
                     ha="right", va="top", fontsize=8, color="C3")
        ax3.set_xlabel("training tokens")
        ax3.set_ylabel("mean relative loss - 1")
        ax3.set_title("training curve", fontsize=10)
        fig.tight_layout()
        worst = int(np.argmax(rel[i]))
        text = (f"{tokens[i]:,} tokens: mean relative loss {recs[i]['relative_loss']:.5f}; "
                f"position 0 at {rel[i, 0]:.5f}, worst position {worst} at {rel[i, worst]:.5f}")
        return fig, text

    return _checkpoint_box(tokens, start, frame)


# ---------------------------------------------------------------------------- chapter 05
def emergence_widget(tokens: Sequence[int], predictions: Sequence[np.ndarray], beliefs,
                     mse: Sequence[float] | None = None, baselines: dict | None = None,
                     relative_loss: Sequence[float] | None = None, start: int | None = None,
                     point_size: float = 0.6):
    """Slide through checkpoints; watch the probed beliefs form the fractal.

    Parameters
    ----------
    tokens : sequence of int, length K
        Training tokens of each checkpoint (the slider's labels).
    predictions : sequence of K arrays, each (M, 3)
        The probe's output at M points for each checkpoint (e.g. held-out points).
    beliefs : array (M, 3)
        The true beliefs at those points; they give every point its colour, so a point keeps
        its colour from frame to frame.
    mse : sequence of K floats, optional
        Probe MSE per checkpoint, drawn against tokens beside the simplex.
    baselines : dict label -> float, optional
        Horizontal reference lines on the MSE panel (e.g. untrained, input only, shuffled).
    relative_loss : sequence of K floats, optional
        Shown in the status line.
    start : int, optional
        Index of the checkpoint shown first (default: the last).
    point_size : float
        Marker size of the simplex scatter.

    Returns
    -------
    ipywidgets.VBox
        With ``.slider``, ``.image`` (PNG), ``.status`` and ``.controls``.
    """

    from .. import plotting

    tokens = [int(t) for t in tokens]
    K = len(tokens)
    if K == 0 or len(predictions) != K:
        raise ValueError(f"need one prediction array per checkpoint: {K} token counts, "
                         f"{len(predictions)} prediction arrays")
    beliefs = np.asarray(beliefs, dtype=float)
    preds = [np.asarray(p, dtype=float) for p in predictions]
    if beliefs.ndim != 2 or beliefs.shape[1] != 3 or any(p.shape != beliefs.shape for p in preds):
        raise ValueError("beliefs and every prediction array must have the same shape (M, 3); "
                         f"got beliefs {beliefs.shape} and predictions "
                         f"{sorted({p.shape for p in preds})}")
    for name, seq in (("mse", mse), ("relative_loss", relative_loss)):
        if seq is not None and len(seq) != K:
            raise ValueError(f"{name} must have one value per checkpoint ({K}), got {len(seq)}")
    start = _check_index(start, K, "checkpoints")
    colors = plotting.belief_colors(beliefs)
    # One window for every frame (the union of all frames, the triangle included, capped at
    # half a side beyond it), so sliding never rescales the picture.
    xy = np.concatenate([plotting.simplex_coordinates(np.eye(3))]
                        + [plotting.simplex_coordinates(p) for p in preds])
    lo = np.maximum(np.nanmin(xy, axis=0), [-0.5, -0.5]) - 0.03
    hi = np.minimum(np.nanmax(xy, axis=0), [1.5, 1.37]) + 0.03

    def frame(i):
        fig = _figure((10.5, 4.6) if mse is not None else (5.2, 4.6))
        axes = fig.subplots(1, 2 if mse is not None else 1,
                            gridspec_kw={"width_ratios": [1, 1.05]} if mse is not None else None)
        ax = axes[0] if mse is not None else axes
        plotting.plot_simplex(preds[i], colors=colors, ax=ax, s=point_size)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_title(f"probed beliefs after {tokens[i]:,} tokens", fontsize=10)
        if mse is not None:
            ax2 = axes[1]
            t = np.asarray(tokens, dtype=float)
            m = np.asarray(mse, dtype=float)
            x = np.where(t > 0, t, np.nan)
            ax2.loglog(x, m, "o-", color="C0", ms=4, label="trained (probe MSE)")
            if t[i] > 0:
                ax2.loglog([t[i]], [m[i]], "o", color="C3", ms=10)
            else:
                ax2.axhline(m[i], color="C3", lw=0.8, ls="-", alpha=0.6)
            for j, (label, value) in enumerate((baselines or {}).items()):
                ax2.axhline(value, ls="--", lw=1, color=f"C{j + 1}", label=label)
            ax2.set_xlabel("training tokens")
            ax2.set_ylabel("held-out probe MSE")
            ax2.legend(frameon=False, fontsize=7)
            ax2.set_title("probe error over training", fontsize=10)
        fig.tight_layout()
        text = f"{tokens[i]:,} tokens"
        if mse is not None:
            text += f": probe MSE {mse[i]:.2e}"
        if relative_loss is not None:
            text += f"; mean relative loss {relative_loss[i]:.5f}"
        return fig, text

    return _checkpoint_box(tokens, start, frame)
