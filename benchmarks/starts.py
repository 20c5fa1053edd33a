"""STC's candidate starts from one pretraining: ACC, and label-free scores to choose by.

One default STC pretraining per data set, embedding and seed (``max_iter=0``: no
self-training); each start of ``--inits`` and the default's (what ``init="auto"``
resolves to) then clusters its view of the samples, as
``init`` would, and its labels (each code's nearest centroid, what ``init_labels_``
holds) are scored against the classes and by label-free criteria that a rule choosing
the start without labels could use:

- ``inertia``: the k-means objective of the labels on the codes (lower is better);
- ``silhouette``: the guard's score, the Euclidean silhouette of the labels in the
  scaled input on a fixed subsample (:func:`skstc._guard.silhouette_guard`);
- ``modularity``: of the labels on STC's kNN graph of the scaled input
  (:func:`skstc._graph.modularity`);
- ``consensus``: the mean adjusted Rand index of the labels with the other starts'.

Besides the values of ``init``, ``spectral`` is the start a spectral embedding of the kNN
graph would give (Ng, Jordan & Weiss 2002: the ``n_clusters`` leading eigenvectors of the
symmetrised graph's normalised adjacency, rows normalised to unit length; no option of
:class:`~skstc.STCClustering`). The report gives, per input, each start's ACC and the
start each criterion picks, then the mean ACC of each rule against the default start and
the best start (chosen with the labels).

Usage::

    python benchmarks/starts.py --datasets clinc150 searchsnippets \
        --embeddings minilm minilm+tfidf --seeds 1 --out starts.jsonl
    python benchmarks/starts.py --report starts.jsonl

Smoke run (seconds)::

    python benchmarks/starts.py --datasets tweet --embeddings tfidf --subsample 400 \
        --inits kmeans kmeans-diffusion spectral --out /tmp/s.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import numpy as np

INITS = ("kmeans", "kmeans-graph", "kmeans-diffusion", "kmeans-diffused-codes",
         "kmeans-umap", "spectral")
CRITERIA = ("inertia", "silhouette", "modularity", "consensus")
LOWER_IS_BETTER = {"inertia"}


def spectral_view(neighbors, n_clusters: int, seed: int) -> np.ndarray:
    """Rows of the ``n_clusters`` leading eigenvectors of the normalised adjacency
    D^-1/2 A D^-1/2 of the symmetrised kNN graph, each normalised to unit length."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh

    nb = neighbors.numpy()
    n, k = nb.shape
    A = sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nb.ravel())), shape=(n, n))
    A = ((A + A.T) > 0).astype(np.float64)
    d = 1 / np.sqrt(np.asarray(A.sum(1)).ravel())
    M = sp.diags(d) @ A @ sp.diags(d)
    dim = min(n_clusters, n - 2)
    _, vectors = eigsh(M, k=dim, which="LA", tol=1e-4,
                       v0=np.random.RandomState(seed).uniform(size=n))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)


def _start_labels(Z: np.ndarray, centers: np.ndarray, alpha: float) -> np.ndarray:
    """argmax Q of the codes (each code's nearest centroid): what ``init_labels_`` holds."""
    import torch

    from skstc._training import log_q_of_codes

    return log_q_of_codes(torch.from_numpy(Z), torch.from_numpy(centers), alpha).argmax(1).numpy()


def _inertia(Z: np.ndarray, labels: np.ndarray) -> float:
    return float(sum(((Z[labels == j] - Z[labels == j].mean(0)) ** 2).sum()
                     for j in np.unique(labels)))


def starts(X: np.ndarray, y: np.ndarray, seed: int, inits: list[str]) -> dict:
    """One pretraining, and each start's scores against the classes and without them."""
    import torch
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from skstc import STCClustering
    from skstc._graph import knn_graph, modularity
    from skstc._guard import silhouette_guard
    from skstc._scaling import fit_scaling, scaled_tensor
    from skstc._training import _mean_codes, init_centers
    from skstc.metrics import evaluate

    n_clusters = int(y.max()) + 1
    est = STCClustering(n_clusters, max_iter=0, random_state=seed).fit(X)
    default = est._init_method(est.n_neighbors, n_clusters)  # what init="auto" resolves to
    inits = [*inits, default] if default not in inits else inits
    Z = est.transform(X).astype(np.float32)
    Xs = X.astype(np.float32)
    Xt = scaled_tensor(Xs, *fit_scaling(Xs, est.scale))
    neighbors = knn_graph(Xt, est.n_neighbors, torch.device("cpu"))
    labels = {}
    for init in inits:
        rng = np.random.RandomState(seed)
        if init == "spectral":
            view = spectral_view(neighbors, n_clusters, seed)
            km = KMeans(n_clusters, n_init=est.n_init, random_state=rng).fit(view)
            labels[init] = _start_labels(
                Z, _mean_codes(Z, km.labels_, view, km.cluster_centers_), est.alpha)
        else:
            centers = init_centers(Z, n_clusters, X=Xt, neighbors=neighbors, init=init,
                                   n_init=est.n_init, max_samples=len(Z), random_state=rng)
            labels[init] = _start_labels(Z, centers, est.alpha)
    guard = silhouette_guard(Xt)
    rows = {}
    for init, lab in labels.items():
        others = [adjusted_rand_score(lab, labels[o]) for o in labels if o != init]
        rows[init] = {**evaluate(y, lab), "inertia": _inertia(Z, lab),
                      "silhouette": guard(torch.from_numpy(lab)),
                      "modularity": modularity(torch.from_numpy(lab), neighbors),
                      "consensus": float(np.mean(others)) if others else 0.0}
    return {"seed": seed, "n_clusters": n_clusters, "default": default, "starts": rows}


