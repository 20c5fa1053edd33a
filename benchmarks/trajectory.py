"""Self-training trajectories: ACC and unsupervised criteria at every refresh of P.

One STC fit per data set, embedding and seed; at every refresh of the target P (the first
is the start, the labels of the initial centroids) the labels are scored against the
classes (ACC, NMI, ARI) and by the unsupervised criteria a guard could select on:

- ``modularity``: modularity of the labels on STC's kNN graph of the scaled input
  (:func:`skstc.metrics.modularity`);
- ``agreement``: the fraction of kNN edges inside one cluster;
- ``silhouette``: the score of :class:`~skstc.callbacks.KeepBest`, the Euclidean
  silhouette of the labels in the scaled input on a fixed subsample;
- ``silhouette_cosine``: cosine silhouette in the input as given, on another subsample.

k-means on the same matrix and seed is the reference. Each rule "keep the refresh whose
criterion is highest" is then scored as if it had chosen, which is what ``fit`` returns
with that guard: the guard picks a refresh after the trajectory and changes nothing before
it. The fit itself runs with ``guard=None`` so that the whole trajectory is seen. The user
guide's table of the self-training guard comes from this script.

Usage::

    python benchmarks/trajectory.py --datasets stackoverflow --embeddings tfidf --seeds 5 \
        --out trajectories.jsonl
    python benchmarks/trajectory.py --report trajectories.jsonl
    python benchmarks/trajectory.py --report trajectories.jsonl --steps 100 200 500

Smoke run (seconds)::

    python benchmarks/trajectory.py --datasets tweet --embeddings tfidf --subsample 400 \
        --param max_iter=40 --param self_train.update_interval=10 --out /tmp/t.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict

import numpy as np

from skstc.evaluation import add_benchmark_arguments

CRITERIA = ("modularity", "agreement", "silhouette", "silhouette_cosine")


def _criteria(labels: np.ndarray, neighbors, X: np.ndarray, sub: np.ndarray, guard) -> dict:
    import torch
    from sklearn.metrics import silhouette_score

    from skstc.metrics import modularity

    lab = torch.from_numpy(labels)
    out = {  # without a graph (n_neighbors=0), no graph criteria
        "modularity": modularity(lab, neighbors) if neighbors is not None else float("nan"),
        "agreement": (float((lab[neighbors] == lab[:, None]).double().mean())
                      if neighbors is not None else float("nan")),
        "silhouette": guard(lab),
    }
    out["silhouette_cosine"] = (float(silhouette_score(X[sub], labels[sub], metric="cosine"))
                                if np.unique(labels[sub]).size > 1 else -1.0)
    return out


def trajectory(X: np.ndarray, y: np.ndarray, seed: int, stc_params: dict) -> dict:
    """One STC fit with the labels and criteria of every refresh, and k-means' scores."""
    from sklearn.cluster import KMeans

    from skstc import STCClustering
    from skstc.callbacks import Trajectory, silhouette_guard
    from skstc.metrics import evaluate

    class _Seen(Trajectory):  # the labels of every refresh, and the rows and graph fit used
        def on_self_train_begin(self, state):
            super().on_self_train_begin(state)
            self.X, self.neighbors = state.X.cpu(), state.neighbors

    n_clusters = int(y.max()) + 1
    # without KeepBest: the whole trajectory, on which each guard's choice is then replayed
    callbacks = [cb for cb in stc_params.get("callbacks") or [] if type(cb).__name__ != "KeepBest"]
    est = STCClustering(n_clusters, **{**stc_params, "random_state": seed,
                                       "callbacks": [*callbacks, _Seen()]})
    t0 = time.perf_counter()
    est.fit(X)
    fit_s = time.perf_counter() - t0
    seen = est.callbacks_[-1]
    # the refreshes run in the training precision, labels_ comes from a float32 pass
    assert np.mean(seen.labels_[-1] == est.labels_) > 0.99

    Xs = X.astype(np.float32)
    guard = silhouette_guard(seen.X)
    sub = np.random.RandomState(0).permutation(len(X))[:5000]
    refreshes = [{"iteration": it, **evaluate(y, labels),
                  **_criteria(labels, seen.neighbors, Xs, sub, guard)}
                 for it, labels in zip(seen.iterations_, seen.labels_)]
    km = KMeans(n_clusters, n_init=10, random_state=seed).fit(X)
    return {"seed": seed, "n_clusters": n_clusters, "fit_s": fit_s,
            "kmeans": evaluate(y, km.labels_),
            "refreshes": refreshes, "labels": [lab.tolist() for lab in seen.labels_]}


def _pick(refreshes: list[dict], criterion: str | None) -> dict:
    """The refresh a guard on ``criterion`` keeps (None: the last, no guard)."""
    if criterion is None:
        return refreshes[-1]
    return max(reversed(refreshes), key=lambda r: r[criterion])  # the last of equal maxima


