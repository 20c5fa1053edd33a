"""Fixtures shared by the test files; the generators behind them live in _testing.py."""

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


@pytest.fixture
def needs_data():
    """Skip a test that reads the benchmark data (the tweet set) where there is none."""
    from skstc.datasets import get_data_home

    if not (get_data_home() / "tweet").is_dir():
        pytest.skip("benchmark data not available")


@pytest.fixture(scope="session")
def blobs():
    """300 float32 points in 12 dimensions, four well separated blobs, and their labels."""
    X, y = make_blobs(n_samples=300, centers=4, n_features=12, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y
