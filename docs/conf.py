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
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"inherited-members": False}
myst_heading_anchors = 2
suppress_warnings = ["myst.header"]

intersphinx_mapping = {}  # offline build: no inventories are fetched

html_theme = "pydata_sphinx_theme"
html_title = f"skstc {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

# Examples: CI executes the fast ones (SKSTC_DOCS_FULL unset); a full build runs all.
_fast = r"/plot_(training_curves|grid_search|choosing_k)\.py"
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*" if os.environ.get("SKSTC_DOCS_FULL") else _fast,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
}
