"""The notebooks are in sync with their sources (the contract in CONTRIBUTING.md, "Notebooks").

* the build transformation itself, on tiny synthetic sources;
* ``build`` keeps outputs of unchanged cells, carries cell tags and is idempotent (on a
  temporary tree); exercises and solutions exist only as notebooks;
* stored notebooks are normalised, and the git clean filter makes a notebook that was only
  run look unchanged to git (in a temporary repository);
* in this checkout: every notebook has the cells (and tags) of its source, exercises carry
  no solution code, nothing is orphaned or stale, and every notebook is stored executed
  (nbval compares only executed cells).

Whether the stored outputs are *right* is nbval's job:
``pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
chapters exercises solutions`` (``./course test`` runs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import uuid

import nbformat
import pytest
from conftest import REPO_ROOT

from beliefcourse.workshop import notebooks as nbtool

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


    def update(T, belief, x):
        """Docstring stays."""
        ### BEGIN SOLUTION
        new = belief @ T[x]
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
    assert "    new = belief @ T[x]\n    return new / new.sum()\n" in sol
    assert 'print("worked answer")' in sol
    assert sol == "".join(line for line in SOURCE.splitlines(keepends=True)
                          if line.strip() not in (nbtool.BEGIN, nbtool.END))


def test_exercise_stubs_at_the_marker_indentation():
    ex = nbtool.transform(SOURCE, "exercise")
    assert ('    """Docstring stays."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
            in ex)
    assert "            # YOUR CODE HERE\n            raise NotImplementedError()\n" in ex
    assert "# %%\n# YOUR CODE HERE\nraise NotImplementedError()\nprint(\"done\")\n" in ex
    for solution_line in ("belief @ T[x]", "new.sum()", "return 1", "ANSWER = 42"):
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
    assert names == ["chapters/01_demo.ipynb", "exercises/01_demo.ipynb",
                     "solutions/01_demo.ipynb"]
    assert not list(tree.glob("exercises/*.py")) and not list(tree.glob("solutions/*.py"))
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
    (tree / "exercises" / "01_demo.py").write_text("# a stale generated twin\n")
    (tree / "chapters" / "01_demo.py").write_text(HEADER + "\n# %%\nprint('changed')\n")
    (tree / "solutions" / "99_orphan.ipynb").write_text(
        (tree / "solutions" / "01_demo.ipynb").read_text())
    src = tree / "exercises" / "source" / "01_demo.py"
    src.write_text(src.read_text().replace('print("done")', 'print("finished")'))
    problems = "\n".join(nbtool.check(tree))
    assert "exercises/01_demo.py: not a source" in problems
    assert "chapters/01_demo.ipynb: cells differ from chapters/01_demo.py" in problems
    assert "exercises/01_demo.ipynb: cells differ from exercises/source/01_demo.py" in problems
    assert "solutions/01_demo.ipynb: cells differ from exercises/source/01_demo.py" in problems
    assert "solutions/99_orphan.ipynb: no source" in problems
    assert nbtool.main(["--root", str(tree), "check"]) == 1


