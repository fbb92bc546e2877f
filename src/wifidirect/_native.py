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
import sys
import threading
from types import ModuleType
from typing import Any

from . import _dispatch
from ._version import __version__
from .errors import check

__all__ = ["BACKENDS", "Backend", "default_backend_name", "get_backend", "simulator_lib"]

log = logging.getLogger("wifidirect")

#: Backend name -> compiled module name.
BACKENDS = {"wlanapi": "wifidirect._wlanapi", "sim": "wifidirect._wfdsim"}

#: The environment variable that chooses the backend when ``backend=None``.
BACKEND_ENV = "WIFIDIRECT_BACKEND"

_WFD_API_VERSION = 1


class Backend:
    """One compiled module behind the facade's calls. Instances are per-process singletons."""

    __slots__ = (
        "_cancel",
        "_close_handle",
        "_close_session",
        "_ffi",
        "_legacy",
        "_lib",
        "_open_handle",
        "_start",
        "_visibility",
        "callback",
        "name",
    )

    def __init__(self, name: str, module: Any) -> None:
        self.name = name
        self._ffi = module.ffi
        self._lib = module.lib
        lib = module.lib
        # Bound once: attribute lookups on `lib` are the hot path's only avoidable cost.
        self._open_handle = lib.WFDOpenHandle
        self._close_handle = lib.WFDCloseHandle
        self._start = lib.WFDStartOpenSession
        self._cancel = lib.WFDCancelOpenSession
        self._legacy = lib.WFDOpenLegacySession
        self._close_session = lib.WFDCloseSession
        self._visibility = lib.WFDUpdateDeviceVisibility
        self.callback = lib.wfd_open_complete

    def __repr__(self) -> str:
        return f"<wifidirect backend {self.name!r}>"

    def _handle(self, value: int) -> Any:
        return self._ffi.cast("HANDLE", value)

    def _address(self, address: bytes) -> Any:
        return self._ffi.new("DOT11_MAC_ADDRESS *", list(address))

    def open_handle(self) -> tuple[int, int]:
        """``WFDOpenHandle``: returns ``(negotiated_version, client_handle)``."""
        ffi = self._ffi
        version = ffi.new("DWORD *")
        handle = ffi.new("HANDLE *")
        rc = self._open_handle(_WFD_API_VERSION, version, handle)
        log.debug("WFDOpenHandle() -> %d", rc)
        check(rc, "WFDOpenHandle")
        return int(version[0]), int(ffi.cast("uintptr_t", handle[0]))

    def close_handle(self, client: int) -> None:
        """``WFDCloseHandle``; waits for the client's pending opens (a Windows rule)."""
        rc = self._close_handle(self._handle(client))
        log.debug("WFDCloseHandle(%#x) -> %d", client, rc)
        check(rc, "WFDCloseHandle")

    def start_open(self, client: int, address: bytes, token: int) -> int:
        """``WFDStartOpenSession`` with ``token`` as the context; returns the session handle.

        The completion may be dispatched (on another thread) before this returns.
        """
        ffi = self._ffi
        session = ffi.new("HANDLE *")
        rc = self._start(
            self._handle(client),
            self._address(address),
            ffi.cast("PVOID", token),
            self.callback,
            session,
        )
        log.debug("WFDStartOpenSession(%#x, token=%d) -> %d", client, token, rc)
        check(rc, "WFDStartOpenSession")
        return int(ffi.cast("uintptr_t", session[0]))

    def cancel_open(self, session: int) -> None:
        """``WFDCancelOpenSession``: asks for cancellation; the completion still comes."""
        rc = self._cancel(self._handle(session))
        log.debug("WFDCancelOpenSession(%#x) -> %d", session, rc)
        check(rc, "WFDCancelOpenSession")

    def open_legacy(self, client: int, address: bytes) -> tuple[int, bytes]:
        """``WFDOpenLegacySession``: returns ``(session_handle, interface_guid_bytes_le)``."""
        ffi = self._ffi
        session = ffi.new("HANDLE *")
        guid = ffi.new("GUID *")
        rc = self._legacy(self._handle(client), self._address(address), session, guid)
        log.debug("WFDOpenLegacySession(%#x) -> %d", client, rc)
        check(rc, "WFDOpenLegacySession")
        return int(ffi.cast("uintptr_t", session[0])), bytes(ffi.buffer(guid))

    def close_session(self, session: int) -> None:
        """``WFDCloseSession``: queues the disconnect."""
        rc = self._close_session(self._handle(session))
        log.debug("WFDCloseSession(%#x) -> %d", session, rc)
        check(rc, "WFDCloseSession")

    def update_visibility(self, address: bytes) -> None:
        """``WFDUpdateDeviceVisibility``."""
        rc = self._visibility(self._address(address))
        log.debug("WFDUpdateDeviceVisibility() -> %d", rc)
        check(rc, "WFDUpdateDeviceVisibility")


def _install_callback(module: Any) -> None:
    """Register ``wfd_open_complete`` for one module: copy the arguments, hand them off."""
    ffi = module.ffi
    complete = _dispatch.complete

    def wfd_open_complete(session: Any, context: Any, guid: Any, error: int, reason: int) -> None:
        complete(
            int(ffi.cast("uintptr_t", context)),
            int(ffi.cast("uintptr_t", session)),
            bytes(ffi.buffer(ffi.addressof(guid))) if error == 0 else b"",
            error,
            reason,
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
    """The simulator module's ``(ffi, lib)``, for :mod:`wifidirect.sim`."""
    backend = _load("sim")
    return backend._ffi, backend._lib
