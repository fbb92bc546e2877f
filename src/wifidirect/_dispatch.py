"""Completion routing: from the callback on a foreign OS thread to the waiting side.

Every open gets a :class:`PendingOpen` record in a locked table under an integer token; the
token (not a pointer) is the ``pvContext`` given to ``WFDStartOpenSession``. The record stays in
the table until its completion has been recorded, also after a cancel, so a late completion
always finds it.

Completions arrive one of two ways:

* **Queued** (an open awaited on an event loop that can watch a file descriptor, on builds with
  completion channels: 64-bit POSIX). Each loop gets a channel in the module's C
  (include/shim.h): the API's thread copies the completion into the channel's queue without
  taking the GIL and wakes the loop through a descriptor only when the queue was empty. The
  loop's reader (:meth:`_Inbox.on_readable`) drains the whole queue at once, records the
  completions and resolves their futures. A thread that blocks on such an open (a synchronous
  ``close()``) drains the channel itself while it waits, so it never depends on the loop
  running. Cancels of queued opens go through ``wfdx_cancel_queued``, which checks the queue
  under the channel's lock (a failed open's handle is invalid once its callback returned).
* **Direct** (blocking opens, loops without ``add_reader``, Windows): the ``extern "Python"``
  callback (:func:`complete_batch`) copies the arguments into the record under the table lock,
  wakes a blocked thread, and for an asyncio waiter appends the record to its loop's
  :class:`_Inbox`; the first completion into an empty inbox schedules one ``drain`` with
  ``loop.call_soon_threadsafe`` and later ones ride along. It returns only after recording, so
  "not recorded" means "handle still valid" for ``WFDCancelOpenSession``.

Neither path calls into the WFD API. A completion nobody will collect (its loop is closed or
gone, or its coroutine was dropped) goes to the cleanup thread, which closes a session that
opened anyway.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from logging import DEBUG
from typing import TYPE_CHECKING, Any

from . import _cleanup
from .errors import WFDError

if TYPE_CHECKING:
    from ._native import Backend
    from .address import MacAddress

__all__ = [
    "PendingOpen",
    "callback_error",
    "complete_batch",
    "pending_count",
    "request_cancel",
    "running_loop",
]

log = logging.getLogger("wifidirect")
_debug = log.isEnabledFor

Entry = tuple[int, int, int, int, bytes]  # (token, session, error, reason, guid)

_lock = threading.Lock()
_table: dict[int, PendingOpen] = {}
_sequence = itertools.count(1)
#: A token is ``sequence << _CHANNEL_BITS | channel`` (channel 0: direct). Channels need
#: 64-bit tokens; 32-bit builds have none, and their tokens are the bare sequence.
_CHANNEL_BITS = 16 if sys.maxsize > 2**32 else 0
#: (id(loop), backend name) -> the loop's inbox for that backend.
_inboxes: dict[tuple[int, str], _Inbox] = {}


class _Inbox:
    """Completions on their way to one event loop, and the loop's completion channel.

    An inbox with a channel lives as long as its loop (it is retired on the cleanup thread when
    the loop is garbage collected); one without goes away when the loop has no open left, so a
    closed loop is never kept alive.
    """

    __slots__ = (
        "backend",
        "channel",
        "items",
        "key",
        "loop_ref",
        "outstanding",
        "scheduled",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, backend: Backend, key: tuple[int, str]
    ) -> None:
        self.key = key
        self.backend = backend
        self.loop_ref = weakref.ref(loop, self._loop_gone)
        self.items: list[PendingOpen] = []
        self.scheduled = False
        self.outstanding = 0  # records of this loop not yet handed to it
        self.channel = 0
        if _CHANNEL_BITS:
            self._attach_channel(loop)

    def _attach_channel(self, loop: asyncio.AbstractEventLoop) -> None:
        # On the loop's thread (an open is being started there), table lock held.
        channel, fd = self.backend.open_channel()
        if not channel:
            return
        try:
            loop.add_reader(fd, self.on_readable)
        except (NotImplementedError, RuntimeError, ValueError, OSError):
            # A loop that cannot watch descriptors: every completion comes directly.
            self.backend.close_channel(channel)
            self.backend.drain_channel(channel)
            return
        self.channel = channel
        _cleanup.add_sweep(_sweep_closed_loops)

    def release(self, count: int) -> None:
        """Forget ``count`` of the loop's records (the table lock is held); an inbox without a
        channel goes away when the loop has none left."""
        self.outstanding -= count
        if self.outstanding == 0 and not self.items and not self.channel:
            self._forget()

    def _forget(self) -> None:
        if _inboxes.get(self.key) is self:
            del _inboxes[self.key]
        if _last_inbox[0] is self:
            _last_inbox[0] = _NoInbox

    def drain(self) -> None:
        """On the loop: resolve every directly delivered completion since the last drain."""
        with _lock:
            items, self.items = self.items, []
            self.scheduled = False
            self.release(len(items))
        for rec in items:
            rec.wake()

    def on_readable(self) -> None:
        """On the loop, when the channel's descriptor is readable: take every queued
        completion, record it, and resolve the futures (the directly delivered ones too)."""
        _lock.acquire()
        try:
            entries, waiters, schedule, orphans = self._take()
            items, self.items = self.items, []
            self.scheduled = False
            self.release(len(items))
        finally:
            _lock.release()
        if schedule:
            schedule = [inbox for inbox in schedule if inbox is not self]
        _hand_off(entries, waiters, schedule, orphans)
        for rec in items:
            rec.wake()

    def poll(self) -> None:
        """From any thread: take the channel's queued completions and hand them on (the
        loop's share with ``call_soon_threadsafe``), for a thread that blocks on one."""
        with _lock:
            taken = self._take()
        _hand_off(*taken)

    def _take(self) -> tuple[list[Entry], list[threading.Lock], list[_Inbox], list[PendingOpen]]:
        """Drain the channel and record what it held (table lock held): the entries, then
        :func:`_record`'s threads to wake, inboxes to schedule and orphans."""
        entries = self.backend.drain_channel(self.channel) if self.channel else []
        return (entries, *_record(entries))

    def _loop_gone(self, _ref: object) -> None:
        # A weakref callback: it may run inside any allocation, even with the table lock held
        # by this thread, so it only hands the work over. At interpreter exit the clients are
        # closed already (nothing is pending) and the process releases the descriptor.
        if not (_cleanup.exiting() or sys.is_finalizing()):
            _cleanup.submit(self.retire)

    def retire(self) -> None:
        """The loop is gone (cleanup thread): close the channel, so that later completions
        come directly, and hand everything still queued to the orphan handler."""
        with _lock:
            self._forget()
            if self.channel:
                self.backend.close_channel(self.channel)
            # What was queued before the close; the drain that empties it frees the slot.
            entries, waiters, schedule, orphans = self._take()
            self.channel = 0
            if self.items and self not in schedule:
                schedule.append(self)
        _hand_off(entries, waiters, schedule, orphans)


