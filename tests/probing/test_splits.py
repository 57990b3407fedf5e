"""Tests for beliefcourse.probing.splits: sequence splits of the authors' sizes, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from beliefcourse import probing


def test_split_sequences_paper_sizes_and_seeding():
    train, test = probing.split_sequences(59_049, 0.2, seed=0)
    assert (len(train), len(test)) == (11_809, 47_240)          # sklearn test_size=0.8
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(59_049))
    again, _ = probing.split_sequences(59_049, 0.2, seed=0)
    other, _ = probing.split_sequences(59_049, 0.2, seed=1)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)
    full, empty = probing.split_sequences(10, 1.0)
    assert len(full) == 10 and len(empty) == 0


@pytest.mark.parametrize("frac", [0.0, -0.1, 1.5, 0.01])
def test_split_sequences_rejects_bad_fractions(frac):
    with pytest.raises(ValueError, match="train_fraction"):
        probing.split_sequences(20, frac)
