"""Pictures of beliefs and of HMMs (matplotlib only).

Conventions
-----------
* Every plotting function takes an optional ``ax`` (a new figure is made when it is ``None``)
  and returns the axes it drew on. None calls ``plt.show()``.
* **The 2-simplex.** :func:`simplex_coordinates` places a 3-state belief
  ``(b_0, b_1, b_2)`` at ``b_0 * A + b_1 * B + b_2 * C`` with the corners of an equilateral
  triangle of side 1::

      A = (0, 0)  (first state, bottom left)
      B = (1, 0)  (second state, bottom right)
      C = (1/2, sqrt(3)/2)  (third state, top)

  The map is linear, so it is defined for any 3-vector: a probe's prediction that leaves the
  simplex slightly is drawn just outside the triangle, not moved onto it.
* **Colours.** :func:`belief_colors` reads a 3-state belief as an RGB colour (red = first
  state, green = second, blue = third), the colouring of the papers' simplex figures. For
  ``S`` states it mixes ``S`` fully saturated colours with evenly spaced hues, starting at
  red, with the belief as weights. For ``S = 3`` the hues are red, green and blue, so this is
  exactly the RGB rule; for any ``S`` a corner gets a pure colour and the uniform belief a
  grey (exactly when ``S`` is even or a multiple of 3; within 0.04 otherwise). For ``S > 3``
  the colour cannot tell every belief apart: an ``S - 1``-dimensional simplex does not fit
  into 3-dimensional colour space.
* **More than three states.** :func:`simplex_projection` maps ``S``-state beliefs to 2 or 3
  dimensions, either exactly (``method="simplex"``: the regular-simplex embedding, e.g. the
  tetrahedron for 4 states) or by PCA of the centred beliefs (``method="pca"``; the
  projection Shai et al. use for RRXOR's 5-state beliefs). The standard simplex is already a
  regular simplex in ``R^S``, so PCA of the raw beliefs equals PCA of any regular embedding.
"""

from __future__ import annotations

import numpy as np

from .hmm import _positive_int

__all__ = [
    "SIMPLEX_CORNERS",
    "belief_colors",
    "plot_belief_path",
    "plot_hmm",
    "plot_simplex",
    "plot_simplex_projection",
    "simplex_coordinates",
    "simplex_projection",
]

#: Corners of the 2-simplex in the plane: rows are states 0, 1, 2.
SIMPLEX_CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]])
SIMPLEX_CORNERS.setflags(write=False)


