"""The k-nearest-neighbor graph (skstc._graph) and its use in STCClustering."""

import numpy as np
import pytest
import torch
from _testing import small_params
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from skstc import STCClustering, _graph
from skstc._graph import knn_graph, neighbor_mean


@pytest.mark.parametrize("block_entries", [2**25, 7 * 50])
def test_knn_graph_matches_sklearn(block_entries, monkeypatch):
    monkeypatch.setattr(_graph, "_BLOCK_ENTRIES", block_entries)  # several blocks
    X = np.random.RandomState(0).randn(50, 6).astype(np.float32)
    got = knn_graph(torch.from_numpy(X), 5, torch.device("cpu")).numpy()
    want = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    np.testing.assert_array_equal(np.sort(got, 1), np.sort(want, 1))
    assert got.dtype == np.int64 and got.shape == (50, 5)


def test_knn_graph_excludes_self_keeps_duplicates():
    X = np.zeros((6, 3), dtype=np.float32)  # all rows identical
    X[3:] = 1.0
    got = knn_graph(torch.from_numpy(X), 2, torch.device("cpu")).numpy()
    for i, row in enumerate(got):
        assert i not in row
        assert set(row) == ({0, 1, 2} if i < 3 else {3, 4, 5}) - {i}


def test_knn_graph_candidates():
    X = np.random.RandomState(1).randn(40, 4).astype(np.float32)
    cand = torch.arange(0, 40, 2)  # even rows only
    got = knn_graph(torch.from_numpy(X), 3, torch.device("cpu"), cand).numpy()
    assert np.all(got % 2 == 0)
    for i in range(40):
        assert i not in got[i]
        others = [j for j in range(0, 40, 2) if j != i]
        d = ((X[others] - X[i]) ** 2).sum(1)
        assert set(got[i]) == {others[j] for j in np.argsort(d)[:3]}


def test_neighbor_mean(monkeypatch):
    monkeypatch.setattr(_graph, "_BLOCK_ENTRIES", 4)
    values = torch.arange(12.0).reshape(4, 3)
    neighbors = torch.tensor([[1], [0], [3], [0]])
    got = neighbor_mean(values, neighbors)
    want = torch.stack([(values[i] + values[neighbors[i, 0]]) / 2 for i in range(4)])
    torch.testing.assert_close(got, want)


def _neighbor_agreement(X, labels, k=10):
    idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    return float(np.mean(labels[idx] == labels[:, None]))


def test_graph_makes_neighbors_share_clusters():
    """Overlapping blobs: with the graph, neighbors in the input agree more often."""
    X, _ = make_blobs(n_samples=400, centers=4, n_features=8, cluster_std=6.0, random_state=3)
    X = X.astype(np.float32)
    params = small_params(max_iter=200, lr=1e-3)
    plain = STCClustering(4, n_neighbors=0, **params).fit(X)
    graph = STCClustering(4, n_neighbors=10, consistency_weight=1.0, **params).fit(X)
    assert _neighbor_agreement(X, graph.labels_) > _neighbor_agreement(X, plain.labels_)
    assert graph.history_["time"]["graph"] > plain.history_["time"]["graph"]


def test_neighbor_candidates_subsample_above_the_limit(blobs, monkeypatch):
    X, _ = blobs
    monkeypatch.setattr(STCClustering, "_graph_max_candidates", 100)
    stc = STCClustering(4, **small_params()).fit(X)
    assert adjusted_rand_score(blobs[1], stc.labels_) > 0.9


@pytest.mark.parametrize("n_neighbors", [300, 1000])
def test_n_neighbors_is_truncated_to_the_other_samples(blobs, n_neighbors):
    # as umap-learn does: one warning, and the fit of n_neighbors = n_samples - 1
    X, _ = blobs
    with pytest.warns(UserWarning, match=f"300 samples.*: n_neighbors={n_neighbors} -> 299"):
        big = STCClustering(4, **small_params(n_neighbors=n_neighbors, max_iter=20)).fit(X)
    exact = STCClustering(4, **small_params(n_neighbors=299, max_iter=20)).fit(X)
    np.testing.assert_array_equal(big.labels_, exact.labels_)
    np.testing.assert_array_equal(big.cluster_centers_, exact.cluster_centers_)


def test_modularity_of_a_partition_on_the_knn_graph():
    from skstc._graph import modularity

    # two groups of three, each row's two neighbors in its own group
    neighbors = torch.tensor([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]])
    by_group = torch.tensor([0, 0, 0, 1, 1, 1])
    assert modularity(by_group, neighbors) == pytest.approx(0.5)
    assert modularity(torch.zeros(6, dtype=torch.long), neighbors) == pytest.approx(0.0)
    assert modularity(torch.tensor([0, 1, 0, 1, 0, 1]), neighbors) < 0
