"""Command line: ``python -m beliefcourse {train,probe,list,scorecard,paper-weights} ...``
(also ``beliefcourse ...``).

::

    python -m beliefcourse train mess3 --out beliefcourse/checkpoints/data/mess3
    python -m beliefcourse probe mess3 --all --write
    python -m beliefcourse list
    python -m beliefcourse scorecard [--json | --check]
    python -m beliefcourse paper-weights [--offline | --status | --measure --write]
"""

from __future__ import annotations

import argparse
import shlex
import sys


def _train(args) -> int:
    from .train import PRESETS, train

    config = PRESETS[args.preset]
    changes = {k: v for k, v in (("n_tokens", args.tokens), ("seed", args.seed)) if v is not None}
    if changes:
        config = config.replace(**changes)
    out = args.out if args.out is not None else f"runs/{args.preset}"
    command = "python -m beliefcourse " + shlex.join(args.argv)
    result = train(config, out_dir=out, resume=args.resume, device=args.device,
                   progress=not args.no_progress, command=command)
    rec = result.record
    print(f"{config.name}: {rec['tokens_seen']:,} tokens, val loss {rec['val_loss']:.5f} nats "
          f"(optimum {sum(rec['optimal_loss']) / len(rec['optimal_loss']):.5f}), "
          f"relative loss {rec['relative_loss']:.5f}, {rec['wall_seconds']:.0f} s; "
          f"checkpoints in {out}")
    return 0


def _probe(args) -> int:
    from . import checkpoints
    from .probing import probe_checkpoint

    if args.all:
        paths = checkpoints.list_checkpoints(checkpoints.resolve(args.checkpoint).parent)
    else:
        paths = [checkpoints.resolve(args.checkpoint, args.tokens)]
    for path in paths:
        report = probe_checkpoint(path, write=args.write)
        print(f"== {path}")
        print(report.table())
        if args.write:
            print(f"(metrics written to {path.with_suffix('.json')})")
    return 0


def _list(args) -> int:
    from . import checkpoints

    names = checkpoints.available()
    if not names:
        print("no shipped checkpoints; make some with `python -m beliefcourse train PRESET`")
        return 0
    for name in names:
        counts = checkpoints.tokens(name)
        rec = checkpoints.record(name)
        print(f"{name}: {len(counts)} checkpoints at tokens {', '.join(map(str, counts))}")
        print(f"  final: relative loss {rec['relative_loss']:.5f}, val loss "
              f"{rec['val_loss']:.5f} nats, preset {rec['preset']}, "
              f"{rec['wall_seconds']:.0f} s to train")
    return 0


def _scorecard(args) -> int:
    from . import scorecard

    flags = [f for f, on in (("--json", args.json), ("--check", args.check),
                             ("--no-readme", args.no_readme)) if on]
    return scorecard.main(flags)


def _paper_weights(args) -> int:
    from . import paper_weights as pw

    if args.status:
        print(pw.status())
        return 0
    if not pw.fetch(offline=args.offline):
        return 1
    if args.measure:
        measurements = pw.measure()
        if args.write:
            print(f"measurements written to {pw.write_measurements(measurements)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    from .train import PRESETS

    parser = argparse.ArgumentParser(prog="python -m beliefcourse",
                                     description="Train and probe the course's models.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a preset, saving log-spaced checkpoints")
    p.add_argument("preset", choices=sorted(PRESETS))
    p.add_argument("--out", help="checkpoint directory (default runs/PRESET)")
    p.add_argument("--tokens", type=int, help="training tokens (default: the preset's)")
    p.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_train)

    p = sub.add_parser("probe", help="fit belief probes on a checkpoint and print the metrics")
    p.add_argument("checkpoint", help="shipped name (e.g. mess3), directory, or .pt file")
    p.add_argument("--tokens", type=int, help="which checkpoint of a name/directory "
                                              "(default: the last)")
    p.add_argument("--all", action="store_true", help="every checkpoint in that directory")
    p.add_argument("--write", action="store_true",
                   help="store the metrics in each checkpoint's JSON record under 'probe'")
    p.set_defaults(run=_probe)

    p = sub.add_parser("list", help="show the shipped checkpoints")
    p.set_defaults(run=_list)

    p = sub.add_parser("scorecard", help="write the reproduction scorecard of papers (a) and "
                                         "(b): docs/scorecard.md, .json and README's table")
    p.add_argument("--json", action="store_true", help="print the JSON, write nothing")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if docs/scorecard.json is stale (beyond the rows' tolerances)")
    p.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    p.set_defaults(run=_scorecard)

    p = sub.add_parser("paper-weights",
                       help="download, verify (SHA-256) and convert the authors' checkpoints")
    p.add_argument("--offline", action="store_true",
                   help="no network: say what to download and where to put it")
    p.add_argument("--status", action="store_true", help="what is in the cache, verified")
    p.add_argument("--measure", action="store_true",
                   help="then measure them with the course's probe (a few minutes)")
    p.add_argument("--write", action="store_true",
                   help="with --measure: store the numbers where the scorecard reads them")
    p.set_defaults(run=_paper_weights)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m beliefcourse`` and the ``beliefcourse`` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
