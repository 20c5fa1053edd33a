"""Memory behaviour at scale: a memmap is copied at most once, nothing grows as n²."""

import numpy as np
from _testing import grouped_normal, peak_numpy_bytes, write_memmap

from skstc import STCClustering


def test_fit_and_predict_on_a_memmap_copy_it_at_most_once(tmp_path):
    X = write_memmap(tmp_path / "X.npy", grouped_normal(120_000, 100))  # 48 MB
    assert not X.flags.writeable
    stc = STCClustering(
        n_clusters=4, network={"hidden_dims": (16,)}, n_components=4,
        pretrain={"epochs": 1, "batch_size": 1024}, max_iter=10,
        self_train={"update_interval": 5, "batch_size": 1024}, n_neighbors=0,
        max_samples=None, device="cpu", random_state=0,
    )
    stc.fit(X[:500]).predict(X[:10])  # first fit imports modules: keep them out of the count
    # one float32 scaled copy (1.0x), one float64 block of 2**20 values, per-sample vectors
    assert peak_numpy_bytes(lambda: stc.fit(X)) < 1.25 * X.nbytes
    # inference scales blocks of 2**22 values (16 MB) at a time, not the whole X
    assert peak_numpy_bytes(lambda: stc.predict(X)) < 0.5 * X.nbytes
    assert stc.labels_.shape == (120_000,)


def test_fit_on_a_subsample_copies_only_the_subsample(tmp_path):
    X = write_memmap(tmp_path / "X.npy", grouped_normal(120_000, 100))  # 48 MB
    stc = STCClustering(
        n_clusters=4, network={"hidden_dims": (16,)}, n_components=4,
        pretrain={"epochs": 1, "batch_size": 1024}, max_iter=10,
        self_train={"update_interval": 5, "batch_size": 1024}, n_neighbors=0,
        max_samples=20_000, device="cpu", random_state=0,
    )
    stc.fit(X[:500])
    # the 20,000 rows (a copy and a scaled copy, 16 MB) and one 16 MB block at the end
    assert peak_numpy_bytes(lambda: stc.fit(X)) < 0.75 * X.nbytes
    assert stc.labels_.shape == stc.init_labels_.shape == (120_000,)


def test_soft_assignments_of_the_whole_data_are_computed_in_chunks():
    """Q of n rows never builds the (n, k, d) difference tensor in one piece: no tensor
    that predict_proba makes (seen by a torch dispatch mode, nothing patched) is as large."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class Largest(TorchDispatchMode):
        numel = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            sizes = [t.numel() for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
            self.numel = max([self.numel, *sizes])
            return out

    X = np.random.default_rng(0).normal(size=(10_000, 8)).astype(np.float32)
    stc = STCClustering(
        n_clusters=3, network={"hidden_dims": (8,)}, n_components=4, pretrain={"epochs": 1,
        "batch_size": 512}, max_iter=4, self_train={"update_interval": 2, "batch_size": 512},
        device="cpu", random_state=0,
    ).fit(X)
    with Largest() as seen:
        proba = stc.predict_proba(X)
    assert 0 < seen.numel < len(X) * 3 * 4  # n x k x d
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    Z = torch.from_numpy(stc.transform(X))
    d2 = torch.cdist(Z.double(), torch.from_numpy(stc.cluster_centers_).double()) ** 2
    np.testing.assert_array_equal(proba.argmax(1), d2.argmin(1).numpy())
