"""The k-nearest-neighbor graph of the training data, and the mean over it."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import _chunks


def candidate_rows(
    n_samples: int, max_candidates: int, random_state: np.random.RandomState
) -> torch.Tensor | None:
    """Sorted random rows among which :func:`knn_graph` searches, above ``max_candidates``.

    None (every row is a candidate) up to ``max_candidates`` samples; one draw from
    ``random_state`` above.
    """
    if n_samples <= max_candidates:
        return None
    return torch.from_numpy(np.sort(random_state.choice(n_samples, max_candidates, replace=False)))


@torch.no_grad()
def knn_graph(
    X: torch.Tensor,
    n_neighbors: int,
    device: torch.device,
    candidates: torch.Tensor | None = None,
) -> torch.Tensor:
    """Indices of the ``n_neighbors`` nearest rows of each row of ``X`` (itself excluded).

    Exact Euclidean search by blocks of rows on ``device``, among all rows of ``X`` or,
    when ``candidates`` (sorted row indices) is given, among those rows only: time
    O(n · m · d) for m candidates, memory O(n · n_neighbors) for the result plus one
    block of at most ``GRAPH_BLOCK_ENTRIES`` distances. A row is never
    its own neighbor, but its duplicates are (at distance 0).

    Returns an int64 tensor of shape ``(n, n_neighbors)`` on the CPU.
    """
    n = X.shape[0]
    Xd = X.to(device)
    cand = torch.arange(n) if candidates is None else candidates.cpu()
    C = Xd[cand.to(device)]
    sq_norms = C.pow(2).sum(1)
    step = _chunks.rows_per_block(_chunks.GRAPH_BLOCK_ENTRIES, len(cand))
    out = torch.empty((n, n_neighbors), dtype=torch.int64)
    for block in _chunks.row_slices(n, step):
        # ||a - b||² = ||a||² - 2 a·b + ||b||²; the row's own norm does not change the order
        d2 = Xd[block] @ C.T
        d2.mul_(-2).add_(sq_norms)  # in place: one block-sized buffer
        rows = torch.arange(block.start, block.stop)
        pos = torch.searchsorted(cand, rows)  # where each row sits among the candidates
        is_candidate = (pos < len(cand)) & (cand[pos.clamp_max(len(cand) - 1)] == rows)
        own = torch.nonzero(is_candidate).squeeze(1)
        d2[own.to(d2.device), pos[own].to(d2.device)] = float("inf")
        idx = torch.topk(d2, n_neighbors, dim=1, largest=False, sorted=True).indices
        out[block] = cand[idx.cpu()]
    return out


#: Neighbors nearest-neighbor descent searches per row, per neighbor kept: longer lists
#: find more of the true neighbors (recall@10 on StackOverflow MiniLM: 0.93 with 11, 0.99
#: with 30; benchmarks/graph.py).
NNDESCENT_SEARCH_FACTOR = 3


def have_pynndescent(required: bool = False) -> bool:
    """Whether pynndescent imports; with ``required``, an ImportError that says how to
    install it instead of False."""
    try:
        import pynndescent  # noqa: F401
    except ImportError:
        if required:
            raise ImportError('knn_algorithm="nndescent" needs pynndescent: '
                              'pip install "skstc[fast]"') from None
        return False
    return True


def nndescent_knn_graph(X: torch.Tensor, n_neighbors: int, random_state: int) -> torch.Tensor:
    """Approximate :func:`knn_graph` by nearest-neighbor descent (pynndescent, which
    umap-learn uses; the ``fast`` extra): Euclidean, on the CPU, deterministic for a
    fixed ``random_state`` (one thread). Time about O(n log n · d) instead of O(n² · d).

    Each row's ``NNDESCENT_SEARCH_FACTOR * n_neighbors`` approximate neighbors are
    searched; the row itself is dropped and the nearest ``n_neighbors`` kept. Returns an
    int64 tensor of shape ``(n, n_neighbors)``.
    """
    have_pynndescent(required=True)
    from pynndescent import NNDescent

    n = X.shape[0]
    n_search = min(n, max(n_neighbors + 1, NNDESCENT_SEARCH_FACTOR * n_neighbors))
    index = NNDescent(X.cpu().numpy(), n_neighbors=n_search, metric="euclidean",
                      random_state=random_state, n_jobs=1, low_memory=True, compressed=True)
    idx = np.asarray(index.neighbor_graph[0], dtype=np.int64)  # nearest first
    own = idx == np.arange(n)[:, None]
    own_at = np.where(own.any(axis=1), own.argmax(axis=1), n_search)[:, None]
    cols = np.arange(n_neighbors)[None, :]
    out = np.take_along_axis(idx, cols + (cols >= own_at), axis=1)  # skip the row itself
    if (out < 0).any():  # too few distinct rows for the search to fill every list
        return knn_graph(X, n_neighbors, torch.device("cpu"))
    return torch.from_numpy(out)


@torch.no_grad()
def graph_mean(values: torch.Tensor, neighbors: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over each row's closed neighborhood (the row and its neighbors).

    ``values`` has shape ``(n, m)``, ``neighbors`` ``(n, n_neighbors)`` indices into it.
    One ``embedding_bag`` sum, which never holds the ``(n, n_neighbors, m)`` gather.
    """
    k = neighbors.shape[1]
    sums = F.embedding_bag(neighbors.to(values.device), values, mode="sum")
    return (sums + values) / (k + 1)


@torch.no_grad()
def modularity(labels: torch.Tensor, neighbors: torch.Tensor) -> float:
    """Modularity of the partition ``labels`` on the directed kNN graph ``neighbors``.

    ``Q = (1/m) Σ_ij [A_ij - k_i^out k_j^in / m] δ(c_i, c_j)`` (Leicht & Newman, 2008) with
    an edge ``i -> j`` for each neighbor j of i and ``m = n · n_neighbors`` edges: the
    fraction of edges inside a cluster minus the fraction expected at random for clusters
    of these sizes. Merging clusters raises the first term but not ``Q``. In [-1/2, 1].
    """
    labels = labels.cpu().long()
    neighbors = neighbors.cpu()
    n, k = neighbors.shape
    n_clusters = int(labels.max()) + 1 if n else 0
    if n == 0 or k == 0:
        return 0.0
    neighbor_labels = labels[neighbors]
    within = (neighbor_labels == labels[:, None]).double().mean()
    out_degree = torch.bincount(labels, minlength=n_clusters).double() * k
    in_degree = torch.bincount(neighbor_labels.reshape(-1), minlength=n_clusters).double()
    return float(within - (out_degree * in_degree).sum() / float(n * k) ** 2)