def test_the_course_folder_is_found_from_inside_it_or_named(tree, monkeypatch):
    """An installed package works on any copy of the course: the folder is found from the
    working directory (or a folder in it), or named by $BELIEFCOURSE_COURSE."""
    monkeypatch.delenv(nbtool.COURSE_ENV_VAR, raising=False)
    assert nbtool.course_root(tree / "chapters") == tree.resolve()
    monkeypatch.setenv(nbtool.COURSE_ENV_VAR, str(tree))
    assert nbtool.course_root(REPO_ROOT) == tree.resolve()
    (tree / "chapters" / "05b_extra.py").write_text(HEADER + "\n# %%\nprint(5)\n")
    nbtool.build(tree, verbose=False)
    assert [p.relative_to(tree).as_posix() for p in nbtool.course_notebooks(tree)] == [
        "chapters/01_demo.ipynb", "chapters/05b_extra.ipynb", "exercises/01_demo.ipynb",
        "solutions/01_demo.ipynb"]
    # the workshop catalog of a package run in that folder (no checkout assumed)
    out = subprocess.run([sys.executable, "-c", "from beliefcourse.workshop import catalog; "
                          "print([c.stem for c in catalog.chapters()], "
                          "catalog.find_chapter('5b').number, catalog.chapter_number(1))"],
                         cwd=tree / "exercises", env={**os.environ, nbtool.COURSE_ENV_VAR: ""},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['01_demo', '05b_extra'] 05b 01"


WIDGET = "application/vnd.jupyter.widget-view+json"


def _tag_last_cell(tree):
    py = tree / "chapters" / "01_demo.py"
    py.write_text(py.read_text().replace("# %%\nprint(2)",
                                         '# %% tags=["nbval-ignore-output"]\nprint(2)'))


def test_cell_tags_come_from_the_source(tree):
    """A `# %% tags=[...]` header becomes the cell's metadata tags (what nbval reads); a tag
    change alone is a difference `check` reports and `build` writes, keeping the outputs."""
    _tag_last_cell(tree)
    nbtool.build(tree, verbose=False)
    ipynb = tree / "chapters" / "01_demo.ipynb"
    cell = nbformat.read(ipynb, as_version=4).cells[-1]
    assert cell.source == "print(2)" and cell.metadata["tags"] == ["nbval-ignore-output"]
    _fake_execute(ipynb)
    nbtool.build(tree, verbose=False)
    assert not [p for p in nbtool.check(tree) if "chapters/" in p]
    py = tree / "chapters" / "01_demo.py"
    py.write_text(py.read_text().replace('# %% tags=["nbval-ignore-output"]', "# %%"))
    assert any("chapters/01_demo.ipynb: cells differ" in p for p in nbtool.check(tree))
    nbtool.build(tree, verbose=False)
    after = nbformat.read(ipynb, as_version=4)
    assert "tags" not in after.cells[-1].metadata
    assert after.cells[-1].execution_count is not None  # outputs/count carried over


def _widget_output(model_id):
    return nbformat.v4.new_output("display_data", data={
        WIDGET: {"model_id": model_id, "version_major": 2, "version_minor": 0},
        "text/plain": "IntSlider(value=3)"})


def _executed_with_widgets(tree):
    """chapters/01_demo.ipynb as nbclient stores it: the last cell shows a slider (random
    model id) whose layout is another model, and the notebook carries the widget state."""
    ipynb = tree / "chapters" / "01_demo.ipynb"
    _fake_execute(ipynb)
    nb = nbformat.read(ipynb, as_version=4)
    slider, layout = uuid.uuid4().hex, uuid.uuid4().hex
    nb.cells[-1].outputs = [_widget_output(slider)]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {slider: {"model_name": "FloatSliderModel",
                           "state": {"layout": f"IPY_MODEL_{layout}", "value": 3.0,
                                     "min": 0.0, "step": 0.1}},
                  layout: {"model_name": "LayoutModel", "state": {}}},
        "version_major": 2, "version_minor": 0}}
    nbformat.write(nb, ipynb)
    return ipynb


