"""Is the probed geometry used? Move an activation along the geometry and watch the prediction.

An affine probe reads a belief from an activation: ``bhat = W a + c`` (``W`` of shape
``(S, D)``). To make the probe read ``b'`` instead, the smallest move is
``delta = W^+ (b' - bhat)`` with ``W^+`` the Moore-Penrose pseudo-inverse (``W W^+`` projects
onto the directions the probe can read, and beliefs differ only in those when ``W`` has rank
``S - 1``). If the network *uses* the belief, running the rest of the model from ``a + delta``
should predict what ``b'`` predicts, ``P(x | b') = b' T^(x) 1``; if not, the prediction will
not follow. Controls: a random direction of the same norm, and the untrained network.

A probe's weights are a *filter*: least squares gives large weights to directions in which the
activations barely vary, to cancel noise, so ``W^+`` can point off the set of activations the
network produces. The *pattern* (Haufe et al. 2014) is the other way round: the affine
regression of the activations on the beliefs, ``a ~ A b + a_0`` (``A`` of shape ``(D, S)``),
whose columns are the directions in which activations actually move when the belief moves;
its move is ``delta = A (b' - b)``. Both are computed here and compared in chapter 06.

* :func:`steering_move` — the probe's move ``W^+ (b' - bhat)``;
* :func:`pattern_move` — the pattern's move ``A (b' - b)``;
* :func:`run_from_hook` — the model's logits with the activation at a hook edited (the rest
  of the model runs on the edited value; causal, so earlier positions are untouched);
* :func:`steering_experiment` — KL divergences over many pairs, with the random control;
* :func:`kl_divergence` — ``KL(p || q)`` in nats over the last axis.

Hooks that can be steered: ``blocks.{l}.hook_resid_post`` (transformer), ``gru.{l}.hook_hidden``
and ``lstm.{l}.hook_hidden`` (recurrent models).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

_STEERABLE = re.compile(r"^(blocks\.(\d+)\.hook_resid_post|(gru|lstm)\.(\d+)\.hook_hidden)$")


RTOL = 1e-8
"""Relative cut-off of :func:`probe_pinv`: singular values below ``RTOL * sigma_1`` are dropped."""


def _move_inputs(matrix, beliefs, targets, what: str, shape: str, s_axis: int):
    """Shared validation of the two moves: ``matrix`` 2-D, ``beliefs``/``targets`` ``(..., S)``.

    ``s_axis`` is the axis of ``matrix`` that has length S (0 for a probe's ``W (S, D)``, 1 for
    a pattern ``A (D, S)``). Returns the three as float64 arrays.
    """
    M = np.asarray(matrix, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"{what} must be the {shape} matrix, got shape {M.shape}")
    b, b2 = (np.asarray(a, dtype=np.float64) for a in (beliefs, targets))
    S = M.shape[s_axis]
    if b.shape != b2.shape or b.shape[-1:] != (S,):
        raise ValueError(f"beliefs and targets must both have shape (..., {S}); got "
                         f"{b.shape} and {b2.shape}")
    if not (np.isfinite(M).all() and np.isfinite(b).all() and np.isfinite(b2).all()):
        raise ValueError(f"{what}, beliefs and targets must be finite")
    return M, b, b2


def probe_pinv(coef, rtol: float = RTOL) -> np.ndarray:
    """The probe's pseudo-inverse ``W^+ (D, S)`` by truncated SVD, and nothing else.

    ``W = U diag(sigma) V^T``; singular values below ``rtol * sigma_1`` are dropped (treated as
    zero) and the rest inverted: ``W^+ = V_r diag(1 / sigma_r) U_r^T``. Why the cut-off matters:
    a probe fitted to beliefs, which sum to one, has columns that sum to zero, so for an
    ``S``-state process its rank is ``S - 1``; least squares leaves its ``S``-th singular value
    at rounding level (1e-15 of the first), not at 0, and :func:`numpy.linalg.pinv`'s default
    cut-off (1e-15) can keep it. Inverting it adds a long component that the probe cannot see
    and that changes with the CPU's kernels and thread count. With ``rtol = 1e-8`` a probe's
    genuine singular values (far above it) are kept and the rounding one is dropped: the rank
    is ``S - 1`` for a simplex-valued probe.
    """
    W = np.asarray(coef, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"coef must be the probe's (S, D) matrix, got shape {W.shape}")
    if not (isinstance(rtol, (int, float, np.floating)) and 0 < rtol < 1):
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")
    U, sigma, Vt = np.linalg.svd(W, full_matrices=False)
    if sigma.size == 0 or sigma[0] == 0:
        return np.zeros(W.shape[::-1])
    keep = sigma >= rtol * sigma[0]
    return (Vt[keep].T / sigma[keep]) @ U[:, keep].T


def steering_move(coef, readout, target, rtol: float = RTOL) -> np.ndarray:
    """The minimum-norm move ``delta = W^+ (target - readout)``, row-wise.

    ``coef``: the probe's ``W``, shape ``(S, D)`` (``AffineProbe.coef_``); ``readout`` and
    ``target``: beliefs ``(..., S)``. Returns ``(..., D)``. ``W^+`` is :func:`probe_pinv`: the
    pseudo-inverse by truncated SVD, singular values below ``rtol * sigma_1`` dropped (for a
    simplex-valued probe the rank is ``S - 1``). The move lies in ``W``'s row space, and adding
    it to an activation moves the probe's reading by exactly ``target - readout`` whenever the
    difference lies in ``W``'s column space — for a simplex-valued probe, whenever both sum to
    the same number (a probe fitted to beliefs reads vectors that sum to one).
    """
    W, b, b2 = _move_inputs(coef, readout, target, "coef", "probe's (S, D)", 0)
    return (b2 - b) @ probe_pinv(W, rtol).T


def pattern_move(pattern, beliefs, targets) -> np.ndarray:
    """The pattern's move ``delta = A (target - belief)``, row-wise.

    ``pattern``: ``A`` of shape ``(D, S)``, the coefficients of the affine regression of the
    activations on the beliefs (``AffineProbe().fit(beliefs, activations).coef_``);
    ``beliefs`` and ``targets``: ``(..., S)``. Returns ``(..., D)``.
    """
    A, b, b2 = _move_inputs(pattern, beliefs, targets, "pattern", "(D, S) regression", 1)
    return (b2 - b) @ A.T


def kl_divergence(p, q, eps: float = 1e-12) -> np.ndarray:
    """``KL(p || q) = sum_x p log(p / q)`` in nats over the last axis (0 log 0 = 0)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    terms = np.where(p > 0, p * (np.log(np.maximum(p, eps)) - np.log(np.maximum(q, eps))), 0.0)
    return terms.sum(-1)


