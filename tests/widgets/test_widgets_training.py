"""Checkpoint-slider widgets of chapters 04 and 05, driven without a browser."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from beliefcourse import checkpoints  # noqa: E402
from beliefcourse.widgets.training import emergence_widget, training_widget  # noqa: E402


def _records(n=4, n_ctx=10):
    optimum = np.linspace(0.86, 0.79, n_ctx)
    recs = []
    for i in range(n):
        excess = 10.0 ** (-1 - i) * np.linspace(0.5, 2.0, n_ctx)
        loss = optimum * (1 + excess)
        recs.append({"name": "synthetic", "tokens_seen": 0 if i == 0 else 10 ** (4 + i),
                     "val_loss_per_position": loss.tolist(), "optimal_loss": optimum.tolist(),
                     "relative_loss": float((loss / optimum).mean()),
                     "history": {"tokens": [0, 10 ** 5, 10 ** 6, 10 ** 7][:n],
                                 "val_loss": [0.0] * n,
                                 "relative_loss": [1.5, 1.01, 1.001, 1.0001][:n]}})
    return recs


def test_training_widget_slider_redraws():
    recs = _records()
    w = training_widget(recs, start=0)
    assert w.frame == 0 and w.slider is w.controls["checkpoint"]
    png0, text0 = w.image.value, w.status.value
    assert png0[:8] == b"\x89PNG\r\n\x1a\n"
    assert text0.startswith("0 tokens")
    w.slider.value = 3
    assert w.frame == 3
    assert w.image.value != png0
    assert "10,000,000 tokens" in w.status.value
    assert f"{recs[3]['relative_loss']:.5f}" in w.status.value



def test_training_widget_handles_exact_ties_and_the_untrained_frame():
    recs = _records()
    last = recs[-1]
    last["val_loss_per_position"][0] = last["optimal_loss"][0]     # a position exactly optimal
    w = training_widget(recs)
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "position 0 at 1.00000" in w.status.value
    w.slider.value = 0
    assert w.status.value.startswith("0 tokens") and w.image.value[:4] == b"\x89PNG"

def test_training_widget_defaults_to_last_and_orders_records():
    recs = _records()
    w = training_widget(list(reversed(recs)))
    assert w.frame == 3
    labels = [label for label, _ in w.slider.options]
    assert labels == ["0", "100,000", "1,000,000", "10,000,000"]


def test_training_widget_rejects_bad_input():
    with pytest.raises(TypeError):
        training_widget([])
    with pytest.raises(ValueError, match="lacks"):
        training_widget([{"tokens_seen": 1}])
    with pytest.raises(ValueError, match="start"):
        training_widget(_records(), start=9)
    with pytest.raises(FileNotFoundError):
        training_widget("no-such-run")


@pytest.mark.slow
def test_training_widget_reads_a_run_directory(tmp_path):
    from beliefcourse.train import PRESETS, train

    config = PRESETS["mess3-tiny"].replace(n_tokens=25_600, n_checkpoints=2,
                                          first_checkpoint_tokens=2_560)
    train(config, out_dir=tmp_path, progress=False)
    w = training_widget(tmp_path)
    assert len(w.slider.options) == len(checkpoints.list_checkpoints(tmp_path))
    before = w.image.value
    w.slider.value = 0
    assert w.image.value != before


@pytest.mark.skipif("mess3" not in checkpoints.available(), reason="no shipped checkpoints")
def test_training_widget_on_shipped_checkpoints():
    w = training_widget("mess3")
    assert len(w.slider.options) == len(checkpoints.tokens("mess3"))
    first = w.image.value
    w.slider.value = 1
    assert w.image.value != first


def _emergence_inputs(k=3, m=200, seed=0):
    rng = np.random.default_rng(seed)
    beliefs = rng.dirichlet(np.ones(3), size=m)
    preds = [beliefs + rng.normal(0, 0.1 / (i + 1), beliefs.shape) for i in range(k)]
    return [0, 1_000, 100_000][:k], preds, beliefs


def test_emergence_widget_slider_redraws():
    tokens, preds, beliefs = _emergence_inputs()
    w = emergence_widget(tokens, preds, beliefs, mse=[0.01, 0.003, 0.0004],
                         baselines={"input only": 0.006}, relative_loss=[1.5, 1.01, 1.0002],
                         start=2)
    assert w.frame == 2
    png, text = w.image.value, w.status.value
    assert "100,000 tokens" in text and "4.00e-04" in text and "1.00020" in text
    w.slider.value = 0
    assert w.frame == 0 and w.image.value != png and w.status.value.startswith("0 tokens")


def test_emergence_widget_without_curves():
    tokens, preds, beliefs = _emergence_inputs(k=2)
    w = emergence_widget(tokens, preds, beliefs)
    assert w.frame == 1 and w.status.value == "1,000 tokens"


def test_emergence_widget_rejects_bad_input():
    tokens, preds, beliefs = _emergence_inputs()
    with pytest.raises(ValueError, match="one prediction array per checkpoint"):
        emergence_widget(tokens, preds[:2], beliefs)
    with pytest.raises(ValueError, match="same shape"):
        emergence_widget(tokens, [p[:10] for p in preds], beliefs)
    with pytest.raises(ValueError, match="one value per checkpoint"):
        emergence_widget(tokens, preds, beliefs, mse=[0.1])
