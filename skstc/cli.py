"""The ``skstc`` command: reproduce the benchmarks, or cluster your own texts.

``skstc run`` fits STC and its peers on a benchmark data set with the protocol of
:mod:`skstc.evaluation` and prints ACC / NMI / ARI; ``skstc cluster`` clusters a text
or CSV file and writes the labels. Embeddings are cached on disk with ``joblib.Memory``.
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
from ._stc import STCClustering as _STC
from .datasets import DATASETS
from .embeddings import EMBEDDINGS
from .evaluation import METHODS

_STC_CONSTRAINTS = _STC._parameter_constraints

__all__ = ["main"]


class CLIError(Exception):
    """An error reported as one line on stderr, with exit status 2."""


def _say(args, msg: str) -> None:
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def _cache_dir(args) -> str | None:
    from .embeddings import default_cache_dir

    if args.no_cache:
        return None
    return args.cache_dir or default_cache_dir()


#: Options of the command that set the STCClustering parameter of the same name.
_STC_OPTIONS = ("max_iter", "pretrain_epochs", "update_interval", "batch_size", "lr", "tol",
                "neighbor_weight", "perplexity", "n_neighbors", "consistency_weight")


def _stc_params(args) -> dict:
    """The STCClustering parameters the command line sets (others keep their defaults)."""
    params = dict(init=args.init, device=args.device, precision=args.precision,
                  verbose=0 if args.quiet else args.verbose)
    params.update({name: getattr(args, name) for name in _STC_OPTIONS
                   if getattr(args, name) is not None})
    return params


def _cmd_run(args) -> int:
    from .evaluation import evaluate_methods, load_embedded, summarize

    t0 = time.perf_counter()
    X, y = load_embedded(args.dataset, args.embedding, data_home=args.data_home,
                         cache_dir=_cache_dir(args))
    n_clusters = int(y.max() + 1)
    _say(args, f"loaded {args.dataset} embedded with {args.embedding}: {X.shape}, "
               f"{n_clusters} classes, in {time.perf_counter() - t0:.1f}s")
    seeds = range(args.seed, args.seed + args.runs)
    rows = evaluate_methods(X, y, methods=args.methods, seeds=seeds,
                            stc_params=_stc_params(args), log=lambda msg: _say(args, msg))
    label = f"{args.seed}" if args.runs == 1 else f"{args.seed}..{args.seed + args.runs - 1}"
    print(f"dataset={args.dataset} embedding={args.embedding} n_clusters={n_clusters} "
          f"seeds={label}")
    print(f"{'method':<26} {'ACC':>15} {'NMI':>15} {'ARI':>15} {'fit s':>7}")
    for s in summarize(rows):
        cells = [f"{s[m]:6.2f}" + (f" ± {s[m + '_std']:5.2f}" if args.runs > 1 else "")
                 for m in ("ACC", "NMI", "ARI")]
        secs = "" if np.isnan(s["fit_s"]) else f"{s['fit_s']:.1f}"
        print(f"{s['method']:<26} " + " ".join(f"{c:>15}" for c in cells) + f" {secs:>7}")
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
    from . import STCClustering
    from .embeddings import embed_cached

    path = Path(args.input)
    texts = _read_texts(path, args.column)
    if len(texts) < args.n_clusters:
        raise CLIError(f"{path}: {len(texts)} texts, fewer than --n-clusters {args.n_clusters}")
    _say(args, f"read {len(texts)} texts from {path}")
    t0 = time.perf_counter()
    X = embed_cached(texts, args.embedding, cache_dir=_cache_dir(args))
    _say(args, f"embedded with {args.embedding}: {X.shape} in {time.perf_counter() - t0:.1f}s")
    stc = STCClustering(args.n_clusters, random_state=args.seed, **_stc_params(args))
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
    p.add_argument("--embedding", choices=EMBEDDINGS, default="tfidf",
                   help="text embedding (default: tfidf = TF-IDF + SVD(100) + L2)")
    p.add_argument("--init", choices=sorted(_STC_CONSTRAINTS["init"][0].options),
                   default="kmeans")
    p.add_argument("--max-iter", dest="max_iter", type=int, default=None)
    p.add_argument("--pretrain-epochs", dest="pretrain_epochs", type=int, default=None)
    p.add_argument("--neighbor-weight", dest="neighbor_weight", type=float, default=None,
                   help="weight of the neighbor (t-SNE) term of the pretraining; "
                        "0 = the paper's plain autoencoder")
    p.add_argument("--perplexity", type=float, default=None,
                   help="perplexity of the neighbor term")
    p.add_argument("--n-neighbors", dest="n_neighbors", type=int, default=None,
                   help="size of the k-nearest-neighbor graph of the self-training; "
                        "0 = the paper's self-training")
    p.add_argument("--consistency-weight", dest="consistency_weight", type=float,
                   default=None, help="weight of the neighbor-consistency loss")
    p.add_argument("--update-interval", dest="update_interval", type=int, default=None)
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--tol", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--precision", default="auto",
                   choices=sorted(_STC_CONSTRAINTS["precision"][0].options),
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
    run.add_argument("--dataset", required=True, choices=[*DATASETS, "googlenews"])
    run.add_argument("--runs", type=int, default=1, help="number of seeds (mean ± std)")
    run.add_argument("--methods", nargs="+", default=["k-means", "STC"], choices=METHODS,
                     help="methods to compare on the same matrix (default: k-means STC)")
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
    # the STCClustering options are validated by the estimator; these are the command's own
    for name in ("runs", "top_terms"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
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
