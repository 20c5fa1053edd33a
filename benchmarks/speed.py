"""Speed and memory benchmark of STCClustering: phase timings, throughput, GFLOP/s, peak memory.

For each size, a synthetic Gaussian mixture (``n × 384`` float32, 20 centres) is
written to a ``.npy`` file and opened as a read-only memmap, then ``STCClustering`` is
fitted on it in a fresh child process (so that its peak resident memory is its own)
and the time of every phase is recorded: pretraining, the neighbor graph, k-means initialisation,
self-training, labelling, the floor (the silhouette check, and the fallback where it fires),
and ``predict`` on all rows. The autoencoder's arithmetic is counted
(2 FLOPs per multiply-add; a backward pass costs twice its forward pass) and divided
by the phase's wall-clock time, next to this machine's matmul rates measured in the
same run (float32, and bfloat16 where the CPU has it natively).

Two kinds of rows:

* ``default``: the library's default parameters (the full fit a user gets), on real
  embeddings (``--default-data``, one or more, by default MiniLM embeddings of
  StackOverflow, 20,000 × 384, from the embedding cache of the ``skstc`` command);
  ``--compare NAME NAME=VALUE ...`` adds a row fitted with those parameters on the same
  data in the same run (other defaults, to time them against each other); ``--peer``
  also times diffusion + k-means (:class:`skstc.baselines.DiffusionKMeans`) on each of
  them, in fresh processes too, and adds a table of each row's fit time against it;
* ``scaling``: the same parameters (``--param NAME=VALUE`` overrides some) on synthetic
  data of each size in ``--sizes``. Above ``max_samples`` rows a fit trains on a
  subsample of that size and labels every row at the end (the ``label`` phase), so that
  only the scaling statistics and that last pass grow with n.

``--compare-float32`` adds the default row fitted with ``precision="float32"`` (the
default ``"auto"`` uses bfloat16 mixed precision where the CPU has it natively).

Usage (about 10 minutes on 2 CPU cores)::

    python benchmarks/speed.py --sizes 200000 2000000 --compare-float32 --out speed.md

Many clusters against the peer (about 10 minutes)::

    python benchmarks/speed.py --default-data googlenews-TS:minilm clinc150:minilm \
        stackexchange:minilm --sizes --peer --compare previous self_train.batch_size=256

Smoke run (seconds)::

    python benchmarks/speed.py --default-data none --sizes 2000 --features 32 \
        --param network.hidden_dims=64, --param max_iter=20 --param max_samples=1000
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from skstc.evaluation import load_embedded, publish, report_preamble


def matmul_gflops(n: int = 2048, repeats: int = 10, dtype: str = "float32",
                  device: str = "cpu") -> float:
    """Best matmul rate of torch on ``device``, in GFLOP/s (square ``n × n``; on a GPU
    ``8 n``, synchronised around each product)."""
    import torch

    device = torch.device(device)
    n = 8 * n if device.type == "cuda" else n
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    a, b = (torch.randn(n, n, dtype=getattr(torch, dtype), device=device) for _ in range(2))
    torch.mm(a, b)  # warm-up
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def make_data(path: Path, n: int, n_features: int, n_centers: int = 20, seed: int = 0) -> None:
    """Write a Gaussian mixture to ``path`` (.npy), chunk by chunk (memory independent of n)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.0, size=(n_centers, n_features)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, n_features))
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        labels = rng.integers(n_centers, size=m)
        out[start : start + m] = centers[labels] + rng.normal(size=(m, n_features)).astype(
            np.float32
        )
    out.flush()
    del out


def real_data(path: Path, spec: str) -> int:
    """Write the embedding ``dataset:embedding`` to ``path`` (.npy); return its class count."""
    from skstc.embeddings import default_cache_dir

    name, _, embedding = spec.partition(":")
    X, y = load_embedded(name, embedding, cache_dir=default_cache_dir())
    np.save(path, X)
    return int(y.max() + 1)


def _macs(dims: list[int]) -> int:
    """Multiply-adds of one forward pass of a dense stack ``dims[0] -> ... -> dims[-1]``."""
    return sum(a * b for a, b in zip(dims[:-1], dims[1:]))


