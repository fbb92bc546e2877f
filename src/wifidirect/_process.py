"""Process events: interpreter exit and ``fork()``.

Nothing is registered until the first client is made (:func:`track`): importing wifidirect, or
its pytest plugin, installs no hook. Then:

* at interpreter exit (``atexit``) every client still open is closed, with bounded waits for
  cancelled opens' callbacks (:data:`EXIT_WAIT`), and wifidirect's worker threads finish their
  queue and end, so no native work of ours calls into a finalizing interpreter;
* in a forked child (``os.register_at_fork``) a client does not survive: every client and
  session inherited from the parent counts as closed (its use raises ClosedError, with no
  native call; the handles belong to the parent), the child starts without the parent's
  pending opens, threads and event-loop plumbing, and a new Client works (the simulator
  starts afresh in the child too, see docs/simulator.md).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import TYPE_CHECKING

from . import _links, _loops, _native, _opens, _workers

if TYPE_CHECKING:
    from ._clients import ClientState

__all__ = ["EXIT_WAIT", "live_clients", "track", "untrack"]

log = logging.getLogger("wifidirect")

#: Seconds interpreter exit waits, per client, for cancelled opens' callbacks and calls in
#: flight, and for the worker threads to finish.
EXIT_WAIT = 5.0

_lock = threading.Lock()
_live: dict[int, ClientState] = {}
_installed: list[bool] = []


def track(client: ClientState) -> None:
    """A new open client: interpreter exit closes it. Installs the process hooks once."""
    with _lock:
        if not _installed:
            _installed.append(True)
            atexit.register(_at_exit)
            if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
                os.register_at_fork(after_in_child=_after_fork_in_child)
        _live[id(client)] = client


def untrack(client: ClientState) -> None:
    """A closed client."""
    with _lock:
        _live.pop(id(client), None)


def live_clients() -> list[ClientState]:
    """The clients not closed yet, oldest first."""
    with _lock:
        return list(_live.values())


def _at_exit() -> None:
    with _lock:
        clients = list(_live.values())
    for client in clients:
        try:
            client.close(wait=EXIT_WAIT)
        except BaseException:
            log.exception("closing %r at exit failed", client)
    _workers.shutdown(EXIT_WAIT)


def _after_fork_in_child() -> None:
    # Only this thread exists here. Locks that another thread of the parent held are held
    # forever: every lock of ours is replaced before anything else runs.
    global _lock
    _lock = threading.Lock()
    _opens._lock = threading.RLock()
    _native._lock = threading.Lock()
    for client in _live.values():
        client.forked()
    _live.clear()
    _opens._table.clear()
    _workers.after_fork()
    _loops.after_fork()
    _links.after_fork()
