"""The kept thread pool: order, errors, nesting, and work really side by side."""

import threading

import numpy as np
import pytest

from landscape import side_by_side


def test_results_come_in_order():
    pool = side_by_side.pool("test", 2)
    gate = threading.Barrier(2, timeout=10)  # items 0 and 1 meet: taken by both threads

    def square(i):
        if i < 2:
            gate.wait()
        return float(np.sum(np.arange(i + 1.0) ** 2))

    got = pool.map([lambda i=i: square(i) for i in range(40)])
    assert got == [i * (i + 1) * (2 * i + 1) / 6 for i in range(40)]
    assert side_by_side.pool("test", 2) is pool  # kept


def test_two_items_run_at_once():
    meet = threading.Barrier(2, timeout=10)  # passed only by two threads at the same time
    got = side_by_side.pool("test", 2).map([lambda: meet.wait() + 10, lambda: meet.wait() + 10])
    assert sorted(got) == [10, 11]


def test_the_first_error_reaches_the_caller_and_the_pool_goes_on():
    pool = side_by_side.pool("test", 2)

    def fail():
        raise ValueError("item 1 failed")

    with pytest.raises(ValueError, match="item 1 failed"):
        pool.map([lambda: 1, fail, lambda: 3])
    assert pool.map([lambda: 1, lambda: 2]) == [1, 2]


def test_a_map_inside_an_item_finishes():
    pool = side_by_side.pool("test", 2)
    inner = [lambda j=j: j * j for j in range(5)]
    done = []

    def nested():
        got = pool.map([lambda: pool.map(inner), lambda: pool.map(inner)])
        done.append(got)

    caller = threading.Thread(target=nested)
    caller.start()
    caller.join(timeout=20)
    assert done == [[[0, 1, 4, 9, 16]] * 2]


def test_the_caller_runs_its_items_inside_its_context():
    seen = []

    class Marked:
        def __enter__(self):
            seen.append(threading.current_thread().name)

        def __exit__(self, *exc):
            return False

    side_by_side.pool("test", 2).map([lambda: 1, lambda: 2], caller=Marked)
    assert seen == [threading.current_thread().name]
