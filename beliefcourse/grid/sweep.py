"""Retrain chapter 07's grid (or any part of it) with one command, locally or on Dask.

::

    python -m beliefcourse.grid train                          # every shipped grid model
    python -m beliefcourse.grid train grid-x50-a60-h2 --seeds 0-7 --jobs 2
    python -m beliefcourse.grid train grid-x15-a60-h1-s0 --out runs/grid --device cuda
    python -m beliefcourse.grid train --scheduler tcp://10.0.0.5:8786   # a Dask cluster

Each job trains one model with the package's own trainer (:func:`beliefcourse.train.train`)
and the recorded preset (:func:`beliefcourse.train.grid_preset`, seed replaced), exactly as
``python -m beliefcourse train grid-... --seed S`` does, and returns the final weights and
record; the calling process writes them as ``OUT/grid-...-sS/tokens_*.pt`` + ``.json``
(each file written atomically, the ``.json`` last). So a run is

* **idempotent**: a model whose final record is already in ``OUT`` with the same training
  configuration is skipped (a different configuration there is an error, not overwritten);
* **resumable**: interrupt it and run the same command again; finished models are kept, the
  rest are trained (each model is one job: a model cut short starts again from step 0);
* **parallel**: jobs run through joblib, by default in ``--jobs`` local processes with one
  torch thread each (loky backend); with ``--scheduler ADDRESS`` the same jobs go to a
  ``dask.distributed`` cluster through joblib's ``dask`` backend (needs the ``dask`` extra:
  ``pip install -e ".[dask]"``). Workers need the course installed but no shared disk: weights
  come back to the caller, which writes them.

Same configuration, machine, torch build and thread count give identical weights (the
trainer is seeded and deterministic on a CPU); another machine or a GPU gives a different
model of the same quality, whose measurements agree with the shipped ones within seed-to-seed
scatter (``bench/grid_training.py`` checks the whole shipped grid).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

_PRESET = re.compile(r"^(?:grid-)?(x\d+-a\d+-h\d+)(?:-s(\d+))?$")
DEFAULT_OUT = Path("runs") / "grid"


def parse_seeds(spec: str | None) -> list[int] | None:
    """``"0-7"`` -> ``[0, ..., 7]``; ``"0,3,5-6"`` -> ``[0, 3, 5, 6]``; ``None`` -> ``None``."""
    if spec is None:
        return None
    seeds: list[int] = []
    for part in str(spec).split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"--seeds takes numbers and ranges like '0-7' or '0,2,5-6'; "
                             f"got {spec!r}")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"empty seed range {part!r} in {spec!r}")
        seeds.extend(range(lo, hi + 1))
    return sorted(set(seeds))


def expand(points: list[str] | None = None, seeds: list[int] | None = None) -> list[str]:
    """Model names ``grid-x..-a..-h..-sS`` to train.

    ``points`` are preset names (``grid-x50-a60-h2`` or ``x50-a60-h2``) or model names with a
    seed (``grid-x50-a60-h2-s3``). A preset without a seed is trained for ``seeds`` (default:
    the seeds shipped for it, else ``[0, 1]``); a name with a seed is trained for that seed
    only (``seeds``, if given, replaces it). No ``points``: every shipped grid model
    (with ``seeds``: every shipped grid preset, for those seeds).
    """
    from ..train import PRESETS
    from . import grid_names

    shipped = grid_names()
    if not points:
        if seeds is None:
            return shipped
        points = sorted({n.rsplit("-s", 1)[0] for n in shipped})
    names: list[str] = []
    for point in points:
        m = _PRESET.match(point)
        if not m or f"grid-{m.group(1)}" not in PRESETS:
            grid_presets = sorted(k for k in PRESETS if k.startswith("grid-"))
            raise ValueError(f"{point!r} is not a grid preset or model; presets: "
                             f"{', '.join(grid_presets)} (add -sN for one seed)")
        preset = f"grid-{m.group(1)}"
        if seeds is not None:
            use = seeds
        elif m.group(2) is not None:
            use = [int(m.group(2))]
        else:
            use = sorted(int(n.rsplit("-s", 1)[1]) for n in shipped
                         if n.rsplit("-s", 1)[0] == preset) or [0, 1]
        names.extend(f"{preset}-s{s}" for s in use)
    return list(dict.fromkeys(names))


def config_for(name: str, n_tokens: int | None = None):
    """The :class:`~beliefcourse.train.TrainConfig` of model ``name`` (its preset, its seed;
    ``n_tokens`` replaces the budget, for quick tests)."""
    from ..train import PRESETS

    preset, seed = name.rsplit("-s", 1)
    changes = {"seed": int(seed)}
    if n_tokens is not None:
        changes["n_tokens"] = int(n_tokens)
    return PRESETS[preset].replace(**changes)


def final_path(out: Path, name: str, config) -> Path:
    """Where model ``name``'s final checkpoint goes under ``out``."""
    from ..checkpoints import checkpoint_path

    return checkpoint_path(Path(out) / name, config.n_steps * config.tokens_per_step)


def is_finished(out: Path, name: str, config) -> bool:
    """Is ``name``'s final record in ``out``, made with ``config``? (A record made with a
    different configuration raises ``ValueError``: it is never overwritten silently.)"""
    import json

    js = final_path(out, name, config).with_suffix(".json")
    if not js.is_file():
        return False
    saved = json.loads(js.read_text()).get("train_config")
    if saved != config.to_dict():
        diff = sorted(k for k, v in config.to_dict().items() if saved.get(k) != v)
        raise ValueError(f"{js} was made with a different training configuration "
                         f"(fields {diff}); move it away or choose another --out")
    return True


