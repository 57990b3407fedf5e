"""Click a token, watch the belief move (chapter 02): the course's central operation, by hand.

:func:`belief_update_widget` shows a 3-state process's belief ``eta`` in the 2-simplex. One
button per token ``x`` applies Bayes' update ``f_x(eta) = eta T^(x) / (eta T^(x) 1)``
(:func:`beliefcourse.beliefs.update`); the picture shows the path so far, where each token
would move the belief next, and the three shaded triangles ``f_A(Δ)``, ``f_B(Δ)``,
``f_C(Δ)``: the image of the whole simplex under each token's map. Whatever the belief, after
token ``x`` it lies in ``f_x(Δ)``, the triangle whose corners are the normalised rows of
``T^(x)`` (``f_x`` sends the corner ``e_i`` to row ``i`` of ``T^(x)`` divided by its sum, and
maps straight lines to straight lines). Beside it: the next-token distribution
``Pr(x | eta) = eta T^(x) 1`` as bars.

Chapter 02 displays it with this one cell (tag ``nbval-ignore-output``: the widget's
output is interactive)::

    # %% tags=["nbval-ignore-output"]
    from beliefcourse.widgets import belief_update_widget

    belief_update_widget()

The logic runs without a browser: ``w.controls[name].click()`` for ``name`` a token name
(``"A"``, ``"B"``, ``"C"`` for Mess3), ``"random"`` (one token drawn from ``Pr(x | eta)``, so
a run of random clicks samples the process) or ``"reset"``; the same by code:
``w.step("A")`` (a name or an index), ``w.reset()``. Then read ``w.tokens`` (the indices so
far), ``w.path`` (``(t + 1, 3)``: the prior and the belief after each token), ``w.belief``
(``w.path[-1]``), ``w.next_token_probs`` (``Pr(x | eta)``), ``w.images`` (``{name: (k, 3)
corners of f_x(Δ)}``), ``w.image.value`` (PNG) and ``w.status.value`` (one line of HTML).
"""

from __future__ import annotations

import html

import numpy as np

from .theory import _close, _image
from .training import _figure

__all__ = ["belief_update_widget", "token_images"]