def _pick(run: dict, criterion: str) -> str:
    """The start a rule on ``criterion`` picks (the first of equal scores)."""
    sign = -1 if criterion in LOWER_IS_BETTER else 1
    return max(run["starts"], key=lambda s: sign * run["starts"][s][criterion])


def report(rows: list[dict]) -> str:
    """Mean start ACC per input: each start, then the start each criterion picks."""
    groups = defaultdict(list)
    for row in rows:
        groups[(row["dataset"], row["embedding"])].append(row)
    inits = list(rows[0]["starts"])
    head = inits + ["default"] + [f"pick: {c}" for c in CRITERIA] + ["best"]
    lines = ["| data set (clusters) | embedding | seeds | " + " | ".join(head) + " |",
             "|---|---|---|" + "---|" * len(head)]
    totals = defaultdict(list)
    for (dataset, embedding), runs in sorted(groups.items()):
        cells = [np.mean([r["starts"][i]["ACC"] for r in runs]) for i in inits]
        cells.append(np.mean([r["starts"][r["default"]]["ACC"] for r in runs]))
        picks = [[_pick(r, c) for r in runs] for c in CRITERIA]
        picked = [np.mean([r["starts"][p]["ACC"] for r, p in zip(runs, ps)]) for ps in picks]
        best = np.mean([max(s["ACC"] for s in r["starts"].values()) for r in runs])
        for name, value in zip(head, cells + picked + [best]):
            totals[name].append(value)
        lines.append(f"| {dataset} ({runs[0]['n_clusters']}) | {embedding} | "
                     f"{','.join(str(r['seed']) for r in runs)} | "
                     + " | ".join(f"{100 * v:.1f}" for v in cells)
                     + " | " + " | ".join(f"{100 * v:.1f} ({'/'.join(sorted(set(ps)))})"
                                          for v, ps in zip(picked, picks))
                     + f" | {100 * best:.1f} |")
    lines.append("| **mean** | | | " + " | ".join(f"**{100 * np.mean(totals[h]):.1f}**"
                                                  for h in head) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["searchsnippets"])
    parser.add_argument("--embeddings", nargs="+", default=["minilm+tfidf"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--inits", nargs="+", default=list(INITS), choices=INITS)
    parser.add_argument("--subsample", type=int, default=None)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--out", default=None, help="JSON-lines file to append runs to")
    parser.add_argument("--report", nargs="*", default=None,
                        help="print the table of these JSON-lines files and exit")
    args = parser.parse_args(argv)
    if args.report is not None:
        rows = [json.loads(line) for path in args.report
                for line in open(path, encoding="utf-8") if line.strip()]
        print(report(rows))
        return 0

    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, report_preamble

    command = "python benchmarks/starts.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n".join(report_preamble("## STC's starts", command)))
    rows = []
    for dataset in args.datasets:
        for embedding in args.embeddings:
            X, y = load_embedded(dataset, embedding, subsample=args.subsample,
                                 cache_dir=None if args.no_cache else default_cache_dir())
            for seed in range(args.seed, args.seed + args.seeds):
                row = {"dataset": dataset, "embedding": embedding,
                       **starts(X, y, seed, args.inits)}
                rows.append(row)
                print(json.dumps({k: row[k] for k in ("dataset", "embedding", "seed")}
                                 | {i: round(100 * s["ACC"], 1)
                                    for i, s in row["starts"].items()}), flush=True)
                if args.out:
                    with open(args.out, "a", encoding="utf-8") as f:
                        f.write(json.dumps(row) + "\n")
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
