"""Clustering metrics: Hungarian-matched accuracy, a small evaluation summary, and the
modularity of labels on a kNN graph."""

from __future__ import annotations

from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .graph import modularity

__all__ = ["cluster_accuracy", "evaluate", "modularity"]


def cluster_accuracy(y_true, y_pred) -> float:
    """Clustering accuracy: the best one-to-one matching of clusters to classes.

    The matching maximises the number of samples whose cluster is mapped to their
    class (Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`). The
    numbers of clusters and classes may differ: unmatched clusters count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Gold class labels (any hashable values).
    y_pred : array-like of shape (n_samples,)
        Cluster labels (any hashable values).

    Returns
    -------
    accuracy : float
        Fraction of samples in matched cluster–class pairs, in [0, 1].

    Examples
    --------
    >>> from skstc.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty.")
    counts = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / y_true.size)


def evaluate(y_true, y_pred) -> dict[str, float]:
    """Accuracy (Hungarian), normalised mutual information and adjusted Rand index.

    NMI is :func:`sklearn.metrics.normalized_mutual_info_score` with arithmetic
    normalisation (not the adjusted AMI).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Gold class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    scores : dict
        ``{"ACC": ..., "NMI": ..., "ARI": ...}``, each a float.

    Examples
    --------
    >>> from skstc.metrics import evaluate
    >>> evaluate([0, 0, 1, 1], [1, 1, 0, 0])
    {'ACC': 1.0, 'NMI': 1.0, 'ARI': 1.0}
    """
    return {
        "ACC": cluster_accuracy(y_true, y_pred),
        "NMI": float(normalized_mutual_info_score(y_true, y_pred)),
        "ARI": float(adjusted_rand_score(y_true, y_pred)),
    }
