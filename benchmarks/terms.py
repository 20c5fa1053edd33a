"""Distinctiveness of the top terms: summed TF-IDF against class-based TF-IDF.

For each labelled set, the top 8 terms of every class (the gold classes: the same groups
for both weightings, no fit) by :func:`skstc.report.top_terms` with each ``weighting``,
and the share of all those terms that are also top terms of more than 10% of the classes
(and of two at least): terms that do not tell a cluster from the others. Lower is better.

Usage::

    python benchmarks/terms.py --out terms.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections import Counter

WEIGHTINGS = ("summed-tf-idf", "c-tf-idf")


def shared_share(terms: list[list[str]], fraction: float = 0.10) -> float:
    """Share of the terms in ``terms`` (one list per cluster) that more than ``fraction``
    of the clusters, and two at least, have among theirs."""
    in_clusters = Counter(t for cluster in terms for t in set(cluster))
    common = {t for t, n in in_clusters.items() if n > max(1, fraction * len(terms))}
    total = sum(len(cluster) for cluster in terms)
    return sum(t in common for cluster in terms for t in cluster) / max(total, 1)


def main(argv=None) -> int:
    from skstc.datasets import DATASETS, load_dataset
    from skstc.evaluation import publish, report_preamble
    from skstc.report import top_terms

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--n-terms", type=int, default=8)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    lines = []
    for name in args.datasets:
        texts, y = load_dataset(name, return_X_y=True)
        shares = [100 * shared_share(top_terms(texts, y, args.n_terms, weighting=w))
                  for w in WEIGHTINGS]
        lines.append(f"| {name} ({y.max() + 1}) | " + " | ".join(f"{v:.1f}" for v in shares)
                     + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    report = "\n".join([
        *report_preamble("## Distinctiveness of the top terms",
                         "python benchmarks/terms.py " + shlex.join(sys.argv[1:])),
        "",
        "| data set (classes) | " + " | ".join(f"{w}: % shared" for w in WEIGHTINGS) + " |",
        "|---|---|---|",
        *lines, ""])
    return publish(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
