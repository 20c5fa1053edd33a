"""The ``skstc`` command: reproduce the benchmarks, or cluster your own texts.

``skstc run`` fits STC and a k-means baseline on a benchmark data set and prints
ACC / NMI / ARI with per-phase timings; ``skstc cluster`` clusters a text or CSV
file and writes the labels. Embeddings are cached on disk with ``joblib.Memory``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__

__all__ = ["main"]


class CLIError(Exception):
    """An error reported as one line on stderr, with exit status 2."""


def _say(args, msg: str) -> None:
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def default_cache_dir() -> str:
    """Embedding cache: ``$SKSTC_CACHE``, else ``$XDG_CACHE_HOME/skstc`` or ``~/.cache/skstc``."""
    if os.environ.get("SKSTC_CACHE"):
        return os.environ["SKSTC_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skstc")


def _cache_dir(args) -> str | None:
    if args.no_cache:
        return None
    return args.cache_dir or default_cache_dir()


def _embed_texts(texts: list[str], embedding: str, seed: int) -> np.ndarray:
    from .embeddings import make_embedding

    return np.asarray(make_embedding(embedding, random_state=seed).fit_transform(texts),
                      dtype=np.float32)


def embed(texts: list[str], embedding: str, *, cache_dir: str | None, seed: int = 0):
    """Embed ``texts``, reusing an on-disk cache keyed by the texts, embedding and seed."""
    if cache_dir is None:
        return _embed_texts(texts, embedding, seed)
    from joblib import Memory

    return Memory(cache_dir, verbose=0).cache(_embed_texts)(texts, embedding, seed)


def _stc(args, n_clusters: int, seed: int):
    from . import STCClustering

    params = dict(
        n_clusters=n_clusters,
        init=args.init,
        random_state=seed,
        device=args.device,
        precision=args.precision,
        verbose=0 if args.quiet else args.verbose,
    )
    for name in ("max_iter", "pretrain_epochs", "update_interval", "batch_size", "lr", "tol",
                 "neighbor_weight", "perplexity"):
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    return STCClustering(**params)


def _cmd_run(args) -> int:
    from sklearn.cluster import KMeans

    from .datasets import load_dataset
    from .metrics import evaluate

    texts, y = load_dataset(args.dataset, data_home=args.data_home, return_X_y=True)
    n_clusters = args.n_clusters or int(y.max() + 1)
    _say(args, f"loaded {args.dataset}: {len(texts)} texts, {n_clusters} clusters")
    t0 = time.perf_counter()
    X = embed(texts, args.embedding, cache_dir=_cache_dir(args))
    t_embed = time.perf_counter() - t0
    _say(args, f"embedded with {args.embedding}: {X.shape} in {t_embed:.1f}s")

    rows = {"k-means": [], "STC (before self-training)": [], "STC": []}
    times = {"k-means": [], "pretrain": [], "init": [], "self_train": []}
    for run in range(args.runs):
        seed = args.seed + run
        t0 = time.perf_counter()
        km = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(X)
        times["k-means"].append(time.perf_counter() - t0)
        rows["k-means"].append(evaluate(y, km))
        _say(args, f"seed {seed}: fitting STC")
        stc = _stc(args, n_clusters, seed)
        labels = stc.fit_predict(X)
        rows["STC (before self-training)"].append(evaluate(y, stc.init_labels_))
        rows["STC"].append(evaluate(y, labels))
        for phase in ("pretrain", "init", "self_train"):
            times[phase].append(stc.history_["time"][phase])
        if not args.quiet:
            print(f"seed {seed}: k-means ACC {rows['k-means'][-1]['ACC']:.4f}, "
                  f"STC ACC {rows['STC'][-1]['ACC']:.4f}", file=sys.stderr, flush=True)

    seeds = f"{args.seed}" if args.runs == 1 else f"{args.seed}..{args.seed + args.runs - 1}"
    print(f"dataset={args.dataset} embedding={args.embedding} n_clusters={n_clusters} "
          f"seeds={seeds} init={args.init}")
    print(f"{'method':<28} {'ACC':>15} {'NMI':>15} {'ARI':>15}")
    for method, scores in rows.items():
        cells = []
        for metric in ("ACC", "NMI", "ARI"):
            v = np.array([s[metric] for s in scores]) * 100
            cells.append(f"{v.mean():6.2f}" + (f" ± {v.std():5.2f}" if args.runs > 1 else ""))
        print(f"{method:<28} " + " ".join(f"{c:>15}" for c in cells))
    print("seconds per run: embedding {:.1f} (once, cached after), k-means {:.1f}, "
          "pretrain {:.1f}, init {:.1f}, self-training {:.1f}".format(
              t_embed, *(float(np.mean(times[k])) for k in times)))
    return 0


def _read_texts(path: Path, column: str | None) -> list[str]:
    if not path.is_file():
        raise CLIError(f"{path}: no such file")
    if column is None and path.suffix.lower() != ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            texts = f.read().split("\n")
        if texts and texts[-1] == "":
            texts.pop()
        return texts
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        name = column or (fields[0] if len(fields) == 1 else "text")
        if name not in fields:
            raise CLIError(
                f"{path}: no column {name!r} (columns: {', '.join(fields)}); use --column"
            )
        return [row[name] or "" for row in reader]


def _top_terms(texts: list[str], labels: np.ndarray, n_clusters: int, n_terms: int):
    """The terms with the largest summed TF-IDF weight in each cluster."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    try:
        W = vec.fit_transform(texts)
    except ValueError:  # empty vocabulary
        return [[] for _ in range(n_clusters)]
    vocab = vec.get_feature_names_out()
    out = []
    for j in range(n_clusters):
        weight = np.asarray(W[labels == j].sum(axis=0)).ravel()
        out.append([vocab[i] for i in np.argsort(-weight)[:n_terms] if weight[i] > 0])
    return out


