#!/usr/bin/env python
"""How long each notebook takes to run, top to bottom, in a fresh kernel.

    python bench/notebooks.py                      # chapters, exercises, solutions
    python bench/notebooks.py chapters/0[0-4]*.ipynb --json bench-notebooks.json

Each notebook runs as ``tools/notebooks.py execute`` runs it
(``beliefcourse.workshop.notebooks.time_notebook``: a new kernel, the notebook's folder as
working directory, ``KERNEL_ENV``: ``OMP_NUM_THREADS=1``, ``PYTHONHASHSEED=0``). The file is
not modified: the outputs go nowhere. The time is wall-clock from starting the kernel to the
last cell, so it is what a learner waits for with Run All (on an idle machine: other work on
the same cores slows it down). The ``cpu s`` column is the CPU time the kernel used (user +
system, from ``getrusage``): on a machine busy with other jobs it is close to what the wall
time would be on an idle core, since the kernel runs one thread. Exercise notebooks may stop
at stubs (``NotImplementedError``), which is not counted as an error; any other error is
reported in the table and in the exit status.

The course's rule is at most two minutes per notebook on a 2-core CPU; ``--limit`` (default
120 s) marks the notebooks over it, and the exit status is 1 if any is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from beliefcourse.workshop.notebooks import (
    KERNEL_ENV,
    NOTEBOOK_DIRS,
    ROOT,
    course_notebooks,
    time_notebook,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: every notebook in " + ", ".join(NOTEBOOK_DIRS))
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--limit", type=float, default=120.0,
                        help="seconds a notebook may take (default 120)")
    parser.add_argument("--timeout", type=int, default=900, help="per cell, seconds")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or course_notebooks()
    missing = [str(p) for p in paths if p.suffix != ".ipynb" or not p.exists()]
    if missing:
        parser.error(f"not a notebook: {', '.join(missing)}")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{'seconds':>8}  {'cpu s':>7}  {'cells':>5}  notebook  (OMP_NUM_THREADS=1, fresh "
          f"kernel each, {os.cpu_count()} CPUs, load average {load:.1f} at the start)",
          flush=True)
    results = []
    for path in paths:
        r = time_notebook(path, args.timeout, ROOT)
        results.append(r)
        flag = "" if r["status"] == "ok" else f"  [{r['status']}]"
        if r["seconds"] > args.limit:
            flag += f"  [over {args.limit:.0f} s]"
        print(f"{r['seconds']:8.1f}  {r['cpu_seconds']:7.1f}  {r['code_cells']:5d}  "
              f"{r['notebook']}{flag}", flush=True)
    total = sum(r["seconds"] for r in results)
    cpu_total = sum(r["cpu_seconds"] for r in results)
    print(f"{total:8.1f}  {cpu_total:7.1f}         total ({len(results)} notebooks)")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "env": KERNEL_ENV, "limit_seconds": args.limit, "results": results},
            indent=1) + "\n")
    bad = [r for r in results if r["status"] != "ok" or r["seconds"] > args.limit]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
