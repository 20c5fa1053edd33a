"""The maths of skstc._objective: Student-t Q, target P, the t-SNE and consistency
terms."""

import numpy as np
import pytest
import torch
from scipy.stats import entropy

from skstc._objective import (
    _off_diagonal,
    conditional_affinities,
    consistency_loss,
    kl_divergence,
    log_soft_assignment,
    soft_assignment,
    target_distribution,
    tsne_affinities,
    tsne_kl,
)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_student_t_matches_numpy_reference(alpha):
    rng = np.random.RandomState(0)
    z, mu = rng.randn(50, 5), rng.randn(7, 5)
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    ref = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    ref /= ref.sum(axis=1, keepdims=True)
    q = soft_assignment(torch.from_numpy(z), torch.from_numpy(mu), alpha).numpy()
    np.testing.assert_allclose(q, ref, rtol=1e-12, atol=1e-15)


def test_q_rows_sum_to_one_and_p_is_sharper():
    rng = np.random.RandomState(1)
    z, mu = torch.from_numpy(rng.randn(200, 4)), torch.from_numpy(rng.randn(5, 4))
    q = soft_assignment(z, mu, 1.0)
    np.testing.assert_allclose(q.sum(1).numpy(), 1.0, rtol=1e-12)
    p = target_distribution(q)
    np.testing.assert_allclose(p.sum(1).numpy(), 1.0, rtol=1e-12)
    assert entropy(p.numpy(), axis=1).mean() < entropy(q.numpy(), axis=1).mean()


def test_target_distribution_matches_formula():
    rng = np.random.RandomState(2)
    q = rng.dirichlet(np.ones(4), size=30)
    ref = q**2 / q.sum(0)
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(target_distribution(torch.from_numpy(q)).numpy(), ref, rtol=1e-12)


def test_soft_assignment_is_finite_far_from_centroids():
    z = torch.tensor([[1e6, -1e6], [0.0, 0.0]], dtype=torch.float32)
    mu = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float32)
    log_q = log_soft_assignment(z, mu, 1.0)
    assert torch.isfinite(log_q).all()
    p = target_distribution(log_q.exp())
    assert torch.isfinite(kl_divergence(p, log_q))


@pytest.mark.parametrize("perplexity", [2.0, 10.0, 30.0])
def test_conditional_affinities_have_the_requested_perplexity(perplexity):
    x = torch.from_numpy(np.random.RandomState(3).randn(120, 7) * 50.0)  # any scale
    p = conditional_affinities(torch.cdist(x, x).pow(2), perplexity).numpy()
    assert np.all(np.diag(p) == 0.0)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-10)
    # 16 halvings of log β (the default) give the perplexity to 0.2%, 24 to 0.01%
    np.testing.assert_allclose(np.exp(entropy(p, axis=1)), perplexity, rtol=2e-3)
    finer = conditional_affinities(torch.cdist(x, x).pow(2), perplexity, n_steps=24).numpy()
    np.testing.assert_allclose(np.exp(entropy(finer, axis=1)), perplexity, rtol=1e-4)


def test_tsne_affinities_are_a_symmetric_distribution_over_pairs():
    x = torch.from_numpy(np.random.RandomState(4).randn(40, 5))
    p = tsne_affinities(x, 30.0).numpy()  # perplexity clipped to (40 - 1) / 3
    np.testing.assert_allclose(p, p.T)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-10)
    assert np.all(np.diag(p) == 0.0) and np.all(p >= 0.0)
    cond = 2 * 40 * p  # p_j|i + p_i|j
    nearest = np.argsort(((x[:, None] - x[None]) ** 2).sum(-1).numpy(), axis=1)[:, 1]
    assert np.all(cond[np.arange(40), nearest] > np.median(cond, axis=1))


@pytest.mark.parametrize("alpha", [1.0, 4.0])
def test_tsne_kl_matches_numpy_reference(alpha):
    rng = np.random.RandomState(5)
    p = rng.rand(9, 9)
    p = p + p.T
    np.fill_diagonal(p, 0.0)
    p /= p.sum()
    z = rng.randn(9, 3)
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)
    q = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    np.fill_diagonal(q, 0.0)
    q /= q.sum()
    off = ~np.eye(9, dtype=bool)
    ref = np.sum(p[off] * np.log(p[off] / q[off]))
    got = tsne_kl(torch.from_numpy(p), torch.from_numpy(z), alpha)
    np.testing.assert_allclose(float(got), ref, rtol=1e-10)


@pytest.mark.parametrize("m", [2, 3, 8])
def test_off_diagonal_is_the_boolean_mask_forward_and_backward(m):
    a = torch.randn(m, m, generator=torch.Generator().manual_seed(m), requires_grad=True)
    mask = ~torch.eye(m, dtype=torch.bool)
    assert torch.equal(_off_diagonal(a), a[mask])
    weights = torch.arange(m * (m - 1), dtype=a.dtype)
    by_slice, = torch.autograd.grad((_off_diagonal(a) * weights).sum(), a)
    by_mask, = torch.autograd.grad((a[mask] * weights).sum(), a)
    assert torch.equal(by_slice, by_mask)
    assert torch.all(by_slice.diagonal() == 0)


def test_consistency_loss_matches_reference():
    q = torch.softmax(torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), 1)
    r = torch.softmax(torch.randn(6, 4, generator=torch.Generator().manual_seed(1)), 1)
    want = -torch.log((q * r).sum(1)).mean()
    torch.testing.assert_close(consistency_loss(q.log(), r.log()), want)


def test_conditional_affinities_of_duplicate_and_far_rows_are_finite():
    # exact duplicates (distance 0), one far outlier and float32: no overflow, rows sum to 1
    x = torch.cat([torch.zeros(5, 3), torch.ones(5, 3), torch.full((1, 3), 1e4)])
    p = conditional_affinities(torch.cdist(x, x).pow(2), 3.0)
    assert torch.isfinite(p).all() and torch.all(torch.diag(p) == 0.0)
    torch.testing.assert_close(p.sum(1), torch.ones(11))
    # a row of equal distances gets the uniform distribution
    p = conditional_affinities(torch.ones(6, 6), 2.0)
    torch.testing.assert_close(p, (1 - torch.eye(6)) / 5)
