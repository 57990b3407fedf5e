"""Tests for beliefcourse.probing.distances: the belief-distance test and its RRXOR ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from beliefcourse import enumerate as enum
from beliefcourse import probing, processes


def test_belief_distance_test_rrxor_ceiling():
    hmm = processes.rrxor()
    seqs = enum.all_sequences(hmm, 10)
    beliefs = seqs.beliefs[:, 1:]
    nxt = np.einsum("nls,xst->nlx", beliefs, hmm.T)
    res = probing.belief_distance_test(beliefs, beliefs, nxt, n_pairs=50_000)
    # a perfect belief representation: R² 1 against beliefs, ≈ 0.28 against next tokens
    assert res.r2_belief == pytest.approx(1.0)
    assert res.r2_next_token == pytest.approx(0.28, abs=0.03)
    assert res.point_distance.shape == (50_000,)
    with pytest.raises(ValueError, match="leading shape"):
        probing.belief_distance_test(beliefs[:5], beliefs, nxt)
