"""The loops of STC as plain functions over tensors.

The estimator in :mod:`skstc._stc` validates input and parameters, then calls, in order,
:func:`pretrain_autoencoder`, :func:`~skstc._graph.knn_graph`, :func:`init_centers` and
:func:`self_train`. The quantities they optimise (Q, P and the losses) are in
:mod:`skstc._objective`; whole-data passes without gradients (:func:`encode`,
:func:`log_q_of_codes`, :func:`log_q_of_inputs`) run in row chunks.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans, kmeans_plusplus
from torch import nn

from ._chunks import map_rows
from ._device import autocast
from ._graph import graph_mean
from ._nn import AutoEncoder
from ._objective import (
    consistency_loss,
    kl_divergence,
    log_soft_assignment,
    target_distribution,
    tsne_affinities,
    tsne_kl,
    umap_cross_entropy,
)
from ._progress import progress_bar

Logger = Callable[[str], None]


def _no_log(msg: str) -> None:
    pass


def _adam(params, lr: float) -> torch.optim.Adam:
    """Adam with the fused kernel where torch has it for the parameters' device (one pass
    over all weights per step instead of several: 3-4 times faster on the CPU); the
    multi-tensor one elsewhere."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or torch
        return torch.optim.Adam(params, lr=lr)


def _minibatches(n: int, batch_size: int, generator: torch.Generator):
    """Endless stream of shuffled index batches; a new permutation every epoch."""
    while True:
        yield from torch.randperm(n, generator=generator).split(batch_size)


