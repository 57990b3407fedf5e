"""Collect a course model's activations at named hooks, and the hook sets the paper probes.

Shapes: ``N`` sequences, ``L`` positions (``n_ctx``), ``D`` features. A course model has
``hook_names`` and ``run_with_cache(tokens, names=...)`` returning ``(logits, {name: Tensor
(B, L, D)})`` (:mod:`beliefcourse.model`).
"""

from __future__ import annotations

import re

import numpy as np

from ._validate import positive_int

_RESID_HOOK = re.compile(r"^blocks\.(\d+)\.hook_resid_(pre|mid|post)$")
_RESID_ORDER = {"pre": 0, "mid": 1, "post": 2}
_RNN_HOOK = re.compile(r"^(?:gru|lstm)\.(\d+)\.hook_hidden$")


def collect_activations(model, tokens, hooks, batch_size: int = 1024, device=None
                        ) -> np.ndarray:
    """Run ``model`` over ``tokens`` and return the activations at ``hooks``.

    Parameters
    ----------
    model : torch.nn.Module
        Any course model: it has ``hook_names`` and ``run_with_cache(tokens, names=...)``
        returning ``(logits, {name: Tensor (B, L, D)})``.
    tokens : int array or LongTensor, shape (N, L)
    hooks : str or sequence of str
        Hook name(s) from ``model.hook_names``. Several hooks are concatenated along the
        feature axis in the order given.
    batch_size : int
        Sequences per forward pass. About 1024 is fastest on a CPU for the paper's models
        (the MLP's hidden activations then stay in cache); larger on a GPU.
    device : torch.device or str, optional
        Where to run; default the device of the model's parameters.

    Returns
    -------
    float32 array, shape (N, L, D_total)
        ``D_total`` is the sum of the hooks' widths. The model runs in eval mode under
        ``torch.no_grad()``; its previous train/eval mode is restored afterwards.
    """
    return _collect(model, tokens, _hook_list(model, hooks), batch_size, device)[0]


def _collect(model, tokens, names: list[str], batch_size: int, device
             ) -> tuple[np.ndarray, dict[str, slice]]:
    """:func:`collect_activations` for validated ``names``; also each hook's column span."""
    import torch

    batch_size = positive_int(batch_size, "batch_size")
    tok = tokens if isinstance(tokens, torch.Tensor) else torch.from_numpy(np.array(tokens))
    if tok.ndim != 2 or tok.shape[0] == 0 or tok.shape[1] == 0:
        raise ValueError("tokens must have shape (n_sequences, length) with both >= 1; "
                         f"got shape {tuple(tok.shape)}")
    if tok.dtype.is_floating_point or tok.dtype.is_complex or tok.dtype == torch.bool:
        raise TypeError(f"tokens must be integers, got dtype {tok.dtype}")
    tok = tok.long()
    if device is None:
        device = next(model.parameters()).device
    n, length = tok.shape
    out, spans = None, {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                batch = tok[start:start + batch_size].to(device)
                _, cache = model.run_with_cache(batch, names=names)
                for name in names:
                    act = cache[name]
                    if act.ndim != 3 or tuple(act.shape[:2]) != tuple(batch.shape):
                        raise ValueError(f"hook {name!r} returned shape {tuple(act.shape)}; "
                                         f"expected (batch, length, d) = "
                                         f"({batch.shape[0]}, {length}, d)")
                if out is None:
                    widths = np.cumsum([0] + [cache[name].shape[-1] for name in names])
                    spans = {name: slice(a, b) for name, a, b in
                             zip(names, widths[:-1], widths[1:])}
                    out = np.empty((n, length, widths[-1]), dtype=np.float32)
                rows = slice(start, start + len(batch))
                for name in names:
                    out[rows, :, spans[name]] = cache[name].float().cpu().numpy()
    finally:
        model.train(was_training)
    return out, spans


def _select(feats: np.ndarray, spans: dict[str, slice], hooks: list[str]) -> np.ndarray:
    """Columns of ``hooks`` (in that order) from collected features; a view when contiguous."""
    cols = [spans[h] for h in hooks]
    if all(a.stop == b.start for a, b in zip(cols, cols[1:])):
        return feats[..., cols[0].start:cols[-1].stop]
    return np.concatenate([feats[..., c] for c in cols], axis=-1)


def _hook_list(model, hooks) -> list[str]:
    """Validate ``hooks`` (a name or a sequence of names) against ``model.hook_names``."""
    available = _hook_names(model)
    names = [hooks] if isinstance(hooks, str) else list(hooks)
    if not names or not all(isinstance(h, str) for h in names):
        raise TypeError("hooks must be a hook name or a non-empty sequence of hook names")
    unknown = [h for h in names if h not in available]
    if unknown:
        raise ValueError(f"unknown hook(s) {unknown}; this model has: {', '.join(available)}")
    repeated = sorted({h for h in names if names.count(h) > 1})
    if repeated:
        raise ValueError(f"hook(s) {repeated} listed more than once")
    return names


def _hook_names(model) -> list[str]:
    names = getattr(model, "hook_names", None)
    if names is None:
        raise TypeError(f"{type(model).__name__} has no hook_names; probing needs a course "
                        "model (beliefcourse.model) or one with the same hook interface")
    return list(names)


def layer_hooks(model) -> list[str]:
    """The model's residual-stream hooks in forward order.

    Transformer: ``blocks.{l}.hook_resid_{pre,mid,post}`` for every block (12 hooks for the
    paper's 4-layer models; their concatenation is what Fig. 7C probes for RRXOR).
    GRU / LSTM: ``gru.{l}.hook_hidden`` / ``lstm.{l}.hook_hidden`` for every layer (an LSTM's
    cell states ``lstm.{l}.hook_cell`` are not in the residual-stream sense and are left out).
    """
    found = []
    for h in _hook_names(model):
        if m := _RESID_HOOK.match(h):
            found.append((int(m.group(1)), _RESID_ORDER[m.group(2)], h))
        elif m := _RNN_HOOK.match(h):
            found.append((int(m.group(1)), 0, h))
    if not found:
        raise ValueError(f"{type(model).__name__} has no blocks.<l>.hook_resid_* or "
                         "gru.<l>.hook_hidden / lstm.<l>.hook_hidden hooks")
    return [h for *_, h in sorted(found)]


def default_hook_sets(model, process_name: str) -> dict[str, list[str]]:
    """The representations the paper probes, as ``{label: [hook, ...]}``.

    * RRXOR (Fig. 7): the final layer alone (``blocks.{last}.hook_resid_post``) vs. all
      residual hooks concatenated (:func:`layer_hooks`; 12 hooks, 1536 dims for the paper's
      model).
    * Every other process (Mess3, Figs. 6 and S1): the final layer before the final LayerNorm
      (``blocks.{last}.hook_resid_post``) and after it (``ln_final.hook_normalized``).

    For a GRU (LSTM) the final layer is ``gru.{last}.hook_hidden`` (``lstm.{last}.hook_hidden``).
    """
    layers = layer_hooks(model)
    final = {"final layer (pre-LN)": [layers[-1]]}
    if str(process_name).lower() == "rrxor":
        return {**final, f"all {len(layers)} residual hooks": layers}
    return {**final, "ln_final (post-LN)": ["ln_final.hook_normalized"]}
