"""The keyword view of ``minilm+tfidf``: k-means on MiniLM alone and beside keyword views.

For each labelled set: k-means (the peer of ``benchmarks/run.py``, same seeds) on the
MiniLM matrix, and on MiniLM beside a TF-IDF + SVD(100) view
(:class:`skstc.embeddings.TfidfSVDEmbedding`) as ``make_embedding("minilm+tfidf")`` puts
them side by side (MiniLM L2-normalised, weight 1; the keyword view, weight ``w``), for
each keyword view of ``--views``. The MiniLM matrix comes from the embedding cache.

Usage::

    python benchmarks/keyword_view.py --seeds 2 --out keyword_view.md
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np

#: Keyword views: name -> (TfidfSVDEmbedding keyword arguments, weight of the view).
VIEWS = {
    "tfidf, w 0.75": ({}, 0.75),
    "stop words, min_df 2, w 0.75": ({"stop_words": "english", "min_df": 2}, 0.75),
    "stop words, min_df 2, w 0.5": ({"stop_words": "english", "min_df": 2}, 0.5),
}


def main(argv=None) -> int:
    from sklearn.preprocessing import normalize

    from skstc.datasets import DATASETS, load_dataset
    from skstc.embeddings import TfidfSVDEmbedding, default_cache_dir
    from skstc.evaluation import evaluate_methods, load_embedded, publish, report_preamble

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--views", nargs="+", default=list(VIEWS), choices=list(VIEWS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    lines = []
    for name in args.datasets:
        X, y = load_embedded(name, "minilm", cache_dir=default_cache_dir())
        texts = load_dataset(name, return_X_y=True)[0]
        sentence = normalize(X)
        inputs = {"MiniLM": sentence}
        for view in args.views:
            kwargs, weight = VIEWS[view]
            keywords = TfidfSVDEmbedding(random_state=0, **kwargs).fit_transform(texts)
            inputs[view] = np.hstack([sentence, weight * keywords]).astype(np.float32)
        cells = []
        for matrix in inputs.values():
            rows = evaluate_methods(matrix, y, methods=["k-means"], seeds=seeds)
            cells.append(100 * float(np.mean([r["ACC"] for r in rows])))
        lines.append(f"| {name} ({y.max() + 1}) | " + " | ".join(f"{c:.1f}" for c in cells)
                     + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    report = "\n".join([
        *report_preamble("## The keyword view (k-means ACC, mean of seeds)",
                         "python benchmarks/keyword_view.py " + shlex.join(sys.argv[1:])),
        "",
        "| data set (classes) | MiniLM | " + " | ".join(args.views) + " |",
        "|---|" + "---|" * (len(args.views) + 1),
        *lines, ""])
    return publish(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
