"""Time to the fractal, GRU against transformer, measured side by side in one run.

Trains two presets (default ``mess3-gru`` and ``mess3``) in the same process, alternating one
optimizer step of each, so both see the same machine load. Each run follows its preset
exactly (optimizer, learning-rate schedule over the preset's full budget, batches from
:class:`beliefcourse.data.ExactData` with the preset's seed), as :func:`beliefcourse.train.train`
would. Every ``--eval-every`` steps each model gets the exact relative loss and a held-out
probe of its top layer (fit on 20 % of ``--contexts`` random contexts, scored on the rest,
unweighted MSE as in the paper). A model stops when held-out MSE <= ``--mse`` and relative
loss <= ``--rel``, or when its budget is spent. Seconds are each model's own training steps;
evaluations are timed apart.

    python bench/time_to_fractal_rnn.py [--presets mess3-gru mess3] [--eval-every 50]
        [--mse 1e-3] [--rel 1.001] [--contexts 10000] [--max-steps N] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from beliefcourse.data import ExactData
from beliefcourse.model import build_model, param_count
from beliefcourse.probing import collect_activations, evaluate
from beliefcourse.steering import steerable_hooks
from beliefcourse.train import PRESETS, batch_loss, lr_factor, make_optimizer


class Run:
    """One preset's training state, stepped from outside."""

    def __init__(self, name: str, data: ExactData):
        self.name, self.config, self.data = name, PRESETS[name], data
        torch.manual_seed(self.config.seed)
        self.model = build_model(self.config.model, seed=self.config.seed)
        self.optimizer = make_optimizer(self.config, self.model)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(self.config, s))
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.step, self.seconds, self.reached = 0, 0.0, None
        self.hook = steerable_hooks(self.model)[-1]

    max_steps: int | None = None

    @property
    def done(self) -> bool:
        limit = min(self.config.n_steps, self.max_steps or self.config.n_steps)
        return self.reached is not None or self.step >= limit

    def train_step(self) -> None:
        t0 = time.perf_counter()
        self.model.train()
        inputs, targets = self.data.sample_batch(self.config.batch_size, self.generator,
                                                 self.config.targets)
        loss = batch_loss(self.model(inputs), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        self.seconds += time.perf_counter() - t0

    def check(self, subset, args) -> str:
        rel = float(self.data.relative_loss(self.data.exact_loss(self.model)).mean())
        feats = collect_activations(self.model, self.data.inputs[subset], self.hook)
        mse = evaluate(feats, self.data.beliefs[subset], self.data.probs[subset],
                       train_fraction=0.2, seed=0).held_out.mse
        tokens = self.step * self.config.tokens_per_step
        if mse <= args.mse and rel <= args.rel:
            self.reached = (tokens, self.seconds, rel, mse)
        return (f"  {self.name:12s} {tokens:>11,} tokens  {self.seconds:7.1f} s  relative loss "
                f"{rel:.5f}  held-out MSE {mse:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs=2, default=["mess3-gru", "mess3"],
                        choices=sorted(PRESETS), metavar="PRESET")
    parser.add_argument("--eval-every", type=int, default=50, help="steps between checks")
    parser.add_argument("--mse", type=float, default=1e-3, help="held-out probe MSE target")
    parser.add_argument("--rel", type=float, default=1.001, help="relative loss target")
    parser.add_argument("--contexts", type=int, default=10_000, help="contexts for the probe")
    parser.add_argument("--max-steps", type=int, help="stop each run after this many steps")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    configs = [PRESETS[name] for name in args.presets]
    if len({(c.process, tuple(sorted(c.process_params.items())), c.model.n_ctx)
            for c in configs}) != 1:
        parser.error("the two presets must train on the same process and context length")
    data = ExactData(configs[0].hmm(), configs[0].model.n_ctx)
    subset = np.sort(np.random.default_rng(0).choice(
        len(data), size=min(args.contexts, len(data)), replace=False))
    runs = [Run(name, data) for name in args.presets]
    for run in runs:
        run.max_steps = args.max_steps
    for run in runs:
        c = run.config
        print(f"{run.name}: {type(run.model).__name__}, {param_count(run.model):,} parameters, "
              f"{c.optimizer} lr {c.lr}, batch {c.batch_size}, budget {c.n_tokens:,} tokens")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; probe on "
          f"{len(subset):,} contexts")
    eval_seconds, t_start = 0.0, time.perf_counter()
    while not all(run.done for run in runs):
        for run in runs:
            if not run.done:
                run.train_step()
        if any(run.step % args.eval_every == 0 or run.step == run.config.n_steps
               for run in runs if not run.done):
            t0 = time.perf_counter()
            for run in runs:
                if run.reached is None:
                    print(run.check(subset, args), flush=True)
            eval_seconds += time.perf_counter() - t0
    print()
    for run in runs:
        if run.reached is None:
            print(f"{run.name}: targets (MSE <= {args.mse:g}, relative loss <= {args.rel}) not "
                  f"reached within {run.step * run.config.tokens_per_step:,} tokens "
                  f"({run.seconds:.0f} s)")
        else:
            tok, secs, rel, mse = run.reached
            print(f"{run.name}: held-out MSE {mse:.2e} and relative loss {rel:.5f} after "
                  f"{tok:,} tokens and {secs:.1f} s of training")
    if all(run.reached for run in runs):
        (t0, s0, *_), (t1, s1, *_) = (run.reached for run in runs)
        print(f"ratio {runs[0].name} / {runs[1].name}: tokens {t0 / t1:.2f}, seconds "
              f"{s0 / s1:.2f}")
    print(f"(evaluations {eval_seconds:.0f} s; whole script {time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
