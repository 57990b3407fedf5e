"""``python -m beliefcourse.workshop COMMAND``: the instructors' tools (``./course`` calls these).

::

    doctor                      check this machine before the workshop
    progress [DIR] [--json] [--chapters 01,02]
                                run a learner's practice notebooks (DIR: default exercises/;
                                relative to the folder ./course was run from), report each
                                exercise; --chapters: only those chapters
    room FILE.json ...          merge learners' `progress --json` files into one table
    slides NN [--out DIR]       build chapter NN's reveal.js deck (default: build/slides/)
    book [--instructors] [--out DIR]
                                build the static HTML book for learners (default:
                                build/book/); --instructors adds the instructors' guide
                                (with the answers; default: build/book-instructors/)
    printout [PLAN ...] [--out DIR]
                                one printable page per plan, with the slide numbers of each
                                block (default: every plan, into build/printouts/)
    guide [--check]             regenerate instructors/ (or only check it is up to date)
    measure [NOTEBOOK ...]      time notebooks into instructors/timings.json (default: all;
                                --from-bench JSON: take bench/notebooks.py's times)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .notebooks import ROOT


def _caller_path(path: str) -> Path:
    """``path`` as the caller meant it: relative to the folder ``./course`` was run from
    (``COURSE_CALLER_DIR``; the script itself runs in the course folder)."""
    return Path(os.environ.get("COURSE_CALLER_DIR", ".")) / path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m beliefcourse.workshop",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check this machine before the workshop")
    pr = sub.add_parser("progress", help="report a learner's exercises")
    pr.add_argument("dir", nargs="?", default=None,
                    help="folder with the learner's NN_slug.ipynb practice notebooks "
                         "(default: the course's exercises/)")
    pr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pr.add_argument("--chapters", help="only these chapters, e.g. 01,02 (after a practice "
                                       "block: only what the room has done)")
    rm = sub.add_parser("room", help="merge learners' progress --json files into one table")
    rm.add_argument("files", nargs="+", help="NAME.json files (the learner is the file's "
                                             "name), or folders of them")
    rm.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sl = sub.add_parser("slides", help="build a chapter's slide deck")
    sl.add_argument("chapters", nargs="*", help="chapter numbers (default: all)")
    sl.add_argument("--out", default=str(ROOT / "build" / "slides"))
    bk = sub.add_parser("book", help="build the static HTML book")
    bk.add_argument("--instructors", action="store_true",
                    help="the instructors' edition: with the guide (discussion answers, "
                         "each checker's diagnoses); not for publishing to learners")
    bk.add_argument("--out", help="default: build/book (learners) or build/book-instructors")
    po = sub.add_parser("printout", help="one printable page per workshop plan")
    po.add_argument("plans", nargs="*", help="e.g. half-day (default: all)")
    po.add_argument("--out", help="default: build/printouts")
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
        folder = _caller_path(args.dir) if args.dir else ROOT / "exercises"
        return progress_main(folder, as_json=args.json, only=args.chapters)
    if args.command == "room":
        from .progress import room_main
        return room_main([_caller_path(f) for f in args.files], as_json=args.json)
    if args.command == "slides":
        from .slides import main as slides_main
        return slides_main(args.chapters, _caller_path(args.out))
    if args.command == "book":
        from .book import build
        index = build(_caller_path(args.out) if args.out else None,
                      instructors=args.instructors)
        edition = "instructors' edition (with the guide and its answers: not for learners)" \
            if args.instructors else "learners' edition (no instructors' guide)"
        print(f"book: {edition}: open {index}")
        return 0
    if args.command == "printout":
        from .printout import main as printout_main
        return printout_main(args.plans, _caller_path(args.out) if args.out else None)
    if args.command == "guide":
        from .guide import main as guide_main
        return guide_main(check=args.check)
    from .doctor import bench_step
    from .notebooks import course_notebooks
    from .timings import import_bench, measure
    if args.from_bench:
        import_bench(_caller_path(args.from_bench), step=bench_step)
        return 0
    measure([_caller_path(p) for p in args.notebooks] or course_notebooks(), step=bench_step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
