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
        self.closing = False
        self.closer = 0  # thread ident of the first close()
        self.closed = threading.Event()
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
        already closing (a signal handler's), which returns at once. ``wait`` bounds the
        waits for cancelled opens' callbacks and for calls in flight (default:
        ``_opens.CALLBACK_WAIT``)."""
        me = threading.get_ident()
        with _opens._lock:
            first = not self.closing
            if first:
                self.closing = True
                self.closer = me
        if not first:
            if self.closer != me:  # bounded when the caller bounds its waits (exit)
                self.closed.wait(None if wait is None else 3 * wait)
            return
        try:
            errors = _opens.close_client(self, _opens.CALLBACK_WAIT if wait is None else wait)
        finally:
            self.closed.set()
            _process.untrack(self)
        if errors:
            raise errors[0]

    def forked(self) -> None:
        """In a forked child: the handle belongs to the parent. Everything counts as closed,
        without a native call."""
        self.closing = True
        for op in self.ops.values():
            op.owner = _opens.CLOSED
        self.ops.clear()
        self.closed = threading.Event()  # the parent's may be locked by one of its threads
        self.closed.set()

    def __repr__(self) -> str:
        return f"<client state {self.backend.name} {self.guard.handle:#x}>"