def child(path: str, assignments: list[str]) -> dict:
    """Fit on the memmap at ``path`` with the ``--param`` ``assignments`` and report phase
    times, work done and peak memory."""
    import torch

    from skstc import STCClustering
    from skstc.evaluation import parse_params

    X = np.load(path, mmap_mode="r")
    n, d = X.shape
    # warm-up: the first fit of a process imports modules and sets up thread pools
    STCClustering(n_clusters=2, network={"hidden_dims": (4,)}, n_components=2,
                  pretrain={"epochs": 1}, max_iter=2, random_state=0).fit(np.asarray(X[:200]))
    est = STCClustering(**{"n_clusters": 20, "random_state": 0, **parse_params(assignments)})
    t0 = time.perf_counter()
    est.fit(X)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    est.predict(X)
    predict_s = time.perf_counter() - t0

    n_train = n if est.max_samples is None else min(n, est.max_samples)
    net, pre, st = (est.settings_[g] for g in ("network", "pretrain", "self_train"))
    enc = _macs([d, *net["hidden_dims"], est.n_components])
    decoder = net["hidden_dims"][::-1] if net["decoder_dims"] is None else net["decoder_dims"]
    dec = _macs([est.n_components, *decoder, d])
    refreshes = len(est.history_["iteration"])
    flops = {
        # forward + backward (2x forward) through encoder and decoder, every sample, every epoch
        "pretrain": 6 * (enc + dec) * n_train * pre["epochs"],
        # encoder forward + backward per step, plus one forward of the rows per refresh of P
        "self_train": 6 * enc * st["batch_size"] * est.n_iter_ + 2 * enc * n_train * refreshes,
        "predict": 2 * enc * n,
    }
    times = {**est.history_["time"], "predict": predict_s}
    return {
        "n": n,
        "n_train": n_train,
        "d": d,
        "params": assignments,
        "pretrain_epochs": pre["epochs"],
        "fit_s": fit_s,
        "times": times,
        "flops": flops,
        "n_iter": est.n_iter_,
        "refreshes": refreshes,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "data_mib": X.nbytes / 2**20,
        "threads": torch.get_num_threads(),
        "device": str(est.device_),
        "precision": est.precision_,
    }


def child_peer(path: str, n_clusters: int) -> dict:
    """Fit diffusion + k-means on the memmap at ``path``; its fit time."""
    from skstc.baselines import DiffusionKMeans

    X = np.load(path, mmap_mode="r")
    t0 = time.perf_counter()
    DiffusionKMeans(n_clusters, random_state=0).fit(X)
    return {"fit_s": time.perf_counter() - t0}


