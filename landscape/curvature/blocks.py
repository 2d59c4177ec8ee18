"""Curvature restricted to parameter blocks: a layer, a named parameter, a group of them.

The block of a symmetric ``n x n`` operator ``A`` on the parameters ``I`` is the principal
submatrix ``A[I, I]`` (``k x k``): the curvature of the loss when only those parameters
move (the per-layer Hessians that PyHessian's users ask for). :func:`block_operator`
makes it a LinearOperator, so eigenpairs, densities and traces work on it unchanged; each
of its products is one product of ``A`` (a vector zero outside the block, read back on
it). :func:`layer_curvature` tabulates the top eigenvalue and the trace of every layer.

The names (:func:`parameter_groups`): each of the objective's ``blocks`` (an MLP's
``'layer1'``, ``'layer2'``, ...; a torch module's layers by their module name, ``'0'``,
``'conv1'``), its weight and bias alone (``'layer1.weight'``, ``'layer1.bias'``), and for
a torch objective every trainable parameter by its name (``'bn.weight'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy.sparse.linalg import LinearOperator

from landscape._checks import integer
from landscape.curvature.estimators import hutchpp_trace
from landscape.hessian import CountingOperator, SymmetricOperator, as_symmetric_operator, eigenpairs
from landscape.records import record
from landscape.vocabulary import RngLike


def _indices(*parts: slice | None) -> np.ndarray:
    return np.concatenate([np.arange(s.start, s.stop) for s in parts if s is not None])


def parameter_groups(objective: Any) -> dict[str, np.ndarray]:
    """The named groups of ``objective``'s parameters: name -> indices into ``theta``.

    Parameters
    ----------
    objective : an objective with ``blocks`` (an MLP objective, a torch objective).

    Returns
    -------
    dict
        ``{name: ndarray of int, ascending}``: every block (weights and bias), its
        ``'<name>.weight'`` and ``'<name>.bias'``, and for a torch objective every
        trainable parameter by its name.

    Raises
    ------
    ValueError
        When ``objective`` has no ``blocks``.
    """
    blocks = getattr(objective, "blocks", None)
    if not blocks:
        raise ValueError("objective must have parameter blocks (an MLP objective or a torch "
                         f"objective), got {type(objective).__name__}")
    groups: dict[str, np.ndarray] = {}
    for b in blocks:
        groups[b.name] = _indices(b.weight, b.bias)
        groups[f"{b.name}.weight"] = _indices(b.weight)
        if b.bias is not None:
            groups[f"{b.name}.bias"] = _indices(b.bias)
    names, shapes = getattr(objective, "names", ()), getattr(objective, "shapes", ())
    stops = np.cumsum([int(np.prod(s)) for s in shapes])
    for name, stop, size in zip(names, stops, [int(np.prod(s)) for s in shapes]):
        groups[name] = np.arange(stop - size, stop)
    return groups


class BlockOperator(SymmetricOperator):
    """The principal submatrix ``op[indices, indices]``, shape ``(k, k)``, as products of ``op``.

    Attributes: ``op``, ``indices`` (``(k,)``, ascending), ``names`` (the groups).
    """

    def __init__(self, op: LinearOperator, indices: np.ndarray, names: tuple[str, ...]):
        super().__init__(len(indices))
        self.op, self.indices, self.names = op, indices, names
        self._n = op.shape[0]

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        full = np.zeros(self._n)
        full[self.indices] = np.ravel(v)
        return np.asarray(self.op.matvec(full), dtype=np.float64).ravel()[self.indices]


def block_operator(op: LinearOperator, objective: Any,
                   blocks: str | Sequence[str]) -> BlockOperator:
    """The curvature ``op`` restricted to the named parameter blocks.

    Parameters
    ----------
    op : LinearOperator, shape ``(dim, dim)``, symmetric: a Hessian, GGN or Fisher operator
        of ``objective``.
    objective : the objective whose :func:`parameter_groups` name the blocks.
    blocks : a group name (``'layer2'``) or several; their union is taken.

    Returns
    -------
    BlockOperator
        Shape ``(k, k)``, ``k`` the number of parameters in the blocks.

    Raises
    ------
    ValueError
        An unknown block name (the known ones are listed), no block named, an objective
        without blocks, or an ``op`` of another size than the objective's ``dim``.

    Examples
    --------
    >>> import numpy as np, landscape as ls
    >>> model = ls.MLP([3, 5, 2], activation="tanh", output="softmax", loss="cross_entropy")
    >>> objective = model.objective(np.eye(3), [0, 1, 1])
    >>> H = ls.hessian_operator(objective, model.init(rng=0))
    >>> ls.block_operator(H, objective, "layer2").shape  # 5 x 2 weights and 2 biases
    (12, 12)
    """
    groups = parameter_groups(objective)
    names = (blocks,) if isinstance(blocks, str) else tuple(blocks)
    if not names:
        raise ValueError("blocks must name at least one parameter block, got none")
    unknown = [n for n in names if n not in groups]
    if unknown:
        raise ValueError(f"unknown block {unknown[0]!r}; the objective's blocks are "
                         f"{sorted(groups)}")
    if op.shape[0] != objective.dim:
        raise ValueError(f"op has shape {op.shape}, but the objective has dim = "
                         f"{objective.dim}")
    indices = np.unique(np.concatenate([groups[n] for n in names]))
    return BlockOperator(as_symmetric_operator(op), indices, names)


@record
class LayerCurvature(NamedTuple):
    """The largest eigenvalue and the trace of a curvature operator on each block.

    names : tuple of str, the ``k`` blocks (rows), in order.
    sizes : ndarray of int, shape ``(k,)``, parameters per block.
    top_eigenvalue : ndarray, shape ``(k,)``, each block's largest eigenvalue (NaN where
        Lanczos did not converge).
    trace : ndarray, shape ``(k,)``, each block's trace (exact for a block of at most
        ``dense_max`` parameters, else Hutch++).
    trace_stderr : ndarray, shape ``(k,)``, its standard error (zero where exact).
    n_hvp : products of the full operator spent.
    """

    names: tuple
    sizes: np.ndarray
    top_eigenvalue: np.ndarray
    trace: np.ndarray
    trace_stderr: np.ndarray
    n_hvp: int

    def table(self) -> str:
        """The rows as a plain-text table (block, size, top eigenvalue, trace +- error)."""
        width = max(5, *(len(n) for n in self.names))
        lines = [f"{'block':<{width}}  {'size':>6}  {'top eigenvalue':>14}  {'trace':>22}"]
        for name, size, top, tr, err in zip(self.names, self.sizes, self.top_eigenvalue,
                                            self.trace, self.trace_stderr):
            trace = f"{tr:.4g}" + (f" +- {err:.2g}" if err else "")
            lines.append(f"{name:<{width}}  {size:>6}  {top:>14.4g}  {trace:>22}")
        return "\n".join(lines)


def _block_numbers(B: BlockOperator, dense_max: int, n_matvecs: int,
                   rng: RngLike) -> tuple[float, float, float]:
    """``(top eigenvalue, trace, trace stderr)`` of one block."""
    if B.shape[0] <= dense_max:
        dense = B.matmat(np.eye(B.shape[0]))
        dense = 0.5 * (dense + dense.T)
        return float(np.linalg.eigvalsh(dense)[-1]), float(np.trace(dense)), 0.0
    top = eigenpairs(B, 1, "LA", rng=rng, method="lanczos")
    trace = hutchpp_trace(B, n_matvecs, rng=rng)
    value = float(top.eigenvalues[-1]) if top.eigenvalues.size else float("nan")
    return value, trace.trace, trace.stderr


def layer_curvature(op: LinearOperator, objective: Any,
                    blocks: Sequence[str] | None = None, *, rng: RngLike = 0,
                    n_matvecs: int = 60, dense_max: int = 100) -> LayerCurvature:
    """The top eigenvalue and the trace of ``op`` on each layer (or each named block).

    Parameters
    ----------
    op : LinearOperator, shape ``(dim, dim)``, symmetric (Hessian, GGN, Fisher, ...).
    objective : the objective with the blocks (:func:`parameter_groups`).
    blocks : the block names, one row each; default every layer (``objective.blocks``).
    rng : seed of each block's Lanczos start vector and Hutch++ probes (the same for every
        block, so equal inputs give equal numbers).
    n_matvecs : Hutch++ products per block larger than ``dense_max``.
    dense_max : blocks of at most this many parameters are formed densely (``k`` products)
        and their eigenvalue and trace are exact.

    Returns
    -------
    LayerCurvature
    """
    groups = parameter_groups(objective)
    names = tuple(b.name for b in objective.blocks) if blocks is None else tuple(blocks)
    if not names:
        raise ValueError("blocks must name at least one parameter block, got none")
    n_matvecs = integer(n_matvecs, "n_matvecs", 3)
    dense_max = integer(dense_max, "dense_max", 0)
    counted = CountingOperator(as_symmetric_operator(op))
    rows = [_block_numbers(block_operator(counted, objective, name), dense_max, n_matvecs, rng)
            for name in names]
    sizes = np.array([len(groups[n]) for n in names], dtype=np.int64)
    top, trace, stderr = (np.array(column) for column in zip(*rows))
    return LayerCurvature(names, sizes, top, trace, stderr, counted.count)
