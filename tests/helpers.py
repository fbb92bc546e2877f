"""Helpers shared by the tests: names for the simulator's default peers (read back from the
simulator, which defines them once), and addresses the tests configure themselves."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from wifidirect import sim
from wifidirect.testing import SimController

_DEFAULTS = {p.name: str(p.address) for p in sim.default_peers()}
TV = _DEFAULTS["Living Room TV"]  # paired, 20 ms, success
PRINTER = _DEFAULTS["Office Printer"]  # paired, legacy, 10 ms, success
PHONE = _DEFAULTS["Pixel Phone"]  # paired, 50 ms, success
PROJECTOR = _DEFAULTS["Meeting Room Projector"]  # paired, 30 ms, fails with ERROR_TIMEOUT reason 9
SPEAKER = _DEFAULTS["Neighbour's Speaker"]  # not paired

#: Addresses the tests configure themselves.
FAST = "02:00:00:00:00:01"
SLOW = "02:00:00:00:00:02"
UNKNOWN = "02:00:00:00:00:ff"


def settle() -> sim.Stats:
    """Wait until completions, disconnects and wifidirect's background work are done; return
    the simulator's counters (the plugin's ``wfd_sim.settle()``)."""
    return SimController().settle()


def add_fast_and_slow() -> None:
    """A zero-latency peer (callback may beat WFDStartOpenSession's return) and a 60 s one."""
    sim.add_peer(FAST, name="fast", latency=0.0)
    sim.add_peer(SLOW, name="slow", latency=60.0)


def start_in_thread(target: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Start ``target`` in a thread of its own; the list gets its result or its exception."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def in_thread(target: Callable[[], object], timeout: float = 30.0) -> list[object]:
    """Run ``target`` in a thread and join it; a hang fails the test instead of hanging it.
    Returns ``[result]`` or ``[exception]``."""
    thread, outcome = start_in_thread(target)
    thread.join(timeout)
    assert not thread.is_alive(), f"{target} did not return within {timeout} s"
    return outcome


async def cancel_after(task: asyncio.Future[Any], delay: float) -> float:
    """Let ``task`` run ``delay`` seconds, cancel it and await its end, which must be
    ``CancelledError``: the seconds from the cancel to that end."""
    await asyncio.sleep(delay)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return time.monotonic() - started


def under_wine() -> bool:
    """Whether this Windows Python runs under Wine (tools/wine-test)."""
    if sys.platform != "win32":
        return False
    import ctypes

    try:
        return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
    except OSError:
        return False


def simulated_system(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test of the simulator's devices, interfaces and drops on the ``sim`` backend.

    Where the default backend is ``wlanapi`` (the Wine run: the simulator DLL stands in for the
    seven functions only, and the backend's devices and interfaces come from SetupAPI and IP
    Helper, which tests/test_windows_system.py checks), the test switches to the ``sim``
    backend, the Windows build of the bundled simulator, and resets it."""
    from wifidirect import _native, _process

    if _native.default_backend_name() == "wlanapi":
        monkeypatch.setenv("WIFIDIRECT_BACKEND", "sim")
        sim.reset(keep_handles=bool(_process.live_clients()))
