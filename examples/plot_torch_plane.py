"""
The filter-normalized plane of your own PyTorch model
=====================================================

:func:`landscape.torch.from_module` turns a PyTorch module, its loss and data into an
Objective of a flat float64 ``theta`` (the module's parameters), with exact gradients and
Hessian-vector products by automatic differentiation. The module is never changed. Once it
is an objective, the plane around the trained parameters takes five lines.
"""

import matplotlib.pyplot as plt
import torch

import landscape as ls
import landscape.torch
from landscape import data, plot

X, y = data.moons(n=200, noise=0.1, rng=0)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
inputs, targets = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
for _ in range(200):  # the usual PyTorch training loop
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(inputs), targets).backward()
    optimizer.step()

# %%
# The five lines: the module as an objective, two filter-normalized directions at the
# trained parameters, the plane, and its picture.
objective = landscape.torch.from_module(net, torch.nn.CrossEntropyLoss(), (X, y))
center = objective.theta0
directions = ls.filter_normalized_directions(objective, center, rng=0)
surface = ls.plane(objective, center, directions, span=1.0, resolution=25)
contours = plot.plot_contour(surface, log=True, levels=25)

plot.add_colorbar(contours, label="cross-entropy")
contours.axes.set(xlabel="direction 1", ylabel="direction 2",
                  title=f"PyTorch MLP ({objective.dim} parameters)")
plt.show()
