"""The training steps of skstc._training, below the estimator."""

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from skstc import inits
from skstc._nn import AutoEncoder
from skstc._training import encode, pretrain_autoencoder, self_train
from skstc.callbacks import Callback, CosineLR
from skstc.graph import knn_graph
from skstc.inits import UMAP_SETTINGS, initial_centroids, mean_codes


def _blobs_in_two_dims(seed: int):
    """10 overlapping blobs in 30 dims (scaled), labels, and a pretraining into 2 dims."""
    X, y = make_blobs(600, n_features=30, centers=10, cluster_std=3.0, random_state=seed)
    Xt = torch.from_numpy(((X - X.mean(0)) / X.std()).astype(np.float32))

    def pretrain(epochs: int, **terms):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            ae = AutoEncoder(30, (64,), 2)
        losses = pretrain_autoencoder(
            ae, Xt, epochs=epochs, batch_size=128, lr=1e-3, device=torch.device("cpu"),
            generator=torch.Generator().manual_seed(seed), **terms,
        )
        return encode(ae.encoder, Xt, torch.device("cpu")), losses

    return Xt, y, pretrain


def test_neighbor_term_keeps_clusters_apart_in_the_codes():
    # plain reconstruction merges some blobs, the t-SNE term keeps each blob's neighbors
    # together
    ari = {0.0: [], 1.0: []}
    for seed in range(4):
        _, y, pretrain = _blobs_in_two_dims(seed)
        for weight in ari:
            Z, losses = pretrain(30, tsne_weight=weight)
            assert len(losses["tsne"]) == (30 if weight else 0)
            labels = KMeans(10, n_init=3, random_state=0).fit_predict(Z.numpy())
            ari[weight].append(adjusted_rand_score(y, labels))
    assert min(ari[1.0]) > 0.97
    assert np.mean(ari[1.0]) > np.mean(ari[0.0]) + 0.03


def test_kmeans_graph_init_clusters_codes_averaged_over_the_graph():
    """Codes too noisy for k-means alone, with a graph whose edges stay within a class."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 200)
    Z = (rng.normal(size=(400, 2)) * 2.0 + np.c_[2.0 * y - 1, np.zeros(400)]).astype(np.float32)
    neighbors = torch.from_numpy(
        np.stack([rng.choice(np.flatnonzero(y == y[i]), 10, replace=False) for i in range(400)])
    )
    plain = initial_centroids("kmeans", Z, None, None, 2, np.random.RandomState(0))
    graph = initial_centroids(inits.graph_averaged_codes, Z, None, neighbors, 2,
                              np.random.RandomState(0))

    # smoothed over its class, every code sits near its class mean: k-means on them
    # splits by class, and the centroids are the mean codes of the two classes
    class_means = np.stack([Z[y == 0].mean(0), Z[y == 1].mean(0)])
    order = np.argsort(graph[:, 0])
    np.testing.assert_allclose(graph[order], class_means, atol=1e-5)
    # k-means on the raw codes cannot see the classes: its centroids are elsewhere
    assert np.abs(np.sort(plain[:, 0]) - class_means[:, 0]).max() > 0.3


def test_most_modular_keeps_the_start_of_higher_modularity():
    """Two classes joined by a graph whose edges stay within a class: the view that
    splits by class is kept, whichever order the candidates come in, and the random
    state goes on from the kept start's k-means."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 200)
    Z = (rng.normal(size=(400, 2)) + np.c_[6.0 * y, np.zeros(400)]).astype(np.float32)
    neighbors = torch.from_numpy(
        np.stack([rng.choice(np.flatnonzero(y == y[i]), 10, replace=False) for i in range(400)])
    )

    def by_class(Z, X, neighbors, random_state):
        return Z

    def across(Z, X, neighbors, random_state):  # splits along the other axis
        return Z[:, 1:] * 100

    for candidates in ((by_class, across), (across, by_class)):
        state = np.random.RandomState(0)
        centers = inits.most_modular(2, candidates)(Z, None, neighbors, state)
        expected_state = np.random.RandomState(0)
        expected = initial_centroids(by_class, Z, None, neighbors, 2, expected_state)
        np.testing.assert_array_equal(centers, expected)
        assert state.randint(1 << 30) == expected_state.randint(1 << 30)
    labels = torch.cdist(torch.from_numpy(Z), torch.from_numpy(centers)).argmin(1).numpy()
    assert adjusted_rand_score(y, labels) > 0.9
    # without a graph: the codes, for k-means
    assert inits.most_modular(2)(Z, None, None, np.random.RandomState(0)) is Z


