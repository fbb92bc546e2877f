"""The owner of a client handle: the native handle, its registry of opens and sessions, and the
order in which everything ends (see _opens.close_client)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from . import _opens, _process
from .errors import check

if TYPE_CHECKING:
    from ._native import Backend

__all__ = ["ClientState"]


class ClientState:
    """What a :class:`~wifidirect.Client` owns, kept apart from it so that the finalizer of a
    dropped client, interpreter exit and a forked child can end it.

    ``ops`` holds every open of the client that has not been finished: pending ones, completed
    ones not yet taken, and adopted ones (its sessions), by token.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.guard = backend.new_client()
        check(backend.open_handle(self.guard), "WFDOpenHandle")
        self.version = int(self.guard.version)
        self.ops: dict[int, _opens.Open] = {}
        self.closing = False  # no new opens: close() has begun
        self.done = False  # close() has run to the end
        self.closer = 0  # thread ident of the close() running now, or 0
        self.turn = threading.Condition(_opens._lock)  # a close() ended
        _process.track(self)

    def sessions(self) -> list[Any]:
        """The Session objects of the open sessions that the program still holds."""
        with _opens._lock:
            ops = [op for op in self.ops.values() if op.is_open]
        found = (op.public() if op.public is not None else None for op in ops)
        return [session for session in found if session is not None]

    def close(self, wait: float | None = None) -> None:
        """Close everything, then the handle. Idempotent; concurrent calls make one set of
        native calls and return once it is done, except a call from the thread that is
        already closing (a signal handler's), which returns at once. A close that an exception
        interrupted is done again by the next call: every step of it may be repeated. ``wait``
        bounds the waits for cancelled opens' callbacks and for calls in flight (default:
        ``_opens.CALLBACK_WAIT``); it also bounds how long a second caller waits for the
        first."""
        me = threading.get_ident()
        with self.turn:
            self.closing = True
            if self.closer == me:
                return
            if self.closer:
                self.turn.wait_for(lambda: not self.closer, None if wait is None else 3 * wait)
            if self.done or self.closer:
                return
            self.closer = me
        try:
            errors = _opens.close_client(self, _opens.CALLBACK_WAIT if wait is None else wait)
            with self.turn:
                self.done = True
            _process.untrack(self)
        finally:
            with self.turn:
                self.closer = 0
                self.turn.notify_all()
        if errors:
            raise errors[0]

    def forked(self) -> None:
        """In a forked child: the handle belongs to the parent. Everything counts as closed,
        without a native call."""
        self.closing = self.done = True
        self.closer = 0
        for op in self.ops.values():
            op.owner = _opens.CLOSED
        self.ops.clear()
        self.turn = threading.Condition(_opens._lock)  # the new lock (see _process)

    def __repr__(self) -> str:
        return f"<client state {self.backend.name} {self.guard.handle:#x}>"
