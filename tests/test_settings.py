"""Execution settings: each field's refusal names it, blocks nest and restore (per thread), an
explicit record wins over the block, the budget reaches worker processes, and progress bars
stay silent when output is not a terminal unless asked for."""

import concurrent.futures as cf
import threading

import numpy as np
import pytest

from landscape import Execution, current_execution, execution
from landscape.parallel import map_chunks
from landscape.settings import DEFAULT


@pytest.mark.parametrize("fields, message", [
    ({"executor": 0}, "executor as a number of processes must be >= 1"),
    ({"executor": "dask"}, "executor must be None, a number of processes"),
    ({"executor": True}, "executor must be None"),
    ({"progress": 1}, "progress must be True, False or None"),
    ({"progress": "auto"}, "progress must be True, False or None"),
    ({"cache": 3}, "cache must be None or a folder path"),
    ({"memory_budget": 0}, "memory_budget must be a positive finite number of bytes"),
    ({"memory_budget": -1e6}, "memory_budget must be a positive"),
    ({"memory_budget": float("inf")}, "memory_budget must be a positive"),
    ({"memory_budget": "1GB"}, "memory_budget must be a positive"),
])
def test_each_bad_field_is_named(fields, message):
    with pytest.raises(ValueError, match=message):
        Execution(**fields)
    with pytest.raises(ValueError, match=message):
        with execution(**fields):
            pass


def test_defaults_and_an_unknown_setting():
    assert current_execution() is DEFAULT
    assert DEFAULT == Execution(None, None, None, 256e6)
    assert isinstance(Execution(memory_budget=10).memory_budget, float)
    with pytest.raises(ValueError, match=r"unknown execution setting\(s\) \['workers'\]"):
        with execution(workers=2):
            pass


def test_blocks_nest_change_only_what_they_name_and_restore():
    with execution(executor=2, cache="here") as outer:
        assert current_execution() == outer == Execution(2, None, "here", 256e6)
        with execution(memory_budget=1e6, cache=None) as inner:
            assert inner == Execution(2, None, None, 1e6)
            assert current_execution() is inner
        assert current_execution() is outer
    assert current_execution() is DEFAULT
    with pytest.raises(RuntimeError):
        with execution(progress=True):
            raise RuntimeError("leaves the block")
    assert current_execution() is DEFAULT  # restored on the way out of an error too


def test_a_block_belongs_to_its_thread():
    entered, release, seen = threading.Event(), threading.Event(), {}

    def other():
        with execution(memory_budget=7.0):
            entered.set()
            release.wait(10)
            seen["other"] = current_execution().memory_budget

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    seen["main"] = current_execution().memory_budget  # while the other thread's block is open
    release.set()
    thread.join()
    assert seen == {"main": 256e6, "other": 7.0}


def _budget(chunk) -> float:
    return current_execution().memory_budget


@pytest.mark.parametrize("executor", [None, 2, "threads"])
def test_chunks_run_under_the_budget_wherever_they_run(executor):
    with cf.ThreadPoolExecutor(2) as threads:
        pool = threads if executor == "threads" else executor
        with execution(memory_budget=1e6):  # the block's budget, not the explicit record's
            got = map_chunks(_budget, range(3), Execution(executor=pool, memory_budget=123.0))
            block = map_chunks(_budget, range(3), Execution(executor=pool, memory_budget=1e6))
    assert got == [123.0] * 3 and block == [1e6] * 3


def _square(chunk: np.ndarray) -> np.ndarray:
    return chunk**2


def test_progress_none_is_silent_off_a_terminal_and_true_always_draws(capsys):
    chunks = [np.arange(3.0)] * 4
    map_chunks(_square, chunks, desc="silent")  # the default: None
    with execution(progress=False):
        map_chunks(_square, chunks, desc="never")
    assert capsys.readouterr() == ("", "")
    pytest.importorskip("tqdm")
    map_chunks(_square, chunks, Execution(progress=True), desc="forced")
    assert "forced" in capsys.readouterr().err


def test_an_explicit_record_replaces_the_block_and_a_non_record_is_refused():
    with execution(executor=2):
        assert map_chunks(_budget, range(2), Execution()) == [256e6] * 2  # serially
        with pytest.raises(ValueError, match="execution must be an Execution"):
            map_chunks(_budget, range(2), {"executor": None})
