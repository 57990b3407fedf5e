"""Stored outputs for readers without a kernel: a widget becomes the picture it last showed.

An executed notebook keeps its widgets' state in ``metadata.widgets`` (nbclient stores it).
Where no kernel runs (the book, the slides), :func:`freeze_widgets` replaces each widget
view output by what the widget displayed: the images of its ``Image`` widgets and of the
``Output`` widgets inside it (children are followed), and its labels as text, followed by a
note that the widget is interactive in JupyterLab. The notebook's own file is never changed:
the functions work on a notebook node the caller has read.
"""

from __future__ import annotations

import copy

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
NOTE = "(an interactive widget: run this notebook in JupyterLab to use it)"


def _state(nb) -> dict:
    return nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _children(model: dict) -> list[str]:
    kids = model.get("state", {}).get("children", [])
    return [k.removeprefix("IPY_MODEL_") for k in kids if isinstance(k, str)]


def widget_outputs(state: dict, model_id: str, _seen=None) -> list[dict]:
    """Outputs (nbformat dicts) that show what widget ``model_id`` displayed, depth first."""
    seen = set() if _seen is None else _seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    name = model.get("model_name", "")
    out: list[dict] = []
    if name == "ImageModel":
        fmt = model.get("state", {}).get("format", "png")
        for buf in model.get("buffers", []):
            if buf.get("path") == ["value"] and buf.get("encoding") == "base64":
                out.append({"output_type": "display_data", "metadata": {},
                            "data": {f"image/{fmt}": buf["data"], "text/plain": "<image>"}})
    elif name == "OutputModel":
        out.extend(copy.deepcopy(o) for o in model.get("state", {}).get("outputs", []))
    elif name == "LabelModel" and model["state"].get("value"):
        out.append({"output_type": "stream", "name": "stdout",
                    "text": str(model["state"]["value"]) + "\n"})
    elif name in ("HTMLModel", "HTMLMathModel") and model["state"].get("value"):
        out.append({"output_type": "display_data", "metadata": {},
                    "data": {"text/html": str(model["state"]["value"]),
                             "text/plain": "<widget text>"}})
    for child in _children(model):
        out.extend(widget_outputs(state, child, seen))
    return out


def freeze_widgets(nb):
    """Replace every widget view in ``nb`` (in place) by its stored picture and a note; drop
    the widget state. Returns the number of widget views replaced."""
    from nbformat import from_dict

    state = _state(nb)
    replaced = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        new = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                new.append(output)
                continue
            replaced += 1
            new.extend(widget_outputs(state, view.get("model_id", "")))
            new.append({"output_type": "stream", "name": "stdout", "text": NOTE + "\n"})
        cell["outputs"] = [from_dict(o) for o in new]
    nb.get("metadata", {}).pop("widgets", None)
    return replaced


def image_outputs(cell) -> list[dict]:
    """The outputs of ``cell`` that carry an image (png, jpeg or svg)."""
    return [o for o in cell.get("outputs", [])
            if any(k.startswith("image/") for k in o.get("data", {}))]
