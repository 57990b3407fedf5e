"""Exercises of practice notebook 04 (training a small transformer), declared for the registry
(:mod:`beliefcourse.checks._core`). torch is imported inside functions (imports stay light)."""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy.special import log_softmax, softmax

from .. import information, processes
from ._core import Exercise, Known, Mistake, as_array, close, fmt

__all__ = ["EXERCISES", "check_causal_attention", "check_exact_loss", "check_influence",
           "check_relative_loss", "check_training_step", "leaky_model"]


def _known(convert):
    """``Known(...)`` for an exercise whose answer ``convert`` reads (a pair, say): the wrong
    answer is recognised after the same conversion as the learner's."""
    def known(mistake, wrong, diagnosis, cause=""):
        def recognise(case):
            try:
                return close(case.got, convert(wrong(*copy.deepcopy(case.args)), ""))
            except Exception:
                return False
        return Known(mistake, wrong, diagnosis, cause, recognise if diagnosis else None)
    return known


# ---------------------------------------------------------------------------- 4.1 attention
def _attn(q, k, v, *, scale="sqrt", mask="causal", axis=-1, fill=float("-inf"), after=False):
    """Causal attention ``(z, pattern)``, and its typical mistakes (the switches)."""
    import torch

    L, d = q.shape[-2], q.shape[-1]
    s = q @ k.transpose(-1, -2) / {"sqrt": math.sqrt(d), "none": 1.0, "d": float(d)}[scale]
    future = torch.ones(L, L, dtype=torch.bool).triu(1)
    m = {"causal": future, "strict": torch.ones(L, L, dtype=torch.bool).triu(0),
         "reversed": future.T, "none": torch.zeros(L, L, dtype=torch.bool)}[mask]
    p = s.softmax(axis).masked_fill(m, 0.0) if after else s.masked_fill(m, fill).softmax(axis)
    return p @ v, p


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
    if np.isnan(pattern).any():
        rows = sorted({int(p) for p in np.argwhere(np.isnan(pattern))[:, 2]})
        raise Mistake(f"{what}: the pattern of query positions {rows} is NaN. " + (
            "Your mask also hides the diagonal, so position 0 may read nothing and the softmax "
            "of all -inf is NaN: mask s > p only (`triu(1)`, not `triu(0)`)." if rows == [0]
            else "A row must keep at least one finite score; check the mask and any division."))
    return np.concatenate([pattern, z], axis=-1)


def _attention_cases():
    import torch

    gen = torch.Generator().manual_seed(404)
    return [(f"For q, k, v of shape {s} (each row: the pattern, then z)",
             tuple(torch.randn(*s, generator=gen, dtype=torch.float64) * 1.5 for _ in range(3)))
            for s in [(1, 1, 4, 2), (2, 3, 6, 4), (1, 1, 10, 8), (3, 2, 5, 16), (1, 2, 1, 4)]]


