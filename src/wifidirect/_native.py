"""The native boundary: the only module that touches the compiled modules' ``ffi`` and ``lib``.

It picks a backend (``"wlanapi"``: Windows' Wlanapi.dll; ``"sim"``: the bundled simulator),
wraps the seven WFD calls so that every return code goes through :func:`errors.check`, and
registers the ``extern "Python"`` completion callback of each module. Handles cross this
boundary as plain ``int`` values; the facade never sees cdata.
"""

from __future__ import annotations

import importlib
import logging
import os
import struct
import sys
import threading
from logging import DEBUG
from types import ModuleType
from typing import Any

from . import _dispatch
from ._version import __version__
from .errors import check

__all__ = ["BACKENDS", "Backend", "default_backend_name", "get_backend", "simulator_lib"]

log = logging.getLogger("wifidirect")
_debug = log.isEnabledFor  # bound once: the hot calls check it on every call

#: Backend name -> compiled module name.
BACKENDS = {"wlanapi": "wifidirect._wlanapi", "sim": "wifidirect._wfdsim"}

#: The environment variable that chooses the backend when ``backend=None``.
BACKEND_ENV = "WIFIDIRECT_BACKEND"

_WFD_API_VERSION = 1

#: The layout of ``wfdx_item`` (include/shim.h) and the completions taken per drain call.
_ITEM = struct.Struct("=QQII16s")
_DRAIN_BATCH = 256


