"""The tools of :mod:`benchmarks.peers`, each run in its own spawned process.

One class per tool, all with the same methods: ``check()`` (loss, gradient and one HVP at the
point, for the agreement check), ``eigen(k, which, tol)``, ``trace()`` and ``density()``;
each returns plain data (values found, products spent, whether the tool's own stopping rule
was met). :func:`benchmarks.peers.serve` runs one in a worker process. Every timed call
starts at a point where nothing is cached: PyHessian's constructor (a forward pass and the
graph-building backward) is timed, and the landscape objectives are first moved to another
point, untimed, so that the call rebuilds its forward pass (and the adapter its kept
gradient graph).
"""

from __future__ import annotations

import sys

import numpy as np
import scipy.linalg  # noqa: F401  (SciPy's BLAS loaded before the thread limits are set)
import torch
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from benchmarks.models import TORCH_DTYPES

PROBES = 100  # Hutchinson probes (Rademacher)
SLQ = (1, 100)  # density: probes x Lanczos steps (PyHessian's defaults: n_v=1, iter=100)
POWER_STEPS = 100  # PyHessian's maxIter per eigenvalue (its default)
HE_STEPS = 100  # the longest hessian-eigenthings run read prefix by prefix for its max_iter
RESTARTS = 20  # ours: maxiter (basis fillings); eigsh: maxiter; float32 may never meet 1e-8
SEED = 0
TOLS = (1e-6, 1e-8)
EIGEN = {"top-1": (1, "LA"), "top-5": (5, "LA"), "bottom-1": (1, "SA")}
WORKLOADS = {**{f"{task} {tol:g}": ("eigen", k, which, tol)
                for tol in TOLS for task, (k, which) in EIGEN.items()},
             "trace": ("trace",), "density": ("density",)}


_ORIGINALS: dict = {}  # (module, name) -> the library's own function, before any wrapper


def _replace(module, name: str, wrapper) -> None:
    """``module.name = wrapper``; the library's function stays in :data:`_ORIGINALS` (a
    new problem's tool wraps that again, not the last tool's wrapper)."""
    _ORIGINALS.setdefault((module, name), getattr(module, name))
    setattr(module, name, wrapper)


class NotOffered(Exception):
    """The tool has no function for this workload."""


def _flat(tensors) -> np.ndarray:
    return torch.cat([t.detach().reshape(-1) for t in tensors]).double().numpy()


def _eigsh(op, k: int, which: str, tol: float, n: int) -> tuple[np.ndarray, bool]:
    v0 = np.random.default_rng(SEED).standard_normal(n)
    try:
        return eigsh(op, k, which=which, tol=tol, v0=v0, maxiter=RESTARTS,
                     return_eigenvectors=False), True
    except ArpackNoConvergence as err:
        return err.eigenvalues, False


class Tool:
    """A tool: its name, the module to import, the distribution to report the version of."""

    name = library = dist = ""

    def prepare(self) -> None:
        """Untimed, before each timed call."""


class Landscape(Tool):
    """``landscape``'s NumPy engine: ``hessian.eigenpairs``, ``hutchinson_trace``,
    ``spectral_density`` on ``hessian_operator(objective, theta)``."""

    name, library, dist = "landscape", "landscape", "landscape-nn"

    def __init__(self, p):
        self.p, self.objective, self.theta = p, p.objective, p.thetas[0]

    def _operator(self):
        from landscape.hessian import hessian_operator

        return hessian_operator(self.objective, self.theta)

    def prepare(self) -> None:
        """Untimed: move the objective's cached pass (and kept graphs) to another point."""
        self.objective.hvp(self.p.thetas[1], self.p.vs[1])

    def check(self) -> dict:
        loss, grad = self.objective.loss_and_grad(self.theta)
        return {"loss": float(loss), "grad": np.asarray(grad, dtype=float),
                "hvp": np.asarray(self.objective.hvp(self.theta, self.p.vs[0]), dtype=float)}

    def eigen(self, k: int, which: str, tol: float) -> dict:
        from landscape.hessian import eigenpairs

        s = eigenpairs(self._operator(), k, which, rng=SEED, tol=tol, maxiter=RESTARTS)
        return {"values": s.eigenvalues.tolist(), "n_hvp": s.n_hvp, "converged": bool(s.converged)}

    def trace(self) -> dict:
        from landscape.spectral_density import hutchinson_trace

        t = hutchinson_trace(self._operator(), PROBES, rng=SEED)
        return {"trace": t.trace, "n_hvp": t.n_hvp}

    def density(self) -> dict:
        from landscape.spectral_density import spectral_density

        d = spectral_density(self._operator(), *SLQ, rng=SEED)
        return {"nodes": d.nodes.ravel().tolist(), "weights": d.weights.ravel().tolist(),
                "n_hvp": d.n_hvp}


