"""Exercises of practice notebook 04 (training a transformer); torch is imported lazily."""

from __future__ import annotations

import copy
import math
from functools import partial

import numpy as np
from scipy.special import log_softmax, softmax, xlogy

from .. import information, processes
from ._core import Exercise, Known, Mistake, as_array, as_float, close, fmt

__all__ = ["EXERCISES", "check_causal_attention", "check_exact_loss", "check_influence",
           "check_relative_loss", "check_training_step", "leaky_model"]


# ---------------------------------------------------------------------------- 4.1 attention
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
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"{what}: causal_attention should return the pair `(z, pattern)`, got "
                      f"{type(out).__name__}. End with `return pattern @ v, pattern`.")
    z, pattern = (as_array(x, what).astype(float) for x in out)
    if z.ndim == 4 and z.shape[-1] == z.shape[-2] != pattern.shape[-1]:
        raise Mistake(f"{what}: you returned (pattern, z); the order is (z, pattern).")
    if z.ndim != 4 or z.shape[:-1] != pattern.shape[:-1] or pattern.shape[-1] != z.shape[-2]:
        raise Mistake(f"{what}: z should have shape (B, H, L, d_head) and pattern (B, H, L, L); "
                      f"got {z.shape} and {pattern.shape}.")
    rows = sorted({int(p) for p in np.argwhere(np.isnan(pattern))[:, 2]})
    if rows:
        raise Mistake(f"{what}: the pattern of query positions {rows} is NaN. " + (
            "Your mask hides the diagonal too, so position 0 reads nothing (a softmax of all "
            "-inf): use `triu(1)`, not `triu(0)`." if rows == [0] else "Check the mask."))
    return np.concatenate([pattern, z], axis=-1)


def _attention_cases():
    import torch
    gen = torch.Generator().manual_seed(404)
    return [(f"For q, k, v of shape {s} (each row: the pattern, then z)",
             tuple(torch.randn(*s, generator=gen, dtype=torch.float64) * 1.5 for _ in range(3)))
            for s in [(1, 1, 4, 2), (2, 3, 6, 4), (1, 1, 10, 8), (3, 2, 5, 16), (1, 2, 1, 4)]]


check_causal_attention = Exercise(
    name="causal_attention", signature="causal_attention(q, k, v) -> (z, pattern)",
    cases=_attention_cases, reference=lambda q, k, v: _attention_out(_attn(q, k, v), ""),
    convert=_attention_out, atol=1e-6,
    advice="Scores are q_p . k_s / sqrt(d_head), masked with -inf for keys s > p, softmax over "
           "the keys (each row sums to 1), and z = pattern @ v.",
    summary=lambda n: f"Correct on {n} batches (1 to 10 positions, d_head 2 to 16): causal, "
                      "rows sum to 1, scaled by 1/sqrt(d_head), z = pattern @ v.",
    mistakes=(
        Known("no causal mask", partial(_attn, mask="none"), "There is no causal mask: every "
              "position reads every other one, the token it is asked to predict included."),
        Known("masks with 0 instead of -inf", partial(_attn, fill=0.0), "You set the masked "
              "scores to 0 instead of -inf: e^0 = 1, so future positions still get weight."),
        Known("masks the past", partial(_attn, mask="reversed"), "Your mask is the wrong way "
              "round: it hides the past and keeps the future. Hide s > p: `triu(1)`."),
        Known("masks the diagonal too (triu(0))", partial(_attn, mask="strict"), None,
              r"positions \[0\] is NaN.*triu\(1\)"),
        Known("softmax over the query axis", partial(_attn, axis=-2), "Your softmax runs over "
              "the queries (the *columns* sum to 1): normalise over the keys, `softmax(dim=-1)`."),
        Known("forgets to scale by sqrt(d_head)", partial(_attn, scale=0), "You forgot to "
              "divide the scores by sqrt(d_head), which keeps the softmax from saturating."),
        Known("scales by d_head", partial(_attn, scale=1), "You divided by d_head, not its root."),
        Known("masks after the softmax", partial(_attn, after=True), "Your rows do not sum to "
              "1: you zeroed the future *after* the softmax. Mask with -inf *before* it."),
        Known("multiplies the transposed pattern with v", partial(_attn, turn=True), "You "
              "multiplied v by the *transposed* pattern (p reads values at s >= p): pattern @ v."),
        Known("returns (pattern, z)", lambda q, k, v: _attn(q, k, v)[::-1], None, r"\(pattern, z"),
        Known("returns only z", lambda q, k, v: _attn(q, k, v)[0], None, r"\(z, pattern\)"),
    ))


