"""Pictures of Hessian spectra: eigenvalues by rank, their histogram, a smooth density."""

from __future__ import annotations

import numpy as np

from landscape._checks import finite_array
from landscape.plot._style import new_axes


def plot_spectrum(eigenvalues, ax=None, symlog: bool = False, **kwargs):
    """Draw eigenvalues against their rank, largest first, with a line at zero.

    Parameters
    ----------
    eigenvalues : array_like, shape ``(k,)``, or a spectrum record with ``eigenvalues``.
    ax : matplotlib Axes, or None.
    symlog : bool, a symmetric-log eigenvalue axis (spectra span many decades on both signs).
    **kwargs : passed to ``Axes.scatter``.

    Returns
    -------
    matplotlib.collections.PathCollection
    """
    values = finite_array(getattr(eigenvalues, "eigenvalues", eigenvalues), "eigenvalues",
                          ndim=1)
    ax = new_axes(ax)
    ordered = np.sort(values)[::-1]
    artist = ax.scatter(np.arange(1, ordered.size + 1), ordered, **kwargs)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("rank")
    ax.set_ylabel("eigenvalue")
    if symlog:
        ax.set_yscale("symlog")
    return artist


def plot_eigenvalue_histogram(eigenvalues, ax=None, bins=50, weights=None, log: bool = True,
                              **kwargs):
    """A histogram of eigenvalues normalized as a density (``weights``: e.g. quadrature weights).

    Returns
    -------
    matplotlib.container.BarContainer
    """
    values = finite_array(getattr(eigenvalues, "eigenvalues", eigenvalues), "eigenvalues")
    ax = new_axes(ax)
    w = None if weights is None else finite_array(weights, "weights").ravel()
    _, _, bars = ax.hist(values.ravel(), bins=bins, weights=w, density=True, **kwargs)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    if log:
        ax.set_yscale("log")
    return bars


def plot_density(density, ax=None, log: bool = True, floor: float = 1e-12, **kwargs):
    """Draw a smooth spectral density (a record with ``grid`` and ``density``, shape ``(g,)``).

    With ``log`` the density axis is logarithmic and drawn from ``floor`` up (a broadened
    density is exponentially small between the bulk and the outliers).

    Returns
    -------
    matplotlib.lines.Line2D
    """
    ax = new_axes(ax)
    (artist,) = ax.plot(density.grid, density.density, **kwargs)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
    return artist
