"""Exact enumeration of every positive-probability sequence of a given length.

``all_sequences(hmm, L)`` expands all prefixes breadth-first, one token at a time, keeping
only those of positive probability. Each step is one batched matrix product, so Mess3 at
length 10 (59,049 sequences) takes a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hmm import HMM, _positive_int


@dataclass(frozen=True)
class SequenceSet:
    """All positive-probability sequences of one length, with exact probabilities.

    Attributes
    ----------
    tokens : int64 array, shape (N, L)
        Sequences in lexicographic order of tokens.
    probs : float64 array, shape (N,)
        ``P(tokens[n])`` from the prior; sums to 1.
    beliefs : float64 array, shape (N, L + 1, n_states)
        ``beliefs[n, t]`` is the belief after the first ``t`` tokens (index 0 = prior).
    """

    tokens: np.ndarray
    probs: np.ndarray
    beliefs: np.ndarray

    def __len__(self) -> int:
        return len(self.probs)

    @property
    def length(self) -> int:
        return self.tokens.shape[1]


def all_sequences(hmm: HMM, length: int, prior=None, max_sequences: int = 5_000_000
                  ) -> SequenceSet:
    """Every sequence of ``length`` tokens with positive probability, exactly.

    Parameters
    ----------
    hmm : HMM
    length : int >= 1
    prior : array_like, optional
        Initial belief; default the stationary distribution.
    max_sequences : int
        Refuse (with a ``ValueError``) to build more than this many sequences, rather than
        exhaust memory: the count grows like ``n_tokens ** length``.
    """
    if not isinstance(hmm, HMM):
        raise TypeError(f"hmm must be an HMM, got {type(hmm).__name__}")
    length = _positive_int(length, "length")
    X, S = hmm.n_tokens, hmm.n_states
    eta = hmm._prior(prior, 1)                       # (1, S) current beliefs
    probs = np.ones(1)
    tokens = np.zeros((1, 0), dtype=np.int64)
    beliefs = eta[:, None, :]                         # (N, t+1, S)
    for t in range(length):
        n_next = len(probs) * X
        if n_next > max_sequences:
            raise ValueError(f"length {length} needs more than {max_sequences:,} sequences "
                             f"(at length {t + 1} already {n_next:,} candidates); "
                             "use a shorter length or raise max_sequences")
        unnorm = np.einsum("ni,xij->nxj", eta, hmm.T)          # (N, X, S)
        step = unnorm.sum(-1)                                   # (N, X)
        keep = step.reshape(-1) > 0
        parent = np.repeat(np.arange(len(probs)), X)[keep]
        tok = np.tile(np.arange(X), len(probs))[keep]
        step = step.reshape(-1)[keep]
        eta = unnorm.reshape(-1, S)[keep] / step[:, None]
        probs = probs[parent] * step
        tokens = np.concatenate([tokens[parent], tok[:, None]], axis=1)
        beliefs = np.concatenate([beliefs[parent], eta[:, None, :]], axis=1)
    return SequenceSet(tokens=tokens, probs=probs, beliefs=beliefs)
