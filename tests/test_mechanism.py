"""OV vectors, the exact resid_mid decomposition and attention-decay fits (paper b)."""

import numpy as np
import pytest
import torch

from beliefcourse import mechanism as M
from beliefcourse.data import ExactData
from beliefcourse.model import TransformerConfig, build_model
from beliefcourse.processes import mess3


@pytest.fixture(scope="module")
def model():
    return build_model(TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=8,
                                         d_mlp=32), seed=3)


@pytest.fixture(scope="module")
def inputs():
    return ExactData(mess3(0.15, 0.6), 10).inputs[::97]


def test_ov_vectors_match_the_attention_output_of_a_one_token_input(model):
    ov = M.ov_vectors(model)
    assert ov.shape == (2, 10, 3, 16)
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.tensor([[2]]), "blocks.0.hook_attn_out")
    expected = ov[:, 0, 2].sum(0) + model.blocks[0].attn.out.bias.detach().numpy()
    assert np.allclose(cache["blocks.0.hook_attn_out"][0, 0].numpy(), expected, atol=1e-5)


def test_resid_mid_decomposes_exactly(model, inputs):
    dec = M.decompose_resid_mid(model, inputs)
    assert dec.heads.shape == (len(inputs), 10, 2, 16)
    assert dec.max_error < 1e-5
    assert np.allclose(dec.attention.sum(-1), 1)
    # dropping one head breaks it
    broken = M.ResidMidDecomposition(dec.embedding, dec.heads[:, :, :1], dec.bias,
                                     dec.resid_mid, dec.attention)
    assert broken.max_error > 1e-3


def test_decompose_agrees_with_float32_model(model, inputs):
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.from_numpy(np.array(inputs)),
                                        "blocks.0.hook_resid_mid")
    dec = M.decompose_resid_mid(model, inputs)
    assert np.abs(cache["blocks.0.hook_resid_mid"].numpy() - dec.resid_mid).max() < 1e-5
    assert next(model.parameters()).dtype == torch.float32      # the model is not touched


def test_angles_of_three_symmetric_vectors_are_120():
    e = np.array([[1, 0], [-0.5, np.sqrt(3) / 2], [-0.5, -np.sqrt(3) / 2]])
    ov = np.broadcast_to(e + [3.0, 1.0], (1, 4, 3, 2))       # common offset is removed
    assert np.allclose(M.ov_angles(ov), np.where(np.eye(3), 0, 120))
    assert np.allclose(M.ov_plane_fraction(ov), 1)
    assert np.allclose(M.angle_deviation(ov), 0, atol=1e-6)
    skewed = np.broadcast_to(e * [[1.0], [2.0], [1.0]], (1, 4, 3, 2))
    assert M.angle_deviation(skewed)[0] > 5                  # unequal norms break the symmetry


def test_ov_orientation_sign():
    e = np.eye(3) - 1 / 3
    ov = np.stack([e, -e])[:, None]                          # (2 heads, 1 position, 3, 3)
    cos = M.ov_orientation(ov, np.eye(3))
    assert np.allclose(cos[0], 1) and np.allclose(cos[1], -1)
    with pytest.raises(ValueError, match="readout"):
        M.ov_orientation(ov, np.eye(2))


def test_fit_attention_decay_recovers_a_geometric_rate():
    n, r = 10, 0.55
    A = np.full((n, n), np.nan)
    for p in range(n):
        w = r ** np.arange(p + 1)
        A[p, :p + 1] = w / w.sum()
    fit = M.fit_attention_decay(A)
    assert fit.rate == pytest.approx(r, abs=1e-9)
    assert fit.contains(r) and fit.contains(-r) and not fit.contains(0.85)


def test_fit_attention_decay_by_parity():
    n = 10
    A = np.full((n, n), np.nan)
    for p in range(n):
        w = np.where(np.arange(p + 1) % 2 == 1, 0.5 ** np.arange(p + 1), 1e-6)
        A[p, :p + 1] = w / w.sum()
    fit = M.fit_attention_decay(A, distances=range(1, 8), parity="odd")
    assert fit.rate == pytest.approx(0.5, abs=1e-9)
    assert M.odd_share(A) > 0.99
    with pytest.raises(ValueError, match="parity"):
        M.fit_attention_decay(A, parity="both")


def test_explained_variance():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 8))
    assert M.explained_variance(f, 3) == pytest.approx(1)
    assert M.explained_variance(f, 1) < 1


def test_rejects_non_transformers():
    from beliefcourse.model import GRUConfig
    with pytest.raises(TypeError):
        M.ov_vectors(build_model(GRUConfig(n_layers=1, d_hidden=8), seed=0))


def test_odd_share_leaves_out_the_current_token():
    n = 10
    A = np.zeros((n, n))
    for p in range(1, n):
        A[p, 0] = 0.5                                   # half on the current token
        A[p, 1:p + 1:2] = 0.5 / len(range(1, p + 1, 2))  # the rest on odd distances
    assert M.odd_share(A) == pytest.approx(1.0)
    shares = M.odd_shares(A, min_query=4)
    assert shares.shape == (6,) and np.allclose(shares, 1.0)
    with pytest.raises(ValueError, match="query"):
        M.odd_share(A, 0)
