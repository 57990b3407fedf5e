"""Parameter explorers for the Mess3 family (chapters 01 and 03).

* :func:`mess3_explorer` — rebuild Mess3 for any ``(x, alpha)`` and see its matrices, a
  sampled stretch of hidden states and tokens, and how often a token repeats ``k`` steps
  later (exact and measured) (chapter 01).
* :func:`fractal_explorer` — the chaos-game picture of Mess3's beliefs for any
  ``(x, alpha)``, with the entropy rate, the top Lyapunov exponent and the Lyapunov dimension
  (chapter 03).

Both return an :class:`ipywidgets.VBox` driven without a browser: set
``w.controls["x"].value`` or ``w.controls["alpha"].value`` (slider descriptions ``"x"`` and
``"α"``), then read ``w.image.value`` (PNG bytes, drawn at twice the pixels it is shown
at), ``w.status.value`` (the numbers as text: one line for the Mess3 explorer, one HTML line
per quantity for the fractal explorer) and ``w.stats`` (the numbers behind it). ``w.hmm`` is
the process on show.
"""

from __future__ import annotations

import html
import warnings

import numpy as np

from ..hmm import ReducibleChainWarning, closed_classes
from ._common import _assemble, _close, _figure, _image, _positive_int

__all__ = ["fractal_explorer", "mess3_explorer"]

#: Slider step: 1/300 makes x = 1/3 and alpha = 1/3 (the special values the prose asks
#: for) reachable exactly, as well as 0.05, 0.15, 0.6 and 0.85.
STEP = 1.0 / 300.0
MESS3_FIGSIZE = (11.5, 3.0)
FRACTAL_FIGSIZE = (5.0, 4.7)


def _param_sliders(x: float, alpha: float):
    import ipywidgets as widgets

    from .. import processes

    processes.mess3(x, alpha)          # validates both (TypeError / ValueError)
    common = dict(step=STEP, readout_format=".3f", continuous_update=False,
                  style={"description_width": "initial"}, layout=widgets.Layout(width="60%"))
    xs = widgets.FloatSlider(value=float(x), min=0.0, max=0.5, description="x", **common)
    al = widgets.FloatSlider(value=float(alpha), min=0.0, max=1.0, description="α", **common)
    return xs, al


def _param_explorer(x: float, alpha: float, figsize, frame, below=()):
    """Sliders ``x`` and ``α`` over a status line and the picture (then ``below``), redrawn
    by ``frame(x, alpha) -> (png, status text, {"hmm": ..., "stats": ...})``."""
    import ipywidgets as widgets

    xs, al = _param_sliders(x, alpha)
    image, status = _image(figsize), widgets.Label()
    return _assemble([xs, al, status, image, *below], {"x": xs, "alpha": al}, image, status,
                     frame, hmm=None, stats={})


# ---------------------------------------------------------------------------- chapter 01
def _mean_run_length(tokens: np.ndarray) -> float:
    """Average length of the runs of equal tokens, over all rows."""
    changes = (tokens[:, 1:] != tokens[:, :-1]).sum()
    runs = changes + tokens.shape[0]
    return float(tokens.size / runs)


def _matrix_html(hmm) -> str:
    def table(M):
        rows = "".join("<tr>" + "".join(f"<td style='padding:0 6px;text-align:right'>"
                                         f"{v:.4f}</td>" for v in row) + "</tr>" for row in M)
        return f"<table style='font-family:monospace;font-size:85%'>{rows}</table>"

    cells = [f"<div style='margin-right:14px'><b>T<sup>({name})</sup></b>{table(hmm.T[x])}"
             "</div>" for x, name in enumerate(hmm.token_names)]
    cells.append("<div><b>net T = &Sigma;<sub>x</sub> T<sup>(x)</sup></b>"
                 f"{table(hmm.transition_matrix)}</div>")
    return ("<div style='display:flex;flex-wrap:wrap'>" + "".join(cells) + "</div>"
            "<div style='font-size:85%'>rows: from-state A, B, C; columns: to-state A, B, C."
            "</div>")