def _learner_run(path):
    """What JupyterLab saves after a learner runs every cell once: the same outputs, but every
    widget gets a new random model id (JupyterLab saves no widget state by default, and keeps
    the stored one)."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if WIDGET in out.get("data", {}):
                out["data"][WIDGET]["model_id"] = uuid.uuid4().hex
    path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")


def test_normalise_numbers_widget_ids_in_outputs_and_state(tree):
    nbtool.build(tree, verbose=False)
    ipynb = _executed_with_widgets(tree)
    nb = nbformat.read(ipynb, as_version=4)
    nbtool.normalise(nb)
    one, two = f"{1:032x}", f"{2:032x}"
    assert nb.cells[-1].outputs[0].data[WIDGET]["model_id"] == one
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert sorted(state) == [one, two]  # the displayed slider first, then what it refers to
    assert state[one]["state"]["layout"] == f"IPY_MODEL_{two}"
    # JavaScript has one number type: JupyterLab writes 0.0 as 0, so the stored file does too
    slider = state[one]["state"]
    assert slider["min"] == 0 and isinstance(slider["min"], int) and slider["step"] == 0.1
    again = nbformat.from_dict(json.loads(json.dumps(nb)))
    nbtool.normalise(again)
    assert again == nb  # idempotent
    assert nbtool.clean_filter("not json at all") == "not json at all"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_sees_no_change_after_a_learner_runs_a_notebook(tree):
    """With the clean filter registered as ./course setup does, a notebook that was run and
    saved is unchanged for `git status` (same size, and the same content once cleaned); a
    real edit still shows."""
    nbtool.build(tree, verbose=False)
    ipynb = _executed_with_widgets(tree)
    nbtool.build(tree, verbose=False)  # normalise, as `execute` does when it stores outputs
    shutil.copy(REPO_ROOT / ".gitattributes", tree / ".gitattributes")

    def git(*args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                              cwd=tree, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("config", "filter.course-notebook.clean",
        f"{sys.executable} {REPO_ROOT / 'tools' / 'notebooks.py'} clean")
    git("add", ".")
    git("commit", "-q", "-m", "course")
    stored = ipynb.read_text()
    _learner_run(ipynb)
    assert ipynb.read_text() != stored  # the file on disk did change
    assert git("status", "--porcelain") == ""
    nb = json.loads(ipynb.read_text())
    nb["cells"][1]["source"] = ["print('my own edit')"]
    ipynb.write_text(json.dumps(nb))
    assert "chapters/01_demo.ipynb" in git("status", "--porcelain")


# --------------------------------------------------------------------------------------
# this checkout

SOURCES = sorted((REPO_ROOT / nbtool.SOURCE_DIR).glob("*.py"))
NOTEBOOKS = nbtool.notebook_texts(REPO_ROOT)


def _rel(p):
    return str(p.relative_to(REPO_ROOT))


@pytest.mark.parametrize("ipynb", sorted(NOTEBOOKS), ids=_rel)
def test_notebook_in_sync_with_its_source(ipynb):
    src, text = NOTEBOOKS[ipynb]
    assert ipynb.exists(), f"{_rel(ipynb)} missing: run `python tools/notebooks.py build`"
    stored = nbformat.read(ipynb, as_version=4)
    want = [nbtool.cell_signature(c) for c in nbtool.read_percent(text).cells]
    assert [nbtool.cell_signature(c) for c in stored.cells] == want, (
        f"{_rel(ipynb)} and {_rel(src)} differ (cells or tags): run `python tools/notebooks.py "
        f"build`, then `python tools/notebooks.py execute {_rel(ipynb)}`")
    assert ipynb.read_text(encoding="utf-8") == nbtool.ipynb_text(stored), (
        f"{_rel(ipynb)} is not normalised: run `python tools/notebooks.py build`")


def _solution_blocks(text):
    return re.findall(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION$", text,
                      flags=re.M | re.S)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_exercise_contains_no_solution_code(src):
    text = src.read_text(encoding="utf-8")
    exercise = (REPO_ROOT / "exercises" / src.name).with_suffix(".ipynb")
    assert exercise.exists(), f"run `python tools/notebooks.py build` ({exercise.name} missing)"
    ex = "\n".join(c.source for c in nbformat.read(exercise, as_version=4).cells)
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


@pytest.mark.parametrize("ipynb", sorted(NOTEBOOKS), ids=_rel)
def test_notebook_stored_with_outputs(ipynb):
    if not ipynb.exists():
        pytest.fail(f"{_rel(ipynb)} missing")
    missing = nbtool.unexecuted_cells(nbformat.read(ipynb, as_version=4))
    assert not missing, (f"{_rel(ipynb)}: code cells {missing} never executed; run "
                         f"`python tools/notebooks.py execute {_rel(ipynb)}`")


def test_no_orphan_notebooks_or_stale_generated_files():
    orphans = [_rel(p) for p in nbtool.course_notebooks(REPO_ROOT) if p not in NOTEBOOKS]
    assert not orphans, f"notebooks without a source: {orphans}"
    stale = [_rel(p) for p in nbtool.stale_generated_files(REPO_ROOT)]
    assert not stale, f"generated .py files are no longer kept (delete them): {stale}"