class _NoInbox:
    """The empty value of :data:`_last_inbox`: matches no loop."""

    backend = None

    @staticmethod
    def loop_ref() -> None:
        return None


#: The inbox used last (most programs run one loop): skips the dictionary lookup.
_last_inbox: list[Any] = [_NoInbox]


def _inbox_for(loop: asyncio.AbstractEventLoop, backend: Backend) -> _Inbox:
    """The loop's inbox for ``backend``, made on first use (table lock held)."""
    key = (id(loop), backend.name)
    inbox = _inboxes.get(key)
    if inbox is None or inbox.loop_ref() is not loop:  # none yet, or an old loop's id reused
        inbox = _inboxes[key] = _Inbox(loop, backend, key)
    _last_inbox[0] = inbox
    return inbox


def _sweep_closed_loops() -> None:
    """Cleanup thread, periodically: retire the inbox of a loop that was closed (or is gone)
    while its channel was open, so that completions queued for it are not stranded there."""
    with _lock:
        stale = []
        for inbox in _inboxes.values():
            loop = inbox.loop_ref()
            if inbox.channel and (loop is None or loop.is_closed()):
                stale.append(inbox)
    for inbox in stale:
        inbox.retire()


class PendingOpen:
    """One ``WFDStartOpenSession`` from start until a single owner has claimed its outcome.

    ``claimed`` is changed only under the owning client's lock: exactly one of the opener, the
    client's ``close()`` or the cleanup thread handles the outcome (adopts or closes the session).
    """

    __slots__ = (
        "abandoned",
        "address",
        "cancel_requested",
        "channel",
        "claimed",
        "done",
        "error",
        "future",
        "guid",
        "handle",
        "inbox",
        "on_orphan",
        "reason",
        "token",
        "waiter",
    )

    def __init__(self, address: MacAddress, on_orphan: Callable[[PendingOpen], None]) -> None:
        self.address = address
        #: Run on the cleanup thread when nobody will collect the completion.
        self.on_orphan = on_orphan
        self.future: asyncio.Future[Any] | None = None
        self.inbox: _Inbox | None = None
        self.token = 0
        #: The completion channel the open was started on (0: direct delivery).
        self.channel = 0
        self.handle = 0
        self.error = 0
        self.reason = 0
        self.guid = b""
        self.done = False
        self.cancel_requested = False
        self.abandoned = False
        self.claimed = False
        #: A held lock that the completion releases, made only when a thread blocks on it.
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
            inbox = self.inbox if self.channel else None
        if inbox is not None:
            acquired = _wait_polling(waiter, inbox, timeout)
        elif threading.current_thread() is _MAIN_THREAD:
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

    def register(self, backend: Backend, loop: asyncio.AbstractEventLoop | None) -> None:
        """Enter the table under a fresh token, before the native start (on the loop's thread
        for an asyncio open: the loop's channel is made on first use)."""
        _lock.acquire()  # not `with`: this runs on every open, and try/finally is cheaper
        try:
            if loop is not None:
                inbox = _last_inbox[0]
                if inbox.loop_ref() is not loop or inbox.backend is not backend:
                    inbox = _inbox_for(loop, backend)
                inbox.outstanding += 1
                self.inbox = inbox
                self.channel = inbox.channel
            self.token = token = next(_sequence) << _CHANNEL_BITS | self.channel
            _table[token] = self
        finally:
            _lock.release()

    def unregister(self) -> None:
        """Leave the table after a synchronous start failure (no completion will come)."""
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


