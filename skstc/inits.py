"""Starts of self-training: the initial centroids μ, and recipes for ``init``.

``STCClustering(init=...)`` takes ``"auto"``, ``"kmeans"`` (the paper: k-means on the
latent codes), an array of centroids, or a callable ``init(Z, X, neighbors, random_state)``
of the codes ``Z`` (numpy, ``(n, n_components)``), the scaled input ``X`` (a tensor,
``(n, n_features)``), the kNN graph ``neighbors`` (a tensor of indices, ``(n, k)``, or None)
and a ``numpy.random.RandomState``. The callable returns either

- a *view*: one row per sample (``(n, d)``); k-means (10 restarts) clusters it and each
  centroid is the mean code of its cluster (k-means' own centroids when the view is ``Z``
  itself), or
- the centroids: ``(n_clusters, n_components)``, used as given.

The functions below are such views; those over the kNN graph return the codes
themselves where there is no graph (``n_neighbors=0``, or too few rows for one). They are
the starts the benchmarks compare (``benchmarks/starts.py``); the default,
``init="auto"``, is :func:`codes` below 50 clusters and :func:`graph_averaged_codes` from
50 on. :func:`most_modular` chooses among starts by the modularity of their labels on the
kNN graph.

>>> from skstc import STCClustering, inits
>>> stc = STCClustering(20, init=inits.diffused_input)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.cluster import kmeans_plusplus as _kmeans_plusplus

from ._training import log_q_of_codes
from .graph import graph_mean, modularity

__all__ = ["GRAPH_STEPS", "UMAP_SETTINGS", "codes", "diffused_codes", "diffused_input",
           "graph_averaged_codes", "initial_centroids", "kmeans_plusplus", "most_modular",
           "scaled_input", "umap_input"]

#: Steps of neighbor averaging in :func:`graph_averaged_codes`, :func:`diffused_input`
#: and :func:`diffused_codes`.
GRAPH_STEPS = 3

#: k-means restarts on a view.
N_INIT = 10

#: Above this many samples, k-means on a view runs on a random subsample of this size.
KMEANS_MAX_SAMPLES = 100_000

#: Smallest ``n_clusters`` for which ``init="auto"`` starts from :func:`graph_averaged_codes`.
GRAPH_INIT_MIN_CLUSTERS = 50

#: UMAP's settings in :func:`umap_input`: those of UMAP + k-means
#: (:class:`~skstc.baselines.UMAPKMeans`, the recipe of BERTopic-style pipelines).
UMAP_SETTINGS = {"n_components": 5, "n_neighbors": 15, "min_dist": 0.0, "metric": "cosine"}

Init = Callable[[np.ndarray, torch.Tensor, "torch.Tensor | None", np.random.RandomState],
                np.ndarray]


def codes(Z: np.ndarray, X: torch.Tensor, neighbors, random_state) -> np.ndarray:
    """The latent codes themselves: ``init="kmeans"``, the paper's start."""
    return Z


def scaled_input(Z: np.ndarray, X: torch.Tensor, neighbors, random_state) -> np.ndarray:
    """The scaled input: k-means on the input, each centroid the mean code of its cluster."""
    return X.cpu().numpy()


def graph_averaged_codes(Z: np.ndarray, X, neighbors: torch.Tensor, random_state) -> np.ndarray:
    """The codes averaged 3 times (``GRAPH_STEPS``) over each sample's closed neighborhood
    in the kNN graph (:func:`~skstc.graph.graph_mean`): ``init="auto"`` from 50 clusters."""
    if neighbors is None:  # no graph (n_neighbors=0, or too few rows): the codes
        return Z
    smoothed = torch.from_numpy(Z)
    for _ in range(GRAPH_STEPS):
        smoothed = graph_mean(smoothed, neighbors)
    return smoothed.numpy()


