"""The evaluation protocol shared by ``skstc run`` and the benchmark scripts.

Every compared method is fitted on the *same* matrix with the same seeds, and every
sample is scored (Hungarian ACC, NMI, ARI). Optionally a stratified, seeded held-out
split measures how well a fitted model labels new texts: the methods are fitted on the
rest, and the held-out rows are labelled by ``predict`` and scored with the
cluster-to-class mapping learned on the training rows.

Read more in the :ref:`User Guide <evaluation>`.
"""

from __future__ import annotations

import ast
import os
import platform
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.model_selection import train_test_split

from ._device import native_bfloat16
from .metrics import evaluate

__all__ = [
    "METHODS",
    "MethodSpec",
    "add_benchmark_arguments",
    "evaluate_methods",
    "load_embedded",
    "machine_description",
    "native_bfloat16",
    "make_method",
    "parse_params",
    "publish",
    "report_preamble",
    "summarize",
    "warm_up",
]

def parse_params(assignments: Iterable[str]) -> dict:
    """STCClustering parameters from ``NAME=VALUE`` strings: the one syntax of ``skstc
    --param`` and the benchmark scripts.

    ``NAME`` is a parameter (``max_iter=500``) or a setting of a group
    (``pretrain.tsne_weight=0``, ``network.hidden_dims=64,32``). ``VALUE`` is read as a
    Python literal (``64,32`` is a tuple, ``none`` is None), else as a word (``auto``);
    ``init=NAME`` names a recipe of :mod:`skstc.inits`, ``callbacks=A,B`` classes of
    :mod:`skstc.callbacks` (made with no argument).

    >>> parse_params(["max_iter=500", "pretrain.tsne_weight=0", "init=diffused_input"])
    {'max_iter': 500, 'pretrain': {'tsne_weight': 0}, 'init': <function diffused_input ...>}
    """
    from . import callbacks, inits

    params: dict = {}
    for text in assignments:
        name, sep, raw = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected NAME=VALUE, got {text!r}")
        name = name.strip()
        if name == "init" and raw not in ("auto", "kmeans"):
            value = _named(inits, raw, "skstc.inits")
        elif name == "callbacks":
            value = [_named(callbacks, word.strip(), "skstc.callbacks")()
                     for word in raw.split(",") if word.strip()]
        else:
            value = _literal(raw)
        group, dot, key = name.partition(".")
        if dot:
            params.setdefault(group, {})[key] = value
        else:
            params[name] = value
    return params


def add_benchmark_arguments(parser, *, datasets: Sequence[str], embeddings: Sequence[str],
                            seeds: int = 1) -> None:
    """The options every benchmark script shares: ``--datasets``, ``--embeddings``,
    ``--seeds`` (how many), ``--seed`` (the first), ``--subsample`` and ``--param
    NAME=VALUE`` (STC's parameters, read by :func:`parse_params`)."""
    parser.add_argument("--datasets", nargs="+", default=list(datasets))
    parser.add_argument("--embeddings", nargs="+", default=list(embeddings))
    parser.add_argument("--seeds", type=int, default=seeds, help="how many seeds")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--subsample", type=int, default=None,
                        help="a random subsample of this many texts of each set")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an STCClustering parameter or setting, e.g. max_iter=500, "
                             "pretrain.tsne_weight=0, init=diffused_input (repeatable)")


def publish(report: str, out: str | None = None) -> int:
    """Print a benchmark's Markdown ``report`` and write it to ``out`` when given (with a
    final newline); the exit status 0 of a script's ``main``."""
    if out:
        Path(out).write_text(report.rstrip("\n") + "\n", encoding="utf-8")
    print(report)
    return 0


def _literal(text: str):
    if text.strip().lower() == "none":
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.strip()


def _named(module, name: str, where: str):
    if name.startswith("_") or not hasattr(module, name) or name not in module.__all__:
        raise ValueError(f"{where} has no {name!r}")
    return getattr(module, name)


def _no_other_labels(model) -> dict[str, np.ndarray]:
    return {}


