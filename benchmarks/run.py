"""Benchmark runner: STC, its variants and its peers on the benchmark sets, same matrix.

For each data set and embedding, the texts are embedded once (cached on disk), then every
method of :mod:`skstc.evaluation` is fitted with each seed on the same matrix and every
sample is scored (ACC / NMI / ARI), with fit seconds and peak resident memory. STC's
parameters are ``--param NAME=VALUE`` (the syntax of ``skstc --param`` and of every
script here: :func:`skstc.evaluation.parse_params`); ``--variant NAME NAME=VALUE ...``
adds an STC fitted with other parameters on the same matrix and seeds (an ablation).
``--holdout 0.1`` adds the held-out protocol: fit on a stratified 90%, label the other
10% with ``predict``.

Every scored labelling is one JSON line of ``--jsonl`` (STC gives two per fit: its start,
``STC before self-training``, and its result); the Markdown report (mean ± std over seeds,
with the machine, the settings and the command) is printed, written to ``--out``, and
made again from JSON lines with ``--report``.

Usage (MiniLM rows of benchmarks/RESULTS.md)::

    python benchmarks/run.py --embeddings minilm --seeds 5 --jsonl minilm.jsonl
    python benchmarks/run.py --report minilm.jsonl --out minilm.md

An ablation (k-means as the reference)::

    python benchmarks/run.py --datasets stackoverflow --embeddings minilm --seeds 2 \
        --methods k-means STC --variant plain pretrain.tsne_weight=0 --variant paper \
        init=kmeans n_neighbors=0 pretrain.tsne_weight=0 network.decoder_dims=none

Smoke run (seconds)::

    python benchmarks/run.py --datasets tweet --embeddings tfidf --seeds 1 \
        --subsample 500 --methods k-means STC --param max_iter=20 --out /tmp/smoke.md
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

from skstc.evaluation import (
    METHODS,
    add_benchmark_arguments,
    parse_params,
    publish,
    report_preamble,
    warm_up,
)

PUBLISHED = """\
| method (source) | StackOverflow ACC/NMI | SearchSnippets ACC/NMI | Biomedical ACC/NMI |
|---|---|---|---|
| STC, Hadifar et al. 2019 (paper) | 59.8 / 54.8 | 77.1 / 56.7 | 54.8 / 47.1 |
| STC², Xu et al. 2017 | 51.1 / 49.0 | 77.0 / 62.9 | 43.6 / 38.1 |
| SCCL, Zhang et al. 2021 (fine-tunes a transformer) | 75.5 / 74.5 | 85.2 / 71.1 | 46.2 / 41.5 |
"""

HEAD = ["| dataset | embedding | method | split | ACC | NMI | ARI | fit s | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|"]


def _cell(mean: float, std: float) -> str:
    return "–" if math.isnan(mean) else f"{mean:.1f} ± {std:.1f}"


def _evaluate(X, y, seeds: list[int], n_jobs: int, **kwargs) -> list[dict]:
    """``evaluate_methods`` over ``seeds``, one process per seed when ``n_jobs`` > 1."""
    from skstc.evaluation import evaluate_methods

    if n_jobs == 1:
        return evaluate_methods(X, y, seeds=seeds, **kwargs)
    from joblib import Parallel, delayed  # fit times then share the machine

    per_seed = Parallel(n_jobs=n_jobs)(
        delayed(evaluate_methods)(X, y, seeds=[seed], **kwargs) for seed in seeds)
    return [row for seed_rows in per_seed for row in seed_rows]


def fit_all(args) -> list[dict]:
    """Every method and variant on every data set and embedding: one record per labelling."""
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded

    stc_params = parse_params(args.param)
    variants = [(name, {**stc_params, **parse_params(assignments)})
                for name, *assignments in args.variant]
    cache = None if args.no_cache else default_cache_dir()
    seeds = list(range(args.seed, args.seed + args.seeds))
    if args.n_jobs == 1:
        warm_up(args.methods, stc_params)
    records = []
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
            for name, params in variants:  # same matrix and seeds, after the others
                if args.n_jobs == 1:
                    warm_up(["STC"], params)
                variant = {**kwargs, "methods": ["STC"], "stc_params": params}
                rows += [{**row, "method": row["method"].replace("STC", f"STC ({name})", 1)}
                         for row in _evaluate(X, y, seeds, args.n_jobs, **variant)]
            records += [{"dataset": dataset, "embedding": embedding, **row} for row in rows]
    return records


def report(records: list[dict], meta: dict) -> str:
    """The Markdown report of ``records``: mean ± std over seeds per input and method."""
    from skstc import STCClustering
    from skstc.evaluation import summarize

    lines, groups = [], {}
    for record in records:
        groups.setdefault((record["dataset"], record["embedding"]), []).append(record)
    for (dataset, embedding), rows in groups.items():
        for s in summarize(rows):
            secs = "–" if math.isnan(s["fit_s"]) else f"{s['fit_s']:.1f}"
            peak = "–" if math.isnan(s["peak_mib"]) else f"{s['peak_mib']:.0f}"
            cells = [_cell(s[m], s[f"{m}_std"]) for m in ("ACC", "NMI", "ARI")]
            lines.append(f"| {dataset} | {embedding} | {s['method']} | {s['split']} | "
                         + " | ".join(cells) + f" | {secs} | {peak} |")
    defaults = {k: v for k, v in STCClustering().get_params().items()
                if k not in ("n_clusters", "random_state", "verbose")}
    seeds = sorted({r["seed"] for r in records})
    out = [
        *report_preamble("# Benchmark results", meta["command"]),
        f"- Seeds: {', '.join(map(str, seeds))} (mean ± std over seeds; every sample scored"
        + (f"; random subsample of {meta['subsample']} texts" if meta.get("subsample") else "")
        + (f"; {meta['n_jobs']} seeds at a time in parallel processes"
           if meta.get("n_jobs", 1) != 1 else "") + ")",
        "- k-means: `KMeans(n_clusters, n_init=10)`; umap+k-means: `UMAPKMeans` (UMAP to 5-d,",
        "  15 neighbors, min_dist 0, cosine, then k-means); diffusion+k-means: `DiffusionKMeans`",
        "  (10-NN cosine graph, 3 smoothing steps, then k-means); all on the same matrix.",
        f"- STC: `STCClustering(n_clusters, random_state=seed)`, defaults {defaults}"
        + (f", with {' '.join(meta['param'])}" if meta.get("param") else "") + ".",
        *(f"- STC ({name}): the same with {' '.join(assignments)}."
          for name, *assignments in meta.get("variant", [])),
        "- `STC before self-training`: the labels of STC's initial centroids (k-means on the",
        "  pretrained latent codes): what STC gives without its self-training step.",
        "- split `all`: fitted on every text and scored on every text. With `--holdout`:",
        "  `train` = fitted and scored on a stratified 90%, `held-out` = the other 10% labelled",
        "  by `predict`, scored with the cluster-to-class mapping of the training texts.",
        "- Embeddings: tfidf = TF-IDF (sublinear tf) + TruncatedSVD(100) + L2; sif = SIF over",
        "  PPMI-SVD word vectors learned on the corpus; minilm = all-MiniLM-L6-v2;",
        "  minilm+tfidf = [minilm, 0.75 × tfidf] side by side.",
        "- fit s: median wall-clock seconds of one fit, after one small warm-up fit of every",
        "  method (imports, umap-learn's numba compilation); peak MiB: largest peak resident",
        "  set size of the process during a fit.",
        "", *HEAD, *lines,
    ]
    out += family_table(records)
    if meta.get("published"):
        out += ["", "Published numbers (as reported in those papers, on their own inputs):",
                "", PUBLISHED]
    return "\n".join(out)


def family_table(records: list[dict]) -> list[str]:
    """Mean ACC per method over the families of :data:`skstc.datasets.FAMILIES` (each
    family the mean of its sets, each set the mean of its seeds; split ``all``), their
    mean (family-balanced) and that mean without each family in turn (leave one family
    out). Empty unless the records span two families or more."""
    from collections import defaultdict

    from skstc.datasets import FAMILIES

    family_of = {name: family for family, names in FAMILIES.items() for name in names}
    acc = defaultdict(list)  # (embedding, method, family, dataset) -> ACC per seed
    for r in records:
        if r.get("split", "all") == "all" and r["dataset"] in family_of:
            acc[(r["embedding"], r["method"], family_of[r["dataset"]], r["dataset"])].append(
                100 * r["ACC"])
    by_family = defaultdict(lambda: defaultdict(list))  # (embedding, method) -> family -> sets
    for (embedding, method, family, _), values in acc.items():
        by_family[(embedding, method)][family].append(sum(values) / len(values))
    families = [f for f in FAMILIES if any(f in fam for fam in by_family.values())]
    if len(families) < 2:
        return []
    lines = ["", "Family-balanced mean ACC (each family the mean of its sets; "
             "\"without F\": the mean of the other families):", "",
             "| embedding | method | " + " | ".join(families) + " | balanced | "
             + " | ".join(f"without {f}" for f in families) + " |",
             "|---" * (3 + 2 * len(families)) + "|"]
    for (embedding, method), fam in sorted(by_family.items()):
        if set(fam) != set(families):
            continue  # a method not run on every family has no balanced mean
        means = {f: sum(fam[f]) / len(fam[f]) for f in families}
        balanced = sum(means.values()) / len(means)
        without = [(sum(means.values()) - means[f]) / (len(means) - 1) for f in families]
        lines.append(f"| {embedding} | {method} | "
                     + " | ".join(f"{means[f]:.1f}" for f in families)
                     + f" | {balanced:.1f} | " + " | ".join(f"{w:.1f}" for w in without) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_benchmark_arguments(parser, datasets=["stackoverflow", "searchsnippets", "biomedical"],
                            embeddings=["tfidf", "sif", "minilm"], seeds=5)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--holdout", type=float, default=None,
                        help="fraction of texts held out of the fit and labelled by predict")
    parser.add_argument("--variant", action="append", default=[], nargs="+",
                        metavar="NAME [NAME=VALUE ...]",
                        help="also fit STC with these parameters, as method 'STC (NAME)', "
                             "after the other methods on the same matrix (repeatable)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="seeds fitted in parallel processes (fit times then share cores)")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--published", action="store_true",
                        help="append the published numbers of STC, STC² and SCCL")
    parser.add_argument("--jsonl", default=None, help="JSON lines file to append records to")
    parser.add_argument("--out", default=None, help="Markdown file to write")
    parser.add_argument("--report", nargs="+", metavar="JSONL",
                        help="only make the report of these JSON lines files")
    args = parser.parse_args(argv)
    if args.report:
        records = [json.loads(line) for path in args.report
                   for line in Path(path).read_text().splitlines() if line.strip()]
        meta = records[0]["meta"]
    else:
        meta = {"command": "python " + shlex.join(sys.argv), "param": args.param,
                "variant": args.variant, "subsample": args.subsample,
                "n_jobs": args.n_jobs, "published": args.published}
        records = [{**record, "meta": meta} for record in fit_all(args)]
        if args.jsonl:
            with open(args.jsonl, "a", encoding="utf-8") as f:
                f.writelines(json.dumps(record, default=float) + "\n" for record in records)
    text = report(records, meta)
    return publish(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
