"""Hostile inputs: odd dtypes, layouts, magnitudes and degenerate data."""

import numpy as np
import pytest
from _testing import small_params, write_memmap
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from skstc import STCClustering


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=200, centers=3, n_features=8, random_state=1)
    return X, y


def _fit(X, **kw):
    return STCClustering(3, **small_params(**kw)).fit(X)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.int64, np.bool_, object])
def test_other_dtypes_are_converted(data, dtype):
    X, _ = data
    Xd = (X > 0) if dtype is np.bool_ else X.astype(dtype)
    stc = _fit(Xd, max_iter=10)
    assert stc.transform(Xd).dtype == np.float64
    assert stc.labels_.shape == (200,)


def test_string_object_array_is_rejected():
    X = np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object)
    with pytest.raises(ValueError, match="could not convert string to float"):
        STCClustering(2, **small_params()).fit(X)


def test_complex_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="[Cc]omplex"):
        _fit(X.astype(np.complex128))


@pytest.mark.parametrize("factor", [1e6, 1e-8])
def test_extreme_magnitudes(data, factor):
    X, y = data
    stc = _fit(X * factor)
    assert np.isfinite(stc.transform(X * factor)).all()
    assert adjusted_rand_score(y, stc.labels_) > 0.9


def test_huge_values_without_scaling_stay_finite(data):
    X, _ = data
    stc = _fit(X * 1e6, scale=None, max_iter=20)
    assert np.isfinite(stc.predict_proba(X * 1e6)).all()


def test_all_constant_columns():
    X = np.ones((50, 4))
    with pytest.warns(ConvergenceWarning, match="clusters hold samples"):
        stc = STCClustering(2, **small_params(max_iter=10)).fit(X)
    assert np.isfinite(stc.transform(X)).all()
    assert set(np.unique(stc.labels_)) <= set(np.unique(stc.predict(X)))


def test_empty_clusters_warning_names_the_phase():
    X = np.ones((50, 4))
    with pytest.warns(ConvergenceWarning, match="after self-training .* smaller lr"):
        STCClustering(2, **small_params(max_iter=10)).fit(X)
    with pytest.warns(ConvergenceWarning, match=r"after initialisation \(no self-training "
                      r"step ran\) \(the others are empty\)\. Consider fewer clusters\.$"):
        STCClustering(2, **small_params(max_iter=0)).fit(X)


def test_duplicate_rows_only():
    X = np.tile(np.arange(5.0), (40, 1))
    with pytest.warns(ConvergenceWarning):
        stc = STCClustering(3, **small_params(max_iter=10)).fit(X)
    np.testing.assert_array_equal(stc.labels_, stc.predict(X))


def test_one_cluster(data):
    X, _ = data
    stc = STCClustering(1, **small_params(max_iter=10)).fit(X)
    assert (stc.labels_ == 0).all()
    np.testing.assert_allclose(stc.predict_proba(X), 1.0)
    assert stc.score(X) == -1.0


def test_read_only_memmap(data, tmp_path):
    X, y = data
    Xm = write_memmap(tmp_path / "X.npy", X.astype(np.float32))
    assert not Xm.flags.writeable
    stc = _fit(Xm)
    assert adjusted_rand_score(y, stc.labels_) > 0.9
    np.testing.assert_array_equal(stc.predict(Xm), stc.labels_)


def test_non_contiguous_and_fortran_arrays(data):
    X, _ = data
    wide = np.repeat(X, 2, axis=1)[:, ::2]  # strided view
    assert not wide.flags.c_contiguous
    a = _fit(wide)
    b = _fit(np.asfortranarray(X))
    c = _fit(np.ascontiguousarray(X))
    np.testing.assert_array_equal(a.labels_, c.labels_)
    np.testing.assert_array_equal(b.labels_, c.labels_)


def test_dataframes_with_and_without_column_names(data):
    pd = pytest.importorskip("pandas")
    X, _ = data
    named = pd.DataFrame(X, columns=[f"c{i}" for i in range(8)])
    stc = _fit(named, max_iter=10)
    assert list(stc.feature_names_in_) == list(named.columns)
    with pytest.warns(UserWarning, match="feature names"):
        stc.predict(X)
    unnamed = pd.DataFrame(X)
    stc2 = _fit(unnamed, max_iter=10)
    assert not hasattr(stc2, "feature_names_in_")
    np.testing.assert_array_equal(stc2.predict(unnamed), stc2.labels_)


def test_list_input(data):
    X, _ = data
    stc = _fit(X.tolist(), max_iter=10)
    assert stc.n_features_in_ == 8
