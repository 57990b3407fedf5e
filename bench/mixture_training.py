"""Chapter 08's mixture presets: training cost per step and the time of a full run.

Times ``--steps`` optimizer steps of each preset (same data source, model and optimizer as
``python -m beliefcourse train PRESET``: sequences from the mixture, one world each, exact
Bayes soft targets), split into sampling the batch (numpy: the mixture's filter) and the
model's forward/backward/step (torch), and extrapolates to the preset's whole budget. It also
prints the shipped records' ``wall_seconds`` (the measured runs, on a shared 2-core machine),
so the two can be compared side by side.

    python bench/mixture_training.py [--presets mix2 mix2-gru mess3-alpha mess3-alpha-gru]
        [--steps 40] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch

from beliefcourse import checkpoints
from beliefcourse.data import MixtureData
from beliefcourse.model import build_model, param_count
from beliefcourse.train import PRESETS, batch_loss, lr_factor, make_optimizer


def time_preset(name: str, steps: int) -> dict:
    cfg = PRESETS[name]
    data = MixtureData(cfg.mixture(), cfg.model.n_ctx, n_eval=2)
    model = build_model(cfg.model, seed=cfg.seed)
    opt = make_optimizer(cfg, model)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(cfg, s))
    gen = torch.Generator().manual_seed(cfg.seed)
    sample_s = step_s = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        x, y = data.sample_batch(cfg.batch_size, gen, cfg.targets)
        t1 = time.perf_counter()
        loss = batch_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step_s += time.perf_counter() - t1
        sample_s += t1 - t0
    per_step = (sample_s + step_s) / steps
    return {"name": name, "params": param_count(model), "steps": cfg.n_steps,
            "sample_ms": 1e3 * sample_s / steps, "model_ms": 1e3 * step_s / steps,
            "full_min": per_step * cfg.n_steps / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+",
                        default=["mix2", "mix2-gru", "mess3-alpha", "mess3-alpha-gru"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'preset':16s} {'params':>8s} {'steps':>6s} {'sample ms':>9s} {'model ms':>8s} "
          f"{'full run (min)':>14s} {'shipped run (min)':>17s}")
    for name in args.presets:
        r = time_preset(name, args.steps)
        shipped = (f"{checkpoints.record(name)['wall_seconds'] / 60:.1f}"
                   if name in checkpoints.available() else "-")
        print(f"{name:16s} {r['params']:8,} {r['steps']:6d} {r['sample_ms']:9.1f} "
              f"{r['model_ms']:8.1f} {r['full_min']:14.1f} {shipped:>17s}")


if __name__ == "__main__":
    main()
