"""The front of a fit as one public step, so that whatever looks inside a fit runs fit's code.

:func:`prepare` does what every fit does before the number of clusters matters: validate,
cut the parameters to the input, draw the seeds, subsample (``max_samples``), scale, build
the kNN graph and pretrain the autoencoder. :meth:`STCClustering.fit
<skstc.STCClustering.fit>` continues from it with the start, self-training and the labels;
:func:`~skstc.select_n_clusters` scores a start per candidate k on it; the benchmark of
starts compares :mod:`skstc.inits` on it.

>>> import numpy as np
>>> from skstc import STCClustering
>>> from skstc.stages import prepare
>>> X = np.random.RandomState(0).normal(size=(300, 8)).astype(np.float32)
>>> prep = prepare(STCClustering(4, network={"hidden_dims": (16,)}, pretrain={"epochs": 2},
...                              random_state=0), X)
>>> prep.Z.shape, prep.start().shape, tuple(prep.neighbors.shape)
((300, 20), (4, 20), (300, 10))
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.utils import check_array, check_random_state

from ._device import resolve_device, resolve_precision
from ._nn import AutoEncoder
from ._objective import max_perplexity
from ._scaling import fit_scaling, scaled_tensor
from ._training import encode, log_q_of_codes, pretrain_autoencoder
from .callbacks import Callback
from .graph import candidate_rows, have_pynndescent, knn_graph, nndescent_knn_graph
from .inits import initial_centroids

__all__ = ["Prepared", "prepare"]

#: Up to this many training rows the kNN graph is exact; above, approximate (pynndescent,
#: the ``fast`` extra) when it is installed.
EXACT_GRAPH_MAX_SAMPLES = 100_000

#: Above this many rows, exact neighbors are searched among a random subsample this size.
GRAPH_MAX_CANDIDATES = 100_000


@dataclass
class Prepared:
    """What :func:`prepare` returns: the training rows, their graph and the pretrained model.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The validated input, every row.
    rows : ndarray or None
        Indices of the rows trained on (None: all; see ``max_samples``).
    Xt : torch.Tensor
        The scaled rows trained on, on ``device``; ``offset`` and ``divisor`` scale.
    neighbors : torch.Tensor or None
        Their kNN graph (indices, ``(n_train, k)``), None when ``n_neighbors`` is 0.
    autoencoder : AutoEncoder
        Pretrained; ``Z`` holds the codes of the training rows.
    settings : dict
        The estimator's settings resolved and cut to the input (``network``, ``pretrain``,
        ``self_train`` merged with their defaults; ``n_neighbors``).
    """

    estimator: object
    X: np.ndarray
    rows: np.ndarray | None
    Xt: torch.Tensor
    offset: np.ndarray
    divisor: np.ndarray
    settings: dict
    device: torch.device
    precision: str
    rng: np.random.RandomState
    seed: int
    generator: torch.Generator
    callbacks: list
    log: Callable[[int, str], None]
    neighbors: torch.Tensor | None = None
    autoencoder: AutoEncoder | None = None
    pretrain_losses: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    Z: np.ndarray | None = None

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return torch.bfloat16 if self.precision == "bfloat16" else None

    @contextlib.contextmanager
    def seeded(self):
        """Torch's global generators seeded with the fit's seed inside, restored after."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            yield

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time the phase ``name`` into ``timings`` and log what it set in the note:
        ``note["done"]`` (what was done) and ``note["detail"]`` (after the time)."""
        note = {"done": name, "detail": ""}
        t0 = time.perf_counter()
        yield note
        self.timings[name] = time.perf_counter() - t0
        self.log(1, f"{note['done']} in {self.timings[name]:.1f}s{note['detail']}")

    def labels_of(self, centers: np.ndarray) -> np.ndarray:
        """argmax Q of the codes ``Z`` under the centroids ``centers`` (each code's nearest
        centroid): the labels a start gives the training rows."""
        alpha = self.settings["network"]["alpha"]
        return log_q_of_codes(torch.from_numpy(self.Z), torch.from_numpy(centers),
                              alpha).argmax(1).numpy()

    def start(self, n_clusters: int | None = None, init=None) -> np.ndarray:
        """Initial centroids μ of the codes ``Z`` (``init``, by default the estimator's;
        ``n_clusters``, by default the estimator's), drawing from the fit's random state."""
        est = self.estimator
        return initial_centroids(est.init if init is None else init, self.Z, self.Xt,
                                 self.neighbors, n_clusters or est.n_clusters, self.rng)


def prepare(estimator, X, callbacks: Sequence[Callback] | None = None) -> Prepared:
    """Validate, subsample, scale, build the kNN graph and pretrain, as ``fit`` does.

    Parameters
    ----------
    estimator : STCClustering
        Its parameters are used; it is not changed.
    X : array-like of shape (n_samples, n_features)
        Dense embeddings, one row per text.
    callbacks : list of Callback, optional
        Notified by the pretraining; by default copies of the estimator's (with the
        progress bar and the log its ``verbose`` adds).

    Returns
    -------
    prepared : Prepared
    """
    estimator._validate_params()
    return _prepare_validated(estimator, check_array(X, dtype=[np.float64, np.float32]),
                             callbacks)


def _prepare_validated(estimator, X: np.ndarray,
                      callbacks: Sequence[Callback] | None = None) -> Prepared:
    """:func:`prepare` for parameters and an ``X`` already validated (``fit`` validates
    with scikit-learn's ``validate_data``): no second pass over ``X``."""
    estimator._check_params_vs_input(X)
    prep = _start(estimator, X, estimator._callbacks() if callbacks is None else callbacks)
    with prep.seeded():
        _build_graph(prep)
        _pretrain(prep)
    return prep


def _start(est, X: np.ndarray, callbacks) -> Prepared:
    """Settings cut to the input, device, precision, seeds, the rows trained on (a random
    subsample above ``max_samples``) and their scaled copy."""
    n_train = est._n_train(X.shape[0])
    settings = _sized_to(est, n_train)
    device = resolve_device(est.device)
    rng = check_random_state(est.random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    rows = None
    if n_train < X.shape[0]:
        rows = np.sort(rng.choice(X.shape[0], n_train, replace=False))
    X_train = X if rows is None else X[rows]
    offset, divisor = fit_scaling(X_train, settings["network"]["scale"])
    Xt = scaled_tensor(X_train, offset, divisor)
    return Prepared(estimator=est, X=X, rows=rows,
                    Xt=Xt if device.type == "cpu" else Xt.to(device), offset=offset,
                    divisor=divisor, settings=settings, device=device,
                    precision=resolve_precision(est.precision, device), rng=rng, seed=seed,
                    generator=torch.Generator().manual_seed(seed), callbacks=list(callbacks),
                    log=est._log)


def _sized_to(est, n_samples: int) -> dict:
    """The settings, with ``n_neighbors`` and the perplexity cut to ``n_samples`` (one
    warning if they changed).

    The graph assumes that neighbors share a cluster, so a sample keeps at most
    ``n_samples // n_clusters - 1`` neighbors, as many as a cluster of average size holds
    besides it; the in-batch t-SNE term keeps at most a third of a batch of
    ``min(batch_size, n_samples)`` rows as neighbors (umap-learn and scikit-learn's TSNE
    likewise cap both).
    """
    settings = est._settings()
    pre = settings["pretrain"]
    n_neighbors = max(0, min(est.n_neighbors, n_samples // est.n_clusters - 1))
    batch = min(pre["batch_size"], n_samples)
    perplexity = pre["perplexity"]
    if pre["tsne_weight"] > 0 and batch > 2:
        perplexity = min(perplexity, max_perplexity(batch))
    changes = []
    if n_neighbors != est.n_neighbors:
        changes.append(f"n_neighbors={est.n_neighbors:g} -> {n_neighbors:.3g}")
    if perplexity != pre["perplexity"]:
        changes.append(f"perplexity={pre['perplexity']:g} -> {perplexity:.3g}")
    if est.n_neighbors and not n_neighbors:
        changes.append("the kNN graph is off")
    if pre["tsne_weight"] > 0 and batch <= 2:
        changes.append("the in-batch t-SNE term is off")
    if changes:
        warnings.warn(
            f"Parameters cut to the input ({n_samples} samples, batches of {batch}): "
            f"{', '.join(changes)}. See the user guide, 'Small inputs'.",
            UserWarning, stacklevel=6)  # _sized_to, _start, _prepare_validated, fit, _fit_context
    settings["pretrain"] = {**pre, "perplexity": perplexity}
    settings["self_train"] = est._self_train_sized(n_samples)
    return {**settings, "n_neighbors": n_neighbors}


def _knn_method(n_samples: int) -> str:
    """``"exact"`` up to :data:`EXACT_GRAPH_MAX_SAMPLES` rows (or without pynndescent),
    else ``"nndescent"``."""
    if n_samples > EXACT_GRAPH_MAX_SAMPLES and have_pynndescent():
        return "nndescent"
    return "exact"


def _build_graph(prep: Prepared) -> None:
    """Phase 1: the kNN graph of the scaled input (None when ``n_neighbors`` is 0)."""
    n_neighbors, method = prep.settings["n_neighbors"], _knn_method(len(prep.Xt))
    with prep.phase("graph") as note:
        if n_neighbors and method == "nndescent":
            seed = int(prep.rng.randint(np.iinfo(np.int32).max))
            prep.neighbors = nndescent_knn_graph(prep.Xt, n_neighbors, seed)
        elif n_neighbors:
            candidates = candidate_rows(len(prep.Xt), GRAPH_MAX_CANDIDATES, prep.rng)
            prep.neighbors = knn_graph(prep.Xt, n_neighbors, prep.device, candidates)
        note["done"] = f"built the {n_neighbors}-nearest-neighbor graph ({method})"


def _pretrain(prep: Prepared) -> None:
    """Phase 2: a new autoencoder, pretrained on the scaled input, and its codes ``Z``."""
    net, pre = prep.settings["network"], prep.settings["pretrain"]
    est = prep.estimator
    autoencoder = AutoEncoder(prep.Xt.shape[1], net["hidden_dims"], est.n_components,
                              decoder_dims=net["decoder_dims"]).to(prep.device)
    with prep.phase("pretrain") as note:
        prep.pretrain_losses = pretrain_autoencoder(
            autoencoder, prep.Xt, epochs=pre["epochs"], batch_size=pre["batch_size"],
            lr=pre["lr"], device=prep.device, generator=prep.generator,
            tsne_weight=pre["tsne_weight"], perplexity=pre["perplexity"], alpha=net["alpha"],
            autocast_dtype=prep.autocast_dtype, callbacks=prep.callbacks)
        losses = prep.pretrain_losses["reconstruction"]
        note["done"] = f"pretrained {pre['epochs']} epochs"
        note["detail"] = f", reconstruction MSE {losses[-1] if losses else float('nan'):.4g}"
    prep.autoencoder = autoencoder
    prep.Z = encode(autoencoder.encoder, prep.Xt, prep.device).cpu().numpy()
