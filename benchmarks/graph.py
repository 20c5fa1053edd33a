"""The kNN graph of STC: exact search against nearest-neighbor descent, recall and time.

For each input the graph is built as ``fit`` builds it (scaled input, ``n_neighbors=10``)
by ``knn_algorithm="exact"`` (every row a candidate up to 100,000 rows, a random 100,000
candidates above, as ``fit`` does) and by ``"nndescent"`` (pynndescent, one thread, after a
warm-up call that compiles it), and both are scored against the true neighbors of
``--queries`` random rows (searched among all rows): recall@10, the mean fraction of a
row's true 10 neighbors that its graph row holds.

Inputs: ``name:embedding`` (a benchmark set from the embedding cache, e.g.
``stackoverflow:minilm``) or ``synthetic:N`` (``benchmarks/speed.py``'s Gaussian mixture,
N × 384, 20 centres: neighbors in it are close to random, a hard case for any index).

Usage::

    python benchmarks/graph.py --inputs stackoverflow:minilm synthetic:200000

Smoke run (seconds)::

    python benchmarks/graph.py --inputs synthetic:3000 --queries 200
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch


def load(spec: str) -> np.ndarray:
    """The float32 matrix of an input spec (see the module docstring)."""
    name, _, arg = spec.partition(":")
    if name == "synthetic":
        rng = np.random.default_rng(0)
        n = int(arg)
        centers = rng.normal(size=(20, 384)).astype(np.float32)
        return centers[rng.integers(20, size=n)] + rng.normal(size=(n, 384)).astype(np.float32)
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded

    return load_embedded(name, arg or "minilm", cache_dir=default_cache_dir())[0]


def recall(graph: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> float:
    """Mean fraction of the true neighbors of ``rows`` that ``graph`` holds for them."""
    return float(np.mean([np.intersect1d(graph[r], t).size / t.size
                          for r, t in zip(rows, truth)]))


def measure(X: np.ndarray, n_queries: int, n_neighbors: int = 10) -> dict:
    from skstc import STCClustering
    from skstc.graph import candidate_rows, knn_graph, nndescent_knn_graph
    from skstc.stages import GRAPH_MAX_CANDIDATES, prepare

    cpu = torch.device("cpu")
    # the scaled input of a fit on every row (no graph, no pretraining epoch)
    Xt = prepare(STCClustering(n_neighbors=0, max_samples=None, pretrain={"epochs": 0},
                               network={"hidden_dims": ()}, device="cpu"), X).Xt
    rng = np.random.RandomState(0)
    rows = np.sort(rng.choice(len(X), min(n_queries, len(X)), replace=False))
    # the true neighbors of the query rows among all rows (the rows themselves excluded)
    d2 = torch.cdist(Xt[rows], Xt).pow(2)
    d2[torch.arange(len(rows)), torch.from_numpy(rows)] = float("inf")
    truth = torch.topk(d2, n_neighbors, largest=False).indices.numpy()
    del d2
    out = {"n": len(X), "d": X.shape[1]}
    t0 = time.perf_counter()
    candidates = candidate_rows(len(X), GRAPH_MAX_CANDIDATES, rng)
    exact = knn_graph(Xt, n_neighbors, cpu, candidates).numpy()
    out["exact_s"], out["exact_recall"] = time.perf_counter() - t0, recall(exact, truth, rows)
    del exact
    nndescent_knn_graph(Xt[:2000], n_neighbors, random_state=0)  # compiles (numba)
    t0 = time.perf_counter()
    approx = nndescent_knn_graph(Xt, n_neighbors, random_state=0).numpy()
    out["nndescent_s"] = time.perf_counter() - t0
    out["nndescent_recall"] = recall(approx, truth, rows)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", nargs="+", default=["stackoverflow:minilm"])
    parser.add_argument("--queries", type=int, default=2000,
                        help="rows whose true neighbors score the graphs")
    args = parser.parse_args(argv)
    from skstc.evaluation import machine_description

    print(f"# {machine_description()}; torch threads {torch.get_num_threads()}; "
          f"command: python benchmarks/graph.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print("| input | n × d | exact s | exact recall@10 | nndescent s | nndescent recall@10 |")
    print("|---|---|---|---|---|---|")
    for spec in args.inputs:
        r = measure(load(spec), args.queries)
        print(f"| {spec} | {r['n']:,} × {r['d']} | {r['exact_s']:.1f} | "
              f"{r['exact_recall']:.3f} | {r['nndescent_s']:.1f} | {r['nndescent_recall']:.3f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
