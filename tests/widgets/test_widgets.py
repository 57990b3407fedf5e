"""Theory widgets of chapters 01 and 03, driven without a browser."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from beliefcourse import widgets  # noqa: E402
from beliefcourse.widgets import _common  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _png(w):
    """The widget's image as bytes (ipywidgets hands back a memoryview)."""
    data = bytes(w.image.value)
    assert data.startswith(PNG)
    return data


def _sliders(w):
    """The float sliders anywhere inside the widget, by description."""
    import ipywidgets

    if isinstance(w, ipywidgets.FloatSlider):
        return {w.description: w}
    found = {}
    for child in getattr(w, "children", ()):
        found.update(_sliders(child))
    return found


def test_package_exports_every_builder():
    for name in ("mess3_explorer", "fractal_explorer", "training_widget", "emergence_widget"):
        assert callable(getattr(widgets, name)) and name in widgets.__all__


def test_importing_widgets_is_light():
    code = ("import sys, beliefcourse.widgets; "
            "print(sorted(m for m in ('torch', 'ipywidgets', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- chapter 01
def test_mess3_explorer_redraws_on_both_sliders():
    w = widgets.mess3_explorer(n_sequences=300, max_lag=8, strip_length=30)
    sliders = _sliders(w)
    assert set(sliders) == {"x", "α"}
    assert sliders["x"] is w.controls["x"] and sliders["α"] is w.controls["alpha"]
    png0, text0 = _png(w), w.status.value
    assert text0.startswith("x = 0.050, α = 0.850")
    assert "T<sup>(A)</sup>" in w.matrices.value and "0.7650" in w.matrices.value
    assert w.stats["lag1_exact"] == pytest.approx(0.674, abs=1e-3)

    w.controls["alpha"].value = 1 / 3          # tokens carry no evidence: chance agreement
    assert _png(w) != png0 and w.status.value != text0
    assert w.stats["lag1_exact"] == pytest.approx(1 / 3, abs=1e-12)
    assert w.hmm.T[0, 0, 0] == pytest.approx((1 / 3) * 0.9)

    w.controls["x"].value = 0.45               # zeta < 0: the state tends to change
    assert w.stats["zeta"] == pytest.approx(-0.35)
    assert "ζ = 1 − 3x = -0.350" in w.status.value
    w.controls["alpha"].value = 0.85
    assert w.stats["lag1_exact"] < 1 / 3 and w.stats["mean_run_length"] < 1.5


def test_mess3_explorer_extreme_parameters_do_not_break():
    w = widgets.mess3_explorer(n_sequences=100, max_lag=5, strip_length=10)
    for x, alpha in [(0.0, 0.85), (0.5, 1.0), (1 / 3, 0.0), (0.0, 0.0)]:
        w.controls["x"].value, w.controls["alpha"].value = x, alpha
        assert np.all(np.isfinite(w.stats["exact"]))
        _png(w)


@pytest.mark.parametrize("kwargs, error", [
    ({"x": 0.7}, ValueError), ({"alpha": -0.1}, ValueError), ({"x": "a"}, TypeError),
    ({"n_sequences": 0}, ValueError), ({"max_lag": 2.5}, TypeError)])
def test_mess3_explorer_bad_arguments(kwargs, error):
    with pytest.raises(error):
        widgets.mess3_explorer(**kwargs)


# ---------------------------------------------------------------------------- chapter 03
@pytest.fixture
def information():
    return pytest.importorskip("beliefcourse.information")


def test_fractal_explorer_redraws_and_reports_dimension(information):
    w = widgets.fractal_explorer(n_points=3000, dimension_steps=3000)
    assert set(_sliders(w)) == {"x", "α"}
    png0, text0 = _png(w), w.status.value
    assert w.points.shape == (3000, 3) and np.allclose(w.points.sum(axis=1), 1)
    assert "h_μ = 0.7935 nats/token" in text0 and "Lyapunov dimension ≈" in text0
    assert w.stats["h_mu"] == pytest.approx(information.entropy_rate(w.hmm).value)
    d0 = w.stats["lyapunov_dimension"]
    assert 0 < d0 < 2

    w.controls["x"].value = 0.15
    assert _png(w) != png0 and w.status.value != text0
    assert w.stats["zeta"] == pytest.approx(0.55) and w.hmm.T[0, 0, 0] == pytest.approx(
        0.85 * 0.7)
    assert w.stats["lyapunov_dimension"] > d0      # less persistent state: thicker set


def test_fractal_explorer_degenerate_parameters_give_a_message(information):
    w = widgets.fractal_explorer(n_points=1000, dimension_steps=1000)
    for x, alpha in [(1 / 3, 0.85), (0.05, 0.1), (0.5, 0.0)]:
        w.controls["x"].value, w.controls["alpha"].value = x, alpha
        _png(w)
        assert "Lyapunov dimension ≈" in w.status.value
        assert "nan" not in w.status.value.lower()
    for alpha in (0.85, 1.0):                      # x = 0: not ergodic, no dimension quoted
        w.controls["x"].value, w.controls["alpha"].value = 0.0, alpha
        _png(w)
        assert "not ergodic" in w.status.value
        assert "Lyapunov dimension ≈" not in w.status.value
    w.controls["x"].value, w.controls["alpha"].value = 0.05, 100 * (1 / 300)   # alpha = 1/3
    assert "the set is a point" in w.status.value


def test_explorer_pictures_are_drawn_at_twice_their_display_size(information):
    """Sharp on high-density screens: the PNG has 2x the CSS pixels the widget shows, and the
    widget's width is fixed (not stretched to the notebook's width). The fractal explorer's
    picture sits beside its sliders and is at most 450 px tall, so the whole explorer fits a
    laptop screen."""
    import struct

    from beliefcourse.widgets import theory

    for w, figsize in [(widgets.mess3_explorer(n_sequences=200), theory.MESS3_FIGSIZE),
                       (widgets.fractal_explorer(n_points=1000, dimension_steps=1000),
                        theory.FRACTAL_FIGSIZE)]:
        png = _png(w)
        width, height = struct.unpack(">II", png[16:24])     # the PNG header's IHDR chunk
        css_width = round(figsize[0] * _common.DISPLAY_DPI)
        assert w.image.layout.width == f"{css_width}px" and w.image.layout.max_width == "100%"
        assert (width, height) == (2 * css_width, round(2 * figsize[1] * _common.DISPLAY_DPI))
    assert height / 2 <= 450
    row = w.children[0]
    assert w.image in row.children and w.controls["x"] in row.children[1].children


@pytest.mark.parametrize("kwargs, error", [({"x": 0.6}, ValueError), ({"alpha": 1.5}, ValueError),
                                           ({"n_points": 0}, ValueError),
                                           ({"dimension_steps": True}, TypeError)])
def test_fractal_explorer_bad_arguments(kwargs, error):
    with pytest.raises(error):
        widgets.fractal_explorer(**kwargs)
