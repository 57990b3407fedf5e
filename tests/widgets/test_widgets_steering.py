"""The steering widget runs without a browser and reports what it draws."""

from __future__ import annotations

import numpy as np
import pytest

from beliefcourse import probing, processes, steering
from beliefcourse.data import ExactData
from beliefcourse.model import TransformerConfig, build_model
from beliefcourse.widgets import steering_widget


@pytest.fixture(scope="module")
def setup():
    hmm = processes.mess3()
    data = ExactData(hmm, 4)
    model = build_model(TransformerConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=8,
                                          n_ctx=4), seed=0).eval()
    hook = "blocks.0.hook_resid_post"
    x = probing.collect_activations(model, data.inputs, hook)
    probe = probing.AffineProbe().fit(x, data.beliefs)
    pattern = probing.AffineProbe().fit(data.beliefs, x).coef_
    return hmm, data, model, hook, probe, pattern


def test_widget_steers_and_reports(setup):
    hmm, data, model, hook, probe, pattern = setup
    w = steering_widget(model, hmm, hook, data.inputs[:5], data.beliefs[:5, -1], probe, pattern,
                        background=data.beliefs[:, -1])
    assert w.image.value[:4] == b"\x89PNG"
    first = dict(w.result)
    np.testing.assert_allclose(first["target"], [0.2, 0.2, 0.6])
    np.testing.assert_allclose(first["bayes"], first["target"] @ hmm.T.sum(axis=2).T)
    w.controls["a"].value = 0.7
    assert w.result["target"][0] == pytest.approx(0.7)
    assert not np.allclose(w.result["steered"], first["steered"])
    w.controls["b"].value = 0.9                      # outside the simplex: projected back
    assert w.result["target"].sum() == pytest.approx(1) and w.result["target"].min() >= 0
    w.controls["move"].value = "probe"
    w.controls["context"].value = 3
    kl = steering.kl_divergence(w.result["bayes"], w.result["steered"])
    assert w.result["kl_steered"] == pytest.approx(float(kl))
    assert "context 3" in w.status.value


def test_widget_validates(setup):
    hmm, data, model, hook, probe, pattern = setup
    with pytest.raises(ValueError, match="3-state"):
        steering_widget(model, processes.rrxor(), hook, data.inputs[:5], data.beliefs[:5, -1],
                        probe, pattern)
    with pytest.raises(ValueError, match="start"):
        steering_widget(model, hmm, hook, data.inputs[:5], data.beliefs[:5, -1], probe, pattern,
                        start=9)
