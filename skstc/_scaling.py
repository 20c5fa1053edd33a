"""Input scaling of STC, fitted and applied in row blocks (a memmapped X is read, not copied)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import _chunks


def _row_slices(X: np.ndarray):
    """Slices of row blocks of about 2**20 values: no statistic or copy holds a second X."""
    step = _chunks.rows_per_block(_chunks.SCALING_BLOCK_ENTRIES, X.shape[1])
    return _chunks.row_slices(X.shape[0], step)


def _row_blocks(X: np.ndarray):
    """The row blocks of :func:`_row_slices`."""
    return (X[rows] for rows in _row_slices(X))


def _squared_deviations(block: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Column sums of ``(block - offset)²`` with one float64 temporary."""
    centred = block - offset
    centred *= centred
    return centred.sum(axis=0)


def _scaled_block(block: np.ndarray, offset: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    """``(block - offset) / divisor`` in float64 with one temporary."""
    scaled = block - offset
    scaled /= divisor
    return scaled


def fit_scaling(X: np.ndarray, scale: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column offset and divisor of the input scaling; constant columns divide by 1.

    Computed in row blocks in float64, so that a (memory-mapped) X is read, never copied.
    """
    n_features = X.shape[1]
    if scale is None:
        return np.zeros(n_features), np.ones(n_features)
    if scale == "minmax":
        offset = np.min([b.min(axis=0) for b in _row_blocks(X)], axis=0).astype(np.float64)
        divisor = np.max([b.max(axis=0) for b in _row_blocks(X)], axis=0) - offset
    else:
        offset = sum(b.sum(axis=0, dtype=np.float64) for b in _row_blocks(X)) / X.shape[0]
        ssq = sum(_squared_deviations(block, offset) for block in _row_blocks(X))
        divisor = np.sqrt(ssq / X.shape[0])
        if scale == "global":
            # one divisor for all columns: unit mean variance, geometry kept
            divisor = np.full(n_features, np.sqrt(np.mean(divisor**2)))
    max_abs = max(float(np.abs(b).max()) for b in _row_blocks(X))
    tiny = 1e-12 * max(1.0, max_abs)
    divisor = np.where(divisor > tiny, divisor, 1.0)
    return offset, divisor


def scaled_tensor(X: np.ndarray, offset: np.ndarray, divisor: np.ndarray) -> torch.Tensor:
    """``(X - offset) / divisor`` as a float32 CPU tensor, computed in row blocks (one copy)."""
    out = np.empty(X.shape, dtype=np.float32)
    for rows in _row_slices(X):
        out[rows] = _scaled_block(X[rows], offset, divisor)
    return torch.from_numpy(out)


def map_scaled(
    fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray, offset: np.ndarray,
    divisor: np.ndarray,
) -> np.ndarray:
    """``fn`` of the scaled rows of ``X``, one block of rows at a time, into one array.

    Each block is scaled (:func:`scaled_tensor`), passed to ``fn`` and its result copied
    into a preallocated output, so that memory holds one scaled block (at most
    :data:`~skstc._chunks.INFERENCE_BLOCK_ENTRIES` values), never a scaled copy of ``X``.
    """
    step = _chunks.rows_per_block(_chunks.INFERENCE_BLOCK_ENTRIES, X.shape[1])
    out = None
    for rows in _chunks.row_slices(X.shape[0], step):
        chunk = fn(scaled_tensor(X[rows], offset, divisor)).cpu().numpy()
        if out is None:
            out = np.empty((X.shape[0], *chunk.shape[1:]), dtype=chunk.dtype)
        out[rows] = chunk
    if out is None:  # no rows
        return fn(scaled_tensor(X, offset, divisor)).cpu().numpy()
    return out
