"""Paired devices (Client.devices), a Device wherever an address goes, and a session's network
interface (Session.interface), on the simulator's documented system (docs/simulator.md)."""

from __future__ import annotations

import asyncio
import ipaddress
import uuid

import pytest
from helpers import PHONE, PRINTER, PROJECTOR, SPEAKER, TV, simulated_system

import wifidirect
from wifidirect import Device, Interface, MacAddress, sim
from wifidirect.testing import SimController


@pytest.fixture(autouse=True)
def _simulated(wfd_sim: SimController, monkeypatch: pytest.MonkeyPatch) -> None:
    simulated_system(monkeypatch)


def by_address(devices: tuple[Device, ...]) -> dict[str, Device]:
    return {str(d.address): d for d in devices}


def test_devices_are_the_paired_peers_with_their_properties() -> None:
    with wifidirect.Client() as client:
        devices = by_address(client.devices())
    assert set(devices) == {TV, PRINTER, PHONE, PROJECTOR}  # the unpaired speaker is not one
    assert SPEAKER not in devices
    tv = devices[TV]
    assert isinstance(tv, Device) and tv.name == "Living Room TV"
    assert (tv.connected, tv.visible, tv.legacy) == (False, True, False)
    assert devices[PRINTER].legacy
    # Documented choice: the interface address is the device address with bit 7 of byte 5 set.
    assert tv.interface_address == MacAddress("02:00:5e:10:80:01")
    assert tv.id == "WFDSIM\\02005E100001"
    assert str(tv) == f"Living Room TV ({TV})"


def test_a_device_is_a_snapshot_and_immutable() -> None:
    with wifidirect.Client() as client:
        tv = by_address(client.devices())[TV]
    with pytest.raises(AttributeError):
        tv.name = "x"  # type: ignore[misc]
    assert tv == Device(tv.address, tv.name, False, True, False, tv.interface_address, tv.id)


def test_devices_follow_pairing_visibility_and_sessions(wfd_sim: SimController) -> None:
    wfd_sim.peer("02:00:00:00:00:42", "Kiosk")
    wfd_sim.peer(PHONE).unpaired()
    with wifidirect.Client() as client:
        devices = by_address(client.devices())
        assert "02:00:00:00:00:42" in devices and PHONE not in devices
        assert devices["02:00:00:00:00:42"].name == "Kiosk"
        # Connected while a session is up, visible as the last visibility update found it.
        wfd_sim.peer(TV).hidden()
        client.update_device_visibility_sync(TV)
        with client.open_session_sync(PRINTER):
            devices = by_address(client.devices())
            assert devices[PRINTER].connected and not devices[TV].connected
            assert not devices[TV].visible
        assert not by_address(client.devices())[PRINTER].connected


def test_many_devices_are_all_listed(wfd_sim: SimController) -> None:
    wfd_sim.clear()
    for i in range(100):  # more than the first buffer holds
        wfd_sim.peer(f"02:00:00:00:01:{i:02x}", f"peer {i}")
    with wifidirect.Client() as client:
        devices = client.devices()
    assert [d.name for d in devices] == [f"peer {i}" for i in range(100)]
    with wifidirect.Client() as client:
        wfd_sim.clear()
        assert client.devices() == ()


def test_devices_of_a_closed_client_raise() -> None:
    client = wifidirect.Client()
    client.close()
    with pytest.raises(wifidirect.ClosedError):
        client.devices()


def test_adevices_keeps_the_loop_free() -> None:
    async def main() -> tuple[Device, ...]:
        async with wifidirect.Client() as client:
            return await client.adevices()

    assert {str(d.address) for d in asyncio.run(main())} == {TV, PRINTER, PHONE, PROJECTOR}


def test_a_device_goes_wherever_an_address_goes() -> None:
    with wifidirect.Client() as client:
        tv = by_address(client.devices())[TV]
        printer = by_address(client.devices())[PRINTER]
        assert MacAddress(tv) is tv.address
        with client.open_session_sync(tv) as session:
            assert session.address == tv.address
        client.update_device_visibility_sync(tv)
        with client.open_legacy_session_sync(printer) as legacy:
            assert legacy.address == printer.address

        async def main() -> None:
            async with await client.open_session(tv, timeout=5) as session:
                assert session.address == tv.address

        asyncio.run(main())


def test_the_address_error_names_device() -> None:
    with pytest.raises(TypeError, match="a MacAddress or a Device"):
        MacAddress(1234)  # type: ignore[arg-type]


# --- the session's interface --------------------------------------------------------------


def test_a_session_has_its_documented_simulated_interface() -> None:
    with wifidirect.Client() as client, client.open_session_sync(TV) as session:
        iface = session.interface
        assert isinstance(iface, Interface)
        assert iface.guid == session.interface_guid and isinstance(iface.guid, uuid.UUID)
        assert iface.name.startswith("Wi-Fi Direct (simulated) ")
        number = int(iface.name.rsplit(" ", 1)[1])
        assert iface.index == 1000 + number and iface.up
        v4 = [a for a in iface.addresses if a.version == 4]
        v6 = [a for a in iface.addresses if a.version == 6]
        assert v4 == [ipaddress.IPv4Address(f"192.168.137.{2 + number % 250}")]
        assert len(v6) == 1 and v6[0].is_link_local and v6[0].scope_id == str(iface.index)
        # The peer: the group owner's address, and its link-local address from its interface
        # address (modified EUI-64).
        assert iface.peer_addresses[0] == ipaddress.IPv4Address("192.168.137.1")
        peer6 = iface.peer_addresses[1]
        assert isinstance(peer6, ipaddress.IPv6Address)
        assert peer6.packed == ipaddress.IPv6Address("fe80::0000:5eff:fe10:8001").packed
        assert peer6.scope_id == str(iface.index)
        with client.open_session_sync(PHONE) as other:
            other_iface = other.interface
            assert other_iface is not None and other_iface.index != iface.index
    assert session.interface is None  # closed: no interface any more


def test_a_legacy_session_has_an_interface_too() -> None:
    with wifidirect.Client() as client, client.open_legacy_session_sync(PRINTER) as session:
        iface = session.interface
        assert iface is not None and iface.guid == session.interface_guid and iface.up


def test_dropped_session_interface_is_down(wfd_sim: SimController) -> None:
    with wifidirect.Client() as client, client.open_session_sync(TV) as session:
        wfd_sim.drop(TV)
        iface = session.interface
        assert iface is not None and not iface.up


def test_sim_drop_of_an_unknown_peer_raises() -> None:
    with pytest.raises(KeyError, match="no simulated peer"):
        sim.drop("02:00:00:00:00:fe")
    with pytest.raises(ValueError, match="reason"):
        sim.drop(TV, reason=-1)
