"""Completion routing: from the callback on a foreign OS thread to the waiting side.

Every open gets a :class:`PendingOpen` record in a locked table under an integer token; the
token (not a pointer) is the ``pvContext`` given to ``WFDStartOpenSession``. The record stays in
the table until its callback has fired, also after a cancel, so a late callback always finds it.

The callback (:func:`complete_batch`, called by each module's ``wfd_open_complete``) does
the minimum: it copies the arguments into the record,
wakes a blocked thread (``Client.open_session_sync``, ``Client.close``) if one waits, and for
an asyncio waiter appends the record to its loop's :class:`_Inbox`. Completions are coalesced:
the first one into an empty inbox schedules one ``drain`` with ``loop.call_soon_threadsafe``,
and later ones ride along, so a burst of completions costs one loop wake-up. The callback never
calls into the native API. A completion nobody will collect (its loop is closed, or its
coroutine was dropped) goes to the cleanup thread, which closes a session that opened anyway.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from logging import DEBUG
from typing import TYPE_CHECKING, Any

from . import _cleanup
from .errors import WFDError

if TYPE_CHECKING:
    from .address import MacAddress

__all__ = ["PendingOpen", "callback_error", "complete_batch", "pending_count", "request_cancel"]

log = logging.getLogger("wifidirect")
_debug = log.isEnabledFor

_lock = threading.Lock()
_table: dict[int, PendingOpen] = {}
_tokens = itertools.count(1)
_inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}


class _Inbox:
    """Completed records waiting for one event loop; exists while the loop has opens."""

    __slots__ = ("items", "loop", "outstanding", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.items: list[PendingOpen] = []
        self.scheduled = False
        self.outstanding = 0  # records of this loop not yet drained

    def release(self, count: int) -> None:
        """Forget ``count`` of the loop's records (the table lock is held); the inbox goes away
        when the loop has none left, so closed loops are not kept alive."""
        self.outstanding -= count
        if self.outstanding == 0 and not self.items:
            _inboxes.pop(self.loop, None)

    def drain(self) -> None:
        """On the loop: resolve every completion that arrived since the last drain."""
        with _lock:
            items, self.items = self.items, []
            self.scheduled = False
            self.release(len(items))
        for rec in items:
            rec.wake()


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
        "error",
        "future",
        "guid",
        "handle",
        "inbox",
        "loop",
        "on_orphan",
        "reason",
        "token",
        "waiter",
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
        self.inbox: _Inbox | None = None
        self.token = 0
        self.handle = 0
        self.error = 0
        self.reason = 0
        self.guid = b""
        self.done = False
        self.cancel_requested = False
        self.abandoned = False
        self.claimed = False
        #: A held lock that the callback releases, made only when a thread blocks on this open.
        self.waiter: threading.Lock | None = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the completion has arrived (``timeout`` seconds at most)."""
        with _lock:
            if self.done:
                return True
            waiter = self.waiter
            if waiter is None:
                waiter = self.waiter = threading.Lock()
                waiter.acquire()
        if threading.current_thread() is _MAIN_THREAD:
            acquired = _wait_interruptibly(waiter, timeout)
        else:
            acquired = waiter.acquire(True, -1 if timeout is None else timeout)
        if acquired:
            waiter.release()  # let every other waiter through too
        return acquired

    def wake(self) -> None:
        """On the event loop: resolve the current future, if anyone still waits on it."""
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)

    def register(self) -> None:
        """Enter the table under a fresh token, before the native start."""
        loop = self.loop
        with _lock:
            self.token = token = next(_tokens)
            _table[token] = self
            if loop is not None:
                inbox = _inboxes.get(loop)
                if inbox is None:
                    inbox = _inboxes[loop] = _Inbox(loop)
                inbox.outstanding += 1
                self.inbox = inbox

    def unregister(self) -> None:
        """Leave the table after a synchronous start failure (no callback will come)."""
        with _lock:
            _table.pop(self.token, None)
            inbox = self.inbox
            if inbox is not None:
                inbox.release(1)

    def abandon(self) -> bool:
        """Nobody will collect this completion: hand it to the orphan handler when it arrives.

        Returns ``True`` when it has already arrived, so the caller hands it over itself.
        """
        with _lock:
            self.abandoned = True
            return self.done


