"""The native boundary: the only module that touches the compiled modules' ``ffi`` and ``lib``.

It picks a backend (``"wlanapi"``: Windows' Wlanapi.dll; ``"wpas"``: wpa_supplicant on Linux;
``"sim"``: the bundled simulator),
wraps the native guard's calls (include/shim.h: every WFD call goes through it, and it enforces
Windows' handle rules in C), logs each call at DEBUG, and registers every module's
``extern "Python"`` completion hook. Return codes are handed back raw: the callers decide, and
:func:`errors.check` maps them to exceptions in one place.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from logging import DEBUG
from types import ModuleType
from typing import Any

from ._version import __version__
from .errors import BackendUnavailableError, ConfigurationError, register_system_text

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "REAL_BACKENDS",
    "Backend",
    "RawDevice",
    "RawInterface",
    "default_backend_is_simulator",
    "default_backend_name",
    "get_backend",
    "is_simulator",
    "loaded_backends",
    "set_completion_hook",
    "simulator_lib",
    "wpas_module",
    "wpas_module_raw",
    "wpas_why",
]

log = logging.getLogger("wifidirect")
_debug = log.isEnabledFor  # bound once: the hot calls check it on every call

#: Backend name -> compiled module name.
BACKENDS = {
    "wlanapi": "wifidirect._wlanapi",
    "wpas": "wifidirect._wpas",
    "sim": "wifidirect._wfdsim",
}

#: The environment variable that chooses the backend when ``backend=None``.
BACKEND_ENV = "WIFIDIRECT_BACKEND"

#: What the completion hook of every module calls: token, orphaned (see _opens.completed).
_hook: list[Callable[[int, int], None]] = []


def set_completion_hook(hook: Callable[[int, int], None]) -> None:
    """Install the function every backend's completion callback hands its token to."""
    _hook[:] = [hook]


