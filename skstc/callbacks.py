"""Callbacks: what happens around the training loops, as small objects.

The loops of a fit (pretraining, self-training) do the algorithm and nothing else; at each
event they call a hook of every callback with the loop's state. Progress bars, the log,
keeping the best refresh, a learning-rate schedule and recording a trajectory are
callbacks, and so is anything a user passes with ``STCClustering(callbacks=[...])``.

A fit works on deep copies of the callbacks it is given and keeps them, fitted, in
``callbacks_``; the parameter itself is never changed.

>>> import numpy as np
>>> from skstc import STCClustering
>>> from skstc.callbacks import Trajectory
>>> X = np.random.RandomState(0).normal(size=(200, 8)).astype(np.float32)
>>> stc = STCClustering(3, network={"hidden_dims": (16,)}, n_components=3, max_iter=40,
...                     self_train={"update_interval": 20, "tol": 0}, pretrain={"epochs": 2},
...                     callbacks=[Trajectory()], random_state=0).fit(X)
>>> stc.callbacks_[0].iterations_
[0, 20, 40]
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from ._guard import silhouette_guard
from ._progress import progress_bar

__all__ = ["Callback", "CosineLR", "KeepBest", "PretrainState", "PrintLog", "ProgressBar",
           "SelfTrainState", "Trajectory", "silhouette_guard"]


@dataclass
class PretrainState:
    """What the pretraining hooks see.

    ``epoch`` counts the epochs done; ``losses`` holds the mean reconstruction MSE
    (``"reconstruction"``) and in-batch t-SNE term (``"tsne"``, empty without it) of each.
    """

    autoencoder: torch.nn.Module
    optimizer: torch.optim.Optimizer
    X: torch.Tensor
    epochs: int
    epoch: int = 0
    losses: dict = field(default_factory=lambda: {"reconstruction": [], "tsne": []})


@dataclass
class SelfTrainState:
    """What the self-training hooks see.

    ``it``: steps done. At a refresh of the target P: ``log_q`` (log Q of every row),
    ``p`` and ``labels`` (argmax Q); ``history`` holds one entry per refresh
    (``iteration``, ``kl_loss``, ``delta_label``, ``n_empty_clusters``; a callback may add
    its own). ``init_labels`` are those of the first refresh. A callback that restores an
    earlier model at the end sets ``labels`` and ``best_iter`` (the steps of the model
    kept; ``it`` by default).
    """

    encoder: torch.nn.Module
    centers: torch.nn.Parameter
    optimizer: torch.optim.Optimizer
    X: torch.Tensor
    neighbors: torch.Tensor | None
    max_iter: int
    history: dict
    it: int = 0
    log_q: torch.Tensor | None = None
    p: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    init_labels: torch.Tensor | None = None
    best_iter: int | None = None


class Callback:
    """Base class: every hook does nothing. Override the ones you need."""

    def on_pretrain_begin(self, state: PretrainState) -> None:
        """Before the first pretraining epoch."""

    def on_epoch_end(self, state: PretrainState) -> None:
        """After each pretraining epoch."""

    def on_pretrain_end(self, state: PretrainState) -> None:
        """After the last pretraining epoch."""

    def on_self_train_begin(self, state: SelfTrainState) -> None:
        """Before the first refresh of P (the optimizer exists)."""

    def on_refresh(self, state: SelfTrainState) -> None:
        """After each refresh of P and of the labels (the first at step 0)."""

    def on_step_end(self, state: SelfTrainState) -> None:
        """After each optimisation step."""

    def on_self_train_end(self, state: SelfTrainState) -> None:
        """After the last refresh."""


def notify(callbacks: Iterable[Callback], event: str, state) -> None:
    """Call the hook ``event`` of every callback, in order."""
    for callback in callbacks:
        getattr(callback, event)(state)


class ProgressBar(Callback):
    """tqdm bars of the pretraining epochs and the self-training steps, with an ETA (a
    do-nothing bar without tqdm or with ``TQDM_DISABLE=1``); added by ``verbose >= 1``."""

    def on_pretrain_begin(self, state: PretrainState) -> None:
        self._bar = progress_bar(state.epochs, "pretraining", True, unit="epoch")

    def on_epoch_end(self, state: PretrainState) -> None:
        self._bar.set_postfix_str(f"MSE {state.losses['reconstruction'][-1]:.4g}")
        self._bar.update()

    def on_self_train_begin(self, state: SelfTrainState) -> None:
        self._bar = progress_bar(state.max_iter, "self-training", True, unit="step")

    def on_refresh(self, state: SelfTrainState) -> None:
        self._bar.set_postfix_str(f"labels changed {state.history['delta_label'][-1]:.2%}")

    def on_step_end(self, state: SelfTrainState) -> None:
        self._bar.update()

    def on_pretrain_end(self, state) -> None:
        self._bar.close()
        del self._bar  # a fitted estimator pickles without an open bar

    on_self_train_end = on_pretrain_end


class PrintLog(Callback):
    """One line per pretraining epoch and per refresh of P on ``file`` (stdout by
    default); added by ``verbose >= 2``."""

    def __init__(self, prefix: str = "[STCClustering] ", file=None) -> None:
        self.prefix = prefix
        self.file = file

    def _print(self, msg: str) -> None:
        print(self.prefix + msg, file=self.file or sys.stdout, flush=True)

    def on_epoch_end(self, state: PretrainState) -> None:
        losses = state.losses
        msg = (f"pretrain epoch {state.epoch}/{state.epochs}: "
               f"reconstruction MSE {losses['reconstruction'][-1]:.4g}")
        if losses["tsne"]:
            msg += f", t-SNE KL {losses['tsne'][-1]:.4g}"
        self._print(msg)

    def on_self_train_begin(self, state: SelfTrainState) -> None:
        self._t0 = time.perf_counter()

    def on_refresh(self, state: SelfTrainState) -> None:
        h = state.history
        self._print(f"self-training step {state.it}/{state.max_iter}: KL(P||Q) "
                    f"{h['kl_loss'][-1]:.4g}, labels changed {h['delta_label'][-1]:.2%}, "
                    f"empty clusters {h['n_empty_clusters'][-1]} "
                    f"({time.perf_counter() - self._t0:.1f}s)")


class KeepBest(Callback):
    """Keep the model of the refresh whose labels score best (the start included).

    ``score="silhouette"``: the mean silhouette of the labels in the scaled input
    (Euclidean, on at most 3,000 rows drawn with a fixed seed, so that it draws nothing
    from the fit's random state); or a callable ``score(X)`` of the scaled input that
    returns a scorer ``f(labels) -> float`` (higher is better). At the end the encoder and
    centroids of the best refresh (the later of equal scores) are restored. Each score
    goes into ``history_["guard_score"]``; ``best_iter_`` is the steps of the model kept.
    On keyword (TF-IDF) inputs it keeps self-training from ending below its start; on
    sentence embeddings it costs 1.1-1.7 points (user guide, "Callbacks").
    """

    def __init__(self, score: str | Callable = "silhouette") -> None:
        self.score = score

    def on_self_train_begin(self, state: SelfTrainState) -> None:
        self._scorer = (silhouette_guard if self.score == "silhouette" else self.score)(state.X)
        self._best = None
        state.history["guard_score"] = []

    def on_refresh(self, state: SelfTrainState) -> None:
        score = float(self._scorer(state.labels))
        if self._best is None or score >= self._best[0]:  # ties: the later, sharper model
            self._best = (score, state.it, state.labels,
                          copy.deepcopy(state.encoder.state_dict()),
                          state.centers.detach().clone())
        state.history["guard_score"].append(score)

    def on_self_train_end(self, state: SelfTrainState) -> None:
        _, self.best_iter_, labels, weights, centers = self._best
        state.encoder.load_state_dict(weights)
        with torch.no_grad():
            state.centers.copy_(centers)
        state.labels, state.best_iter = labels, self.best_iter_
        del self._best, self._scorer  # the fitted callback keeps only best_iter_


class CosineLR(Callback):
    """Anneal the self-training learning rate to 0 over ``max_iter`` steps along half a
    cosine period (:class:`torch.optim.lr_scheduler.CosineAnnealingLR`). It loses up to 1.3
    points of ACC with many clusters (user guide, "Callbacks")."""

    def on_self_train_begin(self, state: SelfTrainState) -> None:
        self._scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            state.optimizer, max(state.max_iter, 1))

    def on_step_end(self, state: SelfTrainState) -> None:
        self._scheduler.step()

    def on_self_train_end(self, state: SelfTrainState) -> None:
        del self._scheduler


class Trajectory(Callback):
    """Record the labels of every refresh of P: ``iterations_`` (steps) and ``labels_``
    (one array of the training rows' labels per refresh)."""

    def on_self_train_begin(self, state: SelfTrainState) -> None:
        self.iterations_: list[int] = []
        self.labels_: list[np.ndarray] = []

    def on_refresh(self, state: SelfTrainState) -> None:
        self.iterations_.append(state.it)
        self.labels_.append(state.labels.cpu().numpy())
