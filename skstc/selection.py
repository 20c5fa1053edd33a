"""Choosing the number of clusters: one pretrained STC model, a score per candidate k.

:func:`~skstc.select_n_clusters` runs the steps of
:meth:`STCClustering.fit <skstc.STCClustering.fit>` that do not depend on the number of
clusters once (scaling, the kNN graph, pretraining), then, for every candidate k, STC's
own initial clustering of the latent codes, scored by the silhouette of its labels in the
scaled input. The recommendation is the largest k whose score is within the measured
noise of the best: among partitions the data support equally well, the finest, since
clusters can be merged afterwards without refitting
(:func:`skstc.merging.merge_clusters`) but not split. The range reported beside it is
wider: every candidate whose score is within a fifth of the best (the curve is flat there,
and the silhouette's own bias, not its noise, decides among them).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_array

from ._guard import GUARD_MAX_SAMPLES, fixed_rows
from ._stc import STCClustering
from .stages import _prepare_validated

__all__ = ["DEFAULT_CANDIDATES", "GUARD_MAX_SAMPLES", "RANGE_TOLERANCE", "SELECTION_MAX_SAMPLES",
           "NClustersSelection", "Partitions", "candidate_partitions", "compact", "fixed_rows",
           "select_n_clusters", "silhouettes"]

#: Candidates of :func:`~skstc.select_n_clusters` when none are given (those below
#: ``n_samples / 10`` are used): from 2 to 250, about 15% apart on a log scale.
DEFAULT_CANDIDATES = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120,
                      150, 200, 250)

#: Rows on which the silhouettes are computed (a fixed random subsample above this): the
#: curve is flat near its top, and 3,000 rows left differences there to chance.
SELECTION_MAX_SAMPLES = 10_000

#: Folds of the scored rows over which the noise of the curve is measured.
NOISE_FOLDS = 5

#: The range reported: candidates whose score falls short of the best by at most this
#: fraction of it (``best - RANGE_TOLERANCE * |best|``), besides those within noise.
RANGE_TOLERANCE = 0.2


@dataclass
class NClustersSelection:
    """What :func:`~skstc.select_n_clusters` returns: the curve and the k it recommends.

    Attributes
    ----------
    n_clusters : int
        The recommended number of clusters: the largest candidate within the noise of
        the best score (``range[1]``).
    candidates : ndarray of shape (n_candidates,)
        The numbers of clusters tried, increasing.
    scores : ndarray of shape (n_candidates,)
        Silhouette, in the scaled input, of STC's initial clustering with each number of
        clusters (higher is better, at most 1).
    within_noise : ndarray of bool, shape (n_candidates,)
        The candidates whose score is within the noise of the best's: the scored rows are
        split into 5 folds, each scored on its own, and a candidate is within noise when
        its mean deficit to the best over the folds is less than twice the standard error
        of that deficit (a paired comparison on the same rows).
    supported : ndarray of bool, shape (n_candidates,)
        The candidates within noise and those whose score is within a fifth of the best
        (``RANGE_TOLERANCE``): ``range`` is their span. Where the silhouette misses the
        number of classes it misses by a bias (fewer, larger clusters where groups
        overlap or are small), which no measure of noise covers.
    times : dict
        Seconds spent pretraining once (``"pretrain"``, the graph included) and scoring
        all candidates (``"candidates"``).
    """

    n_clusters: int
    candidates: np.ndarray
    scores: np.ndarray
    within_noise: np.ndarray | None = None
    supported: np.ndarray | None = None
    times: dict = field(default_factory=dict)

    @property
    def best_n_clusters(self) -> int:
        """The candidate of highest score."""
        return int(self.candidates[int(np.argmax(self.scores))])

    @property
    def _supported_mask(self) -> np.ndarray:
        """``supported``; ``within_noise`` for a selection made without it."""
        return self.within_noise if self.supported is None else self.supported

    @property
    def range(self) -> tuple[int, int]:
        """The smallest and the largest candidate the data support (``supported``)."""
        return _span(self.candidates[self._supported_mask])

    @property
    def noise_range(self) -> tuple[int, int]:
        """The smallest and the largest candidate within the noise of the best."""
        return _span(self.candidates[self.within_noise])

    def summary(self) -> str:
        """One line: the recommendation and the range the data support."""
        lo, hi = self.range
        best = self.best_n_clusters
        if lo == hi:
            return f"{self.n_clusters} clusters, clearly ahead of the other candidates"
        if self.n_clusters == best:
            why = "the best score"
        else:
            why = (f"the largest within the noise of the best score, at {best}; clusters "
                   "can be merged later but not split")
        return (f"{self.n_clusters} clusters recommended ({why}); the data support {lo} to "
                f"{hi} (scores within a fifth of the best)")

    def to_frame(self):
        """The curve as a pandas DataFrame (``n_clusters``, ``silhouette``,
        ``recommended``)."""
        import pandas as pd

        return pd.DataFrame({"n_clusters": self.candidates, "silhouette": self.scores,
                             "within_noise": self.within_noise,
                             "supported": self._supported_mask,
                             "recommended": self.candidates == self.n_clusters})

    def plot(self, ax=None):
        """The score of every candidate, the recommended one marked (and the best
        scoring one, where it differs), matplotlib.

        Returns the Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3), layout="constrained")
        ax.plot(self.candidates, self.scores, marker="o", color="0.3")
        lo, hi = self.range
        if (lo, hi) != self.noise_range:
            ax.axvspan(lo, hi, color="C0", alpha=0.08, lw=0,
                       label=f"within a fifth of the best: {lo}–{hi}")
        lo, hi = self.noise_range
        ax.axvspan(lo, hi, color="C0", alpha=0.2, lw=0, label=f"within noise: {lo}–{hi}")
        if self.best_n_clusters != self.n_clusters:
            top = self.scores[self.candidates == self.best_n_clusters][0]
            ax.plot([self.best_n_clusters], [top], marker="o", mfc="none", color="C3",
                    ls="none", label=f"best score: {self.best_n_clusters}")
        chosen = self.scores[self.candidates == self.n_clusters][0]
        ax.plot([self.n_clusters], [chosen], marker="o", color="C3", ls="none",
                label=f"recommended: {self.n_clusters}")
        ax.set(xscale="log", xlabel="number of clusters", ylabel="silhouette in the input")
        ax.legend(loc="best", fontsize="small")
        return ax


