"""Checkers for practice notebook 04 (training a small transformer).

Same design as :mod:`beliefcourse.checks.ch01`: each checker calls the learner's function on
seeded random inputs and on the course's real data, compares with a reference written here,
and when they disagree recomputes what each *typical mistake* would give to name the one that
matches.

| checker | learner function |
|---|---|
| :func:`check_causal_attention` | ``causal_attention(q, k, v) -> (z, pattern)`` |
| :func:`check_influence` | ``influence(model, tokens) -> (L, L)`` |
| :func:`check_relative_loss` | ``relative_loss(loss, h) -> (n_ctx,)`` |
| :func:`check_exact_loss` | ``exact_loss(logits, next_token_probs, probs) -> (L,)`` |
| :func:`check_training_step` | ``training_step(model, optimizer, inputs, targets) -> float`` |

torch is imported inside the checkers (``import beliefcourse.checks`` stays light).
"""

from __future__ import annotations

import math

import numpy as np

from .. import processes
from ._core import Case, Mistake, as_array, describe_difference, fmt, judge, run

__all__ = [
    "check_causal_attention",
    "check_exact_loss",
    "check_influence",
    "check_relative_loss",
    "check_training_step",
]


def _tensor(value, what: str):
    """The learner's return value as a float64 torch tensor (numpy arrays are accepted)."""
    import torch

    if value is None:
        raise Mistake(f"{what} is None: did you forget the `return` statement?")
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64)
    return torch.as_tensor(as_array(value, what), dtype=torch.float64)


# ---------------------------------------------------------------------------- attention
def _attention_variant(q, k, v, *, scale="sqrt", mask="causal", axis=-1, after=False):
    """Reference attention and its typical mistakes.

    ``scale``: "sqrt" (right), "none", "d" (1/d_head). ``mask``: "causal" (right), "none",
    "zero" (masked scores set to 0 instead of -inf), "reversed" (hides the past),
    "strict" (hides the diagonal too). ``axis``: softmax axis. ``after``: zero the future
    *after* the softmax, without renormalising.
    """
    import torch

    L, d = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-1, -2)
    scores = scores / {"sqrt": math.sqrt(d), "none": 1.0, "d": float(d)}[scale]
    future = torch.ones(L, L, dtype=torch.bool).triu(1)
    masks = {"causal": future, "reversed": future.T,
             "strict": torch.ones(L, L, dtype=torch.bool).triu(0)}
    if after:
        pattern = scores.softmax(dim=axis).masked_fill(future, 0.0)
    elif mask == "none":
        pattern = scores.softmax(dim=axis)
    elif mask == "zero":
        pattern = scores.masked_fill(future, 0.0).softmax(dim=axis)
    else:
        pattern = scores.masked_fill(masks[mask], float("-inf")).softmax(dim=axis)
    return pattern @ v, pattern


def _call_attention(fn, q, k, v, label):
    out = fn(q.clone(), k.clone(), v.clone())
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"{label}: causal_attention should return a pair `(z, pattern)`, got "
                      f"{type(out).__name__}. End with `return pattern @ v, pattern`.")
    z, pattern = (_tensor(x, f"{label}: {name}") for x, name in zip(out, ("z", "pattern")))
    B, H, L, d = q.shape
    if tuple(pattern.shape) != (B, H, L, L):
        if tuple(pattern.shape) == (B, H, L, d) and tuple(z.shape) == (B, H, L, L):
            raise Mistake(f"{label}: you returned (pattern, z); the order is (z, pattern).")
        raise Mistake(f"{label}: pattern should have shape (B, H, L, L) = {(B, H, L, L)}, got "
                      f"{tuple(pattern.shape)}.")
    if tuple(z.shape) != (B, H, L, d):
        raise Mistake(f"{label}: z should have shape (B, H, L, d_head) = {(B, H, L, d)}, got "
                      f"{tuple(z.shape)}.")
    return z, pattern


