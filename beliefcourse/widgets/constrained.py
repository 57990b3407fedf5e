"""Explorer for the constrained belief update over Mess3's ``(x, alpha)`` square (chapter 07).

:func:`constrained_update_explorer` returns an :class:`ipywidgets.VBox` driven without a
browser: set ``w.controls["x"].value`` / ``w.controls["alpha"].value`` and read
``w.image.value`` (PNG), ``w.status.value`` (one line) and ``w.stats`` (the numbers).
"""

from __future__ import annotations

import numpy as np

from ._common import _close, _figure, _positive_int
from .theory import _param_explorer

__all__ = ["constrained_update_explorer"]


def constrained_update_explorer(x: float = 0.15, alpha: float = 0.6, L: int = 7,
                                n_ctx: int = 10):
    """Slide ``x`` and ``alpha``; see the constrained update ``r`` beside the exact belief.

    Left: the exact beliefs ``eta`` after every word of length ``L`` (a projective IFS).
    Middle: the constrained update with rate ``zeta = 1 - 3x`` after the same words, mapped
    into the simplex by the best affine map ``r -> eta`` (a linear IFS). Right: the attention
    the ansatz predicts from the last of ``n_ctx`` positions to each distance ``d``,
    ``|zeta|^d / sum``, filled where ``zeta^d > 0`` and hollow where it is negative (those
    need a second head with the opposite OV sign).

    ``w.stats``: ``zeta``, ``heads`` (from the spectrum), ``r2_zeta`` and ``r2_star``
    (R² of the best affine map ``r -> eta`` over all positions of all length-``L`` words,
    with rate ``zeta`` and with the best rate), ``rate_star``, ``orientation``
    (``sign(3 alpha - 1)``). Where ``x = 1/3`` or ``alpha = 1/3``, ``r`` is constant and the
    R² values are NaN.
    """

    from .. import constrained, plotting, processes

    L = _positive_int(L, "L")
    n_ctx = _positive_int(n_ctx, "n_ctx")
    figsize = (10.2, 3.7)           # 918 CSS px: fits a notebook at 1366 x 768 unscaled

    def frame(x, alpha):
        if x <= 0:
            raise ValueError("x = 0 is not ergodic; choose 0 < x <= 1/2")
        hmm = processes.mess3(x, alpha)
        zeta = 1.0 - 3.0 * x
        tree = constrained.prefix_tree(hmm, L)
        last = tree.depth == L
        degenerate = abs(3 * x - 1) < 1e-9 or abs(3 * alpha - 1) < 1e-9
        r = constrained.tree_update(tree, zeta)
        if degenerate:
            mapped, r2_zeta, star = np.broadcast_to(hmm.stationary(), r.shape), np.nan, None
        else:
            mapped, r2_zeta = constrained.affine_fit(r, tree.beliefs, tree.words)
            star = constrained.best_rate(tree, n_grid=21, n_refine=10)
        fig = _figure(figsize)
        ax1, ax2, ax3 = fig.subplots(1, 3)
        cols = plotting.belief_colors(tree.beliefs[last])
        plotting.plot_simplex(tree.beliefs[last], ax=ax1, s=2, colors=cols,
                              title=f"exact belief η\n({3 ** L:,} words of length {L})")
        plotting.plot_simplex(np.clip(mapped[last], -0.5, 1.5), ax=ax2, s=2, colors=cols,
                              title=f"affine image of r\n(rate ζ = {zeta:.2f}), R² {r2_zeta:.3f}")
        d = np.arange(n_ctx)
        w = np.abs(zeta) ** d
        w = w / w.sum()
        pos = zeta ** d >= 0
        ax3.plot(d[pos], w[pos], "o", color="C0", label="ζ^d > 0")
        ax3.plot(d[~pos], w[~pos], "o", mfc="none", color="C3", label="ζ^d < 0")
        if star is not None:
            ws = np.abs(star.rate) ** d
            ax3.plot(d, ws / ws.sum(), ":", color="0.4", label=f"|r*|^d, r* = {star.rate:.2f}")
        ax3.set_xlabel("distance d from the query")
        ax3.set_ylabel("predicted attention")
        ax3.set_title("attention the ansatz predicts", fontsize=10)
        ax3.legend(frameon=False, fontsize=9)
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.15, top=0.84, wspace=0.3)
        heads = constrained.heads_needed(hmm)
        stats = {"x": x, "alpha": alpha, "zeta": zeta, "heads": heads, "r2_zeta": r2_zeta,
                 "rate_star": np.nan if star is None else star.rate,
                 "r2_star": np.nan if star is None else star.r2,
                 "orientation": float(np.sign(3 * alpha - 1))}
        text = (f"x = {x:.3f}, α = {alpha:.3f}: ζ = {zeta:+.3f} → {heads} head(s); "
                f"u_z points {'towards' if alpha > 1 / 3 else 'away from'} its vertex "
                f"(3α − 1 = {3 * alpha - 1:+.2f}); R²(r→η) {r2_zeta:.3f} at ζ, "
                f"{stats['r2_star']:.3f} at r* = {stats['rate_star']:+.3f}")
        return _close(fig), text, {"hmm": hmm, "stats": stats}

    return _param_explorer(x, alpha, figsize, frame)
