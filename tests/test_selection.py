"""select_n_clusters: the recommended k (the largest within noise of the best), its curve,
determinism and bad candidates."""

import numpy as np
import pytest
import torch
from _testing import small_params
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from skstc import NClustersSelection, STCClustering, select_n_clusters
from skstc.selection import DEFAULT_CANDIDATES, RANGE_TOLERANCE, silhouettes


@pytest.fixture(scope="module")
def mixture():
    """600 points, six well separated blobs in 16 dimensions: the answer is 6."""
    X, y = make_blobs(n_samples=600, centers=6, n_features=16, cluster_std=1.0,
                      random_state=3)
    return X.astype(np.float32), y


def _small():
    return STCClustering(**small_params(random_state=None))


def test_recommends_the_number_of_blobs(mixture):
    X, _ = mixture
    selection = select_n_clusters(X, [2, 3, 4, 5, 6, 8, 10, 12], estimator=_small(),
                                  random_state=0)
    assert isinstance(selection, NClustersSelection)
    assert selection.n_clusters == 6
    assert selection.candidates.tolist() == [2, 3, 4, 5, 6, 8, 10, 12]
    assert selection.scores.shape == (8,) and np.all(selection.scores <= 1)
    assert selection.scores.argmax() == 4
    assert set(selection.times) == {"pretrain", "candidates"}


def test_same_seed_same_curve(mixture):
    X, _ = mixture
    a = select_n_clusters(X, [3, 6, 9], estimator=_small(), random_state=1)
    b = select_n_clusters(X, [9, 6, 3, 6], estimator=_small(), random_state=1)  # sorted, unique
    np.testing.assert_array_equal(a.candidates, b.candidates)
    np.testing.assert_array_equal(a.scores, b.scores)


def test_the_estimator_given_is_left_unfitted(mixture):
    X, _ = mixture
    est = _small()
    select_n_clusters(X, [2, 6], estimator=est, random_state=0)
    assert not hasattr(est, "labels_") and est.n_clusters == 8


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # 200 rows, 20 clusters
def test_default_candidates_stop_at_a_tenth_of_the_samples(mixture):
    X, _ = mixture
    selection = select_n_clusters(X[:200], estimator=_small(), random_state=0)
    assert selection.candidates.tolist() == [k for k in DEFAULT_CANDIDATES if k <= 20]


@pytest.mark.parametrize(("candidates", "match"), [
    ([], "candidates is empty"),
    ([1, 4], r"integers from 2 to n_samples - 1 = 599; got \[1\]"),
    ([4, 600], r"got \[600\]"),
    ([2.5], r"got \[2.5\]"),
    ([True, 3], r"got \[True\]"),
])
def test_bad_candidates(mixture, candidates, match):
    X, _ = mixture
    with pytest.raises(ValueError, match=match):
        select_n_clusters(X, candidates, estimator=_small())


def test_tiny_inputs(mixture):
    X, _ = mixture
    with pytest.raises(ValueError, match="too few to compare"):
        select_n_clusters(X[:2], estimator=_small())
    with pytest.warns(UserWarning, match="Parameters cut to the input"):
        selection = select_n_clusters(X[:12], [2, 3, 4], estimator=_small(), random_state=0)
    assert selection.n_clusters in (2, 3, 4)


def test_data_errors_come_first():
    with pytest.raises(ValueError, match="NaN"):
        select_n_clusters(np.full((20, 3), np.nan), [2, 3])


def test_to_frame_and_plot(mixture):
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    import matplotlib

    matplotlib.use("Agg")
    X, _ = mixture
    selection = select_n_clusters(X, [2, 6, 10], estimator=_small(), random_state=0)
    frame = selection.to_frame()
    assert frame.columns.tolist() == ["n_clusters", "silhouette", "within_noise", "supported",
                                      "recommended"]
    assert frame["recommended"].sum() == 1
    ax = selection.plot()
    assert ax.get_xlabel() == "number of clusters"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "recommended: 6" in legend and any(t.startswith("within noise: ") for t in legend)


