"""The names the whole package shares: kinds of critical point, run statuses, type aliases.

Every module that compares a kind or a status imports it from here; nothing else spells
these strings out. The aliases name the one currency (a flat float64 parameter vector)
and the callables that the records, runners and plots take.

==================  =======================================================================
alias               meaning
==================  =======================================================================
``Theta``           one parameter vector, ``ndarray`` of shape ``(n,)``
``Thetas``          parameter vectors stacked as rows, ``ndarray`` of shape ``(k, n)``
``Metric``          ``fn(objective, theta) -> float``, recorded along a run or over a grid
``Schedule``        ``t -> learning rate`` for ``t = 0, 1, ...``
``RngLike``         an int seed, a ``numpy.random.Generator`` or None (fresh entropy)
``Kind``            ``'minimum' | 'saddle' | 'maximum' | 'degenerate'``
``Status``          ``'converged' | 'max_steps' | 'diverged'``
==================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import NDArray

#: One parameter vector, shape ``(n,)``.
Theta: TypeAlias = NDArray[np.floating]
#: Parameter vectors as rows, shape ``(k, n)``.
Thetas: TypeAlias = NDArray[np.floating]
#: A metric: ``fn(objective, theta) -> float``.
Metric: TypeAlias = Callable[[Any, Theta], float]
#: A learning-rate schedule: ``t -> lr``.
Schedule: TypeAlias = Callable[[int], float]
#: What every random function accepts as ``rng``.
RngLike: TypeAlias = int | np.integer | np.random.Generator | None

#: The kind of a critical point, from the signs of its Hessian's eigenvalues.
Kind: TypeAlias = Literal["minimum", "saddle", "maximum", "degenerate"]
#: How a run ended.
Status: TypeAlias = Literal["converged", "max_steps", "diverged"]

#: All kinds, in the order the plots list them.
KINDS: tuple[Kind, ...] = get_args(Kind)
#: All statuses.
STATUSES: tuple[Status, ...] = get_args(Status)

MINIMUM: Kind = "minimum"
SADDLE: Kind = "saddle"
MAXIMUM: Kind = "maximum"
DEGENERATE: Kind = "degenerate"

CONVERGED: Status = "converged"
MAX_STEPS: Status = "max_steps"
DIVERGED: Status = "diverged"
