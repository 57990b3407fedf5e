"""beliefcourse.data: alignment, exact losses, and the two ways of sampling batches."""

import numpy as np
import pytest
import torch

from beliefcourse import processes
from beliefcourse.beliefs import belief_trajectories
from beliefcourse.data import ExactData, StreamSampler
from beliefcourse.model import TransformerConfig, build_model


class Oracle(torch.nn.Module):
    """Outputs log P(x_{p+2} | x_1..x_{p+1}) computed by the HMM: the Bayes-optimal model."""

    def __init__(self, hmm):
        super().__init__()
        self.hmm = hmm
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, tokens):
        beliefs, _ = self.hmm.forward(tokens.numpy())
        probs = beliefs[:, 1:] @ self.hmm.T.sum(axis=2).T
        return torch.from_numpy(np.log(np.maximum(probs, 1e-300)))


@pytest.fixture(scope="module")
def even():
    return ExactData(processes.even_process(0.5), 5)


def test_shapes_and_alignment(even):
    d = even
    N = len(d)
    assert d.inputs.shape == (N, 5) and d.inputs.dtype == np.int64
    assert d.probs.shape == (N,) and abs(d.probs.sum() - 1) < 1e-12
    assert d.beliefs.shape == (N, 5, 2)
    assert d.next_token_probs.shape == (N, 5, 2)
    # position p's belief is the belief after p + 1 tokens
    traj = belief_trajectories(d.hmm, d.inputs)
    np.testing.assert_allclose(d.beliefs, traj[:, 1:])
    # and its next-token distribution is P(x_{p+2} | x_1..x_{p+1})
    for p in range(4):
        for n in range(N):
            prefix = d.inputs[n, : p + 1]
            joint = [d.hmm.probability(np.append(prefix, x)) for x in range(2)]
            np.testing.assert_allclose(d.next_token_probs[n, p], np.array(joint) / sum(joint),
                                       atol=1e-12)


def test_optimal_loss_is_myopic_entropy():
    # Mess3 (0.05, 0.85), bits, from the paper's numbers (notes §8)
    d = ExactData(processes.mess3(), 10)
    expected = [1.2374, 1.1734, 1.1514, 1.1466, 1.1452, 1.1448, 1.1447, 1.1447, 1.1447, 1.1447]
    np.testing.assert_allclose(d.optimal_loss / np.log(2), expected, atol=1e-4)
    assert abs(d.optimal_loss.mean() - 0.8025) < 1e-4
    # Z1R: h(2) = H(1/3, 2/3)... known values h(2..5) = 0.6365, 0.4621, 0.2310, 0.2310 nats
    z = ExactData(processes.z1r(0.5), 4)
    np.testing.assert_allclose(z.optimal_loss, [0.6365, 0.4621, 0.2310, 0.2310], atol=1e-4)


def test_windows_distribution(even):
    tokens, probs = even.windows()
    assert tokens.shape[1] == 6 and abs(probs.sum() - 1) < 1e-12
    np.testing.assert_allclose(probs, even.hmm.probability(tokens), rtol=1e-12)
    assert len(ExactData(processes.mess3(), 10).windows()[0]) == 177_147


def test_exact_loss_equals_window_brute_force(even):
    model = build_model(TransformerConfig(n_layers=1, d_model=8, d_head=4, d_mlp=16, n_ctx=5,
                                          d_vocab=2), seed=0)
    tokens, probs = even.windows()
    with torch.no_grad():
        logits = model(torch.from_numpy(tokens[:, :-1].copy())).double()
    logq = logits.log_softmax(-1).numpy()
    targets = tokens[:, 1:]
    ce = -np.take_along_axis(logq, targets[..., None], axis=-1)[..., 0]     # (M, 5)
    brute = probs @ ce
    np.testing.assert_allclose(even.exact_loss(model, batch_size=7), brute, rtol=1e-10)
    assert np.all(even.exact_loss(model) > even.optimal_loss)


def test_oracle_reaches_optimal_loss(even):
    loss = even.exact_loss(Oracle(even.hmm))
    np.testing.assert_allclose(loss, even.optimal_loss, rtol=1e-10)
    np.testing.assert_allclose(even.relative_loss(loss), 1.0, rtol=1e-10)


def test_sample_batch_sampled_matches_window_distribution(even):
    g = torch.Generator().manual_seed(0)
    inputs, targets = even.sample_batch(40_000, g, "sampled")
    assert inputs.shape == targets.shape == (40_000, 5) and targets.dtype == torch.int64
    assert torch.equal(targets[:, :-1], inputs[:, 1:])
    windows = torch.cat([inputs, targets[:, -1:]], 1).numpy()
    tokens, probs = even.windows()
    index = {tuple(w): i for i, w in enumerate(tokens)}
    counts = np.bincount([index[tuple(w)] for w in windows], minlength=len(probs))
    freq = counts / len(windows)
    assert np.abs(freq - probs).max() < 5 * np.sqrt(probs.max() / len(windows))


def test_sample_batch_expected_and_reproducible(even):
    a = even.sample_batch(64, torch.Generator().manual_seed(3), "expected")
    b = even.sample_batch(64, torch.Generator().manual_seed(3), "expected")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    inputs, soft = a
    assert soft.shape == (64, 5, 2) and soft.dtype == torch.float32
    rows = {tuple(r): n for n, r in enumerate(even.inputs)}
    idx = [rows[tuple(r)] for r in inputs.numpy()]
    np.testing.assert_allclose(soft.numpy(), even.next_token_probs[idx], rtol=1e-6)
    with pytest.raises(ValueError, match="targets"):
        even.sample_batch(4, targets="soft")


def test_stream_sampler():
    hmm = processes.mess3()
    s = StreamSampler(hmm, 10, seed=0)
    inputs, targets = s.sample_batch(32)
    assert inputs.shape == targets.shape == (32, 10)
    assert torch.equal(targets[:, :-1], inputs[:, 1:])
    inputs, soft = StreamSampler(hmm, 10, seed=0).sample_batch(32, targets="expected")
    d = ExactData(hmm, 10)
    rows = {tuple(r): n for n, r in enumerate(d.inputs)}
    idx = [rows[tuple(r)] for r in inputs.numpy()]
    np.testing.assert_allclose(soft.numpy(), d.next_token_probs[idx], rtol=1e-5)
    a = StreamSampler(hmm, 50, seed=1).sample_batch(8)[0]
    b = StreamSampler(hmm, 50, seed=1).sample_batch(8)[0]
    assert a.shape == (8, 50) and torch.equal(a, b)