@torch.no_grad()
def encode(encoder: nn.Module, X: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Latent codes of all rows of ``X`` (on ``device``), computed in chunks."""
    was_training = encoder.training
    encoder.eval()
    try:
        return map_rows(encoder, X, device)
    finally:
        encoder.train(was_training)


#: Random samples the UMAP term repels per graph edge (umap-learn's
#: ``negative_sample_rate``).
UMAP_NEGATIVES = 5


def _umap_loss(z, idx, bank, neighbors, alpha, generator) -> torch.Tensor:
    """The UMAP term of the batch ``idx`` with codes ``z``: all its graph edges, and
    :data:`UMAP_NEGATIVES` random samples per edge, their codes from the ``bank``."""
    k = neighbors.shape[1]
    negatives = torch.randint(bank.shape[0], (len(idx), k * UMAP_NEGATIVES), generator=generator)
    on = bank.device
    return umap_cross_entropy(z, bank[neighbors[idx].to(on)], bank[negatives.to(on)], alpha)


def pretrain_autoencoder(
    autoencoder: AutoEncoder,
    X: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    device: torch.device,
    generator: torch.Generator,
    tsne_weight: float = 0.0,
    perplexity: float = 10.0,
    neighbors: torch.Tensor | None = None,
    umap_weight: float = 0.0,
    alpha: float = 1.0,
    autocast_dtype: torch.dtype | None = None,
    log: Logger = _no_log,
    progress: bool = False,
) -> dict[str, list[float]]:
    """Step 1: train the autoencoder to reconstruct ``X`` (MSE, Adam, shuffled batches).

    With ``tsne_weight`` λ > 0 the loss is ``MSE + λ · MSE · KL(p ‖ q)`` (the second
    MSE detached, so the term is weighted relative to the reconstruction error): the
    in-batch t-SNE term, parametric t-SNE on each mini-batch
    (:func:`~skstc._objective.tsne_affinities`, :func:`~skstc._objective.tsne_kl`), which
    keeps the input's neighbors together in the latent space, under the Student-t kernel
    with the α of self-training.
    With a kNN graph ``neighbors`` (indices, shape ``(n, k)``) and ``umap_weight`` ν > 0
    the loss gains ``ν · MSE · CE``, the UMAP term: UMAP's cross-entropy of every batch
    sample's k graph edges, with :data:`UMAP_NEGATIVES` random samples per edge
    (:func:`~skstc._objective.umap_cross_entropy`). The codes of the neighbors and of the
    random samples come from a bank holding the latest code of every row (encoded once
    before the first epoch, then overwritten by each batch's codes), so that the term
    costs no extra pass of the encoder; gradients flow through the batch's codes.
    With ``autocast_dtype`` (e.g. ``torch.bfloat16``) the forward and backward passes run
    in mixed precision; the affinities and the losses are float32.
    ``progress`` shows a bar of the epochs (:func:`~skstc._progress.progress_bar`).
    Returns the mean reconstruction loss (``"reconstruction"``), t-SNE loss (``"tsne"``,
    empty when λ = 0) and UMAP loss (``"umap"``, empty when ν = 0) of every epoch.
    """
    optimizer = _adam(autoencoder.parameters(), lr)
    n = X.shape[0]
    use_umap = umap_weight > 0 and neighbors is not None and neighbors.shape[1] > 0
    bank = encode(autoencoder.encoder, X, device).float() if use_umap and epochs else None
    autoencoder.train()
    losses: dict[str, list[float]] = {"reconstruction": [], "tsne": [], "umap": []}
    bar = progress_bar(epochs, "pretraining", progress, unit="epoch")
    for epoch in range(epochs):
        total = torch.zeros((), device=device)
        total_tsne = torch.zeros((), device=device)
        total_umap = torch.zeros((), device=device)
        for idx in torch.randperm(n, generator=generator).split(batch_size):
            xb = X[idx].to(device, non_blocking=True)
            with autocast(device, autocast_dtype):
                z, reconstruction = autoencoder(xb)
            loss = mse = F.mse_loss(reconstruction.float(), xb)
            total += loss.detach() * len(idx)
            if tsne_weight > 0 and len(idx) > 2:
                tsne = tsne_kl(tsne_affinities(xb, perplexity), z.float(), alpha)
                total_tsne += tsne.detach() * len(idx)
                # weighted relative to the current reconstruction error, so that the
                # balance of the two terms does not depend on how easy X is to reconstruct
                loss = loss + tsne_weight * mse.detach() * tsne
            if bank is not None:
                umap = _umap_loss(z.float(), idx, bank, neighbors, alpha, generator)
                total_umap += umap.detach() * len(idx)
                loss = loss + umap_weight * mse.detach() * umap
                bank[idx.to(bank.device)] = z.detach().float()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        losses["reconstruction"].append(float(total) / n)
        msg = f"pretrain epoch {epoch + 1}/{epochs}: "
        msg += f"reconstruction MSE {losses['reconstruction'][-1]:.4g}"
        if tsne_weight > 0:
            losses["tsne"].append(float(total_tsne) / n)
            msg += f", t-SNE KL {losses['tsne'][-1]:.4g}"
        if bank is not None:
            losses["umap"].append(float(total_umap) / n)
            msg += f", UMAP CE {losses['umap'][-1]:.4g}"
        log(msg)
        bar.set_postfix_str(f"MSE {losses['reconstruction'][-1]:.4g}")
        bar.update()
    bar.close()
    return losses


#: Steps of neighbor averaging before ``init="kmeans-graph"`` (codes),
#: ``"kmeans-diffusion"`` (scaled input) and ``"kmeans-diffused-codes"``.
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


def _codes(Z: np.ndarray, X, neighbors, random_state) -> np.ndarray:
    return Z


def _scaled_input(Z: np.ndarray, X: torch.Tensor, neighbors, random_state) -> np.ndarray:
    return X.cpu().numpy()


def _graph_averaged_codes(Z: np.ndarray, X, neighbors: torch.Tensor, random_state) -> np.ndarray:
    smoothed = torch.from_numpy(Z)
    for _ in range(GRAPH_INIT_STEPS):
        smoothed = graph_mean(smoothed, neighbors)
    return smoothed.numpy()


def _diffused(V: torch.Tensor, neighbors: torch.Tensor) -> np.ndarray:
    """The rows of ``V``, L2-normalised, then ``GRAPH_INIT_STEPS`` times averaged over each
    closed neighborhood and normalised again: the smoothing of diffusion + k-means
    (:class:`~skstc.baselines.DiffusionKMeans`), over STC's graph instead of a symmetrised
    cosine graph."""
    diffused = F.normalize(V.float(), dim=1)
    for _ in range(GRAPH_INIT_STEPS):
        diffused = F.normalize(graph_mean(diffused, neighbors), dim=1)
    return diffused.cpu().numpy()


def _graph_diffused_input(
    Z: np.ndarray, X: torch.Tensor, neighbors: torch.Tensor, random_state
) -> np.ndarray:
    """The scaled (centred) input, diffused (:func:`_diffused`)."""
    return _diffused(X, neighbors)


def _graph_diffused_codes(Z: np.ndarray, X, neighbors: torch.Tensor, random_state) -> np.ndarray:
    """The codes, centred, then diffused (:func:`_diffused`)."""
    return _diffused(torch.from_numpy(Z - Z.mean(axis=0)), neighbors)


#: UMAP's settings in ``init="kmeans-umap"``: those of UMAP + k-means
#: (:class:`~skstc.baselines.UMAPKMeans`, the recipe of BERTopic-style pipelines).
UMAP_INIT = {"n_components": 5, "n_neighbors": 15, "min_dist": 0.0, "metric": "cosine"}


def umap_class(what: str):
    """umap-learn's ``UMAP``, or an ImportError that says ``what`` needs it and how to
    install it."""
    try:
        from umap import UMAP
    except ImportError:
        raise ImportError(f"{what} needs umap-learn: pip install 'skstc[umap]'") from None
    return UMAP


def _umap_embedded_input(
    Z: np.ndarray, X: torch.Tensor, neighbors, random_state: np.random.RandomState
) -> np.ndarray:
    """The scaled input embedded by UMAP (:data:`UMAP_INIT`; one thread, seeded from
    ``random_state``, so deterministic). UMAP builds its own neighbor graph; with fewer
    than ``n_neighbors + 1`` rows it uses them all, and below 3 rows (UMAP needs two
    neighbors per row) the view is the scaled input itself."""
    UMAP = umap_class('init="kmeans-umap"')
    n = X.shape[0]
    if n < 3:
        return _scaled_input(Z, X, neighbors, random_state)
    settings = {**UMAP_INIT, "n_neighbors": min(UMAP_INIT["n_neighbors"], n - 1)}
    if n <= settings["n_components"] + 1:  # too few rows for UMAP's spectral layout
        settings["init"] = "random"
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    umap = UMAP(**settings, random_state=seed, n_jobs=1)
    return np.asarray(umap.fit_transform(X.cpu().numpy()), dtype=np.float32)


@dataclass(frozen=True)
class InitSpec:
    """One entry of :data:`INITS`, a k-means initialisation of the centroids μ.

    ``view(Z, X, neighbors, random_state)``: the samples k-means clusters, from the codes
    ``Z``, the scaled input ``X`` and the kNN graph (``random_state``: a
    ``np.random.RandomState`` for a view that draws); when it is not the codes themselves, each
    centroid is the mean code of its cluster. ``seeding_only``: k-means++ seeding
    without Lloyd iterations. ``needs_graph``: the view needs the kNN graph.
    """

    view: Callable[
        [np.ndarray, torch.Tensor | None, torch.Tensor | None, np.random.RandomState], np.ndarray
    ]
    seeding_only: bool = False
    needs_graph: bool = False


#: The string values of ``init`` (besides ``"auto"``), by name: a new one is one entry.
INITS: dict[str, InitSpec] = {
    "kmeans": InitSpec(_codes),
    "kmeans++": InitSpec(_codes, seeding_only=True),
    "kmeans-input": InitSpec(_scaled_input),
    "kmeans-graph": InitSpec(_graph_averaged_codes, needs_graph=True),
    "kmeans-diffusion": InitSpec(_graph_diffused_input, needs_graph=True),
    "kmeans-diffused-codes": InitSpec(_graph_diffused_codes, needs_graph=True),
    "kmeans-umap": InitSpec(_umap_embedded_input),
}


def init_centers(
    Z: np.ndarray,
    n_clusters: int,
    *,
    X: torch.Tensor | None = None,
    neighbors: torch.Tensor | None = None,
    init: str | np.ndarray,
    n_init: int,
    max_samples: int,
    random_state: np.random.RandomState,
) -> np.ndarray:
    """Step 2: initial centroids μ in latent space.

    ``init="kmeans"`` runs k-means (``n_init`` restarts) on the codes ``Z``, or on
    ``max_samples`` of them drawn at random when there are more; ``"kmeans++"`` keeps
    only the k-means++ seeding. Five variants cluster another view of the samples and
    take the mean code of each cluster as its centroid: ``"kmeans-input"`` runs k-means
    on the scaled input ``X``; ``"kmeans-graph"`` on the codes averaged
    ``GRAPH_INIT_STEPS`` times over each sample's closed neighborhood in the graph
    ``neighbors`` (:func:`~skstc._graph.graph_mean`); ``"kmeans-diffusion"`` on the
    scaled input diffused over the graph (:func:`_diffused`: L2-normalised, then averaged
    so and normalised again after each step; the features of diffusion + k-means);
    ``"kmeans-diffused-codes"`` on the centred codes diffused so; ``"kmeans-umap"`` on
    the scaled input embedded by UMAP (:func:`_umap_embedded_input`). See :data:`INITS`.
    An array is used as given.
    """
    if not isinstance(init, str):
        return np.asarray(init, dtype=np.float32)
    spec = INITS[init]
    view = spec.view(Z, X, neighbors, random_state)
    sub = np.arange(Z.shape[0])
    if Z.shape[0] > max_samples:
        sub = np.sort(random_state.choice(Z.shape[0], max_samples, replace=False))
    if spec.seeding_only:
        centers, _ = kmeans_plusplus(view[sub], n_clusters, random_state=random_state)
        return centers.astype(np.float32)
    km = KMeans(n_clusters, n_init=n_init, random_state=random_state).fit(view[sub])
    if view is Z:
        return km.cluster_centers_.astype(np.float32)
    return _mean_codes(Z[sub], km.labels_, view[sub], km.cluster_centers_)


@torch.no_grad()
def log_q_of_codes(Z: torch.Tensor, centers: torch.Tensor, alpha: float) -> torch.Tensor:
    """log Q of all latent codes ``Z``, without gradients, in row chunks (so that the
    (chunk, k, d) differences stay small); one batch with gradients is
    :func:`~skstc._objective.log_soft_assignment`."""
    return map_rows(lambda zb: log_soft_assignment(zb, centers, alpha), Z, centers.device)


@torch.no_grad()
def log_q_of_inputs(
    encoder: nn.Module,
    centers: torch.Tensor,
    X: torch.Tensor,
    alpha: float,
    device: torch.device,
) -> torch.Tensor:
    """log Q of all inputs ``X``: :func:`encode` then :func:`log_q_of_codes` (memory
    linear in n)."""
    return log_q_of_codes(encode(encoder, X, device), centers, alpha)


@dataclass
class SelfTrainingResult:
    """What :func:`self_train` returns.

    ``n_iter``: optimisation steps taken; ``history``: one entry per refresh of P
    (``iteration``, ``kl_loss`` (KL(P ‖ Q) on the whole data), ``delta_label``,
    ``n_empty_clusters`` (clusters with no sample as argmax) and, with a guard,
    ``guard_score``); ``labels``: the hard labels (argmax Q) of the refresh kept, which
    saw the final encoder and centroids; ``init_labels``: those of the first refresh
    (the initial centroids); ``best_iter``: the steps of the refresh kept.
    """

    n_iter: int
    history: dict[str, list]
    labels: torch.Tensor
    init_labels: torch.Tensor
    best_iter: int


def _refresh(encoder, centers, X, alpha, device, neighbors):
    """log Q of all rows, the target P sharpened from it (from Q averaged over the graph
    when there is one) and the hard labels argmax Q."""
    log_q_all = log_q_of_inputs(encoder, centers.detach(), X, alpha, device)
    q_all = log_q_all.exp()
    if neighbors is not None:
        q_all = graph_mean(q_all, neighbors)
    return log_q_all, target_distribution(q_all), log_q_all.argmax(dim=1)


def _record(history: dict, it: int, p, log_q_all, labels, labels_last) -> str:
    """Append one refresh to ``history``; returns its log line (without the time)."""
    delta = 1.0 if labels_last is None else float((labels != labels_last).float().mean())
    n_empty = int(log_q_all.shape[1] - torch.unique(labels).numel())
    kl = float(kl_divergence(p, log_q_all))
    for name, value in (("iteration", it), ("kl_loss", kl), ("delta_label", delta),
                        ("n_empty_clusters", n_empty)):
        history[name].append(value)
    return f"KL(P||Q) {kl:.4g}, labels changed {delta:.2%}, empty clusters {n_empty}"


def _batch_loss(encoder, centers, X, idx, p, log_q_all, *, alpha, device, autocast_dtype,
                neighbors, consistency_weight, generator) -> torch.Tensor:
    """KL(P ‖ Q) of the batch ``idx``, plus the graph consistency term between each
    sample and one random graph neighbor of it, whose Q comes from the last refresh."""
    with autocast(device, autocast_dtype):
        z = encoder(X[idx].to(device, non_blocking=True))
    log_q = log_soft_assignment(z.float(), centers, alpha)
    loss = kl_divergence(p[idx.to(p.device)], log_q)
    if neighbors is not None and consistency_weight > 0:
        pick = torch.randint(neighbors.shape[1], (len(idx),), generator=generator)
        log_q_neighbor = log_q_all[neighbors[idx, pick].to(log_q_all.device)]
        loss = loss + consistency_weight * consistency_loss(log_q, log_q_neighbor)
    return loss


class _BestRefresh:
    """The model of the refresh a guard scores best (the later of equal scores)."""

    def __init__(self, guard: Callable[[torch.Tensor], float]) -> None:
        self.guard = guard
        self.score = None

    def offer(self, it: int, labels: torch.Tensor, encoder: nn.Module, centers) -> float:
        score = float(self.guard(labels))
        if self.score is None or score >= self.score:  # ties: the later, sharper model
            self.score, self.it, self.labels = score, it, labels
            self.weights = copy.deepcopy(encoder.state_dict())
            self.centers = centers.detach().clone()
        return score

    def restore(self, encoder: nn.Module, centers: nn.Parameter) -> torch.Tensor:
        encoder.load_state_dict(self.weights)
        with torch.no_grad():
            centers.copy_(self.centers)
        return self.labels


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
    lr_schedule: str = "constant",
    autocast_dtype: torch.dtype | None = None,
    guard: Callable[[torch.Tensor], float] | None = None,
    on_refresh: Callable[[int, torch.Tensor], None] | None = None,
    log: Logger = _no_log,
    progress: bool = False,
) -> SelfTrainingResult:
    """Step 3: refine encoder and centroids μ by minimising KL(P ‖ Q).

    Every ``update_interval`` steps the soft assignments Q of the whole data set are
    recomputed, the target P is sharpened from them, and the fraction of hard labels
    (argmax Q) that changed since the previous refresh is measured; training stops
    when that fraction is below ``tol`` or after ``max_iter`` steps. Between refreshes,
    Adam minimises KL(P ‖ Q) on mini-batches, P held fixed. The decoder is not used.
    With a k-nearest-neighbor graph ``neighbors`` (indices, shape ``(n, k)``), P is
    sharpened from Q averaged over each sample's closed neighborhood
    (:func:`~skstc._graph.graph_mean`), and ``consistency_weight`` γ > 0 adds the graph
    consistency term ``γ · consistency_loss`` between every batch sample and a random
    neighbor of it, whose Q is taken from the last refresh and held fixed like P (so that
    a step encodes the batch only).
    ``lr_schedule="cosine"`` anneals the learning rate from ``lr`` to 0 over ``max_iter``
    steps (half a cosine period, :class:`torch.optim.lr_scheduler.CosineAnnealingLR`);
    ``"constant"`` keeps ``lr``.
    ``autocast_dtype`` runs the encoder of the training steps in mixed precision; Q, P and
    the refreshes are computed in float32. With a ``guard``, a score of the hard labels
    (higher is better), every refresh is scored and the encoder and centroids of the
    best-scoring refresh (the start included; the later of equal scores) are restored at
    the end, so that self-training ends no lower than it started by that score.
    ``on_refresh(it, labels)`` is called after every refresh with the step count and the
    hard labels of that refresh (the first, at step 0, gives the labels of the initial
    centroids). ``progress`` shows a bar of the steps.
    """
    optimizer = _adam([*encoder.parameters(), centers], lr)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(max_iter, 1))
                 if lr_schedule == "cosine" else None)
    encoder.train()
    history: dict[str, list] = {name: [] for name in
                                ("iteration", "kl_loss", "delta_label", "n_empty_clusters")}
    best = None if guard is None else _BestRefresh(guard)
    if best is not None:
        history["guard_score"] = []
    batches = _minibatches(X.shape[0], batch_size, generator)
    init_labels = labels_last = None
    bar = progress_bar(max_iter, "self-training", progress, unit="step")
    t0 = time.perf_counter()
    it = 0
    while True:
        if it % update_interval == 0 or it == max_iter:
            log_q_all, p, labels = _refresh(encoder, centers, X, alpha, device, neighbors)
            line = _record(history, it, p, log_q_all, labels, labels_last)
            if on_refresh is not None:
                on_refresh(it, labels)
            if best is not None:
                history["guard_score"].append(best.offer(it, labels, encoder, centers))
            log(f"self-training step {it}/{max_iter}: {line} ({time.perf_counter() - t0:.1f}s)")
            bar.set_postfix_str(f"labels changed {history['delta_label'][-1]:.2%}")
            init_labels = labels if init_labels is None else init_labels
            if (labels_last is not None and history["delta_label"][-1] < tol) or it == max_iter:
                bar.close()
                if best is None:
                    return SelfTrainingResult(it, history, labels, init_labels, it)
                labels = best.restore(encoder, centers)
                return SelfTrainingResult(it, history, labels, init_labels, best.it)
            labels_last = labels
        loss = _batch_loss(encoder, centers, X, next(batches), p, log_q_all, alpha=alpha,
                           device=device, autocast_dtype=autocast_dtype, neighbors=neighbors,
                           consistency_weight=consistency_weight, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        bar.update()
        it += 1