# ---------------------------------------------------------------------------- helpers
def _as_float_array(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array, got {type(values).__name__}") from err
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _points(values, name: str, n_dims: int | None = None) -> np.ndarray:
    """A finite 2-D array ``(N, S)``; a single vector becomes one row."""
    arr = _as_float_array(values, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, n_states), got {arr.shape}")
    if n_dims is not None and arr.shape[1] != n_dims:
        raise ValueError(f"{name} must have {n_dims} columns (one per state), got shape "
                         f"{arr.shape}; for other numbers of states use "
                         "plot_simplex_projection")
    return arr


def _new_axes(ax, figsize=(5.0, 4.6), projection=None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    return fig.add_subplot(1, 1, 1, projection=projection)


def _check_labels(labels, n: int):
    if labels is None:
        return None
    if isinstance(labels, str):
        raise TypeError("labels must be a sequence of names, one per state, not a string")
    labels = [str(s) for s in labels]
    if len(labels) != n:
        raise ValueError(f"labels must have one name per state ({n}), got {len(labels)}")
    return labels


# ---------------------------------------------------------------------------- simplex
def simplex_coordinates(beliefs) -> np.ndarray:
    """Plane coordinates of 3-state beliefs in the equilateral triangle.

    Parameters
    ----------
    beliefs : array_like, shape (..., 3)
        Beliefs (or any 3-vectors, e.g. a probe's predictions).

    Returns
    -------
    ndarray, shape (..., 2)
        ``beliefs @ SIMPLEX_CORNERS``: state 0 at (0, 0), state 1 at (1, 0), state 2 at
        (1/2, sqrt(3)/2); the uniform belief at the centroid (1/2, sqrt(3)/6).
    """
    arr = _as_float_array(beliefs, "beliefs")
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError("simplex_coordinates needs 3-state beliefs, shape (..., 3); got "
                         f"shape {arr.shape}. For more states use simplex_projection")
    return arr @ SIMPLEX_CORNERS


def _vertex_colors(n_states: int) -> np.ndarray:
    """``(S, 3)`` saturated colours with evenly spaced hues from red (state 0)."""
    from matplotlib.colors import hsv_to_rgb

    hues = (np.arange(n_states) / n_states) % 1.0
    hsv = np.stack([hues, np.ones(n_states), np.ones(n_states)], axis=1)
    rgb = hsv_to_rgb(hsv)
    if n_states == 3:             # exactly (1,0,0), (0,1,0), (0,0,1)
        rgb = np.eye(3)
    return rgb


def belief_colors(beliefs) -> np.ndarray:
    """RGB colours of beliefs: the belief itself for 3 states, a hue mixture for others.

    Parameters
    ----------
    beliefs : array_like, shape (N, S) or (S,)
        Beliefs over ``S >= 2`` states.

    Returns
    -------
    ndarray, shape (N, 3) (or (3,) for one belief)
        ``beliefs @ V`` clipped to [0, 1], where row ``s`` of ``V`` is a fully saturated
        colour of hue ``s / S`` (state 0 red). For 3 states ``V`` is the identity, so the
        colour *is* the belief (red = state 0, green = state 1, blue = state 2), as in the
        papers. Values slightly outside the simplex (probe outputs) are clipped.
    """
    arr = _as_float_array(beliefs, "beliefs")
    single = arr.ndim == 1
    if single:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"beliefs must have shape (N, n_states) with n_states >= 2, got "
                         f"{np.shape(beliefs)}")
    rgb = np.clip(arr @ _vertex_colors(arr.shape[1]), 0.0, 1.0)
    return rgb[0] if single else rgb


def _draw_triangle(ax, labels=None, color="0.3", lw=1.0, fontsize=11):
    corners = SIMPLEX_CORNERS
    closed = np.vstack([corners, corners[:1]])
    ax.plot(closed[:, 0], closed[:, 1], "-", color=color, lw=lw, zorder=1)
    if labels is not None:
        centre = corners.mean(axis=0)
        for k, name in enumerate(labels):
            out = corners[k] - centre
            pos = corners[k] + 0.07 * out / np.linalg.norm(out)
            ax.text(pos[0], pos[1], name, ha="center", va="center", fontsize=fontsize,
                    color=_vertex_colors(3)[k] * 0.75)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _set_limits(ax, xy, pad=0.08):
    pts = np.vstack([SIMPLEX_CORNERS, xy]) if len(xy) else SIMPLEX_CORNERS
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    margin = pad * float((hi - lo).max())
    ax.set_xlim(lo[0] - margin, hi[0] + margin)
    ax.set_ylim(lo[1] - margin, hi[1] + margin)


def plot_simplex(points, ax=None, s: float = 1.0, colors=None, labels=None, title=None,
                 **scatter_kwargs):
    """Scatter 3-state beliefs in the 2-simplex, with the triangle and corner names.

    Parameters
    ----------
    points : array_like, shape (N, 3)
        Beliefs, or 3-vectors near the simplex (probe predictions are drawn where the linear
        map :func:`simplex_coordinates` puts them, even slightly outside the triangle).
    ax : matplotlib Axes, optional
    s : float
        Marker size.
    colors : optional
        Anything ``Axes.scatter(c=...)`` accepts: ``(N, 3)``/``(N, 4)`` RGB(A), an array of
        colour names, or one colour. Default: :func:`belief_colors` of ``points``.
    labels : sequence of 3 str, optional
        Corner names (e.g. ``hmm.state_names``).
    title : str, optional
    **scatter_kwargs
        Passed to ``Axes.scatter`` (e.g. ``alpha``, ``marker``).

    Returns
    -------
    matplotlib Axes
    """
    pts = _points(points, "points", 3)
    labels = _check_labels(labels, 3)
    ax = _new_axes(ax)
    xy = simplex_coordinates(pts)
    if colors is None:
        colors = belief_colors(pts)
    scatter_kwargs.setdefault("linewidths", 0)
    _draw_triangle(ax, labels)
    ax.scatter(xy[:, 0], xy[:, 1], s=s, c=colors, zorder=2, **scatter_kwargs)
    _set_limits(ax, xy)
    if title is not None:
        ax.set_title(title)
    return ax


def _step_groups(xy, steps, decimals=6):
    """Group step indices whose points coincide: list of (point, [steps])."""
    keys = {}
    for t in steps:
        key = tuple(np.round(xy[t], decimals))
        keys.setdefault(key, []).append(int(t))
    return [(xy[ts[0]], ts) for ts in keys.values()]


def plot_belief_path(path, ax=None, labels=None, title=None, s: float = 40.0,
                     number_steps: bool | int = True, arrow_color="0.35"):
    """A belief trajectory drawn on the 2-simplex: points, arrows and step numbers.

    Parameters
    ----------
    path : array_like, shape (L + 1, 3)
        ``path[t]`` is the belief after ``t`` tokens (row 0 the prior), e.g.
        ``belief_trajectories(hmm, tokens)[0]``.
    ax : matplotlib Axes, optional
    labels : sequence of 3 str, optional
        Corner names.
    title : str, optional
    s : float
        Marker size of the beliefs (the start is drawn larger, with a black edge).
    number_steps : bool or int
        Write step numbers next to the points. ``True``: every step when ``L <= 12``, else
        every ``ceil(L / 10)``-th step; an int ``k``: every ``k``-th step; ``False``: none.
        Steps that land on the same point share one label (``"3, 6, 9"``).
    arrow_color : colour
        Colour of the arrows; later steps are drawn darker.

    Returns
    -------
    matplotlib Axes
    """
    pts = _points(path, "path", 3)
    labels = _check_labels(labels, 3)
    if isinstance(number_steps, bool):
        every = (1 if len(pts) <= 13 else int(np.ceil((len(pts) - 1) / 10))) \
            if number_steps else 0
    elif isinstance(number_steps, (int, np.integer)) and number_steps >= 1:
        every = int(number_steps)
    else:
        raise ValueError(f"number_steps must be True, False or a positive int, got "
                         f"{number_steps!r}")
    from matplotlib.colors import to_rgb

    ax = _new_axes(ax)
    xy = simplex_coordinates(pts)
    _draw_triangle(ax, labels)
    n = len(xy)
    base = np.array(to_rgb(arrow_color))
    for t in range(n - 1):
        if np.allclose(xy[t], xy[t + 1], atol=1e-9):
            continue
        shade = 0.35 + 0.65 * (t + 1) / max(n - 1, 1)
        ax.annotate("", xy=xy[t + 1], xytext=xy[t],
                    arrowprops=dict(arrowstyle="-|>", color=tuple(base), alpha=shade, lw=1.0,
                                    shrinkA=3, shrinkB=3, mutation_scale=9,
                                    connectionstyle="arc3,rad=0.12"), zorder=2)
    colors = belief_colors(pts)
    ax.scatter(xy[1:, 0], xy[1:, 1], s=s, c=colors[1:], edgecolors="0.2", linewidths=0.4,
               zorder=3)
    ax.scatter(xy[:1, 0], xy[:1, 1], s=2.2 * s, c=colors[:1], edgecolors="k", linewidths=1.2,
               zorder=4, label="start")
    if every:
        steps = [t for t in range(n) if t % every == 0 or t == n - 1]
        for point, ts in _step_groups(xy, steps):
            shown = ts if len(ts) <= 4 else ts[:3] + ["…"]
            ax.annotate(", ".join(map(str, shown)), point, xytext=(5, 5),
                        textcoords="offset points", fontsize=8, zorder=5)
    _set_limits(ax, xy)
    if title is not None:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------- projections
def _regular_simplex_vertices(n_states: int) -> np.ndarray:
    """``(S, S-1)`` vertices of a regular simplex with edge 1, centred at the origin.

    Obtained from the standard basis of ``R^S`` (itself a regular simplex with edge sqrt 2)
    by an orthonormal basis of the plane ``sum = 0``; for 3 states it is the triangle of
    :func:`simplex_coordinates` (shifted to its centroid).
    """
    if n_states == 3:
        return SIMPLEX_CORNERS - SIMPLEX_CORNERS.mean(axis=0)
    centred = np.eye(n_states) - 1.0 / n_states
    # orthonormal basis of the sum-zero plane: Q from QR of the centred basis (deterministic)
    q, _ = np.linalg.qr(centred[:, :-1])
    return centred @ q / np.sqrt(2.0)


def simplex_projection(beliefs, dims: int = 2, method: str = "auto"):
    """Coordinates of ``S``-state beliefs in ``dims`` dimensions.

    Parameters
    ----------
    beliefs : array_like, shape (N, S)
    dims : 2 or 3
    method : {"auto", "simplex", "pca"}
        ``"simplex"``: the exact regular-simplex embedding (isometric up to scale); needs
        ``S - 1 <= dims`` (the triangle for 3 states, the tetrahedron for 4; padded with
        zeros when ``S - 1 < dims``). ``"pca"``: the first ``dims`` principal axes of the
        centred beliefs (deterministic signs: each axis's largest loading is positive).
        ``"auto"``: ``"simplex"`` when it is exact, else ``"pca"``.

    Returns
    -------
    coords : ndarray (N, dims)
    vertices : ndarray (S, dims)
        The pure states mapped the same way (to draw the simplex's edges).
    """
    pts = _points(beliefs, "beliefs")
    if dims not in (2, 3) or isinstance(dims, bool):
        raise ValueError(f"dims must be 2 or 3, got {dims!r}")
    if method not in ("auto", "simplex", "pca"):
        raise ValueError(f"method must be 'auto', 'simplex' or 'pca', got {method!r}")
    S = pts.shape[1]
    if S < 2:
        raise ValueError(f"beliefs need at least 2 states, got {S}")
    if method == "auto":
        method = "simplex" if S - 1 <= dims else "pca"
    if method == "simplex":
        if S - 1 > dims:
            raise ValueError(f"method='simplex' draws {S} states exactly only in {S - 1} "
                             f"dimensions, got dims={dims}; use method='pca'")
        V = _regular_simplex_vertices(S)
        V = np.hstack([V, np.zeros((S, dims - V.shape[1]))])
        return pts @ V, V
    mean = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - mean, full_matrices=False)
    axes = np.zeros((dims, S))
    k = min(dims, vt.shape[0])
    axes[:k] = vt[:k]
    for a in axes[:k]:
        if a[np.argmax(np.abs(a))] < 0:
            a *= -1
    return (pts - mean) @ axes.T, (np.eye(S) - mean) @ axes.T


