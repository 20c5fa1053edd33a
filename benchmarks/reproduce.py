"""Benchmark: STC and its peers on the short-text benchmarks, same matrix, several seeds.

For each data set and embedding, the texts are embedded once (cached on disk), then every
method of :mod:`skstc.evaluation` is fitted with each seed on the same matrix and every
sample is scored (ACC / NMI / ARI, mean ± std over seeds), with fit seconds and peak
resident memory. ``--holdout 0.1`` adds the held-out protocol: fit on a stratified 90%,
label the other 10% with ``predict``. Writes a Markdown report with the machine, the
settings, the seeds and the command.

Usage (MiniLM rows of benchmarks/RESULTS.md)::

    python benchmarks/reproduce.py --embeddings minilm --seeds 5 --out minilm.md

Smoke run (seconds)::

    python benchmarks/reproduce.py --datasets tweet --embeddings tfidf --seeds 1 \
        --subsample 500 --methods k-means STC --stc-param max_iter=20 --out /tmp/smoke.md
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

from skstc.evaluation import METHODS, report_preamble, warm_up

PUBLISHED = """\
| method (source) | StackOverflow ACC/NMI | SearchSnippets ACC/NMI | Biomedical ACC/NMI |
|---|---|---|---|
| STC, Hadifar et al. 2019 (paper) | 59.8 / 54.8 | 77.1 / 56.7 | 54.8 / 47.1 |
| STC², Xu et al. 2017 | 51.1 / 49.0 | 77.0 / 62.9 | 43.6 / 38.1 |
| SCCL, Zhang et al. 2021 (fine-tunes a transformer) | 75.5 / 74.5 | 85.2 / 71.1 | 46.2 / 41.5 |
"""


def parse_params(items: list[str]) -> dict:
    """``["max_iter=20", ...]`` -> ``{"max_iter": 20, ...}`` (values are JSON)."""
    params = {}
    for item in items:
        key, _, value = item.partition("=")
        params[key] = json.loads(value)
    return params


def _cell(mean: float, std: float) -> str:
    return "–" if math.isnan(mean) else f"{mean:.1f} ± {std:.1f}"


def _named_params(text: str) -> tuple[str, dict]:
    """``'NAME={"max_iter": 1500}'`` -> ``("NAME", {"max_iter": 1500})``."""
    name, sep, params = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=JSON, got {text!r}")
    return name, json.loads(params)


def _evaluate(X, y, seeds: list[int], n_jobs: int, **kwargs) -> list[dict]:
    """``evaluate_methods`` over ``seeds``, one process per seed when ``n_jobs`` > 1."""
    from skstc.evaluation import evaluate_methods

    if n_jobs == 1:
        return evaluate_methods(X, y, seeds=seeds, **kwargs)
    from joblib import Parallel, delayed  # fit times then share the machine

    per_seed = Parallel(n_jobs=n_jobs)(
        delayed(evaluate_methods)(X, y, seeds=[seed], **kwargs) for seed in seeds)
    return [row for seed_rows in per_seed for row in seed_rows]


def run(args) -> str:
    from skstc import STCClustering
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, summarize

    stc_params = parse_params(args.stc_param)
    cache = None if args.no_cache else default_cache_dir()
    seeds = list(range(args.seed, args.seed + args.seeds))
    if args.n_jobs == 1:
        warm_up(args.methods, stc_params)
    lines = []
    for dataset in args.datasets:
        for embedding in args.embeddings:
            t0 = time.perf_counter()
            X, y = load_embedded(dataset, embedding, cache_dir=cache, subsample=args.subsample)
            print(f"{dataset}/{embedding}: {X.shape} embedded in {time.perf_counter() - t0:.0f}s",
                  file=sys.stderr, flush=True)
            prefix = f"  {dataset}/{embedding}"
            kwargs = dict(methods=args.methods, stc_params=stc_params, holdout=args.holdout,
                          log=lambda msg, p=prefix: print(f"{p} {msg}", file=sys.stderr,
                                                          flush=True))
            rows = _evaluate(X, y, seeds, args.n_jobs, **kwargs)
            for name, params in args.stc_variant:  # same matrix and seeds, after the others
                variant = {**kwargs, "methods": ["STC"], "stc_params": {**stc_params, **params}}
                rows += [{**row, "method": row["method"].replace("STC", f"STC ({name})", 1)}
                         for row in _evaluate(X, y, seeds, args.n_jobs, **variant)]
            for s in summarize(rows):
                secs = "–" if math.isnan(s["fit_s"]) else f"{s['fit_s']:.1f}"
                peak = "–" if math.isnan(s["peak_mib"]) else f"{s['peak_mib']:.0f}"
                cells = [_cell(s[m], s[f"{m}_std"]) for m in ("ACC", "NMI", "ARI")]
                lines.append(f"| {dataset} | {embedding} | {s['method']} | {s['split']} | "
                             + " | ".join(cells) + f" | {secs} | {peak} |")
    settings = {k: v for k, v in STCClustering().get_params().items()
                if k not in ("n_clusters", "random_state", "verbose")}
    settings.update(stc_params)
    report = [
        *report_preamble("# Benchmark results", "python " + shlex.join(sys.argv)),
        f"- Seeds: {', '.join(map(str, seeds))} (mean ± std over seeds; every sample scored"
        + (f"; random subsample of {args.subsample} texts" if args.subsample else "")
        + (f"; {args.n_jobs} seeds at a time in parallel processes" if args.n_jobs != 1
           else "") + ")",
        "- k-means: `KMeans(n_clusters, n_init=10)`; umap+k-means: `UMAPKMeans` (UMAP to 5-d,",
        "  15 neighbors, min_dist 0, cosine, then k-means); diffusion+k-means: `DiffusionKMeans`",
        "  (10-NN cosine graph, 3 smoothing steps, then k-means); all on the same matrix.",
        f"- STC: `STCClustering(n_clusters, random_state=seed)` with {settings}.",
        *(f"- STC ({name}): the same with {params}." for name, params in args.stc_variant),
        "- `STC before self-training`: the labels of STC's initial centroids (k-means on the",
        "  pretrained latent codes): what STC gives without its self-training step.",
        "- split `all`: fitted on every text and scored on every text. With `--holdout`:",
        "  `train` = fitted and scored on a stratified 90%, `held-out` = the other 10% labelled",
        "  by `predict`, scored with the cluster-to-class mapping of the training texts.",
        "- Embeddings: tfidf = TF-IDF (sublinear tf) + TruncatedSVD(100) + L2; sif = SIF over",
        "  PPMI-SVD word vectors learned on the corpus; minilm = all-MiniLM-L6-v2;",
        "  minilm+tfidf = [minilm, 0.75 × tfidf] side by side.",
        "- fit s: median wall-clock seconds of one fit"
        + (", after one small warm-up fit of every method (imports, umap-learn's numba "
           "compilation)" if args.n_jobs == 1 else "")
        + "; peak MiB: largest peak resident set",
        "  size of the process during a fit.",
        "",
        "| dataset | embedding | method | split | ACC | NMI | ARI | fit s | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|",
        *lines,
    ]
    if args.published:
        report += ["", "Published numbers (as reported in those papers, on their own inputs):",
                   "", PUBLISHED]
    return "\n".join(report)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["stackoverflow", "searchsnippets", "biomedical"])
    parser.add_argument("--embeddings", nargs="+", default=["tfidf", "sif", "minilm"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--subsample", type=int, default=None)
    parser.add_argument("--holdout", type=float, default=None,
                        help="fraction of texts held out of the fit and labelled by predict")
    parser.add_argument("--stc-param", action="append", default=[],
                        help="override an STCClustering parameter, e.g. max_iter=500")
    parser.add_argument("--stc-variant", action="append", default=[], type=_named_params,
                        metavar="NAME=JSON",
                        help="also fit STC with these parameters, as method 'STC (NAME)', "
                             "after the other methods in the same run (repeatable)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="seeds fitted in parallel processes (fit times then share cores)")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--published", action="store_true",
                        help="append the published numbers of STC, STC² and SCCL")
    parser.add_argument("--out", default=None, help="Markdown file to write")
    args = parser.parse_args(argv)
    report = run(args)
    if args.out:
        Path(args.out).write_text(report + "\n", encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
