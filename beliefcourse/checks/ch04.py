"""Exercises of practice notebook 04 (training a transformer); :func:`leaky_model` serves its
leak demonstration."""

from __future__ import annotations

import copy
import math
from functools import partial

import numpy as np
import torch
from scipy.special import log_softmax, softmax, xlogy
from torch.nn.utils import parameters_to_vector as flat

from .. import information, processes
from ..data import ExactData
from ..model import TransformerConfig, build_model
from ..train import batch_loss
from ._core import Exercise, Mistake, as_array, as_float, as_tuple, close, fmt

_config = partial(TransformerConfig, d_model=16, d_mlp=32)     # the checks' small transformers


def _attn(q, k, v, *, scale=0.5, mask="causal", axis=-1, fill=-math.inf, after=False, turn=False):
    """Causal attention ``(z, pattern)`` (scores / d_head ** scale), and its typical mistakes."""
    L, d = q.shape[-2], q.shape[-1]
    s = q @ k.transpose(-1, -2) / d ** scale
    up = q.new_ones(L, L).bool().triu
    m = {"causal": up(1), "strict": up(0), "reversed": up(1).T, "none": up(L)}[mask]
    p = s.softmax(axis).masked_fill(m, 0.0) if after else s.masked_fill(m, fill).softmax(axis)
    return (p.transpose(-1, -2) if turn else p) @ v, p


def _attention_out(out, what):
    """``(z, pattern)`` as one array ``[pattern | z]`` of shape (B, H, L, L + d_head)."""
    z, pattern = (as_array(x, what).astype(float) for x in as_tuple(out, what, "(z, pattern)"))
    if z.ndim != 4 or z.shape[:-1] != pattern.shape[:-1] or pattern.shape[-1] != z.shape[-2]:
        raise Mistake(f"{what}: return z (B, H, L, d_head) and pattern (B, H, L, L), in the order "
                      f"(z, pattern); got shapes {z.shape} and {pattern.shape}.")
    if np.isnan(pattern).any():
        raise Mistake(f"{what}: your pattern has NaN rows (a softmax of all -inf): hide only the "
                      "keys s > p, `triu(1)`, so that each position reads itself.")
    return np.concatenate([pattern, z], axis=-1)


def _attention_cases():
    gen = torch.Generator().manual_seed(404)
    return [(f"For q, k, v of shape {s} (each row: the pattern, then z)",
             tuple(torch.randn(*s, generator=gen, dtype=torch.float64) * 1.5 for _ in range(3)))
            for s in [(1, 1, 4, 2), (2, 3, 6, 4), (1, 1, 10, 8), (3, 2, 5, 16), (1, 2, 1, 4)]]


check_causal_attention = Exercise(
    name="causal_attention", signature="causal_attention(q, k, v) -> (z, pattern)",
    cases=_attention_cases, reference=lambda q, k, v: _attention_out(_attn(q, k, v), ""),
    convert=_attention_out, atol=1e-6,
    advice="Scores q_p . k_s / sqrt(d_head), -inf for keys s > p, softmax over s; z = pattern @ v.",
    summary="Correct on {n} batches (1 to 10 positions, d_head 2 to 16): causal, rows sum to 1, "
            "scaled by 1/sqrt(d_head), z = pattern @ v.", mistakes=(
        ("no causal mask", partial(_attn, mask="none"), "No causal mask: hide the keys s > p."),
        ("masks with 0", partial(_attn, fill=0.0), "You masked with 0: e^0 = 1; use -inf."),
        ("masks the past", partial(_attn, mask="reversed"), "You masked the past: hide s > p."),
        ("masks the diagonal (triu(0))", partial(_attn, mask="strict"), None, r"NaN.*triu\(1\)"),
        ("softmax over queries", partial(_attn, axis=-2), "Softmax over queries: use `dim=-1`."),
        ("forgets sqrt(d_head)", partial(_attn, scale=0), "You forgot to divide by sqrt(d_head)."),
        ("scales by d_head", partial(_attn, scale=1), "You divided by d_head: use sqrt(d_head)."),
        ("masks after softmax", partial(_attn, after=True), "You masked post-softmax: mask first."),
        ("uses pattern^T", partial(_attn, turn=True), "You used pattern^T; z = pattern @ v."),
        ("scales by sqrt(L)", lambda q, k, v: _attn(q * (q.shape[-1] / q.shape[-2]) ** 0.5, k, v),
         "You divided by sqrt(L), the sequence length: d_head is q.shape[-1]."),
        ("computes k @ q^T", lambda q, k, v: _attn(k, q, v), "You used k_p . q_s: use q_p . k_s."),
        ("returns (pattern, z)", lambda q, k, v: _attn(q, k, v)[::-1], None, r"in the order")))


