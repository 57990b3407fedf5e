"""beliefcourse: support package for the belief-state-geometry course.

Theory: :mod:`hmm`, :mod:`processes`, :mod:`beliefs`, :mod:`enumerate`, :mod:`msp`,
:mod:`information`, :mod:`plotting`, :mod:`mixture`, :mod:`incontext`, :mod:`distinguish`.
Learning: :mod:`data`, :mod:`model`, :mod:`train`, :mod:`probing`, :mod:`checkpoints`,
:mod:`worlds`. Teaching: :mod:`widgets`, :mod:`checks`.
Submodules are imported on demand, so ``import beliefcourse`` stays fast (no torch).
"""

__version__ = "0.1.0"
