"""Memory behaviour at scale: a memmap is copied at most once, nothing grows as n²."""

import tracemalloc

import numpy as np
import pytest

from skstc import STCClustering
from skstc._scaling import fit_scaling as _fit_scaling


def _memmap(tmp_path, n, d, seed=0):
    rng = np.random.default_rng(seed)
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    X[:] = rng.normal(size=(n, d)).astype(np.float32) + 3 * rng.integers(4, size=(n, 1))
    X.flush()
    del X
    return np.load(path, mmap_mode="r")


def _peak_numpy_bytes(fn):
    """Peak bytes allocated through Python/numpy while ``fn`` runs (torch's own are not seen)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("scale", ["global", "standard", "minmax"])
def test_scaling_statistics_do_not_copy_the_input(tmp_path, scale):
    X = _memmap(tmp_path, 120_000, 100)
    peak = _peak_numpy_bytes(lambda: _fit_scaling(X, scale))
    assert peak < 0.25 * X.nbytes, (peak, X.nbytes)
    offset, divisor = _fit_scaling(X, scale)
    Xa = np.asarray(X, dtype=np.float64)
    expected = {
        "global": (Xa.mean(0), np.full(100, np.sqrt(Xa.var(0).mean()))),
        "standard": (Xa.mean(0), Xa.std(0)),
        "minmax": (Xa.min(0), Xa.max(0) - Xa.min(0)),
    }[scale]
    np.testing.assert_allclose(offset, expected[0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(divisor, expected[1], rtol=1e-9)


def test_fit_and_predict_on_a_memmap_copy_it_at_most_once(tmp_path):
    X = _memmap(tmp_path, 120_000, 100)  # 48 MB
    assert not X.flags.writeable
    stc = STCClustering(
        n_clusters=4, hidden_dims=(16,), n_components=4, pretrain_epochs=1,
        max_iter=10, update_interval=5, batch_size=1024, n_init=1, n_neighbors=0,
        device="cpu", random_state=0,
    )
    stc.fit(X[:500]).predict(X[:10])  # first fit imports modules: keep them out of the count
    # one float32 scaled copy (1.0x), one float64 block of 2**20 values, per-sample vectors
    assert _peak_numpy_bytes(lambda: stc.fit(X)) < 1.25 * X.nbytes
    assert _peak_numpy_bytes(lambda: stc.predict(X)) < 1.25 * X.nbytes
    assert stc.labels_.shape == (120_000,)


def test_soft_assignments_of_the_whole_data_are_computed_in_chunks(monkeypatch):
    """Q of n rows never builds the (n, k, d) difference tensor in one piece."""
    import torch

    from skstc import _training

    seen = []
    original = _training.log_soft_assignment

    def spy(z, centers, alpha):
        seen.append(z.shape[0])
        return original(z, centers, alpha)

    monkeypatch.setattr(_training, "log_soft_assignment", spy)
    X = np.random.default_rng(0).normal(size=(10_000, 8)).astype(np.float32)
    stc = STCClustering(
        n_clusters=3, hidden_dims=(8,), n_components=2, pretrain_epochs=1, max_iter=4,
        update_interval=2, batch_size=512, n_init=1, device="cpu", random_state=0,
    ).fit(X)
    seen.clear()
    proba = stc.predict_proba(X)
    assert max(seen) <= _training.INFERENCE_BATCH < len(X)
    assert sum(seen) == len(X)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    Z = torch.from_numpy(stc.transform(X))
    whole = original(Z, torch.from_numpy(stc.cluster_centers_), stc.alpha)
    np.testing.assert_array_equal(np.log(proba).argmax(1), whole.argmax(1).numpy())