def plot_simplex_projection(beliefs, dims: int = 2, method: str = "auto", ax=None,
                            colors=None, s: float = 10.0, labels=None, title=None,
                            edges: bool = True, **scatter_kwargs):
    """Scatter ``S``-state beliefs in 2-D or 3-D with the projected simplex's edges.

    For 4 states, ``dims=3`` (``method="simplex"``) is the tetrahedron; for RRXOR's 5 states
    use ``method="pca"`` (the paper's view: PCA of the centred beliefs). See
    :func:`simplex_projection` for the methods.

    Parameters
    ----------
    beliefs : array_like, shape (N, S)
    dims : 2 or 3
        With 3 an existing ``ax`` must be a 3-D axes (``projection="3d"``).
    method : {"auto", "simplex", "pca"}
    ax : matplotlib Axes, optional
    colors : optional
        As in :func:`plot_simplex`; default :func:`belief_colors`.
    s : float
        Marker size.
    labels : sequence of S str, optional
        Vertex names.
    title : str, optional
    edges : bool
        Draw the ``S (S - 1) / 2`` edges of the projected simplex.

    Returns
    -------
    matplotlib Axes
    """
    pts = _points(beliefs, "beliefs")
    labels = _check_labels(labels, pts.shape[1])
    coords, V = simplex_projection(pts, dims=dims, method=method)
    if ax is not None and dims == 3 and getattr(ax, "name", "") != "3d":
        raise ValueError("dims=3 needs a 3-D axes: fig.add_subplot(projection='3d')")
    if ax is not None and dims == 2 and getattr(ax, "name", "") == "3d":
        raise ValueError("dims=2 needs a 2-D axes, got a 3-D one")
    ax = _new_axes(ax, figsize=(5.4, 5.0), projection="3d" if dims == 3 else None)
    if colors is None:
        colors = belief_colors(pts)
    if dims == 3:
        scatter_kwargs.setdefault("depthshade", False)
    S = len(V)
    vcol = _vertex_colors(S) * 0.75
    if edges:
        for i in range(S):
            for j in range(i + 1, S):
                seg = V[[i, j]].T
                ax.plot(*seg, "-", color="0.6", lw=0.7, zorder=1)
    ax.scatter(*coords.T, s=s, c=colors, zorder=2, **scatter_kwargs)
    if labels is not None:
        centre = V.mean(axis=0)
        for k, name in enumerate(labels):
            out = V[k] - centre
            norm = np.linalg.norm(out)
            pos = V[k] + (0.08 * out / norm if norm > 0 else 0)
            ax.text(*pos, name, ha="center", va="center", fontsize=10, color=vcol[k])
    if dims == 2:
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
    if method == "pca" or (method == "auto" and S - 1 > dims):
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        if dims == 3:
            ax.set_zlabel("PC 3")
    if title is not None:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------- HMM diagrams
