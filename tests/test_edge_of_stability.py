"""The edge of stability (Cohen et al. 2021) on the authors' own small regression task.

Their ``make_chebyshev_dataset`` and ``make_one_layer_network(h=100, activation='tanh')``:
20 points evenly spaced in [-1, 1] labelled by the Chebyshev polynomial T3(x) = 4x³ - 3x;
a 1-100-1 tanh network whose first layer is Xavier-normal with gain 1.9 and zero bias and
whose output layer is Xavier-normal (gain 1) without bias; the loss ½ · mean squared error;
full-batch gradient descent with η = 0.2. Gradient descent is stable on a quadratic only
while the sharpness (the top Hessian eigenvalue) stays below 2/η = 10: the sharpness rises
("progressive sharpening") until it reaches 2/η and then hovers there.
"""

import numpy as np
from numpy.polynomial import chebyshev

from landscape import MLP, gd, run
from landscape.hessian import sharpness


def test_sharpness_rises_to_two_over_eta_and_stays():
    x = np.linspace(-1, 1, 20)[:, None]
    y = chebyshev.chebval(x, [0, 0, 0, 1])
    model = MLP([1, 100, 1], activation="tanh", output="linear", loss="mse",
                bias=[True, False], half_mse=True)
    objective = model.objective(x, y)
    theta0 = model.init(rng=0, scheme="glorot", gain=[1.9, 1.0])
    eta = 0.2
    trajectory = run(objective, theta0, gd(eta), 20_000, record_every=100,
                     metrics={"sharpness": sharpness}, diverge_factor=None)
    assert trajectory.status == "max_steps"
    steps, s = trajectory.steps, trajectory.metrics["sharpness"]
    assert s[0] < 0.5 * 2 / eta
    assert s[steps <= 2000].max() > 0.9 * 2 / eta  # progressive sharpening
    assert abs(np.median(s[steps >= 4000]) / (2 / eta) - 1) < 0.1
    assert trajectory.final_loss < 0.05 * trajectory.loss[0]  # it still learns
