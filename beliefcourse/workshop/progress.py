"""``./course progress [DIR] [--json]``: which exercises has a learner solved?

Each practice notebook ``DIR/NN_slug.ipynb`` is copied into a temporary folder and executed
there headless, top to bottom, errors allowed (the learner's files are never written). A
first, invisible cell registers an IPython ``post_run_cell`` hook that writes every
:class:`~beliefcourse.checks.CheckResult` a cell displays to a JSON-lines log. The exercises
are the notebook's ``check_<thing>(function)`` calls (found in the course's own copy of the
notebook, so a deleted checker cell shows as "not run"); each gets

========== ===========================================================================
``pass``   its checker passed
``fail``   its checker failed or the learner's code crashed: the checker's first line
``todo``   not attempted (the stub still raises ``NotImplementedError``)
``not run`` the checker cell is missing, or raised before the checker could answer
========== ===========================================================================

``--json`` prints ``{"dir", "chapters": [{"chapter", "notebook", "seconds",
"exercises": [{"function", "checker", "status", "diagnosis"}]}]}`` for collecting a room;
``./course room alice.json bob.json ...`` (:func:`room_summary`) merges such files into one
table: who is stuck where, and each exercise's most common diagnosis.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .catalog import ROOT, chapter_number, checker_calls, read_notebook, split_stem

STATUSES = ("pass", "fail", "todo", "not run")
DIAGNOSIS_CHARS = 160

# Runs first in the copy: log every CheckResult a cell displays, with the cell's source.
_HOOK = '''
def _course_progress_hook(info, _path={path!r}):
    import json
    value = getattr(info, "result", None)
    error = getattr(info, "error_in_exec", None)
    source = getattr(getattr(info, "info", None), "raw_cell", "") or ""
    record = {{"source": source}}
    if type(value).__name__ == "CheckResult":
        record.update(name=value.name, status=value.status, message=value.message)
    elif error is not None and "check_" in source:
        record.update(status="raised", message=f"{{type(error).__name__}}: {{error}}")
    else:
        return
    with open(_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\\n")
get_ipython().events.register("post_run_cell", _course_progress_hook)
del _course_progress_hook
'''


@dataclass(frozen=True)
class Exercise:
    function: str
    checker: str
    status: str
    diagnosis: str = ""


@dataclass(frozen=True)
class ChapterProgress:
    chapter: str
    notebook: str
    seconds: float
    exercises: list


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(*])")
_DATA_SENTENCE = re.compile(r"^(?:For|On|At)\b.*\b(?:expected|got)\b")


def one_line(message: str) -> str:
    """A checker's diagnosis in one line: the first sentence of ``message`` that explains
    (a sentence that only reports "For <case>: expected ..., got ..." is passed over when
    another follows), cut to :data:`DIAGNOSIS_CHARS` characters."""
    flat = " ".join(message.split())
    sentences = _SENTENCE_END.split(flat) if flat else [""]
    explaining = [s for s in sentences if not _DATA_SENTENCE.match(s)]
    line = explaining[0] if explaining else sentences[0]
    return line if len(line) <= DIAGNOSIS_CHARS else line[: DIAGNOSIS_CHARS - 1] + "…"


def classify(records: list[dict], checker: str, function: str) -> Exercise:
    """The verdict for one exercise from the logged records (the last one for its call)."""
    call = re.compile(rf"\b{re.escape(checker)}\(\s*{re.escape(function)}\s*\)")
    mine = [r for r in records if call.search(r["source"])]
    if not mine:
        return Exercise(function, checker, "not run", "the checker cell did not run")
    last = mine[-1]
    status = last["status"]
    if status == "passed":
        return Exercise(function, checker, "pass")
    if status == "not_implemented":
        return Exercise(function, checker, "todo", "not attempted")
    if status == "raised":
        return Exercise(function, checker, "not run",
                        one_line(f"the checker cell raised {last['message']}"))
    return Exercise(function, checker, "fail", one_line(last["message"]))


def expected_exercises(notebook: Path, root: Path = ROOT) -> list[tuple[str, str]]:
    """The exercises of ``notebook``: the checker calls in the course's own copy of it
    (``exercises/<name>``), falling back to the learner's notebook for an unknown name."""
    course_copy = Path(root) / "exercises" / Path(notebook).name
    source = course_copy if course_copy.exists() else notebook
    calls = checker_calls(read_notebook(source))
    for call in checker_calls(read_notebook(notebook)):
        if call not in calls:
            calls.append(call)
    return calls


