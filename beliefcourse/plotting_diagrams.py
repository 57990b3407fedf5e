"""Schematic diagrams drawn with matplotlib (no image files, no torch).

:func:`plot_transformer_diagram` draws the decoder-only transformer of chapter 04 as a
residual stream: a horizontal line that every sublayer reads from (through a LayerNorm) and
*adds* its output to, with the shape of the tensor at each point and the hook names of
:mod:`beliefcourse.model`. It reads the sizes from a config (any object with the fields of
:class:`beliefcourse.model.TransformerConfig`), so it needs no model and never imports torch.

Like every plotting function of the package it takes an optional ``ax``, returns the axes it
drew on, and never calls ``plt.show()``.
"""

from __future__ import annotations

__all__ = ["plot_transformer_diagram"]

#: The paper's Mess3 model (TransformerConfig's defaults), used when no config is given.
_DEFAULTS = {"n_layers": 4, "d_model": 64, "n_heads": 1, "d_head": 8, "d_mlp": 256,
             "n_ctx": 10, "d_vocab": 3, "act_fn": "relu"}


def _sizes(cfg) -> dict:
    if cfg is None:
        return dict(_DEFAULTS)
    sizes = {}
    for name, default in _DEFAULTS.items():
        value = getattr(cfg, name, default)
        if name != "act_fn" and (isinstance(value, bool) or not isinstance(value, int)
                                 or value < 1):
            raise ValueError(f"cfg.{name} must be a positive integer, got {value!r}")
        sizes[name] = value
    return sizes


def _box(ax, x, y, text, width, height, color):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=color, edgecolor="0.25", lw=1.0, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=4)


def _arrow(ax, start, end, color="0.25", lw=1.2):
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw,
                            "shrinkA": 0, "shrinkB": 0, "mutation_scale": 11})


def _plus(ax, x, y, color):
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), 0.17, facecolor="white", edgecolor=color, lw=1.5, zorder=4))
    ax.text(x, y, "+", ha="center", va="center_baseline", fontsize=11, color=color,
            zorder=5)


def plot_transformer_diagram(cfg=None, ax=None, title: str | None = None):
    """Draw the residual stream of a pre-LN decoder-only transformer, with shapes.

    Parameters
    ----------
    cfg : TransformerConfig or any object with its fields, optional
        Sizes to print (``n_layers``, ``d_model``, ``n_heads``, ``d_head``, ``d_mlp``,
        ``n_ctx``, ``d_vocab``, ``act_fn``); missing fields take the paper's values.
        ``None`` draws the paper's Mess3 model.
    ax : matplotlib Axes, optional
        Where to draw; a new 12.5 x 4.6 inch figure is made when ``None``.
    title : str, optional

    Returns
    -------
    matplotlib Axes
        One block is drawn in full and marked "× n_layers". ``B`` is the batch size and
        ``L`` the number of tokens (at most ``n_ctx``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    s = _sizes(cfg)
    if ax is None:
        _, ax = plt.subplots(figsize=(12.5, 4.6))
    d, stream_color = s["d_model"], "#3b6ea8"
    heads = f"{s['n_heads']} head{'s' if s['n_heads'] > 1 else ''} of size {s['d_head']}"
    act = str(s["act_fn"]).upper()

    # the stream: a thick line from the embeddings' sum to the final LayerNorm
    ax.plot([3.45, 9.7], [0, 0], color=stream_color, lw=6, alpha=0.35, zorder=1,
            solid_capstyle="butt")
    ax.text(6.6, -1.5, f"residual stream: {d} numbers per position, shape (B, L, {d})",
            ha="center", va="center", fontsize=9, color=stream_color)

    # inputs and embeddings
    _box(ax, 0.6, 0.9, "tokens\n$x_1 \\dots x_L$\n(B, L)", 1.0, 0.9, "white")
    _box(ax, 2.15, 0.9, f"embed $W_E$\n({s['d_vocab']}, {d})", 1.5, 0.7, "#f3e3c3")
    _box(ax, 2.15, -0.9, f"pos_embed $W_{{pos}}$\n({s['n_ctx']}, {d})", 1.6, 0.7, "#f3e3c3")
    _arrow(ax, (1.1, 0.9), (1.4, 0.9))
    _arrow(ax, (2.9, 0.75), (3.33, 0.12))
    _arrow(ax, (2.9, -0.75), (3.33, -0.12))
    _plus(ax, 3.45, 0, stream_color)
    ax.text(3.45, -0.42, f"resid_pre\n(B, L, {d})", ha="center", va="top", fontsize=8.5)

    # one block: attention, then MLP, each reading a LayerNorm of the stream and adding back
    y_box, h_box = 1.6, 0.95
    for x0, x1, label, name, color in [
            (4.5, 6.3, f"LN → attention\n{heads}\npattern (B, {s['n_heads']}, L, L)",
             f"resid_mid\n(B, L, {d})", "#dfe9d8"),
            (6.9, 8.7, f"LN → MLP\n{d} → {s['d_mlp']} → {act} → {d}",
             f"resid_post\n(B, L, {d})", "#e6dff0")]:
        _box(ax, (x0 + x1) / 2, y_box, label, x1 - x0 + 0.45, h_box, color)
        _arrow(ax, (x0, 0.05), (x0, y_box - h_box / 2))
        _arrow(ax, (x1, y_box - h_box / 2), (x1, 0.18))
        _plus(ax, x1, 0, stream_color)
        ax.text(x1, -0.42, name, ha="center", va="top", fontsize=8.5)
    ax.text(5.4, 0.55, "mixes positions", ha="center", fontsize=8, style="italic",
            color="0.3")
    ax.text(7.8, 0.55, "each position alone", ha="center", fontsize=8, style="italic",
            color="0.3")
    ax.add_patch(Rectangle((4.05, -1.15), 5.15, 3.95, fill=False, ls="--", lw=1.0,
                           edgecolor="0.45", zorder=0))
    ax.text(4.15, 2.7, f"block ℓ, repeated × {s['n_layers']} (ℓ = 0 … {s['n_layers'] - 1})",
            ha="left", va="top", fontsize=9, color="0.3")

    # read-out
    _box(ax, 10.15, 0, "ln_final", 0.85, 0.55, "#f3e3c3")
    _box(ax, 11.55, 0, f"unembed $W_U$\n({d}, {s['d_vocab']}) + $b_U$", 1.5, 0.7, "#f3e3c3")
    _arrow(ax, (10.58, 0), (10.8, 0))
    _arrow(ax, (11.55, -0.35), (11.55, -0.95))
    ax.text(11.55, -1.05, f"logits (B, L, {s['d_vocab']})\nposition p predicts $x_{{p+2}}$",
            ha="center", va="top", fontsize=8.5)

    ax.set_xlim(0, 12.4)
    ax.set_ylim(-1.9, 2.85)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