def test_kmeans_diffused_codes_view_is_the_diffusion_of_the_centred_codes():
    """The codes' view is the input's diffusion applied to the centred codes, so it does
    not change when all codes shift or scale together."""
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(50, 4)).astype(np.float32)
    neighbors = torch.from_numpy(rng.randint(50, size=(50, 5)))
    codes_view = inits.diffused_codes
    view = codes_view(Z, None, neighbors, None)
    centred = torch.from_numpy(Z - Z.mean(0))
    np.testing.assert_allclose(view, inits.diffused_input(None, centred, neighbors, None),
                               atol=1e-6)
    np.testing.assert_allclose(codes_view(3 * Z + 5, None, neighbors, None), view, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(view, axis=1), 1, atol=1e-5)


def test_kmeans_diffusion_init_clusters_the_input_diffused_over_the_graph():
    """An input too noisy for k-means alone, the same graph; codes that know nothing of it."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 200)
    X = (rng.normal(size=(400, 2)) * 2.0 + np.c_[2.0 * y - 1, np.zeros(400)]).astype(np.float32)
    Z = rng.normal(size=(400, 3)).astype(np.float32)
    neighbors = torch.from_numpy(
        np.stack([rng.choice(np.flatnonzero(y == y[i]), 10, replace=False) for i in range(400)])
    )
    Xt = torch.from_numpy(X)
    graph = initial_centroids(inits.diffused_input, Z, Xt, neighbors, 2,
                              np.random.RandomState(0))
    plain = initial_centroids(inits.scaled_input, Z, Xt, neighbors, 2, np.random.RandomState(0))

    # the diffused input splits by class, and each centroid is the mean code of a class
    class_means = np.stack([Z[y == 0].mean(0), Z[y == 1].mean(0)])
    match = np.argmin(((graph[:, None] - class_means[None]) ** 2).sum(-1), axis=1)
    assert sorted(match) == [0, 1]
    np.testing.assert_allclose(graph, class_means[match], atol=1e-5)
    # k-means on the raw input mixes the classes: its mean codes are not the classes'
    assert not np.allclose(np.sort(plain, 0), np.sort(class_means, 0), atol=1e-2)


def test_kmeans_umap_view_is_umap_of_the_scaled_input_seeded_from_the_fit():
    pytest.importorskip("umap")
    from umap import UMAP

    X, _ = make_blobs(120, n_features=8, centers=3, random_state=0)
    Xt = torch.from_numpy(X.astype(np.float32))
    view = inits.umap_input(None, Xt, None, np.random.RandomState(3))
    seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    expected = UMAP(**UMAP_SETTINGS, random_state=seed, n_jobs=1).fit_transform(
        X.astype(np.float32))
    assert view.shape == (120, UMAP_SETTINGS["n_components"]) and view.dtype == np.float32
    np.testing.assert_allclose(view, expected, rtol=1e-6)


def test_kmeans_umap_settings_are_those_of_the_umap_peer():
    from skstc.baselines import UMAPKMeans

    peer = UMAPKMeans().get_params()
    assert UMAP_SETTINGS == {name: peer[name] for name in UMAP_SETTINGS}


@pytest.mark.parametrize("n_samples", [2, 3, 6, 10])
def test_kmeans_umap_view_of_a_few_rows(n_samples):
    # fewer rows than UMAP's neighbors, or than its spectral layout needs
    pytest.importorskip("umap")
    X = np.random.RandomState(0).normal(size=(n_samples, 4)).astype(np.float32)
    view = inits.umap_input(None, torch.from_numpy(X), None, np.random.RandomState(0))
    n_columns = UMAP_SETTINGS["n_components"] if n_samples >= 3 else 4  # 2 rows: the input
    assert view.shape == (n_samples, n_columns) and np.isfinite(view).all()


def test_mean_codes_fill_an_empty_cluster_with_the_nearest_sample():
    Z = np.arange(8, dtype=np.float32).reshape(4, 2)
    view = np.array([[0.0], [1.0], [10.0], [11.0]])
    centers = mean_codes(Z, np.array([0, 0, 0, 0]), view, np.array([[0.5], [10.8]]))
    np.testing.assert_allclose(centers, [Z.mean(0), Z[3]])


class _RowCounter(torch.nn.Module):
    """Wraps an encoder and records how many rows each training-mode call encodes."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.rows: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.rows.append(x.shape[0])
        return self.encoder(x)


