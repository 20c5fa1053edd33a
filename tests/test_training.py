"""The training steps of skstc._training, below the estimator."""

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from skstc._nn import AutoEncoder
from skstc._training import encode, pretrain_autoencoder


def test_neighbor_term_keeps_clusters_apart_in_the_codes():
    # 10 overlapping blobs in 30 dims squeezed into 2: plain reconstruction merges some,
    # the t-SNE term keeps each blob's neighbors together
    ari = {0.0: [], 1.0: []}
    for seed in range(4):
        X, y = make_blobs(600, n_features=30, centers=10, cluster_std=3.0, random_state=seed)
        Xt = torch.from_numpy(((X - X.mean(0)) / X.std()).astype(np.float32))
        for weight in ari:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                ae = AutoEncoder(30, (64,), 2)
            losses = pretrain_autoencoder(
                ae, Xt, epochs=30, batch_size=128, lr=1e-3, device=torch.device("cpu"),
                generator=torch.Generator().manual_seed(seed), neighbor_weight=weight,
            )
            assert len(losses["neighbor"]) == (30 if weight else 0)
            Z = encode(ae.encoder, Xt, torch.device("cpu")).numpy()
            labels = KMeans(10, n_init=3, random_state=0).fit_predict(Z)
            ari[weight].append(adjusted_rand_score(y, labels))
    assert min(ari[1.0]) > 0.97
    assert np.mean(ari[1.0]) > np.mean(ari[0.0]) + 0.03
