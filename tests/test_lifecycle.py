"""Garbage collection, late callbacks, closed loops and dropped coroutines."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest
from helpers import FAST, SLOW, TV, add_fast_and_slow, settle

import wifidirect
from wifidirect import sim


def test_dropped_session_warns_and_is_closed() -> None:
    client = wifidirect.Client()
    with pytest.warns(ResourceWarning, match="unclosed wifidirect session"):
        client.open_session_sync(TV)  # the result is dropped at once
        gc.collect()
    assert settle().sessions == 0
    assert client.sessions == ()
    client.close()


def test_dropped_client_warns_and_closes_everything() -> None:
    client = wifidirect.Client()
    client.open_legacy_session_sync("02:00:5e:10:00:02").close()
    with pytest.warns(ResourceWarning, match="unclosed wifidirect.Client"):
        del client
        gc.collect()
    stats = settle()
    assert (stats.clients, stats.sessions) == (0, 0)


def test_session_keeps_its_client_alive() -> None:
    session = wifidirect.Client().open_session_sync(TV)
    gc.collect()  # the client is only referenced by the session: nothing is closed
    assert not session.closed and sim.stats().clients == 1
    session.close()
    with pytest.warns(ResourceWarning):
        del session
        gc.collect()
    assert settle().clients == 0


def test_closed_objects_do_not_warn() -> None:
    client = wifidirect.Client()
    client.open_session_sync(TV).close()
    client.close()
    del client
    gc.collect()  # ResourceWarning is an error in this suite: none must be emitted


def test_completion_after_loop_closed_is_cleaned_up() -> None:
    # The loop is closed while an open is pending; the late completion (a success) cannot be
    # delivered to the coroutine, so the cleanup thread closes the session.
    sim.add_peer(FAST, latency=0.05)
    client = wifidirect.Client()
    loop = asyncio.new_event_loop()
    coro = client.open_session(FAST)
    task = loop.create_task(coro)
    loop.call_soon(loop.stop)
    loop.run_forever()  # the open starts, then the loop stops with the task pending
    loop.close()
    assert sim.wait_idle(5)  # the callback has come, found the loop closed
    stats = settle()
    assert stats.sessions == 0 and stats.pending_opens == 0
    del task
    coro.close()  # the coroutine can never resume; closing it must not double-close
    gc.collect()
    assert settle().sessions == 0
    client.close()


def test_dropped_coroutine_abandons_its_open() -> None:
    add_fast_and_slow()
    sim.add_peer(SLOW, latency=0.05)
    client = wifidirect.Client()

    async def start_and_drop() -> None:
        coro = client.open_session(SLOW)
        fut = coro.send(None)  # runs up to the await on the completion future
        assert fut is not None
        deadline = time.monotonic() + 5
        while sim.stats().pending_opens == 0:  # a worker thread starts it
            assert time.monotonic() < deadline
            time.sleep(0.001)
        coro.close()  # GeneratorExit inside open_session: the open is abandoned

    asyncio.run(start_and_drop())
    stats = settle()
    assert stats.pending_opens == 0 and stats.sessions == 0
    client.close()


def test_client_closed_while_completion_waits_for_the_loop() -> None:
    sim.add_peer(FAST, latency=0.0)

    async def main() -> None:
        client = wifidirect.Client()
        task = asyncio.ensure_future(client.open_session(FAST))
        await asyncio.sleep(0)
        backend = client._state.backend
        while backend.starters_busy():  # the queued start has been made ...
            time.sleep(0.001)
        assert sim.wait_idle(5)  # ... and its completion delivered, into the loop's inbox
        # Closed on the loop's own thread, so the loop cannot take the completion meanwhile
        # (awaiting a close in an executor would let it, and the open would win the race).
        client.close()
        with pytest.raises(wifidirect.ClosedError):
            await task

    asyncio.run(main())
    assert settle().sessions == 0
