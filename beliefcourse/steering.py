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


def steering_move(coef, readout, target) -> np.ndarray:
    """The minimum-norm move ``delta = W^+ (target - readout)``, row-wise.

    ``coef``: the probe's ``W``, shape ``(S, D)`` (``AffineProbe.coef_``); ``readout`` and
    ``target``: beliefs ``(..., S)``. Returns ``(..., D)``: adding it to an activation moves
    the probe's reading by ``W W^+ (target - readout)``, which is ``target - readout`` when the
    difference lies in the span of ``W``'s columns (for simplex-valued probes: always, if
    ``W`` has rank ``S - 1``).
    """
    W = np.asarray(coef, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"coef must be the probe's (S, D) matrix, got shape {W.shape}")
    b, b2 = (np.asarray(a, dtype=np.float64) for a in (readout, target))
    if b.shape != b2.shape or b.shape[-1:] != (W.shape[0],):
        raise ValueError(f"readout and target must both have shape (..., {W.shape[0]}); got "
                         f"{b.shape} and {b2.shape}")
    return (b2 - b) @ np.linalg.pinv(W).T


def pattern_move(pattern, beliefs, targets) -> np.ndarray:
    """The pattern's move ``delta = A (target - belief)``, row-wise.

    ``pattern``: ``A`` of shape ``(D, S)``, the coefficients of the affine regression of the
    activations on the beliefs (``AffineProbe().fit(beliefs, activations).coef_``);
    ``beliefs`` and ``targets``: ``(..., S)``. Returns ``(..., D)``.
    """
    A = np.asarray(pattern, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"pattern must be the (D, S) regression matrix, got shape {A.shape}")
    b, b2 = (np.asarray(a, dtype=np.float64) for a in (beliefs, targets))
    if b.shape != b2.shape or b.shape[-1:] != (A.shape[1],):
        raise ValueError(f"beliefs and targets must both have shape (..., {A.shape[1]}); got "
                         f"{b.shape} and {b2.shape}")
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
        for l, rnn in enumerate(model.grus if m.group(3) == "gru" else model.lstms):
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
