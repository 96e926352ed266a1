"""The catalogue of checks: one module per family, ``verify/checks/<family>.py``.

Modules here are discovered by :func:`verify.core.registry` (every module whose name
does not start with ``_``); importing one registers its checks.
"""