class Backend:
    """One compiled module behind the facade's calls. Instances are per-process singletons.

    Handles are ``int``; addresses are the 6 packed bytes of a :class:`MacAddress`. The hot
    calls use the module's own shim (include/shim.h): no cdata is allocated or cast on the
    success path.
    """

    __slots__ = (
        "_cancel",
        "_cancel_queued",
        "_close_handle",
        "_close_session",
        "_drain",
        "_ffi",
        "_items",
        "_items_view",
        "_last_error",
        "_lib",
        "_start",
        "_start_queued",
        "_visibility",
        "name",
    )

    def __init__(self, name: str, module: Any) -> None:
        self.name = name
        self._ffi = module.ffi
        self._lib = lib = module.lib
        # Bound once: attribute lookups on `lib` are the hot path's only avoidable cost.
        self._start = lib.wfdx_start_open
        self._last_error = lib.wfdx_last_error
        self._cancel = lib.wfdx_cancel_open
        self._close_session = lib.wfdx_close_session
        self._close_handle = lib.wfdx_close_handle
        self._visibility = lib.wfdx_update_visibility
        self._start_queued = lib.wfdx_start_open_queued
        self._cancel_queued = lib.wfdx_cancel_queued
        self._drain = lib.wfdx_channel_drain
        # One buffer for drained completions: drains run under _dispatch's table lock.
        self._items = module.ffi.new("wfdx_item[]", _DRAIN_BATCH)
        self._items_view = memoryview(module.ffi.buffer(self._items))

    def __repr__(self) -> str:
        return f"<wifidirect backend {self.name!r}>"

    def open_handle(self) -> tuple[int, int]:
        """``WFDOpenHandle``: returns ``(negotiated_version, client_handle)``."""
        ffi = self._ffi
        version = ffi.new("DWORD *")
        handle = ffi.new("HANDLE *")
        rc = self._lib.WFDOpenHandle(_WFD_API_VERSION, version, handle)
        client = int(ffi.cast("uintptr_t", handle[0]))
        log.debug("WFDOpenHandle() -> %d, handle %#x", rc, client)
        check(rc, "WFDOpenHandle")
        return int(version[0]), client

    def close_handle(self, client: int) -> None:
        """``WFDCloseHandle``; waits for the client's pending opens (a Windows rule)."""
        rc = self._close_handle(client)
        log.debug("WFDCloseHandle(%#x) -> %d", client, rc)
        check(rc, "WFDCloseHandle")

    def start_open(self, client: int, address: bytes, token: int, queued: bool) -> int:
        """``WFDStartOpenSession`` with ``token`` as the context; returns the session handle.

        ``queued``: the completion goes into the C queue of the channel in ``token``'s low bits
        (see :meth:`open_channel`); otherwise it comes through the ``extern "Python"``
        callback. Either may happen (on another thread) before this returns.
        """
        session: int = (self._start_queued if queued else self._start)(client, address, token)
        rc = 0 if session else self._last_error()
        if _debug(DEBUG):
            log.debug(
                "WFDStartOpenSession(%#x, token=%d, %s) -> %d, session %#x",
                client,
                token,
                "queued" if queued else "direct",
                rc,
                session,
            )
        if rc:
            check(rc, "WFDStartOpenSession")
        return session

    def cancel_queued(self, session: int, token: int) -> bool:
        """``WFDCancelOpenSession`` for a queued open, unless its completion is already queued
        (then its handle may be invalid already): returns whether the cancel was issued."""
        rc = self._cancel_queued(session, token)
        log.debug("WFDCancelOpenSession(%#x) -> %d", session, rc)
        if rc == self._lib.WFDX_ALREADY_COMPLETE:
            return False
        check(rc, "WFDCancelOpenSession")
        return True

    def open_channel(self) -> tuple[int, int]:
        """A completion channel: ``(channel, readable_fd)``, or ``(0, -1)`` where this build
        has none (Windows, 32-bit) or all are taken."""
        channel = int(self._lib.wfdx_channel_open())
        if channel <= 0:
            return 0, -1
        return channel, int(self._lib.wfdx_channel_fd(channel))

    def drain_channel(self, channel: int) -> list[tuple[int, int, int, int, bytes]]:
        """Take every queued completion of ``channel``: ``(token, session, error, reason,
        guid)`` tuples in arrival order. The caller serialises drains (one shared buffer)."""
        entries: list[tuple[int, int, int, int, bytes]] = []
        items, view, drain = self._items, self._items_view, self._drain
        while True:
            count = drain(channel, items, _DRAIN_BATCH)
            if count:
                entries.extend(_ITEM.iter_unpack(view[: count * _ITEM.size]))
            if count < _DRAIN_BATCH:
                return entries

    def close_channel(self, channel: int) -> None:
        """Stop queueing into ``channel`` (later completions are delivered directly) and close
        its descriptor; it is reused once drained empty."""
        self._lib.wfdx_channel_close(channel)

    def cancel_open(self, session: int) -> None:
        """``WFDCancelOpenSession``: asks for cancellation; the completion still comes."""
        rc = self._cancel(session)
        log.debug("WFDCancelOpenSession(%#x) -> %d", session, rc)
        check(rc, "WFDCancelOpenSession")

    def open_legacy(self, client: int, address: bytes) -> tuple[int, bytes]:
        """``WFDOpenLegacySession``: returns ``(session_handle, interface_guid_bytes_le)``."""
        ffi = self._ffi
        session = ffi.new("HANDLE *")
        guid = ffi.new("GUID *")
        mac = ffi.new("DOT11_MAC_ADDRESS *", list(address))
        rc = self._lib.WFDOpenLegacySession(ffi.cast("HANDLE", client), mac, session, guid)
        log.debug("WFDOpenLegacySession(%#x) -> %d", client, rc)
        check(rc, "WFDOpenLegacySession")
        return int(ffi.cast("uintptr_t", session[0])), bytes(ffi.buffer(guid))

    def close_session(self, session: int) -> None:
        """``WFDCloseSession``: queues the disconnect."""
        rc = self._close_session(session)
        if _debug(DEBUG):
            log.debug("WFDCloseSession(%#x) -> %d", session, rc)
        if rc:
            check(rc, "WFDCloseSession")

    def update_visibility(self, address: bytes) -> None:
        """``WFDUpdateDeviceVisibility``."""
        rc = self._visibility(address)
        if _debug(DEBUG):
            log.debug("WFDUpdateDeviceVisibility(%s) -> %d", address.hex(":"), rc)
        if rc:
            check(rc, "WFDUpdateDeviceVisibility")


def _install_callback(module: Any) -> None:
    """Register the module's ``wfd_open_complete``: copy the five arguments, hand them off.

    This is the direct completion path (blocking opens, Windows, loops that cannot watch a
    descriptor, and queued completions whose channel was closed). It runs on a foreign thread
    and returns only after :func:`_dispatch.complete_batch` has recorded the completion: a
    failed open's handle becomes invalid when the callback returns, and for direct opens the
    facade relies on "not recorded yet" meaning "still valid" when it calls
    ``WFDCancelOpenSession``. (Queued completions return earlier; their cancels are checked
    against the queue in C instead, see src/shim/shim.c.)
    """
    ffi = module.ffi
    complete_batch = _dispatch.complete_batch
    cast = ffi.cast
    buffer = ffi.buffer
    addressof = ffi.addressof

    def wfd_open_complete(session: Any, context: Any, guid: Any, error: int, reason: int) -> None:
        complete_batch(
            (
                (
                    int(cast("uintptr_t", context)),
                    int(cast("uintptr_t", session)),
                    error,
                    reason,
                    b"" if error else bytes(buffer(addressof(guid))),
                ),
            )
        )

    ffi.def_extern(name="wfd_open_complete", onerror=_dispatch.callback_error)(wfd_open_complete)