def _diffused(V: torch.Tensor, neighbors: torch.Tensor) -> np.ndarray:
    """The rows of ``V``, L2-normalised, then ``GRAPH_STEPS`` times averaged over each
    closed neighborhood and normalised again: the smoothing of diffusion + k-means
    (:class:`~skstc.baselines.DiffusionKMeans`), over STC's graph."""
    diffused = F.normalize(V.float(), dim=1)
    for _ in range(GRAPH_STEPS):
        diffused = F.normalize(graph_mean(diffused, neighbors), dim=1)
    return diffused.cpu().numpy()


def diffused_input(Z: np.ndarray, X: torch.Tensor, neighbors: torch.Tensor,
                   random_state) -> np.ndarray:
    """The scaled input diffused over the kNN graph: the features of diffusion + k-means."""
    if neighbors is None:  # no graph (n_neighbors=0, or too few rows): the codes
        return Z
    return _diffused(X, neighbors)


def diffused_codes(Z: np.ndarray, X, neighbors: torch.Tensor, random_state) -> np.ndarray:
    """The codes, centred, then diffused over the kNN graph like :func:`diffused_input`."""
    if neighbors is None:  # no graph (n_neighbors=0, or too few rows): the codes
        return Z
    return _diffused(torch.from_numpy(Z - Z.mean(axis=0)), neighbors)


def umap_input(Z: np.ndarray, X: torch.Tensor, neighbors,
               random_state: np.random.RandomState) -> np.ndarray:
    """The scaled input embedded by UMAP (``UMAP_SETTINGS``: UMAP + k-means' 5 dimensions,
    15 neighbors, ``min_dist=0``, cosine; one thread, seeded from
    ``random_state``): the view of UMAP + k-means. Needs umap-learn (``skstc[umap]``).
    UMAP builds its own neighbor graph; below 3 rows the view is the scaled input."""
    UMAP = umap_class("inits.umap_input")
    n = X.shape[0]
    if n < 3:
        return scaled_input(Z, X, neighbors, random_state)
    settings = {**UMAP_SETTINGS, "n_neighbors": min(UMAP_SETTINGS["n_neighbors"], n - 1)}
    if n <= settings["n_components"] + 1:  # too few rows for UMAP's spectral layout
        settings["init"] = "random"
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    umap = UMAP(**settings, random_state=seed, n_jobs=1)
    return np.asarray(umap.fit_transform(X.cpu().numpy()), dtype=np.float32)


def kmeans_plusplus(n_clusters: int) -> Init:
    """A start of ``n_clusters`` centroids by k-means++ seeding of the codes, without
    Lloyd iterations.

    >>> from skstc import STCClustering, inits
    >>> stc = STCClustering(8, init=inits.kmeans_plusplus(8))
    """
    def seeded(Z: np.ndarray, X, neighbors, random_state) -> np.ndarray:
        return _kmeans_plusplus(Z, n_clusters, random_state=random_state)[0].astype(np.float32)

    seeded.__qualname__ = f"kmeans_plusplus({n_clusters})"
    return seeded


def most_modular(n_clusters: int,
                 candidates: Sequence[Init] = (graph_averaged_codes, diffused_codes)) -> Init:
    """The start, among ``candidates``, whose labels (each code's nearest centroid) have
    the highest modularity on the kNN graph (:func:`~skstc.graph.modularity`; the first of
    equal scores).

    Each candidate's view is clustered as :func:`initial_centroids` does, from a copy of
    the random state, so that every candidate draws the same numbers; the random state
    then goes on from the chosen one's. Without a graph: the codes (k-means on ``Z``).
    With the default candidates it gains on news and tweets and loses on intents
    (``benchmarks/RESULTS.md``, "The most modular start"), so it is not the default.

    >>> from skstc import STCClustering, inits
    >>> stc = STCClustering(60, init=inits.most_modular(60))
    """
    def start(Z: np.ndarray, X: torch.Tensor, neighbors, random_state) -> np.ndarray:
        if neighbors is None:
            return Z
        best = None
        for view in candidates:
            state = copy.deepcopy(random_state)
            centers = initial_centroids(view, Z, X, neighbors, n_clusters, state)
            # each code's nearest centroid, as the fit labels a start (in row chunks)
            labels = log_q_of_codes(torch.from_numpy(Z), torch.from_numpy(centers), 1.0).argmax(1)
            score = modularity(labels, neighbors)
            if best is None or score > best[0]:
                best = (score, centers, state)
        random_state.set_state(best[2].get_state())
        return best[1]

    start.__qualname__ = f"most_modular({n_clusters})"
    return start


