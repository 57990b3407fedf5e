"""The ``./course`` entry point: its subcommands, and the address ``./course lab`` prints.

``COURSE_SKIP_SETUP=1`` makes the script use ``.venv`` as it is (no pip run), so these tests
exercise the script itself. The JupyterLab test starts the server the way a learner does
(``./course lab --no-browser``), reads the address it prints, and fetches it: the address
must open chapter 00 (``/lab/tree/chapters/00_welcome.ipynb``), not the Launcher.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import REPO_ROOT

COURSE = REPO_ROOT / "course"
CHAPTER_00 = "chapters/00_welcome.ipynb"


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, COURSE_SKIP_SETUP="1")
    for var, sub in (("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("JUPYTER_RUNTIME_DIR", "runtime")):
        env[var] = str(tmp_path / sub)  # no stale workspace, settings or server files
    return env


def _run(args, tmp_path, timeout=120):
    return subprocess.run(["bash", str(COURSE), *args], cwd=REPO_ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_package_commands(tmp_path):
    out = _run(["help"], tmp_path).stdout
    for word in ("./course train|probe|list", "./course test", "./course setup",
                 "COURSE_SKIP_SETUP"):
        assert word in out


def test_unknown_command_is_refused(tmp_path):
    result = _run(["frobnicate"], tmp_path)
    assert result.returncode == 2 and "unknown command 'frobnicate'" in result.stderr
    assert "train|probe|list" in result.stderr


@pytest.mark.slow
def test_list_runs_the_package_cli_inside_the_venv(tmp_path):
    """No activated environment needed: ./course list is `.venv/bin/python -m beliefcourse
    list` (PATH without .venv/bin proves it)."""
    env = _env(tmp_path)
    env["PATH"] = "/usr/bin:/bin"
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(["bash", str(COURSE), "list"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^mess3: \d+ checkpoints", result.stdout, flags=re.M)


@pytest.mark.slow
def test_lab_prints_an_address_that_opens_chapter_00(tmp_path, start_lab):
    lab = start_lab(REPO_ROOT, launcher=["bash", str(COURSE), "lab"], env=_env(tmp_path))
    port, token = urlparse(lab.base).port, lab.token
    url, deadline = None, time.monotonic() + 30
    while url is None:
        found = re.search(rf"http://127\.0\.0\.1:{port}/\S*", lab.log.read_text())
        if found:
            url = found.group(0)
        elif time.monotonic() > deadline:
            pytest.fail("JupyterLab printed no address:\n" + lab.log.read_text())
        else:
            time.sleep(0.5)
    parts = urlparse(url)
    assert parts.path == f"/lab/tree/{CHAPTER_00}", url
    # a token given on the command line is printed as "..."; fetch with the real one
    assert parts.query in (f"token={token}", "token=...")
    with urllib.request.urlopen(parts._replace(query=f"token={token}").geturl(),
                                timeout=30) as response:
        assert response.status == 200
        page = response.read().decode()
    assert "jupyter-config-data" in page            # the JupyterLab application page
    api = f"{lab.base}/api/contents/{CHAPTER_00}?content=0&token={token}"
    with urllib.request.urlopen(api, timeout=30) as response:
        info = json.load(response)
    assert info["type"] == "notebook" and info["path"] == CHAPTER_00
    # the course's lab settings (its defaults): no news toast over the notebook
    settings = (f"{lab.base}/lab/api/settings/"
                f"@jupyterlab/apputils-extension:notification?token={token}")
    with urllib.request.urlopen(settings, timeout=30) as response:
        schema = json.load(response)["schema"]["properties"]
    assert schema["fetchNews"]["default"] == "false", schema["fetchNews"]


# ------------------------------------------------------- a wrong Python or .venv (issue 20)
# Each failure is faked in a small copy of the course (the script, pyproject.toml and the
# workshop package): a fake interpreter is a shell script that prints a version or fails.
def _mini_course(tmp_path: Path) -> Path:
    course = tmp_path / "course-copy"
    course.mkdir()
    for name in ("course", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, course / name)
    shutil.copytree(REPO_ROOT / "beliefcourse" / "workshop", course / "beliefcourse" /
                    "workshop", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "beliefcourse" / "__init__.py").write_text("")
    return course


def _fake_python(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def _bare_env(tmp_path: Path, **extra) -> dict:
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), **extra}
    return env


def _course(course: Path, args, env, cwd=None):
    result = subprocess.run(["bash", str(course / "course"), *args], cwd=cwd or course,
                            env=env, capture_output=True, text=True, timeout=300)
    return result, result.stdout + result.stderr


def test_missing_interpreter_is_one_line_not_a_bash_error(tmp_path):
    course = _mini_course(tmp_path)
    for args in (["doctor"], ["setup"]):
        result, out = _course(course, args, _bare_env(tmp_path, PYTHON="python3.99"))
        assert result.returncode == 1, out
        assert "exec" not in out and "line " not in out, out      # no bash error
        assert out.count("\n") == 1 and "python3.99 not found" in out, out
        assert re.search(r"PYTHON=python3\.\d+ ./course setup", out), out


def test_pyenv_shim_that_exits_127_is_not_called_too_old(tmp_path):
    shim = _fake_python(tmp_path / "bin" / "python3",
                        'echo "pyenv: python3: command not found" >&2; exit 127')
    course = _mini_course(tmp_path)
    for args in (["doctor"], ["setup"]):
        result, out = _course(course, args, _bare_env(tmp_path, PYTHON=str(shim)))
        assert result.returncode == 1, out
        assert "too old" not in out and "does not run" in out and "exit status 127" in out
        assert "pyenv" in out and "PYTHON=" in out
        assert not (course / ".venv").exists()


def test_python_39_gets_one_clear_line(tmp_path):
    old = _fake_python(tmp_path / "bin" / "python3.9", "echo 3.9.18")
    course = _mini_course(tmp_path)
    for args in (["doctor"], ["setup"]):
        result, out = _course(course, args, _bare_env(tmp_path, PYTHON=str(old)))
        assert result.returncode == 1, out
        assert out.count("\n") == 1, out
        assert "Python 3.9.18; the course needs 3.10 or newer" in out
        assert re.search(r"PYTHON=python3\.\d+ ./course setup", out), out


def _venv_made_with(course: Path, version: str) -> None:
    venv = course / ".venv"
    _fake_python(venv / "bin" / "python", f"echo {version}")
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}\n")


def test_setup_and_doctor_refuse_a_venv_made_with_an_old_python(tmp_path):
    """setup stops before pip (which would download torch for cp39); the fix removes the
    venv first (a bare PYTHON=python3.11 ./course setup would keep it)."""
    course = _mini_course(tmp_path)
    _venv_made_with(course, "3.9.18")
    result, out = _course(course, ["setup"], _bare_env(tmp_path))
    assert result.returncode == 1 and out.count("\n") == 1, out
    assert ".venv was made with Python 3.9.18" in out
    assert re.search(r"Fix: rm -rf .venv && PYTHON=python3\.\d+ ./course setup", out)
    result, out = _course(course, ["doctor"], _bare_env(tmp_path))
    assert result.returncode == 1, out
    assert "[FAIL] venv" in out and "rm -rf .venv && PYTHON=python3.11 ./course setup" in out
    assert "[FAIL] package" not in out and "[skip] package" in out, out


def test_setup_and_doctor_detect_a_dangling_interpreter(tmp_path):
    course = _mini_course(tmp_path)
    (course / ".venv" / "bin").mkdir(parents=True)
    (course / ".venv" / "bin" / "python").symlink_to("/nonexistent/python3.10")
    result, out = _course(course, ["setup"], _bare_env(tmp_path))
    assert result.returncode == 1 and out.count("\n") == 1, out
    assert "no .venv" not in out and "Python is gone" in out and "/nonexistent" in out
    assert "Fix: rm -rf .venv && ./course setup" in out
    result, out = _course(course, ["doctor"], _bare_env(tmp_path))
    assert "no .venv" not in out and "[FAIL] venv" in out and "is gone" in out, out
    # the fix, pasted (its first half; the second is the ordinary setup): the venv check passes
    shutil.rmtree(course / ".venv")
    result, out = _course(course, ["doctor"], _bare_env(tmp_path))
    assert "[ ok ] venv" in out, out


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run the script as another user")
def test_setup_refuses_a_read_only_course_folder():
    """Run as `nobody` in a folder owned by root: setup says so with a fix, before writing."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        _read_only_setup(Path(tmp))


