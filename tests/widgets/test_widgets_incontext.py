"""The two-world mixture explorer (chapter 08) runs without a browser, fast enough."""

import numpy as np
import pytest

from beliefcourse.mixture import joint_layout
from beliefcourse.widgets.incontext import mixture_explorer


def test_explorer_reacts_to_sliders():
    w = mixture_explorer(length=8, n_samples=200)
    assert 0 < w.stats["information"] <= w.stats["prior_entropy"] == pytest.approx(np.log(2))
    png, info = w.image.value, w.stats["information"]
    w.controls["alpha1"].value = 0.85          # x differs only: harder to tell apart
    w.controls["x1"].value = 0.05              # identical worlds: nothing to learn
    assert w.stats["information"] < 1e-12 and w.stats["on_faces"] == 0
    assert w.image.value != png
    w.controls["alpha1"].value = 0.2           # very different worlds
    assert w.stats["information"] > info and "nats" in w.status.value
    w.controls["w0"].value = 0.9
    assert w.stats["prior_entropy"] == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)))


def test_redraw_reports_its_time():
    """The redraw time is measured by ``python bench/mixture_widget.py``, never asserted
    in a test."""
    w = mixture_explorer(length=6, n_samples=50)
    w.controls["x0"].value = 0.1
    assert w.stats["seconds"] > 0


def test_layout_and_errors():
    lay = joint_layout([3, 3])
    assert lay.shape == (6, 2) and lay[:3, 0].max() < 0 < lay[3:, 0].min()
    with pytest.raises(ValueError):
        mixture_explorer(length=20)
    with pytest.raises(ValueError):
        mixture_explorer(w0=1.0)
    with pytest.raises(ValueError):
        joint_layout([])