def _by_set(rows: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """The runs grouped by (data set, embedding), sorted."""
    groups = defaultdict(list)
    for row in rows:
        groups[(row["dataset"], row["embedding"])].append(row)
    return sorted(groups.items())


def _reference_cells(runs: list[dict]) -> list[float]:
    """Mean ACC of k-means on the same matrix and of STC's start (refresh 0)."""
    return [np.mean([r["kmeans"]["ACC"] for r in runs]),
            np.mean([r["refreshes"][0]["ACC"] for r in runs])]


def _seeds(runs: list[dict]) -> str:
    return ",".join(str(r["seed"]) for r in runs)


def report(rows: list[dict]) -> str:
    """Mean ACC per set and embedding: k-means, start, end, and each guard's choice.

    ``after`` is the last refresh, what the default ``guard=None`` returns. ``kept``: the
    refresh (steps) that ``guard="silhouette"`` keeps on each seed; ``below k-means``: the
    seeds on which the default, and the silhouette guard, end below k-means on the same
    matrix.
    """
    head = (["k-means", "before", "after"] + [f"guard: {c}" for c in CRITERIA]
            + ["kept (silhouette)", "below k-means (default; silhouette)"])
    lines = ["| data set | embedding | seeds | " + " | ".join(head) + " |",
             "|---|---|---|" + "---|" * len(head)]
    for (dataset, embedding), runs in _by_set(rows):
        cells = _reference_cells(runs)
        cells += [np.mean([_pick(r["refreshes"], None)["ACC"] for r in runs])]
        cells += [np.mean([_pick(r["refreshes"], c)["ACC"] for r in runs]) for c in CRITERIA]
        kept = [_pick(r["refreshes"], "silhouette") for r in runs]
        below = [",".join(str(r["seed"]) for r, k in zip(runs, choice)
                          if k["ACC"] < r["kmeans"]["ACC"]) or "none"
                 for choice in ([r["refreshes"][-1] for r in runs], kept)]
        lines.append(f"| {dataset} | {embedding} | {_seeds(runs)} | "
                     + " | ".join(f"{100 * v:.1f}" for v in cells)
                     + f" | {','.join(str(k['iteration']) for k in kept)} | "
                     + "; ".join(below) + " |")
    return "\n".join(lines)


def _at(refreshes: list[dict], step: int) -> float:
    """ACC of the refresh at ``step`` steps (NaN when the trajectory has none there)."""
    return next((r["ACC"] for r in refreshes if r["iteration"] == step), float("nan"))


def report_steps(rows: list[dict], steps: list[int]) -> str:
    """Mean ACC per set and embedding after the given numbers of self-training steps,
    read off the recorded trajectories (the fits must have run at least that long,
    ``--param max_iter=N``; "–" where a trajectory has no refresh at a step)."""
    head = ["k-means", "before"] + [f"{s} steps" for s in steps]
    lines = ["| data set (clusters) | embedding | seeds | " + " | ".join(head) + " |",
             "|---|---|---|" + "---|" * len(head)]
    for (dataset, embedding), runs in _by_set(rows):
        cells = _reference_cells(runs)
        cells += [np.mean([_at(r["refreshes"], step) for r in runs]) for step in steps]
        lines.append(f"| {dataset} ({runs[0]['n_clusters']}) | {embedding} | {_seeds(runs)} | "
                     + " | ".join("–" if np.isnan(v) else f"{100 * v:.1f}" for v in cells)
                     + " |")
    return "\n".join(lines)


def _table(rows: list[dict], steps: list[int] | None) -> str:
    """The guards' table, or with ``steps`` the table of ACC after those steps."""
    return report(rows) if steps is None else report_steps(rows, steps)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_benchmark_arguments(parser, datasets=["stackoverflow"], embeddings=["tfidf"])
    parser.add_argument("--out", default=None, help="JSON-lines file to append runs to")
    parser.add_argument("--report", nargs="*", default=None,
                        help="print the table of these JSON-lines files and exit")
    parser.add_argument("--steps", nargs="+", type=int, default=None,
                        help="mean ACC after these numbers of steps instead of the guards' table")
    args = parser.parse_args(argv)
    if args.report is not None:
        rows = [json.loads(line) for path in args.report
                for line in open(path, encoding="utf-8") if line.strip()]
        print(_table(rows, args.steps))
        return 0

    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, parse_params

    stc_params = parse_params(args.param)
    rows = []
    for dataset in args.datasets:
        for embedding in args.embeddings:
            X, y = load_embedded(dataset, embedding, cache_dir=default_cache_dir(),
                                 subsample=args.subsample)
            for seed in range(args.seed, args.seed + args.seeds):
                row = {"dataset": dataset, "embedding": embedding, "subsample": args.subsample,
                       "stc_params": args.param, **trajectory(X, y, seed, stc_params)}
                rows.append(row)
                acc = [f"{100 * r['ACC']:.1f}" for r in row["refreshes"]]
                print(f"{dataset}/{embedding} seed {seed}: k-means "
                      f"{100 * row['kmeans']['ACC']:.1f}, ACC per refresh {' '.join(acc)} "
                      f"({row['fit_s']:.0f}s)", file=sys.stderr, flush=True)
                if args.out:
                    with open(args.out, "a", encoding="utf-8") as f:
                        f.write(json.dumps(row) + "\n")
    print(_table(rows, args.steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
