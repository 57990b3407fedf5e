"""The reproduction scorecard: generated files in sync, staleness within the rows' tolerances."""

from __future__ import annotations

import copy
import json

import pytest

from beliefcourse import scorecard as sc


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(sc.DOCS_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows() -> list:
    return sc.compute()


@pytest.fixture(scope="module")
def fresh(rows) -> dict:
    return sc.to_json(rows)


def test_scorecard_is_not_stale(committed, fresh):
    """Fails when a record or a package computation moved beyond a row's tolerance (or a row's
    status changed) and `./course scorecard` was not rerun; digits moving within the noise
    of their quantity do not fail it."""
    problems = sc.stale(committed, fresh)
    assert not problems, ("the scorecard is stale: run `./course scorecard` and commit "
                          "docs/scorecard.* and README.md\n" + "\n".join(problems))


def test_readme_and_page_are_rendered_from_the_committed_json(committed):
    readme = sc.README.read_text(encoding="utf-8")
    assert sc.readme_block(committed) in readme, "run `./course scorecard`"
    assert sc.DOCS_MD.read_text(encoding="utf-8") == sc.render_page(committed)


def test_every_row_is_complete_and_has_a_tolerance(committed):
    ids = [r["id"] for r in committed["rows"]]
    assert len(ids) == len(set(ids))
    for r in committed["rows"]:
        assert r["status"] in sc.STATUSES and r["claim"] and r["how"] and r["tolerance"], r["id"]
        if r["status"] in ("reproduced", "differs"):
            assert r["published"] not in ("", "—") and r["paper"] in ("(a)", "(b)"), r["id"]
        if r["status"] == "differs" or r["status"] == "not checkable":
            assert r["note"], f"{r['id']}: a 'differs' or 'not checkable' row says why"
        if r["status"] == "beyond the paper":
            assert r["paper"] == "course", r["id"]
    assert {r["paper"] for r in committed["rows"]} >= {"(a)", "(b)", "course"}
    assert sum(r["status"] == "not checkable" for r in committed["rows"]) >= 1


def test_authors_weights_rows_are_there(committed):
    """The shipped measurements of the authors' checkpoints feed the paper's probe rows."""
    ids = {r["id"]: r for r in committed["rows"]}
    for tid in ("a-probe-final", "a-probe-64000", "a-probe-640000", "a-probe-3187200",
                "a-probe-cv", "a-authors-loss", "a-rrxor-layers", "a-rrxor-distance"):
        assert tid in ids, tid


def test_staleness_is_tolerance_based(committed):
    """A value moved within its row's tolerance is not stale; beyond it, or a changed status,
    or a lost row, is."""
    row = next(r for r in committed["rows"] if r["id"] == "a-probe-course")
    tol = sc.TOLERANCES["a-probe-course"]
    key, value = next(iter(row["values"].items()))

    def moved(factor=None, status=None, drop=False):
        data = copy.deepcopy(committed)
        rows = data["rows"]
        r = next(r for r in rows if r["id"] == "a-probe-course")
        if factor is not None:
            r["values"][key] = value * factor
        if status is not None:
            r["status"] = status
        if drop:
            rows.remove(r)
        return data

    assert sc.stale(committed, moved(factor=1 + tol.stale / 3)) == []
    assert sc.stale(committed, moved(factor=1 + 3 * tol.stale))
    assert sc.stale(committed, moved(status="differs"))
    assert sc.stale(committed, moved(drop=True)) == ["row a-probe-course is gone"]


def test_tolerances_cover_every_row(committed):
    for r in committed["rows"]:
        tid = r["id"] if r["id"] in sc.TOLERANCES else next(
            (t for t in sc.TOLERANCES if r["id"].startswith(t)), None)
        assert tid is not None or r["id"].startswith("beyond"), r["id"]
        assert all(t.why for t in sc.TOLERANCES.values())


def test_cli_json_and_check(capsys, monkeypatch, rows, fresh, committed):
    monkeypatch.setattr(sc, "compute", lambda: rows)
    assert sc.main(["--check"]) == (1 if sc.stale(committed, fresh) else 0)
    capsys.readouterr()
    assert sc.main(["--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in printed["rows"]] == [r["id"] for r in fresh["rows"]]