def mess3_explorer(x: float = 0.05, alpha: float = 0.85, n_sequences: int = 2000,
                   max_lag: int = 20, strip_length: int = 60, seed=0):
    """Rebuild Mess3 for any ``(x, alpha)``: matrices, a sample and token statistics.

    Parameters
    ----------
    x, alpha : float
        Starting values of the sliders (``x`` in [0, 1/2], ``alpha`` in [0, 1]).
    n_sequences : int
        Sequences of ``max_lag + 1`` tokens sampled to measure the lag agreement.
    max_lag : int
        Largest lag ``k`` shown.
    strip_length : int
        Tokens in the sampled stretch drawn as a strip.
    seed :
        Seed of every sample (the same seed for every slider position, so changes in the
        picture come from the parameters, not from the dice).

    Returns
    -------
    ipywidgets.VBox
        Sliders ``"x"`` and ``"α"`` (``.controls["x"]``, ``.controls["alpha"]``); ``.image``:
        left, the hidden states and the emitted tokens of one sample (colour = A, B, C);
        right, ``P(x_{t+k} = x_t)`` against ``k``, exact and measured. ``.matrices`` (HTML):
        ``T^(A)``, ``T^(B)``, ``T^(C)`` and the net matrix. ``.status``: ``zeta``, the lag-1
        agreement, token frequencies and the mean run length. ``.stats``: those numbers.
    """
    import ipywidgets as widgets
    from matplotlib.colors import ListedColormap

    from .. import processes

    n_sequences = _positive_int(n_sequences, "n_sequences")
    max_lag = _positive_int(max_lag, "max_lag")
    strip_length = _positive_int(strip_length, "strip_length")
    cmap = ListedColormap(["#d62728", "#2ca02c", "#1f77b4"])
    lags = np.arange(1, max_lag + 1)
    matrices = widgets.HTML()

    def frame(x, alpha):
        hmm = processes.mess3(x, alpha)
        zeta = 1.0 - 3.0 * x
        with warnings.catch_warnings():
            # at x = 0 the hidden chain is reducible: sequences start from the uniform pi
            # (the least-norm choice), each staying in the state it starts in
            warnings.simplefilter("ignore", ReducibleChainWarning)
            exact = hmm.lag_agreement(max_lag)
            tokens, _ = hmm.sample(n_sequences, max_lag + 1, seed=seed)
            strip_tokens, strip_states = hmm.sample(1, strip_length, seed=seed)
        measured = np.array([(tokens[:, :-k] == tokens[:, k:]).mean() for k in lags])
        freqs = np.bincount(tokens.ravel(), minlength=3) / tokens.size
        run = _mean_run_length(tokens)

        fig = _figure(MESS3_FIGSIZE)
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        rows = np.vstack([strip_states[0, 1:], strip_tokens[0]])
        ax1.imshow(rows, cmap=cmap, vmin=-0.5, vmax=2.5, aspect="auto",
                   interpolation="nearest")
        for t in range(strip_length):
            ax1.text(t, 1, hmm.token_names[strip_tokens[0, t]], ha="center", va="center",
                     fontsize=6, color="white")
        ax1.set_yticks([0, 1], ["hidden state", "token"])
        ax1.set_xlabel("time step")
        ax1.set_title(f"one sample: {strip_length} steps (red A, green B, blue C)",
                      fontsize=10)
        ax2.plot(lags, exact, "-", color="0.3", label="exact")
        ax2.plot(lags, measured, "o", ms=3.5, color="C3",
                 label=f"measured ({n_sequences:,} samples)")
        ax2.axhline(1 / 3, ls=":", color="0.5", label="chance (1/3)")
        lo = min(exact.min(), measured.min(), 1 / 3)
        hi = max(exact.max(), measured.max(), 1 / 3)
        span = max(hi - lo, 0.05)
        ax2.set_ylim(lo - 0.1 * span, hi + 0.1 * span)
        ax2.set_xlabel("lag k")
        ax2.set_ylabel(r"$P(x_{t+k} = x_t)$")
        ax2.set_title(f"token agreement at lag k (ζ = {zeta:.3f})", fontsize=10)
        ax2.legend(frameon=False, fontsize=7)
        fig.subplots_adjust(left=0.09, right=0.99, bottom=0.17, top=0.9, wspace=0.22)

        matrices.value = _matrix_html(hmm)
        stats = {"x": x, "alpha": alpha, "zeta": zeta, "lag1_exact": float(exact[0]),
                 "lag1_measured": float(measured[0]), "token_frequencies": freqs,
                 "mean_run_length": run, "lags": lags, "exact": exact,
                 "measured": measured}
        text = (f"x = {x:.3f}, α = {alpha:.3f}: ζ = 1 − 3x = {zeta:.3f}; "
                f"P(next token repeats) exact {exact[0]:.3f}, measured {measured[0]:.3f}; "
                f"token frequencies A {freqs[0]:.3f}, B {freqs[1]:.3f}, C {freqs[2]:.3f}; "
                f"mean run length {run:.2f} (independent tokens: 1.50)")
        return _close(fig), text, {"hmm": hmm, "stats": stats}

    box = _param_explorer(x, alpha, MESS3_FIGSIZE, frame, below=[matrices])
    box.matrices = matrices
    return box


# ---------------------------------------------------------------------------- chapter 03
def _dimension_numbers(hmm, n_steps: int, seed) -> dict:
    """``h_mu`` (nats; tolerance 1e-5), the Lyapunov exponents and dimension."""
    from .. import information

    out = {"h_mu": float("nan"), "h_mu_error": float("nan"), "lyapunov_exponents": None,
           "lyapunov_dimension": float("nan")}
    with np.errstate(all="ignore"):
        if len(closed_classes(hmm.transition_matrix)) == 1:      # x = 0: no ergodic process
            rate = information.entropy_rate(hmm, tol=1e-5, max_support=100_000,
                                            n_points=50_000, seed=seed)
            out["h_mu"], out["h_mu_error"] = float(rate.value), float(rate.error)
        lam = np.asarray(information.lyapunov_exponents(hmm, n_steps=n_steps, seed=seed),
                         dtype=float)
    out["lyapunov_exponents"] = lam
    out["lyapunov_dimension"] = information.kaplan_yorke(out["h_mu"], lam)
    return out