_MAIN_THREAD = threading.main_thread()
#: Longest uninterrupted wait of the main thread, in seconds (see _wait_interruptibly).
_SIGNAL_CHECK = 0.1


def _wait_interruptibly(lock: threading.Lock, timeout: float | None) -> bool:
    """Acquire in slices, so that Ctrl-C reaches a main thread blocked here: a SIGINT that
    the kernel delivers to another thread only flags Python's handler, which runs when the
    main thread next returns to the interpreter (an unbounded acquire never would)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = _SIGNAL_CHECK if deadline is None else deadline - time.monotonic()
        if lock.acquire(True, max(0.0, min(remaining, _SIGNAL_CHECK))):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def complete_batch(entries: Iterable[tuple[int, int, int, int, bytes]]) -> None:
    """The completion hook's body, on the foreign thread: copy each ``(token, session, error,
    reason, guid)`` into its record and wake the waiting side. Never raises, never calls C.

    The table lock is taken once for the whole batch; each event loop that has completions in
    it gets one ``call_soon_threadsafe``, and blocked threads are woken after the lock is left.
    """
    waiters: list[threading.Lock] = []
    schedule: list[_Inbox] = []
    orphans: list[PendingOpen] = []
    with _lock:
        for token, handle, error, reason, guid in entries:
            rec = _table.pop(token, None)
            if rec is None:
                log.warning("completion for unknown open token %d ignored", token)
                continue
            rec.handle = handle
            rec.guid = b"" if error else guid
            rec.error = error
            rec.reason = reason
            rec.done = True
            if rec.waiter is not None:
                waiters.append(rec.waiter)
            inbox = rec.inbox
            if rec.abandoned:
                orphans.append(rec)
                if inbox is not None:
                    inbox.release(1)
            elif inbox is not None:
                inbox.items.append(rec)
                if not inbox.scheduled:
                    inbox.scheduled = True
                    schedule.append(inbox)
    for waiter in waiters:
        waiter.release()
    if _debug(DEBUG):
        for token, handle, error, reason, _ in entries:
            log.debug(
                "completion token=%d session=%#x error=%d reason=%d", token, handle, error, reason
            )
    for rec in orphans:
        _orphan(rec)
    for inbox in schedule:
        try:
            inbox.loop.call_soon_threadsafe(inbox.drain)
        except RuntimeError:  # the loop is closed: none of its coroutines can ever resume
            _orphan_inbox(inbox)


def _orphan(rec: PendingOpen) -> None:
    _cleanup.submit(rec.on_orphan, rec)


def _orphan_inbox(inbox: _Inbox) -> None:
    with _lock:
        items, inbox.items = inbox.items, []
        inbox.scheduled = False  # later completions try the loop again, fail, and land here
        inbox.release(len(items))
        for rec in items:
            rec.abandoned = True
    for rec in items:
        _orphan(rec)


def request_cancel(rec: PendingOpen, cancel: Callable[[int], None]) -> bool:
    """Call ``cancel(handle)`` (``WFDCancelOpenSession``) if the open is still pending.

    Runs under the table lock, so the callback cannot return (and a failed open's handle cannot
    become invalid) between the check and the native call. Returns whether it was called. A
    cancel the service refuses is logged, not raised: cancelling only ever asks, and the
    completion still comes, so the caller waits for it either way.
    """
    with _lock:
        if rec.done or rec.cancel_requested:
            return False
        rec.cancel_requested = True
        try:
            cancel(rec.handle)
        except WFDError as exc:
            log.warning(
                "cancelling the open to %s failed (%s); awaiting its completion", rec.address, exc
            )
        return True


def pending_count() -> int:
    """Opens whose completion has not arrived yet (all clients, all backends)."""
    with _lock:
        return len(_table)


def callback_error(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    """cffi ``onerror`` for the callback: :func:`complete` does not raise, but log if it does."""
    log.error("wifidirect completion callback failed", exc_info=(exc_type, exc, tb))