_ak = _known(_attention_out)
check_causal_attention = Exercise(
    name="causal_attention", signature="causal_attention(q, k, v) -> (z, pattern)",
    cases=_attention_cases, reference=lambda q, k, v: _attention_out(_attn(q, k, v), ""),
    convert=_attention_out, atol=1e-6,
    advice="Scores are q_p . k_s / sqrt(d_head), masked with -inf for keys s > p, softmax over "
           "the keys (each row sums to 1), and z = pattern @ v.",
    summary=lambda n: f"Correct on {n} batches (1 to 10 positions, d_head 2 to 16): causal, "
                      "rows sum to 1, scaled by 1/sqrt(d_head), z = pattern @ v.",
    mistakes=(
        _ak("no causal mask", lambda q, k, v: _attn(q, k, v, mask="none"), "There is no causal "
            "mask: every position reads every other one, so the model could read the token it is "
            "asked to predict."),
        _ak("masks with 0 instead of -inf", lambda q, k, v: _attn(q, k, v, fill=0.0), "You set "
            "the masked scores to 0 instead of -inf: e^0 = 1, so future positions still get "
            "weight. Use float('-inf')."),
        _ak("masks the past", lambda q, k, v: _attn(q, k, v, mask="reversed"), "Your mask is the "
            "wrong way round: it hides the past and keeps the future. Hide s > p: `torch.ones(L, "
            "L, dtype=torch.bool).triu(1)`."),
        _ak("masks the diagonal too (triu(0))", lambda q, k, v: _attn(q, k, v, mask="strict"),
            None, cause=r"positions \[0\] is NaN.*triu\(1\)"),
        _ak("softmax over the query axis", lambda q, k, v: _attn(q, k, v, axis=-2), "Your "
            "softmax runs over the wrong axis: the *columns* of your pattern sum to 1. Entry [p, "
            "s] is query p's weight on key s, so normalise over the keys: `softmax(dim=-1)`."),
        _ak("forgets to scale by sqrt(d_head)", lambda q, k, v: _attn(q, k, v, scale="none"),
            "You forgot to divide the scores by sqrt(d_head). The dot product of two random "
            "d-vectors has variance d; dividing by sqrt(d) keeps the softmax from saturating."),
        _ak("scales by d_head", lambda q, k, v: _attn(q, k, v, scale="d"),
            "You divided the scores by d_head; divide by sqrt(d_head)."),
        _ak("masks after the softmax", lambda q, k, v: _attn(q, k, v, after=True), "The rows of "
            "your pattern do not sum to 1: you zeroed the future *after* the softmax without "
            "renormalising. Mask the scores with -inf *before* the softmax."),
        _ak("multiplies the transposed pattern with v",
            lambda q, k, v: (_attn(q, k, v)[1].transpose(-1, -2) @ v, _attn(q, k, v)[1]),
            "Your pattern is right but z is not: you multiplied the *transposed* pattern with v, "
            "so position p sums values of positions s >= p. z = pattern @ v."),
        _ak("returns (pattern, z)", lambda q, k, v: _attn(q, k, v)[::-1], None,
            cause=r"\(pattern, z\)"),
        _ak("returns only z", lambda q, k, v: _attn(q, k, v)[0], None, cause=r"\(z, pattern\)"),
    ))


# ---------------------------------------------------------------------------- 4.2 influence
def leaky_model(model, lookahead: int | None = None):
    """A copy of ``model`` whose attention may read ahead: ``lookahead=None`` removes the causal
    mask altogether, ``lookahead=k`` lets position p read positions up to p + k."""
    import torch

    leaky = copy.deepcopy(model)
    for block in leaky.blocks:
        future = block.attn.future
        if lookahead is None:
            future.fill_(False)
        else:
            future.copy_(torch.ones_like(future).triu(lookahead + 1))
    return leaky.eval()


def _influence(model, tokens, *, values="all", probs=False, reduce="max", signed=False,
               inplace=False):
    """The influence matrix (float64 tensor), and its typical mistakes (the switches)."""
    import torch

    L, V = len(tokens), model.cfg.d_vocab
    out = torch.zeros(L, L, dtype=torch.float64)
    with torch.no_grad():
        def f(x):
            logits = model(x[None])[0].double()
            return logits.softmax(-1) if probs else logits
        base = f(tokens)
        for t in range(L):
            original = int(tokens[t])
            for v in ([u for u in range(V) if u != original] if values == "all"
                      else [(original + 1) % V]):
                x = tokens if inplace else tokens.clone()
                x[t] = v
                d = f(x) - base
                d = d if signed else d.abs()
                out[t] = torch.maximum(out[t], d.amax(-1) if reduce == "max" else d.sum(-1))
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


