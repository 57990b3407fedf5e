#!/usr/bin/env python
"""Build, execute and check the course notebooks.

The ``.py`` files (jupytext percent format) are the sources; the ``.ipynb`` files are what
learners open, stored *with* outputs so that nbval can compare a fresh run against them.

Commands (run from anywhere; paths are relative to the repository root)::

    python tools/notebooks.py build
        1. chapters/NN_slug.py  ->  chapters/NN_slug.ipynb
        2. exercises/source/NN_slug.py  ->  solutions/NN_slug.ipynb  (solution markers removed)
                                        ->  exercises/NN_slug.ipynb  (solution blocks stubbed,
                                                                      cells tagged "solution"
                                                                      dropped)
        Each .ipynb keeps the stored outputs of every cell whose source did not change (like
        ``jupytext --update``); cell tags (e.g. ``nbval-ignore-output``) come from the source.
        Exercises and solutions exist only as notebooks: their text lives in the one source.
        Writes only files whose content changes, so it is idempotent.

    python tools/notebooks.py execute PATH.ipynb [PATH.ipynb ...]
        Runs ``build`` (so the notebook matches its source), then runs each notebook top to
        bottom in a fresh kernel (cwd = the notebook's folder, OMP_NUM_THREADS=1,
        PYTHONHASHSEED=0, the same environment ``./course test`` uses) and stores the outputs
        in place. Exercise notebooks (under exercises/) may raise NotImplementedError (that is
        what the stubs do): such cells get the ``raises-exception`` tag, which nbval honours;
        any other error fails the command. ``execute --all`` runs every notebook.

    python tools/notebooks.py check
        Exits 1, naming the files, if a notebook's cells (type, source, tags) differ from its
        source, a source has no notebook (or a notebook no source), a stale generated .py
        sits in exercises/ or solutions/, a notebook is not normalised (see below), or a
        notebook has code cells that were never executed (stored without outputs).

    python tools/notebooks.py clean  < NOTEBOOK.ipynb  > NORMALISED.ipynb
        The git clean filter ``course-notebook`` (``./course setup`` registers it, and
        ``.gitattributes`` applies it to every .ipynb): what :func:`normalise` does.

Stored notebooks are normalised (:func:`normalise`): widget model ids numbered in order,
content-derived cell ids. A learner who runs a chapter top to bottom once and saves it
changes only the random widget ids JupyterLab draws (JupyterLab does not save widget state
by default); with the clean filter git sees no change at all.

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
import json
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

# The environment nbval *checks* the stored outputs in (tests/conftest.py, ./course test):
# other CPU kernels than the ones that stored them. OpenBLAS (numpy, scipy) is forced to its
# Sandybridge kernels and torch's ATen to its portable (non-SIMD) kernels, so the check
# compares two kernel sets on every x86-64 machine (the outputs are stored with each library's
# native choice, AVX-512 or AVX2). One thread, as when storing: two threads per kernel under
# two xdist workers oversubscribe a 2-core machine (OpenBLAS's threads spin; BLAS-heavy cells
# ran 2.4 times slower), which put CI over its budget; the whole suite passed under two
# threads on 2026-12-06 (CONTRIBUTING.md, "Machine independence").
VARIANT_ENV = {"OPENBLAS_CORETYPE": "Sandybridge", "ATEN_CPU_CAPABILITY": "default",
               "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
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
    """What identifies a cell when outputs are carried over: its type and source."""
    return cell["cell_type"], cell["source"]


def cell_signature(cell) -> tuple[str, str, tuple[str, ...]]:
    """What must agree between a notebook and its source: type, source and tags (except
    ``raises-exception``, which ``execute`` adds to exercise cells)."""
    tags = tuple(t for t in cell.get("metadata", {}).get("tags", []) if t != RAISES_TAG)
    return cell["cell_type"], cell["source"], tags


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
# Cell metadata never stored: execution timing (JupyterLab's recordTiming) and trust flags.
_DROP_CELL_METADATA = ("execution", "trusted")
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
# Widget model ids are 32 hex digits (uuid4().hex); normalised ones count up from 1.
_MODEL_ID = re.compile(r"[0-9a-f]{32}")
_NORMAL_ID = re.compile(r"0{16}[0-9a-f]{16}")


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


def read_percent(text: str):
    """A notebook from percent-format text (jupytext keeps cell tags in cell metadata)."""
    nb = _jupytext().reads(text, fmt=TEXT_FORMAT)
    nb.metadata.pop("jupytext", None)  # the ipynb is not paired through metadata (see README)
    return nb


def read_py(path: Path):
    return read_percent(path.read_text(encoding="utf-8"))


def read_ipynb(path: Path):
    import nbformat  # noqa: PLC0415

    return nbformat.read(path, as_version=4)


def ipynb_text(nb) -> str:
    """The stored form: nbformat's JSON plus a final newline, exactly as JupyterLab and
    ``nbformat.write`` save it (so a save from Lab does not make ``build`` rewrite the file)."""
    import nbformat  # noqa: PLC0415

    normalise(nb)
    return nbformat.writes(nb, version=4) + "\n"


def normalise(nb) -> None:
    """Remove from ``nb`` (in place) what changes between two runs of the same cells, so that
    a notebook that was only run looks to git exactly like the stored one:

    * content-derived cell ids (:func:`_stable_ids`);
    * consecutive stream outputs merged, as JupyterLab saves them (:func:`_merge_streams`);
    * whole-number floats written as ints, as JupyterLab's JavaScript writes them
      (:func:`_js_numbers`);
    * widget model ids renumbered ``000…001``, ``000…002``, … in the order the outputs show
      them (then the models they refer to), in the outputs and in the saved widget state
      alike (:func:`_renumber_widgets`). The ids keep their length (32 characters), so a
      run that only draws new random ids leaves the file's size unchanged, and git, which
      compares sizes first, goes on to compare contents through the clean filter;
    * no per-cell execution timing or trust flag in cell metadata.
    """
    _stable_ids(nb)
    for cell in nb.cells:
        for key in _DROP_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell["outputs"] = _merge_streams(cell.get("outputs", []))
    _renumber_widgets(nb)
    _js_numbers(nb)


def _js_numbers(node) -> None:
    """Whole-number floats as ints, in place (``0.0`` -> ``0``): JupyterLab saves through
    JavaScript, which has one number type, so a float such as a slider's ``min = 0.0`` comes
    back as ``0``."""
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
            node[key] = int(value)
        elif isinstance(value, (dict, list)):
            _js_numbers(value)


def _merge_streams(outputs: list) -> list:
    """Consecutive stream outputs of one name (stdout, stderr) as one output, as JupyterLab
    shows and saves them (nbclient keeps one output per chunk the kernel sent)."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def _renumber_widgets(nb) -> None:
    views = [out["data"][WIDGET_VIEW_MIME] for cell in nb.cells if cell.cell_type == "code"
             for out in cell.get("outputs", [])
             if WIDGET_VIEW_MIME in out.get("data", {})
             and _MODEL_ID.fullmatch(str(out["data"][WIDGET_VIEW_MIME].get("model_id", "")))]
    mapping: dict[str, str] = {}

    def assign(old: str) -> None:
        if old not in mapping:
            mapping[old] = f"{len(mapping) + 1:032x}"

    for view in views:
        assign(view["model_id"])
    doc = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
    state = doc.get("state", {})
    if state and not all(_NORMAL_ID.fullmatch(key) for key in state):
        # A fresh execution: number the models reachable from the displayed ones first
        # (breadth first, references in the order they appear), then any others by key.
        text = {key: json.dumps(value, sort_keys=True) for key, value in state.items()}
        queue = [key for key in mapping if key in state]
        for key in queue:
            for ref in _MODEL_ID.findall(text[key]):
                if ref in state and ref not in mapping:
                    assign(ref)
                    queue.append(ref)
        for key in sorted(state):
            assign(key)

        def rename(match):
            return mapping.get(match.group(0), match.group(0))

        doc["state"] = {mapping[key]: json.loads(_MODEL_ID.sub(rename, text[key]))
                        for key in sorted(state, key=lambda k: mapping[k])}
    for view in views:
        view["model_id"] = mapping[view["model_id"]]


