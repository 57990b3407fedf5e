"""Chapter 07's grid: how long retraining takes, and how to spend the cores.

Two benchmarks, each printing ratios measured side by side in one run:

``python bench/grid_training.py sweep [--models 4] [--tokens 5120000] [--whole]``
    The grid command (``python -m beliefcourse.grid train``, :mod:`beliefcourse.grid.sweep`):
    the same ``--models`` short runs with ``--jobs 1`` and with ``--jobs 2`` (fresh output
    folders; the speed-up is the ratio of wall times), and with ``--whole`` the whole shipped
    grid (20 models, 184 M tokens) retrained by one command with ``--jobs 2``, then each
    retrained model compared with the shipped one:

    * identical weights where the machine, torch build and thread count are the same (the
      trainer is deterministic on a CPU); otherwise, within these tolerances (about a third of
      the seed-to-seed scatter of the shipped pairs): relative loss within 50 % in excess loss
      (``|new - old| <= 0.5 (old - 1)``), each head's fitted decay rate within 0.05 and odd share
      within 0.05, held-out R² ``resid_mid -> r*`` and ``ln_final -> eta`` within 0.01.

    Measured on the 2-core reference machine, 2026-12-06: the whole grid in 11.0 min wall with
    ``--jobs 2`` while other jobs kept the load average at 4–5 (goal: 20 min); all 20 retrained
    models within the tolerances (the weights differ in the last bits — step 0's evaluation
    already differs at 1e-9 — ; largest fitted-rate difference 0.006, relative losses equal
    to 1e-6).
    ``--jobs 2`` over ``--jobs 1``: 1.71x for four 5.12 M-token models on the idle machine
    (59 s against 34 s); 0.55x for four 1.02 M-token models under load 4.8, where starting the
    worker processes (each imports torch) costs more than it saves.

``python bench/grid_training.py ensemble [--models 8] [--heads 1] [--steps 20] [--rounds 5]``
    Train E small models one after another, or as one batched ensemble (``torch.func.vmap``
    over E stacked copies, one AdamW over all their parameters — equivalent to E independent
    AdamWs, since Adam is elementwise), in alternating rounds in one process, and report the
    median time per model per step and their ratio. Measured here (2-core CPU shared with
    other jobs, 1 thread, 8 one-head models): about 1.4x faster per model for the ensemble —
    too little to justify a second trainer: at these sizes the step is compute-bound, so the
    grid command runs whole models in parallel processes instead.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

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


def ensemble_main(argv) -> None:
    parser = argparse.ArgumentParser(prog="grid_training.py ensemble")
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
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


TOLERANCES = {"relative_loss_excess": 0.5, "fitted_rate": 0.05, "odd_share": 0.05, "r2": 0.01}


def _numbers(text) -> list[float]:
    import re

    return [float(v) for v in re.findall(r"(?<![\[\d.])\d+\.\d+(?![\d\]])", str(text))]


def compare(name: str, new_dir: Path) -> tuple[bool, str]:
    """Retrained ``new_dir`` against the shipped ``name``: (within tolerances, one line)."""
    from beliefcourse import checkpoints, grid

    new_pt = checkpoints.list_checkpoints(new_dir)[-1]
    old_pt = checkpoints.resolve(name)
    same = all(torch.equal(a, b) for a, b in zip(torch.load(new_pt).values(),
                                                 torch.load(old_pt).values()))
    old = checkpoints.read_record(old_pt)
    new = checkpoints.read_record(new_pt)
    if same:
        return True, f"{name}: identical weights"
    model, record = checkpoints.load_file(new_pt)
    row = grid.analyse(model, record, name=name, n_sequences=1500).row()
    ref = old["mechanism"]
    checks = {"relative loss": abs(new["relative_loss"] - old["relative_loss"])
              <= TOLERANCES["relative_loss_excess"] * (old["relative_loss"] - 1)}
    rates_new = [float(v.split()[0]) for v in row["fitted rate"].split(" / ")]
    rates_old = [float(v.split()[0]) for v in ref["fitted rate"].split(" / ")]
    checks["fitted rate"] = all(abs(a - b) <= TOLERANCES["fitted_rate"]
                                for a, b in zip(rates_new, rates_old))
    checks["odd share"] = all(abs(a - b) <= TOLERANCES["odd_share"] for a, b in zip(
        _numbers(row["odd share"]), _numbers(ref["odd share"])))
    checks["R²"] = all(abs(row[k] - ref[k]) <= TOLERANCES["r2"]
                       for k in ("R² mid→r*", "R² post→η"))
    ok = all(checks.values())
    return ok, (f"{name}: weights differ; relative loss {new['relative_loss']:.6f} vs "
                f"{old['relative_loss']:.6f}, fitted {row['fitted rate']} vs "
                f"{ref['fitted rate']}; " + ", ".join(f"{k} {'ok' if v else 'OUT'}"
                                                       for k, v in checks.items()))


def sweep_main(argv) -> None:
    import os

    from beliefcourse.grid import sweep

    parser = argparse.ArgumentParser(prog="grid_training.py sweep")
    parser.add_argument("--models", type=int, default=4,
                        help="short runs for the --jobs 1 / --jobs 2 comparison")
    parser.add_argument("--tokens", type=int, default=5_120_000,
                        help="token budget of each short run")
    parser.add_argument("--whole", action="store_true",
                        help="also retrain the whole shipped grid (--jobs 2) and compare it")
    parser.add_argument("--out", help="folder for the whole-grid run (default: a temporary one; "
                                      "give one to resume an interrupted run)")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start"
          + ("  (the machine is busy: wall times are inflated)" if load > 1.5 else ""))
    names = [f"grid-x15-a60-h1-s{s}" for s in range(args.models)]
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            rep = sweep.run(names, Path(tmp) / f"jobs{jobs}", jobs=jobs, n_tokens=args.tokens,
                            log=lambda *_: None)
            walls[jobs] = rep["wall"]
            print(f"--jobs {jobs}: {args.models} models x {args.tokens / 1e6:.2f} M tokens in "
                  f"{rep['wall']:.0f} s")
    print(f"speed-up of --jobs 2 over --jobs 1: {walls[1] / walls[2]:.2f}x")
    if not args.whole:
        return
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="grid-whole-"))
    names = sweep.expand()
    t0 = time.perf_counter()
    rep = sweep.run(names, out, jobs=2)
    print(f"whole shipped grid ({len(names)} models; {len(rep['trained'])} trained now, "
          f"{len(rep['skipped'])} already there) with --jobs 2: {rep['wall'] / 60:.1f} min "
          f"wall (goal <= 20 min on 2 cores); {time.perf_counter() - t0:.0f} s in all")
    results = [compare(name, out / name) for name in names]
    for _, line in results:
        print("  " + line)
    print(f"within tolerances {json.dumps(TOLERANCES)}: {sum(ok for ok, _ in results)} of "
          f"{len(results)}")


def main() -> None:
    import sys

    argv = sys.argv[1:]
    if argv[:1] == ["ensemble"]:
        ensemble_main(argv[1:])
    elif argv[:1] == ["sweep"]:
        sweep_main(argv[1:])
    else:
        print(__doc__)
        raise SystemExit("usage: python bench/grid_training.py {sweep,ensemble} [options]")


if __name__ == "__main__":
    main()
