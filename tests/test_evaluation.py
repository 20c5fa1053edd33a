import numpy as np
import pytest
from _testing import small_params
from sklearn.datasets import make_blobs

from skstc.evaluation import (
    METHODS,
    _mapped_accuracy,
    evaluate_methods,
    machine_description,
    make_method,
    report_preamble,
    summarize,
)


@pytest.fixture(scope="module")
def blobs4():
    X, y = make_blobs(n_samples=200, centers=4, n_features=8, random_state=0)
    return X.astype(np.float32), y


def test_rows_for_every_method_and_seed(blobs4):
    X, y = blobs4
    rows = evaluate_methods(X, y, methods=["k-means", "diffusion+k-means", "STC"],
                            seeds=[0, 1], stc_params=small_params(random_state=None))
    methods = [r["method"] for r in rows]
    assert methods.count("k-means") == 2 and methods.count("STC") == 2
    assert methods.count("STC before self-training") == 2
    assert {r["split"] for r in rows} == {"all"}
    for r in rows:
        assert 0 <= r["ACC"] <= 1 and 0 <= r["NMI"] <= 1
    km = [r for r in rows if r["method"] == "k-means"]
    assert all(r["ACC"] == 1.0 and r["fit_s"] > 0 and r["peak_mib"] > 0 for r in km)


def test_holdout_scores_new_rows(blobs4):
    X, y = blobs4
    rows = evaluate_methods(X, y, methods=["k-means"], seeds=[0], holdout=0.25)
    by_split = {r["split"]: r for r in rows}
    assert set(by_split) == {"train", "held-out"}
    assert by_split["held-out"]["ACC"] == 1.0  # separated blobs: new rows land right


def test_holdout_without_stratification_when_a_class_is_a_singleton():
    X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    y = y.copy()
    y[0] = 3  # a class of one row cannot be stratified
    rows = evaluate_methods(X, y, methods=["k-means"], seeds=[0], holdout=0.2)
    assert [r["split"] for r in rows] == ["train", "held-out"]


def test_mapped_accuracy_uses_the_training_mapping():
    # training: cluster 5 is class 0, cluster 7 is class 1
    y_train, l_train = np.array([0, 0, 1, 1]), np.array([5, 5, 7, 7])
    assert _mapped_accuracy(y_train, l_train, np.array([1, 0]), np.array([7, 5])) == 1.0
    # the mapping is not re-learned on the test rows
    assert _mapped_accuracy(y_train, l_train, np.array([1, 0]), np.array([5, 7])) == 0.0
    # a cluster unseen in training is an error
    assert _mapped_accuracy(y_train, l_train, np.array([0]), np.array([9])) == 0.0


def test_summarize_mean_std_and_order():
    rows = [
        {"method": m, "seed": s, "split": "all", "ACC": a, "NMI": a, "ARI": a,
         "fit_s": 2.0 * (s + 1), "peak_mib": 10.0 + s}
        for m, s, a in [("b", 0, 0.2), ("a", 0, 0.5), ("b", 1, 0.4), ("a", 1, 0.7)]
    ]
    out = summarize(rows)
    assert [o["method"] for o in out] == ["b", "a"]
    assert out[0]["ACC"] == pytest.approx(30.0) and out[0]["ACC_std"] == pytest.approx(10.0)
    assert out[0]["fit_s"] == 3.0 and out[0]["peak_mib"] == 11.0 and out[0]["n_seeds"] == 2


def test_make_method_names():
    for name in METHODS:
        est = make_method(name, 3, seed=0)
        assert est.get_params()["n_clusters"] == 3 and est.random_state == 0
    with pytest.raises(ValueError, match="Unknown method"):
        make_method("dbscan", 3, seed=0)


def test_warm_up_fits_each_method_once_past_umaps_exact_graph(monkeypatch):
    # umap-learn compiles its nearest-neighbor descent only for inputs of 4,096 rows or more
    from skstc import evaluation

    fitted = []

    class Recorder:
        def __init__(self, name, n_clusters, stc_params):
            self.name, self.n_clusters, self.stc_params = name, n_clusters, stc_params

        def fit(self, X):
            fitted.append((self.name, self.n_clusters, self.stc_params, X.shape))
            return self

    monkeypatch.setattr(evaluation, "make_method",
                        lambda name, k, seed, stc_params: Recorder(name, k, stc_params))
    evaluation.warm_up(["k-means", "STC"], {"init": "kmeans-umap"})
    assert [f[0] for f in fitted] == ["k-means", "STC"]
    assert fitted[1][2] == {"init": "kmeans-umap", "max_iter": 2}
    assert all(f[3][0] > 4096 for f in fitted)


def test_a_new_method_is_one_registry_entry(monkeypatch):
    from sklearn.cluster import AgglomerativeClustering

    from skstc import evaluation

    spec = evaluation.MethodSpec(
        lambda n_clusters, seed, stc_params: AgglomerativeClustering(n_clusters),
        other_labels=lambda model: {"ward, all in one": np.zeros_like(model.labels_)},
    )
    monkeypatch.setitem(evaluation.METHODS, "ward", spec)
    X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
    rows = evaluation.evaluate_methods(X, y, methods=["ward"])
    assert [r["method"] for r in rows] == ["ward, all in one", "ward"]
    assert rows[1]["ACC"] > 0.9 and rows[0]["ACC"] == pytest.approx(1 / 3)


def test_report_preamble_names_the_command_and_the_machine():
    import torch

    lines = report_preamble("## Title", "python x.py --a 1", "; 2 threads")
    assert lines[0] == "## Title"
    assert "`python x.py --a 1`" in lines[2]
    assert lines[-1].startswith("- Machine: ") and lines[-1].endswith("; 2 threads")
    assert f"torch {torch.__version__}" in machine_description()
