"""Checkers for the practice notebooks: ``check_<thing>(your_function) -> CheckResult``.

Each chapter's checkers live in ``beliefcourse.checks.chNN``; the most used are re-exported
here, so ``from beliefcourse import checks; checks.check_stationary(f)`` works. A result is
truthy when the check passed and displays as a one-paragraph verdict (see
:mod:`beliefcourse.checks._core`).
"""

from ._core import CheckResult, run_checks
from .ch01 import (
    check_bigram_probabilities,
    check_mess3_matrices,
    check_same_token_probability,
    check_sample,
    check_sequence_probability,
    check_stationary,
)

__all__ = [
    "CheckResult",
    "check_bigram_probabilities",
    "check_mess3_matrices",
    "check_same_token_probability",
    "check_sample",
    "check_sequence_probability",
    "check_stationary",
    "run_checks",
]
