"""Client lifecycle: handles, backends, closing, legacy sessions, visibility, documented codes."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest
from helpers import FAST, PRINTER, SLOW, SPEAKER, TV, UNKNOWN, add_fast_and_slow, settle

import wifidirect
from wifidirect import sim


def test_client_properties() -> None:
    client = wifidirect.Client()
    # "sim" off Windows; under Wine "wlanapi", whose DLL is then the simulator that `sim` drives
    assert client.backend == wifidirect.default_backend_name()
    assert client.negotiated_version == 1
    assert not client.closed and client.sessions == ()
    assert sim.stats().clients == 1
    assert client.backend in repr(client)
    client.close()
    assert client.closed
    client.close()  # idempotent
    assert sim.stats().clients == 0


def test_backend_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    with wifidirect.Client("sim") as client:
        assert client.backend == "sim"
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "sim")
    with wifidirect.Client() as client:
        assert client.backend == "sim"
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "bogus")
    with pytest.raises(wifidirect.ConfigurationError, match=r"\$WIFIDIRECT_BACKEND 'bogus'"):
        wifidirect.Client()
    with pytest.raises(ValueError, match="'nope'"):
        wifidirect.Client("nope")
    with pytest.raises(TypeError):
        wifidirect.Client(3)  # type: ignore[arg-type]


@pytest.mark.skipif("sys.platform == 'win32'", reason="Wlanapi.dll exists on Windows")
def test_wlanapi_backend_is_unavailable_off_windows() -> None:
    with pytest.raises(wifidirect.BackendUnavailableError, match="Windows") as info:
        wifidirect.Client("wlanapi")
    assert 'Client(backend="sim") or WIFIDIRECT_BACKEND=sim' in str(info.value)


def test_the_default_is_never_a_silent_simulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WIFIDIRECT_BACKEND", raising=False)
    for platform, real in (("win32", "wlanapi"), ("linux", "wpas"), ("darwin", None)):
        monkeypatch.setattr(sys, "platform", platform)
        if real is not None:
            assert wifidirect.default_backend_name() == real
            continue
        with pytest.raises(wifidirect.BackendUnavailableError) as info:
            wifidirect.default_backend_name()
        message = str(info.value)
        assert platform in message and "WIFIDIRECT_BACKEND=sim" in message
        assert info.value.backend == "default"
    monkeypatch.undo()
    if sys.platform != "win32":
        # No wpa_supplicant in this directory: the real backend is unavailable, and nothing
        # falls back to the simulator.
        monkeypatch.delenv("WIFIDIRECT_BACKEND", raising=False)
        monkeypatch.setenv("WIFIDIRECT_WPAS_CTRL", str(tmp_path))
        with pytest.raises(wifidirect.BackendUnavailableError) as info:
            wifidirect.Client()
        if sys.platform == "linux":
            assert info.value.backend == "wpas" and str(tmp_path) in info.value.why
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "sim")
    with wifidirect.Client() as client:
        assert client.backend == "sim"


def test_closed_client_raises_closed_error_without_native_call() -> None:
    client = wifidirect.Client()
    client.close()
    before = sim.stats()
    with pytest.raises(wifidirect.ClosedError):
        client.open_session_sync(TV)
    with pytest.raises(wifidirect.ClosedError):
        asyncio.run(client.open_session(TV))
    with pytest.raises(wifidirect.ClosedError):
        client.open_legacy_session_sync(PRINTER)
    with pytest.raises(wifidirect.ClosedError):
        client.update_device_visibility_sync(TV)
    assert sim.stats() == before


def test_close_closes_sessions_first_then_handle() -> None:
    client = wifidirect.Client()
    sessions = [client.open_session_sync(TV) for _ in range(3)]
    legacy = client.open_legacy_session_sync(PRINTER)
    assert sim.stats().sessions == 4
    client.close()
    assert all(s.closed for s in sessions) and legacy.closed
    for s in sessions:
        s.close()  # no native call: already closed with the client
    stats = settle()
    assert (stats.sessions, stats.clients) == (0, 0)


def test_close_cancels_pending_async_opens() -> None:
    add_fast_and_slow()

    async def main() -> None:
        client = wifidirect.Client()
        tasks = [asyncio.ensure_future(client.open_session(SLOW)) for _ in range(10)]
        await asyncio.sleep(0.02)
        assert sim.stats().pending_opens == 10
        client.close()  # from the loop thread: must not deadlock
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, wifidirect.ClosedError) for r in results)

    asyncio.run(main())
    stats = settle()
    assert (stats.pending_opens, stats.sessions, stats.clients) == (0, 0, 0)


def test_close_claims_completed_but_uncollected_successes() -> None:
    add_fast_and_slow()

    async def main() -> None:
        client = wifidirect.Client()
        tasks = [asyncio.ensure_future(client.open_session(FAST)) for _ in range(10)]
        await asyncio.sleep(0)  # the opens start; completions arrive, coroutines not resumed
        assert sim.wait_idle(5)
        client.close()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, wifidirect.ClosedError) for r in results)

    asyncio.run(main())
    stats = settle()
    assert (stats.sessions, stats.clients) == (0, 0)


def test_concurrent_close_makes_one_native_call() -> None:
    for _ in range(20):
        client = wifidirect.Client()
        sessions = [client.open_session_sync(TV) for _ in range(2)]
        barrier = threading.Barrier(6)

        def closer(target: object = client, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            target.close()  # type: ignore[attr-defined]

        def session_closer(
            s: wifidirect.Session = sessions[0], barrier: threading.Barrier = barrier
        ) -> None:
            barrier.wait()
            s.close()

        threads = [threading.Thread(target=closer) for _ in range(4)]
        threads += [threading.Thread(target=session_closer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert client.closed and all(s.closed for s in sessions)
    # A second WFDCloseHandle or WFDCloseSession on the same handle would be a stale-handle
    # violation; the autouse fixture asserts there were none.
    stats = settle()
    assert (stats.sessions, stats.clients) == (0, 0)


def test_legacy_session() -> None:
    with wifidirect.Client() as client:
        session = client.open_legacy_session_sync(PRINTER)
        assert session.legacy and not session.closed
        assert session.address == wifidirect.MacAddress(PRINTER)
        assert session.interface_guid.version == 4
        assert client.sessions == (session,)
        session.close()
        with pytest.raises(wifidirect.WFDError) as info:
            client.open_legacy_session_sync(TV)  # not a legacy device: no stored profile
        assert info.value.winerror == 1168 and info.value.function == "WFDOpenLegacySession"
    assert settle().sessions == 0


def test_update_device_visibility() -> None:
    sim.add_peer(FAST, visible=False)
    assert sim.peer(FAST).node_visible is False
    with wifidirect.Client() as client:
        client.update_device_visibility_sync(TV)
        assert sim.peer(TV).visibility_updates == 1
        sim.add_peer(TV, visible=False)
        client.update_device_visibility_sync(TV)
        peer = sim.peer(TV)
        assert peer.visibility_updates == 2 and peer.node_visible is False
        for address in (UNKNOWN, SPEAKER):
            with pytest.raises(wifidirect.WFDError) as info:
                client.update_device_visibility_sync(address)
            assert info.value.winerror == 1168
        with pytest.raises(ValueError):
            client.update_device_visibility_sync("zz")


def test_service_stopped() -> None:
    with wifidirect.Client() as client:
        sim.set_service_running(False)
        with pytest.raises(wifidirect.ServiceNotActiveError) as info:
            client.open_session_sync(TV)
        assert info.value.function == "WFDStartOpenSession"
        assert not isinstance(info.value, wifidirect.OpenSessionError)
        with pytest.raises(wifidirect.ServiceNotActiveError):
            client.update_device_visibility_sync(TV)
        with pytest.raises(wifidirect.ServiceNotActiveError):
            client.open_legacy_session_sync(PRINTER)
        sim.set_service_running(True)
        client.open_session_sync(TV).close()


def test_service_stopped_while_pending_fails_the_completion() -> None:
    add_fast_and_slow()
    sim.add_peer(SLOW, latency=0.2)
    with wifidirect.Client() as client:
        outcome: list[BaseException] = []
        thread = threading.Thread(target=lambda: _capture(client, SLOW, outcome))
        thread.start()
        while sim.stats().pending_opens == 0:
            pass
        sim.set_service_running(False)
        thread.join()
        err = outcome[0]
        assert isinstance(err, wifidirect.OpenSessionError)
        assert isinstance(err, wifidirect.ServiceNotActiveError)
        assert err.reason_code == sim.REASON_SERVICE_STOPPED


def _capture(client: wifidirect.Client, address: str, out: list[BaseException]) -> None:
    try:
        client.open_session_sync(address).close()
    except BaseException as exc:
        out.append(exc)


def test_group_policy_disabled() -> None:
    with wifidirect.Client() as client:
        sim.set_group_policy_disabled(True)
        with pytest.raises(wifidirect.InvalidStateError):
            asyncio.run(client.open_session(TV))
        sim.set_group_policy_disabled(False)
        client.open_session_sync(TV).close()


def test_handle_limit() -> None:
    sim.set_handle_limit(2)
    assert sim.get_handle_limit() == 2
    a, b = wifidirect.Client(), wifidirect.Client()
    with pytest.raises(wifidirect.SessionLimitError) as info:
        wifidirect.Client()
    assert info.value.winerror == 1220 and info.value.function == "WFDOpenHandle"
    a.close()
    wifidirect.Client().close()
    b.close()


def test_not_enough_memory_is_reached_and_mapped() -> None:
    sim.fail_allocations(1)
    with pytest.raises(wifidirect.NotEnoughMemoryError):
        wifidirect.Client()
    with wifidirect.Client() as client:
        sim.fail_allocations(1)
        with pytest.raises(wifidirect.NotEnoughMemoryError):
            client.open_session_sync(TV)
        sim.fail_allocations(1)
        with pytest.raises(wifidirect.NotEnoughMemoryError):
            client.open_legacy_session_sync(PRINTER)
        client.open_session_sync(TV).close()  # nothing was left half-done
    stats = settle()
    assert (stats.sessions, stats.clients, stats.pending_opens) == (0, 0, 0)


@pytest.mark.parametrize("function", wifidirect.sim.FUNCTIONS)
def test_injected_errors_reach_the_caller(function: str) -> None:
    client = wifidirect.Client()
    session = client.open_session_sync(TV)
    sim.inject_error(function, 1722)  # RPC_S_SERVER_UNAVAILABLE
    calls = {
        "WFDOpenHandle": wifidirect.Client,
        "WFDCloseHandle": client.close,
        "WFDStartOpenSession": lambda: client.open_session_sync(TV),
        "WFDCancelOpenSession": None,
        "WFDOpenLegacySession": lambda: client.open_legacy_session_sync(PRINTER),
        "WFDCloseSession": session.close,
        "WFDUpdateDeviceVisibility": lambda: client.update_device_visibility_sync(TV),
    }
    call = calls[function]
    if call is not None:
        with pytest.raises(wifidirect.WFDError) as info:
            call()
        assert type(info.value) is wifidirect.WFDError
        assert info.value.winerror == 1722 and info.value.function == function
    sim.inject_error(function, 0)
    if function != "WFDCloseHandle":
        client.close()
    # A failed close still counts as closed: the facade never retries a closing call.
    assert client.closed and session.closed
    sim.reset()  # the injected close left a live native handle behind, as Windows would


def test_invalid_parameter_and_handle_codes_of_the_api_map_to_their_classes() -> None:
    # Straight to the API (the facade's guard never makes such calls): the codes the API
    # documents for bad arguments reach check() and become their classes.
    from wifidirect import _native
    from wifidirect.errors import check

    ffi, lib = _native.simulator_lib()
    with pytest.raises(wifidirect.InvalidParameterError):
        check(lib.WFDCloseHandle(ffi.NULL), "WFDCloseHandle")
    with pytest.raises(wifidirect.InvalidParameterError):
        check(lib.WFDCloseSession(ffi.NULL), "WFDCloseSession")
    with pytest.raises(wifidirect.InvalidHandleError):
        check(lib.WFDCloseHandle(ffi.cast("HANDLE", 0x1234)), "WFDCloseHandle")  # never issued
    with pytest.raises(wifidirect.InvalidHandleError):
        check(lib.WFDCancelOpenSession(ffi.cast("HANDLE", 0x5678)), "WFDCancelOpenSession")
    assert sim.stats().violations == 0
