"""The wpas backend on real wpa_supplicant 2.10 and the kernel's simulated radios
(tools/hwsim-test): pairing (done by the tool), devices, blocking and async opens, data over
the session, timeouts and cancellation mid-formation, closing, the peer leaving, many cycles,
and the zero-leftovers check after every test (conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest
from conftest import Ctrl, Shell, our_groups, peer_groups

import wifidirect
from wifidirect import MacAddress, wpas

pytestmark = pytest.mark.real_stack


def test_the_paired_peer_is_a_device(client: wifidirect.Client, peer: str) -> None:
    devices = {str(d.address): d for d in client.devices()}
    assert peer in devices
    assert devices[peer].name == "hwsim-peer" and not devices[peer].legacy


def test_discovery_finds_the_peer(peer: str) -> None:
    found = {str(p.address): p for p in wpas.discover(timeout=8)}
    assert peer in found and found[peer].paired and found[peer].name == "hwsim-peer"


def test_blocking_open_and_close(client: wifidirect.Client, peer: str, shell: Shell) -> None:
    started = time.monotonic()
    session = client.open_session_sync(peer, timeout=90)
    opened = time.monotonic() - started
    with session:
        assert session.connected and session.address == MacAddress(peer)
        iface = session.interface
        assert iface is not None and iface.name.startswith("p2p-wlan0-")
        assert our_groups(shell) == [iface.name]
        assert any(d.connected for d in client.devices() if str(d.address) == peer)
    print(f"opened in {opened:.2f} s")


def test_async_open(client: wifidirect.Client, peer: str) -> None:
    async def main() -> str:
        async with await client.open_session(peer, timeout=90) as session:
            assert session.connected
            return str(session.interface_guid)

    assert asyncio.run(main())


def test_data_crosses_the_session(client: wifidirect.Client, peer: str, shell: Shell) -> None:
    with client.open_session_sync(peer, timeout=90) as session:
        iface = session.interface
        assert iface is not None
        rc, out = shell.run(f"/traffic {iface.name}", timeout=120)
        print(out)
        assert rc == 0 and "TRAFFIC OK" in out, out


def test_a_timeout_mid_formation_leaves_nothing(
    client: wifidirect.Client, peer: str, shell: Shell
) -> None:
    with pytest.raises(TimeoutError):
        client.open_session_sync(peer, timeout=0.2)  # the invitation is on its way
    # Nothing of ours is left (conftest checks it after the test). The peer, though, may be
    # half-way into the group: its wpa_supplicant gives up after its own 10 s, and an open
    # meanwhile fails (ERROR_TIMEOUT, reason 200 + N). Once it has, the next open works.
    deadline = time.monotonic() + 30
    while peer_groups(shell) and time.monotonic() < deadline:
        time.sleep(0.2)
    client.open_session_sync(peer, timeout=90).close()


def test_cancelling_the_task_mid_formation(client: wifidirect.Client, peer: str) -> None:
    async def main() -> None:
        task = asyncio.ensure_future(client.open_session(peer))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_closing_the_client_mid_formation(peer: str) -> None:
    client = wifidirect.Client("wpas")
    outcome: list[object] = []

    def open_it() -> None:
        try:
            outcome.append(client.open_session_sync(peer, timeout=90))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=open_it)
    thread.start()
    time.sleep(0.2)
    client.close()
    thread.join(60)
    assert isinstance(outcome[0], wifidirect.ClosedError)


def test_the_peer_leaving_is_a_disconnect(
    client: wifidirect.Client, peer: str, peer_ctrl: Ctrl
) -> None:
    with client.open_session_sync(peer, timeout=90) as session:
        groups = [i for i in peer_ctrl.request("INTERFACES").split() if i.startswith("p2p-wlan1-")]
        assert groups, "the peer has no group interface"
        assert peer_ctrl.request(f"P2P_GROUP_REMOVE {groups[0]}").startswith("OK")
        started = time.monotonic()
        assert session.wait_disconnected_sync(timeout=60)
        print(f"disconnect seen after {time.monotonic() - started:.2f} s")
        assert not session.connected


def test_an_unpaired_address_fails_as_on_windows(client: wifidirect.Client) -> None:
    with pytest.raises(wifidirect.OpenSessionError) as info:
        client.open_session_sync("02:00:00:00:99:99", timeout=30)
    assert (info.value.winerror, info.value.reason_code) == (1244, 2)


def test_repeated_cycles_leave_nothing(client: wifidirect.Client, peer: str) -> None:
    times = []
    for _ in range(5):
        started = time.monotonic()
        with client.open_session_sync(peer, timeout=90):
            times.append(time.monotonic() - started)
    print("open times:", ", ".join(f"{t:.2f}" for t in times))


def _pair_in_role(peer: str, own_ctrl: Ctrl, peer_ctrl: Ctrl, we_go: bool) -> None:
    """Pair again, the group owner decided by the intents (ours 15 or 0, the peer's opposite)."""
    ours, theirs = (15, 0) if we_go else (0, 15)
    for ctrl, intent in ((own_ctrl, ours), (peer_ctrl, theirs)):
        assert ctrl.request(f"SET p2p_go_intent {intent}").startswith("OK")
    with contextlib.suppress(KeyError):
        wpas.unpair(peer)
    assert peer_ctrl.request("REMOVE_NETWORK all").startswith("OK")
    wpas.pair(peer, timeout=120)


def test_the_other_role_we_join_the_peers_group(
    client: wifidirect.Client, peer: str, own_ctrl: Ctrl, peer_ctrl: Ctrl
) -> None:
    # Paired with the peer as its group owner (the pairing negotiated who owns the group), an
    # open re-invokes the group and we join it: the client side of the mapping, for real.
    assert peer_ctrl.request("SET p2p_group_idle 3").startswith("OK")  # it ends an empty group
    try:
        _pair_in_role(peer, own_ctrl, peer_ctrl, we_go=False)
        # as a client, the stored group's bssid is the peer (docs/wpas.md)
        networks = own_ctrl.request("LIST_NETWORKS").splitlines()
        assert any(
            line.split("\t")[2:3] == [peer] and "[P2P-PERSISTENT]" in line for line in networks
        ), networks
        with client.open_session_sync(peer, timeout=90) as session:
            assert session.connected and session.interface is not None
            groups = [
                i for i in own_ctrl.request("INTERFACES").split() if i.startswith("p2p-wlan0-")
            ]
            assert groups == [session.interface.name]
        assert not session.connected
    finally:
        _pair_in_role(peer, own_ctrl, peer_ctrl, we_go=True)
        assert peer_ctrl.request("SET p2p_group_idle 0").startswith("OK")
