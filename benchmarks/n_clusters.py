"""Benchmark: choosing the number of clusters without labels, against the true number.

For each data set (MiniLM embeddings by default) the number of clusters is chosen by:

- ``select_n_clusters``: :func:`skstc.select_n_clusters` with its default candidates;
- ``k-means silhouette``: the candidate whose k-means partition of the input (one run)
  has the highest silhouette (same candidates, same 3,000-row subsample size);
- ``UMAP + HDBSCAN``: the BERTopic recipe, UMAP to 5 dimensions (15 neighbors, min_dist
  0, cosine) then scikit-learn's HDBSCAN (``min_cluster_size=10``); its number of
  clusters, and the share of texts it calls outliers.

Then STC is fitted with each chosen k and with the true k (library defaults, the same
seed) and scored against the classes by NMI and ARI: NMI, not Hungarian ACC, is fair
when k differs. HDBSCAN's own partition is scored too (its outliers as one cluster).

Usage (about 35 minutes on 2 CPU cores, the twelve sets of the development suite)::

    python benchmarks/n_clusters.py --out n_clusters.md

With ``--criteria``, no STC fit and no peer: the number of clusters each candidate
criterion chooses from the same pretrained model and the same partitions of its codes
(those of ``select_n_clusters``): the silhouette in the scaled input on 10,000 rows (what
``select_n_clusters`` uses) and on 3,000 (the self-training guard's), the silhouette of
the latent codes, the Calinski–Harabasz index in the input, and the modularity of the
partition on the kNN graph (about 10 minutes)::

    python benchmarks/n_clusters.py --criteria --out criteria.md

With ``--range``, no peer: the k that ``select_n_clusters`` recommends, the candidates
within the measured noise of the best score and the range it reports (those within a
fifth of the best score), whether the true k lies in each, and STC's NMI at the true k
and at the recommended k (about 20 minutes on the twelve sets)::

    python benchmarks/n_clusters.py --range --out range.md

Smoke run (seconds)::

    python benchmarks/n_clusters.py --datasets tweet --embedding tfidf --subsample 400 \\
        --param max_iter=20 --param pretrain.epochs=2 --no-hdbscan
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

DEFAULT_SETS = ["stackoverflow", "searchsnippets", "biomedical", "googlenews-TS",
                "googlenews-T", "googlenews-S", "tweet", "agnews", "clinc150", "hwu64",
                "snips", "stackexchange"]


def _near(k: int, true_k: int, factor: float = 1.5) -> bool:
    """Whether ``k`` is within a factor ``factor`` of ``true_k``, either way."""
    return max(k, true_k) / min(k, true_k) <= factor


def _kmeans_silhouette(X: np.ndarray, candidates: np.ndarray, seed: int) -> int:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    scores = [silhouette_score(X, KMeans(int(k), n_init=1, random_state=seed).fit_predict(X),
                               sample_size=min(3000, len(X)), random_state=0)
              for k in candidates]
    return int(candidates[int(np.argmax(scores))])


def _umap_hdbscan(X: np.ndarray, seed: int) -> np.ndarray:
    import umap
    from sklearn.cluster import HDBSCAN

    codes = umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                      random_state=seed).fit_transform(X)
    return HDBSCAN(min_cluster_size=10).fit_predict(codes)


def _stc_params(args) -> dict:
    """The ``--param NAME=VALUE`` overrides as keyword arguments of STCClustering."""
    from skstc.evaluation import parse_params

    return parse_params(args.param)


def _settings_line(args, params: dict) -> str:
    return (f"- Embedding: {args.embedding}; seed {args.seed}; STC parameters: library "
            "defaults" + (f" with {params}" if params else ""))


def run(args) -> str:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from skstc import STCClustering, select_n_clusters
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, report_preamble

    params = _stc_params(args)
    estimator = STCClustering(**params)
    lines, tally = [], {}
    for dataset in args.datasets:
        X, y = load_embedded(dataset, args.embedding, cache_dir=default_cache_dir(),
                             subsample=args.subsample)
        true_k = int(np.unique(y).size)
        t0 = time.perf_counter()
        selection = select_n_clusters(X, estimator=estimator, random_state=args.seed)
        select_s = time.perf_counter() - t0
        chosen = {"select_n_clusters": selection.n_clusters,
                  "k-means silhouette": _kmeans_silhouette(X, selection.candidates, args.seed)}
        if not args.no_hdbscan:
            hdb = _umap_hdbscan(X, args.seed)
            chosen["UMAP + HDBSCAN"] = int(np.unique(hdb[hdb >= 0]).size)
        fits = {}
        for k in sorted({true_k, *chosen.values()}):
            t0 = time.perf_counter()
            labels = STCClustering(k, **{**params, "random_state": args.seed}).fit(X).labels_
            fits[k] = (100 * normalized_mutual_info_score(y, labels),
                       100 * adjusted_rand_score(y, labels), time.perf_counter() - t0)
        print(f"{dataset}: true {true_k}, chosen {chosen}, select {select_s:.0f}s, "
              f"curve {dict(zip(selection.candidates.tolist(), selection.scores.round(3)))}",
              file=sys.stderr, flush=True)
        nmi_true, ari_true, fit_s = fits[true_k]
        for m, k in chosen.items():  # (k within a factor 1.5, NMI within 2 of the true k's)
            near, nmi_kept = tally.get(m, (0, 0))
            tally[m] = (near + _near(k, true_k),
                        nmi_kept + (fits[k][0] >= nmi_true - 2))
        cells = [f"{fits[k][0]:.1f} / {fits[k][1]:.1f}" for k in chosen.values()]
        row = (f"| {dataset} | {true_k} | " + " | ".join(str(k) for k in chosen.values())
               + f" | {nmi_true:.1f} / {ari_true:.1f} | " + " | ".join(cells))
        if not args.no_hdbscan:
            row += (f" | {100 * normalized_mutual_info_score(y, hdb):.1f} / "
                    f"{100 * adjusted_rand_score(y, hdb):.1f} | {100 * np.mean(hdb < 0):.0f}%")
        lines.append(row + f" | {select_s:.0f} / {fit_s:.0f} |")
    methods = list(chosen)
    head = ("| data set | true k | " + " | ".join(f"k: {m}" for m in methods)
            + " | STC NMI / ARI at true k | "
            + " | ".join(f"STC NMI / ARI at k of {m}" for m in methods)
            + (" | HDBSCAN's own NMI / ARI | HDBSCAN outliers" if not args.no_hdbscan else "")
            + " | select s / one STC fit s |")
    report = [
        *report_preamble("## Choosing the number of clusters", "python " + shlex.join(sys.argv)),
        _settings_line(args, params),
        "",
        head,
        "|---" * head.count(" | ") + "|---|",
        *lines,
        "",
        "| criterion | k within a factor 1.5 of the true k | STC NMI at its k within 2 of "
        "the NMI at the true k |",
        "|---|---|---|",
        *(f"| {m} | {near} of {len(lines)} | {kept} of {len(lines)} |"
          for m, (near, kept) in tally.items()),
        "",
    ]
    return "\n".join(report)


def _criteria(partitions) -> dict[str, int]:
    """The candidate each criterion scores best, on one model's partitions."""
    import torch
    from sklearn.metrics import calinski_harabasz_score

    from skstc.metrics import modularity
    from skstc.selection import (
        GUARD_MAX_SAMPLES,
        SELECTION_MAX_SAMPLES,
        compact,
        fixed_rows,
        silhouettes,
    )

    n = len(partitions.Z)
    sub, sub3 = fixed_rows(n, SELECTION_MAX_SAMPLES), fixed_rows(n, GUARD_MAX_SAMPLES)
    labels = partitions.labels
    on_sub = [compact(lab[sub]) for lab in labels]
    on_sub3 = [compact(lab[sub3]) for lab in labels]
    scores = {
        "silhouette, input, 10,000 rows (select_n_clusters)":
            silhouettes(partitions.X[sub], on_sub),
        "silhouette, input, 3,000 rows":
            silhouettes(partitions.X[sub3], on_sub3),
        "silhouette, codes":
            silhouettes(torch.from_numpy(partitions.Z[sub]), on_sub),
        "Calinski–Harabasz, input":
            [calinski_harabasz_score(partitions.X[sub].numpy(), lab) for lab in on_sub],
        "modularity, kNN graph":
            [modularity(lab, partitions.neighbors) for lab in labels],
    }
    return {name: int(partitions.candidates[int(np.argmax(v))]) for name, v in scores.items()}


