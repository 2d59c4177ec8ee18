"""
A training run from its checkpoints: the PCA plane of your PyTorch run
======================================================================

A run trained elsewhere leaves checkpoints behind. :func:`landscape.torch.from_checkpoints`
reads a folder of them (``state_dict`` files, loaded with ``weights_only=True``, or
``.npz`` files of ``theta``; ordered by the step in their names) into a
:class:`~landscape.Trajectory` in the adapter's layout, and the package's own analyses
apply: the plane of the run's two principal components (Li et al. 2018, Sec. 7), the path
projected on it with its residual, and the explained variance.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import landscape as ls
import landscape.torch
from landscape import data, plot

X, y = data.moons(n=200, noise=0.1, rng=0)
inputs, targets = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
optimizer = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
folder = Path(tempfile.mkdtemp())
for step in range(301):  # the usual loop, a checkpoint every 20 steps
    if step % 20 == 0:
        torch.save(net.state_dict(), folder / f"checkpoint_step={step}.pt")
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(inputs), targets).backward()
    optimizer.step()

# %%
# The checkpoints as a trajectory of the module's objective (its layout and its loss),
# then the PCA plane through the last one and the path on it.
objective = landscape.torch.from_module(net, torch.nn.CrossEntropyLoss(), (X, y))
run = landscape.torch.from_checkpoints(objective, folder, optimizer="SGD + momentum")
directions = ls.pca_directions(run)
path = ls.project(run, directions.center, directions)
surface = ls.plane(objective, directions.center, directions, span="auto", cover=run,
                   resolution=31)

fig, ax = plt.subplots(figsize=(6, 4.5))
contours = plot.plot_contour(surface, ax=ax, log=True, levels=25)
plot.plot_trajectories(path, ax=ax)
plot.add_colorbar(contours, label="cross-entropy")
explained = directions.explained_variance
ax.set(xlabel=f"PC 1 ({explained[0]:.0%} of the variance)",
       ylabel=f"PC 2 ({explained[1]:.0%})",
       title=f"{len(run.steps)} checkpoints, steps {run.steps[0]}-{run.steps[-1]}; "
             f"largest residual {path.residual.max():.2f}")
fig.tight_layout()
plt.show()
