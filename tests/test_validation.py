"""Bad input and bad parameters get clear sklearn-style errors, never torch tracebacks."""

import numpy as np
import pytest
import scipy.sparse as sp
from _testing import small_params
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skstc import STCClustering


@pytest.fixture
def X():
    return np.random.RandomState(0).randn(40, 6)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.nan, "NaN"),
        (np.inf, "infinity"),
    ],
)
def test_non_finite_input(X, bad, match):
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=match):
        STCClustering(2, **small_params()).fit(X)


def test_empty_input():
    with pytest.raises(ValueError, match="0 sample"):
        STCClustering(2, **small_params()).fit(np.empty((0, 5)))


def test_one_dimensional_input():
    with pytest.raises(ValueError, match="Expected 2D array"):
        STCClustering(2, **small_params()).fit(np.arange(10.0))


def test_fewer_samples_than_clusters(X):
    with pytest.raises(ValueError, match="n_samples=5 should be >= n_clusters=8"):
        STCClustering(8, **small_params()).fit(X[:5])


def test_sparse_input_is_rejected(X):
    with pytest.raises(TypeError, match="dense data is required"):
        STCClustering(2, **small_params()).fit(sp.csr_matrix(X))


def test_wrong_n_features_at_predict(X):
    stc = STCClustering(2, **small_params(max_iter=5)).fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but STCClustering is expecting 6"):
        stc.predict(X[:, :5])


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform", "score"])
def test_unfitted(X, method):
    with pytest.raises(NotFittedError):
        getattr(STCClustering(2), method)(X)


@pytest.mark.parametrize(
    "params",
    [
        {"n_clusters": 0},
        {"n_clusters": 2.5},
        {"alpha": 0},
        {"alpha": -1.0},
        {"scale": "robust"},
        {"max_iter": -1},
        {"update_interval": 0},
        {"batch_size": 0},
        {"lr": 0.0},
        {"init": "random"},
        {"init": "kmeans-graph"},
        {"device": 3},
        {"hidden_dims": 500},
        {"tol": -0.1},
        {"tsne_weight": -1.0},
        {"perplexity": 0.0},
        {"n_neighbors": -1},
        {"n_neighbors": 2.5},
        {"consistency_weight": -1.0},
    ],
)
def test_invalid_parameters(X, params):
    with pytest.raises(InvalidParameterError):
        STCClustering(**{"n_clusters": 2, **small_params(**params)}).fit(X)


@pytest.mark.parametrize(("params", "match"), [
    ({"network": {"depth": 3}}, "no setting 'depth'"),
    ({"pretrain": {"epochs": -1}}, "needs epochs to be an integer >= 0"),
    ({"callbacks": [print]}, "must hold Callback instances")])
def test_invalid_settings(X, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        STCClustering(2, **params).fit(X)


@pytest.mark.parametrize("dims", [(0,), (10, -1), (10.5,), ("a",)])
def test_invalid_hidden_dims(X, dims):
    with pytest.raises(ValueError, match="needs hidden_dims to be a tuple of positive integers"):
        STCClustering(2, **small_params(hidden_dims=dims)).fit(X)


@pytest.mark.parametrize("dims", [(0,), (10.5,), ("a",)])
def test_invalid_decoder_dims(X, dims):
    with pytest.raises(ValueError, match="needs decoder_dims to be a tuple of positive integers"):
        STCClustering(2, **small_params(decoder_dims=dims)).fit(X)


def test_empty_hidden_dims_is_a_linear_autoencoder(X):
    stc = STCClustering(2, **small_params(hidden_dims=(), max_iter=5)).fit(X)
    assert stc.transform(X).shape == (40, 4)


def test_bad_init_array(X):
    with pytest.raises(ValueError, match=r"init has shape \(3, 4\); expected"):
        STCClustering(2, **small_params(init=np.zeros((3, 4)))).fit(X)
    bad = np.zeros((2, 4))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="init contains NaN"):
        STCClustering(2, **small_params(init=bad)).fit(X)


@pytest.mark.parametrize("device", ["gpu", "cuda:abc"])
def test_invalid_device_string(X, device):
    with pytest.raises(ValueError, match="not a valid torch device"):
        STCClustering(2, **small_params(device=device)).fit(X)


def test_cuda_requested_without_cuda(X, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        STCClustering(2, **small_params(device="cuda")).fit(X)


def test_failed_fit_keeps_previous_model(X):
    stc = STCClustering(2, **small_params(max_iter=5)).fit(X)
    before = stc.predict(X)
    stc.set_params(n_clusters=100)
    with pytest.raises(ValueError):
        stc.fit(X)
    np.testing.assert_array_equal(stc.predict(X), before)


def test_graph_recipes_without_a_graph_start_from_the_codes(X):
    from skstc import inits

    params = small_params(n_neighbors=0, max_iter=0)
    plain = STCClustering(2, init="kmeans", **params).fit(X)
    for recipe in (inits.graph_averaged_codes, inits.diffused_input, inits.diffused_codes):
        graph = STCClustering(2, init=recipe, **params).fit(X)
        np.testing.assert_array_equal(graph.cluster_centers_, plain.cluster_centers_)