def run_criteria(args) -> str:
    from skstc import STCClustering
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, report_preamble
    from skstc.selection import candidate_partitions

    params = _stc_params(args)
    lines, within = [], {}
    for dataset in args.datasets:
        X, y = load_embedded(dataset, args.embedding, cache_dir=default_cache_dir(),
                             subsample=args.subsample)
        true_k = int(np.unique(y).size)
        chosen = _criteria(candidate_partitions(X, estimator=STCClustering(**params),
                                                random_state=args.seed))
        print(f"{dataset}: true {true_k}, chosen {chosen}", file=sys.stderr, flush=True)
        for name, k in chosen.items():
            within[name] = within.get(name, 0) + _near(k, true_k, 1.3)
        lines.append(f"| {dataset} | {true_k} | " + " | ".join(map(str, chosen.values())) + " |")
    names = list(within)
    head = "| data set | true k | " + " | ".join(names) + " |"
    return "\n".join([
        *report_preamble("## Criteria for the number of clusters",
                         "python " + shlex.join(sys.argv)),
        _settings_line(args, params),
        "",
        head,
        "|---" * (len(names) + 2) + "|",
        *lines,
        "| within a factor 1.3 of the true k | | "
        + " | ".join(f"{within[m]} of {len(lines)}" for m in names) + " |",
        "",
    ])