def train_job(name: str, n_tokens: int | None = None, device: str | None = "cpu",
              threads: int = 1) -> dict:
    """Train one grid model (runs in a worker). Returns ``{"name", "state", "record",
    "seconds"}`` with the weights on the CPU."""
    import torch

    from ..train import train

    config = config_for(name, n_tokens)
    command = f"python -m beliefcourse.grid train {name}" + (
        f" --tokens {n_tokens}" if n_tokens is not None else "")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)          # a worker thread (Dask in-process) shares the setting
    try:
        t0 = time.perf_counter()
        result = train(config, device=device, progress=False, command=command)
    finally:
        torch.set_num_threads(before)
    state = {k: v.detach().to("cpu", copy=True) for k, v in result.model.state_dict().items()}
    return {"name": name, "state": state, "record": result.record,
            "seconds": time.perf_counter() - t0}


def write_result(out: Path, result: dict) -> Path:
    """Write a :func:`train_job` result under ``out`` (``.pt`` then ``.json``, each atomic)."""
    from .. import checkpoints
    from ..model import build_model, config_from_dict

    record = result["record"]
    model = build_model(config_from_dict(record["model_config"]), seed=0)
    model.load_state_dict(result["state"])
    path = checkpoints.checkpoint_path(Path(out) / result["name"], record["tokens_seen"])
    return checkpoints.save(path, model, record)


def run(names: list[str], out=DEFAULT_OUT, jobs: int = 1, scheduler: str | None = None,
        device: str | None = "cpu", n_tokens: int | None = None, threads: int = 1,
        log=print) -> dict:
    """Train every model of ``names`` not yet finished in ``out``; see the module docstring.

    Returns ``{"trained": [...], "skipped": [...], "seconds": {name: s}, "wall": s}``.
    """
    from joblib import Parallel, delayed, parallel_config

    from ..devices import pick_device

    if device is not None:
        pick_device(device)                      # fail here, not in every worker
    out = Path(out)
    todo, skipped = [], []
    for name in names:
        (skipped if is_finished(out, name, config_for(name, n_tokens)) else todo).append(name)
    for name in skipped:
        log(f"skip  {name}: finished in {out / name}")
    report = {"trained": [], "skipped": skipped, "seconds": {}, "wall": 0.0}
    if not todo:
        return report
    t0 = time.perf_counter()
    tasks = (delayed(train_job)(name, n_tokens, device, threads) for name in todo)
    if scheduler is not None:
        try:
            from dask.distributed import Client
        except ImportError as err:
            raise ImportError("--scheduler needs dask.distributed: pip install -e '.[dask]'"
                              ) from err
        client = scheduler if not isinstance(scheduler, str) else Client(scheduler)
        try:
            with parallel_config(backend="dask"):
                results = Parallel(n_jobs=-1, return_as="generator_unordered")(tasks)
                _collect(results, out, report, log, len(todo))
        finally:
            if isinstance(scheduler, str):
                client.close()
    else:
        n_jobs = max(1, min(int(jobs), len(todo)))
        with parallel_config(backend="loky" if n_jobs > 1 else "sequential",
                             inner_max_num_threads=threads if n_jobs > 1 else None):
            results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
            _collect(results, out, report, log, len(todo))
    report["wall"] = time.perf_counter() - t0
    return report


def _collect(results, out, report, log, total):
    for i, res in enumerate(results, 1):
        path = write_result(out, res)
        report["trained"].append(res["name"])
        report["seconds"][res["name"]] = res["seconds"]
        log(f"done  {res['name']} ({i}/{total}): relative loss "
            f"{res['record']['relative_loss']:.6f}, {res['seconds']:.0f} s -> {path}")


def main(argv: list[str]) -> int:
    """``python -m beliefcourse.grid train ...`` (see the module docstring)."""
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m beliefcourse.grid train",
        description="Retrain chapter 07's grid models (default: every shipped one); "
                    "finished models in --out are skipped.")
    p.add_argument("points", nargs="*",
                   help="grid presets (grid-x50-a60-h2) or models (grid-x50-a60-h2-s3)")
    p.add_argument("--seeds", help="seeds for the presets, e.g. 0-7 or 0,2,5")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help=f"where model folders go (default {DEFAULT_OUT}; "
                        "beliefcourse/checkpoints/data is the shipped set)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--scheduler", help="a dask.distributed scheduler address, e.g. "
                                       "tcp://host:8786 (runs the jobs on that cluster)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or mps")
    p.add_argument("--threads", type=int, default=1, help="torch threads per job (default 1)")
    p.add_argument("--tokens", type=int, help="replace each preset's token budget (tests)")
    p.add_argument("--dry-run", action="store_true", help="list what would be trained")
    args = p.parse_args(argv)
    names = expand(args.points, parse_seeds(args.seeds))
    if args.dry_run:
        for name in names:
            done = is_finished(Path(args.out), name, config_for(name, args.tokens))
            print(f"{'finished' if done else 'to train'}  {name}")
        return 0
    rep = run(names, args.out, jobs=args.jobs, scheduler=args.scheduler, device=args.device,
              n_tokens=args.tokens, threads=args.threads)
    print(f"trained {len(rep['trained'])}, skipped {len(rep['skipped'])}, "
          f"wall {rep['wall']:.0f} s")
    return 0


__all__ = ["DEFAULT_OUT", "config_for", "expand", "final_path", "is_finished", "main",
           "parse_seeds", "run", "train_job", "write_result"]