def run_from_hook(model, tokens, hook: str, edit: Callable):
    """Logits ``(B, L, X)`` of ``model`` on ``tokens`` with ``edit`` applied at ``hook``.

    ``edit(activation) -> activation`` receives the hook's tensor ``(B, L, D)`` and returns
    its replacement; everything after the hook is computed by the model's own modules from
    the replacement. Runs under ``torch.no_grad()``. Steerable hooks: see the module docstring.
    """
    import torch

    m = _STEERABLE.match(hook) if isinstance(hook, str) else None
    if m is None or hook not in model.hook_names:
        raise ValueError(f"cannot steer at {hook!r}; steerable hooks of this model: "
                         f"{steerable_hooks(model)}")
    tok = tokens if isinstance(tokens, torch.Tensor) else torch.as_tensor(np.asarray(tokens))
    tok = tok.long().to(next(model.parameters()).device)
    model._check_tokens(tok)
    with torch.no_grad():
        if m.group(2) is not None:                              # transformer residual stream
            layer = int(m.group(2))
            resid = model.embed(tok) + model.pos_embed.weight[:tok.shape[1]]
            for l, block in enumerate(model.blocks):
                resid = block(resid, None, f"blocks.{l}")
                if l == layer:
                    resid = edit(resid)
            return model.unembed(model.ln_final(resid))
        layer = int(m.group(4))
        h = model.embed(tok)
        for l, rnn in enumerate(model.recurrent_layers):
            h, _ = rnn(h)
            if l == layer:
                h = edit(h)
        return model.unembed(model.ln_final(h))


def steerable_hooks(model) -> list[str]:
    """The hooks of ``model`` that :func:`run_from_hook` can edit, in forward order."""
    return [h for h in model.hook_names if _STEERABLE.match(h)]


