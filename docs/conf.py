"""Sphinx configuration of the skstc documentation."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SKSTC_DATA", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import skstc  # noqa: E402

project = "skstc"
author = "skstc developers"
copyright = "2026, skstc developers"
release = skstc.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from _static: formulas render offline
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
plot_working_directory = str(ROOT)  # the benchmarks chart reads benchmarks/RESULTS.md
plot_html_show_source_link = False
plot_html_show_formats = False
autosummary_generate = True
templates_path = ["_templates"]  # class and function pages render every method
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"inherited-members": False}
myst_heading_anchors = 2
suppress_warnings = ["myst.header"]

intersphinx_mapping = {}  # offline build: no inventories are fetched

# Nitpicky builds (CI: -n) fail on any reference that does not resolve. References to
# other projects cannot resolve offline (no inventories); every skstc reference must.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:(class|func|mod|data|meth|obj)",
     r"(numpy|scipy|sklearn|torch|joblib|pandas|os|pathlib|collections|tracemalloc|dask|"
     r"distributed|plotly|model2vec|onnxruntime)(\..*)?"),
]

html_theme = "pydata_sphinx_theme"
html_title = f"skstc {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
# Single pages have no sub-pages to list: no (empty) left sidebar on them.
html_sidebars = {p: [] for p in ("index", "getting_started", "user_guide", "benchmarks",
                                  "changelog")}

# Every example runs at each build (numbered: the gallery shows them in that order).
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    # "Examples using ..." at the foot of each API page
    "doc_module": ("skstc",),
    "backreferences_dir": "generated",
    "reference_url": {"skstc": None},
}
