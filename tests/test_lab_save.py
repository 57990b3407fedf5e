"""A learner who runs a chapter in JupyterLab and saves it leaves no change git can see.

The committed chapter is copied to a temporary folder and opened in JupyterLab in headless
Chromium: Run All, save. The kernel runs in the environment ``./course test`` checks in
(tests/conftest.py: ``VARIANT_ENV``, other CPU kernels than the ones that stored the
outputs), so this is the learner on another machine. What JupyterLab writes must
have the same size as the stored file (git compares sizes before contents) and, after the
clean filter (``tools/notebooks.py clean``, registered by ``./course setup``), the same
bytes. JupyterLab draws new random widget ids and saves no widget state by default; the ids
keep their length and the filter renumbers them. Chapter 01 is used: it is short and has a
widget. Marked ``browser`` (needs Chromium and Playwright, see tests/conftest.py).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import notebooks as nbtool  # tools/notebooks.py, put on sys.path by conftest.py
import pytest
from conftest import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "chapters/01_hidden_markov_models.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
IDLE = "#jp-main-statusbar >> text=/\\| Idle/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_all_and_save_leaves_no_diff(tmp_path, chromium_executable):
    from playwright.sync_api import sync_playwright

    root = tmp_path / "lab"
    path = root / NOTEBOOK
    path.parent.mkdir(parents=True)
    stored = (REPO_ROOT / NOTEBOOK).read_text(encoding="utf-8")   # as committed
    path.write_text(stored, encoding="utf-8")

    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    for var, sub in (("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("JUPYTER_RUNTIME_DIR", "runtime")):
        env[var] = str(tmp_path / sub)
    cmd = [str(os.path.join(os.path.dirname(sys.executable), "jupyter")), "lab",
           "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with (tmp_path / "lab.log").open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("JupyterLab did not start:\n"
                                    + (tmp_path / "lab.log").read_text())
                    time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_executable,
                                            args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(300_000)
                try:
                    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
                    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
                    page.wait_for_selector(IDLE)
                    no = page.locator(".jp-toast-button", has_text="No")
                    if no.count():
                        no.first.click()
                    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
                    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
                    page.wait_for_function(
                        """() => { const ps = [...document.querySelectorAll(
                                       '.jp-CodeCell .jp-InputPrompt')];
                                   return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(
                                       p.textContent)); }""")
                    page.wait_for_selector(IDLE)
                    mtime = path.stat().st_mtime
                    page.keyboard.press("Control+s")
                    deadline = time.monotonic() + 60
                    while path.stat().st_mtime == mtime and time.monotonic() < deadline:
                        time.sleep(0.5)
                    time.sleep(1)                   # let the write finish
                finally:
                    browser.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    saved = path.read_text(encoding="utf-8")
    assert saved != stored, "JupyterLab did not save (or drew the very same widget ids)"
    assert len(saved.encode()) == len(stored.encode()), "the saved file changed size"
    assert nbtool.clean_filter(saved) == stored