def leaky_model(model, lookahead: int | None = None):
    """A copy of ``model`` whose position p may read up to p + ``lookahead`` (None: all of them)."""
    leaky = copy.deepcopy(model)
    for f in (block.attn.future for block in leaky.blocks):
        f.copy_(f.new_ones(f.shape).triu(len(f) if lookahead is None else lookahead + 1))
    return leaky.eval()


def _influence(model, tokens, *, one=0, probs=0, total=0, signed=0, inplace=0, keep=np.maximum):
    """The influence matrix, and its typical mistakes (the switches)."""
    def f(x):
        logits = model(x[None])[0].detach()                     # float32, as a learner's
        return (logits.softmax(-1) if probs else logits).double()
    out, V, base = np.zeros((len(tokens),) * 2), model.cfg.d_vocab, f(tokens)
    for t in range(len(tokens)):
        was = int(tokens[t])
        for v in [(was + 1) % V] if one else [u for u in range(V) if u != was]:
            x = tokens if inplace else tokens.clone()
            x[t] = v
            d = f(x) - base if signed else (f(x) - base).abs()
            out[t] = keep(out[t], (d.sum(-1) if total else d.amax(-1)).numpy())
    return out


def _influence_cases():
    small = build_model(_config(n_layers=2, n_heads=2, d_head=4, n_ctx=6), seed=5).eval()
    binary = build_model(_config(n_layers=1, n_ctx=5, d_vocab=2), seed=6).eval()
    return [(f"For {label}, tokens {x}", (model, torch.tensor(x))) for label, model, x in [
        ("a causal transformer (6 tokens)", small, [0, 2, 1, 1, 0, 2]),
        ("a transformer with no causal mask", leaky_model(small), [2, 2, 0, 1, 0, 1]),
        ("a transformer that peeks one token ahead", leaky_model(small, 1), [1, 0, 1, 1, 1, 0]),
        ("a causal transformer with 2 token values, 4 of its 5 positions", binary, [1, 0, 0, 1])]]


class _NoGrad(Exercise):
    def call(self, fn, args, label):        # fails grad-tracking tensors
        if getattr(out := super().call(fn, args, label), "requires_grad", False):
            raise Mistake(f"{label}: your tensor requires grad: compute under torch.no_grad() "
                          "and return `.numpy()`.")
        return out


check_influence = _NoGrad(untouched=True,
    name="influence", signature="influence(model, tokens) -> (L, L)",
    cases=_influence_cases, reference=_influence, rtol=1e-4, atol=1e-5,
    advice="influence[t, p]: the largest absolute change of p's logits over t's other values.",
    summary="Correct on {n} models: zero below the diagonal for the causal ones, non-zero there "
            "for the model without a mask and the one that peeks ahead.", mistakes=(
        ("transposes", lambda m, x: _influence(m, x).T, "Transposed: row t = changed token."),
        *[(m, partial(_influence, **{k: True}), d) for m, k, d in [
            ("tries one value", "one", "You tried one value of token t: try every other one."),
            ("uses probabilities", "probs", "You compared probabilities: compare the logits."),
            ("sums over logits", "total", "You summed the changes over the logits: take the max."),
            ("keeps the sign", "signed", "You kept the sign of the change: take `.abs()`.")]],
        ("edits `tokens` in place", partial(_influence, inplace=True), None, "in place"),
        ("keeps the last value", partial(_influence, keep=lambda a, b: b), "Your row t holds the "
         "last value's change (overwritten): keep the max over the values.")))


def _relative_loss_cases():
    rng = np.random.default_rng(42)
    inputs = [("Mess3, n_ctx = 5", information.myopic_entropy(processes.mess3(), np.arange(1, 7)))]
    inputs += [(f"random myopic entropies, n_ctx = {n}",
                np.sort(rng.uniform(0.3, 1.2, n + 1))[::-1].copy()) for n in (10, 3, 1)]
    return [(f"For {label}", (h[1:] * (1 + rng.uniform(0.0005, 0.05, len(h) - 1)), h))
            for label, h in inputs]


check_relative_loss = Exercise(
    name="relative_loss", signature="relative_loss(loss, h) -> (n_ctx,)",
    cases=_relative_loss_cases, reference=lambda loss, h: loss / h[1:],
    advice="The relative loss at position p is loss[p] / h(p + 2), and h(p + 2) is h[p + 1].",
    summary="Correct on {n} cases: position p is divided by h(p + 2) = h[p + 1].", mistakes=(
        ("divides by h(p + 1)", lambda x, h: x / h[:-1], "Off by one: use h(p + 2) = h[p + 1]."),
        ("inverts the ratio", lambda x, h: h[1:] / x, "Your ratio is inverted: loss / floor."),
        ("subtracts the floor", lambda x, h: x - h[1:], "You subtracted the floor: divide."),
        ("uses h[-1]", lambda x, h: x / h[-1], "You used h[-1]: position p's floor is h[p + 1]."),
        ("divides by mean(h)", lambda x, h: x / h.mean(), "One floor for all p: use h[p + 1]."),
        ("returns the excess", lambda x, h: x / h[1:] - 1, "You subtracted 1: return the ratio."),
        ("in bits", lambda x, h: x / h[1:] / np.log(2), "Loss in bits, h in nats: use nats."),
        ("returns n_ctx + 1 values", lambda x, h: np.append(x / h[1:], 1.0),
         "You returned n_ctx + 1 values: the n_ctx positions use h(2) onwards, h[1:].", "",
         lambda c: np.shape(c.got) == np.shape(c.args[1]))))


