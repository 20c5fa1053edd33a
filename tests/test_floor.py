"""STC's floor: a partition with a negative silhouette in the input falls back to
diffusion + k-means, distilled into the model so that inference agrees with it."""

import numpy as np
import pytest
import torch
from _testing import small_params
from sklearn.metrics import adjusted_rand_score, silhouette_score

import skstc._stc
from skstc import STCClustering
from skstc._training import distil


@pytest.fixture
def negative_silhouette(monkeypatch):
    """Make every partition score a negative silhouette, as STC's do on the 165 sites of
    StackExchange (a test cannot fit that set); ``score`` uses the same function."""
    monkeypatch.setattr(skstc._stc, "_silhouette", lambda X, labels: -0.01)


def test_a_partition_with_a_positive_silhouette_is_kept(blobs):
    X, _ = blobs
    stc = STCClustering(4, **small_params()).fit(X)
    assert not stc.fallback_
    assert stc.silhouette_ > 0.5
    assert stc.silhouette_ == pytest.approx(stc.score(X))


def test_a_negative_silhouette_falls_back_to_diffusion_kmeans(blobs, negative_silhouette):
    X, y = blobs
    stc = STCClustering(4, **small_params()).fit(X)
    assert stc.fallback_ and stc.silhouette_ == -0.01
    assert adjusted_rand_score(y, stc.labels_) > 0.95  # the blobs, by diffusion + k-means
    np.testing.assert_array_equal(stc.predict(X), stc.labels_)
    np.testing.assert_array_equal(stc.predict_proba(X).argmax(1), stc.labels_)
    assert stc.cluster_centers_.shape == (4, 4)
    assert list(stc.history_["time"])[-1] == "floor"
    again = STCClustering(4, **small_params()).fit(X)
    np.testing.assert_array_equal(again.labels_, stc.labels_)
    np.testing.assert_array_equal(again.transform(X), stc.transform(X))


def test_the_fallback_labels_every_row_of_a_subsampled_fit(blobs, negative_silhouette):
    X, y = blobs
    stc = STCClustering(4, **small_params(max_samples=200)).fit(X)
    assert stc.fallback_ and stc.labels_.shape == (300,)
    np.testing.assert_array_equal(stc.predict(X), stc.labels_)
    assert adjusted_rand_score(y, stc.labels_) > 0.95


def test_the_fallback_is_distilled_without_self_training(blobs, negative_silhouette):
    # max_iter=0 skips self-training, not the distillation's steps
    X, y = blobs
    stc = STCClustering(4, **small_params(max_iter=0)).fit(X)
    assert stc.fallback_ and stc.n_iter_ == 0
    assert adjusted_rand_score(y, stc.labels_) > 0.95


def test_no_floor_without_a_graph(blobs, negative_silhouette):
    # n_neighbors=0: the paper's self-training, as it is
    X, _ = blobs
    stc = STCClustering(4, **small_params(n_neighbors=0)).fit(X)
    assert not stc.fallback_


def test_no_floor_where_the_silhouette_is_not_defined(blobs):
    X, _ = blobs
    stc = STCClustering(1, **small_params()).fit(X)
    assert np.isnan(stc.silhouette_) and not stc.fallback_
    assert stc.score(X) == -1.0


def test_the_silhouette_is_that_of_score_on_the_same_rows():
    # sklearn's sample_size draw, made before any pass over the whole X
    rng = np.random.RandomState(0)
    X, labels = rng.randn(6000, 5), rng.randint(3, size=6000)
    labels[:3000] = 0
    X[labels == 0] += 1.0
    expected = silhouette_score(X, labels, sample_size=5000, random_state=0)
    assert skstc._stc._silhouette(X, labels) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(skstc._stc._silhouette(X, np.zeros(6000, dtype=int)))


def test_distil_makes_argmax_q_reproduce_a_partition(blobs):
    X, y = blobs
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Linear(12, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    centers = torch.nn.Parameter(torch.randn(4, 4))
    Xt, labels = torch.from_numpy(X), torch.from_numpy(y).long()
    before = torch.cdist(encoder(Xt), centers).argmin(1)
    distil(encoder, centers, Xt, labels, alpha=1.0, n_steps=200, batch_size=64, lr=1e-2,
           device=torch.device("cpu"), generator=torch.Generator().manual_seed(0))
    d2 = torch.cdist(encoder(Xt), centers)
    assert (d2.argmin(1) == labels).float().mean() > 0.99
    assert (before == labels).float().mean() < 0.9