def _run_child(path: Path, params: list[str], peer: int | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(path), "--params", json.dumps(params)]
    if peer is not None:
        cmd += ["--peer-clusters", str(peer)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt_row(kind: str, r: dict, peaks: dict) -> str:
    n, t, f = r["n"], r["times"], r["flops"]
    # the fraction is of the matmul rate in the precision the training passes used;
    # predict is always float32
    peak = peaks[r["precision"]]
    us = {k: 1e6 * t[k] / n for k in ("pretrain", "init", "self_train", "predict")}
    rate = {k: f[k] / t[k] / 1e9 for k in ("pretrain", "self_train", "predict")}
    return (
        f"| {kind} | {r['precision']} | {n:,} | {r['n_train']:,} | "
        f"{r['pretrain_epochs']} | {r['n_iter']} | "
        f"{r['fit_s']:.2f} | {t['graph']:.2f} | {t['pretrain']:.2f} | {t['init']:.2f} | "
        f"{t['self_train']:.2f} | {t['label']:.2f} | {t['floor']:.2f} | "
        f"{t['predict']:.2f} | {n / r['fit_s']:,.0f} | "
        f"{us['pretrain']:.0f} / {us['init']:.0f} / {us['self_train']:.0f} / "
        f"{us['predict']:.1f} | "
        f"{rate['pretrain']:.0f} ({rate['pretrain'] / peak:.0%}) | "
        f"{rate['self_train']:.0f} ({rate['self_train'] / peak:.0%}) | "
        f"{rate['predict']:.0f} ({rate['predict'] / peaks['float32']:.0%}) | "
        f"{r['data_mib']:,.0f} | {r['peak_rss_mib']:,.0f} |"
    )


def run(args) -> str:
    from skstc._device import resolve_device
    from skstc.evaluation import native_bfloat16

    device = resolve_device(args.device)  # as the estimator resolves its device
    on_device = [f"device={device}"] * (args.device != "auto")
    scaling = [*on_device, *args.param]
    peaks = {"float32": matmul_gflops(device=str(device))}
    if native_bfloat16(device):
        peaks["bfloat16"] = matmul_gflops(dtype="bfloat16", device=str(device))
    rows, notes, against = [], [], []

    def median_run(kind: str, path: Path, params: list[str], repeats: int, peer=None) -> dict:
        runs = sorted((_run_child(path, params, peer) for _ in range(repeats)),
                      key=lambda r: r["fit_s"])
        if repeats > 1:
            fits = ", ".join(f"{r['fit_s']:.1f}" for r in runs)
            notes.append(f"- `{kind}` row: median of {repeats} fits in fresh processes "
                         f"(fit seconds: {fits})")
        return runs[len(runs) // 2]  # the run with the median fit time

    def measure(kind: str, path: Path, params: list[str], repeats: int) -> dict:
        result = median_run(kind, path, params, repeats)
        rows.append(_fmt_row(kind, result, peaks))
        if not args.quiet:
            print(rows[-1], file=sys.stderr, flush=True)
        return result

    # the rows fitted on each real data set: their names and parameters
    kinds = [("default", on_device),
             *([("default, float32", [*on_device, "precision=float32"])]
               * args.compare_float32),
             *((name, [*on_device, *params]) for name, *params in args.compare)]
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        for spec in [] if args.default_data == ["none"] else args.default_data:
            path = Path(tmp) / f"{spec.replace(':', '-')}.npy"
            n_clusters = real_data(path, spec)
            k = f"n_clusters={n_clusters}"
            fits = {kind: measure(kind if len(args.default_data) == 1 else f"{kind}, {spec}",
                                  path, [k, *params], args.repeats)
                    for kind, params in kinds}
            result = fits["default"]
            if args.peer:
                peer_s = median_run(f"diffusion+k-means, {spec}", path, [k], args.repeats,
                                    peer=n_clusters)["fit_s"]
                against.append(
                    f"| {spec} ({fits['default']['n']:,} × {fits['default']['d']}, "
                    f"{n_clusters} clusters) | {peer_s:.1f} | "
                    + " | ".join(f"{r['fit_s']:.1f} ({r['fit_s'] / peer_s:.2f}×)"
                                 for r in fits.values()) + " |")
            path.unlink()
        for n in args.sizes:
            path = Path(tmp) / f"X_{n}_{args.features}.npy"
            make_data(path, n, args.features)
            result = measure("scaling", path, scaling, 1)
            path.unlink()  # up to GBs: free the disk before the next size
    threads = result["threads"]
    lines = [
        *report_preamble("## Speed and memory",
                         f"python benchmarks/speed.py {shlex.join(args.argv)}",
                         f"; fits ran with {threads} torch threads on {result['device']}"),
        f"- Measured matmul rate on {device} (torch.mm, "
        f"{'16384 × 16384' if device.type == 'cuda' else '2048 × 2048'}, best of 10): "
        + ", ".join(f"{k} **{v:.0f} GFLOP/s**" for k, v in peaks.items()),
        f"- Data: `scaling` rows: synthetic mixture of 20 Gaussians, {args.features} float32 "
        "features, `STCClustering(n_clusters=20, random_state=0)`; every fit reads its data "
        "from a read-only `.npy` memmap",
        f"- `default` row: library defaults on the `{' '.join(args.default_data)}` "
        f"embedding (n_clusters = its number of classes); `scaling` rows: library defaults"
        + (f" with {' '.join(scaling)}" if scaling else "")
        + "".join(f"; `{name}` row: {' '.join(params)}" for name, *params in args.compare),
        "- Times in seconds; trained on: the rows the training phases saw (`max_samples`); "
        "µs/sample = phase time / n (pretrain / init / self-train / "
        "predict); GFLOP/s = autoencoder arithmetic of the phase / its time, with the "
        "fraction of the matmul rate in the precision of the training passes (`precision`; "
        "predict always runs in float32); peak memory = peak resident set size of the fitting "
        "process (it includes the memmapped pages it read)",
        "",
        *notes,
        "",
        "| rows | precision | n | trained on | epochs | steps | fit s | graph s | pretrain s | "
        "init s | self-train s | label s | floor s | predict s | samples/s (fit) | µs/sample | "
        "pretrain GFLOP/s | self-train GFLOP/s | predict GFLOP/s | data MiB | peak MiB |",
        "|---" * 21 + "|",
        *rows,
        "",
    ]
    if against:
        names = [kind for kind, _ in kinds]
        lines += [
            "Fit seconds against diffusion + k-means on the same matrix, each the median of "
            f"{args.repeats} fits in fresh processes (STC's row over the peer's time):",
            "",
            "| data | diffusion + k-means s | " + " | ".join(f"STC `{n}` s" for n in names)
            + " |",
            "|---" * (2 + len(names)) + "|",
            *against,
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default-data", nargs="+", default=["stackoverflow:minilm"],
                        help="dataset:embedding of the default-parameter rows, or 'none'")
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 200_000, 2_000_000])
    parser.add_argument("--features", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3, help="fits of the default row")
    parser.add_argument("--compare-float32", action="store_true",
                        help="add the default row with precision='float32'")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an STCClustering parameter of the scaling rows (repeatable)")
    parser.add_argument("--compare", action="append", default=[], nargs="+",
                        metavar="NAME [NAME=VALUE ...]",
                        help="a further row NAME on the default data with these parameters "
                             "(repeatable)")
    parser.add_argument("--peer", action="store_true",
                        help="also time diffusion + k-means on each --default-data")
    parser.add_argument("--device", default="auto",
                        help="torch device of every STC fit (and of the matmul rates): "
                             "'auto' (the estimator's default), 'cpu', 'cuda', ...")
    parser.add_argument("--tmpdir", default=None, help="where the synthetic .npy files go")
    parser.add_argument("--out", default=None, help="write the Markdown table here")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="[]", help=argparse.SUPPRESS)
    parser.add_argument("--peer-clusters", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child and args.peer_clusters is not None:
        print(json.dumps(child_peer(args.child, args.peer_clusters)))
        return 0
    if args.child:
        print(json.dumps(child(args.child, json.loads(args.params))))
        return 0
    args.argv = argv
    report = run(args)
    return publish(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
