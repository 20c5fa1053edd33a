"""A report of a clustering of texts: sizes, top terms, representative texts and a map.

:func:`top_terms` and :func:`representative_texts` summarise each cluster;
:func:`report_html` puts them in one self-contained HTML page: an index of the clusters
by size, a search box over their terms and texts, one section per cluster, and a map.
The map is interactive with Plotly (:func:`report_map`: one trace per cluster, hover a
point to read its text, click it to open its cluster) and a PNG with matplotlib only
(:func:`report_figure`, the map and the cluster sizes as one figure); both come with the
``plot`` extra. :func:`render_report` gives either page or figure as the bytes of a file
whose format its suffix names (``REPORT_FORMATS``); ``skstc cluster --report`` writes
them.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Sequence

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["REPORT_FORMATS", "cluster_names", "render_report", "report_figure", "report_html",
           "report_map", "representative_texts", "top_terms"]

#: File suffixes :func:`render_report` writes, and what each holds.
REPORT_FORMATS = {
    ".html": "interactive: sizes, top terms, texts, search, map",
    ".htm": "interactive: sizes, top terms, texts, search, map",
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


#: Texts listed under each cluster of the HTML page (all of them up to this many).
MAX_LISTED = 100

#: Points drawn on the map (a random sample above this many texts).
MAP_MAX_POINTS = 5000

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
            "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363")

_STYLE = (
    "body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em}"
    "section{border-top:1px solid #ccc;padding:.3em 0}h2{font-size:1.1em}"
    ".terms{color:#235}li{margin:.15em 0}img{max-width:100%}"
    "#index{border-collapse:collapse;font-size:.9em}#index td{padding:.1em .5em}"
    ".bar{background:#8aa;height:.8em;display:inline-block}"
    "#search{width:24em;font-size:1em;padding:.2em}section:target{background:#ffd}"
)

# the page's own behaviour: the search box filters the clusters (their terms and listed
# texts) and dims the others on the map; clicking a point of the map opens its cluster
_SCRIPT = """
(function () {
  var box = document.getElementById("search"), count = document.getElementById("found");
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.cluster"));
  var map = document.getElementById("map");
  function filter() {
    var q = box.value.trim().toLowerCase(), shown = {}, n = 0;
    sections.forEach(function (s) {
      var hit = !q || s.textContent.toLowerCase().indexOf(q) >= 0;
      s.hidden = !hit;
      document.getElementById("row-" + s.dataset.cluster).hidden = !hit;
      if (hit) { shown[s.dataset.cluster] = true; n += 1; }
    });
    count.textContent = q ? n + " of " + sections.length + " clusters" : "";
    if (map && map.data && window.Plotly) {
      Plotly.restyle(map, {opacity: map.data.map(function (t) {
        return shown[t.meta] ? 0.85 : 0.06; })});
    }
  }
  box.addEventListener("input", filter);
  if (map && map.on) {
    map.on("plotly_click", function (e) {
      var j = e.points[0].data.meta, s = document.getElementById("cluster-" + j);
      s.querySelector("details").open = true;
      location.hash = "cluster-" + j;
    });
  }
})();
"""


def _map_xy(Z: np.ndarray, random_state: int) -> np.ndarray:
    """2-D coordinates of the codes ``Z`` that keep clusters apart: UMAP when umap-learn is
    installed, else t-SNE (scikit-learn); the codes themselves below 4 rows."""
    if Z.shape[1] <= 2 or len(Z) < 4:
        return np.pad(Z[:, :2], ((0, 0), (0, max(0, 2 - Z.shape[1]))))
    try:
        from umap import UMAP
    except ImportError:
        from .plotting import _tsne_2d

        return _tsne_2d(Z, random_state)
    return UMAP(n_neighbors=min(15, len(Z) - 1), min_dist=0.1, random_state=random_state,
                n_jobs=1).fit_transform(Z)


def _plotly():
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise ImportError("the interactive map needs plotly: pip install 'skstc[plot]'"
                          ) from None
    return go


def _hover(text: str, width: int = 80, max_chars: int = 400) -> str:
    """A text as Plotly hover text: shortened, ``<``, ``>`` and ``&`` escaped (Plotly reads
    a few HTML tags; the user's texts must show as written), wrapped with ``<br>``."""
    text = text if len(text) <= max_chars else text[:max_chars - 1] + "…"
    return "<br>".join(html.escape(line, quote=False)
                       for line in textwrap.wrap(text, width) or [""])


def report_map(estimator, X, texts: list[str], labels=None, *, names: list[str] | None = None,
               n_clusters: int | None = None, max_points: int = MAP_MAX_POINTS,
               random_state: int = 0):
    """An interactive 2-D map of the latent codes: one Plotly trace per cluster.

    The codes (``estimator.transform(X)``) of at most ``max_points`` texts drawn at random
    are laid out by UMAP (t-SNE without umap-learn); hovering a point shows its text.
    Needs plotly (``skstc[plot]``).

    Parameters
    ----------
    estimator : STCClustering
        A fitted estimator.
    X : array-like of shape (n_texts, n_features)
        The embeddings of ``texts``.
    texts : list of str
        The texts, shown on hover.
    labels : array-like of shape (n_texts,), default=None
        Clusters; ``estimator.predict(X)`` when None.
    names : list of str, default=None
        A name per cluster (e.g. :func:`cluster_names`), in the legend.
    n_clusters : int, default=None
        Number of clusters of ``labels``; ``estimator.n_clusters`` when None.
    max_points : int, default=5000
        Points drawn at most.
    random_state : int, default=0
        Seed of the sample and of the layout.

    Returns
    -------
    fig : plotly.graph_objects.Figure
        Trace ``j`` (its ``meta``) holds the points of cluster ``j``; clusters without
        a drawn point have a trace without points.
    """
    go = _plotly()
    check_is_fitted(estimator)
    labels = estimator.predict(X) if labels is None else np.asarray(labels)
    n_clusters = n_clusters or estimator.n_clusters
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts for {len(labels)} labels")
    idx = np.arange(len(labels))
    if len(idx) > max_points:
        idx = np.sort(np.random.RandomState(random_state).choice(len(idx), max_points,
                                                                 replace=False))
    xy = _map_xy(np.asarray(estimator.transform(np.asarray(X)[idx])), random_state)
    names = names or [""] * n_clusters
    fig = go.Figure()
    for j in range(n_clusters):
        mine = np.flatnonzero(labels[idx] == j)
        fig.add_trace(go.Scattergl(
            x=xy[mine, 0], y=xy[mine, 1], mode="markers", meta=j,
            name=html.escape(f"{j} · {names[j]}"),
            marker={"size": 5, "color": _PALETTE[j % len(_PALETTE)]}, opacity=0.85,
            hovertext=[_hover(texts[i]) for i in idx[mine]],
            hovertemplate="%{hovertext}<extra>%{fullData.name}</extra>"))
    fig.update_layout(
        title=f"map of the clusters ({len(idx)} of {len(labels)} texts; hover to read, "
              "click to open the cluster)",
        xaxis={"visible": False}, yaxis={"visible": False}, height=620,
        margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"itemsizing": "constant"},
        plot_bgcolor="white")
    return fig


