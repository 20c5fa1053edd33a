"""Plots of a fitted STCClustering (optional extra ``skstc[plot]``, matplotlib)."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["plot_history", "plot_embedding"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'skstc[plot]'") from exc
    return plt


def plot_history(estimator, axes=None):
    """Training curves from ``history_``: reconstruction loss, KL(P‖Q), label changes.

    Parameters
    ----------
    estimator : STCClustering
        A fitted estimator.
    axes : array-like of 3 matplotlib Axes, default=None
        Where to draw; a new 1×3 figure when None.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        The three panels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from skstc import STCClustering
    >>> from skstc.plotting import plot_history
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> stc = STCClustering(3, network={"hidden_dims": (16,)}, n_components=2, max_iter=40,
    ...                     self_train={"update_interval": 10}, random_state=0).fit(X)
    >>> plot_history(stc).shape
    (3,)
    """
    check_is_fitted(estimator)
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
    axes = np.asarray(axes).ravel()
    h = estimator.history_
    epochs = np.arange(1, len(h["pretrain_loss"]) + 1)
    axes[0].plot(epochs, h["pretrain_loss"], marker="o")
    axes[0].set(title="pretraining", xlabel="epoch", ylabel="reconstruction MSE")
    if h.get("pretrain_tsne_loss"):
        twin = axes[0].twinx()
        twin.plot(epochs, h["pretrain_tsne_loss"], marker="s", color="C3")
        twin.set_ylabel("t-SNE KL", color="C3")
    axes[1].plot(h["iteration"], h["kl_loss"], marker="o", color="C1")
    axes[1].set(title="self-training", xlabel="step", ylabel="KL(P‖Q) after refresh of P")
    delta = np.asarray(h["delta_label"], dtype=float)
    axes[2].plot(h["iteration"][1:], 100 * delta[1:], marker="o", color="C2")
    tol = estimator.settings_["self_train"]["tol"]
    axes[2].axhline(100 * tol, ls="--", color="grey", label=f"tol = {tol:g}")
    axes[2].set(title="labels changed between refreshes", xlabel="step", ylabel="% of samples")
    axes[2].legend()
    return axes


def _tsne_2d(Z: np.ndarray, random_state) -> np.ndarray:
    """t-SNE of the rows of ``Z`` to 2-D (scikit-learn; perplexity 30, less for few rows)."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(Z) - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(Z)


def plot_embedding(estimator, X, labels=None, *, method="tsne", ax=None, random_state=0,
                   max_samples=3000):
    """2-D map of the latent codes of ``X`` (t-SNE or PCA), coloured by cluster.

    Parameters
    ----------
    estimator : STCClustering
        A fitted estimator.
    X : array-like of shape (n_samples, n_features)
        Data to map.
    labels : array-like of shape (n_samples,), default=None
        Colours; ``estimator.predict(X)`` when None.
    method : {"tsne", "pca"}, default="tsne"
        2-D projection of the latent codes.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    random_state : int, default=0
        Seed of the subsample and of t-SNE.
    max_samples : int, default=3000
        At most this many points are drawn (a random subsample).

    Returns
    -------
    ax : matplotlib Axes
        The scatter plot.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skstc import STCClustering
    >>> from skstc.plotting import plot_embedding
    >>> import matplotlib; matplotlib.use("Agg")
    >>> X = make_blobs(200, centers=3, random_state=0)[0]
    >>> stc = STCClustering(3, n_components=2, max_iter=40, random_state=0,
    ...                     network={"hidden_dims": (16,)}).fit(X)
    >>> plot_embedding(stc, X, method="pca").get_title()
    'latent space (PCA), 200 points'
    """
    check_is_fitted(estimator)
    if method not in ("tsne", "pca"):
        raise ValueError(f"method must be 'tsne' or 'pca', got {method!r}.")
    plt = _pyplot()
    Z = estimator.transform(X)
    labels = estimator.predict(X) if labels is None else np.asarray(labels)
    if len(labels) != len(Z):
        raise ValueError(f"labels has {len(labels)} entries for {len(Z)} samples.")
    if len(Z) > max_samples:
        idx = np.random.RandomState(random_state).choice(len(Z), max_samples, replace=False)
        Z, labels = Z[idx], labels[idx]
    if Z.shape[1] > 2:
        if method == "tsne":
            Z = _tsne_2d(Z, random_state)
        else:
            from sklearn.decomposition import PCA

            Z = PCA(2, random_state=random_state).fit_transform(Z)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab20", s=6, alpha=0.8, linewidths=0)
    name = "t-SNE" if method == "tsne" else "PCA"
    ax.set(title=f"latent space ({name}), {len(Z)} points", xticks=[], yticks=[])
    return ax