def _exact_loss_cases():
    rng, out = np.random.default_rng(7), []
    for label, N, L, X, scale, shift in [
            ("random logits", 40, 4, 3, 2.0, 0.0), ("random logits, 2 tokens", 25, 6, 2, 1.0, 0.0),
            ("a confident model (logits differ by up to 90)", 30, 3, 3, 30.0, 0.0),
            ("logits around 1000 in odd sequences, 0 in even", 20, 3, 3, 1.0,
             1000.0 * (np.arange(20) % 2)[:, None, None]),
            ("a saturated model (logits 800 apart)", 10, 2, 3, 1.0, (800.0, 0, 0))]:
        z = rng.normal(0, scale, (N, L, X)) + np.array(shift)  # 800 apart: softmax underflows to 0
        out.append((f"For {label}", (z, rng.dirichlet(np.ones(X), size=(N, L)),
                                     rng.dirichlet([0.5] * N))))
    q = (data := ExactData(processes.mess3(), 4)).next_token_probs
    return out + [("For Mess3, all 81 contexts of 4 tokens",
                   (np.log(q) + rng.normal(0, 0.3, q.shape), q, data.probs))]


def _finite_loss(value, what):
    arr = as_array(value, what)
    if not np.all(np.isfinite(arr)):
        raise Mistake(f"{what}: your loss has inf or NaN ({fmt(arr)}): exp overflowed, or log(0) "
                      "from log(softmax) or a max over all rows. Use scipy.special.log_softmax.")
    return arr


def _xl(z, n, p, axis=-1, log_q=log_softmax, weigh=np.matmul):
    """The exact loss (``weigh(probs, loss per sequence)``), and its typical mistakes."""
    return weigh(p, -(n * log_q(z, axis)).sum(-1))


check_exact_loss = Exercise(
    name="exact_loss", signature="exact_loss(logits, next_token_probs, probs) -> (L,)",
    cases=_exact_loss_cases, reference=_xl, convert=_finite_loss, rtol=1e-4, atol=1e-7,
    advice="Loss at p: sum_n probs[n] sum_x next_token_probs[n, p, x] * -log_softmax(logits).",
    summary="Correct on {n} inputs, including logits around 1000 or 0 and logits 800 apart "
            "(no overflow, no log(0)), and all 81 Mess3 contexts of 4 tokens.", mistakes=(
        ("weights sequences uniformly", partial(_xl, weigh=lambda p, x: x.mean(0)),
         "You averaged over sequences uniformly: weight each by its probability, `probs`."),
        ("divides by N", lambda *a: _xl(*a) / len(a[2]), "You divided by N: sum probs * loss."),
        ("uses logits as log q", partial(_xl, log_q=lambda z, a: z),
         "You used the logits as log q: take log_softmax first."),
        ("uses q, not log q", partial(_xl, log_q=softmax), "You used q: the loss is -log q."),
        ("measures in bits", lambda *a: _xl(*a) / np.log(2), "Use nats (natural log), not bits."),
        ("drops the minus", lambda *a: -_xl(*a), "Wrong sign: the loss is -log q, positive."),
        ("takes log(softmax) or exp(logits) (inf or NaN)", partial(_xl, log_q=np.errstate(
            all="ignore")(lambda z, a: np.log(softmax(z, a)))), None, r"inf or NaN.*log_softmax"),
        ("averages over x", lambda *a: _xl(*a) / a[0].shape[-1], "You averaged over x: sum."),
        ("returns the KL divergence", lambda z, n, p: _xl(z, n, p) - p @ -xlogy(n, n).sum(-1),
         "You subtracted the targets' entropy (a KL divergence); return the cross-entropy."),
        *[(f"log-softmax over axis {a}", partial(_xl, axis=a), "Log-softmax over the wrong axis: "
           "use axis=-1, the tokens x.") for a in (0, 1)],
        ("swaps q and the targets", lambda z, n, p: p @ -xlogy(softmax(z, -1), n).sum(-1),
         "You swapped the arguments (-sum q log targets): use -sum targets * log q.")))


