"""Device and precision resolution (skstc._device) and mixed-precision training."""

import numpy as np
import pytest
import torch
from _testing import small_params
from sklearn.metrics import adjusted_rand_score

from skstc import STCClustering, _device


@pytest.mark.parametrize("native, expected", [(True, "bfloat16"), (False, "float32")])
def test_precision_auto_follows_native_bfloat16_support(monkeypatch, native, expected):
    monkeypatch.setattr(_device, "native_bfloat16", lambda device: native)
    cpu = torch.device("cpu")
    assert _device.resolve_precision("auto", cpu) == expected
    assert _device.resolve_precision("float32", cpu) == "float32"
    assert _device.resolve_precision("bfloat16", cpu) == "bfloat16"


def test_precision_bfloat16_refused_on_devices_without_autocast():
    with pytest.raises(ValueError, match="precision='bfloat16' is supported on CPU and CUDA"):
        _device.resolve_precision("bfloat16", torch.device("meta"))
    assert _device.resolve_precision("auto", torch.device("meta")) == "float32"


def test_precision_bfloat16_trains_in_mixed_precision_and_predicts_in_float32(blobs):
    X, y = blobs
    fp32 = STCClustering(4, **small_params(precision="float32")).fit(X)
    bf16 = STCClustering(4, **small_params(precision="bfloat16")).fit(X)
    assert (fp32.precision_, bf16.precision_) == ("float32", "bfloat16")
    # autocast really changed the arithmetic of training ...
    assert bf16.history_["pretrain_loss"] != fp32.history_["pretrain_loss"]
    # ... and still learns the blobs; weights and inference stay float32
    assert adjusted_rand_score(y, bf16.labels_) > 0.95
    assert all(p.dtype == torch.float32 for p in bf16.autoencoder_.parameters())
    assert bf16.transform(X).dtype == np.float32
    np.testing.assert_array_equal(bf16.predict(X), bf16.labels_)
    again = STCClustering(4, **small_params(precision="bfloat16")).fit(X)
    np.testing.assert_array_equal(again.labels_, bf16.labels_)  # deterministic too


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fit_on_cuda(blobs, precision):
    import pickle

    X, y = blobs
    stc = STCClustering(4, **small_params(device="cuda", precision=precision)).fit(X)
    assert stc.device_.type == "cuda" and stc.precision_ == precision
    assert adjusted_rand_score(y, stc.labels_) > 0.95
    np.testing.assert_array_equal(stc.predict(X), stc.labels_)
    loaded = pickle.loads(pickle.dumps(stc))  # CPU-safe pickling
    assert all(p.device.type == "cpu" for p in loaded.autoencoder_.parameters())
    np.testing.assert_array_equal(loaded.predict(X), stc.labels_)


@pytest.mark.gpu
@needs_cuda
def test_knn_graph_on_cuda_matches_cpu():
    from skstc.graph import knn_graph

    X = torch.from_numpy(np.random.RandomState(0).randn(3000, 16).astype(np.float32))
    on_gpu = knn_graph(X, 10, torch.device("cuda"))
    on_cpu = knn_graph(X, 10, torch.device("cpu"))
    assert on_gpu.device.type == "cpu"
    agree = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(on_gpu.tolist(), on_cpu.tolist())])
    assert agree > 0.99  # ties and float rounding may swap a rare pair
