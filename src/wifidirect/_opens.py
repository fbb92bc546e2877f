"""An open's whole life, in one place: every state change of an open is in this file.

An *open* is one ``WFDStartOpenSession`` (or ``WFDOpenLegacySession``) from before its native
start to the end of the session it became, or to the cleanup that ended it. Its states
(:attr:`Open.state`)::

    NEW ──start──▶ PENDING ──cancel──▶ CANCELLING
     │                │                     │
     │           completion            completion
     │                ▼                     │
     └─refused───▶ COMPLETED ◀──────────────┘
                   │       │
                 adopt   owner left, or its client closed: finish
                   ▼       ▼
                ADOPTED ─▶ CLOSED
              (a Session)   ▲
                            │ finish, when the completion is in
    NEW/PENDING/CANCELLING ─▶ ORPHANED: the owner left first (a timeout that gave up, a
                              dropped coroutine, a closed loop, a closed client, an interrupt)

* The *owner* (the awaiting coroutine or the blocked thread) is the only one that adopts.
* :meth:`Open.finish` is the one routine that ends an open: it closes the session the open
  made, if any, and forgets the open. A session's close, the client's close, timeouts and
  cancellation, failed opens, garbage collection and interpreter exit all end there. Finishing
  twice is harmless; the only danger is an open nobody finishes, and the C guard rules that
  out: "the owner left" and "the completion arrived" meet under the open's C mutex
  (``wfdx_orphan``), so exactly one side sees the other's flag and finishes.
* The native guard (include/shim.h, in C) makes each native call safe whoever makes it: a
  session is closed at most once and never after its client, a cancel is issued only while the
  open is pending. Its record (``Open.c``) holds the facts of the native side: started,
  completed, cancelled, orphaned, closed. ``Open.owner`` says who owns the outcome.

Native calls happen on the blocking caller's thread or on a worker (_workers), never on an
event loop's thread and never in the completion hook. The hook takes no lock at all (it runs
on the API's threads, which must never wait for a lock that an interrupted thread holds); the
owners' side changes ``owner`` under ``_lock``, never held across a native call or a wait,
and reentrant because a signal handler may close a client inside a ``with _lock`` block.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable
from logging import DEBUG
from typing import TYPE_CHECKING, Any, TypeVar

from . import _links, _loops, _native, _workers
from .errors import (
    WFDX_BUSY,
    WFDX_CLOSED,
    WFDX_DONE,
    WFDX_PENDING,
    ClosedError,
    WFDError,
    check,
    open_session_error,
)

if TYPE_CHECKING:
    from ._clients import ClientState
    from .address import MacAddress

__all__ = [
    "CALLBACK_WAIT",
    "Open",
    "close_client",
    "completed",
    "open_async",
    "open_legacy_async",
    "open_legacy_sync",
    "open_sync",
    "pending_count",
]

log = logging.getLogger("wifidirect")
_debug = log.isEnabledFor
T = TypeVar("T")

NEW = "new"
PENDING = "pending"
CANCELLING = "cancelling"
COMPLETED = "completed"  # reported by Open.state: the owner's, with the completion in
ADOPTED = "adopted"
ORPHANED = "orphaned"
CLOSED = "closed"
_WAITING = (NEW, PENDING, CANCELLING)  # owned, and the owner still waits

#: Seconds that cleanup after a timeout, a cancel or a client's close waits for a cancelled
#: open's callback before it gives up on that open (logged; if the callback ever comes, the
#: session it may have opened is closed then).
CALLBACK_WAIT = 10.0

_lock = threading.RLock()
#: token -> open, from before its native start until its completion hook ran.
_table: dict[int, Open] = {}
_tokens = itertools.count(1)
_MAIN_THREAD = threading.main_thread()
#: Longest uninterrupted wait of the main thread, in seconds (see _acquire).
_SIGNAL_CHECK = 0.1


class Open:
    """One open and, once adopted, the session it became (see the module's docstring)."""

    __slots__ = (
        "address",
        "c",
        "client",
        "failure",
        "future",
        "inbox",
        "legacy",
        "owner",
        "public",
        "queued",
        "token",
        "waiter",
    )

    def __init__(self, client: ClientState, address: MacAddress, legacy: bool = False) -> None:
        self.client = client
        self.address = address
        self.legacy = legacy
        self.token = token = next(_tokens)
        #: The native guard's record (include/shim.h): the facts of the native side.
        self.c = client.backend.new_open(client.guard, token)
        #: NEW, PENDING, CANCELLING, ADOPTED, ORPHANED or CLOSED (changed under _lock).
        self.owner = NEW
        #: The start runs elsewhere than on the owner's thread: on a starter thread of the
        #: guard (whose refusal comes through the hook), or a worker (a legacy open).
        self.queued = False
        self.future: asyncio.Future[None] | None = None  # what an awaiting owner awaits
        self.inbox: _loops.Inbox | None = None
        self.waiter: threading.Lock | None = None  # held until the completion; for threads
        self.failure: BaseException | None = None  # the completion hook failed with this
        self.public: Any = None  # a weak reference to its Session, once adopted

    @property
    def state(self) -> str:
        """The open's state: ``owner``, or COMPLETED while it is owned and the outcome is in."""
        owner = self.owner
        return COMPLETED if owner in _WAITING and self.c.completed else owner

    @property
    def is_open(self) -> bool:
        """Whether this is an adopted open whose session has not been closed."""
        return self.owner is ADOPTED and not self.c.closed

    def __repr__(self) -> str:
        kind = "legacy open" if self.legacy else "open"
        return f"<wifidirect {kind} {self.token} to {self.address}: {self.state}>"

    # -- start --------------------------------------------------------------------------

    def register(self, owner: str = NEW) -> None:
        """Enter the client's registry and the completion table, before the native start
        (``owner``: PENDING for an open whose start is queued at once)."""
        client = self.client
        with _lock:
            if client.closing:
                raise ClosedError("the client is closed")
            client.ops[self.token] = self
            if not self.legacy:
                _table[self.token] = self
            self.owner = owner

    def start(self) -> None:
        """The native start, on the blocking opener's thread or on a worker (never a loop's).

        Skipped when the owner left or began to abort before it: the open is forgotten
        without a native call, and an aborting owner is woken. A refusal (``WFDX_CLOSED``, a
        Win32 code) completes the open with that code as its outcome.
        """
        with _lock:
            skip = self.owner is not NEW
        if skip:
            if not (self.c.started or self.c.completed):
                self._forget()
            return
        backend, packed = self.client.backend, self.address.packed
        if self.legacy:
            backend.open_legacy(self.c, packed)
        elif backend.start_open(self.c, packed):
            _table.pop(self.token, None)  # refused: no callback will come
            self._wake()
        with _lock:
            if self.owner is NEW:
                self.owner = PENDING
        if self.c.completed and self.c.orphaned:  # the owner left while this ran
            self.finish()

    def start_queued(self) -> None:
        """The native start of an awaited open (registered PENDING), made by the guard's
        starter threads: this returns at once, so an event loop never waits on it; a refusal
        by the API arrives through the completion hook. A client that is closing refuses here
        and now."""
        if self.client.backend.start_queued(self.c, self.address.packed):
            _table.pop(self.token, None)  # refused at once: no callback will come

    # -- the completion -----------------------------------------------------------------

    def _wake(self) -> None:
        """Wake whoever waits: a blocked thread, or the owner's event loop. Takes no lock."""
        waiter, inbox = self.waiter, self.inbox
        if waiter is not None:
            waiter.release()
        if inbox is not None:
            inbox.push(self)

    def _arrival_failed(self, exc: BaseException) -> None:
        """The hook itself failed (a bug, or memory): the owner must get an error, not hang."""
        log.error("wifidirect: the completion of %s could not be handed over", self, exc_info=exc)
        self.failure = exc
        try:
            waiter = self.waiter
            if waiter is not None and waiter.locked():
                waiter.release()
            inbox = self.inbox
            if inbox is not None:
                inbox.push(self)
        except BaseException:
            log.exception("wifidirect: the owner of %s cannot be woken", self)

    # -- waiting ------------------------------------------------------------------------

    def wait(self, timeout: float | None) -> bool:
        """Block until the completion is in, or the open is forgotten (never started, and never
        will be: its client's close came first), ``timeout`` seconds at most: whether the
        completion is in."""
        waiter = self.waiter
        if waiter is None:
            new = threading.Lock()
            new.acquire()
            with _lock:
                if self.waiter is None:
                    self.waiter = new
                waiter = self.waiter
        # Installed first, checked second: the hook reads `waiter` after C set `completed`, and
        # _forget() after it set CLOSED (a close may forget the open before this thread waits).
        if not self.c.completed and self.owner is not CLOSED and _acquire(waiter, timeout):
            waiter.release()  # let every other waiter through too
        return bool(self.c.completed)

    def wake(self) -> None:
        """On the loop: resolve the awaited future (a timeout, or the drain of the inbox)."""
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)

    # -- ending -------------------------------------------------------------------------

    def adopt(self, make: Callable[[Any, Open], T], client: Any) -> T:
        """The owner takes the completed outcome: ``make(client, self)`` (the Session) once
        the open is ADOPTED, or the exception, after finishing the open. The Session is made
        first: it ends the open when dropped, so an interrupt between the two loses nothing."""
        session = make(client, self)
        with _lock:
            owned = self.owner in _WAITING
            if owned and self.failure is None and not self.c.error:
                self.owner = ADOPTED
                return session
        if not owned:
            raise ClosedError("the client was closed while the open was pending")
        self.finish()
        raise self.error()

    def error(self) -> Exception:
        """The exception for this open's failed outcome."""
        c = self.c
        if self.failure is not None:
            error = RuntimeError(f"wifidirect could not process the completion of {self}")
            error.__cause__ = self.failure
            return error
        function = "WFDOpenLegacySession" if self.legacy else "WFDStartOpenSession"
        if c.start_rc:
            try:
                check(c.start_rc, function)
            except (WFDError, ClosedError) as exc:
                return exc
        return open_session_error(c.error, c.reason, str(self.address))

    def abandon(self) -> None:
        """The owner leaves without taking the outcome (from any thread, a loop's too): the
        open is cancelled if pending, and whatever opened is closed once the completion is
        in (by whichever side comes second, see wfdx_orphan)."""
        owner = self.owner
        if owner is ADOPTED or owner is ORPHANED or owner is CLOSED:
            return
        # The native fact first: an interrupt between the two steps leaves an open that its
        # completion finishes, never one that nobody finishes.
        completed = self.client.backend.orphan(self.c)
        with _lock:
            if self.owner is owner:
                self.owner = ORPHANED
        if completed:
            _workers.submit(self.finish)
        elif owner is NEW and not self.queued and not self.c.started:
            self._forget()  # the owner's own start never ran, and now never will
        else:
            _workers.submit(self.cancel)

    def cancel(self) -> None:
        """``WFDCancelOpenSession`` (not on a loop's thread). The guard issues it only while
        the open is pending; a refusal is logged, since the completion comes either way."""
        rc = self.client.backend.cancel_open(self.c)
        if rc and rc not in (WFDX_DONE, WFDX_CLOSED):
            log.warning(
                "cancelling the open to %s failed (%s); awaiting its completion",
                self.address,
                WFDError(rc, "WFDCancelOpenSession"),
            )

    def finish(self, quiet: bool = True) -> None:
        """End the open: close the session it opened, if any (``WFDCloseSession``, at most
        once), and forget it. An open still pending is orphaned instead: its completion
        finishes it. ``quiet``: log a failed close instead of raising it (the session counts
        as closed either way)."""
        c = self.c
        if self.owner is CLOSED:
            return
        # The native close first (at most once: the guard records it), the bookkeeping after:
        # an interrupt between the two leaves an open that a later finish completes with no
        # second native call, never a session closed in Python and open in the service.
        rc = self.client.backend.close_session(c)
        if rc == WFDX_PENDING:  # not completed: its completion finishes it
            with _lock:
                if self.owner is not CLOSED:
                    self.owner = ORPHANED
            if self.client.backend.orphan(c):  # completed meanwhile
                self.finish(quiet)
            return
        with _lock:
            self.owner = CLOSED
            self.client.ops.pop(self.token, None)
            # Refused, and no hook will take it out of the table: refused at once, or by an
            # own start (a queued start's refusal comes through the hook).
            if c.start_rc and (c.start_rc == WFDX_CLOSED or not self.queued):
                _table.pop(self.token, None)
        if _links._watched:  # someone waits for this session's disconnect: it is closed now
            _links.poke(self)
        if rc and rc not in (WFDX_DONE, WFDX_CLOSED):
            if not quiet:
                check(rc, "WFDCloseSession")
            log.warning("closing the session to %s failed: %s", self.address, WFDError(rc, ""))

    def _forget(self) -> None:
        """Never started and never will be: leave the registries, and wake an owner that
        waits (an aborting one, or one whose client was closed)."""
        with _lock:
            if self.owner is CLOSED:
                return
            self.owner = CLOSED
            self.client.ops.pop(self.token, None)
            _table.pop(self.token, None)
        self._wake()

    # -- aborting (timeout, cancellation, interrupt) ------------------------------------

    def _cancelling(self) -> None:
        with _lock:
            if self.owner is NEW or self.owner is PENDING:
                self.owner = CANCELLING

    def abort(self) -> bool:
        """Blocking: cancel, wait for the completion (:data:`CALLBACK_WAIT` at most). Returns
        ``True`` when the completion came before the cancel took effect (the owner may adopt
        it); otherwise the open is finished (a session that opened anyway is closed)."""
        self._cancelling()
        self.cancel()
        if not self.wait(CALLBACK_WAIT):
            self._give_up()
            return False
        return self._after_abort()

    async def abort_async(self, loop: asyncio.AbstractEventLoop) -> tuple[bool, bool]:
        """:meth:`abort` on the loop, which never waits on the native cancel (a worker makes
        it). Returns ``(usable, cancelled)``: the completion beat the cancel, and a
        ``task.cancel()`` arrived meanwhile (the caller re-raises it; it is never lost)."""
        self._cancelling()
        _workers.submit(self.cancel)
        inbox = self.inbox
        if inbox is not None:
            inbox.kick()
        cancelled = False
        deadline = loop.time() + CALLBACK_WAIT
        while not self.c.completed and self.owner is not CLOSED:  # CLOSED: never started
            future = self.future = loop.create_future()
            if self.c.completed or self.owner is CLOSED:
                break
            timer = loop.call_at(deadline, self.wake)
            try:
                await future
            except asyncio.CancelledError:
                cancelled = True
            finally:
                timer.cancel()
            if loop.time() >= deadline and not self.c.completed:
                self._give_up()
                return False, cancelled
        return self._after_abort(), cancelled

    def _after_abort(self) -> bool:
        c = self.c
        if c.completed and not c.cancelled and self.failure is None:
            return True  # completed before any cancel was issued: the outcome stands
        self.finish()
        return False

    def _give_up(self) -> None:
        log.warning(
            "wifidirect: the cancelled open to %s did not complete within %g s; giving up "
            "on it (a session it opens later is closed then)",
            self.address,
            CALLBACK_WAIT,
        )
        self.abandon()


