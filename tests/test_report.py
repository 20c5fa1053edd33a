"""skstc.report: per-cluster summaries and the HTML / figure report."""

import numpy as np
import pytest
from _testing import small_params, topic_corpus
from sklearn.feature_extraction.text import TfidfVectorizer

from skstc import STCClustering
from skstc.report import report_figure, report_html, representative_texts, top_terms


def test_top_terms_name_each_topic():
    texts, y = topic_corpus()
    terms = top_terms(texts, y, 8)
    for words, topic in zip(terms, ("python", "oracle", "apache")):
        assert len(words) == 8 and topic in words
    assert top_terms(["the a", "of and"], [0, 1]) == [[], []]  # stop words only
    # empty last clusters still get their (empty) list
    with_empty = top_terms(texts, y, 8, n_clusters=5)
    assert len(with_empty) == 5 and with_empty[3:] == [[], []]


def test_representative_texts_are_the_most_confident_members():
    labels = np.array([1, 0, 1, 1, 0])
    conf = np.array([0.5, 0.9, 0.7, 0.6, 0.8])
    got = representative_texts(list("abcde"), labels, conf, 2)
    assert got == [["b", "e"], ["c", "d"]]


def test_report_html_is_escaped_and_ordered_by_size():
    texts = ["<script>alert(1)</script> tag", "tag soup", "word"]
    page = report_html(texts, [1, 1, 0], [0.9, 0.8, 0.7], title="a & b")
    assert "<script>" not in page and "&lt;script&gt;" in page
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
    page = report_html(texts, stc.labels_, stc.predict_proba(X).max(1), estimator=stc, X=X)
    assert page.count("data:image/png;base64,") == 1
    assert len(plt.get_fignums()) == n_figures  # the figure is closed again
    fig = report_figure(stc, X)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "cluster sizes"
    heights = sorted((p.get_height() for p in fig.axes[1].patches), reverse=True)
    assert heights == sorted(np.bincount(stc.labels_), reverse=True)
    plt.close(fig)


def test_report_counts_trailing_empty_clusters():
    # 4 clusters of which the last two hold no text: title and body agree on 4
    texts = ["red apple", "green apple", "fast car", "red car"]
    page = report_html(texts, [0, 0, 1, 1], [0.9] * 4, n_clusters=4, title="4 clusters")
    assert "4 texts in 4 clusters." in page and page.count("<section") == 4
    assert "Cluster 3: 0 texts (0.0%)" in page
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
