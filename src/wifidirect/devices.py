"""Device: a paired Wi-Fi Direct device, as the system lists it (``Client.devices()``)."""

from __future__ import annotations

from dataclasses import dataclass

from ._native import RawDevice
from .address import MacAddress, register_holder

__all__ = ["Device"]


@dataclass(frozen=True)
class Device:
    """A paired Wi-Fi Direct device: a device node of ``GUID_DEVINTERFACE_WIFIDIRECT_DEVICE``
    on Windows (its ``DEVPKEY_WiFiDirect_*`` properties), a paired peer on the simulator.

    A snapshot: the properties as they were when :meth:`Client.devices` read them. Every
    address parameter of wifidirect accepts a ``Device`` (its :attr:`address`)::

        tv = next(d for d in client.devices() if d.name == "Living room TV")
        session = await client.open_session(tv)
    """

    #: The device address (``DEVPKEY_WiFiDirect_DeviceAddress``): the one to open sessions
    #: to. Usually not the MAC printed on the device's label.
    address: MacAddress
    #: The name the system shows for the device (its friendly name), ``""`` if it has none.
    name: str
    #: A session to the device is connected (``DEVPKEY_WiFiDirect_IsConnected``).
    connected: bool
    #: The device was in range at the last discovery (``DEVPKEY_WiFiDirect_IsVisible``; see
    #: ``Client.update_device_visibility``).
    visible: bool
    #: A legacy (WPS) device: open it with ``Client.open_legacy_session``
    #: (``DEVPKEY_WiFiDirect_IsLegacyDevice``).
    legacy: bool
    #: Its interface address (``DEVPKEY_WiFiDirect_InterfaceAddress``), ``None`` if unknown.
    interface_address: MacAddress | None
    #: The system's identifier of the device: its device interface path on Windows.
    id: str

    @classmethod
    def _from_raw(cls, raw: RawDevice) -> Device:
        return cls(
            address=MacAddress(raw.address),
            name=raw.name,
            connected=raw.connected,
            visible=raw.visible,
            legacy=raw.legacy,
            interface_address=(
                MacAddress(raw.interface_address) if any(raw.interface_address) else None
            ),
            id=raw.id,
        )

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} ({self.address})"


register_holder(Device)
