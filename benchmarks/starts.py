"""STC's candidate starts from one pretraining: ACC, and label-free scores to choose by.

One default STC pretraining per data set, embedding and seed
(:func:`skstc.stages.prepare`, the front of ``fit``); each start of ``--inits`` (a recipe
of :mod:`skstc.inits`) and the default ``init="auto"`` then gives the centroids ``fit``
would start from, and its labels (each code's nearest centroid, what ``init_labels_``
holds) are scored against the classes and by label-free criteria that a rule choosing
the start without labels could use:

- ``inertia``: the k-means objective of the labels on the codes (lower is better);
- ``silhouette``: the score of :class:`~skstc.callbacks.KeepBest`, the Euclidean
  silhouette of the labels in the scaled input on a fixed subsample;
- ``modularity``: of the labels on STC's kNN graph of the scaled input
  (:func:`skstc.metrics.modularity`);
- ``consensus``: the mean adjusted Rand index of the labels with the other starts'.

With ``--self-train`` each start is also self-trained as ``fit`` would (a copy of the
pretrained encoder, the default self-training, the same batches for every start), and
scored after it: its ACC (``after``), and the trained objective on all rows, which a rule
may choose the start by (issue #41, item 3, after TEMI's lowest-loss head):

- ``loss``: KL(P ‖ Q) of the last refresh plus γ times the graph consistency term over
  every edge of the kNN graph (the two terms self-training minimises, lower is better);
- ``kl``: KL(P ‖ Q) alone (lower is better).

Besides the values of ``init``, ``spectral`` is the start a spectral embedding of the kNN
graph would give (Ng, Jordan & Weiss 2002: the ``n_clusters`` leading eigenvectors of the
symmetrised graph's normalised adjacency, rows normalised to unit length; no option of
:class:`~skstc.STCClustering`), and two consensus starts (issue #41, item 4): evidence
accumulation over the kNN graph's edges (each edge weighted by the share of 20 base
partitions, k-means on five views with four seeds, that put its ends together),
partitioned spectrally (``consensus_spectral``) or by Leiden (``consensus_leiden``,
``leidenalg``, in the ``bench`` extra; the modularity's resolution bisected to the number
of clusters). The report gives, per input, each start's ACC and the
start each criterion picks, then the mean ACC of each rule against the default start and
the best start (chosen with the labels).

Usage::

    python benchmarks/starts.py --datasets clinc150 searchsnippets \
        --embeddings minilm minilm+tfidf --seeds 1 --out starts.jsonl
    python benchmarks/starts.py --report starts.jsonl

The same tables where a pick must beat the default start's score by 2% to replace it::

    python benchmarks/starts.py --report starts.jsonl --margin 0.02

Each start self-trained, chosen by the trained objective::

    python benchmarks/starts.py --datasets clinc150 --embeddings minilm --self-train \
        --inits codes graph_averaged_codes diffused_input --out trained.jsonl

Smoke run (seconds)::

    python benchmarks/starts.py --datasets tweet --embeddings tfidf --subsample 400 \
        --inits codes diffused_input spectral --out /tmp/s.jsonl
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import defaultdict

import numpy as np

from skstc.evaluation import add_benchmark_arguments

INITS = ("codes", "graph_averaged_codes", "diffused_input", "diffused_codes", "umap_input",
         "spectral", "consensus_spectral", "consensus_leiden")
CRITERIA = ("inertia", "silhouette", "modularity", "consensus")
TRAINED_CRITERIA = ("loss", "kl")
LOWER_IS_BETTER = {"inertia", "loss", "kl"}


def _graph(neighbors, weights=None):
    """The kNN graph symmetrised: a sparse ``(n, n)`` matrix, an edge's weight the larger
    of its two directions' (1 without ``weights``, an ``(n, n_neighbors)`` array)."""
    import scipy.sparse as sp

    nb = neighbors.cpu().numpy()
    n, k = nb.shape
    w = np.ones(n * k) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    A = sp.csr_matrix((w, (np.repeat(np.arange(n), k), nb.ravel())), shape=(n, n))
    return A.maximum(A.T).tocsr()


