"""Deferred cleanup and interpreter exit.

Native closes requested from places where a native call is not allowed or not safe, namely
garbage-collection finalizers (which may run on a completion-callback thread, or while the same
thread holds a client's lock) and completions nobody will collect, run on one daemon thread,
``wifidirect-cleanup``, in submission order.

At interpreter exit (``atexit``, like sounddevice's hook) every client still open is closed:
its pending opens are cancelled and their callbacks awaited, sessions and handle closed; then
the cleanup thread finishes its queue and ends. After that no native work of ours can call
back into the interpreter while it finalizes, and no thread of ours is running.

The thread also runs *sweeps*: checks registered with :func:`add_sweep` (one today: event loops
closed with queued completions, see ``_dispatch``), every :data:`SWEEP_INTERVAL` seconds while
it has any, and before each :func:`drain` finishes.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["add_sweep", "drain", "register_client", "shutdown", "submit", "unregister_client"]

log = logging.getLogger("wifidirect")


class _Closable(Protocol):
    def close_at_exit(self) -> None: ...


_jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
_thread_lock = threading.Lock()
_thread: threading.Thread | None = None
_live_lock = threading.Lock()
_live: dict[int, _Closable] = {}
_exiting = False
_sweeps: list[Callable[[], None]] = []

#: Seconds between sweeps.
SWEEP_INTERVAL = 0.5
#: Seconds interpreter exit waits for the cleanup thread to end.
EXIT_JOIN = 5.0


def submit(job: Callable[..., Any], *args: Any) -> None:
    """Run ``job(*args)`` on the cleanup thread (started on first use)."""
    _jobs.put((job, args))
    _start()


def add_sweep(sweep: Callable[[], None]) -> None:
    """Run ``sweep()`` on the cleanup thread periodically and before each :func:`drain`."""
    with _thread_lock:
        if sweep not in _sweeps:
            _sweeps.append(sweep)
    _start()


def _start() -> None:
    global _thread
    if _thread is None:
        with _thread_lock:
            if _thread is None:
                _thread = threading.Thread(target=_run, name="wifidirect-cleanup", daemon=True)
                _thread.start()


def _run() -> None:
    while True:
        try:
            item = _jobs.get(timeout=SWEEP_INTERVAL if _sweeps else None)
        except queue.Empty:
            item = (_sweep, ())
        if item is None:  # shutdown(): nothing runs on this thread at finalization
            return
        job, args = item
        try:
            job(*args)
        except BaseException:
            log.exception("wifidirect cleanup job %r failed", job)


def _sweep() -> None:
    for sweep in list(_sweeps):
        sweep()


def drain(timeout: float = 10.0) -> bool:
    """Wait until every job submitted so far has run; ``False`` after ``timeout`` seconds."""
    if _thread is None or threading.current_thread() is _thread:
        return True
    done = threading.Event()
    submit(_sweep_then_signal, done)
    return done.wait(timeout)


def _sweep_then_signal(done: threading.Event) -> None:
    _sweep()
    submit(done.set)  # queued behind whatever the sweep handed over (orphaned opens)


def register_client(key: int, client: _Closable) -> None:
    """Track an open client so that interpreter exit closes it."""
    with _live_lock:
        _live[key] = client


def unregister_client(key: int) -> None:
    """Forget a closed client."""
    with _live_lock:
        _live.pop(key, None)


def shutdown() -> None:
    """Close every open client, then finish queued cleanup. Registered with ``atexit``."""
    global _exiting
    _exiting = True
    with _live_lock:
        clients = list(_live.values())
    for client in clients:
        try:
            client.close_at_exit()
        except BaseException:
            log.exception("closing %r at exit failed", client)
    drain()
    # Then the thread ends: a daemon thread still waiting (with a timeout, for the next sweep)
    # while the interpreter finalizes would be cut off with its frames alive. Later
    # submissions are dropped: every client is closed, so there is nothing left to clean up.
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        _jobs.put(None)
        thread.join(EXIT_JOIN)


def exiting() -> bool:
    """Whether interpreter-exit cleanup has started."""
    return _exiting


atexit.register(shutdown)
