"""Behaviour of STCClustering: the algorithm, reproducibility, persistence and sklearn tools."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from conftest import small_params
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skstc import STCClustering
from skstc._nn import (
    AutoEncoder,
    conditional_affinities,
    input_affinities,
    log_soft_assignment,
    neighbor_kl,
    soft_assignment,
    target_distribution,
)
from skstc._training import encode, kl_divergence, pretrain_autoencoder


def _entropy(p):
    return -(p * np.log(np.clip(p, 1e-300, None))).sum(axis=1)


# ------------------------------------------------------------------ the math
@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_student_t_matches_numpy_reference(alpha):
    rng = np.random.RandomState(0)
    z, mu = rng.randn(50, 5), rng.randn(7, 5)
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    ref = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    ref /= ref.sum(axis=1, keepdims=True)
    q = soft_assignment(torch.from_numpy(z), torch.from_numpy(mu), alpha).numpy()
    np.testing.assert_allclose(q, ref, rtol=1e-12, atol=1e-15)


def test_q_rows_sum_to_one_and_p_is_sharper():
    rng = np.random.RandomState(1)
    z, mu = torch.from_numpy(rng.randn(200, 4)), torch.from_numpy(rng.randn(5, 4))
    q = soft_assignment(z, mu, 1.0)
    np.testing.assert_allclose(q.sum(1).numpy(), 1.0, rtol=1e-12)
    p = target_distribution(q)
    np.testing.assert_allclose(p.sum(1).numpy(), 1.0, rtol=1e-12)
    assert _entropy(p.numpy()).mean() < _entropy(q.numpy()).mean()


def test_target_distribution_matches_formula():
    rng = np.random.RandomState(2)
    q = rng.dirichlet(np.ones(4), size=30)
    ref = q**2 / q.sum(0)
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(target_distribution(torch.from_numpy(q)).numpy(), ref, rtol=1e-12)


def test_soft_assignment_is_finite_far_from_centroids():
    z = torch.tensor([[1e6, -1e6], [0.0, 0.0]], dtype=torch.float32)
    mu = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float32)
    log_q = log_soft_assignment(z, mu, 1.0)
    assert torch.isfinite(log_q).all()
    p = target_distribution(log_q.exp())
    assert torch.isfinite(kl_divergence(p, log_q))


def test_kl_decreases_during_self_training(blobs):
    X, _ = blobs
    stc = STCClustering(4, **small_params(max_iter=200, update_interval=20, tol=0.0)).fit(X)
    kl = stc.history_["kl_loss"]
    assert len(kl) == 11
    # P is refreshed from Q, so KL(P||Q) right after a refresh is its Q's "sharpening gap";
    # training drives Q towards P, so the gap shrinks overall.
    assert kl[-1] < kl[0]
    assert len(stc.history_["pretrain_loss"]) == 15
    assert stc.history_["pretrain_loss"][-1] < stc.history_["pretrain_loss"][0]


# ------------------------------------------------------------------ neighbor term
@pytest.mark.parametrize("perplexity", [2.0, 10.0, 30.0])
def test_conditional_affinities_have_the_requested_perplexity(perplexity):
    x = torch.from_numpy(np.random.RandomState(3).randn(120, 7) * 50.0)  # any scale
    p = conditional_affinities(torch.cdist(x, x).pow(2), perplexity).numpy()
    assert np.all(np.diag(p) == 0.0)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(np.exp(_entropy(p)), perplexity, rtol=1e-4)


def test_input_affinities_are_a_symmetric_distribution_over_pairs():
    x = torch.from_numpy(np.random.RandomState(4).randn(40, 5))
    p = input_affinities(x, 30.0).numpy()  # perplexity clipped to (40 - 1) / 3
    np.testing.assert_allclose(p, p.T)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-10)
    assert np.all(np.diag(p) == 0.0) and np.all(p >= 0.0)
    cond = 2 * 40 * p  # p_j|i + p_i|j
    nearest = np.argsort(((x[:, None] - x[None]) ** 2).sum(-1).numpy(), axis=1)[:, 1]
    assert np.all(cond[np.arange(40), nearest] > np.median(cond, axis=1))


@pytest.mark.parametrize("alpha", [1.0, 4.0])
def test_neighbor_kl_matches_numpy_reference(alpha):
    rng = np.random.RandomState(5)
    p = rng.rand(9, 9)
    p = p + p.T
    np.fill_diagonal(p, 0.0)
    p /= p.sum()
    z = rng.randn(9, 3)
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)
    q = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    np.fill_diagonal(q, 0.0)
    q /= q.sum()
    off = ~np.eye(9, dtype=bool)
    ref = np.sum(p[off] * np.log(p[off] / q[off]))
    got = neighbor_kl(torch.from_numpy(p), torch.from_numpy(z), alpha)
    np.testing.assert_allclose(float(got), ref, rtol=1e-10)


def test_neighbor_term_keeps_clusters_apart_in_the_codes():
    # 10 overlapping blobs in 30 dims squeezed into 2: plain reconstruction merges some,
    # the t-SNE term keeps each blob's neighbors together
    ari = {0.0: [], 1.0: []}
    for seed in range(4):
        X, y = make_blobs(600, n_features=30, centers=10, cluster_std=3.0, random_state=seed)
        Xt = torch.from_numpy(((X - X.mean(0)) / X.std()).astype(np.float32))
        for weight in ari:
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


def test_neighbor_weight_zero_is_the_plain_autoencoder(blobs):
    X, _ = blobs
    plain = STCClustering(4, **small_params(neighbor_weight=0.0)).fit(X)
    assert plain.history_["pretrain_neighbor_loss"] == []
    with_term = STCClustering(4, **small_params()).fit(X)
    nb = with_term.history_["pretrain_neighbor_loss"]
    assert len(nb) == 15 and nb[-1] < nb[0]
    assert plain.history_["pretrain_loss"] != with_term.history_["pretrain_loss"]


def test_neighbor_term_with_tiny_batches():
    # batches of 1 to 3 rows: no pairs, or a perplexity clipped below 1
    X = np.random.RandomState(0).randn(7, 3).astype(np.float32)
    stc = STCClustering(
        2, **small_params(batch_size=3, pretrain_epochs=2, max_iter=4, n_neighbors=3)
    ).fit(X)
    assert np.isfinite(stc.history_["pretrain_neighbor_loss"]).all()
    assert np.isfinite(stc.transform(X)).all()


# ------------------------------------------------------------------ fitted model
def test_fit_recovers_blobs_and_attributes(blobs):
    X, y = blobs
    stc = STCClustering(4, **small_params())
    labels = stc.fit_predict(X)
    assert adjusted_rand_score(y, labels) > 0.95
    np.testing.assert_array_equal(labels, stc.labels_)
    np.testing.assert_array_equal(stc.predict(X), stc.labels_)
    assert stc.cluster_centers_.shape == (4, 4)
    assert stc.transform(X).shape == (300, 4)
    assert stc.transform(X).dtype == np.float32
    assert stc.transform(X.astype(np.float64)).dtype == np.float64
    proba = stc.predict_proba(X)
    assert proba.shape == (300, 4)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), stc.labels_)
    assert stc.init_labels_.shape == (300,)
    assert 0 < stc.n_iter_ <= 120
    assert set(stc.history_) >= {
        "pretrain_loss", "pretrain_neighbor_loss", "iteration", "kl_loss", "delta_label",
        "n_empty_clusters", "time",
    }
    assert list(stc.get_feature_names_out()) == [f"stcclustering{i}" for i in range(4)]


def test_convergence_stops_early_with_tol(blobs):
    X, _ = blobs
    stc = STCClustering(4, **small_params(max_iter=1000, update_interval=10, tol=0.01)).fit(X)
    assert stc.n_iter_ < 1000
    assert stc.history_["delta_label"][-1] < 0.01


def test_init_options(blobs):
    X, y = blobs
    pp = STCClustering(4, **small_params(init="kmeans++")).fit(X)
    assert adjusted_rand_score(y, pp.labels_) > 0.8
    ki = STCClustering(4, **small_params(init="kmeans-input", max_iter=0)).fit(X)
    assert adjusted_rand_score(y, ki.init_labels_) > 0.9
    centers = STCClustering(4, **small_params(max_iter=0)).fit(X).cluster_centers_
    given = STCClustering(4, **small_params(init=centers, max_iter=0)).fit(X)
    np.testing.assert_allclose(given.cluster_centers_, centers, rtol=1e-6)


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


# ------------------------------------------------------------------ reproducibility
@pytest.mark.parametrize(
    "overrides",
    [{"max_iter": 0}, {"tol": 1.0}, {"max_iter": 7, "update_interval": 3}, {"n_neighbors": 0}],
)
def test_labels_are_predict_of_training_data_however_training_stops(blobs, overrides):
    """labels_ comes from the last refresh of Q; it must equal predict on the same X."""
    X, _ = blobs
    stc = STCClustering(4, **small_params(**overrides)).fit(X)
    np.testing.assert_array_equal(stc.predict(X), stc.labels_)
    assert stc.n_iter_ == stc.history_["iteration"][-1]


def test_same_seed_same_labels_and_global_rng_untouched(blobs):
    X, _ = blobs
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = STCClustering(4, **small_params(random_state=7)).fit(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    b = STCClustering(4, **small_params(random_state=7)).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_different_seeds_give_different_models(blobs):
    X, _ = blobs
    a = STCClustering(4, **small_params(random_state=1)).fit(X)
    b = STCClustering(4, **small_params(random_state=2)).fit(X)
    assert not np.allclose(a.transform(X), b.transform(X))


# ------------------------------------------------------------------ persistence
def test_pickle_and_joblib_round_trip(blobs, tmp_path):
    X, _ = blobs
    stc = STCClustering(4, **small_params()).fit(X)
    again = pickle.loads(pickle.dumps(stc))
    np.testing.assert_array_equal(again.predict(X), stc.predict(X))
    np.testing.assert_array_equal(again.transform(X), stc.transform(X))
    joblib.dump(stc, tmp_path / "stc.joblib")
    loaded = joblib.load(tmp_path / "stc.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), stc.predict_proba(X))


def test_model_trained_on_cuda_predicts_on_cpu_only_machine(blobs, monkeypatch):
    """Simulate a CUDA fit (device_ says cuda), pickled and loaded where CUDA is absent."""
    X, _ = blobs
    stc = STCClustering(4, **small_params()).fit(X)
    expected = stc.predict(X)
    stc.device_ = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = pickle.loads(pickle.dumps(stc))
    assert all(p.device.type == "cpu" for p in loaded.autoencoder_.parameters())
    np.testing.assert_array_equal(loaded.predict(X), expected)


# ------------------------------------------------------------------ sklearn tools
def _topic_texts(n_per_topic=40, seed=0):
    topics = [
        "python list dict tuple lambda pandas numpy import",
        "oracle sql join index query table database schema",
        "apache htaccess rewrite virtualhost server module port proxy",
    ]
    rng = np.random.RandomState(seed)
    texts, y = [], []
    for label, vocab in enumerate(topics):
        words = vocab.split()
        for _ in range(n_per_topic):
            texts.append(" ".join(rng.choice(words, size=4, replace=False)))
            y.append(label)
    return texts, np.array(y)


def test_pipeline_on_raw_text():
    texts, y = _topic_texts()
    pipe = make_pipeline(
        TfidfVectorizer(),
        TruncatedSVD(10, random_state=0),
        STCClustering(3, **small_params(n_components=3, pretrain_epochs=60)),
    )
    labels = pipe.fit_predict(texts)
    assert adjusted_rand_score(y, labels) > 0.9
    np.testing.assert_array_equal(pipe.predict(texts), labels)


def test_grid_search_without_scoring_and_clone(blobs):
    X, _ = blobs
    base = STCClustering(**small_params(max_iter=40))
    search = GridSearchCV(base, {"n_clusters": [2, 4, 8]}, cv=2, n_jobs=2).fit(X)
    assert search.best_params_ == {"n_clusters": 4}
    cloned = clone(base)
    assert cloned.get_params() == base.get_params()
    assert not hasattr(cloned, "labels_")


def test_score_is_silhouette_in_input_space(blobs):
    from sklearn.metrics import silhouette_score

    X, _ = blobs
    stc = STCClustering(4, **small_params()).fit(X)
    assert stc.score(X) == pytest.approx(silhouette_score(X, stc.predict(X)))


def test_set_output_pandas(blobs):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    stc = STCClustering(4, **small_params()).set_output(transform="pandas").fit(df)
    out = stc.transform(df)
    assert list(out.columns) == [f"stcclustering{i}" for i in range(4)]
    assert list(stc.feature_names_in_) == list(df.columns)


def test_verbose_logs_phases(blobs, capsys):
    X, _ = blobs
    STCClustering(4, **small_params(verbose=2, pretrain_epochs=2, max_iter=20)).fit(X)
    out = capsys.readouterr().out
    assert "pretrain epoch 2/2" in out
    assert "self-training step" in out
    assert "initialised 4 centroids" in out
    STCClustering(4, **small_params(pretrain_epochs=2, max_iter=20)).fit(X)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------------ precision
@pytest.mark.parametrize("native, expected", [(True, "bfloat16"), (False, "float32")])
def test_precision_auto_follows_native_bfloat16_support(monkeypatch, native, expected):
    from skstc import _device

    monkeypatch.setattr(_device, "native_bfloat16", lambda device: native)
    cpu = torch.device("cpu")
    assert _device.resolve_precision("auto", cpu) == expected
    assert _device.resolve_precision("float32", cpu) == "float32"
    assert _device.resolve_precision("bfloat16", cpu) == "bfloat16"


def test_precision_bfloat16_refused_on_devices_without_autocast():
    from skstc._device import resolve_precision as _resolve_precision

    with pytest.raises(ValueError, match="precision='bfloat16' is supported on CPU and CUDA"):
        _resolve_precision("bfloat16", torch.device("meta"))
    assert _resolve_precision("auto", torch.device("meta")) == "float32"


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


# ------------------------------------------------------------------ the neighbor graph
def test_neighbor_disagreement_matches_reference():
    from skstc._nn import neighbor_disagreement

    q = torch.softmax(torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), 1)
    r = torch.softmax(torch.randn(6, 4, generator=torch.Generator().manual_seed(1)), 1)
    want = -torch.log((q * r).sum(1)).mean()
    torch.testing.assert_close(neighbor_disagreement(q.log(), r.log()), want)


def _neighbor_agreement(X, labels, k=10):
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    return float(np.mean(labels[idx] == labels[:, None]))


def test_graph_makes_neighbors_share_clusters():
    """Overlapping blobs: with the graph, neighbors in the input agree more often."""
    X, _ = make_blobs(n_samples=400, centers=4, n_features=8, cluster_std=6.0, random_state=3)
    X = X.astype(np.float32)
    params = small_params(max_iter=200, lr=1e-3)
    plain = STCClustering(4, n_neighbors=0, **params).fit(X)
    graph = STCClustering(4, n_neighbors=10, consistency_weight=1.0, **params).fit(X)
    assert _neighbor_agreement(X, graph.labels_) > _neighbor_agreement(X, plain.labels_)
    assert graph.history_["time"]["graph"] > plain.history_["time"]["graph"]


def test_paper_parameters_switch_every_addition_off(blobs):
    X, _ = blobs
    stc = STCClustering(4, **small_params(neighbor_weight=0, n_neighbors=0)).fit(X)
    assert stc.history_["pretrain_neighbor_loss"] == []
    # the consistency weight is unused without a graph
    same = STCClustering(
        4, **small_params(neighbor_weight=0, n_neighbors=0, consistency_weight=5.0)
    ).fit(X)
    np.testing.assert_array_equal(stc.labels_, same.labels_)


def test_neighbor_candidates_subsample_above_the_limit(blobs, monkeypatch):
    X, _ = blobs
    monkeypatch.setattr(STCClustering, "_graph_max_candidates", 100)
    stc = STCClustering(4, **small_params()).fit(X)
    assert adjusted_rand_score(blobs[1], stc.labels_) > 0.9


@pytest.mark.parametrize("n_neighbors", [300, 1000])
def test_n_neighbors_must_be_below_n_samples(blobs, n_neighbors):
    X, _ = blobs
    with pytest.raises(ValueError, match=f"n_neighbors={n_neighbors} should be < n_samples=300"):
        STCClustering(4, **small_params(n_neighbors=n_neighbors)).fit(X)
