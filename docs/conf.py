"""Sphinx configuration of the eegbin documentation.

Build (warnings are errors, as in CI)::

    pip install -e ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

Environment variables:

``EEGBIN_DOCS_PLOT_GALLERY``
    ``1`` (default) runs every ``examples/plot_*.py`` at build time (sphinx-gallery);
    ``0`` renders the gallery pages from the sources without running them (fast
    local edits of the prose; CI keeps the default).
"""

import os
import sys
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # eegbin from this checkout, installed or not
sys.path.insert(0, os.path.join(HERE, "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import eegbin  # noqa: E402

project = "eegbin"
author = "eegbin developers"
copyright = f"{date.today().year}, {author}"
version = release = eegbin.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "eegbin_docs",  # docs/_ext/eegbin_docs.py: API page from __all__, results tables
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc -------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# every public name must carry a docstring: checked by eegbin_docs (see api.rst)

intersphinx_mapping = {}  # no network at build time (CI runs offline)

# Pages of examples that were deleted or renamed since the last local build would be
# orphans (a warning, so an error under -W): drop them before sphinx-gallery runs.
_gallery_out = os.path.join(HERE, "auto_examples")
if os.path.isdir(_gallery_out):
    for _f in os.listdir(_gallery_out):
        _stem = _f.split(".")[0]
        if _stem.startswith("plot_") and not os.path.exists(os.path.join(ROOT, "examples", _stem + ".py")):
            os.remove(os.path.join(_gallery_out, _f))
# sphinx-gallery rewrites it when examples run; a stale one points at old examples
if os.path.exists(os.path.join(HERE, "sg_execution_times.rst")):
    os.remove(os.path.join(HERE, "sg_execution_times.rst"))

# -- sphinx-gallery -------------------------------------------------------------------
_plot = os.environ.get("EEGBIN_DOCS_PLOT_GALLERY", "1") not in ("0", "false", "False", "")
sphinx_gallery_conf = {
    "examples_dirs": os.path.join(ROOT, "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every plot_*.py (each must take < 1 minute)
    "plot_gallery": _plot,
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "write_computation_times": _plot,
    "doc_module": ("eegbin",),
    "backreferences_dir": "generated/backreferences",
    "inspect_global_variables": False,
}

# -- HTML -----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"eegbin {version}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False