def _circle_layout(n: int) -> np.ndarray:
    if n == 1:
        return np.zeros((1, 2))
    if n == 2:
        return np.array([[-1.0, 0.0], [1.0, 0.0]])
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _format_prob(p: float, precision: int) -> str:
    text = f"{p:.{precision}g}"
    return text


def _trim(curve, centres, radius):
    """Drop the ends of a polyline that lie inside the start or end node."""
    d0 = np.linalg.norm(curve - centres[0], axis=1)
    d1 = np.linalg.norm(curve - centres[1], axis=1)
    keep = (d0 > radius) & (d1 > radius)
    return curve[keep] if keep.sum() >= 2 else curve[[0, -1]]


def _anchor_away(direction):
    """Text alignment (ha, va) that puts a label on the ``direction`` side of its anchor."""
    ha = "left" if direction[0] > 0.3 else ("right" if direction[0] < -0.3 else "center")
    va = "bottom" if direction[1] > 0.3 else ("top" if direction[1] < -0.3 else "center")
    return ha, va


def plot_hmm(hmm, ax=None, title=None, precision: int = 3, node_radius: float | None = None,
             token_colors=None, fontsize: float | None = None, bend: float = 0.2,
             positions=None):
    """State diagram of an HMM: states on a circle, one arrow per (state, next state) pair.

    Each arrow ``i -> j`` is labelled ``"token: probability"``, one line for every token with
    ``T[x, i, j] > 0`` (names from ``hmm.token_names``). An arrow carrying a single token is
    drawn in that token's colour (``C0``, ``C1``, ...), one carrying several in grey. Arrows
    between two states bow to opposite sides, so ``i -> j`` and ``j -> i`` never overlap (a
    one-way arrow bows away from the centre), and
    when both exist (or when there are 4 or more states) each label sits nearer its arrow's
    source. Labels sit beside their arrow, on the side it bows to, not on top of it.
    Self-loops point away from the centre. Readable for 2 to about 7 states.

    Parameters
    ----------
    hmm : beliefcourse.hmm.HMM
    ax : matplotlib Axes, optional
    title : str, optional
    precision : int
        Significant digits of the probabilities.
    node_radius : float, optional
        Radius of the state circles (the layout circle has radius 1).
    token_colors : sequence of colours, optional
        One per token; default ``C0, C1, ...``.
    fontsize : float, optional
        Of the arrow labels (state names are larger).
    bend : float
        How far arrows between two states bow out (fraction of their distance).
    positions : array_like (S, 2), optional
        Where to draw the states (default: on a unit circle, state 0 at the top, clockwise;
        two states side by side).

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.patches import Circle, FancyArrowPatch
    from matplotlib.path import Path

    T = getattr(hmm, "T", None)
    if T is None or np.ndim(T) != 3:
        raise TypeError(f"plot_hmm needs a beliefcourse.hmm.HMM, got {type(hmm).__name__}")
    T = np.asarray(T, dtype=float)
    X, S, _ = T.shape
    precision = _positive_int(precision, "precision")
    state_names = [str(n) for n in getattr(hmm, "state_names", range(S))]
    token_names = [str(n) for n in getattr(hmm, "token_names", range(X))]
    if token_colors is None:
        token_colors = [f"C{x % 10}" for x in range(X)]
    elif len(token_colors) != X:
        raise ValueError(f"token_colors needs one colour per token ({X}), got "
                         f"{len(token_colors)}")
    if node_radius is None:
        node_radius = 0.2 if S <= 3 else max(0.1, 0.6 / S + 0.02)
    if fontsize is None:
        fontsize = 7.5 if S <= 3 and X <= 2 else 6.5
    ax = _new_axes(ax)
    if positions is None:
        pos = _circle_layout(S)
    else:
        pos = _as_float_array(positions, "positions")
        if pos.shape != (S, 2):
            raise ValueError(f"positions must have shape ({S}, 2), got {pos.shape}")
    centre = pos.mean(axis=0)
    bbox = dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.85)

    for i in range(S):
        name = state_names[i]
        ax.add_patch(Circle(pos[i], node_radius, facecolor="white", edgecolor="0.15",
                            lw=1.3, zorder=3))
        size = 10.0 if len(name) <= 3 else max(5.0, 10.0 - 0.5 * len(name))
        ax.text(*pos[i], name, ha="center", va="center", fontsize=size, zorder=4)

    lo, hi = pos.min(axis=0) - node_radius, pos.max(axis=0) + node_radius
    used = T.sum(axis=0) > 0
    for i in range(S):
        for j in range(S):
            present = [x for x in range(X) if T[x, i, j] > 0]
            if not present:
                continue
            label = "\n".join(f"{token_names[x]}: {T[x, i, j]:.{precision}g}" for x in present)
            color = token_colors[present[0]] if len(present) == 1 else "0.35"
            if i != j:
                a, b = pos[i], pos[j]
                normal = np.array([b[1] - a[1], a[0] - b[0]])    # right of i -> j
                if not used[j, i] and np.dot(normal, (a + b) / 2 - centre) < 0:
                    normal = -normal           # a one-way arrow bows outwards, with its label
                ctrl = (a + b) / 2 + bend * normal
                t = np.linspace(0, 1, 60)[:, None]
                curve = (1 - t) ** 2 * a + 2 * (1 - t) * t * ctrl + t ** 2 * b
                curve = _trim(curve, (a, b), node_radius * 1.08)
                u = 0.3 if used[j, i] or S >= 4 else 0.5
                text_pos = (1 - u) ** 2 * a + 2 * (1 - u) * u * ctrl + u ** 2 * b
                # beside the arrow, on the side it bows to, anchored so the text faces away
                side = normal / np.linalg.norm(normal)
                text_pos = text_pos + 0.04 * side
                ha, va = _anchor_away(side)
            else:
                out = pos[i] - centre
                norm = np.linalg.norm(out)
                out = out / norm if norm > 1e-12 else np.array([0.0, 1.0])
                r_loop = node_radius * 0.75
                c = pos[i] + out * (node_radius + r_loop * 0.55)
                theta = np.arctan2(-out[1], -out[0]) + np.linspace(0.0, 2 * np.pi, 80)
                curve = c + r_loop * np.stack([np.cos(theta), np.sin(theta)], axis=1)
                curve = curve[np.linalg.norm(curve - pos[i], axis=1) > node_radius * 1.05]
                text_pos = c + out * (r_loop + 0.04)
                ha, va = _anchor_away(out)
                lo, hi = np.minimum(lo, c - r_loop), np.maximum(hi, c + r_loop)
            ax.add_patch(FancyArrowPatch(path=Path(curve), arrowstyle="-|>", color=color,
                                         lw=1.1, mutation_scale=10, zorder=2))
            ax.text(*text_pos, label, fontsize=fontsize, color=color, ha=ha, va=va,
                    zorder=5, linespacing=1.0, bbox=bbox)
    pad = 0.4
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_joint_beliefs(joints, worlds, layout, sizes, ax=None, s: float = 2.0, alpha=None):
    """Joint beliefs over (world, state) in the plane of ``layout``
    (:func:`beliefcourse.mixture.joint_layout`): each world's polygon shaded in its colour,
    each point ``joint @ layout`` coloured by its true world.

    ``joints``: ``(n, n_states)``; ``worlds``: ``(n,)`` int, the world each context came from;
    ``sizes``: states per world (``[3, 3]`` for two Mess3). Returns the axes.
    """
    ax = _new_axes(ax)
    joints = np.asarray(joints, dtype=np.float64)
    worlds = np.asarray(worlds)
    layout = np.asarray(layout, dtype=np.float64)
    if joints.ndim != 2 or joints.shape[1] != len(layout) or len(worlds) != len(joints):
        raise ValueError(f"joints must be (n, {len(layout)}) with one world per row; got "
                         f"{joints.shape} and {worlds.shape}")
    starts = np.cumsum([0] + list(sizes))
    pts = joints @ layout
    for k in range(len(sizes)):
        poly = layout[starts[k]:starts[k + 1]]
        ax.fill(poly[:, 0], poly[:, 1], color=f"C{k}", alpha=0.08)
        sel = worlds == k
        ax.scatter(pts[sel, 0], pts[sel, 1], s=s, color=f"C{k}", lw=0, alpha=alpha)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
