"""
A Bezier path between two minima
================================

Two networks trained from different seeds end at different minima. The straight line
between them crosses a barrier, but a quadratic Bezier path with a trained bend often
connects them at low loss all the way (mode connectivity: Garipov et al. 2018; Draxler et
al. 2018). :func:`~landscape.fit_bezier` trains the bend with Adam on the loss averaged
along the path, and :func:`~landscape.curve` evaluates both paths.
"""

import matplotlib.pyplot as plt

import landscape as ls
from landscape import data, plot

X, y = data.moons(n=200, noise=0.1, rng=0)
model = ls.MLP([2, 12, 2], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X, y)
ends = [ls.run(objective, model.init(rng=seed), ls.adam(0.05), steps=600,
               record_every=600).thetas[-1] for seed in (1, 2)]
print("end losses:", [round(float(objective.loss(theta)), 4) for theta in ends])

straight = ls.curve(objective, *ends, resolution=41)
fit = ls.fit_bezier(objective, *ends, steps=300, learning_rate=0.05, rng=0)
bent = ls.curve(objective, fit.start, fit.end, bend=fit.bend, resolution=41)
print(f"highest loss: straight {straight.values.max():.3f}, Bezier {bent.values.max():.3f}")

# %%
# The loss along both paths, ``t = 0`` at the first minimum and ``t = 1`` at the second.
fig, ax = plt.subplots(figsize=(6, 3.8))
plot.plot_line(straight, ax=ax, log=True, label="straight line")
plot.plot_line(bent, ax=ax, log=True, label="trained Bezier path")
ax.set(xlabel="t", ylabel="loss", title="two minima of a moons MLP: barrier or valley")
ax.legend()
plt.show()
