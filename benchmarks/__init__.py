"""Benchmarks of the NumPy engine against PyTorch and the machine's BLAS (not the test suite).

Run ``python -m benchmarks`` (see ``benchmarks/README.md``); needs the extras ``bench`` and
``data``.
"""
