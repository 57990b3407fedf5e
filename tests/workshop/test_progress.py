"""``./course progress``: solutions all pass, untouched exercises are all "not attempted",
planted mistakes show the checker's own diagnosis, and the learner's files never change."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import nbformat
import pytest
from conftest import REPO_ROOT

from beliefcourse import checks
from beliefcourse.workshop import progress
from beliefcourse.workshop.catalog import chapters, checker_calls, read_notebook

# The end-to-end tests execute three practice notebooks (the full set is what nbval already
# executes; here the point is the report, not the notebooks): solution 01, a planted copy of
# solution 02, and the untouched exercise 01 (from another folder, below).


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _copy(kind, folder, only):
    for ch in chapters():
        if ch.number == only:
            shutil.copy(REPO_ROOT / kind / f"{ch.stem}.ipynb", folder)
    return folder


def _plant(notebook, chapter: str, folder):
    """A copy of a solution notebook where, before each checker cell, the exercise function
    is replaced by its first known mistake in the registry."""
    nb = nbformat.read(notebook, as_version=4)
    planted = {ex.name: ex for ex in checks.exercises(chapter)}
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for _, fn in checker_calls({"cells": [cell]}):
                if fn in planted:
                    cells.append(nbformat.v4.new_code_cell(
                        f"from beliefcourse import checks as _checks\n"
                        f"{fn} = _checks.find({fn!r}).mistakes[0].wrong"))
        cells.append(cell)
    nb.cells = cells
    nbformat.write(nb, folder / notebook.name)
    return planted


@pytest.mark.slow
def test_solutions_pass_planted_mistakes_are_diagnosed_and_files_stay_untouched(tmp_path):
    """Solution 01 passes every exercise; in solution 02 with each function replaced by its
    first known mistake, every exercise fails with the checker's own diagnosis."""
    learner = _copy("solutions", tmp_path, "01")
    planted = _plant(next(c for c in chapters() if c.number == "02").solution_notebook, "02",
                     learner)
    before = _digest(learner)
    solved, mistaken = results = progress.report(learner)
    assert _digest(learner) == before, "progress modified the learner's notebooks"
    assert [r.chapter for r in results] == ["01", "02"]
    expected = checker_calls(read_notebook(REPO_ROOT / "exercises" / solved.notebook))
    assert [(e.checker, e.function) for e in solved.exercises] == expected
    assert all(e.status == "pass" for e in solved.exercises), solved.exercises
    n = len(solved.exercises)
    assert f"{n} of {n} exercises pass" in progress.as_table([solved])
    seen = {e.function: e for e in mistaken.exercises}
    assert set(planted) <= set(seen)
    for fn, ex in planted.items():
        verdict = ex(ex.mistakes[0].wrong)
        assert seen[fn].status == "fail", (fn, seen[fn])
        assert seen[fn].diagnosis == progress.one_line(verdict.message), (fn, ex.mistakes[0])
    assert seen["update"].diagnosis in progress.as_table(results)


def test_every_chapter_has_one_practice_notebook():
    found = progress.find_notebooks(REPO_ROOT / "exercises")
    assert [p.name[:2] for p in found] == list(checks.CHAPTERS)


# ------------------------------------------------------------------------------ fast units
def _record(source, status, message=""):
    return {"source": source, "status": status, "message": message}


def test_classify_statuses():
    call = "checks.check_update(update)"
    assert progress.classify([_record(call, "passed")], "check_update", "update").status == \
        "pass"
    todo = progress.classify([_record(call, "not_implemented", "not implemented yet")],
                             "check_update", "update")
    assert (todo.status, todo.diagnosis) == ("todo", "not attempted")
    fail = progress.classify([_record(call, "failed", "\nthe belief is not normalised.\nMore")],
                             "check_update", "update")
    assert (fail.status, fail.diagnosis) == ("fail", "the belief is not normalised.")
    crash = progress.classify([_record(call, "error", "your code raised IndexError")],
                              "check_update", "update")
    assert crash.status == "fail" and "IndexError" in crash.diagnosis
    raised = progress.classify([_record(call, "raised", "NameError: name 'update' is not "
                                        "defined")], "check_update", "update")
    assert raised.status == "not run" and "NameError" in raised.diagnosis
    missing = progress.classify([], "check_update", "update")
    assert missing.status == "not run"


def test_classify_uses_the_last_run_of_a_cell():
    call = "check_update(update)"
    records = [_record(call, "failed", "wrong"), _record(call, "passed")]
    assert progress.classify(records, "check_update", "update").status == "pass"


