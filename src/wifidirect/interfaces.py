"""Interface: the network interface of an open session (``Session.interface``)."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass

from ._native import RawInterface

__all__ = ["IPAddress", "Interface"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(family: int, packed: bytes, scope: int) -> IPAddress:
    if family == 4:
        return ipaddress.IPv4Address(packed)
    address = ipaddress.IPv6Address(packed)
    if scope and address.is_link_local:  # a link-local address means nothing without its scope
        return ipaddress.IPv6Address(f"{address}%{scope}")
    return address


@dataclass(frozen=True)
class Interface:
    """The network interface a session created, found from its interface GUID (IP Helper on
    Windows; a documented simulated interface on the simulator, see docs/simulator.md).

    A snapshot, read when :attr:`Session.interface` was read::

        iface = session.interface
        if iface is not None and iface.peer_addresses:
            reader, writer = await asyncio.open_connection(str(iface.peer_addresses[0]), 7236)
    """

    #: The interface GUID: ``Session.interface_guid``, the completion callback's.
    guid: uuid.UUID
    #: The interface's alias on Windows ("Local Area Connection* 12"), its name elsewhere.
    name: str
    #: The interface index: the scope id of its IPv6 link-local addresses, and what
    #: ``socket.if_indextoname`` knows it by.
    index: int
    #: Operationally up.
    up: bool
    #: Our own unicast addresses on the interface (IPv6 link-local ones with their scope).
    addresses: tuple[IPAddress, ...]
    #: Addresses of the other side that the interface's neighbour table lists (on a
    #: one-to-one Wi-Fi Direct link: the peer's). Empty until the system has resolved one,
    #: typically after the first traffic; multicast and broadcast entries are left out.
    peer_addresses: tuple[IPAddress, ...]

    @classmethod
    def _from_raw(cls, guid: uuid.UUID, raw: RawInterface) -> Interface:
        return cls(
            guid=guid,
            name=raw.name,
            index=raw.index,
            up=raw.up,
            addresses=tuple(_ip(*a) for a in raw.addresses),
            peer_addresses=tuple(_ip(*a) for a in raw.neighbors),
        )
