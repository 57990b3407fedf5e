"""Redraw time of chapter 08's mixture explorer (the issue asks for <= 0.5 s per redraw).

Builds the widget once, then moves each slider a few times and prints the median time of a
redraw (exact in-context curve by enumeration, the sampled joint beliefs, the figure drawn to
PNG). On the 2-core reference machine under load 5: median 0.19 s, max 0.37 s.

    python bench/mixture_widget.py [--repeats 3] [--length 9]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--length", type=int, default=9)
    args = parser.parse_args()
    from beliefcourse.widgets.incontext import mixture_explorer

    w = mixture_explorer(length=args.length)
    total = []
    for name, values in (("x0", (0.1, 0.05)), ("alpha1", (0.3, 0.6)), ("w0", (0.3, 0.5))):
        for _ in range(args.repeats):
            for v in values:
                t0 = time.perf_counter()
                w.controls[name].value = v
                total.append(time.perf_counter() - t0)
    print(f"median redraw: {statistics.median(total):.2f} s over {len(total)} redraws "
          f"(max {max(total):.2f} s), length {args.length}")


if __name__ == "__main__":
    main()
