"""Chapter 07's grid of one-layer Mess3 models, measured against the constrained update.

The shipped checkpoints ``grid-x{100x}-a{100 alpha}-h{heads}-s{seed}`` (presets
``beliefcourse.train.grid_preset``) are one-layer transformers trained on Mess3(x, alpha).
:func:`analyse` measures one of them against the theory of :mod:`beliefcourse.constrained`:

* attention by distance per head, its fitted decay rate with a 95 % interval
  (:func:`beliefcourse.mechanism.fit_attention_decay`, distances >= 1, queries >= 5; for a
  head that attends mostly odd or mostly even distances, only those), and the odd share
  (share of attention on odd distances among d >= 1, per query, averaged over queries >= 4,
  with its range over those queries) and whether two heads split by parity;
* the rates it could follow: ``|zeta|``, ``r*`` (the rate whose constrained update fits the
  belief best) and ``r*_norm`` (the same with the softmax normalisation);
* OV angles between tokens, OV orientation read out into belief space against
  ``sign(3 alpha - 1)``;
* the exact ``resid_mid`` decomposition error, variance in 3 PCs of ``resid_mid`` (as it is,
  and after subtracting each position's mean, which removes the position embedding), and
  held-out affine fits ``resid_mid -> r`` (rates ``zeta`` and ``r*``) and ``resid_mid -> eta``
  (THE R², :func:`beliefcourse.probing.evaluate`) beside the analytic ``R²(r -> eta)``.

To keep a chapter fast, the model is measured on ``n_sequences`` contexts drawn by
probability (fixed seed); repeats are merged and each distinct context is weighted by how
often it was drawn (:func:`sample_contexts`), so attention means are Monte-Carlo estimates of
the probability-weighted means over all ``3**10`` contexts, and the held-out fits (fit on 20 %
of the distinct contexts, weighted, scored on the rest) share no context between the two sets.

``python -m beliefcourse.grid train ...`` retrains grid models (:mod:`beliefcourse.grid.sweep`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .. import constrained, mechanism

_NAME = re.compile(r"^grid-x(\d+)-a(\d+)-h(\d+)-s(\d+)$")


def grid_names() -> list[str]:
    """Names of the shipped grid checkpoints, sorted by (x, alpha, heads, seed)."""
    from .. import checkpoints

    names = [n for n in checkpoints.available() if _NAME.match(n)]
    return sorted(names, key=lambda n: tuple(int(g) for g in _NAME.match(n).groups()))


def seed_records(preset: str) -> dict[str, dict]:
    """``{model name: final record}`` for every seed of ``preset`` (``"grid-x50-a60-h2"``) in
    the package, sorted by seed: the shipped checkpoints and the records shipped without
    weights (chapter 07's extra seeds for the parity split, measured when they were trained,
    ``python -m beliefcourse.grid measure``)."""
    import json

    from .. import checkpoints

    out = {}
    for d in sorted(checkpoints.DATA_DIR.glob(f"{preset}-s*"), key=lambda p: parse_name(
            p.name)["seed"] if _NAME.match(p.name) else -1):
        if not _NAME.match(d.name):
            continue
        finals = sorted(d.glob("tokens_*.json"))
        if finals:
            out[d.name] = json.loads(finals[-1].read_text())
    return out


def parse_name(name: str) -> dict:
    """``"grid-x15-a60-h2-s1"`` -> ``{"x": 0.15, "alpha": 0.6, "n_heads": 2, "seed": 1}``."""
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"{name!r} is not a grid checkpoint name like 'grid-x15-a60-h1-s0'")
    x, a, h, s = (int(g) for g in m.groups())
    return {"x": x / 100, "alpha": a / 100, "n_heads": h, "seed": s}


@dataclass(frozen=True)
class Theory:
    """What the constrained update predicts at ``(x, alpha)``: ``r2_zeta`` over all positions of
    all length-10 words; ``rate_star``, ``rate_star_norm`` and ``r2_star`` over length-8 words
    (r* changes by less than 0.01 from L = 8 to L = 10 on the grid)."""

    x: float
    alpha: float
    zeta: float
    rate_star: float
    rate_star_norm: float
    r2_zeta: float
    r2_star: float
    heads: int


@lru_cache(maxsize=64)
def theory(x: float, alpha: float) -> Theory:
    """:class:`Theory` at Mess3(x, alpha) (cached)."""
    from ..processes import mess3

    hmm = mess3(x, alpha)
    z = 1 - 3 * x
    short = constrained.prefix_tree(hmm, 8)        # r* moves by < 0.01 between L = 8 and 10
    star = constrained.best_rate(short)
    star_n = constrained.best_rate(short, normalise=True)
    return Theory(x=x, alpha=alpha, zeta=z, rate_star=star.rate, rate_star_norm=star_n.rate,
                  r2_zeta=constrained.update_r2(constrained.prefix_tree(hmm, 10), z),
                  r2_star=star.r2, heads=constrained.heads_needed(hmm))


@dataclass
class HeadReport:
    """One head: decay fit, odd share (mean over queries >= 4 of the share of attention on odd
    distances among d >= 1; ``odd_share_low``/``high``: its smallest and largest value over
    those queries), mean OV angle between tokens, OV orientation cosine."""

    fit: mechanism.DecayFit
    odd_share: float
    odd_share_low: float
    odd_share_high: float
    ov_angle: float
    angle_deviation: float
    angle_deviation_belief: float
    orientation: float
    attention_last: np.ndarray = field(repr=False)


@dataclass
class ModelReport:
    """Everything :func:`analyse` measures on one model (see the module docstring)."""

    name: str
    x: float
    alpha: float
    n_heads: int
    seed: int
    relative_loss: float
    theory: Theory
    heads: list[HeadReport]
    decomposition_error: float
    pc3_variance: float
    pc3_variance_centred: float
    r2_to_r: float
    r2_to_r_star: float
    r2_to_eta: float
    r2_to_eta_post: float

    def closest_rate(self, head: int = 0) -> str:
        """Which candidate rate (``"|zeta|"``, ``"r*"``, ``"r*_norm"``) is closest (in log
        ratio) to the fitted rate of ``head``."""
        t, fit = self.theory, self.heads[head].fit
        cands = {"|zeta|": abs(t.zeta), "r*": abs(t.rate_star), "r*_norm": abs(t.rate_star_norm)}
        return min(cands, key=lambda k: abs(np.log(fit.rate / cands[k])))

    def row(self) -> dict:
        """A flat dict for a table (one row per head is folded into lists)."""
        t = self.theory
        return {"model": self.name, "rel. loss": round(self.relative_loss, 6),
                "zeta": round(t.zeta, 3), "r*": round(t.rate_star, 3),
                "r*_norm": round(t.rate_star_norm, 3),
                "fitted rate": " / ".join(f"{h.fit.rate:.3f} [{h.fit.low:.2f}, {h.fit.high:.2f}]"
                                          + ("" if h.fit.parity is None else f" {h.fit.parity}")
                                          for h in self.heads),
                "odd share": " / ".join(f"{h.odd_share:.2f}" for h in self.heads),
                "odd share range": " / ".join(f"{h.odd_share_low:.2f}–{h.odd_share_high:.2f}"
                                              for h in self.heads),
                "parity": self.parity_split(),
                "closest": " / ".join(self.closest_rate(i) for i in range(self.n_heads)),
                "OV angle": " / ".join(f"{h.ov_angle:.0f}" for h in self.heads),
                "OV |angle−120°|": " / ".join(f"{h.angle_deviation:.1f}" for h in self.heads),
                "OV |angle−120°| (belief)": " / ".join(f"{h.angle_deviation_belief:.1f}"
                                                       for h in self.heads),
                "OV orient.": " / ".join(f"{h.orientation:+.2f}" for h in self.heads),
                "3α−1": round(3 * self.alpha - 1, 2),
                "PC3 var": round(self.pc3_variance, 3),
                "PC3 var (pos.-centred)": round(self.pc3_variance_centred, 3),
                "R² mid→r": round(self.r2_to_r, 3), "R² mid→r*": round(self.r2_to_r_star, 3),
                "R² r→η (theory)": round(t.r2_zeta, 3),
                "R² mid→η": round(self.r2_to_eta, 3), "R² post→η": round(self.r2_to_eta_post, 4),
                "decomp. err": _bound(self.decomposition_error)}

    def parity_split(self) -> str:
        """``"split"``: one head odd and another even (mean odd share >= 0.75 and <= 0.25 over
        queries >= 4), ``"split at every query"`` if that holds at each query >= 4 too;
        ``"odd head only"``, ``"even head only"`` or ``"none"`` otherwise."""
        shares = [h.odd_share for h in self.heads]
        odd = [i for i, v in enumerate(shares) if v >= 0.75]
        even = [i for i, v in enumerate(shares) if v <= 0.25]
        if odd and even:
            strict = any(self.heads[i].odd_share_low >= 0.75 for i in odd) and any(
                self.heads[j].odd_share_high <= 0.25 for j in even)
            return "split at every query" if strict else "split"
        return "odd head only" if odd else "even head only" if even else "none"


def _bound(error: float) -> str:
    """Floating-point noise as a bound: ``"< 1e-12"`` (never the noise digits)."""
    for b in (1e-12, 1e-9, 1e-6):
        if error < b:
            return f"< {b:.0e}"
    return f"{error:.1e}"


class Contexts(NamedTuple):
    """Distinct contexts drawn by probability: ``tokens (n, n_ctx)``, ``beliefs (n, n_ctx, S)``
    and ``counts (n,)``, how often each was drawn (``counts.sum()`` is the number of draws)."""

    tokens: np.ndarray
    beliefs: np.ndarray
    counts: np.ndarray


def sample_contexts(hmm, n_sequences: int, seed=0, n_ctx: int = 10) -> Contexts:
    """:class:`Contexts`: ``n_sequences`` contexts drawn i.i.d. by probability from the exact
    enumeration, with repeats merged (position ``p``'s belief is after ``p + 1`` tokens).

    Each distinct context appears once, weighted by its count, so weighted means are the same
    Monte-Carlo estimates as over the raw draws, while any split of the rows into a fit and a
    held-out set shares no context (at (0.05, 0.85), 1,500 draws hold about 1,030 distinct
    contexts: a split of the raw draws would put a quarter of the held-out contexts in the fit
    set too)."""
    from ..data import ExactData

    data = ExactData(hmm, n_ctx)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(data.probs), size=n_sequences, p=data.probs / data.probs.sum())
    uniq, counts = np.unique(idx, return_counts=True)
    return Contexts(np.array(data.inputs[uniq]), np.array(data.beliefs[uniq]),
                    counts.astype(np.float64))


def _parity(share: float) -> str | None:
    return "odd" if share > 0.75 else "even" if share < 0.25 else None


def analyse(model, record: dict, name: str = "", n_sequences: int = 4000, seed=0
            ) -> ModelReport:
    """Measure one grid model (``model``, its checkpoint ``record``) against the theory."""
    from ..attention import attention_by_distance
    from ..probing import collect_activations, evaluate
    from ..processes import mess3

    params = record["process_params"]
    x, alpha = float(params["x"]), float(params["alpha"])
    hmm = mess3(x, alpha)
    th = theory(x, alpha)
    ctx = sample_contexts(hmm, n_sequences, seed)
    tokens, beliefs, w = ctx.tokens, ctx.beliefs, ctx.counts

    def fit(features, targets):
        res = evaluate(features, targets, w, seed=seed, weighted_fit=True)
        return res, res.held_out.r2_weighted

    dec = mechanism.decompose_resid_mid(model, tokens)
    mid = dec.resid_mid
    r = constrained.constrained_update(hmm, tokens, rate=th.zeta)
    _, r2_r = fit(mid, r)
    _, r2_r_star = fit(mid, constrained.constrained_update(hmm, tokens, rate=th.rate_star))
    to_eta, r2_eta = fit(mid, beliefs)
    post = collect_activations(model, tokens, "ln_final.hook_normalized")
    _, r2_post = fit(post, beliefs)
    readout = to_eta.probe.coef_.T                                      # (D, S)
    ov = mechanism.ov_vectors(model)
    angles = mechanism.ov_angles(ov)
    dev = mechanism.angle_deviation(ov)
    dev_belief = mechanism.angle_deviation(mechanism.centred(ov) @ readout)
    orient = mechanism.ov_orientation(ov, readout)
    drawn = np.repeat(mid, w.astype(int), axis=0)                       # every draw once
    heads = []
    for h in range(model.cfg.n_heads):
        att = attention_by_distance(model, tokens, w, head=h).attention
        shares = mechanism.odd_shares(att, min_query=4)
        share = float(shares.mean())
        parity = _parity(share)
        dists = (1, 2, 3, 4, 5) if parity is None else range(1, 8)
        fit_h = mechanism.fit_attention_decay(att, distances=dists, parity=parity)
        off = angles[h][~np.eye(angles.shape[1], dtype=bool)].mean()
        heads.append(HeadReport(fit=fit_h, odd_share=share,
                                odd_share_low=float(shares.min()),
                                odd_share_high=float(shares.max()), ov_angle=float(off),
                                angle_deviation=float(dev[h]),
                                angle_deviation_belief=float(dev_belief[h]),
                                orientation=float(orient[h].mean()),
                                attention_last=att[-1]))
    return ModelReport(name=name, x=x, alpha=alpha, n_heads=model.cfg.n_heads,
                       seed=int(record["seed"]), relative_loss=float(record["relative_loss"]),
                       theory=th, heads=heads, decomposition_error=dec.max_error,
                       pc3_variance=mechanism.explained_variance(drawn, 3),
                       pc3_variance_centred=mechanism.explained_variance(
                           drawn - drawn.mean(axis=0, keepdims=True), 3),
                       r2_to_r=r2_r, r2_to_r_star=r2_r_star, r2_to_eta=r2_eta,
                       r2_to_eta_post=r2_post)


def analyse_shipped(name: str, **kw) -> ModelReport:
    """:func:`analyse` on a shipped grid checkpoint by name."""
    from .. import checkpoints

    parse_name(name)
    model, record = checkpoints.load(name)
    return analyse(model, record, name=name, **kw)


def write_record(name: str, n_sequences: int = 1500) -> dict:
    """Measure a shipped grid checkpoint (:func:`analyse_shipped`) and store
    :meth:`ModelReport.row` in its JSON record under ``"mechanism"`` (with ``n_sequences``);
    returns that entry. The README's grid table is generated from these entries."""
    from .. import checkpoints

    rep = analyse_shipped(name, n_sequences=n_sequences)
    entry = {**rep.row(), "n_sequences": n_sequences}
    checkpoints.update_record(checkpoints.resolve(name), {"mechanism": entry})
    return entry


def measure_dir(directory, n_sequences: int = 1500) -> dict:
    """Measure the grid checkpoint in ``directory`` (its final ``.pt``, named like
    ``grid-x50-a60-h2-s3``) and store the ``"mechanism"`` entry in its record; returns it."""
    from pathlib import Path

    from .. import checkpoints

    directory = Path(directory)
    parse_name(directory.name)
    path = checkpoints.list_checkpoints(directory)[-1]
    model, record = checkpoints.load_file(path)
    rep = analyse(model, record, name=directory.name, n_sequences=n_sequences)
    entry = {**rep.row(), "n_sequences": n_sequences}
    checkpoints.update_record(path, {"mechanism": entry})
    return entry


def _measure_main(argv: list[str]) -> int:
    import argparse
    import shutil
    from pathlib import Path

    p = argparse.ArgumentParser(
        prog="python -m beliefcourse.grid measure",
        description="Measure grid checkpoints in folders (e.g. made by `train --out`) and "
                    "store the numbers in their records.")
    p.add_argument("dirs", nargs="+", help="model folders named grid-x..-a..-h..-sN")
    p.add_argument("--copy-records-to", metavar="DIR",
                   help="then copy each final .json (not the weights) into DIR/<name>/, e.g. "
                        "beliefcourse/checkpoints/data")
    args = p.parse_args(argv)
    for d in args.dirs:
        row = measure_dir(d)
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
        if args.copy_records_to:
            from .. import checkpoints

            js = checkpoints.list_checkpoints(d)[-1].with_suffix(".json")
            dest = Path(args.copy_records_to) / Path(d).name
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(js, dest / js.name)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m beliefcourse.grid [--write]``: measure every shipped grid model;
    ``python -m beliefcourse.grid train ...``: retrain grid models (:mod:`.sweep`)."""
    import argparse
    import sys

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:
        from . import sweep

        return sweep.main(argv[1:])
    if argv[:1] == ["measure"]:
        return _measure_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m beliefcourse.grid",
                                     description="Measure chapter 07's grid models.")
    parser.add_argument("--write", action="store_true",
                        help="store the measurements in each checkpoint's JSON record")
    args = parser.parse_args(argv)
    for name in grid_names():
        row = write_record(name) if args.write else analyse_shipped(name, n_sequences=1500).row()
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    return 0

