"""Sphinx configuration of the course's book (copied into the staging folder by
``beliefcourse/workshop/book.py``, which also writes index.md and the notebooks beside it).

Jupyter Book 1's engine, used directly: Sphinx + MyST-NB + sphinx-book-theme. It builds
offline: notebooks are rendered from their stored outputs (never executed), MathJax is a
local copy (jupyter-server-mathjax), search is Sphinx's own index, and no widget script is
loaded from a CDN (widgets were replaced by their stored image before the build).
"""

project = "beliefcourse"
author = "the beliefcourse authors"
copyright = "the beliefcourse authors, MIT licence"
html_title = "Belief-state geometry in transformers: a course"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

nb_execution_mode = "off"        # the stored outputs are the book; nothing is re-run
nb_ipywidgets_js = {}            # no widget manager from a CDN
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_update_mathjax = False
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_theme_options = {"show_toc_level": 2, "use_download_button": False,
                      "use_fullscreen_button": False, "home_page_in_toc": True}
html_static_path = ["_static"]
html_last_updated_fmt = None

# MathJax 2 from _static/mathjax (jupyter-server-mathjax ships only the STIX-Web fonts)
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
mathjax2_config = {
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None,
                 "preferredFont": None},
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                "processEscapes": True, "processEnvironments": True},
    "messageStyle": "none",
}
