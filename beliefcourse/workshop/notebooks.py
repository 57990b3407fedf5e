"""The course's notebooks: where they are, how they are built, run and timed. One module.

Everything that touches a notebook as a file goes through here: ``tools/notebooks.py`` (the
developers' ``build``/``execute``/``check``/``clean``, a thin wrapper around :func:`main`),
``./course test`` (through ``tests/conftest.py``: :data:`VARIANT_ENV`), ``./course progress``
(:func:`run` on a learner's copy), ``python -m beliefcourse.workshop measure`` and
``bench/notebooks.py`` (:func:`time_notebook`), and the workshop catalog (:data:`ROOT`,
:func:`course_notebooks`). It lives in :mod:`beliefcourse.workshop` because it works on a
*course folder* (``chapters/``, ``exercises/``, ``solutions/``), as the other workshop tools
do, not on the science: ``import beliefcourse`` never imports it, and it imports nothing
from ``tests/`` or ``bench/`` (only the standard library at import time; jupytext, nbformat
and nbclient when a function needs them).

The course folder (:func:`course_root`) is ``$BELIEFCOURSE_COURSE`` if set, else the
working directory or the nearest parent of it that holds ``chapters/`` and ``exercises/``
(so an installed package works when run in a course folder), else the checkout this package
is installed from (the course installs itself editable). Its notebooks
(:func:`course_notebooks`) are every ``.ipynb`` in ``chapters/``, ``exercises/`` and
``solutions/``: nothing is listed by hand, so a new chapter (``05b_slug``) is found by
every tool.

The ``.py`` files (jupytext percent format) are the sources; the ``.ipynb`` files are what
learners open, stored *with* outputs so that nbval can compare a fresh run against them.

Commands (``python tools/notebooks.py COMMAND`` or ``python -m
beliefcourse.workshop.notebooks COMMAND``, from anywhere; paths are relative to the course
folder)::

    build
        1. chapters/NN_slug.py  ->  chapters/NN_slug.ipynb
        2. exercises/source/NN_slug.py  ->  solutions/NN_slug.ipynb  (solution markers removed)
                                        ->  exercises/NN_slug.ipynb  (solution blocks stubbed,
                                                                      cells tagged "solution"
                                                                      dropped)
        Each .ipynb keeps the stored outputs of every cell whose type and source did not
        change (:func:`combine`); cell tags (e.g. ``nbval-ignore-output``) come from the
        source. Exercises and solutions exist only as notebooks: their text lives in the one
        source. Writes only files whose content changes, so it is idempotent.

    execute PATH.ipynb [PATH.ipynb ...]
        Runs ``build`` (so the notebook matches its source), then runs each notebook top to
        bottom in a fresh kernel (:func:`run`: cwd = the notebook's folder, :data:`KERNEL_ENV`)
        and stores the outputs in place. Exercise notebooks (under exercises/) may raise
        NotImplementedError (that is what the stubs do): such cells get the
        ``raises-exception`` tag, which nbval honours; any other error fails the command.
        ``execute --all`` runs every notebook.

    check
        Exits 1, naming the files, if a notebook's cells (type, source, tags) differ from its
        source, a source has no notebook (or a notebook no source), a stale generated .py
        sits in exercises/ or solutions/, a notebook is not normalised (see below), or a
        notebook has code cells that were never executed (stored without outputs).

    clean  < NOTEBOOK.ipynb  > NORMALISED.ipynb
        The git clean filter ``course-notebook`` (``./course setup`` registers it, and
        ``.gitattributes`` applies it to every .ipynb): what :func:`normalise` does.

    variant-env
        Prints ``export`` lines for :data:`VARIANT_ENV` (``./course test`` evaluates them).

Stored notebooks are normalised (:func:`normalise`): widget model ids numbered in order,
content-derived cell ids. A learner who runs a chapter top to bottom once and saves it
changes only the random widget ids JupyterLab draws (JupyterLab does not save widget state
by default); with the clean filter git sees no change at all.

Solution markers in an exercise source (whole lines, any indentation)::

    ### BEGIN SOLUTION
    ...                      # kept in solutions/, replaced in exercises/ by
    ### END SOLUTION         #   # YOUR CODE HERE / raise NotImplementedError()

A cell whose percent header carries ``tags=["solution"]`` appears only in solutions/.

What jupytext and nbclient do is used as they do it: jupytext reads the percent format,
nbclient runs the kernel (its ``allow_error_names`` lets an exercise's stubs raise, its
``env`` argument gives the kernel :data:`KERNEL_ENV` without touching this process's
environment). One thing is kept by hand on purpose: :func:`combine`. jupytext's
``combine_inputs_with_outputs`` (what ``jupytext --update`` does) matches cells up to
reformatting and, failing that, by position, so an edited cell would keep the outputs of its
old code; here a cell keeps its outputs only if its type and source are unchanged, so
``check`` reports an edited cell as never executed instead of nbval failing later.
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
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_DIRS = ("chapters", "exercises", "solutions")
SOURCE_DIR = Path("exercises") / "source"
TEXT_FORMAT = "py:percent"
COURSE_ENV_VAR = "BELIEFCOURSE_COURSE"


def _is_course(folder: Path) -> bool:
    return (folder / "chapters").is_dir() and (folder / "exercises").is_dir()


def course_root(start: Path | None = None) -> Path:
    """The course folder: ``$BELIEFCOURSE_COURSE``; else ``start`` (default: the working
    directory) or its nearest parent that holds ``chapters/`` and ``exercises/``; else the
    checkout this package is installed from; else the working directory (a folder without
    notebooks: the tools find none)."""
    explicit = os.environ.get(COURSE_ENV_VAR)
    if explicit:
        return Path(explicit).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_course(folder):
            return folder
    checkout = Path(__file__).resolve().parents[2]
    return checkout if _is_course(checkout) else here


ROOT = course_root()


def course_notebooks(root: Path = ROOT, folders: tuple[str, ...] = NOTEBOOK_DIRS
                     ) -> list[Path]:
    """Every stored notebook of the course: ``chapters/*.ipynb``, then ``exercises/*.ipynb``,
    then ``solutions/*.ipynb`` (or those of ``folders``), each folder in name order."""
    return [p for d in folders for p in sorted((Path(root) / d).glob("*.ipynb"))]


def is_exercise(path: Path) -> bool:
    """A practice notebook with stubs (under ``exercises/``): its cells may raise
    ``NotImplementedError``."""
    return Path(path).resolve().parent.name == "exercises"


BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOLUTION_TAG = "solution"
RAISES_TAG = "raises-exception"

# The environment every notebook runs in when outputs are stored or timed: one OpenMP
# thread, because torch results differ in the last bits between thread counts and two
# kernels with two threads each oversubscribe a 2-core machine; a fixed hash seed so that
# set/dict iteration over strings is reproducible.
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
# The kernel logs only errors: without this every run prints ipykernel's warning that it
# "is running over TCP without encryption" (a local kernel, as JupyterLab starts it).
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]


def kernel_env(extra: dict | None = None) -> dict[str, str]:
    """The environment of a kernel :func:`run` starts: this process's, with
    :data:`KERNEL_ENV` and ``extra`` set and ``MPLBACKEND`` removed (ipykernel selects the
    inline backend only when it is unset; with Agg every figure would be missing)."""
    env = {**os.environ, **KERNEL_ENV, **(extra or {})}
    env.pop("MPLBACKEND", None)
    return env


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
    for ipynb in course_notebooks(root):
        if ipynb not in expected:
            problems.append(f"{rel(ipynb)}: no source (chapters/{ipynb.stem}.py or "
                            f"{SOURCE_DIR / ipynb.with_suffix('.py').name})")
    for py in stale_generated_files(root):
        problems.append(f"{rel(py)}: not a source and no longer generated (exercises and "
                        f"solutions are built from {SOURCE_DIR}); delete it")
    return problems


# --------------------------------------------------------------------------------------
# execute


@dataclass
class Run:
    """A notebook run by :func:`run`: the executed notebook (in memory), the wall seconds
    from starting the kernel to its end, and the CPU seconds (user + system) the kernel
    used."""

    nb: object
    seconds: float
    cpu_seconds: float


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished child processes (the kernels)."""
    import resource  # noqa: PLC0415  (Unix only; the doctor imports this module anywhere)

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path: Path, nb=None, *, allow_errors: bool = False, allow_error_names=(),
        timeout: int = CELL_TIMEOUT_S, env: dict | None = None) -> Run:
    """Run notebook ``path`` (or ``nb``, read from it otherwise) top to bottom in a fresh
    kernel whose working directory is ``path``'s folder and whose environment is
    :func:`kernel_env` (``env`` entries added); nothing is written. An error in a cell
    raises nbclient's ``CellExecutionError`` unless ``allow_errors`` or its name is in
    ``allow_error_names`` (or the cell is tagged ``raises-exception``)."""
    import nbformat  # noqa: PLC0415  (heavy imports, only when needed)
    from nbclient import NotebookClient  # noqa: PLC0415

    path = Path(path).resolve()
    nb = read_ipynb(path) if nb is None else nb
    client = NotebookClient(
        nb, timeout=timeout, allow_errors=allow_errors,
        allow_error_names=list(allow_error_names),
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        record_timing=False,  # no per-cell timestamps in a stored notebook
        resources={"metadata": {"path": str(path.parent)}}, extra_arguments=QUIET_KERNEL)
    cpu0, t0 = _children_cpu(), time.perf_counter()
    client.execute(env=kernel_env(env))
    seconds = time.perf_counter() - t0
    return Run(nbformat.from_dict(nb), seconds, _children_cpu() - cpu0)  # kernel reaped


def execute(path: Path, root: Path = ROOT) -> float:
    """Execute one notebook and store its outputs in place; returns its wall time in
    seconds. An exercise notebook's stubs may raise ``NotImplementedError`` (those cells
    get the ``raises-exception`` tag); any other error raises :class:`RuntimeError`."""
    from nbclient.exceptions import CellExecutionError  # noqa: PLC0415

    path = Path(path).resolve()
    exercise = is_exercise(path)
    nb = read_ipynb(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            _remove_tag(cell, RAISES_TAG)
    try:
        done = run(path, nb, allow_error_names=["NotImplementedError"] if exercise else ())
    except CellExecutionError as exc:
        raise RuntimeError(f"{os.path.relpath(path, root)}: {exc.ename}: {exc.evalue}"
                           + (" (only NotImplementedError may stop an exercise cell)"
                              if exercise else "")) from None
    for cell in done.nb.cells:
        if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs):
            _add_tag(cell, RAISES_TAG)
    _write_if_changed(path, ipynb_text(done.nb))
    return done.seconds


def time_notebook(path: Path, timeout: int = CELL_TIMEOUT_S, root: Path = ROOT) -> dict:
    """Run ``path`` as :func:`execute` does, without saving, and report it: ``{"notebook":
    path relative to root, "seconds": wall, "cpu_seconds": the kernel's CPU time,
    "code_cells", "status": "ok" or the error}``. Never raises for a failing notebook (a
    timeout or a dead kernel is a result to report)."""
    path = Path(path).resolve()
    nb = read_ipynb(path)
    status, seconds, cpu = "ok", 0.0, 0.0
    cpu0, t0 = _children_cpu(), time.perf_counter()
    try:
        done = run(path, nb, timeout=timeout,
                   allow_error_names=["NotImplementedError"] if is_exercise(path) else ())
        seconds, cpu = done.seconds, done.cpu_seconds
    except Exception as exc:  # noqa: BLE001
        name = getattr(exc, "ename", type(exc).__name__)
        message = str(getattr(exc, "evalue", exc)).splitlines()
        status = f"{name}: {message[0][:80] if message else ''}"
        seconds, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    return {"notebook": os.path.relpath(path, root), "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "code_cells": sum(c.cell_type == "code" for c in nb.cells), "status": status}


# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/notebooks.py",
                                     description="Build, execute and check the course "
                                                 "notebooks (beliefcourse.workshop.notebooks).")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="write every notebook from its source (chapters/*.py, "
                   "exercises/source/*.py)")
    ex = sub.add_parser("execute", help="build, then run notebooks and store their outputs")
    ex.add_argument("notebooks", nargs="*", type=Path)
    ex.add_argument("--all", action="store_true",
                    help="every notebook in " + ", ".join(NOTEBOOK_DIRS))
    sub.add_parser("check", help="fail if anything is out of sync or unexecuted")
    sub.add_parser("clean", help="git clean filter: normalise the notebook on stdin to stdout")
    sub.add_parser("variant-env", help="print `export` lines for VARIANT_ENV (./course test)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="course folder (default: %(default)s; tests use a temp copy)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    try:
        if args.command == "build":
            build(root)
            return 0
        if args.command == "clean":
            sys.stdout.write(clean_filter(sys.stdin.read()))
            return 0
        if args.command == "variant-env":
            print("export " + " ".join(f"{k}={v}" for k, v in VARIANT_ENV.items()))
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
