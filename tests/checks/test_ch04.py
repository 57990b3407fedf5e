"""Checkers of practice notebook 04: each planted mistake gets its own diagnosis, and
garbage never passes.

``PLANTED`` lists plausible wrong answers, each with the cause its verdict must name (format:
``tests/exercise_utils.py``).
Solutions passing, stubs "not implemented" and determinism: test_checks_exercises.py."""

import math

import numpy as np
import pytest
import torch
from exercise_utils import Planted, assert_planted, planted_id
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


ATTENTION = [
    Planted("causal_attention", "no causal mask", lambda q, k, v: _attn(q, k, v, mask="none"),
            r"position 0 changed when you changed a later token.*no causal mask"),
    Planted("causal_attention", "masks with 0 instead of -inf",
            lambda q, k, v: _attn(q, k, v, fill=0.0), r"instead of -inf"),
    Planted("causal_attention", "masks the past instead of the future",
            lambda q, k, v: _attn(q, k, v, mask="reversed"), r"wrong way round"),
    Planted("causal_attention", "masks the diagonal too (triu(0))",
            lambda q, k, v: _attn(q, k, v, mask="strict"), r"position 0.*NaN.*triu\(1\)"),
    Planted("causal_attention", "softmax over the query axis",
            lambda q, k, v: _attn(q, k, v, axis=-2), r"wrong axis.*dim=-1"),
    Planted("causal_attention", "forgets to scale by sqrt(d_head)",
            lambda q, k, v: _attn(q, k, v, scale=False), r"forgot.*sqrt\(d_head\)"),
    Planted("causal_attention", "scales by d_head",
            lambda q, k, v: _attn(q, k, v, scale="d"), r"divided the scores by d_head"),
    Planted("causal_attention", "masks after the softmax",
            lambda q, k, v: _attn(q, k, v, after=True), r"\*after\* the softmax"),
    Planted("causal_attention", "multiplies the transposed pattern with v",
            lambda q, k, v: (_attn(q, k, v)[1].transpose(-1, -2) @ v, _attn(q, k, v)[1]),
            r"\*transposed\* pattern"),
    Planted("causal_attention", "returns (pattern, z)", lambda q, k, v: _attn(q, k, v)[::-1],
            r"\(pattern, z\)"),
    Planted("causal_attention", "returns only z", lambda q, k, v: _attn(q, k, v)[0],
            r"\(z, pattern\)"),
]


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


INFLUENCE = [
    Planted("influence", "transposes the matrix", lambda m, x: _influence(m, x, transpose=True),
            r"transposed"),
    Planted("influence", "tries only one replacement token",
            lambda m, x: _influence(m, x, values="one"), r"only one replacement value"),
    Planted("influence", "compares probabilities, not logits",
            lambda m, x: _influence(m, x, probs=True), r"softmax probabilities"),
    Planted("influence", "sums the change over the vocabulary",
            lambda m, x: _influence(m, x, reduce="sum"), r"summed the change"),
    Planted("influence", "keeps the sign of the change",
            lambda m, x: _influence(m, x, signed=True), r"\*signed\*"),
    Planted("influence", "edits `tokens` in place", lambda m, x: _influence(m, x, inplace=True),
            r"changed the `tokens`.*clone\(\)"),
    Planted("influence", "reduces over the changed position (wrong axis)",
            lambda m, x: _influence(m, x).max(0), r"\(L, L\)"),
    Planted("influence", "keeps only the upper triangle",
            lambda m, x: np.triu(_influence(m, x)), r"influence\[1, 0\] should be"),
]


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
RELATIVE_LOSS = [
    Planted("relative_loss", "divides by h(p + 1) (off-by-one position)",
            lambda loss, h: loss / h[:-1], r"h\(p \+ 1\).*h\[1:\]"),
    Planted("relative_loss", "inverts the ratio", lambda loss, h: h[1:] / loss,
            r"divided the floor by the loss"),
    Planted("relative_loss", "subtracts the floor", lambda loss, h: loss - h[1:], r"excess"),
    Planted("relative_loss", "divides by the mean floor", lambda loss, h: loss / h[1:].mean(),
            r"mean of the floors"),
    Planted("relative_loss", "averages over positions", lambda loss, h: (loss / h[1:]).mean(),
            r"single number"),
    Planted("relative_loss", "returns n_ctx + 1 values",
            lambda loss, h: np.append(loss / h[1:], 1.0), r"n_ctx \+ 1"),
]


