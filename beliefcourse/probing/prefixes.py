"""Shared prefixes: the duplicates in an enumerated data set, and where a sequence split leaks.

A causal model's position ``p`` sees only the prefix ``tokens[n, :p + 1]``, so all sequences
that share that prefix give the same activation and the same belief there. Two consequences
(chapter 05, sections 3 and 4):

* least squares on ``k`` identical points is least squares on one point of weight ``k``, so a
  probe can be fitted on each distinct prefix once (:func:`distinct_prefixes`);
* a held-out split over sequences still shares short prefixes with the fit set: only the
  points whose prefix starts no fitted sequence are new (:func:`new_prefix_points`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _tokens_2d(tokens) -> np.ndarray:
    t = np.asarray(tokens)
    if t.ndim != 2 or t.shape[0] < 1 or t.shape[1] < 1:
        raise ValueError(f"tokens must be a non-empty (N, L) array, got shape {t.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"tokens must be integers, got dtype {t.dtype}")
    return t


def prefix_ids(tokens) -> np.ndarray:
    """``ids[n, p]`` labels the prefix ``tokens[n, :p + 1]`` among the prefixes of length
    ``p + 1``: equal labels in one column mean equal prefixes.

    ``tokens (N, L)`` integers -> ``ids (N, L)`` int64, each column numbered ``0, 1, ...`` in
    the lexicographic order of its prefixes.
    """
    t = _tokens_2d(tokens)
    ids = np.empty(t.shape, dtype=np.int64)
    for p in range(t.shape[1]):
        ids[:, p] = np.unique(t[:, :p + 1], axis=0, return_inverse=True)[1].reshape(-1)
    return ids


@dataclass(frozen=True)
class PrefixCopies:
    """Which points to fit once, and how many sequences each stands for.

    ``first (N, L)`` bool: point ``(n, p)`` is the first sequence (lowest ``n``) with its
    prefix. ``copies (N, L)`` int: how many sequences share the prefix of ``(n, p)``, so
    ``copies[first].sum() == N * L``. ``n_distinct`` is ``first.sum()``.
    """

    first: np.ndarray
    copies: np.ndarray

    @property
    def n_distinct(self) -> int:
        return int(self.first.sum())


def distinct_prefixes(tokens) -> PrefixCopies:
    """The first occurrence of every prefix and its number of copies (see :class:`PrefixCopies`).

    Fitting ``AffineProbe`` on ``X[first]`` with ``sample_weight=copies[first]`` gives the same
    probe as fitting every point of ``X`` once, when the features of a point depend only on its
    prefix (a causal model's activations do).
    """
    ids = prefix_ids(tokens)
    first = np.zeros(ids.shape, dtype=bool)
    copies = np.empty(ids.shape, dtype=np.int64)
    for p in range(ids.shape[1]):
        _, index, counts = np.unique(ids[:, p], return_index=True, return_counts=True)
        first[index, p] = True
        copies[:, p] = counts[ids[:, p]]
    return PrefixCopies(first=first, copies=copies)


def _indices(seqs, n: int, name: str) -> np.ndarray:
    idx = np.asarray(seqs)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{name} must be a 1-D array of sequence indices, got {idx.dtype} "
                        f"of shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"{name} must index the {n} sequences (0..{n - 1})")
    return idx


def new_prefix_points(tokens, train_seqs, test_seqs) -> np.ndarray:
    """Mask ``(N, L)``: held-out points whose prefix starts **no** fitted sequence.

    ``[n, p]`` is True when ``n`` is in ``test_seqs`` and ``tokens[n, :p + 1]`` differs from
    ``tokens[t, :p + 1]`` for every ``t`` in ``train_seqs``; it is False everywhere else (fit
    sequences included). These are the held-out points that are new to the probe.
    """
    t = _tokens_2d(tokens)
    train = _indices(train_seqs, len(t), "train_seqs")
    test = _indices(test_seqs, len(t), "test_seqs")
    if np.intersect1d(train, test).size:
        raise ValueError("train_seqs and test_seqs overlap: a held-out sequence was fitted")
    ids = prefix_ids(t)
    mask = np.zeros(t.shape, dtype=bool)
    for p in range(t.shape[1]):
        mask[test, p] = ~np.isin(ids[test, p], ids[train, p])
    return mask
