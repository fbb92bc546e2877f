"""wifidirect's own threads: native calls that must not run where they were asked for.

An event loop's thread never waits on a native call, and a finalizer or a completion callback
never makes one; such calls run here instead: the starts of awaited opens, cancels and cleanup
after a timeout or a cancelled task, the async forms of the slow calls, the closes of objects
that were garbage collected, and the sessions of completions nobody will collect.

Threads start when work arrives and no thread is free (up to about :data:`MAX_THREADS`, so
one slow call does not hold up the others) and end after :data:`IDLE` seconds without work: an
idle process has no thread of wifidirect, and none wakes up. Interpreter exit stops them
(:func:`shutdown`); a forked child starts with none (:func:`after_fork`).

:func:`submit` takes no lock: it is called from completion callbacks, finalizers and signal
handlers, which must never wait for a lock that the thread they interrupted may hold. Each
idle thread waits on a lock of its own, which a submitter releases.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["IDLE", "MAX_THREADS", "call", "drain", "submit"]

log = logging.getLogger("wifidirect")

T = TypeVar("T")

#: Seconds a thread without work waits for more before it ends.
IDLE = 1.0
#: Threads at most (a soft limit: racing submitters may start one or two more).
MAX_THREADS = 16


class _Pool:
    """A queue of jobs and the threads that run them (one per process, see :data:`_pool`)."""

    def __init__(self) -> None:
        self.jobs: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self.idle: deque[threading.Lock] = deque()  # the held locks idle threads wait on
        self.threads: set[threading.Thread] = set()
        self.busy: set[threading.Thread] = set()  # threads that may be running a job
        self.stopping = False

    def submit(self, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.jobs.append((job, args))  # deque operations are atomic: no lock is needed
        try:
            self.idle.popleft().release()  # wake one idle thread
        except IndexError:
            if len(self.threads) < MAX_THREADS and not self.stopping:
                thread = threading.Thread(target=self.run, name="wifidirect-worker", daemon=True)
                self.threads.add(thread)
                thread.start()

    def run(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                self.busy.add(me)  # before the pop: drain() never misses a running job
                try:
                    job, args = self.jobs.popleft()
                except IndexError:
                    self.busy.discard(me)
                    if not self._park():
                        return
                    continue
                try:
                    job(*args)
                except BaseException:
                    log.exception("wifidirect: background job %r failed", job)
        finally:
            self.busy.discard(me)
            self.threads.discard(me)

    def _park(self) -> bool:
        """Wait for work (IDLE seconds at most): whether to go on."""
        if self.stopping:
            return False
        gate = threading.Lock()
        gate.acquire()
        self.idle.append(gate)
        if self.jobs:  # a job came before we were listed
            self._unlist(gate)
            return True
        woken = gate.acquire(True, IDLE)
        if not woken and self._unlist(gate):
            return bool(self.jobs) and not self.stopping  # nobody chose us: end if no work
        return not self.stopping or bool(self.jobs)

    def _unlist(self, gate: threading.Lock) -> bool:
        """Take our gate off the idle list; ``False`` if a submitter took it (and woke us)."""
        try:
            self.idle.remove(gate)
        except ValueError:
            return False
        return True


_pool = _Pool()


def submit(job: Callable[..., Any], *args: Any) -> None:
    """Run ``job(*args)`` on a worker thread, soon; its exceptions are logged."""
    _pool.submit(job, args)


def call(loop: asyncio.AbstractEventLoop, job: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Run ``job(*args)`` on a worker thread; the future (of ``loop``) gets its outcome.

    Cancelling the future does not stop the job: callers that leave early make their job find
    that out itself (see _opens).
    """
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = job(*args)
        except BaseException as exc:
            _settle(loop, future, None, exc)
        else:
            _settle(loop, future, result, None)

    _pool.submit(run, ())
    return future


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    exc: BaseException | None,
) -> None:
    def resolve() -> None:
        if future.done():
            return
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)

    try:
        loop.call_soon_threadsafe(resolve)
    except RuntimeError:  # the loop is closed: nobody can await the outcome
        log.debug("wifidirect: an outcome for a closed event loop dropped", exc_info=exc)


def drain(timeout: float) -> bool:
    """Wait until no job is queued or running (for tests and interpreter exit); ``False`` if
    that took more than ``timeout`` seconds. Jobs submitted meanwhile are waited for too."""
    deadline = time.monotonic() + timeout
    while True:
        pool = _pool
        me = threading.current_thread()
        if not pool.jobs and not (pool.busy - {me}):
            return True
        if me in pool.threads:
            return False  # a job waiting for the pool would wait for itself
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(remaining, 0.002))


def shutdown(timeout: float) -> None:
    """Interpreter exit: finish the queued jobs, then let every thread end (``timeout`` seconds
    at most)."""
    drain(timeout)
    pool = _pool
    pool.stopping = True
    while True:
        try:
            pool.idle.popleft().release()
        except IndexError:
            break
    for thread in list(pool.threads):
        if thread is not threading.current_thread():
            thread.join(timeout)


def after_fork() -> None:
    """In a forked child: the parent's threads and queue are not here; start afresh."""
    global _pool
    _pool = _Pool()