class Adapter(Landscape):
    """``landscape.torch``'s adapter: the same functions on ``from_module(net, loss, (X, y))``."""

    name = "landscape.torch"

    def __init__(self, p):
        from landscape.torch import from_module

        super().__init__(p)
        self.objective = from_module(p.nets[0], p.loss_fn, (p.X, p.target),
                                     dtype=TORCH_DTYPES[p.dtype])
        self.theta = p.thetas[0].astype(np.float64)


class PyHessian(Tool):
    """PyHessian 0.1: ``hessian(model, criterion, data=(X, y), cuda=False)`` then
    ``.eigenvalues(maxIter, tol, top_n)`` (power iteration with deflation; its ``tol`` bounds
    the change of the estimate between two steps), ``.trace(maxIter=100, tol=0)`` (``tol=0``:
    all 100 probes, else it stops when the running mean changes by less than ``tol``) and
    ``.density(iter, n_v)``. Its vectors are drawn in torch's default dtype, so the default
    is the problem's dtype. ``density`` calls ``torch.eig``, removed in PyTorch 1.13: only
    this process replaces it by :func:`eig_shim`. Products counted by wrapping its
    ``hessian_vector_product``."""

    name, library, dist = "PyHessian", "pyhessian", "pyhessian"
    shim = ("torch.eig (removed in PyTorch 1.13, called by PyHessian's density) replaced in "
            "PyHessian's process by eigh of the symmetric tridiagonal matrix, returned in "
            "torch.eig's (real, imaginary) layout")

    def __init__(self, p):
        import pyhessian  # noqa: F401

        self.module = sys.modules["pyhessian.hessian"]  # the package's name is the class
        self.count = 0

        def counted(*args, **kwargs):
            self.count += 1
            return _ORIGINALS[self.module, "hessian_vector_product"](*args, **kwargs)

        _replace(self.module, "hessian_vector_product", counted)
        torch.eig = eig_shim
        torch.set_default_dtype(TORCH_DTYPES[p.dtype])
        self.p, self.net = p, p.nets[0]

    def _hessian(self):
        self.net.zero_grad(set_to_none=True)  # its backward accumulates into .grad
        torch.manual_seed(SEED)
        self.count = 0
        return self.module.hessian(self.net, self.p.loss_fn, data=(self.p.X, self.p.target),
                                   cuda=False)

    def check(self) -> dict:
        h = self._hessian()
        with torch.no_grad():
            loss = self.p.loss_fn(self.net(self.p.X), self.p.target).item()
        hv = self.module.hessian_vector_product(h.gradsH, h.params, self.p.tensors(self.p.vs[0]))
        out = {"loss": loss, "grad": _flat(h.gradsH), "hvp": _flat(hv)}
        self.net.zero_grad(set_to_none=True)
        return out

    def eigen(self, k: int, which: str, tol: float) -> dict:
        if which != "LA":
            raise NotOffered("power iteration finds the largest eigenvalues only")
        values, _ = self._hessian().eigenvalues(maxIter=POWER_STEPS, tol=tol, top_n=k)
        capped = self.count >= k * POWER_STEPS  # every eigenvalue used maxIter products
        return {"values": values, "n_hvp": self.count,
                "converged": not capped if k == 1 or capped else None}

    def trace(self) -> dict:
        samples = self._hessian().trace(maxIter=PROBES, tol=0.0)
        return {"trace": float(np.mean(samples)), "n_hvp": self.count}

    def density(self) -> dict:
        nodes, weights = self._hessian().density(iter=SLQ[1], n_v=SLQ[0])
        return {"nodes": np.ravel(nodes).tolist(), "weights": np.ravel(weights).tolist(),
                "n_hvp": self.count}


