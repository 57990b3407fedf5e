"""Random valid HMMs for property tests (imported as plain ``hmm_strategies``; ``tests/`` is
on ``sys.path``, see ``exercise_utils``)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from beliefcourse.hmm import HMM


def random_hmm(seed: int, n_states: int, n_tokens: int, sparsity: float = 0.3) -> HMM:
    """A random valid HMM: about ``sparsity`` of the entries of ``T`` are zero, every state
    has at least one way out, and every row of ``T.sum(0)`` sums to 1."""
    rng = np.random.default_rng(seed)
    T = rng.random((n_tokens, n_states, n_states)) ** 2
    T[rng.random(T.shape) < sparsity] = 0.0
    for i in range(n_states):
        if T[:, i].sum() == 0:
            T[rng.integers(n_tokens), i, rng.integers(n_states)] = 1.0
    T /= T.sum(axis=(0, 2), keepdims=True)
    return HMM(T)


def hmm_strategy(max_states: int = 3, max_tokens: int = 3):
    """A hypothesis strategy for :func:`random_hmm` with 1..max_states states and
    1..max_tokens tokens."""
    return st.builds(random_hmm, st.integers(0, 2**32 - 1), st.integers(1, max_states),
                     st.integers(1, max_tokens))
