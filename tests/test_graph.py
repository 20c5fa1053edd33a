import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from skstc import _graph
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
