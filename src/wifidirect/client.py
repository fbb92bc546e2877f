"""Client: a Wi-Fi Direct client handle, and the sessions opened through it."""

from __future__ import annotations

import asyncio
import logging
import math
import numbers
import threading
import warnings
import weakref
from types import TracebackType
from typing import cast

from . import _cleanup, _dispatch, _native
from ._dispatch import PendingOpen
from .address import AddressLike, MacAddress
from .errors import ClosedError, WFDError, open_session_error
from .session import Session, _SessionState

__all__ = ["Client"]

log = logging.getLogger("wifidirect")

#: Seconds ``close()`` at interpreter exit waits for one cancelled open's callback.
EXIT_WAIT = 5.0


def _check_timeout(timeout: object) -> float | None:
    """``None`` (wait forever) or a finite number of seconds >= 0; ``inf`` means forever."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
    try:
        value = float(timeout)
    except OverflowError:  # an int beyond float range: positive ones mean "no limit"
        value = math.inf if cast(int, timeout) > 0 else -math.inf
    if math.isnan(value) or value < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None, not {timeout!r}")
    if value >= threading.TIMEOUT_MAX:
        return None
    return value


class _ClientState:
    """The native client handle and everything that must be closed before it.

    Kept apart from :class:`Client` so that the finalizer of a dropped client, and interpreter
    exit, can close it. One lock (never re-entered: finalizers defer their closes to the
    cleanup thread) orders all native calls on this client: a start
    cannot race a close, a session is closed at most once and always before the handle, and the
    handle is closed only when no open is pending (``WFDCloseHandle`` would wait for it).
    """

    def __init__(self, backend: _native.Backend) -> None:
        self.backend = backend
        self.lock = threading.Lock()
        self.closing = False
        self.closed = False
        self.closed_event = threading.Event()
        self.closer = 0  # thread ident of the first close()
        self.unclaimed: set[PendingOpen] = set()
        self.sessions: dict[int, _SessionState] = {}
        self.version, self.handle = backend.open_handle()
        #: Bound once (each open refers to it): see :meth:`orphaned`.
        self.on_orphan = self.orphaned
        _cleanup.register_client(id(self), self)

    # -- opens ------------------------------------------------------------------------------

    def start_open(
        self, address: MacAddress, loop: asyncio.AbstractEventLoop | None
    ) -> PendingOpen:
        """``WFDStartOpenSession``; the record is registered before the native call."""
        rec = PendingOpen(address, self.on_orphan)
        if loop is not None:
            rec.future = loop.create_future()
        lock = self.lock
        lock.acquire()  # the hot path: try/finally costs half of `with`
        try:
            if self.closing:
                raise ClosedError("the client is closed")
            rec.register(self.backend, loop)
            self.unclaimed.add(rec)
            try:
                handle = self.backend.start_open(
                    self.handle, address._packed, rec.token, queued=rec.channel != 0
                )
            except BaseException:
                rec.unregister()
                self.unclaimed.discard(rec)
                raise
            if not rec.done:
                rec.handle = handle
        finally:
            lock.release()
        return rec

    def _claim(self, rec: PendingOpen) -> bool:
        # Caller holds self.lock.
        if rec.claimed:
            return False
        rec.claimed = True
        self.unclaimed.discard(rec)
        return True

    def adopt(self, rec: PendingOpen, client: Client) -> Session:
        """The opener's share of a completed open: a :class:`Session` of ``client``, or the
        error."""
        lock = self.lock
        lock.acquire()
        try:
            if self.closing or not self._claim(rec):
                raise ClosedError("the client was closed while the open was pending")
            if rec.error:
                raise open_session_error(rec.error, rec.reason, str(rec.address))
            handle = rec.handle
            state = self.sessions[handle] = _SessionState(self, handle, rec.address, rec.guid)
        finally:
            lock.release()
        return Session(client, state)

    def abort(self, rec: PendingOpen) -> bool:
        """Cancel a pending open, wait for its callback, close a session that opened anyway.

        The one cleanup path for a timeout, a cancelled task or an interrupted wait. Returns
        ``True`` when the completion had already arrived before the cancel, so the caller may
        still take the outcome with :meth:`adopt`.
        """
        issued = _dispatch.request_cancel(rec, self.backend)
        rec.wait()
        return self.after_abort(rec, issued)

    def after_abort(self, rec: PendingOpen, issued: bool) -> bool:
        """Once an aborted open has completed: ``True`` if the completion beat the cancel (the
        caller may :meth:`adopt` it), else discard it (closing a session that opened anyway)."""
        if not issued and not rec.cancel_requested:
            return True
        self.discard(rec)
        return False

    def discard(self, rec: PendingOpen) -> None:
        """Claim a completed open nobody will use; close its session if it opened."""
        if not rec.done:  # its handle may still be pending: closing it is a contract violation
            raise RuntimeError(f"wifidirect internal error: discarding open {rec.token} early")
        with self.lock:
            if self._claim(rec) and not rec.error and not self.closed:
                self.backend.close_session(rec.handle)

    def orphaned(self, rec: PendingOpen) -> None:
        """A completion nobody will collect (cleanup thread): discard it quietly."""
        try:
            self.discard(rec)
        except WFDError as exc:
            log.warning("closing the session of an abandoned open failed: %s", exc)

    # -- sessions ---------------------------------------------------------------------------

    def _new_session(self, handle: int, address: MacAddress, guid: bytes, legacy: bool) -> Session:
        state = _SessionState(self, handle, address, guid, legacy)
        self.sessions[handle] = state
        client = self.public()
        if client is None:  # only during interpreter exit or finalization
            raise ClosedError("the client is being closed")
        return Session(client, state)

    public: weakref.ref[Client]

    def open_legacy(self, address: MacAddress) -> Session:
        """``WFDOpenLegacySession``, under the lock (it is synchronous)."""
        with self.lock:
            if self.closing:
                raise ClosedError("the client is closed")
            handle, guid = self.backend.open_legacy(self.handle, address.packed)
            return self._new_session(handle, address, guid, legacy=True)

    def close_session(self, state: _SessionState, quiet: bool = False) -> None:
        """``WFDCloseSession`` at most once, and never after the client handle is closed."""
        lock = self.lock
        lock.acquire()  # the hot path: try/finally costs half of `with`
        try:
            if state.closed:
                return
            state.closed = True
            del self.sessions[state.handle]
            self.backend.close_session(state.handle)
        except WFDError as exc:
            if not quiet:
                raise
            log.warning("closing session %s failed: %s", state.address, exc)
        finally:
            lock.release()

    def open_sessions(self) -> tuple[Session, ...]:
        """The public Session objects of the open sessions still referenced by the program."""
        with self.lock:
            states = list(self.sessions.values())
        found = (state.public() if state.public is not None else None for state in states)
        return tuple(session for session in found if session is not None)

    # -- closing ----------------------------------------------------------------------------

    def close(self, wait: float | None = None) -> None:
        """Cancel pending opens and await their callbacks, close the sessions, close the handle.

        Idempotent; concurrent calls make one set of native calls and all return once it is
        done. ``wait`` bounds the wait for each cancelled open's callback (interpreter exit);
        if one does not arrive in time the handle is left open rather than closed under it.
        """
        with self.lock:
            if self.closing:
                first = False
            else:
                self.closing = first = True
                self.closer = threading.get_ident()
                pending = list(self.unclaimed)
        if not first:
            if self.closer != threading.get_ident():
                self.closed_event.wait()
            return
        try:
            for rec in pending:
                _dispatch.request_cancel(rec, self.backend)
            arrived = all(rec.wait(wait) for rec in pending)
            with self.lock:
                errors: list[WFDError] = []
                for rec in pending:
                    if rec.done and self._claim(rec) and not rec.error:
                        self._close_quietly(rec.handle, errors)
                for state in list(self.sessions.values()):
                    state.closed = True
                    self._close_quietly(state.handle, errors)
                self.sessions.clear()
                if arrived:
                    try:
                        self.backend.close_handle(self.handle)
                    except WFDError as exc:
                        errors.append(exc)
                else:
                    log.warning("a cancelled open never completed; client handle left open")
                self.closed = True
        finally:
            _cleanup.unregister_client(id(self))
            self.closed_event.set()
        if errors:
            raise errors[0]

    def _close_quietly(self, handle: int, errors: list[WFDError]) -> None:
        try:
            self.backend.close_session(handle)
        except WFDError as exc:
            errors.append(exc)

    def close_at_exit(self) -> None:
        """Interpreter exit: close with a bounded wait for cancelled opens."""
        self.close(wait=EXIT_WAIT)

    def __repr__(self) -> str:
        return f"<client state {self.backend.name} {self.handle:#x}>"


class Client:
    """A Wi-Fi Direct client: ``WFDOpenHandle`` happens in the constructor.

    Args:
        backend: ``"wlanapi"`` (Windows' Wlanapi.dll), ``"sim"`` (the bundled simulator), or
            ``None``: the ``WIFIDIRECT_BACKEND`` environment variable if set, else
            ``"wlanapi"`` on Windows and ``"sim"`` elsewhere.

    Raises:
        ValueError / TypeError: for a bad ``backend``.
        wifidirect.BackendUnavailableError: the backend cannot be loaded here.
        wifidirect.WFDError: ``WFDOpenHandle`` failed (e.g. :class:`SessionLimitError`).

    Every method is thread-safe. Use the client as a context manager (``with`` or
    ``async with``) or call :meth:`close`; a client garbage-collected while open emits
    ``ResourceWarning`` and is closed.
    """

    __slots__ = ("__weakref__", "_backend", "_finalizer", "_state")

    def __init__(self, backend: str | None = None) -> None:
        state = _ClientState(_native.get_backend(backend))
        state.public = weakref.ref(self)
        self._state = state
        self._backend = state.backend
        self._finalizer = weakref.finalize(self, _finalize, state)
        self._finalizer.atexit = False  # interpreter exit is handled by _cleanup.shutdown

    # -- properties -------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The backend in use: ``"wlanapi"`` or ``"sim"``."""
        return self._state.backend.name

    @property
    def negotiated_version(self) -> int:
        """The API version ``WFDOpenHandle`` negotiated (1 = ``WFD_API_VERSION_1_0``)."""
        return self._state.version

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (or is running)."""
        return self._state.closing

    @property
    def sessions(self) -> tuple[Session, ...]:
        """The client's open sessions."""
        return self._state.open_sessions()

    # -- operations -------------------------------------------------------------------------

    def _live(self) -> _ClientState:
        state = self._state
        if state.closing:
            raise ClosedError("the client is closed")
        return state

    async def open_session(self, address: AddressLike, timeout: float | None = None) -> Session:
        """Open a session to a paired device (``WFDStartOpenSession``) and await the outcome.

        Args:
            address: the device address (anything :class:`MacAddress` accepts).
            timeout: seconds to wait, or ``None`` for no limit.

        Raises:
            TimeoutError: the timeout expired. The open was cancelled, its callback awaited and
                a session that opened anyway closed; nothing is left behind.
            asyncio.CancelledError: the awaiting task was cancelled (cleaned up the same way).
            wifidirect.OpenSessionError: the open completed with an error.
            wifidirect.WFDError: ``WFDStartOpenSession`` refused (e.g. service not active).
            wifidirect.ClosedError: the client is closed, or was closed meanwhile.
        """
        mac = address if type(address) is MacAddress else MacAddress(address)
        limit = None if timeout is None else _check_timeout(timeout)
        state = self._state  # start_open raises ClosedError for a closed client
        loop = _dispatch.running_loop()
        rec = state.start_open(mac, loop)
        future = rec.future
        assert future is not None
        timer = loop.call_later(limit, rec.wake) if limit is not None else None
        try:
            await future
        except BaseException as exc:
            # The timer goes first: firing during the cleanup below, it would resolve the
            # cleanup's wait future too (regression: test_timer_during_cancel_cleanup).
            if timer is not None:
                timer.cancel()
            if isinstance(exc, asyncio.CancelledError):
                if await _abort_async(state, rec, loop):
                    state.discard(rec)
            elif rec.abandon():  # GeneratorExit: the coroutine is dropped, nobody will wait
                _cleanup.submit(state.orphaned, rec)
            raise
        if timer is not None:
            timer.cancel()
        if not rec.done and not await _abort_async(state, rec, loop):
            raise TimeoutError(f"opening a session to {mac} timed out after {limit} s")
        return state.adopt(rec, self)

    def open_session_sync(self, address: AddressLike, timeout: float | None = None) -> Session:
        """Blocking :meth:`open_session`, for any thread (also one without an event loop).

        Raises the same exceptions, with ``TimeoutError`` on expiry; an interrupt
        (``KeyboardInterrupt``) during the wait is cleaned up like a timeout, then re-raised.
        """
        mac = address if type(address) is MacAddress else MacAddress(address)
        limit = None if timeout is None else _check_timeout(timeout)
        state = self._live()
        rec = state.start_open(mac, None)
        try:
            completed = rec.wait(limit)
        except BaseException:  # KeyboardInterrupt: clean up, then let it through
            if state.abort(rec):
                state.discard(rec)
            raise
        if not completed and not state.abort(rec):
            raise TimeoutError(f"opening a session to {mac} timed out after {limit} s")
        return state.adopt(rec, self)

    def open_legacy_session(self, address: AddressLike) -> Session:
        """Open a session to a legacy (WPS) device with its stored profile
        (``WFDOpenLegacySession``, synchronous)."""
        mac = MacAddress(address)
        return self._live().open_legacy(mac)

    def update_device_visibility(self, address: AddressLike) -> None:
        """Run a targeted discovery of a paired device and update its visibility property
        (``WFDUpdateDeviceVisibility``)."""
        packed = address._packed if type(address) is MacAddress else MacAddress(address)._packed
        if self._state.closing:
            raise ClosedError("the client is closed")
        self._backend.update_visibility(packed)

    def close(self) -> None:
        """Close the client: cancel pending opens (their callers get :class:`ClosedError`),
        close its sessions, then ``WFDCloseHandle``. Idempotent and thread-safe."""
        self._finalizer.detach()
        self._state.close()

    # -- context managers -------------------------------------------------------------------

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing waits for cancelled opens' callbacks: do it off the event loop.
        state = self._state
        self._finalizer.detach()
        await asyncio.get_running_loop().run_in_executor(None, state.close)

    def __repr__(self) -> str:
        status = "closed" if self._state.closing else f"{len(self._state.sessions)} sessions"
        return f"<wifidirect.Client backend={self.backend!r} {status}>"


async def _abort_async(
    state: _ClientState, rec: PendingOpen, loop: asyncio.AbstractEventLoop
) -> bool:
    """The async side of :meth:`_ClientState.abort`: cancel, then await the callback on the
    loop (never blocking it), shielded from further cancellation. Returns ``True`` when the
    completion had arrived before the cancel."""
    issued = _dispatch.request_cancel(rec, state.backend)
    while not rec.done:  # the record's own flag decides, not whichever future got resolved
        waiter = rec.future = loop.create_future()
        if rec.done:  # arrived between the check and the swap: its wake() may have run
            break
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            continue  # keep waiting: the record must be resolved before we leave
    return state.after_abort(rec, issued)


def _finalize(state: _ClientState) -> None:
    if state.closing:
        return
    _cleanup.submit(state.close)  # before warning: the warning may be turned into an error
    warnings.warn("unclosed wifidirect.Client; it is closed now", ResourceWarning, stacklevel=1)