def _make_running_loop() -> Callable[[], asyncio.AbstractEventLoop]:
    """``asyncio.get_running_loop``, minus a system call per open on Python < 3.12.

    There it checks the running loop's process ID with ``getpid()`` on every call (a fork
    guard), which measured 29% of the loop thread's time in the async open->close benchmark.
    A loop that asyncio runs in this thread has its ``_thread_id`` set to this thread, and a
    thread runs one loop at a time, so the last loop found is reused while that holds; the
    cache is dropped in a forked child. Loops without ``_thread_id`` (and Python 3.12+, which
    keeps the running loop in the thread state) take the plain call.
    """
    if sys.version_info >= (3, 12):
        return asyncio.get_running_loop
    get_running_loop = asyncio.get_running_loop
    get_ident = threading.get_ident
    last: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    def running_loop() -> asyncio.AbstractEventLoop:
        if last:
            loop = last[0]()
            if loop is not None and getattr(loop, "_thread_id", None) == get_ident():
                return loop
        loop = get_running_loop()
        last[:] = [weakref.ref(loop)]
        return loop

    if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
        os.register_at_fork(after_in_child=last.clear)
    return running_loop


#: The running event loop of the calling thread (raises ``RuntimeError`` outside one).
running_loop = _make_running_loop()

_MAIN_THREAD = threading.main_thread()
#: Longest uninterrupted wait of the main thread, in seconds (see _wait_interruptibly).
_SIGNAL_CHECK = 0.1
#: First pause of a thread waiting on a queued open, in seconds; doubled up to _SIGNAL_CHECK.
_FIRST_POLL = 0.0005


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


