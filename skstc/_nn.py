"""Torch modules of STC: the MLP autoencoder and the Student-t soft assignment."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def _mlp(dims: Sequence[int], negative_slope: float) -> nn.Sequential:
    """Dense layers ``dims[0] -> ... -> dims[-1]``, LeakyReLU between, linear output."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(dims) - 2:
            layers.append(nn.LeakyReLU(negative_slope))
    return nn.Sequential(*layers)


class AutoEncoder(nn.Module):
    """Symmetric MLP autoencoder with a linear bottleneck and a linear output.

    Parameters
    ----------
    n_features : int
        Input dimension.
    hidden_dims : sequence of int
        Widths of the encoder's hidden layers; the decoder mirrors them.
    n_components : int
        Dimension of the latent space (the bottleneck).
    negative_slope : float, default=0.01
        Slope of the LeakyReLU activations.
    """

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int],
        n_components: int,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        dims = [int(n_features), *map(int, hidden_dims), int(n_components)]
        self.encoder = _mlp(dims, negative_slope)
        self.decoder = _mlp(dims[::-1], negative_slope)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)


def squared_distances(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances ``d²_ij = ||z_i - μ_j||²``, shape (n, k)."""
    return (z.unsqueeze(1) - centers.unsqueeze(0)).pow(2).sum(dim=-1)


def _student_t_logits(d2: torch.Tensor, alpha: float) -> torch.Tensor:
    """Log of the unnormalised Student-t kernel, ``-(α + 1) / 2 · log(1 + d² / α)``."""
    return -(alpha + 1.0) / 2.0 * torch.log1p(d2 / alpha)


def kl_sum(p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """``Σ p log(p / q)`` over all entries; terms with p = 0 count as 0."""
    return (torch.xlogy(p, p) - p * log_q).sum()


def log_soft_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float) -> torch.Tensor:
    """Log of the Student-t soft assignment Q of the paper (Eq. 1).

    ``q_ij ∝ (1 + d²_ij / α)^(-(α + 1) / 2)``, normalised over the clusters j.
    Computed in log space (``log1p`` then ``log_softmax``) so that far-away points
    and large α neither underflow nor divide by zero.
    """
    return torch.log_softmax(_student_t_logits(squared_distances(z, centers), alpha), dim=1)


def soft_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float) -> torch.Tensor:
    """Student-t soft assignment Q (rows sum to one); see :func:`log_soft_assignment`."""
    return log_soft_assignment(z, centers, alpha).exp()


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """Sharpened target P of the paper (Eq. 3): ``p_ij ∝ q_ij² / f_j``, ``f_j = Σ_i q_ij``.

    ``q`` must hold the soft assignments of the *whole* data set, since the cluster
    frequencies ``f_j`` are sums over all samples.
    """
    weight = q.pow(2) / q.sum(dim=0).clamp_min(torch.finfo(q.dtype).tiny)
    return weight / weight.sum(dim=1, keepdim=True)


@torch.no_grad()
def conditional_affinities(d2: torch.Tensor, perplexity: float, n_steps: int = 24) -> torch.Tensor:
    """Row-stochastic ``p_j|i ∝ exp(-β_i d²_ij)`` (``p_i|i = 0``) with perplexity ``perplexity``.

    Each β_i is found by bisection on log β_i in [-30, 30] (``n_steps`` halvings), so that
    the entropy of row i is ``log(perplexity)``; ``d2`` is divided by each row's mean first,
    which makes the search independent of the scale of the input. The entropy comes from
    the partition function, ``H_i = log Z_i + β_i Σ_j p_j|i d²_ij``, with each row's
    smallest off-diagonal distance subtracted first so that no exponential overflows.
    """
    m = d2.shape[0]
    d2 = d2 / (d2.sum(1, keepdim=True) / max(m - 1, 1)).clamp_min(torch.finfo(d2.dtype).tiny)
    d2.fill_diagonal_(float("inf"))  # d2 is a fresh tensor after the division
    d2 = d2 - d2.amin(1, keepdim=True)
    d2.fill_diagonal_(0.0)
    off_diagonal = 1.0 - torch.eye(m, dtype=d2.dtype, device=d2.device)

    def unnormalized(log_beta: torch.Tensor) -> torch.Tensor:
        return torch.exp(-log_beta.exp() * d2) * off_diagonal

    target = math.log(perplexity)
    lo = torch.full((m, 1), -30.0, dtype=d2.dtype, device=d2.device)  # log β
    hi = torch.full_like(lo, 30.0)
    for _ in range(n_steps):
        mid = (lo + hi) / 2
        w = unnormalized(mid)
        z = w.sum(1, keepdim=True)
        entropy = z.log() + mid.exp() * (w * d2).sum(1, keepdim=True) / z
        too_flat = entropy > target
        lo = torch.where(too_flat, mid, lo)
        hi = torch.where(too_flat, hi, mid)
    w = unnormalized((lo + hi) / 2)
    return w / w.sum(1, keepdim=True)


@torch.no_grad()
def input_affinities(x: torch.Tensor, perplexity: float) -> torch.Tensor:
    """Symmetric t-SNE affinities of the rows of ``x`` (van der Maaten & Hinton, 2008).

    ``p_ij = (p_j|i + p_i|j) / 2m`` over the m rows, summing to one, from Gaussian
    conditionals of the given perplexity (clipped to ``(m - 1) / 3``), see
    :func:`conditional_affinities`.
    """
    m = x.shape[0]
    p = conditional_affinities(torch.cdist(x, x).pow(2), min(float(perplexity), (m - 1) / 3))
    return (p + p.T) / (2 * m)


def neighbor_kl(p: torch.Tensor, z: torch.Tensor, alpha: float) -> torch.Tensor:
    """Parametric t-SNE loss KL(p ‖ q) of the codes ``z`` (van der Maaten, 2009).

    ``q_ij ∝ (1 + ||z_i - z_j||² / α)^(-(α + 1) / 2)`` over the pairs i ≠ j: the same
    Student-t kernel as Q, so that neighbors in the input end up close in the metric
    self-training uses. ``p`` comes from :func:`input_affinities` on the same rows.
    """
    m = z.shape[0]
    off_diagonal = ~torch.eye(m, dtype=torch.bool, device=z.device)
    sq_norms = z.pow(2).sum(1)
    # ||z_i||² + ||z_j||² - 2 z_i·z_j: one matrix product, cheaper to differentiate than
    # the (m, m, d) differences
    d2 = (sq_norms.unsqueeze(1) + sq_norms.unsqueeze(0) - 2 * z @ z.T).clamp_min(0)
    log_q = torch.log_softmax(_student_t_logits(d2[off_diagonal], alpha), 0)
    return kl_sum(p[off_diagonal], log_q)


def neighbor_disagreement(log_q_i: torch.Tensor, log_q_j: torch.Tensor) -> torch.Tensor:
    """SCAN's consistency loss ``-mean_i log Σ_k q_ik q_jk`` for pairs of graph neighbors.

    ``Σ_k q_ik q_jk`` is the probability that neighbors i and j fall in the same cluster
    when each is drawn from its soft assignment (Van Gansbeke et al., 2020); computed
    from log Q with ``logsumexp``.
    """
    return -torch.logsumexp(log_q_i + log_q_j, dim=1).mean()
