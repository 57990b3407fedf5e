"""The notebooks are in sync with their sources (the contract in CONTRIBUTING.md, "Notebooks").

* the build transformation itself, on tiny synthetic sources;
* ``build`` keeps outputs of unchanged cells and is idempotent (on a temporary tree);
* in this checkout: generated exercises/solutions equal what ``build`` makes of
  exercises/source, exercises carry no solution code, every .py has an .ipynb with the same
  cells, and every notebook is stored executed (nbval compares only executed cells).

Whether the stored outputs are *right* is nbval's job:
``pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
chapters exercises solutions`` (``./course test`` runs it).
"""

from __future__ import annotations

import re
import textwrap

import nbformat
import notebooks as nbtool  # tools/notebooks.py, put on sys.path by conftest.py
import pytest
from conftest import REPO_ROOT

HEADER = textwrap.dedent("""\
    # ---
    # jupyter:
    #   kernelspec:
    #     display_name: Python 3 (ipykernel)
    #     language: python
    #     name: python3
    # ---
    """)

SOURCE = HEADER + textwrap.dedent('''\

    # %% [markdown]
    # # Practice

    # %%
    import numpy as np


    def update(belief, T, token):
        """Docstring stays."""
        ### BEGIN SOLUTION
        new = belief @ T[token]
        return new / new.sum()
        ### END SOLUTION


    class Walker:
        def step(self):
            if True:
                ### BEGIN SOLUTION
                return 1
                ### END SOLUTION

    # %% tags=["solution"]
    print("worked answer")

    # %%
    ### BEGIN SOLUTION
    ANSWER = 42
    ### END SOLUTION
    print("done")
    ''')


# --------------------------------------------------------------------------------------
# the transformation


def test_solution_keeps_code_and_drops_markers():
    sol = nbtool.transform(SOURCE, "solution")
    assert "### BEGIN SOLUTION" not in sol and "### END SOLUTION" not in sol
    assert "    new = belief @ T[token]\n    return new / new.sum()\n" in sol
    assert 'print("worked answer")' in sol
    assert sol == "".join(line for line in SOURCE.splitlines(keepends=True)
                          if line.strip() not in (nbtool.BEGIN, nbtool.END))


def test_exercise_stubs_at_the_marker_indentation():
    ex = nbtool.transform(SOURCE, "exercise")
    assert ('    """Docstring stays."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
            in ex)
    assert "            # YOUR CODE HERE\n            raise NotImplementedError()\n" in ex
    assert "# %%\n# YOUR CODE HERE\nraise NotImplementedError()\nprint(\"done\")\n" in ex
    for solution_line in ("belief @ T[token]", "new.sum()", "return 1", "ANSWER = 42"):
        assert solution_line not in ex
    assert "BEGIN SOLUTION" not in ex and "END SOLUTION" not in ex


def test_exercise_drops_solution_tagged_cells():
    ex = nbtool.transform(SOURCE, "exercise")
    assert "worked answer" not in ex and 'tags=["solution"]' not in ex
    # the cell after the dropped one is intact and still separated by a blank line
    assert "raise NotImplementedError()\n\n# %%\n# YOUR CODE HERE" in ex


def test_solution_tagged_cell_variants():
    for header in ('# %% tags=["solution"]', "# %% tags=['hint', 'solution']",
                   '# %% [markdown] tags=["solution"]', '# %% tags=["solution"] other=1'):
        src = HEADER + f"\n# %%\nx = 1\n\n{header}\n# secret\n\n# %%\ny = 2\n"
        ex = nbtool.transform(src, "exercise")
        assert "secret" not in ex and "x = 1\n\n# %%\ny = 2\n" in ex, header
    src = HEADER + '\n# %%\nx = 1\n\n# %% tags=["solutions"]\nz = 3\n'
    assert "z = 3" in nbtool.transform(src, "exercise")  # only the exact tag counts


def test_dropped_last_cell_leaves_one_trailing_newline():
    src = HEADER + '\n# %%\nx = 1\n\n# %% tags=["solution"]\nsecret = 1\n'
    assert nbtool.transform(src, "exercise").endswith("x = 1\n")


@pytest.mark.parametrize("body, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
    ("### BEGIN SOLUTION\nx = 1\n# %%\n### END SOLUTION\n", "not closed before the next cell"),
])
def test_malformed_markers_raise(body, message):
    with pytest.raises(nbtool.BuildError, match=message):
        nbtool.transform(HEADER + "\n# %%\n" + body, "solution", "demo.py")


def test_transform_rejects_unknown_kind():
    with pytest.raises(ValueError, match="exercise"):
        nbtool.transform(SOURCE, "answer")


# --------------------------------------------------------------------------------------
# build / check on a temporary tree


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "exercises" / "source").mkdir(parents=True)
    (tmp_path / "chapters").mkdir()
    (tmp_path / "exercises" / "source" / "01_demo.py").write_text(SOURCE)
    (tmp_path / "chapters" / "01_demo.py").write_text(
        HEADER + "\n# %% [markdown]\n# Text\n\n# %%\nprint(1)\n\n# %%\nprint(2)\n")
    return tmp_path


