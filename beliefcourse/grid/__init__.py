"""Chapter 07's grid of one-layer Mess3 models, measured against the constrained update.

The shipped checkpoints ``grid-x{100x}-a{100 alpha}-h{heads}-s{seed}`` (presets
``beliefcourse.train.grid_preset``) are one-layer transformers trained on Mess3(x, alpha).
:func:`analyse` measures one of them against the theory of :mod:`beliefcourse.constrained`:

* attention by distance per head, its fitted decay rate with a 95 % interval
  (:func:`beliefcourse.mechanism.fit_attention_decay`, distances >= 1, queries >= 5; for a
  head that attends mostly odd or mostly even distances, only those), and the odd share;
* the rates it could follow: ``|zeta|``, ``r*`` (the rate whose constrained update fits the
  belief best) and ``r*_norm`` (the same with the softmax normalisation);
* OV angles between tokens, OV orientation read out into belief space against
  ``sign(3 alpha - 1)``;
* the exact ``resid_mid`` decomposition error, variance in 3 PCs of ``resid_mid`` (as it is,
  and after subtracting each position's mean, which removes the position embedding), and
  held-out affine fits ``resid_mid -> r`` (rates ``zeta`` and ``r*``) and ``resid_mid -> eta``
  (THE R², :func:`beliefcourse.probing.evaluate`) beside the analytic ``R²(r -> eta)``.

To keep a chapter fast, the model is measured on ``n_sequences`` contexts drawn by
probability (fixed seed), each weighted equally; attention means are then Monte-Carlo
estimates of the probability-weighted means over all ``3**10`` contexts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import constrained, mechanism

_NAME = re.compile(r"^grid-x(\d+)-a(\d+)-h(\d+)-s(\d+)$")


def grid_names() -> list[str]:
    """Names of the shipped grid checkpoints, sorted by (x, alpha, heads, seed)."""
    from . import checkpoints

    names = [n for n in checkpoints.available() if _NAME.match(n)]
    return sorted(names, key=lambda n: tuple(int(g) for g in _NAME.match(n).groups()))


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
    from .processes import mess3

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
    """One head: decay fit, odd share, mean OV angle between tokens, OV orientation cosine."""

    fit: mechanism.DecayFit
    odd_share: float
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
                "decomp. err": float(f"{self.decomposition_error:.1e}")}


def sample_contexts(hmm, n_sequences: int, seed=0, n_ctx: int = 10):
    """``(tokens (n, n_ctx), beliefs (n, n_ctx, S))``: ``n_sequences`` contexts drawn i.i.d. by
    probability from the exact enumeration (position ``p``'s belief is after ``p + 1`` tokens)."""
    from .data import ExactData

    data = ExactData(hmm, n_ctx)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(data.probs), size=n_sequences, p=data.probs / data.probs.sum())
    return np.array(data.inputs[idx]), np.array(data.beliefs[idx])


def _parity(share: float) -> str | None:
    return "odd" if share > 0.75 else "even" if share < 0.25 else None


def analyse(model, record: dict, name: str = "", n_sequences: int = 4000, seed=0
            ) -> ModelReport:
    """Measure one grid model (``model``, its checkpoint ``record``) against the theory."""
    from .attention import attention_by_distance
    from .probing import collect_activations, evaluate
    from .processes import mess3

    params = record["process_params"]
    x, alpha = float(params["x"]), float(params["alpha"])
    hmm = mess3(x, alpha)
    th = theory(x, alpha)
    tokens, beliefs = sample_contexts(hmm, n_sequences, seed)
    ones = np.ones(len(tokens))
    dec = mechanism.decompose_resid_mid(model, tokens)
    mid = dec.resid_mid
    r = constrained.constrained_update(hmm, tokens, rate=th.zeta)
    to_r = evaluate(mid, r, ones, seed=seed)
    r_star = constrained.constrained_update(hmm, tokens, rate=th.rate_star)
    to_r_star = evaluate(mid, r_star, ones, seed=seed)
    to_eta = evaluate(mid, beliefs, ones, seed=seed)
    post = collect_activations(model, tokens, "ln_final.hook_normalized")
    to_eta_post = evaluate(post, beliefs, ones, seed=seed)
    readout = to_eta.probe.coef_.T                                      # (D, S)
    ov = mechanism.ov_vectors(model)
    angles = mechanism.ov_angles(ov)
    dev = mechanism.angle_deviation(ov)
    dev_belief = mechanism.angle_deviation(mechanism.centred(ov) @ readout)
    orient = mechanism.ov_orientation(ov, readout)
    heads = []
    for h in range(model.cfg.n_heads):
        att = attention_by_distance(model, tokens, ones, head=h).attention
        share = mechanism.odd_share(att)
        parity = _parity(share)
        dists = (1, 2, 3, 4, 5) if parity is None else range(1, 8)
        fit = mechanism.fit_attention_decay(att, distances=dists, parity=parity)
        off = angles[h][~np.eye(angles.shape[1], dtype=bool)].mean()
        heads.append(HeadReport(fit=fit, odd_share=share, ov_angle=float(off),
                                angle_deviation=float(dev[h]),
                                angle_deviation_belief=float(dev_belief[h]),
                                orientation=float(orient[h].mean()),
                                attention_last=att[-1]))
    return ModelReport(name=name, x=x, alpha=alpha, n_heads=model.cfg.n_heads,
                       seed=int(record["seed"]), relative_loss=float(record["relative_loss"]),
                       theory=th, heads=heads, decomposition_error=dec.max_error,
                       pc3_variance=mechanism.explained_variance(mid, 3),
                       pc3_variance_centred=mechanism.explained_variance(
                           mid - mid.mean(axis=0, keepdims=True), 3),
                       r2_to_r=to_r.held_out.r2, r2_to_r_star=to_r_star.held_out.r2,
                       r2_to_eta=to_eta.held_out.r2,
                       r2_to_eta_post=to_eta_post.held_out.r2)


def analyse_shipped(name: str, **kw) -> ModelReport:
    """:func:`analyse` on a shipped grid checkpoint by name."""
    from . import checkpoints

    parse_name(name)
    model, record = checkpoints.load(name)
    return analyse(model, record, name=name, **kw)


def write_record(name: str, n_sequences: int = 1500) -> dict:
    """Measure a shipped grid checkpoint (:func:`analyse_shipped`) and store
    :meth:`ModelReport.row` in its JSON record under ``"mechanism"`` (with ``n_sequences``);
    returns that entry. The README's grid table is generated from these entries."""
    from . import checkpoints

    rep = analyse_shipped(name, n_sequences=n_sequences)
    entry = {**rep.row(), "n_sequences": n_sequences}
    checkpoints.update_record(checkpoints.resolve(name), {"mechanism": entry})
    return entry


def main(argv: list[str] | None = None) -> int:
    """``python -m beliefcourse.grid [--write]``: measure every shipped grid model."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m beliefcourse.grid",
                                     description="Measure chapter 07's grid models.")
    parser.add_argument("--write", action="store_true",
                        help="store the measurements in each checkpoint's JSON record")
    args = parser.parse_args(argv)
    for name in grid_names():
        row = write_record(name) if args.write else analyse_shipped(name, n_sequences=1500).row()
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
