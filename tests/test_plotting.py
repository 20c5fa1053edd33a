"""skstc.plotting, headless (Agg backend)."""

import numpy as np
import pytest
from _testing import small_params

from skstc import STCClustering

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skstc.plotting import plot_embedding, plot_history  # noqa: E402


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _ = blobs
    return STCClustering(4, **small_params()).fit(X), X


def test_plot_history_draws_the_three_curves(fitted, tmp_path):
    stc, _ = fitted
    axes = plot_history(stc)
    assert len(axes) == 3
    assert len(axes[0].lines[0].get_xdata()) == len(stc.history_["pretrain_loss"])
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), stc.history_["kl_loss"])
    assert axes[0].get_ylabel() == "reconstruction MSE"
    (twin,) = [a for a in axes[0].figure.axes if a not in axes]
    nb = stc.history_["pretrain_tsne_loss"]
    np.testing.assert_allclose(twin.lines[0].get_ydata(), nb)
    assert "tol" in axes[2].get_legend().get_texts()[0].get_text()
    axes[0].figure.savefig(tmp_path / "history.png")
    assert (tmp_path / "history.png").stat().st_size > 1000
    plt.close("all")


def test_plot_history_without_neighbor_term_has_one_pretraining_curve(blobs):
    X, _ = blobs
    stc = STCClustering(4, **small_params(tsne_weight=0.0, max_iter=20)).fit(X)
    axes = plot_history(stc)
    assert len(axes[0].figure.axes) == 3
    plt.close("all")


@pytest.mark.parametrize("method", ["tsne", "pca"])
def test_plot_embedding(fitted, method):
    stc, X = fitted
    ax = plot_embedding(stc, X, method=method, max_samples=100)
    offsets = ax.collections[0].get_offsets()
    assert offsets.shape == (100, 2)
    assert ax.get_title().startswith("latent space")
    plt.close("all")


def test_plot_embedding_errors(fitted):
    stc, X = fitted
    with pytest.raises(ValueError, match="method must be"):
        plot_embedding(stc, X, method="umap")
    with pytest.raises(ValueError, match="labels has 3 entries"):
        plot_embedding(stc, X, labels=[0, 1, 2])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plot_history(STCClustering())
