"""The STCClustering estimator: its parameters, and ``fit`` as the algorithm in order.

``fit`` runs :func:`skstc.stages.prepare` (validate, scale, subsample, kNN graph, pretrain
the autoencoder), the start (:mod:`skstc.inits`), self-training
(:func:`~skstc._training.self_train`), labels every row and checks the partition against
the input (the floor: a fallback distilled by :func:`~skstc._training.distil`); nothing is
stored on the estimator before the last phase ends.
"""

from __future__ import annotations

import copy
import sys
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._device import cpu_copy
from ._scaling import map_scaled
from ._training import distil, encode, log_q_of_inputs, self_train
from .callbacks import Callback, PrintLog, ProgressBar
from .inits import _kmeans_on_view, diffused_input, mean_codes, umap_class, umap_input
from .stages import Prepared, _prepare_validated

#: The ``"auto"`` self-training, in rows: a batch holds about 8 rows of each cluster
#: (256 to 1,024 rows), the learning rate is 3e-4 per 256 rows of a batch (the linear
#: scaling rule), P is refreshed every 25,600 rows and ``max_iter="auto"`` runs 2,048 rows
#: per cluster (rounded up to a whole number of refreshes).
BATCH_ROWS_PER_CLUSTER = 8
BATCH_SIZE_RANGE = (256, 1024)
LR_PER_256_ROWS = 3e-4
REFRESH_ROWS = 25_600
ROWS_PER_CLUSTER = 2_048

#: The floor's distillation (:meth:`STCClustering._floor`) runs the steps of
#: ``max_iter="auto"`` in self-training's batches at this many times its learning rate.
DISTIL_LR_FACTOR = 3

#: Rows on which the silhouettes of ``score`` and of the floor are computed (a random
#: subsample drawn with a fixed seed above this).
SILHOUETTE_MAX_SAMPLES = 5_000

#: MiB of distances computed at a time for those silhouettes (5,000 rows: 200 in one block).
SILHOUETTE_BLOCK_MIB = 8

#: The settings of ``network``, ``pretrain`` and ``self_train``, and their defaults.
DEFAULTS = {
    "network": {"hidden_dims": (500, 500, 2000), "decoder_dims": (500,), "alpha": 1.0,
                "scale": "global"},
    "pretrain": {"epochs": 8, "lr": 1e-3, "batch_size": 256, "tsne_weight": 2.0,
                 "perplexity": 10.0},
    "self_train": {"lr": "auto", "batch_size": "auto", "update_interval": "auto", "tol": 1e-3,
                   "consistency_weight": 1.0},
}


def _positive_ints(value) -> bool:
    return isinstance(value, tuple | list) and all(
        isinstance(d, Integral) and not isinstance(d, bool) and d >= 1 for d in value)


def _number(low: float, *, integer: bool = False, closed: str = "neither"):
    kind = Integral if integer else Real
    return lambda v: (isinstance(v, kind) and not isinstance(v, bool)
                      and (v > low or (closed == "left" and v == low)))


#: What each setting accepts (a test of the value, and the words for the error).
_SETTING_CHECKS = {
    "hidden_dims": (_positive_ints, "a tuple of positive integers"),
    "decoder_dims": (lambda v: v is None or v == () or _positive_ints(v),
                     "a tuple of positive integers, () or None"),
    "alpha": (_number(0), "a number > 0"),
    "scale": (lambda v: v in ("global", "standard", "minmax", None),
              "'global', 'standard', 'minmax' or None"),
    "epochs": (_number(0, integer=True, closed="left"), "an integer >= 0"),
    "lr": (_number(0), "a number > 0"),
    "batch_size": (_number(1, integer=True, closed="left"), "an integer >= 1"),
    "tsne_weight": (_number(0, closed="left"), "a number >= 0"),
    "perplexity": (_number(0), "a number > 0"),
    "update_interval": (_number(1, integer=True, closed="left"), "an integer >= 1"),
    "tol": (_number(0, closed="left"), "a number >= 0"),
    "consistency_weight": (_number(0, closed="left"), "a number >= 0"),
}


