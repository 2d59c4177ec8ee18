"""
The straight line from initialization to solution
=================================================

Goodfellow, Vinyals and Saxe (2015) noticed that the loss along the straight line from a
network's initial parameters to its trained ones often falls monotonically: the
optimizer's winding path hides a simple one-dimensional picture. :func:`~landscape.curve`
evaluates the loss along the line (past both ends here), and the training loss is drawn at
the points where the path crosses its projection on the line.
"""

import matplotlib.pyplot as plt

import landscape as ls
from landscape import data, plot

X, y = data.circles(n=300, noise=0.05, rng=0)
model = ls.MLP([2, 16, 16, 2], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X, y)
theta0 = model.init(rng=0)
traj = ls.run(objective, theta0, ls.adam(0.02), steps=500, record_every=10)

straight = ls.curve(objective, theta0, traj.thetas[-1], resolution=61, span=(-0.25, 1.25))
along = ls.project(traj, theta0, ls.interpolation(theta0, traj.thetas[-1]))

# %%
# The loss on the line, and the run's own losses placed at their projection on it.
fig, ax = plt.subplots(figsize=(6.5, 4))
plot.plot_line(straight, ax=ax, log=True, label="loss on the straight line")
ax.scatter(along.coords[:, 0], traj.loss, s=10, color="tab:orange",
           label="the run (projected on the line)")
ax.set(xlabel="alpha (0: initialization, 1: solution)", ylabel="loss",
       title="circles MLP: the straight line descends monotonically")
ax.legend()
plt.show()
