"""A fitted model over data that does not fit one machine, with Dask (``skstc[distributed]``).

Fit on a sample on one machine, then label everything on a Dask cluster: :func:`predict`,
:func:`predict_proba` and :func:`transform` apply a fitted estimator or pipeline to each
partition of a :class:`dask.array.Array` (rows of an embedding matrix) or of a Dask
dataframe column or bag of texts (for a pipeline that starts with an embedding). The
model travels once, as one task that every partition depends on, not once per partition;
the result is a lazy Dask collection, computed by whatever scheduler is active (a
``distributed.Client``, or threads by default).

>>> import numpy as np, dask.array as da
>>> from skstc import STCClustering
>>> from skstc.distributed import predict
>>> X = np.random.RandomState(0).normal(size=(300, 8)).astype(np.float32)
>>> stc = STCClustering(3, network={"hidden_dims": (16,)}, pretrain={"epochs": 2},
...                     max_iter=20, random_state=0).fit(X)
>>> labels = predict(stc, da.from_array(X, chunks=100))
>>> bool((labels.compute() == stc.predict(X)).all())
True
"""

from __future__ import annotations

import contextlib
import csv
import os
from pathlib import Path

import numpy as np

from . import _texts
from .merging import merged_proba

__all__ = ["SHARD_SUFFIXES", "label_shards", "local_client", "predict", "predict_proba",
           "transform"]

#: Shard files :func:`label_shards` reads: one text per line, a CSV column, a Parquet column.
SHARD_SUFFIXES = (".txt", ".csv", ".parquet")


def _apply(model, part, method: str):
    """``model.<method>`` of one partition (rows of a matrix, or texts)."""
    if not isinstance(part, np.ndarray):
        part = list(part)  # a pandas Series or a bag partition of texts
    if len(part) == 0:
        return None
    return np.asarray(getattr(model, method)(part))


def _width(model, method: str) -> int | None:
    """Columns of ``model.<method>``'s output: None for labels, else from the fitted model."""
    if method == "predict":
        return None
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return int(last.n_clusters if method == "predict_proba" else last.n_components)


def _map(model, data, method: str):
    import dask
    import dask.array as da

    shipped = dask.delayed(model, pure=True)  # one task: the model travels once
    width = _width(model, method)
    dtype = np.int64 if method == "predict" else np.float32
    if isinstance(data, da.Array):
        data = data.rechunk({1: -1})  # whole rows per block

        def block(x, m):
            out = _apply(m, x, method)
            if out is None:
                return np.empty((0,) if width is None else (0, width), dtype=dtype)
            return out.astype(dtype, copy=False)

        if width is None:
            return data.map_blocks(block, shipped, drop_axis=1, dtype=dtype)
        return data.map_blocks(block, shipped, chunks=(data.chunks[0], (width,)), dtype=dtype)
    if hasattr(data, "to_delayed"):  # a Dask dataframe Series or a bag of texts
        shape = () if width is None else (width,)

        def part_of(texts, m):
            out = _apply(m, texts, method)
            return np.empty((0, *shape), dtype=dtype) if out is None else out.astype(dtype)

        # partitions of unknown length: nothing is read before the result is computed
        blocks = [da.from_delayed(dask.delayed(part_of)(part, shipped), (np.nan, *shape),
                                  dtype=dtype) for part in data.to_delayed()]
        return da.concatenate(blocks) if blocks else da.empty((0, *shape), dtype=dtype)
    raise TypeError(f"expected a dask array, dataframe column or bag, got {type(data).__name__}")


def predict(model, data):
    """Cluster labels of every row or text of ``data``, as a lazy Dask array.

    Parameters
    ----------
    model : fitted STCClustering or Pipeline ending in one
        Applied to each partition as fitted (``model.predict``).
    data : dask.array.Array, dask dataframe Series or dask.bag.Bag
        Rows of the matrix the model takes (chunked along rows only; columns are joined
        into one chunk), or texts for a pipeline that embeds them.

    Returns
    -------
    labels : dask.array.Array of shape (n,), int64
    """
    return _map(model, data, "predict")