def clean_filter(text: str) -> str:
    """The git clean filter (``./course setup`` registers it; ``.gitattributes`` applies it to
    notebooks): ``text`` normalised as :func:`normalise` does, or unchanged if it is not a
    notebook nbformat can read."""
    import nbformat  # noqa: PLC0415

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception:  # noqa: BLE001  (a filter must never lose the file)
        return text
    return ipynb_text(nb)


def paired_ipynb_text(ipynb: Path, py_text: str) -> str:
    """What ``build`` writes to ``ipynb``: the cells of ``py_text`` (percent format) plus the
    stored outputs of unchanged cells."""
    old = read_ipynb(ipynb) if ipynb.exists() else None
    return ipynb_text(combine(read_percent(py_text), old))


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def practice_text(source: Path, kind: str, root: Path = ROOT) -> str:
    """The percent-format text of the ``"exercise"`` or ``"solution"`` notebook made from the
    exercise source ``source`` (a path, or a name such as ``"02_belief_updating.py"``)."""
    source = Path(source)
    if not source.is_absolute():
        source = root / SOURCE_DIR / source.name
    rel = source.relative_to(root) if source.is_relative_to(root) else source
    return transform(source.read_text(encoding="utf-8"), kind, str(rel))


def notebook_texts(root: Path = ROOT) -> dict[Path, tuple[Path, str]]:
    """Every notebook ``build`` writes: ``{ipynb: (source .py, percent text of its cells)}``.

    chapters/NN.ipynb comes from chapters/NN.py as it is; exercises/NN.ipynb and
    solutions/NN.ipynb from exercises/source/NN.py through :func:`transform`.
    """
    out: dict[Path, tuple[Path, str]] = {}
    for py in sorted((root / "chapters").glob("*.py")):
        out[py.with_suffix(".ipynb")] = (py, py.read_text(encoding="utf-8"))
    for src in sorted((root / SOURCE_DIR).glob("*.py")):
        for kind, folder in (("exercise", "exercises"), ("solution", "solutions")):
            ipynb = (root / folder / src.name).with_suffix(".ipynb")
            out[ipynb] = (src, practice_text(src, kind, root))
    return out


