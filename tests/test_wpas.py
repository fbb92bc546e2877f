"""The wpas backend (Linux, over wpa_supplicant's P2P control interface) against a scripted
control interface that replays real wpa_supplicant 2.10 replies and events (tests/wpas_fake.py,
recordings in tests/data/wpas/): finding wpa_supplicant, devices, opens in both roles, every
failure and its code, cancellation, closing, disconnects, visibility, discovery and pairing,
and a wpa_supplicant that is hostile or goes away."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cancel_after, start_in_thread
from wpas_fake import OWN, PEER, PEER_IFACE, FakeWpas, wait_until

import wifidirect
from wifidirect import MacAddress, wpas

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the wpas backend is Linux's")

OTHER = "42:00:00:00:02:00"


@pytest.fixture
def ctrl_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Short: a UNIX socket path has at most 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="wpas-", dir="/tmp"))
    monkeypatch.setenv("WIFIDIRECT_WPAS_CTRL", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake(ctrl_dir: Path) -> Iterator[FakeWpas]:
    server = FakeWpas(ctrl_dir)
    wpas.set_timeouts(formation=5, reply=1, visibility=0.3, settle=0)
    wpas.configure(str(ctrl_dir))
    yield server
    server.close()
    wpas.set_timeouts(formation=30, reply=3, visibility=5, settle=1)


def open_sync(client: wifidirect.Client, address: str = PEER) -> wifidirect.Session:
    return client.open_session_sync(address, timeout=10)


# --- finding wpa_supplicant ------------------------------------------------------------------


def test_configure_finds_the_p2p_device_socket(fake: FakeWpas, ctrl_dir: Path) -> None:
    found = wpas.configure(str(ctrl_dir))
    assert found == f"wpa_supplicant at {ctrl_dir}/p2p-dev-wlan0, P2P device {OWN}"
    assert wpas.own_address() == MacAddress(OWN)
    assert wpas.saves_pairings() is False  # update_config=0 in the recordings
    assert wpas.status() == found


def test_an_empty_directory_names_what_was_looked_for(ctrl_dir: Path) -> None:
    with pytest.raises(wifidirect.BackendUnavailableError) as info:
        wpas.configure(str(ctrl_dir))
    assert info.value.why == (
        f"no wpa_supplicant control socket with P2P in {ctrl_dir} ($WIFIDIRECT_WPAS_CTRL)"
    )
    assert "WIFIDIRECT_BACKEND=sim" in str(info.value)


def test_a_wpa_supplicant_without_p2p_is_named(ctrl_dir: Path) -> None:
    with FakeWpas(ctrl_dir, p2p=False), pytest.raises(wifidirect.BackendUnavailableError) as info:
        wpas.configure(str(ctrl_dir))
    assert "has no P2P (p2p_disabled=1, or built without CONFIG_P2P)" in info.value.why


def _why_unavailable(ctrl: Path) -> str:
    try:
        wpas.configure(str(ctrl))
    except wifidirect.BackendUnavailableError as exc:
        return exc.why
    return "configured"


def _why_unavailable_unprivileged(ctrl: Path) -> str:
    """What an unprivileged user is told (root may open any socket): asked in a forked child
    that has dropped to nobody."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest from here on
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, _why_unavailable(ctrl).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        why = pipe.read().decode()
    os.waitpid(pid, 0)
    return why


def test_a_socket_without_permission_says_how_to_get_it(ctrl_dir: Path) -> None:
    with FakeWpas(ctrl_dir):
        for name in ("p2p-dev-wlan0", "wlan0"):
            os.chmod(ctrl_dir / name, 0)
        if os.geteuid() == 0:
            os.chmod(ctrl_dir, 0o755)
            why = _why_unavailable_unprivileged(ctrl_dir)
        else:
            why = _why_unavailable(ctrl_dir)
    assert "no permission to use" in why and "GROUP=netdev" in why, why


