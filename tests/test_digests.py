"""Fits that must not change: digests of labels, centroids and history on recorded settings.

The digests in ``data/fit_digests.json`` were recorded before the parameters were grouped
(#40) with the equivalent flat parameters; every configuration below is how the current
surface says the same thing, so the refactor changed no result. Floating-point results
differ between CPU kernels, so the digests hold for the torch build and CPU capability
recorded beside them; elsewhere the test skips and says how to record them anew
(``python tests/test_digests.py --record``, after checking that the change is meant). The
fits run in one fresh interpreter, in the order they were recorded in, so that nothing an
earlier test left in the process (allocations, thread pools) can move a bit.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from skstc import STCClustering, inits
from skstc.callbacks import CosineLR, KeepBest

RECORD = Path(__file__).parent / "data" / "fit_digests.json"
#: Environment variables that set thread counts, left out of the digests' subprocess.
THREAD_VARIABLES = {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}
SMALL = dict(network={"hidden_dims": (64, 64), "decoder_dims": (64,)}, n_components=5,
             pretrain={"epochs": 10, "batch_size": 64}, max_iter=200,
             self_train={"update_interval": 20, "batch_size": 64})


def _data(n=500, k=5, seed=0):
    X, _ = make_blobs(n_samples=n, centers=k, n_features=16, cluster_std=2.5, random_state=seed)
    return X.astype(np.float32)


def _small(**overrides):
    return {**SMALL, "n_clusters": 5, "random_state": 0, **overrides}


CONFIGS = {
    "defaults": lambda: (_data(), dict(n_clusters=5, random_state=0)),
    "paper": lambda: (_data(), dict(
        n_clusters=5, init="kmeans", n_neighbors=0, random_state=1, n_components=5,
        network={"hidden_dims": (64, 64), "decoder_dims": None},
        pretrain={"epochs": 10, "batch_size": 64, "tsne_weight": 0.0}, max_iter=200,
        self_train={"update_interval": 20, "batch_size": 64})),
    "auto-50": lambda: (_data(1000, 50, 1), _small(n_clusters=50)),
    "kmeans-graph": lambda: (_data(), _small(init=inits.graph_averaged_codes)),
    "kmeans-input": lambda: (_data(), _small(init=inits.scaled_input)),
    "kmeans-diffusion": lambda: (_data(), _small(init=inits.diffused_input)),
    "kmeans-diffused-codes": lambda: (_data(), _small(init=inits.diffused_codes)),
    "kmeans++": lambda: (_data(), _small(init=inits.kmeans_plusplus(5))),
    "kmeans-umap": lambda: (_data(), _small(init=inits.umap_input)),
    "guard": lambda: (_data(), _small(callbacks=[KeepBest()], random_state=2)),
    "cosine": lambda: (_data(), _small(callbacks=[CosineLR()])),
    "subsample": lambda: (_data(), _small(max_samples=300)),
    "array-init": lambda: (_data(), _small(
        init=np.random.RandomState(7).normal(size=(5, 5)).astype(np.float32))),
    "no-self-training": lambda: (_data(), _small(max_iter=0, random_state=3)),
    "settings": lambda: (_data(), dict(
        n_clusters=5, random_state=0, n_components=6, n_neighbors=6, max_iter=150,
        network={"scale": "standard", "alpha": 2.0, "hidden_dims": (48, 24),
                 "decoder_dims": ()},
        pretrain={"epochs": 4, "lr": 2e-3, "batch_size": 64, "perplexity": 5.0},
        self_train={"lr": 1e-3, "batch_size": 64, "update_interval": 25, "tol": 0.01,
                    "consistency_weight": 0.5})),
    "minmax": lambda: (_data(), _small(network={**SMALL["network"], "scale": "minmax"})),
    "unscaled": lambda: (_data(), _small(network={**SMALL["network"], "scale": None},
                                         pretrain={**SMALL["pretrain"], "tsne_weight": 1.0})),
}


def digest(est: STCClustering) -> str:
    """sha256 of the labels, the start's labels, the centroids, the steps and the history
    (the phase times left out)."""
    history = {k: v for k, v in est.history_.items() if k != "time"}
    parts = [est.labels_.astype(np.int64).tobytes(), est.init_labels_.astype(np.int64).tobytes(),
             np.ascontiguousarray(est.cluster_centers_, dtype=np.float32).tobytes(),
             str(int(est.n_iter_)).encode(),
             json.dumps({k: [repr(float(x)) if isinstance(x, float) else x for x in v]
                         for k, v in sorted(history.items())}).encode()]
    return hashlib.sha256(b"|".join(parts)).hexdigest()


def _fit(name: str) -> STCClustering:
    X, params = CONFIGS[name]()
    return STCClustering(device="cpu", **params).fit(X)


def _platform() -> dict:
    return {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability()}


@pytest.fixture(scope="module")
def digests_here() -> dict:
    record = json.loads(RECORD.read_text())
    recorded_on = {k: record[k] for k in ("torch", "cpu_capability")}
    if recorded_on != _platform():
        pytest.skip(f"digests recorded on {recorded_on}, this is {_platform()}: "
                    "run `python tests/test_digests.py --record` to record them here")
    if importlib.util.find_spec("umap") is None:
        pytest.skip("the kmeans-umap configuration needs umap-learn")
    # the threads of the recording (torch's default): no thread count set by whatever
    # ran before in this process (a Dask LocalCluster sets OMP_NUM_THREADS=1, say)
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    out = subprocess.run([sys.executable, __file__], capture_output=True, text=True,
                         check=True, timeout=600, env=env)
    return {"recorded": record["digests"], "now": json.loads(out.stdout)}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fit_is_bit_identical_to_the_recorded_digest(name, digests_here):
    assert digests_here["now"][name] == digests_here["recorded"][name]


def _digests() -> dict:
    import warnings

    warnings.simplefilter("ignore")
    return {name: digest(_fit(name)) for name in sorted(CONFIGS)}


if __name__ == "__main__":  # print the digests of this machine, or --record them
    if sys.argv[1:] == ["--record"]:
        RECORD.write_text(json.dumps({**_platform(), "digests": _digests()}, indent=1) + "\n")
    else:
        print(json.dumps(_digests()))
