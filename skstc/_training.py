"""Training loops of STC as plain functions over tensors.

The estimator in :mod:`skstc._stc` validates input and parameters, then calls, in order,
:func:`pretrain_autoencoder`, :func:`init_centers` and :func:`self_train`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans, kmeans_plusplus
from torch import nn

from ._device import autocast
from ._graph import neighbor_mean
from ._nn import (
    AutoEncoder,
    input_affinities,
    kl_sum,
    log_soft_assignment,
    neighbor_disagreement,
    neighbor_kl,
    target_distribution,
)
from ._progress import progress_bar

#: Rows per chunk when a whole data set goes through the encoder without gradients.
INFERENCE_BATCH = 4096

Logger = Callable[[str], None]


def _no_log(msg: str) -> None:
    pass


def _minibatches(n: int, batch_size: int, generator: torch.Generator):
    """Endless stream of shuffled index batches; a new permutation every epoch."""
    while True:
        yield from torch.randperm(n, generator=generator).split(batch_size)


def _chunked(fn, X: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``fn`` applied to row chunks of ``X`` (moved to ``device``), into one preallocated output.

    Filling a preallocated tensor, rather than concatenating a list of chunk outputs,
    keeps memory flat: small live outputs interleaved with the large freed activations
    of every chunk would fragment the heap (seen: +1.5 GB for 200,000 rows).
    """
    if X.shape[0] == 0:
        return fn(X.to(device))
    out = None
    for start in range(0, X.shape[0], INFERENCE_BATCH):
        chunk = fn(X[start : start + INFERENCE_BATCH].to(device, non_blocking=True))
        if out is None:
            out = chunk.new_empty((X.shape[0], *chunk.shape[1:]))
        out[start : start + len(chunk)] = chunk
        del chunk
    return out


