"""Tests for beliefcourse.steering: the moves, editing a hook, and the experiment's bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beliefcourse import processes, steering
from beliefcourse.model import GRUConfig, LSTMConfig, TransformerConfig, build_model

CONFIGS = [TransformerConfig(n_layers=2, d_model=8, n_heads=2, d_head=4, d_mlp=16, n_ctx=6),
           GRUConfig(n_layers=2, d_hidden=8, n_ctx=6), LSTMConfig(n_layers=2, d_hidden=8, n_ctx=6)]


def tokens(batch=5, seed=0):
    return torch.randint(0, 3, (batch, 6), generator=torch.Generator().manual_seed(seed))


def test_steering_move_is_the_minimum_norm_solution():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 10))
    W -= W.mean(0)                                   # rows sum to zero: a simplex-valued probe
    b, b2 = rng.dirichlet(np.ones(3), size=(2, 7))
    delta = steering.steering_move(W, b, b2)
    assert delta.shape == (7, 10)
    np.testing.assert_allclose(delta @ W.T, b2 - b, atol=1e-10)
    # minimum norm: delta lies in the row space of W
    _, _, Vt = np.linalg.svd(W)
    np.testing.assert_allclose(delta @ Vt[2:].T, 0, atol=1e-10)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        steering.steering_move(W, b[:, :2], b2[:, :2])


def test_pattern_move():
    A = np.arange(12.0).reshape(4, 3)
    b, b2 = np.eye(3)[:2], np.eye(3)[1:]
    np.testing.assert_allclose(steering.pattern_move(A, b, b2), (b2 - b) @ A.T)
    with pytest.raises(ValueError, match="pattern"):
        steering.pattern_move(A[0], b, b2)


def test_kl_divergence():
    p = np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(steering.kl_divergence(p, p), 0, atol=1e-12)
    q = np.array([[0.25, 0.75, 0.0], [0.5, 0.25, 0.25]])
    want = [0.5 * np.log(2) + 0.5 * np.log(2 / 3),
            sum(1 / 3 * np.log((1 / 3) / x) for x in (0.5, 0.25, 0.25))]
    np.testing.assert_allclose(steering.kl_divergence(p, q), want)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.arch)
def test_run_from_hook_reproduces_and_edits_causally(cfg):
    model = build_model(cfg, seed=0).eval()
    x = tokens()
    hooks = steering.steerable_hooks(model)
    assert len(hooks) == 2
    with torch.no_grad():
        want = model(x)
    for hook in hooks:
        torch.testing.assert_close(steering.run_from_hook(model, x, hook, lambda a: a), want)

        def edit(a):
            a = a.clone()
            a[:, 4] += torch.linspace(-3, 3, a.shape[-1])     # not a constant: LayerNorm
            return a

        got = steering.run_from_hook(model, x, hook, edit)
        torch.testing.assert_close(got[:, :4], want[:, :4])
        assert not torch.allclose(got[:, 4], want[:, 4])
    with pytest.raises(ValueError, match="cannot steer"):
        steering.run_from_hook(model, x, "hook_embed", lambda a: a)


def test_steering_experiment_bookkeeping():
    hmm = processes.mess3()
    model = build_model(CONFIGS[0], seed=1).eval()
    x = tokens(batch=7).numpy()
    rng = np.random.default_rng(0)
    b, b2 = rng.dirichlet(np.ones(3), size=(2, 7))
    zero = steering.steering_experiment(model, hmm, x, b, b2, "blocks.1.hook_resid_post",
                                        np.zeros((7, 8)))
    np.testing.assert_allclose(zero.steered, zero.unsteered)
    np.testing.assert_allclose(zero.random, zero.unsteered)
    with torch.no_grad():
        q = model(torch.as_tensor(x))[:, -1].double().softmax(-1).numpy()
    emit = hmm.T.sum(axis=2).T
    np.testing.assert_allclose(zero.unsteered, steering.kl_divergence(b2 @ emit, q), rtol=1e-6)
    np.testing.assert_allclose(zero.model_error, steering.kl_divergence(b @ emit, q), rtol=1e-6)
    moves = rng.normal(size=(7, 8))
    res = steering.steering_experiment(model, hmm, x, b, b2, "blocks.1.hook_resid_post", moves,
                                       batch_size=3)
    np.testing.assert_allclose(res.move_norm, np.linalg.norm(moves, axis=1))
    assert not np.allclose(res.steered, res.unsteered)
    assert set(res.medians()) >= {"steered", "random", "unsteered"}
    with pytest.raises(ValueError, match="one row per pair"):
        steering.steering_experiment(model, hmm, x, b, b2[:3], "blocks.1.hook_resid_post", moves)