_lock = threading.Lock()
_backends: dict[str, Backend] = {}
_unavailable: dict[str, str] = {}


def _load(name: str) -> Backend:
    with _lock:
        backend = _backends.get(name)
        if backend is not None:
            return backend
        if name in _unavailable:
            raise BackendUnavailableError(name, _unavailable[name])
        try:
            module: ModuleType = importlib.import_module(BACKENDS[name])
        except ImportError as exc:
            why = (
                "Wlanapi.dll exists only on Windows 8 and later"
                if name == "wlanapi" and sys.platform != "win32"
                else f"cannot import {BACKENDS[name]}: {exc}"
            )
            _unavailable[name] = why
            raise BackendUnavailableError(name, why) from exc
        built = module.ffi.string(module.lib.wifidirect_module_version()).decode()
        if built != __version__:
            raise ImportError(
                f"{BACKENDS[name]} was built for wifidirect {built}, but the package is "
                f"{__version__}: reinstall wifidirect"
            )
        _install_callback(module)
        backend = _backends[name] = Backend(name, module)
        return backend


class BackendUnavailableError(ImportError):
    """The requested backend cannot be loaded on this machine (e.g. ``"wlanapi"`` off Windows)."""

    def __init__(self, backend: str, why: str) -> None:
        super().__init__(f"wifidirect backend {backend!r} is unavailable: {why}")
        self.backend = backend


def default_backend_name() -> str:
    """The backend ``Client(backend=None)`` uses.

    ``$WIFIDIRECT_BACKEND`` when set; otherwise ``"wlanapi"`` on Windows when Wlanapi.dll
    loads, else ``"sim"``.
    """
    chosen = os.environ.get(BACKEND_ENV, "").strip()
    if chosen:
        return validate_name(chosen, source=f"${BACKEND_ENV}")
    if sys.platform == "win32":
        try:
            _load("wlanapi")
        except ImportError:
            return "sim"
        return "wlanapi"
    return "sim"


def validate_name(name: object, source: str = "backend") -> str:
    """Check a backend name: ``TypeError`` for a non-string, ``ValueError`` for an unknown one."""
    if not isinstance(name, str):
        raise TypeError(f"{source} must be a str or None, not {type(name).__name__}: {name!r}")
    if name not in BACKENDS:
        raise ValueError(f"unknown {source} {name!r}: expected one of {', '.join(BACKENDS)}")
    return name


def get_backend(name: str | None) -> Backend:
    """The backend for ``name`` (``None``: :func:`default_backend_name`)."""
    return _load(default_backend_name() if name is None else validate_name(name))


def simulator_lib() -> tuple[Any, Any]:
    """The control API's ``(ffi, lib)`` for :mod:`wifidirect.sim`: the simulator behind the
    default backend. That is the ``wlanapi`` backend's DLL when it is the simulator built as a
    stand-in ``wlanapi.dll`` (as in the Wine test run), else the ``_wfdsim`` module."""
    if default_backend_name() == "wlanapi":
        dll = _simulator_dll()
        if dll is not None:
            return dll
    backend = _load("sim")
    return backend._ffi, backend._lib


_sim_dll: list[tuple[Any, Any] | None] = []  # probed once: [] = not yet


def _simulator_dll() -> tuple[Any, Any] | None:
    """The control API of the loaded wlanapi.dll if it exports one (the simulator does, the real
    DLL does not), through the ABI-mode module ``wifidirect._wfdsim_abi`` (Windows builds)."""
    if not _sim_dll:
        found = None
        try:
            _load("wlanapi")  # the DLL that _wlanapi's import table bound is now loaded
            abi = importlib.import_module("wifidirect._wfdsim_abi")
            lib = abi.ffi.dlopen("wlanapi.dll")  # that same loaded module
            if hasattr(lib, "wfdsim_reset"):
                found = abi.ffi, lib
        except (ImportError, OSError):
            pass
        _sim_dll.append(found)
    return _sim_dll[0]
