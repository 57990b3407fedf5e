#!/usr/bin/env python
"""The whole test suite at two commits, side by side: has it become slower?

    python bench/suite.py BASE [HEAD] [--rounds 2]

Each commit is checked out into a temporary git worktree that shares this checkout's
``.venv``, and runs its own ``./course test`` (``COURSE_SKIP_SETUP=1``; Hypothesis's
derandomized ``ci`` profile; ``--only PATH`` times only those paths). BASE and HEAD
alternate, so that a slow spell of a shared machine falls on both. For each run it prints the
wall time and the sum of the test durations (from a JUnit report: how much work the suite
is, whatever the two workers' luck in sharing the files), then the ratios HEAD / BASE of the
means. HEAD is a commit: uncommitted changes are not measured. Run it on an idle machine;
one round is two suites, about 12 minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from beliefcourse.workshop.notebooks import ROOT


def run_suite(tree: Path, report: Path, only: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, summed test seconds, number of tests, exit status) of one suite."""
    env = dict(os.environ, COURSE_SKIP_SETUP="1", HYPOTHESIS_PROFILE="ci", PYTHONPATH=str(tree))
    cmd = ["bash", "course", "test", *only, "-q", "-p", "no:cacheprovider",
           f"--junitxml={report}"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    cases = list(ET.parse(report).getroot().iter("testcase")) if report.exists() else []
    return wall, sum(float(c.get("time", 0)) for c in cases), len(cases), done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the commit to compare against")
    parser.add_argument("head", nargs="?", default="HEAD", help="default: HEAD")
    parser.add_argument("--rounds", type=int, default=2, help="suites per commit (default 2)")
    parser.add_argument("--only", action="append", default=[], metavar="PATH",
                        help="time only this test path (repeatable); default: everything")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    commits = {}
    for label in ("base", "head"):
        rev = getattr(args, label)
        found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                               capture_output=True, text=True)
        if found.returncode:
            parser.error(f"{rev!r} is not a commit of {ROOT}")
        commits[label] = found.stdout.strip()
    runs = {"base": [], "head": []}
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        trees = {label: Path(tmp) / label for label in commits}
        for label, tree in trees.items():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(tree), commits[label]], check=True)
            (tree / ".venv").symlink_to(ROOT / ".venv")
        try:
            for r in range(args.rounds):
                for label in ("base", "head"):
                    wall, work, n, status = run_suite(trees[label], Path(tmp) / f"{label}.xml",
                                                   args.only)
                    runs[label].append((wall, work))
                    print(f"round {r + 1}, {label} {commits[label]}: {wall:5.0f} s wall, "
                          f"{work:5.0f} s of tests ({n} tests), exit {status}", flush=True)
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)
    for i, what in enumerate(("wall time", "test time")):
        base, head = (statistics.mean(run[i] for run in runs[k]) for k in ("base", "head"))
        print(f"{what}: head / base = {head / base:.3f} ({head:.0f} s against {base:.0f} s, "
              f"mean of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
