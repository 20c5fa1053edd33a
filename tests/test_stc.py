"""STCClustering: fit and its attributes, reproducibility, persistence and sklearn tools."""

import os
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from _testing import small_params, topic_corpus
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skstc import STCClustering, inits


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


def test_tsne_weight_zero_is_the_plain_autoencoder(blobs):
    X, _ = blobs
    plain = STCClustering(4, **small_params(tsne_weight=0.0)).fit(X)
    assert plain.history_["pretrain_tsne_loss"] == []
    with_term = STCClustering(4, **small_params()).fit(X)
    nb = with_term.history_["pretrain_tsne_loss"]
    assert len(nb) == 15 and nb[-1] < nb[0]
    assert plain.history_["pretrain_loss"] != with_term.history_["pretrain_loss"]


def test_neighbor_term_with_tiny_batches():
    # batches of 1 to 3 rows: no pairs, or a perplexity clipped below 1
    X = np.random.RandomState(0).randn(7, 3).astype(np.float32)
    stc = STCClustering(
        2, **small_params(batch_size=3, pretrain_epochs=2, max_iter=4, n_neighbors=3)
    )
    with pytest.warns(UserWarning,
                      match=r"batches of 3\): n_neighbors=3 -> 2, perplexity=10 -> 0.667"):
        stc.fit(X)
    assert np.isfinite(stc.history_["pretrain_tsne_loss"]).all()
    assert np.isfinite(stc.transform(X)).all()


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
        "pretrain_loss", "pretrain_tsne_loss", "iteration", "kl_loss", "delta_label",
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
    pp = STCClustering(4, **small_params(init=inits.kmeans_plusplus(4))).fit(X)
    assert adjusted_rand_score(y, pp.labels_) > 0.8
    ki = STCClustering(4, **small_params(init=inits.scaled_input, max_iter=0)).fit(X)
    assert adjusted_rand_score(y, ki.init_labels_) > 0.9
    for init in (inits.graph_averaged_codes, inits.diffused_input, inits.diffused_codes):
        kd = STCClustering(4, **small_params(init=init, n_neighbors=5, max_iter=0)).fit(X)
        assert adjusted_rand_score(y, kd.init_labels_) > 0.9, init
    centers = STCClustering(4, **small_params(max_iter=0)).fit(X).cluster_centers_
    given = STCClustering(4, **small_params(init=centers, max_iter=0)).fit(X)
    np.testing.assert_allclose(given.cluster_centers_, centers, rtol=1e-6)


def test_fit_leaves_given_centroids_as_they_were(blobs):
    # self-training moves its own copy of the centroids, not the array passed as init
    X, _ = blobs
    centers = np.random.RandomState(0).normal(size=(4, 4)).astype(np.float32)  # 4 components
    stc = STCClustering(4, **small_params(init=centers, max_iter=20))
    before = centers.copy()
    stc.fit(X)
    np.testing.assert_array_equal(stc.init, before)
    assert not np.array_equal(stc.cluster_centers_, before)


def test_kmeans_umap_init(blobs):
    # the start is the UMAP + k-means partition, each cluster becoming its mean code
    pytest.importorskip("umap")
    X, y = blobs
    stc = STCClustering(4, **small_params(init=inits.umap_input, n_neighbors=0)).fit(X)
    assert adjusted_rand_score(y, stc.init_labels_) > 0.9
    assert adjusted_rand_score(y, stc.labels_) > 0.9
    again = STCClustering(4, **small_params(init=inits.umap_input, n_neighbors=0)).fit(X)
    np.testing.assert_array_equal(again.cluster_centers_, stc.cluster_centers_)


def test_kmeans_umap_without_umap_learn_fails_before_training(blobs, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "umap", None)  # import fails
    stc = STCClustering(4, **small_params(init=inits.umap_input))
    with pytest.raises(ImportError, match=r"inits.umap_input needs umap-learn.*skstc\[umap\]"):
        stc.fit(blobs[0])
    assert not hasattr(stc, "labels_")


