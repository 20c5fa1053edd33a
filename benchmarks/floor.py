"""A floor for STC: does the silhouette of the final partition in the input flag its losses?

For each labelled set and seed, at the true number of clusters: STC (the library
defaults), k-means (``KMeans(n_init=10)``) and diffusion + k-means
(:class:`skstc.baselines.DiffusionKMeans`), the peers of ``benchmarks/run.py`` on the same
matrix and seed; the ACC of each partition and its mean silhouette in the input
(Euclidean, on the 10,000 rows that ``select_n_clusters`` scores). Then the ACC of two
rules that keep STC's partition unless its silhouette is negative (the average text closer
to another cluster than to its own) and take a peer's partition instead, with their
family-balanced means (``benchmarks/run.py``'s table). The probe for issue #41's "floor by
construction"; the library applies the second rule since 2645a1a (``STCClustering``'s
floor, on ``score``'s 5,000 rows), so STC's column is its partition after the floor,
marked † where the fit fell back (``fallback_``).

Usage (about 25 minutes on 2 CPU cores, the twelve sets)::

    python benchmarks/floor.py --seeds 2 --out floor.md
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np

PEERS = ["k-means", "diffusion+k-means"]


def _silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of ``labels`` in ``X`` on the rows ``select_n_clusters`` scores."""
    import torch

    from skstc.selection import SELECTION_MAX_SAMPLES, compact, fixed_rows, silhouettes

    sub = fixed_rows(len(X), SELECTION_MAX_SAMPLES)
    lab = compact(torch.from_numpy(np.asarray(labels, dtype=np.int64)[sub]))
    return float(silhouettes(torch.from_numpy(np.asarray(X, dtype=np.float64)[sub]), [lab])[0])


def main(argv=None) -> int:
    from run import family_table

    from skstc.datasets import FAMILIES
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import (
        add_benchmark_arguments,
        load_embedded,
        make_method,
        parse_params,
        publish,
        report_preamble,
    )
    from skstc.metrics import cluster_accuracy

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_benchmark_arguments(parser, datasets=[d for sets in FAMILIES.values() for d in sets],
                            embeddings=["minilm"], seeds=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    params = parse_params(args.param)

    rows, records = [], []
    for dataset in args.datasets:
        for embedding in args.embeddings:
            X, y = load_embedded(dataset, embedding, cache_dir=default_cache_dir(),
                                 subsample=args.subsample)
            X, k = np.asarray(X), int(np.unique(y).size)
            for seed in range(args.seed, args.seed + args.seeds):
                acc, sil, fell_back = {}, {}, ""
                for method in ["STC", *PEERS]:
                    model = make_method(method, k, seed, params).fit(X)
                    acc[method] = 100 * cluster_accuracy(y, model.labels_)
                    sil[method] = _silhouette(X, model.labels_)
                    if getattr(model, "fallback_", False):
                        fell_back = " †"
                for peer in PEERS:
                    acc[f"STC, else {peer}"] = acc["STC" if sil["STC"] >= 0 else peer]
                records += [{"dataset": dataset, "embedding": embedding, "method": m,
                             "seed": seed, "split": "all", "ACC": a / 100}
                            for m, a in acc.items()]
                rows.append(f"| {dataset} | {embedding} | {seed} | " + " | ".join(
                    f"{acc[m]:.1f} / {sil[m]:.4f}" + fell_back * (m == "STC")
                    for m in ["STC", *PEERS]) + " | "
                    + " | ".join(f"{acc[f'STC, else {p}']:.1f}" for p in PEERS) + " |")
                print(rows[-1], file=sys.stderr, flush=True)
    report = [
        *report_preamble("## The silhouette of STC's partition as a floor",
                         "python " + shlex.join(sys.argv)),
        f"- Seeds {args.seed}–{args.seed + args.seeds - 1}; the true number of clusters; STC "
        "with the library defaults" + (f" and {shlex.join(args.param)}" if args.param else ""),
        "",
        "| data set | embedding | seed | STC ACC / silhouette | k-means | diffusion + k-means "
        "| STC, else k-means | STC, else diffusion + k-means |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        *family_table(records),
        "",
    ]
    return publish("\n".join(report), args.out)


if __name__ == "__main__":
    sys.exit(main())