@dataclass(frozen=True, eq=False)
class SteeringResult:
    """KL divergences (nats), one per ``(context, target)`` pair, all to ``P(. | b')``.

    ``steered``: the model after the probe move; ``random``: after a random move of the same
    norm (the control); ``unsteered``: the model as it is (where the move starts);
    ``model_error``: the unsteered model against its own context's belief (how well it
    predicts at all). ``move_norm``: ``||delta||``; ``activation_norm``: ``||a||`` at the
    steered position.
    """

    hook: str
    steered: np.ndarray = field(repr=False)
    random: np.ndarray = field(repr=False)
    unsteered: np.ndarray = field(repr=False)
    model_error: np.ndarray = field(repr=False)
    move_norm: np.ndarray = field(repr=False)
    activation_norm: np.ndarray = field(repr=False)

    def medians(self) -> dict:
        """Median of each KL array, plus the median move and activation norms."""
        return {k: float(np.median(getattr(self, k))) for k in
                ("steered", "random", "unsteered", "model_error", "move_norm",
                 "activation_norm")}


def steering_experiment(model, hmm, tokens, beliefs, targets, hook: str, moves,
                        position: int = -1, seed=0, batch_size: int = 512) -> SteeringResult:
    """Add ``moves`` at ``hook`` and ``position``; score the next token against ``P(. | b')``.

    Parameters
    ----------
    model : a course model (transformer, GRU or LSTM)
    hmm : the process (gives ``P(x | b') = b' T^(x) 1``)
    tokens : int array (M, L)
        The contexts, one ``(b, b')`` pair per row.
    beliefs : array (M, S)
        Each context's true belief at ``position`` (for ``model_error``).
    targets : array (M, S)
        The target beliefs ``b'``.
    hook : str
        Where to steer (see :func:`steerable_hooks`).
    moves : array (M, D)
        What to add to each activation (:func:`steering_move` or :func:`pattern_move`).
    position : int
        The steered position; the prediction read is the one made there.
    seed
        For the control's random directions (Gaussian, rescaled to each move's norm).
    """
    import torch

    tok = np.asarray(tokens)
    b, b2, delta = (np.asarray(a, dtype=np.float64) for a in (beliefs, targets, moves))
    if tok.ndim != 2 or delta.ndim != 2 or not (len(b) == len(b2) == len(delta) == len(tok)):
        raise ValueError("tokens (M, L), beliefs, targets (M, S) and moves (M, D) must have one "
                         f"row per pair; got {tok.shape}, {b.shape}, {b2.shape}, {delta.shape}")
    rng = np.random.default_rng(seed)
    rand = rng.standard_normal(delta.shape)
    rand *= (np.linalg.norm(delta, axis=1) / np.linalg.norm(rand, axis=1))[:, None]
    emit = np.asarray(hmm.T, dtype=np.float64).sum(axis=2).T     # (S, X): P(x | state)
    out = {k: [] for k in ("steered", "random", "unsteered", "act")}
    pos = position % tok.shape[1]
    for start in range(0, len(tok), batch_size):
        rows = slice(start, start + batch_size)
        batch = torch.as_tensor(tok[rows].copy()).long()
        for name, move in (("steered", delta[rows]), ("random", rand[rows]), ("unsteered", None)):
            norms = []

            def edit(a, move=move, norms=norms):
                norms.append(a[:, pos].norm(dim=-1).cpu().numpy())
                if move is None:
                    return a
                a = a.clone()
                a[:, pos] += torch.as_tensor(move, dtype=a.dtype, device=a.device)
                return a

            logits = run_from_hook(model, batch, hook, edit)[:, pos]
            out[name].append(logits.double().softmax(-1).cpu().numpy())
            if move is None:
                out["act"].append(norms[0])
    q = {k: np.concatenate(v) for k, v in out.items()}
    p_target, p_own = b2 @ emit, b @ emit
    return SteeringResult(hook=hook, steered=kl_divergence(p_target, q["steered"]),
                          random=kl_divergence(p_target, q["random"]),
                          unsteered=kl_divergence(p_target, q["unsteered"]),
                          model_error=kl_divergence(p_own, q["unsteered"]),
                          move_norm=np.linalg.norm(delta, axis=1), activation_norm=q["act"])


# ---------------------------------------------------------------------------- the future
_STATE = re.compile(r"^(blocks\.(\d+)\.hook_resid_post|(gru|lstm)\.(\d+)\.hook_(hidden|cell))$")


