"""Stateful property test of the facade (hypothesis RuleBasedStateMachine).

Rules open and close clients; open sessions asynchronously and blocking (succeeding, failing,
timing out, cancelled), legacy sessions and visibility updates; close sessions and clients in
any order and from other threads; add, remove and reconfigure peers; flip group policy, the
service and the handle limit while opens are in flight. After every step the simulator must
have counted no contract violation; once quiet, nothing is pending and the simulator's live
clients and sessions are exactly the ones the facade reports open; every open resolved exactly
once (each awaited task and each blocking call produced exactly one outcome, and the
completion table is empty).

The default run is bounded for CI; `pytest --hypothesis-profile=long tests/test_stateful.py`
runs a much larger campaign (profiles are registered in conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

import pytest
from helpers import settle
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

import wifidirect
from wifidirect import _opens, _workers, sim

FAST = "02:00:00:00:aa:01"  # zero latency: completions race WFDStartOpenSession's return
JITTER = "02:00:00:00:aa:02"  # a few milliseconds
FAIL = "02:00:00:00:aa:03"  # completes with ERROR_TIMEOUT, reason 9
UNPAIRED = "02:00:00:00:aa:04"
LEGACY = "02:00:00:00:aa:05"
SLOW = "02:00:00:00:aa:06"  # only ever opened with a timeout or a cancel
UNKNOWN = "02:00:00:00:aa:ff"
PEERS = [FAST, JITTER, FAIL, UNPAIRED, LEGACY, UNKNOWN]

#: Outcomes an open may legitimately have in this machine.
EXPECTED = (
    wifidirect.OpenSessionError,
    wifidirect.ServiceNotActiveError,
    wifidirect.InvalidStateError,
    wifidirect.ClosedError,
    TimeoutError,
)


def concurrently(call: Any, times: int = 3) -> None:
    """Run ``call`` from ``times`` threads at once and wait for all of them."""
    threads = [threading.Thread(target=call) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)


class _UnknownTokens(logging.Handler):
    """Fails the machine if a completion ever arrives for a token nobody registered."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "unknown open token" in record.getMessage():
            self.messages.append(record.getMessage())


