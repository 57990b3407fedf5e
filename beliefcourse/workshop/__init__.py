"""Tools for teaching the course in a workshop (``./course doctor | progress | slides | book``).

* :mod:`.catalog`: chapters, practice notebooks and their checker calls, found by globbing.
* :mod:`.doctor`: the pre-workshop check of a learner's machine.
* :mod:`.timings`: measured execution times of the notebooks (``instructors/timings.json``).
* :mod:`.progress`: runs a learner's practice notebooks headless and reports each exercise.
* :mod:`.stored`: widget outputs replaced by the image their stored state holds.
* :mod:`.slides`: reveal.js decks derived from the chapters.
* :mod:`.book`: the static HTML book (Sphinx + MyST-NB), built offline from the notebooks.
* :mod:`.guide`: the instructors' guide, generated from ``instructors/chapters/NN.md``, the
  timings and the checkers' planted-mistake diagnoses.

Command line: ``python -m beliefcourse.workshop {doctor,progress,slides,book,guide,measure}``.
Nothing here imports torch at import time.
"""