# ---------------------------------------------------------------------------- exact loss
def _naive_softmax_loss(z, n, p):
    with np.errstate(all="ignore"):
        e = np.exp(z)
        return p @ -(n * np.log(e / e.sum(-1, keepdims=True))).sum(-1)


def _log_of_softmax_loss(z, n, p):
    with np.errstate(all="ignore"):
        return p @ -(n * np.log(softmax(z, -1))).sum(-1)


EXACT_LOSS = [
    Planted("exact_loss", "weights the sequences uniformly",
            lambda z, n, p: -(n * log_softmax(z, -1)).sum(-1).mean(0), r"uniformly.*probs"),
    Planted("exact_loss", "divides the weighted sum by N",
            lambda z, n, p: (p @ -(n * log_softmax(z, -1)).sum(-1)) / len(p), r"divides by N"),
    Planted("exact_loss", "uses logits as log-probabilities",
            lambda z, n, p: p @ -(n * z).sum(-1), r"logits as log-probabilities"),
    Planted("exact_loss", "uses probabilities instead of their log",
            lambda z, n, p: p @ -(n * softmax(z, -1)).sum(-1), r"instead of their logarithm"),
    Planted("exact_loss", "measures in bits",
            lambda z, n, p: p @ -(n * log_softmax(z, -1)).sum(-1) / np.log(2), r"bits"),
    Planted("exact_loss", "forgets the minus sign",
            lambda z, n, p: p @ (n * log_softmax(z, -1)).sum(-1), r"wrong sign"),
    Planted("exact_loss", "takes log(softmax) (log of zero)", _log_of_softmax_loss,
            r"inf or NaN.*log-softmax"),
    Planted("exact_loss", "averages over positions",
            lambda z, n, p: (p @ -(n * log_softmax(z, -1)).sum(-1)).mean(), r"single number"),
    Planted("exact_loss", "returns one loss per sequence",
            lambda z, n, p: -(n * log_softmax(z, -1)).sum(-1), r"one loss per sequence"),
    Planted("exact_loss", "log-softmax over the sequence axis",
            lambda z, n, p: p @ -(n * log_softmax(z, 0)).sum(-1), r"over the sequence axis"),
    Planted("exact_loss", "exponentiates the logits directly (overflow)", _naive_softmax_loss,
            r"overflow"),
]


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


TRAINING_STEP = [
    Planted("training_step", "never zeroes the gradients", _no_zero_grad,
            r"accumulated.*zero_grad"),
    Planted("training_step", "sums the loss instead of averaging", _summed, r"\*sum\*"),
    Planted("training_step", "returns the loss tensor", _returns_tensor,
            r"loss\.item\(\).*graph|graph.*loss\.item\(\)"),
    Planted("training_step", "zeroes the gradients after backward", _zero_after_backward,
            r"did not change.*zero_grad\(\)` between backward and step wipes"),
    Planted("training_step", "forgets optimiser.step()", _no_step,
            r"did not change.*never applied"),
    Planted("training_step", "averages over the vocabulary too", _mean_over_tokens,
            r"vocabulary size"),
    Planted("training_step", "returns nothing", _no_return, r"returned None"),
]

PLANTED = ATTENTION + INFLUENCE + RELATIVE_LOSS + EXACT_LOSS + TRAINING_STEP


@pytest.mark.parametrize("planted", PLANTED, ids=planted_id)
def test_planted_mistake(planted):
    assert_planted(ch04, planted)


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
