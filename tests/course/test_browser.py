"""A real browser drives the course in JupyterLab: Run All, then move a widget's slider.

What it proves that nbval cannot: the notebook runs in the learner's front end, the ipywidgets
front end renders the explorer, and a slider change travels to the kernel and back as a new
picture. It needs Debian's ``chromium`` package (or ``BELIEFCOURSE_CHROMIUM``) and Python
Playwright from the test extras; never ``playwright install``, which downloads another browser.

The notebook is copied, without outputs or saved widget state, into a temporary folder that
is JupyterLab's root, so autosave never touches the repository. Screenshots go to
``test-artifacts/`` (git-ignored): ``browser_<notebook>_{run_all,before,after}.png``.
Two notebooks are driven: chapter 03 (the fractal explorer, the course's centre-piece widget)
and chapter 01 (the Mess3 explorer). ``BELIEFCOURSE_BROWSER_NOTEBOOK=PATH`` drives only PATH.
A third test clicks token buttons of chapter 02's belief-update widget
(``BELIEFCOURSE_BROWSER_BELIEF_NOTEBOOK=PATH``: another notebook that displays it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from conftest import LAB_IDLE, REPO_ROOT, chromium_page, lab_open, lab_run_all

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = ([os.environ["BELIEFCOURSE_BROWSER_NOTEBOOK"]]
             if os.environ.get("BELIEFCOURSE_BROWSER_NOTEBOOK")
             else ["chapters/03_mixed_state_presentation.ipynb",
                   "chapters/01_hidden_markov_models.ipynb"])
RUN_ALL_TIMEOUT_MS = 400_000  # the whole chapter, on 2 cores, next to an xdist neighbour

# The output area of the first widget that has both a slider and an image (the explorer).
FIND_WIDGET_JS = """() => {
  const areas = [...document.querySelectorAll('.jp-OutputArea-output')];
  const a = areas.find(o => o.querySelector('.widget-slider') && o.querySelector('img'));
  if (!a) return false;
  a.setAttribute('data-course-test', 'explorer');
  return true;
}"""
EXPLORER = "[data-course-test=explorer]"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: Path(p).stem)
def lab(request, tmp_path, start_lab):
    """A JupyterLab server (conftest's ``start_lab``) rooted in a temporary folder that holds
    the notebook without its outputs."""
    NOTEBOOK = request.param
    src = REPO_ROOT / NOTEBOOK
    if not src.exists():
        pytest.fail(f"{NOTEBOOK} missing: run `python tools/notebooks.py build`")
    root = tmp_path / "lab"
    (root / Path(NOTEBOOK).parent).mkdir(parents=True)
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, root / NOTEBOOK)
    server = start_lab(root)
    yield {"url": server.url(NOTEBOOK), "log": server.log, "notebook": NOTEBOOK}


def test_run_all_and_move_a_slider(lab, chromium_executable, artifacts_dir):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    stem = Path(lab["notebook"]).stem
    shot = {k: artifacts_dir / f"browser_{stem}_{k}.png" for k in ("run_all", "before", "after")}
    for path in shot.values():
        path.unlink(missing_ok=True)
    with chromium_page(chromium_executable, 1400, 1000, 120_000) as page:
        lab_open(page, lab["url"])
        t0 = time.monotonic()
        try:
            lab_run_all(page, timeout_ms=RUN_ALL_TIMEOUT_MS)
        except PlaywrightTimeout:
            page.screenshot(path=str(shot["run_all"]), full_page=True)
            errors = page.locator(
                "[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
            pytest.fail("Run All did not finish; errors shown:\n" + "\n".join(errors)[-3000:])
        print(f"Run All took {time.monotonic() - t0:.1f} s")
        page.wait_for_function(FIND_WIDGET_JS)
        widget = page.locator(EXPLORER)
        widget.scroll_into_view_if_needed()
        img = widget.locator("img").first
        page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                               arg=img.element_handle())
        page.screenshot(path=str(shot["run_all"]))
        widget.screenshot(path=str(shot["before"]))
        before_src = img.get_attribute("src")
        before_png = shot["before"].read_bytes()
        readout = widget.locator(".widget-slider .widget-readout").first
        before_value = readout.inner_text()

        # Drag the first slider's handle to a quarter of its track; the widgets use
        # continuous_update=False, so the value is sent on release.
        # The explorer can be taller than the viewport: bring the slider itself into view.
        widget.locator(".widget-slider").first.scroll_into_view_if_needed()
        handle = widget.locator(".widget-slider .noUi-handle").first.bounding_box()
        track = widget.locator(".widget-slider .noUi-target").first.bounding_box()
        y = handle["y"] + handle["height"] / 2
        page.mouse.move(handle["x"] + handle["width"] / 2, y)
        page.mouse.down()
        page.mouse.move(track["x"] + track["width"] * 0.25, y, steps=10)
        page.mouse.up()
        t1 = time.monotonic()
        page.wait_for_function(
            "([i, old]) => i.src !== old && i.complete && i.naturalWidth > 0",
            arg=[img.element_handle(), before_src], timeout=60_000)
        print(f"picture replaced {time.monotonic() - t1:.2f} s after the drag")
        page.wait_for_selector(LAB_IDLE)
        widget.screenshot(path=str(shot["after"]))
        after_value = readout.inner_text()
    assert after_value != before_value, f"slider readout stayed at {before_value}"
    assert shot["after"].read_bytes() != before_png, "the widget looks the same after the drag"


# ---------------------------------------------------------------------------- chapter 02
BELIEF_NOTEBOOK = os.environ.get("BELIEFCOURSE_BROWSER_BELIEF_NOTEBOOK",
                                 "chapters/02_belief_updating.ipynb")
# The output area of the belief-update widget: token buttons, "random token" and a picture.
FIND_BELIEF_WIDGET_JS = """() => {
  const areas = [...document.querySelectorAll('.jp-OutputArea-output')];
  const a = areas.find(o => o.querySelector('img') && [...o.querySelectorAll('button')]
                                .some(b => b.textContent.trim() === 'random token'));
  if (!a) return false;
  a.setAttribute('data-course-test', 'belief-update');
  return true;
}"""


@pytest.mark.parametrize("lab", [BELIEF_NOTEBOOK], indirect=True,
                         ids=lambda p: Path(p).stem)
def test_click_a_token_and_the_belief_moves(lab, chromium_executable, artifacts_dir):
    """Chapter 02's belief-update widget: Run All, click A then B, and see the picture and the
    status line follow (``browser_belief_update_{before,after}.png``)."""
    shot = {k: artifacts_dir / f"browser_belief_update_{k}.png" for k in ("before", "after")}
    with chromium_page(chromium_executable, 1366, 768, 120_000) as page:
        lab_open(page, lab["url"])
        lab_run_all(page, timeout_ms=RUN_ALL_TIMEOUT_MS)
        try:
            page.wait_for_function(FIND_BELIEF_WIDGET_JS, timeout=30_000)
        except Exception:
            pytest.fail(f"{lab['notebook']} shows no belief-update widget after Run All "
                        "(the cell `belief_update_widget()`, see "
                        "beliefcourse/widgets/belief_update.py)")
        widget = page.locator("[data-course-test=belief-update]")
        widget.scroll_into_view_if_needed()
        img = widget.locator("img").first
        status = widget.locator(".widget-html").first
        page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                               arg=img.element_handle())
        widget.screenshot(path=str(shot["before"]))
        before = img.get_attribute("src"), status.inner_text()
        for name, word in (("A", "A"), ("B", "AB")):
            old = img.get_attribute("src")
            widget.get_by_role("button", name=name, exact=True).click()
            page.wait_for_function(
                "([i, old]) => i.src !== old && i.complete && i.naturalWidth > 0",
                arg=[img.element_handle(), old], timeout=60_000)
            page.wait_for_function("([s, w]) => s.textContent.includes(w)",
                                   arg=[status.element_handle(), f" {word}: η"],
                                   timeout=30_000)
        widget.screenshot(path=str(shot["after"]))
        after = img.get_attribute("src"), status.inner_text()
    assert "0 tokens (none)" in before[1], before[1]
    assert "2 tokens AB:" in after[1] and after[0] != before[0], after[1]


# ---------------------------------------------------------------------------- stored figures
FIGURE_NOTEBOOK = "chapters/04_training.ipynb"


def test_the_output_area_and_the_figures_at_1366(tmp_path, start_lab, chromium_executable,
                                                 artifacts_dir):
    """Chapter 04 as a learner first sees it (stored outputs, nothing run) at 1366×768: every
    figure renders, none is shrunk below 72 %, and the output area is the width that
    ``tests/course/test_stored_outputs.py`` holds every notebook's figures to."""
    from test_stored_outputs import MIN_SCALE, OUTPUT_WIDTH_1366, _png_widths

    nb = nbformat.read(REPO_ROOT / FIGURE_NOTEBOOK, as_version=4)
    expected = len(list(_png_widths(nb)))
    root = tmp_path / "lab"
    (root / "chapters").mkdir(parents=True)
    nbformat.write(nb, root / FIGURE_NOTEBOOK)
    server = start_lab(root)
    panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    seen = []
    with chromium_page(chromium_executable, 1366, 768, 120_000) as page:
        lab_open(page, server.url(FIGURE_NOTEBOOK))
        images = page.locator(f"{panel} .jp-OutputArea-output img")
        while len(seen) < expected:
            if images.count() > len(seen):
                img = images.nth(len(seen))
                img.scroll_into_view_if_needed()
                page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                                       arg=img.element_handle(), timeout=30_000)
                seen.append(img.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width,"
                                         " i.closest('.jp-OutputArea-output').clientWidth]"))
            elif not page.evaluate("p => { const w = document.querySelector(p + "
                                   "' .jp-WindowedPanel-outer'); if (!w) return false; "
                                   "const before = w.scrollTop; w.scrollTop += 600; "
                                   "return w.scrollTop !== before; }", panel):
                break
        page.screenshot(path=str(artifacts_dir / "browser_figures_04_training.png"))
    assert len(seen) == expected, f"{len(seen)} of {expected} stored figures rendered"
    assert all(shown >= MIN_SCALE * natural for natural, shown, _ in seen), seen
    widths = {area for _, _, area in seen}
    assert all(abs(w - OUTPUT_WIDTH_1366) <= 40 for w in widths), (
        f"the output area is {widths} px wide at 1366×768, not about {OUTPUT_WIDTH_1366}: "
        "update OUTPUT_WIDTH_1366 in tests/course/test_stored_outputs.py")