# ---------------------------------------------------------------------------- 4.2 influence
def leaky_model(model, lookahead: int | None = None):
    """A copy of ``model`` whose position p may read up to p + ``lookahead`` (None: all of them)."""
    leaky = copy.deepcopy(model)
    for f in (block.attn.future for block in leaky.blocks):
        f.copy_(f.new_ones(f.shape).triu(len(f) if lookahead is None else lookahead + 1))
    return leaky.eval()


def _influence(model, tokens, *, one=False, probs=False, total=False, signed=False, inplace=False):
    """The influence matrix, and its typical mistakes (the switches)."""
    def f(x):
        logits = model(x[None])[0].detach().double()
        return logits.softmax(-1) if probs else logits
    out, V, base = np.zeros((len(tokens),) * 2), model.cfg.d_vocab, f(tokens)
    for t in range(len(tokens)):
        was = int(tokens[t])
        for v in [(was + 1) % V] if one else [u for u in range(V) if u != was]:
            x = tokens if inplace else tokens.clone()
            x[t] = v
            d = f(x) - base if signed else (f(x) - base).abs()
            out[t] = np.maximum(out[t], (d.sum(-1) if total else d.amax(-1)).numpy())
    return out


def _influence_cases():
    import torch

    from ..model import TransformerConfig, build_model
    small = build_model(TransformerConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32,
                                          n_ctx=6, d_vocab=3), seed=5).eval()
    binary = build_model(TransformerConfig(n_layers=1, d_model=16, n_heads=1, d_head=8, d_mlp=32,
                                           n_ctx=5, d_vocab=2), seed=6).eval()
    return [(f"For {label}, tokens {x}", (model, torch.tensor(x))) for label, model, x in [
        ("a causal transformer (6 tokens)", small, [0, 2, 1, 1, 0, 2]),
        ("a transformer with no causal mask", leaky_model(small), [2, 2, 0, 1, 0, 1]),
        ("a transformer that peeks one token ahead", leaky_model(small, 1), [1, 0, 2, 2, 1, 0]),
        ("a causal transformer with 2 token values, 4 of its 5 positions", binary, [1, 0, 0, 1])]]


class _Untouched(Exercise):
    """Fails a function that changes its ``tokens`` argument (the loop calls it on a copy)."""

    def call(self, fn, args, label):
        model, tokens = copy.deepcopy(args)
        out = fn(model, tokens)
        if not bool((tokens == args[1]).all()):
            raise Mistake(f"{label}: your function changed `tokens` (now {tokens.tolist()}): you "
                          "edited it in place, so later substitutions start from a changed "
                          "sequence. Substitute into a copy, `x = tokens.clone()`.")
        return out


def _influence_out(value, what):
    if getattr(value, "requires_grad", False):
        raise Mistake(f"{what}: you returned a tensor that requires grad (NumPy cannot read it in "
                      "the cells below): compute under torch.no_grad() and return `.numpy()`.")
    return as_array(value, what)


check_influence = _Untouched(
    name="influence", signature="influence(model, tokens) -> (L, L)",
    cases=_influence_cases, reference=_influence, convert=_influence_out, rtol=1e-4, atol=1e-5,
    advice="influence[t, p] is the largest absolute change of position p's logits over every "
           "other value of token t.",
    summary="Correct on 4 models: zero below the diagonal for the causal ones, non-zero there "
            "for the model without a mask and the one that peeks ahead.",
    mistakes=(
        Known("transposes the matrix", lambda m, x: _influence(m, x).T, "Your matrix is "
              "transposed: row t is the position whose *token* changed, column p the logits."),
        Known("tries only one replacement token", partial(_influence, one=True), "You tried "
              "only one replacement value per position: try every other value, keep the largest."),
        Known("compares probabilities, not logits", partial(_influence, probs=True), "You "
              "compared softmax probabilities; the exercise asks for the logits."),
        Known("sums the change over the vocabulary", partial(_influence, total=True), "You "
              "summed the change over the vocabulary; take the largest, `.abs().amax(-1)`."),
        Known("keeps the sign of the change", partial(_influence, signed=True), "You took the "
              "largest *signed* change; a logit that goes down has changed too: use `.abs()`."),
        Known("edits `tokens` in place", partial(_influence, inplace=True), None, "in place"),
        Known("reduces over the changed position", lambda m, x: _influence(m, x).max(0),
              "You reduced over the changed position t: return the whole (L, L) matrix."),
    ))


