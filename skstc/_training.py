"""The two training loops of STC as plain functions over tensors.

:func:`pretrain_autoencoder` (step 1) and :func:`self_train` (step 3) do the algorithm and
nothing else: at each event they notify the callbacks (:mod:`skstc.callbacks`), which do
the rest (progress, log, keeping the best refresh, schedules). The quantities they
optimise (Q, P and the losses) are in :mod:`skstc._objective`; the start (step 2) is in
:mod:`skstc.inits`. Whole-data passes without gradients (:func:`encode`,
:func:`log_q_of_codes`, :func:`log_q_of_inputs`) run in row chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._chunks import map_rows
from ._device import autocast
from ._nn import AutoEncoder
from ._objective import (
    consistency_loss,
    kl_divergence,
    log_soft_assignment,
    target_distribution,
    tsne_affinities,
    tsne_kl,
)
from .callbacks import Callback, PretrainState, SelfTrainState, notify
from .graph import graph_mean


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
def encode(encoder: nn.Module, X: torch.Tensor, device: torch.device,
           autocast_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Latent codes (float32) of all rows of ``X`` (on ``device``), computed in chunks;
    with ``autocast_dtype`` in that mixed precision."""

    def codes(xb: torch.Tensor) -> torch.Tensor:
        with autocast(device, autocast_dtype):
            return encoder(xb).float()

    was_training = encoder.training
    encoder.eval()
    try:
        return map_rows(codes, X, device)
    finally:
        encoder.train(was_training)


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
    autocast_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """log Q of all inputs ``X``: :func:`encode` then :func:`log_q_of_codes` (memory
    linear in n)."""
    return log_q_of_codes(encode(encoder, X, device, autocast_dtype), centers, alpha)


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
    alpha: float = 1.0,
    autocast_dtype: torch.dtype | None = None,
    callbacks: Sequence[Callback] = (),
) -> dict[str, list[float]]:
    """Step 1: train the autoencoder to reconstruct ``X`` (MSE, Adam, shuffled batches).

    With ``tsne_weight`` λ > 0 the loss is ``MSE + λ · MSE · KL(p ‖ q)`` (the second
    MSE detached, so the term is weighted relative to the reconstruction error): the
    in-batch t-SNE term, parametric t-SNE on each mini-batch
    (:func:`~skstc._objective.tsne_affinities`, :func:`~skstc._objective.tsne_kl`), which
    keeps the input's neighbors together in the latent space, under the Student-t kernel
    with the α of self-training. With ``autocast_dtype`` (e.g. ``torch.bfloat16``) the
    forward and backward passes run in mixed precision; the affinities and the losses are
    float32. Returns the mean reconstruction loss (``"reconstruction"``) and t-SNE loss
    (``"tsne"``, empty when λ = 0) of every epoch.
    """
    state = PretrainState(autoencoder, _adam(autoencoder.parameters(), lr), X, epochs)
    autoencoder.train()
    notify(callbacks, "on_pretrain_begin", state)
    for _ in range(epochs):
        total = torch.zeros((), device=device)
        total_tsne = torch.zeros((), device=device)
        for idx in torch.randperm(X.shape[0], generator=generator).split(batch_size):
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
            state.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            state.optimizer.step()
        state.losses["reconstruction"].append(float(total) / X.shape[0])
        if tsne_weight > 0:
            state.losses["tsne"].append(float(total_tsne) / X.shape[0])
        state.epoch += 1
        notify(callbacks, "on_epoch_end", state)
    notify(callbacks, "on_pretrain_end", state)
    return state.losses


def _refresh(state: SelfTrainState, alpha: float, device: torch.device, autocast_dtype) -> None:
    """log Q of all rows (the encoder in the steps' precision), the target P sharpened
    from it (from Q averaged over the graph when there is one) and the hard labels
    argmax Q, into ``state``, with one entry of its history."""
    labels_last = state.labels
    state.log_q = log_q_of_inputs(state.encoder, state.centers.detach(), state.X, alpha,
                                  device, autocast_dtype)
    q = state.log_q.exp()
    if state.neighbors is not None:
        q = graph_mean(q, state.neighbors)
    state.p, state.labels = target_distribution(q), state.log_q.argmax(dim=1)
    changed = 1.0 if labels_last is None else float((state.labels != labels_last).float().mean())
    entry = {"iteration": state.it, "kl_loss": float(kl_divergence(state.p, state.log_q)),
             "delta_label": changed,
             "n_empty_clusters": int(state.log_q.shape[1] - torch.unique(state.labels).numel())}
    for name, value in entry.items():
        state.history[name].append(value)


