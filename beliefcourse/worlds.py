"""Chapter 08's measurements of networks trained on a mixture: does the residual stream hold
the joint belief over (world, state), the meta-belief ``P(world | context)`` and each world's
own belief, and from which position on does the network "know" its world?

::

    python -m beliefcourse.worlds mix2 mix2-gru mess3-alpha mess3-alpha-gru --write

Everything is measured on the run's held-out evaluation sequences
(:class:`beliefcourse.data.MixtureData`, the same 4,096 sequences for every run), split by
sequence (:func:`beliefcourse.probing.split_sequences`, fit on 20 %, score on 80 %). Each
target is probed from the final layer (``blocks.{last}.hook_resid_post`` or
``gru.{last}.hook_hidden``) and, at the same dimension or below, from three controls:

* **shuffle**: the same features fitted to targets permuted over all points;
* **untrained**: the same architecture freshly initialised (seed 0);
* **input only**: one-hot tokens of the last ``n_lags`` positions plus a one-hot position,
  ``n_lags`` the largest that keeps the dimension at most the network's width.

The ceiling of every belief probe is R² = 1 (the targets are exact functions of the
context). For a finite mixture the component is told apart from the context only as fast as
the Bayes filter can; ``knows`` compares, per position, how often the argmax of the probed
meta-belief names the true world against how often the exact meta-belief does.
The numbers are stored in the final checkpoint's record under ``"worlds"``.
"""

from __future__ import annotations

import numpy as np

KNOW_THRESHOLD = 0.75
"""``knows`` reports the first position at which the right world is named this often."""


def final_hook(model) -> str:
    """The network's last residual-stream (or hidden-state) hook."""
    from .probing import layer_hooks

    return layer_hooks(model)[-1]


def collect(model, tokens) -> np.ndarray:
    """The final layer's activations ``(N, L, width)`` (float32) on ``tokens (N, L)``."""
    from .probing import collect_activations

    return collect_activations(model, tokens, [final_hook(model)])


def fit_probe(features, targets):
    """An :class:`~beliefcourse.probing.AffineProbe` fitted on ``features (n, L, D)`` and
    ``targets (n, L, S)`` (every position pooled)."""
    from .probing import AffineProbe

    return AffineProbe().fit(features, targets)


def _targets(data, values=None) -> dict:
    """``{label: (N, L, dims)}`` for a MixtureData's held-out sequences."""
    K = data.mixture.n_components
    out = {"joint belief": data.beliefs, "meta-belief": data.meta}
    if values is None:
        sizes = np.diff(data.mixture.offsets)
        out["within-component beliefs"] = np.concatenate(
            [data.within[..., k, :s] for k, s in enumerate(sizes)], axis=-1)
    else:
        out["posterior mean of the parameter"] = (data.meta @ np.asarray(values))[..., None]
        out["state belief (averaged over worlds)"] = np.einsum(
            "nlk,nlks->nls", data.meta, data.within)
    assert all(v.shape[:2] == data.meta.shape[:2] for v in out.values()), K
    return out


def _round(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}f}")


