"""Checkers of practice notebook 04 beyond the registry (tests/checks/test_registry.py runs every
declared mistake): hand-written wrong answers the registry does not list, other correct
answers, garbage, and the leaky models the notebook draws."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import log_softmax

from beliefcourse.checks import ch04


def _attention(q, k, v):
    L = q.shape[-2]
    s = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).masked_fill(
        torch.ones(L, L, dtype=torch.bool).triu(1), float("-inf"))
    return s.softmax(-1) @ v, s.softmax(-1)


_influence = ch04._influence


# ---------------------------------------------------------------------------- wrong, by hand
@pytest.mark.parametrize("name, wrong, cause", [
    ("causal_attention", lambda q, k, v: (_attention(q, k, v)[0] * 2, _attention(q, k, v)[1]),
     r"z = pattern @ v"),
    ("causal_attention", lambda q, k, v: _attention(k, q, v), r"q_p \. k_s"),
    ("influence", lambda m, x: np.triu(_influence(m, x)), r"largest absolute change"),
    ("relative_loss", lambda loss, h: loss / np.sqrt(h[1:]), r"h\[p \+ 1\]"),
    ("exact_loss", lambda z, n, p: p @ -np.take_along_axis(
        log_softmax(z, -1), n.argmax(-1)[..., None], -1)[..., 0], r"next_token_probs\[n, p, x\]"),
])
def test_hand_written_mistakes_fail_with_advice(name, wrong, cause):
    result = getattr(ch04, f"check_{name}")(wrong)
    assert result.status == "failed" and re.search(cause, result.message), result.message


def test_two_optimizer_steps_per_call_fail():
    def training_step(model, optimizer, inputs, targets):
        for _ in range(2):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs).flatten(0, 1), targets.flatten(0, 1))
            loss.backward()
            optimizer.step()
        return loss.item()
    result = ch04.check_training_step(training_step)
    assert result.status == "failed" and "differ from the reference" in result.message


# ---------------------------------------------------------------------------- other correct answers
def test_other_correct_answers_pass():
    def float32(q, k, v):
        z, p = _attention(q.float(), k.float(), v.float())
        return z.double().numpy(), p.double().numpy()

    def soft_or_sampled(model, opt, x, y):
        logits = model(x)
        target = y.reshape(-1, logits.shape[-1]) if y.is_floating_point() else y.reshape(-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    def torch32(z, n, p):
        lq = torch.log_softmax(torch.tensor(z, dtype=torch.float32), -1).double().numpy()
        return p @ -(n * lq).sum(-1)

    for checker, fn in [(ch04.check_causal_attention, float32),
                        (ch04.check_influence, lambda m, x: torch.from_numpy(_influence(m, x))),
                        (ch04.check_training_step, soft_or_sampled),
                        (ch04.check_exact_loss, torch32)]:
        result = checker(fn)
        assert result, result.message


# ---------------------------------------------------------------------------- garbage


def test_leaky_model_leaks_and_leaves_the_original_alone():
    from beliefcourse.model import TransformerConfig, build_model

    model = build_model(TransformerConfig(n_layers=1, d_model=16, d_mlp=32, n_ctx=5), seed=0)
    tokens = torch.tensor([0, 1, 2, 1, 0])
    causal = _influence(model, tokens)
    assert np.tril(causal, -1).max() == 0
    assert _influence(ch04.leaky_model(model), tokens)[np.tril_indices(5, -1)].min() > 0
    peek = _influence(ch04.leaky_model(model, 1), tokens)
    assert np.tril(peek, -2).max() == 0 and np.diag(peek, -1).min() > 0
    assert np.array_equal(_influence(model, tokens), causal)