#: The ``self_train`` settings that take ``"auto"`` (sized to the number of clusters).
_AUTO_SELF_TRAIN = ("lr", "batch_size", "update_interval")


def _silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient of ``labels`` in ``X`` (Euclidean), on at most
    :data:`SILHOUETTE_MAX_SAMPLES` rows drawn with a fixed seed; NaN when it is not defined
    (fewer than 2 clusters among those rows, or as many as rows)."""
    if X.shape[0] > SILHOUETTE_MAX_SAMPLES:  # the rows silhouette_score's sample_size draws,
        # drawn here so that a large X (a memmap) is not validated whole
        rows = np.random.RandomState(0).permutation(X.shape[0])[:SILHOUETTE_MAX_SAMPLES]
        X, labels = X[rows], labels[rows]
    n_labels = np.unique(labels).size
    if n_labels < 2 or n_labels >= X.shape[0]:
        return float("nan")
    with config_context(working_memory=SILHOUETTE_BLOCK_MIB):  # distances in small blocks
        return float(silhouette_score(X, labels))


class _Floor(NamedTuple):
    """What the floor leaves: the labels of every row and the centroids μ (the fallback's
    when it fell back), the silhouette of self-training's labels, and whether it fell back."""

    labels: np.ndarray
    centers: torch.Tensor
    silhouette: float
    fallback: bool