def test_silhouettes_match_scikit_learn_block_by_block():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    labelings = [rng.randint(0, k, 300) for k in (2, 7, 60)]
    labelings.append(np.r_[np.zeros(299, int), 1])  # a singleton cluster scores 0
    ours = silhouettes(torch.from_numpy(X), [torch.from_numpy(lab) for lab in labelings],
                       block_rows=64)  # blocks that do not divide the rows
    np.testing.assert_allclose(ours, [silhouette_score(X, lab) for lab in labelings],
                               rtol=1e-6, atol=1e-9)


def test_silhouettes_of_degenerate_labelings_are_minus_one():
    X = torch.randn(5, 3)
    same, distinct = torch.zeros(5, dtype=torch.long), torch.arange(5)
    np.testing.assert_array_equal(silhouettes(X, [same, distinct]), [-1.0, -1.0])


def test_range_within_noise_is_measured_on_folds_of_the_scored_rows():
    small = STCClustering(n_components=5, network={"hidden_dims": (32,)},
                          pretrain={"epochs": 10})
    # five separate blobs: one candidate is clearly best
    X, _ = make_blobs(n_samples=400, centers=5, n_features=10, random_state=0)
    sel = select_n_clusters(X, [2, 3, 4, 5, 6, 8], estimator=small, random_state=0)
    assert sel.noise_range == (5, 5) and sel.within_noise.sum() == 1
    assert sel.supported[sel.within_noise].all()
    lo, hi = sel.range  # within a fifth of the best score
    top = sel.scores.max()
    assert np.array_equal(sel.supported, sel.scores >= top - RANGE_TOLERANCE * abs(top))
    assert (lo, hi) == (sel.candidates[sel.supported].min(), sel.candidates[sel.supported].max())
    if (lo, hi) == (5, 5):
        assert sel.summary() == "5 clusters, clearly ahead of the other candidates"
    else:
        assert sel.summary() == (f"5 clusters recommended (the best score); the data "
                                 f"support {lo} to {hi} (scores within a fifth of the best)")
    # no structure at all: the scores of several candidates are within the noise
    noise = np.random.RandomState(0).uniform(size=(400, 10))
    flat = select_n_clusters(noise, [2, 3, 4, 5, 6, 8], estimator=small, random_state=0)
    lo, hi = flat.range
    assert flat.within_noise[list(flat.candidates).index(flat.best_n_clusters)]
    assert flat.best_n_clusters == flat.candidates[flat.scores.argmax()]
    assert flat.n_clusters == flat.noise_range[1] and flat.within_noise.sum() >= 2
    assert lo <= flat.noise_range[0] and flat.n_clusters <= hi  # the range holds them
    assert flat.summary() == (f"{flat.n_clusters} clusters recommended (the largest within "
                              f"the noise of the best score, at {flat.best_n_clusters}; "
                              "clusters can be merged later but not split); the data "
                              f"support {lo} to {hi} (scores within a fifth of the best)")
    frame = flat.to_frame()
    assert list(frame.columns) == ["n_clusters", "silhouette", "within_noise", "supported",
                                   "recommended"]


def test_plot_marks_the_best_score_where_it_is_not_the_recommendation():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    sel = NClustersSelection(n_clusters=3, candidates=np.array([2, 3, 4, 5]),
                             scores=np.array([0.30, 0.29, 0.25, 0.10]),
                             within_noise=np.array([True, True, False, False]),
                             supported=np.array([True, True, True, False]))
    assert sel.best_n_clusters == 2 and sel.range == (2, 4) and sel.noise_range == (2, 3)
    assert sel.summary().startswith("3 clusters recommended (the largest within the noise "
                                    "of the best score, at 2; ")
    assert sel.summary().endswith("the data support 2 to 4 (scores within a fifth of the best)")
    legend = [t.get_text() for t in sel.plot().get_legend().get_texts()]
    assert legend == ["within a fifth of the best: 2–4", "within noise: 2–3", "best score: 2",
                      "recommended: 3"]
