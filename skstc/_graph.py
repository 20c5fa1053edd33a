"""The k-nearest-neighbor graph of the training data, and the mean over it."""

from __future__ import annotations

import torch

#: Upper bound on the entries of one block of the distance matrix (about 128 MB in float32).
_BLOCK_ENTRIES = 2**25


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
    block of at most ``_BLOCK_ENTRIES`` distances. A row is never its own neighbor, but
    its duplicates are (at distance 0).

    Returns an int64 tensor of shape ``(n, n_neighbors)`` on the CPU.
    """
    n = X.shape[0]
    Xd = X.to(device)
    cand = torch.arange(n) if candidates is None else candidates.cpu()
    C = Xd[cand.to(device)]
    sq_norms = C.pow(2).sum(1)
    step = max(1, min(n, _BLOCK_ENTRIES // max(len(cand), 1)))
    out = torch.empty((n, n_neighbors), dtype=torch.int64)
    for start in range(0, n, step):
        stop = min(n, start + step)
        # ||a - b||² = ||a||² - 2 a·b + ||b||²; the row's own norm does not change the order
        d2 = Xd[start:stop] @ C.T
        d2.mul_(-2).add_(sq_norms)  # in place: one block-sized buffer
        rows = torch.arange(start, stop)
        pos = torch.searchsorted(cand, rows)  # where each row sits among the candidates
        is_candidate = (pos < len(cand)) & (cand[pos.clamp_max(len(cand) - 1)] == rows)
        own = torch.nonzero(is_candidate).squeeze(1)
        d2[own.to(d2.device), pos[own].to(d2.device)] = float("inf")
        idx = torch.topk(d2, n_neighbors, dim=1, largest=False, sorted=True).indices
        out[start:stop] = cand[idx.cpu()]
    return out


@torch.no_grad()
def neighbor_mean(values: torch.Tensor, neighbors: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over each row's closed neighborhood (the row and its neighbors).

    ``values`` has shape ``(n, m)``, ``neighbors`` ``(n, n_neighbors)`` indices into it.
    Computed in row blocks, so that the ``(block, n_neighbors, m)`` gather stays small.
    """
    n, m = values.shape
    k = neighbors.shape[1]
    out = torch.empty_like(values)
    step = max(1, _BLOCK_ENTRIES // max(1, k * m))
    neighbors = neighbors.to(values.device)
    for start in range(0, n, step):
        stop = min(n, start + step)
        out[start:stop] = (values[neighbors[start:stop]].sum(1) + values[start:stop]) / (k + 1)
    return out


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
