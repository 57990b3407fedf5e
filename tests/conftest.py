"""Shared test setup.

Environment. The notebook kernels nbval starts inherit this process's environment, so it is
set here, once, to ``beliefcourse.workshop.notebooks.VARIANT_ENV``: *other* CPU kernels than
the ones ``execute`` stored the outputs with (OpenBLAS's Sandybridge kernels, torch's
portable ATen kernels), one thread unless ``OMP_NUM_THREADS`` is already set (``./course
test`` sets 1; set 2 by hand to check the thread count too), and the same fixed hash seed. A
stored output that passes under it does not depend on the CPU (CONTRIBUTING.md, "Machine
independence"). ``MPLBACKEND`` is *removed* rather than set to Agg: ipykernel only selects
the inline backend when the variable is empty, and with Agg every stored figure would be
missing from a fresh run. Tests in this process get Agg through ``matplotlib.use`` instead.

Markers. ``slow`` marks a test that takes more than a few seconds (a subprocess that sets up
or starts something, a notebook run, the book, a browser); every notebook nbval checks is
marked ``slow`` here too. ``./course test`` and CI run everything; ``pytest -m "not slow"
tests`` is the developers' quick loop. ``browser`` marks the tests that drive JupyterLab in
Chromium (the ``start_lab`` fixture, :func:`chromium_page`, :func:`lab_open` and
:func:`lab_run_all` below are their shared parts).

Hypothesis. Under CI (``CI`` set, as ``.ci/run`` does) the ``ci`` profile is loaded: examples are
derived from each test's name (``derandomize=True``), so every CI run tries the same inputs,
and there is no example database, so no run replays failures stored by an earlier one.
Elsewhere the ``dev`` profile keeps Hypothesis's defaults (random examples, a local database
under ``.hypothesis/`` that replays a failure until it is fixed). ``HYPOTHESIS_PROFILE=ci``
selects the CI behaviour anywhere. Either way a failure prints the blob that reproduces it.

Browser tests (marker ``browser``) need Chromium and Python Playwright. They are skipped with
the reason when either is missing, except in CI (``CI`` or ``BELIEFCOURSE_REQUIRE_BROWSER``
set), where a missing browser is an error.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import settings

from beliefcourse.workshop.doctor import find_chromium  # noqa: F401  (tests import it here)
from beliefcourse.workshop.notebooks import VARIANT_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.update({k: v for k, v in VARIANT_ENV.items()
                   if not (k == "OMP_NUM_THREADS" and k in os.environ)})  # a set count is kept

# The authors' published weights (``./course paper-weights``) are optional: chapter 05 stores
# the line its optional cell prints without them. Kernels and tests see an empty cache, so a
# machine that has downloaded them still reproduces the stored outputs; the one test that
# uses the real files reads them from where they are (USER_PAPER_CACHE).
from beliefcourse import paper_weights as _paper_weights  # noqa: E402

USER_PAPER_CACHE = _paper_weights.cache_dir()
_EMPTY_CACHE = tempfile.TemporaryDirectory(prefix="beliefcourse-empty-cache-")  # gone at exit
os.environ[_paper_weights.ENV_VAR] = _EMPTY_CACHE.name
os.environ.pop("MPLBACKEND", None)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LAB_IDLE = "#jp-main-statusbar >> text=/\\| Idle/"   # JupyterLab's status bar: kernel idle


def browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("BELIEFCOURSE_REQUIRE_BROWSER"))


def _unavailable(reason: str):
    if browser_required():
        pytest.fail(f"browser test required in CI, but {reason}")
    pytest.skip(reason)


@pytest.fixture
def no_plt_show(monkeypatch):
    """Fail if any function calls plt.show(); close every figure afterwards (the plotting
    tests: package functions draw, the caller shows)."""
    import matplotlib.pyplot as plt

    def show(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Python Playwright is not installed (pip install -e '.[test]')")
    exe = find_chromium()
    if exe is None:
        _unavailable("no Chromium found (apt-get install chromium, or set BELIEFCOURSE_CHROMIUM)")
    return exe


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """test-artifacts/ at the repository root (git-ignored): screenshots for people to look at."""
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_lab(tmp_path):
    """Start JupyterLab servers for a test (the browser tests, ``./course lab``); each is
    stopped when the test ends.

    ``start_lab(root)`` serves folder ``root`` with this environment's ``jupyter lab``;
    ``start_lab(root, launcher=[...], env=...)`` runs another command that starts JupyterLab
    and passes on its options (``["bash", "course", "lab"]``). Either way the server gets a
    free loopback port, a random token, ``--no-browser``, and settings, workspaces and
    runtime files under ``tmp_path`` (no stale workspace or user settings); ``MPLBACKEND``
    is removed so its kernels pick the inline backend. Returns once ``/api/status``
    answers: ``lab.base`` (``http://127.0.0.1:PORT``), ``lab.token``, ``lab.log`` (the
    server's output), ``lab.url(path)`` (the address that opens ``path``)."""
    started = []

    def start(root: Path, launcher: list[str] | None = None, env: dict | None = None,
              timeout: float = 120):
        port, token = free_port(), secrets.token_hex(16)
        env = dict(os.environ if env is None else env)
        env.pop("MPLBACKEND", None)
        for var, sub in (("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                         ("JUPYTER_RUNTIME_DIR", "runtime")):
            env[var] = str(tmp_path / f"lab-{sub}")
        if launcher is None:
            launcher = [str(Path(sys.executable).parent / "jupyter"), "lab",
                        f"--ServerApp.root_dir={root}"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                launcher.append("--allow-root")
        cmd = [*launcher, "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
        log_path = tmp_path / f"lab{len(started)}.log"
        log = log_path.open("w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
        started.append((proc, log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + log_path.read_text())
                time.sleep(0.5)
        return SimpleNamespace(base=base, token=token, log=log_path,
                               url=lambda path: f"{base}/lab/tree/{path}?token={token}")

    yield start
    for proc, log in started:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def chromium_page(executable: str, width: int = 1400, height: int = 1000,
                  timeout_ms: float = 120_000):
    """A Playwright page of ``width`` x ``height`` CSS pixels in headless Chromium
    (:data:`CHROMIUM_ARGS`; ``executable`` from the ``chromium_executable`` fixture), with
    ``timeout_ms`` as its default timeout; the browser closes on leaving the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


def lab_open(page, url: str) -> None:
    """Open ``url`` (``lab.url(path)``) in a Playwright ``page``; return once the notebook
    shows its cells and the kernel is idle, with the "Jupyter news?" toast dismissed."""
    page.goto(url)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_selector(LAB_IDLE)
    no = page.locator(".jp-toast-button", has_text="No")
    if no.count():
        no.first.click()


def lab_run_all(page, timeout_ms: float) -> None:
    """In a JupyterLab ``page`` showing a notebook: Run > Run All Cells, then wait until
    every code cell has an execution count (Playwright's TimeoutError after ``timeout_ms``)
    and the kernel is idle."""
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()  # focus the notebook
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        """() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                   return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(
                       p.textContent)); }""",
        timeout=timeout_ms)
    page.wait_for_selector(LAB_IDLE)


def pytest_collection_modifyitems(items):
    """Every notebook cell nbval collects is ``slow`` (a kernel runs the whole notebook)."""
    for item in items:
        if type(item).__name__ == "IPyNbCell":
            item.add_marker(pytest.mark.slow)


# ------------------------------------------------------------------ machine-independent numbers
# The rule of tests/course/test_stored_outputs.py (stored outputs) and tests/workshop/test_guide.py
# (the guide's pages): a signed zero or rounding noise printed as digits.
SIGNED_ZERO = re.compile(r"(?<![\w.+\-])[-+−]0(?:\.0*)?(?![\d.]*[1-9])(?!\w)|[-+]0\.?0*j\b")
NOISE = re.compile(r"(?<![\w.])(\d(?:\.\d+)?)[eE]-(1[3-7]|2[6-9]|3[0-4])\b")


def fragile_numbers(text: str) -> list[str]:
    """The signed zeros and noise digits in ``text``, each with a little context."""
    found = [m for m in SIGNED_ZERO.finditer(text)]
    found += [m for m in NOISE.finditer(text) if m.group(1) != "1"]
    return [text[max(0, m.start() - 30):m.end() + 5].replace("\n", " ") for m in found]
