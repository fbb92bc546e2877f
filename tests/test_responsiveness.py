"""No event loop waits on a native call: slow calls (sim.set_call_delay) in other threads, on the
same client or another one, and every async form's own slow call leave the loop running.

The loop's lag is measured by a 1 ms ticker; the bound here (0.25 s) is far below the calls'
delay (0.5-1 s) so that a loop that waited on one fails clearly; benchmarks/ measures the real
figures (a few milliseconds).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from helpers import PRINTER, SLOW, TV, cancel_after, settle

import wifidirect
from wifidirect import sim

LAG_BOUND = 0.25


class Ticker:
    """A 1 ms ticker on the running loop; ``worst`` is the largest lateness seen."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, loop.time() - before - 0.001)

    async def stop(self) -> float:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        return self.worst


async def until_done(thread: threading.Thread) -> None:
    while thread.is_alive():
        await asyncio.sleep(0.005)


def test_a_slow_legacy_open_in_another_thread_on_the_same_client() -> None:
    sim.set_call_delay("WFDOpenLegacySession", 1.0)
    client = wifidirect.Client()
    legacy = threading.Thread(target=lambda: client.open_legacy_session_sync(PRINTER).close())

    async def main() -> float:
        ticker = Ticker()
        legacy.start()
        await asyncio.sleep(0.05)  # the legacy open is in its slow call now
        for _ in range(3):  # the same client keeps working meanwhile
            (await client.open_session(TV)).close()
        assert legacy.is_alive(), "the opens had to wait for the legacy open"
        await until_done(legacy)
        return await ticker.stop()

    assert asyncio.run(main()) < LAG_BOUND
    client.close()
    assert settle().sessions == 0


def test_a_slow_cancel_on_another_client() -> None:
    sim.add_peer(SLOW, latency=60.0)
    sim.set_call_delay("WFDCancelOpenSession", 1.0)
    other, mine = wifidirect.Client(), wifidirect.Client()
    outcome: list[BaseException] = []

    def time_out() -> None:
        try:
            other.open_session_sync(SLOW, timeout=0.01)  # its cleanup cancels, slowly
        except BaseException as exc:
            outcome.append(exc)

    cancelling = threading.Thread(target=time_out)

    async def main() -> float:
        ticker = Ticker()
        cancelling.start()
        await asyncio.sleep(0.1)  # the other client's cancel is in its slow call now
        for _ in range(3):
            (await mine.open_session(TV)).close()
        assert cancelling.is_alive(), "the opens had to wait for the other client's cancel"
        await until_done(cancelling)
        return await ticker.stop()

    assert asyncio.run(main()) < LAG_BOUND
    assert len(outcome) == 1 and isinstance(outcome[0], TimeoutError)
    other.close()
    mine.close()
    assert settle().sessions == 0


async def _open(client: wifidirect.Client) -> Any:
    return await client.open_session(TV)


async def _legacy(client: wifidirect.Client) -> Any:
    return await client.open_legacy_session(PRINTER)


async def _visibility(client: wifidirect.Client) -> Any:
    return await client.update_device_visibility(TV)


async def _close_session(client: wifidirect.Client) -> Any:
    session = client.open_session_sync(TV)
    sim.set_call_delay("WFDCloseSession", 0.5)  # after the open: only the close is slow
    started = time.monotonic()
    await session.aclose()
    assert session.closed
    return started


async def _timeout(client: wifidirect.Client) -> Any:
    with pytest.raises(TimeoutError):
        await client.open_session(SLOW, timeout=0.01)


async def _close_client(client: wifidirect.Client) -> Any:
    await client.aclose()
    assert client.closed


ASYNC_FORMS: dict[str, Callable[[wifidirect.Client], Awaitable[Any]]] = {
    "WFDStartOpenSession": _open,
    "WFDOpenLegacySession": _legacy,
    "WFDUpdateDeviceVisibility": _visibility,
    "WFDCloseSession": _close_session,
    "WFDCancelOpenSession": _timeout,
    "WFDCloseHandle": _close_client,
}


@pytest.mark.parametrize("function", sorted(ASYNC_FORMS))
def test_every_async_form_leaves_the_loop_running_during_its_slow_call(function: str) -> None:
    sim.add_peer(SLOW, latency=60.0)
    if function != "WFDCloseSession":  # that one sets its delay after its session opened
        sim.set_call_delay(function, 0.5)
    client = wifidirect.Client()

    async def main() -> tuple[float, float]:
        ticker = Ticker()
        started = time.monotonic()
        result = await ASYNC_FORMS[function](client)
        if isinstance(result, float):
            started = result
        elif isinstance(result, wifidirect.Session):
            await result.aclose()
        took = time.monotonic() - started
        return took, await ticker.stop()

    took, worst = asyncio.run(main())
    assert took >= 0.45, f"the call took {took:.3f} s: the delay was not in its path"
    assert worst < LAG_BOUND, f"the loop stalled {worst:.3f} s during {function}"
    client.close()
    assert settle().sessions == 0


def test_a_cancelled_slow_legacy_open_returns_at_once_and_closes_what_opened() -> None:
    sim.set_call_delay("WFDOpenLegacySession", 0.5)
    client = wifidirect.Client()

    async def main() -> float:
        return await cancel_after(asyncio.ensure_future(client.open_legacy_session(PRINTER)), 0.05)

    assert asyncio.run(main()) < 0.25
    stats = settle()  # the legacy call returned meanwhile; its session was closed
    assert stats.sessions == 0 and client.sessions == ()
    client.close()


def test_call_delay_makes_a_call_slow_and_reset_clears_it() -> None:
    def timed(call: Callable[[], object]) -> float:
        started = time.monotonic()
        call()
        return time.monotonic() - started

    sim.set_call_delay("WFDOpenHandle", 0.2)
    assert timed(lambda: wifidirect.Client().close()) >= 0.2
    sim.reset()  # no client is open: the reset invalidates nothing in use
    assert timed(lambda: wifidirect.Client().close()) < 0.15
    with wifidirect.Client() as client:
        sim.set_call_delay("WFDUpdateDeviceVisibility", 0.2)
        assert timed(lambda: client.update_device_visibility_sync(TV)) >= 0.2
        sim.set_call_delay("WFDUpdateDeviceVisibility", 0)  # 0 clears
        assert timed(lambda: client.update_device_visibility_sync(TV)) < 0.15


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("WFDNope", 1.0), ValueError),
        (("WFDCloseSession", -1.0), ValueError),
        (("WFDCloseSession", float("nan")), ValueError),
        (("WFDCloseSession", float("inf")), ValueError),
        (("WFDCloseSession", "1"), TypeError),
        (("WFDCloseSession", True), TypeError),
    ],
)
def test_call_delay_rejects_bad_values(args: tuple[Any, Any], error: type) -> None:
    with pytest.raises(error):
        sim.set_call_delay(*args)
