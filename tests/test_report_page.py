"""The interactive HTML report: its map (plotly) and the page in a real headless browser."""

import shutil

import numpy as np
import pytest
from _testing import small_params

from skstc import STCClustering
from skstc.report import report_html, report_map

HOSTILE = ('<script>alert("x")</script> and <a href="javascript:alert(1)">a link</a> '
           '<img src=x onerror=alert(2)>')


def _fitted(n_clusters=5, n=300):
    rng = np.random.RandomState(0)
    y = np.arange(n) % n_clusters
    X = (rng.normal(size=(n, 8)) + 6 * np.eye(8)[y]).astype(np.float32)
    texts = [f"about topic{label} word{i % 7} text {i}" for i, label in enumerate(y)]
    texts[0], texts[1] = HOSTILE, "a zebra among the texts"
    stc = STCClustering(n_clusters, **small_params(max_iter=30)).fit(X)
    return stc, X, texts


def test_report_map_one_trace_per_cluster_with_escaped_hover_text():
    pytest.importorskip("plotly")
    stc, X, texts = _fitted()
    fig = report_map(stc, X, texts, names=[f"n{j}" for j in range(5)], max_points=200)
    assert [t.meta for t in fig.data] == list(range(5))
    assert sum(len(t.x) for t in fig.data) == 200
    hover = [h for t in fig.data for h in t.hovertext]
    assert all("<script" not in h and "<a " not in h and "<img" not in h for h in hover)
    assert fig.data[1].name == "1 · n1"


def test_every_view_of_the_page_escapes_the_texts():
    pytest.importorskip("plotly")
    stc, X, texts = _fitted()
    for kind in ("interactive", "none"):
        page = report_html(texts, stc.labels_, stc.predict_proba(X).max(1), estimator=stc,
                           X=X, map=kind)
        assert "alert(" in page  # the text is there ...
        # ... but never as markup: no tag or attribute of it survives unescaped
        assert "<script>alert" not in page and 'href="javascript' not in page
        assert "<img src=x" not in page
    with pytest.raises(ValueError, match="map must be"):
        report_html(texts, stc.labels_, stc.predict_proba(X).max(1), map="3d")


def _browser():
    """Playwright and a Chromium to drive: playwright's own, else the system's."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return sync_api, shutil.which(name)
    return sync_api, None


def test_page_in_a_headless_browser(tmp_path):
    pytest.importorskip("plotly")
    sync_api, executable = _browser()
    stc, X, texts = _fitted()
    page = report_html(texts, stc.labels_, stc.predict_proba(X).max(1), estimator=stc, X=X)
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        except Exception as exc:  # no browser at all (playwright's not downloaded)
            pytest.skip(f"no Chromium to run: {str(exc).splitlines()[0]}")
        view = browser.new_page(viewport={"width": 1200, "height": 900})
        errors, dialogs = [], []
        view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        view.on("pageerror", lambda e: errors.append(str(e)))
        view.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        view.goto(path.as_uri())
        view.wait_for_function("document.getElementById('map') && "
                               "document.getElementById('map')._fullData")
        assert view.evaluate("document.getElementById('map').data.length") == 5
        # hover the point of the hostile text: its tooltip shows it as written
        x, y = view.evaluate("""() => {
            const m = document.getElementById('map'), fl = m._fullLayout;
            for (const t of m._fullData) {
                const i = t.hovertext.findIndex(h => h.includes('alert('));
                if (i >= 0) {
                    const r = m.getBoundingClientRect();
                    return [r.left + fl._size.l + fl.xaxis.l2p(t.x[i]),
                            r.top + fl._size.t + fl.yaxis.l2p(t.y[i])];
                }
            }}""")
        view.mouse.move(x, y)
        view.wait_for_selector(".hoverlayer .hovertext")
        hover = view.text_content(".hoverlayer .hovertext")
        assert '<script>alert("x")</script>' in hover
        # the sections show it as text; nothing of it became an element
        assert view.text_content("body").count(HOSTILE) >= 1
        assert view.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
        assert view.evaluate("document.querySelectorAll('img').length") == 0
        # the search box keeps the clusters whose texts hold the word
        view.fill("#search", "Zebra")
        assert view.inner_text("#found") == "1 of 5 clusters"
        assert view.evaluate("document.querySelectorAll('section.cluster:not([hidden])')"
                             ".length") == 1
        # a click on a point opens its cluster
        view.mouse.click(x, y)
        assert view.evaluate("location.hash").startswith("#cluster-")
        browser.close()
    assert not errors and not dialogs
