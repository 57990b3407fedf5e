#!/usr/bin/env python
"""Build, execute and check the course notebooks.

The ``.py`` files (jupytext percent format) are the sources; the ``.ipynb`` files are what
learners open, stored *with* outputs so that nbval can compare a fresh run against them.

Commands (run from anywhere; paths are relative to the repository root)::

    python tools/notebooks.py build
        1. exercises/source/NN_slug.py  ->  solutions/NN_slug.py   (solution markers removed)
                                        ->  exercises/NN_slug.py   (solution blocks stubbed,
                                                                    cells tagged "solution" dropped)
        2. every .py in chapters/, exercises/, solutions/  ->  its .ipynb, keeping the stored
           outputs of every cell whose source did not change (like ``jupytext --update``).
        Writes only files whose content changes, so it is idempotent.

    python tools/notebooks.py execute PATH.ipynb [PATH.ipynb ...]
        Runs ``build`` (so the notebook matches its .py), then runs each notebook top to bottom
        in a fresh kernel (cwd = the notebook's folder, OMP_NUM_THREADS=1, PYTHONHASHSEED=0,
        the same environment ``./course test`` uses) and stores the outputs in place. The .py
        is not touched (execution changes no source). Exercise notebooks (under exercises/)
        may raise NotImplementedError (that is what the stubs do): such cells get the
        ``raises-exception`` tag, which nbval honours; any other error fails the command.
        ``execute --all`` runs every notebook.

    python tools/notebooks.py check
        Exits 1, naming the files, if a generated file differs from what ``build`` would write,
        an .ipynb's cells differ from its .py, a .py has no .ipynb (or the reverse), or a
        notebook has code cells that were never executed (stored without outputs).

Solution markers in an exercise source (whole lines, any indentation)::

    ### BEGIN SOLUTION
    ...                      # kept in solutions/, replaced in exercises/ by
    ### END SOLUTION         #   # YOUR CODE HERE / raise NotImplementedError()

A cell whose percent header carries ``tags=["solution"]`` appears only in solutions/.
Only the standard library, jupytext, nbformat and nbclient are used.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("chapters", "exercises", "solutions")
SOURCE_DIR = Path("exercises") / "source"
TEXT_FORMAT = "py:percent"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOLUTION_TAG = "solution"
RAISES_TAG = "raises-exception"

# The environment every notebook runs in, here and under nbval (tests/conftest.py sets the
# same values): one OpenMP thread, because torch results differ in the last bits between
# thread counts and two kernels with two threads each oversubscribe a 2-core machine; a fixed
# hash seed so that set/dict iteration over strings is reproducible.
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
CELL_TIMEOUT_S = 900  # per cell; the whole notebook should take under two minutes

_HEADER = re.compile(r"^# %%(.*)$")
_TAGS = re.compile(r"tags\s*=\s*\[([^\]]*)\]")


class BuildError(ValueError):
    """A malformed exercise source (unbalanced or nested solution markers)."""


# --------------------------------------------------------------------------------------
# exercise source -> exercise / solution text


def _is_solution_header(line: str) -> bool:
    m = _HEADER.match(line)
    if not m:
        return False
    tags = _TAGS.search(m.group(1))
    if not tags:
        return False
    names = [t.strip().strip("'\"") for t in tags.group(1).split(",")]
    return SOLUTION_TAG in names


def transform(text: str, kind: str, name: str = "<source>") -> str:
    """Turn an exercise source into the ``"exercise"`` or the ``"solution"`` text.

    Raises :class:`BuildError` on a marker without its partner, on nested markers, and on a
    block left open at the next cell header.
    """
    if kind not in ("exercise", "solution"):
        raise ValueError(f"kind must be 'exercise' or 'solution', not {kind!r}")
    out: list[str] = []
    lines = text.splitlines()
    in_block = False
    block_start = 0
    dropping_cell = False
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if _HEADER.match(line):
            if in_block:
                raise BuildError(f"{name}:{block_start}: {BEGIN} not closed before the next cell")
            dropping_cell = kind == "exercise" and _is_solution_header(line)
            if dropping_cell:  # the cell goes, up to the next header (its trailing blanks too)
                continue
        if stripped == BEGIN:
            if in_block:
                raise BuildError(f"{name}:{lineno}: nested {BEGIN} (open since line {block_start})")
            in_block, block_start = True, lineno
            if kind == "exercise" and not dropping_cell:
                indent = line[: len(line) - len(line.lstrip())]
                out.extend(indent + s for s in STUB)
            continue
        if stripped == END:
            if not in_block:
                raise BuildError(f"{name}:{lineno}: {END} without {BEGIN}")
            in_block = False
            continue
        if dropping_cell or (in_block and kind == "exercise"):
            continue
        out.append(line)
    if in_block:
        raise BuildError(f"{name}:{block_start}: {BEGIN} is never closed")
    if dropping_cell:
        # Keep the file ending in one newline after a dropped last cell.
        while out and not out[-1].strip():
            out.pop()
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# .py -> .ipynb, keeping outputs


def _jupytext():
    import jupytext  # noqa: PLC0415  (heavy import, only when needed)

    return jupytext


def _cell_key(cell) -> tuple[str, str]:
    return cell["cell_type"], cell["source"]


def _stable_ids(nb) -> None:
    """Content-derived cell ids: the same source always gives the same id (no random diffs)."""
    seen: dict[str, int] = {}
    for cell in nb.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\0{cell.source}".encode()).hexdigest()[:8]
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        cell["id"] = digest if n == 0 else f"{digest}-{n}"


# Notebook-level metadata that only execution produces; kept from the stored notebook.
_KEEP_NB_METADATA = ("language_info", "widgets")


def combine(new_nb, old_nb):
    """Copy outputs (and execution counts, and the raises-exception tag) from ``old_nb`` into
    the cells of ``new_nb`` whose type and source are unchanged; cells are matched in order
    with :class:`difflib.SequenceMatcher`, so inserting or deleting a cell keeps the others."""
    if old_nb is None:
        return new_nb
    new_keys = [_cell_key(c) for c in new_nb.cells]
    old_keys = [_cell_key(c) for c in old_nb.cells]
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            old, new = old_nb.cells[block.a + k], new_nb.cells[block.b + k]
            if new.cell_type != "code":
                if "attachments" in old:
                    new["attachments"] = old["attachments"]
                continue
            new["outputs"] = old.get("outputs", [])
            new["execution_count"] = old.get("execution_count")
            if RAISES_TAG in old.metadata.get("tags", []):
                _add_tag(new, RAISES_TAG)
    for key in _KEEP_NB_METADATA:
        if key in old_nb.metadata:
            new_nb.metadata[key] = old_nb.metadata[key]
    return new_nb


def _add_tag(cell, tag: str) -> None:
    tags = list(cell.metadata.get("tags", []))
    if tag not in tags:
        tags.append(tag)
    cell.metadata["tags"] = tags


def _remove_tag(cell, tag: str) -> None:
    tags = [t for t in cell.metadata.get("tags", []) if t != tag]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)


def read_py(path: Path, text: str | None = None):
    jt = _jupytext()
    nb = jt.reads(path.read_text(encoding="utf-8") if text is None else text, fmt=TEXT_FORMAT)
    nb.metadata.pop("jupytext", None)  # the ipynb is not paired through metadata (see README)
    return nb


def read_ipynb(path: Path):
    import nbformat  # noqa: PLC0415

    return nbformat.read(path, as_version=4)


def ipynb_text(nb) -> str:
    """The stored form: nbformat's JSON plus a final newline, exactly as JupyterLab and
    ``nbformat.write`` save it (so a save from Lab does not make ``build`` rewrite the file)."""
    import nbformat  # noqa: PLC0415

    _stable_ids(nb)
    return nbformat.writes(nb, version=4) + "\n"


def paired_ipynb_text(py: Path, py_text: str | None = None) -> str:
    """What ``build`` writes for ``py``: its cells plus the stored outputs of unchanged cells."""
    ipynb = py.with_suffix(".ipynb")
    old = read_ipynb(ipynb) if ipynb.exists() else None
    return ipynb_text(combine(read_py(py, py_text), old))


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def generated_texts(root: Path = ROOT) -> dict[Path, str]:
    """Every generated .py (exercises/, solutions/) and the text ``build`` gives it."""
    out: dict[Path, str] = {}
    for src in sorted((root / SOURCE_DIR).glob("*.py")):
        text = src.read_text(encoding="utf-8")
        rel = src.relative_to(root)
        out[root / "solutions" / src.name] = transform(text, "solution", str(rel))
        out[root / "exercises" / src.name] = transform(text, "exercise", str(rel))
    return out


def notebook_sources(root: Path = ROOT) -> list[Path]:
    """Every paired .py: chapters/*.py, exercises/*.py, solutions/*.py (not exercises/source)."""
    return sorted(p for d in NOTEBOOK_DIRS for p in (root / d).glob("*.py"))


def build(root: Path = ROOT, verbose: bool = True) -> list[Path]:
    changed = []
    for path, text in generated_texts(root).items():
        if _write_if_changed(path, text):
            changed.append(path)
    for py in notebook_sources(root):
        if _write_if_changed(py.with_suffix(".ipynb"), paired_ipynb_text(py)):
            changed.append(py.with_suffix(".ipynb"))
    if verbose:
        for p in changed:
            print(f"wrote {p.relative_to(root)}")
        print(f"build: {len(changed)} file(s) changed")
    return changed


# --------------------------------------------------------------------------------------
# check


def unexecuted_cells(nb) -> list[int]:
    """Indices of code cells never executed (nbval would not compare them)."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None]


def check(root: Path = ROOT) -> list[str]:
    """Problems, one line each (empty when everything is in sync)."""
    problems = []

    def rel(p: Path) -> str:
        return str(p.relative_to(root))

    for path, text in generated_texts(root).items():
        if not path.exists():
            problems.append(f"{rel(path)}: missing (run `python tools/notebooks.py build`)")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{rel(path)}: differs from what build generates from "
                            f"{SOURCE_DIR / path.name} (edit the source, then build)")
    pys = notebook_sources(root)
    for py in pys:
        ipynb = py.with_suffix(".ipynb")
        if not ipynb.exists():
            problems.append(f"{rel(ipynb)}: missing (run `python tools/notebooks.py build`)")
            continue
        stored = read_ipynb(ipynb)
        if [_cell_key(c) for c in stored.cells] != [_cell_key(c) for c in read_py(py).cells]:
            problems.append(f"{rel(ipynb)}: cells differ from {rel(py)} (run build, then execute)")
        missing = unexecuted_cells(stored)
        if missing:
            problems.append(f"{rel(ipynb)}: {len(missing)} code cell(s) without outputs "
                            f"(first: cell {missing[0]}; run execute)")
    for d in NOTEBOOK_DIRS:
        for ipynb in sorted((root / d).glob("*.ipynb")):
            if not ipynb.with_suffix(".py").exists():
                problems.append(f"{rel(ipynb)}: no {ipynb.with_suffix('.py').name} source")
    return problems


# --------------------------------------------------------------------------------------
# execute


def execute(path: Path, root: Path = ROOT) -> float:
    """Execute one notebook in place; returns its wall time in seconds."""
    import nbformat  # noqa: PLC0415
    from nbclient import NotebookClient  # noqa: PLC0415

    path = path.resolve()
    is_exercise = path.parent == (root / "exercises").resolve()
    nb = read_ipynb(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            _remove_tag(cell, RAISES_TAG)
    os.environ.update(KERNEL_ENV)
    os.environ.pop("MPLBACKEND", None)  # ipykernel picks the inline backend only when unset
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        allow_errors=is_exercise,
        record_timing=False,  # no per-cell timestamps in the stored notebook
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - t0
    if is_exercise:
        bad = []
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if not errors:
                continue
            if all(o.ename == "NotImplementedError" for o in errors):
                _add_tag(cell, RAISES_TAG)
            else:
                bad.append(f"cell {i}: {errors[0].ename}: {errors[0].evalue}")
        if bad:
            raise RuntimeError(f"{os.path.relpath(path, root)}: errors other than "
                               f"NotImplementedError:\n  " + "\n  ".join(bad))
    _write_if_changed(path, ipynb_text(nbformat.from_dict(nb)))
    return wall


# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="generate exercises/solutions and pair every .py with its .ipynb")
    ex = sub.add_parser("execute", help="build, then run notebooks and store their outputs")
    ex.add_argument("notebooks", nargs="*", type=Path)
    ex.add_argument("--all", action="store_true",
                    help="every notebook in " + ", ".join(NOTEBOOK_DIRS))
    sub.add_parser("check", help="fail if anything is out of sync or unexecuted")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="repository root (default: this checkout; tests use a temp copy)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    try:
        if args.command == "build":
            build(root)
            return 0
        if args.command == "check":
            problems = check(root)
            for p in problems:
                print(p)
            print("check: OK" if not problems else f"check: {len(problems)} problem(s)")
            return 1 if problems else 0
        # execute
        paths = [p.resolve() for p in args.notebooks]
        if args.all:
            paths += [py.with_suffix(".ipynb") for py in notebook_sources(root)]
        if not paths:
            parser.error("execute needs notebook paths or --all")
        for p in paths:
            if p.suffix != ".ipynb" or not p.with_suffix(".py").exists():
                parser.error(f"{p}: expected an .ipynb next to its .py source")
        build(root, verbose=False)
        total = 0.0
        for p in paths:
            wall = execute(p, root)
            total += wall
            print(f"{wall:7.1f} s  {os.path.relpath(p, root)}", flush=True)
        print(f"{total:7.1f} s  total ({len(paths)} notebook(s))")
        return 0
    except (BuildError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
