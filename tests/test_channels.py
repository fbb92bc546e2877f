"""Completion channels: asyncio completions queued in C and drained by the loop.

The cases that only exist on that path: a completion that has arrived (its callback returned,
a failed open's handle already invalid) but that the loop has not drained yet; a loop that is
blocked while a thread waits for such a completion; loops that come and go.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading

import pytest
from helpers import CHANNELS, settle

import wifidirect
from wifidirect import _cleanup, _dispatch, sim

UNPAIRED = "02:00:00:00:dd:01"  # fails with ERROR_NOT_AUTHENTICATED after 20 ms
PAIRED = "02:00:00:00:dd:02"  # opens after 20 ms

needs_channels = pytest.mark.skipif(not CHANNELS, reason="this build has no completion channels")


@pytest.fixture(autouse=True)
def _peers() -> None:
    sim.add_peer(UNPAIRED, paired=False, latency=0.02)
    sim.add_peer(PAIRED, latency=0.02)


def _channel_of(loop: asyncio.AbstractEventLoop, client: wifidirect.Client) -> int:
    inbox = _dispatch._inboxes.get((id(loop), client.backend))
    return 0 if inbox is None else inbox.channel


def test_async_opens_take_the_loops_channel() -> None:
    async def main() -> int:
        async with wifidirect.Client() as client:
            with await client.open_session(PAIRED):
                return _channel_of(asyncio.get_running_loop(), client)

    channel = asyncio.run(main())
    if CHANNELS:
        assert channel > 0
    else:
        assert channel == 0  # Windows and 32-bit builds: every completion is direct


@pytest.mark.parametrize("peer", [UNPAIRED, PAIRED])
def test_cancel_after_the_completion_arrived_but_before_the_loop_drained_it(peer: str) -> None:
    # The loop is blocked until the simulator is idle: the callback has returned (for the
    # unpaired peer the session handle is now invalid) and the completion waits in the queue.
    # Cancelling must not call WFDCancelOpenSession on that handle: the simulator would count
    # a stale-handle violation (checked after every test). The completion wins over the cancel
    # and the outcome is discarded (a session that opened is closed).
    async def main() -> None:
        async with wifidirect.Client() as client:
            task = asyncio.ensure_future(client.open_session(peer))
            await asyncio.sleep(0)  # the task starts the open
            assert sim.wait_idle(5)
            # Queued: arrived, not recorded yet. Direct (no channels): recorded on arrival.
            assert _dispatch.pending_count() == (1 if CHANNELS else 0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert client.sessions == ()

    asyncio.run(main())
    stats = settle()
    assert stats.sessions == 0 and stats.pending_opens == 0 and stats.callbacks_delivered == 1


def test_timeout_cleanup_with_queued_completion() -> None:
    # Same race through the timeout path: the timer fires in the loop iteration that also
    # finds the completion queued.
    async def main() -> None:
        async with wifidirect.Client() as client:
            task = asyncio.ensure_future(client.open_session(UNPAIRED, timeout=0.001))
            await asyncio.sleep(0)
            assert sim.wait_idle(5)
            with pytest.raises((TimeoutError, wifidirect.OpenSessionError)):
                await task

    asyncio.run(main())
    assert settle().pending_opens == 0


def test_blocking_close_on_the_loops_thread_does_not_wait_for_the_loop() -> None:
    # client.close() called synchronously inside a coroutine blocks the loop, so the loop's
    # reader cannot drain the channel; close() waits for its cancelled opens by draining the
    # channel itself. Run in a thread with a deadline so that a hang fails instead of hanging.
    outcome: list[object] = []

    async def main() -> None:
        client = wifidirect.Client()
        tasks = [asyncio.ensure_future(client.open_session(p)) for p in (PAIRED, UNPAIRED) * 3]
        await asyncio.sleep(0)
        assert sim.wait_idle(5)  # all six completions queued, none drained
        client.close()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        outcome.extend(type(r) for r in results)

    worker = threading.Thread(target=asyncio.run, args=(main(),))
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "close() on the loop's thread hung"
    assert outcome == [wifidirect.ClosedError] * 6
    stats = settle()
    assert stats.sessions == 0 and stats.clients == 0 and stats.pending_opens == 0


def test_completion_for_a_loop_closed_while_queued_is_cleaned_up() -> None:
    # The loop stops with the open pending and is closed (and kept referenced). The completion
    # lands in the channel of a loop that will never run again; the cleanup thread's sweep
    # retires that channel and closes the session that opened.
    client = wifidirect.Client()
    loop = asyncio.new_event_loop()
    task = loop.create_task(client.open_session(PAIRED))
    loop.call_soon(loop.stop)
    loop.run_forever()
    loop.close()
    assert sim.wait_idle(5)
    stats = settle()  # drains the cleanup thread, which sweeps first
    assert stats.sessions == 0 and stats.pending_opens == 0
    assert _dispatch.pending_count() == 0
    client.close()
    del task


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"))


@needs_channels
def test_loops_that_come_and_go_leave_no_channel_or_descriptor_behind() -> None:
    async def one() -> None:
        async with wifidirect.Client() as client:
            (await client.open_session(PAIRED)).close()

    asyncio.run(one())  # the first run may create lasting things (the cleanup thread)
    gc.collect()
    assert _cleanup.drain()
    before = _open_descriptors()
    for _ in range(40):
        asyncio.run(one())
    gc.collect()
    assert _cleanup.drain()
    assert _open_descriptors() == before
    assert not any(inbox.channel for inbox in _dispatch._inboxes.values())


def test_a_loop_that_cannot_watch_descriptors_gets_direct_completions() -> None:
    class NoReaders(asyncio.SelectorEventLoop):
        def add_reader(self, *args: object) -> None:  # type: ignore[override]
            raise NotImplementedError

    async def main() -> int:
        async with wifidirect.Client() as client:
            with await client.open_session(PAIRED):
                return _channel_of(asyncio.get_running_loop(), client)

    loop = NoReaders()
    try:
        assert loop.run_until_complete(main()) == 0
    finally:
        loop.close()
    assert settle().sessions == 0


def test_loops_in_several_threads_share_one_client() -> None:
    # Four threads, each with its own loop (and channel), open, cancel and close on one
    # client at once. A completion delivered to the wrong loop would resolve a future from
    # a foreign thread or never wake its task: a thread would hang past its deadline.
    sim.add_peer("02:00:00:00:dd:03", latency=0.0)
    sim.add_peer("02:00:00:00:dd:04", latency=0.003)
    client = wifidirect.Client()
    outcomes: list[tuple[int, int]] = []

    async def one_loop() -> tuple[int, int]:
        opened = cancelled = 0
        tasks = [
            asyncio.ensure_future(client.open_session(("02:00:00:00:dd:03", PAIRED)[i % 2]))
            for i in range(60)
        ]
        tasks += [
            asyncio.ensure_future(client.open_session("02:00:00:00:dd:04")) for _ in range(20)
        ]
        await asyncio.sleep(0.001)
        for task in tasks[60:70]:
            task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, wifidirect.Session):
                result.close()
                opened += 1
            elif isinstance(result, asyncio.CancelledError):
                cancelled += 1
            else:
                raise AssertionError(result)
        return opened, cancelled

    threads = [
        threading.Thread(target=lambda: outcomes.append(asyncio.run(one_loop()))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 4
    assert all(opened + cancelled == 80 and opened >= 70 for opened, cancelled in outcomes)
    client.close()
    stats = settle()
    assert stats.sessions == 0 and stats.pending_opens == 0 and stats.clients == 0
    assert _dispatch.pending_count() == 0
