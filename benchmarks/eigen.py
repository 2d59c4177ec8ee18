"""Extreme Hessian eigenvalues to a relative accuracy: Lanczos against power iteration.

Both count Hessian-vector products at one ``theta`` of a float64 objective. The answer
they are judged against comes from elsewhere: the dense Hessian's ``eigvalsh`` for small
models, otherwise a tight ``eigsh`` (``tol=0``, 64 Lanczos vectors, its own start vector).

- Power iteration is the plain power method on ``objective.hvp``: top-1 as is, top-5 one
  after another orthogonalized against the vectors already found (deflation, as PyHessian
  does), bottom-1 on ``H - s I`` with ``s`` the top eigenvalue it found first (those
  products are counted). It is stopped the moment its Rayleigh quotient is within
  ``RTOL`` of the reference answer: an oracle no real run has, so its counts are the best
  power iteration can do.
- Lanczos at equal accuracy: :func:`landscape.hessian.lanczos` from the same start vector,
  stopped by the same oracle: the fewest steps whose Ritz values are within ``RTOL``.
- The library's own run: :func:`landscape.hessian.eigenpairs` (its thick-restart Lanczos,
  :mod:`landscape.krylov`) with ``tol=RTOL`` and its default ``ncv``: it stops at the first
  product after which every wanted Ritz pair's residual is below ``RTOL |value|``, which
  bounds the eigenvalue's error by as much; a practical rule that needs no answer
  (``benchmarks/lanczos.py`` compares it with ``eigsh`` and hessian-eigenthings).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from scipy.linalg import eigvalsh_tridiagonal
from scipy.sparse.linalg import eigsh

from landscape.hessian import eigenpairs, hessian_operator, lanczos

RTOL = 1e-8
TOP = 5  # eigenvalues of the "top-5" row
TASKS = ("top-1", "top-5", "bottom-1")


class Reference(NamedTuple):
    """The answer: the ``TOP`` largest eigenvalues (descending), the smallest, and how."""

    top: np.ndarray
    bottom: float
    method: str


class Run(NamedTuple):
    """One method on one task: eigenvalues found, products spent, largest relative error
    against the reference, whether it reached ``RTOL``, and seconds."""

    values: np.ndarray
    n_hvp: int
    error: float
    reached: bool
    seconds: float


def reference(objective, theta, dense_max: int = 1000) -> Reference:
    """Eigenvalues to compare with: dense for ``dim <= dense_max``, else a tight eigsh."""
    if objective.dim <= dense_max:
        w = np.linalg.eigvalsh(objective.hessian(theta))
        return Reference(w[::-1][:TOP].copy(), float(w[0]), "dense eigvalsh")
    op = hessian_operator(objective, theta)
    v0 = np.random.default_rng(12345).standard_normal(objective.dim)
    ncv = min(objective.dim - 1, 64)
    top = np.sort(eigsh(op, TOP, which="LA", tol=0, ncv=ncv, v0=v0, return_eigenvectors=False))
    bottom = eigsh(op, 1, which="SA", tol=0, ncv=ncv, v0=v0, return_eigenvectors=False)
    return Reference(top[::-1].copy(), float(bottom[0]), "eigsh tol=0, ncv=64")


def _relative(values, answer) -> float:
    values, answer = np.atleast_1d(values), np.atleast_1d(answer)
    return float(np.max(np.abs(values - answer) / np.abs(answer)))


def _start(dim: int) -> np.ndarray:
    """The start vector of power iteration and of the oracle-stopped Lanczos."""
    return np.random.default_rng(0).standard_normal(dim)


def _wanted(values, task: str) -> np.ndarray:
    """The eigenvalues ``task`` asks for out of ascending ``values``."""
    return {"top-1": values[::-1][:1], "top-5": values[::-1][:TOP],
            "bottom-1": values[:1]}[task]


def answer(ref: Reference, task: str, count: int = TOP) -> np.ndarray:
    """The reference eigenvalues ``task`` asks for (of top-5, the first ``count``)."""
    return {"top-1": ref.top[:1], "top-5": ref.top[:count],
            "bottom-1": np.array([ref.bottom])}[task]


def krylov(objective, theta, ref: Reference, max_steps: int) -> dict:
    """For each task, the fewest Lanczos steps (one HVP each) whose Ritz values are within
    ``RTOL`` of the answer: one run of up to ``max_steps`` steps, read off prefix by prefix
    (step ``m``'s tridiagonal matrix is the leading block of the longer run's)."""
    start = time.perf_counter()
    run = lanczos(hessian_operator(objective, theta), _start(objective.dim),
                  min(max_steps, objective.dim))
    seconds = time.perf_counter() - start
    found = {}
    for m in range(1, len(run.alpha) + 1):
        ritz = eigvalsh_tridiagonal(run.alpha[:m], run.beta[:m - 1])
        for task in TASKS:
            if task not in found and len(ritz) >= len(answer(ref, task)):
                values = _wanted(ritz, task)
                error = _relative(values, answer(ref, task))
                if error <= RTOL:
                    found[task] = Run(values, m, error, True, np.nan)
        if len(found) == len(TASKS):
            break
    missing = {task: Run(_wanted(ritz, task), len(run.alpha), np.inf, False, seconds)
               for task in TASKS if task not in found}
    return {task: found.get(task) or missing[task] for task in TASKS}


def library(objective, theta, task: str, ref: Reference) -> Run:
    """The library's :func:`eigenpairs` on ``task``: 'top-1', 'top-5' or 'bottom-1'."""
    k, which = {"top-1": (1, "LA"), "top-5": (TOP, "LA"), "bottom-1": (1, "SA")}[task]
    start = time.perf_counter()
    spectrum = eigenpairs(hessian_operator(objective, theta), k, which, rng=0,
                          method="lanczos", tol=RTOL)
    seconds = time.perf_counter() - start
    values = _wanted(spectrum.eigenvalues, task)
    error = _relative(values, answer(ref, task)) if len(values) == k else np.inf
    return Run(values, spectrum.n_hvp, error, spectrum.converged and error <= RTOL, seconds)