def _test_causal_attention(fn):
    import torch

    gen = torch.Generator().manual_seed(404)
    shapes = [(2, 3, 6, 4), (1, 1, 10, 8), (3, 2, 5, 16), (1, 2, 1, 4)]
    for B, H, L, d in shapes:
        q, k, v = (torch.randn(B, H, L, d, generator=gen, dtype=torch.float64) * 1.5
                   for _ in range(3))
        label = f"For q, k, v of shape {(B, H, L, d)}"
        z, pattern = _call_attention(fn, q, k, v, label)

        # 1. NaN: position 0 with nothing to look at
        if torch.isnan(pattern).any() or torch.isnan(z).any():
            rows = sorted({int(p) for p in torch.nonzero(torch.isnan(pattern))[:, 2]})
            strict = _attention_variant(q, k, v, mask="strict")[1]
            if rows == [0] or torch.equal(torch.isnan(strict), torch.isnan(pattern)):
                raise Mistake(f"{label}: the pattern of query position 0 is NaN. Your mask "
                              "also hides the diagonal, so position 0 may read nothing and "
                              "the softmax of all -inf is NaN. A position may read itself: "
                              "mask s > p only (`triu(1)`, not `triu(0)`).")
            raise Mistake(f"{label}: your output contains NaN (pattern rows {rows}). Check "
                          "the mask (a row must keep at least one finite score) and any "
                          "division.")

        # 2. each row a distribution over keys
        rows_sum = pattern.sum(-1)
        if not torch.allclose(rows_sum, torch.ones_like(rows_sum), atol=1e-6):
            if torch.allclose(pattern, _attention_variant(q, k, v, after=True)[1], atol=1e-6):
                raise Mistake(f"{label}: the rows of your pattern do not sum to 1 (row sums "
                              f"{fmt(rows_sum[0, 0])}). You zeroed the future *after* the "
                              "softmax without renormalising. Mask the scores with -inf "
                              "*before* the softmax.")
            for mask in ("causal", "none", "zero"):
                if torch.allclose(pattern, _attention_variant(q, k, v, mask=mask, axis=-2)[1],
                                  atol=1e-6):
                    raise Mistake(f"{label}: your softmax runs over the wrong axis: the "
                                  "*columns* of your pattern sum to 1, not the rows. Entry "
                                  "[p, s] is query p's weight on key s, so normalise over the "
                                  "keys, the last axis: `softmax(dim=-1)`.")
            raise Mistake(f"{label}: each row of the pattern (one query position) should sum "
                          f"to 1; yours sum to {fmt(rows_sum[0, 0])} (first sequence and head).")

        # 3. causality: change the "tokens" at positions t.. and nothing before t may move
        if L > 1:
            t = L // 2
            q2, k2, v2 = q.clone(), k.clone(), v.clone()
            for x in (q2, k2, v2):
                x[:, :, t:] = torch.randn(x[:, :, t:].shape, generator=gen, dtype=torch.float64)
            z2, _ = _call_attention(fn, q2, k2, v2, label)
            moved = (z2[:, :, :t] - z[:, :, :t]).abs().amax(dim=(0, 1, 3))
            if (moved > 1e-9).any():
                first = int(torch.nonzero(moved > 1e-9)[0])
                ref_z, ref_p = _attention_variant(q, k, v)
                if torch.allclose(pattern, ref_p, atol=1e-6):
                    if torch.allclose(z, ref_p.transpose(-1, -2) @ v, atol=1e-6):
                        why = ("Your pattern is right, but you multiplied the *transposed* "
                               "pattern with v, so position p sums values of positions s >= p. "
                               "z = pattern @ v.")
                    else:
                        why = ("Your pattern is right, but z mixes in later positions: z[p] = "
                               "sum over s <= p of pattern[p, s] v[s], i.e. `pattern @ v`.")
                elif torch.allclose(pattern, _attention_variant(q, k, v, mask="zero")[1],
                                    atol=1e-6):
                    why = ("You set the masked scores to 0 instead of -inf: e^0 = 1, so "
                           "future positions still get weight. Use float('-inf').")
                elif torch.allclose(pattern, _attention_variant(q, k, v, mask="reversed")[1],
                                    atol=1e-6):
                    why = ("Your mask is the wrong way round: it hides the past and keeps the "
                           "future. Hide s > p: `torch.ones(L, L, dtype=torch.bool).triu(1)`.")
                elif torch.allclose(pattern, _attention_variant(q, k, v, mask="none")[1],
                                    atol=1e-6):
                    why = ("There is no causal mask: every position reads every other one, so "
                           "the model could read the token it is asked to predict.")
                else:
                    why = "Your pattern gives weight to positions s > p; mask them with -inf."
                raise Mistake(f"{label}: position {first} changed when you changed a later "
                              f"token (positions {t}..{L - 1}). Attention must be causal. {why}")
            future = torch.ones(L, L, dtype=torch.bool).triu(1)
            if (pattern[..., future].abs() > 0).any():
                raise Mistake(f"{label}: your pattern has non-zero weights above the diagonal "
                              "(key s > query p). They must be exactly 0.")

        # 4. the values
        ref_z, ref_p = _attention_variant(q, k, v)
        if torch.allclose(pattern, ref_p, atol=1e-6):
            if not torch.allclose(z, ref_z, atol=1e-6):
                if torch.allclose(z, ref_p.transpose(-1, -2) @ v, atol=1e-6):
                    raise Mistake(f"{label}: your pattern is right but z is not: you "
                                  "multiplied the *transposed* pattern with v. z = pattern @ v.")
                raise Mistake(f"{label}: your pattern is right but z is not: "
                              "z[p] = sum_s pattern[p, s] v[s], i.e. `pattern @ v`.")
            continue
        for scale, why in (("none", "You forgot to divide the scores by sqrt(d_head)."),
                           ("d", "You divided the scores by d_head; divide by sqrt(d_head).")):
            if torch.allclose(pattern, _attention_variant(q, k, v, scale=scale)[1], atol=1e-6):
                raise Mistake(f"{label} (d_head = {d}): your pattern is causal but the "
                              f"weights are off. {why} The dot product of two random d-vectors "
                              "has variance d; dividing by sqrt(d) keeps the softmax from "
                              "saturating as heads grow.")
        p0 = next(p for p in range(L) if not torch.allclose(pattern[0, 0, p], ref_p[0, 0, p],
                                                             atol=1e-6))
        raise Mistake(f"{label}: query position {p0} of the first sequence and head should "
                      f"have weights {fmt(ref_p[0, 0, p0, :p0 + 1])} on keys 0..{p0}; yours "
                      f"are {fmt(pattern[0, 0, p0, :p0 + 1])} (over the whole pattern, "
                      f"{describe_difference(pattern, ref_p)}). Scores are q_p . k_s / "
                      "sqrt(d_head).")
    return (f"Correct on {len(shapes)} batches (1 to 10 positions, d_head 4 to 16): causal, "
            "rows sum to 1, scaled by 1/sqrt(d_head), z = pattern @ v.")