def test_self_training_steps_encode_the_batch_only_and_neighbors_agree():
    # overlapping blobs: the consistency term (each neighbor's Q taken from the last
    # refresh) must make graph neighbors share clusters more often than without it
    X, _ = make_blobs(300, n_features=8, centers=3, cluster_std=4.0, random_state=0)
    Xt = torch.from_numpy(((X - X.mean(0)) / X.std()).astype(np.float32))
    neighbors = knn_graph(Xt, 5, torch.device("cpu"))
    agreement = {}
    for weight in (0.0, 5.0):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            encoder = _RowCounter(AutoEncoder(8, (16,), 2).encoder)
        centers = torch.nn.Parameter(torch.tensor([[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
        labels = self_train(
            encoder, centers, Xt, alpha=1.0, max_iter=60, update_interval=20, tol=0.0,
            batch_size=64, lr=1e-2, device=torch.device("cpu"),
            generator=torch.Generator().manual_seed(0), neighbors=neighbors,
            consistency_weight=weight,
        ).labels
        assert len(encoder.rows) == 60 and max(encoder.rows) <= 64
        agreement[weight] = float((labels[neighbors] == labels[:, None]).float().mean())
    assert agreement[5.0] > agreement[0.0]


class _LearningRates(Callback):
    """Records the learning rate of every step (before a schedule after it moves it)."""

    def on_self_train_begin(self, state):
        self.lrs = []

    def on_step_end(self, state):
        self.lrs.append(state.optimizer.param_groups[0]["lr"])


def test_cosine_schedule_anneals_the_self_training_lr_to_zero():
    X, _ = make_blobs(200, n_features=8, centers=3, random_state=0)
    Xt = torch.from_numpy(((X - X.mean(0)) / X.std()).astype(np.float32))
    seen = {}
    for name, schedule in (("constant", []), ("cosine", [CosineLR()])):
        recorder = _LearningRates()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            encoder = AutoEncoder(8, (16,), 2).encoder
        centers = torch.nn.Parameter(torch.tensor([[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
        self_train(encoder, centers, Xt, alpha=1.0, max_iter=40, update_interval=10, tol=0.0,
                   batch_size=64, lr=1e-2, device=torch.device("cpu"),
                   generator=torch.Generator().manual_seed(0),
                   callbacks=[recorder, *schedule])
        seen[name] = recorder.lrs
    assert seen["constant"] == [1e-2] * 40
    cosine = np.array(seen["cosine"])
    assert len(cosine) == 40 and cosine[0] == 1e-2 and np.all(np.diff(cosine) < 0)
    expected = 1e-2 * 0.5 * (1 + np.cos(np.pi * np.arange(40) / 40))
    np.testing.assert_allclose(cosine, expected, rtol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_callable_init_is_a_view_or_the_centroids():
    from skstc import STCClustering

    X, y = make_blobs(200, n_features=6, centers=3, random_state=0)
    small = dict(network={"hidden_dims": (16,)}, n_components=3, pretrain={"epochs": 5},
                 max_iter=0, random_state=0)
    # a view: k-means on the mirrored codes, each centroid the mean code of its cluster
    stc = STCClustering(3, init=lambda Z, X, neighbors, rs: -Z, **small).fit(X)
    assert adjusted_rand_score(y, stc.init_labels_) > 0.9
    # centroids: used as given
    given = np.arange(9, dtype=np.float32).reshape(3, 3)
    stc = STCClustering(3, init=lambda Z, X, neighbors, rs: given, **small).fit(X)
    np.testing.assert_array_equal(stc.cluster_centers_, given)
    with pytest.raises(ValueError, match="neither a view"):
        STCClustering(3, init=lambda Z, X, neighbors, rs: Z[:5], **small).fit(X)


def test_kmeans_plusplus_recipe_seeds_without_lloyd():
    from sklearn.cluster import kmeans_plusplus

    Z = np.random.RandomState(0).normal(size=(100, 3)).astype(np.float32)
    got = initial_centroids(inits.kmeans_plusplus(4), Z, None, None, 4, np.random.RandomState(1))
    expected = kmeans_plusplus(Z, 4, random_state=np.random.RandomState(1))[0]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("recipe", [inits.graph_averaged_codes, inits.diffused_input,
                                    inits.diffused_codes])
def test_graph_recipes_without_a_graph_are_the_codes(recipe):
    Z = np.ones((4, 2), dtype=np.float32)
    assert recipe(Z, torch.zeros(4, 3), None, None) is Z
