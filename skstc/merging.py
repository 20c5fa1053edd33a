"""Merging clusters after a fit: a hierarchy over the centroids, and a relabelling.

A user who asked for too many clusters sees near-duplicates (two clusters about the same
thing). :func:`cluster_hierarchy` joins the centroids μ of a fitted
:class:`~skstc.STCClustering` bottom-up (Ward's criterion in the latent space, each
centroid weighted by its cluster's size), so the first joins are the clusters closest to
each other; :func:`merge_clusters` cuts it at a smaller number of clusters and gives the
map from the fitted clusters to the merged ones, without refitting: ``mapping[labels_]``
and ``mapping[predict(X)]`` are the merged labels.

>>> import numpy as np
>>> from sklearn.datasets import make_blobs
>>> from skstc import STCClustering
>>> from skstc.merging import merge_clusters
>>> X, _ = make_blobs(300, centers=3, n_features=8, random_state=0)
>>> stc = STCClustering(6, network={"hidden_dims": (16,)}, n_components=4, max_iter=60,
...                     random_state=0).fit(X)
>>> mapping = merge_clusters(stc, 3)
>>> np.unique(mapping[stc.labels_]).size
3
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["cluster_hierarchy", "merge_clusters", "merged_proba"]


def cluster_hierarchy(estimator) -> np.ndarray:
    """The merge tree of a fitted estimator's clusters, as a SciPy linkage matrix.

    Ward's criterion on the centroids ``cluster_centers_``, each repeated as often as its
    cluster has training samples (``labels_``; an empty cluster counts once): the cost of a
    join is the increase of the within-cluster sum of squares of the codes it would cause
    if every code sat on its centroid. Row ``i`` joins nodes ``Z[i, 0]`` and ``Z[i, 1]`` at
    height ``Z[i, 2]`` (:func:`scipy.cluster.hierarchy.linkage`'s format; clusters are the
    nodes ``0..n_clusters-1``), so :func:`scipy.cluster.hierarchy.dendrogram` draws it.

    Parameters
    ----------
    estimator : STCClustering
        A fitted estimator.

    Returns
    -------
    Z : ndarray of shape (n_clusters - 1, 4)
        The linkage matrix.
    """
    check_is_fitted(estimator)
    centers = np.asarray(estimator.cluster_centers_, dtype=np.float64)
    k = centers.shape[0]
    sizes = np.maximum(np.bincount(estimator.labels_, minlength=k), 1).astype(np.float64)
    ids = list(range(k))  # the tree's nodes still to join, in the order they came
    rows = []
    for new in range(k, 2 * k - 1):
        # Ward cost of every join: n_a n_b / (n_a + n_b) |c_a - c_b|², the least first
        # (the first in node order among equal costs)
        cost = (sizes[:, None] * sizes[None] / (sizes[:, None] + sizes[None])
                * ((centers[:, None] - centers[None]) ** 2).sum(-1))
        cost[np.tril_indices(len(ids))] = np.inf
        i, j = np.unravel_index(np.argmin(cost), cost.shape)
        na, nb = sizes[i], sizes[j]
        merged = (na * centers[i] + nb * centers[j]) / (na + nb)
        rows.append([ids[i], ids[j], np.sqrt(2 * cost[i, j]), na + nb])
        keep = np.ones(len(ids), dtype=bool)
        keep[[i, j]] = False
        centers = np.vstack([centers[keep], merged])
        sizes = np.append(sizes[keep], na + nb)
        ids = [node for node, kept in zip(ids, keep) if kept] + [new]
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def merge_clusters(estimator, n_clusters: int) -> np.ndarray:
    """Map a fitted estimator's clusters onto ``n_clusters`` by joining the closest first.

    Parameters
    ----------
    estimator : STCClustering
        A fitted estimator.
    n_clusters : int
        The number of clusters after merging, from 1 to ``estimator.n_clusters``.

    Returns
    -------
    mapping : ndarray of shape (estimator.n_clusters,)
        ``mapping[j]`` is the merged cluster of fitted cluster ``j``, in
        ``0..n_clusters-1``, numbered by the smallest fitted cluster each holds.
    """
    check_is_fitted(estimator)
    k = len(estimator.cluster_centers_)
    if not 1 <= n_clusters <= k:
        raise ValueError(f"n_clusters must be from 1 to the fitted {k}, got {n_clusters}.")
    groups = {i: [i] for i in range(k)}  # node of the tree -> fitted clusters under it
    for step, (a, b, _, _) in enumerate(cluster_hierarchy(estimator)[: k - n_clusters]):
        groups[k + step] = groups.pop(int(a)) + groups.pop(int(b))
    mapping = np.empty(k, dtype=np.int64)
    for new, members in enumerate(sorted(groups.values(), key=min)):
        mapping[members] = new
    return mapping


def merged_proba(proba: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Soft assignments after a merge: the Q of a merged cluster is the sum of its parts'.

    ``proba`` is ``(n_samples, n_fitted)``, ``mapping`` what :func:`merge_clusters`
    returns; the result is ``(n_samples, mapping.max() + 1)``.

    >>> import numpy as np
    >>> merged_proba(np.array([[0.5, 0.3, 0.2]]), np.array([0, 1, 0]))
    array([[0.7, 0.3]])
    """
    merged = np.zeros((proba.shape[0], int(mapping.max()) + 1), dtype=proba.dtype)
    np.add.at(merged.T, mapping, proba.T)
    return merged