def _cmd_cluster(args) -> int:
    path = Path(args.input)
    texts = _read_texts(path, args.column)
    if len(texts) < args.n_clusters:
        raise CLIError(f"{path}: {len(texts)} texts, fewer than --n-clusters {args.n_clusters}")
    _say(args, f"read {len(texts)} texts from {path}")
    t0 = time.perf_counter()
    X = embed(texts, args.embedding, cache_dir=_cache_dir(args))
    _say(args, f"embedded with {args.embedding}: {X.shape} in {time.perf_counter() - t0:.1f}s")
    stc = _stc(args, args.n_clusters, args.seed)
    labels = stc.fit_predict(X)
    out = Path(args.output)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "cluster", "confidence", "text"])
        conf = stc.predict_proba(X).max(axis=1)
        for i, (t, c, p) in enumerate(zip(texts, labels, conf)):
            writer.writerow([i, int(c), f"{p:.4f}", t])
    sizes = np.bincount(labels, minlength=args.n_clusters)
    terms = _top_terms(texts, labels, args.n_clusters, args.top_terms)
    print(f"{'cluster':>7} {'size':>6}  top terms")
    for j in np.argsort(-sizes):
        print(f"{j:>7} {sizes[j]:>6}  {' '.join(terms[j])}")
    _say(args, f"wrote {out}")
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embedding", choices=("tfidf", "sif", "minilm"), default="tfidf",
                   help="text embedding (default: tfidf = TF-IDF + SVD(100) + L2)")
    p.add_argument("--init", choices=("kmeans", "kmeans++", "kmeans-input"), default="kmeans")
    p.add_argument("--max-iter", dest="max_iter", type=int, default=None)
    p.add_argument("--pretrain-epochs", dest="pretrain_epochs", type=int, default=None)
    p.add_argument("--neighbor-weight", dest="neighbor_weight", type=float, default=None,
                   help="weight of the neighbourhood (t-SNE) term of the pretraining; "
                        "0 = the paper's plain autoencoder")
    p.add_argument("--perplexity", type=float, default=None,
                   help="perplexity of the neighbourhood term")
    p.add_argument("--update-interval", dest="update_interval", type=int, default=None)
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--tol", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="arithmetic of the training passes (auto: bfloat16 where native)")
    p.add_argument("--data-home", dest="data_home", default=None,
                   help="folder of the data sets (default: $SKSTC_DATA or ~/skstc_data)")
    p.add_argument("--cache-dir", dest="cache_dir", default=None,
                   help="embedding cache (default: $SKSTC_CACHE or ~/.cache/skstc)")
    p.add_argument("--no-cache", dest="no_cache", action="store_true",
                   help="do not read or write the embedding cache")
    p.add_argument("-q", "--quiet", action="store_true", help="print results only")
    p.add_argument("-v", "--verbose", action="count", default=1,
                   help="more progress output (repeatable)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skstc", description="Self-training short-text clustering (Hadifar et al., 2019)."
    )
    parser.add_argument("--version", action="version", version=f"skstc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="STC vs k-means on a benchmark data set")
    run.add_argument("--dataset", required=True,
                     choices=("stackoverflow", "searchsnippets", "biomedical", "tweet",
                              "googlenews", "googlenews-TS", "googlenews-T", "googlenews-S",
                              "agnews"))
    run.add_argument("--runs", type=int, default=1, help="number of seeds (mean ± std)")
    run.add_argument("--n-clusters", dest="n_clusters", type=int, default=None,
                     help="default: the number of classes")
    _add_common(run)
    run.set_defaults(func=_cmd_run)

    cl = sub.add_parser("cluster", help="cluster your own texts")
    cl.add_argument("input", help="text file (one text per line) or CSV file")
    cl.add_argument("--n-clusters", dest="n_clusters", type=int, required=True)
    cl.add_argument("-o", "--output", required=True, help="CSV file of labels to write")
    cl.add_argument("--column", default=None, help="CSV column holding the texts")
    cl.add_argument("--top-terms", dest="top_terms", type=int, default=8)
    _add_common(cl)
    cl.set_defaults(func=_cmd_cluster)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skstc`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    for name in ("runs", "n_clusters", "max_iter", "pretrain_epochs", "update_interval",
                 "batch_size", "top_terms"):
        value = getattr(args, name, None)
        if value is not None and value < (0 if name in ("max_iter", "pretrain_epochs") else 1):
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.quiet:
        os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("skstc: interrupted", file=sys.stderr)
        return 130
    except (CLIError, FileNotFoundError, OSError, ValueError, ImportError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"skstc: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