@dataclass(frozen=True)
class MethodSpec:
    """One entry of ``METHODS``: how to build the clusterer, and what else it reports.

    ``build(n_clusters, seed, stc_params)`` returns an unfitted clusterer with ``fit``,
    ``labels_`` and ``predict`` (``stc_params`` matters to STC only);
    ``other_labels(fitted)`` gives further labellings of the same fit, scored as rows of
    their own before the method's, e.g. STC's start before self-training.
    """

    build: Callable[[int, int, dict], object]
    other_labels: Callable[[object], dict[str, np.ndarray]] = _no_other_labels


def _stc(n_clusters: int, seed: int, stc_params: dict):
    from . import STCClustering

    return STCClustering(n_clusters, **{**stc_params, "random_state": seed})


def _umap_kmeans(n_clusters: int, seed: int, stc_params: dict):
    from .baselines import UMAPKMeans

    return UMAPKMeans(n_clusters, random_state=seed)


def _diffusion_kmeans(n_clusters: int, seed: int, stc_params: dict):
    from .baselines import DiffusionKMeans

    return DiffusionKMeans(n_clusters, random_state=seed)


#: Every method of :func:`make_method`, the benchmarks and ``skstc run``, in the order of
#: the benchmark tables: adding one is one entry.
METHODS: dict[str, MethodSpec] = {
    "k-means": MethodSpec(lambda n_clusters, seed, stc_params: KMeans(
        n_clusters, n_init=10, random_state=seed)),
    "umap+k-means": MethodSpec(_umap_kmeans),
    "diffusion+k-means": MethodSpec(_diffusion_kmeans),
    "STC": MethodSpec(
        _stc, other_labels=lambda model: {"STC before self-training": model.init_labels_}),
}


def make_method(name: str, n_clusters: int, seed: int, stc_params: dict | None = None):
    """An unfitted clusterer of the protocol (an entry of ``METHODS``).

    Parameters
    ----------
    name : {"k-means", "umap+k-means", "diffusion+k-means", "STC"}
        ``"k-means"``: ``KMeans(n_init=10)``; ``"umap+k-means"``:
        :class:`~skstc.baselines.UMAPKMeans`; ``"diffusion+k-means"``:
        :class:`~skstc.baselines.DiffusionKMeans`; ``"STC"``:
        :class:`~skstc.STCClustering` with ``stc_params``.
    n_clusters : int
        Number of clusters.
    seed : int
        ``random_state`` of the method.
    stc_params : dict, optional
        Parameters of :class:`~skstc.STCClustering` other than the defaults
        (``random_state`` is always ``seed``).

    Returns
    -------
    estimator : clusterer with ``fit`` and ``predict``

    Examples
    --------
    >>> from skstc.evaluation import make_method
    >>> make_method("k-means", 3, seed=0)
    KMeans(n_clusters=3, n_init=10, random_state=0)
    """
    if name not in METHODS:
        raise ValueError(f"Unknown method {name!r}; choose one of {', '.join(METHODS)}.")
    return METHODS[name].build(n_clusters, seed, stc_params or {})


