"""Control API of the bundled simulator (``backend="sim"``).

The simulator implements the seven Wi-Fi Direct functions in C with Windows' documented
semantics: completions arrive on its own worker threads after each peer's latency, cancelled
opens still call back, and every call that would be undefined or deadlock on real Windows is
counted as a *violation* (see :func:`stats`). This module scripts it: peers, service state,
group policy, the handle limit, fault injection and statistics. State is process-wide.

Example::

    from wifidirect import sim
    sim.reset()
    sim.add_peer("02:00:00:00:00:42", name="Test TV", latency=0.05)
    sim.set_service_running(False)       # the next opens fail with ServiceNotActiveError
    sim.set_call_delay("WFDCancelOpenSession", 1.0)   # a slow service

The simulator's documented choices where Microsoft is silent are in docs/simulator.md.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from . import _native
from .address import AddressLike, MacAddress
from .errors import check

__all__ = [
    "FUNCTIONS",
    "REASON_CANCELLED",
    "REASON_CLIENT_CLOSED",
    "REASON_NOT_PAIRED",
    "REASON_NOT_VISIBLE",
    "REASON_PEER_UNKNOWN",
    "REASON_POLICY_DISABLED",
    "REASON_SERVICE_STOPPED",
    "Peer",
    "Stats",
    "add_peer",
    "default_peers",
    "drop",
    "fail_allocations",
    "get_handle_limit",
    "inject_error",
    "peer",
    "peers",
    "remove_peer",
    "reset",
    "set_call_delay",
    "set_group_policy_disabled",
    "set_handle_limit",
    "set_service_running",
    "stats",
    "wait_idle",
]

#: Reason codes the simulator delivers with a failed completion (Microsoft publishes none).
REASON_PEER_UNKNOWN = 1  #: with ERROR_NOT_FOUND (1168): no peer has that address
REASON_NOT_PAIRED = 2  #: with ERROR_NOT_AUTHENTICATED (1244): the peer is not paired
REASON_NOT_VISIBLE = 3  #: with ERROR_TIMEOUT (1460): the peer is out of range
REASON_CANCELLED = 4  #: with ERROR_CANCELLED (1223): WFDCancelOpenSession
REASON_SERVICE_STOPPED = 5  #: with ERROR_SERVICE_NOT_ACTIVE (1062): stopped while pending
REASON_POLICY_DISABLED = 6  #: with ERROR_INVALID_STATE (5023): policy set while pending
REASON_CLIENT_CLOSED = 7  #: with ERROR_CANCELLED (1223): sim.reset() while pending

#: Function names accepted by :func:`inject_error`, in the simulator's numbering.
FUNCTIONS = (
    "WFDOpenHandle",
    "WFDCloseHandle",
    "WFDStartOpenSession",
    "WFDCancelOpenSession",
    "WFDOpenLegacySession",
    "WFDCloseSession",
    "WFDUpdateDeviceVisibility",
)


@dataclass(frozen=True)
class Peer:
    """A simulated device, as configured with :func:`add_peer`.

    ``node_visible`` and ``visibility_updates`` are state: the device node's visibility property
    as ``WFDUpdateDeviceVisibility`` last set it, and how many times it succeeded.
    """

    address: MacAddress
    name: str
    paired: bool
    legacy: bool
    visible: bool
    latency: float
    error: int
    reason: int
    #: opens left that fail with ``error`` before the peer succeeds (0: every open fails)
    fail_times: int
    node_visible: bool
    visibility_updates: int


@dataclass(frozen=True)
class Stats:
    """A snapshot of the simulator's counters (:func:`stats`)."""

    clients: int  #: live client handles
    sessions: int  #: live sessions (open, or closing until the worker has disconnected them)
    pending_opens: int  #: opens whose completion callback has not returned yet
    callbacks_delivered: int  #: completion callbacks that have returned
    violations: int  #: contract violations counted (calls undefined or deadlocking on Windows)
    violations_by_kind: dict[str, int] = field(default_factory=dict)


def _api() -> tuple[Any, Any]:
    return _native.simulator_lib()


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, int)):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}: {value!r}")
    return bool(value)