@torch.no_grad()
def encode(encoder: nn.Module, X: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Latent codes of all rows of ``X`` (on ``device``), computed in chunks."""
    was_training = encoder.training
    encoder.eval()
    try:
        return _chunked(encoder, X, device)
    finally:
        encoder.train(was_training)


def pretrain_autoencoder(
    autoencoder: AutoEncoder,
    X: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    device: torch.device,
    generator: torch.Generator,
    neighbor_weight: float = 0.0,
    perplexity: float = 10.0,
    alpha: float = 1.0,
    autocast_dtype: torch.dtype | None = None,
    log: Logger = _no_log,
    progress: bool = False,
) -> dict[str, list[float]]:
    """Step 1: train the autoencoder to reconstruct ``X`` (MSE, Adam, shuffled batches).

    With ``neighbor_weight`` λ > 0 the loss is ``MSE + λ · MSE · KL(p ‖ q)`` (the second
    MSE detached, so the term is weighted relative to the reconstruction error): a parametric
    t-SNE term on each mini-batch (:func:`~skstc._nn.input_affinities`,
    :func:`~skstc._nn.neighbor_kl`) that keeps the input's neighbors together in
    the latent space, under the Student-t kernel with the α of self-training.
    With ``autocast_dtype`` (e.g. ``torch.bfloat16``) the forward and backward passes run
    in mixed precision; the affinities and both losses are float32.
    ``progress`` shows a bar of the epochs (:func:`~skstc._progress.progress_bar`).
    Returns the mean reconstruction loss (``"reconstruction"``) and neighbor loss
    (``"neighbor"``, empty when λ = 0) of every epoch.
    """
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=lr)
    autoencoder.train()
    n = X.shape[0]
    losses: dict[str, list[float]] = {"reconstruction": [], "neighbor": []}
    bar = progress_bar(epochs, "pretraining", progress, unit="epoch")
    for epoch in range(epochs):
        total = torch.zeros((), device=device)
        total_nb = torch.zeros((), device=device)
        for idx in torch.randperm(n, generator=generator).split(batch_size):
            xb = X[idx].to(device, non_blocking=True)
            with autocast(device, autocast_dtype):
                z, reconstruction = autoencoder(xb)
            loss = F.mse_loss(reconstruction.float(), xb)
            total += loss.detach() * len(idx)
            if neighbor_weight > 0 and len(idx) > 2:
                nb = neighbor_kl(input_affinities(xb, perplexity), z.float(), alpha)
                total_nb += nb.detach() * len(idx)
                # weighted relative to the current reconstruction error, so that the
                # balance of the two terms does not depend on how easy X is to reconstruct
                loss = loss + neighbor_weight * loss.detach() * nb
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        losses["reconstruction"].append(float(total) / n)
        msg = f"pretrain epoch {epoch + 1}/{epochs}: "
        msg += f"reconstruction MSE {losses['reconstruction'][-1]:.4g}"
        if neighbor_weight > 0:
            losses["neighbor"].append(float(total_nb) / n)
            msg += f", neighbor KL {losses['neighbor'][-1]:.4g}"
        log(msg)
        bar.set_postfix_str(f"MSE {losses['reconstruction'][-1]:.4g}")
        bar.update()
    bar.close()
    return losses


#: Steps of neighbor averaging applied to the codes before ``init="kmeans-graph"``.
GRAPH_INIT_STEPS = 3


def _mean_codes(
    Z: np.ndarray, labels: np.ndarray, view: np.ndarray, view_centers: np.ndarray
) -> np.ndarray:
    """Mean code of each cluster of ``labels`` (computed on another ``view`` of the samples).

    A cluster with no sample gets the code of the sample nearest to its centre in ``view``.
    """
    n_clusters = view_centers.shape[0]
    counts = np.bincount(labels, minlength=n_clusters)
    sums = np.zeros((n_clusters, Z.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, Z)
    centers = sums / np.maximum(counts, 1)[:, None]
    for j in np.flatnonzero(counts == 0):
        centers[j] = Z[np.argmin(((view - view_centers[j]) ** 2).sum(1))]
    return centers.astype(np.float32)


def init_centers(
    Z: np.ndarray,
    n_clusters: int,
    *,
    X: np.ndarray | None = None,
    neighbors: torch.Tensor | None = None,
    init: str | np.ndarray,
    n_init: int,
    max_samples: int,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """Step 2: initial centroids μ in latent space.

    ``init="kmeans"`` runs k-means (``n_init`` restarts) on the codes ``Z``, or on
    ``max_samples`` of them drawn at random when there are more; ``"kmeans++"`` keeps
    only the k-means++ seeding. Two variants cluster another view of the samples and
    take the mean code of each cluster as its centroid: ``"kmeans-input"`` runs k-means
    on the scaled input ``X``; ``"kmeans-graph"`` on the codes averaged
    ``GRAPH_INIT_STEPS`` times over each sample's closed neighborhood in the graph
    ``neighbors`` (:func:`~skstc._graph.neighbor_mean`). An array is used as given.
    """
    if not isinstance(init, str):
        return np.asarray(init, dtype=np.float32)
    if init == "kmeans-graph":
        smoothed = torch.from_numpy(Z)
        for _ in range(GRAPH_INIT_STEPS):
            smoothed = neighbor_mean(smoothed, neighbors)
        view = smoothed.numpy()
    else:
        view = X if init == "kmeans-input" else Z
    sub = np.arange(Z.shape[0])
    if Z.shape[0] > max_samples:
        sub = np.sort(random_state.choice(Z.shape[0], max_samples, replace=False))
    if init == "kmeans++":
        centers, _ = kmeans_plusplus(Z[sub], n_clusters, random_state=random_state)
        return centers.astype(np.float32)
    km = KMeans(n_clusters, n_init=n_init, random_state=random_state).fit(view[sub])
    if view is Z:
        return km.cluster_centers_.astype(np.float32)
    return _mean_codes(Z[sub], km.labels_, view[sub], km.cluster_centers_)


@torch.no_grad()
def log_soft_assign_codes(Z: torch.Tensor, centers: torch.Tensor, alpha: float) -> torch.Tensor:
    """log Q for latent codes ``Z``, in row chunks: the (chunk, k, d) differences stay small."""
    return _chunked(lambda zb: log_soft_assignment(zb, centers, alpha), Z, centers.device)


@torch.no_grad()
def log_soft_assign_all(
    encoder: nn.Module,
    centers: torch.Tensor,
    X: torch.Tensor,
    alpha: float,
    device: torch.device,
) -> torch.Tensor:
    """log Q for every row of ``X``, computed in chunks (memory linear in n)."""
    return log_soft_assign_codes(encode(encoder, X, device), centers, alpha)


def kl_divergence(p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(P ‖ Q) averaged over rows; terms with p = 0 count as 0."""
    return kl_sum(p, log_q) / p.shape[0]


def self_train(
    encoder: nn.Module,
    centers: nn.Parameter,
    X: torch.Tensor,
    *,
    alpha: float,
    max_iter: int,
    update_interval: int,
    tol: float,
    batch_size: int,
    lr: float,
    device: torch.device,
    generator: torch.Generator,
    neighbors: torch.Tensor | None = None,
    consistency_weight: float = 0.0,
    autocast_dtype: torch.dtype | None = None,
    guard: Callable[[torch.Tensor], float] | None = None,
    on_refresh: Callable[[int, torch.Tensor], None] | None = None,
    log: Logger = _no_log,
    progress: bool = False,
) -> tuple[int, dict[str, list], torch.Tensor]:
    """Step 3: refine encoder and centroids μ by minimising KL(P ‖ Q).

    Every ``update_interval`` steps the soft assignments Q of the whole data set are
    recomputed, the target P is sharpened from them, and the fraction of hard labels
    (argmax Q) that changed since the previous refresh is measured; training stops
    when that fraction is below ``tol`` or after ``max_iter`` steps. Between refreshes,
    Adam minimises KL(P ‖ Q) on mini-batches, P held fixed. The decoder is not used.
    With a k-nearest-neighbor graph ``neighbors`` (indices, shape ``(n, k)``), P is
    sharpened from Q averaged over each sample's closed neighborhood
    (:func:`~skstc._graph.neighbor_mean`), and ``consistency_weight`` γ > 0 adds
    ``γ · neighbor_disagreement`` between every batch sample and a random neighbor of it,
    whose Q is taken from the last refresh and held fixed like P (so that a step
    encodes the batch only).
    ``autocast_dtype`` runs the encoder of the training steps in mixed precision; Q, P and
    the refreshes are computed in float32. With a ``guard``, a score of the hard labels
    (higher is better), every refresh is scored and the encoder and centroids of the
    best-scoring refresh (the start included; the later of equal scores) are restored at
    the end, so that self-training ends no lower than it started by that score.
    ``on_refresh(it, labels)`` is called after
    every refresh with the step count and the hard labels of that refresh (the first, at
    step 0, gives the labels of the initial centroids). ``progress`` shows a bar of the steps.

    Returns the number of optimisation steps taken, the per-refresh history
    (``iteration``, ``kl_loss`` (KL(P ‖ Q) on the whole data), ``delta_label``,
    ``n_empty_clusters`` (clusters with no sample as argmax) and, with a guard,
    ``guard_score``) and the hard labels
    (argmax Q) of the refresh kept, which saw the final encoder and centroids.
    """
    optimizer = torch.optim.Adam([*encoder.parameters(), centers], lr=lr)
    encoder.train()
    history: dict[str, list] = {
        "iteration": [],
        "kl_loss": [],
        "delta_label": [],
        "n_empty_clusters": [],
    }
    if guard is not None:
        history["guard_score"] = []
    best = None  # (score, encoder weights, centroids, labels) of the best refresh
    n_clusters = centers.shape[0]
    use_consistency = neighbors is not None and consistency_weight > 0
    batches = _minibatches(X.shape[0], batch_size, generator)
    labels_last = None
    p = None
    bar = progress_bar(max_iter, "self-training", progress, unit="step")
    t0 = time.perf_counter()
    it = 0
    while True:
        if it % update_interval == 0 or it == max_iter:
            log_q_all = log_soft_assign_all(encoder, centers.detach(), X, alpha, device)
            q_all = log_q_all.exp()
            if neighbors is not None:
                q_all = neighbor_mean(q_all, neighbors)
            p = target_distribution(q_all)
            labels = log_q_all.argmax(dim=1)
            kl = float(kl_divergence(p, log_q_all))
            delta = 1.0 if labels_last is None else float((labels != labels_last).float().mean())
            n_empty = int(n_clusters - torch.unique(labels).numel())
            history["iteration"].append(it)
            history["kl_loss"].append(kl)
            history["delta_label"].append(delta)
            history["n_empty_clusters"].append(n_empty)
            if on_refresh is not None:
                on_refresh(it, labels)
            if guard is not None:
                score = float(guard(labels))
                history["guard_score"].append(score)
                if best is None or score >= best[0]:  # ties: the later, sharper model
                    best = (score, copy.deepcopy(encoder.state_dict()),
                            centers.detach().clone(), labels)
            log(
                f"self-training step {it}/{max_iter}: KL(P||Q) {kl:.4g}, "
                f"labels changed {delta:.2%}, empty clusters {n_empty} "
                f"({time.perf_counter() - t0:.1f}s)"
            )
            bar.set_postfix_str(f"labels changed {delta:.2%}")
            if (labels_last is not None and delta < tol) or it == max_iter:
                bar.close()
                if best is not None:
                    _, weights, best_centers, labels = best
                    encoder.load_state_dict(weights)
                    with torch.no_grad():
                        centers.copy_(best_centers)
                return it, history, labels
            labels_last = labels
        idx = next(batches)
        with autocast(device, autocast_dtype):
            z = encoder(X[idx].to(device, non_blocking=True))
        log_q = log_soft_assignment(z.float(), centers, alpha)
        loss = kl_divergence(p[idx.to(p.device)], log_q)
        if use_consistency:
            # one random graph neighbor l of every sample i, with its Q of the last refresh
            pick = torch.randint(neighbors.shape[1], (len(idx),), generator=generator)
            log_q_neighbor = log_q_all[neighbors[idx, pick].to(log_q_all.device)]
            loss = loss + consistency_weight * neighbor_disagreement(log_q, log_q_neighbor)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        bar.update()
        it += 1