def check_causal_attention(causal_attention):
    """Check ``causal_attention(q, k, v) -> (z, pattern)`` (Exercise 4.1)."""
    return run("causal_attention", _test_causal_attention, causal_attention)


# ---------------------------------------------------------------------------- influence
def leaky_model(model, lookahead: int | None = None):
    """A copy of ``model`` whose attention may read ahead: ``lookahead=None`` removes the causal
    mask altogether, ``lookahead=k`` lets position p read positions up to p + k."""
    import copy

    import torch

    leaky = copy.deepcopy(model)
    for block in leaky.blocks:
        future = block.attn.future
        if lookahead is None:
            future.fill_(False)
        else:
            future.copy_(torch.ones_like(future).triu(lookahead + 1))
    return leaky.eval()


def _influence_variant(model, tokens, *, alternatives="all", space="logits", reduce="max",
                       signed=False):
    """Reference influence matrix and its typical mistakes (float64, (L, L))."""
    import torch

    L, V = len(tokens), model.cfg.d_vocab

    def out(x):
        logits = model(x[None])[0].double()
        return logits.softmax(-1) if space == "probs" else logits

    with torch.no_grad():
        base = out(tokens)
        result = torch.zeros(L, L, dtype=torch.float64)
        for t in range(L):
            values = ([v for v in range(V) if v != int(tokens[t])] if alternatives == "all"
                      else [(int(tokens[t]) + 1) % V])
            for v in values:
                x = tokens.clone()
                x[t] = v
                diff = out(x) - base
                if not signed:
                    diff = diff.abs()
                change = diff.amax(-1) if reduce == "max" else diff.sum(-1)
                result[t] = torch.maximum(result[t], change)
    return result


