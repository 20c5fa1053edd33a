"""Data generators and small settings shared by the test files (fixtures: conftest.py)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

#: Topics of the toy corpus: eight words each, no word shared between topics.
TOPICS = (
    "python list dict tuple lambda pandas numpy import",
    "oracle sql join index query table database schema",
    "apache htaccess rewrite virtualhost server module port proxy",
)
_FILLERS = ("the", "a", "of", "and")


#: Where each setting of the flat shorthand of :func:`small_params` goes.
_GROUPS = {
    **{k: [("network", k)] for k in ("hidden_dims", "decoder_dims", "alpha", "scale")},
    **{k: [("pretrain", k)] for k in ("tsne_weight", "perplexity")},
    **{k: [("self_train", k)] for k in ("lr", "update_interval", "tol", "consistency_weight")},
    "pretrain_epochs": [("pretrain", "epochs")], "pretrain_lr": [("pretrain", "lr")],
    "batch_size": [("pretrain", "batch_size"), ("self_train", "batch_size")],
}


def small_params(**overrides) -> dict:
    """STCClustering parameters small enough for a test to fit in about a second.

    Settings of the groups may be given flat (``update_interval=5``, ``pretrain_epochs=3``,
    ``batch_size=64`` for both phases); they are routed to ``network``, ``pretrain`` and
    ``self_train``.
    """
    flat = dict(hidden_dims=(32, 32), decoder_dims=(32,), pretrain_epochs=15,
                update_interval=20, batch_size=64)
    params = dict(n_components=4, max_iter=120, device="cpu", random_state=0)
    for name, value in overrides.items():
        (flat if name in _GROUPS else params)[name] = value
    for name, value in flat.items():
        for group, key in _GROUPS[name]:
            params.setdefault(group, {})[key] = value
    return params


def topic_corpus(
    n_per_topic: int = 40, seed: int = 0, *, n_words: int = 4, fillers: bool = False
) -> tuple[list[str], np.ndarray]:
    """Short texts of ``n_words`` words drawn from one of :data:`TOPICS` each, and topics.

    With ``fillers`` the words of each text are drawn with replacement from the topic's
    words and four stop words shared by all topics.
    """
    rng = np.random.RandomState(seed)
    texts, y = [], []
    for label, vocab in enumerate(TOPICS):
        words = vocab.split() + (list(_FILLERS) if fillers else [])
        for _ in range(n_per_topic):
            texts.append(" ".join(rng.choice(words, size=n_words, replace=fillers)))
            y.append(label)
    return texts, np.array(y)


def write_memmap(path: Path, X: np.ndarray) -> np.memmap:
    """Save ``X`` as ``.npy`` at ``path`` and open it read-only, memory-mapped."""
    np.save(path, X)
    return np.load(path, mmap_mode="r")


def grouped_normal(n: int, d: int, seed: int = 0) -> np.ndarray:
    """``n`` float32 rows: standard normal noise around four centres 0, 3, 6, 9 (all dims)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32) + 3 * rng.integers(4, size=(n, 1))


def peak_numpy_bytes(fn) -> int:
    """Peak bytes allocated through Python/numpy while ``fn`` runs (torch's own are not seen)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
