"""Client: a Wi-Fi Direct client handle, and the sessions opened through it."""

from __future__ import annotations

import warnings
import weakref
from types import TracebackType

from . import _loops, _native, _opens, _workers
from ._clients import ClientState
from ._timeouts import check_timeout as _check_timeout
from .address import AddressLike, MacAddress
from .devices import Device
from .errors import ClosedError, check
from .session import Session

__all__ = ["Client"]


def _mac(address: AddressLike) -> MacAddress:
    return address if type(address) is MacAddress else MacAddress(address)


class Client:
    """A Wi-Fi Direct client: ``WFDOpenHandle`` happens in the constructor.

    Args:
        backend: ``"wlanapi"`` (Windows' Wlanapi.dll), ``"wpas"`` (Linux: wpa_supplicant's
            P2P control interface), ``"sim"`` (the bundled simulator), or ``None``: the
            ``WIFIDIRECT_BACKEND`` environment variable if set, else the platform's real
            backend (``"wlanapi"`` on Windows, ``"wpas"`` on Linux). Never the simulator
            unless it is chosen.

    Raises:
        ConfigurationError / TypeError: for a bad ``backend``.
        wifidirect.BackendUnavailableError: the backend cannot be loaded here.
        wifidirect.WFDError: ``WFDOpenHandle`` failed (e.g. :class:`SessionLimitError`).

    Every operation has an async form, which never blocks the event loop (``await
    client.open_session(...)``), and a blocking one for any thread (``open_session_sync``).
    Every method is thread-safe. Use the client as a context manager (``with`` or ``async
    with``) or call :meth:`close`; a client garbage-collected while open emits
    ``ResourceWarning`` and is closed. A client does not survive ``fork()``: in the child it
    is closed.
    """

    __slots__ = ("__weakref__", "_finalizer", "_state", "_visibility")

    def __init__(self, backend: str | None = None) -> None:
        state = ClientState(_native.get_backend(backend))
        self._state = state
        self._visibility = state.backend.update_visibility  # bound once: a hot call
        self._finalizer = weakref.finalize(self, _finalize, state)
        self._finalizer.atexit = False  # interpreter exit is handled by _process

    # -- properties -------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The backend in use: ``"wlanapi"``, ``"wpas"`` or ``"sim"``."""
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
        return tuple(self._state.sessions())

    # -- devices ----------------------------------------------------------------------------

    def devices(self) -> tuple[Device, ...]:
        """The paired Wi-Fi Direct devices, as the system lists them now.

        Every paired device counts, also one that is off or out of range (its
        :attr:`Device.visible` is then ``False``): a paired device stays a device node until
        it is unpaired in the system's settings. A quick local query (SetupAPI on Windows,
        no radio traffic); from an event loop, ``await`` :meth:`adevices` to keep even that
        off the loop.

        Raises:
            wifidirect.ClosedError: the client is closed.
            wifidirect.WFDError: the system could not list them.
        """
        rc, raw = self._live().backend.list_devices()
        if rc:
            check(rc, "listing the paired Wi-Fi Direct devices")
        return tuple(Device._from_raw(d) for d in raw)

    async def adevices(self) -> tuple[Device, ...]:
        """:meth:`devices` on a worker thread: the event loop goes on meanwhile."""
        self._live()
        devices: tuple[Device, ...] = await _workers.call(_loops.running_loop(), self.devices)
        return devices

    # -- opens ------------------------------------------------------------------------------

    async def open_session(self, address: AddressLike, timeout: float | None = None) -> Session:
        """Open a session to a paired device (``WFDStartOpenSession``) and await the outcome.

        The event loop never waits on a native call: the start runs on a worker thread and
        the completion is handed to the loop.

        Args:
            address: the device address (anything :class:`MacAddress` accepts).
            timeout: seconds to wait, or ``None`` for no limit.

        Raises:
            TimeoutError: the timeout expired. The open was cancelled, its callback awaited and
                a session that opened anyway closed; nothing is left behind.
            asyncio.CancelledError: the awaiting task was cancelled (cleaned up the same way;
                a cancel that arrives during a timeout's cleanup is raised, never lost).
            wifidirect.OpenSessionError: the open completed with an error.
            wifidirect.WFDError: ``WFDStartOpenSession`` refused (e.g. service not active).
            wifidirect.ClosedError: the client is closed, or was closed meanwhile.
            RuntimeError: no asyncio event loop runs (use :meth:`open_session_sync`).
        """
        mac = address if type(address) is MacAddress else MacAddress(address)
        limit = None if timeout is None else _check_timeout(timeout)
        return await _opens.open_async(self._state, mac, limit, Session, self)

    def open_session_sync(self, address: AddressLike, timeout: float | None = None) -> Session:
        """Blocking :meth:`open_session`, for any thread (also one without an event loop).

        Raises the same exceptions, with ``TimeoutError`` on expiry; an interrupt
        (``KeyboardInterrupt``) during the wait cancels the open (cleaned up in the
        background), then goes on.
        """
        mac = _mac(address)
        limit = None if timeout is None else _check_timeout(timeout)
        return _opens.open_sync(self._state, mac, limit, Session, self)

    async def open_legacy_session(self, address: AddressLike) -> Session:
        """Open a session to a legacy (WPS) device with its stored profile
        (``WFDOpenLegacySession``). The call is synchronous in the API; here it runs on a
        worker thread, so the event loop goes on meanwhile. A cancelled task returns at
        once; a session the call opens after that is closed."""
        return await _opens.open_legacy_async(self._state, _mac(address), Session, self)

    def open_legacy_session_sync(self, address: AddressLike) -> Session:
        """Blocking :meth:`open_legacy_session`."""
        return _opens.open_legacy_sync(self._state, _mac(address), Session, self)

    async def update_device_visibility(self, address: AddressLike) -> None:
        """Run a targeted discovery of a paired device and update its visibility property
        (``WFDUpdateDeviceVisibility``), on a worker thread: the event loop goes on."""
        packed = _mac(address).packed
        state = self._live()
        await _workers.call(_loops.running_loop(), _update_visibility, state, packed)

    def update_device_visibility_sync(self, address: AddressLike) -> None:
        """Blocking :meth:`update_device_visibility`."""
        packed = address._packed if type(address) is MacAddress else MacAddress(address)._packed
        if self._state.closing:
            raise ClosedError("the client is closed")
        rc = self._visibility(packed)
        if rc:
            check(rc, "WFDUpdateDeviceVisibility")

    def _live(self) -> ClientState:
        state = self._state
        if state.closing:
            raise ClosedError("the client is closed")
        return state

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the client: cancel pending opens (their callers get :class:`ClosedError`),
        close its sessions, then ``WFDCloseHandle``. Idempotent and thread-safe; a signal
        handler may call it. It blocks until the cancelled opens' callbacks came (10 s at
        most): on an event loop, ``await client.aclose()`` instead."""
        self._finalizer.detach()
        self._state.close()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop (it runs on a worker thread)."""
        try:
            loop = _loops.running_loop()
        except RuntimeError:  # not asyncio: close anyway, then say why
            self.close()
            raise
        self._finalizer.detach()
        await _workers.call(loop, self._state.close)

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
        try:
            _loops.running_loop()
        except RuntimeError:  # e.g. trio: nothing may leak, so the handle is closed first
            self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        status = "closed" if self._state.closing else f"{len(self.sessions)} sessions"
        return f"<wifidirect.Client backend={self.backend!r} {status}>"


def _update_visibility(state: ClientState, packed: bytes) -> None:
    if state.closing:
        raise ClosedError("the client is closed")
    check(state.backend.update_visibility(packed), "WFDUpdateDeviceVisibility")


def _finalize(state: ClientState) -> None:
    if state.closing:
        return
    _workers.submit(state.close)  # before warning: the warning may be turned into an error
    warnings.warn("unclosed wifidirect.Client; it is closed now", ResourceWarning, stacklevel=1)
