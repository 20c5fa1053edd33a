"""The self-training guard: an unsupervised score of each refresh's labels.

Self-training optimises KL(P ‖ Q) and, with the graph, agreement along kNN edges; neither
says whether the partition still fits the input. The guard scores the hard labels of
every refresh by their silhouette in the scaled input, a criterion self-training does not
optimise, and :func:`~skstc._training.self_train` keeps the refresh that scores best.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.metrics import pairwise_distances, silhouette_score

#: Rows on which the guard's silhouette is computed (a fixed random subsample above this).
GUARD_MAX_SAMPLES = 3000


def fixed_rows(n: int, max_samples: int) -> np.ndarray:
    """Indices of the rows a score is computed on: all ``n``, or ``max_samples`` of them
    drawn with a fixed seed (sorted), so that the score neither depends on nor draws from
    a fit's random state."""
    if n <= max_samples:
        return np.arange(n)
    return np.sort(np.random.RandomState(0).choice(n, max_samples, replace=False))


def silhouette_guard(X: np.ndarray | torch.Tensor) -> Callable[[torch.Tensor], float]:
    """A score of hard labels: their mean silhouette on (a subsample of) the rows of ``X``.

    Euclidean distances on ``X`` as given (the scaled input: the geometry of STC's kNN
    graph), among at most 3,000 rows (``GUARD_MAX_SAMPLES``) drawn with a fixed seed, so that
    the score does not depend on, or draw from, the fit's random state. The distances
    are computed once; scoring a partition then costs O(m²) for m rows. A partition with
    a single cluster among those rows scores -1.
    """
    sub = fixed_rows(X.shape[0], GUARD_MAX_SAMPLES)
    # the subsample only leaves the device: a (GPU) tensor is not copied whole
    rows = (X[torch.from_numpy(sub).to(X.device)].cpu().numpy() if isinstance(X, torch.Tensor)
            else np.asarray(X)[sub])
    distances = pairwise_distances(rows)

    def score(labels: torch.Tensor) -> float:
        lab = labels.cpu().numpy()[sub]
        if not 2 <= np.unique(lab).size < len(sub):
            return -1.0
        return float(silhouette_score(distances, lab, metric="precomputed"))

    return score
