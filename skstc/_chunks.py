"""Row chunking: every whole-data computation of skstc runs on blocks of rows.

One helper, four budgets, each named for what it bounds: the scaling's float64
temporaries, the neighbor search's block of distances, the encoder's activations when a
whole data set goes through it without gradients, and the scaled copy of a block of rows
that inference (and the labelling pass at the end of ``fit``) holds at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

#: Values per block of the input scaling (its float64 temporaries stay about 8 MB).
SCALING_BLOCK_ENTRIES = 2**20
#: Entries of one block of the neighbor search's distance matrix (about 128 MB in float32).
GRAPH_BLOCK_ENTRIES = 2**25
#: Rows per chunk when a whole data set goes through the encoder without gradients.
INFERENCE_ROWS = 4096
#: Values of one scaled block of input rows at inference (about 16 MB in float32).
INFERENCE_BLOCK_ENTRIES = 2**22


def rows_per_block(max_entries: int, row_entries: int) -> int:
    """Rows of ``row_entries`` values each that fit in ``max_entries`` (at least one)."""
    return max(1, max_entries // max(1, row_entries))


def row_slices(n_rows: int, step: int) -> Iterator[slice]:
    """Consecutive slices of ``step`` rows (the last may be shorter) covering ``n_rows``."""
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def map_rows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    device: torch.device,
    step: int | None = None,
) -> torch.Tensor:
    """``fn`` applied to row chunks of ``X`` (moved to ``device``), into one preallocated output.

    Filling a preallocated tensor, rather than concatenating a list of chunk outputs,
    keeps memory flat: small live outputs interleaved with the large freed activations
    of every chunk would fragment the heap (seen: +1.5 GB for 200,000 rows). ``step``:
    rows per chunk, :data:`INFERENCE_ROWS` by default.
    """
    if X.shape[0] == 0:
        return fn(X.to(device))
    out = None
    for rows in row_slices(X.shape[0], step or INFERENCE_ROWS):
        chunk = fn(X[rows].to(device, non_blocking=True))
        if out is None:
            out = chunk.new_empty((X.shape[0], *chunk.shape[1:]))
        out[rows] = chunk
        del chunk
    return out