def _span(values: np.ndarray) -> tuple[int, int]:
    return int(values.min()), int(values.max())


def _supported(scores: np.ndarray, within_noise: np.ndarray,
               tolerance: float = RANGE_TOLERANCE) -> np.ndarray:
    """The candidates within noise and those scoring within ``tolerance`` times the best
    score of it (``best - tolerance * |best|``)."""
    best = scores.max()
    return within_noise | (scores >= best - tolerance * abs(best))


def _checked_candidates(candidates: Iterable[int] | None, n_samples: int) -> np.ndarray:
    """Sorted distinct candidates, each in [2, n_samples - 1]; the defaults below n / 10."""
    if candidates is None:
        limit = max(2, n_samples // 10)
        values = [k for k in DEFAULT_CANDIDATES if k <= limit and k < n_samples]
        if not values:
            raise ValueError(f"n_samples={n_samples} is too few to compare numbers of clusters "
                             "(at least 3 are needed).")
        return np.array(values)
    values = list(candidates)
    if not values:
        raise ValueError("candidates is empty.")
    bad = [k for k in values
           if isinstance(k, bool) or not isinstance(k, Integral) or not 2 <= k < n_samples]
    if bad:
        raise ValueError(f"candidates must be integers from 2 to n_samples - 1 = "
                         f"{n_samples - 1}; got {bad[:5]}.")
    return np.array(sorted({int(k) for k in values}))


def silhouettes(X: torch.Tensor, labelings: list[torch.Tensor], block_rows: int = 1024
                ) -> np.ndarray:
    """Mean silhouette (Euclidean) of each labelling of the rows of ``X``, in one pass.

    The distances of a block of rows to every row are computed once and summed per
    cluster of every labelling (``index_add``), so that scoring many labellings costs one
    distance matrix in blocks, never held whole. Conventions of
    :func:`sklearn.metrics.silhouette_score`: a sample alone in its cluster scores 0; a
    labelling with fewer than 2 clusters, or as many clusters as rows, scores -1.
    """
    m = X.shape[0]
    X = X.double()
    ks = [int(lab.max()) + 1 for lab in labelings]
    counts = [torch.bincount(lab, minlength=k).double() for lab, k in zip(labelings, ks)]
    totals = torch.zeros(len(labelings), dtype=torch.float64)
    for start in range(0, m, block_rows):
        distances = torch.cdist(X[start:start + block_rows], X)
        rows = torch.arange(distances.shape[0])
        for i, (lab, k, n) in enumerate(zip(labelings, ks, counts)):
            sums = torch.zeros(distances.shape[0], k, dtype=torch.float64)
            sums.index_add_(1, lab, distances)
            own = lab[start:start + block_rows]
            a = sums[rows, own] / (n[own] - 1).clamp(min=1)
            mean_other = sums / n.clamp(min=1)
            mean_other[:, n == 0] = torch.inf
            mean_other[rows, own] = torch.inf
            b = mean_other.min(1).values
            s = (b - a) / torch.maximum(a, b).clamp(min=torch.finfo(torch.float64).tiny)
            totals[i] += torch.where(n[own] > 1, s, 0.0).sum()
    scores = (totals / m).numpy()
    n_found = np.array([int((n > 0).sum()) for n in counts])
    scores[(n_found < 2) | (n_found >= m)] = -1.0
    return scores


def select_n_clusters(
    X,
    candidates: Iterable[int] | None = None,
    *,
    estimator: STCClustering | None = None,
    random_state=None,
) -> NClustersSelection:
    """Recommend a number of clusters for ``X`` from the data alone.

    One STC model is pretrained (input scaling, kNN graph, autoencoder with the t-SNE
    term: the steps of ``fit`` that do not depend on the number of clusters); then, for
    each candidate k, STC's initial clustering of the latent codes (k-means, or k-means
    on graph-averaged codes from 50 clusters on, as ``init="auto"``) labels the training
    rows, and the labels are scored by their silhouette in the scaled input (Euclidean,
    on at most ``SELECTION_MAX_SAMPLES`` = 10,000 rows drawn with a fixed seed). The
    recommended k is the largest candidate within the noise of the highest score (the
    finest partition the data support as well; clusters can be merged later without
    refitting); the range reported is every candidate scoring within a fifth of the
    best. The cost is one pretraining plus one k-means per candidate, one to four default
    fits of STC on the development sets.

    Read more in the :ref:`User Guide <n-clusters>`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Dense embeddings, one row per text.
    candidates : iterable of int, optional
        Numbers of clusters to compare, each from 2 to ``n_samples - 1``. By default the
        values of ``DEFAULT_CANDIDATES`` (2 to 250, about 15% apart on a log scale) up to
        ``n_samples / 10``.
    estimator : STCClustering, optional
        Its parameters (network, pretraining, graph, ``init``, ``device``, ...) are used;
        its ``n_clusters`` is not. By default ``STCClustering()``.
    random_state : int, RandomState instance or None, default=None
        Seeds the pretraining and the k-means runs (overrides the estimator's); an int
        gives the same recommendation on every run on the CPU.

    Returns
    -------
    selection : NClustersSelection
        ``n_clusters`` (the recommendation), ``best_n_clusters``, ``candidates``,
        ``scores``, ``within_noise`` (the candidates within the measured noise of the
        best), ``supported`` and ``range`` (those within a fifth of the best score, and
        their span), ``times``; ``summary()``, ``to_frame()`` and ``plot()`` show them.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skstc import STCClustering, select_n_clusters
    >>> X, _ = make_blobs(n_samples=400, centers=5, n_features=10, random_state=0)
    >>> small = STCClustering(n_components=5, network={"hidden_dims": (32,)},
    ...                       pretrain={"epochs": 20})
    >>> selection = select_n_clusters(X, [2, 3, 4, 5, 6, 8], estimator=small,
    ...                               random_state=0)
    >>> selection.n_clusters
    5
    """
    partitions = candidate_partitions(X, candidates, estimator=estimator,
                                      random_state=random_state)
    t0 = time.perf_counter()
    sub = fixed_rows(len(partitions.Z), SELECTION_MAX_SAMPLES)
    scores = silhouettes(partitions.X[sub], [compact(lab[sub]) for lab in partitions.labels])
    within = _within_noise(partitions, sub, int(np.argmax(scores)))
    times = dict(partitions.times)
    times["candidates"] += time.perf_counter() - t0
    return NClustersSelection(
        n_clusters=int(partitions.candidates[within].max()), candidates=partitions.candidates,
        scores=scores, within_noise=within, supported=_supported(scores, within), times=times,
    )


def _within_noise(partitions: Partitions, sub: np.ndarray, best: int) -> np.ndarray:
    """Which candidates score within the noise of candidate ``best``: the silhouettes on
    each of :data:`NOISE_FOLDS` folds of the rows ``sub`` (a fixed random split), and a
    paired comparison with the best's on the same fold."""
    folds = np.array_split(np.random.RandomState(1).permutation(sub), NOISE_FOLDS)
    per_fold = np.array([silhouettes(partitions.X[f], [compact(lab[f]) for lab in
                                                      partitions.labels]) for f in folds])
    deficit = per_fold[:, [best]] - per_fold  # (folds, candidates), 0 for the best
    noise = 2 * deficit.std(axis=0, ddof=1) / np.sqrt(len(folds))
    return deficit.mean(axis=0) <= noise


@dataclass
class Partitions:
    """What :func:`candidate_partitions` returns: STC's initial clustering of one
    pretrained model's codes for every candidate k, and what a criterion may score them on.
    """

    candidates: np.ndarray
    labels: list  # of LongTensor (n_train,): the labels of the training rows, per candidate
    X: torch.Tensor  # (n_train, n_features): the scaled training rows, on the CPU
    Z: np.ndarray  # (n_train, n_components): their latent codes
    neighbors: torch.Tensor | None  # their kNN graph
    times: dict


def candidate_partitions(X, candidates: Iterable[int] | None = None, *,
                         estimator: STCClustering | None = None,
                         random_state=None) -> Partitions:
    """The steps of :func:`~skstc.select_n_clusters` before any score: one pretraining
    (:func:`skstc.stages.prepare`), then STC's start for each candidate k; arguments as
    :func:`~skstc.select_n_clusters`. For comparing other criteria of k on the same partitions."""
    est = clone(estimator) if estimator is not None else STCClustering()
    if random_state is not None:
        est.set_params(random_state=random_state)
    est._validate_params()
    X = check_array(X, dtype=[np.float64, np.float32])
    candidates = _checked_candidates(candidates, est._n_train(X.shape[0]))
    est.set_params(n_clusters=int(candidates.max()))  # sizes the graph for the most clusters
    t0 = time.perf_counter()
    prep = _prepare_validated(est, X)
    t1 = time.perf_counter()
    with prep.seeded():
        labels = [torch.from_numpy(prep.labels_of(prep.start(int(k)))) for k in candidates]
    return Partitions(
        candidates=candidates, labels=labels, X=prep.Xt.cpu(), Z=prep.Z,
        neighbors=None if prep.neighbors is None else prep.neighbors.cpu(),
        times={"pretrain": t1 - t0, "candidates": time.perf_counter() - t1},
    )


def compact(labels: torch.Tensor) -> torch.Tensor:
    """Labels renumbered 0 .. (number of distinct labels - 1)."""
    return torch.unique(labels, return_inverse=True)[1]
