"""Checkers of practice notebook 04: each planted mistake gets its own diagnosis, and
garbage never passes.

Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import math

import numpy as np
import pytest
import torch
from exercise_utils import assert_diagnosis
from scipy.special import log_softmax, softmax

from beliefcourse.checks import ch04


# ---------------------------------------------------------------------------- attention
def _attn(q, k, v, *, scale=True, mask="causal", axis=-1, fill=float("-inf"), after=False):
    L, d = q.shape[-2], q.shape[-1]
    s = q @ k.transpose(-1, -2)
    if scale is True:
        s = s / math.sqrt(d)
    elif scale == "d":
        s = s / d
    future = torch.ones(L, L, dtype=torch.bool).triu(1)
    m = {"causal": future, "strict": torch.ones(L, L, dtype=torch.bool).triu(0),
         "reversed": future.T, "none": torch.zeros(L, L, dtype=torch.bool)}[mask]
    if after:
        p = s.softmax(axis).masked_fill(m, 0.0)
    else:
        p = s.masked_fill(m, fill).softmax(axis)
    return p @ v, p


@pytest.mark.parametrize("planted, phrases", [
    (lambda q, k, v: _attn(q, k, v, mask="none"),
     ["position 0 changed when you changed a later token", "no causal mask"]),
    (lambda q, k, v: _attn(q, k, v, fill=0.0), ["instead of -inf"]),
    (lambda q, k, v: _attn(q, k, v, mask="reversed"), ["wrong way round"]),
    (lambda q, k, v: _attn(q, k, v, mask="strict"), ["position 0", "NaN", "triu(1)"]),
    (lambda q, k, v: _attn(q, k, v, axis=-2), ["wrong axis", "dim=-1"]),
    (lambda q, k, v: _attn(q, k, v, scale=False), ["sqrt(d_head)", "forgot"]),
    (lambda q, k, v: _attn(q, k, v, scale="d"), ["divided the scores by d_head"]),
    (lambda q, k, v: _attn(q, k, v, after=True), ["*after* the softmax"]),
    (lambda q, k, v: (_attn(q, k, v)[1].transpose(-1, -2) @ v, _attn(q, k, v)[1]),
     ["*transposed* pattern"]),
    (lambda q, k, v: _attn(q, k, v)[::-1], ["(pattern, z)"]),
    (lambda q, k, v: _attn(q, k, v)[0], ["(z, pattern)"]),
])
def test_attention_mistakes(planted, phrases):
    assert_diagnosis(ch04.check_causal_attention(planted), *phrases)


def test_attention_accepts_float32_and_numpy():
    def float32(q, k, v):
        z, p = _attn(q.float(), k.float(), v.float())
        return z.double().numpy(), p.double().numpy()
    assert ch04.check_causal_attention(float32)



# ---------------------------------------------------------------------------- influence
def _influence(model, tokens, *, values="all", probs=False, reduce="max", signed=False,
               transpose=False, inplace=False):
    L, V = len(tokens), model.cfg.d_vocab
    out = torch.zeros(L, L, dtype=torch.float64)
    with torch.no_grad():
        f = (lambda x: model(x[None])[0].softmax(-1)) if probs else (lambda x: model(x[None])[0])
        base = f(tokens)
        for t in range(L):
            original = int(tokens[t])
            alts = ([v for v in range(V) if v != original] if values == "all"
                    else [(original + 1) % V])
            for v in alts:
                x = tokens if inplace else tokens.clone()
                x[t] = v
                d = f(x) - base
                d = d if signed else d.abs()
                change = d.amax(-1) if reduce == "max" else d.sum(-1)
                out[t] = torch.maximum(out[t], change.double())
    return out.T.numpy() if transpose else out.numpy()


@pytest.mark.parametrize("planted, phrases", [
    (lambda m, x: _influence(m, x, transpose=True), ["transposed"]),
    (lambda m, x: _influence(m, x, values="one"), ["only one replacement value"]),
    (lambda m, x: _influence(m, x, probs=True), ["softmax probabilities"]),
    (lambda m, x: _influence(m, x, reduce="sum"), ["summed the change"]),
    (lambda m, x: _influence(m, x, signed=True), ["*signed*"]),
    (lambda m, x: _influence(m, x, inplace=True), ["changed the `tokens`", "clone()"]),
    (lambda m, x: _influence(m, x).max(0), ["(L, L)"]),
    (lambda m, x: np.triu(_influence(m, x)), ["influence[1, 0] should be"]),
])
def test_influence_mistakes(planted, phrases):
    assert_diagnosis(ch04.check_influence(planted), *phrases)


def test_influence_torch_output_passes():
    assert ch04.check_influence(lambda m, x: torch.from_numpy(_influence(m, x)))


def test_leaky_model_leaks_and_leaves_the_original_alone():
    from beliefcourse.model import TransformerConfig, build_model

    model = build_model(TransformerConfig(n_layers=1, d_model=16, d_mlp=32, n_ctx=5), seed=0)
    tokens = torch.tensor([0, 1, 2, 1, 0])
    causal = _influence(model, tokens)
    assert np.tril(causal, -1).max() == 0
    below = np.tril_indices(5, -1)
    assert _influence(ch04.leaky_model(model), tokens)[below].min() > 0
    peek = _influence(ch04.leaky_model(model, 1), tokens)
    assert np.tril(peek, -2).max() == 0 and np.diag(peek, -1).min() > 0
    assert np.array_equal(_influence(model, tokens), causal)


# ---------------------------------------------------------------------------- relative loss
@pytest.mark.parametrize("planted, phrases", [
    (lambda loss, h: loss / h[:-1], ["h(p + 1)", "h[1:]"]),
    (lambda loss, h: h[1:] / loss, ["divided the floor by the loss"]),
    (lambda loss, h: loss - h[1:], ["excess"]),
    (lambda loss, h: loss / h[1:].mean(), ["mean of the floors"]),
    (lambda loss, h: (loss / h[1:]).mean(), ["single number"]),
    (lambda loss, h: np.append(loss / h[1:], 1.0), ["n_ctx + 1"]),
])
def test_relative_loss_mistakes(planted, phrases):
    assert_diagnosis(ch04.check_relative_loss(planted), *phrases)


# ---------------------------------------------------------------------------- exact loss
@pytest.mark.parametrize("planted, phrases", [
    (lambda z, n, p: -(n * log_softmax(z, -1)).sum(-1).mean(0), ["uniformly", "probs"]),
    (lambda z, n, p: (p @ -(n * log_softmax(z, -1)).sum(-1)) / len(p), ["divides by N"]),
    (lambda z, n, p: p @ -(n * z).sum(-1), ["logits as log-probabilities"]),
    (lambda z, n, p: p @ -(n * softmax(z, -1)).sum(-1), ["instead of their logarithm"]),
    (lambda z, n, p: p @ -(n * log_softmax(z, -1)).sum(-1) / np.log(2), ["bits"]),
    (lambda z, n, p: p @ (n * log_softmax(z, -1)).sum(-1), ["wrong sign"]),
    (lambda z, n, p: p @ -(n * np.log(softmax(z, -1))).sum(-1), ["inf or NaN", "log-softmax"]),
    (lambda z, n, p: (p @ -(n * log_softmax(z, -1)).sum(-1)).mean(), ["single number"]),
    (lambda z, n, p: -(n * log_softmax(z, -1)).sum(-1), ["one loss per sequence"]),
])
def test_exact_loss_mistakes(planted, phrases):
    with np.errstate(all="ignore"):
        assert_diagnosis(ch04.check_exact_loss(planted), *phrases)


def test_exact_loss_naive_exp_overflows():
    def naive(z, n, p):
        e = np.exp(z)
        return p @ -(n * np.log(e / e.sum(-1, keepdims=True))).sum(-1)
    with np.errstate(all="ignore"):
        assert_diagnosis(ch04.check_exact_loss(naive), "overflow")


def test_exact_loss_float32_torch_passes():
    def torch32(z, n, p):
        lq = torch.log_softmax(torch.tensor(z, dtype=torch.float32), -1).double().numpy()
        return p @ -(n * lq).sum(-1)
    assert ch04.check_exact_loss(torch32)


# ---------------------------------------------------------------------------- training step
def _loss(model, inputs, targets, reduce="mean"):
    log_q = model(inputs).log_softmax(-1)
    per = (-(targets * log_q).sum(-1) if targets.is_floating_point()
           else -log_q.gather(-1, targets[..., None])[..., 0])
    return per.mean() if reduce == "mean" else per.sum()


def _no_zero_grad(model, opt, x, y):
    loss = _loss(model, x, y)
    loss.backward()
    opt.step()
    return loss.item()


def _summed(model, opt, x, y):
    loss = _loss(model, x, y, "sum")
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def _returns_tensor(model, opt, x, y):
    loss = _loss(model, x, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def _zero_after_backward(model, opt, x, y):
    loss = _loss(model, x, y)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss.item()


def _no_step(model, opt, x, y):
    loss = _loss(model, x, y)
    opt.zero_grad()
    loss.backward()
    return loss.item()


def _mean_over_tokens(model, opt, x, y):
    log_q = model(x).log_softmax(-1)
    loss = -(y * log_q).mean() if y.is_floating_point() else -log_q.gather(-1, y[..., None]).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def _no_return(model, opt, x, y):
    _returns_tensor(model, opt, x, y)


@pytest.mark.parametrize("planted, phrases", [
    (_no_zero_grad, ["accumulated", "zero_grad"]),
    (_summed, ["*sum*"]),
    (_returns_tensor, ["loss.item()", "graph"]),
    (_zero_after_backward, ["did not change"]),
    (_no_step, ["did not change"]),
    (_mean_over_tokens, ["vocabulary size"]),
    (_no_return, ["returned None"]),
])
def test_training_step_mistakes(planted, phrases):
    assert_diagnosis(ch04.check_training_step(planted), *phrases)


def test_training_step_with_cross_entropy_passes():
    import torch.nn.functional as F

    def flat(model, opt, x, y):
        logits = model(x)
        target = y.reshape(-1, logits.shape[-1]) if y.is_floating_point() else y.reshape(-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    assert ch04.check_training_step(flat)


# ---------------------------------------------------------------------------- garbage
@pytest.mark.parametrize("name, garbage", [
    ("causal_attention",
     lambda q, k, v: (torch.zeros_like(q), torch.zeros(*q.shape[:-1], q.shape[-2]))),
    ("causal_attention", lambda q, k, v: None),
    ("influence", lambda model, tokens: np.zeros((len(tokens), len(tokens)))),
    ("influence", lambda model, tokens: np.triu(np.ones((len(tokens), len(tokens))))),
    ("relative_loss", lambda loss, h: np.ones_like(loss)),
    ("relative_loss", lambda loss, h: "1.0"),
    ("exact_loss", lambda z, n, p: np.zeros(z.shape[1])),
    ("exact_loss", lambda z, n, p: np.full(z.shape[1], np.nan)),
    ("training_step", lambda model, opt, x, y: 0.0),
])
def test_garbage_fails(name, garbage):
    assert not getattr(ch04, f"check_{name}")(garbage)
