"""Input scaling (skstc._scaling): its statistics, options and guards."""

import numpy as np
import pytest
from _testing import grouped_normal, peak_numpy_bytes, small_params, write_memmap
from sklearn.metrics import adjusted_rand_score

from skstc import STCClustering
from skstc._scaling import fit_scaling


@pytest.mark.parametrize("scale", ["global", "standard", "minmax"])
def test_scaling_statistics_do_not_copy_the_input(tmp_path, scale):
    X = write_memmap(tmp_path / "X.npy", grouped_normal(120_000, 100))
    peak = peak_numpy_bytes(lambda: fit_scaling(X, scale))
    assert peak < 0.25 * X.nbytes, (peak, X.nbytes)
    offset, divisor = fit_scaling(X, scale)
    Xa = np.asarray(X, dtype=np.float64)
    expected = {
        "global": (Xa.mean(0), np.full(100, np.sqrt(Xa.var(0).mean()))),
        "standard": (Xa.mean(0), Xa.std(0)),
        "minmax": (Xa.min(0), Xa.max(0) - Xa.min(0)),
    }[scale]
    np.testing.assert_allclose(offset, expected[0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(divisor, expected[1], rtol=1e-9)


@pytest.mark.parametrize("scale", ["standard", "global", "minmax", None])
def test_scale_options(blobs, scale):
    X, y = blobs
    stc = STCClustering(4, **small_params(scale=scale, pretrain_epochs=40)).fit(X)
    assert adjusted_rand_score(y, stc.labels_) > 0.9


def test_constant_columns_are_guarded(blobs):
    X, y = blobs
    Xc = np.hstack([X, np.full((X.shape[0], 3), 7.0, dtype=np.float32)])
    stc = STCClustering(4, **small_params(scale="standard")).fit(Xc)
    assert np.isfinite(stc.transform(Xc)).all()
    assert adjusted_rand_score(y, stc.labels_) > 0.9
