"""Argument checks shared by the probing modules."""

from __future__ import annotations

import numpy as np


def positive_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is an integer >= 1; else TypeError / ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)