def _read_only_setup(tmp_path: Path) -> None:
    course = _mini_course(tmp_path)
    for p in [tmp_path, *tmp_path.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o555)
    course.chmod(0o555)
    env = _bare_env(tmp_path, PYTHON="/usr/bin/python3")
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             "bash", str(course / "course"), "setup"], cwd=course, env=env,
                            capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "not writable" in out and "sudo chown -R nobody" in out, out
    assert "cp -r" in out and not (course / ".venv").exists()


def test_setup_shows_its_steps_and_pips_progress(tmp_path):
    """Not ~3 silent minutes: a step count and one line per package pip collects (a fake
    .venv whose pip prints what the real one does)."""
    course = _mini_course(tmp_path)
    venv = course / ".venv"
    _fake_python(venv / "bin" / "python", '''case "$*" in
  *"-m pip install"*) printf '%s\\n' 'Collecting numpy>=1.26' \\
      '  Downloading numpy-2.3.whl (16 MB)' 'Collecting torch<2.14' \\
      'Installing collected packages: numpy, torch' \\
      'Successfully installed numpy-2.3 torch-2.13' ;;
  *) echo 3.11.7 ;;
esac''')
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    result, out = _course(course, ["setup"], _bare_env(tmp_path))
    assert result.returncode == 0, out
    assert "[1/2] installing the course" in out and "[2/2] ready" in out
    assert "2 packages collected" in out and "installing 2 packages" in out
    assert "done: numpy-2.3 torch-2.13" in out
    result, out = _course(course, ["setup"], _bare_env(tmp_path))     # up to date: silent
    assert result.returncode == 0 and out == "", out


def test_lab_installs_the_course_lab_settings(tmp_path):
    """JupyterLab's news check is off in the settings `./course` gives JupyterLab."""
    shipped = REPO_ROOT / "beliefcourse" / "workshop" / "lab" / "overrides.json"
    settings = json.loads(shipped.read_text())
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    result = _run(["lab", "--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    installed = REPO_ROOT / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(installed.read_text()) == settings
