"""A report of a clustering of texts: sizes, top terms, representative texts and a map.

:func:`top_terms` and :func:`representative_texts` summarise each cluster;
:func:`report_html` puts them in one self-contained HTML page (with a 2-D map of the
clusters when matplotlib is installed) and :func:`report_figure` draws the map and the
cluster sizes as one matplotlib figure. :func:`render_report` gives either as the bytes of
a file whose format its suffix names (``REPORT_FORMATS``); ``skstc cluster --report``
writes them.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["REPORT_FORMATS", "cluster_names", "render_report", "report_figure", "report_html",
           "representative_texts", "top_terms"]

#: File suffixes :func:`render_report` writes, and what each holds.
REPORT_FORMATS = {
    ".html": "sizes, top terms, representative texts, map",
    ".htm": "sizes, top terms, representative texts, map",
    ".png": "map and sizes",
}


def top_terms(
    texts: list[str], labels, n_terms: int = 8, *, n_clusters: int | None = None,
    weighting: str = "c-tf-idf",
) -> list[list[str]]:
    """The ``n_terms`` terms (words and word pairs) that describe each cluster best.

    ``weighting="c-tf-idf"`` (default) is class-based TF-IDF (Grootendorst 2022, the
    topic representation of BERTopic, with its ``reduce_frequent_words``): the texts of a
    cluster are one document; the square root of a term's frequency there, divided by
    the cluster's number of terms, is weighted by ``log(1 + A / f_t)``, where ``A`` is the
    mean number of terms per cluster and ``f_t`` the term's frequency in all clusters, so
    that words common to the whole corpus fall behind the words specific to a cluster.
    ``"summed-tf-idf"`` sums each term's TF-IDF weight over the cluster's texts (words
    only; what skstc used before). English stop words are left out.

    Parameters
    ----------
    texts : list of str
        The clustered texts.
    labels : array-like of shape (n_texts,)
        Cluster of each text, in ``0..n_clusters-1``.
    n_terms : int, default=8
        Terms per cluster (fewer when a cluster has fewer non-stop-words).
    n_clusters : int, default=None
        Number of clusters, empty ones included; ``max(labels) + 1`` when None.
    weighting : {"c-tf-idf", "summed-tf-idf"}, default="c-tf-idf"
        How terms are weighted.

    Returns
    -------
    terms : list of list of str
        ``terms[j]`` are the terms of cluster ``j``, most weighty first; empty lists when
        the texts hold no word at all.

    Examples
    --------
    >>> from skstc.report import top_terms
    >>> texts = ["red apple pie", "green apple", "fast red car", "red car"]
    >>> top_terms(texts, [0, 0, 1, 1], 2)
    [['apple', 'apple pie'], ['car', 'red car']]
    """
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    if weighting not in ("c-tf-idf", "summed-tf-idf"):
        raise ValueError(f"weighting must be 'c-tf-idf' or 'summed-tf-idf', got {weighting!r}")
    labels = np.asarray(labels)
    if n_clusters is None:
        n_clusters = int(labels.max()) + 1 if labels.size else 0
    if weighting == "c-tf-idf":
        vec = CountVectorizer(ngram_range=(1, 2), stop_words="english")
    else:
        vec = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    try:
        W = vec.fit_transform(texts)
    except ValueError:  # empty vocabulary
        return [[] for _ in range(n_clusters)]
    vocab = vec.get_feature_names_out()
    # one sparse row per cluster: the summed counts (c-TF-IDF) or TF-IDF weights of its texts
    members = sp.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))),
                            shape=(n_clusters, len(labels)))
    weight = (members @ W).tocsr()
    if weighting == "c-tf-idf":
        per_cluster = np.asarray(weight.sum(1)).ravel()
        A = per_cluster.mean()
        idf = np.log1p(A / np.maximum(np.asarray(weight.sum(0)).ravel(), 1))
        weight = (sp.diags(1 / np.maximum(per_cluster, 1)) @ weight).tocsr()
        weight.data = np.sqrt(weight.data)  # reduce_frequent_words
        weight = (weight @ sp.diags(idf)).tocsr()
    out = []
    for j in range(n_clusters):
        row = weight.getrow(j)
        order = np.lexsort((row.indices, -row.data))[:n_terms]  # ties: vocabulary order
        out.append([str(vocab[row.indices[i]]) for i in order if row.data[i] > 0])
    return out


def cluster_names(terms: list[list[str]], n_words: int = 3) -> list[str]:
    """A short name per cluster: its first terms, up to ``n_words`` words in all, each
    word once ("apple pie car" from ``["apple", "apple pie", "car"]``); ``"(no terms)"``
    for a cluster without any.

    >>> from skstc.report import cluster_names
    >>> cluster_names([["apple", "apple pie", "car", "red"], []])
    ['apple pie car', '(no terms)']
    """
    names = []
    for cluster in terms:
        words: list[str] = []
        for term in cluster:
            words += [w for w in term.split() if w not in words]
            if len(words) >= n_words:
                break
        names.append(" ".join(words[:n_words]) or "(no terms)")
    return names


def representative_texts(
    texts: list[str], labels, confidence, n_texts: int = 5, *, n_clusters: int | None = None
):
    """The ``n_texts`` texts of each cluster with the highest confidence, most confident first.

    Parameters
    ----------
    texts : list of str
        The texts to choose from.
    labels : array-like of shape (n_texts,)
        Their clusters (``0..n_clusters-1``).
    confidence : array-like of shape (n_texts,)
        How sure the model is of each label, e.g. ``predict_proba(X).max(axis=1)``.
    n_texts : int, default=5
        Texts per cluster.
    n_clusters : int, default=None
        Number of clusters, empty ones included; ``max(labels) + 1`` when None.

    Returns
    -------
    texts : list of list of str
        ``texts[j]`` are the representative texts of cluster ``j``.

    Examples
    --------
    >>> from skstc.report import representative_texts
    >>> representative_texts(["a", "b", "c"], [0, 0, 1], [0.2, 0.9, 0.5], 1)
    [['b'], ['c']]
    """
    labels, confidence = np.asarray(labels), np.asarray(confidence)
    if n_clusters is None:
        n_clusters = int(labels.max()) + 1 if labels.size else 0
    out = []
    for j in range(n_clusters):
        members = np.flatnonzero(labels == j)
        best = members[np.argsort(-confidence[members], kind="stable")[:n_texts]]
        out.append([texts[i] for i in best])
    return out


def report_figure(estimator, X, labels=None, n_clusters: int | None = None):
    """A 2-D map of the clusters (PCA of the latent codes) beside the cluster sizes.

    Parameters
    ----------
    estimator : STCClustering
        A fitted estimator.
    X : array-like of shape (n_samples, n_features)
        The clustered data (at most 3,000 random points are drawn on the map).
    labels : array-like of shape (n_samples,), default=None
        Clusters; ``estimator.predict(X)`` when None.
    n_clusters : int, default=None
        Number of clusters of ``labels`` (after a merge, say); ``estimator.n_clusters``
        when None.

    Returns
    -------
    fig : matplotlib Figure
    """
    from .plotting import _pyplot, plot_embedding

    check_is_fitted(estimator)
    labels = estimator.predict(X) if labels is None else np.asarray(labels)
    sizes = np.bincount(labels, minlength=n_clusters or estimator.n_clusters)
    plt = _pyplot()
    fig, (ax_map, ax_sizes) = plt.subplots(
        1, 2, figsize=(11, 4.8), layout="constrained", width_ratios=(1.2, 1)
    )
    plot_embedding(estimator, X, labels, method="pca", ax=ax_map)
    order = np.argsort(-sizes)
    ax_sizes.bar(np.arange(len(sizes)), sizes[order], color="0.45")
    ax_sizes.set(
        title="cluster sizes", xlabel="cluster", ylabel="texts", xticks=np.arange(len(sizes))
    )
    ax_sizes.set_xticklabels(order, fontsize=7 if len(sizes) > 30 else None)
    return fig


def report_html(
    texts: list[str],
    labels,
    confidence,
    *,
    estimator=None,
    X=None,
    terms: list[list[str]] | None = None,
    n_terms: int = 8,
    n_texts: int = 5,
    title: str = "Clusters",
    n_clusters: int | None = None,
) -> str:
    """A self-contained HTML page describing a clustering of ``texts``.

    One section per cluster, largest first: its size and share, its top terms
    (:func:`top_terms`) and its most confident texts (:func:`representative_texts`).
    With ``estimator`` and ``X`` and matplotlib installed, the page opens with
    :func:`report_figure`, embedded as a PNG.

    Parameters
    ----------
    texts : list of str
        The clustered texts.
    labels : array-like of shape (n_texts,)
        Cluster of each text.
    confidence : array-like of shape (n_texts,)
        Confidence of each label.
    estimator : STCClustering, default=None
        The fitted estimator, for the map.
    X : array-like of shape (n_texts, n_features), default=None
        The embeddings of ``texts``, for the map.
    terms : list of list of str, default=None
        Top terms of each cluster when already computed; ``top_terms(texts, labels,
        n_terms)`` when None.
    n_terms, n_texts : int, default=8, 5
        Top terms and representative texts shown per cluster.
    title : str, default="Clusters"
        Heading of the page.
    n_clusters : int, default=None
        Number of clusters, empty ones included: ``estimator.n_clusters`` with an
        estimator, else ``len(terms)`` when given, else ``max(labels) + 1``.

    Returns
    -------
    page : str
        The HTML document (no external resources).

    Examples
    --------
    >>> from skstc.report import report_html
    >>> page = report_html(["red apple", "green apple", "fast car"], [0, 0, 1], [0.9, 0.8, 0.7])
    >>> page.startswith("<!DOCTYPE html>") and "green apple" in page
    True
    """
    labels = np.asarray(labels)
    if n_clusters is None and estimator is not None:
        n_clusters = estimator.n_clusters
    if n_clusters is None and terms is not None:
        n_clusters = len(terms)
    if n_clusters is None:
        n_clusters = int(labels.max()) + 1 if labels.size else 0
    sizes = np.bincount(labels, minlength=n_clusters)
    if terms is None:
        terms = top_terms(texts, labels, n_terms, n_clusters=n_clusters)
    examples = representative_texts(texts, labels, confidence, n_texts, n_clusters=n_clusters)
    names = cluster_names(terms)
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "section{border-top:1px solid #ccc;padding:.3em 0}h2{font-size:1.1em}"
        ".terms{color:#235}li{margin:.15em 0}img{max-width:100%}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{len(texts)} texts in {len(sizes)} clusters.</p>",
    ]
    if estimator is not None and X is not None:
        parts.append(_map_html(estimator, X, labels, len(sizes)))
    for j in np.argsort(-sizes, kind="stable"):
        parts.append(f'<section id="cluster-{j}">')
        parts.append(
            f"<h2>Cluster {j} · {esc(names[j])}: {sizes[j]} texts "
            f"({sizes[j] / max(len(texts), 1):.1%})</h2>"
        )
        parts.append(f'<p class="terms">{esc(" · ".join(terms[j])) or "(no terms)"}</p>')
        parts.append("<ul>" + "".join(f"<li>{esc(t)}</li>" for t in examples[j]) + "</ul>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _figure_png(fig, dpi: int) -> bytes:
    """The PNG bytes of a matplotlib figure, which is then closed."""
    from .plotting import _pyplot

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    _pyplot().close(fig)
    return buf.getvalue()


def _map_html(estimator, X, labels, n_clusters: int) -> str:
    """The map of :func:`report_figure` as an inline image (a note without matplotlib)."""
    try:
        fig = report_figure(estimator, X, labels, n_clusters)
    except ImportError:
        return "<p>(Install matplotlib for a map of the clusters.)</p>"
    png = base64.b64encode(_figure_png(fig, dpi=110)).decode("ascii")
    return f'<img alt="map of the clusters" src="data:image/png;base64,{png}">'


def render_report(
    suffix: str, texts: list[str], labels, confidence, *, estimator, X, terms=None,
    n_clusters: int | None = None,
) -> bytes:
    """The report of a clustering as the bytes of a file in the format ``suffix`` names.

    ``".html"`` / ``".htm"``: :func:`report_html` (UTF-8); ``".png"``:
    :func:`report_figure` (needs matplotlib). See ``REPORT_FORMATS``.

    Parameters
    ----------
    suffix : str
        File suffix, case-insensitive, a key of ``REPORT_FORMATS``.
    texts, labels, confidence, terms
        As for :func:`report_html`.
    estimator : STCClustering
        The fitted estimator.
    X : array-like of shape (n_texts, n_features)
        The embeddings of ``texts``.
    n_clusters : int, default=None
        Number of clusters of ``labels``; ``estimator.n_clusters`` when None.

    Returns
    -------
    content : bytes
    """
    suffix = suffix.lower()
    if suffix not in REPORT_FORMATS:
        raise ValueError(f"a report is written as {', '.join(REPORT_FORMATS)}, not {suffix!r}")
    n_clusters = n_clusters or estimator.n_clusters
    if suffix == ".png":
        return _figure_png(report_figure(estimator, X, labels, n_clusters), dpi=120)
    title = f"{len(texts)} texts in {n_clusters} clusters"
    return report_html(texts, labels, confidence, estimator=estimator, X=X, terms=terms,
                       title=title, n_clusters=n_clusters).encode("utf-8")
