"""Where the submissions of a batch are graded: a local process pool or a Dask cluster.

Both take a picklable function and its tasks and yield ``(task, result)`` as each one
finishes; a task that raised yields the exception as its result, so one broken
submission never stops the batch. A worker process that dies (killed from outside, or by
the out-of-memory killer) costs a retry of the tasks it was running, not the batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

PR_SET_PDEATHSIG = 1
RETRIES = 1


class WorkerDied(RuntimeError):
    """A grading process ended without an answer, on every try."""


class Executor(Protocol):
    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]
            ) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...


def _die_with_parent() -> None:
    """A pool worker must not outlive a killed batch, or a re-run could grade twice.

    Not on Linux (no prctl) workers are still reaped when the pool shuts down.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class LocalExecutor:
    """A pool of ``jobs`` worker processes on this machine.

    When a worker dies, every task still running in the pool fails with it; those tasks
    are run again in a fresh pool, up to ``RETRIES`` times, and ``on_retry(task)`` is told.
    """

    def __init__(self, jobs: int, on_retry: Callable[[Any], None] | None = None) -> None:
        self.jobs = max(1, jobs)
        self.on_retry = on_retry
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_die_with_parent)

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        tries = [0] * len(tasks)
        todo = deque(range(len(tasks)))
        pending: dict[Future, int] = {}
        while todo or pending:
            # No more in flight than workers: a task waiting in the pool's queue when a
            # worker dies would fail with it without having run.
            while todo and len(pending) < self.jobs:
                i = todo.popleft()
                tries[i] += 1
                pending[self._pool.submit(fn, tasks[i])] = i
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                # The other futures of a broken pool fail at once; gather them all.
                done |= wait(pending)[0]
                self._pool.shutdown(wait=True)
                self._pool = self._new_pool()
            for fut in done:
                i = pending.pop(fut)
                error = fut.exception()
                if not isinstance(error, BrokenProcessPool):
                    yield tasks[i], error or fut.result()
                elif tries[i] <= RETRIES:
                    todo.append(i)
                    if self.on_retry:
                        self.on_retry(tasks[i])
                else:
                    yield tasks[i], WorkerDied(f"the grading process died {tries[i]} times "
                                               "(killed, or out of memory)")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Tasks sent to a running ``dask.distributed`` scheduler (``tcp://host:8786``)."""

    def __init__(self, address: str) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise RuntimeError("the Dask executor needs the dask extra: "
                               "pip install 'le4nn-grader[dask]'") from None
        self._client = Client(address, timeout="20s")

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        from dask.distributed import as_completed

        futures = {self._client.submit(fn, t, pure=False): t for t in tasks}
        for fut in as_completed(futures):
            task = futures[fut]
            yield task, fut.exception() or fut.result()

    def close(self) -> None:
        self._client.close()


def make_executor(jobs: int, scheduler: str | None,
                  on_retry: Callable[[Any], None] | None = None) -> Executor:
    """Dask when a scheduler address is given (it retries lost tasks itself), else local."""
    return DaskExecutor(scheduler) if scheduler else LocalExecutor(jobs, on_retry)