def _fallback_note(estimator) -> str:
    """What to tell a reader of a fit whose floor fell back (``estimator.fallback_``)."""
    return (f"Self-training's clusters overlapped in the embedding (mean silhouette "
            f"{estimator.silhouette_:.3f}): these are diffusion + k-means' clusters, learnt "
            "by the model")


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
    map: str = "auto",
    notes: Sequence[str] = (),
) -> str:
    """A self-contained HTML page describing a clustering of ``texts``.

    An index of the clusters by size (a bar each), a search box that keeps the clusters
    whose terms or listed texts hold a word, and one section per cluster, largest first:
    its size and share, its top terms (:func:`top_terms`), its most confident texts
    (:func:`representative_texts`) and up to ``MAX_LISTED`` of its texts. With
    ``estimator`` and ``X`` the page opens with a map: :func:`report_map` with plotly
    (its JavaScript embedded: nothing is fetched when the page is viewed), else
    :func:`report_figure` as a PNG with matplotlib. Every text is escaped: markup in the
    texts shows as written.

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
    map : {"auto", "interactive", "static", "none"}, default="auto"
        The map: ``"auto"`` is interactive with plotly installed, else static with
        matplotlib, else a note saying what to install.
    notes : sequence of str, default=()
        Paragraphs shown under the heading (how the number of clusters was chosen, for
        instance); escaped like the texts.

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
    if map not in ("auto", "interactive", "static", "none"):
        raise ValueError(f"map must be 'auto', 'interactive', 'static' or 'none', got {map!r}")
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
    order = np.argsort(-sizes, kind="stable")
    count = f"{len(texts)} texts in {len(sizes)} clusters"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        *([] if title == count else [f"<p>{count}.</p>"]),  # not twice
        *(f"<p>{esc(note)}</p>" for note in notes),
        '<p><input id="search" type="search" placeholder="find a word in the clusters\' '
        'terms and texts" aria-label="search"> <span id="found"></span></p>',
    ]
    if getattr(estimator, "fallback_", False):
        parts.append(f"<p>{esc(_fallback_note(estimator))}.</p>")
    if estimator is not None and X is not None and map != "none":
        parts.append(_map_html(estimator, X, texts, labels, names, len(sizes), map))
    parts.append('<table id="index"><tr><th>cluster</th><th>texts</th><th></th></tr>')
    largest = max(int(sizes.max()) if sizes.size else 1, 1)
    for j in order:
        parts.append(f'<tr id="row-{j}"><td><a href="#cluster-{j}">{j} · {esc(names[j])}'
                     f'</a></td><td>{sizes[j]}</td><td><span class="bar" style="width:'
                     f'{12 * sizes[j] / largest:.2f}em"></span></td></tr>')
    parts.append("</table>")
    for j in order:
        members = np.flatnonzero(labels == j)[:MAX_LISTED]
        parts.append(f'<section class="cluster" id="cluster-{j}" data-cluster="{j}">')
        parts.append(
            f"<h2>Cluster {j} · {esc(names[j])}: {sizes[j]} texts "
            f"({sizes[j] / max(len(texts), 1):.1%})</h2>"
        )
        parts.append(f'<p class="terms">{esc(" · ".join(terms[j])) or "(no terms)"}</p>')
        parts.append("<ul>" + "".join(f"<li>{esc(t)}</li>" for t in examples[j]) + "</ul>")
        listed = "all" if sizes[j] <= MAX_LISTED else f"{MAX_LISTED} of the"
        parts.append(f"<details><summary>{listed} {sizes[j]} texts</summary><ol>"
                     + "".join(f"<li>{esc(texts[i])}</li>" for i in members)
                     + "</ol></details>")
        parts.append("</section>")
    parts.append(f"<script>{_SCRIPT}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _figure_png(fig, dpi: int) -> bytes:
    """The PNG bytes of a matplotlib figure, which is then closed."""
    from .plotting import _pyplot

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    _pyplot().close(fig)
    return buf.getvalue()


def _map_html(estimator, X, texts, labels, names, n_clusters: int, kind: str) -> str:
    """The map of the page: :func:`report_map` (``kind`` "interactive", or "auto" with
    plotly), else :func:`report_figure` as an inline PNG, else a note."""
    if kind in ("auto", "interactive"):
        try:
            fig = report_map(estimator, X, texts, labels, names=names, n_clusters=n_clusters)
        except ImportError:
            if kind == "interactive":
                raise
        else:
            return fig.to_html(full_html=False, include_plotlyjs=True, div_id="map",
                               config={"displaylogo": False})
    try:
        fig = report_figure(estimator, X, labels, n_clusters)
    except ImportError:
        return "<p>(Install plotly or matplotlib for a map of the clusters: "\
               "pip install 'skstc[plot]'.)</p>"
    png = base64.b64encode(_figure_png(fig, dpi=110)).decode("ascii")
    return f'<img alt="map of the clusters" src="data:image/png;base64,{png}">'


def render_report(
    suffix: str, texts: list[str], labels, confidence, *, estimator, X, terms=None,
    n_clusters: int | None = None, notes: Sequence[str] = (),
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
    notes : sequence of str, default=()
        Paragraphs under the heading of an HTML report (:func:`report_html`).

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
                       title=title, n_clusters=n_clusters, notes=notes).encode("utf-8")
