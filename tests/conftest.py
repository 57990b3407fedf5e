"""Shared test setup.

Environment. The notebook kernels nbval starts inherit this process's environment, so it is
set here, once, to ``tools/notebooks.py``'s ``VARIANT_ENV``: *other* CPU kernels than the ones
``execute`` stored the outputs with (OpenBLAS's Sandybridge kernels, torch's portable ATen
kernels), one thread unless ``OMP_NUM_THREADS`` is already set (``./course test`` sets 1;
set 2 by hand to check the thread count too), and the same fixed hash seed. A stored output
that passes under it does not depend on the CPU (CONTRIBUTING.md, "Machine independence").
``MPLBACKEND`` is *removed* rather than set to Agg: ipykernel only selects the inline backend
when the variable is empty, and with Agg every stored figure would be missing from a fresh
run. Tests in this process get Agg through ``matplotlib.use`` instead.

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

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tools"))

import notebooks  # noqa: E402  (tools/notebooks.py: the environment the outputs were stored in)

os.environ.update({k: v for k, v in notebooks.VARIANT_ENV.items()
                   if not (k == "OMP_NUM_THREADS" and k in os.environ)})  # a set count is kept

# The authors' published weights (``./course paper-weights``) are optional: chapter 05 stores
# the line its optional cell prints without them. Kernels and tests see an empty cache, so a
# machine that has downloaded them still reproduces the stored outputs; the one test that
# uses the real files reads them from where they are (USER_PAPER_CACHE).
from beliefcourse import paper_weights as _paper_weights  # noqa: E402

USER_PAPER_CACHE = _paper_weights.cache_dir()
os.environ[_paper_weights.ENV_VAR] = tempfile.mkdtemp(prefix="beliefcourse-empty-cache-")
os.environ.pop("MPLBACKEND", None)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("BELIEFCOURSE_REQUIRE_BROWSER"))


def find_chromium() -> str | None:
    """A Chromium executable: $BELIEFCOURSE_CHROMIUM, /usr/bin/chromium, or one on PATH."""
    explicit = os.environ.get("BELIEFCOURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _unavailable(reason: str):
    if browser_required():
        pytest.fail(f"browser test required in CI, but {reason}")
    pytest.skip(reason)


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
