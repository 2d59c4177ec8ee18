"""
Record your own PyTorch loop: sharpness at the edge of stability
================================================================

:class:`landscape.torch.Recorder` is called once per step of a plain PyTorch training loop
(after ``backward``, before the update). At every ``every``-th step it records the
parameters, the loss on a fixed probe set and the sharpness (the top Hessian eigenvalue,
by a few Lanczos steps warm-started from the previous record's eigenvector, with their
Hessian-vector products counted); in the end it hands over a :class:`~landscape.Trajectory`.
Here it watches Cohen et al.'s (2021) edge of stability in ``torch.optim.SGD``: the
sharpness climbs to ``2 / eta`` and stays there.
"""

import matplotlib.pyplot as plt
import torch

import landscape.torch

# Cohen et al.'s task: 20 points of the Chebyshev polynomial T3, a 100-unit tanh layer.
torch.manual_seed(0)
x = torch.linspace(-1, 1, 20, dtype=torch.float64)[:, None]
y = 4 * x**3 - 3 * x
net = torch.nn.Sequential(torch.nn.Linear(1, 100), torch.nn.Tanh(),
                          torch.nn.Linear(100, 1, bias=False)).double()
torch.nn.init.xavier_normal_(net[0].weight, gain=1.9)
torch.nn.init.zeros_(net[0].bias)
torch.nn.init.xavier_normal_(net[2].weight)


def half_mse(out, target):
    return 0.5 * torch.nn.functional.mse_loss(out, target)


eta = 0.2
optimizer = torch.optim.SGD(net.parameters(), lr=eta)
recorder = landscape.torch.Recorder(net, half_mse, (x, y), every=100, optimizer=optimizer)
for _ in range(4000):
    optimizer.zero_grad()
    loss = half_mse(net(x), y)
    loss.backward()
    recorder.step(loss)
    optimizer.step()
run = recorder.trajectory()
print(f"{len(run.steps)} records, {run.metrics['n_hvp'].mean():.0f} HVPs each, "
      f"{recorder.record_seconds:.2f} s of recording")

# %%
# The batch loss at every step (left) and the recorded sharpness (right).
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.semilogy(run.batch_loss, linewidth=0.8)
ax1.set(xlabel="step", ylabel="loss (half MSE)", title=f"torch.optim.SGD, eta = {eta}")
ax2.plot(run.steps, run.metrics["sharpness"], marker=".", label="sharpness (recorded)")
ax2.axhline(2 / eta, color="black", linestyle="--", label="2 / eta")
ax2.set(xlabel="step", ylabel="largest Hessian eigenvalue", title="the edge of stability")
ax2.legend(loc="lower right")
fig.tight_layout()
plt.show()