class Backend:
    """One compiled module behind the facade. Instances are per-process singletons.

    Guards (``wfdx_client *``, ``wfdx_open *``) are cdata that the caller keeps alive; addresses
    are the 6 packed bytes of a :class:`MacAddress`. Every method returns the call's Win32 code
    (0, a WFD error, or a guard code ``WFDX_*``).
    """

    __slots__ = (
        "_cancel",
        "_close_session",
        "_ffi",
        "_lib",
        "_new",
        "_open_init",
        "_start",
        "_start_queued",
        "_visibility",
        "name",
    )

    def __init__(self, name: str, module: Any) -> None:
        self.name = name
        self._ffi = ffi = module.ffi
        self._lib = lib = module.lib
        # Bound once: attribute lookups on `lib` are the hot path's only avoidable cost.
        self._new = ffi.new
        self._open_init = lib.wfdx_open_init
        self._start = lib.wfdx_start_open
        self._start_queued = lib.wfdx_start_queued
        self._cancel = lib.wfdx_cancel_open
        self._close_session = lib.wfdx_close_session
        self._visibility = lib.wfdx_update_visibility

    def __repr__(self) -> str:
        return f"<wifidirect backend {self.name!r}>"

    # -- the client handle ------------------------------------------------------------------

    def new_client(self) -> Any:
        """A fresh ``wfdx_client`` guard (no handle yet)."""
        guard = self._new("wfdx_client *")
        self._lib.wfdx_client_init(guard)
        return guard

    def open_handle(self, client: Any) -> int:
        """``WFDOpenHandle``: fills ``client.handle`` and ``client.version``."""
        rc: int = self._lib.wfdx_open_handle(client)
        log.debug("WFDOpenHandle() -> %d, handle %#x", rc, client.handle)
        return rc

    def begin_close(self, client: Any, wait_ms: int) -> int:
        """No new opens on ``client``; wait for starts and legacy opens in progress."""
        rc: int = self._lib.wfdx_begin_close(client, wait_ms)
        log.debug("begin closing client %#x -> %#x", client.handle, rc)
        return rc

    def wait_opens(self, client: Any, wait_ms: int) -> int:
        """Wait until every started open of ``client`` has completed."""
        rc: int = self._lib.wfdx_wait_opens(client, wait_ms)
        log.debug("waiting for the opens of client %#x -> %#x", client.handle, rc)
        return rc

    def close_handle(self, client: Any, wait_ms: int) -> int:
        """``WFDCloseHandle`` once nothing is in flight on ``client``."""
        rc: int = self._lib.wfdx_close_handle(client, wait_ms)
        log.debug("WFDCloseHandle(%#x) -> %#x", client.handle, rc)
        return rc

    # -- opens and sessions -----------------------------------------------------------------

    def new_open(self, client: Any, token: int) -> Any:
        """A ``wfdx_open`` guard for one open of ``client``, named ``token``."""
        guard = self._new("wfdx_open *")
        self._open_init(guard, client, token)
        return guard

    def start_open(self, op: Any, address: bytes) -> int:
        """``WFDStartOpenSession``; the completion may arrive before this returns."""
        rc: int = self._start(op, address)
        if _debug(DEBUG):
            log.debug(
                "WFDStartOpenSession(token=%d, %s) -> %#x, session %#x",
                op.token,
                address.hex(":"),
                rc,
                op.session,
            )
        return rc

    def orphan(self, op: Any) -> int:
        """Mark the open orphaned; returns whether it has completed (see ``wfdx_orphan``)."""
        completed: int = self._lib.wfdx_orphan(op)
        return completed

    def start_queued(self, op: Any, address: bytes) -> int:
        """``WFDStartOpenSession`` made by one of the guard's starter threads: this only queues
        the open (an event loop never waits on the native call); a refusal by the API comes
        through the completion hook. Returns 0, or the refusal of a closing client."""
        rc: int = self._start_queued(op, address)
        if _debug(DEBUG):
            log.debug(
                "WFDStartOpenSession(token=%d, %s) queued -> %#x", op.token, address.hex(":"), rc
            )
        return rc

    def cancel_open(self, op: Any) -> int:
        """``WFDCancelOpenSession`` if the open is still pending."""
        rc: int = self._cancel(op)
        log.debug("WFDCancelOpenSession(token=%d) -> %#x", op.token, rc)
        return rc

    def open_legacy(self, op: Any, address: bytes) -> int:
        """``WFDOpenLegacySession`` (synchronous)."""
        rc: int = self._lib.wfdx_open_legacy(op, address)
        log.debug("WFDOpenLegacySession(%s) -> %#x, session %#x", address.hex(":"), rc, op.session)
        return rc

    def close_session(self, op: Any) -> int:
        """``WFDCloseSession`` of an open that succeeded, at most once."""
        rc: int = self._close_session(op)
        if _debug(DEBUG):
            log.debug("WFDCloseSession(%#x) -> %#x", op.session, rc)
        return rc

    def update_visibility(self, address: bytes) -> int:
        """``WFDUpdateDeviceVisibility``."""
        rc: int = self._visibility(address)
        if _debug(DEBUG):
            log.debug("WFDUpdateDeviceVisibility(%s) -> %d", address.hex(":"), rc)
        return rc

    def set_idle(self, seconds: float) -> None:
        """How long an idle starter thread of the guard waits for work before it ends (the
        default, 1 s, is _workers.IDLE's)."""
        self._lib.wfdx_set_idle_ms(int(seconds * 1000))

    def starters_busy(self) -> bool:
        """Whether a queued start is waiting or running."""
        return bool(self._lib.wfdx_starters_busy())

    def guid_bytes(self, op: Any) -> bytes:
        """The interface GUID of a successful open, as its 16 bytes in memory."""
        return bytes(self._ffi.buffer(op.guid))

    # -- the system around the API (include/backend.h) --------------------------------------

    def list_devices(self) -> tuple[int, list[RawDevice]]:
        """The paired devices (``wfdx_list_devices``), growing the buffer until all fit."""
        ffi, lib = self._ffi, self._lib
        capacity = 16
        count = ffi.new("uint32_t *")
        while True:
            out = ffi.new("wfdx_device[]", capacity)
            rc: int = lib.wfdx_list_devices(out, capacity, count)
            if rc != 0 or count[0] <= capacity:
                break
            capacity = count[0] + 8  # more appeared: room for them and a few more
        devices = [
            RawDevice(
                bytes(ffi.buffer(d.address)),
                bytes(ffi.buffer(d.interface_address)),
                bool(d.connected),
                bool(d.visible),
                bool(d.legacy),
                ffi.string(d.name).decode("utf-8", "replace"),
                ffi.string(d.id).decode("utf-8", "replace"),
            )
            for d in out[0 : min(count[0], capacity)]
        ]
        log.debug("listing devices -> %d, %d device(s)", rc, len(devices))
        return rc, devices

    def get_interface(self, guid: bytes) -> tuple[int, RawInterface | None]:
        """The network interface with that GUID (its 16 bytes in memory order)."""
        ffi = self._ffi
        out = ffi.new("wfdx_iface *")
        rc: int = self._lib.wfdx_get_interface(guid, out)
        if rc != 0:
            return rc, None

        def ips(array: Any, count: int) -> list[tuple[int, bytes, int]]:
            return [
                (ip.family, bytes(ffi.buffer(ip.bytes))[: 4 if ip.family == 4 else 16], ip.scope_id)
                for ip in array[0:count]
            ]

        return rc, RawInterface(
            ffi.string(out.name).decode("utf-8", "replace"),
            out.index,
            bool(out.up),
            ips(out.addresses, min(out.address_count, 16)),
            ips(out.neighbors, min(out.neighbor_count, 8)),
        )

    def wait_link_change(self, seen: int, timeout: float) -> int:
        """Block up to ``timeout`` seconds for a link change after the count ``seen``; returns
        the new count (``seen`` itself when nothing changed)."""
        cell = self._ffi.new("uint64_t *", seen)
        self._lib.wfdx_wait_link_change(cell, max(0, int(timeout * 1000)))
        return int(cell[0])

    def link_poke(self) -> None:
        """Wake every :meth:`wait_link_change` now."""
        self._lib.wfdx_link_poke()

    def format_message(self, code: int) -> str:
        """The system's message for a Win32 code, ``""`` where it has none."""
        out = self._ffi.new("char[]", 512)
        n = self._lib.wfdx_format_message(code & 0xFFFFFFFF, out, 512)
        return self._ffi.string(out, n).decode("utf-8", "replace") if n else ""

    def service_running(self) -> bool | None:
        """Whether the Wi-Fi Direct service runs (``None``: cannot be told)."""
        state: int = self._lib.wfdx_service_running()
        return None if state < 0 else bool(state)

    def module_path(self) -> str:
        """The file the WFD functions come from, ``""`` where they are compiled in."""
        out = self._ffi.new("char[]", 1024)
        n = self._lib.wfdx_module_path(out, 1024)
        return self._ffi.string(out, n).decode("utf-8", "replace") if n else ""