def _influence_cases():
    import torch

    from ..model import TransformerConfig, build_model

    small = build_model(TransformerConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32,
                                          n_ctx=6, d_vocab=3), seed=5)
    binary = build_model(TransformerConfig(n_layers=1, d_model=16, n_heads=1, d_head=8, d_mlp=32,
                                           n_ctx=5, d_vocab=2), seed=6)
    return [
        ("a causal transformer (6 tokens)", small.eval(), torch.tensor([0, 2, 1, 1, 0, 2])),
        ("a transformer with no causal mask", leaky_model(small), torch.tensor([2, 2, 0, 1, 0, 1])),
        ("a transformer that peeks one token ahead", leaky_model(small, 1),
         torch.tensor([1, 0, 2, 2, 1, 0])),
        ("a causal transformer with 2 token values, 4 of its 5 positions", binary.eval(),
         torch.tensor([1, 0, 0, 1])),
    ]


def _test_influence(fn):
    import torch

    for label, model, tokens in _influence_cases():
        label = f"For {label}, tokens {tokens.tolist()}"
        given = tokens.clone()
        got = _tensor(fn(model, given), f"{label}: influence")
        if not torch.equal(given, tokens):
            raise Mistake(f"{label}: your function changed the `tokens` it was given (now "
                          f"{given.tolist()}). Modify a copy: `x = tokens.clone()`.")
        L = len(tokens)
        if tuple(got.shape) != (L, L):
            if got.ndim == 1 and len(got) == L:
                raise Mistake(f"{label}: return the whole (L, L) = ({L}, {L}) matrix, one row "
                              "per changed position t and one column per position p that may "
                              f"react; you returned shape ({L},).")
            raise Mistake(f"{label}: expected shape ({L}, {L}), got {tuple(got.shape)}.")
        if not torch.isfinite(got).all():
            raise Mistake(f"{label}: your matrix contains inf or NaN.")
        expected = _influence_variant(model, tokens)
        if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
            continue
        variants = [
            (expected.T, "Your matrix is transposed: row t is the position whose *token* you "
                         "changed, column p the position whose logits you compare "
                         "(influence[t, p])."),
            (_influence_variant(model, tokens, alternatives="one"),
             "You tried only one replacement value per position. Try every other token value "
             "and keep the largest change: a model can ignore one substitution and not "
             "another."),
            (_influence_variant(model, tokens, space="probs"),
             "You compared softmax probabilities; the exercise asks for the logits (the zero "
             "pattern is the same, the magnitudes are not)."),
            (_influence_variant(model, tokens, reduce="sum"),
             "You summed the change over the vocabulary; take the largest absolute change "
             "(`.abs().amax(-1)`)."),
            (_influence_variant(model, tokens, signed=True),
             "You took the largest *signed* change; a logit that goes down has changed too. "
             "Use the absolute value."),
        ]
        for value, why in variants:
            if torch.allclose(got, value, rtol=1e-4, atol=1e-5):
                raise Mistake(f"{label}: your matrix differs from the reference. {why}")
        bad = torch.nonzero(~torch.isclose(got, expected, rtol=1e-4, atol=1e-5))[0].tolist()
        t, p = bad
        raise Mistake(f"{label}: influence[{t}, {p}] should be {expected[t, p]:.4g} (the largest "
                      f"absolute change of position {p}'s logits over every other value of "
                      f"token {t}), yours is {got[t, p]:.4g} (over the whole matrix, "
                      f"{describe_difference(got, expected)}).\nExpected\n{fmt(expected)}\n"
                      f"yours\n{fmt(got)}")
    return ("Correct on 4 models: zero below the diagonal for the causal ones, non-zero there "
            "for the model without a mask and the one that peeks ahead.")


