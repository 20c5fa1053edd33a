"""scikit-learn's common estimator checks, every one of them, on a small network, as fitted
and where the floor falls back.

The graph and t-SNE settings are the defaults (``n_neighbors=10``, ``perplexity=10``): the
checks' inputs of a handful of rows must fit or fail with their own message.
"""

from _testing import small_params
from sklearn.utils.estimator_checks import parametrize_with_checks

import skstc._stc
from skstc import STCClustering


def _small_stc():
    return STCClustering(
        n_clusters=3,
        **small_params(hidden_dims=(16,), n_components=3, pretrain_epochs=10, max_iter=30,
                       update_interval=10, batch_size=32),
    )


@parametrize_with_checks([_small_stc()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks([_small_stc()])
def test_sklearn_compatible_when_the_floor_falls_back(estimator, check, monkeypatch):
    # every fit's partition scores a negative silhouette: the fallback, distilled, is the model
    monkeypatch.setattr(skstc._stc, "_silhouette", lambda X, labels: -0.01)
    check(estimator)