@pytest.mark.parametrize(
    ("n_clusters", "n_neighbors", "expected"),
    [(60, 3, inits.graph_averaged_codes), (60, 0, "kmeans"), (49, 3, "kmeans")],
)
def test_init_auto(n_clusters, n_neighbors, expected):
    # "auto" averages the codes over the graph from 50 clusters on, when there is a graph
    X, _ = make_blobs(n_samples=300, centers=n_clusters, n_features=12, random_state=0)
    X = X.astype(np.float32)
    params = small_params(n_neighbors=n_neighbors, max_iter=0, pretrain_epochs=2)
    auto = STCClustering(n_clusters, **params).fit(X)
    assert auto.get_params()["init"] == "auto"
    named = STCClustering(n_clusters, **{**params, "init": expected}).fit(X)
    np.testing.assert_array_equal(auto.cluster_centers_, named.cluster_centers_)
    if n_neighbors:
        other = "kmeans" if expected is inits.graph_averaged_codes else inits.graph_averaged_codes
        unlike = STCClustering(n_clusters, **{**params, "init": other}).fit(X)
        assert not np.array_equal(auto.cluster_centers_, unlike.cluster_centers_)


def test_most_modular_start_is_one_of_its_candidates():
    X, _ = make_blobs(n_samples=300, centers=60, n_features=12, random_state=0)
    X = X.astype(np.float32)
    params = small_params(n_neighbors=3, max_iter=0, pretrain_epochs=2)
    fits = {name: STCClustering(60, **{**params, "init": init}).fit(X).cluster_centers_
            for name, init in [("modular", inits.most_modular(60)),
                               ("again", inits.most_modular(60)),
                               ("averaged", inits.graph_averaged_codes),
                               ("diffused", inits.diffused_codes)]}
    np.testing.assert_array_equal(fits["modular"], fits["again"])
    assert sum(np.array_equal(fits["modular"], fits[k]) for k in ("averaged", "diffused")) == 1


@pytest.mark.parametrize(
    ("n_clusters", "n_train", "batch_size", "lr", "update_interval", "steps"),
    [(1, 10_000, 256, 3e-4, 100, 100), (12, 10_000, 256, 3e-4, 100, 100),
     (13, 10_000, 256, 3e-4, 100, 200), (20, 10_000, 256, 3e-4, 100, 200),
     (64, 10_000, 512, 6e-4, 50, 300), (89, 10_000, 712, 3e-4 * 712 / 256, 36, 288),
     (152, 10_000, 1024, 1.2e-3, 25, 325), (150, 10_000, 1024, 1.2e-3, 25, 300),
     (500, 10_000, 1024, 1.2e-3, 25, 1000), (152, 600, 600, 3e-4 * 600 / 256, 43, 559),
     (40, 100, 256, 3e-4, 100, 400)],
)
def test_self_training_auto_is_sized_in_rows_per_cluster(n_clusters, n_train, batch_size, lr,
                                                         update_interval, steps):
    st = STCClustering(n_clusters)._self_train_sized(n_train)
    assert (st["batch_size"], st["update_interval"]) == (batch_size, update_interval)
    assert st["lr"] == pytest.approx(lr)
    assert STCClustering(n_clusters)._max_iter(st) == steps


def test_self_training_settings_given_are_kept_and_auto_only_there():
    given = {"batch_size": 300, "lr": 1e-4, "update_interval": 7}
    st = STCClustering(152, self_train=given)._self_train_sized(10_000)
    assert {k: st[k] for k in given} == given
    assert STCClustering(20, self_train={"update_interval": 7})._max_iter(
        STCClustering(20, self_train={"update_interval": 7})._self_train_sized(10_000)) == 161
    st = STCClustering(152, self_train={"batch_size": 512})._self_train_sized(10_000)
    assert (st["lr"], st["update_interval"]) == (pytest.approx(6e-4), 50)  # auto follows it
    with pytest.raises(InvalidParameterError, match="batch_size to be an integer >= 1"):
        STCClustering(4, pretrain={"batch_size": "auto"}).fit(np.zeros((8, 2)))
    with pytest.raises(InvalidParameterError, match="'auto' or a number > 0"):
        STCClustering(4, self_train={"lr": "fast"}).fit(np.zeros((8, 2)))


