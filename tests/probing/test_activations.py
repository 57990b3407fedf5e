"""Tests for beliefcourse.probing.activations: hook collection and the hook sets probed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from probing_helpers import TinyModel

from beliefcourse import probing
from beliefcourse.model import GRUConfig, build_model


def test_collect_activations_concatenates_in_order():
    model = TinyModel()
    tokens = torch.randint(0, 3, (37, 6), generator=torch.Generator().manual_seed(0))
    hooks = ["ln_final.hook_normalized", "hook_embed", "blocks.1.hook_resid_mid"]
    model.train()
    acts = probing.collect_activations(model, tokens, hooks, batch_size=10)
    assert model.training                                   # mode restored
    assert acts.shape == (37, 6, 15) and acts.dtype == np.float32
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    want = torch.cat([cache[h] for h in hooks], dim=-1).numpy()
    np.testing.assert_allclose(acts, want, rtol=1e-6, atol=1e-6)
    single = probing.collect_activations(model, tokens.numpy(), "hook_embed")
    np.testing.assert_array_equal(single, acts[..., 5:10])


def test_collect_activations_errors():
    model = TinyModel()
    tokens = np.zeros((4, 6), dtype=np.int64)
    with pytest.raises(ValueError, match="unknown hook.*available|this model has"):
        probing.collect_activations(model, tokens, "blocks.7.hook_resid_post")
    with pytest.raises(ValueError, match="more than once"):
        probing.collect_activations(model, tokens, ["hook_embed", "hook_embed"])
    with pytest.raises(TypeError, match="hook"):
        probing.collect_activations(model, tokens, [])
    with pytest.raises(ValueError, match="shape"):
        probing.collect_activations(model, tokens[0], "hook_embed")
    with pytest.raises(TypeError, match="integers"):
        probing.collect_activations(model, tokens.astype(float), "hook_embed")
    with pytest.raises(TypeError, match="hook_names"):
        probing.collect_activations(torch.nn.Linear(2, 2), tokens, "hook_embed")


def test_hook_helpers():
    model = TinyModel()
    resid = probing.layer_hooks(model)
    assert resid == [f"blocks.{layer}.hook_resid_{k}" for layer in range(2)
                     for k in ("pre", "mid", "post")]
    assert probing.default_hook_sets(model, "mess3") == {
        "final layer (pre-LN)": ["blocks.1.hook_resid_post"],
        "ln_final (post-LN)": ["ln_final.hook_normalized"]}
    rr = probing.default_hook_sets(model, "rrxor")
    assert rr == {"final layer (pre-LN)": ["blocks.1.hook_resid_post"],
                  "all 6 residual hooks": resid}
    gru = build_model(GRUConfig(n_layers=3, d_hidden=4, n_ctx=6), seed=0)
    assert probing.default_hook_sets(gru, "rrxor")["all 3 residual hooks"] == [
        "gru.0.hook_hidden", "gru.1.hook_hidden", "gru.2.hook_hidden"]
    with pytest.raises(TypeError, match="hook_names"):
        probing.layer_hooks(torch.nn.Module())