def check_influence(influence):
    """Check ``influence(model, tokens) -> (L, L)`` (Exercise 4.2)."""
    return run("influence", _test_influence, influence)


# ---------------------------------------------------------------------------- relative loss
def _mess3_myopic(n: int) -> np.ndarray:
    """h(1)..h(n) of the paper's Mess3 in nats, by exact enumeration."""
    from ..enumerate import all_sequences

    hmm = processes.mess3()
    emit = hmm.T.sum(axis=2).T
    out = [float(np.log(3.0))]
    for length in range(1, n):
        seqs = all_sequences(hmm, length)
        q = seqs.beliefs[:, -1] @ emit
        out.append(float(-(seqs.probs[:, None] * q * np.log(q)).sum()))
    return np.array(out)


def _test_relative_loss(fn):
    rng = np.random.default_rng(42)
    inputs = []
    h_mess3 = _mess3_myopic(6)
    inputs.append(("Mess3, n_ctx = 5", h_mess3, 5))
    for n_ctx in (10, 3, 1):
        h = np.sort(rng.uniform(0.3, 1.2, n_ctx + 1))[::-1].copy()   # decreasing, like h(L)
        inputs.append((f"random myopic entropies, n_ctx = {n_ctx}", h, n_ctx))
    cases = []
    for label, h, n_ctx in inputs:
        loss = h[1:n_ctx + 1] * (1 + rng.uniform(0.0005, 0.05, n_ctx))
        got = as_array(fn(loss.copy(), h.copy()), f"relative_loss for {label}")
        expected = loss / h[1:n_ctx + 1]
        if got.shape != expected.shape:
            if got.ndim == 0:
                raise Mistake(f"For {label}: return one number per position, shape "
                              f"({n_ctx},); you returned a single number. (The mean over "
                              "positions is what a model's headline relative loss reports; "
                              "the exercise asks for all of them.)")
            if got.shape == (n_ctx + 1,):
                raise Mistake(f"For {label}: expected shape ({n_ctx},), got ({n_ctx + 1},). "
                              f"`h` has n_ctx + 1 entries, h(1)..h(n_ctx + 1), but there are "
                              f"only n_ctx positions: use the entries h(2)..h(n_ctx + 1).")
            raise Mistake(f"For {label}: expected shape ({n_ctx},), got {got.shape}.")
        off_by_one = loss / h[:n_ctx]
        cases.append(Case(
            label=f"For {label}", got=got, expected=expected,
            variants=[
                ("h(p+1)", off_by_one,
                 "You divided position p by h(p + 1), one position too early. Position p "
                 "has read p + 1 tokens and predicts token p + 2, so its floor is h(p + 2) = "
                 "h[p + 1]: divide by h[1:], not h[:-1]."),
                ("inverted", h[1:n_ctx + 1] / loss,
                 "You divided the floor by the loss; the relative loss is loss / floor, which "
                 "is >= 1 (1 is optimal)."),
                ("difference", loss - h[1:n_ctx + 1],
                 "You returned the excess loss - h(p + 2); the exercise asks for the ratio "
                 "loss / h(p + 2)."),
                ("mean floor", loss / h[1:n_ctx + 1].mean(),
                 "You divided by the mean of the floors; each position has its own floor "
                 "h(p + 2)."),
            ],
            advice="The relative loss at position p is loss[p] / h(p + 2), and h(p + 2) is "
                   "h[p + 1]."))
    judge(cases)
    return (f"Correct on {len(cases)} cases: position p is divided by h(p + 2) = h[p + 1].")


