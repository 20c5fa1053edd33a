"""The STCClustering estimator: validation, and the phases of ``fit`` in order.

``fit`` scales the rows it trains on (a random subsample above ``max_samples``), builds
the kNN graph (:func:`~skstc._graph.knn_graph`), pretrains the autoencoder
(:func:`~skstc._training.pretrain_autoencoder`), initialises the centroids
(:func:`~skstc._training.init_centers`), self-trains (:func:`~skstc._training.self_train`)
and labels every row, each phase a small method timed by one phase timer; nothing is
stored on the estimator before the last phase ends.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._device import cpu_copy, resolve_device, resolve_precision
from ._graph import candidate_rows, have_pynndescent, knn_graph, nndescent_knn_graph
from ._guard import silhouette_guard
from ._nn import AutoEncoder
from ._objective import max_perplexity
from ._scaling import fit_scaling, map_scaled, scaled_tensor
from ._training import (
    INITS,
    SelfTrainingResult,
    encode,
    init_centers,
    log_q_of_inputs,
    pretrain_autoencoder,
    self_train,
    umap_class,
)

#: Smallest ``n_clusters`` for which ``init="auto"`` clusters graph-averaged codes.
GRAPH_INIT_MIN_CLUSTERS = 50

#: Self-training steps per cluster of ``max_iter="auto"`` (before rounding up to refreshes).
STEPS_PER_CLUSTER = 10


def _is_named(value, name: str) -> bool:
    """``value == name`` for a string ``value``; False for arrays."""
    return isinstance(value, str) and value == name


def _needs_graph(init) -> bool:
    """Whether ``init`` names an initialisation that needs the kNN graph."""
    return isinstance(init, str) and init in INITS and INITS[init].needs_graph


class _History(dict):
    """``history_``: a dict in which a renamed key still reads, with a FutureWarning."""

    _renamed = {"pretrain_neighbor_loss": "pretrain_tsne_loss"}

    def __missing__(self, key):
        if key in self._renamed:
            warnings.warn(
                f"history_[{key!r}] was renamed history_[{self._renamed[key]!r}] in 0.1.0 "
                "and will be removed in 0.2.0.",
                FutureWarning,
                stacklevel=2,
            )
            return self[self._renamed[key]]
        raise KeyError(key)


@dataclass
class _Fit:
    """What the phases of one ``fit`` share; stored on the estimator only at the end."""

    X: np.ndarray  # the validated input, every row
    rows: np.ndarray | None  # the rows trained on (None: all of them; see max_samples)
    Xt: torch.Tensor  # the scaled rows trained on, on the device
    offset: np.ndarray
    divisor: np.ndarray
    sized: dict  # parameters cut to the input (``_sized_to``)
    device: torch.device
    precision: str
    rng: np.random.RandomState
    seed: int
    generator: torch.Generator
    knn_method: str  # "exact" or "nndescent"
    timings: dict = field(default_factory=dict)
    init_labels: np.ndarray | None = None  # of every row, when only ``rows`` trained

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return torch.bfloat16 if self.precision == "bfloat16" else None


@contextlib.contextmanager
def _seeded_torch(run: _Fit):
    """Torch's global generators seeded with the fit's seed inside, restored after."""
    with torch.random.fork_rng(devices=[run.device] if run.device.type == "cuda" else []):
        torch.manual_seed(run.seed)
        yield


class STCClustering(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Self-training short-text clustering (STC) on precomputed embeddings.

    Implements Hadifar et al. (2019): an MLP autoencoder is pretrained on the
    (scaled) embeddings, k-means on its latent codes gives initial centroids μ, then
    encoder and centroids are refined by self-training: Student-t soft assignments
    Q, a sharpened target P and the loss KL(P ‖ Q). By default two additions make
    it use the neighborhoods of the input: a t-SNE term in the pretraining, and a
    k-nearest-neighbor graph in the self-training (targets P sharpened from Q
    averaged over each sample's neighbors, and a loss that makes neighbors agree);
    from 50 clusters on, k-means also starts from codes averaged over that graph.
    ``guard="silhouette"`` keeps the self-training refresh whose labels fit the input
    best, the start included (for keyword inputs). ``tsne_weight=0, n_neighbors=0,
    decoder_dims=None`` is the paper's algorithm. Above ``max_samples`` rows the training
    phases see a random subsample, and every row is labelled at the end.

    Read more in the :ref:`User Guide <algorithm>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Widths of the encoder's hidden layers.
    decoder_dims : tuple of int or None, default=(500,)
        Widths of the decoder's hidden layers, from the latent space outwards; ``()`` is a
        linear decoder, None mirrors ``hidden_dims`` (the paper's symmetric autoencoder).
        The decoder serves the pretraining only.
    n_components : int, default=20
        Dimension of the latent space.
    alpha : float, default=1.0
        Degrees of freedom α of the Student-t kernel in Q.
    scale : {"global", "standard", "minmax"} or None, default="global"
        Input scaling fitted on the training data: ``"global"`` centres the columns
        and divides all of them by one number (features get unit mean variance, the
        geometry of the embedding is kept); ``"standard"`` standardises each column;
        ``"minmax"`` maps each column to [0, 1]; None leaves X as it is. Constant
        columns are never divided by zero.
    pretrain_epochs : int, default=8
        Epochs of autoencoder pretraining.
    pretrain_lr : float, default=1e-3
        Adam learning rate of the pretraining.
    tsne_weight : float, default=2.0
        Weight λ of the in-batch t-SNE term of the pretraining: parametric t-SNE on
        each mini-batch, with the Student-t kernel of Q in the latent space, so that
        texts that are neighbors in the input stay neighbors in the space that k-means
        and self-training see. The batch loss is ``MSE + λ · MSE · KL`` (the second MSE
        held constant), weighted relative to the current reconstruction error. 0 gives
        the paper's plain autoencoder. Uses no graph.
    perplexity : float, default=10.0
        Perplexity of the input affinities of the in-batch t-SNE term: roughly the
        number of neighbors each sample keeps close, within its mini-batch; cut to a
        third of the batch on fewer rows, with a warning.
    umap_weight : float, default=0.0
        Weight ν of the UMAP term of the pretraining: UMAP's cross-entropy over the
        edges of the kNN graph (``n_neighbors``), each sample drawn towards the codes of
        its graph neighbors and away from 5 random samples per edge, under the
        Student-t kernel of Q (parametric UMAP). Unlike the in-batch t-SNE term it sees
        the neighbors of the whole data set, not of the batch. The batch loss gains
        ``ν · MSE · CE`` (MSE held constant). 0 turns it off; unused when
        ``n_neighbors=0``.
    n_neighbors : int, default=10
        Size of the k-nearest-neighbor graph of the scaled input (Euclidean, built once
        before pretraining; ``umap_weight`` uses it there). In self-training the target
        P is sharpened
        from Q averaged over each sample and its neighbors, and
        ``consistency_weight`` makes neighbors share clusters; ``init="kmeans-graph"``
        also uses it. 0 gives the paper's self-training. Cut to
        ``n_samples // n_clusters - 1`` on small inputs, with a warning (see the user
        guide, "Small inputs"). The graph
        is used in ``fit`` only: ``predict`` labels new texts with the encoder and the
        centroids alone.
    knn_algorithm : {"auto", "exact", "nndescent"}, default="auto"
        How the kNN graph is searched: ``"exact"`` (blocks of distances on ``device``,
        among 100,000 random candidate rows above that size) or ``"nndescent"``
        (approximate nearest-neighbor descent on the CPU, pynndescent, the ``fast``
        extra). ``"auto"`` is ``"nndescent"`` above 100,000 samples when pynndescent is
        installed, else ``"exact"``. Read more in the :ref:`User Guide <large-data>`.
    max_samples : int or None, default=50_000
        Above this many samples, ``fit`` trains on a random subsample of this size (the
        scaling, the kNN graph, pretraining, initialisation and self-training all see only
        it) and then labels every sample with the trained encoder, block by block, so
        that the cost of a fit stops growing with n but for that last pass. None trains
        on every sample. Read more in the :ref:`User Guide <large-data>`.
    consistency_weight : float, default=1.0
        Weight of the graph consistency term of the self-training (SCAN, Van
        Gansbeke et al. 2020): ``-log Σ_j q_ij q_lj`` for a sample i of the batch and
        a random neighbor l of it in the kNN graph, whose Q is held fixed between
        refreshes of P (like P). 0 turns it off; unused when ``n_neighbors=0``.
    max_iter : int or "auto", default="auto"
        Maximum number of self-training steps (mini-batches). ``"auto"``: 10 per
        cluster, rounded up to a whole number of refreshes of P (with the default
        ``update_interval``, 100 for up to 10 clusters, 200 for 20, 1,500 for 150):
        with few clusters self-training gains in its first refreshes and may lose
        later, with many it still gains after 1,000 steps. Read more in the
        :ref:`User Guide <steps>`.
    update_interval : int, default=100
        Steps between refreshes of the target P (and of the convergence test).
    tol : float, default=1e-3
        Stop self-training when fewer than this fraction of labels changed between
        two refreshes.
    batch_size : int, default=256
        Mini-batch size of both phases.
    lr : float, default=3e-4
        Adam learning rate of the self-training.
    lr_schedule : {"constant", "cosine"}, default="constant"
        Learning rate over the self-training steps: ``lr`` throughout, or annealed from
        ``lr`` to 0 over ``max_iter`` steps along half a cosine period (``"cosine"``: the
        late steps move the model less; see the user guide, "The self-training guard").
    guard : {"silhouette"} or None, default=None
        Unsupervised guard of the self-training. ``"silhouette"``: every refresh of P
        scores its labels by their silhouette in the scaled input (Euclidean, on at most
        3,000 samples drawn with a fixed seed), and ``fit`` keeps the encoder and
        centroids of the refresh that scored best (the start included; the later of
        equal scores), so self-training never ends below where it started by that
        score. None keeps the last refresh (the paper). Read more, and when to use it,
        in the :ref:`User Guide <guard>`.
    init : {"auto", "kmeans", "kmeans++", "kmeans-input", "kmeans-graph", \
"kmeans-diffusion", "kmeans-diffused-codes", "kmeans-umap"} or array-like of shape \
(n_clusters, n_components), default="auto"
        Initial centroids: k-means on the latent codes (``"kmeans"``, the paper);
        k-means++ seeding only; k-means on the scaled input (``"kmeans-input"``), on
        the codes averaged three times over the nearest-neighbor graph
        (``"kmeans-graph"``), on the rows of the scaled input L2-normalised and
        averaged so, normalised after each step (``"kmeans-diffusion"``, the features
        of diffusion + k-means) or on the centred codes diffused so
        (``"kmeans-diffused-codes"``; the last three need ``n_neighbors >= 1``), or on
        the scaled input embedded by UMAP (``"kmeans-umap"``, the view of UMAP +
        k-means; needs umap-learn, ``pip install "skstc[umap]"``), each centroid then
        the mean code of its cluster; or given centroids in latent space. ``"auto"`` is
        ``"kmeans-graph"`` for ``n_clusters >= 50`` with a graph and ``"kmeans"``
        otherwise (why: :ref:`User Guide <algorithm>`).
    n_init : int, default=10
        Number of k-means restarts of the k-means inits.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to train; "auto" takes CUDA when available.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the training passes (pretraining and self-training steps).
        ``"bfloat16"``: mixed precision (``torch.autocast``): matrix products in
        bfloat16, weights, optimiser state, Q and P in float32. ``"auto"`` takes
        bfloat16 where the hardware computes it natively (a CUDA GPU with bfloat16
        support; a CPU with AVX512-BF16 or AMX), else float32. Inference
        (``predict``, ``transform``) is always float32. Results differ between the
        two precisions by rounding, like results on different hardware.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and k-means. An int gives identical
        results on CPU across runs. The global torch and numpy random states are
        left untouched.
    verbose : int, default=0
        0 is silent; 1 logs each phase and shows progress bars with an ETA for the
        pretraining epochs and the self-training steps (when tqdm, the ``progress``
        extra, is installed; ``TQDM_DISABLE=1`` hides them); 2 also logs every epoch
        and every refresh of P.
    neighbor_weight : float
        Deprecated alias of ``tsne_weight``: renamed in 0.1.0, removed in 0.2.0.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (equal to ``predict(X)``).
    init_labels_ : ndarray of shape (n_samples,)
        Labels given by the initial centroids, before self-training.
    cluster_centers_ : ndarray of shape (n_clusters, n_components)
        Centroids μ in latent space.
    n_iter_ : int
        Number of self-training steps run.
    best_iter_ : int
        Self-training steps of the refresh whose model was kept (``n_iter_`` without a
        guard; 0 when the guard kept the start).
    history_ : dict of list
        ``pretrain_loss`` (reconstruction MSE per epoch), ``pretrain_tsne_loss``
        (in-batch t-SNE term per epoch, empty when ``tsne_weight=0``),
        ``pretrain_umap_loss`` (UMAP term per epoch, empty when ``umap_weight=0``), and per
        refresh of P: ``iteration``, ``kl_loss``, ``delta_label``,
        ``n_empty_clusters`` and, with a guard, ``guard_score``; ``time`` holds the
        seconds spent in each phase, in the order they run (``graph``, ``pretrain``,
        ``init``, ``self_train``, ``label``: encoding the rows not trained on).
    autoencoder_ : torch.nn.Module
        The trained autoencoder (``autoencoder_.encoder`` maps scaled inputs to the
        latent space).
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
    >>> stc = STCClustering(n_clusters=3, hidden_dims=(32,), n_components=5,
    ...                     pretrain_epochs=20, max_iter=200, random_state=0)
    >>> labels = stc.fit_predict(X)
    >>> labels.shape, stc.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
    ((300,), [1.0, 1.0])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "hidden_dims": [tuple, list],
        "decoder_dims": [tuple, list, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "scale": [StrOptions({"standard", "global", "minmax"}), None],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "pretrain_lr": [Interval(Real, 0, None, closed="neither")],
        "tsne_weight": [Interval(Real, 0, None, closed="left")],
        "perplexity": [Interval(Real, 0, None, closed="neither")],
        "umap_weight": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 0, None, closed="left")],
        "knn_algorithm": [StrOptions({"auto", "exact", "nndescent"})],
        "max_samples": [Interval(Integral, 1, None, closed="left"), None],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "update_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "guard": [StrOptions({"silhouette"}), None],
        "init": [
            StrOptions({"auto", *INITS}),
            "array-like",
        ],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "neighbor_weight": [Interval(Real, 0, None, closed="left"),
                            Hidden(StrOptions({"deprecated"}))],
    }

    #: Above this many samples, k-means initialisation runs on a random subsample.
    _init_max_samples = 100_000
    #: Above this many samples, exact neighbors are searched among a random subsample this size.
    _graph_max_candidates = 100_000
    #: Up to this many samples, ``knn_algorithm="auto"`` searches the graph exactly.
    _exact_graph_max_samples = 100_000

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        hidden_dims: tuple[int, ...] = (500, 500, 2000),
        decoder_dims: tuple[int, ...] | None = (500,),
        n_components: int = 20,
        alpha: float = 1.0,
        scale: str | None = "global",
        pretrain_epochs: int = 8,
        pretrain_lr: float = 1e-3,
        tsne_weight: float = 2.0,
        perplexity: float = 10.0,
        umap_weight: float = 0.0,
        n_neighbors: int = 10,
        knn_algorithm: str = "auto",
        max_samples: int | None = 50_000,
        consistency_weight: float = 1.0,
        max_iter: int | str = "auto",
        update_interval: int = 100,
        tol: float = 1e-3,
        batch_size: int = 256,
        lr: float = 3e-4,
        lr_schedule: str = "constant",
        guard: str | None = None,
        init: str | np.ndarray = "auto",
        n_init: int = 10,
        device: str | torch.device = "auto",
        precision: str = "auto",
        random_state=None,
        verbose: int = 0,
        neighbor_weight: float | str = "deprecated",
    ) -> None:
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.decoder_dims = decoder_dims
        self.n_components = n_components
        self.alpha = alpha
        self.scale = scale
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.tsne_weight = tsne_weight
        self.perplexity = perplexity
        self.umap_weight = umap_weight
        self.n_neighbors = n_neighbors
        self.knn_algorithm = knn_algorithm
        self.max_samples = max_samples
        self.consistency_weight = consistency_weight
        self.max_iter = max_iter
        self.update_interval = update_interval
        self.tol = tol
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.guard = guard
        self.init = init
        self.n_init = n_init
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.neighbor_weight = neighbor_weight

    # ------------------------------------------------------------------ helpers
    def _log(self, level: int, msg: str) -> None:
        if self.verbose >= level:
            print(f"[STCClustering] {msg}", file=sys.stdout, flush=True)

    def _max_iter(self) -> int:
        """``max_iter`` with ``"auto"`` resolved: :data:`STEPS_PER_CLUSTER` steps per
        cluster, rounded up to a whole number of refreshes of P."""
        if not _is_named(self.max_iter, "auto"):
            return self.max_iter
        refreshes = -(-STEPS_PER_CLUSTER * self.n_clusters // self.update_interval)
        return self.update_interval * refreshes

    def _init_method(self, n_neighbors: int, n_clusters: int | None = None) -> str | np.ndarray:
        """``init`` with ``"auto"`` resolved (see the class docstring) for a graph of
        ``n_neighbors`` and ``n_clusters`` clusters (``self.n_clusters`` by default;
        ``"kmeans"`` where a one-sample input leaves no graph)."""
        n_clusters = self.n_clusters if n_clusters is None else n_clusters
        if _needs_graph(self.init) and not n_neighbors:
            return "kmeans"
        if not _is_named(self.init, "auto"):
            return self.init
        if n_neighbors and n_clusters >= GRAPH_INIT_MIN_CLUSTERS:
            return "kmeans-graph"
        return "kmeans"

    def _check_params_vs_input(self, X: np.ndarray) -> None:
        n_samples = X.shape[0]
        if n_samples < self.n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}."
            )
        if self._n_train(n_samples) < self.n_clusters:
            raise ValueError(
                f"max_samples={self.max_samples} should be >= n_clusters={self.n_clusters}."
            )
        if _needs_graph(self.init) and not self.n_neighbors:
            raise ValueError(
                f"init={self.init!r} needs the nearest-neighbor graph, which n_neighbors=0 "
                "turns off; use n_neighbors >= 1 or another init."
            )
        if _is_named(self.init, "kmeans-umap"):
            umap_class('init="kmeans-umap"')  # the ImportError now, before any training
        for name in ("hidden_dims", "decoder_dims"):
            dims = getattr(self, name)
            if dims is None and name == "decoder_dims":
                continue
            if not all(isinstance(d, Integral) and not isinstance(d, bool) and d >= 1
                       for d in dims):
                raise ValueError(f"{name} must be a tuple of positive integers, got {dims!r}.")
        if not isinstance(self.init, str):
            init = np.asarray(self.init)
            if init.shape != (self.n_clusters, self.n_components):
                raise ValueError(
                    f"init has shape {init.shape}; expected (n_clusters, n_components) = "
                    f"({self.n_clusters}, {self.n_components})."
                )
            if not np.all(np.isfinite(init)):
                raise ValueError("init contains NaN or infinity.")

    def _tsne_weight(self) -> float:
        """``tsne_weight``, or the deprecated ``neighbor_weight`` when that is given."""
        if _is_named(self.neighbor_weight, "deprecated"):
            return self.tsne_weight
        warnings.warn(
            "neighbor_weight was renamed tsne_weight in 0.1.0 and will be removed in 0.2.0; "
            "the value given is used as tsne_weight.",
            FutureWarning,
            stacklevel=6,  # _tsne_weight, _sized_to, _start, fit, _fit_context, the caller
        )
        return self.neighbor_weight

    def _sized_to(self, n_samples: int) -> dict:
        """``n_neighbors``, ``perplexity`` and ``tsne_weight`` that fit ``n_samples``,
        with one warning if the first two changed.

        The graph assumes that neighbors share a cluster, so a sample keeps at most
        ``n_samples // n_clusters - 1`` neighbors, as many as a cluster of average size
        holds besides it (at most ``n_samples - 1``; none when clusters average fewer than
        two samples); the in-batch t-SNE term keeps at most a third of a batch of
        ``min(batch_size, n_samples)`` rows as neighbors (umap-learn and scikit-learn's
        TSNE likewise cap both).
        """
        tsne_weight = self._tsne_weight()
        sized = {"n_neighbors": max(0, min(self.n_neighbors, n_samples // self.n_clusters - 1)),
                 "perplexity": self.perplexity}
        batch = min(self.batch_size, n_samples)
        if tsne_weight > 0 and batch > 2:
            sized["perplexity"] = min(self.perplexity, max_perplexity(batch))
        changes = [f"{name}={getattr(self, name):g} -> {value:.3g}"
                   for name, value in sized.items() if value != getattr(self, name)]
        if self.n_neighbors and not sized["n_neighbors"]:
            changes.append("the kNN graph is off")
        if tsne_weight > 0 and batch <= 2:
            changes.append("the in-batch t-SNE term is off")
        if changes:
            warnings.warn(
                f"Parameters cut to the input ({n_samples} samples, batches of {batch}): "
                f"{', '.join(changes)}. See the user guide, 'Small inputs'.",
                UserWarning,
                stacklevel=5,  # _sized_to, _start, fit, sklearn's _fit_context, the caller
            )
        return {**sized, "tsne_weight": tsne_weight}

    def _validate(self, X, *, reset: bool) -> np.ndarray:
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=1,
        )

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the autoencoder, build the kNN graph, initialise centroids, self-train.

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
        self._check_params_vs_input(X)
        run = self._start(X)
        with _seeded_torch(run):
            neighbors = self._build_graph(run)
            autoencoder, pretrain_losses = self._pretrain(run, neighbors)
            centers = self._init_centroids(run, autoencoder.encoder, neighbors)
            result = self._self_train(run, autoencoder.encoder, centers, neighbors)
            labels, init_labels = self._label(run, autoencoder.encoder, centers, result)
        self._store(run, autoencoder, centers, pretrain_losses, result, labels, init_labels)
        return self

    def _n_train(self, n_samples: int) -> int:
        """How many rows the training phases see (``max_samples``)."""
        return n_samples if self.max_samples is None else min(n_samples, self.max_samples)

    def _start(self, X: np.ndarray) -> _Fit:
        """Parameters cut to the input, device, precision, seeds, the rows trained on (a
        random subsample above ``max_samples``) and their scaled copy."""
        n_train = self._n_train(X.shape[0])
        sized = self._sized_to(n_train)
        knn_method = self._knn_method(n_train)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        rows = None
        if n_train < X.shape[0]:
            rows = np.sort(rng.choice(X.shape[0], n_train, replace=False))
        X_train = X if rows is None else X[rows]
        offset, divisor = fit_scaling(X_train, self.scale)
        Xt = scaled_tensor(X_train, offset, divisor)
        return _Fit(X=X, rows=rows, Xt=Xt if device.type == "cpu" else Xt.to(device),
                    offset=offset, divisor=divisor, sized=sized, device=device,
                    precision=resolve_precision(self.precision, device), rng=rng, seed=seed,
                    generator=torch.Generator().manual_seed(seed), knn_method=knn_method)

    def _label_all_rows(self, run: _Fit, encoder, centers) -> np.ndarray:
        """argmax Q of every row of the input, block by block (for a subsampled fit)."""
        return map_scaled(
            lambda Xt: log_q_of_inputs(encoder, centers.detach(), Xt, self.alpha,
                                       run.device).argmax(1),
            run.X, run.offset, run.divisor)

    @contextlib.contextmanager
    def _phase(self, run: _Fit, name: str):
        """Time the phase ``name`` into ``run.timings`` and log what it set in the note:
        ``note["done"]`` (what was done) and ``note["detail"]`` (after the time)."""
        note = {"done": name, "detail": ""}
        t0 = time.perf_counter()
        yield note
        run.timings[name] = time.perf_counter() - t0
        self._log(1, f"{note['done']} in {run.timings[name]:.1f}s{note['detail']}")

    def _pretrain(self, run: _Fit, neighbors) -> tuple[AutoEncoder, dict]:
        """Phase 2: a new autoencoder, pretrained on the scaled input (and its graph)."""
        autoencoder = AutoEncoder(run.Xt.shape[1], self.hidden_dims, self.n_components,
                                  decoder_dims=self.decoder_dims)
        autoencoder = autoencoder.to(run.device)
        with self._phase(run, "pretrain") as note:
            losses = pretrain_autoencoder(
                autoencoder, run.Xt, epochs=self.pretrain_epochs, batch_size=self.batch_size,
                lr=self.pretrain_lr, device=run.device, generator=run.generator,
                tsne_weight=run.sized["tsne_weight"], perplexity=run.sized["perplexity"],
                neighbors=neighbors, umap_weight=self.umap_weight, alpha=self.alpha,
                autocast_dtype=run.autocast_dtype,
                log=lambda msg: self._log(2, msg), progress=self.verbose >= 1,
            )
            last = losses["reconstruction"][-1] if losses["reconstruction"] else float("nan")
            note["done"] = f"pretrained {self.pretrain_epochs} epochs"
            note["detail"] = f", reconstruction MSE {last:.4g}"
        return autoencoder, losses

    def _knn_method(self, n_samples: int) -> str:
        """``knn_algorithm`` with ``"auto"`` resolved (see the class docstring); an
        ImportError now, before any training, when nndescent is asked for but missing.
        pynndescent (seconds to import) is imported only where nndescent may run."""
        if self.knn_algorithm == "exact" or (
                self.knn_algorithm == "auto" and n_samples <= self._exact_graph_max_samples):
            return "exact"
        if have_pynndescent(required=self.knn_algorithm == "nndescent"):
            return "nndescent"
        return "exact"

    def _build_graph(self, run: _Fit) -> torch.Tensor | None:
        """Phase 1: the kNN graph of the scaled input (None when ``n_neighbors`` is 0)."""
        n_neighbors, method = run.sized["n_neighbors"], run.knn_method
        with self._phase(run, "graph") as note:
            neighbors = None
            if n_neighbors and method == "nndescent":
                seed = int(run.rng.randint(np.iinfo(np.int32).max))
                neighbors = nndescent_knn_graph(run.Xt, n_neighbors, seed)
            elif n_neighbors:
                candidates = candidate_rows(len(run.Xt), self._graph_max_candidates, run.rng)
                neighbors = knn_graph(run.Xt, n_neighbors, run.device, candidates)
            note["done"] = f"built the {n_neighbors}-nearest-neighbor graph ({method})"
        return neighbors

    def _init_centroids(self, run: _Fit, encoder, neighbors) -> torch.nn.Parameter:
        """Phase 3: the initial centroids μ (see ``init``)."""
        init = self._init_method(run.sized["n_neighbors"])
        with self._phase(run, "init") as note:
            Z = encode(encoder, run.Xt, run.device).cpu().numpy()
            centers = self._initial_centers(run, Z, neighbors, self.n_clusters)
            centers = torch.nn.Parameter(torch.from_numpy(centers).to(run.device))
            if run.rows is not None:  # the start's labels of the rows not trained on too
                run.init_labels = self._label_all_rows(run, encoder, centers)
            init_name = init if isinstance(init, str) else "given centroids"
            note["done"] = f"initialised {self.n_clusters} centroids ({init_name})"
        return centers

    def _initial_centers(self, run: _Fit, Z: np.ndarray, neighbors, n_clusters: int) -> np.ndarray:
        """``n_clusters`` initial centroids of the codes ``Z`` of the training rows (``init``,
        with ``"auto"`` resolved for that number of clusters)."""
        return init_centers(
            Z, n_clusters, X=run.Xt, neighbors=neighbors,
            init=self._init_method(run.sized["n_neighbors"], n_clusters), n_init=self.n_init,
            max_samples=self._init_max_samples, random_state=run.rng,
        )

    def _self_train(self, run: _Fit, encoder, centers, neighbors) -> SelfTrainingResult:
        """Phase 4: self-training of encoder and centroids, under the guard."""
        guarded = self.guard is not None
        max_iter = self._max_iter()
        with self._phase(run, "self_train") as note:
            result = self_train(
                encoder, centers, run.Xt, alpha=self.alpha, max_iter=max_iter,
                update_interval=self.update_interval, tol=self.tol,
                batch_size=self.batch_size, lr=self.lr, device=run.device,
                generator=run.generator, neighbors=neighbors,
                consistency_weight=self.consistency_weight, lr_schedule=self.lr_schedule,
                autocast_dtype=run.autocast_dtype,
                guard=silhouette_guard(run.Xt) if guarded else None,
                log=lambda msg: self._log(2, msg), progress=self.verbose >= 1,
            )
            note["done"] = f"self-trained {result.n_iter} of max_iter={max_iter} steps"
            note["detail"] = (
                f", final labels changed {result.history['delta_label'][-1]:.2%}"
                + (f"; the guard kept the refresh at step {result.best_iter}" if guarded else "")
            )
        return result

    def _label(self, run: _Fit, encoder, centers,
               result: SelfTrainingResult) -> tuple[np.ndarray, np.ndarray]:
        """Phase 5: the labels of every sample after and before self-training (those of
        the rows trained on come from the last refresh; the other rows of a subsampled
        fit are encoded here)."""
        with self._phase(run, "label") as note:
            if run.rows is None:
                labels = result.labels.cpu().numpy()
                init_labels = result.init_labels.cpu().numpy()
            else:
                labels, init_labels = self._label_all_rows(run, encoder, centers), run.init_labels
            note["done"] = f"labelled {len(labels)} samples"
            if run.rows is not None:
                note["detail"] = f" (trained on a random subsample of {len(run.rows)})"
        return labels, init_labels

    def _store(self, run: _Fit, autoencoder, centers, pretrain_losses, result,
               labels: np.ndarray, init_labels: np.ndarray) -> None:
        """The fitted attributes, all set here, after training (an interrupted or failed
        fit leaves the estimator as it was); a warning if clusters ended empty."""
        autoencoder.eval()
        self._offset, self._divisor = run.offset, run.divisor
        self.autoencoder_ = autoencoder
        self.cluster_centers_ = centers.detach().cpu().numpy()
        self._centers = centers.detach()
        self.device_ = run.device
        self.precision_ = run.precision
        self.n_iter_ = result.n_iter
        self.best_iter_ = result.best_iter
        self.init_labels_ = init_labels
        self.history_ = _History(pretrain_loss=pretrain_losses["reconstruction"],
                                 pretrain_tsne_loss=pretrain_losses["tsne"],
                                 pretrain_umap_loss=pretrain_losses["umap"],
                                 **result.history, time=run.timings)
        # the refresh kept saw the final encoder and centroids: its argmax is labels_
        self.labels_ = labels
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
        return log_q_of_inputs(self.autoencoder_.encoder, centers, Xt, self.alpha, device)

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
        most 5,000 samples drawn with a fixed seed, so that models with different
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
        n_labels = np.unique(labels).size
        if n_labels < 2 or n_labels >= X.shape[0]:
            return -1.0
        sample_size = 5000 if X.shape[0] > 5000 else None
        return float(silhouette_score(X, labels, sample_size=sample_size, random_state=0))

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