def _code(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{name} must be a Win32 code (an int from 0 to 2**32-1), not {value!r}")
    return value


def reset(*, keep_handles: bool = False) -> None:
    """Back to the defaults: default peers, service running, policy enabled, handle limit 64,
    no injected faults or call delays, counters zero. Pending opens are cancelled (their
    callbacks still come) and every live handle becomes invalid. Close your clients first.

    ``keep_handles=True`` restores the settings and zeroes the counters but leaves live
    clients, sessions and pending opens alone, for a client that lives across tests."""
    lib = _api()[1]
    if _flag(keep_handles, "keep_handles"):
        lib.wfdsim_reset_settings()
    else:
        lib.wfdsim_reset()


def drop(address: AddressLike, reason: int = 0) -> None:
    """The peer leaves (walks out of range, turns off): the links of its open sessions go down
    (``Session.connected`` becomes ``False``, ``wait_disconnected()`` returns, the device reads
    not connected). The sessions' handles stay valid: close them as usual. ``KeyError`` if no
    peer has that address; ``reason`` is recorded as the disconnect's reason code."""
    mac = MacAddress(address)
    rc = _api()[1].wfdsim_drop(mac.packed, _code(reason, "reason"))
    if rc == 1168:  # ERROR_NOT_FOUND
        raise KeyError(f"no simulated peer {mac}")
    check(rc, "wfdsim_drop")


def add_peer(
    address: AddressLike,
    *,
    name: str = "",
    paired: bool = True,
    legacy: bool = False,
    visible: bool = True,
    latency: float = 0.0,
    error: int = 0,
    reason: int = 0,
    fail_times: int = 0,
) -> Peer:
    """Add a peer, or reconfigure the one with this address. Returns the peer.

    Args:
        address: the device address.
        name: display name (at most 63 UTF-8 bytes are kept).
        paired: paired through Windows' pairing experience; opens to an unpaired peer complete
            with ERROR_NOT_AUTHENTICATED (1244).
        legacy: a legacy WPS device that ``open_legacy_session`` can open.
        visible: in range; opens to an invisible peer complete with ERROR_TIMEOUT (1460).
        latency: seconds from the start of an open to its completion (also the duration of a
            legacy open).
        error: the Win32 code an open completes with (0 = success) ...
        reason: ... and its reason code ...
        fail_times: ... for this many opens (legacy ones included), after which opens
            succeed; 0: every open fails with ``error``.
    """
    mac = MacAddress(address)
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}: {name!r}")
    if isinstance(latency, bool) or not isinstance(latency, numbers.Real):
        raise TypeError(f"latency must be a number of seconds, not {latency!r}")
    if not math.isfinite(latency) or latency < 0:
        raise ValueError(f"latency must be a finite number of seconds >= 0, not {latency!r}")
    ffi, lib = _api()
    peer = ffi.new("wfdsim_peer *")
    peer.address = list(mac.packed)
    raw = name.encode("utf-8")[:63]
    peer.name = raw.decode("utf-8", "ignore").encode("utf-8")
    peer.paired = _flag(paired, "paired")
    peer.legacy = _flag(legacy, "legacy")
    peer.visible = _flag(visible, "visible")
    peer.latency = float(latency)
    peer.error = _code(error, "error")
    peer.reason = _code(reason, "reason")
    peer.fail_times = _code(fail_times, "fail_times")
    check(lib.wfdsim_add_peer(peer), "wfdsim_add_peer")
    return _peer(mac)


def remove_peer(address: AddressLike) -> None:
    """Remove a peer; ``KeyError`` if no peer has that address."""
    mac = MacAddress(address)
    if _api()[1].wfdsim_remove_peer(mac.packed):
        raise KeyError(f"no simulated peer {mac}")


def _convert(ffi: Any, raw: Any) -> Peer:
    return Peer(
        address=MacAddress(bytes(raw.address)),
        name=ffi.string(raw.name).decode("utf-8", "replace"),
        paired=bool(raw.paired),
        legacy=bool(raw.legacy),
        visible=bool(raw.visible),
        latency=float(raw.latency),
        error=int(raw.error),
        reason=int(raw.reason),
        fail_times=int(raw.fail_times),
        node_visible=bool(raw.node_visible),
        visibility_updates=int(raw.visibility_updates),
    )


def _peer(mac: MacAddress) -> Peer:
    ffi, lib = _api()
    raw = ffi.new("wfdsim_peer *")
    if lib.wfdsim_get_peer(mac.packed, raw):
        raise KeyError(f"no simulated peer {mac}")
    return _convert(ffi, raw)


def peer(address: AddressLike) -> Peer:
    """The peer with this address; ``KeyError`` if there is none."""
    return _peer(MacAddress(address))


