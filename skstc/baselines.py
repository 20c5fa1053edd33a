"""Peer methods that STC is compared with: cheap clusterings of the same embedding matrix.

Each is a scikit-learn clusterer with ``fit``, ``fit_predict`` and an inductive ``predict``
(new rows are labelled without refitting), so that the evaluation protocol of
:mod:`skstc.evaluation` scores them exactly as it scores :class:`~skstc.STCClustering`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .inits import umap_class

__all__ = ["DiffusionKMeans", "UMAPKMeans"]


class _KMeansOnFeatures(ClusterMixin, BaseEstimator):
    """What both peers share: k-means (``n_clusters``, ``n_init``, ``random_state``) on
    features each computes its own way."""

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters=8, n_init=10, random_state=None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.random_state = random_state

    def _fit_kmeans(self, features: np.ndarray):
        """``kmeans_`` fitted on ``features``, its labels ``labels_``; returns self."""
        self.kmeans_ = KMeans(self.n_clusters, n_init=self.n_init,
                              random_state=self.random_state).fit(features)
        self.labels_ = self.kmeans_.labels_
        return self


class DiffusionKMeans(_KMeansOnFeatures):
    """k-means on features smoothed over the k-nearest-neighbor graph.

    The rows of ``X`` are L2-normalised, the ``n_neighbors`` graph (cosine) is
    symmetrised and row-normalised into ``A``, ``X ← A X`` is applied ``n_steps``
    times (each time followed by L2 normalisation), and k-means clusters the result.
    A new row is smoothed the same way over its neighbors among the training rows
    (its own row included, with the weight of one neighbor) before
    ``KMeans.predict``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    n_neighbors : int, default=10
        Neighbors per row in the graph.
    n_steps : int, default=3
        Number of smoothing steps.
    n_init : int, default=10
        k-means restarts.
    random_state : int, RandomState instance or None, default=None
        Seeds k-means.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row.
    kmeans_ : KMeans
        The k-means model fitted on the smoothed training features.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skstc.baselines import DiffusionKMeans
    >>> X, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> DiffusionKMeans(3, random_state=0).fit(X).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_KMeansOnFeatures._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_clusters=8, *, n_neighbors=10, n_steps=3, n_init=10, random_state=None):
        super().__init__(n_clusters, n_init, random_state)
        self.n_neighbors = n_neighbors
        self.n_steps = n_steps

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Smooth the training rows over their graph and fit k-means."""
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        if self.n_neighbors >= X.shape[0]:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} must be < n_samples={X.shape[0]}."
            )
        Xn = normalize(X)
        nn = NearestNeighbors(n_neighbors=self.n_neighbors + 1).fit(Xn)
        graph = nn.kneighbors_graph(Xn, mode="connectivity")
        graph.setdiag(0)
        graph.eliminate_zeros()
        graph = graph.maximum(graph.T)
        graph = normalize(graph, norm="l1")
        Xs = Xn
        for _ in range(self.n_steps):
            Xs = normalize(graph @ Xs)
        self._nn, self._smoothed = nn, Xs
        return self._fit_kmeans(Xs)

    def predict(self, X) -> np.ndarray:
        """Cluster of new rows: their neighbors' smoothed features averaged, then k-means."""
        check_is_fitted(self)
        X = normalize(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        idx = self._nn.kneighbors(X, n_neighbors=self.n_neighbors, return_distance=False)
        Xs = normalize(X + self._smoothed[idx].sum(axis=1)) if self.n_steps else X
        return self.kmeans_.predict(Xs.astype(self._smoothed.dtype, copy=False))


class UMAPKMeans(_KMeansOnFeatures):
    """k-means on a UMAP embedding (the recipe of BERTopic-style pipelines).

    Needs ``umap-learn`` (``pip install skstc[umap]``). New rows go through
    ``UMAP.transform`` then ``KMeans.predict``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    n_components : int, default=5
        Dimension of the UMAP embedding.
    n_neighbors : int, default=15
        UMAP's neighborhood size.
    min_dist : float, default=0.0
        UMAP's minimum distance (0 packs clusters tightly, as for clustering).
    metric : str, default="cosine"
        UMAP's input metric.
    n_init : int, default=10
        k-means restarts.
    random_state : int or None, default=None
        Seeds UMAP and k-means.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row.
    umap_, kmeans_ : fitted UMAP and KMeans models.
    """

    _parameter_constraints: dict = {
        **_KMeansOnFeatures._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "min_dist": [Interval(Real, 0, None, closed="left")],
        "metric": [str],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        n_components=5,
        n_neighbors=15,
        min_dist=0.0,
        metric="cosine",
        n_init=10,
        random_state=None,
    ):
        super().__init__(n_clusters, n_init, random_state)
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Embed with UMAP and fit k-means on the embedding."""
        UMAP = umap_class("UMAPKMeans")
        X = validate_data(self, X, dtype=[np.float32, np.float64])
        self.umap_ = UMAP(
            n_components=self.n_components,
            n_neighbors=self.n_neighbors,
            min_dist=self.min_dist,
            metric=self.metric,
            random_state=self.random_state,
            n_jobs=1,
        )
        return self._fit_kmeans(self.umap_.fit_transform(X))

    def predict(self, X) -> np.ndarray:
        """Cluster of new rows: ``UMAP.transform`` then ``KMeans.predict``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self.kmeans_.predict(self.umap_.transform(X))
