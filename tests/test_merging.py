"""skstc.merging: the hierarchy over the centroids and merging without a refit."""

import numpy as np
import pytest
from _testing import small_params
from scipy.cluster.hierarchy import linkage
from sklearn.base import BaseEstimator
from sklearn.metrics import adjusted_rand_score

from skstc import STCClustering
from skstc.merging import cluster_hierarchy, merge_clusters


class _Fitted(BaseEstimator):
    """Just the fitted attributes the functions read."""

    def __init__(self, centers=None, labels=None):
        self.centers, self.labels = centers, labels
        self.cluster_centers_ = np.asarray(centers, float)
        self.labels_ = np.asarray(labels)

    def fit(self, X):  # an estimator, for check_is_fitted
        return self


def test_hierarchy_is_wards_with_unit_sizes():
    centers = np.random.RandomState(0).normal(size=(7, 3))
    ours = cluster_hierarchy(_Fitted(centers, np.arange(7)))
    ref = linkage(centers, method="ward")
    np.testing.assert_allclose(ours[:, 2], ref[:, 2], rtol=1e-10)  # the same heights
    np.testing.assert_array_equal(ours[:, 3], ref[:, 3])


def test_larger_clusters_join_later():
    # equal gaps between 0-1 and 2-3, but clusters 2 and 3 are ten times larger
    centers = [[0.0], [1.0], [10.0], [11.0]]
    labels = np.repeat([0, 1, 2, 3], [1, 1, 10, 10])
    first = cluster_hierarchy(_Fitted(centers, labels))[0]
    assert sorted(first[:2]) == [0, 1]
    np.testing.assert_array_equal(merge_clusters(_Fitted(centers, labels), 2), [0, 0, 1, 1])


def test_merging_too_many_clusters_recovers_the_blobs(blobs):
    X, y = blobs  # four blobs, fitted with eight clusters
    stc = STCClustering(8, **small_params(max_iter=40)).fit(X)
    mapping = merge_clusters(stc, 4)
    assert mapping.shape == (8,) and sorted(set(mapping)) == [0, 1, 2, 3]
    assert adjusted_rand_score(y, mapping[stc.labels_]) > 0.95
    np.testing.assert_array_equal(mapping[stc.predict(X)], mapping[stc.labels_])
    assert np.array_equal(merge_clusters(stc, 8), np.arange(8))  # nothing to merge
    assert set(merge_clusters(stc, 1)) == {0}
    with pytest.raises(ValueError, match="from 1 to the fitted 8"):
        merge_clusters(stc, 9)