def test_max_iter_auto_runs_that_many_steps(blobs, capsys):
    X, _ = blobs
    for n_clusters, steps in ((4, 135), (5, 165)):  # 2,048 rows per cluster in batches of 64
        stc = STCClustering(n_clusters, **small_params(max_iter="auto", update_interval=15,
                                                       tol=0.0, verbose=1)).fit(X)
        assert stc.n_iter_ == steps
        assert stc.history_["iteration"][-1] == steps
        assert f"self-trained {steps} of max_iter={steps} steps" in capsys.readouterr().out


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


def test_pipeline_on_raw_text():
    texts, y = topic_corpus()
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


@pytest.mark.parametrize(("decoder_dims", "widths"),
                         [(None, [4, 32, 32, 12]), ((), [4, 12]), ((8,), [4, 8, 12])])
def test_decoder_dims_shape_the_decoder_only(blobs, decoder_dims, widths):
    X, _ = blobs
    stc = STCClustering(4, **small_params(decoder_dims=decoder_dims, max_iter=0)).fit(X)
    linear = [m for m in stc.autoencoder_.decoder if isinstance(m, torch.nn.Linear)]
    assert [linear[0].in_features] + [m.out_features for m in linear] == widths
    encoder = [m.out_features for m in stc.autoencoder_.encoder
               if isinstance(m, torch.nn.Linear)]
    assert encoder == [32, 32, 4]


def test_paper_parameters_switch_every_addition_off(blobs):
    X, _ = blobs
    stc = STCClustering(4, **small_params(tsne_weight=0, n_neighbors=0,
                                          decoder_dims=None)).fit(X)
    assert stc.history_["pretrain_tsne_loss"] == []
    assert len(stc.autoencoder_.decoder) == len(stc.autoencoder_.encoder)  # symmetric
    # the consistency weight is unused without a graph
    same = STCClustering(
        4, **small_params(tsne_weight=0, n_neighbors=0, decoder_dims=None,
                          consistency_weight=5.0)
    ).fit(X)
    np.testing.assert_array_equal(stc.labels_, same.labels_)


def test_grid_search_on_dask_workers(blobs):
    """Scale-out: the search's fits run on dask.distributed worker processes through
    joblib's dask backend, and a model fitted on a worker comes back usable."""
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    X, y = blobs
    base = STCClustering(**small_params(max_iter=40))
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        search = GridSearchCV(base, {"n_clusters": [2, 4, 8]}, cv=2)
        with parallel_backend("dask"):
            search.fit(X)
        worker_pids = set(client.run(lambda: os.getpid()).values())
        fitted, pid = client.submit(
            lambda est, X: (clone(est).fit(X), os.getpid()),
            STCClustering(4, **small_params()), X,
        ).result()
    assert search.best_params_ == {"n_clusters": 4}
    assert pid in worker_pids and pid != os.getpid()
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    assert adjusted_rand_score(y, fitted.labels_) > 0.95


@pytest.mark.parametrize("n_samples", [2, 5, 10])
def test_tiny_inputs_fit_with_the_default_graph(n_samples):
    # n_neighbors=10 and perplexity=10 do not fit a handful of rows: both are cut to the
    # data with one warning that names them, and the fit goes on
    X = np.random.RandomState(0).normal(size=(n_samples, 6)).astype(np.float32)
    stc = STCClustering(2, network={"hidden_dims": (8,)}, n_components=2,
                        pretrain={"epochs": 2}, max_iter=4, self_train={"update_interval": 2},
                        random_state=0)
    # a sample keeps the neighbors of a cluster of average size: n_samples // 2 - 1
    tsne = ("the kNN graph is off, the in-batch t-SNE term is off" if n_samples == 2
            else "perplexity=10 -> ")
    with pytest.warns(UserWarning, match=rf"\({n_samples} samples, batches of {n_samples}\): "
                      f"n_neighbors=10 -> {n_samples // 2 - 1}, {tsne}") as record:
        labels = stc.fit_predict(X)
    assert sum("cut to the input" in str(w.message) for w in record) == 1
    assert labels.shape == (n_samples,)
    np.testing.assert_array_equal(stc.predict(X), labels)