def fractal_explorer(x: float = 0.05, alpha: float = 0.85, n_points: int = 30_000, seed=0,
                     point_size: float = 0.8, dimension_steps: int = 20_000):
    """The chaos game of Mess3 for any ``(x, alpha)``, with its dimension estimate.

    Parameters
    ----------
    x, alpha : float
        Starting values of the sliders (``x`` in [0, 1/2], ``alpha`` in [0, 1]).
    n_points : int
        Beliefs drawn by :func:`beliefcourse.msp.chaos_game` per picture.
    seed :
        Seed of the chaos game and of the Lyapunov estimate (fixed across slider moves).
    point_size : float
        Marker size.
    dimension_steps : int
        Steps of the Lyapunov-exponent estimate
        (:func:`beliefcourse.information.lyapunov_exponents`).

    Returns
    -------
    ipywidgets.VBox
        The picture with the sliders beside it. Sliders ``"x"`` and ``"α"``
        (``.controls["x"]``, ``.controls["alpha"]``); ``.image``: the beliefs in the simplex,
        coloured as RGB; ``.status`` (HTML, one line each): ``h_mu`` [nats/token], the
        top Lyapunov exponent and the Lyapunov dimension
        (:func:`beliefcourse.information.kaplan_yorke`; it is
        ``h_mu / |lambda_1|`` when ``h_mu <= |lambda_1|``); ``.stats``: those numbers;
        ``.points``: the beliefs drawn.

    Notes
    -----
    The Lyapunov dimension counts typical pieces assuming the maps' images do not overlap;
    where they do (``alpha`` near 1/3, where all maps become one) it is only an upper bound
    (chapter 03, section 6).
    """
    import ipywidgets as widgets

    from .. import msp, plotting, processes

    n_points = _positive_int(n_points, "n_points")
    dimension_steps = _positive_int(dimension_steps, "dimension_steps")
    xs, al = _param_sliders(x, alpha)

    def frame(x, alpha):
        hmm = processes.mess3(x, alpha)
        with warnings.catch_warnings():
            # x = 0 makes the hidden chain reducible; the status line below says what that means
            warnings.simplefilter("ignore", ReducibleChainWarning)
            cloud = msp.chaos_game(hmm, n_points, seed=seed, n_chains=min(n_points, 2_000))
            nums = _dimension_numbers(hmm, dimension_steps, seed)
        fig = _figure(FRACTAL_FIGSIZE)
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.88))
        plotting.plot_simplex(cloud, ax=ax, s=point_size, labels=hmm.state_names,
                              title=f"Mess3 (x = {x:.3f}, α = {alpha:.3f}): "
                                    f"{n_points:,} beliefs")
        lam, dim = nums["lyapunov_exponents"], nums["lyapunov_dimension"]
        h_mu = nums["h_mu"]
        parts = [f"x = {x:.3f}, α = {alpha:.3f}: ζ = {1 - 3 * x:.3f}",
                 f"h_μ = {h_mu:.4f} nats/token" if np.isfinite(h_mu) else "no h_μ"]
        parts.append(f"λ₁ = {lam[0]:.3f}" if np.isfinite(lam[0]) else "λ₁ = −∞")
        if x == 0:
            parts.append("x = 0: the hidden state never changes, so the process is not ergodic "
                         "and every observer ends certain (the corners); h_μ and the Lyapunov "
                         "dimension do not describe this set")
        elif np.abs(cloud - cloud.mean(axis=0)).max() < 1e-9:
            parts.append("all beliefs coincide: the set is a point, of dimension 0 (the maps "
                         "are all the same, so the Lyapunov formula does not apply)")
        else:
            note = (" (an upper bound where the maps' images overlap)"
                    if np.isfinite(lam[0]) and nums["h_mu"] > abs(lam[0]) else "")
            parts.append(f"Lyapunov dimension ≈ {dim:.2f}{note}")
        stats = {"x": x, "alpha": alpha, "zeta": 1 - 3 * x, **nums}
        text = "<br>".join(html.escape(part, quote=False) for part in parts)
        return _close(fig), text, {"hmm": hmm, "stats": stats, "points": cloud}

    # The picture (450 px square) with the sliders and the numbers beside it: the whole
    # explorer fits a laptop screen. The numbers wrap (an HTML widget), a Label would not.
    image = _image(FRACTAL_FIGSIZE)
    status = widgets.HTML(layout=widgets.Layout(width="auto"))
    xs.layout.width = al.layout.width = "95%"
    panel = widgets.VBox([xs, al, status], layout=widgets.Layout(flex="1 1 300px",
                                                                 min_width="260px"))
    row = widgets.HBox([image, panel], layout=widgets.Layout(flex_flow="row wrap",
                                                             align_items="flex-start"))
    return _assemble([row], {"x": xs, "alpha": al}, image, status, frame, hmm=None, stats={})
