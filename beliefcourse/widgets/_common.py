"""What every widget builder shares: an off-screen figure, its PNG, the image that shows it,
and the box that redraws on a control's change.

A builder makes its controls, an :func:`_image` and a status widget, and a ``frame`` function
that draws one state of the widget; :func:`_assemble` wires them so that the logic runs
without a browser (set a control's ``.value``, read ``.image.value`` and ``.status.value``).
"""

from __future__ import annotations

import io

from ..hmm import _positive_int  # noqa: F401  (the package's one positive-int check)

#: CSS pixels per inch of figure at which pictures are shown (they are drawn at twice this).
DISPLAY_DPI = 90


def _figure(figsize):
    """A figure that never reaches the notebook's inline backend (no stray outputs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _close(fig, dpi: float = 2 * DISPLAY_DPI, tight: bool = False) -> bytes:
    """PNG bytes of ``fig``: by default at ``2 * DISPLAY_DPI``, drawn once (for an
    :func:`_image` of fixed width, sharp on high-density screens); ``tight=True`` crops to the
    drawn content (``bbox_inches="tight"``, which draws twice) for an image shown at its
    natural size."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    return buf.getvalue()


def _image(figsize):
    """An image widget shown at ``DISPLAY_DPI`` CSS pixels per inch of ``figsize`` (narrower
    if the notebook is), never stretched: :func:`_close` draws twice as many pixels, so the
    picture stays sharp on high-density screens."""
    import ipywidgets as widgets

    width = round(figsize[0] * DISPLAY_DPI)
    return widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px",
                                                             max_width="100%", height="auto"))


def _assemble(children, controls: dict, image, status, frame_fn, **attributes):
    """``VBox(children)`` with ``.controls``, ``.image``, ``.status`` and ``.redraw()``,
    drawn once.

    ``frame_fn(**values)`` gets each control's value by its name in ``controls`` and returns
    ``(png bytes, status text, {attribute: value})``; the attributes are set on the box
    (e.g. ``.stats``, ``.hmm``, ``.frame``) after each draw. ``attributes`` are set before
    the first. Every control redraws on a change of its value.
    """
    import ipywidgets as widgets

    box = widgets.VBox(children)
    box.controls, box.image, box.status = controls, image, status
    for name, value in attributes.items():
        setattr(box, name, value)

    def redraw(change=None):
        picture, text, extra = frame_fn(**{name: c.value for name, c in controls.items()})
        image.value = picture
        status.value = text
        for name, value in extra.items():
            setattr(box, name, value)

    for control in controls.values():
        control.observe(redraw, names="value")
    box.redraw = redraw
    redraw()
    return box
