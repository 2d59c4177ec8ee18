"""
Why a step function cannot be trained
=====================================

A neuron with a step activation has a derivative of zero wherever it has one, so no
gradient reaches the layers below it: gradient descent leaves the hidden weights where
they started. A sigmoid, tanh or ReLU neuron passes a signal. Same network, data, initial
weights and learning rate; only the hidden activation differs.
"""

import matplotlib.pyplot as plt

import landscape as ls
from landscape import data

X, y = data.circles(n=200, noise=0.05, rng=0)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for activation in ("step", "sigmoid", "tanh", "relu"):
    model = ls.MLP([2, 16, 1], activation=activation, output="sigmoid", loss="cross_entropy")
    objective = model.objective(X, y)
    traj = ls.run(objective, model.init(rng=0), ls.gd(2.0), steps=1500, record_every=15)
    ax1.semilogy(traj.steps, traj.loss, label=activation)
    hidden = model.unflatten(traj.thetas[-1])[0][0] - model.unflatten(traj.thetas[0])[0][0]
    ax2.bar(activation, abs(hidden).max())
    print(f"{activation:8s} final loss {traj.loss[-1]:.3f}, "
          f"largest change of a hidden weight {abs(hidden).max():.2e}")

ax1.set(xlabel="step", ylabel="loss", title="training loss")
ax1.legend()
ax2.annotate("exactly 0", (0, 0), xytext=(0, 8), textcoords="offset points", ha="center")
ax2.set(ylabel="largest |change| of a hidden weight", title="does the hidden layer learn?")
fig.tight_layout()
plt.show()
