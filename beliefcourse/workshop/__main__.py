"""``python -m beliefcourse.workshop COMMAND``: the instructors' tools (``./course`` calls these).

::

    doctor                      check this machine before the workshop
    progress [DIR] [--json]     run a learner's practice notebooks, report each exercise
    slides NN [--out DIR]       build chapter NN's reveal.js deck (default: build/slides/)
    book [--out DIR]            build the static HTML book (default: build/book/)
    guide [--check]             regenerate instructors/ (or only check it is up to date)
    measure [NOTEBOOK ...]      time notebooks into instructors/timings.json (default: all;
                                --from-bench JSON: take bench/notebooks.py's times)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalog import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m beliefcourse.workshop",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check this machine before the workshop")
    pr = sub.add_parser("progress", help="report a learner's exercises")
    pr.add_argument("dir", nargs="?", default=str(ROOT / "exercises"),
                    help="folder with the learner's NN_slug.ipynb practice notebooks")
    pr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pr.add_argument("--chapters", help="only these chapters, e.g. 01,02")
    sl = sub.add_parser("slides", help="build a chapter's slide deck")
    sl.add_argument("chapters", nargs="*", help="chapter numbers (default: all)")
    sl.add_argument("--out", default=str(ROOT / "build" / "slides"))
    bk = sub.add_parser("book", help="build the static HTML book")
    bk.add_argument("--out", default=str(ROOT / "build" / "book"))
    gd = sub.add_parser("guide", help="regenerate the instructors' guide")
    gd.add_argument("--check", action="store_true", help="exit 1 if it is out of date")
    me = sub.add_parser("measure", help="time notebooks into instructors/timings.json")
    me.add_argument("notebooks", nargs="*")
    me.add_argument("--from-bench", metavar="JSON",
                    help="take the times from `python bench/notebooks.py --json JSON`")
    args = parser.parse_args(argv)

    if args.command == "doctor":
        from .doctor import run
        return run()
    if args.command == "progress":
        from .progress import main as progress_main
        return progress_main(Path(args.dir), as_json=args.json, only=args.chapters)
    if args.command == "slides":
        from .slides import main as slides_main
        return slides_main(args.chapters, Path(args.out))
    if args.command == "book":
        from .book import build
        index = build(Path(args.out))
        print(f"book: open {index}")
        return 0
    if args.command == "guide":
        from .guide import main as guide_main
        return guide_main(check=args.check)
    from .timings import import_bench, measure
    if args.from_bench:
        import_bench(Path(args.from_bench))
        return 0
    paths = [Path(p) for p in args.notebooks] or sorted(
        p for d in ("chapters", "exercises", "solutions") for p in (ROOT / d).glob("*.ipynb"))
    measure(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