def default_peers() -> tuple[Peer, ...]:
    """The peers every :func:`reset` restores, in order (defined once, in the simulator's C)."""
    ffi, lib = _api()
    raw = ffi.new("wfdsim_peer *")
    found = []
    for index in range(lib.wfdsim_default_peer_count()):
        check(lib.wfdsim_get_default_peer(index, raw), "wfdsim_get_default_peer")
        found.append(_convert(ffi, raw))
    return tuple(found)


def peers() -> tuple[Peer, ...]:
    """All peers, in the order they were added."""
    ffi, lib = _api()
    raw = ffi.new("wfdsim_peer *")
    found = []
    for index in range(lib.wfdsim_peer_count()):
        if lib.wfdsim_get_peer_at(index, raw) == 0:
            found.append(_convert(ffi, raw))
    return tuple(found)


def set_group_policy_disabled(disabled: bool) -> None:
    """Disable Wi-Fi Direct by (simulated) domain group policy: opens fail with
    ERROR_INVALID_STATE, synchronously or, for pending ones, in the completion."""
    _api()[1].wfdsim_set_group_policy_disabled(_flag(disabled, "disabled"))


def set_service_running(running: bool) -> None:
    """Start or stop the (simulated) WLAN AutoConfig service: while stopped, opens and
    visibility updates fail with ERROR_SERVICE_NOT_ACTIVE."""
    _api()[1].wfdsim_set_service_running(_flag(running, "running"))


def set_handle_limit(limit: int) -> None:
    """How many client handles may be open at once (default 64); beyond it ``Client()`` raises
    :class:`~wifidirect.SessionLimitError`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 0xFFFFFFFF:
        raise ValueError(f"handle limit must be an int from 0 to 2**32-1, not {limit!r}")
    _api()[1].wfdsim_set_handle_limit(limit)


def get_handle_limit() -> int:
    """The current client handle limit."""
    return int(_api()[1].wfdsim_get_handle_limit())


def stats() -> Stats:
    """A snapshot of the simulator's counters."""
    ffi, lib = _api()
    raw = ffi.new("wfdsim_stats *")
    lib.wfdsim_get_stats(raw)
    kinds = {}
    for kind in range(lib.WFDSIM_VIOLATION_KINDS):
        kinds[ffi.string(lib.wfdsim_violation_name(kind)).decode()] = int(
            raw.violations_by_kind[kind]
        )
    return Stats(
        clients=int(raw.clients),
        sessions=int(raw.sessions),
        pending_opens=int(raw.pending_opens),
        callbacks_delivered=int(raw.callbacks_delivered),
        violations=int(raw.violations),
        violations_by_kind=kinds,
    )


def wait_idle(timeout: float = 5.0) -> bool:
    """Wait until the simulator has no queued work and no callback running (closed sessions
    disconnected, completions delivered). Returns ``False`` if ``timeout`` seconds pass first."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds, not {timeout!r}")
    if math.isnan(timeout) or timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds, not {timeout!r}")
    millis = min(int(timeout * 1000), 0xFFFFFFFF)
    return bool(_api()[1].wfdsim_wait_idle(millis))


def inject_error(function: str, code: int) -> None:
    """Make the next call of ``function`` (a name from :data:`FUNCTIONS`) fail with ``code``
    and no effect. ``code=0`` disarms it."""
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}: expected one of {', '.join(FUNCTIONS)}")
    check(
        _api()[1].wfdsim_inject_error(FUNCTIONS.index(function), _code(code, "code")),
        "wfdsim_inject_error",
    )


def set_call_delay(function: str, seconds: float) -> None:
    """Make every call of ``function`` (a name from :data:`FUNCTIONS`) wait ``seconds`` before
    it does anything, as an RPC to a busy service would (``0`` clears; :func:`reset` clears
    all). The wait holds no lock of the simulator's: other calls go on meanwhile."""
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}: expected one of {', '.join(FUNCTIONS)}")
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise TypeError(f"seconds must be a number, not {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
    check(
        _api()[1].wfdsim_set_call_delay(FUNCTIONS.index(function), float(seconds)),
        "wfdsim_set_call_delay",
    )


def fail_allocations(count: int) -> None:
    """Make the simulator's next ``count`` internal allocations fail, so the calls that need
    them return ERROR_NOT_ENOUGH_MEMORY with no effect."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 0xFFFFFFFF:
        raise ValueError(f"count must be an int from 0 to 2**32-1, not {count!r}")
    _api()[1].wfdsim_fail_allocations(count)
