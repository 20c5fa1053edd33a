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

import numpy as np

__all__ = ["predict", "predict_proba", "transform"]


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
