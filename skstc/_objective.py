"""The objective of STC: soft assignments Q, target P, and the losses of both phases.

Self-training (the paper): Student-t soft assignments Q (Eq. 1), the sharpened target P
(Eq. 3) and KL(P ‖ Q). The pretraining's in-batch t-SNE term: input affinities of a
mini-batch and the KL of its codes under the kernel of Q. The pretraining's UMAP term:
the cross-entropy of the kNN graph's edges and random pairs under the same kernel. The
self-training's graph
consistency term (SCAN): neighbors of the kNN graph drawn into one cluster.
Plain functions over tensors; the loops that use them are in :mod:`skstc._training`.
"""

from __future__ import annotations

import math

import torch


def squared_distances(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances ``d²_ij = ||z_i - μ_j||²``, shape (n, k).

    As ``||z_i||² + ||μ_j||² - 2 z_i·μ_j``: one matrix product, far cheaper than the
    (n, k, d) differences forward and backward when there are many clusters; clipped at
    0 where rounding makes it negative.
    """
    return (z.pow(2).sum(1, keepdim=True) + centers.pow(2).sum(1) - 2 * z @ centers.T).clamp_min(0)


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
def conditional_affinities(d2: torch.Tensor, perplexity: float, n_steps: int = 16) -> torch.Tensor:
    """Row-stochastic ``p_j|i ∝ exp(-β_i d²_ij)`` (``p_i|i = 0``) with perplexity ``perplexity``.

    Each β_i is found by bisection on log β_i in [-30, 30] (``n_steps`` halvings: 16 give
    it to within 0.001), so that the entropy of row i is ``log(perplexity)``; ``d2`` is
    divided by each row's mean first, which makes the search independent of the scale of
    the input. The entropy comes from the partition function, ``H_i = log Z_i + β_i Σ_j
    p_j|i d²_ij``, with each row's smallest off-diagonal distance subtracted first so that
    no exponential overflows; the diagonal is infinite in the exponent and 0 in the sum.
    """
    m = d2.shape[0]
    d2 = d2 / (d2.sum(1, keepdim=True) / max(m - 1, 1)).clamp_min(torch.finfo(d2.dtype).tiny)
    d2.fill_diagonal_(float("inf"))  # d2 is a fresh tensor after the division
    d2 = d2 - d2.amin(1, keepdim=True)  # the diagonal stays infinite: exp(-β · inf) = 0
    d2_sum = d2.clone().fill_diagonal_(0.0)

    target = math.log(perplexity)
    lo = torch.full((m, 1), -30.0, dtype=d2.dtype, device=d2.device)  # log β
    hi = torch.full_like(lo, 30.0)
    for _ in range(n_steps):
        mid = (lo + hi) / 2
        beta = mid.exp()
        w = torch.exp(-beta * d2)
        z = w.sum(1, keepdim=True)
        entropy = z.log() + beta * (w * d2_sum).sum(1, keepdim=True) / z
        too_flat = entropy > target
        lo = torch.where(too_flat, mid, lo)
        hi = torch.where(too_flat, hi, mid)
    w = torch.exp(-((lo + hi) / 2).exp() * d2)
    return w / w.sum(1, keepdim=True)


def max_perplexity(n_rows: int) -> float:
    """The largest perplexity the affinities of ``n_rows`` rows take: ``(n_rows - 1) / 3``
    (a row keeps at most a third of the others as neighbors, as scikit-learn's TSNE)."""
    return (n_rows - 1) / 3


@torch.no_grad()
def tsne_affinities(x: torch.Tensor, perplexity: float) -> torch.Tensor:
    """Symmetric t-SNE affinities of the rows of ``x`` (van der Maaten & Hinton, 2008).

    ``p_ij = (p_j|i + p_i|j) / 2m`` over the m rows, summing to one, from Gaussian
    conditionals of the given perplexity (clipped to :func:`max_perplexity`), see
    :func:`conditional_affinities`.
    """
    m = x.shape[0]
    p = conditional_affinities(torch.cdist(x, x).pow(2), min(float(perplexity), max_perplexity(m)))
    return (p + p.T) / (2 * m)


def tsne_kl(p: torch.Tensor, z: torch.Tensor, alpha: float) -> torch.Tensor:
    """Parametric t-SNE loss KL(p ‖ q) of the codes ``z`` (van der Maaten, 2009).

    ``q_ij ∝ (1 + ||z_i - z_j||² / α)^(-(α + 1) / 2)`` over the pairs i ≠ j: the same
    Student-t kernel as Q, so that neighbors in the input end up close in the metric
    self-training uses. ``p`` comes from :func:`tsne_affinities` on the same rows.
    """
    sq_norms = z.pow(2).sum(1)
    # ||z_i||² + ||z_j||² - 2 z_i·z_j: one matrix product, cheaper to differentiate than
    # the (m, m, d) differences
    d2 = (sq_norms.unsqueeze(1) + sq_norms.unsqueeze(0) - 2 * z @ z.T).clamp_min(0)
    log_q = torch.log_softmax(_student_t_logits(_off_diagonal(d2), alpha), 0)
    return kl_sum(_off_diagonal(p), log_q)


def _off_diagonal(a: torch.Tensor) -> torch.Tensor:
    """The off-diagonal entries of the square matrix ``a`` in row-major order, as a
    boolean mask would give them, but by slicing (no index search, a cheap backward):
    past the first entry, the diagonal falls at the end of every run of m + 1 entries."""
    m = a.shape[0]
    return a.flatten()[1:].view(m - 1, m + 1)[:, :-1].flatten()


def consistency_loss(log_q_i: torch.Tensor, log_q_j: torch.Tensor) -> torch.Tensor:
    """SCAN's consistency loss ``-mean_i log Σ_k q_ik q_jk`` for pairs of graph neighbors.

    ``Σ_k q_ik q_jk`` is the probability that neighbors i and j fall in the same cluster
    when each is drawn from its soft assignment (Van Gansbeke et al., 2020); computed
    from log Q with ``logsumexp``.
    """
    return -torch.logsumexp(log_q_i + log_q_j, dim=1).mean()


def kl_divergence(p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(P ‖ Q) averaged over rows; terms with p = 0 count as 0."""
    return kl_sum(p, log_q) / p.shape[0]
