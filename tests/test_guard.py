"""The keep-best rule: the silhouette score of skstc._guard and the KeepBest callback."""

import numpy as np
import pytest
import torch
from _testing import small_params
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from skstc import STCClustering, _guard
from skstc._nn import AutoEncoder
from skstc._training import self_train
from skstc.callbacks import KeepBest, Trajectory


def test_silhouette_guard_is_the_silhouette_of_the_rows():
    X, y = make_blobs(200, n_features=5, centers=3, random_state=0)
    score = _guard.silhouette_guard(torch.from_numpy(X.astype(np.float32)))
    assert score(torch.from_numpy(y)) == pytest.approx(silhouette_score(X, y), abs=1e-5)
    assert score(torch.zeros(200, dtype=torch.long)) == -1.0  # one cluster


def test_silhouette_guard_subsample_is_fixed(monkeypatch):
    monkeypatch.setattr(_guard, "GUARD_MAX_SAMPLES", 50)
    X, y = make_blobs(300, n_features=5, centers=3, random_state=0)
    rng_state = np.random.get_state()
    a = _guard.silhouette_guard(X)(torch.from_numpy(y))
    b = _guard.silhouette_guard(X)(torch.from_numpy(y))
    assert a == b and a != pytest.approx(silhouette_score(X, y), abs=1e-9)
    assert np.array_equal(np.random.get_state()[1], rng_state[1])  # no global RNG drawn


def test_self_train_restores_the_best_refresh():
    # a guard that prefers the labels of step 20: the encoder, the centroids and the
    # labels returned are those of that refresh, though training ran on to step 60
    X, _ = make_blobs(300, n_features=8, centers=3, cluster_std=4.0, random_state=0)
    Xt = torch.from_numpy(((X - X.mean(0)) / X.std()).astype(np.float32))
    seen = {}

    def run(guard):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            encoder = AutoEncoder(8, (16,), 2).encoder
        centers = torch.nn.Parameter(torch.tensor([[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
        trajectory = Trajectory()
        keep = [] if guard is None else [KeepBest(lambda X: guard)]
        out = self_train(encoder, centers, Xt, alpha=1.0, max_iter=60, update_interval=20,
                         tol=0.0, batch_size=64, lr=1e-2, device=torch.device("cpu"),
                         generator=torch.Generator().manual_seed(0),
                         callbacks=[trajectory, *keep])
        seen.update((it, torch.from_numpy(lab))
                    for it, lab in zip(trajectory.iterations_, trajectory.labels_))
        return out.it, out.history, out.labels, encoder, centers, out

    scores = iter([0.1, 0.5, 0.2, 0.5 - 1e-9])
    n_iter, history, labels, encoder, centers, out = run(lambda labels: next(scores))
    assert n_iter == 60 and history["guard_score"] == [0.1, 0.5, 0.2, 0.5 - 1e-9]
    assert torch.equal(labels, seen[20]) and out.best_iter == 20
    assert torch.equal(out.init_labels, seen[0])
    seen.clear()
    _, plain_history, plain_labels, plain_encoder, _, plain = run(None)
    assert "guard_score" not in plain_history and torch.equal(plain_labels, seen[60])
    assert plain.best_iter == 60 and torch.equal(plain.init_labels, seen[0])
    with torch.no_grad():
        from skstc._training import log_q_of_inputs

        again = log_q_of_inputs(encoder, centers.detach(), Xt, 1.0, torch.device("cpu"))
    assert torch.equal(again.argmax(1), labels)  # the restored model gives those labels


def test_ties_keep_the_later_refresh():
    X, _ = make_blobs(120, n_features=4, centers=2, random_state=0)
    stc = STCClustering(2, **small_params(max_iter=40, update_interval=20, callbacks=[KeepBest()]))
    stc.fit(X)
    scores = stc.history_["guard_score"]
    assert len(scores) == len(stc.history_["iteration"])
    best = max(scores)
    last_best = max(i for i, s in enumerate(scores) if s == best)
    assert stc.callbacks_[0].best_iter_ == stc.history_["iteration"][last_best]


def test_guard_keeps_the_start_when_self_training_collapses():
    # a learning rate far too large merges clusters (at 2.0 in either precision and with
    # seeds 0-1; 0.5 did so only by chance); the guard returns the start instead
    X, _ = make_blobs(300, n_features=10, centers=4, cluster_std=2.0, random_state=1)
    params = small_params(lr=2.0, max_iter=100, update_interval=25, tol=0.0,
                          callbacks=[KeepBest()])
    plain = STCClustering(4, **{**params, "callbacks": None})
    with pytest.warns(Warning):
        plain.fit(X)
    guarded = STCClustering(4, **params).fit(X)
    assert np.unique(plain.labels_).size < 4
    assert guarded.callbacks_[0].best_iter_ == 0
    np.testing.assert_array_equal(guarded.labels_, guarded.init_labels_)
    np.testing.assert_array_equal(guarded.predict(X), guarded.labels_)
    assert plain.n_iter_ == guarded.n_iter_ == 100


def test_guard_changes_nothing_before_the_choice(blobs):
    # the guard draws no random numbers: both fits follow the same trajectory
    X, _ = blobs
    a = STCClustering(4, **small_params(callbacks=[KeepBest()])).fit(X)
    b = STCClustering(4, **small_params()).fit(X)
    assert a.history_["kl_loss"] == b.history_["kl_loss"]
    if a.callbacks_[0].best_iter_ == a.n_iter_:
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_the_default_keeps_the_last_refresh(blobs):
    # no callbacks, the default: the paper's self-training, no score computed
    X, _ = blobs
    keep = KeepBest()
    stc = STCClustering(4, **small_params(max_iter=40, tol=0.0)).fit(X)
    assert STCClustering().callbacks is None
    assert "guard_score" not in stc.history_ and stc.n_iter_ == 40 and stc.callbacks_ == []
    # a fit works on copies: the callback given is left as it was
    STCClustering(4, **small_params(max_iter=40, callbacks=[keep])).fit(X)
    assert not hasattr(keep, "best_iter_")
