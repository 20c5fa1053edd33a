"""The STCClustering estimator: parameter and input validation around the training loops."""

from __future__ import annotations

import sys
import time
import warnings
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
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._device import cpu_copy, resolve_device, resolve_precision
from ._graph import knn_graph
from ._guard import silhouette_guard
from ._nn import AutoEncoder
from ._scaling import fit_scaling, scaled_tensor
from ._training import (
    encode,
    init_centers,
    log_soft_assign_all,
    log_soft_assign_codes,
    pretrain_autoencoder,
    self_train,
)

#: Smallest ``n_clusters`` for which ``init="auto"`` clusters graph-averaged codes.
GRAPH_INIT_MIN_CLUSTERS = 50


def _is_named(value, name: str) -> bool:
    """``value == name`` for a string ``value``; False for arrays."""
    return isinstance(value, str) and value == name



class STCClustering(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Self-training short-text clustering (STC) on precomputed embeddings.

    Implements Hadifar et al. (2019): an MLP autoencoder is pretrained on the
    (scaled) embeddings, k-means on its latent codes gives initial centroids μ, then
    encoder and centroids are refined by self-training: Student-t soft assignments
    Q, a sharpened target P and the loss KL(P ‖ Q). By default two additions make
    it use the neighborhoods of the input: a t-SNE term in the pretraining, and a
    k-nearest-neighbor graph in the self-training (targets P sharpened from Q
    averaged over each sample's neighbors, and a loss that makes neighbors agree);
    from 50 clusters on, k-means also starts from codes averaged over that graph. A
    guard keeps the self-training refresh whose labels fit the input best, the start
    included. ``neighbor_weight=0, n_neighbors=0, guard=None`` is the paper's algorithm.

    Read more in the :ref:`User Guide <algorithm>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Widths of the encoder's hidden layers (the decoder mirrors them).
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
    neighbor_weight : float, default=2.0
        Weight λ of a neighbor-preserving term in the pretraining: parametric
        t-SNE on each mini-batch, with the Student-t kernel of Q in the latent space,
        so that texts that are neighbors in the input stay neighbors in the space
        that k-means and self-training see. The batch loss is ``MSE + λ · MSE · KL``
        (the second MSE held constant): the term is weighted relative to the current
        reconstruction error, which keeps one λ right for inputs that are easy
        (TF-IDF + SVD) and hard (sentence embeddings) to reconstruct. 0 gives the
        paper's plain autoencoder (see the user guide).
    perplexity : float, default=10.0
        Perplexity of the input affinities of the neighbor term: roughly the
        number of neighbors each sample keeps close, within its mini-batch; cut to a
        third of the batch on fewer rows, with a warning.
    n_neighbors : int, default=10
        Size of the k-nearest-neighbor graph of the scaled input (exact, Euclidean,
        built once after pretraining). In self-training the target P is sharpened
        from Q averaged over each sample and its neighbors, and
        ``consistency_weight`` makes neighbors share clusters; ``init="kmeans-graph"``
        also uses it. 0 gives the paper's self-training. Cut to ``n_samples - 1`` on
        fewer samples, with a warning (see the user guide, "Small inputs"). The graph
        is used in ``fit`` only: ``predict`` labels new texts with the encoder and the
        centroids alone.
    consistency_weight : float, default=1.0
        Weight of the neighbor-consistency loss of the self-training (SCAN, Van
        Gansbeke et al. 2020): ``-log Σ_j q_ij q_lj`` for a sample i of the batch and
        a random neighbor l of it, whose Q is held fixed between refreshes of P (like
        P). 0 turns it off; unused when ``n_neighbors=0``.
    max_iter : int, default=1500
        Maximum number of self-training steps (mini-batches).
    update_interval : int, default=300
        Steps between refreshes of the target P (and of the convergence test).
    tol : float, default=1e-3
        Stop self-training when fewer than this fraction of labels changed between
        two refreshes.
    batch_size : int, default=256
        Mini-batch size of both phases.
    lr : float, default=1e-4
        Adam learning rate of the self-training.
    guard : {"auto", "silhouette"} or None, default="auto"
        Unsupervised guard of the self-training. ``"silhouette"``: every refresh of P
        scores its labels by their silhouette in the scaled input (Euclidean, on at most
        3,000 samples drawn with a fixed seed), and ``fit`` keeps the encoder and
        centroids of the refresh that scored best (the start included; the later of
        equal scores), so self-training never ends below where it started by that
        score. None keeps the last refresh (the paper). ``"auto"`` is ``"silhouette"``
        below 50 clusters and None from 50 on, the threshold of ``init="auto"``: with
        many clusters self-training gains until its last step while the silhouette,
        over a few dozen texts per cluster, peaks early. Read more in the
        :ref:`User Guide <guard>`.
    init : {"auto", "kmeans", "kmeans++", "kmeans-input", "kmeans-graph"} or \
array-like of shape (n_clusters, n_components), default="auto"
        Initial centroids: k-means on the latent codes (``"kmeans"``, the paper);
        k-means++ seeding only; k-means on the scaled input (``"kmeans-input"``) or on
        the codes averaged three times over the nearest-neighbor graph
        (``"kmeans-graph"``, needs ``n_neighbors >= 1``), each centroid then the
        mean code of its cluster; or given centroids in latent space. ``"auto"`` is
        ``"kmeans-graph"`` for ``n_clusters >= 50`` with a graph and ``"kmeans"``
        otherwise: with many clusters k-means on the codes falls into poor local
        minima that the averaged codes avoid, with few it does not, and averaging
        costs accuracy where neighbors often belong to other topics (see the user
        guide).
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
        ``pretrain_loss`` (reconstruction MSE per epoch), ``pretrain_neighbor_loss``
        (neighbor term per epoch, empty when ``neighbor_weight=0``), and per
        refresh of P: ``iteration``, ``kl_loss``, ``delta_label``,
        ``n_empty_clusters`` and, with a guard, ``guard_score``; ``time`` holds the
        seconds spent in each phase (``pretrain``, ``init``, ``graph``, ``self_train``).
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
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "scale": [StrOptions({"standard", "global", "minmax"}), None],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "pretrain_lr": [Interval(Real, 0, None, closed="neither")],
        "neighbor_weight": [Interval(Real, 0, None, closed="left")],
        "perplexity": [Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 0, None, closed="left")],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "update_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "guard": [StrOptions({"auto", "silhouette"}), None],
        "init": [
            StrOptions({"auto", "kmeans", "kmeans++", "kmeans-input", "kmeans-graph"}),
            "array-like",
        ],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Above this many samples, k-means initialisation runs on a random subsample.
    _init_max_samples = 100_000
    #: Above this many samples, neighbors are searched among a random subsample this size.
    _graph_max_candidates = 100_000

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        hidden_dims: tuple[int, ...] = (500, 500, 2000),
        n_components: int = 20,
        alpha: float = 1.0,
        scale: str | None = "global",
        pretrain_epochs: int = 8,
        pretrain_lr: float = 1e-3,
        neighbor_weight: float = 2.0,
        perplexity: float = 10.0,
        n_neighbors: int = 10,
        consistency_weight: float = 1.0,
        max_iter: int = 1500,
        update_interval: int = 300,
        tol: float = 1e-3,
        batch_size: int = 256,
        lr: float = 1e-4,
        guard: str | None = "auto",
        init: str | np.ndarray = "auto",
        n_init: int = 10,
        device: str | torch.device = "auto",
        precision: str = "auto",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.n_components = n_components
        self.alpha = alpha
        self.scale = scale
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.neighbor_weight = neighbor_weight
        self.perplexity = perplexity
        self.n_neighbors = n_neighbors
        self.consistency_weight = consistency_weight
        self.max_iter = max_iter
        self.update_interval = update_interval
        self.tol = tol
        self.batch_size = batch_size
        self.lr = lr
        self.guard = guard
        self.init = init
        self.n_init = n_init
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers
    def _log(self, level: int, msg: str) -> None:
        if self.verbose >= level:
            print(f"[STCClustering] {msg}", file=sys.stdout, flush=True)

    def _init_method(self, n_neighbors: int) -> str | np.ndarray:
        """``init`` with ``"auto"`` resolved (see the class docstring) for a graph of
        ``n_neighbors`` (``"kmeans"`` where a one-sample input leaves no graph)."""
        if _is_named(self.init, "kmeans-graph") and not n_neighbors:
            return "kmeans"
        if not _is_named(self.init, "auto"):
            return self.init
        if n_neighbors and self.n_clusters >= GRAPH_INIT_MIN_CLUSTERS:
            return "kmeans-graph"
        return "kmeans"

    def _check_params_vs_input(self, X: np.ndarray) -> None:
        n_samples = X.shape[0]
        if n_samples < self.n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}."
            )
        if _is_named(self.init, "kmeans-graph") and not self.n_neighbors:
            raise ValueError(
                'init="kmeans-graph" clusters codes averaged over the nearest-neighbor '
                "graph, which n_neighbors=0 turns off; use n_neighbors >= 1 or another init."
            )
        dims = tuple(self.hidden_dims)
        if not all(isinstance(d, Integral) and not isinstance(d, bool) and d >= 1 for d in dims):
            raise ValueError(
                f"hidden_dims must be a tuple of positive integers, got {self.hidden_dims!r}."
            )
        if not isinstance(self.init, str):
            init = np.asarray(self.init)
            if init.shape != (self.n_clusters, self.n_components):
                raise ValueError(
                    f"init has shape {init.shape}; expected (n_clusters, n_components) = "
                    f"({self.n_clusters}, {self.n_components})."
                )
            if not np.all(np.isfinite(init)):
                raise ValueError("init contains NaN or infinity.")

    def _sized_to(self, n_samples: int) -> dict:
        """``n_neighbors`` and ``perplexity`` that fit ``n_samples``, with one warning if changed.

        A sample has at most ``n_samples - 1`` neighbors, and the in-batch t-SNE term
        keeps at most a third of a batch of ``min(batch_size, n_samples)`` rows as
        neighbors (umap-learn and scikit-learn's TSNE likewise cap both).
        """
        sized = {"n_neighbors": min(self.n_neighbors, n_samples - 1),
                 "perplexity": self.perplexity}
        batch = min(self.batch_size, n_samples)
        if self.neighbor_weight > 0 and batch > 2:
            sized["perplexity"] = min(self.perplexity, (batch - 1) / 3)
        changes = [f"{name}={getattr(self, name):g} -> {value:.3g}"
                   for name, value in sized.items() if value != getattr(self, name)]
        if self.n_neighbors and not sized["n_neighbors"]:
            changes.append("the kNN graph is off")
        if self.neighbor_weight > 0 and batch <= 2:
            changes.append("the in-batch t-SNE term is off")
        if changes:
            warnings.warn(
                f"Parameters cut to the input ({n_samples} samples, batches of {batch}): "
                f"{', '.join(changes)}. See the user guide, 'Small inputs'.",
                UserWarning,
                stacklevel=4,  # _sized_to, fit, sklearn's _fit_context, the caller
            )
        return sized

    def _guard_method(self) -> str | None:
        """``guard`` with ``"auto"`` resolved (see the class docstring)."""
        if _is_named(self.guard, "auto"):
            return "silhouette" if self.n_clusters < GRAPH_INIT_MIN_CLUSTERS else None
        return self.guard

    @staticmethod
    def _kept_step(n_iter: int, history: dict) -> int:
        """Steps of the refresh that self-training kept: the guard's best, else the last."""
        scores = history.get("guard_score")
        if not scores:
            return n_iter
        return history["iteration"][len(scores) - 1 - int(np.argmax(scores[::-1]))]

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
        """Pretrain the autoencoder, initialise centroids and self-train.

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
        sized = self._sized_to(X.shape[0])
        n_neighbors = sized["n_neighbors"]
        device = resolve_device(self.device)
        precision = resolve_precision(self.precision, device)
        autocast_dtype = torch.bfloat16 if precision == "bfloat16" else None
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        log = lambda msg: self._log(2, msg)  # noqa: E731
        timings = {}

        # Nothing is stored on self before training ends: an interrupted or failed fit
        # leaves the estimator exactly as it was.
        offset, divisor = fit_scaling(X, self.scale)
        Xt = scaled_tensor(X, offset, divisor)
        if device.type != "cpu":
            Xt = Xt.to(device)
        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            generator = torch.Generator().manual_seed(seed)
            autoencoder = AutoEncoder(X.shape[1], self.hidden_dims, self.n_components).to(device)

            t0 = time.perf_counter()
            pretrain_losses = pretrain_autoencoder(
                autoencoder,
                Xt,
                epochs=self.pretrain_epochs,
                batch_size=self.batch_size,
                lr=self.pretrain_lr,
                device=device,
                generator=generator,
                neighbor_weight=self.neighbor_weight,
                perplexity=sized["perplexity"],
                alpha=self.alpha,
                autocast_dtype=autocast_dtype,
                log=log,
                progress=self.verbose >= 1,
            )
            pretrain_loss = pretrain_losses["reconstruction"]
            timings["pretrain"] = time.perf_counter() - t0
            self._log(
                1,
                f"pretrained {self.pretrain_epochs} epochs in {timings['pretrain']:.1f}s, "
                f"reconstruction MSE {pretrain_loss[-1] if pretrain_loss else float('nan'):.4g}",
            )

            t0 = time.perf_counter()
            neighbors = None
            if n_neighbors:
                candidates = None
                if X.shape[0] > self._graph_max_candidates:
                    candidates = torch.from_numpy(np.sort(rng.choice(
                        X.shape[0], self._graph_max_candidates, replace=False)))
                neighbors = knn_graph(Xt, n_neighbors, device, candidates)
            timings["graph"] = time.perf_counter() - t0
            self._log(1, f"built the {n_neighbors}-nearest-neighbor graph in "
                      f"{timings['graph']:.1f}s")

            t0 = time.perf_counter()
            init = self._init_method(n_neighbors)
            Z = encode(autoencoder.encoder, Xt, device).cpu().numpy()
            centers0 = init_centers(
                Z,
                self.n_clusters,
                X=Xt.cpu().numpy() if _is_named(init, "kmeans-input") else None,
                neighbors=neighbors,
                init=init,
                n_init=self.n_init,
                max_samples=self._init_max_samples,
                random_state=rng,
            )
            centers = torch.nn.Parameter(torch.from_numpy(centers0).to(device))
            init_labels = (
                log_soft_assign_codes(torch.from_numpy(Z), centers.detach().cpu(), self.alpha)
                .argmax(1)
                .numpy()
            )
            timings["init"] = time.perf_counter() - t0
            init_name = init if isinstance(init, str) else "given centroids"
            self._log(1, f"initialised {self.n_clusters} centroids ({init_name}) in "
                      f"{timings['init']:.1f}s")

            t0 = time.perf_counter()
            guarded = self._guard_method() is not None
            n_iter, st_history, labels = self_train(
                autoencoder.encoder,
                centers,
                Xt,
                alpha=self.alpha,
                max_iter=self.max_iter,
                update_interval=self.update_interval,
                tol=self.tol,
                batch_size=self.batch_size,
                lr=self.lr,
                device=device,
                generator=generator,
                neighbors=neighbors,
                consistency_weight=self.consistency_weight,
                autocast_dtype=autocast_dtype,
                guard=silhouette_guard(Xt) if guarded else None,
                log=log,
                progress=self.verbose >= 1,
            )
            timings["self_train"] = time.perf_counter() - t0
            best_iter = self._kept_step(n_iter, st_history)
            self._log(
                1,
                f"self-trained {n_iter} steps in {timings['self_train']:.1f}s, "
                f"final labels changed {st_history['delta_label'][-1]:.2%}"
                + (f"; the guard kept the refresh at step {best_iter}" if guarded else ""),
            )

        autoencoder.eval()
        self._offset, self._divisor = offset, divisor
        self.autoencoder_ = autoencoder
        self.cluster_centers_ = centers.detach().cpu().numpy()
        self._centers = centers.detach()
        self.device_ = device
        self.precision_ = precision
        self.n_iter_ = n_iter
        self.best_iter_ = best_iter
        self.init_labels_ = init_labels
        self.history_ = {
            "pretrain_loss": pretrain_loss,
            "pretrain_neighbor_loss": pretrain_losses["neighbor"],
            **st_history,
            "time": timings,
        }
        # the last refresh of Q saw the final encoder and centroids: its argmax is labels_
        self.labels_ = labels.cpu().numpy()
        n_used = np.unique(self.labels_).size
        if n_used < self.n_clusters:
            warnings.warn(
                f"Only {n_used} of n_clusters={self.n_clusters} clusters hold samples after "
                "self-training (the others are empty). Consider fewer clusters, a smaller "
                "lr or fewer max_iter.",
                ConvergenceWarning,
                stacklevel=3,  # fit, sklearn's _fit_context, the caller
            )
        return self

    # ------------------------------------------------------------------ inference
    def _log_proba(self, Xt: torch.Tensor) -> torch.Tensor:
        device = self._inference_device()
        encoder = self.autoencoder_.encoder.to(device)
        centers = self._centers.to(device)
        return log_soft_assign_all(encoder, centers, Xt, self.alpha, device)

    def _inference_device(self) -> torch.device:
        if self.device_.type == "cuda" and not torch.cuda.is_available():
            return torch.device("cpu")
        return self.device_

    def _validated_and_scaled(self, X) -> tuple[torch.Tensor, np.ndarray]:
        """The scaled float32 tensor of a validated ``X`` (one copy), and that ``X``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return scaled_tensor(X, self._offset, self._divisor), X

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
        Xt, _ = self._validated_and_scaled(X)
        with torch.no_grad():
            return self._log_proba(Xt).argmax(1).cpu().numpy()

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
        Xt, X = self._validated_and_scaled(X)
        with torch.no_grad():
            q = self._log_proba(Xt).double().exp()
        q = q.cpu().numpy()
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
        Xt, X = self._validated_and_scaled(X)
        device = self._inference_device()
        Z = encode(self.autoencoder_.encoder.to(device), Xt, device)
        return Z.cpu().numpy().astype(X.dtype, copy=False)

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
        Xt, X = self._validated_and_scaled(X)
        with torch.no_grad():
            labels = self._log_proba(Xt).argmax(1).cpu().numpy()
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
