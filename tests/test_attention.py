"""beliefcourse.attention: attention by distance, belief sensitivity, decay-rate fit."""

import numpy as np
import pytest
import torch

from beliefcourse import attention, processes
from beliefcourse.data import ExactData
from beliefcourse.model import TransformerConfig, build_model

TINY = TransformerConfig(n_layers=2, d_model=8, n_heads=2, d_head=4, d_mlp=16, n_ctx=5)


def _inputs(n=64, length=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 3, (n, length)), rng.random(n)


@pytest.mark.parametrize("layer, head", [(0, 0), (1, 1)])
def test_attention_matches_the_cached_pattern(layer, head):
    model = build_model(TINY, seed=0)
    inputs, w = _inputs()
    prof = attention.attention_by_distance(model, inputs, w, layer=layer, head=head,
                                           batch_size=17)        # several batches
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.from_numpy(inputs),
                                        f"blocks.{layer}.attn.hook_pattern")
    pattern = cache[f"blocks.{layer}.attn.hook_pattern"][:, head].double().numpy()
    expected = np.einsum("b,bqk->qk", w / w.sum(), pattern)       # [query, key]
    for p in range(5):
        np.testing.assert_allclose(prof.attention[p, :p + 1], expected[p, p::-1], atol=1e-6)
        assert np.isnan(prof.attention[p, p + 1:]).all()
    np.testing.assert_allclose(np.nansum(prof.attention, axis=1), 1, atol=1e-6)


def test_planted_uniform_attention_and_constant_values():
    model = build_model(TINY, seed=0)
    qkv, d = model.blocks[0].attn.qkv, TINY.n_heads * TINY.d_head
    with torch.no_grad():
        qkv.weight.zero_()                                        # scores all equal
        qkv.bias.zero_()
        qkv.bias[2 * d:2 * d + TINY.d_head] = torch.tensor([1.0, 2.0, 0.0, 2.0])  # head 0's v
    W_O = model.blocks[0].attn.out.weight[:, :TINY.d_head].detach()
    norm = float((torch.tensor([1.0, 2.0, 0.0, 2.0]) @ W_O.T).norm())
    prof = attention.attention_by_distance(model, *_inputs())
    for p in range(5):
        np.testing.assert_allclose(prof.attention[p, :p + 1], 1 / (p + 1), atol=1e-6)
        np.testing.assert_allclose(prof.contribution[p, :p + 1], norm / (p + 1), rtol=1e-5)


def test_bad_arguments_raise():
    model = build_model(TINY, seed=0)
    inputs, w = _inputs()
    with pytest.raises(ValueError, match="layer"):
        attention.attention_by_distance(model, inputs, w, layer=2)
    with pytest.raises(ValueError, match="weights"):
        attention.attention_by_distance(model, inputs, -w)
    with pytest.raises(ValueError, match="inputs"):
        attention.attention_by_distance(model, inputs, w[:3])


def test_decay_rate_recovers_a_geometric_sequence():
    d = np.arange(1, 7)
    assert attention.decay_rate(3 * 0.6 ** d, d) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        attention.decay_rate([1.0, 0.0], [1, 2])


def test_belief_sensitivity():
    # x = 1/3: the hidden chain forgets everything each step, so only the last token matters
    data = ExactData(processes.mess3(x=1 / 3, alpha=0.85), n_ctx=4)
    s = attention.belief_sensitivity_by_distance(data.inputs, data.beliefs[:, -1],
                                                 data.probs, 3)
    assert s[0] > 0.5 and np.abs(s[1:]).max() < 1e-12
    # a sticky chain remembers, less and less with distance
    data = ExactData(processes.mess3(), n_ctx=4)
    s = attention.belief_sensitivity_by_distance(data.inputs, data.beliefs[:, -1],
                                                 data.probs, 3)
    assert (np.diff(s) < 0).all() and s[-1] > 0
    with pytest.raises(ValueError, match="lexicographic"):
        attention.belief_sensitivity_by_distance(data.inputs[::-1], data.beliefs[:, -1],
                                                 data.probs, 3)
