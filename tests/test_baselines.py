import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.utils.estimator_checks import parametrize_with_checks

from skstc.baselines import DiffusionKMeans, UMAPKMeans
from skstc.metrics import cluster_accuracy


@pytest.fixture(scope="module")
def rings():
    """Two noisy concentric circles in 5-d: k-means splits them, the graph does not."""
    rng = np.random.RandomState(0)
    t = rng.uniform(0, 2 * np.pi, 400)
    r = np.repeat([1.0, 3.0], 200)
    X = np.c_[r * np.cos(t), r * np.sin(t), 0.05 * rng.randn(400, 3)]
    return X.astype(np.float32), np.repeat([0, 1], 200)


@parametrize_with_checks([DiffusionKMeans(2, n_neighbors=3, n_init=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_diffusion_matches_reference():
    """One step: each row becomes the normalised mean of its symmetrised graph neighbors."""
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import normalize

    X = np.random.RandomState(0).randn(60, 5)
    model = DiffusionKMeans(3, n_neighbors=4, n_steps=1, random_state=0).fit(X)
    Xn = normalize(X)
    idx = NearestNeighbors(n_neighbors=5).fit(Xn).kneighbors(Xn, return_distance=False)[:, 1:]
    A = np.zeros((60, 60))
    A[np.repeat(np.arange(60), 4), idx.ravel()] = 1
    A = np.maximum(A, A.T)
    want = normalize((A / A.sum(1, keepdims=True)) @ Xn)
    np.testing.assert_allclose(model._smoothed, want, atol=1e-10)
    np.testing.assert_array_equal(model.labels_, model.kmeans_.predict(want))


def test_diffusion_predict_is_inductive_and_consistent():
    X, y = make_blobs(n_samples=300, centers=3, n_features=6, random_state=0)
    model = DiffusionKMeans(3, random_state=0).fit(X[:250])
    assert cluster_accuracy(y[250:], model.predict(X[250:])) > 0.95
    # training rows labelled again land in their own clusters
    assert np.mean(model.predict(X[:250]) == model.labels_) > 0.95


def test_diffusion_rejects_too_many_neighbors():
    with pytest.raises(ValueError, match="n_neighbors=10 must be < n_samples=5"):
        DiffusionKMeans(2).fit(np.random.RandomState(0).randn(5, 3))


def test_umap_kmeans():
    pytest.importorskip("umap")
    X, y = make_blobs(n_samples=200, centers=3, n_features=6, random_state=0)
    model = UMAPKMeans(3, random_state=0).fit(X[:150])
    assert cluster_accuracy(y[:150], model.labels_) > 0.95
    assert cluster_accuracy(y[150:], model.predict(X[150:])) > 0.95
