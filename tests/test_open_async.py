"""asyncio opens: success, failures, timeout and cancellation leave nothing behind."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from helpers import FAST, PRINTER, PROJECTOR, SLOW, SPEAKER, TV, UNKNOWN, add_fast_and_slow, settle

import wifidirect
from wifidirect import _opens, sim


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_open_and_close_a_session() -> None:
    async def main() -> None:
        async with wifidirect.Client() as client:
            session = await client.open_session(TV)
            assert isinstance(session, wifidirect.Session)
            assert session.address == wifidirect.MacAddress(TV)
            assert isinstance(session.interface_guid, uuid.UUID)
            assert session.interface_guid.version == 4
            assert not session.legacy and not session.closed
            assert client.sessions == (session,)
            assert sim.stats().sessions == 1
            session.close()
            assert session.closed and client.sessions == ()
            session.close()  # idempotent

    run(main())
    stats = settle()
    assert stats.sessions == 0 and stats.clients == 0 and stats.pending_opens == 0
    assert stats.callbacks_delivered == 1


def test_session_as_async_context_manager() -> None:
    async def main() -> None:
        async with wifidirect.Client() as client:
            async with await client.open_session(TV) as session:
                assert not session.closed
            assert session.closed

    run(main())


def test_each_open_gets_a_fresh_interface_guid() -> None:
    async def main() -> set[uuid.UUID]:
        async with wifidirect.Client() as client:
            sessions = [await client.open_session(TV) for _ in range(5)]
            return {s.interface_guid for s in sessions}

    assert len(run(main())) == 5


@pytest.mark.parametrize(
    ("address", "code", "reason"),
    [
        (PROJECTOR, 1460, 9),
        (SPEAKER, 1244, sim.REASON_NOT_PAIRED),
        (UNKNOWN, 1168, sim.REASON_PEER_UNKNOWN),
    ],
)
def test_failed_completion_raises_open_session_error(address: str, code: int, reason: int) -> None:
    async def main() -> None:
        async with wifidirect.Client() as client:
            with pytest.raises(wifidirect.OpenSessionError) as info:
                await client.open_session(address)
            assert info.value.winerror == code and info.value.reason_code == reason
            assert client.sessions == ()

    run(main())
    assert settle().sessions == 0


def test_invisible_peer_times_out_in_the_completion() -> None:
    sim.add_peer(FAST, visible=False)

    async def main() -> None:
        async with wifidirect.Client() as client:
            with pytest.raises(wifidirect.OpenSessionError) as info:
                await client.open_session(FAST)
            assert info.value.winerror == 1460
            assert info.value.reason_code == sim.REASON_NOT_VISIBLE

    run(main())


def test_configured_outcome_is_delivered() -> None:
    sim.add_peer(FAST, error=1722, reason=77)

    async def main() -> None:
        async with wifidirect.Client() as client:
            with pytest.raises(wifidirect.OpenSessionError, match="RPC_S_SERVER_UNAVAILABLE") as i:
                await client.open_session(FAST)
            assert i.value.reason_code == 77

    run(main())


def test_timeout_cancels_waits_and_leaves_nothing() -> None:
    add_fast_and_slow()

    async def main() -> None:
        async with wifidirect.Client() as client:
            with pytest.raises(TimeoutError, match="timed out"):
                await client.open_session(SLOW, timeout=0.05)
            # The facade has the cancelled open's completion in hand before raising; the
            # simulator counts the open until the C callback has returned, a moment later.
            assert _opens.pending_count() == 0
            assert settle().pending_opens == 0
            assert client.sessions == ()

    run(main())
    stats = settle()
    assert (stats.pending_opens, stats.sessions, stats.clients) == (0, 0, 0)
    assert stats.callbacks_delivered == 1


def test_zero_timeout_still_resolves_cleanly() -> None:
    add_fast_and_slow()

    async def main() -> None:
        async with wifidirect.Client() as client:
            for _ in range(20):
                try:
                    session = await client.open_session(FAST, timeout=0)
                except TimeoutError:
                    continue
                session.close()

    run(main())
    stats = settle()
    assert (stats.pending_opens, stats.sessions) == (0, 0)


def test_task_cancellation_cancels_the_native_open() -> None:
    add_fast_and_slow()

    async def main() -> None:
        async with wifidirect.Client() as client:
            task = asyncio.ensure_future(client.open_session(SLOW))
            await asyncio.sleep(0.02)
            assert sim.stats().pending_opens == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert _opens.pending_count() == 0
            assert settle().pending_opens == 0
            assert client.sessions == ()

    run(main())
    assert settle().sessions == 0


def test_cancellation_racing_a_success_closes_the_session() -> None:
    # The open succeeds at once, the task is cancelled before it resumes: the facade must close
    # the session that opened anyway.
    add_fast_and_slow()

    async def main() -> None:
        async with wifidirect.Client() as client:
            for _ in range(50):
                task = asyncio.ensure_future(client.open_session(FAST))
                await asyncio.sleep(0)
                task.cancel()
                try:
                    session = await task
                except asyncio.CancelledError:
                    continue
                session.close()
            assert client.sessions == ()

    run(main())
    stats = settle()
    assert (stats.pending_opens, stats.sessions) == (0, 0)


def test_wait_for_timeout_around_open_session() -> None:
    add_fast_and_slow()

    async def main() -> None:
        async with wifidirect.Client() as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.open_session(SLOW), 0.05)

    run(main())
    assert settle().pending_opens == 0


def test_thousand_concurrent_opens_each_resolve_exactly_once() -> None:
    add_fast_and_slow()
    sim.add_peer(PRINTER, latency=0.001, legacy=True)

    async def main() -> None:
        async with wifidirect.Client() as client:
            addresses = [FAST, PRINTER, PROJECTOR] * 333 + [FAST]
            results = await asyncio.gather(
                *(client.open_session(a) for a in addresses), return_exceptions=True
            )
            assert len(results) == 1000
            ok = [r for r in results if isinstance(r, wifidirect.Session)]
            failed = [r for r in results if isinstance(r, wifidirect.OpenSessionError)]
            assert len(ok) == 667 and len(failed) == 333
            assert len({s.interface_guid for s in ok}) == 667
            assert len(client.sessions) == 667
            assert sim.stats().sessions == 667

    run(main())
    stats = settle()
    assert stats.callbacks_delivered == 1000
    assert (stats.pending_opens, stats.sessions, stats.clients) == (0, 0, 0)


def test_open_in_two_event_loops_in_two_threads() -> None:
    import threading

    add_fast_and_slow()
    client = wifidirect.Client()
    errors: list[BaseException] = []

    def worker() -> None:
        async def main() -> None:
            for _ in range(20):
                (await client.open_session(FAST)).close()

        try:
            asyncio.run(main())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert errors == []
    assert settle().callbacks_delivered == 80


def test_bad_arguments_fail_before_any_native_call() -> None:
    async def main() -> None:
        async with wifidirect.Client() as client:
            with pytest.raises(ValueError, match="'nope'"):
                await client.open_session("nope")
            with pytest.raises(TypeError):
                await client.open_session(12345)  # type: ignore[arg-type]
            for bad in (-1, float("nan"), -0.001):
                with pytest.raises(ValueError, match="timeout"):
                    await client.open_session(TV, timeout=bad)
            for bad in ("1", True, [1]):
                with pytest.raises(TypeError, match="timeout"):
                    await client.open_session(TV, timeout=bad)  # type: ignore[arg-type]
            # A huge or infinite timeout means no limit.
            (await client.open_session(TV, timeout=float("inf"))).close()
            (await client.open_session(TV, timeout=1e300)).close()

    run(main())
    assert sim.stats().callbacks_delivered == 2


def test_timer_during_cancel_cleanup() -> None:
    # Regression (found by tests/test_stress.py): a task with a timeout is cancelled, and the
    # timeout's timer fires while the facade waits for the cancelled open's callback. The
    # timer must not end that wait early: closing the still-pending session would be a
    # contract violation (WFDCloseSession while the open is pending). A refused cancel makes
    # the completion come only after the peer's latency, well after the timer.
    sim.add_peer(FAST, latency=0.15)

    async def main() -> None:
        async with wifidirect.Client() as client:
            task = asyncio.ensure_future(client.open_session(FAST, timeout=0.05))
            await asyncio.sleep(0.01)
            sim.inject_error("WFDCancelOpenSession", 1722)  # logged; the open completes later
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert _opens.pending_count() == 0  # the cleanup waited for the completion
            assert client.sessions == ()

    run(main())
    stats = settle()
    assert (stats.sessions, stats.pending_opens, stats.violations) == (0, 0, 0)


def test_refused_cancel_on_timeout_still_cleans_up() -> None:
    sim.add_peer(FAST, latency=0.1)
    with wifidirect.Client() as client:
        sim.inject_error("WFDCancelOpenSession", 1722)
        with pytest.raises(TimeoutError):
            client.open_session_sync(FAST, timeout=0.01)  # the open succeeds after 0.1 s ...
        assert client.sessions == ()  # ... and the facade closed it
    assert settle().sessions == 0
