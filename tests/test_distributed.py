"""skstc.distributed on a distributed.LocalCluster: the same results as in process."""

import os
import pickle

import numpy as np
import pytest
from _testing import small_params, topic_corpus
from sklearn.pipeline import make_pipeline

from skstc import STCClustering
from skstc.embeddings import TfidfSVDEmbedding

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from skstc.distributed import predict, predict_proba, transform  # noqa: E402


@pytest.fixture(scope="module")
def client():
    from skstc.distributed import local_client

    before = dict(os.environ)
    with local_client(2) as c:
        yield c
    # Dask sets OMP_NUM_THREADS=1 and more here for its workers: local_client puts back
    assert dict(os.environ) == before


def test_matrix_partitions_on_a_local_cluster(client):
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(400, 6)) + 5 * np.eye(6)[np.arange(400) % 3]).astype(np.float32)
    stc = STCClustering(3, **small_params(max_iter=20)).fit(X)
    dX = da.from_array(X, chunks=(90, 3))  # ragged row chunks, columns split: rejoined
    np.testing.assert_array_equal(predict(stc, dX).compute(), stc.predict(X))
    np.testing.assert_allclose(predict_proba(stc, dX).compute(), stc.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(transform(stc, dX).compute(), stc.transform(X),
                               rtol=1e-5, atol=1e-6)
    # the model is one task of the graph, not a copy per partition: doubling the
    # partitions grows the graph by far less than one model
    cloudpickle = pytest.importorskip("cloudpickle")

    def graph_bytes(rows):
        graph = predict(stc, da.from_array(X, chunks=(rows, 6))).__dask_graph__()
        return len(cloudpickle.dumps(dict(graph)))

    assert graph_bytes(40) - graph_bytes(80) < len(pickle.dumps(stc)) / 2


def test_text_partitions_through_a_pipeline(client):
    texts, _ = topic_corpus(40, n_words=6, fillers=True)
    model = make_pipeline(TfidfSVDEmbedding(20, random_state=0),
                          STCClustering(3, **small_params(max_iter=20))).fit(texts)
    column = dd.from_pandas(pd.Series(texts, name="text"), npartitions=4)
    np.testing.assert_array_equal(predict(model, column).compute(), model.predict(texts))
    assert predict_proba(model, column).compute().shape == (len(texts), 3)
    db = pytest.importorskip("dask.bag")
    bag = db.from_sequence(texts, npartitions=3)
    np.testing.assert_array_equal(predict(model, bag).compute(), model.predict(texts))
    with pytest.raises(TypeError, match="expected a dask array"):
        predict(model, texts)
