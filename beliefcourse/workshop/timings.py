"""Measured run times of the notebooks, stored in ``instructors/timings.json``.

``python -m beliefcourse.workshop measure [NOTEBOOK ...]`` times each notebook with
``bench/notebooks.py`` (a fresh kernel, one OpenMP thread, the notebook's folder as working
directory, nothing written back) and records the kernel's CPU seconds: what the notebook
takes on an idle core, even when the measuring machine is busy. ``measure --from-bench
FILE`` takes the times from that script's ``--json`` output instead. Either way the file also
records :func:`beliefcourse.workshop.doctor.bench_step`, the training-step benchmark by
which ``./course doctor`` scales chapter 05's time to a learner's machine, and the machine.
The instructors' guide quotes these times.

:func:`execute_copy` runs a notebook in memory for ``./course progress``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
from pathlib import Path

from .catalog import ROOT

TIMINGS_FILE = Path("instructors") / "timings.json"
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}  # as tools/notebooks.py
CELL_TIMEOUT_S = 900
# The kernel logs only errors: without this every notebook prints ipykernel's warning that it
# "is running over TCP without encryption" (a local kernel, as JupyterLab starts it).
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]


def execute_copy(path: Path, allow_errors: bool = False, timeout: int = CELL_TIMEOUT_S,
                 env: dict | None = None):
    """Execute notebook ``path`` in memory (cwd = its folder); return ``(notebook, seconds)``.

    The file is never written. ``env`` entries are set for the kernel (and restored after).
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    changes = dict(KERNEL_ENV, **(env or {}))
    saved = {k: os.environ.get(k) for k in [*changes, "MPLBACKEND"]}
    os.environ.update(changes)
    os.environ.pop("MPLBACKEND", None)  # the kernel must pick matplotlib's inline backend
    try:
        client = NotebookClient(nb, timeout=timeout, allow_errors=allow_errors,
                                kernel_name=nb.metadata.get("kernelspec", {}).get("name",
                                                                                  "python3"),
                                record_timing=False,
                                resources={"metadata": {"path": str(path.parent)}},
                                extra_arguments=QUIET_KERNEL)
        t0 = time.perf_counter()
        client.execute()
        return nb, time.perf_counter() - t0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def read(root: Path = ROOT) -> dict:
    path = Path(root) / TIMINGS_FILE
    if not path.exists():
        return {"notebooks": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _bench_run_one(root: Path):
    """``run_one`` of ``bench/notebooks.py`` (the course's one way to time a notebook)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_bench_notebooks",
                                                  Path(root) / "bench" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run_one


def _record_machine(data: dict) -> None:
    from .doctor import bench_step

    data["benchmark"] = {"step_s": round(bench_step(), 4),
                         "what": "median CPU seconds of an AdamW step, Mess3 transformer, "
                                 "batch 512, 1 thread"}
    data["what"] = ("notebooks: CPU seconds of each notebook's kernel, top to bottom, one "
                    "thread (bench/notebooks.py): the wall time on an idle core")
    data["machine"] = {"cpus": os.cpu_count(), "processor": platform.processor() or
                       platform.machine(), "python": platform.python_version(),
                       "date": _dt.date.today().isoformat(), "threads": 1}


def _write(data: dict, root: Path) -> None:
    data["notebooks"] = dict(sorted(data["notebooks"].items()))
    out = Path(root) / TIMINGS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def measure(paths: list[Path], root: Path = ROOT, log=print) -> dict:
    """Time each notebook with ``bench/notebooks.py``'s ``run_one`` (a fresh kernel, one
    thread, nothing saved) and store its seconds in the timings file, written after each
    notebook so an interrupted run keeps what it measured, with a fresh benchmark and a
    description of the machine. A notebook that fails is reported and left out."""
    root = Path(root)
    run_one = _bench_run_one(root)
    data = read(root)
    _record_machine(data)
    os.environ.update(KERNEL_ENV)
    os.environ.pop("MPLBACKEND", None)
    failed = []
    for p in paths:
        rel = Path(p).resolve().relative_to(root.resolve()).as_posix()
        result = run_one(Path(p).resolve(), CELL_TIMEOUT_S)
        if result["status"] != "ok":
            failed.append(rel)
            log(f"{rel}: FAILED ({result['status']})")
            continue
        data["notebooks"][rel] = result["cpu_seconds"]
        _write(data, root)
        log(f"{rel}: {result['cpu_seconds']:.1f} s CPU ({result['seconds']:.1f} s wall)")
    if failed:
        raise RuntimeError(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")
    return data


def import_bench(path: Path, root: Path = ROOT) -> dict:
    """Take the CPU times of the notebooks that ran without error from a JSON file written by
    ``python bench/notebooks.py --json FILE`` (on this machine), and time the benchmark."""
    results = json.loads(Path(path).read_text(encoding="utf-8"))["results"]
    data = read(root)
    for r in results:
        if r["status"] == "ok":
            data["notebooks"][Path(r["notebook"]).as_posix()] = r["cpu_seconds"]
    _record_machine(data)
    _write(data, root)
    return data
