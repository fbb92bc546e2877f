"""Bounded waits: a failure inside the completion hook reaches the waiter as an error instead of
leaving it hanging, and cleanup after a timeout, a cancel or a close waits for a callback that
does not come at most CALLBACK_WAIT seconds, then gives up on that open (logged)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest
from helpers import SLOW, TV, cancel_after, in_thread, settle

import wifidirect
from wifidirect import _opens, sim


@pytest.fixture
def failing_hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def boom(self: _opens.Open) -> None:
        raise MemoryError("no memory to record the completion")

    monkeypatch.setattr(_opens.Open, "_wake", boom)
    yield


@pytest.mark.usefixtures("failing_hook")
def test_a_failing_hook_resolves_a_blocking_waiter_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = wifidirect.Client()
    [outcome] = in_thread(lambda: client.open_session_sync(TV), timeout=10)
    assert isinstance(outcome, RuntimeError) and "could not process" in str(outcome)
    assert isinstance(outcome.__cause__, MemoryError)
    assert "could not be handed over" in caplog.text
    assert settle().sessions == 0  # the session that opened was closed
    client.close()


@pytest.mark.usefixtures("failing_hook")
def test_a_failing_hook_resolves_an_awaiting_task_with_an_error() -> None:
    async def main() -> BaseException:
        async with wifidirect.Client() as client:
            try:
                await asyncio.wait_for(client.open_session(TV), 10)
            except BaseException as exc:
                return exc
            raise AssertionError("the open succeeded")

    outcome = asyncio.run(main())
    assert isinstance(outcome, RuntimeError) and isinstance(outcome.__cause__, MemoryError)
    assert settle().sessions == 0


@pytest.fixture
def callback_never_comes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A cancel the service refuses, on a peer that answers after a minute: after a timeout the
    # callback does not come within the (shortened) bound.
    monkeypatch.setattr(_opens, "CALLBACK_WAIT", 0.2)
    sim.add_peer(SLOW, latency=60.0)
    sim.inject_error("WFDCancelOpenSession", 1722)
    yield
    sim.reset()  # the pending open is cancelled and delivered; its orphan is finished


@pytest.mark.usefixtures("callback_never_comes")
def test_a_blocking_timeout_gives_up_after_the_bound(caplog: pytest.LogCaptureFixture) -> None:
    client = wifidirect.Client()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.open_session_sync(SLOW, timeout=0.05)
    assert time.monotonic() - started < 2
    assert "giving up" in caplog.text
    _close_gives_up(client, caplog)


@pytest.mark.usefixtures("callback_never_comes")
def test_an_async_timeout_gives_up_after_the_bound(caplog: pytest.LogCaptureFixture) -> None:
    client = wifidirect.Client()

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.open_session(SLOW, timeout=0.05)
        return time.monotonic() - started

    assert asyncio.run(main()) < 2
    assert "giving up" in caplog.text
    _close_gives_up(client, caplog)


@pytest.mark.usefixtures("callback_never_comes")
def test_a_cancelled_task_gives_up_after_the_bound(caplog: pytest.LogCaptureFixture) -> None:
    client = wifidirect.Client()

    async def main() -> float:
        return await cancel_after(asyncio.ensure_future(client.open_session(SLOW)), 0.05)

    assert asyncio.run(main()) < 2
    assert "giving up" in caplog.text
    _close_gives_up(client, caplog)


def _close_gives_up(client: wifidirect.Client, caplog: pytest.LogCaptureFixture) -> None:
    # The client's close waits for the open that never completes at most the bound too, and
    # leaves the handle open rather than closing it under a pending open.
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="wifidirect"):
        [outcome] = in_thread(client.close, timeout=10)
    assert outcome is None and client.closed
    assert time.monotonic() - started < 2
    assert "handle is left open" in caplog.text
    assert sim.stats().clients == 1  # not closed under its pending open