def _step(order="zbs", times=None, soft=0, give=torch.Tensor.item, hard=0, late=0, lf=batch_loss):
    """zero_grad (z), backward (b), step (s) in ``order`` on the loss times "BL" or "1/X" (``soft``:
    with soft targets only), of the argmax if ``hard``; ``late``: returns the loss after step."""
    def training_step(model, optimizer, inputs, targets):
        logits, y = model(inputs), targets.argmax(-1) if hard and targets.ndim == 3 else targets
        loss = lf(logits, y) * ({"BL": inputs.numel(), "1/X": 1 / logits.shape[-1]}.get(
            times, 1) if targets.is_floating_point() or not soft else 1)
        for op in order:
            {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[op]()
        return give(batch_loss(model(inputs), y) if late else loss)
    return training_step


def _trajectory(fn):
    """Losses, then parameters, of 3 steps with sampled, then 3 with soft targets (SGD, lr 0.1)."""
    gen, out = torch.Generator().manual_seed(21), []
    for kind in ("sampled", "expected"):
        model = build_model(_config(n_layers=1, n_heads=2, d_head=4, n_ctx=6), seed=11)
        opt, losses, params = torch.optim.SGD(model.parameters(), lr=0.1), [], []
        for step in range(3):
            inputs = torch.randint(0, 3, (8, 6), generator=gen)
            targets = (torch.randint(0, 3, (8, 6), generator=gen) if kind == "sampled"
                       else torch.randn(8, 6, 3, generator=gen).softmax(-1))
            value, label = fn(model, opt, inputs, targets), f"With {kind} targets, step {step + 1}"
            if getattr(value, "requires_grad", False):
                raise Mistake(f"{label}: you returned the loss tensor, which keeps the computation "
                              "graph alive: return `loss.item()`.")
            losses.append(as_float(value, f"{label}: training_step"))
            params.append(flat(model.parameters()))
        if all(torch.equal(params[0], p) for p in params):
            raise Mistake(f"With {kind} targets, the parameters did not change: you never called "
                          "`optimizer.step()`, called it before `loss.backward()`, or zero_grad "
                          "between them wiped the gradients. Call zero_grad, backward, step.")
        out.append(np.concatenate([losses, torch.cat(params).detach().double().numpy()]))
    return np.concatenate(out)


def _test_training_step(fn):
    got, want, near = _trajectory(fn), _trajectory(_step()), partial(close, rtol=1e-5, atol=1e-6)
    if near(got, want):
        return ("Correct for sampled and soft targets over three consecutive steps: the loss is "
                "the mean before the update, gradients are cleared every step, one update each.")
    why = next((k.diagnosis for k in check_training_step.mistakes if k.diagnosis
                and close(got, _trajectory(k.wrong), rtol=1e-4, atol=1e-6)), None)
    i = len(got) // 2 if near(got[:len(got) // 2], want[:len(got) // 2]) else 0
    what = ["losses you returned", "parameters after your steps"][near(got[i:i + 3], want[i:i + 3])]
    raise Mistake(why or f"With {'soft' if i else 'sampled'} targets, the {what} differ from the "
                  "reference (SGD, lr 0.1). Return the mean over batch and positions of -log "
                  "q(target) (soft: -sum_x target(x) log q(x)), computed before the update.")


check_training_step = Exercise(
    name="training_step", signature="training_step(model, optimizer, inputs, targets) -> float",
    test=_test_training_step, mistakes=(
        ("never zeroes grads", _step("bs"), "Gradients accumulated: call zero_grad() every step."),
        ("sums the loss", _step(times="BL"), "You summed over batch and positions: average."),
        ("returns the loss tensor", _step(give=lambda loss: loss), None, r"graph.*loss\.item"),
        ("zeroes the gradients after backward", _step("bzs"), None, "zero_grad between"),
        ("forgets optimizer.step()", _step("zb"), None, r"never called `optimizer\.step"),
        ("steps before backward", _step("zsb"), None, r"step\(\)`, called it before `loss\."),
        ("returns the loss after step", _step(late=True), "You returned the loss after step()."),
        ("sums the soft loss", _step(times="BL", soft=True), "You summed the soft loss: average."),
        ("takes the argmax", _step(hard=True), "You took the argmax: -sum_x target(x) log q(x)."),
        ("averages over x", _step(times="1/X", soft=True), "You averaged over tokens x: sum."),
        ("returns bits", _step(give=lambda loss: loss.item() / math.log(2)), "Use nats, not bits."),
        ("softmax, then the loss", _step(lf=lambda z, y: batch_loss(z.softmax(-1), y)),
         "You took a softmax of the logits: the loss does.")))

EXERCISES = (check_causal_attention, check_influence, check_relative_loss, check_exact_loss,
             check_training_step)