class FacadeMachine(RuleBasedStateMachine):
    clients = Bundle("clients")
    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        sim.reset()
        sim.add_peer(FAST, latency=0.0)
        sim.add_peer(JITTER, latency=0.002)
        sim.add_peer(FAIL, latency=0.001, error=1460, reason=9)
        sim.add_peer(UNPAIRED, paired=False)
        sim.add_peer(LEGACY, legacy=True, latency=0.001)
        sim.add_peer(SLOW, latency=30.0)
        self.loop = asyncio.new_event_loop()
        self.open_clients: list[wifidirect.Client] = []
        self.service_running = True
        self.opens = 0
        self.outcomes = 0
        self.unknown = _UnknownTokens()
        logging.getLogger("wifidirect").addHandler(self.unknown)

    # -- helpers --------------------------------------------------------------------------

    def outcome(self, result: Any) -> Any:
        """Count one outcome; anything but a Session or an expected error fails the test."""
        self.outcomes += 1
        if isinstance(result, BaseException) and not isinstance(result, EXPECTED):
            raise result
        return result

    def _open_async(self, client: wifidirect.Client, address: str, timeout: float | None) -> Any:
        async def go() -> Any:
            try:
                return await client.open_session(address, timeout=timeout)
            except EXPECTED as exc:
                return exc

        self.opens += 1
        return self.outcome(self.loop.run_until_complete(go()))

    # -- clients ----------------------------------------------------------------------------

    @initialize(target=clients)
    def first_client(self) -> wifidirect.Client:
        client = wifidirect.Client()
        self.open_clients.append(client)
        return client

    @rule(target=clients)
    def open_client(self) -> Any:
        try:
            client = wifidirect.Client()
        except wifidirect.SessionLimitError:
            return None  # bundles always grow by one: hypothesis must be able to replay
        except wifidirect.ServiceNotActiveError:
            assert not self.service_running  # WFDOpenHandle fails only while it is stopped
            return None
        self.open_clients.append(client)
        return client

    @rule(client=clients, from_thread=st.booleans())
    def close_client(self, client: wifidirect.Client | None, from_thread: bool) -> None:
        if client is None:
            return
        if from_thread:
            concurrently(client.close, times=1)
        else:
            client.close()
        assert client.closed and client.sessions == ()
        if client in self.open_clients:
            self.open_clients.remove(client)

    @rule(client=clients)
    def close_client_twice_concurrently(self, client: wifidirect.Client | None) -> None:
        if client is None:
            return
        concurrently(client.close)
        assert client.closed
        if client in self.open_clients:
            self.open_clients.remove(client)

    # -- opens ------------------------------------------------------------------------------

    @rule(
        target=sessions,
        client=clients,
        address=st.sampled_from(PEERS),
        timeout=st.sampled_from([None, 0.0, 0.005, 1.0]),
    )
    def open_async(
        self, client: wifidirect.Client | None, address: str, timeout: float | None
    ) -> Any:
        if client is None:
            return None
        result = self._open_async(client, address, timeout)
        return result if isinstance(result, wifidirect.Session) else None

    @rule(
        target=sessions,
        client=clients,
        address=st.sampled_from(PEERS),
        timeout=st.sampled_from([None, 0.0, 0.005]),
    )
    def open_sync(
        self, client: wifidirect.Client | None, address: str, timeout: float | None
    ) -> Any:
        if client is None:
            return None
        self.opens += 1
        try:
            result: Any = client.open_session_sync(address, timeout=timeout)
        except EXPECTED as exc:
            result = exc
        result = self.outcome(result)
        return result if isinstance(result, wifidirect.Session) else None

    @rule(client=clients, timeout=st.sampled_from([0.0, 0.003]))
    def open_slow_times_out(self, client: wifidirect.Client | None, timeout: float) -> None:
        if client is None:
            return
        result = self._open_async(client, SLOW, timeout)
        assert isinstance(result, (TimeoutError, wifidirect.ClosedError, wifidirect.WFDError))

    @rule(
        client=clients,
        address=st.sampled_from([SLOW, FAST, JITTER]),
        yields=st.integers(0, 3),
    )
    def cancel_task(self, client: wifidirect.Client | None, address: str, yields: int) -> None:
        if client is None:
            return

        async def go() -> Any:
            task = asyncio.ensure_future(client.open_session(address))
            for _ in range(yields):
                await asyncio.sleep(0)
            task.cancel()
            try:
                return await task
            except asyncio.CancelledError as exc:
                return exc
            except EXPECTED as exc:
                return exc

        self.opens += 1
        result = self.loop.run_until_complete(go())
        self.outcomes += 1
        if isinstance(result, wifidirect.Session):
            result.close()  # the open won the race with the cancel
        elif not isinstance(result, (asyncio.CancelledError, *EXPECTED)):
            raise result

    @rule(client=clients, count=st.integers(2, 20), flip=st.sampled_from(["service", "policy"]))
    def flip_while_opens_are_in_flight(
        self, client: wifidirect.Client | None, count: int, flip: str
    ) -> None:
        if client is None:
            return

        async def go() -> list[Any]:
            tasks = [
                asyncio.ensure_future(client.open_session(JITTER, timeout=2.0))
                for _ in range(count)
            ]
            await asyncio.sleep(0)
            if flip == "service":
                sim.set_service_running(False)
            else:
                sim.set_group_policy_disabled(True)
            return await asyncio.gather(*tasks, return_exceptions=True)

        self.opens += count
        for result in self.loop.run_until_complete(go()):
            if isinstance(self.outcome(result), wifidirect.Session):
                result.close()
        sim.set_service_running(True)
        self.service_running = True
        sim.set_group_policy_disabled(False)

    @rule(client=clients, address=st.sampled_from([FAST, JITTER, SLOW]))
    def close_client_while_blocking_open(
        self, client: wifidirect.Client | None, address: str
    ) -> None:
        if client is None:
            return
        result: list[Any] = []

        def opener() -> None:
            try:
                result.append(client.open_session_sync(address, timeout=5.0))
            except BaseException as exc:  # checked below
                result.append(exc)

        self.opens += 1
        thread = threading.Thread(target=opener)
        thread.start()
        client.close()
        thread.join(10)
        assert not thread.is_alive() and len(result) == 1
        if isinstance(self.outcome(result[0]), wifidirect.Session):
            assert result[0].closed  # opened just before the close: closed with the client
        if client in self.open_clients:
            self.open_clients.remove(client)

    @rule(target=sessions, client=clients)
    def open_legacy(self, client: wifidirect.Client | None) -> Any:
        if client is None:
            return None
        try:
            return client.open_legacy_session_sync(LEGACY)
        except (wifidirect.WFDError, wifidirect.ClosedError):
            return None

    @rule(client=clients, address=st.sampled_from(PEERS))
    def update_visibility(self, client: wifidirect.Client | None, address: str) -> None:
        if client is None:
            return
        with contextlib.suppress(wifidirect.WFDError, wifidirect.ClosedError):
            client.update_device_visibility_sync(address)

    # -- sessions ---------------------------------------------------------------------------

    @rule(session=consumes(sessions), from_thread=st.booleans())
    def close_session(self, session: wifidirect.Session | None, from_thread: bool) -> None:
        if session is None:
            return
        if from_thread:
            concurrently(session.close, times=1)
        else:
            session.close()
        assert session.closed

    @rule(session=sessions)
    def close_session_concurrently(self, session: wifidirect.Session | None) -> None:
        if session is None:
            return
        concurrently(session.close)
        assert session.closed

    # -- the simulator ----------------------------------------------------------------------

    @rule(
        address=st.sampled_from([FAST, JITTER, FAIL]),
        latency=st.sampled_from([0.0, 0.001, 0.003]),
        error=st.sampled_from([0, 0, 1460, 1722]),
    )
    def reconfigure_peer(self, address: str, latency: float, error: int) -> None:
        sim.add_peer(address, latency=latency, error=error, reason=1 if error else 0)

    @rule(address=st.sampled_from([JITTER, UNPAIRED]))
    def remove_and_restore_peer(self, address: str) -> None:
        sim.remove_peer(address)
        sim.add_peer(address, latency=0.002, paired=address != UNPAIRED)

    @rule(running=st.booleans())
    def set_service(self, running: bool) -> None:
        sim.set_service_running(running)
        self.service_running = running

    @rule(disabled=st.booleans())
    def set_policy(self, disabled: bool) -> None:
        sim.set_group_policy_disabled(disabled)

    @rule(limit=st.sampled_from([1, 2, 4, 64]))
    def set_handle_limit(self, limit: int) -> None:
        sim.set_handle_limit(limit)

    @precondition(lambda self: self.open_clients)
    @rule()
    def drop_a_client_unclosed(self) -> None:
        # Garbage collection closes it (through the cleanup thread) with a ResourceWarning.
        client = self.open_clients.pop()
        with pytest.warns(ResourceWarning):
            client._finalizer()  # what the garbage collector runs for a dropped client
        assert _workers.drain(5)
        assert client.closed and client.sessions == ()

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def no_violations(self) -> None:
        stats = sim.stats()
        assert stats.violations == 0, stats.violations_by_kind

    @invariant()
    def quiet_state_matches_the_facade(self) -> None:
        stats = settle()
        assert stats.pending_opens == 0
        assert _opens.pending_count() == 0
        live = [c for c in self.open_clients if not c.closed]
        assert stats.clients == len(live)
        assert stats.sessions == sum(len(c.sessions) for c in live)
        assert self.outcomes == self.opens
        assert self.unknown.messages == []

    def teardown(self) -> None:
        try:
            for client in self.open_clients:
                client.close()
            stats = settle()
            assert (stats.clients, stats.sessions, stats.pending_opens) == (0, 0, 0)
            assert stats.violations == 0, stats.violations_by_kind
        finally:
            logging.getLogger("wifidirect").removeHandler(self.unknown)
            self.loop.close()
            sim.reset()


TestFacadeMachine = FacadeMachine.TestCase