def run_range(args) -> str:
    from sklearn.metrics import normalized_mutual_info_score

    from skstc import STCClustering, select_n_clusters
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, report_preamble

    params = _stc_params(args)
    lines, widths, curves = [], [], {}
    tally = {"factor": 0, "noise": 0, "inside": 0, "nmi": 0}
    for dataset in args.datasets:
        X, y = load_embedded(dataset, args.embedding, cache_dir=default_cache_dir(),
                             subsample=args.subsample)
        true_k = int(np.unique(y).size)
        sel = select_n_clusters(X, estimator=STCClustering(**params), random_state=args.seed)
        (lo, hi), (nlo, nhi), k = sel.range, sel.noise_range, sel.n_clusters
        inside, in_noise = lo <= true_k <= hi, nlo <= true_k <= nhi
        nmi = {kk: 100 * normalized_mutual_info_score(y, STCClustering(
            kk, **{**params, "random_state": args.seed}).fit(X).labels_)
            for kk in sorted({true_k, k})}
        tally["factor"] += _near(k, true_k)
        tally["nmi"] += nmi[k] >= nmi[true_k] - 2
        tally["noise"] += in_noise
        tally["inside"] += inside
        widths.append(hi / lo)
        curves[dataset] = (sel, true_k)
        print(f"{dataset}: true {true_k}, k {k}, range {lo}-{hi}, within noise {nlo}-{nhi}, "
              f"NMI {nmi}", file=sys.stderr, flush=True)
        lines.append(f"| {dataset} | {true_k} | {k} | {nlo}–{nhi} | "
                     f"{'yes' if in_noise else 'no'} | {lo}–{hi} | {'yes' if inside else 'no'} "
                     f"| {hi / lo:.1f} | {nmi[true_k]:.1f} | {nmi[k]:.1f} |")
    n = len(lines)
    return "\n".join([
        *report_preamble("## The range of k the data support", "python " + shlex.join(sys.argv)),
        _settings_line(args, params), "",
        "| data set | true k | recommended k | within noise | true k inside | range (within "
        "a fifth of the best score) | true k inside | largest / smallest | STC NMI at the "
        "true k | STC NMI at the recommended k |",
        "|---|---|---|---|---|---|---|---|---|---|", *lines,
        f"| within a factor 1.5 / inside / inside / median width / NMI within 2 | | "
        f"{tally['factor']} of {n} | | {tally['noise']} of {n} | | {tally['inside']} of {n} "
        f"| {np.median(widths):.1f} | | {tally['nmi']} of {n} |", "",
        *_tolerance_table(curves)])


