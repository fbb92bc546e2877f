"""The wpa_supplicant backend's own calls (``backend="wpas"``, Linux).

On Windows, devices are paired in Settings; Linux has no such place, so this module does it:
discover the P2P devices around, pair one (a persistent P2P group stored by wpa_supplicant, what
Windows' pairing stores too), unpair it. Sessions, devices and disconnects then work through
:class:`wifidirect.Client` as on Windows. docs/wpas.md has the mapping onto wpa_supplicant.

Example::

    from wifidirect import wpas
    found = wpas.discover(timeout=10)            # the P2P devices around
    wpas.pair(found[0].address)                  # push button: accept on the device too
    with wifidirect.Client("wpas") as client:
        print(client.devices())

Which wpa_supplicant: the control directory ``$WIFIDIRECT_WPAS_CTRL``, else
``/var/run/wpa_supplicant`` or ``/run/wpa_supplicant``, or the one :func:`configure` names.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _loops, _native, _workers
from .address import AddressLike, MacAddress
from .errors import BackendUnavailableError, check

__all__ = [
    "Peer",
    "adiscover",
    "apair",
    "configure",
    "discover",
    "own_address",
    "pair",
    "saves_pairings",
    "set_timeouts",
    "status",
    "unpair",
]


@dataclass(frozen=True)
class Peer:
    """A P2P device that discovery saw."""

    address: MacAddress  #: its P2P device address
    name: str  #: its device name
    paired: bool  #: a persistent group with it is stored (it is one of ``Client.devices()``)


def _lib() -> tuple[Any, Any]:
    return _native.wpas_module()


def configure(ctrl_dir: str | None = None) -> str:
    """Use the wpa_supplicant whose control sockets are in ``ctrl_dir`` (``None``: the
    defaults above). Returns what was found; raises :class:`BackendUnavailableError` saying
    what is missing (no socket, no permission, no P2P)."""
    if ctrl_dir is not None and not isinstance(ctrl_dir, str):
        raise TypeError(f"ctrl_dir must be a str or None, not {ctrl_dir!r}")
    ffi, lib = _lib()
    arg = ffi.NULL if not ctrl_dir else ctrl_dir.encode()
    if lib.wpas_configure(arg) != 0:
        raise BackendUnavailableError("wpas", status())
    return status()


def status() -> str:
    """What the backend found (the control socket, our P2P device address), or why nothing."""
    return _native.wpas_why(_native.wpas_module_raw())


def _configured() -> tuple[Any, Any]:
    ffi, lib = _lib()
    own = ffi.new("unsigned char[6]")
    if lib.wpas_own_address(own) != 0 and lib.wpas_configure(ffi.NULL) != 0:
        raise BackendUnavailableError("wpas", status())
    return ffi, lib


def own_address() -> MacAddress:
    """Our P2P device address (what peers see and pair with)."""
    ffi, lib = _configured()
    own = ffi.new("unsigned char[6]")
    check(lib.wpas_own_address(own), "wpas_own_address")
    return MacAddress(bytes(own))


def saves_pairings() -> bool:
    """Whether pairings survive a restart of wpa_supplicant (its ``update_config=1``)."""
    _, lib = _configured()
    return bool(lib.wpas_saves_config() == 1)


def _ms(value: object, name: str, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    seconds = float(value)
    if zero and seconds == 0:
        return 0
    if not math.isfinite(seconds) or seconds <= 0:
        least = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {least}, not {value!r}")
    return max(1, min(int(seconds * 1000), 0xFFFFFFFF))


def set_timeouts(
    *,
    formation: float | None = None,
    reply: float | None = None,
    visibility: float | None = None,
    settle: float | None = None,
) -> None:
    """Seconds a session's formation may take before its open fails with ERROR_TIMEOUT
    (default 30), that wpa_supplicant may take to answer a request (3), that a visibility
    update searches for its device (5), and that a group we own stays up at least after the
    peer joined (1; 0 for none): the peer's wpa_supplicant finishes its side a moment after
    ours, and a group removed before then fails there and keeps it busy for 10 s. ``None``
    keeps a value."""
    values = [
        0 if v is None else _ms(v, n)
        for v, n in ((formation, "formation"), (reply, "reply"), (visibility, "visibility"))
    ]
    settle_ms = None if settle is None else _ms(settle, "settle", zero=True)
    lib = _lib()[1]
    lib.wpas_set_timeouts(*values)
    if settle_ms is not None:
        lib.wpas_set_settle(settle_ms)


def _peers(ffi: Any, lib: Any) -> tuple[Peer, ...]:
    capacity = 64
    count = ffi.new("uint32_t *")
    while True:
        out = ffi.new("wpas_peer[]", capacity)
        check(lib.wpas_find_peers(out, capacity, count), "P2P_PEER")
        if count[0] <= capacity:
            break
        capacity = count[0] + 16
    return tuple(
        Peer(
            MacAddress(bytes(ffi.buffer(p.address))),
            ffi.string(p.name).decode("utf-8", "replace"),
            bool(p.paired),
        )
        for p in out[0 : count[0]]
    )


def discover(
    timeout: float = 10.0, progress: Callable[[tuple[Peer, ...]], None] | None = None
) -> tuple[Peer, ...]:
    """Search for P2P devices for ``timeout`` seconds (``P2P_FIND``) and return those seen.
    ``progress``, if given, is called with the devices seen so far about four times a second.
    Blocking; from an event loop, ``await`` :func:`adiscover`."""
    seconds = _ms(timeout, "timeout") / 1000
    ffi, lib = _configured()
    check(lib.wpas_find_start(math.ceil(seconds)), "P2P_FIND")
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(0.25, left))
            if progress is not None:
                progress(_peers(ffi, lib))
        return _peers(ffi, lib)
    finally:
        lib.wpas_find_stop()


async def adiscover(
    timeout: float = 10.0, progress: Callable[[tuple[Peer, ...]], None] | None = None
) -> tuple[Peer, ...]:
    """:func:`discover` on a worker thread; ``progress`` is called on the event loop."""
    loop = _loops.running_loop()

    def report(peers: tuple[Peer, ...]) -> None:
        if progress is not None:
            loop.call_soon_threadsafe(progress, peers)

    found: tuple[Peer, ...] = await _workers.call(loop, discover, timeout, report)
    return found


def pair(address: AddressLike, pin: str | None = None, timeout: float = 60.0) -> None:
    """Pair with a device: ``P2P_CONNECT`` with push button (``pin=None``: press the button or
    accept on the device) or the PIN the device shows, stored as a persistent group; the group
    formed for it is removed again. Afterwards the device is one of ``Client.devices()`` and
    sessions open to it. Saved across restarts when :func:`saves_pairings`.

    Raises the :class:`~wifidirect.WFDError` of the failure: ``ERROR_NOT_FOUND`` (the device
    was not found), ``ERROR_TIMEOUT`` (nobody accepted in ``timeout`` seconds),
    ``ERROR_NOT_AUTHENTICATED`` (it refused).
    """
    mac = MacAddress(address)
    if pin is not None and (not isinstance(pin, str) or not pin.isdigit() or len(pin) > 8):
        raise ValueError(f"pin must be the digits the device shows (up to 8), not {pin!r}")
    ms = _ms(timeout, "timeout")
    ffi, lib = _configured()
    check(lib.wpas_pair(mac.packed, ffi.NULL if pin is None else pin.encode(), ms), "P2P_CONNECT")


async def apair(address: AddressLike, pin: str | None = None, timeout: float = 60.0) -> None:
    """:func:`pair` on a worker thread: the event loop goes on."""
    await _workers.call(_loops.running_loop(), pair, address, pin, timeout)


def unpair(address: AddressLike) -> None:
    """Forget the pairing with a device (its persistent groups). ``KeyError`` if it is not
    paired."""
    mac = MacAddress(address)
    _, lib = _configured()
    rc = lib.wpas_unpair(mac.packed)
    if rc == 1168:  # ERROR_NOT_FOUND
        raise KeyError(f"{mac} is not paired")
    check(rc, "REMOVE_NETWORK")
