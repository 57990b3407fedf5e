"""Probe several representations with their controls; tables and checkpoint records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import _collect, _hook_list, _select, default_hook_sets
from .evaluation import ProbeResult, evaluate, shuffle_control
from .features import input_only_features
from .metrics import Scores


@dataclass(frozen=True, eq=False)
class ProbeRow:
    """One line of a :class:`ProbeReport`: a representation under one treatment.

    ``kind`` is ``"trained"``, ``"untrained"`` (fresh initialisation, same hooks),
    ``"shuffled"`` (permuted targets, same features) or ``"input only"`` (token-history
    baseline, ``hooks == ()``).
    """

    label: str
    kind: str
    hooks: tuple[str, ...]
    result: ProbeResult

    def to_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, "hooks": list(self.hooks),
                **self.result.to_dict()}


@dataclass(frozen=True, eq=False)
class ProbeReport:
    """Probe results for several representations and their controls.

    ``rows`` are :class:`ProbeRow` objects; ``meta`` says what was probed and how (process,
    sizes, split, seeds, fit weighting). :meth:`table` renders a fixed-width text table,
    :meth:`to_dict` a JSON-able dict (numbers rounded to 6 significant digits), and
    :meth:`get` looks a row's :class:`ProbeResult` up by label and kind.
    """

    rows: list[ProbeRow]
    meta: dict

    def get(self, label: str, kind: str = "trained") -> ProbeResult:
        for row in self.rows:
            if row.label == label and row.kind == kind:
                return row.result
        have = ", ".join(f"({r.label!r}, {r.kind!r})" for r in self.rows)
        raise KeyError(f"no row ({label!r}, {kind!r}); rows: {have}")

    def to_dict(self) -> dict:
        return {"meta": _jsonable(self.meta), "rows": [row.to_dict() for row in self.rows]}

    def table(self) -> str:
        """Fixed-width text table: one row per representation, held-out then in-sample."""
        m = self.meta
        frac = m["train_fraction"]
        fit = "probability-weighted" if m["weighted_fit"] else "unweighted"
        title = "; ".join(f"{k} {m[k]}" for k in ("checkpoint", "process") if m.get(k))
        label_w = max([len("representation")] + [len(r.label) for r in self.rows])
        metrics = f"{'MSE':>9} {'R2':>7} {'MSE(p)':>9} {'R2(p)':>7}"
        width = len(metrics)
        head1 = (" " * (label_w + 19) + f"{f'held-out ({1 - frac:.0%})':^{width}}   "
                 + f"{f'in-sample (fit set, {frac:.0%})':^{width}}")
        head2 = f"{'representation':<{label_w}}  {'kind':<10}  {'dim':>4}  {metrics}   {metrics}"
        lines = [f"Affine probe -> beliefs{': ' + title if title else ''}",
                 f"{m['n_sequences']:,} sequences x {m['n_positions']} positions; {fit} fit "
                 f"on {frac:.0%} of the sequences (split seed {m['seed']}), scored on both sides",
                 "", head1, head2, "-" * len(head2)]
        for row in self.rows:
            res = row.result
            lines.append(f"{row.label:<{label_w}}  {row.kind:<10}  {res.n_features:>4}  "
                         f"{_fmt_scores(res.held_out, width)}   "
                         f"{_fmt_scores(res.in_sample, width)}")
        kinds = {row.kind for row in self.rows}
        legend = {"untrained": f"untrained: same architecture freshly initialised (seed "
                               f"{m['init_seed']}), same hooks and dimension.",
                  "shuffled": "shuffled: targets permuted across points, fit, then scored "
                              "against the true beliefs.",
                  "input only": "input only: one-hot token history (all lags) + one-hot "
                                "position, no network."}
        lines += ["",
                  "MSE: mean over points and belief coordinates. R2: 1 - total squared error / "
                  "total variance of the beliefs,",
                  "pooled over coordinates. Plain columns weight every (sequence, position) "
                  "point equally (as the authors' code);",
                  "(p) columns weight point (n, p) by P(sequence n), i.e. by its prefix "
                  "probability."]
        lines += [text for kind, text in legend.items() if kind in kinds]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _fmt_scores(s: Scores | None, width: int) -> str:
    if s is None:
        return f"{'(none)':^{width}}"
    return f"{s.mse:9.3e} {s.r2:7.4f} {s.mse_weighted:9.3e} {s.r2_weighted:7.4f}"


def compare_layers(model, data, hook_sets: dict[str, list[str]], controls: bool = True, *,
                   init_seed: int = 0, train_fraction: float = 0.2, seed=0,
                   weighted_fit: bool = False, alpha: float = 0.0, batch_size: int = 1024,
                   device=None) -> ProbeReport:
    """Probe several representations of one model, each with controls at its own dimension.

    Parameters
    ----------
    model : course model
        Must have a ``cfg`` attribute (its config) when ``controls`` is true.
    data : ExactData (or anything with ``inputs (N, L)``, ``beliefs (N, L, S)``, ``probs``)
    hook_sets : dict label -> list of hook names
        Each entry is one representation: its hooks concatenated in the given order, e.g.
        ``{"final": ["blocks.3.hook_resid_post"], "all": layer_hooks(model)}`` (the RRXOR
        comparison of Fig. 7C).
    controls : bool
        Add, for every representation, an ``"untrained"`` row (``build_model(model.cfg,
        init_seed)``, same hooks and dimension) and a ``"shuffled"`` row (same features,
        permuted targets).
    init_seed, train_fraction, seed, weighted_fit, alpha, batch_size, device
        As in :func:`untrained_control` / :func:`evaluate`; every row uses the same split.

    Returns
    -------
    ProbeReport
        Rows grouped by representation: trained, then its controls.
    """
    if not isinstance(hook_sets, dict) or not hook_sets:
        raise TypeError("hook_sets must be a non-empty dict {label: [hook, ...]}")
    sets = {label: _hook_list(model, hooks) for label, hooks in hook_sets.items()}
    if controls and not hasattr(model, "cfg"):
        raise TypeError(f"{type(model).__name__} has no cfg; the untrained control needs the "
                        "model's config (or pass controls=False)")
    beliefs, probs = np.asarray(data.beliefs), np.asarray(data.probs)
    split = {"train_fraction": train_fraction, "seed": seed, "weighted_fit": weighted_fit,
             "alpha": alpha}
    union = list(dict.fromkeys(h for hooks in sets.values() for h in hooks))
    # one forward pass per model over the union of the hooks; each set is a column selection
    feats, spans = _collect(model, data.inputs, union, batch_size, device)
    rows = {}
    for label, hooks in sets.items():
        x = _select(feats, spans, hooks)
        rows[label, "trained"] = evaluate(x, beliefs, probs, **split)
        if controls:
            rows[label, "shuffled"] = shuffle_control(x, beliefs, probs, **split)
    if controls:
        from ..model import build_model

        del feats, x
        feats, spans = _collect(build_model(model.cfg, seed=init_seed), data.inputs, union,
                                batch_size, device)
        for label, hooks in sets.items():
            rows[label, "untrained"] = evaluate(_select(feats, spans, hooks), beliefs, probs,
                                                **split)
    kinds = ("trained", "shuffled", "untrained") if controls else ("trained",)
    ordered = [ProbeRow(label, kind, tuple(hooks), rows[label, kind])
               for label, hooks in sets.items() for kind in kinds]
    meta = {"n_sequences": len(probs), "n_positions": beliefs.shape[1],
            "n_belief_states": beliefs.shape[2], "hook_sets": sets,
            "init_seed": init_seed if controls else None, **split}
    return ProbeReport(rows=ordered, meta=meta)


def layer_sweep(model, data, hooks=None, controls: bool = False, **kwargs) -> ProbeReport:
    """One probe per hook, e.g. for the per-layer panel of Fig. 7E.

    ``hooks`` defaults to every hook of ``model.hook_names`` whose activation has shape
    ``(B, L, D)`` (attention patterns are skipped). A thin wrapper around
    :func:`compare_layers` with ``{hook: [hook]}``; keyword arguments (split, seeds,
    weighting) are passed on, and ``controls=True`` adds untrained and shuffled rows.
    """
    if hooks is None:
        import torch

        first = torch.tensor(np.array(data.inputs[:1]), dtype=torch.long)
        with torch.no_grad():
            _, cache = model.run_with_cache(first)
        hooks = [h for h in model.hook_names if cache[h].ndim == 3]
    else:
        hooks = _hook_list(model, hooks)
    return compare_layers(model, data, {h: [h] for h in hooks}, controls, **kwargs)


# ---------------------------------------------------------------------------- checkpoints
def probe_checkpoint(name_or_path, hook=None, controls: bool = True,
                     train_fraction: float = 0.2, seed=0, write: bool = False, *,
                     tokens: int | None = None, init_seed: int = 0) -> ProbeReport:
    """Probe a checkpoint with the paper's representations and the controls.

    Parameters
    ----------
    name_or_path : str or path
        A shipped checkpoint set (``beliefcourse.checkpoints.available()``), a directory of
        checkpoints, or a ``.pt``/``.json`` file (see ``checkpoints.resolve``).
    hook : str or list of str, optional
        Probe this one representation (hooks concatenated) instead of the defaults of
        :func:`default_hook_sets`: Mess3 and others, the final layer before and after
        ``ln_final``; RRXOR, the final layer alone and all residual hooks concatenated.
    controls : bool
        Give every representation untrained and shuffled rows (:func:`compare_layers`) and
        add an input-only row (full token history + position, :func:`input_only_features`).
    train_fraction, seed
        The sequence split (the authors' Mess3 cross-validation: fit on 20 %); every row
        uses the same split.
    write : bool
        Store ``report.to_dict()`` under ``"probe"`` in the checkpoint's JSON record.
    tokens : int, optional
        For a name or directory, the checkpoint at this many training tokens (default: last).
    init_seed : int
        Initialisation seed of the untrained control.

    The process is rebuilt from the record (``processes.get(record["process"],
    **record["process_params"])``) and every input sequence of length ``n_ctx`` is
    enumerated exactly (:class:`~beliefcourse.data.ExactData`). The result is deterministic
    given ``seed`` and ``init_seed``; the record keeps 6 significant digits.
    """
    from .. import checkpoints, processes
    from ..data import ExactData

    path = checkpoints.resolve(name_or_path, tokens)
    model, record = checkpoints.load_file(path)
    hmm = processes.get(record["process"], **record.get("process_params", {}))
    data = ExactData(hmm, int(record["model_config"]["n_ctx"]))
    if hook is None:
        hook_sets = default_hook_sets(model, record["process"])
    else:
        names = _hook_list(model, hook)
        hook_sets = {" + ".join(names): names}
    report = compare_layers(model, data, hook_sets, controls, init_seed=init_seed,
                            train_fraction=train_fraction, seed=seed)
    rows = list(report.rows)
    if controls:
        feats = input_only_features(data.inputs, hmm.n_tokens)
        rows.append(ProbeRow("token history + position", "input only", (),
                             evaluate(feats, data.beliefs, data.probs, train_fraction, seed)))
    params = ", ".join(f"{k}={v}" for k, v in record.get("process_params", {}).items())
    meta = {"checkpoint": f"{record.get('name', path.stem)} @ {record['tokens_seen']:,} tokens",
            "process": f"{record['process']}({params})", **report.meta}
    report = ProbeReport(rows=rows, meta=meta)
    if write:
        checkpoints.update_record(path, {"probe": report.to_dict()})
    return report


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, (str, int, float, bool, type(None))):
        return obj
    return repr(obj)              # e.g. a numpy Generator passed as a seed
