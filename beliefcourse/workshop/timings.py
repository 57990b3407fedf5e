"""Measured execution times of the notebooks, stored in ``instructors/timings.json``.

``python -m beliefcourse.workshop measure [NOTEBOOK ...]`` runs each notebook top to bottom in
a fresh kernel exactly as ``tools/notebooks.py execute`` does (one OpenMP thread, the
notebook's folder as working directory) but on an in-memory copy, so nothing is written back,
and records its wall time together with :func:`beliefcourse.workshop.doctor.bench_step` (the
training-step benchmark ``./course doctor`` scales chapter times by). The instructors' guide
quotes these times; ``./course doctor`` estimates chapter 05 from them.
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
                                resources={"metadata": {"path": str(path.parent)}})
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


def measure(paths: list[Path], root: Path = ROOT, log=print) -> dict:
    """Execute each notebook and store its seconds in the timings file (written after each
    notebook, so an interrupted run keeps what it measured), with a fresh benchmark and a
    description of the machine. A notebook that fails is reported and left out."""
    from nbclient.exceptions import CellExecutionError

    from .doctor import bench_step

    root = Path(root)
    data = read(root)
    data["benchmark"] = {"step_s": round(bench_step(), 4),
                         "what": "median AdamW step, Mess3 transformer, batch 512, 1 thread"}
    data["machine"] = {"cpus": os.cpu_count(), "processor": platform.processor() or
                       platform.machine(), "python": platform.python_version(),
                       "date": _dt.date.today().isoformat(), "threads": 1}
    out = root / TIMINGS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    for p in paths:
        rel = Path(p).resolve().relative_to(root.resolve()).as_posix()
        try:
            _, seconds = execute_copy(Path(p), allow_errors=rel.startswith("exercises/"))
        except CellExecutionError as err:
            failed.append(rel)
            log(f"{rel}: FAILED ({str(err).strip().splitlines()[-1]})")
            continue
        data["notebooks"][rel] = round(seconds, 1)
        data["notebooks"] = dict(sorted(data["notebooks"].items()))
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        log(f"{rel}: {seconds:.1f} s")
    if failed:
        raise RuntimeError(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")
    return data
