"""
Data that does not fit at once: streaming a DataLoader, on the model's device
=============================================================================

:func:`landscape.torch.from_module` holds the data by default. With ``stream=True`` it reads
the DataLoader afresh at every evaluation, one batch at a time, so memory does not grow
with the data; the means stay exact (each batch weighed by its size), and the order must
be fixed (a shuffling DataLoader is refused, and so is one whose batches change between
passes). ``batches=k`` keeps a fixed subset of ``k`` batches spread over the data, for
speed: the same subset at every point, so a line or plane stays smooth.

The module stays where it is: ``dtype=None`` keeps its own dtype (float32 here), and on a
GPU it would stay on the GPU, the batches moved there one at a time; only the flat
parameter vector crosses to NumPy, in float64.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import landscape as ls
import landscape.torch
from landscape import data, plot

device = "cuda" if torch.cuda.is_available() else "cpu"
X, y = data.digits()
images = torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8)
labels = torch.tensor(y)
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10)).to(device)
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
shuffled = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels),
                                       batch_size=64, shuffle=True)
for _ in range(3):
    for inputs, targets in shuffled:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()

# %%
# The measurement reads the data in a fixed order: a DataLoader without shuffling.
ordered = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels),
                                      batch_size=128)
loss_fn = torch.nn.CrossEntropyLoss()
streamed = landscape.torch.from_module(net, loss_fn, ordered, stream=True, dtype=None)
subset = landscape.torch.from_module(net, loss_fn, ordered, stream=True, dtype=None,
                                     batches=3)
print(streamed)
center = streamed.theta0
direction = ls.filter_normalized_directions(streamed, center, k=1, rng=0)
lines = {}
for name, objective in {f"all {len(ordered)} batches": streamed,
                        "a fixed subset of 3 batches": subset}.items():
    start = time.perf_counter()
    lines[name] = ls.line(objective, center, direction, span=1.0, resolution=31)
    print(f"{name}: {time.perf_counter() - start:.2f} s for 31 points")

fig, ax = plt.subplots(figsize=(6, 4))
for name, line in lines.items():
    plot.plot_line(line, ax=ax, label=name)
ax.set(xlabel="along a filter-normalized direction", ylabel="cross-entropy",
       title=f"{streamed.n_samples} digits streamed, "
             f"{str(streamed.torch_dtype).removeprefix('torch.')} on {device}")
ax.legend()
fig.tight_layout()
plt.show()
print("largest difference of the subset's line:",
      f"{np.max(np.abs(np.subtract(*[line.values for line in lines.values()]))):.3f}")
