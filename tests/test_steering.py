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
    np.testing.assert_allclose(delta @ W.T, b2 - b, atol=1e-12)
    # minimum norm: delta lies in the row space of W
    _, _, Vt = np.linalg.svd(W)
    np.testing.assert_allclose(delta @ Vt[2:].T, 0, atol=1e-12)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        steering.steering_move(W, b[:, :2], b2[:, :2])


def _rank_deficient(tiny, seed=0, S=3, D=12):
    """W = U diag(3, 1.5, tiny) V^T with U's last column along (1, ..., 1): the rank-(S-1)
    probe of a simplex-valued target, plus a singular value ``tiny`` of rounding size."""
    rng = np.random.default_rng(seed)
    ones = np.ones((S, 1)) / np.sqrt(S)
    U = np.linalg.qr(np.concatenate([ones, rng.normal(size=(S, S - 1))], axis=1))[0]
    U = np.roll(U, -1, axis=1)                       # the (1, ..., 1) direction last
    V = np.linalg.qr(rng.normal(size=(D, S)))[0]
    sigma = np.array([3.0, 1.5, tiny][-S:] if S == 3 else list(np.linspace(3, 1, S - 1)) + [tiny])
    return (U * sigma) @ V.T, V[:, :S - 1]


@pytest.mark.parametrize("tiny", [0.0, 1e-15, 4e-15, 1e-12])
def test_steering_move_on_a_rank_deficient_probe(tiny):
    W, row_space = _rank_deficient(tiny)
    rng = np.random.default_rng(1)
    readout, target = rng.dirichlet(np.ones(3), size=(2, 20))
    readout = readout + 1e-16 * rng.normal(size=readout.shape)     # sums to 1 up to rounding
    delta = steering.steering_move(W, readout, target)
    # the probe reads exactly the target after the move
    np.testing.assert_allclose(delta @ W.T, target - readout, atol=1e-12)
    # the move lies in W's row space (spanned by the first S - 1 right singular vectors)
    np.testing.assert_allclose(delta - (delta @ row_space) @ row_space.T, 0, atol=1e-12)
    # and does not depend on the rounding-size singular value
    W0, _ = _rank_deficient(0.0)
    np.testing.assert_allclose(delta, steering.steering_move(W0, readout, target), atol=1e-12)


def test_probe_pinv_drops_only_what_is_below_the_cutoff():
    W, _ = _rank_deficient(2e-15)
    assert np.linalg.matrix_rank(steering.probe_pinv(W)) == 2
    W5, _ = _rank_deficient(1e-3, S=5)                # a genuine small singular value is kept
    pinv = steering.probe_pinv(W5)
    np.testing.assert_allclose(pinv, np.linalg.pinv(W5), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(steering.probe_pinv(W, rtol=1e-20), np.linalg.pinv(W, rcond=0))
    np.testing.assert_array_equal(steering.probe_pinv(np.zeros((3, 4))), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="rtol"):
        steering.probe_pinv(W, rtol=2.0)
    with pytest.raises(ValueError, match="coef"):
        steering.probe_pinv(W[0])


def test_moves_share_their_validation():
    W, A = np.ones((3, 5)), np.ones((5, 3))
    b = np.full((2, 3), 1 / 3)
    for fn, M in ((steering.steering_move, W), (steering.pattern_move, A)):
        with pytest.raises(ValueError, match=r"both have shape \(\.\.\., 3\)"):
            fn(M, b, b[:, :2])
        with pytest.raises(ValueError, match="finite"):
            fn(M, b, np.full((2, 3), np.nan))
        with pytest.raises(ValueError, match="matrix"):
            fn(M[0], b, b)


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


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.arch)
def test_run_with_state_move_zero_is_the_model_and_edits_are_causal(cfg):
    model = build_model(cfg, seed=0).eval()
    x = tokens()
    with torch.no_grad():
        want = model(x)
    width = cfg.d_model if cfg.arch == "transformer" else cfg.d_hidden
    for hook in steering.steerable_hooks(model):
        hooks = [hook, hook.replace("hidden", "cell")] if hook.startswith("lstm.") else [hook]
        zero = np.zeros((len(x), width * len(hooks)))
        torch.testing.assert_close(steering.run_with_state_move(model, x, hooks, 3, zero), want)
        move = np.random.default_rng(0).normal(size=zero.shape)
        got = steering.run_with_state_move(model, x, hooks, 3, move)
        torch.testing.assert_close(got[:, :3], want[:, :3])
        assert not torch.allclose(got[:, 3], want[:, 3])
    with pytest.raises(ValueError, match="cannot steer the state"):
        steering.run_with_state_move(model, x, "hook_embed", 3, np.zeros((5, width)))


