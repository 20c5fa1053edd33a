import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_blobs

DATA_HOME = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _data_home():
    """Point the dataset loaders at ../shared/data unless SKSTC_DATA says otherwise."""
    if "SKSTC_DATA" not in os.environ and DATA_HOME.is_dir():
        os.environ["SKSTC_DATA"] = str(DATA_HOME)
    yield


@pytest.fixture(scope="session")
def blobs():
    X, y = make_blobs(n_samples=300, centers=4, n_features=12, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y


def small_params(**overrides):
    params = dict(
        hidden_dims=(32, 32),
        n_components=4,
        pretrain_epochs=15,
        max_iter=120,
        update_interval=20,
        batch_size=64,
        n_init=3,
        device="cpu",
        random_state=0,
    )
    params.update(overrides)
    return params