check_influence = Exercise(
    name="influence", signature="influence(model, tokens) -> (L, L)",
    cases=_influence_cases, reference=_influence, rtol=1e-4, atol=1e-5,
    advice="influence[t, p] is the largest absolute change of position p's logits over every "
           "other value of token t.",
    summary="Correct on 4 models: zero below the diagonal for the causal ones, non-zero there "
            "for the model without a mask and the one that peeks ahead.",
    mistakes=(
        Known("transposes the matrix", lambda m, x: _influence(m, x).T,
              "Your matrix is transposed: row t is the position whose *token* you changed, "
              "column p the position whose logits you compare (influence[t, p])."),
        Known("tries only one replacement token", lambda m, x: _influence(m, x, values="one"),
              "You tried only one replacement value per position. Try every other token value "
              "and keep the largest change: a model can ignore one substitution and not another."),
        Known("compares probabilities, not logits", lambda m, x: _influence(m, x, probs=True),
              "You compared softmax probabilities; the exercise asks for the logits (the zero "
              "pattern is the same, the magnitudes are not)."),
        Known("sums the change over the vocabulary",
              lambda m, x: _influence(m, x, reduce="sum"),
              "You summed the change over the vocabulary; take the largest absolute change "
              "(`.abs().amax(-1)`)."),
        Known("keeps the sign of the change", lambda m, x: _influence(m, x, signed=True),
              "You took the largest *signed* change; a logit that goes down has changed too. Use "
              "the absolute value."),
        Known("edits `tokens` in place", lambda m, x: _influence(m, x, inplace=True),
              "You changed the `tokens` you were given, so every later substitution starts from "
              "a modified sequence. Modify a copy: `x = tokens.clone()`."),
        Known("reduces over the changed position", lambda m, x: _influence(m, x).amax(0),
              "You reduced over the changed position t. Return the whole (L, L) matrix, one row "
              "per changed position t and one column per position p that may react."),
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
              "You divided position p by h(p + 1), one position too early. Position p has read p "
              "+ 1 tokens and predicts token p + 2, so its floor is h(p + 2) = h[p + 1]: divide "
              "by h[1:], not h[:-1]."),
        Known("inverts the ratio", lambda loss, h: h[1:] / loss,
              "You divided the floor by the loss; the relative loss is loss / floor, which is >= "
              "1 (1 is optimal)."),
        Known("subtracts the floor", lambda loss, h: loss - h[1:],
              "You returned the excess loss - h(p + 2); the exercise asks for the ratio loss / "
              "h(p + 2)."),
        Known("divides by the mean floor", lambda loss, h: loss / h[1:].mean(),
              "You divided by the mean of the floors; each position has its own floor h(p + 2)."),
        Known("averages over positions", lambda loss, h: (loss / h[1:]).mean(),
              "You returned a single number: return one number per position. (The mean over "
              "positions is a model's headline relative loss; the exercise asks for all.)"),
        Known("returns n_ctx + 1 values", lambda loss, h: np.append(loss / h[1:], 1.0),
              "`h` has n_ctx + 1 entries, h(1)..h(n_ctx + 1), but there are only n_ctx "
              "positions: use the entries h(2)..h(n_ctx + 1).",
              recognise=lambda case: np.shape(case.got) == np.shape(case.args[1])),
    ))


# ---------------------------------------------------------------------------- 4.4 exact loss
def _exact_loss_cases():
    from ..data import ExactData

    rng = np.random.default_rng(7)
    out = []
    for label, N, L, X, scale, shift in [
            ("random logits", 40, 4, 3, 2.0, 0.0), ("random logits, 2 tokens", 25, 6, 2, 1.0, 0.0),
            ("a confident model (logits differ by up to 90)", 30, 3, 3, 30.0, 0.0),
            ("logits around 1000", 20, 3, 3, 1.0, 1000.0),
            ("a saturated model (logits 800 apart)", 10, 2, 3, 1.0, None)]:
        logits = rng.normal(0, scale, (N, L, X)) + (shift or 0.0)
        if shift is None:               # softmax underflows to exactly 0 for some tokens
            logits[..., 0] += 800.0
        out.append((label, logits, rng.dirichlet(np.ones(X), size=(N, L)),
                    rng.dirichlet(np.full(N, 0.5))))
    data = ExactData(processes.mess3(), 4)
    out.append(("Mess3, all 81 contexts of 4 tokens", np.log(data.next_token_probs)
                + rng.normal(0, 0.3, data.next_token_probs.shape), data.next_token_probs,
                data.probs))
    return [(f"For {label}", args) for label, *args in out]


def _finite_loss(value, what):
    arr = as_array(value, what)
    if not np.all(np.isfinite(arr)):
        raise Mistake(f"{what}: your loss contains inf or NaN ({fmt(arr)}). Exponentiating large "
                      "logits overflows and log(0) is -inf: compute log-softmax stably, z - max(z) "
                      "- log(sum(exp(z - max(z)))), or use scipy.special.log_softmax / "
                      "torch.log_softmax; np.log(softmax(z)) is -inf wherever the softmax "
                      "underflows to 0.")
    return arr


def _exact_loss(z, n, p, axis=-1):
    return p @ -(n * log_softmax(z, axis)).sum(-1)


