"""Session-wide test settings.

BLAS is limited to one thread: the test models are small, and on a 2-core machine
multi-threaded BLAS on small matrices mostly fights the other test processes.
"""

import matplotlib
import pytest
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    with threadpool_limits(1):
        yield