def check_relative_loss(relative_loss):
    """Check ``relative_loss(loss, h) -> loss[p] / h(p + 2)`` (Exercise 4.3)."""
    return run("relative_loss", _test_relative_loss, relative_loss)


# ---------------------------------------------------------------------------- exact loss
def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def _exact_loss_inputs(seed):
    rng = np.random.default_rng(seed)
    out = []
    for label, N, L, X, scale in [("random logits", 40, 4, 3, 2.0),
                                  ("random logits, 2 tokens", 25, 6, 2, 1.0),
                                  ("a confident model (logits differ by up to 90)", 30, 3, 3,
                                   30.0)]:
        logits = rng.normal(0, scale, (N, L, X))
        nxt = rng.dirichlet(np.ones(X), size=(N, L))
        probs = rng.dirichlet(np.full(N, 0.5))
        out.append((label, logits, nxt, probs))
    # logits with a huge common offset: exp overflows unless the maximum is subtracted
    logits = rng.normal(0, 1, (20, 3, 3)) + 1000.0
    out.append(("logits around 1000", logits, rng.dirichlet(np.ones(3), size=(20, 3)),
                rng.dirichlet(np.ones(20))))
    # a saturated model: logits 800 apart, so softmax underflows to exactly 0 for some tokens
    logits = rng.normal(0, 1, (10, 2, 3))
    logits[..., 0] += 800.0
    out.append(("a saturated model (logits 800 apart)", logits,
                rng.dirichlet(np.ones(3), size=(10, 2)), rng.dirichlet(np.ones(10))))
    # the real thing: Mess3 contexts of 4 tokens, exact next-token distributions
    from ..data import ExactData

    data = ExactData(processes.mess3(), 4)
    logits = np.log(data.next_token_probs) + rng.normal(0, 0.3, data.next_token_probs.shape)
    out.append(("Mess3, all 81 contexts of 4 tokens", logits, data.next_token_probs,
                data.probs))
    return out


def _test_exact_loss(fn):
    cases = []
    for label, logits, nxt, probs in _exact_loss_inputs(7):
        N, L, X = logits.shape
        with np.errstate(all="ignore"):
            got = as_array(fn(logits.copy(), nxt.copy(), probs.copy()),
                           f"exact_loss for {label}")
        log_q = _log_softmax(logits)
        ce = -(nxt * log_q).sum(-1)                                   # (N, L)
        expected = probs @ ce
        if got.shape != (L,):
            if got.ndim == 0:
                raise Mistake(f"For {label}: return one loss per position, shape ({L},); you "
                              "returned a single number (did you also average over "
                              "positions?).")
            if got.shape == (N, L):
                raise Mistake(f"For {label}: expected shape ({L},), got ({N}, {L}): you still "
                              "have one loss per sequence. Sum over sequences, weighted by "
                              "`probs`.")
            raise Mistake(f"For {label}: expected shape ({L},), got {got.shape}.")
        if not np.all(np.isfinite(got)):
            raise Mistake(f"For {label}: your loss contains inf or NaN ({fmt(got)}). "
                          "Exponentiating large logits overflows and log(0) is -inf: compute "
                          "log-softmax stably, z - max(z) - log(sum(exp(z - max(z)))), or use "
                          "scipy.special.log_softmax / torch.log_softmax; np.log(softmax(z)) "
                          "is -inf wherever the softmax underflows to 0.")
        if np.allclose(got, expected, rtol=1e-4, atol=1e-7):
            got = expected            # float32 arithmetic is fine
        with np.errstate(all="ignore"):
            softmax = np.exp(log_q)
            variants = [
                ("wrong axis", probs @ -(nxt * (logits - np.log(np.exp(
                    logits - logits.max(0)).sum(0)) - logits.max(0))).sum(-1),
                 "You took the log-softmax over the sequence axis (axis 0): each distribution "
                 "q(. | context) normalises over the vocabulary, the last axis "
                 "(log_softmax(logits, axis=-1))."),
                ("unweighted", ce.mean(0),
                 "You averaged over sequences uniformly. Each context counts with its "
                 "probability: weight the sum by `probs` (which sums to 1)."),
                ("divided by N", (probs @ ce) / N,
                 "You took the mean of probs * loss, which divides by N a second time; "
                 "`probs` already sums to 1, so just sum."),
                ("logits as log-probs", probs @ -(nxt * logits).sum(-1),
                 "You used the logits as log-probabilities. Logits are unnormalised: take "
                 "log_softmax first (logits minus log-sum-exp)."),
                ("probabilities, no log", probs @ -(nxt * softmax).sum(-1),
                 "You used the softmax probabilities instead of their logarithm; the loss is "
                 "-log q."),
                ("bits", expected / np.log(2),
                 "Your loss is in bits (log base 2); the course uses nats (natural log)."),
                ("sign", -expected, "Your loss has the wrong sign: it is -log q, positive."),
                ("sampled argmax", probs @ -np.take_along_axis(
                    log_q, nxt.argmax(-1)[..., None], -1)[..., 0],
                 "You scored only the most likely next token; the exact loss averages "
                 "-log q(x) over all x, weighted by the next-token distribution."),
            ]
        cases.append(Case(label=f"For {label}", got=got, expected=expected, variants=variants,
                          advice="The loss at position p is sum_n probs[n] sum_x "
                                 "next_token_probs[n, p, x] * (-log_softmax(logits)[n, p, x])."))
    judge(cases)
    return (f"Correct on {len(cases)} inputs, including logits around 1000 and logits 800 "
            "apart (no overflow, no log(0)), and all 81 Mess3 contexts of 4 tokens.")


