"""Bad input: every public call rejects wrong values with a clear exception, before any native
call, and nothing reaches native code in a bad state. Includes fuzzing (hypothesis) of
MacAddress parsing and of the public calls' arguments."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from helpers import PRINTER, TV, settle
from hypothesis import given
from hypothesis import strategies as st

import wifidirect
from wifidirect import sim

WRONG_TYPES = [None, 1, 1.5, 1j, [1, 2], ("a",), {"a": 1}, object()]
BAD_ADDRESSES = ["", "zz:zz:zz:zz:zz:zz", "aa:bb:cc:dd:ee", b"\x00" * 5, bytearray(7), "aa bb"]
BAD_TIMEOUTS: list[Any] = [-1, -0.0001, float("nan"), float("-inf"), "1", True, [1], 1j]


def native_calls() -> tuple[int, int, int]:
    stats = sim.stats()
    return stats.clients, stats.sessions, stats.callbacks_delivered


@pytest.fixture
def client() -> Any:
    with wifidirect.Client() as c:
        yield c


@pytest.mark.parametrize("bad", WRONG_TYPES + BAD_ADDRESSES)
def test_every_address_taking_call_rejects_bad_addresses(client: Any, bad: Any) -> None:
    before = native_calls()
    expected = TypeError if not isinstance(bad, (str, bytes, bytearray)) else ValueError
    calls = [
        lambda: client.open_session_sync(bad),
        lambda: asyncio.run(client.open_session(bad)),
        lambda: client.open_legacy_session_sync(bad),
        lambda: client.update_device_visibility_sync(bad),
        lambda: sim.add_peer(bad),
        lambda: sim.remove_peer(bad),
        lambda: sim.peer(bad),
    ]
    for call in calls:
        with pytest.raises(expected) as info:
            call()
        assert repr(bad)[:20] in str(info.value) or type(bad).__name__ in str(info.value)
    assert native_calls() == before


@pytest.mark.parametrize("bad", BAD_TIMEOUTS)
def test_bad_timeouts_are_rejected_before_the_native_call(client: Any, bad: Any) -> None:
    before = sim.stats()
    expected = (
        ValueError
        if isinstance(bad, float) or (isinstance(bad, int) and not isinstance(bad, bool))
        else TypeError
    )
    with pytest.raises(expected, match="timeout"):
        client.open_session_sync(TV, timeout=bad)
    with pytest.raises(expected, match="timeout"):
        asyncio.run(client.open_session(TV, timeout=bad))
    assert sim.stats() == before


@pytest.mark.parametrize("huge", [math.inf, 1e308, 10**400, 2**63])
def test_huge_timeouts_mean_no_limit(client: Any, huge: Any) -> None:
    client.open_session_sync(TV, timeout=huge).close()
    asyncio.run(client.open_session(TV, timeout=huge)).close()


def test_closed_objects() -> None:
    client = wifidirect.Client()
    session = client.open_session_sync(TV)
    client.close()
    settle()  # the closed session's disconnect finishes on a simulator worker
    before = native_calls()
    session.close()  # closed with its client: no native call
    assert session.closed
    for call in (
        lambda: client.open_session_sync(TV),
        lambda: client.open_legacy_session_sync(PRINTER),
        lambda: client.update_device_visibility_sync(TV),
        lambda: asyncio.run(client.open_session(TV)),
    ):
        with pytest.raises(wifidirect.ClosedError):
            call()
    assert native_calls() == before
    # Properties stay readable on closed objects.
    assert session.address == wifidirect.MacAddress(TV) and session.interface_guid.version == 4
    assert client.backend == wifidirect.default_backend_name()
    assert client.negotiated_version == 1


def test_objects_from_another_client_are_not_addresses() -> None:
    with wifidirect.Client() as a, wifidirect.Client() as b:
        session = a.open_session_sync(TV)
        for call in (
            lambda: b.open_session_sync(session),
            lambda: b.update_device_visibility_sync(session),
            lambda: b.open_legacy_session_sync(a),
        ):
            with pytest.raises(TypeError):
                call()  # type: ignore[arg-type]
        # A session address from one client works for another client (it is just a value).
        b.open_session_sync(session.address).close()
        # Closing b does not touch a's session.
    assert session.closed  # closed with a


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"latency": -1.0}, ValueError),
        ({"latency": float("nan")}, ValueError),
        ({"latency": float("inf")}, ValueError),
        ({"latency": "1"}, TypeError),
        ({"error": -1}, ValueError),
        ({"error": 2**32}, ValueError),
        ({"reason": 1.5}, ValueError),
        ({"name": 5}, TypeError),
        ({"paired": "yes"}, TypeError),
    ],
)
def test_sim_add_peer_rejects_bad_configuration(kwargs: dict[str, Any], error: type) -> None:
    before = sim.peers()
    with pytest.raises(error):
        sim.add_peer("02:00:00:00:00:42", **kwargs)
    assert sim.peers() == before


def test_sim_controls_reject_bad_values() -> None:
    for bad in (-1, 2**32, 1.5, "2", True):
        with pytest.raises(ValueError):
            sim.set_handle_limit(bad)
        with pytest.raises(ValueError):
            sim.fail_allocations(bad)
    with pytest.raises(ValueError, match="WFDNope"):
        sim.inject_error("WFDNope", 1)
    with pytest.raises(ValueError):
        sim.inject_error("WFDCloseSession", -5)
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError):
            sim.wait_idle(bad)
    with pytest.raises(TypeError):
        sim.set_service_running("no")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="02:00:00:00:00:43"):
        sim.remove_peer("02:00:00:00:00:43")


def test_long_peer_names_are_truncated_on_a_character_boundary() -> None:
    peer = sim.add_peer("02:00:00:00:00:42", name="é" * 40)  # 80 UTF-8 bytes
    assert peer.name == "é" * 31  # 62 bytes: the 63-byte limit never splits a character


# -- fuzzing ------------------------------------------------------------------------------

hex_pair = st.text("0123456789abcdefABCDEF", min_size=2, max_size=2)


@given(st.lists(hex_pair, min_size=6, max_size=6), st.sampled_from([":", "-", ""]))
def test_fuzz_valid_spellings_round_trip(pairs: list[str], sep: str) -> None:
    mac = wifidirect.MacAddress(sep.join(pairs))
    assert str(mac) == ":".join(p.lower() for p in pairs)
    assert wifidirect.MacAddress(str(mac)) == mac == wifidirect.MacAddress(bytes(mac))


@given(st.one_of(st.text(max_size=40), st.binary(max_size=12)))
def test_fuzz_mac_parsing_never_fails_unexpectedly(value: Any) -> None:
    try:
        mac = wifidirect.MacAddress(value)
    except ValueError as exc:
        assert repr(value)[:10] in str(exc)
        return
    assert len(bytes(mac)) == 6
    assert wifidirect.MacAddress(str(mac)) == mac


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
)


@given(address=ANY_VALUE, timeout=ANY_VALUE)
def test_fuzz_public_calls_fail_cleanly_or_work(address: Any, timeout: Any) -> None:
    sim.reset()
    with wifidirect.Client() as client:
        for call in (
            lambda: client.open_session_sync(address, timeout=timeout),
            lambda: client.update_device_visibility_sync(address),
            lambda: client.open_legacy_session_sync(address),
        ):
            try:
                result = call()
            except (TypeError, ValueError, wifidirect.WFDError, TimeoutError):
                continue
            if isinstance(result, wifidirect.Session):
                result.close()
    stats = sim.stats()
    assert stats.violations == 0 and stats.clients == 0
