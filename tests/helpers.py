"""Helpers shared by the tests."""

from __future__ import annotations

import sys

from wifidirect import _cleanup, sim

#: The simulator's default peers (see src/wfdsim).
TV = "02:00:5e:10:00:01"  # paired, 20 ms, success
PRINTER = "02:00:5e:10:00:02"  # paired, legacy, 10 ms, success
PHONE = "02:00:5e:10:00:03"  # paired, 50 ms, success
PROJECTOR = "02:00:5e:10:00:04"  # paired, 30 ms, fails with ERROR_TIMEOUT reason 9
SPEAKER = "02:00:5e:10:00:05"  # not paired

#: Addresses the tests configure themselves.
FAST = "02:00:00:00:00:01"
SLOW = "02:00:00:00:00:02"
UNKNOWN = "02:00:00:00:00:ff"


#: Whether this build queues asyncio completions in C channels (64-bit POSIX; see
#: src/shim/shim.c). Elsewhere every completion takes the direct extern "Python" path.
CHANNELS = sys.platform != "win32" and sys.maxsize > 2**32


def settle() -> sim.Stats:
    """Wait until deferred cleanup and the simulator are idle; return the statistics.

    Callbacks may hand work to the cleanup thread, whose closes queue simulator work: hence
    simulator idle, cleanup drained, simulator idle again.
    """
    assert sim.wait_idle(5.0)
    assert _cleanup.drain()
    assert sim.wait_idle(5.0)
    return sim.stats()


def add_fast_and_slow() -> None:
    """A zero-latency peer (callback may beat WFDStartOpenSession's return) and a 60 s one."""
    sim.add_peer(FAST, name="fast", latency=0.0)
    sim.add_peer(SLOW, name="slow", latency=60.0)


def under_wine() -> bool:
    """Whether this Windows Python runs under Wine (tools/wine-test)."""
    if sys.platform != "win32":
        return False
    import ctypes

    try:
        return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
    except OSError:
        return False