def run_notebook(notebook: Path, root: Path = ROOT, timeout: int = 900) -> ChapterProgress:
    """Execute a copy of ``notebook`` and classify each of its exercises."""
    import nbformat

    from .notebooks import run

    notebook = Path(notebook)
    number, _ = split_stem(notebook.stem)
    with tempfile.TemporaryDirectory(prefix="course-progress-") as tmp:
        log = Path(tmp) / "checks.jsonl"
        log.touch()
        nb = nbformat.read(notebook, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(_HOOK.format(path=str(log))))
        copy = Path(tmp) / notebook.name
        nbformat.write(nb, copy)
        seconds = run(copy, allow_errors=True, timeout=timeout).seconds
        records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    exercises = [classify(records, checker, fn)
                 for checker, fn in expected_exercises(notebook, root)]
    return ChapterProgress(number, notebook.name, round(seconds, 1), exercises)


def find_notebooks(directory: Path, only: str | None = None) -> list[Path]:
    """``NN_slug.ipynb`` files in ``directory`` (``only="01,02"`` keeps those chapters)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a folder of practice notebooks")
    wanted = None if not only else {chapter_number(n) for n in only.split(",") if n.strip()}
    found = []
    for path in sorted(directory.glob("*.ipynb")):
        try:
            number, _ = split_stem(path.stem)
        except ValueError:
            continue
        if wanted is None or number in wanted:
            found.append(path)
    if not found:
        raise ValueError(f"no practice notebooks named NN_slug.ipynb in {directory}")
    return found


def report(directory: Path, only: str | None = None, root: Path = ROOT,
           log=None) -> list[ChapterProgress]:
    out = []
    for nb in find_notebooks(directory, only):
        if log:
            log(f"running {nb.name} ...")
        out.append(run_notebook(nb, root))
    return out


def as_table(results: list[ChapterProgress]) -> str:
    rows = [("chapter", "exercise", "status", "diagnosis")]
    for ch in results:
        for ex in ch.exercises:
            rows.append((ch.chapter, ex.function, ex.status, ex.diagnosis))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
             for r in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    counts = {s: sum(ex.status == s for ch in results for ex in ch.exercises) for s in STATUSES}
    total = sum(counts.values())
    lines.append("")
    lines.append(f"{counts['pass']} of {total} exercises pass; {counts['fail']} fail, "
                 f"{counts['todo']} not attempted, {counts['not run']} not run")
    return "\n".join(lines)


def to_json(results: list[ChapterProgress], directory: Path) -> str:
    return json.dumps({"dir": str(directory),
                       "chapters": [dict(asdict(ch)) for ch in results]}, indent=2)


def main(directory: Path, as_json: bool = False, only: str | None = None) -> int:
    try:
        results = report(directory, only, log=lambda s: print(s, file=sys.stderr))
    except ValueError as err:
        print(f"progress: {err}", file=sys.stderr)
        return 2
    print(to_json(results, directory) if as_json else as_table(results))
    return 0


# ---------------------------------------------------------------------------------- the room
def read_room(paths: list[Path]) -> dict[str, dict]:
    """Learners' ``progress --json`` files (or folders of ``*.json``), as ``{learner: data}``;
    the learner is the file's name (``alice.json`` -> ``alice``)."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.glob("*.json"))
        elif p.exists():
            files.append(p)
        else:
            raise ValueError(f"{p} does not exist")
    if not files:
        raise ValueError("no progress files (NAME.json from `./course progress --json`)")
    room = {}
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            data["chapters"][0]["exercises"][0]["status"]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"{f} is not the output of `./course progress --json` "
                             f"({type(exc).__name__})") from exc
        room[f.stem] = data
    return room