def _state_hooks(model, hooks) -> tuple[int, list[str], str]:
    """Validate ``hooks`` (one layer's state) -> (layer, hooks, kind)."""
    names = [hooks] if isinstance(hooks, str) else list(hooks)
    matches = [_STATE.match(h) if isinstance(h, str) else None for h in names]
    ok = bool(names) and all(m is not None and h in model.hook_names
                             for m, h in zip(matches, names))
    if ok:
        layers = {int(m.group(2) if m.group(2) is not None else m.group(4)) for m in matches}
        kinds = {"blocks" if m.group(2) is not None else m.group(3) for m in matches}
        ok = len(layers) == 1 and len(kinds) == 1 and len(set(names)) == len(names) and (
            kinds != {"blocks"} or len(names) == 1)
    if not ok:
        raise ValueError(f"cannot steer the state {hooks!r}: give one layer's state, a "
                         "transformer's 'blocks.l.hook_resid_post', a GRU's 'gru.l.hook_hidden' "
                         "or an LSTM's 'lstm.l.hook_hidden' and/or 'lstm.l.hook_cell'; this "
                         f"model has {[h for h in model.hook_names if _STATE.match(h)]}")
    return layers.pop(), names, kinds.pop()


def run_with_state_move(model, tokens, hooks, position: int, move):
    """Logits ``(B, L, X)`` with ``move`` added to one layer's state at ``position``.

    ``hooks``: one layer's state — ``blocks.l.hook_resid_post`` (transformer; later positions
    read the edited position through attention in the layers above ``l``),
    ``gru.l.hook_hidden``, or ``lstm.l.hook_hidden`` and/or ``lstm.l.hook_cell`` (recurrent
    models: the edited state is *carried*, the layer's recurrence continues from it, so every
    later position sees it). ``move``: ``(B, D)`` with ``D`` the summed width of ``hooks`` in
    the order given (as :func:`~beliefcourse.probing.collect_activations` concatenates them).
    Unlike :func:`run_from_hook`, which edits a layer's output sequence after the layer ran,
    this is the intervention to use when predictions *after* ``position`` matter.
    """
    import torch

    layer, names, kind = _state_hooks(model, hooks)
    tok = tokens if isinstance(tokens, torch.Tensor) else torch.as_tensor(np.asarray(tokens))
    tok = tok.long().to(next(model.parameters()).device)
    model._check_tokens(tok)
    B, L = tok.shape
    if not -L <= position < L:
        raise ValueError(f"position {position} is outside the {L} tokens")
    p = position % L
    width = model.cfg.d_model if kind == "blocks" else model.cfg.d_hidden
    mv = torch.as_tensor(np.asarray(move, dtype=np.float64))
    if tuple(mv.shape) != (B, width * len(names)):
        raise ValueError(f"move must have shape ({B}, {width * len(names)}) for {names}, got "
                         f"{tuple(mv.shape)}")
    param = next(model.parameters())
    mv = mv.to(dtype=param.dtype, device=param.device)
    parts = {name: mv[:, k * width:(k + 1) * width] for k, name in enumerate(names)}
    with torch.no_grad():
        if kind == "blocks":
            resid = model.embed(tok) + model.pos_embed.weight[:L]
            for l, block in enumerate(model.blocks):
                resid = block(resid, None, f"blocks.{l}")
                if l == layer:
                    resid = resid.clone()
                    resid[:, p] += parts[names[0]]
            return model.unembed(model.ln_final(resid))
        h = model.embed(tok)
        for l, rnn in enumerate(model.recurrent_layers):
            if l != layer:
                h, _ = rnn(h)
                continue
            head, state = rnn(h[:, :p + 1])
            zero = torch.zeros_like(head[:, p])
            h_p = head[:, p] + parts.get(f"{kind}.{l}.hook_hidden", zero)
            if kind == "gru":
                new_state = h_p[None].contiguous()
            else:
                c_p = state[1][0] + parts.get(f"lstm.{l}.hook_cell", zero)
                new_state = (h_p[None].contiguous(), c_p[None].contiguous())
            pieces = [head[:, :p], h_p[:, None]]
            if p + 1 < L:
                pieces.append(rnn(h[:, p + 1:], new_state)[0])
            h = torch.cat(pieces, dim=1)
        return model.unembed(model.ln_final(h))


