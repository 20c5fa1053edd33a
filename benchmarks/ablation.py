"""Ablation of STC settings: ACC before and after self-training for parameter overrides.

Each configuration is a JSON object of ``STCClustering`` parameters; every configuration
is fitted on the same embedding with the same seed, and k-means on the input is the
reference. This is how the defaults ``scale="global"`` and ``pretrain_epochs=8`` were
chosen (see the README).

Usage::

    python benchmarks/ablation.py --dataset stackoverflow --embedding tfidf --seed 0 \
        '{"scale": "standard"}' '{"scale": "global"}' '{"pretrain_epochs": 15}' '{}'
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
    km = cluster_accuracy(y, KMeans(k, n_init=10, random_state=args.seed).fit_predict(X))
    print(f"{args.dataset}/{args.embedding} {X.shape}, seed {args.seed}; "
          f"k-means on the input: ACC {100 * km:.1f}")
    print(f"{'parameters':<40} {'ACC before':>10} {'ACC after':>10} {'steps':>6} {'fit s':>6}")
    for config in args.configs:
        params = json.loads(config)
        t0 = time.perf_counter()
        stc = STCClustering(k, random_state=args.seed, **params).fit(X)
        seconds = time.perf_counter() - t0
        print(f"{json.dumps(params):<40} {100 * cluster_accuracy(y, stc.init_labels_):>10.1f} "
              f"{100 * cluster_accuracy(y, stc.labels_):>10.1f} {stc.n_iter_:>6} {seconds:>6.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
