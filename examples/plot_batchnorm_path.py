"""
Batch normalization along a path: recompute the statistics at every point
=========================================================================

A batch-norm network in eval mode normalizes with running statistics measured in training.
Between two trained networks those of either end belong to neither the midpoint nor any
other point of the path, and frozen statistics make a network no one trained: the loss
rises for that reason alone. :func:`landscape.torch.recompute_batch_norm` recomputes them
from the data at every point (as ``update_bn`` does in Garipov et al.'s mode connectivity
code), for every line, plane and curve of the package.
"""

import matplotlib.pyplot as plt
import torch

import landscape as ls
import landscape.torch
from landscape import data, plot

X, y = data.moons(n=256, noise=0.15, rng=0)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y)),
    batch_size=64)


def trained(seed):
    """A 2-32-32-2 network with batch normalization, trained by Adam in train mode."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
        torch.nn.Linear(32, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
        torch.nn.Linear(32, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(60):
        for inputs, targets in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(inputs), targets).backward()
            optimizer.step()
    return net


net_a, net_b = trained(0), trained(1)
objective = landscape.torch.from_module(net_a, torch.nn.CrossEntropyLoss(), loader)
theta_a = objective.theta0
theta_b = torch.nn.utils.parameters_to_vector(net_b.parameters()).detach().double().numpy()

# %%
# The straight path from one network to the other, with network A's statistics frozen
# and with statistics recomputed at each point.
frozen = ls.curve(objective, theta_a, theta_b, resolution=41)
recomputed = ls.curve(landscape.torch.recompute_batch_norm(objective), theta_a, theta_b,
                      resolution=41)

fig, ax = plt.subplots(figsize=(6, 4))
plot.plot_line(frozen, ax=ax, log=True, label="statistics of network A, frozen")
plot.plot_line(recomputed, ax=ax, log=True, label="statistics recomputed at each point")
ax.set(xlabel="t (0: network A, 1: network B)", ylabel="cross-entropy",
       title=f"network B: {recomputed.values[-1]:.3f} with its own statistics, "
             f"{frozen.values[-1]:.2f} with A's")
ax.legend()
fig.tight_layout()
plt.show()
