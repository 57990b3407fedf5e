"""beliefcourse.model: shapes, hook names, causality, configs, determinism."""

import pytest
import torch

from beliefcourse.model import (
    GRUConfig,
    GRUModel,
    Transformer,
    TransformerConfig,
    build_model,
    config_from_dict,
    param_count,
)

SMALL = TransformerConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=6,
                          d_vocab=3)


def tokens(batch=4, length=6, vocab=3, seed=0):
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(seed))


def test_paper_parameter_counts_match_transformerlens():
    assert param_count(build_model(TransformerConfig())) == 143_075
    rrxor = TransformerConfig(d_model=128, n_heads=4, d_head=16, d_mlp=512, d_vocab=2)
    assert param_count(build_model(rrxor)) == 663_298


def test_shapes_and_hook_names():
    model = build_model(SMALL, seed=0)
    x = tokens()
    logits, cache = model.run_with_cache(x)
    assert logits.shape == (4, 6, 3)
    assert list(cache) == model.hook_names
    for name in ["hook_embed", "hook_pos_embed", "ln_final.hook_normalized"] + [
            f"blocks.{l}.hook_resid_{k}" for l in range(2) for k in ("pre", "mid", "post")]:
        assert cache[name].shape == (4, 6, 16), name
    assert cache["blocks.1.attn.hook_pattern"].shape == (4, 2, 6, 6)
    torch.testing.assert_close(cache["blocks.0.hook_resid_pre"],
                               cache["hook_embed"] + cache["hook_pos_embed"])
    torch.testing.assert_close(cache["blocks.0.hook_resid_post"], cache["blocks.1.hook_resid_pre"])
    torch.testing.assert_close(cache["blocks.1.hook_resid_mid"],
                               cache["blocks.1.hook_resid_pre"] + cache["blocks.1.hook_attn_out"])
    pattern = cache["blocks.0.attn.hook_pattern"]
    torch.testing.assert_close(pattern.sum(-1), torch.ones(4, 2, 6))
    assert torch.all(pattern.triu(1) == 0)
    torch.testing.assert_close(model(x), logits)


def test_run_with_cache_selected_and_unknown_names():
    model = build_model(SMALL, seed=0)
    _, cache = model.run_with_cache(tokens(), "blocks.1.hook_resid_post")
    assert list(cache) == ["blocks.1.hook_resid_post"]
    _, cache = model.run_with_cache(tokens(), ["ln_final.hook_normalized", "hook_embed"])
    assert list(cache) == ["hook_embed", "ln_final.hook_normalized"]
    with pytest.raises(ValueError, match="blocks.0.hook_resid_pre"):
        model.run_with_cache(tokens(), ["blocks.9.hook_resid_post"])


@pytest.mark.parametrize("cfg", [SMALL, GRUConfig(n_layers=2, d_hidden=8, n_ctx=6)])
def test_causality_at_every_hook(cfg):
    model = build_model(cfg, seed=1)
    x = tokens(batch=8)
    for k in range(1, 6):
        y = x.clone()
        y[:, k] = (y[:, k] + 1) % 3
        logits_x, cache_x = model.run_with_cache(x)
        logits_y, cache_y = model.run_with_cache(y)
        torch.testing.assert_close(logits_x[:, :k], logits_y[:, :k], rtol=0, atol=1e-6)
        for name, a in cache_x.items():
            b = cache_y[name]
            if name.endswith("hook_pattern"):
                torch.testing.assert_close(a[:, :, :k], b[:, :, :k], rtol=0, atol=1e-6)
            else:
                torch.testing.assert_close(a[:, :k], b[:, :k], rtol=0, atol=1e-6, msg=name)
        assert not torch.allclose(logits_x[:, k], logits_y[:, k])


def test_gru_interface():
    model = build_model(GRUConfig(n_layers=2, d_hidden=8, n_ctx=6), seed=0)
    assert isinstance(model, GRUModel)
    logits, cache = model.run_with_cache(tokens())
    assert logits.shape == (4, 6, 3)
    assert model.hook_names == ["hook_embed", "gru.0.hook_hidden", "gru.1.hook_hidden",
                                "ln_final.hook_normalized"]
    assert cache["gru.1.hook_hidden"].shape == (4, 6, 8)


def test_seeded_build_is_deterministic_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = build_model(SMALL, seed=7), build_model(SMALL, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), k
    c = build_model(SMALL, seed=8)
    assert not torch.equal(a.embed.weight, c.embed.weight)


def test_init_scale_follows_transformerlens():
    model = build_model(TransformerConfig(d_model=256, d_mlp=1024), seed=0)
    std = model.blocks[0].mlp.fc_in.weight.std().item()
    assert abs(std - 0.8 / 16) < 0.002
    assert torch.all(model.blocks[0].mlp.fc_in.bias == 0)


def test_config_round_trip_and_validation():
    d = SMALL.to_dict()
    assert d["arch"] == "transformer" and config_from_dict(d) == SMALL
    g = GRUConfig(d_hidden=12)
    assert config_from_dict(g.to_dict()) == g
    assert isinstance(build_model(d), Transformer)
    with pytest.raises(ValueError, match="d_model"):
        TransformerConfig(d_model=0)
    with pytest.raises(ValueError, match="act_fn"):
        TransformerConfig(act_fn="tanh")
    with pytest.raises(ValueError, match="normalization"):
        TransformerConfig(normalization="RMS")
    with pytest.raises(ValueError, match="unknown"):
        TransformerConfig.from_dict({"d_model": 8, "width": 3})
    with pytest.raises(ValueError, match="arch"):
        config_from_dict({"arch": "rnn"})


def test_no_normalization_and_bad_tokens():
    model = build_model(TransformerConfig(n_layers=1, d_model=8, d_head=4, d_mlp=8, n_ctx=6,
                                          normalization=None), seed=0)
    assert model(tokens()).shape == (4, 6, 3)
    with pytest.raises(ValueError, match="n_ctx"):
        model(tokens(length=7))
    with pytest.raises(ValueError, match="0..2"):
        model(torch.tensor([[0, 3]]))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(2, 3))
