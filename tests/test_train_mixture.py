"""Chapter 08's training data: a non-ergodic mixture sampled one component per sequence,
validated on held-out sequences against the exact Bayes filter."""

import numpy as np
import pytest
import torch

from beliefcourse import processes
from beliefcourse.data import MixtureData
from beliefcourse.hmm import HMM
from beliefcourse.mixture import mixture
from beliefcourse.train import MIXTURE_EVAL_SEQUENCES, PRESETS, make_mixture, train


def coin(p):
    return HMM(np.array([[[p]], [[1 - p]]]))


class Uniform(torch.nn.Module):
    """Predicts the uniform distribution everywhere (a model with one dummy parameter)."""

    def __init__(self, n_tokens):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(()))
        self.n_tokens = n_tokens

    def forward(self, x):
        return torch.zeros(*x.shape, self.n_tokens) + 0 * self.dummy


def test_each_sequence_comes_from_one_component():
    """Two nearly deterministic coins: a sequence is (almost) all 0s or all 1s, about half
    each; sampling the block HMM's stationary mixture token by token could not do that
    either, but drawing components per *batch* would give all-0 or all-1 batches."""
    data = MixtureData(mixture([coin(0.99), coin(0.01)]), n_ctx=20, n_eval=64, eval_seed=0)
    gen = torch.Generator().manual_seed(0)
    inputs, _ = data.sample_batch(400, gen, "sampled")
    share = inputs.float().mean(1).numpy()
    assert np.all((share < 0.3) | (share > 0.7))
    assert 0.4 < (share > 0.5).mean() < 0.6


def test_expected_targets_are_the_bayes_predictive_and_reproducible():
    mix = mixture([processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)])
    data = MixtureData(mix, n_ctx=8, n_eval=32, eval_seed=1)
    a = data.sample_batch(16, torch.Generator().manual_seed(3), "expected")
    b = data.sample_batch(16, torch.Generator().manual_seed(3), "expected")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    want = mix.filter(a[0].numpy()).predictive[:, 1:]
    np.testing.assert_allclose(a[1].numpy(), want, atol=1e-6)     # float32 targets
    # sampled targets are the inputs shifted left plus one more token
    x, y = data.sample_batch(16, torch.Generator().manual_seed(4), "sampled")
    assert torch.equal(x[:, 1:], y[:, :-1])


def test_held_out_loss_of_a_uniform_model():
    """Uniform predictions cost ln 3 at every position; the excess is ln 3 - Bayes loss, and
    the Bayes loss lies between the oracle's and ln 3."""
    mix = mixture([processes.mess3(0.05, 0.85), processes.mess3(0.15, 0.6)])
    data = MixtureData(mix, n_ctx=6, n_eval=200, eval_seed=2)
    loss = data.held_out_loss(Uniform(3))
    np.testing.assert_allclose(loss, np.log(3), rtol=1e-12)
    np.testing.assert_allclose(data.last_eval["excess"], np.log(3) - data.optimal_loss,
                               rtol=1e-10)
    assert np.all(data.oracle_loss <= data.optimal_loss + 1e-12)
    assert np.all(data.optimal_loss <= np.log(3))
    assert np.all(data.optimal_se > 0) and data.optimal_se.shape == (6,)


def test_make_mixture_and_errors():
    mix = make_mixture("mixture-grid", {"process": "mess3", "fixed": {"x": 0.05},
                                        "parameter": "alpha", "low": 0.4, "high": 1.0,
                                        "n_grid": 4})
    assert mix.n_components == 4
    with pytest.raises(ValueError, match="lack"):
        make_mixture("mixture", {"weights": None})
    with pytest.raises(ValueError, match="one of"):
        make_mixture("mess3", {})
    with pytest.raises(TypeError, match="Mixture"):
        MixtureData(processes.mess3(), 4)


@pytest.mark.parametrize("name", ["mix2", "mix2-gru", "mess3-alpha", "mess3-alpha-gru"])
def test_chapter08_presets(name):
    cfg = PRESETS[name]
    assert cfg.mixture() is not None and cfg.model.n_ctx >= 32
    assert cfg.hmm().n_tokens == 3


def test_a_short_mixture_run_records_its_evaluation():
    cfg = PRESETS["mix2-gru"].replace(n_tokens=256 * 32 * 3, n_checkpoints=1, eval_every=0,
                                      warmup_steps=1)
    result = train(cfg, progress=False)
    rec = result.record
    ev = rec["evaluation"]
    assert ev["n_sequences"] == MIXTURE_EVAL_SEQUENCES
    assert len(ev["oracle_loss"]) == len(ev["excess_se"]) == 32
    np.testing.assert_allclose(np.array(rec["val_loss_per_position"])
                               - np.array(rec["optimal_loss"]), ev["excess"], atol=1e-12)
    assert rec["relative_loss"] > 1
