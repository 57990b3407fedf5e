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
import secrets
import socket
import subprocess
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_lab_prints_an_address_that_opens_chapter_00(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp_path / "lab.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["bash", str(COURSE), "lab", "--no-browser", f"--port={port}",
             "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
             f"--IdentityProvider.token={token}"],
            cwd=REPO_ROOT, env=_env(tmp_path), stdout=log, stderr=subprocess.STDOUT)
        try:
            url = None
            deadline = time.monotonic() + 120
            while url is None:
                found = re.search(rf"http://127\.0\.0\.1:{port}/\S*", log_path.read_text())
                if found:
                    url = found.group(0)
                elif proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab printed no address:\n" + log_path.read_text())
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
            api = f"http://127.0.0.1:{port}/api/contents/{CHAPTER_00}?content=0&token={token}"
            with urllib.request.urlopen(api, timeout=30) as response:
                info = json.load(response)
            assert info["type"] == "notebook" and info["path"] == CHAPTER_00
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