class STCClustering(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Self-training short-text clustering (STC) on precomputed embeddings.

    Implements Hadifar et al. (2019): an MLP autoencoder is pretrained on the (scaled)
    embeddings, k-means on its latent codes gives initial centroids μ, then encoder and
    centroids are refined by self-training: Student-t soft assignments Q, a sharpened
    target P and the loss KL(P ‖ Q). By default two additions make it use the
    neighborhoods of the input: a t-SNE term in the pretraining, and a k-nearest-neighbor
    graph in the self-training (P sharpened from Q averaged over each sample's neighbors,
    and a loss that makes neighbors agree); and a floor: where the final partition has a
    negative mean silhouette in the input, the partition of diffusion + k-means over the
    graph replaces it, distilled into encoder and centroids. The paper's algorithm is
    ``STCClustering(k, init="kmeans", n_neighbors=0, pretrain={"tsne_weight": 0},
    network={"decoder_dims": None})``. Above ``max_samples`` rows the training phases see
    a random subsample, and every row is labelled at the end.

    Read more in the :ref:`User Guide <algorithm>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {"auto", "kmeans"}, callable or array-like of shape (n_clusters, n_components), \
default="auto"
        The start: ``"kmeans"`` runs k-means on the latent codes (the paper); ``"auto"``
        does so below 50 clusters and on codes averaged over the kNN graph from 50 on
        (:func:`skstc.inits.graph_averaged_codes`); a callable ``init(Z, X, neighbors,
        random_state)`` returns a view of the samples for k-means or the centroids
        (recipes in :mod:`skstc.inits`); an array gives the centroids.
    n_components : int, default=20
        Dimension of the latent space (of ``transform``'s output).
    n_neighbors : int, default=10
        Neighbors per sample in the kNN graph of the scaled input that self-training and
        the graph starts use; 0 gives the paper's self-training. Cut to ``n_samples //
        n_clusters - 1`` on small inputs, with a warning. Exact up to 100,000 training
        rows, approximate (pynndescent, the ``fast`` extra) above.
    max_iter : int or "auto", default="auto"
        Maximum number of self-training steps; ``"auto"``: 2,048 rows per cluster, rounded
        up to a whole number of refreshes of P (100 steps of 256 rows for up to 12
        clusters, 200 for 20, 300 steps of 1,024 rows for 150).
    max_samples : int or None, default=50_000
        Above this many samples, the training phases see a random subsample of this size,
        and every sample is labelled at the end; None trains on all of them.
    network : dict, optional
        The model: ``hidden_dims`` (encoder widths, default ``(500, 500, 2000)``),
        ``decoder_dims`` (from the latent space outwards, default ``(500,)``; None
        mirrors the encoder), ``alpha`` (degrees of freedom α of the Student-t kernel,
        1.0), ``scale`` (input scaling fitted on the training rows: ``"global"`` centres
        the columns and divides all by one number, ``"standard"``, ``"minmax"`` or None).
        Keys not given keep their defaults.
    pretrain : dict, optional
        Pretraining: ``epochs`` (8), ``lr`` (1e-3), ``batch_size`` (256),
        ``tsne_weight`` (weight λ of the in-batch t-SNE term, 2.0; 0 is the paper's
        plain autoencoder), ``perplexity`` (of that term, 10.0).
    self_train : dict, optional
        Self-training: ``batch_size`` (``"auto"``: 8 rows per cluster, at least 256 and
        at most 1,024), ``lr`` (``"auto"``: 3e-4 per 256 rows of a batch),
        ``update_interval`` (steps between refreshes of P; ``"auto"``: 25,600 rows, 100
        steps of 256), ``tol`` (stop when fewer labels than this fraction changed between
        refreshes, 1e-3), ``consistency_weight`` (weight of the graph consistency term,
        1.0).
    callbacks : list of Callback, optional
        Notified by the training loops (:mod:`skstc.callbacks`): e.g. ``KeepBest()``
        keeps the refresh whose labels fit the input best, ``CosineLR()`` anneals the
        learning rate. The fit uses copies and keeps them in ``callbacks_``.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to train; "auto" takes CUDA when available.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the training passes: ``"bfloat16"`` is mixed precision; ``"auto"``
        takes it where the hardware computes it natively. Inference is float32.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling and k-means. An int gives identical results on the CPU;
        the global torch and numpy random states are left untouched.
    verbose : int, default=0
        1 logs each phase and shows progress bars (tqdm, the ``progress`` extra);
        2 also logs every epoch and every refresh of P.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (equal to ``predict(X)``).
    init_labels_ : ndarray of shape (n_samples,)
        Labels given by the initial centroids, before self-training.
    silhouette_ : float
        Mean silhouette in the input of self-training's labels (on 5,000 rows drawn with
        a fixed seed, as ``score``); NaN with fewer than 2 clusters.
    fallback_ : bool
        Whether that silhouette was negative, so that ``labels_`` and the model come from
        the floor's fallback (diffusion + k-means, distilled); False without a graph.
    cluster_centers_ : ndarray of shape (n_clusters, n_components)
        Centroids μ in latent space.
    n_iter_ : int
        Number of self-training steps run.
    history_ : dict of list
        ``pretrain_loss`` and ``pretrain_tsne_loss`` per epoch; per refresh of P:
        ``iteration``, ``kl_loss``, ``delta_label``, ``n_empty_clusters`` (and what
        callbacks add); ``time``: seconds per phase (``graph``, ``pretrain``, ``init``,
        ``self_train``, ``label``, ``floor``).
    callbacks_ : list of Callback
        The fitted copies of ``callbacks``.
    settings_ : dict
        The settings the fit used: ``network``, ``pretrain`` and ``self_train`` with their
        defaults filled in, and ``n_neighbors`` (cut to small inputs).
    autoencoder_ : torch.nn.Module
        The trained autoencoder (``autoencoder_.encoder`` maps scaled inputs to codes).
    device_ : torch.device
        Device the model was trained on.
    precision_ : str
        Precision the training passes ran in, ``"float32"`` or ``"bfloat16"``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    References
    ----------
    A. Hadifar, L. Sterckx, T. Demeester, C. Develder. "A Self-Training Approach for
    Short Text Clustering". RepL4NLP workshop at ACL 2019.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skstc import STCClustering
    >>> X, _ = make_blobs(n_samples=300, centers=3, n_features=10, random_state=0)
    >>> stc = STCClustering(n_clusters=3, n_components=5, max_iter=200, random_state=0,
    ...                     network={"hidden_dims": (32,)}, pretrain={"epochs": 20})
    >>> labels = stc.fit_predict(X)
    >>> labels.shape, stc.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
    ((300,), [1.0, 1.0])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "kmeans"}), callable, "array-like"],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "max_samples": [Interval(Integral, 1, None, closed="left"), None],
        "network": [dict, None],
        "pretrain": [dict, None],
        "self_train": [dict, None],
        "callbacks": [list, tuple, None],
        "device": [str, torch.device],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init="auto",
        n_components: int = 20,
        n_neighbors: int = 10,
        max_iter: int | str = "auto",
        max_samples: int | None = 50_000,
        network: dict | None = None,
        pretrain: dict | None = None,
        self_train: dict | None = None,
        callbacks: list[Callback] | None = None,
        device: str | torch.device = "auto",
        precision: str = "auto",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.max_samples = max_samples
        self.network = network
        self.pretrain = pretrain
        self.self_train = self_train
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers
    def _log(self, level: int, msg: str) -> None:
        if self.verbose >= level:
            print(f"[STCClustering] {msg}", file=sys.stdout, flush=True)

    def _settings(self) -> dict:
        """``network``, ``pretrain`` and ``self_train`` merged over :data:`DEFAULTS`."""
        return {group: {**defaults, **(getattr(self, group) or {})}
                for group, defaults in DEFAULTS.items()}

    def _callbacks(self) -> list[Callback]:
        """Copies of ``callbacks``, then the progress bar and the log ``verbose`` asks for."""
        own = [copy.deepcopy(cb) for cb in self.callbacks or ()]
        return own + [ProgressBar()] * (self.verbose >= 1) + [PrintLog()] * (self.verbose >= 2)

    def _n_train(self, n_samples: int) -> int:
        """How many rows the training phases see (``max_samples``)."""
        return n_samples if self.max_samples is None else min(n_samples, self.max_samples)

    def _self_train_sized(self, n_train: int) -> dict:
        """The ``self_train`` settings with ``"auto"`` resolved for ``n_clusters`` and
        ``n_train`` training rows (see :data:`ROWS_PER_CLUSTER`)."""
        st = dict(self._settings()["self_train"])
        if st["batch_size"] == "auto":
            low, high = BATCH_SIZE_RANGE
            st["batch_size"] = max(low, min(BATCH_ROWS_PER_CLUSTER * self.n_clusters, high,
                                            n_train))
        if st["lr"] == "auto":
            st["lr"] = LR_PER_256_ROWS * st["batch_size"] / 256
        if st["update_interval"] == "auto":
            st["update_interval"] = max(1, round(REFRESH_ROWS / st["batch_size"]))
        return st

    def _max_iter(self, st: dict, *, auto: bool = False) -> int:
        """``max_iter`` (or, with ``auto``, its ``"auto"`` value) resolved for the resolved
        ``self_train`` settings ``st``: :data:`ROWS_PER_CLUSTER` rows per cluster, in whole
        refreshes of P."""
        if self.max_iter != "auto" and not auto:
            return self.max_iter
        interval = st["update_interval"]
        steps = -(-ROWS_PER_CLUSTER * self.n_clusters // st["batch_size"])
        return interval * -(-steps // interval)

    def _validate_params(self) -> None:
        """sklearn's checks of the parameters, then those of the settings in the groups."""
        super()._validate_params()
        for group, defaults in DEFAULTS.items():
            for key, value in (getattr(self, group) or {}).items():
                if key not in defaults:
                    raise InvalidParameterError(
                        f"The {group!r} parameter of STCClustering has no setting {key!r}; "
                        f"its settings are {', '.join(defaults)}.")
                valid, words = _SETTING_CHECKS[key]
                if group == "self_train" and key in _AUTO_SELF_TRAIN:
                    valid, words = (lambda v, ok=valid: v == "auto" or ok(v)), f"'auto' or {words}"
                if not valid(value):
                    raise InvalidParameterError(
                        f"The {group!r} parameter of STCClustering needs {key} to be "
                        f"{words}, got {value!r}.")
        for cb in self.callbacks or ():
            if not isinstance(cb, Callback):
                raise InvalidParameterError(
                    f"The 'callbacks' parameter of STCClustering must hold Callback "
                    f"instances, got {cb!r}.")

    def _check_params_vs_input(self, X: np.ndarray) -> None:
        n_samples = X.shape[0]
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        if self.max_samples is not None and self.max_samples < self.n_clusters:
            raise ValueError(
                f"max_samples={self.max_samples} should be >= n_clusters={self.n_clusters}.")
        if self.init is umap_input:
            umap_class("inits.umap_input")  # the ImportError now, before any training
        if not isinstance(self.init, str) and not callable(self.init):
            init = np.asarray(self.init)
            if init.shape != (self.n_clusters, self.n_components):
                raise ValueError(
                    f"init has shape {init.shape}; expected (n_clusters, n_components) = "
                    f"({self.n_clusters}, {self.n_components}).")
            if not np.all(np.isfinite(init)):
                raise ValueError("init contains NaN or infinity.")

    def _validate(self, X, *, reset: bool) -> np.ndarray:
        return validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                             ensure_min_samples=1)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the autoencoder, initialise the centroids, self-train, label, and
        fall back to diffusion + k-means where the labels' silhouette is negative.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense embeddings, one row per text.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : STCClustering
            The fitted estimator.
        """
        X = self._validate(X, reset=True)
        prep = _prepare_validated(self, X)  # subsample, scale, kNN graph, pretrain
        pretrained = (None if prep.neighbors is None  # no graph, no floor to fall back by
                      else copy.deepcopy(prep.autoencoder.encoder.state_dict()))
        with prep.seeded():
            centers, start_labels = self._initial_centroids(prep)  # μ: k-means (init)
            state = self._self_train(prep, centers)  # refine by KL(P ‖ Q)
            labels, init_labels = self._label(prep, state, start_labels)  # argmax Q
            floor = self._floor(prep, labels, state.centers, pretrained)  # keep the input's
        self._store(prep, state, init_labels, floor)
        return self

    def _initial_centroids(self, prep: Prepared):
        """Phase 3: the initial centroids μ (``init``), and the labels they give every row
        when only a subsample trains (None otherwise: self-training records them)."""
        with prep.phase("init") as note:
            # a copy: self-training moves μ in place, and an init array is the user's
            centers = torch.nn.Parameter(torch.tensor(prep.start(), device=prep.device))
            start_labels = None if prep.rows is None else self._label_all_rows(prep, centers)
            name = self.init if isinstance(self.init, str) else (
                getattr(self.init, "__qualname__", "callable") if callable(self.init)
                else "given centroids")
            note["done"] = f"initialised {self.n_clusters} centroids ({name})"
        return centers, start_labels

    def _self_train(self, prep: Prepared, centers):
        """Phase 4: self-training of encoder and centroids."""
        st = prep.settings["self_train"]
        max_iter = self._max_iter(st)
        with prep.phase("self_train") as note:
            state = self_train(
                prep.autoencoder.encoder, centers, prep.Xt,
                alpha=prep.settings["network"]["alpha"], max_iter=max_iter,
                update_interval=st["update_interval"], tol=st["tol"],
                batch_size=st["batch_size"], lr=st["lr"], device=prep.device,
                generator=prep.generator, neighbors=prep.neighbors,
                consistency_weight=st["consistency_weight"],
                autocast_dtype=prep.autocast_dtype, callbacks=prep.callbacks)
            note["done"] = f"self-trained {state.it} of max_iter={max_iter} steps"
            note["detail"] = f", final labels changed {state.history['delta_label'][-1]:.2%}"
        return state

    def _label(self, prep: Prepared, state, start_labels) -> tuple[np.ndarray, np.ndarray]:
        """Phase 5: the labels of every sample after and before self-training. Those of a
        float32 fit on all rows come from its last refresh; otherwise (a subsample, or
        refreshes in mixed precision) every row is encoded here in float32, as ``predict``
        does."""
        with prep.phase("label") as note:
            if prep.rows is None and prep.autocast_dtype is None:
                labels = state.labels.cpu().numpy()
            else:
                labels = self._label_all_rows(prep, state.centers)
            if prep.rows is None:
                init_labels = state.init_labels.cpu().numpy()
            else:
                init_labels = start_labels
                note["detail"] = f" (trained on a random subsample of {len(prep.rows)})"
            note["done"] = f"labelled {len(labels)} samples"
        return labels, init_labels

    def _floor(self, prep: Prepared, labels: np.ndarray, centers,
               pretrained: dict | None) -> _Floor:
        """Phase 6, the floor: when the mean silhouette of ``labels`` in the input is
        negative (the average text is nearer to another cluster than to its own: the codes
        lost the input's clusters), the partition of diffusion + k-means over the kNN graph
        (:func:`~skstc.inits.diffused_input`, k-means as scikit-learn's default) replaces
        it, distilled into the pretrained encoder and new centroids
        (:func:`~skstc._training.distil`), so that ``predict``, ``predict_proba`` and
        ``transform`` agree with it. No graph (``n_neighbors=0``), no floor."""
        with prep.phase("floor") as note:
            silhouette = _silhouette(prep.X, labels)
            note["done"] = f"silhouette of the partition in the input {silhouette:.3f}"
            if prep.neighbors is None or not silhouette < 0:
                return _Floor(labels, centers, silhouette, fallback=False)
            view = diffused_input(None, prep.Xt, prep.neighbors, None)
            km, _ = _kmeans_on_view(view, self.n_clusters, prep.rng, n_init="auto")
            partition = km.predict(view)
            encoder = prep.autoencoder.encoder
            encoder.load_state_dict(pretrained)
            Z = encode(encoder, prep.Xt, prep.device, prep.autocast_dtype).cpu().numpy()
            centers = torch.nn.Parameter(torch.from_numpy(
                mean_codes(Z, partition, view, km.cluster_centers_)).to(prep.device))
            st = prep.settings["self_train"]
            distil(encoder, centers, prep.Xt, torch.from_numpy(partition).long(),
                   alpha=prep.settings["network"]["alpha"],
                   n_steps=self._max_iter(st, auto=True),
                   batch_size=st["batch_size"], lr=DISTIL_LR_FACTOR * st["lr"],
                   device=prep.device, generator=prep.generator,
                   autocast_dtype=prep.autocast_dtype)
            labels = self._label_all_rows(prep, centers)
            note["detail"] = (": negative, so the partition of diffusion + k-means, "
                              "distilled into the model")
        return _Floor(labels, centers, silhouette, fallback=True)

    def _label_all_rows(self, prep: Prepared, centers) -> np.ndarray:
        """argmax Q of every row of the input, block by block, in float32."""
        alpha, encoder = prep.settings["network"]["alpha"], prep.autoencoder.encoder
        return map_scaled(
            lambda Xt: log_q_of_inputs(encoder, centers.detach(), Xt, alpha,
                                       prep.device).argmax(1),
            prep.X, prep.offset, prep.divisor)

    def _store(self, prep: Prepared, state, init_labels: np.ndarray, floor: _Floor) -> None:
        """The fitted attributes, all set here, after training (an interrupted or failed
        fit leaves the estimator as it was); a warning if clusters ended empty."""
        prep.autoencoder.eval()
        self._offset, self._divisor = prep.offset, prep.divisor
        self.autoencoder_ = prep.autoencoder
        self.cluster_centers_ = floor.centers.detach().cpu().numpy()
        self._centers = floor.centers.detach()
        self.silhouette_, self.fallback_ = floor.silhouette, floor.fallback
        self.device_, self.precision_ = prep.device, prep.precision
        self.n_iter_ = state.it
        self.init_labels_ = init_labels
        self.history_ = dict(pretrain_loss=prep.pretrain_losses["reconstruction"],
                             pretrain_tsne_loss=prep.pretrain_losses["tsne"],
                             **state.history, time=prep.timings)
        self.callbacks_ = prep.callbacks[:len(self.callbacks or ())]
        self.settings_ = prep.settings
        self.labels_ = floor.labels  # argmax Q of the final encoder and centroids
        n_used = np.unique(self.labels_).size
        if n_used < self.n_clusters:
            when, advice = (("self-training", ", a smaller lr or fewer max_iter")
                            if self.n_iter_ else ("initialisation (no self-training step ran)", ""))
            warnings.warn(
                f"Only {n_used} of n_clusters={self.n_clusters} clusters hold samples after "
                f"{when} (the others are empty). Consider fewer clusters{advice}.",
                ConvergenceWarning,
                stacklevel=4,  # _store, fit, sklearn's _fit_context, the caller
            )

    # ------------------------------------------------------------------ inference
    def _log_proba(self, Xt: torch.Tensor) -> torch.Tensor:
        device = self._inference_device()
        centers = self._centers.to(device)
        alpha = self.settings_["network"]["alpha"]
        return log_q_of_inputs(self.autoencoder_.encoder, centers, Xt, alpha, device)

    def _inference_device(self) -> torch.device:
        """Where the fitted encoder's weights are: inference never moves the fitted model
        (after unpickling, a CUDA fit's weights are on the CPU, and predict runs there)."""
        return next(self.autoencoder_.parameters()).device

    def _map_validated(self, X, fn) -> tuple[np.ndarray, np.ndarray]:
        """``fn`` of the scaled rows of a validated ``X``, one block of rows at a time (no
        scaled copy of the whole ``X``), and that ``X``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        with torch.no_grad():
            return map_scaled(fn, X, self._offset, self._divisor), X

    def predict(self, X) -> np.ndarray:
        """Cluster of each sample: argmax of the soft assignment Q.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Texts' embeddings to label (new or training ones).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index in ``0..n_clusters-1``.
        """
        return self._map_validated(X, lambda Xt: self._log_proba(Xt).argmax(1))[0]

    def predict_proba(self, X) -> np.ndarray:
        """Soft assignments Q (Student-t kernel, rows sum to one).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Texts' embeddings to assign softly to the clusters.

        Returns
        -------
        Q : ndarray of shape (n_samples, n_clusters)
            Probability of each cluster for each sample.
        """
        q, X = self._map_validated(X, lambda Xt: self._log_proba(Xt).double().exp())
        q /= q.sum(axis=1, keepdims=True)
        return q.astype(X.dtype, copy=False)

    def transform(self, X) -> np.ndarray:
        """Latent codes of ``X`` (the encoder's output).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Texts' embeddings to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Latent codes, of the same float dtype as ``X``.
        """
        Z, X = self._map_validated(
            X, lambda Xt: encode(self.autoencoder_.encoder, Xt, self._inference_device()))
        return Z.astype(X.dtype, copy=False)

    def score(self, X, y=None) -> float:
        """Mean silhouette coefficient of ``predict(X)`` in the input space.

        Computed with Euclidean distances on ``X`` as given (before scaling), on at
        most 5,000 samples drawn with a fixed seed (the floor of ``fit`` checks the same
        value, ``silhouette_``), so that models with different
        hyper-parameters, ``n_clusters`` included, are scored on the same footing.
        Higher is better (at most 1); -1 when all samples fall in one cluster.
        This makes ``GridSearchCV`` usable without a ``scoring`` argument.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
            Mean silhouette coefficient.
        """
        labels, X = self._map_validated(X, lambda Xt: self._log_proba(Xt).argmax(1))
        silhouette = _silhouette(X, labels)
        return -1.0 if np.isnan(silhouette) else silhouette

    # ------------------------------------------------------------------ sklearn glue
    @property
    def _n_features_out(self) -> int:
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = False
        return tags

    def __getstate__(self):
        """Pickle with every tensor on the CPU, so that a CUDA fit loads anywhere."""
        state = dict(super().__getstate__())  # copy: object.__getstate__ returns __dict__ itself
        if "autoencoder_" in state:
            state["autoencoder_"] = cpu_copy(state["autoencoder_"])
            state["_centers"] = state["_centers"].cpu()
        return state
