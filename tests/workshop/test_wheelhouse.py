"""Offline install for a room: ``./course wheelhouse DIR`` then ``./course setup --from DIR``
into a fresh course folder with pip's network refused; an empty wheelhouse must fail (the
control that proves the install did not quietly reach an index)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from beliefcourse.workshop import wheelhouse

# pip with no index, no configured find-links and a dead proxy: nothing can be downloaded
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
           "PIP_CONFIG_FILE": os.devnull, "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "HTTPS_PROXY": "http://127.0.0.1:9", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
DROP = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "VIRTUAL_ENV", "PYTHONPATH")


def _offline_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROP}
    env.update(OFFLINE)
    env["PYTHON"] = getattr(sys, "_base_executable", sys.executable)
    # pip reads PIP_NO_COMPILE=0 as --no-compile (a store_false option): no .pyc for torch's
    # thousands of files, which these tests do not need (a third of the install's time)
    env["PIP_NO_COMPILE"] = "0"
    return env


def _course_copy(dest: Path) -> Path:
    """The files ``./course setup`` needs: the script, pyproject, README and the package."""
    dest.mkdir()
    for name in ("course", "pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, dest / name)
    shutil.copytree(REPO_ROOT / "beliefcourse", dest / "beliefcourse",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def test_requirements_are_what_setup_installs():
    reqs = wheelhouse.requirements()
    assert reqs[0].startswith("setuptools")           # the build backend, for `-e .`
    assert any(r.startswith("torch") for r in reqs)
    assert any(r.startswith("nbval") for r in reqs)   # the test extra
    assert len(reqs) == len(set(reqs))


def test_download_command():
    cmd = wheelhouse.download_command(Path("/w"), Path("/w/r.txt"),
                                      "https://example.invalid/cpu", python="py")
    assert cmd[:3] == ["py", "-m", "pip"] and "download" in cmd
    assert "--platform" not in cmd           # markers would be evaluated for this machine
    assert cmd[cmd.index("--extra-index-url") + 1] == "https://example.invalid/cpu"


LINUX_311 = {"system": "Linux", "machine": "x86_64", "python": "3.11"}
MAC_312 = {"system": "Darwin", "machine": "arm64", "python": "3.12"}


def test_record_and_check_match(tmp_path):
    wheelhouse.record_build(tmp_path, machine=LINUX_311)
    wheelhouse.record_build(tmp_path, machine=MAC_312)
    wheelhouse.record_build(tmp_path, machine=LINUX_311)       # rebuilt: replaced, not added
    builds = json.loads((tmp_path / wheelhouse.RECORD).read_text())["builds"]
    assert len(builds) == 2 and builds[-1]["python"] == "3.11" and builds[-1]["made"]
    assert wheelhouse.check(tmp_path, LINUX_311)[0]
    assert wheelhouse.check(tmp_path, MAC_312)[0]
    assert wheelhouse.check(tmp_path)[0] == (wheelhouse.this_machine() in (LINUX_311, MAC_312))


def test_check_another_python_says_what_to_do(tmp_path):
    wheelhouse.record_build(tmp_path, machine=LINUX_311)
    ok, message = wheelhouse.check(tmp_path, dict(LINUX_311, python="3.12"))
    assert not ok
    assert "made for Linux x86_64 with Python 3.11" in message
    assert "this laptop is Linux x86_64 with Python 3.12" in message
    assert f"rm -rf .venv && PYTHON=python3.11 ./course setup --from {tmp_path}" in message


def test_check_another_system_says_where_to_build(tmp_path):
    wheelhouse.record_build(tmp_path, machine=LINUX_311)
    ok, message = wheelhouse.check(tmp_path, MAC_312)
    assert not ok and "PYTHON=python" not in message
    assert "on a Darwin arm64 machine with Python 3.12 and internet" in message
    assert f"./course wheelhouse {tmp_path}" in message


def test_setup_from_a_wheelhouse_for_another_laptop_is_refused(tmp_path):
    """Before pip runs (and before .venv is made): the record against this laptop."""
    course = _course_copy(tmp_path / "course")
    wheels = tmp_path / "mac-wheels"
    wheels.mkdir()
    wheelhouse.record_build(wheels, machine=MAC_312)
    result = subprocess.run(["bash", str(course / "course"), "setup", "--from", "mac-wheels"],
                            capture_output=True, text=True, env=_offline_env(), timeout=600,
                            cwd=tmp_path)             # DIR relative to the caller's folder
    assert result.returncode == 1, result.stdout + result.stderr
    assert "was made for Darwin arm64 with Python 3.12" in result.stderr
    assert "No matching distribution" not in result.stderr
    assert not (course / ".venv").exists()


def test_setup_from_an_empty_wheelhouse_fails_offline(tmp_path):
    course = _course_copy(tmp_path / "course")
    (tmp_path / "empty").mkdir()
    result = subprocess.run(["bash", str(course / "course"), "setup", "--from",
                             str(tmp_path / "empty")], capture_output=True, text=True,
                            env=_offline_env(), timeout=600)
    assert result.returncode != 0
    assert "No matching distribution" in result.stderr or "no matching" in \
        result.stderr.lower(), result.stderr[-2000:]


@pytest.mark.slow
def test_wheelhouse_round_trip(tmp_path):
    """~2 GB in tmp_path (wheels and a venv with torch); pytest keeps only the last three
    runs' temporary folders, and deleting it here would add a minute."""
    wheels = tmp_path / "wheels"
    made = subprocess.run(["bash", str(REPO_ROOT / "course"), "wheelhouse", str(wheels)],
                          capture_output=True, text=True, timeout=1200, cwd=REPO_ROOT)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    assert list(wheels.glob("torch-*.whl")) and list(wheels.glob("setuptools-*.whl"))
    record = json.loads((wheels / wheelhouse.RECORD).read_text())
    assert record["builds"] == [dict(record["builds"][0], **wheelhouse.this_machine())]

    course = _course_copy(tmp_path / "course")
    setup = subprocess.run(["bash", str(course / "course"), "setup", "--from", str(wheels)],
                           capture_output=True, text=True, env=_offline_env(), timeout=1200)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]
    assert "no network" in setup.stdout and ": matches" in setup.stdout
    py = course / ".venv" / "bin" / "python"
    check = subprocess.run(
        [str(py), "-c", "import beliefcourse, torch, nbval, sphinx, myst_nb, ipywidgets; "
                        "print(beliefcourse.__file__)"],
        capture_output=True, text=True, timeout=300, env=_offline_env(), cwd=tmp_path)
    assert check.returncode == 0, check.stderr[-2000:]
    assert Path(check.stdout.strip()).parent == course / "beliefcourse"
    consistent = subprocess.run([str(py), "-m", "pip", "check"], capture_output=True,
                                text=True, env=_offline_env(), timeout=300, cwd=tmp_path)
    assert consistent.returncode == 0, consistent.stdout