def check_exact_loss(exact_loss):
    """Check ``exact_loss(logits, next_token_probs, probs) -> (L,)`` (Exercise 4.4)."""
    return run("exact_loss", _test_exact_loss, exact_loss)


# ---------------------------------------------------------------------------- training step
def _step_model():
    from ..model import TransformerConfig, build_model

    cfg = TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=6,
                            d_vocab=3)
    return build_model(cfg, seed=11)


def _params(model):
    import torch

    return torch.cat([p.detach().flatten() for p in model.parameters()]).clone()


def _reference_run(batches, *, reduction="mean", zero_grad=True, lr=0.1):
    """Params after each step, and the returned losses, for the reference and its variants."""
    import torch

    model = _step_model()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    params, losses = [], []
    for inputs, targets in batches:
        log_q = model(inputs).log_softmax(-1)
        if targets.is_floating_point():
            per = -(targets * log_q).sum(-1)
        else:
            per = -log_q.gather(-1, targets[..., None])[..., 0]
        loss = per.mean() if reduction == "mean" else per.sum()
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(per.mean().item())
        params.append(_params(model))
    return params, losses


def _batches(kind: str, seed: int):
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(3):
        inputs = torch.randint(0, 3, (8, 6), generator=gen)
        if kind == "sampled":
            targets = torch.randint(0, 3, (8, 6), generator=gen)
        else:
            u = torch.rand(8, 6, 3, generator=gen, dtype=torch.float64)
            targets = (-u.log() / (-u.log()).sum(-1, keepdim=True)).float()   # Dirichlet(1, 1, 1)
        out.append((inputs, targets))
    return out


