"""The documentation site: ``python -m docs.build`` writes it to ``docs/_build/html``.

The site is generated, never hand-maintained: the quick start comes from the README, the
catalogue pages from the registry (:mod:`docs.catalogue`), the gallery from ``examples/``
executed at notebook size (:mod:`docs.gallery`), the API reference from the docstrings
(:mod:`docs.api`). Sphinx with MyST-NB renders it; :mod:`docs.site_checks` checks the built
HTML (offline assets, internal links) and drives a headless Chromium over it.
"""
