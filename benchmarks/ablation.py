"""Ablation of STC settings: ACC before and after self-training for parameter overrides.

Each configuration is a JSON object of ``STCClustering`` parameters; every configuration
is fitted on the same embedding with the same seed, and k-means on the input is the
reference. This is how the defaults ``scale="global"`` and ``pretrain_epochs=8`` were
chosen (see the README).

Usage::

    python benchmarks/ablation.py --dataset stackoverflow --embedding tfidf --seed 0 \
        '{"scale": "standard"}' '{"scale": "global"}' '{"pretrain_epochs": 15}' '{}'
    python benchmarks/ablation.py --dataset searchsnippets --embedding minilm --seeds 5 \
        '{"neighbor_weight": 0}' '{}'
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="*", default=["{}"],
                        help="JSON objects of STCClustering parameters ('{}' = defaults)")
    parser.add_argument("--dataset", default="stackoverflow")
    parser.add_argument("--embedding", default="tfidf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1,
                        help="run seeds SEED .. SEED+SEEDS-1 and print the mean of each column")
    parser.add_argument("--subsample", type=int, default=None)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)

    from sklearn.cluster import KMeans

    from skstc import STCClustering
    from skstc.cli import default_cache_dir, embed
    from skstc.datasets import load_dataset
    from skstc.metrics import cluster_accuracy

    texts, y = load_dataset(args.dataset, return_X_y=True)
    if args.subsample and args.subsample < len(texts):
        idx = np.sort(np.random.RandomState(0).choice(len(texts), args.subsample, False))
        texts, y = [texts[i] for i in idx], np.unique(y[idx], return_inverse=True)[1]
    X = embed(texts, args.embedding, cache_dir=None if args.no_cache else default_cache_dir())
    k = int(y.max() + 1)
    seeds = range(args.seed, args.seed + args.seeds)
    print(f"{args.dataset}/{args.embedding} {X.shape}, seeds {list(seeds)}")
    print(f"{'parameters':<44} {'seed':>4} {'k-means':>8} {'ACC before':>10} {'ACC after':>10} "
          f"{'steps':>6} {'fit s':>6}")
    kmeans = {s: cluster_accuracy(y, KMeans(k, n_init=10, random_state=s).fit_predict(X))
              for s in seeds}
    for config in args.configs:
        params = json.loads(config)
        rows = []
        for seed in seeds:
            t0 = time.perf_counter()
            stc = STCClustering(k, random_state=seed, **params).fit(X)
            rows.append((100 * kmeans[seed], 100 * cluster_accuracy(y, stc.init_labels_),
                         100 * cluster_accuracy(y, stc.labels_), stc.n_iter_,
                         time.perf_counter() - t0))
            print(f"{json.dumps(params):<44} {seed:>4} {rows[-1][0]:>8.1f} {rows[-1][1]:>10.1f} "
                  f"{rows[-1][2]:>10.1f} {rows[-1][3]:>6} {rows[-1][4]:>6.0f}", flush=True)
        if len(rows) > 1:
            m = np.mean(rows, axis=0)
            print(f"{json.dumps(params):<44} {'mean':>4} {m[0]:>8.1f} {m[1]:>10.1f} {m[2]:>10.1f} "
                  f"{m[3]:>6.0f} {m[4]:>6.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