class _PeakRSS:
    """Peak resident set size of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self):
        self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    def _watch(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def warm_up(methods: Sequence[str], stc_params: dict | None = None) -> None:
    """Fit each method once on a random matrix of 4,200 rows, so that timed fits do not pay a
    process's one-off costs: imports, and the numba compilation of umap-learn (about a
    minute; also for ``STCClustering(init="kmeans-umap")``) and pynndescent.

    Parameters
    ----------
    methods : sequence of str
        Names of ``METHODS``.
    stc_params : dict, default=None
        Parameters of ``STCClustering`` (``"STC"``), as for :func:`make_method`.
    """
    # umap-learn compiles its nearest-neighbor descent, used from 4,096 rows, on first use
    X = np.random.default_rng(0).normal(size=(4200, 16)).astype(np.float32)
    for name in methods:
        make_method(name, 3, seed=0, stc_params={**(stc_params or {}), "max_iter": 2}).fit(X)


def _mapped_accuracy(y_train, labels_train, y_test, labels_test) -> float:
    """ACC of ``labels_test`` under the cluster-to-class matching learned on the training rows.

    Classes are integers; a cluster that has no training row, or is left unmatched,
    counts as an error.
    """
    classes = np.unique(y_train)
    clusters, inverse = np.unique(np.concatenate([labels_train, labels_test]), return_inverse=True)
    n_train = len(labels_train)
    counts = np.zeros((classes.size, clusters.size), dtype=np.int64)
    np.add.at(counts, (np.searchsorted(classes, y_train), inverse[:n_train]), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    cluster_to_class = np.full(clusters.size, -1, dtype=np.int64)
    cluster_to_class[cols] = classes[rows]
    return float(np.mean(cluster_to_class[inverse[n_train:]] == y_test))


def evaluate_methods(
    X: np.ndarray,
    y: np.ndarray,
    *,
    methods: Sequence[str] = tuple(METHODS),
    seeds: Iterable[int] = (0,),
    stc_params: dict | None = None,
    holdout: float | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """Fit each method with each seed on ``X`` and score it against ``y``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The matrix every method clusters.
    y : ndarray of shape (n_samples,)
        Gold classes; the number of clusters is the number of classes.
    methods : sequence of str, default=tuple(METHODS)
        Names of ``METHODS``, every one by default.
    seeds : iterable of int, default=(0,)
        One fit of every method per seed.
    stc_params : dict, optional
        Non-default parameters of :class:`~skstc.STCClustering`.
    holdout : float, optional
        When given, a split seeded by the seed (stratified by class unless a class has
        a single row) keeps this fraction of the rows out of the fit; those rows are
        labelled by ``predict`` and scored with the cluster-to-class mapping of the
        training rows (rows with ``split="held-out"``).
        The training rows are scored too (``split="train"``).
    log : callable, optional
        Called with one line per fit.

    Returns
    -------
    rows : list of dict
        One dict per method, seed and split with keys ``method``, ``seed``, ``split``
        (``"all"``, ``"train"`` or ``"held-out"``), ``ACC``, ``NMI``, ``ARI``,
        ``fit_s`` (seconds) and ``peak_mib`` (peak resident memory of the fit); the other
        labellings of a method (``MethodSpec.other_labels``) give rows of their own,
        e.g. ``"STC before self-training"`` (labels of its initial centroids).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skstc.evaluation import evaluate_methods
    >>> X, y = make_blobs(n_samples=120, centers=3, cluster_std=0.5, random_state=0)
    >>> rows = evaluate_methods(X, y, methods=["k-means"], seeds=[0, 1])
    >>> [(r["method"], r["seed"], r["ACC"]) for r in rows]
    [('k-means', 0, 1.0), ('k-means', 1, 1.0)]
    """
    X = np.asarray(X)
    y = np.asarray(y)
    n_clusters = int(np.unique(y).size)
    # stratified where every class can give a row to both sides
    stratify = y if np.bincount(np.unique(y, return_inverse=True)[1]).min() >= 2 else None
    rows = []
    for seed in seeds:
        if holdout:
            train, test = train_test_split(
                np.arange(len(y)), test_size=holdout, stratify=stratify, random_state=seed
            )
        else:
            train, test = np.arange(len(y)), None
        split = "train" if holdout else "all"
        for name in methods:
            model = make_method(name, n_clusters, seed, stc_params)
            with _PeakRSS() as mem:
                t0 = time.perf_counter()
                labels = model.fit(X[train]).labels_
                seconds = time.perf_counter() - t0
            base = {"method": name, "seed": seed, "split": split}
            for other, other_labels in METHODS[name].other_labels(model).items():
                rows.append({**base, "method": other, **evaluate(y[train], other_labels),
                             "fit_s": float("nan"), "peak_mib": float("nan")})
            rows.append({**base, **evaluate(y[train], labels), "fit_s": seconds,
                         "peak_mib": mem.peak / 2**20})
            if test is not None:
                acc = _mapped_accuracy(y[train], labels, y[test], model.predict(X[test]))
                rows.append({**base, "split": "held-out", "ACC": acc, "NMI": float("nan"),
                             "ARI": float("nan"), "fit_s": float("nan"),
                             "peak_mib": float("nan")})
            if log is not None:
                log(f"seed {seed} {name}: ACC {100 * rows[-1]['ACC']:.1f} ({seconds:.1f}s)")
    return rows


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each method and split.

    Returns one dict per (method, split), in first-seen order, with ``n_seeds`` and,
    for each of ACC, NMI, ARI, the mean and std in percent (``ACC``, ``ACC_std``, ...),
    the median ``fit_s`` and the largest ``peak_mib``.

    Examples
    --------
    >>> from skstc.evaluation import summarize
    >>> rows = [{"method": "k-means", "seed": s, "split": "all", "ACC": a, "NMI": a,
    ...          "ARI": a, "fit_s": 1.0, "peak_mib": 10.0} for s, a in [(0, .5), (1, .7)]]
    >>> summarize(rows)[0]["ACC"], summarize(rows)[0]["ACC_std"]
    (60.0, 10.0)
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row["split"]), []).append(row)
    out = []
    for (method, split), group in groups.items():
        summary = {"method": method, "split": split, "n_seeds": len(group)}
        for metric in ("ACC", "NMI", "ARI"):
            values = 100 * np.array([r[metric] for r in group], dtype=float)
            summary[metric] = float(np.round(values.mean(), 10))
            summary[f"{metric}_std"] = float(np.round(values.std(), 10))
        secs = np.array([r["fit_s"] for r in group], dtype=float)
        peak = np.array([r["peak_mib"] for r in group], dtype=float)
        summary["fit_s"] = float("nan") if np.isnan(secs).all() else float(np.nanmedian(secs))
        summary["peak_mib"] = float("nan") if np.isnan(peak).all() else float(np.nanmax(peak))
        out.append(summary)
    return out


def load_embedded(
    dataset: str,
    embedding: str,
    *,
    data_home=None,
    cache_dir: str | None = None,
    subsample: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A benchmark data set as an embedding matrix and its classes ``0..K-1``.

    ``subsample`` keeps that many texts drawn at random (seed 0). The embedding is cached
    in ``cache_dir`` (see :func:`skstc.embeddings.embed_cached`).
    """
    from .datasets import load_dataset
    from .embeddings import embed_cached

    texts, y = load_dataset(dataset, data_home=data_home, return_X_y=True)
    if subsample and subsample < len(texts):
        idx = np.sort(np.random.RandomState(0).choice(len(texts), subsample, replace=False))
        texts, y = [texts[i] for i in idx], y[idx]
    y = np.unique(y, return_inverse=True)[1]
    return embed_cached(texts, embedding, cache_dir=cache_dir), y


def machine_description() -> str:
    """One line naming the CPU, core count and library versions."""
    import sklearn
    import torch

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), scikit-learn {sklearn.__version__}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.machine()}")


def report_preamble(title: str, command: str, machine_note: str = "") -> list[str]:
    """The first lines of a benchmark report: its title, the command, the date, the machine.

    Parameters
    ----------
    title : str
        The report's heading, Markdown included (``"## Speed and memory"``).
    command : str
        The command line that produced the report.
    machine_note : str, default=""
        Appended to the machine's line (``"; fits ran with 2 torch threads"``).

    Returns
    -------
    lines : list of str
        Markdown lines, to be joined with newlines.

    Examples
    --------
    >>> lines = report_preamble("## Results", "python benchmarks/run.py")
    >>> lines[2].startswith("Produced by `python benchmarks/run.py` on ")
    True
    """
    return [title, "", f"Produced by `{command}` on {time.strftime('%Y-%m-%d')}.", "",
            f"- Machine: {machine_description()}{machine_note}"]
