"""Chapter 07's grid: train E small models one after another, or as one batched ensemble?

The grid models (``beliefcourse.train.grid_preset``: one layer, d_model 32, d_mlp 128, batch
256) are small enough that a training step might be dominated by Python and kernel-launch
overhead, which a batched ensemble (``torch.func.vmap`` over E stacked copies of the model,
one AdamW over all their parameters — equivalent to E independent AdamWs, since Adam is
elementwise) would amortise. This bench times both on identical work, in alternating rounds
in one process so background load hits both alike, and reports the median time per model
per step and their ratio:

    python bench/grid_training.py [--models 8] [--heads 1] [--steps 20] [--rounds 5]

Measured here (2-core CPU shared with other jobs, 1 thread, 8 one-head models): about 1.4x
faster per model for the ensemble — too little to justify a second trainer, so the shipped
grid was trained with the ordinary CLI (``python -m beliefcourse train grid-...``). At these
sizes the step is compute-bound, not overhead-bound.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from beliefcourse.data import ExactData
from beliefcourse.model import build_model
from beliefcourse.train import batch_loss, grid_preset


class _Run(torch.nn.Module):
    """Calls ``model._run`` directly (``forward`` validates tokens, which vmap cannot trace)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        return self.model._run(tokens, None)


def sequential_timer(configs, data, batch):
    models = [build_model(c.model, seed=i) for i, c in enumerate(configs)]
    opts = [torch.optim.AdamW(m.parameters(), lr=3e-3) for m in models]
    gen = torch.Generator().manual_seed(0)

    def run(steps: int) -> float:
        t0 = time.perf_counter()
        for _ in range(steps):
            for m, opt in zip(models, opts):
                x, y = data.sample_batch(batch, gen, "expected")
                loss = batch_loss(m(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        return (time.perf_counter() - t0) / steps / len(models)
    return run


def ensemble_timer(configs, data, batch):
    from torch.func import functional_call, stack_module_state, vmap

    members = [_Run(build_model(c.model, seed=i)) for i, c in enumerate(configs)]
    params, buffers = stack_module_state(members)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    base = copy.deepcopy(members[0]).to("meta")
    opt = torch.optim.AdamW(params.values(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    forward = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))

    def run(steps: int) -> float:
        t0 = time.perf_counter()
        for _ in range(steps):
            xs, ys = zip(*[data.sample_batch(batch, gen, "expected") for _ in members])
            logits = forward(params, buffers, torch.stack(xs))
            loss = sum(batch_loss(logits[e], ys[e]) for e in range(len(members)))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return (time.perf_counter() - t0) / steps / len(members)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = grid_preset(0.15, 0.6, args.heads)
    configs = [config] * args.models
    data = ExactData(config.hmm(), config.model.n_ctx)
    timers = {"sequential": sequential_timer(configs, data, config.batch_size),
              "ensemble": ensemble_timer(configs, data, config.batch_size)}
    for t in timers.values():
        t(2)                                                   # warm-up
    times = {k: [] for k in timers}
    for _ in range(args.rounds):
        for k, t in timers.items():
            times[k].append(t(args.steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.models} models, {args.heads} head(s), batch {config.batch_size}, "
          f"{args.threads} thread(s); median ms per model per step:")
    for k, v in med.items():
        print(f"  {k:10s} {1000 * v:7.2f}")
    print(f"  ensemble speed-up: {med['sequential'] / med['ensemble']:.2f}x")


if __name__ == "__main__":
    main()
