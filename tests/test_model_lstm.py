"""The LSTM baseline: interface, hooks, causality, and hidden/cell states matching nn.LSTM."""

import pytest
import torch

from beliefcourse.model import LSTMConfig, LSTMModel, build_model, config_from_dict, param_count
from beliefcourse.train import PRESETS

CFG = LSTMConfig(n_layers=2, d_hidden=8, n_ctx=6)


def tokens(batch=4, length=6, seed=0):
    return torch.randint(0, 3, (batch, length), generator=torch.Generator().manual_seed(seed))


def test_interface_and_hook_names():
    model = build_model(CFG, seed=0)
    assert isinstance(model, LSTMModel)
    logits, cache = model.run_with_cache(tokens())
    assert logits.shape == (4, 6, 3)
    assert model.hook_names == ["hook_embed", "lstm.0.hook_hidden", "lstm.0.hook_cell",
                                "lstm.1.hook_hidden", "lstm.1.hook_cell",
                                "ln_final.hook_normalized"]
    assert all(v.shape == (4, 6, 8) for k, v in cache.items())
    torch.testing.assert_close(logits, model(tokens()), rtol=0, atol=0)


def test_cached_states_match_a_stepwise_lstm():
    model = build_model(CFG, seed=3)
    x = tokens(batch=5)
    _, cache = model.run_with_cache(x)
    layer = model.lstms[0]
    h = c = torch.zeros(1, 5, 8)
    inp = model.embed(x)
    for t in range(6):
        _, (h, c) = layer(inp[:, t:t + 1], (h, c))
        torch.testing.assert_close(cache["lstm.0.hook_hidden"][:, t], h[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(cache["lstm.0.hook_cell"][:, t], c[0], atol=1e-6, rtol=0)


def test_causal():
    model = build_model(CFG, seed=1)
    x = tokens(batch=8)
    y = x.clone()
    y[:, 3] = (y[:, 3] + 1) % 3
    (lx, cx), (ly, cy) = model.run_with_cache(x), model.run_with_cache(y)
    torch.testing.assert_close(lx[:, :3], ly[:, :3], rtol=0, atol=1e-6)
    for name in cx:
        torch.testing.assert_close(cx[name][:, :3], cy[name][:, :3], rtol=0, atol=1e-6)
    assert not torch.allclose(lx[:, 3], ly[:, 3])


def test_config_round_trip_and_validation():
    assert config_from_dict(CFG.to_dict()) == CFG
    assert CFG.to_dict()["arch"] == "lstm"
    with pytest.raises(ValueError, match="d_hidden"):
        LSTMConfig(d_hidden=0)
    with pytest.raises(TypeError, match="LSTMConfig"):
        LSTMModel(PRESETS["mess3"].model)


def test_rnn_presets_pair_gru_and_lstm_at_equal_size():
    for process in ("mess3", "rrxor"):
        gru = param_count(build_model(PRESETS[f"{process}-gru"].model))
        lstm = param_count(build_model(PRESETS[f"{process}-lstm"].model))
        assert abs(gru - lstm) / gru < 0.03
        assert PRESETS[f"{process}-gru"].hmm().n_tokens == PRESETS[process].hmm().n_tokens


def test_probing_finds_the_lstm_layers():
    from beliefcourse import probing
    model = build_model(CFG, seed=0)
    assert probing.layer_hooks(model) == ["lstm.0.hook_hidden", "lstm.1.hook_hidden"]
    assert probing.default_hook_sets(model, "mess3")["final layer (pre-LN)"] == [
        "lstm.1.hook_hidden"]
