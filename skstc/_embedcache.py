"""The function the embedding cache stores, alone in its module.

:class:`joblib.Memory` drops a function's cached results when its source or its first
line moves; here, edits to :mod:`skstc.embeddings` leave the cache alone. The cache key
holds ``spec``, the transformer's full ``repr``, so that an embedding whose settings
change is computed again.
"""

from __future__ import annotations

import numpy as np


def embed(texts: list[str], embedding: str, seed: int, spec: str,
          verbose: bool = False) -> np.ndarray:
    """``make_embedding(embedding, random_state=seed).fit_transform(texts)`` as float32
    (``spec`` only keys the cache)."""
    from .embeddings import make_embedding

    transformer = make_embedding(embedding, random_state=seed, verbose=verbose)
    return np.asarray(transformer.fit_transform(texts), dtype=np.float32)