@dataclass(frozen=True, slots=True)
class RawDevice:
    """One paired device as the backend reports it (``wfdx_device``)."""

    address: bytes
    interface_address: bytes
    connected: bool
    visible: bool
    legacy: bool
    name: str
    id: str


@dataclass(frozen=True, slots=True)
class RawInterface:
    """A network interface as the backend reports it (``wfdx_iface``); addresses are
    ``(family, packed bytes, scope id)``."""

    name: str
    index: int
    up: bool
    addresses: list[tuple[int, bytes, int]]
    neighbors: list[tuple[int, bytes, int]]


def _install_hook(module: Any) -> None:
    """Register the module's ``wfdx_completed``: hand its arguments on, nothing else."""

    def wfdx_completed(token: int, orphaned: int) -> None:
        _hook[0](token, orphaned)

    module.ffi.def_extern(name="wfdx_completed", onerror=_hook_failed)(wfdx_completed)


def _hook_failed(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    # The hook (_opens.completed) catches everything itself; this is the last resort.
    log.error("wifidirect completion hook failed", exc_info=(exc_type, exc, tb))


_lock = threading.Lock()
_modules: dict[str, ModuleType] = {}
_backends: dict[str, Backend] = {}

#: Where each backend's module is built, for the message when it is missing.
_BUILT_ON = {"wlanapi": "Windows", "wpas": "Linux"}


def _module(name: str) -> ModuleType:
    """The backend's compiled module, imported once, its version checked and its completion
    hook registered (lock held)."""
    module = _modules.get(name)
    if module is not None:
        return module
    try:
        module = importlib.import_module(BACKENDS[name])
    except ImportError as exc:
        if name == "wlanapi" and sys.platform != "win32":
            why = "Wlanapi.dll exists only on Windows 8 and later"
        elif name in _BUILT_ON and not sys.platform.startswith(_BUILT_ON[name].lower()[:3]):
            why = f"the {name} backend is built on {_BUILT_ON[name]} only"
        elif name == "wlanapi" and "DLL load failed" in str(exc):
            why = (
                f"{exc} (Wlanapi.dll comes with the WLAN AutoConfig service: on Windows "
                "Server, install the Wireless LAN Service feature)"
            )
        else:
            why = f"cannot import {BACKENDS[name]}: {exc}"
        raise BackendUnavailableError(name, why) from exc
    built = module.ffi.string(module.lib.wifidirect_module_version()).decode()
    if built != __version__:
        raise ImportError(
            f"{BACKENDS[name]} was built for wifidirect {built}, but the package is "
            f"{__version__}: reinstall wifidirect"
        )
    _install_hook(module)
    _modules[name] = module
    return module


def wpas_why(module: ModuleType) -> str:
    """What the wpas backend found, or why it found nothing."""
    out = module.ffi.new("char[]", 1024)
    n = module.lib.wpas_why(out, 1024)
    return str(module.ffi.string(out, n).decode("utf-8", "replace"))


def _configure_wpas(module: ModuleType) -> None:
    """The wpas backend is usable once it found a P2P-capable wpa_supplicant; tried again on
    every use until it has (wpa_supplicant may start later)."""
    own = module.ffi.new("unsigned char[6]")
    if module.lib.wpas_own_address(own) == 0:
        return
    if module.lib.wpas_configure(module.ffi.NULL) != 0:
        raise BackendUnavailableError("wpas", wpas_why(module))


def _load(name: str) -> Backend:
    with _lock:
        backend = _backends.get(name)
        module = _module(name)
    if name == "wpas":  # outside the lock: it talks to wpa_supplicant
        _configure_wpas(module)
    if backend is not None:
        return backend
    with _lock:
        backend = _backends.get(name)
        if backend is None:
            backend = _backends[name] = Backend(name, module)
            register_system_text(backend.format_message)
        return backend


def wpas_module_raw() -> ModuleType:
    """The wpas backend's compiled module (for :func:`wpas_why`)."""
    with _lock:
        return _module("wpas")


def wpas_module() -> tuple[Any, Any]:
    """The wpas backend's ``(ffi, lib)`` for :mod:`wifidirect.wpas`, whether or not it has
    found wpa_supplicant yet."""
    with _lock:
        module = _module("wpas")
    return module.ffi, module.lib


#: The real backend of each platform (``sys.platform``): the one ``Client()`` uses there.
REAL_BACKENDS = {"win32": "wlanapi", "linux": "wpas"}


def default_backend_name() -> str:
    """The backend ``Client(backend=None)`` uses.

    ``$WIFIDIRECT_BACKEND`` when set; otherwise the platform's real backend (``"wlanapi"`` on
    Windows, ``"wpas"`` on Linux). Never the simulator unless chosen: where the platform has no
    real backend this raises :class:`BackendUnavailableError`, which says how to choose the
    simulator.
    """
    chosen = os.environ.get(BACKEND_ENV, "").strip()
    if chosen:
        return validate_name(chosen, source=f"${BACKEND_ENV}")
    real = REAL_BACKENDS.get(sys.platform)
    if real is None:
        raise BackendUnavailableError(
            "default",
            f"wifidirect has no real Wi-Fi Direct backend for this platform ({sys.platform}); "
            "Windows has one (wlanapi), Linux another (wpas, over wpa_supplicant)",
        )
    return real


def validate_name(name: object, source: str = "backend") -> str:
    """Check a backend name: ``TypeError`` for a non-string, ``ValueError`` for an unknown one."""
    if not isinstance(name, str):
        raise TypeError(f"{source} must be a str or None, not {type(name).__name__}: {name!r}")
    if name not in BACKENDS:
        raise ConfigurationError(
            f"unknown {source} {name!r}: expected one of {', '.join(BACKENDS)}"
        )
    return name


def loaded_backends() -> tuple[Backend, ...]:
    """The backends loaded in this process."""
    with _lock:
        return tuple(_backends.values())


def get_backend(name: str | None) -> Backend:
    """The backend for ``name`` (``None``: :func:`default_backend_name`)."""
    return _load(default_backend_name() if name is None else validate_name(name))


def is_simulator(name: str) -> bool:
    """Whether the backend ``name`` runs on a simulator: ``sim``, or ``wlanapi`` bound to the
    simulator built as a stand-in ``wlanapi.dll`` (the Wine test run)."""
    return name == "sim" or (name == "wlanapi" and _simulator_dll() is not None)


def default_backend_is_simulator() -> bool:
    """Whether ``Client()`` runs on a simulator: the ``sim`` backend, or ``wlanapi`` bound to the
    simulator built as a stand-in ``wlanapi.dll`` (the Wine test run)."""
    try:
        default = default_backend_name()
    except (ValueError, ImportError):
        return False
    return is_simulator(default)


def simulator_lib() -> tuple[Any, Any]:
    """The control API's ``(ffi, lib)`` for :mod:`wifidirect.sim`: the simulator behind the
    default backend. That is the ``wlanapi`` backend's DLL when it is the simulator built as a
    stand-in ``wlanapi.dll`` (as in the Wine test run), else the ``_wfdsim`` module."""
    try:
        default = default_backend_name()
    except (ValueError, ImportError):  # Client()'s to report, not the simulator's
        default = "sim"
    if default == "wlanapi":
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
