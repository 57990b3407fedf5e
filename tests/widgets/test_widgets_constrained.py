"""The constrained-update explorer (chapter 07) runs without a browser."""

import numpy as np
import pytest

from beliefcourse.widgets.constrained import constrained_update_explorer


def test_explorer_reacts_to_sliders():
    w = constrained_update_explorer(0.15, 0.6, L=5)
    assert w.stats["heads"] == 1 and w.stats["zeta"] == pytest.approx(0.55)
    assert 0.9 < w.stats["r2_zeta"] <= w.stats["r2_star"] + 1e-9
    png = w.image.value
    w.controls["x"].value = 0.5
    assert w.stats["heads"] == 2 and w.stats["zeta"] == pytest.approx(-0.5)
    assert w.stats["rate_star"] < 0
    assert w.image.value != png and "2 head" in w.status.value
    w.controls["alpha"].value = 0.2
    assert w.stats["orientation"] == -1 and "away from" in w.status.value


def test_explorer_degenerate_point_gives_nan():
    w = constrained_update_explorer(1 / 3, 0.6, L=4)
    assert w.stats["heads"] == 0 and np.isnan(w.stats["r2_zeta"])


def test_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError):
        constrained_update_explorer(L=0)