def _quiet(f):
    """``f`` without numpy's overflow and log(0) warnings (for the wrong answers)."""
    def quiet(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return quiet


check_exact_loss = Exercise(
    name="exact_loss", signature="exact_loss(logits, next_token_probs, probs) -> (L,)",
    cases=_exact_loss_cases, reference=_exact_loss, convert=_finite_loss, rtol=1e-4, atol=1e-7,
    advice="The loss at position p is sum_n probs[n] sum_x next_token_probs[n, p, x] * "
           "(-log_softmax(logits)[n, p, x]).",
    summary=lambda n: f"Correct on {n} inputs, including logits around 1000 and logits 800 "
                      "apart (no overflow, no log(0)), and all 81 Mess3 contexts of 4 tokens.",
    mistakes=(
        Known("weights the sequences uniformly",
              lambda z, n, p: -(n * log_softmax(z, -1)).sum(-1).mean(0),
              "You averaged over sequences uniformly. Each context counts with its probability: "
              "weight the sum by `probs` (which sums to 1)."),
        Known("divides the weighted sum by N", lambda z, n, p: _exact_loss(z, n, p) / len(p),
              "You took the mean of probs * loss, which divides by N a second time; `probs` "
              "already sums to 1, so just sum."),
        Known("uses logits as log-probabilities", lambda z, n, p: p @ -(n * z).sum(-1),
              "You used the logits as log-probabilities. Logits are unnormalised: take "
              "log_softmax first (logits minus log-sum-exp)."),
        Known("uses probabilities instead of their log",
              lambda z, n, p: p @ -(n * softmax(z, -1)).sum(-1),
              "You used the softmax probabilities instead of their logarithm; the loss is -log "
              "q."),
        Known("measures in bits", lambda z, n, p: _exact_loss(z, n, p) / np.log(2),
              "Your loss is in bits (log base 2); the course uses nats (natural log)."),
        Known("forgets the minus sign", lambda z, n, p: -_exact_loss(z, n, p),
              "Your loss has the wrong sign: it is -log q, positive."),
        Known("takes log(softmax) (log of zero)",
              _quiet(lambda z, n, p: p @ -(n * np.log(softmax(z, -1))).sum(-1)), None,
              cause=r"inf or NaN.*log-softmax"),
        Known("exponentiates the logits directly (overflow)",
              _quiet(lambda z, n, p: p @ -(n * np.log(np.exp(z) / np.exp(z).sum(-1)[..., None])
                                           ).sum(-1)), None,
              cause=r"overflow"),
        Known("averages over positions", lambda z, n, p: _exact_loss(z, n, p).mean(),
              "You returned a single number: return one loss per position (did you also average "
              "over positions?)."),
        Known("returns one loss per sequence",
              lambda z, n, p: -(n * log_softmax(z, -1)).sum(-1),
              "You still have one loss per sequence: sum over sequences, weighted by `probs`."),
        Known("log-softmax over the sequence axis", lambda z, n, p: _exact_loss(z, n, p, 0),
              "You took the log-softmax over the sequence axis (axis 0): each distribution q(. | "
              "context) normalises over the vocabulary, the last axis (log_softmax(logits, "
              "axis=-1))."),
    ))


# ---------------------------------------------------------------------------- 4.5 training step
def _loss(model, x, y, reduce="mean"):
    """The batch loss (``train.batch_loss``), summed instead, or averaged over the vocabulary."""
    from ..train import batch_loss

    log_q = model(x).log_softmax(-1)
    if reduce == "tokens" and y.is_floating_point():
        return -(y * log_q).mean()
    per = (-(y * log_q).sum(-1) if y.is_floating_point()
           else -log_q.gather(-1, y[..., None])[..., 0])
    return per.sum() if reduce == "sum" else batch_loss(model(x), y)


def _step(order="zbs", reduce="mean", give=lambda loss: loss.item()):
    """A training step that calls zero_grad (z), backward (b) and step (s) in ``order``."""
    def training_step(model, optimizer, inputs, targets):
        loss = _loss(model, inputs, targets, reduce)
        for op in order:
            {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[op]()
        return give(loss)
    return training_step


def _loss_value(out, label):
    import torch

    if out is None:
        raise Mistake(f"{label}: training_step returned None; return the batch loss as a float "
                      "(`return loss.item()`).")
    if isinstance(out, torch.Tensor) and out.requires_grad:
        raise Mistake(f"{label}: you returned the loss tensor, which keeps the whole computation "
                      "graph alive (memory grows with every step). Return `loss.item()`.")
    if np.size(out) != 1:
        raise Mistake(f"{label}: return the mean loss over the batch and positions, one number; "
                      f"you returned shape {tuple(np.shape(out))}.")
    return float(out)


def _trajectory(fn):
    """Three steps with sampled targets (int64 (B, L)), three with soft ones (float (B, L, X)),
    each from a fresh model and SGD (lr 0.1): the losses returned, then the parameters."""
    import torch

    from ..model import TransformerConfig, build_model

    gen, out = torch.Generator().manual_seed(21), []
    for kind in ("sampled", "expected"):
        model = build_model(TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=4,
                                              d_mlp=32, n_ctx=6, d_vocab=3), seed=11)
        opt, losses, params = torch.optim.SGD(model.parameters(), lr=0.1), [], []
        for step in range(3):
            inputs = torch.randint(0, 3, (8, 6), generator=gen)
            u = -torch.rand(8, 6, 3, generator=gen, dtype=torch.float64).log()
            targets = (torch.randint(0, 3, (8, 6), generator=gen) if kind == "sampled"
                       else (u / u.sum(-1, keepdim=True)).float())          # Dirichlet(1, 1, 1)
            out_ = fn(model, opt, inputs.clone(), targets.clone())
            losses.append(_loss_value(out_, f"With {kind} targets, step {step + 1}"))
            params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
        out.append(np.concatenate([losses, torch.cat(params).double().numpy()]))
    return np.concatenate(out)


def _test_training_step(fn):
    got, want = _trajectory(fn), _trajectory(_step())
    if not close(got, want, rtol=1e-5, atol=1e-6):
        for known in check_training_step.mistakes:
            if known.diagnosis and close(got, _trajectory(known.wrong), rtol=1e-4, atol=1e-6):
                raise Mistake(known.diagnosis)
        n = len(got) // 2
        kind, sl = ("sampled", slice(0, 3)) if not close(got[:n], want[:n], rtol=1e-5,
                                                         atol=1e-6) else ("soft", slice(n, n + 3))
        what = ("the losses you returned" if not close(got[sl], want[sl], rtol=1e-5, atol=1e-6)
                else "the parameters after your steps")
        raise Mistake(f"With {kind} targets, {what} differ from the reference (SGD, lr 0.1). "
                      "Return the mean over batch and positions of -log q(target) (sampled) or "
                      "-sum_x target(x) log q(x) (soft), computed before the update; call "
                      "`optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()` in order.")
    return ("Correct for sampled and soft targets over three consecutive steps: the loss is the "
            "mean before the update, gradients are cleared every step, one update each.")


check_training_step = Exercise(
    name="training_step", signature="training_step(model, optimizer, inputs, targets) -> float",
    test=_test_training_step,
    mistakes=(
        Known("never zeroes the gradients", _step("bs"),
              "Your first step was right and the next are not: the gradients *accumulated*. Call "
              "`optimizer.zero_grad()` before `loss.backward()` in every step."),
        Known("sums the loss instead of averaging", _step(reduce="sum"),
              "You returned and back-propagated the *sum* over batch and positions, so your "
              "update is B * L times too large: average (`.mean()`)."),
        Known("returns the loss tensor", _step(give=lambda loss: loss), None,
              cause=r"graph.*loss\.item\(\)"),
        Known("zeroes the gradients after backward", _step("bzs"),
              "The model's parameters did not change: `optimizer.zero_grad()` between backward "
              "and step wipes the gradients. Call `optimizer.zero_grad()`, then "
              "`loss.backward()`, then `optimizer.step()`, in that order."),
        Known("forgets optimizer.step()", _step("zb"),
              "The model's parameters did not change: the gradients were computed "
              "(`loss.backward()` ran) but never applied. Call `optimizer.step()` after "
              "`loss.backward()`."),
        Known("averages over the vocabulary too", _step(reduce="tokens"),
              "With soft targets, sum over the tokens and average over batch and positions: "
              "`-(targets * log_q).sum(-1).mean()`; a plain `.mean()` over all three axes "
              "divides by the vocabulary size too."),
        Known("returns nothing", _step(give=lambda loss: None), None, cause=r"returned None"),
        Known("returns the loss in bits", _step(give=lambda loss: loss.item() / math.log(2)),
              "The loss you returned is in bits; use natural logarithms (nats)."),
    ))

EXERCISES = (check_causal_attention, check_influence, check_relative_loss, check_exact_loss,
             check_training_step)