def steered_futures(model, contexts, hooks, moves, k: int, batch_size: int = 256
                    ) -> list[np.ndarray]:
    """The model's distribution of the next 1..k tokens after a move at the context's end.

    ``contexts (M, P)``: token prefixes; the move is added to the state at ``hooks`` at the
    last position ``P - 1`` (:func:`run_with_state_move`), and every word of ``k - 1`` tokens
    is appended (so ``P + k - 1`` must not exceed the model's context). The model's
    probability of a word ``x_1..x_j`` is the product of its next-token predictions along it,
    ``P(x_1 | ctx) P(x_2 | ctx x_1) ...``. Returns ``[q_1, ..., q_k]``, ``q_j`` of shape
    ``(M, X**j)`` with words numbered first token most significant, as
    :func:`beliefcourse.probing.futures.future_distributions` numbers them.
    ``moves (M, D)``: zeros give the unsteered model.
    """
    import itertools

    import torch

    ctx = np.asarray(contexts)
    k = int(k)
    if ctx.ndim != 2 or k < 1:
        raise ValueError(f"contexts must be (M, P) tokens and k >= 1; got {ctx.shape}, k={k}")
    mv = np.asarray(moves, dtype=np.float64)
    if mv.ndim != 2 or len(mv) != len(ctx):
        raise ValueError(f"moves must be (M, D) with one row per context; got {mv.shape} for "
                         f"{len(ctx)} contexts")
    M, P = ctx.shape
    X = model.cfg.d_vocab
    words = np.array(list(itertools.product(range(X), repeat=k - 1)), dtype=ctx.dtype
                     ).reshape(X ** (k - 1), k - 1)
    n_w = len(words)
    seqs = np.concatenate([np.repeat(ctx, n_w, axis=0), np.tile(words, (M, 1))], axis=1)
    rep = np.repeat(mv, n_w, axis=0)
    probs = []
    for start in range(0, len(seqs), batch_size):
        rows = slice(start, start + batch_size)
        logits = run_with_state_move(model, torch.as_tensor(seqs[rows]), hooks, P - 1, rep[rows])
        probs.append(logits[:, P - 1:].double().softmax(-1).cpu().numpy())
    cond = np.concatenate(probs).reshape(M, n_w, k, X)       # P(x_{j+1} | ctx, word[:j])
    out = []
    for j in range(1, k + 1):
        # words of length j: the first j - 1 appended tokens fix the row; X**(k-j) rows share it
        q = np.ones((M, X ** j))
        for w in range(X ** j):
            digits = [(w // X ** (j - 1 - i)) % X for i in range(j)]
            row = sum(d * X ** (k - 2 - i) for i, d in enumerate(digits[:-1]))
            for i, d in enumerate(digits):
                q[:, w] *= cond[:, row, i, d]
        out.append(q)
    return out


def within_class_pairs(beliefs, classes, n_pairs: int, seed=0, decimals: int = 6
                       ) -> np.ndarray:
    """``n_pairs`` random ordered pairs ``(i, j)`` that share a class but differ in belief.

    ``beliefs (M, S)`` and ``classes (M,)`` (e.g. next-token classes from
    :func:`beliefcourse.probing.futures.next_token_classes`). Pairs are drawn uniformly, with
    replacement, from all ordered pairs ``i != j`` with ``classes[i] == classes[j]`` and beliefs
    that differ after rounding to ``decimals``. Returns ``(n_pairs, 2)`` indices.
    """
    b = np.asarray(beliefs, dtype=np.float64)
    c = np.asarray(classes)
    if b.ndim != 2 or c.shape != (len(b),):
        raise ValueError(f"beliefs must be (M, S) and classes (M,); got {b.shape}, {c.shape}")
    _, bel_id = np.unique(b.round(decimals), axis=0, return_inverse=True)
    bel_id = bel_id.reshape(-1)
    i, j = np.nonzero((c[:, None] == c[None, :]) & (bel_id[:, None] != bel_id[None, :]))
    if len(i) == 0:
        raise ValueError("no pair of points shares a class with a different belief")
    pick = np.random.default_rng(seed).integers(0, len(i), int(n_pairs))
    return np.stack([i[pick], j[pick]], axis=1)
