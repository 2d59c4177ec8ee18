"""A small convolutional network on the 8x8 digits, trained in PyTorch, seen through
``landscape.torch``.

The network (conv - batch norm - ReLU - pool - conv - ReLU - pool - linear, about 1.9k
parameters) is trained the usual PyTorch way (Adam, minibatches, train mode). The adapter
then turns the trained module, its loss and a DataLoader into an Objective, and the
package's own tools measure it: the top Hessian eigenvalues by Lanczos on the adapter's
HVPs (through the DataLoader's batches, checked against the one-batch objective), a
filter-normalized plane around the solution (Li et al. 2018), and the loss along the top
eigenvector against its second-order model, with ``lambda_1`` checked against a central
difference of the gradient along the eigenvector. Batch normalization is evaluated with its
running statistics (eval mode), so the landscape does not depend on the batching.

Run: ``landscape run torch_cnn`` or ``python -m landscape.studies.torch_cnn OUT_DIR [--quick]``.
Needs the extras ``torch`` and ``data``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from landscape.data import digits
from landscape.directions import filter_normalized_directions
from landscape.hessian import eigenpairs, hessian_operator
from landscape.plot import add_colorbar, plot_contour, plot_line
from landscape.studies._shared import main, progress, save_png
from landscape.surface import line, plane
from landscape.torch import from_module

TITLE = "A small CNN on the digits, trained in PyTorch, measured through landscape.torch"
FIGURES = {
    "plane.png": "The CNN's loss on a filter-normalized plane through the trained network",
    "top_eigenvector.png": "The loss along the top Hessian eigenvector against the second-order "
                           "model with the eigenvalue from the adapter's HVPs",
}
BATCH = 256  # the DataLoader the landscape is measured through
CLOSE = 0.05  # the close-up of the line along the top eigenvector: this fraction of it
nn = torch.nn


def make_cnn() -> nn.Module:
    """1x8x8 images -> 10 logits."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 10),
    )


def loader(images, labels, batch_size: int, seed: int | None = None):
    """A DataLoader over the tensors; shuffled by its own generator when ``seed`` is given."""
    data = torch.utils.data.TensorDataset(images, labels)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=seed is not None,
                                       generator=generator)


