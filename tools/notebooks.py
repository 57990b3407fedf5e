#!/usr/bin/env python
"""Build, execute and check the course notebooks: ``beliefcourse.workshop.notebooks``'s
command line, runnable from a checkout whether or not the package is installed.

    python tools/notebooks.py build
    python tools/notebooks.py execute PATH.ipynb [PATH.ipynb ...] | --all
    python tools/notebooks.py check
    python tools/notebooks.py clean  < NOTEBOOK.ipynb  > NORMALISED.ipynb   (git filter)

What each command does: the docstring of ``beliefcourse/workshop/notebooks.py``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package

from beliefcourse.workshop.notebooks import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