def _wait_polling(lock: threading.Lock, inbox: _Inbox, timeout: float | None) -> bool:
    """Wait for a queued open: drain its channel, then sleep on the record's lock, with
    growing pauses. The loop's reader usually releases the lock first; draining here covers
    a loop that is not running (a synchronous ``close()`` on the loop's own thread)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = _FIRST_POLL
    while True:
        inbox.poll()
        remaining = pause if deadline is None else deadline - time.monotonic()
        if lock.acquire(True, max(0.0, min(remaining, pause))):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        pause = min(2 * pause, _SIGNAL_CHECK)


def _record(
    entries: Iterable[Entry],
) -> tuple[list[threading.Lock], list[_Inbox], list[PendingOpen]]:
    """Copy completions into their records (table lock held). Returns the blocked threads to
    wake, the inboxes that need a drain scheduled, and the orphans."""
    waiters: list[threading.Lock] = []
    schedule: list[_Inbox] = []
    orphans: list[PendingOpen] = []
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
    return waiters, schedule, orphans


def _hand_off(
    entries: Sequence[Entry],
    waiters: list[threading.Lock],
    schedule: list[_Inbox],
    orphans: list[PendingOpen],
) -> None:
    """After :func:`_record`, outside the table lock: wake threads, schedule drains on other
    loops, send orphans to the cleanup thread."""
    for waiter in waiters:
        waiter.release()
    if entries and _debug(DEBUG):
        for token, handle, error, reason, _ in entries:
            log.debug(
                "completion token=%d session=%#x error=%d reason=%d", token, handle, error, reason
            )
    for rec in orphans:
        _orphan(rec)
    for inbox in schedule:
        loop = inbox.loop_ref()
        try:
            if loop is None:
                raise RuntimeError("the event loop is gone")
            loop.call_soon_threadsafe(inbox.drain)
        except RuntimeError:  # the loop is closed: none of its coroutines can ever resume
            _orphan_inbox(inbox)


def complete_batch(entries: Sequence[Entry]) -> None:
    """The direct completion hook's body, on the foreign thread: copy each ``(token, session,
    error, reason, guid)`` into its record and wake the waiting side. Never raises, never
    calls the WFD API. The table lock is taken once for the whole batch; each event loop
    with completions in it gets one ``call_soon_threadsafe``."""
    with _lock:
        waiters, schedule, orphans = _record(entries)
    _hand_off(entries, waiters, schedule, orphans)


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


def request_cancel(rec: PendingOpen, backend: Backend) -> bool:
    """``WFDCancelOpenSession`` if the open is still pending; returns whether it was issued.

    Runs under the table lock, so a direct completion cannot be recorded, and its callback
    cannot return (a failed open's handle becoming invalid), between the check and the native
    call; a queued open is checked against its channel's queue in C under the channel's lock
    for the same reason. A cancel the service refuses is logged, not raised: cancelling only
    ever asks, and the completion still comes, so the caller waits for it either way.
    """
    with _lock:
        if rec.done or rec.cancel_requested:
            return False
        rec.cancel_requested = True
        try:
            if not rec.channel:
                backend.cancel_open(rec.handle)
            elif not backend.cancel_queued(rec.handle, rec.token):
                rec.cancel_requested = False  # already completed: the completion won
                return False
        except WFDError as exc:
            log.warning(
                "cancelling the open to %s failed (%s); awaiting its completion", rec.address, exc
            )
        return True


def pending_count() -> int:
    """Opens whose completion has not been recorded yet (all clients, all backends)."""
    with _lock:
        return len(_table)


def callback_error(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    """cffi ``onerror`` for the callback: :func:`complete_batch` does not raise, but log if
    it does."""
    log.error("wifidirect completion callback failed", exc_info=(exc_type, exc, tb))
