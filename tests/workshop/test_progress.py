"""``./course progress``: solutions all pass, untouched exercises are all "not attempted",
planted mistakes show the checker's own diagnosis, and the learner's files never change."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from conftest import REPO_ROOT

from beliefcourse import checks
from beliefcourse.workshop import progress
from beliefcourse.workshop.catalog import chapters, checker_calls, read_notebook

# the cheapest practice notebooks to execute for the end-to-end tests (the full set is what
# nbval already executes; here the point is the report, not the notebooks)
FAST = "01,02"


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _copy(kind, tmp_path, only=FAST):
    numbers = {n.strip() for n in only.split(",")}
    for ch in chapters():
        if ch.number in numbers:
            shutil.copy(REPO_ROOT / kind / f"{ch.stem}.ipynb", tmp_path)
    return tmp_path


@pytest.mark.slow
def test_solutions_all_pass_and_files_stay_untouched(tmp_path):
    learner = _copy("solutions", tmp_path)
    before = _digest(learner)
    results = progress.report(learner)
    assert _digest(learner) == before, "progress modified the learner's notebooks"
    assert [r.chapter for r in results] == ["01", "02"]
    for r in results:
        expected = checker_calls(read_notebook(REPO_ROOT / "exercises" / r.notebook))
        assert [(e.checker, e.function) for e in r.exercises] == expected
        assert all(e.status == "pass" for e in r.exercises), r.exercises
    total = sum(len(r.exercises) for r in results)
    assert f"{total} of {total} exercises pass" in progress.as_table(results)


@pytest.mark.slow
def test_untouched_exercises_are_not_attempted(tmp_path):
    """An untouched practice notebook: all "todo", through the CLI's JSON. One chapter here (01
    runs from another folder below); every stub is "not implemented" in
    tests/checks/test_exercises.py, and nbval runs every untouched notebook."""
    found = progress.find_notebooks(REPO_ROOT / "exercises")
    assert [p.name[:2] for p in found] == list(checks.CHAPTERS)    # one notebook per chapter
    learner = _copy("exercises", tmp_path, only="02")
    result = subprocess.run([sys.executable, "-m", "beliefcourse.workshop", "progress",
                             str(learner), "--json"], capture_output=True, text=True,
                            timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert [c["chapter"] for c in report["chapters"]] == ["02"]
    for ch in report["chapters"]:
        assert ch["exercises"], ch["notebook"]
        for ex in ch["exercises"]:
            assert (ex["status"], ex["diagnosis"]) == ("todo", "not attempted"), (ch, ex)


def _plant(notebook, chapter: str, tmp_path):
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
    path = tmp_path / notebook.name
    nbformat.write(nb, path)
    return path, planted


@pytest.mark.slow
def test_planted_mistakes_show_their_diagnoses(tmp_path):
    ch = next(c for c in chapters() if c.number == "02")
    path, planted = _plant(ch.solution_notebook, "02", tmp_path)
    result = progress.run_notebook(path)
    seen = {e.function: e for e in result.exercises}
    assert set(planted) <= set(seen)
    for fn, ex in planted.items():
        verdict = ex(ex.mistakes[0].wrong)
        assert seen[fn].status == "fail", (fn, seen[fn])
        assert seen[fn].diagnosis == progress.one_line(verdict.message), (fn, ex.mistakes[0])
    table = progress.as_table([result])
    assert seen["update"].diagnosis in table


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
    """`./course progress alice --chapters 01` run in the room's folder: DIR is the caller's
    alice/, not the course's; the kernel's "running over TCP without encryption" warning is
    not printed."""
    alice = tmp_path / "alice"
    alice.mkdir()
    _copy("exercises", alice, only="01")
    env = dict(__import__("os").environ, COURSE_SKIP_SETUP="1")
    result = subprocess.run(["bash", str(REPO_ROOT / "course"), "progress", "alice",
                             "--chapters", "01", "--json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dir"].endswith("alice") and data["chapters"][0]["chapter"] == "01"
    assert {e["status"] for e in data["chapters"][0]["exercises"]} == {"todo"}
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
