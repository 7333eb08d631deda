"""Where the submissions of a batch are graded: a local process pool or a Dask cluster.

Both take a picklable function and its tasks and yield ``(task, result)`` as each one
finishes; a task that raised yields the exception as its result, so one broken
submission never stops the batch. A worker process that dies (killed from outside, by
the out-of-memory killer, or with its machine) costs a retry of the tasks it was
running, not the batch. What travels to a Dask worker and back is
:mod:`grader.batch.remote`'s business; this module only moves tasks and answers.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import queue
import signal
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.batch.errors import BatchAborted, out_of_space

PR_SET_PDEATHSIG = 1
RETRIES = 1
CONNECT_TIMEOUT_S = 20
POLL_S = 1.0  # how often the Dask executor asks which workers are alive
NO_WORKERS_S = 120.0  # a cluster without a worker this long stops the batch
START_TOPIC = "le4nn-grader-start"  # the event a task sends when it starts on a worker


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


class ClusterError(BatchAborted):
    """The Dask cluster cannot grade: unreachable, no workers, unlike the client, or gone.

    Results finished before it are kept; the message says what to do.
    """


@dataclass
class _Flight:
    """One task on the cluster: its future, what was sent, and the deaths it has caused."""

    index: int
    sent: Any
    future: Any
    deaths: int = 0
    counted: set[str] = field(default_factory=set)  # workers already counted as died


def _announced(fn: Callable[[Any], Any], arg: Any) -> Any:
    """Runs on a worker: tell the client that the task starts here, then run it.

    Only a task that had started on a worker that went away costs a try; one merely
    queued there is simply run elsewhere.
    """
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(START_TOPIC, {"key": worker.get_current_task(), "worker": worker.address})
    return fn(arg)


class DaskExecutor:
    """Tasks sent to a running ``dask.distributed`` scheduler (``tcp://host:8786``).

    The scheduler runs a task again when its worker goes away; this executor counts
    those deaths as the local pool does (``RETRIES``, ``on_retry``) and gives up on a
    task that keeps killing workers. Losing the scheduler, or every worker for
    ``NO_WORKERS_S``, stops the batch with :class:`ClusterError`.
    """

    def __init__(self, address: str, on_retry: Callable[[Any], None] | None = None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("the Dask executor needs the dask extra: "
                               "pip install 'le4nn-grader[dask]'") from None
        self.address, self.on_retry = address, on_retry
        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, ValueError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({e}) — start "
                               "it with `dask scheduler` and give its address") from None
        # The client logs a lost scheduler with tracebacks, through the progress line;
        # ClusterError says it once, with what to do.
        self._client_log = logging.getLogger("distributed.client")
        self._log_level = self._client_log.level
        self._client_log.setLevel(logging.CRITICAL)
        self._starts: queue.SimpleQueue = queue.SimpleQueue()
        self._client.subscribe_topic(START_TOPIC, self._starts.put)
        self._started: dict[str, set[str]] = {}
        self._alive: dict[str, int] = {}
        self._polled = self._workers_seen = 0.0

    def wait_for_workers(self, timeout: float = NO_WORKERS_S) -> None:
        try:
            self._client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterError(f"no Dask worker joined the scheduler at {self.address} within "
                               f"{timeout:g} s — start `dask worker {self.address}` on each "
                               "machine") from None

    def on_workers(self, fn: Callable[[], Any]) -> dict[str, Any]:
        """``fn()`` on every worker now connected, by worker address."""
        try:
            return self._client.run(fn)
        except (OSError, ModuleNotFoundError, AttributeError, ImportError) as e:
            raise ClusterError(f"a Dask worker of {self.address} cannot run the grader "
                               f"({type(e).__name__}: {e}) — install the grader on every "
                               "worker") from None

    def install(self, plugin: Any, name: str) -> None:
        """A worker plugin: set up on every worker now there and on each that joins later."""
        try:
            self._client.register_plugin(plugin, name=name)
        except OSError as e:
            if out_of_space(e):
                raise  # a worker's full disk stops the batch like the client's own
            raise ClusterError(f"a Dask worker of {self.address} could not set up "
                               f"{name}: {e}") from None
        except (RuntimeError, ValueError) as e:
            raise ClusterError(f"a Dask worker of {self.address} could not set up "
                               f"{name}: {e}") from None

    def uninstall(self, name: str) -> None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            self._client.unregister_worker_plugin(name)

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            pack: Callable[[Any], Any] | None = None) -> Iterator[tuple[Any, Any]]:
        """``fn(pack(task))`` on the cluster for every task; ``pack`` runs here, just before
        the task is sent, so only the tasks in flight are held in memory."""
        todo = deque(range(len(tasks)))
        flights: dict[str, _Flight] = {}
        done: queue.SimpleQueue = queue.SimpleQueue()
        while todo or flights:
            yield from self._poll(tasks, flights)
            while todo and len(flights) < 2 * sum(self._alive.values()):
                i = todo.popleft()
                self._send(fn, _Flight(i, (pack or _same)(tasks[i]), None), flights, done)
            try:
                future = done.get(timeout=POLL_S)
            except queue.Empty:
                continue
            flight = flights.pop(future.key, None)
            if flight is not None:  # None: given up on already, after too many deaths
                yield from self._finish(fn, tasks, flight, flights, done)

    def _send(self, fn: Callable[[Any], Any], flight: _Flight, flights: dict[str, _Flight],
              done: queue.SimpleQueue) -> None:
        with warnings.catch_warnings():
            # A submission near the size cap makes a large graph; that is expected here.
            warnings.filterwarnings("ignore", message="Sending large graph")
            flight.future = self._client.submit(_announced, fn, flight.sent, pure=False,
                                                key=f"{fn.__name__}-{uuid.uuid4().hex}")
        flights[flight.future.key] = flight
        flight.future.add_done_callback(done.put)

    def _finish(self, fn: Callable[[Any], Any], tasks: Sequence[Any], flight: _Flight,
                flights: dict[str, _Flight], done: queue.SimpleQueue
                ) -> Iterator[tuple[Any, Any]]:
        from distributed import KilledWorker

        future, task = flight.future, tasks[flight.index]
        if future.cancelled():
            if self._client.status != "running":
                raise self._lost("the connection to it was lost")
            # Cancelled on the cluster by someone else: counted like a death, sent again.
            yield from self._died(task, flight, flights)
            if flight.deaths <= RETRIES:
                self._send(fn, flight, flights, done)
            return
        try:
            error = future.exception()
        except OSError as e:  # fetching it needs the scheduler (CommClosedError is one)
            raise self._lost(str(e)) from None
        if isinstance(error, KilledWorker):  # the scheduler's own limit came first
            yield task, WorkerDied(f"the grading process died on {error.last_worker} and "
                                   "the workers before it (killed, or out of memory)")
        elif error is not None:
            yield task, error
        else:
            yield task, self._result(future)

    def _result(self, future: Any) -> Any:
        from distributed.utils import CancelledError

        try:
            return future.result()
        except CancelledError:
            raise self._lost("the connection to it was lost") from None
        except OSError as e:
            # The task succeeded (its own errors were taken by _finish): only fetching
            # the result failed, because the connection to the scheduler closed.
            raise self._lost(str(e)) from None

    def _poll(self, tasks: Sequence[Any], flights: dict[str, _Flight]
              ) -> Iterator[tuple[Any, Any]]:
        """At most every ``POLL_S``: which workers are alive, and the deaths that cost."""
        now = time.monotonic()
        if now - self._polled < POLL_S:
            return
        self._polled = now
        if self._client.status != "running":  # asking it now would wait for a reconnection
            raise self._lost("the connection to it was lost")
        try:
            self._alive = self._client.nthreads()
        except OSError as e:
            raise self._lost(str(e)) from None
        if self._alive or not self._workers_seen:
            self._workers_seen = now
        elif now - self._workers_seen > NO_WORKERS_S:
            raise ClusterError(f"no Dask worker left at {self.address} for {NO_WORKERS_S:g} s; "
                               "the results finished so far are kept — start workers and run "
                               "the same command again")
        while not self._starts.empty():
            _, event = self._starts.get()
            self._started.setdefault(event["key"], set()).add(event["worker"])
        for flight in list(flights.values()):
            gone = self._started.get(flight.future.key, set()) - set(self._alive) - flight.counted
            flight.counted |= gone
            for _ in gone:
                yield from self._died(tasks[flight.index], flight, flights)

    def _died(self, task: Any, flight: _Flight, flights: dict[str, _Flight]
              ) -> Iterator[tuple[Any, Any]]:
        flight.deaths += 1
        if flight.deaths <= RETRIES:
            if self.on_retry:
                self.on_retry(task)
            return
        flights.pop(flight.future.key, None)
        flight.future.cancel()
        yield task, WorkerDied(f"the grading process died {flight.deaths} times "
                               "(killed, or out of memory)")

    def _lost(self, reason: str) -> ClusterError:
        return ClusterError(f"lost the Dask scheduler at {self.address} ({reason}); the "
                            "results finished so far are kept — start the scheduler and its "
                            "workers again and run the same command: only what is missing "
                            "is graded")

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError):
            self._client.close(timeout=CONNECT_TIMEOUT_S)
        self._client_log.setLevel(self._log_level)


def make_executor(jobs: int, scheduler: str | None,
                  on_retry: Callable[[Any], None] | None = None) -> Executor:
    """Dask when a scheduler address is given, else a local pool of ``jobs`` processes."""
    return DaskExecutor(scheduler, on_retry) if scheduler else LocalExecutor(jobs, on_retry)


def _same(task: Any) -> Any:
    return task
