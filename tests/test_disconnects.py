"""Disconnects: Session.connected, wait_disconnected (async and blocking) and sim.drop; a
dropped session still owns its handle; nothing runs while nobody waits."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from helpers import PHONE, TV, in_thread, settle, simulated_system

import wifidirect
from wifidirect import _links, sim
from wifidirect.testing import SimController


@pytest.fixture(autouse=True)
def _simulated(wfd_sim: SimController, monkeypatch: pytest.MonkeyPatch) -> None:
    simulated_system(monkeypatch)


def watcher_running() -> bool:
    return any(t.name == "wifidirect-links" for t in threading.enumerate())


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_a_drop_disconnects_and_the_session_still_closes_once(wfd_sim: SimController) -> None:
    with wifidirect.Client() as client:
        session = client.open_session_sync(TV)
        other = client.open_session_sync(PHONE)
        assert session.connected and other.connected
        wfd_sim.peer(TV).drop(reason=3)
        assert not session.connected
        assert other.connected  # another peer's session is not affected
        assert not session.closed  # down, but its handle is still ours to close
        assert sim.stats().sessions == 2
        session.close()
        settle()
        assert sim.stats().sessions == 1
        session.close()  # still at most one WFDCloseSession
        other.close()
    assert settle().violations == 0


def test_disconnected_is_final() -> None:
    with wifidirect.Client() as client, client.open_session_sync(TV) as session:
        sim.drop(TV)
        assert not session.connected
        sim.reset(keep_handles=True)  # whatever happens to the peer now
        assert not session.connected


def test_a_closed_session_is_not_connected() -> None:
    with wifidirect.Client() as client:
        session = client.open_session_sync(TV)
        session.close()
        assert not session.connected


def test_wait_disconnected_returns_when_the_peer_leaves() -> None:
    async def main() -> float:
        async with (
            wifidirect.Client() as client,
            await client.open_session(TV, timeout=5) as session,
        ):
            waiter = asyncio.ensure_future(session.wait_disconnected())
            await asyncio.sleep(0.05)
            assert not waiter.done()  # connected: it waits
            started = time.monotonic()
            sim.drop(TV)
            await asyncio.wait_for(waiter, 5)
            assert not session.connected
            return time.monotonic() - started

    # Woken by the drop's change notification, not by the once-a-second poll.
    assert asyncio.run(main()) < _links.POLL


def test_wait_disconnected_returns_at_once_when_already_down() -> None:
    async def main() -> None:
        async with wifidirect.Client() as client:
            session = await client.open_session(TV, timeout=5)
            sim.drop(TV)
            await asyncio.wait_for(session.wait_disconnected(), 5)
            await session.aclose()
            await asyncio.wait_for(session.wait_disconnected(), 5)  # closed: down

    asyncio.run(main())


def test_closing_the_session_or_client_ends_the_wait() -> None:
    async def main() -> None:
        async with wifidirect.Client() as client:
            session = await client.open_session(TV, timeout=5)
            waiter = asyncio.ensure_future(session.wait_disconnected())
            await asyncio.sleep(0.02)
            await session.aclose()
            await asyncio.wait_for(waiter, _links.POLL / 2)
            session = await client.open_session(TV, timeout=5)
            waiter = asyncio.ensure_future(session.wait_disconnected())
            await asyncio.sleep(0.02)
        await asyncio.wait_for(waiter, _links.POLL / 2)  # the client's close closed it

    asyncio.run(main())


def test_wait_disconnected_is_cancellable_and_takes_timeouts() -> None:
    async def main() -> None:
        async with (
            wifidirect.Client() as client,
            await client.open_session(TV, timeout=5) as session,
        ):
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(session.wait_disconnected(), 0.05)
            task = asyncio.ensure_future(session.wait_disconnected())
            await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert session.connected  # nothing changed
            assert not _links._watched  # the waits left no watch behind

    asyncio.run(main())
    wait_for(lambda: not watcher_running())


def test_wait_disconnected_sync() -> None:
    with wifidirect.Client() as client, client.open_session_sync(TV) as session:
        assert session.wait_disconnected_sync(timeout=0.02) is False
        timer = threading.Timer(0.05, sim.drop, (TV,))
        timer.start()
        try:
            assert in_thread(lambda: session.wait_disconnected_sync(timeout=5)) == [True]
        finally:
            timer.cancel()
        assert session.wait_disconnected_sync(timeout=0) is True
        with pytest.raises(ValueError, match="timeout"):
            session.wait_disconnected_sync(timeout=-1)


def test_many_waiters_on_many_sessions() -> None:
    peers = [f"02:00:00:00:02:{i:02x}" for i in range(20)]
    for address in peers:
        sim.add_peer(address)

    async def main() -> None:
        async with wifidirect.Client() as client:
            sessions = await asyncio.gather(*(client.open_session(p, timeout=5) for p in peers))
            waits = [asyncio.ensure_future(s.wait_disconnected()) for s in sessions for _ in "ab"]
            await asyncio.sleep(0.02)
            for address in peers[:10]:
                sim.drop(address)
            done, pending = await asyncio.wait(waits, timeout=2)
            assert len(done) == 20 and len(pending) == 20
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            assert [s.connected for s in sessions] == [False] * 10 + [True] * 10

    asyncio.run(main())


def test_nothing_runs_while_nobody_waits() -> None:
    wait_for(lambda: not watcher_running())
    with wifidirect.Client() as client, client.open_session_sync(TV) as session:
        assert session.connected  # a check is a call, not a thread
        assert not watcher_running()
        assert session.wait_disconnected_sync(timeout=0.01) is False
    wait_for(lambda: not watcher_running(), timeout=_links.POLL + 2)


def test_the_device_reads_not_connected_after_a_drop() -> None:
    with wifidirect.Client() as client, client.open_session_sync(TV):
        assert {d.address: d.connected for d in client.devices()}[wifidirect.MacAddress(TV)]
        sim.drop(TV)
        assert not {d.address: d.connected for d in client.devices()}[wifidirect.MacAddress(TV)]
