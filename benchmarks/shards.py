"""Throughput of labelling shards on Dask workers (``skstc.distributed.label_shards``).

For each embedding: a pipeline (the embedding, then ``STCClustering`` with the defaults)
fitted on ``--fit-texts`` texts of ``--dataset``; every text of the set written as
``--shards`` text shards; then the shards labelled in this process (Dask's synchronous
scheduler, one torch thread) and on a ``distributed.LocalCluster`` of each ``--workers``
count (one process and one torch thread per worker), timed from submission to the last
file written. Run it alone.

Usage::

    python benchmarks/shards.py --embeddings minilm minilm-static --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path


def _run(args) -> list[str]:
    """The table's rows: every embedding, in this process and on each cluster size."""
    import dask
    from sklearn.pipeline import make_pipeline

    from skstc import STCClustering
    from skstc.datasets import load_dataset
    from skstc.distributed import label_shards, local_client
    from skstc.embeddings import make_embedding

    texts, y = load_dataset(args.dataset, return_X_y=True)
    k = int(y.max()) + 1
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "shards"
        folder.mkdir()
        size = -(-len(texts) // args.shards)
        shards = []
        for i in range(args.shards):
            shards.append(folder / f"part-{i:03d}.txt")
            shards[-1].write_text("\n".join(texts[i * size:(i + 1) * size]) + "\n")
        for name in args.embeddings:
            model = make_pipeline(make_embedding(name), STCClustering(k, random_state=0))
            saved = {"model": model.fit(texts[:args.fit_texts]), "names": None,
                     "mapping": None}
            runs = [("this process", 1, None)] + [
                (f"LocalCluster, {w} workers", w, w) for w in args.workers]
            for where, n_workers, cluster_size in runs:
                out = Path(tmp) / f"out-{name}-{where[:4]}-{n_workers}"
                t0 = time.perf_counter()
                if cluster_size is None:
                    with dask.config.set(scheduler="synchronous"):
                        counts = label_shards(saved, shards, out)
                else:
                    with local_client(cluster_size):
                        t0 = time.perf_counter()  # the workers are up: time the work
                        counts = label_shards(saved, shards, out)
                seconds = time.perf_counter() - t0
                n = sum(counts.values())
                lines.append(f"| {name} | {where} | {n} | {seconds:.1f} | {n / seconds:,.0f} "
                             f"| {n / seconds / n_workers:,.0f} |")
                print(lines[-1], file=sys.stderr, flush=True)
    return lines


def main(argv=None) -> int:
    import torch

    from skstc.evaluation import publish, report_preamble

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embeddings", nargs="+", default=["minilm", "minilm-static"])
    parser.add_argument("--dataset", default="stackoverflow")
    parser.add_argument("--fit-texts", type=int, default=5000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    threads, omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the workers: one thread each
    torch.set_num_threads(1)
    try:
        lines = _run(args)
    finally:  # as they were: the caller's process is not changed
        torch.set_num_threads(threads)
        if omp is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = omp
    report = "\n".join([
        *report_preamble("## Labelling shards with Dask",
                         "python benchmarks/shards.py " + shlex.join(sys.argv[1:])),
        "",
        "| embedding | where | texts | seconds | texts per second | per worker |",
        "|---|---|---|---|---|---|",
        *lines, ""])
    return publish(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
