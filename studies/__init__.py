"""The studies: one module per question, each with a ``TITLE`` and a ``run`` function.

Installed as ``landscape.studies`` (the top-level ``studies/`` folder is mapped into the
package at build time); ``landscape list`` and ``landscape run NAME`` find them here, and
``python -m landscape.studies.NAME [OUT] [--quick] [--seed S]`` runs one. The protocol a
study follows is in :mod:`landscape.cli`; modules starting with ``_`` are helpers, not studies.
"""