def eig_shim(matrix: torch.Tensor, eigenvectors: bool = False):
    """``torch.eig`` for the symmetric matrices PyHessian passes it: ``eigh``, the values as
    ``(n, 2)`` (real, imaginary) columns as ``torch.eig`` returned them."""
    values, vectors = torch.linalg.eigh(matrix)
    pairs = torch.stack([values, torch.zeros_like(values)], dim=1)
    return pairs, vectors if eigenvectors else torch.empty(0, dtype=matrix.dtype)


class Eigenthings(Tool):
    """hessian-eigenthings 1.0.0a5: ``HessianOperator`` (a double backward from scratch per
    product) with ``lanczos(op, k, max_iter, tol, which, seed=0, reorthogonalize=True)`` at
    the smallest ``max_iter`` whose own convergence flag holds from that start vector (read
    off one long run prefix by prefix; its users must guess it), ``hutchinson(op, 100)`` and
    ``spectral_density(op, num_runs, lanczos_steps)``. Products counted by a subclass."""

    name, library, dist = "hessian-eigenthings", "hessian_eigenthings", "hessian-eigenthings"

    def __init__(self, p):
        import hessian_eigenthings as he

        class Counting(he.HessianOperator):
            count = 0

            def matvec(self, v):
                Counting.count += 1
                return super().matvec(v)

        self.he, self.Counting, self.p = he, Counting, p
        self.steps = self._best_steps()

    def _operator(self):
        self.Counting.count = 0
        return self.Counting(self.p.nets[0], [(self.p.X, self.p.target)],
                             self.he.supervised_loss(self.p.loss_fn))

    def _best_steps(self) -> dict:
        """(k, which, tol) -> the fewest steps from its seed-0 start meeting its own flag."""
        op = self._operator()
        gen = torch.Generator(device="cpu").manual_seed(SEED)
        v0 = torch.randn(op.size, dtype=op.dtype, generator=gen)  # what lanczos(seed=0) draws
        run = self.he.lanczos_tridiagonal(op, v0, min(HE_STEPS, op.size), reorthogonalize=True)
        alphas, betas = run.alphas.double().numpy(), run.betas.double().numpy()
        found = {}
        for m in range(1, run.iterations + 1):
            beta = betas[m - 1] if m - 1 < betas.size else run.last_beta
            theta, s = eigh_tridiagonal(alphas[:m], betas[:m - 1])
            for k, which in EIGEN.values():
                sel = np.arange(m)[::-1][:k] if which == "LA" else np.arange(m)[:k]
                residual = np.abs(s[-1, sel]) * beta
                for tol in TOLS:
                    if (m >= k and (k, which, tol) not in found
                            and np.all(residual < tol * np.maximum(np.abs(theta[sel]), 1e-12))):
                        found[(k, which, tol)] = m
        return found

    def check(self) -> dict:
        op, net = self._operator(), self.p.nets[0]
        loss = self.he.supervised_loss(self.p.loss_fn)(net, (self.p.X, self.p.target))
        grad = torch.autograd.grad(loss, list(net.parameters()))
        hvp = op.matvec(torch.from_numpy(self.p.vs[0]))
        return {"loss": loss.item(), "grad": _flat(grad), "hvp": _flat([hvp])}

    def eigen(self, k: int, which: str, tol: float) -> dict:
        steps = self.steps.get((k, which, tol), HE_STEPS)
        r = self.he.lanczos(self._operator(), k=k, max_iter=steps, tol=tol, which=which,
                            seed=SEED, reorthogonalize=True)
        return {"values": r.eigenvalues.tolist(), "n_hvp": self.Counting.count,
                "converged": bool(r.converged.all()), "max_iter": steps}

    def trace(self) -> dict:
        r = self.he.hutchinson(self._operator(), num_samples=PROBES, seed=SEED)
        return {"trace": r.estimate, "n_hvp": self.Counting.count}

    def density(self) -> dict:
        r = self.he.spectral_density(self._operator(), num_runs=SLQ[0], lanczos_steps=SLQ[1],
                                     seed=SEED)
        keep = ~torch.isnan(r.raw_eigenvalues)
        return {"nodes": r.raw_eigenvalues[keep].tolist(),
                "weights": r.raw_weights[keep].tolist(), "n_hvp": self.Counting.count}