def test_one_line_prefers_the_explaining_sentence():
    msg = ("For Z1R, prior pi, token 0: expected [0.3333, 0.6667], got [0.1667, 0.3333]\n"
           "(largest difference 0.333 at index 1). Your belief is not normalised: divide by "
           "its sum. More advice.")
    assert progress.one_line(msg) == "Your belief is not normalised: divide by its sum."
    assert progress.one_line("For Z1R: expected 1, got 2.") == "For Z1R: expected 1, got 2."
    assert progress.one_line("not implemented yet: replace it.") == \
        "not implemented yet: replace it."


def test_one_line_is_short():
    assert progress.one_line("x" * 500).endswith("…")
    assert len(progress.one_line("x" * 500)) == progress.DIAGNOSIS_CHARS


def test_find_notebooks_errors(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        progress.find_notebooks(tmp_path / "nope")
    (tmp_path / "notes.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="no practice notebooks"):
        progress.find_notebooks(tmp_path)
    assert progress.main(tmp_path) == 2


# ------------------------------------------------------------------------ a room (issue 20)
def test_course_progress_from_another_folder_is_quiet(tmp_path):
    """`./course progress alice --chapters 01 --json` run in the room's folder on an untouched
    practice notebook: DIR is the caller's alice/, not the course's; every exercise is "todo";
    the kernel's "running over TCP without encryption" warning is not printed."""
    alice = tmp_path / "alice"
    alice.mkdir()
    _copy("exercises", alice, "01")
    env = dict(__import__("os").environ, COURSE_SKIP_SETUP="1")
    result = subprocess.run(["bash", str(REPO_ROOT / "course"), "progress", "alice",
                             "--chapters", "01", "--json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dir"].endswith("alice") and data["chapters"][0]["chapter"] == "01"
    assert {(e["status"], e["diagnosis"]) for e in data["chapters"][0]["exercises"]} == {
        ("todo", "not attempted")}                     # untouched: every exercise "todo"
    assert "without encryption" not in result.stderr, result.stderr


def _learner_file(folder, name, statuses):
    """A fake `progress --json` file: ``statuses`` maps (chapter, function) to (status,
    diagnosis)."""
    chapters_ = {}
    for (ch, fn), (status, diagnosis) in statuses.items():
        chapters_.setdefault(ch, []).append({"function": fn, "checker": f"check_{fn}",
                                             "status": status, "diagnosis": diagnosis})
    data = {"dir": f"/laptops/{name}", "chapters": [
        {"chapter": ch, "notebook": f"{ch}_x.ipynb", "seconds": 1.0, "exercises": exs}
        for ch, exs in chapters_.items()]}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


ROW = "Rows of T must sum to one."


def test_room_merges_learners_into_one_table(tmp_path):
    ok = ("pass", "")
    _learner_file(tmp_path, "alice", {("01", "stationary"): ok, ("01", "sample"): ok,
                                      ("02", "update"): ("fail", ROW)})
    _learner_file(tmp_path, "bob", {("01", "stationary"): ("fail", ROW),
                                    ("01", "sample"): ("todo", "not attempted"),
                                    ("02", "update"): ("fail", ROW)})
    _learner_file(tmp_path, "carol", {("01", "stationary"): ok, ("01", "sample"): ok,
                                      ("02", "update"): ok})
    summary = progress.room_summary(progress.read_room([tmp_path]))
    who = {s["learner"]: s for s in summary["learners"]}
    assert who["alice"]["stuck_at"] == "02 update" and who["alice"]["passed"] == 2
    assert who["bob"]["stuck_at"] == "01 stationary" and who["bob"]["diagnosis"] == ROW
    assert who["carol"]["stuck_at"] == "" and who["carol"]["status"] == "pass"
    update = next(e for e in summary["exercises"] if e["exercise"] == "update")
    assert (update["pass"], update["fail"], update["common_count"]) == (1, 2, 2)
    assert summary["most_common"]["exercise"] == "update"
    table = progress.room_table(summary)
    assert "most common diagnosis: 02 update, 2 learner(s): " + ROW in table
    assert table.splitlines()[0].split() == ["learner", "passed", "stuck", "at", "status",
                                             "diagnosis"]


def test_room_cli_resolves_files_against_the_caller(tmp_path):
    _learner_file(tmp_path, "dana", {("01", "stationary"): ("fail", ROW)})
    env = dict(__import__("os").environ, COURSE_SKIP_SETUP="1")
    result = subprocess.run(["bash", str(REPO_ROOT / "course"), "room", "dana.json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "dana" in result.stdout and "01 stationary" in result.stdout
    (tmp_path / "junk.json").write_text("{}")
    assert progress.room_main([tmp_path / "junk.json"]) == 2
