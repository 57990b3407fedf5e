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

import time

import pytest
from conftest import REPO_ROOT, chromium_page, lab_open, lab_run_all

from beliefcourse.workshop import notebooks as nbtool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "chapters/01_hidden_markov_models.ipynb"


def test_run_all_and_save_leaves_no_diff(tmp_path, start_lab, chromium_executable):
    root = tmp_path / "lab"
    path = root / NOTEBOOK
    path.parent.mkdir(parents=True)
    stored = (REPO_ROOT / NOTEBOOK).read_text(encoding="utf-8")   # as committed
    path.write_text(stored, encoding="utf-8")
    lab = start_lab(root)
    with chromium_page(chromium_executable, 1400, 1000, 300_000) as page:
        lab_open(page, lab.url(NOTEBOOK))
        lab_run_all(page, timeout_ms=300_000)
        mtime = path.stat().st_mtime
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 60
        while path.stat().st_mtime == mtime and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)                   # let the write finish
    saved = path.read_text(encoding="utf-8")
    assert saved != stored, "JupyterLab did not save (or drew the very same widget ids)"
    assert len(saved.encode()) == len(stored.encode()), "the saved file changed size"
    assert nbtool.clean_filter(saved) == stored
