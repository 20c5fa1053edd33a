"""Checks of the built HTML site that a warning-free Sphinx build does not make.

Run after ``sphinx-build docs docs/_build/html`` (CI does): exits non-zero, naming each
failed check, when a page lacks what it should show.
"""

import re
import sys
from pathlib import Path

HTML = Path(__file__).resolve().parent / "_build" / "html"


def read(page: str) -> str:
    return (HTML / page).read_text(encoding="utf-8")


def main() -> int:
    failures = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    stc = read("generated/skstc.STCClustering.html")
    for method in ("fit", "predict", "predict_proba", "transform", "score"):
        check(f'id="skstc.STCClustering.{method}"' in stc, f"STCClustering.{method} rendered")
    check("Examples using" in stc, "STCClustering page links the examples using it")
    for cls in ("TfidfSVDEmbedding", "SIFEmbedding", "SentenceEmbedding"):
        page = read(f"generated/skstc.embeddings.{cls}.html")
        check(f'id="skstc.embeddings.{cls}.transform"' in page, f"{cls}.transform rendered")
    guide = read("user_guide.html")
    check('src="_static/mathjax/tex-chtml.js"' in guide, "MathJax served locally")
    check((HTML / "_static/mathjax/tex-chtml.js").is_file(), "local MathJax file present")
    check("cdn.jsdelivr" not in guide, "no MathJax from a CDN")
    gallery = read("auto_examples/index.html")
    thumbs = re.findall(r'src="\.\./_images/(sphx_glr_plot_\w+_thumb\.png)"', gallery)
    examples = sorted(p.stem for p in (HTML.parents[2] / "examples").glob("plot_*.py"))
    check(len(thumbs) == len(examples), "every example has a thumbnail of its own")
    check(thumbs == sorted(thumbs) and "quickstart" in thumbs[0], "gallery in order")
    quick = read("auto_examples/plot_1_quickstart.html")
    check("STC before self-training" in quick and "ACC" in quick, "quickstart shows output")
    bench = read("benchmarks.html")
    check('class="plot-directive"' in bench, "benchmarks page opens with a chart")
    check("Against the targets" not in bench, "development targets kept off the page")
    check(not re.search(r"/(work|root|home|tmp)/", bench), "no local paths on the page")
    for page in ("index.html", "getting_started.html", "benchmarks.html"):
        check(re.search(r'class="bd-sidebar-primary[^"]*hide-on-wide', read(page)) is not None,
              f"{page}: no empty left sidebar")
    for failure in failures:
        print(f"docs check failed: {failure}", file=sys.stderr)
    print(f"docs checks: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