def predict_proba(model, data):
    """Soft assignments Q of every row or text of ``data``: a lazy Dask array
    ``(n, n_clusters)`` (see :func:`predict`)."""
    return _map(model, data, "predict_proba")


def transform(model, data):
    """Latent codes of every row or text of ``data``: a lazy Dask array
    ``(n, n_components)`` (see :func:`predict`)."""
    return _map(model, data, "transform")


@contextlib.contextmanager
def local_client(n_workers: int):
    """A ``distributed.Client`` on a ``LocalCluster`` of ``n_workers`` single-thread worker
    processes, closed on exit.

    Dask sets variables such as ``OMP_NUM_THREADS=1`` in this process's environment for its
    workers; they are put back on exit, so that later subprocesses (and their float
    arithmetic) are not changed by having run a cluster.
    """
    from distributed import Client, LocalCluster

    environ = dict(os.environ)
    try:
        with LocalCluster(n_workers=n_workers, threads_per_worker=1,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
    finally:
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        os.environ.update(environ)


def _read_shard(path: Path, column: str | None, encoding: str) -> list[str]:
    """The texts of one shard: lines of a ``.txt``, a column of a ``.csv`` or ``.parquet``
    (``column``; the only column, else ``"text"``, when None)."""
    if path.suffix == ".txt":
        return _texts.lines(path.read_text(encoding=encoding))
    if path.suffix == ".parquet":
        import pandas as pd

        frame = pd.read_parquet(path, columns=None if column is None else [column])
        name = column or (frame.columns[0] if frame.shape[1] == 1 else "text")
        return frame[name].fillna("").astype(str).tolist()
    with path.open(encoding=encoding, newline="") as f:
        return _texts.csv_column(f, path, column)


def _label_shard(saved: dict, path: Path, out_dir: Path, column, encoding) -> int:
    """Read one shard, label it, write ``<out_dir>/<shard name>.csv``; its number of texts."""
    texts = _read_shard(path, column, encoding)
    if texts:
        proba = np.asarray(saved["model"].predict_proba(texts))
        if saved.get("mapping") is not None:  # clusters merged after the fit
            proba = merged_proba(proba, saved["mapping"])
        labels, conf = proba.argmax(1), proba.max(1)
    names = saved.get("names") or []
    target = out_dir / f"{path.name}.csv"
    tmp = target.with_suffix(".csv.part")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "cluster", "cluster_name", "confidence", "text"])
        for i, text in enumerate(texts):
            c = int(labels[i])
            writer.writerow([i, c, names[c] if c < len(names) else "", f"{conf[i]:.4f}", text])
    os.replace(tmp, target)
    return len(texts)


def label_shards(saved: dict, paths, out_dir, *, column: str | None = None,
                 encoding: str = "utf-8") -> dict[str, int]:
    """Label every shard file of ``paths`` as one Dask task each; the model travels once.

    Parameters
    ----------
    saved : dict
        ``{"model": fitted estimator or pipeline with predict_proba, "names": cluster
        names, "mapping": merged cluster of each fitted cluster, or None}``: what
        ``skstc cluster --save-model`` writes (:func:`joblib.load` it).
    paths : iterable of path-like
        Shards: ``.txt`` (one text per line), ``.csv`` or ``.parquet`` (``column``).
    out_dir : path-like
        Folder that receives ``<shard name>.csv`` per shard (``index`` within the shard,
        ``cluster``, ``cluster_name``, ``confidence``, ``text``).
    column : str, optional
        Column of the texts in CSV and Parquet shards.
    encoding : str, default="utf-8"
        Encoding of text and CSV shards.

    Returns
    -------
    counts : dict
        Texts labelled per shard, by shard path; computed by the active Dask scheduler
        (a ``distributed.Client`` when one is open, else threads).
    """
    import dask

    paths = [Path(p) for p in paths]
    bad = [p for p in paths if p.suffix not in SHARD_SUFFIXES]
    if bad:
        raise ValueError(f"{bad[0]}: a shard is one of {', '.join(SHARD_SUFFIXES)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shipped = dask.delayed(saved, pure=True)
    tasks = [dask.delayed(_label_shard)(shipped, p, out_dir, column, encoding) for p in paths]
    return dict(zip(map(str, paths), dask.compute(*tasks)))
