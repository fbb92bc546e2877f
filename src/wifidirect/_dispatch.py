"""Completion routing: from the callback on a foreign OS thread to the waiting side.

Every open gets a :class:`PendingOpen` record in a locked table under an integer token; the
token (not a pointer) is the ``pvContext`` given to ``WFDStartOpenSession``. The record stays in
the table until its callback has fired, also after a cancel, so a late callback always finds it.

The callback (:func:`complete`) does the minimum: it copies the arguments into the record,
releases the record's ``done`` lock (which wakes a blocked thread, or ``Client.close``), and for
an asyncio waiter schedules :meth:`PendingOpen.wake` with ``loop.call_soon_threadsafe``. It
never calls into the native API. A completion nobody will collect (its loop is closed, or its
coroutine was dropped) goes to the cleanup thread, which closes a session that opened anyway.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _cleanup

if TYPE_CHECKING:
    from .address import MacAddress

__all__ = ["PendingOpen", "callback_error", "complete", "pending_count", "request_cancel"]

log = logging.getLogger("wifidirect")

_lock = threading.Lock()
_table: dict[int, PendingOpen] = {}
_tokens = itertools.count(1)


class PendingOpen:
    """One ``WFDStartOpenSession`` from start until a single owner has claimed its outcome.

    ``claimed`` is changed only under the owning client's lock: exactly one of the opener, the
    client's ``close()`` or the cleanup thread handles the outcome (adopts or closes the session).
    """

    __slots__ = (
        "abandoned",
        "address",
        "cancel_requested",
        "claimed",
        "done",
        "done_lock",
        "error",
        "future",
        "guid",
        "handle",
        "loop",
        "on_orphan",
        "reason",
        "token",
    )

    def __init__(
        self,
        address: MacAddress,
        loop: asyncio.AbstractEventLoop | None,
        on_orphan: Callable[[PendingOpen], None],
    ) -> None:
        self.address = address
        self.loop = loop
        #: Run on the cleanup thread when nobody will collect the completion.
        self.on_orphan = on_orphan
        self.future: asyncio.Future[Any] | None = None
        self.token = 0
        self.handle = 0
        self.error = 0
        self.reason = 0
        self.guid = b""
        self.done = False
        self.cancel_requested = False
        self.abandoned = False
        self.claimed = False
        # Held until the callback has copied its arguments: waiting = acquire + release.
        self.done_lock = threading.Lock()
        self.done_lock.acquire()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the completion has arrived (``timeout`` seconds at most)."""
        if self.done:
            return True
        acquired = self.done_lock.acquire(True, -1 if timeout is None else timeout)
        if acquired:
            self.done_lock.release()
        return acquired

    def wake(self) -> None:
        """On the event loop: resolve the current future, if anyone still waits on it."""
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)

    def register(self) -> None:
        """Enter the table under a fresh token, before the native start."""
        with _lock:
            self.token = next(_tokens)
            _table[self.token] = self

    def unregister(self) -> None:
        """Leave the table after a synchronous start failure (no callback will come)."""
        with _lock:
            _table.pop(self.token, None)

    def abandon(self) -> bool:
        """Nobody will collect this completion: hand it to the orphan handler when it arrives.

        Returns ``True`` when it has already arrived, so the caller hands it over itself.
        """
        with _lock:
            self.abandoned = True
            return self.done


def complete(token: int, handle: int, guid: bytes, error: int, reason: int) -> None:
    """The completion callback's body, on the foreign thread. Never raises, never calls C."""
    with _lock:
        rec = _table.pop(token, None)
        if rec is None:
            log.warning("completion for unknown open token %d ignored", token)
            return
        rec.handle = handle
        rec.guid = guid
        rec.error = error
        rec.reason = reason
        rec.done = True
        abandoned = rec.abandoned
    rec.done_lock.release()
    log.debug("completion token=%d handle=%#x error=%d reason=%d", token, handle, error, reason)
    if abandoned:
        _cleanup.submit(rec.on_orphan, rec)
        return
    loop = rec.loop
    if loop is not None:
        try:
            loop.call_soon_threadsafe(rec.wake)
        except RuntimeError:  # the loop is closed: the coroutine can never resume
            _cleanup.submit(rec.on_orphan, rec)


def request_cancel(rec: PendingOpen, cancel: Callable[[int], None]) -> bool:
    """Call ``cancel(handle)`` (``WFDCancelOpenSession``) if the open is still pending.

    Runs under the table lock, so the callback cannot return (and a failed open's handle cannot
    become invalid) between the check and the native call. Returns whether it was called.
    """
    with _lock:
        if rec.done or rec.cancel_requested:
            return False
        rec.cancel_requested = True
        cancel(rec.handle)
        return True


def pending_count() -> int:
    """Opens whose completion has not arrived yet (all clients, all backends)."""
    with _lock:
        return len(_table)


def callback_error(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    """cffi ``onerror`` for the callback: :func:`complete` does not raise, but log if it does."""
    log.error("wifidirect completion callback failed", exc_info=(exc_type, exc, tb))