def test_one_sample_fits_without_a_graph():
    X = np.ones((1, 3), dtype=np.float32)
    stc = STCClustering(1, init=inits.graph_averaged_codes,
                        **small_params(max_iter=2, pretrain_epochs=1))
    with pytest.warns(UserWarning, match="n_neighbors=10 -> 0, the kNN graph is off"):
        stc.fit(X)
    assert stc.labels_.tolist() == [0]


def test_inputs_the_defaults_fit_give_no_warning(blobs):
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        STCClustering(4, **small_params(batch_size=256, max_iter=10)).fit(X[:44])


def test_init_labels_are_the_first_refresh_of_self_training(blobs):
    # the labels of the initial centroids, computed once by the first refresh of P
    X, _ = blobs
    stc = STCClustering(4, **small_params(max_iter=0)).fit(X)
    np.testing.assert_array_equal(stc.init_labels_, stc.labels_)
    assert stc.n_iter_ == 0
    assert list(stc.history_["time"]) == ["graph", "pretrain", "init", "self_train", "label",
                                          "floor"]


def test_inference_never_moves_the_fitted_model(blobs):
    # a model whose weights are not where it was trained (a CUDA fit unpickled on the
    # CPU of a GPU machine) predicts where its weights are and is left as it was
    X, _ = blobs
    stc = STCClustering(4, **small_params(max_iter=20)).fit(X)
    labels = stc.predict(X)
    stc.device_ = torch.device("meta")  # any device other than the weights'
    np.testing.assert_array_equal(stc.predict(X), labels)
    stc.transform(X), stc.predict_proba(X), stc.score(X)
    assert {p.device.type for p in stc.autoencoder_.parameters()} == {"cpu"}


def test_max_samples_trains_on_a_subsample_and_labels_every_row(blobs):
    """Above max_samples the phases see a random subsample; every row is labelled after."""
    from skstc.callbacks import Callback

    class Rows(Callback):
        def on_pretrain_begin(self, state):
            self.pretrained = len(state.X)

        def on_self_train_begin(self, state):
            self.self_trained = len(state.X)

    X, y = blobs
    stc = STCClustering(4, **small_params(max_samples=120, callbacks=[Rows()])).fit(X)
    assert (stc.callbacks_[0].pretrained, stc.callbacks_[0].self_trained) == (120, 120)
    assert stc.labels_.shape == stc.init_labels_.shape == (300,)
    np.testing.assert_array_equal(stc.labels_, stc.predict(X))
    assert adjusted_rand_score(y, stc.labels_) > 0.95
    assert adjusted_rand_score(y, stc.init_labels_) > 0.95
    again = STCClustering(4, **small_params(max_samples=120)).fit(X)
    np.testing.assert_array_equal(stc.labels_, again.labels_)
    np.testing.assert_array_equal(stc.init_labels_, again.init_labels_)


def test_max_samples_at_or_above_n_changes_nothing(blobs):
    X, _ = blobs
    a = STCClustering(4, **small_params(max_samples=300)).fit(X)
    b = STCClustering(4, **small_params(max_samples=None)).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_max_samples_below_n_clusters_is_an_error(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="max_samples=3 should be >= n_clusters=4"):
        STCClustering(4, **small_params(max_samples=3)).fit(X)


def test_inference_goes_block_by_block(blobs, monkeypatch):
    """predict, predict_proba and transform scale one block of rows at a time."""
    from skstc import _chunks

    X, _ = blobs
    stc = STCClustering(4, **small_params(max_iter=20)).fit(X)
    whole = (stc.predict(X), stc.predict_proba(X), stc.transform(X))
    monkeypatch.setattr(_chunks, "INFERENCE_BLOCK_ENTRIES", 7 * X.shape[1])  # blocks of 7 rows
    blocked = (stc.predict(X), stc.predict_proba(X), stc.transform(X))
    np.testing.assert_array_equal(whole[0], blocked[0])
    for a, b in zip(whole[1:], blocked[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
