"""Tests of the connector application, against wifidirect's simulator (the wfd_sim fixture)."""

from __future__ import annotations

import asyncio

import pytest
from connector import Attempt, Connector, NoDeviceReachableError, WiFiDirectUnavailableError, main

from wifidirect.testing import SimController

TV = "02:00:00:00:00:01"
PHONE = "02:00:00:00:00:02"
SPEAKER = "02:00:00:00:00:03"


@pytest.fixture
def devices(wfd_sim: SimController) -> SimController:
    """Three devices of our own instead of the simulator's defaults."""
    wfd_sim.clear()
    wfd_sim.peer(TV, name="TV").latency(0.02)
    wfd_sim.peer(PHONE, name="Phone").latency(0.01)
    wfd_sim.peer(SPEAKER, name="Speaker")
    return wfd_sim


def connect(
    devices: list[str], timeout: float = 5.0, attempts: int = 2, retry_delay: float = 0.0
) -> tuple[str, list[Attempt]]:
    """Connect, note where to, close; returns the address and the attempts."""

    async def run() -> tuple[str, list[Attempt]]:
        connector = Connector(devices, timeout=timeout, attempts=attempts, retry_delay=retry_delay)
        async with connector:
            session = await connector.connect()
            assert await connector.connect() is session  # reused while open
            return str(session.address), connector.history

    return asyncio.run(run())


def test_connects_to_the_first_device_of_the_list(devices: SimController) -> None:
    address, history = connect([TV, PHONE])
    assert address == TV
    assert history == [Attempt(TV, "")]


def test_skips_devices_that_cannot_work_without_retrying(devices: SimController) -> None:
    devices.peer(TV).unpaired()
    devices.peer(PHONE).remove()
    address, history = connect([TV, PHONE, SPEAKER])
    assert address == SPEAKER
    assert history == [
        Attempt(TV, "ERROR_NOT_AUTHENTICATED"),
        Attempt(PHONE, "ERROR_NOT_FOUND"),
        Attempt(SPEAKER, ""),
    ]


def test_retries_a_device_that_did_not_answer_then_moves_on(devices: SimController) -> None:
    devices.peer(TV).hidden()  # out of range: ERROR_TIMEOUT every time
    devices.peer(PHONE).fails("ERROR_TIMEOUT", reason=9)
    address, history = connect([TV, PHONE, SPEAKER], attempts=2)
    assert address == SPEAKER
    assert [a.address for a in history] == [TV, TV, PHONE, PHONE, SPEAKER]
    assert {a.error for a in history[:4]} == {"ERROR_TIMEOUT"}


def test_a_transient_service_error_is_retried(devices: SimController) -> None:
    devices.inject_error("WFDStartOpenSession", "RPC_S_SERVER_UNAVAILABLE")  # next call only
    address, history = connect([PHONE])
    assert address == PHONE
    assert history == [Attempt(PHONE, "RPC_S_SERVER_UNAVAILABLE"), Attempt(PHONE, "")]


def test_a_device_that_hangs_is_cancelled_after_the_timeout(devices: SimController) -> None:
    devices.peer(TV).latency(60)  # would answer in a minute
    address, history = connect([TV, PHONE], timeout=0.05, attempts=1)
    assert address == PHONE
    assert history[0] == Attempt(TV, "no answer in 0.05 s")
    # The connector's timeout cancelled the open: nothing is left pending or open.
    stats = devices.settle()
    assert stats.pending_opens == 0 and stats.sessions == 0 and stats.clients == 0


def test_nothing_reachable_reports_every_attempt(devices: SimController) -> None:
    devices.peer(TV).unpaired()
    devices.peer(PHONE).hidden()
    with pytest.raises(NoDeviceReachableError) as info:
        connect([TV, PHONE], attempts=1)
    assert info.value.attempts == (
        Attempt(TV, "ERROR_NOT_AUTHENTICATED"),
        Attempt(PHONE, "ERROR_TIMEOUT"),
    )


@pytest.mark.parametrize("stop", ["service", "policy"])
def test_a_stopped_service_or_policy_ends_the_search(devices: SimController, stop: str) -> None:
    if stop == "service":
        devices.service(running=False)
    else:
        devices.policy(disabled=True)
    with pytest.raises(WiFiDirectUnavailableError):
        connect([TV, PHONE, SPEAKER])  # the service: already the client; the policy: the open
    assert devices.stats.callbacks_delivered == 0  # refused synchronously: nothing was tried


def test_closing_the_connector_closes_the_session(devices: SimController) -> None:
    connect([TV])
    stats = devices.settle()
    assert stats.sessions == 0 and stats.clients == 0


def test_command_line(devices: SimController, capsys: pytest.CaptureFixture[str]) -> None:
    devices.peer(TV).hidden()
    assert main([TV, PHONE]) == 0
    assert f"connected to {PHONE}" in capsys.readouterr().out
    devices.peer(PHONE).unpaired()
    assert main([PHONE]) == 1
    assert "no device reachable" in capsys.readouterr().err
    assert main([]) == 2
