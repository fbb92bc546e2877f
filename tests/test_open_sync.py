"""Blocking opens from any thread; timeouts leave nothing behind."""

from __future__ import annotations

import contextlib
import threading

import pytest
from helpers import FAST, PROJECTOR, SLOW, TV, add_fast_and_slow, in_thread, settle

import wifidirect
from wifidirect import _opens, sim


def test_blocking_open_and_close() -> None:
    with wifidirect.Client() as client:
        with client.open_session_sync(TV, timeout=5) as session:
            assert client.sessions == (session,)
            assert sim.stats().sessions == 1
        assert session.closed and client.sessions == ()
    stats = settle()
    assert (stats.sessions, stats.clients, stats.callbacks_delivered) == (0, 0, 1)


def test_blocking_failure_raises_open_session_error() -> None:
    with wifidirect.Client() as client, pytest.raises(wifidirect.OpenSessionError) as info:
        client.open_session_sync(PROJECTOR)
    assert info.value.winerror == 1460 and info.value.reason_code == 9


def test_blocking_timeout_cancels_and_leaves_nothing() -> None:
    add_fast_and_slow()
    with wifidirect.Client() as client:
        with pytest.raises(TimeoutError):
            client.open_session_sync(SLOW, timeout=0.05)
        assert _opens.pending_count() == 0  # the completion is in hand
        assert settle().pending_opens == 0
        assert client.sessions == ()
    stats = settle()
    assert (stats.pending_opens, stats.sessions) == (0, 0)


def test_callback_before_start_returns_race_is_handled() -> None:
    # Zero latency: the simulator's worker may run the completion before WFDStartOpenSession
    # has returned. Every open must still resolve exactly once, with the right handle.
    add_fast_and_slow()
    with wifidirect.Client() as client:
        for _ in range(300):
            session = client.open_session_sync(FAST)
            session.close()
        for _ in range(100):
            with contextlib.suppress(TimeoutError):
                client.open_session_sync(FAST, timeout=0).close()
    stats = settle()
    assert stats.callbacks_delivered == 400
    assert (stats.pending_opens, stats.sessions) == (0, 0)


def test_many_threads_share_one_client() -> None:
    add_fast_and_slow()
    client = wifidirect.Client()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(50):
                client.open_session_sync(FAST, timeout=5).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert errors == []
    stats = settle()
    assert stats.callbacks_delivered == 400 and stats.sessions == 0


def test_a_close_between_registering_and_starting_an_open_does_not_strand_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A signal handler that closes the client can run right after the open registered and
    # before its native start: the close forgets the open (it never started), and the opener
    # must then get ClosedError, not wait for a completion that will never come.
    add_fast_and_slow()
    client = wifidirect.Client()
    start = _opens.Open.start

    def close_first(op: _opens.Open) -> None:
        client.close()
        start(op)

    monkeypatch.setattr(_opens.Open, "start", close_first)
    [outcome] = in_thread(lambda: client.open_session_sync(FAST), timeout=10)
    assert isinstance(outcome, wifidirect.ClosedError), outcome
    stats = settle()
    assert (stats.pending_opens, stats.sessions, stats.clients) == (0, 0, 0)


def test_close_from_another_thread_releases_blocked_opener() -> None:
    add_fast_and_slow()
    client = wifidirect.Client()
    outcome: list[BaseException] = []
    started = threading.Event()

    def opener() -> None:
        started.set()
        try:
            client.open_session_sync(SLOW)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=opener)
    thread.start()
    started.wait()
    while sim.stats().pending_opens == 0:
        pass
    client.close()
    thread.join(5)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], wifidirect.ClosedError)
    stats = settle()
    assert (stats.pending_opens, stats.sessions, stats.clients) == (0, 0, 0)