def test_state_move_is_carried_by_the_recurrence():
    """A move of the top GRU layer's state reaches later positions (the recurrence carries
    it); run_from_hook's edit of the output sequence does not."""
    model = build_model(CONFIGS[1], seed=0).eval()
    x = tokens()
    with torch.no_grad():
        want = model(x)
    move = np.random.default_rng(0).normal(size=(len(x), 8))
    carried = steering.run_with_state_move(model, x, "gru.1.hook_hidden", 3, move)
    assert not torch.allclose(carried[:, 4:], want[:, 4:])
    # the carried move equals re-running the layer from the moved state by hand
    with torch.no_grad():
        h0 = model.grus[0](model.embed(x))[0]
        head, _ = model.grus[1](h0[:, :4])
        h3 = head[:, 3] + torch.as_tensor(move, dtype=head.dtype)
        tail = model.grus[1](h0[:, 4:], h3[None].contiguous())[0]
        by_hand = model.unembed(model.ln_final(torch.cat([head[:, :3], h3[:, None], tail], 1)))
    torch.testing.assert_close(carried, by_hand)
    edited = steering.run_from_hook(model, x, "gru.1.hook_hidden", lambda a: a)
    torch.testing.assert_close(edited[:, 4:], want[:, 4:])


def test_steered_futures_unsteered_match_the_model_on_every_continuation():
    hmm = processes.rrxor()
    model = build_model(GRUConfig(n_layers=1, d_hidden=8, n_ctx=6, d_vocab=2), seed=0).eval()
    ctx = torch.randint(0, 2, (4, 3), generator=torch.Generator().manual_seed(0)).numpy()
    q = steering.steered_futures(model, ctx, "gru.0.hook_hidden", np.zeros((4, 8)), 3)
    assert [a.shape for a in q] == [(4, 2), (4, 4), (4, 8)]
    for a in q:
        np.testing.assert_allclose(a.sum(1), 1, atol=1e-6)
    with torch.no_grad():
        for w, word in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
            seq = torch.as_tensor(np.concatenate([ctx, np.tile(word, (4, 1))], 1))
            p = model(seq).double().softmax(-1).numpy()
            # P(x1 x2 x3 = word + (x3,)) = P(x1) P(x2 | x1) P(x3 | x1 x2)
            for x3 in (0, 1):
                want = p[:, 2, word[0]] * p[:, 3, word[1]] * p[:, 4, x3]
                np.testing.assert_allclose(q[2][:, 2 * w + x3], want, rtol=1e-6)
            np.testing.assert_allclose(q[1][:, w], p[:, 2, word[0]] * p[:, 3, word[1]],
                                       rtol=1e-6)
    assert hmm.n_tokens == 2
    with pytest.raises(ValueError, match="one row per context"):
        steering.steered_futures(model, ctx, "gru.0.hook_hidden", np.zeros((3, 8)), 2)


def test_within_class_pairs():
    beliefs = np.array([[1, 0], [0, 1], [1, 0], [0.5, 0.5], [0.2, 0.8]])
    classes = np.array([0, 0, 0, 1, 2])
    pairs = steering.within_class_pairs(beliefs, classes, 500, seed=0)
    assert pairs.shape == (500, 2)
    assert (classes[pairs[:, 0]] == classes[pairs[:, 1]]).all()
    assert (np.abs(beliefs[pairs[:, 0]] - beliefs[pairs[:, 1]]).max(1) > 0).all()
    assert {tuple(p) for p in pairs.tolist()} == {(0, 1), (1, 0), (1, 2), (2, 1)}
    np.testing.assert_array_equal(pairs, steering.within_class_pairs(beliefs, classes, 500, 0))
    with pytest.raises(ValueError, match="no pair"):
        steering.within_class_pairs(beliefs[3:], classes[3:], 5)