# ---------------------------------------------------------------------------- 4.3 relative loss
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
    summary=lambda n: f"Correct on {n} cases: position p is divided by h(p + 2) = h[p + 1].",
    mistakes=(
        Known("divides by h(p + 1) (off-by-one position)", lambda loss, h: loss / h[:-1],
              "You divided by h(p + 1): position p predicts token p + 2, so use h(p + 2), h[1:]."),
        Known("inverts the ratio", lambda loss, h: h[1:] / loss, "You divided the floor by "
              "the loss; the relative loss is loss / floor, which is >= 1 (1 is optimal)."),
        Known("subtracts the floor", lambda loss, h: loss - h[1:], "You returned the excess "
              "loss - h(p + 2); the exercise asks for the ratio loss / h(p + 2)."),
        Known("divides by the last floor (the entropy rate)", lambda loss, h: loss / h[-1],
              "You divided every position by the last h, h(n_ctx + 1); each position p has its "
              "own floor h(p + 2) = h[p + 1]: early positions have a higher floor."),
        Known("divides by the mean floor", lambda loss, h: loss / h[1:].mean(),
              "You divided by the mean of the floors; each position has its own floor h(p + 2)."),
        Known("averages over positions", lambda loss, h: (loss / h[1:]).mean(), "You returned "
              "a single number: return one number per position (their mean is the headline)."),
        Known("returns n_ctx + 1 values", lambda loss, h: np.append(loss / h[1:], 1.0), "`h` "
              "has n_ctx + 1 entries, h(1)..h(n_ctx + 1); the n_ctx positions use h(2) onwards.",
              recognise=lambda case: np.shape(case.got) == np.shape(case.args[1])),
    ))


# ---------------------------------------------------------------------------- 4.4 exact loss
def _exact_loss_cases():
    from ..data import ExactData
    rng, out = np.random.default_rng(7), []
    for label, N, L, X, scale, shift in [
            ("random logits", 40, 4, 3, 2.0, 0.0), ("random logits, 2 tokens", 25, 6, 2, 1.0, 0.0),
            ("a confident model (logits differ by up to 90)", 30, 3, 3, 30.0, 0.0),
            ("logits around 1000", 20, 3, 3, 1.0, 1000.0),
            ("a saturated model (logits 800 apart)", 10, 2, 3, 1.0, None)]:
        z = rng.normal(0, scale, (N, L, X)) + (shift or 0.0)
        z[..., 0] += 800.0 if shift is None else 0.0    # the softmax underflows to exactly 0
        out.append((f"For {label}", (z, rng.dirichlet(np.ones(X), size=(N, L)),
                                     rng.dirichlet([0.5] * N))))
    q = (data := ExactData(processes.mess3(), 4)).next_token_probs
    return out + [("For Mess3, all 81 contexts of 4 tokens",
                   (np.log(q) + rng.normal(0, 0.3, q.shape), q, data.probs))]


def _finite_loss(value, what):
    arr = as_array(value, what)
    if not np.all(np.isfinite(arr)):
        raise Mistake(f"{what}: your loss contains inf or NaN ({fmt(arr)}): exp overflows on "
                      "large logits and np.log(softmax(z)) is -inf where the softmax underflows to "
                      "0. Use a stable log-softmax (scipy.special.log_softmax, torch.log_softmax, "
                      "or z - max(z) - log(sum(exp(z - max(z))))).")
    return arr


def _exact_loss(z, n, p, axis=-1, log_q=log_softmax, weigh=np.matmul):
    """The exact loss (``weigh(probs, loss per sequence)``), and its typical mistakes."""
    return weigh(p, -(n * log_q(z, axis)).sum(-1))