def _spectral_view(A, n_clusters: int, random_state) -> np.ndarray:
    """Rows of the ``n_clusters`` leading eigenvectors of D^-1/2 A D^-1/2, each normalised
    to unit length (Ng, Jordan & Weiss 2002)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh

    n = A.shape[0]
    d = 1 / np.sqrt(np.asarray(A.sum(1)).ravel().clip(1e-12))
    M = sp.diags(d) @ A @ sp.diags(d)
    _, vectors = eigsh(M, k=min(n_clusters, n - 2), which="LA", tol=1e-4,
                       v0=random_state.uniform(size=n))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)


def spectral(n_clusters: int):
    """A start (a view for ``init``): the rows of the ``n_clusters`` leading eigenvectors of
    the normalised adjacency D^-1/2 A D^-1/2 of the symmetrised kNN graph, each normalised
    to unit length."""
    def view(Z, X, neighbors, random_state) -> np.ndarray:
        return _spectral_view(_graph(neighbors), n_clusters, random_state)

    return view


#: Base partitions of the consensus starts: k-means (one run each) on every one of these
#: views, with this many seeds.
CONSENSUS_VIEWS = ("codes", "graph_averaged_codes", "diffused_input", "diffused_codes",
                   "scaled_input")
CONSENSUS_RUNS = 4


def coassociation(Z, X, neighbors, random_state, n_clusters: int):
    """Evidence accumulation (Fred & Jain 2005) over the kNN graph's edges: for each edge,
    the fraction of base partitions (k-means on each of ``CONSENSUS_VIEWS``, with
    ``CONSENSUS_RUNS`` seeds) that put both ends in one cluster; the symmetrised graph with
    these weights (edges no partition keeps together dropped)."""
    from sklearn.cluster import KMeans

    from skstc import inits as recipes

    nb = neighbors.cpu().numpy()
    together = np.zeros(nb.shape)
    for name in CONSENSUS_VIEWS:
        view = getattr(recipes, name)(Z, X, neighbors, random_state)
        for _ in range(CONSENSUS_RUNS):
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            labels = KMeans(n_clusters, n_init=1, random_state=seed).fit_predict(view)
            together += labels[nb] == labels[:, None]
    A = _graph(neighbors, together / (len(CONSENSUS_VIEWS) * CONSENSUS_RUNS))
    A.eliminate_zeros()
    return A


def consensus_spectral(n_clusters: int):
    """A start (a view for ``init``): the spectral view (:func:`spectral`) of the
    co-association graph (:func:`coassociation`) instead of the plain kNN graph."""
    def view(Z, X, neighbors, random_state) -> np.ndarray:
        A = coassociation(Z, X, neighbors, random_state, n_clusters)
        return _spectral_view(A, n_clusters, random_state)

    return view


def consensus_leiden(n_clusters: int):
    """A start (centroids for ``init``): Leiden communities (``leidenalg``, the
    modularity of the co-association graph of :func:`coassociation`), the resolution
    bisected until there are at least ``n_clusters``; the centroids are the mean codes of
    the ``n_clusters`` largest communities."""
    import igraph
    import leidenalg

    def centroids(Z, X, neighbors, random_state) -> np.ndarray:
        A = coassociation(Z, X, neighbors, random_state, n_clusters).tocoo()
        upper = A.row < A.col
        graph = igraph.Graph(n=A.shape[0], edges=np.c_[A.row[upper], A.col[upper]].tolist())
        weights = A.data[upper].tolist()
        seed = int(random_state.randint(np.iinfo(np.int32).max))

        @functools.cache  # the bisection asks for some resolutions twice
        def communities(resolution):
            part = leidenalg.find_partition(
                graph, leidenalg.RBConfigurationVertexPartition, weights=weights,
                resolution_parameter=resolution, seed=seed)
            return np.asarray(part.membership)

        low, high = 0.01, 1.0
        while len(np.unique(communities(high))) < n_clusters and high < 1e4:
            low, high = high, 2 * high
        for _ in range(12):
            mid = np.sqrt(low * high)
            if len(np.unique(communities(mid))) < n_clusters:
                low = mid
            else:
                high = mid
        labels = communities(high)
        largest = np.argsort(-np.bincount(labels))[:n_clusters]
        return np.stack([Z[labels == c].mean(0) for c in largest]).astype(np.float32)

    return centroids


#: Starts that need the number of clusters (factories of an ``init``).
FACTORIES = {"spectral": spectral, "consensus_spectral": consensus_spectral,
             "consensus_leiden": consensus_leiden}


def _inertia(Z: np.ndarray, labels: np.ndarray) -> float:
    return float(sum(((Z[labels == j] - Z[labels == j].mean(0)) ** 2).sum()
                     for j in np.unique(labels)))


def _trained(prep, centers: np.ndarray, y: np.ndarray, generator_state) -> dict:
    """Self-train a copy of the pretrained encoder from ``centers`` as ``fit`` does, then
    its ACC and the trained objective on all rows."""
    import copy

    import torch

    from skstc._objective import consistency_loss
    from skstc.metrics import evaluate

    est, pretrained = prep.estimator, prep.autoencoder
    prep.autoencoder = copy.deepcopy(pretrained)
    prep.generator.set_state(generator_state)
    try:
        with prep.seeded():
            state = est._self_train(prep, torch.nn.Parameter(
                torch.tensor(centers, device=prep.device)))
    finally:
        prep.autoencoder = pretrained
    log_q, kl = state.log_q.float(), state.history["kl_loss"][-1]  # of the last refresh
    gamma = prep.settings["self_train"]["consistency_weight"]
    consistency = 0.0
    if prep.neighbors is not None and gamma > 0:
        consistency = float(np.mean([consistency_loss(log_q, log_q[prep.neighbors[:, j]])
                                     for j in range(prep.neighbors.shape[1])]))
    after = evaluate(y, state.labels.cpu().numpy())
    return {"after": after["ACC"], "after_NMI": after["NMI"], "kl": kl,
            "loss": kl + gamma * consistency, "steps": state.it}


def starts(X: np.ndarray, y: np.ndarray, seed: int, inits: list[str],
           params: dict | None = None, self_train: bool = False) -> dict:
    """One pretraining (STC with ``params``), and each start's scores against the classes
    and without them (with ``self_train``, also after self-training from it)."""
    import torch
    from sklearn.metrics import adjusted_rand_score

    from skstc import STCClustering
    from skstc import inits as recipes
    from skstc.callbacks import silhouette_guard
    from skstc.metrics import evaluate, modularity
    from skstc.stages import prepare

    n_clusters = int(y.max()) + 1
    prep = prepare(STCClustering(n_clusters, **{**(params or {}), "random_state": seed}), X)
    starts = {"auto": "auto"} | {
        name: FACTORIES[name](n_clusters) if name in FACTORIES else getattr(recipes, name)
        for name in inits}
    labels, centers = {}, {}
    for name, init in starts.items():
        prep.rng = np.random.RandomState(seed)  # every start draws the same numbers
        centers[name] = prep.start(init=init)
        labels[name] = prep.labels_of(centers[name])
    guard = silhouette_guard(prep.Xt)
    rows = {}
    for name, lab in labels.items():
        others = [adjusted_rand_score(lab, labels[o]) for o in labels if o != name]
        rows[name] = {**evaluate(y, lab), "inertia": _inertia(prep.Z, lab),
                      "silhouette": guard(torch.from_numpy(lab)),
                      "modularity": modularity(torch.from_numpy(lab), prep.neighbors),
                      "consensus": float(np.mean(others)) if others else 0.0}
    if self_train:
        generator_state = prep.generator.get_state()  # every start sees the same batches
        done = {}  # the same centroids train the same way: once
        for name in rows:
            key = centers[name].tobytes()
            if key not in done:
                done[key] = _trained(prep, centers[name], y, generator_state)
            rows[name].update(done[key])
    return {"seed": seed, "n_clusters": n_clusters, "default": "auto", "starts": rows}


def _pick(run: dict, criterion: str, margin: float = 0.0) -> str:
    """The start a rule on ``criterion`` picks (the first of equal scores): the best
    scoring, or the default where the best beats the default's score by no more than
    ``margin`` times its magnitude."""
    sign = -1 if criterion in LOWER_IS_BETTER else 1
    scores = {name: start[criterion] for name, start in run["starts"].items()}
    best = max(scores, key=lambda s: sign * scores[s])
    default = scores[run["default"]]
    if margin and sign * (scores[best] - default) <= margin * abs(default):
        return run["default"]
    return best


def _table(rows: list[dict], score: str, criteria: tuple[str, ...], *,
           default_column: bool = False, margin: float = 0.0) -> list[str]:
    """Mean ``score`` per input: each start's, the default's (``default_column``), that of
    the start each criterion picks (with ``margin``, see :func:`_pick`), and the best
    (with the labels); then the mean over inputs, and the family-balanced means of
    ``benchmarks/run.py`` (with each family left out in turn)."""
    from run import family_table

    groups = defaultdict(list)
    for row in rows:
        groups[(row["dataset"], row["embedding"])].append(row)
    inits = list(rows[0]["starts"])
    head = (inits + ["default"] * default_column + [f"pick: {c}" for c in criteria]
            + ["best"])
    lines = ["| data set (clusters) | embedding | seeds | " + " | ".join(head) + " |",
             "|---|---|---|" + "---|" * len(head)]
    per_set = defaultdict(dict)  # column -> (dataset, embedding) -> mean score
    for key, runs in sorted(groups.items()):
        cells = [np.mean([r["starts"][i][score] for r in runs]) for i in inits]
        if default_column:
            cells.append(np.mean([r["starts"][r["default"]][score] for r in runs]))
        picks = [[_pick(r, c, margin) for r in runs] for c in criteria]
        picked = [np.mean([r["starts"][p][score] for r, p in zip(runs, ps)]) for ps in picks]
        best = np.mean([max(s[score] for s in r["starts"].values()) for r in runs])
        for name, value in zip(head, cells + picked + [best]):
            per_set[name][key] = value
        lines.append(f"| {key[0]} ({runs[0]['n_clusters']}) | {key[1]} | "
                     f"{','.join(str(r['seed']) for r in runs)} | "
                     + " | ".join(f"{100 * v:.1f}" for v in cells)
                     + " | " + " | ".join(f"{100 * v:.1f} ({'/'.join(sorted(set(ps)))})"
                                          for v, ps in zip(picked, picks))
                     + f" | {100 * best:.1f} |")
    lines.append("| **mean** | | | " + " | ".join(
        f"**{100 * np.mean(list(per_set[h].values())):.1f}**" for h in head) + " |")
    return lines + family_table([
        {"dataset": dataset, "embedding": embedding, "method": column, "ACC": value}
        for column, values in per_set.items() for (dataset, embedding), value in values.items()])


def report(rows: list[dict], margin: float = 0.0) -> str:
    """Mean start ACC per input: each start, then the start each criterion picks."""
    return "\n".join(_table(rows, "ACC", CRITERIA, default_column=True, margin=margin))


def report_trained(rows: list[dict], margin: float = 0.0) -> str:
    """Mean ACC after self-training from each start, from the start each criterion picks
    (those of the starts and those of the trained models), and from the best."""
    return "\n".join(["ACC after self-training from each start (`auto`: the default), and "
                      "from the start each criterion picks:", "",
                      *_table(rows, "after", CRITERIA + TRAINED_CRITERIA, margin=margin)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_benchmark_arguments(parser, datasets=["searchsnippets"], embeddings=["minilm+tfidf"])
    parser.add_argument("--inits", nargs="+", default=list(INITS), choices=INITS)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--self-train", action="store_true",
                        help="also self-train from each start and score the trained model")
    parser.add_argument("--out", default=None, help="JSON-lines file to append runs to")
    parser.add_argument("--report", nargs="*", default=None,
                        help="print the table of these JSON-lines files and exit")
    parser.add_argument("--margin", type=float, default=0.0,
                        help="with --report: a criterion's pick replaces the default start "
                             "only where it scores better by more than this fraction of "
                             "the default's score")
    args = parser.parse_args(argv)
    if args.report is not None:
        rows = [json.loads(line) for path in args.report
                for line in open(path, encoding="utf-8") if line.strip()]
        print(report(rows, args.margin))
        if "after" in rows[0]["starts"]["auto"]:
            print("\n" + report_trained(rows, args.margin))
        return 0

    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import load_embedded, parse_params, report_preamble

    command = "python benchmarks/starts.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n".join(report_preamble("## STC's starts", command)))
    rows = []
    for dataset in args.datasets:
        for embedding in args.embeddings:
            X, y = load_embedded(dataset, embedding, subsample=args.subsample,
                                 cache_dir=None if args.no_cache else default_cache_dir())
            for seed in range(args.seed, args.seed + args.seeds):
                row = {"dataset": dataset, "embedding": embedding,
                       **starts(X, y, seed, args.inits, parse_params(args.param),
                                 self_train=args.self_train)}
                rows.append(row)
                print(json.dumps({k: row[k] for k in ("dataset", "embedding", "seed")}
                                 | {i: round(100 * s["ACC"], 1)
                                    for i, s in row["starts"].items()}), flush=True)
                if args.out:
                    with open(args.out, "a", encoding="utf-8") as f:
                        f.write(json.dumps(row) + "\n")
    print(report(rows))
    if args.self_train:
        print("\n" + report_trained(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
