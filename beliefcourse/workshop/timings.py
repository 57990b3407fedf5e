"""Measured run times of the notebooks: one measurement, one unit, one file.

The unit is the **CPU seconds of the notebook's kernel** (user + system), running the
notebook top to bottom in a fresh kernel with one thread:
:func:`beliefcourse.workshop.notebooks.time_notebook`, which ``python -m
beliefcourse.workshop measure [NOTEBOOK ...]`` and ``bench/notebooks.py`` call. A one-thread
kernel's CPU seconds are what Run All takes on an idle core (its wall time can only be
longer, never shorter). They go to ``instructors/timings.json`` together with the
training-step benchmark by which ``./course doctor`` scales chapter 05's time to a learner's
machine (``step``, :func:`beliefcourse.workshop.doctor.bench_step`, passed in by the
command line: the doctor reads this file, so this module does not import the doctor),
measured in the same run, and a description of the machine (with its load average at the
start: measure on an idle machine). ``measure --from-bench FILE`` takes the times from
``bench/notebooks.py --json`` output instead.

Everything that quotes a run time reads this file: the instructors' guide, the doctor, and
README's "Notebook run times" paragraph, which :func:`readme_paragraph` renders and
``tests/workshop/test_run_times.py`` requires verbatim in README.md.

A chapter's stated reading time is measured too, by one rule (:func:`reading_minutes`): a
careful first read of technical prose at 100 words a minute plus code at 10 lines a minute
(what the chapters' authors timed themselves at); ``tests/workshop/test_run_times.py`` holds
each chapter's opening line to it and to its measured running time.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path

from .notebooks import CELL_TIMEOUT_S, ROOT, time_notebook

TIMINGS_FILE = Path("instructors") / "timings.json"
WHAT = ("notebooks: CPU seconds (user + system) of each notebook's kernel, top to bottom, in a "
        "fresh kernel with one thread (beliefcourse.workshop.notebooks.time_notebook); what "
        "Run All takes on an idle core")


WORDS_PER_MINUTE = 100
CODE_LINES_PER_MINUTE = 10


def reading_minutes(notebook: Path) -> tuple[float, int, int]:
    """``(minutes, words, code lines)`` to read ``notebook``: its markdown cells' words at
    :data:`WORDS_PER_MINUTE` plus its code cells' non-blank, non-comment lines at
    :data:`CODE_LINES_PER_MINUTE`."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    words = code = 0
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            words += len(text.split())
        elif cell["cell_type"] == "code":
            code += sum(1 for line in text.splitlines()
                        if line.strip() and not line.lstrip().startswith("#"))
    return words / WORDS_PER_MINUTE + code / CODE_LINES_PER_MINUTE, words, code


def read(root: Path = ROOT) -> dict:
    path = Path(root) / TIMINGS_FILE
    if not path.exists():
        return {"notebooks": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _record_machine(data: dict, step: Callable[[], float]) -> None:
    data["benchmark"] = {"step_s": round(step(), 4),
                         "what": "median CPU seconds of an AdamW step, Mess3 transformer, "
                                 "batch 512, 1 thread"}
    data["what"] = WHAT
    data["machine"] = {"cpus": os.cpu_count(), "processor": platform.processor() or
                       platform.machine(), "python": platform.python_version(),
                       "date": _dt.date.today().isoformat(), "threads": 1,
                       "load": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg")
                       else None}


def _write(data: dict, root: Path) -> None:
    data["notebooks"] = dict(sorted(data["notebooks"].items()))
    out = Path(root) / TIMINGS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def measure(paths: list[Path], step: Callable[[], float], root: Path = ROOT,
            log=print) -> dict:
    """Time each notebook with :func:`~beliefcourse.workshop.notebooks.time_notebook` (a
    fresh kernel, one thread, nothing saved) and store its seconds in the timings file,
    written after each notebook so an interrupted run keeps what it measured, with a fresh
    benchmark (``step()``: CPU seconds of a training step) and a description of the machine.
    A notebook that fails is reported and left out."""
    root = Path(root)
    data = read(root)
    _record_machine(data, step)
    failed = []
    for p in paths:
        rel = Path(p).resolve().relative_to(root.resolve()).as_posix()
        result = time_notebook(Path(p), CELL_TIMEOUT_S, root)
        if result["status"] != "ok":
            failed.append(rel)
            log(f"{rel}: FAILED ({result['status']})")
            continue
        if result["cpu_seconds"] > 1.1 * result["seconds"] + 1:
            log(f"{rel}: {result['cpu_seconds']:.1f} s CPU in {result['seconds']:.1f} s wall: "
                "the kernel used more than one thread; not recorded")
            failed.append(rel)
            continue
        data["notebooks"][rel] = result["cpu_seconds"]
        _write(data, root)
        log(f"{rel}: {result['cpu_seconds']:.1f} s CPU ({result['seconds']:.1f} s wall)")
    if failed:
        raise RuntimeError(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")
    return data


def import_bench(path: Path, step: Callable[[], float], root: Path = ROOT) -> dict:
    """Take the CPU times of the notebooks that ran without error from a JSON file written by
    ``python bench/notebooks.py --json FILE`` (on this machine), and time the benchmark
    (``step()``)."""
    results = json.loads(Path(path).read_text(encoding="utf-8"))["results"]
    data = read(root)
    for r in results:
        if r["status"] == "ok":
            data["notebooks"][Path(r["notebook"]).as_posix()] = r["cpu_seconds"]
    _record_machine(data, step)
    _write(data, root)
    return data


def _s(seconds: float) -> str:
    return f"{seconds:.0f} s"


def readme_paragraph(data: dict) -> str:
    """README's "Notebook run times" paragraph, from the timings file's ``data``."""
    nbs = data["notebooks"]
    m = data.get("machine", {})
    chapter_times = ", ".join(f"{Path(k).name.split('_')[0]} {_s(v)}"
                              for k, v in sorted(nbs.items()) if k.startswith("chapters/"))
    practice = [v for k, v in nbs.items() if not k.startswith("chapters/")]
    load = f", load average {m['load']} at the start" if m.get("load") is not None else ""
    lines = [
        "One measurement, one unit, one source: `instructors/timings.json`, which this "
        "paragraph, the instructors' guide and `./course doctor` all read. The unit is the "
        "CPU seconds of a notebook's kernel running it top to bottom in a fresh kernel with "
        "one thread (`python -m beliefcourse.workshop measure`, which times it as "
        "`bench/notebooks.py` does, with `beliefcourse.workshop.notebooks`): what Run All "
        "takes on an idle core. Measured on "
        f"{m.get('date', '?')} on a {m.get('cpus', '?')}-core {m.get('processor', '?')} "
        f"machine with Python {m.get('python', '?')}{load}:",
        "",
        f"- chapters: {chapter_times};",
    ]
    if practice:
        lines.append(f"- solutions of the practice notebooks: at most {_s(max(practice))} "
                     "each.")
    rule = ("Every notebook is under two minutes. " if max(nbs.values(), default=0) < 120
            else "")
    lines += ["", f"{rule}`./course doctor` scales chapter 05's time to your machine by a "
              "training-step benchmark measured in the same run."]
    return _wrap("\n".join(lines)) + "\n"


def _wrap(text: str, width: int = 92) -> str:
    import textwrap

    out = []
    for para in text.split("\n"):
        indent = "  " if para.startswith("- ") else ""
        out.append(textwrap.fill(para, width, subsequent_indent=indent) if para else "")
    return "\n".join(out)
