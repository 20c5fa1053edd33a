"""The ``skstc`` command: reproduce the benchmarks, or cluster your own texts.

``skstc run`` fits STC and its peers on a benchmark data set with the protocol of
:mod:`skstc.evaluation` and prints ACC / NMI / ARI; ``skstc cluster`` clusters a text
or CSV file and writes the labels. Embeddings are cached on disk with ``joblib.Memory``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__
from ._stc import GRAPH_INIT_MIN_CLUSTERS
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
                  guard=None if args.guard == "none" else args.guard,
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


def _read_texts(path: Path, column: str | None, encoding: str) -> list[str]:
    if not path.is_file():
        raise CLIError(f"{path}: no such file")
    try:
        with path.open(encoding=encoding, newline="") as f:
            if column is None and path.suffix.lower() != ".csv":
                texts = f.read().split("\n")
                if texts and texts[-1] == "":
                    texts.pop()
                return [t.removesuffix("\r") for t in texts]
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            name = column or (fields[0] if len(fields) == 1 else "text")
            if name not in fields:
                raise CLIError(
                    f"{path}: no column {name!r} (columns: {', '.join(fields)}); use --column"
                )
            return [row[name] or "" for row in reader]
    except UnicodeDecodeError as exc:
        raise CLIError(
            f"{path}: not {encoding} text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); name its encoding with --encoding, e.g. --encoding latin-1"
        ) from None
    except LookupError:
        raise CLIError(f"unknown --encoding {encoding!r}") from None


def _check_writable(path: Path) -> None:
    """Fail now, not after the fit, when ``path`` cannot be written."""
    if path.is_dir():
        raise CLIError(f"{path}: is a folder, not a file to write")
    if not path.parent.is_dir():
        raise CLIError(f"{path.parent}: no such folder for {path.name}")
    try:
        tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as exc:
        raise CLIError(f"{path}: cannot write there ({exc.strerror})") from None


@contextlib.contextmanager
def _atomic_open(path: Path, mode: str = "w", **kwargs):
    """Open a temporary file beside ``path`` that replaces ``path`` only once it is complete.

    An interrupted or failed write leaves ``path`` as it was (absent or the old file).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make the result private
    try:
        with open(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _cmd_cluster(args) -> int:
    from . import STCClustering
    from .embeddings import embed_cached
    from .report import top_terms

    path, out = Path(args.input), Path(args.output)
    report = Path(args.report) if args.report else None
    if report is not None and report.suffix.lower() not in (".html", ".htm", ".png"):
        raise CLIError(f"{report}: --report writes .html or .png files")
    for target in (out, report):
        if target is not None:
            _check_writable(target)
    texts = _read_texts(path, args.column, args.encoding)
    if len(texts) < args.n_clusters:
        raise CLIError(f"{path}: {len(texts)} texts, fewer than --n-clusters {args.n_clusters}")
    _say(args, f"read {len(texts)} texts from {path}")
    t0 = time.perf_counter()
    X = embed_cached(texts, args.embedding, cache_dir=_cache_dir(args),
                     verbose=not args.quiet)
    _say(args, f"embedded with {args.embedding}: {X.shape} in {time.perf_counter() - t0:.1f}s")
    stc = STCClustering(args.n_clusters, random_state=args.seed, **_stc_params(args))
    labels = stc.fit_predict(X)
    conf = stc.predict_proba(X).max(axis=1)
    with _atomic_open(out, encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "cluster", "confidence", "text"])
        for i, (t, c, p) in enumerate(zip(texts, labels, conf)):
            writer.writerow([i, int(c), f"{p:.4f}", t])
    _say(args, f"wrote {out}")
    terms = top_terms(texts, labels, args.top_terms, n_clusters=args.n_clusters)
    if report is not None:
        _write_report(report, texts, labels, conf, stc, X, terms)
        _say(args, f"wrote {report}")
    sizes = np.bincount(labels, minlength=args.n_clusters)
    print(f"{'cluster':>7} {'size':>6}  top terms")
    for j in np.argsort(-sizes):
        print(f"{j:>7} {sizes[j]:>6}  {' '.join(terms[j])}")
    return 0


def _write_report(path: Path, texts, labels, confidence, stc, X, terms) -> None:
    from .report import report_figure, report_html

    if path.suffix.lower() == ".png":
        from .plotting import _pyplot

        fig = report_figure(stc, X, labels)
        with _atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=120)
        _pyplot().close(fig)
        return
    page = report_html(texts, labels, confidence, estimator=stc, X=X, terms=terms,
                       title=f"{len(texts)} texts in {stc.n_clusters} clusters")
    with _atomic_open(path, encoding="utf-8") as f:
        f.write(page)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embedding", choices=EMBEDDINGS, default="tfidf",
                   help="text embedding (default: tfidf = TF-IDF + SVD(100) + L2)")
    p.add_argument("--init", choices=sorted(_STC_CONSTRAINTS["init"][0].options),
                   default="auto",
                   help="initial centroids (default: auto = kmeans-graph from "
                        f"{GRAPH_INIT_MIN_CLUSTERS} clusters on, kmeans below)")
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
    p.add_argument("--guard", choices=["auto", "silhouette", "none"], default="auto",
                   help="silhouette: keep the self-training refresh whose labels have the "
                        "best silhouette in the input, the start included; none: the last; "
                        f"auto (default): silhouette below {GRAPH_INIT_MIN_CLUSTERS} "
                        "clusters, none from there on")
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
    cl.add_argument("--encoding", default="utf-8",
                    help="encoding of the input file (default: utf-8; e.g. latin-1, cp1252)")
    cl.add_argument("--report", default=None, metavar="FILE",
                    help="also write a report: .html (sizes, top terms, representative "
                         "texts, map) or .png (map and sizes)")
    cl.add_argument("--top-terms", dest="top_terms", type=int, default=8)
    _add_common(cl)
    cl.set_defaults(func=_cmd_cluster)
    return parser


@contextlib.contextmanager
def _env(name: str, value: str | None):
    """Set the environment variable ``name`` to ``value`` (None: leave it) while inside."""
    old = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if value is not None:
            if old is None:
                del os.environ[name]
            else:
                os.environ[name] = old


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skstc`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    # the STCClustering options are validated by the estimator; these are the command's own
    for name in ("runs", "top_terms"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    # progress bars only where a person watches: not with --quiet, not into a file or pipe
    bars_off = args.quiet or not sys.stderr.isatty()
    try:
        with _env("TQDM_DISABLE", "1" if bars_off else None):
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
