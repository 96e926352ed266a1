"""Sphinx configuration of the documentation site (copied to the generated source tree as conf.py).

``python -m docs.build`` writes the sources (quick start, catalogue, gallery, API pages) and the
static files next to this file's copy, then runs Sphinx with -W (a warning fails the build).
"""

project = "tdtk"
author = "the tdtk authors"
copyright = "the tdtk authors, MIT licence"
html_title = "tdtk: training-dynamics theory, derived and checked"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# MyST: $...$ and $$...$$ math in Markdown; anchors on headings for README-style links.
myst_enable_extensions = ["dollarmath"]
# MyST would mark every section "tex2jax_ignore" and configure MathJax 3+ to process only its math
# elements; MathJax 2 reads neither setting that way, so leave the page alone: MathJax 2's tex2jax
# finds the \(...\) and \[...\] that Sphinx writes, and skips pre/code (the notebooks' printouts).
myst_update_mathjax = False
myst_heading_anchors = 3

# The gallery's notebooks are executed by docs.gallery before Sphinx runs (a failing notebook
# fails the build there); MyST-NB only renders their stored outputs.
nb_execution_mode = "off"
nb_merge_streams = True

# Offline math: MathJax 2 from Debian's libjs-mathjax, copied into _static/mathjax by the build,
# SVG output (no web fonts to load). No CDN.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_SVG-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
    "SVG": {"linebreaks": {"automatic": True}},
    "menuSettings": {"zoom": "Click"},
    "showProcessingMessages": False,
    "messageStyle": "none",
}

html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["tdtk.css"]
html_last_updated_fmt = None
html_show_sourcelink = False
