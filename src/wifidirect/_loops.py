"""asyncio plumbing: the calling thread's event loop, and the inbox that carries completions
from a foreign thread to a loop.

A completion arrives on a thread of the API (see _opens). For an awaited open it is appended to
its loop's :class:`Inbox`; the first completion into an empty inbox schedules one
:meth:`Inbox.drain` with ``loop.call_soon_threadsafe`` and later ones ride along, so a burst of
completions costs the loop one wake-up. The drain runs on the loop and resolves each open's
future; it is written so that an exception raised by a signal handler at any point inside it
loses nothing (see :meth:`Inbox.drain`).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["Inbox", "inbox_for", "running_loop"]


class _Waiting(Protocol):
    """What an inbox carries: an open with the future its owner awaits."""

    @property
    def future(self) -> asyncio.Future[None] | None: ...

    def abandon(self) -> None: ...


def _no_loop() -> RuntimeError:
    return RuntimeError(
        "wifidirect's async API needs a running asyncio event loop (called from a coroutine "
        "that asyncio runs); other event loops (trio, ...) and plain threads use the blocking "
        "forms: open_session_sync(), open_legacy_session_sync(), "
        "update_device_visibility_sync(), close()"
    )


def _make_running_loop() -> Callable[[], asyncio.AbstractEventLoop]:
    """``asyncio.get_running_loop``, minus a system call per open on Python < 3.12.

    There it checks the running loop's process ID with ``getpid()`` on every call (a fork
    guard), which measured 29% of the loop thread's time in the async open->close benchmark.
    A loop that asyncio runs in this thread has its ``_thread_id`` set to this thread, and a
    thread runs one loop at a time, so the last loop found is reused while that holds; the
    cache is dropped in a forked child (:func:`after_fork`). Loops without ``_thread_id`` (and
    Python 3.12+, which keeps the running loop in the thread state) take the plain call.
    """
    get_running_loop = asyncio.get_running_loop

    def plain() -> asyncio.AbstractEventLoop:
        try:
            return get_running_loop()
        except RuntimeError:
            raise _no_loop() from None

    if sys.version_info >= (3, 12):
        return plain
    get_ident = threading.get_ident
    last = _last_loop

    def cached() -> asyncio.AbstractEventLoop:
        if last:
            loop = last[0]()
            if loop is not None and getattr(loop, "_thread_id", None) == get_ident():
                return loop
        loop = plain()
        last[:] = [weakref.ref(loop)]
        return loop

    return cached


_last_loop: list[weakref.ref[asyncio.AbstractEventLoop]] = []
#: The running asyncio loop of the calling thread; a ``RuntimeError`` naming asyncio outside
#: one.
running_loop = _make_running_loop()


class Inbox:
    """Completions on their way to one event loop (one inbox per loop, see :func:`inbox_for`).

    :meth:`push` takes no lock (it runs on the API's threads, which must never wait for a lock
    that an interrupted thread may hold): the queue is a deque, and "a drain is scheduled" is a
    key that ``dict.setdefault`` sets atomically. The inbox holds its loop weakly: a loop that
    is closed or garbage collected with completions in it hands them back to their opens
    (:meth:`_Waiting.abandon`), whose owners can never resume.
    """

    __slots__ = ("__weakref__", "flags", "items", "loop_ref")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop_ref = weakref.ref(loop, self._collected)
        self.items: deque[_Waiting] = deque()
        self.flags: dict[str, object] = {}  # "scheduled": a drain is scheduled or running

    def push(self, op: _Waiting) -> None:
        """From any thread: the open's completion is in; its owner runs on this loop."""
        self.items.append(op)
        if self.flags.setdefault("scheduled", op) is not op:
            return  # the scheduled drain takes it
        loop = self.loop_ref()
        try:
            if loop is None:
                raise RuntimeError("the event loop is gone")
            loop.call_soon_threadsafe(self.drain)
        except RuntimeError:  # closed: none of its coroutines can ever resume
            self._give_back()

    def drain(self) -> None:
        """On the loop: resolve the future of every open in the inbox.

        Written for an exception raised by a signal handler (KeyboardInterrupt) anywhere in
        it: the follow-up drain is scheduled first, so an interrupted drain is continued by the
        next one; an open leaves the queue only after its future was resolved, and resolving
        is idempotent. The follow-up is cancelled at the end when nothing is left.
        """
        loop = self.loop_ref()
        if loop is None:
            return
        again = loop.call_soon(self.drain)
        items = self.items
        while items:  # completions that arrive meanwhile are taken too
            future = items[0].future
            if future is not None and not future.done():
                future.set_result(None)
            items.popleft()
        self.flags.pop("scheduled", None)
        # A push between the loop above and the pop found the flag set and scheduled nothing:
        # `again` takes its completion, unless a later push scheduled a drain of its own.
        if not (items and self.flags.setdefault("scheduled", again) is again):
            again.cancel()

    def kick(self) -> None:
        """On the loop: drain now if anything waits (recovers a drain that an interrupt
        stopped before it started; used by every abort)."""
        if self.items:
            self.drain()

    def _give_back(self) -> None:
        items = []
        while True:
            try:
                items.append(self.items.popleft())
            except IndexError:
                break
        self.flags.pop("scheduled", None)
        for op in items:
            op.abandon()

    def _collected(self, _ref: object) -> None:
        # A weakref callback, in whatever thread collected the loop.
        self._give_back()


#: loop -> its inbox; the inbox holds the loop weakly, so this keeps no loop alive.
_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Inbox] = weakref.WeakKeyDictionary()
_last: list[Inbox] = []  # the inbox used last: most programs run one loop


def inbox_for(loop: asyncio.AbstractEventLoop) -> Inbox:
    """The loop's inbox (on the loop's thread), made on first use."""
    if _last:
        inbox = _last[0]
        if inbox.loop_ref() is loop:
            return inbox
    inbox = _inboxes.get(loop)  # type: ignore[assignment]
    if inbox is None:
        inbox = _inboxes[loop] = Inbox(loop)
    _last[:] = [inbox]
    return inbox


def after_fork() -> None:
    """In a forked child: no loop of the parent's runs here."""
    _inboxes.clear()
    _last.clear()
    _last_loop.clear()