#: Colours of tokens 0, 1, 2, ... (chapter 03 colours Mess3's copies f_A, f_B, f_C the same way).
TOKEN_COLORS = ("tab:red", "tab:green", "tab:blue", "tab:orange", "tab:purple", "tab:brown",
                "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
FIGSIZE = (8.6, 4.0)          # 774 CSS px wide: fits a notebook at 1366 x 768 unscaled
MAX_TOKENS = len(TOKEN_COLORS)


def _check_process(process):
    from .. import processes
    from ..hmm import HMM

    if process is None:
        return processes.mess3(x=0.05, alpha=0.85)
    if not isinstance(process, HMM):
        raise TypeError("process must be a beliefcourse.hmm.HMM (e.g. processes.mess3(x=0.05, "
                        f"alpha=0.85)), got {type(process).__name__}")
    if process.n_states != 3:
        raise ValueError(f"process must have 3 hidden states to draw its beliefs in the "
                         f"2-simplex (a triangle); {process!r:.60} has {process.n_states}. "
                         "For other processes draw beliefs with "
                         "beliefcourse.plotting.plot_simplex_projection")
    if process.n_tokens > MAX_TOKENS:
        raise ValueError(f"process must have at most {MAX_TOKENS} tokens (one button and one "
                         f"colour each), got {process.n_tokens}")
    return process


def token_images(hmm) -> dict:
    """Corners of ``f_x(Δ)``, the image of the simplex under each token's update, by token name.

    ``f_x(eta) = eta T^(x) / (eta T^(x) 1)`` is a linear map followed by a central
    projection, so it maps the simplex onto the convex hull of the images of its corners:
    row ``i`` of ``T^(x)`` divided by its sum (:func:`beliefcourse.beliefs.update` of the
    corner ``e_i``). A corner from which ``x`` cannot be emitted (a zero row) has no image and
    is left out, so a value has shape ``(k, 3)`` with ``k`` <= 3 (``k = 0``: ``x`` is
    never emitted).
    """
    from .. import beliefs

    corners = np.eye(hmm.n_states)
    possible = beliefs.next_token_distribution(corners, hmm) > 0          # (corner, token)
    return {name: beliefs.update(corners[possible[:, x]], hmm, x)
            for x, name in enumerate(hmm.token_names)}


def _fmt(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{p:.3f}" for p in v) + ")"


def belief_update_widget(process=None, prior=None, seed=0):
    """Buttons A, B, C (one per token): apply Bayes' update and watch the belief move.

    Parameters
    ----------
    process : beliefcourse.hmm.HMM, optional
        A process with 3 hidden states (default ``processes.mess3(x=0.05, alpha=0.85)``),
        at most 10 tokens.
    prior : array_like of shape (3,), optional
        The belief before any token (default: the stationary distribution, as everywhere in
        the course).
    seed :
        Seed of the "random token" button (anything ``numpy.random.default_rng`` accepts);
        "reset" restarts it, so the same clicks give the same word.

    Returns
    -------
    ipywidgets.VBox
        ``.controls``: a button per token name, ``"random"`` and ``"reset"``; ``.image``:
        left, the simplex with the triangles ``f_x(Δ)`` shaded in the token colours, the path
        of beliefs (the start ringed in black), the current belief (a black ring) and, as
        letters, where each token would move it; right, ``Pr(x | eta)`` as bars.
        ``.status``: the word so far, ``eta`` and ``Pr(x | eta)``. ``.tokens``, ``.path``,
        ``.belief``, ``.next_token_probs``, ``.images``, ``.hmm``; ``.step(token)`` and
        ``.reset()`` do what the buttons do. A token with probability zero under the current
        belief (possible for processes such as Z1R) has its button disabled, and
        ``.step`` raises ``ValueError`` for it.
    """
    import ipywidgets as widgets
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    from .. import beliefs, plotting

    hmm = _check_process(process)
    start = hmm.stationary() if prior is None else np.asarray(prior, dtype=float)
    if start.shape != (3,):
        raise ValueError(f"prior must be one belief of shape (3,), got shape {start.shape}")
    beliefs.next_token_distribution(start, hmm)                # validates the prior
    np.random.default_rng(seed)                                # validates the seed
    names = list(hmm.token_names)
    images = token_images(hmm)
    colors = TOKEN_COLORS[:hmm.n_tokens]

    buttons = {name: widgets.Button(description=name, tooltip=f"observe token {name}",
                                    layout=widgets.Layout(width="56px"))
               for name in names}
    for name, color in zip(names, colors):
        buttons[name].style.button_color = _light(color)
    controls = dict(buttons)
    controls["random"] = widgets.Button(description="random token", icon="random",
                                        tooltip="draw the next token from Pr(x | η)",
                                        layout=widgets.Layout(width="130px"))
    controls["reset"] = widgets.Button(description="reset", icon="undo",
                                       tooltip="back to the prior (and restart the dice)",
                                       layout=widgets.Layout(width="90px"))
    image = _image(FIGSIZE)
    status = widgets.HTML()
    box = widgets.VBox([widgets.HBox(list(controls.values())), status, image])
    box.controls, box.image, box.status, box.hmm, box.images = controls, image, status, hmm, images

    def redraw():
        path = np.asarray(box.path)
        eta = path[-1]
        probs = beliefs.next_token_distribution(eta, hmm)
        box.belief, box.next_token_probs = eta, probs
        for x, name in enumerate(names):
            buttons[name].disabled = not probs[x] > 0

        fig = _figure(FIGSIZE)
        ax = fig.add_axes((0.0, 0.02, 0.56, 0.88))
        last = box.tokens[-1] if box.tokens else None
        for x, name in enumerate(names):
            corners = images[name]
            if len(corners) >= 2:          # the token just seen: its triangle stands out
                ax.add_patch(Polygon(plotting.simplex_coordinates(corners), closed=True,
                                     facecolor=colors[x], edgecolor=colors[x],
                                     alpha=0.32 if x == last else 0.14,
                                     lw=2.0 if x == last else 1.0, zorder=0,
                                     label=_image_label(name)))
        plotting.plot_belief_path(path, ax=ax, labels=hmm.state_names, number_steps=False,
                                  s=30)
        here = plotting.simplex_coordinates(eta)
        ax.scatter([here[0]], [here[1]], s=260, facecolors="none", edgecolors="k",
                   linewidths=1.6, zorder=6)
        for x, name in enumerate(names):           # where each token would take the belief
            if probs[x] > 0:
                nxt = plotting.simplex_coordinates(beliefs.update(eta, hmm, x))
                ax.text(nxt[0], nxt[1], name, color=colors[x], fontsize=10, weight="bold",
                        ha="center", va="center", zorder=7,
                        bbox=dict(boxstyle="circle,pad=0.15", fc="white", ec=colors[x],
                                  lw=0.8, alpha=0.8))
        handles, labels = ax.get_legend_handles_labels()
        handles += [Line2D([], [], ls="none", marker="o", ms=11, mfc="none", mec="k", mew=1.6),
                    Line2D([], [], ls="none", marker="$x$", ms=8, color="0.3")]
        labels += ["now", "after token x"]
        ax.legend(handles, labels, loc="upper left", fontsize=9, frameon=False,
                  handlelength=1.2, borderaxespad=0.2)
        word = "".join(names[t] for t in box.tokens)
        shown = word if len(word) <= 24 else "…" + word[-23:]
        ax.set_title(f"after {len(word)} token{'s' * (len(word) != 1)}: {shown or '(none)'}",
                     fontsize=10)

        bars = fig.add_axes((0.66, 0.15, 0.32, 0.72))
        xs = np.arange(len(names))
        bars.bar(xs, probs, color=colors, alpha=0.8)
        for x, p in enumerate(probs):
            bars.text(x, p + 0.02, f"{p:.3f}", ha="center", va="bottom", fontsize=9)
        bars.set_xticks(xs, names)
        bars.set_ylim(0, 1.1)
        bars.set_xlabel("next token x")
        bars.set_ylabel("Pr(x | η)")
        bars.set_title("what the belief predicts", fontsize=10)
        bars.spines[["top", "right"]].set_visible(False)
        image.value = _close(fig)

        pred = ", ".join(f"{html.escape(n)} {p:.3f}" for n, p in zip(names, probs))
        status.value = (f"<b>{len(word)}</b> token{'s' * (len(word) != 1)} "
                        f"<code>{html.escape(shown) or '(none)'}</code>: "
                        f"η = {_fmt(eta)} over states "
                        f"{html.escape(', '.join(hmm.state_names))}; "
                        f"Pr(next = x | η): {pred}")

    def step(token):
        x = _token_index(hmm, token)
        eta = box.path[-1]
        p = float(beliefs.next_token_distribution(eta, hmm)[x])
        if not p > 0:
            raise ValueError(f"token {names[x]} has probability zero under the current belief "
                             f"η = {_fmt(eta)}: it cannot be observed next")
        box.path = np.vstack([box.path, beliefs.update(eta, hmm, x)])
        box.tokens = box.tokens + [x]
        redraw()

    def random_step():
        probs = beliefs.next_token_distribution(box.path[-1], hmm)
        step(int(box.rng.choice(len(names), p=probs / probs.sum())))

    def reset():
        box.tokens, box.path = [], start[None, :].copy()
        box.rng = np.random.default_rng(seed)
        redraw()

    for x, name in enumerate(names):
        buttons[name].on_click(lambda _b, x=x: step(x))
    controls["random"].on_click(lambda _b: random_step())
    controls["reset"].on_click(lambda _b: reset())
    box.step, box.reset, box.random_step = step, reset, random_step
    reset()
    return box


def _token_index(hmm, token) -> int:
    names = list(hmm.token_names)
    if isinstance(token, str):
        if token not in names:
            raise ValueError(f"unknown token {token!r}; tokens are {names}")
        return names.index(token)
    if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)):
        raise TypeError(f"token must be a token name ({', '.join(names)}) or an index, got "
                        f"{token!r}")
    if not 0 <= token < hmm.n_tokens:
        raise ValueError(f"token index must lie in 0..{hmm.n_tokens - 1}, got {token}")
    return int(token)


def _image_label(name: str) -> str:
    """``f_A(Δ)`` set as mathematics when the name allows it, as plain text otherwise."""
    if name.isalnum() and name.isascii():
        return f"$f_{{{name}}}(\\Delta)$"
    return f"f_{name}(Δ)"


def _light(color) -> str:
    """A pale version of ``color`` for a button's background (the text stays readable)."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex(0.55 * np.array([1.0, 1.0, 1.0]) + 0.45 * np.array(to_rgb(color)))
