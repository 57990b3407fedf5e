"""``python -m beliefcourse.grid``: see :func:`beliefcourse.grid.main`."""

from . import main

raise SystemExit(main())