_quiet = np.errstate(all="ignore")      # the wrong answers' overflow and log(0) warnings
check_exact_loss = Exercise(
    name="exact_loss", signature="exact_loss(logits, next_token_probs, probs) -> (L,)",
    cases=_exact_loss_cases, reference=_exact_loss, convert=_finite_loss, rtol=1e-4, atol=1e-7,
    advice="The loss at position p is sum_n probs[n] sum_x next_token_probs[n, p, x] * "
           "(-log_softmax(logits)[n, p, x]).",
    summary=lambda n: f"Correct on {n} inputs, including logits around 1000 and logits 800 "
                      "apart (no overflow, no log(0)), and all 81 Mess3 contexts of 4 tokens.",
    mistakes=(
        Known("weights the sequences uniformly", partial(_exact_loss, weigh=lambda p, x: x.mean(0)),
              "You averaged over sequences uniformly: weight each by its probability, `probs`."),
        Known("divides the weighted sum by N", lambda z, n, p: _exact_loss(z, n, p) / len(p),
              "You divided by N a second time (a mean of probs * loss): `probs` sums to 1, sum."),
        Known("uses logits as log-probabilities", partial(_exact_loss, log_q=lambda z, a: z),
              "You used the logits as log-probabilities: take log_softmax first."),
        Known("uses probabilities instead of their log", partial(_exact_loss, log_q=softmax),
              "You used the softmax probabilities instead of their logarithm: the loss is -log q."),
        Known("measures in bits", lambda z, n, p: _exact_loss(z, n, p) / np.log(2),
              "Your loss is in bits (log base 2); the course uses nats (natural log)."),
        Known("forgets the minus sign", lambda z, n, p: -_exact_loss(z, n, p),
              "Your loss has the wrong sign: it is -log q, positive."),
        Known("takes log(softmax) (log of zero)", partial(_exact_loss, log_q=_quiet(
            lambda z, a: np.log(softmax(z, a)))), None, r"inf or NaN.*log-softmax"),
        Known("exponentiates the logits directly (overflow)", partial(_exact_loss, log_q=_quiet(
            lambda z, a: np.log(np.exp(z) / np.exp(z).sum(a, keepdims=True)))), None, "overflow"),
        Known("averages over positions", lambda z, n, p: _exact_loss(z, n, p).mean(),
              "You returned a single number: return one loss per position."),
        Known("averages over the tokens x", lambda z, n, p: _exact_loss(z, n, p) / z.shape[-1],
              "You averaged over the tokens x: the cross-entropy *sums* next_token_probs * "
              "(-log q) over x (the targets already weigh the tokens)."),
        Known("returns the KL divergence", lambda z, n, p: _exact_loss(z, n, p) - p @ -xlogy(
            n, n).sum(-1), "You subtracted the targets' entropy (a KL divergence); the loss is the "
              "cross-entropy -sum_x next_token_probs * log q, whose floor is that entropy."),
        Known("returns one loss per sequence", partial(_exact_loss, weigh=lambda p, x: x),
              "You still have one loss per sequence: sum over sequences, weighted by `probs`."),
        Known("log-softmax over the sequence axis", partial(_exact_loss, axis=0), "You took the "
              "log-softmax over the sequences (axis 0); normalise over the vocabulary, axis=-1."),
    ))


# ---------------------------------------------------------------------------- 4.5 training step
def _step(order="zbs", factor=lambda logits, targets: 1, give=lambda loss: loss.item(),
          hard=False, late=False):
    """A step calling zero_grad (z), backward (b), step (s) in ``order``; batch_loss * factor
    (``hard``: of the soft targets' argmax; ``late``: the loss returned is recomputed after)."""
    from ..train import batch_loss

    def training_step(model, optimizer, inputs, targets):
        logits, y = model(inputs), targets.argmax(-1) if hard and targets.ndim == 3 else targets
        loss = batch_loss(logits, y) * factor(logits, targets)
        for op in order:
            {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[op]()
        return give(batch_loss(model(inputs), y) if late else loss)
    return training_step


def _trajectory(fn, log=None):
    """Three steps with sampled targets (int64 (B, L)), three with soft ones (float (B, L, X)),
    each from a fresh model and SGD (lr 0.1): the losses returned, then the parameters. ``log``
    gets, per step() call, whether there were gradients to apply, and, per call of ``fn``,
    whether gradients were left at its end."""
    import torch

    from ..model import TransformerConfig, build_model
    gen, out, log = torch.Generator().manual_seed(21), [], {} if log is None else log

    def graded(params):
        return any(p.grad is not None and bool(p.grad.any()) for p in params)

    class SGD(torch.optim.SGD):
        def step(self, closure=None):
            log.setdefault("steps", []).append(graded(self.param_groups[0]["params"]))
            return super().step(closure)
    for kind in ("sampled", "expected"):
        model = build_model(TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=4,
                                              d_mlp=32, n_ctx=6, d_vocab=3), seed=11)
        opt, losses, params = SGD(model.parameters(), lr=0.1), [], []
        for step in range(3):
            inputs = torch.randint(0, 3, (8, 6), generator=gen)
            u = -torch.rand(8, 6, 3, generator=gen, dtype=torch.float64).log()
            targets = (torch.randint(0, 3, (8, 6), generator=gen) if kind == "sampled"
                       else (u / u.sum(-1, keepdim=True)).float())          # Dirichlet(1, 1, 1)
            value, label = fn(model, opt, inputs, targets), f"With {kind} targets, step {step + 1}"
            log.setdefault("ends", []).append(graded(model.parameters()))
            if getattr(value, "requires_grad", False):
                raise Mistake(f"{label}: you returned the loss tensor, which keeps the computation "
                              "graph alive (memory grows every step): return `loss.item()`.")
            losses.append(as_float(value, f"{label}: training_step"))
            params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
        out.append(np.concatenate([losses, torch.cat(params).double().numpy()]))
    return np.concatenate(out)