#: Tolerances of the range compared by ``--range`` (fractions of the best score).
TOLERANCES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def _tolerance_table(curves: dict) -> list[str]:
    """For each tolerance τ (a range of the candidates within τ·|best| of the best score,
    and those within noise): on how many sets the true k is inside, the family-balanced
    share, the median width; and the τ a rule would choose with each family left out
    (the smallest with the true k inside on at least 5/6 of the sets left)."""
    from skstc.datasets import FAMILIES
    from skstc.selection import _span, _supported

    def span(tau: float, dataset: str) -> tuple[int, int]:
        sel, _ = curves[dataset]
        return _span(sel.candidates[_supported(sel.scores, sel.within_noise, tau)])

    def inside(tau: float, dataset: str) -> bool:
        lo, hi = span(tau, dataset)
        return lo <= curves[dataset][1] <= hi

    def width(tau: float, dataset: str) -> float:
        lo, hi = span(tau, dataset)
        return hi / lo

    families = {f: [d for d in sets if d in curves] for f, sets in FAMILIES.items()}
    families = {f: sets for f, sets in families.items() if sets}

    def chosen(sets: list[str]) -> str:
        for tau in TOLERANCES:
            if sets and sum(inside(tau, d) for d in sets) >= 5 / 6 * len(sets):
                return f"{tau:g}"
        return "none"

    lines = [f"| {tau:g} | {sum(inside(tau, d) for d in curves)} of {len(curves)} | "
             + "{:.2f}".format(np.mean([np.mean([inside(tau, d) for d in sets])
                                        for sets in families.values()]))
             + f" | {np.median([width(tau, d) for d in curves]):.1f} |" for tau in TOLERANCES]
    left_out = [f"| {f} | {chosen([d for d in curves if d not in sets])} |"
                for f, sets in families.items()]
    return ["Range tolerance τ (candidates within τ times the best score of it, and those "
            "within noise):", "",
            "| τ | true k inside | family-balanced share inside | median largest / smallest |",
            "|---|---|---|---|", *lines, "",
            f"The smallest τ with the true k inside on at least 5/6 of the sets: "
            f"{chosen(list(curves))}; with one family left out:", "",
            "| family left out | τ chosen |", "|---|---|", *left_out, ""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DEFAULT_SETS)
    parser.add_argument("--embedding", default="minilm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subsample", type=int, default=None)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an STCClustering parameter or setting, e.g. max_iter=100")
    parser.add_argument("--no-hdbscan", action="store_true",
                        help="skip the UMAP + HDBSCAN peer (needs umap-learn)")
    parser.add_argument("--criteria", action="store_true",
                        help="compare criteria for k on one pretrained model (no STC fits)")
    parser.add_argument("--range", action="store_true",
                        help="the recommended k and the range within noise (STC fits at the "
                             "true k and the largest in range only)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    from skstc.evaluation import publish

    mode = run_criteria if args.criteria else run_range if args.range else run
    return publish(mode(args), args.out)


if __name__ == "__main__":
    sys.exit(main())
