"""Sphinx configuration of the sklearn-dpads documentation.

Build from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import re
import sys
import warnings
from pathlib import Path

import matplotlib

DOCS = Path(__file__).resolve().parent
# Build from a checkout even when the package is not installed.
sys.path.insert(0, str(DOCS.parent))
matplotlib.use("Agg")

import sklearn_dpads  # noqa: E402

# -- project ---------------------------------------------------------------------
project = "sklearn-dpads"
author = "sklearn-dpads developers"
copyright = "sklearn-dpads developers"
version = release = sklearn_dpads.__version__

# -- general ---------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"  # numpydoc sections already give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery --------------------------------------------------------------
# Examples named plot_*.py are executed during the build; any error aborts it.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": str(DOCS / "gen_modules" / "backreferences"),
    "doc_module": ("sklearn_dpads",),
    "image_scrapers": ("matplotlib",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": os.environ.get("SKLEARN_DPADS_DOCS_PLOT_GALLERY", "True"),
}

# Examples call plt.show() at the end; with the Agg backend that only warns.
warnings.filterwarnings("ignore", category=UserWarning, message=".*non-interactive.*")

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-dpads {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}


# -- autodoc -------------------------------------------------------------------------
def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated ``set_*_request`` methods (metadata routing)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_TYPE_LINE = re.compile(r"^(\s*[\w*][\w*, ]* : )(.+)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_attribute_names_in_types(app, what, name, obj, options, lines):
    """Quote ``name_`` words in numpydoc type lines (``(n_features_in_,)``).

    In reStructuredText a word ending in ``_`` is a link, so a type such as
    ``ndarray of shape (n_features_in_,)`` fails the build with "Unknown target
    name". Runs before numpydoc.
    """
    for i, line in enumerate(lines):
        m = _TYPE_LINE.match(line)
        if m:
            lines[i] = m.group(1) + _TRAILING_UNDERSCORE.sub(r"``\1``", m.group(2))


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect(
        "autodoc-process-docstring", _quote_attribute_names_in_types, priority=100
    )