def _batch_loss(state: SelfTrainState, idx: torch.Tensor, *, alpha: float,
                device: torch.device, autocast_dtype, consistency_weight: float,
                generator: torch.Generator) -> torch.Tensor:
    """KL(P ‖ Q) of the batch ``idx``, plus the graph consistency term between each
    sample and one random graph neighbor of it, whose Q comes from the last refresh."""
    with autocast(device, autocast_dtype):
        z = state.encoder(state.X[idx].to(device, non_blocking=True))
    log_q = log_soft_assignment(z.float(), state.centers, alpha)
    loss = kl_divergence(state.p[idx.to(state.p.device)], log_q)
    neighbors = state.neighbors
    if neighbors is not None and consistency_weight > 0:
        pick = torch.randint(neighbors.shape[1], (len(idx),), generator=generator)
        log_q_neighbor = state.log_q[neighbors[idx, pick].to(state.log_q.device)]
        loss = loss + consistency_weight * consistency_loss(log_q, log_q_neighbor)
    return loss


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
    callbacks: Sequence[Callback] = (),
) -> SelfTrainState:
    """Step 3: refine encoder and centroids μ by minimising KL(P ‖ Q).

    Every ``update_interval`` steps Q of every row is recomputed, P is sharpened from it
    (from Q averaged over each closed neighborhood of the graph ``neighbors``, when given)
    and the fraction of hard labels that changed is measured; training stops below ``tol``
    or after ``max_iter`` steps. Between refreshes Adam minimises KL(P ‖ Q) on
    mini-batches, plus ``consistency_weight`` γ times the graph consistency term between
    each batch sample and a random neighbor whose Q is that of the last refresh (held fixed
    like P). ``autocast_dtype`` runs the encoder of the steps and of the refreshes in mixed
    precision (and so the labels of the refreshes). Returns the final state: ``it``,
    ``labels`` of the model kept, ``init_labels``, ``history``.
    """
    history: dict[str, list] = {name: [] for name in
                                ("iteration", "kl_loss", "delta_label", "n_empty_clusters")}
    state = SelfTrainState(encoder, centers, _adam([*encoder.parameters(), centers], lr), X,
                           neighbors, max_iter, history)
    encoder.train()
    notify(callbacks, "on_self_train_begin", state)
    batches = _minibatches(X.shape[0], batch_size, generator)
    while True:
        if state.it % update_interval == 0 or state.it == max_iter:
            _refresh(state, alpha, device, autocast_dtype)
            notify(callbacks, "on_refresh", state)
            if state.init_labels is None:
                state.init_labels = state.labels
            elif history["delta_label"][-1] < tol:
                break
            if state.it == max_iter:
                break
        loss = _batch_loss(state, next(batches), alpha=alpha, device=device,
                           autocast_dtype=autocast_dtype,
                           consistency_weight=consistency_weight, generator=generator)
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        state.it += 1
        notify(callbacks, "on_step_end", state)
    state.best_iter = state.it
    notify(callbacks, "on_self_train_end", state)
    return state


def distil(
    encoder: nn.Module,
    centers: nn.Parameter,
    X: torch.Tensor,
    labels: torch.Tensor,
    *,
    alpha: float,
    n_steps: int,
    batch_size: int,
    lr: float,
    device: torch.device,
    generator: torch.Generator,
    autocast_dtype: torch.dtype | None = None,
) -> None:
    """Fit encoder and centroids μ to a given partition ``labels`` of the rows of ``X``.

    ``n_steps`` Adam steps on shuffled batches of the cross-entropy of Q against the
    partition (KL(P ‖ Q) with P one-hot), so that argmax Q reproduces a partition found
    outside the latent space: the fallback of STC's floor (:meth:`STCClustering.fit`).
    """
    optimizer = _adam([*encoder.parameters(), centers], lr)
    labels = labels.to(device)
    batches = _minibatches(X.shape[0], batch_size, generator)
    encoder.train()
    for _ in range(n_steps):
        idx = next(batches)
        with autocast(device, autocast_dtype):
            z = encoder(X[idx].to(device, non_blocking=True))
        loss = F.nll_loss(log_soft_assignment(z.float(), centers, alpha), labels[idx.to(device)])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    encoder.eval()
