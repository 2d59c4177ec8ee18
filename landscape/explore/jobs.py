"""Long work in a background thread, with its progress and a way to cancel it.

The explorer computes a basins map this way: the page asks for the :class:`Job`'s progress
every half second and can cancel it; the server keeps answering other requests meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Job:
    """``work(progress, cancelled)`` running in a daemon thread.

    ``work`` calls ``progress(done, total)`` as it goes and asks ``cancelled()`` between
    parts, returning early when it says True. The job's :attr:`done`, :attr:`total`,
    :attr:`result` and :attr:`error` (the exception ``work`` raised, if any) are read from
    any thread.

    Parameters
    ----------
    work : callable ``(progress, cancelled) -> result``.
    """

    def __init__(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], Any]):
        self.done, self.total = 0, 0
        self.result: Any = None
        self.error: Exception | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self, work: Callable) -> None:
        try:
            self.result = work(self._progress, self._cancel.is_set)
        except Exception as err:  # reported to the page, not raised in a thread
            self.error = err

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        """Whether the work has not returned yet."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the work to return (at most ``timeout`` seconds); whether it has."""
        self._thread.join(timeout)
        return not self.running