def _fake_execute(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.execution_count = i
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out {i}\n")]
    nbformat.write(nb, path)


def test_build_generates_pairs_idempotently_and_check_passes(tree):
    changed = nbtool.build(tree, verbose=False)
    names = sorted(str(p.relative_to(tree)) for p in changed)
    assert names == ["chapters/01_demo.ipynb", "exercises/01_demo.ipynb", "exercises/01_demo.py",
                     "solutions/01_demo.ipynb", "solutions/01_demo.py"]
    assert nbtool.build(tree, verbose=False) == []
    # unexecuted notebooks are the only problem check reports
    problems = nbtool.check(tree)
    assert len(problems) == 3 and all("without outputs" in p for p in problems)
    for p in changed:
        if p.suffix == ".ipynb":
            _fake_execute(p)
    assert nbtool.check(tree) == []
    assert nbtool.build(tree, verbose=False) == []


def test_build_keeps_outputs_of_unchanged_cells(tree):
    nbtool.build(tree, verbose=False)
    ipynb = tree / "chapters" / "01_demo.ipynb"
    _fake_execute(ipynb)
    before = nbformat.read(ipynb, as_version=4)
    py = tree / "chapters" / "01_demo.py"
    py.write_text(py.read_text().replace("print(2)", "print(3)")
                  .replace("# %%\nprint(1)", "# %%\nx = 0\n\n# %%\nprint(1)"))
    assert nbtool.build(tree, verbose=False) == [ipynb]
    after = nbformat.read(ipynb, as_version=4)
    by_source = {c.source: c for c in after.cells}
    assert by_source["print(1)"].outputs == before.cells[1].outputs  # unchanged: kept
    assert by_source["print(1)"].id == before.cells[1].id  # content-derived ids
    assert by_source["print(3)"].outputs == [] and by_source["print(3)"].execution_count is None
    assert by_source["x = 0"].outputs == []
    problems = nbtool.check(tree)
    assert any("chapters/01_demo.ipynb" in p and "without outputs" in p for p in problems)


def test_check_names_out_of_sync_files(tree):
    nbtool.build(tree, verbose=False)
    for p in tree.glob("*/*.ipynb"):
        _fake_execute(p)
    (tree / "exercises" / "01_demo.py").write_text("# hand edited\n")
    (tree / "chapters" / "01_demo.py").write_text(HEADER + "\n# %%\nprint('changed')\n")
    (tree / "solutions" / "99_orphan.ipynb").write_text(
        (tree / "solutions" / "01_demo.ipynb").read_text())
    problems = "\n".join(nbtool.check(tree))
    assert "exercises/01_demo.py: differs" in problems
    assert "chapters/01_demo.ipynb: cells differ" in problems
    assert "solutions/99_orphan.ipynb: no 99_orphan.py" in problems
    assert nbtool.main(["--root", str(tree), "check"]) == 1


# --------------------------------------------------------------------------------------
# this checkout

SOURCES = sorted((REPO_ROOT / nbtool.SOURCE_DIR).glob("*.py"))
PAIRED = nbtool.notebook_sources(REPO_ROOT)
EXPECTED = nbtool.generated_texts(REPO_ROOT)


def _rel(p):
    return str(p.relative_to(REPO_ROOT))


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=_rel)
def test_generated_file_matches_source(path):
    assert path.exists(), f"{_rel(path)} missing: run `python tools/notebooks.py build`"
    assert path.read_text(encoding="utf-8") == EXPECTED[path], (
        f"{_rel(path)} differs from what build generates from exercises/source/{path.name}; "
        "never edit it by hand: edit the source and run `python tools/notebooks.py build`")


def _solution_blocks(text):
    return re.findall(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION$", text,
                      flags=re.M | re.S)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_exercise_contains_no_solution_code(src):
    text = src.read_text(encoding="utf-8")
    exercise = (REPO_ROOT / "exercises" / src.name)
    assert exercise.exists(), f"run `python tools/notebooks.py build` ({exercise.name} missing)"
    ex = exercise.read_text(encoding="utf-8")
    blocks = _solution_blocks(text)
    assert blocks, f"{src.name} has no solution blocks"
    assert "BEGIN SOLUTION" not in ex and "END SOLUTION" not in ex
    assert ex.count("raise NotImplementedError()") >= len(blocks)
    # Every substantial solution line is absent from the exercise, unless the source also has
    # it outside the solution blocks (short lines such as `return x` are not checked).
    outside = set(re.sub(r"^[ \t]*### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION$", "", text,
                         flags=re.M | re.S).splitlines())
    outside = {line.strip() for line in outside}
    ex_lines = {line.strip() for line in ex.splitlines()}
    leaked = [line.strip() for block in blocks for line in block.splitlines()
              if len(line.strip()) > 20 and not line.strip().startswith("#")
              and line.strip() in ex_lines and line.strip() not in outside]
    assert not leaked, f"{exercise.name} contains solution code: {leaked[:3]}"


@pytest.mark.parametrize("py", PAIRED, ids=_rel)
def test_pair_in_sync(py):
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{_rel(ipynb)} missing: run `python tools/notebooks.py build`"
    stored = nbformat.read(ipynb, as_version=4)
    want = nbtool.read_py(py)
    keys = [nbtool._cell_key(c) for c in stored.cells]
    assert keys == [nbtool._cell_key(c) for c in want.cells], (
        f"{_rel(ipynb)} and {_rel(py)} differ: run `python tools/notebooks.py build`, then "
        f"`python tools/notebooks.py execute {_rel(ipynb)}`")


@pytest.mark.parametrize("py", PAIRED, ids=_rel)
def test_notebook_stored_with_outputs(py):
    ipynb = py.with_suffix(".ipynb")
    if not ipynb.exists():
        pytest.fail(f"{_rel(ipynb)} missing")
    missing = nbtool.unexecuted_cells(nbformat.read(ipynb, as_version=4))
    assert not missing, (f"{_rel(ipynb)}: code cells {missing} never executed; run "
                         f"`python tools/notebooks.py execute {_rel(ipynb)}`")


def test_no_orphan_notebooks():
    orphans = [_rel(p) for d in nbtool.NOTEBOOK_DIRS for p in (REPO_ROOT / d).glob("*.ipynb")
               if not p.with_suffix(".py").exists()]
    assert not orphans, f"notebooks without a .py source: {orphans}"
