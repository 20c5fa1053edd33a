"""Ablation of STC settings: ACC before and after self-training for parameter overrides.

Each configuration is a JSON object of ``STCClustering`` parameters; every configuration
is fitted on the same embedding with the same seed, and k-means on the input is the
reference (both through :mod:`skstc.evaluation`). The user guide's ablation tables come
from this script.

Usage::

    python benchmarks/ablation.py --dataset stackoverflow --embedding tfidf --seed 0 \
        '{"scale": "standard"}' '{"scale": "global"}' '{"pretrain_epochs": 15}' '{}'
    python benchmarks/ablation.py --dataset searchsnippets --embedding minilm --seeds 5 \
        '{"tsne_weight": 0}' '{}'
"""

from __future__ import annotations

import argparse
import json
import sys

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

    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import evaluate_methods, load_embedded, warm_up

    X, y = load_embedded(args.dataset, args.embedding, subsample=args.subsample,
                         cache_dir=None if args.no_cache else default_cache_dir())
    seeds = list(range(args.seed, args.seed + args.seeds))
    print(f"{args.dataset}/{args.embedding} {X.shape}, seeds {seeds}")
    print(f"{'parameters':<44} {'seed':>4} {'k-means':>8} {'ACC before':>10} {'ACC after':>10} "
          f"{'fit s':>6}")
    kmeans = {r["seed"]: r["ACC"] for r in evaluate_methods(X, y, methods=["k-means"],
                                                            seeds=seeds)}
    for config in args.configs:
        params = json.loads(config)
        warm_up(["STC"], params)  # so that the first fit's time is not the imports' and numba's
        results = evaluate_methods(X, y, methods=["STC"], seeds=seeds, stc_params=params)
        rows = []
        for before, after in zip(results[::2], results[1::2]):  # before / after self-training
            seed = after["seed"]
            rows.append((100 * kmeans[seed], 100 * before["ACC"], 100 * after["ACC"],
                         after["fit_s"]))
            print(f"{json.dumps(params):<44} {seed:>4} {rows[-1][0]:>8.1f} {rows[-1][1]:>10.1f} "
                  f"{rows[-1][2]:>10.1f} {rows[-1][3]:>6.0f}", flush=True)
        if len(rows) > 1:
            m = np.mean(rows, axis=0)
            print(f"{json.dumps(params):<44} {'mean':>4} {m[0]:>8.1f} {m[1]:>10.1f} {m[2]:>10.1f} "
                  f"{m[3]:>6.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
