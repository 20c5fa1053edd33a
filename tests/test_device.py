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