def umap_class(what: str):
    """umap-learn's ``UMAP``, or an ImportError that says ``what`` needs it and how to
    install it."""
    try:
        from umap import UMAP
    except ImportError:
        raise ImportError(f"{what} needs umap-learn: pip install 'skstc[umap]'") from None
    return UMAP


def mean_codes(Z: np.ndarray, labels: np.ndarray, view: np.ndarray,
               view_centers: np.ndarray) -> np.ndarray:
    """Mean code of each cluster of ``labels`` (found on another ``view`` of the samples).

    A cluster with no sample gets the code of the sample nearest to its centre in ``view``.
    """
    n_clusters = view_centers.shape[0]
    counts = np.bincount(labels, minlength=n_clusters)
    sums = np.zeros((n_clusters, Z.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, Z)
    centers = sums / np.maximum(counts, 1)[:, None]
    for j in np.flatnonzero(counts == 0):
        centers[j] = Z[np.argmin(((view - view_centers[j]) ** 2).sum(1))]
    return centers.astype(np.float32)


def resolve(init, n_clusters: int):
    """``init`` as a callable or an array: ``"kmeans"`` is :func:`codes`; ``"auto"`` is
    :func:`graph_averaged_codes` from 50 clusters (``GRAPH_INIT_MIN_CLUSTERS``; the codes
    themselves where there is no graph), else :func:`codes`."""
    if isinstance(init, str):
        if init == "auto" and n_clusters >= GRAPH_INIT_MIN_CLUSTERS:
            return graph_averaged_codes
        return codes
    return init


def initial_centroids(
    init,
    Z: np.ndarray,
    X: torch.Tensor,
    neighbors: torch.Tensor | None,
    n_clusters: int,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """The initial centroids μ, ``(n_clusters, n_components)`` float32, of a start.

    ``init`` is a value of ``STCClustering(init=...)``; a view (see the module's
    docstring) is clustered by k-means with 10 restarts (``N_INIT``), on 100,000 rows
    (``KMEANS_MAX_SAMPLES``) drawn at random above that.
    """
    init = resolve(init, n_clusters)
    if not callable(init):
        return np.asarray(init, dtype=np.float32)
    view = init(Z, X, neighbors, random_state)
    if view.shape[0] != Z.shape[0]:
        return _checked_centroids(view, n_clusters, Z.shape[1])
    km, sub = _kmeans_on_view(view, n_clusters, random_state)
    if view is Z:
        return km.cluster_centers_.astype(np.float32)
    return mean_codes(Z[sub], km.labels_, view[sub], km.cluster_centers_)


def _kmeans_on_view(view: np.ndarray, n_clusters: int, random_state: np.random.RandomState,
                    n_init: int | str = N_INIT) -> tuple[KMeans, np.ndarray]:
    """k-means with ``n_init`` restarts on the rows of ``view``, on ``KMEANS_MAX_SAMPLES``
    of them drawn at random above that: the fitted model and the rows it saw."""
    sub = np.arange(view.shape[0])
    if view.shape[0] > KMEANS_MAX_SAMPLES:
        sub = np.sort(random_state.choice(view.shape[0], KMEANS_MAX_SAMPLES, replace=False))
    return KMeans(n_clusters, n_init=n_init, random_state=random_state).fit(view[sub]), sub


def _checked_centroids(centers, n_clusters: int, n_components: int) -> np.ndarray:
    centers = np.asarray(centers, dtype=np.float32)
    if centers.shape != (n_clusters, n_components):
        raise ValueError(
            f"init returned an array of shape {centers.shape}: neither a view (one row per "
            f"sample) nor centroids of shape (n_clusters, n_components) = "
            f"({n_clusters}, {n_components}).")
    if not np.all(np.isfinite(centers)):
        raise ValueError("init returned centroids with NaN or infinity.")
    return centers
