"""skstc.report: per-cluster summaries and the HTML / figure report."""

import numpy as np
import pytest
from _testing import small_params, topic_corpus
from sklearn.feature_extraction.text import TfidfVectorizer

from skstc import STCClustering
from skstc.report import (
    cluster_names,
    report_figure,
    report_html,
    representative_texts,
    top_terms,
)


def test_top_terms_name_each_topic():
    texts, y = topic_corpus()
    terms = top_terms(texts, y, 8)
    for words, topic in zip(terms, ("python", "oracle", "apache")):
        assert len(words) == 8 and topic in words
    assert top_terms(["the a", "of and"], [0, 1]) == [[], []]  # stop words only
    # empty last clusters still get their (empty) list
    with_empty = top_terms(texts, y, 8, n_clusters=5)
    assert len(with_empty) == 5 and with_empty[3:] == [[], []]


def test_class_based_tf_idf_puts_words_common_to_all_clusters_last():
    # every cluster's texts hold "help" in half of them and topic words from a long tail,
    # each in a few texts: summed TF-IDF ranks "help" among every cluster's top 3,
    # c-TF-IDF its topic words only
    rng = np.random.RandomState(0)
    texts, y = [], []
    for label, topic in enumerate(("py", "sql", "web")):
        for i in range(200):
            words = [f"{topic}{rng.randint(12)}", f"{topic}{rng.randint(12)}"]
            texts.append(" ".join(words + ["help"] * (i % 2)))
            y.append(label)
    summed = top_terms(texts, y, 3, weighting="summed-tf-idf")
    assert all("help" in terms for terms in summed)
    for terms, topic in zip(top_terms(texts, y, 3), ("py", "sql", "web")):
        assert all(term.startswith(topic) for term in terms)
    with pytest.raises(ValueError, match="weighting"):
        top_terms(texts, y, weighting="bm25")


def test_c_tf_idf_weights_follow_the_formula():
    from sklearn.feature_extraction.text import CountVectorizer

    texts = ["red apple pie", "green apple", "fast red car", "red car", "blue car"]
    y = np.array([0, 0, 1, 1, 1])
    counts = CountVectorizer(ngram_range=(1, 2), stop_words="english").fit(texts)
    C = counts.transform(texts).toarray()
    per_class = np.stack([C[y == c].sum(0) for c in (0, 1)]).astype(float)
    tf = np.sqrt(per_class / per_class.sum(1, keepdims=True))
    w = tf * np.log(1 + per_class.sum(1).mean() / per_class.sum(0))
    vocab = counts.get_feature_names_out()
    expected = [[vocab[i] for i in np.lexsort((np.arange(len(vocab)), -row))[:3]] for row in w]
    assert top_terms(texts, y, 3) == expected


def test_cluster_names_take_the_first_words_once():
    assert cluster_names([["apple", "apple pie", "tart"], ["car"], []]) == [
        "apple pie tart", "car", "(no terms)"]
    assert cluster_names([["a b", "c d"]], n_words=2) == ["a b"]


def test_representative_texts_are_the_most_confident_members():
    labels = np.array([1, 0, 1, 1, 0])
    conf = np.array([0.5, 0.9, 0.7, 0.6, 0.8])
    got = representative_texts(list("abcde"), labels, conf, 2)
    assert got == [["b", "e"], ["c", "d"]]


def test_report_html_is_escaped_and_ordered_by_size():
    texts = ["<script>alert(1)</script> tag", "tag soup", "word"]
    page = report_html(texts, [1, 1, 0], [0.9, 0.8, 0.7], title="a & b")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<title>a &amp; b</title>" in page
    assert page.index('id="cluster-1"') < page.index('id="cluster-0"')
    assert "2 texts (66.7%)" in page
    assert "<img" not in page  # no estimator: no map


def test_report_with_map(blobs):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    texts, y = topic_corpus(n_per_topic=30)
    X = TfidfVectorizer().fit_transform(texts).toarray().astype(np.float32)
    stc = STCClustering(3, **small_params(n_components=3, pretrain_epochs=40)).fit(X)
    n_figures = len(plt.get_fignums())
    page = report_html(texts, stc.labels_, stc.predict_proba(X).max(1), estimator=stc, X=X,
                       map="static")
    assert page.count("data:image/png;base64,") == 1
    assert len(plt.get_fignums()) == n_figures  # the figure is closed again
    fig = report_figure(stc, X)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "cluster sizes"
    heights = sorted((p.get_height() for p in fig.axes[1].patches), reverse=True)
    assert heights == sorted(np.bincount(stc.labels_), reverse=True)
    plt.close(fig)


def test_report_says_when_the_floor_fell_back(blobs):
    from types import SimpleNamespace

    texts = ["a b", "c d", "e f"]
    fell_back = SimpleNamespace(fallback_=True, silhouette_=-0.0185, n_clusters=2)
    page = report_html(texts, [1, 1, 0], [0.9, 0.8, 0.7], estimator=fell_back, map="none")
    assert "overlapped in the embedding (mean silhouette -0.018)" in page
    kept = SimpleNamespace(fallback_=False, silhouette_=0.2, n_clusters=2)
    assert "overlapped" not in report_html(texts, [1, 1, 0], [0.9, 0.8, 0.7], estimator=kept,
                                           map="none")


def test_report_counts_trailing_empty_clusters():
    # 4 clusters of which the last two hold no text: title and body agree on 4
    texts = ["red apple", "green apple", "fast car", "red car"]
    page = report_html(texts, [0, 0, 1, 1], [0.9] * 4, n_clusters=4, title="4 clusters")
    assert "4 texts in 4 clusters." in page and page.count("<section") == 4
    assert "Cluster 3 · (no terms): 0 texts (0.0%)" in page
    assert "in 2 clusters." in report_html(texts, [0, 0, 1, 1], [0.9] * 4)


def test_render_report_formats():
    from skstc.report import REPORT_FORMATS, render_report

    X = np.random.RandomState(0).randn(40, 3).astype(np.float32)
    texts = [f"text {i}" for i in range(40)]
    stc = STCClustering(2, **small_params(max_iter=10)).fit(X)
    labels, conf = stc.labels_, stc.predict_proba(X).max(1)
    page = render_report(".HTML", texts, labels, conf, estimator=stc, X=X).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "40 texts in 2 clusters" in page
    assert set(REPORT_FORMATS) == {".html", ".htm", ".png"}
    with pytest.raises(ValueError, match="not '.pdf'"):
        render_report(".pdf", texts, labels, conf, estimator=stc, X=X)


def test_map_falls_back_to_tsne_without_umap(monkeypatch):
    from skstc.plotting import _tsne_2d
    from skstc.report import _map_xy

    Z = np.random.RandomState(0).randn(60, 5)
    monkeypatch.setitem(__import__("sys").modules, "umap", None)  # import umap fails
    xy = _map_xy(Z, random_state=0)
    assert xy.shape == (60, 2)
    np.testing.assert_array_equal(xy, _tsne_2d(Z, 0))
    assert _map_xy(Z[:3], random_state=0).shape == (3, 2)  # too few rows: the codes