def _exercise_rows(data: dict):
    for ch in data["chapters"]:
        for ex in ch["exercises"]:
            yield ch["chapter"], ex


def room_summary(room: dict[str, dict]) -> dict:
    """Per learner: exercises passed of those run, and where they are stuck (the first
    exercise, in course order, that does not pass, with its status and diagnosis); per
    exercise: how many learners are at each status and the most common diagnosis."""
    learners, exercises = [], {}
    for name, data in sorted(room.items()):
        rows = list(_exercise_rows(data))
        passed = sum(ex["status"] == "pass" for _, ex in rows)
        stuck = next(((ch, ex) for ch, ex in rows if ex["status"] != "pass"), None)
        learners.append({
            "learner": name, "passed": passed, "exercises": len(rows),
            "stuck_at": f"{stuck[0]} {stuck[1]['function']}" if stuck else "",
            "status": stuck[1]["status"] if stuck else "pass",
            "diagnosis": stuck[1].get("diagnosis", "") if stuck else ""})
        for ch, ex in rows:
            key = (ch, ex["function"])
            entry = exercises.setdefault(key, {"chapter": ch, "exercise": ex["function"],
                                               **{s: 0 for s in STATUSES}, "diagnoses": {}})
            entry[ex["status"]] += 1
            if ex["status"] == "fail" and ex.get("diagnosis"):
                entry["diagnoses"][ex["diagnosis"]] = entry["diagnoses"].get(ex["diagnosis"],
                                                                             0) + 1
    per_exercise = []
    for key in sorted(exercises):
        entry = exercises[key]
        diagnoses = sorted(entry.pop("diagnoses").items(), key=lambda kv: (-kv[1], kv[0]))
        entry["common_diagnosis"] = diagnoses[0][0] if diagnoses else ""
        entry["common_count"] = diagnoses[0][1] if diagnoses else 0
        per_exercise.append(entry)
    common = max(per_exercise, key=lambda e: (e["common_count"], e["fail"]), default=None)
    return {"learners": learners, "exercises": per_exercise,
            "most_common": common if common and common["common_count"] else None}


def _table(rows: list[tuple]) -> list[str]:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths)) + "  " + str(r[-1])
             for r in rows]
    lines = [line.rstrip() for line in lines]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return lines


def room_table(summary: dict) -> str:
    """Two tables: who is stuck where, then each exercise across the room."""
    rows = [("learner", "passed", "stuck at", "status", "diagnosis")]
    rows += [(s["learner"], f"{s['passed']}/{s['exercises']}", s["stuck_at"] or "-",
              s["status"], s["diagnosis"]) for s in summary["learners"]]
    lines = _table(rows) + [""]
    rows = [("chapter", "exercise", "pass", "fail", "todo", "not run",
             "most common diagnosis (learners)")]
    rows += [(e["chapter"], e["exercise"], e["pass"], e["fail"], e["todo"], e["not run"],
              f"{e['common_diagnosis']} ({e['common_count']})" if e["common_count"] else "")
             for e in summary["exercises"]]
    lines += _table(rows)
    common = summary["most_common"]
    lines.append("")
    if common:
        lines.append(f"most common diagnosis: {common['chapter']} {common['exercise']}, "
                     f"{common['common_count']} learner(s): {common['common_diagnosis']}")
    else:
        lines.append("no checker diagnosis in the room (no exercise fails)")
    return "\n".join(lines)


def room_main(paths: list[Path], as_json: bool = False) -> int:
    try:
        summary = room_summary(read_room(paths))
    except ValueError as err:
        print(f"room: {err}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2) if as_json else room_table(summary))
    return 0