def measure(name_or_path, train_fraction: float = 0.2, seed: int = 0) -> dict:
    """Probe a mixture checkpoint (shipped name, directory or ``.pt``; default the final one).

    Returns a JSON-ready dict: ``hook``, ``width``, ``n_lags``, ``split``, and per target
    ``{label: {"model", "shuffle", "untrained", "input only"}}`` held-out R² (the course's
    pooled R², :func:`beliefcourse.probing.r2`), ``per_position`` held-out R² of the
    meta-belief (and, for a family, of the posterior mean), and ``knows``: per-position share
    of held-out sequences whose true world is the argmax of the probed / the exact
    meta-belief, with the first position each reaches :data:`KNOW_THRESHOLD`.
    """
    from . import checkpoints
    from .data import MixtureData
    from .model import build_model
    from .probing import collect_activations, evaluate, input_only_features, r2, shuffle_control
    from .train import TrainConfig

    path = checkpoints.resolve(name_or_path)
    model, rec = checkpoints.load_file(path)
    cfg = TrainConfig.from_dict(rec["train_config"])
    mix = cfg.mixture()
    if mix is None:
        raise ValueError(f"{path} was not trained on a mixture (process {cfg.process!r})")
    ev = rec["evaluation"]
    data = MixtureData(mix, cfg.model.n_ctx, n_eval=ev["n_sequences"], eval_seed=ev["seed"])
    values = None
    if cfg.process == "mixture-grid":
        p = cfg.process_params
        values = p["low"] + (np.arange(p["n_grid"]) + 0.5) * (p["high"] - p["low"]) / p["n_grid"]
    hook = final_hook(model)
    feats = collect_activations(model, data.inputs, [hook])
    width = feats.shape[-1]
    L = cfg.model.n_ctx
    n_lags = max(1, (width - L) // mix.n_tokens)
    inputs_only = input_only_features(data.inputs, mix.n_tokens, n_lags)
    probs = np.full(data.n_eval, 1.0 / data.n_eval)
    untrained_feats = collect_activations(build_model(cfg.model, seed=0), data.inputs, [hook])
    out = {"hook": hook, "width": int(width), "n_lags": int(n_lags),
           "input_only_width": int(inputs_only.shape[-1]),
           "split": f"{train_fraction:.0%} of {data.n_eval} held-out evaluation sequences fit, "
                    "the rest scored", "r2": {}, "per_position": {}}
    results = {}
    for label, target in _targets(data, values).items():
        res = evaluate(feats, target, probs, train_fraction, seed)
        results[label] = res
        out["r2"][label] = {
            "model": _round(res.held_out.r2),
            "shuffle": _round(shuffle_control(feats, target, probs, seed,
                                              train_fraction).held_out.r2),
            "untrained": _round(evaluate(untrained_feats, target, probs, train_fraction,
                                         seed).held_out.r2),
            "input only": _round(evaluate(inputs_only, target, probs, train_fraction,
                                          seed).held_out.r2),
            "dims": int(target.shape[-1])}
    test = results["meta-belief"].test_idx
    per_pos = {}
    for label in ("meta-belief", "posterior mean of the parameter"):
        if label not in results:
            continue
        pred = results[label].predictions[test]
        true = _targets(data, values)[label][test]
        per_pos[label] = [
            _round(r2(true[:, p], pred[:, p])) if np.var(true[:, p]) > 1e-12 else None
            for p in range(L)]
    out["per_position"] = per_pos
    meta_pred = results["meta-belief"].predictions[test]
    comps = data.components[test]
    probe_right = (meta_pred.argmax(-1) == comps[:, None]).mean(0)
    bayes_right = (data.meta[test].argmax(-1) == comps[:, None]).mean(0)

    def first(share):
        hit = np.flatnonzero(share >= KNOW_THRESHOLD)
        return int(hit[0]) + 1 if len(hit) else None          # tokens read

    out["knows"] = {"threshold": KNOW_THRESHOLD,
                    "probe": [_round(v, 3) for v in probe_right],
                    "bayes": [_round(v, 3) for v in bayes_right],
                    "probe_tokens": first(probe_right), "bayes_tokens": first(bayes_right),
                    "chance": _round(float(np.bincount(comps).max() / len(comps)), 3)}
    return out


def write(name: str) -> dict:
    """Measure the final checkpoint of ``name`` and store the result in its record."""
    from . import checkpoints

    path = checkpoints.resolve(name)
    result = measure(path)
    checkpoints.update_record(path, {"worlds": result})
    return result


def main(argv=None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m beliefcourse.worlds",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--write", action="store_true", help="store in the records")
    args = parser.parse_args(argv)
    for name in args.names:
        result = write(name) if args.write else measure(name)
        print(name, json.dumps(result["r2"], indent=1), "knows:",
              result["knows"]["probe_tokens"], "(Bayes", result["knows"]["bayes_tokens"], ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
