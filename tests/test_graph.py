"""The k-nearest-neighbor graph (skstc.graph) and its use in STCClustering."""

import numpy as np
import pytest
import torch
from _testing import small_params
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from skstc import STCClustering, _chunks, stages
from skstc.graph import graph_mean, knn_graph


@pytest.mark.parametrize("block_entries", [2**25, 7 * 50])
def test_knn_graph_matches_sklearn(block_entries, monkeypatch):
    monkeypatch.setattr(_chunks, "GRAPH_BLOCK_ENTRIES", block_entries)  # several blocks
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


def test_graph_mean_is_the_mean_over_each_closed_neighborhood():
    gen = torch.Generator().manual_seed(0)
    values = torch.rand(30, 7, generator=gen, dtype=torch.float64)
    neighbors = torch.randint(30, (30, 4), generator=gen)
    want = torch.stack([(values[i] + values[neighbors[i]].sum(0)) / 5 for i in range(30)])
    torch.testing.assert_close(graph_mean(values, neighbors), want)
    assert graph_mean(values[:0], neighbors[:0]).shape == (0, 7)


def _neighbor_agreement(X, labels, k=10):
    idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    return float(np.mean(labels[idx] == labels[:, None]))


def test_graph_makes_neighbors_share_clusters():
    """Overlapping blobs: with the graph, neighbors in the input agree more often."""
    X, _ = make_blobs(n_samples=400, centers=4, n_features=8, cluster_std=6.0, random_state=3)
    X = X.astype(np.float32)
    params = small_params(max_iter=200, lr=1e-3)
    plain = STCClustering(4, n_neighbors=0, **params).fit(X)
    graph = STCClustering(4, n_neighbors=10, **params).fit(X)
    assert _neighbor_agreement(X, graph.labels_) > _neighbor_agreement(X, plain.labels_)
    assert graph.history_["time"]["graph"] > plain.history_["time"]["graph"]


def test_neighbor_candidates_subsample_above_the_limit(blobs, monkeypatch):
    X, _ = blobs
    monkeypatch.setattr(stages, "GRAPH_MAX_CANDIDATES", 100)
    stc = STCClustering(4, **small_params()).fit(X)
    assert adjusted_rand_score(blobs[1], stc.labels_) > 0.9


@pytest.mark.parametrize(("n_clusters", "n_neighbors", "cut"),
                         [(4, 300, 74), (4, 1000, 74), (1, 1000, 299)])
def test_n_neighbors_is_cut_to_an_average_cluster(blobs, n_clusters, n_neighbors, cut):
    # one warning, and the fit of n_neighbors = n_samples // n_clusters - 1: the neighbors
    # a sample can have inside a cluster of average size (at most n_samples - 1)
    X, _ = blobs
    with pytest.warns(UserWarning, match=f"300 samples.*: n_neighbors={n_neighbors} -> {cut}"):
        big = STCClustering(n_clusters, **small_params(n_neighbors=n_neighbors, max_iter=20))
        big.fit(X)
    exact = STCClustering(n_clusters, **small_params(n_neighbors=cut, max_iter=20)).fit(X)
    np.testing.assert_array_equal(big.labels_, exact.labels_)
    np.testing.assert_array_equal(big.cluster_centers_, exact.cluster_centers_)


def test_modularity_of_a_partition_on_the_knn_graph():
    from skstc.graph import modularity

    # two groups of three, each row's two neighbors in its own group
    neighbors = torch.tensor([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]])
    by_group = torch.tensor([0, 0, 0, 1, 1, 1])
    assert modularity(by_group, neighbors) == pytest.approx(0.5)
    assert modularity(torch.zeros(6, dtype=torch.long), neighbors) == pytest.approx(0.0)
    assert modularity(torch.tensor([0, 1, 0, 1, 0, 1]), neighbors) < 0


def test_nndescent_graph_is_close_to_exact():
    pytest.importorskip("pynndescent")
    from skstc.graph import nndescent_knn_graph

    X = torch.from_numpy(make_blobs(1500, n_features=16, centers=6, random_state=0)[0]
                         .astype(np.float32))
    exact = knn_graph(X, 10, torch.device("cpu")).numpy()
    approx = nndescent_knn_graph(X, 10, random_state=0).numpy()
    assert approx.shape == (1500, 10) and approx.dtype == np.int64
    assert not (approx == np.arange(1500)[:, None]).any()  # never a row's own neighbor
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact)])
    assert recall > 0.95
    np.testing.assert_array_equal(nndescent_knn_graph(X, 10, random_state=0).numpy(), approx)


def _graph_method(stc: STCClustering, X, capsys) -> str:
    """The search the fit's graph phase names in its log (``verbose=1``)."""
    stc.set_params(verbose=1).fit(X)
    line = next(x for x in capsys.readouterr().out.splitlines() if "neighbor graph" in x)
    return line.split("(")[1].split(")")[0]


def test_graph_is_exact_up_to_the_threshold(blobs, monkeypatch, capsys):
    pytest.importorskip("pynndescent")
    X, y = blobs
    assert _graph_method(STCClustering(4, **small_params(max_iter=20)), X, capsys) == "exact"
    monkeypatch.setattr(stages, "EXACT_GRAPH_MAX_SAMPLES", 100)  # 300 samples: above
    stc = STCClustering(4, **small_params())
    assert _graph_method(stc, X, capsys) == "nndescent"
    assert adjusted_rand_score(y, stc.labels_) > 0.9
    again = STCClustering(4, **small_params()).fit(X)
    np.testing.assert_array_equal(again.labels_, stc.labels_)  # reproducible


def test_without_pynndescent_large_inputs_fall_back_to_exact(blobs, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "pynndescent", None)  # import fails
    monkeypatch.setattr(stages, "EXACT_GRAPH_MAX_SAMPLES", 100)
    X, _ = blobs
    assert _graph_method(STCClustering(4, **small_params(max_iter=10)), X, capsys) == "exact"


def test_exact_graphs_do_not_import_pynndescent():
    # importing pynndescent (numba) takes seconds: only fits that may use it pay that
    import subprocess
    import sys

    code = ("import sys, numpy as np; from skstc import STCClustering; "
            "X = np.random.RandomState(0).normal(size=(300, 8)).astype(np.float32); "
            "STCClustering(4, network={'hidden_dims': (8,)}, pretrain={'epochs': 1}, "
            "max_iter=10, device='cpu', random_state=0).fit(X); "
            "print('pynndescent' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