def train(images, labels, epochs: int, seed: int) -> nn.Module:
    """A plain PyTorch training loop (Adam, train mode), without touching global RNG state."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = make_cnn()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    batches = loader(images, labels, 64, seed)
    net.train()
    for _ in range(epochs):
        for x, y in batches:
            optimizer.zero_grad()
            loss_fn(net(x), y).backward()
            optimizer.step()
    return net


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, measure and draw; write the figures into ``out``; return the numbers."""
    out = Path(out)
    torch.set_num_threads(1)
    X, y = digits()
    n = 400 if quick else len(X)
    images = torch.as_tensor(X[:n], dtype=torch.float32).reshape(-1, 1, 8, 8)
    labels = torch.as_tensor(y[:n])
    progress("training the CNN in PyTorch")
    net = train(images, labels, epochs=3 if quick else 20, seed=seed)

    loss_fn = nn.CrossEntropyLoss()
    objective = from_module(net, loss_fn, loader(images, labels, BATCH))  # float64, eval mode
    one_batch = from_module(net, loss_fn, (images, labels))
    theta = objective.theta0
    progress("Lanczos on the adapter's Hessian-vector products")
    spectrum = eigenpairs(hessian_operator(objective, theta), k=3, which="LA", rng=seed)
    top_one_batch = eigenpairs(hessian_operator(one_batch, theta), k=1, which="LA",
                               rng=seed).eigenvalues[-1]
    lam, v1 = spectrum.eigenvalues[-1], spectrum.eigenvectors[:, -1]

    progress("the loss on a plane and along the top eigenvector")
    directions = filter_normalized_directions(objective, theta, k=2, rng=seed)
    surface = plane(objective, theta, directions, span=1.0, resolution=11 if quick else 31)
    reach = 1.0 / np.sqrt(lam)  # where lambda_1 alpha^2 / 2 reaches half a nat
    along = line(objective, theta, v1, span=reach, resolution=21 if quick else 41)
    close = line(objective, theta, v1, span=CLOSE * reach, resolution=21 if quick else 41)
    # lambda_1 against a central difference of the gradient along v1; the step is tiny
    # because ReLU and max-pool kinks within reach of larger steps bend the difference.
    h = 1e-6
    curvature = v1 @ (objective.grad(theta + h * v1) - objective.grad(theta - h * v1)) / (2 * h)
    value, g = objective.loss_and_grad(theta)

    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    add_colorbar(plot_contour(surface, ax=ax, levels=30, log=True), ax=ax, label="training loss")
    ax.plot([0], [0], "r*", markersize=10)
    for axis, i in ((ax.set_xlabel, 1), (ax.set_ylabel, 2)):  # what a unit of the plane is
        axis(f"direction {i}, filter-normalized\n(at 1 each filter moves by its own norm)")
    ax.set_title("CNN on digits: filter-normalized plane\nthrough the trained network (star)")
    save_png(fig, out / "plane.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, curve, title in ((axes[0], along, "out to where the model predicts half a nat"),
                             (axes[1], close, f"close up: {CLOSE:g} of that range")):
        alpha = curve.axes[0]
        taylor = value + (g @ v1) * alpha + 0.5 * lam * alpha**2  # second order along v1
        plot_line(curve, ax=ax, label="loss along the top eigenvector")
        ax.plot(alpha, taylor, "--", label=rf"second-order model, $\lambda_1$ = {lam:.3g}")
        ax.set_xlabel(r"$\alpha$ along the top Hessian eigenvector (unit norm)")
        ax.set_title(title)
    axes[0].axvspan(-CLOSE * reach, CLOSE * reach, color="0.9", zorder=0,
                    label="the close-up's range")
    for ax in axes:
        ax.legend(loc="upper center", fontsize=9)
    fig.suptitle("Curvature from the adapter's HVPs: the loss along the top eigenvector")
    save_png(fig, out / "top_eigenvector.png")

    numbers = {
        "n_samples": objective.n_samples,
        "n_params": objective.dim,
        "n_batches": -(-objective.n_samples // BATCH),
        "train_loss": value,
        "train_accuracy": objective.accuracy(theta),
        "grad_norm": float(np.linalg.norm(g)),
        "top_eigenvalues": spectrum.eigenvalues[::-1].tolist(),
        "lanczos_hvps": spectrum.n_hvp,
        "lanczos_converged": spectrum.converged,
        "top_eigenvalue_one_batch": float(top_one_batch),
        "top_eigenvalue_batches_vs_one_batch": float(abs(lam - top_one_batch)),
        "gradient_difference_curvature_v1": float(curvature),
        "gradient_difference_vs_top_eigenvalue": float(abs(curvature - lam) / lam),
        "plane_loss_range": [float(np.nanmin(surface.values)), float(np.nanmax(surface.values))],
    }
    return {"headline": headline(numbers), "conclusion": conclusion(numbers), "numbers": numbers}


def headline(numbers: dict) -> str:
    """The finding in one short sentence."""
    return (f"Through the adapter the trained CNN's top Hessian eigenvalue is "
            f"{numbers['top_eigenvalues'][0]:.4g}, and a finite difference of its gradient "
            f"along the eigenvector agrees to "
            f"{numbers['gradient_difference_vs_top_eigenvalue']:.0e}.")


def conclusion(numbers: dict) -> str:
    """One sentence from the measured numbers."""
    return (
        f"A {numbers['n_params']}-parameter CNN trained in PyTorch reaches training accuracy "
        f"{numbers['train_accuracy']:.3f}; through the adapter its top Hessian eigenvalue is "
        f"{numbers['top_eigenvalues'][0]:.4g} ({numbers['lanczos_hvps']} HVPs), the same over "
        f"{numbers['n_batches']} batches as over one (difference "
        f"{numbers['top_eigenvalue_batches_vs_one_batch']:.1e}), and the finite difference of "
        f"the gradient along its eigenvector gives "
        f"{numbers['gradient_difference_curvature_v1']:.10g} (relative difference "
        f"{numbers['gradient_difference_vs_top_eigenvalue']:.1e})."
    )


if __name__ == "__main__":
    main(run, "torch_cnn")