def _power(matvec, v, answer: float, shift: float, cap: int, known: list):
    """Power iteration on ``matvec`` from ``v``, projected off the ``known`` unit vectors,
    until ``quotient + shift`` is within ``RTOL`` of ``answer`` or ``cap`` products.

    Returns ``(quotient + shift, unit vector, products, reached)``.
    """
    v = v / np.linalg.norm(v)
    value = np.nan
    for count in range(1, cap + 1):
        for u in known:
            v -= (u @ v) * u
        v /= np.linalg.norm(v)
        w = matvec(v)
        value = float(v @ w) + shift
        if abs(value - answer) <= RTOL * abs(answer):
            return value, v, count, True
        v = w / np.linalg.norm(w)
    return value, v, cap, False


def power(objective, theta, task: str, ref: Reference, cap: int) -> Run:
    """Power iteration on ``task`` ('top-1', 'top-5', 'bottom-1'), at most ``cap``
    products per eigenvalue; stops at the first eigenvalue that does not reach ``RTOL``."""
    rng = np.random.default_rng(1)  # start vectors after the first
    hvp = lambda x: objective.hvp(theta, x)
    start = time.perf_counter()
    top, u, spent, reached = _power(hvp, _start(objective.dim), ref.top[0], 0.0, cap, [])
    values, known = [top], [u]
    if task == "top-5":
        while reached and len(values) < TOP:
            value, u, count, reached = _power(hvp, rng.standard_normal(objective.dim),
                                              ref.top[len(values)], 0.0, cap, known)
            values.append(value)
            known.append(u)
            spent += count
    elif task == "bottom-1":
        value, count = np.nan, 0
        if reached:
            shifted = lambda x: objective.hvp(theta, x) - top * x
            value, _, count, reached = _power(shifted, rng.standard_normal(objective.dim),
                                              ref.bottom, top, cap, [])
        values, spent = [value], spent + count
    seconds = time.perf_counter() - start
    error = _relative(values, answer(ref, task, len(values)))
    return Run(np.array(values), spent, error, reached, seconds)