class Curvlinops(Tool):
    """curvlinops 3.0.1: ``HessianLinearOperator(net, loss, params, [(X, y)],
    check_deterministic=False)`` (its default check passes over the data at every
    construction), eigenvalues by ``scipy.sparse.linalg.eigsh`` on ``.to_scipy()`` (start
    vector: the first draw of ``default_rng(0)``, ours too), ``hutchinson_trace(A, 100)``
    (one vmapped product of 100 columns) and ``lanczos_approximate_spectrum(A, ncv,
    num_repeats)`` (Papyan 2020: the spectrum's ends by two ``eigsh`` at tol 1e-2, counted,
    then Lanczos without reorthogonalization; its nodes and weights read by wrapping its
    ``fast_lanczos``). Products counted by a subclass (columns of each matrix product)."""

    name, library, dist = "curvlinops", "curvlinops", "curvlinops-for-pytorch"

    def __init__(self, p):
        import curvlinops
        import curvlinops.papyan2020traces.spectrum as spectrum

        class Counting(curvlinops.HessianLinearOperator):
            count = 0

            def _matmat(self, M):
                Counting.count += M[0].shape[-1]
                return super()._matmat(M)

        self.rules = []

        def recorded(*args, **kwargs):
            evals, evecs = _ORIGINALS[spectrum, "fast_lanczos"](*args, **kwargs)
            self.rules.append((evals, evecs[0] ** 2))
            return evals, evecs

        _replace(spectrum, "fast_lanczos", recorded)
        self.cl, self.Counting, self.p = curvlinops, Counting, p

    def _operator(self):
        self.Counting.count = 0
        net = self.p.nets[0]
        return self.Counting(net, self.p.loss_fn, list(net.parameters()),
                             [(self.p.X, self.p.target)], check_deterministic=False)

    def check(self) -> dict:
        op = self._operator()
        grad, loss = op.gradient_and_loss()
        hvp = op @ torch.from_numpy(self.p.vs[0])
        return {"loss": loss.item(), "grad": _flat(grad), "hvp": _flat([hvp])}

    def eigen(self, k: int, which: str, tol: float) -> dict:
        op = self._operator()
        values, converged = _eigsh(op.to_scipy(), k, which, tol, op.shape[0])
        return {"values": np.asarray(values).tolist(), "n_hvp": self.Counting.count,
                "converged": converged}

    def trace(self) -> dict:
        torch.manual_seed(SEED)
        estimate = self.cl.hutchinson_trace(self._operator(), PROBES)
        return {"trace": estimate.item(), "n_hvp": self.Counting.count}

    def density(self) -> dict:
        torch.manual_seed(SEED)
        self.rules.clear()
        self.cl.lanczos_approximate_spectrum(self._operator(), ncv=SLQ[1], num_repeats=SLQ[0])
        nodes = torch.cat([r[0] for r in self.rules]).tolist()
        weights = (torch.cat([r[1] for r in self.rules]) / len(self.rules)).tolist()
        return {"nodes": nodes, "weights": weights, "n_hvp": self.Counting.count}


TOOLS = {cls.name: cls for cls in (Landscape, Adapter, PyHessian, Eigenthings, Curvlinops)}