def completed(token: int, orphaned: int) -> None:
    """The completion hook of every backend, on the API's thread: find the open, wake its
    owner, or have a worker finish it if the owner left. Takes no lock, makes no native call."""
    op = _table.pop(token, None)
    if op is None:
        log.warning("completion for unknown open token %d ignored", token)
        return
    if _debug(DEBUG):
        c = op.c
        log.debug(
            "completion token=%d session=%#x error=%d reason=%d",
            token,
            c.session,
            c.error,
            c.reason,
        )
    try:
        if orphaned:
            _workers.submit(op.finish)
        op._wake()
    except BaseException as exc:
        op._arrival_failed(exc)


_native.set_completion_hook(completed)


def _acquire(lock: threading.Lock, timeout: float | None) -> bool:
    """Acquire ``lock`` (``timeout`` seconds at most). The main thread waits in slices, so
    that Ctrl-C reaches it: a SIGINT that the kernel delivers to another thread only flags
    Python's handler, which runs when the main thread next returns to the interpreter."""
    if threading.current_thread() is not _MAIN_THREAD:
        return lock.acquire(True, -1 if timeout is None else timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = _SIGNAL_CHECK if deadline is None else deadline - time.monotonic()
        if lock.acquire(True, max(0.0, min(remaining, _SIGNAL_CHECK))):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def pending_count() -> int:
    """Opens whose completion has not been handed over yet (all clients, all backends)."""
    return len(_table)


# -- the ways to open ---------------------------------------------------------------------


def open_sync(
    client: ClientState,
    address: MacAddress,
    limit: float | None,
    make: Callable[[Any, Open], T],
    public: Any,
) -> T:
    """A blocking open, on the caller's thread: start, wait, adopt. A timeout aborts (cancel,
    wait for the callback, close what opened); an interrupt (KeyboardInterrupt) abandons the
    open, which a worker then cleans up, and goes on."""
    op = Open(client, address)
    try:
        op.register()
        op.start()
        # (not waiting any more: the client's close took the open; adopt says so)
        if op.wait(limit) or op.owner not in _WAITING or op.abort():
            return op.adopt(make, public)
    except BaseException:  # to the last step: an open is never left without an owner
        op.abandon()
        raise
    raise TimeoutError(f"opening a session to {address} timed out after {limit} s")


async def open_async(
    client: ClientState,
    address: MacAddress,
    limit: float | None,
    make: Callable[[Any, Open], T],
    public: Any,
) -> T:
    """An awaited open: the guard's starter threads make the native start, the completion
    comes through the loop's inbox; a timeout or a cancelled task aborts without blocking the
    loop, and a cancel that arrives during that cleanup is raised after it."""
    loop = _loops.running_loop()
    op = Open(client, address)
    op.future = loop.create_future()
    op.inbox = _loops.inbox_for(loop)
    timer = None
    try:  # to the last step: an open is never left without an owner
        op.register(PENDING)
        op.queued = True
        op.start_queued()
        if op.c.completed and op.c.start_rc:  # refused at once (the client is closing)
            return op.adopt(make, public)
        timer = None if limit is None else loop.call_later(limit, op.wake)
        try:
            await op.future
        except asyncio.CancelledError:
            _cancel(timer)
            timer = None
            await op.abort_async(loop)
            op.finish()
            raise
        _cancel(timer)
        timer = None
        if not op.c.completed and op.owner in _WAITING:  # the timeout fired
            usable, cancelled = await op.abort_async(loop)
            if cancelled:
                op.finish()
                raise asyncio.CancelledError
            if not usable:
                raise TimeoutError(f"opening a session to {address} timed out after {limit} s")
        return op.adopt(make, public)
    except BaseException:  # GeneratorExit (the coroutine is closed), an interrupt, ...
        _cancel(timer)
        op.abandon()
        raise


def _cancel(timer: asyncio.TimerHandle | None) -> None:
    if timer is not None:
        timer.cancel()


def open_legacy_sync(
    client: ClientState, address: MacAddress, make: Callable[[Any, Open], T], public: Any
) -> T:
    """A blocking legacy open (``WFDOpenLegacySession`` is synchronous)."""
    op = Open(client, address, legacy=True)
    try:
        op.register()
        op.start()
        return op.adopt(make, public)
    except BaseException:
        op.abandon()
        raise


async def open_legacy_async(
    client: ClientState, address: MacAddress, make: Callable[[Any, Open], T], public: Any
) -> T:
    """An awaited legacy open: the call runs on a worker. A cancelled task leaves at once;
    a session the call opens after that is closed when it returns."""
    loop = _loops.running_loop()
    op = Open(client, address, legacy=True)
    op.queued = True
    try:
        op.register()
        await _workers.call(loop, op.start)
        return op.adopt(make, public)
    except BaseException:
        op.abandon()
        raise


def close_client(client: ClientState, wait: float) -> list[Exception]:
    """The client's close (on the closing thread, which may block): no new opens; every open
    not adopted is orphaned (its owner gets ClosedError) and cancelled; the completions are
    awaited in C (``wait`` seconds at most), which needs no Python code to run, so a signal
    handler may close a client whatever its thread was doing; every open and session is
    finished; then ``WFDCloseHandle``. Returns the errors of the native closes; the client
    counts as closed either way."""
    backend, guard = client.backend, client.guard
    wait_ms = int(min(wait, 86400.0) * 1000)
    backend.begin_close(guard, wait_ms)
    with _lock:
        ops = list(client.ops.values())
        for op in ops:
            if op.owner in _WAITING:
                op.owner = ORPHANED
    for op in ops:
        backend.orphan(op.c)
        if not op.c.completed:
            op.cancel()
    if backend.wait_opens(guard, wait_ms) == WFDX_BUSY:
        log.warning(
            "wifidirect: cancelled opens of the client did not complete within %g s; its "
            "handle is left open",
            wait,
        )
    errors: list[Exception] = []
    for op in ops:
        if not (op.c.started or op.c.completed):
            op._forget()  # never started; after begin_close it never will be
            continue
        try:
            op.finish(quiet=False)
        except WFDError as exc:
            errors.append(exc)
    rc = backend.close_handle(guard, wait_ms)
    if rc != WFDX_BUSY:
        try:
            check(rc, "WFDCloseHandle")
        except WFDError as exc:
            errors.append(exc)
    return errors
