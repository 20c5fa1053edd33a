"""Texts per second of each embedding on this machine, warm (the model loaded first).

For each embedding of ``--embeddings``: ``make_embedding(name)`` fitted on 100 texts
(loading, or distilling, the model; not timed), then ``transform`` of ``--n-texts``
texts of ``--dataset`` timed, ``--repeats`` times (the best is reported). Run it alone.

Usage::

    python benchmarks/embed_speed.py --embeddings minilm minilm-static --out speed.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time


def main(argv=None) -> int:
    import torch

    from skstc.datasets import load_dataset
    from skstc.embeddings import EMBEDDINGS, make_embedding
    from skstc.evaluation import publish, report_preamble

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embeddings", nargs="+", default=["minilm", "minilm-static"],
                        choices=list(EMBEDDINGS))
    parser.add_argument("--dataset", default="stackoverflow")
    parser.add_argument("--n-texts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    texts = load_dataset(args.dataset, return_X_y=True)[0][:args.n_texts]
    lines = []
    for name in args.embeddings:
        transformer = make_embedding(name).fit(texts[:100])
        seconds = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            transformer.transform(texts)
            seconds.append(time.perf_counter() - t0)
        best = min(seconds)
        lines.append(f"| {name} | {len(texts)} | {best:.2f} | {len(texts) / best:,.0f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    report = "\n".join([
        *report_preamble("## Embedding throughput",
                         "python benchmarks/embed_speed.py " + shlex.join(sys.argv[1:]),
                         f"; {torch.get_num_threads()} torch threads; sentence-transformers "
                         f"models on {'cuda' if torch.cuda.is_available() else 'cpu'}"),
        "",
        "| embedding | texts | seconds | texts per second |",
        "|---|---|---|---|",
        *lines, ""])
    return publish(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