def _test_training_step(fn):
    import torch

    for kind in ("sampled", "expected"):
        batches = _batches(kind, 21)
        shape = "int64 (B, L)" if kind == "sampled" else "float (B, L, X)"
        label = f"With {kind} targets ({shape})"
        model = _step_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        start = _params(model)
        ref_params, ref_losses = _reference_run(batches)
        for step, (inputs, targets) in enumerate(batches):
            out = fn(model, opt, inputs.clone(), targets.clone())
            if out is None:
                raise Mistake(f"{label}: training_step returned None; return the batch loss "
                              "as a float (`return loss.item()`).")
            if isinstance(out, torch.Tensor):
                if out.numel() == 1 and out.requires_grad:
                    raise Mistake(f"{label}: you returned the loss tensor, which keeps the "
                                  "whole computation graph alive (memory grows with every "
                                  "step). Return `loss.item()`, a Python float.")
                if out.numel() != 1:
                    raise Mistake(f"{label}: return the mean loss over the batch and "
                                  f"positions, one number; you returned shape {tuple(out.shape)}.")
            try:
                value = float(out)
            except (TypeError, ValueError):
                raise Mistake(f"{label}: training_step should return a float, got "
                              f"{type(out).__name__}.") from None
            now = _params(model)
            if step == 0 and torch.equal(now, start):
                grads = [q.grad for q in model.parameters() if q.grad is not None]
                if any(bool(g.abs().sum() > 0) for g in grads):
                    why = ("The gradients are there (loss.backward() ran) but were never "
                           "applied: call `optimizer.step()` after `loss.backward()`.")
                else:
                    why = ("The gradients were gone when the optimiser stepped: "
                           "`optimizer.zero_grad()` between backward and step wipes them, "
                           "and a step before backward has none.")
                raise Mistake(f"{label}: the model's parameters did not change. {why} Call "
                              "`optimizer.zero_grad()`, then `loss.backward()`, then "
                              "`optimizer.step()`, in that order.")
            if not math.isclose(value, ref_losses[step], rel_tol=1e-5, abs_tol=1e-7):
                ref = ref_losses[step]
                n_terms = inputs.numel()
                if math.isclose(value, ref * n_terms, rel_tol=1e-5):
                    why = ("You returned the *sum* over batch and positions; average instead "
                           "(`.mean()`).")
                elif math.isclose(value, ref / math.log(2), rel_tol=1e-5):
                    why = "Your loss is in bits; use natural logarithms (nats)."
                elif kind == "expected" and math.isclose(value, ref / 3, rel_tol=1e-5):
                    why = ("With soft targets, sum over the tokens and average over batch and "
                           "positions: `-(targets * log_q).sum(-1).mean()`; a plain `.mean()` "
                           "over all three axes divides by the vocabulary size too.")
                else:
                    why = ("The loss is the mean over batch and positions of -log q(target) "
                           "(sampled) or -sum_x target(x) log q(x) (soft), with q = "
                           "softmax(logits), computed before the update.")
                raise Mistake(f"{label}, step {step + 1}: you returned loss {value:.6f}, "
                              f"expected {ref:.6f}. {why}")
            if not torch.allclose(now, ref_params[step], atol=1e-6, rtol=1e-5):
                acc, _ = _reference_run(batches, zero_grad=False)
                summed, _ = _reference_run(batches, reduction="sum")
                if step > 0 and torch.allclose(now, acc[step], atol=1e-6, rtol=1e-5):
                    why = ("Your first step was right and the second is not: the gradients "
                           "*accumulated*. Call `optimizer.zero_grad()` before "
                           "`loss.backward()` in every step.")
                elif torch.allclose(now, summed[step], atol=1e-5, rtol=1e-4):
                    why = ("Your update is N times too large: you back-propagated the *sum* "
                           "of the losses. Average over batch and positions.")
                elif step > 0 and torch.allclose(now, ref_params[step - 1], atol=1e-6):
                    why = "This step did not change the parameters; call optimizer.step()."
                else:
                    why = ("Back-propagate the same mean loss you return, then take one "
                           "optimizer step.")
                raise Mistake(f"{label}, step {step + 1}: the parameters after your step "
                              f"differ from the reference update (SGD, lr 0.1). {why}")
    return ("Correct for sampled and soft targets over three consecutive steps: the loss is "
            "the mean before the update, gradients are cleared every step, one update each.")


def check_training_step(training_step):
    """Check ``training_step(model, optimizer, inputs, targets) -> float`` (Exercise 4.5)."""
    return run("training_step", _test_training_step, training_step)
