"""Pictures of Hessian spectra: eigenvalues by rank, their histogram, a smooth density."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array
from landscape.plot._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    from landscape.hessian import Spectrum
    from landscape.spectral_density import SpectralDensity


def _eigenvalues(eigenvalues: ArrayLike | Spectrum, ndim: int | None = None) -> np.ndarray:
    """The eigenvalues of a spectrum record, or ``eigenvalues`` themselves, checked finite."""
    given: Any = eigenvalues
    return finite_array(getattr(given, "eigenvalues", given), "eigenvalues", ndim=ndim)


def plot_spectrum(eigenvalues: ArrayLike | Spectrum, ax: Axes | None = None,
                  symlog: bool = False, **kwargs: Any) -> PathCollection:
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
    values = _eigenvalues(eigenvalues, ndim=1)
    ax = new_axes(ax)
    ordered = np.sort(values)[::-1]
    artist = ax.scatter(np.arange(1, ordered.size + 1), ordered, **kwargs)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("rank")
    ax.set_ylabel("eigenvalue")
    if symlog:
        ax.set_yscale("symlog")
    return artist


def plot_eigenvalue_histogram(eigenvalues: ArrayLike | Spectrum, ax: Axes | None = None,
                              bins: int | Sequence[float] | str = 50,
                              weights: ArrayLike | None = None, log: bool = True,
                              **kwargs: Any
                              ) -> BarContainer | Polygon | list[BarContainer | Polygon]:
    """A histogram of eigenvalues normalized as a density (``weights``: e.g. quadrature weights).

    Returns
    -------
    matplotlib.container.BarContainer
    """
    values = _eigenvalues(eigenvalues)
    ax = new_axes(ax)
    w = None if weights is None else finite_array(weights, "weights").ravel()
    _, _, bars = ax.hist(values.ravel(), bins=bins, weights=w, density=True, **kwargs)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    if log:
        ax.set_yscale("log")
    return bars


def plot_density(density: SpectralDensity, ax: Axes | None = None, log: bool = True,
                 floor: float = 1e-12, **kwargs: Any) -> Line2D:
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