def test_the_default_backend_on_linux_is_wpas(
    fake: FakeWpas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIFIDIRECT_BACKEND")
    with wifidirect.Client() as client:
        assert client.backend == "wpas" and client.negotiated_version == 1


# --- devices --------------------------------------------------------------------------------


def test_devices_are_the_peers_of_stored_persistent_groups(fake: FakeWpas) -> None:
    fake.add_peer(PEER, we_go=True)  # we own the group: the peer is in its client list
    fake.add_peer(OTHER, we_go=False, name="Phone")  # the peer owns it
    with wifidirect.Client("wpas") as client:
        devices = {str(d.address): d for d in client.devices()}
    assert set(devices) == {PEER, OTHER}
    tv = devices[PEER]
    assert tv.name == "hwsim-p2p-1" and tv.visible and not tv.connected and not tv.legacy
    assert tv.interface_address == MacAddress(PEER_IFACE)
    assert tv.id.endswith("/p2p-dev-wlan0#0")
    assert devices[OTHER].name == "Phone"


def test_no_pairing_no_devices(fake: FakeWpas) -> None:
    with wifidirect.Client("wpas") as client:
        assert client.devices() == ()


# --- opening -------------------------------------------------------------------------------------


def test_open_as_group_owner_then_close(fake: FakeWpas) -> None:
    fake.add_peer(PEER, we_go=True)
    with wifidirect.Client("wpas") as client:
        session = open_sync(client)
        assert fake.commands("P2P_INVITE") == [f"P2P_INVITE persistent=0 peer={PEER}"]
        assert session.connected and session.address == MacAddress(PEER)
        iface = session.interface
        assert iface is not None and iface.name == "p2p-wlan0-0" and iface.up
        assert iface.guid == session.interface_guid
        assert [d.connected for d in client.devices()] == [True]
        session.close()
        wait_until(lambda: fake.commands("P2P_GROUP_REMOVE") == ["P2P_GROUP_REMOVE p2p-wlan0-0"])
        assert not session.connected
    assert fake.open_groups == {}
    # The peer is told first, on the group's own socket, by a frame addressed to it: the
    # broadcast of P2P_GROUP_REMOVE alone can be lost (the peer then sits in the dead group).
    farewell = ("p2p-wlan0-0", f"DEAUTHENTICATE {PEER_IFACE} reason=3")
    removal = ("p2p-dev-wlan0", "P2P_GROUP_REMOVE p2p-wlan0-0")
    assert fake.requests.index(farewell) < fake.requests.index(removal)


def test_a_new_group_we_own_settles_before_it_is_removed(fake: FakeWpas) -> None:
    # The peer's wpa_supplicant finishes its side just after ours: removing the group at once
    # is a formation failure there (it then refuses invitations for 10 s).
    fake.add_peer(PEER, we_go=True)
    wpas.set_timeouts(settle=2)
    client = wifidirect.Client("wpas")
    open_sync(client).close()
    assert list(fake.open_groups) == ["p2p-wlan0-0"] and not fake.commands("P2P_GROUP_REMOVE")
    client.close()  # closing the client removes its sessions' groups before it returns
    assert fake.commands("P2P_GROUP_REMOVE") == ["P2P_GROUP_REMOVE p2p-wlan0-0"]
    assert fake.open_groups == {}
    with pytest.raises(ValueError, match="settle must be a finite number of seconds >= 0"):
        wpas.set_timeouts(settle=-1)


def test_closing_the_client_leaves_no_group(fake: FakeWpas) -> None:
    fake.add_peer(PEER, we_go=True)
    fake.add_peer(OTHER)
    client = wifidirect.Client("wpas")
    sessions = [open_sync(client), open_sync(client, OTHER)]
    client.close()  # a process may exit next: nothing is left in wpa_supplicant
    assert fake.open_groups == {} and len(fake.commands("P2P_GROUP_REMOVE")) == 2
    assert not any(s.connected for s in sessions)


def test_the_interface_guid_is_derived_from_the_group_interface(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    with wifidirect.Client("wpas") as client:
        first = open_sync(client)
        guid = first.interface_guid
        first.close()
        second = open_sync(client)
        assert second.interface_guid != guid  # p2p-wlan0-1: another interface
        second.close()
    assert guid.version == 5 and guid.variant == uuid.RFC_4122


def test_open_as_client_of_the_peers_group(fake: FakeWpas) -> None:
    fake.add_peer(PEER, we_go=False)
    with wifidirect.Client("wpas") as client, open_sync(client) as session:
        assert session.connected and session.interface is not None


def test_async_open(fake: FakeWpas) -> None:
    fake.add_peer(PEER)

    async def main() -> str:
        async with (
            wifidirect.Client("wpas") as client,
            await client.open_session(PEER, timeout=10) as session,
        ):
            return str(session.interface_guid)

    assert asyncio.run(main())


@pytest.mark.parametrize(
    ("behaviour", "winerror", "reason"),
    [("refuse", 1244, 101), ("forgot", 1244, 108)],
)
def test_a_refused_invitation_fails_with_its_status(
    fake: FakeWpas, behaviour: str, winerror: int, reason: int
) -> None:
    fake.add_peer(PEER, behaviour=behaviour)
    with wifidirect.Client("wpas") as client, pytest.raises(wifidirect.OpenSessionError) as info:
        open_sync(client)
    assert (info.value.winerror, info.value.reason_code) == (winerror, reason)
    assert "not paired" in info.value.hint


def test_an_unpaired_device_fails_as_on_windows(fake: FakeWpas) -> None:
    with wifidirect.Client("wpas") as client, pytest.raises(wifidirect.OpenSessionError) as info:
        open_sync(client, OTHER)
    assert (info.value.winerror, info.value.reason_code) == (1244, 2)
    assert fake.commands("P2P_INVITE") == []


def test_silence_is_bounded_by_the_formation_time(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="silent")
    wpas.set_timeouts(formation=0.3)
    started = time.monotonic()
    with wifidirect.Client("wpas") as client, pytest.raises(wifidirect.OpenSessionError) as info:
        open_sync(client)
    assert (info.value.winerror, info.value.reason_code) == (1460, 3)
    assert 0.3 <= time.monotonic() - started < 3
    assert fake.commands("P2P_CANCEL")  # what wpa_supplicant was doing was stopped


def test_a_device_not_seen_lately_is_found_first(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="hidden")
    with wifidirect.Client("wpas") as client, open_sync(client) as session:
        assert session.connected
    assert fake.commands("P2P_FIND") and len(fake.commands("P2P_INVITE")) == 2


def test_a_device_never_found_times_out(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="absent")
    wpas.set_timeouts(formation=0.3)
    with wifidirect.Client("wpas") as client, pytest.raises(wifidirect.OpenSessionError) as info:
        open_sync(client)
    assert info.value.winerror == 1460


def test_opens_are_formed_one_at_a_time(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    fake.add_peer(OTHER)

    async def main() -> list[str]:
        async with wifidirect.Client("wpas") as client:
            sessions = await asyncio.gather(
                client.open_session(PEER, timeout=10), client.open_session(OTHER, timeout=10)
            )
            names = sorted(s.interface.name for s in sessions if s.interface is not None)
            for s in sessions:
                await s.aclose()
            return names

    assert asyncio.run(main()) == ["p2p-wlan0-0", "p2p-wlan0-1"]


def test_legacy_sessions_are_not_supported(fake: FakeWpas) -> None:
    with wifidirect.Client("wpas") as client, pytest.raises(wifidirect.WFDError) as info:
        client.open_legacy_session_sync(PEER)
    assert info.value.winerror == 50  # ERROR_NOT_SUPPORTED


# --- cancelling and closing ---------------------------------------------------------------


def test_a_timeout_cancels_the_formation(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="silent")
    with wifidirect.Client("wpas") as client:
        with pytest.raises(TimeoutError):
            client.open_session_sync(PEER, timeout=0.1)
        # What was started is stopped: an invitation sent is followed by its cancel.
        assert len(fake.commands("P2P_CANCEL")) == len(fake.commands("P2P_INVITE"))
        assert client.sessions == ()


def test_task_cancellation_cancels_the_formation(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="silent")

    async def main() -> None:
        async with wifidirect.Client("wpas") as client:
            await cancel_after(asyncio.ensure_future(client.open_session(PEER)), 0.1)

    asyncio.run(main())
    assert fake.commands("P2P_INVITE") and fake.commands("P2P_CANCEL")


def test_closing_the_client_while_an_open_is_pending(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="silent")
    client = wifidirect.Client("wpas")
    thread, outcome = start_in_thread(lambda: client.open_session_sync(PEER))
    wait_until(lambda: bool(fake.commands("P2P_INVITE")))
    client.close()
    thread.join(5)
    assert isinstance(outcome[0], wifidirect.ClosedError)


def test_many_cycles_leave_nothing_behind(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    with wifidirect.Client("wpas") as client:
        for _ in range(10):
            with open_sync(client):
                pass
        wait_until(lambda: len(fake.commands("P2P_GROUP_REMOVE")) == 10)
    assert fake.open_groups == {}


# --- disconnects ----------------------------------------------------------------------------


def test_the_peer_leaving_our_group_is_a_disconnect(fake: FakeWpas) -> None:
    fake.add_peer(PEER, we_go=True)

    async def main() -> None:
        async with (
            wifidirect.Client("wpas") as client,
            await client.open_session(PEER, timeout=10) as session,
        ):
            waiter = asyncio.ensure_future(session.wait_disconnected())
            await asyncio.sleep(0.05)
            assert not waiter.done()
            fake.drop_peer(PEER)
            await asyncio.wait_for(waiter, 5)
            assert not session.connected

    asyncio.run(main())


def test_the_peer_ending_its_group_is_a_disconnect(fake: FakeWpas) -> None:
    fake.add_peer(PEER, we_go=False)
    with wifidirect.Client("wpas") as client, open_sync(client) as session:
        fake.peer_ends_group()
        assert session.wait_disconnected_sync(timeout=5)
        assert session.interface is None  # the group interface is gone


# --- visibility, discovery, pairing -------------------------------------------------------


def test_visibility_is_a_targeted_discovery(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    fake.add_peer(OTHER, behaviour="absent")
    with wifidirect.Client("wpas") as client:
        client.update_device_visibility_sync(PEER)
        client.update_device_visibility_sync(OTHER)
        visible = {str(d.address): d.visible for d in client.devices()}
        with pytest.raises(wifidirect.WFDError) as info:
            client.update_device_visibility_sync("42:00:00:00:09:00")  # not paired
    assert visible == {PEER: True, OTHER: False}
    assert f"P2P_FIND 1 dev_id={PEER}" in fake.commands("P2P_FIND")
    assert info.value.winerror == 1168


def test_discover_reports_progress(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    fake.add_peer(OTHER, behaviour="unpaired", name="Phone")
    seen: list[int] = []
    found = wpas.discover(timeout=0.6, progress=lambda peers: seen.append(len(peers)))
    assert {(str(p.address), p.name, p.paired) for p in found} == {
        (PEER, "hwsim-p2p-1", True),
        (OTHER, "Phone", False),
    }
    assert seen and fake.commands("P2P_STOP_FIND")
    # wpa_supplicant lists its peers one request at a time, until FAIL
    walk = [
        c
        for c in fake.commands("P2P_PEER")
        if c.split()[1:2] != [PEER] and c.split()[1:2] != [OTHER]
    ]
    assert walk[-3:] == ["P2P_PEER FIRST", f"P2P_PEER NEXT-{PEER}", f"P2P_PEER NEXT-{OTHER}"]


def test_pair_then_unpair(fake: FakeWpas) -> None:
    fake.add_peer(OTHER, behaviour="unpaired")
    fake.update_config = 1
    wpas.configure()
    wpas.pair(OTHER, timeout=5)
    assert fake.commands("P2P_CONNECT") == [f"P2P_CONNECT {OTHER} pbc persistent"]
    assert fake.commands("SAVE_CONFIG") and fake.open_groups == {}
    with wifidirect.Client("wpas") as client:
        assert [str(d.address) for d in client.devices()] == [OTHER]
    wpas.unpair(OTHER)
    with pytest.raises(KeyError, match="not paired"):
        wpas.unpair(OTHER)


def test_pair_with_a_pin_and_bad_pins(fake: FakeWpas) -> None:
    fake.add_peer(OTHER, behaviour="unpaired")
    wpas.pair(OTHER, pin="12345670", timeout=5)
    assert fake.commands("P2P_CONNECT") == [f"P2P_CONNECT {OTHER} 12345670 keypad persistent"]
    for pin in ("", "12a4", "123456789", "1 2"):
        with pytest.raises(ValueError, match="pin"):
            wpas.pair(OTHER, pin=pin)


def test_pairing_refused_or_unanswered(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="refuse")
    fake.add_peer(OTHER, behaviour="silent")
    with pytest.raises(wifidirect.WFDError) as refused:
        wpas.pair(PEER, timeout=5)
    with pytest.raises(wifidirect.WFDError) as silent:
        wpas.pair(OTHER, timeout=0.3)
    assert (refused.value.winerror, silent.value.winerror) == (1244, 1460)


async def _apair_and_discover() -> tuple[int, int]:
    await wpas.apair(OTHER, timeout=5)
    calls: list[int] = []
    found = await wpas.adiscover(timeout=0.3, progress=lambda p: calls.append(len(p)))
    return len(found), len(calls)


def test_async_pairing_and_discovery(fake: FakeWpas) -> None:
    fake.add_peer(OTHER, behaviour="unpaired")
    assert asyncio.run(_apair_and_discover())[0] == 1


# --- a hostile or vanishing wpa_supplicant -----------------------------------------------


def test_wpa_supplicant_vanishing_mid_open(fake: FakeWpas) -> None:
    fake.add_peer(PEER, behaviour="silent")
    wpas.set_timeouts(formation=30, reply=0.2)
    client = wifidirect.Client("wpas")
    try:
        thread, outcome = start_in_thread(lambda: client.open_session_sync(PEER))
        wait_until(lambda: bool(fake.commands("P2P_INVITE")))
        fake.vanish()
        thread.join(10)
        assert not thread.is_alive()
        assert isinstance(outcome[0], wifidirect.ServiceNotActiveError)
        assert isinstance(outcome[0], wifidirect.OpenSessionError)
        with pytest.raises(wifidirect.ServiceNotActiveError):
            client.open_session_sync(PEER)  # refused at once while it is gone
    finally:
        client.close()
    with pytest.raises(wifidirect.ServiceNotActiveError):
        wifidirect.Client("wpas")


def test_unknown_and_malformed_events_change_nothing(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    fake.hostile.add("noise")  # recorded events of no interest, and junk, around every event
    with wifidirect.Client("wpas") as client, open_sync(client) as session:
        assert session.connected
        assert [str(d.address) for d in client.devices()] == [PEER]


def test_oversized_replies_fail_cleanly(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    with wifidirect.Client("wpas") as client:
        fake.hostile.add("pad")  # 20 kB of junk after each reply: the peer list is unreadable
        with pytest.raises(wifidirect.OpenSessionError) as info:
            open_sync(client)
        assert info.value.winerror == 1244
        assert client.devices() == ()
        fake.hostile.clear()
        open_sync(client).close()


def test_truncated_replies_fail_cleanly(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    with wifidirect.Client("wpas") as client:
        fake.hostile.add("truncate")  # LIST_NETWORKS loses its peer
        with pytest.raises(wifidirect.OpenSessionError) as info:
            open_sync(client)
        assert info.value.winerror == 1244
        fake.hostile.clear()
        open_sync(client).close()


def test_a_stalled_wpa_supplicant_fails_within_the_reply_timeout(fake: FakeWpas) -> None:
    fake.add_peer(PEER)
    wpas.set_timeouts(reply=0.2)
    with wifidirect.Client("wpas") as client:
        fake.hostile.add("stall")
        started = time.monotonic()
        with pytest.raises(wifidirect.OpenSessionError) as info:
            open_sync(client)
        assert info.value.winerror == 1062 and time.monotonic() - started < 3


# --- the command line ----------------------------------------------------------------------


def test_cli_discover_pair_devices_unpair(
    fake: FakeWpas, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wifidirect.cli import main

    monkeypatch.delenv("WIFIDIRECT_BACKEND")
    fake.add_peer(OTHER, behaviour="unpaired", name="Phone")
    assert main(["discover", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert f"  found {OTHER}  Phone" in out
    assert out.splitlines()[-1].split() == [OTHER, "Phone", "no"]
    assert main(["pair", OTHER, "--timeout", "5"]) == 0
    assert "until wpa_supplicant restarts" in capsys.readouterr().out  # update_config=0
    assert main(["devices", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["backend"] == "wpas" and [d["address"] for d in doc["devices"]] == [OTHER]
    assert main(["unpair", OTHER]) == 0
    assert main(["unpair", OTHER, "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out.split("\n", 1)[1])["ok"] is False
    assert "is not paired" in captured.err


def test_cli_pairing_is_refused_on_other_backends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from wifidirect.cli import main

    for argv in (["--backend", "sim", "discover"], ["--backend", "sim", "pair", PEER]):
        assert main(argv) == 2
        assert "is for the wpas backend (Linux)" in capsys.readouterr().err
    assert main(["pair", PEER, "--pin", "12ab"]) == 2
    assert "a PIN is up to 8 digits" in capsys.readouterr().err


def test_a_group_that_starts_after_its_formation_ended_is_removed(fake: FakeWpas) -> None:
    # wpa_supplicant may be a step ahead of our P2P_CANCEL: the group of a cancelled
    # formation starts anyway. Nobody owns it: the backend removes it.
    fake.add_peer(PEER, delay=0.2)
    with wifidirect.Client("wpas") as client:
        with pytest.raises(TimeoutError):
            client.open_session_sync(PEER, timeout=0.1)
        wait_until(lambda: fake.commands("P2P_GROUP_REMOVE") == ["P2P_GROUP_REMOVE p2p-wlan0-0"])
        assert fake.open_groups == {}
        open_sync(client).close()  # and the next open works