def _test_training_step(fn):
    log: dict = {}
    got, want, near = _trajectory(fn, log), _trajectory(_step()), partial(close, rtol=1e-5,
                                                                          atol=1e-6)
    if near(got, want):
        return ("Correct for sampled and soft targets over three consecutive steps: the loss is "
                "the mean before the update, gradients are cleared every step, one update each.")
    steps, ends = log.get("steps", []), log["ends"]
    if not any(steps):
        raise Mistake("The parameters did not change: " + (
            "you never called `optimizer.step()`. Call it after backward." if not steps else
            "you called `optimizer.step()` before `loss.backward()`, when there were no gradients "
            "to apply." if all(ends) else "zero_grad between backward and step wipes the "
            "gradients.") + " Call zero_grad, backward, step, in that order.")
    why = next((k.diagnosis for k in check_training_step.mistakes if k.diagnosis
                and close(got, _trajectory(k.wrong), rtol=1e-4, atol=1e-6)), None)
    i = len(got) // 2 if near(got[:len(got) // 2], want[:len(got) // 2]) else 0
    what = ["losses you returned", "parameters after your steps"][near(got[i:i + 3], want[i:i + 3])]
    raise Mistake(why or f"With {'soft' if i else 'sampled'} targets, the {what} differ from the "
                  "reference (SGD, lr 0.1). Return the mean over batch and positions of -log "
                  "q(target) (soft: -sum_x target(x) log q(x)) before the update; call "
                  "`optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()` in order.")


check_training_step = Exercise(
    name="training_step", signature="training_step(model, optimizer, inputs, targets) -> float",
    test=_test_training_step,
    mistakes=(
        Known("never zeroes the gradients", _step("bs"), "Your first step was right and the next "
              "are not: the gradients *accumulated*. Call `optimizer.zero_grad()` every step."),
        Known("sums the loss instead of averaging", _step(factor=lambda z, y: z[..., 0].numel()),
              "You summed over batch and positions (a step B * L times too large): take the mean."),
        Known("returns the loss tensor", _step(give=lambda loss: loss), None, r"graph.*loss\.item"),
        Known("zeroes the gradients after backward", _step("bzs"), None, "zero_grad between"),
        Known("forgets optimizer.step()", _step("zb"), None, r"never called `optimizer\.step"),
        Known("steps before backward", _step("zsb"), None, r"step\(\)` before `loss\.backward"),
        Known("returns the loss after the update", _step(late=True), "The losses you returned "
              "were computed *after* the update: return the loss of the batch before "
              "optimizer.step(), the one you called backward on."),
        Known("sums the soft targets' loss", _step(
            factor=lambda z, y: z[..., 0].numel() if y.is_floating_point() else 1), "With soft "
              "targets you summed over batch and positions: average over them, "
              "`-(targets * log_q).sum(-1).mean()`."),
        Known("trains on the soft targets' argmax", _step(hard=True), "With soft targets you "
              "trained on their argmax (hard labels): the loss for a distribution is -sum_x "
              "target(x) log q(x), averaged over batch and positions."),
        Known("averages over the vocabulary too",
              _step(factor=lambda z, y: 1 / z.shape[-1] if y.is_floating_point() else 1),
              "You averaged over the tokens too: `-(targets * log_q).sum(-1).mean()`."),
        Known("returns nothing", _step(give=lambda loss: None), None, r"returned None"),
        Known("returns the loss in bits", _step(give=lambda loss: loss.item() / math.log(2)),
              "The loss you returned is in bits; use natural logarithms (nats)."),
    ))

EXERCISES = (check_causal_attention, check_influence, check_relative_loss, check_exact_loss,
             check_training_step)