def stale_generated_files(root: Path = ROOT) -> list[Path]:
    """.py files in exercises/ or solutions/ (not exercises/source): the generated twins of an
    older layout, or hand-made files; nothing there is a source."""
    return sorted(p for d in ("exercises", "solutions") for p in (root / d).glob("*.py"))


def build(root: Path = ROOT, verbose: bool = True) -> list[Path]:
    changed = []
    for ipynb, (_, text) in notebook_texts(root).items():
        if _write_if_changed(ipynb, paired_ipynb_text(ipynb, text)):
            changed.append(ipynb)
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

    expected = notebook_texts(root)
    for ipynb, (src, text) in expected.items():
        if not ipynb.exists():
            problems.append(f"{rel(ipynb)}: missing (run `python tools/notebooks.py build`)")
            continue
        stored = read_ipynb(ipynb)
        want = [cell_signature(c) for c in read_percent(text).cells]
        if [cell_signature(c) for c in stored.cells] != want:
            problems.append(f"{rel(ipynb)}: cells differ from {rel(src)} (edit the source, "
                            "then build and execute)")
        missing = unexecuted_cells(stored)
        if missing:
            problems.append(f"{rel(ipynb)}: {len(missing)} code cell(s) without outputs "
                            f"(first: cell {missing[0]}; run execute)")
        if ipynb.read_text(encoding="utf-8") != ipynb_text(read_ipynb(ipynb)):
            problems.append(f"{rel(ipynb)}: not normalised (widget model ids, cell ids; "
                            "run build)")
    for d in NOTEBOOK_DIRS:
        for ipynb in sorted((root / d).glob("*.ipynb")):
            if ipynb not in expected:
                problems.append(f"{rel(ipynb)}: no source (chapters/{ipynb.stem}.py or "
                                f"{SOURCE_DIR / ipynb.with_suffix('.py').name})")
    for py in stale_generated_files(root):
        problems.append(f"{rel(py)}: not a source and no longer generated (exercises and "
                        f"solutions are built from {SOURCE_DIR}); delete it")
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
    sub.add_parser("build", help="write every notebook from its source (chapters/*.py, "
                   "exercises/source/*.py)")
    ex = sub.add_parser("execute", help="build, then run notebooks and store their outputs")
    ex.add_argument("notebooks", nargs="*", type=Path)
    ex.add_argument("--all", action="store_true",
                    help="every notebook in " + ", ".join(NOTEBOOK_DIRS))
    sub.add_parser("check", help="fail if anything is out of sync or unexecuted")
    sub.add_parser("clean", help="git clean filter: normalise the notebook on stdin to stdout")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="repository root (default: this checkout; tests use a temp copy)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    try:
        if args.command == "build":
            build(root)
            return 0
        if args.command == "clean":
            sys.stdout.write(clean_filter(sys.stdin.read()))
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
            paths += list(notebook_texts(root))
        if not paths:
            parser.error("execute needs notebook paths or --all")
        known = notebook_texts(root)
        for p in paths:
            if p not in known:
                parser.error(f"{p}: not a course notebook (chapters/, exercises/ or "
                             "solutions/ with a source)")
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
